/*
 * kreview daemon: poll sources, queue and run reviews; see daemon.h for
 * the shape of the loop and kreview-daemon(8) for the behaviour.
 */
#define _GNU_SOURCE
#include "kreview/bugdb.h"
#include "kreview/bugmail.h"
#include "kreview/bugpass.h"
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/daemon.h"
#include "kreview/db.h"
#include "kreview/digest.h"
#include "kreview/ingest.h"
#include "kreview/job.h"
#include "kreview/llm.h"
#include "kreview/log.h"
#include "kreview/maint.h"
#include "kreview/nmtag.h"
#include "kreview/outbox.h"
#include "kreview/prompt.h"
#include "kreview/queue.h"
#include "kreview/reply.h"
#include "kreview/review.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"
#include "kreview/tree.h"

#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* A configuration shared by the loop and the workers started under it. */
struct cfg_ref {
	struct kreview_config *cfg;
	int refs;		/* touched by the loop thread only */
};

enum worker_kind { WORKER_REVIEW, WORKER_DELIVER, WORKER_REVERIFY };

/* The usage_day list that bug re-verification is budgeted as. */
#define REVERIFY_LIST "reverify"

struct worker {
	struct worker *next;
	enum worker_kind kind;
	pthread_t th;
	struct daemon *d;
	struct cfg_ref *cref;
	struct queue_job job;
	char owner[96];
	int64_t renewed_mono_ms;
	/* results, written by the worker before it posts itself */
	int ret;
	bool infra;
	int64_t review_id;
	size_t reported;
	size_t mails;		/* replies queued in the outbox */
	char *mail_error;	/* why none could be composed, or NULL */
	struct outbox_report delivered;
	/* the bug re-verification pass */
	int64_t pass_id;
	const char *cause;		/* "interval" or "poke" */
	atomic_bool stop;		/* set by the loop on SIGTERM */
	struct bugpass_counts counts;
	char *error;
};

struct source_state {
	int64_t next_poll_mono_ms;
};

struct daemon {
	struct cfg_ref *cref;
	const char *config_path;
	struct db *db;
	int lock_fd, sig_fd, done_pipe[2];
	struct worker *workers;
	size_t running;		/* review workers */
	struct worker *deliverer;	/* the outbox delivery worker */
	struct worker *reverifier;	/* the bug re-verification pass */
	int64_t rv_last_ms;	/* start of the last pass; 0: none yet */
	int64_t rv_wait_ms;	/* budget spent: no pass before this */
	bool rv_check_pokes;	/* look for pokes since the last pass */
	bool rv_poked;		/* a poke is pending: a pass is due */
	bool rv_off_logged, rv_budget_logged;
	uint64_t seq;
	struct source_state *src;
	size_t src_nr;
	bool once, stopping;
	int64_t drain_deadline_mono_ms;
	int64_t next_lease_ms;	/* daemon_now_ms() scale; INT64_MAX: none */
	bool budget_logged;
	char host[64];
	size_t reviews_done, reviews_failed;
};

static struct cfg_ref *cfg_ref_new(struct kreview_config *cfg)
{
	struct cfg_ref *r = xcalloc(1, sizeof(*r));

	r->cfg = cfg;
	r->refs = 1;
	return r;
}

static void cfg_ref_put(struct cfg_ref *r)
{
	if (r && --r->refs == 0) {
		config_free(r->cfg);
		free(r);
	}
}

static const struct daemon_config *dcfg(const struct daemon *d)
{
	return d->cref->cfg->daemon;
}

static enum source_kind kind_of(int k)
{
	switch (k) {
	case DAEMON_SRC_MBOX:
		return SOURCE_MBOX;
	case DAEMON_SRC_MAILDIR:
		return SOURCE_MAILDIR;
	case DAEMON_SRC_INBOX:
		return SOURCE_INBOX;
	default:
		return SOURCE_NOTMUCH;
	}
}

/* ---- workers --------------------------------------------------------- */

struct txn_ctx {
	struct worker *w;
	const struct job_result *jr;
};

/*
 * Compose the replies the lists' policies ask for and queue them in the
 * outbox, inside the review's transaction: a review and its mail are
 * committed together or not at all.  A mail that cannot be composed
 * (no From: configured, too many recipients) costs the mail, never the
 * review; a database failure rolls everything back.
 */
static int queue_replies(struct worker *w, struct db *db, int64_t review_id,
			 const struct job_result *jr, struct strbuf *err)
{
	const struct kreview_config *cfg = w->cref->cfg;
	const struct review_series *s = &jr->s;
	struct reply_target *targets = NULL, cover;
	struct reply_patch_in *pins = NULL;
	struct reply_mail_list l = REPLY_MAIL_LIST_INIT;
	struct reply_opts o = REPLY_OPTS_INIT;
	struct job_priors priors = { 0 };
	struct strbuf why = STRBUF_INIT;
	bool have_cover = false;
	char *cover_id = NULL;
	sqlite3_stmt *st;
	size_t skipped = 0;
	int r = 0;

	if (!cfg->lists || !cfg->lists->nr || !s->nr)
		return 0;
	reply_target_init(&cover);
	st = db_prepare(db, "SELECT cover_msgid FROM series WHERE id = ?");
	db_bind_int64(st, 1, w->job.series_id);
	if (db_step(db, st, NULL) == 1)
		cover_id = db_column_strdup(st, 0);
	db_done(st);
	if (cover_id && outbox_load_target(&cover, db, cover_id, &why) == 0)
		have_cover = true;
	strbuf_reset(&why);
	targets = xcalloc(s->nr, sizeof(*targets));
	pins = xcalloc(s->nr, sizeof(*pins));
	for (size_t i = 0; i < s->nr; i++) {
		reply_target_init(&targets[i]);
		if (s->patches[i].msgid &&
		    outbox_load_target(&targets[i], db, s->patches[i].msgid,
				       &why) == 0)
			pins[i].target = &targets[i];
		if (jr->people) {
			pins[i].maint_people =
				(const char *const *)jr->people[i].people;
			pins[i].maint_people_nr = jr->people[i].people_nr;
			pins[i].maint_lists =
				(const char *const *)jr->people[i].lists;
			pins[i].maint_lists_nr = jr->people[i].lists_nr;
		}
		strbuf_reset(&why);
	}
	outbox_reply_opts(&o, cfg);
	o.review_id = review_id;
	/* on vN+1: what became of vN's findings */
	r = job_priors_load(&priors, db, w->job.series_id, err);
	if (r < 0)
		goto out;
	o.prior = priors.v;
	o.prior_nr = priors.nr;
	o.prior_version = priors.version;
	{
		struct reply_series_in in = {
			.series = s,
			.result = &jr->res,
			.cover = have_cover ? &cover : NULL,
			.patches = pins,
			.lists = cfg->lists,
			.bot_senders = &cfg->ingest.bot_senders,
		};

		if (reply_compose_series(&l, &in, &o, &why) < 0) {
			w->mail_error = strbuf_detach(&why, NULL);
			goto out;
		}
	}
	r = outbox_enqueue_all(&skipped, db, &l, review_id, daemon_now_ms(),
			       err);
	if (r == 0)
		w->mails = l.nr - skipped;
out:
	reply_mail_list_release(&l);
	job_priors_release(&priors);
	for (size_t i = 0; i < s->nr; i++)
		reply_target_release(&targets[i]);
	reply_target_release(&cover);
	free(targets);
	free(pins);
	free(cover_id);
	strbuf_release(&why);
	return r;
}

