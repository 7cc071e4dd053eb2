/*
 * Symbol index of a tree: see include/kreview/symindex.h for what is
 * recorded and why.  The scanner is one pass over the bytes; the index
 * is arenas plus an open-addressing hash with per-name chains.
 */
#include "kreview/symindex.h"

#include <git2.h>

#include "kreview/strbuf.h"

/* ---------------------------------------------------------------- */
/* Scanner                                                          */

/* Candidates "NAME(" per statement we remember; more is not C. */
#define SCAN_MAX_NAME 256

struct scan_tok {
	const char *p;
	size_t len;
	unsigned line;
};

struct scan_stmt {
	bool active;
	unsigned line;	  /* line of the first token */
	int ntok;	  /* tokens seen at depth 0 (capped use) */
	bool is_typedef;
	enum symindex_kind tag; /* SYMINDEX_FUNCTION when none */
	bool saw_eq;
	bool extern_c;
	int paren;	  /* paren depth inside the statement */
	struct scan_tok last_ident;   /* at paren depth 0 */
	struct scan_tok cand;	      /* last "NAME(" at paren depth 0 */
	struct scan_tok cand_arg;     /* first identifier inside it */
	bool want_arg;
	int fnptr_state;
	struct scan_tok fnptr;	      /* typedef ... (*NAME)(...) */
	struct scan_tok tag_name;     /* identifier before "{" */
	bool prev_close_paren;	      /* previous token was ")" at 0 */
	bool prev_ident;
	struct scan_tok prev;
	/* a block opened by this statement at depth 0 */
	bool in_block;
	bool block_func;
};

static const char *const attr_names[] = {
	"__attribute__", "__attribute", "__printf", "__scanf", "__aligned",
	"__section", "__alloc_size", "__assume_aligned", "__must_hold",
	"__acquires", "__releases", "__cond_acquires", "__cond_releases",
	"__diag_ignore", "__counted_by", "__cleanup", "__malloc",
	"__no_sanitize_or_inline", "__nocapture", "_Alignas", "alignas",
	"__declspec", "__typeof__", "typeof", "__typeof", "sizeof",
	"_Static_assert", "static_assert", "__asm__", "asm", "__asm",
};

static bool tok_is(const struct scan_tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->len == n && !memcmp(t->p, s, n);
}

static bool is_attr(const struct scan_tok *t)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(attr_names); i++)
		if (tok_is(t, attr_names[i]))
			return true;
	return false;
}

