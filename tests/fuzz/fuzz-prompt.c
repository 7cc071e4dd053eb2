/*
 * Fuzz the prompt file parser: the hand-written front matter split,
 * UTF-8 check, the YAML binder with the prompt schema, glob and regex
 * compilation; then exercise stage selection on fixed patch data so
 * that compiled triggers are also run.  Prompt files are trusted more
 * than mail, but a --prompts directory is user input and must never
 * crash the daemon.
 */
#include "kreview/prompt.h"

static const char *const fz_names[] = {
	"p/system.md", "p/verify.md",	 "p/report.md",	  "p/intent.md",
	"p/claims.md", "p/flow.md",	 "p/resources.md", "p/locking.md",
	"p/security.md", "p/hardware.md", "p/subsystem.md", "p/other.md",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
		"drivers/net/ethernet/x/main.c", "arch/arm64/kvm/arm.c",
		"Documentation/devicetree/bindings/a.yaml", "Kconfig",
		"io_uring/net.c",
	};
	static const char diff[] =
		"--- a/io_uring/net.c\n+++ b/io_uring/net.c\n@@ -1,3 +1,3 @@\n"
		" ctx\n-\tdma_map_single(dev, p, n, DMA_TO_DEVICE);\n"
		"+\tif (copy_from_user(&a, u, sizeof(a)))\n+\t\twmb();";
	static const char msg[] = "io_uring: fix a leak\n\nFixes: 0123";
	struct prompt_patch pp = {
		.paths = paths,
		.nr_paths = ARRAY_SIZE(paths),
		.diff = diff,
		.diff_len = sizeof(diff) - 1,
		.message = msg,
		.message_len = sizeof(msg) - 1,
	};
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	struct prompt *p = NULL;
	const char *name;
	int r;

	/* The first byte picks the file name, so every id can succeed. */
	if (!size)
		return 0;
	name = fz_names[data[0] % ARRAY_SIZE(fz_names)];
	r = prompt_parse(&p, name, (const char *)data + 1, size - 1, &err);
	if (r == 0) {
		if (!p || err.len)
			BUG("success without a prompt or with a message");
		if (p->body < p->raw || p->body + p->body_len !=
						p->raw + p->raw_len)
			BUG("body outside the raw bytes");
		if ((p->kind == PROMPT_STAGE) != (p->stage != PROMPT_STAGE_MAX))
			BUG("stage and kind disagree");
		for (int prof = 0; prof < PROMPT_PROFILE_MAX; prof++) {
			bool a = prompt_applies(p, &pp, prof, &why);
			bool b = prompt_applies(p, &pp, prof, NULL);

			if (a != b || !why.len)
				BUG("prompt_applies is not deterministic");
			strbuf_reset(&why);
		}
		prompt_free(p);
	} else {
		if (p || !err.len)
			BUG("failure %d without a message", r);
	}
	strbuf_release(&err);
	strbuf_release(&why);
	return 0;
}
