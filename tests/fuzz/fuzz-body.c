/* libFuzzer target for the body classification, split and trailers. */
#include "kreview/body.h"
#include "kreview/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct body b = BODY_INIT;
	struct trailer_list tl = TRAILER_LIST_INIT;
	struct strbuf err = STRBUF_INIT;
	char *v;
	size_t off;

	body_has_diff(text, size);
	body_has_diffstat(text, size);
	v = body_find_line(text, size, "base-commit:");
	free(v);
	if (body_split(&b, text, size, &err) < 0 && !err.len)
		BUG("failed split gave no reason");
	if (!b.message || b.diff_offset > size)
		BUG("bad split");
	off = trailer_parse_block(&tl, text, size);
	if (off > size || tl.nr > TRAILER_MAX)
		BUG("bad trailer block");
	trailer_parse_reply(&tl, text, size);
	for (size_t i = 0; i < tl.nr; i++)
		if (!tl.items[i].name[0] || !tl.items[i].value[0])
			BUG("empty trailer");
	trailer_list_release(&tl);
	body_release(&b);
	strbuf_release(&err);
	return 0;
}
