/*
 * Code context for one patch: see include/kreview/context.h for what is
 * collected and the order in which the byte budget drops it.
 */
#define _GNU_SOURCE /* memrchr, memmem */
#include "kreview/context.h"

#include <git2.h>

#include "kreview/apply.h"
#include "kreview/diff.h"
#include "kreview/strbuf.h"

/* Identifiers taken from the changed lines of one patch at most. */
#define CONTEXT_MAX_IDENTS 256
/* Definitions of one name considered when choosing the best. */
#define CONTEXT_MAX_CANDIDATES 16

void context_release(struct context *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nr; i++) {
		free(c->items[i].path);
		free(c->items[i].name);
		free(c->items[i].text);
	}
	free(c->items);
	memset(c, 0, sizeof(*c));
}

/* ---------------------------------------------------------------- */
/* Definitions of one text                                          */

struct def {
	char *name;
	enum symindex_kind kind;
	unsigned line, end_line;
};

struct defs {
	struct def *v;
	size_t nr, alloc;
};

static int collect_def(const struct symindex_def *d, void *data)
{
	struct defs *defs = data;

	ALLOC_GROW(defs->v, defs->nr + 1, defs->alloc);
	defs->v[defs->nr].name = xmemdupz(d->name, d->name_len);
	defs->v[defs->nr].kind = d->kind;
	defs->v[defs->nr].line = d->line;
	defs->v[defs->nr].end_line = d->end_line;
	defs->nr++;
	return 0;
}

static void defs_release(struct defs *defs)
{
	size_t i;

	for (i = 0; i < defs->nr; i++)
		free(defs->v[i].name);
	free(defs->v);
	memset(defs, 0, sizeof(*defs));
}

/* The innermost definition spanning 'line' (a block, not one line). */
static const struct def *defs_enclosing(const struct defs *defs,
					unsigned line)
{
	const struct def *best = NULL;
	size_t i;

	for (i = 0; i < defs->nr; i++) {
		const struct def *d = &defs->v[i];

		if (d->line > line || d->end_line < line)
			continue;
		if (d->kind == SYMINDEX_MACRO && d->line == d->end_line)
			continue;
		if (!best || d->end_line - d->line < best->end_line - best->line)
			best = d;
	}
	return best;
}

int context_enclosing(unsigned *start_out, unsigned *end_out,
		      const char *text, size_t len, unsigned line)
{
	struct defs defs = { 0 };
	const struct def *d;
	int ret = -ENOENT;

	symindex_scan_text(text, len, collect_def, &defs);
	d = defs_enclosing(&defs, line);
	if (d) {
		*start_out = d->line;
		*end_out = d->end_line;
		ret = 0;
	}
	defs_release(&defs);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Files of the patch                                               */

struct image {
	char *path;	/* NULL when the side does not exist */
	char *text;
	size_t len;
	git_oid blob;
	bool is_c;
	bool scanned;
	struct defs defs;
	size_t *line_off; /* byte offset of each line start */
	size_t lines;
};

static void image_release(struct image *im)
{
	free(im->path);
	free(im->text);
	defs_release(&im->defs);
	free(im->line_off);
	memset(im, 0, sizeof(*im));
}

static void image_index_lines(struct image *im)
{
	size_t i, n = 0, alloc = 0;

	ALLOC_GROW(im->line_off, 1, alloc);
	im->line_off[n++] = 0;
	for (i = 0; i < im->len; i++) {
		if (im->text[i] != '\n' || i + 1 == im->len)
			continue;
		ALLOC_GROW(im->line_off, n + 1, alloc);
		im->line_off[n++] = i + 1;
	}
	im->lines = im->len ? n : 0;
}

static void image_scan(struct image *im)
{
	if (im->scanned || !im->is_c)
		return;
	symindex_scan_text(im->text, im->len, collect_def, &im->defs);
	im->scanned = true;
}

/* Load 'path' from 'tree'; a missing path leaves the image empty. */
static int image_load(struct image *im, git_repository *repo,
		      git_tree *tree, const char *path, struct strbuf *err)
{
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int r, ret = 0;

	r = git_tree_entry_bypath(&te, tree, path);
	if (r == GIT_ENOTFOUND)
		return 0;
	if (r < 0 || git_tree_entry_type(te) != GIT_OBJECT_BLOB)
		goto out;
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0) {
		if (err)
			strbuf_addf(err, "cannot read blob of '%s'", path);
		ret = -EIO;
		goto out;
	}
	im->path = xstrdup(path);
	im->len = (size_t)git_blob_rawsize(blob);
	im->text = xmemdupz(git_blob_rawcontent(blob), im->len);
	git_oid_cpy(&im->blob, git_tree_entry_id(te));
	im->is_c = symindex_wants_path(path);
	image_index_lines(im);
out:
	git_blob_free(blob);
	git_tree_entry_free(te);
	return ret;
}

