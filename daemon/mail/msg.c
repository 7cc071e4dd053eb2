/* One mail message parsed with GMime: see msg.h. */
#include "kreview/msg.h"
#include "kreview/body.h"
#include "kreview/hash.h"
#include "kreview/strbuf.h"
#include "kreview/trailer.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <strings.h>

void msg_init(struct msg *m)
{
	memset(m, 0, sizeof(*m));
	subject_init(&m->subj);
}

void msg_release(struct msg *m)
{
	free(m->msgid);
	free(m->sender);
	free(m->sender_name);
	free(m->sender_addr);
	free(m->author);
	free(m->subject);
	subject_release(&m->subj);
	free(m->in_reply_to);
	for (size_t i = 0; i < m->refs_nr; i++)
		free(m->refs[i]);
	free(m->refs);
	free(m->to);
	free(m->cc);
	free(m->list_id);
	free(m->body);
	free(m->change_id);
	free(m->base_commit);
	msg_init(m);
}

/*
 * Collapse whitespace runs (incl. folding) to one space and trim.  The
 * result is valid UTF-8: GMime passes raw 8-bit header bytes through,
 * and what is not UTF-8 becomes U+FFFD.
 */
static char *collapse_ws(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	bool space = false;
	char *valid = NULL;

	if (s && !g_utf8_validate(s, -1, NULL)) {
		valid = g_utf8_make_valid(s, -1);
		s = valid;
	}

	for (; s && *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = sb.len > 0;
			continue;
		}
		if (space)
			strbuf_addch(&sb, ' ');
		space = false;
		strbuf_addch(&sb, *s);
	}
	g_free(valid);
	return strbuf_detach(&sb, NULL);
}

static char *lowercase_dup(const char *s)
{
	char *r = collapse_ws(s ? s : "");

	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

/* Make 'data' valid UTF-8: keep if valid, else convert from 'charset'
 * or windows-1252, replacing what still does not convert. */
static char *to_utf8(const char *data, size_t len, const char *charset,
		     size_t *len_out)
{
	gsize out_len = 0;
	char *conv = NULL;
	char *res;

	if (charset && g_ascii_strcasecmp(charset, "utf-8") &&
	    g_ascii_strcasecmp(charset, "us-ascii") &&
	    g_ascii_strcasecmp(charset, "utf8")) {
		const char *iconv_name = g_mime_charset_iconv_name(charset);

		conv = g_convert(data, (gssize)len, "UTF-8", iconv_name, NULL,
				 &out_len, NULL);
	}
	if (!conv && g_utf8_validate(data, (gssize)len, NULL) &&
	    !memchr(data, '\0', len)) {
		*len_out = len;
		return xmemdupz(data, len);
	}
	if (!conv)
		conv = g_convert(data, (gssize)len, "UTF-8", "WINDOWS-1252",
				 NULL, &out_len, NULL);
	if (!conv) {
		char *valid = g_utf8_make_valid(data, (gssize)len);

		res = xstrdup(valid);
		g_free(valid);
		*len_out = strlen(res);
		return res;
	}
	res = xmemdupz(conv, out_len);
	*len_out = strlen(res); /* an embedded NUL ends the text */
	g_free(conv);
	return res;
}

/* Decoded content of a leaf part as UTF-8. */
static char *part_text(GMimePart *part, size_t *len_out)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *bytes;
	const char *charset;
	char *res;

	if (!content) {
		*len_out = 0;
		return xstrdup("");
	}
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
							   "charset");
	res = to_utf8(bytes->data ? (const char *)bytes->data : "",
		      bytes->len, charset, len_out);
	g_object_unref(mem);
	return res;
}

static bool is_text_candidate(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	if (!GMIME_IS_PART(obj) || !ct)
		return false;
	return g_mime_content_type_is_type(ct, "text", "plain") ||
	       g_mime_content_type_is_type(ct, "*", "x-patch") ||
	       g_mime_content_type_is_type(ct, "*", "x-diff");
}

static bool is_patch_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return GMIME_IS_PART(obj) && ct &&
	       (g_mime_content_type_is_type(ct, "*", "x-patch") ||
		g_mime_content_type_is_type(ct, "*", "x-diff"));
}

/* b4's rule: the first text part is the body, and every later text
 * part that contains a diff replaces it. */
