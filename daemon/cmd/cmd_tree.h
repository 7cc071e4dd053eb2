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
 * The options apply and context share: --tree DIR (required), --base
 * REV, --branch REF (repeatable), --maintainers FILE and the series
 * source.  CMD_TREE_OPTIONS goes into a getopt_long() table;
 * cmd_tree_opt() takes the options it names.
 */
#define CMD_TREE_OPTIONS                                        \
	{ "tree", required_argument, NULL, 't' },               \
	{ "base", required_argument, NULL, 'b' },               \
	{ "branch", required_argument, NULL, 'B' },             \
	{ "maintainers", required_argument, NULL, 'M' },        \
	{ "series", required_argument, NULL, 's' },             \
	{ "mbox", required_argument, NULL, 'm' },               \
	{ "db", required_argument, NULL, 'd' },                 \
	{ "config", required_argument, NULL, 'c' }

struct cmd_tree_args {
	const char *dir, *maint_file;
	struct cmd_tree_src src;
	struct tree_base_opts bo;	/* bo.branches: 'branches' */
	const char **branches;
};

#define CMD_TREE_ARGS_INIT { .bo = TREE_BASE_OPTS_INIT }

/* True when option 'c' (with 'arg') is one of CMD_TREE_OPTIONS. */
bool cmd_tree_opt(struct cmd_tree_args *a, int c, const char *arg);

/*
 * After getopt_long(): no argument left over, --tree given, one of
 * --series and --mbox.  Otherwise the reason and the usage of 'cmd' go
 * to stderr and false is returned.
 */
bool cmd_tree_args_check(const struct cmd_tree_args *a, const char *cmd,
			 int argc, char **argv);

/* Open the repository, then load the series and MAINTAINERS (a->bo.maint). */
int cmd_tree_open(struct git_repository **repo, struct tree_series *s,
		  struct maint **m, struct cmd_tree_args *a);

void cmd_tree_args_release(struct cmd_tree_args *a);

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
