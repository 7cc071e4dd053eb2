/*
 * store_series.h - reading one assembled series revision back out of
 * the main database, for the commands that apply or review it.
 *
 * A series revision (store.h) is a row of 'series' plus its patch slots
 * in 'series_patch'; the messages themselves (raw bytes) live in
 * 'message'.  These helpers hand the cover and the patches back in slot
 * order as raw messages, so the caller parses them with msg_parse()
 * exactly as they were received.
 */
#ifndef KREVIEW_STORE_SERIES_H
#define KREVIEW_STORE_SERIES_H

#include "kreview/common.h"

struct db;
struct strbuf;

/* One stored message, raw. */
struct store_series_msg {
	char *msgid; /* without <> */
	char *raw;   /* the message as received, NUL-terminated */
	size_t len;
};

struct store_series {
	int64_t id;
	int version;
	int total;		/* number of patch slots */
	char *subject;		/* title of the cover, else of patch 1 */
	char *base_commit;	/* "base-commit:" of the cover or a patch */
	bool has_cover;
	struct store_series_msg cover; /* valid when has_cover */
	struct store_series_msg *patches; /* slot order, 'total' of them */
};

#define STORE_SERIES_INIT { 0 }

void store_series_release(struct store_series *s);

/*
 * Load series revision 'id' with the raw bytes of its cover and
 * patches into 'out' (STORE_SERIES_INIT or released).  A revision
 * with an empty slot is refused with -ENODATA ("series 12 lacks patch
 * 3/5"): no caller can apply or review a series with a hole.
 * -ENOENT for an unknown id, -EIO for database errors; a reason is
 * appended to 'err' (may be NULL).  'out' is only written on success.
 */
int store_series_load(struct store_series *out, struct db *db, int64_t id,
		      struct strbuf *err);

/*
 * The newest series revision that has the message 'msgid' (without
 * <>) as its cover or one of its patches, into '*out'.  -ENOENT when
 * there is none, -EIO on database errors.
 */
int store_series_of_msgid(int64_t *out, struct db *db, const char *msgid,
			  struct strbuf *err);

#endif
