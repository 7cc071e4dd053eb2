#include "testutil.h"
#include "kreview/trailer.h"

static void expect(const struct trailer_list *l, size_t i, const char *name,
		   const char *value, const char *extinfo)
{
	if (i >= l->nr)
		fail_msg("trailer %zu missing (have %zu)", i, l->nr);
	assert_string_equal(l->items[i].name, name);
	assert_string_equal(l->items[i].value, value);
	if (extinfo)
		assert_string_equal(l->items[i].extinfo, extinfo);
	else
		assert_null(l->items[i].extinfo);
}

static void test_block(void **state)
{
	static const char msg[] =
		"io_uring: fix foo\n"
		"\n"
		"Something: is prose in the first paragraph.\n"
		"\n"
		"Reported-by: syzbot+abc@syzkaller.appspotmail.com\n"
		"Fixes: 0123456789ab (\"io_uring: a very long subject that\n"
		"wraps\")\n"
		"Cc: stable@vger.kernel.org # v6.1+\n"
		"Signed-off-by: Long Name\n"
		"<long.name@example.com>\n"
		"[axboe: fold in fix]\n"
		"Link: https://lore.kernel.org/r/x@y#frag\n"
		"Signed-off-by: Jens Axboe <axboe@kernel.dk>\n";
	struct trailer_list l = TRAILER_LIST_INIT;
	size_t off;

	(void)state;
	off = trailer_parse_block(&l, msg, strlen(msg));
	assert_int_equal(off, strstr(msg, "Reported-by") - msg);
	assert_int_equal(l.nr, 6);
	expect(&l, 0, "Reported-by", "syzbot+abc@syzkaller.appspotmail.com",
	       NULL);
	expect(&l, 1, "Fixes",
	       "0123456789ab (\"io_uring: a very long subject that wraps\")",
	       NULL);
	expect(&l, 2, "Cc", "stable@vger.kernel.org", "# v6.1+");
	expect(&l, 3, "Signed-off-by", "Long Name <long.name@example.com>",
	       "[axboe: fold in fix]");
	expect(&l, 4, "Link", "https://lore.kernel.org/r/x@y#frag", NULL);
	expect(&l, 5, "Signed-off-by", "Jens Axboe <axboe@kernel.dk>", NULL);
	assert_string_equal(trailer_get(&l, "FIXES"), l.items[1].value);
	assert_null(trailer_get(&l, "Acked-by"));
	trailer_list_release(&l);
	trailer_list_release(&l);
}

static void test_block_mixed(void **state)
{
	/* Prose in the last paragraph: only the run after it counts. */
	static const char msg[] = "fix it\n\nThis is prose.\n"
				  "Signed-off-by: A <a@b.c>\n"
				  "Email: a@b.c\n\n\n";
	static const char none[] = "fix it\n\nno trailers: here\nreally not\n";
	static const char only[] = "Acked-by: A <a@b.c>\r\n";
	static const char sig[] = "x\n\nAcked-by: A <a@b.c>\n-- \nFoo: bar\n";
	static const char hdr[] = "x\n\nprose\nFrom: A <a@b.c>\n";
	struct trailer_list l = TRAILER_LIST_INIT;

	(void)state;
	assert_int_equal(trailer_parse_block(&l, msg, strlen(msg)),
			 strstr(msg, "Signed-off-by") - msg);
	assert_int_equal(l.nr, 1); /* Email: is ignored */
	trailer_list_release(&l);

	assert_int_equal(trailer_parse_block(&l, none, strlen(none)),
			 strlen(none));
	assert_int_equal(l.nr, 0);

	assert_int_equal(trailer_parse_block(&l, only, strlen(only)), 0);
	expect(&l, 0, "Acked-by", "A <a@b.c>", NULL);
	trailer_list_release(&l);

	assert_int_equal(trailer_parse_block(&l, sig, strlen(sig)),
			 strstr(sig, "Acked") - sig);
	assert_int_equal(l.nr, 1);
	trailer_list_release(&l);

	assert_int_equal(trailer_parse_block(&l, hdr, strlen(hdr)),
			 strstr(hdr, "From") - hdr);
	assert_int_equal(l.nr, 0);
	trailer_list_release(&l);

	assert_int_equal(trailer_parse_block(&l, "", 0), 0);
	assert_int_equal(l.nr, 0);
}

