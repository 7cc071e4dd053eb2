/*
 * Tests for series_assemble(): hand-built threads for every case of
 * reference/b4-series.md §9 plus the rules series.h documents.  Each
 * thread is a table of (id, In-Reply-To, sender, subject, flags); the
 * subject goes through subject_parse() as in real ingestion, and the
 * result is rendered as one line per revision so that expectations
 * read like b4's own output:
 *
 *   "v3[7] c0: p1 p2 p3 - p5 p6 p7 incomplete"
 *
 * version, slot count, cover ("-" if none), slots ("-" empty,
 * "id<vK" borrowed from vK by a partial reroll), then flags.  Lone
 * covers (a cover whose revision got no patch) follow as "| lone c0".
 */
#include "testutil.h"

#include "kreview/series.h"
#include "kreview/subject.h"

enum {
	D = 1 << 0,	/* has a diff */
	S = 1 << 1,	/* has a diffstat */
	T = 1 << 2,	/* has trailers */
	B = 1 << 3,	/* bot mail */
	R = 1 << 4,	/* References without In-Reply-To */
};

struct spec {
	const char *id;
	const char *irt;
	const char *from; /* NULL: "jane@example.org" */
	const char *subject;
	int flags;
};

struct thread {
	struct series_msg *m;
	struct subject *subj;
	size_t nr;
};

/* Dates follow the table order: the table is the sending order. */
static void thread_build(struct thread *t, const struct spec *s, size_t nr)
{
	t->nr = nr;
	t->m = xcalloc(nr ? nr : 1, sizeof(*t->m));
	t->subj = xcalloc(nr ? nr : 1, sizeof(*t->subj));
	for (size_t i = 0; i < nr; i++) {
		struct series_msg *m = &t->m[i];
		struct subject *sj = &t->subj[i];

		subject_init(sj);
		subject_parse(sj, s[i].subject);
		m->msgid = s[i].id;
		m->in_reply_to = s[i].irt;
		m->sender_addr = s[i].from ? s[i].from : "jane@example.org";
		m->date_ms = INT64_C(1704193200000) + 60000 * (int64_t)i;
		m->is_reply = sj->reply;
		m->is_bot = s[i].flags & B;
		m->has_refs = s[i].irt || (s[i].flags & R);
		m->has_diff = s[i].flags & D;
		m->has_diffstat = s[i].flags & S;
		m->has_trailers = s[i].flags & T;
		m->revision = sj->revision;
		m->revision_explicit = sj->explicit_revision;
		m->counter = sj->counter;
		m->expected = sj->expected;
		m->counter_explicit = sj->explicit_counter;
		m->flag_patch = sj->patch;
		m->flag_resend = sj->resend;
	}
}

static void thread_release(struct thread *t)
{
	for (size_t i = 0; i < t->nr; i++)
		subject_release(&t->subj[i]);
	free(t->subj);
	free(t->m);
	memset(t, 0, sizeof(*t));
}

static const char *id_of(const struct series_msg *m, size_t nr, int idx)
{
	if (idx < 0)
		return "-";
	if ((size_t)idx >= nr)
		fail_msg("index %d out of range (%zu messages)", idx, nr);
	return m[idx].msgid;
}

static void render(struct strbuf *out, const struct series_result *res,
		   const struct series_msg *m, size_t nr)
{
	for (size_t i = 0; i < res->revs_nr; i++) {
		const struct series_rev *r = &res->revs[i];

		if (i)
			strbuf_addstr(out, "; ");
		strbuf_addf(out, "v%d[%d] %s:", r->version, r->total,
			    id_of(m, nr, r->cover));
		for (int s = 0; s < r->total; s++) {
			strbuf_addf(out, " %s", id_of(m, nr, r->patches[s]));
			if (r->reroll_from[s])
				strbuf_addf(out, "<v%d", r->reroll_from[s]);
		}
		strbuf_addstr(out, r->complete ? " complete" : " incomplete");
		if (r->partial_reroll)
			strbuf_addstr(out, " partial");
		if (r->cover_adopted)
			strbuf_addstr(out, " adopted");
	}
	for (size_t i = 0; i < res->lone_covers_nr; i++)
		strbuf_addf(out, " | lone %s", id_of(m, nr, res->lone_covers[i]));
}

