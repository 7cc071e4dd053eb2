/*
 * bench-review: the whole review pipeline on a synthetic 25-patch
 * series against the mock LLM at a fixed latency.
 *
 *   bench-review MOCKLLM [PATCHES [PASSES [CONCURRENCY [LATENCY_MS]]]]
 *
 * Defaults: 25 patches, 3 passes, concurrency 8, 200 ms.  A kernel-like
 * repository (a driver, mm, net, locking, fs and a MAINTAINERS file
 * mapping them to kreview's subsystem rule files) is made with git in a
 * temporary directory, one commit per patch; the series goes through
 * the same steps as "kreview check": format-patch, series assembly,
 * in-memory apply, code context, subsystem rules, then review_run()
 * with the shipped prompts (prompts/) in the deep profile, so every
 * stage whose triggers fire runs.  The mock answers every request with
 * an empty findings list after LATENCY_MS (so no verification).
 *
 * Printed: requests and wall time against the latency floor
 * requests x latency / concurrency (target <= 1.15x); input tokens per
 * patch (request bytes / 4, the engine's estimate: the mock's usage
 * figures are scripted); the share of a patch's request bytes that is
 * the longest prefix common to all its requests (target >= 80%), and
 * the share a provider cache could serve (every request but the
 * first); peak RSS of this process.  The prefix figures come from the
 * mock's request log, i.e. from the bytes actually sent.
 */
#include <curl/curl.h>
#include <git2.h>
#include <gmime/gmime.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kreview/fromgit.h"
#include "kreview/llm.h"
#include "kreview/maint.h"
#include "kreview/prompt.h"
#include "kreview/review.h"
#include "kreview/revinput.h"
#include "kreview/strbuf.h"
#include "kreview/subsys.h"

#define NFILES 5
#define NFUNCS 12

static const struct {
	const char *path, *prefix, *change;
} files[NFILES] = {
	{ "drivers/net/ethernet/acme/acme_main.c", "acme_nic",
	  "\tval = readl(dev->regs + 0x10);\n"
	  "\tdma_wmb();\n"
	  "\twritel(val | 1, dev->regs + 0x14);\n" },
	{ "mm/acme_pool.c", "acme_pool",
	  "\tp = kmalloc(sizeof(int) * 16, GFP_KERNEL);\n"
	  "\tif (!p)\n"
	  "\t\treturn -ENOMEM;\n"
	  "\tkfree(p);\n" },
	{ "net/core/acme_sock.c", "acme_sock",
	  "\tif (copy_from_user(&val, uptr, sizeof(val)))\n"
	  "\t\treturn -EFAULT;\n" },
	{ "kernel/locking/acme_lock.c", "acme_lock",
	  "\tspin_lock(&dev->lock);\n"
	  "\tcount++;\n"
	  "\tspin_unlock(&dev->lock);\n" },
	{ "fs/acme/file.c", "acme_file",
	  "\tmutex_lock(&dev->mutex);\n"
	  "\tval += dev->size;\n"
	  "\tmutex_unlock(&dev->mutex);\n" },
};

static const char maintainers[] =
	"NETWORKING DRIVERS\n"
	"M:\tA Dev <a@example.org>\n"
	"S:\tMaintained\n"
	"F:\tdrivers/net/\n\n"
	"NETWORKING [GENERAL]\n"
	"M:\tA Dev <a@example.org>\n"
	"S:\tMaintained\n"
	"F:\tnet/\n\n"
	"MEMORY MANAGEMENT\n"
	"M:\tA Dev <a@example.org>\n"
	"S:\tMaintained\n"
	"F:\tmm/\n\n"
	"LOCKING PRIMITIVES\n"
	"M:\tA Dev <a@example.org>\n"
	"S:\tMaintained\n"
	"F:\tkernel/locking/\n\n"
	"FILESYSTEMS (VFS and infrastructure)\n"
	"M:\tA Dev <a@example.org>\n"
	"S:\tMaintained\n"
	"F:\tfs/\n";

/* extra lines added to function f of file i by the patches so far */
static struct strbuf extra[NFILES][NFUNCS];

