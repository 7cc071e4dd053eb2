/* The daemon's job queue; see queue.h for the state machine. */
#include "kreview/queue.h"
#include "kreview/body.h"
#include "kreview/db.h"
#include "kreview/msg.h"
#include "kreview/store_series.h"
#include "kreview/strbuf.h"

#include <time.h>

#define DAY_MS (24 * 3600 * 1000LL)

static const char *const state_names[QUEUE_STATE_MAX] = {
	"queued", "running", "done", "failed", "superseded", "skipped",
};

const char *queue_state_name(enum queue_state s)
{
	return s < QUEUE_STATE_MAX ? state_names[s] : "?";
}

int queue_state_parse(enum queue_state *out, const char *name)
{
	int i = name_index(state_names, QUEUE_STATE_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum queue_state)i;
	return 0;
}

void queue_job_release(struct queue_job *j)
{
	if (!j)
		return;
	free(j->list);
	free(j->endpoint);
	memset(j, 0, sizeof(*j));
}

int queue_note_message(struct db *db, const char *msgid, const char *list,
		       int priority, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT OR IGNORE INTO message_list(msgid, list, priority)"
		    " VALUES (?, ?, ?)");
	int r;

	db_bind_text(st, 1, msgid);
	db_bind_text(st, 2, list ? list : "");
	db_bind_int64(st, 3, priority);
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

/* ---- queueing ---------------------------------------------------------- */

struct candidate {
	int64_t id;
};

/* Revisions to consider, oldest first so that newer ones supersede. */
static int candidates(int64_t **out, size_t *nr, struct db *db,
		      struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db,
		"SELECT s.id FROM series s"
		" WHERE (s.complete = 1 OR s.stalled = 1)"
		" AND NOT EXISTS (SELECT 1 FROM job j WHERE j.series_id = s.id)"
		" ORDER BY s.id");
	size_t alloc = 0;
	int r;

	*out = NULL;
	*nr = 0;
	while ((r = db_step(db, st, err)) == 1) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[(*nr)++] = sqlite3_column_int64(st, 0);
	}
	db_done(st);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*nr = 0;
	}
	return r;
}

/* Patches present, and whether any of them is bot mail or deleted. */
static int series_content(int *present, bool *bad, struct db *db,
			  int64_t series, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT count(m.id), coalesce(max(m.is_bot OR m.deleted), 0)"
		    " FROM series_patch p JOIN message m ON m.msgid = p.msgid"
		    " WHERE p.series_id = ?");
	int r;

	db_bind_int64(st, 1, series);
	r = db_step(db, st, err);
	if (r == 1) {
		*present = sqlite3_column_int(st, 0);
		*bad = sqlite3_column_int(st, 1) != 0;
		r = 0;
	} else if (r == 0) {
		*present = 0;
		*bad = false;
	}
	db_done(st);
	return r;
}

/* List and priority of a revision from the messages it holds. */
static int series_origin(char **list, int *priority, struct db *db,
			 int64_t series, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT l.list, l.priority FROM series_patch p"
		    " JOIN message_list l ON l.msgid = p.msgid"
		    " WHERE p.series_id = ?1"
		    " UNION ALL SELECT l.list, l.priority FROM series s"
		    " JOIN message_list l ON l.msgid = s.cover_msgid"
		    " WHERE s.id = ?1");
	int r;

	*list = NULL;
	*priority = QUEUE_DEFAULT_PRIORITY;
	db_bind_int64(st, 1, series);
	while ((r = db_step(db, st, err)) == 1) {
		int p = sqlite3_column_int(st, 1);

		if (!*list)
			*list = db_column_strdup(st, 0);
		if (p < *priority)
			*priority = p;
	}
	db_done(st);
	if (!*list)
		*list = xstrdup("");
	return r;
}

/* True when a newer revision (prev_version chain) already has a job. */
static int has_newer_job(bool *out, struct db *db, int64_t series,
			 struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "WITH RECURSIVE newer(id) AS ("
		    " SELECT id FROM series WHERE prev_version = ?1"
		    " UNION SELECT s.id FROM series s JOIN newer n"
		    " ON s.prev_version = n.id)"
		    " SELECT EXISTS (SELECT 1 FROM job"
		    " WHERE series_id IN (SELECT id FROM newer))");
	int r;

	db_bind_int64(st, 1, series);
	r = db_step(db, st, err);
	if (r == 1) {
		*out = sqlite3_column_int(st, 0) != 0;
		r = 0;
	}
	db_done(st);
	return r;
}