static void test_reply(void **state)
{
	static const char reply[] =
		"On Mon, Jan 1, 2024 Foo wrote:\n"
		"> Signed-off-by: Foo <foo@example.com>\n"
		"> ---\n"
		">  io_uring/x.c | 1 +\n"
		"\n"
		"Looks good to me.\n"
		"\n"
		"Reviewed-by: Rev Iewer\n"
		"<rev@example.com>\n"
		"Acked-by: someone\n"
		"Tested-by: T <t@example.com> # on arm64\n"
		"Link: https://example.com/x\n"
		"Note: see https://example.com/y a@b.c\n"
		"Fixes: abc (\"too short\")\n"
		"Fixes: 0123456789ab (\"long enough\")\n"
		"Cc: someone@example.com\n"
		"From: X <x@example.com>\n"
		"Phone: 555 a@b.c\n"
		"Grüße: a@b.c\n"
		"Closes: https://bugzilla.kernel.org/1\n"
		"-- \n"
		"Acked-by: Sig <sig@example.com>\n";
	struct trailer_list l = TRAILER_LIST_INIT;

	(void)state;
	trailer_parse_reply(&l, reply, strlen(reply));
	assert_int_equal(l.nr, 5);
	expect(&l, 0, "Reviewed-by", "Rev Iewer <rev@example.com>", NULL);
	expect(&l, 1, "Tested-by", "T <t@example.com>", "# on arm64");
	expect(&l, 2, "Link", "https://example.com/x", NULL);
	expect(&l, 3, "Fixes", "0123456789ab (\"long enough\")", NULL);
	expect(&l, 4, "Closes", "https://bugzilla.kernel.org/1", NULL);
	trailer_list_release(&l);
}

static void test_limits(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct trailer_list l = TRAILER_LIST_INIT;

	(void)state;
	for (int i = 0; i < 3000; i++)
		strbuf_addf(&sb, "Acked-by: N%d <n%d@example.com>\n", i, i);
	assert_int_equal(trailer_parse_block(&l, sb.buf, sb.len), 0);
	assert_int_equal(l.nr, TRAILER_MAX);
	trailer_list_release(&l);
	trailer_parse_reply(&l, sb.buf, sb.len);
	assert_int_equal(l.nr, TRAILER_MAX);
	trailer_list_release(&l);

	/* Odd shapes that must not be trailers. */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "x\n\na: b\n:\nfoo:\nfoo:bar\nhttp://x\n\n");
	assert_int_equal(trailer_parse_block(&l, sb.buf, sb.len), sb.len);
	assert_int_equal(l.nr, 0);
	/* A Fixes: whose parenthesis never closes is not joined. */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "Fixes: 0123456789ab (\"foo\nbar\nbaz\nqux\nquux");
	trailer_parse_reply(&l, sb.buf, sb.len);
	expect(&l, 0, "Fixes", "0123456789ab (\"foo", NULL);
	trailer_list_release(&l);
	strbuf_release(&sb);
}

/* Fuzzer find: a NUL in the value made an empty C string. */
static void test_nul(void **state)
{
	static const char msg[] = "x\n\nReported-by:\r\0\0a@b.c\n"
				  "Signed-off-by: A <a@b.c>\n";
	struct trailer_list l = TRAILER_LIST_INIT;

	(void)state;
	trailer_parse_block(&l, msg, sizeof(msg) - 1);
	assert_int_equal(l.nr, 1);
	expect(&l, 0, "Signed-off-by", "A <a@b.c>", NULL);
	trailer_list_release(&l);
	trailer_parse_reply(&l, msg, sizeof(msg) - 1);
	assert_int_equal(l.nr, 1);
	trailer_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block),
		cmocka_unit_test(test_block_mixed),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
