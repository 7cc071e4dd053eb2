/*
 * Unit tests for answering "#kreview" command mail (bugmail.h): which
 * stored messages are command mail, the cursor, loop prevention, and
 * one answer per mail.
 */
#include "testutil.h"

#include "kreview/bugdb.h"
#include "kreview/bugmail.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/findingcmd.h"
#include "kreview/msg.h"
#include "kreview/outbox.h"
#include "kreview/store.h"

#include <gmime/gmime.h>

#define T0 1717000000000LL

struct fx {
	char *dir;
	struct strbuf bugs;
	struct db *db;
	struct kreview_config *cfg;
	char bug[BUGDB_ID_MAX];
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT, yaml = STRBUF_INIT;
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct bugdb_finding b = {
		.fingerprint = "fp1", .title = "a leak", .file = "io_uring/net.c",
		.function = "io_recv", .category = "resource-leak",
		.severity = SEV_HIGH, .support = 2, .runs = 2,
		.verified = true, .pre_existing = true,
	};
	struct bugdb *bdb = NULL;
	enum bugdb_admission w;
	int64_t did;

	f->dir = test_mkdtemp();
	strbuf_init(&f->bugs, 0);
	strbuf_addf(&f->bugs, "%s/bugs", f->dir);
	strbuf_addf(&yaml,
		    "state_dir: %s\n"
		    "ingest:\n  own_address: kreview@example.org\n"
		    "mail:\n  from: kreview <kreview@example.org>\n"
		    "lists:\n  - name: io-uring\n"
		    "    address: io-uring@vger.kernel.org\n    mode: send\n"
		    "bugs:\n  dir: %s\n  triagers: ['*@kernel.dk']\n",
		    f->dir, f->bugs.buf);
	if (config_load_buffer(&f->cfg, "test.yaml", yaml.buf, yaml.len,
			       &err) < 0)
		fail_msg("config: %s", err.buf);
	bugdb_path(&p, f->bugs.buf, "IO_URING");
	assert_int_equal(bugdb_open(&bdb, p.buf, "IO_URING", &err), 0);
	bugdb_set_clock(bdb, T0);
	assert_int_equal(bugdb_admit(&w, f->bug, bdb, &b, NULL, &err), 0);
	ALLOC_GROW(l.v, l.nr + 1, l.alloc);
	bugdb_bug_init(&l.v[0]);
	snprintf(l.v[l.nr++].id, BUGDB_ID_MAX, "%s", f->bug);
	assert_int_equal(bugdb_digest_store(&did, bdb, "digest-1@kreview", &l,
					    &err), 0);
	bugdb_list_release(&l);
	bugdb_close(bdb);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/kreview.db", f->dir);
	if (db_open(&f->db, p.buf, &err) < 0)
		fail_msg("db: %s", err.buf);
	strbuf_release(&err);
	strbuf_release(&p);
	strbuf_release(&yaml);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	db_close(f->db);
	config_free(f->cfg);
	test_rmtree(f->dir);
	free(f->dir);
	strbuf_release(&f->bugs);
	free(f);
	return 0;
}

/* Store one message as ingestion would. */
static void store(struct fx *f, const char *from, const char *msgid,
		  const char *refs, const char *extra, const char *body)
{
	struct strbuf raw = STRBUF_INIT, err = STRBUF_INIT;
	enum store_add_result res;
	struct msg m;

	strbuf_addf(&raw, "From: %s\nTo: kreview@example.org\n"
			  "Cc: io-uring@vger.kernel.org\n"
			  "Subject: Re: [kreview] IO_URING open-bug digest\n"
			  "Message-ID: <%s>\n%s%s%s%s"
			  "Date: Mon, 3 Jun 2024 10:02:11 +0000\n\n%s",
		    from, msgid, refs ? "References: " : "", refs ? refs : "",
		    refs ? "\n" : "", extra ? extra : "", body);
	msg_init(&m);
	assert_int_equal(msg_parse(&m, raw.buf, raw.len, NULL), 0);
	assert_int_equal(db_begin(f->db, &err), 0);
	if (store_add_message(&res, f->db, &m, msg_is_bot(&m),
			      &(struct store_input){ .raw = raw.buf,
						     .len = raw.len,
						     .where = "test" },
			      &err) < 0)
		fail_msg("store: %s", err.buf);
	assert_int_equal(db_commit(f->db, &err), 0);
	msg_release(&m);
	strbuf_release(&raw);
	strbuf_release(&err);
}

