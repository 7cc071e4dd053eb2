/*
 * bugdb.h - per-subsystem databases of bugs that reviews found in code
 * the reviewed patch did not introduce (reference/bug-db.md).
 *
 * One SQLite file per MAINTAINERS section, <dir>/<slug>.db, with its
 * own schema (embedded here, not db/'s), its own PRAGMA application_id
 * ("KRbg") and its own PRAGMA user_version migrations.  A maintainer
 * can copy or publish the file: it holds nothing but that section.
 *
 * A bug is keyed by the finding fingerprint (finding_fingerprint():
 * subsystem, file, function, category, key identifiers, never line
 * numbers).  Its id is short and stable so that it can be written in
 * mail and commit trailers: a prefix of the section slug and 8 hex
 * digits of hash(section, fingerprint, seq) - "IOU-3f2a1c9d" for
 * IO_URING - lengthened only on a collision inside the database.
 *
 * Lifecycle (statuses):
 *   open -> confirmed -> fix-pending -> fixed
 *   any but dup -> invalid; open/confirmed/fix-pending -> wontfix
 *   any -> dup (dup_of = canonical target, no cycles); undup restores
 *   open/confirmed/fix-pending -> obsolete (the code is gone)
 *   fixed/invalid/wontfix/obsolete -> open (reopen)
 * Every change appends to bug_event (who, when, what, why, link); the
 * table refuses UPDATE and DELETE by trigger.
 *
 * Admission of a review finding (bugdb_admit()): an open, confirmed or
 * fix-pending bug with the same signature gains a sighting; a fixed or
 * obsolete one is followed by a new bug (seq + 1) linked to it; an
 * invalid or wontfix one suppresses the finding (a sighting is still
 * recorded) unless the finding is more severe, which reopens it; a dup
 * is followed to its canonical bug; otherwise a new open bug.
 *
 * Handles are not thread-safe; one per thread.  Library-like: nothing
 * here logs, errors go into 'err'.
 */
#ifndef KREVIEW_BUGDB_H
#define KREVIEW_BUGDB_H

#include "kreview/common.h"
#include "kreview/config.h"
#include "kreview/finding.h"

struct strbuf;
struct bugdb;
struct maint;
struct review_result;
struct review_series;
struct yamlnode;

/* "KRbg" */
#define BUGDB_APPLICATION_ID 0x4b526267
/* "PFX-" + up to 16 hex digits + NUL */
#define BUGDB_ID_MAX 24
/* Section title bound, as MAINTAINERS titles go. */
#define BUGDB_SECTION_MAX 256
/* The section of findings whose patch maps to no section. */
#define BUGDB_DEFAULT_SECTION "THE REST"

enum bugdb_status {
	BUGDB_OPEN,
	BUGDB_CONFIRMED,
	BUGDB_FIX_PENDING,
	BUGDB_FIXED,
	BUGDB_INVALID,
	BUGDB_WONTFIX,
	BUGDB_DUP,
	BUGDB_OBSOLETE,
	BUGDB_STATUS_MAX,
};

enum bugdb_prio {
	BUGDB_PRIO_LOW,
	BUGDB_PRIO_NORMAL,
	BUGDB_PRIO_HIGH,
	BUGDB_PRIO_MAX,
};

/* "open", "confirmed", "fix-pending", ...; parse returns -EINVAL. */
const char *bugdb_status_name(enum bugdb_status s);
int bugdb_status_parse(enum bugdb_status *out, const char *name);
/* "low", "normal", "high". */
const char *bugdb_prio_name(enum bugdb_prio p);
int bugdb_prio_parse(enum bugdb_prio *out, const char *name);

/* ---- configuration: the 'bugs' section of kreview.yaml ---- */

/* Which pre-existing findings enter a database. */
struct bugdb_policy {
	int min_support;		/* passes that reported it, or ... */
	bool require_verification;	/* ... only a verifier pass counts */
	int severity_floor;		/* enum finding_severity */
};

/* A per-section override: a whole policy for one section title. */
struct bugdb_section_policy {
	char *section;
	int min_support;
	bool require_verification;
	int severity_floor;
};

