/* The read-only tree tools of a review stage: see revtools.h. */
#define _GNU_SOURCE /* memmem */
#include "kreview/revtools.h"
#include "kreview/llm.h"
#include "kreview/llm_json.h"
#include "kreview/prompt.h"
#include "kreview/strbuf.h"
#include "kreview/symindex.h"

#include <ctype.h>
#include <git2.h>
#include <json-c/json.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Blobs above this size are not searched by grep (generated tables). */
#define GREP_MAX_BLOB (4u << 20)
/* Bytes of one matching line shown by grep. */
#define GREP_LINE_SHOW 200
/* Tree depth grep descends to. */
#define GREP_MAX_DEPTH 64
/* Bytes looked at to call a blob binary, as git does. */
#define BINARY_PROBE 8000

struct revtools {
	git_repository *repo;
	git_oid *trees;
	size_t nr_trees;
	git_oid base_commit;
	bool has_commit;
	char *token;
	struct revtools_limits lim;
	struct revtools_stats st;
};

int revtools_new(struct revtools **out, struct git_repository *repo,
		 const struct git_oid *trees, size_t nr_trees,
		 const struct git_oid *base_commit, const char *token,
		 const struct revtools_limits *lim)
{
	struct revtools *t;

	if (!repo || !nr_trees || !token || !*token)
		return -EINVAL;
	t = xcalloc(1, sizeof(*t));
	t->repo = repo;
	t->trees = xcalloc(nr_trees, sizeof(*t->trees));
	for (size_t i = 0; i < nr_trees; i++)
		git_oid_cpy(&t->trees[i], &trees[i]);
	t->nr_trees = nr_trees;
	if (base_commit) {
		git_oid_cpy(&t->base_commit, base_commit);
		t->has_commit = true;
	}
	t->token = xstrdup(token);
	if (lim)
		t->lim = *lim;
	if (!t->lim.max_bytes)
		t->lim.max_bytes = 32 << 10;
	if (!t->lim.max_lines)
		t->lim.max_lines = 400;
	if (!t->lim.max_matches)
		t->lim.max_matches = 100;
	if (!t->lim.max_scan_bytes)
		t->lim.max_scan_bytes = 64u << 20;
	if (!t->lim.max_log)
		t->lim.max_log = 50;
	if (!t->lim.max_walk)
		t->lim.max_walk = 200000;
	if (!t->lim.time_ms)
		t->lim.time_ms = 2000;
	*out = t;
	return 0;
}

void revtools_free(struct revtools *t)
{
	if (!t)
		return;
	free(t->trees);
	free(t->token);
	free(t);
}

void revtools_stats(struct revtools_stats *out, const struct revtools *t)
{
	*out = t->st;
}

/* ---- paths ---- */

