#include "testutil.h"

#include "kreview/diff.h"
#include "kreview/render.h"

#include <json-c/json.h>
#include <math.h>

/*
 * Results are built by hand (the pipeline is not needed to render), so
 * are the series: the helpers below fill and free them without the
 * review.c functions.  KREVIEW_UPDATE_GOLDEN=1 rewrites the golden
 * files under tests/data/render/ instead of comparing.
 */

static const char *patch1 =
	"diff --git a/io_uring/net.c b/io_uring/net.c\n"
	"index 1111111..2222222 100644\n"
	"--- a/io_uring/net.c\n"
	"+++ b/io_uring/net.c\n"
	"@@ -8,8 +8,11 @@ int io_recv_finish(struct io_kiocb *req, int ret)\n"
	" {\n"
	" \tstruct io_async_msghdr *kmsg = req->async_data;\n"
	" \tunsigned int cflags = 0;\n"
	"-\tif (ret < 0)\n"
	"-\t\treturn ret;\n"
	"+\tif (ret == -EAGAIN)\n"
	"+\t\treturn IOU_RETRY;\n"
	"+\tif (ret < 0)\n"
	"+\t\tgoto out_free;\n"
	"+\tkfree(kmsg->free_iov);\n"
	" \tio_req_set_res(req, ret, cflags);\n"
	" \treturn IOU_OK;\n"
	" }\n";

static const char *patch2 =
	"diff --git a/io_uring/kbuf.c b/io_uring/kbuf.c\n"
	"index 3333333..4444444 100644\n"
	"--- a/io_uring/kbuf.c\n"
	"+++ b/io_uring/kbuf.c\n"
	"@@ -40,6 +40,7 @@ void io_kbuf_recycle(struct io_kiocb *req)\n"
	" \tstruct io_buffer_list *bl;\n"
	" \n"
	" \tbl = io_buffer_get_list(ctx, req->buf_index);\n"
	"+\tlockdep_assert_held(&ctx->uring_lock);\n"
	" \tlist_add(&buf->list, &bl->buf_list);\n"
	" \treq->flags &= ~REQ_F_BUFFER_SELECTED;\n"
	" }\n";

static void series_add(struct review_series *s, const char *subject,
		       const char *text, const char *msgid,
		       const char *subsystem)
{
	struct review_patch *p;
	struct strbuf err = STRBUF_INIT;

	s->patches = xrealloc(s->patches, st_mult(s->nr + 1, sizeof(*p)));
	p = &s->patches[s->nr++];
	memset(p, 0, sizeof(*p));
	p->index = (int)s->nr;
	p->subject = xstrdup(subject);
	p->message = xstrdup(subject);
	p->patch_text = xstrdup(text);
	p->patch_len = strlen(text);
	diff_init(&p->diff);
	assert_int_equal(diff_parse(&p->diff, p->patch_text, p->patch_len,
				    &err), 0);
	memset(p->patch_id, 'a' + (int)s->nr, 40);
	p->msgid = msgid ? xstrdup(msgid) : NULL;
	p->subsystem = subsystem ? xstrdup(subsystem) : NULL;
	strbuf_release(&err);
}

static void series_free(struct review_series *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		struct review_patch *p = &s->patches[i];

		free(p->subject);
		free(p->message);
		free(p->patch_text);
		diff_release(&p->diff);
		free(p->msgid);
		free(p->subsystem);
	}
	free(s->patches);
	free(s->subject);
	free(s->author);
	free(s->base);
	memset(s, 0, sizeof(*s));
}

static void result_init(struct review_result *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->rejects, 0);
	strbuf_init(&r->notes, 0);
	strbuf_init(&r->errors, 0);
}

static void result_free(struct review_result *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		finding_release(&r->v[i].c.rep);
		free(r->v[i].c.verdict_reason);
		free(r->v[i].drop_reason);
	}
	free(r->v);
	strbuf_release(&r->rejects);
	strbuf_release(&r->notes);
	strbuf_release(&r->errors);
}

struct spec {
	int patch;
	const char *file, *function, *category, *title, *explanation;
	const char *evidence;
	int line, end_line;
	enum finding_severity sev;
	int support;
	double confidence;
	enum verdict verdict;
	const char *verdict_reason;
	bool pre_existing;
	enum review_drop drop;
	const char *drop_reason;
	char fpr_digit;
};

static void result_add(struct review_result *r, const struct spec *sp)
{
	struct review_finding *rf;
	struct finding *f;

	r->v = xrealloc(r->v, st_mult(r->nr + 1, sizeof(*rf)));
	rf = &r->v[r->nr++];
	memset(rf, 0, sizeof(*rf));
	f = &rf->c.rep;
	finding_init(f);
	f->file = xstrdup(sp->file);
	f->line = sp->line;
	f->end_line = sp->end_line;
	f->function = xstrdup(sp->function);
	f->category = xstrdup(sp->category);
	f->severity = sp->sev;
	f->confidence = sp->confidence;
	f->title = xstrdup(sp->title);
	f->explanation = xstrdup(sp->explanation);
	f->evidence = xstrdup(sp->evidence);
	f->pre_existing = sp->pre_existing;
	f->patch = sp->patch;
	rf->c.support = sp->support;
	rf->c.runs = 3;
	rf->c.severity = sp->sev;
	rf->c.max_severity = sp->sev;
	rf->c.confidence = sp->confidence;
	memset(rf->c.fingerprint, sp->fpr_digit, FINDING_FPR_HEX);
	rf->c.fingerprint[FINDING_FPR_HEX] = '\0';
	rf->c.verdict = sp->verdict;
	rf->c.verdict_reason = sp->verdict_reason ?
				       xstrdup(sp->verdict_reason) : NULL;
	rf->pre_existing = sp->pre_existing;
	rf->drop = sp->drop;
	rf->drop_reason = sp->drop_reason ? xstrdup(sp->drop_reason) : NULL;
	if (sp->drop == REVIEW_REPORTED)
		r->reported = r->nr;
}

