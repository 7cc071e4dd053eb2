/* The finding record, validated in code: see finding.h. */
#include "kreview/finding.h"
#include "kreview/hash.h"
#include "kreview/diff.h"
#include "kreview/llm_json.h"
#include "kreview/strbuf.h"

#include <ctype.h>
#include <json-c/json.h>
#include <math.h>

static const char *const severity_names[SEV__MAX] = {
	[SEV_LOW] = "low",
	[SEV_MEDIUM] = "medium",
	[SEV_HIGH] = "high",
	[SEV_CRITICAL] = "critical",
};

const char *const finding_categories[] = {
	"use-after-free", "resource-leak", "double-free", "deadlock",
	"race", "locking-rule", "rcu", "null-deref", "error-path",
	"overflow", "out-of-bounds", "uninitialized", "api-misuse",
	"uapi-break", "logic", "hardware", "subsystem-rule",
	"commit-message", "style", NULL,
};

static const char *const critical_class[] = {
	"use-after-free", "double-free", "overflow", "out-of-bounds",
	"uapi-break", "deadlock", NULL,
};

const char *finding_severity_name(enum finding_severity s)
{
	if ((unsigned)s >= SEV__MAX)
		BUG("bad severity %d", (int)s);
	return severity_names[s];
}

int finding_severity_parse(enum finding_severity *out, const char *name)
{
	int i = name_index(severity_names, SEV__MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum finding_severity)i;
	return 0;
}

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

bool finding_category_valid(const char *name)
{
	return name && in_list(finding_categories, name);
}

bool finding_category_is_critical_class(const char *name)
{
	return name && in_list(critical_class, name);
}

void finding_init(struct finding *f)
{
	memset(f, 0, sizeof(*f));
}

void finding_release(struct finding *f)
{
	free(f->file);
	free(f->function);
	free(f->category);
	free(f->title);
	free(f->explanation);
	free(f->evidence);
	free(f->stage);
	finding_init(f);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void finding_copy(struct finding *dst, const struct finding *src)
{
	finding_release(dst);
	*dst = *src;
	dst->file = dup_or_null(src->file);
	dst->function = dup_or_null(src->function);
	dst->category = dup_or_null(src->category);
	dst->title = dup_or_null(src->title);
	dst->explanation = dup_or_null(src->explanation);
	dst->evidence = dup_or_null(src->evidence);
	dst->stage = dup_or_null(src->stage);
}

void finding_list_release(struct finding_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		finding_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void finding_list_add(struct finding_list *l, const struct finding *f)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	finding_init(&l->v[l->nr]);
	finding_copy(&l->v[l->nr++], f);
}

const char *finding_answer_schema(void)
{
	return "{\"type\": \"object\", \"additionalProperties\": false,"
	       " \"required\": [\"findings\"], \"properties\": {"
	       "\"findings\": {\"type\": \"array\", \"maxItems\": 50, \"items\": {"
	       "\"type\": \"object\", \"additionalProperties\": false,"
	       " \"required\": [\"file\", \"line\", \"end_line\", \"function\","
	       " \"category\", \"severity\", \"confidence\", \"title\","
	       " \"explanation\", \"evidence\", \"pre_existing\"],"
	       " \"properties\": {"
	       "\"file\": {\"type\": \"string\"},"
	       "\"line\": {\"type\": \"integer\", \"minimum\": 1},"
	       "\"end_line\": {\"type\": \"integer\", \"minimum\": 1},"
	       "\"function\": {\"type\": \"string\"},"
	       "\"category\": {\"type\": \"string\", \"enum\": ["
	       "\"use-after-free\", \"resource-leak\", \"double-free\","
	       " \"deadlock\", \"race\", \"locking-rule\", \"rcu\","
	       " \"null-deref\", \"error-path\", \"overflow\", \"out-of-bounds\","
	       " \"uninitialized\", \"api-misuse\", \"uapi-break\", \"logic\","
	       " \"hardware\", \"subsystem-rule\", \"commit-message\", \"style\"]},"
	       "\"severity\": {\"type\": \"string\", \"enum\": [\"critical\","
	       " \"high\", \"medium\", \"low\"]},"
	       "\"confidence\": {\"type\": \"number\", \"minimum\": 0,"
	       " \"maximum\": 1},"
	       "\"title\": {\"type\": \"string\"},"
	       "\"explanation\": {\"type\": \"string\"},"
	       "\"evidence\": {\"type\": \"string\"},"
	       "\"pre_existing\": {\"type\": \"boolean\"}}}}}}";
}

/* ---- parsing ---- */

static int get_string(char **out, struct json_object *obj, const char *key,
		      size_t max, bool required, struct strbuf *why)
{
	struct json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    json_object_is_type(v, json_type_null)) {
		if (required) {
			strbuf_addf(why, "missing '%s'", key);
			return -EINVAL;
		}
		*out = xstrdup("");
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		strbuf_addf(why, "'%s' is not a string", key);
		return -EINVAL;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', len)) {
		strbuf_addf(why, "'%s' contains a NUL byte", key);
		return -EINVAL;
	}
	if (len > max) {
		strbuf_addf(why, "'%s' is longer than %zu bytes", key, max);
		return -EINVAL;
	}
	*out = xmemdupz(s, len);
	return 0;
}