struct bugdb_config {
	char *dir;			/* NULL: <state_dir>/bugs */
	int min_support;
	bool require_verification;
	int severity_floor;
	struct config_seq sections;	/* struct bugdb_section_policy */
	/* Address patterns allowed to triage every section. */
	struct config_strlist triagers;
	/* MAINTAINERS file for authorising mail commands, or NULL. */
	char *maintainers;
	/*
	 * enum reply_mode of the answer to a command mail that came
	 * through no list wanting mail (reply_compose_command()).
	 */
	int command_replies;
	/*
	 * At most this many answers go to one address alone (no list) in
	 * 24 hours, 0: no cap - anyone can make kreview write to a forged
	 * From: by replying to a public digest.
	 */
	int private_replies_per_day;
	/* Branches a fix must reach before a bug is fixed. */
	struct config_strlist branches;
	/* Where the bugs are published (<url>/<id>), or NULL. */
	char *url;
	int digest_min_bugs, digest_max_bugs;
	int64_t digest_min_age_ms, digest_quiet_ms;
	/* Digests leave out bugs not re-verified this recently; 0: off. */
	int64_t digest_reverify_max_age_ms;
	/* The daemon's re-verification passes (bugpass.h); 0: none. */
	int64_t reverify_interval_ms;
	char *reverify_tree;		/* NULL: daemon.tree */
	char *reverify_rev;		/* default "HEAD" */
	char *reverify_endpoint;	/* NULL: review.endpoint, the first */
	int reverify_budget;		/* verifier requests a pass; 0: any */
	/* The daemon's digests (digest.h). */
	int64_t digest_period_ms;	/* per section */
	int digest_daily_limit;		/* digests a day, all sections */
	bool digest_moderation;		/* first one to the curator */
	char *digest_curator;		/* address of the curator */
	struct config_strlist digest_sections; /* titles; empty: none */
};

/* The fields table, for kreview.yaml(5) checks. */
extern const struct config_field bugdb_config_fields[];

/* CONFIG_CUSTOM callbacks for the 'bugs' key (field: bugdb_config **). */
int bugdb_config_parse(void *field, const struct yamlnode *node,
		       struct strbuf *err);
void bugdb_config_release(void *field);
/* Defaults as if the section were absent; free with bugdb_config_free. */
struct bugdb_config *bugdb_config_default(void);
void bugdb_config_free(struct bugdb_config *c);

/* The database directory: 'c->dir' or <state_dir>/bugs. */
void bugdb_config_dir(struct strbuf *out, const struct bugdb_config *c,
		      const char *state_dir);
/* The policy for 'section' (an override, else the global one). */
void bugdb_config_policy(struct bugdb_policy *out,
			 const struct bugdb_config *c, const char *section);

/* ---- files ---- */

/*
 * The slug of a section title: lowercase ASCII letters and digits,
 * runs of anything else as one '-', trimmed, at most 64 bytes;
 * "IO_URING" -> "io-uring".  An empty result becomes "section".
 */
void bugdb_slug(struct strbuf *out, const char *section);
/* The id prefix of a section: "IOU" for IO_URING, "NET" for NETWORK... */
void bugdb_id_prefix(struct strbuf *out, const char *section);
/* <dir>/<slug>.db */
void bugdb_path(struct strbuf *out, const char *dir, const char *section);

/*
 * Open (creating the file and its directory if needed, then migrating)
 * the database at 'path'.  'section' names the section of a new file
 * and must match the stored one of an existing file; NULL accepts an
 * existing file as it is (-ENOENT when it does not exist).  A foreign
 * file or a newer schema is -EPROTO.
 */
int bugdb_open(struct bugdb **out, const char *path, const char *section,
	       struct strbuf *err);
void bugdb_close(struct bugdb *db);

const char *bugdb_section(const struct bugdb *db);
const char *bugdb_prefix(const struct bugdb *db);
int bugdb_schema_version(const struct bugdb *db);
/*
 * An outer transaction for many changes (bulk imports): every call
 * below nests in it as a savepoint.  0 or -EIO.
 */
int bugdb_begin(struct bugdb *db, struct strbuf *err);
int bugdb_commit(struct bugdb *db, struct strbuf *err);
/*
 * A read transaction: the queries until bugdb_commit() see one
 * snapshot (a count and the rows it counted agree) and do not block
 * writers.  0 or -EIO.
 */
