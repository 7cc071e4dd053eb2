/*
 * strbuf.h - the one string type.
 *
 * Invariants (git's strbuf): 'buf' is never NULL and always
 * NUL-terminated at buf[len]; it may also contain NUL bytes before
 * 'len'.  A strbuf starts as STRBUF_INIT (pointing at a shared empty
 * string, no allocation) and owns its buffer once it grows.
 *
 * Caps (curl's dynbuf): a non-zero 'max' bounds 'len'.  The _checked
 * functions return -E2BIG instead of growing past it and leave the
 * buffer unchanged; every buffer fed by the network, mail or a
 * subprocess is filled through them.  The unchecked functions ignore
 * 'max' and die only when memory runs out.
 */
#ifndef KREVIEW_STRBUF_H
#define KREVIEW_STRBUF_H

#include "kreview/common.h"

struct strbuf {
	size_t alloc;
	size_t len;
	size_t max; /* 0: unlimited */
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, 0, strbuf_slopbuf }

/* Lifecycle. */
void strbuf_init(struct strbuf *sb, size_t hint);
/* Free the buffer and reinitialise; 'max' is kept. */
void strbuf_release(struct strbuf *sb);
/* Hand the buffer to the caller (free() it); 'sb' is reinitialised. */
char *strbuf_detach(struct strbuf *sb, size_t *len_out);
/* Take ownership of a malloc'ed buffer. */
void strbuf_attach(struct strbuf *sb, char *buf, size_t len);

/* Size. */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
static inline void strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}

/* Appending, ignoring the cap. */
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
KR_PRINTF(2, 3) void strbuf_addf(struct strbuf *sb, const char *fmt, ...);
KR_PRINTF(2, 0) void strbuf_vaddf(struct strbuf *sb, const char *fmt,
				  va_list ap);

/* Appending within the cap: 0 or -E2BIG (buffer unchanged). */
int strbuf_add_checked(struct strbuf *sb, const void *data, size_t len);

/* Editing. */
void strbuf_trim(struct strbuf *sb);
void strbuf_rtrim(struct strbuf *sb);
void strbuf_ltrim(struct strbuf *sb);
void strbuf_insert(struct strbuf *sb, size_t pos, const void *data,
		   size_t len);
void strbuf_remove(struct strbuf *sb, size_t pos, size_t len);
void strbuf_tolower(struct strbuf *sb);

/*
 * Append 's' with JSON string escaping (quotes included).  Invalid
 * UTF-8 bytes become U+FFFD so the result is always valid JSON.
 */
void strbuf_add_json_str(struct strbuf *sb, const char *s, size_t len);

/* Read a whole file; -errno on failure.  'max' of 0 means no cap. */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t max);
/* Read all of 'fd' until EOF; -errno or -E2BIG over the cap. */
int strbuf_read_fd(struct strbuf *sb, int fd, size_t max);

/* True if the two buffers hold the same bytes. */
bool strbuf_equal(const struct strbuf *a, const struct strbuf *b);

#endif
