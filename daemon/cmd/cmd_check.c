/* kreview check: review a local series before sending it. */
#include "kreview/bugdb.h"
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/fromgit.h"
#include "kreview/job.h"
#include "kreview/llm.h"
#include "kreview/log.h"
#include "kreview/maint.h"
#include "kreview/prompt.h"
#include "kreview/render.h"
#include "kreview/review.h"
#include "kreview/revinput.h"
#include "kreview/source.h"
#include "kreview/store_series.h"
#include "kreview/strbuf.h"
#include "kreview/subsys.h"
#include "kreview/tree.h"

#include <getopt.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exit statuses of kreview check. */
enum {
	CHECK_CLEAN = 0,
	CHECK_FINDINGS = 1,
	CHECK_USAGE = 2,
	CHECK_INFRA = 3,
};

struct check_opts {
	const char *tree, *profile, *format, *fail_on, *config, *db;
	const char *endpoint, *prompts, *base, *input;
	int runs;
	bool dry_run, fresh, no_verify, all;
};

static void progress_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "kreview: %s\n", line);
}

/* Read every message of an mbox (or stdin) into 'raw'. */
static int read_mbox(struct strbuf **raw, size_t *nr, const char *path,
		     struct strbuf *err)
{
	struct source *src = NULL;
	struct source_msg sm;
	size_t alloc = 0;
	int r;

	r = source_open(&src, SOURCE_MBOX, path, NULL, NULL, err);
	if (r < 0)
		return r;
	while ((r = source_next(src, &sm, err)) != 0) {
		if (r == -E2BIG || r == -EPROTO) {
			fprintf(stderr, "kreview: %s, skipped\n", err->buf);
			strbuf_reset(err);
			continue;
		}
		if (r < 0)
			break;
		ALLOC_GROW(*raw, *nr + 1, alloc);
		strbuf_init(&(*raw)[*nr], 0);
		strbuf_add(&(*raw)[(*nr)++], sm.data, sm.len);
	}
	source_free(src);
	return r < 0 ? r : 0;
}

/* "A..B" stays; a single revision R means the one commit R^..R. */
static void make_range(struct strbuf *out, const char *arg)
{
	if (strstr(arg, ".."))
		strbuf_addstr(out, arg);
	else
		strbuf_addf(out, "%s^..%s", arg, arg);
}

