/*
 * bench-bugs: list/filter/sort latency over N bugs in one database
 * (default 100000), and the size of the file.  Each query is timed as
 * the brief list view (what `kreview bugs list` reads), as records
 * without evidence (what `--json` reads), both walked row by row
 * without copies, and as records copied by bugdb_query_run().
 *
 *   bench-bugs [-n N] [DIR]
 */
#include "kreview/bugdb.h"
#include "kreview/strbuf.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const cats[] = { "use-after-free", "resource-leak",
				    "race", "null-deref", "locking-rule",
				    "overflow" };

static double ms_since(int64_t t0)
{
	return (double)(time_mono_ms() - t0);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* What a listing does with each row: look at it, keep nothing. */
static int touch_row(const struct bugdb_bug *b, void *data)
{
	size_t *n = data;

	*n += (size_t)(unsigned char)b->title[0] + (size_t)b->times_seen;
	return 0;
}

/* Best of 5 of 'q' walked without copies (brief or not) or copied. */
static double best_of(struct bugdb *db, const struct bugdb_query *q,
		      bool copy, size_t *rows)
{
	struct strbuf err = STRBUF_INIT;
	double best = 1e9;

	for (int i = 0; i < 5; i++) {
		struct bugdb_list l = BUGDB_LIST_INIT;
		size_t sink = 0, nr;
		double t0 = now_ms(), t;

		if (copy ? bugdb_query_run(&l, db, q, &err) :
			   bugdb_query_each(db, q, touch_row, &sink, &err))
			die("%s", err.buf);
		nr = l.nr;
		bugdb_list_release(&l);
		t = now_ms() - t0;
		if (t < best)
			best = t;
		if (copy)
			*rows = nr;
	}
	strbuf_release(&err);
	return best;
}

/*
 * One query three ways: the brief list view the text listing reads,
 * every column but the evidence as --json reads them (both walked
 * without copies), and bugdb_query_run() copying the latter.
 */
static void timed(struct bugdb *db, const char *name,
		  const struct bugdb_query *q)
{
	struct bugdb_query b = *q;
	double brief, record, copied;
	size_t rows = 0;

	b.brief = true;
	brief = best_of(db, &b, false, &rows);
	b.brief = false;
	record = best_of(db, &b, false, &rows);
	copied = best_of(db, &b, true, &rows);
	printf("%-44s %7zu %9.1f %9.1f %9.1f\n", name, rows, brief, record,
	       copied);
}

int main(int argc, char **argv)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT, fpr = STRBUF_INIT;
	struct strbuf title = STRBUF_INIT;
	struct bugdb *db = NULL;
	struct bugdb_query q = BUGDB_QUERY_INIT;
	char dirbuf[] = "/tmp/bench-bugs.XXXXXX";
	const char *dir = NULL;
	long n = 100000;
	int64_t t0;
	struct stat st;
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (n = strtol(optarg, NULL, 10)) < 1) {
			fprintf(stderr, "usage: bench-bugs [-n N] [DIR]\n");
			return 2;
		}
	}
	dir = optind < argc ? argv[optind] : mkdtemp(dirbuf);
	if (!dir)
		die("cannot make a temporary directory");
	strbuf_addf(&path, "%s/bench.db", dir);
	unlink(path.buf);
	if (bugdb_open(&db, path.buf, "IO_URING", &err) < 0)
		die("%s", err.buf);
	t0 = time_mono_ms();
	/* one transaction: admissions nest in it as savepoints */
	if (bugdb_begin(db, &err) < 0)
		die("%s", err.buf);
	for (long i = 0; i < n; i++) {
		struct bugdb_finding f = {
			.file = "io_uring/net.c",
			.category = cats[i % 6],
			.evidence = "io_kbuf_recycle(req, issue_flags);",
			.explanation = "the buffer selected for this attempt is "
				       "not returned on the retry path",
			.severity = (enum finding_severity)(i % 4),
			.confidence = 0.7,
			.line = (int)(i % 2000) + 1,
			.end_line = (int)(i % 2000) + 2,
			.support = 2, .runs = 3, .verified = true,
			.pre_existing = true,
		};
		enum bugdb_admission w;
		char id[BUGDB_ID_MAX];
		struct strbuf fn = STRBUF_INIT;

		strbuf_reset(&fpr);
		strbuf_reset(&title);
		strbuf_addf(&fpr, "%040lx", i * 2654435761UL);
		strbuf_addf(&title, "bug %ld in function_%ld", i, i % 977);
		strbuf_addf(&fn, "function_%ld", i);
		f.fingerprint = fpr.buf;
		f.title = title.buf;
		f.function = fn.buf;
		bugdb_set_clock(db, 1700000000000LL + i * 60000LL);
		if (bugdb_admit(&w, id, db, &f, NULL, &err) < 0)
			die("%s", err.buf);
		if (i % 7 == 0 && bugdb_set_status(db, id, i % 2 ? BUGDB_FIXED :
						   BUGDB_INVALID, "bench",
						   NULL, NULL, &err) < 0)
			die("%s", err.buf);
		strbuf_release(&fn);
	}
	if (bugdb_commit(db, &err) < 0)
		die("%s", err.buf);
	printf("populated %ld bugs in %.1f s\n", n, ms_since(t0) / 1000);
	bugdb_set_clock(db, 0);
	printf("\nms, best of 5 %-30s %7s %9s %9s %9s\n", "", "rows", "list",
	       "records", "copied");

	timed(db, "list all, by severity", &q);
	q.sort = BUGDB_SORT_SEEN;
	timed(db, "list all, by last seen", &q);
	q.sort = BUGDB_SORT_SEVERITY;
	q.limit = 50;
	timed(db, "list by severity, first 50", &q);
	q.limit = 0;
	q.status_mask = 1u << BUGDB_OPEN | 1u << BUGDB_CONFIRMED;
	q.severity_mask = 1u << SEV_HIGH | 1u << SEV_CRITICAL;
	timed(db, "open+confirmed, high+critical, by severity", &q);
	q.sort = BUGDB_SORT_SEEN;
	q.limit = 50;
	timed(db, "open+confirmed, high+critical, by seen, 50", &q);
	q.sort = BUGDB_SORT_AGE;
	q.status_mask = 1u << BUGDB_INVALID;
	q.severity_mask = 0;
	q.limit = 0;
	timed(db, "invalid, by age", &q);
	bugdb_close(db);
	if (stat(path.buf, &st) == 0)
		printf("database size: %.1f MiB (%lld bytes)\n",
		       (double)st.st_size / (1 << 20), (long long)st.st_size);
	if (optind >= argc) {
		unlink(path.buf);
		strbuf_addstr(&path, "-wal");
		unlink(path.buf);
		strbuf_setlen(&path, path.len - 4);
		strbuf_addstr(&path, "-shm");
		unlink(path.buf);
		rmdir(dir);
	}
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&fpr);
	strbuf_release(&title);
	return 0;
}
