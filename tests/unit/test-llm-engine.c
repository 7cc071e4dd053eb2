/*
 * Engine tests against the mock server (tests/helpers/mockllm.c): each
 * numbered scenario of the reference §10 in every dialect, asserting
 * the outcome and the requests the mock logged.
 *
 * LLM_TEST_KEEP_DIR, if set, receives the mock's request log (used by
 * the secrets integration test).
 */
#include "testutil.h"

#include <json-c/json.h>
#include <libgen.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kreview/llm.h"
#include "kreview/log.h"

#define KEY "sk-mock-SECRET-4242"

static pid_t mock_pid;
static int mock_port;
static char *tmpdir;
static char log_path[4096];

static const char *const dialects[] = { "openai", "anthropic", "gemini" };

struct outcome {
	int ret;
	enum llm_class cls;
	size_t nr_attempts;
	struct llm_attempt attempts[16];
	struct strbuf text, error;
	struct llm_usage usage;
	double cost;
	char *request_id;
	char endpoint[64];
	enum llm_stop stop;
	bool prompt_truncated;
	uint64_t prompt_estimate;
	int64_t retry_after_ms;
	bool done;
};

static void out_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	strbuf_init(&o->text, 0);
	strbuf_init(&o->error, 0);
}

static void out_release(struct outcome *o)
{
	strbuf_release(&o->text);
	strbuf_release(&o->error);
	free(o->request_id);
}

static void on_done(struct llm_result *r, void *data)
{
	struct outcome *o = data;

	o->done = true;
	o->ret = r->ret;
	o->cls = r->cls;
	o->nr_attempts = r->nr_attempts;
	for (size_t i = 0; i < r->nr_attempts && i < 16; i++)
		o->attempts[i] = r->attempts[i];
	llm_turn_text(&o->text, &r->resp.message);
	strbuf_addbuf(&o->error, &r->error);
	o->usage = r->resp.usage;
	o->cost = r->cost;
	o->stop = r->resp.stop;
	o->prompt_truncated = r->resp.prompt_truncated;
	o->retry_after_ms = r->retry_after_ms;
	o->prompt_estimate = r->resp.prompt_estimate;
	if (r->resp.request_id)
		o->request_id = xstrdup(r->resp.request_id);
	snprintf(o->endpoint, sizeof(o->endpoint), "%s",
		 r->endpoint ? r->endpoint : "");
}

static int setup(void **state)
{
	char exe[4096], portfile[4096];
	ssize_t n;
	const char *keep = getenv("LLM_TEST_KEEP_DIR");

	(void)state;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	tmpdir = test_mkdtemp();
	snprintf(portfile, sizeof(portfile), "%s/port", tmpdir);
	snprintf(log_path, sizeof(log_path), "%s/requests.jsonl",
		 keep ? keep : tmpdir);
	unlink(log_path);
	mock_pid = fork();
	assert_true(mock_pid >= 0);
	if (mock_pid == 0) {
		char mock[4096];

		snprintf(mock, sizeof(mock), "%s/mockllm", dirname(exe));
		execl(mock, "mockllm", "--dir", KREVIEW_SRCDIR "/tests/mockllm",
		      "--port-file", portfile, "--log", log_path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct strbuf sb = STRBUF_INIT;

		if (strbuf_read_file(&sb, portfile, 64) == 0) {
			strbuf_trim(&sb);
			assert_int_equal(parse_int(&mock_port, sb.buf, 1, 65535),
					 0);
			strbuf_release(&sb);
			break;
		}
		strbuf_release(&sb);
		usleep(10000);
	}
	assert_true(mock_port > 0);
	setenv("KREVIEW_MOCK_KEY", KEY, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (mock_pid > 0) {
		kill(mock_pid, SIGTERM);
		waitpid(mock_pid, NULL, 0);
	}
	test_rmtree(tmpdir);
	free(tmpdir);
	return 0;
}

/* An endpoint on the mock; the strings live in static buffers. */
static void mock_ep(struct llm_endpoint *ep, const char *name,
		    const char *dialect)
{
	static char url[3][128], nm[8][64];
	static unsigned k;
	enum llm_dialect d;

	memset(ep, 0, sizeof(*ep));
	assert_int_equal(llm_dialect_parse(&d, dialect), 0);
	snprintf(url[d], sizeof(url[d]), "http://127.0.0.1:%d%s", mock_port,
		 d == LLM_DIALECT_OPENAI ? "/v1" : "");
	k = (k + 1) % 8;
	snprintf(nm[k], sizeof(nm[k]), "%s", name);
	ep->name = nm[k];
	ep->dialect = d;
	ep->url = url[d];
	ep->model = (char *)"mock-model";
	ep->key_env = (char *)"KREVIEW_MOCK_KEY";
	ep->max_attempts = 4;
	ep->timeout_ms = 5000;
}

static struct llm_engine *new_engine(double scale)
{
	struct llm_engine_opts opts = LLM_ENGINE_OPTS_INIT;
	struct llm_engine *e;
	struct strbuf err = STRBUF_INIT;

	opts.delay_scale = scale;
	opts.seed = 42;
	opts.backoff_base_ms = 20;
	opts.backoff_max_ms = 100;
	assert_int_equal(llm_engine_new(&e, &opts, &err), 0);
	strbuf_release(&err);
	return e;
}

static void add_ep(struct llm_engine *e, const struct llm_endpoint *ep)
{
	struct strbuf err = STRBUF_INIT;

	if (llm_engine_add_endpoint(e, ep, &err))
		fail_msg("add endpoint: %s", err.buf);
	strbuf_release(&err);
}

static void simple_request(struct llm_request *r, const char *scenario)
{
	llm_request_add_system(r, "You review kernel patches.", true);
	llm_request_add_user_text(r, "Say hello.");
	r->max_tokens = 64;
	r->mock_scenario = xstrdup(scenario);
}

/* Run one request on a fresh engine; 'tweak' may adjust the endpoint. */
static void run_one(struct outcome *o, const char *dialect,
		    const char *scenario, double scale,
		    void (*tweak)(struct llm_endpoint *))
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_engine *e = new_engine(scale);
	struct strbuf err = STRBUF_INIT;

	mock_ep(&ep, "mock", dialect);
	if (tweak)
		tweak(&ep);
	add_ep(e, &ep);
	simple_request(&r, scenario);
	out_init(o);
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, o, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_true(o->done);
	llm_engine_free(e);
	llm_request_release(&r);
	strbuf_release(&err);
}

/* The logged requests of 'selector' in 'dialect', oldest first. */
static size_t read_log(struct json_object **out, size_t max,
		       const char *selector, const char *dialect)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;
	char *line, *save = NULL;

	assert_int_equal(strbuf_read_file(&sb, log_path, 0), 0);
	for (line = strtok_r(sb.buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line), *h, *s, *d;

		assert_non_null(o);
		json_object_object_get_ex(o, "headers", &h);
		json_object_object_get_ex(o, "dialect", &d);
		if (json_object_object_get_ex(h, "x-mock-scenario", &s) &&
		    !strcmp(json_object_get_string(s), selector) &&
		    !strcmp(json_object_get_string(d), dialect))
			out[n++] = o;
		else
			json_object_put(o);
	}
	strbuf_release(&sb);
	return n;
}