struct seen {
	size_t nr;
	char last[128];
};

static void on_mail(void *ctx, const struct bugmail_result *r)
{
	struct seen *s = ctx;

	s->nr++;
	snprintf(s->last, sizeof(s->last), "%s %zu/%zu %s", r->msgid,
		 r->failed, r->commands,
		 r->duplicate ? "dup" : r->outbox_id ? "queued" :
		 r->why ? r->why : "-");
}

static void scan(struct fx *f, struct bugmail_stats *st, struct seen *s)
{
	struct bugmail_opts o = { .cfg = f->cfg, .dir = f->bugs.buf,
				  .now_ms = T0 + 1000 };
	struct strbuf err = STRBUF_INIT;

	if (bugmail_scan(st, f->db, &o, on_mail, s, &err) < 0)
		fail_msg("scan: %s", err.buf);
	strbuf_release(&err);
}

static size_t outbox_rows(struct fx *f)
{
	struct outbox_list l = OUTBOX_LIST_INIT;
	size_t n;

	assert_int_equal(outbox_list(&l, f->db, OUTBOX_STATE_MAX, 0, NULL), 0);
	n = l.nr;
	outbox_list_release(&l);
	return n;
}

static void test_scan(void **state)
{
	struct fx *f = *state;
	struct bugmail_stats st;
	struct seen s = { 0 };
	struct outbox_list l = OUTBOX_LIST_INIT;
	struct strbuf body = STRBUF_INIT;
	char *cur;

	store(f, "Jens Axboe <axboe@kernel.dk>", "c1@x", "<digest-1@kreview>",
	      NULL, "> #kreview <1> invalid\n#kreview <1> confirm\n");
	store(f, "Jens Axboe <axboe@kernel.dk>", "c2@x", "<elsewhere@x>", NULL,
	      "#kreview <1> invalid\n");
	store(f, "Jens Axboe <axboe@kernel.dk>", "c3@x", "<digest-1@kreview>",
	      NULL, "thanks, no commands\n");
	store(f, "Jens Axboe <axboe@kernel.dk>", "c4@x", "<digest-1@kreview>",
	      "Auto-Submitted: auto-replied\n", "#kreview <1> invalid\n");
	store(f, "kreview <kreview@example.org>", "c5@x", "<digest-1@kreview>",
	      NULL, "#kreview <1> invalid\n");
	scan(f, &st, &s);
	/* c1, c3, c4 and c5 answer the digest; c3 has no command, c4 and
	 * c5 must never be answered */
	assert_int_equal(st.looked, 4);
	assert_int_equal(st.mails, 3);
	assert_int_equal(st.queued, 1);
	assert_int_equal(s.nr, 3);
	assert_string_equal(s.last, "c5@x 0/1 kreview's own mail");
	assert_int_equal(outbox_list(&l, f->db, OUTBOX_STATE_MAX, 0, NULL), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.v[0].in_reply_to, "c1@x");
	assert_string_equal(l.v[0].kind, "command");
	assert_string_equal(l.v[0].mode, "send");
	assert_string_equal(l.v[0].lists, "io-uring");
	cur = store_get_cursor(f->db, BUGMAIL_CURSOR);
	assert_string_equal(cur, "5");
	free(cur);

	/* nothing new: nothing done */
	memset(&s, 0, sizeof(s));
	scan(f, &st, &s);
	assert_int_equal(st.looked, 0);
	assert_int_equal(s.nr, 0);

	/* a reply to kreview's answer (an outbox Message-ID) counts */
	strbuf_addf(&body, "<%s>", l.v[0].msgid);
	store(f, "someone@example.com", "c6@x", body.buf, NULL,
	      "#kreview <1> wontfix\n#kreview help\n");
	outbox_list_release(&l);
	scan(f, &st, &s);
	assert_int_equal(st.mails, 1);
	/* refused: not a maintainer, and <1> is not in that thread's
	 * digest; the answer still goes out with the help */
	assert_string_equal(s.last, "c6@x 1/2 queued");
	assert_int_equal(outbox_rows(f), 2);
	strbuf_release(&body);
}

