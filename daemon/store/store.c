/* Messages, threads, cursors and series in the main database: store.h. */
#include "kreview/store.h"
#include "kreview/db.h"
#include "kreview/hash.h"
#include "kreview/msg.h"
#include "kreview/series.h"
#include "kreview/strbuf.h"
#include "kreview/subject.h"

#include <zstd.h>


/* ---- messages and threads ---- */

static int mark_dirty(struct db *db, int64_t thread, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT OR IGNORE INTO thread_dirty(thread_id) VALUES (?)");
	int r;

	db_bind_int64(st, 1, thread);
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

/* Merge the threads in 'ids' into the smallest one; return it. */
static int merge_threads(int64_t *out, struct db *db, const int64_t *ids,
			 size_t nr, struct strbuf *err)
{
	int64_t keep = ids[0];
	int r;

	for (size_t i = 1; i < nr; i++)
		if (ids[i] < keep)
			keep = ids[i];
	for (size_t i = 0; i < nr; i++) {
		sqlite3_stmt *st;

		if (ids[i] == keep)
			continue;
		st = db_prepare(db,
				"UPDATE message SET thread_id = ?1 WHERE thread_id = ?2");
		db_bind_int64(st, 1, keep);
		db_bind_int64(st, 2, ids[i]);
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			return r;
		st = db_prepare(db,
				"UPDATE series SET thread_id = ?1 WHERE thread_id = ?2");
		db_bind_int64(st, 1, keep);
		db_bind_int64(st, 2, ids[i]);
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			return r;
		st = db_prepare(db, "DELETE FROM thread_dirty WHERE thread_id = ?");
		db_bind_int64(st, 1, ids[i]);
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			return r;
	}
	*out = keep;
	return 0;
}

static void add_thread_id(int64_t **ids, size_t *nr, size_t *alloc,
			  int64_t id)
{
	for (size_t i = 0; i < *nr; i++)
		if ((*ids)[i] == id)
			return;
	ALLOC_GROW(*ids, *nr + 1, *alloc);
	(*ids)[(*nr)++] = id;
}

/*
 * Threads connected to a message: those of the messages it names and
 * of the messages that name it or name the same ancestors.  Every
 * message naming an id was merged into one thread when it was stored
 * (this function found them all), so one of them stands for all: the
 * query stays one index probe however long the thread grows.
 */
static int collect_threads(int64_t **ids, size_t *nr, size_t *alloc,
			   struct db *db, const struct msg *m,
			   struct strbuf *err)
{
	sqlite3_stmt *st;
	int r;

	for (size_t i = 0; i <= m->refs_nr; i++) {
		const char *id = i < m->refs_nr ? m->refs[i] : m->msgid;

		if (i < m->refs_nr) {
			st = db_prepare(db,
					"SELECT thread_id FROM message WHERE msgid = ?");
			db_bind_text(st, 1, id);
			while ((r = db_step(db, st, err)) > 0)
				add_thread_id(ids, nr, alloc,
					      sqlite3_column_int64(st, 0));
			db_done(st);
			if (r < 0)
				return r;
		}
		st = db_prepare(db,
				"SELECT m.thread_id FROM message_ref r"
				" JOIN message m ON m.id = r.message_id"
				" WHERE r.ref = ? LIMIT 1");
		db_bind_text(st, 1, id);
		while ((r = db_step(db, st, err)) > 0)
			add_thread_id(ids, nr, alloc,
				      sqlite3_column_int64(st, 0));
		db_done(st);
		if (r < 0)
			return r;
	}
	return 0;
}

static void join_tags(struct strbuf *sb, const struct subject *s)
{
	for (size_t i = 0; i < s->tags_nr; i++) {
		if (i)
			strbuf_addch(sb, ' ');
		strbuf_addstr(sb, s->tags[i]);
	}
}

struct store_packer {
	ZSTD_CCtx *cctx;
};

struct store_packer *store_packer_new(void)
{
	struct store_packer *pk = xcalloc(1, sizeof(*pk));

	pk->cctx = ZSTD_createCCtx();
	if (!pk->cctx)
		die("out of memory");
	return pk;
}

void store_packer_free(struct store_packer *pk)
{
	if (!pk)
		return;
	ZSTD_freeCCtx(pk->cctx);
	free(pk);
}

void store_pack(struct store_packed *out, struct store_packer *pk,
		const char *raw, size_t len)
{
	size_t cap = ZSTD_compressBound(len), n;
	struct store_packer *own = NULL;

	memset(out, 0, sizeof(*out));
	if (len < 128)
		return;
	if (!pk)
		pk = own = store_packer_new();
	out->data = xmalloc(cap);
	n = ZSTD_compressCCtx(pk->cctx, out->data, cap, raw, len, 1);
	store_packer_free(own);
	if (ZSTD_isError(n) || n >= len) {
		free(out->data);
		out->data = NULL;
		return;
	}
	out->codec = STORE_ZSTD;
	out->len = n;
}

void store_packed_release(struct store_packed *p)
{
	free(p->data);
	memset(p, 0, sizeof(*p));
}

int store_add_message(enum store_add_result *out, struct db *db,
		      const struct msg *m, bool is_bot,
		      const struct store_input *in, struct strbuf *err)
{
	const char *raw = in->raw, *oid = in->oid, *where = in->where;
	size_t len = in->len;
	struct store_packed own = { 0 };
	const struct store_packed *packed = in->packed;
	char hex[HASH_HEX + 1];
	struct strbuf tags = STRBUF_INIT, norm = STRBUF_INIT;
	int64_t *threads = NULL, id, thread = 0;
	size_t threads_nr = 0, threads_alloc = 0;
	sqlite3_stmt *st;
	int r;

	if (oid && strlen(oid) == HASH_HEX)
		memcpy(hex, oid, sizeof(hex));
	else
		hash_git_blob(hex, raw, len);
	st = db_prepare(db, "SELECT blob_oid FROM message WHERE msgid = ?");
	db_bind_text(st, 1, m->msgid);
	r = db_step(db, st, err);
	if (r > 0) {
		bool same = !strcmp((const char *)sqlite3_column_text(st, 0),
				    hex);

		db_done(st);
		if (same) {
			*out = STORE_DUPLICATE;
			return 0;
		}
		st = db_prepare(db,
				"INSERT OR IGNORE INTO message_conflict"
				"(msgid, blob_oid, source_pos, seen_ms)"
				" VALUES (?, ?, ?, ?)");
		db_bind_text(st, 1, m->msgid);
		db_bind_text(st, 2, hex);
		db_bind_text(st, 3, where);
		db_bind_int64(st, 4, time_now_ms());
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			return r;
		*out = STORE_CONFLICT;
		return 0;
	}
	db_done(st);
	if (r < 0)
		return r;

	/* the threads it joins, before the row exists (it names none) */
	r = collect_threads(&threads, &threads_nr, &threads_alloc, db, m, err);
	if (r >= 0 && threads_nr)
		r = merge_threads(&thread, db, threads, threads_nr, err);
	free(threads);
	if (r < 0)
		return r;

	join_tags(&tags, &m->subj);
	subject_normalise_title(&norm, m->subj.title);
	st = db_prepare(
		db,
		"INSERT INTO message(msgid, msgid_synthetic, blob_oid,"
		" sender, sender_addr, author, date_ms, subject, title,"
		" norm_title, in_reply_to, list_id, is_reply, is_bot, has_diff,"
		" has_diffstat, has_trailers, revision, revision_explicit,"
		" counter, expected, counter_explicit, flag_patch, flag_rfc,"
		" flag_resend, tags, change_id, base_commit, thread_id,"
		" source_pos, ingested_ms) VALUES (?1, ?2, ?3, ?5, ?6, ?7,"
		" ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
		" ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?4, ?30, ?31)");
	db_bind_text(st, 1, m->msgid);
	db_bind_int64(st, 2, m->msgid_synthetic);
	db_bind_text(st, 3, hex);
	db_bind_int64(st, 4, thread);
	db_bind_text(st, 5, m->sender);
	db_bind_text(st, 6, m->sender_addr);
	db_bind_text(st, 7, m->author);
	if (m->has_date)
		db_bind_int64(st, 8, m->date_ms);
	db_bind_text(st, 9, m->subject);
	db_bind_text(st, 10, m->subj.title);
	db_bind_text(st, 11, norm.buf);
	db_bind_text(st, 12, m->in_reply_to);
	db_bind_text(st, 13, m->list_id);
	db_bind_int64(st, 14, m->subj.reply);
	db_bind_int64(st, 15, is_bot);
	db_bind_int64(st, 16, m->has_diff);
	db_bind_int64(st, 17, m->has_diffstat);
	db_bind_int64(st, 18, m->has_trailers);
	db_bind_int64(st, 19, m->subj.revision);
	db_bind_int64(st, 20, m->subj.explicit_revision);
	db_bind_int64(st, 21, m->subj.counter);
	db_bind_int64(st, 22, m->subj.expected);
	db_bind_int64(st, 23, m->subj.explicit_counter);
	db_bind_int64(st, 24, m->subj.patch);
	db_bind_int64(st, 25, m->subj.rfc);
	db_bind_int64(st, 26, m->subj.resend);
	db_bind_text(st, 27, tags.buf);
	db_bind_text(st, 28, m->change_id);
	db_bind_text(st, 29, m->base_commit);
	db_bind_text(st, 30, where);
	db_bind_int64(st, 31, time_now_ms());
	r = db_step(db, st, err);
	db_done(st);
	strbuf_release(&tags);
	strbuf_release(&norm);
	if (r < 0)
		return r;
	id = sqlite3_last_insert_rowid(db_handle(db));
	if (!packed) {
		store_pack(&own, NULL, raw, len);
		packed = &own;
	}
	st = db_prepare(db, "INSERT INTO message_raw(message_id, codec, raw)"
			    " VALUES (?, ?, ?)");
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, packed->codec);
	if (packed->data)
		db_bind_blob(st, 3, packed->data, packed->len);
	else
		db_bind_blob(st, 3, raw, len);
	r = db_step(db, st, err);
	db_done(st);
	store_packed_release(&own);
	if (r < 0)
		return r;

	for (size_t i = 0; i < m->refs_nr; i++) {
		st = db_prepare(db,
				"INSERT OR IGNORE INTO message_ref(message_id, ref, pos)"
				" VALUES (?, ?, ?)");
		db_bind_int64(st, 1, id);
		db_bind_text(st, 2, m->refs[i]);
		db_bind_int64(st, 3, (int64_t)i);
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			return r;
	}

	if (!thread) {
		/* a new thread, named after its first message */
		thread = id;
		st = db_prepare(db,
				"UPDATE message SET thread_id = ? WHERE id = ?");
		db_bind_int64(st, 1, thread);
		db_bind_int64(st, 2, id);
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			goto out;
	}
	r = mark_dirty(db, thread, err);
	if (r < 0)
		goto out;
	*out = STORE_ADDED;
out:
	return r < 0 ? r : 0;
}