/* Assemble 'nr' messages given in the order 'order' (NULL: as is). */
static void check_order(const struct spec *s, size_t nr, const size_t *order,
			const char *want)
{
	struct thread t;
	struct series_msg *in = xcalloc(nr ? nr : 1, sizeof(*in));
	struct series_result res = SERIES_RESULT_INIT;
	struct strbuf got = STRBUF_INIT;

	thread_build(&t, s, nr);
	for (size_t i = 0; i < nr; i++)
		in[i] = t.m[order ? order[i] : i];
	series_assemble(&res, in, nr);
	render(&got, &res, in, nr);
	if (strcmp(got.buf, want))
		fail_msg("series:\n  got:  %s\n  want: %s", got.buf, want);
	/* assembling again into the same result releases it first */
	series_assemble(&res, in, nr);
	strbuf_reset(&got);
	render(&got, &res, in, nr);
	assert_string_equal(got.buf, want);
	series_result_release(&res);
	series_result_release(&res);
	strbuf_release(&got);
	free(in);
	thread_release(&t);
}

#define CHECK(specs, want) check_order(specs, ARRAY_SIZE(specs), NULL, want)

/* §9.1: cover + 7 patches in order. */
static const struct spec cover7[] = {
	{ "c0", NULL, NULL, "[PATCH v3 0/7] io_uring: seven", S },
	{ "p1", "c0", NULL, "[PATCH v3 1/7] io_uring: one", D | S },
	{ "p2", "c0", NULL, "[PATCH v3 2/7] io_uring: two", D | S },
	{ "p3", "c0", NULL, "[PATCH v3 3/7] io_uring: three", D | S },
	{ "p4", "c0", NULL, "[PATCH v3 4/7] io_uring: four", D | S },
	{ "p5", "c0", NULL, "[PATCH v3 5/7] io_uring: five", D | S },
	{ "p6", "c0", NULL, "[PATCH v3 6/7] io_uring: six", D | S },
	{ "p7", "c0", NULL, "[PATCH v3 7/7] io_uring: seven", D | S },
	{ "r1", "p3", "jens@kernel.dk", "Re: [PATCH v3 3/7] io_uring: three",
	  T },
};
static const char cover7_want[] =
	"v3[7] c0: p1 p2 p3 p4 p5 p6 p7 complete";

static void test_cover_and_seven(void **state)
{
	(void)state;
	CHECK(cover7, cover7_want);
}

/* §9.2: any delivery order gives the same revisions. */
static void test_out_of_order(void **state)
{
	static const size_t b4_order[] = { 5, 1, 7, 0, 3, 2, 6, 4, 8 };
	size_t order[ARRAY_SIZE(cover7)];
	uint32_t seed = 12345;

	(void)state;
	check_order(cover7, ARRAY_SIZE(cover7), b4_order, cover7_want);
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < ARRAY_SIZE(order); i++)
			order[i] = i;
		for (size_t i = ARRAY_SIZE(order) - 1; i > 0; i--) {
			size_t j, tmp;

			seed = seed * 1103515245u + 12345u;
			j = (seed >> 16) % (i + 1);
			tmp = order[i];
			order[i] = order[j];
			order[j] = tmp;
		}
		check_order(cover7, ARRAY_SIZE(cover7), order, cover7_want);
	}
}

/* §9.3: a missing patch leaves the revision incomplete; a missing last
 * patch too, because the cover announces the total. */
static void test_missing(void **state)
{
	struct spec s[ARRAY_SIZE(cover7)];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cover7); i++)
		if (strcmp(cover7[i].id, "p4"))
			s[n++] = cover7[i];
	check_order(s, n, NULL, "v3[7] c0: p1 p2 p3 - p5 p6 p7 incomplete");

	n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cover7); i++)
		if (strcmp(cover7[i].id, "p7"))
			s[n++] = cover7[i];
	check_order(s, n, NULL, "v3[7] c0: p1 p2 p3 p4 p5 p6 - incomplete");

	/* the cover alone is a lone cover, not a revision */
	check_order(cover7, 1, NULL, " | lone c0");
}

