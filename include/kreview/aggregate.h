/*
 * aggregate.h - N stochastic passes over a patch become few, stable
 * findings.
 *
 * Findings of every pass and stage are clustered when they describe
 * the same problem: same file and category, and either the same
 * fingerprint, or the same function with similar titles or key
 * identifiers (token Jaccard >= 0.5), or overlapping line windows
 * (+-10 lines) with a lexical similarity >= 0.3.  Matching is
 * union-find inside blocks of one file.
 *
 * Each cluster gets:
 *  - support: the number of distinct passes that reported it, of N;
 *  - a severity: the members' upper median ("all agree" keeps theirs),
 *    except that memory-safety, deadlock and UAPI categories are never
 *    lowered by the vote (the highest reported stands); a verifier
 *    confirmation later raises any cluster to its highest reported
 *    severity (aggregate_apply_verdict());
 *  - a confidence: 0.6 x support/N + 0.4 x the members' mean confidence;
 *  - a representative: the member with the longest evidence (ties: the
 *    highest confidence, then the earliest);
 *  - the representative's fingerprint.
 *
 * Survival before verification (aggregate_survives()): critical and
 * high with support >= 1, medium with support >= 2 (>= 1 when only one
 * pass was made), low only in local mode.
 */
#ifndef KREVIEW_AGGREGATE_H
#define KREVIEW_AGGREGATE_H

#include "kreview/common.h"
#include "kreview/finding.h"

enum verdict {
	VERDICT_NONE,
	VERDICT_CONFIRMED,
	VERDICT_REFUTED,
};

struct cluster {
	struct finding rep;	   /* copy of the representative */
	size_t *members;	   /* indexes into the input list */
	size_t members_nr;
	int support;		   /* distinct passes */
	int runs;		   /* N */
	enum finding_severity severity;	    /* reconciled */
	enum finding_severity max_severity; /* highest reported */
	double confidence;
	char fingerprint[FINDING_FPR_HEX + 1];
	enum verdict verdict;
	char *verdict_reason;
};

struct cluster_list {
	struct cluster *v;
	size_t nr, alloc;
};

#define CLUSTER_LIST_INIT { 0 }

void cluster_list_release(struct cluster_list *l);

struct aggregate_opts {
	int runs;		/* N passes made */
	bool local;		/* kreview check: keep low findings */
	const char *subsystem;	/* for fingerprints; may be NULL */
};

/*
 * Cluster the findings of one patch (all passes and stages) into
 * 'out' (initialised; appended to), ordered by severity then support.
 */
void aggregate_findings(struct cluster_list *out, const struct finding_list *in,
			const struct aggregate_opts *opts);

/* Whether a cluster goes on to verification (see the header comment). */
bool aggregate_survives(const struct cluster *c,
			const struct aggregate_opts *opts);

/* Record a verdict; a confirmation raises the severity to the maximum. */
void aggregate_apply_verdict(struct cluster *c, enum verdict v,
			     const char *reason);

/* Token Jaccard similarity of two texts (identifier-like tokens). */
double aggregate_similarity(const char *a, const char *b);

#endif
