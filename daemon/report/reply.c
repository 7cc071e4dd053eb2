/* LKML review replies: see reply.h. */
#define _GNU_SOURCE /* memmem */
#include "kreview/reply.h"
#include "kreview/diff.h"
#include "kreview/review.h"
#include "kreview/strbuf.h"

#include <ctype.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Header lines are folded before this column. */
#define FOLD_AT 78
/* RFC 2047: an encoded word is at most 75 characters. */
#define EWORD_MAX 75
/* Lines of context quoted above a finding's first line. */
#define QUOTE_BEFORE 3
/* Most lines quoted for one finding. */
#define QUOTE_MAX_LINES 25
#define SNIP "[ ... ]\n"

/* Policy tables. */

const char *const reply_mode_names[] = { "off", "dry-run", "outbox", "send",
					 NULL };
const char *const reply_preexisting_names[] = { "db", "digest", "mention",
						NULL };
const char *const reply_carryover_names[] = { "still-present", "omit", NULL };
static const char *const severity_names[] = { "low", "medium", "high",
					      "critical", NULL };

static bool valid_addr(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || strchr("<>,;\"()[]\\", *s) ||
		    *s == 0x7f)
			return false;
	return true;
}

static int check_list_address(const void *field, const struct yamlnode *node,
			      struct strbuf *err)
{
	char *s = *(char *const *)field;

	if (valid_addr(s)) {
		for (char *p = s; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return 0;
	}
	yamlnode_error(err, node, "'%s' is not a bare mail address", s);
	return -EINVAL;
}

const struct config_field reply_list_fields[] = {
	{ CONFIG_F_STRING(struct reply_list, name, "name"), .required = true,
	  .doc = "name of the policy, shown in the outbox" },
	{ CONFIG_F_STRING(struct reply_list, address, "address"),
	  .check = check_list_address,
	  .doc = "posting address of the list, matched against To and Cc" },
	{ CONFIG_F_STRING(struct reply_list, id, "id"),
	  .doc = "List-Id of the list, without angle brackets" },
	{ CONFIG_F_ENUM(struct reply_list, mode, "mode", reply_mode_names),
	  .def_int = REPLY_MODE_DRY_RUN,
	  .doc = "off, dry-run, outbox or send" },
	{ CONFIG_F_ENUM(struct reply_list, severity, "severity",
			severity_names),
	  .def_int = SEV_MEDIUM,
	  .doc = "lowest severity that is mailed" },
	{ CONFIG_F_INT(struct reply_list, max_findings, "max_findings"),
	  .min = 1, .max = FINDING_MAX_PER_ANSWER, .def_int = 5,
	  .doc = "most findings in one reply" },
	{ CONFIG_F_DURATION(struct reply_list, embargo_ms, "embargo"),
	  .min = 0, .max = 30LL * 86400 * 1000, .def_int = 0,
	  .doc = "delay after the patch arrived before mail goes out" },
	{ CONFIG_F_ENUM(struct reply_list, pre_existing, "pre_existing",
			reply_preexisting_names),
	  .def_int = REPLY_PRE_DB,
	  .doc = "pre-existing bugs: db, digest or mention" },
	{ CONFIG_F_ENUM(struct reply_list, carryover, "carryover",
			reply_carryover_names),
	  .def_int = REPLY_CARRY_STILL_PRESENT,
	  .doc = "findings already reported on the previous revision: "
		 "still-present or omit" },
	{ CONFIG_F_INT(struct reply_list, rate_limit, "rate_limit"),
	  .min = 0, .max = 100000, .def_int = 20,
	  .doc = "mails per hour, 0 for no limit" },
	{ CONFIG_F_BOOL(struct reply_list, summary, "summary"),
	  .def_bool = false,
	  .doc = "send one summary reply to the cover letter" },
	{ CONFIG_F_BOOL(struct reply_list, private_reply, "private"),
	  .def_bool = false,
	  .doc = "mail the author and maintainers only, never the lists" },
	{ CONFIG_F_BOOL(struct reply_list, cc_maintainers, "cc_maintainers"),
	  .def_bool = true,
	  .doc = "Cc the maintainers and reviewers MAINTAINERS names" },
	{ NULL }
};

static void list_release(struct reply_list *l)
{
	config_release(l, reply_list_fields);
}

void reply_lists_release(void *field)
{
	struct reply_lists **pl = field, *l = *pl;

	if (!l)
		return;
	for (size_t i = 0; i < l->nr; i++)
		list_release(&l->v[i]);
	free(l->v);
	free(l);
	*pl = NULL;
}

const struct reply_list *reply_lists_find(const struct reply_lists *l,
					  const char *name)
{
	for (size_t i = 0; l && i < l->nr; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

int reply_lists_parse(void *field, const struct yamlnode *node,
		      struct strbuf *err)
{
	struct reply_lists **pl = field, *l;
	int ret = 0;

	l = xcalloc(1, sizeof(*l));
	*pl = l;
	if (!node || yamlnode_is_null(node))
		return 0;
	if (node->kind != YAMLNODE_SEQUENCE) {
		yamlnode_error(err, node, "lists: expected a sequence, got %s",
			       yamlnode_kind_name(node->kind));
		return -EINVAL;
	}
	l->v = xcalloc(node->nr ? node->nr : 1, sizeof(*l->v));
	for (size_t i = 0; i < node->nr; i++) {
		const struct yamlnode *item = node->items[i];
		struct reply_list e;

		memset(&e, 0, sizeof(e));
		if (item->kind != YAMLNODE_MAPPING) {
			yamlnode_error(err, item,
				       "list: expected a mapping, got %s",
				       yamlnode_kind_name(item->kind));
			ret = -EINVAL;
			continue;
		}
		if (config_bind(&e, reply_list_fields, item, err) < 0) {
			ret = -EINVAL;
			list_release(&e);
			continue;
		}
		if (!e.address && !e.id) {
			yamlnode_error(err, item,
				       "list '%s': needs 'address' or 'id'",
				       e.name);
			ret = -EINVAL;
			list_release(&e);
			continue;
		}
		if (reply_lists_find(l, e.name)) {
			yamlnode_error(err, yamlnode_map_get(item, "name"),
				       "duplicate list name '%s'", e.name);
			ret = -EINVAL;
			list_release(&e);
			continue;
		}
		l->v[l->nr++] = e;
	}
	return ret;
}

/* Small string-list helpers. */

static void strlist_add(struct config_strlist *l, const char *s)
{
	l->v = xrealloc(l->v, st_mult(l->nr + 1, sizeof(*l->v)));
	l->v[l->nr++] = xstrdup(s);
}

static void strarr_add(char ***v, size_t *nr, const char *s)
{
	*v = xrealloc(*v, st_mult(*nr + 1, sizeof(**v)));
	(*v)[(*nr)++] = xstrdup(s);
}

static void strarr_free(char **v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(v[i]);
	free(v);
}

/* The reviewed message. */

void reply_target_init(struct reply_target *t)
{
	memset(t, 0, sizeof(*t));
	msg_init(&t->msg);
}

void reply_target_release(struct reply_target *t)
{
	msg_release(&t->msg);
	free(t->reply_to);
	free(t->auto_submitted);
	free(t->list_post);
	reply_target_init(t);
}

static char *trimmed_dup(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, s);
	for (size_t i = 0; i < sb.len; i++)
		if ((unsigned char)sb.buf[i] < ' ')
			sb.buf[i] = ' ';
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

/* The extra headers msg_parse() does not keep. */
static void extra_headers(struct reply_target *t, const char *raw, size_t len)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *gm;
	InternetAddressList *rt;
	const char *v;

	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	gm = g_mime_parser_construct_message(parser, NULL);
	if (!gm)
		goto out;
	rt = g_mime_message_get_reply_to(gm);
	if (rt && internet_address_list_length(rt) > 0) {
		char *s = internet_address_list_to_string(rt, NULL, FALSE);

		if (s && *s)
			t->reply_to = trimmed_dup(s);
		g_free(s);
	}
	v = g_mime_object_get_header(GMIME_OBJECT(gm), "Auto-Submitted");
	if (v)
		t->auto_submitted = trimmed_dup(v);
	v = g_mime_object_get_header(GMIME_OBJECT(gm), "List-Post");
	if (v) {
		const char *p = strstr(v, "mailto:");
		struct strbuf sb = STRBUF_INIT;

		for (p = p ? p + 7 : NULL; p && *p && !strchr(">?, \t", *p);
		     p++)
			strbuf_addch(&sb, (char)tolower((unsigned char)*p));
		if (valid_addr(sb.buf))
			t->list_post = strbuf_detach(&sb, NULL);
		strbuf_release(&sb);
	}
	g_object_unref(gm);
out:
	g_object_unref(parser);
	g_object_unref(stream);
}

int reply_target_parse(struct reply_target *out, const char *raw, size_t len,
		       int64_t arrived_ms, struct strbuf *err)
{
	struct reply_target t;
	int r;

	reply_target_init(&t);
	r = msg_parse(&t.msg, raw, len, NULL);
	if (r < 0) {
		strbuf_addf(err, "cannot parse the reviewed message: %s",
			    r == -E2BIG ? "too large" : "not a mail message");
		reply_target_release(&t);
		return r;
	}
	extra_headers(&t, raw, len);
	t.arrived_ms = arrived_ms ? arrived_ms : t.msg.date_ms;
	reply_target_release(out);
	*out = t;
	return 0;
}

/* Addresses. */

struct mbox_list {
	char **names, **addrs;
	size_t nr;
};

static void mbox_list_release(struct mbox_list *l)
{
	strarr_free(l->names, l->nr);
	for (size_t i = 0; i < l->nr; i++)
		free(l->addrs[i]);
	free(l->addrs);
	memset(l, 0, sizeof(*l));
}

static bool mbox_list_has(const struct mbox_list *l, const char *addr)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->addrs[i], addr))
			return true;
	return false;
}

