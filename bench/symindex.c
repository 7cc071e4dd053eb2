/*
 * bench-symindex: how long building a symindex takes and how much memory
 * it holds.
 *
 *   bench-symindex                 synthetic kernel-shaped tree
 *   bench-symindex FILES DISTINCT  synthetic, with FILES paths sharing
 *                                  DISTINCT blob contents
 *   bench-symindex -r REPO [REV]   a real repository (default HEAD)
 *
 * No kernel tree is available offline, so the default generates one:
 * 55,000 .c/.h paths in 2,700 directories (the size of Linux 6.x:
 * about 33k .c and 23k .h files), each blob 8-40 KiB of kernel-style C
 * (license line, includes, #define blocks, structs with nested unions,
 * typedefs, static inline helpers, multi-line signatures,
 * SYSCALL_DEFINE, initializer tables, comments and strings with
 * braces).  4,000 distinct contents are shared among the paths to keep
 * the generator quick; every path is still read and scanned.  The
 * objects live in an in-memory object database (libgit2's mempack), so
 * the figure excludes zlib inflation from a pack, which a real
 * repository adds (run with -r to measure that).
 */
#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/repository.h>
#include <sys/resource.h>

#include "kreview/strbuf.h"
#include "kreview/symindex.h"

static uint32_t rng_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

static void gen_function(struct strbuf *sb, unsigned id, unsigned k)
{
	unsigned i, body = 6 + rnd(30);

	switch (rnd(4)) {
	case 0:
		strbuf_addf(sb, "static inline int f%u_%u(struct s%u_%u *p,\n"
			    "\t\t\t\tunsigned int flags)\n{\n", id, k, id,
			    k % 7);
		break;
	case 1:
		strbuf_addf(sb, "static __cold void\nf%u_%u(struct s%u_%u *p)\n"
			    "{\n", id, k, id, k % 7);
		break;
	case 2:
		strbuf_addf(sb, "SYSCALL_DEFINE3(f%u_%u, unsigned int, fd, "
			    "u32, a,\n\t\tvoid __user *, arg)\n{\n", id, k);
		break;
	default:
		strbuf_addf(sb, "int f%u_%u(struct s%u_%u *p, int x)\n{\n", id,
			    k, id, k % 7);
	}
	strbuf_addstr(sb, "\tstruct s_local *l = p->priv;\n\tint ret = 0;\n\n");
	for (i = 0; i < body; i++) {
		switch (rnd(6)) {
		case 0:
			strbuf_addf(sb, "\tif (unlikely(p->flags & F%u_%u)) {\n"
				    "\t\tret = -EINVAL;\n\t\tgoto out;\n\t}\n",
				    id, i);
			break;
		case 1:
			strbuf_addstr(sb, "\t/* a { brace in a comment */\n");
			break;
		case 2:
			strbuf_addstr(sb, "\tpr_debug(\"value } %d\\n\", ret);\n");
			break;
		case 3:
			strbuf_addf(sb, "\tret = helper_%u(l, x + %u);\n", i, i);
			break;
		default:
			strbuf_addstr(sb, "\tspin_lock(&l->lock);\n"
					  "\tl->count++;\n"
					  "\tspin_unlock(&l->lock);\n");
		}
	}
	strbuf_addstr(sb, "out:\n\treturn ret;\n}\n\n");
}

