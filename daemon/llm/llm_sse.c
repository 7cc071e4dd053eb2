/*
 * llm_sse.c - incremental Server-Sent Events framing (the WHATWG
 * event-stream rules kreview needs: event and data fields, comments,
 * CR, LF and CRLF line ends, a leading byte order mark; "id" and
 * "retry" are ignored because kreview never reconnects a stream).
 */
#include "kreview/common.h"
#include "kreview/llm_sse.h"

#define DEF_MAX_LINE (1u << 20)
#define DEF_MAX_EVENT (8u << 20)

void llm_sse_init(struct llm_sse *s, size_t max_line, size_t max_event,
		  llm_sse_fn fn, void *ctx)
{
	memset(s, 0, sizeof(*s));
	strbuf_init(&s->line, 0);
	strbuf_init(&s->event, 0);
	strbuf_init(&s->data, 0);
	s->max_line = max_line ? max_line : DEF_MAX_LINE;
	s->max_event = max_event ? max_event : DEF_MAX_EVENT;
	s->fn = fn;
	s->ctx = ctx;
}

void llm_sse_release(struct llm_sse *s)
{
	if (!s)
		return;
	strbuf_release(&s->line);
	strbuf_release(&s->event);
	strbuf_release(&s->data);
}

bool llm_sse_partial(const struct llm_sse *s)
{
	return s->line.len || s->has_data || s->event.len;
}

static int dispatch(struct llm_sse *s)
{
	int ret = 0;

	if (s->has_data) {
		/* the last data line's newline is not part of the data */
		if (s->data.len && s->data.buf[s->data.len - 1] == '\n')
			strbuf_setlen(&s->data, s->data.len - 1);
		s->nr_events++;
		if (s->fn)
			ret = s->fn(s->event.buf, s->data.buf, s->data.len,
				    s->ctx);
	}
	strbuf_reset(&s->event);
	strbuf_reset(&s->data);
	s->has_data = false;
	return ret;
}

/* One complete line (without its end). */
static int process_line(struct llm_sse *s, const char *p, size_t n,
			struct strbuf *err)
{
	const char *colon, *val;
	size_t flen, vlen;

	if (!s->started) {
		s->started = true;
		if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
			p += 3;
			n -= 3;
		}
	}
	if (!n)
		return dispatch(s);
	if (p[0] == ':')
		return 0; /* comment, used as keep-alive */
	colon = memchr(p, ':', n);
	flen = colon ? (size_t)(colon - p) : n;
	val = colon ? colon + 1 : p + n;
	vlen = (size_t)(p + n - val);
	if (vlen && *val == ' ') {
		val++;
		vlen--;
	}
	if (flen == 4 && !memcmp(p, "data", 4)) {
		if (s->data.len + vlen + 1 > s->max_event) {
			strbuf_addf(err, "stream event larger than %zu bytes",
				    s->max_event);
			return -E2BIG;
		}
		strbuf_add(&s->data, val, vlen);
		strbuf_addch(&s->data, '\n');
		s->has_data = true;
	} else if (flen == 5 && !memcmp(p, "event", 5)) {
		strbuf_reset(&s->event);
		strbuf_add(&s->event, val, vlen);
	}
	return 0;
}

int llm_sse_feed(struct llm_sse *s, const char *buf, size_t len,
		 struct strbuf *err)
{
	size_t i = 0;
	int ret;

	while (i < len) {
		const char *p = buf + i;
		size_t n = len - i, k;

		if (s->skip_lf) {
			s->skip_lf = false;
			if (*p == '\n') {
				i++;
				continue;
			}
		}
		for (k = 0; k < n && p[k] != '\n' && p[k] != '\r'; k++)
			;
		if (s->line.len + k > s->max_line) {
			strbuf_addf(err, "stream line longer than %zu bytes",
				    s->max_line);
			return -E2BIG;
		}
		if (k == n) {
			strbuf_add(&s->line, p, k);
			break;
		}
		if (p[k] == '\r')
			s->skip_lf = true;
		if (s->line.len) {
			strbuf_add(&s->line, p, k);
			ret = process_line(s, s->line.buf, s->line.len, err);
			strbuf_reset(&s->line);
		} else {
			ret = process_line(s, p, k, err);
		}
		if (ret < 0)
			return ret;
		i += k + 1;
	}
	return 0;
}
