/* Helpers shared by the cmocka unit tests. */
#include "testutil.h"

#include <dirent.h>
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
