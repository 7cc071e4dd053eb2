/*
 * llm_types.c - lifecycle of the provider-neutral values, names of the
 * enums, usage and cost arithmetic, and key loading.
 */
#include "kreview/common.h"
#include "kreview/llm.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const dialect_names[LLM_DIALECT_MAX] = {
	[LLM_DIALECT_OPENAI] = "openai",
	[LLM_DIALECT_ANTHROPIC] = "anthropic",
	[LLM_DIALECT_GEMINI] = "gemini",
};

const char *llm_dialect_name(enum llm_dialect d)
{
	return (unsigned)d < LLM_DIALECT_MAX ? dialect_names[d] : "?";
}

int llm_dialect_parse(enum llm_dialect *out, const char *name)
{
	int i = name_index(dialect_names, LLM_DIALECT_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum llm_dialect)i;
	return 0;
}

const char *llm_stop_name(enum llm_stop s)
{
	static const char *const names[LLM_STOP_MAX] = {
		"end", "length", "refusal", "tool", "other",
	};

	return (unsigned)s < LLM_STOP_MAX ? names[s] : "?";
}

const char *llm_class_name(enum llm_class c)
{
	static const char *const names[LLM_CLASS_MAX] = {
		[LLM_CLASS_OK] = "ok",
		[LLM_CLASS_RATE_LIMIT] = "rate-limit",
		[LLM_CLASS_OVERLOAD] = "overload",
		[LLM_CLASS_SERVER] = "server-error",
		[LLM_CLASS_SPEND_LIMIT] = "spend-limit",
		[LLM_CLASS_QUOTA] = "insufficient-quota",
		[LLM_CLASS_DAILY_QUOTA] = "daily-quota",
		[LLM_CLASS_AUTH] = "auth",
		[LLM_CLASS_CONTEXT] = "context-overflow",
		[LLM_CLASS_REQUEST] = "invalid-request",
		[LLM_CLASS_LOCAL] = "local-limit",
		[LLM_CLASS_BAD_OUTPUT] = "bad-output",
		[LLM_CLASS_TIMEOUT] = "timeout",
		[LLM_CLASS_CIRCUIT_OPEN] = "circuit-open",
		[LLM_CLASS_RETRY_LATER] = "retry-later",
	};

	return (unsigned)c < LLM_CLASS_MAX ? names[c] : "?";
}

bool llm_class_retryable(enum llm_class c)
{
	return c == LLM_CLASS_RATE_LIMIT || c == LLM_CLASS_OVERLOAD ||
	       c == LLM_CLASS_SERVER || c == LLM_CLASS_TIMEOUT;
}

