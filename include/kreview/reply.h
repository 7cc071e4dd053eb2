/*
 * reply.h - LKML review replies: who gets one, who is on it, and the
 * exact bytes of the mail.
 *
 * A reply is composed from three kinds of input, and only these:
 *
 *  - the reviewed message's own headers (struct reply_target), for
 *    Subject, threading and recipients;
 *  - the configuration: the per-list policy table ('lists:', struct
 *    reply_lists) and the deployment's identity (struct reply_opts);
 *  - the review result, whose finding text (title, explanation) is the
 *    only model-written part and only ever lands in the body.
 *
 * Recipients are computed from the first two alone: an address or a
 * "Cc:" line that a model writes into a finding changes nothing.
 *
 * Mail shape (see ../shared/reference/lkml-reply.md): "Re: " + the
 * original subject (never "Re: Re:"), In-Reply-To the answered message,
 * References its full chain, To its Reply-To or author, Cc its To and
 * Cc deduplicated by address (case-insensitive) minus To and kreview's
 * own address, filtered by policy; plain text, UTF-8, 8bit (quoted-
 * printable only when a line exceeds 998 octets); an attribution line,
 * "> "-quoted hunks regenerated from the patch with "[ ... ]" snips,
 * prose wrapped at 72 columns, the signature after "-- " explaining the
 * #kreview commands.  Never a Reviewed-by or any other tag.  Non-ASCII
 * header text is RFC 2047 encoded and folded under 78 columns.
 *
 * The composed text has LF line ends and no Date: header: the outbox
 * adds Date: when the mail is first handed over (outbox.h), so that a
 * mail waiting out an embargo is not dated a day early, and a mail sent
 * again after a crash is byte for byte the same.
 */
#ifndef KREVIEW_REPLY_H
#define KREVIEW_REPLY_H

#include "kreview/common.h"
#include "kreview/config.h"
#include "kreview/finding.h"
#include "kreview/msg.h"

struct review_series;
struct review_result;
struct strbuf;
struct yamlnode;

/* Prose is wrapped at this column. */
#define REPLY_WRAP 72
/* RFC 5322: a line longer than this forces quoted-printable. */
#define REPLY_MAX_LINE 998
/* At most this many recipients per mail; more is -E2BIG. */
#define REPLY_MAX_RCPTS 200

/*
 * Policy: the 'lists:' section of the configuration.
 */

enum reply_mode {
	REPLY_MODE_OFF,	    /* nothing is composed */
	REPLY_MODE_DRY_RUN, /* composed and written to the drafts maildir */
	REPLY_MODE_OUTBOX,  /* queued, held until "kreview outbox send" */
	REPLY_MODE_SEND,    /* queued and delivered */
	REPLY_MODE_MAX,
};

/* How pre-existing bugs found while reviewing a patch are handled. */
enum reply_preexisting {
	REPLY_PRE_DB,	   /* bug database only, never in the reply */
	REPLY_PRE_DIGEST,  /* bug database and its digest, not the reply */
	REPLY_PRE_MENTION, /* one line in the reply: how many were recorded */
	REPLY_PRE_MAX,
};

/* What a reply to vN+1 says about findings already reported on vN. */
enum reply_carryover {
	REPLY_CARRY_STILL_PRESENT, /* reported, marked "still present" */
	REPLY_CARRY_OMIT,	   /* left out */
	REPLY_CARRY_MAX,
};

/* "off", "dry-run", "outbox", "send"; NULL-terminated. */
extern const char *const reply_mode_names[];
extern const char *const reply_preexisting_names[];
extern const char *const reply_carryover_names[];

/* One entry of 'lists:'. */
struct reply_list {
	char *name;	     /* unique; names the policy in the outbox */
	char *address;	     /* posting address, lowercase; or NULL */
	char *id;	     /* List-Id without <>, or NULL */
	int mode;	     /* enum reply_mode */
	int severity;	     /* enum finding_severity: the floor */
	int max_findings;    /* per patch */
	int64_t embargo_ms;  /* delay after the patch arrived */
	int pre_existing;    /* enum reply_preexisting */
	int carryover;	     /* enum reply_carryover */
	int rate_limit;	     /* mails per hour, 0: unlimited */
	bool summary;	     /* one summary reply to the cover letter */
	bool private_reply;  /* author and maintainers only, no lists */
	bool cc_maintainers; /* add MAINTAINERS M:/R: people to Cc */
};

