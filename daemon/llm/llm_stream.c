/*
 * llm_stream.c - streamed responses of the three dialects.
 *
 * Each dialect's events are folded into the JSON object its plain
 * (non-streamed) response would have been, and that object goes
 * through the dialect's ordinary decoder.  One decoder per dialect
 * means stop reasons, refusals, usage and signatures are read the same
 * way whether or not the endpoint streams.
 *
 *  openai     chat.completion.chunk objects; delta.content and
 *             delta.refusal pieces are concatenated, tool call
 *             fragments joined per index; the usage chunk (empty
 *             choices, include_usage) is kept; "[DONE]" ends it.
 *  anthropic  message_start (id, model, input usage), blocks opened by
 *             content_block_start and grown by text_delta and
 *             input_json_delta, message_delta (stop reason, cumulative
 *             usage), message_stop ends it; "error" events abort.
 *  gemini     every event is a GenerateContentResponse holding the
 *             next parts; text parts are joined, others kept in order;
 *             the chunk carrying finishReason (or a prompt block) ends
 *             it.
 */
#include "kreview/common.h"
#include "kreview/llm_sse.h"
#include "llm_priv.h"

#define DEF_MAX_BYTES (8u << 20)
#define MAX_BLOCKS 256

struct block {
	bool used;
	char *type;		/* anthropic block type / "function" */
	char *id;
	struct strbuf name;
	struct strbuf text;	/* text, or tool arguments */
	struct strbuf sig;	/* anthropic signature_delta */
	struct json_object *start; /* anthropic content_block as started */
};

struct llm_stream {
	enum llm_dialect dialect;
	struct llm_sse sse;
	size_t max_bytes, total;	/* accumulated answer bytes */
	bool done;
	struct llm_error_info error;
	bool has_error;

	char *id, *model, *stop;
	struct strbuf text, refusal;	/* openai */
	bool has_refusal;
	struct json_object *usage;	/* openai usage / anthropic usage */
	struct json_object *message;	/* anthropic message_start.message */
	struct block blocks[MAX_BLOCKS];
	size_t nr_blocks;
	struct json_object *parts;	/* gemini parts so far */
	struct json_object *feedback;	/* gemini promptFeedback */
	struct strbuf *err;		/* during a feed */
};

static const struct llm_dialect_ops *ops_of(enum llm_dialect d)
{
	switch (d) {
	case LLM_DIALECT_OPENAI:
		return &llm_openai_ops;
	case LLM_DIALECT_ANTHROPIC:
		return &llm_anthropic_ops;
	case LLM_DIALECT_GEMINI:
		return &llm_gemini_ops;
	case LLM_DIALECT_MAX:
		break;
	}
	BUG("bad dialect %d", (int)d);
}

static int on_event(const char *event, const char *data, size_t len,
		    void *ctx);

void llm_stream_new(struct llm_stream **out, enum llm_dialect d,
		    size_t max_bytes)
{
	struct llm_stream *s = xcalloc(1, sizeof(*s));

	(void)ops_of(d);
	s->dialect = d;
	s->max_bytes = max_bytes ? max_bytes : DEF_MAX_BYTES;
	llm_sse_init(&s->sse, s->max_bytes < (1u << 20) ? s->max_bytes : 0,
		     s->max_bytes, on_event, s);
	s->error.delay_ms = -1;
	strbuf_init(&s->text, 0);
	strbuf_init(&s->refusal, 0);
	*out = s;
}

static void block_release(struct block *b)
{
	free(b->type);
	free(b->id);
	strbuf_release(&b->name);
	strbuf_release(&b->text);
	strbuf_release(&b->sig);
	json_object_put(b->start);
	memset(b, 0, sizeof(*b));
}

