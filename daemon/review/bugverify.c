/* Re-verification of recorded bugs: see bugverify.h. */
#define _GNU_SOURCE /* memmem */
#include "kreview/bugverify.h"
#include "kreview/hash.h"
#include "kreview/llm_json.h"
#include "kreview/prompt.h"
#include "kreview/review.h"
#include "kreview/symindex.h"
#include "kreview/tree.h"

#include <git2.h>
#include <json-c/json.h>

/* Commits walked looking for the one that changed the code. */
#define MAX_WALK 10000
/* Fence tokens tried before giving up on material that holds them. */
#define MAX_TOKENS 8

/* ---- the code ---- */

void bugverify_code_init(struct bugverify_code *c)
{
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->text, 0);
}

void bugverify_code_release(struct bugverify_code *c)
{
	strbuf_release(&c->text);
	bugverify_code_init(c);
}

/* Offset of the start of line 'n' (1-based) of 'buf'; 'len' past the end. */
static size_t line_offset(const char *buf, size_t len, unsigned n)
{
	size_t pos = 0;

	while (n > 1 && pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);

		if (!nl)
			return len;
		pos = (size_t)(nl - buf) + 1;
		n--;
	}
	return pos;
}

/* The line (1-based) where 'needle' first occurs in 'buf', 0 if nowhere. */
static unsigned find_line(const char *buf, size_t len, const char *needle)
{
	const char *hit = memmem(buf, len, needle, strlen(needle));

	if (!*needle || !hit)
		return 0;
	return (unsigned)count_lines(buf, (size_t)(hit - buf)) +
	       (hit == buf || hit[-1] == '\n');
}

/* The first non-blank line of 'ev', trimmed ("" if none). */
static void evidence_key(struct strbuf *out, const char *ev)
{
	const char *p = ev;

	strbuf_reset(out);
	while (p && *p) {
		const char *nl = strchr(p, '\n');

		strbuf_add(out, p, nl ? (size_t)(nl - p) : strlen(p));
		strbuf_trim(out);
		if (out->len)
			return;
		p = nl ? nl + 1 : NULL;
	}
}

/* Cut lines [start, end] of the file into 'out'. */
static void take_lines(struct bugverify_code *out, const struct strbuf *file,
		       unsigned start, unsigned end)
{
	size_t a = line_offset(file->buf, file->len, start);
	size_t b = line_offset(file->buf, file->len, end + 1);

	out->line = start;
	out->end_line = end;
	strbuf_add(&out->text, file->buf + a, b - a);
}

/*
 * The lines around the recorded place: around the evidence where it
 * still is, else the recorded range, else the first use of the name.
 */
static void take_excerpt(struct bugverify_code *out, const struct strbuf *file,
			 const struct bugverify_place *pl)
{
	struct strbuf key = STRBUF_INIT, call = STRBUF_INIT;
	unsigned total = (unsigned)count_lines(file->buf, file->len);
	unsigned a = 0, b = 0, start, end;

	out->found = BUGVERIFY_EXCERPT;
	if (!total)
		goto out;
	evidence_key(&key, pl->evidence);
	if (key.len)
		a = b = find_line(file->buf, file->len, key.buf);
	if (!a && pl->line > 0) {
		a = (unsigned)pl->line;
		b = pl->end_line > pl->line ? (unsigned)pl->end_line : a;
	}
	if (!a && pl->function && *pl->function) {
		strbuf_addf(&call, "%s(", pl->function);
		a = b = find_line(file->buf, file->len, call.buf);
	}
	if (!a)
		a = b = 1;
	if (a > total)
		a = b = total;
	if (b > total)
		b = total;
	start = a > BUGVERIFY_AROUND ? a - BUGVERIFY_AROUND : 1;
	end = b + BUGVERIFY_AROUND < total ? b + BUGVERIFY_AROUND : total;
	take_lines(out, file, start, end);
out:
	strbuf_release(&key);
	strbuf_release(&call);
}