static int supersede_older(struct db *db, int64_t series, int64_t now_ms,
			   struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "WITH RECURSIVE older(id) AS ("
		    " SELECT prev_version FROM series WHERE id = ?1"
		    " AND prev_version IS NOT NULL"
		    " UNION SELECT s.prev_version FROM series s JOIN older o"
		    " ON s.id = o.id WHERE s.prev_version IS NOT NULL)"
		    " UPDATE job SET state = 'superseded', updated_ms = ?2,"
		    " last_error = 'a newer revision is queued'"
		    " WHERE state = 'queued'"
		    " AND series_id IN (SELECT id FROM older)");
	int r;

	db_bind_int64(st, 1, series);
	db_bind_int64(st, 2, now_ms);
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

/*
 * The patch ids (body_patch_id()) of a revision's patches in slot
 * order, into 'ids' (total * 41 bytes).  0 when some slot holds no
 * stored patch with a diff: such a revision is never "identical".
 */
static int patch_ids(char **ids, int *total, struct db *db, int64_t series,
		     struct strbuf *err)
{
	struct store_series s = STORE_SERIES_INIT;
	int r = store_series_load(&s, db, series, err);

	*ids = NULL;
	*total = 0;
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	*ids = xcalloc((size_t)s.total + 1, 41);
	r = 1;
	for (int i = 0; i < s.total && r == 1; i++) {
		struct msg m = MSG_INIT;
		struct body b = BODY_INIT;

		msg_init(&m);
		body_init(&b);
		if (!s.patches[i].raw ||
		    msg_parse(&m, s.patches[i].raw, s.patches[i].len, NULL) < 0 ||
		    body_split(&b, m.body, m.body_len, NULL) < 0 || !b.diff)
			r = 0;
		else
			body_patch_id(*ids + 41 * i, b.diff, strlen(b.diff));
		body_release(&b);
		msg_release(&m);
	}
	*total = s.total;
	store_series_release(&s);
	return r;
}

/*
 * An earlier revision (the prev_version chain) whose review is done and
 * whose patches are identical to this revision's, in the same order: a
 * RESEND, or a new version that changed nothing but its subject or
 * commit messages, needs no second review.  *out is its id, or 0.
 */
static int identical_reviewed(int64_t *out, struct db *db, int64_t series,
			      struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "WITH RECURSIVE older(id, depth) AS ("
		    " SELECT prev_version, 1 FROM series WHERE id = ?1"
		    " AND prev_version IS NOT NULL"
		    " UNION SELECT s.prev_version, o.depth + 1 FROM series s"
		    " JOIN older o ON s.id = o.id"
		    " WHERE s.prev_version IS NOT NULL AND o.depth < 64)"
		    " SELECT o.id FROM older o JOIN job j ON j.series_id = o.id"
		    " WHERE j.state = 'done' ORDER BY o.depth LIMIT 1");
	char *mine = NULL, *theirs = NULL;
	int64_t other = 0;
	int n_mine = 0, n_theirs = 0, r;

	*out = 0;
	db_bind_int64(st, 1, series);
	r = db_step(db, st, err);
	if (r == 1)
		other = sqlite3_column_int64(st, 0);
	db_done(st);
	if (r <= 0)
		return r;
	r = patch_ids(&mine, &n_mine, db, series, err);
	if (r == 1)
		r = patch_ids(&theirs, &n_theirs, db, other, err);
	if (r == 1 && n_mine == n_theirs && n_mine > 0 &&
	    !memcmp(mine, theirs, (size_t)n_mine * 41))
		*out = other;
	free(mine);
	free(theirs);
	return r < 0 ? r : 0;
}

