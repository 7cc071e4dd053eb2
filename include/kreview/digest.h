/*
 * digest.h - sending the per-subsystem bug digests (reference/bug-db.md
 * §6): composing one as an outbox mail, moderation, and the daemon's
 * schedule.  The rendering is bugexport.h's, the selection
 * bugdb_digest_pick()'s.
 *
 * Recipients.  To: the section's mailing lists (MAINTAINERS L:) that a
 * 'lists:' entry names by address; the digest takes the strictest mode
 * of those entries (lists opt in: no entry, or mode off, and the
 * section gets no digest; a private entry sends it to the maintainers
 * alone).  Cc: the section's M: and R: people (from MAINTAINERS, else
 * the addresses stored in its database), minus kreview itself and
 * minus everyone who sent "uncc" on EVERY bug of the digest: uncc is
 * per bug, a digest is about many, so one who still follows some of
 * its bugs stays on it.
 *
 * Moderation (bugs.digest_moderation, default on).  Until a section has
 * been released, its digests go privately to bugs.digest_curator
 * (with a note saying how to release it) instead of to the list.
 * "#kreview upstream" in a reply to that copy queues the list copy:
 * the same subject and body, a new Message-ID, recipients as above;
 * from then on the section's digests go to the list directly.
 * "#kreview regenerate" picks the bugs anew and queues a new digest to
 * where the answered one went.  Both are accepted from the curator and
 * from those who may triage the section.
 *
 * Every digest queued is one row of 'digest_sent' (db/0008-digest.sql)
 * and its numbering is stored in the section's database under its
 * Message-ID (bugdb_digest_store()) so that "#kreview <N> ..." replies
 * find their bug.  The numbering is stored first: a crash before the
 * main database commits leaves a numbering that no mail uses.
 *
 * Schedule (digest_pass()).  The sections of bugs.digest_sections,
 * least recently sent first (never sent first, then in configuration
 * order): a section is due when its last digest (any cause) is at
 * least bugs.digest_period old; at most bugs.digest_daily_limit
 * scheduled digests are queued in any 24 hours, counted from the
 * table, so a restart neither resends nor exceeds the limit.  A
 * section with fewer than bugs.digest_min_bugs bugs due is skipped
 * and looked at again at the next pass.
 */
#ifndef KREVIEW_DIGEST_H
#define KREVIEW_DIGEST_H

#include "kreview/common.h"
#include "kreview/config.h"

struct bugdb;
struct bugdb_config;
struct bugdb_list;
struct bugcmd_ctx;
struct db;
struct kreview_config;
struct maint;
struct strbuf;

enum digest_cause {
	DIGEST_SCHEDULE,
	DIGEST_CLI,
	DIGEST_UPSTREAM,
	DIGEST_REGENERATE,
	DIGEST_CAUSE_MAX,
};

/* "schedule", "cli", "upstream", "regenerate". */
const char *digest_cause_name(enum digest_cause c);

struct digest_opts {
	const struct kreview_config *cfg; /* lists:, mail: */
	const struct bugdb_config *bugs;  /* required (cfg->bugs or defaults) */
	const char *dir;		  /* the bug databases */
	const struct maint *maint;	  /* L:, M:, R:; may be NULL */
	int64_t now_ms;			  /* 0: the real clock */
};

struct digest_result {
	char *section;
	int64_t outbox_id;	/* 0: nothing queued, see 'why' */
	char *msgid;
	bool to_curator;
	size_t bugs;
	char *why;
};

void digest_result_release(struct digest_result *r);

/*
 * The Cc of a digest of 'l' from section database 'db': M:/R: of the
 * section in 'm' (NULL or no such section: the stored addresses),
 * minus those who uncc'd every bug of 'l'.  Appended to 'cc'.
 */
int digest_cc(struct config_strlist *cc, struct bugdb *db,
	      const struct bugdb_list *l, const struct maint *m,
	      struct strbuf *err);

/*
 * Pick, compose and queue a digest of section database 'bdb' in the
 * outbox of 'db' (inside the caller's transaction if one is open),
 * to the curator while the section is moderated.  Returns 0 - with
 * out->outbox_id set, or not and the reason in out->why (too few bugs,
 * no list wants it, no curator, no From:) - or negative on database
 * errors.
 */
int digest_queue(struct digest_result *out, struct db *db, struct bugdb *bdb,
		 enum digest_cause cause, const struct digest_opts *o,
		 struct strbuf *err);

/* "#kreview upstream" on digest 'msgid': queue its list copy. */
int digest_release(struct digest_result *out, struct db *db,
		   const char *msgid, const struct digest_opts *o,
		   struct strbuf *err);
/* "#kreview regenerate" on digest 'msgid': a new one to where it went. */
int digest_regenerate(struct digest_result *out, struct db *db,
		      const char *msgid, const struct digest_opts *o,
		      struct strbuf *err);

/* A bugcmd_ctx 'digest' callback; 'data' is a struct digest_cmd. */
struct digest_cmd {
	struct db *db;
	struct digest_opts o;
};
int digest_command(void *data, int verb, const struct bugcmd_ctx *ctx,
		   const char *const *msgids, size_t nr, const char *sender,
		   struct strbuf *res, struct strbuf *err);

struct digest_pass_stats {
	size_t due;		/* sections due */
	size_t queued;
	size_t skipped;		/* due, but nothing to send */
	size_t deferred;	/* due, over the daily limit */
};

typedef void digest_report_fn(void *ctx, const struct digest_result *r);

/*
 * The daemon's pass: queue the digests that are due (see above);
 * 'report' (may be NULL) hears of each section tried.
 */
int digest_pass(struct digest_pass_stats *out, struct db *db,
		const struct digest_opts *o, digest_report_fn *report,
		void *ctx, struct strbuf *err);

#endif