/*
 * A kernel-shaped file: a device struct, static helpers and NFUNCS
 * operations of about 60 lines that call the helpers, so that the code
 * context of a patch (enclosing function, referenced definitions) has
 * the size it has on real drivers.
 */
static void gen_file(struct strbuf *sb, size_t i)
{
	const char *px = files[i].prefix;

	strbuf_addf(sb, "// SPDX-License-Identifier: GPL-2.0\n"
			"#include <linux/kernel.h>\n#include <linux/slab.h>\n\n"
			"struct %s_dev {\n\tvoid __iomem *regs;\n"
			"\tspinlock_t lock;\n\tstruct mutex mutex;\n"
			"\tstruct list_head queue;\n\tunsigned long flags;\n"
			"\tu32 ring_size, head, tail;\n\tint size;\n};\n\n",
		    px);
	for (int h = 0; h < 6; h++)
		strbuf_addf(sb, "static inline u32 %s_ring_%d(struct %s_dev *dev, u32 idx)\n"
				"{\n\tu32 next = (idx + %d) %% dev->ring_size;\n\n"
				"\tif (next == dev->tail)\n\t\treturn dev->head;\n"
				"\tdev->flags |= BIT(%d);\n\treturn next;\n}\n\n",
			    px, h, px, h + 1, h);
	for (size_t f = 0; f < NFUNCS; f++) {
		strbuf_addf(sb, "static int %s_op%zu(struct %s_dev *dev,"
				" void __user *uptr)\n{\n"
				"\tint val = 0, count = 0;\n\tvoid *p = NULL;\n"
				"\tu32 idx = dev->head;\n\n",
			    px, f, px);
		for (int k = 0; k < 12; k++)
			strbuf_addf(sb, "\tidx = %s_ring_%d(dev, idx);\n"
					"\tif (idx == dev->tail) {\n"
					"\t\tcount += %d;\n\t\tbreak;\n\t}\n",
				    px, (int)((f + (size_t)k) % 6), k + 1);
		strbuf_addbuf(sb, &extra[i][f]);
		strbuf_addstr(sb, "\t(void)p;\n\t(void)uptr;\n"
				  "\treturn val + count;\n}\n\n");
	}
}

static void run(const char *dir, const char *cmd)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "cd '%s' && %s", dir, cmd);
	if (system(sb.buf) != 0)
		die("failed: %s", sb.buf);
	strbuf_release(&sb);
}

static void write_all(const char *dir, bool first)
{
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;

	for (size_t i = 0; i < NFILES; i++) {
		FILE *f;

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir, files[i].path);
		if (first) {
			struct strbuf mk = STRBUF_INIT;

			strbuf_addf(&mk, "mkdir -p \"$(dirname '%s')\"", path.buf);
			if (system(mk.buf) != 0)
				die("mkdir failed");
			strbuf_release(&mk);
		}
		strbuf_reset(&sb);
		gen_file(&sb, i);
		f = fopen(path.buf, "w");
		if (!f || fwrite(sb.buf, 1, sb.len, f) != sb.len || fclose(f))
			die("cannot write %s", path.buf);
	}
	strbuf_release(&path);
	strbuf_release(&sb);
}

static void make_repo(const char *dir, unsigned patches)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *f;

	setenv("GIT_AUTHOR_NAME", "A Dev", 1);
	setenv("GIT_AUTHOR_EMAIL", "a@example.org", 1);
	setenv("GIT_COMMITTER_NAME", "A Dev", 1);
	setenv("GIT_COMMITTER_EMAIL", "a@example.org", 1);
	for (size_t i = 0; i < NFILES; i++)
		for (size_t k = 0; k < NFUNCS; k++)
			strbuf_init(&extra[i][k], 0);
	run(dir, "git init -q -b main .");
	write_all(dir, true);
	strbuf_addf(&sb, "%s/MAINTAINERS", dir);
	f = fopen(sb.buf, "w");
	if (!f || fputs(maintainers, f) < 0 || fclose(f))
		die("cannot write MAINTAINERS");
	run(dir, "git add -A && git commit -q -m base && git tag base");
	for (unsigned n = 1; n <= patches; n++) {
		size_t i = n % NFILES, fn = (n * 7) % NFUNCS;

		/* like real patches, the change uses the file's helpers */
		strbuf_addf(&extra[i][fn], "\t/* change %u */\n%s"
				"\tidx = %s_ring_%u(dev, idx);\n"
				"\tidx = %s_ring_%u(dev, idx);\n",
			    n, files[i].change, files[i].prefix, n % 6,
			    files[i].prefix, (n + 3) % 6);
		write_all(dir, false);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "git commit -q -a -m '%s: rework op%zu (%u/%u)'"
				 " -m 'The operation now does more work; this"
				 " is patch %u of a synthetic series.'"
				 " -m 'Signed-off-by: A Dev <a@example.org>'",
			    files[i].prefix, fn, n, patches, n);
		run(dir, sb.buf);
	}
	strbuf_release(&sb);
}

