/* Sending the per-subsystem bug digests: see digest.h. */
#include "kreview/digest.h"
#include "kreview/bugcmd.h"
#include "kreview/bugdb.h"
#include "kreview/bugexport.h"
#include "kreview/db.h"
#include "kreview/maint.h"
#include "kreview/outbox.h"
#include "kreview/reply.h"
#include "kreview/strbuf.h"

#include <sqlite3.h>
#include <strings.h>

#define DAY_MS (86400LL * 1000)

static const char *const cause_names[DIGEST_CAUSE_MAX] = {
	[DIGEST_SCHEDULE] = "schedule",
	[DIGEST_CLI] = "cli",
	[DIGEST_UPSTREAM] = "upstream",
	[DIGEST_REGENERATE] = "regenerate",
};

const char *digest_cause_name(enum digest_cause c)
{
	if ((unsigned)c >= DIGEST_CAUSE_MAX)
		BUG("bad digest cause %d", (int)c);
	return cause_names[c];
}

void digest_result_release(struct digest_result *r)
{
	free(r->section);
	free(r->msgid);
	free(r->why);
	memset(r, 0, sizeof(*r));
}

static int64_t now_of(const struct digest_opts *o)
{
	return o->now_ms ? o->now_ms : time_now_ms();
}

static void strlist_push(struct config_strlist *l, const char *s)
{
	l->v = xrealloc(l->v, st_mult(l->nr + 1, sizeof(*l->v)));
	l->v[l->nr++] = xstrdup(s);
}

static const struct maint_section *section_of(const struct digest_opts *o,
					      const char *title)
{
	return o->maint ? maint_find_section(o->maint, title) : NULL;
}

/* 1 if 'addr' sent uncc on every bug of 'l' (and 'l' has bugs). */
static int uncced_all(struct bugdb *db, const struct bugdb_list *l,
		      const char *addr, struct strbuf *err)
{
	for (size_t i = 0; i < l->nr; i++) {
		int r = bugdb_uncced(db, l->v[i].id, addr, err);

		if (r <= 0)
			return r;
	}
	return l->nr > 0;
}

int digest_cc(struct config_strlist *cc, struct bugdb *db,
	      const struct bugdb_list *l, const struct maint *m,
	      struct strbuf *err)
{
	const struct maint_section *s =
		m ? maint_find_section(m, bugdb_section(db)) : NULL;
	struct config_strlist people = { 0 };
	struct strbuf a = STRBUF_INIT;
	int r = 0;

	if (s) {
		static const char types[] = { 'M', 'R' };
		const char *v;

		for (size_t t = 0; t < ARRAY_SIZE(types); t++)
			for (size_t n = 0;
			     (v = maint_section_value(s, types[t], n)); n++)
				strlist_push(&people, v);
	} else {
		const char *p = bugdb_maintainers(db);

		while (p && *p) {
			const char *nl = strchr(p, '\n');

			if (!nl)
				nl = p + strlen(p);

			strbuf_reset(&a);
			strbuf_add(&a, p, (size_t)(nl - p));
			strbuf_trim(&a);
			if (a.len)
				strlist_push(&people, a.buf);
			p = *nl ? nl + 1 : nl;
		}
	}
	for (size_t i = 0; i < people.nr; i++) {
		if (reply_address_of(&a, people.v[i]) < 0)
			continue;
		r = uncced_all(db, l, a.buf, err);
		if (r < 0)
			goto out;
		if (!r)
			strlist_push(cc, people.v[i]);
	}
	r = 0;
out:
	config_strlist_release(&people);
	strbuf_release(&a);
	return r;
}

/*
 * The section's L: addresses that a 'lists:' entry names, the names of
 * those entries and their strictest mode (off when there is none).
 */
struct list_policy {
	struct config_strlist to;
	struct strbuf names;
	int mode, rate_limit;
	bool private_reply;
};