static const struct spec spec_leak = {
	.patch = 1, .file = "io_uring/net.c", .function = "io_recv_finish",
	.category = "resource-leak",
	.title = "free_iov leaked when the receive is retried",
	.explanation =
		"On -EAGAIN io_recv_finish() now returns IOU_RETRY before "
		"kfree(kmsg->free_iov) runs, and the retry path allocates a "
		"new iovec through io_net_import_vec(), so the old one is "
		"lost every time a non-blocking receive finds no data.\n"
		"\n"
		"1. recvmsg on an empty socket returns -EAGAIN.\n"
		"2. The request is retried and imports a fresh iovec.",
	.evidence = "+\tif (ret == -EAGAIN)\n+\t\treturn IOU_RETRY;\n",
	.line = 11, .end_line = 12, .sev = SEV_HIGH, .support = 1,
	.confidence = 0.614, .verdict = VERDICT_CONFIRMED,
	.verdict_reason = "the retry path re-imports the iovec",
	.drop = REVIEW_REPORTED, .fpr_digit = '1',
};

static const struct spec spec_lock = {
	.patch = 2, .file = "io_uring/kbuf.c", .function = "io_kbuf_drop",
	.category = "locking-rule",
	.title = "buffer list walked without uring_lock",
	.explanation =
		"io_kbuf_drop() walks bl->buf_list without holding "
		"ctx->uring_lock when called from the io-wq worker; the "
		"patch's new lockdep assertion in io_kbuf_recycle() shows "
		"that the list needs the lock.",
	.evidence = "\tlist_for_each_entry(buf, &bl->buf_list, list)\n"
		    "\t\tio_kbuf_put(buf);\n",
	.line = 80, .end_line = 81, .sev = SEV_MEDIUM, .support = 3,
	.confidence = 0.9, .verdict = VERDICT_CONFIRMED,
	.pre_existing = true, .drop = REVIEW_REPORTED, .fpr_digit = '2',
};

static const struct spec spec_uaf = {
	.patch = 1, .file = "io_uring/net.c", .function = "io_recv_finish",
	.category = "use-after-free",
	.title = "kmsg used after free on the error path",
	.explanation = "out_free frees kmsg and io_req_set_res() reads it.",
	.evidence = "+\t\tgoto out_free;\n",
	.line = 14, .end_line = 14, .sev = SEV_HIGH, .support = 2,
	.confidence = 0.555, .verdict = VERDICT_REFUTED,
	.verdict_reason = "io_req_set_res() does not touch kmsg",
	.drop = REVIEW_DROP_REFUTED,
	.drop_reason = "io_req_set_res() does not touch kmsg",
	.fpr_digit = '3',
};

struct fixture {
	struct review_series s;
	struct review_result r;
};

static void fixture_fill(struct fixture *fx)
{
	memset(&fx->s, 0, sizeof(fx->s));
	fx->s.subject = xstrdup("io_uring: retry receives without leaking");
	fx->s.author = xstrdup("Jane Developer <jane@example.org>");
	fx->s.version = 2;
	fx->s.base = xstrdup("v6.9-rc1");
	series_add(&fx->s, "io_uring/net: retry on -EAGAIN",
		   patch1, "<20240401.1@example.org>", "IO_URING");
	series_add(&fx->s, "io_uring/kbuf: assert uring_lock in recycle",
		   patch2, NULL, "IO_URING");

	result_init(&fx->r);
	memset(fx->r.prompt_hash, 'f', 40);
	fx->r.profile = "standard";
	fx->r.runs = 3;
	/* Reported first, in the pipeline's order, then dropped. */
	result_add(&fx->r, &spec_leak);
	result_add(&fx->r, &spec_lock);
	result_add(&fx->r, &spec_uaf);
	fx->r.usage.in_uncached = 4210;
	fx->r.usage.cache_write = 18034;
	fx->r.usage.cache_read = 162306;
	fx->r.usage.out = 5120;
	fx->r.usage.reasoning = 2048;
	fx->r.cost = 0.1234565;
	fx->r.requests = 31;
	fx->r.cached = 3;
	fx->r.failed = 1;
	fx->r.rejected = 2;
	strbuf_addstr(&fx->r.notes, "no tree: reviewed the diff alone\n");
	strbuf_addstr(&fx->r.errors,
		      "patch 2 flow pass 3: endpoint 'main' timed out\n");
}

static void fixture_free(struct fixture *fx)
{
	series_free(&fx->s);
	result_free(&fx->r);
}

/* The driver version changes with releases; goldens hold a marker. */
static void mask_version(struct strbuf *sb)
{
	static const char needle[] = "\"version\": \"" KREVIEW_VERSION "\"";
	static const char mark[] = "\"version\": \"@KREVIEW_VERSION@\"";
	char *p = strstr(sb->buf, needle);
	size_t pos;

	if (!p)
		return;
	pos = (size_t)(p - sb->buf);
	strbuf_remove(sb, pos, strlen(needle));
	strbuf_insert(sb, pos, mark, strlen(mark));
}