int bugverify_read_code(struct bugverify_code *out,
			struct git_repository *repo,
			const struct git_oid *commit,
			const struct bugverify_place *pl, struct strbuf *err)
{
	struct strbuf file = STRBUF_INIT, why = STRBUF_INIT,
		      call = STRBUF_INIT;
	const char *fn = pl->function ? pl->function : "";
	struct symindex_def def;
	git_commit *c = NULL;
	int r;

	strbuf_reset(&out->text);
	out->line = out->end_line = 0;
	if (git_commit_lookup(&c, repo, commit) < 0) {
		strbuf_addf(err, "no commit %s in the repository",
			    git_oid_tostr_s(commit));
		return -ENOENT;
	}
	git_commit_free(c);
	r = tree_read_file(&file, repo, commit, pl->file, &why);
	if (r == -ENOENT) {
		out->found = BUGVERIFY_FILE_GONE;
		r = 0;
		goto out;
	}
	if (r < 0) {
		strbuf_addbuf(err, &why);
		goto out;
	}
	if (*fn && symindex_wants_path(pl->file) &&
	    symindex_find_def(&def, NULL, file.buf, file.len, fn)) {
		out->found = BUGVERIFY_FUNCTION;
		take_lines(out, &file, def.line, def.end_line);
		goto out;
	}
	strbuf_addf(&call, "%s(", fn);
	if (*fn && !memmem(file.buf, file.len, call.buf, call.len)) {
		out->found = BUGVERIFY_FUNCTION_GONE;
		goto out;
	}
	take_excerpt(out, &file, pl);
out:
	strbuf_release(&file);
	strbuf_release(&why);
	strbuf_release(&call);
	return r;
}

int bugverify_resolve(git_oid *out, struct git_repository *repo,
		      const char *rev)
{
	git_object *obj = NULL, *peeled = NULL;
	int r = -ENOENT;

	if (!rev || !*rev || git_revparse_single(&obj, repo, rev) < 0)
		return -ENOENT;
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0) {
		git_oid_cpy(out, git_object_id(peeled));
		r = 0;
	}
	git_object_free(peeled);
	git_object_free(obj);
	return r;
}

static bool same_code(const struct bugverify_code *a,
		      const struct bugverify_code *b)
{
	return a->found == b->found && strbuf_equal(&a->text, &b->text);
}

int bugverify_unchanged(struct git_repository *repo, const char *base,
			const struct bugverify_place *pl,
			const struct bugverify_code *now, struct strbuf *err)
{
	struct bugverify_code old;
	git_oid oid;
	int r;

	if (bugverify_resolve(&oid, repo, base) < 0)
		return -ENOENT;
	bugverify_code_init(&old);
	r = bugverify_read_code(&old, repo, &oid, pl, err);
	if (r == 0)
		r = same_code(&old, now);
	bugverify_code_release(&old);
	return r;
}

bool bugverify_evidence_holds(const struct bugverify_place *pl,
			      const struct bugverify_code *now)
{
	struct strbuf key = STRBUF_INIT;
	bool holds;

	evidence_key(&key, pl->evidence);
	holds = key.len && memmem(now->text.buf, now->text.len, key.buf,
				  key.len);
	strbuf_release(&key);
	return holds;
}

/* The blob id of 'path' in commit 'commit': 0, or -ENOENT. */
static int file_blob(git_oid *out, struct git_repository *repo,
		     const git_oid *commit, const char *path)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	int r = -ENOENT;

	if (git_commit_lookup(&c, repo, commit) == 0 &&
	    git_commit_tree(&tree, c) == 0 &&
	    git_tree_entry_bypath(&te, tree, path) == 0) {
		git_oid_cpy(out, git_tree_entry_id(te));
		r = 0;
	}
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(c);
	return r;
}

/* Does 'commit' change the code of 'pl' against 'parent' (may be NULL)? */
static int code_differs(struct git_repository *repo, const git_oid *commit,
			const git_oid *parent, const struct bugverify_place *pl,
			struct strbuf *err)
{
	struct bugverify_code a, b;
	git_oid ba, bb;
	bool has_a, has_b;
	int r;

	has_a = file_blob(&ba, repo, commit, pl->file) == 0;
	has_b = parent && file_blob(&bb, repo, parent, pl->file) == 0;
	if (!has_a && !has_b)
		return 0;
	if (has_a != has_b)
		return 1;
	if (git_oid_equal(&ba, &bb))
		return 0;
	bugverify_code_init(&a);
	bugverify_code_init(&b);
	r = bugverify_read_code(&a, repo, commit, pl, err);
	if (r == 0)
		r = bugverify_read_code(&b, repo, parent, pl, err);
	if (r == 0)
		r = !same_code(&a, &b);
	bugverify_code_release(&a);
	bugverify_code_release(&b);
	return r;
}