static void list_policy(struct list_policy *out,
			const struct maint_section *s,
			const struct reply_lists *lists)
{
	struct strbuf a = STRBUF_INIT;
	const char *v;

	memset(out, 0, sizeof(*out));
	strbuf_init(&out->names, 0);
	out->mode = REPLY_MODE_MAX;
	for (size_t n = 0; s && (v = maint_section_value(s, 'L', n)); n++) {
		bool matched = false;

		if (maint_list_address(&a, v) < 0 || !a.len)
			continue;
		for (size_t i = 0; lists && i < lists->nr; i++) {
			const struct reply_list *e = &lists->v[i];

			if (!e->address || strcasecmp(e->address, a.buf))
				continue;
			matched = true;
			if (out->names.len)
				strbuf_addch(&out->names, ' ');
			strbuf_addstr(&out->names, e->name);
			if (e->mode < out->mode)
				out->mode = e->mode;
			if (e->rate_limit && (!out->rate_limit ||
					      e->rate_limit < out->rate_limit))
				out->rate_limit = e->rate_limit;
			out->private_reply |= e->private_reply;
		}
		if (matched)
			strlist_push(&out->to, a.buf);
	}
	if (out->mode == REPLY_MODE_MAX)
		out->mode = REPLY_MODE_OFF;
	strbuf_release(&a);
}

static void list_policy_release(struct list_policy *p)
{
	config_strlist_release(&p->to);
	strbuf_release(&p->names);
}

/*
 * Compose the mail of a digest of 'l' with 'subject' and 'body'.
 * 1 with the reason in 'why' when there is no one to send it to.
 */
static int compose(struct reply_mail *m, struct bugdb *bdb,
		   const struct bugdb_list *l, const char *subject,
		   const char *body, bool curator, const struct digest_opts *o,
		   struct strbuf *why, struct strbuf *err)
{
	const struct kreview_config *cfg = o->cfg;
	const char *title = bugdb_section(bdb);
	struct config_strlist to = { 0 }, cc = { 0 };
	struct reply_opts ro = REPLY_OPTS_INIT;
	struct strbuf text = STRBUF_INIT;
	struct list_policy lp;
	int r = 1;

	list_policy(&lp, section_of(o, title), cfg->lists);
	if (lp.mode == REPLY_MODE_OFF) {
		strbuf_addf(why, "no mailing list of %s (MAINTAINERS L: and "
				 "an entry of lists:) wants mail", title);
		goto out;
	}
	if (curator) {
		if (!o->bugs->digest_curator ||
		    !*o->bugs->digest_curator) {
			strbuf_addstr(why, "bugs.digest_moderation is on and "
					   "bugs.digest_curator is not set");
			goto out;
		}
		strlist_push(&to, o->bugs->digest_curator);
		strbuf_addf(&text,
			    "[This digest is held for moderation.  Reply with "
			    "\"#kreview upstream\"\nat the start of a line to "
			    "send it to ");
		for (size_t i = 0; i < lp.to.nr; i++)
			strbuf_addf(&text, "%s%s", i ? ", " : "", lp.to.v[i]);
		if (lp.private_reply || !lp.to.nr)
			strbuf_addstr(&text, "the maintainers");
		strbuf_addstr(&text, ", or with \"#kreview\nregenerate\" to "
				     "rebuild it from the current bugs.]\n\n");
	} else {
		if (!lp.private_reply)
			for (size_t i = 0; i < lp.to.nr; i++)
				strlist_push(&to, lp.to.v[i]);
		r = digest_cc(&cc, bdb, l, o->maint, err);
		if (r < 0)
			goto out;
		r = 1;
	}
	strbuf_addstr(&text, body);
	outbox_reply_opts(&ro, cfg);
	if (reply_compose_new(m, subject, &to, &cc, text.buf, &ro, why) < 0)
		goto out;
	m->mode = (enum reply_mode)lp.mode;
	m->lists = strbuf_detach(&lp.names, NULL);
	m->rate_limit = lp.rate_limit;
	m->not_before_ms = 0;
	r = 0;
out:
	list_policy_release(&lp);
	config_strlist_release(&to);
	config_strlist_release(&cc);
	strbuf_release(&text);
	return r;
}