static int corrupt(struct strbuf *err, const char *msgid, const char *why)
{
	if (err)
		strbuf_addf(err, "the stored copy of <%s> is damaged: %s", msgid,
			    why);
	return -EIO;
}

static int unpack(struct strbuf *out, const void *data, size_t n,
		  const char *msgid, struct strbuf *err)
{
	unsigned long long size = ZSTD_getFrameContentSize(data, n);
	size_t got;

	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
	    size > MSG_MAX_SIZE)
		return corrupt(err, msgid, "not a zstd frame of a message");
	strbuf_grow(out, (size_t)size);
	got = ZSTD_decompress(out->buf + out->len, (size_t)size, data, n);
	if (ZSTD_isError(got) || got != size)
		return corrupt(err, msgid, ZSTD_isError(got) ?
						   ZSTD_getErrorName(got) :
						   "short content");
	strbuf_setlen(out, out->len + got);
	return 1;
}

int store_message_raw(struct strbuf *out, int64_t *ingested_ms,
		      struct db *db, const char *msgid, bool live_only,
		      struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT r.codec, r.raw, m.ingested_ms FROM message m"
		    " JOIN message_raw r ON r.message_id = m.id"
		    " WHERE m.msgid = ?1 AND (?2 = 0 OR m.deleted = 0)");
	int r;

	db_bind_text(st, 1, msgid);
	db_bind_int64(st, 2, live_only);
	r = db_step(db, st, err);
	if (r > 0) {
		const void *data = sqlite3_column_blob(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);

		if (sqlite3_column_int(st, 0) == STORE_ZSTD)
			r = unpack(out, data, n, msgid, err);
		else if (sqlite3_column_int(st, 0) == STORE_AS_IS)
			strbuf_add(out, data, n);
		else
			r = corrupt(err, msgid, "unknown codec");
		if (r > 0 && ingested_ms)
			*ingested_ms = sqlite3_column_int64(st, 2);
	}
	db_done(st);
	return r;
}