static void write_scenario(const char *dir, unsigned latency)
{
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&path, "mkdir -p '%s/scen/review'", dir);
	if (system(path.buf) != 0)
		die("mkdir failed");
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/scen/review/any.1", dir);
	strbuf_addf(&sb, "delay %u\n--\n{\"id\": \"b\", \"object\":"
			 " \"chat.completion\", \"model\": \"review\","
			 " \"choices\": [{\"index\": 0, \"finish_reason\":"
			 " \"stop\", \"message\": {\"role\": \"assistant\","
			 " \"content\": \"{\\\"findings\\\": []}\"}}],"
			 " \"usage\": {\"prompt_tokens\": 1000,"
			 " \"completion_tokens\": 10}}\n",
		    latency);
	f = fopen(path.buf, "w");
	if (!f || fwrite(sb.buf, 1, sb.len, f) != sb.len || fclose(f))
		die("cannot write %s", path.buf);
	strbuf_release(&path);
	strbuf_release(&sb);
}

static int start_mock(pid_t *pid_out, const char *mock, const char *dir)
{
	char scen[512], port_file[512], log[512];
	struct strbuf sb = STRBUF_INIT;
	int port = 0;
	pid_t pid;

	snprintf(scen, sizeof(scen), "%s/scen", dir);
	snprintf(port_file, sizeof(port_file), "%s/port", dir);
	snprintf(log, sizeof(log), "%s/mock.log", dir);
	pid = fork();
	if (pid == 0) {
		/* never outlive the bench, even when it dies */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(mock, "mockllm", "--dir", scen, "--port-file", port_file,
		      "--log", log, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !port; i++) {
		strbuf_reset(&sb);
		if (strbuf_read_file(&sb, port_file, 64) == 0) {
			strbuf_trim(&sb);
			parse_int(&port, sb.buf, 1, 65535);
		} else {
			usleep(10000);
		}
	}
	strbuf_release(&sb);
	*pid_out = pid;
	return port;
}

static void build_series(struct review_series *s, git_repository *repo,
			 struct subsys_set *rules, git_oid *base)
{
	struct fromgit_series fg = FROMGIT_SERIES_INIT;
	struct revinput_msg *msgs;
	struct maint *maint = NULL;
	struct strbuf err = STRBUF_INIT;

	if (fromgit_range(&fg, repo, "base..main", &err) < 0)
		die("from git: %s", err.buf);
	msgs = xcalloc(fg.nr, sizeof(*msgs));
	for (size_t i = 0; i < fg.nr; i++) {
		msgs[i].data = fg.patches[i].raw;
		msgs[i].len = fg.patches[i].len;
	}
	if (revinput_from_messages(s, msgs, fg.nr, &err) < 0)
		die("series: %s", err.buf);
	if (git_oid_fromstr(base, fg.base) < 0)
		die("bad base");
	if (revinput_attach_tree(s, repo, base, 0, &err) < 0)
		die("apply: %s", err.buf);
	if (revinput_tree_maintainers(&maint, repo, base, &err) < 0)
		die("MAINTAINERS: %s", err.buf);
	revinput_attach_rules(s, maint, rules);
	maint_free(maint);
	free(msgs);
	fromgit_series_release(&fg);
	strbuf_release(&err);
}

/* The decimal number at 's' (followed by anything): 0 or -EINVAL. */
static int leading_uint(unsigned *out, const char *s)
{
	unsigned v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9' && n < 9) {
		v = v * 10 + (unsigned)(*s++ - '0');
		n++;
	}
	if (!n)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Where the bytes of one request body go. */
static void print_composition(const char *body, size_t len)
{
	struct json_object *o = json_tokener_parse(body), *msgs, *v;
	size_t counted = 0;

	if (!o || !json_object_object_get_ex(o, "messages", &msgs))
		return;
	printf("one request, %zu bytes:", len);
	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		struct json_object *m = json_object_array_get_idx(msgs, i), *c;

		if (json_object_object_get_ex(m, "content", &c)) {
			size_t n = (size_t)json_object_get_string_len(c);

			printf(" message %zu %zu,", i, n);
			counted += n;
		}
	}
	if (json_object_object_get_ex(o, "tools", &v))
		printf(" tools %zu,", strlen(json_object_to_json_string(v)));
	if (json_object_object_get_ex(o, "response_format", &v))
		printf(" schema %zu,", strlen(json_object_to_json_string(v)));
	printf(" other %zu\n", len > counted ? len - counted : 0);
	json_object_put(o);
}

