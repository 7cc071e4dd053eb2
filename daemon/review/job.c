/* One review of a stored series revision; see job.h. */
#include "kreview/job.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/llm.h"
#include "kreview/maint.h"
#include "kreview/prompt.h"
#include "kreview/revinput.h"
#include "kreview/store_series.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"
#include "kreview/subsys.h"
#include "kreview/tree.h"

#include <git2.h>
#include <strings.h>

void job_result_init(struct job_result *r)
{
	memset(r, 0, sizeof(*r));
	review_series_init(&r->s);
	review_result_init(&r->res);
}

static void people_add(char ***v, size_t *nr, const char *s)
{
	for (size_t i = 0; i < *nr; i++)
		if (!strcasecmp((*v)[i], s))
			return;
	*v = xrealloc(*v, st_mult(*nr + 1, sizeof(char *)));
	(*v)[(*nr)++] = xstrdup(s);
}

/* M:, R: and L: of the sections each patch's paths map to. */
static void collect_people(struct job_result *out, const struct maint *m)
{
	const struct review_series *s = &out->s;

	out->people = xcalloc(s->nr + 1, sizeof(*out->people));
	for (size_t i = 0; i < s->nr; i++) {
		const struct review_patch *p = &s->patches[i];
		struct job_people *jp = &out->people[i];
		struct maint_matches mm = MAINT_MATCHES_INIT;

		maint_matches_init(&mm);
		maint_map(&mm, m, (const char *const *)p->paths, p->nr_paths,
			  p->patch_text, p->patch_len);
		for (size_t k = 0; k < mm.nr; k++) {
			const struct maint_section *sec = mm.v[k].section;
			const char *v;

			if (!strcmp(sec->title, "THE REST"))
				continue;
			for (size_t n = 0; (v = maint_section_value(sec, 'M', n)); n++)
				people_add(&jp->people, &jp->people_nr, v);
			for (size_t n = 0; (v = maint_section_value(sec, 'R', n)); n++)
				people_add(&jp->people, &jp->people_nr, v);
			for (size_t n = 0; (v = maint_section_value(sec, 'L', n)); n++) {
				struct strbuf a = STRBUF_INIT;

				if (maint_list_address(&a, v) == 0 && a.len)
					people_add(&jp->lists, &jp->lists_nr, a.buf);
				strbuf_release(&a);
			}
		}
		maint_matches_release(&mm);
	}
}

void job_result_release(struct job_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->people && i < r->s.nr; i++) {
		for (size_t k = 0; k < r->people[i].people_nr; k++)
			free(r->people[i].people[k]);
		for (size_t k = 0; k < r->people[i].lists_nr; k++)
			free(r->people[i].lists[k]);
		free(r->people[i].people);
		free(r->people[i].lists);
	}
	free(r->people);
	review_series_release(&r->s);
	review_result_release(&r->res);
	free(r->endpoint);
	job_result_init(r);
}

const char *job_endpoint(const struct kreview_config *cfg,
			 const char *explicit_name)
{
	if (explicit_name)
		return explicit_name;
	if (cfg->review.endpoint)
		return cfg->review.endpoint;
	if (cfg->endpoints && cfg->endpoints->nr)
		return cfg->endpoints->eps[0].name;
	return NULL;
}

static void note(const struct job_opts *o, const char *fmt, ...)
	KR_PRINTF(2, 3);
static void note(const struct job_opts *o, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!o->note)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	o->note(o->note_ctx, sb.buf);
	strbuf_release(&sb);
}

/*
 * The raw cover and patches of a revision.  A complete revision comes
 * through store_series_load(); a stalled one with holes is read slot
 * by slot, and 'missing' lists the absent slots ("3/5 4/5").
 */
struct raw_series {
	struct store_series ss;
	struct strbuf *raw;	/* partial revisions only */
	size_t nr_raw;
	struct revinput_msg *msgs;
	size_t nr;
	struct strbuf missing;
};

static void raw_series_release(struct raw_series *r)
{
	store_series_release(&r->ss);
	for (size_t i = 0; i < r->nr_raw; i++)
		strbuf_release(&r->raw[i]);
	free(r->raw);
	free(r->msgs);
	strbuf_release(&r->missing);
}

static int load_partial(struct raw_series *r, struct db *db, int64_t series,
			struct strbuf *err)
{
	sqlite3_stmt *st;
	int total = 0, next = 1, ret;
	size_t alloc = 0;

