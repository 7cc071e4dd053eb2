/*
 * bench-maint: parse time of a MAINTAINERS file and path matching rate.
 *
 * usage: bench-maint [MAINTAINERS [ORACLE.jsonl]]
 * Defaults to the shared data: the kernel's MAINTAINERS and the 411
 * oracle paths.  Prints the best of several runs.
 */
#include "kreview/maint.h"
#include "kreview/strbuf.h"

#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pull "path" values out of the oracle's JSON lines (no escapes in it). */
static size_t read_paths(char ***out, const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	char **v = NULL;
	size_t nr = 0, alloc = 0;
	const char *p;

	if (strbuf_read_file(&sb, file, 0) < 0)
		die("cannot read '%s'", file);
	for (p = sb.buf; (p = strstr(p, "\"path\": \"")); ) {
		const char *e;

		p += 9;
		e = strchr(p, '"');
		if (!e)
			break;
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = xmemdupz(p, (size_t)(e - p));
		p = e;
	}
	strbuf_release(&sb);
	*out = v;
	return nr;
}

int main(int argc, char **argv)
{
	const char *mfile = argc > 1 ? argv[1] :
				       KREVIEW_SRCDIR "/../shared/data/MAINTAINERS";
	const char *ofile = argc > 2 ? argv[2] :
				       KREVIEW_SRCDIR
		"/../shared/data/maintainers-oracle-2024H1.jsonl";
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct maint *m = NULL;
	double best = 1e9, t, match_s = 1e9;
	size_t nr, hits = 0;
	char **paths;

	if (strbuf_read_file(&buf, mfile, 0) < 0)
		die("cannot read '%s'", mfile);
	for (int i = 0; i < 20; i++) {
		t = now_s();
		if (maint_parse(&m, buf.buf, buf.len, mfile, NULL, &err) < 0)
			die("%s", err.buf);
		t = now_s() - t;
		if (t < best)
			best = t;
		if (i < 19)
			maint_free(m);
	}
	printf("parse: %zu bytes, %zu sections, best of 20: %.2f ms\n",
	       buf.len, maint_section_count(m), best * 1e3);

	nr = read_paths(&paths, ofile);
	for (int r = 0; r < 5; r++) {
		hits = 0;
		t = now_s();
		for (size_t i = 0; i < nr; i++) {
			mm.nr = 0;
			hits += maint_match_path(&mm, m, paths[i]);
		}
		t = now_s() - t;
		if (t < match_s)
			match_s = t;
	}
	printf("match: %zu paths, %zu section hits, best of 5: %.2f ms, "
	       "%.0f paths/s\n",
	       nr, hits, match_s * 1e3, (double)nr / match_s);
	for (size_t i = 0; i < nr; i++)
		free(paths[i]);
	free(paths);
	maint_matches_release(&mm);
	maint_free(m);
	strbuf_release(&buf);
	strbuf_release(&err);
	return 0;
}
