/*
 * subsys.h - per-subsystem review rules: the files subsystems/<name>.yaml.
 *
 * A rule file carries what a reviewer of one MAINTAINERS section knows
 * and a general reviewer does not: guidance per review stage, findings
 * that look like bugs but are not ("non-issues"), house style rules,
 * how severe a finding must be before it is mailed to the list, a token
 * budget per patch, paths that are never reviewed, extra trigger words
 * and documentation to read.  kreview-subsystems(5) is the reference
 * for authors; this header is the reference for code.
 *
 * Identity.  A file is keyed by the exact MAINTAINERS section title in
 * its 'section:' key ("IO_URING", "BPF [GENERAL] (Safe Dynamic Programs
 * and Tools)"), never by its file name.  'also:' lists further titles
 * the same rules apply to (a section that was split or renamed, a
 * sibling that shares the list).  Within a set every title, primary or
 * 'also', belongs to exactly one file; a second claim is an error.
 *
 * Schema (every key but 'section' is optional):
 *
 *	section: "IO_URING"		exact title, required
 *	also: [TITLE, ...]		more titles for the same rules
 *	stages:				stage id -> settings
 *	  locking:
 *	    guidance: text		non-blank text for that stage
 *	    enabled: true		false: the stage is not run
 *	non_issues:			what must not be reported
 *	  - pattern: text		the look-alike, described
 *	    why: text			why it is fine
 *	    stages: [flow, ...]		optional; default every stage
 *	style:				house rules
 *	  - id: reverse-xmas-tree	[a-z0-9][a-z0-9-]*, unique per file
 *	    text: text
 *	    severity: low		default low
 *	    paths: [net/, ...]		optional globs; default every path
 *	severity_floor: medium		the floor for list replies, or
 *	severity_floor: {reply: medium, check: low}
 *	token_budget: 60000		tokens per patch, 1000..10000000
 *	ignore_paths: [GLOB, ...]	changes there are not reviewed
 *	keywords: [IDENT, IDENT*, ...]	identifiers that trigger the file
 *	references: [Documentation/...]	tree paths the reviewer should read
 *
 * Stage ids are those of the review pipeline (subsys_stage_name()):
 * intent, claims, flow, resources, locking, security, hardware,
 * subsystem, verify, report.  verify and report cannot be disabled.
 * Severities are critical, high, medium, low.
 *
 * Validation is done at load time and reported as "FILE:LINE:COL:
 * message", one line per problem, all problems of all files in one
 * run: unknown keys (with a suggestion), unknown stage ids, unknown
 * severities, blank or over-long text, a stage disabled with guidance
 * or without reason, duplicate style ids, malformed globs, keywords and
 * reference paths, an 'also' naming the file's own section, and a
 * title claimed by two files.  The YAML itself goes through yamlnode.h
 * (size, depth, node limits; no anchors; duplicate keys rejected).
 *
 * Glob syntax, for 'ignore_paths' and style 'paths': a relative tree
 * path where '*' and '?' match within one path component and '[...]'
 * is a character class (fnmatch(3) with FNM_PATHNAME).  A pattern that
 * ends in '/' matches everything below that directory; a pattern
 * without any '/' is matched against the last component of the path
 * ("*_trace.h" anywhere).  No '..' components, no leading '/', no
 * backslashes.
 *
 * Merging.  A patch touches several sections; maint_map() returns them
 * most specific first, and subsys_rules_build() folds the rule files of
 * those titles, in that order, into one effective rule set:
 *   - guidance: per stage, each file's text in order, each block headed
 *     by its section title, so the model knows whose rule it is;
 *   - a stage is disabled only when every applied file disables it
 *     (a patch touching io_uring/ and a NIC driver still gets the
 *     hardware stage);
 *   - non-issues: the union (identical texts once);
 *   - style rules: the union by id, the most specific file's rule
 *     winning a clash;
 *   - severity floors: the most specific file that sets one wins (not
 *     the highest: a strict generic floor must not silence a subsystem
 *     that asked for more, nor the reverse), reply and check separately;
 *   - token budget: the smallest one set;
 *   - ignore_paths, keywords, references: the union in first-seen order.
 *
 * Hash.  subsys_set_hash() is the SHA-1 (git blob hash) of a canonical
 * serialisation of the parsed set, files ordered by section title: it
 * changes when any value that can reach a prompt or a decision changes,
 * and not for comments, layout, quoting style or file names.  The
 * review records it in its prompt-set hash.
 *
 * Lifetime.  A set is immutable once loaded and may be shared by
 * threads.  Every string reachable from a set, a file or a
 * struct subsys_rules is owned by the set, except the guidance texts
 * of a struct subsys_rules, which the rules own: a rules value must not
 * outlive the set it was built from.
 */
#ifndef KREVIEW_SUBSYS_H
#define KREVIEW_SUBSYS_H

#include "kreview/common.h"
#include "kreview/config.h"
#include "kreview/strbuf.h"

