/* Text, JSON and SARIF renderings of a review result: see render.h. */
#include "kreview/render.h"
#include "kreview/diff.h"
#include "kreview/strbuf.h"

#include <math.h>

/* Context lines quoted around a finding's range in text output. */
#define QUOTE_CONTEXT 2

static const char *const format_names[RENDER_FORMAT_MAX] = {
	[RENDER_TEXT] = "text",
	[RENDER_JSON] = "json",
	[RENDER_SARIF] = "sarif",
};

int render_format_parse(enum render_format *out, const char *name)
{
	int i = name_index(format_names, RENDER_FORMAT_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum render_format)i;
	return 0;
}

const char *render_format_name(enum render_format f)
{
	if ((unsigned)f >= RENDER_FORMAT_MAX)
		BUG("bad render format %d", (int)f);
	return format_names[f];
}

/*
 * Our own table rather than review_drop_name(): the renderers must not
 * pull the whole pipeline into every program that prints a stored
 * result, and the names are part of the JSON format.  The order of
 * enum review_drop is fixed in review.h.
 */
static const char *const drop_names[REVIEW_DROP_MAX] = {
	[REVIEW_REPORTED] = "reported",
	[REVIEW_DROP_THRESHOLD] = "threshold",
	[REVIEW_DROP_REFUTED] = "refuted",
	[REVIEW_DROP_DUPLICATE] = "duplicate",
	[REVIEW_DROP_FIXED_LATER] = "fixed-later",
	[REVIEW_DROP_SUPPRESSED] = "suppressed",
};

static const char *const drop_words[REVIEW_DROP_MAX] = {
	[REVIEW_DROP_THRESHOLD] = "threshold",
	[REVIEW_DROP_REFUTED] = "refuted",
	[REVIEW_DROP_DUPLICATE] = "duplicate",
	[REVIEW_DROP_FIXED_LATER] = "fixed later",
	[REVIEW_DROP_SUPPRESSED] = "suppressed",
};

static const char *drop_name(enum review_drop d)
{
	if ((unsigned)d >= REVIEW_DROP_MAX || d == REVIEW_REPORTED)
		return "unknown";
	return drop_names[d];
}

static const char *sev_name(enum finding_severity s)
{
	if ((unsigned)s >= SEV__MAX)
		return "unknown";
	return finding_severity_name(s);
}

static const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_CONFIRMED:
		return "confirmed";
	case VERDICT_REFUTED:
		return "refuted";
	default:
		return "unverified";
	}
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static size_t nr_reported(const struct review_result *r)
{
	return r->reported < r->nr ? r->reported : r->nr;
}

/* Hundredths of a confidence in [0, 1]: printed as "%d.%02d". */
static int hundredths(double x)
{
	if (!isfinite(x) || x <= 0)
		return 0;
	if (x >= 1)
		return 100;
	return (int)lround(x * 100);
}

static void add_confidence(struct strbuf *sb, double x)
{
	int h = hundredths(x);

	strbuf_addf(sb, "%d.%02d", h / 100, h % 100);
}

/* USD with 6 decimals, from integers so no locale can change it. */
static void add_cost(struct strbuf *sb, double usd)
{
	long long micro;

	if (!isfinite(usd) || usd <= 0 || usd >= 1e12)
		micro = 0;
	else
		micro = llround(usd * 1e6);
	strbuf_addf(sb, "%lld.%06lld", micro / 1000000, micro % 1000000);
}

struct counts {
	size_t sev[SEV__MAX];
	size_t drop[REVIEW_DROP_MAX];
	size_t reported, dropped;
};

static void count_result(struct counts *c, const struct review_result *r)
{
	size_t rep = nr_reported(r);

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < r->nr; i++) {
		const struct review_finding *rf = &r->v[i];

		if (i < rep) {
			c->reported++;
			if ((unsigned)rf->c.severity < SEV__MAX)
				c->sev[rf->c.severity]++;
		} else {
			c->dropped++;
			if ((unsigned)rf->drop < REVIEW_DROP_MAX)
				c->drop[rf->drop]++;
		}
	}
}

static const struct review_patch *find_patch(const struct review_series *s,
					     int index)
{
	if (!s || index <= 0)
		return NULL;
	for (size_t i = 0; i < s->nr; i++)
		if (s->patches[i].index == index)
			return &s->patches[i];
	return NULL;
}

/* ---- text -------------------------------------------------------- */

/*
 * Decode the UTF-8 sequence at 's' ('len' bytes available): its length
 * and code point, or 0 when it is invalid (overlong, surrogate, beyond
 * U+10FFFF, cut short).
 */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Code points a terminal would act on: C0 and C1 controls (ESC starts
 * colour and cursor sequences, U+009B is CSI) and the bidirectional
 * overrides and isolates that make code read differently from what it
 * is (CVE-2021-42574).
 */
