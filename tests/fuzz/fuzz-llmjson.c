/*
 * Fuzz the parsers of provider and model output: the three response
 * decoders, error classification (JSON or not), answer extraction and
 * the schema validator.  The first byte picks the status code class so
 * classification sees 2xx..5xx.
 */
#include "kreview/common.h"
#include "kreview/llm.h"
#include "kreview/llm_json.h"

static const char *schema =
	"{\"type\":\"object\",\"required\":[\"findings\"],\"properties\":{"
	"\"findings\":{\"type\":\"array\",\"maxItems\":50,\"items\":{\"type\":"
	"\"object\",\"required\":[\"line\"],\"additionalProperties\":false,"
	"\"properties\":{\"line\":{\"type\":\"integer\",\"minimum\":1},"
	"\"severity\":{\"enum\":[\"high\",\"low\"]},\"title\":{\"type\":"
	"\"string\",\"maxLength\":80},\"confidence\":{\"type\":[\"number\","
	"\"null\"],\"maximum\":1}}}}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 400, 401, 403, 429, 500, 502, 503, 529 };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	const char *body = (const char *)data;
	long status;

	if (size < 1 || size > (1u << 20))
		return 0;
	status = statuses[data[0] % ARRAY_SIZE(statuses)];
	body++;
	size--;
	for (int d = 0; d < LLM_DIALECT_MAX; d++) {
		struct llm_response resp = { 0 };
		struct llm_error_info info = { 0 };

		strbuf_reset(&err);
		if (llm_decode(&resp, (enum llm_dialect)d, body, size, NULL,
			       NULL, &err) == 0) {
			strbuf_reset(&out);
			llm_turn_text(&out, &resp.message);
		}
		llm_response_release(&resp);
		llm_classify(&info, (enum llm_dialect)d, status, body, size,
			     NULL, NULL);
		llm_error_info_release(&info);
	}
	strbuf_reset(&out);
	strbuf_reset(&err);
	if (llm_json_extract(&out, body, size, &err) == 0) {
		strbuf_reset(&err);
		llm_json_validate_text(out.buf, schema, &err);
	}
	strbuf_release(&err);
	strbuf_release(&out);
	return 0;
}
