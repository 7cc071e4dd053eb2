#include "testutil.h"

#include "kreview/aggregate.h"
#include "kreview/diff.h"
#include "kreview/finding.h"

#include <git2.h>

static const char *patch =
	"diff --git a/io_uring/net.c b/io_uring/net.c\n"
	"index 1111111..2222222 100644\n"
	"--- a/io_uring/net.c\n"
	"+++ b/io_uring/net.c\n"
	"@@ -10,5 +10,8 @@ int io_recv_finish(struct io_kiocb *req)\n"
	" \tstruct io_async_msghdr *kmsg = req->async_data;\n"
	" \n"
	"+\tif (ret == -EAGAIN)\n"
	"+\t\treturn IOU_RETRY;\n"
	"+\n"
	" \tio_req_set_res(req, ret, cflags);\n"
	" \treturn IOU_OK;\n"
	" }\n";

static const char *answer_ok =
	"{\"findings\": [{\"file\": \"io_uring/net.c\", \"line\": 12,"
	" \"end_line\": 13, \"function\": \"io_recv_finish\","
	" \"category\": \"resource-leak\", \"severity\": \"high\","
	" \"confidence\": 0.7, \"title\": \"buffer not recycled on -EAGAIN\","
	" \"explanation\": \"io_recv_finish returns IOU_RETRY without io_kbuf_recycle\","
	" \"evidence\": \"+\\tif (ret == -EAGAIN)\\n+\\t\\treturn IOU_RETRY;\","
	" \"pre_existing\": false}]}";