static bool unsafe_cp(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

enum clean_flags {
	CLEAN_TAB = 1,	/* keep tabs (quoted code); else a space */
	CLEAN_NL = 2,	/* keep newlines; else a space */
};

/* Append 's' for a terminal: unsafe or invalid bytes become U+FFFD. */
static void add_clean(struct strbuf *sb, const char *s, size_t len,
		      unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t c;
		size_t n = utf8_decode(p + i, len - i, &c);

		if (!n) {
			strbuf_addstr(sb, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (c == '\t' || c == '\n') {
			bool keep = c == '\t' ? (flags & CLEAN_TAB) :
						(flags & CLEAN_NL);

			strbuf_addch(sb, keep ? (int)c : ' ');
		} else if (unsafe_cp(c)) {
			strbuf_addstr(sb, "\xef\xbf\xbd");
		} else {
			strbuf_add(sb, p + i, n);
		}
		i += n;
	}
}

static void add_clean_str(struct strbuf *sb, const char *s)
{
	add_clean(sb, str_or_empty(s), strlen(str_or_empty(s)), 0);
}

/* Columns of clean UTF-8 text: one per code point. */
static size_t utf8_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* Greedy word wrap of one line of clean text; long words stay whole. */
static void wrap_line(struct strbuf *out, const char *s, size_t len,
		      const char *indent, size_t width)
{
	size_t ind = strlen(indent), col = 0, i = 0;
	bool open = false;

	while (i < len) {
		size_t j, w;

		while (i < len && s[i] == ' ')
			i++;
		if (i >= len)
			break;
		for (j = i; j < len && s[j] != ' '; j++)
			;
		w = utf8_width(s + i, j - i);
		if (open && col + 1 + w > width) {
			strbuf_addch(out, '\n');
			open = false;
		}
		if (!open) {
			strbuf_addstr(out, indent);
			col = ind;
			open = true;
		} else {
			strbuf_addch(out, ' ');
			col++;
		}
		strbuf_add(out, s + i, j - i);
		col += w;
		i = j;
	}
	if (open)
		strbuf_addch(out, '\n');
}

/*
 * Wrap 'text' at 'width' columns below 'indent'.  Line breaks of the
 * text stay (models write numbered steps); runs of blank lines become
 * one blank line.
 */
static void add_wrapped(struct strbuf *out, const char *text,
			const char *indent, size_t width)
{
	struct strbuf clean = STRBUF_INIT;
	const char *p, *end;
	bool any = false, blank = false;

	add_clean(&clean, str_or_empty(text), strlen(str_or_empty(text)),
		  CLEAN_NL);
	p = clean.buf;
	end = clean.buf + clean.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *b = p, *e = eol ? eol : end;

		while (b < e && *b == ' ')
			b++;
		while (e > b && e[-1] == ' ')
			e--;
		if (b == e) {
			blank = any;
		} else {
			if (blank)
				strbuf_addch(out, '\n');
			blank = false;
			wrap_line(out, b, (size_t)(e - b), indent, width);
			any = true;
		}
		p = eol ? eol + 1 : end;
	}
	strbuf_release(&clean);
}

static void add_quote_line(struct strbuf *out, const char *indent,
			   const char *s, size_t len)
{
	if (len && s[len - 1] == '\r')
		len--;
	strbuf_addstr(out, indent);
	strbuf_addstr(out, len ? "> " : ">");
	add_clean(out, s, len, CLEAN_TAB);
	strbuf_addch(out, '\n');
}

static const struct diff_file *find_diff_file(const struct diff *d,
					      const char *path)
{
	for (size_t i = 0; i < d->files_nr; i++) {
		const struct diff_file *f = &d->files[i];

		if (f->new_path && !strcmp(f->new_path, path))
			return f;
	}
	for (size_t i = 0; i < d->files_nr; i++) {
		const struct diff_file *f = &d->files[i];

		if (f->old_path && !strcmp(f->old_path, path))
			return f;
	}
	return NULL;
}

struct quote_state {
	struct strbuf *out;
	const char *indent;
	size_t lines, more;
	bool gap;
};

static void quote_add(struct quote_state *q, const char *s, size_t len)
{
	if (q->lines >= RENDER_QUOTE_MAX) {
		q->more++;
		return;
	}
	if (q->gap && q->lines) {
		strbuf_addstr(q->out, q->indent);
		strbuf_addstr(q->out, "> ...\n");
	}
	q->gap = false;
	add_quote_line(q->out, q->indent, s, len);
	q->lines++;
}

/*
 * Quote the lines of hunk 'h' (its text at 'text') that show new-side
 * lines [lo, hi]; a removed line counts as sitting at the new line that
 * follows it.  The walk stops when the hunk's line counts are used up,
 * so trailing text (a mail signature) is never quoted.  True if a kept
 * or added line falls in [line, end].
 */
static bool quote_hunk(struct quote_state *q, const struct diff_hunk *h,
		       const char *text, int lo, int hi, int line, int end)
{
	const char *p = memchr(text, '\n', h->length);
	const char *stop = text + h->length;
	int at = h->new_start;
	int old_left = h->old_lines, new_left = h->new_lines;
	bool hit = false, any = false;

	if (!p)
		return false;
	for (p++; p < stop && (old_left > 0 || new_left > 0);) {
		const char *eol = memchr(p, '\n', (size_t)(stop - p));
		size_t ll = (size_t)((eol ? eol : stop) - p);
		char c = ll ? p[0] : ' ';

		if (c != '\\' && at >= lo && at <= hi) {
			quote_add(q, p, ll);
			any = true;
			if (c != '-' && at >= line && at <= end)
				hit = true;
		}
		if (c == '-') {
			old_left--;
		} else if (c == '+') {
			new_left--;
			at++;
		} else if (c != '\\') {
			old_left--;
			new_left--;
			at++;
		}
		p = eol ? eol + 1 : stop;
	}
	if (any)
		q->gap = true;
	return hit;
}

/*
 * Quote the hunk lines of patch 'p' around the finding's range into
 * 'out'; false (nothing added) when the diff does not show the range.
 */
static bool quote_diff(struct strbuf *out, const struct review_patch *p,
		       const struct finding *f, const char *indent)
{
	struct strbuf tmp = STRBUF_INIT;
	struct quote_state q = { &tmp, indent, 0, 0, false };
	const struct diff_file *df;
	int end = f->end_line > f->line ? f->end_line : f->line;
	bool hit = false;

	if (!p || !p->patch_text || !f->file || f->line <= 0)
		return false;
	df = find_diff_file(&p->diff, f->file);
	if (!df)
		return false;
	for (size_t i = 0; i < df->hunks_nr; i++) {
		const struct diff_hunk *h = &df->hunks[i];

		if (h->offset >= p->patch_len ||
		    h->length > p->patch_len - h->offset)
			continue;
		if (quote_hunk(&q, h, p->patch_text + h->offset,
			       f->line - QUOTE_CONTEXT, end + QUOTE_CONTEXT,
			       f->line, end))
			hit = true;
	}
	if (hit) {
		strbuf_addbuf(out, &tmp);
		if (q.more)
			strbuf_addf(out, "%s> [%zu more lines]\n", indent,
				    q.more);
	}
	strbuf_release(&tmp);
	return hit;
}

/*
 * Quote the finding's evidence, without leading and trailing blanks;
 * false when there is nothing to quote.
 */
static bool quote_evidence(struct strbuf *out, const char *ev,
			   const char *indent)
{
	struct quote_state q = { out, indent, 0, 0, false };
	const char *p = str_or_empty(ev), *end = p + strlen(p);
	const char *b = p, *e = end;

	/* Skip blank lines at both ends. */
	while (b < e) {
		const char *eol = memchr(b, '\n', (size_t)(e - b));
		const char *t = b;

		while (t < (eol ? eol : e) && (*t == ' ' || *t == '\t' ||
					       *t == '\r'))
			t++;
		if (!eol || t != eol)
			break;
		b = eol + 1;
	}
	while (e > b && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t' ||
			 e[-1] == '\r'))
		e--;
	while (b < e) {
		const char *eol = memchr(b, '\n', (size_t)(e - b));
		size_t ll = (size_t)((eol ? eol : e) - b);

		quote_add(&q, b, ll);
		b = eol ? eol + 1 : e;
	}
	if (q.more)
		strbuf_addf(out, "%s> [%zu more lines]\n", indent, q.more);
	return q.lines > 0;
}

