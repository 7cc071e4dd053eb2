/* kreview: LLM review of Linux kernel patch series.  Command dispatch. */
#include "kreview/common.h"
#include "kreview/cmd.h"
#include "kreview/log.h"

#include <curl/curl.h>
#include <git2.h>
#include <gmime/gmime.h>
#include <locale.h>
#include <signal.h>

static void print_main_usage(FILE *f)
{
	fputs("usage: kreview [--version] [--help] [-v|-q] <command> [<args>]\n"
	      "\n"
	      "commands:\n",
	      f);
	for (const struct cmd *c = cmd_table; c->name; c++)
		fprintf(f, "   %-12s %s\n", c->name, c->summary);
	fputs("\n'kreview help <command>' or 'kreview <command> --help' "
	      "describes one command.\n",
	      f);
}

int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		print_main_usage(stdout);
		return 0;
	}
	c = cmd_find(argv[1]);
	if (!c) {
		fprintf(stderr, "kreview: '%s' is not a kreview command\n",
			argv[1]);
		return 2;
	}
	cmd_print_usage(c, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int i = 1, ret;

	setlocale(LC_ALL, "C");
	log_setup();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("kreview %s\n", KREVIEW_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			print_main_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-v") ||
			   !strcmp(argv[i], "--verbose")) {
			log_set_level(log_get_level() < LOG_LVL_DEBUG ?
					      log_get_level() + 1 :
					      LOG_LVL_DEBUG);
		} else if (!strcmp(argv[i], "-q") ||
			   !strcmp(argv[i], "--quiet")) {
			log_set_level(LOG_LVL_WARN);
		} else {
			fprintf(stderr, "kreview: unknown option '%s'\n",
				argv[i]);
			print_main_usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		print_main_usage(stderr);
		return 2;
	}
	c = cmd_find(argv[i]);
	if (!c) {
		fprintf(stderr,
			"kreview: '%s' is not a kreview command, see 'kreview --help'\n",
			argv[i]);
		return 2;
	}
	if (argc - i >= 2 && (!strcmp(argv[i + 1], "--help") ||
			      !strcmp(argv[i + 1], "-h"))) {
		cmd_print_usage(c, stdout);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	git_libgit2_init();
	/*
	 * Like git itself, trust the object store's own checks (zlib,
	 * pack CRCs) instead of re-hashing every object read: hashing was
	 * a third of the time spent reading a public-inbox epoch.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	g_mime_init();
	ret = c->fn(argc - i, argv + i);
	g_mime_shutdown();
	git_libgit2_shutdown();
	curl_global_cleanup();
	return ret;
}
