#include "testutil.h"
#include "kreview/diff.h"

static void parse_ok(struct diff *d, const char *text)
{
	struct strbuf err = STRBUF_INIT;

	if (diff_parse(d, text, strlen(text), &err) < 0)
		fail_msg("diff_parse '%s' failed: %s", text, err.buf);
	strbuf_release(&err);
}

static void parse_bad(const char *text, int want, const char *reason)
{
	struct strbuf err = STRBUF_INIT;
	struct diff d = DIFF_INIT;

	if (diff_parse(&d, text, strlen(text), &err) != want)
		fail_msg("'%s': not %d (%s)", text, want, err.buf);
	assert_int_equal(d.files_nr, 0);
	if (!strstr(err.buf, reason))
		fail_msg("error '%s' does not say '%s'", err.buf, reason);
	strbuf_release(&err);
}

static const char modified[] =
	"diff --git a/io_uring/rw.c b/io_uring/rw.c\n"
	"index 0123abc..4567def 100644\n"
	"--- a/io_uring/rw.c\n"
	"+++ b/io_uring/rw.c\n"
	"@@ -1,3 +1,4 @@ int io_read(struct io_kiocb *req)\n"
	" a\n"
	"-b\n"
	"+B\n"
	"+C\n"
	" c\n"
	"@@ -10 +11 @@\n"
	"-x\n"
	"\\ No newline at end of file\n"
	"+y\n"
	"\\ No newline at end of file\n"
	"-- \n"
	"2.43.0\n";

static void test_modified(void **state)
{
	struct diff d = DIFF_INIT;
	const struct diff_file *f;

	(void)state;
	parse_ok(&d, modified);
	assert_int_equal(d.files_nr, 1);
	f = &d.files[0];
	assert_string_equal(f->old_path, "io_uring/rw.c");
	assert_string_equal(f->new_path, "io_uring/rw.c");
	assert_string_equal(diff_file_path(f), "io_uring/rw.c");
	assert_int_equal(f->status, DIFF_MODIFIED);
	assert_string_equal(f->old_oid, "0123abc");
	assert_string_equal(f->new_oid, "4567def");
	assert_int_equal(f->old_mode, 0100644);
	assert_int_equal(f->new_mode, 0100644);
	assert_int_equal(f->similarity, -1);
	assert_false(f->binary);
	assert_int_equal(f->offset, 0);
	assert_int_equal(f->length, strstr(modified, "-- \n") - modified);
	assert_int_equal(f->hunks_nr, 2);
	assert_int_equal(f->hunks[0].old_start, 1);
	assert_int_equal(f->hunks[0].old_lines, 3);
	assert_int_equal(f->hunks[0].new_start, 1);
	assert_int_equal(f->hunks[0].new_lines, 4);
	assert_int_equal(f->hunks[0].added, 2);
	assert_int_equal(f->hunks[0].removed, 1);
	assert_string_equal(f->hunks[0].section,
			    "int io_read(struct io_kiocb *req)");
	assert_int_equal(f->hunks[0].offset, strstr(modified, "@@") - modified);
	assert_int_equal(f->hunks[0].offset + f->hunks[0].length,
			 strstr(modified, "@@ -10") - modified);
	assert_int_equal(f->hunks[1].old_lines, 1);
	assert_int_equal(f->hunks[1].new_lines, 1);
	assert_string_equal(f->hunks[1].section, "");
	assert_int_equal(f->hunks[1].offset + f->hunks[1].length,
			 f->offset + f->length);
	/* Parsing again replaces the old contents. */
	parse_ok(&d, "");
	assert_int_equal(d.files_nr, 0);
	diff_release(&d);
	diff_release(&d);
}

