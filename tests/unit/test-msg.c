/*
 * Tests for msg_parse(): the crafted messages of tests/data/msg/ (one
 * per MIME, charset, author and threading case) and every message of
 * the real io_uring slice.
 */
#include "testutil.h"

#include "kreview/msg.h"

#include <git2.h>
#include <glib.h>
#include <gmime/gmime.h>

static void assert_same_parse(const struct msg *a, struct strbuf *raw,
			      const struct strbuf *warn, size_t n,
			      unsigned int flags);

/* Parse tests/data/msg/<name>; the parse must succeed, and be the same
 * by each way msg_parse() has of reading a message. */
static void parse_fixture(struct msg *m, const char *name, struct strbuf *warn)
{
	struct strbuf raw = STRBUF_INIT, path = STRBUF_INIT, w = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "msg/%s", name);
	test_read_data(&raw, path.buf);
	msg_init(m);
	r = msg_parse(m, raw.buf, raw.len, &w);
	if (r < 0)
		fail_msg("msg_parse(%s) = %d", name, r);
	assert_same_parse(m, &raw, &w, 0, MSG_PARSE_GMIME);
	assert_same_parse(m, &raw, &w, 0, MSG_PARSE_ALL_HEADERS);
	if (warn)
		strbuf_addbuf(warn, &w);
	strbuf_release(&w);
	assert_non_null(m->msgid);
	assert_non_null(m->body);
	assert_non_null(m->subject);
	assert_non_null(m->sender);
	assert_non_null(m->author);
	assert_true(g_utf8_validate(m->body, (gssize)m->body_len, NULL));
	assert_int_equal(strlen(m->body), m->body_len);
	assert_true(g_utf8_validate(m->subject, -1, NULL));
	assert_true(g_utf8_validate(m->sender, -1, NULL));
	strbuf_release(&raw);
	strbuf_release(&path);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

static void test_plain_patch(void **state)
{
	struct msg m;
	struct strbuf warn = STRBUF_INIT;

	(void)state;
	parse_fixture(&m, "plain-patch.eml", &warn);
	assert_int_equal(warn.len, 0);
	assert_string_equal(m.msgid, "20240102120000.1-jane@example.org");
	assert_false(m.msgid_synthetic);
	assert_string_equal(m.sender, "Jane Developer <jane@example.org>");
	assert_string_equal(m.sender_name, "Jane Developer");
	assert_string_equal(m.sender_addr, "jane@example.org");
	assert_string_equal(m.author, m.sender);
	assert_true(m.has_date);
	/* Tue, 2 Jan 2024 12:00:00 +0100 */
	assert_int_equal(m.date_ms, INT64_C(1704193200000));
	assert_string_equal(m.subject,
			    "[PATCH v2 1/3] io_uring/rw: pass issue flags to foo()");
	assert_false(m.subj.reply);
	assert_int_equal(m.subj.revision, 2);
	assert_int_equal(m.subj.counter, 1);
	assert_int_equal(m.subj.expected, 3);
	assert_string_equal(m.subj.title, "io_uring/rw: pass issue flags to foo()");
	assert_string_equal(m.in_reply_to, "20240102120000.0-jane@example.org");
	assert_int_equal(m.refs_nr, 1);
	assert_string_equal(m.refs[0], "20240102120000.0-jane@example.org");
	assert_string_equal(m.list_id, "io-uring.vger.kernel.org");
	assert_contains(m.to, "io-uring@vger.kernel.org");
	assert_contains(m.cc, "axboe@kernel.dk");
	assert_contains(m.cc, "asml.silence@gmail.com");
	assert_true(m.has_diff);
	assert_true(m.has_diffstat);
	/* has_trailers looks at the end of the body: a patch ends in its
	 * diff, so its Signed-off-by block does not count */
	assert_false(m.body_from_attachment);
	assert_false(m.patchwork_bot);
	assert_false(msg_is_bot(&m));
	assert_string_equal(m.change_id, "20240102-rw-flags-1a2b3c");
	assert_string_equal(m.base_commit,
			    "0123456789abcdef0123456789abcdef01234567");
	assert_contains(m.body, "+\tret = foo(req, IO_URING_F_NONBLOCK");
	assert_true(!strncmp(m.body, "The read path", 13));
	msg_release(&m);
	/* released twice is fine */
	msg_release(&m);
	strbuf_release(&warn);
}

