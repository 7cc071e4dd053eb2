/*
 * bench-ingest - how fast is ingestion compared with just reading mail?
 *
 *   bench-ingest EPOCH_DIR KREVIEW_BINARY
 *
 * EPOCH_DIR is a public-inbox v2 epoch (bare git repository, one
 * commit per message, blob "m").  Build one from the shared slice with
 * the test helper first:
 *
 *   xz -dc shared/data/io-uring-2024H1.mbox.xz |
 *           <build>/tests/mkinbox - /tmp/epoch.git
 *   <build>/bench/bench-ingest /tmp/epoch.git <build>/kreview
 *
 * Three measurements over every message of the epoch, and one of
 * threading:
 *
 *  (a) raw:     source_open(SOURCE_INBOX) + source_next() to the end,
 *               in this process (libgit2 revwalk + blob reads);
 *  (b) ingest:  "kreview ingest --db <fresh tmp db> --public-inbox
 *               EPOCH" as a child process (parse, store, thread, series
 *               assembly, all commits), wall time and the child's peak
 *               RSS from wait4();
 *  (c) git:     "git cat-file --batch" fed the blob ids of "m" entries
 *               listed by "git rev-list --objects refs/heads/master"
 *               (listing not timed; identical blobs are listed once);
 *  (d) thread:  "kreview ingest --mbox" of one generated thread of 2,500,
 *               5,000 and 10,000 messages (each names the root and its
 *               19 nearest ancestors, as mailers do); the time per
 *               message must stay flat as the thread grows.
 *
 * Each is run RUNS times ((d): THREAD_RUNS; ingestion into a new
 * database each time) and the fastest run is reported: this machine's
 * neighbours are noisy.
 * Prints messages/second for each, ingest/raw and ingest/git time
 * ratios, peak RSS in MB and the ingest's CPU time (user + system,
 * over its threads).  Like kreview, (a) does not re-hash objects it
 * reads.  The child gets a private HOME and XDG
 * directories so no user configuration is read.  Exit status 0, or 1
 * when a step fails.
 */
#define _GNU_SOURCE
#include "kreview/common.h"
#include "kreview/source.h"
#include "kreview/strbuf.h"

#include <fcntl.h>
#include <ftw.h>
#include <git2.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Each measurement is repeated; the best run counts (noisy machines). */
#define RUNS 5
#define THREAD_RUNS 3

struct child_result {
	double secs;
	double cpu;	/* user + system seconds */
	long maxrss_kb;
	int status;
	size_t out_bytes;
	struct strbuf out; /* first 4 KiB of stdout */
};

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Run argv with stdin from 'in_path' (NULL: /dev/null) and 'envp',
 * draining stdout; time from fork to reaping.
 */
static int run_child(struct child_result *res, char *const argv[],
		     char *const envp[], const char *in_path)
{
	struct rusage ru;
	char buf[65536];
	int fds[2], in;
	pid_t pid;
	double t0;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	strbuf_init(&res->out, 0);
	in = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0 || pipe2(fds, O_CLOEXEC) < 0) {
		perror("bench-ingest: open/pipe");
		return -1;
	}
	t0 = now_secs();
	pid = fork();
	if (pid < 0) {
		perror("bench-ingest: fork");
		return -1;
	}
	if (pid == 0) {
		dup2(in, 0);
		dup2(fds[1], 1);
		execve(argv[0], argv, envp);
		perror(argv[0]);
		_exit(127);
	}
	close(in);
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
		res->out_bytes += (size_t)n;
		if (res->out.len < 4096)
			strbuf_add(&res->out, buf, (size_t)n);
	}
	close(fds[0]);
	if (wait4(pid, &res->status, 0, &ru) < 0) {
		perror("bench-ingest: wait4");
		return -1;
	}
	res->secs = now_secs() - t0;
	res->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	res->maxrss_kb = ru.ru_maxrss;
	if (!WIFEXITED(res->status) || WEXITSTATUS(res->status)) {
		fprintf(stderr, "bench-ingest: %s failed (status 0x%x)\n",
			argv[0], res->status);
		return -1;
	}
	return 0;
}

