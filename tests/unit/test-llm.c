/* Unit tests of the LLM dialects, JSON helpers and key handling. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kreview/llm.h"
#include "kreview/llm_json.h"
#include "kreview/llm_sse.h"

static const char *args_schema =
	"{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
	"\"name\":{\"type\":\"string\"}},\"required\":[\"path\",\"name\"],"
	"\"additionalProperties\":false}";

static void ep_init(struct llm_endpoint *ep, enum llm_dialect d)
{
	memset(ep, 0, sizeof(*ep));
	ep->name = (char *)"t";
	ep->dialect = d;
	ep->url = d == LLM_DIALECT_OPENAI ? (char *)"http://127.0.0.1:8080/v1/" :
					    (char *)"https://api.example.com";
	ep->model = (char *)"m-1";
}

/* A request with every feature: prefix, tool call + result, schema. */
static void build_request(struct llm_request *r)
{
	struct llm_turn *t;

	llm_request_add_system(r, "protocol", true);
	llm_request_add_system(r, "patch a/b", true);
	llm_request_add_system(r, "stage: locking", false);
	llm_request_add_user_text(r, "review it");
	t = llm_request_add_turn(r, LLM_ROLE_ASSISTANT);
	llm_turn_add_text(t, "Reading the caller.");
	llm_turn_add_tool_call(t, "call_7", "read_function",
			       "{\"path\":\"io_uring/net.c\",\"name\":\"io_recv\"}")
		->signature = xstrdup("c2lnLzE=");
	t = llm_request_add_turn(r, LLM_ROLE_USER);
	llm_turn_add_text(t, "go on");
	llm_turn_add_tool_result(t, "call_7", "read_function",
				 "static int io_recv(void) {}", false);
	llm_request_add_tool(r, "read_function", "Read one function",
			     args_schema);
	llm_request_set_schema(r, "findings",
			       "{\"type\":\"object\",\"additionalProperties\":"
			       "false,\"properties\":{\"n\":{\"type\":"
			       "\"integer\"}}}");
	r->sampling.has_temperature = true;
	r->sampling.temperature = 0.2;
	r->sampling.has_seed = true;
	r->sampling.seed = 17;
	r->max_tokens = 16000;
}

static const char *find_header(const struct llm_http *h, const char *prefix)
{
	for (size_t i = 0; i < h->nr_headers; i++)
		if (!strncmp(h->headers[i], prefix, strlen(prefix)))
			return h->headers[i];
	return NULL;
}

static void test_encode_openai(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_http h;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	ep_init(&ep, LLM_DIALECT_OPENAI);
	build_request(&r);
	llm_http_init(&h);
	assert_int_equal(llm_encode(&h, &ep, "sk-test", &r, &err), 0);
	assert_string_equal(h.url, "http://127.0.0.1:8080/v1/chat/completions");
	assert_string_equal(
		h.body.buf,
		"{\"model\":\"m-1\","
		"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
		"\"read_function\",\"description\":\"Read one function\","
		"\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":"
		"{\"type\":\"string\"},\"name\":{\"type\":\"string\"}},"
		"\"required\":[\"path\",\"name\"],\"additionalProperties\":"
		"false}}}],\"tool_choice\":\"auto\","
		"\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
		"{\"name\":\"findings\",\"strict\":true,\"schema\":{\"type\":"
		"\"object\",\"additionalProperties\":false,\"properties\":{\"n\":"
		"{\"type\":\"integer\"}}}}},"
		"\"messages\":["
		"{\"role\":\"system\",\"content\":\"protocol\\n\\npatch a/b\\n\\n"
		"stage: locking\"},"
		"{\"role\":\"user\",\"content\":\"review it\"},"
		"{\"role\":\"assistant\",\"content\":\"Reading the caller.\","
		"\"tool_calls\":[{\"id\":\"call_7\",\"type\":\"function\","
		"\"function\":{\"name\":\"read_function\",\"arguments\":"
		"\"{\\\"path\\\":\\\"io_uring/net.c\\\",\\\"name\\\":"
		"\\\"io_recv\\\"}\"}}]},"
		"{\"role\":\"tool\",\"tool_call_id\":\"call_7\",\"content\":"
		"\"static int io_recv(void) {}\"},"
		"{\"role\":\"user\",\"content\":\"go on\"}],"
		"\"temperature\":0.2,\"seed\":17,"
		"\"max_completion_tokens\":16000,\"stream\":false}");
	assert_non_null(find_header(&h, "Authorization: Bearer sk-test"));
	assert_non_null(find_header(&h, "Content-Type: application/json"));

	/* compatible servers: max_tokens, no temperature */
	ep.max_tokens_field = (char *)"max_tokens";
	ep.no_temperature = true;
	assert_int_equal(llm_encode(&h, &ep, "", &r, &err), 0);
	assert_non_null(strstr(h.body.buf, "\"seed\":17,\"max_tokens\":16000"));
	assert_null(strstr(h.body.buf, "temperature"));
	assert_null(find_header(&h, "Authorization"));
	llm_http_release(&h);
	llm_request_release(&r);
	strbuf_release(&err);
}

