/*
 * llm_engine.c - many LLM calls on one curl multi handle.
 *
 * A call waits in the queue until it is due (retry time) and its
 * endpoint admits it: concurrency cap, circuit breaker, rate-limit hold
 * from headers, token buckets.  Each attempt reuses the call's easy
 * handle (connections persist).  Finished calls are collected first and
 * their callbacks run afterwards, so a callback may submit new calls.
 */
#define _GNU_SOURCE
#include "kreview/common.h"
#include "kreview/llm_sse.h"
#include "kreview/log.h"
#include "llm_priv.h"

#include <curl/curl.h>
#include <math.h>
#include <strings.h>
#include <time.h>

#define DEF_CONCURRENCY 4
#define DEF_CONNECT_TIMEOUT_MS 10000
#define DEF_TIMEOUT_MS 600000
#define DEF_MAX_RETRY_DELAY_MS 60000
#define DEF_MAX_ATTEMPTS 6
#define DEF_MAX_RESPONSE (8u << 20)
#define DEF_BREAKER_THRESHOLD 5
#define DEF_BREAKER_COOLDOWN_MS 30000
#define DEF_IDLE_TIMEOUT_MS 120000
#define DEF_HEALTH_TIMEOUT_MS 300000
#define HEALTH_RETRY_MS 500
/* prompt_truncated: estimate floor and "far below" ratio (half) */
#define TRUNC_MIN_EST 256
#define POLL_CAP_MS 1000

struct bucket {
	bool on;
	double level, cap, per_ms;
	int64_t last_ms;
};

enum breaker { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct ep_state {
	struct llm_endpoint cfg;
	struct strbuf key;
	unsigned inflight;
	struct bucket req, itok, otok;
	int64_t hold_until_ms;	/* rate-limit headers said remaining 0 */
	enum breaker breaker;
	unsigned failures;	/* consecutive overload/server failures */
	int64_t open_until_ms;
	enum llm_class disabled; /* terminal quota class, or OK */
	int64_t disabled_until_ms; /* announced reset; 0: none */

	/* readiness probe (llama.cpp /health), see health_probe */
	enum { HEALTH_NONE, HEALTH_WAIT, HEALTH_RUNNING, HEALTH_READY,
	       HEALTH_FAILED } health;
	CURL *probe;
	struct curl_slist *probe_hdrs;
	char *probe_url;
	struct strbuf probe_body;
	int64_t probe_due_ms, probe_deadline_ms;
	long probe_status;	/* last answer, 0 if none */
	unsigned probes;
	char probe_err[CURL_ERROR_SIZE];
};

struct call {
	struct call *next;
	struct llm_engine *e;
	const struct llm_request *req;
	llm_done_fn done;
	void *data;
	struct ep_state *ep;
	bool fell_back;
	bool running;
	bool over_cap;
	/* body handling of this attempt, chosen at its first byte */
	enum { BODY_UNKNOWN, BODY_BUFFER, BODY_SSE } body_mode;
	size_t received;
	struct llm_stream *stream;
	int stream_ret;		/* what stopped the stream early, or 0 */
	struct strbuf stream_err;
	unsigned attempt;	/* attempts on the current endpoint */
	int64_t due_ms;
	int64_t start_ms, attempt_ms;
	size_t est_in;		/* estimated input tokens */
	struct llm_http http;
	struct curl_slist *hdrs;
	CURL *easy;
	struct strbuf body;
	char errbuf[CURL_ERROR_SIZE];
	struct llm_result res;
};

struct llm_engine {
	CURLM *multi;
	struct llm_engine_opts opts;
	uint64_t rng;
	struct ep_state **eps;
	size_t nr_eps, alloc_eps;
	struct call *head, *tail;	/* queued and running, FIFO */
	struct call *done_head, *done_tail;
	size_t pending;
	struct llm_usage usage;
	double cost;
};

/* ---- small helpers ---- */

static uint64_t rng_next(struct llm_engine *e)
{
	/* xorshift64*: only for jitter */
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return e->rng * 2685821657736338717ULL;
}

static int64_t scaled(const struct llm_engine *e, int64_t ms)
{
	double s = e->opts.delay_scale > 0 ? e->opts.delay_scale : 1.0;

	return (int64_t)((double)ms * s);
}

static void bucket_setup(struct bucket *b, unsigned per_min, int64_t now)
{
	b->on = per_min > 0;
	b->cap = per_min;
	b->level = per_min;
	b->per_ms = per_min / 60000.0;
	b->last_ms = now;
}

static void bucket_refill(struct bucket *b, int64_t now)
{
	if (!b->on)
		return;
	if (now > b->last_ms)
		b->level = fmin(b->cap, b->level +
						(double)(now - b->last_ms) * b->per_ms);
	b->last_ms = now;
}

/* ms until 'b' holds 'want' tokens (want is clamped to the cap). */
static int64_t bucket_wait(struct bucket *b, double want, int64_t now)
{
	if (!b->on)
		return 0;
	bucket_refill(b, now);
	want = fmin(want, b->cap);
	if (b->level >= want)
		return 0;
	if (b->per_ms <= 0)
		return POLL_CAP_MS;
	return (int64_t)ceil((want - b->level) / b->per_ms);
}

/* Replace every occurrence of the key in 'sb' (belt and braces). */
static void scrub_key(struct strbuf *sb, const struct strbuf *key)
{
	char *p;

	if (key->len < 4)
		return;
	while ((p = memmem(sb->buf, sb->len, key->buf, key->len))) {
		size_t pos = (size_t)(p - sb->buf);

		strbuf_remove(sb, pos, key->len);
		strbuf_insert(sb, pos, "[redacted]", 10);
	}
}

static struct ep_state *find_ep(struct llm_engine *e, const char *name)
{
	for (size_t i = 0; i < e->nr_eps; i++)
		if (!strcmp(e->eps[i]->cfg.name, name))
			return e->eps[i];
	return NULL;
}

/* ---- engine lifecycle ---- */

int llm_engine_new(struct llm_engine **out, const struct llm_engine_opts *opts,
		   struct strbuf *err)
{
	struct llm_engine *e = xcalloc(1, sizeof(*e));
	struct llm_engine_opts def = LLM_ENGINE_OPTS_INIT;

