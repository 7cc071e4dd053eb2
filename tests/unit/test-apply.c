/*
 * Tests for the in-memory series applier.  Every test builds its own
 * repository with libgit2 in a temporary directory; patches are made
 * with libgit2's diff printer (so index lines name real blobs) or taken
 * from tests/data/tree.  When the git command is installed, results are
 * compared with what "git am" / "git am -3" produces on the same
 * repository.
 */
#include "testutil.h"

#include <git2.h>
#include <sys/wait.h>

#include "kreview/apply.h"

struct fx {
	char *dir;
	git_repository *repo;
	git_oid empty;
};

struct file_spec {
	const char *path;
	const char *content; /* NULL: remove */
	unsigned mode;	     /* 0: regular file */
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	git_treebuilder *tb = NULL;

	git_libgit2_init();
	fx->dir = test_mkdtemp();
	assert_int_equal(git_repository_init(&fx->repo, fx->dir, false), 0);
	assert_int_equal(git_treebuilder_new(&tb, fx->repo, NULL), 0);
	assert_int_equal(git_treebuilder_write(&fx->empty, tb), 0);
	git_treebuilder_free(tb);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	git_repository_free(fx->repo);
	git_libgit2_shutdown();
	test_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* A tree: 'base' (NULL: empty) with the files of 'spec' set. */
static void make_tree(git_oid *out, struct fx *fx, const git_oid *base,
		      const struct file_spec *spec, size_t n)
{
	git_tree_update *upd = xcalloc(n, sizeof(*upd));
	git_tree *tree = NULL;
	size_t i;

	assert_int_equal(git_tree_lookup(&tree, fx->repo,
					 base ? base : &fx->empty), 0);
	for (i = 0; i < n; i++) {
		upd[i].path = spec[i].path;
		if (!spec[i].content) {
			upd[i].action = GIT_TREE_UPDATE_REMOVE;
			continue;
		}
		upd[i].action = GIT_TREE_UPDATE_UPSERT;
		upd[i].filemode = spec[i].mode ? spec[i].mode :
						 GIT_FILEMODE_BLOB;
		assert_int_equal(git_blob_create_from_buffer(
					 &upd[i].id, fx->repo, spec[i].content,
					 strlen(spec[i].content)), 0);
	}
	assert_int_equal(git_tree_create_updated(out, fx->repo, tree, n, upd),
			 0);
	git_tree_free(tree);
	free(upd);
}

static void make_commit(git_oid *out, struct fx *fx, const git_oid *tree_id,
			const git_oid *parent_id)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	const git_commit *parents[1];

	assert_int_equal(git_signature_new(&sig, "T", "t@example.org",
					   1700000000, 0), 0);
	assert_int_equal(git_tree_lookup(&tree, fx->repo, tree_id), 0);
	if (parent_id) {
		assert_int_equal(git_commit_lookup(&parent, fx->repo,
						   parent_id), 0);
		parents[0] = parent;
	}
	assert_int_equal(git_commit_create(out, fx->repo, NULL, sig, sig,
					   NULL, "c\n", tree,
					   parent ? 1 : 0, parents), 0);
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
}

/* A "git format-patch" style mail turning tree 'a' into tree 'b'. */
static void make_patch(struct strbuf *out, struct fx *fx, const git_oid *a,
		       const git_oid *b, const char *subject)
{
	git_tree *ta = NULL, *tb = NULL;
	git_diff *diff = NULL;
	git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
	git_diff_find_options fopts = GIT_DIFF_FIND_OPTIONS_INIT;
	git_buf buf = GIT_BUF_INIT;

	assert_int_equal(git_tree_lookup(&ta, fx->repo, a), 0);
	assert_int_equal(git_tree_lookup(&tb, fx->repo, b), 0);
	assert_int_equal(git_diff_tree_to_tree(&diff, fx->repo, ta, tb,
					       &dopts), 0);
	fopts.flags = GIT_DIFF_FIND_RENAMES;
	assert_int_equal(git_diff_find_similar(diff, &fopts), 0);
	assert_int_equal(git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH),
			 0);
	strbuf_addf(out,
		    "From 0000000000000000000000000000000000000000 Mon Sep 17 "
		    "00:00:00 2001\n"
		    "From: Test Author <author@example.org>\n"
		    "Date: Mon, 29 Jan 2024 13:23:45 -0700\n"
		    "Subject: [PATCH] %s\n\n"
		    "Why this change.\n\n"
		    "Signed-off-by: Test Author <author@example.org>\n"
		    "---\n",
		    subject);
	strbuf_add(out, buf.ptr, buf.size);
	strbuf_addstr(out, "-- \n2.39.5\n\n");
	git_buf_dispose(&buf);
	git_diff_free(diff);
	git_tree_free(ta);
	git_tree_free(tb);
}

