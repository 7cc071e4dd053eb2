/* Reading a source into the database; see ingest.h. */
#include "kreview/ingest.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/log.h"
#include "kreview/msg.h"
#include "kreview/queue.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"

#include <strings.h>

#define INGEST_BATCH 256

static void report(const struct ingest_source *is, const char *where,
		   const char *what)
{
	if (is->report)
		is->report(is->report_ctx, where ? where : is->location, what);
	else if (where)
		fprintf(stderr, "kreview: %s: %s\n", where, what);
	else
		fprintf(stderr, "kreview: %s\n", what);
}

static bool is_own(const struct kreview_config *cfg, const struct msg *m)
{
	return cfg->ingest.own_address && *m->sender_addr &&
	       !strcasecmp(cfg->ingest.own_address, m->sender_addr);
}

static int ingest_one(struct ingest_stats *st, struct db *db,
		      const struct kreview_config *cfg,
		      const struct ingest_source *is,
		      const struct source_msg *sm, struct strbuf *err)
{
	struct msg m = MSG_INIT;
	struct strbuf warn = STRBUF_INIT, line = STRBUF_INIT;
	enum store_add_result res;
	bool bot;
	int r;

	msg_init(&m);
	r = msg_parse(&m, sm->data, sm->len, &warn);
	if (r == -E2BIG) {
		strbuf_addf(&line, "message of %zu bytes is larger than the %u MiB limit, skipped",
			    sm->len, MSG_MAX_SIZE >> 20);
		goto bad;
	} else if (r < 0) {
		strbuf_addstr(&line, "not a mail message (no header), skipped");
		goto bad;
	}
	if (warn.len) {
		strbuf_addf(&line, "%s (Message-ID <%s>)", warn.buf, m.msgid);
		report(is, sm->where, line.buf);
		st->errors++;
		strbuf_reset(&line);
	}
	if (sm->deleted) {
		r = store_delete_message(db, m.msgid, err);
		goto out;
	}
	bot = msg_is_bot(&m) || config_is_bot_sender(cfg, m.sender_addr) ||
	      is_own(cfg, &m);
	r = store_add_message(&res, db, &m, bot, sm->data, sm->len, sm->where,
			      err);
	if (r < 0)
		goto out;
	if (is->list) {
		r = queue_note_message(db, m.msgid, is->list, is->priority,
				       err);
		if (r < 0)
			goto out;
	}
	if (res == STORE_ADDED) {
		st->added++;
		if (m.has_diff && !m.subj.reply && !bot)
			st->patches++;
	} else if (res == STORE_CONFLICT) {
		strbuf_addf(&line,
			    "Message-ID <%s> was seen before with different content; kept the first copy",
			    m.msgid);
		goto bad;
	}
	goto out;
bad:
	report(is, sm->where, line.buf);
	st->errors++;
	r = 0;
out:
	msg_release(&m);
	strbuf_release(&warn);
	strbuf_release(&line);
	return r;
}

int ingest_source(struct ingest_stats *st, struct db *db,
		  const struct kreview_config *cfg,
		  const struct ingest_source *is, struct strbuf *err)
{
	struct source *src = NULL;
	struct strbuf e = STRBUF_INIT;
	struct source_msg sm;
	char *cursor = NULL, *key = NULL;
	size_t in_batch = 0, total = 0;
	size_t batch = is->batch ? is->batch : INGEST_BATCH;
	bool in_txn = false;
	int r;

	/* the cursor is keyed by the source's canonical identity */
	r = source_open(&src, is->kind, is->location, is->query, NULL, &e);
	if (r < 0)
		goto fail;
	if (source_key(src))
		key = xstrdup(source_key(src));
	if (key) {
		cursor = store_get_cursor(db, key);
		if (cursor) {
			source_free(src);
			src = NULL;
			r = source_open(&src, is->kind, is->location, is->query,
					cursor, &e);
			if (r < 0)
				goto fail;
			if (source_restarted(src))
				log_notice("'%s' changed since the last run, reading it again from the start",
					   is->location);
		}
	}

	for (;;) {
		if (is->max_messages && total >= is->max_messages)
			break;
		if (!in_txn) {
			r = db_begin(db, &e);
			if (r < 0)
				goto fail;
			in_txn = true;
		}
		strbuf_reset(&e);
		r = source_next(src, &sm, &e);
		if (r == 0)
			break;
		if (r == -E2BIG || r == -EPROTO) {
			report(is, NULL, e.buf);
			st->errors++;
			continue;
		}
		if (r < 0)
			goto fail_source;
		st->read++;
		total++;
		r = ingest_one(st, db, cfg, is, &sm, &e);
		if (r < 0)
			goto fail;
		if (++in_batch >= batch) {
			if (key && source_cursor(src)) {
				r = store_set_cursor(db, key,
						     source_cursor(src), &e);
				if (r < 0)
					goto fail;
			}
			r = db_commit(db, &e);
			if (r < 0)
				goto fail;
			in_txn = false;
			in_batch = 0;
		}
	}
	if (!in_txn) {
		r = db_begin(db, &e);
		if (r < 0)
			goto fail;
		in_txn = true;
	}
	if (key && source_cursor(src)) {
		r = store_set_cursor(db, key, source_cursor(src), &e);
		if (r < 0)
			goto fail;
	}
	r = db_commit(db, &e);
	if (r < 0)
		goto fail;
	in_txn = false;
	r = 0;
	goto out;

fail_source:
	/* keep what was read before the source broke */
	{
		struct strbuf err2 = STRBUF_INIT;

		if (key && source_cursor(src) &&
		    store_set_cursor(db, key, source_cursor(src), &err2) == 0 &&
		    db_commit(db, &err2) == 0)
			in_txn = false;
		strbuf_release(&err2);
	}
fail:
	if (in_txn)
		db_rollback(db);
	strbuf_addf(err, "cannot read '%s': %s", is->location,
		    e.len ? e.buf : strerror(-r));
out:
	free(cursor);
	free(key);
	source_free(src);
	strbuf_release(&e);
	return r;
}