static void test_encode_anthropic(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_http h;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	ep_init(&ep, LLM_DIALECT_ANTHROPIC);
	build_request(&r);
	llm_http_init(&h);
	assert_int_equal(llm_encode(&h, &ep, "sk-ant", &r, &err), 0);
	assert_string_equal(h.url, "https://api.example.com/v1/messages");
	assert_string_equal(
		h.body.buf,
		"{\"model\":\"m-1\",\"max_tokens\":16000,\"system\":["
		"{\"type\":\"text\",\"text\":\"protocol\"},"
		"{\"type\":\"text\",\"text\":\"patch a/b\",\"cache_control\":"
		"{\"type\":\"ephemeral\"}},"
		"{\"type\":\"text\",\"text\":\"stage: locking\"},"
		"{\"type\":\"text\",\"text\":\"Answer with only one JSON object,"
		" no prose and no code fence, that validates against this JSON "
		"Schema:\\n{\\\"type\\\":\\\"object\\\",\\\"additionalProperties"
		"\\\":false,\\\"properties\\\":{\\\"n\\\":{\\\"type\\\":"
		"\\\"integer\\\"}}}\"}],"
		"\"tools\":[{\"name\":\"read_function\",\"description\":\"Read "
		"one function\",\"input_schema\":{\"type\":\"object\","
		"\"properties\":{\"path\":{\"type\":\"string\"},\"name\":{"
		"\"type\":\"string\"}},\"required\":[\"path\",\"name\"],"
		"\"additionalProperties\":false}}],\"tool_choice\":{\"type\":"
		"\"auto\"},\"messages\":["
		"{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
		"\"review it\"}]},"
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
		"\"Reading the caller.\"},{\"type\":\"tool_use\",\"id\":\"call_7\","
		"\"name\":\"read_function\",\"input\":{\"path\":\"io_uring/net.c\","
		"\"name\":\"io_recv\"}}]},"
		"{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
		"\"tool_use_id\":\"call_7\",\"content\":\"static int io_recv(void)"
		" {}\",\"is_error\":false},{\"type\":\"text\",\"text\":\"go on\"}]}"
		"],\"temperature\":0.2,\"stream\":true}");
	assert_non_null(find_header(&h, "x-api-key: sk-ant"));
	assert_non_null(find_header(&h, "anthropic-version: 2023-06-01"));
	llm_http_release(&h);
	llm_request_release(&r);
	strbuf_release(&err);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_anthropic_breakpoints(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_http h;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	ep_init(&ep, LLM_DIALECT_ANTHROPIC);
	llm_request_add_system(&r, "shared", true);
	for (int i = 0; i < 6; i++) {
		char text[16];

		snprintf(text, sizeof(text), "turn%d", i);
		llm_request_add_turn(&r, i % 2 ? LLM_ROLE_ASSISTANT :
						 LLM_ROLE_USER);
		llm_turn_add_text(&r.turns[r.nr_turns - 1], text);
		r.turns[r.nr_turns - 1].cache_mark = true;
	}
	llm_http_init(&h);
	assert_int_equal(llm_encode(&h, &ep, "", &r, &err), 0);
	assert_int_equal(count(h.body.buf, "cache_control"), 4);
	/* the three latest marked turns keep theirs */
	assert_null(strstr(h.body.buf, "\"turn2\",\"cache_control\""));
	assert_non_null(strstr(h.body.buf, "\"turn3\",\"cache_control\""));
	assert_non_null(strstr(h.body.buf, "\"turn5\",\"cache_control\""));
	assert_non_null(strstr(h.body.buf, "\"shared\",\"cache_control\""));
	llm_http_release(&h);
	llm_request_release(&r);
	strbuf_release(&err);
}

static void test_encode_gemini(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_http h;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	ep_init(&ep, LLM_DIALECT_GEMINI);
	build_request(&r);
	llm_http_init(&h);
	assert_int_equal(llm_encode(&h, &ep, "AIza", &r, &err), 0);
	assert_string_equal(h.url, "https://api.example.com/v1beta/models/"
				   "m-1:generateContent");
	assert_string_equal(
		h.body.buf,
		"{\"systemInstruction\":{\"parts\":[{\"text\":\"protocol\"},"
		"{\"text\":\"patch a/b\"},{\"text\":\"stage: locking\"}]},"
		"\"contents\":["
		"{\"role\":\"user\",\"parts\":[{\"text\":\"review it\"}]},"
		"{\"role\":\"model\",\"parts\":[{\"text\":\"Reading the "
		"caller.\"},{\"functionCall\":{\"id\":\"call_7\",\"name\":"
		"\"read_function\",\"args\":{\"path\":\"io_uring/net.c\","
		"\"name\":\"io_recv\"}},\"thoughtSignature\":\"c2lnLzE=\"}]},"
		"{\"role\":\"user\",\"parts\":[{\"text\":\"go on\"},"
		"{\"functionResponse\":{\"id\":\"call_7\",\"name\":"
		"\"read_function\",\"response\":{\"content\":\"static int "
		"io_recv(void) {}\"}}}]}],"
		"\"tools\":[{\"functionDeclarations\":[{\"name\":\"read_function\","
		"\"description\":\"Read one function\",\"parameters\":{\"type\":"
		"\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
		"\"name\":{\"type\":\"string\"}},\"required\":[\"path\","
		"\"name\"]}}]}],\"toolConfig\":{\"functionCallingConfig\":{"
		"\"mode\":\"AUTO\"}},"
		"\"generationConfig\":{\"temperature\":0.2,\"seed\":17,"
		"\"maxOutputTokens\":16000,\"responseMimeType\":"
		"\"application/json\",\"responseSchema\":{\"type\":\"object\","
		"\"properties\":{\"n\":{\"type\":\"integer\"}}}}}");
	assert_non_null(find_header(&h, "x-goog-api-key: AIza"));
	llm_http_release(&h);
	llm_request_release(&r);
	strbuf_release(&err);
}

static void test_encode_errors(void **state)
{
	struct llm_request r = LLM_REQUEST_INIT;
	struct llm_endpoint ep;
	struct llm_http h;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	ep_init(&ep, LLM_DIALECT_ANTHROPIC);
	llm_http_init(&h);
	assert_int_equal(llm_encode(&h, &ep, "", &r, &err), -EINVAL);
	llm_request_add_user_text(&r, "x");
	llm_request_add_tool(&r, "t", NULL, "{not json");
	strbuf_reset(&err);
	assert_int_equal(llm_encode(&h, &ep, "", &r, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "tool schema"));
	assert_null(h.url);
	llm_http_release(&h);
	llm_request_release(&r);
	strbuf_release(&err);
}

static const char *no_headers(void *d, const char *n)
{
	(void)d;
	(void)n;
	return NULL;
}

static void decode_ok(struct llm_response *resp, enum llm_dialect d,
		      const char *body)
{
	struct strbuf err = STRBUF_INIT;
	int ret = llm_decode(resp, d, body, strlen(body), no_headers, NULL,
			     &err);

	if (ret)
		fail_msg("decode: %s", err.buf);
	strbuf_release(&err);
}

static void test_decode_openai(void **state)
{
	struct llm_response resp = { 0 };
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	decode_ok(&resp, LLM_DIALECT_OPENAI,
		  "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","
		  "\"model\":\"gpt-x\",\"choices\":[{\"index\":0,"
		  "\"finish_reason\":\"stop\",\"message\":{\"role\":"
		  "\"assistant\",\"content\":\"{\\\"findings\\\":[]}\","
		  "\"refusal\":null}}],\"usage\":{\"prompt_tokens\":41200,"
		  "\"completion_tokens\":900,\"total_tokens\":42100,"
		  "\"prompt_tokens_details\":{\"cached_tokens\":38912},"
		  "\"completion_tokens_details\":{\"reasoning_tokens\":512}}}");
	assert_int_equal(resp.stop, LLM_STOP_END);
	llm_turn_text(&sb, &resp.message);
	assert_string_equal(sb.buf, "{\"findings\":[]}");
	assert_int_equal(resp.usage.in_uncached, 41200 - 38912);
	assert_int_equal(resp.usage.cache_read, 38912);
	assert_int_equal(resp.usage.out, 900);
	assert_int_equal(resp.usage.reasoning, 512);
	assert_string_equal(resp.request_id, "chatcmpl-1");
	llm_response_release(&resp);

	decode_ok(&resp, LLM_DIALECT_OPENAI,
		  "{\"choices\":[{\"finish_reason\":\"tool_calls\",\"message\":"
		  "{\"content\":null,\"tool_calls\":[{\"id\":\"call_1\","
		  "\"type\":\"function\",\"function\":{\"name\":\"grep\","
		  "\"arguments\":\"{\\\"re\\\":\\\"x\\\"}\"}}]}}]}");
	assert_int_equal(resp.stop, LLM_STOP_TOOL);
	assert_int_equal(resp.message.nr, 1);
	assert_string_equal(resp.message.parts[0].args, "{\"re\":\"x\"}");
	assert_string_equal(resp.message.parts[0].id, "call_1");
	llm_response_release(&resp);

	decode_ok(&resp, LLM_DIALECT_OPENAI,
		  "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":"
		  "{\"content\":null,\"refusal\":\"I can't\"}}]}");
	assert_int_equal(resp.stop, LLM_STOP_REFUSAL);
	assert_string_equal(resp.refusal, "I can't");
	llm_response_release(&resp);

	decode_ok(&resp, LLM_DIALECT_OPENAI,
		  "{\"choices\":[{\"finish_reason\":\"length\",\"message\":"
		  "{\"content\":\"{\\\"a\\\"\"}}]}");
	assert_int_equal(resp.stop, LLM_STOP_LENGTH);
	llm_response_release(&resp);
	strbuf_release(&sb);
}

static void test_decode_anthropic(void **state)
{
	struct llm_response resp = { 0 };

	(void)state;
	decode_ok(&resp, LLM_DIALECT_ANTHROPIC,
		  "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
		  "\"model\":\"claude-x\",\"content\":[{\"type\":\"text\","
		  "\"text\":\"Reading.\"},{\"type\":\"tool_use\",\"id\":"
		  "\"toolu_1\",\"name\":\"read_function\",\"input\":{\"path\":"
		  "\"a/b.c\",\"name\":\"f\"}}],\"stop_reason\":\"tool_use\","
		  "\"usage\":{\"input_tokens\":310,\"output_tokens\":820,"
		  "\"cache_creation_input_tokens\":2000,"
		  "\"cache_read_input_tokens\":40960,\"cache_creation\":{"
		  "\"ephemeral_5m_input_tokens\":1500,"
		  "\"ephemeral_1h_input_tokens\":500}}}");
	assert_int_equal(resp.stop, LLM_STOP_TOOL);
	assert_int_equal(resp.message.nr, 2);
	assert_string_equal(resp.message.parts[1].args,
			    "{\"path\":\"a/b.c\",\"name\":\"f\"}");
	assert_int_equal(resp.usage.in_uncached, 310);
	assert_int_equal(resp.usage.cache_write, 2000);
	assert_int_equal(resp.usage.cache_write_1h, 500);
	assert_int_equal(resp.usage.cache_read, 40960);
	assert_int_equal(resp.usage.out, 820);
	assert_string_equal(resp.request_id, "msg_1");
	llm_response_release(&resp);

	decode_ok(&resp, LLM_DIALECT_ANTHROPIC,
		  "{\"content\":[],\"stop_reason\":\"refusal\"}");
	assert_int_equal(resp.stop, LLM_STOP_REFUSAL);
	llm_response_release(&resp);
	decode_ok(&resp, LLM_DIALECT_ANTHROPIC,
		  "{\"content\":[],\"stop_reason\":\"max_tokens\"}");
	assert_int_equal(resp.stop, LLM_STOP_LENGTH);
	llm_response_release(&resp);
}

static void test_decode_gemini(void **state)
{
	struct llm_response resp = { 0 };

	(void)state;
	decode_ok(&resp, LLM_DIALECT_GEMINI,
		  "{\"candidates\":[{\"index\":0,\"finishReason\":\"STOP\","
		  "\"content\":{\"role\":\"model\",\"parts\":[{\"functionCall\":"
		  "{\"name\":\"read_function\",\"args\":{\"path\":\"x.c\"}},"
		  "\"thoughtSignature\":\"AbC/+=\"}]}}],\"usageMetadata\":{"
		  "\"promptTokenCount\":41200,\"candidatesTokenCount\":900,"
		  "\"totalTokenCount\":42600,\"cachedContentTokenCount\":38000,"
		  "\"thoughtsTokenCount\":500},\"modelVersion\":\"gemini-x\","
		  "\"responseId\":\"r-1\"}");
	assert_int_equal(resp.stop, LLM_STOP_TOOL);
	assert_string_equal(resp.message.parts[0].signature, "AbC/+=");
	assert_string_equal(resp.message.parts[0].args, "{\"path\":\"x.c\"}");
	assert_int_equal(resp.usage.in_uncached, 3200);
	assert_int_equal(resp.usage.cache_read, 38000);
	assert_int_equal(resp.usage.out, 1400);
	assert_int_equal(resp.usage.reasoning, 500);
	assert_string_equal(resp.request_id, "r-1");
	llm_response_release(&resp);

	decode_ok(&resp, LLM_DIALECT_GEMINI,
		  "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}");
	assert_int_equal(resp.stop, LLM_STOP_REFUSAL);
	llm_response_release(&resp);
	decode_ok(&resp, LLM_DIALECT_GEMINI,
		  "{\"candidates\":[{\"finishReason\":\"MAX_TOKENS\",\"content\":"
		  "{\"parts\":[{\"text\":\"{\"}]}}]}");
	assert_int_equal(resp.stop, LLM_STOP_LENGTH);
	llm_response_release(&resp);
}

static void test_decode_malformed(void **state)
{
	static const char *const bodies[] = {
		"", "{", "{\"choices\":[]}", "[1,2]", "{\"choices\":[{}]}",
		"<html>502</html>", "{\"choices\":[{\"message\":{}}]} x",
	};
	struct llm_response resp = { 0 };
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
		strbuf_reset(&err);
		assert_int_equal(llm_decode(&resp, LLM_DIALECT_OPENAI, bodies[i],
					    strlen(bodies[i]), NULL, NULL,
					    &err),
				 -EPROTO);
		assert_true(err.len > 0);
	}
	strbuf_release(&err);
}