static const char *jfield(struct json_object *o, const char *a,
			  const char *b)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static void put_all(struct json_object **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_put(v[i]);
}

/* ---- scenarios ---- */

static void test_s01_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
		struct outcome o;
		struct json_object *log[4];
		struct llm_request r = LLM_REQUEST_INIT;
		struct llm_endpoint ep;
		struct llm_http h;
		struct strbuf err = STRBUF_INIT;
		size_t n;

		run_one(&o, dialects[i], "s01-ok", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_string_equal(o.text.buf, "Hello from the mock.");
		assert_int_equal(o.nr_attempts, 1);
		assert_int_equal(o.attempts[0].status, 200);
		assert_string_equal(o.request_id,
				    i == 2 ? "r-ok1" : "req-ok-1");
		assert_string_equal(o.attempts[0].request_id,
				    i == 2 ? "r-ok1" : "req-ok-1");

		/* the request sent is exactly what the encoder builds */
		n = read_log(log, 4, "s01-ok", dialects[i]);
		assert_int_equal(n, 1);
		mock_ep(&ep, "mock", dialects[i]);
		simple_request(&r, "s01-ok");
		llm_http_init(&h);
		assert_int_equal(llm_encode(&h, &ep, KEY, &r, &err), 0);
		assert_string_equal(jfield(log[0], "body", NULL), h.body.buf);
		assert_string_equal(jfield(log[0], "method", NULL), "POST");
		assert_non_null(strstr(h.url, jfield(log[0], "path", NULL)));
		assert_string_equal(jfield(log[0], "headers", "content-type"),
				    "application/json");
		assert_non_null(strstr(jfield(log[0], "headers", "user-agent"),
				       "kreview/"));
		if (i == 0)
			assert_string_equal(jfield(log[0], "headers",
						   "authorization"),
					    "Bearer " KEY);
		if (i == 1) {
			assert_string_equal(jfield(log[0], "headers",
						   "x-api-key"), KEY);
			assert_string_equal(jfield(log[0], "headers",
						   "anthropic-version"),
					    "2023-06-01");
		}
		if (i == 2)
			assert_string_equal(jfield(log[0], "headers",
						   "x-goog-api-key"), KEY);
		assert_null(strstr(o.error.buf, KEY));
		put_all(log, n);
		llm_http_release(&h);
		llm_request_release(&r);
		strbuf_release(&err);
		out_release(&o);
	}
}

static int tool_read_function(struct strbuf *out, const char *args, void *d)
{
	(void)d;
	assert_non_null(strstr(args, "io_recv"));
	strbuf_addstr(out, "static int io_recv(struct io_kiocb *req) { }");
	return 0;
}

struct conv_out {
	bool done;
	int ret;
	enum llm_class cls;
	unsigned calls, repairs, tool_calls;
	struct strbuf json, error;
	struct llm_usage usage;
};

static void on_conv(struct llm_conv_result *r, void *data)
{
	struct conv_out *o = data;

	o->done = true;
	o->ret = r->ret;
	o->cls = r->cls;
	o->calls = r->calls;
	o->repairs = r->repairs;
	o->tool_calls = r->tool_calls;
	strbuf_addbuf(&o->json, &r->json);
	strbuf_addbuf(&o->error, &r->error);
	o->usage = r->usage;
}

static const char *findings_schema =
	"{\"type\":\"object\",\"required\":[\"findings\"],\"properties\":{"
	"\"findings\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"file\",\"line\",\"severity\"],"
	"\"additionalProperties\":false,\"properties\":{\"file\":{\"type\":"
	"\"string\"},\"line\":{\"type\":\"integer\",\"minimum\":1},"
	"\"severity\":{\"enum\":[\"critical\",\"high\",\"medium\","
	"\"low\"]}}}}}}";

/* Streaming mode of the endpoints run_conv() uses. */
static enum llm_stream_mode conv_stream;