static void check_golden(const struct strbuf *got, const char *name)
{
	struct strbuf path = STRBUF_INIT, want = STRBUF_INIT;
	const char *update = getenv("KREVIEW_UPDATE_GOLDEN");

	strbuf_addf(&path, "%s/render/%s.golden", KREVIEW_TEST_DATA, name);
	if (update && !strcmp(update, "1")) {
		FILE *f = fopen(path.buf, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(got->buf, 1, got->len, f), got->len);
		assert_int_equal(fclose(f), 0);
	} else {
		if (strbuf_read_file(&want, path.buf, 0) < 0)
			fail_msg("cannot read golden file '%s' (regenerate "
				 "with KREVIEW_UPDATE_GOLDEN=1)", path.buf);
		if (!strbuf_equal(got, &want)) {
			size_t i = 0;

			while (i < got->len && i < want.len &&
			       got->buf[i] == want.buf[i])
				i++;
			print_error("output differs from '%s' at byte %zu; "
				    "got:\n%s\n", path.buf, i, got->buf);
			fail();
		}
	}
	strbuf_release(&path);
	strbuf_release(&want);
}

static void render_golden(const struct fixture *fx, enum render_format fmt,
			  const struct render_opts *o, const char *name)
{
	struct strbuf out = STRBUF_INIT;

	render_result(&out, &fx->s, &fx->r, fmt, o);
	mask_version(&out);
	check_golden(&out, name);
	strbuf_release(&out);
}

static void test_format_parse(void **state)
{
	enum render_format f = RENDER_TEXT;

	(void)state;
	assert_int_equal(render_format_parse(&f, "json"), 0);
	assert_int_equal(f, RENDER_JSON);
	assert_int_equal(render_format_parse(&f, "sarif"), 0);
	assert_int_equal(f, RENDER_SARIF);
	assert_int_equal(render_format_parse(&f, "text"), 0);
	assert_int_equal(f, RENDER_TEXT);
	assert_int_equal(render_format_parse(&f, "xml"), -EINVAL);
	assert_int_equal(render_format_parse(&f, "JSON"), -EINVAL);
	assert_int_equal(render_format_parse(&f, NULL), -EINVAL);
	assert_int_equal(f, RENDER_TEXT);
	assert_string_equal(render_format_name(RENDER_SARIF), "sarif");
}

static void test_golden_text(void **state)
{
	struct render_opts o = RENDER_OPTS_INIT;
	struct fixture fx;

	(void)state;
	fixture_fill(&fx);
	render_golden(&fx, RENDER_TEXT, NULL, "review.txt");
	o.colour = true;
	o.include_dropped = true;
	render_golden(&fx, RENDER_TEXT, &o, "review-all-colour.txt");
	fixture_free(&fx);
}

static void test_golden_json(void **state)
{
	struct render_opts o = RENDER_OPTS_INIT;
	struct fixture fx;

	(void)state;
	fixture_fill(&fx);
	render_golden(&fx, RENDER_JSON, &o, "review.json");
	o.include_dropped = true;
	render_golden(&fx, RENDER_JSON, &o, "review-all.json");
	fixture_free(&fx);
}

static void test_golden_sarif(void **state)
{
	struct render_opts o = RENDER_OPTS_INIT;
	struct fixture fx;

	(void)state;
	fixture_fill(&fx);
	render_golden(&fx, RENDER_SARIF, &o, "review.sarif");
	o.include_dropped = true;
	render_golden(&fx, RENDER_SARIF, &o, "review-all.sarif");
	fixture_free(&fx);
}

static void test_golden_empty(void **state)
{
	struct review_result r;

	(void)state;
	result_init(&r);
	r.profile = "quick";
	r.runs = 1;
	for (int f = 0; f < RENDER_FORMAT_MAX; f++) {
		static const char *const names[] = { "empty.txt", "empty.json",
						     "empty.sarif" };
		struct strbuf out = STRBUF_INIT;

		render_result(&out, NULL, &r, (enum render_format)f, NULL);
		mask_version(&out);
		check_golden(&out, names[f]);
		strbuf_release(&out);
	}
	result_free(&r);
}

/* ---- JSON and SARIF structure ------------------------------------ */

static struct json_object *parse_json(const struct strbuf *sb)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	o = json_tokener_parse_ex(tok, sb->buf, (int)sb->len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("output is not JSON: %s\n%s",
			 json_tokener_error_desc(json_tokener_get_error(tok)),
			 sb->buf);
	/* Exactly one value, then the final newline. */
	for (size_t i = json_tokener_get_parse_end(tok); i < sb->len; i++)
		assert_true(sb->buf[i] == '\n' || sb->buf[i] == ' ');
	assert_true(sb->len && sb->buf[sb->len - 1] == '\n');
	json_tokener_free(tok);
	return o;
}

static struct json_object *member(struct json_object *o, const char *key,
				  enum json_type type)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("missing key '%s' in %s", key,
			 json_object_to_json_string(o));
	if (!json_object_is_type(v, type))
		fail_msg("key '%s' has type %s, not %s", key,
			 json_type_to_name(json_object_get_type(v)),
			 json_type_to_name(type));
	return v;
}

/*
 * Check one object of the SARIF 2.1.0 schema: every key is one the
 * schema defines for it (the schema sets additionalProperties false on
 * all of these) and every required key is there.
 */
static void check_keys(struct json_object *o, const char *what,
		       const char *const *allowed, const char *const *required)
{
	if (!json_object_is_type(o, json_type_object))
		fail_msg("%s is not an object", what);
	json_object_object_foreach(o, key, val) {
		const char *const *a;

		(void)val;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (!*a)
			fail_msg("%s: property '%s' is not in the schema", what,
				 key);
	}
	for (; required && *required; required++)
		if (!json_object_object_get_ex(o, *required, NULL))
			fail_msg("%s: required property '%s' missing", what,
				 *required);
}

