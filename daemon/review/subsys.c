/*
 * Subsystem rule files: schema tables for the config binder, the
 * checks the binder cannot express, sets keyed by section title, the
 * merge into effective rules, and the content hash.
 *
 * A file is bound into 'raw' structs shaped for the binder, then
 * normalised (trailing blanks of texts dropped) and mirrored into the
 * typed values subsys.h exposes, whose strings point into 'raw'.
 */
#define _GNU_SOURCE /* memmem */
#include "kreview/subsys.h"
#include "kreview/hash.h"
#include "kreview/yamlnode.h"

#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>

const char *const subsys_stage_names[] = {
	[SUBSYS_STAGE_INTENT] = "intent",
	[SUBSYS_STAGE_CLAIMS] = "claims",
	[SUBSYS_STAGE_FLOW] = "flow",
	[SUBSYS_STAGE_RESOURCES] = "resources",
	[SUBSYS_STAGE_LOCKING] = "locking",
	[SUBSYS_STAGE_SECURITY] = "security",
	[SUBSYS_STAGE_HARDWARE] = "hardware",
	[SUBSYS_STAGE_SUBSYSTEM] = "subsystem",
	[SUBSYS_STAGE_VERIFY] = "verify",
	[SUBSYS_STAGE_REPORT] = "report",
	[SUBSYS_STAGE_MAX] = NULL,
};

const char *const subsys_severity_names[] = {
	[SUBSYS_SEV_LOW] = "low",
	[SUBSYS_SEV_MEDIUM] = "medium",
	[SUBSYS_SEV_HIGH] = "high",
	[SUBSYS_SEV_CRITICAL] = "critical",
	[SUBSYS_SEV_MAX] = NULL,
};

const char *subsys_stage_name(enum subsys_stage stage)
{
	if ((unsigned int)stage >= SUBSYS_STAGE_MAX)
		BUG("bad stage %d", (int)stage);
	return subsys_stage_names[stage];
}

const char *subsys_severity_name(enum subsys_severity sev)
{
	if ((unsigned int)sev >= SUBSYS_SEV_MAX)
		BUG("bad severity %d", (int)sev);
	return subsys_severity_names[sev];
}

int subsys_stage_from_name(enum subsys_stage *out, const char *name)
{
	int i = name_index(subsys_stage_names, SUBSYS_STAGE_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum subsys_stage)i;
	return 0;
}

int subsys_severity_from_name(enum subsys_severity *out, const char *name)
{
	int i = name_index(subsys_severity_names, SUBSYS_SEV_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum subsys_severity)i;
	return 0;
}

/* The shapes the binder fills. */

struct raw_stage {
	char *guidance;
	bool enabled;
};

struct raw_stages {
	struct raw_stage st[SUBSYS_STAGE_MAX];
};

struct raw_non_issue {
	char *pattern;
	char *why;
	struct config_strlist stages;
};

struct raw_style {
	char *id;
	char *text;
	int severity;
	struct config_strlist paths;
};

struct raw_floor {
	int reply;
	int check;
};

struct raw_file {
	char *section;
	struct config_strlist also;
	struct raw_stages stages;
	struct config_seq non_issues;
	struct config_seq style;
	struct raw_floor floor;
	int token_budget;
	struct config_strlist ignore_paths;
	struct config_strlist keywords;
	struct config_strlist references;
};

struct pos {
	unsigned int line, column;
};

struct subsys_file {
	char *name;
	struct raw_file raw;
	struct pos section_pos;
	struct pos *also_pos; /* raw.also.nr of them */
	struct subsys_non_issue *non_issues;
	size_t nr_non_issues;
	struct subsys_style_rule *style;
	size_t nr_style;
};

struct subsys_set {
	struct subsys_file **files;
	size_t nr, alloc;
};

/* Checks run by the binder on bound values. */

static bool is_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

static int check_text_max(const char *s, const struct yamlnode *node,
			  size_t max, struct strbuf *err)
{
	if (is_blank(s)) {
		yamlnode_error(err, node, "text is blank");
		return -EINVAL;
	}
	if (strlen(s) > max) {
		yamlnode_error(err, node, "text is %zu bytes long, at most %zu "
				     "allowed", strlen(s), max);
		return -EINVAL;
	}
	return 0;
}

static int check_text(const void *field, const struct yamlnode *node,
		      struct strbuf *err)
{
	return check_text_max(*(char *const *)field, node, SUBSYS_MAX_TEXT,
			      err);
}

static int check_title_str(const char *s, const struct yamlnode *node,
			   struct strbuf *err)
{
	size_t len = strlen(s);

	if (len > SUBSYS_MAX_TITLE) {
		yamlnode_error(err, node, "section title is %zu bytes long, "
				     "at most %d allowed", len,
			       SUBSYS_MAX_TITLE);
		return -EINVAL;
	}
	if (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[len - 1])) {
		yamlnode_error(err, node, "section title has leading or "
				     "trailing blanks");
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			yamlnode_error(err, node, "section title contains a "
					     "control character");
			return -EINVAL;
		}
	}
	return 0;
}

