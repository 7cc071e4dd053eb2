#include "kreview/maint.h"
#include "kreview/subsys.h"
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

/* Helpers. */

static struct subsys_file *parse_ok(const char *yaml)
{
	struct subsys_file *f = NULL;
	struct strbuf err = STRBUF_INIT;
	int r;

	r = subsys_file_parse(&f, "t.yaml", yaml, strlen(yaml), &err);
	if (r)
		fail_msg("for:\n%s\nunexpected error %d '%s'", yaml, r,
			 err.buf);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
	return f;
}

/* Parsing must fail with exactly 'msg' (all lines). */
static void parse_error(const char *yaml, const char *msg)
{
	struct subsys_file *f = NULL;
	struct strbuf err = STRBUF_INIT;
	int r;

	r = subsys_file_parse(&f, "t.yaml", yaml, strlen(yaml), &err);
	if (r != -EINVAL || strcmp(err.buf, msg))
		fail_msg("for:\n%s\nwant %d '%s'\ngot  %d '%s'", yaml, -EINVAL,
			 msg, r, err.buf);
	assert_null(f);
	strbuf_release(&err);
}

static void write_file(const char *dir, const char *name, const char *data)
{
	struct strbuf p = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&p, "%s/%s", dir, name);
	f = fopen(p.buf, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
	assert_int_equal(fclose(f), 0);
	strbuf_release(&p);
}

static struct subsys_set *load_dir_ok(const char *dir)
{
	struct subsys_set *set = NULL;
	struct strbuf err = STRBUF_INIT;
	int r;

	r = subsys_set_load_dir(&set, dir, &err);
	if (r)
		fail_msg("loading %s: %d '%s'", dir, r, err.buf);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
	return set;
}

/* The shipped files. */

static void test_shipped(void **state)
{
	static const char *const required[] = {
		"IO_URING",
		"MEMORY MANAGEMENT",
		"NETWORKING [GENERAL]",
		"BPF [GENERAL] (Safe Dynamic Programs and Tools)",
		"BLOCK LAYER",
		"FILESYSTEMS (VFS and infrastructure)",
		"SCHEDULER",
		"READ-COPY UPDATE (RCU)",
		"LOCKING PRIMITIVES",
		"USB SUBSYSTEM",
		"DRM DRIVERS",
		"EXT4 FILE SYSTEM",
		"BTRFS FILE SYSTEM",
		"KERNEL VIRTUAL MACHINE (KVM)",
	};
	struct subsys_set *set;
	struct maint *m = NULL;
	struct strbuf err = STRBUF_INIT;
	char h1[41], h2[41];

	(void)state;
	set = load_dir_ok(KREVIEW_SRCDIR "/subsystems");
	assert_true(subsys_set_count(set) >= ARRAY_SIZE(required));
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!subsys_set_lookup(set, required[i]))
			fail_msg("no rule file for '%s'", required[i]);

	/* Every title, primary or 'also', is a real MAINTAINERS title. */
	if (maint_load_file(&m, KREVIEW_SHARED_DIR "/data/MAINTAINERS", NULL,
			    &err) < 0)
		fail_msg("MAINTAINERS: %s", err.buf);
	for (size_t i = 0; i < subsys_set_count(set); i++) {
		const struct subsys_file *f = subsys_set_at(set, i);

		if (!maint_find_section(m, subsys_file_section(f)))
			fail_msg("%s: section '%s' not in MAINTAINERS",
				 subsys_file_name(f), subsys_file_section(f));
		for (size_t j = 0; j < subsys_file_also_count(f); j++)
			if (!maint_find_section(m, subsys_file_also_at(f, j)))
				fail_msg("%s: 'also' title '%s' not in "
					 "MAINTAINERS", subsys_file_name(f),
					 subsys_file_also_at(f, j));
		/* Real content, not a skeleton. */
		if (subsys_file_non_issue_count(f) < 3)
			fail_msg("%s: fewer than 3 non-issues",
				 subsys_file_name(f));
		size_t nr_guid = 0;

		for (int s = 0; s < SUBSYS_STAGE_MAX; s++)
			nr_guid += !!subsys_file_guidance(f, s);
		if (nr_guid < 4)
			fail_msg("%s: guidance for fewer than 4 stages",
				 subsys_file_name(f));
	}

	/*
	 * A patch touching io_uring and the networking core, mapped with
	 * the real MAINTAINERS: both rule files apply, most specific
	 * first, and hardware runs because networking wants it.
	 */
	{
		const char *paths[] = { "io_uring/net.c", "net/core/dev.c" };
		struct maint_matches mm = MAINT_MATCHES_INIT;
		const char **titles;
		struct subsys_rules r;

		maint_map(&mm, m, paths, 2, NULL, 0);
		titles = xcalloc(mm.nr, sizeof(*titles));
		for (size_t i = 0; i < mm.nr; i++)
			titles[i] = mm.v[i].section->title;
		subsys_rules_init(&r);
		subsys_rules_build(&r, set, titles, mm.nr);
		assert_int_equal(r.nr_sections, 2);
		assert_string_equal(r.sections[0], "IO_URING");
		assert_string_equal(r.sections[1], "NETWORKING [GENERAL]");
		assert_true(r.enabled[SUBSYS_STAGE_HARDWARE]);
		assert_non_null(strstr(r.guidance[SUBSYS_STAGE_LOCKING],
				       "Rules for IO_URING:\n"));
		assert_non_null(strstr(r.guidance[SUBSYS_STAGE_LOCKING],
				       "Rules for NETWORKING [GENERAL]:\n"));
		assert_int_equal(r.floor_reply, SUBSYS_SEV_MEDIUM);
		assert_int_equal(r.token_budget, 60000);
		assert_true(subsys_rules_ignores(&r,
			"net/core/netdev-genl-gen.c"));
		assert_false(subsys_rules_ignores(&r, "net/core/dev.c"));
		for (int st = 0; st < SUBSYS_STAGE_MAX; st++)
			print_message("io_uring+net %-9s %5zu bytes of "
				      "guidance\n", subsys_stage_name(st),
				      r.guidance[st] ? strlen(r.guidance[st])
						     : 0);
		subsys_rules_release(&r);
		free(titles);
		maint_matches_release(&mm);
	}

	/* Loading twice gives the same hash. */
	subsys_set_hash(h1, set);
	subsys_set_free(set);
	set = load_dir_ok(KREVIEW_SRCDIR "/subsystems");
	subsys_set_hash(h2, set);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 40);
	print_message("shipped rule files: %zu, hash %s\n",
		      subsys_set_count(set), h1);

	maint_free(m);
	subsys_set_free(set);
	strbuf_release(&err);
}

