/*
 * Fuzz the SSE framer and the streamed-response accumulators.
 *
 * Input layout: byte 0 picks the dialect, byte 1 the number n (0..15)
 * of chunk-size bytes that follow, then the stream itself.  The stream
 * is framed twice, once in one piece and once cut into chunks whose
 * sizes cycle through the n bytes (1..64 each): both runs must see the
 * same events and end the same way, because framing must not depend on
 * where the transport split the bytes.  The accumulator is then fed the
 * same chunks and finished; any answer it assembles must be sane.
 */
#include "kreview/common.h"
#include "kreview/llm.h"
#include "kreview/llm_sse.h"

#define MAX_LINE 4096
#define MAX_EVENT 16384

static int record(const char *event, const char *data, size_t len, void *ctx)
{
	struct strbuf *t = ctx;

	if (strlen(event) > MAX_LINE || len > MAX_EVENT || data[len])
		abort();
	strbuf_addstr(t, event);
	strbuf_addch(t, '\0');
	strbuf_add(t, data, len);
	strbuf_addch(t, '\1');
	return 0;
}

static int frame(struct strbuf *t, const uint8_t *sizes, size_t nsizes,
		 const char *buf, size_t len)
{
	struct llm_sse s;
	struct strbuf err = STRBUF_INIT;
	size_t off = 0, k = 0;
	int ret = 0;

	llm_sse_init(&s, MAX_LINE, MAX_EVENT, record, t);
	while (off < len && ret == 0) {
		size_t n = nsizes ? (size_t)(sizes[k++ % nsizes] % 64) + 1 :
				    len - off;

		if (n > len - off)
			n = len - off;
		ret = llm_sse_feed(&s, buf + off, n, &err);
		off += n;
	}
	if (ret < 0 && !err.len)
		abort(); /* every framing error says why */
	strbuf_addf(t, "=%d", ret);
	llm_sse_release(&s);
	strbuf_release(&err);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf whole = STRBUF_INIT, parts = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct llm_response resp;
	struct llm_stream *st;
	const uint8_t *sizes;
	const char *buf;
	size_t nsizes, len, off = 0, k = 0;
	enum llm_dialect d;
	int ret = 0;

	if (size < 2 || size > (1u << 20))
		return 0;
	d = (enum llm_dialect)(data[0] % LLM_DIALECT_MAX);
	nsizes = data[1] % 16;
	if (size < 2 + nsizes)
		return 0;
	sizes = data + 2;
	buf = (const char *)data + 2 + nsizes;
	len = size - 2 - nsizes;

	frame(&whole, NULL, 0, buf, len);
	frame(&parts, sizes, nsizes, buf, len);
	if (!strbuf_equal(&whole, &parts))
		abort();

	llm_stream_new(&st, d, 1u << 16);
	while (off < len && ret == 0) {
		size_t n = nsizes ? (size_t)(sizes[k++ % nsizes] % 64) + 1 :
				    len - off;

		if (n > len - off)
			n = len - off;
		ret = llm_stream_feed(st, buf + off, n, &err);
		off += n;
	}
	if (ret == -EREMOTEIO && !llm_stream_error(st))
		abort();
	memset(&resp, 0, sizeof(resp));
	if (ret == 0 && llm_stream_finish(&resp, st, &err) == 0) {
		if (!llm_stream_complete(st) ||
		    (unsigned)resp.stop >= LLM_STOP_MAX)
			abort();
		for (size_t i = 0; i < resp.message.nr; i++) {
			const struct llm_part *p = &resp.message.parts[i];

			if (p->type == LLM_PART_TOOL_CALL && (!p->name || !p->args))
				abort();
			if (p->type == LLM_PART_TEXT && !p->text)
				abort();
		}
	}
	llm_response_release(&resp);
	llm_stream_free(st);
	strbuf_release(&whole);
	strbuf_release(&parts);
	strbuf_release(&err);
	return 0;
}