/* One mail, directly: duplicates, and the answer queued once. */
static void test_handle(void **state)
{
	struct fx *f = *state;
	struct bugmail_opts o = { .cfg = f->cfg, .dir = f->bugs.buf,
				  .now_ms = T0 + 1000 };
	struct strbuf raw = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct bugmail_result r;
	struct reply_target t;

	strbuf_addstr(&raw, "From: Jens Axboe <axboe@kernel.dk>\n"
			    "To: kreview@example.org\n"
			    "Subject: Re: [kreview] IO_URING open-bug digest\n"
			    "Message-ID: <h1@x>\n"
			    "In-Reply-To: <digest-1@kreview>\n\n"
			    "#kreview <1> poke\n");
	reply_target_init(&t);
	assert_int_equal(reply_target_parse(&t, raw.buf, raw.len, T0, &err), 0);
	/* without a database: applied, answer text only */
	assert_int_equal(bugmail_handle(&r, &text, NULL, &t, &o, &err), 0);
	assert_int_equal(r.commands, 1);
	assert_int_equal(r.failed, 0);
	assert_true(r.no_list);
	assert_int_equal(r.outbox_id, 0);
	assert_non_null(strstr(text.buf, "re-verification requested"));
	assert_non_null(strstr(text.buf, "no mailing list"));
	bugmail_result_release(&r);
	/* again, with a database: a duplicate, nothing queued */
	strbuf_reset(&text);
	assert_int_equal(bugmail_handle(&r, &text, f->db, &t, &o, &err), 0);
	assert_true(r.duplicate);
	assert_int_equal(text.len, 0);
	assert_int_equal(outbox_rows(f), 0);
	bugmail_result_release(&r);
	reply_target_release(&t);

	/* a fresh mail: queued, privately (no list), in bugs.
	 * command_replies' mode */
	strbuf_reset(&raw);
	strbuf_addstr(&raw, "From: Jens Axboe <axboe@kernel.dk>\n"
			    "To: kreview@example.org\n"
			    "Subject: Re: [kreview] IO_URING open-bug digest\n"
			    "Message-ID: <h2@x>\n"
			    "In-Reply-To: <digest-1@kreview>\n\n"
			    "#kreview <1> set no-reminders\n");
	reply_target_init(&t);
	assert_int_equal(reply_target_parse(&t, raw.buf, raw.len, T0, &err), 0);
	strbuf_reset(&text);
	assert_int_equal(bugmail_handle(&r, &text, f->db, &t, &o, &err), 0);
	assert_true(r.outbox_id > 0);
	assert_int_equal(r.mode, REPLY_MODE_DRY_RUN);
	bugmail_result_release(&r);
	reply_target_release(&t);
	strbuf_release(&raw);
	strbuf_release(&text);
	strbuf_release(&err);
}

static void sql(struct fx *f, const char *q)
{
	struct strbuf err = STRBUF_INIT;

	if (db_exec(f->db, q, &err) < 0)
		fail_msg("%s: %s", q, err.buf);
	strbuf_release(&err);
}

