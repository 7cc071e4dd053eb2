/*
 * bench-llm: N requests against the mock server (scenario "bench",
 * 200 ms latency) at concurrency C; prints wall time against the ideal
 * N/C x 0.2 s, CPU time per request and peak RSS.
 *
 * Usage: bench-llm MOCKLLM_BINARY [N [C [stream]]]
 * With "stream" the answers come as SSE streams (openai dialect).
 */
#include "kreview/common.h"
#include "kreview/llm.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned ok, failed;

static void on_done(struct llm_result *r, void *data)
{
	(void)data;
	if (r->ret == 0)
		ok++;
	else
		failed++;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/bench-llm-XXXXXX", port_file[64], url[64];
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000;
	unsigned conc = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 32;
	struct llm_request req = LLM_REQUEST_INIT;
	struct llm_endpoint ep = { 0 };
	struct llm_engine *e;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct rusage ru;
	int64_t t0, wall;
	int port = 0;
	pid_t pid;
	double cpu, ideal;

	if (argc < 2 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: bench-llm MOCKLLM [N [CONCURRENCY]]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(port_file, sizeof(port_file), "%s/port", dir);
	pid = fork();
	if (pid == 0) {
		execl(argv[1], "mockllm", "--dir", KREVIEW_SRCDIR "/tests/mockllm",
		      "--port-file", port_file, (char *)NULL);
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
	if (!port) {
		fprintf(stderr, "mock did not start\n");
		return 1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", port);
	ep.name = (char *)"mock";
	ep.dialect = LLM_DIALECT_OPENAI;
	ep.url = url;
	ep.model = (char *)"bench";
	ep.concurrency = conc;
	if (argc > 4 && !strcmp(argv[4], "stream"))
		ep.stream = LLM_STREAM_ON;
	llm_request_add_system(&req, "You review kernel patches.", true);
	llm_request_add_user_text(&req, "Say hello.");
	if (llm_engine_new(&e, NULL, &err) ||
	    llm_engine_add_endpoint(e, &ep, &err)) {
		fprintf(stderr, "%s\n", err.buf);
		return 1;
	}
	t0 = time_mono_ms();
	for (unsigned i = 0; i < n; i++)
		if (llm_engine_submit(e, "mock", &req, on_done, NULL, &err)) {
			fprintf(stderr, "%s\n", err.buf);
			return 1;
		}
	llm_engine_run(e);
	wall = time_mono_ms() - t0;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	ideal = (double)n / conc * 0.2;
	if ((double)n / conc != (double)(n / conc))
		ideal = (double)(n / conc + 1) * 0.2;
	printf("requests %u ok %u failed %u concurrency %u\n", n, ok, failed,
	       conc);
	printf("wall %.3f s, ideal %.3f s, ratio %.3f\n", wall / 1000.0, ideal,
	       wall / 1000.0 / ideal);
	printf("cpu %.1f us/request, peak rss %ld KiB\n", cpu * 1e6 / n,
	       ru.ru_maxrss);
	llm_engine_free(e);
	llm_request_release(&req);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(port_file);
	rmdir(dir);
	strbuf_release(&err);
	strbuf_release(&sb);
	return failed ? 1 : 0;
}
