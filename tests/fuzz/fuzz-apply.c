/*
 * Fuzz the hunk engine of apply.c: the input is a file's content and a
 * diff separated by the first NUL byte; every text file of the parsed
 * diff is applied to the content.  Must never crash, hang or leak.
 */
#include <stdint.h>

#include "kreview/apply.h"
#include "kreview/diff.h"
#include "kreview/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t pre_len = nul ? (size_t)(nul - text) : 0;
	const char *patch = nul ? nul + 1 : text;
	size_t patch_len = size - (size_t)(patch - text);
	struct diff d = DIFF_INIT;
	size_t i;

	if (size > (1u << 20))
		return 0;
	if (diff_parse(&d, patch, patch_len, NULL) < 0)
		return 0;
	for (i = 0; i < d.files_nr; i++) {
		struct strbuf out = STRBUF_INIT;
		struct apply_failure fail = { 0 };
		struct apply_hunk *h;

		if (d.files[i].binary)
			continue;
		h = xcalloc(d.files[i].hunks_nr + 1, sizeof(*h));
		(void)apply_hunks(&out, h, text, pre_len, &d.files[i], patch,
				  patch_len, &fail);
		apply_failure_release(&fail);
		free(h);
		strbuf_release(&out);
	}
	diff_release(&d);
	return 0;
}
