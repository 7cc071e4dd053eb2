/*
 * Fuzz the mbox source: the input is an mbox file.  The first byte
 * picks a small message cap so that the over-the-cap path is reached
 * too.  Besides not crashing, the splitter must agree with itself:
 * reading half the messages, reopening with the cursor and reading the
 * rest gives the same messages as one pass, and no message exceeds the
 * cap or starts with a "From " separator it should have split on.
 */
#define _GNU_SOURCE
#include "kreview/common.h"
#include "kreview/source.h"
#include "kreview/strbuf.h"

#include <sys/mman.h>
#include <unistd.h>

struct pass {
	size_t nr, errors;
	uint64_t hash;
};

static uint64_t mix(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return (h ^ len) * 0x100000001b3ull;
}

/* Read up to 'limit' results (messages or per-message errors). */
static int run(struct pass *p, struct source *s, size_t cap, size_t limit)
{
	while (limit--) {
		struct strbuf err = STRBUF_INIT;
		struct source_msg m;
		int r = source_next(s, &m, &err);

		strbuf_release(&err);
		if (r == 0)
			return 0;
		if (r == -E2BIG || r == -EPROTO) {
			p->errors++;
			p->hash = mix(p->hash, "!", 1);
			continue;
		}
		if (r < 0)
			return r;
		if (m.len > cap || !m.where)
			BUG("message of %zu bytes over the cap %zu", m.len, cap);
		p->nr++;
		p->hash = mix(p->hash, m.data, m.len);
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source *s = NULL;
	struct pass one = { 0 }, two = { 0 };
	char path[64];
	char *cursor = NULL;
	size_t cap;
	int fd;

	if (!size)
		return 0;
	cap = 16 + (size_t)data[0] * 64;
	data++;
	size--;
	fd = memfd_create("fuzz-mbox", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		BUG("memfd");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	if (source_open(&s, SOURCE_MBOX, path, NULL, NULL, NULL) < 0)
		BUG("open");
	source_set_max_message(s, cap);
	if (run(&one, s, cap, SIZE_MAX) < 0)
		BUG("read");
	source_free(s);

	/* Half, then resume from the cursor. */
	if (source_open(&s, SOURCE_MBOX, path, NULL, NULL, NULL) < 0)
		BUG("open");
	source_set_max_message(s, cap);
	if (run(&two, s, cap, (one.nr + one.errors) / 2) < 0)
		BUG("read");
	cursor = xstrdup(source_cursor(s));
	source_free(s);
	if (source_open(&s, SOURCE_MBOX, path, NULL, cursor, NULL) < 0)
		BUG("open");
	if (source_restarted(s))
		BUG("cursor '%s' not accepted on the same file", cursor);
	source_set_max_message(s, cap);
	if (run(&two, s, cap, SIZE_MAX) < 0)
		BUG("read");
	if (one.nr != two.nr || one.errors != two.errors ||
	    one.hash != two.hash)
		BUG("resume differs: %zu/%zu messages, %zu/%zu errors",
		    one.nr, two.nr, one.errors, two.errors);
	source_free(s);
	free(cursor);
	close(fd);
	return 0;
}
