/*
 * kreview status: the daemon's queue, usage today, errors, cursors and
 * its last bug re-verification pass.
 */
#include "kreview/bugpass.h"
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/daemon.h"
#include "kreview/db.h"
#include "kreview/queue.h"
#include "kreview/strbuf.h"

#include <getopt.h>

/* JSON or text, one printer for both (notmuch's sprinter idea, small). */
struct out {
	struct strbuf sb;
	bool json;
	bool first;	/* no comma before the next JSON element */
};

static void sep(struct out *o)
{
	if (!o->first)
		strbuf_addch(&o->sb, ',');
	o->first = false;
}

static void json_key(struct out *o, const char *key)
{
	sep(o);
	strbuf_add_json_str(&o->sb, key, strlen(key));
	strbuf_addch(&o->sb, ':');
}

static void json_str(struct out *o, const char *key, const char *v)
{
	json_key(o, key);
	if (v)
		strbuf_add_json_str(&o->sb, v, strlen(v));
	else
		strbuf_addstr(&o->sb, "null");
	o->first = false;
}

static void json_int(struct out *o, const char *key, int64_t v)
{
	json_key(o, key);
	strbuf_addf(&o->sb, "%" PRId64, v);
	o->first = false;
}

static void open_(struct out *o, const char *key, char c)
{
	if (key)
		json_key(o, key);
	else
		sep(o);
	strbuf_addch(&o->sb, c);
	o->first = true;
}

static void close_(struct out *o, char c)
{
	strbuf_addch(&o->sb, c);
	o->first = false;
}

static int queue_states(struct out *o, struct db *db, struct strbuf *err)
{
	if (o->json)
		open_(o, "queue", '{');
	else
		strbuf_addstr(&o->sb, "queue:");
	for (int s = 0; s < QUEUE_STATE_MAX; s++) {
		size_t n = 0;
		int r = queue_count(&n, db, (enum queue_state)s, NULL, err);

		if (r < 0)
			return r;
		if (o->json)
			json_int(o, queue_state_name((enum queue_state)s),
				 (int64_t)n);
		else
			strbuf_addf(&o->sb, " %s %zu",
				    queue_state_name((enum queue_state)s), n);
	}
	if (o->json)
		close_(o, '}');
	else
		strbuf_addch(&o->sb, '\n');
	return 0;
}

static int running(struct out *o, struct db *db, int64_t now,
		   struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT j.id, j.series_id, j.list, j.endpoint, j.attempts,"
		    " j.lease_owner, j.lease_expires_ms, s.subject"
		    " FROM job j LEFT JOIN series s ON s.id = j.series_id"
		    " WHERE j.state = 'running' ORDER BY j.id");
	int r;

	if (o->json)
		open_(o, "running", '[');
	else
		strbuf_addstr(&o->sb, "running:\n");
	while ((r = db_step(db, st, err)) == 1) {
		const char *subj = (const char *)sqlite3_column_text(st, 7);
		const char *list = (const char *)sqlite3_column_text(st, 2);
		const char *ep = (const char *)sqlite3_column_text(st, 3);
		const char *owner = (const char *)sqlite3_column_text(st, 5);
		int64_t exp = sqlite3_column_int64(st, 6);

		if (o->json) {
			open_(o, NULL, '{');
			json_int(o, "job", sqlite3_column_int64(st, 0));
			json_int(o, "series", sqlite3_column_int64(st, 1));
			json_str(o, "subject", subj);
			json_str(o, "list", list);
			json_str(o, "endpoint", ep);
			json_int(o, "attempt", sqlite3_column_int64(st, 4));
			json_str(o, "owner", owner);
			json_int(o, "lease_expires_ms", exp);
			close_(o, '}');
		} else {
			strbuf_addf(&o->sb,
				    "  job %lld series %lld [%s] on %s, attempt %d, lease %s for %llds: %s\n",
				    (long long)sqlite3_column_int64(st, 0),
				    (long long)sqlite3_column_int64(st, 1),
				    list ? list : "", ep ? ep : "",
				    sqlite3_column_int(st, 4),
				    owner ? owner : "?",
				    (long long)((exp - now) / 1000),
				    subj ? subj : "(series gone)");
		}
	}
	db_done(st);
	if (o->json)
		close_(o, ']');
	return r;
}