	e->opts = opts ? *opts : def;
	if (!e->opts.backoff_base_ms)
		e->opts.backoff_base_ms = 1000;
	if (!e->opts.backoff_max_ms)
		e->opts.backoff_max_ms = 60000;
	e->rng = e->opts.seed ? e->opts.seed :
				(uint64_t)time_mono_ms() * 0x9e3779b97f4a7c15ULL;
	if (!e->rng)
		e->rng = 1;
	e->multi = curl_multi_init();
	if (!e->multi) {
		strbuf_addstr(err, "cannot create curl multi handle");
		free(e);
		return -ENOMEM;
	}
	curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 256L);
	*out = e;
	return 0;
}

static void call_free(struct call *c)
{
	if (!c)
		return;
	if (c->easy) {
		if (c->running)
			curl_multi_remove_handle(c->e->multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	curl_slist_free_all(c->hdrs);
	llm_http_release(&c->http);
	strbuf_release(&c->body);
	llm_stream_free(c->stream);
	strbuf_release(&c->stream_err);
	llm_result_release(&c->res);
	free(c);
}

void llm_engine_free(struct llm_engine *e)
{
	struct call *c, *next;

	if (!e)
		return;
	for (c = e->head; c; c = next) {
		next = c->next;
		call_free(c);
	}
	for (c = e->done_head; c; c = next) {
		next = c->next;
		call_free(c);
	}
	for (size_t i = 0; i < e->nr_eps; i++) {
		struct ep_state *s = e->eps[i];

		if (s->probe) {
			if (s->health == HEALTH_RUNNING)
				curl_multi_remove_handle(e->multi, s->probe);
			curl_easy_cleanup(s->probe);
		}
		curl_slist_free_all(s->probe_hdrs);
		free(s->probe_url);
		strbuf_release(&s->probe_body);
		llm_endpoint_release(&s->cfg);
		if (s->key.alloc)
			memset(s->key.buf, 0, s->key.alloc);
		strbuf_release(&s->key);
		free(s);
	}
	free(e->eps);
	if (e->multi)
		curl_multi_cleanup(e->multi);
	free(e);
}

int llm_engine_add_endpoint(struct llm_engine *e, const struct llm_endpoint *ep,
			    struct strbuf *err)
{
	struct ep_state *s;
	int64_t now = time_mono_ms();
	int ret;

	if (!ep->name || !*ep->name || strlen(ep->name) >= 64) {
		strbuf_addstr(err, "endpoint without a valid name");
		return -EINVAL;
	}
	if (find_ep(e, ep->name)) {
		strbuf_addf(err, "duplicate endpoint '%s'", ep->name);
		return -EEXIST;
	}
	if ((unsigned)ep->dialect >= LLM_DIALECT_MAX || !ep->url ||
	    !ep->model) {
		strbuf_addf(err, "endpoint '%s' needs a dialect, url and model",
			    ep->name);
		return -EINVAL;
	}
	s = xcalloc(1, sizeof(*s));
	strbuf_init(&s->key, 0);
	ret = llm_endpoint_load_key(&s->key, ep, err);
	if (ret < 0) {
		strbuf_release(&s->key);
		free(s);
		return ret;
	}
	llm_endpoint_copy(&s->cfg, ep);
	if (!s->cfg.concurrency)
		s->cfg.concurrency = DEF_CONCURRENCY;
	if (!s->cfg.connect_timeout_ms)
		s->cfg.connect_timeout_ms = DEF_CONNECT_TIMEOUT_MS;
	if (!s->cfg.timeout_ms)
		s->cfg.timeout_ms = DEF_TIMEOUT_MS;
	if (!s->cfg.max_retry_delay_ms)
		s->cfg.max_retry_delay_ms = DEF_MAX_RETRY_DELAY_MS;
	if (!s->cfg.max_attempts)
		s->cfg.max_attempts = DEF_MAX_ATTEMPTS;
	if (!s->cfg.max_response_bytes)
		s->cfg.max_response_bytes = DEF_MAX_RESPONSE;
	if (!s->cfg.breaker_threshold)
		s->cfg.breaker_threshold = DEF_BREAKER_THRESHOLD;
	if (!s->cfg.breaker_cooldown_ms)
		s->cfg.breaker_cooldown_ms = DEF_BREAKER_COOLDOWN_MS;
	if (!s->cfg.idle_timeout_ms)
		s->cfg.idle_timeout_ms = DEF_IDLE_TIMEOUT_MS;
	if (!s->cfg.health_timeout_ms)
		s->cfg.health_timeout_ms = DEF_HEALTH_TIMEOUT_MS;
	strbuf_init(&s->probe_body, 0);
	s->probe_body.max = 4096;
	if (s->cfg.health_probe)
		s->health = HEALTH_WAIT;
	bucket_setup(&s->req, ep->rpm, now);
	bucket_setup(&s->itok, ep->itpm, now);
	bucket_setup(&s->otok, ep->otpm, now);
	ALLOC_GROW(e->eps, e->nr_eps + 1, e->alloc_eps);
	e->eps[e->nr_eps++] = s;
	return 0;
}

const struct llm_endpoint *llm_engine_endpoint(struct llm_engine *e,
					       const char *name)
{
	struct ep_state *s = find_ep(e, name);

	return s ? &s->cfg : NULL;
}

int llm_engine_probe(struct llm_engine *e, const char *name)
{
	struct ep_state *s = find_ep(e, name);

	if (!s)
		return -ENOENT;
	if (s->health != HEALTH_RUNNING) {
		s->health = HEALTH_WAIT;
		s->probes = 0;
		s->probe_due_ms = 0;
	}
	return 0;
}

size_t llm_engine_pending(const struct llm_engine *e)
{
	return e->pending;
}

void llm_engine_usage(struct llm_usage *out, double *cost_out,
		      const struct llm_engine *e)
{
	*out = e->usage;
	if (cost_out)
		*cost_out = e->cost;
}

void llm_engine_usage_reset(struct llm_engine *e)
{
	memset(&e->usage, 0, sizeof(e->usage));
	e->cost = 0;
}

/* ---- per-call transfer setup ---- */

/*
 * A 2xx answer labelled text/event-stream is framed as it arrives;
 * anything else (error bodies, servers that ignore "stream") is
 * buffered and decoded whole.
 */
static void choose_body_mode(struct call *c)
{
	long status = 0;
	char *ct = NULL;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &ct);
	c->body_mode = BODY_BUFFER;
	if (status >= 200 && status < 300 && ct &&
	    llm_contains(ct, "text/event-stream")) {
		c->body_mode = BODY_SSE;
		llm_stream_free(c->stream);
		llm_stream_new(&c->stream, c->ep->cfg.dialect,
			       c->ep->cfg.max_response_bytes);
	}
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct call *c = data;
	size_t n = size * nmemb;
	int ret;

	if (c->body_mode == BODY_UNKNOWN)
		choose_body_mode(c);
	if (c->body_mode == BODY_BUFFER) {
		if (strbuf_add_checked(&c->body, ptr, n) < 0) {
			c->over_cap = true;
			return 0; /* CURLE_WRITE_ERROR */
		}
		return n;
	}
	if (n > c->ep->cfg.max_response_bytes - c->received) {
		c->over_cap = true;
		return 0;
	}
	c->received += n;
	ret = llm_stream_feed(c->stream, ptr, n, &c->stream_err);
	if (ret == -E2BIG) {
		c->over_cap = true;
		return 0;
	}
	if (ret < 0) {
		c->stream_ret = ret;
		return 0;
	}
	return n;
}

static bool is_auth_line(const char *p, size_t n)
{
	static const char *const names[] = { "authorization:", "x-api-key:",
					     "x-goog-api-key:",
					     "proxy-authorization:" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t l = strlen(names[i]);

		if (n >= l && !strncasecmp(p, names[i], l))
			return true;
	}
	return false;
}

/* Verbose curl output for --debug, with credentials cut out. */
static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size,
		    void *userp)
{
	size_t i = 0;

	(void)h;
	(void)userp;
	if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN &&
	    type != CURLINFO_HEADER_OUT)
		return 0;
	while (i < size) {
		const char *line = data + i;
		const char *nl = memchr(line, '\n', size - i);
		size_t len = nl ? (size_t)(nl - line) : size - i;

		i += len + (nl ? 1 : 0);
		if (len && line[len - 1] == '\r')
			len--;
		if (!len)
			continue;
		if (len > 400)
			len = 400;
		if (is_auth_line(line, len)) {
			const char *colon = memchr(line, ':', len);

			log_debug("curl: %.*s: [redacted]", (int)(colon - line),
				  line);
		} else {
			log_debug("curl: %c %.*s",
				  type == CURLINFO_HEADER_OUT ? '>' :
				  type == CURLINFO_HEADER_IN  ? '<' :
								'*',
				  (int)len, line);
		}
	}
	return 0;
}

