#define _GNU_SOURCE /* memmem, strcasestr */
/*
 * LKML reply composition: golden replies built from hand-made review
 * results, threading and recipient rules, the never-answer rule, and
 * that nothing a model writes selects a recipient.
 *
 * KREVIEW_UPDATE_GOLDEN=1 rewrites the golden files.
 */
#include "testutil.h"

#include "kreview/reply.h"
#include "kreview/review.h"

#include <gmime/gmime.h>

#define FIXED_MSGID "kreview.00000000000000000000000000000000@example.org"

struct fixture {
	struct review_series s;
	struct review_result res;
	struct reply_target cover, p2;
	struct reply_lists lists;
	struct reply_list list;
};

static void load_target(struct reply_target *t, const char *name)
{
	struct strbuf raw = STRBUF_INIT, err = STRBUF_INIT;

	test_read_data(&raw, name);
	reply_target_init(t);
	assert_int_equal(reply_target_parse(t, raw.buf, raw.len,
					    1717380133000, &err),
			 0);
	strbuf_release(&raw);
	strbuf_release(&err);
}

/* Commit message and diff of a patch mail's body. */
static void add_patch(struct review_series *s, const struct reply_target *t)
{
	const char *body = t->msg.body;
	const char *dash = strstr(body, "\n---\n");
	const char *diff = strstr(body, "diff --git");
	const char *sig = strstr(body, "\n-- \n");
	struct strbuf err = STRBUF_INIT;
	char *msg;

	assert_non_null(dash);
	assert_non_null(diff);
	msg = xmemdupz(body, (size_t)(dash - body) + 1);
	assert_int_equal(review_series_add(s, t->msg.subj.title, msg, diff,
					   sig ? (size_t)(sig + 1 - diff)
					       : strlen(diff),
					   t->msg.msgid, &err),
			 0);
	free(msg);
	strbuf_release(&err);
}

static struct review_finding *add_finding(struct review_result *r, int patch,
					  const char *file, int line,
					  int end_line, const char *function,
					  enum finding_severity sev,
					  const char *fpr, const char *title,
					  const char *expl, const char *ev)
{
	struct review_finding *f;

	r->v = xrealloc(r->v, (r->nr + 1) * sizeof(*r->v));
	f = &r->v[r->nr++];
	memset(f, 0, sizeof(*f));
	finding_init(&f->c.rep);
	f->c.rep.file = xstrdup(file);
	f->c.rep.line = line;
	f->c.rep.end_line = end_line;
	f->c.rep.function = xstrdup(function);
	f->c.rep.category = xstrdup("resource-leak");
	f->c.rep.severity = sev;
	f->c.rep.title = xstrdup(title);
	f->c.rep.explanation = xstrdup(expl);
	f->c.rep.evidence = xstrdup(ev);
	f->c.rep.patch = patch;
	f->c.severity = sev;
	f->c.support = 3;
	f->c.runs = 3;
	snprintf(f->c.fingerprint, sizeof(f->c.fingerprint), "%s", fpr);
	f->drop = REVIEW_REPORTED;
	r->reported++;
	return f;
}

static void setup_fixture(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	load_target(&fx->cover, "reply/cover.eml");
	load_target(&fx->p2, "reply/patch2.eml");
	review_series_init(&fx->s);
	fx->s.subject = xstrdup("io_uring/net: buffer recycling fixes");
	fx->s.version = 3;
	add_patch(&fx->s, &fx->p2);
	/* one patch series slot per mail: patch 2 is the only one here */
	fx->s.patches[0].index = 2;
	review_result_init(&fx->res);
	add_finding(&fx->res, 2, "io_uring/net.c", 105, 106, "io_recv_finish",
		    SEV_HIGH, "fpr-leak",
		    "buffer not recycled when REQ_F_BL_EMPTY is set",
		    "If REQ_F_BL_EMPTY is set here, who returns the buffer "
		    "selected for this attempt? io_recv() -> "
		    "io_buffer_select() has already taken it, so the -EAGAIN "
		    "retry looks like it loses one buffer per pass.\n\n"
		    "    CPU0                     CPU1\n"
		    "    io_recv()                io_kbuf_recycle()\n",
		    "+\t\tif (!(req->flags & REQ_F_BL_EMPTY))");
	add_finding(&fx->res, 2, "io_uring/net.c", 131, 131, "io_recv_finish",
		    SEV_MEDIUM, "fpr-count",
		    "done_io counted twice on the retry path",
		    "Is done_io already accounted for by the caller? On a "
		    "partial receive the same bytes seem to be added again "
		    "when the request is retried.",
		    "\tsr->done_io += ret;");
	add_finding(&fx->res, 2, "io_uring/net.c", 10, 10, "", SEV_LOW,
		    "fpr-low", "a low one", "Below every floor.", "line_10");
	{
		struct review_finding *f = add_finding(
			&fx->res, 2, "io_uring/net.c", 50, 50, "io_foo",
			SEV_HIGH, "fpr-pre", "pre-existing thing",
			"This was there before.", "\tline_50(ctx);");

		f->pre_existing = true;
	}
	fx->list.name = (char *)"io-uring";
	fx->list.address = (char *)"io-uring@vger.kernel.org";
	fx->list.mode = REPLY_MODE_SEND;
	fx->list.severity = SEV_MEDIUM;
	fx->list.max_findings = 5;
	fx->list.pre_existing = REPLY_PRE_MENTION;
	fx->list.carryover = REPLY_CARRY_STILL_PRESENT;
	fx->list.rate_limit = 20;
	fx->list.cc_maintainers = true;
	fx->lists.v = &fx->list;
	fx->lists.nr = 1;
}