void llm_stream_free(struct llm_stream *s)
{
	if (!s)
		return;
	llm_sse_release(&s->sse);
	llm_error_info_release(&s->error);
	free(s->id);
	free(s->model);
	free(s->stop);
	strbuf_release(&s->text);
	strbuf_release(&s->refusal);
	json_object_put(s->usage);
	json_object_put(s->message);
	for (size_t i = 0; i < s->nr_blocks; i++)
		block_release(&s->blocks[i]);
	json_object_put(s->parts);
	json_object_put(s->feedback);
	free(s);
}

const struct llm_error_info *llm_stream_error(const struct llm_stream *s)
{
	return s->has_error ? &s->error : NULL;
}

bool llm_stream_complete(const struct llm_stream *s)
{
	return s->done;
}

/* Grow an accumulated string, counting against the stream's cap. */
static int grow(struct llm_stream *s, struct strbuf *sb, const char *p)
{
	size_t n = p ? strlen(p) : 0;

	if (n > s->max_bytes - s->total) {
		strbuf_addf(s->err, "streamed answer larger than %zu bytes",
			    s->max_bytes);
		return -E2BIG;
	}
	s->total += n;
	strbuf_add(sb, p, n);
	return 0;
}

static void set_str(char **dst, const char *v)
{
	if (!v)
		return;
	free(*dst);
	*dst = xstrdup(v);
}

static struct block *block_at(struct llm_stream *s, int64_t idx)
{
	struct block *b;

	if (idx < 0 || idx >= MAX_BLOCKS) {
		strbuf_addf(s->err, "stream block index %lld out of range",
			    (long long)idx);
		return NULL;
	}
	while (s->nr_blocks <= (size_t)idx) {
		b = &s->blocks[s->nr_blocks++];
		strbuf_init(&b->name, 0);
		strbuf_init(&b->text, 0);
		strbuf_init(&b->sig, 0);
	}
	b = &s->blocks[idx];
	b->used = true;
	return b;
}

static int64_t jint(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v = llm_jget(o, key, json_type_int);

	return v ? json_object_get_int64(v) : def;
}

/* An error object inside the stream: classify it like an error body. */
static int stream_error(struct llm_stream *s, struct json_object *root)
{
	llm_error_info_release(&s->error);
	s->error.cls = LLM_CLASS_SERVER;
	s->error.delay_ms = -1;
	ops_of(s->dialect)->classify(&s->error, 0, root);
	if (!llm_class_retryable(s->error.cls) &&
	    s->error.cls != LLM_CLASS_CONTEXT &&
	    s->error.cls != LLM_CLASS_AUTH &&
	    s->error.cls != LLM_CLASS_SPEND_LIMIT &&
	    s->error.cls != LLM_CLASS_QUOTA &&
	    s->error.cls != LLM_CLASS_DAILY_QUOTA)
		s->error.cls = LLM_CLASS_SERVER;
	s->has_error = true;
	strbuf_addf(s->err, "error event in the stream%s%s",
		    s->error.message ? ": " : "",
		    s->error.message ? s->error.message : "");
	return -EREMOTEIO;
}

/* ---- openai ---- */

