/*
 * Unit tests for the bug re-verifier (bugverify.h): reading a bug's
 * code from commits built with libgit2, comparing it, finding the
 * commit that changed it; the request and its fences; parsing the
 * verifier's answer; and what bugdb_record_verdict() does with it.
 * Asking a model end to end is t0601-bugs-reverify.sh.
 */
#include "testutil.h"

#include <git2.h>

#include "kreview/bugdb.h"
#include "kreview/bugverify.h"
#include "kreview/prompt.h"

#define SHIPPED KREVIEW_SRCDIR "/prompts"

/* ---- parsing the answer ---- */

static int parse(enum bugverify_verdict *v, struct strbuf *reason,
		 struct strbuf *err, const char *answer)
{
	strbuf_reset(reason);
	strbuf_reset(err);
	return bugverify_parse(v, reason, answer, strlen(answer), err);
}

static void test_parse(void **state)
{
	struct strbuf reason = STRBUF_INIT, err = STRBUF_INIT,
		      big = STRBUF_INIT;
	enum bugverify_verdict v;
	const char *tail;
	(void)state;

	assert_int_equal(parse(&v, &reason, &err,
			       "{\"verdict\": \"present\", \"reason\": "
			       "\"still there\"}"), 0);
	assert_int_equal(v, BUGVERIFY_PRESENT);
	assert_string_equal(reason.buf, "still there");

	/* prose and a code fence around it; one line, no control chars */
	assert_int_equal(parse(&v, &reason, &err,
			       "Here it is:\n```json\n{\"verdict\": \"gone\", "
			       "\"reason\": \"  kfree() added\\n\\tat line 3"
			       "\\u001b[31m \"}\n```\n"), 0);
	assert_int_equal(v, BUGVERIFY_GONE);
	assert_string_equal(reason.buf, "kfree() added at line 3 [31m");

	assert_int_equal(parse(&v, &reason, &err,
			       "{\"verdict\": \"unsure\", \"reason\": \"\"}"),
			 0);
	assert_int_equal(v, BUGVERIFY_UNSURE);
	assert_string_equal(reason.buf, "(no reason given)");

	assert_int_equal(parse(&v, &reason, &err,
			       "{\"verdict\": \"fixed\", \"reason\": \"x\"}"),
			 -EPROTO);
	assert_string_equal(err.buf,
			    "unknown verdict 'fixed' (present, gone or unsure)");
	assert_int_equal(parse(&v, &reason, &err, "{\"verdict\": \"gone\"}"),
			 -EPROTO);
	assert_string_equal(err.buf, "the answer has no \"reason\" string");
	assert_int_equal(parse(&v, &reason, &err,
			       "{\"verdict\": 1, \"reason\": \"x\"}"),
			 -EPROTO);
	assert_string_equal(err.buf, "the answer has no \"verdict\" string");
	assert_int_equal(parse(&v, &reason, &err, "I think it is gone."),
			 -EPROTO);
	assert_non_null(strstr(err.buf, "the answer is not JSON"));
	assert_int_equal(parse(&v, &reason, &err, "[1, 2]"), -EPROTO);
	assert_int_equal(reason.len, 0);

	/* a long reason is cut on a character boundary */
	strbuf_addstr(&big, "{\"verdict\": \"present\", \"reason\": \"x");
	for (int i = 0; i < 1000; i++)
		strbuf_addstr(&big, "\xc3\xa9");
	strbuf_addstr(&big, "\"}");
	assert_int_equal(parse(&v, &reason, &err, big.buf), 0);
	assert_true(reason.len <= BUGVERIFY_MAX_REASON + 3);
	tail = reason.buf + reason.len - 3;
	assert_string_equal(tail, "...");
	assert_int_equal((unsigned char)tail[-1], 0xa9);

	assert_string_equal(bugverify_verdict_name(BUGVERIFY_GONE), "gone");
	assert_non_null(strstr(bugverify_answer_schema(), "\"unsure\""));
	strbuf_release(&reason);
	strbuf_release(&err);
	strbuf_release(&big);
}

/* ---- the code ---- */

struct fx {
	char *dir;
	git_repository *repo;
	git_oid a, b, c, d;	/* commits, in order */
};