int revtools_check_path(const char *path, bool prefix, struct strbuf *err)
{
	size_t len = strlen(path);
	const char *p = path;

	if (path[0] == '/') {
		if (err)
			strbuf_addstr(err, "absolute paths are refused: give a"
					   " path relative to the tree root");
		return -EINVAL;
	}
	if (prefix && len && path[len - 1] == '/')
		len--;
	if (!len) {
		if (prefix)
			return 0;
		if (err)
			strbuf_addstr(err, "the path is empty");
		return -EINVAL;
	}
	if (len > REVTOOLS_MAX_PATH) {
		if (err)
			strbuf_addf(err, "the path is longer than %d bytes",
				    REVTOOLS_MAX_PATH);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 0x20 || c == 0x7f || c == '\\') {
			if (err)
				strbuf_addstr(err, "the path contains a control"
						   " character or a backslash");
			return -EINVAL;
		}
	}
	if (path[len - 1] == '/') {
		if (err)
			strbuf_addstr(err, "the path ends in '/': name a file");
		return -EINVAL;
	}
	while (p < path + len) {
		const char *slash = memchr(p, '/', (size_t)(path + len - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(path + len - p);

		if (!n || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			if (err)
				strbuf_addstr(err, "the path has an empty, '.' or"
						   " '..' component: paths are"
						   " resolved beneath the tree root");
			return -EINVAL;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

/*
 * Look 'path' (checked) up in tree 'root', one component at a time so
 * that a symlink or submodule anywhere on the way is refused.  '*out'
 * is the blob or tree found; '*is_tree' says which.
 */
static int resolve(git_object **out, bool *is_tree, struct revtools *t,
		   const git_oid *root, const char *path, struct strbuf *err)
{
	git_tree *tree = NULL;
	struct strbuf comp = STRBUF_INIT;
	const char *p = path;
	int r;

	if (git_tree_lookup(&tree, t->repo, root) < 0) {
		strbuf_addstr(err, "the tree cannot be read");
		return -EIO;
	}
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		const git_tree_entry *e;
		git_filemode_t mode;
		bool last;

		strbuf_reset(&comp);
		strbuf_add(&comp, p, n);
		last = !slash || !slash[1];
		e = git_tree_entry_byname(tree, comp.buf);
		if (!e) {
			strbuf_addf(err, "'%s' is not in the tree", path);
			r = -ENOENT;
			goto out;
		}
		mode = git_tree_entry_filemode(e);
		if (mode == GIT_FILEMODE_LINK) {
			strbuf_addf(err, "'%.*s' is a symbolic link; links are"
					 " not followed: ask for the path it"
					 " points to",
				    (int)(p - path + (ptrdiff_t)n), path);
			r = -EPERM;
			goto out;
		}
		if (mode == GIT_FILEMODE_COMMIT) {
			strbuf_addf(err, "'%.*s' is a submodule, which is not"
					 " part of the tree",
				    (int)(p - path + (ptrdiff_t)n), path);
			r = -EPERM;
			goto out;
		}
		if (mode == GIT_FILEMODE_TREE) {
			git_tree *sub = NULL;

			if (git_tree_lookup(&sub, t->repo,
					    git_tree_entry_id(e)) < 0) {
				strbuf_addstr(err, "the tree cannot be read");
				r = -EIO;
				goto out;
			}
			git_tree_free(tree);
			tree = sub;
			if (last) {
				*out = (git_object *)tree;
				*is_tree = true;
				tree = NULL;
				r = 0;
				goto out;
			}
			p = slash + 1;
			continue;
		}
		if (!last) {
			strbuf_addf(err, "'%.*s' is a file, not a directory",
				    (int)(p - path + (ptrdiff_t)n), path);
			r = -ENOENT;
			goto out;
		}
		if (git_object_lookup(out, t->repo, git_tree_entry_id(e),
				      GIT_OBJECT_BLOB) < 0) {
			strbuf_addstr(err, "the file cannot be read");
			r = -EIO;
			goto out;
		}
		*is_tree = false;
		r = 0;
		goto out;
	}
	/* the root itself */
	*out = (git_object *)tree;
	*is_tree = true;
	tree = NULL;
	r = 0;
out:
	git_tree_free(tree);
	strbuf_release(&comp);
	return r;
}

static bool is_binary(const char *buf, size_t len)
{
	return memchr(buf, '\0', len < BINARY_PROBE ? len : BINARY_PROBE);
}

/* ---- arguments ---- */

struct args {
	struct json_object *root;
	size_t position;
};

static const char *const tool_names[REVTOOLS_NR] = {
	"read_file", "read_function", "grep", "git_log",
};

static const char *const tool_descriptions[REVTOOLS_NR] = {
	"Read lines of a file of the kernel tree under review, numbered. "
	"'path' is relative to the tree root. 'start' and 'end' are 1-based "
	"and inclusive (default: the first 200 lines; at most 400 lines "
	"and 32 KiB per call). 'position' picks the tree: 0 is the base "
	"before the series, N the tree after patch N; default the tip of "
	"the series.",
	"Read one C definition (function, struct, macro, typedef) by name "
	"from a .c or .h file of the tree, numbered. 'position' as for "
	"read_file.",
	"Search the tree for lines containing 'pattern' (a fixed string; a "
	"PCRE2 regex when 'regex' is true), below 'path_prefix' (default the "
	"whole tree). At most 100 matching lines; large or binary files "
	"are skipped. 'position' as for read_file.",
	"List the commits below the base of the series that changed 'path' "
	"(a file or directory), newest first: id, date, author and subject. "
	"'max' entries, at most 50 (default 20). Merges are left out.",
};

#define POSITION_PROP "\"position\": {\"type\": \"integer\", \"minimum\": 0}"

static const char *const tool_schemas[REVTOOLS_NR] = {
	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"path\"], \"properties\": {"
	"\"path\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 1024},"
	"\"start\": {\"type\": \"integer\", \"minimum\": 1},"
	"\"end\": {\"type\": \"integer\", \"minimum\": 1}," POSITION_PROP "}}",

	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"path\", \"name\"], \"properties\": {"
	"\"path\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 1024},"
	"\"name\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 128},"
	POSITION_PROP "}}",

	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"pattern\"], \"properties\": {"
	"\"pattern\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 256},"
	"\"path_prefix\": {\"type\": \"string\", \"maxLength\": 1024},"
	"\"regex\": {\"type\": \"boolean\"}," POSITION_PROP "}}",

	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"path\"], \"properties\": {"
	"\"path\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 1024},"
	"\"max\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 50}}}",
};

const char *revtools_name(size_t i)
{
	if (i >= REVTOOLS_NR)
		BUG("no tool %zu", i);
	return tool_names[i];
}

const char *revtools_description(size_t i)
{
	if (i >= REVTOOLS_NR)
		BUG("no tool %zu", i);
	return tool_descriptions[i];
}

const char *revtools_schema(size_t i)
{
	if (i >= REVTOOLS_NR)
		BUG("no tool %zu", i);
	return tool_schemas[i];
}

static int parse_args(struct args *a, struct revtools *t, size_t tool,
		      const char *text, struct strbuf *err)
{
	struct json_object *schema = NULL, *pos;
	struct strbuf why = STRBUF_INIT;
	int r = -EINVAL;

	memset(a, 0, sizeof(*a));
	if (llm_json_parse(&a->root, text, strlen(text), &why) < 0 ||
	    llm_json_parse(&schema, tool_schemas[tool],
			   strlen(tool_schemas[tool]), NULL) < 0 ||
	    llm_json_validate(a->root, schema, &why) < 0) {
		strbuf_addf(err, "bad arguments for %s: %s", tool_names[tool],
			    why.buf);
		goto out;
	}
	a->position = t->nr_trees - 1;
	if (json_object_object_get_ex(a->root, "position", &pos)) {
		int64_t v = json_object_get_int64(pos);

		if (v < 0 || (uint64_t)v >= t->nr_trees) {
			strbuf_addf(err, "position %" PRId64 " does not exist:"
					 " 0 is the base, %zu the tip",
				    v, t->nr_trees - 1);
			r = -ENOENT;
			goto out;
		}
		a->position = (size_t)v;
	}
	r = 0;
out:
	if (r < 0) {
		json_object_put(a->root);
		a->root = NULL;
	}
	json_object_put(schema);
	strbuf_release(&why);
	return r;
}

static const char *arg_str(const struct args *a, const char *key,
			   const char *def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(a->root, key, &v))
		return def;
	return json_object_get_string(v);
}

static int64_t arg_int(const struct args *a, const char *key, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(a->root, key, &v))
		return def;
	return json_object_get_int64(v);
}

static bool arg_bool(const struct args *a, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(a->root, key, &v) &&
	       json_object_get_boolean(v);
}

static const char *where(struct strbuf *sb, const struct revtools *t,
			 size_t pos)
{
	strbuf_reset(sb);
	if (pos == 0)
		strbuf_addstr(sb, "the base of the series");
	else if (pos == t->nr_trees - 1)
		strbuf_addf(sb, "the tip of the series (after patch %zu)", pos);
	else
		strbuf_addf(sb, "the tree after patch %zu", pos);
	return sb->buf;
}

/*
 * Append 'body' fenced, then the trusted notes.  -EEXIST when the
 * material contains the token (it could close the fence).
 */
static int emit(struct strbuf *out, struct revtools *t,
		const struct strbuf *body, const struct strbuf *notes)
{
	if (prompt_fence(out, t->token, "tool-output", body->buf,
			 body->len) < 0) {
		strbuf_addstr(out, "error: the output contains the fence token"
				   " and is withheld");
		return -EEXIST;
	}
	strbuf_addbuf(out, notes);
	return 0;
}

/* ---- read_file and read_function ---- */

/*
 * Append lines [start, end] of 'buf' numbered; stop before 'max_bytes'
 * of output.  Return the last line shown (start - 1 if none).
 */
static unsigned add_lines(struct strbuf *out, const char *buf, size_t len,
			  unsigned start, unsigned end, size_t max_bytes)
{
	size_t pos = 0, base = out->len;
	unsigned n = 1, shown = start - 1;

	while (pos < len && n <= end) {
		const char *l = buf + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos;

		if (n >= start) {
			if (out->len - base + ll + 9 > max_bytes)
				break;
			strbuf_addf(out, "%6u  ", n);
			strbuf_add(out, l, ll);
			strbuf_addch(out, '\n');
			shown = n;
		}
		pos += ll + 1;
		n++;
	}
	return shown;
}

/* The blob at 'path' of position 'pos', checked for text. */
static int read_blob(git_blob **out, struct revtools *t, const char *path,
		     size_t pos, struct strbuf *err)
{
	git_object *obj = NULL;
	bool is_tree = false;
	int r = revtools_check_path(path, false, err);

	if (r < 0)
		return r;
	r = resolve(&obj, &is_tree, t, &t->trees[pos], path, err);
	if (r < 0)
		return r;
	if (is_tree) {
		git_object_free(obj);
		strbuf_addf(err, "'%s' is a directory: use grep with"
				 " path_prefix to look inside", path);
		return -EISDIR;
	}
	if (is_binary(git_blob_rawcontent((git_blob *)obj),
		      (size_t)git_blob_rawsize((git_blob *)obj))) {
		git_object_free(obj);
		strbuf_addf(err, "'%s' is a binary file", path);
		return -EMEDIUMTYPE;
	}
	*out = (git_blob *)obj;
	return 0;
}

static int tool_read_file(struct strbuf *out, struct revtools *t,
			  const struct args *a, struct strbuf *err)
{
	const char *path = arg_str(a, "path", "");
	int64_t start = arg_int(a, "start", 1);
	int64_t end = arg_int(a, "end", start + 199);
	struct strbuf body = STRBUF_INIT, notes = STRBUF_INIT,
		      w = STRBUF_INIT;
	git_blob *blob = NULL;
	const char *buf;
	size_t len;
	unsigned total, shown;
	int r;

	r = read_blob(&blob, t, path, a->position, err);
	if (r < 0)
		goto out;
	buf = git_blob_rawcontent(blob);
	len = (size_t)git_blob_rawsize(blob);
	total = (unsigned)count_lines(buf, len);
	if (end < start) {
		strbuf_addf(err, "end %" PRId64 " is before start %" PRId64,
			    end, start);
		r = -EINVAL;
		goto out;
	}
	if (start > total) {
		strbuf_addf(err, "'%s' has %u lines; start %" PRId64
				 " is past its end", path, total, start);
		r = -EINVAL;
		goto out;
	}
	if (end > total)
		end = total;
	if (end - start + 1 > t->lim.max_lines)
		end = start + t->lim.max_lines - 1;
	strbuf_addf(&body, "%s at %s, lines %" PRId64 "-%" PRId64 " of %u\n",
		    path, where(&w, t, a->position), start, end, total);
	shown = add_lines(&body, buf, len, (unsigned)start, (unsigned)end,
			  t->lim.max_bytes);
	if (shown < (unsigned)end)
		strbuf_addf(&notes, "[output cut at line %u by the %zu-byte"
				    " cap: ask for the rest from line %u]\n",
			    shown, t->lim.max_bytes, shown + 1);
	else if ((unsigned)end < total)
		strbuf_addf(&notes, "[%u more lines follow]\n",
			    total - (unsigned)end);
	r = emit(out, t, &body, &notes);
out:
	git_blob_free(blob);
	strbuf_release(&body);
	strbuf_release(&notes);
	strbuf_release(&w);
	return r;
}

static int tool_read_function(struct strbuf *out, struct revtools *t,
			      const struct args *a, struct strbuf *err)
{
	const char *path = arg_str(a, "path", "");
	const char *name = arg_str(a, "name", "");
	struct strbuf body = STRBUF_INIT, notes = STRBUF_INIT,
		      w = STRBUF_INIT;
	struct symindex_def def;
	git_blob *blob = NULL;
	unsigned end, shown, others = 0;
	int r;

	for (const char *c = name; *c; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_') {
			strbuf_addstr(err, "a name is a C identifier");
			r = -EINVAL;
			goto out;
		}
	}
	if (!symindex_wants_path(path)) {
		strbuf_addstr(err, "read_function reads .c and .h files; use"
				   " read_file for others");
		r = -EINVAL;
		goto out;
	}
	r = read_blob(&blob, t, path, a->position, err);
	if (r < 0)
		goto out;
	if (!symindex_find_def(&def, &others, git_blob_rawcontent(blob),
			       (size_t)git_blob_rawsize(blob), name)) {
		strbuf_addf(err, "no definition of '%s' in '%s' at %s", name,
			    path, where(&w, t, a->position));
		r = -ENOENT;
		goto out;
	}
	end = def.end_line;
	if (end - def.line + 1 > t->lim.max_lines)
		end = def.line + t->lim.max_lines - 1;
	strbuf_addf(&body, "%s %s in %s at %s, lines %u-%u\n",
		    symindex_kind_name(def.kind), name, path,
		    where(&w, t, a->position), def.line, def.end_line);
	shown = add_lines(&body, git_blob_rawcontent(blob),
			  (size_t)git_blob_rawsize(blob), def.line, end,
			  t->lim.max_bytes);
	if (shown < def.end_line)
		strbuf_addf(&notes, "[cut at line %u by the output cap: use"
				    " read_file from line %u for the rest]\n",
			    shown, shown + 1);
	if (others)
		strbuf_addf(&notes, "[%u other definition%s of the name in the"
				    " file not shown]\n",
			    others, others == 1 ? "" : "s");
	r = emit(out, t, &body, &notes);
out:
	git_blob_free(blob);
	strbuf_release(&body);
	strbuf_release(&notes);
	strbuf_release(&w);
	return r;
}