	st = db_prepare(db, "SELECT total FROM series WHERE id = ?");
	db_bind_int64(st, 1, series);
	ret = db_step(db, st, err);
	if (ret == 1)
		total = sqlite3_column_int(st, 0);
	db_done(st);
	if (ret <= 0) {
		if (ret == 0)
			strbuf_addf(err, "no series %" PRId64, series);
		return ret < 0 ? ret : -ENOENT;
	}
	st = db_prepare(db,
			"SELECT 0, m.msgid FROM series s JOIN message m"
			" ON m.msgid = s.cover_msgid WHERE s.id = ?1"
			" AND m.deleted = 0"
			" UNION ALL SELECT p.idx, m.msgid FROM series_patch p"
			" JOIN message m ON m.msgid = p.msgid"
			" WHERE p.series_id = ?1 AND m.deleted = 0 ORDER BY 1");
	db_bind_int64(st, 1, series);
	while ((ret = db_step(db, st, err)) == 1) {
		int idx = sqlite3_column_int(st, 0);

		for (; idx > 0 && next < idx; next++)
			strbuf_addf(&r->missing, "%s%d/%d",
				    r->missing.len ? " " : "", next, total);
		if (idx > 0)
			next = idx + 1;
		ALLOC_GROW(r->raw, r->nr_raw + 1, alloc);
		strbuf_init(&r->raw[r->nr_raw], 0);
		ret = store_message_raw(&r->raw[r->nr_raw++], NULL, db,
					(const char *)sqlite3_column_text(st, 1),
					true, err);
		if (ret < 0)
			break;
	}
	db_done(st);
	if (ret < 0)
		return ret;
	for (; next <= total; next++)
		strbuf_addf(&r->missing, "%s%d/%d", r->missing.len ? " " : "",
			    next, total);
	r->msgs = xcalloc(r->nr_raw + 1, sizeof(*r->msgs));
	for (size_t i = 0; i < r->nr_raw; i++) {
		r->msgs[i].data = r->raw[i].buf;
		r->msgs[i].len = r->raw[i].len;
	}
	r->nr = r->nr_raw;
	return 0;
}

static int load_raw(struct raw_series *r, struct db *db, int64_t series,
		    struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int ret;

	ret = store_series_load(&r->ss, db, series, &why);
	if (ret == -ENODATA) {
		strbuf_release(&why);
		return load_partial(r, db, series, err);
	}
	if (ret < 0) {
		strbuf_addbuf(err, &why);
		strbuf_release(&why);
		return ret;
	}
	strbuf_release(&why);
	r->msgs = xcalloc((size_t)r->ss.total + 2, sizeof(*r->msgs));
	if (r->ss.has_cover) {
		r->msgs[r->nr].data = r->ss.cover.raw;
		r->msgs[r->nr++].len = r->ss.cover.len;
	}
	for (int i = 0; i < r->ss.total; i++) {
		r->msgs[r->nr].data = r->ss.patches[i].raw;
		r->msgs[r->nr++].len = r->ss.patches[i].len;
	}
	return 0;
}