static bool have_git(void)
{
	return system("git --version >/dev/null 2>&1") == 0;
}

/*
 * Run "git am [-3]" with the patches on top of commit 'base' in the
 * test repository and return the resulting tree id (hex), or "" when
 * git am failed.  Returns false when git is not installed.
 */
static bool git_am_tree(char *tree_hex, struct fx *fx, const git_oid *base,
			const struct strbuf *patches, size_t n, bool threeway)
{
	struct strbuf cmd = STRBUF_INIT, out = STRBUF_INIT;
	FILE *p;
	size_t i;
	int status;

	if (!have_git())
		return false;
	for (i = 0; i < n; i++) {
		struct strbuf path = STRBUF_INIT;
		FILE *f;

		strbuf_addf(&path, "%s/.git/p%zu.patch", fx->dir, i);
		f = fopen(path.buf, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(patches[i].buf, 1, patches[i].len, f),
				 patches[i].len);
		fclose(f);
		strbuf_release(&path);
	}
	strbuf_addf(&cmd,
		    "cd '%s' && export GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent "
		    "&& g='git -c user.name=T -c user.email=t@example.org' && "
		    "$g checkout -q -f --detach %s 2>/dev/null && "
		    "$g clean -qfdx && { $g am -q %s",
		    fx->dir, git_oid_tostr_s(base), threeway ? "-3" : "");
	for (i = 0; i < n; i++)
		strbuf_addf(&cmd, " .git/p%zu.patch", i);
	strbuf_addstr(&cmd, " >/dev/null 2>&1 && git rev-parse HEAD^{tree}"
			    " || { $g am --abort >/dev/null 2>&1; echo; }; }");
	p = popen(cmd.buf, "r");
	assert_non_null(p);
	assert_int_equal(strbuf_read_fd(&out, fileno(p), 4096), 0);
	status = pclose(p);
	assert_true(WIFEXITED(status));
	strbuf_trim(&out);
	assert_true(out.len < GIT_OID_HEXSZ + 1);
	memcpy(tree_hex, out.buf, out.len + 1);
	strbuf_release(&out);
	strbuf_release(&cmd);
	return true;
}

/* Apply 'patches' to 'base' and expect success. */
static void apply_ok(struct apply_result *res, struct fx *fx,
		     const git_oid *base, const struct strbuf *patches,
		     size_t n)
{
	const char **texts = xcalloc(n, sizeof(*texts));
	size_t *lens = xcalloc(n, sizeof(*lens));
	struct strbuf err = STRBUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		texts[i] = patches[i].buf;
		lens[i] = patches[i].len;
	}
	assert_int_equal(apply_series(res, fx->repo, base, texts, lens, n,
				      NULL, &err), 0);
	if (res->failed) {
		struct strbuf sb = STRBUF_INIT;

		apply_failure_format(&sb, &res->failure, 1);
		fail_msg("unexpected failure: %s", sb.buf);
	}
	assert_int_equal(res->trees_nr, n + 1);
	free(texts);
	free(lens);
	strbuf_release(&err);
}

static void apply_fails(struct apply_result *res, struct fx *fx,
			const git_oid *base, const struct strbuf *patches,
			size_t n, const struct apply_opts *opts)
{
	const char **texts = xcalloc(n, sizeof(*texts));
	size_t *lens = xcalloc(n, sizeof(*lens));
	size_t i;

	for (i = 0; i < n; i++) {
		texts[i] = patches[i].buf;
		lens[i] = patches[i].len;
	}
	assert_int_equal(apply_series(res, fx->repo, base, texts, lens, n,
				      opts, NULL), 0);
	assert_true(res->failed);
	free(texts);
	free(lens);
}

/* Our tip tree must equal git am's when git is around. */
static void check_against_git(struct fx *fx, const git_oid *base_tree,
			      const struct strbuf *patches, size_t n,
			      bool threeway, const git_oid *ours)
{
	git_oid commit;
	char hex[GIT_OID_HEXSZ + 1];

	make_commit(&commit, fx, base_tree, NULL);
	if (!git_am_tree(hex, fx, &commit, patches, n, threeway))
		return;
	assert_string_equal(hex, git_oid_tostr_s(ours));
}

/* "<prefix> N<suffix>\n" for N in [from, to] */
static char *numbered_lines(int from, int to, const char *prefix,
			    const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	for (i = from; i <= to; i++)
		strbuf_addf(&sb, "%s %d%s\n", prefix, i, suffix);
	return strbuf_detach(&sb, NULL);
}