/* Inside the review's transaction: the job is done, the usage counted. */
static int job_done_txn(void *vctx, struct db *db, int64_t review_id,
			const struct review_result *res, struct strbuf *err)
{
	struct txn_ctx *ctx = vctx;
	struct worker *w = ctx->w;
	uint64_t tokens = res->usage.in_uncached + res->usage.cache_write +
			  res->usage.cache_read + res->usage.out;
	int64_t now = daemon_now_ms();
	int r;

	r = queue_finish(db, w->job.id, w->owner, review_id, now, err);
	if (r < 0)
		return r;
	r = queue_usage_add(db, now, w->job.list, w->job.endpoint, tokens,
			    res->cost, err);
	if (r < 0)
		return r;
	return queue_replies(w, db, review_id, ctx->jr, err);
}

/* Tag the reviewed messages when the job's list is a notmuch source. */
static void tag_reviewed(struct worker *w, const struct job_result *jr)
{
	const struct daemon_source *src =
		daemon_config_list(w->cref->cfg->daemon, w->job.list);
	struct strbuf err = STRBUF_INIT;
	const char **ids;
	const char *sev = NULL;
	enum finding_severity worst = 0;
	size_t nr = 0;

	if (!src || src->kind != DAEMON_SRC_NOTMUCH || !src->tag)
		return;
	/* the most severe reported finding names the tag */
	for (size_t i = 0; i < jr->res.reported; i++)
		if (!sev || jr->res.v[i].c.severity > worst) {
			worst = jr->res.v[i].c.severity;
			sev = finding_severity_name(worst);
		}
	ids = xcalloc(jr->s.nr + 1, sizeof(*ids));
	for (size_t i = 0; i < jr->s.nr; i++)
		if (jr->s.patches[i].msgid)
			ids[nr++] = jr->s.patches[i].msgid;
	if (nmtag_reviewed(src->path, ids, nr, sev, 30000, &err) < 0)
		log_warn("cannot tag the reviewed messages in '%s': %s, ignoring",
			 src->path, err.buf);
	free(ids);
	strbuf_release(&err);
}

/* Hand a finished worker to the loop, which joins it. */
static void post_done(struct worker *w)
{
	ssize_t n;

	/* a pipe write of a pointer is atomic */
	do {
		n = write(w->d->done_pipe[1], &w, sizeof(w));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(w))
		BUG("cannot post a finished worker: %s", strerror(errno));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct kreview_config *cfg = w->cref->cfg;
	struct job_opts jo = JOB_OPTS_INIT;
	struct job_result jr;
	struct txn_ctx tctx = { w, &jr };
	struct strbuf err = STRBUF_INIT;
	struct db *db = NULL;

	job_result_init(&jr);
	w->ret = db_open(&db, cfg->database, &err);
	if (w->ret < 0) {
		w->infra = true;
		goto out;
	}
	jo.tree = cfg->daemon->tree;
	jo.endpoint = *w->job.endpoint ? w->job.endpoint : NULL;
	jo.in_txn = job_done_txn;
	jo.in_txn_ctx = &tctx;
	w->ret = job_review(&jr, db, cfg, w->job.series_id, &jo, &err);
	w->infra = jr.infra;
	if (w->ret == 0) {
		w->review_id = jr.review_id;
		w->reported = jr.res.reported;
		tag_reviewed(w, &jr);
	}
out:
	if (w->ret < 0)
		w->error = strbuf_detach(&err, NULL);
	strbuf_release(&err);
	job_result_release(&jr);
	db_close(db);
	post_done(w);
	return NULL;
}

/* ---- outbox delivery -------------------------------------------------- */

static void drafts_dir(struct strbuf *out, const struct kreview_config *cfg)
{
	if (cfg->mail->drafts)
		strbuf_addstr(out, cfg->mail->drafts);
	else
		strbuf_addf(out, "%s/drafts", cfg->state_dir);
}

static void *deliver_main(void *arg)
{
	struct worker *w = arg;
	const struct kreview_config *cfg = w->cref->cfg;
	struct outbox_deliver_opts o = { 0 };
	struct strbuf err = STRBUF_INIT, drafts = STRBUF_INIT;
	struct db *db = NULL;

	drafts_dir(&drafts, cfg);
	o.mail = cfg->mail;
	o.lists = cfg->lists;
	o.drafts = drafts.buf;
	o.now_ms = daemon_now_ms();
	w->ret = db_open(&db, cfg->database, &err);
	if (w->ret == 0)
		w->ret = outbox_deliver_due(&w->delivered, db, &o, &err);
	if (w->ret < 0)
		w->error = strbuf_detach(&err, NULL);
	db_close(db);
	strbuf_release(&err);
	strbuf_release(&drafts);
	post_done(w);
	return NULL;
}

