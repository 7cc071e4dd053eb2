#include "testutil.h"

#include "kreview/maint.h"

#include <time.h>

/* Parse 'text' or fail the test. */
static struct maint *parse_ok(const char *text, const struct maint_opts *o)
{
	struct strbuf err = STRBUF_INIT;
	struct maint *m = NULL;
	int r = maint_parse(&m, text, strlen(text), "MAINTAINERS", o, &err);

	if (r < 0)
		fail_msg("parse failed: %d %s", r, err.buf);
	strbuf_release(&err);
	return m;
}

/* The matched titles of one path, joined with "|". */
static char *map1(const struct maint *m, const char *path)
{
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct strbuf sb = STRBUF_INIT;

	maint_match_path(&mm, m, path);
	for (size_t i = 0; i < mm.nr; i++) {
		if (i)
			strbuf_addch(&sb, '|');
		strbuf_addstr(&sb, mm.v[i].section->title);
	}
	maint_matches_release(&mm);
	return strbuf_detach(&sb, NULL);
}

#define assert_map(m, path, want)                                             \
	do {                                                                  \
		char *got_ = map1((m), (path));                               \
		assert_string_equal(got_, (want));                            \
		free(got_);                                                   \
	} while (0)

static const char *const rest = "THE REST\n"
				"M:\tLinus Torvalds <torvalds@linux-foundation.org>\n"
				"L:\tlinux-kernel@vger.kernel.org\n"
				"S:\tBuried alive in reporters\n"
				"F:\t*\n"
				"F:\t*/\n";

static struct maint *parse_with_rest(const char *sections,
				     const struct maint_opts *o)
{
	struct strbuf sb = STRBUF_INIT;
	struct maint *m;

	strbuf_addstr(&sb, "\tList of maintainers\n\tprose: not a section\n\n");
	strbuf_addstr(&sb, sections);
	strbuf_addch(&sb, '\n');
	strbuf_addstr(&sb, rest);
	m = parse_ok(sb.buf, o);
	strbuf_release(&sb);
	return m;
}

static void test_sections_and_fields(void **state)
{
	struct maint *m;
	const struct maint_section *s;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	m = parse_with_rest("BTRFS FILE SYSTEM\n"
			    "M:\tChris Mason <clm@fb.com>\n"
			    "L:\tlinux-btrfs@vger.kernel.org\n"
			    "S:\tMaintained\n"
			    "# a comment inside a section\n"
			    "\n"
			    "W:\thttps://btrfs.readthedocs.io\n"
			    "T:\tgit git://git.kernel.org/pub/scm/linux/kernel/git/kdave/linux.git\n"
			    "F:\tfs/btrfs/\n"
			    "\n"
			    "SOUND\n"
			    "L:\talsa-devel@alsa-project.org (moderated for non-subscribers)\n"
			    "L:\tSecret@Example.ORG (subscribers-only)\n"
			    "S:\tOdd Fixes\n"
			    "P:\tDocumentation/process/maintainer-soc.rst\n"
			    "F:\tsound/\n",
			    NULL);
	assert_int_equal(maint_section_count(m), 3);
	s = maint_section_at(m, 0);
	assert_string_equal(s->title, "BTRFS FILE SYSTEM");
	assert_int_equal(s->line, 4);
	/* a blank line and a comment do not end a section (the script) */
	assert_int_equal(s->nr_entries, 6);
	assert_string_equal(maint_section_value(s, 'F', 0), "fs/btrfs/");
	assert_string_equal(maint_section_value(s, 'W', 0),
			    "https://btrfs.readthedocs.io");
	assert_null(maint_section_value(s, 'F', 1));
	assert_int_equal(s->entries[5].line, 12);
	assert_int_equal(maint_section_status(s), MAINT_STATUS_MAINTAINED);

	s = maint_find_section(m, "SOUND");
	assert_non_null(s);
	assert_int_equal(s->index, 1);
	assert_int_equal(maint_section_status(s), MAINT_STATUS_ODD_FIXES);
	assert_int_equal(maint_list_address(&sb, maint_section_value(s, 'L', 0)),
			 0);
	assert_string_equal(sb.buf, "alsa-devel@alsa-project.org");
	assert_int_equal(maint_list_address(&sb, maint_section_value(s, 'L', 1)),
			 0);
	assert_string_equal(sb.buf, "secret@example.org");
	assert_true(maint_list_subscribers_only(maint_section_value(s, 'L', 1)));
	assert_false(maint_list_subscribers_only(maint_section_value(s, 'L', 0)));
	assert_int_equal(maint_list_address(&sb, "NXP Linux Team <linux-imx@nxp.com>"), 0);
	assert_string_equal(sb.buf, "linux-imx@nxp.com");
	assert_int_equal(maint_list_address(&sb, "no address here"), -EINVAL);
	assert_true(maint_p_is_profile(maint_section_value(s, 'P', 0)));
	/* old files: P: was the person */
	assert_false(maint_p_is_profile("Linus Torvalds"));
	assert_false(maint_p_is_profile("Jens Axboe <axboe@kernel.dk>"));

	s = maint_find_section(m, "THE REST");
	assert_non_null(s);
	assert_int_equal(maint_section_status(s), MAINT_STATUS_BURIED);
	assert_null(maint_find_section(m, "NOPE"));
	assert_int_equal(maint_diag_count(m), 0);
	strbuf_release(&sb);
	maint_free(m);
}

