/*
 * Bounded YAML loading with libyaml's event parser.
 *
 * The event API rather than yaml_parser_load(): the document loader of
 * libyaml 0.2.5 has no depth limit, resolves aliases into shared nodes
 * (cycles), forgets whether a tag was explicit and drops anchors, so
 * none of the rejections in yamlnode.h could be made after the fact.
 * Building the tree ourselves lets every limit be checked as the event
 * arrives, before any recursion happens.
 */
#include "kreview/yamlnode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

struct frame {
	struct yamlnode *node;
	struct yamlnode *key; /* mapping: key waiting for its value */
	size_t alloc;
};

struct loader {
	const char *name;
	const char *buf;
	size_t len;
	struct strbuf *err;
	struct yamlnode_doc *doc;
	struct frame stack[YAMLNODE_MAX_DEPTH];
	size_t depth;
	size_t nodes;
	unsigned documents;
};

static const char *const core_tags[] = {
	"tag:yaml.org,2002:str",   "tag:yaml.org,2002:int",
	"tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
	"tag:yaml.org,2002:null",  "tag:yaml.org,2002:seq",
	"tag:yaml.org,2002:map",
};

void yamlnode_error(struct strbuf *err, const struct yamlnode *node,
		    const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	if (err->len && err->buf[err->len - 1] != '\n')
		strbuf_addch(err, '\n');
	if (node)
		strbuf_addf(err, "%s:%u:%u: ", node->file, node->line,
			    node->column);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
}

void yamlnode_quote(struct strbuf *sb, const char *s, size_t len, size_t max)
{
	size_t n = len > max ? max : len;

	/* Do not cut a UTF-8 sequence in half. */
	while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	strbuf_addch(sb, '\'');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			strbuf_addstr(sb, "\\n");
		else if (c == '\t')
			strbuf_addstr(sb, "\\t");
		else if (c == '\\' || c == '\'')
			strbuf_addf(sb, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(sb, "\\x%02x", c);
		else
			strbuf_addch(sb, (char)c);
	}
	strbuf_addch(sb, '\'');
	if (n < len)
		strbuf_addstr(sb, "...");
}

const char *yamlnode_kind_name(enum yamlnode_kind kind)
{
	switch (kind) {
	case YAMLNODE_SCALAR:
		return "a scalar";
	case YAMLNODE_SEQUENCE:
		return "a sequence";
	case YAMLNODE_MAPPING:
		return "a mapping";
	case YAMLNODE_KIND_MAX:
		break;
	}
	BUG("bad yamlnode kind %d", (int)kind);
}

bool yamlnode_is_null(const struct yamlnode *node)
{
	if (!node || node->kind != YAMLNODE_SCALAR || !node->plain)
		return false;
	return !node->len || !strcmp(node->str, "~") ||
	       !strcmp(node->str, "null") || !strcmp(node->str, "Null") ||
	       !strcmp(node->str, "NULL");
}

const struct yamlnode *yamlnode_map_get(const struct yamlnode *map,
					const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->kind != YAMLNODE_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->nr; i++) {
		const struct yamlnode *k = map->pairs[i].key;

		if (k->len == klen && !memcmp(k->str, key, klen))
			return map->pairs[i].value;
	}
	return NULL;
}

static void node_free(struct yamlnode *node)
{
	if (!node)
		return;
	free(node->str);
	for (size_t i = 0; node->items && i < node->nr; i++)
		node_free(node->items[i]);
	for (size_t i = 0; node->pairs && i < node->nr; i++) {
		node_free(node->pairs[i].key);
		node_free(node->pairs[i].value);
	}
	free(node->items);
	free(node->pairs);
	free(node);
}

