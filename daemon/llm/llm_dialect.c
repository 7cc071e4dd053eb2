/*
 * llm_dialect.c - dispatch to the three dialects, shared json-c helpers,
 * and the status-code half of error classification.
 */
#include "kreview/common.h"
#include "llm_priv.h"

#include <ctype.h>
#include <strings.h>
#include <math.h>

static const struct llm_dialect_ops *const ops_table[LLM_DIALECT_MAX] = {
	[LLM_DIALECT_OPENAI] = &llm_openai_ops,
	[LLM_DIALECT_ANTHROPIC] = &llm_anthropic_ops,
	[LLM_DIALECT_GEMINI] = &llm_gemini_ops,
};

static const struct llm_dialect_ops *ops_of(enum llm_dialect d)
{
	if ((unsigned)d >= LLM_DIALECT_MAX)
		BUG("bad dialect %d", (int)d);
	return ops_table[d];
}

/* ---- json helpers ---- */

struct json_object *llm_jget(struct json_object *o, const char *key,
			     enum json_type t)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

const char *llm_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = llm_jget(o, key, json_type_string);
	const char *s;

	if (!v)
		return NULL;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

uint64_t llm_ju64(struct json_object *o, const char *key)
{
	struct json_object *v = llm_jget(o, key, json_type_int);
	int64_t n;

	if (!v)
		return 0;
	n = json_object_get_int64(v);
	return n > 0 ? (uint64_t)n : 0;
}

struct json_object *llm_jnew_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *llm_jnew_double(double d)
{
	char buf[64];

	if (!isfinite(d))
		d = 0;
	snprintf(buf, sizeof(buf), "%.15g", d);
	return json_object_new_double_s(d, buf);
}

int llm_jparse_object(struct json_object **out, const char *text,
		      const char *what, struct strbuf *err)
{
	struct json_object *o = NULL;
	struct strbuf e = STRBUF_INIT;
	int ret;

	ret = llm_json_parse(&o, text, strlen(text), &e);
	if (ret < 0 || !json_object_is_type(o, json_type_object)) {
		strbuf_addf(err, "%s is not a JSON object%s%s", what,
			    e.len ? ": " : "", e.buf);
		json_object_put(o);
		strbuf_release(&e);
		return -EINVAL;
	}
	strbuf_release(&e);
	*out = o;
	return 0;
}

void llm_http_add_header(struct llm_http *h, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(h->headers, h->nr_headers + 1, h->alloc_headers);
	h->headers[h->nr_headers++] = strbuf_detach(&sb, NULL);
}

void llm_http_common_headers(struct llm_http *h, const struct llm_endpoint *ep,
			     const struct llm_request *req)
{
	llm_http_add_header(h, "Content-Type: application/json");
	for (size_t i = 0; i < ep->nr_headers; i++)
		llm_http_add_header(h, "%s", ep->headers[i]);
	if (req->mock_scenario)
		llm_http_add_header(h, "X-Mock-Scenario: %s",
				    req->mock_scenario);
}

char *llm_url_join(const char *base, const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, base);
	while (sb.len && sb.buf[sb.len - 1] == '/')
		strbuf_setlen(&sb, sb.len - 1);
	strbuf_addstr(&sb, suffix);
	return strbuf_detach(&sb, NULL);
}

void llm_http_set_body(struct llm_http *h, struct json_object *root)
{
	strbuf_reset(&h->body);
	llm_json_add(&h->body, root);
	json_object_put(root);
}

void llm_error_set_message(struct llm_error_info *e, const char *msg)
{
	struct strbuf sb = STRBUF_INIT;

	free(e->message);
	e->message = NULL;
	if (!msg)
		return;
	for (const char *p = msg; *p && sb.len < 300; p++)
		strbuf_addch(&sb, (unsigned char)*p < 0x20 ? ' ' : *p);
	e->message = strbuf_detach(&sb, NULL);
}

static const char *find_icase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!hay)
		return NULL;
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return hay;
	return NULL;
}

bool llm_contains(const char *hay, const char *needle)
{
	return find_icase(hay, needle) != NULL;
}

uint32_t llm_max_tokens(const struct llm_endpoint *ep,
			const struct llm_request *req)
{
	if (req->max_tokens)
		return req->max_tokens;
	return ep->default_max_tokens ? ep->default_max_tokens : 4096;
}

bool llm_send_temperature(const struct llm_endpoint *ep,
			  const struct llm_request *req)
{
	return req->sampling.has_temperature && !ep->no_temperature;
}

bool llm_send_top_p(const struct llm_endpoint *ep,
		    const struct llm_request *req)
{
	return req->sampling.has_top_p && !ep->no_temperature;
}

bool llm_send_seed(const struct llm_endpoint *ep,
		   const struct llm_request *req)
{
	return req->sampling.has_seed && !ep->no_seed;
}

/* ---- public entry points ---- */

int llm_encode(struct llm_http *h, const struct llm_endpoint *ep,
	       const char *key, const struct llm_request *req,
	       struct strbuf *err)
{
	struct llm_http tmp;
	int ret;

