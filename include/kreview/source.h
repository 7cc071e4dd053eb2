/*
 * source.h - where raw mail comes from.
 *
 * A source yields raw RFC 5322 messages one at a time, each with a
 * human-readable position ("lkml.mbox: message 12 at line 3456",
 * "git/0.git: commit 1a2b3c4", "new/1700000.M1P2.host") for error
 * messages, and keeps a cursor: an opaque string that, given back to
 * the same kind of source on the next open, makes it continue after
 * the last message it returned.  The caller stores the cursor in the
 * same database transaction as the messages it covers, so a crash
 * loses nothing and re-reading adds nothing.
 *
 * Kinds:
 *   mbox        a file (or stdin for "-"), mboxrd or mboxo; git's "From "
 *               line rule; cursor = byte offset plus a fingerprint of the
 *               bytes before it (a rewritten file restarts from 0)
 *               The file is streamed (bounded memory, any size).  The
 *               "From " line and the blank line mbox writers add after
 *               a message are not part of the message.  Lines matching
 *               ^>+From  lose one '>' (mboxrd unescaping): mboxo cannot
 *               be told apart reliably, and for mboxo this is harmless
 *               except for a body line that really began with ">From ".
 *               A file that does not start with a "From " line but
 *               with a header line is read as one bare message (a
 *               single saved mail or patch); a last message cut off by
 *               the end of the file is still returned, but unless it
 *               ends with the blank line mbox writers add, the cursor
 *               stays before it (it may still be being written) and the
 *               next run returns it again.
 *   maildir     cur/ and new/ (tmp/ ignored); files read in name order;
 *               no cursor (every run rescans, the store dedups by
 *               Message-ID and content); key "maildir:/abs/path"
 *   inbox       a public-inbox v2 epoch (bare git repository), read with
 *               libgit2: one commit per message, blob "m" added, "d"
 *               deleted; cursor = last commit id; when that commit is no
 *               longer an ancestor of the tip the whole epoch is walked
 *               again (the store dedups)
 *   notmuch     messages matching a query in a notmuch database, opened
 *               read-only with no config file; oldest first; cursor =
 *               "uuid:lastmod" and later runs only see messages changed
 *               since (lastmod:N..M); a NULL or empty query is "*"; the
 *               cursor is given out with the last message (until then
 *               the old one stands); one message per Message-ID, read
 *               from its file (a file gone from disk is -EPROTO)
 *
 * Sources are not thread-safe; one source per thread.
 */
#ifndef KREVIEW_SOURCE_H
#define KREVIEW_SOURCE_H

#include "kreview/common.h"

struct strbuf;
struct source;

/* Largest message a source hands out; bigger ones are skipped with -E2BIG. */
#define SOURCE_MAX_MESSAGE (64u << 20)

enum source_kind {
	SOURCE_MBOX,
	SOURCE_MAILDIR,
	SOURCE_INBOX,
	SOURCE_NOTMUCH,
};

struct source_msg {
	const char *data;     /* raw message bytes, borrowed until next call */
	size_t len;
	const char *where;    /* position for messages, borrowed */
	bool deleted;	      /* public-inbox "d": this message was removed */
	char oid[41];	      /* git blob id (hex) of the bytes if the source
				 knows it (public-inbox), else "" */
};

/*
 * Open a source.  'location' is a path ("-" for stdin with mbox),
 * 'query' is the notmuch query (NULL for other kinds), 'cursor' the
 * value returned by source_cursor() on an earlier run or NULL to start
 * from the beginning.  An unusable cursor is not an error: the source
 * restarts from the beginning and source_restarted() says so.
 * Returns 0 or a negative errno with the reason in 'err'.
 */
int source_open(struct source **out, enum source_kind kind,
		const char *location, const char *query, const char *cursor,
		struct strbuf *err);

/*
 * Next message: 1 and 'out' filled, 0 at the end, negative errno on an
 * error.  -E2BIG and -EPROTO are per-message errors (the message is
 * skipped, 'err' names it, the caller may continue); other errors mean
 * the source cannot be read further.
 */
int source_next(struct source *s, struct source_msg *out,
		struct strbuf *err);

/*
 * Cursor after the last message returned by source_next(), or NULL if
 * this kind keeps none (stdin, maildir).  Borrowed.
 */
const char *source_cursor(const struct source *s);

/*
 * The identity under which the cursor is stored: "mbox:/abs/path",
 * "inbox:/abs/path", "notmuch:/abs/path?query".  NULL for stdin.
 */
const char *source_key(const struct source *s);

/*
 * Lower the per-message cap (tests, fuzzing); 0 or a value above
 * SOURCE_MAX_MESSAGE restores SOURCE_MAX_MESSAGE.  Applies to messages
 * not yet started.
 */
void source_set_max_message(struct source *s, size_t max);

/* True when the given cursor could not be used and reading restarted. */
bool source_restarted(const struct source *s);

void source_free(struct source *s);

#endif
