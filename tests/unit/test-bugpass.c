/*
 * Unit tests for the re-verification pass (bugpass.h): pending pokes
 * (bugdb_poked(), bugdb_pokes_since()), the work list and its order,
 * the budget of questions, the stop flag, a verifier that cannot be set
 * up, and the pass record in the main database.  Asking a model end to
 * end is t0601 (the CLI) and t0603 (the daemon).
 */
#include "testutil.h"

#include <git2.h>

#include "kreview/bugdb.h"
#include "kreview/bugpass.h"
#include "kreview/db.h"
#include "kreview/prompt.h"

#define SHIPPED KREVIEW_SRCDIR "/prompts"
#define T0 1700000000000LL

struct fx {
	char *dir;
	git_repository *repo;
	git_oid a, b;		/* b changes f1..f4, keeps f5, drops f6 */
	struct bugdb_set set;
	struct bugdb *db;
	char id[7][BUGDB_ID_MAX];	/* the bugs of f1..f6, and a fixed one */
	char hex_a[41];
};

static const char net_a[] =
	"int f1(int *p)\n{\n\treturn *p;\n}\n\n"
	"int f2(int *p)\n{\n\treturn *p;\n}\n\n"
	"int f3(int *p)\n{\n\treturn *p;\n}\n\n"
	"int f4(int *p)\n{\n\treturn *p;\n}\n\n"
	"int f5(int *p)\n{\n\treturn *p;\n}\n\n"
	"int f6(int *p)\n{\n\treturn *p;\n}\n";

static const char net_b[] =
	"int f1(int *p)\n{\n\treturn p ? *p : 0;\n}\n\n"
	"int f2(int *p)\n{\n\treturn p ? *p : 0;\n}\n\n"
	"int f3(int *p)\n{\n\treturn p ? *p : 0;\n}\n\n"
	"int f4(int *p)\n{\n\treturn p ? *p : 0;\n}\n\n"
	"int f5(int *p)\n{\n\treturn *p;\n}\n";

