/*
 * Tests for code context: enclosing blocks in kernel-shaped C, and
 * whole-patch context (functions, +/- lines, referenced definitions,
 * budget) on a repository built from tests/data/tree and a real patch
 * of the io-uring slice.
 */
#include "testutil.h"

#include <git2.h>

#include "kreview/apply.h"
#include "kreview/context.h"
#include "kreview/symindex.h"

static void expect_block(const struct strbuf *src, unsigned line,
			 unsigned start, unsigned end)
{
	unsigned s = 0, e = 0;

	if (context_enclosing(&s, &e, src->buf, src->len, line) < 0)
		fail_msg("line %u: no enclosing block", line);
	if (s != start || e != end)
		fail_msg("line %u: block %u-%u, expected %u-%u", line, s, e,
			 start, end);
}

static void test_enclosing_fixture(void **state)
{
	struct strbuf src = STRBUF_INIT;
	unsigned s, e;

	(void)state;
	test_read_data(&src, "tree/io_uring/net.c");
	/* multi-line static inline signature */
	expect_block(&src, 82, 82, 122);
	expect_block(&src, 84, 82, 122);
	expect_block(&src, 100, 82, 122);
	/* a label in column 0 does not end the function */
	expect_block(&src, 160, 124, 167);
	expect_block(&src, 162, 124, 167);
	/* SYSCALL_DEFINE with a continued argument list */
	expect_block(&src, 171, 170, 177);
	/* return type on its own line, braces in comments and strings */
	expect_block(&src, 184, 179, 186);
	/* struct with a nested anonymous union */
	expect_block(&src, 28, 24, 38);
	/* outside any block */
	assert_int_equal(context_enclosing(&s, &e, src.buf, src.len, 45),
			 -ENOENT);
	assert_int_equal(context_enclosing(&s, &e, src.buf, src.len, 1),
			 -ENOENT);
	strbuf_reset(&src);
	test_read_data(&src, "tree/include/linux/io_uring_types.h");
	/* a multi-line macro encloses its lines */
	expect_block(&src, 13, 12, 13);
	expect_block(&src, 56, 54, 57);
	strbuf_release(&src);
}

struct fx {
	char *dir;
	git_repository *repo;
	git_oid base;
	struct symindex *idx;
};

static void put(git_tree_update *u, git_repository *repo, const char *path,
		const char *content)
{
	u->action = GIT_TREE_UPDATE_UPSERT;
	u->path = path;
	u->filemode = GIT_FILEMODE_BLOB;
	assert_int_equal(git_blob_create_from_buffer(&u->id, repo, content,
						     strlen(content)), 0);
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	struct strbuf net = STRBUF_INIT, types = STRBUF_INIT;
	git_treebuilder *tb = NULL;
	git_tree *empty = NULL;
	git_oid empty_id;
	git_tree_update u[4];

	git_libgit2_init();
	fx->dir = test_mkdtemp();
	assert_int_equal(git_repository_init(&fx->repo, fx->dir, true), 0);
	assert_int_equal(git_treebuilder_new(&tb, fx->repo, NULL), 0);
	assert_int_equal(git_treebuilder_write(&empty_id, tb), 0);
	assert_int_equal(git_tree_lookup(&empty, fx->repo, &empty_id), 0);
	test_read_data(&net, "tree/io_uring/net.c");
	test_read_data(&types, "tree/include/linux/io_uring_types.h");
	put(&u[0], fx->repo, "io_uring/net.c", net.buf);
	put(&u[1], fx->repo, "include/linux/io_uring_types.h", types.buf);
	put(&u[2], fx->repo, "io_uring/kbuf.h",
	    "/* SPDX-License-Identifier: GPL-2.0 */\n"
	    "static inline unsigned int io_put_kbuf(struct io_kiocb *req,\n"
	    "\t\t\t\t       unsigned issue_flags)\n"
	    "{\n"
	    "\tif (!(req->flags & REQ_F_BUFFER_SELECTED))\n"
	    "\t\treturn 0;\n"
	    "\treturn __io_put_kbuf(req, issue_flags);\n"
	    "}\n");
	put(&u[3], fx->repo, "net/core/far.c",
	    "bool io_fill_cqe_req_aux(struct io_kiocb *req, bool defer,\n"
	    "\t\t\t s32 res, u32 cflags)\n"
	    "{\n\treturn false;\n}\n"
	    "#define IORING_CQE_F_MORE (1U << 1)\n");
	assert_int_equal(git_tree_create_updated(&fx->base, fx->repo, empty,
						 4, u), 0);
	assert_int_equal(symindex_build(&fx->idx, NULL, fx->repo, &fx->base,
					NULL), 0);
	git_tree_free(empty);
	git_treebuilder_free(tb);
	strbuf_release(&net);
	strbuf_release(&types);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	symindex_free(fx->idx);
	git_repository_free(fx->repo);
	git_libgit2_shutdown();
	test_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

static const struct context_item *find_item(const struct context *c,
					     enum context_kind kind,
					     const char *name, bool post)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (c->items[i].kind == kind && c->items[i].post == post &&
		    c->items[i].name && !strcmp(c->items[i].name, name))
			return &c->items[i];
	return NULL;
}

