/*
 * llm_config.c - the `endpoints:` section of the configuration.
 *
 *   endpoints:
 *     - name: local              # required, unique
 *       dialect: openai          # openai | anthropic | gemini (required)
 *       url: http://127.0.0.1:8080/v1   # required base URL
 *       model: qwen2.5-coder-32b # required
 *       key_env: LOCAL_KEY       # or key_file: PATH (mode 0600)
 *       concurrency: 4           # requests in flight
 *       rpm: 0                   # requests/min, 0 = no limit
 *       input_tpm: 0             # input tokens/min
 *       output_tpm: 0            # output tokens/min
 *       price: {input: 3, output: 15, cache_write: 3.75,
 *               cache_write_1h: 6, cache_read: 0.3}   # USD per Mtok
 *       headers: {OpenAI-Organization: org-1}
 *       connect_timeout: 10s
 *       timeout: 10m             # per attempt
 *       max_retry_delay: 60s     # clamp for server retry hints
 *       max_attempts: 6
 *       max_response_bytes: 8388608
 *       breaker_threshold: 5     # consecutive failures to open
 *       breaker_cooldown: 30s
 *       fallback: other-endpoint
 *       max_tokens_field: max_completion_tokens   # or max_tokens
 *       send_temperature: true
 *       send_seed: true
 *       max_tokens: 4096         # default output cap
 *       anthropic_version: 2023-06-01
 *       stream: true             # SSE; default true for anthropic only
 *       idle_timeout: 2m         # streams: fail when no byte comes
 *       health_probe: false      # poll <root>/health until 200 first
 *       health_timeout: 5m       # how long to wait for readiness
 */
#include "kreview/common.h"
#include "kreview/config.h"
#include "kreview/llm.h"
#include "kreview/yamlnode.h"

struct ep_yaml {
	char *name;
	int dialect;
	char *url;
	char *model;
	char *key_env;
	char *key_file;
	int concurrency;
	int rpm, itpm, otpm;
	struct llm_price price;
	struct config_strmap headers;
	int64_t connect_timeout_ms, timeout_ms, max_retry_delay_ms;
	int max_attempts;
	int64_t max_response_bytes;
	int breaker_threshold;
	int64_t breaker_cooldown_ms;
	char *fallback;
	int max_tokens_field;
	bool send_temperature, send_seed;
	int max_tokens;
	char *anthropic_version;
	int stream;
	int64_t idle_timeout_ms;
	bool health_probe;
	int64_t health_timeout_ms;
};

static const char *const dialect_names[] = { "openai", "anthropic", "gemini",
					     NULL };
/* index order is enum llm_stream_mode */
static const char *const stream_names[] = { "default", "true", "false",
					    NULL };
static const char *const maxf_names[] = { "max_completion_tokens",
					  "max_tokens", NULL };

static const struct config_field price_fields[] = {
	{ CONFIG_F_DOUBLE(struct llm_price, input, "input"), .dmin = 0,
	  .dmax = 1e6, .doc = "USD per million uncached input tokens" },
	{ CONFIG_F_DOUBLE(struct llm_price, output, "output"), .dmin = 0,
	  .dmax = 1e6, .doc = "USD per million output tokens" },
	{ CONFIG_F_DOUBLE(struct llm_price, cache_write, "cache_write"),
	  .dmin = 0, .dmax = 1e6,
	  .doc = "USD per million 5-minute cache writes (default 1.25x input)" },
	{ CONFIG_F_DOUBLE(struct llm_price, cache_write_1h, "cache_write_1h"),
	  .dmin = 0, .dmax = 1e6,
	  .doc = "USD per million 1-hour cache writes (default 2x input)" },
	{ CONFIG_F_DOUBLE(struct llm_price, cache_read, "cache_read"),
	  .dmin = 0, .dmax = 1e6,
	  .doc = "USD per million cache reads (default 0.1x input)" },
	{ NULL }
};