struct reply_lists {
	struct reply_list *v;
	size_t nr;
};

/* CONFIG_CUSTOM callbacks for 'lists:' (field is struct reply_lists **;
 * always allocated, possibly empty). */
int reply_lists_parse(void *field, const struct yamlnode *node,
		      struct strbuf *err);
void reply_lists_release(void *field);
/* The binder table of one entry (for kreview.yaml(5) checks). */
extern const struct config_field reply_list_fields[];

/* The list named 'name', or NULL.  Borrowed. */
const struct reply_list *reply_lists_find(const struct reply_lists *l,
					  const char *name);

/*
 * The reviewed message.
 */
struct reply_target {
	struct msg msg;	      /* parsed headers and body */
	char *reply_to;	      /* decoded Reply-To: value, or NULL */
	char *auto_submitted; /* Auto-Submitted: value, or NULL */
	char *list_post;      /* address of List-Post: <mailto:...>, or NULL */
	int64_t arrived_ms;   /* when kreview got it; embargo start */
};

void reply_target_init(struct reply_target *t);
void reply_target_release(struct reply_target *t);

/*
 * Parse the raw message 'raw' of 'len' bytes into 'out' (initialised;
 * released first).  'arrived_ms' is when it arrived (0: its Date).
 * Errors as msg_parse(), with the reason in 'err'.
 */
int reply_target_parse(struct reply_target *out, const char *raw, size_t len,
		       int64_t arrived_ms, struct strbuf *err);

/*
 * The effective policy for a reviewed message: every entry of 'lists'
 * whose address is one of the message's To/Cc addresses (exact,
 * case-insensitive, never a substring) or whose id equals its List-Id
 * applies, and the strictest wins: the lowest mode, the highest
 * severity floor, the smallest max_findings and non-zero rate limit,
 * the longest embargo, private if any is private, mention of pre-
 * existing bugs and summaries only if all want them, carry-overs
 * omitted if any omits them, maintainers Cc'd only if all agree.  No
 * matching entry: mode off (lists opt in).
 */
struct reply_policy {
	struct reply_list eff;	/* 'name', 'address', 'id' unset */
	char **names;		/* matched entries, config order */
	size_t names_nr;
	char **list_addrs;	/* configured list addresses (all entries) */
	size_t list_addrs_nr;
};

void reply_policy_release(struct reply_policy *p);
void reply_policy_resolve(struct reply_policy *out,
			  const struct reply_lists *lists,
			  const struct reply_target *t);

/*
 * The never-answer rule.  Returns true, with a short reason in '*why'
 * (static), when kreview must not answer 't': a bot marker
 * (msg_is_bot()), a sender matching 'bot_senders' (config_glob_match
 * patterns) or equal to 'own_address', Auto-Submitted present and not
 * "no", a subject starting with "[syzbot]" or "Re:", a body line
 * starting with "#syz", a Message-ID made by kreview (reply_msgid_is_
 * own()), or a reference to a kreview Message-ID (a reply to kreview's
 * own mail: such mail may carry #kreview commands but is never
 * reviewed).  'bot_senders' and 'own_address' may be NULL.
 */
bool reply_never_answer(const struct reply_target *t,
			const struct config_strlist *bot_senders,
			const char *own_address, const char **why);

/*
 * Message-IDs: "kreview.<32 hex>@<domain>", random, without <>.
 * reply_msgid_new() never fails (getrandom, else /dev/urandom, else
 * time and pid mixed); reply_msgid_is_own() recognises the shape for
 * any domain.
 */
void reply_msgid_new(struct strbuf *out, const char *domain);
bool reply_msgid_is_own(const char *msgid);

/*
 * Revisions.  The findings of the previous revision's review (vN) of
 * the same series, by fingerprint, with what became of them.
 */