static int build_input(struct review_series *s, git_repository **repo,
		       const struct check_opts *o, size_t budget,
		       const struct subsys_set *rules, struct strbuf *err)
{
	struct maint *maint = NULL;
	struct strbuf *raw = NULL;
	struct revinput_msg *msgs = NULL;
	struct fromgit_series fg = FROMGIT_SERIES_INIT;
	struct stat st;
	size_t nr = 0;
	git_oid base;
	bool have_base = false;
	int r;

	if (!strcmp(o->input, "-") ||
	    (stat(o->input, &st) == 0 && S_ISREG(st.st_mode))) {
		r = read_mbox(&raw, &nr, o->input, err);
		if (r < 0)
			goto out;
		if (o->tree && tree_open_repo(repo, o->tree, err) < 0) {
			r = CHECK_USAGE;
			goto out;
		}
	} else {
		struct strbuf range = STRBUF_INIT;

		r = tree_open_repo(repo, o->tree, err);
		if (r < 0) {
			r = CHECK_USAGE;
			goto out;
		}
		make_range(&range, o->input);
		r = fromgit_range(&fg, *repo, range.buf, err);
		strbuf_release(&range);
		if (r < 0) {
			r = CHECK_USAGE;
			goto out;
		}
		raw = xcalloc(fg.nr + 1, sizeof(*raw));
		for (size_t i = 0; i < fg.nr; i++) {
			strbuf_init(&raw[i], 0);
			strbuf_add(&raw[i], fg.patches[i].raw, fg.patches[i].len);
		}
		nr = fg.nr;
		have_base = git_oid_fromstr(&base, fg.base) == 0;
	}
	msgs = xcalloc(nr + 1, sizeof(*msgs));
	for (size_t i = 0; i < nr; i++) {
		msgs[i].data = raw[i].buf;
		msgs[i].len = raw[i].len;
	}
	r = revinput_from_messages(s, msgs, nr, err);
	if (r < 0) {
		r = CHECK_USAGE;
		goto out;
	}
	if (*repo && !have_base) {
		const char *rev = o->base ? o->base : s->base ? s->base : "HEAD";
		git_object *obj = NULL;

		if (git_revparse_single(&obj, *repo, rev) == 0) {
			git_oid_cpy(&base, git_object_id(obj));
			have_base = true;
		} else {
			fprintf(stderr, "kreview: base '%s' not found in the tree, reviewing the diff alone\n",
				rev);
		}
		git_object_free(obj);
	}
	if (*repo && have_base) {
		struct strbuf why = STRBUF_INIT;

		if (revinput_attach_tree(s, *repo, &base, budget, &why) < 0)
			fprintf(stderr, "kreview: %s; reviewing the diff alone\n",
				why.buf);
		strbuf_reset(&why);
		if (revinput_tree_maintainers(&maint, *repo, &base, &why) < 0 &&
		    why.len)
			fprintf(stderr, "kreview: MAINTAINERS of the tree: %s, ignoring\n",
				why.buf);
		strbuf_release(&why);
	}
	revinput_attach_rules(s, maint, rules);
	r = 0;
out:
	maint_free(maint);
	for (size_t i = 0; i < nr; i++)
		strbuf_release(&raw[i]);
	free(raw);
	free(msgs);
	fromgit_series_release(&fg);
	return r;
}

/*
 * Record the pre-existing findings of 'res' in the bug databases and
 * drop the findings a maintainer marked invalid or wontfix there; a
 * failure costs the bug records, never the review.  With 'db' and
 * 'review_id' the stored findings get the same drop.
 */
static void apply_bugs(struct review_result *res, const struct review_series *s,
		       const struct kreview_config *cfg, struct db *db,
		       int64_t review_id)
{
	struct bugdb_config *def = cfg->bugs ? NULL : bugdb_config_default();
	const struct bugdb_config *bc = cfg->bugs ? cfg->bugs : def;
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT, tag = STRBUF_INIT;
	struct bugdb_review_stats st;
	struct maint *m = NULL;

	bugdb_config_dir(&dir, bc, cfg->state_dir);
	if (bc->maintainers && maint_load_file(&m, bc->maintainers, NULL,
					       &err) < 0) {
		fprintf(stderr, "kreview: bugs.maintainers: %s, ignoring\n",
			err.buf);
		strbuf_reset(&err);
	}
	if (review_id)
		strbuf_addf(&tag, "review %" PRId64, review_id);
	else
		strbuf_addstr(&tag, "check");
	if (bugdb_review_apply(&st, res, s, bc, dir.buf, m, tag.buf, 0,
			       &err) < 0)
		fprintf(stderr, "kreview: bug databases in '%s': %s, ignoring\n",
			dir.buf, err.buf);
	for (size_t i = res->reported; db && i < res->nr; i++) {
		sqlite3_stmt *up;

		if (res->v[i].drop != REVIEW_DROP_SUPPRESSED)
			continue;
		up = db_prepare(db, "UPDATE review_finding SET reported = 0,"
				    " dropped = 'suppressed' WHERE review_id = ?"
				    " AND fingerprint = ?");
		db_bind_int64(up, 1, review_id);
		db_bind_text(up, 2, res->v[i].c.fingerprint);
		if (db_step(db, up, NULL) < 0)
			fprintf(stderr, "kreview: cannot mark a suppressed finding"
					" of review %" PRId64 ", ignoring\n",
				review_id);
		db_done(up);
	}
	maint_free(m);
	bugdb_config_free(def);
	strbuf_release(&dir);
	strbuf_release(&err);
	strbuf_release(&tag);
}