static bool released(struct db *db, const char *section)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM digest_sent WHERE "
					  "section = ?1 COLLATE NOCASE AND "
					  "cause = 'upstream'");
	bool r;

	db_bind_text(st, 1, section);
	r = sqlite3_step(st) == SQLITE_ROW;
	db_done(st);
	return r;
}

/*
 * Store the numbering, enqueue 'm' and record it, the last two in one
 * transaction of 'db' (the caller's if one is open).
 */
static int queue_mail(struct digest_result *out, struct db *db,
		      struct bugdb *bdb, struct reply_mail *m,
		      const struct bugdb_list *l, enum digest_cause cause,
		      bool curator, const char *of_msgid, const char *subject,
		      const char *body, const struct digest_opts *o,
		      struct strbuf *err)
{
	bool own = sqlite3_get_autocommit(db_handle(db));
	int64_t id = 0, now = now_of(o);
	sqlite3_stmt *st;
	int r;

	r = bugdb_digest_store(&id, bdb, m->msgid, l, err);
	if (r < 0)
		return r;
	if (own && (r = db_begin(db, err)) < 0)
		return r;
	r = outbox_enqueue(&out->outbox_id, db, m, 0, now, err);
	if (r < 0)
		goto fail;
	st = db_prepare(db, "INSERT INTO digest_sent(section, msgid, "
			    "outbox_id, cause, to_curator, of_msgid, subject, "
			    "body, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
			    " ?7, ?8, ?9)");
	db_bind_text(st, 1, bugdb_section(bdb));
	db_bind_text(st, 2, m->msgid);
	db_bind_int64(st, 3, out->outbox_id);
	db_bind_text(st, 4, digest_cause_name(cause));
	db_bind_int64(st, 5, curator);
	if (of_msgid)
		db_bind_text(st, 6, of_msgid);
	db_bind_text(st, 7, subject);
	db_bind_blob(st, 8, body, strlen(body));
	db_bind_int64(st, 9, now);
	r = db_step(db, st, err);
	db_done(st);
	if (r < 0)
		goto fail;
	if (own && (r = db_commit(db, err)) < 0)
		return r;
	out->msgid = xstrdup(m->msgid);
	out->to_curator = curator;
	out->bugs = l->nr;
	return 0;
fail:
	out->outbox_id = 0;
	if (own)
		db_rollback(db);
	return r < 0 ? r : -EIO;
}

static int queue_new(struct digest_result *out, struct db *db,
		     struct bugdb *bdb, enum digest_cause cause, bool curator,
		     const struct digest_opts *o, struct strbuf *err)
{
	const struct bugdb_config *bc = o->bugs;
	struct bugdb_digest_opts dopt = {
		.min_bugs = bc->digest_min_bugs,
		.max_bugs = bc->digest_max_bugs,
		.min_age_ms = bc->digest_min_age_ms,
		.quiet_ms = bc->digest_quiet_ms,
		.reverify_max_age_ms = bc->digest_reverify_max_age_ms,
	};
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	int64_t counts[BUGDB_STATUS_MAX], nnew = 0, nfixed = 0;
	int64_t now = now_of(o);
	struct reply_mail m;
	int r;

	memset(&m, 0, sizeof(m));
	if (!out->section)
		out->section = xstrdup(bugdb_section(bdb));
	if (o->now_ms)
		bugdb_set_clock(bdb, o->now_ms);
	r = bugdb_digest_pick(&l, bdb, &dopt, err);
	if (r >= 0)
		r = bugdb_count(counts, bdb, err);
	if (r >= 0)
		r = bugdb_period_counts(&nnew, &nfixed, bdb,
					now - bc->digest_period_ms, err);
	if (r < 0)
		goto out;
	if (!l.nr) {
		strbuf_addf(&why, "fewer than %d bugs are due for a digest",
			    dopt.min_bugs);
		goto out;
	}
	bugexport_digest_subject(&subject, bugdb_section(bdb), now);
	bugexport_digest_body(&body, bugdb_section(bdb), &l, nnew, nfixed,
			      counts[BUGDB_OPEN] + counts[BUGDB_CONFIRMED],
			      counts[BUGDB_FIXED], bc->url, now);
	r = compose(&m, bdb, &l, subject.buf, body.buf, curator, o, &why,
		    err);
	if (r != 0)
		goto out;
	r = queue_mail(out, db, bdb, &m, &l, cause, curator, NULL,
		       subject.buf, body.buf, o, err);
out:
	if (why.len)
		out->why = strbuf_detach(&why, NULL);
	reply_mail_release(&m);
	bugdb_list_release(&l);
	strbuf_release(&subject);
	strbuf_release(&body);
	strbuf_release(&why);
	return r < 0 ? r : 0;
}

