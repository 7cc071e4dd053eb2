/*
 * mockllm - a mock LLM server for tests and benchmarks.
 *
 * Usage: mockllm --dir SCENARIO_DIR --port-file FILE [--log FILE]
 *
 * Poll-based HTTP/1.1 on 127.0.0.1, port chosen by the OS and written
 * to FILE.  Speaks the three dialects at their real paths:
 *   POST .../chat/completions                      openai
 *   POST .../v1/messages                           anthropic
 *   POST .../v1beta/models/MODEL:generateContent   gemini
 *   POST .../v1beta/models/MODEL:streamGenerateContent?alt=sse
 *   GET  /health                                   "health" (llama.cpp)
 * A scenario is chosen by the X-Mock-Scenario header, else by the model
 * name; everything from '#' on only separates request counters (so one
 * server can play a scenario from the start for several tests).
 *
 * Reply n (1-based, counted per selector and dialect) of a scenario is
 * the file DIR/<scenario>/<dialect>.<n>, else DIR/<scenario>/any.<n>;
 * past the last file the last one repeats.  A reply file is a list of
 * directives, a line "--", then the body (one final newline dropped):
 *   status N            HTTP status (200)
 *   header Name: value  response header (repeatable)
 *   delay MS            wait before answering (latency injection)
 *   chunk N MS          send the body N bytes at a time, MS apart
 *   chunk N-M MS        chunk sizes cycle through N..M
 *   sse                 the body is an SSE stream written by hand: sent
 *                       as text/event-stream, ending in a blank line
 *   close-mid-body      send half of the body, then close
 *   stall               send the headers and half the body, then hang
 *   pad N               append N bytes of filler to the body
 *   reset-header NAME S header NAME: RFC 3339 time S seconds from now
 *   body-file NAME      body from DIR/_bodies/NAME, "{dialect}" in NAME
 *                       replaced by the request's dialect
 *
 * When the request asks for a stream ("stream": true, or gemini's
 * streamGenerateContent) and a 2xx reply is a JSON object, the mock
 * sends it as that dialect's SSE stream instead (text split in small
 * deltas, tool arguments in fragments, usage where the provider puts
 * it), so every scenario also runs streamed.  /health without a
 * scenario answers {"status":"ok"}.
 *
 * Every request is appended to the log as one JSON line:
 *   {"n":1,"scenario":"s","dialect":"openai","method":"POST",
 *    "path":"/v1/chat/completions","headers":{"name":"value",...},
 *    "body":"..."}
 * with header names in lower case, so tests can check what was sent.
 */
#define _GNU_SOURCE
#include "kreview/common.h"
#include "kreview/strbuf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 512
#define MAX_REQUEST (32u << 20)

enum conn_state { ST_READ, ST_WAIT, ST_WRITE, ST_STALL };

struct conn {
	int fd;
	enum conn_state st;
	struct strbuf in;
	struct strbuf out;	/* headers + body to send */
	size_t sent;
	size_t limit;		/* send no more than this (close/stall) */
	bool close_after;
	size_t chunk, chunk_min, chunk_max;
	int64_t chunk_ms;
	int64_t wake_ms;	/* ST_WAIT / chunk pacing */
};

struct counter {
	char *key;
	unsigned n;
};

static const char *scen_dir;
static const char *cur_dialect = "any";
static bool cur_stream;
static FILE *req_log;
static struct counter *counters;
static size_t nr_counters, alloc_counters;
static struct conn *conns[MAX_CONNS];

static unsigned bump(const char *key)
{
	for (size_t i = 0; i < nr_counters; i++)
		if (!strcmp(counters[i].key, key))
			return ++counters[i].n;
	ALLOC_GROW(counters, nr_counters + 1, alloc_counters);
	counters[nr_counters].key = xstrdup(key);
	counters[nr_counters].n = 1;
	return counters[nr_counters++].n;
}

static void conn_close(size_t i)
{
	struct conn *c = conns[i];

	close(c->fd);
	strbuf_release(&c->in);
	strbuf_release(&c->out);
	free(c);
	conns[i] = NULL;
}