/* Limits. */
#define SUBSYS_MAX_FILES 1024	      /* rule files in a directory */
#define SUBSYS_MAX_GUIDANCE 16384     /* bytes of guidance per stage */
#define SUBSYS_MAX_TEXT 2048	      /* bytes of any other text */
#define SUBSYS_MAX_TITLE 256	      /* bytes of a section title */
#define SUBSYS_MAX_PATH 256	      /* bytes of a glob or reference */
#define SUBSYS_MAX_KEYWORD 64	      /* bytes of a keyword */
#define SUBSYS_MIN_TOKEN_BUDGET 1000
#define SUBSYS_MAX_TOKEN_BUDGET 10000000

/* Stages of a review, in pipeline order. */
enum subsys_stage {
	SUBSYS_STAGE_INTENT,
	SUBSYS_STAGE_CLAIMS,
	SUBSYS_STAGE_FLOW,
	SUBSYS_STAGE_RESOURCES,
	SUBSYS_STAGE_LOCKING,
	SUBSYS_STAGE_SECURITY,
	SUBSYS_STAGE_HARDWARE,
	SUBSYS_STAGE_SUBSYSTEM,
	SUBSYS_STAGE_VERIFY,
	SUBSYS_STAGE_REPORT,
	SUBSYS_STAGE_MAX
};

/* Severities, in increasing order so that they compare. */
enum subsys_severity {
	SUBSYS_SEV_LOW,
	SUBSYS_SEV_MEDIUM,
	SUBSYS_SEV_HIGH,
	SUBSYS_SEV_CRITICAL,
	SUBSYS_SEV_MAX
};

/* "no floor set" in an int holding an enum subsys_severity. */
#define SUBSYS_SEV_NONE (-1)

/* Bit for 'stage' in a stage mask. */
#define SUBSYS_STAGE_BIT(stage) (1u << (stage))
#define SUBSYS_STAGE_ALL ((1u << SUBSYS_STAGE_MAX) - 1)

/* Names; NULL-terminated tables indexed by the enums. */
extern const char *const subsys_stage_names[];
extern const char *const subsys_severity_names[];

/* "locking"; BUG() on a value out of range. */
const char *subsys_stage_name(enum subsys_stage stage);
const char *subsys_severity_name(enum subsys_severity sev);
/* Look a name up: 0 and '*out', or -EINVAL for an unknown name. */
int subsys_stage_from_name(enum subsys_stage *out, const char *name);
int subsys_severity_from_name(enum subsys_severity *out, const char *name);

/* Values; strings borrowed from the set (see Lifetime above). */

struct subsys_non_issue {
	const char *section; /* title of the file it came from */
	const char *pattern; /* what looks like a bug */
	const char *why;     /* why it is not one */
	unsigned int stages; /* SUBSYS_STAGE_BIT()s it applies to */
};

struct subsys_style_rule {
	const char *section;
	const char *id;
	const char *text;
	enum subsys_severity severity;
	const char *const *paths; /* globs; nr_paths 0: every path */
	size_t nr_paths;
};

/* One rule file, as loaded; opaque, owned by its set once added. */
struct subsys_file;

/*
 * Parse one rule file from 'len' bytes at 'buf'; 'name' is the file
 * name used in messages.  On success '*out' is a new file (free it
 * with subsys_file_free() unless it is handed to subsys_set_add()).
 * On failure return -EINVAL (-E2BIG for an oversized buffer), leave
 * '*out' alone and append one line per problem to 'err' (may be NULL).
 */
int subsys_file_parse(struct subsys_file **out, const char *name,
		      const char *buf, size_t len, struct strbuf *err);
/* The same from the file 'path': -ENOENT, -errno, -E2BIG or -EINVAL. */
int subsys_file_load(struct subsys_file **out, const char *path,
		     struct strbuf *err);
void subsys_file_free(struct subsys_file *f);

/* Accessors; everything borrowed from 'f'. */
const char *subsys_file_name(const struct subsys_file *f);
const char *subsys_file_section(const struct subsys_file *f);
size_t subsys_file_also_count(const struct subsys_file *f);
const char *subsys_file_also_at(const struct subsys_file *f, size_t i);
/* The guidance for 'stage' or NULL; whether the stage is enabled. */
const char *subsys_file_guidance(const struct subsys_file *f,
				 enum subsys_stage stage);
bool subsys_file_stage_enabled(const struct subsys_file *f,
			       enum subsys_stage stage);
size_t subsys_file_non_issue_count(const struct subsys_file *f);
const struct subsys_non_issue *
subsys_file_non_issue_at(const struct subsys_file *f, size_t i);
size_t subsys_file_style_count(const struct subsys_file *f);
const struct subsys_style_rule *
subsys_file_style_at(const struct subsys_file *f, size_t i);
/* SUBSYS_SEV_NONE when unset. */
int subsys_file_floor_reply(const struct subsys_file *f);
int subsys_file_floor_check(const struct subsys_file *f);
/* 0 when unset. */
int subsys_file_token_budget(const struct subsys_file *f);