static enum llm_class classify(enum llm_dialect d, long status,
			       const char *body, int64_t *delay)
{
	struct llm_error_info e = { 0 };
	enum llm_class c;

	llm_classify(&e, d, status, body, strlen(body), NULL, NULL);
	c = e.cls;
	if (delay)
		*delay = e.delay_ms;
	llm_error_info_release(&e);
	return c;
}

static void test_classify(void **state)
{
	int64_t d;
	struct llm_error_info e = { 0 };
	const char *too_long =
		"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
		"\"message\":\"prompt is too long: 210000 tokens > 200000 "
		"maximum\"}}";

	(void)state;
	assert_int_equal(classify(LLM_DIALECT_OPENAI, 400,
				  "{\"error\":{\"message\":\"x\",\"type\":"
				  "\"invalid_request_error\",\"code\":"
				  "\"context_length_exceeded\"}}", NULL),
			 LLM_CLASS_CONTEXT);
	assert_int_equal(classify(LLM_DIALECT_OPENAI, 429,
				  "{\"error\":{\"type\":\"insufficient_quota\","
				  "\"code\":\"insufficient_quota\"}}", NULL),
			 LLM_CLASS_QUOTA);
	assert_int_equal(classify(LLM_DIALECT_OPENAI, 429,
				  "{\"error\":{\"code\":\"rate_limit_exceeded\"}}",
				  NULL),
			 LLM_CLASS_RATE_LIMIT);
	assert_int_equal(classify(LLM_DIALECT_OPENAI, 400,
				  "This model's maximum context length is 32768 "
				  "tokens", NULL),
			 LLM_CLASS_CONTEXT);
	assert_int_equal(classify(LLM_DIALECT_OPENAI, 401, "{}", NULL),
			 LLM_CLASS_AUTH);
	assert_int_equal(classify(LLM_DIALECT_OPENAI, 502,
				  "<html><body>Bad gateway</body></html>", NULL),
			 LLM_CLASS_SERVER);
	assert_int_equal(classify(LLM_DIALECT_ANTHROPIC, 529,
				  "{\"type\":\"error\",\"error\":{\"type\":"
				  "\"overloaded_error\",\"message\":\"Overloaded\"}}",
				  NULL),
			 LLM_CLASS_OVERLOAD);
	assert_int_equal(classify(LLM_DIALECT_ANTHROPIC, 429,
				  "{\"type\":\"error\",\"error\":{\"type\":"
				  "\"rate_limit_error\",\"message\":\"spent\","
				  "\"details\":{\"error_code\":"
				  "\"enforced_spend_limit_reached\"}}}", NULL),
			 LLM_CLASS_SPEND_LIMIT);
	llm_classify(&e, LLM_DIALECT_ANTHROPIC, 400, too_long, strlen(too_long),
		     NULL, NULL);
	assert_int_equal(e.cls, LLM_CLASS_CONTEXT);
	assert_int_equal(e.context_tokens, 210000);
	assert_int_equal(e.context_max, 200000);
	llm_error_info_release(&e);
	assert_int_equal(
		classify(LLM_DIALECT_GEMINI, 429,
			 "{\"error\":{\"code\":429,\"message\":\"quota\","
			 "\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{"
			 "\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\","
			 "\"retryDelay\":\"1.5s\"}]}}", &d),
		LLM_CLASS_RATE_LIMIT);
	assert_int_equal(d, 1500);
	assert_int_equal(
		classify(LLM_DIALECT_GEMINI, 429,
			 "{\"error\":{\"code\":429,\"message\":\"quota\","
			 "\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{"
			 "\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\","
			 "\"violations\":[{\"quotaId\":"
			 "\"GenerateRequestsPerDayPerProjectPerModel-FreeTier\"}]}]}}",
			 NULL),
		LLM_CLASS_DAILY_QUOTA);
	assert_int_equal(
		classify(LLM_DIALECT_GEMINI, 429,
			 "{\"error\":{\"code\":429,\"message\":\"Please retry in "
			 "12.5s.\",\"status\":\"RESOURCE_EXHAUSTED\"}}", &d),
		LLM_CLASS_RATE_LIMIT);
	assert_int_equal(d, 12500);
	assert_int_equal(
		classify(LLM_DIALECT_GEMINI, 400,
			 "{\"error\":{\"code\":400,\"status\":\"INVALID_ARGUMENT\","
			 "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc."
			 "ErrorInfo\",\"reason\":\"API_KEY_INVALID\"}]}}", NULL),
		LLM_CLASS_AUTH);
	assert_int_equal(classify(LLM_DIALECT_GEMINI, 503,
				  "{\"error\":{\"status\":\"UNAVAILABLE\"}}", NULL),
			 LLM_CLASS_OVERLOAD);
}