/* True when outbox rows are due now; '*next' the earliest otherwise. */
static bool outbox_due(struct daemon *d, int64_t *next)
{
	struct strbuf err = STRBUF_INIT;
	int64_t due = INT64_MAX;

	*next = INT64_MAX;
	if (outbox_next_due(&due, d->db, &err) < 0) {
		log_error("cannot read the outbox: %s", err.buf);
		strbuf_release(&err);
		return false;
	}
	strbuf_release(&err);
	*next = due;
	return due <= daemon_now_ms();
}

static void start_delivery(struct daemon *d)
{
	struct worker *w;
	int64_t next;
	int r;

	if (d->deliverer || !outbox_due(d, &next))
		return;
	w = xcalloc(1, sizeof(*w));
	w->kind = WORKER_DELIVER;
	w->d = d;
	w->cref = d->cref;
	w->cref->refs++;
	r = pthread_create(&w->th, NULL, deliver_main, w);
	if (r) {
		log_error("cannot start the delivery thread: %s", strerror(r));
		cfg_ref_put(w->cref);
		free(w);
		return;
	}
	d->deliverer = w;
}

static void finish_delivery(struct daemon *d, struct worker *w)
{
	pthread_join(w->th, NULL);
	d->deliverer = NULL;
	if (w->ret < 0)
		log_error("outbox delivery failed: %s",
			  w->error ? w->error : strerror(-w->ret));
	else if (w->delivered.sent || w->delivered.retrying ||
		 w->delivered.dead)
		log_notice("outbox: %zu mails delivered, %zu to retry, %zu dead",
			   w->delivered.sent, w->delivered.retrying,
			   w->delivered.dead);
	cfg_ref_put(w->cref);
	free(w->error);
	free(w);
}

/* ---- bug re-verification -------------------------------------------- */

/* What the pass thread has; nothing of it is shared with the loop. */
struct rv_ctx {
	const struct kreview_config *cfg;
	struct db *db;
	struct prompt_set *prompts;
	struct llm_engine *engine;
	char *secret;
	struct bugverify_opts vo;
	int64_t tok_budget;
	double cost_budget;
};

/* The tree a pass reads: bugs.reverify_tree, else daemon.tree. */
static const char *reverify_tree(const struct kreview_config *cfg)
{
	if (cfg->bugs && cfg->bugs->reverify_tree)
		return cfg->bugs->reverify_tree;
	return cfg->daemon->tree;
}

static int rv_verifier(const struct bugverify_opts **out, void *ctx)
{
	struct rv_ctx *rc = ctx;
	const struct kreview_config *cfg = rc->cfg;
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;
	int r = -EINVAL;

	prompt_find_dir(&dir, cfg->review.prompts);
	if (prompt_set_load(&rc->prompts, dir.buf, &err) < 0) {
		log_error("bug re-verification: cannot load the prompts in '%s': %s",
			  dir.buf, err.buf);
		goto out;
	}
	rc->vo.prompt = prompt_set_role(rc->prompts, PROMPT_BUGVERIFY);
	if (!rc->vo.prompt) {
		log_error("bug re-verification: the prompts in '%s' have no bugverify.md",
			  dir.buf);
		goto out;
	}
	if (job_engine(&rc->engine, cfg, &err) < 0) {
		log_error("bug re-verification: %s", err.buf);
		goto out;
	}
	rc->vo.endpoint = job_endpoint(cfg, cfg->bugs->reverify_endpoint);
	if (!rc->vo.endpoint ||
	    !llm_engine_endpoint(rc->engine, rc->vo.endpoint)) {
		log_error("bug re-verification: no endpoint named '%s'",
			  rc->vo.endpoint ? rc->vo.endpoint : "");
		goto out;
	}
	if (review_fence_secret(&rc->secret, rc->db) < 0)
		rc->secret = NULL;
	rc->vo.engine = rc->engine;
	rc->vo.cache = rc->db;
	rc->vo.fence_secret = rc->secret;
	*out = &rc->vo;
	r = 0;
out:
	strbuf_release(&dir);
	strbuf_release(&err);
	return r;
}

/* Count what a question cost; stop asking once the day's budget is out. */
static const char *rv_spent(void *ctx, const struct bugverify_result *res)
{
	struct rv_ctx *rc = ctx;
	struct strbuf err = STRBUF_INIT;
	uint64_t tokens = res->usage.in_uncached + res->usage.cache_write +
			  res->usage.cache_read + res->usage.out;
	int64_t now = daemon_now_ms();
	uint64_t used = 0;
	double cost = 0;
	const char *why = NULL;

	if (res->cached)
		return NULL;
	if (db_begin(rc->db, &err) < 0 ||
	    queue_usage_add(rc->db, now, REVERIFY_LIST, rc->vo.endpoint,
			    tokens, res->cost, &err) < 0 ||
	    db_commit(rc->db, &err) < 0) {
		db_rollback(rc->db);
		log_warn("bug re-verification: cannot count the usage: %s, ignoring",
			 err.buf);
	}
	if ((rc->tok_budget || rc->cost_budget > 0) &&
	    queue_usage_today(&used, &cost, rc->db, REVERIFY_LIST, now,
			      NULL) == 0 &&
	    ((rc->tok_budget && used >= (uint64_t)rc->tok_budget) ||
	     (rc->cost_budget > 0 && cost >= rc->cost_budget)))
		why = "the daily token or cost budget is spent";
	strbuf_release(&err);
	return why;
}

static void rv_say(void *ctx, bool problem, const char *line)
{
	(void)ctx;
	if (problem)
		log_warn("bug re-verification: %s", line);
	else
		log_info("bug re-verification: %s", line);
}