/* One file: values and normalisation. */

static const char full_yaml[] =
	"# comment\n"
	"section: \"NETWORKING [GENERAL]\"\n"
	"also: [NETWORKING DRIVERS]\n"
	"stages:\n"
	"  locking:\n"
	"    guidance: |\n"
	"      RTNL protects configuration.\n"
	"\n"
	"  hardware:\n"
	"    enabled: false\n"
	"non_issues:\n"
	"  - pattern: dev_kfree_skb_any in IRQ context\n"
	"    why: the _any variant checks the context\n"
	"    stages: [resources, locking]\n"
	"  - pattern: no Fixes tag on net-next\n"
	"    why: features are not fixes\n"
	"style:\n"
	"  - id: reverse-xmas-tree\n"
	"    text: longest declaration line first\n"
	"    paths: [net/, drivers/net/]\n"
	"  - id: line-length\n"
	"    text: 80 columns\n"
	"    severity: medium\n"
	"severity_floor: {reply: high, check: low}\n"
	"token_budget: 50000\n"
	"ignore_paths: [\"*-genl-gen.c\", tools/net/ynl/generated/]\n"
	"keywords: [napi_*, netif_rx]\n"
	"references: [Documentation/process/maintainer-netdev.rst]\n";

static void test_values(void **state)
{
	struct subsys_file *f;
	const struct subsys_non_issue *ni;
	const struct subsys_style_rule *st;

	(void)state;
	f = parse_ok(full_yaml);
	assert_string_equal(subsys_file_section(f), "NETWORKING [GENERAL]");
	assert_int_equal(subsys_file_also_count(f), 1);
	assert_string_equal(subsys_file_also_at(f, 0), "NETWORKING DRIVERS");
	assert_null(subsys_file_also_at(f, 1));
	/* Block scalar: the trailing newline is not part of the text. */
	assert_string_equal(subsys_file_guidance(f, SUBSYS_STAGE_LOCKING),
			    "RTNL protects configuration.");
	assert_null(subsys_file_guidance(f, SUBSYS_STAGE_FLOW));
	assert_true(subsys_file_stage_enabled(f, SUBSYS_STAGE_FLOW));
	assert_false(subsys_file_stage_enabled(f, SUBSYS_STAGE_HARDWARE));
	assert_int_equal(subsys_file_non_issue_count(f), 2);
	ni = subsys_file_non_issue_at(f, 0);
	assert_string_equal(ni->section, "NETWORKING [GENERAL]");
	assert_string_equal(ni->why, "the _any variant checks the context");
	assert_int_equal(ni->stages,
			 SUBSYS_STAGE_BIT(SUBSYS_STAGE_RESOURCES) |
				 SUBSYS_STAGE_BIT(SUBSYS_STAGE_LOCKING));
	assert_int_equal(subsys_file_non_issue_at(f, 1)->stages,
			 SUBSYS_STAGE_ALL);
	assert_null(subsys_file_non_issue_at(f, 2));
	assert_int_equal(subsys_file_style_count(f), 2);
	st = subsys_file_style_at(f, 0);
	assert_string_equal(st->id, "reverse-xmas-tree");
	assert_int_equal(st->severity, SUBSYS_SEV_LOW);
	assert_true(subsys_style_applies(st, "net/core/dev.c"));
	assert_true(subsys_style_applies(st, "drivers/net/tun.c"));
	assert_false(subsys_style_applies(st, "include/net/sock.h"));
	st = subsys_file_style_at(f, 1);
	assert_int_equal(st->severity, SUBSYS_SEV_MEDIUM);
	assert_true(subsys_style_applies(st, "anything/at/all.c"));
	assert_int_equal(subsys_file_floor_reply(f), SUBSYS_SEV_HIGH);
	assert_int_equal(subsys_file_floor_check(f), SUBSYS_SEV_LOW);
	assert_int_equal(subsys_file_token_budget(f), 50000);
	subsys_file_free(f);

	/* Minimal file: defaults; a bare floor is the reply floor. */
	f = parse_ok("section: X\nseverity_floor: critical\n");
	assert_int_equal(subsys_file_floor_reply(f), SUBSYS_SEV_CRITICAL);
	assert_int_equal(subsys_file_floor_check(f), SUBSYS_SEV_NONE);
	assert_int_equal(subsys_file_token_budget(f), 0);
	for (int s = 0; s < SUBSYS_STAGE_MAX; s++) {
		assert_true(subsys_file_stage_enabled(f, s));
		assert_null(subsys_file_guidance(f, s));
	}
	subsys_file_free(f);
}