int digest_queue(struct digest_result *out, struct db *db, struct bugdb *bdb,
		 enum digest_cause cause, const struct digest_opts *o,
		 struct strbuf *err)
{
	bool curator = o->bugs->digest_moderation &&
		       !released(db, bugdb_section(bdb));

	memset(out, 0, sizeof(*out));
	return queue_new(out, db, bdb, cause, curator, o, err);
}

/* A row of digest_sent. */
struct sent {
	char *section, *subject, *body;
	bool to_curator;
};

static void sent_release(struct sent *s)
{
	free(s->section);
	free(s->subject);
	free(s->body);
}

/* 1 and the row of digest 'msgid', 0 if there is none. */
static int sent_get(struct sent *out, struct db *db, const char *msgid,
		    struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT section, subject, body, "
					  "to_curator FROM digest_sent WHERE "
					  "msgid = ?1");
	int r;

	memset(out, 0, sizeof(*out));
	db_bind_text(st, 1, msgid);
	r = db_step(db, st, err);
	if (r > 0) {
		out->section = db_column_strdup(st, 0);
		out->subject = db_column_strdup(st, 1);
		out->body = db_column_strdup(st, 2);
		out->to_curator = sqlite3_column_int(st, 3);
	}
	db_done(st);
	return r < 0 ? r : r > 0;
}

static int open_section(struct bugdb **out, const char *dir,
			const char *section, const struct digest_opts *o,
			struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	bugdb_path(&path, dir, section);
	r = bugdb_open(out, path.buf, NULL, err);
	strbuf_release(&path);
	if (r == 0 && o->now_ms)
		bugdb_set_clock(*out, o->now_ms);
	return r;
}

/* The bugs of stored digest 'msgid' in their order. */
static int digest_bugs(struct bugdb_list *out, struct bugdb *bdb,
		       const char *msgid, struct strbuf *err)
{
	const char *ids[1] = { msgid };

	for (int ref = 1;; ref++) {
		char id[BUGDB_ID_MAX];
		int r = bugdb_digest_ref(id, bdb, ids, 1, ref, err);

		if (r <= 0)
			return r;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		bugdb_bug_init(&out->v[out->nr]);
		r = bugdb_get(&out->v[out->nr], bdb, id, err);
		if (r < 0)
			return r;
		out->nr++;
	}
}