static void run_conv(struct conv_out *o, const char *dialect,
		     const char *scenario, bool tools)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_engine *e = new_engine(1);
	struct llm_conv *c;
	struct strbuf err = STRBUF_INIT;

	mock_ep(&ep, "mock", dialect);
	ep.stream = conv_stream;
	add_ep(e, &ep);
	simple_request(&r, scenario);
	llm_request_set_schema(&r, "findings", findings_schema);
	memset(o, 0, sizeof(*o));
	strbuf_init(&o->json, 0);
	strbuf_init(&o->error, 0);
	assert_int_equal(llm_conv_new(&c, e, "mock", &r, NULL, on_conv, o,
				      &err),
			 0);
	if (tools)
		llm_conv_add_tool(c, "read_function", "Read one function",
				  "{\"type\":\"object\",\"properties\":{"
				  "\"path\":{\"type\":\"string\"},\"name\":{"
				  "\"type\":\"string\"}},\"required\":[\"path\","
				  "\"name\"]}",
				  tool_read_function, NULL);
	assert_int_equal(llm_conv_start(c, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_true(o->done);
	llm_engine_free(e);
	strbuf_release(&err);
}

static void conv_release(struct conv_out *o)
{
	strbuf_release(&o->json);
	strbuf_release(&o->error);
}

static void test_s02_tool_loop(void **state)
{
	static const char *const second[] = {
		/* openai: the tool message right after the assistant call */
		"\"tool_calls\":[{\"id\":\"call_7\",\"type\":\"function\","
		"\"function\":{\"name\":\"read_function\",\"arguments\":"
		"\"{\\\"path\\\": \\\"io_uring/net.c\\\", \\\"name\\\": "
		"\\\"io_recv\\\"}\"}}]},{\"role\":\"tool\",\"tool_call_id\":"
		"\"call_7\",\"content\":\"static int io_recv(struct io_kiocb "
		"*req) { }\"}]",
		/* anthropic: tool_result first in the next user turn */
		"{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
		"\"tool_use_id\":\"toolu_1\",\"content\":\"static int "
		"io_recv(struct io_kiocb *req) { }\",\"is_error\":false}]}]",
		/* gemini: signature replayed byte for byte */
		"{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":"
		"\"read_function\",\"args\":{\"path\":\"io_uring/net.c\","
		"\"name\":\"io_recv\"}},\"thoughtSignature\":"
		"\"Zm9vL2Jhcis9PQ==\"}]},{\"role\":\"user\",\"parts\":[{"
		"\"functionResponse\":{\"name\":\"read_function\",\"response\":"
		"{\"content\":\"static int io_recv(struct io_kiocb *req) { }\"}}}"
		"]}]",
	};

	(void)state;
	/* plain, then streamed: the same turns must go out */
	for (size_t k = 0; k < 2 * ARRAY_SIZE(dialects); k++) {
		size_t i = k % ARRAY_SIZE(dialects);
		const char *sel = k < 3 ? "s02-tool" : "s02-tool#sse";
		struct conv_out o;
		struct json_object *log[4];
		size_t n;

		conv_stream = k < 3 ? LLM_STREAM_OFF : LLM_STREAM_ON;
		run_conv(&o, dialects[i], sel, true);
		conv_stream = LLM_STREAM_DEFAULT;
		if (o.ret)
			fail_msg("%s: %s", dialects[i], o.error.buf);
		assert_int_equal(o.calls, 2);
		assert_int_equal(o.tool_calls, 1);
		assert_string_equal(o.json.buf,
				    "{\"findings\":[{\"file\":\"io_uring/net.c\","
				    "\"line\":812,\"severity\":\"high\"}]}");
		n = read_log(log, 4, sel, dialects[i]);
		assert_int_equal(n, 2);
		if (!strstr(jfield(log[1], "body", NULL), second[i]))
			fail_msg("%s second request lacks the tool result:\n%s",
				 dialects[i], jfield(log[1], "body", NULL));
		put_all(log, n);
		conv_release(&o);
	}
}

static void test_s03_structured(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
		struct conv_out o;
		struct json_object *log[4];
		size_t n;

		run_conv(&o, dialects[i], "s03-fence", false);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.calls, 1);
		assert_non_null(strstr(o.json.buf, "\"line\":812"));
		conv_release(&o);

		run_conv(&o, dialects[i], "s03-invalid", false);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.calls, 2);
		assert_int_equal(o.repairs, 1);
		n = read_log(log, 4, "s03-invalid", dialects[i]);
		assert_int_equal(n, 2);
		assert_non_null(strstr(jfield(log[1], "body", NULL),
				       "Your answer is not valid: "
				       "$.findings[0].line: expected integer, "
				       "got string"));
		put_all(log, n);
		conv_release(&o);

		run_conv(&o, dialects[i], "s03-invalid-twice", false);
		assert_int_equal(o.ret, -EPROTO);
		assert_int_equal(o.cls, LLM_CLASS_BAD_OUTPUT);
		assert_int_equal(o.calls, 2);
		assert_non_null(strstr(o.error.buf, "does not match the schema"));
		conv_release(&o);

		run_conv(&o, dialects[i], "s04-refusal", false);
		assert_int_equal(o.ret, -EPROTO);
		assert_int_equal(o.calls, 1);
		assert_non_null(strstr(o.error.buf, "refused"));
		conv_release(&o);

		run_conv(&o, dialects[i], "s05-length", false);
		assert_int_equal(o.ret, -EPROTO);
		assert_int_equal(o.calls, 1);
		assert_non_null(strstr(o.error.buf, "truncated"));
		conv_release(&o);
	}
}