static int openai_event(struct llm_stream *s, struct json_object *root)
{
	struct json_object *choices, *c0, *delta, *calls, *u;
	const char *fin;
	size_t n;
	int ret;

	if (llm_jget(root, "error", json_type_object))
		return stream_error(s, root);
	set_str(&s->id, llm_jstr(root, "id"));
	set_str(&s->model, llm_jstr(root, "model"));
	u = llm_jget(root, "usage", json_type_object);
	if (u) {
		json_object_put(s->usage);
		s->usage = json_object_get(u);
	}
	choices = llm_jget(root, "choices", json_type_array);
	if (!choices || !json_object_array_length(choices))
		return 0;
	c0 = json_object_array_get_idx(choices, 0);
	fin = llm_jstr(c0, "finish_reason");
	if (fin)
		set_str(&s->stop, fin);
	delta = llm_jget(c0, "delta", json_type_object);
	if (!delta)
		return 0;
	if ((ret = grow(s, &s->text, llm_jstr(delta, "content"))) < 0)
		return ret;
	if (llm_jstr(delta, "refusal")) {
		s->has_refusal = true;
		if ((ret = grow(s, &s->refusal, llm_jstr(delta, "refusal"))) < 0)
			return ret;
	}
	calls = llm_jget(delta, "tool_calls", json_type_array);
	n = calls ? json_object_array_length(calls) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(calls, i);
		struct json_object *f = llm_jget(c, "function", json_type_object);
		struct block *b = block_at(s, jint(c, "index", (int64_t)i));

		if (!b)
			return -EPROTO;
		set_str(&b->id, llm_jstr(c, "id"));
		if (!b->name.len &&
		    (ret = grow(s, &b->name, llm_jstr(f, "name"))) < 0)
			return ret;
		if ((ret = grow(s, &b->text, llm_jstr(f, "arguments"))) < 0)
			return ret;
	}
	return 0;
}

static struct json_object *openai_assemble(struct llm_stream *s)
{
	struct json_object *root = json_object_new_object();
	struct json_object *choices = json_object_new_array();
	struct json_object *c0 = json_object_new_object();
	struct json_object *msg = json_object_new_object();
	struct json_object *calls = json_object_new_array();

	json_object_object_add(root, "id", llm_jnew_str(s->id));
	json_object_object_add(root, "model", llm_jnew_str(s->model));
	json_object_object_add(root, "choices", choices);
	json_object_array_add(choices, c0);
	json_object_object_add(c0, "finish_reason", llm_jnew_str(s->stop));
	json_object_object_add(c0, "message", msg);
	json_object_object_add(msg, "role", json_object_new_string("assistant"));
	json_object_object_add(msg, "content",
			       json_object_new_string_len(s->text.buf,
							  (int)s->text.len));
	if (s->has_refusal)
		json_object_object_add(
			msg, "refusal",
			json_object_new_string_len(s->refusal.buf,
						   (int)s->refusal.len));
	for (size_t i = 0; i < s->nr_blocks; i++) {
		struct block *b = &s->blocks[i];
		struct json_object *c, *f;

		if (!b->used)
			continue;
		c = json_object_new_object();
		f = json_object_new_object();
		json_object_object_add(c, "id", llm_jnew_str(b->id));
		json_object_object_add(c, "type",
				       json_object_new_string("function"));
		json_object_object_add(f, "name",
				       json_object_new_string(b->name.buf));
		json_object_object_add(f, "arguments",
				       json_object_new_string(b->text.buf));
		json_object_object_add(c, "function", f);
		json_object_array_add(calls, c);
	}
	json_object_object_add(msg, "tool_calls", calls);
	if (s->usage)
		json_object_object_add(root, "usage",
				       json_object_get(s->usage));
	return root;
}

/* ---- anthropic ---- */

/* Copy every integer member of 'src' into 'dst' (usage updates). */
static void merge_ints(struct json_object *dst, struct json_object *src)
{
	if (!src)
		return;
	json_object_object_foreach(src, k, v)
	{
		if (json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_object))
			json_object_object_add(dst, k, json_object_get(v));
	}
}

static int anthropic_event(struct llm_stream *s, const char *event,
			   struct json_object *root)
{
	const char *type = llm_jstr(root, "type");
	struct json_object *o, *d;
	struct block *b;
	int ret;

