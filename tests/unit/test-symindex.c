#include "testutil.h"

#include <git2.h>

#include "kreview/symindex.h"

struct collected {
	char names[64][64];
	enum symindex_kind kinds[64];
	unsigned lines[64], ends[64];
	size_t nr;
};

static int collect(const struct symindex_def *def, void *data)
{
	struct collected *c = data;

	if (c->nr >= 64)
		return 1;
	snprintf(c->names[c->nr], sizeof(c->names[0]), "%.*s",
		 (int)def->name_len, def->name);
	c->kinds[c->nr] = def->kind;
	c->lines[c->nr] = def->line;
	c->ends[c->nr] = def->end_line;
	c->nr++;
	return 0;
}

static ssize_t find(const struct collected *c, const char *name,
		    enum symindex_kind kind)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->names[i], name) && c->kinds[i] == kind)
			return (ssize_t)i;
	return -1;
}

static void expect(const struct collected *c, const char *name,
		   enum symindex_kind kind, unsigned line, unsigned end)
{
	ssize_t i = find(c, name, kind);

	if (i < 0)
		fail_msg("%s %s not found", symindex_kind_name(kind), name);
	if (c->lines[i] != line || c->ends[i] != end)
		fail_msg("%s %s at %u-%u, expected %u-%u",
			 symindex_kind_name(kind), name, c->lines[i], c->ends[i],
			 line, end);
}

static void test_scan_small(void **state)
{
	static const char src[] =
		"#define FOO 1\n"				/* 1 */
		"#define BAR(x) \\\n"				/* 2 */
		"\t((x) + 1)\n"					/* 3 */
		"struct foo {\n"				/* 4 */
		"\tint (*cb)(int);\n"				/* 5 */
		"\tstruct { int a; } in;\n"			/* 6 */
		"};\n"						/* 7 */
		"struct fwd;\n"					/* 8 */
		"int proto(int a);\n"				/* 9 */
		"typedef unsigned long ulong_t;\n"		/* 10 */
		"typedef int (*handler_t)(struct foo *f,\n"	/* 11 */
		"\t\t\t int b);\n"				/* 12 */
		"typedef struct {\n"				/* 13 */
		"\tint x;\n"					/* 14 */
		"} anon_t;\n"					/* 15 */
		"enum color { RED, GREEN };\n"			/* 16 */
		"enum { ANON_A };\n"				/* 17 */
		"static const struct foo tbl[] = {\n"		/* 18 */
		"\t{ .cb = 0 },\n"				/* 19 */
		"};\n"						/* 20 */
		"static struct foo *\n"				/* 21 */
		"make_foo(int a,\n"				/* 22 */
		"\t int b)\n"					/* 23 */
		"{\n"						/* 24 */
		"\tchar c = '{';\n"				/* 25 */
		"\t/* } */ const char *s = \"}\";\n"		/* 26 */
		"\treturn 0;\n"					/* 27 */
		"}\n"						/* 28 */
		"SYSCALL_DEFINE2(io_uring_setup, u32, entries,\n" /* 29 */
		"\t\tvoid *, p)\n"				/* 30 */
		"{\n"						/* 31 */
		"}\n"						/* 32 */
		"__printf(2, 3) int logf(int l, const char *f, ...)\n" /* 33 */
		"{\n"						/* 34 */
		"}\n"						/* 35 */
		"DECLARE_SOMETHING(x)\n"			/* 36 */
		"static int after_macro(void) __acquires(x)\n"	/* 37 */
		"{\n"						/* 38 */
		"#ifdef A\n"					/* 39 */
		"\tif (a) {\n"					/* 40 */
		"#else\n"					/* 41 */
		"\tif (b) {\n"					/* 42 */
		"#endif\n"					/* 43 */
		"\t}\n"						/* 44 */
		"}\n"						/* 45 */
		"union u { int a; } __packed;\n"		/* 46 */
		"static inline int last(void) { return 1; }\n";	/* 47 */
	struct collected c = { 0 };

	(void)state;
	assert_int_equal(symindex_scan_text(src, sizeof(src) - 1, collect, &c),
			 0);
	expect(&c, "FOO", SYMINDEX_MACRO, 1, 1);
	expect(&c, "BAR", SYMINDEX_MACRO, 2, 3);
	expect(&c, "foo", SYMINDEX_STRUCT, 4, 7);
	assert_true(find(&c, "fwd", SYMINDEX_STRUCT) < 0);
	assert_true(find(&c, "proto", SYMINDEX_FUNCTION) < 0);
	assert_true(find(&c, "cb", SYMINDEX_FUNCTION) < 0);
	expect(&c, "ulong_t", SYMINDEX_TYPEDEF, 10, 10);
	expect(&c, "handler_t", SYMINDEX_TYPEDEF, 11, 12);
	expect(&c, "anon_t", SYMINDEX_TYPEDEF, 13, 15);
	expect(&c, "color", SYMINDEX_ENUM, 16, 16);
	assert_true(find(&c, "enum", SYMINDEX_ENUM) < 0);
	assert_true(find(&c, "tbl", SYMINDEX_FUNCTION) < 0);
	expect(&c, "make_foo", SYMINDEX_FUNCTION, 21, 28);
	expect(&c, "io_uring_setup", SYMINDEX_FUNCTION, 29, 32);
	expect(&c, "logf", SYMINDEX_FUNCTION, 33, 35);
	expect(&c, "after_macro", SYMINDEX_FUNCTION, 37, 45);
	assert_true(find(&c, "x", SYMINDEX_FUNCTION) < 0);
	expect(&c, "u", SYMINDEX_UNION, 46, 46);
	expect(&c, "last", SYMINDEX_FUNCTION, 47, 47);
}