static const char *sev_colour(enum finding_severity s)
{
	switch (s) {
	case SEV_CRITICAL:
		return "\033[1;31m";
	case SEV_HIGH:
		return "\033[31m";
	case SEV_MEDIUM:
		return "\033[33m";
	default:
		return "\033[2m";
	}
}

static void text_sev_label(struct strbuf *out, enum finding_severity s,
			   const struct render_opts *o)
{
	const char *name = sev_name(s);

	if (o->colour)
		strbuf_addstr(out, sev_colour(s));
	strbuf_addch(out, '[');
	for (const char *p = name; *p; p++)
		strbuf_addch(out, *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	strbuf_addch(out, ']');
	if (o->colour)
		strbuf_addstr(out, "\033[0m");
}

static void text_location(struct strbuf *out, const struct finding *f)
{
	add_clean_str(out, f->file);
	if (f->line > 0) {
		strbuf_addf(out, ":%d", f->line);
		if (f->end_line > f->line)
			strbuf_addf(out, "-%d", f->end_line);
	}
	if (f->function && *f->function) {
		strbuf_addstr(out, " (");
		add_clean_str(out, f->function);
		strbuf_addch(out, ')');
	}
}

static void text_finding(struct strbuf *out, const struct review_series *s,
			 const struct review_finding *rf, bool reported,
			 const struct render_opts *o)
{
	const struct cluster *c = &rf->c;
	const struct finding *f = &c->rep;
	const char *verdict;

	strbuf_addstr(out, "  ");
	text_sev_label(out, c->severity, o);
	strbuf_addch(out, ' ');
	add_clean_str(out, f->category);
	strbuf_addstr(out, ": ");
	add_clean_str(out, f->title);
	strbuf_addch(out, '\n');

	switch (c->verdict) {
	case VERDICT_CONFIRMED:
		verdict = "verified";
		break;
	case VERDICT_REFUTED:
		verdict = "refuted";
		break;
	default:
		verdict = "unverified";
		break;
	}
	strbuf_addf(out, "  support %d/%d, confidence ", c->support, c->runs);
	add_confidence(out, c->confidence);
	strbuf_addf(out, ", %s%s\n", verdict,
		    rf->pre_existing ? ", pre-existing" : "");
	if (!reported) {
		const char *why = rf->drop_reason ? rf->drop_reason :
			(c->verdict == VERDICT_REFUTED ? c->verdict_reason :
							 NULL);

		strbuf_addstr(out, "  dropped: ");
		strbuf_addstr(out, (unsigned)rf->drop < REVIEW_DROP_MAX &&
				   drop_words[rf->drop] ?
				   drop_words[rf->drop] : "unknown");
		if (why && *why) {
			strbuf_addstr(out, ": ");
			add_clean_str(out, why);
		}
		strbuf_addch(out, '\n');
	}
	strbuf_addstr(out, "  ");
	text_location(out, f);
	strbuf_addstr(out, "\n\n");

	if (quote_diff(out, find_patch(s, f->patch), f, "  ") ||
	    quote_evidence(out, f->evidence, "  "))
		strbuf_addch(out, '\n');
	add_wrapped(out, f->explanation, "  ", RENDER_WRAP);
	strbuf_addch(out, '\n');
}

static void text_patch_header(struct strbuf *out,
			      const struct review_series *s, int key)
{
	const struct review_patch *p = find_patch(s, key);

	if (key == INT_MAX)
		strbuf_addstr(out, "[series]");
	else if (p)
		strbuf_addf(out, "[PATCH %d/%zu] ", key, s->nr);
	else
		strbuf_addf(out, "[PATCH %d]", key);
	if (p)
		add_clean_str(out, p->subject);
	strbuf_addstr(out, "\n\n");
}

struct slot {
	int key;	/* patch index; INT_MAX when not known */
	size_t idx;
};

static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Findings v[from..to-1] grouped by patch, in result order inside. */
static void text_group(struct strbuf *out, const struct review_series *s,
		       const struct review_result *r, size_t from, size_t to,
		       const struct render_opts *o)
{
	size_t n = to - from, rep = nr_reported(r);
	struct slot *v;

	if (!n)
		return;
	v = xmalloc(st_mult(n, sizeof(*v)));
	for (size_t i = 0; i < n; i++) {
		int patch = r->v[from + i].c.rep.patch;

		v[i].key = patch > 0 ? patch : INT_MAX;
		v[i].idx = from + i;
	}
	qsort(v, n, sizeof(*v), cmp_slot);
	for (size_t i = 0; i < n; i++) {
		if (!i || v[i].key != v[i - 1].key)
			text_patch_header(out, s, v[i].key);
		text_finding(out, s, &r->v[v[i].idx], v[i].idx < rep, o);
	}
	free(v);
}

/* One "prefix: line" per non-empty line of 'sb'. */
static void text_lines(struct strbuf *out, const char *prefix,
		       const struct strbuf *sb)
{
	const char *p = sb->buf, *end = sb->buf + sb->len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol ? eol : end) - p);

		if (len) {
			strbuf_addstr(out, prefix);
			add_clean(out, p, len, 0);
			strbuf_addch(out, '\n');
		}
		p = eol ? eol + 1 : end;
	}
}