enum reply_prior_status {
	REPLY_PRIOR_REPORTED, /* reported on vN, not disputed */
	REPLY_PRIOR_INVALID,  /* marked invalid or wontfix by a maintainer */
};

struct reply_prior {
	const char *fingerprint;
	const char *title; /* for the "no longer seen" list */
	enum reply_prior_status status;
};

/*
 * Composition.
 */
struct reply_opts {
	const char *from;	  /* From:, "kreview <bot@example.org>" */
	const char *own_address;  /* bare; never a recipient */
	const char *msgid_domain; /* NULL: the domain of 'from' */
	const char *reply_to;	  /* optional Reply-To: */
	const char *feedback_url; /* "<url>/r/<review_id>" line, or NULL */
	const char *body_prefix;  /* a paragraph before the review, or NULL */
	int64_t review_id;	  /* for the feedback line */
	/* Previous revision (may be empty) and its version number. */
	const struct reply_prior *prior;
	size_t prior_nr;
	int prior_version;
};

#define REPLY_OPTS_INIT { 0 }

enum reply_kind {
	REPLY_KIND_PATCH,
	REPLY_KIND_SUMMARY,
	REPLY_KIND_COMMAND,	/* the answer to "#kreview" commands */
	REPLY_KIND_DIGEST,	/* a bug digest (digest.h) */
};

/* One composed mail. */
struct reply_mail {
	enum reply_kind kind;
	int patch;		/* 1-based patch index; 0 for a summary */
	enum reply_mode mode;
	char *msgid;		/* without <> */
	char *in_reply_to;	/* without <> */
	char *subject;		/* decoded */
	char *env_from;		/* bare address of 'from' */
	char **rcpts;		/* bare, lowercase, unique: To then Cc */
	size_t rcpts_nr;
	char *lists;		/* matched policy names, space-separated */
	int64_t not_before_ms;	/* arrival + embargo */
	int rate_limit;		/* effective mails per hour, 0: none */
	struct strbuf text;	/* header and body, LF, no Date: */
	size_t findings;	/* findings in it */
};

struct reply_mail_list {
	struct reply_mail *v;
	size_t nr, alloc;
};

#define REPLY_MAIL_LIST_INIT { 0 }

void reply_mail_release(struct reply_mail *m);
void reply_mail_list_release(struct reply_mail_list *l);

/* One patch of the series being answered. */
struct reply_patch_in {
	const struct reply_target *target; /* its mail; NULL: no reply */
	/*
	 * MAINTAINERS people (M:, R:) as "Name <addr>" and list
	 * addresses (L:) of the sections its paths map to.
	 */
	const char *const *maint_people;
	size_t maint_people_nr;
	const char *const *maint_lists;
	size_t maint_lists_nr;
};

struct reply_series_in {
	const struct review_series *series;
	const struct review_result *result;
	const struct reply_target *cover;   /* or NULL */
	const struct reply_patch_in *patches; /* series->nr entries */
	const struct reply_lists *lists;
	/* kreview's identity, for the never-answer rule. */
	const struct config_strlist *bot_senders;
};

/*
 * Compose every reply a review calls for and append them to 'out':
 * one per patch that has reportable findings under its policy (at or
 * above the severity floor, at most max_findings, not pre-existing, not
 * suppressed by 'prior'; carried-over ones marked or omitted), then a
 * summary to the cover letter when the cover's policy asks for one and
 * there is something to say (findings, or vN findings no longer seen).
 * Targets under mode off or under the never-answer rule get nothing.
 * Returns 0, -EINVAL for missing From:, -E2BIG over REPLY_MAX_RCPTS;
 * 'err' says why.  On failure 'out' is left as it was.
 */
int reply_compose_series(struct reply_mail_list *out,
			 const struct reply_series_in *in,
			 const struct reply_opts *opts, struct strbuf *err);