static int usage(struct out *o, struct db *db, int64_t now,
		 struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT list, endpoint, tokens, cost_usd, reviews"
		    " FROM usage_day WHERE day = ? ORDER BY list, endpoint");
	char day[11];
	int r;

	queue_day(day, now);
	db_bind_text(st, 1, day);
	if (o->json) {
		json_str(o, "day", day);
		open_(o, "usage_today", '[');
	} else {
		strbuf_addf(&o->sb, "usage on %s (UTC):\n", day);
	}
	while ((r = db_step(db, st, err)) == 1) {
		const char *list = (const char *)sqlite3_column_text(st, 0);
		const char *ep = (const char *)sqlite3_column_text(st, 1);

		if (o->json) {
			open_(o, NULL, '{');
			json_str(o, "list", list);
			json_str(o, "endpoint", ep);
			json_int(o, "tokens", sqlite3_column_int64(st, 2));
			json_key(o, "cost_usd");
			strbuf_addf(&o->sb, "%.6f", sqlite3_column_double(st, 3));
			json_int(o, "reviews", sqlite3_column_int64(st, 4));
			close_(o, '}');
		} else {
			strbuf_addf(&o->sb,
				    "  [%s] %s: %lld tokens, $%.4f, %d reviews\n",
				    list, ep,
				    (long long)sqlite3_column_int64(st, 2),
				    sqlite3_column_double(st, 3),
				    sqlite3_column_int(st, 4));
		}
	}
	db_done(st);
	if (o->json)
		close_(o, ']');
	return r;
}

static int errors(struct out *o, struct db *db, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT id, series_id, state, attempts, last_error,"
		    " updated_ms FROM job WHERE last_error IS NOT NULL"
		    " AND state IN ('queued', 'failed', 'skipped')"
		    " ORDER BY updated_ms DESC, id DESC LIMIT 10");
	int r;

	if (o->json)
		open_(o, "last_errors", '[');
	else
		strbuf_addstr(&o->sb, "last errors:\n");
	while ((r = db_step(db, st, err)) == 1) {
		const char *state = (const char *)sqlite3_column_text(st, 2);
		const char *msg = (const char *)sqlite3_column_text(st, 4);

		if (o->json) {
			open_(o, NULL, '{');
			json_int(o, "job", sqlite3_column_int64(st, 0));
			json_int(o, "series", sqlite3_column_int64(st, 1));
			json_str(o, "state", state);
			json_int(o, "attempts", sqlite3_column_int64(st, 3));
			json_str(o, "error", msg);
			json_int(o, "at_ms", sqlite3_column_int64(st, 5));
			close_(o, '}');
		} else {
			strbuf_addf(&o->sb, "  job %lld series %lld %s after %d attempts: %s\n",
				    (long long)sqlite3_column_int64(st, 0),
				    (long long)sqlite3_column_int64(st, 1),
				    state, sqlite3_column_int(st, 3), msg);
		}
	}
	db_done(st);
	if (o->json)
		close_(o, ']');
	return r;
}

static int cursors(struct out *o, struct db *db, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT key, cursor, updated_ms FROM source_cursor"
		    " ORDER BY key");
	int r;

	if (o->json)
		open_(o, "cursors", '[');
	else
		strbuf_addstr(&o->sb, "source cursors:\n");
	while ((r = db_step(db, st, err)) == 1) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		const char *cur = (const char *)sqlite3_column_text(st, 1);

		if (o->json) {
			open_(o, NULL, '{');
			json_str(o, "source", key);
			json_str(o, "cursor", cur);
			json_int(o, "updated_ms", sqlite3_column_int64(st, 2));
			close_(o, '}');
		} else {
			strbuf_addf(&o->sb, "  %s: %s\n", key, cur);
		}
	}
	db_done(st);
	if (o->json)
		close_(o, ']');
	return r;
}