static void choose_body(struct msg *m, GMimeMessage *gm)
{
	GMimeObject *top = g_mime_message_get_mime_part(gm);
	GMimePartIter *iter;
	size_t parts = 0;

	if (top && GMIME_IS_PART(top)) {
		if (is_text_candidate(top))
			m->body = part_text(GMIME_PART(top), &m->body_len);
		else
			m->body = xstrdup("");
		return;
	}
	if (!top || !GMIME_IS_MULTIPART(top)) {
		m->body = xstrdup("");
		return;
	}
	iter = g_mime_part_iter_new(top);
	do {
		GMimeObject *cur = g_mime_part_iter_get_current(iter);
		char *text;
		size_t len;

		if (!cur || ++parts > MSG_MAX_PARTS)
			break;
		if (!is_text_candidate(cur))
			continue;
		text = part_text(GMIME_PART(cur), &len);
		if (!m->body) {
			m->body = text;
			m->body_len = len;
			m->body_from_attachment = is_patch_type(cur);
		} else if (body_has_diff(text, len)) {
			free(m->body);
			m->body = text;
			m->body_len = len;
			m->body_from_attachment = true;
		} else {
			free(text);
		}
	} while (g_mime_part_iter_next(iter));
	g_mime_part_iter_free(iter);
	if (!m->body)
		m->body = xstrdup("");
}

static void format_address(struct strbuf *out, const char *name,
			   const char *addr)
{
	if (name && *name)
		strbuf_addf(out, "%s <%s>", name, addr);
	else
		strbuf_addstr(out, addr);
}

/* First mailbox of an address list header value. */
static bool first_mailbox(GMimeParserOptions *opts, const char *value,
			  char **name, char **addr)
{
	InternetAddressList *list;
	bool found = false;

	if (!value || !*value)
		return false;
	list = internet_address_list_parse(opts, value);
	if (!list)
		return false;
	for (int i = 0; i < internet_address_list_length(list); i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		*name = collapse_ws(internet_address_get_name(ia));
		*addr = lowercase_dup(internet_address_mailbox_get_addr(
			INTERNET_ADDRESS_MAILBOX(ia)));
		found = true;
		break;
	}
	g_object_unref(list);
	return found;
}

static void add_ref(struct msg *m, const char *id)
{
	char *clean = collapse_ws(id);

	if (!*clean || m->refs_nr >= MSG_MAX_REFS ||
	    (m->msgid && !strcmp(clean, m->msgid))) {
		free(clean);
		return;
	}
	for (size_t i = 0; i < m->refs_nr; i++) {
		if (!strcmp(m->refs[i], clean)) {
			free(clean);
			return;
		}
	}
	m->refs = xrealloc(m->refs, st_mult(m->refs_nr + 1, sizeof(char *)));
	m->refs[m->refs_nr++] = clean;
}

/* Message-IDs in a References / In-Reply-To value, in order. */
static void parse_ids(struct msg *m, GMimeParserOptions *opts,
		      const char *value, bool first_is_irt)
{
	GMimeReferences *refs;

	if (!value || !*value)
		return;
	refs = g_mime_references_parse(opts, value);
	if (!refs)
		return;
	for (int i = 0; i < g_mime_references_length(refs); i++) {
		const char *id = g_mime_references_get_message_id(refs, i);

		if (!id || !*id)
			continue;
		if (first_is_irt && !m->in_reply_to) {
			m->in_reply_to = collapse_ws(id);
			if (m->msgid && !strcmp(m->in_reply_to, m->msgid)) {
				free(m->in_reply_to);
				m->in_reply_to = NULL;
			}
		}
		add_ref(m, id);
	}
	g_mime_references_free(refs);
}

static void synthetic_msgid(struct msg *m, const char *raw, size_t len)
{
	char hex[HASH_HEX + 1];
	struct strbuf sb = STRBUF_INIT;

	hash_git_blob(hex, raw, len);
	strbuf_addf(&sb, "%s@kreview.invalid", hex);
	m->msgid = strbuf_detach(&sb, NULL);
	m->msgid_synthetic = true;
}

