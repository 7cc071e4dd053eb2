/*
 * job.h - one review of a stored series revision, start to end.
 *
 * Loads the revision from the database (a stalled incomplete revision
 * with the parts present, and the notes say which are missing), builds
 * the review input (code context and MAINTAINERS when a tree is given,
 * subsystem rules, prompts), runs the pipeline of review.h on the
 * configured endpoint and stores the review and every finding in one
 * transaction.  A caller hook runs inside that transaction, so that
 * the daemon marks its job done atomically with the stored review (a
 * hook failure rolls the review back).
 *
 * Used by 'kreview review' and by the daemon's workers; it does not
 * log.  The engine is the caller's (one per thread) or made here.
 */
#ifndef KREVIEW_JOB_H
#define KREVIEW_JOB_H

#include "kreview/common.h"
#include "kreview/reply.h"
#include "kreview/review.h"

struct db;
struct kreview_config;
struct llm_engine;
struct strbuf;

/* Runs inside the storing transaction; a negative errno rolls back. */
typedef int (*job_txn_fn)(void *ctx, struct db *db, int64_t review_id,
			  const struct review_result *res, struct strbuf *err);

struct job_opts {
	const char *tree;	/* git repository for context, or NULL */
	const char *base_rev;	/* default: the series' base-commit, HEAD */
	const char *endpoint;	/* default: review.endpoint, else the first */
	bool fresh;		/* ignore cached answers */
	/* Engine with the configured endpoints, or NULL to make one. */
	struct llm_engine *engine;
	job_txn_fn in_txn;	/* or NULL */
	void *in_txn_ctx;
	/* Lines about degraded input ("reviewing the diff alone"). */
	void (*note)(void *ctx, const char *line);
	void *note_ctx;
};

#define JOB_OPTS_INIT { 0 }

/* Who MAINTAINERS says cares about one patch (with a tree only). */
struct job_people {
	char **people;		/* M:/R: as "Name <addr>" */
	size_t people_nr;
	char **lists;		/* L: addresses */
	size_t lists_nr;
};

struct job_result {
	struct review_series s;
	struct review_result res;
	/* Per patch, 's.nr' of them; NULL without a tree's MAINTAINERS. */
	struct job_people *people;
	int64_t review_id;
	char *endpoint;		/* the endpoint used */
	/*
	 * On failure: true when the model or the database failed (worth a
	 * retry), false when the input or the configuration is at fault.
	 */
	bool infra;
};

void job_result_init(struct job_result *r);
void job_result_release(struct job_result *r);

/*
 * What became of the findings of the previous revision of a series: the
 * newest review of the revision that 'series_id' supersedes (through
 * series.prev_version), one entry per finding that was reported there
 * (REPLY_PRIOR_REPORTED) or suppressed by a maintainer's invalid/wontfix
 * (REPLY_PRIOR_INVALID), for reply composition.  Empty when there is no
 * previous revision or it was never reviewed.
 */
struct job_priors {
	struct reply_prior *v;	/* strings owned by the list */
	size_t nr;
	int version;		/* the previous revision's number, or 0 */
};

void job_priors_release(struct job_priors *p);
/* 0, or -EIO with the reason in 'err'. */
int job_priors_load(struct job_priors *out, struct db *db, int64_t series_id,
		    struct strbuf *err);

/*
 * The engine a review makes when given none: every configured endpoint,
 * no local-server detection.  0, or a negative errno with 'err'.
 */
int job_engine(struct llm_engine **out, const struct kreview_config *cfg,
	       struct strbuf *err);

/* The endpoint a review would use: 'explicit', review.endpoint, first. */
const char *job_endpoint(const struct kreview_config *cfg,
			 const char *explicit_name);

/*
 * Review series revision 'series' and store the result.  0 with
 * 'out' filled (job_result_init()ed by the caller); negative errno
 * with the reason in 'err' and 'out->infra' set as above: -ENOENT
 * unknown series, -ENODATA no patch, -EINVAL configuration, -EIO the
 * model or the database, -ESTALE from the hook.
 */
int job_review(struct job_result *out, struct db *db,
	       const struct kreview_config *cfg, int64_t series,
	       const struct job_opts *o, struct strbuf *err);

#endif