static void test_exact(void **state)
{
	struct fx *fx = *state;
	char *v1 = numbered_lines(1, 30, "\tline", ";");
	struct strbuf v2 = STRBUF_INIT, patch = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid a, b;
	const char *mid;

	strbuf_addstr(&v2, v1);
	mid = strstr(v2.buf, "\tline 15;\n");
	strbuf_insert(&v2, (size_t)(mid - v2.buf), "\tadded();\n", 10);
	make_tree(&a, fx, NULL,
		  (struct file_spec[]){ { "dir/f.c", v1, 0 },
					{ "other.txt", "x\n", 0 } }, 2);
	make_tree(&b, fx, &a, (struct file_spec[]){ { "dir/f.c", v2.buf, 0 } },
		  1);
	make_patch(&patch, fx, &a, &b, "exact");
	apply_ok(&res, fx, &a, &patch, 1);
	assert_true(git_oid_equal(&res.trees[0], &a));
	assert_true(git_oid_equal(&res.trees[1], &b));
	assert_int_equal(res.patches_nr, 1);
	assert_int_equal(res.patches[0].files_nr, 1);
	assert_string_equal(res.patches[0].files[0].new_path, "dir/f.c");
	assert_int_equal(res.patches[0].files[0].hunks_nr, 1);
	assert_int_equal(res.patches[0].files[0].hunks[0].offset, 0);
	assert_int_equal(res.patches[0].files[0].hunks[0].applied_line, 12);
	assert_false(res.patches[0].files[0].hunks[0].threeway);
	check_against_git(fx, &a, &patch, 1, false, &res.trees[1]);
	apply_result_release(&res);
	strbuf_release(&v2);
	strbuf_release(&patch);
	free(v1);
}

/* The context moved down by 5 lines (and a second hunk by 7). */
static void test_offset(void **state)
{
	struct fx *fx = *state;
	char *v1 = numbered_lines(1, 60, "\tline", ";");
	struct strbuf v2 = STRBUF_INIT, moved = STRBUF_INIT,
		      patch = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid a, b, base;
	const struct apply_hunk *h;
	char *p;

	strbuf_addstr(&v2, v1);
	p = strstr(v2.buf, "\tline 10;\n");
	strbuf_remove(&v2, (size_t)(p - v2.buf), 10);
	p = strstr(v2.buf, "\tline 50;\n");
	strbuf_insert(&v2, (size_t)(p - v2.buf), "\tnew50();\n", 10);
	make_tree(&a, fx, NULL, (struct file_spec[]){ { "f.c", v1, 0 } }, 1);
	make_tree(&b, fx, &a, (struct file_spec[]){ { "f.c", v2.buf, 0 } }, 1);
	make_patch(&patch, fx, &a, &b, "offset");
	/* the base has 5 more lines on top and 2 more in the middle */
	strbuf_addstr(&moved, "a\nb\nc\nd\ne\n");
	strbuf_addstr(&moved, v1);
	p = strstr(moved.buf, "\tline 30;\n");
	strbuf_insert(&moved, (size_t)(p - moved.buf), "x\ny\n", 4);
	make_tree(&base, fx, NULL,
		  (struct file_spec[]){ { "f.c", moved.buf, 0 } }, 1);
	apply_ok(&res, fx, &base, &patch, 1);
	h = res.patches[0].files[0].hunks;
	assert_int_equal(res.patches[0].files[0].hunks_nr, 2);
	assert_int_equal(h[0].offset, 5);
	assert_int_equal(h[0].applied_line, h[0].old_start + 5);
	assert_int_equal(h[1].offset, 7);
	assert_false(h[1].threeway);
	check_against_git(fx, &base, &patch, 1, false, &res.trees[1]);
	apply_result_release(&res);
	strbuf_release(&v2);
	strbuf_release(&moved);
	strbuf_release(&patch);
	free(v1);
}

/*
 * The context of the hunk was changed in the base (a line right next
 * to the change was edited), so it applies only through the 3-way
 * merge with the pre-image blob named by the index line.
 */
