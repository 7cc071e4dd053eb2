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
 * A message's bytes as the database keeps them: zstd-compressed when
 * that is smaller (list mail shrinks about 2.4 times), else as
 * received.  store_pack() touches no database: ingestion runs it on its
 * reading thread.
 */
enum store_codec { STORE_AS_IS = 0, STORE_ZSTD = 1 };

struct store_packed {
	enum store_codec codec;
	void *data;	/* owned; NULL with STORE_AS_IS: use the raw bytes */
	size_t len;
};

/* Compression state a thread reuses from message to message. */
struct store_packer;
struct store_packer *store_packer_new(void);
void store_packer_free(struct store_packer *pk);

/* Pack 'raw' with 'pk' (NULL: a one-off packer). */
void store_pack(struct store_packed *out, struct store_packer *pk,
		const char *raw, size_t len);
void store_packed_release(struct store_packed *p);

/* One message to store. */
struct store_input {
	const char *raw;	/* the message as received */
	size_t len;
	const char *oid;	/* git blob id (hex) of 'raw' when the source
				   knows it (public-inbox), NULL: computed */
	const struct store_packed *packed; /* store_pack(raw), NULL: here */
	const char *where;	/* source position, for diagnostics */
};

/*
 * Store one parsed message with its raw bytes.  -EIO with the reason
 * in 'err'.
 */
int store_add_message(enum store_add_result *out, struct db *db,
		      const struct msg *m, bool is_bot,
		      const struct store_input *in, struct strbuf *err);

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