static bool read_reply_file(struct strbuf *sb, const char *scen,
			    const char *dialect, unsigned n)
{
	/* exact n first, then fall back to the last one that exists */
	for (unsigned k = n; k >= 1; k--) {
		static const char *kinds[2];
		struct strbuf path = STRBUF_INIT;

		kinds[0] = dialect;
		kinds[1] = "any";
		for (int j = 0; j < 2; j++) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s/%s.%u", scen_dir, scen,
				    kinds[j], k);
			if (strbuf_read_file(sb, path.buf, 0) == 0) {
				strbuf_release(&path);
				return true;
			}
		}
		strbuf_release(&path);
	}
	return false;
}

static void rfc3339_in(struct strbuf *sb, int64_t secs)
{
	time_t t = time(NULL) + (time_t)secs;
	struct tm tm;
	char buf[64];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_addstr(sb, buf);
}

/* ---- SSE rendering of a complete JSON answer ---- */

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static void sse_event(struct strbuf *sb, const char *event,
		      struct json_object *o)
{
	if (event)
		strbuf_addf(sb, "event: %s\n", event);
	strbuf_addf(sb, "data: %s\n\n",
		    json_object_to_json_string_ext(
			    o, JSON_C_TO_STRING_PLAIN |
				       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Length of the next piece of 's': about 7 bytes, on a UTF-8 boundary. */
static size_t piece(const char *s)
{
	size_t n = 0;

	while (s[n] && n < 7)
		n++;
	while (s[n] && ((unsigned char)s[n] & 0xc0) == 0x80)
		n++;
	return n;
}

static struct json_object *new_str_len(const char *s, size_t n)
{
	return json_object_new_string_len(s, (int)n);
}

static void sse_openai(struct strbuf *sb, struct json_object *root)
{
	struct json_object *choices = jget(root, "choices");
	struct json_object *c0 = NULL, *msg, *calls, *o, *ch, *d;
	const char *fields[] = { "content", "refusal" };

	if (json_object_is_type(choices, json_type_array))
		c0 = json_object_array_get_idx(choices, 0);
	msg = jget(c0, "message");

#define CHUNK_OPEN()                                                          \
	o = json_object_new_object();                                         \
	json_object_object_add(o, "id", json_object_get(jget(root, "id")));   \
	json_object_object_add(o, "object",                                   \
			       json_object_new_string("chat.completion.chunk")); \
	json_object_object_add(o, "model",                                    \
			       json_object_get(jget(root, "model")));         \
	ch = json_object_new_object();                                        \
	d = json_object_new_object();                                         \
	json_object_object_add(ch, "index", json_object_new_int(0));          \
	json_object_object_add(ch, "delta", d);                               \
	json_object_object_add(o, "choices", json_object_new_array());        \
	json_object_array_add(jget(o, "choices"), ch)

	CHUNK_OPEN();
	json_object_object_add(d, "role", json_object_new_string("assistant"));
	sse_event(sb, NULL, o);
	for (size_t f = 0; f < 2; f++) {
		const char *t = jstr(msg, fields[f]);

		while (t && *t) {
			size_t n = piece(t);

			CHUNK_OPEN();
			json_object_object_add(d, fields[f], new_str_len(t, n));
			sse_event(sb, NULL, o);
			t += n;
		}
	}
	calls = jget(msg, "tool_calls");
	if (!json_object_is_type(calls, json_type_array))
		calls = NULL;
	for (size_t i = 0; calls && i < json_object_array_length(calls); i++) {
		struct json_object *c = json_object_array_get_idx(calls, i);
		struct json_object *fn = jget(c, "function");
		const char *args = jstr(fn, "arguments");
		struct json_object *tc, *tf, *arr;
		bool first = true;

		do {
			size_t n = args ? piece(args) : 0;

			CHUNK_OPEN();
			arr = json_object_new_array();
			tc = json_object_new_object();
			tf = json_object_new_object();
			json_object_object_add(tc, "index",
					       json_object_new_int((int)i));
			if (first) {
				json_object_object_add(
					tc, "id", json_object_get(jget(c, "id")));
				json_object_object_add(
					tc, "type",
					json_object_new_string("function"));
				json_object_object_add(
					tf, "name",
					json_object_get(jget(fn, "name")));
			}
			json_object_object_add(tf, "arguments",
					       new_str_len(args ? args : "", n));
			json_object_object_add(tc, "function", tf);
			json_object_array_add(arr, tc);
			json_object_object_add(d, "tool_calls", arr);
			sse_event(sb, NULL, o);
			if (args)
				args += n;
			first = false;
		} while (args && *args);
	}
	CHUNK_OPEN();
	json_object_object_add(ch, "finish_reason",
			       json_object_get(jget(c0, "finish_reason")));
	sse_event(sb, NULL, o);
	if (jget(root, "usage")) {
		CHUNK_OPEN();
		json_object_object_add(o, "choices", json_object_new_array());
		json_object_object_add(o, "usage",
				       json_object_get(jget(root, "usage")));
		sse_event(sb, NULL, o);
	}
#undef CHUNK_OPEN
	strbuf_addstr(sb, "data: [DONE]\n\n");
}

static struct json_object *typed(const char *type)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(type));
	return o;
}

static void sse_anthropic(struct strbuf *sb, struct json_object *root)
{
	struct json_object *content = jget(root, "content");
	struct json_object *usage = jget(root, "usage");
	struct json_object *o, *m, *u, *d;
	size_t n = json_object_is_type(content, json_type_array) ?
			   json_object_array_length(content) : 0;

	o = typed("message_start");
	m = json_object_new_object();
	json_object_object_add(m, "id", json_object_get(jget(root, "id")));
	json_object_object_add(m, "type", json_object_new_string("message"));
	json_object_object_add(m, "role", json_object_new_string("assistant"));
	json_object_object_add(m, "model", json_object_get(jget(root, "model")));
	json_object_object_add(m, "content", json_object_new_array());
	json_object_object_add(m, "stop_reason", NULL);
	u = json_object_new_object();
	if (json_object_is_type(usage, json_type_object)) {
		json_object_object_foreach(usage, k, v)
		{
			if (strcmp(k, "output_tokens"))
				json_object_object_add(u, k,
						       json_object_get(v));
		}
	}
	json_object_object_add(u, "output_tokens", json_object_new_int(1));
	json_object_object_add(m, "usage", u);
	json_object_object_add(o, "message", m);
	sse_event(sb, "message_start", o);
	sse_event(sb, "ping", typed("ping"));
	for (size_t i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(content, i);
		const char *type = jstr(b, "type");
		struct json_object *start = json_object_new_object();
		const char *t = NULL, *dtype = NULL, *dfield = NULL;
		char *json = NULL;

		json_object_object_foreach(b, k, v)
		{
			if (!strcmp(k, "text"))
				json_object_object_add(
					start, k, json_object_new_string(""));
			else if (!strcmp(k, "input"))
				json_object_object_add(start, k,
						       json_object_new_object());
			else
				json_object_object_add(start, k,
						       json_object_get(v));
		}
		o = typed("content_block_start");
		json_object_object_add(o, "index", json_object_new_int((int)i));
		json_object_object_add(o, "content_block", start);
		sse_event(sb, "content_block_start", o);
		if (type && !strcmp(type, "text")) {
			t = jstr(b, "text");
			dtype = "text_delta";
			dfield = "text";
		} else if (type && !strcmp(type, "tool_use")) {
			json = xstrdup(json_object_to_json_string_ext(
				jget(b, "input"), JSON_C_TO_STRING_PLAIN));
			t = json;
			dtype = "input_json_delta";
			dfield = "partial_json";
		}
		while (t && *t) {
			size_t pl = piece(t);

			o = typed("content_block_delta");
			json_object_object_add(o, "index",
					       json_object_new_int((int)i));
			d = typed(dtype);
			json_object_object_add(d, dfield, new_str_len(t, pl));
			json_object_object_add(o, "delta", d);
			sse_event(sb, "content_block_delta", o);
			t += pl;
		}
		free(json);
		o = typed("content_block_stop");
		json_object_object_add(o, "index", json_object_new_int((int)i));
		sse_event(sb, "content_block_stop", o);
	}
	o = typed("message_delta");
	d = json_object_new_object();
	json_object_object_add(d, "stop_reason",
			       json_object_get(jget(root, "stop_reason")));
	json_object_object_add(d, "stop_sequence", NULL);
	json_object_object_add(o, "delta", d);
	u = json_object_new_object();
	json_object_object_add(u, "output_tokens",
			       json_object_get(jget(usage, "output_tokens")));
	json_object_object_add(o, "usage", u);
	sse_event(sb, "message_delta", o);
	sse_event(sb, "message_stop", typed("message_stop"));
}

static void sse_gemini(struct strbuf *sb, struct json_object *root)
{
	struct json_object *cands = jget(root, "candidates");
	struct json_object *c0 = NULL, *parts;
	size_t n;
	struct json_object *o, *last;

#define GEM_CHUNK(part)                                                       \
	do {                                                                  \
		struct json_object *cs = json_object_new_array();             \
		struct json_object *c = json_object_new_object();             \
		struct json_object *ct = json_object_new_object();            \
		struct json_object *ps = json_object_new_array();             \
		o = json_object_new_object();                                 \
		json_object_array_add(ps, part);                              \
		json_object_object_add(ct, "role",                            \
				       json_object_new_string("model"));      \
		json_object_object_add(ct, "parts", ps);                      \
		json_object_object_add(c, "content", ct);                     \
		json_object_object_add(c, "index", json_object_new_int(0));   \
		json_object_array_add(cs, c);                                 \
		json_object_object_add(o, "candidates", cs);                  \
		json_object_object_add(o, "responseId",                       \
				       json_object_get(jget(root, "responseId"))); \
		last = c;                                                     \
	} while (0)

	if (json_object_is_type(cands, json_type_array))
		c0 = json_object_array_get_idx(cands, 0);
	parts = jget(jget(c0, "content"), "parts");
	n = json_object_is_type(parts, json_type_array) ?
		    json_object_array_length(parts) : 0;
	if (!c0) {
		/* blocked prompt: one chunk, as sent */
		sse_event(sb, NULL, json_object_get(root));
		return;
	}
	o = NULL;
	last = NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(parts, i);
		const char *t = jstr(p, "text");

		if (!t || jget(p, "thoughtSignature") || jget(p, "thought")) {
			if (o)
				sse_event(sb, NULL, o);
			GEM_CHUNK(json_object_get(p));
			continue;
		}
		while (*t) {
			size_t k = piece(t);
			struct json_object *np = json_object_new_object();

			json_object_object_add(np, "text", new_str_len(t, k));
			if (o)
				sse_event(sb, NULL, o);
			GEM_CHUNK(np);
			t += k;
		}
	}
	if (!o) {
		struct json_object *np = json_object_new_object();

		json_object_object_add(np, "text", json_object_new_string(""));
		GEM_CHUNK(np);
	}
#undef GEM_CHUNK
	json_object_object_add(last, "finishReason",
			       json_object_get(jget(c0, "finishReason")));
	json_object_object_add(o, "usageMetadata",
			       json_object_get(jget(root, "usageMetadata")));
	json_object_object_add(o, "modelVersion",
			       json_object_get(jget(root, "modelVersion")));
	sse_event(sb, NULL, o);
}