static void gen_file(struct strbuf *sb, unsigned id, bool header)
{
	unsigned target = 8192 + rnd(32768), k = 0, i;

	strbuf_addf(sb, "// SPDX-License-Identifier: GPL-2.0\n"
		    "#include <linux/kernel.h>\n#include <linux/slab.h>\n"
		    "#include \"local%u.h\"\n\n", id % 50);
	while (sb->len < target) {
		unsigned what = rnd(header ? 5 : 8);

		if (what == 0) {
			for (i = 0; i < 4 + rnd(20); i++)
				strbuf_addf(sb, "#define F%u_%u\t\t(1U << %u)\n",
					    id, k * 32 + i, i % 31);
			strbuf_addf(sb, "#define M%u_%u(x) \\\n\tdo { (x)++; } "
				    "while (0)\n\n", id, k);
		} else if (what == 1) {
			strbuf_addf(sb, "struct s%u_%u {\n\tunion {\n"
				    "\t\tstruct file *file;\n\t\tvoid *priv;\n"
				    "\t};\n\tint (*cb)(int);\n\tspinlock_t "
				    "lock;\n} __packed;\n\n", id, k % 7);
		} else if (what == 2) {
			strbuf_addf(sb, "typedef int (*t%u_%u_fn)(struct s%u_%u "
				    "*);\ntypedef struct {\n\tu32 a;\n} "
				    "t%u_%u_t;\n\n", id, k, id, k % 7, id, k);
		} else if (what == 3) {
			strbuf_addf(sb, "enum e%u_%u {\n\tE%u_%u_A,\n"
				    "\tE%u_%u_B,\n};\n\n", id, k, id, k, id, k);
		} else if (what == 4 && header) {
			gen_function(sb, id, k);
		} else if (what == 4) {
			strbuf_addf(sb, "static const struct ops o%u_%u = {\n"
				    "\t.open = f%u_0,\n};\n\n", id, k, id);
		} else {
			gen_function(sb, id, k);
		}
		k++;
	}
}

static size_t rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (size_t)ru.ru_maxrss;
}

static git_oid *make_blobs(git_repository *repo, unsigned distinct,
			   size_t *bytes)
{
	git_oid *blobs = xcalloc(distinct, sizeof(*blobs));
	struct strbuf sb = STRBUF_INIT;
	unsigned i;

	*bytes = 0;
	for (i = 0; i < distinct; i++) {
		strbuf_reset(&sb);
		gen_file(&sb, i, i % 5 < 2);
		*bytes += sb.len;
		if (git_blob_create_from_buffer(&blobs[i], repo, sb.buf,
						sb.len) < 0)
			die("cannot write blob");
	}
	strbuf_release(&sb);
	return blobs;
}

/* FILES paths in directories of about 20 files, 3 levels deep. */
static void make_tree(git_oid *out, git_repository *repo,
		      const git_oid *blobs, unsigned distinct, unsigned files)
{
	git_treebuilder *root = NULL, *mid = NULL, *leaf = NULL;
	unsigned f = 0, d1, d2;
	char name[64];
	git_oid oid;

	if (git_treebuilder_new(&root, repo, NULL) < 0)
		die("treebuilder");
	for (d1 = 0; f < files; d1++) {
		if (git_treebuilder_new(&mid, repo, NULL) < 0)
			die("treebuilder");
		for (d2 = 0; d2 < 30 && f < files; d2++) {
			unsigned j;

			if (git_treebuilder_new(&leaf, repo, NULL) < 0)
				die("treebuilder");
			for (j = 0; j < 20 && f < files; j++, f++) {
				unsigned b = rnd(distinct);

				snprintf(name, sizeof(name), "file%u.%c", j,
					 b % 5 < 2 ? 'h' : 'c');
				if (git_treebuilder_insert(NULL, leaf, name,
							   &blobs[b],
							   GIT_FILEMODE_BLOB) <
				    0)
					die("insert");
			}
			if (git_treebuilder_write(&oid, leaf) < 0)
				die("write tree");
			git_treebuilder_free(leaf);
			snprintf(name, sizeof(name), "sub%u", d2);
			git_treebuilder_insert(NULL, mid, name, &oid,
					       GIT_FILEMODE_TREE);
		}
		if (git_treebuilder_write(&oid, mid) < 0)
			die("write tree");
		git_treebuilder_free(mid);
		snprintf(name, sizeof(name), "dir%u", d1);
		git_treebuilder_insert(NULL, root, name, &oid,
				       GIT_FILEMODE_TREE);
	}
	if (git_treebuilder_write(out, root) < 0)
		die("write tree");
	git_treebuilder_free(root);
}

