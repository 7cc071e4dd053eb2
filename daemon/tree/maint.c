/*
 * MAINTAINERS parser and matcher: see maint.h.
 *
 * Design note.  The whole input is copied once and cut into lines in
 * place, so titles and entry values are pointers into that copy.  F:/X:
 * values are translated to the script's regexes and then analysed: most
 * are a literal prefix, possibly followed by ".*", and are matched with
 * memcmp() alone; only the rest (about 5% of the kernel's file) are
 * compiled.  Every F:/X: pattern also keeps its literal prefix as a
 * quick reject before any regex runs, which keeps matching a path
 * against ~8000 patterns at a few microseconds.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "kreview/maint.h"
#include "kreview/strbuf.h"

#include <ctype.h>
#include <pcre2.h>
#include <strings.h>

/* Limits for one regex match: patterns may come from a hostile file. */
#define MAINT_MATCH_LIMIT 200000
#define MAINT_DEPTH_LIMIT 2000
#define MAINT_HEAP_LIMIT_KIB 4096
#define MAINT_PARENS_NEST_LIMIT 64

struct maint_pat {
	char type;	   /* 'F', 'X', 'N', 'K' */
	unsigned int line; /* for diagnostics */
	size_t section;	   /* index of the section */
	size_t tv;	   /* the script's @typevalue index (K: order) */
	/* F:/X: only */
	char *regex;	   /* translated value, after the auto-slash */
	char *lit;	   /* literal prefix every match starts with */
	size_t lit_len;
	size_t nslash;	   /* "/" in 'regex' */
	int depth;	   /* specificity when it matches */
	bool trailing;	   /* 'regex' ends in "/": prefix match */
	bool literal_only; /* the regex is exactly "^lit" */
	bool dir_guess;	   /* no tree: "lit" may be a directory */
	bool maybe_dir;	   /* no tree: the script's -d test could pass */
	pcre2_code *code;  /* NULL when literal_only */
};

struct maint_sec_priv {
	size_t first_entry;
	size_t first_pat, nr_pats;
	bool has_name; /* an N: must be tried on every path */
};

/* The literal prefix of an F: pattern, for the candidate search. */
struct maint_lit {
	const char *lit;
	size_t len;
	size_t section;
};

struct maint {
	char *name;
	char *text; /* the input, lines NUL-terminated in place */

	struct maint_entry *entries;
	size_t nr_entries, alloc_entries;

	struct maint_section *sections;
	struct maint_sec_priv *spriv;
	size_t nr_sections, alloc_sections, alloc_spriv;
	size_t *by_title; /* section indices sorted by (title, index) */

	struct maint_pat *pats;
	size_t nr_pats, alloc_pats;
	size_t *kw_order; /* K: pattern indices in the script's order */
	size_t nr_kw;
	struct maint_lit *lits; /* F: literal prefixes, sorted */
	size_t nr_lits;

	struct maint_diag *diags;
	size_t nr_diags, alloc_diags;
	size_t dropped_diags;

	pcre2_compile_context *cctx;
	pcre2_match_context *mctx;
	/* get_maintainer.pl's patch-line classifiers, see match_keywords */
	pcre2_code *re_mode, *re_rename, *re_diffgit, *re_fixes, *re_hdr,
		*re_hunk;
};

static const char maint_known_types[] = "MRLSWQBCPTFXNK";

/* Perl's \s on bytes. */
static bool is_perl_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

KR_PRINTF(3, 4)
static void add_diag(struct maint *m, unsigned int line, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (m->nr_diags >= MAINT_MAX_DIAGS) {
		m->dropped_diags++;
		return;
	}
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(m->diags, m->nr_diags + 1, m->alloc_diags);
	m->diags[m->nr_diags].line = line;
	m->diags[m->nr_diags].msg = strbuf_detach(&sb, NULL);
	m->nr_diags++;
}

static void describe_pcre2_error(struct strbuf *sb, int code)
{
	PCRE2_UCHAR msg[256];

	if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
		strbuf_addf(sb, "pcre2 error %d", code);
	else
		strbuf_addstr(sb, (const char *)msg);
}

/*
 * Compile 'pattern'; on failure add a diagnostic naming the line and
 * return NULL.
 */
