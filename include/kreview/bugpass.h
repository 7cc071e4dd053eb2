/*
 * bugpass.h - a re-verification pass over the bug databases
 * (reference/bug-db.md §7): the driver that 'kreview bugs reverify'
 * and the daemon's periodic pass share, on top of bugverify.h.
 *
 * The work list holds every open, confirmed and fix-pending bug of a
 * set of databases (bugpass_list_all()), or the bugs named
 * (bugpass_list_add()).  bugpass_list_sort() puts it in pass order, so
 * that a budget spends itself where it matters:
 *   1. bugs with a pending poke (bugdb_poked()), which are also asked
 *      fresh, past the answer cache: someone asked for a new look;
 *   2. the other stale bugs (the verifier was unsure, or the code
 *      changed and nobody has looked yet);
 *   3. the least recently verified: by the last re-verification, or
 *      for a bug never re-verified by when it was recorded;
 * ties by id.
 *
 * bugpass_run() takes each bug in that order, reading its record again
 * first (a poke or a triage made while the pass runs counts; a bug no
 * longer open, confirmed or fix-pending is passed over), then:
 *   - its file or its function is gone at the commit: obsolete;
 *   - it is not stale and its code is the same as at the commit it was
 *     last verified (or recorded) at - without such a commit, the
 *     first line of its evidence is still in the code: verified at the
 *     commit, without a request;
 *   - else the verifier is asked (bugverify_run()) and the verdict
 *     recorded (bugdb_record_verdict()), unless the pass's budget of
 *     questions is spent, the caller's 'spent' hook said stop, the
 *     endpoint failed on an earlier bug, or 'stop' is set: then the bug
 *     is left as it was, for the next pass.
 * A dry run changes and sends nothing and says what it would do.
 *
 * Every outcome is one line (without a newline) handed to the caller's
 * 'say' callback; 'problem' lines are errors and notes about the pass,
 * the others the per-bug results.
 *
 * The pass record (the daemon's): one row per pass in the main
 * database's reverify_pass table (db/0007), its start written before
 * the pass runs so that a daemon restarted in the middle of a pass
 * does not start the next one at once.
 *
 * Library-like: nothing here logs.
 */
#ifndef KREVIEW_BUGPASS_H
#define KREVIEW_BUGPASS_H

#include "kreview/bugdb.h"
#include "kreview/bugverify.h"
#include "kreview/common.h"

#include <stdatomic.h>

struct db;
struct strbuf;
struct git_repository;
struct git_oid;

/* ---- the work list ---- */

struct bugpass_item {
	struct bugdb *db;	/* borrowed from the set */
	struct bugdb_bug bug;	/* as listed (the pass reads it again) */
	bool poked;		/* a poke is pending */
};

struct bugpass_list {
	struct bugpass_item *v;
	size_t nr, alloc;
};

#define BUGPASS_LIST_INIT { 0 }

void bugpass_list_release(struct bugpass_list *l);

/*
 * Append every open, confirmed and fix-pending bug of 'set' to 'out'.
 * 0, or -EIO with the reason in 'err'.
 */
int bugpass_list_all(struct bugpass_list *out, const struct bugdb_set *set,
		     struct strbuf *err);

/*
 * Append bug 'id' (any case; once only, a repeat is ignored).
 * -ENOENT when no database of 'set' holds it ('err' untouched);
 * -EINVAL, with the reason in 'err', when it is not open, confirmed or
 * fix-pending; -EIO on a database error.
 */
int bugpass_list_add(struct bugpass_list *out, const struct bugdb_set *set,
		     const char *id, struct strbuf *err);

/* Put 'l' in pass order (above). */
void bugpass_list_sort(struct bugpass_list *l);

/* ---- the pass ---- */

/* A line about the pass; 'problem' for errors and notes. */
typedef void bugpass_say_fn(void *ctx, bool problem, const char *line);

