/*
 * The configuration schema and the table-driven binder.
 *
 * Binding never stops at the first problem: a config is written by a
 * person who wants to see every mistake in one run.  Each field is
 * first set to its default so that the struct is always consistent and
 * config_release() can free it whatever went wrong.
 */
#include "kreview/config.h"
#include "kreview/bugdb.h"
#include "kreview/daemon.h"
#include "kreview/llm.h"
#include "kreview/outbox.h"
#include "kreview/reply.h"

#include <ctype.h>
#include <math.h>

/* Longest key for which "did you mean" is worth computing. */
#define SUGGEST_MAX 64
/* How much of a user's value a message quotes. */
#define QUOTE_MAX 64

/* Scalar readers. */

static void add_quoted(struct strbuf *sb, const struct yamlnode *node)
{
	yamlnode_quote(sb, node->str, node->len, QUOTE_MAX);
}

/*
 * Common start of every scalar reader: 'what' is the expectation
 * ("an integer") used in the message.
 */
static int need_scalar(const struct yamlnode *node, const char *what,
		       struct strbuf *err)
{
	if (node->kind != YAMLNODE_SCALAR) {
		yamlnode_error(err, node, "expected %s, got %s", what,
			       yamlnode_kind_name(node->kind));
		return -EINVAL;
	}
	if (yamlnode_is_null(node)) {
		yamlnode_error(err, node, "expected %s, got %s", what,
			       node->len ? "null" : "an empty value");
		return -EINVAL;
	}
	return 0;
}

/* "expected an integer, got 'abc'" */
static int bad_value(const struct yamlnode *node, const char *what,
		     struct strbuf *err)
{
	struct strbuf q = STRBUF_INIT;

	add_quoted(&q, node);
	yamlnode_error(err, node, "expected %s, got %s", what, q.buf);
	strbuf_release(&q);
	return -EINVAL;
}

int config_get_string(char **out, const struct yamlnode *node,
		      struct strbuf *err)
{
	int r = need_scalar(node, "a string", err);

	if (r < 0)
		return r;
	if (!node->len) {
		yamlnode_error(err, node, "expected a non-empty string");
		return -EINVAL;
	}
	if (memchr(node->str, '\0', node->len)) {
		yamlnode_error(err, node, "string contains a NUL character");
		return -EINVAL;
	}
	*out = xmemdupz(node->str, node->len);
	return 0;
}

int config_get_bool(bool *out, const struct yamlnode *node, struct strbuf *err)
{
	int r = need_scalar(node, "true or false", err);

	if (r < 0)
		return r;
	/*
	 * YAML 1.1's yes/no/on/off are refused rather than guessed: in
	 * 'country: no' they famously mean Norway.
	 */
	if (!strcmp(node->str, "true"))
		*out = true;
	else if (!strcmp(node->str, "false"))
		*out = false;
	else
		return bad_value(node, "true or false", err);
	return 0;
}

static bool in_range(int64_t v, int64_t min, int64_t max)
{
	return (!min && !max) || (v >= min && v <= max);
}