static void test_depth_rule(void **state)
{
	struct maint *m;

	(void)state;
	m = parse_with_rest("NET FILES\n"
			    "F:\tdrivers/net/*\n"
			    "\n"
			    "NET DRIVERS\n"
			    "F:\tdrivers/net/\n"
			    "\n"
			    "MM HEADER\n"
			    "F:\tinclude/linux/mm.h\n"
			    "\n"
			    "NET ANYWHERE\n"
			    "F:\t*/net/*\n",
			    NULL);
	/* "dir/<star>" matches files directly in dir only */
	assert_map(m, "drivers/net/a.c",
		   "NET FILES|NET DRIVERS|NET ANYWHERE|THE REST");
	assert_map(m, "drivers/net/a/b.c", "NET DRIVERS|THE REST");
	/* the end is not anchored */
	assert_map(m, "include/linux/mm.hx", "MM HEADER|THE REST");
	assert_map(m, "include/linux/mm.h", "MM HEADER|THE REST");
	assert_map(m, "include/linux/mm/x.h", "THE REST");
	/* a star crosses "/" but the slash count must agree */
	assert_map(m, "lib/net/x.c", "NET ANYWHERE|THE REST");
	assert_map(m, "a/b/net/x.c", "THE REST");
	/* THE REST alone for a top-level file and a deep one */
	assert_map(m, "Makefile", "THE REST");
	assert_map(m, "a/b/c/d/e.c", "THE REST");
	maint_free(m);
}

static void test_depth_values(void **state)
{
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct maint *m;

	(void)state;
	m = parse_with_rest("A\nF:\tfs/\n\n"
			    "B\nF:\tfs/btrfs/inode.c\n\n"
			    "C\nF:\tfs/btrfs/\n\n"
			    /* the last matching entry sets the depth */
			    "D\nF:\tfs/btrfs/\nN:\tinode\n\n"
			    /* ties keep file order */
			    "E\nF:\tfs/*\n\n"
			    "F\nF:\tfs/btrfs/*\n",
			    NULL);
	assert_int_equal(maint_match_path(&mm, m, "fs/btrfs/inode.c"), 6);
	assert_string_equal(mm.v[0].section->title, "B");
	assert_int_equal(mm.v[0].depth, 3);
	assert_string_equal(mm.v[1].section->title, "F");
	assert_int_equal(mm.v[1].depth, 3);
	assert_string_equal(mm.v[2].section->title, "C");
	assert_int_equal(mm.v[2].depth, 2);
	assert_string_equal(mm.v[3].section->title, "A");
	assert_int_equal(mm.v[3].depth, 1);
	assert_string_equal(mm.v[4].section->title, "D");
	assert_int_equal(mm.v[4].depth, 0);
	assert_int_equal(mm.v[4].how, MAINT_BY_FILE | MAINT_BY_NAME);
	assert_string_equal(mm.v[5].section->title, "THE REST");
	assert_int_equal(mm.v[5].depth, -1);
	maint_matches_release(&mm);
	/* for fs/x.c, "fs/<star>" (depth 2) beats "fs/" (depth 1) */
	assert_map(m, "fs/x.c", "E|A|THE REST");
	maint_free(m);
}