int bugverify_changed_in(char out[41], struct git_repository *repo,
			 const char *base, const git_oid *rev,
			 const struct bugverify_place *pl, struct strbuf *err)
{
	git_revwalk *walk = NULL;
	git_oid oid, base_oid, found;
	bool have_base = bugverify_resolve(&base_oid, repo, base) == 0;
	bool any = false;
	int n = 0, r = 0;

	if (git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL) < 0 ||
	    git_revwalk_push(walk, rev) < 0 ||
	    (have_base && git_revwalk_hide(walk, &base_oid) < 0)) {
		const git_error *e = git_error_last();

		strbuf_addf(err, "cannot walk the history of %s: %s",
			    git_oid_tostr_s(rev), e ? e->message : "error");
		r = -EIO;
		goto out;
	}
	while (n++ < MAX_WALK && git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL;
		git_oid parent;
		bool has_parent = false;

		if (git_commit_lookup(&c, repo, &oid) < 0)
			continue;
		if (git_commit_parentcount(c) > 0) {
			git_oid_cpy(&parent, git_commit_parent_id(c, 0));
			has_parent = true;
		}
		git_commit_free(c);
		r = code_differs(repo, &oid, has_parent ? &parent : NULL, pl,
				 err);
		if (r < 0)
			goto out;
		if (r == 1) {
			git_oid_cpy(&found, &oid);
			any = true;
			/* newest first: without a base the first one wins */
			if (!have_base)
				break;
		}
	}
	r = 0;
	git_oid_tostr(out, 41, any ? &found : rev);
out:
	git_revwalk_free(walk);
	return r;
}

/* ---- asking ---- */

static const char *const verdict_names[BUGVERIFY_VERDICT_MAX] = {
	[BUGVERIFY_PRESENT] = "present",
	[BUGVERIFY_GONE] = "gone",
	[BUGVERIFY_UNSURE] = "unsure",
};

const char *bugverify_verdict_name(enum bugverify_verdict v)
{
	if ((unsigned)v >= BUGVERIFY_VERDICT_MAX)
		BUG("bad verdict %d", (int)v);
	return verdict_names[v];
}

static const char answer_schema[] =
	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"verdict\", \"reason\"], \"properties\": {"
	"\"verdict\": {\"type\": \"string\","
	" \"enum\": [\"present\", \"gone\", \"unsure\"]},"
	"\"reason\": {\"type\": \"string\"}}}";

const char *bugverify_answer_schema(void)
{
	return answer_schema;
}

/*
 * The code numbered, at most BUGVERIFY_MAX_CODE bytes of it; returns
 * the last line shown.
 */
static unsigned number_code(struct strbuf *out, const struct bugverify_code *c)
{
	const char *buf = c->text.buf;
	size_t pos = 0, used = 0, len = c->text.len;
	unsigned n = c->line, shown = c->line ? c->line - 1 : 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - buf - pos) : len - pos;

		if (used + ll + 1 > BUGVERIFY_MAX_CODE && shown >= c->line)
			break;
		strbuf_addf(out, "%6u  %.*s\n", n, (int)ll, buf + pos);
		used += ll + 1;
		shown = n++;
		pos += ll + 1;
	}
	return shown;
}

