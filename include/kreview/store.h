/*
 * store.h - messages, threads, source cursors and series revisions in
 * the main database.
 *
 * Writers call these inside a db_begin()/db_commit() transaction of
 * their own choosing (ingestion commits a batch of messages together
 * with the source cursor that covers them).  Every message added or
 * deleted marks its thread dirty; store_assemble_dirty() re-runs series
 * assembly for dirty threads and keeps series ids stable: a revision
 * that still holds one of its messages keeps its id.
 */
#ifndef KREVIEW_STORE_H
#define KREVIEW_STORE_H

#include "kreview/common.h"

struct db;
struct msg;
struct strbuf;

enum store_add_result {
	STORE_ADDED,	 /* new message */
	STORE_DUPLICATE, /* same Message-ID, same bytes: nothing to do */
	STORE_CONFLICT,	 /* same Message-ID, other bytes: first kept */
};

/*
 * Store one parsed message with its raw bytes.  'oid' is the git blob
 * id of the bytes (hex) when the source already knows it (public-inbox),
 * NULL to compute it here.  'where' is the source position kept for
 * diagnostics.  -EIO with the reason in 'err'.
 */
int store_add_message(enum store_add_result *out, struct db *db,
		      const struct msg *m, bool is_bot, const char *raw,
		      size_t len, const char *oid, const char *where,
		      struct strbuf *err);

/*
 * Append the raw bytes of the stored message 'msgid' to 'out'; when
 * 'ingested_ms' is not NULL, also say when it was stored.  With
 * 'live_only' a message deleted from its archive counts as not stored.
 * 1 found, 0 not stored, -EIO with the reason in 'err'.
 */
int store_message_raw(struct strbuf *out, int64_t *ingested_ms,
		      struct db *db, const char *msgid, bool live_only,
		      struct strbuf *err);

/* Mark the message with this id deleted (public-inbox "d"); 0 if unknown. */
int store_delete_message(struct db *db, const char *msgid, struct strbuf *err);

/* Cursor stored for 'key', as a new string, or NULL. */
char *store_get_cursor(struct db *db, const char *key);
int store_set_cursor(struct db *db, const char *key, const char *cursor,
		     struct strbuf *err);

struct store_assemble_stats {
	size_t threads;
	size_t created;	 /* revisions that did not exist before */
	size_t updated;	 /* existing revisions whose content changed */
	size_t removed;	 /* revisions that no longer exist */
};

/*
 * Assemble the series of every dirty thread, link revisions (v1 -> v2)
 * and mark incomplete revisions whose newest message is older than
 * 'stall_after_ms' before 'now_ms' as stalled.  Runs its own
 * transactions (one per batch of threads).
 */
int store_assemble_dirty(struct store_assemble_stats *out, struct db *db,
			 int64_t stall_after_ms, int64_t now_ms,
			 struct strbuf *err);

#endif