static int check_title(const void *field, const struct yamlnode *node,
		       struct strbuf *err)
{
	return check_title_str(*(char *const *)field, node, err);
}

static int check_titles(const void *field, const struct yamlnode *node,
			struct strbuf *err)
{
	const struct config_strlist *l = field;
	int ret = 0;

	for (size_t i = 0; i < l->nr; i++)
		if (check_title_str(l->v[i], node->items[i], err) < 0)
			ret = -EINVAL;
	return ret;
}

static int check_stage(const void *field, const struct yamlnode *node,
		       struct strbuf *err)
{
	const struct raw_stage *st = field;
	const struct yamlnode *g = NULL;

	if (node->kind == YAMLNODE_MAPPING)
		g = yamlnode_map_get(node, "guidance");
	if (!st->guidance) {
		if (st->enabled) {
			yamlnode_error(err, node, "a stage needs 'guidance' "
					     "or 'enabled: false'");
			return -EINVAL;
		}
		return 0;
	}
	if (!st->enabled) {
		yamlnode_error(err, g, "guidance for a disabled stage is "
				     "never used");
		return -EINVAL;
	}
	return check_text_max(st->guidance, g, SUBSYS_MAX_GUIDANCE, err);
}

/* verify and report always run: they turn findings into a review. */
static int check_stage_always(const void *field, const struct yamlnode *node,
			      struct strbuf *err)
{
	const struct raw_stage *st = field;

	if (!st->enabled) {
		yamlnode_error(err,
			       node->kind == YAMLNODE_MAPPING
				       ? yamlnode_map_get(node, "enabled")
				       : node,
			       "the verify and report stages cannot be "
			       "disabled");
		return -EINVAL;
	}
	return check_stage(field, node, err);
}

static int check_stage_list(const void *field, const struct yamlnode *node,
			    struct strbuf *err)
{
	const struct config_strlist *l = field;
	enum subsys_stage st;
	int ret = 0;

	for (size_t i = 0; i < l->nr; i++) {
		if (subsys_stage_from_name(&st, l->v[i]) < 0) {
			struct strbuf q = STRBUF_INIT;

			yamlnode_quote(&q, l->v[i], strlen(l->v[i]), 64);
			yamlnode_error(err, node->items[i],
				       "unknown stage %s", q.buf);
			strbuf_release(&q);
			ret = -EINVAL;
		}
	}
	return ret;
}

int subsys_glob_check(const char *glob, const char **why)
{
	size_t len = strlen(glob);
	const char *p = glob;

	if (!len || len > SUBSYS_MAX_PATH) {
		*why = "glob is empty or too long";
		return -EINVAL;
	}
	if (glob[0] == '/') {
		*why = "glob must be relative to the top of the tree";
		return -EINVAL;
	}
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (!n && end) {
			*why = "empty path component";
			return -EINVAL;
		}
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			*why = "'.' and '..' components are not allowed";
			return -EINVAL;
		}
		if (n >= 2 && memmem(p, n, "**", 2)) {
			*why = "'**' is not supported ('*' stops at '/'; "
			       "end a directory with '/' to match below it)";
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c <= 0x20 || c == 0x7f || c == '\\') {
				*why = "blanks, control characters and '\\' "
				       "are not allowed";
				return -EINVAL;
			}
			if (c == ']') {
				*why = "unbalanced ']'";
				return -EINVAL;
			}
			if (c != '[')
				continue;
			/* fnmatch: a ']' right after '[' or '[!' is literal. */
			i++;
			if (i < n && (p[i] == '!' || p[i] == '^'))
				i++;
			if (i < n && p[i] == ']')
				i++;
			while (i < n && p[i] != ']')
				i++;
			if (i >= n) {
				*why = "unbalanced '[' (a class cannot span "
				       "'/')";
				return -EINVAL;
			}
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

static int check_globs(const void *field, const struct yamlnode *node,
		       struct strbuf *err)
{
	const struct config_strlist *l = field;
	int ret = 0;

	for (size_t i = 0; i < l->nr; i++) {
		const char *why;

		if (subsys_glob_check(l->v[i], &why) < 0) {
			struct strbuf q = STRBUF_INIT;

			yamlnode_quote(&q, l->v[i], strlen(l->v[i]), 64);
			yamlnode_error(err, node->items[i],
				       "bad glob %s: %s", q.buf, why);
			strbuf_release(&q);
			ret = -EINVAL;
		}
	}
	return ret;
}