static pcre2_code *compile_re(struct maint *m, const char *pattern,
			      size_t len, uint32_t options, unsigned int line,
			      char type, const char *value)
{
	struct strbuf msg = STRBUF_INIT;
	PCRE2_SIZE erroff;
	pcre2_code *code;
	int errcode;

	if (len > MAINT_MAX_PATTERN) {
		add_diag(m, line, "%c: pattern longer than %d bytes, ignoring",
			 type, MAINT_MAX_PATTERN);
		return NULL;
	}
	code = pcre2_compile((PCRE2_SPTR)pattern, len,
			     options | PCRE2_NEVER_BACKSLASH_C, &errcode,
			     &erroff, m->cctx);
	if (code)
		return code;
	describe_pcre2_error(&msg, errcode);
	add_diag(m, line, "bad %c: pattern '%s': %s at offset %zu, ignoring",
		 type, value, msg.buf, (size_t)erroff);
	strbuf_release(&msg);
	return NULL;
}

/* 1 on a match, 0 otherwise; failed matches are counted in '*errs'. */
static int re_match(const struct maint *m, const pcre2_code *code,
		    const char *subj, size_t len, size_t off,
		    pcre2_match_data *md, size_t *errs)
{
	int rc = pcre2_match(code, (PCRE2_SPTR)subj, len, off, 0, md,
			     m->mctx);

	if (rc >= 0)
		return 1;
	if (rc != PCRE2_ERROR_NOMATCH && errs)
		(*errs)++;
	return 0;
}

/*
 * Translate an F:/X: value the way get_maintainer.pl does:
 * "." -> "\.", "*" -> ".*", "?" -> ".".
 */
static void translate_glob(struct strbuf *out, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '.')
			strbuf_addstr(out, "\\.");
		else if (*p == '*')
			strbuf_addstr(out, ".*");
		else if (*p == '?')
			strbuf_addch(out, '.');
		else
			strbuf_addch(out, *p);
	}
}

/*
 * Find the literal prefix of the translated regex 're': the bytes every
 * match of "^re" must start with.  Sets *literal_only when "^re" is
 * equivalent to that prefix test ("^lit" followed only by ".*"s).
 */
static char *literal_prefix(const char *re, size_t *len_out,
			    bool *literal_only)
{
	struct strbuf lit = STRBUF_INIT;
	size_t last_start = 0;
	const char *p = re;

	*literal_only = false;
	if (strchr(re, '|')) {
		/* a top-level alternation defeats any common prefix */
		*len_out = 0;
		return strbuf_detach(&lit, NULL);
	}
	while (*p) {
		if (*p == '\\') {
			unsigned char c = (unsigned char)p[1];

			if (!c || isalnum(c))
				break;
			last_start = lit.len;
			strbuf_addch(&lit, (char)c);
			p += 2;
			continue;
		}
		if (strchr(".^$|?*+()[]{}", *p))
			break;
		last_start = lit.len;
		strbuf_addch(&lit, *p);
		p++;
	}
	if (*p && strchr("*+?{", *p)) {
		/* the last literal is quantified, so it is optional */
		strbuf_setlen(&lit, last_start);
	} else {
		const char *q = p;

		while (q[0] == '.' && q[1] == '*')
			q += 2;
		*literal_only = !*q;
	}
	*len_out = lit.len;
	return strbuf_detach(&lit, NULL);
}

static size_t count_slashes(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '/';
	return n;
}

/* Recompute the derived fields of an F:/X: pattern from its regex. */
static void pat_analyse(struct maint_pat *p)
{
	size_t len = strlen(p->regex);

	free(p->lit);
	p->lit = literal_prefix(p->regex, &p->lit_len, &p->literal_only);
	p->nslash = count_slashes(p->regex);
	p->trailing = len && p->regex[len - 1] == '/';
	p->depth = (int)(p->nslash > INT_MAX - 1 ? INT_MAX - 1 : p->nslash);
	if (!p->trailing)
		p->depth++;
	if (!strncmp(p->regex, ".*", 2))
		p->depth = -1;
}

static void pat_release(struct maint_pat *p)
{
	free(p->regex);
	free(p->lit);
	pcre2_code_free(p->code);
}

/* Append a "/" to a pattern found to name a directory. */
static void pat_make_dir(struct maint_pat *p)
{
	size_t len = strlen(p->regex);

	p->regex = xrealloc(p->regex, st_add(len, 2));
	p->regex[len] = '/';
	p->regex[len + 1] = '\0';
	pat_analyse(p);
}