static void test_globs(void **state)
{
	struct maint *m;

	(void)state;
	m = parse_with_rest("DA\n"
			    "F:\tdrivers/input/misc/da72??.[ch]\n"
			    "F:\tinclude/sound/da[79]*.h\n"
			    "\n"
			    "DOTS\n"
			    "F:\tarch/x86/kvm/vmx/*.c\n",
			    NULL);
	assert_map(m, "drivers/input/misc/da7280.c", "DA|THE REST");
	assert_map(m, "drivers/input/misc/da7280.h", "DA|THE REST");
	assert_map(m, "drivers/input/misc/da728.c", "THE REST");
	assert_map(m, "drivers/input/misc/da7280.o", "THE REST");
	assert_map(m, "include/sound/da9055.h", "DA|THE REST");
	assert_map(m, "include/sound/da8.h", "THE REST");
	/* "." is literal: "vmx.c" needs a real dot */
	assert_map(m, "arch/x86/kvm/vmx/vmx.c", "DOTS|THE REST");
	assert_map(m, "arch/x86/kvm/vmx/vmxc", "THE REST");
	maint_free(m);
}

static void test_exclusion(void **state)
{
	struct maint *m;

	(void)state;
	m = parse_with_rest("NETWORKING [GENERAL]\n"
			    "F:\tnet/\n"
			    "X:\tnet/ipv6/\n"
			    "X:\tnet/*/Kconfig\n"
			    "\n"
			    "IPV6\n"
			    "F:\tnet/ipv6/\n",
			    NULL);
	assert_map(m, "net/core/dev.c", "NETWORKING [GENERAL]|THE REST");
	assert_map(m, "net/ipv6/route.c", "IPV6|THE REST");
	assert_map(m, "net/core/Kconfig", "THE REST");
	assert_map(m, "net/core/sub/Kconfig", "NETWORKING [GENERAL]|THE REST");
	maint_free(m);
}

static void test_name_regex(void **state)
{
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct maint *m;

	(void)state;
	m = parse_with_rest("TEGRA\n"
			    "N:\t[^a-z]tegra\n"
			    "\n"
			    "VDSO GETRANDOM\n"
			    "N:\t^.*/vdso/[^/]*getrandom[^/]+$\n"
			    "\n"
			    "EXTENDED\n"
			    "N:\tfoo  bar   # /x: blanks and comments ignored\n",
			    NULL);
	maint_match_path(&mm, m, "drivers/gpu/host1x/tegra.c");
	assert_int_equal(mm.nr, 2);
	assert_string_equal(mm.v[0].section->title, "TEGRA");
	assert_int_equal(mm.v[0].depth, 0);
	assert_int_equal(mm.v[0].how, MAINT_BY_NAME);
	maint_matches_release(&mm);
	assert_map(m, "drivers/gpu/host1xtegra.c", "THE REST");
	assert_map(m, "arch/x86/entry/vdso/vgetrandom.c",
		   "VDSO GETRANDOM|THE REST");
	assert_map(m, "lib/foobar.c", "EXTENDED|THE REST");
	maint_free(m);
}

static bool fake_is_dir(const char *path, void *ctx)
{
	const char *const *dirs = ctx;

	for (; *dirs; dirs++)
		if (!strcmp(path, *dirs))
			return true;
	return false;
}

static void test_auto_slash(void **state)
{
	static const char *const dirs[] = { "fs/foo", "drivers/foo.bar",
					    "fs/foo\\.bar", NULL };
	struct maint_opts o = MAINT_OPTS_INIT;
	static const char text[] = "FOO\n"
				   "F:\tfs/foo\n"
				   "\n"
				   "DOTTED\n"
				   "F:\tdrivers/foo.bar\n"
				   "\n"
				   "HINTED\n"
				   "F:\tkernel/sub\n"
				   "\n"
				   "BENEATH\n"
				   "F:\tkernel/sub/x.c\n";
	struct maint *m;

	(void)state;
	o.is_dir = fake_is_dir;
	o.is_dir_ctx = (void *)dirs;
	m = parse_with_rest(text, &o);
	/* the directory gets its slash and matches at any depth */
	assert_map(m, "fs/foo/a/b.c", "FOO|THE REST");
	assert_map(m, "fs/foobar.c", "THE REST");
	/*
	 * The script tests -d on the translated value "drivers/foo\.bar",
	 * which never exists: a dotted directory stays a file pattern.
	 */
	assert_map(m, "drivers/foo.bar/x.c", "THE REST");
	assert_map(m, "drivers/foo.bar", "DOTTED|THE REST");
	/* with a tree, kernel/sub is not a directory here */
	assert_map(m, "kernel/sub/x.c", "BENEATH|THE REST");
	assert_map(m, "kernel/subx", "HINTED|THE REST");
	maint_free(m);

	/* no tree: the heuristic */
	m = parse_with_rest(text, NULL);
	/* a path beneath the value proves it is a directory */
	assert_map(m, "fs/foo/a/b.c", "FOO|THE REST");
	/* unknown: behaves as a file pattern, like the script on a file */
	assert_map(m, "fs/foobar.c", "FOO|THE REST");
	/* kernel/sub has kernel/sub/x.c beneath it in the file */
	assert_map(m, "kernel/subx", "THE REST");
	assert_map(m, "kernel/sub/y.c", "HINTED|THE REST");
	assert_map(m, "drivers/foo.bar/x.c", "THE REST");
	maint_free(m);
}

