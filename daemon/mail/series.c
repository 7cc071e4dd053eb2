/* Series assembly the b4 way: see series.h. */
#include "kreview/series.h"

struct rev_build {
	int version;
	int *slots; /* index 0 unused; slots[1..nslots-1] */
	size_t nslots;
	int cover;
	int *reroll_from;   /* [0..reroll_nslots-1] */
	size_t reroll_nslots;
	int reroll_version;  /* partial reroll: the older revision, or 0 */
	bool partial_reroll, cover_adopted;
};

struct assembler {
	const struct series_msg *msgs;
	size_t nr;
	int *assigned;	 /* revision given to each message, 0 if none */
	struct rev_build *revs;
	size_t revs_nr, revs_alloc;
	int *covers;	 /* cover index per revision: (version, index) */
	int *cover_versions;
	size_t covers_nr, covers_alloc, cover_versions_alloc;
};

static int find_msg(const struct assembler *a, const char *msgid)
{
	if (!msgid)
		return -1;
	for (size_t i = 0; i < a->nr; i++)
		if (!strcmp(a->msgs[i].msgid, msgid))
			return (int)i;
	return -1;
}

static struct rev_build *find_rev(struct assembler *a, int version)
{
	for (size_t i = 0; i < a->revs_nr; i++)
		if (a->revs[i].version == version)
			return &a->revs[i];
	return NULL;
}

static struct rev_build *add_rev(struct assembler *a, int version,
				 int expected)
{
	struct rev_build *r;

	ALLOC_GROW(a->revs, a->revs_nr + 1, a->revs_alloc);
	r = &a->revs[a->revs_nr++];
	memset(r, 0, sizeof(*r));
	r->version = version;
	r->cover = -1;
	r->nslots = (size_t)expected + 1;
	r->slots = xmalloc(st_mult(r->nslots, sizeof(int)));
	for (size_t i = 0; i < r->nslots; i++)
		r->slots[i] = -1;
	return r;
}

static int cover_of(const struct assembler *a, int version)
{
	for (size_t i = 0; i < a->covers_nr; i++)
		if (a->cover_versions[i] == version)
			return a->covers[i];
	return -1;
}

/* A cover letter: 0/N, or a diffstat without counters. */
static bool is_cover(const struct series_msg *m)
{
	return m->counter == 0 && (m->counter_explicit || m->has_diffstat);
}

/* b4 0.12: a non-reply with References, no diff and trailers is a
 * follow-up whose author dropped the "Re:". */
static bool is_followup(const struct series_msg *m)
{
	if (m->is_reply)
		return true;
	return m->has_refs && !m->has_diff && m->has_trailers &&
	       !is_cover(m);
}

static void add_patch(struct rev_build *r, const struct series_msg *msgs,
		      int idx)
{
	const struct series_msg *m = &msgs[idx];
	size_t want = (size_t)m->expected + 1;
	int cur;

	if (r->nslots < want) {
		r->slots = xrealloc(r->slots, st_mult(want, sizeof(int)));
		for (size_t i = r->nslots; i < want; i++)
			r->slots[i] = -1;
		r->nslots = want;
	}
	cur = r->slots[m->counter];
	if (cur < 0 ||
	    (!msgs[cur].counter_explicit && m->counter_explicit))
		r->slots[m->counter] = idx;
}

static void add_message(struct assembler *a, int idx)
{
	const struct series_msg *m = &a->msgs[idx];
	struct rev_build *r;
	int revision = m->revision;

	if (m->is_bot || is_followup(m))
		return;
	if (is_cover(m)) {
		if (cover_of(a, m->revision) < 0) {
			ALLOC_GROW(a->covers, a->covers_nr + 1,
				   a->covers_alloc);
			ALLOC_GROW(a->cover_versions, a->covers_nr + 1,
				   a->cover_versions_alloc);
			a->covers[a->covers_nr] = idx;
			a->cover_versions[a->covers_nr++] = m->revision;
		}
		a->assigned[idx] = m->revision;
		return;
	}
	if (!m->has_diff)
		return;

	if (!find_rev(a, revision) && !m->revision_explicit &&
	    m->in_reply_to) {
		int p = find_msg(a, m->in_reply_to);

		if (p >= 0) {
			const struct series_msg *pm = &a->msgs[p];

			if (!pm->has_diff &&
			    (pm->has_diffstat ||
			     (is_cover(pm) && !pm->is_reply)))
				revision = pm->revision;
			else if (m->counter > 0 && pm->has_diff &&
				 pm->counter == 1 && a->assigned[p])
				revision = a->assigned[p];
		}
	}
	r = find_rev(a, revision);
	if (!r)
		r = add_rev(a, revision, m->expected);

	/* unversioned re-post by the same author: a new revision */
	if (m->counter == 1 && !m->counter_explicit && m->flag_patch &&
	    !m->flag_resend && r->nslots > 1 && r->slots[1] >= 0) {
		const struct series_msg *o = &a->msgs[r->slots[1]];

		if (!o->counter_explicit &&
		    !strcmp(o->sender_addr, m->sender_addr) &&
		    o->date_ms < m->date_ms) {
			revision = (int)a->revs_nr + 1;
			while (find_rev(a, revision))
				revision++;
			r = add_rev(a, revision, m->expected);
		}
	}
	a->assigned[idx] = revision;
	add_patch(r, a->msgs, idx);
}

static bool rev_complete(const struct rev_build *r)
{
	for (size_t i = 1; i < r->nslots; i++)
		if (r->slots[i] < 0)
			return false;
	return r->nslots > 1;
}

