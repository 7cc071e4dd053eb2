/* Unit tests of the `endpoints:` config section parser. */
#include "testutil.h"

#include "kreview/llm.h"
#include "kreview/yamlnode.h"

static int parse(struct llm_config **out, const char *yaml, struct strbuf *err)
{
	struct yamlnode_doc *doc = NULL;
	const struct yamlnode *node;
	int ret;

	assert_int_equal(yamlnode_load_buffer(&doc, "c.yaml", yaml,
					      strlen(yaml), err), 0);
	node = yamlnode_map_get(doc->root, "endpoints");
	ret = llm_config_parse(out, node, err);
	yamlnode_doc_free(doc);
	return ret;
}

static void test_full(void **state)
{
	struct llm_config *c = NULL;
	struct strbuf err = STRBUF_INIT;
	const struct llm_endpoint *ep;

	(void)state;
	assert_int_equal(
		parse(&c,
		      "endpoints:\n"
		      "  - name: local\n"
		      "    dialect: openai\n"
		      "    url: http://127.0.0.1:8080/v1\n"
		      "    model: qwen2.5-coder-32b\n"
		      "    key_env: LOCAL_KEY\n"
		      "    concurrency: 4\n"
		      "    max_tokens_field: max_tokens\n"
		      "    send_temperature: false\n"
		      "    fallback: claude\n"
		      "  - name: claude\n"
		      "    dialect: anthropic\n"
		      "    url: https://api.anthropic.com\n"
		      "    model: claude-x\n"
		      "    key_file: /etc/kreview/anthropic.key\n"
		      "    rpm: 50\n"
		      "    input_tpm: 40000\n"
		      "    price: {input: 3, output: 15}\n"
		      "    headers: {anthropic-beta: foo}\n"
		      "    timeout: 15m\n"
		      "    max_retry_delay: 2m\n",
		      &err),
		0);
	assert_int_equal(c->nr, 2);
	ep = llm_config_find(c, "local");
	assert_non_null(ep);
	assert_int_equal(ep->dialect, LLM_DIALECT_OPENAI);
	assert_string_equal(ep->url, "http://127.0.0.1:8080/v1");
	assert_string_equal(ep->key_env, "LOCAL_KEY");
	assert_string_equal(ep->max_tokens_field, "max_tokens");
	assert_true(ep->no_temperature);
	assert_string_equal(ep->fallback, "claude");
	assert_int_equal(ep->timeout_ms, 600000);
	ep = llm_config_find(c, "claude");
	assert_int_equal(ep->dialect, LLM_DIALECT_ANTHROPIC);
	assert_int_equal(ep->rpm, 50);
	assert_int_equal(ep->itpm, 40000);
	assert_true(ep->price.output == 15);
	assert_int_equal(ep->nr_headers, 1);
	assert_string_equal(ep->headers[0], "anthropic-beta: foo");
	assert_int_equal(ep->timeout_ms, 900000);
	assert_int_equal(ep->max_retry_delay_ms, 120000);
	assert_int_equal(ep->concurrency, 4);
	llm_config_release(&c);
	assert_null(c);
	strbuf_release(&err);
}

static void test_errors(void **state)
{
	struct llm_config *c = NULL;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(parse(&c,
			       "endpoints:\n"
			       "  - name: a\n"
			       "    dialect: cohere\n"
			       "    url: ftp://x\n"
			       "    model: m\n"
			       "  - name: b\n"
			       "    dialect: openai\n"
			       "    url: http://127.0.0.1/v1\n"
			       "    model: m\n"
			       "    key_env: A\n"
			       "    key_file: /x\n"
			       "  - name: c\n"
			       "    dialect: gemini\n"
			       "    url: https://g\n"
			       "    model: m\n"
			       "    fallback: nowhere\n"
			       "    colour: blue\n"
			       "  - name: d\n"
			       "    dialect: gemini\n"
			       "    url: https://g\n"
			       "    model: m\n"
			       "    fallback: nowhere\n"
			       "  - name: d\n"
			       "    dialect: gemini\n"
			       "    url: https://g\n"
			       "    model: m\n",
			       &err),
			 -EINVAL);
	assert_non_null(strstr(err.buf, "c.yaml:3:"));
	assert_non_null(strstr(err.buf, "mutually exclusive"));
	assert_non_null(strstr(err.buf, "colour"));
	assert_non_null(strstr(err.buf, "unknown fallback 'nowhere'"));
	assert_non_null(strstr(err.buf, "duplicate endpoint name 'd'"));
	llm_config_release(&c);

	strbuf_reset(&err);
	assert_int_equal(parse(&c, "endpoints: {a: 1}\n", &err), -EINVAL);
	assert_non_null(strstr(err.buf, "expected a sequence"));
	llm_config_release(&c);
	assert_int_equal(parse(&c, "other: 1\n", &err), 0);
	assert_null(c);
	strbuf_release(&err);
}

static void test_stream_keys(void **state)
{
	struct llm_config *c = NULL;
	struct strbuf err = STRBUF_INIT;
	const struct llm_endpoint *ep;

	(void)state;
	assert_int_equal(
		parse(&c,
		      "endpoints:\n"
		      "  - name: local\n"
		      "    dialect: openai\n"
		      "    url: http://127.0.0.1:8080/v1\n"
		      "    model: m\n"
		      "    stream: true\n"
		      "    idle_timeout: 30s\n"
		      "    health_probe: true\n"
		      "    health_timeout: 10m\n"
		      "  - name: claude\n"
		      "    dialect: anthropic\n"
		      "    url: https://api.anthropic.com\n"
		      "    model: c\n"
		      "  - name: quiet\n"
		      "    dialect: anthropic\n"
		      "    url: https://api.anthropic.com\n"
		      "    model: c\n"
		      "    stream: false\n",
		      &err),
		0);
	ep = llm_config_find(c, "local");
	assert_int_equal(ep->stream, LLM_STREAM_ON);
	assert_true(llm_endpoint_streams(ep));
	assert_int_equal(ep->idle_timeout_ms, 30000);
	assert_true(ep->health_probe);
	assert_int_equal(ep->health_timeout_ms, 600000);
	{
		char *h = llm_endpoint_health_url(ep);

		assert_string_equal(h, "http://127.0.0.1:8080/health");
		free(h);
	}
	ep = llm_config_find(c, "claude");
	assert_int_equal(ep->stream, LLM_STREAM_DEFAULT);
	assert_true(llm_endpoint_streams(ep));
	assert_false(ep->health_probe);
	assert_false(llm_endpoint_streams(llm_config_find(c, "quiet")));
	llm_config_release(&c);
	strbuf_reset(&err);
	assert_int_equal(parse(&c,
			       "endpoints:\n"
			       "  - name: x\n"
			       "    dialect: openai\n"
			       "    url: http://h/v1\n"
			       "    model: m\n"
			       "    stream: sometimes\n",
			       &err),
			 -EINVAL);
	assert_non_null(strstr(err.buf, "c.yaml:6:"));
	llm_config_release(&c);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_keys),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
