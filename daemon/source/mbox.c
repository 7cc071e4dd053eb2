/*
 * mbox source: a streamed splitter using git's "From " line rule.
 *
 * The file is read through a window of at most MBOX_WINDOW bytes line by
 * line, so memory stays bounded by the window plus one message however
 * large the mailbox (LKML mboxes are gigabytes).  A line longer than
 * the window is handled in pieces; only a piece that starts a line can
 * be a separator or an mboxrd escape.
 *
 * The cursor is "v1:OFFSET:MSGNO:LINE:HASH": OFFSET is where the next
 * message's "From " line begins (or the end of the file), MSGNO and
 * LINE keep positions in error messages counting from the start of
 * the file, and HASH fingerprints the first and the last MBOX_FP_LEN
 * bytes before OFFSET.  Appending keeps those bytes; a rewrite almost
 * always changes them, or moves OFFSET off a "From " line, and then
 * the whole file is read again (the store dedups).
 */
#include "source-impl.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MBOX_WINDOW (1u << 20)
#define MBOX_WINDOW_MIN (64u << 10)
#define MBOX_FP_LEN 4096

struct mbox {
	int fd;
	bool own_fd;
	bool seekable;		/* a regular file: it has a cursor */
	char *name;		/* file name for positions */

	char *buf;		/* read window of 'window' bytes */
	size_t window;
	size_t start, end;	/* unread bytes are buf[start, end) */
	bool eof;
	uint64_t off;		/* file offset of buf[start] */
	uint64_t line;		/* line number at buf[start] */
	bool bol;		/* buf[start] begins a line */

	uint64_t msgno;		/* messages begun so far */
	bool in_msg;
	bool skipping;		/* the current message is over the cap */
	bool junk;		/* skipping text before the first "From " */
	uint64_t junk_lines;
	uint64_t msg_line;	/* line of the current message's start */
	uint64_t msg_off;	/* ... and its offset */
	bool ended_blank;	/* the last line read was blank */
	struct strbuf msg;

	bool pending;		/* a "From " line was read: next message */
	uint64_t pend_off, pend_line;
};

static bool mbox_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * git's rule: "From " followed somewhere by a H:MM:SS or HH:MM:SS time
 * and a year of four digits.  A body line that merely starts with
 * "From " (unescaped in mboxo) rarely has both.
 */
static bool mbox_is_from_line(const char *line, size_t len)
{
	bool have_time = false, have_year = false;
	size_t i = 5;

	if (len < 5 || memcmp(line, "From ", 5))
		return false;
	while (i < len) {
		size_t j = i;

		if (!mbox_is_digit(line[i])) {
			i++;
			continue;
		}
		while (j < len && mbox_is_digit(line[j]))
			j++;
		if (j - i == 4) {
			have_year = true;
		} else if (j - i <= 2 && j + 6 <= len && line[j] == ':' &&
			   mbox_is_digit(line[j + 1]) &&
			   mbox_is_digit(line[j + 2]) && line[j + 3] == ':' &&
			   mbox_is_digit(line[j + 4]) &&
			   mbox_is_digit(line[j + 5]) &&
			   (j + 6 == len || !mbox_is_digit(line[j + 6]))) {
			have_time = true;
			j += 6;
		}
		i = j;
	}
	return have_time && have_year;
}

static bool mbox_is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
		    line[i] != '\n')
			return false;
	return true;
}

/* An RFC 5322 field name followed by a colon. */
static bool mbox_is_header_line(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] > ' ' && line[i] < 127 && line[i] != ':')
		i++;
	return i > 0 && i < len && line[i] == ':';
}

static int mbox_fill(struct mbox *m)
{
	ssize_t n;

	if (m->start) {
		memmove(m->buf, m->buf + m->start, m->end - m->start);
		m->end -= m->start;
		m->start = 0;
	}
	do
		n = read(m->fd, m->buf + m->end, m->window - m->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!n)
		m->eof = true;
	m->end += (size_t)n;
	return 0;
}