int config_get_int64(int64_t *out, const struct yamlnode *node, int64_t min,
		     int64_t max, struct strbuf *err)
{
	const char *s = node->str;
	int64_t v = 0;
	bool neg;
	int r = need_scalar(node, "an integer", err);

	if (r < 0)
		return r;
	/* Plain decimal only: no '+', no 0x, no YAML 1.1 octal '010'. */
	neg = *s == '-';
	if (neg)
		s++;
	if (!isdigit((unsigned char)*s) || (s[0] == '0' && s[1]) ||
	    strspn(s, "0123456789") != strlen(s) ||
	    (size_t)(s - node->str) + strlen(s) != node->len)
		return bad_value(node, "an integer", err);
	for (; *s; s++) {
		int d = *s - '0';

		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, neg ? -d : d, &v)) {
			yamlnode_error(err, node, "value %s is too %s",
				       node->str, neg ? "small" : "large");
			return -EINVAL;
		}
	}
	if (!in_range(v, min, max)) {
		yamlnode_error(err, node,
			       "value %" PRId64 " out of range %" PRId64
			       "..%" PRId64,
			       v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int config_get_double(double *out, const struct yamlnode *node, double min,
		      double max, struct strbuf *err)
{
	const char *s = node->str;
	char *end;
	double v;
	int r = need_scalar(node, "a number", err);

	if (r < 0)
		return r;
	/* strtod alone would take " 1", "inf", "nan" and hex floats. */
	if (strspn(s, "0123456789.eE+-") != node->len ||
	    !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '.'))
		return bad_value(node, "a number", err);
	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s)
		return bad_value(node, "a number", err);
	if (errno == ERANGE || !isfinite(v)) {
		yamlnode_error(err, node, "value %s is out of range", s);
		return -EINVAL;
	}
	if ((min != 0 || max != 0) && (v < min || v > max)) {
		yamlnode_error(err, node, "value %g out of range %g..%g", v,
			       min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	int64_t ms;
} duration_units[] = {
	/* "ms" before "m" so that the longer unit wins. */
	{"ms", 1},	{"s", 1000},	 {"m", 60 * 1000},
	{"h", 3600000}, {"d", 86400000},
};

int config_parse_duration(int64_t *out_ms, const char *s)
{
	int64_t total = 0;

	if (!strcmp(s, "0")) {
		*out_ms = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		int64_t v = 0, part;
		size_t i;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++)
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, *s - '0', &v))
				return -ERANGE;
		for (i = 0; i < ARRAY_SIZE(duration_units); i++)
			if (skip_prefix(s, duration_units[i].name))
				break;
		if (i == ARRAY_SIZE(duration_units))
			return -EINVAL;
		s += strlen(duration_units[i].name);
		if (__builtin_mul_overflow(v, duration_units[i].ms, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return -ERANGE;
	}
	*out_ms = total;
	return 0;
}

void config_format_duration(struct strbuf *sb, int64_t ms)
{
	uint64_t left;

	if (!ms) {
		strbuf_addch(sb, '0');
		return;
	}
	if (ms < 0) {
		strbuf_addch(sb, '-');
		left = -(uint64_t)ms;
	} else {
		left = (uint64_t)ms;
	}
	for (size_t i = ARRAY_SIZE(duration_units); i-- > 0;) {
		uint64_t unit = (uint64_t)duration_units[i].ms;

		if (left >= unit) {
			strbuf_addf(sb, "%" PRIu64 "%s", left / unit,
				    duration_units[i].name);
			left %= unit;
		}
	}
}

int config_get_duration(int64_t *out_ms, const struct yamlnode *node,
			int64_t min_ms, int64_t max_ms, struct strbuf *err)
{
	const char *what = "a duration like '30s', '90m' or '24h'";
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT;
	int64_t v;
	int r = need_scalar(node, what, err);

	if (r < 0)
		return r;
	if (strlen(node->str) != node->len)
		return bad_value(node, what, err);
	r = config_parse_duration(&v, node->str);
	if (r == -ERANGE) {
		yamlnode_error(err, node, "duration %s is too long", node->str);
		return -EINVAL;
	}
	if (r < 0)
		return bad_value(node, what, err);
	if (in_range(v, min_ms, max_ms)) {
		*out_ms = v;
		return 0;
	}
	config_format_duration(&a, v);
	config_format_duration(&b, min_ms);
	config_format_duration(&c, max_ms);
	yamlnode_error(err, node, "value %s out of range %s..%s", a.buf, b.buf,
		       c.buf);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&c);
	return -EINVAL;
}

int config_get_enum(int *out, const struct yamlnode *node,
		    const char *const *names, struct strbuf *err)
{
	struct strbuf what = STRBUF_INIT;
	int r = need_scalar(node, "a name", err);

	if (r < 0)
		return r;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(node->str, names[i]) &&
		    strlen(names[i]) == node->len) {
			*out = i;
			return 0;
		}
	}
	strbuf_addstr(&what, "one of ");
	for (int i = 0; names[i]; i++)
		strbuf_addf(&what, "%s'%s'", i ? ", " : "", names[i]);
	r = bad_value(node, what.buf, err);
	strbuf_release(&what);
	return r;
}