static void test_qp_body(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "qp-patch.eml", NULL);
	/* soft line break joined, =3D decoded */
	assert_contains(m.body,
			"+\tret = foo(req, flags = IO_URING_F_NONBLOCK | IO_URING_F_COMPLETE_DEFER);\n");
	assert_contains(m.body, "\n-- \n2.43.0");
	assert_null(strstr(m.body, "=3D"));
	assert_true(m.has_diff);
	assert_true(m.has_diffstat);
	assert_false(m.subj.explicit_counter);
	msg_release(&m);
}

static void test_base64_body(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "base64-patch.eml", NULL);
	assert_contains(m.body, "diff --git a/io_uring/rw.c b/io_uring/rw.c\n");
	assert_contains(m.body, "+++ b/io_uring/rw.c\n");
	assert_true(m.has_diff);
	assert_true(m.has_diffstat);
	msg_release(&m);
}

static void test_declared_charsets(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "latin1-declared.eml", NULL);
	assert_string_equal(m.body,
			    "Gr\u00fc\u00dfe aus M\u00fcnchen, J\u00fcrgen \u00a9\n");
	assert_true(m.subj.reply);
	msg_release(&m);

	parse_fixture(&m, "sjis-declared.eml", NULL);
	assert_string_equal(
		m.body,
		"\u65e5\u672c\u8a9e\u306e\u30c6\u30b9\u30c8\u3067\u3059\u3002\n");
	msg_release(&m);

	/* an unknown charset label on UTF-8 text: the text is kept */
	parse_fixture(&m, "bogus-charset.eml", NULL);
	assert_string_equal(m.body, "na\u00efve \u65e5\u672c\n");
	msg_release(&m);
}

static void test_undeclared_latin1(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "latin1-undeclared.eml", NULL);
	assert_string_equal(m.body,
			    "Caf\u00e9 cr\u00e8me, na\u00efve - r\u00e9sum\u00e9\n");
	msg_release(&m);
}

static void test_raw_8bit_headers(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "raw8bit-headers.eml", NULL);
	/* raw UTF-8 kept; raw latin-1 decoded as windows-1252 */
	assert_string_equal(m.subject,
			    "[PATCH] io_uring: f\u00fcr J\u00fcrgen \u2013 caf\u00e9");
	assert_string_equal(m.subj.title,
			    "io_uring: f\u00fcr J\u00fcrgen \u2013 caf\u00e9");
	assert_string_equal(m.sender_name, "Jos\u00e9 M\u00fcller");
	assert_string_equal(m.sender_addr, "jose@example.org");
	assert_string_equal(m.sender, "Jos\u00e9 M\u00fcller <jose@example.org>");
	msg_release(&m);
}

/*
 * Found by fuzz-msg: raw header bytes that look like 4-byte UTF-8 but
 * encode code points above U+10FFFF (F4 90.., F5..) pass GMime's
 * header decoding unchanged, and msg_parse() copies them into
 * 'subject', 'sender' and 'author' without validating, so the "UTF-8"
 * fields are not valid UTF-8 (glib rejects them).  Bodies are fine:
 * to_utf8() validates.  Expected: such bytes decoded as windows-1252
 * or replaced, like any other invalid header byte.
 */
static void test_invalid_utf8_headers(void **state)
{
	struct strbuf raw = STRBUF_INIT;
	struct msg m;

	(void)state;
	test_read_data(&raw, "msg/invalid-utf8-headers.eml");
	msg_init(&m);
	assert_int_equal(msg_parse(&m, raw.buf, raw.len, NULL), 0);
	assert_true(g_utf8_validate(m.subject, -1, NULL));
	assert_true(g_utf8_validate(m.sender, -1, NULL));
	assert_true(g_utf8_validate(m.sender_name, -1, NULL));
	assert_true(g_utf8_validate(m.author, -1, NULL));
	assert_true(g_utf8_validate(m.subj.title, -1, NULL));
	msg_release(&m);
	strbuf_release(&raw);
}

