/*
 * llm_anthropic.c - the Anthropic Messages dialect.
 *
 * Cache breakpoints: one on the last block of the request's shared
 * prefix (system blocks), plus the latest turns marked cache_mark, at
 * most four in all as the API allows.  Adjacent turns of one role are
 * merged because the API wants strictly alternating roles, and
 * tool_result blocks go first in their user turn.
 */
#include "kreview/common.h"
#include "llm_priv.h"

#define MAX_BREAKPOINTS 4

static struct json_object *cache_control(void)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "type", json_object_new_string("ephemeral"));
	return c;
}

static struct json_object *text_block(const char *text)
{
	struct json_object *b = json_object_new_object();

	json_object_object_add(b, "type", json_object_new_string("text"));
	json_object_object_add(b, "text", json_object_new_string(text));
	return b;
}

static int add_blocks(struct json_object *content, const struct llm_turn *t,
		      struct strbuf *err)
{
	int ret;

	/* pass 0: tool results, pass 1: everything else */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < t->nr; i++) {
			const struct llm_part *p = &t->parts[i];
			struct json_object *b, *input;

			if ((p->type == LLM_PART_TOOL_RESULT) != (pass == 0))
				continue;
			switch (p->type) {
			case LLM_PART_TEXT:
				if (!*p->text)
					continue; /* empty blocks are refused */
				json_object_array_add(content,
						      text_block(p->text));
				break;
			case LLM_PART_TOOL_CALL:
				ret = llm_jparse_object(&input, p->args,
							"tool call arguments",
							err);
				if (ret < 0)
					return ret;
				b = json_object_new_object();
				json_object_object_add(
					b, "type",
					json_object_new_string("tool_use"));
				json_object_object_add(
					b, "id", llm_jnew_str(p->id ? p->id : ""));
				json_object_object_add(
					b, "name", json_object_new_string(p->name));
				json_object_object_add(b, "input", input);
				json_object_array_add(content, b);
				break;
			case LLM_PART_TOOL_RESULT:
				b = json_object_new_object();
				json_object_object_add(
					b, "type",
					json_object_new_string("tool_result"));
				json_object_object_add(
					b, "tool_use_id",
					llm_jnew_str(p->id ? p->id : ""));
				json_object_object_add(
					b, "content",
					json_object_new_string(p->text));
				json_object_object_add(
					b, "is_error",
					json_object_new_boolean(p->is_error));
				json_object_array_add(content, b);
				break;
			}
		}
	}
	return 0;
}

static int encode(struct llm_http *h, const struct llm_endpoint *ep,
		  const char *key, const struct llm_request *req,
		  struct strbuf *err)
{
	struct json_object *root = json_object_new_object();
	struct json_object *msgs, *content = NULL, *cur = NULL;
	unsigned budget = MAX_BREAKPOINTS, marks = 0;
	enum llm_role last_role = LLM_ROLE_USER;
	int ret;