/*
 * The answer to a "#kreview" command mail 't' (bugcmd.h), whose body is
 * 'body' (bugcmd_process()'s text, signature included), into '*out'
 * (a reply_mail of kind REPLY_KIND_COMMAND).  Headers as for a review
 * reply - "Re:" subject, In-Reply-To and the full References chain,
 * Auto-Submitted: auto-generated - but To the sender (From:, not
 * Reply-To: the answer is for whoever gave the commands) and Cc only
 * the lists 't' came through: the address of each 'lists' entry whose
 * policy matches 't' (its List-Post address for an entry matched by
 * List-Id), unless the strictest of them is off or private.  The mode
 * is that policy's; when no entry matches or the policy is off, the
 * answer goes to the sender alone in 'private_mode' (bugs.
 * command_replies; REPLY_MODE_OFF: the caller queues nothing).  No
 * embargo.  -EINVAL when From: is not configured or 't' has no sender
 * but kreview, with the reason in 'err'.
 */
int reply_compose_command(struct reply_mail *out,
			  const struct reply_target *t, const char *body,
			  const struct reply_lists *lists,
			  enum reply_mode private_mode,
			  const struct reply_opts *o, struct strbuf *err);

/*
 * A new mail that answers nothing (a bug digest): From: and Reply-To:
 * from 'o', To 'to', Cc 'cc' (mailboxes, deduplicated by address,
 * kreview's own address dropped), 'subject', a new Message-ID (its
 * in_reply_to is the same id: the outbox's once-only key), Auto-
 * Submitted: auto-generated, plain text 'body'.  Kind, mode and policy
 * fields are the caller's.  -EINVAL without From: or recipients,
 * -E2BIG over REPLY_MAX_RCPTS.
 */
int reply_compose_new(struct reply_mail *out, const char *subject,
		      const struct config_strlist *to,
		      const struct config_strlist *cc, const char *body,
		      const struct reply_opts *o, struct strbuf *err);
/*
 * True if 't' went to a mailing list: it carries List-Id or List-Post,
 * or its To or Cc names the address of an entry of 'lists' or one of
 * the 'more_nr' addresses of 'more' (e.g. MAINTAINERS L: lines).
 */
bool reply_to_list(const struct reply_target *t,
		   const struct reply_lists *lists, const char *const *more,
		   size_t more_nr);

/*
 * The lower-level pieces, used by reply_compose_series() and tests.
 */

/*
 * Recipients of a reply to 't' under 'pol': To and Cc as described at
 * the top, then private policies remove list addresses (configured
 * ones, 'maint_lists', and the message's List-Post/List-Id address),
 * and cc_maintainers adds 'maint_people'.  Each output is a list of
 * "Name <addr>" or "addr" strings, deduplicated by address; invalid
 * addresses (no '@', control characters, spaces) are dropped.
 */
void reply_recipients(struct config_strlist *to, struct config_strlist *cc,
		      const struct reply_target *t,
		      const struct reply_policy *pol, const char *own_address,
		      const char *const *maint_people, size_t maint_people_nr,
		      const char *const *maint_lists, size_t maint_lists_nr);

/* The bare lowercase address of "Name <addr>" or "addr" into 'out'
 * (reset); -EINVAL if there is none. */
int reply_address_of(struct strbuf *out, const char *mailbox);

/*
 * Append 'text' wrapped at 'width' columns (code points): paragraphs
 * are separated by blank lines and refilled; lines starting with a
 * blank or a tab are kept verbatim (code, CPU columns); a line that
 * would read as the signature separator is defused.
 */
void reply_wrap(struct strbuf *out, const char *text, int width);

/*
 * Append a header "Name: value" folded below 78 columns, RFC 2047
 * encoding (UTF-8, Q) the value when it is not plain ASCII.  Control
 * characters in 'value' become spaces: no header injection.
 */
void reply_add_header(struct strbuf *out, const char *name,
		      const char *value);

/* "Re: " + subject unless it already starts with "Re:" (any case). */
void reply_subject(struct strbuf *out, const char *subject);

/*
 * The quoted-printable form of the body of 'text' when one of its
 * lines exceeds REPLY_MAX_LINE octets: rewrites 'text' in place (the
 * Content-Transfer-Encoding header included).  Returns true if it did.
 */
bool reply_qp_if_needed(struct strbuf *text);

#endif