/* Run a "kreview ingest" into a new database at 'db'. */
static int ingest_fresh(struct child_result *res, char *const args[],
			char *const envp[], const char *db)
{
	for (const char *ext = ""; ext; ext = !*ext ? "-wal" : NULL) {
		struct strbuf f = STRBUF_INIT;

		strbuf_addf(&f, "%s%s", db, ext);
		unlink(f.buf);
		strbuf_release(&f);
	}
	fflush(stdout);
	return run_child(res, args, envp, NULL);
}

/*
 * (d): an mbox of one thread of 'n' messages, each replying to one of
 * the 50 newest before it and naming the root and its 19 nearest
 * ancestors in References:, as mailers do.
 */
static int write_thread_mbox(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t *parent = xcalloc(n, sizeof(*parent));
	unsigned int seed = 1;

	if (!f) {
		perror(path);
		free(parent);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t chain[20], depth = 0;

		seed = seed * 1103515245u + 12345u;
		parent[i] = i ? i - 1 - ((seed >> 16) % (i < 50 ? i : 50)) : 0;
		fprintf(f, "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
			   "From: Dev %zu <dev%zu@example.org>\n"
			   "To: list@vger.kernel.org\n"
			   "Subject: %s[PATCH] a long discussion\n"
			   "Date: Tue, 2 Jan 2024 %02zu:%02zu:%02zu +0000\n"
			   "Message-ID: <m%zu@thread>\n",
			i % 50, i % 50, i ? "Re: " : "", i / 3600 % 24,
			i / 60 % 60, i % 60, i);
		if (i) {
			for (size_t a = parent[i]; depth < 19; a = parent[a]) {
				chain[depth++] = a;
				if (!a)
					break;
			}
			fprintf(f, "In-Reply-To: <m%zu@thread>\nReferences:",
				parent[i]);
			if (chain[depth - 1])
				fputs(" <m0@thread>", f);
			while (depth)
				fprintf(f, " <m%zu@thread>", chain[--depth]);
			fputc('\n', f);
		}
		fprintf(f, "\nMessage %zu of the thread.\n\n", i);
	}
	free(parent);
	return fclose(f) ? -1 : 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static const char *find_git(void)
{
	static const char *const paths[] = { "/usr/bin/git",
					     "/usr/local/bin/git", "/bin/git" };

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (!access(paths[i], X_OK))
			return paths[i];
	return NULL;
}

/* (a) every message through the source API. */
static int bench_source(const char *epoch, size_t *msgs, size_t *bytes,
			double *secs)
{
	struct strbuf err = STRBUF_INIT;
	struct source *s = NULL;
	struct source_msg m;
	double t0 = now_secs();
	int r;

	*msgs = *bytes = 0;
	r = source_open(&s, SOURCE_INBOX, epoch, NULL, NULL, &err);
	if (r < 0)
		goto out;
	for (;;) {
		strbuf_reset(&err);
		r = source_next(s, &m, &err);
		if (r == 0)
			break;
		if (r == -E2BIG || r == -EPROTO)
			continue;
		if (r < 0)
			goto out;
		(*msgs)++;
		*bytes += m.len;
	}
	*secs = now_secs() - t0;
out:
	if (r < 0)
		fprintf(stderr, "bench-ingest: reading '%s': %s\n", epoch,
			err.buf);
	source_free(s);
	strbuf_release(&err);
	return r;
}

/* The blob ids of the "m" entries, one per line, into 'list_path'. */
static int list_blobs(const char *git, const char *epoch,
		      const char *list_path, size_t *nr)
{
	struct strbuf cmd = STRBUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *in, *out;
	int r = 0;

	*nr = 0;
	strbuf_addf(&cmd, "'%s' --git-dir='%s' rev-list --objects refs/heads/master",
		    git, epoch);
	in = popen(cmd.buf, "r");
	out = fopen(list_path, "w");
	if (!in || !out) {
		perror("bench-ingest: rev-list");
		r = -1;
		goto out;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		/* "<oid> m\n" for blobs; commits and the root tree have no path */
		if (n > 3 && !strcmp(line + n - 3, " m\n")) {
			fwrite(line, 1, (size_t)n - 3, out);
			fputc('\n', out);
			(*nr)++;
		}
	}
out:
	if (in && pclose(in) != 0)
		r = -1;
	if (out)
		fclose(out);
	free(line);
	strbuf_release(&cmd);
	return r;
}

static double rate(size_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0;
}

int main(int argc, char **argv)
{
	struct child_result ingest = { 0 }, cat = { 0 };
	struct strbuf tmp = STRBUF_INIT, db = STRBUF_INIT, list = STRBUF_INIT;
	struct strbuf env_home = STRBUF_INIT, env_cfg = STRBUF_INIT,
		      env_state = STRBUF_INIT, env_data = STRBUF_INIT;
	size_t a_msgs = 0, a_bytes = 0, blobs = 0;
	double a_secs = 0;
	struct rusage self;
	char tmpl[] = "/tmp/bench-ingest-XXXXXX";
	const char *git;
	char *epoch;
	int ret = 1;

	if (argc != 3) {
		fputs("usage: bench-ingest EPOCH_DIR KREVIEW_BINARY\n"
		      "  EPOCH_DIR: a public-inbox epoch, e.g. built with\n"
		      "  xz -dc io-uring-2024H1.mbox.xz | <build>/tests/mkinbox - EPOCH_DIR\n",
		      stderr);
		return 2;
	}
	epoch = realpath(argv[1], NULL);
	if (!epoch || access(argv[2], X_OK)) {
		fprintf(stderr, "bench-ingest: '%s' or '%s' not usable\n",
			argv[1], argv[2]);
		return 1;
	}
	git = find_git();
	if (!git) {
		fputs("bench-ingest: git not found\n", stderr);
		return 1;
	}
	if (!mkdtemp(tmpl)) {
		perror("bench-ingest: mkdtemp");
		return 1;
	}
	strbuf_addstr(&tmp, tmpl);
	strbuf_addf(&db, "%s/kreview.db", tmp.buf);
	strbuf_addf(&list, "%s/blobs.txt", tmp.buf);
	strbuf_addf(&env_home, "HOME=%s", tmp.buf);
	strbuf_addf(&env_cfg, "XDG_CONFIG_HOME=%s/config", tmp.buf);
	strbuf_addf(&env_state, "XDG_STATE_HOME=%s/state", tmp.buf);
	strbuf_addf(&env_data, "XDG_DATA_HOME=%s/data", tmp.buf);

	git_libgit2_init();
	/* as kreview does (main.c), and git: no re-hashing of objects read */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* (a) */
	for (int i = 0; i < RUNS; i++) {
		double secs;

		if (bench_source(epoch, &a_msgs, &a_bytes, &secs) < 0)
			goto out;
		if (!i || secs < a_secs)
			a_secs = secs;
	}
	getrusage(RUSAGE_SELF, &self);

	/* (b), each run into a new database */
	for (int i = 0; i < RUNS; i++) {
		char *args[] = { argv[2], (char *)"ingest", (char *)"--db",
				 db.buf, (char *)"--public-inbox", epoch, NULL };
		char *envp[] = { env_home.buf, env_cfg.buf, env_state.buf,
				 env_data.buf, (char *)"PATH=/usr/bin:/bin",
				 NULL };
		struct child_result run = { 0 };

		if (ingest_fresh(&run, args, envp, db.buf) < 0)
			goto out;
		if (!i || run.secs < ingest.secs) {
			strbuf_release(&ingest.out);
			ingest = run;
		} else {
			strbuf_release(&run.out);
		}
	}

	/* (c) */
	if (list_blobs(git, epoch, list.buf, &blobs) < 0)
		goto out;
	{
		struct strbuf gd = STRBUF_INIT;
		char *envp[] = { env_home.buf, (char *)"PATH=/usr/bin:/bin",
				 NULL };
		char *args[] = { (char *)git, NULL, (char *)"cat-file",
				 (char *)"--batch", NULL };
		int r = 0;

		strbuf_addf(&gd, "--git-dir=%s", epoch);
		args[1] = gd.buf;
		for (int i = 0; i < RUNS && r >= 0; i++) {
			struct child_result run = { 0 };

			r = run_child(&run, args, envp, list.buf);
			if (r >= 0 && (!i || run.secs < cat.secs)) {
				strbuf_release(&cat.out);
				cat = run;
			} else {
				strbuf_release(&run.out);
			}
		}
		strbuf_release(&gd);
		if (r < 0)
			goto out;
	}

	printf("epoch: %s (best of %d runs each)\n", epoch, RUNS);
	printf("(a) source API:    %6zu messages, %7.1f MB in %7.3f s: %9.0f msg/s, peak RSS %.1f MB (this process)\n",
	       a_msgs, (double)a_bytes / 1e6, a_secs, rate(a_msgs, a_secs),
	       (double)self.ru_maxrss / 1024.0);
	printf("(b) kreview ingest: %6zu messages               in %7.3f s: %9.0f msg/s, peak RSS %.1f MB, CPU %.3f s\n",
	       a_msgs, ingest.secs, rate(a_msgs, ingest.secs),
	       (double)ingest.maxrss_kb / 1024.0, ingest.cpu);
	printf("    kreview said: %s", ingest.out.len ? ingest.out.buf : "(nothing)\n");
	printf("(c) git cat-file:  %6zu blobs,    %7.1f MB in %7.3f s: %9.0f msg/s, peak RSS %.1f MB\n",
	       blobs, (double)cat.out_bytes / 1e6, cat.secs,
	       rate(blobs, cat.secs), (double)cat.maxrss_kb / 1024.0);
	printf("ratio ingest/raw (b/a): %.1fx   ingest/git (b/c): %.1fx   raw/git (a/c): %.1fx\n",
	       a_secs > 0 ? ingest.secs / a_secs : 0,
	       cat.secs > 0 ? ingest.secs / cat.secs : 0,
	       cat.secs > 0 ? a_secs / cat.secs : 0);
	{
		struct stat st;

		if (!stat(db.buf, &st))
			printf("database: %.1f MB\n", (double)st.st_size / 1e6);
	}

	/* (d) threading cost must not grow with the thread */
	for (size_t n = 2500; n <= 10000; n *= 2) {
		struct strbuf mbox = STRBUF_INIT;
		char *args[] = { argv[2], (char *)"ingest", (char *)"--db",
				 db.buf, (char *)"--mbox", NULL, NULL };
		char *envp[] = { env_home.buf, env_cfg.buf, env_state.buf,
				 env_data.buf, (char *)"PATH=/usr/bin:/bin",
				 NULL };
		struct child_result best = { 0 };
		int r = 0;

		strbuf_addf(&mbox, "%s/thread.mbox", tmp.buf);
		args[5] = mbox.buf;
		r = write_thread_mbox(mbox.buf, n);
		for (int i = 0; i < THREAD_RUNS && r >= 0; i++) {
			struct child_result run = { 0 };

			r = ingest_fresh(&run, args, envp, db.buf);
			if (r >= 0 && (!i || run.secs < best.secs))
				best.secs = run.secs;
			strbuf_release(&run.out);
		}
		unlink(mbox.buf);
		strbuf_release(&mbox);
		if (r < 0)
			goto out;
		printf("(d) one thread of %5zu messages (mbox): %6.3f s, %5.0f us/message\n",
		       n, best.secs, best.secs * 1e6 / (double)n);
	}
	ret = 0;
out:
	git_libgit2_shutdown();
	/* the temporary directory: database, WAL, blob list, XDG dirs */
	if (!strncmp(tmp.buf, "/tmp/bench-ingest-", 18))
		nftw(tmp.buf, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	strbuf_release(&ingest.out);
	strbuf_release(&cat.out);
	strbuf_release(&tmp);
	strbuf_release(&db);
	strbuf_release(&list);
	strbuf_release(&env_home);
	strbuf_release(&env_cfg);
	strbuf_release(&env_state);
	strbuf_release(&env_data);
	free(epoch);
	return ret;
}
