/*
 * mkinbox - build or edit a public-inbox v2 style epoch for tests.
 *
 *   mkinbox MBOX DIR             append each message of MBOX ("-": stdin)
 *                                as one commit with a tree of one blob "m"
 *   mkinbox --delete MSG DIR     append a "d" commit holding file MSG
 *   mkinbox --drop-last N DIR    move refs/heads/master back N commits (the
 *                                old tip is then no longer an ancestor)
 *   mkinbox --purge K DIR        remove the K-th commit (1 = oldest) and
 *                                re-create every later one, as a purge does
 *
 * DIR is a bare repository, created when missing.  Commits go on
 * refs/heads/master; the commit message is the Subject, author and
 * committer a fixed identity with the time 1700000000 + position, so
 * the same input always gives the same commit ids.  Prints the new tip.
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#include "kreview/common.h"
#include "kreview/source.h"
#include "kreview/strbuf.h"

#include <git2.h>
#include <strings.h>

#define MKINBOX_EPOCH 1700000000
#define MKINBOX_REF "refs/heads/master"

static const char *usage_text =
	"usage: mkinbox MBOX DIR\n"
	"       mkinbox --delete MSGFILE DIR\n"
	"       mkinbox --drop-last N DIR\n"
	"       mkinbox --purge K DIR\n";

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();

	fprintf(stderr, "mkinbox: %s: %s\n", what,
		e && e->message ? e->message : "libgit2 error");
	return -1;
}

/* The Subject header's value, unfolded; "(no subject)" without one. */
static void subject_of(struct strbuf *out, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len;
	bool in_subject = false;

	strbuf_reset(out);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);

		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			break; /* end of the header */
		if (in_subject && (*p == ' ' || *p == '\t')) {
			strbuf_add(out, p, n);
		} else if (in_subject) {
			break;
		} else if (n >= 8 && !strncasecmp(p, "Subject:", 8)) {
			in_subject = true;
			strbuf_add(out, p + 8, n - 8);
		}
		p = nl ? nl + 1 : end;
	}
	strbuf_trim(out);
	if (!out->len)
		strbuf_addstr(out, "(no subject)");
	strbuf_addch(out, '\n');
}

static int tip_of(git_commit **out, git_repository *repo)
{
	git_oid oid;

	if (git_reference_name_to_id(&oid, repo, MKINBOX_REF) < 0) {
		*out = NULL;
		return 0;
	}
	if (git_commit_lookup(out, repo, &oid) < 0)
		return git_fail("cannot read tip");
	return 0;
}

static size_t depth_of(git_commit *c)
{
	size_t n = 0;

	while (c) {
		git_commit *p = NULL;

		n++;
		if (git_commit_parentcount(c) == 0 ||
		    git_commit_parent(&p, c, 0) < 0)
			p = NULL;
		if (n > 1)
			git_commit_free(c);
		c = p;
	}
	return n;
}

/*
 * Commit a tree holding 'blob' as 'name' on top of '*tip' (NULL for a
 * root commit) and make it the new '*tip'.
 */
static int add_commit(git_repository *repo, git_commit **tip,
		      const git_oid *blob, const char *name,
		      const char *message, size_t pos)
{
	git_treebuilder *tb = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_commit *c = NULL;
	const git_commit *parents[1];
	git_oid tree_oid, oid;
	int ret = -1;

	if (git_treebuilder_new(&tb, repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, name, blob, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&tree_oid, tb) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_oid) < 0) {
		git_fail("cannot write tree");
		goto out;
	}
	if (git_signature_new(&sig, "mkinbox", "mkinbox@example.org",
			      MKINBOX_EPOCH + (git_time_t)pos, 0) < 0) {
		git_fail("cannot make signature");
		goto out;
	}
	parents[0] = *tip;
	if (git_commit_create(&oid, repo, NULL, sig, sig, NULL, message, tree,
			      *tip ? 1 : 0, parents) < 0 ||
	    git_commit_lookup(&c, repo, &oid) < 0) {
		git_fail("cannot commit");
		goto out;
	}
	git_commit_free(*tip);
	*tip = c;
	ret = 0;
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	return ret;
}