static int insert_job(struct db *db, int64_t series, const char *list,
		      const char *endpoint, int priority, const char *state,
		      const char *why, int64_t now_ms, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT INTO job(series_id, list, endpoint, priority, state,"
		    " next_try_ms, last_error, created_ms, updated_ms)"
		    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	int r;

	db_bind_int64(st, 1, series);
	db_bind_text(st, 2, list);
	db_bind_text(st, 3, endpoint ? endpoint : "");
	db_bind_int64(st, 4, priority);
	db_bind_text(st, 5, state);
	db_bind_int64(st, 6, now_ms);
	db_bind_text(st, 7, why);
	db_bind_int64(st, 8, now_ms);
	db_bind_int64(st, 9, now_ms);
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

int queue_scan(size_t *queued_out, struct db *db, const char *endpoint,
	       int64_t now_ms, struct strbuf *err)
{
	int64_t *ids = NULL;
	size_t nr = 0, queued = 0;
	int r;

	r = db_begin(db, err);
	if (r < 0)
		return r;
	r = candidates(&ids, &nr, db, err);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < nr; i++) {
		char *list = NULL;
		int present = 0, priority = 0;
		bool bad = false, newer = false;
		int64_t same = 0;

		r = series_content(&present, &bad, db, ids[i], err);
		if (r < 0)
			goto fail;
		r = has_newer_job(&newer, db, ids[i], err);
		if (r < 0)
			goto fail;
		r = series_origin(&list, &priority, db, ids[i], err);
		if (r == 0 && !bad && present && !newer)
			r = identical_reviewed(&same, db, ids[i], err);
		if (r < 0) {
			free(list);
			goto fail;
		}
		if (bad || !present)
			r = insert_job(db, ids[i], list, endpoint, priority,
				       "skipped",
				       bad ? "bot mail or deleted messages" :
					     "no patch to review",
				       now_ms, err);
		else if (newer)
			r = insert_job(db, ids[i], list, endpoint, priority,
				       "superseded",
				       "a newer revision was queued first",
				       now_ms, err);
		else if (same) {
			char why[96];

			snprintf(why, sizeof(why),
				 "the same patches as series %" PRId64
				 ", reviewed already", same);
			r = insert_job(db, ids[i], list, endpoint, priority,
				       "skipped", why, now_ms, err);
		}
		else {
			r = supersede_older(db, ids[i], now_ms, err);
			if (r == 0)
				r = insert_job(db, ids[i], list, endpoint,
					       priority, "queued", NULL, now_ms,
					       err);
			if (r == 0)
				queued++;
		}
		free(list);
		if (r < 0)
			goto fail;
	}
	r = db_commit(db, err);
	if (r < 0)
		goto fail;
	free(ids);
	if (queued_out)
		*queued_out = queued;
	return 0;
fail:
	free(ids);
	db_rollback(db);
	return r;
}

int queue_lease(struct queue_job *out, int64_t *next_ms_out, struct db *db,
		const char *owner, int64_t now_ms, int64_t lease_ms,
		queue_admit_fn admit, void *admit_ctx, struct strbuf *err)
{
	struct queue_job j = QUEUE_JOB_INIT;
	int64_t next = INT64_MAX;
	sqlite3_stmt *st;
	bool found = false;
	int r;

	r = db_begin(db, err);
	if (r < 0)
		return r;
	st = db_prepare(db,
			"SELECT id, series_id, list, endpoint, priority, attempts,"
			" next_try_ms FROM job WHERE state = 'queued'"
			" ORDER BY priority, id");
	while ((r = db_step(db, st, err)) == 1) {
		int64_t due = sqlite3_column_int64(st, 6), wait = INT64_MAX;

		if (due > now_ms) {
			if (due < next)
				next = due;
			continue;
		}
		queue_job_release(&j);
		j.id = sqlite3_column_int64(st, 0);
		j.series_id = sqlite3_column_int64(st, 1);
		j.list = db_column_strdup(st, 2);
		j.endpoint = db_column_strdup(st, 3);
		j.priority = sqlite3_column_int(st, 4);
		j.attempts = sqlite3_column_int(st, 5) + 1;
		if (!admit || admit(admit_ctx, &j, &wait)) {
			found = true;
			break;
		}
		if (wait < next)
			next = wait;
	}
	db_done(st);
	if (r < 0)
		goto fail;
	if (!found) {
		db_rollback(db);
		queue_job_release(&j);
		if (next_ms_out)
			*next_ms_out = next;
		return 0;
	}
	j.lease_expires_ms = now_ms + lease_ms;
	st = db_prepare(db, "UPDATE job SET state = 'running',"
			    " attempts = attempts + 1, lease_owner = ?,"
			    " lease_expires_ms = ?, updated_ms = ? WHERE id = ?");
	db_bind_text(st, 1, owner);
	db_bind_int64(st, 2, j.lease_expires_ms);
	db_bind_int64(st, 3, now_ms);
	db_bind_int64(st, 4, j.id);
	r = db_step(db, st, err);
	db_done(st);
	if (r < 0)
		goto fail;
	r = db_commit(db, err);
	if (r < 0)
		goto fail;
	queue_job_release(out);
	*out = j;
	return 1;
fail:
	queue_job_release(&j);
	db_rollback(db);
	return r;
}

/* Run a one-statement update; -ESTALE when it touched no row. */
static int update_one(struct db *db, sqlite3_stmt *st, struct strbuf *err)
{
	int r = db_step(db, st, err);

	db_done(st);
	if (r < 0)
		return r;
	if (sqlite3_changes(db_handle(db)) != 1) {
		if (err)
			strbuf_addstr(err, "the job's lease was lost");
		return -ESTALE;
	}
	return 0;
}

int queue_renew(struct db *db, int64_t id, const char *owner,
		int64_t now_ms, int64_t lease_ms, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "UPDATE job SET lease_expires_ms = ?, updated_ms = ?"
		    " WHERE id = ? AND state = 'running' AND lease_owner = ?");

	db_bind_int64(st, 1, now_ms + lease_ms);
	db_bind_int64(st, 2, now_ms);
	db_bind_int64(st, 3, id);
	db_bind_text(st, 4, owner);
	return update_one(db, st, err);
}