/* Append one mailbox unless invalid or already present (by address). */
static void mbox_list_add(struct mbox_list *l, const char *name,
			  const char *addr)
{
	struct strbuf a = STRBUF_INIT;
	size_t nr = l->nr;

	strbuf_addstr(&a, addr ? addr : "");
	strbuf_trim(&a);
	strbuf_tolower(&a);
	if (!valid_addr(a.buf) || mbox_list_has(l, a.buf)) {
		strbuf_release(&a);
		return;
	}
	l->names = xrealloc(l->names, st_mult(nr + 1, sizeof(char *)));
	l->addrs = xrealloc(l->addrs, st_mult(nr + 1, sizeof(char *)));
	l->names[nr] = trimmed_dup(name ? name : "");
	l->addrs[nr] = strbuf_detach(&a, NULL);
	l->nr++;
}

static void add_ia_list(struct mbox_list *l, InternetAddressList *list)
{
	for (int i = 0; list && i < internet_address_list_length(list); i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			add_ia_list(l, internet_address_group_get_members(
					       INTERNET_ADDRESS_GROUP(ia)));
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		mbox_list_add(l, internet_address_get_name(ia),
			      internet_address_mailbox_get_addr(
				      INTERNET_ADDRESS_MAILBOX(ia)));
	}
}

/* Parse an address list header value ("A <a@x>, b@y") into 'l'. */
static void mbox_list_parse(struct mbox_list *l, const char *value)
{
	InternetAddressList *list;

	if (!value || !*value)
		return;
	list = internet_address_list_parse(NULL, value);
	if (!list)
		return;
	add_ia_list(l, list);
	g_object_unref(list);
}

int reply_address_of(struct strbuf *out, const char *mailbox)
{
	struct mbox_list l = { 0 };
	int r = -EINVAL;

	mbox_list_parse(&l, mailbox);
	if (l.nr) {
		strbuf_reset(out);
		strbuf_addstr(out, l.addrs[0]);
		r = 0;
	}
	mbox_list_release(&l);
	return r;
}

static void format_mailbox(struct strbuf *out, const char *name,
			   const char *addr)
{
	if (name && *name)
		strbuf_addf(out, "%s <%s>", name, addr);
	else
		strbuf_addstr(out, addr);
}

static void to_strlist(struct config_strlist *out, const struct mbox_list *l)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < l->nr; i++) {
		strbuf_reset(&sb);
		format_mailbox(&sb, l->names[i], l->addrs[i]);
		strlist_add(out, sb.buf);
	}
	strbuf_release(&sb);
}

static bool is_list_addr(const char *addr, const struct reply_policy *pol,
			 const struct reply_target *t,
			 const char *const *maint_lists, size_t maint_lists_nr)
{
	struct strbuf a = STRBUF_INIT;
	bool found = false;

	for (size_t i = 0; i < pol->list_addrs_nr && !found; i++)
		found = !strcmp(pol->list_addrs[i], addr);
	for (size_t i = 0; i < maint_lists_nr && !found; i++)
		found = !reply_address_of(&a, maint_lists[i]) &&
			!strcmp(a.buf, addr);
	if (!found && t->list_post)
		found = !strcmp(t->list_post, addr);
	strbuf_release(&a);
	return found;
}

void reply_recipients(struct config_strlist *to, struct config_strlist *cc,
		      const struct reply_target *t,
		      const struct reply_policy *pol, const char *own_address,
		      const char *const *maint_people, size_t maint_people_nr,
		      const char *const *maint_lists, size_t maint_lists_nr)
{
	struct mbox_list tl = { 0 }, cl = { 0 }, all = { 0 }, fin = { 0 };
	struct strbuf own = STRBUF_INIT;

	if (own_address)
		strbuf_addstr(&own, own_address);
	strbuf_tolower(&own);
	/* Addresses never to be added: kreview itself. */
	if (own.len)
		mbox_list_add(&all, "", own.buf);

	if (t->reply_to)
		mbox_list_parse(&tl, t->reply_to);
	if (!tl.nr)
		mbox_list_parse(&tl, t->msg.author);
	for (size_t i = 0; i < tl.nr; i++) {
		if (pol->eff.private_reply &&
		    is_list_addr(tl.addrs[i], pol, t, maint_lists,
				 maint_lists_nr))
			continue;
		if (mbox_list_has(&all, tl.addrs[i]))
			continue;
		mbox_list_add(&all, "", tl.addrs[i]);
		mbox_list_add(&fin, tl.names[i], tl.addrs[i]);
	}
	to_strlist(to, &fin);
	mbox_list_release(&fin);

	/* Relayed mail: the sender who is not the author hears too. */
	mbox_list_parse(&cl, t->msg.sender);
	mbox_list_parse(&cl, t->msg.to);
	mbox_list_parse(&cl, t->msg.cc);
	for (size_t i = 0; pol->eff.cc_maintainers && i < maint_people_nr;
	     i++)
		mbox_list_parse(&cl, maint_people[i]);
	for (size_t i = 0; i < cl.nr; i++) {
		if (mbox_list_has(&all, cl.addrs[i]))
			continue;
		if (pol->eff.private_reply &&
		    is_list_addr(cl.addrs[i], pol, t, maint_lists,
				 maint_lists_nr))
			continue;
		mbox_list_add(&all, "", cl.addrs[i]);
		mbox_list_add(&fin, cl.names[i], cl.addrs[i]);
	}
	to_strlist(cc, &fin);
	mbox_list_release(&fin);
	mbox_list_release(&tl);
	mbox_list_release(&cl);
	mbox_list_release(&all);
	strbuf_release(&own);
}

/* Policy. */

void reply_policy_release(struct reply_policy *p)
{
	strarr_free(p->names, p->names_nr);
	strarr_free(p->list_addrs, p->list_addrs_nr);
	memset(p, 0, sizeof(*p));
}

static bool list_matches(const struct reply_list *l,
			 const struct mbox_list *rcpts,
			 const struct reply_target *t)
{
	if (l->address && mbox_list_has(rcpts, l->address))
		return true;
	if (l->address && t->list_post && !strcmp(t->list_post, l->address))
		return true;
	return l->id && t->msg.list_id && !strcasecmp(l->id, t->msg.list_id);
}

void reply_policy_resolve(struct reply_policy *out,
			  const struct reply_lists *lists,
			  const struct reply_target *t)
{
	struct mbox_list rcpts = { 0 };
	struct reply_list *e = &out->eff;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	e->mode = REPLY_MODE_OFF;
	mbox_list_parse(&rcpts, t->msg.to);
	mbox_list_parse(&rcpts, t->msg.cc);
	for (size_t i = 0; lists && i < lists->nr; i++) {
		const struct reply_list *l = &lists->v[i];

		if (l->address)
			strarr_add(&out->list_addrs, &out->list_addrs_nr,
				   l->address);
		if (!list_matches(l, &rcpts, t))
			continue;
		strarr_add(&out->names, &out->names_nr, l->name);
		if (!n++) {
			*e = *l;
			e->name = e->address = e->id = NULL;
			continue;
		}
		if (l->mode < e->mode)
			e->mode = l->mode;
		if (l->severity > e->severity)
			e->severity = l->severity;
		if (l->max_findings < e->max_findings)
			e->max_findings = l->max_findings;
		if (l->embargo_ms > e->embargo_ms)
			e->embargo_ms = l->embargo_ms;
		if (l->pre_existing != REPLY_PRE_MENTION)
			e->pre_existing = REPLY_PRE_DB;
		if (l->carryover == REPLY_CARRY_OMIT)
			e->carryover = REPLY_CARRY_OMIT;
		if (l->rate_limit &&
		    (!e->rate_limit || l->rate_limit < e->rate_limit))
			e->rate_limit = l->rate_limit;
		e->summary = e->summary && l->summary;
		e->private_reply = e->private_reply || l->private_reply;
		e->cc_maintainers = e->cc_maintainers && l->cc_maintainers;
	}
	mbox_list_release(&rcpts);
}