/* The daemon's last bug re-verification pass (bugpass.h). */
static int reverify(struct out *o, struct db *db, int64_t now,
		    struct strbuf *err)
{
	struct bugpass_record rec = { 0 };
	int r = bugpass_record_last(&rec, db, err);

	if (r < 0)
		return r;
	if (o->json) {
		if (!r) {
			json_key(o, "reverify");
			strbuf_addstr(&o->sb, "null");
			goto out;
		}
		open_(o, "reverify", '{');
		json_int(o, "pass", rec.id);
		json_str(o, "cause", rec.cause);
		json_int(o, "started_ms", rec.started_ms);
		json_key(o, "finished_ms");
		if (rec.finished_ms)
			strbuf_addf(&o->sb, "%" PRId64, rec.finished_ms);
		else
			strbuf_addstr(&o->sb, "null");
		json_str(o, "commit", rec.commit);
		json_int(o, "bugs", (int64_t)rec.bugs);
		json_int(o, "asked", (int64_t)rec.asked);
		json_int(o, "cached", (int64_t)rec.cached);
		json_int(o, "still", (int64_t)rec.still);
		json_int(o, "obsolete", (int64_t)rec.obsolete);
		json_int(o, "stale", (int64_t)rec.stale);
		json_int(o, "fixed", (int64_t)rec.fixed);
		json_int(o, "deferred", (int64_t)rec.deferred);
		json_int(o, "errors", (int64_t)rec.errors);
		json_int(o, "tokens", (int64_t)rec.tokens);
		json_key(o, "cost_usd");
		strbuf_addf(&o->sb, "%.6f", rec.cost);
		close_(o, '}');
		goto out;
	}
	strbuf_addstr(&o->sb, "bug re-verification: ");
	if (!r) {
		strbuf_addstr(&o->sb, "no pass yet\n");
		goto out;
	}
	strbuf_addf(&o->sb, "last pass %" PRId64 " (%s) started %" PRId64
			    " min ago",
		    rec.id, rec.cause, (now - rec.started_ms) / 60000);
	if (!rec.finished_ms) {
		strbuf_addstr(&o->sb, ", did not finish\n");
		goto out;
	}
	strbuf_addf(&o->sb, ", at %.12s: %zu bugs, %zu asked the verifier, "
			    "%zu from the cache, %zu still present, %zu "
			    "obsolete, %zu stale, %zu fixed, %zu left for "
			    "later, %zu errors; %" PRIu64 " tokens, $%.4f\n",
		    rec.commit ? rec.commit : "?", rec.bugs, rec.asked,
		    rec.cached, rec.still, rec.obsolete, rec.stale, rec.fixed,
		    rec.deferred, rec.errors, rec.tokens, rec.cost);
out:
	bugpass_record_release(&rec);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *db_path = NULL;
	struct kreview_config *cfg = NULL;
	struct out o = { .sb = STRBUF_INIT, .first = true };
	struct strbuf err = STRBUF_INIT;
	struct db *db = NULL;
	int64_t now = daemon_now_ms();
	int c, ret = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 'j': o.json = true; break;
		default:
			cmd_print_usage(cmd_find("status"), stderr);
			goto out;
		}
	}
	if (optind < argc) {
		cmd_print_usage(cmd_find("status"), stderr);
		goto out;
	}
	ret = 1;
	if (config_load(&cfg, config_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	if (db_open(&db, db_path ? db_path : cfg->database, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (o.json) {
		open_(&o, NULL, '{');
		json_int(&o, "version", 1);
	}
	if (queue_states(&o, db, &err) < 0 || running(&o, db, now, &err) < 0 ||
	    usage(&o, db, now, &err) < 0 || errors(&o, db, &err) < 0 ||
	    cursors(&o, db, &err) < 0 || reverify(&o, db, now, &err) < 0) {
		fprintf(stderr, "kreview: cannot read the status: %s\n",
			err.buf);
		goto out;
	}
	if (o.json) {
		close_(&o, '}');
		strbuf_addch(&o.sb, '\n');
	}
	fputs(o.sb.buf, stdout);
	ret = 0;
out:
	db_close(db);
	config_free(cfg);
	strbuf_release(&o.sb);
	strbuf_release(&err);
	return ret;
}
