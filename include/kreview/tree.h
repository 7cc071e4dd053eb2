/*
 * tree.h - a patch series and the kernel tree it goes on: loading the
 * series (from the store or an mbox file), finding its base, and the
 * paths and text it touches.
 *
 * Base detection tries candidate commits in a fixed order and applies
 * the whole series to each (apply_series(), in memory) until one
 * takes it; every attempt is kept, so a contributor sees why each
 * candidate was passed over:
 *
 *   1. TREE_CAND_OPTION       the base the user named (--base REV);
 *   2. TREE_CAND_BASE_COMMIT  the "base-commit:" line of the cover
 *                             letter or of the first patch;
 *   3. TREE_CAND_MAINT_TREE   branches matching the series: first those
 *                             matching a tree tag of a subject
 *                             ("[PATCH net-next]": remote name, branch
 *                             name or repository name equal to the
 *                             tag), then those matching a MAINTAINERS
 *                             "T: git URL [branch]" entry of a section
 *                             the series touches (sections in
 *                             maint_map() order) - the ref's remote URL
 *                             equals the T: URL (scheme, user, ".git"
 *                             and trailing "/" ignored) and its branch
 *                             is the T: branch (master/main when none
 *                             is given).  The branches looked at are
 *                             the configured ones (opts.branches) and
 *                             every remote-tracking branch;
 *   4. TREE_CAND_DEFAULT      configured branches that matched nothing
 *                             above, then opts.default_branches
 *                             (origin/master, master, main when NULL);
 *   5. TREE_CAND_HEAD         HEAD.
 *
 * A candidate that does not resolve is recorded as such; one that
 * resolves to a commit tried before is recorded as a duplicate and not
 * applied again.  b4's "prerequisite-*:" lines are not looked up (a
 * patch-id or message-id cannot be found in a repository without
 * computing and indexing them) and not guessed: each is reported as a
 * note, and the failure report says the series declares them.
 *
 * Threads: a struct tree_series is read-only once loaded.  The
 * functions taking a repository use it from the calling thread only.
 */
#ifndef KREVIEW_TREE_H
#define KREVIEW_TREE_H

#include "kreview/common.h"
#include "kreview/apply.h"

#include <git2/oid.h>

struct strbuf;
struct git_repository;
struct db;
struct maint;

/* Series longer than this are refused when loading. */
#define TREE_MAX_PATCHES 1000

/* One patch of a series, decoded. */
struct tree_patch {
	char *msgid;   /* without <> */
	char *subject; /* decoded subject line */
	char *title;   /* subject without prefixes */
	char *body;    /* decoded text body: message, "---", diff */
	size_t body_len;
};

struct tree_series {
	char *name;	       /* "series 12", "x.mbox", for messages */
	struct tree_patch *patches;
	size_t nr;
	char *cover_body;      /* decoded cover letter body, or NULL */
	char *cover_subject;   /* or NULL */
	char *base_commit;     /* of the cover, else of patch 1, or NULL */
	char **prereqs;	       /* "prerequisite-x: value" lines */
	size_t prereqs_nr;
	char **tags;	       /* subject tree tags, each once */
	size_t tags_nr;
};

#define TREE_SERIES_INIT { 0 }

void tree_series_release(struct tree_series *s);

/*
 * Add the raw message 'raw'/'len' to 's' as its next patch ('cover'
 * false) or as its cover letter; the message is parsed with
 * msg_parse() (GMime must be initialised).  'where' names it in
 * errors.  -EPROTO for a message that does not parse, -E2BIG past
 * TREE_MAX_PATCHES.
 */
int tree_series_add(struct tree_series *s, const char *raw, size_t len,
		    bool cover, const char *where, struct strbuf *err);

/*
 * Load series revision 'id' from the database (store_series_load()).
 * 'out' must be TREE_SERIES_INIT; it is only filled on success.
 */
int tree_series_from_db(struct tree_series *out, struct db *db, int64_t id,
			struct strbuf *err);

/*
 * Load the series in the mbox file 'path' ("-" for stdin): every
 * message that carries a diff and is not a reply, in file order; the
 * first message without a diff whose subject is numbered 0/N is the
 * cover letter.  Series assembly is deliberately not run: the file is
 * taken to hold one series in order, as "git format-patch" or
 * "b4 am" write it.  -ENOENT/-EIO when the file cannot be read,
 * -ENODATA when it holds no patch.
 */
int tree_series_from_mbox(struct tree_series *out, const char *path,
			  struct strbuf *err);

/*
 * Every path the series touches, old and new names of renames and
 * copies included, sorted bytewise and unique, as get_maintainer.pl
 * wants them.  '*out' is a new NULL-terminated array of new strings
 * (free each and the array); '*nr_out' their number.  Patches whose
 * diff does not parse contribute no path.
 */
void tree_series_paths(char ***out, size_t *nr_out,
		       const struct tree_series *s);

/*
 * The text get_maintainer.pl searches for K: keywords, appended to
 * 'out': per patch its "Subject:" line, the commit message and the
 * diff (the cover letter first, when there is one).
 */
void tree_series_keyword_text(struct strbuf *out,
			      const struct tree_series *s);