static void test_duration(void **state)
{
	(void)state;
	assert_int_equal(llm_parse_duration_ms("12ms"), 12);
	assert_int_equal(llm_parse_duration_ms("1.5s"), 1500);
	assert_int_equal(llm_parse_duration_ms("6m0s"), 360000);
	assert_int_equal(llm_parse_duration_ms("1h2m"), 3720000);
	assert_int_equal(llm_parse_duration_ms("37s"), 37000);
	assert_int_equal(llm_parse_duration_ms("2"), 2000);
	assert_int_equal(llm_parse_duration_ms(""), -1);
	assert_int_equal(llm_parse_duration_ms("nan"), -1);
	assert_int_equal(llm_parse_duration_ms("-1s"), -1);
	assert_int_equal(llm_parse_duration_ms("1x"), -1);
}

static void test_extract(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "{\"a\":1}", "{\"a\":1}" },
		{ "Here you go:\n```json\n{\"a\":1}\n```\nThanks.",
		  "{\"a\":1}" },
		{ "first {\"a\":1} then {\"b\":{\"c\":2}} end",
		  "{\"b\":{\"c\":2}}" },
		{ "code: if (x) { y(); }\n{\"ok\":true}", "{\"ok\":true}" },
		{ "{\"a\":1} {\"b\":", "{\"a\":1}" },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&out);
		assert_int_equal(llm_json_extract(&out, cases[i].in,
						  strlen(cases[i].in), &err),
				 0);
		assert_string_equal(out.buf, cases[i].out);
	}
	assert_int_equal(llm_json_extract(&out, "no json", 7, &err), -ENOENT);
	assert_int_equal(llm_json_extract(&out, "{\"a\":", 5, &err), -ENOENT);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_validate(void **state)
{
	const char *schema =
		"{\"type\":\"object\",\"required\":[\"findings\"],"
		"\"additionalProperties\":false,\"properties\":{\"findings\":{"
		"\"type\":\"array\",\"maxItems\":3,\"items\":{\"type\":\"object\","
		"\"required\":[\"line\",\"severity\"],\"properties\":{\"line\":{"
		"\"type\":\"integer\",\"minimum\":1},\"severity\":{\"enum\":["
		"\"high\",\"low\"]},\"confidence\":{\"type\":\"number\","
		"\"minimum\":0,\"maximum\":1},\"title\":{\"type\":\"string\","
		"\"maxLength\":5}}}}}}";
	static const struct {
		const char *value, *err;
	} cases[] = {
		{ "{\"findings\":[]}", NULL },
		{ "{\"findings\":[{\"line\":3,\"severity\":\"low\","
		  "\"confidence\":0.5,\"title\":\"ab\"}]}", NULL },
		{ "{}", "$: missing required property \"findings\"" },
		{ "{\"findings\":[],\"x\":1}", "$: unexpected property \"x\"" },
		{ "{\"findings\":[{\"line\":0,\"severity\":\"low\"}]}",
		  "$.findings[0].line: 0 is below the minimum 1" },
		{ "{\"findings\":[{\"line\":1.5,\"severity\":\"low\"}]}",
		  "$.findings[0].line: expected integer, got number" },
		{ "{\"findings\":[{\"line\":1,\"severity\":\"mid\"}]}",
		  "$.findings[0].severity: value \"mid\" not in enum "
		  "[\"high\",\"low\"]" },
		{ "{\"findings\":[{\"line\":1,\"severity\":\"low\","
		  "\"confidence\":2}]}",
		  "$.findings[0].confidence: 2 is above the maximum 1" },
		{ "{\"findings\":[{\"line\":1,\"severity\":\"low\","
		  "\"title\":\"toolong\"}]}",
		  "$.findings[0].title: string longer than 5" },
		{ "{\"findings\":{}}", "$.findings: expected array, got object" },
		{ "{\"findings\":[{\"line\":1,\"severity\":\"low\"},{\"line\":1,"
		  "\"severity\":\"low\"},{\"line\":1,\"severity\":\"low\"},"
		  "{\"line\":1,\"severity\":\"low\"}]}",
		  "$.findings: more than 3 items" },
	};
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&err);
		if (!cases[i].err) {
			assert_int_equal(llm_json_validate_text(cases[i].value,
								schema, &err),
					 0);
			continue;
		}
		assert_int_equal(llm_json_validate_text(cases[i].value, schema,
							&err),
				 -EINVAL);
		assert_string_equal(err.buf, cases[i].err);
	}
	strbuf_release(&err);
}