static void test_rfc2047_folded_subject(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "rfc2047-folded.eml", NULL);
	assert_string_equal(
		m.subject,
		"[PATCH v3 2/5] io_uring: f\u00fcr the second line of a long subject that goes on");
	assert_int_equal(m.subj.revision, 3);
	assert_int_equal(m.subj.counter, 2);
	assert_int_equal(m.subj.expected, 5);
	assert_string_equal(m.sender, "J\u00fcrgen Gro\u00df <jgross@example.com>");
	msg_release(&m);
}

static void test_b4_relay(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "b4-relay.eml", NULL);
	assert_string_equal(m.sender, "Jane Developer <jane@example.org>");
	assert_string_equal(m.sender_addr, "jane@example.org");
	assert_string_equal(m.sender_name, "Jane Developer");
	assert_string_equal(m.author, "Jane Developer <jane@example.org>");
	assert_true(m.has_diff);
	msg_release(&m);
}

static void test_inbody_from(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "inbody-from.eml", NULL);
	assert_string_equal(m.sender, "Stable Sender <stable@example.net>");
	assert_string_equal(m.sender_addr, "stable@example.net");
	assert_string_equal(m.author, "Real Author <real.author@example.com>");
	assert_true(m.has_diff);
	assert_int_equal(m.subj.tags_nr, 1);
	assert_string_equal(m.subj.tags[0], "5.15");
	msg_release(&m);
}

static void test_attachment(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "attachment-patch.eml", NULL);
	assert_true(m.body_from_attachment);
	assert_true(m.has_diff);
	assert_true(!strncmp(m.body, "The read path", 13));
	assert_null(strstr(m.body, "please find the fix attached"));
	msg_release(&m);
}

static void test_alternative(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "alternative.eml", NULL);
	/* the newline before a boundary belongs to the boundary */
	assert_string_equal(m.body, "Plain text version caf\u00e9.");
	assert_false(m.has_diff);
	assert_false(m.body_from_attachment);
	msg_release(&m);
}

static void test_reply_quoting_diff(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "reply-quoting-diff.eml", NULL);
	assert_true(m.subj.reply);
	assert_contains(m.body, "> diff --git a/io_uring/rw.c");
	assert_false(m.has_diff);
	assert_false(m.has_diffstat);
	assert_true(m.has_trailers);
	assert_string_equal(m.in_reply_to, "20240102120000.1-jane@example.org");
	assert_int_equal(m.refs_nr, 2);
	assert_string_equal(m.refs[0], "20240102120000.0-jane@example.org");
	assert_string_equal(m.refs[1], "20240102120000.1-jane@example.org");
	msg_release(&m);
}

static void test_no_msgid_no_date(void **state)
{
	struct msg m, m2;
	struct strbuf warn = STRBUF_INIT, raw = STRBUF_INIT;

	(void)state;
	parse_fixture(&m, "no-msgid.eml", &warn);
	assert_true(m.msgid_synthetic);
	/* the git blob id of the raw bytes */
	assert_int_equal(strlen(m.msgid), 40 + strlen("@kreview.invalid"));
	assert_string_equal(m.msgid + 40, "@kreview.invalid");
	assert_contains(warn.buf, "no Message-ID");
	assert_contains(warn.buf, m.msgid);
	assert_false(m.has_date);
	assert_int_equal(m.date_ms, 0);
	assert_null(m.in_reply_to);
	assert_int_equal(m.refs_nr, 0);
	assert_null(m.list_id);
	assert_string_equal(m.to, "io-uring@vger.kernel.org");
	assert_string_equal(m.cc, "");

	/* the same bytes give the same id, other bytes another */
	test_read_data(&raw, "msg/no-msgid.eml");
	msg_init(&m2);
	assert_int_equal(msg_parse(&m2, raw.buf, raw.len, NULL), 0);
	assert_string_equal(m.msgid, m2.msgid);
	strbuf_addstr(&raw, "more\n");
	assert_int_equal(msg_parse(&m2, raw.buf, raw.len, NULL), 0);
	assert_true(m2.msgid_synthetic);
	assert_string_not_equal(m.msgid, m2.msgid);
	msg_release(&m2);
	msg_release(&m);
	strbuf_release(&warn);
	strbuf_release(&raw);
}