static int store_review(int64_t *id_out, struct db *db, int64_t series,
			const struct review_series *s,
			const struct review_result *res,
			const struct review_opts *ro, int64_t started_ms,
			const struct job_opts *o, struct strbuf *err)
{
	sqlite3_stmt *st;
	int64_t id;
	int r;

	r = db_begin(db, err);
	if (r < 0)
		return r;
	st = db_prepare(db,
			"INSERT INTO review(series_id, prompt_hash, profile, runs,"
			" endpoint, requests, cached, failed, in_uncached,"
			" cache_write, cache_read, out, cost_usd, notes, started_ms,"
			" finished_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
			" ?, ?, ?, ?)");
	db_bind_int64(st, 1, series);
	db_bind_text(st, 2, res->prompt_hash);
	db_bind_text(st, 3, res->profile);
	db_bind_int64(st, 4, res->runs);
	db_bind_text(st, 5, ro->endpoint);
	db_bind_int64(st, 6, res->requests);
	db_bind_int64(st, 7, res->cached);
	db_bind_int64(st, 8, res->failed);
	db_bind_int64(st, 9, (int64_t)res->usage.in_uncached);
	db_bind_int64(st, 10, (int64_t)res->usage.cache_write);
	db_bind_int64(st, 11, (int64_t)res->usage.cache_read);
	db_bind_int64(st, 12, (int64_t)res->usage.out);
	sqlite3_bind_double(st, 13, res->cost);
	db_bind_text(st, 14, res->notes.buf);
	db_bind_int64(st, 15, started_ms);
	db_bind_int64(st, 16, time_now_ms());
	r = db_step(db, st, err);
	db_done(st);
	if (r < 0)
		goto fail;
	id = sqlite3_last_insert_rowid(db_handle(db));
	for (size_t i = 0; i < res->nr; i++) {
		const struct review_finding *f = &res->v[i];
		const struct finding *rep = &f->c.rep;
		const char *verdict = f->c.verdict == VERDICT_CONFIRMED ? "confirmed" :
				      f->c.verdict == VERDICT_REFUTED	? "refuted" :
									  "unverified";
		const char *msgid = rep->patch >= 1 && (size_t)rep->patch <= s->nr ?
					    s->patches[rep->patch - 1].msgid :
					    NULL;
		const char *section = rep->patch >= 1 &&
					      (size_t)rep->patch <= s->nr ?
					      s->patches[rep->patch - 1].subsystem :
					      NULL;

		st = db_prepare(db,
				"INSERT INTO review_finding(review_id, patch, msgid,"
				" fingerprint, file, line, end_line, function, category,"
				" severity, confidence, support, runs, verdict,"
				" verdict_reason, pre_existing, reported, dropped, title,"
				" explanation, evidence, section) VALUES (?, ?, ?, ?, ?,"
				" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
		db_bind_int64(st, 1, id);
		db_bind_int64(st, 2, rep->patch);
		db_bind_text(st, 3, msgid);
		db_bind_text(st, 4, f->c.fingerprint);
		db_bind_text(st, 5, rep->file);
		db_bind_int64(st, 6, rep->line);
		db_bind_int64(st, 7, rep->end_line);
		db_bind_text(st, 8, rep->function ? rep->function : "");
		db_bind_text(st, 9, rep->category);
		db_bind_text(st, 10, finding_severity_name(f->c.severity));
		sqlite3_bind_double(st, 11, f->c.confidence);
		db_bind_int64(st, 12, f->c.support);
		db_bind_int64(st, 13, f->c.runs);
		db_bind_text(st, 14, verdict);
		db_bind_text(st, 15, f->c.verdict_reason);
		db_bind_int64(st, 16, f->pre_existing);
		db_bind_int64(st, 17, i < res->reported);
		db_bind_text(st, 18, i < res->reported ? NULL :
							 review_drop_name(f->drop));
		db_bind_text(st, 19, rep->title);
		db_bind_text(st, 20, rep->explanation);
		db_bind_text(st, 21, rep->evidence);
		db_bind_text(st, 22, section);
		r = db_step(db, st, err);
		db_done(st);
		if (r < 0)
			goto fail;
	}
	if (o->in_txn) {
		r = o->in_txn(o->in_txn_ctx, db, id, res, err);
		if (r < 0)
			goto fail;
	}
	r = db_commit(db, err);
	if (r < 0)
		goto fail;
	*id_out = id;
	return 0;
fail:
	db_rollback(db);
	return r;
}

int job_engine(struct llm_engine **out, const struct kreview_config *cfg,
	       struct strbuf *err)
{
	struct llm_engine *e = NULL;
	int r = llm_engine_new(&e, NULL, err);

	if (r < 0)
		return r;
	for (size_t i = 0; cfg->endpoints && i < cfg->endpoints->nr; i++) {
		r = llm_engine_add_endpoint(e, &cfg->endpoints->eps[i], err);
		if (r < 0) {
			llm_engine_free(e);
			return r;
		}
	}
	*out = e;
	return 0;
}

int job_review(struct job_result *out, struct db *db,
	       const struct kreview_config *cfg, int64_t series,
	       const struct job_opts *o, struct strbuf *err)
{
	struct review_opts ro = REVIEW_OPTS_INIT;
	struct raw_series raw = { .missing = STRBUF_INIT };
	struct prompt_set *prompts = NULL;
	struct subsys_set *rules = NULL;
	struct llm_engine *own_engine = NULL, *engine = o->engine;
	struct maint *maint = NULL;
	git_repository *repo = NULL;
	struct strbuf dir = STRBUF_INIT, why = STRBUF_INIT;
	int64_t started = time_now_ms();
	const char *endpoint;
	char *secret = NULL;
	int r;

	out->infra = false;
	r = load_raw(&raw, db, series, err);
	if (r < 0) {
		out->infra = r == -EIO;
		goto out;
	}
	r = revinput_from_messages(&out->s, raw.msgs, raw.nr, err);
	if (r < 0)
		goto out;
	if (o->tree) {
		git_object *obj = NULL;
		const char *rev = o->base_rev ? o->base_rev :
				  out->s.base ? out->s.base : "HEAD";

		r = tree_open_repo(&repo, o->tree, err);
		if (r < 0) {
			r = -EINVAL;
			goto out;
		}
		if (git_revparse_single(&obj, repo, rev) == 0) {
			if (revinput_attach_tree(&out->s, repo,
						 git_object_id(obj),
						 (size_t)cfg->review.context_budget,
						 &why) < 0)
				note(o, "%s; reviewing the diff alone", why.buf);
			strbuf_reset(&why);
			if (revinput_tree_maintainers(&maint, repo,
						      git_object_id(obj),
						      &why) < 0)
				maint = NULL;
		} else {
			note(o, "base '%s' not found, reviewing the diff alone",
			     rev);
		}
		git_object_free(obj);
	}
	subsys_find_dir(&dir, cfg->review.subsystems);
	strbuf_reset(&why);
	if (subsys_set_load_dir(&rules, dir.buf, &why) < 0) {
		note(o, "cannot load the subsystem rules: %s", why.buf);
		rules = NULL;
	}
	revinput_attach_rules(&out->s, maint, rules);
	if (maint)
		collect_people(out, maint);

	strbuf_reset(&dir);
	prompt_find_dir(&dir, cfg->review.prompts);
	r = prompt_set_load(&prompts, dir.buf, &why);
	if (r < 0) {
		strbuf_addf(err, "cannot load the prompts in '%s': %s", dir.buf,
			    why.buf);
		r = -EINVAL;
		goto out;
	}
	if (!engine) {
		r = job_engine(&own_engine, cfg, err);
		if (r < 0) {
			r = -EINVAL;
			goto out;
		}
		engine = own_engine;
	}
	endpoint = job_endpoint(cfg, o->endpoint);
	if (!endpoint) {
		strbuf_addstr(err, "no LLM endpoint is configured; see kreview.yaml(5)");
		r = -EINVAL;
		goto out;
	}
	out->endpoint = xstrdup(endpoint);
	ro.prompts = prompts;
	ro.engine = engine;
	ro.runs = cfg->review.runs;
	ro.profile = (enum prompt_profile)cfg->review.profile;
	ro.verify = cfg->review.verify;
	ro.local = false;
	ro.fresh = o->fresh;
	ro.cache = db;
	ro.endpoint = out->endpoint;
	for (size_t i = 0; i < cfg->review.stages.nr; i++) {
		enum prompt_stage st =
			prompt_stage_from_name(cfg->review.stages.keys[i]);

		if (st == PROMPT_STAGE_MAX) {
			strbuf_addf(err, "review.stages: unknown stage '%s'",
				    cfg->review.stages.keys[i]);
			r = -EINVAL;
			goto out;
		}
		ro.stage_endpoint[st] = cfg->review.stages.values[i];
	}
	if (review_fence_secret(&secret, db) == 0)
		ro.fence_secret = secret;
	review_fit_budget(&out->s, &ro, (uint64_t)cfg->review.token_budget,
			  &out->res.notes);
	r = review_run(&out->res, &out->s, &ro, err);
	if (r < 0) {
		out->infra = r == -EIO;
		goto out;
	}
	if (raw.missing.len)
		strbuf_addf(&out->res.notes,
			    "incomplete revision: patches %s never arrived;"
			    " the parts present were reviewed\n",
			    raw.missing.buf);
	r = store_review(&out->review_id, db, series, &out->s, &out->res, &ro,
			 started, o, err);
	if (r < 0)
		out->infra = r != -ESTALE;
out:
	raw_series_release(&raw);
	free(secret);
	llm_engine_free(own_engine);
	prompt_set_free(prompts);
	subsys_set_free(rules);
	maint_free(maint);
	git_repository_free(repo);
	strbuf_release(&dir);
	strbuf_release(&why);
	return r;
}

void job_priors_release(struct job_priors *p)
{
	for (size_t i = 0; i < p->nr; i++) {
		free((char *)p->v[i].fingerprint);
		free((char *)p->v[i].title);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

int job_priors_load(struct job_priors *out, struct db *db, int64_t series_id,
		    struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db,
		"SELECT o.version, f.fingerprint, f.title, f.reported, f.dropped"
		" FROM series s JOIN series o ON o.id = s.prev_version"
		" JOIN review_finding f ON f.review_id = (SELECT max(r.id)"
		"  FROM review r WHERE r.series_id = o.id)"
		" WHERE s.id = ? AND (f.reported = 1 OR f.dropped = 'suppressed')"
		" ORDER BY f.id");
	size_t alloc = 0;
	int r;

	memset(out, 0, sizeof(*out));
	db_bind_int64(st, 1, series_id);
	while ((r = db_step(db, st, err)) > 0) {
		struct reply_prior *p;

		ALLOC_GROW(out->v, out->nr + 1, alloc);
		p = &out->v[out->nr++];
		out->version = sqlite3_column_int(st, 0);
		p->fingerprint = db_column_strdup(st, 1);
		p->title = db_column_strdup(st, 2);
		p->status = sqlite3_column_int(st, 3) ? REPLY_PRIOR_REPORTED :
							REPLY_PRIOR_INVALID;
	}
	db_done(st);
	if (r < 0) {
		job_priors_release(out);
		return r;
	}
	return 0;
}