static void test_cost(void **state)
{
	struct llm_usage u = { .in_uncached = 1000000,
			       .cache_write = 1000000,
			       .cache_write_1h = 0,
			       .cache_read = 1000000,
			       .out = 1000000 };
	struct llm_price p = { .input = 3, .output = 15 };
	double c = llm_cost(&u, &p);

	(void)state;
	/* 3 + 3.75 + 0.3 + 15 */
	assert_true(c > 22.049 && c < 22.051);
	u.cache_write_1h = 1000000;
	c = llm_cost(&u, &p);
	assert_true(c > 24.299 && c < 24.301);
}

static void test_key_file(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf path = STRBUF_INIT, key = STRBUF_INIT, err = STRBUF_INIT;
	struct llm_endpoint ep;
	int fd;

	(void)state;
	ep_init(&ep, LLM_DIALECT_OPENAI);
	strbuf_addf(&path, "%s/key", dir);
	fd = open(path.buf, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "sk-secret-123\n", 14), 14);
	close(fd);
	ep.key_file = path.buf;
	assert_int_equal(llm_endpoint_load_key(&key, &ep, &err), -EPERM);
	assert_non_null(strstr(err.buf, "group or others"));
	assert_null(strstr(err.buf, "sk-secret"));
	assert_int_equal(chmod(path.buf, 0600), 0);
	strbuf_reset(&err);
	assert_int_equal(llm_endpoint_load_key(&key, &ep, &err), 0);
	assert_string_equal(key.buf, "sk-secret-123");

	ep.key_file = NULL;
	ep.key_env = (char *)"KREVIEW_TEST_UNSET_KEY_VAR";
	strbuf_reset(&key);
	strbuf_reset(&err);
	unsetenv(ep.key_env);
	assert_int_equal(llm_endpoint_load_key(&key, &ep, &err), -ENOKEY);
	setenv(ep.key_env, "abc", 1);
	assert_int_equal(llm_endpoint_load_key(&key, &ep, &err), 0);
	assert_string_equal(key.buf, "abc");
	test_rmtree(dir);
	free(dir);
	strbuf_release(&path);
	strbuf_release(&key);
	strbuf_release(&err);
}

