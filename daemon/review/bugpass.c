/* A re-verification pass over the bug databases: see bugpass.h. */
#include "kreview/bugpass.h"
#include "kreview/db.h"
#include "kreview/finding.h"
#include "kreview/prompt.h"
#include "kreview/strbuf.h"

#include <git2.h>
#include <stdarg.h>

/* ---- the work list ---- */

void bugpass_list_release(struct bugpass_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		bugdb_bug_release(&l->v[i].bug);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Re-verification is for bugs that are still to be fixed. */
static bool reverifiable(enum bugdb_status s)
{
	return s == BUGDB_OPEN || s == BUGDB_CONFIRMED ||
	       s == BUGDB_FIX_PENDING;
}

/* 1 if 'b' has a pending poke, 0 if not, negative on error. */
static int poked(struct bugdb *db, const struct bugdb_bug *b,
		 struct strbuf *err)
{
	return b->stale ? bugdb_poked(db, b->id, err) : 0;
}

/* Append 'b' (its fields move; 'b' is left initialised). */
static int push(struct bugpass_list *out, struct bugdb *db,
		struct bugdb_bug *b, struct strbuf *err)
{
	struct bugpass_item *it;
	int r = poked(db, b, err);

	if (r < 0)
		return r;
	ALLOC_GROW(out->v, out->nr + 1, out->alloc);
	it = &out->v[out->nr++];
	it->db = db;
	it->bug = *b;
	it->poked = r == 1;
	bugdb_bug_init(b);
	return 0;
}

int bugpass_list_all(struct bugpass_list *out, const struct bugdb_set *set,
		     struct strbuf *err)
{
	int r = 0;

	for (size_t i = 0; i < set->nr && r == 0; i++) {
		struct bugdb_query q = BUGDB_QUERY_INIT;
		struct bugdb_list l = BUGDB_LIST_INIT;

		q.status_mask = 1u << BUGDB_OPEN | 1u << BUGDB_CONFIRMED |
				1u << BUGDB_FIX_PENDING;
		r = bugdb_query_run(&l, set->v[i], &q, err);
		for (size_t k = 0; r == 0 && k < l.nr; k++)
			r = push(out, set->v[i], &l.v[k], err);
		bugdb_list_release(&l);
	}
	return r;
}

int bugpass_list_add(struct bugpass_list *out, const struct bugdb_set *set,
		     const char *id, struct strbuf *err)
{
	struct bugdb *db = bugdb_set_find(set, id);
	struct bugdb_bug b;
	int r;

	if (!db)
		return -ENOENT;
	bugdb_bug_init(&b);
	r = bugdb_get(&b, db, id, err);
	if (r < 0) {
		r = r == -ENOENT ? -EIO : r;
		goto out;
	}
	if (!reverifiable(b.status)) {
		strbuf_addf(err, "%s is %s: only open, confirmed and "
				 "fix-pending bugs are re-verified",
			    b.id, bugdb_status_name(b.status));
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < out->nr; i++)
		if (out->v[i].db == db && !strcmp(out->v[i].bug.id, b.id))
			goto out;
	r = push(out, db, &b, err);
out:
	bugdb_bug_release(&b);
	return r;
}

/* When the bug was last found present: re-verified, else recorded. */
static int64_t verified_ms(const struct bugdb_bug *b)
{
	return b->last_verified_ms ? b->last_verified_ms : b->first_seen_ms;
}

static int pass_order(const void *va, const void *vb)
{
	const struct bugpass_item *a = va, *b = vb;
	int64_t ta = verified_ms(&a->bug), tb = verified_ms(&b->bug);

	if (a->poked != b->poked)
		return a->poked ? -1 : 1;
	if (a->bug.stale != b->bug.stale)
		return a->bug.stale ? -1 : 1;
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return strcmp(a->bug.id, b->bug.id);
}

void bugpass_list_sort(struct bugpass_list *l)
{
	if (l->nr > 1)
		qsort(l->v, l->nr, sizeof(*l->v), pass_order);
}

/* ---- the pass ---- */

struct pass {
	const struct bugpass_opts *o;
	struct bugpass_counts *c;
	const struct bugverify_opts *vo;
	bool tried, ready;	/* verifier setup attempted, succeeded */
	const char *no_more;	/* why no more questions are asked */
};

KR_PRINTF(3, 4)
static void say(struct pass *p, bool problem, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;

	if (!p->o->say)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	p->o->say(p->o->ctx, problem, line.buf);
	strbuf_release(&line);
}

static bool verifier_ready(struct pass *p)
{
	if (!p->tried) {
		p->tried = true;
		p->ready = p->o->verifier && p->o->verifier(&p->vo, p->o->ctx) == 0;
	}
	return p->ready;
}

/* Dry run: what the verifier would be asked. */
static void describe_question(struct pass *p, const struct bugdb_bug *b,
			      const struct bugverify_bug *vb,
			      const struct bugverify_code *code)
{
	struct llm_request req = LLM_REQUEST_INIT;
	char token[PROMPT_FENCE_TOKEN_LEN + 1];
	const char *ep = p->vo->endpoint;
	uint64_t tokens = 0;

	if (prompt_fence_token(token) == 0 &&
	    bugverify_request(&req, p->vo->prompt, vb, code, token) == 0)
		tokens = bugverify_estimate_tokens(&req);
	llm_request_release(&req);
	p->c->would_tokens += tokens;
	say(p, false,
	    "%s would ask %s%s%s whether \"%s\" is still in %s%s%s "
	    "(%s lines %u-%u at %.12s, %s, about %" PRIu64 " tokens in)",
	    b->id, ep ? "'" : "", ep ? ep : "a local server", ep ? "'" : "",
	    b->title, *b->function ? b->function : b->file,
	    *b->function ? "()" : "", b->stale ? " (stale)" : "", b->file,
	    code->line, code->end_line, p->c->commit,
	    code->found == BUGVERIFY_FUNCTION ? "the whole function" :
						"an excerpt",
	    tokens);
}

/* Record the verifier's verdict 'res' on 'b'. */
static void record(struct pass *p, struct bugdb *db, const struct bugdb_bug *b,
		   const struct bugverify_place *pl,
		   const struct bugverify_code *code, const char *base,
		   const struct bugverify_result *res)
{
	const char *hex = p->c->commit;
	struct bugdb_recheck rec = { .commit = hex, .line = (int)code->line,
				     .end_line = (int)code->end_line,
				     .reason = res->reason.buf };
	struct strbuf err = STRBUF_INIT;
	char changed[41];
	bool known = false;

	if (res->verdict == BUGVERIFY_PRESENT)
		rec.verdict = BUGDB_VERDICT_PRESENT;
	else if (res->verdict == BUGVERIFY_GONE)
		rec.verdict = BUGDB_VERDICT_GONE;
	else
		rec.verdict = BUGDB_VERDICT_UNSURE;
	if (rec.verdict == BUGDB_VERDICT_GONE) {
		if (bugverify_changed_in(changed, p->o->repo, base,
					 p->o->commit, pl, &err) < 0) {
			say(p, true, "%s: %s; naming %.12s as the change",
			    b->id, err.buf, hex);
			snprintf(changed, sizeof(changed), "%s", hex);
		}
		rec.changed_in = changed;
	}
	strbuf_reset(&err);
	if (bugdb_record_verdict(&known, db, b->id, &rec, &err) < 0) {
		say(p, true, "%s: %s", b->id, err.buf);
		p->c->errors++;
		goto out;
	}
	switch (rec.verdict) {
	case BUGDB_VERDICT_PRESENT:
		say(p, false, "%s still present at %.12s: %s", b->id, hex,
		    res->reason.buf);
		p->c->still++;
		break;
	case BUGDB_VERDICT_GONE:
		if (known)
			say(p, false, "%s fixed (the recorded fix): %s", b->id,
			    res->reason.buf);
		else
			say(p, false, "%s fixed by an unknown change (code "
				      "changed in %.12s): %s",
			    b->id, changed, res->reason.buf);
		p->c->fixed++;
		break;
	default:
		say(p, false, "%s stale: %s", b->id, res->reason.buf);
		p->c->stale++;
		break;
	}
out:
	strbuf_release(&err);
}

/* Ask the verifier about one bug (fresh when it was poked). */
static void ask_verifier(struct pass *p, struct bugdb *db,
			 const struct bugdb_bug *b, bool fresh,
			 const struct bugverify_place *pl,
			 const struct bugverify_code *code, const char *base)
{
	const struct bugpass_opts *o = p->o;
	struct bugverify_bug vb = { b->id, b->title, b->category,
				    finding_severity_name(b->severity),
				    b->explanation, *pl };
	struct bugverify_result res;
	struct bugverify_opts vo;
	struct strbuf err = STRBUF_INIT;
	int r;

	bugverify_result_init(&res);
	if (!verifier_ready(p) || p->c->broken) {
		say(p, false, "%s left as it was: %s", b->id,
		    p->c->broken ? "not asked after the endpoint failed" :
				   "the verifier is not available");
		p->c->errors++;
		goto out;
	}
	if (!p->no_more && o->max_asks && p->c->asked >= o->max_asks)
		p->no_more = "the pass's budget of verifier requests is spent";
	if (p->no_more) {
		say(p, false, "%s %s as it was: %s", b->id,
		    o->dry_run ? "would be left" : "left", p->no_more);
		p->c->deferred++;
		goto out;
	}
	if (o->dry_run) {
		describe_question(p, b, &vb, code);
		p->c->asked++;
		goto out;
	}
	vo = *p->vo;
	vo.fresh |= fresh;
	r = bugverify_run(&res, &vb, code, &vo, &err);
	llm_usage_add(&p->c->usage, &res.usage);
	p->c->cost += res.cost;
	if (res.cached)
		p->c->cached++;
	else
		p->c->asked++;
	if (o->spent)
		p->no_more = o->spent(o->ctx, &res);
	if (r < 0 && r != -EPROTO) {
		say(p, true, "%s: the verifier failed (%s): %s", b->id,
		    llm_class_name(res.cls), err.buf);
		p->c->errors++;
		if (res.cls != LLM_CLASS_OK && res.cls != LLM_CLASS_CONTEXT) {
			p->c->broken = true;
			say(p, true, "the bugs still to ask about are left as "
				     "they were");
		}
		goto out;
	}
	record(p, db, b, pl, code, base, &res);
out:
	bugverify_result_release(&res);
	strbuf_release(&err);
}

/*
 * One bug: its file or function gone -> obsolete; its code unchanged
 * since it was last verified (and not stale) -> verified at the
 * commit; else the verifier decides.
 */
static void check_bug(struct pass *p, struct bugdb *db,
		      const struct bugdb_bug *b, bool fresh)
{
	const struct bugpass_opts *o = p->o;
	struct bugverify_place pl = { b->file, b->function, b->line,
				      b->end_line, b->evidence };
	const char *base = b->last_verified_commit ? b->last_verified_commit :
						     b->code_commit;
	const char *hex = p->c->commit;
	struct bugverify_code code;
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	bool by_evidence;
	int r;

	bugverify_code_init(&code);
	r = bugverify_read_code(&code, o->repo, o->commit, &pl, &err);
	if (r < 0) {
		say(p, true, "%s: %s, skipped", b->id, err.buf);
		p->c->errors++;
		goto out;
	}
	if (code.found == BUGVERIFY_FILE_GONE)
		strbuf_addf(&why, "%s is gone at %.12s", b->file, hex);
	else if (code.found == BUGVERIFY_FUNCTION_GONE)
		strbuf_addf(&why, "%s() is gone from %s at %.12s", b->function,
			    b->file, hex);
	if (why.len) {
		if (!o->dry_run &&
		    bugdb_set_status(db, b->id, BUGDB_OBSOLETE,
				     o->actor ? o->actor : "kreview", why.buf,
				     NULL, &err) < 0) {
			say(p, true, "%s", err.buf);
			p->c->errors++;
			goto out;
		}
		say(p, false, "%s %sobsolete: %s", b->id,
		    o->dry_run ? "would be " : "", why.buf);
		p->c->obsolete++;
		goto out;
	}
	if (!b->stale) {
		r = bugverify_unchanged(o->repo, base, &pl, &code, &err);
		by_evidence = r == -ENOENT;	/* no commit to compare with */
		if (by_evidence)
			r = bugverify_evidence_holds(&pl, &code);
		if (r < 0) {
			say(p, true, "%s: %s, skipped", b->id, err.buf);
			p->c->errors++;
			goto out;
		}
		if (r == 1) {
			if (!o->dry_run)
				(void)bugdb_verified(db, b->id, hex, false,
						     NULL);
			if (by_evidence)
				say(p, false, "%s unchanged (its evidence is "
					      "still there): still present",
				    b->id);
			else
				say(p, false, "%s unchanged since %.12s: still "
					      "present",
				    b->id, base);
			p->c->still++;
			p->c->unchanged++;
			goto out;
		}
	}
	ask_verifier(p, db, b, fresh, &pl, &code, base);
out:
	bugverify_code_release(&code);
	strbuf_release(&err);
	strbuf_release(&why);
}

/*
 * The bug as it is now: 1 when it is still to be re-verified (with
 * whether a poke is pending), 0 when it no longer is, negative.
 */
static int reload(struct bugdb_bug *out, bool *poked_out, struct pass *p,
		  const struct bugpass_item *it)
{
	struct strbuf err = STRBUF_INIT;
	int r = bugdb_get(out, it->db, it->bug.id, &err);

	if (r == 0 && !reverifiable(out->status)) {
		say(p, false, "%s is %s now: passed over", out->id,
		    bugdb_status_name(out->status));
		goto out;
	}
	if (r == 0)
		r = poked(it->db, out, &err);
	if (r >= 0) {
		*poked_out = r == 1;
		r = 1;
	} else {
		say(p, true, "%s: %s, skipped", it->bug.id, err.buf);
	}
out:
	strbuf_release(&err);
	return r;
}

void bugpass_run(struct bugpass_counts *out, const struct bugpass_list *l,
		 const struct bugpass_opts *o)
{
	struct pass p = { .o = o, .c = out };

	memset(out, 0, sizeof(*out));
	git_oid_tostr(out->commit, sizeof(out->commit), o->commit);
	for (size_t i = 0; i < l->nr; i++) {
		struct bugdb_bug b;
		bool fresh = false;
		int r;

		if (o->stop && atomic_load(o->stop)) {
			out->stopped = true;
			out->deferred += l->nr - i;
			say(&p, true, "stopped: %zu bug%s left for the next pass",
			    l->nr - i, l->nr - i == 1 ? "" : "s");
			break;
		}
		bugdb_bug_init(&b);
		r = reload(&b, &fresh, &p, &l->v[i]);
		if (r < 0)
			out->errors++;
		if (r == 1) {
			out->bugs++;
			check_bug(&p, l->v[i].db, &b, fresh);
		}
		bugdb_bug_release(&b);
	}
}

void bugpass_summary(struct strbuf *out, const struct bugpass_counts *c,
		     bool dry_run)
{
	if (dry_run) {
		strbuf_addf(out, "dry run at %.12s: %zu unchanged, %zu "
				 "obsolete, %zu to ask the verifier (about %"
				 PRIu64 " tokens in), %zu errors",
			    c->commit, c->unchanged, c->obsolete, c->asked,
			    c->would_tokens, c->errors);
		if (c->deferred)
			strbuf_addf(out, ", %zu would be left for a later pass",
				    c->deferred);
		strbuf_addstr(out, "; nothing was changed or sent");
		return;
	}
	strbuf_addf(out, "at %.12s: %zu still present, %zu obsolete, %zu "
			 "stale, %zu fixed, %zu errors (%zu unchanged, %zu "
			 "asked the verifier, %zu answered from the cache); %"
			 PRIu64 " tokens in, %" PRIu64 " out, $%.4f",
		    c->commit, c->still, c->obsolete, c->stale, c->fixed,
		    c->errors, c->unchanged, c->asked, c->cached,
		    c->usage.in_uncached + c->usage.cache_write +
			    c->usage.cache_read,
		    c->usage.out, c->cost);
	if (c->deferred)
		strbuf_addf(out, "; %zu left for a later pass", c->deferred);
}

/* ---- the daemon's record of passes ---- */

void bugpass_record_release(struct bugpass_record *r)
{
	free(r->commit);
	free(r->cause);
	memset(r, 0, sizeof(*r));
}

int bugpass_record_start(int64_t *id_out, struct db *db, int64_t now_ms,
			 const char *cause, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO reverify_pass"
					  "(started_ms, cause) VALUES (?, ?)");
	int r;

	db_bind_int64(st, 1, now_ms);
	db_bind_text(st, 2, cause);
	r = db_step(db, st, err);
	db_done(st);
	if (r < 0)
		return r;
	*id_out = sqlite3_last_insert_rowid(db_handle(db));
	return 0;
}