int store_delete_message(struct db *db, const char *msgid, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db,
		"UPDATE message SET deleted = 1 WHERE msgid = ? AND deleted = 0"
		" RETURNING thread_id");
	int64_t thread = -1;
	int r;

	db_bind_text(st, 1, msgid);
	r = db_step(db, st, err);
	if (r > 0) {
		thread = sqlite3_column_int64(st, 0);
		r = db_step(db, st, err);
	}
	db_done(st);
	if (r < 0)
		return r;
	if (thread >= 0)
		return mark_dirty(db, thread, err);
	return 0;
}

char *store_get_cursor(struct db *db, const char *key)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT cursor FROM source_cursor WHERE key = ?");
	char *res = NULL;

	db_bind_text(st, 1, key);
	if (db_step(db, st, NULL) > 0)
		res = db_column_strdup(st, 0);
	db_done(st);
	return res;
}

int store_set_cursor(struct db *db, const char *key, const char *cursor,
		     struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db,
		"INSERT INTO source_cursor(key, cursor, updated_ms) VALUES (?, ?, ?)"
		" ON CONFLICT(key) DO UPDATE SET cursor = excluded.cursor,"
		" updated_ms = excluded.updated_ms");
	int r;

	db_bind_text(st, 1, key);
	db_bind_text(st, 2, cursor);
	db_bind_int64(st, 3, time_now_ms());
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