static void test_git_headers(void **state)
{
	static const char text[] =
		"diff --git a/new.c b/new.c\n"
		"new file mode 100755\n"
		"index 0000000..e69de29\n"
		"--- /dev/null\n"
		"+++ b/new.c\n"
		"@@ -0,0 +1,2 @@\n"
		"+a\n"
		"+\n"
		"diff --git a/old.c b/old.c\n"
		"deleted file mode 100644\n"
		"index e69de29..0000000\n"
		"--- a/old.c\n"
		"+++ /dev/null\n"
		"@@ -1 +0,0 @@\n"
		"-a\n"
		"diff --git a/empty b/empty\n"
		"new file mode 100644\n"
		"index 0000000..e69de29\n"
		"diff --git a/x.sh b/x.sh\n"
		"old mode 100644\n"
		"new mode 100755\n"
		"diff --git a/dir/a.c b/dir/b.c\n"
		"similarity index 100%\n"
		"rename from dir/a.c\n"
		"rename to dir/b.c\n"
		"diff --git a/c.c b/d.c\n"
		"similarity index 90%\n"
		"copy from c.c\n"
		"copy to d.c\n"
		"index 1111111..2222222 100644\n"
		"--- a/c.c\n"
		"+++ b/d.c\n"
		"@@ -1,2 +1,2 @@\n"
		" x\n"
		"-y\n"
		"+z\n"
		"diff --git a/img.png b/img.png\n"
		"index 1111111..2222222 100644\n"
		"Binary files a/img.png and b/img.png differ\n"
		"diff --git a/bin b/bin\n"
		"new file mode 100644\n"
		"index 0000000000000000000000000000000000000000..d2a6d3c\n"
		"GIT binary patch\n"
		"literal 12\n"
		"Tcmd;JP~_%2D9$YcfC3Kk3E>1Y\n"
		"\n"
		"literal 0\n"
		"HcmV?d00001\n"
		"\n"
		"diff --git a/last b/last\n"
		"index 1..2 100644\n"
		"--- a/last\n"
		"+++ b/last\n"
		"@@ -1 +1 @@\n"
		"-a\n"
		"+b\n";
	struct diff d = DIFF_INIT;
	const struct diff_file *f;

	(void)state;
	parse_ok(&d, text);
	assert_int_equal(d.files_nr, 9);

	f = &d.files[0];
	assert_int_equal(f->status, DIFF_ADDED);
	assert_null(f->old_path);
	assert_string_equal(f->new_path, "new.c");
	assert_int_equal(f->new_mode, 0100755);
	assert_int_equal(f->hunks[0].added, 2);

	f = &d.files[1];
	assert_int_equal(f->status, DIFF_DELETED);
	assert_string_equal(f->old_path, "old.c");
	assert_null(f->new_path);
	assert_string_equal(diff_file_path(f), "old.c");
	assert_int_equal(f->old_mode, 0100644);

	f = &d.files[2];
	assert_int_equal(f->status, DIFF_ADDED);
	assert_int_equal(f->hunks_nr, 0);
	assert_string_equal(f->new_path, "empty");

	f = &d.files[3];
	assert_int_equal(f->status, DIFF_MODIFIED);
	assert_int_equal(f->old_mode, 0100644);
	assert_int_equal(f->new_mode, 0100755);
	assert_int_equal(f->hunks_nr, 0);

	f = &d.files[4];
	assert_int_equal(f->status, DIFF_RENAMED);
	assert_string_equal(f->old_path, "dir/a.c");
	assert_string_equal(f->new_path, "dir/b.c");
	assert_int_equal(f->similarity, 100);

	f = &d.files[5];
	assert_int_equal(f->status, DIFF_COPIED);
	assert_string_equal(f->old_path, "c.c");
	assert_string_equal(f->new_path, "d.c");
	assert_int_equal(f->similarity, 90);
	assert_int_equal(f->hunks_nr, 1);

	f = &d.files[6];
	assert_true(f->binary);
	assert_int_equal(f->hunks_nr, 0);
	assert_string_equal(f->new_path, "img.png");

	f = &d.files[7];
	assert_true(f->binary);
	assert_int_equal(f->status, DIFF_ADDED);
	assert_string_equal(f->old_oid,
			    "0000000000000000000000000000000000000000");
	assert_int_equal(f->length, strstr(text, "diff --git a/last") -
					    (text + f->offset));

	f = &d.files[8];
	assert_string_equal(f->new_path, "last");
	assert_int_equal(f->hunks_nr, 1);
	diff_release(&d);
}

