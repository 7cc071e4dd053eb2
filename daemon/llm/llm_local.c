/*
 * Finding a local model server when no endpoint is configured: kernel
 * developers often run llama.cpp's server or Ollama, and they should
 * need no configuration at all.  Each candidate base URL gets one
 * "GET <base>/models" with a short timeout; the first that answers with
 * an OpenAI-style model list becomes the endpoint "local".
 */
#include "kreview/llm.h"
#include "kreview/llm_json.h"
#include "kreview/strbuf.h"

#include <curl/curl.h>
#include <json-c/json.h>

#define LOCAL_PROBE_TIMEOUT_MS 700
#define LOCAL_MAX_LIST (1u << 20)

static const char *const default_urls[] = {
	"http://127.0.0.1:8080/v1",	/* llama.cpp server */
	"http://127.0.0.1:11434/v1",	/* Ollama */
	NULL,
};

static size_t collect(char *p, size_t size, size_t n, void *data)
{
	struct strbuf *sb = data;

	if (strbuf_add_checked(sb, p, size * n) < 0)
		return 0;
	return size * n;
}

/* The first model id of the server at 'base', or NULL. */
static char *probe(const char *base)
{
	struct strbuf url = STRBUF_INIT, body = STRBUF_INIT;
	struct json_object *root = NULL, *data, *first, *id;
	CURL *h = curl_easy_init();
	char *model = NULL;
	long status = 0;

	if (!h)
		return NULL;
	body.max = LOCAL_MAX_LIST;
	strbuf_addf(&url, "%s/models", base);
	curl_easy_setopt(h, CURLOPT_URL, url.buf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)LOCAL_PROBE_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)LOCAL_PROBE_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kreview/" KREVIEW_VERSION);
	if (curl_easy_perform(h) != CURLE_OK)
		goto out;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 || llm_json_parse(&root, body.buf, body.len, NULL) < 0)
		goto out;
	if (json_object_object_get_ex(root, "data", &data) &&
	    json_object_is_type(data, json_type_array) &&
	    json_object_array_length(data) > 0 &&
	    (first = json_object_array_get_idx(data, 0)) &&
	    json_object_object_get_ex(first, "id", &id) &&
	    json_object_is_type(id, json_type_string) &&
	    json_object_get_string_len(id) > 0 &&
	    json_object_get_string_len(id) < 256)
		model = xstrdup(json_object_get_string(id));
out:
	json_object_put(root);
	curl_easy_cleanup(h);
	strbuf_release(&url);
	strbuf_release(&body);
	return model;
}

int llm_local_detect(struct llm_config **out, struct strbuf *note)
{
	const char *env = getenv("KREVIEW_LOCAL_URLS");
	struct strbuf list = STRBUF_INIT;
	char *p, *save = NULL;
	int r = -ENOENT;

	if (env && *env) {
		strbuf_addstr(&list, env);
	} else {
		for (size_t i = 0; default_urls[i]; i++)
			strbuf_addf(&list, "%s ", default_urls[i]);
	}
	for (p = strtok_r(list.buf, " ,", &save); p;
	     p = strtok_r(NULL, " ,", &save)) {
		char *model = probe(p);
		struct llm_config *c;
		struct llm_endpoint *ep;

		if (!model)
			continue;
		c = xcalloc(1, sizeof(*c));
		c->eps = xcalloc(1, sizeof(*c->eps));
		c->nr = 1;
		ep = &c->eps[0];
		ep->name = xstrdup("local");
		ep->dialect = LLM_DIALECT_OPENAI;
		ep->url = xstrdup(p);
		ep->model = model;
		ep->concurrency = 1;	/* one GPU, one request */
		ep->max_tokens_field = xstrdup("max_tokens");
		if (note)
			strbuf_addf(note, "no endpoint configured: using the local server at %s (model %s)",
				    p, model);
		*out = c;
		r = 0;
		break;
	}
	strbuf_release(&list);
	return r;
}
