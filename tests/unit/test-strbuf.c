#include "testutil.h"

static void test_add_and_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	size_t len;

	(void)state;
	assert_string_equal(sb.buf, "");
	strbuf_addstr(&sb, "hello");
	strbuf_addch(&sb, ' ');
	strbuf_addf(&sb, "%d-%s", 42, "x");
	assert_string_equal(sb.buf, "hello 42-x");
	s = strbuf_detach(&sb, &len);
	assert_int_equal(len, 10);
	assert_string_equal(s, "hello 42-x");
	free(s);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
}

static void test_cap(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	sb.max = 8;
	assert_int_equal(strbuf_add_checked(&sb, "12345", 5), 0);
	assert_int_equal(strbuf_add_checked(&sb, "6789", 4), -E2BIG);
	assert_string_equal(sb.buf, "12345");
	assert_int_equal(strbuf_add_checked(&sb, "678", 3), 0);
	strbuf_release(&sb);
	assert_int_equal(sb.max, 8);
}

static void test_long_format(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[1000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addf(&sb, "<%s>", big);
	assert_int_equal(sb.len, 1001);
	strbuf_release(&sb);
}

static void test_trim_insert_remove(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "  x y \n");
	strbuf_trim(&sb);
	assert_string_equal(sb.buf, "x y");
	strbuf_insert(&sb, 1, "ab", 2);
	assert_string_equal(sb.buf, "xab y");
	strbuf_remove(&sb, 0, 3);
	assert_string_equal(sb.buf, " y");
	strbuf_release(&sb);
}

static void test_json(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_add_json_str(&sb, "a\"b\\c\n\x01\xff", 8);
	assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\"");
	strbuf_reset(&sb);
	strbuf_add_json_str(&sb, "\xc3\xa9", 2);
	assert_string_equal(sb.buf, "\"\xc3\xa9\"");
	/* runs around escapes, invalid and cut UTF-8, DEL, NUL */
	strbuf_reset(&sb);
	strbuf_add_json_str(&sb, "ab \xc3\xa9 c\x7f\td\xc3(e\0f\xe2\x82", 17);
	assert_string_equal(sb.buf, "\"ab \xc3\xa9 c\\u007f\\td\xef\xbf\xbd(e"
				    "\\u0000f\xef\xbf\xbd\xef\xbf\xbd\"");
	strbuf_release(&sb);
}

static void test_parse_numbers(void **state)
{
	int64_t v;
	int i;

	(void)state;
	assert_int_equal(parse_int64(&v, "123", 10), 0);
	assert_int_equal(v, 123);
	assert_int_equal(parse_int64(&v, "12x", 10), -EINVAL);
	assert_int_equal(parse_int64(&v, "", 10), -EINVAL);
	assert_int_equal(parse_int64(&v, "99999999999999999999", 10), -ERANGE);
	assert_int_equal(parse_int(&i, "7", 1, 5), -ERANGE);
	assert_int_equal(parse_int(&i, "5", 1, 5), 0);
	assert_int_equal(i, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_detach),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_long_format),
		cmocka_unit_test(test_trim_insert_remove),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_parse_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