int bugdb_begin_read(struct bugdb *db, struct strbuf *err);
/* Fix the clock (Unix ms) for tests; 0 restores the real one. */
void bugdb_set_clock(struct bugdb *db, int64_t now_ms);

/*
 * Addresses (lowercase) allowed to triage the section as stored by
 * bugdb_set_maintainers(), newline-separated, "" if none.  Borrowed.
 */
const char *bugdb_maintainers(const struct bugdb *db);
/* Store the M: and R: addresses of the section from 'm'; 0 or -EIO. */
int bugdb_set_maintainers(struct bugdb *db, const struct maint *m,
			  struct strbuf *err);

/*
 * Every *.db of a directory, opened.  Missing directory: an empty set.
 * A file that does not open is skipped with one line in 'warn'.
 */
struct bugdb_set {
	struct bugdb **v;
	size_t nr, alloc;
};

#define BUGDB_SET_INIT { 0 }

int bugdb_set_open(struct bugdb_set *out, const char *dir, struct strbuf *warn);
void bugdb_set_release(struct bugdb_set *set);
/* The database holding bug 'id' (case-insensitive), or NULL. */
struct bugdb *bugdb_set_find(const struct bugdb_set *set, const char *id);
/* The database of 'section' (title or slug), or NULL. */
struct bugdb *bugdb_set_section(const struct bugdb_set *set,
				const char *section);

/* ---- bugs ---- */

struct bugdb_bug {
	char id[BUGDB_ID_MAX];
	int seq;
	char *title;
	char *signature;
	char *origin;		/* "pre-existing" or "introduced" */
	enum bugdb_status status;
	enum bugdb_status prev_status;	/* before dup or fix-pending */
	char *dup_of;		/* or NULL */
	char *prev_bug;		/* the fixed bug this one recurs, or NULL */
	bool backburner, stale;
	char *file, *function, *category;
	enum finding_severity severity;
	double confidence;
	enum bugdb_prio prio;
	char *code_commit;	/* commit the code was read at, or NULL */
	int line, end_line;
	char *evidence, *explanation;	/* NULL in list results */
	int64_t first_seen_ms, last_seen_ms, times_seen;
	int64_t last_activity_ms;	/* last human change */
	int64_t last_verified_ms;	/* 0: never */
	char *last_verified_commit;
};

void bugdb_bug_init(struct bugdb_bug *b);
void bugdb_bug_release(struct bugdb_bug *b);

/* One bug by id (case-insensitive); -ENOENT if absent. */
int bugdb_get(struct bugdb_bug *out, struct bugdb *db, const char *id,
	      struct strbuf *err);
/* Follow dup_of to the canonical bug's id; -ELOOP on a cycle. */
int bugdb_canonical(char out[BUGDB_ID_MAX], struct bugdb *db, const char *id,
		    struct strbuf *err);

/* ---- admission ---- */

/* A finding as the bug database sees it; every pointer borrowed. */
struct bugdb_finding {
	const char *fingerprint;
	const char *title, *file, *function, *category;
	const char *evidence, *explanation;
	enum finding_severity severity;
	double confidence;
	int line, end_line;
	int support, runs;
	bool verified;		/* a verifier pass confirmed it */
	bool pre_existing;
	const char *review;	/* "review 12", "check" ... or NULL */
	const char *msgid;	/* patch Message-ID, or NULL */
	const char *patch_subject;
	int revision;		/* series version, 0 unknown */
	const char *code_commit;
};

enum bugdb_admission {
	BUGDB_NOT_QUALIFIED,	/* below the policy; nothing stored */
	BUGDB_NEW,		/* a new open bug */
	BUGDB_SIGHTING,		/* merged into an open bug */
	BUGDB_RECURRENCE,	/* new bug after a fixed one (seq + 1) */
	BUGDB_SUPPRESSED,	/* matches an invalid/wontfix bug */
	BUGDB_REOPENED,		/* ... but more severe: reopened */
	BUGDB_ADMISSION_MAX,
};

const char *bugdb_admission_name(enum bugdb_admission a);

/* True if 'f' qualifies under 'p'; a reason in 'why' (may be NULL). */
bool bugdb_qualifies(const struct bugdb_finding *f,
		     const struct bugdb_policy *p, struct strbuf *why);

