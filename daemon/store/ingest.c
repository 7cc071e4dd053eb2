/* Reading a source into the database; see ingest.h. */
#include "kreview/ingest.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/log.h"
#include "kreview/msg.h"
#include "kreview/queue.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"

#include <pthread.h>
#include <strings.h>

#define INGEST_BATCH 256

void ingest_report_stderr(const char *where, const char *what)
{
	if (where)
		fprintf(stderr, "kreview: %s: %s\n", where, what);
	else
		fprintf(stderr, "kreview: %s\n", what);
}

static void report(const struct ingest_source *is, const char *where,
		   const char *what)
{
	if (is->report)
		is->report(is->report_ctx, where, what);
	else
		ingest_report_stderr(where, what);
}

static bool is_own(const struct kreview_config *cfg, const struct msg *m)
{
	return cfg->ingest.own_address && *m->sender_addr &&
	       !strcasecmp(cfg->ingest.own_address, m->sender_addr);
}

/*
 * Reading and parsing run on a thread of their own while this thread
 * stores: the two halves take about the same CPU time, and on two
 * cores the pipeline nearly halves the wall time of a large ingest.
 * An item carries one message, parsed, with the source cursor that
 * follows it, so cursors are still committed with the messages they
 * cover; the queue is bounded in items and bytes.
 */
#define PIPE_ITEMS 64
#define PIPE_BYTES (64u << 20)

struct item {
	int status;		/* 1 message, 0 end, <0 error (see below) */
	char *raw;
	size_t len;
	char *where;
	bool deleted;
	char oid[41];		/* git blob id from the source, or "" */
	struct store_packed packed; /* the bytes as stored */
	char *cursor;		/* source cursor after this item, or NULL */
	int parse_r;		/* msg_parse() result */
	struct msg m;
	struct strbuf text;	/* parse warnings, or the error text */
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t can_get, can_put;
	struct item *ring;
	size_t head, nr, bytes;
	bool stop;		/* the consumer gave up */
	bool closed;		/* the producer is gone */
};

/* The reader and the parser, each on a thread of its own. */
struct stages {
	struct pipe read, parsed;
	struct source *src;
	size_t max_messages;
};

static void pipe_init(struct pipe *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->can_get, NULL);
	pthread_cond_init(&p->can_put, NULL);
	p->ring = xcalloc(PIPE_ITEMS, sizeof(*p->ring));
}

static void pipe_stop(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->can_put);
	pthread_cond_broadcast(&p->can_get);
	pthread_mutex_unlock(&p->mu);
}

static void pipe_close(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->closed = true;
	pthread_cond_broadcast(&p->can_get);
	pthread_mutex_unlock(&p->mu);
}

static void item_init(struct item *it)
{
	memset(it, 0, sizeof(*it));
	msg_init(&it->m);
	strbuf_init(&it->text, 0);
}

/* Free an item's contents and leave it initialised. */
static void item_release(struct item *it)
{
	free(it->raw);
	store_packed_release(&it->packed);
	free(it->where);
	free(it->cursor);
	msg_release(&it->m);
	strbuf_release(&it->text);
	item_init(it);
}

/* Queue 'it' (moved in); false when the consumer stopped. */
static bool pipe_put(struct pipe *p, struct item *it)
{
	bool ok;

	pthread_mutex_lock(&p->mu);
	while (!p->stop && (p->nr == PIPE_ITEMS ||
			    (p->nr && p->bytes + it->len > PIPE_BYTES)))
		pthread_cond_wait(&p->can_put, &p->mu);
	ok = !p->stop;
	if (ok) {
		p->ring[(p->head + p->nr) % PIPE_ITEMS] = *it;
		p->nr++;
		p->bytes += it->len;
		pthread_cond_signal(&p->can_get);
	}
	pthread_mutex_unlock(&p->mu);
	if (!ok)
		item_release(it);
	return ok;
}

/* The next item; false once the queue is empty and stopped or closed. */
static bool pipe_get(struct pipe *p, struct item *out)
{
	pthread_mutex_lock(&p->mu);
	while (!p->nr && !p->stop && !p->closed)
		pthread_cond_wait(&p->can_get, &p->mu);
	if (!p->nr) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	*out = p->ring[p->head];
	p->head = (p->head + 1) % PIPE_ITEMS;
	p->nr--;
	p->bytes -= out->len;
	pthread_cond_signal(&p->can_put);
	pthread_mutex_unlock(&p->mu);
	return true;
}