static void test_s06_rate_limit(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
		struct outcome o;
		int64_t t0 = time_mono_ms();

		/* retry-after-ms wins over retry-after: 30 */
		run_one(&o, dialects[i], "s06-retry-after-ms", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.nr_attempts, 2);
		assert_int_equal(o.attempts[0].status, 429);
		assert_int_equal(o.attempts[0].cls, LLM_CLASS_RATE_LIMIT);
		assert_int_equal(o.attempts[0].delay_ms, 300);
		assert_true(time_mono_ms() - t0 >= 300);
		out_release(&o);

		/* seconds, scaled down 10x for speed; recorded unscaled */
		run_one(&o, dialects[i], "s06-retry-after", 0.1, NULL);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.attempts[0].delay_ms, 1000);
		out_release(&o);

		/* an HTTP date in the past: retry at once */
		run_one(&o, dialects[i], "s06-date", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.nr_attempts, 2);
		assert_int_equal(o.attempts[0].delay_ms, 0);
		out_release(&o);
	}
	{
		struct outcome o;
		int64_t t0 = time_mono_ms();

		/* retry-after: 1 at full scale waits a full second */
		run_one(&o, "openai", "s06-retry-after#full", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_true(time_mono_ms() - t0 >= 1000);
		out_release(&o);

		/* no retry header: the reset header gives the delay */
		run_one(&o, "openai", "s06-reset", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.attempts[0].delay_ms, 400);
		out_release(&o);
		run_one(&o, "anthropic", "s06-reset", 0.1, NULL);
		assert_int_equal(o.ret, 0);
		assert_true(o.attempts[0].delay_ms >= 0 &&
			    o.attempts[0].delay_ms <= 1000);
		out_release(&o);
	}
}

static void test_s07_gemini(void **state)
{
	struct outcome o;

	(void)state;
	run_one(&o, "gemini", "s07-retryinfo", 0.1, NULL);
	assert_int_equal(o.ret, 0);
	assert_int_equal(o.nr_attempts, 2);
	assert_int_equal(o.attempts[0].delay_ms, 1500);
	out_release(&o);

	run_one(&o, "gemini", "s07-daily", 0.1, NULL);
	assert_int_equal(o.ret, -EPERM);
	assert_int_equal(o.cls, LLM_CLASS_DAILY_QUOTA);
	assert_int_equal(o.nr_attempts, 1);
	out_release(&o);
}

static void test_transient(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
		struct outcome o;

		run_one(&o, dialects[i], "s08-overload", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.nr_attempts, 2);
		assert_int_equal(o.attempts[0].cls, LLM_CLASS_OVERLOAD);
		assert_true(o.attempts[0].delay_ms >= 0 &&
			    o.attempts[0].delay_ms <= 20);
		out_release(&o);

		run_one(&o, dialects[i], "s12-noretry", 1, NULL);
		assert_int_equal(o.nr_attempts, 1);
		assert_int_equal(o.cls, LLM_CLASS_SERVER);
		assert_true(o.ret < 0);
		out_release(&o);

		run_one(&o, dialects[i], "s13-html502", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.nr_attempts, 2);
		assert_int_equal(o.attempts[0].status, 502);
		assert_int_equal(o.attempts[0].cls, LLM_CLASS_SERVER);
		out_release(&o);

		run_one(&o, dialects[i], "s16-500-then-ok", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.nr_attempts, 2);
		assert_int_equal(o.attempts[0].status, 500);
		assert_int_equal(o.attempts[1].status, 200);
		if (i < 2)
			assert_string_equal(o.attempts[1].request_id,
					    "req-second");
		out_release(&o);

		run_one(&o, dialects[i], "s18-truncated", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.nr_attempts, 2);
		assert_int_equal(o.attempts[0].cls, LLM_CLASS_SERVER);
		out_release(&o);

		run_one(&o, dialects[i], "s19-chunks", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_string_equal(o.text.buf, "Hello from the mock.");
		out_release(&o);
	}
}

static void small_cap(struct llm_endpoint *ep)
{
	ep->max_response_bytes = 65536;
}

static void short_timeout(struct llm_endpoint *ep)
{
	ep->timeout_ms = 300;
	ep->max_attempts = 2;
}

static void test_terminal(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
		struct outcome o;

		run_one(&o, dialects[i], "s17-big", 1, small_cap);
		assert_int_equal(o.ret, -E2BIG);
		assert_int_equal(o.cls, LLM_CLASS_LOCAL);
		assert_int_equal(o.nr_attempts, 1);
		assert_non_null(strstr(o.error.buf, "larger than 65536"));
		out_release(&o);

		run_one(&o, dialects[i], "s18-malformed", 1, NULL);
		assert_int_equal(o.ret, -EPROTO);
		assert_int_equal(o.cls, LLM_CLASS_BAD_OUTPUT);
		assert_int_equal(o.nr_attempts, 1);
		out_release(&o);

		run_one(&o, dialects[i], "s10-context", 1, NULL);
		assert_int_equal(o.ret, -E2BIG);
		assert_int_equal(o.cls, LLM_CLASS_CONTEXT);
		assert_int_equal(o.nr_attempts, 1);
		out_release(&o);

		run_one(&o, dialects[i], "s14-stall", 1, short_timeout);
		assert_int_equal(o.ret, -ETIMEDOUT);
		assert_int_equal(o.cls, LLM_CLASS_TIMEOUT);
		assert_int_equal(o.nr_attempts, 2);
		out_release(&o);
	}
	{
		struct outcome o;

		run_one(&o, "openai", "s10-context-vllm", 1, NULL);
		assert_int_equal(o.cls, LLM_CLASS_CONTEXT);
		out_release(&o);
		run_one(&o, "openai", "s11-quota", 1, NULL);
		assert_int_equal(o.ret, -EPERM);
		assert_int_equal(o.cls, LLM_CLASS_QUOTA);
		assert_int_equal(o.nr_attempts, 1);
		out_release(&o);
	}
}

static void test_s11_spend_disables(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_engine *e = new_engine(1);
	struct outcome a, b;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	mock_ep(&ep, "mock", "anthropic");
	add_ep(e, &ep);
	simple_request(&r, "s11-spend");
	out_init(&a);
	out_init(&b);
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &a, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_int_equal(a.cls, LLM_CLASS_SPEND_LIMIT);
	assert_int_equal(a.ret, -EPERM);
	assert_int_equal(a.nr_attempts, 1);
	/* the endpoint is now disabled: no request leaves */
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &b, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_int_equal(b.cls, LLM_CLASS_SPEND_LIMIT);
	assert_int_equal(b.nr_attempts, 0);
	out_release(&a);
	out_release(&b);
	llm_engine_free(e);
	llm_request_release(&r);
	strbuf_release(&err);
}

