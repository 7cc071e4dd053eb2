/*
 * body.h - splitting a patch mail body into its parts.
 *
 *   commit message
 *   trailers (Signed-off-by, Fixes, Link, ...)
 *   ---
 *   notes, diffstat
 *   diff --git ...
 *   -- 
 *   signature
 *
 * and classifying bodies the way b4 does (reference/b4-series.md §2):
 * a body "has a diff" when a line starting "---" is immediately followed
 * by a line starting "+++", or a line "GIT binary patch", or a line
 * starting "diff --git a/"; quoted lines never match.  It "has a
 * diffstat" when a line reads " N file(s) changed, ..." .
 */
#ifndef KREVIEW_BODY_H
#define KREVIEW_BODY_H

#include "kreview/common.h"
#include "kreview/diff.h"
#include "kreview/trailer.h"

struct strbuf;

/* b4's classification, cheap, no allocation. */
bool body_has_diff(const char *body, size_t len);
bool body_has_diffstat(const char *body, size_t len);

/*
 * Value of the first line starting with 'key' (e.g. "base-commit:",
 * "change-id:"), trimmed, as a new string; NULL if absent.  Quoted
 * lines are skipped.
 */
char *body_find_line(const char *body, size_t len, const char *key);

struct body {
	char *message;	   /* commit message without trailers, trimmed */
	struct trailer_list trailers;
	char *notes;	   /* text between "---" and the diff, incl. diffstat */
	char *diffstat;	   /* just the diffstat lines, or NULL */
	char *diff;	   /* from the first diff line to the end of the diff */
	size_t diff_offset; /* byte offset of 'diff' in the body */
	struct diff parsed; /* 'diff' parsed, offsets relative to 'diff';
			       empty when there is none */
	char *base_commit;  /* "base-commit:" value or NULL */
	char *change_id;    /* "change-id:" value or NULL */
	char **prerequisites; /* "prerequisite-*:" lines as "name: value" */
	size_t prerequisites_nr;
	/*
	 * Text after the "-- " signature line (after the diff, the first
	 * such line once every hunk is complete), or NULL.
	 */
	char *signature;
};

#define BODY_INIT { .trailers = TRAILER_LIST_INIT, .parsed = DIFF_INIT }

void body_init(struct body *b);
void body_release(struct body *b);

/*
 * Split 'text' into 'out' (initialised).  A body without a diff yields
 * only 'message' and 'trailers'.  Returns 0, or -EPROTO when a diff is
 * present but malformed: the other parts are still filled and 'err'
 * says why.
 */
int body_split(struct body *out, const char *text, size_t len,
	       struct strbuf *err);

/*
 * The content id of a diff ('diff' of body_split()), in the spirit of
 * "git patch-id": a SHA-1 (40 hex digits) of its lines with every
 * whitespace character removed, "index" lines dropped and hunk headers
 * cut to "@@", so that a patch resent unchanged - or moved to other
 * line numbers, or re-whitespaced - keeps its id.  The commit message
 * is not part of it.
 */
void body_patch_id(char out[41], const char *diff, size_t len);

#endif
