/*
 * cmd_tree.h - what the tree commands (apply, context, series from-git,
 * maintainers --series) share: opening the database and the
 * repository, loading a series from either place, MAINTAINERS of the
 * tree, base detection with one line per attempt.  Private to
 * daemon/cmd/.  Every function logs its own errors (it is command
 * code) and returns 0 or a negative errno.
 */
#ifndef KREVIEW_CMD_TREE_H
#define KREVIEW_CMD_TREE_H

#include "kreview/common.h"
#include "kreview/tree.h"

struct db;
struct maint;
struct git_repository;

/* --db FILE, else the configured database (--config FILE). */
int cmd_tree_open_db(struct db **out, const char *db_path,
		     const char *config_path);

/* Where a series comes from: --series ID (with --db) or --mbox FILE. */
struct cmd_tree_src {
	const char *series_arg; /* the ID as given */
	const char *mbox;
	const char *db_path, *config_path;
};

int cmd_tree_load_series(struct tree_series *out,
			 const struct cmd_tree_src *src);

/*
 * MAINTAINERS: the file 'file' when given, else the blob MAINTAINERS
 * of HEAD in 'repo' (directory tests answered from HEAD's tree).
 * '*out' is NULL, and 0 returned, when HEAD has no MAINTAINERS.
 */
int cmd_tree_load_maint(struct maint **out, struct git_repository *repo,
			const char *file);

/*
 * Run base detection; print one line per attempt (those after the
 * winner as "not tried") and, when a base was found, the notes to 'f'
 * (NULL: print nothing).
 */
int cmd_tree_find_base(struct tree_base *out, struct git_repository *repo,
		       const struct tree_series *s,
		       const struct tree_base_opts *opts, FILE *f);

#endif