/* ---- grep ---- */

struct grep {
	struct revtools *t;
	const char *pattern;
	size_t pattern_len;
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	struct strbuf *body;
	int64_t deadline;
	unsigned matches, files, skipped;
	size_t scanned;
	const char *stop;	/* why the search stopped early, or NULL */
	struct strbuf path;
};

/* Does one line match?  A regex hitting its limits counts as no. */
static bool grep_line(struct grep *g, const char *l, size_t n)
{
	if (!g->re)
		return n >= g->pattern_len &&
		       memmem(l, n, g->pattern, g->pattern_len);
	return pcre2_match(g->re, (PCRE2_SPTR)l, n, 0, 0, g->md, g->mctx) >= 0;
}

static void grep_blob(struct grep *g, const git_oid *id)
{
	git_blob *blob = NULL;
	const char *buf;
	size_t len, pos = 0;
	unsigned n = 1;

	if (git_blob_lookup(&blob, g->t->repo, id) < 0)
		return;
	buf = git_blob_rawcontent(blob);
	len = (size_t)git_blob_rawsize(blob);
	if (len > GREP_MAX_BLOB || is_binary(buf, len)) {
		g->skipped++;
		goto out;
	}
	if (g->scanned + len > g->t->lim.max_scan_bytes) {
		g->stop = "the cap on bytes searched";
		goto out;
	}
	g->scanned += len;
	g->files++;
	while (pos < len) {
		const char *l = buf + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos;

		if (grep_line(g, l, ll)) {
			if (g->matches >= g->t->lim.max_matches) {
				g->stop = "the cap on matches";
				goto out;
			}
			if (g->body->len + g->path.len + GREP_LINE_SHOW + 16 >
			    g->t->lim.max_bytes) {
				g->stop = "the output cap";
				goto out;
			}
			g->matches++;
			strbuf_addf(g->body, "%s:%u: %.*s%s\n", g->path.buf, n,
				    (int)(ll > GREP_LINE_SHOW ? GREP_LINE_SHOW : ll),
				    l, ll > GREP_LINE_SHOW ? " [...]" : "");
		}
		pos += ll + 1;
		n++;
	}
out:
	git_blob_free(blob);
}

