/* The main database: connection setup, migrations, statement cache. */
#include "kreview/db.h"
#include "kreview/migrations.h"
#include "kreview/strbuf.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

struct db_stmt {
	const char *sql;
	sqlite3_stmt *st;
};

struct db {
	sqlite3 *h;
	struct db_stmt *stmts;
	size_t stmts_nr, stmts_alloc;
	int version;
};

sqlite3 *db_handle(struct db *db)
{
	return db->h;
}

int db_schema_version(struct db *db)
{
	return db->version;
}

const char *db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->h);
}

int db_exec(struct db *db, const char *sql, struct strbuf *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (err)
			strbuf_addf(err, "%s", msg ? msg : db_errmsg(db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int db_begin(struct db *db, struct strbuf *err)
{
	return db_exec(db, "BEGIN IMMEDIATE", err);
}

int db_commit(struct db *db, struct strbuf *err)
{
	return db_exec(db, "COMMIT", err);
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *db_prepare(struct db *db, const char *sql)
{
	struct db_stmt *s;

	for (size_t i = 0; i < db->stmts_nr; i++)
		if (db->stmts[i].sql == sql)
			return db->stmts[i].st;
	ALLOC_GROW(db->stmts, db->stmts_nr + 1, db->stmts_alloc);
	s = &db->stmts[db->stmts_nr];
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->st, NULL) != SQLITE_OK)
		BUG("cannot prepare '%s': %s", sql, db_errmsg(db));
	s->sql = sql;
	db->stmts_nr++;
	return s->st;
}

void db_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

void db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

void db_bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t len)
{
	sqlite3_bind_blob64(st, idx, p, len, SQLITE_TRANSIENT);
}

void db_bind_int64(sqlite3_stmt *st, int idx, int64_t v)
{
	sqlite3_bind_int64(st, idx, v);
}

char *db_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (!t)
		return NULL;
	return xmemdupz(t, (size_t)sqlite3_column_bytes(st, col));
}

int db_step(struct db *db, sqlite3_stmt *st, struct strbuf *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	if (err)
		strbuf_addf(err, "%s", db_errmsg(db));
	return -EIO;
}

static int read_int_pragma(struct db *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int r = -EIO;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

static bool journal_is_wal(struct db *db)
{
	sqlite3_stmt *st;
	bool wal = false;

	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &st, NULL) !=
	    SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);

		wal = m && !strcmp((const char *)m, "wal");
	}
	sqlite3_finalize(st);
	return wal;
}

/*
 * Run 'sql', retrying while another connection holds a lock that the
 * busy handler does not wait for (a journal mode change), up to the
 * busy timeout.
 */
static int db_exec_busy_retry(struct db *db, const char *sql,
			      struct strbuf *err)
{
	for (int tries = 0;; tries++) {
		struct strbuf e = STRBUF_INIT;
		int r = db_exec(db, sql, &e);
		int code = sqlite3_errcode(db->h);

		if (r == 0 || (code != SQLITE_BUSY && code != SQLITE_LOCKED) ||
		    tries >= 100) {
			if (r < 0)
				strbuf_addbuf(err, &e);
			strbuf_release(&e);
			return r;
		}
		strbuf_release(&e);
		sqlite3_sleep(50);
	}
}

static int migrate(struct db *db, const char *path,
		   const struct db_schema *s, struct strbuf *err)
{
	int version, appid, r, tables = 0;
	int latest = 0;

	for (size_t i = 0; i < s->nr; i++)
		if (s->migrations[i].version > latest)
			latest = s->migrations[i].version;

	/*
	 * Most opens find the schema current: check that without taking
	 * the write lock, so that readers (kreview status) never hold up
	 * a running daemon's writers.
	 */
	if (read_int_pragma(db, "PRAGMA application_id", &appid) == 0 &&
	    read_int_pragma(db, "PRAGMA user_version", &version) == 0 &&
	    appid == s->application_id && version == latest) {
		db->version = version;
		return 0;
	}
	r = db_begin(db, err);
	if (r < 0)
		return r;
	if (read_int_pragma(db, "PRAGMA application_id", &appid) < 0 ||
	    read_int_pragma(db, "PRAGMA user_version", &version) < 0 ||
	    read_int_pragma(db, "SELECT count(*) FROM sqlite_master",
			    &tables) < 0) {
		strbuf_addf(err, "'%s': %s", path, db_errmsg(db));
		r = -EIO;
		goto fail;
	}
	/* someone else's file or tables: never migrate into them */
	if ((appid != 0 && appid != s->application_id) ||
	    (appid == 0 && (version != 0 || tables > 0))) {
		strbuf_addf(err, "'%s' is not a %s", path, s->what);
		r = -EPROTO;
		goto fail;
	}
	if (version > latest) {
		strbuf_addf(err,
			    "'%s' has schema version %d, newer than this kreview (%d)",
			    path, version, latest);
		r = -EPROTO;
		goto fail;
	}
	for (size_t i = 0; i < s->nr; i++) {
		const struct db_migration *m = &s->migrations[i];
		struct strbuf sql = STRBUF_INIT;

		if (!m->sql || m->version <= version)
			continue;
		r = db_exec(db, m->sql, err);
		if (r < 0) {
			strbuf_addf(err, " (migration %s)", m->name);
			goto fail;
		}
		strbuf_addf(&sql, "PRAGMA user_version = %d", m->version);
		r = db_exec(db, sql.buf, err);
		strbuf_release(&sql);
		if (r < 0)
			goto fail;
		version = m->version;
	}
	if (appid == 0) {
		struct strbuf sql = STRBUF_INIT;

		strbuf_addf(&sql, "PRAGMA application_id = %d",
			    s->application_id);
		r = db_exec(db, sql.buf, err);
		strbuf_release(&sql);
		if (r == 0 && s->init)
			r = s->init(db, s->init_arg, err);
		if (r < 0)
			goto fail;
	}
	r = db_exec(db, "PRAGMA foreign_key_check", err);
	if (r < 0)
		goto fail;
	r = db_commit(db, err);
	if (r < 0)
		goto fail;
	db->version = version;
	return 0;
fail:
	db_rollback(db);
	return r;
}