static void apply_real(struct apply_result *res, struct strbuf *patch,
		       struct fx *fx)
{
	const char *texts[1];
	size_t lens[1];

	test_read_data(patch, "tree/net-unindent.patch");
	texts[0] = patch->buf;
	lens[0] = patch->len;
	assert_int_equal(apply_series(res, fx->repo, &fx->base, texts, lens, 1,
				      NULL, NULL), 0);
	assert_false(res->failed);
}

static void test_real_patch_context(void **state)
{
	struct fx *fx = *state;
	struct strbuf patch = STRBUF_INIT, out = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	struct context c = CONTEXT_INIT;
	const struct context_item *it;

	apply_real(&res, &patch, fx);
	assert_int_equal(context_build(&c, fx->repo, &res.trees[0],
				       &res.trees[1], patch.buf, patch.len,
				       &res.patches[0], fx->idx, NULL, NULL),
			 0);
	/* the whole function, before and after, despite the -550 offset */
	it = find_item(&c, CONTEXT_FUNCTION, "io_recv_finish", true);
	assert_non_null(it);
	assert_int_equal(it->start, 82);
	assert_int_equal(it->prio, CONTEXT_PRIO_FUNCTION);
	assert_non_null(strstr(it->text, "goto finish;"));
	assert_true(strncmp(it->text, "static inline bool io_recv_finish(", 34)
		    == 0);
	assert_non_null(strstr(it->text, "\treturn true;\n}\n"));
	it = find_item(&c, CONTEXT_FUNCTION, "io_recv_finish", false);
	assert_non_null(it);
	assert_int_equal(it->start, 82);
	assert_int_equal(it->end, 122);
	assert_int_equal(it->prio, CONTEXT_PRIO_PRE_FUNCTION);
	assert_non_null(strstr(it->text, "if (!mshot_finished) {"));
	/* referenced from changed lines */
	it = find_item(&c, CONTEXT_DEFINITION, "io_recv_prep_retry", true);
	assert_non_null(it);
	assert_int_equal(it->prio, CONTEXT_PRIO_FUNC_DEF);
	it = find_item(&c, CONTEXT_DEFINITION, "IO_URING_F_MULTISHOT", true);
	assert_non_null(it);
	assert_string_equal(it->path, "include/linux/io_uring_types.h");
	it = find_item(&c, CONTEXT_DEFINITION, "io_fill_cqe_req_aux", true);
	assert_non_null(it);
	assert_int_equal(it->prio, CONTEXT_PRIO_DISTANT_DEF);
	assert_int_equal(it->sym_kind, SYMINDEX_FUNCTION);
	it = find_item(&c, CONTEXT_DEFINITION, "io_kiocb", true);
	assert_null(it); /* not on a changed line */
	assert_int_equal(c.dropped_nr, 0);

	context_render(&out, &c, false);
	assert_non_null(strstr(out.buf, "== io_uring/net.c:82-"));
	assert_non_null(strstr(out.buf, "function io_recv_finish (post-image"));
	strbuf_reset(&out);
	context_render(&out, &c, true);
	assert_int_equal(strncmp(out.buf, "{\"bytes\":", 9), 0);
	assert_non_null(strstr(out.buf, "\"name\":\"io_recv_finish\""));
	context_release(&c);
	apply_result_release(&res);
	strbuf_release(&patch);
	strbuf_release(&out);
}