/* Message-IDs. */

#define OWN_PREFIX "kreview."
#define OWN_HEX 32

void reply_msgid_new(struct strbuf *out, const char *domain)
{
	unsigned char raw[OWN_HEX / 2];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(raw)) {
		/* No entropy source: time and pid still make it unique. */
		uint64_t x = (uint64_t)time_now_ms() ^
			     ((uint64_t)getpid() << 40) ^
			     (uint64_t)time_mono_ms() << 20;

		for (size_t i = 0; i < sizeof(raw); i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			raw[i] = (unsigned char)(x >> 56);
		}
	}
	strbuf_addstr(out, OWN_PREFIX);
	for (size_t i = 0; i < sizeof(raw); i++)
		strbuf_addf(out, "%02x", raw[i]);
	strbuf_addf(out, "@%s", domain && *domain ? domain : "kreview.invalid");
}

bool reply_msgid_is_own(const char *msgid)
{
	const char *p = skip_prefix(msgid ? msgid : "", OWN_PREFIX);

	if (!p || strspn(p, "0123456789abcdef") != OWN_HEX)
		return false;
	return p[OWN_HEX] == '@';
}

/* The never-answer rule. */

static bool body_has_syz(const char *body)
{
	for (const char *p = body; p && *p;) {
		if (!strncmp(p, "#syz", 4))
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

bool reply_never_answer(const struct reply_target *t,
			const struct config_strlist *bot_senders,
			const char *own_address, const char **why)
{
	const struct msg *m = &t->msg;
	const char *reason = NULL;

	if (msg_is_bot(m))
		reason = "bot marker";
	else if (own_address && m->sender_addr &&
		 !strcasecmp(m->sender_addr, own_address))
		reason = "kreview's own mail";
	else if (reply_msgid_is_own(m->msgid))
		reason = "kreview's own mail";
	else if (t->auto_submitted && strcasecmp(t->auto_submitted, "no"))
		reason = "Auto-Submitted mail";
	else if (m->subject && (skip_prefix_icase(m->subject, "[syzbot]") ||
				skip_prefix_icase(m->subject, "re:")))
		reason = m->subject[0] == '[' ? "syzbot report" : "a reply";
	else if (body_has_syz(m->body))
		reason = "syzbot command";
	for (size_t i = 0; !reason && bot_senders && m->sender_addr &&
			   i < bot_senders->nr; i++)
		if (config_glob_match(bot_senders->v[i], m->sender_addr))
			reason = "bot sender";
	for (size_t i = 0; !reason && i < m->refs_nr; i++)
		if (reply_msgid_is_own(m->refs[i]))
			reason = "a reply to kreview's mail";
	if (reason && why)
		*why = reason;
	return reason != NULL;
}

/* Header encoding. */

static bool is_ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s > '~')
			return false;
	return true;
}

/* Length in bytes of the UTF-8 sequence starting with 'c' (1 if bad). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	if (c >= 0xe0)
		return c < 0xf0 ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/*
 * Encode 's' as RFC 2047 Q words (the strict set that is also valid in
 * a phrase), each at most EWORD_MAX characters and never splitting a
 * UTF-8 sequence.  Words are separated by "\n " when the current line
 * (of 'col' characters so far) would pass FOLD_AT, else by a space.
 * Returns the column after the last word.
 */
static size_t add_ewords(struct strbuf *out, const char *s, size_t col)
{
	static const char head[] = "=?UTF-8?Q?";
	struct strbuf w = STRBUF_INIT;
	size_t len = strlen(s), i = 0;
	bool first = true;

	while (i < len) {
		/* the first word shares its line with what came before */
		size_t limit = first && FOLD_AT > col + 20 ? FOLD_AT - col
							    : EWORD_MAX;

		if (limit > EWORD_MAX)
			limit = EWORD_MAX;
		strbuf_reset(&w);
		strbuf_addstr(&w, head);
		while (i < len) {
			size_t n = utf8_len((unsigned char)s[i]);
			struct strbuf enc = STRBUF_INIT;

			if (i + n > len)
				n = len - i;
			for (size_t k = 0; k < n; k++) {
				unsigned char c = (unsigned char)s[i + k];

				if (c == ' ')
					strbuf_addch(&enc, '_');
				else if (isalnum(c) || strchr("!*+-/", c))
					strbuf_addch(&enc, (char)c);
				else if (c < ' ' || c == 0x7f)
					strbuf_addstr(&enc, "_");
				else
					strbuf_addf(&enc, "=%02X", c);
			}
			if (w.len + enc.len + 2 > limit &&
			    w.len > sizeof(head) - 1) {
				strbuf_release(&enc);
				break;
			}
			strbuf_addbuf(&w, &enc);
			strbuf_release(&enc);
			i += n;
		}
		strbuf_addstr(&w, "?=");
		if (!first) {
			if (col + 1 + w.len > FOLD_AT) {
				strbuf_addstr(out, "\n ");
				col = 1;
			} else {
				strbuf_addch(out, ' ');
				col++;
			}
		}
		strbuf_addbuf(out, &w);
		col += w.len;
		first = false;
	}
	strbuf_release(&w);
	return col;
}

void reply_add_header(struct strbuf *out, const char *name, const char *value)
{
	char *v = trimmed_dup(value ? value : "");
	size_t col = strlen(name) + 2;
	const char *p = v;

	strbuf_addf(out, "%s: ", name);
	if (!is_ascii_printable(v)) {
		add_ewords(out, v, col);
		strbuf_addch(out, '\n');
		free(v);
		return;
	}
	/* Fold at spaces; a word longer than the line stays whole. */
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t wl = sp ? (size_t)(sp - p) : strlen(p);

		if (p != v) {
			if (col + 1 + wl > FOLD_AT) {
				strbuf_addstr(out, "\n ");
				col = 1;
			} else {
				strbuf_addch(out, ' ');
				col++;
			}
		}
		strbuf_add(out, p, wl);
		col += wl;
		p += wl;
		while (*p == ' ')
			p++;
	}
	strbuf_addch(out, '\n');
	free(v);
}

static bool needs_quoting(const char *name)
{
	for (; *name; name++)
		if (strchr("()<>[]:;@\\,.\"", *name))
			return true;
	return false;
}

/* One mailbox in header form. */
static void encode_mailbox(struct strbuf *out, const char *name,
			   const char *addr, size_t col)
{
	if (!name || !*name) {
		strbuf_addstr(out, addr);
		return;
	}
	if (!is_ascii_printable(name)) {
		add_ewords(out, name, col);
	} else if (needs_quoting(name)) {
		strbuf_addch(out, '"');
		for (; *name; name++) {
			if (*name == '"' || *name == '\\')
				strbuf_addch(out, '\\');
			strbuf_addch(out, *name);
		}
		strbuf_addch(out, '"');
	} else {
		strbuf_addstr(out, name);
	}
	strbuf_addf(out, " <%s>", addr);
}

/* "To: a, b" folded between mailboxes.  Nothing for an empty list. */
static void add_address_header(struct strbuf *out, const char *hname,
			       const struct config_strlist *l)
{
	struct mbox_list ml = { 0 };
	struct strbuf one = STRBUF_INIT;
	size_t col;

	for (size_t i = 0; i < l->nr; i++)
		mbox_list_parse(&ml, l->v[i]);
	if (!ml.nr)
		goto out;
	strbuf_addf(out, "%s: ", hname);
	col = strlen(hname) + 2;
	for (size_t i = 0; i < ml.nr; i++) {
		const char *nl;

		strbuf_reset(&one);
		encode_mailbox(&one, ml.names[i], ml.addrs[i], 1);
		if (i) {
			if (col + 2 + one.len > FOLD_AT) {
				strbuf_addstr(out, ",\n ");
				col = 1;
			} else {
				strbuf_addstr(out, ", ");
				col += 2;
			}
		}
		strbuf_addbuf(out, &one);
		nl = strrchr(one.buf, '\n');
		col = nl ? (size_t)(one.buf + one.len - nl - 1) : col + one.len;
	}
	strbuf_addch(out, '\n');
out:
	strbuf_release(&one);
	mbox_list_release(&ml);
}

/* "References: <a> <b>" folded between ids. */
static void add_ids_header(struct strbuf *out, const char *hname,
			   char *const *ids, size_t nr, const char *last)
{
	size_t col = strlen(hname) + 1;

	strbuf_addf(out, "%s:", hname);
	for (size_t i = 0; i <= nr; i++) {
		const char *id = i < nr ? ids[i] : last;
		size_t l = strlen(id) + 2;

		if (!id || (i < nr && last && !strcmp(id, last)))
			continue;
		if (col > strlen(hname) + 1 && col + 1 + l > FOLD_AT) {
			strbuf_addstr(out, "\n");
			col = 0;
		}
		strbuf_addf(out, " <%s>", id);
		col += 1 + l;
	}
	strbuf_addch(out, '\n');
}

