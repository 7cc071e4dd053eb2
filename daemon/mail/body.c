/* Patch mail bodies: classification and splitting, see body.h. */
#include "kreview/body.h"
#include "kreview/hash.h"
#include "kreview/strbuf.h"

#include <ctype.h>

/* More prerequisite lines than this are not a real series. */
#define BODY_MAX_PREREQUISITES 256

struct line {
	size_t start, end, next; /* end excludes "\n" and a "\r" before it */
};

static bool next_line(struct line *ln, const char *text, size_t len,
		      size_t pos)
{
	const char *nl;

	if (pos >= len)
		return false;
	ln->start = pos;
	nl = memchr(text + pos, '\n', len - pos);
	ln->end = nl ? (size_t)(nl - text) : len;
	ln->next = nl ? ln->end + 1 : len;
	if (ln->end > ln->start && text[ln->end - 1] == '\r')
		ln->end--;
	return true;
}

static bool line_starts(const char *text, const struct line *ln,
			const char *prefix)
{
	size_t n = strlen(prefix);

	return ln->end - ln->start >= n && !memcmp(text + ln->start, prefix, n);
}

static bool line_starts_icase(const char *text, const struct line *ln,
			      const char *prefix)
{
	size_t n = strlen(prefix);

	return ln->end - ln->start >= n &&
	       !strncasecmp(text + ln->start, prefix, n);
}

