/*
 * llm.h - talking to LLM endpoints: one provider-neutral request and
 * response, three wire dialects, and one libcurl multi engine.
 *
 * Layers, bottom up:
 *
 *  - Values: struct llm_request (system blocks with a declared cached
 *    prefix, ordered turns of parts, tool declarations, an optional JSON
 *    schema, optional sampling, an output cap) and struct llm_response
 *    (the assistant turn, a classified stop reason, normalised usage,
 *    the request id).
 *
 *  - Dialects (openai, anthropic, gemini): a pure pair of functions,
 *    llm_encode() builds URL, headers and JSON body for one endpoint,
 *    llm_decode() turns a 2xx body into a response, llm_classify()
 *    turns a failed attempt into an error class and delay hint.  No I/O.
 *    Streamed (SSE) answers are folded into the same response by the
 *    accumulators of llm_sse.h; a stream cut short is never an answer.
 *
 *  - The engine: one curl multi handle driven by curl_multi_poll(); the
 *    caller submits requests with a completion callback and calls
 *    llm_engine_run_once() or llm_engine_run() from its loop.  The
 *    engine owns retries, backoff, rate limiting, concurrency caps, the
 *    circuit breaker per endpoint and the fallback endpoint.
 *
 *  - Conversations: llm_conv runs the tool-call loop and structured
 *    output validation (one repair re-ask) on top of the engine.
 *
 * API keys are read by the engine from the environment or a private
 * file; they only ever appear in the auth header handed to libcurl and
 * are never formatted into an error message or a log line.
 */
#ifndef KREVIEW_LLM_H
#define KREVIEW_LLM_H

#include "kreview/common.h"
#include "kreview/strbuf.h"

/* ---- values ---------------------------------------------------------- */

enum llm_dialect {
	LLM_DIALECT_OPENAI,
	LLM_DIALECT_ANTHROPIC,
	LLM_DIALECT_GEMINI,
	LLM_DIALECT_MAX
};

/* "openai", "anthropic", "gemini"; parse returns -EINVAL if unknown. */
const char *llm_dialect_name(enum llm_dialect d);
int llm_dialect_parse(enum llm_dialect *out, const char *name);

enum llm_part_type {
	LLM_PART_TEXT,
	LLM_PART_TOOL_CALL,	/* assistant asks for a tool */
	LLM_PART_TOOL_RESULT,	/* user turn answers one call */
};

/*
 * One piece of a turn.  All strings are owned by the part (malloc'ed,
 * freed by llm_turn_release()).
 */
struct llm_part {
	enum llm_part_type type;
	char *text;	 /* TEXT: the text; TOOL_RESULT: the result text */
	char *id;	 /* TOOL_CALL/RESULT: call id, NULL if none (gemini) */
	char *name;	 /* TOOL_CALL/RESULT: tool name */
	char *args;	 /* TOOL_CALL: arguments, a JSON object as text */
	bool is_error;	 /* TOOL_RESULT: the tool failed */
	/*
	 * Opaque reasoning signature (gemini thoughtSignature) received
	 * on this part; sent back byte for byte in later requests.
	 */
	char *signature;
};

enum llm_role { LLM_ROLE_USER, LLM_ROLE_ASSISTANT };

struct llm_turn {
	enum llm_role role;
	/* Anthropic: put a cache breakpoint after this turn's last block. */
	bool cache_mark;
	struct llm_part *parts;
	size_t nr, alloc;
};

void llm_turn_release(struct llm_turn *t);
/* Append parts; the strings are copied.  Return the new part. */
struct llm_part *llm_turn_add_text(struct llm_turn *t, const char *text);
struct llm_part *llm_turn_add_tool_call(struct llm_turn *t, const char *id,
					const char *name, const char *args);
struct llm_part *llm_turn_add_tool_result(struct llm_turn *t, const char *id,
					  const char *name, const char *text,
					  bool is_error);
/* Deep copy of 'src' into the released turn 'dst'. */
void llm_turn_copy(struct llm_turn *dst, const struct llm_turn *src);
/* Concatenated TEXT parts of 't' ("" if none). */
void llm_turn_text(struct strbuf *out, const struct llm_turn *t);

struct llm_tool {
	char *name;
	char *description;
	char *schema;	/* JSON Schema of the arguments object, as text */
};