static bool is_ident(int c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int check_keywords(const void *field, const struct yamlnode *node,
			  struct strbuf *err)
{
	const struct config_strlist *l = field;
	int ret = 0;

	for (size_t i = 0; i < l->nr; i++) {
		const char *k = l->v[i];
		size_t n = strlen(k);
		bool ok = n <= SUBSYS_MAX_KEYWORD &&
			  !isdigit((unsigned char)k[0]);

		if (ok && k[n - 1] == '*')
			n--;
		/* Short stems match everywhere and select nothing useful. */
		ok = ok && n >= 3;
		for (size_t j = 0; ok && j < n; j++)
			ok = is_ident(k[j]);
		if (!ok) {
			struct strbuf q = STRBUF_INIT;

			yamlnode_quote(&q, k, strlen(k), 64);
			yamlnode_error(err, node->items[i],
				       "bad keyword %s: expected a C "
				       "identifier of at least 3 characters, "
				       "optionally ending in '*'", q.buf);
			strbuf_release(&q);
			ret = -EINVAL;
		}
	}
	return ret;
}

static int check_refs(const void *field, const struct yamlnode *node,
		      struct strbuf *err)
{
	const struct config_strlist *l = field;
	int ret = 0;

	for (size_t i = 0; i < l->nr; i++) {
		const char *why = NULL;

		if (strpbrk(l->v[i], "*?["))
			why = "a reference names a file, not a glob";
		else
			subsys_glob_check(l->v[i], &why);
		if (why) {
			struct strbuf q = STRBUF_INIT;

			yamlnode_quote(&q, l->v[i], strlen(l->v[i]), 64);
			yamlnode_error(err, node->items[i],
				       "bad reference %s: %s", q.buf, why);
			strbuf_release(&q);
			ret = -EINVAL;
		}
	}
	return ret;
}

static int check_style_id(const void *field, const struct yamlnode *node,
			  struct strbuf *err)
{
	const char *id = *(char *const *)field;
	bool ok = strlen(id) <= 64 && (islower((unsigned char)id[0]) ||
				       isdigit((unsigned char)id[0]));

	for (const char *p = id; ok && *p; p++)
		ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
		     *p == '-';
	if (!ok) {
		yamlnode_error(err, node, "bad style id: expected lowercase "
				     "letters, digits and '-', at most 64");
		return -EINVAL;
	}
	return 0;
}

/* Style ids are what aggregation and tests refer to: one per file. */
static int check_style_seq(const void *field, const struct yamlnode *node,
			   struct strbuf *err)
{
	const struct config_seq *seq = field;
	const struct raw_style *v = seq->items;
	int ret = 0;

	for (size_t i = 0; i < seq->nr && i < node->nr; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct yamlnode *a, *b;

			if (strcmp(v[i].id, v[j].id))
				continue;
			a = yamlnode_map_get(node->items[j], "id");
			b = yamlnode_map_get(node->items[i], "id");
			yamlnode_error(err, b, "duplicate style id '%s' "
					     "(first at %u:%u)", v[i].id,
				       a ? a->line : 0, a ? a->column : 0);
			ret = -EINVAL;
			break;
		}
	}
	return ret;
}

/* Schema tables. */

static const struct config_field stage_fields[] = {
	{ CONFIG_F_STRING(struct raw_stage, guidance, "guidance"),
	  .doc = "what the reviewer of this stage must know" },
	{ CONFIG_F_BOOL(struct raw_stage, enabled, "enabled"),
	  .def_bool = true, .doc = "false: do not run the stage" },
	{ NULL }
};

#define STAGE_FIELD(id, name, chk)                                  \
	{ CONFIG_F_MAPPING(struct raw_stages, st[id], name, stage_fields), \
	  .check = (chk) }

static const struct config_field stages_fields[] = {
	STAGE_FIELD(SUBSYS_STAGE_INTENT, "intent", check_stage),
	STAGE_FIELD(SUBSYS_STAGE_CLAIMS, "claims", check_stage),
	STAGE_FIELD(SUBSYS_STAGE_FLOW, "flow", check_stage),
	STAGE_FIELD(SUBSYS_STAGE_RESOURCES, "resources", check_stage),
	STAGE_FIELD(SUBSYS_STAGE_LOCKING, "locking", check_stage),
	STAGE_FIELD(SUBSYS_STAGE_SECURITY, "security", check_stage),
	STAGE_FIELD(SUBSYS_STAGE_HARDWARE, "hardware", check_stage),
	STAGE_FIELD(SUBSYS_STAGE_SUBSYSTEM, "subsystem", check_stage),
	STAGE_FIELD(SUBSYS_STAGE_VERIFY, "verify", check_stage_always),
	STAGE_FIELD(SUBSYS_STAGE_REPORT, "report", check_stage_always),
	{ NULL }
};

static const struct config_field non_issue_fields[] = {
	{ CONFIG_F_STRING(struct raw_non_issue, pattern, "pattern"),
	  .required = true, .check = check_text },
	{ CONFIG_F_STRING(struct raw_non_issue, why, "why"),
	  .required = true, .check = check_text },
	{ CONFIG_F_STRLIST(struct raw_non_issue, stages, "stages"),
	  .check = check_stage_list },
	{ NULL }
};

static const struct config_field style_fields[] = {
	{ CONFIG_F_STRING(struct raw_style, id, "id"), .required = true,
	  .check = check_style_id },
	{ CONFIG_F_STRING(struct raw_style, text, "text"), .required = true,
	  .check = check_text },
	{ CONFIG_F_ENUM(struct raw_style, severity, "severity",
			subsys_severity_names),
	  .def_int = SUBSYS_SEV_LOW },
	{ CONFIG_F_STRLIST(struct raw_style, paths, "paths"),
	  .check = check_globs },
	{ NULL }
};

