/*
 * prompt.h - the review prompt set: loading, validation, hashing and
 * stage selection.
 *
 * A prompt set is a directory of markdown files (prompts/ in the source
 * tree, KREVIEW_DATADIR "/prompts" once installed; kreview-prompts(5)
 * is the reference).  Each file starts with a YAML front matter block
 * between two "---" lines, followed by the text given to the model:
 *
 *	---
 *	id: flow
 *	title: Execution flow and error paths
 *	applies_to:
 *	  file_types: [c, header]
 *	needs: [diff, functions, definitions]
 *	default_in: [quick, standard, deep]
 *	---
 *	<instructions>
 *
 * The id is one of a closed list: the roles "system" (shared rules,
 * the finding schema, the severity scale), "verify" (the verification
 * prompt), "report" (LKML prose) and "bugverify" (re-verification of
 * a recorded bug against newer code, bugverify.h), and the stages
 * intent, claims, flow, resources, locking, security, hardware and
 * subsystem.  A file is named after its id ("flow.md").  README.md
 * and names starting with "." are not prompt files; other files not
 * ending in ".md" are ignored.  A set needs the roles system, verify
 * and report and at least one stage; bugverify is optional (a set
 * without it cannot re-verify bugs).
 *
 * Front matter keys (unknown keys are errors, with FILE:LINE:COL):
 *   id          required, see above
 *   title       required, one line for plans and --dry-run
 *   needs       list of context the assembler must supply: diff,
 *               functions (whole enclosing functions), definitions
 *               (referenced types and callees), commit_message,
 *               cover_letter, series (the other patches' subjects),
 *               tools (tree tools), subsystem_rules; default none
 *   applies_to  stages only: mapping of triggers (below); absent means
 *               every patch
 *   default_in  stages only, required: the profiles quick, standard,
 *               deep whose plans include the stage
 *
 * Triggers.  A stage applies to a patch when the profile is in its
 * default_in and, if it has applies_to, when any one trigger fires:
 *   paths       globs over the paths the patch touches (both sides of
 *               a rename), relative to the tree root, case-sensitive.
 *               "*" matches within one path component, "?" one
 *               character other than "/", "[...]" a class ("[!...]"
 *               negated), a whole path component "**" any number
 *               of components, including none (examples in
 *               kreview-prompts(5): C comments cannot hold them),
 *               "\" quotes the next character.  The whole path
 *               must match, except that a pattern ending in "/"
 *               matches everything beneath that directory, as
 *               MAINTAINERS F: directories do.  Unlike F:, a pattern
 *               is anchored at its end and "*" never crosses a "/":
 *               F: semantics depend on the tree (the directory
 *               auto-slash) and read too much into short patterns,
 *               while a prompt wants a predictable rule.
 *   keywords    looked for in the commit message and in the added and
 *               removed lines of the diff (never in context lines or
 *               file headers).  A plain keyword is an ASCII
 *               case-insensitive substring.  A keyword written
 *               "/regex/" is a PCRE2 regex (byte-wise, caseless,
 *               searched line by line, bounded by match limits; a
 *               search that hits a limit counts as no match).
 *   file_types  named file kinds, see prompt_file_type()
 *
 * The prompt-set hash is git's blob id (git hash-object) of a
 * canonical concatenation of the prompt files: the line
 * "kreview prompt set 1\n", then for each prompt file in byte order
 * of its name: the name, "\n", the file size in decimal, "\n", the
 * file's exact bytes, "\n".  README.md and ignored files are not part
 * of it.  Any byte changed in any prompt file, a file added, removed
 * or renamed, changes the hash; nothing else (mtimes, the directory's
 * location, other files) does.
 *
 * Untrusted material (patch text, commit messages, mail headers, tree
 * files, tool output) reaches the model only inside fences whose
 * marker lines carry a random token the material cannot know:
 *
 *	[untrusted <token> begin <kind>]
 *	...
 *	[untrusted <token> end <kind>]
 *
 * system.md tells the model this; prompt_fence_announce() states the
 * token in the trusted part of a request.  One token per patch keeps
 * the request prefix identical across stages and runs.
 *
 * Threads: a loaded set is read-only; any number of threads may call
 * the lookup and prompt_applies() functions on it concurrently.
 */
#ifndef KREVIEW_PROMPT_H
#define KREVIEW_PROMPT_H

#include "kreview/common.h"
#include "kreview/strbuf.h"

/* Bounds: bytes per prompt file and prompt files per set. */
#define PROMPT_MAX_FILE (256 * 1024)
#define PROMPT_MAX_FILES 64
/* The front matter must close within this many lines. */
#define PROMPT_MAX_FRONT_LINES 200
/* Patterns per trigger list, and bytes per pattern. */
#define PROMPT_MAX_PATTERNS 128
#define PROMPT_MAX_PATTERN 256

