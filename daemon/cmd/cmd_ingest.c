/* kreview ingest: sources -> messages -> series. */
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/log.h"
#include "kreview/msg.h"
#include "kreview/source.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"

#include <getopt.h>
#include <strings.h>

/* Messages committed together with their source cursor. */
#define INGEST_BATCH 256

struct ingest_source {
	enum source_kind kind;
	const char *location;
	const char *query;
};

struct ingest_stats {
	size_t read, added, patches, errors;
};

static void report(const char *where, const char *what)
{
	fprintf(stderr, "kreview: %s: %s\n", where, what);
}

static bool is_own(const struct kreview_config *cfg, const struct msg *m)
{
	return cfg->ingest.own_address && *m->sender_addr &&
	       !strcasecmp(cfg->ingest.own_address, m->sender_addr);
}

static int ingest_one(struct ingest_stats *st, struct db *db,
		      const struct kreview_config *cfg,
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
		report(sm->where, line.buf);
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
	report(sm->where, line.buf);
	st->errors++;
	r = 0;
out:
	msg_release(&m);
	strbuf_release(&warn);
	strbuf_release(&line);
	return r;
}

/* Read one source to its end, committing batches with the cursor.
 * Returns 0, or -errno when the source or the database failed. */
static int ingest_source(struct ingest_stats *st, struct db *db,
			 const struct kreview_config *cfg,
			 const struct ingest_source *is)
{
	struct source *src = NULL;
	struct strbuf err = STRBUF_INIT;
	struct source_msg sm;
	char *cursor = NULL, *key = NULL;
	size_t in_batch = 0;
	bool in_txn = false;
	int r;

	/* the cursor is keyed by the source's canonical identity */
	r = source_open(&src, is->kind, is->location, is->query, NULL, &err);
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
					cursor, &err);
			if (r < 0)
				goto fail;
			if (source_restarted(src))
				log_notice("'%s' changed since the last run, reading it again from the start",
					   is->location);
		}
	}

	for (;;) {
		if (!in_txn) {
			r = db_begin(db, &err);
			if (r < 0)
				goto fail;
			in_txn = true;
		}
		strbuf_reset(&err);
		r = source_next(src, &sm, &err);
		if (r == 0)
			break;
		if (r == -E2BIG || r == -EPROTO) {
			fprintf(stderr, "kreview: %s\n", err.buf);
			st->errors++;
			continue;
		}
		if (r < 0)
			goto fail_source;
		st->read++;
		r = ingest_one(st, db, cfg, &sm, &err);
		if (r < 0)
			goto fail;
		if (++in_batch >= INGEST_BATCH) {
			if (key && source_cursor(src)) {
				r = store_set_cursor(db, key,
						     source_cursor(src), &err);
				if (r < 0)
					goto fail;
			}
			r = db_commit(db, &err);
			if (r < 0)
				goto fail;
			in_txn = false;
			in_batch = 0;
		}
	}
	if (key && source_cursor(src)) {
		r = store_set_cursor(db, key, source_cursor(src), &err);
		if (r < 0)
			goto fail;
	}
	r = db_commit(db, &err);
	if (r < 0)
		goto fail;
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
	fprintf(stderr, "kreview: cannot read '%s': %s\n", is->location,
		err.len ? err.buf : strerror(-r));
out:
	free(cursor);
	free(key);
	source_free(src);
	strbuf_release(&err);
	return r;
}

int cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "mbox", required_argument, NULL, 'm' },
		{ "maildir", required_argument, NULL, 'M' },
		{ "public-inbox", required_argument, NULL, 'p' },
		{ "notmuch", required_argument, NULL, 'n' },
		{ "query", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct ingest_source *srcs = NULL;
	size_t srcs_nr = 0, srcs_alloc = 0;
	const char *db_path = NULL, *config_path = NULL;
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	struct store_assemble_stats as = { 0 };
	struct ingest_stats st = { 0 };
	struct db *db = NULL;
	int c, ret = 1, failed = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db_path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'm':
		case 'M':
		case 'p':
		case 'n':
			ALLOC_GROW(srcs, srcs_nr + 1, srcs_alloc);
			srcs[srcs_nr].kind = c == 'm' ? SOURCE_MBOX :
					     c == 'M' ? SOURCE_MAILDIR :
					     c == 'p' ? SOURCE_INBOX :
							SOURCE_NOTMUCH;
			srcs[srcs_nr].location = optarg;
			srcs[srcs_nr].query = NULL;
			srcs_nr++;
			break;
		case 'q':
			if (!srcs_nr || srcs[srcs_nr - 1].kind != SOURCE_NOTMUCH) {
				fputs("kreview: --query must follow --notmuch\n",
				      stderr);
				ret = 2;
				goto out;
			}
			srcs[srcs_nr - 1].query = optarg;
			break;
		default:
			cmd_print_usage(cmd_find("ingest"), stderr);
			ret = 2;
			goto out;
		}
	}
	if (optind < argc || !srcs_nr) {
		fputs(optind < argc ? "kreview: unexpected argument\n" :
				      "kreview: no source given\n",
		      stderr);
		cmd_print_usage(cmd_find("ingest"), stderr);
		ret = 2;
		goto out;
	}
	for (size_t i = 0; i < srcs_nr; i++) {
		if (srcs[i].kind == SOURCE_NOTMUCH && !srcs[i].query) {
			fputs("kreview: --notmuch needs --query\n", stderr);
			ret = 2;
			goto out;
		}
	}

	if (config_load(&cfg, config_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	if (!db_path)
		db_path = cfg->database;
	if (db_open(&db, db_path, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}

	for (size_t i = 0; i < srcs_nr; i++)
		if (ingest_source(&st, db, cfg, &srcs[i]) < 0)
			failed++;

	strbuf_reset(&err);
	if (store_assemble_dirty(&as, db, cfg->ingest.stall_after_ms,
				 time_now_ms(), &err) < 0) {
		fprintf(stderr, "kreview: cannot assemble series: %s\n",
			err.buf);
		failed++;
	}
	printf("%zu messages read, %zu new, %zu patches, %zu series revisions created, %zu updated, %zu errors\n",
	       st.read, st.added, st.patches, as.created, as.updated,
	       st.errors);
	ret = failed ? 1 : 0;
out:
	db_close(db);
	config_free(cfg);
	free(srcs);
	strbuf_release(&err);
	return ret;
}