/*
 * Next line with its '\n', or the next piece of a line longer than the
 * window.  '*bol' says whether the piece starts a line.  The pointer is
 * valid until the next call.  1, 0 at the end, or -errno.
 */
static int mbox_getline(struct mbox *m, const char **out, size_t *len,
			bool *bol)
{
	for (;;) {
		const char *p = m->buf + m->start;
		const char *nl = memchr(p, '\n', m->end - m->start);
		size_t n;
		int r;

		if (nl) {
			n = (size_t)(nl - p) + 1;
		} else if (m->eof || m->end - m->start == m->window) {
			n = m->end - m->start;
		} else {
			r = mbox_fill(m);
			if (r < 0)
				return r;
			continue;
		}
		if (!n)
			return 0;
		*out = p;
		*len = n;
		*bol = m->bol;
		m->start += n;
		m->off += n;
		m->bol = p[n - 1] == '\n';
		if (m->bol)
			m->line++;
		return 1;
	}
}

static int mbox_pread_all(int fd, char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ENODATA; /* the file shrank under us */
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static uint64_t mbox_fnv(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int mbox_fingerprint(uint64_t *out, int fd, uint64_t off)
{
	char buf[MBOX_FP_LEN];
	size_t n = off < MBOX_FP_LEN ? (size_t)off : MBOX_FP_LEN;
	uint64_t h = 0xcbf29ce484222325ull;
	int r;

	r = mbox_pread_all(fd, buf, n, 0);
	if (r < 0)
		return r;
	h = mbox_fnv(h, buf, n);
	r = mbox_pread_all(fd, buf, n, off - n);
	if (r < 0)
		return r;
	h = mbox_fnv(h, buf, n);
	*out = mbox_fnv(h, (const char *)&off, sizeof(off));
	return 0;
}

static int mbox_set_cursor(struct source *s, struct mbox *m, uint64_t off,
			   uint64_t msgno, uint64_t line, struct strbuf *err)
{
	uint64_t fp;
	int r;

	if (!m->seekable)
		return 0;
	r = mbox_fingerprint(&fp, m->fd, off);
	if (r < 0) {
		source_err(err, "cannot read '%s' for its cursor: %s", m->name,
			   strerror(-r));
		return r;
	}
	strbuf_reset(&s->cursor);
	strbuf_addf(&s->cursor, "v1:%" PRIu64 ":%" PRIu64 ":%" PRIu64
		    ":%016" PRIx64, off, msgno, line, fp);
	s->has_cursor = true;
	return 0;
}

/*
 * Continue where 'cursor' says if it still fits the file: 0, or -1 to
 * read from the start.
 */
static int mbox_resume(struct mbox *m, const char *cursor, uint64_t size)
{
	struct strbuf tmp = STRBUF_INIT;
	char *field[4];
	uint64_t off, msgno, line, fp, want;
	char head[1024];
	size_t nf = 0, n;
	const char *nl;
	char *p;
	int ret = -1;

	strbuf_addstr(&tmp, cursor);
	if (!skip_prefix(tmp.buf, "v1:"))
		goto out;
	p = tmp.buf + 3;
	while (nf < ARRAY_SIZE(field)) {
		char *colon = strchr(p, ':');

		field[nf++] = p;
		if (!colon)
			break;
		*colon = '\0';
		p = colon + 1;
	}
	if (nf != ARRAY_SIZE(field) || strlen(field[3]) != 16 ||
	    parse_uint64(&off, field[0], 10) ||
	    parse_uint64(&msgno, field[1], 10) ||
	    parse_uint64(&line, field[2], 10) ||
	    parse_uint64(&want, field[3], 16) || !line || off > size)
		goto out;
	if (mbox_fingerprint(&fp, m->fd, off) < 0 || fp != want)
		goto out;
	if (off > 0 && off < size) {
		/* The next message must still begin exactly here. */
		n = size - off < sizeof(head) ? (size_t)(size - off) :
						sizeof(head);
		if (mbox_pread_all(m->fd, head, n, off) < 0)
			goto out;
		nl = memchr(head, '\n', n);
		if (!mbox_is_from_line(head, nl ? (size_t)(nl - head) : n))
			goto out;
	}
	if (lseek(m->fd, (off_t)off, SEEK_SET) < 0)
		goto out;
	m->off = off;
	m->msgno = msgno;
	m->line = line;
	ret = 0;
out:
	strbuf_release(&tmp);
	return ret;
}

static void mbox_begin(struct source *s, struct mbox *m, uint64_t off,
		       uint64_t line)
{
	m->in_msg = true;
	m->skipping = false;
	m->msgno++;
	m->msg_line = line;
	m->msg_off = off;
	m->ended_blank = false;
	strbuf_reset(&m->msg);
	m->msg.max = s->max_message;
}

/*
 * The current message ended; 'off' and 'line' are where the next
 * begins.  At the end of the file ('at_eof'), a message without the
 * blank line that closes mbox messages may still be being written: it
 * is handed out, but the cursor stays at its start so that the next
 * run reads it again, whole.
 */
static int mbox_finish(struct source *s, struct mbox *m,
		       struct source_msg *out, uint64_t off, uint64_t line,
		       bool at_eof, struct strbuf *err)
{
	size_t len = m->msg.len;
	int r;

	m->in_msg = false;
	strbuf_addf(&s->where, "%s: message %" PRIu64 " at line %" PRIu64,
		    m->name, m->msgno, m->msg_line);
	if (at_eof && !m->ended_blank)
		r = mbox_set_cursor(s, m, m->msg_off, m->msgno - 1,
				    m->msg_line, err);
	else
		r = mbox_set_cursor(s, m, off, m->msgno, line, err);
	if (r < 0)
		return r;
	if (m->skipping) {
		strbuf_release(&m->msg);
		source_err(err, "%s: larger than %zu bytes, skipped",
			   s->where.buf, s->max_message);
		return -E2BIG;
	}
	/* Drop the blank line mbox writers put before the next "From ". */
	if (len >= 2 && !memcmp(m->msg.buf + len - 2, "\n\n", 2))
		len -= 1;
	else if (len >= 4 && !memcmp(m->msg.buf + len - 4, "\r\n\r\n", 4))
		len -= 2;
	if (mbox_is_blank(m->msg.buf, len)) {
		source_err(err, "%s: empty message, skipped", s->where.buf);
		return -EPROTO;
	}
	strbuf_setlen(&m->msg, len);
	out->data = m->msg.buf;
	out->len = len;
	return 1;
}

static int mbox_junk_error(struct source *s, struct mbox *m, uint64_t off,
			   uint64_t line, struct strbuf *err)
{
	int r;

	m->junk = false;
	strbuf_addf(&s->where, "%s: line 1", m->name);
	r = mbox_set_cursor(s, m, off, m->msgno, line, err);
	if (r < 0)
		return r;
	source_err(err,
		   "%s: not an mbox: %" PRIu64
		   " lines before the first \"From \" line, skipped",
		   s->where.buf, m->junk_lines);
	return -EPROTO;
}

static void mbox_append(struct mbox *m, const char *line, size_t len,
			bool bol)
{
	m->ended_blank = bol && line[len - 1] == '\n' &&
			 (len == 1 || (len == 2 && line[0] == '\r'));
	if (m->skipping)
		return;
	if (bol && len > 5 && line[0] == '>') {
		size_t i = 1;

		while (i < len && line[i] == '>')
			i++;
		if (len - i >= 5 && !memcmp(line + i, "From ", 5)) {
			line++;
			len--;
		}
	}
	if (strbuf_add_checked(&m->msg, line, len) < 0) {
		m->skipping = true;
		strbuf_release(&m->msg);
	}
}

static int mbox_next(struct source *s, struct source_msg *out,
		     struct strbuf *err)
{
	struct mbox *m = s->priv;

	if (m->pending) {
		m->pending = false;
		mbox_begin(s, m, m->pend_off, m->pend_line);
	}
	for (;;) {
		uint64_t line_no = m->line, off = m->off;
		const char *line;
		size_t len;
		bool bol;
		int r;

		r = mbox_getline(m, &line, &len, &bol);
		if (r < 0) {
			source_err(err, "cannot read '%s': %s", m->name,
				   strerror(-r));
			return r;
		}
		if (!r) {
			if (m->junk)
				return mbox_junk_error(s, m, m->off, m->line,
						       err);
			if (!m->in_msg)
				return 0;
			return mbox_finish(s, m, out, m->off, m->line, true,
					   err);
		}
		if (bol && mbox_is_from_line(line, len)) {
			if (m->junk || m->in_msg) {
				m->pending = true;
				m->pend_off = off;
				m->pend_line = line_no;
				if (m->junk)
					return mbox_junk_error(s, m, off,
							       line_no, err);
				return mbox_finish(s, m, out, off, line_no,
						   false, err);
			}
			mbox_begin(s, m, off, line_no);
			continue;
		}
		if (!m->in_msg) {
			/*
			 * Only text before the first "From " line gets
			 * here: blank lines are ignored, a header starts
			 * a bare message (one saved mail), the rest is
			 * not mail.
			 */
			if (m->junk) {
				m->junk_lines += bol;
				continue;
			}
			if (bol && mbox_is_blank(line, len))
				continue;
			if (bol && mbox_is_header_line(line, len)) {
				mbox_begin(s, m, off, line_no);
			} else {
				m->junk = true;
				m->junk_lines = 1;
				continue;
			}
		}
		mbox_append(m, line, len, bol);
	}
}

static void mbox_release(void *priv)
{
	struct mbox *m = priv;

	if (!m)
		return;
	if (m->own_fd && m->fd >= 0)
		close(m->fd);
	free(m->name);
	free(m->buf);
	strbuf_release(&m->msg);
	free(m);
}

static const struct source_ops mbox_ops = {
	.next = mbox_next,
	.release = mbox_release,
};

int mbox_open(struct source *s, const char *location, const char *cursor,
	      struct strbuf *err)
{
	struct mbox *m = xcalloc(1, sizeof(*m));
	struct stat st;
	int r;

	s->ops = &mbox_ops;
	s->priv = m;
	m->fd = -1;
	m->line = 1;
	m->bol = true;
	strbuf_init(&m->msg, 0);
	m->window = MBOX_WINDOW;

	if (!strcmp(location, "-")) {
		/* stdin cannot be re-read, so it has no cursor. */
		m->fd = STDIN_FILENO;
		m->name = xstrdup("<stdin>");
		m->buf = xmalloc(m->window);
		s->restarted = cursor != NULL;
		return 0;
	}
	m->name = xstrdup(location);
	m->fd = open(location, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0) {
		r = -errno;
		source_err(err, "cannot open mbox '%s': %s", location,
			   strerror(-r));
		return r;
	}
	m->own_fd = true;
	if (fstat(m->fd, &st) < 0) {
		r = -errno;
		source_err(err, "cannot stat mbox '%s': %s", location,
			   strerror(-r));
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		source_err(err, "'%s' is a directory, not an mbox file",
			   location);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A pipe or device reads like stdin: once, no cursor. */
		m->buf = xmalloc(m->window);
		s->restarted = cursor != NULL;
		return 0;
	}
	/* A small file needs no big window; the size only bounds pieces. */
	if ((uint64_t)st.st_size < MBOX_WINDOW_MIN)
		m->window = MBOX_WINDOW_MIN;
	else if ((uint64_t)st.st_size < MBOX_WINDOW)
		m->window = (size_t)st.st_size + 1;
	m->buf = xmalloc(m->window);
	m->seekable = true;
	source_set_key(s, "mbox:", location, NULL);
	if (cursor && mbox_resume(m, cursor, (uint64_t)st.st_size) < 0)
		s->restarted = true;
	return mbox_set_cursor(s, m, m->off, m->msgno, m->line, err);
}