static bool is_loopback_url(const char *url)
{
	static const char *const ok[] = { "http://127.", "http://localhost:",
					  "http://localhost/", "http://[::1]" };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strncasecmp(url, ok[i], strlen(ok[i])))
			return true;
	return false;
}

/* (Re-)encode the request for c->ep and configure the easy handle. */
static int call_prepare(struct call *c, struct strbuf *err)
{
	struct ep_state *s = c->ep;
	struct curl_slist *l = NULL;
	int ret;

	ret = llm_encode(&c->http, &s->cfg, s->key.buf, c->req, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < c->http.nr_headers; i++) {
		struct curl_slist *n = curl_slist_append(l, c->http.headers[i]);

		if (!n)
			die("out of memory building headers");
		l = n;
	}
	/* no "Expect: 100-continue" round trip for large prompts */
	l = curl_slist_append(l, "Expect:");
	if (!l)
		die("out of memory building headers");
	curl_slist_free_all(c->hdrs);
	c->hdrs = l;
	c->est_in = c->http.body.len / 4;

	if (!c->easy) {
		c->easy = curl_easy_init();
		if (!c->easy)
			die("cannot create curl easy handle");
	} else {
		curl_easy_reset(c->easy);
	}
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_URL, c->http.url);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR,
			 is_loopback_url(c->http.url) ? "http,https" : "https");
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->http.body.buf);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)c->http.body.len);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)s->cfg.connect_timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)s->cfg.timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPIDLE, 60L);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPINTVL, 30L);
	curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "kreview/" KREVIEW_VERSION);
	curl_easy_setopt(c->easy, CURLOPT_SSLVERSION,
			 (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c->easy, CURLOPT_PIPEWAIT, 1L);
	if (llm_endpoint_streams(&s->cfg)) {
		/* a stall detector only makes sense when bytes keep coming */
		long secs = (long)((s->cfg.idle_timeout_ms + 999) / 1000);

		curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_TIME,
				 secs > 0 ? secs : 1L);
	}
	if (log_get_level() >= LOG_LVL_DEBUG) {
		curl_easy_setopt(c->easy, CURLOPT_DEBUGFUNCTION, debug_cb);
		curl_easy_setopt(c->easy, CURLOPT_VERBOSE, 1L);
	}
	return 0;
}

