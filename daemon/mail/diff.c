/* Unified diffs in patch mail: see diff.h. */
#include "kreview/diff.h"
#include "kreview/strbuf.h"

#include <ctype.h>

/* Longer object names than SHA-256 hex are not object names. */
#define DIFF_MAX_OID 64
/* Hunk header numbers: git never writes more than this. */
#define DIFF_MAX_DIGITS 9

void diff_init(struct diff *d)
{
	struct diff blank = DIFF_INIT;

	*d = blank;
}

static void file_release(struct diff_file *f)
{
	free(f->old_path);
	free(f->new_path);
	free(f->old_oid);
	free(f->new_oid);
	for (size_t i = 0; i < f->hunks_nr; i++)
		free(f->hunks[i].section);
	free(f->hunks);
}

void diff_release(struct diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->files_nr; i++)
		file_release(&d->files[i]);
	free(d->files);
	diff_init(d);
}

const char *diff_file_path(const struct diff_file *f)
{
	return f->new_path ? f->new_path : f->old_path;
}

struct parser {
	const char *text;
	size_t len;
	/* The current line: [start, end) without "\n" or "\r\n". */
	size_t start, end, next;
	size_t lineno;
	bool eof;
	size_t hunks;
	struct diff d;
	struct strbuf *err;
};

static void load_line(struct parser *p)
{
	const char *nl;

	if (p->start >= p->len) {
		p->eof = true;
		p->end = p->next = p->len;
		return;
	}
	nl = memchr(p->text + p->start, '\n', p->len - p->start);
	p->end = nl ? (size_t)(nl - p->text) : p->len;
	p->next = nl ? p->end + 1 : p->len;
	if (p->end > p->start && p->text[p->end - 1] == '\r')
		p->end--;
}

static void advance(struct parser *p)
{
	p->start = p->next;
	p->lineno++;
	load_line(p);
}

static const char *cur(const struct parser *p)
{
	return p->text + p->start;
}

static size_t cur_len(const struct parser *p)
{
	return p->end - p->start;
}

/* Does the current line start with 'prefix'? */
static bool at(const struct parser *p, const char *prefix)
{
	size_t n = strlen(prefix);

	return !p->eof && cur_len(p) >= n && !memcmp(cur(p), prefix, n);
}

/* Does the line after the current one start with 'prefix'? */
static bool next_at(const struct parser *p, const char *prefix)
{
	struct parser q = *p;

	if (p->eof)
		return false;
	advance(&q);
	return at(&q, prefix);
}