static int severity_threshold(enum finding_severity *out, const char *name)
{
	if (!name) {
		*out = SEV_HIGH;
		return 0;
	}
	return finding_severity_parse(out, name);
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "profile", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "prompts", required_argument, NULL, 'P' },
		{ "runs", required_argument, NULL, 'r' },
		{ "base", required_argument, NULL, 'b' },
		{ "fresh", no_argument, NULL, 'R' },
		{ "no-verify", no_argument, NULL, 'V' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_opts co = { .input = "HEAD" };
	struct review_opts ro = REVIEW_OPTS_INIT;
	struct render_opts rend = RENDER_OPTS_INIT;
	struct review_series s;
	struct review_result res;
	struct kreview_config *cfg = NULL;
	struct prompt_set *prompts = NULL;
	struct llm_engine *engine = NULL;
	struct db *db = NULL;
	git_repository *repo = NULL;
	char *secret = NULL;
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf sdir = STRBUF_INIT;
	struct subsys_set *rules = NULL;
	enum render_format fmt = RENDER_TEXT;
	enum finding_severity fail_on;
	int c, ret = CHECK_USAGE;

	review_series_init(&s);
	review_result_init(&res);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': co.tree = optarg; break;
		case 'p': co.profile = optarg; break;
		case 'f': co.format = optarg; break;
		case 'F': co.fail_on = optarg; break;
		case 'n': co.dry_run = true; break;
		case 'c': co.config = optarg; break;
		case 'd': co.db = optarg; break;
		case 'e': co.endpoint = optarg; break;
		case 'P': co.prompts = optarg; break;
		case 'b': co.base = optarg; break;
		case 'R': co.fresh = true; break;
		case 'V': co.no_verify = true; break;
		case 'a': co.all = true; break;
		case 'r':
			if (parse_int(&co.runs, optarg, 1, 16) < 0) {
				fprintf(stderr, "kreview: --runs wants 1..16, not '%s'\n",
					optarg);
				goto out;
			}
			break;
		default:
			cmd_print_usage(cmd_find("check"), stderr);
			goto out;
		}
	}
	if (optind < argc - 1) {
		cmd_print_usage(cmd_find("check"), stderr);
		goto out;
	}
	if (optind == argc - 1)
		co.input = argv[optind];
	if (co.format && render_format_parse(&fmt, co.format) < 0) {
		fprintf(stderr, "kreview: unknown format '%s' (text, json, sarif)\n",
			co.format);
		goto out;
	}
	if (severity_threshold(&fail_on, co.fail_on) < 0) {
		fprintf(stderr, "kreview: unknown severity '%s' (critical, high, medium, low)\n",
			co.fail_on);
		goto out;
	}
	if (config_load(&cfg, co.config, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	ro.runs = co.runs ? co.runs : cfg->review.runs;
	ro.profile = (enum prompt_profile)cfg->review.profile;
	if (co.profile && prompt_profile_parse(&ro.profile, co.profile) < 0) {
		fprintf(stderr, "kreview: unknown profile '%s' (quick, standard, deep)\n",
			co.profile);
		goto out;
	}
	ro.verify = cfg->review.verify && !co.no_verify;
	ro.local = true;
	ro.fresh = co.fresh;
	prompt_find_dir(&dir, co.prompts ? co.prompts : cfg->review.prompts);
	if (prompt_set_load(&prompts, dir.buf, &err) < 0) {
		fprintf(stderr, "kreview: cannot load the prompts in '%s':\n%s",
			dir.buf, err.buf);
		goto out;
	}
	ro.prompts = prompts;

	strbuf_reset(&err);
	subsys_find_dir(&sdir, cfg->review.subsystems);
	if (subsys_set_load_dir(&rules, sdir.buf, &err) < 0) {
		fprintf(stderr, "kreview: cannot load the subsystem rules in '%s':\n%s",
			sdir.buf, err.buf);
		if (cfg->review.subsystems) {
			ret = CHECK_USAGE;
			goto out;
		}
		fputs("kreview: reviewing without subsystem rules\n", stderr);
		rules = NULL;
	}
	strbuf_reset(&err);
	ret = build_input(&s, &repo, &co, (size_t)cfg->review.context_budget,
			  rules, &err);
	if (ret) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}

	strbuf_reset(&err);
	if (cmd_llm_engine(&engine, cfg, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		ret = CHECK_USAGE;
		goto out;
	}
	ro.engine = engine;
	ro.endpoint = co.endpoint ? co.endpoint :
		      cfg->review.endpoint ? cfg->review.endpoint :
		      cfg->endpoints && cfg->endpoints->nr ?
					     cfg->endpoints->eps[0].name :
					     NULL;
	for (size_t i = 0; i < cfg->review.stages.nr; i++) {
		enum prompt_stage st =
			prompt_stage_from_name(cfg->review.stages.keys[i]);

		if (st == PROMPT_STAGE_MAX) {
			fprintf(stderr, "kreview: review.stages: unknown stage '%s'\n",
				cfg->review.stages.keys[i]);
			ret = CHECK_USAGE;
			goto out;
		}
		ro.stage_endpoint[st] = cfg->review.stages.values[i];
	}
	if (co.dry_run || !ro.endpoint) {
		struct strbuf notes = STRBUF_INIT;

		review_fit_budget(&s, &ro, (uint64_t)cfg->review.token_budget,
				  &notes);
		review_plan(&out, &s, &ro);
		strbuf_addbuf(&out, &notes);
		strbuf_release(&notes);
		fputs(out.buf, stdout);
		if (!ro.endpoint) {
			fputs("\nkreview: no LLM endpoint is configured and no local"
			      " server answered on 127.0.0.1:8080 (llama.cpp)\nor"
			      " 127.0.0.1:11434 (Ollama), so this was only the plan.\n"
			      "Start one of those, or add an endpoint to"
			      " ~/.config/kreview/config.yaml, for example:\n\n"
			      "  endpoints:\n"
			      "    - name: local\n"
			      "      dialect: openai\n"
			      "      url: http://127.0.0.1:8080/v1\n"
			      "      model: qwen2.5-coder-32b-instruct\n\n"
			      "or a hosted model with key_env: naming the variable that"
			      " holds its key.\nSee kreview.yaml(5).\n",
			      stderr);
			ret = co.dry_run ? CHECK_CLEAN : CHECK_INFRA;
		} else {
			ret = CHECK_CLEAN;
		}
		goto out;
	}
	for (int st = 0; st < PROMPT_STAGE_MAX; st++) {
		const char *e = ro.stage_endpoint[st] ? ro.stage_endpoint[st] :
							ro.endpoint;

		if (!llm_engine_endpoint(engine, e)) {
			fprintf(stderr, "kreview: no endpoint named '%s'\n", e);
			ret = CHECK_USAGE;
			goto out;
		}
	}
	strbuf_reset(&err);
	if (co.db || cfg->database) {
		if (db_open(&db, co.db ? co.db : cfg->database, &err) < 0) {
			fprintf(stderr, "kreview: %s (the answer cache is off)\n",
				err.buf);
			db = NULL;
		}
	}
	ro.cache = db;
	if (db && review_fence_secret(&secret, db) == 0)
		ro.fence_secret = secret;
	if (isatty(STDERR_FILENO)) {
		ro.progress = progress_line;
		ro.progress_ctx = NULL;
	}
	strbuf_reset(&err);
	review_fit_budget(&s, &ro, (uint64_t)cfg->review.token_budget,
			  &res.notes);
	if (review_run(&res, &s, &ro, &err) < 0) {
		fprintf(stderr, "kreview: review failed: %s\n", err.buf);
		ret = CHECK_INFRA;
		goto out;
	}
	apply_bugs(&res, &s, cfg, NULL, 0);
	rend.colour = fmt == RENDER_TEXT && isatty(STDOUT_FILENO);
	rend.include_dropped = co.all;
	render_result(&out, &s, &res, fmt, &rend);
	fputs(out.buf, stdout);
	if (res.errors.len)
		fprintf(stderr, "kreview: some requests failed:\n%s", res.errors.buf);
	ret = CHECK_CLEAN;
	for (size_t i = 0; i < res.reported; i++)
		if (res.v[i].c.severity >= fail_on)
			ret = CHECK_FINDINGS;
out:
	review_result_release(&res);
	review_series_release(&s);
	llm_engine_free(engine);
	prompt_set_free(prompts);
	db_close(db);
	git_repository_free(repo);
	config_free(cfg);
	free(secret);
	subsys_set_free(rules);
	strbuf_release(&sdir);
	strbuf_release(&err);
	strbuf_release(&dir);
	strbuf_release(&out);
	return ret;
}

/* ---- kreview review: the same pipeline on an ingested series ---- */

int cmd_review(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "tree", required_argument, NULL, 't' },
		{ "base", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "fresh", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db_path = NULL, *config_path = NULL, *format = NULL;
	struct job_opts jo = JOB_OPTS_INIT;
	struct render_opts rend = RENDER_OPTS_INIT;
	struct job_result jr;
	struct kreview_config *cfg = NULL;
	struct llm_engine *engine = NULL;
	struct db *db = NULL;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	enum render_format fmt = RENDER_TEXT;
	int64_t series = 0;
	int c, ret = CHECK_USAGE;

	job_result_init(&jr);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_path = optarg; break;
		case 'c': config_path = optarg; break;
		case 't': jo.tree = optarg; break;
		case 'b': jo.base_rev = optarg; break;
		case 'f': format = optarg; break;
		case 'e': jo.endpoint = optarg; break;
		case 'R': jo.fresh = true; break;
		default:
			cmd_print_usage(cmd_find("review"), stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		cmd_print_usage(cmd_find("review"), stderr);
		goto out;
	}
	if (format && render_format_parse(&fmt, format) < 0) {
		fprintf(stderr, "kreview: unknown format '%s'\n", format);
		goto out;
	}
	if (config_load(&cfg, config_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	ret = CHECK_INFRA;
	if (db_open(&db, db_path ? db_path : cfg->database, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (parse_int64(&series, argv[optind], 10) < 0 || series <= 0) {
		const char *id = argv[optind];

		if (*id == '<')
			id++;
		if (store_series_of_msgid(&series, db, id, &err) < 0) {
			fprintf(stderr, "kreview: no series '%s'\n", argv[optind]);
			ret = CHECK_USAGE;
			goto out;
		}
	}
	strbuf_reset(&err);
	if (cmd_llm_engine(&engine, cfg, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		ret = CHECK_USAGE;
		goto out;
	}
	jo.engine = engine;
	jo.note = progress_line;
	strbuf_reset(&err);
	if (job_review(&jr, db, cfg, series, &jo, &err) < 0) {
		fprintf(stderr, "kreview: series %" PRId64 ": %s\n", series,
			err.buf);
		ret = jr.infra ? CHECK_INFRA : CHECK_USAGE;
		goto out;
	}
	apply_bugs(&jr.res, &jr.s, cfg, db, jr.review_id);
	render_result(&out, &jr.s, &jr.res, fmt, &rend);
	fputs(out.buf, stdout);
	fprintf(stderr, "kreview: review %" PRId64 " of series %" PRId64
			" stored: %zu findings reported, %zu dropped\n",
		jr.review_id, series, jr.res.reported,
		jr.res.nr - jr.res.reported);
	ret = 0;
out:
	job_result_release(&jr);
	llm_engine_free(engine);
	db_close(db);
	config_free(cfg);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}
