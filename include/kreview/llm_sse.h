/*
 * llm_sse.h - streamed LLM responses: an incremental Server-Sent Events
 * framer and, on top of it, a per-dialect accumulator that turns a
 * stream of events into the same struct llm_response a plain 2xx body
 * decodes to.
 *
 * Both are fed whatever chunks the transport delivers: a line, an event
 * or a multi-byte character may be split anywhere, including between
 * the CR and LF of a line end.  Everything here is untrusted input:
 * one line is capped at 'max_line' bytes and the data of one event at
 * 'max_event' bytes; exceeding either is -E2BIG, never a reallocation
 * without bound.
 *
 * A stream is complete only when the dialect's end marker arrived
 * (openai "data: [DONE]", anthropic "message_stop", gemini a candidate
 * carrying a finishReason or a prompt block).  A stream that stops
 * before it is a transport failure the engine retries, never an answer.
 */
#ifndef KREVIEW_LLM_SSE_H
#define KREVIEW_LLM_SSE_H

#include "kreview/common.h"
#include "kreview/llm.h"
#include "kreview/strbuf.h"

/* ---- the framer ------------------------------------------------------- */

/*
 * Called for every dispatched event.  'event' is the event name ("" if
 * the stream gave none), 'data' the joined data lines (NUL-terminated,
 * 'len' bytes, may contain NULs).  Both are borrowed for the call.
 * Return 0 to go on, or a negative errno to stop llm_sse_feed() with it.
 */
typedef int (*llm_sse_fn)(const char *event, const char *data, size_t len,
			  void *ctx);

struct llm_sse {
	struct strbuf line;	/* the unfinished line */
	struct strbuf event;	/* current event name */
	struct strbuf data;	/* current event data */
	bool has_data;		/* a data field was seen for this event */
	bool skip_lf;		/* previous chunk ended in CR */
	bool started;		/* past a possible byte order mark */
	size_t max_line, max_event;
	size_t nr_events;	/* events dispatched so far */
	llm_sse_fn fn;
	void *ctx;
};

/* Prepare 's'; zero caps mean 1 MiB per line and 8 MiB per event. */
void llm_sse_init(struct llm_sse *s, size_t max_line, size_t max_event,
		  llm_sse_fn fn, void *ctx);
void llm_sse_release(struct llm_sse *s);

/*
 * Feed 'len' bytes.  Dispatches every event completed by them.  Returns
 * 0, -E2BIG (with a message) when a cap is exceeded, or what the
 * callback returned.  After an error the framer must not be fed again.
 */
int llm_sse_feed(struct llm_sse *s, const char *buf, size_t len,
		 struct strbuf *err);

/* True if bytes of an unfinished line or event are pending. */
bool llm_sse_partial(const struct llm_sse *s);

/* ---- the stream accumulator -------------------------------------------- */

struct llm_stream;

/*
 * A new accumulator for 'd'.  'max_bytes' caps everything the stream may
 * accumulate (answer text, tool arguments, one event); 0 means 8 MiB.
 */
void llm_stream_new(struct llm_stream **out, enum llm_dialect d,
		    size_t max_bytes);
void llm_stream_free(struct llm_stream *s);

/*
 * Feed a chunk of the response body.  Returns 0; -E2BIG over a cap;
 * -EPROTO (message in 'err') for an event whose data is not the JSON
 * the dialect sends; -EREMOTEIO when the provider reported an error
 * inside the stream (anthropic "event: error", an openai or gemini
 * error object): llm_stream_error() then says what it was.
 */
int llm_stream_feed(struct llm_stream *s, const char *buf, size_t len,
		    struct strbuf *err);

/*
 * The classified in-stream error after llm_stream_feed() returned
 * -EREMOTEIO; borrowed from 's'.  Its class comes from the error type
 * (overloaded_error is an overload, ...), defaulting to a server error.
 */
const struct llm_error_info *llm_stream_error(const struct llm_stream *s);

/* True once the dialect's end marker has arrived. */
bool llm_stream_complete(const struct llm_stream *s);

/*
 * Assemble the response after the body ended.  -EPIPE if the stream
 * stopped before its end marker, -EPROTO if the assembled answer is
 * malformed (tool arguments that are not JSON are passed on as text,
 * for the caller's re-ask).  'out' (released) is written on success.
 */
int llm_stream_finish(struct llm_response *out, struct llm_stream *s,
		      struct strbuf *err);

#endif