/* §9.5: v1 and v2 in one thread, v2 sent In-Reply-To the v1 cover. */
static void test_v1_v2_one_thread(void **state)
{
	static const struct spec s[] = {
		{ "a0", NULL, NULL, "[PATCH 0/2] io_uring: thing", S },
		{ "a1", "a0", NULL, "[PATCH 1/2] io_uring: one", D },
		{ "a2", "a0", NULL, "[PATCH 2/2] io_uring: two", D },
		{ "ra", "a1", "jens@kernel.dk", "Re: [PATCH 1/2] io_uring: one",
		  0 },
		{ "b0", "a0", NULL, "[PATCH v2 0/2] io_uring: thing", S },
		{ "b1", "b0", NULL, "[PATCH v2 1/2] io_uring: one", D },
		{ "b2", "b0", NULL, "[PATCH v2 2/2] io_uring: two", D },
	};

	(void)state;
	CHECK(s, "v1[2] a0: a1 a2 complete; v2[2] b0: b1 b2 complete");
}

/* §9.6: [PATCH v2 2/3] replying to [PATCH 2/3] borrows 1 and 3. */
static void test_partial_reroll(void **state)
{
	static const struct spec s[] = {
		{ "a1", NULL, NULL, "[PATCH 1/3] io_uring: one", D },
		{ "a2", "a1", NULL, "[PATCH 2/3] io_uring: two", D },
		{ "a3", "a1", NULL, "[PATCH 3/3] io_uring: three", D },
		{ "b2", "a2", NULL, "[PATCH v2 2/3] io_uring: two", D },
	};
	static const struct spec with_cover[] = {
		{ "a0", NULL, NULL, "[PATCH 0/3] io_uring: stuff", S },
		{ "a1", "a0", NULL, "[PATCH 1/3] io_uring: one", D },
		{ "a2", "a0", NULL, "[PATCH 2/3] io_uring: two", D },
		{ "a3", "a0", NULL, "[PATCH 3/3] io_uring: three", D },
		{ "b2", "a2", NULL, "[PATCH v2 2/3] io_uring: two", D },
	};
	static const struct spec not_reply[] = {
		{ "a1", NULL, NULL, "[PATCH 1/3] io_uring: one", D },
		{ "a2", "a1", NULL, "[PATCH 2/3] io_uring: two", D },
		{ "a3", "a1", NULL, "[PATCH 3/3] io_uring: three", D },
		/* replies to patch 1, whose counter differs */
		{ "b2", "a1", NULL, "[PATCH v2 2/3] io_uring: two", D },
	};

	(void)state;
	CHECK(s, "v1[3] -: a1 a2 a3 complete;"
		 " v2[3] -: a1<v1 b2 a3<v1 complete partial");
	/* the older revision's cover comes along, as in b4, found through
	 * the In-Reply-To of the borrowed first patch */
	CHECK(with_cover, "v1[3] a0: a1 a2 a3 complete;"
			  " v2[3] a0: a1<v1 b2 a3<v1 complete partial adopted");
	CHECK(not_reply, "v1[3] -: a1 a2 a3 complete; v2[3] -: - b2 - incomplete");
}

/*
 * The reroll sent In-Reply-To a review of the old patch: b4 walks up
 * the In-Reply-To chain (0.12 does not parse the reply's "2/3"; current
 * b4 accepts the reply's matching counters) and reconstitutes v2.
 * series.c partial_reroll() stops at the first message with the same
 * counter/expected, which is the reply "Re: [PATCH 2/3]" (kreview
 * parses reply subjects), finds it unassigned and gives up.
 */
static void test_partial_reroll_via_review(void **state)
{
	static const struct spec s[] = {
		{ "a1", NULL, NULL, "[PATCH 1/3] io_uring: one", D },
		{ "a2", "a1", NULL, "[PATCH 2/3] io_uring: two", D },
		{ "a3", "a1", NULL, "[PATCH 3/3] io_uring: three", D },
		{ "ra", "a2", "jens@kernel.dk", "Re: [PATCH 2/3] io_uring: two",
		  0 },
		{ "b2", "ra", NULL, "[PATCH v2 2/3] io_uring: two", D },
	};

	(void)state;
	CHECK(s, "v1[3] -: a1 a2 a3 complete;"
		 " v2[3] -: a1<v1 b2 a3<v1 complete partial");
}