KR_PRINTF(2, 3) static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err) {
		strbuf_addf(p->err, "line %zu: ", p->lineno);
		va_start(ap, fmt);
		strbuf_vaddf(p->err, fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

/*
 * Decode a C-quoted name ("a/foo\tbar") starting at s[0] == '"'.
 * Returns the number of bytes consumed, or 0 when malformed.
 */
static size_t unquote(struct strbuf *out, const char *s, size_t len)
{
	static const char escapes[] = "abfnrtv\"\\";
	static const char unescaped[] = "\a\b\f\n\r\t\v\"\\";
	const char *esc;
	size_t i = 1;

	strbuf_reset(out);
	while (i < len) {
		char c = s[i++];

		if (c == '"')
			return i;
		if (c != '\\') {
			strbuf_addch(out, c);
			continue;
		}
		if (i >= len)
			return 0;
		c = s[i++];
		esc = c ? strchr(escapes, c) : NULL;
		if (esc) {
			strbuf_addch(out, unescaped[esc - escapes]);
		} else if (c >= '0' && c <= '3' && i + 1 < len &&
			   s[i] >= '0' && s[i] <= '7' && s[i + 1] >= '0' &&
			   s[i + 1] <= '7') {
			strbuf_addch(out, (char)(((c - '0') << 6) |
						 ((s[i] - '0') << 3) |
						 (s[i + 1] - '0')));
			i += 2;
		} else {
			return 0;
		}
	}
	return 0;
}

/* Drop git's "a/" / "b/" (or any first component, like -p1). */
static char *strip_prefix_dup(const char *name, size_t len)
{
	const char *slash = memchr(name, '/', len);

	if (slash && (size_t)(slash - name) + 1 < len)
		return xmemdupz(slash + 1, len - (size_t)(slash - name) - 1);
	return xmemdupz(name, len);
}

/*
 * The name on a "--- " / "+++ " line: quoted, or up to a tab (plain
 * diffs append a timestamp; git appends a tab after names with
 * spaces).  NULL for /dev/null.  Returns -EPROTO on a bad quote.
 */
static int header_name(char **out, struct parser *p, size_t skip)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s = cur(p) + skip;
	size_t len = cur_len(p) - skip;
	const char *tab;

	*out = NULL;
	if (len && s[0] == '"') {
		if (!unquote(&sb, s, len)) {
			strbuf_release(&sb);
			return fail(p, "bad quoted file name");
		}
		if (strcmp(sb.buf, "/dev/null"))
			*out = strip_prefix_dup(sb.buf, sb.len);
		strbuf_release(&sb);
		return 0;
	}
	tab = memchr(s, '\t', len);
	if (tab)
		len = (size_t)(tab - s);
	while (len && s[len - 1] == ' ' && !tab)
		len--;
	if (!len)
		return fail(p, "missing file name");
	if (len == 9 && !memcmp(s, "/dev/null", 9))
		return 0;
	*out = strip_prefix_dup(s, len);
	return 0;
}

/*
 * Names on the "diff --git a/x b/y" line.  Unquoted names with spaces
 * are ambiguous; like git, accept the split where both sides name the
 * same file and otherwise leave the names to the later header lines.
 */
static int git_line_names(char **a_out, char **b_out, struct parser *p)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	const char *s = cur(p) + strlen("diff --git ");
	size_t len = cur_len(p) - strlen("diff --git "), n;
	int ret = 0;

	*a_out = *b_out = NULL;
	if (len && s[0] == '"') {
		n = unquote(&a, s, len);
		if (!n || n >= len || s[n] != ' ') {
			ret = fail(p, "bad quoted file name");
			goto out;
		}
		s += n + 1;
		len -= n + 1;
		if (len && s[0] == '"') {
			if (!unquote(&b, s, len)) {
				ret = fail(p, "bad quoted file name");
				goto out;
			}
		} else {
			strbuf_add(&b, s, len);
		}
		*a_out = strip_prefix_dup(a.buf, a.len);
		*b_out = strip_prefix_dup(b.buf, b.len);
		goto out;
	}
	for (size_t sp = 0; sp < len; sp++) {
		const char *l, *r;
		size_t ll, rl;

		if (s[sp] != ' ')
			continue;
		if (sp + 1 < len && s[sp + 1] == '"') {
			if (!unquote(&b, s + sp + 1, len - sp - 1)) {
				ret = fail(p, "bad quoted file name");
				goto out;
			}
			*a_out = strip_prefix_dup(s, sp);
			*b_out = strip_prefix_dup(b.buf, b.len);
			goto out;
		}
		l = memchr(s, '/', sp);
		r = memchr(s + sp + 1, '/', len - sp - 1);
		if (!l || !r)
			continue;
		ll = sp - (size_t)(l - s);
		rl = len - (size_t)(r - s);
		if (ll == rl && !memcmp(l, r, ll)) {
			*a_out = strip_prefix_dup(s, sp);
			*b_out = strip_prefix_dup(s + sp + 1, len - sp - 1);
			goto out;
		}
	}
out:
	strbuf_release(&a);
	strbuf_release(&b);
	return ret;
}

static bool parse_num(int *out, const char **s, const char *end)
{
	const char *q = *s;
	int v = 0;

	while (q < end && isdigit((unsigned char)*q)) {
		if (q - *s >= DIFF_MAX_DIGITS)
			return false;
		v = v * 10 + (*q++ - '0');
	}
	if (q == *s)
		return false;
	*out = v;
	*s = q;
	return true;
}