static const char net_a[] =
	"#include <x.h>\n"		/* 1 */
	"\n"
	"int f1(int *p)\n"		/* 3 */
	"{\n"
	"\treturn *p;\n"		/* 5 */
	"}\n"
	"\n"
	"static int f2(struct q *q)\n"	/* 8 */
	"{\n"
	"\treturn q->x / q->y;\n"	/* 10 */
	"}\n"
	"\n"
	"int user(int *p)\n"		/* 13 */
	"{\n"
	"\treturn helper(p);\n"		/* 15 */
	"}\n";

static const char net_b[] =
	"#include <x.h>\n"
	"\n"
	"int f1(int *p)\n"
	"{\n"
	"\tif (!p)\n"
	"\t\treturn 0;\n"
	"\treturn *p;\n"
	"}\n"
	"\n"
	"static int f2(struct q *q)\n"	/* 10: moved, unchanged */
	"{\n"
	"\treturn q->x / q->y;\n"
	"}\n"
	"\n"
	"int user(int *p)\n"
	"{\n"
	"\treturn helper(p);\n"
	"}\n";

static const char net_d[] =
	"#include <x.h>\n"
	"\n"
	"int f1(int *p)\n"
	"{\n"
	"\tif (p == NULL)\n"
	"\t\treturn 0;\n"
	"\treturn *p;\n"
	"}\n"
	"\n"
	"int user(int *p)\n"
	"{\n"
	"\treturn helper(p);\n"
	"}\n";

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	git_libgit2_init();
	fx->dir = test_mkdtemp();
	assert_int_equal(git_repository_init(&fx->repo, fx->dir, true), 0);
	test_git_commit(&fx->a, fx->repo, NULL, "net.c", net_a, "a\n", NULL);
	/* b: f1 gets a check; f2 moves down by two lines, unchanged */
	test_git_commit(&fx->b, fx->repo, &fx->a, "net.c", net_b, "b\n", NULL);
	/* c: another file only */
	test_git_commit(&fx->c, fx->repo, &fx->b, "notes.txt",
			"one\ntwo\nthe key line\nfour\n", "c\n", NULL);
	/* d: f1 changes again, f2 is removed */
	test_git_commit(&fx->d, fx->repo, &fx->c, "net.c", net_d, "d\n", NULL);
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

static void read_ok(struct bugverify_code *c, struct fx *fx,
		    const git_oid *at, const struct bugverify_place *pl)
{
	struct strbuf err = STRBUF_INIT;

	if (bugverify_read_code(c, fx->repo, at, pl, &err) < 0)
		fail_msg("read_code: %s", err.buf);
	strbuf_release(&err);
}

static void test_read_code(void **state)
{
	struct fx *fx = *state;
	struct bugverify_place f1 = { "net.c", "f1", 5, 5, "\treturn *p;" };
	struct bugverify_place f2 = { "net.c", "f2", 10, 10, NULL };
	struct bugverify_place helper = { "net.c", "helper", 0, 0,
					  "return helper(p);" };
	struct bugverify_place gone = { "old.c", "f1", 1, 1, NULL };
	struct bugverify_place scope = { "notes.txt", "", 0, 0,
					 "  the key line  \n" };
	struct bugverify_code c;
	struct strbuf err = STRBUF_INIT;
	git_oid bogus;

	bugverify_code_init(&c);
	read_ok(&c, fx, &fx->a, &f1);
	assert_int_equal(c.found, BUGVERIFY_FUNCTION);
	assert_int_equal(c.line, 3);
	assert_int_equal(c.end_line, 6);
	assert_string_equal(c.text.buf, "int f1(int *p)\n{\n\treturn *p;\n}\n");
	read_ok(&c, fx, &fx->b, &f2);
	assert_int_equal(c.found, BUGVERIFY_FUNCTION);
	assert_int_equal(c.line, 10);
	read_ok(&c, fx, &fx->d, &f2);
	assert_int_equal(c.found, BUGVERIFY_FUNCTION_GONE);
	assert_int_equal(c.text.len, 0);
	read_ok(&c, fx, &fx->a, &gone);
	assert_int_equal(c.found, BUGVERIFY_FILE_GONE);
	/* called but not defined here: the lines around the evidence */
	read_ok(&c, fx, &fx->a, &helper);
	assert_int_equal(c.found, BUGVERIFY_EXCERPT);
	assert_int_equal(c.line, 1);
	assert_int_equal(c.end_line, 16);
	/* file scope, another kind of file */
	read_ok(&c, fx, &fx->c, &scope);
	assert_int_equal(c.found, BUGVERIFY_EXCERPT);
	assert_int_equal(c.line, 1);
	assert_int_equal(c.end_line, 4);
	assert_true(bugverify_evidence_holds(&scope, &c));
	assert_false(bugverify_evidence_holds(&f2, &c));

	memset(&bogus, 0x42, sizeof(bogus));
	assert_int_equal(bugverify_read_code(&c, fx->repo, &bogus, &f1, &err),
			 -ENOENT);
	assert_non_null(strstr(err.buf, "no commit 4242"));
	bugverify_code_release(&c);
	strbuf_release(&err);
}

