/* Unit tests for the per-subsystem bug databases (bugdb.h). */
#include "testutil.h"

#include "kreview/bugdb.h"
#include "kreview/bugexport.h"
#include "kreview/config.h"
#include "kreview/maint.h"
#include "kreview/review.h"

#include <sqlite3.h>
#include <sys/stat.h>

#define T0 1717000000000LL
#define DAY 86400000LL

struct fx {
	char *dir;
	struct bugdb *db;
	struct strbuf path;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT;

	f->dir = test_mkdtemp();
	strbuf_init(&f->path, 0);
	bugdb_path(&f->path, f->dir, "IO_URING");
	if (bugdb_open(&f->db, f->path.buf, "IO_URING", &err) < 0)
		fail_msg("open: %s", err.buf);
	bugdb_set_clock(f->db, T0);
	strbuf_release(&err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	bugdb_close(f->db);
	test_rmtree(f->dir);
	free(f->dir);
	strbuf_release(&f->path);
	free(f);
	return 0;
}

/* A finding; 'n' varies the fingerprint and the identifiers. */
static struct bugdb_finding mk(const char *fpr, const char *title,
			       enum finding_severity sev)
{
	struct bugdb_finding b = {
		.fingerprint = fpr,
		.title = title,
		.file = "io_uring/net.c",
		.function = "io_recv_finish",
		.category = "resource-leak",
		.evidence = "io_kbuf_recycle(req, issue_flags);",
		.explanation = "the buffer is not returned",
		.severity = sev,
		.confidence = 0.8,
		.line = 805,
		.end_line = 806,
		.support = 2,
		.runs = 3,
		.verified = true,
		.pre_existing = true,
		.review = "review 1",
		.msgid = "patch1@example.org",
		.patch_subject = "io_uring/net: recycle",
		.revision = 1,
		.code_commit = "0123456789abcdef0123456789abcdef01234567",
	};
	return b;
}

static void get(struct bugdb_bug *b, struct bugdb *db, const char *id)
{
	struct strbuf err = STRBUF_INIT;

	bugdb_bug_init(b);
	if (bugdb_get(b, db, id, &err) < 0)
		fail_msg("get %s: %s", id, err.buf);
	strbuf_release(&err);
}

static enum bugdb_status status(struct bugdb *db, const char *id)
{
	struct bugdb_bug b;
	enum bugdb_status s;

	get(&b, db, id);
	s = b.status;
	bugdb_bug_release(&b);
	return s;
}

static void admit(enum bugdb_admission *what, char id[BUGDB_ID_MAX],
		  struct bugdb *db, const struct bugdb_finding *f)
{
	struct strbuf err = STRBUF_INIT;