static const struct config_field floor_fields[] = {
	{ CONFIG_F_ENUM(struct raw_floor, reply, "reply",
			subsys_severity_names),
	  .def_int = SUBSYS_SEV_NONE },
	{ CONFIG_F_ENUM(struct raw_floor, check, "check",
			subsys_severity_names),
	  .def_int = SUBSYS_SEV_NONE },
	{ NULL }
};

/* A bare severity is the reply floor, the common case. */
static int parse_floor(void *field, const struct yamlnode *node,
		       struct strbuf *err)
{
	struct raw_floor *fl = field;
	int v;

	fl->reply = SUBSYS_SEV_NONE;
	fl->check = SUBSYS_SEV_NONE;
	if (!node || yamlnode_is_null(node))
		return 0;
	if (node->kind == YAMLNODE_MAPPING)
		return config_bind(fl, floor_fields, node, err);
	if (config_get_enum(&v, node, subsys_severity_names, err) < 0)
		return -EINVAL;
	fl->reply = v;
	return 0;
}

static const struct config_field file_fields[] = {
	{ CONFIG_F_STRING(struct raw_file, section, "section"),
	  .required = true, .check = check_title },
	{ CONFIG_F_STRLIST(struct raw_file, also, "also"),
	  .check = check_titles },
	{ CONFIG_F_MAPPING(struct raw_file, stages, "stages",
			   stages_fields) },
	{ CONFIG_F_SEQUENCE(struct raw_file, non_issues, "non_issues",
			    non_issue_fields, struct raw_non_issue) },
	{ CONFIG_F_SEQUENCE(struct raw_file, style, "style", style_fields,
			    struct raw_style),
	  .check = check_style_seq },
	{ CONFIG_F_CUSTOM(struct raw_file, floor, "severity_floor",
			  parse_floor, NULL) },
	{ CONFIG_F_INT(struct raw_file, token_budget, "token_budget"),
	  .min = SUBSYS_MIN_TOKEN_BUDGET, .max = SUBSYS_MAX_TOKEN_BUDGET },
	{ CONFIG_F_STRLIST(struct raw_file, ignore_paths, "ignore_paths"),
	  .check = check_globs },
	{ CONFIG_F_STRLIST(struct raw_file, keywords, "keywords"),
	  .check = check_keywords },
	{ CONFIG_F_STRLIST(struct raw_file, references, "references"),
	  .check = check_refs },
	{ NULL }
};

/* Files. */

void subsys_file_free(struct subsys_file *f)
{
	if (!f)
		return;
	config_release(&f->raw, file_fields);
	free(f->also_pos);
	free(f->non_issues);
	free(f->style);
	free(f->name);
	free(f);
}

/* Checks across keys, on the bound file and its tree. */
static int check_file(struct subsys_file *f, const struct yamlnode *root,
		      struct strbuf *err)
{
	const struct yamlnode *sec = yamlnode_map_get(root, "section");
	const struct yamlnode *also = yamlnode_map_get(root, "also");
	int ret = 0;

	f->section_pos.line = sec->line;
	f->section_pos.column = sec->column;
	if (!f->raw.also.nr)
		return 0;
	f->also_pos = xcalloc(f->raw.also.nr, sizeof(*f->also_pos));
	for (size_t i = 0; i < f->raw.also.nr; i++) {
		const struct yamlnode *it = also->items[i];

		f->also_pos[i].line = it->line;
		f->also_pos[i].column = it->column;
		if (!strcmp(f->raw.also.v[i], f->raw.section)) {
			yamlnode_error(err, it, "'also' repeats the file's "
					     "own section");
			ret = -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(f->raw.also.v[i], f->raw.also.v[j]))
				continue;
			yamlnode_error(err, it, "'also' lists '%s' twice",
				       f->raw.also.v[i]);
			ret = -EINVAL;
			break;
		}
	}
	return ret;
}

/* Block scalars end in a newline; the value is the text without it. */
static void rtrim(char *s)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static void normalise(struct subsys_file *f)
{
	struct raw_non_issue *ni = f->raw.non_issues.items;
	struct raw_style *st = f->raw.style.items;

	for (size_t i = 0; i < SUBSYS_STAGE_MAX; i++)
		rtrim(f->raw.stages.st[i].guidance);

	f->nr_non_issues = f->raw.non_issues.nr;
	if (f->nr_non_issues)
		f->non_issues = xcalloc(f->nr_non_issues,
					sizeof(*f->non_issues));
	for (size_t i = 0; i < f->nr_non_issues; i++) {
		struct subsys_non_issue *o = &f->non_issues[i];

		rtrim(ni[i].pattern);
		rtrim(ni[i].why);
		o->section = f->raw.section;
		o->pattern = ni[i].pattern;
		o->why = ni[i].why;
		o->stages = ni[i].stages.nr ? 0 : SUBSYS_STAGE_ALL;
		for (size_t j = 0; j < ni[i].stages.nr; j++) {
			enum subsys_stage s;

			if (subsys_stage_from_name(&s, ni[i].stages.v[j]) < 0)
				BUG("stage '%s' passed the check",
				    ni[i].stages.v[j]);
			o->stages |= SUBSYS_STAGE_BIT(s);
		}
	}

	f->nr_style = f->raw.style.nr;
	if (f->nr_style)
		f->style = xcalloc(f->nr_style, sizeof(*f->style));
	for (size_t i = 0; i < f->nr_style; i++) {
		struct subsys_style_rule *o = &f->style[i];

		rtrim(st[i].text);
		o->section = f->raw.section;
		o->id = st[i].id;
		o->text = st[i].text;
		o->severity = (enum subsys_severity)st[i].severity;
		o->paths = (const char *const *)st[i].paths.v;
		o->nr_paths = st[i].paths.nr;
	}
}