/* §9.7: an unnumbered [PATCH] re-posted by its author is v2. */
static void test_unversioned_resend(void **state)
{
	static const struct spec same[] = {
		{ "x1", NULL, NULL, "[PATCH] io_uring: fix the thing", D },
		{ "r1", "x1", "jens@kernel.dk",
		  "Re: [PATCH] io_uring: fix the thing", 0 },
		{ "x2", "r1", NULL, "[PATCH] io_uring: fix the thing", D },
	};
	static const struct spec other[] = {
		{ "x1", NULL, NULL, "[PATCH] io_uring: fix the thing", D },
		{ "r1", "x1", "jens@kernel.dk",
		  "Re: [PATCH] io_uring: fix the thing", 0 },
		{ "x2", "r1", "jens@kernel.dk", "[PATCH] io_uring: fix the thing",
		  D },
	};
	static const struct spec resend[] = {
		{ "x1", NULL, NULL, "[PATCH] io_uring: fix the thing", D },
		{ "x2", "x1", NULL, "[PATCH RESEND] io_uring: fix the thing",
		  D },
	};
	static const struct spec third[] = {
		{ "x1", NULL, NULL, "[PATCH] io_uring: fix", D },
		{ "x2", "x1", NULL, "[PATCH] io_uring: fix", D },
		{ "x3", "x2", NULL, "[PATCH] io_uring: fix", D },
	};

	(void)state;
	CHECK(same, "v1[1] -: x1 complete; v2[1] -: x2 complete");
	/* another author's patch in the thread collides and is dropped */
	CHECK(other, "v1[1] -: x1 complete");
	/* RESEND is the same revision again: the first copy keeps it */
	CHECK(resend, "v1[1] -: x1 complete");
	CHECK(third, "v1[1] -: x1 complete; v2[1] -: x2 complete;"
		     " v3[1] -: x3 complete");
}

/* §9.8 and b4 README 9: a cover without 0/N but with a diffstat is
 * adopted through the In-Reply-To of the first patch, and lends its
 * revision to unversioned patches. */
static void test_adopted_cover(void **state)
{
	static const struct spec v1[] = {
		{ "c", NULL, NULL, "[PATCH] io_uring: two fixes", S },
		{ "p1", "c", NULL, "[PATCH 1/2] io_uring: one", D },
		{ "p2", "c", NULL, "[PATCH 2/2] io_uring: two", D },
	};
	static const struct spec patchset[] = {
		{ "c", NULL, NULL, "[PATCHSET v2] io_uring: two fixes", S },
		{ "p1", "c", NULL, "[PATCH 1/2] io_uring: one", D },
		{ "p2", "c", NULL, "[PATCH 2/2] io_uring: two", D },
	};
	static const struct spec no_stat[] = {
		{ "c", NULL, NULL, "[PATCH] io_uring: two fixes", 0 },
		{ "p1", "c", NULL, "[PATCH 1/2] io_uring: one", D },
		{ "p2", "c", NULL, "[PATCH 2/2] io_uring: two", D },
	};

	(void)state;
	CHECK(v1, "v1[2] c: p1 p2 complete adopted");
	CHECK(patchset, "v2[2] c: p1 p2 complete adopted");
	/* no diffstat, no 0/N: not a cover (b4 0.12) */
	CHECK(no_stat, "v1[2] -: p1 p2 complete");
}