int llm_engine_submit(struct llm_engine *e, const char *endpoint,
		      const struct llm_request *req, llm_done_fn done,
		      void *data, struct strbuf *err)
{
	struct ep_state *s = find_ep(e, endpoint);
	struct call *c;
	int ret;

	if (!s) {
		strbuf_addf(err, "unknown endpoint '%s'", endpoint);
		return -ENOENT;
	}
	c = xcalloc(1, sizeof(*c));
	c->e = e;
	c->req = req;
	c->done = done;
	c->data = data;
	c->ep = s;
	strbuf_init(&c->body, 0);
	strbuf_init(&c->stream_err, 0);
	strbuf_init(&c->res.error, 0);
	llm_http_init(&c->http);
	c->res.info.delay_ms = -1;
	c->res.resp.message.role = LLM_ROLE_ASSISTANT;
	ret = call_prepare(c, err);
	if (ret < 0) {
		scrub_key(err, &s->key);
		call_free(c);
		return ret;
	}
	c->start_ms = time_mono_ms();
	c->due_ms = c->start_ms;
	if (e->tail)
		e->tail->next = c;
	else
		e->head = c;
	e->tail = c;
	e->pending++;
	return 0;
}

/* ---- finishing ---- */

static void unlink_call(struct llm_engine *e, struct call *c)
{
	struct call **pp = &e->head, *prev = NULL;

	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		BUG("call not in queue");
	*pp = c->next;
	if (e->tail == c)
		e->tail = prev;
	c->next = NULL;
}

static void call_finish(struct llm_engine *e, struct call *c, int ret,
			enum llm_class cls)
{
	unlink_call(e, c);
	c->res.ret = ret;
	c->res.cls = cls;
	c->res.endpoint = c->ep->cfg.name;
	c->res.elapsed_ms = time_mono_ms() - c->start_ms;
	scrub_key(&c->res.error, &c->ep->key);
	if (e->done_tail)
		e->done_tail->next = c;
	else
		e->done_head = c;
	e->done_tail = c;
}

static int errno_of_class(enum llm_class cls)
{
	switch (cls) {
	case LLM_CLASS_OK:
		return 0;
	case LLM_CLASS_RATE_LIMIT:
	case LLM_CLASS_OVERLOAD:
	case LLM_CLASS_SERVER:
		return -EAGAIN;
	case LLM_CLASS_SPEND_LIMIT:
	case LLM_CLASS_QUOTA:
	case LLM_CLASS_DAILY_QUOTA:
	case LLM_CLASS_AUTH:
		return -EPERM;
	case LLM_CLASS_CONTEXT:
	case LLM_CLASS_LOCAL:
		return -E2BIG;
	case LLM_CLASS_BAD_OUTPUT:
		return -EPROTO;
	case LLM_CLASS_TIMEOUT:
		return -ETIMEDOUT;
	case LLM_CLASS_CIRCUIT_OPEN:
		return -ECONNREFUSED;
	case LLM_CLASS_RETRY_LATER:
		return -EBUSY;
	case LLM_CLASS_REQUEST:
	case LLM_CLASS_MAX:
		break;
	}
	return -EINVAL;
}

static const char *hdr_lookup(void *data, const char *name)
{
	struct curl_header *h;
	CURL *easy = data;

	if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) !=
	    CURLHE_OK)
		return NULL;
	return h->value;
}

/* "2024-06-01T12:00:03Z" or with an offset / fraction; -1 if bad. */
static int64_t parse_rfc3339_ms(const char *s)
{
	int v[6] = { 0 };
	static const int len[6] = { 4, 2, 2, 2, 2, 2 };
	static const char sep[6] = { '-', '-', 'T', ':', ':', 0 };
	struct tm tm;
	int64_t ms = 0, off = 0;
	time_t t;

	for (int i = 0; i < 6; i++) {
		for (int j = 0; j < len[i]; j++, s++) {
			if (*s < '0' || *s > '9')
				return -1;
			v[i] = v[i] * 10 + (*s - '0');
		}
		if (sep[i] && *s != sep[i] && !(i == 2 && *s == ' '))
			return -1;
		if (sep[i])
			s++;
	}
	if (*s == '.') {
		int scale = 100;

		for (s++; *s >= '0' && *s <= '9'; s++) {
			ms += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1;

		if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
		      s[2] <= '9' && s[3] == ':' && s[4] >= '0' &&
		      s[4] <= '9' && s[5] >= '0' && s[5] <= '9'))
			return -1;
		off = sign * (((s[1] - '0') * 10 + s[2] - '0') * 3600 +
			      ((s[4] - '0') * 10 + s[5] - '0') * 60);
	} else if (*s != 'Z' && *s != 'z') {
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return ((int64_t)t - off) * 1000 + ms;
}

/* A reset header value as "ms from now": Go duration or RFC 3339. */
static int64_t reset_in_ms(const char *v)
{
	int64_t ms = llm_parse_duration_ms(v), at;

	if (ms >= 0)
		return ms;
	at = parse_rfc3339_ms(v);
	if (at < 0)
		return -1;
	ms = at - time_now_ms();
	return ms > 0 ? ms : 0;
}

static bool read_count(const char *v, int64_t *out)
{
	return v && parse_int64(out, v, 10) == 0;
}

/*
 * Feed rate-limit headers into the endpoint.  Returns the longest
 * reset among exhausted limits (ms from now), or -1.
 */
