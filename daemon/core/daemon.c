/* The daemon's configuration section, sd_notify, lock and clock. */
#include "kreview/daemon.h"
#include "kreview/strbuf.h"
#include "kreview/yamlnode.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- configuration ----------------------------------------------------- */

const char *const daemon_source_kind_names[] = {
	"mbox", "maildir", "public-inbox", "notmuch", NULL,
};

const struct config_field daemon_source_fields[] = {
	{CONFIG_F_ENUM(struct daemon_source, kind, "kind",
		       daemon_source_kind_names),
	 .required = true,
	 .doc = "mbox, maildir, public-inbox (one epoch) or notmuch"},
	{CONFIG_F_STRING(struct daemon_source, path, "path"), .required = true,
	 .doc = "the file, directory, epoch or notmuch database"},
	{CONFIG_F_STRING(struct daemon_source, query, "query"),
	 .doc = "notmuch query (required for notmuch)"},
	{CONFIG_F_STRING(struct daemon_source, list, "list"), .required = true,
	 .doc = "list name: budgets, status and priorities group by it"},
	{CONFIG_F_INT(struct daemon_source, priority, "priority"), .min = 0,
	 .max = 100, .def_int = 50,
	 .doc = "lower is reviewed first (local submissions: 0)"},
	{CONFIG_F_DURATION(struct daemon_source, poll_interval_ms,
			   "poll_interval"),
	 .min = 0, .max = 7 * 24 * 3600 * 1000LL,
	 .doc = "how often to read it (default: the section's)"},
	{CONFIG_F_BOOL(struct daemon_source, tag, "tag"), .def_bool = true,
	 .doc = "notmuch: tag reviewed messages kreview-reviewed and "
		"kreview-<severity>"},
	{CONFIG_F_INT64(struct daemon_source, tokens_per_day,
			"tokens_per_day"),
	 .min = 0, .max = INT64_MAX / 2,
	 .doc = "token budget of this list per UTC day (0: the default)"},
	{CONFIG_F_DOUBLE(struct daemon_source, cost_per_day, "cost_per_day"),
	 .dmin = 0, .dmax = 1e9,
	 .doc = "USD budget of this list per UTC day (0: the default)"},
	{NULL}};

const struct config_field daemon_config_fields[] = {
	{CONFIG_F_DURATION(struct daemon_config, poll_interval_ms,
			   "poll_interval"),
	 .min = 1000, .max = 7 * 24 * 3600 * 1000LL, .def_int = 5 * 60 * 1000,
	 .doc = "how often sources are read"},
	{CONFIG_F_INT(struct daemon_config, concurrency, "concurrency"),
	 .min = 1, .max = 64, .def_int = 2,
	 .doc = "reviews running at once"},
	{CONFIG_F_STRMAP(struct daemon_config, endpoint_concurrency,
			 "endpoint_concurrency"),
	 .doc = "endpoint name to reviews running at once on it"},
	{CONFIG_F_DURATION(struct daemon_config, lease_ms, "lease"),
	 .min = 10 * 1000, .max = 24 * 3600 * 1000LL,
	 .def_int = 30 * 60 * 1000,
	 .doc = "a running job not renewed for this long is given back"},
	{CONFIG_F_INT(struct daemon_config, max_attempts, "max_attempts"),
	 .min = 1, .max = 100, .def_int = 5,
	 .doc = "failed reviews of a revision before it is given up"},
	{CONFIG_F_DURATION(struct daemon_config, retry_backoff_ms,
			   "retry_backoff"),
	 .min = 1000, .max = 24 * 3600 * 1000LL, .def_int = 5 * 60 * 1000,
	 .doc = "wait after a failed review, doubled per attempt"},
	{CONFIG_F_DURATION(struct daemon_config, drain_timeout_ms,
			   "drain_timeout"),
	 .min = 0, .max = 3600 * 1000LL, .def_int = 60 * 1000,
	 .doc = "on SIGTERM, how long running reviews may finish"},
	{CONFIG_F_STRING(struct daemon_config, tree, "tree"),
	 .doc = "git tree for code context (default: diff alone)"},
	{CONFIG_F_STRING(struct daemon_config, lock_file, "lock_file"),
	 .doc = "instance lock (default: <state_dir>/daemon.lock)"},
	{CONFIG_F_INT64(struct daemon_config, tokens_per_day,
			"tokens_per_day"),
	 .min = 0, .max = INT64_MAX / 2,
	 .doc = "default token budget per list and UTC day (0: none)"},
	{CONFIG_F_DOUBLE(struct daemon_config, cost_per_day, "cost_per_day"),
	 .dmin = 0, .dmax = 1e9,
	 .doc = "default USD budget per list and UTC day (0: none)"},
	{CONFIG_F_SEQUENCE(struct daemon_config, sources, "sources",
			   daemon_source_fields, struct daemon_source),
	 .doc = "where mail is read from"},
	{NULL}};

static const struct yamlnode *child(const struct yamlnode *map,
				    const char *key)
{
	return map && map->kind == YAMLNODE_MAPPING ? yamlnode_map_get(map, key) :
						      NULL;
}

static int check(struct daemon_config *dc, const struct yamlnode *node,
		 struct strbuf *err)
{
	const struct yamlnode *srcs = child(node, "sources");
	const struct daemon_source *s = dc->sources.items;
	int ret = 0;