static void grep_tree(struct grep *g, const git_tree *tree, int depth)
{
	size_t n = git_tree_entrycount(tree);
	size_t plen = g->path.len;

	if (depth > GREP_MAX_DEPTH)
		return;
	for (size_t i = 0; i < n && !g->stop; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		git_filemode_t mode = git_tree_entry_filemode(e);

		if (time_mono_ms() > g->deadline) {
			g->stop = "the time limit";
			break;
		}
		strbuf_setlen(&g->path, plen);
		if (plen)
			strbuf_addch(&g->path, '/');
		strbuf_addstr(&g->path, git_tree_entry_name(e));
		if (mode == GIT_FILEMODE_TREE) {
			git_tree *sub = NULL;

			if (git_tree_lookup(&sub, g->t->repo,
					    git_tree_entry_id(e)) == 0)
				grep_tree(g, sub, depth + 1);
			git_tree_free(sub);
		} else if (mode == GIT_FILEMODE_BLOB ||
			   mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
			grep_blob(g, git_tree_entry_id(e));
		}
		/* symlinks and submodules are not searched */
	}
	strbuf_setlen(&g->path, plen);
}

static int tool_grep(struct strbuf *out, struct revtools *t,
		     const struct args *a, struct strbuf *err)
{
	const char *pattern = arg_str(a, "pattern", "");
	const char *prefix = arg_str(a, "path_prefix", "");
	struct grep g = { .t = t, .pattern = pattern };
	struct strbuf body = STRBUF_INIT, notes = STRBUF_INIT,
		      w = STRBUF_INIT, pfx = STRBUF_INIT;
	git_object *obj = NULL;
	bool is_tree = false;
	int r;

	g.pattern_len = strlen(pattern);
	g.body = &body;
	strbuf_init(&g.path, 0);
	if (strchr(pattern, '\n')) {
		strbuf_addstr(err, "the pattern matches within one line: no"
				   " newlines");
		r = -EINVAL;
		goto out;
	}
	r = revtools_check_path(prefix, true, err);
	if (r < 0)
		goto out;
	strbuf_addstr(&pfx, prefix);
	if (pfx.len && pfx.buf[pfx.len - 1] == '/')
		strbuf_setlen(&pfx, pfx.len - 1);
	if (arg_bool(a, "regex")) {
		int ecode;
		PCRE2_SIZE eoff;

		g.re = pcre2_compile((PCRE2_SPTR)pattern, g.pattern_len, 0,
				     &ecode, &eoff, NULL);
		if (!g.re) {
			PCRE2_UCHAR msg[128];

			pcre2_get_error_message(ecode, msg, sizeof(msg));
			strbuf_addf(err, "bad regex at offset %zu: %s",
				    (size_t)eoff, (const char *)msg);
			r = -EINVAL;
			goto out;
		}
		g.md = pcre2_match_data_create_from_pattern(g.re, NULL);
		g.mctx = pcre2_match_context_create(NULL);
		pcre2_set_match_limit(g.mctx, 100000);
		pcre2_set_depth_limit(g.mctx, 1000);
		pcre2_set_heap_limit(g.mctx, 1024);
	}
	r = resolve(&obj, &is_tree, t, &t->trees[a->position], pfx.buf, err);
	if (r < 0)
		goto out;
	g.deadline = time_mono_ms() + t->lim.time_ms;
	strbuf_addbuf(&g.path, &pfx);
	strbuf_addf(&body, "lines matching the %s below %s%s%s at %s:\n",
		    g.re ? "regex" : "string", pfx.len ? "'" : "the tree root",
		    pfx.buf, pfx.len ? "'" : "", where(&w, t, a->position));
	if (is_tree) {
		grep_tree(&g, (git_tree *)obj, 0);
	} else {
		grep_blob(&g, git_object_id(obj));
	}
	if (!g.matches)
		strbuf_addstr(&body, "(no match)\n");
	strbuf_addf(&notes, "[%u match%s in %u file%s searched", g.matches,
		    g.matches == 1 ? "" : "es", g.files, g.files == 1 ? "" : "s");
	if (g.skipped)
		strbuf_addf(&notes, ", %u large or binary file%s skipped",
			    g.skipped, g.skipped == 1 ? "" : "s");
	if (g.stop)
		strbuf_addf(&notes, "; stopped early by %s: narrow the"
				    " path_prefix or the pattern", g.stop);
	strbuf_addstr(&notes, "]\n");
	r = emit(out, t, &body, &notes);
out:
	git_object_free(obj);
	pcre2_match_data_free(g.md);
	pcre2_match_context_free(g.mctx);
	pcre2_code_free(g.re);
	strbuf_release(&g.path);
	strbuf_release(&body);
	strbuf_release(&notes);
	strbuf_release(&w);
	strbuf_release(&pfx);
	return r;
}

