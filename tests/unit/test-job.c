#include "testutil.h"

#include "kreview/db.h"
#include "kreview/job.h"

static void exec(struct db *db, const char *sql)
{
	struct strbuf err = STRBUF_INIT;

	if (db_exec(db, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.buf);
	strbuf_release(&err);
}

static void test_priors(void **state)
{
	char *dir = test_mkdtemp();
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct job_priors p;
	struct db *db = NULL;

	(void)state;
	strbuf_addf(&path, "%s/k.db", dir);
	assert_int_equal(db_open(&db, path.buf, &err), 0);
	exec(db,
	     "INSERT INTO series(id, thread_id, version, total, subject, norm_title,"
	     " complete, created_ms, updated_ms) VALUES"
	     " (1, 1, 1, 1, 's', 's', 1, 0, 0), (2, 1, 2, 1, 's', 's', 1, 0, 0),"
	     " (3, 9, 1, 1, 't', 't', 1, 0, 0);"
	     "UPDATE series SET prev_version = 1 WHERE id = 2;"
	     "INSERT INTO review(id, series_id, prompt_hash, profile, runs, endpoint,"
	     " requests, cached, failed, in_uncached, cache_write, cache_read, out,"
	     " cost_usd, started_ms, finished_ms) VALUES"
	     " (10, 1, 'h', 'standard', 3, 'e', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0),"
	     " (11, 1, 'h', 'standard', 3, 'e', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);");
	/* the older review of v1 must be ignored: the newest counts */
	exec(db,
	     "INSERT INTO review_finding(review_id, patch, fingerprint, file, line,"
	     " end_line, function, category, severity, confidence, support, runs,"
	     " verdict, pre_existing, reported, dropped, title, explanation,"
	     " evidence) VALUES"
	     " (10, 1, 'old', 'a.c', 1, 1, 'f', 'logic', 'high', 0.5, 1, 3,"
	     "  'confirmed', 0, 1, NULL, 'old review', 'e', 'x'),"
	     " (11, 1, 'fp-leak', 'a.c', 1, 1, 'f', 'resource-leak', 'high', 0.5,"
	     "  2, 3, 'confirmed', 0, 1, NULL, 'leak', 'e', 'x'),"
	     " (11, 1, 'fp-bogus', 'a.c', 2, 2, 'f', 'logic', 'high', 0.5, 1, 3,"
	     "  'confirmed', 0, 0, 'suppressed', 'marked invalid', 'e', 'x'),"
	     " (11, 1, 'fp-refuted', 'a.c', 3, 3, 'f', 'logic', 'high', 0.5, 1, 3,"
	     "  'refuted', 0, 0, 'refuted', 'refuted one', 'e', 'x');");

	assert_int_equal(job_priors_load(&p, db, 2, &err), 0);
	assert_int_equal(p.version, 1);
	assert_int_equal(p.nr, 2);
	assert_string_equal(p.v[0].fingerprint, "fp-leak");
	assert_int_equal(p.v[0].status, REPLY_PRIOR_REPORTED);
	assert_string_equal(p.v[1].fingerprint, "fp-bogus");
	assert_int_equal(p.v[1].status, REPLY_PRIOR_INVALID);
	job_priors_release(&p);

	/* no previous revision, or one never reviewed: nothing */
	assert_int_equal(job_priors_load(&p, db, 1, &err), 0);
	assert_int_equal(p.nr, 0);
	assert_int_equal(p.version, 0);
	job_priors_release(&p);
	assert_int_equal(job_priors_load(&p, db, 3, &err), 0);
	assert_int_equal(p.nr, 0);
	job_priors_release(&p);

	db_close(db);
	test_rmtree(dir);
	free(dir);
	strbuf_release(&path);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
