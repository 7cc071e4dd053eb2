#include "kreview/config.h"
#include "kreview/yamlnode.h"
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

/* Helpers. */

static void env_home(const char *home)
{
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	unsetenv("XDG_CONFIG_HOME");
	if (home)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
}

static int load(struct kreview_config **cfg, const char *yaml,
		struct strbuf *err)
{
	strbuf_reset(err);
	return config_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), err);
}

/* Loading must fail with exactly 'msg' (all lines). */
static void expect_error(const char *yaml, const char *msg)
{
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	int r;

	r = load(&cfg, yaml, &err);
	if (r != -EINVAL || strcmp(err.buf, msg))
		fail_msg("for:\n%s\nwant %d '%s'\ngot  %d '%s'", yaml, -EINVAL,
			 msg, r, err.buf);
	assert_null(cfg);
	strbuf_release(&err);
}

static struct kreview_config *expect_ok(const char *yaml)
{
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	int r;

	r = load(&cfg, yaml, &err);
	if (r)
		fail_msg("for:\n%s\nunexpected error %d '%s'", yaml, r,
			 err.buf);
	assert_non_null(cfg);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
	return cfg;
}

static char *write_tmp(const char *dir, const char *name, const char *data,
		       size_t len)
{
	struct strbuf p = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&p, "%s/%s", dir, name);
	f = fopen(p.buf, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return strbuf_detach(&p, NULL);
}

/* Defaults and values. */

static void test_defaults(void **state)
{
	struct kreview_config *cfg;

	(void)state;
	env_home("/home/u");
	cfg = expect_ok("");
	assert_string_equal(cfg->path, "t.yaml");
	assert_string_equal(cfg->state_dir, "/home/u/.local/state/kreview");
	assert_string_equal(cfg->database,
			    "/home/u/.local/state/kreview/kreview.db");
	assert_int_equal(cfg->ingest.stall_after_ms, 24LL * 3600 * 1000);
	assert_int_equal(cfg->ingest.bot_senders.nr, 5);
	assert_string_equal(cfg->ingest.bot_senders.v[0], "lkp@intel.com");
	assert_string_equal(cfg->ingest.bot_senders.v[4], "noreply@*");
	assert_null(cfg->ingest.own_address);
	config_free(cfg);

	/* Comments only, a lone "---", an empty section: all defaults. */
	cfg = expect_ok("# nothing\n\n");
	assert_int_equal(cfg->ingest.bot_senders.nr, 5);
	config_free(cfg);
	cfg = expect_ok("---\n");
	assert_int_equal(cfg->ingest.stall_after_ms, 24LL * 3600 * 1000);
	config_free(cfg);
	cfg = expect_ok("ingest:\n");
	assert_int_equal(cfg->ingest.bot_senders.nr, 5);
	config_free(cfg);

	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	cfg = expect_ok("");
	assert_string_equal(cfg->state_dir, "/xdg/state/kreview");
	config_free(cfg);
	/* Relative XDG values are ignored, as the spec says. */
	setenv("XDG_STATE_HOME", "rel/state", 1);
	cfg = expect_ok("");
	assert_string_equal(cfg->state_dir, "/home/u/.local/state/kreview");
	config_free(cfg);
	setenv("STATE_DIRECTORY", "/var/lib/kreview:/var/lib/other", 1);
	cfg = expect_ok("");
	assert_string_equal(cfg->state_dir, "/var/lib/kreview");
	assert_string_equal(cfg->database, "/var/lib/kreview/kreview.db");
	config_free(cfg);

	/* state_dir given: database follows it; env is not consulted. */
	env_home(NULL);
	cfg = expect_ok("state_dir: /srv/kr\n");
	assert_string_equal(cfg->database, "/srv/kr/kreview.db");
	config_free(cfg);
	expect_error("", "cannot choose a state directory: none of "
			 "$STATE_DIRECTORY, $XDG_STATE_HOME and $HOME is set; "
			 "set 'state_dir'");
}

