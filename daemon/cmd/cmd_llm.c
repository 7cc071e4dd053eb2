/*
 * kreview llm: check and use the configured LLM endpoints by hand.
 *
 *   kreview llm ping [--config FILE] [NAME...]
 *   kreview llm ask [--config FILE] --endpoint NAME [--system TEXT]
 *                   [--json-schema FILE] PROMPT|-
 *
 * ping sends one tiny request to every endpoint (or the named ones) at
 * once, on one engine, without retries or fallbacks: it reports each
 * endpoint as it is.  ask runs one conversation (empty-answer re-ask,
 * schema validation with one repair) and prints the answer on stdout
 * and a usage line on stderr.  Exit status: 0 success, 1 the model
 * answered badly (refusal, invalid JSON), 2 usage or configuration
 * error, 3 an endpoint failed (unreachable, timeout, quota, auth).
 */
#include "kreview/common.h"
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/llm.h"
#include "kreview/log.h"
#include "kreview/strbuf.h"

#include <getopt.h>
#include <unistd.h>

#define EXIT_INFRA 3
#define PING_PROMPT "Reply with the single word: ok"
#define PING_MAX_TOKENS 16
#define MAX_PROMPT (16u << 20)

int cmd_llm_engine(struct llm_engine **out, struct kreview_config *cfg,
		   struct strbuf *err)
{
	struct llm_engine_opts eopts = LLM_ENGINE_OPTS_INIT;
	struct strbuf note = STRBUF_INIT;
	int r;

