/* Unit tests for the #kreview mail commands (bugcmd.h). */
#include "testutil.h"

#include "kreview/bugcmd.h"
#include "kreview/bugdb.h"
#include "kreview/maint.h"
#include "kreview/msg.h"

#include <gmime/gmime.h>

#define T0 1717000000000LL

static void parse(struct bugcmd_list *l, const char *body)
{
	bugcmd_list_release(l);
	bugcmd_parse(l, body, strlen(body));
}

static void test_parse(void **state)
{
	struct bugcmd_list l = BUGCMD_LIST_INIT;

	(void)state;
	parse(&l, "Hi,\n\n"
		  "> #kreview invalid quoted, ignored\n"
		  "#kreview <3> invalid false alarm, the lock is held\n"
		  "#kreview <5> set prio: high\n"
		  "#kreview IOU-3f2a1c9d dup: IOU-0badc0de\r\n"
		  "#kreview <12> fix: abcdef123456 (\"io_uring: fix\")\n"
		  "#kreview\twontfix\n"
		  "#kreviewer invalid\n"
		  "  #kreview invalid indented\n"
		  "#kreview <1> add-subsystem: NETWORKING [GENERAL]\n"
		  "#kreview help\n"
		  "#kreview <2> SET No-Reminders\n"
		  "#kreview <2> unset no-reminders\n"
		  "#kreview <2> poke\n"
		  "#kreview <2> move: NETWORKING [GENERAL]\n"
		  "#kreview <2> uncc\n"
		  "-- \n"
		  "#kreview invalid after the signature\n");
	assert_int_equal(l.nr, 12);
	assert_int_equal(l.v[0].ref, 3);
	assert_int_equal(l.v[0].verb, BUGCMD_INVALID);
	assert_string_equal(l.v[0].arg, "false alarm, the lock is held");
	assert_int_equal(l.v[0].line, 4);
	assert_null(l.v[0].error);
	assert_int_equal(l.v[1].verb, BUGCMD_SET_PRIO);
	assert_string_equal(l.v[1].arg, "high");
	assert_string_equal(l.v[2].bug_id, "IOU-3f2a1c9d");
	assert_int_equal(l.v[2].verb, BUGCMD_DUP);
	assert_string_equal(l.v[2].arg, "IOU-0badc0de");
	assert_string_equal(l.v[2].raw,
			    "#kreview IOU-3f2a1c9d dup: IOU-0badc0de");
	assert_int_equal(l.v[3].ref, 12);
	assert_string_equal(l.v[3].arg, "abcdef123456 (\"io_uring: fix\")");
	assert_int_equal(l.v[4].verb, BUGCMD_WONTFIX);
	assert_null(l.v[4].arg);
	assert_int_equal(l.v[5].verb, BUGCMD_ADD_SUBSYSTEM);
	assert_string_equal(l.v[5].arg, "NETWORKING [GENERAL]");
	assert_int_equal(l.v[6].verb, BUGCMD_HELP);
	assert_int_equal(l.v[7].verb, BUGCMD_SET_NO_REMINDERS);
	assert_null(l.v[7].arg);
	assert_int_equal(l.v[8].verb, BUGCMD_UNSET_NO_REMINDERS);
	assert_int_equal(l.v[9].verb, BUGCMD_POKE);
	assert_int_equal(l.v[10].verb, BUGCMD_MOVE);
	assert_string_equal(l.v[10].arg, "NETWORKING [GENERAL]");
	assert_int_equal(l.v[11].verb, BUGCMD_UNCC);
	for (size_t i = 0; i < l.nr; i++)
		assert_null(l.v[i].error);
	bugcmd_list_release(&l);
}

