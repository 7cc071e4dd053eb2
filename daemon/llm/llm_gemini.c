/*
 * llm_gemini.c - the Gemini generateContent dialect.
 *
 * Schemas go to Gemini's OpenAPI subset, which refuses
 * additionalProperties and $schema: those keywords are stripped (the
 * engine still validates the full schema in code).  thoughtSignature
 * values are kept on their parts and sent back byte for byte.
 */
#include "kreview/common.h"
#include "llm_priv.h"

static void strip_schema(struct json_object *o, unsigned depth)
{
	if (depth > LLM_JSON_MAX_DEPTH)
		return;
	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);

		for (size_t i = 0; i < n; i++)
			strip_schema(json_object_array_get_idx(o, i), depth + 1);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_del(o, "additionalProperties");
	json_object_object_del(o, "$schema");
	json_object_object_foreach(o, k, v)
	{
		/* property names are user data, not keywords */
		if (!strcmp(k, "properties") &&
		    json_object_is_type(v, json_type_object)) {
			json_object_object_foreach(v, pk, pv)
			{
				(void)pk;
				strip_schema(pv, depth + 1);
			}
		} else {
			strip_schema(v, depth + 1);
		}
	}
}

static int parse_schema(struct json_object **out, const char *text,
			const char *what, struct strbuf *err)
{
	int ret = llm_jparse_object(out, text, what, err);

	if (ret == 0)
		strip_schema(*out, 0);
	return ret;
}

static int add_parts(struct json_object *parts, const struct llm_turn *t,
		     struct strbuf *err)
{
	int ret;

	for (size_t i = 0; i < t->nr; i++) {
		const struct llm_part *p = &t->parts[i];
		struct json_object *part = json_object_new_object();
		struct json_object *o, *args, *resp;

		switch (p->type) {
		case LLM_PART_TEXT:
			json_object_object_add(part, "text",
					       json_object_new_string(p->text));
			break;
		case LLM_PART_TOOL_CALL:
			ret = llm_jparse_object(&args, p->args,
						"tool call arguments", err);
			if (ret < 0) {
				json_object_put(part);
				return ret;
			}
			o = json_object_new_object();
			if (p->id)
				json_object_object_add(
					o, "id", json_object_new_string(p->id));
			json_object_object_add(o, "name",
					       json_object_new_string(p->name));
			json_object_object_add(o, "args", args);
			json_object_object_add(part, "functionCall", o);
			break;
		case LLM_PART_TOOL_RESULT:
			o = json_object_new_object();
			resp = json_object_new_object();
			if (p->id)
				json_object_object_add(
					o, "id", json_object_new_string(p->id));
			json_object_object_add(o, "name",
					       json_object_new_string(p->name));
			json_object_object_add(resp,
					       p->is_error ? "error" : "content",
					       json_object_new_string(p->text));
			json_object_object_add(o, "response", resp);
			json_object_object_add(part, "functionResponse", o);
			break;
		}
		if (p->signature)
			json_object_object_add(
				part, "thoughtSignature",
				json_object_new_string(p->signature));
		json_object_array_add(parts, part);
	}
	return 0;
}

static int encode(struct llm_http *h, const struct llm_endpoint *ep,
		  const char *key, const struct llm_request *req,
		  struct strbuf *err)
{
	struct json_object *root = json_object_new_object();
	struct json_object *contents, *parts = NULL, *gen;
	enum llm_role last_role = LLM_ROLE_USER;
	struct strbuf path = STRBUF_INIT;
	int ret;