/* ---- SSE framing and streamed responses ---- */

static int sse_record(const char *event, const char *data, size_t len,
		      void *ctx)
{
	struct strbuf *t = ctx;

	strbuf_addf(t, "[%s|", event);
	strbuf_add(t, data, len);
	strbuf_addch(t, ']');
	return 0;
}

/* Frame 'in' cut at 'cut' and then byte by byte; both give 'want'. */
static void sse_check(const char *in, const char *want)
{
	size_t len = strlen(in);

	for (size_t cut = 0; cut <= len; cut++) {
		struct strbuf t = STRBUF_INIT, err = STRBUF_INIT;
		struct llm_sse s;

		llm_sse_init(&s, 0, 0, sse_record, &t);
		assert_int_equal(llm_sse_feed(&s, in, cut, &err), 0);
		assert_int_equal(llm_sse_feed(&s, in + cut, len - cut, &err), 0);
		assert_string_equal(t.buf, want);
		llm_sse_release(&s);
		strbuf_reset(&t);
		llm_sse_init(&s, 0, 0, sse_record, &t);
		for (size_t i = 0; i < len; i++)
			assert_int_equal(llm_sse_feed(&s, in + i, 1, &err), 0);
		assert_string_equal(t.buf, want);
		llm_sse_release(&s);
		strbuf_release(&t);
		strbuf_release(&err);
	}
}

