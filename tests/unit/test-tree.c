/*
 * Tests for tree.c: series loading (messages, mbox), paths, and the
 * order, resolution and outcome of base candidates.  Repositories are
 * built with libgit2; patches are made with fromgit so that they carry
 * real index lines.
 */
#include "testutil.h"

#include <git2.h>
#include <gmime/gmime.h>
#include <unistd.h>

#include "kreview/fromgit.h"
#include "kreview/maint.h"
#include "kreview/tree.h"

struct fx {
	char *dir;
	git_repository *repo;
	git_oid base, tip, other, moved;
	struct tree_series s; /* the one patch base..tip */
};

static void commit_file(git_oid *out, struct fx *fx, const git_oid *parent,
			const char *path, const char *content,
			const char *message)
{
	git_signature *sig = NULL;
	git_commit *p = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_treebuilder *tb = NULL;
	git_tree_update upd = { 0 };
	git_oid tid, empty;

	assert_int_equal(git_signature_new(&sig, "Jane", "jane@example.org",
					   1712044800, 0), 0);
	if (parent) {
		assert_int_equal(git_commit_lookup(&p, fx->repo, parent), 0);
		assert_int_equal(git_commit_tree(&base, p), 0);
	} else {
		assert_int_equal(git_treebuilder_new(&tb, fx->repo, NULL), 0);
		assert_int_equal(git_treebuilder_write(&empty, tb), 0);
		assert_int_equal(git_tree_lookup(&base, fx->repo, &empty), 0);
	}
	upd.action = GIT_TREE_UPDATE_UPSERT;
	upd.filemode = GIT_FILEMODE_BLOB;
	upd.path = path;
	assert_int_equal(git_blob_create_from_buffer(&upd.id, fx->repo, content,
						     strlen(content)), 0);
	assert_int_equal(git_tree_create_updated(&tid, fx->repo, base, 1,
						 &upd), 0);
	assert_int_equal(git_tree_lookup(&tree, fx->repo, &tid), 0);
	assert_int_equal(git_commit_create(out, fx->repo, NULL, sig, sig, NULL,
					   message, tree, p ? 1 : 0,
					   (const git_commit **)&p), 0);
	git_tree_free(tree);
	git_tree_free(base);
	git_treebuilder_free(tb);
	git_commit_free(p);
	git_signature_free(sig);
}

static void set_ref(struct fx *fx, const char *name, const git_oid *oid)
{
	git_reference *ref = NULL;

	assert_int_equal(git_reference_create(&ref, fx->repo, name, oid, true,
					      NULL), 0);
	git_reference_free(ref);
}

