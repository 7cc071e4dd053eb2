/* libFuzzer target for bugcmd_parse(): #kreview lines in mail bodies. */
#include "kreview/bugcmd.h"
#include "kreview/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bugcmd_list l = BUGCMD_LIST_INIT;
	struct strbuf help = STRBUF_INIT;

	bugcmd_parse(&l, (const char *)data, size);
	if (l.nr > BUGCMD_MAX)
		BUG("too many commands kept");
	for (size_t i = 0; i < l.nr; i++) {
		const struct bugcmd *c = &l.v[i];

		if (!c->raw || strlen(c->raw) > BUGCMD_MAX_LINE)
			BUG("bad raw line");
		if (!c->error && ((unsigned)c->verb >= BUGCMD_VERB_MAX ||
				  c->ref < 0 || c->ref > 999 ||
				  (c->ref && c->bug_id)))
			BUG("command invariant broken");
		if (!c->error)
			(void)bugcmd_verb_name(c->verb);
	}
	bugcmd_help(&help);
	strbuf_release(&help);
	bugcmd_list_release(&l);
	return 0;
}