static void test_values(void **state)
{
	struct kreview_config *cfg;

	(void)state;
	env_home("/home/u");
	cfg = expect_ok("state_dir: /s\n"
			"database: '/d/x.db'\n"
			"ingest:\n"
			"  stall_after: 1h30m\n"
			"  bot_senders: [\"*@bots.example\", a@b]\n"
			"  own_address: kreview@example.org\n");
	assert_string_equal(cfg->state_dir, "/s");
	assert_string_equal(cfg->database, "/d/x.db");
	assert_int_equal(cfg->ingest.stall_after_ms, 90 * 60 * 1000);
	assert_int_equal(cfg->ingest.bot_senders.nr, 2);
	assert_string_equal(cfg->ingest.bot_senders.v[0], "*@bots.example");
	assert_string_equal(cfg->ingest.own_address, "kreview@example.org");
	assert_true(config_is_bot_sender(cfg, "Build@BOTS.example"));
	assert_true(config_is_bot_sender(cfg, "a@b"));
	assert_false(config_is_bot_sender(cfg, "lkp@intel.com"));
	config_free(cfg);

	/* Empty list turns the filter off; core tags are accepted. */
	cfg = expect_ok("ingest: {bot_senders: []}\n"
			"state_dir: !!str /tagged\n");
	assert_int_equal(cfg->ingest.bot_senders.nr, 0);
	assert_string_equal(cfg->state_dir, "/tagged");
	assert_false(config_is_bot_sender(cfg, "lkp@intel.com"));
	config_free(cfg);

	/* The non-specific tag '!' just means "a string". */
	cfg = expect_ok("state_dir: ! /x\n");
	assert_string_equal(cfg->state_dir, "/x");
	config_free(cfg);

	/* UTF-8 is fine in strings. */
	cfg = expect_ok("state_dir: /srv/\xc3\xa9t\xc3\xa9\n");
	assert_string_equal(cfg->state_dir, "/srv/\xc3\xa9t\xc3\xa9");
	config_free(cfg);
}

static void test_example_config(void **state)
{
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	int r;

	(void)state;
	env_home("/home/u");
	r = config_load(&cfg, KREVIEW_SRCDIR "/config/kreview.yaml", &err);
	if (r)
		fail_msg("example config: %s", err.buf);
	assert_string_equal(cfg->path, KREVIEW_SRCDIR "/config/kreview.yaml");
	/* The example spells out the defaults. */
	assert_int_equal(cfg->ingest.stall_after_ms, 24LL * 3600 * 1000);
	assert_int_equal(cfg->ingest.bot_senders.nr, 5);
	assert_string_equal(cfg->ingest.bot_senders.v[3], "*-bot@*");
	assert_true(config_is_bot_sender(
		cfg, "syzbot+1234@syzkaller.appspotmail.com"));
	assert_true(config_is_bot_sender(cfg, "ci-bot@example.org"));
	assert_true(config_is_bot_sender(cfg,
					 "patchwork-bot+netdevbpf@kernel.org"));
	assert_false(
		config_is_bot_sender(cfg, "torvalds@linux-foundation.org"));
	config_free(cfg);
	strbuf_release(&err);
}

/* Every key of the schema is documented in kreview.yaml(5) and the example. */
static void check_documented(const struct config_field *fields,
			     const struct strbuf *man,
			     const struct strbuf *example)
{
	for (const struct config_field *f = fields; f->key; f++) {
		struct strbuf want = STRBUF_INIT;

		strbuf_addf(&want, ".It Ic %s :", f->key);
		if (!strstr(man->buf, want.buf))
			fail_msg("key '%s' missing from kreview.yaml.5",
				 f->key);
		strbuf_reset(&want);
		strbuf_addf(&want, "%s:", f->key);
		if (!strstr(example->buf, want.buf))
			fail_msg("key '%s' missing from config/kreview.yaml",
				 f->key);
		assert_non_null(f->doc);
		if (f->type == CONFIG_MAPPING)
			check_documented(f->fields, man, example);
		strbuf_release(&want);
	}
}

static void test_documented(void **state)
{
	struct strbuf man = STRBUF_INIT, example = STRBUF_INIT;

	(void)state;
	assert_int_equal(
		strbuf_read_file(&man, KREVIEW_SRCDIR "/doc/kreview.yaml.5", 0),
		0);
	assert_int_equal(strbuf_read_file(&example,
					  KREVIEW_SRCDIR "/config/kreview.yaml",
					  0),
			 0);
	check_documented(config_schema, &man, &example);
	strbuf_release(&man);
	strbuf_release(&example);
}

