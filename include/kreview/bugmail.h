/*
 * bugmail.h - answering "#kreview" command mail (reference/bug-db.md
 * §5, lkml-reply.md §6 rules 11 and 12).
 *
 * A command mail is a reply to mail kreview sent - a review reply or
 * an earlier answer, both in the outbox, or a bug digest recorded in a
 * bug database - whose body has "#kreview" lines (bugcmd.h).  bugmail
 * applies the commands and queues the answer in the outbox
 * (reply_compose_command(): To the sender, Cc the list the mail came
 * through).  The daemon runs bugmail_scan() over what it ingests;
 * 'kreview bugs mail --queue' runs bugmail_handle() on one file.
 *
 * Once only.  A mail is processed once, keyed by its Message-ID (the
 * bug databases' command_log), and answered at most once (the outbox
 * takes one answer per Message-ID).  bugmail_scan() keeps a cursor,
 * the highest message row it has looked at (source_cursor key
 * BUGMAIL_CURSOR), and moves it in the transaction that queues the
 * answer, so that no message is looked at twice.  The bug databases
 * are other files: a crash after they committed and before the main
 * database did leaves the commands applied and logged but unanswered;
 * the next pass sees a duplicate and sends nothing.
 *
 * Never processed: bot mail, kreview's own mail (by address or by
 * Message-ID) and Auto-Submitted mail, so that answers cannot loop.
 *
 * Library-like: nothing here logs; every outcome is in the results.
 */
#ifndef KREVIEW_BUGMAIL_H
#define KREVIEW_BUGMAIL_H

#include "kreview/common.h"
#include "kreview/reply.h"

struct db;
struct kreview_config;
struct maint;
struct strbuf;

/* The source_cursor key of bugmail_scan(). */
#define BUGMAIL_CURSOR "bugmail:message"

struct bugmail_opts {
	const struct kreview_config *cfg; /* lists:, mail:, bugs: */
	const char *dir;		  /* the bug databases */
	/*
	 * MAINTAINERS for authorisation, move: and the "is a list in
	 * Cc" test, or NULL.  bugmail_scan() loads bugs.maintainers
	 * itself when this is NULL and it meets a command mail.
	 */
	const struct maint *maint;
	int64_t now_ms;			  /* 0: the real clock */
};

struct bugmail_result {
	char *msgid;		/* the command mail */
	char *sender;		/* its sender's address */
	size_t commands;	/* "#kreview" lines */
	size_t failed;		/* refused or malformed */
	bool duplicate;		/* processed before: no answer */
	bool no_list;		/* no list in To or Cc */
	int64_t outbox_id;	/* the queued answer, 0: none */
	bool answered_before;	/* the outbox had an answer already */
	enum reply_mode mode;	/* of the queued answer */
	char *why;		/* why nothing was done or queued, or NULL */
};

void bugmail_result_release(struct bugmail_result *r);

/*
 * Apply the commands of 't' and put the answer's body in 'text' (empty
 * when there is no command or the mail was processed before); with a
 * 'db', queue the answer in its outbox, inside the caller's
 * transaction if one is open.  What costs only the answer (no From:
 * configured, mode off, a mail not to be answered) is said in
 * out->why.  Negative only when a database cannot be read or written.
 */
int bugmail_handle(struct bugmail_result *out, struct strbuf *text,
		   struct db *db, const struct reply_target *t,
		   const struct bugmail_opts *o, struct strbuf *err);

/* Called by bugmail_scan() for every command mail it handled. */
typedef void bugmail_report_fn(void *ctx, const struct bugmail_result *r);

struct bugmail_stats {
	size_t looked;		/* messages answering kreview's mail */
	size_t mails;		/* ... and carry commands */
	size_t queued;		/* answers queued */
	size_t duplicates;
};

/*
 * The daemon's pass over the messages stored since the last pass:
 * each one that references kreview's mail and carries commands goes
 * through bugmail_handle() with 'db', then 'report' (may be NULL).
 * Returns 0, or a negative errno with 'err' (the cursor then stays
 * after the last mail that was handled).
 */
int bugmail_scan(struct bugmail_stats *out, struct db *db,
		 const struct bugmail_opts *o, bugmail_report_fn *report,
		 void *ctx, struct strbuf *err);

#endif