static void teardown_fixture(struct fixture *fx)
{
	review_series_release(&fx->s);
	review_result_release(&fx->res);
	reply_target_release(&fx->cover);
	reply_target_release(&fx->p2);
}

static void base_opts(struct reply_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->from = "kreview bot <kreview@example.org>";
	o->own_address = "kreview@example.org";
	o->feedback_url = "https://kreview.example.org";
	o->review_id = 42;
}

static const char *const maint_people[] = {
	"Jens Axboe <axboe@kernel.dk>",
	"Pavel Begunkov <asml.silence@gmail.com>",
	"Maria Maintainer <maria@example.org>",
};
static const char *const maint_lists[] = { "io-uring@vger.kernel.org" };

static int compose(struct reply_mail_list *out, struct fixture *fx,
		   const struct reply_opts *o, bool with_cover)
{
	struct reply_patch_in pin = {
		.target = &fx->p2,
		.maint_people = maint_people,
		.maint_people_nr = ARRAY_SIZE(maint_people),
		.maint_lists = maint_lists,
		.maint_lists_nr = 1,
	};
	struct reply_series_in in = {
		.series = &fx->s,
		.result = &fx->res,
		.cover = with_cover ? &fx->cover : NULL,
		.patches = &pin,
		.lists = &fx->lists,
	};
	struct strbuf err = STRBUF_INIT;
	int r = reply_compose_series(out, &in, o, &err);

	if (r < 0)
		print_error("compose: %s\n", err.buf);
	strbuf_release(&err);
	return r;
}

/* The mail text with its random Message-ID replaced by a fixed one. */
static void normalised(struct strbuf *out, const struct reply_mail *m)
{
	const char *p = m->text.buf, *hit;
	size_t idlen = strlen(m->msgid);

	while ((hit = strstr(p, m->msgid))) {
		strbuf_add(out, p, (size_t)(hit - p));
		strbuf_addstr(out, FIXED_MSGID);
		p = hit + idlen;
	}
	strbuf_addstr(out, p);
}

static void check_golden(const struct reply_mail *m, const char *name)
{
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT, path = STRBUF_INIT;

	normalised(&got, m);
	strbuf_addf(&path, "%s/reply/%s", KREVIEW_TEST_DATA, name);
	if (getenv("KREVIEW_UPDATE_GOLDEN")) {
		FILE *f = fopen(path.buf, "w");

		assert_non_null(f);
		fwrite(got.buf, 1, got.len, f);
		fclose(f);
	}
	assert_int_equal(strbuf_read_file(&want, path.buf, 0), 0);
	if (strcmp(got.buf, want.buf)) {
		print_error("--- got:\n%s\n--- want (%s):\n%s\n", got.buf,
			    path.buf, want.buf);
		fail();
	}
	strbuf_release(&got);
	strbuf_release(&want);
	strbuf_release(&path);
}

/* Every line of the body at most 'width' columns except quoted ones. */
static void check_body_lines(const char *text)
{
	const char *p = strstr(text, "\n\n");
	bool sig = false;

	assert_non_null(p);
	for (p += 2; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len == 3 && !strncmp(p, "-- ", 3))
			sig = true;
		if (len && p[0] != '>' && !sig && strncmp(p, "    ", 4))
			assert_true(len <= REPLY_WRAP);
		p += len + (eol ? 1 : 0);
	}
	assert_true(sig);
	assert_null(strstr(text, "Reviewed-by"));
	assert_null(strstr(text, "Acked-by"));
}

static void test_golden_patch(void **state)
{
	struct fixture fx;
	struct reply_mail_list l = REPLY_MAIL_LIST_INIT;
	struct reply_opts o;

	(void)state;
	setup_fixture(&fx);
	base_opts(&o);
	assert_int_equal(compose(&l, &fx, &o, true), 0);
	/* summary off: one reply, to the patch */
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.v[0].kind, REPLY_KIND_PATCH);
	assert_int_equal(l.v[0].findings, 2);
	assert_int_equal(l.v[0].mode, REPLY_MODE_SEND);
	assert_string_equal(l.v[0].lists, "io-uring");
	assert_string_equal(l.v[0].in_reply_to,
			    "20240603020211.2-jane@example.com");
	assert_true(reply_msgid_is_own(l.v[0].msgid));
	assert_non_null(strstr(l.v[0].msgid, "@example.org"));
	check_golden(&l.v[0], "patch2.golden");
	check_body_lines(l.v[0].text.buf);
	/* quoted diff lines survive byte for byte: tabs, trailing blanks */
	assert_non_null(strstr(l.v[0].text.buf, "\n>  \n>  \tif (ret"));
	assert_non_null(strstr(l.v[0].text.buf,
			       "> +\tsr->done_io += ret;   \t/* keep */\n"));
	reply_mail_list_release(&l);
	teardown_fixture(&fx);
}