/* "From: Name <addr>" as the first line of the body names the author. */
static void body_author(struct msg *m, GMimeParserOptions *opts)
{
	const char *p = m->body, *eol;
	char *line, *name = NULL, *addr = NULL;
	struct strbuf sb = STRBUF_INIT;

	while (*p == '\n' || *p == '\r')
		p++;
	if (strncmp(p, "From:", 5))
		goto fallback;
	eol = strchr(p, '\n');
	line = eol ? xmemdupz(p + 5, (size_t)(eol - p - 5)) : xstrdup(p + 5);
	if (first_mailbox(opts, line, &name, &addr) && *addr) {
		format_address(&sb, name, addr);
		m->author = strbuf_detach(&sb, NULL);
	}
	free(line);
	free(name);
	free(addr);
	if (m->author)
		return;
fallback:
	m->author = xstrdup(m->sender);
}

/* The header fields msg_parse() reads. */
enum field {
	F_MESSAGE_ID,
	F_FROM,
	F_X_ORIGINAL_FROM,
	F_DATE,
	F_SUBJECT,
	F_REFERENCES,
	F_IN_REPLY_TO,
	F_TO,
	F_CC,
	F_LIST_ID,
	F_X_PATCHWORK_BOT,
	/* the body part's fields, last */
	F_CONTENT_TYPE,
	F_CONTENT_TRANSFER_ENCODING,
	F_NR
};

static const char *const field_names[F_NR] = {
	[F_MESSAGE_ID] = "Message-ID",
	[F_FROM] = "From",
	[F_X_ORIGINAL_FROM] = "X-Original-From",
	[F_DATE] = "Date",
	[F_SUBJECT] = "Subject",
	[F_REFERENCES] = "References",
	[F_IN_REPLY_TO] = "In-Reply-To",
	[F_TO] = "To",
	[F_CC] = "Cc",
	[F_LIST_ID] = "List-Id",
	[F_X_PATCHWORK_BOT] = "X-Patchwork-Bot",
	[F_CONTENT_TYPE] = "Content-Type",
	[F_CONTENT_TRANSFER_ENCODING] = "Content-Transfer-Encoding",
};

static int field_index(const char *name, size_t n)
{
	for (int i = 0; i < F_NR; i++)
		if (strlen(field_names[i]) == n &&
		    !strncasecmp(name, field_names[i], n))
			return i;
	return -1;
}

/* Fields handed to GMime: those read, MIME-Version and every Content-*. */
static bool kept_field(const char *name, size_t n)
{
	return (n > 5 && !strncasecmp(name, "MIME-", 5)) ||
	       (n > 8 && !strncasecmp(name, "Content-", 8)) ||
	       field_index(name, n) >= 0;
}

/*
 * The fields of a header made only of well-formed "Name: value" fields
 * (a name of printable ASCII, no space before the colon, every line
 * ended) up to its empty line.  hfield_next() returns 1 with the next
 * field's name in 'name', its colon in 'colon' and its bytes (lines,
 * folds and newlines) in [start, p); 0 at the empty line ('p' points
 * to it); -1 when the header is anything else.
 */
struct hfield {
	const char *p, *end;
	const char *name, *start, *colon;
	size_t name_len;
};

static int hfield_next(struct hfield *f)
{
	const char *p = f->p, *end = f->end, *eol;

	if (p >= end)
		return -1;
	if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
		return 0;
	eol = memchr(p, '\n', (size_t)(end - p));
	f->colon = eol ? memchr(p, ':', (size_t)(eol - p)) : NULL;
	if (!f->colon || f->colon == p)
		return -1;
	for (const char *c = p; c < f->colon; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 127)
			return -1;
	f->name = f->start = p;
	f->name_len = (size_t)(f->colon - p);
	p = eol + 1;
	while (p < end && (*p == ' ' || *p == '\t')) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return -1;
		p = eol + 1;
	}
	f->p = p;
	return 1;
}

#define PAD_FIELD "X-Kreview-Skipped: "

/*
 * Copy 'raw' to 'out' without the top-level header fields msg_parse()
 * never reads.  Their bytes become one padding field at the end of the
 * header, so the body stays at its offset: GMime's reading of a
 * malformed multipart body depends on where its read buffer boundaries
 * fall.  Only a header hfield_next() walks is filtered; otherwise, or
 * when too little would be dropped to matter, false is returned with
 * 'out' empty and the caller parses the message as it is.
 */