static void check_opt_type(struct json_object *o, const char *key,
			   enum json_type type)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, key, &v))
		member(o, key, type);
	(void)v;
}

static void check_string_enum(struct json_object *o, const char *key,
			      const char *const *values)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v))
		return;
	s = json_object_get_string(member(o, key, json_type_string));
	for (; *values; values++)
		if (!strcmp(*values, s))
			return;
	fail_msg("'%s' is not a valid value of '%s'", s, key);
}

static void check_int_min(struct json_object *o, const char *key, int min)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return;
	if (json_object_get_int64(member(o, key, json_type_int)) < min)
		fail_msg("'%s' below its minimum %d", key, min);
}

static void check_bag(struct json_object *o)
{
	struct json_object *tags;

	assert_true(json_object_is_type(o, json_type_object));
	if (json_object_object_get_ex(o, "tags", &tags))
		assert_true(json_object_is_type(tags, json_type_array));
}

static void check_message(struct json_object *o, const char *what)
{
	static const char *const keys[] = { "text", "markdown", "id",
					    "arguments", "properties", NULL };

	check_keys(o, what, keys, NULL);
	if (!json_object_object_get_ex(o, "text", NULL) &&
	    !json_object_object_get_ex(o, "id", NULL))
		fail_msg("%s: needs 'text' or 'id'", what);
	check_opt_type(o, "text", json_type_string);
}

static void check_mfms(struct json_object *o, const char *what)
{
	static const char *const keys[] = { "text", "markdown", "properties",
					    NULL };
	static const char *const req[] = { "text", NULL };

	check_keys(o, what, keys, req);
	member(o, "text", json_type_string);
}

static void check_region(struct json_object *o)
{
	static const char *const keys[] = {
		"startLine", "startColumn", "endLine", "endColumn",
		"charOffset", "charLength", "byteOffset", "byteLength",
		"snippet", "message", "sourceLanguage", "properties", NULL,
	};

	check_keys(o, "region", keys, NULL);
	member(o, "startLine", json_type_int);
	check_int_min(o, "startLine", 1);
	check_int_min(o, "endLine", 1);
	check_int_min(o, "startColumn", 1);
	check_int_min(o, "endColumn", 1);
	if (json_object_object_get_ex(o, "endLine", NULL))
		assert_true(json_object_get_int(member(o, "endLine",
						       json_type_int)) >=
			    json_object_get_int(member(o, "startLine",
						       json_type_int)));
}

static void check_artifact_location(struct json_object *o)
{
	static const char *const keys[] = { "uri", "uriBaseId", "index",
					    "description", "properties", NULL };
	const char *uri;

	check_keys(o, "artifactLocation", keys, NULL);
	uri = json_object_get_string(member(o, "uri", json_type_string));
	/* A uri-reference: no spaces, controls, or non-ASCII bytes. */
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '<' ||
		    *p == '>' || *p == '\\' || *p == '^' || *p == '`' ||
		    *p == '{' || *p == '|' || *p == '}')
			fail_msg("uri '%s' is not a URI reference", uri);
	check_opt_type(o, "uriBaseId", json_type_string);
}

static void check_location(struct json_object *o)
{
	static const char *const keys[] = {
		"id", "physicalLocation", "logicalLocations", "message",
		"annotations", "relationships", "properties", NULL,
	};
	static const char *const pkeys[] = {
		"address", "artifactLocation", "region", "contextRegion",
		"properties", NULL,
	};
	static const char *const lkeys[] = {
		"name", "index", "fullyQualifiedName", "decoratedName",
		"parentIndex", "kind", "properties", NULL,
	};
	struct json_object *phys, *logical;

	check_keys(o, "location", keys, NULL);
	if (json_object_object_get_ex(o, "physicalLocation", &phys)) {
		struct json_object *region;

		check_keys(phys, "physicalLocation", pkeys, NULL);
		/* anyOf: address or artifactLocation */
		check_artifact_location(member(phys, "artifactLocation",
					       json_type_object));
		if (json_object_object_get_ex(phys, "region", &region))
			check_region(region);
	}
	if (json_object_object_get_ex(o, "logicalLocations", &logical)) {
		assert_true(json_object_is_type(logical, json_type_array));
		for (size_t i = 0; i < json_object_array_length(logical); i++) {
			struct json_object *l =
				json_object_array_get_idx(logical, i);

			check_keys(l, "logicalLocation", lkeys, NULL);
			check_opt_type(l, "name", json_type_string);
			check_opt_type(l, "kind", json_type_string);
		}
	}
}

static void check_result(struct json_object *o, size_t nr_rules,
			 struct json_object *rules)
{
	static const char *const keys[] = {
		"ruleId", "ruleIndex", "rule", "kind", "level", "message",
		"analysisTarget", "locations", "guid", "correlationGuid",
		"occurrenceCount", "partialFingerprints", "fingerprints",
		"stacks", "codeFlows", "graphs", "graphTraversals",
		"relatedLocations", "suppressions", "baselineState", "rank",
		"attachments", "hostedViewerUri", "workItemUris", "provenance",
		"fixes", "taxa", "webRequest", "webResponse", "properties",
		NULL,
	};
	static const char *const req[] = { "message", NULL };
	static const char *const levels[] = { "none", "note", "warning",
					      "error", NULL };
	static const char *const skeys[] = { "guid", "kind", "status",
					     "justification", "location",
					     "properties", NULL };
	static const char *const sreq[] = { "kind", NULL };
	static const char *const skinds[] = { "inSource", "external", NULL };
	static const char *const sstatus[] = { "accepted", "underReview",
					       "rejected", NULL };
	struct json_object *v;