static void test_golden_summary_revision(void **state)
{
	struct fixture fx;
	struct reply_mail_list l = REPLY_MAIL_LIST_INIT;
	struct reply_opts o;
	const struct reply_prior prior[] = {
		{ "fpr-leak", "buffer not recycled", REPLY_PRIOR_REPORTED },
		{ "fpr-count", "done_io counted twice", REPLY_PRIOR_INVALID },
		{ "fpr-gone", "missing unlock in io_send_zc() error path",
		  REPLY_PRIOR_REPORTED },
	};

	(void)state;
	setup_fixture(&fx);
	fx.list.summary = true;
	base_opts(&o);
	o.prior = prior;
	o.prior_nr = ARRAY_SIZE(prior);
	o.prior_version = 2;
	assert_int_equal(compose(&l, &fx, &o, true), 0);
	assert_int_equal(l.nr, 2);
	/* fpr-count was marked invalid on v2: suppressed */
	assert_int_equal(l.v[0].findings, 1);
	assert_non_null(strstr(l.v[0].text.buf, "raised on v2 as well"));
	assert_null(strstr(l.v[0].text.buf, "done_io"));
	check_golden(&l.v[0], "patch2-v3.golden");
	assert_int_equal(l.v[1].kind, REPLY_KIND_SUMMARY);
	assert_string_equal(l.v[1].in_reply_to,
			    "20240603020211.0-jane@example.com");
	check_golden(&l.v[1], "cover-v3.golden");
	check_body_lines(l.v[1].text.buf);
	reply_mail_list_release(&l);

	/* carry-overs omitted by policy: nothing left for the patch */
	fx.list.carryover = REPLY_CARRY_OMIT;
	assert_int_equal(compose(&l, &fx, &o, true), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.v[0].kind, REPLY_KIND_SUMMARY);
	assert_non_null(strstr(l.v[0].text.buf, "missing unlock"));
	reply_mail_list_release(&l);
	teardown_fixture(&fx);
}

/* Header value of 'name' (first occurrence, unfolded). */
static void header_value(struct strbuf *out, const char *text,
			 const char *name)
{
	struct strbuf key = STRBUF_INIT;
	const char *p, *end = strstr(text, "\n\n");

	strbuf_reset(out);
	strbuf_addf(&key, "\n%s: ", name);
	p = strstr(text, key.buf + 1) == text ? text - 1 : strstr(text, key.buf);
	if (!p || (end && p > end)) {
		strbuf_release(&key);
		return;
	}
	p += key.len;
	for (; *p; p++) {
		if (*p == '\n' && (p[1] == ' ' || p[1] == '\t'))
			continue;
		if (*p == '\n')
			break;
		strbuf_addch(out, *p);
	}
	strbuf_release(&key);
}

static bool has_rcpt(const struct reply_mail *m, const char *addr)
{
	for (size_t i = 0; i < m->rcpts_nr; i++)
		if (!strcmp(m->rcpts[i], addr))
			return true;
	return false;
}

static void test_threading_and_recipients(void **state)
{
	struct fixture fx;
	struct reply_mail_list l = REPLY_MAIL_LIST_INIT;
	struct reply_opts o;
	struct strbuf v = STRBUF_INIT;
	const struct reply_mail *m;

	(void)state;
	setup_fixture(&fx);
	base_opts(&o);
	assert_int_equal(compose(&l, &fx, &o, false), 0);
	m = &l.v[0];
	header_value(&v, m->text.buf, "Subject");
	assert_string_equal(v.buf,
			    "Re: [PATCH v3 2/2] io_uring/net: recycle buffer "
			    "on -EAGAIN");
	header_value(&v, m->text.buf, "References");
	assert_string_equal(v.buf, "<20240601000000.0-jane@example.com> "
				   "<20240603020211.0-jane@example.com> "
				   "<20240603020211.2-jane@example.com>");
	header_value(&v, m->text.buf, "To");
	assert_string_equal(v.buf, "Jane Developer <jane@example.com>");
	/* AXBOE@KERNEL.DK is axboe@kernel.dk; own address removed; the
	 * maintainer from MAINTAINERS added; quoted name kept quoted */
	header_value(&v, m->text.buf, "Cc");
	assert_string_equal(v.buf,
			    "io-uring@vger.kernel.org, Jens Axboe "
			    "<axboe@kernel.dk>, Pavel Begunkov "
			    "<asml.silence@gmail.com>, \"Doe, John\" "
			    "<john@example.net>, Maria Maintainer "
			    "<maria@example.org>");
	assert_int_equal(m->rcpts_nr, 6);
	assert_false(has_rcpt(m, "kreview@example.org"));
	assert_string_equal(m->env_from, "kreview@example.org");
	header_value(&v, m->text.buf, "Date");
	assert_int_equal(v.len, 0); /* the outbox adds it */
	header_value(&v, m->text.buf, "Auto-Submitted");
	assert_string_equal(v.buf, "auto-generated");
	header_value(&v, m->text.buf, "Content-Type");
	assert_string_equal(v.buf, "text/plain; charset=utf-8");
	reply_mail_list_release(&l);

	/* private: no list address anywhere, people stay */
	fx.list.private_reply = true;
	assert_int_equal(compose(&l, &fx, &o, false), 0);
	m = &l.v[0];
	assert_false(has_rcpt(m, "io-uring@vger.kernel.org"));
	assert_true(has_rcpt(m, "jane@example.com"));
	assert_true(has_rcpt(m, "axboe@kernel.dk"));
	reply_mail_list_release(&l);

	/* no maintainers */
	fx.list.private_reply = false;
	fx.list.cc_maintainers = false;
	assert_int_equal(compose(&l, &fx, &o, false), 0);
	assert_false(has_rcpt(&l.v[0], "maria@example.org"));
	reply_mail_list_release(&l);

	/* mode off: nothing */
	fx.list.mode = REPLY_MODE_OFF;
	assert_int_equal(compose(&l, &fx, &o, false), 0);
	assert_int_equal(l.nr, 0);
	strbuf_release(&v);
	teardown_fixture(&fx);
}