static void test_threeway(void **state)
{
	struct fx *fx = *state;
	char *v1 = numbered_lines(1, 40, "\tline", ";");
	struct strbuf v2 = STRBUF_INIT, based = STRBUF_INIT,
		      patch = STRBUF_INIT, sb = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	struct apply_opts opts = APPLY_OPTS_INIT;
	git_oid a, b, base;
	char *p;

	strbuf_addstr(&v2, v1);
	p = strstr(v2.buf, "\tline 20;\n");
	strbuf_remove(&v2, (size_t)(p - v2.buf), 10);
	strbuf_insert(&v2, (size_t)(p - v2.buf), "\tline twenty;\n", 14);
	make_tree(&a, fx, NULL, (struct file_spec[]){ { "m.c", v1, 0 } }, 1);
	make_tree(&b, fx, &a, (struct file_spec[]){ { "m.c", v2.buf, 0 } }, 1);
	make_patch(&patch, fx, &a, &b, "threeway");
	strbuf_addstr(&based, v1);
	p = strstr(based.buf, "\tline 18;\n");
	strbuf_remove(&based, (size_t)(p - based.buf), 10);
	strbuf_insert(&based, (size_t)(p - based.buf), "\tline 18 (edited);\n",
		      19);
	make_tree(&base, fx, NULL,
		  (struct file_spec[]){ { "m.c", based.buf, 0 } }, 1);

	/* plain git am: refused, with the reason */
	opts.no_threeway = true;
	apply_fails(&res, fx, &base, &patch, 1, &opts);
	assert_int_equal(res.failure.status, APPLY_CONTEXT_NOT_FOUND);
	assert_int_equal(res.failure.patch, 0);
	assert_string_equal(res.failure.path, "m.c");
	assert_int_equal(res.failure.hunk, 1);
	assert_string_equal(res.failure.hunk_header, "@@ -17,7 +17,7 @@");
	assert_int_equal(res.failure.line, 17);
	apply_failure_format(&sb, &res.failure, 1);
	assert_string_equal(sb.buf,
			    "patch 1: m.c: hunk #1 (@@ -17,7 +17,7 @@) at line "
			    "17: context not found: line 18 differs: expected "
			    "'\\tline 18;', found '\\tline 18 (edited);'; no "
			    "exact match at any other line");
	apply_result_release(&res);

	apply_ok(&res, fx, &base, &patch, 1);
	assert_true(res.patches[0].files[0].threeway);
	assert_true(res.patches[0].files[0].hunks[0].threeway);
	assert_int_equal(res.patches[0].files[0].hunks[0].applied_line, 0);
	check_against_git(fx, &base, &patch, 1, true, &res.trees[1]);
	apply_result_release(&res);
	strbuf_release(&v2);
	strbuf_release(&based);
	strbuf_release(&patch);
	strbuf_release(&sb);
	free(v1);
}

/* The base changed the very lines the patch changes: a conflict. */
static void test_conflict(void **state)
{
	struct fx *fx = *state;
	char *v1 = numbered_lines(1, 40, "\tline", ";");
	struct strbuf v2 = STRBUF_INIT, based = STRBUF_INIT,
		      patch = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid a, b, base;
	char *p;

	strbuf_addstr(&v2, v1);
	p = strstr(v2.buf, "\tline 20;\n");
	strbuf_insert(&v2, (size_t)(p - v2.buf), "\tours();\n", 9);
	make_tree(&a, fx, NULL, (struct file_spec[]){ { "c.c", v1, 0 } }, 1);
	make_tree(&b, fx, &a, (struct file_spec[]){ { "c.c", v2.buf, 0 } }, 1);
	make_patch(&patch, fx, &a, &b, "conflict");
	strbuf_addstr(&based, v1);
	p = strstr(based.buf, "\tline 20;\n");
	strbuf_insert(&based, (size_t)(p - based.buf), "\ttheirs();\n", 11);
	make_tree(&base, fx, NULL,
		  (struct file_spec[]){ { "c.c", based.buf, 0 } }, 1);
	apply_fails(&res, fx, &base, &patch, 1, NULL);
	assert_int_equal(res.failure.status, APPLY_MERGE_CONFLICT);
	assert_string_equal(res.failure.path, "c.c");
	assert_int_equal(res.failure.hunk, 1);
	assert_non_null(strstr(res.failure.detail, "left conflicts"));
	assert_int_equal(res.trees_nr, 1);
	assert_int_equal(res.patches_nr, 0);
	check_against_git(fx, &base, &patch, 1, true, NULL);
	apply_result_release(&res);
	strbuf_release(&v2);
	strbuf_release(&based);
	strbuf_release(&patch);
	free(v1);
}