static void test_names(void **state)
{
	enum subsys_stage st;
	enum subsys_severity sev;

	(void)state;
	for (int i = 0; i < SUBSYS_STAGE_MAX; i++) {
		assert_int_equal(subsys_stage_from_name(&st,
							subsys_stage_name(i)),
				 0);
		assert_int_equal(st, i);
	}
	assert_int_equal(subsys_stage_from_name(&st, "rule"), -EINVAL);
	assert_string_equal(subsys_stage_name(SUBSYS_STAGE_RESOURCES),
			    "resources");
	assert_int_equal(subsys_severity_from_name(&sev, "critical"), 0);
	assert_int_equal(sev, SUBSYS_SEV_CRITICAL);
	assert_true(SUBSYS_SEV_CRITICAL > SUBSYS_SEV_HIGH);
	assert_int_equal(subsys_severity_from_name(&sev, "urgent"), -EINVAL);
}

/* Errors: exact messages with positions. */

static void test_errors(void **state)
{
	(void)state;
	parse_error("", "t.yaml:1:1: empty rule file, expected a mapping "
			"with 'section'");
	parse_error("# only a comment\n",
		    "t.yaml:1:1: empty rule file, expected a mapping with "
		    "'section'");
	parse_error("[a]\n",
		    "t.yaml:1:1: expected a mapping, got a sequence");
	parse_error("also: [X]\n",
		    "t.yaml:1:1: missing required key 'section'");
	parse_error("section: X\nsectoin: Y\n",
		    "t.yaml:2:1: unknown key 'sectoin' (did you mean "
		    "'section'?)");
	parse_error("section: X\nsection: Y\n",
		    "t.yaml:2:1: duplicate key 'section' (first at 1:1)");
	parse_error("section: ' X'\n",
		    "t.yaml:1:10: section title has leading or trailing "
		    "blanks");
	parse_error("section: X\nalso: [Y, X, Y]\n",
		    "t.yaml:2:11: 'also' repeats the file's own section\n"
		    "t.yaml:2:14: 'also' lists 'Y' twice");
	/* Stages. */
	parse_error("section: X\nstages:\n  flwo:\n    guidance: x\n",
		    "t.yaml:3:3: unknown key 'flwo' (did you mean 'flow'?)");
	parse_error("section: X\nstages:\n  rule:\n    guidance: x\n",
		    "t.yaml:3:3: unknown key 'rule'");
	parse_error("section: X\nstages:\n  flow:\n    guidance: \"  \"\n",
		    "t.yaml:4:15: text is blank");
	parse_error("section: X\nstages:\n  flow:\n    guidance: ''\n",
		    "t.yaml:4:15: expected a non-empty string");
	parse_error("section: X\nstages:\n  flow:\n",
		    "t.yaml:3:8: a stage needs 'guidance' or 'enabled: "
		    "false'");
	parse_error("section: X\nstages:\n  flow: {enabled: true}\n",
		    "t.yaml:3:9: a stage needs 'guidance' or 'enabled: "
		    "false'");
	parse_error("section: X\nstages:\n  flow: {guidance: a, enabled: "
		    "false}\n",
		    "t.yaml:3:20: guidance for a disabled stage is never "
		    "used");
	parse_error("section: X\nstages:\n  verify: {enabled: false}\n",
		    "t.yaml:3:21: the verify and report stages cannot be "
		    "disabled");
	parse_error("section: X\nstages:\n  flow: {enabled: no}\n",
		    "t.yaml:3:19: expected true or false, got 'no'");
	/* Non-issues. */
	parse_error("section: X\nnon_issues:\n  - pattern: p\n",
		    "t.yaml:3:5: missing required key 'why'");
	parse_error("section: X\nnon_issues:\n  - {pattern: p, why: w, "
		    "stages: [flow, lock]}\n",
		    "t.yaml:3:41: unknown stage 'lock'");
	parse_error("section: X\nnon_issues: {pattern: p}\n",
		    "t.yaml:2:13: expected a sequence of mappings, got a "
		    "mapping");
	/* Style. */
	parse_error("section: X\nstyle:\n  - {id: a, text: t, severity: "
		    "urgent}\n",
		    "t.yaml:3:32: expected one of 'low', 'medium', 'high', "
		    "'critical', got 'urgent'");
	parse_error("section: X\nstyle:\n  - {id: Bad_Id, text: t}\n",
		    "t.yaml:3:10: bad style id: expected lowercase letters, "
		    "digits and '-', at most 64");
	parse_error("section: X\nstyle:\n  - {id: a, text: t}\n"
		    "  - {id: b, text: t}\n  - {id: a, text: u}\n",
		    "t.yaml:5:10: duplicate style id 'a' (first at 3:10)");
	/* Floors and budget. */
	parse_error("section: X\nseverity_floor: severe\n",
		    "t.yaml:2:17: expected one of 'low', 'medium', 'high', "
		    "'critical', got 'severe'");
	parse_error("section: X\nseverity_floor: {reply: low, list: low}\n",
		    "t.yaml:2:30: unknown key 'list'");
	parse_error("section: X\ntoken_budget: 10\n",
		    "t.yaml:2:15: value 10 out of range 1000..10000000");
	/* Globs, keywords, references. */
	parse_error("section: X\nignore_paths: ['a/[bc', /abs, a/../b, "
		    "'a/**/b', a//b, 'x y', ok/]\n",
		    "t.yaml:2:16: bad glob 'a/[bc': unbalanced '[' (a class "
		    "cannot span '/')\n"
		    "t.yaml:2:25: bad glob '/abs': glob must be relative to "
		    "the top of the tree\n"
		    "t.yaml:2:31: bad glob 'a/../b': '.' and '..' components "
		    "are not allowed\n"
		    "t.yaml:2:39: bad glob 'a/**/b': '**' is not supported "
		    "('*' stops at '/'; end a directory with '/' to match "
		    "below it)\n"
		    "t.yaml:2:49: bad glob 'a//b': empty path component\n"
		    "t.yaml:2:55: bad glob 'x y': blanks, control characters "
		    "and '\\' are not allowed");
	parse_error("section: X\nstyle:\n  - {id: a, text: t, paths: "
		    "['a]b']}\n",
		    "t.yaml:3:30: bad glob 'a]b': unbalanced ']'");
	parse_error("section: X\nkeywords: [ok_name, 'rcu_*', ab, 1abc, "
		    "'a-b', '*x']\n",
		    "t.yaml:2:30: bad keyword 'ab': expected a C identifier "
		    "of at least 3 characters, optionally ending in '*'\n"
		    "t.yaml:2:34: bad keyword '1abc': expected a C identifier "
		    "of at least 3 characters, optionally ending in '*'\n"
		    "t.yaml:2:40: bad keyword 'a-b': expected a C identifier "
		    "of at least 3 characters, optionally ending in '*'\n"
		    "t.yaml:2:47: bad keyword '*x': expected a C identifier "
		    "of at least 3 characters, optionally ending in '*'");
	parse_error("section: X\nreferences: [Documentation/*.rst, "
		    "../etc/passwd]\n",
		    "t.yaml:2:14: bad reference 'Documentation/*.rst': a "
		    "reference names a file, not a glob\n"
		    "t.yaml:2:35: bad reference '../etc/passwd': '.' and '..' "
		    "components are not allowed");
	/* All problems of a file in one run. */
	parse_error("section: X\ntoken_budget: -1\nstages: {intent: {}}\n"
		    "bogus: 1\n",
		    "t.yaml:2:15: value -1 out of range 1000..10000000\n"
		    "t.yaml:3:18: a stage needs 'guidance' or 'enabled: "
		    "false'\n"
		    "t.yaml:4:1: unknown key 'bogus'");
	/* YAML-level problems come from yamlnode. */
	parse_error("section: &a X\nalso: [*a]\n",
		    "t.yaml:1:10: anchors are not supported (found '&a')");
}