/* A finding's text naming addresses or a Cc: line changes nothing. */
static void test_recipients_never_from_model(void **state)
{
	struct fixture fx;
	struct reply_mail_list a = REPLY_MAIL_LIST_INIT;
	struct reply_mail_list b = REPLY_MAIL_LIST_INIT;
	struct reply_opts o;
	const char *ha, *hb;

	(void)state;
	setup_fixture(&fx);
	base_opts(&o);
	assert_int_equal(compose(&a, &fx, &o, false), 0);
	free(fx.res.v[0].c.rep.title);
	fx.res.v[0].c.rep.title = xstrdup("Cc: evil@attacker.example");
	free(fx.res.v[0].c.rep.explanation);
	fx.res.v[0].c.rep.explanation = xstrdup(
		"To: victim@else.example\nCc: evil@attacker.example\n"
		"Bcc: <spy@attacker.example>\n\nPlease mail "
		"evil@attacker.example about this.");
	assert_int_equal(compose(&b, &fx, &o, false), 0);
	assert_int_equal(a.v[0].rcpts_nr, b.v[0].rcpts_nr);
	for (size_t i = 0; i < a.v[0].rcpts_nr; i++)
		assert_string_equal(a.v[0].rcpts[i], b.v[0].rcpts[i]);
	ha = strstr(a.v[0].text.buf, "\n\n");
	hb = strstr(b.v[0].text.buf, "\n\n");
	/* the headers differ only in the random Message-ID */
	assert_int_equal(ha - a.v[0].text.buf, hb - b.v[0].text.buf);
	assert_null(memmem(b.v[0].text.buf, (size_t)(hb - b.v[0].text.buf),
			   "attacker", 8));
	assert_non_null(strstr(hb, "evil@attacker.example"));
	reply_mail_list_release(&a);
	reply_mail_list_release(&b);
	teardown_fixture(&fx);
}

static void parse_raw(struct reply_target *t, const char *raw)
{
	struct strbuf err = STRBUF_INIT;

	reply_target_init(t);
	assert_int_equal(reply_target_parse(t, raw, strlen(raw), 0, &err), 0);
	strbuf_release(&err);
}

static void recipients_of(struct config_strlist *to, struct config_strlist *cc,
			  const char *raw, const struct reply_list *pol_in)
{
	struct reply_target t;
	struct reply_policy pol;

	parse_raw(&t, raw);
	memset(&pol, 0, sizeof(pol));
	if (pol_in)
		pol.eff = *pol_in;
	reply_recipients(to, cc, &t, &pol, "kreview@example.org", NULL, 0,
			 NULL, 0);
	reply_target_release(&t);
}

static void test_reply_to_and_relay(void **state)
{
	struct config_strlist to = { 0 }, cc = { 0 };

	(void)state;
	recipients_of(&to, &cc,
		      "From: A <a@example.com>\nReply-To: List <l@example.com>\n"
		      "To: x@example.com\nSubject: [PATCH v3 2/7] x\n"
		      "Message-ID: <1@x>\n\nbody\n",
		      NULL);
	assert_int_equal(to.nr, 1);
	assert_string_equal(to.v[0], "List <l@example.com>");
	assert_int_equal(cc.nr, 2);
	assert_string_equal(cc.v[0], "A <a@example.com>");
	config_strlist_release(&to);
	config_strlist_release(&cc);

	/* b4 relay / send-email on behalf: in-body From: is the author */
	recipients_of(&to, &cc,
		      "From: Relay <relay@web.example>\nTo: l@example.com\n"
		      "Subject: [PATCH] x\nMessage-ID: <2@x>\n\n"
		      "From: Real Author <real@example.com>\n\ntext\n",
		      NULL);
	assert_int_equal(to.nr, 1);
	assert_string_equal(to.v[0], "Real Author <real@example.com>");
	assert_string_equal(cc.v[0], "Relay <relay@web.example>");
	config_strlist_release(&to);
	config_strlist_release(&cc);

	/* X-Original-From */
	recipients_of(&to, &cc,
		      "From: list via relay <l@example.com>\n"
		      "X-Original-From: Orig <orig@example.com>\n"
		      "To: l@example.com\nSubject: [PATCH] x\n"
		      "Message-ID: <3@x>\n\ntext\n",
		      NULL);
	assert_string_equal(to.v[0], "Orig <orig@example.com>");
	config_strlist_release(&to);
	config_strlist_release(&cc);
}