static int add_pattern(struct maint *m, char type, const char *value,
		       unsigned int line, size_t tv,
		       const struct maint_opts *opts)
{
	struct strbuf re = STRBUF_INIT;
	struct maint_pat p = { 0 };

	p.type = type;
	p.line = line;
	p.section = m->nr_sections - 1;
	p.tv = tv;
	if (!*value) {
		add_diag(m, line, "empty %c: pattern, ignoring", type);
		return 0;
	}
	if (type == 'N' || type == 'K') {
		p.code = compile_re(m, value, strlen(value),
				    PCRE2_EXTENDED | PCRE2_UTF |
					    PCRE2_MATCH_INVALID_UTF,
				    line, type, value);
		if (!p.code)
			return 0;
		if (type == 'K')
			(void)pcre2_jit_compile(p.code, PCRE2_JIT_COMPLETE);
		goto add;
	}

	translate_glob(&re, value);
	if (opts && opts->is_dir && re.buf[re.len - 1] != '/' &&
	    opts->is_dir(re.buf, opts->is_dir_ctx))
		strbuf_addch(&re, '/');
	p.regex = strbuf_detach(&re, NULL);
	pat_analyse(&p);
	/*
	 * Without a tree, a value the script's -d test could accept (no
	 * ".", "*", "?", nothing but literal bytes) may be a directory;
	 * resolved after the parse and at match time.
	 */
	if (!(opts && opts->is_dir) && p.literal_only && !p.trailing &&
	    p.lit_len == strlen(p.regex) && !strpbrk(value, ".*?"))
		p.dir_guess = p.maybe_dir = true;
	if (!p.literal_only) {
		struct strbuf full = STRBUF_INIT;

		strbuf_addch(&full, '^');
		strbuf_addstr(&full, p.regex);
		p.code = compile_re(m, full.buf, full.len, 0, line, type,
				    value);
		strbuf_release(&full);
		if (!p.code) {
			pat_release(&p);
			return 0;
		}
	}
add:
	if (m->nr_pats >= MAINT_MAX_ENTRIES) {
		pat_release(&p);
		return -E2BIG;
	}
	ALLOC_GROW(m->pats, m->nr_pats + 1, m->alloc_pats);
	m->pats[m->nr_pats++] = p;
	m->spriv[m->nr_sections - 1].nr_pats++;
	if (type == 'N')
		m->spriv[m->nr_sections - 1].has_name = true;
	return 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * No tree: a literal value with another F:/X: value beneath it must be
 * a directory.
 */
static void resolve_dir_guesses(struct maint *m)
{
	const char **all;
	size_t n = 0;
	struct strbuf key = STRBUF_INIT;

	all = xcalloc(m->nr_pats ? m->nr_pats : 1, sizeof(*all));
	for (size_t i = 0; i < m->nr_pats; i++)
		if (m->pats[i].regex)
			all[n++] = m->pats[i].regex;
	qsort(all, n, sizeof(*all), cmp_str_ptr);
	for (size_t i = 0; i < m->nr_pats; i++) {
		struct maint_pat *p = &m->pats[i];
		size_t lo = 0, hi = n;

		if (!p->dir_guess)
			continue;
		strbuf_reset(&key);
		strbuf_addstr(&key, p->regex);
		strbuf_addch(&key, '/');
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(all[mid], key.buf) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* decided now, applied below: 'all' points at the regexes */
		if (lo < n && !strncmp(all[lo], key.buf, key.len))
			p->dir_guess = false;
	}
	for (size_t i = 0; i < m->nr_pats; i++) {
		struct maint_pat *p = &m->pats[i];

		if (p->regex && p->literal_only && !p->trailing &&
		    !p->dir_guess && p->type != 'N' && p->type != 'K' &&
		    p->maybe_dir)
			pat_make_dir(p);
	}
	strbuf_release(&key);
	free(all);
}

/* (key, index) pairs, so plain qsort() needs no context pointer */
struct maint_sort_key {
	const char *key;
	size_t idx;
};

static int cmp_sort_key(const void *a, const void *b)
{
	const struct maint_sort_key *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Order by bytes, a prefix first: what the candidate search needs. */
static int cmp_lit_key(const char *lit, size_t len, const char *key,
		       size_t klen)
{
	int r = memcmp(lit, key, len < klen ? len : klen);

	if (r)
		return r;
	return len < klen ? -1 : len > klen;
}

static int cmp_lit(const void *a, const void *b)
{
	const struct maint_lit *x = a, *y = b;
	int r = cmp_lit_key(x->lit, x->len, y->lit, y->len);

	if (r)
		return r;
	return x->section < y->section ? -1 : x->section > y->section;
}

static void build_lits(struct maint *m)
{
	m->lits = xcalloc(m->nr_pats ? m->nr_pats : 1, sizeof(*m->lits));
	for (size_t i = 0; i < m->nr_pats; i++) {
		const struct maint_pat *p = &m->pats[i];

		if (p->type != 'F')
			continue;
		m->lits[m->nr_lits].lit = p->lit;
		m->lits[m->nr_lits].len = p->lit_len;
		m->lits[m->nr_lits].section = p->section;
		m->nr_lits++;
	}
	qsort(m->lits, m->nr_lits, sizeof(*m->lits), cmp_lit);
}

static void finish_index(struct maint *m)
{
	struct maint_sort_key *keys;
	char (*num)[24];
	size_t n = m->nr_sections > m->nr_pats ? m->nr_sections : m->nr_pats;

	keys = xcalloc(n ? n : 1, sizeof(*keys));
	for (size_t i = 0; i < m->nr_sections; i++) {
		keys[i].key = m->sections[i].title;
		keys[i].idx = i;
	}
	qsort(keys, m->nr_sections, sizeof(*keys), cmp_sort_key);
	m->by_title = xcalloc(m->nr_sections, sizeof(*m->by_title));
	for (size_t i = 0; i < m->nr_sections; i++)
		m->by_title[i] = keys[i].idx;

	/* the script sorts K: indices as strings: "100" < "99" */
	num = xcalloc(m->nr_pats ? m->nr_pats : 1, sizeof(*num));
	for (size_t i = 0; i < m->nr_pats; i++) {
		if (m->pats[i].type != 'K')
			continue;
		snprintf(num[m->nr_kw], sizeof(num[0]), "%zu", m->pats[i].tv);
		keys[m->nr_kw].key = num[m->nr_kw];
		keys[m->nr_kw].idx = i;
		m->nr_kw++;
	}
	qsort(keys, m->nr_kw, sizeof(*keys), cmp_sort_key);
	m->kw_order = xcalloc(m->nr_kw ? m->nr_kw : 1, sizeof(*m->kw_order));
	for (size_t i = 0; i < m->nr_kw; i++)
		m->kw_order[i] = keys[i].idx;
	free(num);
	free(keys);

	for (size_t i = 1; i < m->nr_sections; i++) {
		const struct maint_section *a, *b;

		a = &m->sections[m->by_title[i - 1]];
		b = &m->sections[m->by_title[i]];

		if (*b->title && !strcmp(a->title, b->title))
			add_diag(m, b->line,
				 "duplicate section title '%s' (first at line %u)",
				 b->title, a->line);
	}
}

static int cmp_diag(const void *a, const void *b)
{
	const struct maint_diag *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

static int new_section(struct maint *m, const char *title, unsigned int line)
{
	struct maint_section *s;

	if (m->nr_sections >= MAINT_MAX_SECTIONS)
		return -E2BIG;
	ALLOC_GROW(m->sections, m->nr_sections + 1, m->alloc_sections);
	ALLOC_GROW(m->spriv, m->nr_sections + 1, m->alloc_spriv);
	s = &m->sections[m->nr_sections];
	memset(s, 0, sizeof(*s));
	s->title = title;
	s->line = line;
	s->index = m->nr_sections;
	m->spriv[m->nr_sections].first_entry = m->nr_entries;
	m->spriv[m->nr_sections].first_pat = m->nr_pats;
	m->spriv[m->nr_sections].nr_pats = 0;
	m->spriv[m->nr_sections].has_name = false;
	m->nr_sections++;
	return 0;
}

static int compile_classifiers(struct maint *m)
{
	static const char *const src[] = {
		"^ mode change [0-7]+ => [0-7]+ (\\S+)\\s*$",
		"^rename (?:from|to) (\\S+)\\s*$",
		"^diff --git a\\/(\\S+) b\\/(\\S+)\\s*$",
		"^Fixes:\\s+([0-9a-fA-F]{6,40})",
		"^(?:\\+\\+\\+|---)\\s+(\\S+)",
		"^\\@\\@ -(\\d+),(\\d+)",
	};
	pcre2_code **dst[] = { &m->re_mode,    &m->re_rename, &m->re_diffgit,
			       &m->re_fixes,   &m->re_hdr,    &m->re_hunk };

	for (size_t i = 0; i < ARRAY_SIZE(src); i++) {
		PCRE2_SIZE off;
		int ec;

		*dst[i] = pcre2_compile((PCRE2_SPTR)src[i],
					PCRE2_ZERO_TERMINATED, 0, &ec, &off,
					NULL);
		if (!*dst[i])
			BUG("cannot compile built-in regex %zu", i);
	}
	return 0;
}

static struct maint *maint_alloc(const char *name)
{
	struct maint *m = xcalloc(1, sizeof(*m));

	m->name = xstrdup(name ? name : "MAINTAINERS");
	m->cctx = pcre2_compile_context_create(NULL);
	m->mctx = pcre2_match_context_create(NULL);
	if (!m->cctx || !m->mctx)
		die("out of memory creating pcre2 contexts");
	pcre2_set_parens_nest_limit(m->cctx, MAINT_PARENS_NEST_LIMIT);
	pcre2_set_max_pattern_length(m->cctx, MAINT_MAX_PATTERN + 1);
	pcre2_set_match_limit(m->mctx, MAINT_MATCH_LIMIT);
	pcre2_set_depth_limit(m->mctx, MAINT_DEPTH_LIMIT);
	pcre2_set_heap_limit(m->mctx, MAINT_HEAP_LIMIT_KIB);
	compile_classifiers(m);
	return m;
}

void maint_free(struct maint *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr_pats; i++)
		pat_release(&m->pats[i]);
	for (size_t i = 0; i < m->nr_diags; i++)
		free((char *)m->diags[i].msg);
	free(m->pats);
	free(m->kw_order);
	free(m->lits);
	free(m->diags);
	free(m->entries);
	free(m->sections);
	free(m->spriv);
	free(m->by_title);
	free(m->text);
	free(m->name);
	pcre2_code_free(m->re_mode);
	pcre2_code_free(m->re_rename);
	pcre2_code_free(m->re_diffgit);
	pcre2_code_free(m->re_fixes);
	pcre2_code_free(m->re_hdr);
	pcre2_code_free(m->re_hunk);
	pcre2_compile_context_free(m->cctx);
	pcre2_match_context_free(m->mctx);
	free(m);
}

int maint_parse(struct maint **out, const char *buf, size_t len,
		const char *name, const struct maint_opts *opts,
		struct strbuf *err)
{
	struct maint *m;
	char *p, *end, *pending = NULL;
	unsigned int lineno = 0, pending_line = 0;
	size_t tv = 0;
	bool crlf_noted = false;
	int ret = 0;

	if (opts && opts->version != MAINT_OPTS_VERSION)
		BUG("maint_opts version %u", opts->version);
	if (len > MAINT_MAX_FILE) {
		if (err)
			strbuf_addf(err, "%s: larger than %u bytes",
				    name ? name : "MAINTAINERS",
				    MAINT_MAX_FILE);
		return -E2BIG;
	}
	m = maint_alloc(name);
	m->text = xmemdupz(buf, len);
	p = m->text;
	end = m->text + len;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *line_end = eol ? eol : end;
		size_t llen = (size_t)(line_end - p);
		char *next = eol ? eol + 1 : end;
		const char *q;

		lineno++;
		*line_end = '\0';
		if (llen && p[llen - 1] == '\r') {
			p[--llen] = '\0';
			if (!crlf_noted)
				add_diag(m, lineno,
					 "carriage return at end of line, ignoring it");
			crlf_noted = true;
		}
		if (llen > MAINT_MAX_LINE) {
			add_diag(m, lineno,
				 "line longer than %d bytes, ignoring",
				 MAINT_MAX_LINE);
			goto next;
		}
		if (memchr(p, '\0', llen)) {
			add_diag(m, lineno, "NUL byte in line, ignoring");
			goto next;
		}
		if (p[0] >= 'A' && p[0] <= 'Z' && p[1] == ':') {
			char type = p[0];
			struct maint_entry *e;
			char *value = p + 2;

			while (is_perl_space((unsigned char)*value))
				value++;
			if (pending || !m->nr_sections) {
				if (!pending)
					add_diag(m, lineno,
						 "entry before any section title");
				ret = new_section(m, pending ? pending : "",
						  pending ? pending_line : 0);
				if (ret < 0)
					goto too_big;
				pending = NULL;
			}
			if (m->nr_entries >= MAINT_MAX_ENTRIES) {
				ret = -E2BIG;
				goto too_big;
			}
			ALLOC_GROW(m->entries, m->nr_entries + 1,
				   m->alloc_entries);
			e = &m->entries[m->nr_entries++];
			e->type = type;
			e->line = lineno;
			e->value = value;
			m->sections[m->nr_sections - 1].nr_entries++;
			if (!strchr(maint_known_types, type))
				add_diag(m, lineno, "unknown entry type '%c:'",
					 type);
			if (strchr("FXNK", type)) {
				ret = add_pattern(m, type, value, lineno, tv,
						  opts);
				if (ret < 0)
					goto too_big;
			}
			tv++;
			goto next;
		}
		for (q = p; is_perl_space((unsigned char)*q); q++)
			;
		if (!*q || *q == '#')
			goto next;
		if (pending && m->nr_sections)
			add_diag(m, pending_line,
				 "section title '%s' without entries, ignoring",
				 pending);
		pending = p;
		pending_line = lineno;
		tv++;
next:
		p = next;
	}
	if (pending && m->nr_sections)
		add_diag(m, pending_line,
			 "section title '%s' without entries, ignoring",
			 pending);
	if (!m->nr_sections) {
		if (err)
			strbuf_addf(err, "%s: no sections found", m->name);
		ret = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < m->nr_sections; i++)
		m->sections[i].entries = m->entries + m->spriv[i].first_entry;
	if (!(opts && opts->is_dir))
		resolve_dir_guesses(m);
	finish_index(m);
	build_lits(m);
	if (m->nr_diags)
		qsort(m->diags, m->nr_diags, sizeof(*m->diags), cmp_diag);
	*out = m;
	return 0;

too_big:
	if (err)
		strbuf_addf(err, "%s:%u: too many %s (limit %d)", m->name,
			    lineno,
			    m->nr_sections >= MAINT_MAX_SECTIONS ? "sections" :
								   "entries",
			    m->nr_sections >= MAINT_MAX_SECTIONS ?
				    MAINT_MAX_SECTIONS :
				    MAINT_MAX_ENTRIES);
fail:
	maint_free(m);
	return ret;
}

int maint_load_file(struct maint **out, const char *path,
		    const struct maint_opts *opts, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	ret = strbuf_read_file(&sb, path, MAINT_MAX_FILE);
	if (ret < 0) {
		if (err)
			strbuf_addf(err, "cannot read '%s': %s", path,
				    ret == -E2BIG ? "file too large" :
						    strerror(-ret));
		goto out;
	}
	ret = maint_parse(out, sb.buf, sb.len, path, opts, err);
out:
	strbuf_release(&sb);
	return ret;
}

const char *maint_name(const struct maint *m)
{
	return m->name;
}

size_t maint_diag_count(const struct maint *m)
{
	return m->nr_diags;
}

const struct maint_diag *maint_diag_at(const struct maint *m, size_t i)
{
	return i < m->nr_diags ? &m->diags[i] : NULL;
}

size_t maint_section_count(const struct maint *m)
{
	return m->nr_sections;
}

const struct maint_section *maint_section_at(const struct maint *m,
					     size_t i)
{
	return i < m->nr_sections ? &m->sections[i] : NULL;
}

const struct maint_section *maint_find_section(const struct maint *m,
					       const char *title)
{
	size_t lo = 0, hi = m->nr_sections;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->sections[m->by_title[mid]].title, title) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->nr_sections &&
	    !strcmp(m->sections[m->by_title[lo]].title, title))
		return &m->sections[m->by_title[lo]];
	return NULL;
}