enum llm_tool_choice {
	LLM_TOOL_AUTO,
	LLM_TOOL_NONE,
	LLM_TOOL_REQUIRED,	/* some tool must be called */
	LLM_TOOL_NAMED,		/* tool_choice_name must be called */
};

/*
 * Sampling knobs; each is sent only when its has_ flag is set and the
 * endpoint does not suppress it (some models reject temperature).
 */
struct llm_sampling {
	bool has_temperature, has_top_p, has_seed;
	double temperature, top_p;
	int64_t seed;
};

/*
 * The provider-neutral request.  Owns all its strings.  The first
 * 'prefix_blocks' of 'system' form the shared prefix that is identical
 * for every stage and run of a patch: anthropic gets its cache
 * breakpoint on the last of them; the implicit caches of the other
 * providers profit from the order alone.
 */
struct llm_request {
	char **system;
	size_t nr_system, alloc_system;
	size_t prefix_blocks;

	struct llm_turn *turns;
	size_t nr_turns, alloc_turns;

	struct llm_tool *tools;
	size_t nr_tools, alloc_tools;
	enum llm_tool_choice tool_choice;
	char *tool_choice_name;

	/* Structured output: a JSON Schema (text) and its name, or NULL. */
	char *schema;
	char *schema_name;

	struct llm_sampling sampling;
	uint32_t max_tokens;	/* output cap; 0: endpoint default */
	/* Selects a mock scenario in tests: sent as X-Mock-Scenario. */
	char *mock_scenario;
};

#define LLM_REQUEST_INIT { 0 }

void llm_request_release(struct llm_request *r);
/* Append a system block; 'in_prefix' extends the shared prefix. */
void llm_request_add_system(struct llm_request *r, const char *text,
			    bool in_prefix);
/* Append an empty turn with 'role'; returns it (valid until next add). */
struct llm_turn *llm_request_add_turn(struct llm_request *r,
				      enum llm_role role);
/* Shortcut: a user turn of one text part. */
void llm_request_add_user_text(struct llm_request *r, const char *text);
void llm_request_add_tool(struct llm_request *r, const char *name,
			  const char *description, const char *schema);
void llm_request_set_schema(struct llm_request *r, const char *name,
			    const char *schema);

enum llm_stop {
	LLM_STOP_END,		/* finished normally */
	LLM_STOP_LENGTH,	/* truncated by the output cap or window */
	LLM_STOP_REFUSAL,	/* refusal, safety block, recitation */
	LLM_STOP_TOOL,		/* wants tool results */
	LLM_STOP_OTHER,		/* malformed call, unknown reason */
	LLM_STOP_MAX
};

const char *llm_stop_name(enum llm_stop s);

/* Normalised token counters (reference §1.1). */
struct llm_usage {
	uint64_t in_uncached;
	uint64_t cache_write;	/* all cache writes, 5 min and 1 h */
	uint64_t cache_write_1h; /* the 1 h part of cache_write */
	uint64_t cache_read;
	uint64_t out;
	uint64_t reasoning;	/* subset of out, where reported */
};

void llm_usage_add(struct llm_usage *sum, const struct llm_usage *u);

struct llm_response {
	struct llm_turn message;	/* role ASSISTANT */
	enum llm_stop stop;
	char *stop_raw;		/* the provider's own word, or NULL */
	char *refusal;		/* refusal text if the provider gave one */
	struct llm_usage usage;
	char *request_id;	/* header or body id, NULL if none */
	char *model;		/* model named in the response, or NULL */
	/*
	 * The engine's cheap estimate of the prompt (request body bytes / 4)
	 * and whether the prompt tokens the server reported fall far below
	 * it (under half, for prompts of 256 estimated tokens or more): the
	 * mark of a server that silently cut the context (Ollama's default
	 * num_ctx) instead of refusing it.  Set by the engine only.
	 */
	uint64_t prompt_estimate;
	bool prompt_truncated;
};

void llm_response_release(struct llm_response *r);
/* Move 'src' into the released 'dst'; 'src' is left released. */
void llm_response_move(struct llm_response *dst, struct llm_response *src);

/* ---- error classes (reference §8) ------------------------------------ */