/* Context changed and the index line names a blob we do not have. */
static void test_context_not_found(void **state)
{
	struct fx *fx = *state;
	struct strbuf patch = STRBUF_INIT, sb = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid base;

	make_tree(&base, fx, NULL,
		  (struct file_spec[]){ { "x.c", "a\nb\nc\nd\n", 0 } }, 1);
	strbuf_addstr(&patch,
		      "diff --git a/x.c b/x.c\n"
		      "index 0123456789ab..ba9876543210 100644\n"
		      "--- a/x.c\n+++ b/x.c\n"
		      "@@ -1,3 +1,3 @@ int main(void)\n a\n-B\n+b2\n c\n");
	apply_fails(&res, fx, &base, &patch, 1, NULL);
	apply_failure_format(&sb, &res.failure, 1);
	assert_string_equal(sb.buf,
			    "patch 1: x.c: hunk #1 (@@ -1,3 +1,3 @@ int "
			    "main(void)) at line 1: context not found: line 2 "
			    "differs: expected 'B', found 'b'; no exact match "
			    "at any other line; no 3-way merge: pre-image blob "
			    "0123456789ab is not in the repository");
	apply_result_release(&res);
	strbuf_release(&patch);
	strbuf_release(&sb);
}

static void test_new_delete_rename_mode(void **state)
{
	struct fx *fx = *state;
	char *big = numbered_lines(1, 30, "content", "");
	struct strbuf bigger = STRBUF_INIT, patch = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid a, b;
	const struct apply_file *f;
	size_t i;
	int seen = 0;

	strbuf_addstr(&bigger, big);
	strbuf_addstr(&bigger, "one more\n");
	make_tree(&a, fx, NULL,
		  (struct file_spec[]){
			  { "keep.c", "k\n", 0 },
			  { "gone/only.c", "bye\nbye\n", 0 },
			  { "old/name.c", big, 0 },
			  { "script.sh", "#!/bin/sh\necho\n", 0 },
		  },
		  4);
	make_tree(&b, fx, &a,
		  (struct file_spec[]){
			  { "gone/only.c", NULL, 0 },
			  { "old/name.c", NULL, 0 },
			  { "new/name.c", bigger.buf, 0 },
			  { "script.sh", "#!/bin/sh\necho\n",
			    GIT_FILEMODE_BLOB_EXECUTABLE },
			  { "added/deep/file.h", "#define A 1\n", 0 },
		  },
		  5);
	make_patch(&patch, fx, &a, &b, "file operations");
	assert_non_null(strstr(patch.buf, "rename from old/name.c"));
	assert_non_null(strstr(patch.buf, "new mode 100755"));
	apply_ok(&res, fx, &a, &patch, 1);
	assert_true(git_oid_equal(&res.trees[1], &b));
	for (i = 0; i < res.patches[0].files_nr; i++) {
		f = &res.patches[0].files[i];
		if (f->status == DIFF_RENAMED) {
			assert_string_equal(f->old_path, "old/name.c");
			assert_string_equal(f->new_path, "new/name.c");
			seen |= 1;
		} else if (f->status == DIFF_ADDED) {
			assert_null(f->old_path);
			assert_int_equal(f->mode, GIT_FILEMODE_BLOB);
			seen |= 2;
		} else if (f->status == DIFF_DELETED) {
			assert_int_equal(f->mode, 0);
			seen |= 4;
		} else if (!strcmp(f->new_path, "script.sh")) {
			assert_int_equal(f->mode,
					 GIT_FILEMODE_BLOB_EXECUTABLE);
			seen |= 8;
		}
	}
	assert_int_equal(seen, 15);
	check_against_git(fx, &a, &patch, 1, false, &res.trees[1]);
	apply_result_release(&res);
	strbuf_release(&bigger);
	strbuf_release(&patch);
	free(big);
}

static void test_file_exists_and_missing(void **state)
{
	struct fx *fx = *state;
	struct strbuf patch = STRBUF_INIT, sb = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid a, b, base;

	make_tree(&a, fx, NULL, (struct file_spec[]){ { "a.c", "a\n", 0 } },
		  1);
	make_tree(&b, fx, &a, (struct file_spec[]){ { "n.c", "new\n", 0 } },
		  1);
	make_patch(&patch, fx, &a, &b, "create n.c");
	/* the base already has n.c (with the same content, even) */
	apply_fails(&res, fx, &b, &patch, 1, NULL);
	assert_int_equal(res.failure.status, APPLY_FILE_EXISTS);
	assert_string_equal(res.failure.path, "n.c");
	assert_int_equal(res.failure.hunk, 0);
	apply_failure_format(&sb, &res.failure, 1);
	assert_string_equal(sb.buf, "patch 1: n.c: file exists: the patch "
				    "creates 'n.c', which already exists");
	apply_result_release(&res);
	/* git am -3 would merge the identical addition: not our rule */
	check_against_git(fx, &b, &patch, 1, false, NULL);

	/* modifying and deleting a missing file */
	strbuf_reset(&patch);
	make_patch(&patch, fx, &b, &a, "delete n.c");
	make_tree(&base, fx, NULL,
		  (struct file_spec[]){ { "other.c", "o\n", 0 } }, 1);
	apply_fails(&res, fx, &base, &patch, 1, NULL);
	assert_int_equal(res.failure.status, APPLY_FILE_MISSING);
	assert_string_equal(res.failure.path, "n.c");
	apply_result_release(&res);

	/* creating a file where a directory is */
	make_tree(&base, fx, NULL,
		  (struct file_spec[]){ { "n.c/inner", "o\n", 0 } }, 1);
	strbuf_reset(&patch);
	make_patch(&patch, fx, &a, &b, "create n.c");
	apply_fails(&res, fx, &base, &patch, 1, NULL);
	assert_int_equal(res.failure.status, APPLY_FILE_EXISTS);
	assert_non_null(strstr(res.failure.detail, "as a directory"));
	apply_result_release(&res);
	strbuf_release(&patch);
	strbuf_release(&sb);
}

