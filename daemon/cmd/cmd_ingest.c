/* kreview ingest: sources -> messages -> series. */
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/ingest.h"
#include "kreview/log.h"
#include "kreview/msg.h"
#include "kreview/source.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"

#include <getopt.h>
#include <strings.h>
#include <unistd.h>

/*
 * Progress on standard error, as git shows it: one line rewritten in
 * place at most twice a second, ended when the source is done.  Other
 * messages on standard error first blank it.
 */
struct progress {
	const char *what;	/* the source being read */
	size_t read0;		/* messages read before it */
	int64_t start_ms, last_ms;
	int width;		/* of the line on screen, 0 for none */
};

static void progress_clear(struct progress *p)
{
	if (p->width)
		fprintf(stderr, "\r%*s\r", p->width, "");
	p->width = 0;
}

static void progress_line(struct progress *p, const struct ingest_stats *st,
			  bool done)
{
	int64_t now = time_now_ms(), ms = now - p->start_ms;
	size_t n = st->read - p->read0;
	int w;

	if (!done && now - p->last_ms < 500)
		return;
	p->last_ms = now;
	w = fprintf(stderr, "\rkreview: %s: %zu messages read", p->what, n);
	if (ms > 0)
		w += fprintf(stderr, " (%.0f/s)", (double)n * 1000.0 / (double)ms);
	if (done)
		w += fprintf(stderr, ", done");
	if (w < p->width)
		fprintf(stderr, "%*s", p->width - w, "");
	p->width = done ? 0 : w;
	fputs(done ? "\n" : "", stderr);
	fflush(stderr);
}

static void progress_cb(void *ctx, const struct ingest_stats *st)
{
	progress_line(ctx, st, false);
}

/* A message-level problem, printed as ingest_source() would. */
static void report_cb(void *ctx, const char *where, const char *what)
{
	progress_clear(ctx);
	ingest_report_stderr(where, what);
}

int cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "mbox", required_argument, NULL, 'm' },
		{ "maildir", required_argument, NULL, 'M' },
		{ "public-inbox", required_argument, NULL, 'p' },
		{ "notmuch", required_argument, NULL, 'n' },
		{ "query", required_argument, NULL, 'q' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct progress prog = { 0 };
	int show_progress = -1;
	struct ingest_source *srcs = NULL;
	size_t srcs_nr = 0, srcs_alloc = 0;
	const char *db_path = NULL, *config_path = NULL;
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	struct store_assemble_stats as = { 0 };
	struct ingest_stats st = { 0 };
	struct db *db = NULL;
	int c, r, ret = 1, failed = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db_path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'm':
		case 'M':
		case 'p':
		case 'n':
			ALLOC_GROW(srcs, srcs_nr + 1, srcs_alloc);
			memset(&srcs[srcs_nr], 0, sizeof(*srcs));
			srcs[srcs_nr].kind = c == 'm' ? SOURCE_MBOX :
					     c == 'M' ? SOURCE_MAILDIR :
					     c == 'p' ? SOURCE_INBOX :
							SOURCE_NOTMUCH;
			srcs[srcs_nr].location = optarg;
			srcs_nr++;
			break;
		case 'P':
		case 'N':
			show_progress = c == 'P';
			break;
		case 'q':
			if (!srcs_nr || srcs[srcs_nr - 1].kind != SOURCE_NOTMUCH) {
				fputs("kreview: --query must follow --notmuch\n",
				      stderr);
				ret = 2;
				goto out;
			}
			srcs[srcs_nr - 1].query = optarg;
			break;
		default:
			cmd_print_usage(cmd_find("ingest"), stderr);
			ret = 2;
			goto out;
		}
	}
	if (optind < argc || !srcs_nr) {
		fputs(optind < argc ? "kreview: unexpected argument\n" :
				      "kreview: no source given\n",
		      stderr);
		cmd_print_usage(cmd_find("ingest"), stderr);
		ret = 2;
		goto out;
	}
	for (size_t i = 0; i < srcs_nr; i++) {
		if (srcs[i].kind == SOURCE_NOTMUCH && !srcs[i].query) {
			fputs("kreview: --notmuch needs --query\n", stderr);
			ret = 2;
			goto out;
		}
	}

	if (config_load(&cfg, config_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	if (!db_path)
		db_path = cfg->database;
	if (db_open(&db, db_path, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}

	if (show_progress < 0)
		show_progress = isatty(STDERR_FILENO);
	for (size_t i = 0; i < srcs_nr; i++) {
		strbuf_reset(&err);
		if (show_progress) {
			prog.what = srcs[i].location;
			prog.read0 = st.read;
			prog.start_ms = prog.last_ms = time_now_ms();
			srcs[i].progress = progress_cb;
			srcs[i].progress_ctx = &prog;
			srcs[i].report = report_cb;
			srcs[i].report_ctx = &prog;
		}
		r = ingest_source(&st, db, cfg, &srcs[i], &err);
		if (show_progress)
			progress_line(&prog, &st, true);
		if (r < 0) {
			fprintf(stderr, "kreview: %s\n", err.buf);
			failed++;
		}
	}

	strbuf_reset(&err);
	if (store_assemble_dirty(&as, db, cfg->ingest.stall_after_ms,
				 time_now_ms(), &err) < 0) {
		fprintf(stderr, "kreview: cannot assemble series: %s\n",
			err.buf);
		failed++;
	}
	printf("%zu messages read, %zu new, %zu patches, %zu series revisions created, %zu updated, %zu errors\n",
	       st.read, st.added, st.patches, as.created, as.updated,
	       st.errors);
	ret = failed ? 1 : 0;
out:
	db_close(db);
	config_free(cfg);
	free(srcs);
	strbuf_release(&err);
	return ret;
}
