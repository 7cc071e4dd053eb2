/* Reading series revisions back from the database: store_series.h. */
#include "kreview/store_series.h"
#include "kreview/db.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"

static void series_msg_release(struct store_series_msg *m)
{
	free(m->msgid);
	free(m->raw);
	memset(m, 0, sizeof(*m));
}

void store_series_release(struct store_series *s)
{
	if (!s)
		return;
	for (int i = 0; s->patches && i < s->total; i++)
		series_msg_release(&s->patches[i]);
	free(s->patches);
	series_msg_release(&s->cover);
	free(s->subject);
	free(s->base_commit);
	memset(s, 0, sizeof(*s));
}

/* Raw bytes of one message; 1 found, 0 not stored, -EIO. */
static int load_raw(struct store_series_msg *out, struct db *db,
		    const char *msgid, struct strbuf *err)
{
	struct strbuf raw = STRBUF_INIT;
	int r = store_message_raw(&raw, NULL, db, msgid, true, err);

	if (r > 0) {
		out->len = raw.len;
		out->raw = strbuf_detach(&raw, NULL);
		out->msgid = xstrdup(msgid);
	}
	strbuf_release(&raw);
	return r;
}

int store_series_load(struct store_series *out, struct db *db, int64_t id,
		      struct strbuf *err)
{
	struct store_series s = STORE_SERIES_INIT;
	char **slots = NULL;
	char *cover = NULL;
	sqlite3_stmt *st;
	int r, nslots = 0;

	st = db_prepare(db, "SELECT version, total, subject, base_commit,"
			    " cover_msgid FROM series WHERE id = ?");
	db_bind_int64(st, 1, id);
	r = db_step(db, st, err);
	if (r > 0) {
		s.id = id;
		s.version = sqlite3_column_int(st, 0);
		s.total = sqlite3_column_int(st, 1);
		s.subject = db_column_strdup(st, 2);
		s.base_commit = db_column_strdup(st, 3);
		cover = db_column_strdup(st, 4);
	}
	db_done(st);
	if (r < 0) {
		r = -EIO;
		goto out;
	}
	if (!r || s.total < 0) {
		if (err)
			strbuf_addf(err, "no series %" PRId64, id);
		r = -ENOENT;
		goto out;
	}

	nslots = s.total;
	slots = xcalloc((size_t)nslots + 1, sizeof(*slots));
	st = db_prepare(db, "SELECT idx, msgid FROM series_patch"
			    " WHERE series_id = ? ORDER BY idx");
	db_bind_int64(st, 1, id);
	while ((r = db_step(db, st, err)) > 0) {
		int idx = sqlite3_column_int(st, 0);

		if (idx >= 1 && idx <= s.total && !slots[idx - 1])
			slots[idx - 1] = db_column_strdup(st, 1);
	}
	db_done(st);
	if (r < 0) {
		r = -EIO;
		goto out;
	}

	s.patches = xcalloc((size_t)s.total + 1, sizeof(*s.patches));
	for (int i = 0; i < s.total; i++) {
		r = slots[i] ? load_raw(&s.patches[i], db, slots[i], err) : 0;
		if (r < 0) {
			r = -EIO;
			goto out;
		}
		if (!r) {
			if (err)
				strbuf_addf(err, "series %" PRId64
					    " lacks patch %d/%d", id, i + 1,
					    s.total);
			r = -ENODATA;
			goto out;
		}
	}
	if (cover) {
		r = load_raw(&s.cover, db, cover, err);
		if (r < 0) {
			r = -EIO;
			goto out;
		}
		s.has_cover = r > 0;
	}
	*out = s;
	memset(&s, 0, sizeof(s));
	r = 0;
out:
	for (int i = 0; slots && i < nslots; i++)
		free(slots[i]);
	free(slots);
	free(cover);
	store_series_release(&s);
	return r;
}

int store_series_of_msgid(int64_t *out, struct db *db, const char *msgid,
			  struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT id FROM series WHERE cover_msgid = ?1 UNION ALL"
		    " SELECT series_id FROM series_patch WHERE msgid = ?1"
		    " ORDER BY 1 DESC LIMIT 1");
	int r;

	db_bind_text(st, 1, msgid);
	r = db_step(db, st, err);
	if (r > 0)
		*out = sqlite3_column_int64(st, 0);
	db_done(st);
	if (r < 0)
		return -EIO;
	if (!r) {
		if (err)
			strbuf_addf(err, "no series holds <%s>", msgid);
		return -ENOENT;
	}
	return 0;
}