static void test_parse_valid(void **state)
{
	struct finding_list l = FINDING_LIST_INIT;
	size_t rej = 0;

	(void)state;
	assert_int_equal(finding_parse_answer(&l, answer_ok, strlen(answer_ok),
					      &rej, NULL), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(rej, 0);
	assert_string_equal(l.v[0].file, "io_uring/net.c");
	assert_int_equal(l.v[0].line, 12);
	assert_int_equal(l.v[0].end_line, 13);
	assert_int_equal(l.v[0].severity, SEV_HIGH);
	assert_true(l.v[0].confidence > 0.69 && l.v[0].confidence < 0.71);
	assert_false(l.v[0].pre_existing);
	finding_list_release(&l);
}

static void test_parse_rejects(void **state)
{
	static const char *bad =
		"{\"findings\": ["
		"{\"file\": \"a.c\", \"line\": 0, \"category\": \"logic\","
		" \"severity\": \"high\", \"title\": \"t\", \"explanation\": \"e\","
		" \"evidence\": \"x\"},"
		"{\"file\": \"a.c\", \"line\": 3, \"category\": \"bogus\","
		" \"severity\": \"high\", \"title\": \"t\", \"explanation\": \"e\","
		" \"evidence\": \"x\"},"
		"{\"file\": \"a.c\", \"line\": 3, \"category\": \"logic\","
		" \"severity\": \"severe\", \"title\": \"t\", \"explanation\": \"e\","
		" \"evidence\": \"x\"},"
		"{\"file\": \"../etc/passwd\", \"line\": 3, \"category\": \"logic\","
		" \"severity\": \"low\", \"title\": \"t\", \"explanation\": \"e\","
		" \"evidence\": \"x\"},"
		"{\"file\": \"a.c\", \"line\": 5, \"end_line\": 4, \"category\": \"logic\","
		" \"severity\": \"low\", \"title\": \"t\", \"explanation\": \"e\","
		" \"evidence\": \"x\"},"
		"{\"file\": \"a.c\", \"line\": 5, \"category\": \"logic\","
		" \"severity\": \"low\", \"title\": \"t\", \"explanation\": \"e\","
		" \"evidence\": \"x\", \"confidence\": 7},"
		"42,"
		"{\"file\": \"a.c\", \"line\": 5, \"category\": \"logic\","
		" \"severity\": \"low\", \"title\": \"ok\", \"explanation\": \"e\","
		" \"evidence\": \"x\"}]}";
	struct finding_list l = FINDING_LIST_INIT;
	struct strbuf why = STRBUF_INIT;
	size_t rej = 0;

	(void)state;
	assert_int_equal(finding_parse_answer(&l, bad, strlen(bad), &rej, &why),
			 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(rej, 7);
	assert_non_null(strstr(why.buf, "finding 1: 'line' = 0 is out of range"));
	assert_non_null(strstr(why.buf, "finding 2: unknown category 'bogus'"));
	assert_non_null(strstr(why.buf, "finding 3: unknown severity 'severe'"));
	assert_non_null(strstr(why.buf, "finding 4: bad file name"));
	assert_non_null(strstr(why.buf, "finding 5: end_line 4 is before line 5"));
	assert_non_null(strstr(why.buf, "finding 6: 'confidence' is not within 0..1"));
	assert_non_null(strstr(why.buf, "finding 7: not an object"));
	strbuf_reset(&why);
	assert_int_equal(finding_parse_answer(&l, "[]", 2, &rej, &why), -EPROTO);
	assert_int_equal(finding_parse_answer(&l, "{\"findings\": 3}", 15, &rej,
					      &why),
			 -EPROTO);
	strbuf_release(&why);
	finding_list_release(&l);
}

struct files {
	const char *path, *text;
};

static int read_file(void *ctx, const char *path, struct strbuf *out)
{
	const struct files *f = ctx;

	for (; f->path; f++) {
		if (!strcmp(f->path, path)) {
			strbuf_addstr(out, f->text);
			return 0;
		}
	}
	return -ENOENT;
}

static void test_check(void **state)
{
	static const struct files tree[] = {
		{ "io_uring/kbuf.c", "void io_kbuf_recycle(struct io_kiocb *req)\n{\n\treq->flags &= ~REQ_F_BUFFER_SELECTED;\n}\n" },
		{ NULL, NULL },
	};
	struct finding_list l = FINDING_LIST_INIT;
	struct diff d = DIFF_INIT;
	struct strbuf why = STRBUF_INIT;
	struct finding_code code = { patch, strlen(patch), &d, read_file,
				     (void *)tree };
	struct finding *f;

	(void)state;
	assert_int_equal(diff_parse(&d, patch, strlen(patch), &why), 0);
	assert_int_equal(finding_parse_answer(&l, answer_ok, strlen(answer_ok),
					      NULL, NULL), 0);
	f = &l.v[0];
	assert_int_equal(finding_check(f, &code, &why), 0);

	/* evidence with different indentation still matches */
	free(f->evidence);
	f->evidence = xstrdup("if (ret == -EAGAIN)\n    return IOU_RETRY;\n...");
	assert_int_equal(finding_check(f, &code, &why), 0);

	/* evidence not in the code */
	free(f->evidence);
	f->evidence = xstrdup("kfree(kmsg);");
	strbuf_reset(&why);
	assert_int_equal(finding_check(f, &code, &why), -EINVAL);
	assert_string_equal(why.buf, "evidence not found in the code: 'kfree(kmsg);'");

	/* a file of the tree outside the patch, line within it */
	free(f->file);
	f->file = xstrdup("io_uring/kbuf.c");
	free(f->evidence);
	f->evidence = xstrdup("req->flags &= ~REQ_F_BUFFER_SELECTED;");
	f->line = 3;
	assert_int_equal(finding_check(f, &code, &why), 0);
	f->line = 900;
	strbuf_reset(&why);
	assert_int_equal(finding_check(f, &code, &why), -EINVAL);
	assert_string_equal(why.buf, "line 900 is past the end of 'io_uring/kbuf.c' (4 lines)");

	/* a file nowhere */
	free(f->file);
	f->file = xstrdup("fs/nope.c");
	strbuf_reset(&why);
	assert_int_equal(finding_check(f, &code, &why), -EINVAL);
	assert_string_equal(why.buf, "file 'fs/nope.c' is neither in the patch nor in the tree");
	strbuf_release(&why);
	diff_release(&d);
	finding_list_release(&l);
}

static struct finding mk(const char *file, int line, const char *fn,
			 const char *cat, enum finding_severity sev, int run,
			 const char *title, const char *evidence)
{
	struct finding f;

	finding_init(&f);
	f.file = xstrdup(file);
	f.line = f.end_line = line;
	f.function = xstrdup(fn);
	f.category = xstrdup(cat);
	f.severity = sev;
	f.confidence = 0.5;
	f.title = xstrdup(title);
	f.explanation = xstrdup(title);
	f.evidence = xstrdup(evidence);
	f.run = run;
	return f;
}

static void add(struct finding_list *l, struct finding f)
{
	finding_list_add(l, &f);
	finding_release(&f);
}

static void test_fingerprint_stable(void **state)
{
	struct finding a = mk("io_uring/net.c", 12, "io_recv_finish",
			      "resource-leak", SEV_HIGH, 0,
			      "io_kbuf_recycle missing when io_recv_finish retries",
			      "return IOU_RETRY; /* io_kbuf_recycle */");
	struct finding b = mk("io_uring/net.c", 40, "io_recv_finish",
			      "resource-leak", SEV_MEDIUM, 1,
			      "io_kbuf_recycle missing when io_recv_finish retries",
			      "return IOU_RETRY; /* io_kbuf_recycle */");
	char fa[41], fb[41], fc[41];

	(void)state;
	finding_fingerprint(fa, &a, "IO_URING");
	finding_fingerprint(fb, &b, "IO_URING");
	assert_string_equal(fa, fb); /* lines and severity do not count */
	finding_fingerprint(fc, &a, "NETWORKING [GENERAL]");
	assert_string_not_equal(fa, fc);
	free(b.category);
	b.category = xstrdup("use-after-free");
	finding_fingerprint(fb, &b, "IO_URING");
	assert_string_not_equal(fa, fb);
	finding_release(&a);
	finding_release(&b);
}

static void test_aggregate(void **state)
{
	struct finding_list l = FINDING_LIST_INIT;
	struct cluster_list cl = CLUSTER_LIST_INIT;
	struct aggregate_opts o = { .runs = 3, .subsystem = "IO_URING" };

	(void)state;
	/* the same leak in runs 0 and 2 (two stages in run 2), worded
	 * differently and at different lines */
	add(&l, mk("io_uring/net.c", 12, "io_recv_finish", "resource-leak",
		   SEV_HIGH, 0, "buffer not recycled on -EAGAIN in io_recv_finish",
		   "return IOU_RETRY;"));
	add(&l, mk("io_uring/net.c", 14, "io_recv_finish", "resource-leak",
		   SEV_MEDIUM, 2, "buffer is not recycled on -EAGAIN retry",
		   "if (ret == -EAGAIN)\n\treturn IOU_RETRY;"));
	add(&l, mk("io_uring/net.c", 13, "io_recv_finish", "resource-leak",
		   SEV_MEDIUM, 2, "selected buffer not recycled on -EAGAIN",
		   "return IOU_RETRY;"));
	/* a lone low style nit */
	add(&l, mk("io_uring/net.c", 80, "io_send", "style", SEV_LOW, 1,
		   "declarations not in reverse Christmas tree order",
		   "int ret;\nstruct msghdr msg;"));
	/* a lone medium race elsewhere */
	add(&l, mk("io_uring/poll.c", 200, "io_poll_wake", "race", SEV_MEDIUM, 1,
		   "poll wake races with cancel", "list_del_init(&poll->wait.entry);"));
	aggregate_findings(&cl, &l, &o);
	assert_int_equal(cl.nr, 3);
	/* first: the leak, support 2 of 3, severity upper median = medium */
	assert_string_equal(cl.v[0].rep.category, "resource-leak");
	assert_int_equal(cl.v[0].support, 2);
	assert_int_equal(cl.v[0].runs, 3);
	assert_int_equal(cl.v[0].members_nr, 3);
	assert_int_equal(cl.v[0].severity, SEV_MEDIUM);
	assert_int_equal(cl.v[0].max_severity, SEV_HIGH);
	assert_string_equal(cl.v[0].rep.evidence, "if (ret == -EAGAIN)\n\treturn IOU_RETRY;");
	assert_true(aggregate_survives(&cl.v[0], &o));
	/* the lone medium race does not survive in list mode */
	assert_string_equal(cl.v[1].rep.category, "race");
	assert_false(aggregate_survives(&cl.v[1], &o));
	/* the lone low survives only locally */
	assert_string_equal(cl.v[2].rep.category, "style");
	assert_false(aggregate_survives(&cl.v[2], &o));
	o.local = true;
	assert_true(aggregate_survives(&cl.v[2], &o));
	/* confirmation raises to the highest reported severity */
	aggregate_apply_verdict(&cl.v[0], VERDICT_CONFIRMED, "path shown");
	assert_int_equal(cl.v[0].severity, SEV_HIGH);
	assert_true(cl.v[0].confidence >= 0.8);
	cluster_list_release(&cl);
	finding_list_release(&l);
}

static void test_critical_class_not_lowered(void **state)
{
	struct finding_list l = FINDING_LIST_INIT;
	struct cluster_list cl = CLUSTER_LIST_INIT;
	struct aggregate_opts o = { .runs = 3 };

	(void)state;
	add(&l, mk("a.c", 5, "f", "use-after-free", SEV_CRITICAL, 0,
		   "req used after io_put_req", "io_put_req(req);"));
	add(&l, mk("a.c", 5, "f", "use-after-free", SEV_LOW, 1,
		   "req used after io_put_req", "io_put_req(req);"));
	add(&l, mk("a.c", 5, "f", "use-after-free", SEV_LOW, 2,
		   "req used after io_put_req", "io_put_req(req);"));
	aggregate_findings(&cl, &l, &o);
	assert_int_equal(cl.nr, 1);
	assert_int_equal(cl.v[0].support, 3);
	assert_int_equal(cl.v[0].severity, SEV_CRITICAL);
	cluster_list_release(&cl);
	finding_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_fingerprint_stable),
		cmocka_unit_test(test_aggregate),
		cmocka_unit_test(test_critical_class_not_lowered),
	};
	int r;

	git_libgit2_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return r;
}
