/* libFuzzer target for diff_parse(). */
#include "kreview/diff.h"
#include "kreview/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diff d = DIFF_INIT;
	struct strbuf err = STRBUF_INIT;
	int ret;

	ret = diff_parse(&d, (const char *)data, size, &err);
	if (ret < 0 && (d.files_nr || !err.len))
		BUG("failed parse changed its output or gave no reason");
	for (size_t i = 0; i < d.files_nr; i++) {
		const struct diff_file *f = &d.files[i];

		if (!diff_file_path(f) || f->offset + f->length > size)
			BUG("bad file");
		for (size_t k = 0; k < f->hunks_nr; k++) {
			const struct diff_hunk *h = &f->hunks[k];

			if (h->offset + h->length > size ||
			    h->added > h->new_lines ||
			    h->removed > h->old_lines || !h->section)
				BUG("bad hunk");
		}
	}
	diff_release(&d);
	strbuf_release(&err);
	return 0;
}
