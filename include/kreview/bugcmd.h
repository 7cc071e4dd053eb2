/*
 * bugcmd.h - "#kreview" triage commands in mail replies to kreview's
 * bug digests and review replies (reference/bug-db.md §5).
 *
 * A command is a line that starts with "#kreview" at column 0 (quoted
 * "> #kreview" lines never count), followed by an optional reference
 * - "<N>" from a digest or a bug id - and a verb with its argument:
 *
 *   #kreview [<N>|ID] invalid [reason]     false positive
 *   #kreview [<N>|ID] wontfix [reason]     real, accepted
 *   #kreview [<N>|ID] confirm | reopen
 *   #kreview [<N>|ID] dup: OTHER-ID        | undup
 *   #kreview [<N>|ID] fix: COMMIT          | unfix
 *   #kreview [<N>|ID] set prio: low|normal|high
 *   #kreview [<N>|ID] set no-reminders     | unset no-reminders
 *   #kreview [<N>|ID] backburner [reason]  | unbackburn
 *   #kreview [<N>|ID] poke                 re-verify at the daemon's next
 *                                          pass, due at once (not activity)
 *   #kreview [<N>|ID] move: SECTION        to that section's database
 *   #kreview [<N>|ID] uncc                 stop Cc'ing the sender
 *   #kreview [<N>|ID] add-subsystem: SECTION | del-subsystem: SECTION
 *   #kreview upstream                      release a moderated digest
 *                                          to its list (digest.h)
 *   #kreview regenerate                    rebuild the digest answered
 *   #kreview help
 *
 * Parsing stops at a "-- " signature line.  Bounds: BUGCMD_MAX lines
 * are taken, each at most BUGCMD_MAX_LINE bytes; the rest are errors.
 * A malformed command is kept with its 'error' so that the reply can
 * say what was wrong with it.
 *
 * Processing (bugcmd_process()) authorises the sender per section:
 * the M:/R: addresses of the section (stored in its database, or from
 * a MAINTAINERS given in the context) or a configured triager pattern;
 * "help" and "uncc" (a personal opt-out) are open to anyone.  A bug
 * that was moved is followed to its new database (the stub forwards).
 * "move:" takes a section title or slug with a database, or a section
 * of the context's MAINTAINERS (its database is then created).  Each
 * command becomes a bugdb change with an event whose actor is the
 * sender and whose link is the mail's Message-ID, and a line in
 * command_log; a mail already logged is not processed again.  Every
 * reply with an error lists the valid verbs.  The reply text is
 * returned for the caller to queue (the outbox is not this module's:
 * see bugmail.h).
 */
#ifndef KREVIEW_BUGCMD_H
#define KREVIEW_BUGCMD_H

#include "kreview/common.h"

struct strbuf;
struct msg;
struct maint;
struct bugdb_config;

#define BUGCMD_MAX 64
#define BUGCMD_MAX_LINE 1000

enum bugcmd_verb {
	BUGCMD_INVALID,
	BUGCMD_WONTFIX,
	BUGCMD_CONFIRM,
	BUGCMD_REOPEN,
	BUGCMD_DUP,
	BUGCMD_UNDUP,
	BUGCMD_FIX,
	BUGCMD_UNFIX,
	BUGCMD_SET_PRIO,
	BUGCMD_SET_NO_REMINDERS,
	BUGCMD_UNSET_NO_REMINDERS,
	BUGCMD_BACKBURNER,
	BUGCMD_UNBACKBURN,
	BUGCMD_POKE,
	BUGCMD_MOVE,
	BUGCMD_UNCC,
	BUGCMD_ADD_SUBSYSTEM,
	BUGCMD_DEL_SUBSYSTEM,
	BUGCMD_UPSTREAM,
	BUGCMD_REGENERATE,
	BUGCMD_HELP,
	BUGCMD_VERB_MAX,
};

const char *bugcmd_verb_name(enum bugcmd_verb v);

struct bugcmd {
	unsigned int line;	/* 1-based line of the body */
	char *raw;		/* the line as written */
	int ref;		/* digest reference <N>, 0 if none */
	char *bug_id;		/* explicit bug id, or NULL */
	enum bugcmd_verb verb;
	char *arg;		/* argument, trimmed; NULL if none */
	char *error;		/* why it does not parse, or NULL */
};

struct bugcmd_list {
	struct bugcmd *v;
	size_t nr, alloc;
};

#define BUGCMD_LIST_INIT { 0 }

void bugcmd_list_release(struct bugcmd_list *l);

/* Parse the commands of a mail body ('len' bytes, no NUL needed). */
void bugcmd_parse(struct bugcmd_list *out, const char *body, size_t len);

/* The help text: valid verbs and their arguments. */
void bugcmd_help(struct strbuf *out);

struct bugcmd_ctx {
	const char *dir;		/* the bug databases */
	const struct bugdb_config *cfg;	/* triagers; may be NULL */
	/* M:/R: source and move: targets; may be NULL */
	const struct maint *maint;
	int64_t now_ms;			/* 0: the real clock */
	/*
	 * The mail reached kreview with no list in To or Cc: the reply
	 * says that the list copy is a bug's history (reference §5).
	 */
	bool no_list;
	/*
	 * "upstream" and "regenerate" concern the digest the mail answers
	 * (one of 'msgids', its In-Reply-To and References) and are
	 * handed to this callback (digest_command()), which authorises
	 * 'sender' and puts the result line in 'res': 0 done, 1 refused
	 * or failed, negative on database errors.  NULL: they fail.
	 */
	int (*digest)(void *data, int verb, const struct bugcmd_ctx *ctx,
		      const char *const *msgids, size_t nr, const char *sender,
		      struct strbuf *res, struct strbuf *err);
	void *digest_data;
	/*
	 * A command with neither a reference nor a bug id goes to this
	 * callback (findingcmd_apply(): a finding of the review reply the
	 * mail answers): 1 when it does not apply (the command then fails
	 * with "which bug?"), 0 handled and logged in the section acted
	 * on, 2 handled but not logged (no section known), both with the
	 * result in 'res' and '*ok'; negative on database errors.  NULL:
	 * such commands fail.
	 */
	int (*finding)(void *data, const struct bugcmd *c,
		       const struct bugcmd_ctx *ctx, const struct msg *m,
		       bool *ok, struct strbuf *res, struct strbuf *err);
	void *finding_data;
};

/*
 * True if 'addr' (lowercase) may triage 'section' whose stored
 * maintainer list is 'stored' (newline-separated).
 */
bool bugcmd_authorised(const struct bugcmd_ctx *ctx, const char *section,
		       const char *stored, const char *addr);

/*
 * Apply the commands of mail 'm'.  '*reply' gets the reply body (empty
 * when the mail carries no command or was processed before, which
 * '*duplicate' says).  Per-command failures are results, not errors;
 * the return is negative only when the databases cannot be read.
 * '*failed' counts commands refused or malformed.
 */
int bugcmd_process(struct strbuf *reply, bool *duplicate, size_t *failed,
		   const struct bugcmd_ctx *ctx, const struct msg *m,
		   struct strbuf *err);

#endif
