/*
 * kreview apply: find the base of a series and apply it in memory
 * (tree.h, apply.h).
 */
#include "cmd_tree.h"
#include "kreview/cmd.h"
#include "kreview/hash.h"
#include "kreview/log.h"
#include "kreview/maint.h"
#include "kreview/strbuf.h"

#include <getopt.h>
#include <git2.h>

/* refs/kreview/series/<id> or refs/kreview/mbox/<hash of patch 1>. */
static void keep_prefix(struct strbuf *out, const struct cmd_tree_src *src,
			const struct tree_series *s)
{
	char hex[HASH_HEX + 1];

	if (src->series_arg) {
		strbuf_addf(out, "refs/kreview/series/%s", src->series_arg);
		return;
	}
	hash_git_blob(hex, s->patches[0].msgid, strlen(s->patches[0].msgid));
	strbuf_addf(out, "refs/kreview/mbox/%.12s", hex);
}

int cmd_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "base", required_argument, NULL, 'b' },
		{ "branch", required_argument, NULL, 'B' },
		{ "maintainers", required_argument, NULL, 'M' },
		{ "series", required_argument, NULL, 's' },
		{ "mbox", required_argument, NULL, 'm' },
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-3way", no_argument, NULL, '3' },
		{ "no-head", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct tree_base_opts bo = TREE_BASE_OPTS_INIT;
	struct tree_series s = TREE_SERIES_INIT;
	struct tree_base b = TREE_BASE_INIT;
	struct cmd_tree_src src = { 0 };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf prefix = STRBUF_INIT;
	const char **branches = NULL;
	const char *dir = NULL, *maint_file = NULL;
	git_repository *repo = NULL;
	struct maint *m = NULL;
	bool keep = false;
	int c, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			dir = optarg;
			break;
		case 'b':
			bo.base_rev = optarg;
			break;
		case 'B':
			branches = xrealloc(branches,
					    st_mult(bo.branches_nr + 1,
						    sizeof(*branches)));
			branches[bo.branches_nr++] = optarg;
			break;
		case 'M':
			maint_file = optarg;
			break;
		case 's':
			src.series_arg = optarg;
			break;
		case 'm':
			src.mbox = optarg;
			break;
		case 'd':
			src.db_path = optarg;
			break;
		case 'c':
			src.config_path = optarg;
			break;
		case 'k':
			keep = true;
			break;
		case '3':
			bo.no_threeway = true;
			break;
		case 'H':
			bo.no_head = true;
			break;
		default:
			cmd_print_usage(cmd_find("apply"), stderr);
			ret = 2;
			goto out;
		}
	}
	bo.branches = branches;
	if (optind != argc || !dir || !src.series_arg == !src.mbox) {
		if (optind != argc)
			log_error("unexpected argument '%s'", argv[optind]);
		else if (!dir)
			log_error("--tree DIR is required");
		else
			log_error("give one of --series ID and --mbox FILE");
		cmd_print_usage(cmd_find("apply"), stderr);
		ret = 2;
		goto out;
	}
	if (tree_open_repo(&repo, dir, &err) < 0) {
		log_error("%s", err.buf);
		goto out;
	}
	if (cmd_tree_load_series(&s, &src) < 0)
		goto out;
	if (cmd_tree_load_maint(&m, repo, maint_file) < 0)
		goto out;
	bo.maint = m;
	if (keep) {
		keep_prefix(&prefix, &src, &s);
		bo.keep_prefix = prefix.buf;
	}
	if (cmd_tree_find_base(&b, repo, &s, &bo, stdout) < 0)
		goto out;
	if (!b.found) {
		tree_base_format_failure(&out, &b, &s);
		fputs(out.buf, stdout);
		fflush(stdout);
		goto out;
	}
	if (keep)
		printf("kept %s/0 .. %s/%zu\n", prefix.buf, prefix.buf, s.nr);
	printf("base %s", git_oid_tostr_s(&b.attempts[b.winner].commit));
	printf(" tip %s\n", git_oid_tostr_s(&b.result.trees[b.result.trees_nr -
							     1]));
	ret = fflush(stdout) ? 1 : 0;
out:
	tree_base_release(&b);
	tree_series_release(&s);
	maint_free(m);
	git_repository_free(repo);
	free(branches);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&prefix);
	return ret;
}
