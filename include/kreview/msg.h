/*
 * msg.h - one mail message, parsed.
 *
 * msg_parse() takes the raw RFC 5322 bytes of one message and fills a
 * struct msg with what kreview needs: identity and threading headers,
 * the sender and the real author, the decoded subject and its parsed
 * prefixes, and the text body decoded to UTF-8.  MIME structure,
 * transfer encodings, RFC 2047 words and charsets are GMime's job;
 * g_mime_init() must have been called.
 *
 * Author rules: "X-Original-From:" replaces From: (b4 web relay and
 * list software that rewrite From:); a "From:" line at the very top
 * of the body (git send-email on behalf of someone else) names the
 * patch author, kept in 'author' while 'sender' keeps the header.
 *
 * Body rule (b4): the first text/plain or text/x-patch part; a later
 * part that contains a diff replaces it (patches sent as attachments).
 * Undeclared or wrong charsets: UTF-8 if valid, else windows-1252.
 */
#ifndef KREVIEW_MSG_H
#define KREVIEW_MSG_H

#include "kreview/common.h"
#include "kreview/subject.h"

struct strbuf;

/* Messages larger than this are refused by msg_parse() with -E2BIG. */
#define MSG_MAX_SIZE (16u << 20)
/* At most this many MIME parts are looked at. */
#define MSG_MAX_PARTS 256
/* At most this many References are kept. */
#define MSG_MAX_REFS 512

struct msg {
	char *msgid;		/* without <>; synthetic if missing */
	bool msgid_synthetic;
	char *sender;		/* "Name <addr>" or "addr" */
	char *sender_name;	/* may be "" */
	char *sender_addr;	/* lowercase; "" if none */
	char *author;		/* "Name <addr>": in-body From:, else sender */
	int64_t date_ms;
	bool has_date;
	char *subject;		/* decoded, whitespace collapsed */
	struct subject subj;
	char *in_reply_to;	/* first id of In-Reply-To, or NULL */
	char **refs;		/* References then In-Reply-To, no dups */
	size_t refs_nr;
	char *to, *cc;		/* decoded address lists, "" if absent */
	char *list_id;		/* the id inside <>, or NULL */
	bool patchwork_bot;	/* X-Patchwork-Bot: or similar markers */
	char *body;		/* UTF-8 text body, never NULL */
	size_t body_len;
	bool body_from_attachment;
	bool has_diff;		/* b4's rule on 'body' */
	bool has_diffstat;
	bool has_trailers;	/* a trailer block at the end of the text */
	char *change_id;	/* "change-id:" line, or NULL */
	char *base_commit;	/* "base-commit:" line, or NULL */
};

#define MSG_INIT { 0 }

void msg_init(struct msg *m);
void msg_release(struct msg *m);

/*
 * Parse 'raw' ('len' bytes) into 'out' (initialised, released first).
 * Returns 0; -E2BIG for a message over MSG_MAX_SIZE; -EPROTO when it
 * is not a mail message at all (no header).  Problems that do not stop
 * the parse (no Message-ID, unparsable Date) are appended to 'warn'
 * (may be NULL) as "; "-separated phrases.
 */
int msg_parse(struct msg *out, const char *raw, size_t len,
	      struct strbuf *warn);

/*
 * How msg_parse() reads a message.  A single-part message whose header
 * is plain "Name: value" fields (nearly all list mail) is read without
 * GMime's parser: its fields and body go through GMime's own decoders
 * (RFC 2047, addresses, dates, Content-Type, quoted-printable, base64)
 * but no GMimeMessage is built, which was most of the parsing time.
 * Anything else is parsed by GMime, which is handed only the top-level
 * header fields msg_parse() reads (the addressing and threading fields,
 * List-Id, X-Original-From, X-Patchwork-Bot, MIME-Version, Content-*):
 * list mail carries some 40 fields, mostly Received:, DKIM and ARC.
 *
 * The result must be the same either way; tests and the msg fuzzer
 * compare the three on real list mail and fuzzed input:
 *   MSG_PARSE_GMIME        always GMime's parser (with the field filter)
 *   MSG_PARSE_ALL_HEADERS  always GMime's parser, given every field
 *   MSG_PARSE_SIMPLE_ONLY  -EAGAIN where the simple path does not apply
 */
#define MSG_PARSE_ALL_HEADERS 1u
#define MSG_PARSE_GMIME 2u
#define MSG_PARSE_SIMPLE_ONLY 4u

int msg_parse_flags(struct msg *out, const char *raw, size_t len,
		    struct strbuf *warn, unsigned int flags);

/*
 * True if the mail carries a bot marker: an X-Patchwork-Bot header, or
 * "kernel test robot" / "syzbot" as the sender's name.  Address-based
 * rules live in the configuration (config_is_bot_sender()).
 */
bool msg_is_bot(const struct msg *m);

#endif