static int set_tip(git_repository *repo, git_commit *tip, const char *log)
{
	git_reference *ref = NULL;
	char hex[GIT_OID_HEXSZ + 1];

	if (!tip) {
		/* An empty history: drop the branch altogether. */
		if (git_reference_lookup(&ref, repo, MKINBOX_REF) == 0) {
			git_reference_delete(ref);
			git_reference_free(ref);
		}
		printf("(empty)\n");
		return 0;
	}
	if (git_reference_create(&ref, repo, MKINBOX_REF, git_commit_id(tip),
				 1, log) < 0)
		return git_fail("cannot update " MKINBOX_REF);
	git_reference_free(ref);
	if (git_repository_set_head(repo, MKINBOX_REF) < 0)
		return git_fail("cannot set HEAD");
	git_oid_tostr(hex, sizeof(hex), git_commit_id(tip));
	printf("%s\n", hex);
	return 0;
}

static int do_append(git_repository *repo, const char *mbox)
{
	struct strbuf err = STRBUF_INIT, subj = STRBUF_INIT;
	struct source *src = NULL;
	struct source_msg msg;
	git_commit *tip = NULL;
	size_t pos, added = 0;
	int r, ret = -1;

	if (tip_of(&tip, repo) < 0)
		return -1;
	pos = tip ? depth_of(tip) : 0;
	if (source_open(&src, SOURCE_MBOX, mbox, NULL, NULL, &err) < 0) {
		fprintf(stderr, "mkinbox: %s\n", err.buf);
		goto out;
	}
	for (;;) {
		git_oid blob;

		strbuf_reset(&err);
		r = source_next(src, &msg, &err);
		if (r == 0)
			break;
		if (r == -E2BIG || r == -EPROTO) {
			fprintf(stderr, "mkinbox: %s, ignoring\n", err.buf);
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "mkinbox: %s\n", err.buf);
			goto out;
		}
		subject_of(&subj, msg.data, msg.len);
		if (git_blob_create_from_buffer(&blob, repo, msg.data,
						msg.len) < 0) {
			git_fail("cannot write blob");
			goto out;
		}
		if (add_commit(repo, &tip, &blob, "m", subj.buf, ++pos) < 0)
			goto out;
		added++;
	}
	fprintf(stderr, "mkinbox: added %zu messages\n", added);
	ret = set_tip(repo, tip, "mkinbox: append");
out:
	git_commit_free(tip);
	source_free(src);
	strbuf_release(&err);
	strbuf_release(&subj);
	return ret;
}

static int do_delete(git_repository *repo, const char *file)
{
	struct strbuf data = STRBUF_INIT, subj = STRBUF_INIT;
	git_commit *tip = NULL;
	git_oid blob;
	int r, ret = -1;

	r = strbuf_read_file(&data, file, SOURCE_MAX_MESSAGE);
	if (r < 0) {
		fprintf(stderr, "mkinbox: cannot read '%s': %s\n", file,
			strerror(-r));
		goto out;
	}
	if (tip_of(&tip, repo) < 0)
		goto out;
	subject_of(&subj, data.buf, data.len);
	if (git_blob_create_from_buffer(&blob, repo, data.buf, data.len) < 0) {
		git_fail("cannot write blob");
		goto out;
	}
	if (add_commit(repo, &tip, &blob, "d", subj.buf,
		       (tip ? depth_of(tip) : 0) + 1) < 0)
		goto out;
	ret = set_tip(repo, tip, "mkinbox: delete");
out:
	git_commit_free(tip);
	strbuf_release(&data);
	strbuf_release(&subj);
	return ret;
}

