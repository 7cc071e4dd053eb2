#include "testutil.h"
#include "kreview/subject.h"

/*
 * One row per subject: what subject_parse() must make of it.  'tags'
 * and 'prefixes' are the chunks joined by '|'.
 */
struct row {
	const char *subject;
	bool reply, rfc, resend, patch;
	int revision, counter, expected;
	bool explicit_revision, explicit_counter;
	const char *prefixes;
	const char *tags;
	const char *title;
};

static const struct row rows[] = {
	/* reference/b4-series.md §1 table */
	{ "[PATCH v3 0/7] foo", false, false, false, true, 3, 0, 7, true, true,
	  "PATCH|v3|0/7", "", "foo" },
	{ "[RFC PATCH net-next 2/4] foo", false, true, false, true, 1, 2, 4,
	  false, true, "RFC|PATCH|net-next|2/4", "net-next", "foo" },
	{ "[PATCH RESEND v2 1/3] foo", false, false, true, true, 2, 1, 3, true,
	  true, "PATCH|RESEND|v2|1/3", "", "foo" },
	{ "[PATCHv3 1/2] foo", false, false, false, true, 3, 1, 2, true, true,
	  "PATCH|v3|1/2", "", "foo" },
	{ "[PATCH v3 02/10] foo", false, false, false, true, 3, 2, 10, true,
	  true, "PATCH|v3|02/10", "", "foo" },
	{ "[PATCH 1/2,] foo", false, false, false, true, 1, 1, 2, false, true,
	  "PATCH|1/2", "", "foo" },
	{ "[PATCH] [v2] foo", false, false, false, true, 2, 1, 1, true, false,
	  "PATCH|v2", "", "foo" },
	{ "[PATCH 6/5] foo", false, false, false, true, 1, 6, 6, false, true,
	  "PATCH|6/5", "", "foo" },
	{ "[PATCH v2.1 3/4] foo", false, false, false, true, 1, 3, 4, false,
	  true, "PATCH|v2.1|3/4", "v2.1", "foo" },
	{ "[PATCH] foo (v2)", false, false, false, true, 1, 1, 1, false, false,
	  "PATCH", "", "foo (v2)" },
	{ "Re: [PATCH v2 3/5] foo", true, false, false, true, 2, 3, 5, true,
	  true, "PATCH|v2|3/5", "", "foo" },
	{ "Sv: [PATCH] foo", true, false, false, true, 1, 1, 1, false, false,
	  "PATCH", "", "foo" },
	/* the brief's extra cases */
	{ "[RFC PATCH net-next v2 0/5] foo", false, true, false, true, 2, 0, 5,
	  true, true, "RFC|PATCH|net-next|v2|0/5", "net-next", "foo" },
	{ "[PATCH liburing] test: add foo", false, false, false, true, 1, 1, 1,
	  false, false, "PATCH|liburing", "liburing", "test: add foo" },
	{ "[PATCHSET v2 0/4] Add support for batched min timeout", false,
	  false, false, true, 2, 0, 4, true, true, "PATCHSET|v2|0/4", "",
	  "Add support for batched min timeout" },
	{ "[PATCH 1/1] foo", false, false, false, true, 1, 1, 1, false, true,
	  "PATCH|1/1", "", "foo" },
	{ "[PATCH v3 2/7] io_uring: fix foo", false, false, false, true, 3, 2,
	  7, true, true, "PATCH|v3|2/7", "", "io_uring: fix foo" },
	{ "[PATCH [net-next] v2 1/2] foo", false, false, false, true, 2, 1, 2,
	  true, true, "PATCH|net-next|v2|1/2", "net-next", "foo" },
	{ "[RFC][PATCH v2 1/3] x", false, true, false, true, 2, 1, 3, true,
	  true, "RFC|PATCH|v2|1/3", "", "x" },
	{ "Re: Re: [PATCH] foo", true, false, false, true, 1, 1, 1, false,
	  false, "PATCH", "", "foo" },
	{ "RE: [PATCH 2/3] foo", true, false, false, true, 1, 2, 3, false, true,
	  "PATCH|2/3", "", "foo" },
	{ "Aw: [PATCH] foo", true, false, false, true, 1, 1, 1, false, false,
	  "PATCH", "", "foo" },
	{ "Fwd: [PATCH] foo", true, false, false, true, 1, 1, 1, false, false,
	  "PATCH", "", "foo" },
	{ "fwd: foo bar", true, false, false, false, 1, 1, 1, false, false, "",
	  "", "foo bar" },
	{ "Sv: RE: [PATCH v4 1/2] foo", true, false, false, true, 4, 1, 2, true,
	  true, "PATCH|v4|1/2", "", "foo" },
	{ "Re: net: fix foo", true, false, false, false, 1, 1, 1, false, false,
	  "", "", "net: fix foo" },
	{ "net: fix foo", false, false, false, false, 1, 1, 1, false, false, "",
	  "", "net: fix foo" },
	{ "Fw: foo", false, false, false, false, 1, 1, 1, false, false, "", "",
	  "Fw: foo" },
	{ "", false, false, false, false, 1, 1, 1, false, false, "", "", "" },
	{ "   \t\n ", false, false, false, false, 1, 1, 1, false, false, "", "",
	  "" },
	{ "[PATCH v2]", false, false, false, true, 2, 1, 1, true, false,
	  "PATCH|v2", "", "" },
	{ "[]", false, false, false, false, 1, 1, 1, false, false, "", "", "" },
	{ "[PATCH v2 1/2] foo [bar] baz", false, false, false, true, 2, 1, 2,
	  true, true, "PATCH|v2|1/2", "", "foo [bar] baz" },
	{ "[PATCH v2 1/2 foo", false, false, false, false, 1, 1, 1, false,
	  false, "", "", "[PATCH v2 1/2 foo" },
	{ "[PATCH\n v3 2/7] io_uring: fix\n\tfoo  bar", false, false, false,
	  true, 3, 2, 7, true, true, "PATCH|v3|2/7", "",
	  "io_uring: fix foo bar" },
	{ "[PATCH 1/10000] foo", false, false, false, true, 1, 1, 1, false,
	  false, "PATCH|1/10000", "1/10000", "foo" },
	{ "[PATCH1/8] foo", false, false, false, true, 1, 1, 1, false, false,
	  "PATCH1/8", "", "foo" },
	{ "[PATCH v0] foo", false, false, false, true, 1, 1, 1, false, false,
	  "PATCH|v0", "v0", "foo" },
	{ "[PATCH V2 3/9] foo", false, false, false, true, 2, 3, 9, true, true,
	  "PATCH|V2|3/9", "", "foo" },
	{ "[PATCH;v2;] foo", false, false, false, true, 1, 1, 1, false, false,
	  "PATCH;v2", "", "foo" },
	{ "[PATCH, v2, 1/2] foo", false, false, false, true, 2, 1, 2, true,
	  true, "PATCH|v2|1/2", "", "foo" },
	{ "foo (was: bar)", false, false, false, false, 1, 1, 1, false, false,
	  "", "", "foo" },
	{ "Re: foo (was Re: [PATCH] bar)", true, false, false, false, 1, 1, 1,
	  false, false, "", "", "foo" },
	{ "Re: (subset) [PATCH 0/7] sysctl: foo", true, false, false, true, 1,
	  0, 7, false, true, "PATCH|0/7", "", "sysctl: foo" },
	/* from the io-uring 2024H1 archive */
	{ "[PATCH AUTOSEL 6.9 36/44] io_uring: fix possible deadlock in "
	  "io_register_iowq_max_workers()", false, false, false, true, 1, 36,
	  44, false, true, "PATCH|AUTOSEL|6.9|36/44", "AUTOSEL|6.9",
	  "io_uring: fix possible deadlock in io_register_iowq_max_workers()" },
	{ "[patch liburing v2] man: fix IORING_REGISTER_RING_FDS docs", false,
	  false, false, true, 2, 1, 1, true, false, "patch|liburing|v2",
	  "liburing", "man: fix IORING_REGISTER_RING_FDS docs" },
	{ "[for-next 0/3] simple sendzc cleanups", false, false, false, false,
	  1, 0, 3, false, true, "for-next|0/3", "for-next",
	  "simple sendzc cleanups" },
	{ "[RFC liburing 0/5] IORING_OP_BIND/LISTEN support", false, true,
	  false, false, 1, 0, 5, false, true, "RFC|liburing|0/5", "liburing",
	  "IORING_OP_BIND/LISTEN support" },
	{ "[RFC PATCH v4 00/16] Zero copy Rx using io_uring", false, true,
	  false, true, 4, 0, 16, true, true, "RFC|PATCH|v4|00/16", "",
	  "Zero copy Rx using io_uring" },
	{ "[RFC PATCH V2 9/9] ublk: support provide io buffer", false, true,
	  false, true, 2, 9, 9, true, true, "RFC|PATCH|V2|9/9", "",
	  "ublk: support provide io buffer" },
	{ "[PATCH v10] io_uring: Statistics of the true utilization of sq",
	  false, false, false, true, 10, 1, 1, true, false, "PATCH|v10", "",
	  "io_uring: Statistics of the true utilization of sq" },
	{ "[syzbot] [io-uring?] KMSAN: uninit-value in io_rw_fail (2)", false,
	  false, false, false, 1, 1, 1, false, false, "syzbot|io-uring?",
	  "syzbot|io-uring?", "KMSAN: uninit-value in io_rw_fail (2)" },
	{ "Re: [syzbot] [fs?] [io-uring?] general protection fault in "
	  "__ep_remove", true, false, false, false, 1, 1, 1, false, false,
	  "syzbot|fs?|io-uring?", "syzbot|fs?|io-uring?",
	  "general protection fault in __ep_remove" },
	{ "RE: get_file() unsafe under epoll (was Re: [syzbot] [fs?] "
	  "[io-uring?]\n general protection fault in __ep_remove)", true, false,
	  false, false, 1, 1, 1, false, false, "", "",
	  "get_file() unsafe under epoll" },
	{ "[bug report] watchdog: BUG: soft lockup - CPU#19 stuck for 26s! "
	  "[poll-cancel-all:33473]", false, false, false, false, 1, 1, 1, false,
	  false, "bug|report", "bug|report",
	  "watchdog: BUG: soft lockup - CPU#19 stuck for 26s! "
	  "[poll-cancel-all:33473]" },
	{ "Re: [PATCH io_uring-next/net-next v2 0/4] implement\n io_uring "
	  "notification (ubuf_info) stacking", true, false, false, true, 2, 0,
	  4, true, true, "PATCH|io_uring-next/net-next|v2|0/4",
	  "io_uring-next/net-next",
	  "implement io_uring notification (ubuf_info) stacking" },
	{ "RE: [Linaro-mm-sig] Re: [PATCH] epoll: try to be a _bit_ better "
	  "about\n file lifetimes", true, false, false, false, 1, 1, 1, false,
	  false, "Linaro-mm-sig", "Linaro-mm-sig",
	  "Re: [PATCH] epoll: try to be a _bit_ better about file lifetimes" },
	{ "[GIT PULL] io_uring fixes for 6.8-rc1", false, false, false, false,
	  1, 1, 1, false, false, "GIT|PULL", "GIT|PULL",
	  "io_uring fixes for 6.8-rc1" },
	{ "[PATCHSET RFC 0/7] Send and receive bundles", false, true, false,
	  true, 1, 0, 7, false, true, "PATCHSET|RFC|0/7", "",
	  "Send and receive bundles" },
	{ "[Patch v9 02/10] block: add helper", false, false, false, true, 9, 2,
	  10, true, true, "Patch|v9|02/10", "", "block: add helper" },
	{ "[PATCH for-next] io_uring: foo", false, false, false, true, 1, 1, 1,
	  false, false, "PATCH|for-next", "for-next", "io_uring: foo" },
	{ "[linux-next:master] BUILD REGRESSION "
	  "e31185ce00a96232308300008db193416ceb9769", false, false, false,
	  false, 1, 1, 1, false, false, "linux-next:master",
	  "linux-next:master",
	  "BUILD REGRESSION e31185ce00a96232308300008db193416ceb9769" },
	{ "subscribe", false, false, false, false, 1, 1, 1, false, false, "",
	  "", "subscribe" },
	{ "[io-uring] WARNING in io_issue_sqe", false, false, false, false, 1,
	  1, 1, false, false, "io-uring", "io-uring",
	  "WARNING in io_issue_sqe" },
};

