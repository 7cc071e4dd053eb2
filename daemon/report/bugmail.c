/* Answering "#kreview" command mail: see bugmail.h. */
#include "kreview/bugmail.h"
#include "kreview/bugcmd.h"
#include "kreview/bugdb.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/digest.h"
#include "kreview/findingcmd.h"
#include "kreview/maint.h"
#include "kreview/outbox.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"

#include <sqlite3.h>

void bugmail_result_release(struct bugmail_result *r)
{
	if (!r)
		return;
	free(r->msgid);
	free(r->sender);
	free(r->why);
	memset(r, 0, sizeof(*r));
}

/* Why 't' must never be processed (loop prevention), or NULL. */
static const char *not_for_us(const struct reply_target *t,
			      const struct kreview_config *cfg)
{
	const struct msg *m = &t->msg;

	if (msg_is_bot(m) || config_is_bot_sender(cfg, m->sender_addr))
		return "bot mail";
	if (reply_msgid_is_own(m->msgid) ||
	    (cfg->ingest.own_address && *m->sender_addr &&
	     !strcasecmp(cfg->ingest.own_address, m->sender_addr)))
		return "kreview's own mail";
	if (t->auto_submitted && strcasecmp(t->auto_submitted, "no"))
		return "Auto-Submitted mail";
	return NULL;
}

/* Every L: address of 'm' (new strings) into '*out'. */
static void maint_lists(char ***out, size_t *nr, const struct maint *m)
{
	struct strbuf a = STRBUF_INIT;

	for (size_t i = 0; m && i < maint_section_count(m); i++) {
		const struct maint_section *s = maint_section_at(m, i);
		const char *v;

		for (size_t n = 0; (v = maint_section_value(s, 'L', n)); n++) {
			if (maint_list_address(&a, v) < 0 || !a.len)
				continue;
			*out = xrealloc(*out, st_mult(*nr + 1, sizeof(char *)));
			(*out)[(*nr)++] = strbuf_detach(&a, NULL);
		}
	}
	strbuf_release(&a);
}

static size_t count_commands(const struct msg *m)
{
	struct bugcmd_list l = BUGCMD_LIST_INIT;
	size_t n;

	bugcmd_parse(&l, m->body, m->body_len);
	n = l.nr;
	bugcmd_list_release(&l);
	return n;
}

/*
 * 1 (with the reason in out->why) when 'm', an answer to its
 * recipients alone, would exceed bugs.private_replies_per_day for
 * them; 0 when it may go; negative on database errors.
 */
static int private_cap(struct bugmail_result *out, struct db *db,
		       const struct bugdb_config *bc, const struct reply_mail *m,
		       int64_t now_ms, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT count(*) FROM outbox WHERE kind = 'command'"
		    " AND rcpts = ?1 AND created_ms > ?2");
	struct strbuf rcpts = STRBUF_INIT;
	int64_t n = 0;
	int r;

	if (bc->private_replies_per_day <= 0)
		return 0;
	/* as outbox_enqueue() stores them */
	for (size_t i = 0; i < m->rcpts_nr; i++)
		strbuf_addf(&rcpts, "%s\n", m->rcpts[i]);
	db_bind_text(st, 1, rcpts.buf);
	db_bind_int64(st, 2, (now_ms ? now_ms : time_now_ms()) - 86400000LL);
	r = db_step(db, st, err);
	if (r == 1)
		n = sqlite3_column_int64(st, 0);
	db_done(st);
	if (r >= 0 && n >= bc->private_replies_per_day) {
		struct strbuf why = STRBUF_INIT;

		strbuf_addf(&why, "%" PRId64 " answers to %s alone in the last "
				  "24 hours (bugs.private_replies_per_day): "
				  "applied, not answered",
			    n, m->rcpts_nr ? m->rcpts[0] : "(nobody)");
		out->why = strbuf_detach(&why, NULL);
		r = 1;
	} else if (r >= 0) {
		r = 0;
	}
	strbuf_release(&rcpts);
	return r;
}

