/*
 * db.h - the main SQLite database (kreview.db).
 *
 * Opening applies the embedded migrations of db/ (PRAGMA user_version),
 * and sets up every connection the same way: WAL, foreign keys on, a
 * busy timeout, synchronous=NORMAL, defensive mode, trusted_schema off,
 * and an application_id that makes kreview refuse foreign files.
 * Writes go through db_begin() (BEGIN IMMEDIATE) and db_commit() /
 * db_rollback().  A connection belongs to one thread.
 *
 * Statements are prepared through db_prepare(), which caches them per
 * connection by their SQL text; callers reset them with db_done().
 */
#ifndef KREVIEW_DB_H
#define KREVIEW_DB_H

#include "kreview/common.h"

#include <sqlite3.h>

struct strbuf;
struct db;

/* "KRvw" */
#define DB_APPLICATION_ID 0x4b527677

/*
 * Open (creating if needed, with its directory) and migrate the
 * database at 'path'.  -errno and a reason in 'err' on failure; a
 * file of another application or a schema newer than this binary is
 * -EPROTO.
 */
int db_open(struct db **out, const char *path, struct strbuf *err);
void db_close(struct db *db);

struct db_migration;

/*
 * Another kind of kreview database set up the same way (the bug
 * databases): 'what' names it in errors ("kreview bug database"), the
 * application_id marks its files, 'migrations' are its schema.
 * Without 'create' a missing file is an error.  'init' runs once, in
 * the transaction that creates the schema of a new file (it may refuse
 * with a negative errno, and nothing is created).
 */
struct db_schema {
	const char *what;
	int application_id;
	const struct db_migration *migrations;
	size_t nr;
	bool create;
	int (*init)(struct db *db, void *arg, struct strbuf *err);
	void *init_arg;
};

int db_open_schema(struct db **out, const char *path,
		   const struct db_schema *s, struct strbuf *err);

/* The raw handle, for the store modules. */
sqlite3 *db_handle(struct db *db);
/* Schema version after migrations. */
int db_schema_version(struct db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; -EIO with the reason in 'err'. */
int db_begin(struct db *db, struct strbuf *err);
int db_commit(struct db *db, struct strbuf *err);
void db_rollback(struct db *db);

/* Run SQL without results; -EIO and sqlite's message in 'err'. */
int db_exec(struct db *db, const char *sql, struct strbuf *err);

/*
 * A cached prepared statement for 'sql' (a string literal: the cache
 * is keyed by its text).  Never NULL: a statement that does not
 * prepare is a BUG.  Call db_done() after use.
 */
sqlite3_stmt *db_prepare(struct db *db, const char *sql);
/* sqlite3_reset() + sqlite3_clear_bindings(). */
void db_done(sqlite3_stmt *st);

/* Bind helpers: text may be NULL (binds NULL); copied (TRANSIENT). */
void db_bind_text(sqlite3_stmt *st, int idx, const char *s);
void db_bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t len);
void db_bind_int64(sqlite3_stmt *st, int idx, int64_t v);
/* Column text as a new string, NULL for SQL NULL. */
char *db_column_strdup(sqlite3_stmt *st, int col);

/*
 * Step a statement: SQLITE_ROW -> 1, SQLITE_DONE -> 0, anything else
 * -EIO with the message in 'err' (may be NULL).
 */
int db_step(struct db *db, sqlite3_stmt *st, struct strbuf *err);

/* Last error message of the connection. */
const char *db_errmsg(struct db *db);

/*
 * A thread of its own that checkpoints the WAL of 'db' while one long
 * writer (ingestion) goes on: after each commit the writer pokes it,
 * and it copies the committed pages into the database file with a
 * PASSIVE checkpoint on its own connection, which never blocks the
 * writer.  The file syncs a checkpoint costs then overlap the writer's
 * work instead of all landing at the final close.  *out is NULL (and
 * the other calls do nothing) for a database without a file.
 */
struct db_checkpointer;
int db_checkpointer_start(struct db_checkpointer **out, struct db *db,
			  struct strbuf *err);
void db_checkpointer_poke(struct db_checkpointer *c);
/* Finish the checkpoint running or asked for, then stop the thread. */
void db_checkpointer_stop(struct db_checkpointer *c);

/* The default path: $XDG_STATE_HOME/kreview/kreview.db. */
void db_default_path(struct strbuf *out);

#endif