/* ---- turns and requests ---- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void part_release(struct llm_part *p)
{
	free(p->text);
	free(p->id);
	free(p->name);
	free(p->args);
	free(p->signature);
	memset(p, 0, sizeof(*p));
}

void llm_turn_release(struct llm_turn *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nr; i++)
		part_release(&t->parts[i]);
	free(t->parts);
	t->parts = NULL;
	t->nr = t->alloc = 0;
	t->cache_mark = false;
}

static struct llm_part *turn_add(struct llm_turn *t, enum llm_part_type type)
{
	struct llm_part *p;

	ALLOC_GROW(t->parts, t->nr + 1, t->alloc);
	p = &t->parts[t->nr++];
	memset(p, 0, sizeof(*p));
	p->type = type;
	return p;
}

struct llm_part *llm_turn_add_text(struct llm_turn *t, const char *text)
{
	struct llm_part *p = turn_add(t, LLM_PART_TEXT);

	p->text = xstrdup(text);
	return p;
}

struct llm_part *llm_turn_add_tool_call(struct llm_turn *t, const char *id,
					const char *name, const char *args)
{
	struct llm_part *p = turn_add(t, LLM_PART_TOOL_CALL);

	p->id = dup_or_null(id);
	p->name = xstrdup(name);
	p->args = xstrdup(args ? args : "{}");
	return p;
}

struct llm_part *llm_turn_add_tool_result(struct llm_turn *t, const char *id,
					  const char *name, const char *text,
					  bool is_error)
{
	struct llm_part *p = turn_add(t, LLM_PART_TOOL_RESULT);

	p->id = dup_or_null(id);
	p->name = xstrdup(name);
	p->text = xstrdup(text);
	p->is_error = is_error;
	return p;
}

void llm_turn_copy(struct llm_turn *dst, const struct llm_turn *src)
{
	dst->role = src->role;
	dst->cache_mark = src->cache_mark;
	dst->parts = NULL;
	dst->nr = dst->alloc = 0;
	for (size_t i = 0; i < src->nr; i++) {
		const struct llm_part *s = &src->parts[i];
		struct llm_part *p = turn_add(dst, s->type);

		p->text = dup_or_null(s->text);
		p->id = dup_or_null(s->id);
		p->name = dup_or_null(s->name);
		p->args = dup_or_null(s->args);
		p->is_error = s->is_error;
		p->signature = dup_or_null(s->signature);
	}
}

void llm_turn_text(struct strbuf *out, const struct llm_turn *t)
{
	for (size_t i = 0; i < t->nr; i++)
		if (t->parts[i].type == LLM_PART_TEXT && t->parts[i].text)
			strbuf_addstr(out, t->parts[i].text);
}

void llm_request_release(struct llm_request *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_system; i++)
		free(r->system[i]);
	free(r->system);
	for (size_t i = 0; i < r->nr_turns; i++)
		llm_turn_release(&r->turns[i]);
	free(r->turns);
	for (size_t i = 0; i < r->nr_tools; i++) {
		free(r->tools[i].name);
		free(r->tools[i].description);
		free(r->tools[i].schema);
	}
	free(r->tools);
	free(r->tool_choice_name);
	free(r->schema);
	free(r->schema_name);
	free(r->mock_scenario);
	memset(r, 0, sizeof(*r));
}

void llm_request_add_system(struct llm_request *r, const char *text,
			    bool in_prefix)
{
	if (in_prefix && r->prefix_blocks != r->nr_system)
		BUG("shared prefix blocks must come first");
	ALLOC_GROW(r->system, r->nr_system + 1, r->alloc_system);
	r->system[r->nr_system++] = xstrdup(text);
	if (in_prefix)
		r->prefix_blocks = r->nr_system;
}

struct llm_turn *llm_request_add_turn(struct llm_request *r,
				      enum llm_role role)
{
	struct llm_turn *t;

	ALLOC_GROW(r->turns, r->nr_turns + 1, r->alloc_turns);
	t = &r->turns[r->nr_turns++];
	memset(t, 0, sizeof(*t));
	t->role = role;
	return t;
}

void llm_request_add_user_text(struct llm_request *r, const char *text)
{
	llm_turn_add_text(llm_request_add_turn(r, LLM_ROLE_USER), text);
}

void llm_request_add_tool(struct llm_request *r, const char *name,
			  const char *description, const char *schema)
{
	struct llm_tool *t;

	ALLOC_GROW(r->tools, r->nr_tools + 1, r->alloc_tools);
	t = &r->tools[r->nr_tools++];
	t->name = xstrdup(name);
	t->description = dup_or_null(description);
	t->schema = xstrdup(schema ? schema : "{\"type\":\"object\"}");
}

void llm_request_set_schema(struct llm_request *r, const char *name,
			    const char *schema)
{
	free(r->schema);
	free(r->schema_name);
	r->schema = dup_or_null(schema);
	r->schema_name = dup_or_null(name ? name : "answer");
}

/* ---- responses ---- */

void llm_response_release(struct llm_response *r)
{
	if (!r)
		return;
	llm_turn_release(&r->message);
	free(r->stop_raw);
	free(r->refusal);
	free(r->request_id);
	free(r->model);
	memset(r, 0, sizeof(*r));
	r->message.role = LLM_ROLE_ASSISTANT;
}

void llm_response_move(struct llm_response *dst, struct llm_response *src)
{
	*dst = *src;
	memset(src, 0, sizeof(*src));
	src->message.role = LLM_ROLE_ASSISTANT;
}