	if (!type)
		type = event;
	if (!strcmp(type, "error") || !strcmp(event, "error"))
		return stream_error(s, root);
	if (!strcmp(type, "message_start")) {
		o = llm_jget(root, "message", json_type_object);
		if (!o) {
			strbuf_addstr(s->err, "message_start without message");
			return -EPROTO;
		}
		json_object_put(s->message);
		s->message = json_object_get(o);
		json_object_put(s->usage);
		s->usage = json_object_new_object();
		merge_ints(s->usage, llm_jget(o, "usage", json_type_object));
	} else if (!strcmp(type, "content_block_start")) {
		o = llm_jget(root, "content_block", json_type_object);
		b = block_at(s, jint(root, "index", -1));
		if (!b || !o || !llm_jstr(o, "type")) {
			if (b)
				strbuf_addstr(s->err, "content_block_start "
						      "without a block");
			return -EPROTO;
		}
		set_str(&b->type, llm_jstr(o, "type"));
		set_str(&b->id, llm_jstr(o, "id"));
		strbuf_reset(&b->name);
		if ((ret = grow(s, &b->name, llm_jstr(o, "name"))) < 0 ||
		    (ret = grow(s, &b->text, llm_jstr(o, "text"))) < 0)
			return ret;
		json_object_put(b->start);
		b->start = json_object_get(o);
	} else if (!strcmp(type, "content_block_delta")) {
		const char *dt;

		d = llm_jget(root, "delta", json_type_object);
		b = block_at(s, jint(root, "index", -1));
		if (!b)
			return -EPROTO;
		dt = llm_jstr(d, "type");
		if (!dt)
			return 0;
		if (!strcmp(dt, "text_delta"))
			return grow(s, &b->text, llm_jstr(d, "text"));
		if (!strcmp(dt, "input_json_delta"))
			return grow(s, &b->text, llm_jstr(d, "partial_json"));
		if (!strcmp(dt, "thinking_delta"))
			return grow(s, &b->text, llm_jstr(d, "thinking"));
		if (!strcmp(dt, "signature_delta"))
			return grow(s, &b->sig, llm_jstr(d, "signature"));
	} else if (!strcmp(type, "message_delta")) {
		d = llm_jget(root, "delta", json_type_object);
		set_str(&s->stop, llm_jstr(d, "stop_reason"));
		if (!s->usage)
			s->usage = json_object_new_object();
		merge_ints(s->usage, llm_jget(root, "usage", json_type_object));
	} else if (!strcmp(type, "message_stop")) {
		s->done = true;
	}
	/* ping, content_block_stop and unknown events carry nothing */
	return 0;
}

static struct json_object *anthropic_assemble(struct llm_stream *s)
{
	struct json_object *root = json_object_new_object();
	struct json_object *content = json_object_new_array();

	if (s->message) {
		json_object_object_add(root, "id",
				       llm_jnew_str(llm_jstr(s->message, "id")));
		json_object_object_add(
			root, "model",
			llm_jnew_str(llm_jstr(s->message, "model")));
	}
	json_object_object_add(root, "content", content);
	for (size_t i = 0; i < s->nr_blocks; i++) {
		struct block *b = &s->blocks[i];
		struct json_object *o, *input = NULL;

		if (!b->used || !b->type)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "type",
				       json_object_new_string(b->type));
		if (!strcmp(b->type, "text")) {
			json_object_object_add(
				o, "text",
				json_object_new_string_len(b->text.buf,
							   (int)b->text.len));
		} else if (!strcmp(b->type, "tool_use")) {
			json_object_object_add(o, "id", llm_jnew_str(b->id));
			json_object_object_add(
				o, "name", json_object_new_string(b->name.buf));
			if (!b->text.len)
				input = json_object_get(llm_jget(
					b->start, "input", json_type_object));
			else if (llm_json_parse(&input, b->text.buf,
						b->text.len, NULL) < 0 ||
				 !json_object_is_type(input, json_type_object)) {
				/* replaced by the raw text after decoding */
				json_object_put(input);
				input = NULL;
			}
			json_object_object_add(o, "input",
					       input ? input :
						       json_object_new_object());
		}
		json_object_array_add(content, o);
	}
	json_object_object_add(root, "stop_reason", llm_jnew_str(s->stop));
	if (s->usage)
		json_object_object_add(root, "usage",
				       json_object_get(s->usage));
	return root;
}