/* Bytes of lines [start, end] (1-based, clamped). */
static void image_slice(const struct image *im, unsigned start, unsigned end,
			const char **p, size_t *len)
{
	size_t a, b;

	if (!im->lines || start > im->lines) {
		*p = im->text;
		*len = 0;
		return;
	}
	if (start < 1)
		start = 1;
	if (end > im->lines)
		end = (unsigned)im->lines;
	a = im->line_off[start - 1];
	b = end < im->lines ? im->line_off[end] : im->len;
	*p = im->text + a;
	*len = b - a;
}

/* ---------------------------------------------------------------- */
/* Items                                                            */

static bool item_covers(const struct context *c, const char *path,
			bool post, unsigned start, unsigned end)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		const struct context_item *it = &c->items[i];

		if (it->post == post && !strcmp(it->path, path) &&
		    it->start <= start && it->end >= end)
			return true;
	}
	return false;
}

static struct context_item *add_item(struct context *c,
				     enum context_kind kind,
				     enum context_prio prio,
				     const struct image *im, bool post,
				     unsigned start, unsigned end,
				     const char *name, size_t max_bytes)
{
	struct context_item *it;
	const char *p;
	size_t len;

	image_slice(im, start, end, &p, &len);
	if (!len)
		return NULL;
	ALLOC_GROW(c->items, c->nr + 1, c->alloc);
	it = &c->items[c->nr++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->prio = prio;
	it->post = post;
	it->path = xstrdup(im->path);
	it->name = name ? xstrdup(name) : NULL;
	it->start = start < 1 ? 1 : start;
	it->end = end > im->lines ? (unsigned)im->lines : end;
	if (max_bytes && len > max_bytes) {
		struct strbuf sb = STRBUF_INIT;
		const char *nl = memrchr(p, '\n', max_bytes);
		size_t keep = nl ? (size_t)(nl - p) + 1 : max_bytes;

		strbuf_add(&sb, p, keep);
		strbuf_addf(&sb, "[... %zu bytes truncated]\n", len - keep);
		it->len = sb.len;
		it->text = strbuf_detach(&sb, NULL);
		it->truncated = true;
	} else {
		it->text = xmemdupz(p, len);
		it->len = len;
	}
	return it;
}

/* Enclosing block of 'line', else +/- N lines, merged with neighbours. */
static void add_around(struct context *c, struct image *im, bool post,
		       unsigned line, unsigned from, unsigned to,
		       enum context_prio fprio, const struct context_opts *o)
{
	const struct def *d = NULL;
	unsigned a, b;

	if (!im->path || !im->lines)
		return;
	if (im->is_c) {
		image_scan(im);
		d = defs_enclosing(&im->defs, line);
	}
	if (d) {
		struct context_item *it;

		if (item_covers(c, im->path, post, d->line, d->end_line))
			return;
		it = add_item(c, CONTEXT_FUNCTION, fprio, im, post, d->line,
			      d->end_line, d->name, 0);
		if (it)
			it->sym_kind = d->kind;
		return;
	}
	a = from > o->lines ? from - o->lines : 1;
	b = to + o->lines;
	if (item_covers(c, im->path, post, a, b))
		return;
	/* extend an earlier +/- N item of this file instead of repeating */
	if (c->nr) {
		struct context_item *last = &c->items[c->nr - 1];

		if (last->kind == CONTEXT_LINES && last->post == post &&
		    !strcmp(last->path, im->path) && last->end + 1 >= a &&
		    last->start <= a) {
			a = last->start;
			free(last->path);
			free(last->name);
			free(last->text);
			c->nr--;
		}
	}
	add_item(c, CONTEXT_LINES, CONTEXT_PRIO_LINES, im, post, a, b, NULL,
		 0);
}

/* ---------------------------------------------------------------- */
/* Identifiers of changed lines                                     */

enum ref_kind {
	REF_TAG,   /* after struct/union/enum */
	REF_CALL,  /* followed by '(' */
	REF_PLAIN,
};

struct ref {
	char *name;
	enum ref_kind kind;
};

struct refs {
	struct ref *v;
	size_t nr, alloc;
};

static const char *const c_words[] = {
	"auto", "break", "case", "char", "const", "continue", "default", "do",
	"double", "else", "enum", "extern", "float", "for", "goto", "if",
	"inline", "int", "long", "register", "restrict", "return", "short",
	"signed", "sizeof", "static", "struct", "switch", "typedef", "union",
	"unsigned", "void", "volatile", "while", "bool", "true", "false",
	"NULL", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
	"size_t", "ssize_t", "__user", "__rcu", "__iomem", "likely",
	"unlikely", "typeof", "__always_inline", "noinline", "__init",
	"__exit", "__cold", "__maybe_unused", "READ_ONCE", "WRITE_ONCE",
};

static bool is_c_word(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c_words); i++)
		if (strlen(c_words[i]) == len && !memcmp(c_words[i], s, len))
			return true;
	return false;
}

static bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

static void refs_add(struct refs *r, const char *s, size_t len,
		     enum ref_kind kind)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (r->v[i].kind == kind && strlen(r->v[i].name) == len &&
		    !memcmp(r->v[i].name, s, len))
			return;
	if (r->nr >= CONTEXT_MAX_IDENTS)
		return;
	ALLOC_GROW(r->v, r->nr + 1, r->alloc);
	r->v[r->nr].name = xmemdupz(s, len);
	r->v[r->nr].kind = kind;
	r->nr++;
}

static void refs_release(struct refs *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		free(r->v[i].name);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Identifiers of one changed line (without its +/- tag). */
static void refs_from_line(struct refs *r, const char *s, size_t len)
{
	size_t i = 0;
	bool after_tag_kw = false;

	while (i < len) {
		char c = s[i];

		if (c == '/' && i + 1 < len && s[i + 1] == '/')
			break;
		if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			const char *e = memmem(s + i + 2, len - i - 2, "*/", 2);

			i = e ? (size_t)(e - s) + 2 : len;
			continue;
		}
		if (c == '"' || c == '\'') {
			i++;
			while (i < len && s[i] != c) {
				if (s[i] == '\\')
					i++;
				i++;
			}
			i++;
			continue;
		}
		if (ident_start(c)) {
			size_t a = i, n, j;

			while (i < len && ident_char(s[i]))
				i++;
			n = i - a;
			if (n == 6 && (!memcmp(s + a, "struct", 6))) {
				after_tag_kw = true;
				continue;
			}
			if ((n == 5 && !memcmp(s + a, "union", 5)) ||
			    (n == 4 && !memcmp(s + a, "enum", 4))) {
				after_tag_kw = true;
				continue;
			}
			/* a member after "->" or "." is not a symbol */
			if (a >= 1 && (s[a - 1] == '.' ||
				       (a >= 2 && s[a - 1] == '>' &&
					s[a - 2] == '-'))) {
				after_tag_kw = false;
				continue;
			}
			j = i;
			while (j < len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (after_tag_kw)
				refs_add(r, s + a, n, REF_TAG);
			else if (!is_c_word(s + a, n) && n > 1)
				refs_add(r, s + a, n,
					 j < len && s[j] == '(' ? REF_CALL :
								  REF_PLAIN);
			after_tag_kw = false;
			continue;
		}
		if (c >= '0' && c <= '9') {
			while (i < len && ident_char(s[i]))
				i++;
			continue;
		}
		i++;
	}
}

static bool kind_fits(enum ref_kind rk, enum symindex_kind k)
{
	switch (rk) {
	case REF_TAG:
		return k == SYMINDEX_STRUCT || k == SYMINDEX_UNION ||
		       k == SYMINDEX_ENUM;
	case REF_CALL:
		return k == SYMINDEX_FUNCTION || k == SYMINDEX_MACRO;
	case REF_PLAIN:
		return k == SYMINDEX_TYPEDEF || k == SYMINDEX_MACRO;
	}
	return false;
}

/* ---------------------------------------------------------------- */
/* Choosing and reading definitions                                 */

struct files {
	struct image *pre, *post; /* per diff file */
	size_t nr;
};

static size_t dir_len(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? (size_t)(s - path) : 0;
}

/* Same directory as a changed file, or one of its own headers. */
static bool is_near(const struct files *fs, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i, blen;

	base = base ? base + 1 : path;
	blen = strlen(base);
	for (i = 0; i < fs->nr; i++) {
		const char *p = fs->post[i].path ? fs->post[i].path :
						   fs->pre[i].path;
		size_t dl, stem;
		const char *dir_last, *fbase;

		if (!p)
			continue;
		dl = dir_len(p);
		if (dl == dir_len(path) && !strncmp(p, path, dl))
			return true;
		if (blen < 3 || strcmp(base + blen - 2, ".h"))
			continue;
		/* io_uring/net.c: include/linux/io_uring*.h, net.h */
		dir_last = p + dl;
		while (dir_last > p && dir_last[-1] != '/')
			dir_last--;
		if (dl && (size_t)(p + dl - dir_last) <= blen - 2 &&
		    !strncmp(base, dir_last, (size_t)(p + dl - dir_last)))
			return true;
		fbase = strrchr(p, '/');
		fbase = fbase ? fbase + 1 : p;
		stem = strcspn(fbase, ".");
		if (stem == blen - 2 && !strncmp(base, fbase, stem))
			return true;
	}
	return false;
}

static int score_path(const struct files *fs, const char *path)
{
	size_t i;

	for (i = 0; i < fs->nr; i++) {
		if ((fs->post[i].path && !strcmp(fs->post[i].path, path)) ||
		    (fs->pre[i].path && !strcmp(fs->pre[i].path, path)))
			return 3;
	}
	if (is_near(fs, path))
		return 2;
	return strlen(path) > 2 && !strcmp(path + strlen(path) - 2, ".h");
}

struct resolver {
	git_repository *repo;
	git_tree *post_tree;
	const struct symindex *idx;
	struct files *fs;
	struct context *c;
	const struct context_opts *o;
	struct image extra; /* a file read for one definition */
	struct strbuf *err;
};

static const struct def *find_in_defs(const struct defs *defs,
				      const char *name, enum ref_kind rk)
{
	size_t i;

	for (i = 0; i < defs->nr; i++)
		if (!strcmp(defs->v[i].name, name) &&
		    kind_fits(rk, defs->v[i].kind))
			return &defs->v[i];
	return NULL;
}

static void emit_def(struct resolver *rs, struct image *im,
		     const struct def *d)
{
	enum context_prio prio;
	bool type = d->kind == SYMINDEX_STRUCT || d->kind == SYMINDEX_UNION ||
		    d->kind == SYMINDEX_ENUM || d->kind == SYMINDEX_TYPEDEF;
	struct context_item *it;

	if (item_covers(rs->c, im->path, true, d->line, d->end_line))
		return;
	if (!is_near(rs->fs, im->path))
		prio = CONTEXT_PRIO_DISTANT_DEF;
	else
		prio = type ? CONTEXT_PRIO_TYPE_DEF : CONTEXT_PRIO_FUNC_DEF;
	it = add_item(rs->c, CONTEXT_DEFINITION, prio, im, true, d->line,
		      d->end_line, d->name, rs->o->max_def_bytes);
	if (it)
		it->sym_kind = d->kind;
}

/* Resolve one reference; returns 1 when a definition was added. */
static int resolve(struct resolver *rs, const struct ref *ref)
{
	const struct symindex_entry *cand[CONTEXT_MAX_CANDIDATES];
	const struct symindex_entry *best = NULL;
	size_t i, n;
	int best_score = -1, ret = 0;
	struct image *im = NULL;
	const struct def *d;
	size_t before = rs->c->nr;

	/* the patch's own files first (post-image, current lines) */
	for (i = 0; i < rs->fs->nr; i++) {
		struct image *p = &rs->fs->post[i];

		if (!p->path || !p->is_c)
			continue;
		image_scan(p);
		d = find_in_defs(&p->defs, ref->name, ref->kind);
		if (d) {
			emit_def(rs, p, d);
			return 1;
		}
	}
	if (!rs->idx)
		return 0;
	n = symindex_lookup(cand, ARRAY_SIZE(cand), rs->idx, ref->name,
			    strlen(ref->name));
	if (n > ARRAY_SIZE(cand))
		n = ARRAY_SIZE(cand);
	for (i = 0; i < n; i++) {
		int s;

		if (!kind_fits(ref->kind, cand[i]->kind))
			continue;
		s = score_path(rs->fs, cand[i]->path);
		if (s > best_score) {
			best = cand[i];
			best_score = s;
		}
	}
	if (!best || best_score == 3)
		return 0; /* none, or in a patched file: handled above */

	/* read the file as it is in the post-image */
	image_release(&rs->extra);
	if (image_load(&rs->extra, rs->repo, rs->post_tree, best->path,
		       rs->err) < 0)
		return -EIO;
	im = &rs->extra;
	if (!im->path)
		return 0;
	if (best->blob && git_oid_equal(best->blob, &im->blob)) {
		struct def tmp = { (char *)best->name, best->kind, best->line,
				   best->end_line };

		emit_def(rs, im, &tmp);
	} else {
		image_scan(im);
		d = find_in_defs(&im->defs, ref->name, ref->kind);
		if (d)
			emit_def(rs, im, d);
	}
	ret = rs->c->nr > before;
	return ret;
}

/* ---------------------------------------------------------------- */
/* Budget                                                           */

static void drop_item(struct context *c, size_t i)
{
	struct context_item *it = &c->items[i];

	c->dropped_nr++;
	c->dropped_bytes += it->len;
	free(it->path);
	free(it->name);
	free(it->text);
	memmove(it, it + 1, (c->nr - i - 1) * sizeof(*it));
	c->nr--;
}

static size_t total_bytes(const struct context *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->nr; i++)
		n += c->items[i].len;
	return n;
}

