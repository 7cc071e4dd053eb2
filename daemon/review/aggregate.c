/* Clustering of findings from repeated passes: see aggregate.h. */
#include "kreview/aggregate.h"
#include "kreview/strbuf.h"

#include <ctype.h>

void cluster_list_release(struct cluster_list *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		finding_release(&l->v[i].rep);
		free(l->v[i].members);
		free(l->v[i].verdict_reason);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Lowercased word tokens of length >= 3, deduplicated, sorted. */
struct tokens {
	char **v;
	size_t nr, alloc;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void tokenize(struct tokens *t, const char *s)
{
	while (s && *s) {
		const char *start;
		size_t n;

		if (!isalnum((unsigned char)*s) && *s != '_') {
			s++;
			continue;
		}
		start = s;
		while (*s && (isalnum((unsigned char)*s) || *s == '_'))
			s++;
		n = (size_t)(s - start);
		if (n < 3 || n > 64)
			continue;
		ALLOC_GROW(t->v, t->nr + 1, t->alloc);
		t->v[t->nr] = xmemdupz(start, n);
		for (char *p = t->v[t->nr]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		t->nr++;
	}
	if (t->nr)
		qsort(t->v, t->nr, sizeof(*t->v), cmp_str);
	/* dedup */
	if (t->nr) {
		size_t w = 1;

		for (size_t i = 1; i < t->nr; i++) {
			if (strcmp(t->v[i], t->v[w - 1]))
				t->v[w++] = t->v[i];
			else
				free(t->v[i]);
		}
		t->nr = w;
	}
}

static void tokens_release(struct tokens *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static double jaccard(const struct tokens *a, const struct tokens *b)
{
	size_t i = 0, j = 0, inter = 0, uni;

	if (!a->nr && !b->nr)
		return 0;
	while (i < a->nr && j < b->nr) {
		int c = strcmp(a->v[i], b->v[j]);

		if (!c) {
			inter++;
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	uni = a->nr + b->nr - inter;
	return uni ? (double)inter / (double)uni : 0;
}

double aggregate_similarity(const char *a, const char *b)
{
	struct tokens ta = { 0 }, tb = { 0 };
	double r;

	tokenize(&ta, a);
	tokenize(&tb, b);
	r = jaccard(&ta, &tb);
	tokens_release(&ta);
	tokens_release(&tb);
	return r;
}

struct item {
	const struct finding *f;
	char fpr[FINDING_FPR_HEX + 1];
	struct tokens title, idents, all;
};

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static void uf_union(size_t *parent, size_t a, size_t b)
{
	a = uf_find(parent, a);
	b = uf_find(parent, b);
	if (a != b)
		parent[a > b ? a : b] = a < b ? a : b;
}

static bool same_problem(const struct item *a, const struct item *b)
{
	const struct finding *x = a->f, *y = b->f;
	bool same_fn = x->function && y->function && *x->function &&
		       !strcmp(x->function, y->function);
	bool near = x->line <= y->end_line + 10 && y->line <= x->end_line + 10;

	if (strcmp(x->file, y->file) || strcmp(x->category, y->category))
		return false;
	if (!strcmp(a->fpr, b->fpr))
		return true;
	if (same_fn && (jaccard(&a->title, &b->title) >= 0.5 ||
			(a->idents.nr && jaccard(&a->idents, &b->idents) >= 0.5)))
		return true;
	return near && jaccard(&a->all, &b->all) >= 0.3;
}

static void item_init(struct item *it, const struct finding *f,
		      const char *subsystem)
{
	char **ids = NULL;
	size_t nr = 0;
	struct strbuf sb = STRBUF_INIT;

	memset(it, 0, sizeof(*it));
	it->f = f;
	finding_fingerprint(it->fpr, f, subsystem);
	tokenize(&it->title, f->title);
	finding_identifiers(&ids, &nr, f, 8);
	for (size_t i = 0; i < nr; i++) {
		strbuf_addf(&sb, "%s ", ids[i]);
		free(ids[i]);
	}
	free(ids);
	tokenize(&it->idents, sb.buf);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s\n%s\n%s", f->title, f->explanation, f->evidence);
	tokenize(&it->all, sb.buf);
	strbuf_release(&sb);
}

static void item_release(struct item *it)
{
	tokens_release(&it->title);
	tokens_release(&it->idents);
	tokens_release(&it->all);
}

static int cmp_sev(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void finish_cluster(struct cluster *c, const struct finding_list *in,
			   const struct aggregate_opts *o)
{
	int *sev = xmalloc(st_mult(c->members_nr, sizeof(int)));
	bool *seen_run;
	int max_run = 0;
	double conf = 0;
	size_t rep = c->members[0];

	for (size_t i = 0; i < c->members_nr; i++)
		if (in->v[c->members[i]].run > max_run)
			max_run = in->v[c->members[i]].run;
	seen_run = xcalloc((size_t)max_run + 1, sizeof(bool));
	c->support = 0;
	c->max_severity = SEV_LOW;
	for (size_t i = 0; i < c->members_nr; i++) {
		const struct finding *f = &in->v[c->members[i]];
		const struct finding *r = &in->v[rep];
		size_t fl = strlen(f->evidence), rl = strlen(r->evidence);

		if (f->run >= 0 && !seen_run[f->run]) {
			seen_run[f->run] = true;
			c->support++;
		}
		sev[i] = (int)f->severity;
		if (f->severity > c->max_severity)
			c->max_severity = f->severity;
		conf += f->confidence;
		if (fl > rl || (fl == rl && f->confidence > r->confidence))
			rep = c->members[i];
	}
	qsort(sev, c->members_nr, sizeof(int), cmp_sev);
	c->severity = (enum finding_severity)sev[c->members_nr / 2];
	finding_init(&c->rep);
	finding_copy(&c->rep, &in->v[rep]);
	if (finding_category_is_critical_class(c->rep.category))
		c->severity = c->max_severity;
	c->runs = o->runs > c->support ? o->runs : c->support;
	c->confidence = 0.6 * (double)c->support / (double)c->runs +
			0.4 * conf / (double)c->members_nr;
	c->rep.severity = c->severity;
	finding_fingerprint(c->fingerprint, &c->rep, o->subsystem);
	free(sev);
	free(seen_run);
}

static int cmp_cluster(const void *a, const void *b)
{
	const struct cluster *x = a, *y = b;

	if (x->severity != y->severity)
		return (int)y->severity - (int)x->severity;
	if (x->support != y->support)
		return y->support - x->support;
	if (strcmp(x->rep.file, y->rep.file))
		return strcmp(x->rep.file, y->rep.file);
	return x->rep.line - y->rep.line;
}

void aggregate_findings(struct cluster_list *out, const struct finding_list *in,
			const struct aggregate_opts *opts)
{
	struct item *items;
	size_t *parent, first = out->nr;

	if (!in->nr)
		return;
	items = xcalloc(in->nr, sizeof(*items));
	parent = xmalloc(st_mult(in->nr, sizeof(size_t)));
	for (size_t i = 0; i < in->nr; i++) {
		item_init(&items[i], &in->v[i], opts->subsystem);
		parent[i] = i;
	}
	for (size_t i = 0; i < in->nr; i++)
		for (size_t j = i + 1; j < in->nr; j++)
			if (uf_find(parent, i) != uf_find(parent, j) &&
			    same_problem(&items[i], &items[j]))
				uf_union(parent, i, j);

	for (size_t i = 0; i < in->nr; i++) {
		struct cluster *c;

		if (uf_find(parent, i) != i)
			continue;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		c = &out->v[out->nr++];
		memset(c, 0, sizeof(*c));
		for (size_t j = i; j < in->nr; j++) {
			if (uf_find(parent, j) != i)
				continue;
			c->members = xrealloc(c->members,
					      st_mult(c->members_nr + 1,
						      sizeof(size_t)));
			c->members[c->members_nr++] = j;
		}
		finish_cluster(c, in, opts);
	}
	qsort(out->v + first, out->nr - first, sizeof(*out->v), cmp_cluster);
	for (size_t i = 0; i < in->nr; i++)
		item_release(&items[i]);
	free(items);
	free(parent);
}

bool aggregate_survives(const struct cluster *c,
			const struct aggregate_opts *opts)
{
	switch (c->severity) {
	case SEV_CRITICAL:
	case SEV_HIGH:
		return c->support >= 1;
	case SEV_MEDIUM:
		/* two passes agree; a single pass can only offer one */
		return c->support >= (c->runs < 2 ? c->runs : 2);
	case SEV_LOW:
		return opts->local;
	default:
		BUG("bad severity %d", (int)c->severity);
	}
}

void aggregate_apply_verdict(struct cluster *c, enum verdict v,
			     const char *reason)
{
	c->verdict = v;
	free(c->verdict_reason);
	c->verdict_reason = reason ? xstrdup(reason) : NULL;
	if (v == VERDICT_CONFIRMED) {
		c->severity = c->max_severity;
		c->rep.severity = c->severity;
		if (c->confidence < 0.8)
			c->confidence = 0.8;
	}
}