/* ---- series assembly ---- */

struct thread_msg {
	struct series_msg sm;
	int64_t id;
	char *msgid, *in_reply_to, *sender_addr, *sender, *title;
	char *norm_title, *change_id, *base_commit, *tags;
	bool rfc;
	int64_t effective_ms; /* date, but never after ingestion */
};

struct thread {
	struct thread_msg *msgs;
	size_t nr, alloc;
};

static void thread_release(struct thread *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		struct thread_msg *m = &t->msgs[i];

		free(m->msgid);
		free(m->in_reply_to);
		free(m->sender_addr);
		free(m->sender);
		free(m->title);
		free(m->norm_title);
		free(m->change_id);
		free(m->base_commit);
		free(m->tags);
	}
	free(t->msgs);
	memset(t, 0, sizeof(*t));
}

static int load_thread(struct thread *t, struct db *db, int64_t thread,
		       struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db,
		"SELECT m.id, msgid, in_reply_to, sender_addr, sender, title,"
		" norm_title, change_id, base_commit, tags, date_ms, ingested_ms,"
		" is_reply, is_bot, has_diff, has_diffstat, has_trailers,"
		" revision, revision_explicit, counter, expected,"
		" counter_explicit, flag_patch, flag_resend, flag_rfc,"
		" EXISTS (SELECT 1 FROM message_ref r WHERE r.message_id = m.id)"
		" FROM message m WHERE thread_id = ? AND deleted = 0 ORDER BY m.id");
	int r;

	db_bind_int64(st, 1, thread);
	while ((r = db_step(db, st, err)) > 0) {
		struct thread_msg *m;
		int64_t date, ingested;

		ALLOC_GROW(t->msgs, t->nr + 1, t->alloc);
		m = &t->msgs[t->nr++];
		memset(m, 0, sizeof(*m));
		m->id = sqlite3_column_int64(st, 0);
		m->msgid = db_column_strdup(st, 1);
		m->in_reply_to = db_column_strdup(st, 2);
		m->sender_addr = db_column_strdup(st, 3);
		m->sender = db_column_strdup(st, 4);
		m->title = db_column_strdup(st, 5);
		m->norm_title = db_column_strdup(st, 6);
		m->change_id = db_column_strdup(st, 7);
		m->base_commit = db_column_strdup(st, 8);
		m->tags = db_column_strdup(st, 9);
		ingested = sqlite3_column_int64(st, 11);
		date = sqlite3_column_type(st, 10) == SQLITE_NULL ?
			       ingested :
			       sqlite3_column_int64(st, 10);
		m->effective_ms = date < ingested ? date : ingested;
		m->sm.msgid = m->msgid;
		m->sm.in_reply_to = m->in_reply_to;
		m->sm.sender_addr = m->sender_addr ? m->sender_addr : "";
		m->sm.date_ms = date;
		m->sm.is_reply = sqlite3_column_int(st, 12);
		m->sm.is_bot = sqlite3_column_int(st, 13);
		m->sm.has_diff = sqlite3_column_int(st, 14);
		m->sm.has_diffstat = sqlite3_column_int(st, 15);
		m->sm.has_trailers = sqlite3_column_int(st, 16);
		m->sm.revision = sqlite3_column_int(st, 17);
		m->sm.revision_explicit = sqlite3_column_int(st, 18);
		m->sm.counter = sqlite3_column_int(st, 19);
		m->sm.expected = sqlite3_column_int(st, 20);
		m->sm.counter_explicit = sqlite3_column_int(st, 21);
		m->sm.flag_patch = sqlite3_column_int(st, 22);
		m->sm.flag_resend = sqlite3_column_int(st, 23);
		m->rfc = sqlite3_column_int(st, 24);
		m->sm.has_refs = sqlite3_column_int(st, 25);
	}
	db_done(st);
	return r < 0 ? r : 0;
}