static bool filter_header(struct strbuf *out, const char *raw, size_t len)
{
	struct hfield f = { .p = raw, .end = raw + len };
	size_t dropped = 0;
	int r;

	strbuf_grow(out, len);
	while ((r = hfield_next(&f)) > 0) {
		if (kept_field(f.name, f.name_len))
			strbuf_add(out, f.start, (size_t)(f.p - f.start));
		else
			dropped += (size_t)(f.p - f.start);
	}
	if (r < 0 || dropped < 256) {
		strbuf_reset(out);
		return false;
	}
	strbuf_addstr(out, PAD_FIELD);
	dropped -= strlen(PAD_FIELD) + 1;
	strbuf_grow(out, dropped);
	memset(out->buf + out->len, 'x', dropped);
	strbuf_setlen(out, out->len + dropped);
	strbuf_addch(out, '\n');
	strbuf_add(out, f.p, (size_t)(raw + len - f.p));
	return true;
}

static bool has_header_end(const char *raw, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n' ||
		    (raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n'))
			return true;
	}
	return false;
}

/*
 * What msg_parse() reads of a message's header, as GMime decodes it:
 * val[] holds the decoded value of the first field of each name (what
 * g_mime_object_get_header() returns), the rest what GMimeMessage makes
 * of its fields.  All owned (g_free / g_date_time_unref).
 */
struct fields {
	char *val[F_NR];
	char *msgid;     /* g_mime_message_get_message_id() */
	char *subject;   /* g_mime_message_get_subject() */
	char *from_list; /* the From: addresses printed again, or NULL */
	GDateTime *date; /* g_mime_message_get_date() */
};

static void fields_release(struct fields *f)
{
	for (int i = 0; i < F_NR; i++)
		g_free(f->val[i]);
	g_free(f->msgid);
	g_free(f->subject);
	g_free(f->from_list);
	if (f->date)
		g_date_time_unref(f->date);
	memset(f, 0, sizeof(*f));
}

static char *address_list_string(InternetAddressList *list)
{
	if (!list || internet_address_list_length(list) == 0)
		return NULL;
	return internet_address_list_to_string(list, NULL, FALSE);
}

/* The fields and body of a message GMime has parsed. */
static void read_gmime(struct fields *f, struct msg *m, GMimeMessage *gm)
{
	GDateTime *date = g_mime_message_get_date(gm);

	/* Content-* belong to the body part, which choose_body() reads */
	for (int i = 0; i < F_CONTENT_TYPE; i++)
		f->val[i] = g_strdup(g_mime_object_get_header(GMIME_OBJECT(gm),
							      field_names[i]));
	f->msgid = g_strdup(g_mime_message_get_message_id(gm));
	f->subject = g_strdup(g_mime_message_get_subject(gm));
	f->from_list = address_list_string(g_mime_message_get_from(gm));
	f->date = date ? g_date_time_ref(date) : NULL;
	choose_body(m, gm);
}

/* A field's value as GMime decodes it (g_mime_header_get_value()). */
static char *decode_value(GMimeParserOptions *opts, const char *raw)
{
	char *unfolded = g_mime_utils_header_unfold(raw);
	char *v = g_mime_utils_header_decode_text(opts, unfolded);

	g_free(unfolded);
	return v;
}

/*
 * The body of a single-part message as GMime's data wrapper decodes it:
 * the bytes after the header, quoted-printable or base64 decoded.
 */
static bool read_plain_body(struct msg *m, const struct fields *f,
			    GMimeParserOptions *opts, const char *body,
			    size_t len)
{
	GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_DEFAULT;
	GMimeContentType *ct = NULL;
	const char *charset = NULL;
	char *decoded = NULL;
	bool text = true;

	if (f->val[F_CONTENT_TYPE]) {
		ct = g_mime_content_type_parse(opts, f->val[F_CONTENT_TYPE]);
		if (g_mime_content_type_is_type(ct, "multipart", "*") ||
		    g_mime_content_type_is_type(ct, "message", "*")) {
			g_object_unref(ct);
			return false;
		}
		text = g_mime_content_type_is_type(ct, "text", "plain") ||
		       g_mime_content_type_is_type(ct, "*", "x-patch") ||
		       g_mime_content_type_is_type(ct, "*", "x-diff");
		charset = g_mime_content_type_get_parameter(ct, "charset");
	}
	if (f->val[F_CONTENT_TRANSFER_ENCODING])
		enc = g_mime_content_encoding_from_string(
			f->val[F_CONTENT_TRANSFER_ENCODING]);
	if (enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		if (ct)
			g_object_unref(ct);
		return false;
	}
	if (!text) {
		m->body = xstrdup("");
	} else {
		if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
		    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
			GMimeEncoding state;

			g_mime_encoding_init_decode(&state, enc);
			decoded = xmalloc(g_mime_encoding_outlen(&state, len) + 1);
			len = g_mime_encoding_step(&state, body, len, decoded);
			len += g_mime_encoding_flush(&state, "", 0,
						     decoded + len);
			body = decoded;
		}
		m->body = to_utf8(body, len, charset, &m->body_len);
		m->body_from_attachment = false;
	}
	free(decoded);
	if (ct)
		g_object_unref(ct);
	return true;
}

