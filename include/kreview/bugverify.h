/*
 * bugverify.h - re-verification of a recorded bug against newer code
 * (reference/bug-db.md §3 and §7): the LLM half of
 * `kreview bugs reverify`.
 *
 * Three steps, each usable alone:
 *
 *  - Code.  bugverify_read_code() cuts the code a bug is about out of a
 *    commit: the whole function the record names, found in .c and .h
 *    files with symindex_find_def(); else (a name the scanner does not
 *    see as a definition, other files, file-scope bugs) the lines around
 *    the recorded place.  It says when the file or the function is gone.
 *    bugverify_unchanged() compares that code with the same cut at an
 *    older commit: unchanged code needs no verifier.
 *
 *  - Asking.  bugverify_request() builds the request: the bugverify
 *    prompt (prompts/bugverify.md) as the only system text, identical
 *    for every bug so that provider caches serve it; then one user turn
 *    with the fence announcement, the bug record, its evidence and the
 *    current code, each fenced as untrusted, and the answer format last.
 *    No commit id is in it, so the same question about the same code
 *    at a later commit is answered by the answer cache (review.h).
 *    bugverify_run() sends it and waits for the verdict.
 *
 *  - Verdict.  bugverify_parse() checks an answer: one JSON object
 *    {"verdict": "present" | "gone" | "unsure", "reason": "..."}.
 *    What a verdict does to the bug is bugdb_record_verdict()'s job.
 *
 * Library-like: nothing here logs; errors go into 'err'.
 */
#ifndef KREVIEW_BUGVERIFY_H
#define KREVIEW_BUGVERIFY_H

#include "kreview/common.h"
#include "kreview/llm.h"
#include "kreview/strbuf.h"

struct db;
struct prompt;
struct git_repository;
struct git_oid;

/* Code shown to the verifier, in bytes of the file (longer is cut). */
#define BUGVERIFY_MAX_CODE (32 * 1024)
/* Lines shown before and after the recorded place in an excerpt. */
#define BUGVERIFY_AROUND 30
/* Bytes kept of the model's reason. */
#define BUGVERIFY_MAX_REASON 600

/* ---- the code ---- */

enum bugverify_found {
	BUGVERIFY_FUNCTION,	   /* the whole function */
	BUGVERIFY_EXCERPT,	   /* lines around the recorded place */
	BUGVERIFY_FILE_GONE,	   /* the file is not in the commit */
	BUGVERIFY_FUNCTION_GONE,   /* the file does not name the function */
};

/* Where a bug is, as recorded.  Every pointer borrowed. */
struct bugverify_place {
	const char *file;
	const char *function;	/* "" for file-scope code */
	int line, end_line;	/* the recorded range; 0: unknown */
	const char *evidence;	/* quoted code, or NULL */
};

/* The code of a place at one commit. */
struct bugverify_code {
	enum bugverify_found found;
	unsigned line, end_line;	/* of 'text' in the file; 0 if gone */
	struct strbuf text;		/* those lines, as in the file */
};

void bugverify_code_init(struct bugverify_code *c);
void bugverify_code_release(struct bugverify_code *c);

/*
 * Read the code of 'pl' at 'commit' into 'out' (initialised; reset
 * first).  The file gone or the function gone is a result (0), not an
 * error; a function counts as gone when the scanner finds no
 * definition of it and its name followed by "(" is nowhere in the
 * file.  -ENOENT when 'commit' is not in 'repo', -EIO when an object
 * cannot be read, with the reason in 'err'.
 */
int bugverify_read_code(struct bugverify_code *out,
			struct git_repository *repo,
			const struct git_oid *commit,
			const struct bugverify_place *pl, struct strbuf *err);

/*
 * The commit 'rev' names (a hex id, a ref, "HEAD~2" ...), peeled: 0,
 * or -ENOENT when 'rev' is NULL, empty or names no commit of 'repo'.
 */
int bugverify_resolve(struct git_oid *out, struct git_repository *repo,
		      const char *rev);

/*
 * Is 'now' (the code of 'pl' at the commit under check) the same as the
 * code of 'pl' at 'base' (a commit id in hex, may be NULL)?  1 when it
 * is, 0 when it changed, -ENOENT when 'base' is NULL or not a commit of
 * 'repo' (nothing to compare with), -EIO on object database errors.
 */
int bugverify_unchanged(struct git_repository *repo, const char *base,
			const struct bugverify_place *pl,
			const struct bugverify_code *now, struct strbuf *err);

