/*
 * trailer.h - "Name: value" trailers of commit messages and replies.
 *
 * Follows b4's line rule (reference/b4-series.md §5): the name is a
 * word-initial token without spaces, the value non-empty; everything
 * after a "-- " signature line is ignored; common wrapping is repaired
 * (a Fixes: whose ("...") continues on the next line, an <email> on
 * the next line).  Bounded by TRAILER_MAX.
 */
#ifndef KREVIEW_TRAILER_H
#define KREVIEW_TRAILER_H

#include "kreview/common.h"

#define TRAILER_MAX 1000

struct trailer {
	char *name;	/* as written, e.g. "Signed-off-by" */
	char *value;	/* trimmed, unwrapped, without the "# comment" */
	/*
	 * Extra information b4 keeps beside the value: a "# comment"
	 * suffix ("# v6.1+") or a "[bracketed]" line right after the
	 * trailer ("[axboe: fold in fix]"), trimmed; NULL if none.
	 */
	char *extinfo;
};

struct trailer_list {
	struct trailer *items;
	size_t nr, alloc;
};

#define TRAILER_LIST_INIT { 0 }

void trailer_list_init(struct trailer_list *l);
void trailer_list_release(struct trailer_list *l);

/*
 * Parse the trailer block at the end of the commit message 'text'
 * (the last paragraph whose lines are all trailers, allowing
 * "[bracketed]" notes and "# comment" suffixes) into 'out'.
 * Returns the byte offset where the trailer block starts (== len when
 * there is none), so the caller can split message from trailers.
 */
size_t trailer_parse_block(struct trailer_list *out, const char *text,
			   size_t len);

/*
 * Collect every trailer-like line anywhere in 'text' (for replies,
 * which carry Reviewed-by: etc. between quoted text), skipping quoted
 * lines and stopping at a "-- " signature.
 */
void trailer_parse_reply(struct trailer_list *out, const char *text,
			 size_t len);

/* First value of the (case-insensitive) 'name', or NULL. */
const char *trailer_get(const struct trailer_list *l, const char *name);

#endif