/* §9.10, b4 README 5: replies are never patches, diff or not. */
static void test_replies_with_diffs(void **state)
{
	static const struct spec s[] = {
		{ "p", NULL, NULL, "[PATCH] io_uring: fix", D },
		{ "r", "p", "jens@kernel.dk", "Re: [PATCH] io_uring: fix",
		  D | T },
		{ "f", "r", NULL, "Fwd: [PATCH] io_uring: fix", D },
		{ "a", "r", "pavel@example.com", "AW: [PATCH] io_uring: fix",
		  D },
	};
	static const struct spec only_replies[] = {
		{ "r", "p", "jens@kernel.dk", "Re: [PATCH 1/2] io_uring: fix",
		  D },
		{ "q", "r", NULL, "RE: [PATCH 0/2] io_uring: fix", S },
	};

	(void)state;
	CHECK(s, "v1[1] -: p complete");
	CHECK(only_replies, "");
	check_order(NULL, 0, NULL, "");
}

/* §9.11: a standalone [PATCH] posted inside a discussion thread. */
static void test_patch_in_discussion(void **state)
{
	static const struct spec s[] = {
		{ "d0", NULL, "user@example.com",
		  "io_uring: how should multishot recv end?", 0 },
		{ "d1", "d0", "jens@kernel.dk",
		  "Re: io_uring: how should multishot recv end?", 0 },
		{ "d2", "d1", "user@example.com",
		  "Re: io_uring: how should multishot recv end?", 0 },
		{ "p", "d2", "jens@kernel.dk",
		  "[PATCH] io_uring/net: end multishot recv on EOF", D | S },
		{ "d3", "p", "user@example.com",
		  "Re: [PATCH] io_uring/net: end multishot recv on EOF", T },
	};

	(void)state;
	CHECK(s, "v1[1] -: p complete");
}

/* §9.12: [PATCH 6/5] grows the revision to six slots. */
static void test_six_of_five(void **state)
{
	static const struct spec s[] = {
		{ "c0", NULL, NULL, "[PATCH 0/5] io_uring: five", S },
		{ "p1", "c0", NULL, "[PATCH 1/5] io_uring: 1", D },
		{ "p2", "c0", NULL, "[PATCH 2/5] io_uring: 2", D },
		{ "p3", "c0", NULL, "[PATCH 3/5] io_uring: 3", D },
		{ "p4", "c0", NULL, "[PATCH 4/5] io_uring: 4", D },
		{ "p5", "c0", NULL, "[PATCH 5/5] io_uring: 5", D },
		{ "p6", "c0", NULL, "[PATCH 6/5] io_uring: 6", D },
	};

	(void)state;
	CHECK(s, "v1[6] c0: p1 p2 p3 p4 p5 p6 complete");
}

/* Bot mail is never a patch or a cover. */
static void test_bots_ignored(void **state)
{
	static const struct spec alone[] = {
		{ "k", NULL, "lkp@intel.com", "[PATCH] io_uring: fix build", D },
	};
	static const struct spec in_series[] = {
		{ "c0", NULL, NULL, "[PATCH 0/2] io_uring: two", S },
		{ "p1", "c0", NULL, "[PATCH 1/2] io_uring: 1", D },
		{ "k", "c0", "lkp@intel.com", "[PATCH 2/2] io_uring: 2", D | B },
		{ "kc", NULL, "bot@example.com", "[PATCH v5 0/2] io_uring: two",
		  S | B },
		{ "p2", "c0", NULL, "[PATCH 2/2] io_uring: 2", D },
	};
	struct spec s = alone[0];

	(void)state;
	CHECK(alone, "v1[1] -: k complete");
	s.flags |= B;
	check_order(&s, 1, NULL, "");
	CHECK(in_series, "v1[2] c0: p1 p2 complete");
}

/*
 * kreview's documented improvement over b4 0.12: a [PATCHSET v2 0/3]
 * cover without diffstat lends v2 to the unversioned patches that
 * reply to it, whatever the order of arrival (b4 leaves the patches in
 * v1 and the cover alone in v2).
 */
static void test_patchset_cover_without_diffstat(void **state)
{
	static const struct spec s[] = {
		{ "c0", NULL, NULL, "[PATCHSET v2 0/3] io_uring: three", 0 },
		{ "p1", "c0", NULL, "[PATCH 1/3] io_uring: 1", D },
		{ "p2", "c0", NULL, "[PATCH 2/3] io_uring: 2", D },
		{ "p3", "c0", NULL, "[PATCH 3/3] io_uring: 3", D },
	};
	static const size_t cover_last[] = { 1, 2, 3, 0 };

	(void)state;
	CHECK(s, "v2[3] c0: p1 p2 p3 complete");
	check_order(s, ARRAY_SIZE(s), cover_last,
		    "v2[3] c0: p1 p2 p3 complete");
}