static int file_from_doc(struct subsys_file **out, const char *name,
			 const struct yamlnode_doc *doc, struct strbuf *err)
{
	struct subsys_file *f = xcalloc(1, sizeof(*f));
	int ret;

	f->name = xstrdup(name);
	if (!doc->root) {
		if (err) {
			if (err->len && err->buf[err->len - 1] != '\n')
				strbuf_addch(err, '\n');
			strbuf_addf(err, "%s:1:1: empty rule file, expected "
					 "a mapping with 'section'", name);
		}
		ret = -EINVAL;
		goto out;
	}
	ret = config_bind(&f->raw, file_fields, doc->root, err);
	if (ret < 0)
		goto out;
	ret = check_file(f, doc->root, err);
	if (ret < 0)
		goto out;
	normalise(f);
	*out = f;
	f = NULL;
out:
	subsys_file_free(f);
	return ret;
}

int subsys_file_parse(struct subsys_file **out, const char *name,
		      const char *buf, size_t len, struct strbuf *err)
{
	struct yamlnode_doc *doc = NULL;
	int ret;

	ret = yamlnode_load_buffer(&doc, name, buf, len, err);
	if (ret < 0)
		return ret;
	ret = file_from_doc(out, name, doc, err);
	yamlnode_doc_free(doc);
	return ret;
}

int subsys_file_load(struct subsys_file **out, const char *path,
		     struct strbuf *err)
{
	struct yamlnode_doc *doc = NULL;
	int ret;

	ret = yamlnode_load_file(&doc, path, err);
	if (ret < 0)
		return ret;
	ret = file_from_doc(out, path, doc, err);
	yamlnode_doc_free(doc);
	return ret;
}

const char *subsys_file_name(const struct subsys_file *f)
{
	return f->name;
}

const char *subsys_file_section(const struct subsys_file *f)
{
	return f->raw.section;
}

size_t subsys_file_also_count(const struct subsys_file *f)
{
	return f->raw.also.nr;
}

const char *subsys_file_also_at(const struct subsys_file *f, size_t i)
{
	return i < f->raw.also.nr ? f->raw.also.v[i] : NULL;
}

const char *subsys_file_guidance(const struct subsys_file *f,
				 enum subsys_stage stage)
{
	return f->raw.stages.st[stage].guidance;
}

bool subsys_file_stage_enabled(const struct subsys_file *f,
			       enum subsys_stage stage)
{
	return f->raw.stages.st[stage].enabled;
}

size_t subsys_file_non_issue_count(const struct subsys_file *f)
{
	return f->nr_non_issues;
}

const struct subsys_non_issue *
subsys_file_non_issue_at(const struct subsys_file *f, size_t i)
{
	return i < f->nr_non_issues ? &f->non_issues[i] : NULL;
}

size_t subsys_file_style_count(const struct subsys_file *f)
{
	return f->nr_style;
}

const struct subsys_style_rule *
subsys_file_style_at(const struct subsys_file *f, size_t i)
{
	return i < f->nr_style ? &f->style[i] : NULL;
}

int subsys_file_floor_reply(const struct subsys_file *f)
{
	return f->raw.floor.reply;
}

int subsys_file_floor_check(const struct subsys_file *f)
{
	return f->raw.floor.check;
}

int subsys_file_token_budget(const struct subsys_file *f)
{
	return f->raw.token_budget;
}

/* Sets. */

void subsys_set_new(struct subsys_set **out)
{
	*out = xcalloc(1, sizeof(**out));
}

void subsys_set_free(struct subsys_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->nr; i++)
		subsys_file_free(set->files[i]);
	free(set->files);
	free(set);
}

/* Whether 'f' claims 'title'; its position in '*pos' if so. */
static bool file_claims(const struct subsys_file *f, const char *title,
			struct pos *pos)
{
	if (!strcmp(f->raw.section, title)) {
		*pos = f->section_pos;
		return true;
	}
	for (size_t i = 0; i < f->raw.also.nr; i++) {
		if (!strcmp(f->raw.also.v[i], title)) {
			*pos = f->also_pos[i];
			return true;
		}
	}
	return false;
}

static bool claim_conflict(const struct subsys_set *set,
			   const struct subsys_file *f, const char *title,
			   struct pos at, struct strbuf *err)
{
	struct pos other;

