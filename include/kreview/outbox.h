/*
 * outbox.h - the transactional outbox: every mail kreview writes, and
 * its delivery exactly once per Message-ID.
 *
 * States (table 'outbox', db/0003-outbox.sql):
 *
 *   held ──send──► pending ──► sending ──► sent
 *                    ▲  ▲         │
 *                    │  └─────────┤ transient failure (SMTP 4xx,
 *                    │            ▼ connection errors, sendmail 75)
 *                    │     failed-retrying ── attempts exhausted ──► dead
 *                    └── "outbox send ID" ─────────────────────────── dead
 *   held, pending, failed-retrying, dead ──drop──► dropped
 *
 * A permanent failure (SMTP 5xx, a sendmail exit other than 75, a
 * maildir that cannot be written) goes straight to dead.  Mode
 * 'outbox' rows start held, 'send' and 'dry-run' rows pending.
 * Dry-run rows are always delivered to the drafts maildir, never over
 * the network, and neither the embargo nor the rate limit holds them
 * back (drafts are for looking at now); 'send' and released 'outbox'
 * rows use the configured transport.
 *
 * Exactly once.  The Message-ID is chosen when the row is created and
 * never changes, and Date: is fixed (stored) in the same transaction
 * that moves the row to 'sending', before the mail is handed over: a
 * mail handed over again is byte for byte the one handed over before.
 * A row is answered at most once: in_reply_to is unique, so enqueueing
 * a second reply to the same message returns -EEXIST.
 *
 *  - maildir: the file is named after the Message-ID and appears
 *    atomically (written to tmp/, fsync'ed, link()ed into new/).  A row
 *    found 'sending' after a crash is marked sent if new/ or cur/ has
 *    the file, and written otherwise: exactly once.
 *  - SMTP and sendmail: a server's acceptance and our COMMIT cannot be
 *    made atomic.  The row is committed as 'sending' before the SMTP
 *    transaction starts; a row still 'sending' after the lease
 *    (mail.sending_lease, or at once by outbox_recover() at start-up
 *    when no other process can be sending) is handed over again with
 *    the same bytes.  This is at-least-once delivery with at most one
 *    extra copy per crash in the window between the server's final
 *    "250" and our COMMIT; the copy has the same Message-ID, which
 *    archives (lore, public-inbox) and most clients collapse.  We
 *    chose at-least-once over at-most-once because a review that
 *    silently never arrives cannot be noticed by anyone, while a
 *    duplicate is harmless.
 *
 * Retries: attempt n (1-based) that fails transiently is retried after
 * min(retry_max, retry_base * 2^(n-1)) plus up to a quarter of that as
 * jitter derived from the Message-ID (deterministic); after
 * max_attempts attempts the row is dead.  Rate limits: a 'send' row
 * whose lists already had rate_limit mails sent in the last hour waits
 * until the oldest of them is an hour old.  Embargo: nothing is handed
 * over before not_before_ms.
 *
 * Everything here blocks (SMTP, a sendmail child, fsync): call it from
 * a worker with its own database connection, or accept the delay in a
 * command.  Every function takes the current time so tests control
 * the clock.
 */
#ifndef KREVIEW_OUTBOX_H
#define KREVIEW_OUTBOX_H

#include "kreview/common.h"
#include "kreview/config.h"
#include "kreview/reply.h"

struct db;
struct strbuf;
struct yamlnode;

/*
 * The 'mail:' section of the configuration.
 */
enum outbox_transport {
	OUTBOX_SMTP,
	OUTBOX_SENDMAIL,
	OUTBOX_MAILDIR,
	OUTBOX_TRANSPORT_MAX,
};

/* "smtp", "sendmail", "maildir", NULL. */
extern const char *const outbox_transport_names[];