static void test_s15_usage(void **state)
{
	struct outcome o;
	static const struct llm_usage want[3] = {
		{ .in_uncached = 41200 - 38912, .cache_read = 38912, .out = 900,
		  .reasoning = 512 },
		{ .in_uncached = 310, .cache_write = 3000, .cache_write_1h = 1000,
		  .cache_read = 40960, .out = 820 },
		{ .in_uncached = 3200, .cache_read = 38000, .out = 1400,
		  .reasoning = 500 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
		run_one(&o, dialects[i], "s15-usage", 1, NULL);
		assert_int_equal(o.ret, 0);
		assert_memory_equal(&o.usage, &want[i], sizeof(want[i]));
		out_release(&o);
	}
}

static void s24_ep(struct llm_endpoint *ep)
{
	(void)ep;
}

static void test_s24_hold(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct llm_request r = LLM_REQUEST_INIT;
		struct llm_endpoint ep;
		struct llm_engine *e = new_engine(1);
		struct outcome a, b;
		struct strbuf err = STRBUF_INIT;
		int64_t t0;

		mock_ep(&ep, "mock", dialects[i]);
		s24_ep(&ep);
		add_ep(e, &ep);
		simple_request(&r, "s24-hold");
		out_init(&a);
		out_init(&b);
		assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &a,
						   &err), 0);
		assert_int_equal(llm_engine_run(e), 0);
		assert_int_equal(a.ret, 0);
		t0 = time_mono_ms();
		assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &b,
						   &err), 0);
		assert_int_equal(llm_engine_run(e), 0);
		assert_int_equal(b.ret, 0);
		assert_int_equal(b.nr_attempts, 1);
		/* held until the reset instead of provoking a 429 */
		assert_true(time_mono_ms() - t0 >= (i == 0 ? 950 : 900));
		out_release(&a);
		out_release(&b);
		llm_engine_free(e);
		llm_request_release(&r);
		strbuf_release(&err);
	}
}

static void test_concurrency_cap(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_engine *e = new_engine(1);
	struct outcome o[6];
	struct strbuf err = STRBUF_INIT;
	int64_t t0 = time_mono_ms(), dt;

	(void)state;
	mock_ep(&ep, "mock", "openai");
	ep.concurrency = 2;
	add_ep(e, &ep);
	simple_request(&r, "bench");
	for (int i = 0; i < 6; i++) {
		out_init(&o[i]);
		assert_int_equal(llm_engine_submit(e, "mock", &r, on_done,
						   &o[i], &err), 0);
	}
	assert_int_equal(llm_engine_pending(e), 6);
	assert_int_equal(llm_engine_run(e), 0);
	dt = time_mono_ms() - t0;
	/* 3 waves of 200 ms */
	assert_true(dt >= 600);
	assert_true(dt < 1500);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(o[i].ret, 0);
		out_release(&o[i]);
	}
	llm_engine_free(e);
	llm_request_release(&r);
	strbuf_release(&err);
}

