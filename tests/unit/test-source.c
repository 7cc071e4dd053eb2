/*
 * Tests for the mail sources: mbox splitting and cursors, maildir,
 * public-inbox epochs built here with libgit2, notmuch databases built
 * here with libnotmuch, and the real io_uring slice.
 */
#include "testutil.h"

#include "kreview/source.h"

#include <fcntl.h>
#include <git2.h>
#include <notmuch.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a run of source_next() gave: messages, and errors by kind. */
struct got {
	struct strbuf *msg;
	char **where;
	bool *deleted;
	size_t nr, alloc;
	size_t e2big, eproto;
	struct strbuf errs;
};

static void got_release(struct got *g)
{
	for (size_t i = 0; i < g->nr; i++) {
		strbuf_release(&g->msg[i]);
		free(g->where[i]);
	}
	free(g->msg);
	free(g->where);
	free(g->deleted);
	strbuf_release(&g->errs);
	memset(g, 0, sizeof(*g));
}

/* Read everything; fatal errors fail the test. */
static void drain(struct source *s, struct got *g)
{
	struct strbuf err = STRBUF_INIT;

	for (;;) {
		struct source_msg m = { 0 };
		int r;

		strbuf_reset(&err);
		r = source_next(s, &m, &err);
		if (!r)
			break;
		if (r == -E2BIG || r == -EPROTO) {
			assert_true(err.len > 0);
			strbuf_addbuf(&g->errs, &err);
			strbuf_addch(&g->errs, '\n');
			if (r == -E2BIG)
				g->e2big++;
			else
				g->eproto++;
			continue;
		}
		if (r < 0)
			fail_msg("source_next: %d %s", r, err.buf);
		assert_int_equal(r, 1);
		assert_non_null(m.where);
		if (g->nr == g->alloc) {
			g->alloc = g->alloc ? 2 * g->alloc : 16;
			g->msg = xrealloc(g->msg, g->alloc * sizeof(*g->msg));
			g->where = xrealloc(g->where,
					    g->alloc * sizeof(*g->where));
			g->deleted = xrealloc(g->deleted,
					      g->alloc * sizeof(*g->deleted));
		}
		strbuf_init(&g->msg[g->nr], 0);
		strbuf_add(&g->msg[g->nr], m.data, m.len);
		g->where[g->nr] = xstrdup(m.where);
		g->deleted[g->nr] = m.deleted;
		g->nr++;
	}
	/* The end is sticky. */
	assert_int_equal(source_next(s, &(struct source_msg){ 0 }, NULL), 0);
	strbuf_release(&err);
}

static struct source *open_ok(enum source_kind kind, const char *loc,
			      const char *query, const char *cursor)
{
	struct strbuf err = STRBUF_INIT;
	struct source *s = NULL;
	int r = source_open(&s, kind, loc, query, cursor, &err);

	if (r < 0)
		fail_msg("source_open '%s': %d %s", loc, r, err.buf);
	strbuf_release(&err);
	return s;
}