static void test_budget(void **state)
{
	struct fx *fx = *state;
	struct strbuf patch = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	struct context full = CONTEXT_INIT, c = CONTEXT_INIT;
	struct context_opts o = CONTEXT_OPTS_INIT;
	const struct context_item *post_fn;
	size_t i, fn_bytes = 0;

	apply_real(&res, &patch, fx);
	assert_int_equal(context_build(&full, fx->repo, &res.trees[0],
				       &res.trees[1], patch.buf, patch.len,
				       &res.patches[0], fx->idx, NULL, NULL),
			 0);
	post_fn = find_item(&full, CONTEXT_FUNCTION, "io_recv_finish", true);
	fn_bytes = post_fn->len;

	/* room for the functions and nearby definitions only */
	o.budget = full.bytes - 1;
	assert_int_equal(context_build(&c, fx->repo, &res.trees[0],
				       &res.trees[1], patch.buf, patch.len,
				       &res.patches[0], fx->idx, &o, NULL),
			 0);
	assert_true(c.bytes <= o.budget);
	/* the last distant definition found goes first */
	assert_int_equal(c.dropped_nr, 1);
	assert_null(find_item(&c, CONTEXT_DEFINITION, "IORING_CQE_F_MORE",
			      true));
	assert_non_null(find_item(&c, CONTEXT_DEFINITION, "io_fill_cqe_req_aux",
				  true));
	assert_non_null(find_item(&c, CONTEXT_DEFINITION,
				  "io_recv_prep_retry", true));
	context_release(&c);

	/* only the post-image function fits: everything else goes */
	o.budget = fn_bytes + 10;
	assert_int_equal(context_build(&c, fx->repo, &res.trees[0],
				       &res.trees[1], patch.buf, patch.len,
				       &res.patches[0], fx->idx, &o, NULL),
			 0);
	assert_int_equal(c.nr, 1);
	assert_int_equal(c.items[0].kind, CONTEXT_FUNCTION);
	assert_true(c.items[0].post);
	assert_false(c.items[0].truncated);
	assert_int_equal(c.dropped_nr, full.nr - 1);
	context_release(&c);

	/* below the function itself: cut with a marker */
	o.budget = 200;
	assert_int_equal(context_build(&c, fx->repo, &res.trees[0],
				       &res.trees[1], patch.buf, patch.len,
				       &res.patches[0], fx->idx, &o, NULL),
			 0);
	assert_int_equal(c.nr, 1);
	assert_true(c.items[0].truncated);
	assert_non_null(strstr(c.items[0].text, "bytes truncated]\n"));
	for (i = 0; i < c.nr; i++)
		assert_true(c.items[i].len < 200 + 40);
	context_release(&c);
	context_release(&full);
	apply_result_release(&res);
	strbuf_release(&patch);
}

/* Non-C files and new files: +/- N lines and the new file's blocks. */
static void test_other_files(void **state)
{
	struct fx *fx = *state;
	struct strbuf patch = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	struct context c = CONTEXT_INIT;
	struct context_opts o = CONTEXT_OPTS_INIT;
	const struct context_item *it;
	const char *texts[1];
	size_t lens[1], i;
	bool saw_lines = false;

	strbuf_addstr(&patch,
		      "diff --git a/Documentation/x.rst b/Documentation/x.rst\n"
		      "new file mode 100644\n"
		      "--- /dev/null\n+++ b/Documentation/x.rst\n"
		      "@@ -0,0 +1,3 @@\n+Title\n+=====\n+text\n"
		      "diff --git a/io_uring/new.c b/io_uring/new.c\n"
		      "new file mode 100644\n"
		      "--- /dev/null\n+++ b/io_uring/new.c\n"
		      "@@ -0,0 +1,6 @@\n+#include \"kbuf.h\"\n+\n"
		      "+static int io_new(struct io_kiocb *req)\n+{\n"
		      "+\treturn io_put_kbuf(req, 0);\n+}\n");
	texts[0] = patch.buf;
	lens[0] = patch.len;
	assert_int_equal(apply_series(&res, fx->repo, &fx->base, texts, lens,
				      1, NULL, NULL), 0);
	assert_false(res.failed);
	o.lines = 1;
	assert_int_equal(context_build(&c, fx->repo, &res.trees[0],
				       &res.trees[1], patch.buf, patch.len,
				       &res.patches[0], fx->idx, &o, NULL),
			 0);
	for (i = 0; i < c.nr; i++) {
		if (c.items[i].kind != CONTEXT_LINES)
			continue;
		if (!strcmp(c.items[i].path, "Documentation/x.rst")) {
			assert_int_equal(c.items[i].start, 1);
			assert_int_equal(c.items[i].end, 3);
			saw_lines = true;
		}
	}
	assert_true(saw_lines);
	it = find_item(&c, CONTEXT_FUNCTION, "io_new", true);
	assert_non_null(it);
	assert_int_equal(it->start, 3);
	assert_int_equal(it->end, 6);
	it = find_item(&c, CONTEXT_DEFINITION, "io_put_kbuf", true);
	assert_non_null(it);
	assert_string_equal(it->path, "io_uring/kbuf.h");
	assert_int_equal(it->prio, CONTEXT_PRIO_FUNC_DEF);
	it = find_item(&c, CONTEXT_DEFINITION, "io_kiocb", true);
	assert_non_null(it);
	assert_int_equal(it->prio, CONTEXT_PRIO_TYPE_DEF);
	context_release(&c);
	apply_result_release(&res);
	strbuf_release(&patch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enclosing_fixture),
		cmocka_unit_test_setup_teardown(test_real_patch_context, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_files, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
