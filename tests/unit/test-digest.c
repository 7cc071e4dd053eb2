/*
 * Unit tests for sending bug digests (digest.h): the Cc and the uncc
 * rule, moderation with upstream and regenerate (through bugcmd), and
 * the schedule: period, daily limit, round robin, restart.
 */
#include "testutil.h"

#include "kreview/bugcmd.h"
#include "kreview/bugdb.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/digest.h"
#include "kreview/maint.h"
#include "kreview/msg.h"
#include "kreview/outbox.h"

#include <gmime/gmime.h>

#define T0 1717000000000LL
#define HOUR (3600LL * 1000)
#define DAY (24 * HOUR)

static const char maintainers[] =
	"IO_URING\n"
	"M:\tJens Axboe <axboe@kernel.dk>\n"
	"R:\tPavel Begunkov <asml.silence@gmail.com>\n"
	"L:\tio-uring@vger.kernel.org\n"
	"S:\tMaintained\n"
	"F:\tio_uring/\n"
	"\n"
	"NETWORKING DRIVERS\n"
	"M:\tJakub Kicinski <kuba@kernel.org>\n"
	"L:\tnetdev@vger.kernel.org\n"
	"S:\tMaintained\n"
	"F:\tdrivers/net/\n";

struct fx {
	char *dir;
	struct strbuf bugs, dbpath;
	struct db *db;
	struct kreview_config *cfg;
	struct maint *maint;
	struct digest_opts o;
	char ids[2][2][BUGDB_ID_MAX];	/* [section][bug] */
};

static const char *const sections[] = { "IO_URING", "NETWORKING DRIVERS" };

static void admit(struct fx *f, int s)
{
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT;
	struct bugdb *bdb = NULL;

	bugdb_path(&p, f->bugs.buf, sections[s]);
	assert_int_equal(bugdb_open(&bdb, p.buf, sections[s], &err), 0);
	bugdb_set_clock(bdb, T0 - 60 * DAY);
	for (int i = 0; i < 2; i++) {
		char fp[16], fn[16];
		struct bugdb_finding b = {
			.fingerprint = fp, .title = "a leak", .file = "x.c",
			.function = fn, .category = "resource-leak",
			.severity = SEV_HIGH, .support = 2, .runs = 2,
			.verified = true, .pre_existing = true,
		};
		enum bugdb_admission w;

		snprintf(fp, sizeof(fp), "fp%d", i);
		snprintf(fn, sizeof(fn), "fn%d", i);
		assert_int_equal(bugdb_admit(&w, f->ids[s][i], bdb, &b, NULL,
					     &err), 0);
	}
	bugdb_close(bdb);
	strbuf_release(&p);
	strbuf_release(&err);
}

static void load(struct fx *f, const char *extra)
{
	struct strbuf err = STRBUF_INIT, yaml = STRBUF_INIT;

	config_free(f->cfg);
	strbuf_addf(&yaml,
		    "state_dir: %s\n"
		    "ingest:\n  own_address: kreview@example.org\n"
		    "mail:\n  from: kreview <kreview@example.org>\n"
		    "lists:\n  - name: io-uring\n"
		    "    address: io-uring@vger.kernel.org\n    mode: outbox\n"
		    "  - name: netdev\n"
		    "    address: netdev@vger.kernel.org\n    mode: dry-run\n"
		    "bugs:\n  dir: %s\n"
		    "  digest_min_age: 0\n  digest_quiet_after_reply: 0\n"
		    "  digest_reverify_max_age: 0\n"
		    "  digest_sections: [IO_URING, NETWORKING DRIVERS]\n"
		    "  digest_daily_limit: 1\n"
		    "  digest_curator: curator@example.org\n%s",
		    f->dir, f->bugs.buf, extra);
	if (config_load_buffer(&f->cfg, "test.yaml", yaml.buf, yaml.len,
			       &err) < 0)
		fail_msg("config: %s", err.buf);
	f->o.cfg = f->cfg;
	f->o.bugs = f->cfg->bugs;
	strbuf_release(&yaml);
	strbuf_release(&err);
}