static void *reverify_main(void *arg)
{
	struct worker *w = arg;
	const struct kreview_config *cfg = w->cref->cfg;
	const struct bugdb_config *bc = cfg->bugs;
	struct rv_ctx rc = { .cfg = cfg };
	struct bugdb_set set = BUGDB_SET_INIT;
	struct bugpass_list list = BUGPASS_LIST_INIT;
	struct bugpass_opts po = { 0 };
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;
	const char *rev = bc->reverify_rev ? bc->reverify_rev : "HEAD";
	git_repository *repo = NULL;
	git_oid commit;

	rc.tok_budget = cfg->daemon->tokens_per_day;
	rc.cost_budget = cfg->daemon->cost_per_day;
	w->ret = db_open(&rc.db, cfg->database, &err);
	if (w->ret < 0)
		goto out;
	w->ret = tree_open_repo(&repo, reverify_tree(cfg), &err);
	if (w->ret < 0)
		goto out;
	w->ret = bugverify_resolve(&commit, repo, rev);
	if (w->ret < 0) {
		strbuf_addf(&err, "no commit '%s' in '%s'", rev,
			    reverify_tree(cfg));
		goto out;
	}
	bugdb_config_dir(&dir, bc, cfg->state_dir);
	w->ret = bugdb_set_open(&set, dir.buf, &err);
	if (w->ret < 0) {
		strbuf_addf(&err, "cannot read '%s': %s", dir.buf,
			    strerror(-w->ret));
		goto out;
	}
	if (err.len) {
		strbuf_rtrim(&err);
		log_warn("bug re-verification: %s", err.buf);
		strbuf_reset(&err);
	}
	w->ret = bugpass_list_all(&list, &set, &err);
	if (w->ret < 0)
		goto out;
	bugpass_list_sort(&list);
	po.repo = repo;
	po.commit = &commit;
	po.max_asks = (size_t)bc->reverify_budget;
	po.verifier = rv_verifier;
	po.spent = rv_spent;
	po.say = rv_say;
	po.ctx = &rc;
	po.stop = &w->stop;
	bugpass_run(&w->counts, &list, &po);
out:
	if (w->ret < 0)
		w->error = strbuf_detach(&err, NULL);
	bugpass_list_release(&list);
	bugdb_set_release(&set);
	git_repository_free(repo);
	llm_engine_free(rc.engine);
	prompt_set_free(rc.prompts);
	free(rc.secret);
	db_close(rc.db);
	strbuf_release(&err);
	strbuf_release(&dir);
	post_done(w);
	return NULL;
}

/* False (said once) when the configuration turns the passes off. */
static bool reverify_on(struct daemon *d)
{
	const struct kreview_config *cfg = d->cref->cfg;

	if (!cfg->bugs || !cfg->bugs->reverify_interval_ms) {
		if (!d->rv_off_logged)
			log_info("bug re-verification is off (bugs.reverify_interval is 0)");
		d->rv_off_logged = true;
		return false;
	}
	if (!reverify_tree(cfg)) {
		if (!d->rv_off_logged)
			log_notice("bug re-verification is off: no tree is configured (bugs.reverify_tree or daemon.tree)");
		d->rv_off_logged = true;
		return false;
	}
	return true;
}

/* Pokes applied since the last pass started make a pass due now. */
static void check_pokes(struct daemon *d)
{
	const struct kreview_config *cfg = d->cref->cfg;
	struct bugdb_set set = BUGDB_SET_INIT;
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;
	size_t total = 0;

	d->rv_check_pokes = false;
	bugdb_config_dir(&dir, cfg->bugs, cfg->state_dir);
	if (bugdb_set_open(&set, dir.buf, &err) < 0) {
		log_error("cannot read '%s' for pokes: %s", dir.buf, err.buf);
		goto out;
	}
	for (size_t i = 0; i < set.nr; i++) {
		size_t n = 0;

		strbuf_reset(&err);
		if (bugdb_pokes_since(&n, set.v[i], d->rv_last_ms, &err) < 0)
			log_warn("cannot look for pokes: %s, ignoring", err.buf);
		total += n;
	}
	if (total) {
		log_info("%zu poked bugs wait for re-verification", total);
		d->rv_poked = true;
	}
out:
	bugdb_set_release(&set);
	strbuf_release(&dir);
	strbuf_release(&err);
}

/* When the next pass is due (daemon_now_ms() scale); INT64_MAX: never. */
static int64_t reverify_due(const struct daemon *d)
{
	const struct bugdb_config *bc = d->cref->cfg->bugs;
	int64_t due;

	if (d->reverifier || !bc || !bc->reverify_interval_ms ||
	    !reverify_tree(d->cref->cfg))
		return INT64_MAX;
	due = d->rv_poked ? 0 : d->rv_last_ms + bc->reverify_interval_ms;
	return due > d->rv_wait_ms ? due : d->rv_wait_ms;
}

/* True (said once a day) when today's re-verification budget is out. */
static bool reverify_over_budget(struct daemon *d, int64_t now)
{
	const struct daemon_config *dc = dcfg(d);
	uint64_t tokens = 0;
	double cost = 0;
	char day[11];

	if (!dc->tokens_per_day && dc->cost_per_day <= 0)
		return false;
	if (queue_usage_today(&tokens, &cost, d->db, REVERIFY_LIST, now,
			      NULL) < 0)
		return false;
	if ((!dc->tokens_per_day || tokens < (uint64_t)dc->tokens_per_day) &&
	    (dc->cost_per_day <= 0 || cost < dc->cost_per_day))
		return false;
	d->rv_wait_ms = queue_next_day_ms(now);
	if (!d->rv_budget_logged) {
		queue_day(day, now);
		log_notice("bug re-verification spent its budget for %s (%" PRIu64 " tokens, $%.4f); the next pass waits for the next day",
			   day, tokens, cost);
		d->rv_budget_logged = true;
	}
	return true;
}

/* Start a pass when one is due. */
static void start_reverify(struct daemon *d)
{
	struct strbuf err = STRBUF_INIT;
	int64_t now = daemon_now_ms();
	struct worker *w;
	int r;

	if (d->reverifier || d->stopping || !reverify_on(d))
		return;
	if (d->rv_check_pokes)
		check_pokes(d);
	if (reverify_due(d) > now || reverify_over_budget(d, now))
		return;
	w = xcalloc(1, sizeof(*w));
	w->kind = WORKER_REVERIFY;
	w->d = d;
	w->cause = d->rv_poked ? "poke" : "interval";
	atomic_init(&w->stop, false);
	if (bugpass_record_start(&w->pass_id, d->db, now, w->cause, &err) < 0) {
		log_error("cannot record a bug re-verification pass: %s", err.buf);
		/* not again before the interval: the database is in trouble */
		d->rv_last_ms = now;
		d->rv_poked = false;
		free(w);
		goto out;
	}
	d->rv_last_ms = now;
	d->rv_poked = false;
	d->rv_budget_logged = false;
	w->cref = d->cref;
	w->cref->refs++;
	r = pthread_create(&w->th, NULL, reverify_main, w);
	if (r) {
		log_error("cannot start the bug re-verification thread: %s",
			  strerror(r));
		cfg_ref_put(w->cref);
		free(w);
		goto out;
	}
	log_info("bug re-verification pass %" PRId64 " started (%s)",
		 w->pass_id, w->cause);
	d->reverifier = w;
out:
	strbuf_release(&err);
}

