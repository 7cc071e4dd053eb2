/* Helpers shared by the cmocka unit tests. */
#include "testutil.h"

#include <dirent.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

void test_read_data(struct strbuf *sb, const char *name)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/%s", KREVIEW_TEST_DATA, name);
	if (strbuf_read_file(sb, path.buf, 0) < 0)
		fail_msg("cannot read test data '%s'", path.buf);
	strbuf_release(&path);
}

char *test_mkdtemp(void)
{
	char tmpl[] = "/tmp/kreview-test-XXXXXX";

	if (!mkdtemp(tmpl))
		fail_msg("mkdtemp failed");
	return xstrdup(tmpl);
}

void test_rmtree(const char *path)
{
	DIR *d;
	struct dirent *de;

	if (strncmp(path, "/tmp/", 5))
		return;
	d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	while ((de = readdir(d))) {
		struct strbuf sub = STRBUF_INIT;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_addf(&sub, "%s/%s", path, de->d_name);
		if (!lstat(sub.buf, &st) && S_ISDIR(st.st_mode))
			test_rmtree(sub.buf);
		else
			unlink(sub.buf);
		strbuf_release(&sub);
	}
	closedir(d);
	rmdir(path);
}

void test_git_commit(git_oid *out, git_repository *repo, const git_oid *parent,
		     const char *path, const char *content,
		     const char *message, const git_oid *parent2)
{
	git_signature *sig = NULL;
	git_commit *p[2] = { NULL, NULL };
	git_tree *base = NULL, *tree = NULL;
	git_treebuilder *tb = NULL;
	git_tree_update upd = { 0 };
	git_oid tid, empty;
	size_t np = 0;

	assert_int_equal(git_signature_new(&sig, "A. U. Thor", "au@example.org",
					   1712044800, 120), 0);
	if (parent) {
		assert_int_equal(git_commit_lookup(&p[np++], repo, parent),
				 0);
		assert_int_equal(git_commit_tree(&base, p[0]), 0);
	} else {
		assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
		assert_int_equal(git_treebuilder_write(&empty, tb), 0);
		assert_int_equal(git_tree_lookup(&base, repo, &empty), 0);
	}
	if (parent2)
		assert_int_equal(git_commit_lookup(&p[np++], repo, parent2),
				 0);
	if (path) {
		upd.action = GIT_TREE_UPDATE_UPSERT;
		upd.filemode = GIT_FILEMODE_BLOB;
		upd.path = path;
		assert_int_equal(git_blob_create_from_buffer(
					 &upd.id, repo, content,
					 strlen(content)), 0);
		assert_int_equal(git_tree_create_updated(&tid, repo, base,
							 1, &upd), 0);
	} else {
		git_oid_cpy(&tid, git_tree_id(base));
	}
	assert_int_equal(git_tree_lookup(&tree, repo, &tid), 0);
	assert_int_equal(git_commit_create(out, repo, NULL, sig, sig,
					   NULL, message, tree, np,
					   (const git_commit **)p), 0);
	git_tree_free(tree);
	git_tree_free(base);
	git_treebuilder_free(tb);
	git_commit_free(p[0]);
	git_commit_free(p[1]);
	git_signature_free(sig);
}