/* The findings of kreview's reply <kreview.r1@x> to <patch-2@x>. */
static void review_reply(struct fx *f)
{
	sql(f, "INSERT INTO review(id, prompt_hash, profile, runs, endpoint,"
	       " requests, cached, failed, in_uncached, cache_write,"
	       " cache_read, out, cost_usd, started_ms, finished_ms)"
	       " VALUES (7, 'h', 'standard', 3, 'mock', 1, 0, 0, 0, 0, 0, 0,"
	       " 0, 0, 0)");
	sql(f, "INSERT INTO review_finding(review_id, patch, msgid,"
	       " fingerprint, file, line, end_line, function, category,"
	       " severity, confidence, support, runs, verdict, pre_existing,"
	       " reported, title, explanation, evidence, section) VALUES"
	       " (7, 2, 'patch-2@x', 'fpA', 'io_uring/net.c', 105, 106,"
	       "  'io_recv_finish', 'resource-leak', 'high', 0.8, 3, 3,"
	       "  'confirmed', 0, 1, 'buffer lost on -EAGAIN',"
	       "  'If REQ_F_BL_EMPTY is set here, who returns the buffer"
	       " selected for this attempt? io_recv() -> io_buffer_select()"
	       " has already taken it, so the -EAGAIN retry looks like it"
	       " loses one buffer per pass.', 'io_kbuf_recycle', 'IO_URING'),"
	       " (7, 2, 'patch-2@x', 'fpB', 'io_uring/net.c', 131, 131,"
	       "  'io_recv_finish', 'logic', 'medium', 0.6, 2, 3,"
	       "  'unverified', 0, 1, 'done_io counted twice',"
	       "  'Is done_io already accounted for by the caller? On a partial"
	       " receive the same bytes seem to be added again when the"
	       " request is retried.', 'sr->done_io += ret', 'IO_URING'),"
	       " (7, 2, 'patch-2@x', 'fpC', 'io_uring/net.c', 90, 90, 'x',"
	       "  'logic', 'low', 0.3, 1, 3, 'unverified', 0, 0, 'dropped one',"
	       "  'Not reported.', 'x', 'IO_URING')");
	sql(f, "INSERT INTO outbox(msgid, in_reply_to, review_id, kind, mode,"
	       " state, env_from, rcpts, subject, message, not_before_ms,"
	       " next_try_ms, created_ms, updated_ms) VALUES ('kreview.r1@x',"
	       " 'patch-2@x', 7, 'patch', 'send', 'sent', 'kreview@example.org',"
	       " 'jane@example.com', 'Re: [PATCH 2/2] x', x'78', 0, 0, 0, 0)");
}

static void command(struct fx *f, const char *from, const char *msgid,
		    const char *body, struct strbuf *text)
{
	struct bugmail_opts o = { .cfg = f->cfg, .dir = f->bugs.buf,
				  .now_ms = T0 + 1000 };
	struct strbuf raw = STRBUF_INIT, err = STRBUF_INIT;
	struct bugmail_result r;
	struct reply_target t;

	strbuf_addf(&raw, "From: %s\nTo: kreview@example.org\n"
			  "Cc: io-uring@vger.kernel.org\n"
			  "Subject: Re: [PATCH 2/2] x\nMessage-ID: <%s>\n"
			  "In-Reply-To: <kreview.r1@x>\n\n%s",
		    from, msgid, body);
	reply_target_init(&t);
	assert_int_equal(reply_target_parse(&t, raw.buf, raw.len, T0, &err), 0);
	strbuf_reset(text);
	if (bugmail_handle(&r, text, f->db, &t, &o, &err) < 0)
		fail_msg("handle: %s", err.buf);
	bugmail_result_release(&r);
	reply_target_release(&t);
	strbuf_release(&raw);
	strbuf_release(&err);
}

static const char *status_of_signature(struct fx *f, const char *fp)
{
	static char buf[64];
	struct strbuf p = STRBUF_INIT, err = STRBUF_INIT;
	struct bugdb *bdb = NULL;
	char id[BUGDB_ID_MAX];
	struct bugdb_bug b;
	int r;

	bugdb_path(&p, f->bugs.buf, "IO_URING");
	assert_int_equal(bugdb_open(&bdb, p.buf, NULL, &err), 0);
	r = bugdb_suppressed_by(id, bdb, fp, &err);
	assert_true(r >= 0);
	snprintf(buf, sizeof(buf), "none");
	if (r == 1) {
		bugdb_bug_init(&b);
		assert_int_equal(bugdb_get(&b, bdb, id, &err), 0);
		snprintf(buf, sizeof(buf), "%s",
			 bugdb_status_name(b.status));
		bugdb_bug_release(&b);
	}
	bugdb_close(bdb);
	strbuf_release(&p);
	strbuf_release(&err);
	return buf;
}

