#include "testutil.h"
#include "kreview/body.h"
#include "kreview/subject.h"

#include <ctype.h>

static void test_has_diff(void **state)
{
	static const struct {
		const char *body;
		bool diff, diffstat;
	} cases[] = {
		{ "hello\n", false, false },
		{ "x\n---\n+++ b/x\n", true, false },
		{ "---\n+++\n", true, false },
		{ "--- a/x\n\n+++ b/x\n", false, false },
		{ "> --- a/x\n> +++ b/x\n", false, false },
		{ "diff --git a/x b/x\n", true, false },
		{ "DIFF --GIT a/x b/x\n", true, false },
		{ "diff --git a/x\n", false, false },
		{ "diff --git a/ b/x\n", false, false },
		{ "diff --git x y\n", false, false },
		{ "diff --git i/x w/x\n", true, false },
		{ "> diff --git a/x b/x\n", false, false },
		{ "  diff --git a/x b/x\n", false, false },
		{ "GIT binary patch\n", true, false },
		{ "> GIT binary patch\n", false, false },
		{ " 1 file changed, 2 insertions(+)\n", false, true },
		{ " 3 files changed, 1 deletion(-)\n", false, true },
		{ " 1 file changed\n", false, false },
		{ "> 1 file changed, 2 insertions(+)\n", false, false },
		{ "\t12 Files Changed, 7 Insertions(+), 1 deletion(-)", false,
		  true },
		{ "1 file, 2 insertion", false, true },
		{ "", false, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *b = cases[i].body;

		if (body_has_diff(b, strlen(b)) != cases[i].diff)
			fail_msg("has_diff('%s') != %d", b, cases[i].diff);
		if (body_has_diffstat(b, strlen(b)) != cases[i].diffstat)
			fail_msg("has_diffstat('%s') != %d", b,
				 cases[i].diffstat);
	}
	/* The length bounds the scan: no reading past it. */
	assert_false(body_has_diff("diff --git a/x b/x", 10));
	assert_false(body_has_diff("---\n+++", 4));
}

static void test_find_line(void **state)
{
	const char *b = "x\n> base-commit: no\nbase-commit:  abc123 \r\n"
			"change-id: 20240101-foo-1234\n";
	char *v;

	(void)state;
	v = body_find_line(b, strlen(b), "base-commit:");
	assert_string_equal(v, "abc123");
	free(v);
	v = body_find_line(b, strlen(b), "change-id:");
	assert_string_equal(v, "20240101-foo-1234");
	free(v);
	assert_null(body_find_line(b, strlen(b), "prerequisite-patch-id:"));
	assert_null(body_find_line(b, 5, "base-commit:"));
}

static const char patch_body[] =
	"The foo is broken when bar happens: fix it.\n"
	"\n"
	"Fixes: 0123456789ab (\"io_uring: add foo\n"
	"support\")\n"
	"Cc: stable@vger.kernel.org # 6.1+\n"
	"Signed-off-by: A U Thor <author@example.com>\n"
	"---\n"
	"v2: reworded\n"
	"\n"
	" io_uring/foo.c | 3 ++-\n"
	" 1 file changed, 2 insertions(+), 1 deletion(-)\n"
	"\n"
	"diff --git a/io_uring/foo.c b/io_uring/foo.c\n"
	"index 1234567..89abcde 100644\n"
	"--- a/io_uring/foo.c\n"
	"+++ b/io_uring/foo.c\n"
	"@@ -10,5 +10,5 @@ static int foo(void)\n"
	" {\n"
	"--- x;\n"
	"-- y;\n"
	"+++ x;\n"
	"+ z;\n"
	"\n"
	"\n"
	"base-commit: 0123456789abcdef0123456789abcdef01234567\n"
	"prerequisite-patch-id: fedcba9876543210fedcba9876543210fedcba98\n"
	"-- \n"
	"2.43.0\n"
	"\n";

static void test_split_patch(void **state)
{
	struct body b = BODY_INIT;
	struct strbuf err = STRBUF_INIT;
	const struct diff_hunk *h;

	(void)state;
	assert_int_equal(body_split(&b, patch_body, strlen(patch_body), &err),
			 0);
	assert_string_equal(b.message,
			    "The foo is broken when bar happens: fix it.");
	assert_int_equal(b.trailers.nr, 3);
	assert_string_equal(b.trailers.items[0].name, "Fixes");
	assert_string_equal(b.trailers.items[0].value,
			    "0123456789ab (\"io_uring: add foo support\")");
	assert_string_equal(b.trailers.items[1].value,
			    "stable@vger.kernel.org");
	assert_string_equal(b.trailers.items[1].extinfo, "# 6.1+");
	assert_string_equal(trailer_get(&b.trailers, "signed-off-by"),
			    "A U Thor <author@example.com>");
	assert_non_null(b.notes);
	assert_true(!strncmp(b.notes, "v2: reworded\n\n io_uring/foo.c", 29));
	assert_string_equal(b.diffstat,
			    " io_uring/foo.c | 3 ++-\n"
			    " 1 file changed, 2 insertions(+), 1 deletion(-)");
	assert_int_equal(b.diff_offset,
			 strstr(patch_body, "diff --git") - patch_body);
	/* The "-- y;" line is a removed line, the diff ends after the hunk
	 * and its two empty context lines. */
	assert_true(strstr(b.diff, "-- y;\n") != NULL);
	assert_true(strstr(b.diff, "base-commit") == NULL);
	assert_int_equal(b.parsed.files_nr, 1);
	h = &b.parsed.files[0].hunks[0];
	assert_int_equal(h->added, 2);
	assert_int_equal(h->removed, 2);
	assert_string_equal(h->section, "static int foo(void)");
	assert_string_equal(b.base_commit,
			    "0123456789abcdef0123456789abcdef01234567");
	assert_null(b.change_id);
	assert_int_equal(b.prerequisites_nr, 1);
	assert_string_equal(b.prerequisites[0],
			    "prerequisite-patch-id: "
			    "fedcba9876543210fedcba9876543210fedcba98");
	assert_string_equal(b.signature, "2.43.0");
	body_release(&b);
	body_release(&b);
	strbuf_release(&err);
}

static void test_split_cover(void **state)
{
	static const char cover[] =
		"Hi,\n\nThis series does things.\n\n"
		"Jens Axboe (2):\n      io_uring: a\n      io_uring: b\n\n"
		" io_uring/a.c | 1 +\n io_uring/b.c | 1 -\n"
		" 2 files changed, 1 insertion(+), 1 deletion(-)\n\n"
		"---\nbase-commit: abc\nchange-id: 20240101-x-y\n\n"
		"Best regards,\n-- \nJens Axboe <axboe@kernel.dk>\n";
	struct body b = BODY_INIT;

	(void)state;
	assert_int_equal(body_split(&b, cover, strlen(cover), NULL), 0);
	assert_true(body_has_diffstat(cover, strlen(cover)));
	assert_false(body_has_diff(cover, strlen(cover)));
	assert_true(!strncmp(b.message, "Hi,\n\nThis series", 16));
	assert_int_equal(b.trailers.nr, 0);
	assert_null(b.diff);
	assert_int_equal(b.parsed.files_nr, 0);
	assert_string_equal(b.base_commit, "abc");
	assert_string_equal(b.change_id, "20240101-x-y");
	assert_string_equal(b.signature, "Jens Axboe <axboe@kernel.dk>");
	assert_non_null(b.notes);
	body_release(&b);
}

static void test_split_plain_and_bad(void **state)
{
	static const char plain[] =
		"Subject line body\n\nSigned-off-by: X <x@y.z>\n\n"
		"diff -urN a/foo b/foo\n--- a/foo\t2024-01-01\n"
		"+++ b/foo\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\n";
	static const char bad[] =
		"msg\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n"
		"@@ -1,3 +1,3 @@\n a\n-b\n+c\n-- \n2.40\n";
	struct body b = BODY_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(body_split(&b, plain, strlen(plain), NULL), 0);
	assert_string_equal(b.message, "Subject line body");
	assert_int_equal(b.trailers.nr, 1);
	assert_int_equal(b.parsed.files_nr, 1);
	assert_string_equal(b.parsed.files[0].new_path, "foo");
	assert_true(!strncmp(b.diff, "diff -urN", 9));
	assert_null(b.notes);

	assert_int_equal(body_split(&b, bad, strlen(bad), &err), -EPROTO);
	assert_string_equal(b.message, "msg");
	assert_non_null(b.diff);
	assert_string_equal(b.signature, "2.40");
	assert_int_equal(b.parsed.files_nr, 0);
	print_message("error: %s\n", err.buf);
	assert_non_null(strstr(err.buf, "line 3"));
	assert_non_null(strstr(err.buf, "cut short"));
	body_release(&b);
	strbuf_release(&err);
}

/* A reply that only quotes a patch is not a patch. */
static void test_quoted(void **state)
{
	static const char reply[] =
		"On Mon, X wrote:\n> diff --git a/x b/x\n> --- a/x\n"
		"> +++ b/x\n> @@ -1 +1 @@\n\nLooks good.\n\n"
		"Reviewed-by: R <r@example.com>\n";
	struct body b = BODY_INIT;

	(void)state;
	assert_false(body_has_diff(reply, strlen(reply)));
	assert_int_equal(body_split(&b, reply, strlen(reply), NULL), 0);
	assert_null(b.diff);
	assert_int_equal(b.trailers.nr, 1);
	body_release(&b);
}

/*
 * The real archive: split on "From mboxrd@z", unescape ">From ", take
 * the body after the first blank line, skip encoded and multipart
 * mail.  Every non-reply with a diff must split and parse.
 */
struct mail {
	struct strbuf subject, body;
	bool encoded, qp;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Quoted-printable, enough for the few patches sent that way. */
static void qp_decode(struct strbuf *sb)
{
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < sb->len; i++) {
		char c = sb->buf[i];

		if (c == '=' && i + 1 < sb->len && sb->buf[i + 1] == '\n') {
			i++;
		} else if (c == '=' && i + 2 < sb->len &&
			   hexval(sb->buf[i + 1]) >= 0 &&
			   hexval(sb->buf[i + 2]) >= 0) {
			strbuf_addch(&out, hexval(sb->buf[i + 1]) * 16 +
						   hexval(sb->buf[i + 2]));
			i += 2;
		} else {
			strbuf_addch(&out, c);
		}
	}
	strbuf_release(sb);
	*sb = out;
}

static void header_value(struct strbuf *out, const char *h, size_t len,
			 const char *name)
{
	size_t n = strlen(name);

	strbuf_reset(out);
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(h + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - h) : len;

		if ((i == 0 || h[i - 1] == '\n') && e - i > n &&
		    !strncasecmp(h + i, name, n)) {
			strbuf_add(out, h + i + n, e - i - n);
			/* unfold */
			while (e + 1 < len && (h[e + 1] == ' ' ||
					       h[e + 1] == '\t')) {
				size_t s = e + 1;

				nl = memchr(h + s, '\n', len - s);
				e = nl ? (size_t)(nl - h) : len;
				strbuf_addch(out, '\n');
				strbuf_add(out, h + s, e - s);
			}
			return;
		}
		i = e + 1;
	}
}