const char *maint_section_value(const struct maint_section *s, char type,
				size_t n)
{
	for (size_t i = 0; i < s->nr_entries; i++)
		if (s->entries[i].type == type && !n--)
			return s->entries[i].value;
	return NULL;
}

enum maint_status maint_section_status(const struct maint_section *s)
{
	static const struct {
		const char *word;
		enum maint_status st;
	} map[] = {
		{ "supported", MAINT_STATUS_SUPPORTED },
		{ "maintained", MAINT_STATUS_MAINTAINED },
		{ "odd fixes", MAINT_STATUS_ODD_FIXES },
		{ "odd fixer", MAINT_STATUS_ODD_FIXES },
		{ "orphan", MAINT_STATUS_ORPHAN },
		{ "obsolete", MAINT_STATUS_OBSOLETE },
		{ "buried alive", MAINT_STATUS_BURIED },
	};
	const char *v = maint_section_value(s, 'S', 0);

	if (!v)
		return MAINT_STATUS_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strncasecmp(v, map[i].word, strlen(map[i].word)))
			return map[i].st;
	return MAINT_STATUS_OTHER;
}

int maint_list_address(struct strbuf *out, const char *value)
{
	const char *start = value, *end;

	while (is_perl_space((unsigned char)*start))
		start++;
	end = strchr(start, '<');
	if (end && strchr(end, '>')) {
		start = end + 1;
		end = strchr(start, '>');
	} else {
		end = start;
		while (*end && !is_perl_space((unsigned char)*end) &&
		       *end != '(')
			end++;
	}
	if (end == start || !memchr(start, '@', (size_t)(end - start)))
		return -EINVAL;
	strbuf_reset(out);
	strbuf_add(out, start, (size_t)(end - start));
	strbuf_tolower(out);
	return 0;
}

