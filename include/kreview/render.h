/*
 * render.h - a review result as `kreview check` prints it: terminal
 * text, one JSON object, or a SARIF 2.1.0 log.
 *
 * The renderers only read the result (and the series, for subjects,
 * message ids and the diffs quoted in text output); they never fail and
 * their output is deterministic: the same result gives the same bytes
 * (numbers are printed from integers, never through the locale).
 * Reported findings are v[0..reported-1] of the result; the rest are
 * dropped and appear only with opts.include_dropped.
 *
 * Everything in a finding came from a model reading untrusted patches,
 * so text output replaces control characters, ANSI escapes, C1 codes,
 * bidirectional overrides and invalid UTF-8 with U+FFFD (a finding
 * cannot move the cursor or recolour the terminal).  JSON and SARIF
 * escape through strbuf_add_json_str().
 *
 * Text: findings grouped by patch ("[PATCH 2/5] subject"), each with
 * its severity, category and title; "support k/N, confidence 0.73",
 * verified / refuted / unverified and a pre-existing mark; the location
 * "file:line-end (function)"; the code quoted with "> " (the lines of
 * the patch's hunks around the range when the series is given and the
 * range is in the diff, else the finding's evidence; at most
 * RENDER_QUOTE_MAX lines); the explanation wrapped at 72 columns.
 * Then "note: ..." per note, "error: ..." per failed request and a
 * summary: counts by severity, dropped counts by reason, invalid
 * findings rejected, requests, tokens and cost.  ANSI colour on the
 * severity (critical, high red; medium yellow; low dim) only with
 * opts.colour.
 *
 * JSON (version 1), one object:
 *   {"version": 1,
 *    "series": {"subject", "version", "author", "base", "prompt_hash",
 *               "profile", "runs"},
 *    "patches": [{"index", "subject", "msgid", "patch_id",
 *                 "subsystem"}],
 *    "findings": [{"patch", "file", "line", "end_line", "function",
 *                  "category", "severity", "confidence", "title",
 *                  "explanation", "evidence", "pre_existing", "support",
 *                  "runs", "verified", "verdict_reason", "fingerprint",
 *                  "reported", "dropped", "drop_reason"}],
 *    "counts": {"reported": {"critical", "high", "medium", "low"},
 *               "dropped": {"threshold", "refuted", "duplicate",
 *                           "fixed-later"},
 *               "rejected"},
 *    "usage": {"in_uncached", "cache_write", "cache_read", "out",
 *              "reasoning", "cost_usd", "requests", "cached",
 *              "failed"},
 *    "notes": [...], "errors": [...]}
 * "severity" and "confidence" are the cluster's (reconciled), with the
 * confidence at 2 decimals and the cost at 6; "verified" is "confirmed",
 * "refuted" or "unverified"; "dropped" is a drop reason name
 * ("threshold", "refuted", "duplicate", "fixed-later") or null.  Without
 * a series the series fields are null and "patches" is empty.
 *
 * SARIF 2.1.0: one run, tool.driver "kreview" with one rule per
 * category used (id = category); per finding a result with ruleId,
 * ruleIndex, level (critical, high: "error"; medium: "warning"; low:
 * "note"), message.text (title, blank line, explanation), a physical
 * location (artifactLocation.uri: the path percent-encoded, uriBaseId
 * "SRCROOT"; region startLine/endLine), the function as a logical
 * location, partialFingerprints {"kreview/v1": fingerprint} and
 * properties {severity, support, runs, confidence, patch, pre_existing,
 * verified}.  Dropped findings (with opts.include_dropped) carry an
 * external, accepted suppression whose justification is the reason.
 * driver.informationUri is written only when the build defines
 * KREVIEW_URL (the project has no public address yet).
 */
#ifndef KREVIEW_RENDER_H
#define KREVIEW_RENDER_H

#include "kreview/common.h"
#include "kreview/review.h"

struct strbuf;

enum render_format {
	RENDER_TEXT,
	RENDER_JSON,
	RENDER_SARIF,
	RENDER_FORMAT_MAX,
};

/* "text", "json", "sarif": 0 and '*out' set, or -EINVAL. */
int render_format_parse(enum render_format *out, const char *name);
const char *render_format_name(enum render_format f);

struct render_opts {
	bool colour;		/* ANSI colours (the caller asks isatty) */
	bool include_dropped;	/* dropped findings too, marked so */
};

#define RENDER_OPTS_INIT { .colour = false, .include_dropped = false }

/* Text output quotes at most this many code lines per finding. */
#define RENDER_QUOTE_MAX 20
/* Text output wraps explanations at this many columns. */
#define RENDER_WRAP 72

/*
 * Append the rendering of 'r' in 'fmt' to 'out'.  's' (may be NULL)
 * is the reviewed series, 'o' (may be NULL: defaults) the options.
 * Both are only read.
 */
void render_result(struct strbuf *out, const struct review_series *s,
		   const struct review_result *r, enum render_format fmt,
		   const struct render_opts *o);

#endif