/* "@@ -l[,s] +l[,s] @@[ section]"; a missing count means 1. */
static bool parse_hunk_header(struct diff_hunk *h, const char *s,
			      const char *end)
{
	s += 4; /* "@@ -" */
	h->old_lines = h->new_lines = 1;
	if (!parse_num(&h->old_start, &s, end))
		return false;
	if (s < end && *s == ',') {
		s++;
		if (!parse_num(&h->old_lines, &s, end))
			return false;
	}
	if (end - s < 2 || s[0] != ' ' || s[1] != '+')
		return false;
	s += 2;
	if (!parse_num(&h->new_start, &s, end))
		return false;
	if (s < end && *s == ',') {
		s++;
		if (!parse_num(&h->new_lines, &s, end))
			return false;
	}
	if (end - s < 3 || memcmp(s, " @@", 3))
		return false;
	s += 3;
	if (s < end && *s == ' ')
		s++;
	h->section = xmemdupz(s, (size_t)(end - s));
	return true;
}

static int parse_hunks(struct parser *p, struct diff_file *f)
{
	while (at(p, "@@ -")) {
		struct diff_hunk h = { 0 };
		size_t hline = p->lineno;
		int old_left, new_left;

		if (++p->hunks > DIFF_MAX_HUNKS) {
			if (p->err)
				strbuf_addf(p->err, "line %zu: more than %d "
					    "hunks", p->lineno,
					    DIFF_MAX_HUNKS);
			return -E2BIG;
		}
		if (!parse_hunk_header(&h, cur(p), p->text + p->end))
			return fail(p, "malformed hunk header");
		h.offset = p->start;
		ALLOC_GROW(f->hunks, f->hunks_nr + 1, f->hunks_alloc);
		f->hunks[f->hunks_nr++] = h;
		old_left = h.old_lines;
		new_left = h.new_lines;
		advance(p);

		while (old_left > 0 || new_left > 0) {
			char c = cur_len(p) ? cur(p)[0] : ' ';

			if (p->eof)
				return fail(p, "hunk at line %zu cut short: "
					    "%d old and %d new lines missing",
					    hline, old_left, new_left);
			switch (c) {
			case ' ':
				old_left--;
				new_left--;
				break;
			case '-':
				old_left--;
				f->hunks[f->hunks_nr - 1].removed++;
				break;
			case '+':
				new_left--;
				f->hunks[f->hunks_nr - 1].added++;
				break;
			case '\\':
				break;
			default:
				return fail(p, "hunk at line %zu cut short: "
					    "%d old and %d new lines missing",
					    hline, old_left, new_left);
			}
			if (old_left < 0 || new_left < 0)
				return fail(p, "hunk at line %zu has more "
					    "lines than its header says",
					    hline);
			advance(p);
		}
		/* "\ No newline at end of file" after the last line. */
		while (at(p, "\\"))
			advance(p);
		f->hunks[f->hunks_nr - 1].length = p->start - h.offset;
	}
	return 0;
}

/*
 * Skip the base85 data of a "GIT binary patch": "literal N" or
 * "delta N" lines, data lines and the blank lines ending each block.
 */
static void skip_binary(struct parser *p)
{
	static const char b85[] = "0123456789"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz"
				  "!#$%&()*+-;<=>?@^_`{|}~";

	while (!p->eof) {
		const char *s = cur(p);
		size_t n = cur_len(p), i;

		if (at(p, "literal ") || at(p, "delta ") || n == 0) {
			advance(p);
			continue;
		}
		if (!isalpha((unsigned char)s[0]))
			return;
		for (i = 1; i < n; i++)
			if (!strchr(b85, s[i]) || !s[i])
				return;
		advance(p);
	}
}

static void set_str(char **dst, char *src)
{
	free(*dst);
	*dst = src;
}

static bool parse_mode(unsigned *out, const char *s, const char *end)
{
	unsigned v = 0;
	const char *q = s;

	while (q < end && *q >= '0' && *q <= '7' && q - s < 7)
		v = v * 8 + (unsigned)(*q++ - '0');
	if (q == s || (q < end && *q != ' '))
		return false;
	*out = v;
	return true;
}