static void join(struct strbuf *sb, char **v, size_t nr)
{
	strbuf_reset(sb);
	for (size_t i = 0; i < nr; i++) {
		if (i)
			strbuf_addch(sb, '|');
		strbuf_addstr(sb, v[i]);
	}
}

#define CHECK_INT(got, want)                                                  \
	do {                                                                  \
		if ((got) != (want))                                          \
			fail_msg("'%s': %s is %d, want %d", r->subject, #got,  \
				 (int)(got), (int)(want));                    \
	} while (0)
#define CHECK_STR(got, want)                                                  \
	do {                                                                  \
		if (strcmp((got), (want)))                                    \
			fail_msg("'%s': %s is '%s', want '%s'", r->subject,   \
				 #got, (got), (want));                        \
	} while (0)

static void test_rows(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct subject s = SUBJECT_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];

		subject_parse(&s, r->subject);
		CHECK_INT(s.reply, r->reply);
		CHECK_INT(s.rfc, r->rfc);
		CHECK_INT(s.resend, r->resend);
		CHECK_INT(s.patch, r->patch);
		CHECK_INT(s.revision, r->revision);
		CHECK_INT(s.counter, r->counter);
		CHECK_INT(s.expected, r->expected);
		CHECK_INT(s.explicit_revision, r->explicit_revision);
		CHECK_INT(s.explicit_counter, r->explicit_counter);
		join(&sb, s.prefixes, s.prefixes_nr);
		CHECK_STR(sb.buf, r->prefixes);
		join(&sb, s.tags, s.tags_nr);
		CHECK_STR(sb.buf, r->tags);
		CHECK_STR(s.title, r->title);
		if (s.prefixes_nr)
			assert_true(s.has_brackets);
	}
	subject_release(&s);
	strbuf_release(&sb);
}

