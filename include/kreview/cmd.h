/*
 * cmd.h - the subcommands of the kreview binary.
 *
 * Each takes the argument vector starting at the command name (argv[0]
 * is "ingest", ...) and returns the process exit status: 0 success, 1
 * failure (or findings at or above the threshold for check), 2 usage.
 */
#ifndef KREVIEW_CMD_H
#define KREVIEW_CMD_H

#include <stdio.h>

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

/* The command table, terminated by a NULL name. */
extern const struct cmd cmd_table[];

/* Look a command up by name; NULL if unknown. */
const struct cmd *cmd_find(const char *name);
/* Print "usage: ..." for 'c' to 'f'. */
void cmd_print_usage(const struct cmd *c, FILE *f);

int cmd_help(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_series(int argc, char **argv);
int cmd_maintainers(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_context(int argc, char **argv);
int cmd_llm(int argc, char **argv);
int cmd_bugs(int argc, char **argv);
/* "kreview series from-git ...", argv[0] being "from-git". */
int cmd_series_from_git(int argc, char **argv);

#endif