static int64_t clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int bugpass_record_finish(struct db *db, int64_t id, int64_t now_ms,
			  const struct bugpass_counts *c, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "UPDATE reverify_pass SET finished_ms = ?, commit_id = ?,"
		    " bugs = ?, asked = ?, cached = ?, still = ?,"
		    " obsolete = ?, stale = ?, fixed = ?, deferred = ?,"
		    " errors = ?, tokens = ?, cost_usd = ? WHERE id = ?");
	const size_t n[] = { c->bugs, c->asked, c->cached, c->still,
			     c->obsolete, c->stale, c->fixed, c->deferred,
			     c->errors };
	int i = 1, r;

	db_bind_int64(st, i++, now_ms);
	db_bind_text(st, i++, c->commit[0] ? c->commit : NULL);
	for (size_t k = 0; k < ARRAY_SIZE(n); k++)
		db_bind_int64(st, i++, clamp(n[k]));
	db_bind_int64(st, i++, clamp(c->usage.in_uncached +
				     c->usage.cache_write +
				     c->usage.cache_read + c->usage.out));
	sqlite3_bind_double(st, i++, c->cost);
	db_bind_int64(st, i, id);
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

int bugpass_record_last(struct bugpass_record *out, struct db *db,
			struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT id, started_ms, coalesce(finished_ms, 0), commit_id,"
		    " cause, bugs, asked, cached, still, obsolete, stale,"
		    " fixed, deferred, errors, tokens, cost_usd"
		    " FROM reverify_pass ORDER BY started_ms DESC, id DESC"
		    " LIMIT 1");
	size_t *n[] = { &out->bugs, &out->asked, &out->cached, &out->still,
			&out->obsolete, &out->stale, &out->fixed,
			&out->deferred, &out->errors };
	int r;

	bugpass_record_release(out);
	r = db_step(db, st, err);
	if (r == 1) {
		out->id = sqlite3_column_int64(st, 0);
		out->started_ms = sqlite3_column_int64(st, 1);
		out->finished_ms = sqlite3_column_int64(st, 2);
		out->commit = db_column_strdup(st, 3);
		out->cause = db_column_strdup(st, 4);
		for (size_t k = 0; k < ARRAY_SIZE(n); k++)
			*n[k] = (size_t)sqlite3_column_int64(st, 5 + (int)k);
		out->tokens = (uint64_t)sqlite3_column_int64(st, 14);
		out->cost = sqlite3_column_double(st, 15);
	}
	db_done(st);
	return r;
}