static void mail_load(struct mail *m, const char *msg, size_t len)
{
	struct strbuf v = STRBUF_INIT;
	const char *sep = NULL;
	size_t hlen;

	for (size_t i = 0; i + 1 < len; i++)
		if (msg[i] == '\n' && msg[i + 1] == '\n') {
			sep = msg + i + 1;
			break;
		}
	hlen = sep ? (size_t)(sep - msg) : len;
	header_value(&m->subject, msg, hlen, "Subject:");
	header_value(&v, msg, hlen, "Content-Transfer-Encoding:");
	strbuf_trim(&v);
	strbuf_tolower(&v);
	m->encoded = !strcmp(v.buf, "base64");
	m->qp = !strcmp(v.buf, "quoted-printable");
	header_value(&v, msg, hlen, "Content-Type:");
	strbuf_tolower(&v);
	if (strstr(v.buf, "multipart/"))
		m->encoded = true;
	strbuf_reset(&m->body);
	if (!sep)
		goto out;
	/* mboxrd: ">From " loses one '>' */
	for (const char *p = sep + 1; p < msg + len;) {
		const char *nl = memchr(p, '\n', (size_t)(msg + len - p));
		const char *e = nl ? nl + 1 : msg + len;
		const char *q = p;

		while (q < e && *q == '>')
			q++;
		if (q > p && e - q >= 5 && !memcmp(q, "From ", 5))
			p++;
		strbuf_add(&m->body, p, (size_t)(e - p));
		p = e;
	}
	if (m->qp && !m->encoded)
		qp_decode(&m->body);
out:
	strbuf_release(&v);
}

