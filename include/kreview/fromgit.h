/*
 * fromgit.h - a range of commits turned into patch mail, the way
 * "git format-patch --thread=shallow --base=<lower end>" writes it, so
 * that a contributor's unsent branch goes through the same store,
 * series assembly and review as a series read from a mailing list.
 *
 * Each commit of the range (oldest first, merges refused, commits
 * without changes skipped as format-patch does) becomes one message:
 *
 *   From: Author <addr>            (the commit's author and date)
 *   Date: Tue, 2 Apr 2024 10:00:00 +0200
 *   Subject: [PATCH i/N] summary   ("[PATCH] summary" when N is 1)
 *   Message-ID: <kreview-<commit>-<i>of<N>-<base12>@localhost>
 *   In-Reply-To/References: patch 1 (patches 2..N)
 *   MIME-Version/Content-Type: text/plain; charset=UTF-8, 8bit
 *
 *   commit message body
 *   ---
 *    diffstat (libgit2's, 72 columns)
 *
 *   diff --git ... (libgit2's patch printer: renames found, binary
 *                   files as "GIT binary patch")
 *
 *   base-commit: <lower end>       (first patch only)
 *   --
 *   kreview <version>
 *
 * The Message-ID names the commit, its position and the base, so the
 * same range always gives byte-identical messages (storing them again
 * adds nothing) while another range holding the same commit at another
 * position gives other messages instead of conflicting ones.
 *
 * The base is the range's lower end: the merge base of "A" and "B" for
 * "A..B" ("A.." means "A..HEAD", "..B" means "HEAD..B"), which is where
 * the first commit of a linear range was made.
 */
#ifndef KREVIEW_FROMGIT_H
#define KREVIEW_FROMGIT_H

#include "kreview/common.h"

struct strbuf;
struct git_repository;
struct git_oid;

/* Longer ranges are refused: nobody mails a series this long. */
#define FROMGIT_MAX_PATCHES 1000

struct fromgit_patch {
	char commit[41]; /* hex id of the commit */
	char *msgid;	 /* without <> */
	char *raw;	 /* the message, NUL-terminated */
	size_t len;
};

struct fromgit_series {
	char base[41]; /* hex id of the lower end */
	struct fromgit_patch *patches;
	size_t nr;
	size_t skipped_empty; /* commits without changes, left out */
};

#define FROMGIT_SERIES_INIT { { 0 } }

void fromgit_series_release(struct fromgit_series *s);

/*
 * Format the commits of 'range' ("A..B", "A..", "..B") of 'repo'
 * (borrowed) into 'out' (FROMGIT_SERIES_INIT or released).  -EINVAL
 * for a range that is not of those forms, that contains a merge, is
 * empty or is longer than FROMGIT_MAX_PATCHES; -ENOENT when a side does
 * not resolve; -EIO for repository errors.  A reason is appended to
 * 'err' (may be NULL); 'out' is only written on success.
 */
int fromgit_range(struct fromgit_series *out, struct git_repository *repo,
		  const char *range, struct strbuf *err);

/*
 * Append the message for 'commit' as patch 'i' (1-based) of 'n' with
 * lower end 'base' to 'out'; 'msgid_out' (may be NULL) receives the
 * Message-ID it was given (new string).  'in_reply_to' (without <>,
 * may be NULL) threads it; 'with_base' adds the "base-commit:" line.
 * -ENOENT for an unknown commit, -EINVAL for a merge, -ENODATA for a
 * commit that changes nothing (nothing appended), -EIO otherwise.
 */
int fromgit_format(struct strbuf *out, char **msgid_out,
		   struct git_repository *repo, const struct git_oid *commit,
		   size_t i, size_t n, const struct git_oid *base,
		   const char *in_reply_to, bool with_base,
		   struct strbuf *err);

/*
 * Append the RFC 2822 date of 'time' (seconds since the epoch) at the
 * zone 'offset_min' minutes east of UTC: "Tue, 2 Apr 2024 10:00:00
 * +0200".  Independent of the locale.
 */
void fromgit_rfc2822_date(struct strbuf *out, int64_t time, int offset_min);

#endif