/* "#kreview invalid" below a quoted finding of a review reply. */
static void test_review_finding(void **state)
{
	struct fx *f = *state;
	struct strbuf text = STRBUF_INIT;

	review_reply(f);
	/* a stranger may not */
	command(f, "Some One <someone@example.com>", "s1@x",
		"> Is done_io already accounted for by the caller? On a\n"
		"> partial receive the same bytes seem to be added again\n"
		"#kreview invalid\n", &text);
	assert_non_null(strstr(text.buf, "refused: someone@example.com"));
	assert_string_equal(status_of_signature(f, "fpB"), "none");

	/* a triager: each command goes to the finding quoted above it */
	command(f, "Jens Axboe <axboe@kernel.dk>", "c1@x",
		"> If REQ_F_BL_EMPTY is set here, who returns the buffer selected for this\n"
		"> attempt? io_recv() -> io_buffer_select() has already taken it, so the\n"
		">\n"
		"\n"
		"#kreview invalid the caller puts it back\n"
		"\n"
		"> Is done_io already accounted for by the caller? On a partial receive the\n"
		"#kreview wontfix\n"
		"#kreview confirm\n"
		"#kreview invalid\n", &text);
	assert_non_null(strstr(text.buf, "finding \"buffer lost on -EAGAIN\" "
					 "marked invalid"));
	assert_non_null(strstr(text.buf, "finding \"done_io counted twice\" "
					 "marked wontfix"));
	assert_non_null(strstr(text.buf, "only invalid and wontfix apply"));
	/* the last one has no quote above it, and two findings qualify */
	assert_non_null(strstr(text.buf, "which finding?"));
	assert_string_equal(status_of_signature(f, "fpA"), "invalid");
	assert_string_equal(status_of_signature(f, "fpB"), "wontfix");
	assert_string_equal(status_of_signature(f, "fpC"), "none");
	strbuf_release(&text);
}

/* Answers to one address alone stop at bugs.private_replies_per_day. */
static void test_private_cap(void **state)
{
	struct fx *f = *state;
	struct bugmail_opts o = { .cfg = f->cfg, .dir = f->bugs.buf,
				  .now_ms = T0 + 1000 };
	struct strbuf raw = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t queued = 0;

	for (int i = 0; i < 7; i++) {
		struct bugmail_result r;
		struct reply_target t;

		strbuf_reset(&raw);
		strbuf_addf(&raw, "From: Forged <victim@example.com>\n"
				  "To: kreview@example.org\n"
				  "Subject: Re: [kreview] IO_URING open-bug digest\n"
				  "Message-ID: <cap%d@x>\n"
				  "In-Reply-To: <digest-1@kreview>\n\n"
				  "#kreview <1> uncc\n", i);
		reply_target_init(&t);
		assert_int_equal(reply_target_parse(&t, raw.buf, raw.len, T0,
						    &err), 0);
		strbuf_reset(&text);
		assert_int_equal(bugmail_handle(&r, &text, f->db, &t, &o, &err),
				 0);
		if (r.outbox_id)
			queued++;
		else if (i >= 5)
			assert_non_null(strstr(r.why, "private_replies_per_day"));
		bugmail_result_release(&r);
		reply_target_release(&t);
	}
	/* the default cap is 5 a day */
	assert_int_equal(queued, 5);
	strbuf_release(&raw);
	strbuf_release(&text);
	strbuf_release(&err);
}

static void test_quote_above(void **state)
{
	static const char body[] = "On Mon, Jane wrote:\n"
				   "> first\n"
				   ">  second\n"
				   "\n"
				   "  \n"
				   "#kreview invalid\n"
				   "text\n"
				   "#kreview wontfix\n";
	struct strbuf q = STRBUF_INIT;

	(void)state;
	findingcmd_quote_above(&q, body, strlen(body), 6);
	assert_string_equal(q.buf, "first\nsecond\n");
	strbuf_reset(&q);
	findingcmd_quote_above(&q, body, strlen(body), 8);
	assert_string_equal(q.buf, "");
	strbuf_reset(&q);
	findingcmd_quote_above(&q, body, strlen(body), 1);
	assert_string_equal(q.buf, "");
	strbuf_release(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_finding, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_private_cap, setup,
						teardown),
		cmocka_unit_test(test_quote_above),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