enum prompt_kind {
	PROMPT_SYSTEM,
	PROMPT_STAGE,
	PROMPT_VERIFY,
	PROMPT_REPORT,
	PROMPT_BUGVERIFY,
	PROMPT_KIND_MAX
};

/* Stages in their canonical order (plans list them this way). */
enum prompt_stage {
	PROMPT_STAGE_INTENT,
	PROMPT_STAGE_CLAIMS,
	PROMPT_STAGE_FLOW,
	PROMPT_STAGE_RESOURCES,
	PROMPT_STAGE_LOCKING,
	PROMPT_STAGE_SECURITY,
	PROMPT_STAGE_HARDWARE,
	PROMPT_STAGE_SUBSYSTEM,
	PROMPT_STAGE_MAX
};

enum prompt_profile {
	PROMPT_PROFILE_QUICK,
	PROMPT_PROFILE_STANDARD,
	PROMPT_PROFILE_DEEP,
	PROMPT_PROFILE_MAX
};

/* What a prompt needs in its request; bits of struct prompt.needs. */
enum prompt_need {
	PROMPT_NEED_DIFF = 1u << 0,
	PROMPT_NEED_FUNCTIONS = 1u << 1,
	PROMPT_NEED_DEFINITIONS = 1u << 2,
	PROMPT_NEED_COMMIT_MESSAGE = 1u << 3,
	PROMPT_NEED_COVER_LETTER = 1u << 4,
	PROMPT_NEED_SERIES = 1u << 5,
	PROMPT_NEED_TOOLS = 1u << 6,
	PROMPT_NEED_SUBSYSTEM_RULES = 1u << 7,
};
#define PROMPT_NEED_COUNT 8

/*
 * File kinds for applies_to.file_types; each path has exactly one,
 * decided from its name alone, first rule that fits:
 *   binding      under Documentation/devicetree/bindings/
 *   doc          under Documentation/, or *.rst, *.txt
 *   selftest     under tools/testing/
 *   c            *.c
 *   header       *.h
 *   rust         *.rs
 *   asm          *.S, *.s
 *   devicetree   *.dts, *.dtsi, *.dtso
 *   kconfig      Kconfig, Kconfig.*
 *   makefile     Makefile, Makefile.*, Kbuild, Kbuild.*, *.mk
 *   script       *.sh, *.py, *.pl, *.awk
 *   other        anything else
 */
enum prompt_file_type {
	PROMPT_FT_BINDING,
	PROMPT_FT_DOC,
	PROMPT_FT_SELFTEST,
	PROMPT_FT_C,
	PROMPT_FT_HEADER,
	PROMPT_FT_RUST,
	PROMPT_FT_ASM,
	PROMPT_FT_DEVICETREE,
	PROMPT_FT_KCONFIG,
	PROMPT_FT_MAKEFILE,
	PROMPT_FT_SCRIPT,
	PROMPT_FT_OTHER,
	PROMPT_FT_MAX
};

struct prompt_trigger;

/* One prompt file.  Read-only; owned by its set (or prompt_free()). */
struct prompt {
	char *name; /* the file name, "flow.md" */
	char *id;   /* "flow" */
	char *title;
	enum prompt_kind kind;
	enum prompt_stage stage;  /* PROMPT_STAGE_MAX unless a stage */
	unsigned needs;		  /* enum prompt_need bits */
	unsigned profiles;	  /* 1u << enum prompt_profile; stages */
	char *raw;		  /* the exact file bytes, NUL-terminated */
	size_t raw_len;
	const char *body;	  /* into 'raw': text after the front matter */
	size_t body_len;
	unsigned body_line;	  /* 1-based line where 'body' starts */
	struct prompt_trigger *trigger; /* NULL: applies to every patch */
};

/* Names. */

/* "intent" ... "subsystem"; NULL for PROMPT_STAGE_MAX. */
const char *prompt_stage_name(enum prompt_stage stage);
/* The stage named 'name', or PROMPT_STAGE_MAX. */
enum prompt_stage prompt_stage_from_name(const char *name);
/* "quick", "standard", "deep". */
const char *prompt_profile_name(enum prompt_profile profile);
/* 0 and '*out', or -EINVAL for an unknown name. */
int prompt_profile_parse(enum prompt_profile *out, const char *name);
/* "diff", "functions", ... for one PROMPT_NEED_* bit; NULL otherwise. */
const char *prompt_need_name(unsigned need);
/* "c", "header", ...; NULL for PROMPT_FT_MAX. */
const char *prompt_file_type_name(enum prompt_file_type ft);
/* The kind of 'path' (a tree-relative path), see the table above. */
enum prompt_file_type prompt_file_type(const char *path);

