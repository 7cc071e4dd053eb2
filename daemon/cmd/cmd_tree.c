/* Helpers shared by the tree commands: cmd_tree.h. */
#include "cmd_tree.h"
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/log.h"
#include "kreview/maint.h"
#include "kreview/strbuf.h"

#include <getopt.h>
#include <git2.h>

int cmd_tree_open_db(struct db **out, const char *db_path,
		     const char *config_path)
{
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	int r = 0;

	if (!db_path) {
		r = config_load(&cfg, config_path, &err);
		if (r < 0) {
			fprintf(stderr, "%s\n", err.buf);
			goto out;
		}
		db_path = cfg->database;
	}
	r = db_open(out, db_path, &err);
	if (r < 0)
		log_error("%s", err.buf);
out:
	config_free(cfg);
	strbuf_release(&err);
	return r;
}

int cmd_tree_load_series(struct tree_series *out,
			 const struct cmd_tree_src *src)
{
	struct strbuf err = STRBUF_INIT;
	struct db *db = NULL;
	int64_t id;
	int r;

	if (src->mbox) {
		r = tree_series_from_mbox(out, src->mbox, &err);
		if (r < 0)
			log_error("cannot read a series from '%s': %s",
				  src->mbox, err.buf);
		goto out;
	}
	r = parse_int64(&id, src->series_arg, 10);
	if (r < 0 || id <= 0) {
		log_error("--series wants a series id (see 'kreview series "
			  "list'), not '%s'", src->series_arg);
		r = -EINVAL;
		goto out;
	}
	r = cmd_tree_open_db(&db, src->db_path, src->config_path);
	if (r < 0)
		goto out;
	r = tree_series_from_db(out, db, id, &err);
	if (r < 0)
		log_error("cannot load series %" PRId64 ": %s", id, err.buf);
out:
	db_close(db);
	strbuf_release(&err);
	return r;
}

struct head_tree {
	git_tree *tree;
};

/* get_maintainer.pl's "-d" test, answered from the tree at HEAD. */
static bool head_is_dir(const char *path, void *ctx)
{
	struct head_tree *h = ctx;
	git_tree_entry *te = NULL;
	bool dir;

	if (!*path || git_tree_entry_bypath(&te, h->tree, path) < 0)
		return false;
	dir = git_tree_entry_type(te) == GIT_OBJECT_TREE;
	git_tree_entry_free(te);
	return dir;
}

int cmd_tree_load_maint(struct maint **out, struct git_repository *repo,
			const char *file)
{
	struct maint_opts mo = MAINT_OPTS_INIT;
	struct strbuf err = STRBUF_INIT, buf = STRBUF_INIT;
	struct head_tree h = { NULL };
	git_object *obj = NULL;
	int r = 0;

	*out = NULL;
	if (git_revparse_single(&obj, repo, "HEAD^{tree}") == 0) {
		h.tree = (git_tree *)obj;
		mo.is_dir = head_is_dir;
		mo.is_dir_ctx = &h;
	}
	if (file) {
		r = maint_load_file(out, file, &mo, &err);
		if (r < 0)
			log_error("%s", err.buf);
		goto out;
	}
	if (!h.tree)
		goto out;
	r = tree_read_file(&buf, repo, git_object_id(obj), "MAINTAINERS",
			   &err);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (!r)
		r = maint_parse(out, buf.buf, buf.len, "HEAD:MAINTAINERS", &mo,
				&err);
	if (r < 0)
		log_error("%s", err.buf);
out:
	git_object_free(obj);
	strbuf_release(&buf);
	strbuf_release(&err);
	return r;
}

int cmd_tree_find_base(struct tree_base *out, struct git_repository *repo,
		       const struct tree_series *s,
		       const struct tree_base_opts *opts, FILE *f)
{
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	int r;

	r = tree_find_base(out, repo, s, opts, &err);
	if (r < 0) {
		log_error("cannot apply %s: %s", s->name, err.buf);
		goto out;
	}
	for (size_t i = 0; f && i < out->nr; i++) {
		strbuf_reset(&line);
		tree_base_format_attempt(&line, out, i, s->nr);
		fprintf(f, "%s\n", line.buf);
	}
	for (size_t i = 0; f && out->found && i < out->notes_nr; i++)
		fprintf(f, "note: %s\n", out->notes[i]);
out:
	strbuf_release(&err);
	strbuf_release(&line);
	return r;
}

bool cmd_tree_opt(struct cmd_tree_args *a, int c, const char *arg)
{
	switch (c) {
	case 't':
		a->dir = arg;
		break;
	case 'b':
		a->bo.base_rev = arg;
		break;
	case 'B':
		a->branches = xrealloc(a->branches,
				       st_mult(a->bo.branches_nr + 1,
					       sizeof(*a->branches)));
		a->branches[a->bo.branches_nr++] = arg;
		a->bo.branches = a->branches;
		break;
	case 'M':
		a->maint_file = arg;
		break;
	case 's':
		a->src.series_arg = arg;
		break;
	case 'm':
		a->src.mbox = arg;
		break;
	case 'd':
		a->src.db_path = arg;
		break;
	case 'c':
		a->src.config_path = arg;
		break;
	default:
		return false;
	}
	return true;
}

bool cmd_tree_args_check(const struct cmd_tree_args *a, const char *cmd,
			 int argc, char **argv)
{
	if (optind == argc && a->dir && !a->src.series_arg != !a->src.mbox)
		return true;
	if (optind != argc)
		log_error("unexpected argument '%s'", argv[optind]);
	else if (!a->dir)
		log_error("--tree DIR is required");
	else
		log_error("give one of --series ID and --mbox FILE");
	cmd_print_usage(cmd_find(cmd), stderr);
	return false;
}

int cmd_tree_open(git_repository **repo, struct tree_series *s,
		  struct maint **m, struct cmd_tree_args *a)
{
	struct strbuf err = STRBUF_INIT;
	int r = tree_open_repo(repo, a->dir, &err);

	if (r < 0)
		log_error("%s", err.buf);
	strbuf_release(&err);
	if (r == 0)
		r = cmd_tree_load_series(s, &a->src);
	if (r == 0)
		r = cmd_tree_load_maint(m, *repo, a->maint_file);
	if (r == 0)
		a->bo.maint = *m;
	return r;
}

void cmd_tree_args_release(struct cmd_tree_args *a)
{
	free(a->branches);
	a->branches = NULL;
	a->bo.branches = NULL;
	a->bo.branches_nr = 0;
}