/* Lists and maps. */

void config_strlist_release(struct config_strlist *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->nr = 0;
}

void config_strmap_release(struct config_strmap *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		free(m->keys[i]);
		free(m->values[i]);
	}
	free(m->keys);
	free(m->values);
	m->keys = NULL;
	m->values = NULL;
	m->nr = 0;
}

const char *config_strmap_get(const struct config_strmap *m, const char *key)
{
	for (size_t i = 0; i < m->nr; i++)
		if (!strcmp(m->keys[i], key))
			return m->values[i];
	return NULL;
}

static int get_strlist(struct config_strlist *out, const struct yamlnode *node,
		       struct strbuf *err)
{
	struct config_strlist l = {0};
	int ret = 0;

	if (yamlnode_is_null(node))
		goto done;
	if (node->kind != YAMLNODE_SEQUENCE) {
		yamlnode_error(err, node,
			       "expected a sequence of strings, got %s",
			       yamlnode_kind_name(node->kind));
		return -EINVAL;
	}
	l.v = xcalloc(node->nr ? node->nr : 1, sizeof(*l.v));
	for (size_t i = 0; i < node->nr; i++) {
		char *s = NULL;

		if (config_get_string(&s, node->items[i], err) < 0) {
			ret = -EINVAL;
			continue;
		}
		l.v[l.nr++] = s;
	}
	if (ret < 0) {
		config_strlist_release(&l);
		return ret;
	}
done:
	config_strlist_release(out);
	*out = l;
	return 0;
}

static int get_strmap(struct config_strmap *out, const struct yamlnode *node,
		      struct strbuf *err)
{
	struct config_strmap m = {0};
	int ret = 0;

	if (yamlnode_is_null(node))
		goto done;
	if (node->kind != YAMLNODE_MAPPING) {
		yamlnode_error(err, node,
			       "expected a mapping of strings, got %s",
			       yamlnode_kind_name(node->kind));
		return -EINVAL;
	}
	m.keys = xcalloc(node->nr ? node->nr : 1, sizeof(*m.keys));
	m.values = xcalloc(node->nr ? node->nr : 1, sizeof(*m.values));
	for (size_t i = 0; i < node->nr; i++) {
		char *k = NULL, *v = NULL;

		if (config_get_string(&k, node->pairs[i].key, err) < 0 ||
		    config_get_string(&v, node->pairs[i].value, err) < 0) {
			free(k);
			ret = -EINVAL;
			continue;
		}
		m.keys[m.nr] = k;
		m.values[m.nr] = v;
		m.nr++;
	}
	if (ret < 0) {
		config_strmap_release(&m);
		return ret;
	}
done:
	config_strmap_release(out);
	*out = m;
	return 0;
}

/* The binder proper. */

static void apply_defaults(void *obj, const struct config_field *fields);
static int bind_mapping(void *obj, const struct config_field *fields,
			const struct yamlnode *node,
			const struct yamlnode *where, const char *section,
			struct strbuf *err);

static void *member(void *obj, const struct config_field *f)
{
	return (char *)obj + f->offset;
}

static void release_field(void *obj, const struct config_field *f)
{
	void *p = member(obj, f);

	switch (f->type) {
	case CONFIG_STRING:
		free(*(char **)p);
		*(char **)p = NULL;
		break;
	case CONFIG_STRLIST:
		config_strlist_release(p);
		break;
	case CONFIG_STRMAP:
		config_strmap_release(p);
		break;
	case CONFIG_MAPPING:
		config_release(p, f->fields);
		break;
	case CONFIG_SEQUENCE: {
		struct config_seq *seq = p;

		for (size_t i = 0; i < seq->nr; i++)
			config_release((char *)seq->items + i * f->elem_size,
				       f->fields);
		free(seq->items);
		seq->items = NULL;
		seq->nr = 0;
		break;
	}
	case CONFIG_CUSTOM:
		if (f->release)
			f->release(p);
		break;
	case CONFIG_BOOL:
	case CONFIG_INT:
	case CONFIG_INT64:
	case CONFIG_DOUBLE:
	case CONFIG_DURATION:
	case CONFIG_ENUM:
		break;
	case CONFIG_TYPE_MAX:
		BUG("bad config type for '%s'", f->key);
	}
}

