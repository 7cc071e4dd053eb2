/*
 * apply.h - apply a patch series to a tree in memory, the way "git am -3"
 * would, and say exactly where it stops applying.
 *
 * Everything happens on libgit2 objects: no worktree, no checkout, no
 * index file.  New blobs and trees are written to the repository's
 * object database (harmless: unreferenced objects are pruned by gc);
 * refs are written only when apply_opts.ref_prefix asks for them.
 *
 * libgit2 1.5's own git_apply_to_tree() only applies a hunk at its
 * stated line, so hunk placement is ours and follows git apply:
 *
 *   1. the hunk's pre-image (context and '-' lines) must match the file
 *      exactly at the stated line (git starts at the hunk's new-side
 *      line, since earlier hunks of the file are already applied);
 *   2. else at the nearest line where it matches exactly, searching
 *      outward (+1, -1, +2, -2, ...) over the whole file; a hunk
 *      starting at line 0 or 1 must match at the beginning and a hunk
 *      without trailing context must match at the end, as in git; no
 *      fuzz (context lines are never dropped);
 *   3. else, when the patch's "index abc..def" line names a pre-image
 *      blob present in the repository, the file's whole patch is
 *      applied to that blob and the result merged into the current
 *      file with git_merge_file() (the "git am -3" fallback, done per
 *      file); a conflict is a failure.
 *
 * New, deleted, renamed, copied and mode-changed files are handled:
 * creating a path that exists, or touching a path that does not, fails;
 * a deletion must remove every line.  Binary patches and submodule
 * changes are refused with a reason.  Patch lines ending in "\r\n" are
 * read as ending in "\n" (git am strips CRs from mail by default).
 *
 * A patch that does not apply is a result, not an error: the series
 * stops there and apply_result.failure names the patch, file and hunk
 * with a reason a contributor can act on.
 */
#ifndef KREVIEW_APPLY_H
#define KREVIEW_APPLY_H

#include "kreview/common.h"
#include "kreview/diff.h"

struct strbuf;
struct git_repository;
struct git_oid;

enum apply_status {
	APPLY_OK,
	APPLY_CONTEXT_NOT_FOUND, /* pre-image of a hunk nowhere in the file */
	APPLY_MERGE_CONFLICT,	 /* 3-way fallback left conflicts */
	APPLY_FILE_EXISTS,	 /* creating or renaming onto a path */
	APPLY_FILE_MISSING,	 /* changing a path that is not there */
	APPLY_NOT_EMPTY,	 /* a deletion leaves lines behind */
	APPLY_BINARY,		 /* binary patches are refused */
	APPLY_UNSUPPORTED,	 /* submodules, directory/file clashes */
	APPLY_MALFORMED,	 /* the diff does not parse */
	APPLY_STATUS_MAX,
};

/* "context not found", "file exists", ... */
const char *apply_status_name(enum apply_status status);

/* Where one hunk went. */
struct apply_hunk {
	int old_start;	  /* stated in the hunk header */
	int applied_line; /* 1-based line (in the file as it was when the
			     hunk was applied) where its pre-image matched;
			     0 when the file went through the 3-way merge */
	int new_line;	  /* 1-based first line of the hunk's post-image in
			     the resulting file (the stated one after a
			     3-way merge) */
	int offset;	  /* git apply's "(offset N lines)" */
	bool threeway;
};

/* One file of an applied patch. */
struct apply_file {
	char *old_path;	/* NULL for a new file */
	char *new_path;	/* NULL for a deleted file */
	enum diff_status status;
	unsigned mode;	/* mode in the result; 0 when deleted */
	bool threeway;	/* went through the 3-way merge */
	struct apply_hunk *hunks;
	size_t hunks_nr;
};

struct apply_patch {
	struct apply_file *files;
	size_t files_nr;
};

/* Why and where a series stopped applying. */
struct apply_failure {
	enum apply_status status;
	size_t patch;	   /* 0-based position in the series */
	char *path;	   /* file concerned; NULL for a malformed patch */
	size_t hunk;	   /* 1-based hunk number; 0 for the whole file */
	char *hunk_header; /* "@@ -645,23 +645,27 @@ static ..." or NULL */
	int line;	   /* line the hunk was expected at, or 0 */
	char *detail;	   /* one line, e.g. the first differing line */
};

struct apply_result {
	/*
	 * trees[0] is the base tree, trees[i] the tree after patch i
	 * (1-based); trees_nr is 1 + the number of patches applied.
	 */
	struct git_oid *trees;
	size_t trees_nr;
	/* patches[i] describes patch i (0-based) of those applied */
	struct apply_patch *patches;
	size_t patches_nr;
	bool failed;
	struct apply_failure failure; /* valid when 'failed' */
};

#define APPLY_RESULT_INIT { 0 }

void apply_result_release(struct apply_result *r);

/*
 * Append a one-paragraph description of 'f' to 'out', e.g.
 * "patch 2: io_uring/net.c: hunk #1 (@@ -645,23 +645,27 @@) at line
 *  645: context not found: line 647 differs: expected ..., found ...".
 * 'patch_base' is added to the 0-based patch number (1 for humans).
 */
void apply_failure_format(struct strbuf *out, const struct apply_failure *f,
			  size_t patch_base);

struct apply_opts {
	/* no 3-way fallback (plain "git am") */
	bool no_threeway;
	/*
	 * When set (must start with "refs/kreview/"), write
	 * "<ref_prefix>/0" ... "/<n>" pointing at the trees of every
	 * position, replacing refs of those names.
	 */
	const char *ref_prefix;
};

#define APPLY_OPTS_INIT { 0 }

/*
 * Apply the 'nr' patches 'texts[i]' ('lens[i]' bytes each: a mail body
 * as written by git format-patch, or a plain diff) in order to
 * 'base' (a commit or tree id) in 'repo' (borrowed).  'out' must be
 * APPLY_RESULT_INIT or released; it is filled on success, including
 * when a patch does not apply (out->failed).  'opts' may be NULL.
 *
 * Returns 0, -ENOENT when 'base' is not in the repository, -EINVAL for
 * a bad ref prefix, -EIO when the object database fails; a reason is
 * appended to 'err' (may be NULL).  'out' is untouched on error.
 */
int apply_series(struct apply_result *out, struct git_repository *repo,
		 const struct git_oid *base, const char *const *texts,
		 const size_t *lens, size_t nr, const struct apply_opts *opts,
		 struct strbuf *err);

/*
 * The hunk engine without a repository: apply the hunks of 'f', a file
 * of a diff parsed from 'text'/'text_len', to the file content
 * 'pre'/'pre_len'.  On success the new content is appended to 'out'
 * and 'hunks' (f->hunks_nr elements, may be NULL) says where each hunk
 * went.  Returns 0, or -EBADMSG when a hunk does not apply, with
 * 'fail' (may be NULL; its path and patch are not set) saying which
 * and why; 'out' is then unspecified.
 */
int apply_hunks(struct strbuf *out, struct apply_hunk *hunks,
		const char *pre, size_t pre_len, const struct diff_file *f,
		const char *text, size_t text_len,
		struct apply_failure *fail);

void apply_failure_release(struct apply_failure *f);

#endif