static void test_scan_fixture(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct collected c = { 0 };

	(void)state;
	test_read_data(&sb, "tree/io_uring/net.c");
	symindex_scan_text(sb.buf, sb.len, collect, &c);
	expect(&c, "io_sr_msg", SYMINDEX_STRUCT, 24, 38);
	expect(&c, "MULTISHOT_MAX_RETRY", SYMINDEX_MACRO, 45, 45);
	expect(&c, "io_recv_finish", SYMINDEX_FUNCTION, 82, 122);
	expect(&c, "io_recv", SYMINDEX_FUNCTION, 124, 167);
	expect(&c, "io_uring_setup", SYMINDEX_FUNCTION, 170, 177);
	expect(&c, "io_uring_mmap", SYMINDEX_FUNCTION, 179, 186);
	assert_true(find(&c, "io_uring_fops", SYMINDEX_FUNCTION) < 0);
	strbuf_reset(&sb);
	memset(&c, 0, sizeof(c));
	test_read_data(&sb, "tree/include/linux/io_uring_types.h");
	symindex_scan_text(sb.buf, sb.len, collect, &c);
	expect(&c, "io_for_each_link", SYMINDEX_MACRO, 12, 13);
	expect(&c, "io_req_tw_func_t", SYMINDEX_TYPEDEF, 24, 24);
	expect(&c, "io_ring_pos_t", SYMINDEX_TYPEDEF, 26, 29);
	expect(&c, "io_ring_ctx", SYMINDEX_STRUCT, 31, 40);
	expect(&c, "io_kiocb", SYMINDEX_STRUCT, 42, 52);
	expect(&c, "io_req_ffs_set", SYMINDEX_FUNCTION, 54, 57);
	assert_true(find(&c, "IO_URING_TYPES_H", SYMINDEX_MACRO) >= 0);
	strbuf_release(&sb);
}

/* Garbage never crashes and unterminated constructs end the scan. */
static void test_scan_garbage(void **state)
{
	static const char *const inputs[] = {
		"}}}}{{{", "/* unterminated", "\"unterminated", "#define",
		"#define \\", "typedef", "struct {", "f(", "f(){", ")))(((",
		"a\\", "'", "#", "typedef int (*)(;", "SYSCALL_DEFINE0(){}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(inputs); i++) {
		struct collected c = { 0 };

		symindex_scan_text(inputs[i], strlen(inputs[i]), collect, &c);
	}
}

static void add_file(git_treebuilder *tb, git_repository *repo,
		     const char *name, const char *content)
{
	git_oid oid;

	assert_int_equal(git_blob_create_from_buffer(&oid, repo, content,
						     strlen(content)), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, name, &oid,
						GIT_FILEMODE_BLOB), 0);
}