static void write_file(const char *path, const char *data, size_t len,
		       bool append)
{
	int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
		      0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static char *tmp_path(const char *dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s", dir, name);
	return strbuf_detach(&sb, NULL);
}

/* Split 'text' as an mbox file; the caller releases 'g'. */
static void split_text(struct got *g, const char *text, size_t len,
		       size_t cap)
{
	char *dir = test_mkdtemp();
	char *path = tmp_path(dir, "x.mbox");
	struct source *s;

	write_file(path, text, len, false);
	s = open_ok(SOURCE_MBOX, path, NULL, NULL);
	if (cap)
		source_set_max_message(s, cap);
	drain(s, g);
	source_free(s);
	test_rmtree(dir);
	free(path);
	free(dir);
}

/* ---- mbox ---- */

static const char mbox3[] =
	"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
	"From: a@example.org\n"
	"Subject: one\n"
	"\n"
	"From the start, this is not a separator.\n"
	">From here on it is escaped\n"
	">>From twice\n"
	"> From quoted, left alone\n"
	"From x 12:00:00 but no year\n"
	"\n"
	"From 1a2b3c4d5e Mon Sep 17 00:00:00 2001\n"
	"Subject: two\n"
	"\n"
	"body two\n"
	"\n"
	"From someone@host Tue Jan 2 16:11:49 +0000 2024\n"
	"Subject: three\n"
	"\n"
	"body three\n"
	"\n";

static void test_mbox_split(void **state)
{
	struct got g = { 0 };

	(void)state;
	split_text(&g, mbox3, strlen(mbox3), 0);
	assert_int_equal(g.nr, 3);
	assert_int_equal(g.eproto + g.e2big, 0);
	assert_string_equal(g.msg[0].buf,
			    "From: a@example.org\n"
			    "Subject: one\n"
			    "\n"
			    "From the start, this is not a separator.\n"
			    "From here on it is escaped\n"
			    ">From twice\n"
			    "> From quoted, left alone\n"
			    "From x 12:00:00 but no year\n");
	assert_string_equal(g.msg[1].buf, "Subject: two\n\nbody two\n");
	assert_string_equal(g.msg[2].buf, "Subject: three\n\nbody three\n");
	assert_non_null(strstr(g.where[0], "x.mbox: message 1 at line 1"));
	assert_non_null(strstr(g.where[1], ": message 2 at line 11"));
	assert_non_null(strstr(g.where[2], ": message 3 at line 16"));
	got_release(&g);
}

static void test_mbox_crlf(void **state)
{
	static const char text[] =
		"From mboxrd@z Thu Jan  1 00:00:00 1970\r\n"
		"Subject: a\r\n"
		"\r\n"
		">From x\r\n"
		"\r\n"
		"From mboxrd@z Thu Jan  1 00:00:00 1970\r\n"
		"Subject: b\r\n"
		"\r\n"
		"b\r\n";
	struct got g = { 0 };

	(void)state;
	split_text(&g, text, strlen(text), 0);
	assert_int_equal(g.nr, 2);
	assert_string_equal(g.msg[0].buf, "Subject: a\r\n\r\nFrom x\r\n");
	assert_string_equal(g.msg[1].buf, "Subject: b\r\n\r\nb\r\n");
	got_release(&g);
}

static void test_mbox_truncated_and_empty(void **state)
{
	static const char trunc[] =
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
		"Subject: a\n\na\n\n"
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
		"Subject: cut\n\nhalf a li";
	struct got g = { 0 };

	(void)state;
	split_text(&g, trunc, strlen(trunc), 0);
	assert_int_equal(g.nr, 2);
	assert_string_equal(g.msg[1].buf, "Subject: cut\n\nhalf a li");
	got_release(&g);

	split_text(&g, "", 0, 0);
	assert_int_equal(g.nr, 0);
	assert_int_equal(g.eproto, 0);
	got_release(&g);

	split_text(&g, "\n\n  \n", 5, 0);
	assert_int_equal(g.nr, 0);
	assert_int_equal(g.eproto, 0);
	got_release(&g);

	/* A "From " line and nothing else is an empty message. */
	split_text(&g, "From a Thu Jan  1 00:00:00 1970\n\n", 33, 0);
	assert_int_equal(g.nr, 0);
	assert_int_equal(g.eproto, 1);
	got_release(&g);
}

/* A message still being written is read again, whole, on the next run. */
static void test_mbox_cursor_growing(void **state)
{
	static const char part1[] =
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
		"Subject: a\n\na\n\n"
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
		"Subject: cut\n\nhalf a li";
	static const char part2[] =
		"ne\n\n"
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
		"Subject: next\n\nn\n\n";
	char *dir = test_mkdtemp();
	char *path = tmp_path(dir, "g.mbox");
	struct got g = { 0 };
	struct source *s;
	char *cur;

	(void)state;
	write_file(path, part1, strlen(part1), false);
	s = open_ok(SOURCE_MBOX, path, NULL, NULL);
	drain(s, &g);
	assert_int_equal(g.nr, 2);
	cur = xstrdup(source_cursor(s));
	source_free(s);
	got_release(&g);

	s = open_ok(SOURCE_MBOX, path, NULL, cur);
	assert_false(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 1);
	assert_string_equal(g.msg[0].buf, "Subject: cut\n\nhalf a li");
	assert_non_null(strstr(g.where[0], "message 2 at line 6"));
	source_free(s);
	got_release(&g);

	write_file(path, part2, strlen(part2), true);
	s = open_ok(SOURCE_MBOX, path, NULL, cur);
	assert_false(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 2);
	assert_string_equal(g.msg[0].buf, "Subject: cut\n\nhalf a line\n");
	assert_string_equal(g.msg[1].buf, "Subject: next\n\nn\n");
	free(cur);
	cur = xstrdup(source_cursor(s));
	source_free(s);
	got_release(&g);

	/* Closed by its blank line: nothing more to read. */
	s = open_ok(SOURCE_MBOX, path, NULL, cur);
	drain(s, &g);
	assert_int_equal(g.nr, 0);
	source_free(s);

	free(cur);
	test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_mbox_bare_and_junk(void **state)
{
	static const char bare[] = "Subject: saved mail\n\nbody\n";
	static const char junk[] =
		"this is not mail\nat all\n"
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
		"Subject: real\n\nx\n";
	struct got g = { 0 };

	(void)state;
	split_text(&g, bare, strlen(bare), 0);
	assert_int_equal(g.nr, 1);
	assert_string_equal(g.msg[0].buf, bare);
	got_release(&g);

	split_text(&g, junk, strlen(junk), 0);
	assert_int_equal(g.nr, 1);
	assert_int_equal(g.eproto, 1);
	assert_non_null(strstr(g.errs.buf, "not an mbox"));
	assert_string_equal(g.msg[0].buf, "Subject: real\n\nx\n");
	got_release(&g);
}

static void test_mbox_cap(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct got g = { 0 };

	(void)state;
	strbuf_addstr(&text, "From a Thu Jan  1 00:00:00 1970\nSubject: s\n\n"
			     "small\n\n");
	strbuf_addstr(&text, "From a Thu Jan  1 00:00:00 1970\nSubject: big\n\n");
	for (int i = 0; i < 20; i++)
		strbuf_addstr(&text, "0123456789\n");
	strbuf_addstr(&text, "\nFrom a Thu Jan  1 00:00:00 1970\nSubject: t\n\n"
			     "small\n");
	split_text(&g, text.buf, text.len, 100);
	assert_int_equal(g.nr, 2);
	assert_int_equal(g.e2big, 1);
	assert_non_null(strstr(g.errs.buf, "message 2 at line 6"));
	assert_non_null(strstr(g.errs.buf, "larger than 100 bytes"));
	assert_string_equal(g.msg[1].buf, "Subject: t\n\nsmall\n");
	got_release(&g);
	strbuf_release(&text);
}

static void test_mbox_long_line(void **state)
{
	struct strbuf text = STRBUF_INIT;
	size_t n = 3u << 20;
	struct got g = { 0 };

	(void)state;
	/* A line three times the read window, then ">From " across it. */
	strbuf_addstr(&text, "From a Thu Jan  1 00:00:00 1970\nSubject: s\n\n");
	for (size_t i = 0; i < n; i++)
		strbuf_addch(&text, i % 1000 ? 'x' : '>');
	strbuf_addstr(&text, "\n\nFrom a Thu Jan  1 00:00:00 1970\nSubject: t\n"
			     "\n>From x\n");
	split_text(&g, text.buf, text.len, 0);
	assert_int_equal(g.nr, 2);
	assert_int_equal(g.msg[0].len, strlen("Subject: s\n\n") + n + 1);
	assert_string_equal(g.msg[1].buf, "Subject: t\n\nFrom x\n");
	got_release(&g);
	strbuf_release(&text);
}

static void test_mbox_stdin(void **state)
{
	char *dir = test_mkdtemp();
	char *path = tmp_path(dir, "in.mbox");
	struct got g = { 0 };
	struct source *s;
	int saved = dup(0), fd;

	(void)state;
	write_file(path, mbox3, strlen(mbox3), false);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 0);
	close(fd);
	s = open_ok(SOURCE_MBOX, "-", NULL, "v1:0:0:1:0000000000000000");
	assert_null(source_key(s));
	assert_true(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 3);
	assert_null(source_cursor(s));
	assert_non_null(strstr(g.where[2], "<stdin>: message 3"));
	source_free(s);
	dup2(saved, 0);
	close(saved);
	got_release(&g);
	test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_mbox_cursor(void **state)
{
	static const char more[] =
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
		"Subject: four\n\nfour\n\n"
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
		"Subject: five\n\nfive\n\n";
	char *dir = test_mkdtemp();
	char *path = tmp_path(dir, "c.mbox");
	struct got g = { 0 };
	struct source *s;
	struct source_msg m;
	char *cur, *mid;

	(void)state;
	write_file(path, mbox3, strlen(mbox3), false);
	s = open_ok(SOURCE_MBOX, path, NULL, NULL);
	assert_non_null(source_key(s));
	assert_true(!strncmp(source_key(s), "mbox:/", 6));
	assert_non_null(source_cursor(s));
	/* One message in: the cursor points at the second. */
	assert_int_equal(source_next(s, &m, NULL), 1);
	mid = xstrdup(source_cursor(s));
	drain(s, &g);
	assert_int_equal(g.nr, 2);
	cur = xstrdup(source_cursor(s));
	source_free(s);
	got_release(&g);

	/* Resuming in the middle gives exactly the rest. */
	s = open_ok(SOURCE_MBOX, path, NULL, mid);
	assert_false(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 2);
	assert_string_equal(g.msg[0].buf, "Subject: two\n\nbody two\n");
	assert_string_equal(source_cursor(s), cur);
	source_free(s);
	got_release(&g);

	/* Nothing new: nothing read, same cursor. */
	s = open_ok(SOURCE_MBOX, path, NULL, cur);
	drain(s, &g);
	assert_int_equal(g.nr, 0);
	assert_false(source_restarted(s));
	assert_string_equal(source_cursor(s), cur);
	source_free(s);

	/* Appended mail: only the new messages, positions still count. */
	write_file(path, more, strlen(more), true);
	s = open_ok(SOURCE_MBOX, path, NULL, cur);
	drain(s, &g);
	assert_false(source_restarted(s));
	assert_int_equal(g.nr, 2);
	assert_string_equal(g.msg[0].buf, "Subject: four\n\nfour\n");
	assert_string_equal(g.msg[1].buf, "Subject: five\n\nfive\n");
	assert_non_null(strstr(g.where[0], "message 4 at line 21"));
	source_free(s);
	got_release(&g);

	/* Rewritten (same length, other bytes): restart from the top. */
	{
		struct strbuf t = STRBUF_INIT;

		strbuf_addstr(&t, mbox3);
		strbuf_addstr(&t, more);
		t.buf[strlen(mbox3) - 5] = 'X'; /* "body thXee" */
		write_file(path, t.buf, t.len, false);
		strbuf_release(&t);
	}
	s = open_ok(SOURCE_MBOX, path, NULL, cur);
	assert_true(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 5);
	source_free(s);
	got_release(&g);

	/* Truncated below the cursor, or a garbage cursor: restart. */
	write_file(path, mbox3, 40, false);
	s = open_ok(SOURCE_MBOX, path, NULL, cur);
	assert_true(source_restarted(s));
	source_free(s);
	s = open_ok(SOURCE_MBOX, path, NULL, "v1:12:x");
	assert_true(source_restarted(s));
	source_free(s);
	s = open_ok(SOURCE_MBOX, path, NULL, NULL);
	assert_false(source_restarted(s));
	source_free(s);

	free(cur);
	free(mid);
	test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_mbox_errors(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct source *s = NULL;
	char *dir = test_mkdtemp();

	(void)state;
	assert_int_equal(source_open(&s, SOURCE_MBOX, "/nonexistent/x.mbox",
				     NULL, NULL, &err),
			 -ENOENT);
	assert_non_null(strstr(err.buf, "/nonexistent/x.mbox"));
	assert_null(s);
	strbuf_reset(&err);
	assert_int_equal(source_open(&s, SOURCE_MBOX, dir, NULL, NULL, &err),
			 -EISDIR);
	strbuf_reset(&err);
	assert_int_equal(source_open(&s, SOURCE_MBOX, dir, "tag:x", NULL,
				     &err),
			 -EINVAL);
	strbuf_release(&err);
	test_rmtree(dir);
	free(dir);
}

/* Header lines and folded continuations, up to the blank line. */
static bool starts_with_header(const struct strbuf *m)
{
	size_t i = 0;

	while (i < m->len && m->buf[i] > ' ' && m->buf[i] < 127 &&
	       m->buf[i] != ':')
		i++;
	return i > 0 && i < m->len && m->buf[i] == ':';
}

static void test_mbox_real_slice(void **state)
{
	struct strbuf cmd = STRBUF_INIT;
	char *dir = test_mkdtemp();
	char *path = tmp_path(dir, "io-uring.mbox");
	struct got g = { 0 };
	struct source *s;
	char *cur;
	size_t with_escape = 0;

	(void)state;
	strbuf_addf(&cmd, "xz -dc '%s/data/io-uring-2024H1.mbox.xz' > '%s'",
		    KREVIEW_SHARED_DIR, path);
	if (system(cmd.buf) != 0)
		fail_msg("cannot decompress the io_uring slice: %s", cmd.buf);
	s = open_ok(SOURCE_MBOX, path, NULL, NULL);
	drain(s, &g);
	assert_int_equal(g.nr, 2026);
	assert_int_equal(g.e2big + g.eproto, 0);
	for (size_t i = 0; i < g.nr; i++) {
		if (!starts_with_header(&g.msg[i]))
			fail_msg("%s does not start with a header line",
				 g.where[i]);
		assert_null(strstr(g.msg[i].buf, "\n>From "));
		with_escape += strstr(g.msg[i].buf, "\nFrom ") != NULL;
	}
	/* The slice has 7 ">From " escapes in message bodies. */
	assert_true(with_escape >= 1);
	cur = xstrdup(source_cursor(s));
	source_free(s);
	got_release(&g);

	s = open_ok(SOURCE_MBOX, path, NULL, cur);
	assert_false(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 0);
	source_free(s);
	got_release(&g);

	free(cur);
	strbuf_release(&cmd);
	test_rmtree(dir);
	free(path);
	free(dir);
}

/* ---- maildir ---- */

static void test_maildir(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf p = STRBUF_INIT, err = STRBUF_INIT;
	const char *sub[] = { "cur", "new", "tmp" };
	struct got g = { 0 };
	struct source *s = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, sub[i]);
		assert_int_equal(mkdir(p.buf, 0700), 0);
	}
#define PUT(name, text)                                                   \
	do {                                                              \
		strbuf_reset(&p);                                         \
		strbuf_addf(&p, "%s/%s", dir, name);                      \
		write_file(p.buf, text, strlen(text), false);             \
	} while (0)
	PUT("new/3.b.host", "Subject: c\n\nc\n");
	PUT("cur/1.a.host:2,S", "Subject: a\n\na\n");
	PUT("new/2.a.host", "Subject: b\n\nb\n");
	PUT("tmp/0.partial", "Subject: no\n\n");
	PUT("new/.hidden", "Subject: no\n\n");
#undef PUT
	s = open_ok(SOURCE_MAILDIR, dir, NULL, "ignored");
	assert_null(source_cursor(s));
	assert_non_null(source_key(s));
	drain(s, &g);
	assert_int_equal(g.nr, 3);
	assert_string_equal(g.msg[0].buf, "Subject: a\n\na\n");
	assert_string_equal(g.msg[1].buf, "Subject: b\n\nb\n");
	assert_string_equal(g.msg[2].buf, "Subject: c\n\nc\n");
	assert_non_null(strstr(g.where[0], "/cur/1.a.host:2,S"));
	assert_non_null(strstr(g.where[2], "/new/3.b.host"));
	source_free(s);
	got_release(&g);

	/* Not a maildir: a clear error naming it. */
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/cur", dir);
	s = NULL;
	assert_int_equal(source_open(&s, SOURCE_MAILDIR, p.buf, NULL, NULL,
				     &err),
			 -ENOTDIR);
	assert_non_null(strstr(err.buf, "is not a maildir"));
	assert_non_null(strstr(err.buf, p.buf));
	strbuf_reset(&err);
	assert_int_equal(source_open(&s, SOURCE_MAILDIR, "/nonexistent/md",
				     NULL, NULL, &err),
			 -ENOENT);
	assert_null(s);
	strbuf_release(&err);
	strbuf_release(&p);
	test_rmtree(dir);
	free(dir);
}

/* ---- public-inbox epochs ---- */

static void epoch_commit(git_repository *repo, const char *ref,
			 const char *name, const char *text, int when)
{
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_oid blob, tree_oid, oid, pid;
	const git_commit *parents[1];

	assert_int_equal(git_blob_create_from_buffer(&blob, repo, text,
						     strlen(text)),
			 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, name, &blob,
						GIT_FILEMODE_BLOB),
			 0);
	assert_int_equal(git_treebuilder_write(&tree_oid, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tree_oid), 0);
	assert_int_equal(git_signature_new(&sig, "t", "t@example.org",
					   1700000000 + when, 0),
			 0);
	if (!git_reference_name_to_id(&pid, repo, ref))
		assert_int_equal(git_commit_lookup(&parent, repo, &pid), 0);
	parents[0] = parent;
	assert_int_equal(git_commit_create(&oid, repo, ref, sig, sig, NULL,
					   "subject\n", tree, parent ? 1 : 0,
					   parents),
			 0);
	git_commit_free(parent);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
}