static void test_forty_cc(void **state)
{
	struct strbuf raw = STRBUF_INIT;
	struct config_strlist to = { 0 }, cc = { 0 };

	(void)state;
	strbuf_addstr(&raw, "From: A <a@example.com>\nTo: l@example.com\nCc: ");
	for (int i = 0; i < 40; i++)
		strbuf_addf(&raw, "%sP%d <%s%d@Example.COM>", i ? ",\n " : "",
			    i % 20, i < 20 ? "p" : "P", i % 20);
	strbuf_addstr(&raw, ", KReview@Example.org, a@EXAMPLE.com\n"
			    "Subject: [PATCH] x\nMessage-ID: <4@x>\n\nbody\n");
	recipients_of(&to, &cc, raw.buf, NULL);
	assert_int_equal(to.nr, 1);
	/* list + 20 distinct people; own address and the author gone */
	assert_int_equal(cc.nr, 21);
	for (size_t i = 0; i < cc.nr; i++) {
		assert_null(strcasestr(cc.v[i], "kreview@"));
		assert_null(strstr(cc.v[i], "a@example.com"));
	}
	config_strlist_release(&to);
	config_strlist_release(&cc);
	strbuf_release(&raw);
}

static void test_rfc2047(void **state)
{
	struct strbuf h = STRBUF_INIT;
	struct config_strlist to = { 0 }, cc = { 0 };
	const char *subj = "Re: [PATCH v2 1/3] drm/ä: fix Jörg's "
			   "regression in the “quoted” path of a very long "
			   "subject line that must be folded — twice";
	char *dec;

	(void)state;
	reply_add_header(&h, "Subject", subj);
	for (const char *p = h.buf; *p;) {
		const char *eol = strchr(p, '\n');

		assert_true((size_t)(eol - p) <= 78);
		for (const char *c = p; c < eol; c++)
			assert_true((unsigned char)*c < 0x80);
		p = eol + 1;
	}
	{
		/* unfold, then decode the value */
		struct strbuf un = STRBUF_INIT;

		for (const char *c = h.buf + 9; *c; c++)
			if (*c != '\n')
				strbuf_addch(&un, *c);
		dec = g_mime_utils_header_decode_text(NULL, un.buf);
		assert_string_equal(dec, subj);
		g_free(dec);
		strbuf_release(&un);
	}

	/* non-ASCII author name */
	recipients_of(&to, &cc,
		      "From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <jm@example.de>\n"
		      "To: l@example.com\nSubject: [PATCH] =?UTF-8?Q?f=C3=BC?=\n"
		      "Message-ID: <5@x>\n\nbody\n",
		      NULL);
	assert_string_equal(to.v[0], "Jörg Müller <jm@example.de>");
	config_strlist_release(&to);
	config_strlist_release(&cc);
	strbuf_release(&h);
}

static void test_references_from_in_reply_to(void **state)
{
	struct reply_target t;

	(void)state;
	parse_raw(&t, "From: a@example.com\nTo: l@example.com\n"
		      "Subject: [PATCH 2/2] x\nMessage-ID: <p2@x>\n"
		      "In-Reply-To: <cover@x>\n\nbody\n");
	assert_int_equal(t.msg.refs_nr, 1);
	assert_string_equal(t.msg.refs[0], "cover@x");
	reply_target_release(&t);
}

static void test_subject(void **state)
{
	struct strbuf s = STRBUF_INIT;

	(void)state;
	reply_subject(&s, "[PATCH v3 2/7] a: b");
	assert_string_equal(s.buf, "Re: [PATCH v3 2/7] a: b");
	strbuf_reset(&s);
	reply_subject(&s, "RE: [PATCH] x");
	assert_string_equal(s.buf, "RE: [PATCH] x");
	strbuf_release(&s);
}

static void test_qp(void **state)
{
	struct strbuf t = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&t, "Subject: x\nContent-Transfer-Encoding: 8bit\n\n"
			  "> short\n> ");
	for (int i = 0; i < 1200; i++)
		strbuf_addch(&t, i % 50 ? 'a' : '=');
	strbuf_addstr(&t, "\nend \n");
	assert_true(reply_qp_if_needed(&t));
	assert_non_null(strstr(t.buf, "Content-Transfer-Encoding: "
				      "quoted-printable\n"));
	for (const char *p = strstr(t.buf, "\n\n") + 2; *p;) {
		const char *eol = strchr(p, '\n');

		assert_true(eol - p <= 76);
		p = eol + 1;
	}
	assert_non_null(strstr(t.buf, "=3D"));
	assert_non_null(strstr(t.buf, "end=20\n"));
	assert_false(reply_qp_if_needed(&t)); /* already short lines */
	strbuf_release(&t);
}