static int64_t apply_rate_headers(struct ep_state *s, CURL *easy,
				  int64_t now)
{
	static const struct {
		const char *remaining, *limit, *reset;
		int bucket; /* 0 req, 1 input tokens, 2 output tokens */
	} hs[] = {
		{ "x-ratelimit-remaining-requests", "x-ratelimit-limit-requests",
		  "x-ratelimit-reset-requests", 0 },
		{ "x-ratelimit-remaining-tokens", "x-ratelimit-limit-tokens",
		  "x-ratelimit-reset-tokens", 1 },
		{ "anthropic-ratelimit-requests-remaining",
		  "anthropic-ratelimit-requests-limit",
		  "anthropic-ratelimit-requests-reset", 0 },
		{ "anthropic-ratelimit-tokens-remaining",
		  "anthropic-ratelimit-tokens-limit",
		  "anthropic-ratelimit-tokens-reset", 1 },
		{ "anthropic-ratelimit-input-tokens-remaining",
		  "anthropic-ratelimit-input-tokens-limit",
		  "anthropic-ratelimit-input-tokens-reset", 1 },
		{ "anthropic-ratelimit-output-tokens-remaining",
		  "anthropic-ratelimit-output-tokens-limit",
		  "anthropic-ratelimit-output-tokens-reset", 2 },
	};
	int64_t longest = -1;

	for (size_t i = 0; i < ARRAY_SIZE(hs); i++) {
		struct bucket *b = hs[i].bucket == 0 ? &s->req :
				   hs[i].bucket == 1 ? &s->itok :
						       &s->otok;
		int64_t rem, lim, reset;

		if (!read_count(hdr_lookup(easy, hs[i].remaining), &rem))
			continue;
		/* Azure reports -1/0 limits meaning "unknown" (§3) */
		if (read_count(hdr_lookup(easy, hs[i].limit), &lim) &&
		    lim <= 0)
			continue;
		reset = reset_in_ms(hdr_lookup(easy, hs[i].reset));
		if (rem <= 0 && reset >= 0) {
			if (reset > longest)
				longest = reset;
		}
		if (b->on) {
			bucket_refill(b, now);
			if ((double)rem < b->level)
				b->level = (double)rem;
		}
	}
	return longest;
}

static void record_attempt(struct call *c, long status, int code,
			   enum llm_class cls, const char *request_id)
{
	struct llm_result *r = &c->res;
	struct llm_attempt *a;

	ALLOC_GROW(r->attempts, r->nr_attempts + 1, r->alloc_attempts);
	a = &r->attempts[r->nr_attempts++];
	memset(a, 0, sizeof(*a));
	snprintf(a->endpoint, sizeof(a->endpoint), "%s", c->ep->cfg.name);
	a->status = status;
	a->curl_code = code;
	a->cls = cls;
	a->delay_ms = -1;
	a->elapsed_ms = time_mono_ms() - c->attempt_ms;
	if (request_id)
		snprintf(a->request_id, sizeof(a->request_id), "%s",
			 request_id);
}

static enum llm_class class_of_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return LLM_CLASS_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP2:
	case CURLE_COULDNT_RESOLVE_HOST:
		return LLM_CLASS_SERVER;
	default:
		return LLM_CLASS_LOCAL;
	}
}

static void breaker_failure(struct llm_engine *e, struct ep_state *s,
			    int64_t now)
{
	s->failures++;
	if (s->breaker == BREAKER_HALF_OPEN ||
	    s->failures >= s->cfg.breaker_threshold) {
		s->breaker = BREAKER_OPEN;
		s->open_until_ms = now + scaled(e, s->cfg.breaker_cooldown_ms);
	}
}

static void breaker_success(struct ep_state *s)
{
	s->failures = 0;
	s->breaker = BREAKER_CLOSED;
}

/* Switch 'c' to its endpoint's fallback; false if there is none. */
static bool try_fallback(struct llm_engine *e, struct call *c)
{
	struct ep_state *fb;
	struct strbuf err = STRBUF_INIT;

	if (c->fell_back || !c->ep->cfg.fallback)
		return false;
	fb = find_ep(e, c->ep->cfg.fallback);
	if (!fb || fb == c->ep)
		return false;
	c->ep = fb;
	c->fell_back = true;
	c->attempt = 0;
	if (call_prepare(c, &err) < 0) {
		strbuf_reset(&c->res.error);
		strbuf_addf(&c->res.error, "fallback '%s': %s", fb->cfg.name,
			    err.buf);
		strbuf_release(&err);
		return false;
	}
	strbuf_release(&err);
	c->due_ms = time_mono_ms();
	return true;
}

static int64_t backoff_ms(struct llm_engine *e, unsigned attempt)
{
	int64_t cap = e->opts.backoff_base_ms;

	for (unsigned i = 1; i < attempt && cap < e->opts.backoff_max_ms; i++)
		cap *= 2;
	if (cap > e->opts.backoff_max_ms)
		cap = e->opts.backoff_max_ms;
	/* full jitter: uniform in [0, cap] */
	return (int64_t)(rng_next(e) % (uint64_t)(cap + 1));
}

static void call_success(struct llm_engine *e, struct call *c, long status,
			 int64_t now)
{
	struct ep_state *s = c->ep;
	struct llm_response *r = &c->res.resp;
	uint64_t prompt = r->usage.in_uncached + r->usage.cache_write +
			  r->usage.cache_read;

	r->prompt_estimate = c->est_in;
	r->prompt_truncated = c->est_in >= TRUNC_MIN_EST && prompt &&
			      prompt * 2 < c->est_in;
	record_attempt(c, status, 0, LLM_CLASS_OK, r->request_id);
	breaker_success(s);
	c->res.cost = llm_cost(&r->usage, &s->cfg.price);
	llm_usage_add(&e->usage, &r->usage);
	e->cost += c->res.cost;
	if (s->otok.on) {
		bucket_refill(&s->otok, now);
		s->otok.level -= (double)r->usage.out;
	}
	call_finish(e, c, 0, LLM_CLASS_OK);
}

/*
 * The end of a streamed attempt.  Returns true if the call finished
 * successfully; otherwise sets the failure class and message.  A stream
 * that stopped early is a retryable transport failure: its partial
 * answer is dropped, never parsed.
 */
static bool stream_done(struct llm_engine *e, struct call *c, CURLcode rc,
			long status, int64_t now, struct llm_error_info *info,
			enum llm_class *cls)
{
	struct ep_state *s = c->ep;
	struct strbuf derr = STRBUF_INIT;
	int ret = c->stream_ret;

