/*
 * finding.h - the finding record of a review stage, validated in code.
 *
 * Every stage answers {"findings": [record, ...]} with DESIGN.md's
 * record.  Nothing in it is trusted: finding_parse_answer() keeps only
 * records whose fields have the right types and values (closed category
 * list, severity names, sane line numbers, bounded strings), and
 * finding_check() keeps only findings that point at real code: the file
 * is in the patch or the tree, the line exists, and the quoted evidence
 * occurs in the patch or the file.
 *
 * The fingerprint identifies one bug across runs, patches, revisions
 * and the bug database: a hash of (subsystem, file, function, category,
 * key identifiers), never of line numbers.
 */
#ifndef KREVIEW_FINDING_H
#define KREVIEW_FINDING_H

#include "kreview/common.h"

struct strbuf;
struct diff;

enum finding_severity {
	SEV_LOW,
	SEV_MEDIUM,
	SEV_HIGH,
	SEV_CRITICAL,
	SEV__MAX,
};

/* "low", "medium", "high", "critical". */
const char *finding_severity_name(enum finding_severity s);
/* 0 and '*out' set, or -EINVAL for an unknown name. */
int finding_severity_parse(enum finding_severity *out, const char *name);

/* The closed category list, NULL-terminated. */
extern const char *const finding_categories[];
bool finding_category_valid(const char *name);
/* Categories whose severity a vote never lowers (memory safety, UAPI). */
bool finding_category_is_critical_class(const char *name);

/* Bounds on what a stage may return. */
#define FINDING_MAX_PER_ANSWER 50
#define FINDING_MAX_TEXT 16384	/* explanation, evidence */
#define FINDING_MAX_SHORT 512	/* file, function, title */
#define FINDING_FPR_HEX 40

struct finding {
	char *file;
	int line, end_line;	/* 1-based, end_line >= line */
	char *function;		/* "" when unknown */
	char *category;
	enum finding_severity severity;
	double confidence;	/* 0..1 */
	char *title;
	char *explanation;
	char *evidence;
	bool pre_existing;
	/* Provenance, set by the caller. */
	int patch;		/* 1-based index in the series, 0 unknown */
	int run;		/* pass number, 0-based */
	char *stage;		/* stage id, or NULL */
};

void finding_init(struct finding *f);
void finding_release(struct finding *f);
/* Deep copy of 'src' into 'dst' (initialised or released). */
void finding_copy(struct finding *dst, const struct finding *src);

struct finding_list {
	struct finding *v;
	size_t nr, alloc;
};

#define FINDING_LIST_INIT { 0 }

void finding_list_release(struct finding_list *l);
/* Append a copy of 'f'. */
void finding_list_add(struct finding_list *l, const struct finding *f);

/*
 * The JSON Schema (draft 2020-12 subset) of a stage answer, for the
 * providers' structured-output modes and llm_json_validate().
 */
const char *finding_answer_schema(void);

/*
 * Parse a stage answer ('json' of 'len' bytes, already extracted from
 * the model's text) and append its valid records to 'out'.  Each
 * invalid record is skipped with one line "finding N: why" appended to
 * 'rejects' (may be NULL) and counted in '*nr_rejected'.  Returns 0, or
 * -EPROTO when the answer itself is not {"findings": [...]}.
 */
int finding_parse_answer(struct finding_list *out, const char *json,
			 size_t len, size_t *nr_rejected,
			 struct strbuf *rejects);

/*
 * Where the code a finding points at can be read: the patch text (its
 * diff, and 'diff' parsed) and, when a tree is known, file contents at
 * the series tip through 'read_file' (0, or negative when the file does
 * not exist).  'read_file' may be NULL: the diff is all there is.
 */
struct finding_code {
	const char *patch_text;
	size_t patch_len;
	const struct diff *diff;
	int (*read_file)(void *ctx, const char *path, struct strbuf *out);
	void *ctx;
};

/*
 * Check a finding against the code: 0 if it holds up, -EINVAL with a
 * one-line reason in 'why' otherwise ("file 'x' is neither in the patch
 * nor in the tree", "line 900 is past the end of 'x' (120 lines)",
 * "evidence not found in the code: '...'").
 */
int finding_check(const struct finding *f, const struct finding_code *code,
		  struct strbuf *why);

/*
 * Append 'len' bytes of 's' to 'out' with every run of whitespace made
 * one space and none at either end: how code lines are compared when
 * evidence is matched, so indentation and spacing never matter.
 */
void finding_squash(struct strbuf *out, const char *s, size_t len);

/*
 * The key identifiers of a finding: C identifiers that its evidence
 * quotes and its title or explanation names, most frequent first,
 * without keywords and kernel commonplaces; at most 'max'.  Each is a
 * new string appended to 'out' ('*nr' grows).
 */
void finding_identifiers(char ***out, size_t *nr, const struct finding *f,
			 size_t max);

/* Fingerprint as 40 hex digits plus NUL in 'out'. */
void finding_fingerprint(char out[FINDING_FPR_HEX + 1],
			 const struct finding *f, const char *subsystem);

#endif
