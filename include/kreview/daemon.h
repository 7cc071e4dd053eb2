/*
 * daemon.h - what 'kreview daemon' is made of besides the queue: its
 * configuration section, the service manager protocol, the instance
 * lock and the clock.
 *
 * The daemon itself (daemon/cmd/cmd_daemon.c) is one event loop on one
 * thread: poll() on a signalfd (SIGTERM, SIGINT, SIGHUP) and a pipe on
 * which review workers post their completion, with timers for source
 * polls, lease renewal and the drain deadline.  Ingestion and series
 * assembly run on the loop thread (local sources are quick); each
 * review runs on a worker thread with its own database connection and
 * its own LLM engine (review_run() drives curl_multi_poll() through
 * llm_engine_run_once() until the review is done), because a review is
 * minutes of blocking work that must not hold the loop.  Outbox
 * delivery and the periodic bug re-verification pass (bugpass.h) run on
 * one thread each in the same way; the pass stops between two bugs when
 * the loop sets its stop flag (SIGTERM).  Workers share nothing but the
 * immutable configuration they started with.
 *
 * Invariants: the lock is held for the whole life of a daemon, so at
 * start-up every running job is an orphan of a dead daemon and goes
 * back to the queue; a review and its job's completion commit
 * together (queue.h), so no review is stored twice.
 */
#ifndef KREVIEW_DAEMON_H
#define KREVIEW_DAEMON_H

#include "kreview/common.h"
#include "kreview/config.h"

struct strbuf;
struct yamlnode;

/* ---- the 'daemon:' configuration section ---------------------------- */

enum daemon_source_kind {
	DAEMON_SRC_MBOX,
	DAEMON_SRC_MAILDIR,
	DAEMON_SRC_INBOX,	/* "public-inbox": one epoch */
	DAEMON_SRC_NOTMUCH,
	DAEMON_SRC_MAX
};

/* "mbox", "maildir", "public-inbox", "notmuch", NULL. */
extern const char *const daemon_source_kind_names[];

struct daemon_source {
	int kind;		/* enum daemon_source_kind */
	char *path;		/* required */
	char *query;		/* notmuch: required */
	char *list;		/* required: budgets and status group by it */
	/* Lower first; local submissions use a lower number than lists. */
	int priority;
	int64_t poll_interval_ms;	/* 0: the section's poll_interval */
	/* Tag reviewed messages (notmuch only). */
	bool tag;
	/* Per UTC day for this list; 0: the section's default. */
	int64_t tokens_per_day;
	double cost_per_day;
};

struct daemon_config {
	int64_t poll_interval_ms;
	int concurrency;		/* reviews at once, global */
	/* endpoint name -> reviews at once on it (decimal). */
	struct config_strmap endpoint_concurrency;
	int64_t lease_ms;
	int max_attempts;
	int64_t retry_backoff_ms;
	int64_t drain_timeout_ms;
	char *tree;			/* git tree for context, or NULL */
	char *lock_file;		/* NULL: <state_dir>/daemon.lock */
	int64_t tokens_per_day;		/* per list; 0: unlimited */
	double cost_per_day;		/* USD per list; 0: unlimited */
	struct config_seq sources;	/* struct daemon_source */
};

/* CONFIG_CUSTOM callbacks; 'field' is a struct daemon_config ** that
 * is always allocated (defaults when the key is absent). */
int daemon_config_parse(void *field, const struct yamlnode *node,
			struct strbuf *err);
void daemon_config_release(void *field);
extern const struct config_field daemon_config_fields[];
extern const struct config_field daemon_source_fields[];

/* The source of 'list' (first in config order), or NULL.  Borrowed. */
const struct daemon_source *daemon_config_list(const struct daemon_config *dc,
					       const char *list);

/* Reviews at once on 'endpoint': its endpoint_concurrency, else the
 * global concurrency. */
int daemon_config_endpoint_limit(const struct daemon_config *dc,
				 const char *endpoint);

/* ---- service manager notification (sd_notify) ----------------------- */

/*
 * Send 'state' ("READY=1", "STATUS=...", "STOPPING=1", "RELOADING=1\n
 * MONOTONIC_USEC=...") to $NOTIFY_SOCKET as one datagram; a leading
 * '@' is an abstract socket.  Does nothing and returns 0 when the
 * variable is unset; else 0 or a negative errno.
 */
int daemon_notify(const char *state);
KR_PRINTF(1, 2) int daemon_notifyf(const char *fmt, ...);

/* ---- the instance lock ---------------------------------------------- */

/*
 * flock() 'path' (created 0600 with its directory) exclusively without
 * waiting.  '*fd_out' stays open for the daemon's life.  -EWOULDBLOCK
 * with the holder's pid in 'err' when another daemon holds it.
 */
int daemon_lock(int *fd_out, const char *path, struct strbuf *err);

/* ---- the clock ------------------------------------------------------ */

/*
 * Wall-clock milliseconds for the queue, budgets and stall detection.
 * The one place where $KREVIEW_TEST_NOW_MS is read: when set, time
 * starts at that value when first asked and advances with the
 * monotonic clock, so tests choose the day without stopping time.
 */
int64_t daemon_now_ms(void);

#endif