static void reopen(struct fx *f)
{
	struct strbuf err = STRBUF_INIT;

	db_close(f->db);
	if (db_open(&f->db, f->dbpath.buf, &err) < 0)
		fail_msg("db: %s", err.buf);
	strbuf_release(&err);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT;

	f->dir = test_mkdtemp();
	strbuf_init(&f->bugs, 0);
	strbuf_init(&f->dbpath, 0);
	strbuf_addf(&f->bugs, "%s/bugs", f->dir);
	strbuf_addf(&f->dbpath, "%s/kreview.db", f->dir);
	load(f, "");
	if (maint_parse(&f->maint, maintainers, strlen(maintainers),
			"MAINTAINERS", NULL, &err) < 0)
		fail_msg("maint: %s", err.buf);
	admit(f, 0);
	admit(f, 1);
	reopen(f);
	f->o.dir = f->bugs.buf;
	f->o.maint = f->maint;
	f->o.now_ms = T0;
	strbuf_release(&err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	db_close(f->db);
	config_free(f->cfg);
	maint_free(f->maint);
	test_rmtree(f->dir);
	free(f->dir);
	strbuf_release(&f->bugs);
	strbuf_release(&f->dbpath);
	free(f);
	return 0;
}

static struct bugdb *open_io(struct fx *f)
{
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT;
	struct bugdb *bdb = NULL;

	bugdb_path(&p, f->bugs.buf, "IO_URING");
	assert_int_equal(bugdb_open(&bdb, p.buf, NULL, &err), 0);
	bugdb_set_clock(bdb, T0);
	strbuf_release(&p);
	strbuf_release(&err);
	return bdb;
}

static void get_row(struct outbox_item *it, struct fx *f, int64_t id)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(outbox_get(it, f->db, id, NULL, &err), 0);
	strbuf_release(&err);
}

/* uncc drops an address only when it was sent on every bug. */
static void test_cc_uncc(void **state)
{
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct config_strlist cc = { 0 };
	struct bugdb *bdb = open_io(f);

	for (int i = 0; i < 2; i++) {
		ALLOC_GROW(l.v, l.nr + 1, l.alloc);
		bugdb_bug_init(&l.v[l.nr]);
		snprintf(l.v[l.nr++].id, BUGDB_ID_MAX, "%s", f->ids[0][i]);
	}
	assert_int_equal(digest_cc(&cc, bdb, &l, f->maint, &err), 0);
	assert_int_equal(cc.nr, 2);
	assert_string_equal(cc.v[0], "Jens Axboe <axboe@kernel.dk>");
	config_strlist_release(&cc);

	assert_int_equal(bugdb_uncc(bdb, f->ids[0][0], "AXBOE@kernel.dk",
				    "m1@x", &err), 0);
	assert_int_equal(digest_cc(&cc, bdb, &l, f->maint, &err), 0);
	assert_int_equal(cc.nr, 2);	/* still follows the other bug */
	config_strlist_release(&cc);

	assert_int_equal(bugdb_uncc(bdb, f->ids[0][1], "axboe@kernel.dk",
				    "m2@x", &err), 0);
	assert_int_equal(digest_cc(&cc, bdb, &l, f->maint, &err), 0);
	assert_int_equal(cc.nr, 1);
	assert_string_equal(cc.v[0], "Pavel Begunkov <asml.silence@gmail.com>");
	config_strlist_release(&cc);

	/* a digest of one bug: the uncc on it is enough */
	l.nr = 1;
	assert_int_equal(bugdb_uncc(bdb, f->ids[0][0], "asml.silence@gmail.com",
				    "m3@x", &err), 0);
	assert_int_equal(digest_cc(&cc, bdb, &l, f->maint, &err), 0);
	assert_int_equal(cc.nr, 0);
	l.nr = 2;
	/* without MAINTAINERS: the stored addresses */
	config_strlist_release(&cc);
	bugdb_list_release(&l);
	bugdb_close(bdb);
	strbuf_release(&err);
}

/* One command mail answering 'irt' from 'from'; the result line. */
static int command(struct fx *f, const char *from, const char *irt,
		   const char *body, struct strbuf *reply)
{
	struct digest_cmd dc = { .db = f->db, .o = f->o };
	struct bugcmd_ctx ctx = { .dir = f->bugs.buf, .cfg = f->cfg->bugs,
				  .maint = f->maint, .now_ms = T0,
				  .digest = digest_command,
				  .digest_data = &dc };
	struct strbuf raw = STRBUF_INIT, err = STRBUF_INIT;
	static int n;
	bool dup;
	size_t failed = 0;
	struct msg m;

	strbuf_addf(&raw, "From: %s\nSubject: Re: digest\n"
			  "Message-ID: <cmd%d@x>\nIn-Reply-To: <%s>\n\n%s",
		    from, ++n, irt, body);
	msg_init(&m);
	assert_int_equal(msg_parse(&m, raw.buf, raw.len, NULL), 0);
	strbuf_reset(reply);
	assert_int_equal(bugcmd_process(reply, &dup, &failed, &ctx, &m, &err),
			 0);
	msg_release(&m);
	strbuf_release(&raw);
	strbuf_release(&err);
	return (int)failed;
}