/*
 * Record one finding ('policy' NULL: no admission check) and say what
 * happened in '*out' and the bug's id in 'id_out' (not for
 * BUGDB_NOT_QUALIFIED).  One transaction.  0 or -EIO.
 */
int bugdb_admit(enum bugdb_admission *out, char id_out[BUGDB_ID_MAX],
		struct bugdb *db, const struct bugdb_finding *f,
		const struct bugdb_policy *policy, struct strbuf *err);

/*
 * The invalid or wontfix bug whose signature (or alternate) is
 * 'fingerprint': 1 and its id, or 0 when there is none.  Negative on a
 * database error.
 */
int bugdb_suppressed_by(char id_out[BUGDB_ID_MAX], struct bugdb *db,
			const char *fingerprint, struct strbuf *err);

/*
 * Record an introduced-in-patch finding a maintainer rejected, so that
 * later revisions do not report it: a bug of origin "introduced" in
 * status invalid (or wontfix).  An existing bug of that signature is
 * moved instead.
 */
int bugdb_reject_finding(char id_out[BUGDB_ID_MAX], struct bugdb *db,
			 const struct bugdb_finding *f,
			 enum bugdb_status status, const char *actor,
			 const char *reason, const char *link,
			 struct strbuf *err);

struct bugdb_review_stats {
	size_t admitted[BUGDB_ADMISSION_MAX];
	size_t suppressed_introduced;
	size_t databases;
};

/*
 * After review_run(): record every reported pre-existing finding of
 * 'res' in the database of its patch's section under 'dir' (creating
 * it), and mark findings suppressed by an invalid/wontfix bug as
 * REVIEW_DROP_SUPPRESSED with the reason "suppressed by bug ID"; then
 * restore the order of 'res' (reported first) and 'res->reported'.
 * One note per recorded bug goes to res->notes.  'm' (may be NULL)
 * refreshes each database's maintainer addresses.  'review' labels the
 * sightings.  0, or a negative errno (the result is consistent).
 */
int bugdb_review_apply(struct bugdb_review_stats *out,
		       struct review_result *res,
		       const struct review_series *s,
		       const struct bugdb_config *cfg, const char *dir,
		       const struct maint *m, const char *review,
		       int64_t now_ms, struct strbuf *err);

/* ---- triage; 'actor' is who did it, 'link' the mail or NULL ---- */

/*
 * Move a bug to 'to' along the lifecycle above (dup and fix-pending
 * have their own calls).  -EINVAL with the reason when the transition
 * is not allowed; -ENOENT for an unknown id.
 */
int bugdb_set_status(struct bugdb *db, const char *id, enum bugdb_status to,
		     const char *actor, const char *reason, const char *link,
		     struct strbuf *err);
int bugdb_set_prio(struct bugdb *db, const char *id, enum bugdb_prio prio,
		   const char *actor, const char *reason, const char *link,
		   struct strbuf *err);
/* Mark 'id' a duplicate of the canonical bug of 'other'. */
int bugdb_dup(struct bugdb *db, const char *id, const char *other,
	      const char *actor, const char *link, struct strbuf *err);
int bugdb_undup(struct bugdb *db, const char *id, const char *actor,
		const char *link, struct strbuf *err);
/*
 * A fix is named ('commit': hash or title): open/confirmed become
 * fix-pending.  Repeating replaces the named fix.
 */
int bugdb_fix(struct bugdb *db, const char *id, const char *commit,
	      const char *actor, const char *link, struct strbuf *err);
int bugdb_unfix(struct bugdb *db, const char *id, const char *actor,
		const char *link, struct strbuf *err);
/*
 * Commit 'commit' ('title') naming the bug was seen in 'branch'.  The
 * bug becomes fix-pending, and fixed once every branch of 'tracked'
 * (all 'nr' of them; none: this one suffices) has a fixing commit.
 * Sets '*fixed' when it became fixed.  Bugs in a final status are left
 * alone (0).
 */
int bugdb_fix_seen(bool *fixed, struct bugdb *db, const char *id,
		   const char *commit, const char *title, const char *branch,
		   const char *const *tracked, size_t nr,
		   struct strbuf *err);
int bugdb_backburner(struct bugdb *db, const char *id, bool on,
		     const char *actor, const char *reason, const char *link,
		     struct strbuf *err);
