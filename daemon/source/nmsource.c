/*
 * notmuch source: the messages matching a query, oldest first.
 *
 * The database is opened read-only with no config file (so a user's
 * exclude tags and other settings never apply by accident), the
 * matching message ids and file names are copied out, and the database
 * is closed again before the first message is handed out: a read
 * handle kept open while "notmuch new" commits can fail with Xapian's
 * "database modified" error half way through, and notmuch's iterators
 * cannot report that (they just stop), which would lose mail.  The
 * count of copied messages is checked against the query's count.
 *
 * The cursor is "UUID:REVISION" (notmuch_database_get_revision).  With
 * a cursor of the same database, the query is narrowed to
 * "lastmod:OLD+1..NEW": messages added or re-tagged since.  Since the
 * order is by date, not by lastmod, the new cursor is only given out
 * with the last message; before that the old one stands (re-reading is
 * harmless, the store dedups).
 */
#include "source-impl.h"

#include <notmuch.h>

#if !LIBNOTMUCH_CHECK_VERSION(5, 4, 0)
#error "kreview needs libnotmuch 5.4 (notmuch 0.32) or later"
#endif

struct nm_entry {
	char *id;
	char **files;
	size_t nr, alloc;
};

struct nmsource {
	char *path;
	struct nm_entry *ent;
	size_t nr, alloc, pos;
	char *final_cursor;	/* cursor once every message is out */
	struct strbuf msg;
};

static void nmsource_finish_cursor(struct source *s, struct nmsource *nm)
{
	if (nm->pos < nm->nr)
		return;
	strbuf_reset(&s->cursor);
	strbuf_addstr(&s->cursor, nm->final_cursor);
	s->has_cursor = true;
}

static int nmsource_next(struct source *s, struct source_msg *out,
			 struct strbuf *err)
{
	struct nmsource *nm = s->priv;
	struct nm_entry *e;
	const char *last = NULL;
	int r = -ENOENT;

	if (nm->pos >= nm->nr)
		return 0;
	e = &nm->ent[nm->pos++];
	nmsource_finish_cursor(s, nm);
	strbuf_addf(&s->where, "%s: id:%s", nm->path, e->id);
	/* Any copy will do; a stale index may list files since removed. */
	for (size_t i = 0; i < e->nr; i++) {
		last = e->files[i];
		strbuf_reset(&nm->msg);
		r = strbuf_read_file(&nm->msg, last, s->max_message);
		if (r != -ENOENT)
			break;
	}
	if (r == -E2BIG) {
		source_err(err, "%s: '%s' is larger than %zu bytes, skipped",
			   s->where.buf, last, s->max_message);
		return r;
	}
	if (r == -ENOENT) {
		source_err(err, "%s: file '%s' is gone (stale index), skipped",
			   s->where.buf, last ? last : "(none)");
		return -EPROTO;
	}
	if (r < 0) {
		source_err(err, "%s: cannot read '%s': %s", s->where.buf, last,
			   strerror(-r));
		return r;
	}
	out->data = nm->msg.buf;
	out->len = nm->msg.len;
	return 1;
}

static void nmsource_release(void *priv)
{
	struct nmsource *nm = priv;

	if (!nm)
		return;
	for (size_t i = 0; i < nm->nr; i++) {
		for (size_t j = 0; j < nm->ent[i].nr; j++)
			free(nm->ent[i].files[j]);
		free(nm->ent[i].files);
		free(nm->ent[i].id);
	}
	free(nm->ent);
	free(nm->path);
	free(nm->final_cursor);
	strbuf_release(&nm->msg);
	free(nm);
}

static const struct source_ops nmsource_ops = {
	.next = nmsource_next,
	.release = nmsource_release,
};

/* 1 and the revision if 'cursor' belongs to the database 'uuid', else 0. */
static int nmsource_parse_cursor(unsigned long *out, const char *cursor,
				 const char *uuid)
{
	const char *colon = strrchr(cursor, ':');
	uint64_t rev;

	if (!colon || (size_t)(colon - cursor) != strlen(uuid) ||
	    memcmp(cursor, uuid, strlen(uuid)) ||
	    parse_uint64(&rev, colon + 1, 10) || rev > ULONG_MAX)
		return 0;
	*out = (unsigned long)rev;
	return 1;
}