/* A reused struct is released, not leaked (ASan checks). */
static void test_reparse(void **state)
{
	struct subject s;

	(void)state;
	subject_init(&s);
	assert_int_equal(s.revision, 1);
	assert_null(s.title);
	subject_parse(&s, "[PATCH v2 1/2] a");
	subject_parse(&s, "[RFC] b");
	assert_true(s.rfc);
	assert_int_equal(s.revision, 1);
	assert_string_equal(s.title, "b");
	/* Fuzzer find: parsing the struct's own title freed it first. */
	subject_parse(&s, "[PATCH] Re: [PATCH v3] x");
	subject_parse(&s, s.title);
	assert_true(s.reply);
	assert_int_equal(s.revision, 3);
	assert_string_equal(s.title, "x");
	subject_release(&s);
	subject_release(&s);
	subject_release(NULL);
}

static void test_limits(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct subject s = SUBJECT_INIT;

	(void)state;
	for (int i = 0; i < 1000; i++)
		strbuf_addstr(&sb, "[x y] ");
	strbuf_addstr(&sb, "title");
	subject_parse(&s, sb.buf);
	assert_int_equal(s.prefixes_nr, SUBJECT_MAX_PREFIXES);
	assert_true(strlen(s.title) > 0);

	strbuf_reset(&sb);
	for (int i = 0; i < 100000; i++)
		strbuf_addch(&sb, '[');
	subject_parse(&s, sb.buf);
	assert_int_equal(s.prefixes_nr, 0);
	assert_int_equal(strlen(s.title), SUBJECT_MAX_LEN);

	strbuf_reset(&sb);
	for (int i = 0; i < 5000; i++)
		strbuf_addstr(&sb, "Re: ");
	strbuf_addstr(&sb, "[PATCH v7] x");
	subject_parse(&s, sb.buf);
	assert_true(s.reply);

	subject_parse(&s, "[PATCH v99999999999999] x");
	assert_int_equal(s.revision, 1);
	assert_false(s.explicit_revision);
	subject_parse(&s, "[PATCH 9999/9999] x");
	assert_int_equal(s.counter, 9999);

	subject_parse(&s, "[\xff\xfe PATCH \x80v2] \xc3\xa9t\xc3\xa9");
	assert_true(s.patch);
	assert_string_equal(s.title, "\xc3\xa9t\xc3\xa9");

	subject_parse(&s, "[] x");
	assert_true(s.has_brackets);
	assert_int_equal(s.prefixes_nr, 0);
	subject_parse(&s, "[PATCH v2 x");
	assert_false(s.has_brackets);
	subject_release(&s);
	strbuf_release(&sb);
}