static void test_sse_framer(void **state)
{
	struct strbuf t = STRBUF_INIT, err = STRBUF_INIT;
	struct llm_sse s;

	(void)state;
	sse_check("event: a\r\ndata: x\r\ndata:y\r\n\r\n: ping\n\ndata: z\n\n",
		  "[a|x\ny][|z]");
	/* CR alone ends lines; a BOM is skipped; id/retry ignored */
	sse_check("\xef\xbb\xbf" "data: 1\rdata: 2\r\rid: 7\nretry: 1\n\n",
		  "[|1\n2]");
	/* "data" without colon is an empty data line; event name resets */
	sse_check("event: e\ndata\n\ndata: after\n\n", "[e|][|after]");
	/* an unfinished event is not dispatched */
	llm_sse_init(&s, 0, 0, sse_record, &t);
	assert_int_equal(llm_sse_feed(&s, "data: x\n", 8, &err), 0);
	assert_true(llm_sse_partial(&s));
	assert_string_equal(t.buf, "");
	llm_sse_release(&s);
	/* caps */
	llm_sse_init(&s, 16, 32, sse_record, &t);
	assert_int_equal(llm_sse_feed(&s, "data: 0123456789abc", 19, &err),
			 -E2BIG);
	assert_non_null(strstr(err.buf, "longer than 16"));
	llm_sse_release(&s);
	strbuf_reset(&err);
	llm_sse_init(&s, 16, 32, sse_record, &t);
	assert_int_equal(llm_sse_feed(&s, "data: 0123456789\ndata: 0123456789"
					  "\ndata: 0123456789\n", 51, &err),
			 -E2BIG);
	assert_non_null(strstr(err.buf, "larger than 32"));
	llm_sse_release(&s);
	strbuf_release(&t);
	strbuf_release(&err);
}