/* Durations. */

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int r;
		int64_t ms;
	} cases[] = {
		{"30s", 0, 30000},
		{"90m", 0, 5400000},
		{"24h", 0, 86400000},
		{"1h30m", 0, 5400000},
		{"500ms", 0, 500},
		{"1m500ms", 0, 60500},
		{"7d", 0, 7LL * 86400000},
		{"0", 0, 0},
		{"0s", 0, 0},
		{"", -EINVAL, 0},
		{"5", -EINVAL, 0},
		{"h", -EINVAL, 0},
		{"1x", -EINVAL, 0},
		{"1h ", -EINVAL, 0},
		{" 1h", -EINVAL, 0},
		{"-1h", -EINVAL, 0},
		{"1.5h", -EINVAL, 0},
		{"1H", -EINVAL, 0},
		{"9999999999999999999d", -ERANGE, 0},
		{"106751991167d", 0, 106751991167LL * 86400000},
		{"106751991168d", -ERANGE, 0},
	};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t ms = -1;
		int r = config_parse_duration(&ms, cases[i].s);

		if (r != cases[i].r || (!r && ms != cases[i].ms))
			fail_msg("'%s': got %d %" PRId64, cases[i].s, r, ms);
		if (r)
			assert_int_equal(ms, -1);
	}
	config_format_duration(&sb, 5400000);
	assert_string_equal(sb.buf, "1h30m");
	strbuf_reset(&sb);
	config_format_duration(&sb, 86400000LL + 1);
	assert_string_equal(sb.buf, "1d1ms");
	strbuf_reset(&sb);
	config_format_duration(&sb, 0);
	assert_string_equal(sb.buf, "0");
	strbuf_release(&sb);
}

/* Errors from the document layer, with positions. */

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("state_dir: /a: b\ningest: x: y\n",
		     "t.yaml:1:14: mapping values are not allowed in this "
		     "context");
	expect_error("state_dir: \"/unterminated\n",
		     "t.yaml:2:1: found unexpected end of stream (while "
		     "scanning a quoted scalar at 1:12)");
	expect_error("ingest:\n  - a\n  b: c\n",
		     "t.yaml:3:3: did not find expected '-' indicator (while "
		     "parsing a block collection at 2:3)");
	expect_error("ingest:\n\tstall_after: 1h\n",
		     "t.yaml:2:1: found character that cannot start any token "
		     "(while scanning for the next token at 2:1)");
}

static void test_rejected_yaml(void **state)
{
	(void)state;
	expect_error("ingest: &sect\n  stall_after: 1h\n",
		     "t.yaml:1:9: anchors are not supported (found '&sect')");
	expect_error("a: &x 1\n",
		     "t.yaml:1:4: anchors are not supported (found '&x')");
	expect_error("state_dir: *x\n",
		     "t.yaml:1:12: aliases are not supported (found '*x')");
	expect_error("state_dir: !path /x\n",
		     "t.yaml:1:12: tag '!path' is not supported");
	expect_error("ingest: !!python/object {}\n",
		     "t.yaml:1:9: tag 'tag:yaml.org,2002:python/object' is not "
		     "supported");
	expect_error("ingest:\n  stall_after: 1h\n  own_address: a@b\n"
		     "  stall_after: 2h\n",
		     "t.yaml:4:3: duplicate key 'stall_after' (first at 2:3)");
	expect_error("{b: 1, a: 2, b: 3, a: 4}\n",
		     "t.yaml:1:14: duplicate key 'b' (first at 1:2)");
	expect_error("ingest: {}\n---\ningest: {}\n",
		     "t.yaml:2:1: only one YAML document is allowed");
	expect_error("? [a]\n: b\n",
		     "t.yaml:1:3: mapping keys must be scalars, not sequence");
	expect_error("- a\n- b\n",
		     "t.yaml:1:1: expected a mapping at the top, got a "
		     "sequence");
	expect_error("just text\n",
		     "t.yaml:1:1: expected a mapping at the top, got a scalar");
}

static void test_billion_laughs(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	test_read_data(&sb, "config/billion-laughs.yaml");
	assert_int_equal(
		config_load_buffer(&cfg, "bl.yaml", sb.buf, sb.len, &err),
		-EINVAL);
	assert_string_equal(
		err.buf, "bl.yaml:2:4: anchors are not supported (found '&a')");
	assert_null(cfg);
	strbuf_release(&sb);
	strbuf_release(&err);

	/* A self-referencing alias must not loop. */
	expect_error("x: &a [*a]\n",
		     "t.yaml:1:4: anchors are not supported (found '&a')");
}