static const char kw_maint[] =
	"BPF\n"
	"F:\tkernel/bpf/\n"
	"K:\t(?:\\b|_)bpf(?:\\b|_)\n"
	"\n"
	"PIDFD\n"
	"K:\t(?i)pidfd\n"
	"\n"
	"PHYLINK\n"
	"K:\tphylink\\.h|struct\\s+phylink\n"
	"\n"
	"CLANG\n"
	"K:\t\\b(?i:clang|llvm)\\b\n";

static char *kw_titles(const struct maint *m, const char *patch)
{
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct strbuf sb = STRBUF_INIT;

	maint_match_keywords(&mm, m, patch, strlen(patch));
	for (size_t i = 0; i < mm.nr; i++) {
		if (i)
			strbuf_addch(&sb, '|');
		strbuf_addstr(&sb, mm.v[i].section->title);
		assert_int_equal(mm.v[i].how, MAINT_BY_KEYWORD);
		assert_int_equal(mm.v[i].depth, MAINT_DEPTH_KEYWORD);
	}
	maint_matches_release(&mm);
	return strbuf_detach(&sb, NULL);
}

#define assert_kw(m, patch, want)                                             \
	do {                                                                  \
		char *got_ = kw_titles((m), (patch));                         \
		assert_string_equal(got_, (want));                            \
		free(got_);                                                   \
	} while (0)

static void test_keywords(void **state)
{
	struct maint *m;

	(void)state;
	m = parse_with_rest(kw_maint, NULL);
	/* commit message: anywhere in a line */
	assert_kw(m,
		  "Subject: [PATCH] fix PidFd handling\n"
		  "\n"
		  "This touches bpf.\n"
		  "---\n"
		  " foo.c | 1 +\n"
		  "diff --git a/foo.c b/foo.c\n"
		  "--- a/foo.c\n"
		  "+++ b/foo.c\n"
		  "@@ -1,3 +1,3 @@\n"
		  " context\n"
		  "-old\n"
		  "+new\n",
		  "BPF|PIDFD");
	/* after the header: context lines never count, +/- lines do */
	assert_kw(m,
		  "Subject: [PATCH] nothing here\n"
		  "\n"
		  "--- a/drivers/net/phy/bpf_thing.c\n"
		  "+++ b/drivers/net/phy/bpf_thing.c\n"
		  "@@ -1,3 +1,3 @@\n"
		  " struct phylink *pl;\n"
		  " #include <linux/phylink.h>\n"
		  " int clang_only_in_context;\n"
		  "-int a;\n"
		  "+int LLVM;\n",
		  "CLANG");
	/* paths, "diff --git" and "@@" lines are not searched */
	assert_kw(m,
		  "diff --git a/kernel/bpf/x.c b/kernel/bpf/x.c\n"
		  "rename from pidfd.c\n"
		  "--- a/kernel/bpf/x.c\n"
		  "+++ b/kernel/bpf/x.c\n"
		  "@@ -1,3 +1,3 @@ int pidfd(void)\n"
		  " x\n",
		  "");
	/* "Fixes:" lines are skipped by the script too */
	assert_kw(m, "Fixes: 123456789abc (\"bpf: x\")\n", "");
	/* "\b" looks back at the "+" of the line */
	assert_kw(m, "--- a/x\n+++ b/x\n+bpf\n", "BPF");
	/* a top-level "|" does not let a context line through (see maint.h) */
	assert_kw(m, "--- a/x\n+++ b/x\n struct phylink *p;\n", "");
	assert_kw(m, "--- a/x\n+++ b/x\n-struct phylink *p;\n", "PHYLINK");
	maint_free(m);
}

