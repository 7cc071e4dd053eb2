/*
 * Tests for the main database and the message store: opening and
 * migrating, refusing foreign files, duplicate and conflicting
 * Message-IDs, thread merging when parents arrive late, series ids
 * that stay stable while a revision fills up, stalling, deletion and
 * source cursors.  Messages are small raw strings run through
 * msg_parse() as ingestion does.
 */
#include "testutil.h"

#include "kreview/db.h"
#include "kreview/migrations.h"
#include "kreview/msg.h"
#include "kreview/store.h"

#include <git2.h>
#include <gmime/gmime.h>
#include <sqlite3.h>
#include <sys/stat.h>

#define HOUR_MS INT64_C(3600000)

struct fixture {
	char *dir;
	struct strbuf path;
	struct db *db;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT;

	f->dir = test_mkdtemp();
	strbuf_init(&f->path, 0);
	strbuf_addf(&f->path, "%s/kreview.db", f->dir);
	if (db_open(&f->db, f->path.buf, &err) < 0)
		fail_msg("db_open: %s", err.buf);
	strbuf_release(&err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	db_close(f->db);
	test_rmtree(f->dir);
	free(f->dir);
	strbuf_release(&f->path);
	free(f);
	return 0;
}

/* A raw message; 'extra' holds more header lines, 'body' the text. */
static void mail(struct strbuf *out, const char *msgid, const char *subject,
		 const char *date, const char *extra, const char *body)
{
	strbuf_reset(out);
	strbuf_addf(out,
		    "From: Jane Developer <jane@example.org>\n"
		    "To: io-uring@vger.kernel.org\n"
		    "Subject: %s\n"
		    "Date: %s\n"
		    "Message-ID: <%s>\n"
		    "%s\n%s",
		    subject, date ? date : "Tue, 2 Jan 2024 12:00:00 +0000",
		    msgid, extra ? extra : "", body);
}

static const char patch_body[] =
	"Fix it.\n\nSigned-off-by: Jane Developer <jane@example.org>\n"
	"---\n io_uring/rw.c | 2 +-\n"
	" 1 file changed, 1 insertion(+), 1 deletion(-)\n\n"
	"diff --git a/io_uring/rw.c b/io_uring/rw.c\n"
	"--- a/io_uring/rw.c\n+++ b/io_uring/rw.c\n"
	"@@ -1 +1 @@\n-a\n+b\n";
static const char cover_body[] =
	"A series.\n\n io_uring/rw.c | 2 +-\n"
	" 1 file changed, 1 insertion(+), 1 deletion(-)\n";

/* Parse and store 'raw' in its own transaction. */
static enum store_add_result add(struct db *db, const struct strbuf *raw)
{
	struct strbuf err = STRBUF_INIT;
	enum store_add_result res = STORE_CONFLICT;
	struct msg m;
	int r;

