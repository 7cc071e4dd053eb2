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

struct kreview_config;
struct llm_engine;
struct strbuf;

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
/*
 * The engine of a command someone waits for at the terminal (check,
 * review, bugs reverify): every configured endpoint, an open circuit
 * breaker failing at once (fail_fast).  With no endpoint configured, a
 * local server is looked for first (llm_local_detect(), which sets
 * cfg->endpoints; a note goes to stderr when one answers).  On failure
 * '*out' may hold a half-built engine for the caller to free.
 */
int cmd_llm_engine(struct llm_engine **out, struct kreview_config *cfg,
		   struct strbuf *err);

/* "kreview series from-git ...", argv[0] being "from-git". */
int cmd_series_from_git(int argc, char **argv);

#endif