static void finish_reverify(struct daemon *d, struct worker *w)
{
	struct strbuf err = STRBUF_INIT, sum = STRBUF_INIT;

	pthread_join(w->th, NULL);
	d->reverifier = NULL;
	if (w->ret < 0) {
		log_error("bug re-verification failed: %s",
			  w->error ? w->error : strerror(-w->ret));
	} else {
		bugpass_summary(&sum, &w->counts, false);
		log_notice("bug re-verification (%s): %zu bug%s %s", w->cause,
			   w->counts.bugs, w->counts.bugs == 1 ? "" : "s",
			   sum.buf);
	}
	if (bugpass_record_finish(d->db, w->pass_id, daemon_now_ms(),
				  &w->counts, &err) < 0)
		log_error("cannot record the end of bug re-verification pass %" PRId64 ": %s",
			  w->pass_id, err.buf);
	/* pokes applied while it ran */
	d->rv_check_pokes = true;
	cfg_ref_put(w->cref);
	free(w->error);
	free(w);
	strbuf_release(&err);
	strbuf_release(&sum);
}

static int start_worker(struct daemon *d, struct queue_job *job,
			const char *owner)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	int r;

	d->seq++;
	snprintf(w->owner, sizeof(w->owner), "%s", owner);
	w->d = d;
	w->cref = d->cref;
	w->cref->refs++;
	w->job = *job;
	memset(job, 0, sizeof(*job));
	w->renewed_mono_ms = time_mono_ms();
	r = pthread_create(&w->th, NULL, worker_main, w);
	if (r) {
		struct strbuf err = STRBUF_INIT;

		log_error("cannot start a review thread: %s", strerror(r));
		queue_release(d->db, w->job.id, w->owner, daemon_now_ms(),
			      &err);
		strbuf_release(&err);
		cfg_ref_put(w->cref);
		queue_job_release(&w->job);
		free(w);
		return -r;
	}
	log_info("reviewing series %" PRId64 " (job %" PRId64 ", list '%s', attempt %d)",
		 w->job.series_id, w->job.id, w->job.list, w->job.attempts);
	w->next = d->workers;
	d->workers = w;
	d->running++;
	return 0;
}