static const struct config_field ep_fields[] = {
	{ CONFIG_F_STRING(struct ep_yaml, name, "name"), .required = true,
	  .doc = "name used by --endpoint and review settings" },
	{ CONFIG_F_ENUM(struct ep_yaml, dialect, "dialect", dialect_names),
	  .required = true, .doc = "openai, anthropic or gemini" },
	{ CONFIG_F_STRING(struct ep_yaml, url, "url"), .required = true,
	  .doc = "base URL; the dialect's path is appended" },
	{ CONFIG_F_STRING(struct ep_yaml, model, "model"), .required = true },
	{ CONFIG_F_STRING(struct ep_yaml, key_env, "key_env"),
	  .doc = "environment variable holding the API key" },
	{ CONFIG_F_STRING(struct ep_yaml, key_file, "key_file"),
	  .doc = "file holding the API key, mode 0600 or stricter" },
	{ CONFIG_F_INT(struct ep_yaml, concurrency, "concurrency"), .min = 1,
	  .max = 1024, .def_int = 4 },
	{ CONFIG_F_INT(struct ep_yaml, rpm, "rpm"), .min = 0,
	  .max = 100000000, .doc = "requests per minute, 0: no limit" },
	{ CONFIG_F_INT(struct ep_yaml, itpm, "input_tpm"), .min = 0,
	  .max = 2000000000, .doc = "input tokens per minute, 0: no limit" },
	{ CONFIG_F_INT(struct ep_yaml, otpm, "output_tpm"), .min = 0,
	  .max = 2000000000, .doc = "output tokens per minute, 0: no limit" },
	{ CONFIG_F_MAPPING(struct ep_yaml, price, "price", price_fields) },
	{ CONFIG_F_STRMAP(struct ep_yaml, headers, "headers"),
	  .doc = "extra request headers" },
	{ CONFIG_F_DURATION(struct ep_yaml, connect_timeout_ms,
			    "connect_timeout"),
	  .min = 100, .max = 600000, .def_int = 10000 },
	{ CONFIG_F_DURATION(struct ep_yaml, timeout_ms, "timeout"),
	  .min = 1000, .max = 7200000, .def_int = 600000,
	  .doc = "overall cap per attempt" },
	{ CONFIG_F_DURATION(struct ep_yaml, max_retry_delay_ms,
			    "max_retry_delay"),
	  .min = 0, .max = 86400000, .def_int = 60000 },
	{ CONFIG_F_INT(struct ep_yaml, max_attempts, "max_attempts"), .min = 1,
	  .max = 20, .def_int = 6 },
	{ CONFIG_F_INT64(struct ep_yaml, max_response_bytes,
			 "max_response_bytes"),
	  .min = 1024, .max = 1 << 30, .def_int = 8 << 20 },
	{ CONFIG_F_INT(struct ep_yaml, breaker_threshold, "breaker_threshold"),
	  .min = 1, .max = 1000, .def_int = 5 },
	{ CONFIG_F_DURATION(struct ep_yaml, breaker_cooldown_ms,
			    "breaker_cooldown"),
	  .min = 0, .max = 86400000, .def_int = 30000 },
	{ CONFIG_F_STRING(struct ep_yaml, fallback, "fallback"),
	  .doc = "endpoint used when this one is down or out of quota" },
	{ CONFIG_F_ENUM(struct ep_yaml, max_tokens_field, "max_tokens_field",
			maxf_names),
	  .doc = "openai only: name of the output cap field" },
	{ CONFIG_F_BOOL(struct ep_yaml, send_temperature, "send_temperature"),
	  .def_bool = true },
	{ CONFIG_F_BOOL(struct ep_yaml, send_seed, "send_seed"),
	  .def_bool = true },
	{ CONFIG_F_INT(struct ep_yaml, max_tokens, "max_tokens"), .min = 1,
	  .max = 10000000, .def_int = 4096, .doc = "default output cap" },
	{ CONFIG_F_STRING(struct ep_yaml, anthropic_version,
			  "anthropic_version") },
	{ CONFIG_F_ENUM(struct ep_yaml, stream, "stream", stream_names),
	  .doc = "ask for a streamed (SSE) response; default: anthropic only" },
	{ CONFIG_F_DURATION(struct ep_yaml, idle_timeout_ms, "idle_timeout"),
	  .min = 1000, .max = 3600000, .def_int = 120000,
	  .doc = "streams: fail the attempt when no byte arrives this long" },
	{ CONFIG_F_BOOL(struct ep_yaml, health_probe, "health_probe"),
	  .doc = "poll GET <root>/health until 200 before the first request" },
	{ CONFIG_F_DURATION(struct ep_yaml, health_timeout_ms,
			    "health_timeout"),
	  .min = 1000, .max = 86400000, .def_int = 300000,
	  .doc = "how long to wait for a loading server to get ready" },
	{ NULL }
};

static void to_endpoint(struct llm_endpoint *ep, struct ep_yaml *y)
{
	memset(ep, 0, sizeof(*ep));
	ep->name = y->name;
	y->name = NULL;
	ep->dialect = (enum llm_dialect)y->dialect;
	ep->url = y->url;
	y->url = NULL;
	ep->model = y->model;
	y->model = NULL;
	ep->key_env = y->key_env;
	y->key_env = NULL;
	ep->key_file = y->key_file;
	y->key_file = NULL;
	ep->concurrency = (unsigned)y->concurrency;
	ep->rpm = (unsigned)y->rpm;
	ep->itpm = (unsigned)y->itpm;
	ep->otpm = (unsigned)y->otpm;
	ep->price = y->price;
	if (y->headers.nr) {
		ep->headers = xcalloc(y->headers.nr, sizeof(char *));
		for (size_t i = 0; i < y->headers.nr; i++) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "%s: %s", y->headers.keys[i],
				    y->headers.values[i]);
			ep->headers[i] = strbuf_detach(&sb, NULL);
		}
		ep->nr_headers = y->headers.nr;
	}
	ep->connect_timeout_ms = y->connect_timeout_ms;
	ep->timeout_ms = y->timeout_ms;
	ep->max_retry_delay_ms = y->max_retry_delay_ms;
	ep->max_attempts = (unsigned)y->max_attempts;
	ep->max_response_bytes = (size_t)y->max_response_bytes;
	ep->breaker_threshold = (unsigned)y->breaker_threshold;
	ep->breaker_cooldown_ms = y->breaker_cooldown_ms;
	ep->fallback = y->fallback;
	y->fallback = NULL;
	ep->max_tokens_field = xstrdup(maxf_names[y->max_tokens_field]);
	ep->no_temperature = !y->send_temperature;
	ep->no_seed = !y->send_seed;
	ep->default_max_tokens = (uint32_t)y->max_tokens;
	ep->anthropic_version = y->anthropic_version;
	y->anthropic_version = NULL;
	ep->stream = (enum llm_stream_mode)y->stream;
	ep->idle_timeout_ms = y->idle_timeout_ms;
	ep->health_probe = y->health_probe;
	ep->health_timeout_ms = y->health_timeout_ms;
}