/*
 * Set up the verifier, called once, when the first bug needs it: 0
 * with '*out' pointing to options that live until the pass ends (for
 * a dry run only 'prompt' and 'endpoint' are used), or negative when
 * there is no verifier (the callback says why); the bugs that need it
 * are then errors, left as they were.
 */
typedef int bugpass_verifier_fn(const struct bugverify_opts **out, void *ctx);

/*
 * Called after each question put to the verifier (not for a dry run),
 * answered or not, with what it cost ('res->cached' when the cache
 * answered): NULL to go on, or why no more questions are asked in this
 * pass (a static string: "the daily token budget is spent").
 */
typedef const char *bugpass_spent_fn(void *ctx,
				     const struct bugverify_result *res);

struct bugpass_opts {
	struct git_repository *repo;
	const struct git_oid *commit;	/* to re-verify at */
	bool dry_run;
	/* Questions sent (not those the cache answers); 0: no limit. */
	size_t max_asks;
	/* Who makes a bug obsolete, for its event; NULL: "kreview". */
	const char *actor;
	bugpass_verifier_fn *verifier;
	bugpass_spent_fn *spent;	/* may be NULL */
	bugpass_say_fn *say;		/* may be NULL */
	void *ctx;			/* for the three callbacks */
	/* Set by another thread: look at no further bug.  May be NULL. */
	const atomic_bool *stop;
};

struct bugpass_counts {
	size_t bugs;		/* bugs looked at */
	size_t still;		/* still present: unchanged, or the verifier */
	size_t unchanged;	/* ... of which without a request */
	size_t obsolete, stale, fixed;
	size_t errors;		/* bugs that could not be checked */
	size_t asked;		/* questions sent (dry run: to send) */
	size_t cached;		/* questions the answer cache answered */
	size_t deferred;	/* left for a later pass: budget, stop */
	uint64_t would_tokens;	/* dry run: estimated input tokens */
	struct llm_usage usage;
	double cost;
	bool broken;		/* the endpoint failed: no more questions */
	bool stopped;		/* 'stop' ended the pass early */
	char commit[41];	/* where, in hex */
};

/*
 * Run the pass over 'l' (in its order) with 'o'.  The outcome of
 * every bug is in 'out' (zeroed first) and in a line to 'o->say';
 * per-bug failures are counted there ('errors'), so the pass itself
 * cannot fail.
 */
void bugpass_run(struct bugpass_counts *out, const struct bugpass_list *l,
		 const struct bugpass_opts *o);

/*
 * The one-line summary of a pass: "at abcdef123456: 3 still present,
 * ..." or, for a dry run, "dry run at abcdef123456: ...".
 */
void bugpass_summary(struct strbuf *out, const struct bugpass_counts *c,
		     bool dry_run);

/* ---- the daemon's record of passes ---- */

struct bugpass_record {
	int64_t id;
	int64_t started_ms, finished_ms;	/* finished 0: never ended */
	char *commit;		/* or NULL */
	char *cause;		/* "interval" or "poke" */
	size_t bugs, asked, cached, still, obsolete, stale, fixed;
	size_t deferred, errors;
	uint64_t tokens;
	double cost;
};

void bugpass_record_release(struct bugpass_record *r);

/*
 * A pass starts at 'now_ms' because of 'cause': its row, whose id
 * goes to '*id_out'.  0 or -EIO.
 */
int bugpass_record_start(int64_t *id_out, struct db *db, int64_t now_ms,
			 const char *cause, struct strbuf *err);
/* Pass 'id' ended at 'now_ms' with 'c'.  0 or -EIO. */
int bugpass_record_finish(struct db *db, int64_t id, int64_t now_ms,
			  const struct bugpass_counts *c, struct strbuf *err);
/* The newest pass: 1 and 'out' (released first), 0 if none, -EIO. */
int bugpass_record_last(struct bugpass_record *out, struct db *db,
			struct strbuf *err);

#endif