	for (size_t i = 0; i < set->nr; i++) {
		if (!file_claims(set->files[i], title, &other))
			continue;
		if (err) {
			if (err->len && err->buf[err->len - 1] != '\n')
				strbuf_addch(err, '\n');
			strbuf_addf(err, "%s:%u:%u: section '%s' is already "
					 "claimed by %s:%u:%u",
				    f->name, at.line, at.column, title,
				    set->files[i]->name, other.line,
				    other.column);
		}
		return true;
	}
	return false;
}

int subsys_set_add(struct subsys_set *set, struct subsys_file *f,
		   struct strbuf *err)
{
	bool bad;

	bad = claim_conflict(set, f, f->raw.section, f->section_pos, err);
	for (size_t i = 0; i < f->raw.also.nr; i++)
		if (claim_conflict(set, f, f->raw.also.v[i], f->also_pos[i],
				   err))
			bad = true;
	if (bad) {
		subsys_file_free(f);
		return -EEXIST;
	}
	ALLOC_GROW(set->files, set->nr + 1, set->alloc);
	set->files[set->nr++] = f;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_rule_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".yaml");
}

int subsys_set_load_dir(struct subsys_set **out, const char *dir,
			struct strbuf *err)
{
	struct subsys_set *set = NULL;
	char **names = NULL;
	size_t nr = 0, alloc = 0;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir(dir);
	if (!d) {
		ret = -errno;
		if (err) {
			if (err->len && err->buf[err->len - 1] != '\n')
				strbuf_addch(err, '\n');
			strbuf_addf(err, "cannot open directory '%s': %s", dir,
				    strerror(errno));
		}
		return ret;
	}
	while ((de = readdir(d))) {
		if (!is_rule_file(de->d_name))
			continue;
		if (nr >= SUBSYS_MAX_FILES) {
			if (err) {
				if (err->len &&
				    err->buf[err->len - 1] != '\n')
					strbuf_addch(err, '\n');
				strbuf_addf(err, "%s: more than %d rule files",
					    dir, SUBSYS_MAX_FILES);
			}
			ret = -E2BIG;
			goto out;
		}
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(de->d_name);
	}
	if (nr)
		qsort(names, nr, sizeof(*names), cmp_str);

	subsys_set_new(&set);
	for (size_t i = 0; i < nr; i++) {
		struct strbuf path = STRBUF_INIT;
		struct subsys_file *f = NULL;

		strbuf_addf(&path, "%s/%s", dir, names[i]);
		if (subsys_file_load(&f, path.buf, err) < 0 ||
		    subsys_set_add(set, f, err) < 0)
			ret = -EINVAL;
		strbuf_release(&path);
	}
	if (ret < 0)
		goto out;
	*out = set;
	set = NULL;
out:
	subsys_set_free(set);
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

size_t subsys_set_count(const struct subsys_set *set)
{
	return set->nr;
}

const struct subsys_file *subsys_set_at(const struct subsys_set *set,
					size_t i)
{
	return i < set->nr ? set->files[i] : NULL;
}

const struct subsys_file *subsys_set_lookup(const struct subsys_set *set,
					    const char *title)
{
	struct pos pos;

	for (size_t i = 0; i < set->nr; i++)
		if (file_claims(set->files[i], title, &pos))
			return set->files[i];
	return NULL;
}

/* Hash. */

static void ser_str(struct strbuf *sb, char tag, const char *s)
{
	if (!s) {
		strbuf_addf(sb, "%c-\n", tag);
		return;
	}
	strbuf_addf(sb, "%c%zu:", tag, strlen(s));
	strbuf_addstr(sb, s);
	strbuf_addch(sb, '\n');
}

static void ser_list(struct strbuf *sb, char tag,
		     const struct config_strlist *l)
{
	strbuf_addf(sb, "%c#%zu\n", tag, l->nr);
	for (size_t i = 0; i < l->nr; i++)
		ser_str(sb, tag, l->v[i]);
}

static void ser_file(struct strbuf *sb, const struct subsys_file *f)
{
	const struct raw_file *r = &f->raw;

	ser_str(sb, 'S', r->section);
	ser_list(sb, 'A', &r->also);
	for (size_t i = 0; i < SUBSYS_STAGE_MAX; i++) {
		strbuf_addf(sb, "G%s %d\n", subsys_stage_names[i],
			    r->stages.st[i].enabled);
		ser_str(sb, 'g', r->stages.st[i].guidance);
	}
	strbuf_addf(sb, "N#%zu\n", f->nr_non_issues);
	for (size_t i = 0; i < f->nr_non_issues; i++) {
		ser_str(sb, 'p', f->non_issues[i].pattern);
		ser_str(sb, 'w', f->non_issues[i].why);
		strbuf_addf(sb, "m%u\n", f->non_issues[i].stages);
	}
	strbuf_addf(sb, "Y#%zu\n", f->nr_style);
	for (size_t i = 0; i < f->nr_style; i++) {
		const struct raw_style *st = &((struct raw_style *)
						       r->style.items)[i];

		ser_str(sb, 'i', st->id);
		ser_str(sb, 't', st->text);
		strbuf_addf(sb, "v%d\n", st->severity);
		ser_list(sb, 'P', &st->paths);
	}
	strbuf_addf(sb, "F%d %d\nB%d\n", r->floor.reply, r->floor.check,
		    r->token_budget);
	ser_list(sb, 'I', &r->ignore_paths);
	ser_list(sb, 'K', &r->keywords);
	ser_list(sb, 'R', &r->references);
}

static int cmp_file_section(const void *a, const void *b)
{
	const struct subsys_file *fa = *(const struct subsys_file *const *)a;
	const struct subsys_file *fb = *(const struct subsys_file *const *)b;

	return strcmp(fa->raw.section, fb->raw.section);
}

void subsys_set_hash(char out[41], const struct subsys_set *set)
{
	const struct subsys_file **v = NULL;
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "kreview-subsys 1\n");
	if (set->nr) {
		v = xcalloc(set->nr, sizeof(*v));
		for (size_t i = 0; i < set->nr; i++)
			v[i] = set->files[i];
		/* Titles are unique in a set, so the order is total. */
		qsort(v, set->nr, sizeof(*v), cmp_file_section);
	}
	for (size_t i = 0; i < set->nr; i++)
		ser_file(&sb, v[i]);
	hash_git_blob(out, sb.buf, sb.len);
	free(v);
	strbuf_release(&sb);
}