static void test_wrap(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	reply_wrap(&out,
		   "A very long sentence that goes on and on about the "
		   "locking rules of io_uring and why the completion lock "
		   "must be held here.\n\tverbatim\tcode line that is "
		   "longer than seventy-two columns for sure, not wrapped\n"
		   "-- \nnext paragraph\n\n\n\nlast",
		   REPLY_WRAP);
	assert_string_equal(
		out.buf,
		"A very long sentence that goes on and on about the locking "
		"rules of\nio_uring and why the completion lock must be held "
		"here.\n\tverbatim\tcode line that is longer than "
		"seventy-two columns for sure, not wrapped\n- - next "
		"paragraph\n\nlast\n");
	strbuf_release(&out);
}

static void test_never_answer(void **state)
{
	static const struct {
		const char *raw;
		bool never;
	} cases[] = {
		{ "From: kernel test robot <lkp@intel.com>\nSubject: [PATCH] "
		  "x\nMessage-ID: <a@x>\n\nHi\n", true },
		{ "From: syzbot <syzbot+abc@syzkaller.appspotmail.com>\n"
		  "Subject: [syzbot] KASAN\nMessage-ID: <b@x>\n\nx\n", true },
		{ "From: X <x@example.com>\nAuto-Submitted: auto-generated\n"
		  "Subject: [PATCH] x\nMessage-ID: <c@x>\n\nx\n", true },
		{ "From: X <x@example.com>\nAuto-Submitted: no\n"
		  "Subject: [PATCH] x\nMessage-ID: <d@x>\n\nx\n", false },
		{ "From: X <x@example.com>\nSubject: [PATCH] x\n"
		  "Message-ID: <e@x>\n\n#syz test\n", true },
		{ "From: sashiko <sashiko-bot@kernel.org>\nSubject: [PATCH] "
		  "x\nMessage-ID: <f@x>\n\nx\n", true },
		{ "From: kreview <kreview@example.org>\nSubject: [PATCH] x\n"
		  "Message-ID: <g@x>\n\nx\n", true },
		{ "From: X <x@example.com>\nSubject: Re: [PATCH] x\n"
		  "Message-ID: <h@x>\n\nx\n", true },
		{ "From: X <x@example.com>\nSubject: [PATCH] x\n"
		  "Message-ID: <i@x>\nReferences: <kreview."
		  "0123456789abcdef0123456789abcdef@example.org>\n\nx\n",
		  true },
		{ "From: X <x@example.com>\nX-Patchwork-Bot: notify\n"
		  "Subject: [PATCH] x\nMessage-ID: <j@x>\n\nx\n", true },
		{ "From: X <x@example.com>\nSubject: [PATCH] x\n"
		  "Message-ID: <k@x>\n\nx\n", false },
	};
	char *pats[] = { (char *)"lkp@intel.com", (char *)"*-bot@*" };
	struct config_strlist bots = { pats, 2 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct reply_target t;
		const char *why = NULL;
		bool r;

		parse_raw(&t, cases[i].raw);
		r = reply_never_answer(&t, &bots, "kreview@example.org", &why);
		if (r != cases[i].never)
			fail_msg("case %zu: got %d (%s)", i, r,
				 why ? why : "-");
		reply_target_release(&t);
	}
}

static void test_msgid(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	(void)state;
	reply_msgid_new(&a, "example.org");
	reply_msgid_new(&b, "example.org");
	assert_true(reply_msgid_is_own(a.buf));
	assert_string_not_equal(a.buf, b.buf);
	assert_false(reply_msgid_is_own("20240603.1-jane@example.com"));
	assert_false(reply_msgid_is_own("kreview.xyz@example.org"));
	strbuf_release(&a);
	strbuf_release(&b);
}

/* Policy: the strictest of all matching lists wins. */
static void test_policy(void **state)
{
	struct reply_list v[3];
	struct reply_lists lists = { v, 3 };
	struct reply_target t;
	struct reply_policy pol;
	const char *both = "From: a@example.com\nTo: netdev@vger.kernel.org\n"
			   "Cc: bpf@vger.kernel.org, linux-mm@kvack.org\n"
			   "Subject: [PATCH] x\nMessage-ID: <m@x>\n\nx\n";
	const char *two = "From: a@example.com\nTo: bpf@vger.kernel.org\n"
			  "Cc: linux-mm@kvack.org, notnetdev@vger.kernel.org\n"
			  "Subject: [PATCH] x\nMessage-ID: <n@x>\n\nx\n";

	(void)state;
	memset(v, 0, sizeof(v));
	v[0] = (struct reply_list){ .name = (char *)"netdev",
				    .address = (char *)"netdev@vger.kernel.org",
				    .mode = REPLY_MODE_OFF, .max_findings = 5,
				    .embargo_ms = 86400000 };
	v[1] = (struct reply_list){ .name = (char *)"bpf",
				    .address = (char *)"bpf@vger.kernel.org",
				    .mode = REPLY_MODE_SEND,
				    .private_reply = true, .max_findings = 3,
				    .severity = SEV_HIGH, .rate_limit = 10,
				    .summary = true, .cc_maintainers = true };
	v[2] = (struct reply_list){ .name = (char *)"mm",
				    .address = (char *)"linux-mm@kvack.org",
				    .mode = REPLY_MODE_SEND, .max_findings = 5,
				    .severity = SEV_MEDIUM, .rate_limit = 5,
				    .embargo_ms = 3600000, .summary = true,
				    .cc_maintainers = true };
	parse_raw(&t, both);
	reply_policy_resolve(&pol, &lists, &t);
	assert_int_equal(pol.eff.mode, REPLY_MODE_OFF);
	assert_int_equal(pol.names_nr, 3);
	assert_int_equal(pol.eff.embargo_ms, 86400000);
	reply_policy_release(&pol);
	reply_target_release(&t);

	parse_raw(&t, two);
	reply_policy_resolve(&pol, &lists, &t);
	assert_int_equal(pol.eff.mode, REPLY_MODE_SEND);
	assert_true(pol.eff.private_reply);
	assert_int_equal(pol.eff.severity, SEV_HIGH);
	assert_int_equal(pol.eff.max_findings, 3);
	assert_int_equal(pol.eff.rate_limit, 5);
	assert_int_equal(pol.eff.embargo_ms, 3600000);
	assert_true(pol.eff.summary);
	/* "notnetdev@..." is not "netdev@...": never substrings */
	assert_int_equal(pol.names_nr, 2);
	reply_policy_release(&pol);
	reply_target_release(&t);

	/* no list matches: off */
	parse_raw(&t, "From: a@example.com\nTo: other@example.com\n"
		      "Subject: [PATCH] x\nMessage-ID: <o@x>\n\nx\n");
	reply_policy_resolve(&pol, &lists, &t);
	assert_int_equal(pol.eff.mode, REPLY_MODE_OFF);
	reply_policy_release(&pol);
	reply_target_release(&t);
}