/*
 * Compare with git itself: "git apply --numstat" on the same body must
 * list the same files with the same added/removed counts.
 */
static void check_numstat(const char *dir, const struct strbuf *text,
			  const struct body *b, const char *subject)
{
	struct strbuf path = STRBUF_INIT, cmd = STRBUF_INIT;
	struct strbuf ours = STRBUF_INIT, theirs = STRBUF_INIT;
	char line[4096];
	FILE *f;

	strbuf_addf(&path, "%s/body.patch", dir);
	f = fopen(path.buf, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text->buf, 1, text->len, f), text->len);
	assert_int_equal(fclose(f), 0);
	/* Outside any repository: in one, git apply skips the paths
	 * outside the current directory. */
	strbuf_addf(&cmd, "cd '%s' && git apply --numstat body.patch", dir);
	f = popen(cmd.buf, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		strbuf_addstr(&theirs, line);
	assert_int_equal(pclose(f), 0);

	for (size_t i = 0; i < b->parsed.files_nr; i++) {
		const struct diff_file *df = &b->parsed.files[i];
		int a = 0, r = 0;

		for (size_t k = 0; k < df->hunks_nr; k++) {
			a += df->hunks[k].added;
			r += df->hunks[k].removed;
		}
		if (df->binary)
			strbuf_addf(&ours, "-\t-\t%s\n", diff_file_path(df));
		else
			strbuf_addf(&ours, "%d\t%d\t%s\n", a, r,
				    diff_file_path(df));
	}
	if (strcmp(ours.buf, theirs.buf))
		fail_msg("%s: numstat differs:\n%s---\n%s", subject, ours.buf,
			 theirs.buf);
	strbuf_release(&path);
	strbuf_release(&cmd);
	strbuf_release(&ours);
	strbuf_release(&theirs);
}