/* Directories and sets. */

static void test_dir(void **state)
{
	struct subsys_set *set = NULL;
	struct strbuf err = STRBUF_INIT;
	char *dir = test_mkdtemp();
	struct strbuf path = STRBUF_INIT;
	int r;

	(void)state;
	/* Empty directory: empty set. */
	set = load_dir_ok(dir);
	assert_int_equal(subsys_set_count(set), 0);
	assert_null(subsys_set_lookup(set, "X"));
	subsys_set_free(set);

	write_file(dir, "b.yaml", "section: B\nalso: [B2]\n");
	write_file(dir, "a.yaml", "section: A\n");
	write_file(dir, "README.md", "not yaml\n");
	write_file(dir, ".hidden.yaml", "garbage: [\n");
	write_file(dir, "c.yml", "also not loaded\n");
	set = load_dir_ok(dir);
	assert_int_equal(subsys_set_count(set), 2);
	/* Sorted by file name. */
	assert_string_equal(subsys_file_section(subsys_set_at(set, 0)), "A");
	assert_string_equal(subsys_file_section(subsys_set_at(set, 1)), "B");
	assert_ptr_equal(subsys_set_lookup(set, "B2"), subsys_set_at(set, 1));
	assert_null(subsys_set_at(set, 2));
	strbuf_addf(&path, "%s/a.yaml", dir);
	assert_string_equal(subsys_file_name(subsys_set_at(set, 0)),
			    path.buf);
	subsys_set_free(set);

	/* A title claimed twice; every bad file reported. */
	write_file(dir, "d.yaml", "section: D\nalso: [A, B2]\n");
	write_file(dir, "e.yaml", "section: E\nstages: {x: 1}\n");
	set = NULL;
	r = subsys_set_load_dir(&set, dir, &err);
	assert_int_equal(r, -EINVAL);
	assert_null(set);
	strbuf_reset(&path);
	strbuf_addf(&path,
		    "%s/d.yaml:2:8: section 'A' is already claimed by "
		    "%s/a.yaml:1:10\n"
		    "%s/d.yaml:2:11: section 'B2' is already claimed by "
		    "%s/b.yaml:2:8\n"
		    "%s/e.yaml:2:10: unknown key 'x'",
		    dir, dir, dir, dir, dir);
	assert_string_equal(err.buf, path.buf);

	/* Missing directory. */
	strbuf_reset(&err);
	r = subsys_set_load_dir(&set, "/nonexistent/subsystems", &err);
	assert_int_equal(r, -ENOENT);
	assert_string_equal(err.buf, "cannot open directory "
				     "'/nonexistent/subsystems': No such "
				     "file or directory");

	test_rmtree(dir);
	free(dir);
	strbuf_release(&err);
	strbuf_release(&path);
}