static void test_lists_config(void **state)
{
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	const char *ok = "lists:\n  - name: a\n    address: A@Example.org\n"
			 "    mode: send\n    embargo: 24h\n"
			 "    severity: high\n    pre_existing: mention\n"
			 "mail:\n  from: \"kreview <k@example.org>\"\n";
	const char *bad = "lists:\n  - name: a\n    address: a@example.org\n"
			  "  - name: a\n    id: x\n  - name: b\n"
			  "  - name: c\n    address: not an address\n"
			  "mail:\n  from: nobody\n  transport: smtp\n"
			  "  smtp_url: smtp://mail.example.org:587\n"
			  "  starttls: false\n";

	(void)state;
	assert_int_equal(config_load_buffer(&cfg, "t.yaml", ok, strlen(ok),
					    &err),
			 0);
	assert_int_equal(cfg->lists->nr, 1);
	assert_string_equal(cfg->lists->v[0].address, "a@example.org");
	assert_int_equal(cfg->lists->v[0].mode, REPLY_MODE_SEND);
	assert_int_equal(cfg->lists->v[0].embargo_ms, 86400000);
	assert_int_equal(cfg->lists->v[0].severity, SEV_HIGH);
	assert_int_equal(cfg->lists->v[0].max_findings, 5);
	assert_true(cfg->lists->v[0].cc_maintainers);
	config_free(cfg);
	cfg = NULL;
	assert_int_equal(config_load_buffer(&cfg, "t.yaml", bad, strlen(bad),
					    &err),
			 -EINVAL);
	assert_non_null(strstr(err.buf, "t.yaml:4:11: duplicate list name "
					"'a'"));
	assert_non_null(strstr(err.buf, "list 'b': needs 'address' or 'id'"));
	assert_non_null(strstr(err.buf, "'not an address' is not a bare "
					"mail address"));
	assert_non_null(strstr(err.buf, "mail.from: no mail address in "
					"'nobody'"));
	assert_non_null(strstr(err.buf, "STARTTLS may only be turned off "
					"for a loopback server"));
	strbuf_release(&err);
}