enum llm_class {
	LLM_CLASS_OK,
	LLM_CLASS_RATE_LIMIT,	/* transient 429 */
	LLM_CLASS_OVERLOAD,	/* 529, 503 */
	LLM_CLASS_SERVER,	/* 5xx, 408, 409, network: retried */
	LLM_CLASS_SPEND_LIMIT,	/* terminal: anthropic spend cap */
	LLM_CLASS_QUOTA,	/* terminal: openai insufficient_quota */
	LLM_CLASS_DAILY_QUOTA,	/* terminal: gemini PerDay quota */
	LLM_CLASS_AUTH,		/* terminal: 401, 403, bad key */
	LLM_CLASS_CONTEXT,	/* terminal: prompt too long */
	LLM_CLASS_REQUEST,	/* terminal: other 4xx */
	LLM_CLASS_LOCAL,	/* terminal: our response cap, TLS, setup */
	LLM_CLASS_BAD_OUTPUT,	/* malformed 2xx body or invalid answer */
	LLM_CLASS_TIMEOUT,	/* retried: connect/overall/stall timeout */
	LLM_CLASS_CIRCUIT_OPEN,	/* endpoint refused by its breaker */
	/*
	 * The server asked for a wait longer than max_retry_delay_ms: the
	 * call is handed back (with the wait in retry_after_ms) for the
	 * caller to requeue instead of holding a slot that long.
	 */
	LLM_CLASS_RETRY_LATER,
	LLM_CLASS_MAX
};

const char *llm_class_name(enum llm_class c);
/* True for classes that are retried by the engine. */
bool llm_class_retryable(enum llm_class c);

/* Looks a response header up by lower-case name; NULL if absent. */
typedef const char *(*llm_header_fn)(void *data, const char *name);

/*
 * What llm_classify() learns from a failed attempt.  'delay_ms' is the
 * server's hint from the body (gemini RetryInfo or "retry in Ns"), -1
 * if none; 'context_tokens'/'context_max' are the N and M of "prompt is
 * too long: N tokens > M maximum" when given.
 */
struct llm_error_info {
	enum llm_class cls;
	int64_t delay_ms;
	uint64_t context_tokens, context_max;
	char *message;		/* provider message, sanitised, or NULL */
};

void llm_error_info_release(struct llm_error_info *e);

/* ---- endpoints ------------------------------------------------------- */

/* Whether an endpoint asks for a streamed (SSE) response. */
enum llm_stream_mode {
	LLM_STREAM_DEFAULT,	/* anthropic streams, the others do not */
	LLM_STREAM_ON,
	LLM_STREAM_OFF,
};

/* USD per million tokens. */
struct llm_price {
	double input, output, cache_write, cache_write_1h, cache_read;
};

/*
 * One configured endpoint, a plain value owned by whoever fills it
 * (config parser or test); llm_engine_add_endpoint() copies it.  Zero
 * values mean "default" as noted.
 */
struct llm_endpoint {
	char *name;
	enum llm_dialect dialect;
	char *url;		/* base URL, see the dialect paths */
	char *model;
	char *key_env;		/* env var holding the key, or NULL */
	char *key_file;		/* private file holding the key, or NULL */

	unsigned concurrency;	/* in-flight cap; 0: 4 */
	unsigned rpm;		/* requests per minute; 0: unlimited */
	unsigned itpm;		/* input tokens per minute; 0: unlimited */
	unsigned otpm;		/* output tokens per minute; 0: unlimited */
	struct llm_price price;

	char **headers;		/* extra "Name: value" headers */
	size_t nr_headers;

	int64_t connect_timeout_ms;	/* 0: 10 s */
	int64_t timeout_ms;		/* overall per attempt; 0: 600 s */
	/* longest server hint waited for; longer ones: RETRY_LATER; 0: 60 s */
	int64_t max_retry_delay_ms;
	unsigned max_attempts;		/* 0: 6 */
	size_t max_response_bytes;	/* 0: 8 MiB */
	unsigned breaker_threshold;	/* consecutive failures; 0: 5 */
	int64_t breaker_cooldown_ms;	/* 0: 30 s */
	char *fallback;			/* endpoint name, or NULL */

	/* openai: "max_completion_tokens" (default) or "max_tokens". */
	char *max_tokens_field;
	bool no_temperature;	/* never send temperature/top_p */
	bool no_seed;		/* never send seed */
	uint32_t default_max_tokens;	/* 0: 4096 (anthropic needs one) */
	char *anthropic_version;	/* 0: "2023-06-01" */

