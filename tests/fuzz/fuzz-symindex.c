/*
 * Fuzz the symindex scanner (files of a reviewed tree are untrusted):
 * every definition must lie inside the input and have sane lines.
 */
#include <stdint.h>

#include "kreview/symindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct check {
	const char *text;
	size_t len;
	size_t lines;
};

static int check_def(const struct symindex_def *d, void *data)
{
	const struct check *c = data;

	if (d->name < c->text || d->name + d->name_len > c->text + c->len ||
	    !d->name_len || d->line < 1 || d->end_line < d->line ||
	    d->end_line > c->lines || (unsigned)d->kind >= SYMINDEX_KIND_MAX)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check c = { (const char *)data, size, 1 };
	size_t i;

	for (i = 0; i < size; i++)
		c.lines += data[i] == '\n';
	symindex_scan_text(c.text, size, check_def, &c);
	return 0;
}