/* ---- git_log ---- */

/* Is the entry at 'path' different between the trees of 'c' and 'p'? */
static int path_changed(git_commit *c, git_commit *p, const char *path)
{
	git_tree *tc = NULL, *tp = NULL;
	git_tree_entry *ec = NULL, *ep = NULL;
	int changed = 0;

	if (git_commit_tree(&tc, c) < 0)
		return -EIO;
	if (p && git_commit_tree(&tp, p) < 0) {
		git_tree_free(tc);
		return -EIO;
	}
	(void)git_tree_entry_bypath(&ec, tc, path);
	if (tp)
		(void)git_tree_entry_bypath(&ep, tp, path);
	if (!ec != !ep)
		changed = 1;
	else if (ec && ep)
		changed = !git_oid_equal(git_tree_entry_id(ec),
					 git_tree_entry_id(ep)) ||
			  git_tree_entry_filemode(ec) !=
				  git_tree_entry_filemode(ep);
	git_tree_entry_free(ec);
	git_tree_entry_free(ep);
	git_tree_free(tc);
	git_tree_free(tp);
	return changed;
}

static int tool_git_log(struct strbuf *out, struct revtools *t,
			const struct args *a, struct strbuf *err)
{
	const char *arg = arg_str(a, "path", "");
	int64_t max = arg_int(a, "max", 20);
	struct strbuf body = STRBUF_INIT, notes = STRBUF_INIT,
		      path = STRBUF_INIT;
	git_revwalk *walk = NULL;
	const char *stop = NULL;
	unsigned found = 0, walked = 0;
	int64_t deadline;
	git_oid id;
	int r;

	if (!t->has_commit) {
		strbuf_addstr(err, "no history: the series was applied on a"
				   " tree, not a commit");
		return -ENOSYS;
	}
	r = revtools_check_path(arg, true, err);
	if (r < 0)
		return r;
	strbuf_addstr(&path, arg);
	if (path.len && path.buf[path.len - 1] == '/')
		strbuf_setlen(&path, path.len - 1);
	if (!path.len) {
		strbuf_addstr(err, "name a file or directory");
		r = -EINVAL;
		goto out;
	}
	if ((uint64_t)max > t->lim.max_log)
		max = t->lim.max_log;
	if (git_revwalk_new(&walk, t->repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(walk, &t->base_commit) < 0) {
		strbuf_addstr(err, "the history cannot be read");
		r = -EIO;
		goto out;
	}
	deadline = time_mono_ms() + t->lim.time_ms;
	strbuf_addf(&body, "commits that changed '%s' below the base, newest"
			   " first (merges left out):\n", path.buf);
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL, *p = NULL;
		int ch;

		if (found >= (unsigned)max)
			break;
		if (walked >= t->lim.max_walk) {
			stop = "the cap on commits walked";
			break;
		}
		if (time_mono_ms() > deadline) {
			stop = "the time limit";
			break;
		}
		walked++;
		if (git_commit_lookup(&c, t->repo, &id) < 0)
			continue;
		if (git_commit_parentcount(c) > 1 ||
		    (git_commit_parentcount(c) == 1 &&
		     git_commit_parent(&p, c, 0) < 0)) {
			git_commit_free(c);
			continue;
		}
		ch = path_changed(c, p, path.buf);
		if (ch > 0) {
			const git_signature *au = git_commit_author(c);
			time_t when = (time_t)git_commit_time(c);
			struct tm tm;
			char date[16] = "?";
			char hex[13];
			const char *subj = git_commit_summary(c);

			if (gmtime_r(&when, &tm))
				strftime(date, sizeof(date), "%Y-%m-%d", &tm);
			git_oid_tostr(hex, sizeof(hex), &id);
			if (body.len + 256 > t->lim.max_bytes) {
				stop = "the output cap";
				git_commit_free(p);
				git_commit_free(c);
				break;
			}
			strbuf_addf(&body, "%s %s %.60s: %.160s\n", hex, date,
				    au && au->name ? au->name : "?",
				    subj ? subj : "");
			found++;
		}
		git_commit_free(p);
		git_commit_free(c);
	}
	if (!found)
		strbuf_addstr(&body, "(none found)\n");
	strbuf_addf(&notes, "[%u commit%s listed, %u walked", found,
		    found == 1 ? "" : "s", walked);
	if (stop)
		strbuf_addf(&notes, "; stopped early by %s", stop);
	strbuf_addstr(&notes, "]\n");
	r = emit(out, t, &body, &notes);
out:
	git_revwalk_free(walk);
	strbuf_release(&body);
	strbuf_release(&notes);
	strbuf_release(&path);
	return r;
}