static void test_refs_order_dedup(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "refs.eml", NULL);
	/* References in order, the duplicate and the message itself
	 * dropped, then In-Reply-To */
	assert_int_equal(m.refs_nr, 3);
	assert_string_equal(m.refs[0], "root@example.org");
	assert_string_equal(m.refs[1], "mid@example.org");
	assert_string_equal(m.refs[2], "parent@example.org");
	assert_string_equal(m.in_reply_to, "parent@example.org");
	assert_string_equal(m.list_id, "io-uring.vger.kernel.org");
	assert_true(m.subj.reply);
	assert_int_equal(m.subj.counter, 0);
	msg_release(&m);
}

static void test_bots(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "bot-patchwork.eml", NULL);
	assert_true(m.patchwork_bot);
	assert_true(msg_is_bot(&m));
	msg_release(&m);

	parse_fixture(&m, "bot-lkp.eml", NULL);
	assert_false(m.patchwork_bot);
	assert_string_equal(m.sender_name, "kernel test robot");
	assert_true(msg_is_bot(&m));
	msg_release(&m);

	parse_fixture(&m, "bot-syzbot.eml", NULL);
	assert_true(msg_is_bot(&m));
	msg_release(&m);

	parse_fixture(&m, "reply-quoting-diff.eml", NULL);
	assert_false(msg_is_bot(&m));
	msg_release(&m);
}

static void test_cover(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "cover.eml", NULL);
	assert_int_equal(m.subj.counter, 0);
	assert_int_equal(m.subj.expected, 3);
	assert_true(m.subj.explicit_counter);
	assert_false(m.has_diff);
	assert_true(m.has_diffstat);
	assert_string_equal(m.base_commit,
			    "0123456789abcdef0123456789abcdef01234567");
	assert_null(m.change_id);
	msg_release(&m);
}

static void test_crlf(void **state)
{
	struct msg m;

	(void)state;
	parse_fixture(&m, "crlf-patch.eml", NULL);
	assert_string_equal(m.msgid, "crlf-1@example.org");
	assert_string_equal(m.subject, "[PATCH] io_uring: crlf");
	assert_string_equal(m.sender_addr, "jane@example.org");
	assert_true(m.has_date);
	assert_true(m.has_diff);
	assert_true(m.has_diffstat);
	msg_release(&m);
}

static void test_too_big(void **state)
{
	struct msg m;
	size_t len = (size_t)MSG_MAX_SIZE + 1;
	char *raw = xmalloc(len);
	static const char head[] =
		"From: a@b\nSubject: big\nMessage-ID: <big@x>\n\n";

	(void)state;
	memset(raw, 'a', len);
	memcpy(raw, head, strlen(head));
	for (size_t i = 100; i < len; i += 70)
		raw[i] = '\n';
	msg_init(&m);
	assert_int_equal(msg_parse(&m, raw, len, NULL), -E2BIG);
	assert_null(m.msgid);
	/* exactly at the limit is parsed */
	assert_int_equal(msg_parse(&m, raw, len - 1, NULL), 0);
	assert_string_equal(m.msgid, "big@x");
	msg_release(&m);
	free(raw);
}