/* Keyword triggers. */

static bool keyword_in(const char *line, size_t len, const char *kw)
{
	size_t n = strlen(kw);
	bool prefix = n && kw[n - 1] == '*';
	const char *p = line, *end = line + len;

	if (prefix)
		n--;
	while ((size_t)(end - p) >= n) {
		const char *hit = memmem(p, (size_t)(end - p), kw, n);

		if (!hit)
			return false;
		if ((hit == line || !is_ident(hit[-1])) &&
		    (prefix || hit + n == end || !is_ident(hit[n])))
			return true;
		p = hit + 1;
	}
	return false;
}

static bool strlist_has(const struct config_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i], s))
			return true;
	return false;
}

static bool file_in_titles(const struct subsys_file *f,
			   const char *const *titles, size_t nr)
{
	struct pos pos;

	for (size_t i = 0; i < nr; i++)
		if (file_claims(f, titles[i], &pos))
			return true;
	return false;
}

void subsys_set_match_keywords(struct config_strlist *out,
			       const struct subsys_set *set,
			       const char *const *titles, size_t nr,
			       const char *diff, size_t len)
{
	for (size_t i = 0; i < set->nr; i++) {
		const struct subsys_file *f = set->files[i];
		const char *p = diff, *end = diff + len;
		bool hit = false;

		if (!f->raw.keywords.nr || file_in_titles(f, titles, nr) ||
		    strlist_has(out, f->raw.section))
			continue;
		while (p < end && !hit) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

			if (n && (*p == '+' || *p == '-') &&
			    !(n >= 4 && (!memcmp(p, "+++ ", 4) ||
					 !memcmp(p, "--- ", 4)))) {
				for (size_t k = 0; !hit &&
						   k < f->raw.keywords.nr; k++)
					hit = keyword_in(p + 1, n - 1,
							 f->raw.keywords.v[k]);
			}
			p += n + 1;
		}
		if (!hit)
			continue;
		out->v = xrealloc(out->v,
				  st_mult(out->nr + 1, sizeof(*out->v)));
		out->v[out->nr++] = xstrdup(f->raw.section);
	}
}

/* Effective rules. */

void subsys_rules_init(struct subsys_rules *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < SUBSYS_STAGE_MAX; i++)
		r->enabled[i] = true;
	r->floor_reply = SUBSYS_SEV_NONE;
	r->floor_check = SUBSYS_SEV_NONE;
}

void subsys_rules_release(struct subsys_rules *r)
{
	free(r->sections);
	for (size_t i = 0; i < SUBSYS_STAGE_MAX; i++)
		free(r->guidance[i]);
	free(r->non_issues);
	free(r->style);
	free(r->ignore_paths);
	free(r->keywords);
	free(r->references);
	subsys_rules_init(r);
}

/* Append the strings of 'l' not yet in 'v'. */
static void union_strs(const char ***v, size_t *nr,
		       const struct config_strlist *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		bool seen = false;

		for (size_t j = 0; j < *nr && !seen; j++)
			seen = !strcmp((*v)[j], l->v[i]);
		if (seen)
			continue;
		*v = xrealloc(*v, st_mult(*nr + 1, sizeof(**v)));
		(*v)[(*nr)++] = l->v[i];
	}
}

static void merge_file(struct subsys_rules *r, const struct subsys_file *f,
		       struct strbuf *guidance)
{
	const struct raw_file *raw = &f->raw;