	json_object_object_add(root, "model",
			       json_object_new_string(ep->model));
	json_object_object_add(root, "max_tokens",
			       json_object_new_int64(llm_max_tokens(ep, req)));
	if (req->nr_system || req->schema) {
		struct json_object *sys = json_object_new_array();

		for (size_t i = 0; i < req->nr_system; i++) {
			struct json_object *b = text_block(req->system[i]);

			if (req->prefix_blocks && i == req->prefix_blocks - 1) {
				json_object_object_add(b, "cache_control",
						       cache_control());
				budget--;
			}
			json_object_array_add(sys, b);
		}
		/* No schema field in this API: ask in words, validate later. */
		if (req->schema) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "Answer with only one JSON object, no "
					 "prose and no code fence, that "
					 "validates against this JSON Schema:\n%s",
				    req->schema);
			json_object_array_add(sys, text_block(sb.buf));
			strbuf_release(&sb);
		}
		json_object_object_add(root, "system", sys);
	}
	if (req->nr_tools) {
		struct json_object *tools = json_object_new_array();
		struct json_object *tc = json_object_new_object();
		static const char *const choice[] = {
			[LLM_TOOL_AUTO] = "auto",
			[LLM_TOOL_NONE] = "none",
			[LLM_TOOL_REQUIRED] = "any",
			[LLM_TOOL_NAMED] = "tool",
		};

		json_object_object_add(root, "tools", tools);
		for (size_t i = 0; i < req->nr_tools; i++) {
			const struct llm_tool *t = &req->tools[i];
			struct json_object *o = json_object_new_object();
			struct json_object *schema;

			json_object_array_add(tools, o);
			json_object_object_add(o, "name",
					       json_object_new_string(t->name));
			if (t->description)
				json_object_object_add(
					o, "description",
					json_object_new_string(t->description));
			ret = llm_jparse_object(&schema, t->schema,
						"tool schema", err);
			if (ret < 0) {
				json_object_put(tc);
				goto fail;
			}
			json_object_object_add(o, "input_schema", schema);
		}
		json_object_object_add(tc, "type",
				       json_object_new_string(
					       choice[req->tool_choice]));
		if (req->tool_choice == LLM_TOOL_NAMED)
			json_object_object_add(
				tc, "name",
				llm_jnew_str(req->tool_choice_name ?
						     req->tool_choice_name :
						     ""));
		json_object_object_add(root, "tool_choice", tc);
	}

	/* Breakpoints left for turns go to the latest marked ones. */
	for (size_t i = 0; i < req->nr_turns; i++)
		marks += req->turns[i].cache_mark;

	msgs = json_object_new_array();
	json_object_object_add(root, "messages", msgs);
	for (size_t i = 0; i < req->nr_turns; i++) {
		const struct llm_turn *t = &req->turns[i];

		if (!cur || t->role != last_role) {
			cur = json_object_new_object();
			content = json_object_new_array();
			json_object_object_add(
				cur, "role",
				json_object_new_string(t->role == LLM_ROLE_USER ?
							       "user" :
							       "assistant"));
			json_object_object_add(cur, "content", content);
			json_object_array_add(msgs, cur);
			last_role = t->role;
		}
		ret = add_blocks(content, t, err);
		if (ret < 0)
			goto fail;
		if (t->cache_mark) {
			size_t n = json_object_array_length(content);

			if (marks <= budget && n)
				json_object_object_add(
					json_object_array_get_idx(content,
								  n - 1),
					"cache_control", cache_control());
			marks--;
		}
	}
	if (llm_send_temperature(ep, req))
		json_object_object_add(root, "temperature",
				       llm_jnew_double(req->sampling.temperature));
	if (llm_send_top_p(ep, req))
		json_object_object_add(root, "top_p",
				       llm_jnew_double(req->sampling.top_p));
	json_object_object_add(root, "stream",
			       json_object_new_boolean(llm_endpoint_streams(ep)));

	h->url = llm_url_join(ep->url, "/v1/messages");
	llm_http_common_headers(h, ep, req);
	if (*key)
		llm_http_add_header(h, "x-api-key: %s", key);
	llm_http_add_header(h, "anthropic-version: %s",
			    ep->anthropic_version ? ep->anthropic_version :
						    "2023-06-01");
	llm_http_set_body(h, root);
	return 0;
fail:
	json_object_put(root);
	return ret;
}

static enum llm_stop map_stop(const char *s)
{
	if (!s)
		return LLM_STOP_OTHER;
	if (!strcmp(s, "end_turn") || !strcmp(s, "stop_sequence"))
		return LLM_STOP_END;
	if (!strcmp(s, "max_tokens") ||
	    !strcmp(s, "model_context_window_exceeded"))
		return LLM_STOP_LENGTH;
	if (!strcmp(s, "tool_use"))
		return LLM_STOP_TOOL;
	if (!strcmp(s, "refusal"))
		return LLM_STOP_REFUSAL;
	return LLM_STOP_OTHER;
}

