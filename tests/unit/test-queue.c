/*
 * Tests for the daemon's job queue: which revisions become jobs (and
 * only once), supersession by newer revisions, priorities, leases with
 * expiry and attempts, backoff after failures, finishing only under a
 * held lease, daily usage and budget waits across a UTC day, resends
 * of reviewed patches skipped.  Series and messages are written
 * straight into a fresh database.
 */
#include "testutil.h"

#include "kreview/db.h"
#include "kreview/msg.h"
#include "kreview/queue.h"
#include "kreview/store.h"

#include <gmime/gmime.h>

#define DAY_MS INT64_C(86400000)
/* 2026-06-01T12:00:00Z */
#define NOW INT64_C(1780315200000)

struct fixture {
	char *dir;
	struct db *db;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;

	f->dir = test_mkdtemp();
	strbuf_addf(&path, "%s/kreview.db", f->dir);
	if (db_open(&f->db, path.buf, &err) < 0)
		fail_msg("db_open: %s", err.buf);
	strbuf_release(&err);
	strbuf_release(&path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	db_close(f->db);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void exec(struct db *db, const char *sql)
{
	struct strbuf err = STRBUF_INIT;

	if (db_exec(db, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.buf);
	strbuf_release(&err);
}

/* A stored message 'msgid' (bot mail when 'bot') read from 'list'. */
static void message(struct db *db, const char *msgid, bool bot,
		    const char *list, int priority)
{
	struct strbuf sql = STRBUF_INIT;

	strbuf_addf(&sql,
		    "INSERT INTO message(msgid, blob_oid, subject, title,"
		    " norm_title, is_reply, is_bot, has_diff, has_diffstat,"
		    " has_trailers, revision, revision_explicit, counter,"
		    " expected, counter_explicit, flag_patch, flag_rfc,"
		    " flag_resend, thread_id, ingested_ms) VALUES ('%s', 'x',"
		    " 's', 't', 't', 0, %d, 1, 0, 0, 1, 0, 1, 1, 0, 1,"
		    " 0, 0, 1, 0)",
		    msgid, bot);
	exec(db, sql.buf);
	if (list) {
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(db_begin(db, &err), 0);
		assert_int_equal(queue_note_message(db, msgid, list, priority,
						    &err),
				 0);
		/* the first source wins */
		assert_int_equal(queue_note_message(db, msgid, "other", 99,
						    &err),
				 0);
		assert_int_equal(db_commit(db, &err), 0);
		strbuf_release(&err);
	}
	strbuf_release(&sql);
}

/* Series revision 'id' with one patch 'msgid'. */
static void series(struct db *db, int id, int prev, bool complete,
		   bool stalled, const char *msgid)
{
	struct strbuf sql = STRBUF_INIT;

	strbuf_addf(&sql,
		    "INSERT INTO series(id, thread_id, version, total, subject,"
		    " norm_title, complete, stalled, prev_version, created_ms,"
		    " updated_ms) VALUES (%d, %d, 1, 1, 's', 's', %d, %d, %s,"
		    " 0, 0)",
		    id, id, complete, stalled, prev ? "" : "NULL");
	if (prev) {
		strbuf_reset(&sql);
		strbuf_addf(&sql,
			    "INSERT INTO series(id, thread_id, version, total,"
			    " subject, norm_title, complete, stalled,"
			    " prev_version, created_ms, updated_ms) VALUES (%d,"
			    " %d, 2, 1, 's', 's', %d, %d, %d, 0, 0)",
			    id, id, complete, stalled, prev);
	}
	exec(db, sql.buf);
	strbuf_reset(&sql);
	strbuf_addf(&sql,
		    "INSERT INTO series_patch(series_id, idx, msgid)"
		    " VALUES (%d, 1, '%s')",
		    id, msgid);
	exec(db, sql.buf);
	strbuf_release(&sql);
}

static const char *job_state(struct db *db, int series_id)
{
	static char buf[32];
	sqlite3_stmt *st = db_prepare(db, "SELECT state FROM job"
					  " WHERE series_id = ?");
	int r;

	db_bind_int64(st, 1, series_id);
	r = db_step(db, st, NULL);
	snprintf(buf, sizeof(buf), "%s",
		 r == 1 ? (const char *)sqlite3_column_text(st, 0) : "none");
	db_done(st);
	return buf;
}

static size_t scan(struct db *db, int64_t now)
{
	struct strbuf err = STRBUF_INIT;
	size_t n = 99;

	if (queue_scan(&n, db, "ep", now, &err) < 0)
		fail_msg("queue_scan: %s", err.buf);
	strbuf_release(&err);
	return n;
}

static int lease(struct queue_job *j, int64_t *next, struct db *db,
		 const char *owner, int64_t now)
{
	return queue_lease(j, next, db, owner, now, 60000, NULL, NULL, NULL);
}

static void test_scan(void **state)
{
	struct fixture *f = *state;

	message(f->db, "a@x", false, "l", 50);
	message(f->db, "b@x", false, "l", 50);
	message(f->db, "c@x", false, "l", 50);
	message(f->db, "bot@x", true, "l", 50);
	series(f->db, 1, 0, true, false, "a@x");	/* complete */
	series(f->db, 2, 0, false, false, "b@x");	/* still arriving */
	series(f->db, 3, 0, false, true, "c@x");	/* stalled */
	series(f->db, 4, 0, true, false, "bot@x");	/* bot mail */
	series(f->db, 5, 0, true, false, "gone@x");	/* nothing stored */

	assert_int_equal(scan(f->db, NOW), 2);
	assert_string_equal(job_state(f->db, 1), "queued");
	assert_string_equal(job_state(f->db, 2), "none");
	assert_string_equal(job_state(f->db, 3), "queued");
	assert_string_equal(job_state(f->db, 4), "skipped");
	assert_string_equal(job_state(f->db, 5), "skipped");
	/* never twice */
	assert_int_equal(scan(f->db, NOW), 0);
	exec(f->db, "UPDATE series SET complete = 1 WHERE id = 2");
	assert_int_equal(scan(f->db, NOW), 1);
	assert_string_equal(job_state(f->db, 2), "queued");
}

static void test_supersede(void **state)
{
	struct fixture *f = *state;
	struct queue_job j = QUEUE_JOB_INIT;

	message(f->db, "v1@x", false, "l", 50);
	message(f->db, "v2@x", false, "l", 50);
	message(f->db, "v3@x", false, "l", 50);
	series(f->db, 1, 0, true, false, "v1@x");
	assert_int_equal(scan(f->db, NOW), 1);
	/* v2 arrives: queued v1 is superseded */
	series(f->db, 2, 1, true, false, "v2@x");
	assert_int_equal(scan(f->db, NOW), 1);
	assert_string_equal(job_state(f->db, 1), "superseded");
	assert_string_equal(job_state(f->db, 2), "queued");
	/* a running v2 is not taken away by v3 */
	assert_int_equal(lease(&j, NULL, f->db, "w", NOW), 1);
	assert_int_equal(j.series_id, 2);
	series(f->db, 3, 2, true, false, "v3@x");
	assert_int_equal(scan(f->db, NOW), 1);
	assert_string_equal(job_state(f->db, 2), "running");
	queue_job_release(&j);

	/* an old revision found after a newer one has its job */
	message(f->db, "o1@x", false, "l", 50);
	message(f->db, "o2@x", false, "l", 50);
	exec(f->db, "INSERT INTO series(id, thread_id, version, total, subject,"
		    " norm_title, complete, prev_version, created_ms, updated_ms)"
		    " VALUES (11, 11, 1, 1, 's', 's', 0, NULL, 0, 0)");
	exec(f->db, "INSERT INTO series_patch VALUES (11, 1, 'o1@x', NULL)");
	series(f->db, 12, 11, true, false, "o2@x");
	assert_int_equal(scan(f->db, NOW), 1);
	exec(f->db, "UPDATE series SET complete = 1 WHERE id = 11");
	assert_int_equal(scan(f->db, NOW), 0);
	assert_string_equal(job_state(f->db, 11), "superseded");
}

static void test_priorities(void **state)
{
	struct fixture *f = *state;
	struct queue_job j = QUEUE_JOB_INIT;

	message(f->db, "list1@x", false, "lkml", 50);
	message(f->db, "list2@x", false, "lkml", 50);
	message(f->db, "local@x", false, "local", 0);
	message(f->db, "unknown@x", false, NULL, 0);
	series(f->db, 1, 0, true, false, "list1@x");
	series(f->db, 2, 0, true, false, "list2@x");
	series(f->db, 3, 0, true, false, "unknown@x");
	series(f->db, 4, 0, true, false, "local@x");
	assert_int_equal(scan(f->db, NOW), 4);

	assert_int_equal(lease(&j, NULL, f->db, "w", NOW), 1);
	assert_int_equal(j.series_id, 4);	/* local first */
	assert_string_equal(j.list, "local");
	assert_string_equal(j.endpoint, "ep");
	assert_int_equal(lease(&j, NULL, f->db, "w", NOW), 1);
	assert_int_equal(j.series_id, 1);	/* then the oldest backlog */
	assert_string_equal(j.list, "lkml");
	assert_int_equal(lease(&j, NULL, f->db, "w", NOW), 1);
	assert_int_equal(j.series_id, 2);
	assert_int_equal(lease(&j, NULL, f->db, "w", NOW), 1);
	assert_int_equal(j.series_id, 3);
	assert_string_equal(j.list, "");
	assert_int_equal(j.priority, QUEUE_DEFAULT_PRIORITY);
	assert_int_equal(lease(&j, NULL, f->db, "w", NOW), 0);
	queue_job_release(&j);
}

static void test_leases(void **state)
{
	struct fixture *f = *state;
	struct queue_job j = QUEUE_JOB_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t n = 0;

	message(f->db, "a@x", false, "l", 50);
	series(f->db, 1, 0, true, false, "a@x");
	assert_int_equal(scan(f->db, NOW), 1);

	assert_int_equal(lease(&j, NULL, f->db, "w1", NOW), 1);
	assert_int_equal(j.attempts, 1);
	assert_true(j.lease_expires_ms == NOW + 60000);
	assert_int_equal(queue_count(&n, f->db, QUEUE_RUNNING, "ep", &err), 0);
	assert_int_equal(n, 1);
	/* renewal by the holder only */
	assert_int_equal(queue_renew(f->db, j.id, "w1", NOW + 50000, 60000,
				     &err),
			 0);
	assert_int_equal(queue_renew(f->db, j.id, "w2", NOW, 60000, NULL),
			 -ESTALE);
	/* not expired yet at the first deadline */
	assert_int_equal(queue_expire(&n, f->db, NOW + 60001, false, 3, &err),
			 0);
	assert_int_equal(n, 0);
	/* expired: back to the queue, the attempt counted */
	assert_int_equal(queue_expire(&n, f->db, NOW + 110001, false, 3, &err),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal(job_state(f->db, 1), "queued");
	/* the old holder can no longer finish */
	assert_int_equal(queue_finish(f->db, j.id, "w1", 7, NOW, NULL),
			 -ESTALE);

	assert_int_equal(lease(&j, NULL, f->db, "w2", NOW + 120000), 1);
	assert_int_equal(j.attempts, 2);
	/* an interruption gives it back without counting */
	assert_int_equal(queue_release(f->db, j.id, "w2", NOW + 120001, &err),
			 0);
	assert_int_equal(lease(&j, NULL, f->db, "w3", NOW + 120002), 1);
	assert_int_equal(j.attempts, 2);
	/* a daemon restarting under its lock takes back every lease */
	assert_int_equal(queue_expire(&n, f->db, NOW + 120003, true, 3, &err),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(lease(&j, NULL, f->db, "w4", NOW + 120004), 1);
	assert_int_equal(j.attempts, 2);
	/* third attempt expires: failed */
	assert_int_equal(queue_expire(&n, f->db, NOW + 1000000, false, 2, &err),
			 0);
	assert_string_equal(job_state(f->db, 1), "failed");
	queue_job_release(&j);
	strbuf_release(&err);
}

static void test_finish_and_fail(void **state)
{
	struct fixture *f = *state;
	struct queue_job j = QUEUE_JOB_INIT;
	struct strbuf err = STRBUF_INIT;
	int64_t next = 0;

	message(f->db, "a@x", false, "l", 50);
	message(f->db, "b@x", false, "l", 50);
	series(f->db, 1, 0, true, false, "a@x");
	series(f->db, 2, 0, true, false, "b@x");
	assert_int_equal(scan(f->db, NOW), 2);

	assert_int_equal(lease(&j, NULL, f->db, "w", NOW), 1);
	assert_int_equal(db_begin(f->db, &err), 0);
	assert_int_equal(queue_finish(f->db, j.id, "w", 42, NOW, &err), 0);
	assert_int_equal(db_commit(f->db, &err), 0);
	assert_string_equal(job_state(f->db, 1), "done");

	/* failures back off, doubling */
	assert_int_equal(lease(&j, NULL, f->db, "w", NOW), 1);
	assert_int_equal(j.series_id, 2);
	assert_int_equal(queue_fail(f->db, j.id, "w", "boom", 3, 1000, NOW,
				    &err),
			 0);
	assert_int_equal(lease(&j, &next, f->db, "w", NOW + 999), 0);
	assert_true(next == NOW + 1000);
	assert_int_equal(lease(&j, NULL, f->db, "w", NOW + 1000), 1);
	assert_int_equal(queue_fail(f->db, j.id, "w", "boom", 3, 1000,
				    NOW + 1000, &err),
			 0);
	assert_int_equal(lease(&j, &next, f->db, "w", NOW + 2999), 0);
	assert_true(next == NOW + 3000);
	assert_int_equal(lease(&j, NULL, f->db, "w", NOW + 3000), 1);
	assert_int_equal(queue_fail(f->db, j.id, "w", "boom", 3, 1000,
				    NOW + 3000, &err),
			 0);
	assert_string_equal(job_state(f->db, 2), "failed");
	/* a job that cannot be reviewed is skipped */
	assert_int_equal(queue_skip(f->db, j.id, "no", NOW, NULL), -ESTALE);
	queue_job_release(&j);
	strbuf_release(&err);
}

struct budget {
	struct db *db;
	int64_t now;
	uint64_t tokens;
};

/* The daemon's rule in small: a list over its tokens waits a day. */
static bool admit(void *ctx, const struct queue_job *j, int64_t *wait)
{
	struct budget *b = ctx;
	uint64_t t = 0;
	double c = 0;

	assert_int_equal(queue_usage_today(&t, &c, b->db, j->list, b->now,
					   NULL),
			 0);
	if (t < b->tokens)
		return true;
	*wait = queue_next_day_ms(b->now);
	return false;
}

static void test_budget(void **state)
{
	struct fixture *f = *state;
	struct budget b = { f->db, NOW, 1000 };
	struct queue_job j = QUEUE_JOB_INIT;
	struct strbuf err = STRBUF_INIT;
	char day[11];
	int64_t next = 0;
	uint64_t t = 0;
	double c = 0;

	queue_day(day, NOW);
	assert_string_equal(day, "2026-06-01");
	assert_true(queue_next_day_ms(NOW) == NOW + DAY_MS / 2);
	queue_day(day, queue_next_day_ms(NOW));
	assert_string_equal(day, "2026-06-02");

	message(f->db, "a@x", false, "l", 50);
	message(f->db, "b@x", false, "m", 50);
	message(f->db, "c@x", false, "l", 50);
	series(f->db, 1, 0, true, false, "a@x");
	series(f->db, 2, 0, true, false, "b@x");
	series(f->db, 3, 0, true, false, "c@x");
	assert_int_equal(scan(f->db, NOW), 3);

	assert_int_equal(queue_lease(&j, NULL, f->db, "w", NOW, 60000, admit,
				     &b, &err),
			 1);
	assert_int_equal(db_begin(f->db, &err), 0);
	assert_int_equal(queue_finish(f->db, j.id, "w", 1, NOW, &err), 0);
	assert_int_equal(queue_usage_add(f->db, NOW, "l", "ep", 1500, 0.25,
					 &err),
			 0);
	assert_int_equal(db_commit(f->db, &err), 0);
	assert_int_equal(queue_usage_today(&t, &c, f->db, "l", NOW, &err), 0);
	assert_true(t == 1500 && c == 0.25);

	/* 'l' is over: its job waits, 'm' goes first */
	assert_int_equal(queue_lease(&j, NULL, f->db, "w", NOW, 60000, admit,
				     &b, &err),
			 1);
	assert_int_equal(j.series_id, 2);
	assert_int_equal(queue_lease(&j, &next, f->db, "w", NOW, 60000, admit,
				     &b, &err),
			 0);
	assert_true(next == NOW + DAY_MS / 2);
	assert_string_equal(job_state(f->db, 3), "queued");
	/* the next day it runs */
	b.now = next;
	assert_int_equal(queue_usage_today(&t, &c, f->db, "l", b.now, &err), 0);
	assert_true(t == 0);
	assert_int_equal(queue_lease(&j, NULL, f->db, "w", b.now, 60000, admit,
				     &b, &err),
			 1);
	assert_int_equal(j.series_id, 3);
	/* usage of one day adds up per list and endpoint */
	assert_int_equal(db_begin(f->db, &err), 0);
	assert_int_equal(queue_usage_add(f->db, NOW, "l", "ep", 10, 0.5, &err),
			 0);
	assert_int_equal(queue_usage_add(f->db, NOW, "m", "ep", 5, 0, &err), 0);
	assert_int_equal(db_commit(f->db, &err), 0);
	assert_int_equal(queue_usage_today(&t, &c, f->db, NULL, NOW, &err), 0);
	assert_true(t == 1515 && c == 0.75);
	queue_job_release(&j);
	strbuf_release(&err);
}

static void test_state_names(void **state)
{
	enum queue_state s;

	(void)state;
	for (int i = 0; i < QUEUE_STATE_MAX; i++) {
		assert_int_equal(queue_state_parse(&s, queue_state_name(
							       (enum queue_state)i)),
				 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(queue_state_parse(&s, "dead"), -EINVAL);
}

/* A stored patch mail 'msgid' whose diff adds 'line' (raw bytes kept). */
static void patch_mail(struct db *db, const char *msgid, const char *subject,
		       const char *hunk_at, const char *line)
{
	struct strbuf raw = STRBUF_INIT, err = STRBUF_INIT;
	enum store_add_result res;
	struct msg m;

	strbuf_addf(&raw,
		    "From: Jane <jane@example.org>\nMessage-ID: <%s>\n"
		    "Subject: %s\nDate: Mon, 1 Jun 2026 10:00:00 +0000\n\n"
		    "Commit message.\n\nSigned-off-by: Jane <jane@example.org>\n"
		    "---\ndiff --git a/io_uring/rw.c b/io_uring/rw.c\n"
		    "index 1111111..2222222 100644\n--- a/io_uring/rw.c\n"
		    "+++ b/io_uring/rw.c\n@@ %s @@ int io_read(void)\n"
		    " \tint ret;\n+%s\n \treturn ret;\n",
		    msgid, subject, hunk_at, line);
	msg_init(&m);
	assert_int_equal(msg_parse(&m, raw.buf, raw.len, NULL), 0);
	assert_int_equal(db_begin(db, &err), 0);
	assert_int_equal(store_add_message(&res, db, &m, false,
					   &(struct store_input){
						   .raw = raw.buf,
						   .len = raw.len,
						   .where = "test" },
					   &err),
			 0);
	assert_int_equal(db_commit(db, &err), 0);
	msg_release(&m);
	strbuf_release(&raw);
	strbuf_release(&err);
}

/* A resend of reviewed patches is not reviewed again; a change is. */
static void test_identical_resend(void **state)
{
	struct fixture *f = *state;
	const char *why;
	sqlite3_stmt *st;

	patch_mail(f->db, "r1@x", "[PATCH] io_uring: one", "-10,2 +10,3",
		   "\tret = 0;");
	series(f->db, 21, 0, true, false, "r1@x");
	assert_int_equal(scan(f->db, NOW), 1);
	/* the resend while v1 still waits: v1 superseded, resend queued */
	patch_mail(f->db, "r1b@x", "[PATCH RESEND] io_uring: one",
		   "-10,2 +10,3", "\tret = 0;");
	series(f->db, 22, 21, true, false, "r1b@x");
	assert_int_equal(scan(f->db, NOW), 1);
	assert_string_equal(job_state(f->db, 21), "superseded");
	assert_string_equal(job_state(f->db, 22), "queued");
	exec(f->db, "UPDATE job SET state = 'done' WHERE series_id = 22");

	/* reviewed: the same patch again (other line numbers, spaces) */
	patch_mail(f->db, "r1c@x", "[PATCH RESEND] io_uring: one",
		   "-40,2 +40,3", "\tret  = 0; ");
	series(f->db, 23, 22, true, false, "r1c@x");
	assert_int_equal(scan(f->db, NOW), 0);
	assert_string_equal(job_state(f->db, 23), "skipped");
	st = db_prepare(f->db, "SELECT last_error FROM job WHERE series_id = 23");
	assert_int_equal(db_step(f->db, st, NULL), 1);
	why = (const char *)sqlite3_column_text(st, 0);
	assert_string_equal(why, "the same patches as series 22, reviewed already");
	db_done(st);

	/* a real change after the reviewed one is reviewed */
	patch_mail(f->db, "r2@x", "[PATCH v2] io_uring: one", "-10,2 +10,3",
		   "\tret = 1;");
	series(f->db, 24, 23, true, false, "r2@x");
	assert_int_equal(scan(f->db, NOW), 1);
	assert_string_equal(job_state(f->db, 24), "queued");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_supersede, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_priorities, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_and_fail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identical_resend, setup,
						teardown),
		cmocka_unit_test(test_state_names),
	};
	int r;

	g_mime_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return r;
}