	/*
	 * Streaming: long calls need it (idle connections get dropped and
	 * Anthropic recommends it), and only a stream can be watched for
	 * stalls: no byte for 'idle_timeout_ms' fails the attempt as a
	 * retryable timeout.  Local servers may say nothing while they
	 * process a long prompt, hence no streaming there by default.
	 */
	enum llm_stream_mode stream;
	int64_t idle_timeout_ms;	/* streams only; 0: 120 s */

	/*
	 * Local servers (llama.cpp) answer 503 on GET <root>/health while
	 * the model loads.  With 'health_probe' the engine polls that URL
	 * before the endpoint's first request and holds its calls until it
	 * answers 200, for at most 'health_timeout_ms' (0: 300 s).
	 */
	bool health_probe;
	int64_t health_timeout_ms;
};

void llm_endpoint_release(struct llm_endpoint *ep);
/* True if requests to 'ep' ask for a streamed response. */
bool llm_endpoint_streams(const struct llm_endpoint *ep);
/*
 * The health URL probed for 'ep': scheme and authority of its base URL
 * followed by "/health".  Caller frees.
 */
char *llm_endpoint_health_url(const struct llm_endpoint *ep);
void llm_endpoint_copy(struct llm_endpoint *dst, const struct llm_endpoint *src);

/*
 * Read the endpoint's key into 'out' (trailing newline stripped).  No
 * source configured gives "" (keyless local servers).  A key_file
 * readable by group or others is refused with -EPERM; the message in
 * 'err' names the file and variable, never the key.
 */
int llm_endpoint_load_key(struct strbuf *out, const struct llm_endpoint *ep,
			  struct strbuf *err);

/* ---- the `endpoints:` config section (llm_config.c) ------------------ */

struct yamlnode;

/* All configured endpoints, in file order. */
struct llm_config {
	struct llm_endpoint *eps;
	size_t nr;
};

/*
 * config_parse_fn for the top-level key 'endpoints' (a sequence of
 * mappings, keys documented in llm_config.c and kreview.yaml(5)).
 * 'field' points at a 'struct llm_config *' member: it is set to a new
 * llm_config, or NULL when the key is absent (local autodetection).
 * Reports every problem as "FILE:LINE:COL: message" into 'err' and
 * returns -EINVAL.  Duplicate names, unknown fallbacks, both key_env
 * and key_file, and non-http(s) URLs are errors.
 */
int llm_config_parse(void *field, const struct yamlnode *node,
		     struct strbuf *err);
/* config_release_fn pairing with llm_config_parse(). */
void llm_config_release(void *field);
/* Borrowed endpoint by name, or NULL. */
const struct llm_endpoint *llm_config_find(const struct llm_config *c,
					   const char *name);

/*
 * With no endpoint configured: look for a local OpenAI-dialect server
 * (llama.cpp on 127.0.0.1:8080, Ollama on 127.0.0.1:11434, or the base
 * URLs in $KREVIEW_LOCAL_URLS, separated by spaces or commas) by asking
 * each for its model list with a short timeout.  The first that
 * answers becomes a one-endpoint config named "local" with its first
 * model, set in '*out'; 'note' (may be NULL) says which.  -ENOENT when
 * none answers.
 */
int llm_local_detect(struct llm_config **out, struct strbuf *note);

/* ---- dialects: pure encode / decode / classify ----------------------- */

/* One encoded HTTP request. */
struct llm_http {
	char *url;
	char **headers;		/* "Name: value"; may contain the key */
	size_t nr_headers, alloc_headers;
	struct strbuf body;
};

void llm_http_init(struct llm_http *h);
void llm_http_release(struct llm_http *h);

/*
 * Render 'req' for 'ep' (its dialect, model, options) with API key 'key'
 * ("" for none).  'h' must be initialised; it is filled on success.
 * -EINVAL with a message in 'err' for requests the dialect cannot
 * express (invalid tool schema JSON, empty request, ...).
 */
int llm_encode(struct llm_http *h, const struct llm_endpoint *ep,
	       const char *key, const struct llm_request *req,
	       struct strbuf *err);

/*
 * Decode a 2xx response body.  'hdr' may be NULL.  On success 'out'
 * (released) is filled; -EPROTO with a message if the body is not the
 * expected JSON shape.
 */