/* "index abc123..def456[ 100644]" */
static void parse_index(struct diff_file *f, const char *s, const char *end)
{
	const char *a = s, *dots, *b, *be;
	unsigned mode;

	while (s < end && isxdigit((unsigned char)*s))
		s++;
	if (s == a || s - a > DIFF_MAX_OID || end - s < 2 || s[0] != '.' ||
	    s[1] != '.')
		return;
	dots = s;
	b = be = s + 2;
	while (be < end && isxdigit((unsigned char)*be))
		be++;
	if (be == b || be - b > DIFF_MAX_OID || (be < end && *be != ' '))
		return;
	set_str(&f->old_oid, xmemdupz(a, (size_t)(dots - a)));
	set_str(&f->new_oid, xmemdupz(b, (size_t)(be - b)));
	if (be < end && parse_mode(&mode, be + 1, end)) {
		if (!f->old_mode)
			f->old_mode = mode;
		if (!f->new_mode)
			f->new_mode = mode;
	}
}

/* Header value after 'prefix' on the current line, as a new string. */
static char *line_value(struct parser *p, const char *prefix)
{
	size_t n = strlen(prefix);

	return xmemdupz(cur(p) + n, cur_len(p) - n);
}

/* "rename from x" and friends: the name may be quoted, has no prefix. */
static int extended_name(char **out, struct parser *p, const char *prefix)
{
	size_t n = strlen(prefix);
	struct strbuf sb = STRBUF_INIT;

	if (cur_len(p) > n && cur(p)[n] == '"') {
		if (!unquote(&sb, cur(p) + n, cur_len(p) - n)) {
			strbuf_release(&sb);
			return fail(p, "bad quoted file name");
		}
		set_str(out, strbuf_detach(&sb, NULL));
		return 0;
	}
	if (cur_len(p) == n)
		return fail(p, "missing file name");
	set_str(out, line_value(p, prefix));
	return 0;
}

static struct diff_file *new_file(struct parser *p)
{
	struct diff_file *f;

	if (p->d.files_nr >= DIFF_MAX_FILES)
		return NULL;
	ALLOC_GROW(p->d.files, p->d.files_nr + 1, p->d.files_alloc);
	f = &p->d.files[p->d.files_nr++];
	memset(f, 0, sizeof(*f));
	f->similarity = -1;
	f->status = DIFF_MODIFIED;
	f->offset = p->start;
	return f;
}

static int too_many_files(struct parser *p)
{
	if (p->err)
		strbuf_addf(p->err, "line %zu: more than %d files", p->lineno,
			    DIFF_MAX_FILES);
	return -E2BIG;
}

/* "--- a/x" and "+++ b/x", then the hunks. */
static int parse_minus_plus(struct parser *p, struct diff_file *f,
			    bool git)
{
	char *old_name = NULL, *new_name = NULL;
	int ret;

	ret = header_name(&old_name, p, 4);
	if (ret < 0)
		goto out;
	advance(p);
	ret = header_name(&new_name, p, 4);
	if (ret < 0)
		goto out;
	advance(p);
	if (!at(p, "@@ -")) {
		ret = fail(p, "expected a hunk header after the '+++' line");
		goto out;
	}
	/* In a git diff the extended header lines say it better. */
	if (!git || (f->status != DIFF_RENAMED && f->status != DIFF_COPIED)) {
		if (old_name || !git)
			set_str(&f->old_path, old_name);
		else
			free(old_name);
		if (new_name || !git)
			set_str(&f->new_path, new_name);
		else
			free(new_name);
		old_name = new_name = NULL;
	}
	if (!f->old_path && !git)
		f->status = DIFF_ADDED;
	else if (!f->new_path && !git)
		f->status = DIFF_DELETED;
	ret = parse_hunks(p, f);
out:
	free(old_name);
	free(new_name);
	return ret;
}

