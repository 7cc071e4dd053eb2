/*
 * diff.h - parser for the unified diffs in patch mail.
 *
 * Reads "diff --git" sections (and plain "--- a/x" / "+++ b/x" diffs
 * without the git header) into files and hunks.  Handles new, deleted,
 * renamed, copied and mode-changed files, and "GIT binary patch" /
 * "Binary files ... differ" (marked binary, no hunks).  Hunk line
 * counts are checked against the hunk header; a hunk that is cut short
 * makes the parse fail with -EPROTO and a reason in 'err'.  Quoted
 * lines ("> diff --git") are never diff lines.  Text before, between
 * and after the file sections is ignored, as git apply does; combined
 * diffs of merges ("diff --cc", quoted in pull requests) are skipped.
 * Bounded: at most DIFF_MAX_FILES files and DIFF_MAX_HUNKS hunks.
 */
#ifndef KREVIEW_DIFF_H
#define KREVIEW_DIFF_H

#include "kreview/common.h"

struct strbuf;

#define DIFF_MAX_FILES 10000
#define DIFF_MAX_HUNKS 100000

enum diff_status {
	DIFF_MODIFIED,
	DIFF_ADDED,
	DIFF_DELETED,
	DIFF_RENAMED,
	DIFF_COPIED,
};

struct diff_hunk {
	int old_start, old_lines;
	int new_start, new_lines;
	char *section;	/* text after the second "@@", may be "" */
	size_t offset;	/* byte offset of the "@@" line in the input */
	size_t length;	/* bytes of the hunk incl. header and a final
			   "\ No newline" marker: up to the next hunk */
	int added, removed;
};

struct diff_file {
	char *old_path;	 /* without "a/"; NULL for an added file */
	char *new_path;	 /* without "b/"; NULL for a deleted file */
	enum diff_status status;
	unsigned old_mode, new_mode; /* 0 when not stated */
	char *old_oid, *new_oid;     /* from the "index" line, or NULL */
	int similarity;		     /* rename/copy similarity, or -1 */
	bool binary;
	size_t offset;		     /* byte offset of the file's header */
	/* Bytes from 'offset' to the end of the file's last line. */
	size_t length;
	struct diff_hunk *hunks;
	size_t hunks_nr, hunks_alloc;
};

struct diff {
	struct diff_file *files;
	size_t files_nr, files_alloc;
};

#define DIFF_INIT { 0 }

void diff_init(struct diff *d);
void diff_release(struct diff *d);

/*
 * Parse the diff text 'text' of 'len' bytes.  'out' must be
 * initialised and is only changed on success.  -EPROTO with a reason
 * (naming the line) on malformed input, -E2BIG over the limits.
 */
int diff_parse(struct diff *out, const char *text, size_t len,
	       struct strbuf *err);

/* The path a file is known by: new_path, else old_path. */
const char *diff_file_path(const struct diff_file *f);

#endif