static void finish_worker(struct daemon *d, struct worker *w)
{
	const struct daemon_config *dc = w->cref->cfg->daemon;
	struct strbuf err = STRBUF_INIT;
	struct worker **pp;

	pthread_join(w->th, NULL);
	for (pp = &d->workers; *pp && *pp != w; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = w->next;
	d->running--;
	if (w->ret == 0) {
		d->reviews_done++;
		log_notice("series %" PRId64 " reviewed: review %" PRId64 ", %zu findings reported, %zu replies queued",
			   w->job.series_id, w->review_id, w->reported,
			   w->mails);
		if (w->mail_error)
			log_warn("series %" PRId64 ": no reply composed: %s",
				 w->job.series_id, w->mail_error);
	} else if (w->ret == -ESTALE) {
		log_warn("series %" PRId64 ": the job was taken back while it ran; its review was not stored",
			 w->job.series_id);
	} else if (w->infra) {
		d->reviews_failed++;
		log_error("series %" PRId64 ": review failed (attempt %d): %s",
			  w->job.series_id, w->job.attempts,
			  w->error ? w->error : strerror(-w->ret));
		if (queue_fail(d->db, w->job.id, w->owner,
			       w->error ? w->error : strerror(-w->ret),
			       dc->max_attempts, dc->retry_backoff_ms,
			       daemon_now_ms(), &err) < 0)
			log_error("cannot record the failure of job %" PRId64 ": %s",
				  w->job.id, err.buf);
	} else {
		log_warn("series %" PRId64 ": not reviewable: %s",
			 w->job.series_id,
			 w->error ? w->error : strerror(-w->ret));
		if (queue_skip(d->db, w->job.id,
			       w->error ? w->error : strerror(-w->ret),
			       daemon_now_ms(), &err) < 0)
			log_error("cannot skip job %" PRId64 ": %s", w->job.id,
				  err.buf);
	}
	strbuf_release(&err);
	cfg_ref_put(w->cref);
	queue_job_release(&w->job);
	free(w->error);
	free(w->mail_error);
	free(w);
}

static void reap(struct daemon *d)
{
	struct worker *w;

	while (read(d->done_pipe[0], &w, sizeof(w)) == (ssize_t)sizeof(w)) {
		if (w->kind == WORKER_DELIVER)
			finish_delivery(d, w);
		else if (w->kind == WORKER_REVERIFY)
			finish_reverify(d, w);
		else
			finish_worker(d, w);
	}
}

/* ---- admission: concurrency and budgets ------------------------------ */

static size_t running_on(const struct daemon *d, const char *endpoint)
{
	size_t n = 0;

	for (const struct worker *w = d->workers; w; w = w->next)
		if (!strcmp(w->job.endpoint, endpoint))
			n++;
	return n;
}

static bool admit(void *vctx, const struct queue_job *j, int64_t *wait)
{
	struct daemon *d = vctx;
	const struct daemon_config *dc = dcfg(d);
	const struct daemon_source *src = daemon_config_list(dc, j->list);
	int64_t tok_budget = src && src->tokens_per_day ? src->tokens_per_day :
							  dc->tokens_per_day;
	double cost_budget = src && src->cost_per_day > 0 ? src->cost_per_day :
							    dc->cost_per_day;
	int64_t now = daemon_now_ms();
	uint64_t tokens = 0;
	double cost = 0;

	if (running_on(d, j->endpoint) >=
	    (size_t)daemon_config_endpoint_limit(dc, j->endpoint))
		return false;
	if (!tok_budget && cost_budget <= 0)
		return true;
	if (queue_usage_today(&tokens, &cost, d->db, j->list, now, NULL) < 0)
		return false;
	if ((tok_budget && tokens >= (uint64_t)tok_budget) ||
	    (cost_budget > 0 && cost >= cost_budget)) {
		char day[11];

		*wait = queue_next_day_ms(now);
		if (!d->budget_logged) {
			queue_day(day, now);
			log_notice("list '%s' spent its budget for %s (%" PRIu64 " tokens, $%.4f); its reviews wait for the next day",
				   j->list, day, tokens, cost);
			d->budget_logged = true;
		}
		return false;
	}
	return true;
}

/* ---- the loop's steps ------------------------------------------------- */

static void report_msg(void *ctx, const char *where, const char *what)
{
	(void)ctx;
	if (where)
		log_warn("%s: %s", where, what);
	else
		log_warn("%s", what);
}

/* Read the sources that are due; true if any was read. */
static bool poll_sources(struct daemon *d, bool all)
{
	const struct daemon_config *dc = dcfg(d);
	const struct daemon_source *s = dc->sources.items;
	int64_t mono = time_mono_ms();
	bool any = false;

	for (size_t i = 0; i < dc->sources.nr && !d->stopping; i++) {
		struct ingest_source is = { 0 };
		struct ingest_stats st = { 0 };
		struct strbuf err = STRBUF_INIT;
		int64_t every = s[i].poll_interval_ms ? s[i].poll_interval_ms :
							dc->poll_interval_ms;

		if (!all && d->src[i].next_poll_mono_ms > mono)
			continue;
		d->src[i].next_poll_mono_ms = mono + every;
		is.kind = kind_of(s[i].kind);
		is.location = s[i].path;
		is.query = s[i].query;
		is.list = s[i].list;
		is.priority = s[i].priority;
		is.report = report_msg;
		if (ingest_source(&st, d->db, d->cref->cfg, &is, &err) < 0)
			log_error("%s", err.buf);
		if (st.read)
			log_info("%s: %zu messages read, %zu new, %zu patches",
				 s[i].path, st.read, st.added, st.patches);
		any = true;
		strbuf_release(&err);
	}
	return any;
}

static void report_command(void *ctx, const struct bugmail_result *r)
{
	struct daemon *d = ctx;

	/* a poke among the commands makes a pass due (check_pokes()) */
	if (!r->duplicate && r->commands > r->failed)
		d->rv_check_pokes = true;
	if (r->duplicate) {
		log_info("command mail <%s> from %s was processed before, ignoring",
			 r->msgid, r->sender);
		return;
	}
	if (r->outbox_id)
		log_notice("command mail <%s> from %s: %zu commands, %zu refused or malformed; answer %" PRId64 " queued (%s)%s",
			   r->msgid, r->sender, r->commands, r->failed,
			   r->outbox_id, reply_mode_names[r->mode],
			   r->no_list ? ", no list was in Cc" : "");
	else
		log_notice("command mail <%s> from %s: %zu commands, %zu refused or malformed; no answer: %s",
			   r->msgid, r->sender, r->commands, r->failed,
			   r->answered_before ? "one is in the outbox already" :
			   r->why ? r->why : "nothing to say");
}

/*
 * Replies to kreview's mail that carry "#kreview" commands: apply them
 * and queue the answers (bugmail.h).  On the loop thread: the bug
 * databases are local files and command mail is rare.
 */
static void process_commands(struct daemon *d)
{
	const struct kreview_config *cfg = d->cref->cfg;
	struct bugmail_opts o = { .cfg = cfg, .now_ms = daemon_now_ms() };
	struct bugmail_stats st;
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;

	bugdb_config_dir(&dir, cfg->bugs, cfg->state_dir);
	o.dir = dir.buf;
	if (bugmail_scan(&st, d->db, &o, report_command, d, &err) < 0)
		log_error("cannot process command mail: %s", err.buf);
	strbuf_release(&dir);
	strbuf_release(&err);
}

static void report_digest(void *ctx, const struct digest_result *r)
{
	(void)ctx;
	if (r->outbox_id)
		log_notice("digest of %s (%zu bugs) queued as %" PRId64 " <%s>%s",
			   r->section, r->bugs, r->outbox_id, r->msgid,
			   r->to_curator ? ", to the curator for moderation" : "");
	else	/* looked at again after every poll: not above debug */
		log_debug("no digest of %s: %s", r->section,
			 r->why ? r->why : "nothing to send");
}

/*
 * The bug digests that are due (digest.h), after each poll.  On the
 * loop thread: a few local queries, and at most digest_daily_limit
 * digests a day are composed.
 */
static void send_digests(struct daemon *d)
{
	const struct kreview_config *cfg = d->cref->cfg;
	const struct bugdb_config *bc = cfg->bugs;
	struct digest_opts o = { .cfg = cfg, .bugs = bc,
				 .now_ms = daemon_now_ms() };
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;
	struct digest_pass_stats st;
	struct maint *m = NULL;

	if (!bc || !bc->digest_sections.nr)
		return;
	if (bc->maintainers &&
	    maint_load_file(&m, bc->maintainers, NULL, &err) < 0) {
		log_error("no digests: %s", err.buf);
		goto out;
	}
	bugdb_config_dir(&dir, bc, cfg->state_dir);
	o.dir = dir.buf;
	o.maint = m;
	if (digest_pass(&st, d->db, &o, report_digest, d, &err) < 0)
		log_error("cannot send digests: %s", err.buf);
	else if (st.deferred)
		log_info("%zu digests due wait for tomorrow (bugs.digest_daily_limit %d)",
			 st.deferred, bc->digest_daily_limit);
out:
	maint_free(m);
	strbuf_release(&dir);
	strbuf_release(&err);
}

static void assemble_and_queue(struct daemon *d)
{
	const struct kreview_config *cfg = d->cref->cfg;
	struct store_assemble_stats as = { 0 };
	struct strbuf err = STRBUF_INIT;
	int64_t now = daemon_now_ms();
	size_t queued = 0;

	if (store_assemble_dirty(&as, d->db, cfg->ingest.stall_after_ms, now,
				 &err) < 0) {
		log_error("cannot assemble series: %s", err.buf);
		strbuf_reset(&err);
	}
	if (queue_scan(&queued, d->db, job_endpoint(cfg, NULL), now, &err) < 0)
		log_error("cannot queue reviews: %s", err.buf);
	else if (queued)
		log_info("%zu series revisions queued for review", queued);
	strbuf_release(&err);
}

/* Start as many jobs as the limits allow. */
static void start_jobs(struct daemon *d)
{
	const struct daemon_config *dc = dcfg(d);
	struct strbuf err = STRBUF_INIT;

	d->next_lease_ms = INT64_MAX;
	while (!d->stopping && d->running < (size_t)dc->concurrency) {
		struct queue_job j = QUEUE_JOB_INIT;
		char owner[96];
		int64_t next = INT64_MAX;
		int r;

		snprintf(owner, sizeof(owner), "%s:%ld:%" PRIu64, d->host,
			 (long)getpid(), d->seq + 1);
		r = queue_lease(&j, &next, d->db, owner, daemon_now_ms(),
				dc->lease_ms, admit, d, &err);
		if (r < 0) {
			log_error("cannot take a job from the queue: %s",
				  err.buf);
			break;
		}
		if (r == 0) {
			d->next_lease_ms = next;
			break;
		}
		if (start_worker(d, &j, owner) < 0) {
			queue_job_release(&j);
			break;
		}
	}
	strbuf_release(&err);
}

static void renew_leases(struct daemon *d)
{
	const struct daemon_config *dc = dcfg(d);
	int64_t mono = time_mono_ms();

	for (struct worker *w = d->workers; w; w = w->next) {
		struct strbuf err = STRBUF_INIT;

		if (mono - w->renewed_mono_ms < dc->lease_ms / 3)
			continue;
		if (queue_renew(d->db, w->job.id, w->owner, daemon_now_ms(),
				dc->lease_ms, &err) < 0)
			log_warn("cannot renew the lease of job %" PRId64 ": %s",
				 w->job.id, err.buf);
		w->renewed_mono_ms = mono;
		strbuf_release(&err);
	}
}

/* Give every running job back (SIGTERM deadline or a second signal). */
static void release_all(struct daemon *d)
{
	for (struct worker *w = d->workers; w; w = w->next) {
		struct strbuf err = STRBUF_INIT;

		if (queue_release(d->db, w->job.id, w->owner, daemon_now_ms(),
				  &err) == 0)
			log_notice("job %" PRId64 " (series %" PRId64 ") interrupted, given back to the queue",
				   w->job.id, w->job.series_id);
		strbuf_release(&err);
	}
}

static void status_line(struct daemon *d)
{
	size_t queued = 0;

	queue_count(&queued, d->db, QUEUE_QUEUED, NULL, NULL);
	daemon_notifyf("STATUS=%zu reviews running, %zu queued, %zu done, %zu failed",
		       d->running, queued, d->reviews_done,
		       d->reviews_failed);
}

static int load_config(struct kreview_config **out, const char *path,
		       struct strbuf *err)
{
	int r = config_load(out, path, err);

	if (r < 0)
		return r;
	if (!(*out)->daemon->sources.nr) {
		strbuf_addf(err, "%s: the daemon has no sources (daemon.sources)",
			    path ? path : "configuration");
		config_free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

static void reload(struct daemon *d)
{
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	struct source_state *src;

	daemon_notifyf("RELOADING=1\nMONOTONIC_USEC=%" PRId64,
		       time_mono_ms() * 1000);
	if (load_config(&cfg, d->config_path, &err) < 0) {
		log_error("new configuration rejected, keeping the old one:\n%s",
			  err.buf);
		goto out;
	}
	if (strcmp(cfg->database, d->cref->cfg->database)) {
		log_error("new configuration rejected, keeping the old one: the database cannot change while running ('%s')",
			  cfg->database);
		config_free(cfg);
		goto out;
	}
	src = xcalloc(cfg->daemon->sources.nr + 1, sizeof(*src));
	free(d->src);
	d->src = src;
	d->src_nr = cfg->daemon->sources.nr;
	cfg_ref_put(d->cref);
	d->cref = cfg_ref_new(cfg);
	d->budget_logged = false;
	d->rv_off_logged = false;
	log_notice("configuration reloaded from '%s'",
		   cfg->path ? cfg->path : "defaults");
out:
	daemon_notify("READY=1");
	status_line(d);
	strbuf_release(&err);
}

/* Handle pending signals; false when the loop must end at once. */
static bool read_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(d);
			break;
		case SIGTERM:
		case SIGINT:
			if (d->stopping) {
				log_notice("second signal, stopping now");
				release_all(d);
				return false;
			}
			d->stopping = true;
			d->drain_deadline_mono_ms =
				time_mono_ms() + dcfg(d)->drain_timeout_ms;
			daemon_notify("STOPPING=1");
			log_notice("stopping: %zu running reviews may finish%s",
				   d->running,
				   d->reverifier ? "; bug re-verification stops after the bug it is checking" : "");
			if (d->reverifier)
				atomic_store(&d->reverifier->stop, true);
			break;
		}
	}
	return true;
}