/* A label (e.g. "subsystem"); adding twice or removing a missing one
 * is -EEXIST / -ENOENT with a message. */
int bugdb_label(struct bugdb *db, const char *id, const char *label,
		const char *value, bool add, const char *actor,
		const char *link, struct strbuf *err);
/* Re-verification results (deterministic half, see kreview-bugs(1)). */
int bugdb_verified(struct bugdb *db, const char *id, const char *commit,
		   bool stale, struct strbuf *err);

/* What the re-verification verifier (bugverify.h) said about a bug. */
enum bugdb_verdict {
	BUGDB_VERDICT_PRESENT,	/* still in the code */
	BUGDB_VERDICT_GONE,	/* the code no longer has it */
	BUGDB_VERDICT_UNSURE,	/* undecided, or the answer was unusable */
	BUGDB_VERDICT_MAX,
};

struct bugdb_recheck {
	enum bugdb_verdict verdict;
	const char *commit;	/* where the code was read (hex) */
	int line, end_line;	/* PRESENT: its lines there; 0 keeps */
	const char *changed_in;	/* GONE: the commit that changed it */
	const char *reason;	/* the verifier's reason, or NULL */
};

/*
 * Record a verifier verdict on an open, confirmed or fix-pending bug
 * (reference §3), as actor "kreview", in one transaction:
 *   PRESENT  clear 'stale'; code_ref (commit, lines) and
 *            last_verified_* move to 'commit'; a "verified" event.
 *   GONE     'fixed', by the fix recorded for the bug when there is one
 *            ('*fix_known' set); else a fix "unknown (code changed in
 *            <changed_in, 12 digits>)" is recorded first, with a "fix"
 *            event.  'stale' is cleared, last_verified_* move.
 *   UNSURE   flag 'stale' with a "stale" event giving the reason;
 *            last_verified_* stay.
 * 'fix_known' may be NULL.  -EINVAL for a bug in another status.
 */
int bugdb_record_verdict(bool *fix_known, struct bugdb *db, const char *id,
			 const struct bugdb_recheck *v, struct strbuf *err);

/* ---- queries ---- */

enum bugdb_sort {
	BUGDB_SORT_SEVERITY,	/* severity, prio, times seen, oldest */
	BUGDB_SORT_SEEN,	/* last seen, newest first */
	BUGDB_SORT_AGE,		/* first seen, oldest first */
	BUGDB_SORT_MAX,
};

int bugdb_sort_parse(enum bugdb_sort *out, const char *name);

/*
 * What a query selects and how many columns of each bug it reads.
 * The default is every column but evidence and explanation ('full'
 * adds them).  'brief' reads only what a table listing shows - id,
 * title, status, severity, prio, times_seen, first_seen_ms and
 * last_seen_ms - from an index that holds them in each sort order, so
 * that it never touches the table; the other fields are zero, "" or
 * NULL.  'brief' wins over 'full'.
 */
struct bugdb_query {
	unsigned int status_mask;	/* 1u << status; 0: all */
	unsigned int severity_mask;	/* 1u << severity; 0: all */
	enum bugdb_sort sort;
	size_t limit;			/* 0: all */
	bool full;			/* also evidence and explanation */
	bool brief;			/* only the listing columns */
};

#define BUGDB_QUERY_INIT { .sort = BUGDB_SORT_SEVERITY }

struct bugdb_list {
	struct bugdb_bug *v;
	size_t nr, alloc;
};

#define BUGDB_LIST_INIT { 0 }

void bugdb_list_release(struct bugdb_list *l);
/* Append copies of the matching bugs to 'out'; 0 or -EIO. */
int bugdb_query_run(struct bugdb_list *out, struct bugdb *db,
		    const struct bugdb_query *q, struct strbuf *err);

/*
 * Called once per row by bugdb_query_each().  '*b' and its strings
 * are borrowed from the database and valid only during the call: copy
 * what must outlive it, never free or change it.  A nonzero return
 * stops the walk.
 */
typedef int (*bugdb_row_fn)(const struct bugdb_bug *b, void *data);

/*
 * Hand each matching bug to 'fn' in order without copying it: the
 * fast path for listings.  Returns 0, -EIO (message in 'err'), or the
 * first nonzero value 'fn' returned.  'fn' may run other queries but
 * must not change the database.
 */