/* SYSCALL_DEFINE3, BPF_CALL_2: all caps, digits and '_', one letter. */
static bool is_macro_name(const struct scan_tok *t)
{
	bool letter = false;
	size_t i;

	for (i = 0; i < t->len; i++) {
		char c = t->p[i];

		if (c >= 'A' && c <= 'Z')
			letter = true;
		else if (!(c == '_' || (c >= '0' && c <= '9')))
			return false;
	}
	return letter;
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

struct scanner {
	const char *text;
	size_t len;
	size_t i;
	unsigned line;
	int depth;
	struct scan_stmt st;
	symindex_def_fn fn;
	void *data;
	int ret;
};

static void stmt_reset(struct scanner *s)
{
	memset(&s->st, 0, sizeof(s->st));
	s->st.tag = SYMINDEX_FUNCTION;
}

static int emit(struct scanner *s, const struct scan_tok *name,
		enum symindex_kind kind, unsigned line, unsigned end_line)
{
	struct symindex_def def;

	if (!name->p || !name->len || s->ret)
		return s->ret;
	def.name = name->p;
	def.name_len = name->len;
	def.kind = kind;
	def.line = line;
	def.end_line = end_line < line ? line : end_line;
	s->ret = s->fn(&def, s->data);
	return s->ret;
}

/* A token at depth 0: update the statement being collected. */
static void stmt_token(struct scanner *s, const struct scan_tok *t,
		       bool ident, bool col0)
{
	struct scan_stmt *st = &s->st;

	/*
	 * Kernel layout: a top-level statement starts in column 0, and a
	 * signature never continues in column 0 after its ')'.  So a
	 * column-0 token after ')' starts a new statement; this recovers
	 * from macro invocations without a trailing ';'.
	 */
	if (st->active && col0 && st->prev_close_paren && st->paren == 0 &&
	    !st->in_block)
		stmt_reset(s);
	if (!st->active) {
		st->active = true;
		st->line = t->line;
		st->tag = SYMINDEX_FUNCTION;
	}
	if (ident && st->ntok < 2) {
		if (st->ntok == 0 && tok_is(t, "typedef")) {
			st->is_typedef = true;
			st->ntok++;
			goto track;
		}
		if (st->ntok == 0 && tok_is(t, "extern"))
			st->extern_c = true;
		if (tok_is(t, "struct"))
			st->tag = SYMINDEX_STRUCT;
		else if (tok_is(t, "union"))
			st->tag = SYMINDEX_UNION;
		else if (tok_is(t, "enum"))
			st->tag = SYMINDEX_ENUM;
	}
	st->ntok++;
track:
	if (st->want_arg) {
		if (ident)
			st->cand_arg = *t;
		if (ident || !(t->len == 1 && t->p[0] == '('))
			st->want_arg = false;
	}
	if (t->len == 1 && !ident) {
		char c = t->p[0];

		if (c == '(') {
			if (st->paren == 0 && st->prev_ident &&
			    !is_attr(&st->prev)) {
				st->cand = st->prev;
				memset(&st->cand_arg, 0, sizeof(st->cand_arg));
				st->want_arg = is_macro_name(&st->prev);
			}
			st->paren++;
			st->fnptr_state = st->fnptr.p ? 0 : 1;
		} else if (c == ')') {
			if (st->paren > 0)
				st->paren--;
			st->fnptr_state = 0;
		} else if (c == '*' && st->fnptr_state == 1) {
			st->fnptr_state = 2;
		} else {
			if (c == '=' && st->paren == 0)
				st->saw_eq = true;
			st->fnptr_state = 0;
		}
	} else if (ident) {
		if (st->fnptr_state == 2)
			st->fnptr = *t;
		st->fnptr_state = 0;
		if (st->paren == 0)
			st->last_ident = *t;
	} else {
		st->fnptr_state = 0;
	}
	st->prev_close_paren = !ident && t->len == 1 && t->p[0] == ')' &&
			       st->paren == 0;
	st->prev_ident = ident;
	st->prev = *t;
}

static void open_brace(struct scanner *s)
{
	struct scan_stmt *st = &s->st;

	if (s->depth == 0) {
		if (!st->active) {
			st->active = true;
			st->line = s->line;
		}
		if (st->extern_c && !st->cand.p &&
		    tok_is(&st->last_ident, "extern")) {
			/* extern "C" { ... }: not a block for our purposes */
			stmt_reset(s);
			return;
		}
		st->in_block = true;
		if (st->paren == 0 && st->cand.p && !st->saw_eq &&
		    !st->is_typedef) {
			st->block_func = true;
		} else if (st->tag != SYMINDEX_FUNCTION && !st->saw_eq &&
			   st->last_ident.p &&
			   !tok_is(&st->last_ident, "struct") &&
			   !tok_is(&st->last_ident, "union") &&
			   !tok_is(&st->last_ident, "enum")) {
			st->tag_name = st->last_ident;
		}
	}
	s->depth++;
}

static void close_brace(struct scanner *s, bool col0)
{
	struct scan_stmt *st = &s->st;

	if (s->depth > 0)
		s->depth--;
	/* a '}' in column 0 closes every open block in kernel layout */
	if (col0)
		s->depth = 0;
	if (s->depth != 0 || !st->in_block)
		return;
	st->in_block = false;
	if (st->block_func) {
		const struct scan_tok *name = &st->cand;

		if (is_macro_name(&st->cand) && st->cand_arg.p)
			name = &st->cand_arg;
		emit(s, name, SYMINDEX_FUNCTION, st->line, s->line);
		stmt_reset(s);
		return;
	}
	/* struct/enum/initializer: the statement goes on until ';' */
	st->prev_close_paren = false;
	st->prev_ident = false;
}

static void semicolon(struct scanner *s)
{
	struct scan_stmt *st = &s->st;

	if (s->depth != 0 || st->paren != 0) {
		if (s->depth == 0)
			st->prev_ident = false;
		return;
	}
	if (st->active) {
		if (st->tag_name.p)
			emit(s, &st->tag_name, st->tag, st->line, s->line);
		if (st->is_typedef)
			emit(s, st->fnptr.p ? &st->fnptr : &st->last_ident,
			     SYMINDEX_TYPEDEF, st->line, s->line);
	}
	stmt_reset(s);
}

/* Skip a preprocessor line starting at '#'; record #define. */
static void directive(struct scanner *s)
{
	const char *t = s->text;
	size_t n = s->len, i = s->i + 1;
	unsigned start = s->line;
	struct scan_tok name = { 0 };

	while (i < n && (t[i] == ' ' || t[i] == '\t'))
		i++;
	if (n - i > 6 && !memcmp(t + i, "define", 6) &&
	    (t[i + 6] == ' ' || t[i + 6] == '\t')) {
		i += 6;
		while (i < n && (t[i] == ' ' || t[i] == '\t'))
			i++;
		if (i < n && is_ident_start(t[i])) {
			name.p = t + i;
			while (i < n && is_ident_char(t[i]))
				i++;
			name.len = (size_t)(t + i - name.p);
		}
	}
	while (i < n) {
		if (t[i] == '\\' && i + 1 < n && t[i + 1] == '\n') {
			s->line++;
			i += 2;
		} else if (t[i] == '\\' && i + 2 < n && t[i + 1] == '\r' &&
			   t[i + 2] == '\n') {
			s->line++;
			i += 3;
		} else if (t[i] == '/' && i + 1 < n && t[i + 1] == '*') {
			i += 2;
			while (i < n && !(t[i] == '*' && i + 1 < n &&
					  t[i + 1] == '/')) {
				if (t[i] == '\n')
					s->line++;
				i++;
			}
			i = i < n ? i + 2 : n;
		} else if (t[i] == '\n') {
			break;
		} else {
			i++;
		}
	}
	s->i = i; /* at the '\n' (or end) */
	if (name.p)
		emit(s, &name, SYMINDEX_MACRO, start, s->line);
}

int symindex_scan_text(const char *text, size_t len, symindex_def_fn fn,
		       void *data)
{
	struct scanner s = { .text = text, .len = len, .line = 1,
			     .fn = fn, .data = data };
	bool line_start = true; /* only blanks since the last newline */

	stmt_reset(&s);
	while (s.i < len && !s.ret) {
		char c = text[s.i];
		bool col0 = s.i == 0 || text[s.i - 1] == '\n';

		if (c == '\n') {
			s.line++;
			s.i++;
			line_start = true;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
		    c == '\v') {
			s.i++;
			continue;
		}
		if (c == '\\' && s.i + 1 < len && text[s.i + 1] == '\n') {
			s.i += 2;
			s.line++;
			continue;
		}
		if (c == '#' && line_start) {
			directive(&s);
			continue;
		}
		line_start = false;
		if (c == '/' && s.i + 1 < len && text[s.i + 1] == '*') {
			s.i += 2;
			while (s.i < len && !(text[s.i] == '*' &&
					      s.i + 1 < len &&
					      text[s.i + 1] == '/')) {
				if (text[s.i] == '\n')
					s.line++;
				s.i++;
			}
			s.i = s.i < len ? s.i + 2 : len;
			continue;
		}
		if (c == '/' && s.i + 1 < len && text[s.i + 1] == '/') {
			while (s.i < len && text[s.i] != '\n')
				s.i++;
			continue;
		}
		if (c == '"' || c == '\'') {
			s.i++;
			while (s.i < len && text[s.i] != c &&
			       text[s.i] != '\n') {
				if (text[s.i] == '\\' && s.i + 1 < len) {
					if (text[s.i + 1] == '\n')
						s.line++;
					s.i++;
				}
				s.i++;
			}
			if (s.i < len && text[s.i] == c)
				s.i++;
			if (s.depth == 0)
				s.st.prev_ident = false;
			continue;
		}
		if (is_ident_start(c)) {
			struct scan_tok t = { text + s.i, 0, s.line };

			while (s.i < len && is_ident_char(text[s.i]))
				s.i++;
			t.len = (size_t)(text + s.i - t.p);
			if (s.depth == 0 && t.len <= SCAN_MAX_NAME)
				stmt_token(&s, &t, true, col0);
			continue;
		}
		if (c >= '0' && c <= '9') {
			while (s.i < len && (is_ident_char(text[s.i]) ||
					     text[s.i] == '.'))
				s.i++;
			if (s.depth == 0)
				s.st.prev_ident = false;
			continue;
		}
		if (c == '{') {
			open_brace(&s);
		} else if (c == '}') {
			close_brace(&s, col0);
		} else if (c == ';') {
			semicolon(&s);
		} else if (s.depth == 0) {
			struct scan_tok t = { text + s.i, 1, s.line };

			stmt_token(&s, &t, false, col0);
		}
		s.i++;
	}
	return s.ret;
}

struct def_find {
	const char *name;
	size_t name_len;
	struct symindex_def best;
	bool found;
	unsigned others;
};

static int find_def(const struct symindex_def *d, void *data)
{
	struct def_find *f = data;

	if (d->name_len != f->name_len || memcmp(d->name, f->name, d->name_len))
		return 0;
	/* a function beats the macro or prototype-like entries of a name */
	if (!f->found || (f->best.kind != SYMINDEX_FUNCTION &&
			  d->kind == SYMINDEX_FUNCTION)) {
		if (f->found)
			f->others++;
		f->best = *d;
		f->found = true;
	} else {
		f->others++;
	}
	return 0;
}

int symindex_find_def(struct symindex_def *out, unsigned *others,
		      const char *text, size_t len, const char *name)
{
	struct def_find f = { name, strlen(name) };

	symindex_scan_text(text, len, find_def, &f);
	if (!f.found)
		return 0;
	*out = f.best;
	if (others)
		*others = f.others;
	return 1;
}

bool symindex_wants_path(const char *path)
{
	size_t n = strlen(path);

	return n > 2 && path[n - 2] == '.' &&
	       (path[n - 1] == 'c' || path[n - 1] == 'h');
}

const char *symindex_kind_name(enum symindex_kind kind)
{
	static const char *const names[SYMINDEX_KIND_MAX] = {
		[SYMINDEX_FUNCTION] = "function",
		[SYMINDEX_STRUCT] = "struct",
		[SYMINDEX_UNION] = "union",
		[SYMINDEX_ENUM] = "enum",
		[SYMINDEX_TYPEDEF] = "typedef",
		[SYMINDEX_MACRO] = "macro",
	};

	if ((unsigned)kind >= SYMINDEX_KIND_MAX)
		return "unknown";
	return names[kind];
}

/* ---------------------------------------------------------------- */
/* Index                                                            */

#define ARENA_CHUNK (1u << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

struct symindex {
	struct arena_chunk *chunks;
	size_t arena_bytes;
	struct symindex_entry *entries;
	uint32_t *next; /* chain: index of the next entry of a name + 1 */
	size_t nr, alloc;
	uint32_t *table; /* entry index + 1 of the chain head, 0 empty */
	size_t table_size; /* power of two */
	size_t files;
	size_t bytes;
};

static void *arena_alloc(struct symindex *idx, size_t size)
{
	struct arena_chunk *c = idx->chunks;
	void *p;

	if (!c || c->size - c->used < size) {
		size_t sz = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		c = xmalloc(st_add(sizeof(*c), sz));
		c->size = sz;
		c->used = 0;
		c->next = idx->chunks;
		idx->chunks = c;
		idx->arena_bytes += sizeof(*c) + sz;
	}
	p = c->data + c->used;
	c->used += size;
	return p;
}

static const char *arena_strdup(struct symindex *idx, const char *s,
				size_t len)
{
	char *p = arena_alloc(idx, st_add(len, 1));

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	/* murmur3 finaliser: FNV's low bits cluster on similar names */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static void table_slot_for(const struct symindex *idx, const char *name,
			   size_t len, size_t *slot_out)
{
	size_t mask = idx->table_size - 1;
	size_t slot = hash_name(name, len) & mask;

	for (;;) {
		uint32_t e = idx->table[slot];

		if (!e)
			break;
		if (!strncmp(idx->entries[e - 1].name, name, len) &&
		    idx->entries[e - 1].name[len] == '\0')
			break;
		slot = (slot + 1) & mask;
	}
	*slot_out = slot;
}

static void table_grow(struct symindex *idx)
{
	uint32_t *old = idx->table;
	size_t old_size = idx->table_size, i;

	idx->table_size = old_size ? old_size * 2 : 1024;
	idx->table = xcalloc(idx->table_size, sizeof(*idx->table));
	for (i = 0; i < old_size; i++) {
		size_t slot;
		const char *name;

		if (!old[i])
			continue;
		name = idx->entries[old[i] - 1].name;
		table_slot_for(idx, name, strlen(name), &slot);
		idx->table[slot] = old[i];
	}
	free(old);
}

struct add_ctx {
	struct symindex *idx;
	const char *path;
	const struct git_oid *blob;
};

static int add_def(const struct symindex_def *def, void *data)
{
	struct add_ctx *ctx = data;
	struct symindex *idx = ctx->idx;
	struct symindex_entry *e;
	size_t slot;
	uint32_t head;

	if (idx->nr >= UINT32_MAX - 1)
		return 0; /* index full: later definitions are not recorded */
	if (st_mult(idx->nr + 1, 2) > idx->table_size)
		table_grow(idx);
	if (idx->nr >= idx->alloc) {
		ALLOC_GROW(idx->entries, idx->nr + 1, idx->alloc);
		idx->next = xrealloc(idx->next,
				     st_mult(idx->alloc, sizeof(*idx->next)));
	}
	table_slot_for(idx, def->name, def->name_len, &slot);
	head = idx->table[slot];
	e = &idx->entries[idx->nr];
	e->name = head ? idx->entries[head - 1].name :
			 arena_strdup(idx, def->name, def->name_len);
	e->path = ctx->path;
	e->blob = ctx->blob;
	e->kind = def->kind;
	e->line = def->line;
	e->end_line = def->end_line;
	idx->next[idx->nr] = head;
	idx->nr++;
	idx->table[slot] = (uint32_t)idx->nr;
	return 0;
}

void symindex_new(struct symindex **out)
{
	*out = xcalloc(1, sizeof(**out));
}

void symindex_add_text(struct symindex *idx, const char *path,
		       const struct git_oid *blob, const char *text,
		       size_t len)
{
	struct add_ctx ctx = { idx, NULL, NULL };

	ctx.path = arena_strdup(idx, path, strlen(path));
	if (blob) {
		git_oid *copy = arena_alloc(idx, sizeof(*copy));

		git_oid_cpy(copy, blob);
		ctx.blob = copy;
	}
	idx->files++;
	idx->bytes += len;
	(void)symindex_scan_text(text, len, add_def, &ctx);
}

void symindex_free(struct symindex *idx)
{
	struct arena_chunk *c, *next;

	if (!idx)
		return;
	for (c = idx->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(idx->entries);
	free(idx->next);
	free(idx->table);
	free(idx);
}

size_t symindex_lookup(const struct symindex_entry **out, size_t max,
		       const struct symindex *idx, const char *name,
		       size_t len)
{
	size_t slot, n = 0;
	uint32_t e;

	if (!idx->table_size || !len)
		return 0;
	table_slot_for(idx, name, len, &slot);
	for (e = idx->table[slot]; e; e = idx->next[e - 1]) {
		if (n < max)
			out[n] = &idx->entries[e - 1];
		n++;
	}
	return n;
}

size_t symindex_count(const struct symindex *idx)
{
	return idx->nr;
}

struct walk_ctx {
	struct symindex *idx;
	git_repository *repo;
	size_t skipped;
	int error;
	struct strbuf path;
};

static int walk_cb(const char *root, const git_tree_entry *entry,
		   void *payload)
{
	struct walk_ctx *w = payload;
	const char *name = git_tree_entry_name(entry);
	git_blob *blob = NULL;
	git_object_size_t size;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB ||
	    git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK ||
	    !symindex_wants_path(name))
		return 0;
	if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(entry)) < 0) {
		w->error = -EIO;
		return -1;
	}
	size = git_blob_rawsize(blob);
	if (size > SYMINDEX_MAX_BLOB) {
		w->skipped++;
	} else {
		strbuf_reset(&w->path);
		strbuf_addstr(&w->path, root);
		strbuf_addstr(&w->path, name);
		symindex_add_text(w->idx, w->path.buf,
				  git_tree_entry_id(entry),
				  git_blob_rawcontent(blob), (size_t)size);
	}
	git_blob_free(blob);
	return 0;
}