static int decode(struct llm_response *out, struct json_object *root,
		  struct strbuf *err)
{
	struct json_object *content, *usage, *cc;
	const char *stop;
	size_t n;

	content = llm_jget(root, "content", json_type_array);
	if (!content) {
		strbuf_addstr(err, "response has no content array");
		return -EPROTO;
	}
	n = json_object_array_length(content);
	for (size_t i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(content, i);
		const char *type = llm_jstr(b, "type");

		if (!type)
			continue;
		if (!strcmp(type, "text")) {
			const char *text = llm_jstr(b, "text");

			if (text)
				llm_turn_add_text(&out->message, text);
		} else if (!strcmp(type, "tool_use")) {
			struct json_object *input =
				llm_jget(b, "input", json_type_object);
			const char *name = llm_jstr(b, "name");
			struct strbuf args = STRBUF_INIT;

			if (!name || !input) {
				strbuf_addf(err, "tool_use block %zu lacks name "
						 "or input", i);
				return -EPROTO;
			}
			llm_json_add(&args, input);
			llm_turn_add_tool_call(&out->message,
					       llm_jstr(b, "id"), name,
					       args.buf);
			strbuf_release(&args);
		}
		/* thinking blocks are not replayed: no extended thinking */
	}
	stop = llm_jstr(root, "stop_reason");
	if (stop)
		out->stop_raw = xstrdup(stop);
	out->stop = map_stop(stop);
	usage = llm_jget(root, "usage", json_type_object);
	out->usage.in_uncached = llm_ju64(usage, "input_tokens");
	out->usage.cache_write = llm_ju64(usage, "cache_creation_input_tokens");
	out->usage.cache_read = llm_ju64(usage, "cache_read_input_tokens");
	out->usage.out = llm_ju64(usage, "output_tokens");
	cc = llm_jget(usage, "cache_creation", json_type_object);
	out->usage.cache_write_1h = llm_ju64(cc, "ephemeral_1h_input_tokens");
	if (out->usage.cache_write_1h > out->usage.cache_write)
		out->usage.cache_write_1h = out->usage.cache_write;
	if (llm_jstr(root, "id"))
		out->request_id = xstrdup(llm_jstr(root, "id"));
	if (llm_jstr(root, "model"))
		out->model = xstrdup(llm_jstr(root, "model"));
	return 0;
}

static void classify(struct llm_error_info *e, long status,
		     struct json_object *root)
{
	struct json_object *err = llm_jget(root, "error", json_type_object);
	struct json_object *details = llm_jget(err, "details", json_type_object);
	const char *type = llm_jstr(err, "type");
	const char *msg = llm_jstr(err, "message");
	const char *code = llm_jstr(details, "error_code");

	llm_error_set_message(e, msg);
	if ((code && !strcmp(code, "enforced_spend_limit_reached")) ||
	    llm_contains(msg, "spend limit")) {
		e->cls = LLM_CLASS_SPEND_LIMIT;
		return;
	}
	if (llm_contains(msg, "prompt is too long")) {
		e->cls = LLM_CLASS_CONTEXT;
		return;
	}
	if (!type)
		return;
	if (!strcmp(type, "overloaded_error"))
		e->cls = LLM_CLASS_OVERLOAD;
	else if (!strcmp(type, "rate_limit_error"))
		e->cls = LLM_CLASS_RATE_LIMIT;
	else if (!strcmp(type, "authentication_error") ||
		 !strcmp(type, "permission_error"))
		e->cls = LLM_CLASS_AUTH;
	else if (!strcmp(type, "api_error") && status >= 500)
		e->cls = LLM_CLASS_SERVER;
}

const struct llm_dialect_ops llm_anthropic_ops = {
	.encode = encode,
	.decode = decode,
	.classify = classify,
	.request_id_header = "request-id",
};