static void test_unchanged(void **state)
{
	struct fx *fx = *state;
	struct bugverify_place f1 = { "net.c", "f1", 5, 5, NULL };
	struct bugverify_place f2 = { "net.c", "f2", 10, 10, NULL };
	struct strbuf err = STRBUF_INIT;
	struct bugverify_code c;
	char a[41], out[41];

	git_oid_tostr(a, sizeof(a), &fx->a);
	bugverify_code_init(&c);
	read_ok(&c, fx, &fx->c, &f2);
	/* moved down by two lines, same text */
	assert_int_equal(bugverify_unchanged(fx->repo, a, &f2, &c, &err), 1);
	read_ok(&c, fx, &fx->c, &f1);
	assert_int_equal(bugverify_unchanged(fx->repo, a, &f1, &c, &err), 0);
	assert_int_equal(bugverify_unchanged(fx->repo, NULL, &f1, &c, &err),
			 -ENOENT);
	assert_int_equal(bugverify_unchanged(fx->repo, "no-such-rev", &f1, &c,
					     &err), -ENOENT);
	/* a short id names the commit too */
	a[12] = '\0';
	assert_int_equal(bugverify_unchanged(fx->repo, a, &f2, &c, &err), 0);
	git_oid_tostr(a, sizeof(a), &fx->a);

	/* the oldest change after the base; without one, the newest */
	assert_int_equal(bugverify_changed_in(out, fx->repo, a, &fx->d, &f1,
					      &err), 0);
	assert_true(git_oid_streq(&fx->b, out) == 0);
	assert_int_equal(bugverify_changed_in(out, fx->repo, NULL, &fx->d, &f1,
					      &err), 0);
	assert_true(git_oid_streq(&fx->d, out) == 0);
	/* f2 went away in d */
	assert_int_equal(bugverify_changed_in(out, fx->repo, a, &fx->d, &f2,
					      &err), 0);
	assert_true(git_oid_streq(&fx->d, out) == 0);
	/* nothing changed between c and c: the revision itself */
	git_oid_tostr(a, sizeof(a), &fx->c);
	assert_int_equal(bugverify_changed_in(out, fx->repo, a, &fx->c, &f1,
					      &err), 0);
	assert_true(git_oid_streq(&fx->c, out) == 0);
	bugverify_code_release(&c);
	strbuf_release(&err);
}

/* ---- the request ---- */

