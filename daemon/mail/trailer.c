/* Commit and reply trailers, b4's line rule: see trailer.h. */
#include "kreview/trailer.h"
#include "kreview/strbuf.h"

#include <ctype.h>

/* A wrapped "Fixes: abc (\"...\")" may continue over this many lines. */
#define TRAILER_MAX_WRAP 3

void trailer_list_init(struct trailer_list *l)
{
	struct trailer_list blank = TRAILER_LIST_INIT;

	*l = blank;
}

void trailer_list_release(struct trailer_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nr; i++) {
		free(l->items[i].name);
		free(l->items[i].value);
		free(l->items[i].extinfo);
	}
	free(l->items);
	trailer_list_init(l);
}

const char *trailer_get(const struct trailer_list *l, const char *name)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcasecmp(l->items[i].name, name))
			return l->items[i].value;
	return NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* One physical line: [start, end) without the '\n' and a '\r' before it. */
struct line {
	size_t start, end, next;
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

/* Offset of the first "-- " signature line, or 'len'. */
static size_t signature_start(const char *text, size_t len)
{
	struct line ln;

	for (size_t pos = 0; next_line(&ln, text, len, pos); pos = ln.next)
		if (ln.end - ln.start == 3 &&
		    !memcmp(text + ln.start, "-- ", 3))
			return ln.start;
	return len;
}

struct match {
	const char *name, *value;
	size_t name_len, value_len;
};

/*
 * b4's trailer regex, ^\s*(\w\S+):\s+(\S.*): a first token of at least
 * two characters, starting with a word character and ending in ':',
 * then blanks, then a non-empty value.
 */
static bool match_trailer(struct match *m, const char *s, size_t len)
{
	size_t i = 0, tok, tok_end;

	/* NUL bytes mean binary junk, and would cut the strings short. */
	if (memchr(s, '\0', len))
		return false;
	while (i < len && is_blank(s[i]))
		i++;
	tok = i;
	if (i >= len || !(isalnum((unsigned char)s[i]) || s[i] == '_' ||
			  (unsigned char)s[i] >= 0x80))
		return false;
	while (i < len && !is_blank(s[i]))
		i++;
	tok_end = i;
	if (tok_end - tok < 3 || s[tok_end - 1] != ':' || i >= len)
		return false;
	while (i < len && is_blank(s[i]))
		i++;
	if (i >= len)
		return false;
	while (len > i && is_blank(s[len - 1]))
		len--;
	m->name = s + tok;
	m->name_len = tok_end - tok - 1;
	m->value = s + i;
	m->value_len = len - i;
	return true;
}

static bool is_hex(char c)
{
	return isxdigit((unsigned char)c);
}

/*
 * Wrapping b4 repairs: "Fixes: 0123abcd (" left open at the end of the
 * line, closed on a following line; and "Name: Some Name" with the
 * "<email>" alone on the next line.
 */
static bool wants_paren_join(const struct match *m)
{
	size_t i = 0;

	while (i < m->value_len && is_hex(m->value[i]))
		i++;
	if (!i || i >= m->value_len || !is_blank(m->value[i]))
		return false;
	while (i < m->value_len && is_blank(m->value[i]))
		i++;
	if (i >= m->value_len || m->value[i] != '(')
		return false;
	return !memchr(m->value + i, ')', m->value_len - i);
}

static bool wants_email_join(const struct match *m, const char *next,
			     size_t next_len)
{
	if (memchr(m->value, '<', m->value_len))
		return false;
	return next_len > 2 && next[0] == '<' && next[next_len - 1] == '>' &&
	       !memchr(next, '>', next_len - 1);
}

/*
 * The logical line starting at 'pos': the physical line, plus the
 * continuation lines the wrapping repair joins.  Returns false at the
 * end of the text.
 */
static bool logical_line(struct strbuf *out, struct line *ln,
			 const char *text, size_t len, size_t pos)
{
	struct match m;
	struct line nx;

	if (!next_line(ln, text, len, pos))
		return false;
	strbuf_reset(out);
	strbuf_add(out, text + ln->start, ln->end - ln->start);
	if (!match_trailer(&m, out->buf, out->len))
		return true;

	if (wants_paren_join(&m)) {
		struct line probe = *ln;
		size_t joined = 0;

		/* Join only when a ')' does turn up within a few lines. */
		for (int i = 0; i < TRAILER_MAX_WRAP; i++) {
			if (!next_line(&nx, text, len, probe.next) ||
			    nx.end == nx.start)
				break;
			probe = nx;
			if (memchr(text + nx.start, ')', nx.end - nx.start)) {
				joined = probe.next;
				break;
			}
		}
		if (joined) {
			for (size_t p = ln->next; p < joined; p = nx.next) {
				next_line(&nx, text, len, p);
				strbuf_addch(out, ' ');
				strbuf_add(out, text + nx.start,
					   nx.end - nx.start);
			}
			ln->end = probe.end;
			ln->next = joined;
		}
		return true;
	}
	if (next_line(&nx, text, len, ln->next) &&
	    wants_email_join(&m, text + nx.start, nx.end - nx.start)) {
		strbuf_addch(out, ' ');
		strbuf_add(out, text + nx.start, nx.end - nx.start);
		ln->end = nx.end;
		ln->next = nx.next;
	}
	return true;
}

/* "[for the foo bits]" on a line of its own after a trailer. */
static bool is_bracket_note(const char *s, size_t len)
{
	size_t i = 0;

	while (len && is_blank(s[len - 1]))
		len--;
	while (i < len && is_blank(s[i]))
		i++;
	if (len - i <= 2 || s[i] != '[' || s[len - 1] != ']')
		return false;
	return !memchr(s + i, ']', len - 1 - i);
}

static bool name_in(const struct match *m, const char *const *names,
		    size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (strlen(names[i]) == m->name_len &&
		    !strncasecmp(m->name, names[i], m->name_len))
			return true;
	return false;
}

static const char *const ignored_names[] = {
	"phone", "mail", "email", "e-mail", "prerequisite-message-id",
};
static const char *const header_names[] = { "subject", "date", "from" };
static const char *const link_names[] = { "link", "buglink", "closes" };
static const char *const nonperson_names[] = {
	"link", "buglink", "closes", "fixes", "subject", "date",
	"obsoleted-by", "change-id", "base-commit",
};
static const char *const never_from_reply[] = {
	"from", "author", "cc", "to", "date", "subject", "subscribe",
	"unsubscribe", "base-commit", "change-id", "message-id",
};

static bool contains(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (!strncasecmp(s + i, needle, n))
			return true;
	return false;
}

/* \S+@\S+\.\S+ somewhere in the value. */
static bool has_email(const char *s, size_t len)
{
	for (size_t at = 1; at + 1 < len; at++) {
		if (s[at] != '@' || is_blank(s[at - 1]) || is_blank(s[at + 1]))
			continue;
		for (size_t i = at + 2; i + 1 < len && !is_blank(s[i]); i++)
			if (s[i] == '.' && !is_blank(s[i + 1]))
				return true;
	}
	return false;
}

/* b4's follow-up filter: is this trailer acceptable from a reply? */
static bool reply_acceptable(const struct match *m)
{
	size_t hex = 0;

	if (name_in(m, never_from_reply, ARRAY_SIZE(never_from_reply)))
		return false;
	for (size_t i = 0; i < m->name_len; i++)
		if ((unsigned char)m->name[i] >= 0x80)
			return false;
	if (!has_email(m->value, m->value_len) &&
	    !name_in(m, nonperson_names, ARRAY_SIZE(nonperson_names)))
		return false;
	if ((contains(m->value, m->value_len, "http://") ||
	     contains(m->value, m->value_len, "https://")) &&
	    !name_in(m, link_names, ARRAY_SIZE(link_names)))
		return false;
	if (m->name_len == 5 && !strncasecmp(m->name, "fixes", 5)) {
		while (hex < m->value_len && is_hex(m->value[hex]))
			hex++;
		if (hex < 6)
			return false;
	}
	return true;
}

static void add_trailer(struct trailer_list *out, const struct match *m)
{
	struct trailer *t;
	size_t vlen = m->value_len, cut = 0;
	const char *hash;

	if (out->nr >= TRAILER_MAX)
		return;
	/* b4: (.*\S+)(\s+#[^#]+)$ splits off a "# comment" suffix. */
	hash = NULL;
	for (size_t i = vlen; i-- > 0 && !hash;)
		if (m->value[i] == '#')
			hash = m->value + i;
	if (hash && hash > m->value && (size_t)(hash - m->value) + 1 < vlen &&
	    is_blank(hash[-1])) {
		cut = (size_t)(hash - m->value) - 1;
		while (cut > 0 && is_blank(m->value[cut - 1]))
			cut--;
	}

	ALLOC_GROW(out->items, out->nr + 1, out->alloc);
	t = &out->items[out->nr++];
	t->name = xmemdupz(m->name, m->name_len);
	if (cut) {
		t->value = xmemdupz(m->value, cut);
		t->extinfo = xmemdupz(hash, vlen - (size_t)(hash - m->value));
	} else {
		t->value = xmemdupz(m->value, vlen);
		t->extinfo = NULL;
	}
}

static void set_extinfo(struct trailer_list *out, const char *s, size_t len)
{
	struct trailer *t = &out->items[out->nr - 1];

	while (len && is_blank(s[len - 1]))
		len--;
	while (len && is_blank(s[0])) {
		s++;
		len--;
	}
	free(t->extinfo);
	t->extinfo = xmemdupz(s, len);
}

static bool is_blank_line(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_blank(s[i]))
			return false;
	return true;
}