void config_release(void *obj, const struct config_field *fields)
{
	if (!obj)
		return;
	for (const struct config_field *f = fields; f->key; f++)
		release_field(obj, f);
}

static void apply_defaults(void *obj, const struct config_field *fields)
{
	for (const struct config_field *f = fields; f->key; f++) {
		void *p = member(obj, f);

		switch (f->type) {
		case CONFIG_STRING:
			*(char **)p = f->def_str ? xstrdup(f->def_str) : NULL;
			break;
		case CONFIG_BOOL:
			*(bool *)p = f->def_bool;
			break;
		case CONFIG_INT:
		case CONFIG_ENUM:
			*(int *)p = (int)f->def_int;
			break;
		case CONFIG_INT64:
		case CONFIG_DURATION:
			*(int64_t *)p = f->def_int;
			break;
		case CONFIG_DOUBLE:
			*(double *)p = f->def_double;
			break;
		case CONFIG_STRLIST: {
			struct config_strlist *l = p;
			size_t n = 0;

			while (f->def_list && f->def_list[n])
				n++;
			l->v = n ? xcalloc(n, sizeof(*l->v)) : NULL;
			for (l->nr = 0; l->nr < n; l->nr++)
				l->v[l->nr] = xstrdup(f->def_list[l->nr]);
			break;
		}
		case CONFIG_STRMAP:
			memset(p, 0, sizeof(struct config_strmap));
			break;
		case CONFIG_MAPPING:
			apply_defaults(p, f->fields);
			break;
		case CONFIG_SEQUENCE:
			memset(p, 0, sizeof(struct config_seq));
			break;
		case CONFIG_CUSTOM:
			/* parse(NULL) sets its defaults if the key is absent.
			 */
			break;
		case CONFIG_TYPE_MAX:
			BUG("bad config type for '%s'", f->key);
		}
	}
}

static int bind_sequence(struct config_seq *seq, const struct config_field *f,
			 const struct yamlnode *node, struct strbuf *err)
{
	int ret = 0;

	if (yamlnode_is_null(node))
		return 0;
	if (node->kind != YAMLNODE_SEQUENCE) {
		yamlnode_error(err, node,
			       "expected a sequence of mappings, got %s",
			       yamlnode_kind_name(node->kind));
		return -EINVAL;
	}
	seq->items = xcalloc(node->nr ? node->nr : 1, f->elem_size);
	for (size_t i = 0; i < node->nr; i++) {
		void *elem = (char *)seq->items + i * f->elem_size;

		/* Count it first: a half-bound element still needs freeing. */
		seq->nr++;
		apply_defaults(elem, f->fields);
		if (bind_mapping(elem, f->fields, node->items[i], NULL, NULL,
				 err) < 0)
			ret = -EINVAL;
	}
	return ret;
}

