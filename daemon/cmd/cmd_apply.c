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
		CMD_TREE_OPTIONS,
		{ "keep", no_argument, NULL, 'k' },
		{ "no-3way", no_argument, NULL, '3' },
		{ "no-head", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_tree_args ta = CMD_TREE_ARGS_INIT;
	struct tree_series s = TREE_SERIES_INIT;
	struct tree_base b = TREE_BASE_INIT;
	struct strbuf out = STRBUF_INIT, prefix = STRBUF_INIT;
	git_repository *repo = NULL;
	struct maint *m = NULL;
	bool keep = false;
	int c, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (cmd_tree_opt(&ta, c, optarg))
			continue;
		switch (c) {
		case 'k':
			keep = true;
			break;
		case '3':
			ta.bo.no_threeway = true;
			break;
		case 'H':
			ta.bo.no_head = true;
			break;
		default:
			cmd_print_usage(cmd_find("apply"), stderr);
			ret = 2;
			goto out;
		}
	}
	if (!cmd_tree_args_check(&ta, "apply", argc, argv)) {
		ret = 2;
		goto out;
	}
	if (cmd_tree_open(&repo, &s, &m, &ta) < 0)
		goto out;
	if (keep) {
		keep_prefix(&prefix, &ta.src, &s);
		ta.bo.keep_prefix = prefix.buf;
	}
	if (cmd_tree_find_base(&b, repo, &s, &ta.bo, stdout) < 0)
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
	cmd_tree_args_release(&ta);
	strbuf_release(&out);
	strbuf_release(&prefix);
	return ret;
}