int db_open(struct db **out, const char *path, struct strbuf *err)
{
	static const struct db_schema main_schema = {
		.what = "kreview database",
		.application_id = DB_APPLICATION_ID,
		.migrations = db_migrations,
		.create = true,
	};
	struct db_schema s = main_schema;

	s.nr = db_migrations_nr;
	return db_open_schema(out, path, &s, err);
}

int db_open_schema(struct db **out, const char *path,
		   const struct db_schema *s, struct strbuf *err)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    SQLITE_OPEN_EXRESCODE;
	int r, rc;

	if (s->create) {
		flags |= SQLITE_OPEN_CREATE;
		r = mkdir_parents(path);
		if (r < 0) {
			strbuf_addf(err, "cannot create the directory of '%s': %s",
				    path, strerror(-r));
			goto fail;
		}
	}
	rc = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		strbuf_addf(err, "cannot open %s '%s': %s", s->what, path,
			    db->h ? sqlite3_errmsg(db->h) :
				    sqlite3_errstr(rc));
		r = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(db->h, 5000);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	r = db_exec(db,
		    "PRAGMA foreign_keys = ON;"
		    "PRAGMA trusted_schema = OFF;",
		    err);
	if (r < 0)
		goto fail;
	/* switching to WAL takes an exclusive lock: only when needed */
	if (!journal_is_wal(db)) {
		r = db_exec_busy_retry(db, "PRAGMA journal_mode = WAL;", err);
		if (r < 0)
			goto fail;
	}
	r = db_exec(db,
		    "PRAGMA synchronous = NORMAL;"
		    /* checkpoint every ~40 MB, not 4 MB: each one syncs */
		    "PRAGMA wal_autocheckpoint = 10000;"
		    /* an ingestion batch fits: no spilling pages mid-way */
		    "PRAGMA cache_size = -16384;",
		    err);
	if (r < 0)
		goto fail;
	r = migrate(db, path, s, err);
	if (r < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return r;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->stmts_nr; i++)
		sqlite3_finalize(db->stmts[i].st);
	free(db->stmts);
	if (db->h)
		sqlite3_close(db->h);
	free(db);
}

struct db_checkpointer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool poked, stop;
	sqlite3 *h;
};

static void *checkpointer_main(void *arg)
{
	struct db_checkpointer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->poked && !c->stop)
			pthread_cond_wait(&c->cond, &c->mu);
		if (!c->poked)
			break;	/* stopped, nothing asked */
		c->poked = false;
		pthread_mutex_unlock(&c->mu);
		/* SQLITE_BUSY (another checkpoint running) just waits a poke */
		(void)sqlite3_wal_checkpoint_v2(c->h, NULL,
						SQLITE_CHECKPOINT_PASSIVE,
						NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int db_checkpointer_start(struct db_checkpointer **out, struct db *db,
			  struct strbuf *err)
{
	const char *path = sqlite3_db_filename(db->h, "main");
	struct db_checkpointer *c;
	int r = 0;

	*out = NULL;
	if (!path || !*path)
		return 0;
	c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK)
		sqlite3_busy_timeout(c->h, 5000);
	if (!c->h || sqlite3_errcode(c->h) != SQLITE_OK ||
	    sqlite3_exec(c->h, "PRAGMA synchronous = NORMAL", NULL, NULL,
			 NULL) != SQLITE_OK) {
		strbuf_addf(err, "'%s': %s", path,
			    c->h ? sqlite3_errmsg(c->h) : "out of memory");
		r = -EIO;
	} else if (pthread_create(&c->thread, NULL, checkpointer_main, c)) {
		strbuf_addstr(err, "cannot start the checkpoint thread");
		r = -EAGAIN;
	}
	if (r < 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cond);
		sqlite3_close(c->h);
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void db_checkpointer_poke(struct db_checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->poked = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
}

void db_checkpointer_stop(struct db_checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cond);
	sqlite3_close(c->h);
	free(c);
}

void db_default_path(struct strbuf *out)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (state && *state == '/')
		strbuf_addf(out, "%s/kreview/kreview.db", state);
	else
		strbuf_addf(out, "%s/.local/state/kreview/kreview.db",
			    home && *home ? home : ".");
}