static void test_parse_malformed(void **state)
{
	static const struct {
		const char *line, *error;
	} cases[] = {
		{ "#kreview", "no command" },
		{ "#kreview   ", "no command" },
		{ "#kreview frobnicate", "unknown command 'frobnicate'" },
		{ "#kreview <0> invalid", "<1> to <999>" },
		{ "#kreview <1000> invalid", "<1> to <999>" },
		{ "#kreview <3 invalid", "<1> to <999>" },
		{ "#kreview <> invalid", "<1> to <999>" },
		{ "#kreview <3>", "no command" },
		{ "#kreview <3> dup", "needs an argument" },
		{ "#kreview <3> dup: the other one", "wants a bug id" },
		{ "#kreview <3> fix:", "needs an argument" },
		{ "#kreview <3> set prio: urgent", "low, normal or high" },
		{ "#kreview <3> set prio", "needs an argument" },
		{ "#kreview <3> set status: fixed", "knows only 'prio" },
		{ "#kreview <3> unset prio", "knows only 'no-reminders'" },
		{ "#kreview <3> unset", "knows only 'no-reminders'" },
		{ "#kreview <3> set no-reminders now", "takes no argument" },
		{ "#kreview <3> poke harder", "takes no argument" },
		{ "#kreview <3> move", "needs an argument" },
		{ "#kreview <3> uncc me", "takes no argument" },
		{ "#kreview <3> undup now", "takes no argument" },
		{ "#kreview <3> confirm it", "takes no argument" },
		{ "#kreview <3> add-subsystem", "needs an argument" },
		{ "#kreview <3> help", "help takes no bug" },
		{ "#kreview <3> invalid \x01", "control character" },
	};
	struct bugcmd_list l = BUGCMD_LIST_INIT;
	struct strbuf big = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse(&l, cases[i].line);
		assert_int_equal(l.nr, 1);
		if (!l.v[0].error || !strstr(l.v[0].error, cases[i].error))
			fail_msg("'%s': error '%s', wanted '%s'", cases[i].line,
				 l.v[0].error ? l.v[0].error : "(none)",
				 cases[i].error);
	}
	/* a line past the bound */
	strbuf_addstr(&big, "#kreview <1> invalid ");
	for (int i = 0; i < BUGCMD_MAX_LINE; i++)
		strbuf_addch(&big, 'x');
	parse(&l, big.buf);
	assert_int_equal(l.nr, 1);
	assert_non_null(strstr(l.v[0].error, "longer than"));
	/* too many commands */
	strbuf_reset(&big);
	for (int i = 0; i < BUGCMD_MAX + 5; i++)
		strbuf_addstr(&big, "#kreview <1> confirm\n");
	parse(&l, big.buf);
	assert_int_equal(l.nr, BUGCMD_MAX);
	assert_non_null(strstr(l.v[BUGCMD_MAX - 1].error, "more than"));
	/* a NUL inside a line */
	bugcmd_list_release(&l);
	bugcmd_parse(&l, "#kreview <1> invalid a\0b\n", 24);
	assert_int_equal(l.nr, 1);
	assert_non_null(l.v[0].error);
	bugcmd_list_release(&l);
	strbuf_release(&big);
}

struct fx {
	char *dir;
	struct bugdb *db;
	char ids[4][BUGDB_ID_MAX];
	struct maint *maint;
	struct bugdb_config *cfg;
};

static const char maintainers[] =
	"IO_URING\n"
	"M:\tJens Axboe <axboe@kernel.dk>\n"
	"R:\tPavel Begunkov <asml.silence@gmail.com>\n"
	"L:\tio-uring@vger.kernel.org\n"
	"S:\tMaintained\n"
	"F:\tio_uring/\n"
	"\n"
	"NETWORKING [GENERAL]\n"
	"M:\tNet Maint <net@example.org>\n"
	"L:\tnetdev@vger.kernel.org\n"
	"S:\tMaintained\n"
	"F:\tnet/\n";

