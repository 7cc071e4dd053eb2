/*
 * queue.h - the daemon's review jobs and daily usage in the main
 * database (tables job, message_list and usage_day of db/0004).
 *
 * One job per series revision, ever (series_id is UNIQUE): whatever
 * happens, a revision is reviewed at most once.  A job is
 *
 *   queued --lease--> running --finish--> done
 *                        |  \--fail--> queued (backoff) | failed
 *                        \--release / lease expiry--> queued
 *   queued --a newer revision is queued--> superseded
 *   queued --the series vanished or has nothing to review--> skipped
 *
 * A lease names its owner and expires; an expired lease puts the job
 * back (the attempt counts).  A release after an interruption (SIGTERM
 * deadline, a restart after a crash) does not count the attempt.  A
 * review is stored and its job marked done in one transaction
 * (queue_finish() inside the caller's transaction), and the finish only
 * succeeds while the caller still holds the lease, so a released job
 * whose review completes anyway stores nothing.
 *
 * Which revisions become jobs (queue_scan()): complete ones, and
 * incomplete ones marked stalled (the parts present are reviewed);
 * never revisions whose patches are bot mail or deleted.  When a
 * revision is queued, the queued jobs of its older revisions
 * (prev_version chain) are superseded; an old revision found after a
 * newer one already has a job is recorded as superseded at once.
 *
 * Priorities: lower first, then oldest job first.  A revision's
 * priority and list are those of its messages in message_list (the
 * lowest priority; the list of the first patch), written at
 * ingestion; unknown messages get QUEUE_DEFAULT_PRIORITY and list "".
 *
 * Budgets are the caller's policy: queue_lease() asks a callback
 * whether a job may start (list/endpoint budget and concurrency); a
 * job that may not start stays queued, nothing is dropped.
 *
 * All times are milliseconds given by the caller (injectable clock);
 * days are UTC.  Functions that write open their own transaction
 * unless they say "inside a transaction".
 */
#ifndef KREVIEW_QUEUE_H
#define KREVIEW_QUEUE_H

#include "kreview/common.h"

struct db;
struct strbuf;

#define QUEUE_DEFAULT_PRIORITY 50

enum queue_state {
	QUEUE_QUEUED,
	QUEUE_RUNNING,
	QUEUE_DONE,
	QUEUE_FAILED,
	QUEUE_SUPERSEDED,
	QUEUE_SKIPPED,
	QUEUE_STATE_MAX
};

/* "queued", "running", ...; parse returns -EINVAL when unknown. */
const char *queue_state_name(enum queue_state s);
int queue_state_parse(enum queue_state *out, const char *name);

struct queue_job {
	int64_t id;
	int64_t series_id;
	char *list;		/* "" when unknown */
	char *endpoint;
	int priority;
	int attempts;		/* including the current one when running */
	int64_t lease_expires_ms;
};

#define QUEUE_JOB_INIT { 0 }
void queue_job_release(struct queue_job *j);

/* ---- ingestion ------------------------------------------------------- */

/*
 * Inside a transaction: remember that 'msgid' was read from 'list'
 * with 'priority'.  The first source that delivered a message wins.
 */
int queue_note_message(struct db *db, const char *msgid, const char *list,
		       int priority, struct strbuf *err);

/* ---- queueing -------------------------------------------------------- */

/*
 * Turn eligible revisions without a job into queued jobs for
 * 'endpoint' (supersession as above).  '*queued_out' (may be NULL)
 * counts the new queued jobs.
 */
int queue_scan(size_t *queued_out, struct db *db, const char *endpoint,
	       int64_t now_ms, struct strbuf *err);

/*
 * Callback deciding whether 'j' may start now: true to lease it.  It
 * may set '*wait_until_ms' to when it will be allowed (e.g. the next
 * UTC day for a budget), which queue_lease() reports back.
 */
typedef bool (*queue_admit_fn)(void *ctx, const struct queue_job *j,
			       int64_t *wait_until_ms);

/*
 * Lease the first admitted queued job whose next try is due: it turns
 * running under 'owner' until now + 'lease_ms' and its attempt count
 * grows by one.  Returns 1 with '*out' filled (QUEUE_JOB_INIT or
 * released), 0 when nothing may start; then '*next_ms_out' (may be
 * NULL) is the earliest time something might (a due retry or an
 * admit callback's wait), INT64_MAX if unknown.  'admit' NULL admits
 * everything.
 */
int queue_lease(struct queue_job *out, int64_t *next_ms_out, struct db *db,
		const char *owner, int64_t now_ms, int64_t lease_ms,
		queue_admit_fn admit, void *admit_ctx, struct strbuf *err);

/* Extend the lease of running job 'id' held by 'owner'; -ESTALE if lost. */
int queue_renew(struct db *db, int64_t id, const char *owner,
		int64_t now_ms, int64_t lease_ms, struct strbuf *err);

/*
 * Inside a transaction: mark running job 'id' of 'owner' done with
 * 'review_id'.  -ESTALE when the lease was lost (the caller rolls its
 * transaction back so the review is not stored twice).
 */
int queue_finish(struct db *db, int64_t id, const char *owner,
		 int64_t review_id, int64_t now_ms, struct strbuf *err);

/*
 * Record a failed attempt of job 'id' (held by 'owner'): queued again
 * after backoff_ms * 2^(attempts-1) (capped at a day), or failed once
 * 'max_attempts' are used.  'why' is kept as last_error.
 */
int queue_fail(struct db *db, int64_t id, const char *owner, const char *why,
	       int max_attempts, int64_t backoff_ms, int64_t now_ms,
	       struct strbuf *err);

/*
 * Give running job 'id' back without counting the attempt
 * (interrupted); 'owner' NULL matches any owner.
 */
int queue_release(struct db *db, int64_t id, const char *owner,
		  int64_t now_ms, struct strbuf *err);

/* Mark queued or running job 'id' skipped with a reason. */
int queue_skip(struct db *db, int64_t id, const char *why, int64_t now_ms,
	       struct strbuf *err);

/*
 * Put every running job back: those whose lease expired before
 * 'now_ms' count the attempt (failed after 'max_attempts'); with
 * 'all' (the daemon starts holding the lock, so no lease is alive)
 * every running job is released without counting.  '*n_out' (may be
 * NULL) counts them.
 */
int queue_expire(size_t *n_out, struct db *db, int64_t now_ms, bool all,
		 int max_attempts, struct strbuf *err);

/* Jobs in 'state', or of one endpoint in state running when 'ep'. */
int queue_count(size_t *out, struct db *db, enum queue_state state,
		const char *endpoint, struct strbuf *err);

/* ---- usage and budgets ----------------------------------------------- */

/* "YYYY-MM-DD" (UTC) of 'ms' into 'out' (11 bytes). */
void queue_day(char out[11], int64_t ms);
/* Start of the UTC day after the one holding 'ms'. */
int64_t queue_next_day_ms(int64_t ms);

/* Inside a transaction: add one review's usage to its day's row. */
int queue_usage_add(struct db *db, int64_t now_ms, const char *list,
		    const char *endpoint, uint64_t tokens, double cost,
		    struct strbuf *err);

/* Tokens and cost spent on 'list' (NULL: all lists) on the day of now. */
int queue_usage_today(uint64_t *tokens_out, double *cost_out, struct db *db,
		      const char *list, int64_t now_ms, struct strbuf *err);

#endif