static void test_request(void **state)
{
	struct prompt_set *set = NULL;
	struct strbuf err = STRBUF_INIT, user = STRBUF_INIT;
	struct llm_request req = LLM_REQUEST_INIT;
	struct bugverify_bug b = {
		"NET-12345678", "p may be NULL", "null-deref", "high",
		"callers pass NULL",
		{ "net.c", "f1", 5, 5, "\treturn *p;" },
	};
	struct bugverify_code c;
	const struct prompt *p;
	char token[PROMPT_FENCE_TOKEN_LEN + 1];
	(void)state;

	assert_int_equal(prompt_set_load(&set, SHIPPED, &err), 0);
	p = prompt_set_role(set, PROMPT_BUGVERIFY);
	assert_non_null(p);
	assert_non_null(strstr(p->body, "\"present\", \"gone\" or"));
	assert_non_null(strstr(p->body, "[untrusted TOKEN begin KIND]"));
	assert_int_equal(prompt_fence_token(token), 0);
	bugverify_code_init(&c);
	c.found = BUGVERIFY_FUNCTION;
	c.line = 3;
	c.end_line = 8;
	strbuf_addstr(&c.text, "int f1(int *p)\n{\n\tif (!p)\n\t\treturn 0;\n"
			       "\treturn *p;\n}\n");
	assert_int_equal(bugverify_request(&req, p, &b, &c, token), 0);
	assert_int_equal(req.nr_system, 1);
	assert_int_equal(strlen(req.system[0]), p->body_len);
	assert_string_equal(req.schema, bugverify_answer_schema());
	assert_int_equal(req.nr_turns, 1);
	llm_turn_text(&user, &req.turns[0]);
	assert_non_null(strstr(user.buf, "Fence token for this request: "));
	assert_non_null(strstr(user.buf, "begin bug-record]\nid: NET-12345678\n"
					 "title: p may be NULL\n"));
	assert_non_null(strstr(user.buf, "begin evidence]\n\treturn *p;\n"));
	assert_non_null(strstr(user.buf, "begin current-code]\nnet.c, lines "
					 "3-8\n     3  int f1(int *p)\n"));
	assert_non_null(strstr(user.buf, "     7  \treturn *p;\n"
					 "     8  }\n[untrusted "));
	assert_null(strstr(user.buf, "cut after"));
	assert_true(bugverify_estimate_tokens(&req) >
		    (p->body_len + user.len) / 4 - 2);
	llm_request_release(&req);

	/* material that holds the token cannot be fenced with it */
	b.place.evidence = token;
	assert_int_equal(bugverify_request(&req, p, &b, &c, token), -EEXIST);
	assert_int_equal(req.nr_system, 0);
	b.place.evidence = NULL;

	/* a huge function is cut, and the request says so */
	strbuf_reset(&c.text);
	for (int i = 0; i < 2000; i++)
		strbuf_addstr(&c.text, "\tx = y + z; /* some filler text */\n");
	c.end_line = c.line + 1999;
	assert_int_equal(bugverify_request(&req, p, &b, &c, token), 0);
	strbuf_reset(&user);
	llm_turn_text(&user, &req.turns[0]);
	assert_non_null(strstr(user.buf, "(The code was cut after line "));
	assert_non_null(strstr(user.buf, "it goes on to line 2002.)"));
	assert_true(user.len < BUGVERIFY_MAX_CODE * 2);
	llm_request_release(&req);
	prompt_set_free(set);

	/* a set without bugverify.md still loads; it cannot re-verify */
	strbuf_reset(&err);
	assert_int_equal(prompt_set_load(&set, KREVIEW_TEST_DATA
					 "/review/prompts", &err), 0);
	assert_null(prompt_set_role(set, PROMPT_BUGVERIFY));
	prompt_set_free(set);
	bugverify_code_release(&c);
	strbuf_release(&err);
	strbuf_release(&user);
}

/* ---- recording a verdict ---- */