	if (req->nr_system) {
		struct json_object *si = json_object_new_object();
		struct json_object *sp = json_object_new_array();

		for (size_t i = 0; i < req->nr_system; i++) {
			struct json_object *p = json_object_new_object();

			json_object_object_add(
				p, "text", json_object_new_string(req->system[i]));
			json_object_array_add(sp, p);
		}
		json_object_object_add(si, "parts", sp);
		json_object_object_add(root, "systemInstruction", si);
	}
	contents = json_object_new_array();
	json_object_object_add(root, "contents", contents);
	for (size_t i = 0; i < req->nr_turns; i++) {
		const struct llm_turn *t = &req->turns[i];

		if (!parts || t->role != last_role) {
			struct json_object *c = json_object_new_object();

			parts = json_object_new_array();
			json_object_object_add(
				c, "role",
				json_object_new_string(t->role == LLM_ROLE_USER ?
							       "user" :
							       "model"));
			json_object_object_add(c, "parts", parts);
			json_object_array_add(contents, c);
			last_role = t->role;
		}
		ret = add_parts(parts, t, err);
		if (ret < 0)
			goto fail;
	}
	if (req->nr_tools) {
		struct json_object *tools = json_object_new_array();
		struct json_object *wrap = json_object_new_object();
		struct json_object *decls = json_object_new_array();
		struct json_object *tc = json_object_new_object();
		struct json_object *fcc = json_object_new_object();
		static const char *const mode[] = {
			[LLM_TOOL_AUTO] = "AUTO",
			[LLM_TOOL_NONE] = "NONE",
			[LLM_TOOL_REQUIRED] = "ANY",
			[LLM_TOOL_NAMED] = "ANY",
		};

		json_object_object_add(wrap, "functionDeclarations", decls);
		json_object_array_add(tools, wrap);
		json_object_object_add(root, "tools", tools);
		json_object_object_add(tc, "functionCallingConfig", fcc);
		json_object_object_add(root, "toolConfig", tc);
		for (size_t i = 0; i < req->nr_tools; i++) {
			const struct llm_tool *t = &req->tools[i];
			struct json_object *d = json_object_new_object();
			struct json_object *params;

			json_object_array_add(decls, d);
			json_object_object_add(d, "name",
					       json_object_new_string(t->name));
			if (t->description)
				json_object_object_add(
					d, "description",
					json_object_new_string(t->description));
			ret = parse_schema(&params, t->schema, "tool schema",
					   err);
			if (ret < 0)
				goto fail;
			json_object_object_add(d, "parameters", params);
		}
		json_object_object_add(fcc, "mode",
				       json_object_new_string(
					       mode[req->tool_choice]));
		if (req->tool_choice == LLM_TOOL_NAMED) {
			struct json_object *names = json_object_new_array();

			json_object_array_add(
				names, llm_jnew_str(req->tool_choice_name ?
							    req->tool_choice_name :
							    ""));
			json_object_object_add(fcc, "allowedFunctionNames",
					       names);
		}
	}
	gen = json_object_new_object();
	json_object_object_add(root, "generationConfig", gen);
	if (llm_send_temperature(ep, req))
		json_object_object_add(gen, "temperature",
				       llm_jnew_double(req->sampling.temperature));
	if (llm_send_top_p(ep, req))
		json_object_object_add(gen, "topP",
				       llm_jnew_double(req->sampling.top_p));
	if (llm_send_seed(ep, req))
		json_object_object_add(gen, "seed",
				       json_object_new_int64(req->sampling.seed));
	json_object_object_add(gen, "maxOutputTokens",
			       json_object_new_int64(llm_max_tokens(ep, req)));
	if (req->schema) {
		struct json_object *schema;

		ret = parse_schema(&schema, req->schema, "output schema", err);
		if (ret < 0)
			goto fail;
		json_object_object_add(gen, "responseMimeType",
				       json_object_new_string("application/json"));
		json_object_object_add(gen, "responseSchema", schema);
	}

	if (llm_endpoint_streams(ep))
		strbuf_addf(&path, "/v1beta/models/%s:streamGenerateContent"
				   "?alt=sse", ep->model);
	else
		strbuf_addf(&path, "/v1beta/models/%s:generateContent",
			    ep->model);
	h->url = llm_url_join(ep->url, path.buf);
	strbuf_release(&path);
	llm_http_common_headers(h, ep, req);
	if (*key)
		llm_http_add_header(h, "x-goog-api-key: %s", key);
	llm_http_set_body(h, root);
	return 0;
fail:
	json_object_put(root);
	return ret;
}

static enum llm_stop map_finish(const char *f)
{
	static const char *const refusals[] = {
		"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT",
		"SPII", "IMAGE_SAFETY", "LANGUAGE",
	};

	if (!f)
		return LLM_STOP_OTHER;
	if (!strcmp(f, "STOP"))
		return LLM_STOP_END;
	if (!strcmp(f, "MAX_TOKENS"))
		return LLM_STOP_LENGTH;
	for (size_t i = 0; i < ARRAY_SIZE(refusals); i++)
		if (!strcmp(f, refusals[i]))
			return LLM_STOP_REFUSAL;
	return LLM_STOP_OTHER;
}

static int decode(struct llm_response *out, struct json_object *root,
		  struct strbuf *err)
{
	struct json_object *cands, *c0, *content, *parts, *usage, *pf;
	const char *finish;
	size_t n, ncalls = 0;
	uint64_t prompt, cached;

	usage = llm_jget(root, "usageMetadata", json_type_object);
	prompt = llm_ju64(usage, "promptTokenCount");
	cached = llm_ju64(usage, "cachedContentTokenCount");
	if (cached > prompt)
		cached = prompt;
	out->usage.in_uncached = prompt - cached;
	out->usage.cache_read = cached;
	out->usage.reasoning = llm_ju64(usage, "thoughtsTokenCount");
	out->usage.out = llm_ju64(usage, "candidatesTokenCount") +
			 out->usage.reasoning;
	if (llm_jstr(root, "responseId"))
		out->request_id = xstrdup(llm_jstr(root, "responseId"));
	if (llm_jstr(root, "modelVersion"))
		out->model = xstrdup(llm_jstr(root, "modelVersion"));