static int parse_git_file(struct parser *p)
{
	struct diff_file *f = new_file(p);
	size_t hline = p->lineno;
	int ret;

	if (!f)
		return too_many_files(p);
	ret = git_line_names(&f->old_path, &f->new_path, p);
	if (ret < 0)
		return ret;
	advance(p);

	for (;;) {
		const char *end = p->text + p->end;

		if (p->eof || at(p, "diff --git ")) {
			break;
		} else if (at(p, "old mode ")) {
			parse_mode(&f->old_mode, cur(p) + 9, end);
		} else if (at(p, "new mode ")) {
			parse_mode(&f->new_mode, cur(p) + 9, end);
		} else if (at(p, "deleted file mode ")) {
			f->status = DIFF_DELETED;
			parse_mode(&f->old_mode, cur(p) + 18, end);
		} else if (at(p, "new file mode ")) {
			f->status = DIFF_ADDED;
			parse_mode(&f->new_mode, cur(p) + 14, end);
		} else if (at(p, "rename from ") || at(p, "copy from ")) {
			f->status = at(p, "rename") ? DIFF_RENAMED
						    : DIFF_COPIED;
			ret = extended_name(&f->old_path, p,
					    at(p, "rename") ? "rename from "
							    : "copy from ");
		} else if (at(p, "rename to ") || at(p, "copy to ")) {
			f->status = at(p, "rename") ? DIFF_RENAMED
						    : DIFF_COPIED;
			ret = extended_name(&f->new_path, p,
					    at(p, "rename") ? "rename to "
							    : "copy to ");
		} else if (at(p, "rename old ") || at(p, "rename new ")) {
			f->status = DIFF_RENAMED;
			bool old = at(p, "rename old ");

			ret = extended_name(old ? &f->old_path : &f->new_path,
					    p, old ? "rename old "
						   : "rename new ");
		} else if (at(p, "similarity index ")) {
			const char *s = cur(p) + 17;
			int v;

			if (parse_num(&v, &s, end) && v <= 100)
				f->similarity = v;
		} else if (at(p, "dissimilarity index ")) {
			/* Only said for rewrites; nothing to keep. */
		} else if (at(p, "index ")) {
			parse_index(f, cur(p) + 6, end);
		} else if (at(p, "Binary files ")) {
			f->binary = true;
			advance(p);
			break;
		} else if (at(p, "GIT binary patch")) {
			f->binary = true;
			advance(p);
			skip_binary(p);
			break;
		} else if (at(p, "--- ") && next_at(p, "+++ ")) {
			ret = parse_minus_plus(p, f, true);
			break;
		} else {
			break; /* the header ends; what follows is not ours */
		}
		if (ret < 0)
			return ret;
		advance(p);
	}
	if (ret < 0)
		return ret;
	if (f->status == DIFF_ADDED)
		set_str(&f->old_path, NULL);
	else if (f->status == DIFF_DELETED)
		set_str(&f->new_path, NULL);
	if (!f->old_path && !f->new_path) {
		p->lineno = hline;
		return fail(p, "cannot tell the file name of this diff");
	}
	f->length = p->start - f->offset;
	return 0;
}

static int parse_plain_file(struct parser *p)
{
	struct diff_file *f = new_file(p);
	int ret;

	if (!f)
		return too_many_files(p);
	ret = parse_minus_plus(p, f, false);
	if (ret < 0)
		return ret;
	if (!f->old_path && !f->new_path)
		return fail(p, "a diff from /dev/null to /dev/null");
	f->length = p->start - f->offset;
	return 0;
}

/*
 * A merge's combined diff (pull requests quote them): its hunk lines
 * have one column per parent and it cannot be applied, so skip it up
 * to the next diff header.
 */
static void skip_combined(struct parser *p)
{
	do {
		advance(p);
	} while (!p->eof && !at(p, "diff --git ") && !at(p, "diff --cc ") &&
		 !at(p, "diff --combined "));
}

int diff_parse(struct diff *out, const char *text, size_t len,
	       struct strbuf *err)
{
	struct parser p = {
		.text = text, .len = len, .lineno = 1, .err = err,
	};
	int ret = 0;

	load_line(&p);
	while (!p.eof) {
		if (at(&p, "diff --git ")) {
			ret = parse_git_file(&p);
		} else if (at(&p, "diff --cc ") || at(&p, "diff --combined ")) {
			skip_combined(&p);
		} else if (at(&p, "--- ") && next_at(&p, "+++ ")) {
			ret = parse_plain_file(&p);
		} else if (at(&p, "@@ -")) {
			ret = fail(&p, "hunk without a file header");
		} else {
			/* Text between or after diffs, like git apply. */
			advance(&p);
		}
		if (ret < 0)
			goto out;
	}
	diff_release(out);
	*out = p.d;
	diff_init(&p.d);
out:
	diff_release(&p.d);
	return ret;
}