static void admit(char id[BUGDB_ID_MAX], struct bugdb *db, const char *title)
{
	struct bugdb_finding f = {
		.fingerprint = title, .title = title, .file = "net.c",
		.function = "f1", .category = "null-deref",
		.evidence = "return *p;", .severity = SEV_HIGH,
		.confidence = 0.8, .line = 5, .end_line = 5, .support = 2,
		.runs = 2, .pre_existing = true,
		.code_commit = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	enum bugdb_admission what;
	struct strbuf err = STRBUF_INIT;

	if (bugdb_admit(&what, id, db, &f, NULL, &err) < 0)
		fail_msg("admit: %s", err.buf);
	assert_int_equal(what, BUGDB_NEW);
	strbuf_release(&err);
}

static void test_record_verdict(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	const char *rev = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	struct bugdb_recheck v = { .commit = rev };
	char p[BUGDB_ID_MAX], k[BUGDB_ID_MAX], u[BUGDB_ID_MAX], s[BUGDB_ID_MAX];
	struct bugdb_detail d;
	struct bugdb_bug b;
	struct bugdb *db = NULL;
	bool known = true;
	(void)state;

	bugdb_path(&path, dir, "NET");
	assert_int_equal(bugdb_open(&db, path.buf, "NET", &err), 0);
	admit(p, db, "present one");
	admit(k, db, "gone with a fix");
	admit(u, db, "gone without a fix");
	admit(s, db, "unsure one");
	assert_int_equal(bugdb_verified(db, p, "cccc", true, &err), 0);
	assert_int_equal(bugdb_fix(db, k, "net: fix it", "maint", NULL, &err),
			 0);

	/* present: stale cleared, code_ref and last_verified move */
	v.verdict = BUGDB_VERDICT_PRESENT;
	v.line = 7;
	v.end_line = 12;
	v.reason = "still there";
	assert_int_equal(bugdb_record_verdict(NULL, db, p, &v, &err), 0);
	bugdb_bug_init(&b);
	assert_int_equal(bugdb_get(&b, db, p, &err), 0);
	assert_false(b.stale);
	assert_int_equal(b.status, BUGDB_OPEN);
	assert_string_equal(b.code_commit, rev);
	assert_string_equal(b.last_verified_commit, rev);
	assert_int_equal(b.line, 7);
	assert_int_equal(b.end_line, 12);
	assert_true(b.last_verified_ms > 0);
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_get_detail(&d, db, p, &err), 0);
	assert_string_equal(d.events[d.events_nr - 1].kind, "verified");
	assert_string_equal(d.events[d.events_nr - 1].reason, "still there");
	bugdb_detail_release(&d);

	/* gone with a recorded fix: fixed by it */
	v.verdict = BUGDB_VERDICT_GONE;
	v.changed_in = "dddddddddddddddddddddddddddddddddddddddd";
	v.reason = "fixed";
	assert_int_equal(bugdb_record_verdict(&known, db, k, &v, &err), 0);
	assert_true(known);
	bugdb_bug_init(&b);
	assert_int_equal(bugdb_get(&b, db, k, &err), 0);
	assert_int_equal(b.status, BUGDB_FIXED);
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_get_detail(&d, db, k, &err), 0);
	assert_int_equal(d.fixes_nr, 1);
	assert_string_equal(d.fixes[0].commit, "net: fix it");
	bugdb_detail_release(&d);

	/* gone, no fix known: an unknown fix naming the change */
	assert_int_equal(bugdb_record_verdict(&known, db, u, &v, &err), 0);
	assert_false(known);
	assert_int_equal(bugdb_get_detail(&d, db, u, &err), 0);
	assert_int_equal(d.fixes_nr, 1);
	assert_string_equal(d.fixes[0].commit,
			    "unknown (code changed in dddddddddddd)");
	assert_string_equal(d.events[d.events_nr - 2].kind, "fix");
	assert_string_equal(d.events[d.events_nr - 1].new, "fixed");
	assert_non_null(strstr(d.events[d.events_nr - 1].reason,
			       "the verifier found it gone at bbbbbbbbbbbb: "
			       "fixed"));
	bugdb_detail_release(&d);

	/* unsure: stale with the reason, last_verified stays */
	v.verdict = BUGDB_VERDICT_UNSURE;
	v.reason = "cannot see the callee";
	assert_int_equal(bugdb_record_verdict(NULL, db, s, &v, &err), 0);
	bugdb_bug_init(&b);
	assert_int_equal(bugdb_get(&b, db, s, &err), 0);
	assert_true(b.stale);
	assert_int_equal(b.status, BUGDB_OPEN);
	assert_null(b.last_verified_commit);
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_get_detail(&d, db, s, &err), 0);
	assert_string_equal(d.events[d.events_nr - 1].kind, "stale");
	assert_string_equal(d.events[d.events_nr - 1].reason,
			    "the verifier is unsure: cannot see the callee");
	bugdb_detail_release(&d);

	/* a fixed bug is not re-verified */
	strbuf_reset(&err);
	assert_int_equal(bugdb_record_verdict(NULL, db, u, &v, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "is fixed: only open, confirmed or "
					"fix-pending bugs are re-verified"));
	bugdb_close(db);
	test_rmtree(dir);
	free(dir);
	strbuf_release(&path);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_read_code, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unchanged, setup,
						teardown),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_record_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