static void test_moderation(void **state)
{
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT, reply = STRBUF_INIT;
	struct digest_result r, r2;
	struct outbox_item it;
	struct bugdb *bdb = open_io(f);
	char id[BUGDB_ID_MAX];
	const char *ids[1];
	char *first;

	assert_int_equal(digest_queue(&r, f->db, bdb, DIGEST_CLI, &f->o, &err),
			 0);
	assert_true(r.outbox_id > 0);
	assert_true(r.to_curator);
	assert_int_equal(r.bugs, 2);
	get_row(&it, f, r.outbox_id);
	assert_string_equal(it.kind, "digest");
	assert_string_equal(it.mode, "outbox");
	assert_string_equal(it.rcpts, "curator@example.org\n");
	assert_string_equal(it.subject,
			    "[kreview] IO_URING open-bug digest (May 2024)");
	assert_non_null(strstr(it.message, "\nAuto-Submitted: auto-generated\n"));
	assert_non_null(strstr(it.message, "To: curator@example.org\n"));
	assert_null(strstr(it.message, "\nCc:"));
	assert_non_null(strstr(it.message, "held for moderation"));
	outbox_item_release(&it);
	/* the numbering is stored under its Message-ID */
	ids[0] = r.msgid;
	assert_int_equal(bugdb_digest_ref(id, bdb, ids, 1, 2, &err), 1);
	first = xstrdup(r.msgid);
	digest_result_release(&r);

	/* a stranger cannot release it; the parser wants no bug */
	assert_int_equal(command(f, "someone@example.com", first,
				 "#kreview upstream\n", &reply), 1);
	assert_non_null(strstr(reply.buf, "refused: someone@example.com"));
	assert_int_equal(command(f, "curator@example.org", first,
				 "#kreview <1> upstream\n", &reply), 1);
	assert_non_null(strstr(reply.buf, "upstream takes no bug"));
	/* regenerate: a new one, still to the curator */
	assert_int_equal(command(f, "curator@example.org", first,
				 "#kreview regenerate\n", &reply), 0);
	assert_non_null(strstr(reply.buf, "regenerated"));
	assert_non_null(strstr(reply.buf, "to the curator"));
	/* upstream by the curator: the list copy */
	assert_int_equal(command(f, "Curator <curator@example.org>", first,
				 "#kreview upstream\n", &reply), 0);
	assert_non_null(strstr(reply.buf, "released: the list copy"));
	assert_int_equal(command(f, "curator@example.org", first,
				 "#kreview upstream\n", &reply), 1);
	assert_non_null(strstr(reply.buf, "released before"));

	/* from now on digests go to the list */
	assert_int_equal(digest_queue(&r2, f->db, bdb, DIGEST_CLI, &f->o,
				      &err), 0);
	assert_false(r2.to_curator);
	get_row(&it, f, r2.outbox_id);
	assert_string_equal(it.rcpts, "io-uring@vger.kernel.org\n"
				      "axboe@kernel.dk\n"
				      "asml.silence@gmail.com\n");
	assert_non_null(strstr(it.message, "To: io-uring@vger.kernel.org\n"));
	assert_null(strstr(it.message, "held for moderation"));
	assert_string_equal(it.in_reply_to, it.msgid);
	outbox_item_release(&it);
	/* and upstream on a list copy is an error */
	assert_int_equal(command(f, "axboe@kernel.dk", r2.msgid,
				 "#kreview upstream\n", &reply), 1);
	assert_non_null(strstr(reply.buf, "went to the list already"));
	digest_result_release(&r2);
	free(first);
	bugdb_close(bdb);
	strbuf_release(&reply);
	strbuf_release(&err);
}

/* The released copy: same body, new Message-ID, numbering stored. */
static void test_release_body(void **state)
{
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct digest_result r, rel;
	struct outbox_item a, b;
	struct bugdb *bdb = open_io(f);
	char id[BUGDB_ID_MAX];
	const char *ids[1];
	const char *ba, *bb;

	assert_int_equal(digest_queue(&r, f->db, bdb, DIGEST_CLI, &f->o, &err),
			 0);
	assert_int_equal(digest_release(&rel, f->db, r.msgid, &f->o, &err), 0);
	assert_true(rel.outbox_id > 0);
	assert_string_not_equal(rel.msgid, r.msgid);
	get_row(&a, f, r.outbox_id);
	get_row(&b, f, rel.outbox_id);
	ba = strstr(a.message, "Hello IO_URING");
	bb = strstr(b.message, "\n\n") + 2;
	assert_non_null(ba);
	assert_ptr_equal(strstr(b.message, "Hello IO_URING"), bb);
	assert_string_equal(ba, bb);
	ids[0] = rel.msgid;
	assert_int_equal(bugdb_digest_ref(id, bdb, ids, 1, 1, &err), 1);
	outbox_item_release(&a);
	outbox_item_release(&b);
	digest_result_release(&r);
	digest_result_release(&rel);
	bugdb_close(bdb);
	strbuf_release(&err);
}

