/* The command table: one line per subcommand. */
#include "kreview/common.h"
#include "kreview/cmd.h"

const struct cmd cmd_table[] = {
	{ "help", cmd_help, "describe kreview or one of its commands",
	  "kreview help [<command>]" },
	{ "ingest", cmd_ingest,
	  "read mail from a source, store messages, assemble series",
	  "kreview ingest [--db FILE] [--config FILE] [--[no-]progress] SOURCE...\n"
	  "\n"
	  "sources (any number, each read in turn):\n"
	  "   --mbox FILE        an mbox file (mboxrd or mboxo); '-' reads stdin\n"
	  "   --maildir DIR      a maildir (cur/ and new/)\n"
	  "   --public-inbox DIR a public-inbox v2 epoch git repository\n"
	  "   --notmuch DBPATH --query Q\n"
	  "                      messages matching a notmuch query (read-only)\n"
	  "\n"
	  "Prints one summary line.  Exit 0 even when some messages were\n"
	  "malformed (reported on stderr with their position); non-zero when\n"
	  "a source cannot be read.  --progress shows a count of messages read\n"
	  "on stderr while a source is read (the default when stderr is a\n"
	  "terminal); --no-progress turns it off." },
	{ "series", cmd_series, "list or show assembled patch series",
	  "kreview series list [--config FILE] [--db FILE] [--json]\n"
	  "kreview series show [--config FILE] [--db FILE] [--mbox] ID|MSGID\n"
	  "kreview series from-git [--config FILE] [--db FILE] [--tree DIR] RANGE" },
	{ "maintainers", cmd_maintainers, "map paths to MAINTAINERS sections",
	  "kreview maintainers [--file MAINTAINERS] [--tree DIR | --no-tree]\n"
	  "                    [--json | --depth] PATH...\n"
	  "kreview maintainers [--file MAINTAINERS] [--json | --depth]\n"
	  "                    --series ID [--db FILE]" },
	{ "apply", cmd_apply, "find the base of a series and apply it in memory",
	  "kreview apply --tree DIR [--base REV] [--branch REF]...\n"
	  "              [--maintainers FILE] [--keep] [--no-3way] [--no-head]\n"
	  "              [--config FILE] (--series ID [--db FILE] | --mbox FILE)" },
	{ "context", cmd_context,
	  "print the code context a review of each patch would send",
	  "kreview context --tree DIR [--json] [--budget BYTES] [--lines N]\n"
	  "                [--base REV] [--branch REF]... [--maintainers FILE]\n"
	  "                [--config FILE] (--series ID [--db FILE] | --mbox FILE)" },
	{ "check", cmd_check, "review a local series before sending it",
	  "kreview check [--tree DIR] [--profile quick|standard|deep]\n"
	  "              [--format text|json|sarif] [--fail-on SEV] [--dry-run]\n"
	  "              [--config FILE] [--db FILE] [--endpoint NAME] [--runs N]\n"
	  "              [--prompts DIR] [--base REV] [--fresh] [--no-verify] [--all]\n"
	  "              [RANGE | MBOX | -]\n"
	  "\n"
	  "Reviews the commits of RANGE (default HEAD, the last commit of the\n"
	  "repository in the current directory, which is also the tree), or\n"
	  "the series in MBOX ('-': standard input; --tree names the tree to\n"
	  "apply it to).  Exit status: 0 no finding at or above --fail-on\n"
	  "(default high), 1 findings at or above it, 2 usage or configuration\n"
	  "error, 3 infrastructure failure (endpoint unreachable, none\n"
	  "configured, quota exhausted)." },
	{ "llm", cmd_llm, "check and use the configured LLM endpoints",
	  "kreview llm ping [--config FILE] [--endpoint NAME] [NAME...]\n"
	  "kreview llm ask [--config FILE] [--endpoint NAME] [--system TEXT]\n"
	  "                [--json-schema FILE] PROMPT|-\n"
	  "\n"
	  "Exit status: 0 success, 1 bad answer, 2 usage or configuration\n"
	  "error, 3 an endpoint failed." },
	{ "bugs", cmd_bugs, "triage the databases of bugs in existing code",
	  "kreview bugs list [--subsystem S] [--status S,...] [--severity S,...]\n"
	  "                  [--sort severity|seen|age] [--limit N] [--json]\n"
	  "kreview bugs show [--json] ID\n"
	  "kreview bugs set ID [status=S] [prio=P] [backburner|unbackburn]\n"
	  "                 [no-reminders] [--reason TEXT]\n"
	  "kreview bugs unset ID no-reminders\n"
	  "kreview bugs move [--maintainers FILE] [--reason TEXT] ID SECTION\n"
	  "kreview bugs dup ID OTHER | undup ID | fix ID COMMIT | unfix ID\n"
	  "kreview bugs reverify [--subsystem S] [--tree DIR] [--rev REV]\n"
	  "                      [--endpoint NAME] [--fresh] [--limit N] [--dry-run]\n"
	  "                      [ID...]\n"
	  "kreview bugs scan-fixes [--tree DIR] [--branch REF]... [--max-count N]\n"
	  "kreview bugs digest --subsystem S [--dry-run]\n"
	  "kreview bugs digest --subsystem S --queue [--maintainers FILE] [--db FILE]\n"
	  "kreview bugs export --format json|html [--subsystem S] [--output DIR]\n"
	  "kreview bugs mail [--maintainers FILE] [--queue [--db FILE]] MAIL|-\n"
	  "\n"
	  "Every command takes --config FILE and --dir DIR (default: bugs.dir,\n"
	  "else <state_dir>/bugs).  reverify asks the LLM verifier about bugs\n"
	  "whose code changed (poked and stale bugs first, at most --limit N\n"
	  "questions); its exit status is 0 when every bug was decided\n"
	  "or marked stale, 1 on errors, 2 usage, 3 when the endpoint failed\n"
	  "(the bugs not decided are left as they were).  See kreview-bugs(1)." },
	{ "review", cmd_review, "review an ingested series and store the result",
	  "kreview review [--db FILE] [--config FILE] [--tree DIR] [--base REV]\n"
	  "               [--format text|json|sarif] [--endpoint NAME] [--fresh]\n"
	  "               SERIES-ID|MSGID\n"
	  "\n"
	  "Runs the review pipeline of 'kreview check' on a series stored by\n"
	  "'kreview ingest' (list mode: findings must pass the verifier) and\n"
	  "stores the review, its usage and its findings in the database." },
	{ "daemon", cmd_daemon, "poll mail sources and review new series",
	  "kreview daemon [--config FILE] [--once] [--check-config] [--verbose]\n"
	  "\n"
	  "Reads the sources of the 'daemon:' configuration section on their\n"
	  "intervals, queues every new complete (or stalled) series revision\n"
	  "once, and reviews them within the concurrency and daily budgets.\n"
	  "Replies to kreview's mail with #kreview commands are applied and\n"
	  "answered through the outbox.  Open bugs are re-verified every\n"
	  "bugs.reverify_interval against bugs.reverify_tree (or daemon.tree),\n"
	  "and at once after a #kreview poke.\n"
	  "SIGHUP reloads the configuration, SIGTERM drains.  See\n"
	  "kreview-daemon(8)." },
	{ "status", cmd_status,
	  "show the daemon's queue, usage, cursors and last bug re-verification",
	  "kreview status [--config FILE] [--db FILE] [--json]" },
	{ "outbox", cmd_outbox, "list, show, send or drop kreview's outgoing mail",
	  "kreview outbox list [--config FILE] [--db FILE] [--state STATE] [--json]\n"
	  "kreview outbox show [--config FILE] [--db FILE] [--raw | --json] ID|MSGID\n"
	  "kreview outbox send [--config FILE] [--db FILE] [--recover] [ID|MSGID...]\n"
	  "kreview outbox drop [--config FILE] [--db FILE] ID|MSGID...\n"
	  "\n"
	  "send without IDs delivers every due mail; with IDs it releases held,\n"
	  "retrying or dead mail and sends it now, embargo waived.  --recover\n"
	  "first hands over again mail left 'sending' by a crash (only when no\n"
	  "daemon runs).  See kreview-outbox(1)." },
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