static int64_t next_timeout(struct daemon *d)
{
	const struct daemon_config *dc = dcfg(d);
	int64_t mono = time_mono_ms(), t = INT64_MAX;

	if (d->stopping) {
		t = d->drain_deadline_mono_ms - mono;
	} else {
		for (size_t i = 0; i < d->src_nr; i++)
			if (d->src[i].next_poll_mono_ms - mono < t)
				t = d->src[i].next_poll_mono_ms - mono;
		int64_t due;

		if (d->next_lease_ms != INT64_MAX &&
		    d->next_lease_ms - daemon_now_ms() < t)
			t = d->next_lease_ms - daemon_now_ms();
		if (!d->deliverer && !outbox_due(d, &due) && due != INT64_MAX &&
		    due - daemon_now_ms() < t)
			t = due - daemon_now_ms();
		due = reverify_due(d);
		if (due != INT64_MAX && due - daemon_now_ms() < t)
			t = due - daemon_now_ms();
	}
	if (d->running && dc->lease_ms / 3 < t)
		t = dc->lease_ms / 3;
	if (t < 0)
		t = 0;
	return t > 3600 * 1000 ? 3600 * 1000 : t;
}

static int run(struct daemon *d)
{
	bool first = true;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = d->sig_fd, .events = POLLIN },
			{ .fd = d->done_pipe[0], .events = POLLIN },
		};
		int64_t t;

		if (!d->stopping) {
			if (poll_sources(d, first) || first) {
				process_commands(d);
				send_digests(d);
				assemble_and_queue(d);
			}
			first = false;
			start_jobs(d);
			start_delivery(d);
			start_reverify(d);
			status_line(d);
		}
		if (d->once && !d->running && !d->deliverer && !d->reverifier)
			return 0;
		if (d->stopping && !d->running && !d->deliverer &&
		    !d->reverifier)
			return 0;
		if (d->stopping && time_mono_ms() >= d->drain_deadline_mono_ms) {
			log_notice("drain timeout reached");
			release_all(d);
			return 0;
		}
		renew_leases(d);
		t = d->once ? -1 : next_timeout(d);
		if (d->once && d->stopping)
			t = next_timeout(d);
		if (poll(pfd, 2, (int)t) < 0 && errno != EINTR)
			return log_errno(-errno, "poll failed");
		if (pfd[0].revents & POLLIN && !read_signals(d))
			return 0;
		if (pfd[1].revents & POLLIN)
			reap(d);
	}
}

