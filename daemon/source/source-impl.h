/*
 * source-impl.h - what the source kinds share behind source.h.
 *
 * source.c owns the struct source and dispatches through a small table
 * of operations that each kind (mbox.c, maildir.c, inbox.c,
 * nmsource.c) fills in from its _open() function.  A kind keeps its own
 * state in 'priv' and writes the common fields: 'key', 'cursor',
 * 'restarted', 'where'.  Not a public interface.
 */
#ifndef KREVIEW_SOURCE_IMPL_H
#define KREVIEW_SOURCE_IMPL_H

#include "kreview/common.h"
#include "kreview/source.h"
#include "kreview/strbuf.h"

struct source_ops {
	/* Same contract as source_next(). */
	int (*next)(struct source *s, struct source_msg *out,
		    struct strbuf *err);
	/* Free 'priv'; called once, also on a half-opened source. */
	void (*release)(void *priv);
};

struct source {
	const struct source_ops *ops;
	void *priv;
	enum source_kind kind;
	char *key;		/* NULL: no stored cursor (stdin) */
	struct strbuf cursor;
	bool has_cursor;	/* false: source_cursor() returns NULL */
	bool restarted;
	bool done;		/* next() returned 0 or a fatal error */
	int done_ret;		/* ... which one */
	size_t max_message;
	struct strbuf where;	/* position of the last message */
};

/*
 * Each kind's opener: fill 's' (ops first, so that a failure later in
 * the opener is cleaned up by source_free()).  'cursor' is NULL or
 * non-empty.
 */
int mbox_open(struct source *s, const char *location, const char *cursor,
	      struct strbuf *err);
int maildir_open(struct source *s, const char *location, struct strbuf *err);
int inbox_open(struct source *s, const char *location, const char *cursor,
	       struct strbuf *err);
int nmsource_open(struct source *s, const char *location, const char *query,
		  const char *cursor, struct strbuf *err);

/* Append a formatted reason to 'err' unless it is NULL. */
KR_PRINTF(2, 3) void source_err(struct strbuf *err, const char *fmt, ...);

/*
 * Set 's->key' to PREFIX + the absolute, symlink-free form of 'path'
 * (the path as given when it cannot be resolved) + 'suffix' (or NULL).
 */
void source_set_key(struct source *s, const char *prefix, const char *path,
		    const char *suffix);

#endif