/* The messages of one revision: its cover and patches. */
struct rev_view {
	const struct series_rev *rev;
	int version, total, cover;
	const int *patches;
	const int *reroll_from;
	bool complete, partial_reroll;
};

/* Existing series row of this thread sharing a message with 'v'. */
static int64_t match_existing(struct db *db, int64_t thread,
			      const struct thread *t, const struct rev_view *v,
			      const int64_t *taken, size_t taken_nr)
{
	sqlite3_stmt *st = db_prepare(
		db,
		"SELECT s.id FROM series s WHERE s.thread_id = ?1 AND s.version = ?2"
		" AND (s.cover_msgid = ?3 OR EXISTS (SELECT 1 FROM series_patch p"
		" WHERE p.series_id = s.id AND p.msgid = ?3))");
	int64_t found = 0;

	for (int i = -1; i < v->total && !found; i++) {
		int idx = i < 0 ? v->cover : v->patches[i];

		if (idx < 0)
			continue;
		db_bind_int64(st, 1, thread);
		db_bind_int64(st, 2, v->version);
		db_bind_text(st, 3, t->msgs[idx].msgid);
		while (db_step(db, st, NULL) > 0) {
			int64_t id = sqlite3_column_int64(st, 0);
			bool used = false;

			for (size_t k = 0; k < taken_nr; k++)
				used |= taken[k] == id;
			if (!used) {
				found = id;
				break;
			}
		}
		db_done(st);
	}
	return found;
}

/* Serialise what a row holds, to tell whether an update changed it. */
static void rev_signature(struct strbuf *sb, const struct thread *t,
			  const struct rev_view *v, bool stalled)
{
	strbuf_addf(sb, "%d/%d/%d/%d/%d|", v->version, v->total, v->complete,
		    v->partial_reroll, stalled);
	strbuf_addstr(sb, v->cover >= 0 ? t->msgs[v->cover].msgid : "-");
	for (int i = 0; i < v->total; i++) {
		strbuf_addch(sb, '|');
		strbuf_addstr(sb, v->patches[i] >= 0 ?
					  t->msgs[v->patches[i]].msgid :
					  "-");
	}
}

static void row_signature(struct strbuf *sb, struct db *db, int64_t id)
{
	sqlite3_stmt *st = db_prepare(
		db,
		"SELECT version, total, complete, partial_reroll, stalled,"
		" cover_msgid FROM series WHERE id = ?");
	sqlite3_stmt *pst;
	int total = 0, next = 1;

	db_bind_int64(st, 1, id);
	if (db_step(db, st, NULL) > 0) {
		const unsigned char *c = sqlite3_column_text(st, 5);

		total = sqlite3_column_int(st, 1);
		strbuf_addf(sb, "%d/%d/%d/%d/%d|%s", sqlite3_column_int(st, 0),
			    total, sqlite3_column_int(st, 2),
			    sqlite3_column_int(st, 3), sqlite3_column_int(st, 4),
			    c ? (const char *)c : "-");
	}
	db_done(st);
	pst = db_prepare(db,
			 "SELECT idx, msgid FROM series_patch WHERE series_id = ?"
			 " ORDER BY idx");
	db_bind_int64(pst, 1, id);
	while (db_step(db, pst, NULL) > 0) {
		int idx = sqlite3_column_int(pst, 0);

		for (; next < idx; next++)
			strbuf_addstr(sb, "|-");
		strbuf_addf(sb, "|%s", sqlite3_column_text(pst, 1));
		next = idx + 1;
	}
	db_done(pst);
	for (; next <= total; next++)
		strbuf_addstr(sb, "|-");
}