static void test_archive(void **state)
{
	struct strbuf mbox = STRBUF_INIT, err = STRBUF_INIT;
	struct mail m = { STRBUF_INIT, STRBUF_INIT, false, false };
	struct subject s = SUBJECT_INIT;
	struct body b = BODY_INIT;
	size_t n = 0, encoded = 0, with_diff = 0, replies_with_diff = 0;
	size_t parsed = 0, failed = 0, files = 0, hunks = 0, with_stat = 0;
	size_t with_trailers = 0, known_corrupt = 0, merges = 0;
	/* a hand-edited hunk header: the hunk is one line short */
	const char *corrupt = "Support IOSQE_CQE_SKIP_SUCCESS in io_uring";
	FILE *f;
	char *tmp = test_mkdtemp();
	size_t numstat = 0;
	int r;
	char buf[65536];
	size_t got;

	(void)state;
	f = popen("xz -dc " KREVIEW_SHARED_DIR "/data/io-uring-2024H1.mbox.xz",
		  "r");
	assert_non_null(f);
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&mbox, buf, got);
	assert_int_equal(pclose(f), 0);

	for (size_t pos = 0; pos < mbox.len;) {
		const char *start = mbox.buf + pos, *next;
		size_t len;

		/* the separator line, then the message up to the next one */
		next = strstr(start + 1, "\nFrom mboxrd@z ");
		len = next ? (size_t)(next + 1 - start) : mbox.len - pos;
		pos += len;
		if (strncmp(start, "From mboxrd@z ", 14))
			continue;
		start = memchr(start, '\n', len);
		if (!start)
			continue;
		start++;
		len = (size_t)(mbox.buf + pos - start);
		n++;
		mail_load(&m, start, len);
		if (m.encoded) {
			encoded++;
			continue;
		}
		if (!body_has_diff(m.body.buf, m.body.len))
			continue;
		subject_parse(&s, m.subject.buf);
		if (s.reply) {
			replies_with_diff++;
			continue;
		}
		with_diff++;
		strbuf_reset(&err);
		r = body_split(&b, m.body.buf, m.body.len, &err);
		if (r < 0 && strstr(m.subject.buf, corrupt) &&
		    strstr(err.buf, "hunk at line 47 cut short")) {
			/* git apply: "corrupt patch at line 74" */
			known_corrupt++;
			continue;
		}
		if (!r && !b.parsed.files_nr && b.diff &&
		    !strncmp(b.diff, "diff --cc ", 10)) {
			merges++;
			continue;
		}
		if (r < 0 || !b.parsed.files_nr) {
			failed++;
			print_message("FAILED: %s: %s\n", m.subject.buf,
				      err.buf);
			continue;
		}
		parsed++;
		/* git is slow to start: compare every 8th patch */
		if (parsed % 8 == 1) {
			check_numstat(tmp, &m.body, &b, m.subject.buf);
			numstat++;
		}
		files += b.parsed.files_nr;
		with_stat += b.diffstat != NULL;
		with_trailers += b.trailers.nr > 0;
		for (size_t i = 0; i < b.parsed.files_nr; i++) {
			const struct diff_file *df = &b.parsed.files[i];

			assert_non_null(diff_file_path(df));
			hunks += df->hunks_nr;
			/* a modified text file always has hunks */
			if (df->status == DIFF_MODIFIED && !df->binary &&
			    df->old_mode == df->new_mode && !df->hunks_nr)
				fail_msg("%s: %s has no hunks", m.subject.buf,
					 diff_file_path(df));
			for (size_t k = 0; k < df->hunks_nr; k++) {
				const struct diff_hunk *h = &df->hunks[k];

				assert_true(h->added <= h->new_lines);
				assert_true(h->removed <= h->old_lines);
				assert_true(h->offset + h->length <=
					    strlen(b.diff));
				assert_memory_equal(b.diff + h->offset, "@@ -",
						    4);
			}
		}
	}
	print_message("%zu bodies, %zu base64/multipart skipped, %zu "
		      "non-reply bodies with a diff (%zu replies with one), "
		      "%zu parsed, %zu failed, %zu known corrupt, %zu only "
		      "merge diffs; %zu files, %zu hunks, %zu with diffstat, "
		      "%zu with trailers; %zu compared with git apply "
		      "--numstat\n",
		      n, encoded, with_diff, replies_with_diff, parsed, failed,
		      known_corrupt, merges, files, hunks, with_stat,
		      with_trailers, numstat);
	assert_int_equal(n, 2026);
	assert_int_equal(failed, 0);
	assert_int_equal(known_corrupt, 1);
	assert_true(parsed > 500);
	subject_release(&s);
	body_release(&b);
	strbuf_release(&m.subject);
	strbuf_release(&m.body);
	strbuf_release(&mbox);
	strbuf_release(&err);
	test_rmtree(tmp);
	free(tmp);
}