struct outbox_mail {
	char *from;		/* From:, "Name <addr>"; required to mail */
	char *reply_to;		/* optional Reply-To: */
	char *msgid_domain;	/* default: the domain of 'from' */
	char *feedback_url;	/* "<url>/r/<review id>" in the signature */
	char *body_prefix;	/* a paragraph before every review */
	int transport;		/* enum outbox_transport; default maildir */
	/* smtp */
	char *smtp_url;		/* smtp://host:587 or smtps://host:465 */
	bool starttls;		/* loopback only; elsewhere always on */
	char *smtp_user;
	char *password_env;	/* variable holding the password, or */
	char *password_file;	/* file holding it (mode 0600 or stricter) */
	char *cainfo;		/* CA bundle, or NULL for the system's */
	int64_t timeout_ms;
	/* sendmail */
	struct config_strlist sendmail; /* argv; "-t": recipients from
					   the headers, else appended */
	/* maildir */
	char *maildir;		/* the transport 'maildir' target */
	char *drafts;		/* dry-run target; NULL: <state_dir>/drafts */
	/* retries */
	int max_attempts;
	int64_t retry_base_ms, retry_max_ms;
	int64_t sending_lease_ms;
};

/* CONFIG_CUSTOM callbacks for 'mail:' (field is struct outbox_mail **;
 * always allocated, with defaults when the key is absent). */
int outbox_mail_parse(void *field, const struct yamlnode *node,
		      struct strbuf *err);
void outbox_mail_release(void *field);
extern const struct config_field outbox_mail_fields[];

/*
 * Fill 'opts' (reply.h) from the configuration: from, own address
 * (ingest.own_address, else the address of mail.from), domain, reply
 * to, feedback url, body prefix.  Pointers borrow from 'cfg'.
 */
void outbox_reply_opts(struct reply_opts *opts,
		       const struct kreview_config *cfg);

/*
 * Rows.
 */
enum outbox_state {
	OUTBOX_HELD,
	OUTBOX_PENDING,
	OUTBOX_SENDING,
	OUTBOX_SENT,
	OUTBOX_RETRYING,	/* 'failed-retrying' */
	OUTBOX_DEAD,
	OUTBOX_DROPPED,
	OUTBOX_STATE_MAX,
};

/* The names used in the table: "held", ..., "failed-retrying", ... */
const char *outbox_state_name(enum outbox_state s);
int outbox_state_parse(enum outbox_state *out, const char *name);

struct outbox_item {
	int64_t id;
	char *msgid, *in_reply_to;
	int64_t review_id;	/* 0: none */
	char *kind;		/* "patch", "summary", "command", "digest" */
	char *lists;
	char *mode;		/* "dry-run", "outbox", "send" */
	enum outbox_state state;
	char *env_from;
	char *rcpts;		/* one per line */
	char *subject;
	char *message;		/* no Date:, LF */
	size_t message_len;
	int64_t date_ms;	/* 0 until the first attempt */
	int64_t not_before_ms, next_try_ms;
	int attempts;
	char *transport, *last_error; /* or NULL */
	int64_t created_ms, updated_ms, sent_ms;
};

void outbox_item_release(struct outbox_item *it);

struct outbox_list {
	struct outbox_item *v;
	size_t nr, alloc;
};

#define OUTBOX_LIST_INIT { 0 }

void outbox_list_release(struct outbox_list *l);

/*
 * Enqueue a composed mail (reply.h) for review 'review_id' (0: none).
 * Inside the caller's transaction if one is open, else in its own, so
 * that a daemon can commit a review, its mails and its job in one
 * transaction.  Mode off is -EINVAL.  A row answering the same message
 * already exists: -EEXIST and its id in '*id_out'.  -EIO on database
 * errors.  'id_out' may be NULL.
 */
int outbox_enqueue(int64_t *id_out, struct db *db, const struct reply_mail *m,
		   int64_t review_id, int64_t now_ms, struct strbuf *err);

/* Enqueue every mail of 'l' in one transaction; existing ones are
 * skipped and counted in '*skipped' (may be NULL). */