int llm_decode(struct llm_response *out, enum llm_dialect d,
	       const char *body, size_t len, llm_header_fn hdr, void *hdr_data,
	       struct strbuf *err);

/*
 * Classify a non-2xx response by status, body (JSON or not) and
 * headers.  Never fails; unknown bodies fall back to the status.
 */
void llm_classify(struct llm_error_info *out, enum llm_dialect d, long status,
		  const char *body, size_t len, llm_header_fn hdr,
		  void *hdr_data);

/*
 * Parse a duration: Go style ("1.5s", "6m0s", "12ms") or protobuf
 * ("37s").  Return milliseconds or -1 if unparseable.
 */
int64_t llm_parse_duration_ms(const char *s);

/* ---- the engine ------------------------------------------------------ */

struct llm_engine;

struct llm_engine_opts {
	/*
	 * Multiply every wait (server hint or backoff) by this factor
	 * before sleeping; 0 means 1.  Tests use small factors; the
	 * recorded delays are the unscaled ones.
	 */
	double delay_scale;
	uint64_t seed;		/* jitter PRNG seed; 0: from the clock */
	/* Backoff base and cap (full jitter); 0: 1 s and 60 s. */
	int64_t backoff_base_ms, backoff_max_ms;
	/*
	 * Interactive callers: a call to an endpoint whose circuit breaker
	 * is open, with no fallback left, fails at once (circuit-open)
	 * instead of waiting for the cool-down.
	 */
	bool fail_fast;
};

#define LLM_ENGINE_OPTS_INIT { 1.0, 0, 0, 0, false }

/* One attempt of a call, in order. */
struct llm_attempt {
	char endpoint[64];
	long status;		/* HTTP status, 0 if none */
	int curl_code;		/* CURLcode, 0 if fine */
	enum llm_class cls;
	int64_t delay_ms;	/* wait chosen before the next attempt */
	int64_t elapsed_ms;
	char request_id[128];
};

/*
 * The outcome handed to a completion callback.  'ret' is 0 on success
 * (then 'resp' is filled), else a negative errno: -EAGAIN retries
 * exhausted, -EPERM terminal quota/auth, -E2BIG context overflow or
 * response cap, -EPROTO bad output, -ETIMEDOUT, -ECONNREFUSED circuit
 * open, -EINVAL bad request, -EBUSY retry later (LLM_CLASS_RETRY_LATER:
 * submit again after 'retry_after_ms').  'cls' and 'error' say why.
 *
 * An endpoint disabled by a terminal quota class stays disabled until
 * the reset the provider announced (retry-after header or a body
 * delay such as Gemini's RetryInfo), or for the engine's lifetime when
 * it announced none.
 */
struct llm_result {
	int ret;
	enum llm_class cls;
	struct strbuf error;	/* one line, never contains the key */
	struct llm_response resp;
	struct llm_attempt *attempts;
	size_t nr_attempts, alloc_attempts;
	const char *endpoint;	/* name of the endpoint that answered */
	double cost;		/* USD from that endpoint's price table */
	int64_t elapsed_ms;
	int64_t retry_after_ms;		/* RETRY_LATER: the server's wait */
	struct llm_error_info info;	/* of the last failed attempt */
};

void llm_result_release(struct llm_result *r);

/*
 * Called once per submitted request from inside llm_engine_run_once().
 * 'res' is owned by the engine and valid only during the call; move
 * what you keep (llm_response_move()).  The callback may submit new
 * requests.
 */
typedef void (*llm_done_fn)(struct llm_result *res, void *data);

int llm_engine_new(struct llm_engine **out, const struct llm_engine_opts *opts,
		   struct strbuf *err);
/* Cancels unfinished calls without calling their callbacks. */
void llm_engine_free(struct llm_engine *e);

/* Copy 'ep' into the engine and load its key; -EEXIST on a dup name. */
int llm_engine_add_endpoint(struct llm_engine *e, const struct llm_endpoint *ep,
			    struct strbuf *err);
/*
 * (Re-)arm the readiness probe of endpoint 'name' (see health_probe):
 * its next calls wait until GET <root>/health answers 200, polling every
 * 0.5 s for at most health_timeout_ms; then they fail with the class
 * LLM_CLASS_TIMEOUT, or move to the fallback.  -ENOENT if unknown.
 */