int bugdb_query_each(struct bugdb *db, const struct bugdb_query *q,
		     bugdb_row_fn fn, void *data, struct strbuf *err);
/* The number of bugs 'q' selects (after its limit); 0 or -EIO. */
int bugdb_query_count(size_t *out, struct bugdb *db,
		      const struct bugdb_query *q, struct strbuf *err);

/* Counts per status into 'out[BUGDB_STATUS_MAX]'. */
int bugdb_count(int64_t *out, struct bugdb *db, struct strbuf *err);

struct bugdb_event {
	int64_t at_ms;
	char *actor, *kind, *old, *new, *reason, *link;
};

struct bugdb_detail {
	struct bugdb_event *events;
	size_t events_nr;
	struct bugdb_sighting {
		int64_t at_ms;
		char *review, *msgid, *patch_subject, *verdict;
		int support, runs, revision;
		enum finding_severity severity;
	} *sightings;
	size_t sightings_nr;
	struct bugdb_fixrec {
		char *commit, *title, *branch;
		int64_t at_ms;
	} *fixes;
	size_t fixes_nr;
	struct bugdb_labelrec {
		char *label, *value, *set_by;
	} *labels;
	size_t labels_nr;
	char **signatures;	/* alternate and merged */
	size_t signatures_nr;
};

void bugdb_detail_release(struct bugdb_detail *d);
/* Events, sightings, fixes, labels of one bug (oldest first). */
int bugdb_get_detail(struct bugdb_detail *out, struct bugdb *db,
		     const char *id, struct strbuf *err);

/* ---- digests and mail commands ---- */

struct bugdb_digest_opts {
	int min_bugs, max_bugs;
	int64_t min_age_ms, quiet_ms;
	int64_t reverify_max_age_ms;	/* 0: no re-verification check */
};

/*
 * Pick the bugs of a digest (reference §6, steps 1-4): open/confirmed,
 * not backburner, not stale, not "no-reminders", older than min_age,
 * no human activity within quiet, and verified present within
 * reverify_max_age (the last re-verification, or for a bug never
 * re-verified its admission) - older ones are "possibly fixed" and
 * wait for the next re-verification; confirmed first, then severity,
 * prio, times seen, oldest.  Fewer than min_bugs: none.
 */
int bugdb_digest_pick(struct bugdb_list *out, struct bugdb *db,
		      const struct bugdb_digest_opts *o, struct strbuf *err);
/*
 * Store a digest sent as 'message_id' with the bugs of 'l' numbered
 * <1>..<n>; '*id_out' is its row id.
 */
int bugdb_digest_store(int64_t *id_out, struct bugdb *db,
		       const char *message_id, const struct bugdb_list *l,
		       struct strbuf *err);
/*
 * The bug numbered 'ref' in the digest sent as one of 'msgids' (a
 * reply's References): 1 and the id, 0 if no such digest or ref.
 */
int bugdb_digest_ref(char id_out[BUGDB_ID_MAX], struct bugdb *db,
		     const char *const *msgids, size_t nr, int ref,
		     struct strbuf *err);
/* Events and fixes since 'since_ms': new bugs and fixed bugs. */
int bugdb_period_counts(int64_t *new_out, int64_t *fixed_out,
			struct bugdb *db, int64_t since_ms, struct strbuf *err);

/* 1 if mail 'msgid' was already processed in this database. */
int bugdb_command_seen(struct bugdb *db, const char *msgid,
		       struct strbuf *err);
int bugdb_command_log(struct bugdb *db, const char *msgid,
		      const char *sender, const char *line, const char *result,
		      bool ok, struct strbuf *err);

/*
 * ---- moves, re-verification requests, mail preferences ----
 *
 * These live in bug_label rows (with who set them and the mail that
 * did), so that no schema change is needed and 'kreview bugs show'
 * lists them: "moved-to"/"moved-from" (the other bug's id), "uncc"
 * (an address), "no-reminders" ("on").
 */

/*
 * The database of 'section' (title or slug, case-insensitive) in 'set';
 * when there is none and MAINTAINERS 'm' (may be NULL) has a section of
 * that title or slug, its database is created under 'dir' with the
 * section's M:/R: addresses and added to 'set'.  Otherwise -ENOENT with
 * the reason.  '*out' is borrowed from 'set'.
 */