static void apply_budget(struct context *c, size_t budget)
{
	size_t total = total_bytes(c), i;

	while (budget && total > budget) {
		size_t victim = SIZE_MAX;
		enum context_prio lowest = CONTEXT_PRIO_FUNCTION;

		for (i = 0; i < c->nr; i++) {
			if (c->items[i].prio < lowest ||
			    (c->items[i].prio == lowest &&
			     lowest != CONTEXT_PRIO_FUNCTION)) {
				lowest = c->items[i].prio;
				victim = i;
			}
		}
		if (victim == SIZE_MAX)
			break;
		total -= c->items[victim].len;
		drop_item(c, victim);
	}
	if (budget && total > budget) {
		/* only enclosing functions left: cut at the budget */
		size_t used = 0;

		for (i = 0; i < c->nr; i++) {
			struct context_item *it = &c->items[i];
			struct strbuf sb = STRBUF_INIT;
			size_t room = budget > used ? budget - used : 0;
			const char *nl;
			size_t keep;

			if (it->len <= room) {
				used += it->len;
				continue;
			}
			nl = room ? memrchr(it->text, '\n', room) : NULL;
			keep = nl ? (size_t)(nl - it->text) + 1 : 0;
			if (!keep) {
				drop_item(c, i);
				i--;
				used = budget;
				continue;
			}
			c->dropped_bytes += it->len - keep;
			strbuf_add(&sb, it->text, keep);
			strbuf_addf(&sb, "[... %zu bytes truncated]\n",
				    it->len - keep);
			free(it->text);
			it->len = sb.len;
			it->text = strbuf_detach(&sb, NULL);
			it->truncated = true;
			used = budget;
		}
	}
	c->bytes = total_bytes(c);
}