int outbox_enqueue_all(size_t *skipped, struct db *db,
		       const struct reply_mail_list *l, int64_t review_id,
		       int64_t now_ms, struct strbuf *err);

/*
 * Rows in 'state' (OUTBOX_STATE_MAX: all), newest first, at most
 * 'limit' (0: all); 'message' is left NULL to keep listings light.
 */
int outbox_list(struct outbox_list *out, struct db *db,
		enum outbox_state state, size_t limit, struct strbuf *err);

/* One row by id, or by Message-ID if 'msgid' is non-NULL; -ENOENT. */
int outbox_get(struct outbox_item *out, struct db *db, int64_t id,
	       const char *msgid, struct strbuf *err);

/* Counts per state into 'out' (indexed by enum outbox_state). */
int outbox_counts(size_t out[OUTBOX_STATE_MAX], struct db *db,
		  struct strbuf *err);

/*
 * The wire form of a row: Date: (from date_ms, or 'now_ms' if the row
 * has none yet) followed by the stored text, with 'crlf' line ends.
 */
void outbox_wire(struct strbuf *out, const struct outbox_item *it,
		 int64_t now_ms, bool crlf);

/*
 * Delivery.
 */
struct outbox_deliver_opts {
	const struct outbox_mail *mail;	  /* required */
	const struct reply_lists *lists;  /* rate limits; may be NULL */
	const char *drafts;		  /* resolved drafts maildir */
	int64_t now_ms;
	size_t max;			  /* rows per call, 0: all due */
	/*
	 * Tests: simulate a crash right after the hand-over, before the
	 * outcome is committed (the call returns -EINTR, the row stays
	 * 'sending').
	 */
	bool crash_after_handover;
};

struct outbox_report {
	size_t sent, retrying, dead, deferred, recovered;
};

/*
 * Hand over every due row: pending and failed-retrying rows whose
 * next_try and embargo have passed, and 'sending' rows whose lease
 * expired.  Returns 0 (failed deliveries are recorded in their rows
 * and counted in 'out'), or -EIO on database errors, -EINVAL when the
 * transport is not configured ('err' says which key).
 */
int outbox_deliver_due(struct outbox_report *out, struct db *db,
		       const struct outbox_deliver_opts *opts,
		       struct strbuf *err);

/*
 * "kreview outbox send ID": a held, failed-retrying or dead row
 * becomes pending and due now (the embargo waived: an operator
 * decided), and is handed over at once.  -ENOENT, or -EBUSY for a
 * row that is sent, sending or dropped.  The attempt's outcome is in
 * the row; a failed attempt returns -EAGAIN (retrying) or -EIO (dead).
 */
int outbox_send_now(struct db *db, int64_t id,
		    const struct outbox_deliver_opts *opts,
		    struct strbuf *err);

/* Drop a row that was not sent: -ENOENT, -EBUSY (sent or sending). */
int outbox_drop(struct db *db, int64_t id, int64_t now_ms,
		struct strbuf *err);

/*
 * At start-up, when no other process can be delivering (the daemon
 * holds its lock): every 'sending' row is due again now.  Maildir rows
 * whose file exists are marked sent ('out->recovered').
 */
int outbox_recover(struct outbox_report *out, struct db *db,
		   const struct outbox_deliver_opts *opts, struct strbuf *err);

/* The earliest time a row becomes due, or INT64_MAX if none; for the
 * daemon's timer. */
int outbox_next_due(int64_t *out_ms, struct db *db, struct strbuf *err);

/*
 * Loading the reviewed message of 'msgid' from the message table
 * (raw bytes, arrival time) into 'out' for reply_compose_series().
 * -ENOENT if it is not stored.
 */
int outbox_load_target(struct reply_target *out, struct db *db,
		       const char *msgid, struct strbuf *err);

/* The SMTP password from password_env or password_file into 'out';
 * -ENOKEY when neither yields one. */
int outbox_smtp_password(struct strbuf *out, const struct outbox_mail *m,
			 struct strbuf *err);

#endif
