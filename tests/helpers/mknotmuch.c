/*
 * mknotmuch - index a maildir into a notmuch database with libnotmuch.
 *
 *   mknotmuch MAILDIR
 *
 * The database lives in MAILDIR/.notmuch, created without any config
 * file on the first run and opened read-write on later runs, which
 * index the files added since (files already known are left alone).
 * Files of cur/ and new/ are indexed in name order; a file notmuch
 * does not take for mail is reported and skipped.  Prints the number
 * of messages indexed and the database's "uuid:revision".
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#include "kreview/common.h"
#include "kreview/strbuf.h"

#include <dirent.h>
#include <notmuch.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int index_dir(notmuch_database_t *db, const char *root,
		     const char *sub, size_t *added)
{
	struct strbuf path = STRBUF_INIT;
	char **names = NULL;
	size_t nr = 0, alloc = 0;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	strbuf_addf(&path, "%s/%s", root, sub);
	d = opendir(path.buf);
	if (!d) {
		fprintf(stderr, "mknotmuch: cannot read '%s': %s\n", path.buf,
			strerror(errno));
		ret = -1;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (nr)
		qsort(names, nr, sizeof(*names), cmp_str);
	for (size_t i = 0; i < nr && !ret; i++) {
		notmuch_message_t *msg = NULL;
		notmuch_status_t st;

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s/%s", root, sub, names[i]);
		st = notmuch_database_find_message_by_filename(db, path.buf,
							       &msg);
		if (!st && msg) {
			notmuch_message_destroy(msg);
			continue;
		}
		st = notmuch_database_index_file(db, path.buf, NULL, &msg);
		if (st == NOTMUCH_STATUS_FILE_NOT_EMAIL) {
			/* As "notmuch new" does: say so and go on. */
			fprintf(stderr,
				"mknotmuch: '%s' is not an email, ignoring\n",
				path.buf);
			continue;
		}
		if (st && st != NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID) {
			fprintf(stderr, "mknotmuch: cannot index '%s': %s\n",
				path.buf, notmuch_status_to_string(st));
			ret = -1;
			continue;
		}
		notmuch_message_destroy(msg);
		(*added)++;
	}
out:
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	strbuf_release(&path);
	return ret;
}

int main(int argc, char **argv)
{
	struct strbuf dbdir = STRBUF_INIT;
	notmuch_database_t *db = NULL;
	notmuch_status_t st;
	struct stat sb;
	const char *uuid;
	unsigned long rev;
	char *msg = NULL, *root;
	size_t added = 0;
	int ret = 1;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		fputs("usage: mknotmuch MAILDIR\n", stderr);
		return 2;
	}
	/* notmuch insists on an absolute path. */
	root = realpath(argv[1], NULL);
	if (!root) {
		fprintf(stderr, "mknotmuch: cannot open '%s': %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	strbuf_addf(&dbdir, "%s/.notmuch", root);
	if (stat(dbdir.buf, &sb) == 0)
		st = notmuch_database_open_with_config(
			root, NOTMUCH_DATABASE_MODE_READ_WRITE, "", NULL,
			&db, &msg);
	else
		st = notmuch_database_create_with_config(root, "", NULL, &db,
							 &msg);
	if (st) {
		fprintf(stderr, "mknotmuch: cannot open database in '%s': %s\n",
			argv[1], msg ? msg : notmuch_status_to_string(st));
		goto out;
	}
	if (index_dir(db, root, "cur", &added) < 0 ||
	    index_dir(db, root, "new", &added) < 0)
		goto out;
	rev = notmuch_database_get_revision(db, &uuid);
	printf("indexed %zu messages, %s:%lu\n", added, uuid, rev);
	ret = 0;
out:
	if (db) {
		st = notmuch_database_close(db);
		if (st && !ret) {
			fprintf(stderr, "mknotmuch: cannot close database: %s\n",
				notmuch_status_to_string(st));
			ret = 1;
		}
		notmuch_database_destroy(db);
	}
	free(msg);
	free(root);
	strbuf_release(&dbdir);
	return ret;
}
