/* The command table: one line per subcommand. */
#include "kreview/common.h"
#include "kreview/cmd.h"

const struct cmd cmd_table[] = {
	{ "help", cmd_help, "describe kreview or one of its commands",
	  "kreview help [<command>]" },
	{ NULL, NULL, NULL, NULL },
};

const struct cmd *cmd_find(const char *name)
{
	for (const struct cmd *c = cmd_table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void cmd_print_usage(const struct cmd *c, FILE *f)
{
	fprintf(f, "usage: %s\n", c->usage);
}
