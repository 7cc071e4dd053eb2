/*
 * llm_conv.c - a conversation on top of the engine: the tool-call loop
 * and validated structured output with one repair re-ask.
 *
 * Tool arguments that are not a JSON object (local models produce them)
 * are a bad-output error like a schema mismatch: they use the same
 * 'max_repairs' budget of re-asks.  The re-ask is the tool result, which
 * quotes the parse error; the history keeps "{}" in place of the broken
 * arguments so that every dialect can encode it.
 *
 * Budgets: 'max_turns' model calls in all (tool rounds, repairs and the
 * empty-answer re-ask included), 'max_tool_bytes' of tool results; once
 * the byte budget is spent, tools answer with an error and the next call
 * forbids tools, so the model must conclude.
 */
#include "kreview/common.h"
#include "llm_priv.h"

struct conv_tool {
	char *name;
	llm_tool_fn fn;
	void *data;
};

struct llm_conv {
	struct llm_engine *e;
	char *endpoint;
	struct llm_request req;
	struct llm_conv_opts opts;
	llm_conv_done_fn done;
	void *data;
	struct conv_tool *tools;
	size_t nr_tools, alloc_tools;
	struct json_object *schema;
	bool reasked_empty;
	struct llm_conv_result res;
};

static void conv_free(struct llm_conv *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr_tools; i++)
		free(c->tools[i].name);
	free(c->tools);
	free(c->endpoint);
	llm_request_release(&c->req);
	json_object_put(c->schema);
	strbuf_release(&c->res.error);
	strbuf_release(&c->res.text);
	strbuf_release(&c->res.json);
	free(c);
}

int llm_conv_new(struct llm_conv **out, struct llm_engine *e,
		 const char *endpoint, struct llm_request *req,
		 const struct llm_conv_opts *opts, llm_conv_done_fn done,
		 void *data, struct strbuf *err)
{
	struct llm_conv *c = xcalloc(1, sizeof(*c));

	if (req->schema &&
	    llm_jparse_object(&c->schema, req->schema, "output schema", err)) {
		free(c);
		return -EINVAL;
	}
	if (!llm_engine_endpoint(e, endpoint)) {
		strbuf_addf(err, "unknown endpoint '%s'", endpoint);
		json_object_put(c->schema);
		free(c);
		return -ENOENT;
	}
	c->e = e;
	c->endpoint = xstrdup(endpoint);
	c->req = *req;
	memset(req, 0, sizeof(*req));
	if (opts)
		c->opts = *opts;
	if (!c->opts.max_turns)
		c->opts.max_turns = 8;
	if (!c->opts.max_tool_bytes)
		c->opts.max_tool_bytes = 256 << 10;
	if (!c->opts.max_repairs)
		c->opts.max_repairs = 1;
	c->done = done;
	c->data = data;
	strbuf_init(&c->res.error, 0);
	strbuf_init(&c->res.text, 0);
	strbuf_init(&c->res.json, 0);
	*out = c;
	return 0;
}

void llm_conv_add_tool(struct llm_conv *c, const char *name,
		       const char *description, const char *schema,
		       llm_tool_fn fn, void *data)
{
	ALLOC_GROW(c->tools, c->nr_tools + 1, c->alloc_tools);
	c->tools[c->nr_tools].name = xstrdup(name);
	c->tools[c->nr_tools].fn = fn;
	c->tools[c->nr_tools].data = data;
	c->nr_tools++;
	llm_request_add_tool(&c->req, name, description, schema);
}

static void finish(struct llm_conv *c, int ret, enum llm_class cls)
{
	c->res.ret = ret;
	c->res.cls = cls;
	if (c->done)
		c->done(&c->res, c->data);
	conv_free(c);
}

static void on_call_done(struct llm_result *r, void *data);

static void resubmit(struct llm_conv *c)
{
	struct strbuf err = STRBUF_INIT;
	int ret;

	if (c->res.calls >= c->opts.max_turns) {
		strbuf_addf(&c->res.error,
			    "no final answer within %u model calls",
			    c->opts.max_turns);
		finish(c, -ELOOP, LLM_CLASS_BAD_OUTPUT);
		return;
	}
	ret = llm_engine_submit(c->e, c->endpoint, &c->req, on_call_done, c,
				&err);
	if (ret < 0) {
		strbuf_addbuf(&c->res.error, &err);
		strbuf_release(&err);
		finish(c, ret, LLM_CLASS_REQUEST);
		return;
	}
	strbuf_release(&err);
}

int llm_conv_start(struct llm_conv *c, struct strbuf *err)
{
	int ret = llm_engine_submit(c->e, c->endpoint, &c->req, on_call_done,
				    c, err);

	if (ret < 0)
		conv_free(c);
	return ret;
}

static struct conv_tool *find_tool(struct llm_conv *c, const char *name)
{
	for (size_t i = 0; i < c->nr_tools; i++)
		if (!strcmp(c->tools[i].name, name))
			return &c->tools[i];
	return NULL;
}