static void render_text(struct strbuf *out, const struct review_series *s,
			const struct review_result *r,
			const struct render_opts *o)
{
	const struct llm_usage *u = &r->usage;
	size_t rep = nr_reported(r);
	struct counts c;

	count_result(&c, r);
	if (!rep)
		strbuf_addstr(out, "no findings\n\n");
	else
		text_group(out, s, r, 0, rep, o);
	if (o->include_dropped && rep < r->nr) {
		strbuf_addstr(out, "dropped findings (not reported):\n\n");
		text_group(out, s, r, rep, r->nr, o);
	}
	text_lines(out, "note: ", &r->notes);
	text_lines(out, "error: ", &r->errors);

	strbuf_addf(out, "reported: %zu (%zu critical, %zu high, "
		    "%zu medium, %zu low)\n", c.reported, c.sev[SEV_CRITICAL],
		    c.sev[SEV_HIGH], c.sev[SEV_MEDIUM], c.sev[SEV_LOW]);
	strbuf_addf(out, "dropped: %zu (%zu threshold, %zu refuted, "
		    "%zu duplicate, %zu fixed later); %zu invalid rejected\n",
		    c.dropped, c.drop[REVIEW_DROP_THRESHOLD],
		    c.drop[REVIEW_DROP_REFUTED], c.drop[REVIEW_DROP_DUPLICATE],
		    c.drop[REVIEW_DROP_FIXED_LATER], r->rejected);
	strbuf_addf(out, "requests: %d (%d cached, %d failed)\n", r->requests,
		    r->cached, r->failed);
	strbuf_addf(out, "tokens: %" PRIu64 " in uncached, %" PRIu64
		    " cache write, %" PRIu64 " cache read, %" PRIu64 " out",
		    u->in_uncached, u->cache_write, u->cache_read, u->out);
	if (u->reasoning)
		strbuf_addf(out, " (%" PRIu64 " reasoning)", u->reasoning);
	strbuf_addstr(out, "; cost $");
	add_cost(out, r->cost);
	strbuf_addch(out, '\n');
}

