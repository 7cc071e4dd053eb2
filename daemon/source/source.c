/*
 * Mail sources: the common handle and the dispatch to each kind.
 *
 * The kinds differ in nearly everything (a streamed file, a directory
 * listing, a git history, a Xapian query), so the shared part is only
 * the handle, the caps and the latch that makes source_next() keep
 * returning 0, or the same fatal error, once a kind has finished.
 */
#include "source-impl.h"

#include <limits.h>
#include <stdlib.h>

void source_err(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
}

void source_set_key(struct source *s, const char *prefix, const char *path,
		    const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;
	char *abs = realpath(path, NULL);

	strbuf_addf(&sb, "%s%s%s", prefix, abs ? abs : path,
		    suffix ? suffix : "");
	free(abs);
	free(s->key);
	s->key = strbuf_detach(&sb, NULL);
}

int source_open(struct source **out, enum source_kind kind,
		const char *location, const char *query, const char *cursor,
		struct strbuf *err)
{
	struct source *s;
	int ret;

	if (!location || !*location) {
		source_err(err, "no source location given");
		return -EINVAL;
	}
	if (query && kind != SOURCE_NOTMUCH) {
		source_err(err, "'%s': a query only applies to notmuch sources",
			   location);
		return -EINVAL;
	}
	if (cursor && !*cursor)
		cursor = NULL;

	s = xcalloc(1, sizeof(*s));
	s->kind = kind;
	s->max_message = SOURCE_MAX_MESSAGE;
	strbuf_init(&s->cursor, 0);
	strbuf_init(&s->where, 0);

	switch (kind) {
	case SOURCE_MBOX:
		ret = mbox_open(s, location, cursor, err);
		break;
	case SOURCE_MAILDIR:
		/* A maildir keeps no cursor: a stale one is simply unused. */
		ret = maildir_open(s, location, err);
		break;
	case SOURCE_INBOX:
		ret = inbox_open(s, location, cursor, err);
		break;
	case SOURCE_NOTMUCH:
		ret = nmsource_open(s, location, query, cursor, err);
		break;
	default:
		source_err(err, "unknown source kind %d", (int)kind);
		ret = -EINVAL;
		break;
	}
	if (ret < 0) {
		source_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int source_next(struct source *s, struct source_msg *out,
		struct strbuf *err)
{
	struct source_msg msg = { 0 };
	int ret;

	if (s->done) {
		if (s->done_ret < 0)
			source_err(err, "source already failed: %s",
				   strerror(-s->done_ret));
		return s->done_ret;
	}
	strbuf_reset(&s->where);
	ret = s->ops->next(s, &msg, err);
	if (ret == 1) {
		msg.where = s->where.buf;
		*out = msg;
	} else if (ret == 0 || (ret != -E2BIG && ret != -EPROTO)) {
		s->done = true;
		s->done_ret = ret;
	}
	return ret;
}

const char *source_cursor(const struct source *s)
{
	return s->has_cursor ? s->cursor.buf : NULL;
}

const char *source_key(const struct source *s)
{
	return s->key;
}

bool source_restarted(const struct source *s)
{
	return s->restarted;
}

void source_set_max_message(struct source *s, size_t max)
{
	if (!max || max > SOURCE_MAX_MESSAGE)
		max = SOURCE_MAX_MESSAGE;
	s->max_message = max;
}

void source_free(struct source *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->release)
		s->ops->release(s->priv);
	free(s->key);
	strbuf_release(&s->cursor);
	strbuf_release(&s->where);
	free(s);
}
