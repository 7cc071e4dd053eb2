/*
 * revtools.h - the read-only tree tools a review stage may call.
 *
 * A stage whose prompt needs "tools" gets four tools when the series
 * has a tree (it applied in memory on its base):
 *
 *   read_file(path, start, end, position)   numbered lines of a file
 *   read_function(path, name, position)     one C definition of a file
 *   grep(pattern, path_prefix, regex, position)
 *                                           matching lines in the tree
 *   git_log(path, max)                      commits below the base that
 *                                           changed a path
 *
 * 'position' is a patch position: 0 is the base, i the tree after
 * patch i; the tip of the series when absent.
 *
 * Trust.  The arguments come from a model that read untrusted text, so
 * they are hostile: every call is checked against its fixed JSON Schema
 * (unknown keys, wrong types and out-of-range numbers are refused),
 * there are no free-form flags, and everything is read from git
 * objects, never from the file system.  A path is relative to the tree
 * root: absolute paths, "." and ".." components, empty components,
 * control characters and backslashes are refused before any lookup,
 * and a path that runs through a symbolic link or a submodule is
 * refused (the link's target is not followed; the model may ask for
 * the target itself).  Regexes are PCRE2 with match and depth limits;
 * a search that hits a limit stops with a note.
 *
 * Caps.  Every result is capped in lines and bytes; grep in matches,
 * files and bytes scanned; git_log in entries and commits walked; every
 * call has a wall-clock budget checked in its loops.  A result says
 * when a cap cut it short, so the model knows it saw only part.
 *
 * Output.  File contents and commit subjects are untrusted: a
 * successful result is one fence of kind "tool-output" with the
 * review's token (prompt_fence()).  Refusals are short fixed texts
 * returned as tool errors; they echo a path only when it passed the
 * path rules.
 */
#ifndef KREVIEW_REVTOOLS_H
#define KREVIEW_REVTOOLS_H

#include "kreview/common.h"

struct strbuf;
struct git_repository;
struct git_oid;
struct llm_conv;

struct revtools_limits {
	size_t max_bytes;	/* per result; 0: 32 KiB */
	unsigned max_lines;	/* read_file/read_function; 0: 400 */
	unsigned max_matches;	/* grep; 0: 100 */
	size_t max_scan_bytes;	/* grep: blob bytes searched; 0: 64 MiB */
	unsigned max_log;	/* git_log entries; 0: 50 */
	unsigned max_walk;	/* git_log commits walked; 0: 200000 */
	int64_t time_ms;	/* per call; 0: 2000 */
};

#define REVTOOLS_LIMITS_INIT { 0 }

/* Longest path and grep pattern accepted. */
#define REVTOOLS_MAX_PATH 1024
#define REVTOOLS_MAX_PATTERN 256

struct revtools;

/*
 * A tool set over 'repo' (borrowed; must outlive the set): 'trees'
 * (nr_trees >= 1, copied) are the trees at positions 0 (base) ..
 * nr_trees - 1 (tip); 'base_commit' (copied; NULL when the base is a
 * bare tree) is where git_log starts; 'token' (copied) fences the
 * output.  'lim' may be NULL.  -EINVAL when nr_trees is 0 or the token
 * is empty.
 */
int revtools_new(struct revtools **out, struct git_repository *repo,
		 const struct git_oid *trees, size_t nr_trees,
		 const struct git_oid *base_commit, const char *token,
		 const struct revtools_limits *lim);
void revtools_free(struct revtools *t);

/* The tools, in a fixed order. */
#define REVTOOLS_NR 4

/* Name, description and argument schema of tool 'i' (< REVTOOLS_NR). */
const char *revtools_name(size_t i);
const char *revtools_description(size_t i);
const char *revtools_schema(size_t i);

/*
 * Run tool 'name' with the JSON object text 'args'.  The result (or
 * the refusal) is appended to 'out'.  Returns 0, or a negative errno
 * for a refusal: -EINVAL bad arguments or path, -ENOENT no such file,
 * function or position, -EPERM a symlink or submodule on the path,
 * -EMEDIUMTYPE a binary file, -ENOSYS no history (bare tree base) or
 * unknown tool, -EEXIST the material contains the fence token, -EIO
 * the object database failed.
 */
int revtools_call(struct strbuf *out, struct revtools *t, const char *name,
		  const char *args);

/* Register all tools in conversation 'c' (before llm_conv_start()). */
void revtools_register(struct llm_conv *c, struct revtools *t);

/*
 * Check a tree-relative path against the rules above: 0, or -EINVAL
 * with the reason in 'err' (may be NULL).  'prefix' allows "" and one
 * trailing "/" (grep's path_prefix).
 */
int revtools_check_path(const char *path, bool prefix, struct strbuf *err);

/* Calls, refusals and bytes returned so far (for tests and notes). */
struct revtools_stats {
	unsigned calls, refused;
	size_t bytes;
};

void revtools_stats(struct revtools_stats *out, const struct revtools *t);

#endif