	for (size_t i = 0; i < dc->endpoint_concurrency.nr; i++) {
		int n;

		if (parse_int(&n, dc->endpoint_concurrency.values[i], 1,
			      64) < 0) {
			yamlnode_error(err, child(node, "endpoint_concurrency"),
				       "endpoint_concurrency: '%s' wants 1..64, not '%s'",
				       dc->endpoint_concurrency.keys[i],
				       dc->endpoint_concurrency.values[i]);
			ret = -EINVAL;
		}
	}
	for (size_t i = 0; i < dc->sources.nr; i++) {
		const struct yamlnode *at =
			srcs && srcs->kind == YAMLNODE_SEQUENCE &&
					i < srcs->nr ?
				srcs->items[i] :
				node;

		if (s[i].kind == DAEMON_SRC_NOTMUCH && !s[i].query) {
			yamlnode_error(err, at,
				       "a notmuch source needs a 'query'");
			ret = -EINVAL;
		}
		if (s[i].kind != DAEMON_SRC_NOTMUCH && s[i].query) {
			yamlnode_error(err, at,
				       "'query' is only for notmuch sources");
			ret = -EINVAL;
		}
		if (s[i].path && s[i].path[0] != '/') {
			yamlnode_error(err, at, "'%s' is not an absolute path",
				       s[i].path);
			ret = -EINVAL;
		}
	}
	if (dc->tree && dc->tree[0] != '/') {
		yamlnode_error(err, child(node, "tree"),
			       "'%s' is not an absolute path", dc->tree);
		ret = -EINVAL;
	}
	if (dc->lock_file && dc->lock_file[0] != '/') {
		yamlnode_error(err, child(node, "lock_file"),
			       "'%s' is not an absolute path", dc->lock_file);
		ret = -EINVAL;
	}
	return ret;
}

int daemon_config_parse(void *field, const struct yamlnode *node,
			struct strbuf *err)
{
	struct daemon_config **pc = field;
	struct daemon_config *dc = xcalloc(1, sizeof(*dc));
	int ret;

	*pc = dc;
	ret = config_bind(dc, daemon_config_fields, node, err);
	if (ret < 0)
		return ret;
	return check(dc, node, err);
}

void daemon_config_release(void *field)
{
	struct daemon_config **pc = field;

	if (!*pc)
		return;
	config_release(*pc, daemon_config_fields);
	free(*pc);
	*pc = NULL;
}

const struct daemon_source *daemon_config_list(const struct daemon_config *dc,
					       const char *list)
{
	const struct daemon_source *s = dc->sources.items;

	for (size_t i = 0; list && i < dc->sources.nr; i++)
		if (!strcmp(s[i].list, list))
			return &s[i];
	return NULL;
}

int daemon_config_endpoint_limit(const struct daemon_config *dc,
				 const char *endpoint)
{
	const char *v = endpoint ?
				config_strmap_get(&dc->endpoint_concurrency,
						  endpoint) :
				NULL;
	int n;

	if (v && parse_int(&n, v, 1, 64) == 0)
		return n;
	return dc->concurrency;
}

/* ---- sd_notify ----------------------------------------------------------- */

int daemon_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	size_t len;
	ssize_t n;
	int fd, ret = 0;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
			    (path[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (const struct sockaddr *)&sa, salen);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(state))
		ret = -EPROTO;
	close(fd);
	return ret;
}

int daemon_notifyf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int r;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	r = daemon_notify(sb.buf);
	strbuf_release(&sb);
	return r;
}

/* ---- lock ---------------------------------------------------------------- */

static void mkdir_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
		mkdir(dir, 0700);
	}
	free(dir);
}

int daemon_lock(int *fd_out, const char *path, struct strbuf *err)
{
	struct strbuf pid = STRBUF_INIT;
	int fd, ret;

	mkdir_parent(path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		strbuf_addf(err, "cannot open the lock '%s': %s", path,
			    strerror(errno));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = -errno;
		if (ret == -EWOULDBLOCK) {
			strbuf_read_fd(&pid, fd, 64);
			strbuf_trim(&pid);
			strbuf_addf(err, "another kreview daemon (pid %s) holds '%s'",
				    pid.len ? pid.buf : "unknown", path);
		} else {
			strbuf_addf(err, "cannot lock '%s': %s", path,
				    strerror(-ret));
		}
		strbuf_release(&pid);
		close(fd);
		return ret;
	}
	/* the pid is only for the message above; the lock is the flock */
	strbuf_addf(&pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 &&
	    pwrite(fd, pid.buf, pid.len, 0) != (ssize_t)pid.len) {
		/* a missing pid in the file only weakens a message */
	}
	strbuf_release(&pid);
	*fd_out = fd;
	return 0;
}

/* ---- clock --------------------------------------------------------------- */

int64_t daemon_now_ms(void)
{
	static int64_t base_ms = -1, mono0;
	const char *v;

	if (base_ms == -1) {
		int64_t t;

		v = getenv("KREVIEW_TEST_NOW_MS");
		if (v && parse_int64(&t, v, 10) == 0 && t >= 0) {
			base_ms = t;
			mono0 = time_mono_ms();
		} else {
			base_ms = -2;
		}
	}
	if (base_ms >= 0)
		return base_ms + (time_mono_ms() - mono0);
	return time_now_ms();
}