static void test_breaker_fallback(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint a, b;
	struct llm_engine *e = new_engine(1);
	struct outcome o;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	mock_ep(&a, "primary", "anthropic");
	a.breaker_threshold = 2;
	a.max_attempts = 6;
	a.fallback = (char *)"backup";
	add_ep(e, &a);
	mock_ep(&b, "backup", "openai");
	add_ep(e, &b);
	/* anthropic always answers 529 there, openai answers 200 */
	simple_request(&r, "s08-fallback");
	out_init(&o);
	assert_int_equal(llm_engine_submit(e, "primary", &r, on_done, &o,
					   &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	/* two overloads open the breaker, then the backup answers */
	assert_int_equal(o.ret, 0);
	assert_int_equal(o.nr_attempts, 3);
	assert_string_equal(o.attempts[0].endpoint, "primary");
	assert_int_equal(o.attempts[0].cls, LLM_CLASS_OVERLOAD);
	assert_string_equal(o.attempts[1].endpoint, "primary");
	assert_string_equal(o.attempts[2].endpoint, "backup");
	assert_string_equal(o.attempts[2].request_id, "req-backup");
	assert_string_equal(o.endpoint, "backup");
	out_release(&o);
	llm_engine_free(e);
	llm_request_release(&r);
	strbuf_release(&err);
}

/* Interactive use: an open breaker without a fallback fails at once. */
static void test_breaker_fail_fast(void **state)
{
	struct llm_engine_opts opts = LLM_ENGINE_OPTS_INIT;
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint a;
	struct llm_engine *e;
	struct outcome o;
	struct strbuf err = STRBUF_INIT;
	int64_t t0;

	(void)state;
	opts.seed = 42;
	opts.backoff_base_ms = 20;
	opts.backoff_max_ms = 100;
	opts.fail_fast = true;
	assert_int_equal(llm_engine_new(&e, &opts, &err), 0);
	mock_ep(&a, "primary", "anthropic");
	a.breaker_threshold = 2;
	a.breaker_cooldown_ms = 60000;
	a.max_attempts = 6;
	add_ep(e, &a);
	simple_request(&r, "s08-always-overloaded");
	out_init(&o);
	t0 = time_mono_ms();
	assert_int_equal(llm_engine_submit(e, "primary", &r, on_done, &o,
					   &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	/* two overloads open the breaker; no 60 s wait for the cool-down */
	assert_true(o.ret < 0);
	assert_int_equal(o.cls, LLM_CLASS_CIRCUIT_OPEN);
	assert_int_equal(o.nr_attempts, 2);
	assert_true(time_mono_ms() - t0 < 10000);
	out_release(&o);
	llm_engine_free(e);
	llm_request_release(&r);
	strbuf_release(&err);
}

static void stream_on(struct llm_endpoint *ep)
{
	ep->stream = LLM_STREAM_ON;
}

static void stream_idle(struct llm_endpoint *ep)
{
	ep->stream = LLM_STREAM_ON;
	ep->idle_timeout_ms = 1000;
	ep->timeout_ms = 30000;
	ep->max_attempts = 1;
}

/* Scenarios 1, 9, 14, 15 and 19 with streamed responses. */
static void test_stream(void **state)
{
	static const struct llm_usage want[3] = {
		{ .in_uncached = 41200 - 38912, .cache_read = 38912, .out = 900,
		  .reasoning = 512 },
		{ .in_uncached = 310, .cache_write = 3000, .cache_write_1h = 1000,
		  .cache_read = 40960, .out = 820 },
		{ .in_uncached = 3200, .cache_read = 38000, .out = 1400,
		  .reasoning = 500 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
		struct outcome o;
		struct json_object *log[4];
		const char *body, *path;
		int64_t t0;
		size_t n;

		run_one(&o, dialects[i], "s01-ok#sse", 1, stream_on);
		if (o.ret)
			fail_msg("%s: %s", dialects[i], o.error.buf);
		assert_string_equal(o.text.buf, "Hello from the mock.");
		assert_int_equal(o.nr_attempts, 1);
		assert_int_equal(o.stop, LLM_STOP_END);
		assert_string_equal(o.request_id,
				    i == 2 ? "r-ok1" : "req-ok-1");
		n = read_log(log, 4, "s01-ok#sse", dialects[i]);
		assert_int_equal(n, 1);
		body = jfield(log[0], "body", NULL);
		path = jfield(log[0], "path", NULL);
		if (i == 0)
			assert_non_null(strstr(body, "\"stream\":true,"
						     "\"stream_options\":{"
						     "\"include_usage\":true}"));
		if (i == 1)
			assert_non_null(strstr(body, "\"stream\":true"));
		if (i == 2)
			assert_non_null(strstr(path, "/v1beta/models/mock-model:"
						     "streamGenerateContent"
						     "?alt=sse"));
		put_all(log, n);
		out_release(&o);

		run_one(&o, dialects[i], "s15-usage#sse", 1, stream_on);
		assert_int_equal(o.ret, 0);
		assert_memory_equal(&o.usage, &want[i], sizeof(want[i]));
		out_release(&o);

		/* 19: the stream arrives 1-3 bytes at a time */
		run_one(&o, dialects[i], "s19-sse", 1, stream_on);
		assert_int_equal(o.ret, 0);
		assert_string_equal(o.text.buf, "Hello from the mock.");
		assert_int_equal(o.nr_attempts, 1);
		out_release(&o);

		/* 9: an error inside a 200 stream is retried, never parsed */
		run_one(&o, dialects[i], "s09-stream-error", 1, stream_on);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.nr_attempts, 2);
		assert_int_equal(o.attempts[0].status, 200);
		assert_int_equal(o.attempts[0].cls,
				 i == 0 ? LLM_CLASS_SERVER : LLM_CLASS_OVERLOAD);
		assert_string_equal(o.text.buf, "Hello from the mock.");
		out_release(&o);

		/* 9: a stream cut before its end marker is a retry */
		run_one(&o, dialects[i], "s09-cut", 1, stream_on);
		assert_int_equal(o.ret, 0);
		assert_int_equal(o.nr_attempts, 2);
		assert_int_equal(o.attempts[0].cls, LLM_CLASS_SERVER);
		assert_string_equal(o.text.buf, "Hello from the mock.");
		assert_string_equal(o.request_id,
				    i == 2 ? "r-ok1" : "req-after-error");
		out_release(&o);

		/*
		 * 14: a stalled stream trips the idle timer, not the 30 s
		 * cap; libcurl averages the speed over about 5 s, so the
		 * stall shows after idle_timeout plus up to that window.
		 */
		t0 = time_mono_ms();
		run_one(&o, dialects[i], "s14-stream-stall", 1, stream_idle);
		assert_int_equal(o.ret, -ETIMEDOUT);
		assert_int_equal(o.cls, LLM_CLASS_TIMEOUT);
		assert_int_equal(o.nr_attempts, 1);
		assert_true(time_mono_ms() - t0 >= 900);
		if (time_mono_ms() - t0 >= 10000)
			fail_msg("stall noticed after %lld ms",
				 (long long)(time_mono_ms() - t0));
		out_release(&o);
	}
}

/* 20: tool arguments that are not JSON get one re-ask, then fail */
static void test_s20_bad_args(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct conv_out o;
		struct json_object *log[4];
		const char *body;
		size_t n;

		run_conv(&o, dialects[i], "s20-badargs", true);
		if (o.ret)
			fail_msg("%s: %s", dialects[i], o.error.buf);
		assert_int_equal(o.calls, 3);
		assert_int_equal(o.repairs, 1);
		assert_int_equal(o.tool_calls, 2);
		n = read_log(log, 4, "s20-badargs", dialects[i]);
		assert_int_equal(n, 3);
		/* the re-ask quotes the parse error in the tool result */
		body = jfield(log[1], "body", NULL);
		assert_non_null(strstr(body, "arguments are not a JSON object ("));
		assert_non_null(strstr(body, i == 0 ? "\"arguments\":\"{}\"" :
						      "\"input\":{}"));
		put_all(log, n);
		conv_release(&o);
	}
	{
		struct conv_out o;

		run_conv(&o, "openai", "s20-badargs-twice", true);
		assert_int_equal(o.ret, -EPROTO);
		assert_int_equal(o.cls, LLM_CLASS_BAD_OUTPUT);
		assert_int_equal(o.calls, 2);
		assert_non_null(strstr(o.error.buf, "arguments of tool call "
						    "'read_function' are not a "
						    "JSON object"));
		conv_release(&o);
	}
}

/* 21: anthropic end_turn with empty content after tool results */
static void test_s21_empty(void **state)
{
	struct conv_out o;
	struct json_object *log[4];
	size_t n;

	(void)state;
	run_conv(&o, "anthropic", "s21-empty", true);
	if (o.ret)
		fail_msg("%s", o.error.buf);
	assert_int_equal(o.calls, 3);
	assert_non_null(strstr(o.json.buf, "\"line\":812"));
	n = read_log(log, 4, "s21-empty", "anthropic");
	assert_int_equal(n, 3);
	/* one re-ask, after the tool result in the same user turn */
	assert_non_null(strstr(jfield(log[2], "body", NULL),
			       "\"is_error\":false},{\"type\":\"text\","
			       "\"text\":\"Please continue and give your final "
			       "answer.\"}]}]"));
	put_all(log, n);
	conv_release(&o);
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* 23: what the anthropic request carries, read back from the mock */
static void test_s23_cache(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_engine *e = new_engine(1);
	struct outcome o;
	struct json_object *log[4], *body, *sys, *msgs, *v;
	struct strbuf err = STRBUF_INIT;
	struct llm_turn *t;
	size_t n;

	(void)state;
	mock_ep(&ep, "mock", "anthropic");
	add_ep(e, &ep);
	llm_request_add_system(&r, "review protocol", true);
	llm_request_add_system(&r, "series context and patch", true);
	llm_request_add_system(&r, "stage instruction", false);
	llm_request_add_tool(&r, "read_function", "Read one function",
			     "{\"type\":\"object\"}");
	for (int i = 0; i < 3; i++) {
		t = llm_request_add_turn(&r, LLM_ROLE_USER);
		llm_turn_add_text(t, "look");
		t->cache_mark = true;
		t = llm_request_add_turn(&r, LLM_ROLE_ASSISTANT);
		llm_turn_add_tool_call(t, "toolu_1", "read_function", "{}");
		t->cache_mark = true;
	}
	/* text first in our turn: tool_result must still go first */
	t = llm_request_add_turn(&r, LLM_ROLE_USER);
	llm_turn_add_text(t, "and here is the result");
	llm_turn_add_tool_result(t, "toolu_1", "read_function", "int f(void);",
				 false);
	r.mock_scenario = xstrdup("s23-cache");
	out_init(&o);
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &o, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_int_equal(o.ret, 0);
	n = read_log(log, 4, "s23-cache", "anthropic");
	assert_int_equal(n, 1);
	body = json_tokener_parse(jfield(log[0], "body", NULL));
	assert_non_null(body);
	/* at most 4 breakpoints; the shared prefix ends with one */
	assert_true(count_str(jfield(log[0], "body", NULL),
			      "\"cache_control\"") <= 4);
	assert_true(json_object_object_get_ex(body, "system", &sys));
	assert_false(json_object_object_get_ex(
		json_object_array_get_idx(sys, 0), "cache_control", &v));
	assert_true(json_object_object_get_ex(
		json_object_array_get_idx(sys, 1), "cache_control", &v));
	assert_false(json_object_object_get_ex(
		json_object_array_get_idx(sys, 2), "cache_control", &v));
	assert_true(json_object_object_get_ex(body, "messages", &msgs));
	v = json_object_array_get_idx(msgs, json_object_array_length(msgs) - 1);
	assert_true(json_object_object_get_ex(v, "content", &v));
	assert_string_equal(jfield(json_object_array_get_idx(v, 0), "type",
				   NULL),
			    "tool_result");
	assert_string_equal(jfield(json_object_array_get_idx(v, 1), "type",
				   NULL),
			    "text");
	json_object_put(body);
	put_all(log, n);
	out_release(&o);

	/* without marked turns: one breakpoint, on the last prefix block */
	for (size_t i = 0; i < r.nr_turns; i++)
		r.turns[i].cache_mark = false;
	free(r.mock_scenario);
	r.mock_scenario = xstrdup("s23-cache#plain");
	out_init(&o);
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &o, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	n = read_log(log, 4, "s23-cache#plain", "anthropic");
	assert_int_equal(n, 1);
	assert_int_equal(count_str(jfield(log[0], "body", NULL),
				   "\"cache_control\""), 1);
	assert_non_null(strstr(jfield(log[0], "body", NULL),
			       "\"text\":\"series context and patch\","
			       "\"cache_control\":{\"type\":\"ephemeral\"}}"));
	put_all(log, n);
	out_release(&o);
	llm_engine_free(e);
	llm_request_release(&r);
	strbuf_release(&err);
}

static char *health_hdr[1];

static void health_on(struct llm_endpoint *ep)
{
	ep->health_probe = true;
	ep->headers = health_hdr;
	ep->nr_headers = 1;
	ep->health_timeout_ms = 1500;
}

/* 25: hold the first request until /health stops answering 503 */
static void test_s25_health(void **state)
{
	struct outcome o;
	struct strbuf sb = STRBUF_INIT;
	int64_t t0 = time_mono_ms();
	char h[64];

	(void)state;
	snprintf(h, sizeof(h), "X-Mock-Scenario: s25-health");
	health_hdr[0] = h;
	run_one(&o, "openai", "s25-health", 1, health_on);
	if (o.ret)
		fail_msg("%s", o.error.buf);
	assert_int_equal(o.nr_attempts, 1);
	assert_string_equal(o.request_id, "req-after-load");
	assert_true(time_mono_ms() - t0 >= 450);
	out_release(&o);
	/* two GETs, 503 then 200, before the one POST */
	assert_int_equal(strbuf_read_file(&sb, log_path, 0), 0);
	{
		const char *a = strstr(sb.buf, "\"n\":1,\"scenario\":"
					       "\"s25-health\",\"dialect\":"
					       "\"health\",\"method\":\"GET\"");
		const char *b = strstr(sb.buf, "\"n\":2,\"scenario\":"
					       "\"s25-health\",\"dialect\":"
					       "\"health\",\"method\":\"GET\"");
		const char *c = strstr(sb.buf, "\"n\":1,\"scenario\":"
					       "\"s25-health\",\"dialect\":"
					       "\"openai\",\"method\":\"POST\"");

		assert_true(a && b && c && a < b && b < c);
	}
	strbuf_release(&sb);

	/* never ready: the call fails as a timeout without being sent */
	snprintf(h, sizeof(h), "X-Mock-Scenario: s25-loading");
	run_one(&o, "openai", "s25-loading", 1, health_on);
	assert_int_equal(o.ret, -ETIMEDOUT);
	assert_int_equal(o.cls, LLM_CLASS_TIMEOUT);
	assert_int_equal(o.nr_attempts, 0);
	assert_non_null(strstr(o.error.buf, "not ready"));
	assert_non_null(strstr(o.error.buf, "/health did not answer 200"));
	assert_non_null(strstr(o.error.buf, "HTTP 503"));
	out_release(&o);
}

/* 26: usage.prompt_tokens far below what was sent */
static void test_s26_truncated(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_engine *e = new_engine(1);
	struct outcome a, b;
	struct strbuf err = STRBUF_INIT, big = STRBUF_INIT;

	(void)state;
	mock_ep(&ep, "mock", "openai");
	add_ep(e, &ep);
	for (int i = 0; i < 200; i++)
		strbuf_addstr(&big, "static int io_recv(struct io_kiocb *r);\n");
	simple_request(&r, "s26-truncated");
	llm_request_add_user_text(&r, big.buf);
	out_init(&a);
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &a, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_int_equal(a.ret, 0);
	assert_true(a.prompt_estimate >= 2000);
	assert_true(a.prompt_truncated);
	llm_request_release(&r);
	/* 120 tokens reported for a small prompt is plausible */
	simple_request(&r, "s01-ok#s26");
	out_init(&b);
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &b, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_int_equal(b.ret, 0);
	assert_false(b.prompt_truncated);
	out_release(&a);
	out_release(&b);
	llm_engine_free(e);
	llm_request_release(&r);
	strbuf_release(&err);
	strbuf_release(&big);
}

static void short_clamp(struct llm_endpoint *ep)
{
	ep->max_retry_delay_ms = 2000;
}

/* A hint above the clamp hands the call back instead of waiting. */
static void test_retry_later(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
		struct outcome o;
		int64_t t0 = time_mono_ms();

		run_one(&o, dialects[i], "s06-later", 1, short_clamp);
		assert_int_equal(o.ret, -EBUSY);
		assert_int_equal(o.cls, LLM_CLASS_RETRY_LATER);
		assert_int_equal(o.nr_attempts, 1);
		assert_int_equal(o.attempts[0].delay_ms, 5000);
		assert_int_equal(o.retry_after_ms, 5000);
		assert_true(time_mono_ms() - t0 < 1500);
		assert_non_null(strstr(o.error.buf, "retry in 5000 ms"));
		assert_string_equal(llm_class_name(o.cls), "retry-later");
		out_release(&o);
	}
}

/* A daily quota with an announced reset comes back at the reset. */
static void test_quota_reset(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_engine *e = new_engine(1);
	struct outcome a, b, c;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	mock_ep(&ep, "mock", "gemini");
	add_ep(e, &ep);
	simple_request(&r, "s07-daily-reset");
	out_init(&a);
	out_init(&b);
	out_init(&c);
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &a, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_int_equal(a.cls, LLM_CLASS_DAILY_QUOTA);
	assert_int_equal(a.nr_attempts, 1);
	/* disabled until the reset: nothing is sent */
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &b, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_int_equal(b.cls, LLM_CLASS_DAILY_QUOTA);
	assert_int_equal(b.nr_attempts, 0);
	usleep(1100 * 1000);
	assert_int_equal(llm_engine_submit(e, "mock", &r, on_done, &c, &err), 0);
	assert_int_equal(llm_engine_run(e), 0);
	assert_int_equal(c.ret, 0);
	assert_int_equal(c.nr_attempts, 1);
	out_release(&a);
	out_release(&b);
	out_release(&c);
	llm_engine_free(e);
	llm_request_release(&r);
	strbuf_release(&err);
}

static void test_debug_log_redacts(void **state)
{
	struct outcome o;
	enum log_level lvl = log_get_level();

	(void)state;
	/* curl verbose output goes to stderr; t0401 greps it for the key */
	log_set_level(LOG_LVL_DEBUG);
	run_one(&o, "openai", "s01-ok#debug", 1, NULL);
	log_set_level(lvl);
	assert_int_equal(o.ret, 0);
	out_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s01_ok),
		cmocka_unit_test(test_s02_tool_loop),
		cmocka_unit_test(test_s03_structured),
		cmocka_unit_test(test_s06_rate_limit),
		cmocka_unit_test(test_s07_gemini),
		cmocka_unit_test(test_transient),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_s11_spend_disables),
		cmocka_unit_test(test_s15_usage),
		cmocka_unit_test(test_s24_hold),
		cmocka_unit_test(test_concurrency_cap),
		cmocka_unit_test(test_breaker_fallback),
		cmocka_unit_test(test_breaker_fail_fast),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_s20_bad_args),
		cmocka_unit_test(test_s21_empty),
		cmocka_unit_test(test_s23_cache),
		cmocka_unit_test(test_s25_health),
		cmocka_unit_test(test_s26_truncated),
		cmocka_unit_test(test_retry_later),
		cmocka_unit_test(test_quota_reset),
		cmocka_unit_test(test_debug_log_redacts),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