static size_t pass(struct fx *f, int64_t now, size_t *deferred)
{
	struct strbuf err = STRBUF_INIT;
	struct digest_pass_stats st;

	f->o.now_ms = now;
	reopen(f);	/* every pass as after a restart */
	if (digest_pass(&st, f->db, &f->o, NULL, NULL, &err) < 0)
		fail_msg("pass: %s", err.buf);
	strbuf_release(&err);
	*deferred = st.deferred;
	return st.queued;
}

static size_t count_digests(struct fx *f, const char *subject_part)
{
	struct outbox_list l = OUTBOX_LIST_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t n = 0;

	assert_int_equal(outbox_list(&l, f->db, OUTBOX_STATE_MAX, 0, &err), 0);
	for (size_t i = 0; i < l.nr; i++)
		if (!strcmp(l.v[i].kind, "digest") &&
		    strstr(l.v[i].subject, subject_part))
			n++;
	outbox_list_release(&l);
	strbuf_release(&err);
	return n;
}

static void test_schedule(void **state)
{
	struct fx *f = *state;
	size_t def;

	/* limit 1 a day: IO_URING first (configuration order) */
	assert_int_equal(pass(f, T0, &def), 1);
	assert_int_equal(def, 1);
	assert_int_equal(count_digests(f, "IO_URING"), 1);
	/* an hour later (a restart): nothing more today */
	assert_int_equal(pass(f, T0 + HOUR, &def), 0);
	assert_int_equal(def, 1);
	/* the next day: the other section (round robin) */
	assert_int_equal(pass(f, T0 + DAY + HOUR, &def), 1);
	assert_int_equal(def, 0);
	assert_int_equal(count_digests(f, "NETWORKING DRIVERS"), 1);
	/* nothing is due again before the period */
	assert_int_equal(pass(f, T0 + 29 * DAY, &def), 0);
	assert_int_equal(def, 0);
	/* after it, one only due: that one */
	assert_int_equal(pass(f, T0 + 30 * DAY + 2 * HOUR, &def), 1);
	assert_int_equal(def, 0);
	assert_int_equal(count_digests(f, "IO_URING"), 2);
	/* both due: the least recently sent first */
	assert_int_equal(pass(f, T0 + 61 * DAY, &def), 1);
	assert_int_equal(def, 1);
	assert_int_equal(count_digests(f, "IO_URING"), 2);
	assert_int_equal(count_digests(f, "NETWORKING DRIVERS"), 2);
	assert_int_equal(pass(f, T0 + 62 * DAY + HOUR, &def), 1);
	assert_int_equal(count_digests(f, "IO_URING"), 3);
	assert_int_equal(count_digests(f, "NETWORKING DRIVERS"), 2);
}

static void test_schedule_skips(void **state)
{
	struct fx *f = *state;
	size_t def;

	/* too few bugs: skipped, and the limit is not used up */
	load(f, "  digest_min_bugs: 3\n");
	f->cfg->bugs->digest_daily_limit = 5;
	assert_int_equal(pass(f, T0, &def), 0);
	assert_int_equal(count_digests(f, "digest"), 0);
	/* no sections configured: nothing */
	load(f, "  digest_min_bugs: 2\n");
	f->cfg->bugs->digest_daily_limit = 5;
	f->cfg->bugs->digest_sections.nr = 0;
	assert_int_equal(pass(f, T0, &def), 0);
	f->cfg->bugs->digest_sections.nr = 2;
	/* no curator while moderated: no digest */
	free(f->cfg->bugs->digest_curator);
	f->cfg->bugs->digest_curator = NULL;
	assert_int_equal(pass(f, T0, &def), 0);
	/* moderation off: straight to the lists, both today */
	f->cfg->bugs->digest_moderation = false;
	assert_int_equal(pass(f, T0, &def), 2);
	assert_int_equal(count_digests(f, "digest"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cc_uncc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moderation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_release_body, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_skips, setup,
						teardown),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