void reply_subject(struct strbuf *out, const char *subject)
{
	const char *s = subject ? subject : "";

	if (!skip_prefix_icase(s, "re:"))
		strbuf_addstr(out, "Re: ");
	strbuf_addstr(out, s);
}

/* Prose. */

static size_t utf8_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

static void wrap_paragraph(struct strbuf *out, const char *p, size_t len,
			   int width)
{
	size_t col = 0, i = 0;

	while (i < len) {
		size_t start, wl, ww;

		while (i < len && isspace((unsigned char)p[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && !isspace((unsigned char)p[i]))
			i++;
		wl = i - start;
		ww = utf8_width(p + start, wl);
		if (col && col + 1 + ww > (size_t)width) {
			strbuf_addch(out, '\n');
			col = 0;
		} else if (col) {
			strbuf_addch(out, ' ');
			col++;
		}
		strbuf_add(out, p + start, wl);
		col += ww;
	}
	if (col)
		strbuf_addch(out, '\n');
}

void reply_wrap(struct strbuf *out, const char *text, int width)
{
	struct strbuf para = STRBUF_INIT;
	const char *p = text ? text : "";
	bool blank_pending = false, any = false;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		bool verbatim = len && (p[0] == ' ' || p[0] == '\t');
		bool blank = true;

		for (size_t i = 0; i < len; i++)
			if (!isspace((unsigned char)p[i]))
				blank = false;
		if (blank || verbatim) {
			if (para.len) {
				if (blank_pending && any)
					strbuf_addch(out, '\n');
				wrap_paragraph(out, para.buf, para.len, width);
				strbuf_reset(&para);
				any = true;
				blank_pending = false;
			}
			if (blank) {
				blank_pending = true;
			} else {
				if (blank_pending && any)
					strbuf_addch(out, '\n');
				blank_pending = false;
				strbuf_add(out, p, len);
				strbuf_rtrim(out);
				strbuf_addch(out, '\n');
				any = true;
			}
		} else {
			/* A line "--" or "-- " would start a signature. */
			if (len >= 2 && !strncmp(p, "--", 2) &&
			    (len == 2 || (len == 3 && p[2] == ' ')))
				strbuf_addstr(&para, "- -");
			else
				strbuf_add(&para, p, len);
			strbuf_addch(&para, ' ');
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	if (para.len) {
		if (blank_pending && any)
			strbuf_addch(out, '\n');
		wrap_paragraph(out, para.buf, para.len, width);
	}
	strbuf_release(&para);
}

/* Quoting. */

static void quote_line(struct strbuf *out, const char *line, size_t len)
{
	if (len) {
		strbuf_addstr(out, "> ");
		strbuf_add(out, line, len);
	} else {
		strbuf_addch(out, '>');
	}
	strbuf_addch(out, '\n');
}

/* The lines of one hunk body (after its "@@" line). */
struct hunk_lines {
	const char **start;
	size_t *len;
	int *new_no;		/* new-side number, or the next one for '-' */
	size_t nr;
	const char *header;	/* the "@@" line */
	size_t header_len;
};

static void hunk_lines_release(struct hunk_lines *h)
{
	free(h->start);
	free(h->len);
	free(h->new_no);
	memset(h, 0, sizeof(*h));
}

static void hunk_lines_load(struct hunk_lines *h, const char *text,
			    const struct diff_hunk *dh)
{
	const char *p = text + dh->offset, *end = p + dh->length;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	int no = dh->new_start;
	size_t alloc = 0;

	memset(h, 0, sizeof(*h));
	h->header = p;
	h->header_len = eol ? (size_t)(eol - p) : (size_t)(end - p);
	p = eol ? eol + 1 : end;
	while (p < end) {
		size_t len;

		eol = memchr(p, '\n', (size_t)(end - p));
		len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (h->nr + 1 > alloc) {
			alloc = st_add(alloc, 16) * 2;
			h->start = xrealloc(h->start,
					    st_mult(alloc, sizeof(*h->start)));
			h->len = xrealloc(h->len, st_mult(alloc, sizeof(size_t)));
			h->new_no = xrealloc(h->new_no,
					     st_mult(alloc, sizeof(int)));
		}
		h->start[h->nr] = p;
		h->len[h->nr] = len;
		h->new_no[h->nr] = no;
		if (len && (p[0] == ' ' || p[0] == '+'))
			no++;
		else if (!len)
			no++; /* an empty context line that lost its blank */
		h->nr++;
		p = eol ? eol + 1 : end;
	}
}

/* Trim blanks (and a leading diff marker when 'marker'). */
static void trim_code(const char **s, size_t *len, bool marker)
{
	if (marker && *len && strchr("+- ", **s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* First evidence line worth searching for (>= 4 characters). */
static bool evidence_key(const char *ev, const char **key, size_t *klen)
{
	for (const char *p = ev ? ev : ""; *p;) {
		const char *eol = strchr(p, '\n');
		const char *s = p;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		trim_code(&s, &len, true);
		if (len >= 4) {
			*key = s;
			*klen = len;
			return true;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return false;
}

static long find_in_lines(const struct hunk_lines *h, const char *key,
			  size_t klen)
{
	for (size_t i = 0; i < h->nr; i++) {
		const char *s = h->start[i];
		size_t len = h->len[i];

		trim_code(&s, &len, true);
		if (len >= klen && memmem(s, len, key, klen))
			return (long)i;
	}
	return -1;
}

/* Where a finding is quoted from. */
struct anchor {
	long file;	/* index in the diff; -1: commit message; -2: none */
	long hunk;
	long first, last; /* line indexes in the hunk (or message) */
};

static const struct diff_file *find_file(const struct diff *d, const char *path,
					 long *idx)
{
	for (size_t i = 0; path && i < d->files_nr; i++) {
		const struct diff_file *f = &d->files[i];

		if ((f->new_path && !strcmp(f->new_path, path)) ||
		    (f->old_path && !strcmp(f->old_path, path))) {
			*idx = (long)i;
			return f;
		}
	}
	return NULL;
}

static void anchor_finding(struct anchor *a, const struct review_patch *p,
			   const struct finding *f)
{
	const struct diff_file *df;
	const char *key = NULL;
	size_t klen = 0;
	bool has_key = evidence_key(f->evidence, &key, &klen);
	long best = -1, best_dist = LONG_MAX;

	a->file = -2;
	a->hunk = a->first = a->last = -1;
	df = find_file(&p->diff, f->file, &a->file);
	if (!df || !df->hunks_nr) {
		a->file = -2;
		goto message;
	}
	/* 1. the hunk whose new side holds the line */
	for (size_t i = 0; i < df->hunks_nr; i++) {
		const struct diff_hunk *dh = &df->hunks[i];
		long lo = dh->new_start, hi = lo + dh->new_lines;
		long dist = f->line < lo ? lo - f->line
					 : (f->line >= hi ? f->line - hi + 1 : 0);

		if (dist < best_dist) {
			best_dist = dist;
			best = (long)i;
		}
	}
	/* 2. the evidence, which beats a line number that misses */
	if (has_key && best_dist > 0) {
		for (size_t i = 0; i < df->hunks_nr; i++) {
			struct hunk_lines h;
			long at;

			hunk_lines_load(&h, p->patch_text, &df->hunks[i]);
			at = find_in_lines(&h, key, klen);
			hunk_lines_release(&h);
			if (at >= 0) {
				best = (long)i;
				best_dist = 0;
				break;
			}
		}
	}
	if (best_dist > 0 && !has_key) {
		/* nowhere near a hunk: quote none rather than the wrong one */
		a->file = -2;
		return;
	}
	a->hunk = best;
	{
		struct hunk_lines h;
		long at = -1;

		hunk_lines_load(&h, p->patch_text, &df->hunks[best]);
		for (size_t i = 0; i < h.nr; i++) {
			bool marker = h.len[i] && h.start[i][0] == '-';
			int no = h.new_no[i];

			if (!marker && no >= f->line && no <= f->end_line) {
				if (a->first < 0)
					a->first = (long)i;
				a->last = (long)i;
			}
		}
		if (has_key)
			at = find_in_lines(&h, key, klen);
		if (at >= 0 && (a->first < 0 || at < a->first ||
				at > a->last)) {
			/* the evidence is the better guide */
			size_t n = 0;

			for (const char *e = f->evidence; *e; e++)
				n += *e == '\n';
			a->first = at;
			a->last = at + (long)n;
			if (f->evidence[0] &&
			    f->evidence[strlen(f->evidence) - 1] == '\n')
				a->last--;
		}
		if (a->first < 0) {
			a->first = 0;
			a->last = (long)h.nr - 1;
		}
		if (a->last >= (long)h.nr)
			a->last = (long)h.nr - 1;
		/* include the '-' lines just above the first one */
		while (a->first > 0 && h.len[a->first - 1] &&
		       h.start[a->first - 1][0] == '-')
			a->first--;
		hunk_lines_release(&h);
	}
	return;
message:
	if (has_key && p->message && memmem(p->message, strlen(p->message),
					    key, klen)) {
		const char *hit = memmem(p->message, strlen(p->message), key,
					 klen);
		long line = 0;

		for (const char *c = p->message; c < hit; c++)
			line += *c == '\n';
		a->file = -1;
		a->first = a->last = line;
	}
}

/* A finding chosen for a reply, with its place in the patch. */
struct pick {
	const struct review_finding *rf;
	struct anchor a;
	bool carried;	/* also reported on the previous revision */
};

static int pick_cmp_pos(const void *x, const void *y)
{
	const struct pick *a = x, *b = y;

	if (a->a.file != b->a.file) {
		/* the commit message first, unanchored ones last */
		long fa = a->a.file == -2 ? LONG_MAX : a->a.file;
		long fb = b->a.file == -2 ? LONG_MAX : b->a.file;

		return fa < fb ? -1 : 1;
	}
	if (a->a.hunk != b->a.hunk)
		return a->a.hunk < b->a.hunk ? -1 : 1;
	if (a->a.last != b->a.last)
		return a->a.last < b->a.last ? -1 : 1;
	return a->rf < b->rf ? -1 : (a->rf > b->rf);
}

static int pick_cmp_sev(const void *x, const void *y)
{
	const struct pick *a = x, *b = y;

	if (a->rf->c.severity != b->rf->c.severity)
		return a->rf->c.severity > b->rf->c.severity ? -1 : 1;
	if (a->rf->c.support != b->rf->c.support)
		return a->rf->c.support > b->rf->c.support ? -1 : 1;
	return a->rf < b->rf ? -1 : (a->rf > b->rf);
}

static const struct reply_prior *prior_find(const struct reply_opts *o,
					    const char *fpr)
{
	for (size_t i = 0; i < o->prior_nr; i++)
		if (o->prior[i].fingerprint &&
		    !strcmp(o->prior[i].fingerprint, fpr))
			return &o->prior[i];
	return NULL;
}

/*
 * The findings of patch 'idx' (1-based) a reply reports under 'pol':
 * into '*out' (count '*nr'), and the pre-existing ones counted in
 * '*pre'.
 */
static void pick_findings(struct pick **out, size_t *nr, size_t *pre,
			  const struct review_result *res,
			  const struct review_patch *p, int idx,
			  const struct reply_list *pol,
			  const struct reply_opts *o)
{
	struct pick *v = NULL;
	size_t n = 0, limit = (size_t)(pol->max_findings > 0
						? pol->max_findings
						: 5);

	*pre = 0;
	for (size_t i = 0; i < res->nr; i++) {
		const struct review_finding *rf = &res->v[i];
		const struct reply_prior *pr;

		if (rf->drop != REVIEW_REPORTED || rf->c.rep.patch != idx)
			continue;
		if (rf->pre_existing) {
			(*pre)++;
			continue;
		}
		if ((int)rf->c.severity < pol->severity)
			continue;
		pr = prior_find(o, rf->c.fingerprint);
		if (pr && pr->status == REPLY_PRIOR_INVALID)
			continue;
		if (pr && pol->carryover == REPLY_CARRY_OMIT)
			continue;
		v = xrealloc(v, st_mult(n + 1, sizeof(*v)));
		v[n].rf = rf;
		v[n].carried = pr != NULL;
		anchor_finding(&v[n].a, p, &rf->c.rep);
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), pick_cmp_sev);
	if (n > limit)
		n = limit;
	if (n)
		qsort(v, n, sizeof(*v), pick_cmp_pos);
	*out = v;
	*nr = n;
}

static void attribution(struct strbuf *out, const struct reply_target *t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
					    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
					      "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	const struct msg *m = &t->msg;
	struct mbox_list l = { 0 };
	const char *who;

	mbox_list_parse(&l, m->author);
	who = l.nr ? (*l.names[0] ? l.names[0] : l.addrs[0]) : "you";
	if (m->has_date) {
		time_t secs = (time_t)(m->date_ms / 1000);
		struct tm tm;

		gmtime_r(&secs, &tm);
		strbuf_addf(out, "On %s, %d %s %d %02d:%02d:%02d +0000, ",
			    days[tm.tm_wday % 7], tm.tm_mday,
			    months[tm.tm_mon % 12], tm.tm_year + 1900,
			    tm.tm_hour, tm.tm_min, tm.tm_sec);
	} else {
		strbuf_addstr(out, "On an unknown date, ");
	}
	/* The name is mail text: keep it on one line. */
	for (const char *c = who; *c; c++)
		strbuf_addch(out, (unsigned char)*c < ' ' ? ' ' : *c);
	strbuf_addstr(out, " wrote:\n");
	mbox_list_release(&l);
}

static void signature(struct strbuf *out, const struct reply_opts *o)
{
	strbuf_addstr(out, "-- \n");
	strbuf_addstr(out, "kreview " KREVIEW_VERSION
			   ", automated review; findings may be wrong.\n");
	strbuf_addstr(out,
		      "A maintainer answers a finding by quoting it and\n"
		      "writing \"#kreview invalid [why]\" or \"#kreview "
		      "wontfix\"\nbelow the quote; it is then not reported "
		      "again.\n");
	if (o->feedback_url && *o->feedback_url)
		strbuf_addf(out, "Details and feedback: %s/r/%" PRId64 "\n",
			    o->feedback_url, o->review_id);
}

static void quote_file_header(struct strbuf *out, const char *text,
			      const struct diff_file *df)
{
	const char *p = text + df->offset;
	const char *end = df->hunks_nr ? text + df->hunks[0].offset
				       : text + df->offset + df->length;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		quote_line(out, p, len);
		p = eol ? eol + 1 : end;
	}
}

/* The prose under one finding. */
static void finding_prose(struct strbuf *out, const struct pick *pk,
			  const struct reply_opts *o, bool quoted)
{
	const struct finding *f = &pk->rf->c.rep;

	reply_wrap(out, f->explanation && *f->explanation ? f->explanation
							   : f->title,
		   REPLY_WRAP);
	if (!quoted && f->evidence && *f->evidence) {
		struct strbuf lead = STRBUF_INIT;

		strbuf_addf(&lead, "The code in question is in %s%s%s%s:",
			    f->file, *f->function ? ", " : "", f->function,
			    *f->function ? "()" : "");
		strbuf_addch(out, '\n');
		reply_wrap(out, lead.buf, REPLY_WRAP);
		strbuf_addch(out, '\n');
		for (const char *e = f->evidence; *e;) {
			const char *eol = strchr(e, '\n');
			size_t len = eol ? (size_t)(eol - e) : strlen(e);

			strbuf_addstr(out, "    ");
			strbuf_add(out, e, len);
			strbuf_rtrim(out);
			strbuf_addch(out, '\n');
			e += len;
			if (*e)
				e++;
		}
		strbuf_release(&lead);
	}
	if (pk->carried) {
		struct strbuf s = STRBUF_INIT;

		if (o->prior_version > 0)
			strbuf_addf(&s, "This was raised on v%d as well and "
					"still seems to apply.",
				    o->prior_version);
		else
			strbuf_addstr(&s, "This was raised on the previous "
					  "version as well and still seems "
					  "to apply.");
		strbuf_addch(out, '\n');
		reply_wrap(out, s.buf, REPLY_WRAP);
		strbuf_release(&s);
	}
}

/* The body of a reply to one patch. */
static void patch_body(struct strbuf *out, const struct reply_target *t,
		       const struct review_patch *p, const struct pick *pk,
		       size_t nr, size_t pre, const struct reply_list *pol,
		       const struct reply_opts *o)
{
	long cur_file = -3, cur_hunk = -1, cur_end = -1;
	struct hunk_lines h;
	bool loaded = false;

	memset(&h, 0, sizeof(h));
	if (o->body_prefix && *o->body_prefix) {
		reply_wrap(out, o->body_prefix, REPLY_WRAP);
		strbuf_addch(out, '\n');
	}
	attribution(out, t);
	quote_line(out, p->subject, strlen(p->subject));
	quote_line(out, "", 0);
	for (size_t i = 0; i < nr; i++) {
		const struct anchor *a = &pk[i].a;
		bool quoted = false;

		if (a->file == -1) {
			/* the commit message: the matching line and one more */
			const char *m = p->message;
			long line = 0;

			strbuf_addstr(out, SNIP);
			for (const char *c = m; *c && line <= a->last + 1;) {
				const char *eol = strchr(c, '\n');
				size_t len = eol ? (size_t)(eol - c) : strlen(c);

				if (line >= a->first)
					quote_line(out, c, len);
				line++;
				c += len;
				if (*c)
					c++;
			}
			quoted = true;
			cur_file = -1;
		} else if (a->file >= 0) {
			const struct diff_file *df = &p->diff.files[a->file];
			long first = a->first, last = a->last;

			if (a->file != cur_file) {
				strbuf_addstr(out, SNIP);
				quote_file_header(out, p->patch_text, df);
				cur_file = a->file;
				cur_hunk = -1;
			}
			if (a->hunk != cur_hunk) {
				if (loaded)
					hunk_lines_release(&h);
				hunk_lines_load(&h, p->patch_text,
						&df->hunks[a->hunk]);
				loaded = true;
				if (a->hunk > 0 && cur_hunk != a->hunk - 1)
					strbuf_addstr(out, SNIP);
				else if (a->hunk > 0)
					strbuf_addstr(out, SNIP);
				quote_line(out, h.header, h.header_len);
				cur_hunk = a->hunk;
				cur_end = -1;
			}
			first = first - QUOTE_BEFORE < 0 ? 0
							 : first - QUOTE_BEFORE;
			if (last - first + 1 > QUOTE_MAX_LINES)
				first = last - QUOTE_MAX_LINES + 1;
			if (first <= cur_end + 1)
				first = cur_end + 1;
			else if (first > 0)
				strbuf_addstr(out, SNIP);
			for (long k = first; k <= last && k < (long)h.nr; k++)
				quote_line(out, h.start[k], h.len[k]);
			if (last > cur_end)
				cur_end = last;
			quoted = true;
		}
		strbuf_addch(out, '\n');
		finding_prose(out, &pk[i], o, quoted);
		strbuf_addch(out, '\n');
	}
	if (loaded)
		hunk_lines_release(&h);
	strbuf_addstr(out, SNIP);
	strbuf_addch(out, '\n');
	if (pre && pol->pre_existing == REPLY_PRE_MENTION) {
		struct strbuf s = STRBUF_INIT;

		strbuf_addf(&s, "%zu pre-existing issue%s in the code this "
				"patch touches %s recorded separately; %s not "
				"attributed to this patch.",
			    pre, pre == 1 ? "" : "s", pre == 1 ? "was" : "were",
			    pre == 1 ? "it is" : "they are");
		reply_wrap(out, s.buf, REPLY_WRAP);
		strbuf_addch(out, '\n');
		strbuf_release(&s);
	}
	signature(out, o);
}

/* The bare address of the configured From: into 'a'; -EINVAL. */
static int from_address(struct strbuf *a, const struct reply_opts *o,
			struct strbuf *err)
{
	if (!o->from || reply_address_of(a, o->from) < 0) {
		strbuf_addstr(err, "no valid From: address configured "
				   "(mail.from)");
		return -EINVAL;
	}
	return 0;
}

/*
 * Everything of a reply to 't' but its policy fields: envelope,
 * Message-ID, Subject and the header text, To 'to' and Cc 'cc'.
 */
static int write_headers(struct reply_mail *m, const struct reply_target *t,
			 const struct config_strlist *to,
			 const struct config_strlist *cc,
			 const struct reply_opts *o, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT, a = STRBUF_INIT;
	const char *domain;
	int ret;

	ret = from_address(&a, o, err);
	if (ret < 0)
		goto out;
	m->env_from = xstrdup(a.buf);
	domain = o->msgid_domain && *o->msgid_domain
			 ? o->msgid_domain
			 : strchr(m->env_from, '@') + 1;
	if (to->nr + cc->nr > REPLY_MAX_RCPTS) {
		strbuf_addf(err, "%zu recipients, more than %d",
			    to->nr + cc->nr, REPLY_MAX_RCPTS);
		ret = -E2BIG;
		goto out;
	}
	if (!to->nr && !cc->nr) {
		strbuf_addf(err, "no recipient for a reply to <%s>",
			    t->msg.msgid);
		ret = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < to->nr + cc->nr; i++) {
		const char *mb = i < to->nr ? to->v[i] : cc->v[i - to->nr];

		if (reply_address_of(&a, mb) < 0)
			continue;
		strarr_add(&m->rcpts, &m->rcpts_nr, a.buf);
	}
	reply_msgid_new(&sb, domain);
	m->msgid = strbuf_detach(&sb, NULL);
	m->in_reply_to = xstrdup(t->msg.msgid);
	reply_subject(&sb, t->msg.subject);
	m->subject = strbuf_detach(&sb, NULL);

	/* From: is config text, but encode it like any other mailbox. */
	{
		struct config_strlist from = { 0 };

		strlist_add(&from, o->from);
		add_address_header(&m->text, "From", &from);
		config_strlist_release(&from);
	}
	add_address_header(&m->text, "To", to);
	add_address_header(&m->text, "Cc", cc);
	reply_add_header(&m->text, "Subject", m->subject);
	strbuf_addf(&m->text, "Message-ID: <%s>\n", m->msgid);
	strbuf_addf(&m->text, "In-Reply-To: <%s>\n", t->msg.msgid);
	add_ids_header(&m->text, "References", t->msg.refs, t->msg.refs_nr,
		       t->msg.msgid);
	if (o->reply_to && *o->reply_to) {
		struct config_strlist rt = { 0 };

		strlist_add(&rt, o->reply_to);
		add_address_header(&m->text, "Reply-To", &rt);
		config_strlist_release(&rt);
	}
	strbuf_addstr(&m->text, "MIME-Version: 1.0\n"
				"Content-Type: text/plain; charset=utf-8\n"
				"Content-Transfer-Encoding: 8bit\n"
				"Auto-Submitted: auto-generated\n"
				"X-Mailer: kreview " KREVIEW_VERSION "\n\n");
out:
	strbuf_release(&sb);
	strbuf_release(&a);
	return ret;
}

/* Space-separated names of the matched policies, for the outbox. */
static char *policy_names(const struct reply_policy *pol)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < pol->names_nr; i++) {
		if (i)
			strbuf_addch(&sb, ' ');
		strbuf_addstr(&sb, pol->names[i]);
	}
	return strbuf_detach(&sb, NULL);
}

/* Headers of a reply to 't'; 'lists' names the matched policies. */
static int compose_headers(struct reply_mail *m, const struct reply_target *t,
			   const struct reply_policy *pol,
			   const struct reply_opts *o,
			   const struct reply_patch_in *pin, struct strbuf *err)
{
	struct config_strlist to = { 0 }, cc = { 0 };
	struct strbuf a = STRBUF_INIT;
	int ret;

	ret = from_address(&a, o, err);
	if (ret < 0)
		goto out;
	reply_recipients(&to, &cc, t, pol, o->own_address ? o->own_address
							  : a.buf,
			 pin ? pin->maint_people : NULL,
			 pin ? pin->maint_people_nr : 0,
			 pin ? pin->maint_lists : NULL,
			 pin ? pin->maint_lists_nr : 0);
	ret = write_headers(m, t, &to, &cc, o, err);
	if (ret < 0)
		goto out;
	m->mode = (enum reply_mode)pol->eff.mode;
	m->lists = policy_names(pol);
	m->not_before_ms = t->arrived_ms + pol->eff.embargo_ms;
	m->rate_limit = pol->eff.rate_limit;
out:
	config_strlist_release(&to);
	config_strlist_release(&cc);
	strbuf_release(&a);
	return ret;
}

bool reply_to_list(const struct reply_target *t,
		   const struct reply_lists *lists, const char *const *more,
		   size_t more_nr)
{
	struct mbox_list rc = { 0 };
	struct strbuf a = STRBUF_INIT;
	bool found = t->list_post || t->msg.list_id;

	mbox_list_parse(&rc, t->msg.to);
	mbox_list_parse(&rc, t->msg.cc);
	for (size_t i = 0; !found && lists && i < lists->nr; i++)
		found = lists->v[i].address &&
			mbox_list_has(&rc, lists->v[i].address);
	for (size_t i = 0; !found && i < more_nr; i++) {
		strbuf_reset(&a);
		strbuf_addstr(&a, more[i]);
		strbuf_tolower(&a);
		found = mbox_list_has(&rc, a.buf);
	}
	mbox_list_release(&rc);
	strbuf_release(&a);
	return found;
}

int reply_compose_command(struct reply_mail *out,
			  const struct reply_target *t, const char *body,
			  const struct reply_lists *lists,
			  enum reply_mode private_mode,
			  const struct reply_opts *o, struct strbuf *err)
{
	struct config_strlist to = { 0 }, cc = { 0 };
	struct mbox_list seen = { 0 };
	struct strbuf a = STRBUF_INIT;
	struct reply_policy pol;
	struct reply_mail m;
	bool public;
	int ret;

	memset(&m, 0, sizeof(m));
	reply_policy_resolve(&pol, lists, t);
	ret = from_address(&a, o, err);
	if (ret < 0)
		goto out;
	/* kreview itself, then the sender: neither is Cc'd */
	mbox_list_add(&seen, "", o->own_address ? o->own_address : a.buf);
	if (mbox_list_has(&seen, t->msg.sender_addr) ||
	    !valid_addr(t->msg.sender_addr)) {
		strbuf_addf(err, "no one to answer: <%s> is from %s",
			    t->msg.msgid,
			    *t->msg.sender_addr ? "kreview itself" :
						  "no address");
		ret = -EINVAL;
		goto out;
	}
	mbox_list_add(&seen, "", t->msg.sender_addr);
	strlist_add(&to, t->msg.sender);
	/* the lists it came through that want mail, unless private */
	public = pol.eff.mode != REPLY_MODE_OFF && !pol.eff.private_reply;
	for (size_t i = 0; public && i < pol.names_nr; i++) {
		const struct reply_list *l = reply_lists_find(lists,
							      pol.names[i]);
		const char *addr = l && l->address ? l->address :
				   l && l->id ? t->list_post : NULL;

		if (!addr || mbox_list_has(&seen, addr))
			continue;
		mbox_list_add(&seen, "", addr);
		strlist_add(&cc, addr);
	}
	ret = write_headers(&m, t, &to, &cc, o, err);
	if (ret < 0)
		goto out;
	m.kind = REPLY_KIND_COMMAND;
	if (pol.eff.mode != REPLY_MODE_OFF) {
		m.mode = (enum reply_mode)pol.eff.mode;
		m.lists = policy_names(&pol);
		m.rate_limit = pol.eff.rate_limit;
	} else {
		m.mode = private_mode;
		m.lists = xstrdup("");
	}
	/* an answer is not a review: no embargo */
	m.not_before_ms = 0;
	strbuf_addstr(&m.text, body);
	if (m.text.len && m.text.buf[m.text.len - 1] != '\n')
		strbuf_addch(&m.text, '\n');
	reply_qp_if_needed(&m.text);
	*out = m;
	memset(&m, 0, sizeof(m));
out:
	reply_mail_release(&m);
	reply_policy_release(&pol);
	config_strlist_release(&to);
	config_strlist_release(&cc);
	mbox_list_release(&seen);
	strbuf_release(&a);
	return ret;
}

/* The mailboxes of 'in' not in 'seen' (by address) into 'out'. */
static void new_mailboxes(struct config_strlist *out, struct mbox_list *seen,
			  const struct config_strlist *in)
{
	struct mbox_list ml = { 0 };
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; in && i < in->nr; i++)
		mbox_list_parse(&ml, in->v[i]);
	for (size_t i = 0; i < ml.nr; i++) {
		if (mbox_list_has(seen, ml.addrs[i]))
			continue;
		mbox_list_add(seen, "", ml.addrs[i]);
		strbuf_reset(&sb);
		format_mailbox(&sb, ml.names[i], ml.addrs[i]);
		strlist_add(out, sb.buf);
	}
	strbuf_release(&sb);
	mbox_list_release(&ml);
}

int reply_compose_new(struct reply_mail *out, const char *subject,
		      const struct config_strlist *to,
		      const struct config_strlist *cc, const char *body,
		      const struct reply_opts *o, struct strbuf *err)
{
	struct config_strlist t = { 0 }, c = { 0 };
	struct mbox_list seen = { 0 };
	struct strbuf a = STRBUF_INIT, sb = STRBUF_INIT;
	struct reply_mail m;
	const char *domain;
	int ret;

	memset(&m, 0, sizeof(m));
	ret = from_address(&a, o, err);
	if (ret < 0)
		goto out;
	mbox_list_add(&seen, "", o->own_address ? o->own_address : a.buf);
	new_mailboxes(&t, &seen, to);
	new_mailboxes(&c, &seen, cc);
	if (!t.nr && !c.nr) {
		strbuf_addstr(err, "no recipient");
		ret = -EINVAL;
		goto out;
	}
	if (t.nr + c.nr > REPLY_MAX_RCPTS) {
		strbuf_addf(err, "%zu recipients, more than %d", t.nr + c.nr,
			    REPLY_MAX_RCPTS);
		ret = -E2BIG;
		goto out;
	}
	m.env_from = xstrdup(a.buf);
	for (size_t i = 0; i < seen.nr; i++)
		if (i) /* the first is kreview */
			strarr_add(&m.rcpts, &m.rcpts_nr, seen.addrs[i]);
	domain = o->msgid_domain && *o->msgid_domain
			 ? o->msgid_domain
			 : strchr(m.env_from, '@') + 1;
	reply_msgid_new(&sb, domain);
	m.msgid = strbuf_detach(&sb, NULL);
	m.in_reply_to = xstrdup(m.msgid);
	m.subject = xstrdup(subject);
	{
		struct config_strlist from = { 0 };

		strlist_add(&from, o->from);
		add_address_header(&m.text, "From", &from);
		config_strlist_release(&from);
	}
	add_address_header(&m.text, "To", &t);
	add_address_header(&m.text, "Cc", &c);
	reply_add_header(&m.text, "Subject", m.subject);
	strbuf_addf(&m.text, "Message-ID: <%s>\n", m.msgid);
	if (o->reply_to && *o->reply_to) {
		struct config_strlist rt = { 0 };

		strlist_add(&rt, o->reply_to);
		add_address_header(&m.text, "Reply-To", &rt);
		config_strlist_release(&rt);
	}
	strbuf_addstr(&m.text, "MIME-Version: 1.0\n"
			       "Content-Type: text/plain; charset=utf-8\n"
			       "Content-Transfer-Encoding: 8bit\n"
			       "Auto-Submitted: auto-generated\n"
			       "X-Mailer: kreview " KREVIEW_VERSION "\n\n");
	strbuf_addstr(&m.text, body);
	if (m.text.len && m.text.buf[m.text.len - 1] != '\n')
		strbuf_addch(&m.text, '\n');
	reply_qp_if_needed(&m.text);
	m.kind = REPLY_KIND_DIGEST;
	*out = m;
	memset(&m, 0, sizeof(m));
out:
	reply_mail_release(&m);
	config_strlist_release(&t);
	config_strlist_release(&c);
	mbox_list_release(&seen);
	strbuf_release(&a);
	strbuf_release(&sb);
	return ret;
}

void reply_mail_release(struct reply_mail *m)
{
	free(m->msgid);
	free(m->in_reply_to);
	free(m->subject);
	free(m->env_from);
	strarr_free(m->rcpts, m->rcpts_nr);
	free(m->lists);
	strbuf_release(&m->text);
	memset(m, 0, sizeof(*m));
}

void reply_mail_list_release(struct reply_mail_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		reply_mail_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Quoted-printable. */

static void qp_line(struct strbuf *out, const char *s, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool last = i + 1 == len;
		char tmp[4];
		size_t tl;

		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !last)) {
			tmp[0] = (char)c;
			tl = 1;
		} else {
			static const char hex[] = "0123456789ABCDEF";

			tmp[0] = '=';
			tmp[1] = hex[c >> 4];
			tmp[2] = hex[c & 15];
			tl = 3;
		}
		/* Soft break: keep every line within 76 characters. */
		if (col + tl > 75) {
			strbuf_addstr(out, "=\n");
			col = 0;
		}
		strbuf_add(out, tmp, tl);
		col += tl;
	}
	strbuf_addch(out, '\n');
}

bool reply_qp_if_needed(struct strbuf *text)
{
	const char *body = strstr(text->buf, "\n\n");
	struct strbuf out = STRBUF_INIT;
	const char *p, *cte;
	bool long_line = false;
	size_t hdr_len;

	if (!body)
		return false;
	body += 2;
	for (p = body; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > REPLY_MAX_LINE)
			long_line = true;
		p += len + (eol ? 1 : 0);
	}
	if (!long_line)
		return false;
	hdr_len = (size_t)(body - text->buf);
	cte = strstr(text->buf, "Content-Transfer-Encoding: 8bit\n");
	if (cte && cte < body) {
		strbuf_add(&out, text->buf, (size_t)(cte - text->buf));
		strbuf_addstr(&out, "Content-Transfer-Encoding: quoted-printable\n");
		strbuf_add(&out, cte + 32, hdr_len - (size_t)(cte + 32 -
							      text->buf));
	} else {
		strbuf_add(&out, text->buf, hdr_len);
	}
	for (p = body; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		qp_line(&out, p, len);
		p += len + (eol ? 1 : 0);
	}
	strbuf_release(text);
	*text = out;
	return true;
}