/* Tool arguments that did not parse go to the caller as sent. */
static void anthropic_fixup(struct llm_response *r, struct llm_stream *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nr_blocks; i++) {
		struct block *b = &s->blocks[i];
		struct json_object *o = NULL;

		if (!b->used || !b->type || strcmp(b->type, "tool_use"))
			continue;
		while (k < r->message.nr &&
		       r->message.parts[k].type != LLM_PART_TOOL_CALL)
			k++;
		if (k == r->message.nr)
			return;
		if (b->text.len &&
		    (llm_json_parse(&o, b->text.buf, b->text.len, NULL) < 0 ||
		     !json_object_is_type(o, json_type_object))) {
			free(r->message.parts[k].args);
			r->message.parts[k].args = xstrdup(b->text.buf);
		}
		json_object_put(o);
		k++;
	}
}

/* ---- gemini ---- */

static int gemini_event(struct llm_stream *s, struct json_object *root)
{
	struct json_object *cands, *c0, *content, *parts, *u, *pf;
	const char *fin;
	size_t n;

	if (llm_jget(root, "error", json_type_object))
		return stream_error(s, root);
	if (!s->parts)
		s->parts = json_object_new_array();
	set_str(&s->id, llm_jstr(root, "responseId"));
	set_str(&s->model, llm_jstr(root, "modelVersion"));
	u = llm_jget(root, "usageMetadata", json_type_object);
	if (u) {
		json_object_put(s->usage);
		s->usage = json_object_get(u);
	}
	pf = llm_jget(root, "promptFeedback", json_type_object);
	if (pf) {
		json_object_put(s->feedback);
		s->feedback = json_object_get(pf);
		if (llm_jstr(pf, "blockReason"))
			s->done = true;
	}
	cands = llm_jget(root, "candidates", json_type_array);
	if (!cands || !json_object_array_length(cands))
		return 0;
	c0 = json_object_array_get_idx(cands, 0);
	fin = llm_jstr(c0, "finishReason");
	content = llm_jget(c0, "content", json_type_object);
	parts = llm_jget(content, "parts", json_type_array);
	n = parts ? json_object_array_length(parts) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(parts, i);
		size_t have = json_object_array_length(s->parts);
		struct json_object *last = have ?
			json_object_array_get_idx(s->parts, have - 1) : NULL;
		const char *text = llm_jstr(p, "text");
		size_t tl = text ? strlen(text) : 0;

		if (!json_object_is_type(p, json_type_object))
			continue;
		if (tl > s->max_bytes - s->total) {
			strbuf_addf(s->err, "streamed answer larger than %zu "
					    "bytes", s->max_bytes);
			return -E2BIG;
		}
		s->total += tl;
		/* join plain text pieces; keep everything else as sent */
		if (text && last && llm_jstr(last, "text") &&
		    !llm_jget(p, "thought", json_type_boolean) &&
		    !llm_jget(last, "thought", json_type_boolean) &&
		    !llm_jstr(last, "thoughtSignature")) {
			struct strbuf sb = STRBUF_INIT;
			const char *sig = llm_jstr(p, "thoughtSignature");

			strbuf_addstr(&sb, llm_jstr(last, "text"));
			strbuf_addstr(&sb, text);
			json_object_object_add(last, "text",
					       json_object_new_string_len(
						       sb.buf, (int)sb.len));
			if (sig)
				json_object_object_add(
					last, "thoughtSignature",
					json_object_new_string(sig));
			strbuf_release(&sb);
		} else {
			json_object_array_add(s->parts, json_object_get(p));
		}
	}
	if (fin) {
		set_str(&s->stop, fin);
		s->done = true;
	}
	return 0;
}

static struct json_object *gemini_assemble(struct llm_stream *s)
{
	struct json_object *root = json_object_new_object();

