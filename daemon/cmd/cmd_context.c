/*
 * kreview context: the code context a review of each patch would send
 * (context.h), after finding the base and applying the series in
 * memory (tree.h).
 */
#include "cmd_tree.h"
#include "kreview/cmd.h"
#include "kreview/context.h"
#include "kreview/log.h"
#include "kreview/maint.h"
#include "kreview/strbuf.h"
#include "kreview/symindex.h"

#include <getopt.h>
#include <git2.h>

struct ctx_args {
	bool json;
	struct context_opts copts;
};

/* Context of every applied patch; 'total' bytes summed. */
static int render_all(struct strbuf *out, size_t *total,
		      git_repository *repo, const struct tree_series *s,
		      const struct tree_base *b, const struct symindex *idx,
		      const struct ctx_args *a)
{
	const struct apply_result *res = &b->result;
	struct strbuf err = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; i < res->patches_nr; i++) {
		const struct tree_patch *p = &s->patches[i];
		struct context c = CONTEXT_INIT;

		r = context_build(&c, repo, &res->trees[i], &res->trees[i + 1],
				  p->body, p->body_len, &res->patches[i], idx,
				  &a->copts, &err);
		if (r < 0) {
			log_error("cannot build the context of patch %zu "
				  "(%s): %s", i + 1, p->subject, err.buf);
			break;
		}
		*total += c.bytes;
		if (a->json) {
			strbuf_addstr(out, i ? ",\n{\"index\":" :
					       "\n{\"index\":");
			strbuf_addf(out, "%zu,\"subject\":", i + 1);
			strbuf_add_json_str(out, p->subject,
					    strlen(p->subject));
			strbuf_addstr(out, ",\"context\":");
			context_render(out, &c, true);
			strbuf_rtrim(out);
			strbuf_addch(out, '}');
		} else {
			strbuf_addf(out, "=== patch %zu/%zu: %s (%zu bytes "
				    "of context) ===\n", i + 1, s->nr,
				    p->subject, c.bytes);
			context_render(out, &c, false);
		}
		context_release(&c);
	}
	strbuf_release(&err);
	return r;
}

int cmd_context(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_TREE_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "budget", required_argument, NULL, 'u' },
		{ "lines", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx_args a = { .copts = CONTEXT_OPTS_INIT };
	struct cmd_tree_args ta = CMD_TREE_ARGS_INIT;
	struct tree_series s = TREE_SERIES_INIT;
	struct tree_base b = TREE_BASE_INIT;
	struct symindex_stats ist = { 0 };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct symindex *idx = NULL;
	git_repository *repo = NULL;
	struct maint *m = NULL;
	size_t total = 0;
	uint64_t v;
	int c, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (cmd_tree_opt(&ta, c, optarg))
			continue;
		switch (c) {
		case 'j':
			a.json = true;
			break;
		case 'u':
		case 'l':
			if (parse_uint64(&v, optarg, 10) < 0 ||
			    v > (c == 'u' ? SIZE_MAX / 2 : 10000)) {
				log_error("--%s wants a number, not '%s'",
					  c == 'u' ? "budget" : "lines",
					  optarg);
				ret = 2;
				goto out;
			}
			if (c == 'u')
				a.copts.budget = (size_t)v;
			else
				a.copts.lines = (unsigned)v;
			break;
		default:
			cmd_print_usage(cmd_find("context"), stderr);
			ret = 2;
			goto out;
		}
	}
	if (!cmd_tree_args_check(&ta, "context", argc, argv)) {
		ret = 2;
		goto out;
	}
	if (cmd_tree_open(&repo, &s, &m, &ta) < 0)
		goto out;
	/* the attempts are diagnostics here (-v): stdout is the context */
	if (cmd_tree_find_base(&b, repo, &s, &ta.bo,
			       log_get_level() >= LOG_LVL_INFO ? stderr :
								 NULL) < 0)
		goto out;
	if (!b.found) {
		for (size_t i = 0; log_get_level() < LOG_LVL_INFO && i < b.nr;
		     i++) {
			strbuf_reset(&out);
			tree_base_format_attempt(&out, &b, i, s.nr);
			fprintf(stderr, "%s\n", out.buf);
		}
		strbuf_reset(&out);
		tree_base_format_failure(&out, &b, &s);
		fputs(out.buf, stderr);
		strbuf_reset(&out);
		if (!b.has_result || !b.result.patches_nr)
			goto out;
		log_warn("context of the %zu patches that applied to %s only",
			 b.result.patches_nr, b.attempts[b.best].rev);
	}
	if (symindex_build(&idx, &ist, repo, &b.result.trees[0], &err) < 0) {
		log_error("cannot index the base tree: %s", err.buf);
		goto out;
	}
	log_info("symbol index: %zu files, %zu definitions, %" PRId64 " ms",
		 ist.files, ist.entries, ist.elapsed_ms);
	if (a.json) {
		strbuf_addstr(&out, "{\"series\":");
		strbuf_add_json_str(&out, s.name, strlen(s.name));
		strbuf_addf(&out, ",\"base\":\"%s\",",
			    git_oid_tostr_s(&b.attempts[b.found ? b.winner :
								    b.best]
						     .commit));
		strbuf_addf(&out, "\"applied\":%zu,\"total\":%zu,"
			    "\"budget\":%zu,\"patches\":[",
			    b.result.patches_nr, s.nr, a.copts.budget);
	}
	if (render_all(&out, &total, repo, &s, &b, idx, &a) < 0)
		goto out;
	if (a.json)
		strbuf_addf(&out, "],\"bytes\":%zu}\n", total);
	else
		strbuf_addf(&out, "=== %zu of %zu patches, %zu bytes of context "
			    "(budget %zu per patch) ===\n",
			    b.result.patches_nr, s.nr, total, a.copts.budget);
	fwrite(out.buf, 1, out.len, stdout);
	ret = fflush(stdout) ? 1 : (b.found ? 0 : 1);
out:
	symindex_free(idx);
	tree_base_release(&b);
	tree_series_release(&s);
	maint_free(m);
	git_repository_free(repo);
	cmd_tree_args_release(&ta);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}