int digest_release(struct digest_result *out, struct db *db,
		   const char *msgid, const struct digest_opts *o,
		   struct strbuf *err)
{
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct strbuf why = STRBUF_INIT;
	struct bugdb *bdb = NULL;
	struct reply_mail m;
	struct sent s;
	char *prev = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	r = sent_get(&s, db, msgid, err);
	if (r <= 0) {
		if (r == 0)
			strbuf_addf(&why, "<%s> is not a digest kreview "
					  "queued", msgid);
		goto out;
	}
	out->section = xstrdup(s.section);
	{
		sqlite3_stmt *st = db_prepare(db, "SELECT msgid FROM "
						  "digest_sent WHERE "
						  "of_msgid = ?1");

		db_bind_text(st, 1, msgid);
		r = db_step(db, st, err);
		if (r > 0)
			prev = db_column_strdup(st, 0);
		db_done(st);
		if (r < 0)
			goto out;
	}
	if (prev) {
		strbuf_addf(&why, "released before, as <%s>", prev);
		goto out;
	}
	if (!s.to_curator) {
		strbuf_addstr(&why, "this digest went to the list already");
		goto out;
	}
	r = open_section(&bdb, o->dir, s.section, o, err);
	if (r < 0)
		goto out;
	r = digest_bugs(&l, bdb, msgid, err);
	if (r < 0)
		goto out;
	r = compose(&m, bdb, &l, s.subject, s.body, false, o, &why, err);
	if (r != 0)
		goto out;
	r = queue_mail(out, db, bdb, &m, &l, DIGEST_UPSTREAM, false, msgid,
		       s.subject, s.body, o, err);
out:
	if (why.len)
		out->why = strbuf_detach(&why, NULL);
	free(prev);
	sent_release(&s);
	reply_mail_release(&m);
	bugdb_list_release(&l);
	bugdb_close(bdb);
	strbuf_release(&why);
	return r < 0 ? r : 0;
}

int digest_regenerate(struct digest_result *out, struct db *db,
		      const char *msgid, const struct digest_opts *o,
		      struct strbuf *err)
{
	struct bugdb *bdb = NULL;
	struct sent s;
	int r;

	memset(out, 0, sizeof(*out));
	r = sent_get(&s, db, msgid, err);
	if (r == 0) {
		struct strbuf why = STRBUF_INIT;

		strbuf_addf(&why, "<%s> is not a digest kreview queued",
			    msgid);
		out->why = strbuf_detach(&why, NULL);
	}
	if (r <= 0)
		goto out;
	out->section = xstrdup(s.section);
	r = open_section(&bdb, o->dir, s.section, o, err);
	if (r < 0)
		goto out;
	r = queue_new(out, db, bdb, DIGEST_REGENERATE,
		      s.to_curator && !released(db, s.section), o, err);
out:
	sent_release(&s);
	bugdb_close(bdb);
	return r < 0 ? r : 0;
}

int digest_command(void *data, int verb, const struct bugcmd_ctx *ctx,
		   const char *const *msgids, size_t nr, const char *sender,
		   struct strbuf *res, struct strbuf *err)
{
	struct digest_cmd *dc = data;
	const char *curator = dc->o.bugs->digest_curator;
	struct digest_result out;
	struct bugdb *bdb = NULL;
	struct sent s = { 0 };
	const char *msgid = NULL;
	bool ok;
	int r = 0;