static void test_keyword_order(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct maint *m;

	(void)state;
	/*
	 * The script sorts matched K: positions as strings: the K: of
	 * section S10 (position 10) sorts before that of S9 (position 9).
	 */
	strbuf_addstr(&sb, "T0\nF:\ta\nF:\tb\nF:\tc\nF:\td\nF:\te\nF:\tf\n"
			   "S9\nK:\tnine\nS10\nK:\tten\n");
	m = parse_ok(sb.buf, NULL);
	assert_kw(m, "nine ten\n", "S10|S9");
	maint_free(m);
	strbuf_release(&sb);
}

static void test_map(void **state)
{
	static const char *const paths[] = { "kernel/bpf/core.c",
					     "fs/btrfs/inode.c",
					     "kernel/bpf/verifier.c" };
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct maint *m;
	const char *patch = "Subject: [PATCH] pidfd and bpf\n";

	(void)state;
	m = parse_with_rest("BTRFS\nF:\tfs/btrfs/\n\n"
			    "PIDFD\nK:\tpidfd\n\n"
			    "BPF\nF:\tkernel/bpf/\nK:\tbpf\n",
			    NULL);
	maint_map(&mm, m, paths, ARRAY_SIZE(paths), patch, strlen(patch));
	assert_int_equal(mm.nr, 4);
	assert_string_equal(mm.v[0].section->title, "BPF");
	assert_int_equal(mm.v[0].nr_paths, 2);
	assert_int_equal(mm.v[0].how, MAINT_BY_FILE | MAINT_BY_KEYWORD);
	assert_string_equal(mm.v[1].section->title, "THE REST");
	assert_int_equal(mm.v[1].nr_paths, 3);
	assert_string_equal(mm.v[2].section->title, "BTRFS");
	assert_string_equal(mm.v[3].section->title, "PIDFD");
	assert_int_equal(mm.v[3].how, MAINT_BY_KEYWORD);
	assert_int_equal(mm.v[3].nr_paths, 0);
	/* reset on each call; no text, no keywords */
	maint_map(&mm, m, paths, 1, NULL, 0);
	assert_int_equal(mm.nr, 2);
	maint_matches_release(&mm);
	maint_free(m);
}

static void test_bad_input(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct maint *m = NULL;
	const struct maint_diag *d;
	static const char text[] =
		"F:\torphan/entry\n"		/* 1 */
		"GOOD\n"			/* 2 */
		"N:\tfoo(\n"			/* 3 */
		"F:\tgood/\n"			/* 4 */
		"F:\tbad[\n"			/* 5 */
		"Z:\twhat\n"			/* 6 */
		"K:\t\n"			/* 7 */
		"LONELY TITLE\n"		/* 8 */
		"GOOD\n"			/* 9 */
		"F:\tother/\n";			/* 10 */

	(void)state;
	m = parse_ok(text, NULL);
	assert_int_equal(maint_section_count(m), 3);
	assert_string_equal(maint_section_at(m, 0)->title, "");
	/* the section with the bad regex keeps its good pattern */
	assert_map(m, "good/x.c", "GOOD");
	assert_int_equal(maint_diag_count(m), 7);
	d = maint_diag_at(m, 0);
	assert_int_equal(d->line, 1);
	assert_non_null(strstr(d->msg, "before any section"));
	d = maint_diag_at(m, 1);
	assert_int_equal(d->line, 3);
	assert_non_null(strstr(d->msg, "bad N: pattern 'foo('"));
	d = maint_diag_at(m, 2);
	assert_int_equal(d->line, 5);
	assert_non_null(strstr(d->msg, "bad F: pattern 'bad['"));
	d = maint_diag_at(m, 3);
	assert_int_equal(d->line, 6);
	assert_non_null(strstr(d->msg, "unknown entry type 'Z:'"));
	d = maint_diag_at(m, 4);
	assert_int_equal(d->line, 7);
	assert_non_null(strstr(d->msg, "empty K: pattern"));
	d = maint_diag_at(m, 5);
	assert_int_equal(d->line, 8);
	assert_non_null(strstr(d->msg, "without entries"));
	d = maint_diag_at(m, 6);
	assert_int_equal(d->line, 9);
	assert_non_null(strstr(d->msg, "duplicate section title 'GOOD'"));
	assert_null(maint_diag_at(m, 7));
	maint_free(m);

	/* nothing but prose */
	assert_int_equal(maint_parse(&m, "\thello\n\n", 8, "M", NULL, &err),
			 -EINVAL);
	assert_non_null(strstr(err.buf, "no sections"));
	strbuf_reset(&err);
	assert_int_equal(maint_parse(&m, "", 0, "M", NULL, &err), -EINVAL);
	strbuf_reset(&err);
	/* NUL bytes and CRLF */
	m = NULL;
	assert_int_equal(maint_parse(&m, "A\r\nF:\tx\0y\nF:\tz/\r\n", 17, "M",
				     NULL, &err),
			 0);
	assert_int_equal(maint_section_at(m, 0)->nr_entries, 1);
	assert_string_equal(maint_section_at(m, 0)->title, "A");
	assert_map(m, "z/q", "A");
	maint_free(m);
	strbuf_release(&err);
}

