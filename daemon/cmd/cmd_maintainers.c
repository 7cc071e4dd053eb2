/*
 * kreview maintainers: map paths to MAINTAINERS sections the way
 * scripts/get_maintainer.pl --sections -f does.
 */
#include "kreview/common.h"
#include "cmd_tree.h"
#include "kreview/cmd.h"
#include "kreview/log.h"
#include "kreview/maint.h"
#include "kreview/strbuf.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

struct tree_dir {
	int fd; /* the top of the kernel tree, or -1 */
	const char *path;
};

static bool tree_is_dir(const char *path, void *ctx)
{
	const struct tree_dir *t = ctx;
	struct stat st;

	/* like Perl's -d: follows symlinks, relative to the tree top */
	if (!*path || *path == '/')
		return false;
	return !fstatat(t->fd, path, &st, 0) && S_ISDIR(st.st_mode);
}

/* A kernel tree has these; get_maintainer.pl checks similar ones. */
static bool looks_like_kernel_tree(const char *dir)
{
	static const char *const marks[] = { "Kbuild", "kernel", "MAINTAINERS",
					     "scripts" };
	struct strbuf p = STRBUF_INIT;
	bool ok = true;

	for (size_t i = 0; ok && i < ARRAY_SIZE(marks); i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, marks[i]);
		ok = !access(p.buf, F_OK);
	}
	strbuf_release(&p);
	return ok;
}

/*
 * File::Spec's canonpath() as the script applies it: collapse "//",
 * drop "." components and a trailing "/"; then, with a tree, a
 * directory gets its "/" back.  Without a tree a trailing "/" given by
 * the user is kept: it says "directory".
 */
static void canon_path(struct strbuf *out, const char *in,
		       const struct tree_dir *t)
{
	bool had_slash = *in && in[strlen(in) - 1] == '/';
	const char *p = in;

	strbuf_reset(out);
	if (*p == '/')
		strbuf_addch(out, '/');
	while (*p) {
		const char *e;
		size_t n;

		while (*p == '/')
			p++;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n && !(n == 1 && *p == '.')) {
			if (out->len && out->buf[out->len - 1] != '/')
				strbuf_addch(out, '/');
			strbuf_add(out, p, n);
		}
		p = e;
	}
	if (!out->len && *in)
		strbuf_addch(out, '.');
	if (t->fd >= 0 ? tree_is_dir(out->buf, (void *)t) : had_slash)
		if (out->len && out->buf[out->len - 1] != '/')
			strbuf_addch(out, '/');
}

static void print_json(const struct strbuf *paths, size_t nr,
		       struct maint_matches *res)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addch(&sb, '{');
	for (size_t i = 0; i < nr; i++) {
		if (i)
			strbuf_addstr(&sb, ", ");
		strbuf_add_json_str(&sb, paths[i].buf, paths[i].len);
		strbuf_addstr(&sb, ": [");
		for (size_t j = 0; j < res[i].nr; j++) {
			const char *t = res[i].v[j].section->title;

			if (j)
				strbuf_addstr(&sb, ", ");
			strbuf_add_json_str(&sb, t, strlen(t));
		}
		strbuf_addch(&sb, ']');
	}
	strbuf_addstr(&sb, "}\n");
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
}

static void print_text(const struct strbuf *paths, size_t nr,
		       struct maint_matches *res, bool depth)
{
	for (size_t i = 0; i < nr; i++) {
		if (nr > 1)
			printf("%s:\n", paths[i].buf);
		for (size_t j = 0; j < res[i].nr; j++) {
			if (nr > 1)
				putchar('\t');
			if (depth)
				printf("%d\t", res[i].v[j].depth);
			printf("%s\n", res[i].v[j].section->title);
		}
	}
}

/*
 * --series: every path of the series (old and new names, sorted as
 * get_maintainer.pl sorts a patch's files) and K: over its subjects,
 * commit messages and +/- lines, through maint_map().
 */
static int print_series(const struct maint *m, const char *id,
			const char *db_path, bool json, bool depth)
{
	struct cmd_tree_src src = { .series_arg = id, .db_path = db_path };
	struct tree_series s = TREE_SERIES_INIT;
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct strbuf text = STRBUF_INIT, sb = STRBUF_INIT;
	char **paths = NULL;
	size_t nr = 0;
	int ret = 1;

	if (cmd_tree_load_series(&s, &src) < 0)
		goto out;
	tree_series_paths(&paths, &nr, &s);
	tree_series_keyword_text(&text, &s);
	maint_matches_init(&mm);
	maint_map(&mm, m, (const char *const *)paths, nr, text.buf, text.len);
	if (mm.regex_errors)
		log_warn("%zu regex matches hit the match limits, "
			 "counted as no match", mm.regex_errors);
	if (json) {
		strbuf_addf(&sb, "{\"series\": %s, \"paths\": [", id);
		for (size_t i = 0; i < nr; i++) {
			if (i)
				strbuf_addstr(&sb, ", ");
			strbuf_add_json_str(&sb, paths[i], strlen(paths[i]));
		}
		strbuf_addstr(&sb, "], \"sections\": [");
		for (size_t i = 0; i < mm.nr; i++) {
			const char *t = mm.v[i].section->title;

			if (i)
				strbuf_addstr(&sb, ", ");
			strbuf_add_json_str(&sb, t, strlen(t));
		}
		strbuf_addstr(&sb, "]}\n");
	} else {
		for (size_t i = 0; i < mm.nr; i++) {
			if (depth && mm.v[i].depth == MAINT_DEPTH_KEYWORD)
				strbuf_addstr(&sb, "K\t");
			else if (depth)
				strbuf_addf(&sb, "%d\t", mm.v[i].depth);
			strbuf_addf(&sb, "%s\n", mm.v[i].section->title);
		}
	}
	fwrite(sb.buf, 1, sb.len, stdout);
	ret = fflush(stdout) ? 1 : 0;
out:
	for (size_t i = 0; i < nr; i++)
		free(paths[i]);
	free(paths);
	maint_matches_release(&mm);
	tree_series_release(&s);
	strbuf_release(&text);
	strbuf_release(&sb);
	return ret;
}