static int get_int(int *out, struct json_object *obj, const char *key,
		   bool required, struct strbuf *why)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    json_object_is_type(v, json_type_null)) {
		if (required) {
			strbuf_addf(why, "missing '%s'", key);
			return -EINVAL;
		}
		*out = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int)) {
		strbuf_addf(why, "'%s' is not an integer", key);
		return -EINVAL;
	}
	n = json_object_get_int64(v);
	if (n < 1 || n > 10000000) {
		strbuf_addf(why, "'%s' = %" PRId64 " is out of range", key, n);
		return -EINVAL;
	}
	*out = (int)n;
	return 0;
}

static int parse_record(struct finding *f, struct json_object *obj,
			struct strbuf *why)
{
	struct json_object *v;
	char *sev = NULL;
	int r;

	if (!json_object_is_type(obj, json_type_object)) {
		strbuf_addstr(why, "not an object");
		return -EINVAL;
	}
	if ((r = get_string(&f->file, obj, "file", FINDING_MAX_SHORT, true,
			    why)) < 0 ||
	    (r = get_int(&f->line, obj, "line", true, why)) < 0 ||
	    (r = get_int(&f->end_line, obj, "end_line", false, why)) < 0 ||
	    (r = get_string(&f->function, obj, "function", FINDING_MAX_SHORT,
			    false, why)) < 0 ||
	    (r = get_string(&f->category, obj, "category", 64, true, why)) < 0 ||
	    (r = get_string(&sev, obj, "severity", 16, true, why)) < 0 ||
	    (r = get_string(&f->title, obj, "title", FINDING_MAX_SHORT, true,
			    why)) < 0 ||
	    (r = get_string(&f->explanation, obj, "explanation",
			    FINDING_MAX_TEXT, true, why)) < 0 ||
	    (r = get_string(&f->evidence, obj, "evidence", FINDING_MAX_TEXT,
			    true, why)) < 0)
		goto out;
	r = -EINVAL;
	if (!*f->file || strstr(f->file, "..") || f->file[0] == '/') {
		strbuf_addf(why, "bad file name '%s'", f->file);
		goto out;
	}
	if (!f->end_line)
		f->end_line = f->line;
	if (f->end_line < f->line) {
		strbuf_addf(why, "end_line %d is before line %d", f->end_line,
			    f->line);
		goto out;
	}
	if (!finding_category_valid(f->category)) {
		strbuf_addf(why, "unknown category '%s'", f->category);
		goto out;
	}
	if (finding_severity_parse(&f->severity, sev) < 0) {
		strbuf_addf(why, "unknown severity '%s'", sev);
		goto out;
	}
	if (!*f->title || !*f->evidence) {
		strbuf_addstr(why, !*f->title ? "empty title" : "empty evidence");
		goto out;
	}
	f->confidence = 0.5;
	if (json_object_object_get_ex(obj, "confidence", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		double c;

		if (!json_object_is_type(v, json_type_double) &&
		    !json_object_is_type(v, json_type_int)) {
			strbuf_addstr(why, "'confidence' is not a number");
			goto out;
		}
		c = json_object_get_double(v);
		if (!isfinite(c) || c < 0 || c > 1) {
			strbuf_addstr(why, "'confidence' is not within 0..1");
			goto out;
		}
		f->confidence = c;
	}
	if (json_object_object_get_ex(obj, "pre_existing", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			strbuf_addstr(why, "'pre_existing' is not a boolean");
			goto out;
		}
		f->pre_existing = json_object_get_boolean(v);
	}
	r = 0;
out:
	free(sev);
	return r;
}

int finding_parse_answer(struct finding_list *out, const char *json,
			 size_t len, size_t *nr_rejected,
			 struct strbuf *rejects)
{
	struct json_object *root = NULL, *arr;
	struct strbuf err = STRBUF_INIT;
	size_t n;
	int r;

	r = llm_json_parse(&root, json, len, &err);
	if (r < 0) {
		if (rejects)
			strbuf_addf(rejects, "answer: %s\n", err.buf);
		strbuf_release(&err);
		return -EPROTO;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "findings", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		if (rejects)
			strbuf_addstr(rejects,
				      "answer: not an object with a \"findings\" array\n");
		json_object_put(root);
		strbuf_release(&err);
		return -EPROTO;
	}
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct finding f;