static void test_caps(void **state)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct maint *m = NULL;

	(void)state;
	for (int i = 0; i <= MAINT_MAX_SECTIONS; i++)
		strbuf_addf(&sb, "S%d\nF:\tx/\n", i);
	assert_int_equal(maint_parse(&m, sb.buf, sb.len, "BIG", NULL, &err),
			 -E2BIG);
	assert_null(m);
	assert_non_null(strstr(err.buf, "BIG:100002: too many sections"));
	strbuf_release(&sb);
	strbuf_release(&err);
}

static void test_match_limits(void **state)
{
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct strbuf path = STRBUF_INIT;
	struct maint *m;
	int64_t t0;

	(void)state;
	m = parse_ok("EVIL\nN:\t(a+)+$\nK:\t(x+x+)+y\n", NULL);
	for (int i = 0; i < 40; i++)
		strbuf_addch(&path, 'a');
	strbuf_addch(&path, '!');
	t0 = time_mono_ms();
	maint_match_path(&mm, m, path.buf);
	assert_int_equal(mm.nr, 0);
	assert_true(mm.regex_errors > 0);
	strbuf_reset(&path);
	for (int i = 0; i < 5000; i++)
		strbuf_addch(&path, 'x');
	strbuf_addch(&path, '\n');
	mm.regex_errors = 0;
	maint_match_keywords(&mm, m, path.buf, path.len);
	assert_int_equal(mm.nr, 0);
	assert_true(time_mono_ms() - t0 < 5000);
	maint_matches_release(&mm);
	strbuf_release(&path);
	maint_free(m);
}

static void test_real_file(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct maint_matches mm = MAINT_MATCHES_INIT;
	const struct maint_section *s;
	struct maint *m = NULL;
	int r;

	(void)state;
	r = maint_load_file(&m, KREVIEW_SHARED_DIR "/data/MAINTAINERS", NULL,
			    &err);
	if (r < 0)
		fail_msg("%s", err.buf);
	assert_true(maint_section_count(m) > 2500);
	assert_int_equal(maint_diag_count(m), 0);
	s = maint_find_section(m, "THE REST");
	assert_non_null(s);
	assert_int_equal(s->index, maint_section_count(m) - 1);
	assert_map(m, "fs/btrfs/inode.c", "BTRFS FILE SYSTEM|THE REST");
	assert_map(m, "io_uring/net.c", "IO_URING|THE REST");
	maint_match_path(&mm, m, "drivers/net/ethernet/intel/ice/ice_main.c");
	assert_true(mm.nr >= 3);
	for (size_t i = 1; i < mm.nr; i++)
		assert_true(mm.v[i - 1].depth >= mm.v[i].depth);
	maint_matches_release(&mm);
	s = maint_find_section(m, "IO_URING");
	assert_non_null(s);
	assert_non_null(maint_section_value(s, 'T', 0));
	assert_non_null(strstr(maint_section_value(s, 'M', 0), "axboe"));
	maint_free(m);
	strbuf_release(&err);

	assert_true(maint_load_file(&m, "/nonexistent/MAINTAINERS", NULL,
				    &err) == -ENOENT);
	assert_non_null(strstr(err.buf, "cannot read '/nonexistent"));
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_and_fields),
		cmocka_unit_test(test_depth_rule),
		cmocka_unit_test(test_depth_values),
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_exclusion),
		cmocka_unit_test(test_name_regex),
		cmocka_unit_test(test_auto_slash),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_keyword_order),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_match_limits),
		cmocka_unit_test(test_real_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