/* ---- a small pretty-printing JSON writer ------------------------- */

struct jw {
	struct strbuf *out;
	int depth;
	bool first;	/* the open container has no member yet */
	bool after_key;	/* a key was written, its value comes next */
};

static void jw_newline(struct jw *w)
{
	strbuf_addch(w->out, '\n');
	for (int i = 0; i < w->depth; i++)
		strbuf_addstr(w->out, "  ");
}

static void jw_member(struct jw *w)
{
	if (!w->first)
		strbuf_addch(w->out, ',');
	jw_newline(w);
	w->first = false;
}

static void jw_value(struct jw *w)
{
	if (w->after_key)
		w->after_key = false;
	else if (w->depth)
		jw_member(w);
}

static void jw_key(struct jw *w, const char *key)
{
	jw_member(w);
	strbuf_add_json_str(w->out, key, strlen(key));
	strbuf_addstr(w->out, ": ");
	w->after_key = true;
}

static void jw_open(struct jw *w, char c)
{
	jw_value(w);
	strbuf_addch(w->out, c);
	w->depth++;
	w->first = true;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	if (!w->first)
		jw_newline(w);
	strbuf_addch(w->out, c);
	w->first = false;
}

static void jw_str(struct jw *w, const char *s)
{
	jw_value(w);
	if (s)
		strbuf_add_json_str(w->out, s, strlen(s));
	else
		strbuf_addstr(w->out, "null");
}

static void jw_kstr(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

static void jw_kint(struct jw *w, const char *key, long long v)
{
	jw_key(w, key);
	jw_value(w);
	strbuf_addf(w->out, "%lld", v);
}

static void jw_ku64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_value(w);
	strbuf_addf(w->out, "%" PRIu64, v);
}

static void jw_kbool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_value(w);
	strbuf_addstr(w->out, v ? "true" : "false");
}

static void jw_kconf(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	jw_value(w);
	add_confidence(w->out, v);
}

/* Each non-empty line of 'sb' as a string of an array under 'key'. */
static void jw_klines(struct jw *w, const char *key, const struct strbuf *sb)
{
	const char *p = sb->buf, *end = sb->buf + sb->len;

	jw_key(w, key);
	jw_open(w, '[');
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol ? eol : end) - p);

		if (len) {
			jw_value(w);
			strbuf_add_json_str(w->out, p, len);
		}
		p = eol ? eol + 1 : end;
	}
	jw_close(w, ']');
}

