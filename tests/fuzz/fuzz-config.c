/*
 * Fuzz the YAML config loader: the bounded document layer, the
 * kreview schema, and the generic binder with a table that uses every
 * field type (the shape an endpoints section will have).
 */
#include "kreview/config.h"
#include "kreview/yamlnode.h"

struct fz_item {
	char *name;
	int kind;
	int n;
	int64_t big;
	double ratio;
	bool on;
	int64_t wait_ms;
	struct config_strmap headers;
	struct config_strlist list;
};

struct fz_top {
	struct config_seq items;
	struct {
		char *req;
	} sub;
	char *custom;
};

static const char *const fz_kinds[] = {"a", "b", "c", NULL};

static const struct config_field fz_item_fields[] = {
	{CONFIG_F_STRING(struct fz_item, name, "name"), .required = true},
	{CONFIG_F_ENUM(struct fz_item, kind, "kind", fz_kinds)},
	{CONFIG_F_INT(struct fz_item, n, "n"), .min = 1, .max = 64},
	{CONFIG_F_INT64(struct fz_item, big, "big")},
	{CONFIG_F_DOUBLE(struct fz_item, ratio, "ratio"), .dmin = 0, .dmax = 1},
	{CONFIG_F_BOOL(struct fz_item, on, "on")},
	{CONFIG_F_DURATION(struct fz_item, wait_ms, "wait"), .min = 1,
	 .max = INT64_MAX},
	{CONFIG_F_STRMAP(struct fz_item, headers, "headers")},
	{CONFIG_F_STRLIST(struct fz_item, list, "list")},
	{NULL}};

static const struct config_field fz_sub_fields[] = {
	{CONFIG_F_STRING(__typeof__(((struct fz_top *)0)->sub), req, "req"),
	 .required = true},
	{NULL}};

static int fz_parse(void *field, const struct yamlnode *node,
		    struct strbuf *err)
{
	char **p = field;

	if (!node)
		return 0;
	return config_get_string(p, node, err);
}

static void fz_release(void *field)
{
	char **p = field;

	free(*p);
	*p = NULL;
}

static const struct config_field fz_top_fields[] = {
	{CONFIG_F_SEQUENCE(struct fz_top, items, "items", fz_item_fields,
			   struct fz_item)},
	{CONFIG_F_MAPPING(struct fz_top, sub, "sub", fz_sub_fields)},
	{CONFIG_F_CUSTOM(struct fz_top, custom, "custom", fz_parse,
			 fz_release)},
	{NULL}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct kreview_config *cfg = NULL;
	struct yamlnode_doc *doc = NULL;
	struct fz_top top = {0};
	int r;

	setenv("HOME", "/fuzz/home", 1);
	r = config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size,
			       &err);
	if (r == 0) {
		if (err.len || !cfg || !cfg->state_dir || !cfg->database)
			BUG("success with a message or without defaults");
		(void)config_is_bot_sender(cfg, "someone@example.org");
		config_free(cfg);
	} else if (cfg || !err.len) {
		BUG("failure %d without a message", r);
	}

	strbuf_reset(&err);
	if (yamlnode_load_buffer(&doc, "fuzz.yaml", (const char *)data, size,
				 &err) == 0) {
		r = config_bind(&top, fz_top_fields, doc->root, &err);
		if (r < 0 && !err.len)
			BUG("binder failed without a message");
		config_release(&top, fz_top_fields);
		yamlnode_doc_free(doc);
	}
	strbuf_release(&err);
	return 0;
}
