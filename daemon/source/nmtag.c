/* Tagging reviewed messages in notmuch; see nmtag.h. */
#include "kreview/nmtag.h"
#include "kreview/strbuf.h"

#include <notmuch.h>
#include <time.h>

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int open_rw(notmuch_database_t **db, const char *path,
		   int64_t timeout_ms, struct strbuf *err)
{
	int64_t deadline = time_mono_ms() + timeout_ms, wait = 50;

	for (;;) {
		char *msg = NULL;
		notmuch_status_t st = notmuch_database_open_with_config(
			path, NOTMUCH_DATABASE_MODE_READ_WRITE, "", NULL, db,
			&msg);

		if (st == NOTMUCH_STATUS_SUCCESS) {
			free(msg);
			return 0;
		}
		/* builds without Xapian's retry lock fail at once: retry */
		if (st != NOTMUCH_STATUS_XAPIAN_EXCEPTION ||
		    time_mono_ms() + wait > deadline) {
			strbuf_addf(err, "cannot open '%s' for writing: %s",
				    path,
				    msg ? msg : notmuch_status_to_string(st));
			free(msg);
			return st == NOTMUCH_STATUS_XAPIAN_EXCEPTION ?
				       -ETIMEDOUT :
				       -EIO;
		}
		free(msg);
		sleep_ms(wait);
		if (wait < 2000)
			wait *= 2;
	}
}

int nmtag_reviewed(const char *db_path, const char *const *msgids, size_t nr,
		   const char *severity, int64_t timeout_ms,
		   struct strbuf *err)
{
	notmuch_database_t *db = NULL;
	struct strbuf sev = STRBUF_INIT;
	notmuch_status_t st;
	int r;

	r = open_rw(&db, db_path, timeout_ms, err);
	if (r < 0)
		return r;
	if (severity)
		strbuf_addf(&sev, "kreview-%s", severity);
	for (size_t i = 0; i < nr; i++) {
		notmuch_message_t *m = NULL;

		st = notmuch_database_find_message(db, msgids[i], &m);
		if (st != NOTMUCH_STATUS_SUCCESS) {
			strbuf_addf(err, "cannot look up <%s>: %s", msgids[i],
				    notmuch_status_to_string(st));
			r = -EIO;
			break;
		}
		if (!m)
			continue;
		/* both tags or neither */
		notmuch_message_freeze(m);
		st = notmuch_message_add_tag(m, NMTAG_REVIEWED);
		if (st == NOTMUCH_STATUS_SUCCESS && sev.len)
			st = notmuch_message_add_tag(m, sev.buf);
		if (st == NOTMUCH_STATUS_SUCCESS)
			st = notmuch_message_thaw(m);
		notmuch_message_destroy(m);
		if (st != NOTMUCH_STATUS_SUCCESS) {
			strbuf_addf(err, "cannot tag <%s>: %s", msgids[i],
				    notmuch_status_to_string(st));
			r = -EIO;
			break;
		}
	}
	st = notmuch_database_close(db);
	if (st != NOTMUCH_STATUS_SUCCESS && r == 0) {
		strbuf_addf(err, "cannot commit the tags in '%s': %s", db_path,
			    notmuch_status_to_string(st));
		r = -EIO;
	}
	notmuch_database_destroy(db);
	strbuf_release(&sev);
	return r;
}
