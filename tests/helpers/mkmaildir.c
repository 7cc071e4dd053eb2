/*
 * mkmaildir - write each message of an mbox as a file in a maildir.
 *
 *   mkmaildir MBOX DIR
 *
 * MBOX ("-": stdin) is split by kreview's own mbox source (git's
 * "From " rule, mboxrd unescaped, the "From " line dropped).  DIR and
 * its cur/, new/ and tmp/ are created when missing; messages go to
 * DIR/new/ under names that sort in mbox order after any files already
 * there.  Exit status: 0 done, 1 failure, 2 usage.
 */
#include "kreview/common.h"
#include "kreview/source.h"
#include "kreview/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkmaildir: cannot create '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static size_t count_files(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		goto fail;
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			goto fail;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "mkmaildir: cannot write '%s': %s\n", path,
		strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct source *src = NULL;
	struct source_msg msg;
	const char *sub[] = { "cur", "new", "tmp" };
	size_t seq, added = 0;
	int r, ret = 1;

	if (argc != 3 || !strcmp(argv[1], "--help")) {
		fputs("usage: mkmaildir MBOX DIR\n", stderr);
		return 2;
	}
	if (make_dir(argv[2]) < 0)
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", argv[2], sub[i]);
		if (make_dir(path.buf) < 0)
			goto out;
	}
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/cur", argv[2]);
	seq = count_files(path.buf);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/new", argv[2]);
	seq += count_files(path.buf);

	if (source_open(&src, SOURCE_MBOX, argv[1], NULL, NULL, &err) < 0) {
		fprintf(stderr, "mkmaildir: %s\n", err.buf);
		goto out;
	}
	for (;;) {
		strbuf_reset(&err);
		r = source_next(src, &msg, &err);
		if (!r)
			break;
		if (r == -E2BIG || r == -EPROTO) {
			fprintf(stderr, "mkmaildir: %s, ignoring\n", err.buf);
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "mkmaildir: %s\n", err.buf);
			goto out;
		}
		/* Fixed-width numbers: name order is mbox order. */
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/new/%010zu.M%08zuP0.mkmaildir",
			    argv[2], (size_t)1700000000 + seq, seq);
		seq++;
		if (write_file(path.buf, msg.data, msg.len) < 0)
			goto out;
		added++;
	}
	fprintf(stderr, "mkmaildir: wrote %zu messages\n", added);
	ret = 0;
out:
	source_free(src);
	strbuf_release(&err);
	strbuf_release(&path);
	return ret;
}