static void test_garbage(void **state)
{
	static const char *const inputs[] = {
		"",
		"\n",
		"\n\n\n",
		"\r\n\r\n",
		"no colon here at all\n\nbody\n",
		"\x00\x01\x02\xff\xfe",
		"Subject:",
		": empty name\n\n",
		"From: <\n\n",
		"Content-Type: multipart/mixed; boundary=x\n\n--x\n--x\n--x--\n",
		"Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\n",
		"Message-ID: <<<>>>\nReferences: <<<a> b> <\nIn-Reply-To: >\n\n",
		"Subject: =?utf-8?b?////?= =?x?q?=ff?=\nFrom: =?bad\n\n",
	};
	struct msg m;

	(void)state;
	msg_init(&m);
	assert_int_equal(msg_parse(&m, "", 0, NULL), -EPROTO);
	assert_int_equal(msg_parse(&m, "\n\n", 2, NULL), -EPROTO);
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		struct strbuf warn = STRBUF_INIT;
		size_t len = i == 5 ? 5 : strlen(inputs[i]);
		int r = msg_parse(&m, inputs[i], len, &warn);

		if (r != 0 && r != -EPROTO)
			fail_msg("input %zu: %d", i, r);
		if (r == 0) {
			assert_non_null(m.msgid);
			assert_true(*m.msgid);
			assert_non_null(m.body);
			assert_non_null(m.subject);
			assert_true(g_utf8_validate(m.subject, -1, NULL));
		}
		strbuf_release(&warn);
	}
	msg_release(&m);
}

/* ---- the real slice ---- */

struct slice_counts {
	size_t msgs, with_id, synthetic, patches, replies, with_diff_reply;
	size_t dated, attachments, covers, bots, simple;
};

static void assert_same_str(const char *a, const char *b, const char *what,
			    size_t n)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b)))
		fail_msg("message %zu: %s differs with all header fields: "
			 "'%s' vs '%s'", n, what, a ? a : "(null)",
			 b ? b : "(null)");
}

/* How msg_parse() reads a message must not change any result: the
 * simple path, GMime with filtered fields, GMime with all of them. */
static void assert_same_parse(const struct msg *a, struct strbuf *raw,
			      const struct strbuf *warn, size_t n,
			      unsigned int flags)
{
	struct strbuf warn2 = STRBUF_INIT;
	struct msg b;

	msg_init(&b);
	assert_int_equal(msg_parse_flags(&b, raw->buf, raw->len, &warn2,
					 flags), 0);
	assert_same_str(a->msgid, b.msgid, "Message-ID", n);
	assert_same_str(a->sender, b.sender, "sender", n);
	assert_same_str(a->sender_name, b.sender_name, "sender name", n);
	assert_same_str(a->sender_addr, b.sender_addr, "sender address", n);
	assert_same_str(a->author, b.author, "author", n);
	assert_same_str(a->subject, b.subject, "subject", n);
	assert_same_str(a->in_reply_to, b.in_reply_to, "In-Reply-To", n);
	assert_same_str(a->to, b.to, "To", n);
	assert_same_str(a->cc, b.cc, "Cc", n);
	assert_same_str(a->list_id, b.list_id, "List-Id", n);
	assert_same_str(a->body, b.body, "body", n);
	assert_same_str(a->change_id, b.change_id, "change-id", n);
	assert_same_str(a->base_commit, b.base_commit, "base-commit", n);
	assert_same_str(warn->buf, warn2.buf, "warnings", n);
	assert_int_equal(a->refs_nr, b.refs_nr);
	for (size_t i = 0; i < a->refs_nr; i++)
		assert_same_str(a->refs[i], b.refs[i], "References", n);
	assert_int_equal(a->msgid_synthetic, b.msgid_synthetic);
	assert_int_equal(a->has_date, b.has_date);
	assert_int_equal(a->date_ms, b.date_ms);
	assert_int_equal(a->body_len, b.body_len);
	assert_int_equal(a->patchwork_bot, b.patchwork_bot);
	assert_int_equal(a->body_from_attachment, b.body_from_attachment);
	assert_int_equal(a->has_diff, b.has_diff);
	assert_int_equal(a->has_diffstat, b.has_diffstat);
	assert_int_equal(a->has_trailers, b.has_trailers);
	msg_release(&b);
	strbuf_release(&warn2);
}