/* Render a JSON answer 'body' as the current dialect's stream. */
static bool to_sse(struct strbuf *body)
{
	struct json_object *root = json_tokener_parse(body->buf);
	struct strbuf sb = STRBUF_INIT;

	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return false;
	}
	if (!strcmp(cur_dialect, "openai"))
		sse_openai(&sb, root);
	else if (!strcmp(cur_dialect, "anthropic"))
		sse_anthropic(&sb, root);
	else
		sse_gemini(&sb, root);
	json_object_put(root);
	strbuf_reset(body);
	strbuf_addbuf(body, &sb);
	strbuf_release(&sb);
	return true;
}

/* Build the response in c->out from the reply file text. */
static void build_reply(struct conn *c, const char *text)
{
	struct strbuf hdrs = STRBUF_INIT, body = STRBUF_INIT;
	const char *p = text, *sep;
	long status = 200;
	int64_t delay = 0;
	bool close_mid = false, stall = false, sse = false;
	size_t pad = 0;

	sep = strstr(text, "\n--\n");
	if (!strncmp(text, "--\n", 3))
		sep = text - 1;
	while (p && *p && (!sep || p <= sep)) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xmemdupz(p, len);
		int64_t v1 = 0, v2 = 0;
		char *arg;

		p = nl ? nl + 1 : NULL;
		if (!len || line[0] == '#') {
			free(line);
			continue;
		}
		arg = strchr(line, ' ');
		if (arg)
			*arg++ = '\0';
		if (!strcmp(line, "status") && arg)
			parse_int64(&v1, arg, 10), status = (long)v1;
		else if (!strcmp(line, "header") && arg)
			strbuf_addf(&hdrs, "%s\r\n", arg);
		else if (!strcmp(line, "delay") && arg)
			parse_int64(&delay, arg, 10);
		else if (!strcmp(line, "pad") && arg)
			parse_int64(&v1, arg, 10), pad = (size_t)v1;
		else if (!strcmp(line, "close-mid-body"))
			close_mid = true;
		else if (!strcmp(line, "stall"))
			stall = true;
		else if (!strcmp(line, "sse"))
			sse = true;
		else if (!strcmp(line, "chunk") && arg) {
			char *a2 = strchr(arg, ' ');
			char *dash = strchr(arg, '-');
			int64_t v3 = 0;

			if (a2)
				*a2++ = '\0';
			if (dash) {
				*dash++ = '\0';
				parse_int64(&v3, dash, 10);
			}
			parse_int64(&v1, arg, 10);
			if (a2)
				parse_int64(&v2, a2, 10);
			c->chunk = (size_t)(v1 > 0 ? v1 : 1);
			c->chunk_min = c->chunk;
			c->chunk_max = v3 > v1 ? (size_t)v3 : c->chunk;
			c->chunk_ms = v2;
		} else if (!strcmp(line, "reset-header") && arg) {
			char *a2 = strchr(arg, ' ');

			if (a2) {
				*a2++ = '\0';
				parse_int64(&v1, a2, 10);
				strbuf_addf(&hdrs, "%s: ", arg);
				rfc3339_in(&hdrs, v1);
				strbuf_addstr(&hdrs, "\r\n");
			}
		} else if (!strcmp(line, "body-file") && arg) {
			struct strbuf path = STRBUF_INIT;
			char *d = strstr(arg, "{dialect}");

			strbuf_addf(&path, "%s/_bodies/", scen_dir);
			if (d) {
				strbuf_add(&path, arg, (size_t)(d - arg));
				strbuf_addstr(&path, cur_dialect);
				strbuf_addstr(&path, d + 9);
			} else {
				strbuf_addstr(&path, arg);
			}
			if (!strchr(arg, '/'))
				strbuf_read_file(&body, path.buf, 0);
			strbuf_release(&path);
			if (body.len && body.buf[body.len - 1] == '\n')
				strbuf_setlen(&body, body.len - 1);
		} else if (!strcmp(line, "--")) {
			free(line);
			break;
		}
		free(line);
	}
	if (sep && sep[4]) {
		strbuf_addstr(&body, sep + 4);
		if (body.len && body.buf[body.len - 1] == '\n')
			strbuf_setlen(&body, body.len - 1);
	}
	for (size_t i = 0; i < pad; i++)
		strbuf_addch(&body, 'x');
	if (sse) {
		/* the blank line that ends the last event */
		while (body.len && body.buf[body.len - 1] == '\n')
			strbuf_setlen(&body, body.len - 1);
		strbuf_addstr(&body, "\n\n");
		strbuf_addstr(&hdrs, "Content-Type: text/event-stream\r\n");
	} else if (cur_stream && status >= 200 && status < 300 &&
		   !strcasestr(hdrs.buf, "content-type:") && to_sse(&body)) {
		strbuf_addstr(&hdrs, "Content-Type: text/event-stream\r\n");
	}

	strbuf_reset(&c->out);
	strbuf_addf(&c->out, "HTTP/1.1 %ld Mock\r\n", status);
	if (!strcasestr(hdrs.buf, "content-type:"))
		strbuf_addstr(&c->out, "Content-Type: application/json\r\n");
	strbuf_addbuf(&c->out, &hdrs);
	strbuf_addf(&c->out, "Content-Length: %zu\r\n", body.len);
	if (close_mid)
		strbuf_addstr(&c->out, "Connection: close\r\n");
	strbuf_addstr(&c->out, "\r\n");
	c->limit = c->out.len + (close_mid || stall ? body.len / 2 : body.len);
	strbuf_addbuf(&c->out, &body);
	c->close_after = close_mid;
	c->sent = 0;
	c->wake_ms = time_mono_ms() + delay;
	c->st = ST_WAIT;
	if (stall)
		c->close_after = false;
	if (stall)
		c->chunk_ms = -1; /* marker: stall after limit */
	strbuf_release(&hdrs);
	strbuf_release(&body);
}