	if (!req->nr_turns) {
		strbuf_addstr(err, "request has no turns");
		return -EINVAL;
	}
	if (!ep->url || !ep->model) {
		strbuf_addf(err, "endpoint '%s' has no url or model",
			    ep->name ? ep->name : "?");
		return -EINVAL;
	}
	llm_http_init(&tmp);
	ret = ops_of(ep->dialect)->encode(&tmp, ep, key ? key : "", req, err);
	if (ret < 0) {
		llm_http_release(&tmp);
		return ret;
	}
	llm_http_release(h);
	*h = tmp;
	return 0;
}

int llm_decode(struct llm_response *out, enum llm_dialect d,
	       const char *body, size_t len, llm_header_fn hdr, void *hdr_data,
	       struct strbuf *err)
{
	const struct llm_dialect_ops *ops = ops_of(d);
	struct llm_response tmp;
	struct json_object *root = NULL;
	int ret;

	memset(&tmp, 0, sizeof(tmp));
	tmp.message.role = LLM_ROLE_ASSISTANT;
	ret = llm_json_parse(&root, body, len, err);
	if (ret < 0) {
		ret = -EPROTO;
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		strbuf_addstr(err, "response is not a JSON object");
		ret = -EPROTO;
		goto out;
	}
	ret = ops->decode(&tmp, root, err);
	if (ret < 0)
		goto out;
	if (hdr && ops->request_id_header) {
		const char *id = hdr(hdr_data, ops->request_id_header);

		if (id && *id) {
			free(tmp.request_id);
			tmp.request_id = xstrdup(id);
		}
	}
	llm_response_release(out);
	llm_response_move(out, &tmp);
out:
	llm_response_release(&tmp);
	json_object_put(root);
	return ret;
}

static enum llm_class class_of_status(long status)
{
	switch (status) {
	case 408:
	case 409:
	case 499:
	case 500:
	case 502:
	case 504:
		return LLM_CLASS_SERVER;
	case 429:
		return LLM_CLASS_RATE_LIMIT;
	case 503:
	case 529:
		return LLM_CLASS_OVERLOAD;
	case 401:
	case 403:
		return LLM_CLASS_AUTH;
	}
	if (status >= 500)
		return LLM_CLASS_SERVER;
	if (status >= 400)
		return LLM_CLASS_REQUEST;
	return LLM_CLASS_SERVER; /* 1xx/3xx: we follow no redirects */
}

/* "Please retry in 12.5s." in a message; -1 if absent. */
static int64_t retry_in_message(const char *msg)
{
	const char *p = find_icase(msg, "retry in ");
	char num[32];
	size_t n = 0;

	if (!p)
		return -1;
	p += 9;
	while (n < sizeof(num) - 1 &&
	       (isalnum((unsigned char)p[n]) || p[n] == '.')) {
		num[n] = p[n];
		n++;
	}
	while (n && num[n - 1] == '.')
		n--;
	num[n] = '\0';
	return llm_parse_duration_ms(num);
}

/* "prompt is too long: N tokens > M maximum" */
static void parse_too_long(struct llm_error_info *e, const char *msg)
{
	const char *p = msg ? strstr(msg, "too long: ") : NULL;
	unsigned long long n, m;
	char *end;

	if (!p)
		return;
	p += 10;
	n = strtoull(p, &end, 10);
	if (end == p || strncmp(end, " tokens > ", 10))
		return;
	p = end + 10;
	m = strtoull(p, &end, 10);
	if (end == p)
		return;
	e->context_tokens = n;
	e->context_max = m;
}

void llm_classify(struct llm_error_info *out, enum llm_dialect d, long status,
		  const char *body, size_t len, llm_header_fn hdr,
		  void *hdr_data)
{
	struct json_object *root = NULL;
	struct llm_error_info e;

	(void)hdr;
	(void)hdr_data;
	memset(&e, 0, sizeof(e));
	e.delay_ms = -1;
	e.cls = class_of_status(status);
	if (body && len && llm_json_parse(&root, body, len, NULL) == 0 &&
	    json_object_is_type(root, json_type_object))
		ops_of(d)->classify(&e, status, root);
	/* Self-hosted servers word context errors in plain text. */
	if (status == 400 && e.cls == LLM_CLASS_REQUEST && body && len) {
		char *copy = xmemdupz(body, len < 4096 ? len : 4096);

		if (llm_contains(copy, "maximum context length") ||
		    llm_contains(copy, "context length") ||
		    llm_contains(copy, "prompt is too long") ||
		    llm_contains(copy, "exceeds the available context"))
			e.cls = LLM_CLASS_CONTEXT;
		if (!e.message && !root)
			llm_error_set_message(&e, copy);
		free(copy);
	}
	if (e.cls == LLM_CLASS_CONTEXT)
		parse_too_long(&e, e.message);
	if (e.delay_ms < 0 && e.message &&
	    (e.cls == LLM_CLASS_RATE_LIMIT || e.cls == LLM_CLASS_OVERLOAD))
		e.delay_ms = retry_in_message(e.message);
	json_object_put(root);
	llm_error_info_release(out);
	*out = e;
}
