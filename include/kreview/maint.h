/*
 * maint.h - the kernel's MAINTAINERS file: parser and path/keyword
 * matcher with the semantics of scripts/get_maintainer.pl.
 *
 * The file is a list of sections.  A section is a title line followed
 * by entry lines "X:<blanks>value" (X a capital letter).  Exactly as in
 * get_maintainer.pl, blank lines and "#" comment lines are ignored
 * everywhere (they do not end a section); every other line that is not
 * an entry is a title, and the last title before a run of entries names
 * the section those entries belong to.  The tab-indented prose at the
 * top of the file is therefore a series of titles without entries and
 * is dropped.  Every entry is stored, whatever its letter, with its
 * line number, so that M:, R:, L:, S:, T:, W:, Q:, B:, C:, P: can be
 * read back for recipients, status and base-tree candidates.
 *
 * Matching a path (get_maintainer.pl -f):
 *   - F:/X: values are translated to regexes: "." -> "\.", "*" -> ".*",
 *     "?" -> "."; other regex characters pass through.  A value naming a
 *     directory of the tree and lacking a trailing "/" gets one; the test
 *     is made on the translated value, so a directory name with a dot in
 *     it never gets the slash (the script's quirk, kept).
 *   - A pattern ending in "/" matches by prefix at any depth; any other
 *     pattern must match at the start of the path AND have as many "/" as
 *     the path (the end is not anchored: "mm.h" matches "mm.hx").
 *   - If any X: of a section matches, the section is skipped.  Otherwise
 *     every matching F: sets the section's depth to the pattern's "/"
 *     count, +1 unless it ends in "/", or -1 if it starts with "*"; a
 *     matching N: regex (Perl /x) sets it to 0.  The last matching entry
 *     of the section wins, as in the script.
 *   - Sections come out by descending depth.  The script leaves ties in
 *     Perl hash order; we break them by order in the file.
 *
 * Directory knowledge: with a maint_opts.is_dir callback the auto-slash
 * rule is applied exactly.  Without one (no tree at hand) a literal
 * value without ".", "*" or "?" is taken to be a directory when another
 * F:/X: value lies beneath it, or, at match time, when the matched path
 * lies beneath it (a path inside a directory proves it is one).  The only
 * case this gets wrong is a directory "d" not otherwise mentioned and a
 * path that merely starts with "d" ("d" vs "dfoo.c").
 *
 * Keywords (get_maintainer.pl on a patch): K: regexes (Perl /x) are
 * matched line by line.  Until the first "--- x" or "+++ x" file header
 * (the mail headers and commit message) a keyword may match anywhere in
 * a line; after it only in lines starting with "+" or "-".  The file
 * header, "diff --git", "rename from/to", "mode change", "@@" and
 * "Fixes:" lines are never searched.  One deliberate difference: the
 * script prefixes the keyword with "^[+-].*" by string concatenation,
 * so a keyword with a top-level "|" (PHYLINK's) also matches context
 * lines there; here the keyword is searched from the second byte of a
 * +/- line only, so context lines never match.
 *
 * Regexes (N:, K:, and F:/X: values that are not plain prefixes) are
 * compiled with PCRE2 once at parse time: N:/K: with PCRE2_EXTENDED |
 * PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, F:/X: byte-wise like Perl.
 * Matching runs under match, depth and heap limits; a match that hits a
 * limit counts as no match and is counted in maint_matches.regex_errors.
 * A pattern that fails to compile is reported as a diagnostic with its
 * file and line and left out; its section stays.
 *
 * Bounds: MAINT_MAX_FILE bytes, MAINT_MAX_SECTIONS sections,
 * MAINT_MAX_ENTRIES entries, MAINT_MAX_LINE bytes per line,
 * MAINT_MAX_PATTERN bytes per regex, MAINT_MAX_DIAGS diagnostics kept.
 *
 * Threads: a parsed struct maint is read-only and may be shared by any
 * number of threads matching concurrently.
 */
#ifndef KREVIEW_MAINT_H
#define KREVIEW_MAINT_H

#include "kreview/common.h"

struct strbuf;

#define MAINT_MAX_FILE (32u << 20)
#define MAINT_MAX_SECTIONS 50000
#define MAINT_MAX_ENTRIES 500000
#define MAINT_MAX_LINE 65536
#define MAINT_MAX_PATTERN 4096
#define MAINT_MAX_DIAGS 1000

/* The parsed file; opaque, read-only after maint_parse(). */
struct maint;

/* One "X:\tvalue" line, value as written after the blanks. */
struct maint_entry {
	char type;	   /* 'A'..'Z' */
	unsigned int line; /* 1-based line number */
	const char *value; /* NUL-terminated, owned by the struct maint */
};

/* A section; every pointer is owned by the struct maint. */
struct maint_section {
	const char *title;	/* "BTRFS FILE SYSTEM", "THE REST" */
	unsigned int line;	/* line of the title (0: none, see diags) */
	size_t index;		/* position in file order */
	const struct maint_entry *entries; /* in file order */
	size_t nr_entries;
};

/* A remark about the input: "<file>:<line>: <msg>". */
struct maint_diag {
	unsigned int line;
	const char *msg;
};

/*
 * Tell whether 'path' (a translated F:/X: value relative to the top of
 * the tree, e.g. "drivers/net" or "fs/btrfs") is a directory.
 */
typedef bool maint_is_dir_fn(const char *path, void *ctx);