/*
 * True if the first non-blank line of the evidence, trimmed, is in the
 * code of 'now' (the check used when there is no commit to compare
 * with).  False without evidence.
 */
bool bugverify_evidence_holds(const struct bugverify_place *pl,
			      const struct bugverify_code *now);

/*
 * The commit (hex into 'out') that changed the code of 'pl' on the way
 * from 'base' (hex; NULL or unknown: the whole history) to 'rev': of
 * the commits after 'base' whose code of 'pl' differs from their first
 * parent's, the oldest; without a usable 'base', the newest.  At most
 * 10000 commits are walked; when none is found, 'rev' itself.  0, or
 * -EIO with the reason.
 */
int bugverify_changed_in(char out[41],
			 struct git_repository *repo, const char *base,
			 const struct git_oid *rev,
			 const struct bugverify_place *pl, struct strbuf *err);

/* ---- asking ---- */

enum bugverify_verdict {
	BUGVERIFY_PRESENT,	/* the bug is still in the code */
	BUGVERIFY_GONE,		/* the code no longer has it */
	BUGVERIFY_UNSURE,	/* the code shown does not decide it */
	BUGVERIFY_VERDICT_MAX,
};

/* "present", "gone", "unsure". */
const char *bugverify_verdict_name(enum bugverify_verdict v);

/* The bug as the verifier is told about it.  Every pointer borrowed. */
struct bugverify_bug {
	const char *id, *title, *category, *severity;
	const char *explanation;	/* or NULL */
	struct bugverify_place place;
};

/* The JSON Schema of the answer, as text. */
const char *bugverify_answer_schema(void);

/*
 * Build in 'out' (released) the request asking the prompt 'p' (kind
 * PROMPT_BUGVERIFY) about 'b' with its current code 'code' (found as a
 * function or an excerpt), fenced with 'token'.  -EEXIST, with 'out'
 * left released, when the material contains the token.
 */
int bugverify_request(struct llm_request *out, const struct prompt *p,
		      const struct bugverify_bug *b,
		      const struct bugverify_code *code, const char *token);

/* Input tokens of a request, estimated as its text bytes / 4. */
uint64_t bugverify_estimate_tokens(const struct llm_request *req);

/*
 * Check an answer (the JSON object, or text holding it).  0 with the
 * verdict in '*out' and the reason (one line, control characters as
 * spaces, at most BUGVERIFY_MAX_REASON bytes) appended to 'reason';
 * -EPROTO with a message in 'err' for anything else.
 */
int bugverify_parse(enum bugverify_verdict *out, struct strbuf *reason,
		    const char *json, size_t len, struct strbuf *err);

struct bugverify_opts {
	struct llm_engine *engine;
	const char *endpoint;
	const struct prompt *prompt;	/* the bugverify prompt */
	struct db *cache;		/* the answer cache, or NULL */
	bool fresh;			/* ask even when the cache knows */
	/*
	 * Secret the fence token is derived from (with the bug and its
	 * code), so that the same question is the same request and the
	 * cache can answer it; NULL draws a random token.
	 */
	const char *fence_secret;
};

struct bugverify_result {
	enum bugverify_verdict verdict;
	/* The model's reason, or why its answer is unusable. */
	struct strbuf reason;
	enum llm_class cls;	/* LLM_CLASS_OK unless a call failed */
	struct llm_usage usage;	/* tokens spent (none when cached) */
	double cost;
	unsigned calls;		/* model calls, repairs included */
	bool cached;		/* answered by the cache */
};

void bugverify_result_init(struct bugverify_result *r);
void bugverify_result_release(struct bugverify_result *r);

/*
 * Ask the verifier about 'b' and its code 'code', running the engine
 * until the answer is in.  'out' is initialised.
 *   0        the verdict is in 'out'.
 *   -EPROTO  the model answered, but unusably (refused, truncated, not
 *            the schema even after the repair re-ask): 'out' says
 *            BUGVERIFY_UNSURE with the reason.
 *   other    the call failed (endpoint unreachable, quota, timeout,
 *            no such endpoint): nothing was decided; 'out->cls' and
 *            'err' say why.  After -EIO (the engine itself failed) the
 *            engine must be freed, not run again (llm_conv_run()).
 * Tokens and cost are in 'out' either way.
 */
int bugverify_run(struct bugverify_result *out, const struct bugverify_bug *b,
		  const struct bugverify_code *code,
		  const struct bugverify_opts *o, struct strbuf *err);

#endif
