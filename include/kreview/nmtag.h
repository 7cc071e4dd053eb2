/*
 * nmtag.h - marking reviewed messages in a notmuch database.
 *
 * After a review, the messages of the series get the tags
 * "kreview-reviewed" and, when findings were reported,
 * "kreview-<severity>" of the most severe one, so maintainers see the
 * outcome in their mail client.  The database is opened READ_WRITE
 * only for this short batch (no config file, so a user's settings do
 * not apply) and closed at once; while another process holds the
 * write lock the open is retried with backoff until 'timeout_ms'.
 * Blocking: call it from a worker thread, never from the event loop.
 */
#ifndef KREVIEW_NMTAG_H
#define KREVIEW_NMTAG_H

#include "kreview/common.h"

struct strbuf;

#define NMTAG_REVIEWED "kreview-reviewed"

/*
 * Tag the messages 'msgids' (without <>, 'nr' of them) in the notmuch
 * database at 'db_path'.  'severity' is the name of the most severe
 * reported finding or NULL.  Messages not in the database are skipped.
 * 0, -ETIMEDOUT when the write lock was never obtained, -EIO otherwise;
 * 'err' says why.
 */
int nmtag_reviewed(const char *db_path, const char *const *msgids, size_t nr,
		   const char *severity, int64_t timeout_ms,
		   struct strbuf *err);

#endif