bool maint_list_subscribers_only(const char *value)
{
	return strstr(value, "(subscribers-only)") != NULL;
}

bool maint_p_is_profile(const char *value)
{
	if (strchr(value, '@') || strchr(value, '<'))
		return false;
	/* profiles are documents: a path in the tree or a URL */
	return strchr(value, '/') != NULL;
}

/*
 * Matching.
 */

void maint_matches_init(struct maint_matches *mm)
{
	memset(mm, 0, sizeof(*mm));
}

void maint_matches_release(struct maint_matches *mm)
{
	if (!mm)
		return;
	free(mm->v);
	maint_matches_init(mm);
}

static pcre2_match_data *new_match_data(void)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);

	if (!md)
		die("out of memory creating pcre2 match data");
	return md;
}

static bool match_file_pat(const struct maint *m, const struct maint_pat *p,
			   const char *f, size_t flen, size_t fslash,
			   pcre2_match_data *md, size_t *errs)
{
	if (flen < p->lit_len || memcmp(f, p->lit, p->lit_len))
		return false;
	/* a path beneath a literal value proves it is a directory */
	if (p->dir_guess && f[p->lit_len] == '/')
		return true;
	if (!p->trailing && fslash != p->nslash)
		return false;
	if (p->literal_only)
		return true;
	return re_match(m, p->code, f, flen, 0, md, errs);
}

