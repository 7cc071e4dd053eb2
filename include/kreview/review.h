/*
 * review.h - the review pipeline for one series.
 *
 *   plan -> N passes x stages x patches -> validate -> cluster
 *        -> verify -> attribute across the series -> result
 *
 * Input is a struct review_series: the patches (commit message, diff),
 * optionally the code context and subsystem rules rendered for each,
 * and a reader for files at the tip of the series.  Without a tree the
 * review works on the diff alone and says so in the result's notes.
 *
 * Requests.  Every stage and pass of a patch shares one prefix: the
 * system prompt, then one block with the fence announcement, the
 * series (subject, cover letter, patch list), the commit message, the
 * patch, the code context and the subsystem rules.  The stage
 * instruction is the only user turn; passes differ in their sampling
 * seed.  Provider caches therefore serve all but the first request of
 * a patch.
 *
 * Attribution.  Clusters of one patch are verified together against
 * the code at the tip; refuted ones are dropped (kept in the result
 * with their reason).  Across the series a fingerprint is reported
 * once, on the earliest patch; a finding whose evidence a later patch
 * removes is dropped as fixed later in the series; a finding is
 * pre-existing when the model says so and none of its evidence lines
 * is added by the patch.
 *
 * Tools.  A stage (or the verifier) whose prompt needs "tools" gets the
 * read-only tree tools of revtools.h when the series has its applied
 * trees: read a file or a function at any patch position, grep the
 * tree, list the history of a path below the base.  Their output is
 * fenced with the patch's token like all other untrusted material; the
 * conversation is capped in model calls and tool bytes.
 *
 * Cost.  Each model answer is cached in the database under a hash of
 * the endpoint's model and the exact request (with tools, also the ids
 * of the trees they read): running the same review
 * again costs no tokens and gives the same result (opts.fresh skips
 * the cache).
 */
#ifndef KREVIEW_REVIEW_H
#define KREVIEW_REVIEW_H

#include "kreview/aggregate.h"
#include "kreview/common.h"
#include "kreview/diff.h"
#include "kreview/finding.h"
#include "kreview/llm.h"
#include "kreview/prompt.h"

struct db;
struct strbuf;
struct git_repository;
struct git_oid;

struct review_patch {
	int index;		/* 1-based */
	char *subject;		/* title, without [PATCH ...] */
	char *message;		/* commit message with trailers */
	char *patch_text;	/* the diff */
	size_t patch_len;
	struct diff diff;	/* 'patch_text' parsed */
	char **paths;		/* touched paths, both sides of renames */
	size_t nr_paths;
	char patch_id[41];	/* hash of the diff without line numbers */
	char *msgid;		/* or NULL */
	char *context;		/* rendered code context, or NULL */
	char *subsystem;	/* most specific MAINTAINERS section, or NULL */
	char *rules;		/* subsystem guidance text, or NULL */
};

struct review_series {
	char *subject;
	char *cover;		/* cover letter body, or NULL */
	char *author;
	int version;
	struct review_patch *patches;
	size_t nr, alloc;
	/* Files at the tip of the series; NULL when there is no tree. */
	int (*read_file)(void *ctx, const char *path, struct strbuf *out);
	void *read_ctx;
	void (*read_free)(void *ctx);	/* frees 'read_ctx', or NULL */
	char *base;		/* base commit id or description, or NULL */
	/*
	 * The applied series for the stage tools (revtools.h), set by
	 * revinput_attach_tree(): the repository (borrowed), trees[0] the
	 * base tree and trees[i] the tree after patch i (nr_trees is
	 * nr + 1), and the base commit where git_log starts (NULL when
	 * the base is a bare tree).  All NULL/0 without a tree; the
	 * arrays are owned by the series.
	 */
	struct git_repository *repo;
	struct git_oid *trees;
	size_t nr_trees;
	struct git_oid *base_commit;
};

void review_series_init(struct review_series *s);
void review_series_release(struct review_series *s);

/*
 * Add a patch from its commit message and diff text (both copied).
 * Parses the diff; -EPROTO with the reason in 'err' if it does not
 * parse (the patch is not added).
 */
int review_series_add(struct review_series *s, const char *subject,
		      const char *message, const char *diff, size_t diff_len,
		      const char *msgid, struct strbuf *err);

/* Why a finding is not reported. */
enum review_drop {
	REVIEW_REPORTED,
	REVIEW_DROP_THRESHOLD,	/* severity/support below the policy */
	REVIEW_DROP_REFUTED,	/* the verifier refuted it */
	REVIEW_DROP_DUPLICATE,	/* already reported on an earlier patch */
	REVIEW_DROP_FIXED_LATER,/* a later patch of the series removes it */
	REVIEW_DROP_SUPPRESSED,	/* a maintainer rejected it (bugdb.h) */
	REVIEW_DROP_MAX,
};

const char *review_drop_name(enum review_drop d);

struct review_finding {
	struct cluster c;	/* rep.patch is the patch it belongs to */
	bool pre_existing;
	enum review_drop drop;
	char *drop_reason;	/* or NULL */
};