static void test_normalise_title(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	subject_normalise_title(&sb, "  IO_uring:  Fix\tFoo. ");
	assert_string_equal(sb.buf, "io_uring: fix foo");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "x:");
	subject_normalise_title(&sb, "...");
	assert_string_equal(sb.buf, "x:");
	strbuf_release(&sb);
}

/* Every subject of the real archive parses; count a few shapes. */
static void test_archive(void **state)
{
	char line[4096];
	FILE *f;
	size_t n = 0, replies = 0, patches = 0, covers = 0, versioned = 0;
	struct subject s = SUBJECT_INIT;

	(void)state;
	f = popen("xz -dc " KREVIEW_SHARED_DIR "/data/io-uring-2024H1.mbox.xz"
		  " | grep -a '^Subject:'", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		subject_parse(&s, line + strlen("Subject:"));
		assert_non_null(s.title);
		assert_true(s.revision >= 1);
		assert_true(s.expected >= s.counter);
		n++;
		replies += s.reply;
		patches += !s.reply && s.patch;
		covers += !s.reply && s.explicit_counter && !s.counter;
		versioned += !s.reply && s.explicit_revision;
	}
	assert_int_equal(pclose(f), 0);
	print_message("%zu subjects: %zu replies, %zu patch mails, %zu covers, "
		      "%zu versioned\n",
		      n, replies, patches, covers, versioned);
	assert_int_equal(n, 2027);
	assert_true(replies > 1000);
	assert_true(patches > 600);
	subject_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_reparse),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_normalise_title),
		cmocka_unit_test(test_archive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