	if (bugdb_admit(what, id, db, f, NULL, &err) < 0)
		fail_msg("admit: %s", err.buf);
	strbuf_release(&err);
}

static void test_names(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	bugdb_slug(&sb, "IO_URING");
	assert_string_equal(sb.buf, "io-uring");
	strbuf_reset(&sb);
	bugdb_slug(&sb, "NETWORKING [GENERAL]");
	assert_string_equal(sb.buf, "networking-general");
	strbuf_reset(&sb);
	bugdb_slug(&sb, "!!!");
	assert_string_equal(sb.buf, "section");
	strbuf_reset(&sb);
	bugdb_id_prefix(&sb, "IO_URING");
	assert_string_equal(sb.buf, "IOU");
	strbuf_reset(&sb);
	bugdb_id_prefix(&sb, "NETWORKING [GENERAL]");
	assert_string_equal(sb.buf, "NET");
	strbuf_reset(&sb);
	bugdb_id_prefix(&sb, "X");
	assert_string_equal(sb.buf, "X");
	assert_true(bugdb_id_valid("IOU-3f2a1c9d"));
	assert_true(bugdb_id_valid("iou-3F2A1C9D00"));
	assert_false(bugdb_id_valid("IOU-3f2a1c9"));
	assert_false(bugdb_id_valid("IOUXX-3f2a1c9d"));
	assert_false(bugdb_id_valid("IOU-3f2a1c9g"));
	assert_false(bugdb_id_valid("-3f2a1c9d"));
	strbuf_release(&sb);
}

static void test_open(void **state)
{
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT, other = STRBUF_INIT;
	struct bugdb *db = NULL;
	sqlite3 *h;
	FILE *fp;

	assert_string_equal(bugdb_section(f->db), "IO_URING");
	assert_string_equal(bugdb_prefix(f->db), "IOU");
	assert_int_equal(bugdb_schema_version(f->db), 2);
	/* an existing file opens without the section, not with another */
	assert_int_equal(bugdb_open(&db, f->path.buf, NULL, &err), 0);
	assert_string_equal(bugdb_section(db), "IO_URING");
	bugdb_close(db);
	assert_int_equal(bugdb_open(&db, f->path.buf, "BTRFS", &err), -EPROTO);
	assert_non_null(strstr(err.buf, "holds section 'IO_URING'"));
	/* a missing file is not created without a section */
	strbuf_reset(&err);
	strbuf_addf(&other, "%s/none.db", f->dir);
	assert_int_equal(bugdb_open(&db, other.buf, NULL, &err), -ENOENT);
	/* someone else's SQLite file, and a file that is no database */
	strbuf_reset(&other);
	strbuf_addf(&other, "%s/foreign.db", f->dir);
	assert_int_equal(sqlite3_open(other.buf, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	strbuf_reset(&err);
	assert_int_equal(bugdb_open(&db, other.buf, "X", &err), -EPROTO);
	assert_non_null(strstr(err.buf, "not a kreview bug database"));
	strbuf_reset(&other);
	strbuf_addf(&other, "%s/junk.db", f->dir);
	fp = fopen(other.buf, "w");
	fputs("this is not sqlite, not at all, definitely not\n", fp);
	fclose(fp);
	strbuf_reset(&err);
	assert_true(bugdb_open(&db, other.buf, NULL, &err) < 0);
	/* the main database's migrations never touch a bug database */
	assert_int_equal(sqlite3_open(f->path.buf, &h), SQLITE_OK);
	{
		sqlite3_stmt *st;

		sqlite3_prepare_v2(h, "PRAGMA application_id", -1, &st, NULL);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0),
				 BUGDB_APPLICATION_ID);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	strbuf_release(&err);
	strbuf_release(&other);
}

/* §10 cases 1-3: one bug per issue, sightings counted. */
static void test_dedup(void **state)
{
	struct fx *f = *state;
	struct bugdb_finding a = mk("aaaa", "buffer leaked on -EAGAIN in "
					    "io_recv_finish", SEV_HIGH);
	struct bugdb_finding b = mk("bbbb", "second buffer leaked when "
					    "multishot ends", SEV_MEDIUM);
	struct bugdb_finding a2 = mk("aaaa2", "buffer leaked on -EAGAIN in "
					      "io_recv_finish again", SEV_HIGH);
	enum bugdb_admission w;
	char id1[BUGDB_ID_MAX], id2[BUGDB_ID_MAX], id3[BUGDB_ID_MAX];
	struct bugdb_detail d;
	struct bugdb_bug bug;
	struct strbuf err = STRBUF_INIT;

	admit(&w, id1, f->db, &a);
	assert_int_equal(w, BUGDB_NEW);
	assert_true(bugdb_id_valid(id1));
	assert_memory_equal(id1, "IOU-", 4);
	/* the same finding from a second run and from v3 of the series */
	admit(&w, id2, f->db, &a);
	assert_int_equal(w, BUGDB_SIGHTING);
	assert_string_equal(id1, id2);
	a.msgid = "other-patch@example.org";
	a.revision = 3;
	admit(&w, id2, f->db, &a);
	assert_int_equal(w, BUGDB_SIGHTING);
	get(&bug, f->db, id1);
	assert_int_equal(bug.times_seen, 3);
	assert_int_equal(bug.status, BUGDB_OPEN);
	bugdb_bug_release(&bug);
	/* same place and category, another issue: another bug */
	admit(&w, id3, f->db, &b);
	assert_int_equal(w, BUGDB_NEW);
	assert_string_not_equal(id1, id3);
	/* another fingerprint but the same issue by title: merged */
	admit(&w, id2, f->db, &a2);
	assert_int_equal(w, BUGDB_SIGHTING);
	assert_string_equal(id1, id2);
	assert_int_equal(bugdb_get_detail(&d, f->db, id1, &err), 0);
	assert_int_equal(d.sightings_nr, 4);
	assert_int_equal(d.signatures_nr, 1);
	assert_string_equal(d.signatures[0], "aaaa2");
	assert_int_equal(d.events_nr, 1);
	assert_string_equal(d.events[0].kind, "created");
	bugdb_detail_release(&d);
	/* ids are stable: hash of section, signature, seq */
	{
		struct strbuf p2 = STRBUF_INIT;
		struct bugdb *db2 = NULL;
		char again[BUGDB_ID_MAX];

		strbuf_addf(&p2, "%s/copy/io.db", f->dir);
		assert_int_equal(bugdb_open(&db2, p2.buf, "IO_URING", &err), 0);
		admit(&w, again, db2, &a);
		assert_string_equal(again, id1);
		bugdb_close(db2);
		strbuf_release(&p2);
	}
	strbuf_release(&err);
}

static void test_admission_policy(void **state)
{
	struct bugdb_policy p = { .min_support = 2, .severity_floor = SEV_MEDIUM };
	struct bugdb_finding a = mk("x", "t", SEV_LOW);
	struct strbuf why = STRBUF_INIT;

	(void)state;
	assert_false(bugdb_qualifies(&a, &p, &why));
	assert_non_null(strstr(why.buf, "below the floor"));
	a.severity = SEV_HIGH;
	a.verified = false;
	a.support = 1;
	assert_false(bugdb_qualifies(&a, &p, NULL));
	a.support = 2;
	assert_true(bugdb_qualifies(&a, &p, NULL));
	p.require_verification = true;
	assert_false(bugdb_qualifies(&a, &p, NULL));
	a.verified = true;
	a.support = 1;
	assert_true(bugdb_qualifies(&a, &p, NULL));
	strbuf_release(&why);
}

/* §10 case 4: invalid suppresses; more severe reopens. */
static void test_suppression(void **state)
{
	struct fx *f = *state;
	struct bugdb_finding a = mk("sig1", "leak", SEV_MEDIUM);
	struct strbuf err = STRBUF_INIT;
	enum bugdb_admission w;
	char id[BUGDB_ID_MAX], id2[BUGDB_ID_MAX];
	struct bugdb_detail d;

	admit(&w, id, f->db, &a);
	assert_int_equal(bugdb_suppressed_by(id2, f->db, "sig1", &err), 0);
	assert_int_equal(bugdb_set_status(f->db, id, BUGDB_INVALID, "maint@x",
					  "false alarm", "<m1>", &err), 0);
	assert_int_equal(bugdb_suppressed_by(id2, f->db, "sig1", &err), 1);
	assert_string_equal(id, id2);
	assert_int_equal(bugdb_suppressed_by(id2, f->db, "nope", &err), 0);
	admit(&w, id2, f->db, &a);
	assert_int_equal(w, BUGDB_SUPPRESSED);
	assert_string_equal(id, id2);
	assert_int_equal(status(f->db, id), BUGDB_INVALID);
	a.severity = SEV_HIGH;
	admit(&w, id2, f->db, &a);
	assert_int_equal(w, BUGDB_REOPENED);
	assert_int_equal(status(f->db, id), BUGDB_OPEN);
	assert_int_equal(bugdb_get_detail(&d, f->db, id, &err), 0);
	assert_int_equal(d.sightings_nr, 3);
	assert_string_equal(d.events[d.events_nr - 1].reason,
			    "seen again at a higher severity");
	assert_string_equal(d.events[1].actor, "maint@x");
	assert_string_equal(d.events[1].reason, "false alarm");
	assert_string_equal(d.events[1].link, "<m1>");
	bugdb_detail_release(&d);
	/* wontfix suppresses too */
	assert_int_equal(bugdb_set_status(f->db, id, BUGDB_WONTFIX, "m", NULL,
					  NULL, &err), 0);
	admit(&w, id2, f->db, &a);
	assert_int_equal(w, BUGDB_SUPPRESSED);
	/* an introduced finding rejected by a maintainer */
	{
		struct bugdb_finding n = mk("intro1", "new leak", SEV_HIGH);
		struct bugdb_bug b;

		n.pre_existing = false;
		assert_int_equal(bugdb_reject_finding(id2, f->db, &n,
						      BUGDB_INVALID, "m",
						      "by design", NULL, &err),
				 0);
		assert_int_equal(bugdb_suppressed_by(id, f->db, "intro1", &err),
				 1);
		assert_string_equal(id, id2);
		get(&b, f->db, id2);
		assert_string_equal(b.origin, "introduced");
		bugdb_bug_release(&b);
		assert_int_equal(bugdb_reject_finding(id2, f->db, &n,
						      BUGDB_OPEN, "m", NULL,
						      NULL, &err),
				 -EINVAL);
	}
	strbuf_release(&err);
}

/* Every transition of the lifecycle, and refusals. */
static void test_transitions(void **state)
{
	static const struct {
		enum bugdb_status from, to;
		bool ok;
	} cases[] = {
		{ BUGDB_OPEN, BUGDB_CONFIRMED, true },
		{ BUGDB_CONFIRMED, BUGDB_CONFIRMED, false },
		{ BUGDB_CONFIRMED, BUGDB_WONTFIX, true },
		{ BUGDB_WONTFIX, BUGDB_OPEN, true },
		{ BUGDB_OPEN, BUGDB_INVALID, true },
		{ BUGDB_INVALID, BUGDB_INVALID, false },
		{ BUGDB_INVALID, BUGDB_WONTFIX, false },
		{ BUGDB_INVALID, BUGDB_OPEN, true },
		{ BUGDB_OPEN, BUGDB_OBSOLETE, true },
		{ BUGDB_OBSOLETE, BUGDB_CONFIRMED, false },
		{ BUGDB_OBSOLETE, BUGDB_OPEN, true },
		{ BUGDB_OPEN, BUGDB_FIXED, true },
		{ BUGDB_FIXED, BUGDB_INVALID, true },
		{ BUGDB_INVALID, BUGDB_OPEN, true },
		{ BUGDB_OPEN, BUGDB_OPEN, false },
		{ BUGDB_OPEN, BUGDB_DUP, false },
		{ BUGDB_OPEN, BUGDB_FIX_PENDING, false },
	};
	struct fx *f = *state;
	struct bugdb_finding a = mk("t1", "t", SEV_HIGH);
	struct strbuf err = STRBUF_INIT;
	enum bugdb_admission w;
	char id[BUGDB_ID_MAX];

	admit(&w, id, f->db, &a);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r;

		assert_int_equal(status(f->db, id), cases[i].from);
		strbuf_reset(&err);
		r = bugdb_set_status(f->db, id, cases[i].to, "u", NULL, NULL,
				     &err);
		if (cases[i].ok != (r == 0))
			fail_msg("case %zu: %s -> %s: %d %s", i,
				 bugdb_status_name(cases[i].from),
				 bugdb_status_name(cases[i].to), r, err.buf);
		if (!cases[i].ok)
			assert_true(err.len > 0);
	}
	assert_int_equal(bugdb_set_status(f->db, "IOU-00000000", BUGDB_OPEN,
					  "u", NULL, NULL, &err),
			 -ENOENT);
	/* prio and backburner */
	assert_int_equal(bugdb_set_prio(f->db, id, BUGDB_PRIO_HIGH, "u", NULL,
					NULL, &err), 0);
	assert_int_equal(bugdb_backburner(f->db, id, true, "u", "later", NULL,
					  &err), 0);
	{
		struct bugdb_bug b;

		get(&b, f->db, id);
		assert_int_equal(b.prio, BUGDB_PRIO_HIGH);
		assert_true(b.backburner);
		assert_int_equal(b.last_activity_ms, T0);
		bugdb_bug_release(&b);
	}
	/* labels */
	assert_int_equal(bugdb_label(f->db, id, "subsystem", "NETWORKING", true,
				     "u", NULL, &err), 0);
	assert_int_equal(bugdb_label(f->db, id, "subsystem", "NETWORKING", true,
				     "u", NULL, &err), -EEXIST);
	assert_int_equal(bugdb_label(f->db, id, "subsystem", "NETWORKING", false,
				     "u", NULL, &err), 0);
	assert_int_equal(bugdb_label(f->db, id, "subsystem", "NETWORKING", false,
				     "u", NULL, &err), -ENOENT);
	strbuf_release(&err);
}

/* §10 case 7: dup to the canonical target, no cycles; undup. */
static void test_dup(void **state)
{
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct bugdb_finding a = mk("d1", "one", SEV_HIGH);
	struct bugdb_finding b = mk("d2", "two other words", SEV_HIGH);
	struct bugdb_finding c = mk("d3", "three different things", SEV_HIGH);
	enum bugdb_admission w;
	char ia[BUGDB_ID_MAX], ib[BUGDB_ID_MAX], ic[BUGDB_ID_MAX];
	char canon[BUGDB_ID_MAX];
	struct bugdb_bug bug;

	admit(&w, ia, f->db, &a);
	admit(&w, ib, f->db, &b);
	admit(&w, ic, f->db, &c);
	assert_int_equal(bugdb_set_status(f->db, ib, BUGDB_CONFIRMED, "u", NULL,
					  NULL, &err), 0);
	assert_int_equal(bugdb_dup(f->db, ib, ia, "u", NULL, &err), 0);
	/* dup of a dup lands on the canonical bug */
	assert_int_equal(bugdb_dup(f->db, ic, ib, "u", NULL, &err), 0);
	get(&bug, f->db, ic);
	assert_string_equal(bug.dup_of, ia);
	bugdb_bug_release(&bug);
	/* a cycle is refused */
	strbuf_reset(&err);
	assert_int_equal(bugdb_dup(f->db, ia, ic, "u", NULL, &err), -ELOOP);
	assert_non_null(strstr(err.buf, "duplicate of itself"));
	assert_int_equal(bugdb_dup(f->db, ia, ia, "u", NULL, &err), -ELOOP);
	/* a sighting of a dup goes to the canonical bug */
	admit(&w, canon, f->db, &b);
	assert_int_equal(w, BUGDB_SIGHTING);
	assert_string_equal(canon, ia);
	/* undup restores the previous status */
	assert_int_equal(bugdb_undup(f->db, ib, "u", NULL, &err), 0);
	assert_int_equal(status(f->db, ib), BUGDB_CONFIRMED);
	assert_int_equal(bugdb_undup(f->db, ib, "u", NULL, &err), -EINVAL);
	assert_int_equal(bugdb_canonical(canon, f->db, ic, &err), 0);
	assert_string_equal(canon, ia);
	/* invalid is refused for a dup */
	assert_int_equal(bugdb_set_status(f->db, ic, BUGDB_INVALID, "u", NULL,
					  NULL, &err), -EINVAL);
	strbuf_release(&err);
}

/* §10 cases 5 and 6: fix-pending until every branch; recurrence. */
static void test_fix(void **state)
{
	static const char *const tracked[] = { "refs/heads/master",
					       "refs/heads/io_uring-6.10" };
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct bugdb_finding a = mk("f1", "leak", SEV_HIGH);
	enum bugdb_admission w;
	char id[BUGDB_ID_MAX], id2[BUGDB_ID_MAX];
	struct bugdb_detail d;
	struct bugdb_bug b;
	bool fixed;

	admit(&w, id, f->db, &a);
	/* named fix, then dropped */
	assert_int_equal(bugdb_fix(f->db, id, "abc123 (\"io_uring: fix\")", "m",
				   "<m2>", &err), 0);
	assert_int_equal(status(f->db, id), BUGDB_FIX_PENDING);
	assert_int_equal(bugdb_fix(f->db, id, "def456", "m", NULL, &err), 0);
	assert_int_equal(bugdb_get_detail(&d, f->db, id, &err), 0);
	assert_int_equal(d.fixes_nr, 1);
	assert_string_equal(d.fixes[0].commit, "def456");
	bugdb_detail_release(&d);
	assert_int_equal(bugdb_unfix(f->db, id, "m", NULL, &err), 0);
	assert_int_equal(status(f->db, id), BUGDB_OPEN);
	assert_int_equal(bugdb_unfix(f->db, id, "m", NULL, &err), -EINVAL);
	assert_int_equal(bugdb_fix(f->db, id, "", "m", NULL, &err), -EINVAL);
	/* seen in one of two tracked branches: pending */
	assert_int_equal(bugdb_fix_seen(&fixed, f->db, id, "1111", "fix it",
					tracked[0], tracked, 2, &err), 0);
	assert_false(fixed);
	assert_int_equal(status(f->db, id), BUGDB_FIX_PENDING);
	/* seen again there: no change, no duplicate row */
	assert_int_equal(bugdb_fix_seen(&fixed, f->db, id, "1111", "fix it",
					tracked[0], tracked, 2, &err), 0);
	assert_false(fixed);
	/* the other branch (a cherry-pick): fixed */
	assert_int_equal(bugdb_fix_seen(&fixed, f->db, id, "2222", "fix it",
					tracked[1], tracked, 2, &err), 0);
	assert_true(fixed);
	assert_int_equal(status(f->db, id), BUGDB_FIXED);
	assert_int_equal(bugdb_get_detail(&d, f->db, id, &err), 0);
	assert_int_equal(d.fixes_nr, 2);
	bugdb_detail_release(&d);
	/* a fixed bug is left alone by more fix commits */
	assert_int_equal(bugdb_fix_seen(&fixed, f->db, id, "3333", "x",
					tracked[1], tracked, 2, &err), 0);
	assert_false(fixed);
	/* recurrence: a new bug, seq 1, linked */
	admit(&w, id2, f->db, &a);
	assert_int_equal(w, BUGDB_RECURRENCE);
	assert_string_not_equal(id, id2);
	get(&b, f->db, id2);
	assert_int_equal(b.seq, 1);
	assert_string_equal(b.prev_bug, id);
	assert_int_equal(b.status, BUGDB_OPEN);
	bugdb_bug_release(&b);
	/* the next sighting merges into the recurrence, not the old bug */
	admit(&w, id, f->db, &a);
	assert_int_equal(w, BUGDB_SIGHTING);
	assert_string_equal(id, id2);
	/* unfix of a fixed bug */
	strbuf_release(&err);
}

static void test_trailer_ids(void **state)
{
	const char *msg =
		"io_uring/net: return the buffer on -EAGAIN\n\n"
		"Reported-by: kreview IOU-3F2A1C9D is mentioned here too\n\n"
		"Fixes: 0123456789ab (\"io_uring: x\")\n"
		"Reported-by: kreview <kreview+IOU-0badc0de@example.org>\n"
		"Closes: https://kreview.example.org/bugs/iou-12345678\n"
		"Link: https://lore.kernel.org/r/20240101-foo@x/\n"
		"Closes: IOU-0BADC0DE\n"
		"Signed-off-by: A <a@example.org>\n";
	char **ids = NULL;
	size_t nr = 0;

	(void)state;
	bugdb_trailer_ids(&ids, &nr, msg);
	assert_int_equal(nr, 2);
	assert_string_equal(ids[0], "IOU-0badc0de");
	assert_string_equal(ids[1], "IOU-12345678");
	for (size_t i = 0; i < nr; i++)
		free(ids[i]);
	free(ids);
	ids = NULL;
	nr = 0;
	bugdb_trailer_ids(&ids, &nr, "no trailers at all");
	assert_int_equal(nr, 0);
	free(ids);
}

static void test_event_log_append_only(void **state)
{
	struct fx *f = *state;
	struct bugdb_finding a = mk("e1", "t", SEV_HIGH);
	enum bugdb_admission w;
	char id[BUGDB_ID_MAX];
	sqlite3 *h;

	admit(&w, id, f->db, &a);
	assert_int_equal(sqlite3_open(f->path.buf, &h), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(h, "UPDATE bug_event SET actor = 'x'",
					  NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(h, "DELETE FROM bug_event", NULL,
					  NULL, NULL),
			     SQLITE_OK);
	sqlite3_close(h);
}

static void test_query_and_digest(void **state)
{
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct bugdb_query q = BUGDB_QUERY_INIT;
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct bugdb_digest_opts o = { .min_bugs = 2, .max_bugs = 2,
				       .min_age_ms = 7 * DAY,
				       .quiet_ms = 14 * DAY };
	static const char *titles[] = { "alpha one", "beta two", "gamma three",
					"delta four" };
	static const char *fprs[] = { "q1", "q2", "q3", "q4" };
	char ids[4][BUGDB_ID_MAX], ref[BUGDB_ID_MAX];
	const char *mids[] = { "other@x", "digest-1@kreview" };
	enum bugdb_admission w;
	int64_t counts[BUGDB_STATUS_MAX], n_new, n_fixed, did;

	for (int i = 0; i < 4; i++) {
		struct bugdb_finding a = mk(fprs[i], titles[i],
					    (enum finding_severity)i);

		bugdb_set_clock(f->db, T0 + i * DAY);
		admit(&w, ids[i], f->db, &a);
	}
	bugdb_set_clock(f->db, T0 + 30 * DAY);
	assert_int_equal(bugdb_query_run(&l, f->db, &q, &err), 0);
	assert_int_equal(l.nr, 4);
	assert_string_equal(l.v[0].id, ids[3]); /* critical first */
	assert_null(l.v[0].evidence);
	bugdb_list_release(&l);
	q.sort = BUGDB_SORT_AGE;
	q.severity_mask = 1u << SEV_HIGH | 1u << SEV_MEDIUM;
	q.full = true;
	assert_int_equal(bugdb_query_run(&l, f->db, &q, &err), 0);
	assert_int_equal(l.nr, 2);
	assert_string_equal(l.v[0].id, ids[1]);
	assert_non_null(l.v[0].evidence);
	bugdb_list_release(&l);
	q = (struct bugdb_query)BUGDB_QUERY_INIT;
	q.status_mask = 1u << BUGDB_FIXED;
	assert_int_equal(bugdb_query_run(&l, f->db, &q, &err), 0);
	assert_int_equal(l.nr, 0);
	/* the digest: confirmed first, then severity; max 2; refs 1..2 */
	assert_int_equal(bugdb_set_status(f->db, ids[0], BUGDB_CONFIRMED,
					  "kreview", NULL, NULL, &err), 0);
	assert_int_equal(bugdb_digest_pick(&l, f->db, &o, &err), 0);
	assert_int_equal(l.nr, 2);
	assert_string_equal(l.v[0].id, ids[0]);
	assert_string_equal(l.v[1].id, ids[3]);
	assert_int_equal(bugdb_digest_store(&did, f->db, "digest-1@kreview",
					    &l, &err), 0);
	assert_int_equal(bugdb_digest_ref(ref, f->db, mids, 2, 2, &err), 1);
	assert_string_equal(ref, ids[3]);
	assert_int_equal(bugdb_digest_ref(ref, f->db, mids, 2, 3, &err), 0);
	assert_int_equal(bugdb_count(counts, f->db, &err), 0);
	assert_int_equal(counts[BUGDB_OPEN], 3);
	assert_int_equal(bugdb_period_counts(&n_new, &n_fixed, f->db,
					     T0 + 2 * DAY, &err), 0);
	assert_int_equal(n_new, 2);
	assert_int_equal(n_fixed, 0);
	bugexport_digest_body(&out, "IO_URING", &l, n_new, n_fixed, 3, 0,
			      "https://k.example/bugs", T0 + 30 * DAY);
	assert_non_null(strstr(out.buf, "<1>   low"));
	assert_non_null(strstr(out.buf, "https://k.example/bugs/IOU-"));
	assert_non_null(strstr(out.buf, "2 new issues were recorded"));
	assert_non_null(strstr(out.buf, "#kreview <1> invalid"));
	strbuf_reset(&out);
	bugexport_digest_subject(&out, "IO_URING", T0);
	assert_string_equal(out.buf, "[kreview] IO_URING open-bug digest "
				     "(May 2024)");
	bugdb_list_release(&l);
	/* a human touched one bug: quiet; only one left: no digest */
	assert_int_equal(bugdb_set_prio(f->db, ids[3], BUGDB_PRIO_HIGH,
					"m@x", NULL, NULL, &err), 0);
	assert_int_equal(bugdb_set_status(f->db, ids[1], BUGDB_INVALID, "m@x",
					  NULL, NULL, &err), 0);
	assert_int_equal(bugdb_set_status(f->db, ids[2], BUGDB_INVALID, "m@x",
					  NULL, NULL, &err), 0);
	assert_int_equal(bugdb_digest_pick(&l, f->db, &o, &err), 0);
	assert_int_equal(l.nr, 0);
	/* exports */
	strbuf_reset(&out);
	assert_int_equal(bugexport_json(&out, f->db, &err), 0);
	assert_non_null(strstr(out.buf, "\"version\":1"));
	assert_non_null(strstr(out.buf, "\"events\":["));
	strbuf_reset(&out);
	assert_int_equal(bugexport_html(&out, f->db, T0 + 30 * DAY, &err), 0);
	assert_non_null(strstr(out.buf, "<table id=\"bugs\">"));
	assert_null(strstr(out.buf, "http://"));
	assert_null(strstr(out.buf, "https://"));
	strbuf_release(&err);
	strbuf_release(&out);
}

static void add_finding(struct review_result *res, const char *fpr,
			const char *title, bool pre, int support)
{
	struct review_finding *rf;

	ALLOC_GROW(res->v, res->nr + 1, res->alloc);
	rf = &res->v[res->nr++];
	memset(rf, 0, sizeof(*rf));
	finding_init(&rf->c.rep);
	rf->c.rep.file = xstrdup("net.c");
	rf->c.rep.function = xstrdup("do_recv");
	rf->c.rep.category = xstrdup("null-deref");
	rf->c.rep.title = xstrdup(title);
	rf->c.rep.explanation = xstrdup("x");
	rf->c.rep.evidence = xstrdup("sk->sk_prot->close(sk);");
	rf->c.rep.line = 7;
	rf->c.rep.end_line = 7;
	rf->c.rep.patch = 1;
	snprintf(rf->c.fingerprint, sizeof(rf->c.fingerprint), "%s", fpr);
	rf->c.severity = SEV_HIGH;
	rf->c.support = support;
	rf->c.runs = 2;
	rf->c.verdict = VERDICT_NONE;
	rf->pre_existing = pre;
	rf->drop = REVIEW_REPORTED;
}

/* The review hook: admission, suppression on later reviews. */
static void test_review_apply(void **state)
{
	static const char diff[] =
		"diff --git a/net.c b/net.c\n--- a/net.c\n+++ b/net.c\n"
		"@@ -1,1 +1,2 @@\n int x;\n+int y;\n";
	struct fx *f = *state;
	struct review_series s;
	struct review_result res;
	struct bugdb_config *cfg = bugdb_config_default();
	struct bugdb_review_stats st;
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT;
	struct bugdb *db = NULL;
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct bugdb_query q = BUGDB_QUERY_INIT;

	review_series_init(&s);
	assert_int_equal(review_series_add(&s, "net: x", "net: x\n", diff,
					   strlen(diff), "p1@x", &err), 0);
	s.patches[0].subsystem = xstrdup("NETWORKING [GENERAL]");
	for (int round = 0; round < 3; round++) {
		review_result_init(&res);
		add_finding(&res, "pre1", "sk_prot may be NULL", true, 2);
		add_finding(&res, "pre2", "weak one", true, 1);
		add_finding(&res, "intro1", "new bug", false, 2);
		res.reported = 3;
		assert_int_equal(bugdb_review_apply(&st, &res, &s, cfg, f->dir,
						    NULL, "review 9",
						    T0 + round, &err), 0);
		if (round == 0) {
			assert_int_equal(st.admitted[BUGDB_NEW], 1);
			assert_int_equal(st.admitted[BUGDB_NOT_QUALIFIED], 1);
			assert_int_equal(res.reported, 3);
			assert_non_null(strstr(res.notes.buf,
					       "recorded as NET-"));
			bugdb_path(&p, f->dir, "NETWORKING [GENERAL]");
			assert_int_equal(bugdb_open(&db, p.buf, NULL, &err), 0);
			assert_int_equal(bugdb_query_run(&l, db, &q, &err), 0);
			assert_int_equal(l.nr, 1);
			/* the maintainer rejects the pre-existing bug and the
			 * introduced finding */
			assert_int_equal(bugdb_set_status(db, l.v[0].id,
							  BUGDB_INVALID, "m",
							  NULL, NULL, &err),
					 0);
			{
				struct bugdb_finding n = mk("intro1", "new bug",
							    SEV_HIGH);
				char id[BUGDB_ID_MAX];

				n.pre_existing = false;
				assert_int_equal(bugdb_reject_finding(
							 id, db, &n,
							 BUGDB_WONTFIX, "m",
							 NULL, NULL, &err),
						 0);
			}
			bugdb_close(db);
		} else {
			/* later reviews: both are suppressed */
			assert_int_equal(st.admitted[BUGDB_SUPPRESSED], 1);
			assert_int_equal(st.suppressed_introduced, 1);
			assert_int_equal(res.reported, 1);
			assert_string_equal(res.v[0].c.fingerprint, "pre2");
			for (size_t i = 1; i < res.nr; i++) {
				assert_int_equal(res.v[i].drop,
						 REVIEW_DROP_SUPPRESSED);
				assert_non_null(strstr(res.v[i].drop_reason,
						       "suppressed by bug NET-"));
			}
			assert_string_equal(review_drop_name(REVIEW_DROP_SUPPRESSED),
					    "suppressed");
		}
		review_result_release(&res);
	}
	bugdb_list_release(&l);
	review_series_release(&s);
	bugdb_config_free(cfg);
	strbuf_release(&err);
	strbuf_release(&p);
}

/* A file of schema 1 gains the listing indexes and keeps its bugs. */
static void test_migrate_v1(void **state)
{
	struct fx *f = *state;
	struct bugdb_finding a = mk("m1", "one", SEV_HIGH);
	struct bugdb_query q = BUGDB_QUERY_INIT;
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct strbuf err = STRBUF_INIT;
	enum bugdb_admission w;
	char id[BUGDB_ID_MAX];
	struct bugdb *db = NULL;
	sqlite3_stmt *st;
	sqlite3 *h;

	admit(&w, id, f->db, &a);
	bugdb_close(f->db);
	f->db = NULL;
	/* back to the indexes and version of schema 1 */
	assert_int_equal(sqlite3_open(f->path.buf, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
				      "DROP INDEX bug_list_by_severity;"
				      "DROP INDEX bug_list_by_seen;"
				      "DROP INDEX bug_list_by_age;"
				      "CREATE INDEX bug_by_severity ON bug("
				      "severity DESC, prio DESC,"
				      " times_seen DESC, first_seen);"
				      "CREATE INDEX bug_by_last_seen ON"
				      " bug(last_seen);"
				      "CREATE INDEX bug_by_first_seen ON"
				      " bug(first_seen);"
				      "PRAGMA user_version = 1;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(bugdb_open(&db, f->path.buf, NULL, &err), 0);
	assert_int_equal(bugdb_schema_version(db), 2);
	q.brief = true;
	assert_int_equal(bugdb_query_run(&l, db, &q, &err), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.v[0].id, id);
	bugdb_list_release(&l);
	bugdb_close(db);
	assert_int_equal(sqlite3_open(f->path.buf, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT group_concat(name, ' ')"
					       " FROM (SELECT name FROM"
					       " sqlite_master WHERE type ="
					       " 'index' AND tbl_name = 'bug'"
					       " AND name NOT LIKE 'sqlite%'"
					       " ORDER BY name)",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "bug_by_place bug_by_signature bug_by_status "
			    "bug_by_status_seen bug_list_by_age "
			    "bug_list_by_seen bug_list_by_severity");
	sqlite3_finalize(st);
	sqlite3_close(h);
	assert_int_equal(bugdb_open(&f->db, f->path.buf, NULL, &err), 0);
	strbuf_release(&err);
}

struct walk {
	struct strbuf ids;	/* "id id id " */
	size_t nr, stop_at;
	struct bugdb *db;	/* nested query on the first row, or NULL */
	const struct bugdb_query *q;
	size_t nested_nr;
};

static int walk_row(const struct bugdb_bug *b, void *data)
{
	struct walk *w = data;

	strbuf_addf(&w->ids, "%s ", b->id);
	if (w->db && !w->nr) {
		struct walk in = { .ids = STRBUF_INIT };
		struct strbuf err = STRBUF_INIT;

		/* the very same query while the outer walk is on row 1 */
		assert_int_equal(bugdb_query_each(w->db, w->q, walk_row, &in,
						  &err),
				 0);
		w->nested_nr = in.nr;
		strbuf_release(&in.ids);
		strbuf_release(&err);
	}
	if (++w->nr == w->stop_at)
		return 7;
	return 0;
}

/* Whether 'a' may come before 'b' in the order of 's'. */
static bool in_order(const struct bugdb_bug *a, const struct bugdb_bug *b,
		     enum bugdb_sort s)
{
	int c;

	switch (s) {
	case BUGDB_SORT_SEEN:
		if (a->last_seen_ms != b->last_seen_ms)
			return a->last_seen_ms > b->last_seen_ms;
		break;
	case BUGDB_SORT_AGE:
		if (a->first_seen_ms != b->first_seen_ms)
			return a->first_seen_ms < b->first_seen_ms;
		break;
	default:
		if (a->severity != b->severity)
			return a->severity > b->severity;
		if (a->prio != b->prio)
			return a->prio > b->prio;
		if (a->times_seen != b->times_seen)
			return a->times_seen > b->times_seen;
		if (a->first_seen_ms != b->first_seen_ms)
			return a->first_seen_ms < b->first_seen_ms;
		break;
	}
	c = strcmp(a->id, b->id);
	return c < 0;
}

/*
 * The brief view walks the listing indexes, the record view is left to
 * the planner: both give the same bugs in the same order, the brief
 * one with only its fields; limits, counts, stopping and nesting.
 */
static void test_query_views(void **state)
{
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT;
	char ids[24][BUGDB_ID_MAX];
	enum bugdb_admission w;
	int rc;
	static const unsigned masks[][2] = {
		{ 0, 0 },
		{ 1u << BUGDB_OPEN | 1u << BUGDB_CONFIRMED, 0 },
		{ 0, 1u << SEV_HIGH | 1u << SEV_CRITICAL },
		{ 1u << BUGDB_INVALID, 1u << SEV_HIGH },
		{ 1u << BUGDB_DUP, 0 },
	};

	for (int i = 0; i < 24; i++) {
		char fpr[16], title[32], fn[32];
		struct bugdb_finding a;

		snprintf(fpr, sizeof(fpr), "v%d", i);
		snprintf(title, sizeof(title), "bug %d", i);
		snprintf(fn, sizeof(fn), "function_%d", i);
		a = mk(fpr, title, (enum finding_severity)(i % 4));
		a.function = fn;
		/* equal times across bugs: the id tie-break decides */
		bugdb_set_clock(f->db, T0 + (i % 5) * DAY);
		admit(&w, ids[i], f->db, &a);
		if (i % 3 == 0) {
			bugdb_set_clock(f->db, T0 + (i % 7) * DAY);
			admit(&w, ids[i], f->db, &a);
		}
		if (i % 4 == 1)
			assert_int_equal(bugdb_set_prio(f->db, ids[i],
							BUGDB_PRIO_HIGH, "m",
							NULL, NULL, &err),
					 0);
		if (i % 6 == 2)
			assert_int_equal(bugdb_set_status(f->db, ids[i],
							  BUGDB_INVALID, "m",
							  NULL, NULL, &err),
					 0);
	}
	for (size_t m = 0; m < ARRAY_SIZE(masks); m++) {
		for (int s = 0; s < BUGDB_SORT_MAX; s++) {
			for (size_t limit = 0; limit < 30; limit += 5) {
				struct bugdb_query q = BUGDB_QUERY_INIT;
				struct bugdb_list brief = BUGDB_LIST_INIT;
				struct bugdb_list rec = BUGDB_LIST_INIT;
				struct walk wb = { .ids = STRBUF_INIT };
				struct walk wr = { .ids = STRBUF_INIT };
				size_t count = 99;

				q.status_mask = masks[m][0];
				q.severity_mask = masks[m][1];
				q.sort = (enum bugdb_sort)s;
				q.limit = limit;
				rc = bugdb_query_run(&rec, f->db, &q, &err);
				assert_int_equal(rc, 0);
				q.brief = true;
				rc = bugdb_query_run(&brief, f->db, &q, &err);
				assert_int_equal(rc, 0);
				rc = bugdb_query_each(f->db, &q, walk_row, &wb,
						      &err);
				assert_int_equal(rc, 0);
				q.brief = false;
				q.full = true;
				rc = bugdb_query_each(f->db, &q, walk_row, &wr,
						      &err);
				assert_int_equal(rc, 0);
				assert_string_equal(wb.ids.buf, wr.ids.buf);
				rc = bugdb_query_count(&count, f->db, &q, &err);
				assert_int_equal(rc, 0);
				assert_int_equal(count, rec.nr);
				assert_int_equal(brief.nr, rec.nr);
				assert_int_equal(wb.nr, rec.nr);
				if (limit)
					assert_true(rec.nr <= limit);
				/* bugs 2 and 14 are invalid and high */
				if (m == 3 && !limit)
					assert_int_equal(rec.nr, 2);
				if (m == 0)
					assert_int_equal(rec.nr,
							 limit && limit < 24 ?
								 limit : 24);
				for (size_t k = 0; k < rec.nr; k++) {
					const struct bugdb_bug *b = &brief.v[k];
					const struct bugdb_bug *r = &rec.v[k];

					assert_string_equal(b->id, r->id);
					assert_string_equal(b->title, r->title);
					assert_int_equal(b->status, r->status);
					assert_int_equal(b->severity,
							 r->severity);
					assert_int_equal(b->prio, r->prio);
					assert_int_equal(b->times_seen,
							 r->times_seen);
					assert_int_equal(b->first_seen_ms,
							 r->first_seen_ms);
					assert_int_equal(b->last_seen_ms,
							 r->last_seen_ms);
					assert_string_equal(b->file, "");
					assert_string_equal(b->signature, "");
					assert_null(b->evidence);
					assert_string_equal(r->file,
							    "io_uring/net.c");
					if (masks[m][0])
						assert_true(masks[m][0] &
							    1u << r->status);
					if (masks[m][1])
						assert_true(masks[m][1] &
							    1u << r->severity);
					if (k)
						assert_true(in_order(
							&rec.v[k - 1], r,
							(enum bugdb_sort)s));
				}
				bugdb_list_release(&brief);
				bugdb_list_release(&rec);
				strbuf_release(&wb.ids);
				strbuf_release(&wr.ids);
			}
		}
	}
	/* a callback's nonzero return stops the walk and is returned */
	{
		struct bugdb_query q = BUGDB_QUERY_INIT;
		struct walk wk = { .ids = STRBUF_INIT, .stop_at = 3 };
		size_t total = 0;

		q.brief = true;
		assert_int_equal(bugdb_query_each(f->db, &q, walk_row, &wk,
						  &err),
				 7);
		assert_int_equal(wk.nr, 3);
		/* the statement is free again, and nests in itself */
		strbuf_reset(&wk.ids);
		wk.nr = 0;
		wk.stop_at = 0;
		wk.db = f->db;
		wk.q = &q;
		assert_int_equal(bugdb_query_each(f->db, &q, walk_row, &wk,
						  &err),
				 0);
		assert_int_equal(bugdb_query_count(&total, f->db, &q, &err), 0);
		assert_int_equal(total, 24);
		assert_int_equal(wk.nr, 24);
		assert_int_equal(wk.nested_nr, 24);
		strbuf_release(&wk.ids);
		/* a read snapshot around a count and its walk */
		assert_int_equal(bugdb_begin_read(f->db, &err), 0);
		assert_int_equal(bugdb_query_count(&total, f->db, &q, &err), 0);
		assert_int_equal(bugdb_commit(f->db, &err), 0);
	}
	strbuf_release(&err);
}

/* §6 step 2: bugs not verified present recently are left out. */
static void test_digest_reverify_age(void **state)
{
	struct fx *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct bugdb_digest_opts o = { .min_bugs = 1, .max_bugs = 10,
				       .min_age_ms = 7 * DAY,
				       .reverify_max_age_ms = 14 * DAY };
	struct bugdb_finding old = mk("r1", "verified at admission, long ago",
				      SEV_HIGH);
	struct bugdb_finding unver = mk("r2", "never verified, old", SEV_HIGH);
	struct bugdb_finding recent = mk("r3", "never verified, recent",
					 SEV_HIGH);
	struct bugdb_finding rever = mk("r4", "re-verified lately", SEV_HIGH);
	struct bugdb_finding stale = mk("r5", "stale", SEV_HIGH);
	char id_old[BUGDB_ID_MAX], id_unver[BUGDB_ID_MAX];
	char id_recent[BUGDB_ID_MAX], id_rever[BUGDB_ID_MAX];
	char id_stale[BUGDB_ID_MAX];
	enum bugdb_admission w;

	unver.verified = false;
	recent.verified = false;
	bugdb_set_clock(f->db, T0);
	admit(&w, id_old, f->db, &old);
	admit(&w, id_unver, f->db, &unver);
	admit(&w, id_rever, f->db, &rever);
	admit(&w, id_stale, f->db, &stale);
	bugdb_set_clock(f->db, T0 + 10 * DAY);
	admit(&w, id_recent, f->db, &recent);
	bugdb_set_clock(f->db, T0 + 19 * DAY);
	assert_int_equal(bugdb_verified(f->db, id_rever, "abc", false, &err),
			 0);
	assert_int_equal(bugdb_verified(f->db, id_stale, "abc", false, &err),
			 0);
	assert_int_equal(bugdb_verified(f->db, id_stale, "abd", true, &err),
			 0);
	bugdb_set_clock(f->db, T0 + 20 * DAY);
	assert_int_equal(bugdb_digest_pick(&l, f->db, &o, &err), 0);
	assert_int_equal(l.nr, 2);
	/* same severity: oldest first */
	assert_string_equal(l.v[0].id, id_rever);
	assert_string_equal(l.v[1].id, id_recent);
	bugdb_list_release(&l);
	/* at the very edge of the age a bug still counts as verified */
	o.reverify_max_age_ms = 10 * DAY;
	assert_int_equal(bugdb_digest_pick(&l, f->db, &o, &err), 0);
	assert_int_equal(l.nr, 2);
	bugdb_list_release(&l);
	o.reverify_max_age_ms = 10 * DAY - 1;
	assert_int_equal(bugdb_digest_pick(&l, f->db, &o, &err), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.v[0].id, id_rever);
	bugdb_list_release(&l);
	/* 0: no age check; the stale bug stays out all the same */
	o.reverify_max_age_ms = 0;
	assert_int_equal(bugdb_digest_pick(&l, f->db, &o, &err), 0);
	assert_int_equal(l.nr, 4);
	for (size_t i = 0; i < l.nr; i++)
		assert_string_not_equal(l.v[i].id, id_stale);
	bugdb_list_release(&l);
	/* min_bugs counts what is left after the age check */
	o.reverify_max_age_ms = 14 * DAY;
	o.min_bugs = 3;
	assert_int_equal(bugdb_digest_pick(&l, f->db, &o, &err), 0);
	assert_int_equal(l.nr, 0);
	strbuf_release(&err);
}

static void test_config(void **state)
{
	static const char yml[] =
		"bugs:\n"
		"  dir: /srv/bugs\n"
		"  min_support: 1\n"
		"  severity_floor: high\n"
		"  triagers: [\"*@maintainers.example\"]\n"
		"  branches: [refs/heads/master, refs/heads/net]\n"
		"  sections:\n"
		"    - section: IO_URING\n"
		"      require_verification: true\n";
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct strbuf man = STRBUF_INIT, ex = STRBUF_INIT;
	struct bugdb_policy p;

	(void)state;
	setenv("HOME", "/home/u", 1);
	if (config_load_buffer(&cfg, "t.yaml", yml, strlen(yml), &err) < 0)
		fail_msg("%s", err.buf);
	assert_non_null(cfg->bugs);
	bugdb_config_dir(&sb, cfg->bugs, cfg->state_dir);
	assert_string_equal(sb.buf, "/srv/bugs");
	assert_int_equal(cfg->bugs->branches.nr, 2);
	bugdb_config_policy(&p, cfg->bugs, "BTRFS");
	assert_int_equal(p.min_support, 1);
	assert_int_equal(p.severity_floor, SEV_HIGH);
	assert_false(p.require_verification);
	assert_int_equal(cfg->bugs->digest_reverify_max_age_ms, 14 * DAY);
	/* the daemon's re-verification: daily, at HEAD of daemon.tree */
	assert_int_equal(cfg->bugs->reverify_interval_ms, DAY);
	assert_null(cfg->bugs->reverify_tree);
	assert_string_equal(cfg->bugs->reverify_rev, "HEAD");
	assert_null(cfg->bugs->reverify_endpoint);
	assert_int_equal(cfg->bugs->reverify_budget, 50);
	bugdb_config_policy(&p, cfg->bugs, "IO_URING");
	assert_true(p.require_verification);
	assert_int_equal(p.min_support, 2);
	assert_int_equal(p.severity_floor, SEV_MEDIUM);
	config_free(cfg);
	cfg = NULL;
	strbuf_reset(&err);
	assert_true(config_load_buffer(&cfg, "b.yaml", "bugs:\n  dir: rel\n"
					"  severity_floor: huge\n", 36,
					&err) < 0);
	assert_non_null(strstr(err.buf, "b.yaml:3:"));
	strbuf_reset(&err);
	assert_true(config_load_buffer(&cfg, "b.yaml", "bugs: [1]\n", 10,
				       &err) < 0);
	assert_non_null(strstr(err.buf, "expected a mapping"));
	strbuf_reset(&err);
	assert_true(config_load_buffer(&cfg, "b.yaml", "bugs:\n"
				       "  reverify_tree: linux\n", 29,
				       &err) < 0);
	assert_non_null(strstr(err.buf, "b.yaml:2:"));
	assert_non_null(strstr(err.buf, "reverify_tree must be absolute"));
	strbuf_reset(&err);
	{
		static const char y[] = "bugs:\n  digest_sections: [IO_URING]\n";

		assert_true(config_load_buffer(&cfg, "b.yaml", y, strlen(y),
					       &err) < 0);
		assert_non_null(strstr(err.buf, "b.yaml:2:"));
		assert_non_null(strstr(err.buf, "needs digest_curator"));
	}
	/* every key documented */
	assert_int_equal(strbuf_read_file(&man, KREVIEW_SRCDIR
					  "/doc/kreview.yaml.5", 0), 0);
	assert_int_equal(strbuf_read_file(&ex, KREVIEW_SRCDIR
					  "/config/kreview.yaml", 0), 0);
	for (const struct config_field *f = bugdb_config_fields; f->key; f++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "Ic %s ", f->key);
		if (!strstr(man.buf, sb.buf))
			fail_msg("bugs.%s not in kreview.yaml.5", f->key);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s:", f->key);
		if (!strstr(ex.buf, sb.buf))
			fail_msg("bugs.%s not in config/kreview.yaml", f->key);
	}
	strbuf_release(&err);
	strbuf_release(&sb);
	strbuf_release(&man);
	strbuf_release(&ex);
}

/* move, poke, no-reminders, uncc (reference §5). */
static void test_move_and_prefs(void **state)
{
	struct fx *f = *state;
	static const char maintainers[] =
		"NETWORKING [GENERAL]\n"
		"M:\tNet Maint <net@example.org>\n"
		"L:\tnetdev@vger.kernel.org\n"
		"S:\tMaintained\n"
		"F:\tnet/\n";
	struct strbuf err = STRBUF_INIT;
	struct bugdb_set set = BUGDB_SET_INIT;
	struct bugdb_digest_opts o = { .min_bugs = 1, .max_bugs = 10 };
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct bugdb_detail d;
	struct bugdb_bug b;
	struct maint *m = NULL;
	struct bugdb *net = NULL, *net2 = NULL;
	char a[BUGDB_ID_MAX], c[BUGDB_ID_MAX], moved[BUGDB_ID_MAX];
	char to[BUGDB_ID_MAX], again[BUGDB_ID_MAX];
	char **dids = NULL;
	size_t ndids = 0;
	enum bugdb_admission w;
	struct bugdb_finding fa = mk("mv1", "alpha leak", SEV_HIGH);
	struct bugdb_finding fc = mk("mv2", "gamma race", SEV_MEDIUM);
	int64_t did;
	bool found = false;

	admit(&w, a, f->db, &fa);
	admit(&w, c, f->db, &fc);
	bugdb_set_clock(f->db, T0 + 30 * DAY);
	/* no-reminders: out of the digest, back in when unset; no event
	 * for a repeat */
	assert_int_equal(bugdb_set_no_reminders(f->db, a, true, "m@x", "l1",
						&err), 0);
	assert_int_equal(bugdb_set_no_reminders(f->db, a, true, "m@x", "l1",
						&err), 0);
	assert_int_equal(bugdb_no_reminders(f->db, a, &err), 1);
	assert_int_equal(bugdb_no_reminders(f->db, c, &err), 0);
	assert_int_equal(bugdb_digest_pick(&l, f->db, &o, &err), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.v[0].id, c);
	bugdb_list_release(&l);
	assert_int_equal(bugdb_set_no_reminders(f->db, a, false, "m@x", NULL,
						&err), 0);
	assert_int_equal(bugdb_no_reminders(f->db, a, &err), 0);
	assert_int_equal(bugdb_get_detail(&d, f->db, a, &err), 0);
	assert_int_equal(d.events_nr, 3); /* created, on, off */
	assert_string_equal(d.events[1].kind, "no-reminders");
	assert_string_equal(d.events[2].new, "off");
	bugdb_detail_release(&d);
	/* poke: stale, out of digests, not human activity */
	get(&b, f->db, c);
	did = b.last_activity_ms;
	bugdb_bug_release(&b);
	bugdb_set_clock(f->db, T0 + 31 * DAY);
	assert_int_equal(bugdb_poke(f->db, c, "m@x", "l2", &err), 0);
	get(&b, f->db, c);
	assert_true(b.stale);
	assert_int_equal(b.last_activity_ms, did);
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_verified(f->db, c, "abc", false, &err), 0);
	get(&b, f->db, c);
	assert_false(b.stale);
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_set_status(f->db, c, BUGDB_INVALID, "m@x", NULL,
					  NULL, &err), 0);
	strbuf_reset(&err);
	assert_int_equal(bugdb_poke(f->db, c, "m@x", NULL, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "only open, confirmed"));
	/* uncc: per bug and address, any case, once */
	assert_int_equal(bugdb_uncc(f->db, a, "Someone@Example.COM", "l3",
				    &err), 0);
	assert_int_equal(bugdb_uncc(f->db, a, "someone@example.com", "l3",
				    &err), 0);
	assert_int_equal(bugdb_uncced(f->db, a, "SOMEONE@example.com", &err),
			 1);
	assert_int_equal(bugdb_uncced(f->db, c, "someone@example.com", &err),
			 0);
	assert_int_equal(bugdb_uncc(f->db, a, "nobody", NULL, &err), -EINVAL);
	assert_int_equal(bugdb_uncc(f->db, "IOU-00000000", "a@b", NULL, &err),
			 -ENOENT);

	/* move: the target section must exist or be in MAINTAINERS */
	assert_int_equal(bugdb_set_open(&set, f->dir, NULL), 0);
	strbuf_reset(&err);
	assert_int_equal(bugdb_set_section_open(&net, &set, f->dir,
						"NETWORKING [GENERAL]", NULL,
						&err), -ENOENT);
	assert_non_null(strstr(err.buf, "no MAINTAINERS"));
	assert_int_equal(maint_parse(&m, maintainers, strlen(maintainers),
				     "MAINTAINERS", NULL, &err), 0);
	assert_int_equal(bugdb_set_section_open(&net, &set, f->dir,
						"networking-general", m,
						&err), 0);
	assert_string_equal(bugdb_section(net), "NETWORKING [GENERAL]");
	assert_string_equal(bugdb_maintainers(net), "net@example.org\n");
	assert_int_equal(bugdb_set_section_open(&net2, &set, f->dir,
						"Networking [General]", m,
						&err), 0);
	assert_ptr_equal(net, net2);
	bugdb_set_clock(net, T0 + 40 * DAY);
	assert_int_equal(bugdb_digest_store(&did, f->db, "dg@x", &l, &err), 0);
	strbuf_reset(&err);
	if (bugdb_move(moved, f->db, a, net, "m@x", "it is netdev's", "l4",
		       &err) < 0)
		fail_msg("move: %s", err.buf);
	assert_true(!strncmp(moved, "NET-", 4));
	/* the stub forwards; the new bug has the history and the labels */
	assert_int_equal(status(f->db, a), BUGDB_DUP);
	assert_int_equal(bugdb_moved_to(to, f->db, a, &err), 1);
	assert_string_equal(to, moved);
	assert_int_equal(bugdb_moved_to(to, f->db, c, &err), 0);
	assert_ptr_equal(bugdb_set_find(&set, moved), net);
	get(&b, net, moved);
	assert_int_equal(b.status, BUGDB_OPEN);
	assert_string_equal(b.signature, "mv1");
	assert_string_equal(b.title, "alpha leak");
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_uncced(net, moved, "someone@example.com", &err),
			 1);
	assert_int_equal(bugdb_get_detail(&d, net, moved, &err), 0);
	assert_string_equal(d.events[0].kind, "created");
	assert_string_equal(d.events[d.events_nr - 1].kind, "moved");
	assert_string_equal(d.events[d.events_nr - 1].new,
			    "NETWORKING [GENERAL]");
	assert_string_equal(d.events[d.events_nr - 1].reason, "it is netdev's");
	assert_int_equal(d.sightings_nr, 1);
	for (size_t i = 0; i < d.labels_nr; i++)
		found |= !strcmp(d.labels[i].label, "moved-from") &&
			 !strcmp(d.labels[i].value, a);
	assert_true(found);
	bugdb_detail_release(&d);
	assert_int_equal(bugdb_get_detail(&d, f->db, a, &err), 0);
	assert_string_equal(d.events[d.events_nr - 1].kind, "moved");
	assert_non_null(strstr(d.events[d.events_nr - 1].new, moved));
	bugdb_detail_release(&d);
	/* a stub cannot be moved, undup'ed or dup'ed again */
	strbuf_reset(&err);
	assert_int_equal(bugdb_move(again, f->db, a, net, "m@x", NULL, NULL,
				    &err), -EINVAL);
	assert_non_null(strstr(err.buf, "was moved to"));
	assert_int_equal(bugdb_undup(f->db, a, "m@x", NULL, &err), -EINVAL);
	assert_int_equal(bugdb_set_no_reminders(f->db, a, true, "m@x", NULL,
						&err), -EINVAL);
	/* back where it came from: the stub lives again, with the news */
	assert_int_equal(bugdb_set_prio(net, moved, BUGDB_PRIO_HIGH, "n@x",
					NULL, NULL, &err), 0);
	assert_int_equal(bugdb_move(again, net, moved, f->db, "n@x",
				    "wrong section", NULL, &err), 0);
	assert_string_equal(again, a);
	get(&b, f->db, a);
	assert_int_equal(b.status, BUGDB_OPEN);
	assert_int_equal(b.prio, BUGDB_PRIO_HIGH);
	assert_null(b.dup_of);
	bugdb_bug_release(&b);
	assert_int_equal(bugdb_moved_to(to, f->db, a, &err), 0);
	assert_int_equal(bugdb_moved_to(to, net, moved, &err), 1);
	assert_string_equal(to, a);
	assert_int_equal(bugdb_get_detail(&d, f->db, a, &err), 0);
	assert_int_equal(d.sightings_nr, 1);
	found = false;
	for (size_t i = 0; i < d.events_nr; i++)
		found |= !strcmp(d.events[i].kind, "prio");
	assert_true(found);
	assert_string_equal(d.events[d.events_nr - 1].kind, "moved");
	bugdb_detail_release(&d);
	/* and there again: the stub over there lives again, with an event */
	assert_int_equal(bugdb_move(again, f->db, a, net, "m@x", "round trip",
				    NULL, &err), 0);
	assert_string_equal(again, moved);
	assert_int_equal(status(net, moved), BUGDB_OPEN);
	assert_int_equal(status(f->db, a), BUGDB_DUP);
	assert_int_equal(bugdb_get_detail(&d, net, moved, &err), 0);
	assert_string_equal(d.events[d.events_nr - 1].reason, "round trip");
	bugdb_detail_release(&d);
	assert_int_equal(bugdb_move(again, net, moved, f->db, "m@x", NULL, NULL,
				    &err), 0);
	assert_string_equal(again, a);
	/* into its own section: refused */
	strbuf_reset(&err);
	assert_int_equal(bugdb_move(again, f->db, c, f->db, "m@x", NULL, NULL,
				    &err), -EINVAL);
	assert_non_null(strstr(err.buf, "already in IO_URING"));
	/* the same signature already tracked there: merged into it */
	{
		struct bugdb_finding fc2 = mk("mv2", "gamma race", SEV_HIGH);
		char nc[BUGDB_ID_MAX];

		admit(&w, nc, net, &fc2);
		assert_int_equal(bugdb_set_status(f->db, c, BUGDB_OPEN, "m@x",
						  NULL, NULL, &err), 0);
		assert_int_equal(bugdb_move(again, f->db, c, net, "m@x", NULL,
					    NULL, &err), 0);
		assert_string_equal(again, nc);
		get(&b, net, nc);
		assert_int_equal(b.times_seen, 2);
		bugdb_bug_release(&b);
	}
	/* digest ids */
	assert_int_equal(bugdb_digest_ids(&dids, &ndids, f->db, &err), 0);
	assert_int_equal(ndids, 1);
	assert_string_equal(dids[0], "dg@x");
	free(dids[0]);
	free(dids);
	bugdb_set_release(&set);
	maint_free(m);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test(test_admission_policy),
		cmocka_unit_test_setup_teardown(test_suppression, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_transitions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fix, setup, teardown),
		cmocka_unit_test(test_trailer_ids),
		cmocka_unit_test_setup_teardown(test_event_log_append_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_and_digest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_review_apply, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_query_views, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_digest_reverify_age, setup,
						teardown),
		cmocka_unit_test(test_config),
		cmocka_unit_test_setup_teardown(test_move_and_prefs, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