static void parse_one(struct slice_counts *c, struct strbuf *raw)
{
	struct strbuf warn = STRBUF_INIT;
	struct msg m, m2 = MSG_INIT;
	int r;

	msg_init(&m);
	c->msgs++;
	r = msg_parse(&m, raw->buf, raw->len, &warn);
	if (r < 0)
		fail_msg("message %zu: msg_parse = %d", c->msgs, r);
	assert_same_parse(&m, raw, &warn, c->msgs, MSG_PARSE_GMIME);
	assert_same_parse(&m, raw, &warn, c->msgs, MSG_PARSE_ALL_HEADERS);
	c->simple += msg_parse_flags(&m2, raw->buf, raw->len, NULL,
				     MSG_PARSE_SIMPLE_ONLY) == 0;
	msg_release(&m2);
	assert_true(g_utf8_validate(m.body, (gssize)m.body_len, NULL));
	assert_true(g_utf8_validate(m.subject, -1, NULL));
	if (m.msgid && *m.msgid && !m.msgid_synthetic)
		c->with_id++;
	else
		fprintf(stderr, "message %zu: %s\n", c->msgs, warn.buf);
	c->synthetic += m.msgid_synthetic;
	c->dated += m.has_date;
	c->bots += msg_is_bot(&m);
	if (m.subj.reply) {
		c->replies++;
		c->with_diff_reply += m.has_diff;
	} else if (m.has_diff) {
		c->patches++;
		c->attachments += m.body_from_attachment;
	} else if (m.subj.explicit_counter && m.subj.counter == 0) {
		c->covers++;
	}
	msg_release(&m);
	strbuf_release(&warn);
}

static void test_real_slice(void **state)
{
	struct strbuf cmd = STRBUF_INIT, raw = STRBUF_INIT;
	struct slice_counts c = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool in_msg = false;
	FILE *f;

	(void)state;
	strbuf_addf(&cmd, "xz -dc '%s/data/io-uring-2024H1.mbox.xz'",
		    KREVIEW_SHARED_DIR);
	f = popen(cmd.buf, "r");
	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *p = line;

		if (!strncmp(line, "From mboxrd@z ", 14)) {
			if (in_msg)
				parse_one(&c, &raw);
			strbuf_reset(&raw);
			in_msg = true;
			continue;
		}
		/* mboxrd: ">From ", ">>From " ... lose one '>' */
		if (*p == '>') {
			const char *q = p;

			while (*q == '>')
				q++;
			if (!strncmp(q, "From ", 5))
				p++;
		}
		strbuf_add(&raw, p, (size_t)(n - (p - line)));
	}
	if (in_msg)
		parse_one(&c, &raw);
	assert_int_equal(pclose(f), 0);
	fprintf(stderr,
		"slice: %zu messages, %zu with Message-ID, %zu dated, %zu patches"
		" (non-reply with diff, %zu from attachments), %zu covers,"
		" %zu replies (%zu carry a diff), %zu bot mails;"
		" %zu read without GMime's parser\n",
		c.msgs, c.with_id, c.dated, c.patches, c.attachments, c.covers,
		c.replies, c.with_diff_reply, c.bots, c.simple);
	assert_int_equal(c.msgs, 2026);
	assert_int_equal(c.with_id, 2026);
	assert_int_equal(c.synthetic, 0);
	/* b4's oracle counts 630 patches in its revisions */
	assert_true(c.patches >= 630);
	/* single-part mail with a plain header: 2,005 of the 2,026 */
	assert_true(c.simple >= 1950);
	free(line);
	strbuf_release(&cmd);
	strbuf_release(&raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_patch),
		cmocka_unit_test(test_qp_body),
		cmocka_unit_test(test_base64_body),
		cmocka_unit_test(test_declared_charsets),
		cmocka_unit_test(test_undeclared_latin1),
		cmocka_unit_test(test_raw_8bit_headers),
		cmocka_unit_test(test_invalid_utf8_headers),
		cmocka_unit_test(test_rfc2047_folded_subject),
		cmocka_unit_test(test_b4_relay),
		cmocka_unit_test(test_inbody_from),
		cmocka_unit_test(test_attachment),
		cmocka_unit_test(test_alternative),
		cmocka_unit_test(test_reply_quoting_diff),
		cmocka_unit_test(test_no_msgid_no_date),
		cmocka_unit_test(test_refs_order_dedup),
		cmocka_unit_test(test_bots),
		cmocka_unit_test(test_cover),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_real_slice),
	};
	int r;

	g_mime_init();
	git_libgit2_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	g_mime_shutdown();
	return r;
}