int cmd_maintainers(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "tree", required_argument, NULL, 't' },
		{ "no-tree", no_argument, NULL, 'n' },
		{ "depth", no_argument, NULL, 'd' },
		{ "series", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct maint_opts opts = MAINT_OPTS_INIT;
	struct tree_dir tree = { -1, NULL };
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;
	struct strbuf *paths = NULL;
	struct maint_matches *res = NULL;
	struct maint *m = NULL;
	const char *file = NULL, *tree_arg = NULL;
	const char *series = NULL, *db_path = NULL;
	bool json = false, no_tree = false, depth = false;
	size_t nr = 0, regex_errors = 0;
	int c, ret = 1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:jt:ndh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			tree_arg = optarg;
			break;
		case 'n':
			no_tree = true;
			break;
		case 'd':
			depth = true;
			break;
		case 's':
			series = optarg;
			break;
		case 'D':
			db_path = optarg;
			break;
		case 'h':
			cmd_print_usage(cmd_find("maintainers"), stdout);
			return 0;
		default:
			fprintf(stderr,
				"kreview: maintainers: bad option '%s'\n",
				argv[optind - 1]);
			cmd_print_usage(cmd_find("maintainers"), stderr);
			return 2;
		}
	}
	if (series && optind < argc) {
		fprintf(stderr, "kreview: maintainers: --series takes no "
			"PATH\n");
		cmd_print_usage(cmd_find("maintainers"), stderr);
		return 2;
	}
	if (!series && optind >= argc) {
		fprintf(stderr, "kreview: maintainers: no PATH given\n");
		cmd_print_usage(cmd_find("maintainers"), stderr);
		return 2;
	}
	if (!file) {
		if (access("MAINTAINERS", F_OK)) {
			log_error("no ./MAINTAINERS here; run in the top of a "
				  "kernel tree or give --file FILE");
			return 1;
		}
		file = "MAINTAINERS";
	}

	/* the script tests directories relative to the kernel tree top */
	if (tree_arg) {
		strbuf_addstr(&dir, tree_arg);
	} else if (!no_tree) {
		const char *slash = strrchr(file, '/');

		if (slash)
			strbuf_add(&dir, file, (size_t)(slash - file));
		else
			strbuf_addch(&dir, '.');
		if (!looks_like_kernel_tree(dir.buf))
			strbuf_reset(&dir);
	}
	if (dir.len) {
		tree.fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (tree.fd < 0) {
			log_errno(-errno, "cannot open tree '%s'", dir.buf);
			goto out;
		}
		tree.path = dir.buf;
		opts.is_dir = tree_is_dir;
		opts.is_dir_ctx = &tree;
	}

	if (maint_load_file(&m, file, &opts, &err) < 0) {
		log_error("%s", err.buf);
		goto out;
	}
	for (size_t i = 0; i < maint_diag_count(m); i++) {
		const struct maint_diag *d = maint_diag_at(m, i);

		log_warn("%s:%u: %s", maint_name(m), d->line, d->msg);
	}
	if (series) {
		ret = print_series(m, series, db_path, json, depth);
		goto out;
	}

	paths = xcalloc((size_t)(argc - optind), sizeof(*paths));
	res = xcalloc((size_t)(argc - optind), sizeof(*res));
	for (int i = optind; i < argc; i++) {
		struct strbuf p = STRBUF_INIT;
		bool dup = false;

		if (!*argv[i]) {
			log_error("empty PATH");
			goto out;
		}
		canon_path(&p, argv[i], &tree);
		for (size_t j = 0; j < nr && !dup; j++)
			dup = !strcmp(paths[j].buf, p.buf);
		if (dup) {
			strbuf_release(&p);
			continue;
		}
		paths[nr] = p;
		maint_matches_init(&res[nr]);
		maint_match_path(&res[nr], m, p.buf);
		regex_errors += res[nr].regex_errors;
		nr++;
	}
	if (regex_errors)
		log_warn("%zu regex matches hit the match limits, "
			 "counted as no match", regex_errors);
	if (json)
		print_json(paths, nr, res);
	else
		print_text(paths, nr, res, depth);
	ret = fflush(stdout) ? 1 : 0;
	if (ret)
		log_error("cannot write output");
out:
	for (size_t i = 0; i < nr; i++) {
		strbuf_release(&paths[i]);
		maint_matches_release(&res[i]);
	}
	free(paths);
	free(res);
	maint_free(m);
	if (tree.fd >= 0)
		close(tree.fd);
	strbuf_release(&dir);
	strbuf_release(&err);
	return ret;
}
