/*
 * kreview series from-git: commits of a range stored as a series,
 * exactly as if they had been mailed (fromgit.h).
 */
#include "cmd_tree.h"
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/fromgit.h"
#include "kreview/log.h"
#include "kreview/msg.h"
#include "kreview/store.h"
#include "kreview/store_series.h"
#include "kreview/strbuf.h"

#include <getopt.h>
#include <git2.h>

/* Store the messages in one transaction; count what was new. */
static int store_all(size_t *added, size_t *conflicts, struct db *db,
		     const struct fromgit_series *fs, const char *range)
{
	struct strbuf err = STRBUF_INIT, where = STRBUF_INIT;
	int r;

	r = db_begin(db, &err);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < fs->nr; i++) {
		const struct fromgit_patch *p = &fs->patches[i];
		enum store_add_result res;
		struct store_input in = { 0 };
		struct msg m = MSG_INIT;

		msg_init(&m);
		r = msg_parse(&m, p->raw, p->len, NULL);
		if (r < 0) {
			strbuf_addf(&err, "commit %s does not make a message",
				    p->commit);
			msg_release(&m);
			db_rollback(db);
			goto fail;
		}
		strbuf_reset(&where);
		strbuf_addf(&where, "git %s: commit %s", range, p->commit);
		in.raw = p->raw;
		in.len = p->len;
		in.where = where.buf;
		r = store_add_message(&res, db, &m, false, &in, &err);
		msg_release(&m);
		if (r < 0) {
			db_rollback(db);
			goto fail;
		}
		*added += res == STORE_ADDED;
		*conflicts += res == STORE_CONFLICT;
	}
	r = db_commit(db, &err);
	if (r < 0)
		goto fail;
	goto out;
fail:
	log_error("cannot store the series of '%s': %s", range, err.buf);
out:
	strbuf_release(&err);
	strbuf_release(&where);
	return r;
}

int cmd_series_from_git(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "tree", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct fromgit_series fs = FROMGIT_SERIES_INIT;
	struct store_assemble_stats as = { 0 };
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	const char *db_path = NULL, *config_path = NULL, *dir = NULL;
	git_repository *repo = NULL;
	struct db *db = NULL;
	size_t added = 0, conflicts = 0;
	int64_t id;
	int c, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db_path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 't':
			dir = optarg;
			break;
		default:
			cmd_print_usage(cmd_find("series"), stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		log_error("series from-git takes one RANGE (A..B, A.., ..B)");
		cmd_print_usage(cmd_find("series"), stderr);
		return 2;
	}
	if (tree_open_repo(&repo, dir, &err) < 0) {
		log_error("%s", err.buf);
		goto out;
	}
	if (fromgit_range(&fs, repo, argv[optind], &err) < 0) {
		log_error("%s", err.buf);
		goto out;
	}
	if (fs.skipped_empty)
		log_notice("%zu commits of '%s' change nothing, left out",
			   fs.skipped_empty, argv[optind]);
	if (config_load(&cfg, config_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	if (cmd_tree_open_db(&db, db_path ? db_path : cfg->database,
			     NULL) < 0)
		goto out;
	if (store_all(&added, &conflicts, db, &fs, argv[optind]) < 0)
		goto out;
	if (conflicts)
		log_warn("%zu messages were stored before with other content "
			 "(another kreview version?); the first copies are "
			 "kept", conflicts);
	if (store_assemble_dirty(&as, db, cfg->ingest.stall_after_ms,
				 time_now_ms(), &err) < 0) {
		log_error("cannot assemble series: %s", err.buf);
		goto out;
	}
	if (store_series_of_msgid(&id, db, fs.patches[0].msgid, &err) < 0) {
		log_error("%s", err.buf);
		goto out;
	}
	log_info("%zu patches on %s, %zu new messages", fs.nr, fs.base,
		 added);
	printf("%" PRId64 "\n", id);
	ret = fflush(stdout) ? 1 : 0;
out:
	db_close(db);
	config_free(cfg);
	fromgit_series_release(&fs);
	git_repository_free(repo);
	strbuf_release(&err);
	return ret;
}