/* A deletion that does not remove everything is refused. */
static void test_delete_not_empty(void **state)
{
	struct fx *fx = *state;
	struct strbuf patch = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid base;

	make_tree(&base, fx, NULL,
		  (struct file_spec[]){ { "d.c", "a\nb\nextra\n", 0 } }, 1);
	strbuf_addstr(&patch, "diff --git a/d.c b/d.c\n"
			      "deleted file mode 100644\n"
			      "index 422c2b7..0000000\n"
			      "--- a/d.c\n+++ /dev/null\n"
			      "@@ -1,2 +0,0 @@\n-a\n-b\n");
	apply_fails(&res, fx, &base, &patch, 1, NULL);
	assert_int_equal(res.failure.status, APPLY_CONTEXT_NOT_FOUND);
	assert_non_null(strstr(res.failure.detail, "end of the file"));
	apply_result_release(&res);
	strbuf_release(&patch);
}

static void test_binary_refused(void **state)
{
	struct fx *fx = *state;
	struct strbuf patch = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid a;

	make_tree(&a, fx, NULL, (struct file_spec[]){ { "a.c", "a\n", 0 } },
		  1);
	strbuf_addstr(&patch, "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n"
			      "@@ -1 +1 @@\n-a\n+b\n"
			      "diff --git a/fw.bin b/fw.bin\n"
			      "new file mode 100644\n"
			      "index 0000000..1234567\n"
			      "Binary files /dev/null and b/fw.bin differ\n");
	apply_fails(&res, fx, &a, &patch, 1, NULL);
	assert_int_equal(res.failure.status, APPLY_BINARY);
	assert_string_equal(res.failure.path, "fw.bin");
	assert_non_null(strstr(res.failure.detail, "binary"));
	assert_int_equal(res.trees_nr, 1);
	apply_result_release(&res);
	strbuf_release(&patch);
}

static void test_malformed(void **state)
{
	struct fx *fx = *state;
	struct strbuf patch = STRBUF_INIT, sb = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid a;

	make_tree(&a, fx, NULL, (struct file_spec[]){ { "a.c", "a\n", 0 } },
		  1);
	strbuf_addstr(&patch, "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n"
			      "@@ -1,3 +1,3 @@\n-a\n+b\n");
	apply_fails(&res, fx, &a, &patch, 1, NULL);
	assert_int_equal(res.failure.status, APPLY_MALFORMED);
	assert_null(res.failure.path);
	apply_failure_format(&sb, &res.failure, 1);
	assert_non_null(strstr(sb.buf, "patch 1: malformed patch: "));
	apply_result_release(&res);
	strbuf_release(&patch);
	strbuf_release(&sb);
}