struct patch_bytes {
	struct strbuf first;	/* the first body seen */
	size_t lcp;		/* common prefix of all bodies so far */
	size_t total, n;
};

/* Group the logged request bodies by patch and measure their prefix. */
static void analyse_log(const char *path, size_t nr_patches,
			unsigned *requests_out)
{
	struct patch_bytes *pb = xcalloc(nr_patches + 1, sizeof(*pb));
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, all = 0, prefix = 0, cacheable = 0;
	ssize_t got;
	unsigned requests = 0;

	if (!f)
		die("no mock log");
	for (size_t i = 0; i <= nr_patches; i++)
		strbuf_init(&pb[i].first, 0);
	while ((got = getline(&line, &cap, f)) > 0) {
		struct json_object *o = json_tokener_parse(line), *b;
		const char *body, *at;
		size_t len, k = 0;
		unsigned p;

		if (!o || !json_object_object_get_ex(o, "body", &b))
			die("bad log line");
		body = json_object_get_string(b);
		len = (size_t)json_object_get_string_len(b);
		at = strstr(body, "You review patch ");
		if (!at || leading_uint(&p, at + 17) < 0 || !p ||
		    p > nr_patches)
			die("request without a patch number");
		requests++;
		if (requests == 1)
			print_composition(body, len);
		if (!pb[p].n) {
			strbuf_add(&pb[p].first, body, len);
			pb[p].lcp = len;
		} else {
			while (k < pb[p].lcp && k < len &&
			       pb[p].first.buf[k] == body[k])
				k++;
			pb[p].lcp = k;
		}
		pb[p].total += len;
		pb[p].n++;
		json_object_put(o);
	}
	free(line);
	fclose(f);
	printf("\nper patch: requests, bytes sent, common prefix, ~input tokens\n");
	for (size_t p = 1; p <= nr_patches; p++) {
		all += pb[p].total;
		prefix += pb[p].lcp * pb[p].n;
		if (pb[p].n)
			cacheable += pb[p].lcp * (pb[p].n - 1);
		if (p <= 3 || p == nr_patches)
			printf("  %2zu: %2zu requests, %7zu bytes, prefix %6zu"
			       " bytes (%.1f%%), ~%zu tokens\n",
			       p, pb[p].n, pb[p].total, pb[p].lcp,
			       pb[p].total ? 100.0 * (double)(pb[p].lcp * pb[p].n) /
						     (double)pb[p].total : 0,
			       pb[p].total / 4);
		else if (p == 4)
			printf("  ...\n");
		strbuf_release(&pb[p].first);
	}
	strbuf_release(&pb[0].first);
	printf("input tokens per patch: ~%zu (request bytes / 4), %zu bytes per request\n",
	       all / 4 / (nr_patches ? nr_patches : 1),
	       requests ? all / requests : 0);
	printf("repeated prefix: %.1f%% of input bytes are the prefix common"
	       " to all requests of their patch (target >= 80%%)\n",
	       all ? 100.0 * (double)prefix / (double)all : 0);
	printf("cacheable: %.1f%% of input bytes could be served from a"
	       " prefix cache (all requests of a patch but its first)\n",
	       all ? 100.0 * (double)cacheable / (double)all : 0);
	free(pb);
	*requests_out = requests;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/bench-review-XXXXXX", url[64], logp[600];
	unsigned patches = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 25;
	unsigned passes = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 3;
	unsigned conc = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 8;
	unsigned latency = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 10) : 200;
	struct review_opts ro = REVIEW_OPTS_INIT;
	struct review_series s;
	struct review_result res;
	struct prompt_set *prompts = NULL;
	struct subsys_set *rules = NULL;
	struct llm_endpoint ep = { 0 };
	struct llm_engine *e = NULL;
	git_repository *repo = NULL;
	struct strbuf err = STRBUF_INIT;
	struct rusage ru;
	unsigned requests = 0;
	int64_t t0, wall;
	double floor_ms;
	git_oid base;
	pid_t mock;
	int port;

	if (argc < 2 || !mkdtemp(dir) || !patches || !passes || !conc ||
	    passes > 16) {
		fprintf(stderr, "usage: bench-review MOCKLLM [PATCHES [PASSES"
				" [CONCURRENCY [LATENCY_MS]]]]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	git_libgit2_init();
	g_mime_init();
	make_repo(dir, patches);
	write_scenario(dir, latency);
	port = start_mock(&mock, argv[1], dir);
	if (!port)
		die("mock did not start");
	if (git_repository_open(&repo, dir) < 0)
		die("cannot open %s", dir);
	if (prompt_set_load(&prompts, KREVIEW_SRCDIR "/prompts", &err) < 0 ||
	    subsys_set_load_dir(&rules, KREVIEW_SRCDIR "/subsystems", &err) < 0)
		die("%s", err.buf);
	review_series_init(&s);
	build_series(&s, repo, rules, &base);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", port);
	ep.name = (char *)"mock";
	ep.dialect = LLM_DIALECT_OPENAI;
	ep.url = url;
	ep.model = (char *)"review";
	ep.concurrency = conc;
	ep.max_attempts = 1;
	if (llm_engine_new(&e, NULL, &err) < 0 ||
	    llm_engine_add_endpoint(e, &ep, &err) < 0)
		die("%s", err.buf);
	ro.prompts = prompts;
	ro.profile = PROMPT_PROFILE_DEEP;
	ro.runs = (int)passes;
	ro.endpoint = "mock";
	ro.engine = e;
	ro.fence_secret = "bench-review";

	printf("bench-review: %u patches, %u passes, deep profile, prompt set"
	       " %.12s, concurrency %u, latency %u ms\n",
	       patches, passes, prompt_set_hash(prompts), conc, latency);
	review_result_init(&res);
	t0 = time_mono_ms();
	if (review_run(&res, &s, &ro, &err) < 0)
		die("review: %s", err.buf);
	wall = time_mono_ms() - t0;
	if (res.failed)
		die("%d requests failed: %s", res.failed, res.errors.buf);

	snprintf(logp, sizeof(logp), "%s/mock.log", dir);
	analyse_log(logp, s.nr, &requests);
	floor_ms = (double)requests * latency / conc;
	printf("requests: %u (%d answered, %d failed)\n", requests,
	       res.requests, res.failed);
	printf("wall: %.2f s, latency floor %.2f s (%u x %u ms / %u):"
	       " %.3fx (target <= 1.15x)\n",
	       wall / 1000.0, floor_ms / 1000.0, requests, latency, conc,
	       wall / floor_ms);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS: %.1f MiB; CPU %.2f s user, %.2f s system\n",
	       ru.ru_maxrss / 1024.0,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);

	review_result_release(&res);
	review_series_release(&s);
	llm_engine_free(e);
	prompt_set_free(prompts);
	subsys_set_free(rules);
	git_repository_free(repo);
	kill(mock, SIGTERM);
	waitpid(mock, NULL, 0);
	{
		struct strbuf rm = STRBUF_INIT;

		strbuf_addf(&rm, "rm -rf '%s'", dir);
		if (system(rm.buf) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
		strbuf_release(&rm);
	}
	strbuf_release(&err);
	git_libgit2_shutdown();
	return 0;
}