struct maint_opts {
	unsigned int version;
	maint_is_dir_fn *is_dir; /* NULL: no tree, use the heuristic above */
	void *is_dir_ctx;
};

#define MAINT_OPTS_VERSION 1
#define MAINT_OPTS_INIT { .version = MAINT_OPTS_VERSION }

/*
 * Parsing.
 *
 * Parse the 'len' bytes at 'buf' (need not be NUL-terminated); 'name'
 * is used in diagnostics ("MAINTAINERS").  'opts' may be NULL.  On
 * success '*out' owns a copy of everything it needs.  Fails with
 * -E2BIG past a bound, -EINVAL if no section was found; the reason goes
 * to 'err' (may be NULL) as "<name>:<line>: <reason>".  Oddities that
 * do not stop the parse become diagnostics.
 */
int maint_parse(struct maint **out, const char *buf, size_t len,
		const char *name, const struct maint_opts *opts,
		struct strbuf *err);
/* Read and parse the file 'path'; -errno if it cannot be read. */
int maint_load_file(struct maint **out, const char *path,
		    const struct maint_opts *opts, struct strbuf *err);
void maint_free(struct maint *m);

/* The name given to maint_parse(). */
const char *maint_name(const struct maint *m);

/* Diagnostics, in line order; the count excludes dropped ones. */
size_t maint_diag_count(const struct maint *m);
const struct maint_diag *maint_diag_at(const struct maint *m, size_t i);

/*
 * Sections.
 */
size_t maint_section_count(const struct maint *m);
const struct maint_section *maint_section_at(const struct maint *m,
					     size_t i);
/* The first section titled exactly 'title', or NULL. */
const struct maint_section *maint_find_section(const struct maint *m,
					       const char *title);
/* The n-th (0-based) value of entry type 'type', or NULL. */
const char *maint_section_value(const struct maint_section *s, char type,
				size_t n);

enum maint_status {
	MAINT_STATUS_NONE,	/* no S: */
	MAINT_STATUS_SUPPORTED,
	MAINT_STATUS_MAINTAINED,
	MAINT_STATUS_ODD_FIXES,
	MAINT_STATUS_ORPHAN,
	MAINT_STATUS_OBSOLETE,
	MAINT_STATUS_BURIED,	/* THE REST: "Buried alive in reporters" */
	MAINT_STATUS_OTHER,
	MAINT_STATUS_MAX,
};

/* The first S: of the section, classified (case-insensitive). */
enum maint_status maint_section_status(const struct maint_section *s);

/*
 * The address of an L: value without its annotation ("(moderated for
 * non-subscribers)"), lowercased, into 'out' (reset first).  -EINVAL if
 * the value has no address.
 */
int maint_list_address(struct strbuf *out, const char *value);
/* True if the L: value is marked "(subscribers-only)". */
bool maint_list_subscribers_only(const char *value);
/*
 * True if a P: value is a profile document rather than a person (old
 * files used P: for "person": "Name <addr>" or a bare address).
 */
bool maint_p_is_profile(const char *value);

/*
 * Matching.
 */

enum maint_how {
	MAINT_BY_FILE = 1,    /* an F: pattern */
	MAINT_BY_NAME = 2,    /* an N: regex */
	MAINT_BY_KEYWORD = 4, /* a K: regex on the patch text */
};

/* Depth given to sections found only through K:. */
#define MAINT_DEPTH_KEYWORD INT_MIN

struct maint_match {
	const struct maint_section *section; /* borrowed from the maint */
	int depth;	  /* specificity, see above; max over paths */
	unsigned int how; /* MAINT_BY_* bits */
	size_t nr_paths;  /* how many of the mapped paths hit it */
};

struct maint_matches {
	struct maint_match *v;
	size_t nr, alloc;
	size_t regex_errors; /* regex matches that failed (limits) */
};

#define MAINT_MATCHES_INIT { 0 }

void maint_matches_init(struct maint_matches *mm);
void maint_matches_release(struct maint_matches *mm);

/*
 * Append the sections matching one repository-relative path ("fs/btrfs/
 * inode.c"; a directory with a trailing "/") in get_maintainer.pl -f
 * order: descending depth, ties in file order.  'out' is not reset;
 * sections already in it are updated (depth max, how, nr_paths) in
 * place.  Returns the number of sections that matched the path.
 */
size_t maint_match_path(struct maint_matches *out, const struct maint *m,
			const char *path);

/*
 * Append the sections whose K: regexes match the patch text 'text'
 * ('len' bytes: mail headers and commit message, then the diff), in the
 * script's order (by the K: entry's position, compared as decimal
 * strings, as its sort_and_uniq() does).  Sections already in 'out'
 * only get MAINT_BY_KEYWORD added.  Returns the number of sections
 * whose keywords matched.
 */
size_t maint_match_keywords(struct maint_matches *out,
			    const struct maint *m, const char *text,
			    size_t len);

/*
 * Map a patch or series: the sections of every path of 'paths' (in the
 * order given, each path's sections in maint_match_path() order, each
 * section once, at its first appearance), then the sections found only
 * through K: in 'text' (may be NULL).  get_maintainer.pl sorts the file
 * names of a patch bytewise first; pass them sorted to get its order.
 * 'out' is reset first.
 */
void maint_map(struct maint_matches *out, const struct maint *m,
	       const char *const *paths, size_t nr_paths, const char *text,
	       size_t len);

#endif