int bugverify_request(struct llm_request *out, const struct prompt *p,
		      const struct bugverify_bug *b,
		      const struct bugverify_code *code, const char *token)
{
	const struct bugverify_place *pl = &b->place;
	const char *ev = pl->evidence && *pl->evidence ? pl->evidence :
							 "(none recorded)\n";
	struct strbuf user = STRBUF_INIT, rec = STRBUF_INIT,
		      cur = STRBUF_INIT, sys = STRBUF_INIT;
	unsigned shown;
	int r;

	if (p->kind != PROMPT_BUGVERIFY)
		BUG("prompt '%s' is not the bugverify prompt", p->id);
	if (code->found != BUGVERIFY_FUNCTION &&
	    code->found != BUGVERIFY_EXCERPT)
		BUG("no code to verify a bug against");
	strbuf_addf(&rec, "id: %s\ntitle: %s\ncategory: %s\nseverity: %s\n"
			  "file: %s\nfunction: %s\n",
		    b->id, b->title, b->category, b->severity, pl->file,
		    pl->function && *pl->function ? pl->function :
						    "(file scope)");
	if (pl->line > 0)
		strbuf_addf(&rec, "lines when recorded: %d-%d\n", pl->line,
			    pl->end_line > pl->line ? pl->end_line : pl->line);
	strbuf_addf(&rec, "explanation:\n%s\n",
		    b->explanation && *b->explanation ? b->explanation :
							"(none recorded)");
	strbuf_addf(&cur, "%s, lines %u-%u\n", pl->file, code->line,
		    code->end_line);
	shown = number_code(&cur, code);

	prompt_fence_announce(&user, token);
	strbuf_addstr(&user, "\n# The bug as recorded\n\n");
	r = prompt_fence(&user, token, "bug-record", rec.buf, rec.len);
	if (r == 0) {
		strbuf_addstr(&user, "\nThe evidence quoted from the code when "
				     "the bug was recorded:\n");
		r = prompt_fence(&user, token, "evidence", ev, strlen(ev));
	}
	if (r == 0) {
		strbuf_addstr(&user,
			      code->found == BUGVERIFY_FUNCTION ?
				      "\n# The code now\n\nThe whole function"
				      " the record names, as it is now, with"
				      " line numbers:\n" :
				      "\n# The code now\n\nThe function could"
				      " not be cut out of its file; these are"
				      " the lines around the recorded place as"
				      " they are now, with line numbers:\n");
		r = prompt_fence(&user, token, "current-code", cur.buf,
				 cur.len);
	}
	if (r < 0)
		goto out;
	if (shown < code->end_line)
		strbuf_addf(&user, "(The code was cut after line %u by the"
				   " size limit; it goes on to line %u.)\n",
			    shown, code->end_line);
	strbuf_addstr(&user, "\nIs the bug as recorded still present in the"
			     " code as it is now?  Answer with one JSON object"
			     " {\"verdict\": \"present\" | \"gone\" |"
			     " \"unsure\", \"reason\": \"...\"} as described"
			     " above.\n");
	strbuf_add(&sys, p->body, p->body_len);
	llm_request_add_system(out, sys.buf, true);
	llm_request_add_user_text(out, user.buf);
	llm_request_set_schema(out, "bugverify", answer_schema);
	out->sampling.has_temperature = true;
	out->sampling.temperature = 0;
out:
	strbuf_release(&user);
	strbuf_release(&rec);
	strbuf_release(&cur);
	strbuf_release(&sys);
	return r;
}

uint64_t bugverify_estimate_tokens(const struct llm_request *req)
{
	struct strbuf t = STRBUF_INIT;
	uint64_t bytes = 0;

	for (size_t i = 0; i < req->nr_system; i++)
		bytes += strlen(req->system[i]);
	for (size_t i = 0; i < req->nr_turns; i++) {
		strbuf_reset(&t);
		llm_turn_text(&t, &req->turns[i]);
		bytes += t.len;
	}
	strbuf_release(&t);
	return bytes / 4;
}

/* One line of at most BUGVERIFY_MAX_REASON bytes, whole UTF-8 chars. */
static void add_reason(struct strbuf *out, const char *s)
{
	size_t start = out->len;
	bool space = false;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == ' ') {
			space = out->len > start;
			continue;
		}
		if (space)
			strbuf_addch(out, ' ');
		space = false;
		strbuf_addch(out, (char)c);
	}
	if (out->len - start > BUGVERIFY_MAX_REASON) {
		size_t cut = start + BUGVERIFY_MAX_REASON;

		/* back to the first byte of a UTF-8 sequence */
		while (cut > start &&
		       ((unsigned char)out->buf[cut] & 0xc0) == 0x80)
			cut--;
		strbuf_setlen(out, cut);
		strbuf_addstr(out, "...");
	}
	if (out->len == start)
		strbuf_addstr(out, "(no reason given)");
}

int bugverify_parse(enum bugverify_verdict *out, struct strbuf *reason,
		    const char *json, size_t len, struct strbuf *err)
{
	struct strbuf obj = STRBUF_INIT, why = STRBUF_INIT;
	struct json_object *root = NULL, *v, *rs;
	const char *name;
	int r = -EPROTO, k;

	if (llm_json_extract(&obj, json, len, &why) < 0 ||
	    llm_json_parse(&root, obj.buf, obj.len, &why) < 0) {
		if (err)
			strbuf_addf(err, "the answer is not JSON: %s", why.buf);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "verdict", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		if (err)
			strbuf_addstr(err,
				      "the answer has no \"verdict\" string");
		goto out;
	}
	name = json_object_get_string(v);
	for (k = 0; k < BUGVERIFY_VERDICT_MAX; k++)
		if (!strcmp(name, verdict_names[k]))
			break;
	if (k == BUGVERIFY_VERDICT_MAX) {
		if (err) {
			strbuf_addstr(err, "unknown verdict '");
			add_reason(err, name);
			strbuf_addstr(err, "' (present, gone or unsure)");
		}
		goto out;
	}
	if (!json_object_object_get_ex(root, "reason", &rs) ||
	    !json_object_is_type(rs, json_type_string)) {
		if (err)
			strbuf_addstr(err,
				      "the answer has no \"reason\" string");
		goto out;
	}
	*out = (enum bugverify_verdict)k;
	add_reason(reason, json_object_get_string(rs));
	r = 0;
out:
	json_object_put(root);
	strbuf_release(&obj);
	strbuf_release(&why);
	return r;
}