	strbuf_reset(&c->res.error);
	if (ret == -EREMOTEIO) {
		const struct llm_error_info *se = llm_stream_error(c->stream);

		*cls = se ? se->cls : LLM_CLASS_SERVER;
		if (se) {
			info->delay_ms = se->delay_ms;
			info->context_tokens = se->context_tokens;
			info->context_max = se->context_max;
			llm_error_set_message(info, se->message);
		}
		info->cls = *cls;
		strbuf_addf(&c->res.error, "endpoint '%s': %s %s",
			    s->cfg.name, llm_class_name(*cls),
			    c->stream_err.buf);
		return false;
	}
	if (ret < 0) {
		*cls = LLM_CLASS_BAD_OUTPUT;
		strbuf_addf(&c->res.error,
			    "endpoint '%s': malformed stream: %s", s->cfg.name,
			    c->stream_err.buf);
		return false;
	}
	(void)rc;
	ret = llm_stream_finish(&c->res.resp, c->stream, &derr);
	if (ret == 0) {
		const char *id = s->cfg.dialect == LLM_DIALECT_GEMINI ? NULL :
			hdr_lookup(c->easy, s->cfg.dialect ==
						    LLM_DIALECT_ANTHROPIC ?
					    "request-id" : "x-request-id");

		if (id && *id) {
			free(c->res.resp.request_id);
			c->res.resp.request_id = xstrdup(id);
		}
		strbuf_release(&derr);
		call_success(e, c, status, now);
		return true;
	}
	*cls = ret == -EPIPE ? LLM_CLASS_SERVER : LLM_CLASS_BAD_OUTPUT;
	strbuf_addf(&c->res.error, "endpoint '%s': %s", s->cfg.name,
		    ret == -EPIPE ? "stream cut: " : "malformed stream: ");
	strbuf_addbuf(&c->res.error, &derr);
	strbuf_release(&derr);
	return false;
}

/*
 * The server's wait hint, by the precedence of reference §8:
 * retry-after-ms, retry-after (seconds or HTTP date), a delay in the
 * body, then 'reset' (rate-limit headers).  -1 if none.
 */
static int64_t server_delay(struct call *c, long status,
			    const struct llm_error_info *info, int64_t reset)
{
	const char *h;
	int64_t ra;
	curl_off_t cra = 0;

	h = status ? hdr_lookup(c->easy, "retry-after-ms") : NULL;
	if (h && parse_int64(&ra, h, 10) == 0 && ra >= 0)
		return ra;
	if (status && hdr_lookup(c->easy, "retry-after") &&
	    curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &cra) ==
		    CURLE_OK)
		return cra > 0 ? (int64_t)cra * 1000 : 0;
	if (info->delay_ms >= 0)
		return info->delay_ms;
	return reset;
}

static void attempt_done(struct llm_engine *e, struct call *c, CURLcode rc)
{
	struct ep_state *s = c->ep;
	struct llm_error_info info;
	int64_t now = time_mono_ms(), delay = -1, reset;
	long status = 0;
	const char *h, *rid = NULL;
	enum llm_class cls;
	bool retry;

	memset(&info, 0, sizeof(info));
	info.delay_ms = -1;
	curl_multi_remove_handle(e->multi, c->easy);
	c->running = false;
	s->inflight--;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);

	if (rc == CURLE_OK || status)
		reset = apply_rate_headers(s, c->easy, now);
	else
		reset = -1;
	if (reset > 0)
		s->hold_until_ms = now + scaled(e, reset);

	if (c->body_mode == BODY_SSE && !c->over_cap &&
	    (rc == CURLE_OK || c->stream_ret < 0)) {
		if (stream_done(e, c, rc, status, now, &info, &cls))
			return;
	} else if (rc != CURLE_OK) {
		cls = c->over_cap ? LLM_CLASS_LOCAL : class_of_curl(rc);
		strbuf_reset(&c->res.error);
		if (c->over_cap)
			strbuf_addf(&c->res.error,
				    "endpoint '%s': response larger than %zu "
				    "bytes", s->cfg.name,
				    s->cfg.max_response_bytes);
		else
			strbuf_addf(&c->res.error, "endpoint '%s': %s",
				    s->cfg.name,
				    c->errbuf[0] ? c->errbuf :
						   curl_easy_strerror(rc));
		status = c->over_cap ? status : 0;
	} else if (status >= 200 && status < 300) {
		struct strbuf derr = STRBUF_INIT;
		int ret;

		ret = llm_decode(&c->res.resp, s->cfg.dialect, c->body.buf,
				 c->body.len, hdr_lookup, c->easy, &derr);
		if (ret == 0) {
			strbuf_release(&derr);
			call_success(e, c, status, now);
			return;
		}
		cls = LLM_CLASS_BAD_OUTPUT;
		strbuf_reset(&c->res.error);
		strbuf_addf(&c->res.error,
			    "endpoint '%s': malformed response: %s",
			    s->cfg.name, derr.buf);
		strbuf_release(&derr);
	} else {
		llm_classify(&info, s->cfg.dialect, status, c->body.buf,
			     c->body.len, hdr_lookup, c->easy);
		cls = info.cls;
		strbuf_reset(&c->res.error);
		strbuf_addf(&c->res.error, "endpoint '%s': HTTP %ld %s%s%s",
			    s->cfg.name, status, llm_class_name(cls),
			    info.message ? ": " : "",
			    info.message ? info.message : "");
	}

	rid = hdr_lookup(c->easy,
			 s->cfg.dialect == LLM_DIALECT_ANTHROPIC ? "request-id" :
								   "x-request-id");
	record_attempt(c, status, rc, cls, rid);

	retry = llm_class_retryable(cls);
	h = status ? hdr_lookup(c->easy, "x-should-retry") : NULL;
	if (h && !strcasecmp(h, "false"))
		retry = false;
	else if (h && !strcasecmp(h, "true") &&
		 (cls == LLM_CLASS_REQUEST || cls == LLM_CLASS_SERVER))
		retry = true;

	if (cls == LLM_CLASS_OVERLOAD || cls == LLM_CLASS_SERVER ||
	    cls == LLM_CLASS_TIMEOUT)
		breaker_failure(e, s, now);
	if (cls == LLM_CLASS_SPEND_LIMIT || cls == LLM_CLASS_QUOTA ||
	    cls == LLM_CLASS_DAILY_QUOTA) {
		int64_t back = server_delay(c, status, &info, -1);

		s->disabled = cls;
		/* back at the announced reset, else for good */
		s->disabled_until_ms = back >= 0 ? now + scaled(e, back) : 0;
	}

	llm_error_info_release(&c->res.info);
	c->res.info = info;

	if (retry && c->attempt < s->cfg.max_attempts) {
		delay = server_delay(c, status, &c->res.info,
				     cls == LLM_CLASS_RATE_LIMIT ? reset : -1);
		if (delay > s->cfg.max_retry_delay_ms) {
			/* do not hold a slot that long: hand it back */
			c->res.attempts[c->res.nr_attempts - 1].delay_ms = delay;
			if (try_fallback(e, c))
				return;
			c->res.retry_after_ms = delay;
			strbuf_addf(&c->res.error, " (server asks to retry in "
						   "%lld ms, more than %lld)",
				    (long long)delay,
				    (long long)s->cfg.max_retry_delay_ms);
			call_finish(e, c, -EBUSY, LLM_CLASS_RETRY_LATER);
			return;
		}
		if (delay < 0) {
			delay = backoff_ms(e, c->attempt);
		}
		c->res.attempts[c->res.nr_attempts - 1].delay_ms = delay;
		c->due_ms = now + scaled(e, delay);
		return;
	}
	if ((retry || s->disabled != LLM_CLASS_OK ||
	     cls == LLM_CLASS_CONTEXT) && try_fallback(e, c))
		return;
	if (retry)
		strbuf_addf(&c->res.error, " (gave up after %zu attempts)",
			    c->res.nr_attempts);
	call_finish(e, c, errno_of_class(cls), cls);
}