/* Reader: raw messages and the cursor after each, in source order. */
static void *reader(void *data)
{
	struct stages *sg = data;
	size_t total = 0;

	for (;;) {
		struct item it;
		struct source_msg sm;
		const char *cur;

		item_init(&it);
		if (sg->max_messages && total >= sg->max_messages) {
			it.status = 0;
			pipe_put(&sg->read, &it);
			break;
		}
		it.status = source_next(sg->src, &sm, &it.text);
		cur = source_cursor(sg->src);
		it.cursor = cur ? xstrdup(cur) : NULL;
		if (it.status == 1) {
			total++;
			it.raw = xmemdupz(sm.data, sm.len);
			it.len = sm.len;
			it.where = xstrdup(sm.where);
			it.deleted = sm.deleted;
			memcpy(it.oid, sm.oid, sizeof(it.oid));
		}
		/* per-message errors: the source goes on */
		if (it.status == 1 || it.status == -E2BIG ||
		    it.status == -EPROTO) {
			if (!pipe_put(&sg->read, &it))
				break;
			continue;
		}
		pipe_put(&sg->read, &it);
		break;
	}
	pipe_close(&sg->read);
	return NULL;
}

/* Parser: the same items, with their messages parsed and their bytes
 * packed for storage (off the reader, which inflates git objects). */
static void *parser(void *data)
{
	struct stages *sg = data;
	struct store_packer *pk = store_packer_new();

	for (;;) {
		struct item it;
		bool last;

		if (!pipe_get(&sg->read, &it))
			break;
		last = it.status != 1 && it.status != -E2BIG &&
		       it.status != -EPROTO;
		if (it.status == 1)
			it.parse_r = msg_parse(&it.m, it.raw, it.len, &it.text);
		if (it.status == 1 && it.parse_r == 0 && !it.deleted)
			store_pack(&it.packed, pk, it.raw, it.len);
		if (!pipe_put(&sg->parsed, &it) || last) {
			/* let the reader finish if it waits on us */
			pipe_stop(&sg->read);
			break;
		}
	}
	pipe_close(&sg->parsed);
	store_packer_free(pk);
	return NULL;
}

static int store_item(struct ingest_stats *st, struct db *db,
		      const struct kreview_config *cfg,
		      const struct ingest_source *is, struct item *it,
		      struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT;
	struct store_input in = { 0 };
	struct msg *m = &it->m;
	enum store_add_result res;
	bool bot;
	int r;

	if (it->parse_r == -E2BIG) {
		strbuf_addf(&line, "message of %zu bytes is larger than the %u MiB limit, skipped",
			    it->len, MSG_MAX_SIZE >> 20);
		goto bad;
	} else if (it->parse_r < 0) {
		strbuf_addstr(&line, "not a mail message (no header), skipped");
		goto bad;
	}
	if (it->text.len) {
		strbuf_addf(&line, "%s (Message-ID <%s>)", it->text.buf,
			    m->msgid);
		report(is, it->where, line.buf);
		st->errors++;
		strbuf_reset(&line);
	}
	if (it->deleted) {
		r = store_delete_message(db, m->msgid, err);
		goto out;
	}
	bot = msg_is_bot(m) || config_is_bot_sender(cfg, m->sender_addr) ||
	      is_own(cfg, m);
	in.raw = it->raw;
	in.len = it->len;
	in.oid = it->oid[0] ? it->oid : NULL;
	in.packed = &it->packed;
	in.where = it->where;
	r = store_add_message(&res, db, m, bot, &in, err);
	if (r < 0)
		goto out;
	if (is->list) {
		r = queue_note_message(db, m->msgid, is->list, is->priority,
				       err);
		if (r < 0)
			goto out;
	}
	if (res == STORE_ADDED) {
		st->added++;
		if (m->has_diff && !m->subj.reply && !bot)
			st->patches++;
	} else if (res == STORE_CONFLICT) {
		strbuf_addf(&line,
			    "Message-ID <%s> was seen before with different content; kept the first copy",
			    m->msgid);
		goto bad;
	}
	goto out;
bad:
	report(is, it->where, line.buf);
	st->errors++;
	r = 0;
out:
	strbuf_release(&line);
	return r;
}