/* Bind one present value; the member holds its default already. */
static int bind_value(void *obj, const struct config_field *f,
		      const struct yamlnode *node, struct strbuf *err)
{
	void *p = member(obj, f);
	int r = 0;

	switch (f->type) {
	case CONFIG_STRING: {
		char *s = NULL;

		r = config_get_string(&s, node, err);
		if (r < 0)
			break;
		free(*(char **)p);
		*(char **)p = s;
		break;
	}
	case CONFIG_BOOL:
		r = config_get_bool(p, node, err);
		break;
	case CONFIG_INT: {
		int64_t v;
		int64_t min = f->min, max = f->max;

		if (!min && !max) {
			min = INT_MIN;
			max = INT_MAX;
		}
		r = config_get_int64(&v, node, min, max, err);
		if (r >= 0)
			*(int *)p = (int)v;
		break;
	}
	case CONFIG_INT64:
		r = config_get_int64(p, node, f->min, f->max, err);
		break;
	case CONFIG_DOUBLE:
		r = config_get_double(p, node, f->dmin, f->dmax, err);
		break;
	case CONFIG_DURATION:
		r = config_get_duration(p, node, f->min, f->max, err);
		break;
	case CONFIG_ENUM:
		r = config_get_enum(p, node, f->names, err);
		break;
	case CONFIG_STRLIST:
		r = get_strlist(p, node, err);
		break;
	case CONFIG_STRMAP:
		r = get_strmap(p, node, err);
		break;
	case CONFIG_MAPPING:
		r = bind_mapping(p, f->fields, node, NULL, NULL, err);
		break;
	case CONFIG_SEQUENCE:
		r = bind_sequence(p, f, node, err);
		break;
	case CONFIG_CUSTOM:
		r = f->parse(p, node, err) < 0 ? -EINVAL : 0;
		break;
	case CONFIG_TYPE_MAX:
		BUG("bad config type for '%s'", f->key);
	}
	if (r >= 0 && f->check)
		r = f->check(p, node, err) < 0 ? -EINVAL : 0;
	return r;
}

/* Optimal string alignment distance, ASCII case-insensitive. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t v = (size_t)d[i - 1][j - 1] + (ca != cb);

			if ((size_t)d[i - 1][j] + 1 < v)
				v = (size_t)d[i - 1][j] + 1;
			if ((size_t)d[i][j - 1] + 1 < v)
				v = (size_t)d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    (size_t)d[i - 2][j - 2] + 1 < v)
				v = (size_t)d[i - 2][j - 2] + 1;
			d[i][j] = (unsigned char)v;
		}
	}
	return d[la][lb];
}

static void unknown_key(const struct config_field *fields,
			const struct yamlnode *key, struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT;
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	if (key->len <= SUGGEST_MAX && strlen(key->str) == key->len) {
		for (const struct config_field *f = fields; f->key; f++) {
			size_t d = edit_distance(key->str, f->key);

			if (d < best_d) {
				best_d = d;
				best = f->key;
			}
		}
	}
	strbuf_addstr(&msg, "unknown key ");
	add_quoted(&msg, key);
	if (best && best_d <= 2 && best_d < strlen(best))
		strbuf_addf(&msg, " (did you mean '%s'?)", best);
	yamlnode_error(err, key, "%s", msg.buf);
	strbuf_release(&msg);
}

static const struct config_field *find_field(const struct config_field *fields,
					     const struct yamlnode *key)
{
	for (const struct config_field *f = fields; f->key; f++)
		if (strlen(f->key) == key->len && !strcmp(f->key, key->str))
			return f;
	return NULL;
}

/*
 * 'where' and 'section' place "missing required key" messages when the
 * mapping itself is absent ('node' NULL or null).
 */
static int bind_mapping(void *obj, const struct config_field *fields,
			const struct yamlnode *node,
			const struct yamlnode *where, const char *section,
			struct strbuf *err)
{
	bool bad_type = false;
	int ret = 0;

	if (node && yamlnode_is_null(node)) {
		where = node;
		node = NULL;
	}
	if (node && node->kind != YAMLNODE_MAPPING) {
		yamlnode_error(err, node, "expected a mapping, got %s",
			       yamlnode_kind_name(node->kind));
		ret = -EINVAL;
		node = NULL;
		bad_type = true; /* one message is enough */
	}
	for (size_t i = 0; node && i < node->nr; i++) {
		const struct config_field *f;

		f = find_field(fields, node->pairs[i].key);
		if (!f) {
			unknown_key(fields, node->pairs[i].key, err);
			ret = -EINVAL;
			continue;
		}
		if (bind_value(obj, f, node->pairs[i].value, err) < 0)
			ret = -EINVAL;
	}
	for (const struct config_field *f = fields; f->key; f++) {
		if (node && yamlnode_map_get(node, f->key))
			continue;
		if (f->required) {
			ret = -EINVAL;
			if (bad_type)
				continue;
			if (section)
				yamlnode_error(
					err, node ? node : where,
					"missing required key '%s' in '%s'",
					f->key, section);
			else
				yamlnode_error(err, node ? node : where,
					       "missing required key '%s'",
					       f->key);
			continue;
		}
		if (f->type == CONFIG_MAPPING) {
			/* Its own required keys and CUSTOM defaults. */
			if (bind_mapping(member(obj, f), f->fields, NULL,
					 node ? node : where, f->key,
					 bad_type ? NULL : err) < 0)
				ret = -EINVAL;
			continue;
		}
		if (f->type == CONFIG_CUSTOM &&
		    f->parse(member(obj, f), NULL, err) < 0)
			ret = -EINVAL;
	}
	return ret;
}