/* Merging. */

static struct subsys_set *set_of(const char *const *yaml, size_t nr)
{
	struct subsys_set *set;

	subsys_set_new(&set);
	for (size_t i = 0; i < nr; i++) {
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(subsys_set_add(set, parse_ok(yaml[i]), &err),
				 0);
		strbuf_release(&err);
	}
	return set;
}

static void test_merge(void **state)
{
	static const char *const yaml[] = {
		"section: GENERAL\n"
		"stages:\n"
		"  flow: {guidance: general flow}\n"
		"  hardware: {enabled: false}\n"
		"non_issues:\n"
		"  - {pattern: shared, why: general says}\n"
		"  - {pattern: g only, why: g}\n"
		"style:\n"
		"  - {id: xmas, text: general text}\n"
		"  - {id: g-rule, text: g}\n"
		"severity_floor: {reply: high, check: low}\n"
		"token_budget: 30000\n"
		"ignore_paths: [gen/, '*.gen.h']\n"
		"references: [Documentation/a.rst]\n",

		"section: SPECIFIC\n"
		"also: [SPECIFIC OLD NAME]\n"
		"stages:\n"
		"  flow: {guidance: specific flow}\n"
		"  locking: {guidance: specific locking}\n"
		"  hardware: {enabled: false}\n"
		"  claims: {enabled: false}\n"
		"non_issues:\n"
		"  - {pattern: shared, why: specific says}\n"
		"style:\n"
		"  - {id: xmas, text: specific text, severity: medium}\n"
		"severity_floor: medium\n"
		"token_budget: 40000\n"
		"ignore_paths: [gen/, spec/]\n"
		"references: [Documentation/b.rst, Documentation/a.rst]\n",

		"section: UNRELATED\n",
	};
	const char *titles[] = { "SPECIFIC", "NO FILE", "GENERAL",
				 "SPECIFIC OLD NAME" };
	struct subsys_set *set = set_of(yaml, ARRAY_SIZE(yaml));
	struct subsys_rules r;

	(void)state;
	subsys_rules_init(&r);
	subsys_rules_build(&r, set, titles, ARRAY_SIZE(titles));
	assert_int_equal(r.nr_sections, 2);
	assert_string_equal(r.sections[0], "SPECIFIC");
	assert_string_equal(r.sections[1], "GENERAL");
	assert_string_equal(r.guidance[SUBSYS_STAGE_FLOW],
			    "Rules for SPECIFIC:\nspecific flow\n\n"
			    "Rules for GENERAL:\ngeneral flow\n");
	assert_string_equal(r.guidance[SUBSYS_STAGE_LOCKING],
			    "Rules for SPECIFIC:\nspecific locking\n");
	assert_null(r.guidance[SUBSYS_STAGE_INTENT]);
	/* Disabled only when every file disables it. */
	assert_false(r.enabled[SUBSYS_STAGE_HARDWARE]);
	assert_true(r.enabled[SUBSYS_STAGE_CLAIMS]);
	assert_true(r.enabled[SUBSYS_STAGE_FLOW]);
	/* Non-issues: union, the first text kept. */
	assert_int_equal(r.nr_non_issues, 2);
	assert_string_equal(r.non_issues[0].why, "specific says");
	assert_string_equal(r.non_issues[0].section, "SPECIFIC");
	assert_string_equal(r.non_issues[1].pattern, "g only");
	/* Style: by id, most specific wins. */
	assert_int_equal(r.nr_style, 2);
	assert_string_equal(r.style[0].text, "specific text");
	assert_int_equal(r.style[0].severity, SUBSYS_SEV_MEDIUM);
	assert_string_equal(r.style[1].id, "g-rule");
	/* Floors: the most specific file that sets one. */
	assert_int_equal(r.floor_reply, SUBSYS_SEV_MEDIUM);
	assert_int_equal(r.floor_check, SUBSYS_SEV_LOW);
	assert_int_equal(r.token_budget, 30000);
	assert_int_equal(r.nr_ignore_paths, 3);
	assert_string_equal(r.ignore_paths[0], "gen/");
	assert_string_equal(r.ignore_paths[1], "spec/");
	assert_string_equal(r.ignore_paths[2], "*.gen.h");
	assert_int_equal(r.nr_references, 2);
	assert_string_equal(r.references[0], "Documentation/b.rst");
	assert_true(subsys_rules_ignores(&r, "gen/x.c"));
	assert_true(subsys_rules_ignores(&r, "drivers/foo/regs.gen.h"));
	assert_false(subsys_rules_ignores(&r, "drivers/foo/regs.h"));
	assert_false(subsys_rules_ignores(&r, "drivers/gen/x.c"));

	/* Reversed order: the other file is the specific one. */
	const char *rev[] = { "GENERAL", "SPECIFIC" };

	subsys_rules_build(&r, set, rev, 2);
	assert_int_equal(r.floor_reply, SUBSYS_SEV_HIGH);
	assert_string_equal(r.style[0].text, "general text");
	assert_string_equal(r.guidance[SUBSYS_STAGE_FLOW],
			    "Rules for GENERAL:\ngeneral flow\n\n"
			    "Rules for SPECIFIC:\nspecific flow\n");

	/* Nothing matched: everything enabled, nothing set. */
	subsys_rules_build(&r, set, titles + 1, 1);
	assert_int_equal(r.nr_sections, 0);
	for (int s = 0; s < SUBSYS_STAGE_MAX; s++) {
		assert_true(r.enabled[s]);
		assert_null(r.guidance[s]);
	}
	assert_int_equal(r.floor_reply, SUBSYS_SEV_NONE);
	assert_int_equal(r.token_budget, 0);
	subsys_rules_build(&r, set, NULL, 0);
	assert_int_equal(r.nr_sections, 0);

	subsys_rules_release(&r);
	subsys_rules_release(&r);
	subsys_set_free(set);
}