static void test_limits(void **state)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct kreview_config *cfg = NULL;
	struct yamlnode_doc *doc = NULL;
	char *dir, *path;

	(void)state;
	env_home("/home/u");
	/* Depth: 32 nested collections are fine, 33 are not. */
	for (int i = 0; i < 32; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 32; i++)
		strbuf_addch(&sb, ']');
	assert_int_equal(
		yamlnode_load_buffer(&doc, "d.yaml", sb.buf, sb.len, &err), 0);
	yamlnode_doc_free(doc);
	doc = NULL;
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "ingest: ");
	for (int i = 0; i < 100000; i++)
		strbuf_addch(&sb, '[');
	assert_int_equal(
		config_load_buffer(&cfg, "d.yaml", sb.buf, sb.len, &err),
		-EINVAL);
	assert_string_equal(err.buf,
			    "d.yaml:1:40: nesting deeper than 32 levels");

	/* Size: 2 MB, from memory and from a file. */
	strbuf_reset(&sb);
	strbuf_reset(&err);
	while (sb.len < 2 * 1024 * 1024)
		strbuf_addstr(&sb, "# padding padding padding padding\n");
	assert_int_equal(
		config_load_buffer(&cfg, "big.yaml", sb.buf, sb.len, &err),
		-E2BIG);
	assert_string_equal(err.buf,
			    "big.yaml: file is larger than 1048576 bytes");
	dir = test_mkdtemp();
	path = write_tmp(dir, "big.yaml", sb.buf, sb.len);
	strbuf_reset(&err);
	assert_int_equal(config_load(&cfg, path, &err), -E2BIG);
	assert_non_null(strstr(err.buf, "big.yaml: file is larger than"));
	assert_null(cfg);
	free(path);

	/* Node count: a flow sequence of 70000 scalars (140 KB). */
	strbuf_reset(&sb);
	strbuf_reset(&err);
	strbuf_addstr(&sb, "ingest: [");
	for (int i = 0; i < 70000; i++)
		strbuf_addstr(&sb, "1,");
	strbuf_addstr(&sb, "1]\n");
	assert_int_equal(
		config_load_buffer(&cfg, "n.yaml", sb.buf, sb.len, &err),
		-EINVAL);
	assert_non_null(strstr(err.buf, ": more than 65536 nodes"));

	/* A wide mapping with one late duplicate stays fast. */
	strbuf_reset(&sb);
	strbuf_reset(&err);
	for (int i = 0; i < 30000; i++)
		strbuf_addf(&sb, "k%d: 1\n", i);
	strbuf_addstr(&sb, "k17: 2\n");
	assert_int_equal(
		yamlnode_load_buffer(&doc, "w.yaml", sb.buf, sb.len, &err),
		-EINVAL);
	assert_string_equal(
		err.buf, "w.yaml:30001:1: duplicate key 'k17' (first at 18:1)");

	test_rmtree(dir);
	free(dir);
	strbuf_release(&sb);
	strbuf_release(&err);
}

static void test_bad_bytes(void **state)
{
	static const char nul[] = "state_dir: /a\0b\n";

	(void)state;
	expect_error("state_dir: /a\xff\n",
		     "t.yaml:1:14: invalid leading UTF-8 octet (byte 0xff)");
	expect_error("ingest:\n  own_address: \xc3\xa9\xc3\n",
		     "t.yaml:2:18: invalid trailing UTF-8 octet (byte 0x0a)");
	expect_error("state_dir: /\xc3",
		     "t.yaml:1:13: incomplete UTF-8 octet sequence");
	expect_error("state_dir: /a\x01\n",
		     "t.yaml:1:14: control characters are not allowed "
		     "(byte 0x01)");
	expect_error("state_dir: \"/a\\0b\"\n",
		     "t.yaml:1:12: string contains a NUL character");
	expect_error("\xef\xbb\xbf"
		     "state_dir: rel\n",
		     "t.yaml:1:12: 'rel' is not an absolute path");

	{
		struct kreview_config *cfg = NULL;
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(config_load_buffer(&cfg, "z.yaml", nul,
						    sizeof(nul) - 1, &err),
				 -EINVAL);
		assert_string_equal(err.buf,
				    "z.yaml:1:14: control characters are not "
				    "allowed (byte 0x00)");
		strbuf_release(&err);
	}
}

