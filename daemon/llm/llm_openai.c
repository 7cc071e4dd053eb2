/*
 * llm_openai.c - the OpenAI chat completions dialect, also spoken by
 * OpenRouter, llama.cpp's server, Ollama and vLLM.
 */
#include "kreview/common.h"
#include "llm_priv.h"

static struct json_object *message(const char *role)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "role", json_object_new_string(role));
	return m;
}

/* Text parts of a turn joined; NULL if there are none. */
static char *turn_text(const struct llm_turn *t)
{
	struct strbuf sb = STRBUF_INIT;
	bool any = false;

	for (size_t i = 0; i < t->nr; i++) {
		if (t->parts[i].type != LLM_PART_TEXT)
			continue;
		if (any)
			strbuf_addstr(&sb, "\n\n");
		strbuf_addstr(&sb, t->parts[i].text);
		any = true;
	}
	if (!any) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static int add_turn(struct json_object *msgs, const struct llm_turn *t,
		    struct strbuf *err)
{
	char *text = turn_text(t);

	if (t->role == LLM_ROLE_ASSISTANT) {
		struct json_object *m = message("assistant");
		struct json_object *calls = NULL;

		json_object_object_add(m, "content", llm_jnew_str(text));
		for (size_t i = 0; i < t->nr; i++) {
			const struct llm_part *p = &t->parts[i];
			struct json_object *c, *f;

			if (p->type != LLM_PART_TOOL_CALL)
				continue;
			if (!calls)
				calls = json_object_new_array();
			c = json_object_new_object();
			f = json_object_new_object();
			json_object_object_add(c, "id",
					       llm_jnew_str(p->id ? p->id : ""));
			json_object_object_add(c, "type",
					       json_object_new_string("function"));
			json_object_object_add(f, "name",
					       json_object_new_string(p->name));
			/* a string, as the model sent it */
			json_object_object_add(f, "arguments",
					       json_object_new_string(p->args));
			json_object_object_add(c, "function", f);
			json_object_array_add(calls, c);
		}
		if (calls)
			json_object_object_add(m, "tool_calls", calls);
		json_object_array_add(msgs, m);
		free(text);
		return 0;
	}
	/* Tool results are messages of their own and must come first. */
	for (size_t i = 0; i < t->nr; i++) {
		const struct llm_part *p = &t->parts[i];
		struct json_object *m;

		if (p->type != LLM_PART_TOOL_RESULT)
			continue;
		if (!p->id) {
			strbuf_addf(err, "tool result for '%s' has no call id",
				    p->name);
			free(text);
			return -EINVAL;
		}
		m = message("tool");
		json_object_object_add(m, "tool_call_id",
				       json_object_new_string(p->id));
		json_object_object_add(m, "content",
				       json_object_new_string(p->text));
		json_object_array_add(msgs, m);
	}
	if (text) {
		struct json_object *m = message("user");

		json_object_object_add(m, "content",
				       json_object_new_string(text));
		json_object_array_add(msgs, m);
	}
	free(text);
	return 0;
}

static int encode(struct llm_http *h, const struct llm_endpoint *ep,
		  const char *key, const struct llm_request *req,
		  struct strbuf *err)
{
	struct json_object *root = json_object_new_object();
	struct json_object *msgs = json_object_new_array();
	const char *maxf;
	int ret;

	json_object_object_add(root, "model",
			       json_object_new_string(ep->model));
	if (req->nr_system) {
		struct strbuf sys = STRBUF_INIT;
		struct json_object *m = message("system");

		for (size_t i = 0; i < req->nr_system; i++) {
			if (i)
				strbuf_addstr(&sys, "\n\n");
			strbuf_addstr(&sys, req->system[i]);
		}
		json_object_object_add(m, "content",
				       json_object_new_string(sys.buf));
		json_object_array_add(msgs, m);
		strbuf_release(&sys);
	}
	for (size_t i = 0; i < req->nr_turns; i++) {
		ret = add_turn(msgs, &req->turns[i], err);
		if (ret < 0)
			goto fail;
	}
	/*
	 * Tools and the output schema go before the messages: they are the
	 * same for every stage and pass of a patch, and the server renders
	 * them ahead of the conversation too, so the request body's common
	 * prefix is the cacheable part of the prompt.
	 */
	if (req->nr_tools) {
		struct json_object *tools = json_object_new_array();

		json_object_object_add(root, "tools", tools);
		for (size_t i = 0; i < req->nr_tools; i++) {
			const struct llm_tool *t = &req->tools[i];
			struct json_object *o = json_object_new_object();
			struct json_object *f = json_object_new_object();
			struct json_object *params;

			json_object_array_add(tools, o);
			json_object_object_add(o, "type",
					       json_object_new_string("function"));
			json_object_object_add(o, "function", f);
			json_object_object_add(f, "name",
					       json_object_new_string(t->name));
			if (t->description)
				json_object_object_add(
					f, "description",
					json_object_new_string(t->description));
			ret = llm_jparse_object(&params, t->schema,
						"tool schema", err);
			if (ret < 0)
				goto fail;
			json_object_object_add(f, "parameters", params);
		}
		switch (req->tool_choice) {
		case LLM_TOOL_AUTO:
			json_object_object_add(root, "tool_choice",
					       json_object_new_string("auto"));
			break;
		case LLM_TOOL_NONE:
			json_object_object_add(root, "tool_choice",
					       json_object_new_string("none"));
			break;
		case LLM_TOOL_REQUIRED:
			json_object_object_add(root, "tool_choice",
					       json_object_new_string("required"));
			break;
		case LLM_TOOL_NAMED: {
			struct json_object *c = json_object_new_object();
			struct json_object *f = json_object_new_object();

			json_object_object_add(c, "type",
					       json_object_new_string("function"));
			json_object_object_add(
				f, "name",
				llm_jnew_str(req->tool_choice_name ?
						     req->tool_choice_name :
						     ""));
			json_object_object_add(c, "function", f);
			json_object_object_add(root, "tool_choice", c);
			break;
		}
		}
	}
	if (req->schema) {
		struct json_object *rf = json_object_new_object();
		struct json_object *js = json_object_new_object();
		struct json_object *schema;

		ret = llm_jparse_object(&schema, req->schema, "output schema",
					err);
		if (ret < 0) {
			json_object_put(rf);
			json_object_put(js);
			goto fail;
		}
		json_object_object_add(rf, "type",
				       json_object_new_string("json_schema"));
		json_object_object_add(js, "name",
				       json_object_new_string(req->schema_name ?
							req->schema_name :
							"answer"));
		json_object_object_add(js, "strict",
				       json_object_new_boolean(1));
		json_object_object_add(js, "schema", schema);
		json_object_object_add(rf, "json_schema", js);
		json_object_object_add(root, "response_format", rf);
	}
	json_object_object_add(root, "messages", msgs);
	msgs = NULL;
	if (llm_send_temperature(ep, req))
		json_object_object_add(root, "temperature",
				       llm_jnew_double(req->sampling.temperature));
	if (llm_send_top_p(ep, req))
		json_object_object_add(root, "top_p",
				       llm_jnew_double(req->sampling.top_p));
	if (llm_send_seed(ep, req))
		json_object_object_add(root, "seed",
				       json_object_new_int64(req->sampling.seed));
	maxf = ep->max_tokens_field ? ep->max_tokens_field :
				      "max_completion_tokens";
	json_object_object_add(root, maxf,
			       json_object_new_int64(llm_max_tokens(ep, req)));
	if (llm_endpoint_streams(ep)) {
		struct json_object *so = json_object_new_object();

		json_object_object_add(root, "stream",
				       json_object_new_boolean(1));
		/* the last chunk then carries the usage */
		json_object_object_add(so, "include_usage",
				       json_object_new_boolean(1));
		json_object_object_add(root, "stream_options", so);
	} else {
		json_object_object_add(root, "stream",
				       json_object_new_boolean(0));
	}

	h->url = llm_url_join(ep->url, "/chat/completions");
	llm_http_common_headers(h, ep, req);
	if (*key)
		llm_http_add_header(h, "Authorization: Bearer %s", key);
	llm_http_set_body(h, root);
	return 0;
fail:
	json_object_put(msgs);
	json_object_put(root);
	return ret;
}

static enum llm_stop map_finish(const char *f)
{
	if (!f)
		return LLM_STOP_OTHER;
	if (!strcmp(f, "stop"))
		return LLM_STOP_END;
	if (!strcmp(f, "length"))
		return LLM_STOP_LENGTH;
	if (!strcmp(f, "tool_calls") || !strcmp(f, "function_call"))
		return LLM_STOP_TOOL;
	if (!strcmp(f, "content_filter"))
		return LLM_STOP_REFUSAL;
	return LLM_STOP_OTHER;
}

static int decode(struct llm_response *out, struct json_object *root,
		  struct strbuf *err)
{
	struct json_object *choices, *c0, *msg, *calls, *usage, *d;
	const char *content, *refusal, *finish;
	size_t ncalls = 0;
	uint64_t prompt, cached;

	choices = llm_jget(root, "choices", json_type_array);
	if (!choices || json_object_array_length(choices) < 1) {
		strbuf_addstr(err, "response has no choices");
		return -EPROTO;
	}
	c0 = json_object_array_get_idx(choices, 0);
	msg = llm_jget(c0, "message", json_type_object);
	if (!msg) {
		strbuf_addstr(err, "response choice has no message");
		return -EPROTO;
	}
	content = llm_jstr(msg, "content");
	if (content && *content)
		llm_turn_add_text(&out->message, content);
	refusal = llm_jstr(msg, "refusal");
	if (refusal)
		out->refusal = xstrdup(refusal);
	calls = llm_jget(msg, "tool_calls", json_type_array);
	if (calls)
		ncalls = json_object_array_length(calls);
	for (size_t i = 0; i < ncalls; i++) {
		struct json_object *c = json_object_array_get_idx(calls, i);
		struct json_object *f = llm_jget(c, "function", json_type_object);
		const char *name = llm_jstr(f, "name");
		const char *args = llm_jstr(f, "arguments");

		if (!name) {
			strbuf_addf(err, "tool call %zu has no function name", i);
			return -EPROTO;
		}
		llm_turn_add_tool_call(&out->message, llm_jstr(c, "id"), name,
				       args ? args : "{}");
	}
	finish = llm_jstr(c0, "finish_reason");
	if (finish)
		out->stop_raw = xstrdup(finish);
	out->stop = map_finish(finish);
	if (refusal)
		out->stop = LLM_STOP_REFUSAL;
	else if (ncalls && out->stop == LLM_STOP_END)
		out->stop = LLM_STOP_TOOL; /* some local servers say "stop" */

	usage = llm_jget(root, "usage", json_type_object);
	prompt = llm_ju64(usage, "prompt_tokens");
	d = llm_jget(usage, "prompt_tokens_details", json_type_object);
	cached = d ? llm_ju64(d, "cached_tokens") : 0;
	if (!cached)
		cached = llm_ju64(usage, "cached_tokens"); /* llama.cpp style */
	if (cached > prompt)
		cached = prompt;
	out->usage.in_uncached = prompt - cached;
	out->usage.cache_read = cached;
	out->usage.out = llm_ju64(usage, "completion_tokens");
	d = llm_jget(usage, "completion_tokens_details", json_type_object);
	out->usage.reasoning = d ? llm_ju64(d, "reasoning_tokens") : 0;
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
	const char *code = llm_jstr(err, "code");
	const char *type = llm_jstr(err, "type");
	const char *msg = llm_jstr(err, "message");

	if (!err) {
		/* some servers answer {"error": "text"} */
		msg = llm_jstr(root, "error");
		if (!msg)
			msg = llm_jstr(root, "message");
	}
	llm_error_set_message(e, msg);
	if ((code && !strcmp(code, "context_length_exceeded")) ||
	    llm_contains(msg, "maximum context length")) {
		e->cls = LLM_CLASS_CONTEXT;
		return;
	}
	if ((code && !strcmp(code, "insufficient_quota")) ||
	    (type && !strcmp(type, "insufficient_quota"))) {
		e->cls = LLM_CLASS_QUOTA;
		return;
	}
	if (code && !strcmp(code, "invalid_api_key"))
		e->cls = LLM_CLASS_AUTH;
	(void)status;
}

const struct llm_dialect_ops llm_openai_ops = {
	.encode = encode,
	.decode = decode,
	.classify = classify,
	.request_id_header = "x-request-id",
};
