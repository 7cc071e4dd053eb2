/*
 * ingest.h - reading a source into the main database.
 *
 * One source is read to its end (or to an error): each message is
 * parsed, classified (bot mail, kreview's own mail) and stored; a
 * public-inbox "d" deletes.  Messages are committed in batches together
 * with the source cursor that covers them, so a crash at any moment
 * loses nothing and a rerun stores nothing twice.  With a list name,
 * every stored message is also recorded in message_list (queue.h) in
 * the same transaction, which gives the daemon the list and priority
 * of a series.
 *
 * Problems with single messages are reported through the 'report'
 * callback ("where: what") and counted; they never stop the source.
 * Series assembly is the caller's next step (store_assemble_dirty()).
 */
#ifndef KREVIEW_INGEST_H
#define KREVIEW_INGEST_H

#include "kreview/common.h"
#include "kreview/source.h"

struct db;
struct kreview_config;
struct strbuf;

struct ingest_stats {
	size_t read, added, patches, errors;
};

struct ingest_source {
	enum source_kind kind;
	const char *location;
	const char *query;	/* notmuch only */
	const char *list;	/* message_list name, or NULL for none */
	int priority;		/* with 'list' */
	/* Messages per transaction; 0: 256. */
	size_t batch;
	/* Stop after this many messages (tests); 0: no limit. */
	size_t max_messages;
	/* "where: what" for a message-level problem, or NULL (stderr).
	 * 'where' is NULL when 'what' names the position itself. */
	void (*report)(void *ctx, const char *where, const char *what);
	void *report_ctx;
	/* Called with the running totals after each committed batch, or
	 * NULL. */
	void (*progress)(void *ctx, const struct ingest_stats *st);
	void *progress_ctx;
};

/* What a NULL 'report' does: "kreview: where: what" on stderr. */
void ingest_report_stderr(const char *where, const char *what);

/*
 * Read 'is' from its stored cursor to the end, adding to 'st'.
 * 0 when the source was read to its end, else a negative errno with
 * the reason in 'err' (what was read before the failure is kept).
 */
int ingest_source(struct ingest_stats *st, struct db *db,
		  const struct kreview_config *cfg,
		  const struct ingest_source *is, struct strbuf *err);

#endif