/*
 * b4's partial reroll: every present patch replies, directly or up the
 * In-Reply-To chain, to a patch with the same counter/expected.  b4
 * borrows the missing patches from revision N-1; kreview borrows them
 * from the revision those replied-to patches belong to, which is the
 * same for b4's cases and right when the older revision's number was
 * only given on its cover ("[PATCH v2 4/4]" replying to a v4 series).
 */
static void partial_reroll(struct assembler *a, struct rev_build *r)
{
	struct rev_build *prev;
	int from = 0;

	for (size_t i = 1; i < r->nslots; i++) {
		const struct series_msg *m;
		int p, owner = 0;

		if (r->slots[i] < 0)
			continue;
		m = &a->msgs[r->slots[i]];
		p = find_msg(a, m->in_reply_to);
		for (size_t guard = 0; p >= 0 && guard <= a->nr; guard++) {
			const struct series_msg *pm = &a->msgs[p];

			/* replies and bot mail carry counters but no
			 * revision: walk past them */
			if (a->assigned[p] && pm->counter == m->counter &&
			    pm->expected == m->expected) {
				owner = a->assigned[p];
				break;
			}
			p = find_msg(a, pm->in_reply_to);
		}
		if (!owner || owner == r->version || (from && owner != from))
			return;
		from = owner;
	}
	prev = find_rev(a, from);
	if (!prev)
		return;
	r->reroll_from = xcalloc(r->nslots, sizeof(int));
	r->reroll_nslots = r->nslots;
	r->reroll_version = from;
	for (size_t i = 1; i < r->nslots && i < prev->nslots; i++) {
		if (r->slots[i] >= 0 || prev->slots[i] < 0)
			continue;
		r->slots[i] = prev->slots[i];
		r->reroll_from[i] = prev->version;
	}
	r->partial_reroll = rev_complete(r);
}

static void find_cover(struct assembler *a, struct rev_build *r)
{
	r->cover = cover_of(a, r->version);
	if (r->cover >= 0) {
		/* "0/N" announces N patches even when fewer arrived */
		size_t want = (size_t)a->msgs[r->cover].expected + 1;

		if (r->nslots < want) {
			r->slots = xrealloc(r->slots,
					    st_mult(want, sizeof(int)));
			for (size_t i = r->nslots; i < want; i++)
				r->slots[i] = -1;
			r->nslots = want;
		}
		return;
	}
	for (size_t i = 1; i < r->nslots; i++) {
		const struct series_msg *m;
		int p;

		if (r->slots[i] < 0)
			continue;
		m = &a->msgs[r->slots[i]];
		if (!m->in_reply_to)
			continue;
		p = find_msg(a, m->in_reply_to);
		if (p >= 0 && a->msgs[p].has_diffstat && !a->msgs[p].has_diff) {
			r->cover = p;
			r->cover_adopted = true;
		}
		break;
	}
}

static int cmp_rev(const void *x, const void *y)
{
	const struct rev_build *a = x, *b = y;

	return (a->version > b->version) - (a->version < b->version);
}

void series_result_release(struct series_result *res)
{
	for (size_t i = 0; i < res->revs_nr; i++) {
		free(res->revs[i].patches);
		free(res->revs[i].reroll_from);
	}
	free(res->revs);
	free(res->lone_covers);
	memset(res, 0, sizeof(*res));
}

void series_assemble(struct series_result *out, const struct series_msg *msgs,
		     size_t nr)
{
	struct assembler a = { .msgs = msgs, .nr = nr };

	series_result_release(out);
	a.assigned = xcalloc(nr ? nr : 1, sizeof(int));
	for (size_t i = 0; i < nr; i++)
		add_message(&a, (int)i);

	if (a.revs_nr)
		qsort(a.revs, a.revs_nr, sizeof(*a.revs), cmp_rev);
	for (size_t i = 0; i < a.revs_nr; i++)
		if (!rev_complete(&a.revs[i]))
			partial_reroll(&a, &a.revs[i]);
	for (size_t i = 0; i < a.revs_nr; i++)
		find_cover(&a, &a.revs[i]);
	/* b4 carries the older revision's cover letter over as well */
	for (size_t i = 0; i < a.revs_nr; i++) {
		struct rev_build *r = &a.revs[i], *prev;

		if (r->cover >= 0 || !r->reroll_version)
			continue;
		prev = find_rev(&a, r->reroll_version);
		if (prev)
			r->cover = prev->cover;
	}

	out->revs = xcalloc(a.revs_nr ? a.revs_nr : 1, sizeof(*out->revs));
	for (size_t i = 0; i < a.revs_nr; i++) {
		struct rev_build *b = &a.revs[i];
		struct series_rev *r = &out->revs[out->revs_nr++];

		r->version = b->version;
		r->total = (int)b->nslots - 1;
		r->cover = b->cover;
		r->patches = xmalloc(st_mult(b->nslots, sizeof(int)));
		r->reroll_from = xcalloc(b->nslots, sizeof(int));
		for (size_t s = 1; s < b->nslots; s++) {
			r->patches[s - 1] = b->slots[s];
			if (s < b->reroll_nslots)
				r->reroll_from[s - 1] = b->reroll_from[s];
		}
		r->complete = rev_complete(b);
		r->partial_reroll = b->partial_reroll;
		r->cover_adopted = b->cover_adopted;
		free(b->slots);
		free(b->reroll_from);
	}
	for (size_t i = 0; i < a.covers_nr; i++) {
		bool used = false;

		for (size_t j = 0; j < out->revs_nr; j++)
			used |= out->revs[j].cover == a.covers[i];
		if (used)
			continue;
		out->lone_covers = xrealloc(out->lone_covers,
					    st_mult(out->lone_covers_nr + 1,
						    sizeof(int)));
		out->lone_covers[out->lone_covers_nr++] = a.covers[i];
	}
	free(a.revs);
	free(a.covers);
	free(a.cover_versions);
	free(a.assigned);
}
