/*
 * bench-context: time and memory to build the code context of a
 * 25-patch series.
 *
 *   bench-context [FILES]        synthetic kernel-like repository
 *                                (default 6,000 .c/.h files) and a
 *                                synthetic 25-patch series
 *   bench-context -r REPO RANGE  a real repository and range (each
 *                                commit a patch, as "series from-git")
 *
 * Steps measured separately: applying the series in memory
 * (apply_series), indexing the base tree (symindex_build), and
 * context_build for every patch, with the context bytes kept and
 * dropped.  Memory is the growth of the process's peak RSS over each
 * step plus what the symbol index reports holding.  The synthetic
 * repository is written as loose objects in a temporary directory, so
 * blob reads include zlib inflation as in a real repository.
 */
#include <git2.h>
#include <gmime/gmime.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kreview/apply.h"
#include "kreview/context.h"
#include "kreview/fromgit.h"
#include "kreview/strbuf.h"
#include "kreview/symindex.h"
#include "kreview/tree.h"

#define PATCHES 25
#define DIRS 60

static uint32_t rng_state = 4242;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

static long peak_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void die_git(const char *what)
{
	const git_error *e = git_error_last();

	die("%s: %s", what, e && e->message ? e->message : "failed");
}

/* A header: structs and static inline helpers used by the .c files. */
static void gen_header(struct strbuf *sb, unsigned d)
{
	strbuf_addf(sb, "/* SPDX-License-Identifier: GPL-2.0 */\n"
		    "#ifndef _D%u_H\n#define _D%u_H\n\n", d, d);
	for (unsigned k = 0; k < 12; k++) {
		strbuf_addf(sb, "struct d%u_obj%u {\n\tunsigned int flags;\n"
			    "\tstruct list_head node;\n\tvoid *priv;\n"
			    "\tint refs;\n};\n\n", d, k);
		strbuf_addf(sb, "static inline bool d%u_obj%u_busy(struct "
			    "d%u_obj%u *o)\n{\n\treturn o->flags & %u;\n}\n\n",
			    d, k, d, k, 1u << (k % 8));
	}
	strbuf_addf(sb, "#define D%u_MAX_OBJS %u\n\n#endif\n", d, 64 + d);
}

static void gen_source(struct strbuf *sb, unsigned d, unsigned f)
{
	strbuf_addf(sb, "// SPDX-License-Identifier: GPL-2.0\n"
		    "#include <linux/kernel.h>\n#include \"d%u.h\"\n\n", d);
	for (unsigned k = 0; k < 20; k++) {
		unsigned o = rnd(12), lines = 8 + rnd(30);

		strbuf_addf(sb, "static int d%u_f%u_op%u(struct d%u_obj%u *o,\n"
			    "\t\t\t unsigned int issue_flags)\n{\n"
			    "\tint ret = 0;\n\n", d, f, k, d, o);
		for (unsigned l = 0; l < lines; l++)
			strbuf_addf(sb, "\tif (d%u_obj%u_busy(o))\n"
				    "\t\tret += %u; /* step %u */\n", d, o, l,
				    l);
		strbuf_addstr(sb, "\treturn ret;\n}\n\n");
	}
}

struct synth {
	char *dir;
	git_repository *repo;
	git_oid base;
	struct strbuf patches[PATCHES];
	size_t files;
};

static void blob(git_oid *out, git_repository *repo, const struct strbuf *sb)
{
	if (git_blob_create_from_buffer(out, repo, sb->buf, sb->len) < 0)
		die_git("blob");
}