int ingest_source(struct ingest_stats *st, struct db *db,
		  const struct kreview_config *cfg,
		  const struct ingest_source *is, struct strbuf *err)
{
	struct source *src = NULL;
	struct strbuf e = STRBUF_INIT;
	struct stages sg;
	struct db_checkpointer *ckpt = NULL;
	struct item it;
	pthread_t th_read, th_parse;
	char *cursor = NULL, *key = NULL, *last_cursor = NULL;
	size_t in_batch = 0;
	size_t batch = is->batch ? is->batch : INGEST_BATCH;
	bool in_txn = false;
	int started = 0;
	int r;

	memset(&sg, 0, sizeof(sg));
	item_init(&it);
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

	pipe_init(&sg.read);
	pipe_init(&sg.parsed);
	sg.src = src;
	sg.max_messages = is->max_messages;
	if (pthread_create(&th_read, NULL, reader, &sg)) {
		strbuf_addstr(&e, "cannot start the reading thread");
		r = -EAGAIN;
		goto fail;
	}
	started = 1;
	if (pthread_create(&th_parse, NULL, parser, &sg)) {
		strbuf_addstr(&e, "cannot start the parsing thread");
		r = -EAGAIN;
		goto fail;
	}
	started = 2;

	for (;;) {
		item_release(&it);
		if (!pipe_get(&sg.parsed, &it)) {
			strbuf_addstr(&e, "the reading thread ended early");
			r = -EIO;
			goto fail;
		}
		if (it.status == 0)
			break;
		if (it.status == -E2BIG || it.status == -EPROTO) {
			report(is, NULL, it.text.buf);
			st->errors++;
			goto advance;
		}
		if (it.status < 0) {
			r = it.status;
			strbuf_addbuf(&e, &it.text);
			goto fail_source;
		}
		if (!in_txn) {
			r = db_begin(db, &e);
			if (r < 0)
				goto fail;
			in_txn = true;
		}
		st->read++;
		r = store_item(st, db, cfg, is, &it, &e);
		if (r < 0)
			goto fail;
advance:
		if (it.cursor) {
			free(last_cursor);
			last_cursor = it.cursor;
			it.cursor = NULL;
		}
		if (in_txn && ++in_batch >= batch) {
			if (key && last_cursor) {
				r = store_set_cursor(db, key, last_cursor, &e);
				if (r < 0)
					goto fail;
			}
			r = db_commit(db, &e);
			if (r < 0)
				goto fail;
			/* a long ingest: checkpoint beside it, not at close */
			if (!ckpt) {
				r = db_checkpointer_start(&ckpt, db, &e);
				if (r < 0)
					goto fail;
			}
			db_checkpointer_poke(ckpt);
			in_txn = false;
			in_batch = 0;
			if (is->progress)
				is->progress(is->progress_ctx, st);
		}
	}
	if (it.cursor) {
		free(last_cursor);
		last_cursor = it.cursor;
		it.cursor = NULL;
	}
	if (!in_txn) {
		r = db_begin(db, &e);
		if (r < 0)
			goto fail;
		in_txn = true;
	}
	if (key && last_cursor) {
		r = store_set_cursor(db, key, last_cursor, &e);
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

		if (!in_txn && db_begin(db, &err2) == 0)
			in_txn = true;
		if (in_txn && key && last_cursor &&
		    store_set_cursor(db, key, last_cursor, &err2) == 0 &&
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
	if (started) {
		/* stop both threads and drop what they queued */
		pipe_stop(&sg.parsed);
		pipe_stop(&sg.read);
		if (started > 1)
			pthread_join(th_parse, NULL);
		pthread_join(th_read, NULL);
		for (struct pipe *q = &sg.read; q; q = q == &sg.read ? &sg.parsed : NULL) {
			while (q->nr) {
				item_release(&q->ring[q->head]);
				q->head = (q->head + 1) % PIPE_ITEMS;
				q->nr--;
			}
			pthread_mutex_destroy(&q->mu);
			pthread_cond_destroy(&q->can_get);
			pthread_cond_destroy(&q->can_put);
		}
	}
	db_checkpointer_stop(ckpt);
	item_release(&it);
	free(sg.read.ring);
	free(sg.parsed.ring);
	free(last_cursor);
	free(cursor);
	free(key);
	source_free(src);
	strbuf_release(&e);
	return r;
}