/* A duplicate claim through subsys_set_add(). */
static void test_set_add(void **state)
{
	struct subsys_set *set;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	subsys_set_new(&set);
	assert_int_equal(subsys_set_add(set, parse_ok("section: A\n"), &err),
			 0);
	assert_int_equal(subsys_set_add(set,
					parse_ok("\nsection: B\nalso: [A]\n"),
					&err),
			 -EEXIST);
	assert_string_equal(err.buf, "t.yaml:3:8: section 'A' is already "
				     "claimed by t.yaml:1:10");
	assert_int_equal(subsys_set_count(set), 1);
	assert_null(subsys_set_lookup(set, "B"));
	subsys_set_free(set);
	strbuf_release(&err);
}

/* Hash: content, not layout. */

static void hash_of(char out[41], const char *const *yaml, size_t nr)
{
	struct subsys_set *set = set_of(yaml, nr);

	subsys_set_hash(out, set);
	subsys_set_free(set);
}

static void test_hash(void **state)
{
	static const char *const a[] = {
		"section: A\nstages: {flow: {guidance: x}}\n",
		"section: B\nkeywords: [abc_*]\n",
	};
	/* Same content: other order, comments, quoting, block style. */
	static const char *const b[] = {
		"# B\nsection: 'B'\nkeywords:\n  - abc_*\n",
		"section: \"A\"\nstages:\n  flow:\n    guidance: |\n      x\n",
	};
	static const char *const c[] = {
		"section: A\nstages: {flow: {guidance: y}}\n",
		"section: B\nkeywords: [abc_*]\n",
	};
	static const char *const d[] = {
		"section: A\nstages: {flow: {guidance: x}}\n",
		"section: B\nkeywords: [abc_*]\ntoken_budget: 1000\n",
	};
	char ha[41], hb[41], hc[41], hd[41], he[41];
	struct subsys_set *set;

	(void)state;
	hash_of(ha, a, 2);
	hash_of(hb, b, 2);
	hash_of(hc, c, 2);
	hash_of(hd, d, 2);
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	assert_string_not_equal(ha, hd);
	/*
	 * A fixed value: the serialisation is part of the contract; this
	 * is `printf 'kreview-subsys 1\n' | git hash-object --stdin`.
	 */
	subsys_set_new(&set);
	subsys_set_hash(he, set);
	assert_string_equal(he, "816d745d70add1bea2c3472d9a71819f9ee90c16");
	subsys_set_free(set);
}

