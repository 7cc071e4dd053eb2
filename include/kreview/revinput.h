/*
 * revinput.h - building the input of a review: patches from raw mail
 * (an mbox, stored messages, git format-patch output of a range) and,
 * when a repository is at hand, the tree: the series applied in memory
 * on its base, files read at the tip, code context per patch.
 */
#ifndef KREVIEW_REVINPUT_H
#define KREVIEW_REVINPUT_H

#include "kreview/common.h"

struct review_series;
struct strbuf;
struct git_repository;
struct git_oid;

/* One raw message, borrowed. */
struct revinput_msg {
	const char *data;
	size_t len;
};

/*
 * Turn the raw messages of one thread or mbox into 'out'
 * (review_series_init()ed): series assembly picks the newest complete
 * revision (else the newest), its cover letter becomes the cover, its
 * patches become review patches in order.  Replies and bot mail are
 * ignored.  -ENODATA with a reason when there is no patch at all;
 * -EPROTO when a patch's diff does not parse.
 */
int revinput_from_messages(struct review_series *out,
			   const struct revinput_msg *msgs, size_t nr,
			   struct strbuf *err);

/*
 * Apply the series to 'base' in 'repo' (both borrowed; the repository
 * must outlive 's'), then fill each patch's code context (within
 * 'budget' bytes each, 0 for the default) and the reader of files at
 * the tip.  When the series does not apply, nothing is attached and
 * -EBADMSG returns with the failure report in 'err'.
 */
int revinput_attach_tree(struct review_series *s, struct git_repository *repo,
			 const struct git_oid *base, size_t budget,
			 struct strbuf *err);

struct maint;
struct subsys_set;

/*
 * Map every patch's paths (and, for K: keywords, its commit message
 * and diff) to MAINTAINERS sections ('m' may be NULL: no sections),
 * set its subsystem to the most specific one, and render the rules of
 * 'set' (may be NULL) for those sections into its 'rules' text: the
 * per-stage guidance, the known non-issues, the style rules that apply
 * to its paths, and the documentation to consult.
 */
void revinput_attach_rules(struct review_series *s, const struct maint *m,
			   const struct subsys_set *set);

/*
 * Parse the MAINTAINERS file of the tree 'tree' (a commit or tree id)
 * of 'repo' into '*out': 0, or -ENOENT when the tree has none.
 */
int revinput_tree_maintainers(struct maint **out, struct git_repository *repo,
			      const struct git_oid *tree, struct strbuf *err);

/* Drop the tip reader (review_series_release() does it too). */
void revinput_detach_tree(struct review_series *s);

#endif
