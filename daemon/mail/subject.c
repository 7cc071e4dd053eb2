/* Patch mail subjects the way b4 reads them: see subject.h. */
#include "kreview/subject.h"
#include "kreview/strbuf.h"

#include <ctype.h>

/* Chunks longer than this are not prefixes anybody writes by hand. */
#define SUBJECT_MAX_CHUNK 256

void subject_init(struct subject *s)
{
	struct subject blank = SUBJECT_INIT;

	*s = blank;
}

static void free_strv(char **v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(v[i]);
	free(v);
}

void subject_release(struct subject *s)
{
	if (!s)
		return;
	free_strv(s->prefixes, s->prefixes_nr);
	free_strv(s->tags, s->tags_nr);
	free(s->title);
	subject_init(s);
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/*
 * Python's \w on decoded text: ASCII letters, digits, '_' and (roughly)
 * any non-ASCII character.  Continuation bytes are not counted as
 * characters of their own, so "Sv" and "Ответ" are measured in code
 * points like b4 does.
 */
static bool is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

static bool is_utf8_cont(unsigned char c)
{
	return c >= 0x80 && c < 0xc0;
}

/*
 * Length of a reply token "Xx:" plus following spaces at 's', or 0.
 * The word has 2 or 3 characters (b4's \w{2,3}), or is one of the
 * longer reply words we know.  '*known' says whether the word is a
 * reply marker on its own, without a following '['.
 */
static size_t reply_token(const char *s, bool *known)
{
	static const char *const markers[] = {
		"re", "aw", "fwd", "fw", "sv", "antw", "wg", "vs", "odp", "tr",
	};
	size_t n = 0, chars = 0;

	while (is_word_byte((unsigned char)s[n]) && n < 32) {
		if (!is_utf8_cont((unsigned char)s[n]))
			chars++;
		n++;
	}
	if (s[n] != ':' || n == 0)
		return 0;
	*known = false;
	for (size_t i = 0; i < ARRAY_SIZE(markers); i++) {
		if (strlen(markers[i]) == n && !strncasecmp(s, markers[i], n))
			*known = true;
	}
	if (!*known && (chars < 2 || chars > 3))
		return 0;
	n++;
	while (s[n] == ' ')
		n++;
	return n;
}

/*
 * Decide whether the subject is a reply and return how many bytes of
 * reply markers to strip.  b4: a reply starts with Re:/Aw:/Fwd: or has
 * a 2-3 letter word and colon right before '['.  We also accept a
 * chain of such words ("Re: Re: [PATCH]", "Sv: RE: [PATCH]").  When
 * the chain does not reach a '[' only the known reply words are
 * stripped, so "Re: net: fix" keeps the subsystem tag in its title.
 */
static size_t reply_prefix(const char *s, bool *reply)
{
	size_t pos = 0, known_end = 0;
	bool all_known = true;

	*reply = skip_prefix_icase(s, "re:") || skip_prefix_icase(s, "aw:") ||
		 skip_prefix_icase(s, "fwd:");
	for (int i = 0; i < 64; i++) {
		bool known = false;
		size_t n = reply_token(s + pos, &known);

		if (!n)
			break;
		pos += n;
		if (known && all_known)
			known_end = pos;
		else
			all_known = false;
	}
	if (pos && s[pos] == '[') {
		*reply = true;
		return pos;
	}
	return *reply ? known_end : 0;
}

static void push_str(char ***v, size_t *nr, const char *s, size_t len)
{
	*v = xrealloc(*v, st_mult(st_add(*nr, 1), sizeof(**v)));
	(*v)[(*nr)++] = xmemdupz(s, len);
}

static bool all_digits(const char *s, size_t len, size_t min, size_t max)
{
	if (len < min || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int digits_value(const char *s, size_t len)
{
	int v = 0;

	for (size_t i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool starts_icase(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !strncasecmp(s, prefix, n);
}

static void add_chunk(struct subject *out, const char *c, size_t len)
{
	const char *slash;

	while (len && (c[0] == ',' || c[0] == ';')) {
		c++;
		len--;
	}
	while (len && (c[len - 1] == ',' || c[len - 1] == ';'))
		len--;
	if (!len || len > SUBJECT_MAX_CHUNK ||
	    out->prefixes_nr >= SUBJECT_MAX_PREFIXES)
		return;
	push_str(&out->prefixes, &out->prefixes_nr, c, len);

	slash = memchr(c, '/', len);
	if (slash && all_digits(c, (size_t)(slash - c), 1, 4) &&
	    all_digits(slash + 1, len - (size_t)(slash - c) - 1, 1, 4)) {
		out->counter = digits_value(c, (size_t)(slash - c));
		out->expected = digits_value(slash + 1,
					     len - (size_t)(slash - c) - 1);
		out->explicit_counter = true;
		return;
	}
	/*
	 * b4 takes any number of digits; we stop at 6 so that the value
	 * fits and keep "v0" out because a revision is at least 1.
	 */
	if ((c[0] == 'v' || c[0] == 'V') && all_digits(c + 1, len - 1, 1, 6) &&
	    digits_value(c + 1, len - 1) > 0) {
		out->revision = digits_value(c + 1, len - 1);
		out->explicit_revision = true;
		return;
	}
	if (starts_icase(c, len, "rfc"))
		out->rfc = true;
	else if (starts_icase(c, len, "resend"))
		out->resend = true;
	else if (starts_icase(c, len, "patch"))
		out->patch = true;
	else
		push_str(&out->tags, &out->tags_nr, c, len);
}

/* Split the flattened group content 'g' into chunks. */
static void parse_group(struct subject *out, struct strbuf *g)
{
	/* b4 rewrites "PATCHv3" as "PATCH v3" anywhere in the group. */
	for (size_t i = 0; i + 6 < g->len; i++) {
		if (!strncasecmp(g->buf + i, "patch", 5) &&
		    (g->buf[i + 5] == 'v' || g->buf[i + 5] == 'V') &&
		    isdigit((unsigned char)g->buf[i + 6])) {
			strbuf_insert(g, i + 5, " ", 1);
			i += 5;
		}
	}
	for (size_t i = 0; i < g->len;) {
		size_t start;

		while (i < g->len && is_space((unsigned char)g->buf[i]))
			i++;
		start = i;
		while (i < g->len && !is_space((unsigned char)g->buf[i]))
			i++;
		if (i > start)
			add_chunk(out, g->buf + start, i - start);
	}
}

/*
 * If s[pos] opens a bracket group, return the index of its closing
 * bracket and put the content with nested brackets removed in 'g'
 * (b4 flattens "[a[b]c]" to "[abc]").  Return 0 when the group is not
 * closed: then it is title text.
 */
static size_t bracket_group(struct strbuf *g, const char *s, size_t pos)
{
	int depth = 0;

	strbuf_reset(g);
	for (size_t i = pos; s[i]; i++) {
		if (s[i] == '[') {
			if (depth++ > 0)
				continue;
		} else if (s[i] == ']') {
			if (--depth == 0)
				return i;
		} else {
			strbuf_addch(g, s[i]);
		}
	}
	return 0;
}

/* Find a trailing "(was: ...)" / "(was ...)" aside, or return 'len'. */
static size_t was_aside(const char *t, size_t len)
{
	for (size_t i = 1; i + 5 <= len; i++) {
		if (t[i] == '(' && t[i - 1] == ' ' &&
		    !strncasecmp(t + i + 1, "was", 3) &&
		    (t[i + 4] == ':' || t[i + 4] == ' '))
			return i;
	}
	return len;
}

void subject_parse(struct subject *out, const char *subject)
{
	struct strbuf s = STRBUF_INIT, g = STRBUF_INIT;
	size_t pos, end, n;
	bool reply;

	/*
	 * Collapse whitespace, which also unfolds header continuations.
	 * 'subject' may point into 'out' (its old title), so copy it
	 * before releasing 'out'.
	 */
	for (size_t i = 0; subject[i] && i < SUBJECT_MAX_LEN; i++) {
		if (is_space((unsigned char)subject[i])) {
			if (s.len && s.buf[s.len - 1] != ' ')
				strbuf_addch(&s, ' ');
		} else {
			strbuf_addch(&s, subject[i]);
		}
	}
	strbuf_rtrim(&s);
	subject_release(out);

	pos = reply_prefix(s.buf, &reply);
	out->reply = reply;
	if (reply && !strncasecmp(s.buf + pos, "(subset) ", 9))
		pos += 9; /* b4 ty's marker for a partly applied series */

	for (n = 0; s.buf[pos] == '[' && n < SUBJECT_MAX_PREFIXES; n++) {
		end = bracket_group(&g, s.buf, pos);
		if (!end)
			break;
		out->has_brackets = true;
		parse_group(out, &g);
		pos = end + 1;
		while (s.buf[pos] == ' ')
			pos++;
	}
	if (out->counter > out->expected)
		out->expected = out->counter;

	n = was_aside(s.buf + pos, s.len - pos);
	out->title = xmemdupz(s.buf + pos, n);
	for (n = strlen(out->title); n && out->title[n - 1] == ' '; n--)
		out->title[n - 1] = '\0';

	strbuf_release(&g);
	strbuf_release(&s);
}

void subject_normalise_title(struct strbuf *out, const char *title)
{
	size_t start = out->len;

	for (size_t i = 0; title[i] && i < SUBJECT_MAX_LEN; i++) {
		unsigned char c = (unsigned char)title[i];

		if (is_space(c)) {
			if (out->len > start && out->buf[out->len - 1] != ' ')
				strbuf_addch(out, ' ');
		} else {
			strbuf_addch(out, tolower(c));
		}
	}
	while (out->len > start && (out->buf[out->len - 1] == ' ' ||
				    out->buf[out->len - 1] == '.'))
		strbuf_setlen(out, out->len - 1);
}