void bugverify_result_init(struct bugverify_result *r)
{
	memset(r, 0, sizeof(*r));
	r->verdict = BUGVERIFY_UNSURE;
	strbuf_init(&r->reason, 0);
}

void bugverify_result_release(struct bugverify_result *r)
{
	strbuf_release(&r->reason);
	bugverify_result_init(r);
}

/*
 * The fence token: derived from the secret, the bug and its code so
 * that the same question is the same request; else random.
 */
static int pick_token(char token[PROMPT_FENCE_TOKEN_LEN + 1],
		      const char *secret, const struct bugverify_bug *b,
		      const struct bugverify_code *code, int attempt)
{
	struct strbuf key = STRBUF_INIT;
	char hex[HASH_HEX + 1];

	if (!secret)
		return prompt_fence_token(token);
	strbuf_addf(&key, "kreview-bugverify-fence-v1\n%s\n%d\n%s\n", secret,
		    attempt, b->id);
	strbuf_addbuf(&key, &code->text);
	hash_git_blob(hex, key.buf, key.len);
	memcpy(token, hex, PROMPT_FENCE_TOKEN_LEN);
	token[PROMPT_FENCE_TOKEN_LEN] = '\0';
	strbuf_release(&key);
	return 0;
}

/* The verdict of an unusable answer. */
static int unusable(struct bugverify_result *out, const char *why)
{
	out->verdict = BUGVERIFY_UNSURE;
	strbuf_reset(&out->reason);
	strbuf_addstr(&out->reason, "the verifier's answer is unusable: ");
	add_reason(&out->reason, why);
	return -EPROTO;
}

int bugverify_run(struct bugverify_result *out, const struct bugverify_bug *b,
		  const struct bugverify_code *code,
		  const struct bugverify_opts *o, struct strbuf *err)
{
	struct llm_request req = LLM_REQUEST_INIT;
	struct strbuf why = STRBUF_INIT;
	struct llm_conv_result w;
	char token[PROMPT_FENCE_TOKEN_LEN + 1], key[41];
	bool keyed;
	int r = -EEXIST;

	llm_conv_result_init(&w);
	for (int attempt = 0; attempt < MAX_TOKENS && r == -EEXIST; attempt++) {
		r = pick_token(token, o->fence_secret, b, code, attempt);
		if (r == 0)
			r = bugverify_request(&req, o->prompt, b, code, token);
	}
	if (r < 0) {
		strbuf_addf(err, "cannot fence the material of %s: %s", b->id,
			    strerror(-r));
		goto out;
	}
	keyed = review_cache_key(key, o->engine, o->endpoint, &req,
				 "bugverify") == 0;
	if (keyed && o->cache && !o->fresh) {
		char *answer = review_cache_get(o->cache, key);

		if (answer && bugverify_parse(&out->verdict, &out->reason,
					      answer, strlen(answer),
					      NULL) == 0) {
			out->cached = true;
			free(answer);
			goto out;
		}
		free(answer);
	}
	r = llm_conv_run(&w, o->engine, o->endpoint, &req, NULL, err);
	if (r < 0) {
		out->cls = LLM_CLASS_LOCAL;
		goto out;
	}
	out->usage = w.usage;
	out->cost = w.cost;
	out->calls = w.calls;
	if (w.ret < 0 && w.cls == LLM_CLASS_BAD_OUTPUT) {
		r = unusable(out, w.error.buf);
		goto out;
	}
	if (w.ret < 0) {
		out->cls = w.cls;
		strbuf_addbuf(err, &w.error);
		r = w.ret;
		goto out;
	}
	r = bugverify_parse(&out->verdict, &out->reason, w.json.buf, w.json.len,
			    &why);
	if (r < 0) {
		r = unusable(out, why.buf);
		goto out;
	}
	if (keyed && o->cache) {
		const struct llm_endpoint *ep =
			llm_engine_endpoint(o->engine, o->endpoint);

		review_cache_put(o->cache, key, ep ? ep->model : "", w.json.buf,
				 &w.usage);
	}
out:
	llm_request_release(&req);
	llm_conv_result_release(&w);
	strbuf_release(&why);
	return r;
}