/* Errors from the binder, with positions, all collected. */

static void test_schema_errors(void **state)
{
	(void)state;
	expect_error(
		"ingets:\n  stall_after: 1h\n",
		"t.yaml:1:1: unknown key 'ingets' (did you mean 'ingest'?)");
	expect_error("ingest:\n  Stall_After: 1h\n",
		     "t.yaml:2:3: unknown key 'Stall_After' (did you mean "
		     "'stall_after'?)");
	expect_error("lists: {}\n",
		     "t.yaml:1:8: lists: expected a sequence, got a mapping");
	expect_error("ingest:\n  stall_after: 24\n",
		     "t.yaml:2:16: expected a duration like '30s', '90m' or "
		     "'24h', got '24'");
	expect_error("ingest:\n  stall_after: 10s\n",
		     "t.yaml:2:16: value 10s out of range 1m..30d");
	expect_error("ingest:\n  stall_after:\n",
		     "t.yaml:2:15: expected a duration like '30s', '90m' or "
		     "'24h', got an empty value");
	expect_error("ingest:\n  stall_after: [1h]\n",
		     "t.yaml:2:16: expected a duration like '30s', '90m' or "
		     "'24h', got a sequence");
	expect_error("state_dir: ~\n",
		     "t.yaml:1:12: expected a string, got null");
	expect_error("ingest: [a]\n",
		     "t.yaml:1:9: expected a mapping, got a sequence");
	expect_error(
		"ingest:\n  bot_senders: lkp@intel.com\n",
		"t.yaml:2:16: expected a sequence of strings, got a scalar");
	expect_error("ingest:\n  bot_senders: [a@b, [x], '', 'nobody']\n",
		     "t.yaml:2:22: expected a string, got a sequence\n"
		     "t.yaml:2:27: expected a non-empty string");
	expect_error(
		"ingest:\n  bot_senders: [a@b, nobody]\n",
		"t.yaml:2:22: 'nobody' is not a bare mail address pattern");
	expect_error("ingest:\n  own_address: 'Me <me@x.org>'\n",
		     "t.yaml:2:16: 'Me <me@x.org>' is not a bare mail address");
	expect_error("database: kreview.db\n",
		     "t.yaml:1:11: 'kreview.db' is not an absolute path");
	/* Every problem, in document order, one per line. */
	expect_error("statedir: /x\n"
		     "database: rel\n"
		     "ingest:\n"
		     "  stall_after: 1y\n"
		     "  botsenders: []\n"
		     "  own_address: nobody\n",
		     "t.yaml:1:1: unknown key 'statedir' (did you mean "
		     "'state_dir'?)\n"
		     "t.yaml:2:11: 'rel' is not an absolute path\n"
		     "t.yaml:4:16: expected a duration like '30s', '90m' or "
		     "'24h', got '1y'\n"
		     "t.yaml:5:3: unknown key 'botsenders' (did you mean "
		     "'bot_senders'?)\n"
		     "t.yaml:6:16: 'nobody' is not a bare mail address");
	/* Long and odd values are quoted and cut. */
	expect_error(
		"ingest:\n  stall_after: \"a\\tb\\u0001cccccccccccccccccccccc"
		"cccccccccccccccccccccccccccccccccccccccccccccccccccccc\"\n",
		"t.yaml:2:16: expected a duration like '30s', '90m' or "
		"'24h', got 'a\\tb\\x01cccccccccccccccccccccccccccccccccccccc"
		"cccccccccccccccccccccc'...");
}

/* The generic binder with a table using every type. */

struct t_ep {
	char *name;
	int dialect;
	int max_inflight;
	double temperature;
	bool stream;
	int64_t timeout_ms;
	int64_t budget;
	struct config_strmap headers;
	struct config_strlist models;
};

struct t_top {
	struct config_seq endpoints;
	struct {
		bool flag;
		char *req;
	} sub;
	char *custom;
	int custom_calls;
};

static const char *const t_dialects[] = {"openai", "anthropic", "gemini", NULL};
static const char *const t_models[] = {"m1", NULL};