static int write_rev(int64_t *id_inout, bool *changed, struct db *db,
		     int64_t thread, const struct thread *t,
		     const struct rev_view *v, int64_t stall_after_ms,
		     int64_t now_ms, struct strbuf *err)
{
	const struct thread_msg *head = NULL;
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	int64_t first = INT64_MAX, newest = INT64_MIN, id = *id_inout;
	bool stalled, rfc = false, resend = false;
	const char *change_id = NULL, *base_commit = NULL;
	sqlite3_stmt *st;
	int r;

	for (int i = -1; i < v->total; i++) {
		int idx = i < 0 ? v->cover : v->patches[i];
		const struct thread_msg *m;

		if (idx < 0)
			continue;
		m = &t->msgs[idx];
		if (!head)
			head = m;
		if (m->effective_ms < first)
			first = m->effective_ms;
		if (m->effective_ms > newest)
			newest = m->effective_ms;
		rfc |= m->rfc;
		resend |= m->sm.flag_resend;
		if (!change_id && m->change_id)
			change_id = m->change_id;
		if (!base_commit && m->base_commit)
			base_commit = m->base_commit;
	}
	if (!head)
		BUG("series revision v%d without messages", v->version);
	stalled = !v->complete && newest + stall_after_ms < now_ms;

	if (id) {
		row_signature(&before, db, id);
		rev_signature(&after, t, v, stalled);
		*changed = strcmp(before.buf, after.buf) != 0;
		st = db_prepare(
			db,
			"UPDATE series SET version = ?2, total = ?3, subject = ?4,"
			" norm_title = ?5, cover_msgid = ?6, complete = ?7,"
			" stalled = ?8, partial_reroll = ?9, rfc = ?10, resend = ?11,"
			" tags = ?12, author = ?13, author_addr = ?14, change_id = ?15,"
			" base_commit = ?16, first_ms = ?17, newest_ms = ?18,"
			" updated_ms = CASE WHEN ?20 THEN ?19 ELSE updated_ms END"
			" WHERE id = ?1");
		db_bind_int64(st, 1, id);
	} else {
		*changed = true;
		st = db_prepare(
			db,
			"INSERT INTO series(thread_id, version, total, subject,"
			" norm_title, cover_msgid, complete, stalled, partial_reroll,"
			" rfc, resend, tags, author, author_addr, change_id,"
			" base_commit, first_ms, newest_ms, created_ms, updated_ms)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			" ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19 + 0 * ?20)");
		db_bind_int64(st, 1, thread);
	}
	db_bind_int64(st, 2, v->version);
	db_bind_int64(st, 3, v->total);
	db_bind_text(st, 4, head->title);
	db_bind_text(st, 5, head->norm_title);
	db_bind_text(st, 6, v->cover >= 0 ? t->msgs[v->cover].msgid : NULL);
	db_bind_int64(st, 7, v->complete);
	db_bind_int64(st, 8, stalled);
	db_bind_int64(st, 9, v->partial_reroll);
	db_bind_int64(st, 10, rfc);
	db_bind_int64(st, 11, resend);
	db_bind_text(st, 12, head->tags);
	db_bind_text(st, 13, head->sender);
	db_bind_text(st, 14, head->sender_addr);
	db_bind_text(st, 15, change_id);
	db_bind_text(st, 16, base_commit);
	db_bind_int64(st, 17, first);
	db_bind_int64(st, 18, newest);
	db_bind_int64(st, 19, now_ms);
	db_bind_int64(st, 20, *changed);
	r = db_step(db, st, err);
	db_done(st);
	strbuf_release(&before);
	strbuf_release(&after);
	if (r < 0)
		return r;
	if (!id)
		id = sqlite3_last_insert_rowid(db_handle(db));

	st = db_prepare(db, "DELETE FROM series_patch WHERE series_id = ?");
	db_bind_int64(st, 1, id);
	r = db_step(db, st, err);
	db_done(st);
	if (r < 0)
		return r;
	for (int i = 0; i < v->total; i++) {
		if (v->patches[i] < 0)
			continue;
		st = db_prepare(db,
				"INSERT INTO series_patch(series_id, idx, msgid,"
				" from_revision) VALUES (?, ?, ?, ?)");
		db_bind_int64(st, 1, id);
		db_bind_int64(st, 2, i + 1);
		db_bind_text(st, 3, t->msgs[v->patches[i]].msgid);
		if (v->reroll_from && v->reroll_from[i])
			db_bind_int64(st, 4, v->reroll_from[i]);
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			return r;
	}
	*id_inout = id;
	return 0;
}