/* The history from the root to 'tip', oldest first. */
static int chain_of(git_commit ***out, size_t *nr, git_commit *tip)
{
	git_commit **v = NULL;
	size_t n = 0, alloc = 0;
	git_commit *c = NULL;

	if (tip && git_commit_dup(&c, tip) < 0)
		return git_fail("cannot read history");
	while (c) {
		git_commit *p = NULL;

		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = c;
		if (git_commit_parentcount(c) && git_commit_parent(&p, c, 0) < 0)
			return git_fail("cannot read history");
		c = p;
	}
	for (size_t i = 0; i < n / 2; i++) {
		git_commit *t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	*out = v;
	*nr = n;
	return 0;
}

static int do_rewrite(git_repository *repo, bool purge, size_t k)
{
	git_commit **chain = NULL, *tip = NULL, *newtip = NULL;
	size_t nr = 0;
	int ret = -1;

	if (tip_of(&tip, repo) < 0 || chain_of(&chain, &nr, tip) < 0)
		goto out;
	if (purge ? (k < 1 || k > nr) : k > nr) {
		fprintf(stderr, "mkinbox: the history has only %zu commits\n",
			nr);
		goto out;
	}
	if (!purge) {
		newtip = nr - k ? chain[nr - k - 1] : NULL;
		ret = set_tip(repo, newtip, "mkinbox: drop-last");
		goto out;
	}
	if (k > 1 && git_commit_dup(&newtip, chain[k - 2]) < 0) {
		git_fail("cannot read history");
		goto out;
	}
	for (size_t i = k; i < nr; i++) {
		git_tree *tree = NULL;
		const git_tree_entry *te;

		if (git_commit_tree(&tree, chain[i]) < 0) {
			git_fail("cannot read tree");
			goto out;
		}
		te = git_tree_entry_byindex(tree, 0);
		/* Position i (not i + 1): every later commit id changes. */
		ret = te ? add_commit(repo, &newtip, git_tree_entry_id(te),
				      git_tree_entry_name(te),
				      git_commit_message(chain[i]), i) :
			   -1;
		git_tree_free(tree);
		if (ret < 0)
			goto out;
	}
	ret = set_tip(repo, newtip, "mkinbox: purge");
out:
	if (purge)
		git_commit_free(newtip);
	for (size_t i = 0; i < nr; i++)
		git_commit_free(chain[i]);
	free(chain);
	git_commit_free(tip);
	return ret;
}

static int open_repo(git_repository **out, const char *dir, bool create)
{
	if (git_repository_open_ext(out, dir,
				    GIT_REPOSITORY_OPEN_NO_SEARCH |
					    GIT_REPOSITORY_OPEN_BARE,
				    NULL) == 0)
		return 0;
	if (!create)
		return git_fail("cannot open repository");
	if (git_repository_init(out, dir, 1) < 0)
		return git_fail("cannot create repository");
	return 0;
}

int main(int argc, char **argv)
{
	git_repository *repo = NULL;
	uint64_t n = 0;
	int ret;

	if (argc != 3 && argc != 4) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (argc == 4 && strcmp(argv[1], "--delete") &&
	    ((strcmp(argv[1], "--drop-last") && strcmp(argv[1], "--purge")) ||
	     parse_uint64(&n, argv[2], 10))) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (argc == 3 && argv[1][0] == '-' && argv[1][1] == '-') {
		fputs(usage_text, stderr);
		return 2;
	}
	git_libgit2_init();
	if (open_repo(&repo, argv[argc - 1], argc == 3 ||
					       !strcmp(argv[1], "--delete")) < 0) {
		ret = -1;
	} else if (argc == 3) {
		ret = do_append(repo, argv[1]);
	} else if (!strcmp(argv[1], "--delete")) {
		ret = do_delete(repo, argv[2]);
	} else {
		ret = do_rewrite(repo, !strcmp(argv[1], "--purge"), (size_t)n);
	}
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret < 0 ? 1 : 0;
}