int bugmail_handle(struct bugmail_result *out, struct strbuf *text,
		   struct db *db, const struct reply_target *t,
		   const struct bugmail_opts *o, struct strbuf *err)
{
	const struct kreview_config *cfg = o->cfg;
	struct bugdb_config *def = cfg->bugs ? NULL : bugdb_config_default();
	const struct bugdb_config *bc = cfg->bugs ? cfg->bugs : def;
	struct bugcmd_ctx ctx = { .dir = o->dir, .cfg = bc, .maint = o->maint,
				  .now_ms = o->now_ms };
	struct reply_opts ro = REPLY_OPTS_INIT;
	struct strbuf why = STRBUF_INIT;
	struct digest_cmd dc = { 0 };
	struct reply_mail m;
	char **lists = NULL;
	size_t nlists = 0;
	const char *skip;
	int r = 0;

	memset(&m, 0, sizeof(m));
	memset(out, 0, sizeof(*out));
	out->msgid = xstrdup(t->msg.msgid);
	out->sender = xstrdup(t->msg.sender_addr);
	out->commands = count_commands(&t->msg);
	skip = not_for_us(t, cfg);
	if (skip) {
		out->why = xstrdup(skip);
		goto out;
	}
	if (!out->commands)
		goto out;
	maint_lists(&lists, &nlists, o->maint);
	out->no_list = !reply_to_list(t, cfg->lists,
				      (const char *const *)lists, nlists);
	ctx.no_list = out->no_list;
	if (db) {
		dc.db = db;
		dc.o.cfg = cfg;
		dc.o.bugs = bc;
		dc.o.dir = o->dir;
		dc.o.maint = o->maint;
		dc.o.now_ms = o->now_ms;
		ctx.digest = digest_command;
		ctx.digest_data = &dc;
		ctx.finding = findingcmd_apply;
		ctx.finding_data = db;
	}
	r = bugcmd_process(text, &out->duplicate, &out->failed, &ctx, &t->msg,
			   err);
	if (r < 0 || !text->len || !db)
		goto out;
	outbox_reply_opts(&ro, cfg);
	if (reply_compose_command(&m, t, text->buf, cfg->lists,
				  (enum reply_mode)bc->command_replies, &ro,
				  &why) < 0) {
		out->why = strbuf_detach(&why, NULL);
		goto out;
	}
	out->mode = m.mode;
	if (m.mode == REPLY_MODE_OFF) {
		out->why = xstrdup("no list of the mail wants mail and "
				   "bugs.command_replies is off");
		goto out;
	}
	if (!m.lists || !*m.lists) {
		r = private_cap(out, db, bc, &m, o->now_ms, err);
		if (r != 0) {
			r = r < 0 ? r : 0;
			goto out;
		}
	}
	r = outbox_enqueue(&out->outbox_id, db, &m, 0,
			   o->now_ms ? o->now_ms : time_now_ms(), err);
	if (r == -EEXIST) {
		out->answered_before = true;
		out->outbox_id = 0;
		r = 0;
	}
out:
	for (size_t i = 0; i < nlists; i++)
		free(lists[i]);
	free(lists);
	reply_mail_release(&m);
	strbuf_release(&why);
	bugdb_config_free(def);
	return r;
}

/* ---- the daemon's pass ---- */

struct ids {
	int64_t *v;
	size_t nr, alloc;
};

static void ids_add(struct ids *l, int64_t id)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr++] = id;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Messages in (from, to] that reference a Message-ID of the outbox or
 * of a digest, sorted, once each.
 */
static int candidates(struct ids *out, struct db *db, const char *dir,
		      int64_t from, int64_t to, struct strbuf *err)
{
	struct bugdb_set set = BUGDB_SET_INIT;
	char **digests = NULL;
	size_t ndigests = 0, n = 0;
	sqlite3_stmt *st;
	int r;

	st = db_prepare(db, "SELECT DISTINCT r.message_id FROM message_ref r"
			    " JOIN outbox o ON o.msgid = r.ref"
			    " WHERE r.message_id > ?1 AND r.message_id <= ?2");
	db_bind_int64(st, 1, from);
	db_bind_int64(st, 2, to);
	while ((r = db_step(db, st, err)) == 1)
		ids_add(out, sqlite3_column_int64(st, 0));
	db_done(st);
	if (r < 0)
		return r;
	/* unreadable bug databases are skipped here as everywhere */
	r = bugdb_set_open(&set, dir, NULL);
	if (r < 0) {
		strbuf_addf(err, "cannot read the bug databases in '%s': %s",
			    dir, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < set.nr && r == 0; i++)
		r = bugdb_digest_ids(&digests, &ndigests, set.v[i], err);
	bugdb_set_release(&set);
	st = db_prepare(db, "SELECT message_id FROM message_ref WHERE ref = ?1"
			    " AND message_id > ?2 AND message_id <= ?3");
	for (size_t i = 0; i < ndigests && r >= 0; i++) {
		db_bind_text(st, 1, digests[i]);
		db_bind_int64(st, 2, from);
		db_bind_int64(st, 3, to);
		while ((r = db_step(db, st, err)) == 1)
			ids_add(out, sqlite3_column_int64(st, 0));
		db_done(st);
	}
	for (size_t i = 0; i < ndigests; i++)
		free(digests[i]);
	free(digests);
	if (r < 0)
		return r;
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_id);
	for (size_t i = 0; i < out->nr; i++)
		if (!n || out->v[n - 1] != out->v[i])
			out->v[n++] = out->v[i];
	out->nr = n;
	return 0;
}