int config_bind(void *obj, const struct config_field *fields,
		const struct yamlnode *node, struct strbuf *err)
{
	apply_defaults(obj, fields);
	return bind_mapping(obj, fields, node, NULL, NULL, err);
}

/* Glob matching for address patterns. */

bool config_glob_match(const char *pattern, const char *str)
{
	const char *p = pattern, *s = str;
	const char *star = NULL, *resume = NULL;

	/*
	 * Classic single-star backtracking: on a mismatch only the most
	 * recent '*' grows, so the cost is O(len(p) * len(s)) at worst.
	 */
	while (*s) {
		if (*p == '*') {
			star = ++p;
			resume = s;
		} else if (*p && tolower((unsigned char)*p) ==
					 tolower((unsigned char)*s)) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* The kreview schema. */

static int check_absolute(const void *field, const struct yamlnode *node,
			  struct strbuf *err)
{
	const char *path = *(char *const *)field;

	if (path[0] == '/')
		return 0;
	yamlnode_error(err, node, "'%s' is not an absolute path", path);
	return -EINVAL;
}

static int check_address(const char *s, bool pattern,
			 const struct yamlnode *node, struct strbuf *err)
{
	struct strbuf q = STRBUF_INIT;

	if (strchr(s, '@') && !strpbrk(s, " \t\r\n<>,"))
		return 0;
	yamlnode_quote(&q, s, strlen(s), QUOTE_MAX);
	yamlnode_error(err, node, "%s is not a bare mail address%s", q.buf,
		       pattern ? " pattern" : "");
	strbuf_release(&q);
	return -EINVAL;
}

static int check_own_address(const void *field, const struct yamlnode *node,
			     struct strbuf *err)
{
	return check_address(*(char *const *)field, false, node, err);
}

static int check_bot_senders(const void *field, const struct yamlnode *node,
			     struct strbuf *err)
{
	const struct config_strlist *l = field;
	int ret = 0;

	/* get_strlist() succeeded, so items map 1:1 onto 'l'. */
	for (size_t i = 0; i < l->nr; i++)
		if (check_address(l->v[i], true, node->items[i], err) < 0)
			ret = -EINVAL;
	return ret;
}

static const char *const default_bot_senders[] = {
	"lkp@intel.com",
	"syzbot*@*appspotmail.com",
	"patchwork-bot*@kernel.org",
	"*-bot@*",
	"noreply@*",
	NULL,
};

static const struct config_field ingest_fields[] = {
	{CONFIG_F_DURATION(struct config_ingest, stall_after_ms, "stall_after"),
	 .min = 60 * 1000, .max = 30LL * 86400 * 1000,
	 .def_int = 24LL * 3600 * 1000,
	 .doc = "mark an incomplete series revision stalled this long "
		"after its newest message"},
	{CONFIG_F_STRLIST(struct config_ingest, bot_senders, "bot_senders"),
	 .def_list = default_bot_senders, .check = check_bot_senders,
	 .doc = "address patterns ('*' matches anything) whose mail is "
		"stored but never reviewed"},
	{CONFIG_F_STRING(struct config_ingest, own_address, "own_address"),
	 .check = check_own_address,
	 .doc = "kreview's own sending address; its mail is never "
		"reviewed"},
	{NULL}};

const char *const config_review_profiles[] = { "quick", "standard", "deep",
					       NULL };

static const struct config_field review_fields[] = {
	{CONFIG_F_STRING(struct config_review, endpoint, "endpoint"),
	 .doc = "endpoint name for every stage (default: the first endpoint)"},
	{CONFIG_F_STRMAP(struct config_review, stages, "stages"),
	 .doc = "stage id to endpoint name, overriding 'endpoint'"},
	{CONFIG_F_INT(struct config_review, runs, "runs"), .min = 1, .max = 16,
	 .def_int = 3, .doc = "passes over each patch"},
	{CONFIG_F_ENUM(struct config_review, profile, "profile",
		       config_review_profiles),
	 .def_int = 1, .doc = "quick, standard or deep"},
	{CONFIG_F_BOOL(struct config_review, verify, "verify"),
	 .def_bool = true,
	 .doc = "check surviving findings with the verification prompt"},
	{CONFIG_F_STRING(struct config_review, prompts, "prompts"),
	 .check = check_absolute, .doc = "prompt directory"},
	{CONFIG_F_STRING(struct config_review, subsystems, "subsystems"),
	 .check = check_absolute, .doc = "subsystem rule directory"},
	{CONFIG_F_INT(struct config_review, context_budget, "context_budget"),
	 .min = 1024, .max = 4 << 20, .def_int = 48 * 1024,
	 .doc = "bytes of code context per patch"},
	{CONFIG_F_INT64(struct config_review, token_budget, "token_budget"),
	 .min = 0, .max = 1000000000, .def_int = 0,
	 .doc = "input tokens per series, 0 for no limit; over it, context,"
		" rules, cover letter, stages and passes are given up in"
		" that order"},
	{NULL}};

const struct config_field config_schema[] = {
	{CONFIG_F_STRING(struct kreview_config, state_dir, "state_dir"),
	 .check = check_absolute,
	 .doc = "directory for the database and other state"},
	{CONFIG_F_STRING(struct kreview_config, database, "database"),
	 .check = check_absolute, .doc = "the main SQLite database"},
	{CONFIG_F_MAPPING(struct kreview_config, ingest, "ingest",
			  ingest_fields),
	 .doc = "how incoming mail becomes series"},
	{CONFIG_F_CUSTOM(struct kreview_config, endpoints, "endpoints",
			 llm_config_parse, llm_config_release),
	 .doc = "LLM endpoints: name, dialect, url, model, key_env or "
		"key_file, limits, prices"},
	{CONFIG_F_MAPPING(struct kreview_config, review, "review",
			  review_fields),
	 .doc = "how series are reviewed"},
	{CONFIG_F_CUSTOM(struct kreview_config, lists, "lists",
			 reply_lists_parse, reply_lists_release),
	 .doc = "reply policy per mailing list: mode, severity floor, "
		"embargo, rate limit"},
	{CONFIG_F_CUSTOM(struct kreview_config, mail, "mail",
			 outbox_mail_parse, outbox_mail_release),
	 .doc = "kreview's From: address and how its mail is delivered"},
	{CONFIG_F_CUSTOM(struct kreview_config, bugs, "bugs",
			 bugdb_config_parse, bugdb_config_release),
	 .doc = "per-subsystem bug databases: admission, triage, digests"},
	{CONFIG_F_CUSTOM(struct kreview_config, daemon, "daemon",
			 daemon_config_parse, daemon_config_release),
	 .doc = "kreview daemon: sources to poll, concurrency, budgets"},
	{NULL}};

/* Loading. */

void config_free(struct kreview_config *cfg)
{
	if (!cfg)
		return;
	config_release(cfg, config_schema);
	free(cfg->path);
	free(cfg);
}

static const char *env_abs(const char *name)
{
	const char *v = getenv(name);

	/* The XDG spec says relative values are to be ignored. */
	return v && v[0] == '/' ? v : NULL;
}

static int default_state_dir(char **out, struct strbuf *err)
{
	const char *v;

	/* systemd's StateDirectory=; a list is colon-separated. */
	v = env_abs("STATE_DIRECTORY");
	if (v) {
		const char *colon = strchr(v, ':');

		*out = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
		return 0;
	}
	v = env_abs("XDG_STATE_HOME");
	if (v) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s/kreview", v);
		*out = strbuf_detach(&sb, NULL);
		return 0;
	}
	v = env_abs("HOME");
	if (v) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s/.local/state/kreview", v);
		*out = strbuf_detach(&sb, NULL);
		return 0;
	}
	yamlnode_error(err, NULL,
		       "cannot choose a state directory: none of "
		       "$STATE_DIRECTORY, $XDG_STATE_HOME and $HOME is set; "
		       "set 'state_dir'");
	return -EINVAL;
}