/* ---- JSON -------------------------------------------------------- */

static void json_finding(struct jw *w, const struct review_finding *rf,
			 bool reported)
{
	const struct cluster *c = &rf->c;
	const struct finding *f = &c->rep;

	jw_open(w, '{');
	jw_kint(w, "patch", f->patch);
	jw_kstr(w, "file", str_or_empty(f->file));
	jw_kint(w, "line", f->line);
	jw_kint(w, "end_line", f->end_line);
	jw_kstr(w, "function", str_or_empty(f->function));
	jw_kstr(w, "category", str_or_empty(f->category));
	jw_kstr(w, "severity", sev_name(c->severity));
	jw_kconf(w, "confidence", c->confidence);
	jw_kstr(w, "title", str_or_empty(f->title));
	jw_kstr(w, "explanation", str_or_empty(f->explanation));
	jw_kstr(w, "evidence", str_or_empty(f->evidence));
	jw_kbool(w, "pre_existing", rf->pre_existing);
	jw_kint(w, "support", c->support);
	jw_kint(w, "runs", c->runs);
	jw_kstr(w, "verified", verdict_name(c->verdict));
	jw_kstr(w, "verdict_reason", c->verdict_reason);
	jw_kstr(w, "fingerprint", c->fingerprint);
	jw_kbool(w, "reported", reported);
	jw_kstr(w, "dropped", reported ? NULL : drop_name(rf->drop));
	jw_kstr(w, "drop_reason", reported ? NULL : rf->drop_reason);
	jw_close(w, '}');
}

static void render_json(struct strbuf *out, const struct review_series *s,
			const struct review_result *r,
			const struct render_opts *o)
{
	struct jw w = { out, 0, true, false };
	const struct llm_usage *u = &r->usage;
	size_t rep = nr_reported(r);
	struct counts c;

	count_result(&c, r);
	jw_open(&w, '{');
	jw_kint(&w, "version", 1);

	jw_key(&w, "series");
	jw_open(&w, '{');
	jw_kstr(&w, "subject", s ? s->subject : NULL);
	if (s) {
		jw_kint(&w, "version", s->version);
	} else {
		jw_key(&w, "version");
		jw_str(&w, NULL);
	}
	jw_kstr(&w, "author", s ? s->author : NULL);
	jw_kstr(&w, "base", s ? s->base : NULL);
	jw_kstr(&w, "prompt_hash", r->prompt_hash[0] ? r->prompt_hash : NULL);
	jw_kstr(&w, "profile", r->profile);
	jw_kint(&w, "runs", r->runs);
	jw_close(&w, '}');

	jw_key(&w, "patches");
	jw_open(&w, '[');
	for (size_t i = 0; s && i < s->nr; i++) {
		const struct review_patch *p = &s->patches[i];

		jw_open(&w, '{');
		jw_kint(&w, "index", p->index);
		jw_kstr(&w, "subject", p->subject);
		jw_kstr(&w, "msgid", p->msgid);
		jw_kstr(&w, "patch_id", p->patch_id[0] ? p->patch_id : NULL);
		jw_kstr(&w, "subsystem", p->subsystem);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_key(&w, "findings");
	jw_open(&w, '[');
	for (size_t i = 0; i < (o->include_dropped ? r->nr : rep); i++)
		json_finding(&w, &r->v[i], i < rep);
	jw_close(&w, ']');

	jw_key(&w, "counts");
	jw_open(&w, '{');
	jw_key(&w, "reported");
	jw_open(&w, '{');
	for (int i = SEV__MAX - 1; i >= 0; i--)
		jw_ku64(&w, finding_severity_name((enum finding_severity)i),
			c.sev[i]);
	jw_close(&w, '}');
	jw_key(&w, "dropped");
	jw_open(&w, '{');
	for (int i = REVIEW_DROP_THRESHOLD; i < REVIEW_DROP_MAX; i++)
		jw_ku64(&w, drop_names[i], c.drop[i]);
	jw_close(&w, '}');
	jw_ku64(&w, "rejected", r->rejected);
	jw_close(&w, '}');

	jw_key(&w, "usage");
	jw_open(&w, '{');
	jw_ku64(&w, "in_uncached", u->in_uncached);
	jw_ku64(&w, "cache_write", u->cache_write);
	jw_ku64(&w, "cache_read", u->cache_read);
	jw_ku64(&w, "out", u->out);
	jw_ku64(&w, "reasoning", u->reasoning);
	jw_key(&w, "cost_usd");
	jw_value(&w);
	add_cost(out, r->cost);
	jw_kint(&w, "requests", r->requests);
	jw_kint(&w, "cached", r->cached);
	jw_kint(&w, "failed", r->failed);
	jw_close(&w, '}');

	jw_klines(&w, "notes", &r->notes);
	jw_klines(&w, "errors", &r->errors);
	jw_close(&w, '}');
	strbuf_addch(out, '\n');
}

/* ---- SARIF ------------------------------------------------------- */

static const struct {
	const char *id, *text;
} rule_texts[] = {
	{ "use-after-free", "Memory is used after it was freed" },
	{ "resource-leak", "A resource is not released on some path" },
	{ "double-free", "Memory or a resource is released twice" },
	{ "deadlock", "Lock order or recursion that can deadlock" },
	{ "race", "Concurrent access without the needed synchronisation" },
	{ "locking-rule", "A locking rule is broken (lock not held, wrong "
			  "context)" },
	{ "rcu", "RCU is used incorrectly" },
	{ "null-deref", "A NULL pointer can be dereferenced" },
	{ "error-path", "An error path is mishandled" },
	{ "overflow", "Integer or buffer overflow" },
	{ "out-of-bounds", "Access outside the bounds of an object" },
	{ "uninitialized", "Uninitialised data is used" },
	{ "api-misuse", "A kernel API is used incorrectly" },
	{ "uapi-break", "User-space ABI or API is broken" },
	{ "logic", "The code does not do what it intends" },
	{ "hardware", "Hardware rule broken (DMA, barriers, endianness, "
		      "power management)" },
	{ "subsystem-rule", "A rule of the subsystem is broken" },
	{ "commit-message", "The commit message does not match the change" },
	{ "style", "Coding style" },
};

static const char *rule_text(const char *id)
{
	for (size_t i = 0; i < ARRAY_SIZE(rule_texts); i++)
		if (!strcmp(rule_texts[i].id, id))
			return rule_texts[i].text;
	return id;
}

static const char *rule_id(const struct finding *f)
{
	return f->category && *f->category ? f->category : "uncategorized";
}

static const char *sarif_level(enum finding_severity s)
{
	switch (s) {
	case SEV_CRITICAL:
	case SEV_HIGH:
		return "error";
	case SEV_MEDIUM:
		return "warning";
	default:
		return "note";
	}
}

/*
 * A repository path as a relative URI reference: unreserved bytes and
 * '/' as they are, everything else percent-encoded (':' too, which
 * would otherwise read as a scheme).
 */
static void add_uri_path(struct strbuf *sb, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		unsigned char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == '/' || c == '+' || c == ',' ||
		    c == '=' || c == '@') {
			strbuf_addch(sb, c);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[c >> 4]);
			strbuf_addch(sb, hex[c & 15]);
		}
	}
}