	/* someone waits at the terminal: an open breaker fails at once */
	eopts.fail_fast = true;
	if (!cfg->endpoints && llm_local_detect(&cfg->endpoints, &note) == 0)
		fprintf(stderr, "kreview: %s\n", note.buf);
	strbuf_release(&note);
	r = llm_engine_new(out, &eopts, err);
	if (r < 0)
		return r;
	for (size_t i = 0; cfg->endpoints && i < cfg->endpoints->nr; i++) {
		r = llm_engine_add_endpoint(*out, &cfg->endpoints->eps[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static const char usage_ping[] =
	"kreview llm ping [--config FILE] [--endpoint NAME] [NAME...]";
static const char usage_ask[] =
	"kreview llm ask [--config FILE] [--endpoint NAME] [--system TEXT]\n"
	"                [--json-schema FILE] PROMPT|-";

static void usage(FILE *f)
{
	fprintf(f, "usage: %s\n       %s\n", usage_ping, usage_ask);
}

/*
 * --config, else $KREVIEW_CONFIG, else the default search; with no
 * endpoint configured, a local server if one answers.
 */
static int load_config(struct kreview_config **out, const char *path)
{
	struct strbuf err = STRBUF_INIT;
	int ret;

	ret = config_load(out, path, &err);
	if (ret < 0) {
		strbuf_rtrim(&err);
		log_error("%s", err.len ? err.buf : "cannot load configuration");
	} else if (!(*out)->endpoints &&
		   llm_local_detect(&(*out)->endpoints, &err) == 0) {
		log_notice("%s", err.buf);
	}
	strbuf_release(&err);
	return ret;
}

static void print_usage_line(FILE *f, const char *endpoint,
			     const struct llm_usage *u, double cost,
			     int64_t ms, unsigned calls)
{
	fprintf(f,
		"usage: endpoint=%s calls=%u in=%llu cache_write=%llu "
		"cache_read=%llu out=%llu reasoning=%llu cost=$%.6f "
		"latency=%lldms\n",
		endpoint, calls, (unsigned long long)u->in_uncached,
		(unsigned long long)u->cache_write,
		(unsigned long long)u->cache_read, (unsigned long long)u->out,
		(unsigned long long)u->reasoning, cost, (long long)ms);
}

/* ---- ping ---- */

struct ping {
	const struct llm_endpoint *ep;
	bool added, done;
	int ret;
	enum llm_class cls;
	struct strbuf error;
	struct llm_usage usage;
	int64_t elapsed_ms;
	long status;
	bool truncated;
};

static void ping_done(struct llm_result *r, void *data)
{
	struct ping *p = data;

	p->done = true;
	p->ret = r->ret;
	p->cls = r->cls;
	p->usage = r->resp.usage;
	p->elapsed_ms = r->elapsed_ms;
	p->truncated = r->resp.prompt_truncated;
	if (r->nr_attempts)
		p->status = r->attempts[r->nr_attempts - 1].status;
	strbuf_addbuf(&p->error, &r->error);
}

static int ping(const struct llm_config *cfg, char **names, size_t nr_names)
{
	struct llm_request req = LLM_REQUEST_INIT;
	struct llm_engine *e = NULL;
	struct strbuf err = STRBUF_INIT;
	struct ping *p = NULL;
	size_t n = 0;
	int ret = 0, failed = 0;

	for (size_t i = 0; i < nr_names; i++) {
		if (!llm_config_find(cfg, names[i])) {
			log_error("no endpoint named '%s' in the configuration",
				  names[i]);
			return 2;
		}
	}
	p = xcalloc(cfg->nr ? cfg->nr : 1, sizeof(*p));
	for (size_t i = 0; i < cfg->nr; i++) {
		bool want = !nr_names;

		for (size_t j = 0; j < nr_names; j++)
			want |= !strcmp(names[j], cfg->eps[i].name);
		if (want) {
			p[n].ep = &cfg->eps[i];
			strbuf_init(&p[n].error, 0);
			n++;
		}
	}
	ret = llm_engine_new(&e, NULL, &err);
	if (ret < 0) {
		log_error("%s", err.buf);
		ret = EXIT_INFRA;
		goto out;
	}
	llm_request_add_user_text(&req, PING_PROMPT);
	req.max_tokens = PING_MAX_TOKENS;
	for (size_t i = 0; i < n; i++) {
		struct llm_endpoint ep = *p[i].ep;

		/* the endpoint as it is: one attempt, no fallback */
		ep.fallback = NULL;
		ep.max_attempts = 1;
		strbuf_reset(&err);
		if (llm_engine_add_endpoint(e, &ep, &err) < 0 ||
		    llm_engine_submit(e, ep.name, &req, ping_done, &p[i],
				      &err) < 0) {
			p[i].done = true;
			p[i].ret = -EINVAL;
			p[i].cls = LLM_CLASS_LOCAL;
			strbuf_addbuf(&p[i].error, &err);
			continue;
		}
		p[i].added = true;
	}
	ret = llm_engine_run(e);
	if (ret < 0) {
		log_error("llm engine failed: %s", strerror(-ret));
		ret = EXIT_INFRA;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ping *q = &p[i];
		const char *status = q->ret == 0 ? "ok" :
				     !q->added ? "config" :
						 llm_class_name(q->cls);

		printf("%-16s %-9s %-28s %-18s %6lld ms  in=%llu out=%llu\n",
		       q->ep->name, llm_dialect_name(q->ep->dialect),
		       q->ep->model, status, (long long)q->elapsed_ms,
		       (unsigned long long)(q->usage.in_uncached +
					    q->usage.cache_write +
					    q->usage.cache_read),
		       (unsigned long long)q->usage.out);
		if (q->ret < 0) {
			printf("  %s\n", q->error.buf);
			failed++;
		} else if (q->truncated) {
			printf("  warning: the server counted far fewer prompt "
			       "tokens than were sent (context cut?)\n");
		}
	}
	ret = failed ? EXIT_INFRA : 0;
out:
	for (size_t i = 0; i < n; i++)
		strbuf_release(&p[i].error);
	free(p);
	llm_engine_free(e);
	llm_request_release(&req);
	strbuf_release(&err);
	return ret;
}

/* ---- ask ---- */

static int ask(const struct llm_config *cfg, const char *endpoint,
	       const char *system, const char *schema_file, const char *prompt)
{
	struct llm_request req = LLM_REQUEST_INIT;
	const struct llm_endpoint *ep = llm_config_find(cfg, endpoint);
	struct llm_engine *e = NULL;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf schema = STRBUF_INIT;
	struct llm_conv_result a;
	int64_t t0;
	int ret;

	llm_conv_result_init(&a);
	if (!ep) {
		log_error("no endpoint named '%s' in the configuration",
			  endpoint);
		ret = 2;
		goto out;
	}
	if (!strcmp(prompt, "-")) {
		ret = strbuf_read_fd(&text, STDIN_FILENO, MAX_PROMPT);
		if (ret < 0) {
			log_error("cannot read the prompt from standard "
				  "input: %s", strerror(-ret));
			ret = 2;
			goto out;
		}
	} else {
		strbuf_addstr(&text, prompt);
	}
	if (schema_file) {
		ret = strbuf_read_file(&schema, schema_file, 1u << 20);
		if (ret < 0) {
			log_error("cannot read '%s': %s", schema_file,
				  strerror(-ret));
			ret = 2;
			goto out;
		}
		llm_request_set_schema(&req, "answer", schema.buf);
	}
	if (system)
		llm_request_add_system(&req, system, true);
	llm_request_add_user_text(&req, text.buf);

	ret = llm_engine_new(&e, NULL, &err);
	if (ret == 0)
		ret = llm_engine_add_endpoint(e, ep, &err);
	/* the fallback, if any, must be known to the engine too */
	if (ret == 0 && ep->fallback)
		ret = llm_engine_add_endpoint(e,
					      llm_config_find(cfg, ep->fallback),
					      &err);
	if (ret < 0) {
		log_error("%s", err.buf);
		ret = EXIT_INFRA;
		goto out;
	}
	t0 = time_mono_ms();
	ret = llm_conv_run(&a, e, endpoint, &req, NULL, &err);
	if (ret < 0) {
		log_error("%s", err.buf);
		ret = ret == -EIO ? EXIT_INFRA : 2;
		goto out;
	}
	if (a.ret == 0) {
		const struct strbuf *o = a.json.len ? &a.json : &a.text;

		fwrite(o->buf, 1, o->len, stdout);
		if (!o->len || o->buf[o->len - 1] != '\n')
			putchar('\n');
	}
	print_usage_line(stderr, endpoint, &a.usage, a.cost,
			 time_mono_ms() - t0, a.calls);
	if (a.ret < 0) {
		log_error("%s (%s)", a.error.buf, llm_class_name(a.cls));
		ret = a.cls == LLM_CLASS_BAD_OUTPUT ? 1 : EXIT_INFRA;
		goto out;
	}
	ret = 0;
out:
	llm_engine_free(e);
	llm_request_release(&req);
	strbuf_release(&err);
	strbuf_release(&text);
	strbuf_release(&schema);
	llm_conv_result_release(&a);
	return ret;
}

int cmd_llm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "json-schema", required_argument, NULL, 'j' },
		{ "system", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *endpoint = NULL, *schema = NULL;
	const char *system = NULL, *sub;
	struct kreview_config *cfg = NULL;
	int c, ret;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "ping") && strcmp(sub, "ask")) {
		log_error("unknown llm subcommand '%s'", sub);
		usage(stderr);
		return 2;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'e':
			endpoint = optarg;
			break;
		case 'j':
			schema = optarg;
			break;
		case 's':
			system = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind + 1;
	argv += optind + 1;
	if (!strcmp(sub, "ping") && (schema || system)) {
		log_error("ping takes no --system or --json-schema");
		fprintf(stderr, "usage: %s\n", usage_ping);
		return 2;
	}
	if (!strcmp(sub, "ask") && argc != 1) {
		fprintf(stderr, "usage: %s\n", usage_ask);
		return 2;
	}
	if (load_config(&cfg, config) < 0)
		return 2;
	if (!cfg->endpoints || !cfg->endpoints->nr) {
		log_error("no LLM endpoints configured%s%s%s",
			  cfg->path ? " in '" : "", cfg->path ? cfg->path : "",
			  cfg->path ? "'" : "");
		config_free(cfg);
		return EXIT_INFRA;
	}
	if (!strcmp(sub, "ping") && endpoint) {
		/* --endpoint NAME is one more name to ping */
		char **names = xcalloc((size_t)argc + 2, sizeof(char *));

		names[0] = (char *)endpoint;
		for (int i = 0; i < argc; i++)
			names[i + 1] = argv[i];
		ret = ping(cfg->endpoints, names, (size_t)argc + 1);
		free(names);
	} else if (!strcmp(sub, "ping")) {
		ret = ping(cfg->endpoints, argv, (size_t)argc);
	} else {
		ret = ask(cfg->endpoints,
			  endpoint ? endpoint : cfg->endpoints->eps[0].name,
			  system, schema, argv[0]);
	}
	config_free(cfg);
	return ret;
}