/* ---- setup ------------------------------------------------------------ */

static int setup_signals(int *fd_out)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* blocked before any thread starts, so workers inherit the mask */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -EINVAL;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	*fd_out = fd;
	return 0;
}

int cmd_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, '1' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .lock_fd = -1, .sig_fd = -1,
			    .done_pipe = { -1, -1 } };
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT, lock = STRBUF_INIT;
	bool check_only = false;
	size_t orphans = 0;
	int c, ret = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d.config_path = optarg; break;
		case '1': d.once = true; break;
		case 'n': check_only = true; break;
		case 'v': log_set_level(LOG_LVL_INFO); break;
		default:
			cmd_print_usage(cmd_find("daemon"), stderr);
			goto out;
		}
	}
	if (optind < argc) {
		cmd_print_usage(cmd_find("daemon"), stderr);
		goto out;
	}
	ret = 1;
	if (load_config(&cfg, d.config_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	if (check_only) {
		printf("configuration OK: %zu sources\n",
		       cfg->daemon->sources.nr);
		ret = 0;
		goto out;
	}
	if (!job_endpoint(cfg, NULL)) {
		log_error("no LLM endpoint is configured; see kreview.yaml(5)");
		goto out;
	}
	gethostname(d.host, sizeof(d.host) - 1);
	d.cref = cfg_ref_new(cfg);
	cfg = NULL;
	(void)daemon_now_ms(); /* fix the test clock's start before threads */
	if (d.cref->cfg->daemon->lock_file)
		strbuf_addstr(&lock, d.cref->cfg->daemon->lock_file);
	else
		strbuf_addf(&lock, "%s/daemon.lock", d.cref->cfg->state_dir);
	if (daemon_lock(&d.lock_fd, lock.buf, &err) < 0) {
		log_error("%s", err.buf);
		goto out;
	}
	if (db_open(&d.db, d.cref->cfg->database, &err) < 0) {
		log_error("%s", err.buf);
		goto out;
	}
	/* we hold the lock: a running job belongs to a daemon that died */
	if (queue_expire(&orphans, d.db, daemon_now_ms(), true,
			 dcfg(&d)->max_attempts, &err) < 0) {
		log_error("cannot recover the queue: %s", err.buf);
		goto out;
	}
	if (orphans)
		log_notice("%zu interrupted reviews given back to the queue",
			   orphans);
	{
		struct outbox_deliver_opts o = { 0 };
		struct outbox_report rep = { 0 };
		struct strbuf drafts = STRBUF_INIT;

		drafts_dir(&drafts, d.cref->cfg);
		o.mail = d.cref->cfg->mail;
		o.lists = d.cref->cfg->lists;
		o.drafts = drafts.buf;
		o.now_ms = daemon_now_ms();
		if (outbox_recover(&rep, d.db, &o, &err) < 0)
			log_error("cannot recover the outbox: %s, ignoring",
				  err.buf);
		else if (rep.recovered)
			log_notice("outbox: %zu mails found delivered by the previous daemon",
				   rep.recovered);
		strbuf_reset(&err);
		strbuf_release(&drafts);
	}
	{
		/* the last pass counts across restarts */
		struct bugpass_record rec = { 0 };

		if (bugpass_record_last(&rec, d.db, &err) < 0) {
			log_error("cannot read the last bug re-verification pass: %s, ignoring",
				  err.buf);
			strbuf_reset(&err);
		}
		d.rv_last_ms = rec.started_ms;
		d.rv_check_pokes = true;
		bugpass_record_release(&rec);
	}
	if (setup_signals(&d.sig_fd) < 0 ||
	    pipe2(d.done_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	d.src_nr = dcfg(&d)->sources.nr;
	d.src = xcalloc(d.src_nr + 1, sizeof(*d.src));
	daemon_notify("READY=1");
	log_notice("started: %zu sources, up to %d reviews at once%s",
		   d.src_nr, dcfg(&d)->concurrency, d.once ? ", once" : "");
	ret = run(&d) < 0 ? 1 : 0;
	daemon_notify("STOPPING=1");
	log_notice("stopped: %zu reviews done, %zu failed", d.reviews_done,
		   d.reviews_failed);
	if (d.workers || d.deliverer || d.reverifier) {
		/* threads still reviewing die with the process; their jobs
		 * were given back above */
		db_close(d.db);
		fflush(NULL);
		_exit(ret);
	}
out:
	db_close(d.db);
	if (d.sig_fd >= 0)
		close(d.sig_fd);
	if (d.done_pipe[0] >= 0) {
		close(d.done_pipe[0]);
		close(d.done_pipe[1]);
	}
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	free(d.src);
	if (d.cref)
		cfg_ref_put(d.cref);
	config_free(cfg);
	strbuf_release(&err);
	strbuf_release(&lock);
	return ret;
}