static void admit(char id[BUGDB_ID_MAX], struct bugdb *db, const char *fn,
		  const char *commit)
{
	struct bugdb_finding f = {
		.fingerprint = fn, .title = fn, .file = "net.c",
		.function = fn, .category = "null-deref",
		.evidence = "\treturn *p;", .severity = SEV_HIGH,
		.confidence = 0.8, .line = 3, .end_line = 3, .support = 2,
		.runs = 2, .pre_existing = true, .code_commit = commit,
	};
	enum bugdb_admission what;
	struct strbuf err = STRBUF_INIT;

	if (bugdb_admit(&what, id, db, &f, NULL, &err) < 0)
		fail_msg("admit: %s", err.buf);
	assert_int_equal(what, BUGDB_NEW);
	strbuf_release(&err);
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	static const char *const fns[] = { "f1", "f2", "f3", "f4", "f5",
					   "f6", "f7" };

	git_libgit2_init();
	fx->dir = test_mkdtemp();
	strbuf_addf(&path, "%s/repo", fx->dir);
	assert_int_equal(git_repository_init(&fx->repo, path.buf, true), 0);
	test_git_commit(&fx->a, fx->repo, NULL, "net.c", net_a, "a\n", NULL);
	test_git_commit(&fx->b, fx->repo, &fx->a, "net.c", net_b, "b\n", NULL);
	git_oid_tostr(fx->hex_a, sizeof(fx->hex_a), &fx->a);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/bugs/net.db", fx->dir);
	assert_int_equal(bugdb_open(&fx->db, path.buf, "NET", &err), 0);
	/* admitted a minute apart: f1 the oldest */
	for (int i = 0; i < 7; i++) {
		bugdb_set_clock(fx->db, T0 + i * 60000);
		admit(fx->id[i], fx->db, fns[i], fx->hex_a);
	}
	bugdb_set_clock(fx->db, T0 + 3600000);
	assert_int_equal(bugdb_set_status(fx->db, fx->id[6], BUGDB_INVALID,
					  "m@x", NULL, NULL, &err), 0);
	bugdb_close(fx->db);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/bugs", fx->dir);
	assert_int_equal(bugdb_set_open(&fx->set, path.buf, &err), 0);
	assert_int_equal(fx->set.nr, 1);
	fx->db = fx->set.v[0];
	strbuf_release(&path);
	strbuf_release(&err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	bugdb_set_release(&fx->set);
	git_repository_free(fx->repo);
	git_libgit2_shutdown();
	test_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* ---- pending pokes and the order ---- */

static void test_order(void **state)
{
	struct fx *fx = *state;
	struct bugpass_list l = BUGPASS_LIST_INIT;
	struct bugdb_recheck unsure = { .verdict = BUGDB_VERDICT_UNSURE,
					.commit = "c", .reason = "hm" };
	struct strbuf err = STRBUF_INIT;
	size_t n = 9;

	/* f5 re-verified long after it was recorded: last in line */
	bugdb_set_clock(fx->db, T0 + 7200000);
	assert_int_equal(bugdb_verified(fx->db, fx->id[4], "c", false, &err),
			 0);
	/* f4: the verifier was unsure (stale, no poke) */
	assert_int_equal(bugdb_record_verdict(NULL, fx->db, fx->id[3], &unsure,
					      &err), 0);
	/* f3: poked, then the verifier was unsure: the poke was answered */
	assert_int_equal(bugdb_poke(fx->db, fx->id[2], "m@x", NULL, &err), 0);
	assert_int_equal(bugdb_record_verdict(NULL, fx->db, fx->id[2], &unsure,
					      &err), 0);
	/* f2 and f6: poked, f2 later */
	bugdb_set_clock(fx->db, T0 + 7300000);
	assert_int_equal(bugdb_poke(fx->db, fx->id[5], "m@x", NULL, &err), 0);
	bugdb_set_clock(fx->db, T0 + 7400000);
	assert_int_equal(bugdb_poke(fx->db, fx->id[1], "m@x", NULL, &err), 0);

	assert_int_equal(bugdb_poked(fx->db, fx->id[1], &err), 1);
	assert_int_equal(bugdb_poked(fx->db, fx->id[5], &err), 1);
	assert_int_equal(bugdb_poked(fx->db, fx->id[2], &err), 0);
	assert_int_equal(bugdb_poked(fx->db, fx->id[3], &err), 0);
	assert_int_equal(bugdb_poked(fx->db, fx->id[0], &err), 0);
	assert_int_equal(bugdb_poked(fx->db, "NET-00000000", &err), 0);
	assert_int_equal(bugdb_pokes_since(&n, fx->db, 0, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(bugdb_pokes_since(&n, fx->db, T0 + 7350000, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bugdb_pokes_since(&n, fx->db, T0 + 7400001, &err), 0);
	assert_int_equal(n, 0);

	assert_int_equal(bugpass_list_all(&l, &fx->set, &err), 0);
	assert_int_equal(l.nr, 6);	/* not the invalid one */
	bugpass_list_sort(&l);
	/* pending pokes first, f2 before f6 (recorded earlier) */
	assert_string_equal(l.v[0].bug.id, fx->id[1]);
	assert_true(l.v[0].poked);
	assert_string_equal(l.v[1].bug.id, fx->id[5]);
	assert_true(l.v[1].poked);
	/* then stale: f3 and f4, the older first */
	assert_string_equal(l.v[2].bug.id, fx->id[2]);
	assert_false(l.v[2].poked);
	assert_string_equal(l.v[3].bug.id, fx->id[3]);
	/* then the least recently verified: f1 (recorded), f5 (re-verified) */
	assert_string_equal(l.v[4].bug.id, fx->id[0]);
	assert_string_equal(l.v[5].bug.id, fx->id[4]);
	bugpass_list_release(&l);

	/* the IDs named: once each, in any case; others refused */
	assert_int_equal(bugpass_list_add(&l, &fx->set, fx->id[0], &err), 0);
	assert_int_equal(bugpass_list_add(&l, &fx->set, fx->id[0], &err), 0);
	assert_int_equal(bugpass_list_add(&l, &fx->set, fx->id[1], &err), 0);
	assert_int_equal(l.nr, 2);
	assert_true(l.v[1].poked);
	assert_int_equal(bugpass_list_add(&l, &fx->set, "NET-00000000", &err),
			 -ENOENT);
	assert_int_equal(err.len, 0);
	assert_int_equal(bugpass_list_add(&l, &fx->set, fx->id[6], &err),
			 -EINVAL);
	assert_non_null(strstr(err.buf, " is invalid: only open, confirmed "
					"and fix-pending bugs are re-verified"));
	assert_int_equal(l.nr, 2);
	bugpass_list_release(&l);
	strbuf_release(&err);
}

/* ---- the pass ---- */

struct said {
	struct strbuf out, problems;
	struct prompt_set *prompts;
	struct bugverify_opts vo;
	int setups;
	bool fail_setup;
};

static void say(void *ctx, bool problem, const char *line)
{
	struct said *s = ctx;

	strbuf_addf(problem ? &s->problems : &s->out, "%s\n", line);
}

static int verifier(const struct bugverify_opts **out, void *ctx)
{
	struct said *s = ctx;
	struct strbuf err = STRBUF_INIT;

	s->setups++;
	if (s->fail_setup)
		return -1;
	prompt_set_free(s->prompts);
	if (prompt_set_load(&s->prompts, SHIPPED, &err) < 0)
		fail_msg("prompts: %s", err.buf);
	s->vo.prompt = prompt_set_role(s->prompts, PROMPT_BUGVERIFY);
	s->vo.endpoint = "cheap";
	*out = &s->vo;
	strbuf_release(&err);
	return 0;
}

static void said_release(struct said *s)
{
	strbuf_release(&s->out);
	strbuf_release(&s->problems);
	prompt_set_free(s->prompts);
}

static void test_budget(void **state)
{
	struct fx *fx = *state;
	struct bugpass_list l = BUGPASS_LIST_INIT;
	struct bugpass_opts o = { 0 };
	struct bugpass_counts c;
	struct said s = { STRBUF_INIT, STRBUF_INIT };
	struct strbuf err = STRBUF_INIT;
	atomic_bool stop;

	assert_int_equal(bugdb_poke(fx->db, fx->id[3], "m@x", NULL, &err), 0);
	assert_int_equal(bugpass_list_all(&l, &fx->set, &err), 0);
	bugpass_list_sort(&l);
	o.repo = fx->repo;
	o.commit = &fx->b;
	o.dry_run = true;
	o.max_asks = 2;
	o.verifier = verifier;
	o.say = say;
	o.ctx = &s;
	bugpass_run(&c, &l, &o);
	/*
	 * f1..f4 changed and need the verifier: the poked f4 goes first,
	 * two are asked, two wait; f5 is unchanged, f6 gone
	 */
	assert_int_equal(c.bugs, 6);
	assert_int_equal(c.asked, 2);
	assert_int_equal(c.deferred, 2);
	assert_int_equal(c.unchanged, 1);
	assert_int_equal(c.still, 1);
	assert_int_equal(c.obsolete, 1);
	assert_int_equal(c.errors, 0);
	assert_true(c.would_tokens > 0);
	assert_int_equal(s.setups, 1);
	assert_true(strncmp(s.out.buf, fx->id[3], strlen(fx->id[3])) == 0);
	assert_non_null(strstr(s.out.buf, " would ask 'cheap' whether \"f4\""));
	assert_non_null(strstr(s.out.buf, " would be left as it was: the "
					  "pass's budget of verifier requests "
					  "is spent\n"));
	assert_non_null(strstr(s.out.buf, " would be obsolete: f6() is gone "));
	strbuf_reset(&err);
	bugpass_summary(&err, &c, true);
	assert_non_null(strstr(err.buf, "1 unchanged, 1 obsolete, 2 to ask the "
					"verifier (about "));
	assert_non_null(strstr(err.buf, "0 errors, 2 would be left for a later "
					"pass; nothing was changed or sent"));
	/* a dry run changes nothing */
	assert_int_equal(bugdb_poked(fx->db, fx->id[3], &err), 1);

	/* no limit: all four */
	o.max_asks = 0;
	bugpass_run(&c, &l, &o);
	assert_int_equal(c.asked, 4);
	assert_int_equal(c.deferred, 0);

	/* stopped before it began */
	atomic_init(&stop, true);
	o.stop = &stop;
	strbuf_reset(&s.problems);
	bugpass_run(&c, &l, &o);
	assert_true(c.stopped);
	assert_int_equal(c.bugs, 0);
	assert_int_equal(c.deferred, 6);
	assert_string_equal(s.problems.buf,
			    "stopped: 6 bugs left for the next pass\n");
	o.stop = NULL;

	/* no verifier: those that need one are errors, left as they were */
	said_release(&s);
	memset(&s, 0, sizeof(s));
	strbuf_init(&s.out, 0);
	strbuf_init(&s.problems, 0);
	s.fail_setup = true;
	o.dry_run = false;
	bugpass_run(&c, &l, &o);
	assert_int_equal(s.setups, 1);
	assert_int_equal(c.errors, 4);
	assert_int_equal(c.asked, 0);
	assert_int_equal(c.obsolete, 1);
	assert_non_null(strstr(s.out.buf, " left as it was: the verifier is not "
					  "available\n"));
	assert_int_equal(bugdb_poked(fx->db, fx->id[3], &err), 1);
	strbuf_reset(&err);
	bugpass_summary(&err, &c, false);
	assert_non_null(strstr(err.buf, ": 1 still present, 1 obsolete, 0 "
					"stale, 0 fixed, 4 errors (1 unchanged, "
					"0 asked the verifier, 0 answered from "
					"the cache); 0 tokens in, 0 out, $0.0000"));
	assert_null(strstr(err.buf, "later"));
	said_release(&s);
	bugpass_list_release(&l);
	strbuf_release(&err);
}

/* A bug triaged while the pass runs is passed over. */
static void test_reload(void **state)
{
	struct fx *fx = *state;
	struct bugpass_list l = BUGPASS_LIST_INIT;
	struct bugpass_opts o = { 0 };
	struct bugpass_counts c;
	struct said s = { STRBUF_INIT, STRBUF_INIT };
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(bugpass_list_add(&l, &fx->set, fx->id[4], &err), 0);
	assert_int_equal(bugdb_set_status(fx->db, fx->id[4], BUGDB_WONTFIX,
					  "m@x", NULL, NULL, &err), 0);
	o.repo = fx->repo;
	o.commit = &fx->b;
	o.verifier = verifier;
	o.say = say;
	o.ctx = &s;
	bugpass_run(&c, &l, &o);
	assert_int_equal(c.bugs, 0);
	assert_int_equal(c.errors, 0);
	assert_non_null(strstr(s.out.buf, " is wontfix now: passed over\n"));
	said_release(&s);
	bugpass_list_release(&l);
	strbuf_release(&err);
}

/* ---- the pass record ---- */

static void test_record(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct bugpass_counts c = { .bugs = 7, .asked = 3, .cached = 1,
				    .still = 4, .obsolete = 1, .stale = 1,
				    .fixed = 1, .deferred = 2, .errors = 0,
				    .usage = { .in_uncached = 100,
					       .cache_read = 20, .out = 5 },
				    .cost = 0.25, .commit = "abc" };
	struct bugpass_record rec = { 0 };
	struct db *db = NULL;
	int64_t id1 = 0, id2 = 0;
	(void)state;

	strbuf_addf(&path, "%s/kreview.db", dir);
	assert_int_equal(db_open(&db, path.buf, &err), 0);
	assert_int_equal(bugpass_record_last(&rec, db, &err), 0);
	assert_int_equal(bugpass_record_start(&id1, db, T0, "interval", &err),
			 0);
	assert_int_equal(bugpass_record_start(&id2, db, T0 + 5, "poke", &err),
			 0);
	/* the newest, not yet finished */
	assert_int_equal(bugpass_record_last(&rec, db, &err), 1);
	assert_int_equal(rec.id, id2);
	assert_int_equal(rec.started_ms, T0 + 5);
	assert_int_equal(rec.finished_ms, 0);
	assert_string_equal(rec.cause, "poke");
	assert_null(rec.commit);
	assert_int_equal(bugpass_record_finish(db, id2, T0 + 9, &c, &err), 0);
	assert_int_equal(bugpass_record_last(&rec, db, &err), 1);
	assert_int_equal(rec.finished_ms, T0 + 9);
	assert_string_equal(rec.commit, "abc");
	assert_int_equal(rec.bugs, 7);
	assert_int_equal(rec.asked, 3);
	assert_int_equal(rec.cached, 1);
	assert_int_equal(rec.still, 4);
	assert_int_equal(rec.deferred, 2);
	assert_int_equal(rec.tokens, 125);
	assert_true(rec.cost > 0.24 && rec.cost < 0.26);
	bugpass_record_release(&rec);
	db_close(db);
	test_rmtree(dir);
	free(dir);
	strbuf_release(&path);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test(test_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
