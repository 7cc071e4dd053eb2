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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle, setup, teardown),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