void yamlnode_doc_free(struct yamlnode_doc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

/* An error at a libyaml mark (0-based) rather than at a node. */
KR_PRINTF(3, 4)
static int mark_error(struct loader *l, const yaml_mark_t *mark,
		      const char *fmt, ...)
{
	va_list ap;

	if (!l->err)
		return -EINVAL;
	if (l->err->len && l->err->buf[l->err->len - 1] != '\n')
		strbuf_addch(l->err, '\n');
	strbuf_addf(l->err, "%s:%zu:%zu: ", l->name, mark->line + 1,
		    mark->column + 1);
	va_start(ap, fmt);
	strbuf_vaddf(l->err, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * libyaml's reader reports a byte offset only; turn it into a mark by
 * counting line breaks and characters (UTF-8 lead bytes) before it.
 */
static yaml_mark_t offset_mark(const struct loader *l, size_t offset)
{
	yaml_mark_t m = {0, 0, 0};

	if (offset > l->len)
		offset = l->len;
	m.index = offset;
	for (size_t i = 0; i < offset; i++) {
		unsigned char c = (unsigned char)l->buf[i];

		if (c == '\n' ||
		    (c == '\r' && (i + 1 >= l->len || l->buf[i + 1] != '\n'))) {
			m.line++;
			m.column = 0;
		} else if ((c & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

static int parser_error(struct loader *l, const yaml_parser_t *p)
{
	yaml_mark_t m;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		die("out of memory in libyaml while parsing '%s'", l->name);
	case YAML_READER_ERROR:
		m = offset_mark(l, p->problem_offset);
		if (p->problem_value != -1)
			return mark_error(l, &m, "%s (byte 0x%02x)", p->problem,
					  p->problem_value & 0xff);
		return mark_error(l, &m, "%s", p->problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context)
			return mark_error(l, &p->problem_mark,
					  "%s (%s at %zu:%zu)",
					  p->problem ? p->problem : "error",
					  p->context, p->context_mark.line + 1,
					  p->context_mark.column + 1);
		return mark_error(l, &p->problem_mark, "%s",
				  p->problem ? p->problem : "syntax error");
	default:
		return mark_error(l, &p->problem_mark, "cannot parse: %s",
				  p->problem ? p->problem : "unknown error");
	}
}

static int check_props(struct loader *l, const yaml_event_t *ev,
		       const yaml_char_t *anchor, const yaml_char_t *tag,
		       bool implicit)
{
	if (anchor)
		return mark_error(l, &ev->start_mark,
				  "anchors are not supported (found '&%s')",
				  (const char *)anchor);
	/* "!" is the non-specific tag: a plain string, harmless. */
	if (!tag || implicit || !strcmp((const char *)tag, "!"))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(core_tags); i++)
		if (!strcmp((const char *)tag, core_tags[i]))
			return 0;
	return mark_error(l, &ev->start_mark, "tag '%s' is not supported",
			  (const char *)tag);
}

static struct yamlnode *node_new(struct loader *l, enum yamlnode_kind kind,
				 const yaml_event_t *ev)
{
	struct yamlnode *n;

	if (l->nodes >= YAMLNODE_MAX_NODES) {
		mark_error(l, &ev->start_mark, "more than %d nodes",
			   YAMLNODE_MAX_NODES);
		return NULL;
	}
	l->nodes++;
	n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->file = l->doc->file;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->column = (unsigned)ev->start_mark.column + 1;
	return n;
}

static int key_cmp(const void *a, const void *b)
{
	const struct yamlnode_pair *pa =
		*(const struct yamlnode_pair *const *)a;
	const struct yamlnode_pair *pb =
		*(const struct yamlnode_pair *const *)b;
	const struct yamlnode *ka = pa->key, *kb = pb->key;
	size_t n = ka->len < kb->len ? ka->len : kb->len;
	int c = memcmp(ka->str, kb->str, n);

	if (c)
		return c;
	if (ka->len != kb->len)
		return ka->len < kb->len ? -1 : 1;
	/* Same key: document order, so the first of a run came first. */
	return pa < pb ? -1 : pa > pb;
}

/*
 * Sorting finds duplicates in O(n log n) even for the largest mapping
 * a 1 MiB file can hold; of all duplicates, report the one that comes
 * first in the document so that the message is stable.
 */
static int check_duplicates(struct loader *l, const struct yamlnode *map)
{
	const struct yamlnode_pair **sorted;
	const struct yamlnode_pair *dup = NULL, *first = NULL;
	struct strbuf q = STRBUF_INIT;

	if (map->nr < 2)
		return 0;
	sorted = xmalloc(st_mult(map->nr, sizeof(*sorted)));
	for (size_t i = 0; i < map->nr; i++)
		sorted[i] = &map->pairs[i];
	qsort(sorted, map->nr, sizeof(*sorted), key_cmp);
	for (size_t i = 1; i < map->nr; i++) {
		const struct yamlnode *a = sorted[i - 1]->key;
		const struct yamlnode *b = sorted[i]->key;

		if (a->len != b->len || memcmp(a->str, b->str, a->len))
			continue;
		if (i >= 2 && sorted[i - 2]->key->len == a->len &&
		    !memcmp(sorted[i - 2]->key->str, a->str, a->len))
			continue; /* third or later of a run */
		if (!dup || sorted[i] < dup) {
			dup = sorted[i];
			first = sorted[i - 1];
		}
	}
	free(sorted);
	if (!dup)
		return 0;
	yamlnode_quote(&q, dup->key->str, dup->key->len, 64);
	yamlnode_error(l->err, dup->key, "duplicate key %s (first at %u:%u)",
		       q.buf, first->key->line, first->key->column);
	strbuf_release(&q);
	return -EINVAL;
}

/* Hang 'node' under the innermost open collection; frees it on error. */
static int attach(struct loader *l, struct yamlnode *node)
{
	struct frame *f;

	if (!l->depth) {
		if (l->doc->root)
			BUG("second root node in one document");
		l->doc->root = node;
		return 0;
	}
	f = &l->stack[l->depth - 1];
	if (f->node->kind == YAMLNODE_SEQUENCE) {
		ALLOC_GROW(f->node->items, f->node->nr + 1, f->alloc);
		f->node->items[f->node->nr++] = node;
		return 0;
	}
	if (!f->key) {
		if (node->kind != YAMLNODE_SCALAR) {
			yamlnode_error(l->err, node,
				       "mapping keys must be scalars, not %s",
				       yamlnode_kind_name(node->kind) + 2);
			node_free(node);
			return -EINVAL;
		}
		f->key = node;
		return 0;
	}
	ALLOC_GROW(f->node->pairs, f->node->nr + 1, f->alloc);
	f->node->pairs[f->node->nr].key = f->key;
	f->node->pairs[f->node->nr].value = node;
	f->node->nr++;
	f->key = NULL;
	return 0;
}

static int on_scalar(struct loader *l, const yaml_event_t *ev)
{
	struct yamlnode *n;
	int r;

	r = check_props(l, ev, ev->data.scalar.anchor, ev->data.scalar.tag,
			ev->data.scalar.plain_implicit ||
				ev->data.scalar.quoted_implicit);
	if (r < 0)
		return r;
	n = node_new(l, YAMLNODE_SCALAR, ev);
	if (!n)
		return -EINVAL;
	n->str = xmemdupz(ev->data.scalar.value, ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   !ev->data.scalar.tag;
	return attach(l, n);
}

static int on_start(struct loader *l, const yaml_event_t *ev,
		    enum yamlnode_kind kind)
{
	const yaml_char_t *anchor, *tag;
	struct yamlnode *n;
	bool implicit;
	int r;

	if (kind == YAMLNODE_SEQUENCE) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		implicit = ev->data.sequence_start.implicit;
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		implicit = ev->data.mapping_start.implicit;
	}
	r = check_props(l, ev, anchor, tag, implicit);
	if (r < 0)
		return r;
	if (l->depth >= YAMLNODE_MAX_DEPTH)
		return mark_error(l, &ev->start_mark,
				  "nesting deeper than %d levels",
				  YAMLNODE_MAX_DEPTH);
	n = node_new(l, kind, ev);
	if (!n)
		return -EINVAL;
	r = attach(l, n);
	if (r < 0)
		return r;
	l->stack[l->depth].node = n;
	l->stack[l->depth].key = NULL;
	l->stack[l->depth].alloc = 0;
	l->depth++;
	return 0;
}

static int on_end(struct loader *l)
{
	struct frame *f;

	if (!l->depth)
		BUG("collection end without a start");
	f = &l->stack[--l->depth];
	if (f->key)
		BUG("mapping ended with a key and no value");
	if (f->node->kind == YAMLNODE_MAPPING)
		return check_duplicates(l, f->node);
	return 0;
}

static int on_event(struct loader *l, const yaml_event_t *ev, bool *done)
{
	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++l->documents > 1)
			return mark_error(l, &ev->start_mark,
					  "only one YAML document is allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		return mark_error(l, &ev->start_mark,
				  "aliases are not supported (found '*%s')",
				  (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return on_scalar(l, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(l, ev, YAMLNODE_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return on_start(l, ev, YAMLNODE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(l);
	}
	return mark_error(l, &ev->start_mark, "unexpected YAML event %d",
			  (int)ev->type);
}

int yamlnode_load_buffer(struct yamlnode_doc **out, const char *name,
			 const char *buf, size_t len, struct strbuf *err)
{
	struct loader l = {0};
	yaml_parser_t parser;
	bool done = false;
	int r = 0;

	if (len > YAMLNODE_MAX_SIZE) {
		yamlnode_error(err, NULL, "%s: file is larger than %d bytes",
			       name, YAMLNODE_MAX_SIZE);
		return -E2BIG;
	}
	/*
	 * libyaml counts a UTF-8 byte order mark as a column; an editor
	 * does not show it, so positions would be off by one.
	 */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		buf += 3;
		len -= 3;
	}
	l.name = name;
	l.buf = buf;
	l.len = len;
	l.err = err;
	l.doc = xcalloc(1, sizeof(*l.doc));
	l.doc->file = xstrdup(name);

	if (!yaml_parser_initialize(&parser))
		die("out of memory initialising libyaml");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			r = parser_error(&l, &parser);
			break;
		}
		r = on_event(&l, &ev, &done);
		yaml_event_delete(&ev);
		if (r < 0)
			break;
	}
	yaml_parser_delete(&parser);

	if (r < 0) {
		/* Pending keys are not in the tree yet. */
		for (size_t i = 0; i < l.depth; i++)
			node_free(l.stack[i].key);
		yamlnode_doc_free(l.doc);
		return r;
	}
	if (l.depth)
		BUG("stream ended inside a collection");
	*out = l.doc;
	return 0;
}

int yamlnode_load_file(struct yamlnode_doc **out, const char *path,
		       struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO must not hang the daemon. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		yamlnode_error(err, NULL, "cannot open '%s': %s", path,
			       strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		yamlnode_error(err, NULL, "cannot stat '%s': %s", path,
			       strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		yamlnode_error(err, NULL, "'%s' is not a regular file", path);
		goto out;
	}
	if (st.st_size > YAMLNODE_MAX_SIZE) {
		r = -E2BIG;
		yamlnode_error(err, NULL, "%s: file is larger than %d bytes",
			       path, YAMLNODE_MAX_SIZE);
		goto out;
	}
	r = strbuf_read_fd(&sb, fd, YAMLNODE_MAX_SIZE);
	if (r == -E2BIG) {
		yamlnode_error(err, NULL, "%s: file is larger than %d bytes",
			       path, YAMLNODE_MAX_SIZE);
		goto out;
	}
	if (r < 0) {
		yamlnode_error(err, NULL, "cannot read '%s': %s", path,
			       strerror(-r));
		goto out;
	}
	r = yamlnode_load_buffer(out, path, sb.buf, sb.len, err);
out:
	strbuf_release(&sb);
	close(fd);
	return r;
}
