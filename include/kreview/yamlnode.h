/*
 * yamlnode.h - a bounded YAML document as a plain tree of nodes.
 *
 * libyaml's event parser feeds a tree of scalars, sequences and
 * mappings, each node carrying the file name and the 1-based line and
 * column where it starts, so that every later complaint about a value
 * can name its position.  This layer knows nothing about what the
 * document means; config.h binds a tree to C structs.
 *
 * Only the boring subset of YAML a configuration file needs is
 * accepted, and everything else is rejected with "FILE:LINE:COL:
 * message" rather than silently misread:
 *
 *  - input larger than YAMLNODE_MAX_SIZE bytes, nesting deeper than
 *    YAMLNODE_MAX_DEPTH, more than YAMLNODE_MAX_NODES nodes;
 *  - anchors and aliases (an alias is a shared node; "&a [*a]" is a
 *    cycle, and "billion laughs" files blow up walkers);
 *  - explicit tags other than the non-specific "!" and the core
 *    schema's !!str, !!int, !!float, !!bool, !!null, !!seq and !!map
 *    (which are accepted and otherwise ignored: the schema decides how
 *    a scalar is read);
 *  - mapping keys that are not scalars, and duplicate keys (libyaml
 *    keeps both pairs without a word);
 *  - more than one document in the stream;
 *  - input that is not UTF-8 (libyaml's reader rejects invalid
 *    sequences and control characters; the error names the byte).
 *
 * An empty stream (nothing but comments and blanks) gives a NULL root;
 * a lone "---" gives an empty plain scalar, which yamlnode_is_null()
 * calls null.  Trees are immutable once loaded; every node borrows from its
 * document and lives until yamlnode_doc_free().
 */
#ifndef KREVIEW_YAMLNODE_H
#define KREVIEW_YAMLNODE_H

#include "kreview/common.h"
#include "kreview/strbuf.h"

/* Limits on what a document may cost. */
#define YAMLNODE_MAX_SIZE (1024 * 1024) /* bytes of input */
#define YAMLNODE_MAX_DEPTH 32		/* nested collections */
#define YAMLNODE_MAX_NODES 65536	/* nodes of all kinds */

enum yamlnode_kind {
	YAMLNODE_SCALAR,
	YAMLNODE_SEQUENCE,
	YAMLNODE_MAPPING,
	YAMLNODE_KIND_MAX
};

struct yamlnode;

struct yamlnode_pair {
	struct yamlnode *key; /* always a scalar */
	struct yamlnode *value;
};

struct yamlnode {
	enum yamlnode_kind kind;
	const char *file; /* the document's name, as given to the loader */
	unsigned line;	  /* 1-based */
	unsigned column;  /* 1-based, in characters */

	/*
	 * Scalar: 'str' is NUL-terminated, 'len' bytes long (it may hold
	 * a NUL byte from a "\0" escape); 'plain' is true when the value
	 * was written without quotes or block style, so that an empty
	 * plain scalar, "~" and "null" can be told apart from the string
	 * "null".
	 */
	char *str;
	size_t len;
	bool plain;

	/* Sequence: 'nr' items.  Mapping: 'nr' pairs in document order. */
	size_t nr;
	struct yamlnode **items;
	struct yamlnode_pair *pairs;
};

struct yamlnode_doc {
	char *file;	       /* owned; the name errors use */
	struct yamlnode *root; /* NULL for an empty stream */
};

/* Loading. */

/*
 * Parse 'len' bytes at 'buf' (no NUL needed), naming it 'name' in
 * positions.  On success '*out' is a new document the caller frees
 * with yamlnode_doc_free().  On failure return -EINVAL (-E2BIG when the
 * input is over YAMLNODE_MAX_SIZE), leave '*out' alone and append one
 * line "NAME:LINE:COL: message" to 'err' (which may be NULL).
 */
int yamlnode_load_buffer(struct yamlnode_doc **out, const char *name,
			 const char *buf, size_t len, struct strbuf *err);

/*
 * Read the regular file 'path' (never blocking on a FIFO or device)
 * and parse it as above.  -ENOENT when it does not exist, so that a
 * caller may treat a missing optional file as empty; -E2BIG when it is
 * too large; other -errno from open/read; -EINVAL for bad YAML.  The
 * message in 'err' names the path in every case.
 */
int yamlnode_load_file(struct yamlnode_doc **out, const char *path,
		       struct strbuf *err);

/* Free a document and all its nodes; NULL is fine. */
void yamlnode_doc_free(struct yamlnode_doc *doc);

/* Looking at nodes. */

/* "a scalar", "a sequence", "a mapping" for messages. */
const char *yamlnode_kind_name(enum yamlnode_kind kind);

/*
 * True for the YAML null: an empty plain scalar, plain "~", "null",
 * "Null" or "NULL".  A quoted "null" is a string.
 */
bool yamlnode_is_null(const struct yamlnode *node);

/* The value stored under 'key' in a mapping, or NULL.  Borrowed. */
const struct yamlnode *yamlnode_map_get(const struct yamlnode *map,
					const char *key);

/* Errors. */

/*
 * Append "FILE:LINE:COL: <message>" to 'err' as a line of its own (a
 * newline separates it from earlier text).  'node' may be NULL for a
 * message without a position.  'err' may be NULL.
 */
KR_PRINTF(3, 4)
void yamlnode_error(struct strbuf *err, const struct yamlnode *node,
		    const char *fmt, ...);

/*
 * Append 'len' bytes of 's' quoted for a message: in single quotes,
 * control characters as \n, \t or \xNN, cut after 'max' bytes with
 * "..." so that a megabyte scalar cannot flood a log line.
 */
void yamlnode_quote(struct strbuf *sb, const char *s, size_t len, size_t max);

#endif