int queue_finish(struct db *db, int64_t id, const char *owner,
		 int64_t review_id, int64_t now_ms, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "UPDATE job SET state = 'done', review_id = ?,"
		    " lease_owner = NULL, lease_expires_ms = NULL,"
		    " last_error = NULL, updated_ms = ?"
		    " WHERE id = ? AND state = 'running' AND lease_owner = ?");

	db_bind_int64(st, 1, review_id);
	db_bind_int64(st, 2, now_ms);
	db_bind_int64(st, 3, id);
	db_bind_text(st, 4, owner);
	return update_one(db, st, err);
}

static int64_t backoff(int64_t base_ms, int attempts)
{
	int64_t d = base_ms > 0 ? base_ms : 60000;

	for (int i = 1; i < attempts && d < DAY_MS; i++)
		d *= 2;
	return d < DAY_MS ? d : DAY_MS;
}

int queue_fail(struct db *db, int64_t id, const char *owner, const char *why,
	       int max_attempts, int64_t backoff_ms, int64_t now_ms,
	       struct strbuf *err)
{
	sqlite3_stmt *st;
	int attempts = 0, r;

	r = db_begin(db, err);
	if (r < 0)
		return r;
	st = db_prepare(db, "SELECT attempts FROM job WHERE id = ?"
			    " AND state = 'running' AND lease_owner = ?");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner);
	r = db_step(db, st, err);
	if (r == 1)
		attempts = sqlite3_column_int(st, 0);
	db_done(st);
	if (r == 0) {
		if (err)
			strbuf_addstr(err, "the job's lease was lost");
		r = -ESTALE;
	}
	if (r < 0)
		goto fail;
	st = db_prepare(db, "UPDATE job SET state = ?, next_try_ms = ?,"
			    " lease_owner = NULL, lease_expires_ms = NULL,"
			    " last_error = ?, updated_ms = ? WHERE id = ?");
	db_bind_text(st, 1, attempts >= max_attempts ? "failed" : "queued");
	db_bind_int64(st, 2, now_ms + backoff(backoff_ms, attempts));
	db_bind_text(st, 3, why);
	db_bind_int64(st, 4, now_ms);
	db_bind_int64(st, 5, id);
	r = update_one(db, st, err);
	if (r < 0)
		goto fail;
	return db_commit(db, err);
fail:
	db_rollback(db);
	return r;
}

int queue_release(struct db *db, int64_t id, const char *owner,
		  int64_t now_ms, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "UPDATE job SET state = 'queued', attempts = max(attempts - 1, 0),"
		    " lease_owner = NULL, lease_expires_ms = NULL,"
		    " updated_ms = ?1 WHERE id = ?2 AND state = 'running'"
		    " AND (?3 IS NULL OR lease_owner = ?3)");

	db_bind_int64(st, 1, now_ms);
	db_bind_int64(st, 2, id);
	db_bind_text(st, 3, owner);
	return update_one(db, st, err);
}