	check_keys(o, "result", keys, req);
	check_message(member(o, "message", json_type_object),
		      "result.message");
	check_string_enum(o, "level", levels);
	check_opt_type(o, "ruleId", json_type_string);
	check_int_min(o, "ruleIndex", -1);
	if (json_object_object_get_ex(o, "ruleIndex", &v)) {
		/* SARIF §3.27.7: ruleId equals rules[ruleIndex].id */
		int64_t k = json_object_get_int64(v);
		struct json_object *rule;

		assert_true(k >= 0 && (size_t)k < nr_rules);
		rule = json_object_array_get_idx(rules, (size_t)k);
		assert_string_equal(
			json_object_get_string(member(rule, "id",
						      json_type_string)),
			json_object_get_string(member(o, "ruleId",
						      json_type_string)));
	}
	if (json_object_object_get_ex(o, "locations", &v)) {
		assert_true(json_object_is_type(v, json_type_array));
		for (size_t i = 0; i < json_object_array_length(v); i++)
			check_location(json_object_array_get_idx(v, i));
	}
	if (json_object_object_get_ex(o, "partialFingerprints", &v)) {
		assert_true(json_object_is_type(v, json_type_object));
		json_object_object_foreach(v, key, val) {
			(void)key;
			assert_true(json_object_is_type(val,
							json_type_string));
		}
	}
	if (json_object_object_get_ex(o, "suppressions", &v)) {
		assert_true(json_object_is_type(v, json_type_array));
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *s = json_object_array_get_idx(v, i);

			check_keys(s, "suppression", skeys, sreq);
			check_string_enum(s, "kind", skinds);
			check_string_enum(s, "status", sstatus);
			check_opt_type(s, "justification", json_type_string);
		}
	}
	if (json_object_object_get_ex(o, "properties", &v))
		check_bag(v);
}

/*
 * The SARIF 2.1.0 schema (oasis-tcs/sarif-spec, sarif-schema-2.1.0.json)
 * for the objects kreview writes: sarifLog, run, tool, toolComponent,
 * reportingDescriptor, multiformatMessageString, result, message,
 * location, physicalLocation, artifactLocation, region,
 * logicalLocation, suppression, propertyBag.  Returns the number of
 * results.
 */
static size_t check_sarif(struct json_object *log)
{
	static const char *const log_keys[] = {
		"$schema", "version", "runs", "inlineExternalProperties",
		"properties", NULL,
	};
	static const char *const log_req[] = { "version", "runs", NULL };
	static const char *const run_keys[] = {
		"tool", "invocations", "conversion", "language",
		"versionControlProvenance", "originalUriBaseIds", "artifacts",
		"logicalLocations", "graphs", "results", "automationDetails",
		"runAggregates", "baselineGuid", "redactionTokens",
		"defaultEncoding", "defaultSourceLanguage", "newlineSequences",
		"columnKind", "externalPropertyFileReferences",
		"threadFlowLocations", "taxonomies", "addresses",
		"translations", "policies", "webRequests", "webResponses",
		"specialLocations", "properties", NULL,
	};
	static const char *const run_req[] = { "tool", NULL };
	static const char *const tool_keys[] = { "driver", "extensions",
						 "properties", NULL };
	static const char *const tool_req[] = { "driver", NULL };
	static const char *const comp_keys[] = {
		"guid", "name", "organization", "product", "productSuite",
		"shortDescription", "fullDescription", "fullName", "version",
		"semanticVersion", "dottedQuadFileVersion", "releaseDateUtc",
		"downloadUri", "informationUri", "globalMessageStrings",
		"notifications", "rules", "taxa", "locations", "language",
		"contents", "isComprehensive", "localizedDataSemanticVersion",
		"minimumRequiredLocalizedDataSemanticVersion",
		"associatedComponent", "translationMetadata",
		"supportedTaxonomies", "properties", NULL,
	};
	static const char *const comp_req[] = { "name", NULL };
	static const char *const rule_keys[] = {
		"id", "deprecatedIds", "guid", "deprecatedGuids", "name",
		"deprecatedNames", "shortDescription", "fullDescription",
		"messageStrings", "defaultConfiguration", "helpUri", "help",
		"relationships", "properties", NULL,
	};
	static const char *const rule_req[] = { "id", NULL };
	struct json_object *runs, *run, *driver, *rules, *results, *v;
	size_t nr_rules;

	check_keys(log, "sarifLog", log_keys, log_req);
	assert_string_equal(json_object_get_string(
				    member(log, "version", json_type_string)),
			    "2.1.0");
	assert_string_equal(json_object_get_string(member(
				    log, "$schema", json_type_string)),
			    "https://json.schemastore.org/sarif-2.1.0.json");
	runs = member(log, "runs", json_type_array);
	assert_int_equal(json_object_array_length(runs), 1);
	run = json_object_array_get_idx(runs, 0);
	check_keys(run, "run", run_keys, run_req);
	v = member(run, "tool", json_type_object);
	check_keys(v, "tool", tool_keys, tool_req);
	driver = member(v, "driver", json_type_object);
	check_keys(driver, "toolComponent", comp_keys, comp_req);
	assert_string_equal(json_object_get_string(member(
				    driver, "name", json_type_string)),
			    "kreview");
	assert_string_equal(json_object_get_string(member(
				    driver, "version", json_type_string)),
			    KREVIEW_VERSION);
	check_opt_type(driver, "informationUri", json_type_string);
	rules = member(driver, "rules", json_type_array);
	nr_rules = json_object_array_length(rules);
	for (size_t i = 0; i < nr_rules; i++) {
		struct json_object *rule = json_object_array_get_idx(rules, i);

		check_keys(rule, "reportingDescriptor", rule_keys, rule_req);
		member(rule, "id", json_type_string);
		check_mfms(member(rule, "shortDescription", json_type_object),
			   "rule.shortDescription");
		/* Rule ids are unique. */
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(
				json_object_get_string(member(
					json_object_array_get_idx(rules, j),
					"id", json_type_string)),
				json_object_get_string(member(
					rule, "id", json_type_string)));
	}
	results = member(run, "results", json_type_array);
	for (size_t i = 0; i < json_object_array_length(results); i++)
		check_result(json_object_array_get_idx(results, i), nr_rules,
			     rules);
	if (json_object_object_get_ex(run, "properties", &v))
		check_bag(v);
	return json_object_array_length(results);
}