	for (size_t s = 0; s < SUBSYS_STAGE_MAX; s++) {
		const char *g = raw->stages.st[s].guidance;

		if (!g)
			continue;
		if (guidance[s].len)
			strbuf_addch(&guidance[s], '\n');
		strbuf_addf(&guidance[s], "Rules for %s:\n%s\n", raw->section,
			    g);
	}
	for (size_t i = 0; i < f->nr_non_issues; i++) {
		bool seen = false;

		for (size_t j = 0; j < r->nr_non_issues && !seen; j++)
			seen = !strcmp(r->non_issues[j].pattern,
				       f->non_issues[i].pattern);
		if (seen)
			continue;
		r->non_issues = xrealloc(r->non_issues,
					 st_mult(r->nr_non_issues + 1,
						 sizeof(*r->non_issues)));
		r->non_issues[r->nr_non_issues++] = f->non_issues[i];
	}
	for (size_t i = 0; i < f->nr_style; i++) {
		bool seen = false;

		for (size_t j = 0; j < r->nr_style && !seen; j++)
			seen = !strcmp(r->style[j].id, f->style[i].id);
		if (seen)
			continue;
		r->style = xrealloc(r->style, st_mult(r->nr_style + 1,
						      sizeof(*r->style)));
		r->style[r->nr_style++] = f->style[i];
	}
	/* Files arrive most specific first: the first floor set stays. */
	if (r->floor_reply == SUBSYS_SEV_NONE)
		r->floor_reply = raw->floor.reply;
	if (r->floor_check == SUBSYS_SEV_NONE)
		r->floor_check = raw->floor.check;
	if (raw->token_budget &&
	    (!r->token_budget || raw->token_budget < r->token_budget))
		r->token_budget = raw->token_budget;
	union_strs(&r->ignore_paths, &r->nr_ignore_paths, &raw->ignore_paths);
	union_strs(&r->keywords, &r->nr_keywords, &raw->keywords);
	union_strs(&r->references, &r->nr_references, &raw->references);
}

void subsys_rules_build(struct subsys_rules *out, const struct subsys_set *set,
			const char *const *titles, size_t nr)
{
	struct strbuf guidance[SUBSYS_STAGE_MAX];
	bool any_enabled[SUBSYS_STAGE_MAX] = { false };

	subsys_rules_release(out);
	for (size_t s = 0; s < SUBSYS_STAGE_MAX; s++)
		strbuf_init(&guidance[s], 0);
	for (size_t i = 0; i < nr; i++) {
		const struct subsys_file *f = subsys_set_lookup(set, titles[i]);
		bool seen = false;

		if (!f)
			continue;
		for (size_t j = 0; j < out->nr_sections && !seen; j++)
			seen = out->sections[j] == f->raw.section;
		if (seen)
			continue;
		out->sections = xrealloc(out->sections,
					 st_mult(out->nr_sections + 1,
						 sizeof(*out->sections)));
		out->sections[out->nr_sections++] = f->raw.section;
		for (size_t s = 0; s < SUBSYS_STAGE_MAX; s++)
			any_enabled[s] |= f->raw.stages.st[s].enabled;
		merge_file(out, f, guidance);
	}
	for (size_t s = 0; s < SUBSYS_STAGE_MAX; s++) {
		if (out->nr_sections)
			out->enabled[s] = any_enabled[s];
		if (guidance[s].len)
			out->guidance[s] = strbuf_detach(&guidance[s], NULL);
		strbuf_release(&guidance[s]);
	}
}

/* Globs. */

static bool glob_match(const char *glob, const char *path)
{
	size_t n = strlen(glob);

	if (n && glob[n - 1] == '/') {
		/* A directory: match any leading run of components. */
		char *dirpat = xmemdupz(glob, n - 1);
		bool hit = false;

		for (const char *p = strchr(path, '/'); p && !hit;
		     p = strchr(p + 1, '/')) {
			char *head = xmemdupz(path, (size_t)(p - path));

			hit = !fnmatch(dirpat, head, FNM_PATHNAME);
			free(head);
		}
		free(dirpat);
		return hit;
	}
	if (!strchr(glob, '/')) {
		const char *base = strrchr(path, '/');

		return !fnmatch(glob, base ? base + 1 : path, FNM_PATHNAME);
	}
	return !fnmatch(glob, path, FNM_PATHNAME);
}

bool subsys_glob_list_match(const char *const *globs, size_t nr,
			    const char *path)
{
	for (size_t i = 0; i < nr; i++)
		if (glob_match(globs[i], path))
			return true;
	return false;
}

bool subsys_rules_ignores(const struct subsys_rules *r, const char *path)
{
	return subsys_glob_list_match(r->ignore_paths, r->nr_ignore_paths,
				      path);
}

bool subsys_style_applies(const struct subsys_style_rule *s,
			  const char *path)
{
	return !s->nr_paths ||
	       subsys_glob_list_match(s->paths, s->nr_paths, path);
}

void subsys_find_dir(struct strbuf *out, const char *explicit_dir)
{
	struct stat st;

	strbuf_reset(out);
	if (explicit_dir && *explicit_dir) {
		strbuf_addstr(out, explicit_dir);
		return;
	}
	strbuf_addstr(out, KREVIEW_SRCDIR "/subsystems");
	if (stat(out->buf, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	strbuf_reset(out);
	strbuf_addstr(out, KREVIEW_DATADIR "/subsystems");
}