static void sarif_result(struct jw *w, const struct review_finding *rf,
			 bool reported, size_t rule_index)
{
	const struct cluster *c = &rf->c;
	const struct finding *f = &c->rep;
	struct strbuf tmp = STRBUF_INIT;

	jw_open(w, '{');
	jw_kstr(w, "ruleId", rule_id(f));
	jw_kint(w, "ruleIndex", (long long)rule_index);
	jw_kstr(w, "level", sarif_level(c->severity));

	jw_key(w, "message");
	jw_open(w, '{');
	strbuf_addstr(&tmp, str_or_empty(f->title));
	if (f->explanation && *f->explanation) {
		strbuf_addstr(&tmp, "\n\n");
		strbuf_addstr(&tmp, f->explanation);
	}
	jw_kstr(w, "text", tmp.buf);
	jw_close(w, '}');

	if (f->file && *f->file) {
		strbuf_reset(&tmp);
		add_uri_path(&tmp, f->file);
		jw_key(w, "locations");
		jw_open(w, '[');
		jw_open(w, '{');
		jw_key(w, "physicalLocation");
		jw_open(w, '{');
		jw_key(w, "artifactLocation");
		jw_open(w, '{');
		jw_kstr(w, "uri", tmp.buf);
		jw_kstr(w, "uriBaseId", "SRCROOT");
		jw_close(w, '}');
		if (f->line > 0) {
			jw_key(w, "region");
			jw_open(w, '{');
			jw_kint(w, "startLine", f->line);
			jw_kint(w, "endLine", f->end_line > f->line ?
						      f->end_line : f->line);
			jw_close(w, '}');
		}
		jw_close(w, '}');
		if (f->function && *f->function) {
			jw_key(w, "logicalLocations");
			jw_open(w, '[');
			jw_open(w, '{');
			jw_kstr(w, "name", f->function);
			jw_kstr(w, "kind", "function");
			jw_close(w, '}');
			jw_close(w, ']');
		}
		jw_close(w, '}');
		jw_close(w, ']');
	}

	if (c->fingerprint[0]) {
		jw_key(w, "partialFingerprints");
		jw_open(w, '{');
		jw_kstr(w, "kreview/v1", c->fingerprint);
		jw_close(w, '}');
	}

	if (!reported) {
		strbuf_reset(&tmp);
		strbuf_addstr(&tmp, drop_name(rf->drop));
		if (rf->drop_reason && *rf->drop_reason) {
			strbuf_addstr(&tmp, ": ");
			strbuf_addstr(&tmp, rf->drop_reason);
		}
		jw_key(w, "suppressions");
		jw_open(w, '[');
		jw_open(w, '{');
		jw_kstr(w, "kind", "external");
		jw_kstr(w, "status", "accepted");
		jw_kstr(w, "justification", tmp.buf);
		jw_close(w, '}');
		jw_close(w, ']');
	}

	jw_key(w, "properties");
	jw_open(w, '{');
	jw_kstr(w, "severity", sev_name(c->severity));
	jw_kint(w, "support", c->support);
	jw_kint(w, "runs", c->runs);
	jw_kconf(w, "confidence", c->confidence);
	jw_kint(w, "patch", f->patch);
	jw_kbool(w, "pre_existing", rf->pre_existing);
	jw_kstr(w, "verified", verdict_name(c->verdict));
	jw_close(w, '}');
	jw_close(w, '}');
	strbuf_release(&tmp);
}