static const struct config_field t_ep_fields[] = {
	{CONFIG_F_STRING(struct t_ep, name, "name"), .required = true},
	{CONFIG_F_ENUM(struct t_ep, dialect, "dialect", t_dialects),
	 .required = true},
	{CONFIG_F_INT(struct t_ep, max_inflight, "max_inflight"), .min = 1,
	 .max = 64, .def_int = 4},
	{CONFIG_F_DOUBLE(struct t_ep, temperature, "temperature"), .dmin = 0,
	 .dmax = 2, .def_double = 0.5},
	{CONFIG_F_BOOL(struct t_ep, stream, "stream"), .def_bool = true},
	{CONFIG_F_DURATION(struct t_ep, timeout_ms, "timeout"),
	 .def_int = 60000},
	{CONFIG_F_INT64(struct t_ep, budget, "budget")},
	{CONFIG_F_STRMAP(struct t_ep, headers, "headers")},
	{CONFIG_F_STRLIST(struct t_ep, models, "models"), .def_list = t_models},
	{NULL}};

static const struct config_field t_sub_fields[] = {
	{CONFIG_F_BOOL(__typeof__(((struct t_top *)0)->sub), flag, "flag")},
	{CONFIG_F_STRING(__typeof__(((struct t_top *)0)->sub), req, "req"),
	 .required = true},
	{NULL}};

static int t_custom_parse(void *field, const struct yamlnode *node,
			  struct strbuf *err)
{
	char **p = field;
	struct t_top *top = (void *)((char *)field -
				     offsetof(struct t_top, custom));

	top->custom_calls++;
	if (!node) {
		*p = xstrdup("absent");
		return 0;
	}
	return config_get_string(p, node, err);
}

static void t_custom_release(void *field)
{
	char **p = field;

	free(*p);
	*p = NULL;
}

static const struct config_field t_top_fields[] = {
	{CONFIG_F_SEQUENCE(struct t_top, endpoints, "endpoints", t_ep_fields,
			   struct t_ep)},
	{CONFIG_F_MAPPING(struct t_top, sub, "sub", t_sub_fields)},
	{CONFIG_F_CUSTOM(struct t_top, custom, "custom", t_custom_parse,
			 t_custom_release)},
	{NULL}};

static int bind(struct t_top *top, const char *yaml, struct strbuf *err)
{
	struct yamlnode_doc *doc = NULL;
	int r;

	memset(top, 0, sizeof(*top));
	strbuf_reset(err);
	r = yamlnode_load_buffer(&doc, "b.yaml", yaml, strlen(yaml), err);
	assert_int_equal(r, 0);
	r = config_bind(top, t_top_fields, doc->root, err);
	yamlnode_doc_free(doc);
	return r;
}