static int setup(void **state)
{
	static const char *titles[] = { "alpha leak in recv",
					"beta race on close", "gamma overflow",
					"delta uaf" };
	struct fx *f = xcalloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT;
	struct bugdb_list l = BUGDB_LIST_INIT;
	int64_t did;

	f->dir = test_mkdtemp();
	bugdb_path(&p, f->dir, "IO_URING");
	if (bugdb_open(&f->db, p.buf, "IO_URING", &err) < 0)
		fail_msg("%s", err.buf);
	bugdb_set_clock(f->db, T0);
	assert_int_equal(maint_parse(&f->maint, maintainers,
				     strlen(maintainers), "MAINTAINERS", NULL,
				     &err), 0);
	assert_int_equal(bugdb_set_maintainers(f->db, f->maint, &err), 0);
	for (int i = 0; i < 4; i++) {
		struct strbuf fpr = STRBUF_INIT;
		struct bugdb_finding b = {
			.title = titles[i], .file = "io_uring/net.c",
			.function = "io_recv", .category = "logic",
			.severity = SEV_HIGH, .support = 2, .runs = 2,
			.verified = true, .pre_existing = true,
		};
		enum bugdb_admission w;

		strbuf_addf(&fpr, "fpr%d", i);
		b.fingerprint = fpr.buf;
		assert_int_equal(bugdb_admit(&w, f->ids[i], f->db, &b, NULL,
					     &err), 0);
		strbuf_release(&fpr);
		ALLOC_GROW(l.v, l.nr + 1, l.alloc);
		bugdb_bug_init(&l.v[l.nr]);
		snprintf(l.v[l.nr++].id, BUGDB_ID_MAX, "%s", f->ids[i]);
	}
	assert_int_equal(bugdb_digest_store(&did, f->db, "digest-1@kreview",
					    &l, &err), 0);
	bugdb_list_release(&l);
	f->cfg = bugdb_config_default();
	bugdb_close(f->db);
	f->db = NULL;
	assert_int_equal(bugdb_open(&f->db, p.buf, NULL, &err), 0);
	strbuf_release(&err);
	strbuf_release(&p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	bugdb_close(f->db);
	maint_free(f->maint);
	bugdb_config_free(f->cfg);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void mail(struct msg *m, const char *from, const char *msgid,
		 const char *body)
{
	struct strbuf raw = STRBUF_INIT;

	strbuf_addf(&raw, "From: %s\nTo: kreview@example.org\n"
			  "Subject: Re: [kreview] IO_URING open-bug digest\n"
			  "Message-ID: <%s>\nIn-Reply-To: <digest-1@kreview>\n"
			  "References: <digest-1@kreview>\n"
			  "Date: Mon, 3 Jun 2024 10:02:11 +0800\n\n%s",
		    from, msgid, body);
	msg_init(m);
	assert_int_equal(msg_parse(m, raw.buf, raw.len, NULL), 0);
	strbuf_release(&raw);
}

static void run(struct strbuf *reply, bool *dup, size_t *failed,
		struct fx *f, bool with_maint, const char *from,
		const char *msgid, const char *body)
{
	struct bugcmd_ctx ctx = { .dir = f->dir, .cfg = f->cfg,
				  .maint = with_maint ? f->maint : NULL,
				  .now_ms = T0 + 1000 };
	struct strbuf err = STRBUF_INIT;
	struct msg m;

	mail(&m, from, msgid, body);
	strbuf_reset(reply);
	if (bugcmd_process(reply, dup, failed, &ctx, &m, &err) < 0)
		fail_msg("process: %s", err.buf);
	msg_release(&m);
	strbuf_release(&err);
}

static enum bugdb_status st(struct fx *f, int i)
{
	struct bugdb_bug b;
	enum bugdb_status s;

	bugdb_bug_init(&b);
	assert_int_equal(bugdb_get(&b, f->db, f->ids[i], NULL), 0);
	s = b.status;
	bugdb_bug_release(&b);
	return s;
}

/* §10 case 8, and every verb from a maintainer. */
static void test_process(void **state)
{
	struct fx *f = *state;
	struct strbuf reply = STRBUF_INIT, body = STRBUF_INIT;
	struct bugdb_detail d;
	struct bugdb_bug b;
	bool dup;
	size_t failed;

	run(&reply, &dup, &failed, f, false, "Jens Axboe <AXBOE@kernel.dk>",
	    "r1@x",
	    "> #kreview <1> confirm\n"
	    "#kreview <3> invalid false alarm\n"
	    "#kreview <4> set prio: high\n"
	    "#kreview <1> confirm\n"
	    "#kreview <2> wontfix\n");
	assert_false(dup);
	assert_int_equal(failed, 0);
	assert_int_equal(st(f, 0), BUGDB_CONFIRMED);
	assert_int_equal(st(f, 1), BUGDB_WONTFIX);
	assert_int_equal(st(f, 2), BUGDB_INVALID);
	assert_non_null(strstr(reply.buf, "processed 4 commands"));
	assert_non_null(strstr(reply.buf, ": open -> invalid"));
	assert_non_null(strstr(reply.buf, ": prio high"));
	assert_null(strstr(reply.buf, "Commands, one per line"));
	assert_int_equal(bugdb_get_detail(&d, f->db, f->ids[2], NULL), 0);
	assert_string_equal(d.events[d.events_nr - 1].actor, "axboe@kernel.dk");
	assert_string_equal(d.events[d.events_nr - 1].reason, "false alarm");
	assert_string_equal(d.events[d.events_nr - 1].link, "r1@x");
	bugdb_detail_release(&d);
	/* the same mail again (through the list): processed once */
	run(&reply, &dup, &failed, f, false, "axboe@kernel.dk", "r1@x",
	    "#kreview <3> reopen\n");
	assert_true(dup);
	assert_int_equal(reply.len, 0);
	assert_int_equal(st(f, 2), BUGDB_INVALID);
	/* the rest of the verbs, by bug id, from the reviewer */
	strbuf_addf(&body, "#kreview %s reopen\n", f->ids[2]);
	strbuf_addf(&body, "#kreview %s dup: %s\n", f->ids[2], f->ids[0]);
	strbuf_addf(&body, "#kreview %s undup\n", f->ids[2]);
	strbuf_addf(&body, "#kreview %s fix: 0123456789ab (\"io_uring: x\")\n",
		    f->ids[2]);
	strbuf_addf(&body, "#kreview %s unfix\n", f->ids[2]);
	strbuf_addf(&body, "#kreview %s backburner not now\n", f->ids[3]);
	strbuf_addf(&body, "#kreview %s unbackburn\n", f->ids[3]);
	strbuf_addf(&body, "#kreview %s add-subsystem: NETWORKING\n",
		    f->ids[3]);
	strbuf_addf(&body, "#kreview %s del-subsystem: NETWORKING\n",
		    f->ids[3]);
	strbuf_addf(&body, "#kreview %s set prio: low\n", f->ids[3]);
	run(&reply, &dup, &failed, f, false, "asml.silence@gmail.com", "r2@x",
	    body.buf);
	if (failed)
		fail_msg("%s", reply.buf);
	assert_int_equal(st(f, 2), BUGDB_OPEN);
	assert_non_null(strstr(reply.buf, "invalid -> open"));
	assert_non_null(strstr(reply.buf, "open -> dup of"));
	assert_non_null(strstr(reply.buf, "dup -> open"));
	assert_non_null(strstr(reply.buf, "open -> fix-pending (fix: "));
	assert_non_null(strstr(reply.buf, "fix-pending -> open"));
	assert_non_null(strstr(reply.buf, "left out of digests"));
	assert_non_null(strstr(reply.buf, "subsystem 'NETWORKING' removed"));
	bugdb_bug_init(&b);
	assert_int_equal(bugdb_get(&b, f->db, f->ids[3], NULL), 0);
	assert_int_equal(b.prio, BUGDB_PRIO_LOW);
	assert_false(b.backburner);
	bugdb_bug_release(&b);
	strbuf_release(&reply);
	strbuf_release(&body);
}

/* §10 case 9 and malformed commands: refusals with the help text. */
static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct strbuf reply = STRBUF_INIT;
	bool dup;
	size_t failed;

	run(&reply, &dup, &failed, f, false, "Mallory <mallory@evil.example>",
	    "r3@x", "#kreview <1> invalid\n#kreview help\n");
	assert_int_equal(failed, 1);
	assert_int_equal(st(f, 0), BUGDB_OPEN);
	assert_non_null(strstr(reply.buf, "refused: mallory@evil.example is "
					  "not a maintainer"));
	assert_non_null(strstr(reply.buf, "Commands, one per line"));
	/* configured triagers may */
	f->cfg->triagers.v = xcalloc(1, sizeof(char *));
	f->cfg->triagers.v[0] = xstrdup("*@evil.example");
	f->cfg->triagers.nr = 1;
	run(&reply, &dup, &failed, f, false, "mallory@evil.example", "r4@x",
	    "#kreview <1> invalid\n");
	assert_int_equal(failed, 0);
	assert_int_equal(st(f, 0), BUGDB_INVALID);
	/* malformed lines, unknown bugs and refs, refused transitions */
	run(&reply, &dup, &failed, f, false, "axboe@kernel.dk", "r5@x",
	    "#kreview <9> confirm\n"
	    "#kreview IOU-99999999 confirm\n"
	    "#kreview confirm\n"
	    "#kreview <2> frob\n"
	    "#kreview <1> wontfix\n"
	    "#kreview <2> dup: IOU-0badc0de\n");
	assert_int_equal(failed, 6);
	assert_non_null(strstr(reply.buf, "no <9> in the digest"));
	assert_non_null(strstr(reply.buf, "no bug IOU-99999999"));
	assert_non_null(strstr(reply.buf, "which bug?"));
	assert_non_null(strstr(reply.buf, "unknown command 'frob'"));
	assert_non_null(strstr(reply.buf, "cannot become wontfix"));
	assert_non_null(strstr(reply.buf, "no bug 'IOU-0badc0de'"));
	assert_non_null(strstr(reply.buf, "Commands, one per line"));
	/* MAINTAINERS given at run time authorises too */
	run(&reply, &dup, &failed, f, true, "axboe@kernel.dk", "r6@x",
	    "#kreview <4> confirm\n");
	assert_int_equal(failed, 0);
	/* no command: no reply */
	run(&reply, &dup, &failed, f, false, "axboe@kernel.dk", "r7@x",
	    "thanks!\n> #kreview <4> invalid\n");
	assert_int_equal(reply.len, 0);
	/* command_log has every line, refused ones included */
	assert_int_equal(bugdb_command_seen(f->db, "r3@x", NULL), 1);
	assert_int_equal(bugdb_command_seen(f->db, "r7@x", NULL), 0);
	assert_true(bugcmd_authorised(&(struct bugcmd_ctx){ .maint = f->maint },
				      "IO_URING", "", "axboe@kernel.dk"));
	assert_false(bugcmd_authorised(&(struct bugcmd_ctx){ .maint = f->maint },
				       "BTRFS", "", "axboe@kernel.dk"));
	assert_false(bugcmd_authorised(&(struct bugcmd_ctx){ 0 }, "IO_URING",
				       "a@b\n", ""));
	strbuf_release(&reply);
}

/* poke, no-reminders, uncc from anyone, move and the forwarding stub. */
static void test_new_verbs(void **state)
{
	struct fx *f = *state;
	struct strbuf reply = STRBUF_INIT, body = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT;
	struct bugcmd_ctx ctx = { .dir = f->dir, .cfg = f->cfg,
				  .now_ms = T0 + 1000, .no_list = true };
	struct bugdb *net = NULL;
	struct bugdb_detail d;
	struct bugdb_bug b;
	char to[BUGDB_ID_MAX];
	bool dup;
	size_t failed;
	struct msg m;

	run(&reply, &dup, &failed, f, false, "axboe@kernel.dk", "n1@x",
	    "#kreview <1> poke\n"
	    "#kreview <2> set no-reminders\n"
	    "#kreview <3> set no-reminders\n"
	    "#kreview <3> unset no-reminders\n");
	if (failed)
		fail_msg("%s", reply.buf);
	assert_non_null(strstr(reply.buf, ": re-verification requested"));
	assert_non_null(strstr(reply.buf, ": no reminders in digests"));
	assert_non_null(strstr(reply.buf, ": reminders in digests again"));
	/* the reminder only when asked for */
	assert_null(strstr(reply.buf, "no mailing list"));
	bugdb_bug_init(&b);
	assert_int_equal(bugdb_get(&b, f->db, f->ids[0], NULL), 0);
	assert_true(b.stale);
	assert_int_equal(b.last_activity_ms, 0);
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_no_reminders(f->db, f->ids[1], NULL), 1);
	assert_int_equal(bugdb_no_reminders(f->db, f->ids[2], NULL), 0);

	/* uncc from a stranger: accepted; anything else: refused */
	run(&reply, &dup, &failed, f, false, "Stranger <s@elsewhere.org>",
	    "n2@x", "#kreview <4> uncc\n#kreview <4> poke\n");
	assert_int_equal(failed, 1);
	assert_non_null(strstr(reply.buf, "s@elsewhere.org will not be Cc'd"));
	assert_non_null(strstr(reply.buf, "refused: s@elsewhere.org"));
	assert_non_null(strstr(reply.buf, "#kreview uncc"));
	assert_int_equal(bugdb_uncced(f->db, f->ids[3], "s@elsewhere.org",
				      NULL), 1);

	/* move: needs a known section; MAINTAINERS creates its database */
	run(&reply, &dup, &failed, f, false, "axboe@kernel.dk", "n3@x",
	    "#kreview <4> move: networking-general\n");
	assert_int_equal(failed, 1);
	assert_non_null(strstr(reply.buf, "no bug database for section"));
	assert_non_null(strstr(reply.buf, "Commands, one per line"));
	ctx.maint = f->maint;
	mail(&m, "axboe@kernel.dk", "n4@x",
	     "#kreview <4> move: NETWORKING [GENERAL]\n");
	strbuf_reset(&reply);
	assert_int_equal(bugcmd_process(&reply, &dup, &failed, &ctx, &m, &err),
			 0);
	msg_release(&m);
	if (failed)
		fail_msg("%s", reply.buf);
	assert_non_null(strstr(reply.buf, ": moved to NETWORKING [GENERAL] as "
					  "NET-"));
	assert_non_null(strstr(reply.buf, "no mailing list in To or Cc"));
	assert_int_equal(bugdb_moved_to(to, f->db, f->ids[3], NULL), 1);
	bugdb_path(&p, f->dir, "NETWORKING [GENERAL]");
	assert_int_equal(bugdb_open(&net, p.buf, NULL, &err), 0);
	assert_int_equal(bugdb_get_detail(&d, net, to, &err), 0);
	assert_string_equal(d.events[d.events_nr - 1].kind, "moved");
	assert_string_equal(d.events[d.events_nr - 1].actor, "axboe@kernel.dk");
	assert_string_equal(d.events[d.events_nr - 1].link, "n4@x");
	bugdb_detail_release(&d);

	/* digest ref <4> now forwards to the moved bug, where the io_uring
	 * maintainer has no say but the net maintainer has */
	run(&reply, &dup, &failed, f, false, "axboe@kernel.dk", "n5@x",
	    "#kreview <4> confirm\n");
	assert_int_equal(failed, 1);
	assert_non_null(strstr(reply.buf, "moved to NET-"));
	assert_non_null(strstr(reply.buf, "not a maintainer or reviewer of "
					  "NETWORKING [GENERAL]"));
	strbuf_addf(&body, "#kreview %s confirm\n", f->ids[3]);
	run(&reply, &dup, &failed, f, false, "net@example.org", "n6@x",
	    body.buf);
	if (failed)
		fail_msg("%s", reply.buf);
	assert_non_null(strstr(reply.buf, ": open -> confirmed"));
	bugdb_bug_init(&b);
	assert_int_equal(bugdb_get(&b, net, to, NULL), 0);
	assert_int_equal(b.status, BUGDB_CONFIRMED);
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_command_seen(net, "n6@x", NULL), 1);
	bugdb_close(net);
	strbuf_release(&reply);
	strbuf_release(&body);
	strbuf_release(&err);
	strbuf_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test_setup_teardown(test_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_verbs, setup,
						teardown),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