static void log_request(unsigned n, const char *scen, const char *dialect,
			const char *method, const char *path,
			struct json_object *headers, const char *body,
			size_t body_len)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "n", json_object_new_int64(n));
	json_object_object_add(o, "scenario", json_object_new_string(scen));
	json_object_object_add(o, "dialect", json_object_new_string(dialect));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "headers", json_object_get(headers));
	json_object_object_add(o, "body",
			       json_object_new_string_len(body, (int)body_len));
	if (req_log) {
		fprintf(req_log, "%s\n",
			json_object_to_json_string_ext(
				o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE));
		fflush(req_log);
	}
	json_object_put(o);
}

static void error_reply(struct conn *c, int status, const char *msg)
{
	struct strbuf t = STRBUF_INIT;

	strbuf_addf(&t, "status %d\n--\n{\"error\":{\"message\":\"%s\"}}\n",
		    status, msg);
	build_reply(c, t.buf);
	strbuf_release(&t);
}

/* A full request is in c->in (head of 'hlen' bytes, body after). */
static void handle_request(struct conn *c, size_t hlen, size_t blen)
{
	struct json_object *headers = json_object_new_object();
	struct json_object *jbody = NULL, *jm;
	char *head = xmemdupz(c->in.buf, hlen);
	const char *body = c->in.buf + hlen;
	char *line, *save = NULL, *method, *path, *sp;
	struct strbuf scen = STRBUF_INIT, key = STRBUF_INIT;
	struct strbuf reply = STRBUF_INIT;
	const char *dialect = NULL, *hdr_scen = NULL;
	unsigned n;

	line = strtok_r(head, "\r\n", &save); /* not poisoned: _r form */
	method = line ? line : (char *)"";
	sp = strchr(method, ' ');
	path = (char *)"";
	if (sp) {
		*sp = '\0';
		path = sp + 1;
		sp = strchr(path, ' ');
		if (sp)
			*sp = '\0';
	}
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		char *colon = strchr(line, ':');
		char *v;

		if (!colon)
			continue;
		*colon = '\0';
		for (char *q = line; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		v = colon + 1;
		while (*v == ' ')
			v++;
		json_object_object_add(headers, line, json_object_new_string(v));
	}
	if (json_object_object_get_ex(headers, "x-mock-scenario", &jm))
		hdr_scen = json_object_get_string(jm);

	jbody = json_tokener_parse(body); /* request body is ours */
	cur_stream = false;
	if (strstr(path, "/chat/completions"))
		dialect = "openai";
	else if (strstr(path, "/v1/messages"))
		dialect = "anthropic";
	else if (strstr(path, ":generateContent"))
		dialect = "gemini";
	else if (strstr(path, ":streamGenerateContent")) {
		dialect = "gemini";
		cur_stream = true;
	} else if (!strcmp(path, "/health") && !strcmp(method, "GET"))
		dialect = "health";
	if (jbody && json_object_object_get_ex(jbody, "stream", &jm) &&
	    json_object_get_boolean(jm))
		cur_stream = true;

	if (hdr_scen) {
		strbuf_addstr(&scen, hdr_scen);
	} else if (dialect && !strcmp(dialect, "gemini")) {
		const char *m = strstr(path, "/models/");
		const char *e = m ? strchr(m, ':') : NULL;

		if (m && e > m + 8)
			strbuf_add(&scen, m + 8, (size_t)(e - m - 8));
	} else {
		if (jbody && json_object_object_get_ex(jbody, "model", &jm))
			strbuf_addstr(&scen, json_object_get_string(jm));
	}
	strbuf_addf(&key, "%s|%s", scen.buf, dialect ? dialect : "?");
	n = bump(key.buf);
	{
		char *hash = strchr(scen.buf, '#');

		if (hash)
			strbuf_setlen(&scen, (size_t)(hash - scen.buf));
	}
	log_request(n, scen.buf, dialect ? dialect : "?", method, path,
		    headers, body, blen);

	cur_dialect = dialect ? dialect : "any";
	if (!dialect)
		error_reply(c, 404, "unknown path");
	else if (!strcmp(dialect, "health") && !scen.len)
		build_reply(c, "--\n{\"status\":\"ok\"}\n");
	else if (!scen.len || strchr(scen.buf, '/') || scen.buf[0] == '.')
		error_reply(c, 400, "no scenario");
	else if (!read_reply_file(&reply, scen.buf, dialect, n))
		error_reply(c, 404, "no reply file for this scenario");
	else
		build_reply(c, reply.buf);

	json_object_put(jbody);
	json_object_put(headers);
	strbuf_release(&scen);
	strbuf_release(&key);
	strbuf_release(&reply);
	free(head);
	/* drop the consumed request, keep pipelined bytes */
	strbuf_remove(&c->in, 0, hlen + blen);
}