/* Sets. */

/* A set of rule files keyed by section title; opaque. */
struct subsys_set;

/* An empty set; never fails. */
void subsys_set_new(struct subsys_set **out);
void subsys_set_free(struct subsys_set *set);

/*
 * Add 'f' to 'set', which takes ownership whatever the outcome (on
 * failure 'f' is freed).  -EEXIST, with "FILE:LINE:COL: section
 * 'TITLE' is already claimed by OTHER:LINE:COL" in 'err', when one of
 * its titles belongs to a file of the set already.
 */
int subsys_set_add(struct subsys_set *set, struct subsys_file *f,
		   struct strbuf *err);

/*
 * Load every "*.yaml" file of directory 'dir' (not hidden ones, not
 * below subdirectories) in byte order of their names into a new set.
 * Every file is read and every problem reported before giving up, one
 * line each in 'err'.  On success '*out' is the set; on failure '*out'
 * is untouched and the return is -ENOENT/-ENOTDIR/-errno for the
 * directory, -E2BIG over SUBSYS_MAX_FILES, or -EINVAL when any file is
 * invalid.  An empty directory gives an empty set.
 */
int subsys_set_load_dir(struct subsys_set **out, const char *dir,
			struct strbuf *err);

/*
 * Put into 'out' (reset first) the rule directory to use: 'explicit_dir'
 * if not NULL or empty (review.subsystems), else KREVIEW_SRCDIR
 * "/subsystems" when that exists (running from the build tree), else
 * KREVIEW_DATADIR "/subsystems".  Like prompt_find_dir().
 */
void subsys_find_dir(struct strbuf *out, const char *explicit_dir);

/* Files in the order they were added. */
size_t subsys_set_count(const struct subsys_set *set);
const struct subsys_file *subsys_set_at(const struct subsys_set *set,
					size_t i);

/* The file claiming 'title' as 'section' or in 'also', or NULL. */
const struct subsys_file *subsys_set_lookup(const struct subsys_set *set,
					    const char *title);

/* 40 lowercase hex digits and a NUL into 'out'; see Hash above. */
void subsys_set_hash(char out[41], const struct subsys_set *set);

/*
 * Keyword triggers: the files none of whose titles is in 'titles'
 * ('nr' of them, may be 0) but one of whose 'keywords' occurs in
 * 'diff' ('len' bytes of unified diff) on an added or removed line,
 * bounded by non-identifier characters ("call_rcu" does not match
 * "call_rcu_tasks"; a keyword ending in '*' is a prefix: "rcu_*"
 * matches "rcu_read_lock").  Their section titles are appended to
 * 'out' (not reset) in set order, each once.  File header lines
 * ("+++ ", "--- ") are not searched.
 */
void subsys_set_match_keywords(struct config_strlist *out,
			       const struct subsys_set *set,
			       const char *const *titles, size_t nr,
			       const char *diff, size_t len);

/* The effective rules for one patch. */

struct subsys_rules {
	/* Titles of the files applied, in merge order; borrowed. */
	const char **sections;
	size_t nr_sections;
	/* Per stage: owned text or NULL; enabled flag. */
	char *guidance[SUBSYS_STAGE_MAX];
	bool enabled[SUBSYS_STAGE_MAX];
	struct subsys_non_issue *non_issues;
	size_t nr_non_issues;
	struct subsys_style_rule *style;
	size_t nr_style;
	int floor_reply; /* enum subsys_severity or SUBSYS_SEV_NONE */
	int floor_check;
	int token_budget; /* 0: no budget set */
	const char **ignore_paths;
	size_t nr_ignore_paths;
	const char **keywords;
	size_t nr_keywords;
	const char **references;
	size_t nr_references;
};

void subsys_rules_init(struct subsys_rules *r);
void subsys_rules_release(struct subsys_rules *r);

/*
 * Merge the files of 'set' that claim the 'nr' titles in 'titles'
 * (most specific first, as maint_map() orders them; titles without a
 * file are skipped, a file claimed by two titles is applied once) into
 * 'out', which is released first.  With no file at all the result has
 * every stage enabled and nothing else set.
 */
void subsys_rules_build(struct subsys_rules *out, const struct subsys_set *set,
			const char *const *titles, size_t nr);

/*
 * True if 'path' (relative to the top of the tree, no leading "/")
 * matches one of 'globs' with the glob syntax above.
 */
bool subsys_glob_list_match(const char *const *globs, size_t nr,
			    const char *path);
/* True when changes to 'path' are not to be reviewed. */
bool subsys_rules_ignores(const struct subsys_rules *r, const char *path);
/* True when style rule 's' applies to changes in 'path'. */
bool subsys_style_applies(const struct subsys_style_rule *s,
			  const char *path);

/*
 * Check a glob's syntax: 0, or -EINVAL with a reason ("unbalanced
 * '['") in '*why' (a static string).
 */
int subsys_glob_check(const char *glob, const char **why);

#endif