/* A header name or value must not smuggle a line break. */
static bool header_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

static int check_one(const struct ep_yaml *y, const struct yamlnode *node,
		     struct strbuf *err)
{
	int ret = 0;

	if (y->key_env && y->key_file) {
		yamlnode_error(err, node, "endpoint '%s': key_env and key_file "
					  "are mutually exclusive", y->name);
		ret = -EINVAL;
	}
	if (y->url && strncmp(y->url, "https://", 8) &&
	    strncmp(y->url, "http://", 7)) {
		yamlnode_error(err, yamlnode_map_get(node, "url"),
			       "endpoint '%s': url must start with http:// or "
			       "https://", y->name ? y->name : "?");
		ret = -EINVAL;
	}
	for (size_t i = 0; i < y->headers.nr; i++) {
		if (!header_ok(y->headers.keys[i]) ||
		    !header_ok(y->headers.values[i]) ||
		    strchr(y->headers.keys[i], ':')) {
			yamlnode_error(err, yamlnode_map_get(node, "headers"),
				       "endpoint '%s': invalid header '%s'",
				       y->name ? y->name : "?",
				       y->headers.keys[i]);
			ret = -EINVAL;
		}
	}
	return ret;
}

void llm_config_release(void *field)
{
	struct llm_config **pc = field, *c = *pc;

	if (!c)
		return;
	for (size_t i = 0; i < c->nr; i++)
		llm_endpoint_release(&c->eps[i]);
	free(c->eps);
	free(c);
	*pc = NULL;
}

const struct llm_endpoint *llm_config_find(const struct llm_config *c,
					   const char *name)
{
	for (size_t i = 0; c && i < c->nr; i++)
		if (!strcmp(c->eps[i].name, name))
			return &c->eps[i];
	return NULL;
}

int llm_config_parse(void *field, const struct yamlnode *node,
		     struct strbuf *err)
{
	struct llm_config **pc = field, *c;
	const struct yamlnode **src;
	int ret = 0;

	*pc = NULL;
	if (!node || yamlnode_is_null(node))
		return 0;
	if (node->kind != YAMLNODE_SEQUENCE) {
		yamlnode_error(err, node, "endpoints: expected a sequence, got %s",
			       yamlnode_kind_name(node->kind));
		return -EINVAL;
	}
	c = xcalloc(1, sizeof(*c));
	c->eps = xcalloc(node->nr ? node->nr : 1, sizeof(*c->eps));
	src = xcalloc(node->nr ? node->nr : 1, sizeof(*src));
	*pc = c;
	for (size_t i = 0; i < node->nr; i++) {
		const struct yamlnode *item = node->items[i];
		struct ep_yaml y;

		memset(&y, 0, sizeof(y));
		if (item->kind != YAMLNODE_MAPPING) {
			yamlnode_error(err, item, "endpoint: expected a "
						  "mapping, got %s",
				       yamlnode_kind_name(item->kind));
			ret = -EINVAL;
			continue;
		}
		if (config_bind(&y, ep_fields, item, err) < 0 ||
		    check_one(&y, item, err) < 0) {
			ret = -EINVAL;
			config_release(&y, ep_fields);
			continue;
		}
		if (llm_config_find(c, y.name)) {
			yamlnode_error(err, yamlnode_map_get(item, "name"),
				       "duplicate endpoint name '%s'", y.name);
			ret = -EINVAL;
			config_release(&y, ep_fields);
			continue;
		}
		src[c->nr] = item;
		to_endpoint(&c->eps[c->nr++], &y);
		config_release(&y, ep_fields);
	}
	for (size_t i = 0; i < c->nr; i++) {
		const char *fb = c->eps[i].fallback;

		if (fb && (!llm_config_find(c, fb) ||
			   !strcmp(fb, c->eps[i].name))) {
			yamlnode_error(err,
				       yamlnode_map_get(src[i], "fallback"),
				       "endpoint '%s': unknown fallback '%s'",
				       c->eps[i].name, fb);
			ret = -EINVAL;
		}
	}
	free(src);
	return ret;
}