int llm_engine_probe(struct llm_engine *e, const char *name);
/* Borrowed view of a registered endpoint, NULL if unknown. */
const struct llm_endpoint *llm_engine_endpoint(struct llm_engine *e,
					       const char *name);

/*
 * Queue 'req' for endpoint 'endpoint'.  'req' is borrowed: it must stay
 * alive and unchanged until 'done' has run (fallback re-encodes it).
 * -ENOENT for an unknown endpoint, -EINVAL if it cannot be encoded; then
 * 'done' is never called.
 */
int llm_engine_submit(struct llm_engine *e, const char *endpoint,
		      const struct llm_request *req, llm_done_fn done,
		      void *data, struct strbuf *err);

/*
 * One turn of the loop: start due transfers, poll at most 'timeout_ms'
 * (shortened to the next due retry), finish transfers and run
 * callbacks.  Return the number of calls still pending, or -errno.
 */
int llm_engine_run_once(struct llm_engine *e, int timeout_ms);
/* run_once until no call is pending. */
int llm_engine_run(struct llm_engine *e);
/* Calls queued or in flight. */
size_t llm_engine_pending(const struct llm_engine *e);

/* Usage summed over every finished call (a job's total) and its cost. */
void llm_engine_usage(struct llm_usage *out, double *cost_out,
		      const struct llm_engine *e);
/* Reset the job totals. */
void llm_engine_usage_reset(struct llm_engine *e);

/* Cost in USD of 'u' at 'p' (per million tokens). */
double llm_cost(const struct llm_usage *u, const struct llm_price *p);

/* ---- conversations: tool loop and structured output ------------------ */

/*
 * A tool callback: 'args' is the JSON object text the model sent.
 * Append the result text to 'out'; return 0, or a negative errno to
 * report a tool failure (the text in 'out' goes back with is_error).
 */
typedef int (*llm_tool_fn)(struct strbuf *out, const char *args, void *data);

struct llm_conv_opts {
	unsigned max_turns;		/* model calls; 0: 8 */
	size_t max_tool_bytes;		/* all tool results; 0: 256 KiB */
	unsigned max_repairs;		/* schema re-asks; 0: 1 */
};

/*
 * The outcome of a conversation.  On success 'text' is the final answer
 * and, with a schema, 'json' the validated object text.
 */
struct llm_conv_result {
	int ret;
	enum llm_class cls;
	struct strbuf error;
	struct strbuf text;
	struct strbuf json;
	struct llm_usage usage;		/* summed over all calls */
	double cost;
	unsigned calls, repairs, tool_calls;
	size_t tool_bytes;
};

typedef void (*llm_conv_done_fn)(struct llm_conv_result *res, void *data);

struct llm_conv;

/*
 * Start a conversation on 'endpoint'.  The conversation takes over
 * 'req' (it is left released) and appends turns to it.  Tools are
 * registered with llm_conv_add_tool() before llm_conv_start().  'done'
 * runs once; the conversation frees itself after it returns.
 */
int llm_conv_new(struct llm_conv **out, struct llm_engine *e,
		 const char *endpoint, struct llm_request *req,
		 const struct llm_conv_opts *opts, llm_conv_done_fn done,
		 void *data, struct strbuf *err);
/* Register a tool; 'schema' is the arguments' JSON Schema text. */
void llm_conv_add_tool(struct llm_conv *c, const char *name,
		       const char *description, const char *schema,
		       llm_tool_fn fn, void *data);
/* Submit the first call; on failure the conversation is freed. */
int llm_conv_start(struct llm_conv *c, struct strbuf *err);

void llm_conv_result_init(struct llm_conv_result *r);
void llm_conv_result_release(struct llm_conv_result *r);

/*
 * One conversation without tools, for callers with no loop of their
 * own (commands): start it on 'endpoint', taking over 'req' as
 * llm_conv_new() does, and run 'e' until it ends.  'out' (initialised)
 * then holds the outcome, out->ret saying whether the conversation
 * succeeded; the return is 0.  A conversation that cannot start gives
 * its negative errno with the reason in 'err' (nothing is sent); a
 * failure of the engine itself gives -EIO, and the unfinished call is
 * left to the engine, which must be freed rather than run again.
 */
int llm_conv_run(struct llm_conv_result *out, struct llm_engine *e,
		 const char *endpoint, struct llm_request *req,
		 const struct llm_conv_opts *opts, struct strbuf *err);

#endif