/* Run every tool call of 'msg' and append one user turn of results. */
static void run_tools(struct llm_conv *c, const struct llm_turn *msg)
{
	struct llm_turn *t = llm_request_add_turn(&c->req, LLM_ROLE_USER);
	bool spent = false;

	for (size_t i = 0; i < msg->nr; i++) {
		const struct llm_part *p = &msg->parts[i];
		struct strbuf out = STRBUF_INIT, jerr = STRBUF_INIT;
		struct json_object *args = NULL;
		struct conv_tool *tool;
		bool is_error = false;

		if (p->type != LLM_PART_TOOL_CALL)
			continue;
		c->res.tool_calls++;
		tool = find_tool(c, p->name);
		if (!tool) {
			strbuf_addf(&out, "error: no tool named '%s'", p->name);
			is_error = true;
		} else if (llm_json_parse(&args, p->args, strlen(p->args),
					  &jerr) < 0 ||
			   !json_object_is_type(args, json_type_object)) {
			/* typical of local models: say so, let it retry */
			strbuf_addf(&out, "error: arguments are not a JSON "
					  "object (%s); call the tool again "
					  "with valid JSON", jerr.buf);
			is_error = true;
		} else if (c->res.tool_bytes >= c->opts.max_tool_bytes) {
			strbuf_addstr(&out, "error: tool output budget "
					    "exhausted; give your final answer "
					    "now");
			is_error = true;
			spent = true;
		} else if (tool->fn(&out, p->args, tool->data) < 0) {
			is_error = true;
		}
		if (!is_error &&
		    c->res.tool_bytes + out.len > c->opts.max_tool_bytes) {
			size_t room = c->opts.max_tool_bytes - c->res.tool_bytes;

			strbuf_setlen(&out, room);
			strbuf_addstr(&out, "\n[output truncated: tool output "
					    "budget exhausted]");
			spent = true;
		}
		c->res.tool_bytes += out.len;
		llm_turn_add_tool_result(t, p->id, p->name, out.buf, is_error);
		json_object_put(args);
		strbuf_release(&out);
		strbuf_release(&jerr);
	}
	if (spent)
		c->req.tool_choice = LLM_TOOL_NONE;
}

static bool has_tool_calls(const struct llm_turn *t)
{
	for (size_t i = 0; i < t->nr; i++)
		if (t->parts[i].type == LLM_PART_TOOL_CALL)
			return true;
	return false;
}

/*
 * Describe the first tool call of 't' whose arguments are not a JSON
 * object in 'why'; false if all are fine.
 */
static bool bad_arguments(struct strbuf *why, const struct llm_turn *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		const struct llm_part *p = &t->parts[i];
		struct json_object *o = NULL;
		struct strbuf jerr = STRBUF_INIT;
		bool bad;

		if (p->type != LLM_PART_TOOL_CALL)
			continue;
		bad = llm_json_parse(&o, p->args, strlen(p->args), &jerr) < 0 ||
		      !json_object_is_type(o, json_type_object);
		json_object_put(o);
		if (bad)
			strbuf_addf(why, "arguments of tool call '%s' are not "
					 "a JSON object%s%s",
				    p->name, jerr.len ? ": " : "", jerr.buf);
		strbuf_release(&jerr);
		if (bad)
			return true;
	}
	return false;
}