size_t trailer_parse_block(struct trailer_list *out, const char *text,
			   size_t len)
{
	struct strbuf l = STRBUF_INIT;
	struct line ln;
	struct match m;
	size_t para = 0, block = 0, end;
	bool was_trailer = false, prose = false, found = false;
	bool prev_blank = true;

	end = signature_start(text, len);

	/* The last paragraph: after the last blank line before content. */
	for (size_t pos = 0; next_line(&ln, text, end, pos); pos = ln.next) {
		bool blank = is_blank_line(text + ln.start, ln.end - ln.start);

		if (!blank && prev_blank)
			para = ln.start;
		prev_blank = blank;
	}

	/* The trailer block is the run of trailer lines ending it. */
	block = para;
	for (size_t pos = para; logical_line(&l, &ln, text, end, pos);
	     pos = ln.next) {
		if (is_blank_line(l.buf, l.len))
			continue;
		if (match_trailer(&m, l.buf, l.len)) {
			was_trailer = true;
			found = true;
			continue;
		}
		if (was_trailer && is_bracket_note(l.buf, l.len)) {
			was_trailer = false;
			continue;
		}
		was_trailer = false;
		found = false;
		block = ln.next;
		prose = true;
	}
	if (!found) {
		strbuf_release(&l);
		return len;
	}

	was_trailer = false;
	for (size_t pos = block; logical_line(&l, &ln, text, end, pos);
	     pos = ln.next) {
		if (match_trailer(&m, l.buf, l.len)) {
			was_trailer = false;
			if (name_in(&m, ignored_names,
				    ARRAY_SIZE(ignored_names)))
				continue;
			if (prose && name_in(&m, header_names,
					     ARRAY_SIZE(header_names)))
				continue;
			add_trailer(out, &m);
			was_trailer = true;
		} else if (was_trailer && is_bracket_note(l.buf, l.len)) {
			set_extinfo(out, l.buf, l.len);
			was_trailer = false;
		}
	}
	strbuf_release(&l);
	return block;
}

void trailer_parse_reply(struct trailer_list *out, const char *text,
			 size_t len)
{
	struct strbuf l = STRBUF_INIT;
	struct line ln;
	struct match m;
	size_t end = signature_start(text, len);
	bool was_trailer = false, prose = false;

	for (size_t pos = 0; logical_line(&l, &ln, text, end, pos);
	     pos = ln.next) {
		if (match_trailer(&m, l.buf, l.len)) {
			was_trailer = false;
			if (name_in(&m, ignored_names,
				    ARRAY_SIZE(ignored_names)))
				continue;
			if (prose && name_in(&m, header_names,
					     ARRAY_SIZE(header_names)))
				continue;
			if (!reply_acceptable(&m))
				continue;
			add_trailer(out, &m);
			was_trailer = true;
			continue;
		}
		if (was_trailer && is_bracket_note(l.buf, l.len)) {
			set_extinfo(out, l.buf, l.len);
			was_trailer = false;
			continue;
		}
		was_trailer = false;
		prose = true;
	}
	strbuf_release(&l);
}