/* b4 0.12: a non-reply without a diff, with References and trailers,
 * is a follow-up whose author dropped "Re:": never a patch or cover. */
static void test_followup_without_re(void **state)
{
	static const struct spec s[] = {
		{ "c0", NULL, NULL, "[PATCH 0/2] io_uring: two", S },
		{ "p1", "c0", NULL, "[PATCH 1/2] io_uring: 1", D },
		{ "f1", "p1", "jens@kernel.dk", "[PATCH 1/2] io_uring: 1", T },
		{ "f2", NULL, "pavel@example.com", "[PATCH 2/2] io_uring: 2",
		  T | R },
		{ "p2", "c0", NULL, "[PATCH 2/2] io_uring: 2", D },
	};

	(void)state;
	CHECK(s, "v1[2] c0: p1 p2 complete");
}

/* Slot collisions: the first claim wins, except that explicit counters
 * displace inferred ones. */
static void test_slot_collision(void **state)
{
	static const struct spec both_explicit[] = {
		{ "a1", NULL, NULL, "[PATCH 1/2] io_uring: first", D },
		{ "b1", "a1", "other@example.com", "[PATCH 1/2] io_uring: other",
		  D },
		{ "a2", "a1", NULL, "[PATCH 2/2] io_uring: second", D },
	};
	static const struct spec inferred_first[] = {
		{ "x", NULL, NULL, "[PATCH] io_uring: first", D },
		{ "n1", "x", "other@example.com", "[PATCH 1/2] io_uring: one",
		  D },
		{ "n2", "x", "other@example.com", "[PATCH 2/2] io_uring: two",
		  D },
	};
	static const struct spec explicit_first[] = {
		{ "n1", NULL, NULL, "[PATCH 1/2] io_uring: one", D },
		{ "x", "n1", "other@example.com", "[PATCH] io_uring: first", D },
		{ "n2", "n1", NULL, "[PATCH 2/2] io_uring: two", D },
	};

	(void)state;
	CHECK(both_explicit, "v1[2] -: a1 a2 complete");
	CHECK(inferred_first, "v1[2] -: n1 n2 complete");
	CHECK(explicit_first, "v1[2] -: n1 n2 complete");
}

/* §9.4: subject variants land in the right revision and slot. */
static void test_subject_variants(void **state)
{
	static const struct spec s[] = {
		{ "a", NULL, NULL, "[RFC PATCH net-next 2/4] foo", D },
		{ "b", NULL, NULL, "[PATCH RESEND v2 1/3] foo", D },
		{ "c", NULL, NULL, "[PATCHv3 1/2] foo", D },
		{ "d", NULL, NULL, "[PATCH v3 02/10] foo", D },
		{ "e", NULL, NULL, "[PATCH 1/2,] foo", D },
		{ "f", NULL, NULL, "[PATCH] [v4] foo", D },
	};

	(void)state;
	CHECK(s, "v1[4] -: e a - - incomplete;"
		 " v2[3] -: b - - incomplete;"
		 " v3[10] -: c d - - - - - - - - incomplete;"
		 " v4[1] -: f complete");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cover_and_seven),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_v1_v2_one_thread),
		cmocka_unit_test(test_partial_reroll),
		cmocka_unit_test(test_partial_reroll_via_review),
		cmocka_unit_test(test_unversioned_resend),
		cmocka_unit_test(test_adopted_cover),
		cmocka_unit_test(test_replies_with_diffs),
		cmocka_unit_test(test_patch_in_discussion),
		cmocka_unit_test(test_six_of_five),
		cmocka_unit_test(test_bots_ignored),
		cmocka_unit_test(test_patchset_cover_without_diffstat),
		cmocka_unit_test(test_followup_without_re),
		cmocka_unit_test(test_slot_collision),
		cmocka_unit_test(test_subject_variants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