static struct maint_match *find_match(struct maint_matches *mm,
				      const struct maint_section *s)
{
	for (size_t i = 0; i < mm->nr; i++)
		if (mm->v[i].section == s)
			return &mm->v[i];
	return NULL;
}

static int cmp_match(const void *a, const void *b)
{
	const struct maint_match *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1;
	return x->section->index < y->section->index ? -1 :
	       x->section->index > y->section->index;
}

static void merge_match(struct maint_matches *out, const struct maint_match *nm)
{
	struct maint_match *old = find_match(out, nm->section);

	if (old) {
		if (nm->depth > old->depth)
			old->depth = nm->depth;
		old->how |= nm->how;
		old->nr_paths += nm->nr_paths;
		return;
	}
	ALLOC_GROW(out->v, out->nr + 1, out->alloc);
	out->v[out->nr++] = *nm;
}

/*
 * Mark the sections with an F: whose literal prefix is a prefix of
 * 'path': only they (and sections with N:) can match.  One binary
 * search per prefix length, stopping as soon as no literal extends the
 * current prefix.
 */
static void find_candidates(unsigned char *cand, const struct maint *m,
			    const char *path, size_t flen)
{
	for (size_t l = 0; l <= flen; l++) {
		size_t lo = 0, hi = m->nr_lits;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct maint_lit *x = &m->lits[mid];

			if (cmp_lit_key(x->lit, x->len, path, l) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == m->nr_lits || m->lits[lo].len < l ||
		    memcmp(m->lits[lo].lit, path, l))
			break;
		for (; lo < m->nr_lits && m->lits[lo].len == l; lo++)
			cand[m->lits[lo].section] = 1;
	}
}