/*
 * The fast path: a header hfield_next() walks, none of the fields read
 * given twice, no NUL in them, and a single-part body that needs no
 * uudecoding is read here with GMime's own value decoders, without
 * building its object tree (most of the parsing time).  False, with
 * nothing filled, for anything else: msg_parse() then asks GMime.
 */
static bool read_simple(struct fields *f, struct msg *m,
			GMimeParserOptions *opts, const char *raw, size_t len)
{
	struct hfield h = { .p = raw, .end = raw + len };
	const char *start[F_NR] = { 0 }, *end[F_NR] = { 0 }, *body;
	InternetAddressList *from;
	size_t nr = 0;
	int r;

	while ((r = hfield_next(&h)) > 0) {
		int i = field_index(h.name, h.name_len);

		/* GMime gives Content-* to the body part; a message with
		 * no other field has no header for msg_parse() */
		if (h.name_len < 8 || strncasecmp(h.name, "Content-", 8))
			nr++;
		if (i < 0)
			continue;
		if (start[i] || memchr(h.start, '\0', (size_t)(h.p - h.start)))
			return false;
		start[i] = h.colon + 1;
		end[i] = h.p;
	}
	if (r < 0 || !nr)
		return false;
	for (int i = 0; i < F_NR; i++) {
		char *raw_value;

		if (!start[i])
			continue;
		raw_value = g_strndup(start[i], (gsize)(end[i] - start[i]));
		f->val[i] = decode_value(opts, raw_value);
		if (i == F_FROM) {
			/* NULL for no address, but also for a list that
			 * breaks off after some, which GMime would keep */
			from = internet_address_list_parse(opts, raw_value);
			f->from_list = address_list_string(from);
			if (from)
				g_object_unref(from);
		}
		g_free(raw_value);
		if (i == F_FROM && !f->from_list) {
			fields_release(f);
			return false;
		}
	}
	body = h.p + (*h.p == '\r' ? 2 : 1);
	if (!read_plain_body(m, f, opts, body, (size_t)(raw + len - body))) {
		fields_release(f);
		return false;
	}
	if (f->val[F_MESSAGE_ID])
		f->msgid = g_mime_utils_decode_message_id(f->val[F_MESSAGE_ID]);
	f->subject = g_strdup(f->val[F_SUBJECT]);
	if (f->val[F_DATE])
		f->date = g_mime_utils_header_decode_date(f->val[F_DATE]);
	return true;
}