	msg_init(&m);
	r = msg_parse(&m, raw->buf, raw->len, NULL);
	if (r < 0)
		fail_msg("msg_parse: %d", r);
	assert_int_equal(db_begin(db, &err), 0);
	r = store_add_message(&res, db, &m, msg_is_bot(&m),
			      &(struct store_input){ .raw = raw->buf,
						     .len = raw->len,
						     .where = "test" },
			      &err);
	if (r < 0)
		fail_msg("store_add_message: %d %s", r, err.buf);
	assert_int_equal(db_commit(db, &err), 0);
	msg_release(&m);
	strbuf_release(&err);
	return res;
}

static int64_t query_int(struct db *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare '%s': %s", sql, db_errmsg(db));
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t thread_of(struct db *db, const char *msgid)
{
	return query_int(db, "SELECT thread_id FROM message WHERE msgid = ?",
			 msgid);
}

static void assemble(struct store_assemble_stats *st, struct db *db,
		     int64_t stall_after_ms, int64_t now_ms)
{
	struct strbuf err = STRBUF_INIT;

	memset(st, 0xff, sizeof(*st));
	if (store_assemble_dirty(st, db, stall_after_ms, now_ms, &err) < 0)
		fail_msg("store_assemble_dirty: %s", err.buf);
	strbuf_release(&err);
}

/* ---- db_open ---- */

static void test_open(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct db *db = NULL;
	int version;

	(void)state;
	/* missing directories are created */
	strbuf_addf(&path, "%s/a/b/c/kreview.db", dir);
	if (db_open(&db, path.buf, &err) < 0)
		fail_msg("db_open: %s", err.buf);
	version = db_schema_version(db);
	assert_true(version >= 1);
	assert_int_equal(query_int(db, "PRAGMA application_id", NULL),
			 DB_APPLICATION_ID);
	assert_int_equal(query_int(db, "PRAGMA user_version", NULL), version);
	assert_int_equal(query_int(db, "PRAGMA foreign_keys", NULL), 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM message", NULL),
			 0);
	db_close(db);
	db = NULL;

	/* reopening is idempotent */
	assert_int_equal(db_open(&db, path.buf, &err), 0);
	assert_int_equal(db_schema_version(db), version);
	db_close(db);
	db = NULL;
	assert_int_equal(db_open(&db, path.buf, &err), 0);
	assert_int_equal(db_schema_version(db), version);
	db_close(db);
	db_close(NULL);

	test_rmtree(dir);
	free(dir);
	strbuf_release(&path);
	strbuf_release(&err);
}

/* Make an SQLite file at 'path' running 'sql'. */
static void foreign_db(const char *path, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static void expect_refused(const char *path, int want)
{
	struct strbuf err = STRBUF_INIT;
	struct db *db = NULL;
	int r = db_open(&db, path, &err);

	if (r != want)
		fail_msg("db_open('%s') = %d (%s), want %d", path, r, err.buf,
			 want);
	assert_null(db);
	assert_true(err.len > 0);
	assert_non_null(strstr(err.buf, path));
	strbuf_release(&err);
}

static void test_open_foreign(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf path = STRBUF_INIT;
	FILE *fp;

	(void)state;
	strbuf_addf(&path, "%s/other-app.db", dir);
	foreign_db(path.buf, "CREATE TABLE t(x); PRAGMA application_id = 42;");
	expect_refused(path.buf, -EPROTO);

	strbuf_reset(&path);
	strbuf_addf(&path, "%s/versioned.db", dir);
	foreign_db(path.buf, "CREATE TABLE t(x); PRAGMA user_version = 3;");
	expect_refused(path.buf, -EPROTO);

	strbuf_reset(&path);
	strbuf_addf(&path, "%s/newer.db", dir);
	foreign_db(path.buf, "PRAGMA application_id = 1263695479;"
			     " PRAGMA user_version = 9999;");
	expect_refused(path.buf, -EPROTO);

	/* not SQLite at all */
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/text.db", dir);
	fp = fopen(path.buf, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database, just some text\n", fp);
	fclose(fp);
	{
		struct strbuf err = STRBUF_INIT;
		struct db *db = NULL;

		assert_true(db_open(&db, path.buf, &err) < 0);
		assert_null(db);
		assert_true(err.len > 0);
		strbuf_release(&err);
	}

	test_rmtree(dir);
	free(dir);
	strbuf_release(&path);
}

/*
 * A plain SQLite file of another program that never set application_id
 * or user_version must not be migrated into: adding kreview's tables
 * would modify someone else's data.
 */
static void test_open_foreign_unversioned(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf path = STRBUF_INIT;

	(void)state;
	strbuf_addf(&path, "%s/plain.db", dir);
	foreign_db(path.buf, "CREATE TABLE notes(id INTEGER, text TEXT);"
			     " INSERT INTO notes VALUES (1, 'mine');");
	expect_refused(path.buf, -EPROTO);
	test_rmtree(dir);
	free(dir);
	strbuf_release(&path);
}

/* ---- messages ---- */

static void test_duplicate_and_conflict(void **state)
{
	struct fixture *f = *state;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct strbuf kept = STRBUF_INIT, err = STRBUF_INIT;
	sqlite3_stmt *st;

	mail(&a, "dup@x", "[PATCH] io_uring: dup", NULL, NULL, patch_body);
	assert_int_equal(add(f->db, &a), STORE_ADDED);
	assert_int_equal(add(f->db, &a), STORE_DUPLICATE);

	mail(&b, "dup@x", "[PATCH] io_uring: dup, edited", NULL, NULL,
	     patch_body);
	assert_int_equal(add(f->db, &b), STORE_CONFLICT);
	assert_int_equal(add(f->db, &b), STORE_CONFLICT);
	assert_int_equal(query_int(f->db,
				   "SELECT count(*) FROM message_conflict"
				   " WHERE msgid = ?",
				   "dup@x"),
			 1);
	assert_int_equal(query_int(f->db,
				   "SELECT count(*) FROM message WHERE msgid = ?",
				   "dup@x"),
			 1);
	/* the first copy is kept, byte for byte */
	assert_int_equal(store_message_raw(&kept, NULL, f->db, "dup@x", true,
					   &err),
			 1);
	assert_int_equal(kept.len, a.len);
	assert_memory_equal(kept.buf, a.buf, a.len);
	assert_int_equal(sqlite3_prepare_v2(db_handle(f->db),
					    "SELECT subject FROM message"
					    " WHERE msgid = 'dup@x'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "[PATCH] io_uring: dup");
	sqlite3_finalize(st);
	strbuf_release(&kept);
	strbuf_release(&err);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* Raw bytes are stored compressed, read back exactly, damage is named. */
static void test_raw_packed(void **state)
{
	struct fixture *f = *state;
	struct strbuf a = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;

	mail(&a, "packed@x", "[PATCH] io_uring: packed", NULL, NULL,
	     patch_body);
	assert_int_equal(add(f->db, &a), STORE_ADDED);
	assert_int_equal(query_int(f->db,
				   "SELECT r.codec FROM message_raw r JOIN"
				   " message m ON m.id = r.message_id"
				   " WHERE m.msgid = ?",
				   "packed@x"),
			 STORE_ZSTD);
	assert_true(query_int(f->db,
			      "SELECT length(r.raw) FROM message_raw r JOIN"
			      " message m ON m.id = r.message_id"
			      " WHERE m.msgid = ?",
			      "packed@x") < (int)a.len);
	assert_int_equal(store_message_raw(&out, NULL, f->db, "packed@x",
					   true, &err),
			 1);
	assert_int_equal(out.len, a.len);
	assert_memory_equal(out.buf, a.buf, a.len);

	/* a damaged frame is an error naming the message, not garbage */
	assert_int_equal(db_exec(f->db,
				 "UPDATE message_raw SET raw = x'28b52ffd00'"
				 " WHERE message_id = (SELECT id FROM message"
				 " WHERE msgid = 'packed@x')",
				 &err),
			 0);
	strbuf_reset(&out);
	assert_int_equal(store_message_raw(&out, NULL, f->db, "packed@x",
					   true, &err),
			 -EIO);
	assert_non_null(strstr(err.buf, "<packed@x> is damaged"));
	strbuf_release(&a);
	strbuf_release(&out);
	strbuf_release(&err);
}

#define ORDER_MSGS 150
#define ORDER_GHOSTS 20

static unsigned int lcg(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

static int uf_find(int *parent, int i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

/*
 * Threads do not depend on the order messages arrive in: a random
 * forest of replies, whose References name some of their ancestors and
 * some ids never seen (ghosts, shared between messages), is stored in
 * several orders; each time, two messages share a thread exactly when
 * the ids they carry connect them.
 */
static void test_thread_any_order(void **state)
{
	struct fixture *f = *state;
	struct strbuf raw = STRBUF_INIT, refs = STRBUF_INIT, id = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	int parent[ORDER_MSGS], uf[ORDER_MSGS + ORDER_GHOSTS];
	int order[ORDER_MSGS];
	int64_t thread[ORDER_MSGS];
	unsigned int seed = 7;
	char *extra[ORDER_MSGS];

	for (int i = 0; i < ORDER_MSGS + ORDER_GHOSTS; i++)
		uf[i] = i;
	for (int i = 0; i < ORDER_MSGS; i++) {
		parent[i] = i && lcg(&seed) % 4 ? (int)(lcg(&seed) % i) : -1;
		strbuf_reset(&refs);
		if (lcg(&seed) % 8 == 0) {
			int g = (int)(lcg(&seed) % ORDER_GHOSTS);

			strbuf_addf(&refs, " <ghost%d@x>", g);
			uf[uf_find(uf, i)] = uf_find(uf, ORDER_MSGS + g);
		}
		for (int a = parent[i]; a >= 0; a = parent[a]) {
			/* the parent always, older ancestors sometimes */
			if (a != parent[i] && lcg(&seed) % 2)
				continue;
			strbuf_addf(&refs, " <m%d@x>", a);
			uf[uf_find(uf, i)] = uf_find(uf, a);
		}
		extra[i] = NULL;
		if (refs.len) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "References:%s\n", refs.buf);
			extra[i] = strbuf_detach(&sb, NULL);
		}
	}

	for (int round = 0; round < 4; round++) {
		struct db *db;

		for (int i = 0; i < ORDER_MSGS; i++)
			order[i] = i;
		if (round == 1) {
			for (int i = 0; i < ORDER_MSGS; i++)
				order[i] = ORDER_MSGS - 1 - i;
		} else if (round > 1) {
			for (int i = ORDER_MSGS - 1; i > 0; i--) {
				int j = (int)(lcg(&seed) % (unsigned int)(i + 1));
				int t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
		}
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/order%d.db", f->dir, round);
		if (db_open(&db, path.buf, &err) < 0)
			fail_msg("db_open: %s", err.buf);
		for (int k = 0; k < ORDER_MSGS; k++) {
			int i = order[k];

			strbuf_reset(&id);
			strbuf_addf(&id, "m%d@x", i);
			mail(&raw, id.buf, "Re: topic", NULL, extra[i], "text\n");
			assert_int_equal(add(db, &raw), STORE_ADDED);
		}
		for (int i = 0; i < ORDER_MSGS; i++) {
			strbuf_reset(&id);
			strbuf_addf(&id, "m%d@x", i);
			thread[i] = thread_of(db, id.buf);
			assert_true(thread[i] > 0);
		}
		for (int i = 0; i < ORDER_MSGS; i++)
			for (int j = 0; j < i; j++)
				if ((thread[i] == thread[j]) !=
				    (uf_find(uf, i) == uf_find(uf, j)))
					fail_msg("order %d: m%d and m%d %s", round,
						 i, j,
						 thread[i] == thread[j] ?
							 "share a thread" :
							 "are apart");
		db_close(db);
	}
	for (int i = 0; i < ORDER_MSGS; i++)
		free(extra[i]);
	strbuf_release(&raw);
	strbuf_release(&refs);
	strbuf_release(&id);
	strbuf_release(&err);
	strbuf_release(&path);
}

static void test_thread_merging(void **state)
{
	struct fixture *f = *state;
	struct strbuf raw = STRBUF_INIT;
	int64_t t;

	/* a grandchild first, naming root and parent */
	mail(&raw, "child2@x", "Re: Re: topic", NULL,
	     "In-Reply-To: <child@x>\nReferences: <root@x> <child@x>\n",
	     "deeper\n");
	assert_int_equal(add(f->db, &raw), STORE_ADDED);
	/* a sibling that only names the (missing) root */
	mail(&raw, "sibling@x", "Re: topic", NULL,
	     "In-Reply-To: <root@x>\nReferences: <root@x>\n", "other\n");
	assert_int_equal(add(f->db, &raw), STORE_ADDED);
	/* an unrelated thread */
	mail(&raw, "else@x", "something else", NULL, NULL, "hi\n");
	assert_int_equal(add(f->db, &raw), STORE_ADDED);
	assert_int_equal(thread_of(f->db, "sibling@x"),
			 thread_of(f->db, "child2@x"));

	/* the parent, naming only the root */
	mail(&raw, "child@x", "Re: topic", NULL,
	     "In-Reply-To: <root@x>\n", "reply\n");
	assert_int_equal(add(f->db, &raw), STORE_ADDED);
	/* the root last: nothing names anything it knows */
	mail(&raw, "root@x", "topic", NULL, NULL, "start\n");
	assert_int_equal(add(f->db, &raw), STORE_ADDED);

	t = thread_of(f->db, "root@x");
	assert_true(t > 0);
	assert_int_equal(thread_of(f->db, "child@x"), t);
	assert_int_equal(thread_of(f->db, "child2@x"), t);
	assert_int_equal(thread_of(f->db, "sibling@x"), t);
	assert_true(thread_of(f->db, "else@x") != t);

	/* two separate threads joined by a message naming both */
	mail(&raw, "bridge@x", "Re: both", NULL,
	     "References: <else@x> <root@x>\n", "join\n");
	assert_int_equal(add(f->db, &raw), STORE_ADDED);
	t = thread_of(f->db, "root@x");
	assert_int_equal(thread_of(f->db, "else@x"), t);
	assert_int_equal(thread_of(f->db, "bridge@x"), t);
	assert_int_equal(thread_of(f->db, "child2@x"), t);
	assert_int_equal(query_int(f->db,
				   "SELECT count(DISTINCT thread_id) FROM message",
				   NULL),
			 1);
	strbuf_release(&raw);
}

/* ---- series ---- */

static int64_t series_id(struct db *db, const char *cover_or_patch)
{
	return query_int(db,
			 "SELECT s.id FROM series s WHERE s.cover_msgid = ?1"
			 " OR EXISTS (SELECT 1 FROM series_patch p"
			 " WHERE p.series_id = s.id AND p.msgid = ?1)",
			 cover_or_patch);
}

static void add_series_msg(struct db *db, const char *id, const char *subject,
			   const char *body, const char *date)
{
	struct strbuf raw = STRBUF_INIT;

	mail(&raw, id, subject, date,
	     strcmp(id, "s0@x") ? "In-Reply-To: <s0@x>\nReferences: <s0@x>\n" :
				  NULL,
	     body);
	assert_int_equal(add(db, &raw), STORE_ADDED);
	strbuf_release(&raw);
}

static void test_assemble_stable_ids(void **state)
{
	struct fixture *f = *state;
	struct store_assemble_stats st;
	/* an hour after the messages' Date: */
	int64_t now = INT64_C(1704196800000), id;

	add_series_msg(f->db, "s0@x", "[PATCH v2 0/3] io_uring: three",
		       cover_body, NULL);
	add_series_msg(f->db, "s1@x", "[PATCH v2 1/3] io_uring: one",
		       patch_body, NULL);
	add_series_msg(f->db, "s3@x", "[PATCH v2 3/3] io_uring: three",
		       patch_body, NULL);
	assemble(&st, f->db, 24 * HOUR_MS, now);
	assert_int_equal(st.threads, 1);
	assert_int_equal(st.created, 1);
	assert_int_equal(st.updated, 0);
	assert_int_equal(st.removed, 0);
	id = series_id(f->db, "s0@x");
	assert_true(id > 0);
	assert_int_equal(series_id(f->db, "s1@x"), id);
	assert_int_equal(query_int(f->db,
				   "SELECT complete FROM series WHERE cover_msgid = ?",
				   "s0@x"),
			 0);
	assert_int_equal(query_int(f->db,
				   "SELECT total FROM series WHERE cover_msgid = ?",
				   "s0@x"),
			 3);
	assert_int_equal(query_int(f->db,
				   "SELECT version FROM series WHERE cover_msgid = ?",
				   "s0@x"),
			 2);
	/* the quiet period is not over: not stalled */
	assert_int_equal(query_int(f->db,
				   "SELECT stalled FROM series WHERE cover_msgid = ?",
				   "s0@x"),
			 0);

	/* nothing dirty: nothing done */
	assemble(&st, f->db, 24 * HOUR_MS, now);
	assert_int_equal(st.threads, 0);
	assert_int_equal(st.created + st.updated + st.removed, 0);

	/* the missing patch arrives: same row, now complete */
	add_series_msg(f->db, "s2@x", "[PATCH v2 2/3] io_uring: two",
		       patch_body, NULL);
	assemble(&st, f->db, 24 * HOUR_MS, now);
	assert_int_equal(st.threads, 1);
	assert_int_equal(st.created, 0);
	assert_int_equal(st.updated, 1);
	assert_int_equal(series_id(f->db, "s2@x"), id);
	assert_int_equal(query_int(f->db,
				   "SELECT complete FROM series WHERE cover_msgid = ?",
				   "s0@x"),
			 1);
	assert_int_equal(query_int(f->db,
				   "SELECT count(*) FROM series_patch p JOIN series s"
				   " ON s.id = p.series_id WHERE s.cover_msgid = ?",
				   "s0@x"),
			 3);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM series", NULL),
			 1);

	/* a review reply dirties the thread but changes nothing */
	{
		struct strbuf raw = STRBUF_INIT;

		mail(&raw, "r1@x", "Re: [PATCH v2 1/3] io_uring: one", NULL,
		     "In-Reply-To: <s1@x>\nReferences: <s0@x> <s1@x>\n",
		     "Reviewed-by: Jens Axboe <axboe@kernel.dk>\n");
		assert_int_equal(add(f->db, &raw), STORE_ADDED);
		strbuf_release(&raw);
	}
	assemble(&st, f->db, 24 * HOUR_MS, now);
	assert_int_equal(st.threads, 1);
	assert_int_equal(st.created + st.updated + st.removed, 0);
	assert_int_equal(series_id(f->db, "s0@x"), id);

	/* deleting a patch makes the revision incomplete, same id */
	{
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(db_begin(f->db, &err), 0);
		assert_int_equal(store_delete_message(f->db, "s3@x", &err), 0);
		/* unknown and repeated deletions are no-ops */
		assert_int_equal(store_delete_message(f->db, "nope@x", &err), 0);
		assert_int_equal(store_delete_message(f->db, "s3@x", &err), 0);
		assert_int_equal(db_commit(f->db, &err), 0);
		strbuf_release(&err);
	}
	assert_int_equal(query_int(f->db,
				   "SELECT deleted FROM message WHERE msgid = ?",
				   "s3@x"),
			 1);
	assemble(&st, f->db, 24 * HOUR_MS, now);
	assert_int_equal(st.threads, 1);
	assert_int_equal(st.updated, 1);
	assert_int_equal(series_id(f->db, "s0@x"), id);
	assert_int_equal(series_id(f->db, "s3@x"), -1);
	assert_int_equal(query_int(f->db,
				   "SELECT complete FROM series WHERE cover_msgid = ?",
				   "s0@x"),
			 0);
}

static void test_stall(void **state)
{
	struct fixture *f = *state;
	struct store_assemble_stats st;
	int64_t now = time_now_ms();

	/* an old incomplete revision and an old complete one */
	add_series_msg(f->db, "s0@x", "[PATCH 0/2] io_uring: old", cover_body,
		       "Mon, 1 Jan 2024 00:00:00 +0000");
	add_series_msg(f->db, "s1@x", "[PATCH 1/2] io_uring: one", patch_body,
		       "Mon, 1 Jan 2024 00:00:01 +0000");
	{
		struct strbuf raw = STRBUF_INIT;

		mail(&raw, "c1@x", "[PATCH] io_uring: complete",
		     "Mon, 1 Jan 2024 00:00:00 +0000", NULL, patch_body);
		assert_int_equal(add(f->db, &raw), STORE_ADDED);
		strbuf_release(&raw);
	}

	/* a long quiet period not over yet */
	assemble(&st, f->db, INT64_C(100000) * 24 * HOUR_MS, now);
	assert_int_equal(st.created, 2);
	assert_int_equal(query_int(f->db, "SELECT stalled FROM series"
					  " WHERE cover_msgid = ?", "s0@x"),
			 0);
	/* an hour is long over: the incomplete one stalls */
	assemble(&st, f->db, HOUR_MS, now);
	assert_int_equal(query_int(f->db, "SELECT stalled FROM series"
					  " WHERE cover_msgid = ?", "s0@x"),
			 1);
	assert_int_equal(query_int(f->db, "SELECT stalled FROM series s"
					  " JOIN series_patch p ON p.series_id = s.id"
					  " WHERE p.msgid = ?", "c1@x"),
			 0);
	/* stalled when assembled fresh, too */
	add_series_msg(f->db, "s9@x", "Re: [PATCH 0/2] io_uring: old",
		       "ping\n", "Mon, 1 Jan 2024 00:00:02 +0000");
	assemble(&st, f->db, HOUR_MS, now);
	assert_int_equal(query_int(f->db, "SELECT stalled FROM series"
					  " WHERE cover_msgid = ?", "s0@x"),
			 1);
}

static void test_cursors(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	char *c;

	assert_null(store_get_cursor(f->db, "inbox:/nowhere"));
	assert_int_equal(store_set_cursor(f->db, "inbox:/a", "abc123", &err), 0);
	assert_int_equal(store_set_cursor(f->db, "mbox:/b", "1:2:3:4", &err), 0);
	c = store_get_cursor(f->db, "inbox:/a");
	assert_string_equal(c, "abc123");
	free(c);
	assert_int_equal(store_set_cursor(f->db, "inbox:/a", "def456", &err), 0);
	c = store_get_cursor(f->db, "inbox:/a");
	assert_string_equal(c, "def456");
	free(c);
	c = store_get_cursor(f->db, "mbox:/b");
	assert_string_equal(c, "1:2:3:4");
	free(c);

	/* a rolled-back transaction leaves the old cursor */
	assert_int_equal(db_begin(f->db, &err), 0);
	assert_int_equal(store_set_cursor(f->db, "inbox:/a", "lost", &err), 0);
	db_rollback(f->db);
	c = store_get_cursor(f->db, "inbox:/a");
	assert_string_equal(c, "def456");
	free(c);

	/* they survive reopening */
	db_close(f->db);
	assert_int_equal(db_open(&f->db, f->path.buf, &err), 0);
	c = store_get_cursor(f->db, "mbox:/b");
	assert_string_equal(c, "1:2:3:4");
	free(c);
	strbuf_release(&err);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* The checkpointer copies committed pages into the file while open. */
static void test_checkpointer(void **state)
{
	struct fixture *f = *state;
	struct db_checkpointer *c = NULL;
	struct strbuf err = STRBUF_INIT;
	off_t before = file_size(f->path.buf);

	assert_int_equal(db_checkpointer_start(&c, f->db, &err), 0);
	assert_non_null(c);
	assert_int_equal(db_exec(f->db, "CREATE TABLE t(x BLOB)", &err), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(db_begin(f->db, &err), 0);
		assert_int_equal(db_exec(f->db,
					 "WITH RECURSIVE n(i) AS (SELECT 1"
					 " UNION ALL SELECT i + 1 FROM n"
					 " WHERE i < 64) INSERT INTO t"
					 " SELECT randomblob(4096) FROM n",
					 &err),
				 0);
		assert_int_equal(db_commit(f->db, &err), 0);
		db_checkpointer_poke(c);
	}
	/* stop waits for the checkpoint it was poked for */
	db_checkpointer_stop(c);
	assert_true(file_size(f->path.buf) >= before + 4 * 64 * 4096);
	db_checkpointer_poke(NULL);
	db_checkpointer_stop(NULL);
	strbuf_release(&err);
}

/* Migration 5 moves raw bytes out of the message rows, losing none. */
static void test_migrate_raw(void **state)
{
	static const char raw[] = "Message-ID: <old@x>\nSubject: old\n\nbody\n";
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT, out = STRBUF_INIT;
	char *dir = test_mkdtemp();
	struct db *db = NULL;
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t when = 0;

	(void)state;
	strbuf_addf(&path, "%s/old.db", dir);
	assert_int_equal(sqlite3_open(path.buf, &h), SQLITE_OK);
	for (size_t i = 0; i < db_migrations_nr; i++)
		if (db_migrations[i].version <= 4)
			assert_int_equal(sqlite3_exec(h, db_migrations[i].sql,
						      NULL, NULL, NULL),
					 SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(
			h,
			"INSERT INTO message(msgid, blob_oid, raw, subject, title,"
			" norm_title, is_reply, is_bot, has_diff, has_diffstat,"
			" has_trailers, revision, revision_explicit, counter,"
			" expected, counter_explicit, flag_patch, flag_rfc,"
			" flag_resend, thread_id, ingested_ms) VALUES ('old@x',"
			" 'x', ?, 'old', 'old', 'old', 0, 0, 0, 0, 0, 1, 0, 1, 1,"
			" 0, 0, 0, 0, 1, 42)",
			-1, &st, NULL),
		SQLITE_OK);
	sqlite3_bind_blob(st, 1, raw, sizeof(raw) - 1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 4;"
					 "PRAGMA application_id = 1263695479",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);

	if (db_open(&db, path.buf, &err) < 0)
		fail_msg("db_open: %s", err.buf);
	assert_true(db_schema_version(db) >= 5);
	assert_int_equal(store_message_raw(&out, &when, db, "old@x", true,
					   &err),
			 1);
	assert_string_equal(out.buf, raw);
	assert_int_equal(when, 42);
	assert_int_equal(store_message_raw(&out, NULL, db, "none@x", true,
					   &err),
			 0);
	db_close(db);
	test_rmtree(dir);
	free(dir);
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_open_foreign),
		cmocka_unit_test(test_open_foreign_unversioned),
		cmocka_unit_test(test_migrate_raw),
		cmocka_unit_test_setup_teardown(test_checkpointer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_and_conflict,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_packed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_thread_any_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_thread_merging, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_assemble_stable_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursors, setup, teardown),
	};
	int r;

	g_mime_init();
	git_libgit2_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	g_mime_shutdown();
	return r;
}