int bugdb_set_section_open(struct bugdb **out, struct bugdb_set *set,
			   const char *dir, const char *section,
			   const struct maint *m, struct strbuf *err);

/*
 * Transfer bug 'id' of 'from' to the database 'to' (another section):
 * the bug with its signatures, sightings, fixes, labels and events is
 * copied under a new id of 'to' (or, when 'to' already tracks the same
 * signature, its sightings are merged into that bug; when that bug is
 * the stub of an earlier move out of 'to', the stub lives again with
 * this bug's state and history), and 'id' stays
 * behind as a forwarding stub: status dup, no dup_of, label "moved-to".
 * Both bugs get a "moved" event.  One transaction over both files.
 * The new (or merged-into) id goes to 'id_out'.  -EINVAL for a dup or
 * a move into its own section, -ENOENT for an unknown id.
 */
int bugdb_move(char id_out[BUGDB_ID_MAX], struct bugdb *from, const char *id,
	       struct bugdb *to, const char *actor, const char *reason,
	       const char *link, struct strbuf *err);
/* 1 and the id a moved bug was forwarded to, 0 if 'id' did not move. */
int bugdb_moved_to(char id_out[BUGDB_ID_MAX], struct bugdb *db,
		   const char *id, struct strbuf *err);

/*
 * "poke": ask for re-verification now.  Sets the stale flag (the bug
 * leaves digests until a verifier looks at it: the daemon's next
 * re-verification pass or 'kreview bugs reverify', see bugpass.h) with
 * a "poke" event; unlike triage it is not human activity (last_activity
 * is left alone).  Only open, confirmed and fix-pending bugs are
 * re-verified: -EINVAL for the others.
 */
int bugdb_poke(struct bugdb *db, const char *id, const char *actor,
	       const char *link, struct strbuf *err);
/*
 * A poke is pending while its bug is stale and open, confirmed or
 * fix-pending and the verifier has not spoken about the bug since (no
 * "verified" or "stale" event by kreview after the poke).
 * bugdb_poked() is 1 if bug 'id' has a pending poke, 0 if not (or no
 * such bug), negative on a database error.  bugdb_pokes_since() counts
 * the bugs with a pending poke made at or after 'since_ms'.
 */
int bugdb_poked(struct bugdb *db, const char *id, struct strbuf *err);
int bugdb_pokes_since(size_t *out, struct bugdb *db, int64_t since_ms,
		      struct strbuf *err);

/*
 * Per-bug digest opt-out ("set no-reminders"): bugdb_digest_pick()
 * leaves such bugs out.  Setting what is set is not an error (no
 * event).  bugdb_no_reminders() is 1 if set, 0 if not, or negative.
 */
int bugdb_set_no_reminders(struct bugdb *db, const char *id, bool on,
			   const char *actor, const char *link,
			   struct strbuf *err);
int bugdb_no_reminders(struct bugdb *db, const char *id, struct strbuf *err);

/*
 * "uncc": 'addr' (any case) asks not to be Cc'd on mail about bug 'id'
 * again.  Anyone may; it is not triage (no last_activity).  Repeating
 * it is not an error.  Whoever builds the recipients of a mail about a
 * bug must drop the addresses for which bugdb_uncced() is 1.
 */
int bugdb_uncc(struct bugdb *db, const char *id, const char *addr,
	       const char *link, struct strbuf *err);
int bugdb_uncced(struct bugdb *db, const char *id, const char *addr,
		 struct strbuf *err);

/*
 * The Message-IDs of every digest stored in 'db' (new strings, appended
 * to '*out'): mail that references one of them answers kreview.
 */
int bugdb_digest_ids(char ***out, size_t *nr, struct bugdb *db,
		     struct strbuf *err);

/* ---- fix detection ---- */

/*
 * Bug ids named by the Closes:, Link: and Reported-by: trailers of a
 * commit message (as a bare id or inside a URL).  New strings, upper
 * case prefix, appended to '*out'.
 */
void bugdb_trailer_ids(char ***out, size_t *nr, const char *message);
/* True if 's' has the shape of a bug id. */
bool bugdb_id_valid(const char *s);

#endif