	if (s->parts && (json_object_array_length(s->parts) || s->stop)) {
		struct json_object *cands = json_object_new_array();
		struct json_object *c0 = json_object_new_object();
		struct json_object *content = json_object_new_object();

		json_object_object_add(content, "role",
				       json_object_new_string("model"));
		json_object_object_add(content, "parts",
				       json_object_get(s->parts));
		json_object_object_add(c0, "content", content);
		json_object_object_add(c0, "finishReason",
				       llm_jnew_str(s->stop));
		json_object_array_add(cands, c0);
		json_object_object_add(root, "candidates", cands);
	}
	if (s->feedback)
		json_object_object_add(root, "promptFeedback",
				       json_object_get(s->feedback));
	if (s->usage)
		json_object_object_add(root, "usageMetadata",
				       json_object_get(s->usage));
	json_object_object_add(root, "responseId", llm_jnew_str(s->id));
	json_object_object_add(root, "modelVersion", llm_jnew_str(s->model));
	return root;
}

/* ---- framing and entry points ---- */

static int on_event(const char *event, const char *data, size_t len,
		    void *ctx)
{
	struct llm_stream *s = ctx;
	struct json_object *root = NULL;
	struct strbuf jerr = STRBUF_INIT;
	int ret;

	if (s->done && s->dialect != LLM_DIALECT_GEMINI)
		return 0; /* nothing after the end marker matters */
	if (s->dialect == LLM_DIALECT_OPENAI && len == 6 &&
	    !memcmp(data, "[DONE]", 6)) {
		s->done = true;
		return 0;
	}
	if (s->dialect == LLM_DIALECT_ANTHROPIC && !strcmp(event, "ping"))
		return 0;
	if (llm_json_parse(&root, data, len, &jerr) < 0 ||
	    !json_object_is_type(root, json_type_object)) {
		strbuf_addf(s->err, "stream event %zu is not a JSON object%s%s",
			    s->sse.nr_events, jerr.len ? ": " : "", jerr.buf);
		ret = -EPROTO;
		goto out;
	}
	switch (s->dialect) {
	case LLM_DIALECT_OPENAI:
		ret = openai_event(s, root);
		break;
	case LLM_DIALECT_ANTHROPIC:
		ret = anthropic_event(s, event, root);
		break;
	default:
		ret = gemini_event(s, root);
		break;
	}
out:
	json_object_put(root);
	strbuf_release(&jerr);
	return ret;
}

int llm_stream_feed(struct llm_stream *s, const char *buf, size_t len,
		    struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	int ret;

	if (s->has_error)
		return -EREMOTEIO;
	s->err = err ? err : &tmp;
	ret = llm_sse_feed(&s->sse, buf, len, s->err);
	s->err = NULL;
	strbuf_release(&tmp);
	return ret;
}

int llm_stream_finish(struct llm_response *out, struct llm_stream *s,
		      struct strbuf *err)
{
	struct llm_response tmp;
	struct json_object *root;
	int ret;

	if (!s->done) {
		strbuf_addstr(err, "stream ended before its end marker");
		return -EPIPE;
	}
	switch (s->dialect) {
	case LLM_DIALECT_OPENAI:
		root = openai_assemble(s);
		break;
	case LLM_DIALECT_ANTHROPIC:
		root = anthropic_assemble(s);
		break;
	default:
		root = gemini_assemble(s);
		break;
	}
	memset(&tmp, 0, sizeof(tmp));
	tmp.message.role = LLM_ROLE_ASSISTANT;
	ret = ops_of(s->dialect)->decode(&tmp, root, err);
	json_object_put(root);
	if (ret < 0) {
		llm_response_release(&tmp);
		return -EPROTO;
	}
	if (s->dialect == LLM_DIALECT_ANTHROPIC)
		anthropic_fixup(&tmp, s);
	llm_response_release(out);
	llm_response_move(out, &tmp);
	return 0;
}
