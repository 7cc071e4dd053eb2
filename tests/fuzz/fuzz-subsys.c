/*
 * Fuzz the subsystem rule-file loader: YAML through yamlnode, the
 * schema binder and its checks, then everything a loaded file feeds:
 * set insertion, merging, hashing, keyword and glob matching.
 */
#include "kreview/subsys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char diff[] = "--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n"
				   "-\trcu_read_lock();\n"
				   "+\tspin_lock_irqsave(&l, f);\n"
				   "+\tio_uring_cmd_done(cmd);\n";
	struct strbuf err = STRBUF_INIT;
	struct subsys_file *f = NULL;
	struct subsys_set *set = NULL;
	struct subsys_rules rules;
	struct config_strlist trig = { 0 };
	const char *titles[2];
	char hash[41];
	int r;

	r = subsys_file_parse(&f, "fuzz.yaml", (const char *)data, size,
			      &err);
	if (r < 0) {
		if (f || !err.len)
			BUG("failure %d without a message", r);
		goto out;
	}
	if (err.len || !f || !subsys_file_section(f))
		BUG("success with a message or without a section");

	titles[0] = subsys_file_section(f);
	titles[1] = subsys_file_also_count(f) ? subsys_file_also_at(f, 0)
					      : "NONE";
	subsys_set_new(&set);
	if (subsys_set_add(set, f, &err) < 0)
		BUG("adding to an empty set failed: %s", err.buf);
	if (subsys_set_lookup(set, titles[1]) != subsys_set_at(set, 0) &&
	    strcmp(titles[1], "NONE"))
		BUG("'also' title not found");
	subsys_set_hash(hash, set);
	if (strlen(hash) != 40)
		BUG("bad hash length");

	subsys_rules_init(&rules);
	subsys_rules_build(&rules, set, titles, 2);
	if (rules.nr_sections != 1)
		BUG("%zu sections merged from one file", rules.nr_sections);
	(void)subsys_rules_ignores(&rules, "drivers/net/x.c");
	for (size_t i = 0; i < rules.nr_style; i++)
		(void)subsys_style_applies(&rules.style[i], "net/core/x.c");
	subsys_rules_release(&rules);

	subsys_set_match_keywords(&trig, set, NULL, 0, diff,
				  sizeof(diff) - 1);
	subsys_set_match_keywords(&trig, set, NULL, 0, (const char *)data,
				  size);
	config_strlist_release(&trig);
out:
	subsys_set_free(set);
	strbuf_release(&err);
	return 0;
}