static int config_from_doc(struct kreview_config **out,
			   const struct yamlnode_doc *doc, const char *path,
			   struct strbuf *err)
{
	struct kreview_config *cfg = xcalloc(1, sizeof(*cfg));
	const struct yamlnode *root = doc ? doc->root : NULL;
	int ret;

	if (root && root->kind != YAMLNODE_MAPPING && !yamlnode_is_null(root)) {
		apply_defaults(cfg, config_schema);
		yamlnode_error(err, root,
			       "expected a mapping at the top, got %s",
			       yamlnode_kind_name(root->kind));
		ret = -EINVAL;
		goto out;
	}
	ret = config_bind(cfg, config_schema, root, err);
	if (ret < 0)
		goto out;
	if (!cfg->state_dir) {
		ret = default_state_dir(&cfg->state_dir, err);
		if (ret < 0)
			goto out;
	}
	if (!cfg->database) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s/kreview.db", cfg->state_dir);
		cfg->database = strbuf_detach(&sb, NULL);
	}
	cfg->path = path ? xstrdup(path) : NULL;
	*out = cfg;
	return 0;
out:
	config_free(cfg);
	return ret;
}

int config_load_buffer(struct kreview_config **out, const char *name,
		       const char *buf, size_t len, struct strbuf *err)
{
	struct yamlnode_doc *doc = NULL;
	int ret;

	ret = yamlnode_load_buffer(&doc, name, buf, len, err);
	if (ret < 0)
		return ret;
	ret = config_from_doc(out, doc, name, err);
	yamlnode_doc_free(doc);
	return ret;
}