struct review_stage_stat {
	int requests, failed;
	size_t findings, rejected;
};

struct review_result {
	char prompt_hash[41];
	const char *profile;
	int runs;
	struct review_finding *v;  /* reported first, then dropped */
	size_t nr, alloc;
	size_t reported;	   /* v[0..reported-1] are reported */
	struct llm_usage usage;	   /* tokens actually spent */
	double cost;
	int requests, cached, failed;
	size_t rejected;	   /* invalid findings dropped */
	struct strbuf rejects;	   /* one line per rejected finding */
	struct strbuf notes;	   /* one line per caveat */
	struct strbuf errors;	   /* one line per failed request */
};

void review_result_init(struct review_result *r);
void review_result_release(struct review_result *r);

struct review_opts {
	const struct prompt_set *prompts;
	enum prompt_profile profile;
	int runs;			/* passes; default 3 */
	const char *endpoint;		/* for every stage */
	const char *stage_endpoint[PROMPT_STAGE_MAX]; /* overrides */
	const char *verify_endpoint;	/* default: 'endpoint' */
	bool local;			/* kreview check: low findings too */
	bool verify;			/* run the verifier (default on) */
	bool fresh;			/* ignore cached answers */
	uint32_t max_tokens;		/* per answer; 0: endpoint default */
	struct llm_engine *engine;
	struct db *cache;		/* answer cache, or NULL */
	/*
	 * Secret the fence token is derived from (with the patch ids), so
	 * that a repeated review sends identical requests and the cache
	 * answers; NULL draws a random token.  Never sent anywhere.
	 */
	const char *fence_secret;
	const char *mock_scenario;	/* tests: X-Mock-Scenario */
	/* Stages not to run: bits 1u << enum prompt_stage (budget cuts). */
	unsigned skip_stages;
	/* progress lines ("patch 2/5: flow pass 1 done"), or NULL */
	void (*progress)(void *ctx, const char *line);
	void *progress_ctx;
};

#define REVIEW_OPTS_INIT { .profile = PROMPT_PROFILE_STANDARD, .runs = 3, \
			   .verify = true }

/*
 * Review 's'.  Returns 0 (even when some requests failed: they are
 * counted in 'out'), -EIO when every request failed (endpoint
 * unreachable or quota gone), -EINVAL for bad options; 'err' says why.
 */
int review_run(struct review_result *out, const struct review_series *s,
	       const struct review_opts *opts, struct strbuf *err);

/*
 * The plan without network: per patch the stages that apply and why,
 * the endpoint per stage, prompt sizes and estimated tokens and cost
 * (endpoint prices from the engine, if it has the endpoint).
 */
void review_plan(struct strbuf *out, const struct review_series *s,
		 const struct review_opts *opts);

/*
 * The fence secret kept in 'db' (created on first use): 0, or -EIO.
 * '*out' is a new string.
 */
int review_fence_secret(char **out, struct db *db);

/*
 * Input tokens the planned requests of 's' would send (bytes / 4 of
 * every stage request of every pass; verification not counted).
 */
uint64_t review_estimate_tokens(const struct review_series *s,
				const struct review_opts *opts);

/*
 * Fit the review of 's' into 'budget' input tokens for the whole
 * series (0: no budget).  What is given up, in this order, until the
 * estimate fits:
 *   1. the code context of the patch with the most context (repeated:
 *      a patch keeps its diff, it loses the functions around it);
 *   2. the subsystem rules of every patch;
 *   3. the cover letter;
 *   4. whole stages, least productive first: intent, hardware,
 *      claims, subsystem, security, locking (flow and resources stay);
 *   5. passes, down to one.
 * Each step taken is one line in 'notes'.  Returns 0 when the estimate
 * fits, -E2BIG when even the smallest review exceeds the budget (the
 * review can still run; the notes say so).
 */
int review_fit_budget(struct review_series *s, struct review_opts *opts,
		      uint64_t budget, struct strbuf *notes);

/*
 * The answer cache, also used by the bug re-verifier (bugverify.h).
 *
 * review_cache_key() puts into 'out' the key of 'req' sent to
 * 'endpoint' of 'e': a hash of the dialect, model, URL and encoded body
 * (without the key) and of 'extra' (may be NULL: what else decides the
 * answer, e.g. the trees tools read).  0, -ENOENT for an unknown
 * endpoint, or the llm_encode() error.
 *
 * review_cache_get() returns the stored answer (a new string) or NULL;
 * review_cache_put() stores one, ignoring failures (the cache only
 * saves tokens).  'db' may be NULL for both: no cache.
 */
int review_cache_key(char out[41], struct llm_engine *e, const char *endpoint,
		     const struct llm_request *req, const char *extra);
char *review_cache_get(struct db *db, const char *key);
void review_cache_put(struct db *db, const char *key, const char *model,
		      const char *answer, const struct llm_usage *u);

/* The shared prefix block of a patch (exposed for tests and bench). */
void review_shared_block(struct strbuf *out, const struct review_series *s,
			 const struct review_patch *p, const char *token);

#endif