/* Globs and keywords. */

static void test_globs(void **state)
{
	static const char *const g[] = { "drivers/net/", "*.h",
					  "net/*/gen-*.c",
					  "arch/*/net/" };
	const char *why;

	(void)state;
	assert_true(subsys_glob_list_match(g, 4, "drivers/net/tun.c"));
	assert_true(subsys_glob_list_match(g, 4, "drivers/net/a/b/c.c"));
	assert_false(subsys_glob_list_match(g, 4, "drivers/netdevsim.c"));
	assert_true(subsys_glob_list_match(g, 4, "include/linux/x.h"));
	assert_true(subsys_glob_list_match(g, 4, "x.h"));
	assert_true(subsys_glob_list_match(g, 4, "net/core/gen-a.c"));
	assert_false(subsys_glob_list_match(g, 4, "net/core/sub/gen-a.c"));
	assert_true(subsys_glob_list_match(g, 4, "arch/x86/net/bpf_jit.c"));
	assert_false(subsys_glob_list_match(g, 4, "arch/x86/kvm/x.c"));
	assert_false(subsys_glob_list_match(g, 0, "x.h"));
	assert_int_equal(subsys_glob_check("a/[!]x]/b", &why), 0);
	assert_int_equal(subsys_glob_check("fs/*.[ch]", &why), 0);
	assert_int_equal(subsys_glob_check("", &why), -EINVAL);
	assert_int_equal(subsys_glob_check("a\\b", &why), -EINVAL);
}