static void test_names(void **state)
{
	static const char quoted[] =
		"diff --git \"a/caf\\303\\251 \\\"x\\\"\" \"b/caf\\303\\251 "
		"\\\"x\\\"\"\n"
		"--- \"a/caf\\303\\251 \\\"x\\\"\"\n"
		"+++ \"b/caf\\303\\251 \\\"x\\\"\"\n"
		"@@ -1 +1 @@\n-a\n+b\n";
	static const char spaces[] =
		"diff --git a/foo bar/baz b/foo bar/baz\n"
		"new file mode 100644\n"
		"index 0000000..1111111\n";
	static const char rename_spaces[] =
		"diff --git a/x y b/z w\n"
		"similarity index 100%\n"
		"rename from x y\n"
		"rename to z w\n";
	static const char plain[] =
		"Only in a: junk\n"
		"diff -u a/f.c b/f.c\n"
		"--- a/f.c\t2024-01-01 00:00:00.000000000 +0100\n"
		"+++ b/f.c\t2024-01-02 00:00:00.000000000 +0100\n"
		"@@ -1,2 +1,2 @@\n"
		" x\n"
		"-y\n"
		"+z\n"
		"--- /dev/null\n"
		"+++ b/g.c\n"
		"@@ -0,0 +1 @@\n"
		"+new\n";
	static const char crlf[] =
		"diff --git a/w.c b/w.c\r\n"
		"--- a/w.c\r\n"
		"+++ b/w.c\r\n"
		"@@ -1,3 +1,3 @@\r\n"
		" a\r\n"
		"\r\n"
		"-b\r\n"
		"+c\r\n";
	struct diff d = DIFF_INIT;

	(void)state;
	parse_ok(&d, quoted);
	assert_string_equal(d.files[0].old_path, "caf\xc3\xa9 \"x\"");
	assert_string_equal(d.files[0].new_path, "caf\xc3\xa9 \"x\"");

	parse_ok(&d, spaces);
	assert_int_equal(d.files_nr, 1);
	assert_string_equal(d.files[0].new_path, "foo bar/baz");

	parse_ok(&d, rename_spaces);
	assert_string_equal(d.files[0].old_path, "x y");
	assert_string_equal(d.files[0].new_path, "z w");

	parse_ok(&d, plain);
	assert_int_equal(d.files_nr, 2);
	assert_string_equal(d.files[0].old_path, "f.c");
	assert_string_equal(d.files[0].new_path, "f.c");
	assert_int_equal(d.files[0].status, DIFF_MODIFIED);
	assert_int_equal(d.files[0].offset, strstr(plain, "--- a") - plain);
	assert_int_equal(d.files[1].status, DIFF_ADDED);
	assert_null(d.files[1].old_path);
	assert_string_equal(d.files[1].new_path, "g.c");

	/* An empty line in a hunk is an empty context line (git apply). */
	parse_ok(&d, crlf);
	assert_int_equal(d.files[0].hunks[0].added, 1);
	assert_int_equal(d.files[0].hunks[0].removed, 1);
	assert_string_equal(d.files[0].new_path, "w.c");
	diff_release(&d);
}