static void make_synth(struct synth *s, unsigned nfiles)
{
	char tmpl[] = "/tmp/bench-context.XXXXXX";
	git_treebuilder *root = NULL;
	git_tree *tree = NULL, *prev = NULL;
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
	unsigned per_dir = nfiles / DIRS ? nfiles / DIRS : 1;
	git_tree_update upd[3];

	if (!mkdtemp(tmpl))
		die("mkdtemp failed");
	s->dir = xstrdup(tmpl);
	if (git_repository_init(&s->repo, s->dir, true) < 0 ||
	    git_treebuilder_new(&root, s->repo, NULL) < 0)
		die_git("init");
	for (unsigned d = 0; d < DIRS; d++) {
		git_treebuilder *tb = NULL;
		git_oid oid, tid;

		if (git_treebuilder_new(&tb, s->repo, NULL) < 0)
			die_git("treebuilder");
		for (unsigned f = 0; f + 1 < per_dir; f++) {
			strbuf_reset(&sb);
			gen_source(&sb, d, f);
			blob(&oid, s->repo, &sb);
			strbuf_reset(&path);
			strbuf_addf(&path, "f%u.c", f);
			git_treebuilder_insert(NULL, tb, path.buf, &oid,
					       GIT_FILEMODE_BLOB);
			s->files++;
		}
		strbuf_reset(&sb);
		gen_header(&sb, d);
		blob(&oid, s->repo, &sb);
		strbuf_reset(&path);
		strbuf_addf(&path, "d%u.h", d);
		git_treebuilder_insert(NULL, tb, path.buf, &oid,
				       GIT_FILEMODE_BLOB);
		s->files++;
		if (git_treebuilder_write(&tid, tb) < 0)
			die_git("write tree");
		strbuf_reset(&path);
		strbuf_addf(&path, "d%u", d);
		git_treebuilder_insert(NULL, root, path.buf, &tid,
				       GIT_FILEMODE_TREE);
		git_treebuilder_free(tb);
	}
	if (git_treebuilder_write(&s->base, root) < 0 ||
	    git_tree_lookup(&prev, s->repo, &s->base) < 0)
		die_git("root tree");
	git_treebuilder_free(root);

	/* 25 patches, each changing 1-3 functions in 1-3 files */
	for (unsigned p = 0; p < PATCHES; p++) {
		git_diff *diff = NULL;
		git_buf buf = GIT_BUF_INIT;
		git_oid next;
		unsigned nf = 1 + rnd(3);

		for (unsigned i = 0; i < nf; i++) {
			unsigned d = rnd(DIRS), f = rnd(per_dir - 1);
			git_tree_entry *te = NULL;
			git_blob *b = NULL;
			char *nl;

			strbuf_reset(&path);
			strbuf_addf(&path, "d%u/f%u.c", d, f);
			if (git_tree_entry_bypath(&te, prev, path.buf) < 0 ||
			    git_blob_lookup(&b, s->repo,
					    git_tree_entry_id(te)) < 0)
				die_git("read blob");
			strbuf_reset(&sb);
			strbuf_add(&sb, git_blob_rawcontent(b),
				   (size_t)git_blob_rawsize(b));
			nl = strstr(sb.buf + rnd((unsigned)sb.len / 2),
				    "/* step");
			if (nl)
				strbuf_insert(&sb, (size_t)(nl - sb.buf),
					      "WARN_ON(!o->priv); ", 19);
			upd[i].action = GIT_TREE_UPDATE_UPSERT;
			upd[i].filemode = GIT_FILEMODE_BLOB;
			upd[i].path = xstrdup(path.buf);
			blob(&upd[i].id, s->repo, &sb);
			git_blob_free(b);
			git_tree_entry_free(te);
		}
		if (git_tree_create_updated(&next, s->repo, prev, nf, upd) < 0 ||
		    git_tree_lookup(&tree, s->repo, &next) < 0 ||
		    git_diff_tree_to_tree(&diff, s->repo, prev, tree, NULL) <
			    0 ||
		    git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH) < 0)
			die_git("patch");
		for (unsigned i = 0; i < nf; i++)
			free((char *)upd[i].path);
		strbuf_add(&s->patches[p], buf.ptr, buf.size);
		git_buf_dispose(&buf);
		git_diff_free(diff);
		git_tree_free(prev);
		prev = tree;
		tree = NULL;
	}
	git_tree_free(prev);
	strbuf_release(&sb);
	strbuf_release(&path);
}

