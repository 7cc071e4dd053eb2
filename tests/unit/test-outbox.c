/*
 * The outbox: state transitions, exactly-once by Message-ID across a
 * simulated crash between hand-over and commit, retries with backoff,
 * embargo, rate limits, and the maildir and sendmail transports (a fake
 * sendmail script; nothing leaves the machine).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include "kreview/db.h"
#include "kreview/outbox.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1717400000000LL
#define HOUR (3600LL * 1000)

struct env {
	char *dir;
	struct db *db;
	struct outbox_mail mail;
	struct strbuf drafts, maildir, log, script;
	struct reply_list list;
	struct reply_lists lists;
};

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A fake sendmail: appends stdin and its arguments to a log, exits
 * with the code in <dir>/exit (0 if absent). */
static void make_script(struct env *e)
{
	struct strbuf s = STRBUF_INIT;

	strbuf_addf(&e->script, "%s/fake-sendmail", e->dir);
	strbuf_addf(&e->log, "%s/sendmail.log", e->dir);
	strbuf_addf(&s,
		    "#!/bin/sh\n"
		    "{ echo \"ARGS: $*\"; cat; echo \"END\"; } >> '%s'\n"
		    "if [ -f '%s/exit' ]; then exit $(cat '%s/exit'); fi\n"
		    "exit 0\n",
		    e->log.buf, e->dir, e->dir);
	write_file(e->script.buf, s.buf, 0700);
	strbuf_release(&s);
}

static int setup(void **state)
{
	struct env *e = xcalloc(1, sizeof(*e));
	struct strbuf p = STRBUF_INIT, err = STRBUF_INIT;

	e->dir = test_mkdtemp();
	strbuf_addf(&p, "%s/kreview.db", e->dir);
	assert_int_equal(db_open(&e->db, p.buf, &err), 0);
	strbuf_init(&e->drafts, 0);
	strbuf_init(&e->maildir, 0);
	strbuf_addf(&e->drafts, "%s/drafts", e->dir);
	strbuf_addf(&e->maildir, "%s/maildir", e->dir);
	make_script(e);
	e->mail.transport = OUTBOX_MAILDIR;
	e->mail.maildir = e->maildir.buf;
	e->mail.max_attempts = 3;
	e->mail.retry_base_ms = 60 * 1000;
	e->mail.retry_max_ms = HOUR;
	e->mail.sending_lease_ms = 15 * 60 * 1000;
	e->mail.timeout_ms = 10 * 1000;
	e->list.name = (char *)"io-uring";
	e->list.rate_limit = 0;
	e->lists.v = &e->list;
	e->lists.nr = 1;
	strbuf_release(&p);
	strbuf_release(&err);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	db_close(e->db);
	test_rmtree(e->dir);
	free(e->dir);
	strbuf_release(&e->drafts);
	strbuf_release(&e->maildir);
	strbuf_release(&e->log);
	strbuf_release(&e->script);
	config_strlist_release(&e->mail.sendmail);
	free(e);
	return 0;
}

static void make_mail(struct reply_mail *m, const char *irt,
		      enum reply_mode mode, int64_t not_before)
{
	struct strbuf id = STRBUF_INIT;

	memset(m, 0, sizeof(*m));
	reply_msgid_new(&id, "example.org");
	m->msgid = strbuf_detach(&id, NULL);
	m->in_reply_to = xstrdup(irt);
	m->subject = xstrdup("Re: [PATCH] x");
	m->env_from = xstrdup("kreview@example.org");
	m->rcpts = xcalloc(2, sizeof(char *));
	m->rcpts[0] = xstrdup("jane@example.com");
	m->rcpts[1] = xstrdup("io-uring@vger.kernel.org");
	m->rcpts_nr = 2;
	m->lists = xstrdup("io-uring");
	m->mode = mode;
	m->not_before_ms = not_before;
	strbuf_addf(&m->text,
		    "From: kreview <kreview@example.org>\n"
		    "To: jane@example.com\nCc: io-uring@vger.kernel.org\n"
		    "Subject: Re: [PATCH] x\nMessage-ID: <%s>\n"
		    "In-Reply-To: <%s>\n\n.leading dot\nbody\n",
		    m->msgid, irt);
}