/* The series. */

static void summary_body(struct strbuf *out, const struct reply_target *t,
			 const struct reply_series_in *in,
			 struct pick **picks, const size_t *nrs, size_t pre,
			 const struct reply_list *pol,
			 const struct reply_opts *o)
{
	const struct review_series *s = in->series;
	const struct review_result *res = in->result;
	struct strbuf para = STRBUF_INIT;
	size_t with = 0, fixed = 0, total = s->nr;

	if (o->body_prefix && *o->body_prefix) {
		reply_wrap(out, o->body_prefix, REPLY_WRAP);
		strbuf_addch(out, '\n');
	}
	attribution(out, t);
	quote_line(out, t->msg.subj.title ? t->msg.subj.title : t->msg.subject,
		   strlen(t->msg.subj.title ? t->msg.subj.title
					    : t->msg.subject));
	strbuf_addch(out, '\n');
	for (size_t i = 0; i < s->nr; i++) {
		with += nrs[i] > 0;
		if (s->patches[i].index > 0 &&
		    (size_t)s->patches[i].index > total)
			total = (size_t)s->patches[i].index;
	}
	if (t->msg.subj.expected > 0 && (size_t)t->msg.subj.expected > total)
		total = (size_t)t->msg.subj.expected;
	if (s->version > 1)
		strbuf_addf(&para, "kreview reviewed v%d of this series (%zu "
				   "patch%s).",
			    s->version, total, total == 1 ? "" : "es");
	else
		strbuf_addf(&para, "kreview reviewed this series (%zu "
				   "patch%s).",
			    total, total == 1 ? "" : "es");
	if (with)
		strbuf_addf(&para, " It has questions on %zu of them, asked "
				   "in the replies to %s:",
			    with, with == 1 ? "that patch" : "those patches");
	else
		strbuf_addstr(&para, " It has no questions on it.");
	reply_wrap(out, para.buf, REPLY_WRAP);
	for (size_t i = 0; i < s->nr; i++) {
		if (!nrs[i])
			continue;
		strbuf_reset(&para);
		strbuf_addf(&para, "\n  %d/%zu %s\n", s->patches[i].index,
			    total, s->patches[i].subject);
		strbuf_addbuf(out, &para);
		for (size_t k = 0; k < nrs[i]; k++) {
			struct strbuf w = STRBUF_INIT, line = STRBUF_INIT;
			const struct pick *pk = &picks[i][k];

			strbuf_addstr(&line, pk->rf->c.rep.title);
			if (pk->carried)
				strbuf_addstr(&line, " (still present)");
			reply_wrap(&w, line.buf, REPLY_WRAP - 6);
			for (const char *c = w.buf; *c;) {
				const char *eol = strchr(c, '\n');
				size_t len = eol ? (size_t)(eol - c)
						 : strlen(c);

				strbuf_addstr(out, c == w.buf ? "    - "
							      : "      ");
				strbuf_add(out, c, len);
				strbuf_addch(out, '\n');
				c += len + (eol ? 1 : 0);
			}
			strbuf_release(&w);
			strbuf_release(&line);
		}
	}
	/* vN findings no longer seen */
	for (size_t i = 0; i < o->prior_nr; i++) {
		const struct reply_prior *pr = &o->prior[i];
		bool seen = false;

		if (pr->status != REPLY_PRIOR_REPORTED || !pr->fingerprint)
			continue;
		for (size_t k = 0; k < res->nr && !seen; k++)
			seen = res->v[k].drop == REVIEW_REPORTED &&
			       !strcmp(res->v[k].c.fingerprint,
				       pr->fingerprint);
		if (seen)
			continue;
		if (!fixed++) {
			strbuf_reset(&para);
			if (o->prior_version > 0)
				strbuf_addf(&para, "\nReported on v%d and no "
						   "longer seen here, thank "
						   "you:\n",
					    o->prior_version);
			else
				strbuf_addstr(&para, "\nReported on the "
						     "previous version and no "
						     "longer seen here, thank "
						     "you:\n");
			strbuf_addbuf(out, &para);
		}
		{
			struct strbuf w = STRBUF_INIT;

			reply_wrap(&w, pr->title ? pr->title : pr->fingerprint,
				   REPLY_WRAP - 6);
			for (const char *c = w.buf; *c;) {
				const char *eol = strchr(c, '\n');
				size_t len = eol ? (size_t)(eol - c)
						 : strlen(c);

				strbuf_addstr(out, c == w.buf ? "    - "
							      : "      ");
				strbuf_add(out, c, len);
				strbuf_addch(out, '\n');
				c += len + (eol ? 1 : 0);
			}
			strbuf_release(&w);
		}
	}
	if (pre && pol->pre_existing == REPLY_PRE_MENTION) {
		strbuf_reset(&para);
		strbuf_addf(&para, "%zu pre-existing issue%s in the code this "
				   "series touches %s recorded separately.",
			    pre, pre == 1 ? "" : "s", pre == 1 ? "was" : "were");
		strbuf_addch(out, '\n');
		reply_wrap(out, para.buf, REPLY_WRAP);
	}
	strbuf_addch(out, '\n');
	signature(out, o);
	strbuf_release(&para);
}