size_t maint_match_path(struct maint_matches *out, const struct maint *m,
			const char *path)
{
	struct maint_matches local = MAINT_MATCHES_INIT;
	pcre2_match_data *md = new_match_data();
	size_t flen = strlen(path), fslash = count_slashes(path), n;
	unsigned char *cand = xcalloc(m->nr_sections, 1);

	find_candidates(cand, m, path, flen);
	for (size_t si = 0; si < m->nr_sections; si++) {
		const struct maint_sec_priv *sp = &m->spriv[si];
		const struct maint_pat *pats;
		struct maint_match nm = { 0 };
		bool excluded = false, hit = false;

		if (!sp->nr_pats || (!cand[si] && !sp->has_name))
			continue;
		pats = m->pats + sp->first_pat;

		for (size_t i = 0; i < sp->nr_pats; i++) {
			if (pats[i].type == 'X' &&
			    match_file_pat(m, &pats[i], path, flen, fslash, md,
					   &out->regex_errors)) {
				excluded = true;
				break;
			}
		}
		if (excluded)
			continue;
		for (size_t i = 0; i < sp->nr_pats; i++) {
			const struct maint_pat *p = &pats[i];

			/* the last matching entry sets the depth */
			if (p->type == 'F' &&
			    match_file_pat(m, p, path, flen, fslash, md,
					   &out->regex_errors)) {
				hit = true;
				/* a guessed directory: nslash + 1 either way */
				nm.depth = p->depth;
				nm.how |= MAINT_BY_FILE;
			} else if (p->type == 'N' &&
				   re_match(m, p->code, path, flen, 0, md,
					    &out->regex_errors)) {
				hit = true;
				nm.depth = 0;
				nm.how |= MAINT_BY_NAME;
			}
		}
		if (!hit)
			continue;
		nm.section = &m->sections[si];
		nm.nr_paths = 1;
		ALLOC_GROW(local.v, local.nr + 1, local.alloc);
		local.v[local.nr++] = nm;
	}
	if (local.nr)
		qsort(local.v, local.nr, sizeof(*local.v), cmp_match);
	for (size_t i = 0; i < local.nr; i++)
		merge_match(out, &local.v[i]);
	n = local.nr;
	free(cand);
	maint_matches_release(&local);
	pcre2_match_data_free(md);
	return n;
}