		finding_init(&f);
		strbuf_reset(&err);
		if (i >= FINDING_MAX_PER_ANSWER) {
			strbuf_addf(&err, "more than %d findings in one answer",
				    FINDING_MAX_PER_ANSWER);
			r = -E2BIG;
		} else {
			r = parse_record(&f, json_object_array_get_idx(arr, i),
					 &err);
		}
		if (r < 0) {
			if (nr_rejected)
				(*nr_rejected)++;
			if (rejects)
				strbuf_addf(rejects, "finding %zu: %s\n", i + 1,
					    err.buf);
		} else {
			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			out->v[out->nr++] = f;
			finding_init(&f);
		}
		finding_release(&f);
	}
	json_object_put(root);
	strbuf_release(&err);
	return 0;
}

/* ---- checking against the code ---- */

void finding_squash(struct strbuf *out, const char *s, size_t len)
{
	bool space = false;

	for (size_t i = 0; i < len; i++) {
		if (isspace((unsigned char)s[i])) {
			space = out->len > 0;
			continue;
		}
		if (space)
			strbuf_addch(out, ' ');
		space = false;
		strbuf_addch(out, s[i]);
	}
}

/* The patch with diff markers removed from hunk lines, squashed per line. */
static void code_lines(struct strbuf *out, const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		size_t skip = n && (line[0] == '+' || line[0] == '-' ||
				    line[0] == ' ');

		finding_squash(out, line + skip, n - skip);
		strbuf_addch(out, '\n');
		pos += n + 1;
	}
}

static bool ellipsis_line(const char *s)
{
	return !strcmp(s, "...") || !strcmp(s, "[...]") ||
	       !strcmp(s, "[ ... ]") || !strcmp(s, "/* ... */") ||
	       !strcmp(s, "\xe2\x80\xa6");
}

/* Every non-trivial evidence line must occur (squashed) in 'hay'. */
static int evidence_found(const char *evidence, const struct strbuf *hay,
			  struct strbuf *missing)
{
	const char *p = evidence;
	size_t checked = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		struct strbuf line = STRBUF_INIT;
		const char *l = p;

		/* quoted with diff or mail markers */
		if (n && (l[0] == '+' || l[0] == '-') &&
		    !(n > 1 && l[1] == l[0])) {
			l++;
			n--;
		}
		while (n && l[0] == '>') {
			l++;
			n--;
		}
		finding_squash(&line, l, n);
		if (line.len >= 3 && !ellipsis_line(line.buf)) {
			checked++;
			if (!strstr(hay->buf, line.buf)) {
				strbuf_add(missing, line.buf,
					   line.len > 120 ? 120 : line.len);
				strbuf_release(&line);
				return -ENOENT;
			}
		}
		strbuf_release(&line);
		if (!nl)
			break;
		p = nl + 1;
	}
	return checked ? 0 : -ENOENT;
}

static bool file_in_diff(const struct diff *d, const char *path)
{
	if (!d)
		return false;
	for (size_t i = 0; i < d->files_nr; i++) {
		const struct diff_file *f = &d->files[i];

		if ((f->new_path && !strcmp(f->new_path, path)) ||
		    (f->old_path && !strcmp(f->old_path, path)))
			return true;
	}
	return false;
}

int finding_check(const struct finding *f, const struct finding_code *code,
		  struct strbuf *why)
{
	struct strbuf file = STRBUF_INIT, hay = STRBUF_INIT;
	struct strbuf missing = STRBUF_INIT;
	bool in_diff = file_in_diff(code->diff, f->file);
	bool have_file = false;
	int r = -EINVAL;

	if (code->read_file &&
	    code->read_file(code->ctx, f->file, &file) == 0)
		have_file = true;
	if (!in_diff && !have_file) {
		strbuf_addf(why, "file '%s' is neither in the patch nor in the tree",
			    f->file);
		goto out;
	}
	if (have_file) {
		size_t lines = count_lines(file.buf, file.len);

		if ((size_t)f->line > lines) {
			strbuf_addf(why, "line %d is past the end of '%s' (%zu lines)",
				    f->line, f->file, lines);
			goto out;
		}
	}
	code_lines(&hay, code->patch_text ? code->patch_text : "",
		   code->patch_text ? code->patch_len : 0);
	if (have_file)
		code_lines(&hay, file.buf, file.len);
	if (evidence_found(f->evidence, &hay, &missing) < 0) {
		if (missing.len)
			strbuf_addf(why, "evidence not found in the code: '%s'",
				    missing.buf);
		else
			strbuf_addstr(why, "evidence quotes no code");
		goto out;
	}
	r = 0;
out:
	strbuf_release(&file);
	strbuf_release(&hay);
	strbuf_release(&missing);
	return r;
}