static void test_sarif_schema(void **state)
{
	struct render_opts o = RENDER_OPTS_INIT;
	struct strbuf out = STRBUF_INIT;
	struct json_object *log, *res, *props;
	struct fixture fx;

	(void)state;
	fixture_fill(&fx);
	render_result(&out, &fx.s, &fx.r, RENDER_SARIF, &o);
	log = parse_json(&out);
	assert_int_equal(check_sarif(log), 2);

	res = json_object_array_get_idx(
		member(json_object_array_get_idx(member(log, "runs",
							json_type_array), 0),
		       "results", json_type_array), 0);
	assert_string_equal(json_object_get_string(member(res, "level",
							  json_type_string)),
			    "error");
	props = member(res, "properties", json_type_object);
	assert_int_equal(json_object_get_int(member(props, "support",
						    json_type_int)), 1);
	assert_int_equal(json_object_get_int(member(props, "runs",
						    json_type_int)), 3);
	assert_string_equal(json_object_get_string(member(props, "verified",
							  json_type_string)),
			    "confirmed");
	json_object_put(log);

	/* Dropped ones come as suppressed results. */
	strbuf_reset(&out);
	o.include_dropped = true;
	render_result(&out, &fx.s, &fx.r, RENDER_SARIF, &o);
	log = parse_json(&out);
	assert_int_equal(check_sarif(log), 3);
	json_object_put(log);

	/* No findings: an empty results array, no rules. */
	fixture_free(&fx);
	result_init(&fx.r);
	strbuf_reset(&out);
	render_result(&out, NULL, &fx.r, RENDER_SARIF, NULL);
	log = parse_json(&out);
	assert_int_equal(check_sarif(log), 0);
	json_object_put(log);
	result_free(&fx.r);
	strbuf_release(&out);
}

static void test_json_structure(void **state)
{
	struct render_opts o = RENDER_OPTS_INIT;
	struct strbuf out = STRBUF_INIT;
	struct json_object *doc, *findings, *f, *series, *usage;
	struct fixture fx;

	(void)state;
	fixture_fill(&fx);
	render_result(&out, &fx.s, &fx.r, RENDER_JSON, &o);
	doc = parse_json(&out);
	assert_int_equal(json_object_get_int(member(doc, "version",
						    json_type_int)), 1);
	series = member(doc, "series", json_type_object);
	assert_int_equal(json_object_get_int(member(series, "version",
						    json_type_int)), 2);
	assert_int_equal(json_object_get_int(member(series, "runs",
						    json_type_int)), 3);
	assert_int_equal(json_object_array_length(member(doc, "patches",
							 json_type_array)), 2);
	findings = member(doc, "findings", json_type_array);
	assert_int_equal(json_object_array_length(findings), 2);
	f = json_object_array_get_idx(findings, 0);
	assert_true(fabs(json_object_get_double(member(f, "confidence",
						       json_type_double)) -
			 0.61) < 1e-9);
	assert_true(json_object_get_boolean(member(f, "reported",
						   json_type_boolean)));
	assert_true(json_object_is_type(member(f, "dropped", json_type_null),
					json_type_null));
	f = json_object_array_get_idx(findings, 1);
	assert_true(json_object_get_boolean(member(f, "pre_existing",
						   json_type_boolean)));
	usage = member(doc, "usage", json_type_object);
	assert_true(fabs(json_object_get_double(member(usage, "cost_usd",
						       json_type_double)) -
			 0.123457) < 1e-9);
	assert_int_equal(json_object_get_int64(member(usage, "cache_read",
						      json_type_int)),
			 162306);
	json_object_put(doc);

	strbuf_reset(&out);
	o.include_dropped = true;
	render_result(&out, &fx.s, &fx.r, RENDER_JSON, &o);
	doc = parse_json(&out);
	findings = member(doc, "findings", json_type_array);
	assert_int_equal(json_object_array_length(findings), 3);
	f = json_object_array_get_idx(findings, 2);
	assert_false(json_object_get_boolean(member(f, "reported",
						    json_type_boolean)));
	assert_string_equal(json_object_get_string(member(f, "dropped",
							  json_type_string)),
			    "refuted");
	assert_string_equal(json_object_get_string(member(f, "verified",
							  json_type_string)),
			    "refuted");
	json_object_put(doc);
	fixture_free(&fx);
	strbuf_release(&out);
}

/* ---- hostile and unusual strings --------------------------------- */

