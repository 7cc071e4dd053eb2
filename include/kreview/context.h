/*
 * context.h - the code a reviewer needs next to one patch.
 *
 * For every hunk of a patch, read from the pre- and post-image trees
 * (libgit2 objects, no checkout):
 *
 *   - the whole enclosing C function of each changed line (or the
 *     struct/union/enum/multi-line macro it sits in), post-image and
 *     pre-image; found with the symindex scanner, which follows kernel
 *     layout: multi-line signatures, "static inline", "__cold",
 *     SYSCALL_DEFINE-style macros, braces in comments and strings, and
 *     a "}" in column 0 closing the function;
 *   - hunk +/- N lines for changed lines outside any block and for
 *     files that are not C (".c"/".h");
 *   - the definitions of structs/unions/enums, typedefs, functions and
 *     macros referenced from changed lines ("struct x" -> tags,
 *     "name(" -> functions and macros, other identifiers -> typedefs
 *     and macros), looked up first in the patch's own files, then in a
 *     symindex of the base tree; entries whose file changed since the
 *     index was built are re-read from the post-image tree.  One
 *     definition per name: same file, then same directory, then
 *     headers win.
 *
 * Byte budget.  Items are kept in a fixed priority; when the texts
 * exceed opts.budget, whole items are dropped, lowest class first and,
 * within a class, the last-found first:
 *
 *   1. CONTEXT_PRIO_DISTANT_DEF  definitions outside the directories of
 *      the changed files and their own headers (include/.../<dir>*.h,
 *      <file>.h)
 *   2. CONTEXT_PRIO_TYPE_DEF     nearby struct/union/enum/typedef
 *   3. CONTEXT_PRIO_FUNC_DEF     nearby function and macro definitions
 *   4. CONTEXT_PRIO_LINES        hunk +/- N lines
 *   5. CONTEXT_PRIO_PRE_FUNCTION enclosing functions in the pre-image
 *      (the patch itself shows what it removed)
 *   6. CONTEXT_PRIO_FUNCTION     enclosing functions in the post-image
 *      (pre-image for deleted files), never dropped: when they alone
 *      exceed the budget they are cut at a line boundary and end with
 *      "[... N bytes truncated]", later ones emptied and dropped.
 *
 * The budget counts item text bytes, not the headers that
 * context_render() adds.
 */
#ifndef KREVIEW_CONTEXT_H
#define KREVIEW_CONTEXT_H

#include "kreview/common.h"
#include "kreview/symindex.h"

struct strbuf;
struct git_repository;
struct git_oid;
struct apply_patch;

enum context_kind {
	CONTEXT_FUNCTION,   /* enclosing function or block */
	CONTEXT_LINES,	    /* hunk +/- N lines */
	CONTEXT_DEFINITION, /* referenced definition */
};

enum context_prio {
	CONTEXT_PRIO_DISTANT_DEF = 1,
	CONTEXT_PRIO_TYPE_DEF,
	CONTEXT_PRIO_FUNC_DEF,
	CONTEXT_PRIO_LINES,
	CONTEXT_PRIO_PRE_FUNCTION,
	CONTEXT_PRIO_FUNCTION,
};

struct context_item {
	enum context_kind kind;
	enum context_prio prio;
	bool post;		    /* from the post-image tree */
	enum symindex_kind sym_kind; /* FUNCTION and DEFINITION items */
	char *path;
	char *name;		    /* function or symbol, or NULL */
	unsigned start, end;	    /* 1-based inclusive lines */
	char *text;		    /* the lines, NUL-terminated */
	size_t len;
	bool truncated;
};

struct context {
	struct context_item *items;
	size_t nr, alloc;
	size_t bytes;	      /* text bytes kept */
	size_t dropped_nr;    /* items dropped for the budget */
	size_t dropped_bytes; /* and their bytes (before truncation too) */
};

#define CONTEXT_INIT { 0 }

void context_release(struct context *c);

struct context_opts {
	size_t budget;	       /* bytes per patch; 0: unlimited */
	unsigned lines;	       /* N of "hunk +/- N lines" */
	unsigned max_defs;     /* referenced definitions at most */
	size_t max_def_bytes;  /* a longer definition is cut */
};

#define CONTEXT_OPTS_INIT { 48 * 1024, 10, 48, 8 * 1024 }

/*
 * Build the context of the patch 'patch'/'patch_len' (a mail or plain
 * diff) between the trees (or commits) 'pre' and 'post' of 'repo'
 * (borrowed).  'applied' (may be NULL) is the apply_result entry of
 * this patch; its hunk positions are used instead of the stated ones
 * when the patch applied with offsets.  'idx' (may be NULL: no
 * referenced definitions beyond the patch's own files) indexes the
 * base tree.  'out' must be CONTEXT_INIT; 'opts' may be NULL.
 *
 * Returns 0, -EPROTO for an unparsable patch, -ENOENT when a tree is
 * missing, -EIO on object database errors, with a reason in 'err'.
 */
int context_build(struct context *out, struct git_repository *repo,
		  const struct git_oid *pre, const struct git_oid *post,
		  const char *patch, size_t patch_len,
		  const struct apply_patch *applied,
		  const struct symindex *idx, const struct context_opts *opts,
		  struct strbuf *err);

/*
 * The lines [start, end] (1-based) of the innermost function, struct,
 * union, enum or multi-line macro of the C text 'text' containing
 * 'line'.  Returns 0, or -ENOENT when the line is outside any.
 */
int context_enclosing(unsigned *start_out, unsigned *end_out,
		      const char *text, size_t len, unsigned line);

/*
 * Append 'c' to 'out': each item as a header line
 * "== path:start-end kind name (pre|post-image) ==" and its text, then
 * a summary line with byte counts.  With 'json', one JSON object
 * {"bytes":…, "dropped":…, "dropped_bytes":…, "items":[{…}]} instead.
 */
void context_render(struct strbuf *out, const struct context *c, bool json);

#endif