static int64_t enqueue(struct env *e, const char *irt, enum reply_mode mode,
		       int64_t not_before)
{
	struct reply_mail m;
	struct strbuf err = STRBUF_INIT;
	int64_t id = 0;

	make_mail(&m, irt, mode, not_before);
	assert_int_equal(outbox_enqueue(&id, e->db, &m, 0, T0, &err), 0);
	assert_true(id > 0);
	reply_mail_release(&m);
	strbuf_release(&err);
	return id;
}

static void get(struct env *e, struct outbox_item *it, int64_t id)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(outbox_get(it, e->db, id, NULL, &err), 0);
	strbuf_release(&err);
}

static enum outbox_state state_of(struct env *e, int64_t id)
{
	struct outbox_item it;
	enum outbox_state s;

	get(e, &it, id);
	s = it.state;
	outbox_item_release(&it);
	return s;
}

static void deliver(struct env *e, struct outbox_report *rep, int64_t now,
		    bool crash)
{
	struct outbox_deliver_opts o = {
		.mail = &e->mail,
		.lists = &e->lists,
		.drafts = e->drafts.buf,
		.now_ms = now,
		.crash_after_handover = crash,
	};
	struct strbuf err = STRBUF_INIT;
	int r = outbox_deliver_due(rep, e->db, &o, &err);

	if (!crash && r < 0)
		fail_msg("deliver: %d %s", r, err.buf);
	if (crash)
		assert_true(r == 0 || r == -EINTR);
	strbuf_release(&err);
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;

	for (struct dirent *de; d && (de = readdir(d));)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_enqueue_states(void **state)
{
	struct env *e = *state;
	struct reply_mail m;
	struct strbuf err = STRBUF_INIT;
	int64_t id, id2 = 0;
	size_t counts[OUTBOX_STATE_MAX];

	id = enqueue(e, "p1@x", REPLY_MODE_SEND, T0);
	assert_int_equal(state_of(e, id), OUTBOX_PENDING);
	/* a second reply to the same message: refused, same row */
	make_mail(&m, "p1@x", REPLY_MODE_SEND, T0);
	assert_int_equal(outbox_enqueue(&id2, e->db, &m, 0, T0, &err),
			 -EEXIST);
	assert_int_equal(id2, id);
	m.mode = REPLY_MODE_OFF;
	free(m.in_reply_to);
	m.in_reply_to = xstrdup("other@x");
	assert_int_equal(outbox_enqueue(NULL, e->db, &m, 0, T0, &err),
			 -EINVAL);
	reply_mail_release(&m);
	assert_int_equal(state_of(e, enqueue(e, "p2@x", REPLY_MODE_OUTBOX, T0)),
			 OUTBOX_HELD);
	assert_int_equal(outbox_counts(counts, e->db, &err), 0);
	assert_int_equal(counts[OUTBOX_PENDING], 1);
	assert_int_equal(counts[OUTBOX_HELD], 1);
	/* the answer to a command mail is a row of its own kind */
	make_mail(&m, "cmd@x", REPLY_MODE_DRY_RUN, 0);
	m.kind = REPLY_KIND_COMMAND;
	assert_int_equal(outbox_enqueue(&id2, e->db, &m, 0, T0, &err), 0);
	reply_mail_release(&m);
	{
		struct outbox_item it;

		get(e, &it, id2);
		assert_string_equal(it.kind, "command");
		outbox_item_release(&it);
		get(e, &it, id);
		assert_string_equal(it.kind, "patch");
		outbox_item_release(&it);
	}
	strbuf_release(&err);
}

static void test_maildir_and_held(void **state)
{
	struct env *e = *state;
	struct outbox_report rep;
	struct outbox_item it;
	struct strbuf path = STRBUF_INIT, got = STRBUF_INIT, want = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct outbox_deliver_opts o = { .mail = &e->mail,
					 .drafts = e->drafts.buf,
					 .now_ms = T0 + 5000 };
	int64_t a = enqueue(e, "a@x", REPLY_MODE_SEND, T0);
	int64_t h = enqueue(e, "h@x", REPLY_MODE_OUTBOX, T0);

	deliver(e, &rep, T0 + 1000, false);
	assert_int_equal(rep.sent, 1);
	assert_int_equal(state_of(e, a), OUTBOX_SENT);
	assert_int_equal(state_of(e, h), OUTBOX_HELD);
	get(e, &it, a);
	assert_int_equal(it.date_ms, T0 + 1000);
	assert_int_equal(it.attempts, 1);
	assert_string_equal(it.transport, "maildir");
	/* the file is named after the Message-ID; content = the wire form */
	strbuf_addf(&path, "%s/new/%s", e->maildir.buf, it.msgid);
	assert_int_equal(strbuf_read_file(&got, path.buf, 0), 0);
	outbox_wire(&want, &it, 0, false);
	assert_string_equal(got.buf, want.buf);
	assert_true(!strncmp(got.buf, "Date: Mon, 3 Jun 2024 07:33:21 +0000\n",
			     37));
	outbox_item_release(&it);

	/* held until released by hand */
	assert_int_equal(outbox_send_now(e->db, h, &o, &err), 0);
	assert_int_equal(state_of(e, h), OUTBOX_SENT);
	assert_int_equal(outbox_send_now(e->db, h, &o, &err), -EBUSY);
	assert_int_equal(outbox_drop(e->db, h, T0, &err), -EBUSY);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/new", e->maildir.buf);
	assert_int_equal(count_files(path.buf), 2);
	strbuf_release(&path);
	strbuf_release(&got);
	strbuf_release(&want);
	strbuf_release(&err);
}

static void test_dry_run_drafts(void **state)
{
	struct env *e = *state;
	struct outbox_report rep;
	struct outbox_item it;
	struct strbuf path = STRBUF_INIT;
	/* embargo does not hold back drafts */
	int64_t d = enqueue(e, "d@x", REPLY_MODE_DRY_RUN, T0 + 24 * HOUR);

	e->mail.transport = OUTBOX_SMTP; /* never used for drafts */
	deliver(e, &rep, T0, false);
	assert_int_equal(rep.sent, 1);
	get(e, &it, d);
	assert_string_equal(it.transport, "drafts");
	strbuf_addf(&path, "%s/new", e->drafts.buf);
	assert_int_equal(count_files(path.buf), 1);
	outbox_item_release(&it);
	strbuf_release(&path);
}

/* Crash between hand-over and commit, maildir: exactly once. */
static void test_crash_maildir(void **state)
{
	struct env *e = *state;
	struct outbox_report rep = { 0 };
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct outbox_deliver_opts o = { .mail = &e->mail,
					 .drafts = e->drafts.buf,
					 .now_ms = T0 + 2000 };
	int64_t a = enqueue(e, "c@x", REPLY_MODE_SEND, T0);

	deliver(e, &rep, T0 + 1000, true);
	assert_int_equal(state_of(e, a), OUTBOX_SENDING);
	/* within the lease nothing happens */
	deliver(e, &rep, T0 + 2000, false);
	assert_int_equal(rep.sent + rep.recovered, 0);
	/* at start-up: the file is there, the row becomes sent */
	assert_int_equal(outbox_recover(&rep, e->db, &o, &err), 0);
	assert_int_equal(rep.recovered, 1);
	assert_int_equal(state_of(e, a), OUTBOX_SENT);
	strbuf_addf(&path, "%s/new", e->maildir.buf);
	assert_int_equal(count_files(path.buf), 1);
	strbuf_release(&path);
	strbuf_release(&err);
}

static size_t count_in_log(struct env *e, const char *needle)
{
	struct strbuf log = STRBUF_INIT;
	size_t n = 0;

	if (strbuf_read_file(&log, e->log.buf, 0) < 0)
		return 0;
	for (const char *p = log.buf; (p = strstr(p, needle)); p++)
		n++;
	strbuf_release(&log);
	return n;
}

/* Crash between hand-over and commit, sendmail: at-least-once with the
 * same Message-ID and the same bytes. */
static void test_crash_sendmail(void **state)
{
	struct env *e = *state;
	struct outbox_report rep = { 0 };
	struct outbox_item it;
	struct strbuf log = STRBUF_INIT, one = STRBUF_INIT;
	int64_t a;

	e->mail.transport = OUTBOX_SENDMAIL;
	e->mail.sendmail.v = xcalloc(1, sizeof(char *));
	e->mail.sendmail.v[0] = xstrdup(e->script.buf);
	e->mail.sendmail.nr = 1;
	a = enqueue(e, "s@x", REPLY_MODE_SEND, T0);
	deliver(e, &rep, T0, true);
	assert_int_equal(state_of(e, a), OUTBOX_SENDING);
	/* after the lease the row is due again */
	deliver(e, &rep, T0 + e->mail.sending_lease_ms, false);
	assert_int_equal(rep.sent, 1);
	assert_int_equal(state_of(e, a), OUTBOX_SENT);
	get(e, &it, a);
	assert_int_equal(it.attempts, 2);
	assert_int_equal(it.date_ms, T0); /* fixed at the first attempt */
	outbox_wire(&one, &it, 0, false);
	assert_int_equal(strbuf_read_file(&log, e->log.buf, 0), 0);
	/* two identical hand-overs, recipients appended after "--" */
	{
		struct strbuf twice = STRBUF_INIT;

		for (int i = 0; i < 2; i++)
			strbuf_addf(&twice,
				    "ARGS: -- jane@example.com "
				    "io-uring@vger.kernel.org\n%sEND\n",
				    one.buf);
		assert_string_equal(log.buf, twice.buf);
		strbuf_release(&twice);
	}
	assert_int_equal(count_in_log(e, it.msgid), 2);
	outbox_item_release(&it);
	strbuf_release(&log);
	strbuf_release(&one);
}

static void set_exit(struct env *e, const char *code)
{
	struct strbuf p = STRBUF_INIT;

	strbuf_addf(&p, "%s/exit", e->dir);
	if (code)
		write_file(p.buf, code, 0600);
	else
		unlink(p.buf);
	strbuf_release(&p);
}

static void test_retries(void **state)
{
	struct env *e = *state;
	struct outbox_report rep = { 0 };
	struct outbox_item it;
	struct strbuf err = STRBUF_INIT;
	struct outbox_deliver_opts o = { .mail = &e->mail,
					 .drafts = e->drafts.buf };
	int64_t a, b, next;

	e->mail.transport = OUTBOX_SENDMAIL;
	e->mail.sendmail.v = xcalloc(3, sizeof(char *));
	e->mail.sendmail.v[0] = xstrdup(e->script.buf);
	e->mail.sendmail.v[1] = xstrdup("-oi");
	e->mail.sendmail.v[2] = xstrdup("-t");
	e->mail.sendmail.nr = 3;
	set_exit(e, "75\n");
	a = enqueue(e, "r@x", REPLY_MODE_SEND, T0);
	deliver(e, &rep, T0, false);
	assert_int_equal(rep.retrying, 1);
	get(e, &it, a);
	assert_int_equal(it.state, OUTBOX_RETRYING);
	assert_non_null(strstr(it.last_error, "exited with 75"));
	/* 1 min plus up to a quarter of jitter */
	assert_true(it.next_try_ms >= T0 + 60000 &&
		    it.next_try_ms < T0 + 75000);
	next = it.next_try_ms;
	outbox_item_release(&it);
	deliver(e, &rep, next - 1, false);
	assert_int_equal(rep.retrying, 0); /* not due yet */
	deliver(e, &rep, next, false);
	get(e, &it, a);
	assert_int_equal(it.attempts, 2);
	assert_true(it.next_try_ms >= next + 120000 &&
		    it.next_try_ms < next + 150000);
	next = it.next_try_ms;
	outbox_item_release(&it);
	deliver(e, &rep, next, false);
	/* max_attempts = 3: dead */
	assert_int_equal(rep.dead, 1);
	get(e, &it, a);
	assert_int_equal(it.state, OUTBOX_DEAD);
	assert_non_null(strstr(it.last_error, "gave up after 3 attempts"));
	outbox_item_release(&it);
	/* an operator retries a dead mail: sent */
	set_exit(e, NULL);
	o.now_ms = next + 1;
	assert_int_equal(outbox_send_now(e->db, a, &o, &err), 0);
	assert_int_equal(state_of(e, a), OUTBOX_SENT);
	/* "-t": no recipients on the command line */
	assert_int_equal(count_in_log(e, "ARGS: -oi -t\n"), 4);

	/* a permanent failure is not retried */
	set_exit(e, "1\n");
	b = enqueue(e, "r2@x", REPLY_MODE_SEND, T0);
	deliver(e, &rep, next + 2, false);
	assert_int_equal(rep.dead, 1);
	assert_int_equal(state_of(e, b), OUTBOX_DEAD);
	assert_int_equal(outbox_drop(e->db, b, next, &err), 0);
	assert_int_equal(state_of(e, b), OUTBOX_DROPPED);
	strbuf_release(&err);
}

static void test_embargo_and_rate(void **state)
{
	struct env *e = *state;
	struct outbox_report rep = { 0 };
	int64_t a, b, c, due;
	struct strbuf err = STRBUF_INIT;

	a = enqueue(e, "e1@x", REPLY_MODE_SEND, T0 + 24 * HOUR);
	deliver(e, &rep, T0 + HOUR, false);
	assert_int_equal(rep.sent, 0);
	assert_int_equal(outbox_next_due(&due, e->db, &err), 0);
	assert_int_equal(due, T0 + 24 * HOUR);
	deliver(e, &rep, T0 + 24 * HOUR, false);
	assert_int_equal(rep.sent, 1);
	assert_int_equal(state_of(e, a), OUTBOX_SENT);

	/* one mail per hour for this list */
	e->list.rate_limit = 1;
	b = enqueue(e, "e2@x", REPLY_MODE_SEND, T0);
	c = enqueue(e, "e3@x", REPLY_MODE_DRY_RUN, T0);
	deliver(e, &rep, T0 + 24 * HOUR + 1000, false);
	assert_int_equal(rep.deferred, 1);
	assert_int_equal(state_of(e, b), OUTBOX_PENDING);
	assert_int_equal(state_of(e, c), OUTBOX_SENT); /* drafts: no limit */
	deliver(e, &rep, T0 + 25 * HOUR - 1, false);
	assert_int_equal(rep.sent, 0);
	deliver(e, &rep, T0 + 25 * HOUR, false);
	assert_int_equal(rep.sent, 1);
	assert_int_equal(state_of(e, b), OUTBOX_SENT);
	strbuf_release(&err);
}

/* Enqueue inside the caller's transaction: a rollback leaves nothing. */
static void test_enqueue_in_transaction(void **state)
{
	struct env *e = *state;
	struct reply_mail_list l = REPLY_MAIL_LIST_INIT;
	struct strbuf err = STRBUF_INIT;
	struct outbox_list ol = OUTBOX_LIST_INIT;
	size_t skipped = 9;

	l.v = xcalloc(2, sizeof(*l.v));
	make_mail(&l.v[0], "t1@x", REPLY_MODE_SEND, T0);
	make_mail(&l.v[1], "t2@x", REPLY_MODE_SEND, T0);
	l.nr = l.alloc = 2;
	assert_int_equal(db_begin(e->db, &err), 0);
	assert_int_equal(outbox_enqueue_all(&skipped, e->db, &l, 0, T0, &err),
			 0);
	db_rollback(e->db);
	assert_int_equal(outbox_list(&ol, e->db, OUTBOX_STATE_MAX, 0, &err),
			 0);
	assert_int_equal(ol.nr, 0);
	assert_int_equal(outbox_enqueue_all(&skipped, e->db, &l, 0, T0, &err),
			 0);
	assert_int_equal(skipped, 0);
	assert_int_equal(outbox_enqueue_all(&skipped, e->db, &l, 0, T0, &err),
			 0);
	assert_int_equal(skipped, 2);
	assert_int_equal(outbox_list(&ol, e->db, OUTBOX_PENDING, 0, &err), 0);
	assert_int_equal(ol.nr, 2);
	assert_string_equal(ol.v[0].in_reply_to, "t2@x");
	outbox_list_release(&ol);
	reply_mail_list_release(&l);
	strbuf_release(&err);
}

static void test_password(void **state)
{
	struct env *e = *state;
	struct strbuf pw = STRBUF_INIT, err = STRBUF_INIT, p = STRBUF_INIT;
	struct outbox_mail m = { 0 };

	(void)e;
	assert_int_equal(outbox_smtp_password(&pw, &m, &err), -ENOKEY);
	m.password_env = (char *)"KREVIEW_TEST_SMTP_PW";
	setenv("KREVIEW_TEST_SMTP_PW", "s3cret", 1);
	assert_int_equal(outbox_smtp_password(&pw, &m, &err), 0);
	assert_string_equal(pw.buf, "s3cret");
	m.password_env = NULL;
	strbuf_addf(&p, "%s/pw", e->dir);
	m.password_file = p.buf;
	write_file(p.buf, "filepw\n", 0644);
	assert_int_equal(outbox_smtp_password(&pw, &m, &err), -EPERM);
	chmod(p.buf, 0600);
	assert_int_equal(outbox_smtp_password(&pw, &m, &err), 0);
	assert_string_equal(pw.buf, "filepw");
	strbuf_release(&pw);
	strbuf_release(&err);
	strbuf_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enqueue_states, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_maildir_and_held, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_drafts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_maildir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_sendmail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_embargo_and_rate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_in_transaction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_password, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