static void test_binder(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct t_top top;
	struct t_ep *ep;

	(void)state;
	assert_int_equal(bind(&top,
			      "endpoints:\n"
			      "  - name: local\n"
			      "    dialect: openai\n"
			      "  - name: claude\n"
			      "    dialect: anthropic\n"
			      "    max_inflight: 64\n"
			      "    temperature: 1.25\n"
			      "    stream: false\n"
			      "    timeout: 2m\n"
			      "    budget: -9223372036854775808\n"
			      "    headers: {x-a: '1', X-B: two}\n"
			      "    models: [a, b]\n"
			      "sub: {req: here, flag: true}\n"
			      "custom: given\n",
			      &err),
			 0);
	assert_int_equal(top.endpoints.nr, 2);
	ep = top.endpoints.items;
	assert_string_equal(ep[0].name, "local");
	assert_int_equal(ep[0].dialect, 0);
	assert_int_equal(ep[0].max_inflight, 4);
	assert_true(ep[0].temperature == 0.5);
	assert_true(ep[0].stream);
	assert_int_equal(ep[0].timeout_ms, 60000);
	assert_int_equal(ep[0].models.nr, 1);
	assert_string_equal(ep[0].models.v[0], "m1");
	assert_int_equal(ep[0].headers.nr, 0);
	assert_string_equal(ep[1].name, "claude");
	assert_int_equal(ep[1].dialect, 1);
	assert_int_equal(ep[1].max_inflight, 64);
	assert_true(ep[1].temperature == 1.25);
	assert_false(ep[1].stream);
	assert_int_equal(ep[1].timeout_ms, 120000);
	assert_true(ep[1].budget == INT64_MIN);
	assert_int_equal(ep[1].headers.nr, 2);
	assert_string_equal(config_strmap_get(&ep[1].headers, "X-B"), "two");
	assert_string_equal(ep[1].headers.keys[0], "x-a");
	assert_null(config_strmap_get(&ep[1].headers, "x-c"));
	assert_int_equal(ep[1].models.nr, 2);
	assert_string_equal(ep[1].models.v[1], "b");
	assert_true(top.sub.flag);
	assert_string_equal(top.sub.req, "here");
	assert_string_equal(top.custom, "given");
	assert_int_equal(top.custom_calls, 1);
	config_release(&top, t_top_fields);
	assert_null(top.endpoints.items);
	assert_null(top.custom);

	/* Absent custom key: parse(NULL) sets its default. */
	assert_int_equal(bind(&top, "sub: {req: x}\n", &err), 0);
	assert_string_equal(top.custom, "absent");
	assert_int_equal(top.custom_calls, 1);
	config_release(&top, t_top_fields);

	/* Every scalar error kind, collected, with positions. */
	assert_int_equal(
		bind(&top,
		     "endpoints:\n"
		     "  - name: a\n"
		     "    dialect: openia\n"
		     "    max_inflight: 0\n"
		     "    temperature: hot\n"
		     "    stream: yes\n"
		     "    timeout: 5\n"
		     "    budget: abc\n"
		     "    headers: [a]\n"
		     "  - dialect: gemini\n"
		     "    max_inflight: 0x10\n"
		     "    temperature: 2.5\n"
		     "    stream: True\n"
		     "    budget: 99999999999999999999\n"
		     "    headers: {a: [b]}\n"
		     "  - {name: c, dialect: gemini, max_inflight: 010,"
		     " temperature: inf, models: x}\n"
		     "  -\n"
		     "  - 7\n"
		     "sub: {flag: on}\n"
		     "custom: [x]\n",
		     &err),
		-EINVAL);
	assert_string_equal(
		err.buf,
		"b.yaml:3:14: expected one of 'openai', 'anthropic', "
		"'gemini', got 'openia'\n"
		"b.yaml:4:19: value 0 out of range 1..64\n"
		"b.yaml:5:18: expected a number, got 'hot'\n"
		"b.yaml:6:13: expected true or false, got 'yes'\n"
		"b.yaml:7:14: expected a duration like '30s', '90m' or '24h', "
		"got '5'\n"
		"b.yaml:8:13: expected an integer, got 'abc'\n"
		"b.yaml:9:14: expected a mapping of strings, got a sequence\n"
		"b.yaml:11:19: expected an integer, got '0x10'\n"
		"b.yaml:12:18: value 2.5 out of range 0..2\n"
		"b.yaml:13:13: expected true or false, got 'True'\n"
		"b.yaml:14:13: value 99999999999999999999 is too large\n"
		"b.yaml:15:18: expected a string, got a sequence\n"
		"b.yaml:10:5: missing required key 'name'\n"
		"b.yaml:16:46: expected an integer, got '010'\n"
		"b.yaml:16:64: expected a number, got 'inf'\n"
		"b.yaml:16:77: expected a sequence of strings, got a scalar\n"
		"b.yaml:17:4: missing required key 'name'\n"
		"b.yaml:17:4: missing required key 'dialect'\n"
		"b.yaml:18:5: expected a mapping, got a scalar\n"
		"b.yaml:19:13: expected true or false, got 'on'\n"
		"b.yaml:19:6: missing required key 'req'\n"
		"b.yaml:20:9: expected a string, got a sequence");
	/* Half-bound objects free cleanly (ASan checks the rest). */
	assert_int_equal(top.endpoints.nr, 5);
	config_release(&top, t_top_fields);

	/* An absent section still reports its required keys. */
	assert_int_equal(bind(&top, "custom: x\n", &err), -EINVAL);
	assert_string_equal(err.buf,
			    "b.yaml:1:1: missing required key 'req' in 'sub'");
	config_release(&top, t_top_fields);
	strbuf_release(&err);
}

/* Files and the default search. */