void llm_error_info_release(struct llm_error_info *e)
{
	if (!e)
		return;
	free(e->message);
	memset(e, 0, sizeof(*e));
	e->delay_ms = -1;
}

void llm_result_release(struct llm_result *r)
{
	if (!r)
		return;
	strbuf_release(&r->error);
	llm_response_release(&r->resp);
	free(r->attempts);
	r->attempts = NULL;
	r->nr_attempts = r->alloc_attempts = 0;
	llm_error_info_release(&r->info);
}

/* ---- usage and cost ---- */

void llm_usage_add(struct llm_usage *sum, const struct llm_usage *u)
{
	sum->in_uncached += u->in_uncached;
	sum->cache_write += u->cache_write;
	sum->cache_write_1h += u->cache_write_1h;
	sum->cache_read += u->cache_read;
	sum->out += u->out;
	sum->reasoning += u->reasoning;
}

double llm_cost(const struct llm_usage *u, const struct llm_price *p)
{
	/* Unset cache prices follow Anthropic's multipliers (§1.1). */
	double cw = p->cache_write ? p->cache_write : p->input * 1.25;
	double cw1h = p->cache_write_1h ? p->cache_write_1h : p->input * 2.0;
	double cr = p->cache_read ? p->cache_read : p->input * 0.1;
	uint64_t w5m = u->cache_write - (u->cache_write_1h <= u->cache_write ?
						 u->cache_write_1h :
						 u->cache_write);

	return ((double)u->in_uncached * p->input +
		(double)w5m * cw +
		(double)(u->cache_write - w5m) * cw1h +
		(double)u->cache_read * cr + (double)u->out * p->output) /
	       1e6;
}

/* ---- endpoints ---- */

void llm_endpoint_release(struct llm_endpoint *ep)
{
	if (!ep)
		return;
	free(ep->name);
	free(ep->url);
	free(ep->model);
	free(ep->key_env);
	free(ep->key_file);
	for (size_t i = 0; i < ep->nr_headers; i++)
		free(ep->headers[i]);
	free(ep->headers);
	free(ep->fallback);
	free(ep->max_tokens_field);
	free(ep->anthropic_version);
	memset(ep, 0, sizeof(*ep));
}

void llm_endpoint_copy(struct llm_endpoint *dst, const struct llm_endpoint *src)
{
	*dst = *src;
	dst->name = dup_or_null(src->name);
	dst->url = dup_or_null(src->url);
	dst->model = dup_or_null(src->model);
	dst->key_env = dup_or_null(src->key_env);
	dst->key_file = dup_or_null(src->key_file);
	dst->headers = NULL;
	if (src->nr_headers) {
		dst->headers = xcalloc(src->nr_headers, sizeof(char *));
		for (size_t i = 0; i < src->nr_headers; i++)
			dst->headers[i] = xstrdup(src->headers[i]);
	}
	dst->fallback = dup_or_null(src->fallback);
	dst->max_tokens_field = dup_or_null(src->max_tokens_field);
	dst->anthropic_version = dup_or_null(src->anthropic_version);
}

/* A key must be one printable line: anything else would corrupt headers. */
static bool key_ok(const struct strbuf *k)
{
	for (size_t i = 0; i < k->len; i++)
		if ((unsigned char)k->buf[i] < 0x21 ||
		    (unsigned char)k->buf[i] == 0x7f)
			return false;
	return true;
}

int llm_endpoint_load_key(struct strbuf *out, const struct llm_endpoint *ep,
			  struct strbuf *err)
{
	struct strbuf k = STRBUF_INIT;
	struct stat st;
	int fd = -1, ret = 0;