/* ---- dispatch ---- */

typedef int (*tool_impl)(struct strbuf *out, struct revtools *t,
			 const struct args *a, struct strbuf *err);

static const tool_impl tool_impls[REVTOOLS_NR] = {
	tool_read_file, tool_read_function, tool_grep, tool_git_log,
};

int revtools_call(struct strbuf *out, struct revtools *t, const char *name,
		  const char *args)
{
	struct strbuf err = STRBUF_INIT;
	struct args a = { 0 };
	size_t i;
	int r;

	t->st.calls++;
	r = name_index(tool_names, REVTOOLS_NR, name);
	if (r < 0) {
		strbuf_addstr(&err, "no such tool");
		r = -ENOSYS;
		goto out;
	}
	i = (size_t)r;
	r = parse_args(&a, t, i, args ? args : "", &err);
	if (r == 0) {
		size_t before = out->len;

		r = tool_impls[i](out, t, &a, &err);
		if (r == 0)
			t->st.bytes += out->len - before;
	}
out:
	if (r < 0 && err.len) {
		/* a refused call gives the reason and nothing else */
		t->st.refused++;
		strbuf_addf(out, "error: %s", err.buf);
	} else if (r < 0) {
		t->st.refused++;
	}
	json_object_put(a.root);
	strbuf_release(&err);
	return r;
}

static int call_read_file(struct strbuf *out, const char *args, void *data)
{
	return revtools_call(out, data, "read_file", args);
}

static int call_read_function(struct strbuf *out, const char *args,
			      void *data)
{
	return revtools_call(out, data, "read_function", args);
}

static int call_grep(struct strbuf *out, const char *args, void *data)
{
	return revtools_call(out, data, "grep", args);
}

static int call_git_log(struct strbuf *out, const char *args, void *data)
{
	return revtools_call(out, data, "git_log", args);
}

static const llm_tool_fn tool_fns[REVTOOLS_NR] = {
	call_read_file, call_read_function, call_grep, call_git_log,
};

void revtools_register(struct llm_conv *c, struct revtools *t)
{
	for (size_t i = 0; i < REVTOOLS_NR; i++)
		llm_conv_add_tool(c, tool_names[i], tool_descriptions[i],
				  tool_schemas[i], tool_fns[i], t);
}