static const char *anthropic_stream =
	"event: message_start\n"
	"data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
	"\"model\":\"claude-x\",\"content\":[],\"usage\":{\"input_tokens\":"
	"310,\"cache_read_input_tokens\":40960,\"output_tokens\":1}}}\n\n"
	"event: ping\ndata: {\"type\": \"ping\"}\n\n"
	"event: content_block_start\n"
	"data: {\"type\":\"content_block_start\",\"index\":0,"
	"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
	"event: content_block_delta\n"
	"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	"{\"type\":\"text_delta\",\"text\":\"Reading \\u00e9\"}}\n\n"
	"event: content_block_start\n"
	"data: {\"type\":\"content_block_start\",\"index\":1,"
	"\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\","
	"\"name\":\"read\",\"input\":{}}}\n\n"
	"event: content_block_delta\n"
	"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
	"{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"pa\"}}\n\n"
	"event: content_block_delta\n"
	"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
	"{\"type\":\"input_json_delta\",\"partial_json\":\"th\\\": 1}\"}}"
	"\n\n"
	"event: message_delta\n"
	"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	"\"tool_use\"},\"usage\":{\"output_tokens\":42}}\n\n";

static void test_stream_anthropic(void **state)
{
	size_t len = strlen(anthropic_stream);

	(void)state;
	for (size_t step = 1; step <= 7; step += 3) {
		struct llm_stream *s;
		struct llm_response r;
		struct strbuf err = STRBUF_INIT;

		memset(&r, 0, sizeof(r));
		llm_stream_new(&s, LLM_DIALECT_ANTHROPIC, 0);
		for (size_t i = 0; i < len; i += step)
			assert_int_equal(llm_stream_feed(s, anthropic_stream + i,
							 i + step > len ?
								 len - i :
								 step,
							 &err),
					 0);
		/* no message_stop yet: a cut stream is never an answer */
		assert_int_equal(llm_stream_finish(&r, s, &err), -EPIPE);
		assert_int_equal(llm_stream_feed(s, "event: message_stop\r\n"
						    "data: {\"type\":"
						    "\"message_stop\"}\r\n\r\n",
						 strlen("event: message_stop\r\n"
							"data: {\"type\":"
							"\"message_stop\"}"
							"\r\n\r\n"),
						 &err),
				 0);
		assert_true(llm_stream_complete(s));
		assert_int_equal(llm_stream_finish(&r, s, &err), 0);
		assert_int_equal(r.stop, LLM_STOP_TOOL);
		assert_int_equal(r.message.nr, 2);
		assert_string_equal(r.message.parts[0].text, "Reading \xc3\xa9");
		assert_string_equal(r.message.parts[1].id, "toolu_1");
		assert_string_equal(r.message.parts[1].args, "{\"path\":1}");
		assert_int_equal(r.usage.in_uncached, 310);
		assert_int_equal(r.usage.cache_read, 40960);
		assert_int_equal(r.usage.out, 42);
		assert_string_equal(r.request_id, "msg_1");
		llm_response_release(&r);
		llm_stream_free(s);
		strbuf_release(&err);
	}
}

static void test_stream_errors(void **state)
{
	struct llm_stream *s;
	struct llm_response r;
	struct strbuf err = STRBUF_INIT;
	static const char overloaded[] =
		"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
		"\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
	static const char openai_args[] =
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":"
		"[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"f\","
		"\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":"
		"[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]},"
		"\"finish_reason\":\"tool_calls\"}]}\n\n"
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
		"\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";

	(void)state;
	memset(&r, 0, sizeof(r));
	llm_stream_new(&s, LLM_DIALECT_ANTHROPIC, 0);
	assert_int_equal(llm_stream_feed(s, overloaded, strlen(overloaded),
					 &err),
			 -EREMOTEIO);
	assert_non_null(llm_stream_error(s));
	assert_int_equal(llm_stream_error(s)->cls, LLM_CLASS_OVERLOAD);
	assert_non_null(strstr(err.buf, "Overloaded"));
	llm_stream_free(s);

	/* malformed event data */
	strbuf_reset(&err);
	llm_stream_new(&s, LLM_DIALECT_OPENAI, 0);
	assert_int_equal(llm_stream_feed(s, "data: {\"x\n\n",
					 strlen("data: {\"x\n\n"), &err),
			 -EPROTO);
	llm_stream_free(s);

	/* openai tool arguments joined per index, usage from the last chunk */
	llm_stream_new(&s, LLM_DIALECT_OPENAI, 0);
	assert_int_equal(llm_stream_feed(s, openai_args, strlen(openai_args),
					 &err),
			 0);
	assert_int_equal(llm_stream_finish(&r, s, &err), 0);
	assert_int_equal(r.stop, LLM_STOP_TOOL);
	assert_int_equal(r.message.nr, 1);
	assert_string_equal(r.message.parts[0].args, "{\"a\":1}");
	assert_int_equal(r.usage.in_uncached, 9);
	assert_int_equal(r.usage.out, 2);
	llm_response_release(&r);
	llm_stream_free(s);

	/* the cap on accumulated text */
	strbuf_reset(&err);
	llm_stream_new(&s, LLM_DIALECT_GEMINI, 16);
	{
		static const char big[] =
			"data: {\"candidates\":[{\"content\":{\"parts\":[{"
			"\"text\":\"0123456789abcdefgh\"}]}}]}\n\n";

		assert_int_equal(llm_stream_feed(s, big, strlen(big), &err),
				 -E2BIG);
	}
	llm_stream_free(s);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_openai),
		cmocka_unit_test(test_encode_anthropic),
		cmocka_unit_test(test_anthropic_breakpoints),
		cmocka_unit_test(test_encode_gemini),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_decode_openai),
		cmocka_unit_test(test_decode_anthropic),
		cmocka_unit_test(test_decode_gemini),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_extract),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_sse_framer),
		cmocka_unit_test(test_stream_anthropic),
		cmocka_unit_test(test_stream_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