/* ---------------------------------------------------------------- */
/* Driver                                                           */

static int peel_tree(git_tree **out, git_repository *repo,
		     const git_oid *id, struct strbuf *err)
{
	git_object *obj = NULL;
	int ret = 0;

	if (git_object_lookup(&obj, repo, id, GIT_OBJECT_ANY) < 0 ||
	    git_object_peel((git_object **)out, obj, GIT_OBJECT_TREE) < 0) {
		if (err)
			strbuf_addf(err, "no tree '%s' in the repository",
				    git_oid_tostr_s(id));
		ret = -ENOENT;
	}
	git_object_free(obj);
	return ret;
}

/*
 * Walk a hunk body and call add_around() for each changed line on
 * both sides, at the positions the apply step found.
 */
static void hunk_context(struct context *c, struct image *pre,
			 struct image *post, const char *text, size_t len,
			 const struct diff_hunk *h, unsigned pre_start,
			 unsigned post_start, struct refs *refs,
			 const struct context_opts *o, bool deleted, bool is_c)
{
	size_t i = h->offset, end;
	unsigned pl = pre_start, nl = post_start;
	const char *eol;

	if (h->offset > len || h->length > len - h->offset)
		return;
	end = h->offset + h->length;
	eol = memchr(text + i, '\n', end - i);
	i = eol ? (size_t)(eol - text) + 1 : end;
	while (i < end) {
		size_t e;
		char tag;

		eol = memchr(text + i, '\n', end - i);
		e = eol ? (size_t)(eol - text) : end;
		tag = e > i ? text[i] : ' ';
		if (tag == '-' || tag == '+') {
			unsigned pline = pl ? pl : 1, nline = nl ? nl : 1;

			if (is_c)
				refs_from_line(refs, text + i + 1, e - i - 1);
			add_around(c, post, true, nline, nline, nline,
				   CONTEXT_PRIO_FUNCTION, o);
			add_around(c, pre, false, pline, pline, pline,
				   deleted ? CONTEXT_PRIO_FUNCTION :
					     CONTEXT_PRIO_PRE_FUNCTION,
				   o);
		}
		if (tag == ' ' || tag == '-')
			pl++;
		if (tag == ' ' || tag == '+')
			nl++;
		i = eol ? (size_t)(eol - text) + 1 : end;
	}
}

