/*
 * Fuzz the MAINTAINERS parser and matcher.  The input is a MAINTAINERS
 * file; when it contains a line "@@@" the part after it is used as the
 * patch text for K: matching and its first line as a path.
 */
#include "kreview/maint.h"
#include "kreview/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_is_dir(const char *path, void *ctx)
{
	(void)ctx;
	/* something deterministic that says yes sometimes */
	return strlen(path) % 3 == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = { "fs/btrfs/inode.c", "Makefile",
					     "drivers/net/a/b.c", "" };
	const char *text = (const char *)data, *patch = NULL, *sep;
	struct maint_opts opts = MAINT_OPTS_INIT;
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct maint *m = NULL;
	size_t mlen = size, plen = 0;

	if (size > (1u << 20))
		return 0;
	sep = NULL;
	for (size_t i = 0; size >= 5 && i <= size - 5; i++) {
		if (!memcmp(text + i, "\n@@@\n", 5)) {
			sep = text + i;
			break;
		}
	}
	if (sep) {
		const char *nl;

		mlen = (size_t)(sep - text) + 1;
		patch = sep + 5;
		plen = size - mlen - 4;
		nl = memchr(patch, '\n', plen);
		strbuf_add(&path, patch, nl ? (size_t)(nl - patch) : plen);
	}
	if (size && data[0] & 1)
		opts.is_dir = fuzz_is_dir;
	if (maint_parse(&m, text, mlen, "fuzz", &opts, &err) == 0) {
		const struct maint_section *s;

		for (size_t i = 0; i < maint_diag_count(m); i++)
			(void)strlen(maint_diag_at(m, i)->msg);
		for (size_t i = 0; i < maint_section_count(m); i++) {
			struct strbuf addr = STRBUF_INIT;
			const char *l;

			s = maint_section_at(m, i);
			(void)maint_section_status(s);
			l = maint_section_value(s, 'L', 0);
			if (l)
				(void)maint_list_address(&addr, l);
			strbuf_release(&addr);
			if (maint_find_section(m, s->title) == NULL)
				abort();
		}
		maint_map(&mm, m, fixed, ARRAY_SIZE(fixed), patch, plen);
		if (path.len && !memchr(path.buf, '\0', path.len))
			maint_match_path(&mm, m, path.buf);
		for (size_t i = 1; i < mm.nr; i++)
			if (mm.v[i].section == mm.v[0].section)
				abort();
		maint_free(m);
	}
	maint_matches_release(&mm);
	strbuf_release(&path);
	strbuf_release(&err);
	return 0;
}