static void report(const struct symindex_stats *st, size_t rss_before,
		   const struct symindex *idx)
{
	const struct symindex_entry *e[4];
	int64_t t0 = time_mono_ms();
	size_t n = 0, i;
	char name[32];

	for (i = 0; i < 1000000; i++) {
		int len = snprintf(name, sizeof(name), "f%zu_%zu", i % 4000,
				   i / 4000 % 8);

		n += symindex_lookup(e, 4, idx, name, (size_t)len) > 0;
	}
	printf("files scanned     %zu (%zu skipped over %u bytes)\n",
	       st->files, st->skipped, SYMINDEX_MAX_BLOB);
	printf("bytes scanned     %zu (%.1f MiB)\n", st->bytes,
	       (double)st->bytes / 1048576.0);
	printf("definitions       %zu\n", st->entries);
	printf("build time        %" PRId64 " ms (%.1f MiB/s)\n",
	       st->elapsed_ms,
	       st->elapsed_ms ? (double)st->bytes / 1048576.0 /
					((double)st->elapsed_ms / 1000.0) :
				0.0);
	printf("index memory      %.1f MiB (counted by the index)\n",
	       (double)st->memory / 1048576.0);
	printf("max RSS growth    %.1f MiB\n",
	       (double)(rss_kib() - rss_before) / 1024.0);
	printf("1M lookups        %" PRId64 " ms (%zu names found)\n",
	       time_mono_ms() - t0, n);
}

int main(int argc, char **argv)
{
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	git_odb_backend *mempack = NULL;
	git_oid tree;
	struct symindex *idx = NULL;
	struct symindex_stats st = { 0 };
	struct strbuf err = STRBUF_INIT;
	unsigned files = 55000, distinct = 4000;
	size_t rss, bytes = 0;
	int64_t t0;

	git_libgit2_init();
	if (argc >= 3 && !strcmp(argv[1], "-r")) {
		git_object *obj = NULL;

		if (git_repository_open_ext(&repo, argv[2],
					    GIT_REPOSITORY_OPEN_NO_SEARCH,
					    NULL) < 0 ||
		    git_revparse_single(&obj, repo,
					argc > 3 ? argv[3] : "HEAD") < 0)
			die("cannot open '%s'", argv[2]);
		git_oid_cpy(&tree, git_object_id(obj));
		git_object_free(obj);
		printf("repository        %s %s\n", argv[2],
		       argc > 3 ? argv[3] : "HEAD");
	} else {
		git_oid *blobs;

		if (argc >= 3 && (parse_int((int *)&files, argv[1], 1,
					    10000000) < 0 ||
				  parse_int((int *)&distinct, argv[2], 1,
					    1000000) < 0))
			die("usage: bench-symindex [FILES DISTINCT | -r REPO "
			    "[REV]]");
		if (git_odb_new(&odb) < 0 || git_mempack_new(&mempack) < 0 ||
		    git_odb_add_backend(odb, mempack, 1) < 0 ||
		    git_repository_wrap_odb(&repo, odb) < 0)
			die("cannot set up an in-memory repository");
		t0 = time_mono_ms();
		blobs = make_blobs(repo, distinct, &bytes);
		make_tree(&tree, repo, blobs, distinct, files);
		free(blobs);
		printf("synthetic tree    %u paths, %u distinct blobs "
		       "(%.1f MiB), generated in %" PRId64 " ms\n",
		       files, distinct, (double)bytes / 1048576.0,
		       time_mono_ms() - t0);
	}
	rss = rss_kib();
	if (symindex_build(&idx, &st, repo, &tree, &err) < 0)
		die("symindex_build: %s", err.buf);
	report(&st, rss, idx);
	symindex_free(idx);
	git_repository_free(repo);
	git_odb_free(odb);
	strbuf_release(&err);
	git_libgit2_shutdown();
	return 0;
}