/* One file. */

/*
 * Parse the prompt file 'buf' of 'len' bytes.  'name' is used in
 * messages and its last component must be "<id>.md".  On success
 * '*out' is a new prompt (prompt_free()); on failure '*out' is
 * untouched, the return is -EINVAL (-E2BIG over PROMPT_MAX_FILE) and
 * every problem found is a line "NAME:LINE:COL: message" in 'err'
 * (which may be NULL).
 */
int prompt_parse(struct prompt **out, const char *name, const char *buf,
		 size_t len, struct strbuf *err);
/* Free a prompt; NULL is fine.  Not for prompts owned by a set. */
void prompt_free(struct prompt *p);

/* Sets. */

struct prompt_set;

/*
 * Load every prompt file in 'dir' (not recursive).  All files are read
 * and all problems reported, one line each in 'err', before failing
 * with -EINVAL; -ENOENT/-ENOTDIR/-EACCES when 'dir' cannot be opened.
 * On success '*out' is a new set (prompt_set_free()).
 */
int prompt_set_load(struct prompt_set **out, const char *dir,
		    struct strbuf *err);
void prompt_set_free(struct prompt_set *set);

/* The directory it was loaded from, as given. */
const char *prompt_set_dir(const struct prompt_set *set);
/* The prompt-set hash: 40 lowercase hex digits. */
const char *prompt_set_hash(const struct prompt_set *set);
/*
 * Append the canonical concatenation the hash is computed over (for
 * documentation and tests: "git hash-object --stdin" on it gives the
 * hash).
 */
void prompt_set_canonical(struct strbuf *out, const struct prompt_set *set);

/* Prompts in file-name order; borrowed from the set. */
size_t prompt_set_count(const struct prompt_set *set);
const struct prompt *prompt_set_at(const struct prompt_set *set, size_t i);
/* By id ("system", "flow", ...), or NULL.  Borrowed. */
const struct prompt *prompt_set_get(const struct prompt_set *set,
				    const char *id);
/* The stage prompt, or NULL when the set lacks it.  Borrowed. */
const struct prompt *prompt_set_stage(const struct prompt_set *set,
				      enum prompt_stage stage);
/*
 * The role prompt: never NULL for system, verify and report; NULL for
 * bugverify when the set has none.  Borrowed.
 */
const struct prompt *prompt_set_role(const struct prompt_set *set,
				     enum prompt_kind kind);

/* Stage selection. */

/* What prompt_applies() looks at; everything borrowed. */
struct prompt_patch {
	const char *const *paths; /* touched paths, tree-relative */
	size_t nr_paths;
	const char *diff; /* the unified diff; may be NULL */
	size_t diff_len;
	const char *message; /* the commit message; may be NULL */
	size_t message_len;
};

/*
 * Does stage prompt 'p' apply to 'patch' under 'profile'?  False for
 * role prompts.  Deterministic.  When 'why' is not NULL a short reason
 * is appended ("path 'drivers/net/x.c' matches ...", "not in profile
 * quick", ...) for plans and --dry-run.
 */
bool prompt_applies(const struct prompt *p, const struct prompt_patch *patch,
		    enum prompt_profile profile, struct strbuf *why);

/* Where the prompts are. */

/*
 * Put into 'out' (reset first) the prompt directory to use:
 * 'explicit_dir' if not NULL or empty (the --prompts option), else
 * $KREVIEW_PROMPTS if set and not empty, else KREVIEW_SRCDIR
 * "/prompts" when that holds a system.md (running from the build
 * tree), else KREVIEW_DATADIR "/prompts".  The result is not checked
 * further; prompt_set_load() reports a missing directory.
 */
void prompt_find_dir(struct strbuf *out, const char *explicit_dir);

/* Fences for untrusted material. */

#define PROMPT_FENCE_TOKEN_LEN 32 /* hex digits: 128 random bits */

/* Fill 'out' with a fresh token from getrandom(2); 0 or -errno. */
int prompt_fence_token(char out[PROMPT_FENCE_TOKEN_LEN + 1]);

/*
 * Append 'len' bytes of 'data' fenced with 'token' and labelled 'kind'
 * (lowercase letters, digits and '-', e.g. "patch", "commit-message";
 * anything else is a BUG()).  A newline is added when the data does not
 * end with one.  -EEXIST, with nothing appended, when the data
 * contains the token (the caller draws a new one).
 */
int prompt_fence(struct strbuf *out, const char *token, const char *kind,
		 const char *data, size_t len);

/* Append the trusted sentence that tells the model the token. */
void prompt_fence_announce(struct strbuf *out, const char *token);

#endif