/* Same change, other index line, line numbers and whitespace: same id. */
static void test_patch_id(void **state)
{
	static const char a[] =
		"diff --git a/io_uring/rw.c b/io_uring/rw.c\n"
		"index 1111111..2222222 100644\n"
		"--- a/io_uring/rw.c\n+++ b/io_uring/rw.c\n"
		"@@ -10,6 +10,7 @@ int io_read(struct io_kiocb *req)\n"
		" \tint ret;\n+\tret = 0;\n \treturn ret;\n";
	static const char b[] =
		"diff --git a/io_uring/rw.c b/io_uring/rw.c\n"
		"index 3333333..4444444 100644\n"
		"--- a/io_uring/rw.c\n+++ b/io_uring/rw.c\n"
		"@@ -42,6 +42,7 @@ int io_read(struct io_kiocb *req)\n"
		" \tint  ret;\n+\tret = 0; \n \treturn ret;\n";
	static const char c[] =
		"diff --git a/io_uring/rw.c b/io_uring/rw.c\n"
		"index 1111111..2222222 100644\n"
		"--- a/io_uring/rw.c\n+++ b/io_uring/rw.c\n"
		"@@ -10,6 +10,7 @@ int io_read(struct io_kiocb *req)\n"
		" \tint ret;\n+\tret = 1;\n \treturn ret;\n";
	char ia[41], ib[41], ic[41];

	(void)state;
	body_patch_id(ia, a, strlen(a));
	body_patch_id(ib, b, strlen(b));
	body_patch_id(ic, c, strlen(c));
	assert_int_equal(strlen(ia), 40);
	assert_string_equal(ia, ib);
	assert_string_not_equal(ia, ic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has_diff),
		cmocka_unit_test(test_find_line),
		cmocka_unit_test(test_split_patch),
		cmocka_unit_test(test_split_cover),
		cmocka_unit_test(test_split_plain_and_bad),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_archive),
		cmocka_unit_test(test_patch_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