/* Three patches building on each other; the third one fails. */
static void test_series(void **state)
{
	struct fx *fx = *state;
	char *v0 = numbered_lines(1, 20, "\tstep", ";");
	struct strbuf p[3] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	struct strbuf v = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	struct apply_opts opts = APPLY_OPTS_INIT;
	git_oid t[4], bad;
	git_reference *ref = NULL;
	char *q;

	make_tree(&t[0], fx, NULL, (struct file_spec[]){ { "s.c", v0, 0 } },
		  1);
	strbuf_addstr(&v, v0);
	q = strstr(v.buf, "\tstep 5;\n");
	strbuf_insert(&v, (size_t)(q - v.buf), "\tone();\n", 8);
	make_tree(&t[1], fx, &t[0], (struct file_spec[]){ { "s.c", v.buf, 0 } },
		  1);
	q = strstr(v.buf, "\tone();\n");
	strbuf_insert(&v, (size_t)(q - v.buf) + 8, "\ttwo();\n", 8);
	make_tree(&t[2], fx, &t[1],
		  (struct file_spec[]){ { "s.c", v.buf, 0 },
					{ "t.c", "t\n", 0 } },
		  2);
	q = strstr(v.buf, "\tstep 15;\n");
	strbuf_insert(&v, (size_t)(q - v.buf), "\tthree();\n", 10);
	make_tree(&t[3], fx, &t[2], (struct file_spec[]){ { "s.c", v.buf, 0 } },
		  1);
	make_patch(&p[0], fx, &t[0], &t[1], "one");
	make_patch(&p[1], fx, &t[1], &t[2], "two");
	make_patch(&p[2], fx, &t[2], &t[3], "three");

	opts.ref_prefix = "refs/kreview/test-series";
	{
		const char *texts[3] = { p[0].buf, p[1].buf, p[2].buf };
		size_t lens[3] = { p[0].len, p[1].len, p[2].len };

		assert_int_equal(apply_series(&res, fx->repo, &t[0], texts,
					      lens, 3, &opts, NULL), 0);
		assert_false(res.failed);
		assert_int_equal(res.trees_nr, 4);
		assert_true(git_oid_equal(&res.trees[1], &t[1]));
		assert_true(git_oid_equal(&res.trees[2], &t[2]));
		assert_true(git_oid_equal(&res.trees[3], &t[3]));
		apply_result_release(&res);
		assert_int_equal(git_reference_lookup(
					 &ref, fx->repo,
					 "refs/kreview/test-series/3"), 0);
		assert_true(git_oid_equal(git_reference_target(ref), &t[3]));
		git_reference_free(ref);
		assert_int_equal(git_reference_lookup(
					 &ref, fx->repo,
					 "refs/kreview/test-series/4"),
				 GIT_ENOTFOUND);

		/* bad prefix */
		opts.ref_prefix = "refs/heads/x";
		assert_int_equal(apply_series(&res, fx->repo, &t[0], texts,
					      lens, 3, &opts, NULL), -EINVAL);
		opts.ref_prefix = NULL;

		/* out of order: patch two needs patch one */
		texts[0] = p[1].buf;
		lens[0] = p[1].len;
		texts[1] = p[0].buf;
		lens[1] = p[0].len;
		assert_int_equal(apply_series(&res, fx->repo, &t[0], texts,
					      lens, 3, NULL, NULL), 0);
		assert_true(res.failed);
		assert_int_equal(res.failure.patch, 0);
		assert_int_equal(res.trees_nr, 1);
		apply_result_release(&res);

		/* the third patch against a base lacking its context */
		make_tree(&bad, fx, NULL,
			  (struct file_spec[]){ { "s.c", v0, 0 } }, 1);
		texts[0] = p[0].buf;
		lens[0] = p[0].len;
		texts[1] = p[1].buf;
		lens[1] = p[1].len;
		texts[2] = "no diff at all\n";
		lens[2] = strlen(texts[2]);
		assert_int_equal(apply_series(&res, fx->repo, &bad, texts,
					      lens, 3, NULL, NULL), 0);
		assert_false(res.failed);
		assert_int_equal(res.trees_nr, 4);
		assert_true(git_oid_equal(&res.trees[3], &res.trees[2]));
		assert_int_equal(res.patches[2].files_nr, 0);
		apply_result_release(&res);

		/* a bad base */
		git_oid_fromstr(&bad, "0123456789012345678901234567890123456789");
		assert_int_equal(apply_series(&res, fx->repo, &bad, texts,
					      lens, 3, NULL, NULL), -ENOENT);
	}
	check_against_git(fx, &t[0], p, 3, false, &t[3]);
	strbuf_release(&p[0]);
	strbuf_release(&p[1]);
	strbuf_release(&p[2]);
	strbuf_release(&v);
	free(v0);
}

/* A real patch from the io-uring slice, against a file where the
 * function sits 550 lines higher than in the kernel. */
static void test_real_patch_offset(void **state)
{
	struct fx *fx = *state;
	struct strbuf net = STRBUF_INIT, patch = STRBUF_INIT,
		      out = STRBUF_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	git_oid base;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	const struct apply_hunk *h;

	test_read_data(&net, "tree/io_uring/net.c");
	test_read_data(&patch, "tree/net-unindent.patch");
	make_tree(&base, fx, NULL,
		  (struct file_spec[]){ { "io_uring/net.c", net.buf, 0 } }, 1);
	apply_ok(&res, fx, &base, &patch, 1);
	h = res.patches[0].files[0].hunks;
	assert_int_equal(h[0].old_start, 645);
	assert_int_equal(h[0].applied_line, 95);
	assert_int_equal(h[0].offset, -550);
	assert_int_equal(git_tree_lookup(&tree, fx->repo, &res.trees[1]), 0);
	assert_int_equal(git_tree_entry_bypath(&te, tree, "io_uring/net.c"),
			 0);
	assert_int_equal(git_blob_lookup(&blob, fx->repo,
					 git_tree_entry_id(te)), 0);
	strbuf_add(&out, git_blob_rawcontent(blob),
		   (size_t)git_blob_rawsize(blob));
	assert_non_null(strstr(out.buf, "\tif (mshot_finished)\n"
					"\t\tgoto finish;\n"));
	assert_non_null(strstr(out.buf, "finish:\n\tio_req_set_res"));
	check_against_git(fx, &base, &patch, 1, false, &res.trees[1]);
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(tree);
	apply_result_release(&res);
	strbuf_release(&net);
	strbuf_release(&patch);
	strbuf_release(&out);
}