/* ---- readiness probe ---- */

static size_t probe_write_cb(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct ep_state *s = data;

	/* only the status matters; keep a little of the body, drop the rest */
	strbuf_add_checked(&s->probe_body, ptr, size * nmemb);
	return size * nmemb;
}

static void probe_start(struct llm_engine *e, struct ep_state *s, int64_t now)
{
	if (!s->probes)
		s->probe_deadline_ms = now + s->cfg.health_timeout_ms;
	if (!s->probe) {
		struct curl_slist *l = NULL;

		s->probe = curl_easy_init();
		if (!s->probe)
			die("cannot create curl easy handle");
		s->probe_url = llm_endpoint_health_url(&s->cfg);
		/* extra headers only: the key is not sent to /health */
		for (size_t i = 0; i < s->cfg.nr_headers; i++) {
			l = curl_slist_append(l, s->cfg.headers[i]);
			if (!l)
				die("out of memory building headers");
		}
		s->probe_hdrs = l;
		curl_easy_setopt(s->probe, CURLOPT_URL, s->probe_url);
		curl_easy_setopt(s->probe, CURLOPT_PROTOCOLS_STR,
				 is_loopback_url(s->probe_url) ? "http,https" :
								  "https");
		curl_easy_setopt(s->probe, CURLOPT_HTTPHEADER, s->probe_hdrs);
		curl_easy_setopt(s->probe, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(s->probe, CURLOPT_WRITEFUNCTION,
				 probe_write_cb);
		curl_easy_setopt(s->probe, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->probe, CURLOPT_ERRORBUFFER, s->probe_err);
		curl_easy_setopt(s->probe, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->probe, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)s->cfg.connect_timeout_ms);
		curl_easy_setopt(s->probe, CURLOPT_TIMEOUT_MS, 10000L);
		curl_easy_setopt(s->probe, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(s->probe, CURLOPT_USERAGENT,
				 "kreview/" KREVIEW_VERSION);
	}
	strbuf_reset(&s->probe_body);
	s->probe_err[0] = '\0';
	s->probes++;
	if (curl_multi_add_handle(e->multi, s->probe) != CURLM_OK) {
		s->health = HEALTH_FAILED;
		return;
	}
	s->health = HEALTH_RUNNING;
}

static void probe_done(struct llm_engine *e, struct ep_state *s, CURLcode rc)
{
	int64_t now = time_mono_ms();

	curl_multi_remove_handle(e->multi, s->probe);
	s->probe_status = 0;
	curl_easy_getinfo(s->probe, CURLINFO_RESPONSE_CODE, &s->probe_status);
	if (rc == CURLE_OK && s->probe_status == 200) {
		s->health = HEALTH_READY;
		return;
	}
	/* 503 while the model loads, refused while the server starts */
	if (now >= s->probe_deadline_ms) {
		s->health = HEALTH_FAILED;
		return;
	}
	s->health = HEALTH_WAIT;
	s->probe_due_ms = now + scaled(e, HEALTH_RETRY_MS);
}

/* ---- scheduling ---- */

/* 0 if 'c' may start now, else ms to wait; -1 means "fail it now". */
static int64_t admit(struct call *c, int64_t now)
{
	struct ep_state *s = c->ep;
	int64_t w, wait = 0;

	if (s->disabled != LLM_CLASS_OK && s->disabled_until_ms &&
	    now >= s->disabled_until_ms) {
		s->disabled = LLM_CLASS_OK;
		s->disabled_until_ms = 0;
	}
	if (s->disabled != LLM_CLASS_OK || s->health == HEALTH_FAILED)
		return -1;
	if (s->health == HEALTH_WAIT || s->health == HEALTH_RUNNING) {
		if (s->health == HEALTH_WAIT && now >= s->probe_due_ms)
			probe_start(c->e, s, now);
		if (s->health == HEALTH_WAIT)
			return s->probe_due_ms - now;
		return s->health == HEALTH_FAILED ? -1 : POLL_CAP_MS;
	}
	if (s->breaker == BREAKER_OPEN) {
		if (now < s->open_until_ms)
			return s->open_until_ms - now;
		s->breaker = BREAKER_HALF_OPEN;
	}
	if (s->breaker == BREAKER_HALF_OPEN && s->inflight)
		return POLL_CAP_MS; /* one probe at a time */
	if (s->inflight >= s->cfg.concurrency)
		return POLL_CAP_MS; /* woken by a completion anyway */
	if (now < s->hold_until_ms)
		wait = s->hold_until_ms - now;
	w = bucket_wait(&s->req, 1, now);
	if (w > wait)
		wait = w;
	w = bucket_wait(&s->itok, (double)c->est_in, now);
	if (w > wait)
		wait = w;
	w = bucket_wait(&s->otok, 1, now);
	if (w > wait)
		wait = w;
	return wait;
}

static void start(struct llm_engine *e, struct call *c, int64_t now)
{
	struct ep_state *s = c->ep;
	CURLMcode mc;

	if (s->req.on)
		s->req.level -= 1;
	if (s->itok.on)
		s->itok.level -= fmin((double)c->est_in, s->itok.cap);
	strbuf_reset(&c->body);
	c->body.max = s->cfg.max_response_bytes;
	c->over_cap = false;
	c->body_mode = BODY_UNKNOWN;
	c->received = 0;
	c->stream_ret = 0;
	strbuf_reset(&c->stream_err);
	llm_stream_free(c->stream);
	c->stream = NULL;
	c->errbuf[0] = '\0';
	c->attempt++;
	c->attempt_ms = now;
	mc = curl_multi_add_handle(e->multi, c->easy);
	if (mc != CURLM_OK) {
		strbuf_reset(&c->res.error);
		strbuf_addf(&c->res.error, "cannot start transfer: %s",
			    curl_multi_strerror(mc));
		record_attempt(c, 0, 0, LLM_CLASS_LOCAL, NULL);
		call_finish(e, c, -EIO, LLM_CLASS_LOCAL);
		return;
	}
	c->running = true;
	s->inflight++;
}

/* Start what may start; return ms until something else may. */
static int64_t start_due(struct llm_engine *e)
{
	int64_t now = time_mono_ms(), next = POLL_CAP_MS;
	struct call *c, *nx;

	for (c = e->head; c; c = nx) {
		int64_t w;

		nx = c->next;
		if (c->running)
			continue;
		if (c->due_ms > now) {
			if (c->due_ms - now < next)
				next = c->due_ms - now;
			continue;
		}
		w = admit(c, now);
		if (w > 0 && c->ep->breaker == BREAKER_OPEN &&
		    e->opts.fail_fast && !(c->ep->cfg.fallback && !c->fell_back))
			w = -1; /* do not sit out the cool-down */
		if (w < 0 || (w > 0 && c->ep->breaker == BREAKER_OPEN &&
			      c->ep->cfg.fallback && !c->fell_back)) {
			enum llm_class why =
				c->ep->disabled != LLM_CLASS_OK ?
					c->ep->disabled :
				c->ep->health == HEALTH_FAILED ?
					LLM_CLASS_TIMEOUT :
					LLM_CLASS_CIRCUIT_OPEN;
			struct ep_state *was = c->ep;

			if (try_fallback(e, c)) {
				w = admit(c, now);
				if (w < 0)
					w = POLL_CAP_MS;
			} else if (w < 0) {
				if (!c->res.error.len &&
				    why == LLM_CLASS_TIMEOUT)
					strbuf_addf(&c->res.error,
						    "endpoint '%s' not ready: "
						    "%s did not answer 200 in "
						    "%u probes (last: HTTP "
						    "%ld%s%s)",
						    was->cfg.name,
						    was->probe_url, was->probes,
						    was->probe_status,
						    was->probe_err[0] ? ", " :
									"",
						    was->probe_err);
				else if (!c->res.error.len)
					strbuf_addf(&c->res.error,
						    "endpoint '%s' disabled: %s",
						    c->ep->cfg.name,
						    llm_class_name(why));
				call_finish(e, c, errno_of_class(why), why);
				continue;
			}
		}
		if (w == 0)
			start(e, c, now);
		else if (w < next)
			next = w;
	}
	return next;
}

static void drain(struct llm_engine *e)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(e->multi, &left))) {
		struct call *c = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		for (size_t i = 0; i < e->nr_eps; i++) {
			if (e->eps[i]->probe == m->easy_handle) {
				probe_done(e, e->eps[i], m->data.result);
				goto next;
			}
		}
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &c);
		if (!c)
			BUG("transfer without call");
		attempt_done(e, c, m->data.result);