int context_build(struct context *out, struct git_repository *repo,
		  const struct git_oid *pre, const struct git_oid *post,
		  const char *patch, size_t patch_len,
		  const struct apply_patch *applied,
		  const struct symindex *idx, const struct context_opts *opts,
		  struct strbuf *err)
{
	static const struct context_opts default_opts = CONTEXT_OPTS_INIT;
	const struct context_opts *o = opts ? opts : &default_opts;
	struct context c = CONTEXT_INIT;
	struct diff d = DIFF_INIT;
	struct files fs = { 0 };
	struct refs refs = { 0 };
	struct resolver rs = { 0 };
	git_tree *pre_tree = NULL, *post_tree = NULL;
	size_t i, k, defs = 0;
	int ret;

	ret = diff_parse(&d, patch, patch_len, err);
	if (ret < 0) {
		ret = -EPROTO;
		goto out;
	}
	ret = peel_tree(&pre_tree, repo, pre, err);
	if (!ret)
		ret = peel_tree(&post_tree, repo, post, err);
	if (ret < 0)
		goto out;
	fs.nr = d.files_nr;
	fs.pre = xcalloc(fs.nr ? fs.nr : 1, sizeof(*fs.pre));
	fs.post = xcalloc(fs.nr ? fs.nr : 1, sizeof(*fs.post));
	for (i = 0; i < d.files_nr; i++) {
		const struct diff_file *f = &d.files[i];

		if (f->binary)
			continue;
		if (f->old_path && f->status != DIFF_ADDED)
			ret = image_load(&fs.pre[i], repo, pre_tree,
					 f->old_path, err);
		if (!ret && f->new_path && f->status != DIFF_DELETED)
			ret = image_load(&fs.post[i], repo, post_tree,
					 f->new_path, err);
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < d.files_nr; i++) {
		const struct diff_file *f = &d.files[i];
		const struct apply_file *af = NULL;
		long delta = 0;

		if (applied && applied->files_nr == d.files_nr &&
		    applied->files[i].hunks_nr == f->hunks_nr)
			af = &applied->files[i];
		for (k = 0; k < f->hunks_nr; k++) {
			const struct diff_hunk *h = &f->hunks[k];
			long ps = h->old_start, ns = h->new_start;

			if (af && !af->hunks[k].threeway &&
			    af->hunks[k].applied_line > 0) {
				/* positions where the hunk really went */
				ns = af->hunks[k].new_line;
				ps = ns - delta;
			}
			delta += h->new_lines - h->old_lines;
			hunk_context(&c, &fs.pre[i], &fs.post[i], patch,
				     patch_len, h, ps > 0 ? (unsigned)ps : 1,
				     ns > 0 ? (unsigned)ns : 1, &refs, o,
				     f->status == DIFF_DELETED,
				     symindex_wants_path(diff_file_path(f)));
		}
	}
	rs.repo = repo;
	rs.post_tree = post_tree;
	rs.idx = idx;
	rs.fs = &fs;
	rs.c = &c;
	rs.o = o;
	rs.err = err;
	for (i = 0; i < refs.nr && defs < o->max_defs; i++) {
		int r = resolve(&rs, &refs.v[i]);

		if (r < 0) {
			ret = r;
			goto out;
		}
		defs += (size_t)r;
	}
	apply_budget(&c, o->budget);
	*out = c;
	memset(&c, 0, sizeof(c));
	ret = 0;
out:
	image_release(&rs.extra);
	for (i = 0; i < fs.nr; i++) {
		image_release(&fs.pre[i]);
		image_release(&fs.post[i]);
	}
	free(fs.pre);
	free(fs.post);
	refs_release(&refs);
	context_release(&c);
	diff_release(&d);
	git_tree_free(pre_tree);
	git_tree_free(post_tree);
	return ret;
}