/* True if the line is one the script never searches for keywords. */
static bool is_patch_meta_line(const struct maint *m, const char *line,
			       size_t len, pcre2_match_data *md,
			       bool *file_header)
{
	*file_header = false;
	switch (line[0]) {
	case ' ':
		return re_match(m, m->re_mode, line, len, 0, md, NULL);
	case 'r':
		return re_match(m, m->re_rename, line, len, 0, md, NULL);
	case 'd':
		return re_match(m, m->re_diffgit, line, len, 0, md, NULL);
	case 'F':
		return re_match(m, m->re_fixes, line, len, 0, md, NULL);
	case '+':
	case '-':
		*file_header = re_match(m, m->re_hdr, line, len, 0, md, NULL);
		return *file_header;
	case '@':
		return re_match(m, m->re_hunk, line, len, 0, md, NULL);
	default:
		return false;
	}
}

size_t maint_match_keywords(struct maint_matches *out,
			    const struct maint *m, const char *text,
			    size_t len)
{
	pcre2_match_data *md;
	bool *hit, in_patch = false;
	const char *p = text, *end = text + len;
	size_t n = 0;

	if (!text || !m->nr_kw)
		return 0;
	md = new_match_data();
	hit = xcalloc(m->nr_kw, sizeof(*hit));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		/* the script's lines keep their newline */
		size_t llen = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
		bool header;

		if (is_patch_meta_line(m, p, llen, md, &header)) {
			if (header)
				in_patch = true;
			goto next;
		}
		if (in_patch && p[0] != '+' && p[0] != '-')
			goto next;
		for (size_t k = 0; k < m->nr_kw; k++) {
			const struct maint_pat *kp = &m->pats[m->kw_order[k]];

			if (hit[k])
				continue;
			hit[k] = re_match(m, kp->code, p, llen,
					  in_patch ? 1 : 0, md,
					  &out->regex_errors);
		}
next:
		p += llen;
	}
	for (size_t k = 0; k < m->nr_kw; k++) {
		const struct maint_section *s;
		struct maint_match nm = { 0 };
		struct maint_match *old;

		if (!hit[k])
			continue;
		s = &m->sections[m->pats[m->kw_order[k]].section];
		old = find_match(out, s);
		if (old) {
			if (!(old->how & MAINT_BY_KEYWORD))
				n++;
			old->how |= MAINT_BY_KEYWORD;
			continue;
		}
		nm.section = s;
		nm.depth = MAINT_DEPTH_KEYWORD;
		nm.how = MAINT_BY_KEYWORD;
		merge_match(out, &nm);
		n++;
	}
	free(hit);
	pcre2_match_data_free(md);
	return n;
}

void maint_map(struct maint_matches *out, const struct maint *m,
	       const char *const *paths, size_t nr_paths, const char *text,
	       size_t len)
{
	out->nr = 0;
	out->regex_errors = 0;
	for (size_t i = 0; i < nr_paths; i++)
		maint_match_path(out, m, paths[i]);
	if (text)
		maint_match_keywords(out, m, text, len);
}