/*
 * Base detection.
 */

enum tree_cand_source {
	TREE_CAND_OPTION,
	TREE_CAND_BASE_COMMIT,
	TREE_CAND_MAINT_TREE,
	TREE_CAND_DEFAULT,
	TREE_CAND_HEAD,
	TREE_CAND_MAX,
};

/* "--base", "base-commit", "maintainers-tree", "default", "HEAD". */
const char *tree_cand_source_name(enum tree_cand_source src);

enum tree_attempt_state {
	TREE_ATTEMPT_PENDING,	/* listed, not tried (an earlier one won) */
	TREE_ATTEMPT_APPLIED,	/* the whole series applied: the base */
	TREE_ATTEMPT_FAILED,	/* a patch did not apply */
	TREE_ATTEMPT_NOT_FOUND, /* the revision is not in the repository */
	TREE_ATTEMPT_DUPLICATE, /* same commit as an earlier candidate */
	TREE_ATTEMPT_STATE_MAX,
};

struct tree_attempt {
	enum tree_cand_source source;
	char *rev;	  /* as given or found: "origin/master", an id */
	char *why;	  /* why it is a candidate, or NULL */
	enum tree_attempt_state state;
	git_oid commit;	  /* valid unless NOT_FOUND */
	size_t same_as;	  /* DUPLICATE: index of the earlier attempt */
	size_t applied;	  /* FAILED: patches that applied before */
	char *failure;	  /* FAILED: apply_failure_format() text */
};

struct tree_base {
	struct tree_attempt *attempts;
	size_t nr, alloc;
	char **notes;	   /* prerequisites, skipped steps: one line each */
	size_t notes_nr;
	bool found;
	size_t winner;	   /* index into attempts when 'found' */
	/*
	 * The winner's apply result; when nothing applied, the result of
	 * the failed attempt that got furthest (first such in order), with
	 * 'best' its index, so its trees can still be used.  'has_result'
	 * is false when no candidate resolved at all.
	 */
	bool has_result;
	size_t best;
	struct apply_result result;
};

#define TREE_BASE_INIT { 0 }

void tree_base_release(struct tree_base *b);

struct tree_base_opts {
	const char *base_rev;		  /* --base, or NULL */
	const char *const *branches;	  /* configured branches (refs) */
	size_t branches_nr;
	const char *const *default_branches; /* NULL: the usual three */
	size_t default_branches_nr;
	const struct maint *maint;	  /* for T: entries; may be NULL */
	bool no_head;			  /* do not fall back to HEAD */
	bool no_threeway;		  /* apply without the 3-way rule */
	/*
	 * With a winner, write refs "<keep_prefix>/0".."/<n>" to its
	 * trees (apply_opts.ref_prefix); NULL writes nothing.
	 */
	const char *keep_prefix;
};

#define TREE_BASE_OPTS_INIT { 0 }

/*
 * List the candidates for 's' in 'repo' (borrowed) into 'out'
 * (TREE_BASE_INIT), every one PENDING or NOT_FOUND/DUPLICATE, with
 * the notes; nothing is applied.  Returns 0 or -EIO.
 */
int tree_base_candidates(struct tree_base *out, struct git_repository *repo,
			 const struct tree_series *s,
			 const struct tree_base_opts *opts,
			 struct strbuf *err);

/*
 * List the candidates and try them in order (see the top of this
 * file).  Not finding a base is a result (out->found false), not an
 * error.  Returns 0, or -EIO / -EINVAL (bad keep prefix) from
 * apply_series(), with a reason in 'err'.  'out' must be
 * TREE_BASE_INIT; on error it holds what was tried so far and must
 * still be released.
 */
int tree_find_base(struct tree_base *out, struct git_repository *repo,
		   const struct tree_series *s,
		   const struct tree_base_opts *opts, struct strbuf *err);

/*
 * One line (no newline) for attempt 'i' of 'b':
 * "attempt 2: base-commit 1a2b3c4d5e6f... [of patch 1]: applied: all
 * 5 patches", "attempt 3: default origin/master (0123456789ab)
 * [default branch]: failed after 2 of 5 patches: patch 3: ...", or
 * "...: not tried: attempt 2 applied first".
 * 'total' is the number of patches in the series.
 */
void tree_base_format_attempt(struct strbuf *out, const struct tree_base *b,
			      size_t i, size_t total);

/*
 * The failure report when nothing applied (print the attempts before
 * it): a summary line, the notes, and the failure of the attempt that
 * got furthest with the failing patch's subject; lines end in "\n".
 */
void tree_base_format_failure(struct strbuf *out, const struct tree_base *b,
			      const struct tree_series *s);

/*
 * Open the repository at or above 'dir' (NULL: the current
 * directory), as git does; -ENOENT with a reason when there is none.
 */
int tree_open_repo(struct git_repository **out, const char *dir,
		   struct strbuf *err);

/*
 * Read the blob 'path' ("MAINTAINERS") of the commit or tree 'treeish'
 * into 'out'.  -ENOENT when it is not there.
 */
int tree_read_file(struct strbuf *out, struct git_repository *repo,
		   const git_oid *treeish, const char *path,
		   struct strbuf *err);

#endif