static const char *kind_label(const struct context_item *it)
{
	switch (it->kind) {
	case CONTEXT_FUNCTION:
		return it->sym_kind == SYMINDEX_FUNCTION ?
			       "function" :
			       symindex_kind_name(it->sym_kind);
	case CONTEXT_LINES:
		return "lines";
	case CONTEXT_DEFINITION:
		return symindex_kind_name(it->sym_kind);
	}
	return "unknown";
}

void context_render(struct strbuf *out, const struct context *c, bool json)
{
	size_t i;

	if (json) {
		strbuf_addf(out, "{\"bytes\":%zu,\"dropped\":%zu,"
			    "\"dropped_bytes\":%zu,\"items\":[",
			    c->bytes, c->dropped_nr, c->dropped_bytes);
		for (i = 0; i < c->nr; i++) {
			const struct context_item *it = &c->items[i];

			strbuf_addstr(out, i ? ",{\"path\":" : "{\"path\":");
			strbuf_add_json_str(out, it->path, strlen(it->path));
			strbuf_addf(out, ",\"start\":%u,\"end\":%u,"
				    "\"image\":\"%s\",\"kind\":\"%s\","
				    "\"role\":\"%s\",\"priority\":%d,"
				    "\"bytes\":%zu,\"truncated\":%s,"
				    "\"name\":",
				    it->start, it->end,
				    it->post ? "post" : "pre", kind_label(it),
				    it->kind == CONTEXT_DEFINITION ?
					    "definition" :
				    it->kind == CONTEXT_LINES ? "lines" :
								"enclosing",
				    (int)it->prio, it->len,
				    it->truncated ? "true" : "false");
			if (it->name)
				strbuf_add_json_str(out, it->name,
						    strlen(it->name));
			else
				strbuf_addstr(out, "null");
			strbuf_addstr(out, ",\"text\":");
			strbuf_add_json_str(out, it->text, it->len);
			strbuf_addch(out, '}');
		}
		strbuf_addstr(out, "]}\n");
		return;
	}
	for (i = 0; i < c->nr; i++) {
		const struct context_item *it = &c->items[i];

		strbuf_addf(out, "== %s:%u-%u %s%s%s (%s-image, %zu bytes) ==\n",
			    it->path, it->start, it->end, kind_label(it),
			    it->name ? " " : "", it->name ? it->name : "",
			    it->post ? "post" : "pre", it->len);
		strbuf_add(out, it->text, it->len);
		if (it->len && it->text[it->len - 1] != '\n')
			strbuf_addch(out, '\n');
	}
	strbuf_addf(out, "== %zu items, %zu bytes; dropped %zu items, %zu "
		    "bytes ==\n", c->nr, c->bytes, c->dropped_nr,
		    c->dropped_bytes);
}