/*
 * The stored message of row 'id' as a target: 1, or 0 when it is not
 * one to look at (deleted, bot mail, unparsable).
 */
static int load_row(struct reply_target *t, struct db *db, int64_t id,
		    struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	char *msgid = NULL;
	sqlite3_stmt *st;
	int r;

	st = db_prepare(db, "SELECT msgid FROM message WHERE id = ?1"
			    " AND deleted = 0 AND is_bot = 0");
	db_bind_int64(st, 1, id);
	r = db_step(db, st, err);
	if (r == 1)
		msgid = db_column_strdup(st, 0);
	db_done(st);
	if (r == 1) {
		r = outbox_load_target(t, db, msgid, &e);
		if (r == -EIO)
			strbuf_addbuf(err, &e);
		else
			r = r == 0;
	}
	free(msgid);
	strbuf_release(&e);
	return r;
}

static int set_cursor(struct db *db, int64_t id, struct strbuf *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, id);
	return store_set_cursor(db, BUGMAIL_CURSOR, buf, err);
}

int bugmail_scan(struct bugmail_stats *out, struct db *db,
		 const struct bugmail_opts *o, bugmail_report_fn *report,
		 void *ctx, struct strbuf *err)
{
	const struct bugdb_config *bc = o->cfg->bugs;
	struct bugmail_opts lo = *o;
	struct maint *own_maint = NULL;
	struct ids ids = { 0 };
	int64_t from = 0, to = 0;
	char *cur = store_get_cursor(db, BUGMAIL_CURSOR);
	sqlite3_stmt *st;
	int r;

	memset(out, 0, sizeof(*out));
	if (cur && parse_int64(&from, cur, 10) < 0)
		from = 0;
	free(cur);
	st = db_prepare(db, "SELECT coalesce(max(id), 0) FROM message");
	r = db_step(db, st, err);
	if (r == 1)
		to = sqlite3_column_int64(st, 0);
	db_done(st);
	if (r < 0 || to <= from)
		return r < 0 ? r : 0;
	r = candidates(&ids, db, o->dir, from, to, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < ids.nr; i++) {
		struct bugmail_result res;
		struct strbuf text = STRBUF_INIT;
		struct reply_target t;

		reply_target_init(&t);
		memset(&res, 0, sizeof(res));
		r = load_row(&t, db, ids.v[i], err);
		if (r < 0)
			goto next;
		out->looked++;
		if (r == 0 || !count_commands(&t.msg)) {
			r = 0;
			goto next;
		}
		if (!lo.maint && bc && bc->maintainers) {
			r = maint_load_file(&own_maint, bc->maintainers, NULL,
					    err);
			if (r < 0)
				goto next;
			lo.maint = own_maint;
		}
		r = db_begin(db, err);
		if (r < 0)
			goto next;
		r = bugmail_handle(&res, &text, db, &t, &lo, err);
		if (r == 0)
			r = set_cursor(db, ids.v[i], err);
		if (r == 0)
			r = db_commit(db, err);
		else
			db_rollback(db);
		if (r < 0)
			goto next;
		out->mails++;
		out->queued += res.outbox_id > 0;
		out->duplicates += res.duplicate;
		if (report)
			report(ctx, &res);
next:
		bugmail_result_release(&res);
		reply_target_release(&t);
		strbuf_release(&text);
		if (r < 0)
			goto out;
	}
	r = set_cursor(db, to, err);
out:
	free(ids.v);
	maint_free(own_maint);
	return r;
}
