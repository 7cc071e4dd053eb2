/*
 * symindex.h - an index of the top-level C definitions in a git tree.
 *
 * Code context for a review needs "where is struct io_kiocb defined"
 * and "show me io_req_task_work_add()" for every identifier a patch
 * touches, so the whole tree is indexed once and looked up many times.
 *
 * How it works: every blob whose path ends in ".c" or ".h" is read from
 * the object database (no checkout) and scanned once, byte by byte,
 * by a small lexer that understands comments, string and character
 * literals, preprocessor lines with backslash continuations and brace
 * depth.  It is not a C parser: it collects the tokens of each
 * statement at brace depth 0 and classifies the statement when it ends
 * at "{" or ";":
 *
 *   - "#define NAME"                      -> SYMINDEX_MACRO (any depth)
 *   - "struct|union|enum NAME ... {"      -> SYMINDEX_STRUCT/UNION/ENUM
 *   - "typedef ... NAME;" and
 *     "typedef ... (*NAME)(...);"         -> SYMINDEX_TYPEDEF
 *   - "... NAME(...) {" without "="      -> SYMINDEX_FUNCTION; for
 *     all-caps function-defining macros such as SYSCALL_DEFINE3(name,
 *     ...) or BPF_CALL_2(name, ...) the first argument is the name
 *
 * Declarations (prototypes, "extern"), variables and enumerators are
 * not recorded.  Kernel formatting is relied on to stay in sync when
 * preprocessor conditionals unbalance the braces: a "}" in column 0
 * always returns to depth 0.  Each entry records the line of the first
 * token of its statement (the start of a multi-line signature) and the
 * line of the closing "}" / ";" (or the last continuation line of a
 * macro), so a definition is cut out of the blob without a re-parse.
 *
 * The index keeps, per file, the path and the blob id it was built
 * from, so a caller looking at another tree can tell whether the
 * recorded lines still hold (same blob) or the file must be rescanned
 * with symindex_scan_text().
 *
 * Storage: names (one copy per distinct name) and paths live in 1 MiB
 * arenas, entries in one array, and a power-of-two open-addressing
 * hash of name -> newest entry with the entries of one name chained.  Lookups are
 * O(1) plus the number of definitions of that name.
 *
 * Speed (bench/symindex.c, synthetic kernel-shaped tree, no kernel tree
 * being available offline: 55,000 .c/.h paths, 1.3 GiB of C, objects in
 * memory): about 12 s single-threaded (~110 MiB/s: roughly half in the
 * scanner and hash insertion, a third in libgit2 reading blobs), 8.5
 * million definitions, about 520 MiB held by the index; a lookup takes
 * under a microsecond.  A real pack adds zlib inflation.  The index is
 * built once per base tree and shared by all patches.
 *
 * An index is not changed by lookups and may be shared by readers on
 * several threads; symindex_add_text() needs exclusive access and
 * invalidates entry pointers handed out before.
 */
#ifndef KREVIEW_SYMINDEX_H
#define KREVIEW_SYMINDEX_H

#include "kreview/common.h"

struct strbuf;
struct git_repository;
struct git_oid;

enum symindex_kind {
	SYMINDEX_FUNCTION,
	SYMINDEX_STRUCT,
	SYMINDEX_UNION,
	SYMINDEX_ENUM,
	SYMINDEX_TYPEDEF,
	SYMINDEX_MACRO,
	SYMINDEX_KIND_MAX,
};

/* "function", "struct", ... for printing. */
const char *symindex_kind_name(enum symindex_kind kind);

/* One definition, as handed to a symindex_scan_text() callback. */
struct symindex_def {
	const char *name; /* not NUL-terminated: 'name_len' bytes */
	size_t name_len;
	enum symindex_kind kind;
	unsigned line;	   /* 1-based first line of the definition */
	unsigned end_line; /* 1-based last line, >= line */
};

typedef int (*symindex_def_fn)(const struct symindex_def *def, void *data);

/*
 * Scan the C text 'text' of 'len' bytes (need not be NUL-terminated)
 * and call 'fn' for every top-level definition in file order.  A
 * non-zero return from 'fn' stops the scan and is returned.  Never
 * fails on bad input: unterminated comments or strings end the scan.
 */
int symindex_scan_text(const char *text, size_t len, symindex_def_fn fn,
		       void *data);

/*
 * The definition of 'name' (NUL-terminated) in the C text 'text' of
 * 'len' bytes, as symindex_scan_text() sees it: a function beats the
 * macros and other definitions of the same name, otherwise the first
 * one counts.  1 and '*out' (its 'name' points into 'text'), with the
 * number of other definitions of the name in '*others' (may be NULL);
 * 0 when there is none.
 */
int symindex_find_def(struct symindex_def *out, unsigned *others,
		      const char *text, size_t len, const char *name);

/* True if 'path' is a file symindex scans (".c" or ".h"). */
bool symindex_wants_path(const char *path);

/* Lookup results: pointers into the index, valid until it is freed. */
struct symindex_entry {
	const char *name; /* NUL-terminated */
	const char *path; /* NUL-terminated, relative to the tree root */
	const struct git_oid *blob; /* blob the lines refer to */
	enum symindex_kind kind;
	unsigned line, end_line;
};

struct symindex;

/* Build statistics, filled by symindex_build(). */
struct symindex_stats {
	size_t files;	     /* .c/.h blobs scanned */
	size_t bytes;	     /* their total size */
	size_t entries;	     /* definitions recorded */
	size_t memory;	     /* bytes held by the index */
	size_t skipped;	     /* blobs over the size cap, not scanned */
	int64_t elapsed_ms;  /* wall time of the build */
};

/* Blobs larger than this are skipped (generated tables, firmware). */
#define SYMINDEX_MAX_BLOB (8u << 20)

/*
 * Index every .c/.h blob of the tree (or commit, peeled) 'treeish' in
 * 'repo'.  'repo' is borrowed and only used during the call.  On
 * success '*out' owns a new index (free with symindex_free()) and
 * 'stats' (may be NULL) is filled.  -ENOENT if 'treeish' is not in the
 * repository, -EIO on object database errors, with a reason in 'err'.
 */
int symindex_build(struct symindex **out, struct symindex_stats *stats,
		   struct git_repository *repo, const struct git_oid *treeish,
		   struct strbuf *err);

/*
 * An empty index to fill with symindex_add_text(); used for files that
 * only exist after a patch and by tests.
 */
void symindex_new(struct symindex **out);

/*
 * Scan 'text' as the content of 'path' (blob id 'blob', may be NULL)
 * and add its definitions.  'path' and 'text' are copied as needed.
 */
void symindex_add_text(struct symindex *idx, const char *path,
		       const struct git_oid *blob, const char *text,
		       size_t len);

void symindex_free(struct symindex *idx);

/*
 * Find the definitions of the 'len'-byte name 'name'.  Up to 'max'
 * pointers are stored in 'out', the most recently added first;
 * the total number of definitions is returned, so a return above
 * 'max' means the list was cut.  Entries are borrowed from 'idx'.
 */
size_t symindex_lookup(const struct symindex_entry **out, size_t max,
		       const struct symindex *idx, const char *name,
		       size_t len);

/* Number of definitions in the index. */
size_t symindex_count(const struct symindex *idx);

#endif