/*
 * Link a revision to the one it supersedes, tried in order: same
 * change-id; its cover or first patch replies to a message of an
 * older revision; same author and normalised title.  Only lower
 * versions (or an equal version for a RESEND) qualify.
 */
static int link_prev(struct db *db, int64_t id, struct strbuf *err)
{
	static const char *const queries[] = {
		"SELECT o.id FROM series s JOIN series o ON o.change_id = s.change_id"
		" WHERE s.id = ?1 AND o.id != s.id AND o.version < s.version"
		" ORDER BY o.version DESC, o.id DESC LIMIT 1",
		"SELECT o.id FROM series s"
		" JOIN message m ON m.msgid = COALESCE(s.cover_msgid,"
		"  (SELECT p.msgid FROM series_patch p WHERE p.series_id = s.id"
		"   ORDER BY p.idx LIMIT 1))"
		" JOIN series o ON o.id != s.id AND o.version < s.version"
		"  AND (o.cover_msgid = m.in_reply_to OR EXISTS (SELECT 1 FROM"
		"   series_patch op WHERE op.series_id = o.id"
		"   AND op.msgid = m.in_reply_to))"
		" WHERE s.id = ?1 ORDER BY o.version DESC, o.id DESC LIMIT 1",
		"SELECT o.id FROM series s JOIN series o"
		" ON o.author_addr = s.author_addr AND o.norm_title = s.norm_title"
		" WHERE s.id = ?1 AND o.id != s.id AND o.first_ms <= s.first_ms"
		" AND (o.version < s.version OR (o.version = s.version AND"
		"  s.resend AND o.id < s.id))"
		" ORDER BY o.version DESC, o.first_ms DESC LIMIT 1",
	};
	int64_t prev = 0;
	sqlite3_stmt *st;
	int r;

	for (size_t q = 0; q < ARRAY_SIZE(queries) && !prev; q++) {
		st = db_prepare(db, queries[q]);
		db_bind_int64(st, 1, id);
		r = db_step(db, st, err);
		if (r > 0)
			prev = sqlite3_column_int64(st, 0);
		db_done(st);
		if (r < 0)
			return r;
	}
	st = db_prepare(db, "UPDATE series SET prev_version = ?2 WHERE id = ?1"
			    " AND prev_version IS NOT ?2");
	db_bind_int64(st, 1, id);
	if (prev)
		db_bind_int64(st, 2, prev);
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

static int assemble_thread(struct store_assemble_stats *stats, struct db *db,
			   int64_t thread, int64_t stall_after_ms,
			   int64_t now_ms, struct strbuf *err)
{
	struct thread t = { 0 };
	struct series_result res = SERIES_RESULT_INIT;
	struct series_msg *sm = NULL;
	struct rev_view *views = NULL;
	int64_t *ids = NULL;
	size_t views_nr = 0;
	int *lone_patches = NULL;
	sqlite3_stmt *st;
	int r;

	r = load_thread(&t, db, thread, err);
	if (r < 0)
		goto out;
	sm = xcalloc(t.nr ? t.nr : 1, sizeof(*sm));
	for (size_t i = 0; i < t.nr; i++)
		sm[i] = t.msgs[i].sm;
	series_assemble(&res, sm, t.nr);

	views = xcalloc(res.revs_nr + res.lone_covers_nr + 1, sizeof(*views));
	for (size_t i = 0; i < res.revs_nr; i++) {
		struct series_rev *sr = &res.revs[i];
		struct rev_view *v = &views[views_nr++];

		v->rev = sr;
		v->version = sr->version;
		v->total = sr->total;
		v->cover = sr->cover;
		v->patches = sr->patches;
		v->reroll_from = sr->reroll_from;
		v->complete = sr->complete;
		v->partial_reroll = sr->partial_reroll;
	}
	/* a cover whose patches never arrived is an incomplete revision */
	lone_patches = xmalloc(st_mult(st_add(t.nr, 1), sizeof(int)));
	for (size_t i = 0; i < t.nr + 1; i++)
		lone_patches[i] = -1;
	for (size_t i = 0; i < res.lone_covers_nr; i++) {
		const struct thread_msg *c = &t.msgs[res.lone_covers[i]];
		struct rev_view *v = &views[views_nr++];

		v->version = c->sm.revision;
		v->total = c->sm.expected < (int)t.nr + 1 ? c->sm.expected :
							    (int)t.nr + 1;
		v->cover = res.lone_covers[i];
		v->patches = lone_patches;
		v->complete = false;
	}

	ids = xcalloc(views_nr + 1, sizeof(*ids));
	for (size_t i = 0; i < views_nr; i++)
		ids[i] = match_existing(db, thread, &t, &views[i], ids, i);

	/* rows of this thread that no revision claims any more */
	st = db_prepare(db, "SELECT id FROM series WHERE thread_id = ?");
	db_bind_int64(st, 1, thread);
	while ((r = db_step(db, st, err)) > 0) {
		int64_t id = sqlite3_column_int64(st, 0);
		bool keep = false;

		for (size_t i = 0; i < views_nr; i++)
			keep |= ids[i] == id;
		if (!keep) {
			sqlite3_stmt *del = db_prepare(
				db, "DELETE FROM series WHERE id = ?");

			db_bind_int64(del, 1, id);
			r = db_step(db, del, err);
			db_done(del);
			if (r < 0)
				break;
			stats->removed++;
		}
	}
	db_done(st);
	if (r < 0)
		goto out;

	for (size_t i = 0; i < views_nr; i++) {
		bool existed = ids[i] != 0, changed;

		r = write_rev(&ids[i], &changed, db, thread, &t, &views[i],
			      stall_after_ms, now_ms, err);
		if (r < 0)
			goto out;
		if (!existed)
			stats->created++;
		else if (changed)
			stats->updated++;
	}
	for (size_t i = 0; i < views_nr; i++) {
		r = link_prev(db, ids[i], err);
		if (r < 0)
			goto out;
	}
	stats->threads++;
	r = 0;
out:
	free(ids);
	free(lone_patches);
	free(views);
	free(sm);
	series_result_release(&res);
	thread_release(&t);
	return r;
}

int store_assemble_dirty(struct store_assemble_stats *out, struct db *db,
			 int64_t stall_after_ms, int64_t now_ms,
			 struct strbuf *err)
{
	struct store_assemble_stats stats = { 0 };
	int r;

	for (;;) {
		int64_t batch[64];
		size_t n = 0;
		sqlite3_stmt *st;

		r = db_begin(db, err);
		if (r < 0)
			return r;
		st = db_prepare(db, "SELECT thread_id FROM thread_dirty"
				    " ORDER BY thread_id LIMIT 64");
		while (n < ARRAY_SIZE(batch) && (r = db_step(db, st, err)) > 0)
			batch[n++] = sqlite3_column_int64(st, 0);
		db_done(st);
		if (r < 0)
			goto fail;
		if (!n)
			break;
		for (size_t i = 0; i < n; i++) {
			r = assemble_thread(&stats, db, batch[i],
					    stall_after_ms, now_ms, err);
			if (r < 0)
				goto fail;
			st = db_prepare(db,
					"DELETE FROM thread_dirty WHERE thread_id = ?");
			db_bind_int64(st, 1, batch[i]);
			r = db_step(db, st, err);
			db_done(st);
			if (r < 0)
				goto fail;
		}
		r = db_commit(db, err);
		if (r < 0)
			goto fail;
	}
	r = db_commit(db, err);
	if (r < 0)
		goto fail;
	/* stall revisions whose quiet period ended since the last run */
	{
		sqlite3_stmt *st = db_prepare(
			db, "UPDATE series SET stalled = 1, updated_ms = ?1"
			    " WHERE complete = 0 AND stalled = 0"
			    " AND newest_ms + ?2 < ?1");

		db_bind_int64(st, 1, now_ms);
		db_bind_int64(st, 2, stall_after_ms);
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			return r;
	}
	*out = stats;
	return 0;
fail:
	db_rollback(db);
	return r;
}