static int load_file(struct kreview_config **out, const char *path,
		     bool optional, struct strbuf *err)
{
	struct yamlnode_doc *doc = NULL;
	struct strbuf msg = STRBUF_INIT;
	int ret;

	ret = yamlnode_load_file(&doc, path, &msg);
	if (ret < 0) {
		/* A default path that does not exist is just not used. */
		if (!optional || (ret != -ENOENT && ret != -ENOTDIR))
			yamlnode_error(err, NULL, "%s", msg.buf);
		goto out;
	}
	ret = config_from_doc(out, doc, path, err);
out:
	strbuf_release(&msg);
	yamlnode_doc_free(doc);
	return ret;
}

int config_load(struct kreview_config **out, const char *path,
		struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	const char *v;
	int ret;

	if (path)
		return load_file(out, path, false, err);
	v = getenv("KREVIEW_CONFIG");
	if (v && *v)
		return load_file(out, v, false, err);

	v = env_abs("XDG_CONFIG_HOME");
	if (v) {
		strbuf_addf(&p, "%s/kreview/config.yaml", v);
		ret = load_file(out, p.buf, true, err);
		if (ret != -ENOENT && ret != -ENOTDIR)
			goto out;
		strbuf_reset(&p);
	}
	v = env_abs("HOME");
	if (v) {
		strbuf_addf(&p, "%s/.config/kreview/config.yaml", v);
		ret = load_file(out, p.buf, true, err);
		if (ret != -ENOENT && ret != -ENOTDIR)
			goto out;
	}
	ret = config_from_doc(out, NULL, NULL, err);
out:
	strbuf_release(&p);
	return ret;
}

bool config_is_bot_sender(const struct kreview_config *cfg, const char *address)
{
	for (size_t i = 0; i < cfg->ingest.bot_senders.nr; i++)
		if (config_glob_match(cfg->ingest.bot_senders.v[i], address))
			return true;
	return false;
}