/* The answer to a "#kreview" command mail. */
static void test_command_reply(void **state)
{
	struct reply_list v[2];
	struct reply_lists lists = { v, 2 };
	struct reply_target t;
	struct reply_mail m;
	struct reply_opts o;
	struct strbuf val = STRBUF_INIT, err = STRBUF_INIT;
	const char *const more[] = { "Netdev@Vger.Kernel.org" };
	const char *cmd =
		"From: Jens Axboe <axboe@kernel.dk>\n"
		"Reply-To: elsewhere@example.com\n"
		"To: kreview@example.org\n"
		"Cc: io-uring@vger.kernel.org, other@example.com\n"
		"Subject: Re: [kreview] IO_URING open-bug digest (Jun 2024)\n"
		"Message-ID: <cmd1@kernel.dk>\n"
		"In-Reply-To: <digest-1@kreview>\n"
		"References: <digest-1@kreview>\n\n"
		"#kreview <1> confirm\n";
	const char *body = "Thanks; kreview processed 1 command\n\n-- \nkreview\n";

	(void)state;
	memset(v, 0, sizeof(v));
	v[0] = (struct reply_list){ .name = (char *)"io-uring",
				    .address = (char *)"io-uring@vger.kernel.org",
				    .mode = REPLY_MODE_SEND, .rate_limit = 4,
				    .embargo_ms = 86400000 };
	v[1] = (struct reply_list){ .name = (char *)"bpf",
				    .address = (char *)"bpf@vger.kernel.org",
				    .mode = REPLY_MODE_OUTBOX,
				    .private_reply = true };
	base_opts(&o);

	/* through a list that wants mail: To the sender, Cc that list */
	parse_raw(&t, cmd);
	assert_true(reply_to_list(&t, &lists, NULL, 0));
	assert_int_equal(reply_compose_command(&m, &t, body, &lists,
					       REPLY_MODE_DRY_RUN, &o, &err),
			 0);
	assert_int_equal(m.kind, REPLY_KIND_COMMAND);
	assert_int_equal(m.mode, REPLY_MODE_SEND);
	assert_string_equal(m.lists, "io-uring");
	assert_int_equal(m.rate_limit, 4);
	assert_int_equal(m.not_before_ms, 0);
	assert_string_equal(m.in_reply_to, "cmd1@kernel.dk");
	header_value(&val, m.text.buf, "To");
	assert_string_equal(val.buf, "Jens Axboe <axboe@kernel.dk>");
	header_value(&val, m.text.buf, "Cc");
	assert_string_equal(val.buf, "io-uring@vger.kernel.org");
	header_value(&val, m.text.buf, "Subject");
	assert_string_equal(val.buf,
			    "Re: [kreview] IO_URING open-bug digest (Jun 2024)");
	header_value(&val, m.text.buf, "In-Reply-To");
	assert_string_equal(val.buf, "<cmd1@kernel.dk>");
	header_value(&val, m.text.buf, "References");
	assert_string_equal(val.buf, "<digest-1@kreview> <cmd1@kernel.dk>");
	header_value(&val, m.text.buf, "Auto-Submitted");
	assert_string_equal(val.buf, "auto-generated");
	assert_int_equal(m.rcpts_nr, 2);
	assert_false(has_rcpt(&m, "other@example.com"));
	assert_false(has_rcpt(&m, "elsewhere@example.com"));
	assert_non_null(strstr(m.text.buf, "\n\nThanks; kreview processed"));
	reply_mail_release(&m);
	reply_target_release(&t);

	/* a private policy: the sender alone, in that policy's mode */
	parse_raw(&t, "From: a@example.com\nTo: bpf@vger.kernel.org\n"
		      "Subject: Re: x\nMessage-ID: <c2@x>\n\n#kreview poke\n");
	assert_int_equal(reply_compose_command(&m, &t, body, &lists,
					       REPLY_MODE_DRY_RUN, &o, &err),
			 0);
	assert_int_equal(m.mode, REPLY_MODE_OUTBOX);
	assert_int_equal(m.rcpts_nr, 1);
	assert_string_equal(m.rcpts[0], "a@example.com");
	header_value(&val, m.text.buf, "Cc");
	assert_string_equal(val.buf, "");
	reply_mail_release(&m);
	reply_target_release(&t);

	/* no list at all: the fallback mode; MAINTAINERS lists count */
	parse_raw(&t, "From: a@example.com\nTo: kreview@example.org\n"
		      "Cc: netdev@vger.kernel.org\n"
		      "Subject: Re: x\nMessage-ID: <c3@x>\n\n#kreview poke\n");
	assert_false(reply_to_list(&t, &lists, NULL, 0));
	assert_true(reply_to_list(&t, &lists, more, 1));
	assert_int_equal(reply_compose_command(&m, &t, body, &lists,
					       REPLY_MODE_DRY_RUN, &o, &err),
			 0);
	assert_int_equal(m.mode, REPLY_MODE_DRY_RUN);
	assert_string_equal(m.lists, "");
	assert_int_equal(m.rcpts_nr, 1);
	reply_mail_release(&m);
	reply_target_release(&t);

	/* a List-Id is a list */
	parse_raw(&t, "From: a@example.com\nTo: kreview@example.org\n"
		      "List-Id: <io-uring.vger.kernel.org>\n"
		      "Subject: Re: x\nMessage-ID: <c4@x>\n\nx\n");
	assert_true(reply_to_list(&t, NULL, NULL, 0));
	reply_target_release(&t);

	/* kreview's own mail, no From: configured */
	parse_raw(&t, "From: kreview@example.org\nSubject: Re: x\n"
		      "Message-ID: <c5@x>\n\nx\n");
	strbuf_reset(&err);
	assert_int_equal(reply_compose_command(&m, &t, body, &lists,
					       REPLY_MODE_DRY_RUN, &o, &err),
			 -EINVAL);
	assert_non_null(strstr(err.buf, "kreview itself"));
	reply_target_release(&t);
	parse_raw(&t, cmd);
	o.from = NULL;
	strbuf_reset(&err);
	assert_int_equal(reply_compose_command(&m, &t, body, &lists,
					       REPLY_MODE_DRY_RUN, &o, &err),
			 -EINVAL);
	assert_non_null(strstr(err.buf, "mail.from"));
	reply_target_release(&t);
	strbuf_release(&val);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_patch),
		cmocka_unit_test(test_golden_summary_revision),
		cmocka_unit_test(test_threading_and_recipients),
		cmocka_unit_test(test_recipients_never_from_model),
		cmocka_unit_test(test_reply_to_and_relay),
		cmocka_unit_test(test_forty_cc),
		cmocka_unit_test(test_rfc2047),
		cmocka_unit_test(test_references_from_in_reply_to),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_never_answer),
		cmocka_unit_test(test_msgid),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_lists_config),
		cmocka_unit_test(test_command_reply),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