static const struct spec spec_hostile = {
	.patch = 1, .file = "drivers/net/caf\xc3\xa9 x:y%.c",
	.function = "f\"oo\\",
	.category = "logic",
	.title = "\033[2J\033]0;owned\007title \"quoted\" \\ na\xc3\xafve "
		 "\xe6\x97\xa5\xe6\x9c\xac \xe2\x80\xae"
		 "evil\xe2\x80\xac \xc2\x9b" "31m \xff\xfe end",
	.explanation = "\xce\xb1\xce\xb2\xce\xb3 word word word word word "
		       "word word word word word word word word word word "
		       "word word word word word word word\ttab\r\n\033[31m",
	.evidence = "\t\033[1mx = 1;\r\n",
	.line = 3, .end_line = 3, .sev = SEV_LOW, .support = 1,
	.confidence = 1.7, .verdict = VERDICT_NONE,
	.drop = REVIEW_REPORTED, .fpr_digit = 'e',
};

static void test_hostile_strings(void **state)
{
	struct review_result r;
	struct strbuf out = STRBUF_INIT;
	struct json_object *doc, *f, *log, *res, *loc;
	struct render_opts o = { .colour = false };

	(void)state;
	result_init(&r);
	result_add(&r, &spec_hostile);
	r.cost = NAN;

	/* Text: no escape sequence survives, non-ASCII text does. */
	render_result(&out, NULL, &r, RENDER_TEXT, &o);
	assert_null(memchr(out.buf, '\033', out.len));
	assert_null(memchr(out.buf, '\007', out.len));
	assert_null(memchr(out.buf, '\r', out.len));
	assert_null(strstr(out.buf, "\xc2\x9b"));
	assert_null(strstr(out.buf, "\xe2\x80\xae"));
	assert_null(strstr(out.buf, "\xff"));
	assert_non_null(strstr(out.buf,
			       "na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac"));
	assert_non_null(strstr(out.buf, "confidence 1.00"));
	assert_non_null(strstr(out.buf, "cost $0.000000"));
	assert_non_null(strstr(out.buf, "[PATCH 1]"));
	/* Wrapped: no line of the explanation is wider than 72 columns. */
	for (const char *p = out.buf; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p), w = 0;

		for (size_t i = 0; i < len; i++)
			w += ((unsigned char)p[i] & 0xc0) != 0x80;
		if (!strncmp(p, "  \xce\xb1", 4) || !strncmp(p, "  word", 6))
			assert_true(w <= RENDER_WRAP);
		p = eol ? eol + 1 : p + len;
	}
	assert_non_null(strstr(out.buf, "  \xce\xb1\xce\xb2\xce\xb3 word"));

	/* Colour only when asked. */
	strbuf_reset(&out);
	o.colour = true;
	render_result(&out, NULL, &r, RENDER_TEXT, &o);
	assert_non_null(strstr(out.buf, "\033[2m[LOW]\033[0m"));

	/* JSON: strings survive escaping byte for byte (bad UTF-8 aside). */
	strbuf_reset(&out);
	render_result(&out, NULL, &r, RENDER_JSON, NULL);
	doc = parse_json(&out);
	f = json_object_array_get_idx(member(doc, "findings",
					     json_type_array), 0);
	assert_string_equal(json_object_get_string(member(f, "function",
							  json_type_string)),
			    spec_hostile.function);
	assert_string_equal(json_object_get_string(member(f, "explanation",
							  json_type_string)),
			    spec_hostile.explanation);
	assert_string_equal(json_object_get_string(member(f, "file",
							  json_type_string)),
			    spec_hostile.file);
	assert_non_null(strstr(json_object_get_string(member(
				       f, "title", json_type_string)),
			       "\xef\xbf\xbd\xef\xbf\xbd end"));
	assert_true(json_object_is_type(member(member(doc, "series",
						      json_type_object),
					       "subject", json_type_null),
					json_type_null));
	assert_int_equal(json_object_array_length(member(doc, "patches",
							 json_type_array)), 0);
	json_object_put(doc);

	/* SARIF: the path becomes a URI reference. */
	strbuf_reset(&out);
	render_result(&out, NULL, &r, RENDER_SARIF, NULL);
	log = parse_json(&out);
	assert_int_equal(check_sarif(log), 1);
	res = json_object_array_get_idx(
		member(json_object_array_get_idx(member(log, "runs",
							json_type_array), 0),
		       "results", json_type_array), 0);
	loc = json_object_array_get_idx(member(res, "locations",
					       json_type_array), 0);
	assert_string_equal(
		json_object_get_string(member(
			member(member(loc, "physicalLocation",
				      json_type_object),
			       "artifactLocation", json_type_object),
			"uri", json_type_string)),
		"drivers/net/caf%C3%A9%20x%3Ay%25.c");
	assert_string_equal(json_object_get_string(member(res, "level",
							  json_type_string)),
			    "note");
	json_object_put(log);

	result_free(&r);
	strbuf_release(&out);
}

