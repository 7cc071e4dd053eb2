/*
 * public-inbox v2 epoch source, read with libgit2.
 *
 * An epoch is a bare repository whose refs/heads/master is a linear
 * history of one commit per message; each commit's tree holds a single
 * blob, "m" for a message added or "d" for one deleted.  The walk runs
 * oldest first (topological + reverse) from the tip, hiding the cursor
 * commit when the tip still descends from it.  Administrators purging
 * messages rewrite that history; then the saved commit is unknown or no
 * longer an ancestor, and the whole epoch is walked again (the store
 * dedups by content and Message-ID).
 *
 * libgit2's reverse walk keeps the list of commit ids; blobs are loaded
 * one at a time and the one handed out lives until the next call.
 */
#include "source-impl.h"

#include <git2.h>

struct inbox {
	char *name;		/* the path as given, for positions */
	bool git_init;
	git_repository *repo;
	git_revwalk *walk;	/* NULL: nothing to walk */
	git_blob *blob;		/* the message handed out last */
};

static const char *inbox_git_error(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

static int inbox_next(struct source *s, struct source_msg *out,
		      struct strbuf *err)
{
	struct inbox *ib = s->priv;
	const git_tree_entry *te;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	bool deleted = false;
	git_oid oid;
	int ret;

	git_blob_free(ib->blob);
	ib->blob = NULL;
	if (!ib->walk)
		return 0;
	ret = git_revwalk_next(&oid, ib->walk);
	if (ret == GIT_ITEROVER)
		return 0;
	if (ret < 0) {
		source_err(err, "%s: cannot walk history: %s", ib->name,
			   inbox_git_error());
		return -EIO;
	}
	git_oid_tostr(hex, sizeof(hex), &oid);
	strbuf_addf(&s->where, "%s: commit %.12s", ib->name, hex);
	/* Past this commit whatever comes of it: errors below are its own. */
	strbuf_reset(&s->cursor);
	strbuf_addstr(&s->cursor, hex);
	s->has_cursor = true;

	if (git_commit_lookup(&commit, ib->repo, &oid) < 0 ||
	    git_commit_tree(&tree, commit) < 0) {
		source_err(err, "%s: cannot read commit: %s", s->where.buf,
			   inbox_git_error());
		ret = -EIO;
		goto out;
	}
	te = git_tree_entry_byname(tree, "m");
	if (!te) {
		te = git_tree_entry_byname(tree, "d");
		deleted = true;
	}
	if (!te || git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
		source_err(err,
			   "%s: no \"m\" or \"d\" blob, not a public-inbox message, skipped",
			   s->where.buf);
		ret = -EPROTO;
		goto out;
	}
	if (git_blob_lookup(&ib->blob, ib->repo, git_tree_entry_id(te)) < 0) {
		source_err(err, "%s: cannot read blob: %s", s->where.buf,
			   inbox_git_error());
		ret = -EIO;
		goto out;
	}
	if (git_blob_rawsize(ib->blob) > s->max_message) {
		source_err(err, "%s: larger than %zu bytes, skipped",
			   s->where.buf, s->max_message);
		git_blob_free(ib->blob);
		ib->blob = NULL;
		ret = -E2BIG;
		goto out;
	}
	out->data = git_blob_rawcontent(ib->blob);
	out->len = (size_t)git_blob_rawsize(ib->blob);
	out->deleted = deleted;
	git_oid_tostr(out->oid, sizeof(out->oid), git_tree_entry_id(te));
	ret = 1;
out:
	git_tree_free(tree);
	git_commit_free(commit);
	return ret;
}

static void inbox_release(void *priv)
{
	struct inbox *ib = priv;

	if (!ib)
		return;
	git_blob_free(ib->blob);
	git_revwalk_free(ib->walk);
	git_repository_free(ib->repo);
	if (ib->git_init)
		git_libgit2_shutdown();
	free(ib->name);
	free(ib);
}

static const struct source_ops inbox_ops = {
	.next = inbox_next,
	.release = inbox_release,
};

/*
 * Hide the cursor commit from the walk if the tip still descends from
 * it: 1 if hidden, 0 if the cursor is unusable, -EIO.
 */
static int inbox_hide_cursor(struct inbox *ib, const git_oid *tip,
			     const char *cursor)
{
	git_oid old;
	int r;

	if (strlen(cursor) != GIT_OID_HEXSZ || git_oid_fromstr(&old, cursor))
		return 0;
	if (git_oid_equal(&old, tip)) {
		r = 1;
	} else {
		/* An unknown commit is an error here: rewritten history. */
		r = git_graph_descendant_of(ib->repo, tip, &old);
		if (r < 0)
			r = 0;
	}
	if (r == 1 && git_revwalk_hide(ib->walk, &old) < 0)
		return -EIO;
	return r;
}

int inbox_open(struct source *s, const char *location, const char *cursor,
	       struct strbuf *err)
{
	struct inbox *ib = xcalloc(1, sizeof(*ib));
	git_oid tip;
	int r;

	s->ops = &inbox_ops;
	s->priv = ib;
	ib->name = xstrdup(location);
	/* Reference counted, so callers may also have done it in main(). */
	if (git_libgit2_init() < 0) {
		source_err(err, "cannot initialise libgit2: %s",
			   inbox_git_error());
		return -EIO;
	}
	ib->git_init = true;
	r = git_repository_open_ext(&ib->repo, location,
				    GIT_REPOSITORY_OPEN_NO_SEARCH |
					    GIT_REPOSITORY_OPEN_BARE,
				    NULL);
	if (r < 0) {
		source_err(err, "cannot open public-inbox epoch '%s': %s",
			   location, inbox_git_error());
		return r == GIT_ENOTFOUND ? -ENOENT : -EIO;
	}
	source_set_key(s, "inbox:", location, NULL);

	if (git_reference_name_to_id(&tip, ib->repo, "refs/heads/master") < 0 &&
	    git_reference_name_to_id(&tip, ib->repo, "HEAD") < 0) {
		/* No commit yet: nothing to read, nothing to resume. */
		s->restarted = cursor != NULL;
		return 0;
	}
	if (git_revwalk_new(&ib->walk, ib->repo) < 0 ||
	    git_revwalk_sorting(ib->walk,
				GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(ib->walk, &tip) < 0) {
		source_err(err, "%s: cannot walk history: %s", location,
			   inbox_git_error());
		return -EIO;
	}
	if (cursor) {
		r = inbox_hide_cursor(ib, &tip, cursor);
		if (r < 0) {
			source_err(err, "%s: cannot walk history: %s",
				   location, inbox_git_error());
			return r;
		}
		if (r) {
			strbuf_addstr(&s->cursor, cursor);
			strbuf_tolower(&s->cursor);
			s->has_cursor = true;
		} else {
			s->restarted = true;
		}
	}
	return 0;
}
