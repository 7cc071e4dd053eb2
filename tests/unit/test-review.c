#include "testutil.h"

#include "kreview/prompt.h"
#include "kreview/review.h"

#include <git2.h>

static const char *diff1 =
	"diff --git a/net.c b/net.c\n"
	"--- a/net.c\n"
	"+++ b/net.c\n"
	"@@ -1,3 +1,4 @@\n"
	" int a;\n"
	"+char *buf = kmalloc(16, GFP_KERNEL);\n"
	" int b;\n"
	" int c;\n";

static void make_series(struct review_series *s, struct prompt_set **ps,
			struct review_opts *o)
{
	struct strbuf err = STRBUF_INIT;

	review_series_init(s);
	assert_int_equal(review_series_add(s, "net: one", "msg one", diff1,
					   strlen(diff1), NULL, &err), 0);
	assert_int_equal(review_series_add(s, "net: two", "msg two", diff1,
					   strlen(diff1), NULL, &err), 0);
	s->cover = xstrdup("a cover letter of some length\n");
	s->patches[0].context = xmalloc(40001);
	memset(s->patches[0].context, 'x', 40000);
	s->patches[0].context[40000] = '\0';
	s->patches[1].context = xstrdup("small context\n");
	s->patches[0].rules = xstrdup("rules\n");
	assert_int_equal(prompt_set_load(ps, KREVIEW_TEST_DATA "/review/prompts",
					 &err), 0);
	o->prompts = *ps;
	o->runs = 3;
	o->profile = PROMPT_PROFILE_STANDARD;
	strbuf_release(&err);
}

static void test_no_budget(void **state)
{
	struct review_opts o = REVIEW_OPTS_INIT;
	struct review_series s;
	struct prompt_set *ps;
	struct strbuf notes = STRBUF_INIT;

	(void)state;
	make_series(&s, &ps, &o);
	assert_int_equal(review_fit_budget(&s, &o, 0, &notes), 0);
	assert_int_equal(notes.len, 0);
	assert_non_null(s.patches[0].context);
	review_series_release(&s);
	prompt_set_free(ps);
	strbuf_release(&notes);
}

static void test_order(void **state)
{
	struct review_opts o = REVIEW_OPTS_INIT;
	struct review_series s;
	struct prompt_set *ps;
	struct strbuf notes = STRBUF_INIT;
	uint64_t full, no_ctx;

	(void)state;
	make_series(&s, &ps, &o);
	full = review_estimate_tokens(&s, &o);
	/* both stages apply (kmalloc triggers resources): 2 patches x 2
	 * stages x 3 passes, each carrying the big context once */
	assert_true(full > 2 * 3 * 10000);

	/* a budget just under the full estimate: only the biggest context goes */
	assert_int_equal(review_fit_budget(&s, &o, full - 1, &notes), 0);
	assert_null(s.patches[0].context);
	assert_non_null(s.patches[1].context);
	assert_non_null(s.cover);
	assert_non_null(strstr(notes.buf, "dropped the code context of patch 1"));
	no_ctx = review_estimate_tokens(&s, &o);
	assert_true(no_ctx < full);

	/* a tiny budget: everything goes, in the documented order */
	strbuf_reset(&notes);
	assert_int_equal(review_fit_budget(&s, &o, 10, &notes), -E2BIG);
	{
		const char *order[] = {
			"dropped the code context of patch 2",
			"dropped the subsystem rules",
			"dropped the cover letter",
			"2 passes instead of 3",
			"1 pass instead of 2",
			"the smallest review still needs",
		};
		const char *at = notes.buf;

		for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
			const char *hit = strstr(at, order[i]);

			if (!hit)
				fail_msg("'%s' missing or out of order in:\n%s",
					 order[i], notes.buf);
			at = hit;
		}
	}
	/* flow and resources are never skipped */
	assert_int_equal(o.skip_stages, 0);
	assert_int_equal(o.runs, 1);
	review_series_release(&s);
	prompt_set_free(ps);
	strbuf_release(&notes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_budget),
		cmocka_unit_test(test_order),
	};
	int r;

	git_libgit2_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return r;
}