static int nmsource_collect(struct nmsource *nm, notmuch_database_t *db,
			    const char *qs, struct strbuf *err)
{
	notmuch_query_t *q = NULL;
	notmuch_messages_t *msgs = NULL;
	notmuch_status_t st;
	unsigned int count = 0;
	int ret = 0;

	st = notmuch_query_create_with_syntax(db, qs,
					      NOTMUCH_QUERY_SYNTAX_XAPIAN, &q);
	if (!st) {
		notmuch_query_set_sort(q, NOTMUCH_SORT_OLDEST_FIRST);
		st = notmuch_query_count_messages(q, &count);
	}
	if (!st)
		st = notmuch_query_search_messages(q, &msgs);
	if (st) {
		const char *why = notmuch_database_status_string(db);

		source_err(err, "%s: notmuch query '%s' failed: %s", nm->path,
			   qs, why ? why : notmuch_status_to_string(st));
		if (err)
			strbuf_rtrim(err);
		/*
		 * Xapian reports a syntax error as an exception, like
		 * any other failure: tell them apart by the text.
		 */
		if (st == NOTMUCH_STATUS_BAD_QUERY_SYNTAX ||
		    (st == NOTMUCH_STATUS_XAPIAN_EXCEPTION && why &&
		     strstr(why, "parsing query")))
			ret = -EINVAL;
		else
			ret = -EIO;
		goto out;
	}
	for (; notmuch_messages_valid(msgs);
	     notmuch_messages_move_to_next(msgs)) {
		notmuch_message_t *m = notmuch_messages_get(msgs);
		notmuch_filenames_t *fn = notmuch_message_get_filenames(m);
		struct nm_entry *e;

		ALLOC_GROW(nm->ent, nm->nr + 1, nm->alloc);
		e = &nm->ent[nm->nr++];
		memset(e, 0, sizeof(*e));
		e->id = xstrdup(notmuch_message_get_message_id(m));
		for (; fn && notmuch_filenames_valid(fn);
		     notmuch_filenames_move_to_next(fn)) {
			ALLOC_GROW(e->files, e->nr + 1, e->alloc);
			e->files[e->nr++] =
				xstrdup(notmuch_filenames_get(fn));
		}
		notmuch_filenames_destroy(fn);
		notmuch_message_destroy(m);
	}
	if (nm->nr != count) {
		source_err(err,
			   "%s: the notmuch database changed while reading (%zu of %u messages), try again",
			   nm->path, nm->nr, count);
		ret = -EAGAIN;
	}
out:
	notmuch_query_destroy(q);
	return ret;
}

int nmsource_open(struct source *s, const char *location, const char *query,
		  const char *cursor, struct strbuf *err)
{
	struct nmsource *nm = xcalloc(1, sizeof(*nm));
	struct strbuf qs = STRBUF_INIT;
	struct strbuf key = STRBUF_INIT;
	notmuch_database_t *db = NULL;
	notmuch_status_t st;
	char *msg = NULL, *abs = NULL;
	const char *uuid;
	unsigned long rev, old;
	int ret = 0;

	s->ops = &nmsource_ops;
	s->priv = nm;
	strbuf_init(&nm->msg, 0);
	nm->path = xstrdup(location);
	if (!query || !*query)
		query = "*";

	/* notmuch insists on an absolute path. */
	abs = realpath(location, NULL);
	st = notmuch_database_open_with_config(
		abs ? abs : location, NOTMUCH_DATABASE_MODE_READ_ONLY, "", NULL,
		&db, &msg);
	if (st) {
		source_err(err, "cannot open notmuch database '%s': %s",
			   location, msg ? msg : notmuch_status_to_string(st));
		ret = st == NOTMUCH_STATUS_NO_DATABASE ||
				      st == NOTMUCH_STATUS_FILE_ERROR ?
			      -ENOENT :
			      -EIO;
		goto out;
	}
	strbuf_addf(&key, "?%s", query);
	source_set_key(s, "notmuch:", location, key.buf);

	rev = notmuch_database_get_revision(db, &uuid);
	nm->final_cursor = xmalloc(strlen(uuid) + 32);
	snprintf(nm->final_cursor, strlen(uuid) + 32, "%s:%lu", uuid, rev);

	if (cursor && nmsource_parse_cursor(&old, cursor, uuid) &&
	    old <= rev) {
		strbuf_addstr(&s->cursor, cursor);
		s->has_cursor = true;
		if (old == rev)
			goto done; /* nothing changed */
		strbuf_addf(&qs, "(%s) AND lastmod:%lu..%lu", query, old + 1,
			    rev);
	} else {
		s->restarted = cursor != NULL;
		strbuf_addstr(&qs, query);
	}
	ret = nmsource_collect(nm, db, qs.buf, err);
	if (ret < 0)
		goto out;
done:
	nmsource_finish_cursor(s, nm);
out:
	free(msg);
	free(abs);
	if (db) {
		/* Read-only: closing commits nothing, its status is moot. */
		notmuch_database_close(db);
		notmuch_database_destroy(db);
	}
	strbuf_release(&qs);
	strbuf_release(&key);
	return ret;
}