static void test_build_from_repo(void **state)
{
	char *dir = test_mkdtemp();
	git_repository *repo = NULL;
	git_treebuilder *sub = NULL, *root = NULL;
	git_oid sub_oid, root_oid;
	struct symindex *idx = NULL;
	struct symindex_stats st;
	const struct symindex_entry *e[4];
	struct strbuf err = STRBUF_INIT;

	(void)state;
	git_libgit2_init();
	assert_int_equal(git_repository_init(&repo, dir, true), 0);
	assert_int_equal(git_treebuilder_new(&sub, repo, NULL), 0);
	add_file(sub, repo, "a.c", "int a_fn(void)\n{\n}\n#define X 1\n");
	add_file(sub, repo, "b.h", "struct s {\n};\n#define X 2\n");
	add_file(sub, repo, "c.txt", "int not_c(void)\n{\n}\n");
	assert_int_equal(git_treebuilder_write(&sub_oid, sub), 0);
	assert_int_equal(git_treebuilder_new(&root, repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, root, "dir", &sub_oid,
						GIT_FILEMODE_TREE), 0);
	add_file(root, repo, "top.c", "static void top(void)\n{\n}\n");
	assert_int_equal(git_treebuilder_write(&root_oid, root), 0);

	assert_int_equal(symindex_build(&idx, &st, repo, &root_oid, &err), 0);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.entries, 5);
	assert_int_equal(symindex_lookup(e, 4, idx, "a_fn", 4), 1);
	assert_string_equal(e[0]->path, "dir/a.c");
	assert_int_equal(e[0]->kind, SYMINDEX_FUNCTION);
	assert_int_equal(e[0]->line, 1);
	assert_int_equal(e[0]->end_line, 3);
	assert_int_equal(symindex_lookup(e, 4, idx, "X", 1), 2);
	assert_int_equal(symindex_lookup(e, 1, idx, "X", 1), 2);
	assert_int_equal(symindex_lookup(e, 4, idx, "not_c", 5), 0);
	assert_int_equal(symindex_lookup(e, 4, idx, "top", 3), 1);
	assert_string_equal(e[0]->path, "top.c");
	assert_int_equal(symindex_lookup(e, 4, idx, "to", 2), 0);
	symindex_add_text(idx, "new.h", NULL, "struct s {\n\tint a;\n};\n",
			  21);
	assert_int_equal(symindex_lookup(e, 4, idx, "s", 1), 2);
	assert_string_equal(e[0]->path, "new.h");
	assert_null(e[0]->blob);
	assert_non_null(e[1]->blob);
	symindex_free(idx);

	assert_int_equal(symindex_build(&idx, NULL, repo, &sub_oid, &err), 0);
	assert_int_equal(symindex_lookup(e, 4, idx, "a_fn", 4), 1);
	assert_string_equal(e[0]->path, "a.c");
	symindex_free(idx);
	idx = NULL;
	git_oid_fromstr(&root_oid, "0123456789012345678901234567890123456789");
	assert_int_equal(symindex_build(&idx, NULL, repo, &root_oid, &err),
			 -ENOENT);
	assert_null(idx);
	assert_true(err.len > 0);

	strbuf_release(&err);
	git_treebuilder_free(sub);
	git_treebuilder_free(root);
	git_repository_free(repo);
	git_libgit2_shutdown();
	test_rmtree(dir);
	free(dir);
}

/* Many names force the hash table to grow several times. */
static void test_many_names(void **state)
{
	struct strbuf src = STRBUF_INIT;
	struct symindex *idx;
	const struct symindex_entry *e;
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++)
		strbuf_addf(&src, "#define NAME_%d %d\n", i, i);
	symindex_new(&idx);
	symindex_add_text(idx, "big.h", NULL, src.buf, src.len);
	assert_int_equal(symindex_count(idx), 20000);
	for (i = 0; i < 20000; i += 997) {
		snprintf(name, sizeof(name), "NAME_%d", i);
		assert_int_equal(symindex_lookup(&e, 1, idx, name,
						 strlen(name)), 1);
		assert_int_equal(e->line, (unsigned)i + 1);
	}
	symindex_free(idx);
	strbuf_release(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_small),
		cmocka_unit_test(test_scan_fixture),
		cmocka_unit_test(test_scan_garbage),
		cmocka_unit_test(test_build_from_repo),
		cmocka_unit_test(test_many_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