/* The hunk engine alone: no newline at end of file, CRLF mail lines. */
static void test_hunks_edge_cases(void **state)
{
	static const char patch_nonl[] =
		"--- a/f\n+++ b/f\n"
		"@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
		"+c\n";
	static const char patch_crlf[] =
		"--- a/f\r\n+++ b/f\r\n@@ -1,2 +1,3 @@\r\n a\r\n+x\r\n b\r\n";
	static const char patch_empty_ctx[] =
		"--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n";
	struct diff d = DIFF_INIT;
	struct strbuf out = STRBUF_INIT;
	struct apply_failure fail = { 0 };
	struct apply_hunk h[1];

	(void)state;
	assert_int_equal(diff_parse(&d, patch_nonl, strlen(patch_nonl), NULL),
			 0);
	assert_int_equal(apply_hunks(&out, h, "a\nb", 3, &d.files[0],
				     patch_nonl, strlen(patch_nonl), &fail),
			 0);
	assert_string_equal(out.buf, "a\nc\n");
	strbuf_reset(&out);
	/* the file has a final newline, the patch says it has none */
	assert_int_equal(apply_hunks(&out, h, "a\nb\n", 4, &d.files[0],
				     patch_nonl, strlen(patch_nonl), &fail),
			 -EBADMSG);
	assert_non_null(strstr(fail.detail, "line 2 has a final newline"));
	apply_failure_release(&fail);
	diff_release(&d);

	strbuf_reset(&out);
	assert_int_equal(diff_parse(&d, patch_crlf, strlen(patch_crlf), NULL),
			 0);
	assert_int_equal(apply_hunks(&out, h, "a\nb\n", 4, &d.files[0],
				     patch_crlf, strlen(patch_crlf), &fail),
			 0);
	assert_string_equal(out.buf, "a\nx\nb\n");
	diff_release(&d);

	strbuf_reset(&out);
	assert_int_equal(diff_parse(&d, patch_empty_ctx,
				    strlen(patch_empty_ctx), NULL), 0);
	assert_int_equal(apply_hunks(&out, h, "a\n\nb\n", 5, &d.files[0],
				     patch_empty_ctx, strlen(patch_empty_ctx),
				     &fail),
			 0);
	assert_string_equal(out.buf, "a\n\nc\n");
	diff_release(&d);
	strbuf_release(&out);
}

/* Nearest match wins, forward first on ties, like git apply. */
static void test_nearest_match(void **state)
{
	static const char patch[] =
		"--- a/f\n+++ b/f\n@@ -5,2 +5,3 @@\n x\n+new\n y\n";
	struct diff d = DIFF_INIT;
	struct strbuf out = STRBUF_INIT;
	struct apply_hunk h[1];

	(void)state;
	assert_int_equal(diff_parse(&d, patch, strlen(patch), NULL), 0);
	/* "x y" at lines 2 and 8: distance 3 each way, forward wins */
	assert_int_equal(apply_hunks(&out, h, "0\nx\ny\n3\n4\n5\n6\nx\ny\n",
				     18, &d.files[0], patch, strlen(patch),
				     NULL), 0);
	assert_int_equal(h[0].applied_line, 8);
	assert_int_equal(h[0].offset, 3);
	strbuf_reset(&out);
	/* closer backwards */
	assert_int_equal(apply_hunks(&out, h, "0\n1\nx\ny\n4\n5\n6\n7\nx\ny\n",
				     20, &d.files[0], patch, strlen(patch),
				     NULL), 0);
	assert_int_equal(h[0].applied_line, 3);
	assert_int_equal(h[0].offset, -2);
	diff_release(&d);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threeway, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_conflict, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_context_not_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_new_delete_rename_mode,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_exists_and_missing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_not_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_binary_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_patch_offset, setup,
						teardown),
		cmocka_unit_test(test_hunks_edge_cases),
		cmocka_unit_test(test_nearest_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