/* ---- identifiers and fingerprints ---- */

static const char *const common_words[] = {
	/* C keywords and types */
	"auto", "break", "case", "char", "const", "continue", "default",
	"do", "double", "else", "enum", "extern", "float", "for", "goto",
	"if", "inline", "int", "long", "register", "return", "short",
	"signed", "sizeof", "static", "struct", "switch", "typedef",
	"union", "unsigned", "void", "volatile", "while", "bool", "true",
	"false", "NULL", "u8", "u16", "u32", "u64", "s8", "s16", "s32",
	"s64", "size_t", "ssize_t", "__u8", "__u16", "__u32", "__u64",
	"__le16", "__le32", "__le64", "__be16", "__be32", "__be64",
	"uint8_t", "uint16_t", "uint32_t", "uint64_t", "int32_t",
	"int64_t", "loff_t", "gfp_t",
	/* kernel commonplaces that name no particular bug */
	"ret", "err", "error", "res", "rc", "val", "len", "size", "flags",
	"data", "ptr", "tmp", "out", "unlock", "fail", "likely",
	"unlikely", "the", "and", "not", "this", "that", "with", "from",
	"when", "then", "which", "can", "will", "may", "before", "after",
	"path", "patch", "code", "call", "caller", "function", "value",
	"pointer", "check", "without", "under", "only", NULL,
};

static bool ident_char(int c, bool first)
{
	return c == '_' || isalpha(c) || (!first && isdigit(c));
}

struct ident_count {
	char *name;
	int in_evidence, in_text;
};

static void scan_idents(struct ident_count **v, size_t *nr, size_t *alloc,
			const char *s, bool evidence)
{
	const char *p = s;

	while (p && *p) {
		const char *start;
		size_t n;
		size_t i;

		if (!ident_char((unsigned char)*p, true) ||
		    (p > s && ident_char((unsigned char)p[-1], false))) {
			p++;
			continue;
		}
		start = p;
		while (*p && ident_char((unsigned char)*p, false))
			p++;
		n = (size_t)(p - start);
		if (n < 3 || n > 64)
			continue;
		for (i = 0; i < *nr; i++)
			if (strlen((*v)[i].name) == n &&
			    !memcmp((*v)[i].name, start, n))
				break;
		if (i == *nr) {
			char *name = xmemdupz(start, n);

			if (in_list(common_words, name)) {
				free(name);
				continue;
			}
			ALLOC_GROW(*v, *nr + 1, *alloc);
			(*v)[*nr].name = name;
			(*v)[*nr].in_evidence = (*v)[*nr].in_text = 0;
			(*nr)++;
		}
		if (evidence)
			(*v)[i].in_evidence++;
		else
			(*v)[i].in_text++;
	}
}

static int cmp_ident(const void *a, const void *b)
{
	const struct ident_count *x = a, *y = b;
	int sx = x->in_evidence + x->in_text, sy = y->in_evidence + y->in_text;

	if (sx != sy)
		return sy - sx;
	return strcmp(x->name, y->name);
}

void finding_identifiers(char ***out, size_t *nr, const struct finding *f,
			 size_t max)
{
	struct ident_count *v = NULL;
	size_t n = 0, alloc = 0, taken = 0;

	scan_idents(&v, &n, &alloc, f->evidence, true);
	scan_idents(&v, &n, &alloc, f->title, false);
	scan_idents(&v, &n, &alloc, f->explanation, false);
	if (n)
		qsort(v, n, sizeof(*v), cmp_ident);
	for (size_t i = 0; i < n; i++) {
		/* named in the prose and present in the quoted code */
		if (taken < max && v[i].in_evidence && v[i].in_text &&
		    (!f->function || strcmp(v[i].name, f->function))) {
			*out = xrealloc(*out, st_mult(*nr + 1, sizeof(char *)));
			(*out)[(*nr)++] = v[i].name;
			taken++;
		} else {
			free(v[i].name);
		}
	}
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void finding_fingerprint(char out[FINDING_FPR_HEX + 1],
			 const struct finding *f, const char *subsystem)
{
	struct strbuf key = STRBUF_INIT;
	char **ids = NULL;
	size_t nr = 0;

	finding_identifiers(&ids, &nr, f, 3);
	if (nr)
		qsort(ids, nr, sizeof(*ids), cmp_str);
	strbuf_addf(&key, "kreview-fingerprint-v1\n%s\n%s\n%s\n%s\n",
		    subsystem ? subsystem : "", f->file,
		    f->function ? f->function : "", f->category);
	for (size_t i = 0; i < nr; i++) {
		strbuf_addf(&key, "%s\n", ids[i]);
		free(ids[i]);
	}
	free(ids);
	hash_git_blob(out, key.buf, key.len);
	strbuf_release(&key);
}