/* The series: one message for base..tip, with a subject tag. */
static void make_series(struct fx *fx, const char *tag, bool with_base)
{
	struct strbuf msg = STRBUF_INIT, err = STRBUF_INIT;
	const char *subj;

	assert_int_equal(fromgit_format(&msg, NULL, fx->repo, &fx->tip, 1, 1,
					 &fx->base, NULL, with_base, &err), 0);
	subj = strstr(msg.buf, "Subject: [PATCH] ");
	assert_non_null(subj);
	if (tag) {
		struct strbuf t = STRBUF_INIT;

		strbuf_addf(&t, " %s", tag);
		strbuf_insert(&msg, (size_t)(subj - msg.buf) + 15, t.buf,
			      t.len);
		strbuf_release(&t);
	}
	tree_series_release(&fx->s);
	assert_int_equal(tree_series_add(&fx->s, msg.buf, msg.len, false,
					 "test", &err), 0);
	fx->s.name = xstrdup("test series");
	strbuf_release(&msg);
	strbuf_release(&err);
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	git_config *cfg = NULL;

	git_libgit2_init();
	fx->dir = test_mkdtemp();
	assert_int_equal(git_repository_init(&fx->repo, fx->dir, false), 0);
	commit_file(&fx->base, fx, NULL, "io_uring/rw.c",
		    "a\nb\nc\nd\ne\nf\ng\n", "base\n");
	commit_file(&fx->tip, fx, &fx->base, "io_uring/rw.c",
		    "a\nb\nc\nD\ne\nf\ng\n", "io_uring/rw: capital D\n");
	/* conflicts with the patch */
	commit_file(&fx->other, fx, &fx->base, "io_uring/rw.c",
		    "a\nb\nc\nd2\ne\nf\ng\n", "other d\n");
	/* the patch applies here through its pre-image blob (3-way) */
	commit_file(&fx->moved, fx, &fx->base, "io_uring/rw.c",
		    "0\n1\na\nb\nc\nd\ne\nf\ng\n", "two lines on top\n");
	set_ref(fx, "refs/heads/master", &fx->other);
	assert_int_equal(git_repository_set_head(fx->repo, "refs/heads/master"),
			 0);
	/* not git_remote_create(): its config regex leaks in libgit2 1.5 */
	assert_int_equal(git_repository_config(&cfg, fx->repo), 0);
	assert_int_equal(git_config_set_string(cfg, "remote.jens.url",
					       "https://git.kernel.dk/linux-block.git/"),
			 0);
	git_config_free(cfg);
	set_ref(fx, "refs/remotes/jens/for-next", &fx->moved);
	set_ref(fx, "refs/remotes/jens/master", &fx->other);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tree_series_release(&fx->s);
	git_repository_free(fx->repo);
	git_libgit2_shutdown();
	test_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

static struct maint *maint_with_t(void)
{
	static const char text[] =
		"IO_URING\n"
		"T:\tgit git://git.kernel.dk/linux-block for-next\n"
		"T:\tgit git://git.example.org/nobody.git\n"
		"F:\tio_uring/\n\n"
		"THE REST\nF:\t*\nF:\t*/\n";
	struct maint *m = NULL;

	assert_int_equal(maint_parse(&m, text, sizeof(text) - 1, "M", NULL,
				     NULL), 0);
	return m;
}

static void expect(const struct tree_base *b, size_t i,
		   enum tree_cand_source src, const char *rev,
		   enum tree_attempt_state st)
{
	assert_true(i < b->nr);
	if (b->attempts[i].source != src || strcmp(b->attempts[i].rev, rev) ||
	    b->attempts[i].state != st)
		fail_msg("attempt %zu: got %s %s state %d, want %s %s state %d",
			 i + 1, tree_cand_source_name(b->attempts[i].source),
			 b->attempts[i].rev, b->attempts[i].state,
			 tree_cand_source_name(src), rev, st);
}

/* The documented order, with resolution and duplicates. */
static void test_candidate_order(void **state)
{
	struct fx *fx = *state;
	struct tree_base_opts o = TREE_BASE_OPTS_INIT;
	struct tree_base b = TREE_BASE_INIT;
	const char *branches[] = { "nosuch", "jens/master" };
	struct maint *m = maint_with_t();
	char base_hex[41];

	git_oid_tostr(base_hex, sizeof(base_hex), &fx->base);
	make_series(fx, "for-next", true);
	o.base_rev = "master~1";
	o.branches = branches;
	o.branches_nr = 2;
	o.maint = m;
	assert_int_equal(tree_base_candidates(&b, fx->repo, &fx->s, &o, NULL),
			 0);
	expect(&b, 0, TREE_CAND_OPTION, "master~1", TREE_ATTEMPT_PENDING);
	expect(&b, 1, TREE_CAND_BASE_COMMIT, base_hex,
	       TREE_ATTEMPT_DUPLICATE);
	assert_int_equal(b.attempts[1].same_as, 0);
	/* the tag names the branch; the T: entry names it too: once */
	expect(&b, 2, TREE_CAND_MAINT_TREE, "jens/for-next",
	       TREE_ATTEMPT_PENDING);
	assert_string_equal(b.attempts[2].why,
			    "subject tag [for-next] = branch name");
	expect(&b, 3, TREE_CAND_DEFAULT, "nosuch", TREE_ATTEMPT_NOT_FOUND);
	expect(&b, 4, TREE_CAND_DEFAULT, "jens/master", TREE_ATTEMPT_PENDING);
	expect(&b, 5, TREE_CAND_DEFAULT, "origin/master",
	       TREE_ATTEMPT_NOT_FOUND);
	expect(&b, 6, TREE_CAND_DEFAULT, "master", TREE_ATTEMPT_DUPLICATE);
	expect(&b, 7, TREE_CAND_DEFAULT, "main", TREE_ATTEMPT_NOT_FOUND);
	expect(&b, 8, TREE_CAND_HEAD, "HEAD", TREE_ATTEMPT_DUPLICATE);
	assert_int_equal(b.nr, 9);
	/* the unmatched T: entry is a note */
	assert_int_equal(b.notes_nr, 1);
	assert_non_null(strstr(b.notes[0], "nobody.git"));
	tree_base_release(&b);

	/* without a tag, the T: entry finds the remote-tracking branch */
	make_series(fx, NULL, false);
	assert_int_equal(tree_base_candidates(&b, fx->repo, &fx->s, &o, NULL),
			 0);
	expect(&b, 1, TREE_CAND_MAINT_TREE, "jens/for-next",
	       TREE_ATTEMPT_PENDING);
	assert_string_equal(b.attempts[1].why,
			    "T: git git://git.kernel.dk/linux-block for-next "
			    "(IO_URING)");
	tree_base_release(&b);
	maint_free(m);
}

static void test_find_base(void **state)
{
	struct fx *fx = *state;
	struct tree_base_opts o = TREE_BASE_OPTS_INIT;
	struct tree_base b = TREE_BASE_INIT;
	struct strbuf sb = STRBUF_INIT;
	const char *defaults[] = { "jens/master", "jens/for-next", "master" };
	git_commit *tip = NULL;

	make_series(fx, NULL, false);
	o.default_branches = defaults;
	o.default_branches_nr = 3;
	assert_int_equal(tree_find_base(&b, fx->repo, &fx->s, &o, NULL), 0);
	assert_true(b.found);
	assert_int_equal(b.winner, 1);
	expect(&b, 0, TREE_CAND_DEFAULT, "jens/master", TREE_ATTEMPT_FAILED);
	assert_non_null(strstr(b.attempts[0].failure,
			       "patch 1: io_uring/rw.c: hunk #1"));
	/* the index line names the base blob: the 3-way merge conflicts */
	assert_non_null(strstr(b.attempts[0].failure, "left conflicts"));
	expect(&b, 1, TREE_CAND_DEFAULT, "jens/for-next",
	       TREE_ATTEMPT_APPLIED);
	expect(&b, 2, TREE_CAND_DEFAULT, "master", TREE_ATTEMPT_DUPLICATE);
	expect(&b, 3, TREE_CAND_HEAD, "HEAD", TREE_ATTEMPT_DUPLICATE);
	assert_true(b.has_result);
	assert_int_equal(b.result.trees_nr, 2);
	/* a hunk at line 1 must match at the top: the 3-way rule took it */
	assert_true(b.result.patches[0].files[0].threeway);
	tree_base_format_attempt(&sb, &b, 1, 1);
	assert_non_null(strstr(sb.buf, "attempt 2: default jens/for-next ("));
	assert_non_null(strstr(sb.buf, ": applied: all 1 patches"));
	tree_base_release(&b);

	/* nothing applies: the failure report; --base first */
	strbuf_reset(&sb);
	o.default_branches_nr = 1;
	o.base_rev = "nosuch";
	o.no_head = true;
	assert_int_equal(tree_find_base(&b, fx->repo, &fx->s, &o, NULL), 0);
	assert_false(b.found);
	expect(&b, 0, TREE_CAND_OPTION, "nosuch", TREE_ATTEMPT_NOT_FOUND);
	expect(&b, 1, TREE_CAND_DEFAULT, "jens/master", TREE_ATTEMPT_FAILED);
	assert_int_equal(b.nr, 2);
	assert_true(b.has_result);
	assert_int_equal(b.best, 1);
	tree_base_format_failure(&sb, &b, &fx->s);
	assert_non_null(strstr(sb.buf, "does not apply to any of 2 candidate"));
	assert_non_null(strstr(sb.buf, "closest: default jens/master applied 0 "
				       "of 1 patches; patch 1: io_uring/rw.c"));
	assert_non_null(strstr(sb.buf, "failing patch: [PATCH] io_uring/rw: "
				       "capital D\n"));
	tree_base_release(&b);

	/* --keep: refs to every position of the winner */
	o.base_rev = NULL;
	o.default_branches = defaults + 1;
	o.keep_prefix = "refs/kreview/test";
	assert_int_equal(tree_find_base(&b, fx->repo, &fx->s, &o, NULL), 0);
	assert_true(b.found);
	{
		git_reference *ref = NULL;

		assert_int_equal(git_reference_lookup(&ref, fx->repo,
						      "refs/kreview/test/1"),
				 0);
		assert_true(git_oid_equal(git_reference_target(ref),
					  &b.result.trees[1]));
		git_reference_free(ref);
	}
	assert_int_equal(git_commit_lookup(&tip, fx->repo, &fx->tip), 0);
	git_commit_free(tip);
	tree_base_release(&b);
	strbuf_release(&sb);
}

static void test_prereqs_and_paths(void **state)
{
	static const char cover[] =
		"From: Jane <jane@example.org>\n"
		"Subject: [PATCH v2 0/2] rework\n"
		"Message-ID: <c@x>\n\n"
		"Cover.\n\n"
		"base-commit: 0123456789abcdef0123456789abcdef01234567\n"
		"prerequisite-patch-id: 1111111111111111111111111111111111111111\n";
	static const char patch[] =
		"From: Jane <jane@example.org>\n"
		"Subject: [PATCH v2 1/2] x: move\n"
		"Message-ID: <p1@x>\n\n"
		"Move.\n---\n"
		"diff --git a/b/old.c b/a/new.c\n"
		"similarity index 90%\n"
		"rename from b/old.c\n"
		"rename to a/new.c\n"
		"--- a/b/old.c\n+++ b/a/new.c\n"
		"@@ -1 +1 @@\n-x\n+y\n"
		"diff --git a/z.c b/z.c\n"
		"--- a/z.c\n+++ b/z.c\n@@ -1 +1 @@\n-x\n+y\n"
		"diff --git a/a/new.c b/a/new.c\n"
		"--- a/a/new.c\n+++ b/a/new.c\n@@ -1 +1 @@\n-y\n+z\n";
	struct fx *fx = *state;
	struct tree_series s = TREE_SERIES_INIT;
	struct tree_base b = TREE_BASE_INIT;
	struct strbuf text = STRBUF_INIT;
	char **paths = NULL;
	size_t nr = 0;

	assert_int_equal(tree_series_add(&s, cover, sizeof(cover) - 1, true,
					 "c", NULL), 0);
	assert_int_equal(tree_series_add(&s, patch, sizeof(patch) - 1, false,
					 "p", NULL), 0);
	s.name = xstrdup("s");
	assert_string_equal(s.base_commit,
			    "0123456789abcdef0123456789abcdef01234567");
	assert_int_equal(s.prereqs_nr, 1);
	tree_series_paths(&paths, &nr, &s);
	assert_int_equal(nr, 3);
	assert_string_equal(paths[0], "a/new.c");
	assert_string_equal(paths[1], "b/old.c");
	assert_string_equal(paths[2], "z.c");
	assert_null(paths[3]);
	for (size_t i = 0; i < nr; i++)
		free(paths[i]);
	free(paths);
	tree_series_keyword_text(&text, &s);
	assert_non_null(strstr(text.buf, "Subject: [PATCH v2 0/2] rework\n"));
	assert_non_null(strstr(text.buf, "Subject: [PATCH v2 1/2] x: move\n"));

	assert_int_equal(tree_base_candidates(&b, fx->repo, &s, NULL, NULL),
			 0);
	expect(&b, 0, TREE_CAND_BASE_COMMIT,
	       "0123456789abcdef0123456789abcdef01234567",
	       TREE_ATTEMPT_NOT_FOUND);
	assert_string_equal(b.attempts[0].why, "of the cover letter");
	assert_non_null(strstr(b.notes[0], "prerequisite-patch-id: 1111"));
	assert_non_null(strstr(b.notes[0], "not looked up"));
	tree_base_release(&b);
	tree_series_release(&s);
	strbuf_release(&text);
}

static void test_mbox(void **state)
{
	struct fx *fx = *state;
	struct tree_series s = TREE_SERIES_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&path, "%s/x.mbox", fx->dir);
	f = fopen(path.buf, "w");
	assert_non_null(f);
	fputs("From x Mon Sep 17 00:00:00 2001\n"
	      "From: J <j@x>\nSubject: [PATCH 0/1] cover\nMessage-ID: <c@x>\n\n"
	      "Hello.\n\n"
	      "From x Mon Sep 17 00:00:00 2001\n"
	      "From: J <j@x>\nSubject: Re: [PATCH 0/1] cover\n"
	      "Message-ID: <r@x>\nIn-Reply-To: <c@x>\n\n"
	      "> diff --git a/x b/x\nNice.\n\n"
	      "From x Mon Sep 17 00:00:00 2001\n"
	      "From: J <j@x>\nSubject: [PATCH 1/1] x: y\nMessage-ID: <p@x>\n\n"
	      "Body.\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n"
	      "@@ -1 +1 @@\n-a\n+b\n\n", f);
	fclose(f);
	assert_int_equal(tree_series_from_mbox(&s, path.buf, &err), 0);
	assert_int_equal(s.nr, 1);
	assert_string_equal(s.patches[0].msgid, "p@x");
	assert_string_equal(s.cover_subject, "[PATCH 0/1] cover");
	tree_series_release(&s);

	/* no patch at all */
	f = fopen(path.buf, "w");
	assert_non_null(f);
	fputs("From x Mon Sep 17 00:00:00 2001\nFrom: J <j@x>\n"
	      "Subject: hi\n\nNo diff.\n\n", f);
	fclose(f);
	assert_int_equal(tree_series_from_mbox(&s, path.buf, &err), -ENODATA);
	assert_non_null(strstr(err.buf, "no patch"));
	strbuf_reset(&err);
	assert_true(tree_series_from_mbox(&s, "/nonexistent/x.mbox", &err) <
		    0);
	assert_int_equal(s.nr, 0);
	strbuf_release(&err);
	strbuf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_candidate_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_find_base, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prereqs_and_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mbox, setup, teardown),
	};

	/* GMime cannot be initialised again after a shutdown */
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