static void on_call_done(struct llm_result *r, void *data)
{
	struct llm_conv *c = data;
	struct llm_response *resp = &r->resp;
	struct strbuf text = STRBUF_INIT, json = STRBUF_INIT;
	struct strbuf verr = STRBUF_INIT;
	struct json_object *value = NULL;
	struct llm_turn *t;

	c->res.calls++;
	if (r->ret < 0) {
		strbuf_addbuf(&c->res.error, &r->error);
		finish(c, r->ret, r->cls);
		return;
	}
	llm_usage_add(&c->res.usage, &resp->usage);
	c->res.cost += r->cost;

	if (resp->stop == LLM_STOP_REFUSAL) {
		strbuf_addf(&c->res.error, "model refused: %s",
			    resp->refusal ? resp->refusal :
			    resp->stop_raw ? resp->stop_raw :
					     "no reason given");
		finish(c, -EPROTO, LLM_CLASS_BAD_OUTPUT);
		return;
	}
	if (resp->stop == LLM_STOP_LENGTH) {
		/* never parse a truncated object (§7) */
		strbuf_addf(&c->res.error, "answer truncated by the output "
					   "cap (%s)",
			    resp->stop_raw ? resp->stop_raw : "length");
		finish(c, -EPROTO, LLM_CLASS_BAD_OUTPUT);
		return;
	}
	if (has_tool_calls(&resp->message)) {
		if (bad_arguments(&verr, &resp->message)) {
			if (c->res.repairs >= c->opts.max_repairs) {
				strbuf_addf(&c->res.error, "%s (after %u "
							   "re-asks)",
					    verr.buf, c->res.repairs);
				strbuf_release(&verr);
				finish(c, -EPROTO, LLM_CLASS_BAD_OUTPUT);
				return;
			}
			c->res.repairs++;
		}
		strbuf_release(&verr);
		t = llm_request_add_turn(&c->req, LLM_ROLE_ASSISTANT);
		llm_turn_copy(t, &resp->message);
		for (size_t i = 0; i < t->nr; i++) {
			struct llm_part *p = &t->parts[i];
			struct json_object *o = NULL;

			if (p->type != LLM_PART_TOOL_CALL)
				continue;
			if (llm_json_parse(&o, p->args, strlen(p->args),
					   NULL) < 0 ||
			    !json_object_is_type(o, json_type_object)) {
				free(p->args);
				p->args = xstrdup("{}");
			}
			json_object_put(o);
		}
		run_tools(c, &resp->message);
		resubmit(c);
		return;
	}
	llm_turn_text(&text, &resp->message);
	if (!text.len) {
		if (c->reasked_empty) {
			strbuf_addstr(&c->res.error, "model gave an empty answer");
			strbuf_release(&text);
			finish(c, -EPROTO, LLM_CLASS_BAD_OUTPUT);
			return;
		}
		/* Anthropic may end_turn empty right after tool results */
		c->reasked_empty = true;
		llm_request_add_user_text(&c->req,
					  "Please continue and give your final "
					  "answer.");
		strbuf_release(&text);
		resubmit(c);
		return;
	}
	if (!c->schema) {
		strbuf_addbuf(&c->res.text, &text);
		strbuf_release(&text);
		finish(c, 0, LLM_CLASS_OK);
		return;
	}
	if (llm_json_extract(&json, text.buf, text.len, &verr) == 0 &&
	    llm_json_parse(&value, json.buf, json.len, &verr) == 0 &&
	    llm_json_validate(value, c->schema, &verr) == 0) {
		strbuf_addbuf(&c->res.text, &text);
		strbuf_addbuf(&c->res.json, &json);
		json_object_put(value);
		strbuf_release(&text);
		strbuf_release(&json);
		strbuf_release(&verr);
		finish(c, 0, LLM_CLASS_OK);
		return;
	}
	json_object_put(value);
	if (c->res.repairs >= c->opts.max_repairs) {
		strbuf_addf(&c->res.error, "answer does not match the schema: %s",
			    verr.buf);
		strbuf_addbuf(&c->res.text, &text);
		strbuf_release(&text);
		strbuf_release(&json);
		strbuf_release(&verr);
		finish(c, -EPROTO, LLM_CLASS_BAD_OUTPUT);
		return;
	}
	c->res.repairs++;
	t = llm_request_add_turn(&c->req, LLM_ROLE_ASSISTANT);
	llm_turn_copy(t, &resp->message);
	strbuf_reset(&json);
	strbuf_addf(&json, "Your answer is not valid: %s\nReply with only the "
			   "corrected JSON object.", verr.buf);
	llm_request_add_user_text(&c->req, json.buf);
	strbuf_release(&text);
	strbuf_release(&json);
	strbuf_release(&verr);
	resubmit(c);
}

void llm_conv_result_init(struct llm_conv_result *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->error, 0);
	strbuf_init(&r->text, 0);
	strbuf_init(&r->json, 0);
}

void llm_conv_result_release(struct llm_conv_result *r)
{
	strbuf_release(&r->error);
	strbuf_release(&r->text);
	strbuf_release(&r->json);
	llm_conv_result_init(r);
}

/*
 * What llm_conv_run() waits on.  On the heap: when the engine fails,
 * the call outlives llm_conv_run(), and a late callback frees it.
 */
struct conv_wait {
	bool done, abandoned;
	struct llm_conv_result res;
};

static void wait_done(struct llm_conv_result *res, void *data)
{
	struct conv_wait *w = data;

	if (w->abandoned) {
		llm_conv_result_release(&w->res);
		free(w);
		return;
	}
	w->done = true;
	w->res.ret = res->ret;
	w->res.cls = res->cls;
	strbuf_addbuf(&w->res.error, &res->error);
	strbuf_addbuf(&w->res.text, &res->text);
	strbuf_addbuf(&w->res.json, &res->json);
	w->res.usage = res->usage;
	w->res.cost = res->cost;
	w->res.calls = res->calls;
	w->res.repairs = res->repairs;
	w->res.tool_calls = res->tool_calls;
	w->res.tool_bytes = res->tool_bytes;
}

int llm_conv_run(struct llm_conv_result *out, struct llm_engine *e,
		 const char *endpoint, struct llm_request *req,
		 const struct llm_conv_opts *opts, struct strbuf *err)
{
	struct conv_wait *w = xcalloc(1, sizeof(*w));
	struct llm_conv *c = NULL;
	int ret;

	llm_conv_result_init(&w->res);
	ret = llm_conv_new(&c, e, endpoint, req, opts, wait_done, w, err);
	if (ret == 0)
		ret = llm_conv_start(c, err);
	if (ret < 0)
		goto out;
	(void)llm_engine_run(e);
	if (!w->done) {
		strbuf_addstr(err, "the LLM engine failed");
		w->abandoned = true;
		return -EIO;
	}
	llm_conv_result_release(out);
	*out = w->res;
	llm_conv_result_init(&w->res);
out:
	llm_conv_result_release(&w->res);
	free(w);
	return ret;
}