int symindex_build(struct symindex **out, struct symindex_stats *stats,
		   struct git_repository *repo, const struct git_oid *treeish,
		   struct strbuf *err)
{
	struct walk_ctx w = { .repo = repo, .path = STRBUF_INIT };
	git_object *obj = NULL;
	git_tree *tree = NULL;
	int64_t start = time_mono_ms();
	int ret = 0;

	if (git_object_lookup(&obj, repo, treeish, GIT_OBJECT_ANY) < 0 ||
	    git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0) {
		if (err)
			strbuf_addf(err, "no tree '%s' in the repository",
				    git_oid_tostr_s(treeish));
		ret = -ENOENT;
		goto out;
	}
	symindex_new(&w.idx);
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &w) < 0) {
		const git_error *e = git_error_last();

		if (err)
			strbuf_addf(err, "cannot read tree '%s': %s",
				    git_oid_tostr_s(treeish),
				    e && e->message ? e->message : "error");
		ret = w.error ? w.error : -EIO;
		goto out;
	}
	if (stats) {
		stats->files = w.idx->files;
		stats->bytes = w.idx->bytes;
		stats->entries = w.idx->nr;
		stats->memory = w.idx->arena_bytes +
				w.idx->alloc * (sizeof(*w.idx->entries) +
						sizeof(*w.idx->next)) +
				w.idx->table_size * sizeof(*w.idx->table);
		stats->skipped = w.skipped;
		stats->elapsed_ms = time_mono_ms() - start;
	}
	*out = w.idx;
	w.idx = NULL;
out:
	symindex_free(w.idx);
	strbuf_release(&w.path);
	git_tree_free(tree);
	git_object_free(obj);
	return ret;
}