static void render_sarif(struct strbuf *out, const struct review_series *s,
			 const struct review_result *r,
			 const struct render_opts *o)
{
	struct jw w = { out, 0, true, false };
	size_t rep = nr_reported(r);
	size_t n = o->include_dropped ? r->nr : rep;
	const char **rules = NULL;
	size_t *index = NULL, nr_rules = 0;

	(void)s;
	/* One rule per category, in order of first use. */
	if (n) {
		rules = xcalloc(n, sizeof(*rules));
		index = xcalloc(n, sizeof(*index));
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = rule_id(&r->v[i].c.rep);
		size_t k;

		for (k = 0; k < nr_rules; k++)
			if (!strcmp(rules[k], id))
				break;
		if (k == nr_rules)
			rules[nr_rules++] = id;
		index[i] = k;
	}

	jw_open(&w, '{');
	jw_kstr(&w, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	jw_kstr(&w, "version", "2.1.0");
	jw_key(&w, "runs");
	jw_open(&w, '[');
	jw_open(&w, '{');

	jw_key(&w, "tool");
	jw_open(&w, '{');
	jw_key(&w, "driver");
	jw_open(&w, '{');
	jw_kstr(&w, "name", "kreview");
	jw_kstr(&w, "version", KREVIEW_VERSION);
#ifdef KREVIEW_URL
	jw_kstr(&w, "informationUri", KREVIEW_URL);
#endif
	jw_key(&w, "rules");
	jw_open(&w, '[');
	for (size_t k = 0; k < nr_rules; k++) {
		jw_open(&w, '{');
		jw_kstr(&w, "id", rules[k]);
		jw_key(&w, "shortDescription");
		jw_open(&w, '{');
		jw_kstr(&w, "text", rule_text(rules[k]));
		jw_close(&w, '}');
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	jw_close(&w, '}');

	jw_key(&w, "results");
	jw_open(&w, '[');
	for (size_t i = 0; i < n; i++)
		sarif_result(&w, &r->v[i], i < rep, index[i]);
	jw_close(&w, ']');

	jw_key(&w, "properties");
	jw_open(&w, '{');
	jw_kstr(&w, "prompt_hash", r->prompt_hash[0] ? r->prompt_hash : NULL);
	jw_kstr(&w, "profile", r->profile);
	jw_kint(&w, "runs", r->runs);
	jw_close(&w, '}');

	jw_close(&w, '}');
	jw_close(&w, ']');
	jw_close(&w, '}');
	strbuf_addch(out, '\n');
	free(rules);
	free(index);
}

void render_result(struct strbuf *out, const struct review_series *s,
		   const struct review_result *r, enum render_format fmt,
		   const struct render_opts *o)
{
	static const struct render_opts defaults = RENDER_OPTS_INIT;

	if (!o)
		o = &defaults;
	switch (fmt) {
	case RENDER_TEXT:
		render_text(out, s, r, o);
		break;
	case RENDER_JSON:
		render_json(out, s, r, o);
		break;
	case RENDER_SARIF:
		render_sarif(out, s, r, o);
		break;
	default:
		BUG("bad render format %d", (int)fmt);
	}
}
