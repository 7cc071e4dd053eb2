/*
 * Tests for fromgit: commits to patch mail.  Repositories are built
 * with libgit2 in a temporary directory; the messages are read back
 * with msg_parse() and body_split() and applied with apply_series(),
 * which must give the tip's tree.
 */
#include "testutil.h"

#include <git2.h>
#include <gmime/gmime.h>

#include "kreview/apply.h"
#include "kreview/body.h"
#include "kreview/fromgit.h"
#include "kreview/msg.h"

struct fx {
	char *dir;
	git_repository *repo;
	git_oid c[6]; /* commits */
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	git_libgit2_init();
	fx->dir = test_mkdtemp();
	assert_int_equal(git_repository_init(&fx->repo, fx->dir, false), 0);
	test_git_commit(&fx->c[0], fx->repo, NULL, "io_uring/net.c",
			"int a;\nint b;\nint c;\n", "base\n", NULL);
	test_git_commit(&fx->c[1], fx->repo, &fx->c[0], "io_uring/net.c",
			"int a;\nint b2;\nint c;\n",
			"io_uring/net: change b\n\nBecause.\n\n"
			"Signed-off-by: A. U. Thor <au@example.org>\n", NULL);
	test_git_commit(&fx->c[2], fx->repo, &fx->c[1], NULL, NULL, "empty\n",
			NULL);
	test_git_commit(&fx->c[3], fx->repo, &fx->c[2], "io_uring/new.c",
			"int n\xc3\xa9w;\n", "io_uring: add new.c\n", NULL);
	/* a side branch and a merge */
	test_git_commit(&fx->c[4], fx->repo, &fx->c[0], "other.c", "x\n",
			"side\n", NULL);
	test_git_commit(&fx->c[5], fx->repo, &fx->c[3], "other.c", "x\n",
			"merge\n", &fx->c[4]);
	assert_int_equal(git_reference_create(NULL, fx->repo,
					      "refs/heads/master", &fx->c[3],
					      true, NULL), 0);
	assert_int_equal(git_reference_create(NULL, fx->repo,
					      "refs/heads/merged", &fx->c[5],
					      true, NULL), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	git_repository_free(fx->repo);
	git_libgit2_shutdown();
	test_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

static void test_date(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	fromgit_rfc2822_date(&sb, 0, 0);
	assert_string_equal(sb.buf, "Thu, 1 Jan 1970 00:00:00 +0000");
	strbuf_reset(&sb);
	fromgit_rfc2822_date(&sb, 1712044800, 120);
	assert_string_equal(sb.buf, "Tue, 2 Apr 2024 10:00:00 +0200");
	strbuf_reset(&sb);
	fromgit_rfc2822_date(&sb, 1712044800, -330);
	assert_string_equal(sb.buf, "Tue, 2 Apr 2024 02:30:00 -0530");
	strbuf_release(&sb);
}

static void test_range(void **state)
{
	struct fx *fx = *state;
	struct fromgit_series s = FROMGIT_SERIES_INIT, again = FROMGIT_SERIES_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	struct msg m[2] = { MSG_INIT, MSG_INIT };
	const char *texts[2];
	size_t lens[2];
	git_commit *tip = NULL;

	assert_int_equal(fromgit_range(&s, fx->repo, "master~3..master", &err),
			 0);
	assert_int_equal(s.nr, 2);
	assert_int_equal(s.skipped_empty, 1);
	assert_string_equal(s.base, git_oid_tostr_s(&fx->c[0]));
	assert_string_equal(s.patches[0].commit, git_oid_tostr_s(&fx->c[1]));
	strbuf_addf(&want, "kreview-%s-1of2-", git_oid_tostr_s(&fx->c[1]));
	assert_memory_equal(s.patches[0].msgid, want.buf, want.len);
	assert_non_null(strstr(s.patches[0].raw,
			       "From: \"A. U. Thor\" <au@example.org>\n"
			       "Date: Tue, 2 Apr 2024 10:00:00 +0200\n"
			       "Subject: [PATCH 1/2] io_uring/net: change b\n"));
	assert_non_null(strstr(s.patches[0].raw, "\nBecause.\n\nSigned-off-by:"
						 " A. U. Thor <au@example.org>"
						 "\n---\n io_uring/net.c | 2 +-"));
	strbuf_reset(&want);
	strbuf_addf(&want, "\nbase-commit: %s\n-- \n", s.base);
	assert_non_null(strstr(s.patches[0].raw, want.buf));
	assert_null(strstr(s.patches[1].raw, "base-commit:"));

	for (int i = 0; i < 2; i++) {
		msg_init(&m[i]);
		assert_int_equal(msg_parse(&m[i], s.patches[i].raw,
					   s.patches[i].len, NULL), 0);
		assert_true(m[i].has_diff);
		assert_true(m[i].has_diffstat);
		assert_int_equal(m[i].subj.counter, i + 1);
		assert_int_equal(m[i].subj.expected, 2);
		assert_string_equal(m[i].msgid, s.patches[i].msgid);
		texts[i] = m[i].body;
		lens[i] = m[i].body_len;
	}
	assert_string_equal(m[1].in_reply_to, s.patches[0].msgid);
	assert_string_equal(m[0].base_commit, s.base);
	assert_string_equal(m[1].subj.title, "io_uring: add new.c");

	/* the messages applied to the base give the tip's tree */
	assert_int_equal(apply_series(&res, fx->repo, &fx->c[0], texts, lens,
				      2, NULL, &err), 0);
	assert_false(res.failed);
	assert_int_equal(git_commit_lookup(&tip, fx->repo, &fx->c[3]), 0);
	assert_true(git_oid_equal(&res.trees[2], git_commit_tree_id(tip)));

	/* the same range gives the same bytes */
	assert_int_equal(fromgit_range(&again, fx->repo,
				       "master~3..master", &err), 0);
	assert_int_equal(again.nr, 2);
	assert_int_equal(again.patches[1].len, s.patches[1].len);
	assert_memory_equal(again.patches[1].raw, s.patches[1].raw,
			    s.patches[1].len);

	git_commit_free(tip);
	msg_release(&m[0]);
	msg_release(&m[1]);
	apply_result_release(&res);
	fromgit_series_release(&s);
	fromgit_series_release(&again);
	strbuf_release(&err);
	strbuf_release(&want);
}

static void test_single(void **state)
{
	struct fx *fx = *state;
	struct fromgit_series s = FROMGIT_SERIES_INIT;
	struct strbuf err = STRBUF_INIT;

	/* "A.." is "A..HEAD"; HEAD of a fresh repository is master */
	assert_int_equal(git_repository_set_head(fx->repo, "refs/heads/master"),
			 0);
	assert_int_equal(fromgit_range(&s, fx->repo, "master~1..", &err), 0);
	assert_int_equal(s.nr, 1);
	assert_non_null(strstr(s.patches[0].raw,
			       "\nSubject: [PATCH] io_uring: add new.c\n"));
	assert_non_null(strstr(s.patches[0].raw, "+int n\xc3\xa9w;\n"));
	assert_non_null(strstr(s.patches[0].raw, " create mode 100644 "
						 "io_uring/new.c\n"));
	fromgit_series_release(&s);
	strbuf_release(&err);
}

static void expect_error(struct fx *fx, const char *range, int code,
			 const char *msg)
{
	struct fromgit_series s = FROMGIT_SERIES_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(fromgit_range(&s, fx->repo, range, &err), code);
	assert_int_equal(s.nr, 0);
	if (!strstr(err.buf, msg))
		fail_msg("'%s': error '%s' lacks '%s'", range, err.buf, msg);
	strbuf_release(&err);
}

static void test_errors(void **state)
{
	struct fx *fx = *state;

	expect_error(fx, "master", -EINVAL, "not of the form");
	expect_error(fx, "master~1...master", -EINVAL, "not of the form");
	expect_error(fx, "a..b..c", -EINVAL, "not of the form");
	expect_error(fx, "nosuch..master", -ENOENT, "'nosuch' is not a commit");
	expect_error(fx, "master..master", -EINVAL, "no commits");
	expect_error(fx, "master~1..merged", -EINVAL, "is a merge");
	/* only the empty commit */
	expect_error(fx, "master~2..master~1", -EINVAL, "no commits");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date),
		cmocka_unit_test_setup_teardown(test_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	/* GMime cannot be initialised again after a shutdown */
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