static void test_errors(void **state)
{
	struct strbuf big = STRBUF_INIT;
	struct diff d = DIFF_INIT;

	(void)state;
	parse_bad("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n"
		  " a\n-b\n+c\n",
		  -EPROTO, "line 8: hunk at line 4 cut short: 1 old and 1 new");
	parse_bad("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+c\nfoo\n",
		  -EPROTO, "line 7: hunk at line 3 cut short");
	parse_bad("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n-b\n+c\n", -EPROTO,
		  "line 5: hunk at line 3 has more lines");
	parse_bad("--- a/x\n+++ b/x\n@@ -1 +1 @\n-a\n+b\n", -EPROTO,
		  "line 3: malformed hunk header");
	parse_bad("--- a/x\n+++ b/x\n@@ -1,99999999999 +1 @@\n", -EPROTO,
		  "malformed hunk header");
	parse_bad("--- a/x\n+++ b/x\nhello\n", -EPROTO,
		  "line 3: expected a hunk header");
	parse_bad("text\n@@ -1 +1 @@\n-a\n+b\n", -EPROTO,
		  "line 2: hunk without a file header");
	parse_bad("diff --git \"a/x\\q\" b/x\n", -EPROTO, "bad quoted");
	parse_bad("diff --git \"a/x b/x\n", -EPROTO, "bad quoted");
	parse_bad("diff --git a/x y b/z w\nindex 1..2\n", -EPROTO,
		  "line 1: cannot tell the file name");
	parse_bad("--- /dev/null\n+++ /dev/null\n@@ -0,0 +0,0 @@\n", -EPROTO,
		  "/dev/null to /dev/null");

	/* A failed parse leaves 'out' alone. */
	parse_ok(&d, modified);
	assert_int_equal(diff_parse(&d, "--- a\n+++ b\n@@ -1 +1 @@\n", 24,
				    NULL),
			 -EPROTO);
	assert_int_equal(d.files_nr, 1);

	for (int i = 0; i <= DIFF_MAX_FILES; i++)
		strbuf_addf(&big, "diff --git a/f%d b/f%d\nold mode 100644\n"
			    "new mode 100755\n", i, i);
	parse_bad(big.buf, -E2BIG, "more than 10000 files");
	strbuf_reset(&big);
	strbuf_addstr(&big, "--- a/x\n+++ b/x\n");
	for (int i = 0; i <= DIFF_MAX_HUNKS; i++)
		strbuf_addstr(&big, "@@ -1 +1 @@\n-a\n+b\n");
	parse_bad(big.buf, -E2BIG, "more than 100000 hunks");
	strbuf_release(&big);
	diff_release(&d);
}

static void test_garbage(void **state)
{
	struct diff d = DIFF_INIT;

	(void)state;
	parse_ok(&d, "just text\n-- \nsig\n");
	assert_int_equal(d.files_nr, 0);
	parse_ok(&d, "diff --cc merged.c\nindex 1,2..3\n--- a/merged.c\n"
		     "+++ b/merged.c\n@@@ -1,1 -1,1 +1,1 @@@\n- a\n +b\n"
		     "diff --git a/z b/z\n--- a/z\n+++ b/z\n@@ -1 +1 @@\n-a\n"
		     "+b\n");
	assert_int_equal(d.files_nr, 1);
	assert_string_equal(d.files[0].new_path, "z");
	/* No NUL terminator needed: the length bounds the parse. */
	parse_ok(&d, "");
	assert_int_equal(diff_parse(&d, "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b"
				    "GARBAGE", 33, NULL), 0);
	assert_int_equal(d.files[0].hunks[0].added, 1);
	diff_release(&d);
}

/* Fuzzer finds, kept as regressions (tests/fuzz/corpus/diff/crash-*). */
static void test_fuzz_finds(void **state)
{
	static const char line[] = "diff --git a/x ";
	struct strbuf err = STRBUF_INIT;
	struct diff d = DIFF_INIT;
	char *exact;

	(void)state;
	/* The "diff --git" line ends in a space at the very end of the
	 * input: the split search read one byte past it. */
	exact = xmalloc(sizeof(line) - 1);
	memcpy(exact, line, sizeof(line) - 1);
	assert_int_equal(diff_parse(&d, exact, sizeof(line) - 1, &err),
			 -EPROTO);
	assert_non_null(strstr(err.buf, "cannot tell the file name"));
	free(exact);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modified),
		cmocka_unit_test(test_git_headers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_fuzz_finds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