/* A finding outside every hunk quotes its evidence; long ranges cap. */
static void test_quote_sources(void **state)
{
	struct spec sp = spec_leak;
	struct strbuf out = STRBUF_INIT, ev = STRBUF_INIT;
	struct fixture fx;

	(void)state;
	fixture_fill(&fx);
	render_result(&out, &fx.s, &fx.r, RENDER_TEXT, NULL);
	/* Hunk lines with their diff markers, two lines of context. */
	assert_non_null(strstr(out.buf,
			       "  > -\t\treturn ret;\n"
			       "  > +\tif (ret == -EAGAIN)\n"
			       "  > +\t\treturn IOU_RETRY;\n"
			       "  > +\tif (ret < 0)\n"
			       "  > +\t\tgoto out_free;\n\n"));
	/* Pre-existing, outside the hunk: the evidence. */
	assert_non_null(strstr(out.buf,
			       "  > \tlist_for_each_entry(buf, &bl->buf_list, "
			       "list)\n  > \t\tio_kbuf_put(buf);\n\n"));
	fixture_free(&fx);

	/* Without the series the evidence is quoted. */
	result_init(&fx.r);
	for (int i = 0; i < 30; i++)
		strbuf_addf(&ev, "line %d;\n", i);
	sp.evidence = ev.buf;
	result_add(&fx.r, &sp);
	strbuf_reset(&out);
	render_result(&out, NULL, &fx.r, RENDER_TEXT, NULL);
	assert_non_null(strstr(out.buf, "  > line 19;\n"
					"  > [10 more lines]\n\n"));
	assert_null(strstr(out.buf, "line 20;"));
	result_free(&fx.r);

	/*
	 * The last line of a patch sent by git: its signature after the
	 * last hunk is not part of the hunk and must not be quoted.
	 */
	memset(&fx.s, 0, sizeof(fx.s));
	strbuf_reset(&ev);
	strbuf_addf(&ev, "%s-- \n2.43.0\n\n", patch1);
	series_add(&fx.s, "io_uring/net: retry on -EAGAIN", ev.buf, NULL,
		   NULL);
	result_init(&fx.r);
	sp = spec_leak;
	sp.line = 18;
	sp.end_line = 18;
	result_add(&fx.r, &sp);
	strbuf_reset(&out);
	render_result(&out, &fx.s, &fx.r, RENDER_TEXT, NULL);
	assert_non_null(strstr(out.buf, "  >  \treturn IOU_OK;\n  >  }\n\n"));
	assert_null(strstr(out.buf, "2.43.0"));
	assert_null(strstr(out.buf, "> --"));
	fixture_free(&fx);
	strbuf_release(&ev);
	strbuf_release(&out);
}

/* xorshift64: deterministic bytes for the property test. */
static uint64_t rnd(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

static char *rnd_str(uint64_t *st, size_t max)
{
	static const char *const pieces[] = {
		"\033[31m", "\xc2\x9b", "\xe2\x80\xae", "\xff", "\xc3",
		"\xe6\x97\xa5", "\"", "\\", "\n", "\r", "\t", " ", "word",
		"\xf4\x90\x80\x80", "\xed\xa0\x80", "\xc0\xaf", "%", ":",
	};
	struct strbuf sb = STRBUF_INIT;
	size_t n = rnd(st) % (max + 1);

	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd(st);

		size_t k = (size_t)(r >> 8) % ARRAY_SIZE(pieces);

		if (r % 3 == 0)
			strbuf_addstr(&sb, pieces[k]);
		else
			strbuf_addch(&sb, (int)((r >> 8) % 255) + 1);
	}
	return strbuf_detach(&sb, NULL);
}

/* Nothing but newline and tab below 0x20, no DEL. */
static void check_terminal_safe(const struct strbuf *out)
{
	for (size_t i = 0; i < out->len; i++) {
		unsigned char c = (unsigned char)out->buf[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fail_msg("control byte %#x at %zu", c, i);
	}
}

/*
 * Whatever bytes a model puts in a finding, JSON and SARIF stay one
 * valid document and text output carries no control character but
 * newline and tab (and ESC only for our own colours, which are off).
 */
static void test_random_strings(void **state)
{
	uint64_t st = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct review_result r;
		struct fixture fx;

		result_init(&r);
		for (int k = 0; k < 3; k++) {
			struct spec sp = spec_leak;
			char *strs[7];

			for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
				strs[i] = rnd_str(&st, 40);
			sp.file = strs[0];
			sp.function = strs[1];
			sp.category = strs[2];
			sp.title = strs[3];
			sp.explanation = strs[4];
			sp.evidence = strs[5];
			sp.drop_reason = strs[6];
			sp.line = (int)(rnd(&st) % 30) - 5;
			sp.end_line = sp.line + (int)(rnd(&st) % 4);
			sp.patch = (int)(rnd(&st) % 4);
			sp.sev = (enum finding_severity)(rnd(&st) % SEV__MAX);
			sp.drop = k == 2 ? REVIEW_DROP_DUPLICATE :
					   REVIEW_REPORTED;
			result_add(&r, &sp);
			for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
				free(strs[i]);
		}
		strbuf_addstr(&r.notes, "n\033[2J\n");
		memset(&fx, 0, sizeof(fx));
		fixture_fill(&fx);
		for (int f = 0; f < RENDER_FORMAT_MAX; f++) {
			struct render_opts o = { .include_dropped = true };
			struct strbuf out = STRBUF_INIT;

			render_result(&out, round % 2 ? &fx.s : NULL, &r,
				      (enum render_format)f, &o);
			if (f == RENDER_TEXT) {
				check_terminal_safe(&out);
			} else {
				struct json_object *doc = parse_json(&out);

				if (f == RENDER_SARIF)
					assert_int_equal(check_sarif(doc), 3);
				json_object_put(doc);
			}
			strbuf_release(&out);
		}
		fixture_free(&fx);
		result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_golden_text),
		cmocka_unit_test(test_golden_json),
		cmocka_unit_test(test_golden_sarif),
		cmocka_unit_test(test_golden_empty),
		cmocka_unit_test(test_sarif_schema),
		cmocka_unit_test(test_json_structure),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_quote_sources),
		cmocka_unit_test(test_random_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