int queue_skip(struct db *db, int64_t id, const char *why, int64_t now_ms,
	       struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "UPDATE job SET state = 'skipped', last_error = ?,"
		    " lease_owner = NULL, lease_expires_ms = NULL,"
		    " updated_ms = ? WHERE id = ?"
		    " AND state IN ('queued', 'running')");

	db_bind_text(st, 1, why);
	db_bind_int64(st, 2, now_ms);
	db_bind_int64(st, 3, id);
	return update_one(db, st, err);
}

int queue_expire(size_t *n_out, struct db *db, int64_t now_ms, bool all,
		 int max_attempts, struct strbuf *err)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int r;

	r = db_begin(db, err);
	if (r < 0)
		return r;
	if (all) {
		st = db_prepare(db, "UPDATE job SET state = 'queued',"
				    " attempts = max(attempts - 1, 0),"
				    " lease_owner = NULL, lease_expires_ms = NULL,"
				    " last_error = 'interrupted', updated_ms = ?"
				    " WHERE state = 'running'");
		db_bind_int64(st, 1, now_ms);
	} else {
		st = db_prepare(db, "UPDATE job SET state = CASE WHEN attempts >= ?1"
				    " THEN 'failed' ELSE 'queued' END,"
				    " lease_owner = NULL, lease_expires_ms = NULL,"
				    " last_error = 'lease expired', updated_ms = ?2"
				    " WHERE state = 'running' AND lease_expires_ms < ?2");
		db_bind_int64(st, 1, max_attempts);
		db_bind_int64(st, 2, now_ms);
	}
	r = db_step(db, st, err);
	db_done(st);
	if (r < 0)
		goto fail;
	n = (size_t)sqlite3_changes(db_handle(db));
	r = db_commit(db, err);
	if (r < 0)
		goto fail;
	if (n_out)
		*n_out = n;
	return 0;
fail:
	db_rollback(db);
	return r;
}

int queue_count(size_t *out, struct db *db, enum queue_state state,
		const char *endpoint, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT count(*) FROM job WHERE state = ?1"
		    " AND (?2 IS NULL OR endpoint = ?2)");
	int r;

	db_bind_text(st, 1, queue_state_name(state));
	db_bind_text(st, 2, endpoint);
	r = db_step(db, st, err);
	if (r == 1) {
		*out = (size_t)sqlite3_column_int64(st, 0);
		r = 0;
	}
	db_done(st);
	return r;
}

/* ---- usage ------------------------------------------------------------- */

void queue_day(char out[11], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int64_t queue_next_day_ms(int64_t ms)
{
	int64_t day = ms >= 0 ? ms / DAY_MS : (ms - DAY_MS + 1) / DAY_MS;

	return (day + 1) * DAY_MS;
}

int queue_usage_add(struct db *db, int64_t now_ms, const char *list,
		    const char *endpoint, uint64_t tokens, double cost,
		    struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT INTO usage_day(day, list, endpoint, tokens, cost_usd,"
		    " reviews) VALUES (?1, ?2, ?3, ?4, ?5, 1)"
		    " ON CONFLICT (day, list, endpoint) DO UPDATE SET"
		    " tokens = tokens + ?4, cost_usd = cost_usd + ?5,"
		    " reviews = reviews + 1");
	char day[11];
	int r;

	queue_day(day, now_ms);
	db_bind_text(st, 1, day);
	db_bind_text(st, 2, list ? list : "");
	db_bind_text(st, 3, endpoint ? endpoint : "");
	db_bind_int64(st, 4, tokens > INT64_MAX ? INT64_MAX : (int64_t)tokens);
	sqlite3_bind_double(st, 5, cost);
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

int queue_usage_today(uint64_t *tokens_out, double *cost_out, struct db *db,
		      const char *list, int64_t now_ms, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT coalesce(sum(tokens), 0), coalesce(sum(cost_usd), 0)"
		    " FROM usage_day WHERE day = ?1"
		    " AND (?2 IS NULL OR list = ?2)");
	char day[11];
	int r;

	queue_day(day, now_ms);
	db_bind_text(st, 1, day);
	db_bind_text(st, 2, list);
	r = db_step(db, st, err);
	if (r == 1) {
		int64_t t = sqlite3_column_int64(st, 0);

		*tokens_out = t > 0 ? (uint64_t)t : 0;
		*cost_out = sqlite3_column_double(st, 1);
		r = 0;
	}
	db_done(st);
	return r;
}