static void test_keywords(void **state)
{
	static const char *const yaml[] = {
		"section: RCU\nkeywords: [call_rcu, 'rcu_read_*']\n",
		"section: IO\nkeywords: [io_uring_cmd]\n",
		"section: NONE\n",
	};
	static const char diff[] =
		"commit message mentions call_rcu\n"
		"--- a/call_rcu.c\n"
		"+++ b/call_rcu.c\n"
		"@@ -1 +1 @@\n"
		" call_rcu(&x, f); context line\n"
		"-\tcall_rcu_tasks(&x, f);\n"
		"+\tfoo(io_uring_cmd);\n";
	struct subsys_set *set = set_of(yaml, 3);
	struct config_strlist out = { 0 };
	const char *have[] = { "IO" };

	(void)state;
	subsys_set_match_keywords(&out, set, NULL, 0, diff, strlen(diff));
	assert_int_equal(out.nr, 1);
	assert_string_equal(out.v[0], "IO");
	/* Already matched titles are not added again. */
	config_strlist_release(&out);
	subsys_set_match_keywords(&out, set, have, 1, diff, strlen(diff));
	assert_int_equal(out.nr, 0);
	subsys_set_match_keywords(&out, set, NULL, 0, "+x = rcu_read_lock();",
				  21);
	assert_int_equal(out.nr, 1);
	assert_string_equal(out.v[0], "RCU");
	/* Not twice into the same list. */
	subsys_set_match_keywords(&out, set, NULL, 0, "-\tcall_rcu(a)\n", 13);
	assert_int_equal(out.nr, 1);
	/* Prefix bound on the left only; no match in 'xrcu_read_lock'. */
	config_strlist_release(&out);
	subsys_set_match_keywords(&out, set, NULL, 0, "+xrcu_read_lock\n",
				  16);
	assert_int_equal(out.nr, 0);
	config_strlist_release(&out);
	subsys_set_free(set);
}

/* Fixture directories in tests/data/subsys. */
static void test_data_dirs(void **state)
{
	struct subsys_set *set = NULL;
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	const struct subsys_file *f;
	const char *bad = KREVIEW_TEST_DATA "/subsys/bad";

	(void)state;
	set = load_dir_ok(KREVIEW_TEST_DATA "/subsys/good");
	assert_int_equal(subsys_set_count(set), 2);
	f = subsys_set_lookup(set, "Z");
	assert_non_null(f);
	assert_string_equal(subsys_file_section(f), "X");
	assert_false(subsys_file_stage_enabled(f, SUBSYS_STAGE_FLOW));
	assert_string_equal(subsys_file_guidance(f, SUBSYS_STAGE_VERIFY), "v");
	assert_int_equal(subsys_file_style_at(f, 0)->severity,
			 SUBSYS_SEV_CRITICAL);
	assert_int_equal(subsys_file_non_issue_at(f, 0)->stages,
			 SUBSYS_STAGE_BIT(SUBSYS_STAGE_FLOW) |
				 SUBSYS_STAGE_BIT(SUBSYS_STAGE_REPORT));
	subsys_set_free(set);

	/* Every problem of every file, in file order. */
	set = NULL;
	assert_int_equal(subsys_set_load_dir(&set, bad, &err), -EINVAL);
	assert_null(set);
	test_read_data(&want, "subsys/bad/expected.txt");
	for (size_t i = 0; i < want.len; i++) {
		if (want.buf[i] != '@')
			continue;
		strbuf_remove(&want, i, 1);
		strbuf_insert(&want, i, bad, strlen(bad));
	}
	strbuf_rtrim(&want);
	if (strcmp(err.buf, want.buf))
		fail_msg("want:\n%s\ngot:\n%s", want.buf, err.buf);
	subsys_set_free(set);
	strbuf_release(&err);
	strbuf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_set_add),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_data_dirs),
		cmocka_unit_test(test_shipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