static bool line_is(const char *text, const struct line *ln, const char *s)
{
	return ln->end - ln->start == strlen(s) &&
	       !memcmp(text + ln->start, s, ln->end - ln->start);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_word(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* b4's "diff --git \w/\S+ \w/\S+", case-insensitive. */
static bool is_git_diff_line(const char *text, const struct line *ln)
{
	const char *s = text + ln->start, *e = text + ln->end;

	if (!line_starts_icase(text, ln, "diff --git "))
		return false;
	s += strlen("diff --git ");
	for (int side = 0; side < 2; side++) {
		const char *t;

		if (e - s < 3 || !is_word((unsigned char)s[0]) || s[1] != '/' ||
		    is_ws(s[2]) || s[2] == ' ')
			return false;
		for (t = s + 2; t < e && !is_ws(*t); t++)
			;
		if (side == 0) {
			if (t >= e || *t != ' ')
				return false;
			s = t + 1;
		}
	}
	return true;
}

bool body_has_diff(const char *body, size_t len)
{
	struct line ln, nx;

	for (size_t pos = 0; next_line(&ln, body, len, pos); pos = ln.next) {
		if (line_starts(body, &ln, "---") &&
		    next_line(&nx, body, len, ln.next) &&
		    line_starts(body, &nx, "+++"))
			return true;
		if (line_starts_icase(body, &ln, "GIT binary patch") ||
		    is_git_diff_line(body, &ln))
			return true;
	}
	return false;
}

/* b4's ^\s*\d+ file.*\d+ (insertion|deletion), case-insensitive. */
static bool is_diffstat_summary(const char *text, const struct line *ln)
{
	const char *s = text + ln->start, *e = text + ln->end, *d;

	while (s < e && is_ws(*s))
		s++;
	d = s;
	while (s < e && isdigit((unsigned char)*s))
		s++;
	if (s == d || e - s < 5 || strncasecmp(s, " file", 5))
		return false;
	for (s += 5; s < e; s++) {
		if (!isdigit((unsigned char)s[-1]))
			continue;
		if ((e - s >= 10 && !strncasecmp(s, " insertion", 10)) ||
		    (e - s >= 9 && !strncasecmp(s, " deletion", 9)))
			return true;
	}
	return false;
}

bool body_has_diffstat(const char *body, size_t len)
{
	struct line ln;

	for (size_t pos = 0; next_line(&ln, body, len, pos); pos = ln.next)
		if (is_diffstat_summary(body, &ln))
			return true;
	return false;
}

static char *trimmed_dup(const char *s, size_t len)
{
	while (len && (is_ws(s[0]) || s[0] == '\n')) {
		s++;
		len--;
	}
	while (len && (is_ws(s[len - 1]) || s[len - 1] == '\n'))
		len--;
	return xmemdupz(s, len);
}

char *body_find_line(const char *body, size_t len, const char *key)
{
	struct line ln;
	size_t n = strlen(key);

	for (size_t pos = 0; next_line(&ln, body, len, pos); pos = ln.next)
		if (line_starts(body, &ln, key))
			return trimmed_dup(body + ln.start + n,
					   ln.end - ln.start - n);
	return NULL;
}

void body_init(struct body *b)
{
	struct body blank = BODY_INIT;

	*b = blank;
}

void body_release(struct body *b)
{
	if (!b)
		return;
	free(b->message);
	trailer_list_release(&b->trailers);
	free(b->notes);
	free(b->diffstat);
	free(b->diff);
	diff_release(&b->parsed);
	free(b->base_commit);
	free(b->change_id);
	for (size_t i = 0; i < b->prerequisites_nr; i++)
		free(b->prerequisites[i]);
	free(b->prerequisites);
	free(b->signature);
	body_init(b);
}

/*
 * Where the diff starts: a "diff --git" (or merge "diff --cc") line,
 * a "--- " line directly
 * followed by "+++ ", or a plain "diff ..." / "Index: ..." command
 * line right before such a pair.  Returns 'len' when there is none.
 */
static size_t find_diff_start(const char *text, size_t len)
{
	struct line ln, nx, nx2;

	for (size_t pos = 0; next_line(&ln, text, len, pos); pos = ln.next) {
		bool pair_next = false;

		if (line_starts(text, &ln, "diff --git ") ||
		    line_starts(text, &ln, "diff --cc "))
			return ln.start;
		if (!next_line(&nx, text, len, ln.next))
			break;
		if (line_starts(text, &ln, "--- ") &&
		    line_starts(text, &nx, "+++ "))
			return ln.start;
		pair_next = line_starts(text, &nx, "--- ") &&
			    next_line(&nx2, text, len, nx.next) &&
			    line_starts(text, &nx2, "+++ ");
		if (pair_next && line_starts(text, &ln, "diff "))
			return ln.start;
	}
	return len;
}

/* Offset of the first "-- " line at or after 'pos' (also "--" if 'loose'). */
static size_t find_signature(const char *text, size_t len, size_t pos,
			     bool loose, size_t *after)
{
	struct line ln;

	for (; next_line(&ln, text, len, pos); pos = ln.next) {
		if (line_is(text, &ln, "-- ") ||
		    (loose && line_is(text, &ln, "--"))) {
			*after = ln.next;
			return ln.start;
		}
	}
	*after = len;
	return len;
}

/* The "---" line separating the commit message from the notes. */
static bool find_separator(struct line *sep, const char *text, size_t len)
{
	for (size_t pos = 0; next_line(sep, text, len, pos); pos = sep->next) {
		size_t e = sep->end;

		while (e > sep->start && is_ws(text[e - 1]))
			e--;
		if (e - sep->start == 3 && !memcmp(text + sep->start, "---", 3))
			return true;
	}
	return false;
}

static bool is_diffstat_extra(const char *text, const struct line *ln)
{
	static const char *const extras[] = {
		" create mode ", " delete mode ", " rename ", " copy ",
		" mode change ", " rewrite ",
	};

	for (size_t i = 0; i < ARRAY_SIZE(extras); i++)
		if (line_starts(text, ln, extras[i]))
			return true;
	return false;
}

/*
 * The diffstat inside the notes [start, end): the " path | N +-" lines
 * ending in the summary line, and the "create mode" lines after it.
 */
static char *find_diffstat(const char *text, size_t start, size_t end)
{
	struct line ln;
	size_t first = end, last = end, run = end;

	for (size_t pos = start; next_line(&ln, text, end, pos);
	     pos = ln.next) {
		bool stat_line = ln.end > ln.start && text[ln.start] == ' ' &&
				 memchr(text + ln.start, '|',
					ln.end - ln.start);

		if (first == end) {
			if (is_diffstat_summary(text, &ln)) {
				first = run != end ? run : ln.start;
				last = ln.end;
			} else if (stat_line) {
				if (run == end)
					run = ln.start;
			} else {
				run = end;
			}
			continue;
		}
		if (!is_diffstat_extra(text, &ln))
			break;
		last = ln.end;
	}
	if (first == end)
		return NULL;
	return xmemdupz(text + first, last - first);
}

static void find_prerequisites(struct body *out, const char *text,
			       size_t len)
{
	struct line ln;

	for (size_t pos = 0; next_line(&ln, text, len, pos); pos = ln.next) {
		const char *s = text + ln.start, *colon;
		size_t n = ln.end - ln.start;
		struct strbuf sb = STRBUF_INIT;
		char *value;

		if (!line_starts(text, &ln, "prerequisite-") ||
		    out->prerequisites_nr >= BODY_MAX_PREREQUISITES)
			continue;
		colon = memchr(s, ':', n);
		if (!colon || memchr(s, ' ', (size_t)(colon - s)))
			continue;
		value = trimmed_dup(colon + 1, n - (size_t)(colon + 1 - s));
		if (*value) {
			strbuf_add(&sb, s, (size_t)(colon - s));
			strbuf_addf(&sb, ": %s", value);
			out->prerequisites =
				xrealloc(out->prerequisites,
					 st_mult(out->prerequisites_nr + 1,
						 sizeof(char *)));
			out->prerequisites[out->prerequisites_nr++] =
				strbuf_detach(&sb, NULL);
		}
		free(value);
	}
}

/* Count the lines before 'pos', for error messages. */
static size_t line_number(const char *text, size_t pos)
{
	size_t n = 1;

	for (size_t i = 0; i < pos; i++)
		n += text[i] == '\n';
	return n;
}

int body_split(struct body *out, const char *text, size_t len,
	       struct strbuf *err)
{
	struct strbuf derr = STRBUF_INIT;
	struct line sep;
	size_t diff_start, pre_end, sig, sig_after, msg_end, block;
	bool has_sep;
	int ret = 0;

	body_release(out);
	diff_start = find_diff_start(text, len);
	if (diff_start < len) {
		pre_end = diff_start;
		ret = diff_parse(&out->parsed, text + diff_start,
				 len - diff_start, &derr);
		if (ret < 0 && err)
			strbuf_addf(err, "diff starting at line %zu: %s",
				    line_number(text, diff_start), derr.buf);
		if (ret < 0 || !out->parsed.files_nr) {
			size_t last = len, a;

			/*
			 * Nothing to count hunks with (a malformed diff, or
			 * only merge diffs): guess the end from the last
			 * signature line.
			 */
			for (size_t s = diff_start;; s = a) {
				s = find_signature(text, len, s, false, &a);
				if (s >= len)
					break;
				last = s;
			}
			out->diff = xmemdupz(text + diff_start,
					     last - diff_start);
			sig = last;
			find_signature(text, len, last, false, &sig_after);
		} else {
			size_t dend = 0;

			for (size_t i = 0; i < out->parsed.files_nr; i++) {
				const struct diff_file *f =
					&out->parsed.files[i];

				if (f->offset + f->length > dend)
					dend = f->offset + f->length;
			}
			out->diff = xmemdupz(text + diff_start, dend);
			sig = find_signature(text, len, diff_start + dend,
					     true, &sig_after);
		}
		out->diff_offset = diff_start;
	} else {
		sig = find_signature(text, len, 0, false, &sig_after);
		pre_end = sig;
	}
	if (sig < len)
		out->signature = trimmed_dup(text + sig_after, len - sig_after);

	has_sep = find_separator(&sep, text, pre_end);
	msg_end = has_sep ? sep.start : pre_end;
	block = trailer_parse_block(&out->trailers, text, msg_end);
	if (block > msg_end)
		block = msg_end;
	out->message = trimmed_dup(text, block);
	if (has_sep) {
		out->notes = trimmed_dup(text + sep.next, pre_end - sep.next);
		if (!*out->notes) {
			free(out->notes);
			out->notes = NULL;
		}
		out->diffstat = find_diffstat(text, sep.next, pre_end);
	}

	out->base_commit = body_find_line(text, sig, "base-commit:");
	out->change_id = body_find_line(text, sig, "change-id:");
	find_prerequisites(out, text, sig);

	strbuf_release(&derr);
	return ret;
}

void body_patch_id(char out[41], const char *diff, size_t len)
{
	struct strbuf norm = STRBUF_INIT;
	const char *p = diff, *end = diff + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;

		if (!strncmp(p, "index ", 6) && next - p > 6) {
			p = next;
			continue;
		}
		if (next - p >= 2 && !strncmp(p, "@@", 2)) {
			strbuf_addstr(&norm, "@@\n");
			p = next;
			continue;
		}
		for (const char *c = p; c < next; c++)
			if (!isspace((unsigned char)*c))
				strbuf_addch(&norm, *c);
		strbuf_addch(&norm, '\n');
		p = next;
	}
	hash_git_blob(out, norm.buf, norm.len);
	strbuf_release(&norm);
}