	cands = llm_jget(root, "candidates", json_type_array);
	if (!cands || json_object_array_length(cands) < 1) {
		const char *block;

		pf = llm_jget(root, "promptFeedback", json_type_object);
		block = llm_jstr(pf, "blockReason");
		if (!block) {
			strbuf_addstr(err, "response has no candidates");
			return -EPROTO;
		}
		out->stop = LLM_STOP_REFUSAL;
		out->stop_raw = xstrdup(block);
		out->refusal = xstrdup(block);
		return 0;
	}
	c0 = json_object_array_get_idx(cands, 0);
	content = llm_jget(c0, "content", json_type_object);
	parts = llm_jget(content, "parts", json_type_array);
	n = parts ? json_object_array_length(parts) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(parts, i);
		struct json_object *fc = llm_jget(p, "functionCall",
						  json_type_object);
		struct json_object *thought = llm_jget(p, "thought",
						       json_type_boolean);
		const char *sig = llm_jstr(p, "thoughtSignature");
		struct llm_part *np = NULL;

		if (fc) {
			struct json_object *args =
				llm_jget(fc, "args", json_type_object);
			const char *name = llm_jstr(fc, "name");
			struct strbuf sb = STRBUF_INIT;

			if (!name) {
				strbuf_addf(err, "functionCall %zu has no name",
					    i);
				return -EPROTO;
			}
			if (args)
				llm_json_add(&sb, args);
			else
				strbuf_addstr(&sb, "{}");
			np = llm_turn_add_tool_call(&out->message,
						    llm_jstr(fc, "id"), name,
						    sb.buf);
			strbuf_release(&sb);
			ncalls++;
		} else if (llm_jstr(p, "text") &&
			   !(thought && json_object_get_boolean(thought))) {
			np = llm_turn_add_text(&out->message,
					       llm_jstr(p, "text"));
		} else if (sig) {
			/* a signature-only part must still be replayed */
			np = llm_turn_add_text(&out->message, "");
		}
		if (np && sig)
			np->signature = xstrdup(sig);
	}
	finish = llm_jstr(c0, "finishReason");
	if (finish)
		out->stop_raw = xstrdup(finish);
	out->stop = map_finish(finish);
	if (ncalls && out->stop == LLM_STOP_END)
		out->stop = LLM_STOP_TOOL;
	return 0;
}

static void classify(struct llm_error_info *e, long status,
		     struct json_object *root)
{
	struct json_object *err = llm_jget(root, "error", json_type_object);
	struct json_object *details = llm_jget(err, "details", json_type_array);
	const char *st = llm_jstr(err, "status");
	size_t n = details ? json_object_array_length(details) : 0;

	llm_error_set_message(e, llm_jstr(err, "message"));
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(details, i);
		const char *type = llm_jstr(d, "@type");
		struct json_object *viol;
		size_t nv;

		if (!type)
			continue;
		if (strstr(type, "RetryInfo")) {
			int64_t ms = llm_parse_duration_ms(
				llm_jstr(d, "retryDelay"));

			if (ms >= 0)
				e->delay_ms = ms;
		} else if (strstr(type, "QuotaFailure")) {
			viol = llm_jget(d, "violations", json_type_array);
			nv = viol ? json_object_array_length(viol) : 0;
			for (size_t j = 0; j < nv; j++) {
				struct json_object *v =
					json_object_array_get_idx(viol, j);
				const char *q = llm_jstr(v, "quotaId");

				if (q && strstr(q, "PerDay"))
					e->cls = LLM_CLASS_DAILY_QUOTA;
			}
		} else if (strstr(type, "ErrorInfo")) {
			const char *reason = llm_jstr(d, "reason");

			if (reason && !strcmp(reason, "API_KEY_INVALID"))
				e->cls = LLM_CLASS_AUTH;
		}
	}
	if (e->cls == LLM_CLASS_DAILY_QUOTA || e->cls == LLM_CLASS_AUTH)
		return;
	if (st && !strcmp(st, "PERMISSION_DENIED"))
		e->cls = LLM_CLASS_AUTH;
	else if (st && !strcmp(st, "UNAUTHENTICATED"))
		e->cls = LLM_CLASS_AUTH;
	else if (st && !strcmp(st, "UNAVAILABLE"))
		e->cls = LLM_CLASS_OVERLOAD;
	else if (st && !strcmp(st, "RESOURCE_EXHAUSTED") && status == 429)
		e->cls = LLM_CLASS_RATE_LIMIT;
	else if (llm_contains(e->message, "exceeds the maximum number of "
					  "tokens"))
		e->cls = LLM_CLASS_CONTEXT;
	/* Gemini's default when it says nothing else (§5). */
	if (e->cls == LLM_CLASS_RATE_LIMIT && e->delay_ms < 0 &&
	    !llm_contains(e->message, "retry in"))
		e->delay_ms = 30000;
}

const struct llm_dialect_ops llm_gemini_ops = {
	.encode = encode,
	.decode = decode,
	.classify = classify,
	.request_id_header = NULL,
};