static void test_inbox(void **state)
{
	char *dir = test_mkdtemp();
	char *path = tmp_path(dir, "0.git");
	struct strbuf err = STRBUF_INIT;
	git_repository *repo = NULL;
	struct got g = { 0 };
	struct source *s = NULL;
	char *cur;

	(void)state;
	git_libgit2_init();
	assert_int_equal(git_repository_init(&repo, path, 1), 0);

	/* An empty epoch has nothing and no cursor. */
	s = open_ok(SOURCE_INBOX, path, NULL, NULL);
	drain(s, &g);
	assert_int_equal(g.nr, 0);
	assert_null(source_cursor(s));
	source_free(s);

	epoch_commit(repo, "refs/heads/master", "m", "Subject: 1\n\n1\n", 1);
	epoch_commit(repo, "refs/heads/master", "m", "Subject: 2\n\n2\n", 2);
	epoch_commit(repo, "refs/heads/master", "m", "Subject: 3\n\n3\n", 3);
	s = open_ok(SOURCE_INBOX, path, NULL, NULL);
	assert_true(!strncmp(source_key(s), "inbox:/", 7));
	drain(s, &g);
	assert_int_equal(g.nr, 3);
	assert_string_equal(g.msg[0].buf, "Subject: 1\n\n1\n");
	assert_string_equal(g.msg[2].buf, "Subject: 3\n\n3\n");
	assert_false(g.deleted[0]);
	assert_non_null(strstr(g.where[0], "0.git: commit "));
	assert_int_equal(strlen(strstr(g.where[0], "commit ") + 7), 12);
	cur = xstrdup(source_cursor(s));
	assert_int_equal(strlen(cur), 40);
	source_free(s);
	got_release(&g);

	/* Resume: exactly the new commits, in order, and a "d" one. */
	epoch_commit(repo, "refs/heads/master", "m", "Subject: 4\n\n4\n", 4);
	epoch_commit(repo, "refs/heads/master", "d", "Subject: 2\n\n2\n", 5);
	epoch_commit(repo, "refs/heads/master", "x", "junk", 6);
	epoch_commit(repo, "refs/heads/master", "m", "Subject: 5\n\n5\n", 7);
	s = open_ok(SOURCE_INBOX, path, NULL, cur);
	assert_false(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 3);
	assert_int_equal(g.eproto, 1);
	assert_non_null(strstr(g.errs.buf, "no \"m\" or \"d\" blob"));
	assert_string_equal(g.msg[0].buf, "Subject: 4\n\n4\n");
	assert_string_equal(g.msg[1].buf, "Subject: 2\n\n2\n");
	assert_true(g.deleted[1]);
	assert_string_equal(g.msg[2].buf, "Subject: 5\n\n5\n");
	free(cur);
	cur = xstrdup(source_cursor(s));
	source_free(s);
	got_release(&g);

	/* Up to date: nothing. */
	s = open_ok(SOURCE_INBOX, path, NULL, cur);
	drain(s, &g);
	assert_int_equal(g.nr, 0);
	assert_string_equal(source_cursor(s), cur);
	source_free(s);

	/* The cap applies to blobs. */
	s = open_ok(SOURCE_INBOX, path, NULL, NULL);
	source_set_max_message(s, 10);
	drain(s, &g);
	assert_int_equal(g.nr, 0);
	assert_int_equal(g.e2big, 6);
	source_free(s);
	got_release(&g);

	/* Rewritten history: a new master not descending from the cursor. */
	{
		git_reference *ref = NULL;

		assert_int_equal(git_reference_lookup(&ref, repo,
						      "refs/heads/master"),
				 0);
		assert_int_equal(git_reference_delete(ref), 0);
		git_reference_free(ref);
	}
	epoch_commit(repo, "refs/heads/master", "m", "Subject: 1\n\n1\n", 11);
	epoch_commit(repo, "refs/heads/master", "m", "Subject: 3\n\n3\n", 13);
	s = open_ok(SOURCE_INBOX, path, NULL, cur);
	assert_true(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 2);
	assert_string_equal(g.msg[1].buf, "Subject: 3\n\n3\n");
	source_free(s);
	got_release(&g);

	/* An unknown or malformed cursor also rewalks. */
	s = open_ok(SOURCE_INBOX, path, NULL,
		    "0123456789012345678901234567890123456789");
	assert_true(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 2);
	source_free(s);
	got_release(&g);
	s = open_ok(SOURCE_INBOX, path, NULL, "zz");
	assert_true(source_restarted(s));
	source_free(s);

	/* Not a repository. */
	s = NULL;
	assert_true(source_open(&s, SOURCE_INBOX, dir, NULL, NULL, &err) < 0);
	assert_non_null(strstr(err.buf, "cannot open public-inbox epoch"));
	assert_null(s);

	free(cur);
	strbuf_release(&err);
	git_repository_free(repo);
	git_libgit2_shutdown();
	test_rmtree(dir);
	free(path);
	free(dir);
}