static bool has_fixed(const struct review_result *res,
		      const struct reply_opts *o)
{
	for (size_t i = 0; i < o->prior_nr; i++) {
		bool seen = false;

		if (o->prior[i].status != REPLY_PRIOR_REPORTED ||
		    !o->prior[i].fingerprint)
			continue;
		for (size_t k = 0; k < res->nr && !seen; k++)
			seen = res->v[k].drop == REVIEW_REPORTED &&
			       !strcmp(res->v[k].c.fingerprint,
				       o->prior[i].fingerprint);
		if (!seen)
			return true;
	}
	return false;
}

int reply_compose_series(struct reply_mail_list *out,
			 const struct reply_series_in *in,
			 const struct reply_opts *opts, struct strbuf *err)
{
	const struct review_series *s = in->series;
	struct reply_mail_list tmp = REPLY_MAIL_LIST_INIT;
	struct pick **picks;
	size_t *nrs, pre_total = 0, total = 0;
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	picks = xcalloc(s->nr ? s->nr : 1, sizeof(*picks));
	nrs = xcalloc(s->nr ? s->nr : 1, sizeof(*nrs));
	for (size_t i = 0; i < s->nr; i++) {
		const struct reply_patch_in *pin = &in->patches[i];
		const struct reply_target *t = pin->target;
		const struct review_patch *p = &s->patches[i];
		struct reply_policy pol;
		struct reply_mail m;
		size_t pre = 0;

		memset(&m, 0, sizeof(m));
		if (!t)
			continue;
		reply_policy_resolve(&pol, in->lists, t);
		pick_findings(&picks[i], &nrs[i], &pre, in->result, p,
			      p->index, &pol.eff, opts);
		pre_total += pre;
		total += nrs[i];
		if (!nrs[i] || pol.eff.mode == REPLY_MODE_OFF ||
		    reply_never_answer(t, in->bot_senders, opts->own_address,
				       NULL)) {
			reply_policy_release(&pol);
			continue;
		}
		m.kind = REPLY_KIND_PATCH;
		m.patch = p->index;
		m.findings = nrs[i];
		ret = compose_headers(&m, t, &pol, opts, pin, err);
		if (ret >= 0) {
			patch_body(&m.text, t, p, picks[i], nrs[i], pre,
				   &pol.eff, opts);
			reply_qp_if_needed(&m.text);
			ALLOC_GROW(tmp.v, tmp.nr + 1, tmp.alloc);
			tmp.v[tmp.nr++] = m;
		} else {
			reply_mail_release(&m);
		}
		reply_policy_release(&pol);
		if (ret < 0)
			goto out;
	}
	if (in->cover) {
		struct reply_policy pol;
		struct reply_mail m;

		memset(&m, 0, sizeof(m));
		reply_policy_resolve(&pol, in->lists, in->cover);
		if (pol.eff.mode != REPLY_MODE_OFF && pol.eff.summary &&
		    (total || has_fixed(in->result, opts)) &&
		    !reply_never_answer(in->cover, in->bot_senders,
					opts->own_address, NULL)) {
			m.kind = REPLY_KIND_SUMMARY;
			m.findings = total;
			ret = compose_headers(&m, in->cover, &pol, opts, NULL,
					      err);
			if (ret >= 0) {
				summary_body(&m.text, in->cover, in, picks,
					     nrs, pre_total, &pol.eff, opts);
				reply_qp_if_needed(&m.text);
				ALLOC_GROW(tmp.v, tmp.nr + 1, tmp.alloc);
				tmp.v[tmp.nr++] = m;
			} else {
				reply_mail_release(&m);
			}
		}
		reply_policy_release(&pol);
		if (ret < 0)
			goto out;
	}
	for (size_t i = 0; i < tmp.nr; i++) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = tmp.v[i];
	}
	tmp.nr = 0;
out:
	for (size_t i = 0; i < s->nr; i++)
		free(picks[i]);
	free(picks);
	free(nrs);
	reply_mail_list_release(&tmp);
	strbuf_release(&why);
	return ret;
}