/* Return true if a full request was consumed. */
static bool try_parse(struct conn *c)
{
	char *end = memmem(c->in.buf, c->in.len, "\r\n\r\n", 4);
	size_t hlen, blen = 0;
	char *cl;

	if (!end)
		return false;
	hlen = (size_t)(end - c->in.buf) + 4;
	{
		char *h = xmemdupz(c->in.buf, hlen);

		cl = strcasestr(h, "\r\ncontent-length:");
		if (cl) {
			uint64_t v = 0;
			char *e2;

			cl += 17;
			while (*cl == ' ')
				cl++;
			e2 = strchr(cl, '\r');
			if (e2)
				*e2 = '\0';
			if (parse_uint64(&v, cl, 10) == 0)
				blen = (size_t)v;
		}
		free(h);
	}
	if (c->in.len < hlen + blen)
		return false;
	handle_request(c, hlen, blen);
	return true;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	const char *port_file = NULL, *log_path = NULL;
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	int lfd, one = 1;
	FILE *pf;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--dir"))
			scen_dir = argv[i + 1];
		else if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
		else if (!strcmp(argv[i], "--log"))
			log_path = argv[i + 1];
	}
	if (!scen_dir || !port_file) {
		fprintf(stderr, "usage: mockllm --dir DIR --port-file FILE "
				"[--log FILE]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (log_path) {
		req_log = fopen(log_path, "a");
		if (!req_log) {
			perror(log_path);
			return 1;
		}
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 512) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &slen) < 0) {
		perror("mockllm: bind");
		return 1;
	}
	{
		/* write then rename: readers never see a partial port */
		struct strbuf tmp = STRBUF_INIT;

		strbuf_addf(&tmp, "%s.tmp", port_file);
		pf = fopen(tmp.buf, "w");
		if (!pf) {
			perror(tmp.buf);
			return 1;
		}
		fprintf(pf, "%u\n", ntohs(sa.sin_port));
		fclose(pf);
		if (rename(tmp.buf, port_file) < 0) {
			perror(port_file);
			return 1;
		}
		strbuf_release(&tmp);
	}

	while (!stop) {
		struct pollfd pfd[MAX_CONNS + 1];
		size_t idx[MAX_CONNS + 1];
		int nfds = 0, timeout = 1000;
		int64_t now = time_mono_ms();

		pfd[nfds].fd = lfd;
		pfd[nfds].events = POLLIN;
		nfds++;
		for (size_t i = 0; i < MAX_CONNS; i++) {
			struct conn *c = conns[i];

			if (!c)
				continue;
			pfd[nfds].fd = c->fd;
			pfd[nfds].events = POLLIN;
			pfd[nfds].revents = 0;
			if (c->st == ST_WAIT || (c->st == ST_WRITE && c->chunk_ms > 0)) {
				int64_t w = c->wake_ms - now;

				if (w < 0)
					w = 0;
				if (w < timeout)
					timeout = (int)w;
			}
			if (c->st == ST_WRITE && c->wake_ms <= now)
				pfd[nfds].events |= POLLOUT;
			idx[nfds++] = i;
		}
		if (poll(pfd, (nfds_t)nfds, timeout) < 0 && errno != EINTR)
			break;
		now = time_mono_ms();
		if (pfd[0].revents & POLLIN) {
			int fd;

			while ((fd = accept4(lfd, NULL, NULL,
					     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
				size_t i;

				for (i = 0; i < MAX_CONNS && conns[i]; i++)
					;
				if (i == MAX_CONNS) {
					close(fd);
					continue;
				}
				conns[i] = xcalloc(1, sizeof(struct conn));
				conns[i]->fd = fd;
				strbuf_init(&conns[i]->in, 0);
				conns[i]->in.max = MAX_REQUEST;
				strbuf_init(&conns[i]->out, 0);
			}
		}
		for (int k = 1; k < nfds; k++) {
			size_t i = idx[k];
			struct conn *c = conns[i];

			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
				char buf[65536];
				ssize_t r = read(c->fd, buf, sizeof(buf));

				if (r <= 0 ||
				    strbuf_add_checked(&c->in, buf, (size_t)r)) {
					conn_close(i);
					continue;
				}
			}
			if (c->st == ST_READ && try_parse(c))
				continue; /* now ST_WAIT */
			if (c->st == ST_WAIT && c->wake_ms <= now) {
				c->st = ST_WRITE;
				c->wake_ms = now;
			}
			if (c->st == ST_WRITE && c->wake_ms <= now &&
			    (pfd[k].revents & POLLOUT)) {
				size_t n = c->limit - c->sent;
				ssize_t w;

				/* pace the body, never the headers */
				if (c->chunk && c->chunk_ms > 0) {
					char *bs = memmem(c->out.buf, c->out.len,
							  "\r\n\r\n", 4);
					size_t body_at = (size_t)(bs - c->out.buf) + 4;

					if (c->sent < body_at)
						n = body_at - c->sent;
					else if (n > c->chunk)
						n = c->chunk;
				}
				w = n ? write(c->fd, c->out.buf + c->sent, n) : 0;
				if (w < 0 && errno != EAGAIN) {
					conn_close(i);
					continue;
				}
				if (w > 0)
					c->sent += (size_t)w;
				if (w > 0 && c->chunk_max > c->chunk_min)
					c->chunk = c->chunk >= c->chunk_max ?
							   c->chunk_min :
							   c->chunk + 1;
				if (c->chunk && c->chunk_ms > 0)
					c->wake_ms = now + c->chunk_ms;
				if (c->sent >= c->limit) {
					if (c->limit < c->out.len &&
					    !c->close_after) {
						c->st = ST_STALL;
					} else if (c->close_after) {
						conn_close(i);
						continue;
					} else {
						c->st = ST_READ;
						c->chunk = 0;
						c->chunk_ms = 0;
						strbuf_reset(&c->out);
						if (try_parse(c))
							continue;
					}
				}
			}
		}
	}
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (conns[i])
			conn_close(i);
	close(lfd);
	if (req_log)
		fclose(req_log);
	for (size_t i = 0; i < nr_counters; i++)
		free(counters[i].key);
	free(counters);
	return 0;
}