next:;
	}
}

static void run_callbacks(struct llm_engine *e)
{
	struct call *c;

	while ((c = e->done_head)) {
		e->done_head = c->next;
		if (!e->done_head)
			e->done_tail = NULL;
		e->pending--;
		if (c->done)
			c->done(&c->res, c->data);
		call_free(c);
	}
}

int llm_engine_run_once(struct llm_engine *e, int timeout_ms)
{
	int running = 0;
	int64_t next;
	CURLMcode mc;

	next = start_due(e);
	mc = curl_multi_perform(e->multi, &running);
	if (mc != CURLM_OK)
		return -EIO;
	drain(e);
	run_callbacks(e);
	if (!e->pending)
		return 0;
	next = start_due(e);
	if (timeout_ms < 0 || next < timeout_ms)
		timeout_ms = (int)(next < 0 ? 0 : next);
	mc = curl_multi_poll(e->multi, NULL, 0, timeout_ms, NULL);
	if (mc != CURLM_OK)
		return -EIO;
	mc = curl_multi_perform(e->multi, &running);
	if (mc != CURLM_OK)
		return -EIO;
	drain(e);
	run_callbacks(e);
	return (int)(e->pending > INT_MAX ? INT_MAX : e->pending);
}

int llm_engine_run(struct llm_engine *e)
{
	int ret;

	do {
		ret = llm_engine_run_once(e, POLL_CAP_MS);
	} while (ret > 0);
	return ret;
}