	if (ep->key_env && ep->key_file) {
		strbuf_addf(err, "endpoint '%s': key_env and key_file are "
				 "mutually exclusive", ep->name);
		return -EINVAL;
	}
	if (ep->key_env) {
		const char *v = getenv(ep->key_env);

		if (!v || !*v) {
			strbuf_addf(err, "endpoint '%s': environment variable "
					 "'%s' is not set", ep->name,
				    ep->key_env);
			return -ENOKEY;
		}
		strbuf_addstr(&k, v);
	} else if (ep->key_file) {
		fd = open(ep->key_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			ret = -errno;
			strbuf_addf(err, "endpoint '%s': cannot open key file "
					 "'%s': %s", ep->name, ep->key_file,
				    strerror(errno));
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			ret = -errno;
			strbuf_addf(err, "endpoint '%s': cannot stat '%s'",
				    ep->name, ep->key_file);
			goto out;
		}
		if (st.st_mode & (S_IRWXG | S_IRWXO)) {
			ret = -EPERM;
			strbuf_addf(err, "endpoint '%s': key file '%s' is "
					 "accessible by group or others "
					 "(mode %04o); chmod 600 it",
				    ep->name, ep->key_file,
				    (unsigned)(st.st_mode & 07777));
			goto out;
		}
		ret = strbuf_read_fd(&k, fd, 16384);
		if (ret < 0) {
			strbuf_addf(err, "endpoint '%s': cannot read key file "
					 "'%s'", ep->name, ep->key_file);
			goto out;
		}
		ret = 0;
	}
	strbuf_trim(&k);
	if (!key_ok(&k)) {
		ret = -EINVAL;
		strbuf_addf(err, "endpoint '%s': the key contains spaces or "
				 "control characters", ep->name);
		goto out;
	}
	strbuf_addbuf(out, &k);
out:
	if (fd >= 0)
		close(fd);
	/* Do not leave the key in freed heap memory longer than needed. */
	if (k.alloc)
		memset(k.buf, 0, k.alloc);
	strbuf_release(&k);
	return ret;
}

/* ---- encoded requests ---- */

void llm_http_init(struct llm_http *h)
{
	memset(h, 0, sizeof(*h));
	strbuf_init(&h->body, 0);
}

void llm_http_release(struct llm_http *h)
{
	if (!h)
		return;
	free(h->url);
	for (size_t i = 0; i < h->nr_headers; i++) {
		/* headers may hold the key */
		memset(h->headers[i], 0, strlen(h->headers[i]));
		free(h->headers[i]);
	}
	free(h->headers);
	strbuf_release(&h->body);
	llm_http_init(h);
}

/* ---- durations ---- */

int64_t llm_parse_duration_ms(const char *s)
{
	double total = 0;
	bool any = false;

	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	while (*s) {
		char *end;
		double v;
		double mult;

		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno || !(v >= 0 && v <= 1e9))
			return -1;
		s = end;
		if (!strncmp(s, "ms", 2)) {
			mult = 1;
			s += 2;
		} else if (!strncmp(s, "us", 2) || !strncmp(s, "µs", 3)) {
			mult = 0.001;
			s += s[0] == 'u' ? 2 : 3;
		} else if (!strncmp(s, "ns", 2)) {
			mult = 0.000001;
			s += 2;
		} else if (*s == 's') {
			mult = 1000;
			s++;
		} else if (*s == 'm') {
			mult = 60000;
			s++;
		} else if (*s == 'h') {
			mult = 3600000;
			s++;
		} else if (!*s && !any) {
			mult = 1000; /* bare number: seconds */
		} else {
			return -1;
		}
		total += v * mult;
		any = true;
		while (*s == ' ')
			s++;
	}
	if (!any || total > 1e12)
		return -1;
	return (int64_t)(total + 0.999);
}

bool llm_endpoint_streams(const struct llm_endpoint *ep)
{
	if (ep->stream == LLM_STREAM_ON)
		return true;
	if (ep->stream == LLM_STREAM_OFF)
		return false;
	return ep->dialect == LLM_DIALECT_ANTHROPIC;
}

char *llm_endpoint_health_url(const struct llm_endpoint *ep)
{
	const char *u = ep->url ? ep->url : "";
	const char *host = strstr(u, "://");
	const char *end;
	struct strbuf sb = STRBUF_INIT;

	host = host ? host + 3 : u;
	end = host + strcspn(host, "/?#");
	strbuf_add(&sb, u, (size_t)(end - u));
	strbuf_addstr(&sb, "/health");
	return strbuf_detach(&sb, NULL);
}