static void run(git_repository *repo, const git_oid *base,
		const char *const *texts, const size_t *lens, size_t nr,
		size_t files)
{
	struct apply_result res = APPLY_RESULT_INIT;
	struct symindex_stats st = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct symindex *idx = NULL;
	size_t bytes = 0, dropped = 0, items = 0;
	long rss0 = peak_kib(), rss1, rss2, rss3;
	int64_t t0, t1, t2, t3;

	t0 = time_mono_ms();
	if (apply_series(&res, repo, base, texts, lens, nr, NULL, &err) < 0)
		die("apply: %s", err.buf);
	if (res.failed) {
		apply_failure_format(&err, &res.failure, 1);
		die("series does not apply: %s", err.buf);
	}
	t1 = time_mono_ms();
	rss1 = peak_kib();
	if (symindex_build(&idx, &st, repo, base, &err) < 0)
		die("symindex: %s", err.buf);
	t2 = time_mono_ms();
	rss2 = peak_kib();
	for (size_t i = 0; i < nr; i++) {
		struct context c = CONTEXT_INIT;

		if (context_build(&c, repo, &res.trees[i], &res.trees[i + 1],
				  texts[i], lens[i], &res.patches[i], idx,
				  NULL, &err) < 0)
			die("context of patch %zu: %s", i + 1, err.buf);
		bytes += c.bytes;
		dropped += c.dropped_bytes;
		items += c.nr;
		context_release(&c);
	}
	t3 = time_mono_ms();
	rss3 = peak_kib();
	printf("tree: %zu files; series: %zu patches\n", files, nr);
	printf("apply_series:    %6" PRId64 " ms  (+%ld KiB peak RSS)\n",
	       t1 - t0, rss1 - rss0);
	printf("symindex_build:  %6" PRId64 " ms  (+%ld KiB peak RSS; index "
	       "holds %zu KiB; %zu files, %zu MiB, %zu definitions)\n",
	       t2 - t1, rss2 - rss1, st.memory / 1024, st.files,
	       st.bytes >> 20, st.entries);
	printf("context_build:   %6" PRId64 " ms  for %zu patches (%.1f ms "
	       "each; +%ld KiB peak RSS)\n", t3 - t2, nr,
	       nr ? (double)(t3 - t2) / (double)nr : 0.0, rss3 - rss2);
	printf("context:         %zu items, %zu bytes kept, %zu bytes "
	       "dropped (budget %u KiB per patch)\n", items, bytes, dropped,
	       48);
	printf("peak RSS:        %ld KiB\n", rss3);
	symindex_free(idx);
	apply_result_release(&res);
	strbuf_release(&err);
}

static int run_real(const char *dir, const char *range)
{
	struct fromgit_series fs = FROMGIT_SERIES_INIT;
	struct tree_series s = TREE_SERIES_INIT;
	struct strbuf err = STRBUF_INIT;
	git_repository *repo = NULL;
	const char **texts;
	size_t *lens;
	git_oid base;

	g_mime_init();
	if (tree_open_repo(&repo, dir, &err) < 0 ||
	    fromgit_range(&fs, repo, range, &err) < 0)
		die("%s", err.buf);
	for (size_t i = 0; i < fs.nr; i++)
		if (tree_series_add(&s, fs.patches[i].raw, fs.patches[i].len,
				    false, fs.patches[i].commit, &err) < 0)
			die("%s", err.buf);
	texts = xcalloc(s.nr, sizeof(*texts));
	lens = xcalloc(s.nr, sizeof(*lens));
	for (size_t i = 0; i < s.nr; i++) {
		texts[i] = s.patches[i].body;
		lens[i] = s.patches[i].body_len;
	}
	git_oid_fromstr(&base, fs.base);
	run(repo, &base, texts, lens, s.nr, 0);
	free(texts);
	free(lens);
	tree_series_release(&s);
	fromgit_series_release(&fs);
	git_repository_free(repo);
	strbuf_release(&err);
	return 0;
}

int main(int argc, char **argv)
{
	struct synth s = { 0 };
	const char *texts[PATCHES];
	size_t lens[PATCHES];
	unsigned nfiles = 6000;
	struct strbuf cmd = STRBUF_INIT;
	int64_t t0;
	int n;

	git_libgit2_init();
	if (argc == 4 && !strcmp(argv[1], "-r"))
		return run_real(argv[2], argv[3]);
	if (argc == 2) {
		if (parse_int(&n, argv[1], 2 * DIRS, 1000000) < 0)
			die("usage: bench-context [FILES] | -r REPO RANGE");
		nfiles = (unsigned)n;
	} else if (argc != 1) {
		die("usage: bench-context [FILES] | -r REPO RANGE");
	}
	t0 = time_mono_ms();
	make_synth(&s, nfiles);
	printf("generated in %" PRId64 " ms (%s)\n", time_mono_ms() - t0,
	       s.dir);
	for (size_t i = 0; i < PATCHES; i++) {
		texts[i] = s.patches[i].buf;
		lens[i] = s.patches[i].len;
	}
	run(s.repo, &s.base, texts, lens, PATCHES, s.files);
	for (size_t i = 0; i < PATCHES; i++)
		strbuf_release(&s.patches[i]);
	git_repository_free(s.repo);
	strbuf_addf(&cmd, "rm -rf '%s'", s.dir);
	if (system(cmd.buf))
		fprintf(stderr, "cannot remove %s\n", s.dir);
	strbuf_release(&cmd);
	free(s.dir);
	git_libgit2_shutdown();
	return 0;
}