static void test_files(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct kreview_config *cfg = NULL;
	char *dir, *sub, *path;

	(void)state;
	dir = test_mkdtemp();
	env_home(dir);

	/* An explicit missing file is an error. */
	assert_int_equal(config_load(&cfg, "/nonexistent/k.yaml", &err),
			 -ENOENT);
	assert_string_equal(err.buf, "cannot open '/nonexistent/k.yaml': No "
				     "such file or directory");
	assert_null(cfg);

	/* No default file: defaults, no path. */
	strbuf_reset(&err);
	assert_int_equal(config_load(&cfg, NULL, &err), 0);
	assert_int_equal(err.len, 0);
	assert_null(cfg->path);
	assert_int_equal(cfg->ingest.bot_senders.nr, 5);
	config_free(cfg);

	/* ~/.config/kreview/config.yaml is found. */
	sub = NULL;
	{
		struct strbuf p = STRBUF_INIT;

		strbuf_addf(&p, "%s/.config", dir);
		assert_int_equal(mkdir(p.buf, 0700), 0);
		strbuf_addstr(&p, "/kreview");
		assert_int_equal(mkdir(p.buf, 0700), 0);
		sub = strbuf_detach(&p, NULL);
	}
	path = write_tmp(sub, "config.yaml", "ingest: {stall_after: 2h}\n", 26);
	assert_int_equal(config_load(&cfg, NULL, &err), 0);
	assert_string_equal(cfg->path, path);
	assert_int_equal(cfg->ingest.stall_after_ms, 2 * 3600 * 1000);
	config_free(cfg);

	/* $XDG_CONFIG_HOME wins when its file exists ... */
	{
		char *x = write_tmp(dir, "kreview", "", 0);

		/* ... and a non-directory in the way counts as absent. */
		setenv("XDG_CONFIG_HOME", dir, 1);
		assert_int_equal(config_load(&cfg, NULL, &err), 0);
		assert_string_equal(cfg->path, path);
		config_free(cfg);
		unlink(x);
		free(x);
	}
	{
		struct strbuf p = STRBUF_INIT;
		char *x;

		strbuf_addf(&p, "%s/kreview", dir);
		assert_int_equal(mkdir(p.buf, 0700), 0);
		x = write_tmp(p.buf, "config.yaml",
			      "ingest:\n  stall_after: 3h\n", 26);
		assert_int_equal(config_load(&cfg, NULL, &err), 0);
		assert_string_equal(cfg->path, x);
		assert_int_equal(cfg->ingest.stall_after_ms, 3 * 3600 * 1000);
		config_free(cfg);

		/* A broken default file is an error with its path. */
		free(write_tmp(p.buf, "config.yaml", "ingest: [\n", 10));
		assert_int_equal(config_load(&cfg, NULL, &err), -EINVAL);
		assert_non_null(strstr(err.buf, x));
		assert_non_null(strstr(
			err.buf, ":2:1: did not find expected node content"));
		free(x);
		strbuf_release(&p);
	}

	/* A FIFO is refused without blocking. */
	{
		struct strbuf p = STRBUF_INIT;

		strbuf_addf(&p, "%s/fifo.yaml", dir);
		assert_int_equal(mkfifo(p.buf, 0600), 0);
		strbuf_reset(&err);
		assert_int_equal(config_load(&cfg, p.buf, &err), -EINVAL);
		assert_non_null(strstr(err.buf, "is not a regular file"));
		strbuf_release(&p);
	}

	env_home("/home/u");
	test_rmtree(dir);
	free(dir);
	free(sub);
	free(path);
	strbuf_release(&err);
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(config_glob_match("*", ""));
	assert_true(config_glob_match("a*b", "ab"));
	assert_true(config_glob_match("a*b", "axxb"));
	assert_false(config_glob_match("a*b", "axxbc"));
	assert_true(config_glob_match("*-bot@*", "build-bot@x.org"));
	assert_false(config_glob_match("*-bot@*", "robot@x.org"));
	assert_true(config_glob_match("LKP@intel.com", "lkp@INTEL.com"));
	assert_false(config_glob_match("lkp@intel.com", "lkp@intel.com.evil"));
	assert_true(config_glob_match("syzbot*@*appspotmail.com",
				      "syzbot+8a5f@syzkaller.appspotmail.com"));
	assert_false(config_glob_match("a*a*a*a*a*b",
				       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_example_config),
		cmocka_unit_test(test_documented),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_rejected_yaml),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_binder),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_glob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
