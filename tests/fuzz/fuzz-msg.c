/*
 * Fuzz msg_parse(): the input is one raw mail message.  Besides not
 * crashing, a successful parse must keep the invariants msg.h states:
 * a non-empty Message-ID without spaces, a NUL-free UTF-8 body of
 * 'body_len' bytes, a UTF-8 subject, References without duplicates or
 * the message's own id, a lowercase sender address.  The subject is
 * then parsed again with subject_parse(), as ingestion does, and so is
 * the raw input taken as a subject line.  Reading the message with
 * GMime's parser, with filtered fields (MSG_PARSE_GMIME) or all of them
 * (MSG_PARSE_ALL_HEADERS), must give the same message as the simple
 * path msg_parse() takes where it can.
 */
#include "kreview/common.h"
#include "kreview/msg.h"
#include "kreview/strbuf.h"
#include "kreview/subject.h"

#include <ctype.h>
#include <git2.h>
#include <glib.h>
#include <gmime/gmime.h>

static void check(const struct msg *m)
{
	if (!m->msgid || !*m->msgid || strchr(m->msgid, ' '))
		BUG("bad Message-ID '%s'", m->msgid ? m->msgid : "(null)");
	if (!m->body || strlen(m->body) != m->body_len ||
	    !g_utf8_validate(m->body, (gssize)m->body_len, NULL))
		BUG("body is not %zu bytes of UTF-8", m->body_len);
	if (!m->subject || !g_utf8_validate(m->subject, -1, NULL))
		BUG("subject is not UTF-8");
	if (!m->sender || !m->sender_name || !m->sender_addr || !m->author ||
	    !m->to || !m->cc)
		BUG("NULL address field");
	for (const char *p = m->sender_addr; *p; p++)
		if (isupper((unsigned char)*p))
			BUG("sender address '%s' not lowercase", m->sender_addr);
	if (m->refs_nr > MSG_MAX_REFS)
		BUG("%zu references", m->refs_nr);
	for (size_t i = 0; i < m->refs_nr; i++) {
		if (!m->refs[i] || !*m->refs[i] ||
		    !strcmp(m->refs[i], m->msgid))
			BUG("bad reference %zu", i);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->refs[i], m->refs[j]))
				BUG("duplicate reference '%s'", m->refs[i]);
	}
	if (m->in_reply_to && !strcmp(m->in_reply_to, m->msgid))
		BUG("message replies to itself");
	if (!m->subj.title)
		BUG("no title");
	if (m->subj.counter > m->subj.expected || m->subj.revision < 1)
		BUG("counters %d/%d v%d", m->subj.counter, m->subj.expected,
		    m->subj.revision);
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* How msg_parse() reads the message ('flags', see msg.h) must change
 * nothing. */
static void check_same(const struct msg *a, const uint8_t *data,
		       size_t size, int r, unsigned int flags)
{
	struct msg b;
	int r2;

	msg_init(&b);
	r2 = msg_parse_flags(&b, (const char *)data, size, NULL, flags);
	if (r2 != r)
		BUG("%d with flags %u, %d without", r2, flags, r);
#define SAME_STR(f)                                                        \
	if (r == 0 && !same(a->f, b.f))                                    \
		BUG("flags %u changed " #f ": '%s' vs '%s'", flags,         \
		    a->f ? a->f : "(null)", b.f ? b.f : "(null)")
#define SAME(f)                                                            \
	if (r == 0 && a->f != b.f)                                         \
		BUG("flags %u changed " #f, flags)
	SAME_STR(msgid);
	SAME_STR(sender);
	SAME_STR(author);
	SAME_STR(subject);
	SAME_STR(in_reply_to);
	SAME_STR(to);
	SAME_STR(cc);
	SAME_STR(list_id);
	SAME_STR(body);
	SAME_STR(change_id);
	SAME_STR(base_commit);
	SAME(refs_nr);
	SAME(has_date);
	SAME(date_ms);
	SAME(patchwork_bot);
	SAME(body_from_attachment);
	SAME(has_diff);
	SAME(has_trailers);
#undef SAME
#undef SAME_STR
	for (size_t i = 0; r == 0 && i < a->refs_nr; i++)
		if (!same(a->refs[i], b.refs[i]))
			BUG("flags %u changed reference %zu", flags, i);
	msg_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialised;
	struct strbuf warn = STRBUF_INIT;
	struct subject s;
	struct msg m;
	char *text;
	int r;

	if (!initialised) {
		g_mime_init();
		git_libgit2_init();
		initialised = true;
	}
	msg_init(&m);
	r = msg_parse(&m, (const char *)data, size, &warn);
	check_same(&m, data, size, r, MSG_PARSE_GMIME);
	check_same(&m, data, size, r, MSG_PARSE_ALL_HEADERS);
	if (r == 0) {
		check(&m);
		(void)msg_is_bot(&m);
		subject_init(&s);
		subject_parse(&s, m.subject);
		subject_release(&s);
	} else if (r != -EPROTO && r != -E2BIG) {
		BUG("msg_parse returned %d", r);
	} else if (m.msgid || m.body) {
		BUG("failed parse left output behind");
	}
	msg_release(&m);
	strbuf_release(&warn);

	text = xmemdupz(data, size);
	subject_init(&s);
	subject_parse(&s, text);
	subject_release(&s);
	free(text);
	return 0;
}