/* Parse with GMime's parser; -EPROTO if it finds no header. */
static int read_parsed(struct fields *f, struct msg *m,
		       GMimeParserOptions *opts, const char *raw, size_t len,
		       unsigned int flags)
{
	struct strbuf copy = STRBUF_INIT;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *gm;
	int r = 0;

	if (!(flags & MSG_PARSE_ALL_HEADERS) &&
	    filter_header(&copy, raw, len)) {
		stream = g_mime_stream_mem_new_with_buffer(copy.buf, copy.len);
	} else if (!has_header_end(raw, len)) {
		/* cut inside its header: parse what is there */
		strbuf_add(&copy, raw, len);
		strbuf_addstr(&copy, "\n\n");
		stream = g_mime_stream_mem_new_with_buffer(copy.buf, copy.len);
	} else {
		stream = g_mime_stream_mem_new_with_buffer(raw, len);
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	gm = g_mime_parser_construct_message(parser, opts);
	if (!gm || !g_mime_object_get_header_list(GMIME_OBJECT(gm)) ||
	    g_mime_header_list_get_count(
		    g_mime_object_get_header_list(GMIME_OBJECT(gm))) == 0)
		r = -EPROTO;
	else
		read_gmime(f, m, gm);
	if (gm)
		g_object_unref(gm);
	g_object_unref(parser);
	g_object_unref(stream);
	strbuf_release(&copy);
	return r;
}

int msg_parse(struct msg *out, const char *raw, size_t len,
	      struct strbuf *warn)
{
	return msg_parse_flags(out, raw, len, warn, 0);
}

int msg_parse_flags(struct msg *out, const char *raw, size_t len,
		    struct strbuf *warn, unsigned int flags)
{
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
	GMimeParserOptions *opts = NULL;
	struct fields f = { 0 };
	const char *v;
	char *name = NULL, *addr = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct trailer_list tl = TRAILER_LIST_INIT;
	struct msg m;
	int r = 0;

	msg_release(out);
	msg_init(&m);
	if (len > MSG_MAX_SIZE) {
		r = -E2BIG;
		goto out;
	}
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	if (flags & (MSG_PARSE_ALL_HEADERS | MSG_PARSE_GMIME) ||
	    !read_simple(&f, &m, opts, raw, len)) {
		if (flags & MSG_PARSE_SIMPLE_ONLY) {
			r = -EAGAIN;
			goto out;
		}
		r = read_parsed(&f, &m, opts, raw, len, flags);
		if (r < 0)
			goto out;
	}

	if (f.msgid && *f.msgid) {
		m.msgid = collapse_ws(f.msgid);
		if (strchr(m.msgid, ' ')) {
			/* ids never contain spaces: keep the first word */
			*strchr(m.msgid, ' ') = '\0';
		}
	}
	if (!m.msgid || !*m.msgid) {
		free(m.msgid);
		synthetic_msgid(&m, raw, len);
		if (warn)
			strbuf_addf(warn, "%sno Message-ID, using '%s'",
				    warn->len ? "; " : "", m.msgid);
	}

	if (!first_mailbox(opts, f.val[F_X_ORIGINAL_FROM], &name, &addr)) {
		if (f.from_list)
			first_mailbox(opts, f.from_list, &name, &addr);
		if (!addr)
			first_mailbox(opts, f.val[F_FROM], &name, &addr);
	}
	m.sender_name = name ? name : xstrdup("");
	m.sender_addr = addr ? addr : xstrdup("");
	format_address(&sb, m.sender_name, m.sender_addr);
	m.sender = strbuf_detach(&sb, NULL);
	name = addr = NULL;

	if (f.date) {
		m.date_ms = (int64_t)g_date_time_to_unix(f.date) * 1000;
		m.has_date = true;
	}

	m.subject = collapse_ws(f.subject);
	subject_parse(&m.subj, m.subject);

	parse_ids(&m, opts, f.val[F_REFERENCES], false);
	parse_ids(&m, opts, f.val[F_IN_REPLY_TO], true);

	/* To:/Cc: as text: parsing addresses here would cost IDN
	 * normalisation for every message, and recipients are parsed
	 * only when a reply is written */
	m.to = collapse_ws(f.val[F_TO] ? f.val[F_TO] : "");
	m.cc = collapse_ws(f.val[F_CC] ? f.val[F_CC] : "");
	v = f.val[F_LIST_ID];
	if (v && *v) {
		const char *lt = strrchr(v, '<'), *gt = strrchr(v, '>');

		if (lt && gt && gt > lt + 1)
			m.list_id = xmemdupz(lt + 1, (size_t)(gt - lt - 1));
		else
			m.list_id = collapse_ws(v);
	}
	m.patchwork_bot = f.val[F_X_PATCHWORK_BOT] != NULL;

	m.has_diff = body_has_diff(m.body, m.body_len);
	m.has_diffstat = body_has_diffstat(m.body, m.body_len);
	m.has_trailers =
		trailer_parse_block(&tl, m.body, m.body_len) < m.body_len &&
		tl.nr > 0;
	m.change_id = body_find_line(m.body, m.body_len, "change-id:");
	m.base_commit = body_find_line(m.body, m.body_len, "base-commit:");
	body_author(&m, opts);

	*out = m;
	msg_init(&m);
out:
	fields_release(&f);
	trailer_list_release(&tl);
	msg_release(&m);
	free(name);
	free(addr);
	strbuf_release(&sb);
	if (opts)
		g_mime_parser_options_free(opts);
	return r;
}

bool msg_is_bot(const struct msg *m)
{
	if (m->patchwork_bot)
		return true;
	return m->sender_name && (strstr(m->sender_name, "kernel test robot") ||
				  strstr(m->sender_name, "syzbot"));
}
