/*
 * series.h - grouping the messages of one thread into series revisions.
 *
 * The rules are b4's (reference/b4-series.md §3-§4, b4 0.12), applied
 * to every revision in the thread rather than only the newest, with
 * the improvements kreview documents where b4 is plainly wrong:
 *
 *  - A patch without "vN" that replies directly to a cover letter
 *    "[PATCH(SET) vN 0/M]" takes the cover's revision even when the
 *    cover carries no diffstat (b4 0.12 only trusts a diffstat, leaving
 *    such patches in v1 and the cover alone in vN).
 *
 * Everything else follows b4 0.12: replies (and non-replies without a
 * diff that carry References and trailers) are follow-ups, never
 * patches; "N/M" with N = 0 (or a diffstat) makes a cover letter; a
 * message with a diff is a patch of its revision, the first message to
 * claim a slot keeps it unless it had inferred counters and the
 * newcomer has explicit ones; an unnumbered "[PATCH]" re-posted by the
 * same author starts a new revision; a revision > 1 with missing
 * slots whose patches all reply to the previous revision's patch with
 * the same counter/total is a partial reroll and borrows the missing
 * patches; a revision without a cover adopts the In-Reply-To parent of
 * its first patch when that parent has a diffstat and no diff.
 *
 * This module is pure: messages in, revisions out, no I/O.
 */
#ifndef KREVIEW_SERIES_H
#define KREVIEW_SERIES_H

#include "kreview/common.h"

/* What series assembly needs to know about one message. */
struct series_msg {
	const char *msgid;
	const char *in_reply_to;   /* NULL if none */
	const char *sender_addr;   /* lowercase */
	int64_t date_ms;
	bool is_reply;		   /* subject says Re:/Fwd:/... */
	bool is_bot;		   /* bot mail: never a patch or cover */
	bool has_refs;		   /* References or In-Reply-To present */
	bool has_diff, has_diffstat, has_trailers;
	int revision;
	bool revision_explicit;
	int counter, expected;
	bool counter_explicit;
	bool flag_patch, flag_resend;
};

/* One revision; message references are indexes into the input array. */
struct series_rev {
	int version;
	int total;	  /* number of patch slots */
	int cover;	  /* index, or -1 */
	int *patches;	  /* [0..total-1] = slot 1..total, index or -1 */
	int *reroll_from; /* per slot: older revision it came from, or 0 */
	bool complete;
	bool partial_reroll;
	bool cover_adopted; /* cover found through In-Reply-To, not 0/N */
};

struct series_result {
	struct series_rev *revs; /* sorted by version */
	size_t revs_nr;
	/* Covers whose revision got no patch at all ("cover-only"). */
	int *lone_covers;
	size_t lone_covers_nr;
};

#define SERIES_RESULT_INIT { 0 }

void series_result_release(struct series_result *res);

/*
 * Assemble the 'nr' messages of one thread, given in arrival order.
 * 'out' must be initialised; it is released first.
 */
void series_assemble(struct series_result *out, const struct series_msg *msgs,
		     size_t nr);

#endif