	memset(&out, 0, sizeof(out));
	for (size_t i = 0; i < nr && !msgid; i++) {
		r = sent_get(&s, dc->db, msgids[i], err);
		if (r < 0)
			return r;
		if (r)
			msgid = msgids[i];
	}
	if (!msgid) {
		strbuf_addstr(res, "error: this mail does not answer a digest");
		return 1;
	}
	r = open_section(&bdb, dc->o.dir, s.section, &dc->o, err);
	if (r < 0)
		goto out;
	ok = (curator && !strcasecmp(curator, sender)) ||
	     bugcmd_authorised(ctx, bugdb_section(bdb), bugdb_maintainers(bdb),
			       sender);
	if (!ok) {
		strbuf_addf(res, "refused: %s is not the digest curator, a "
				 "maintainer or reviewer of %s, nor a "
				 "configured triager",
			    *sender ? sender : "(no address)", s.section);
		r = 1;
		goto out;
	}
	r = verb == BUGCMD_UPSTREAM ?
		    digest_release(&out, dc->db, msgid, &dc->o, err) :
		    digest_regenerate(&out, dc->db, msgid, &dc->o, err);
	if (r < 0)
		goto out;
	if (out.outbox_id) {
		strbuf_addf(res, "%s queued as <%s> (%zu bugs)%s",
			    verb == BUGCMD_UPSTREAM ? "released: the list copy "
						      "is" :
						      "regenerated: a new digest "
						      "is",
			    out.msgid, out.bugs,
			    out.to_curator ? ", to the curator" : "");
		r = 0;
	} else {
		strbuf_addf(res, "error: nothing queued: %s",
			    out.why ? out.why : "unknown reason");
		r = 1;
	}
out:
	digest_result_release(&out);
	sent_release(&s);
	bugdb_close(bdb);
	return r;
}

/* The schedule. */

struct due {
	const char *title;
	size_t index;
	int64_t last_ms;	/* 0: never */
};

static int due_cmp(const void *x, const void *y)
{
	const struct due *a = x, *b = y;

	if (a->last_ms != b->last_ms)
		return a->last_ms < b->last_ms ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int scalar(int64_t *out, struct db *db, const char *sql,
		  const char *text, int64_t num, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int r;

	if (text)
		db_bind_text(st, 1, text);
	db_bind_int64(st, 2, num);
	r = db_step(db, st, err);
	*out = r > 0 ? sqlite3_column_int64(st, 0) : 0;
	db_done(st);
	return r < 0 ? r : 0;
}

int digest_pass(struct digest_pass_stats *out, struct db *db,
		const struct digest_opts *o, digest_report_fn *report,
		void *ctx, struct strbuf *err)
{
	const struct bugdb_config *bc = o->bugs;
	int64_t now = now_of(o), today = 0;
	struct due *v;
	size_t nr;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!bc || !bc->digest_sections.nr)
		return 0;
	nr = bc->digest_sections.nr;
	v = xcalloc(nr, sizeof(*v));
	for (size_t i = 0; i < nr; i++) {
		v[i].title = bc->digest_sections.v[i];
		v[i].index = i;
		r = scalar(&v[i].last_ms, db,
			   "SELECT max(created_ms) FROM digest_sent WHERE "
			   "section = ?1 COLLATE NOCASE AND ?2 = ?2",
			   v[i].title, 0, err);
		if (r < 0)
			goto out;
	}
	r = scalar(&today, db,
		   "SELECT count(*) FROM digest_sent WHERE cause = ?1 AND "
		   "created_ms > ?2", "schedule", now - DAY_MS, err);
	if (r < 0)
		goto out;
	qsort(v, nr, sizeof(*v), due_cmp);
	for (size_t i = 0; i < nr; i++) {
		struct digest_result res;
		struct bugdb *bdb = NULL;

		if (v[i].last_ms && now - v[i].last_ms < bc->digest_period_ms)
			continue;
		out->due++;
		if (today >= bc->digest_daily_limit) {
			out->deferred++;
			continue;
		}
		memset(&res, 0, sizeof(res));
		r = open_section(&bdb, o->dir, v[i].title, o, err);
		if (r == -ENOENT) {
			res.section = xstrdup(v[i].title);
			res.why = xstrdup("no bug database");
			strbuf_reset(err);
			r = 0;
		} else if (r == 0) {
			r = digest_queue(&res, db, bdb, DIGEST_SCHEDULE, o,
					 err);
		}
		bugdb_close(bdb);
		if (r < 0) {
			digest_result_release(&res);
			goto out;
		}
		if (res.outbox_id) {
			out->queued++;
			today++;
		} else {
			out->skipped++;
		}
		if (report)
			report(ctx, &res);
		digest_result_release(&res);
	}
out:
	free(v);
	return r;
}