/* ---- notmuch ---- */

static void nm_add(const char *root, const char *name, const char *text,
		   bool create)
{
	char *path = tmp_path(root, name);
	notmuch_database_t *db = NULL;
	notmuch_status_t st;
	char *msg = NULL;

	write_file(path, text, strlen(text), false);
	if (create)
		st = notmuch_database_create_with_config(root, "", NULL, &db,
							 &msg);
	else
		st = notmuch_database_open_with_config(
			root, NOTMUCH_DATABASE_MODE_READ_WRITE, "", NULL, &db,
			&msg);
	if (st)
		fail_msg("notmuch open: %s", msg ? msg : "?");
	st = notmuch_database_index_file(db, path, NULL, NULL);
	assert_int_equal(st, NOTMUCH_STATUS_SUCCESS);
	assert_int_equal(notmuch_database_close(db), NOTMUCH_STATUS_SUCCESS);
	notmuch_database_destroy(db);
	free(path);
}

#define NM_MSG(id, date, subj)                                            \
	"From: a@example.org\nMessage-ID: <" id ">\nDate: " date              \
	"\nSubject: " subj "\n\nbody " id "\n"

static void test_notmuch(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf err = STRBUF_INIT;
	struct got g = { 0 };
	struct source *s = NULL;
	char *cur;

	(void)state;
	nm_add(dir, "b", NM_MSG("b@x", "Tue, 2 Jan 2024 10:00:00 +0000",
				"[PATCH] two"),
	       true);
	nm_add(dir, "a", NM_MSG("a@x", "Mon, 1 Jan 2024 10:00:00 +0000",
				"[PATCH] one"),
	       false);
	nm_add(dir, "c", NM_MSG("c@x", "Wed, 3 Jan 2024 10:00:00 +0000",
				"other"),
	       false);

	/* Oldest first, whatever the indexing order. */
	s = open_ok(SOURCE_NOTMUCH, dir, NULL, NULL);
	assert_true(!strncmp(source_key(s), "notmuch:/", 9));
	assert_non_null(strstr(source_key(s), "?*"));
	drain(s, &g);
	assert_int_equal(g.nr, 3);
	assert_non_null(strstr(g.msg[0].buf, "body a@x"));
	assert_non_null(strstr(g.msg[1].buf, "body b@x"));
	assert_non_null(strstr(g.msg[2].buf, "body c@x"));
	assert_non_null(strstr(g.where[0], "id:a@x"));
	source_free(s);
	got_release(&g);

	/* A query, and the cursor only once everything is out. */
	s = open_ok(SOURCE_NOTMUCH, dir, "subject:PATCH", NULL);
	assert_null(source_cursor(s));
	{
		struct source_msg m;

		assert_int_equal(source_next(s, &m, NULL), 1);
		assert_null(source_cursor(s));
	}
	drain(s, &g);
	assert_int_equal(g.nr, 1);
	assert_non_null(strstr(g.msg[0].buf, "body b@x"));
	cur = xstrdup(source_cursor(s));
	assert_non_null(strchr(cur, ':'));
	source_free(s);
	got_release(&g);

	/* Nothing new. */
	s = open_ok(SOURCE_NOTMUCH, dir, "subject:PATCH", cur);
	assert_false(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 0);
	assert_string_equal(source_cursor(s), cur);
	source_free(s);

	/* New mail: only what matches and changed since the cursor. */
	nm_add(dir, "d", NM_MSG("d@x", "Sun, 31 Dec 2023 10:00:00 +0000",
				"[PATCH] zero"),
	       false);
	nm_add(dir, "e", NM_MSG("e@x", "Thu, 4 Jan 2024 10:00:00 +0000",
				"unrelated"),
	       false);
	s = open_ok(SOURCE_NOTMUCH, dir, "subject:PATCH", cur);
	assert_false(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 1);
	assert_non_null(strstr(g.msg[0].buf, "body d@x"));
	assert_string_not_equal(source_cursor(s), cur);
	source_free(s);
	got_release(&g);

	/* A cursor of another database (other uuid): start over. */
	s = open_ok(SOURCE_NOTMUCH, dir, "subject:PATCH",
		    "00000000-0000-0000-0000-000000000000:1");
	assert_true(source_restarted(s));
	drain(s, &g);
	assert_int_equal(g.nr, 3);
	source_free(s);
	got_release(&g);

	/* A stale index: the file is gone, a per-message error. */
	{
		char *p = tmp_path(dir, "e");

		unlink(p);
		free(p);
	}
	s = open_ok(SOURCE_NOTMUCH, dir, "*", NULL);
	drain(s, &g);
	assert_int_equal(g.nr, 4);
	assert_int_equal(g.eproto, 1);
	assert_non_null(strstr(g.errs.buf, "id:e@x"));
	source_free(s);
	got_release(&g);

	/* Errors: bad query syntax, no database. */
	s = NULL;
	assert_int_equal(source_open(&s, SOURCE_NOTMUCH, dir, "a AND", NULL,
				     &err),
			 -EINVAL);
	assert_non_null(strstr(err.buf, "'a AND'"));
	assert_null(s);
	strbuf_reset(&err);
	assert_true(source_open(&s, SOURCE_NOTMUCH, "/nonexistent/nm", NULL,
				NULL, &err) < 0);
	assert_non_null(strstr(err.buf, "/nonexistent/nm"));

	free(cur);
	strbuf_release(&err);
	test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mbox_split),
		cmocka_unit_test(test_mbox_crlf),
		cmocka_unit_test(test_mbox_truncated_and_empty),
		cmocka_unit_test(test_mbox_cursor_growing),
		cmocka_unit_test(test_mbox_bare_and_junk),
		cmocka_unit_test(test_mbox_cap),
		cmocka_unit_test(test_mbox_long_line),
		cmocka_unit_test(test_mbox_stdin),
		cmocka_unit_test(test_mbox_cursor),
		cmocka_unit_test(test_mbox_errors),
		cmocka_unit_test(test_mbox_real_slice),
		cmocka_unit_test(test_maildir),
		cmocka_unit_test(test_inbox),
		cmocka_unit_test(test_notmuch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
