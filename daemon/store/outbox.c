/* The outbox and its transports: see outbox.h. */
#define _GNU_SOURCE /* memfd_create */
#include "kreview/outbox.h"
#include "kreview/db.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bytes of a transport's error text kept in last_error. */
#define ERROR_MAX 512
/* Passwords longer than this are refused. */
#define PASSWORD_MAX 4096
/* How long an exiting sendmail child is waited for after its stdin. */
#define CHILD_POLL_MS 10

/* Configuration. */

const char *const outbox_transport_names[] = { "smtp", "sendmail", "maildir",
					       NULL };

static const char *const default_sendmail[] = { "/usr/sbin/sendmail", "-oi",
						"-t", NULL };

static int check_abs(const void *field, const struct yamlnode *node,
		     struct strbuf *err)
{
	const char *p = *(char *const *)field;

	if (p[0] == '/')
		return 0;
	yamlnode_error(err, node, "'%s' is not an absolute path", p);
	return -EINVAL;
}

static int check_smtp_url(const void *field, const struct yamlnode *node,
			  struct strbuf *err)
{
	const char *u = *(char *const *)field;

	if (skip_prefix_icase(u, "smtp://") || skip_prefix_icase(u, "smtps://"))
		return 0;
	yamlnode_error(err, node, "'%s' is not an smtp:// or smtps:// URL", u);
	return -EINVAL;
}

const struct config_field outbox_mail_fields[] = {
	{ CONFIG_F_STRING(struct outbox_mail, from, "from"),
	  .doc = "From: of kreview's mail, \"Name <address>\"" },
	{ CONFIG_F_STRING(struct outbox_mail, reply_to, "reply_to"),
	  .doc = "optional Reply-To: of kreview's mail" },
	{ CONFIG_F_STRING(struct outbox_mail, msgid_domain, "msgid_domain"),
	  .doc = "domain of kreview's Message-IDs (default: that of 'from')" },
	{ CONFIG_F_STRING(struct outbox_mail, feedback_url, "feedback_url"),
	  .doc = "base URL printed in the signature as <url>/r/<review>" },
	{ CONFIG_F_STRING(struct outbox_mail, body_prefix, "body_prefix"),
	  .doc = "a paragraph put before every review" },
	{ CONFIG_F_ENUM(struct outbox_mail, transport, "transport",
			outbox_transport_names),
	  .def_int = OUTBOX_MAILDIR, .doc = "smtp, sendmail or maildir" },
	{ CONFIG_F_STRING(struct outbox_mail, smtp_url, "smtp_url"),
	  .check = check_smtp_url,
	  .doc = "smtp://host:587 (STARTTLS) or smtps://host:465" },
	{ CONFIG_F_BOOL(struct outbox_mail, starttls, "starttls"),
	  .def_bool = true,
	  .doc = "require STARTTLS; may be false only for a loopback server" },
	{ CONFIG_F_STRING(struct outbox_mail, smtp_user, "smtp_user"),
	  .doc = "SMTP user name" },
	{ CONFIG_F_STRING(struct outbox_mail, password_env, "password_env"),
	  .doc = "environment variable holding the SMTP password" },
	{ CONFIG_F_STRING(struct outbox_mail, password_file, "password_file"),
	  .check = check_abs,
	  .doc = "file holding the SMTP password, mode 0600 or stricter" },
	{ CONFIG_F_STRING(struct outbox_mail, cainfo, "cainfo"),
	  .check = check_abs, .doc = "CA bundle for the SMTP server" },
	{ CONFIG_F_DURATION(struct outbox_mail, timeout_ms, "timeout"),
	  .min = 1000, .max = 3600 * 1000, .def_int = 120 * 1000,
	  .doc = "time limit of one hand-over" },
	{ CONFIG_F_STRLIST(struct outbox_mail, sendmail, "sendmail"),
	  .def_list = default_sendmail,
	  .doc = "sendmail-compatible command and arguments" },
	{ CONFIG_F_STRING(struct outbox_mail, maildir, "maildir"),
	  .check = check_abs, .doc = "maildir of the maildir transport" },
	{ CONFIG_F_STRING(struct outbox_mail, drafts, "drafts"),
	  .check = check_abs,
	  .doc = "maildir for dry-run replies (default <state_dir>/drafts)" },
	{ CONFIG_F_INT(struct outbox_mail, max_attempts, "max_attempts"),
	  .min = 1, .max = 100, .def_int = 8,
	  .doc = "attempts before a mail is dead" },
	{ CONFIG_F_DURATION(struct outbox_mail, retry_base_ms, "retry_base"),
	  .min = 1000, .max = 86400 * 1000, .def_int = 60 * 1000,
	  .doc = "delay after the first failed attempt, doubled each time" },
	{ CONFIG_F_DURATION(struct outbox_mail, retry_max_ms, "retry_max"),
	  .min = 1000, .max = 7LL * 86400 * 1000, .def_int = 6 * 3600 * 1000,
	  .doc = "longest delay between attempts" },
	{ CONFIG_F_DURATION(struct outbox_mail, sending_lease_ms,
			    "sending_lease"),
	  .min = 10 * 1000, .max = 86400 * 1000, .def_int = 15 * 60 * 1000,
	  .doc = "a mail still 'sending' this long is handed over again" },
	{ NULL }
};

void outbox_mail_release(void *field)
{
	struct outbox_mail **pm = field;

	if (!*pm)
		return;
	config_release(*pm, outbox_mail_fields);
	free(*pm);
	*pm = NULL;
}

static bool host_is_loopback(const char *host)
{
	if (!host)
		return false;
	return !strcasecmp(host, "localhost") || !strcmp(host, "::1") ||
	       !strcmp(host, "[::1]") || !strncmp(host, "127.", 4);
}

/* The host of an SMTP URL is loopback. */
static bool url_is_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool r = false;

	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_get(u, CURLUPART_HOST, &host, 0))
		r = host_is_loopback(host);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

int outbox_mail_parse(void *field, const struct yamlnode *node,
		      struct strbuf *err)
{
	struct outbox_mail **pm = field, *m;
	struct strbuf a = STRBUF_INIT;
	int ret;

	m = xcalloc(1, sizeof(*m));
	*pm = m;
	if (node && yamlnode_is_null(node))
		node = NULL;
	ret = config_bind(m, outbox_mail_fields, node, err);
	if (ret < 0)
		goto out;
	if (m->from && reply_address_of(&a, m->from) < 0) {
		yamlnode_error(err, yamlnode_map_get(node, "from"),
			       "mail.from: no mail address in '%s'", m->from);
		ret = -EINVAL;
	}
	if (m->password_env && m->password_file) {
		yamlnode_error(err, node, "mail: password_env and "
					  "password_file are mutually "
					  "exclusive");
		ret = -EINVAL;
	}
	if (m->transport == OUTBOX_SMTP && !m->smtp_url) {
		yamlnode_error(err, node,
			       "mail: transport smtp needs 'smtp_url'");
		ret = -EINVAL;
	}
	if (m->smtp_url && !m->starttls &&
	    skip_prefix_icase(m->smtp_url, "smtp://") &&
	    !url_is_loopback(m->smtp_url)) {
		yamlnode_error(err, yamlnode_map_get(node, "starttls"),
			       "mail: STARTTLS may only be turned off for a "
			       "loopback server");
		ret = -EINVAL;
	}
out:
	strbuf_release(&a);
	return ret;
}

void outbox_reply_opts(struct reply_opts *opts,
		       const struct kreview_config *cfg)
{
	const struct outbox_mail *m = cfg->mail;

	opts->own_address = cfg->ingest.own_address;
	if (!m)
		return;
	opts->from = m->from;
	opts->msgid_domain = m->msgid_domain;
	opts->reply_to = m->reply_to;
	opts->feedback_url = m->feedback_url;
	opts->body_prefix = m->body_prefix;
}

int outbox_smtp_password(struct strbuf *out, const struct outbox_mail *m,
			 struct strbuf *err)
{
	struct strbuf k = STRBUF_INIT;
	struct stat st;
	int fd, r;

	if (m->password_env) {
		const char *v = getenv(m->password_env);

		if (!v || !*v) {
			strbuf_addf(err, "environment variable '%s' "
					 "(mail.password_env) is not set",
				    m->password_env);
			return -ENOKEY;
		}
		strbuf_reset(out);
		strbuf_addstr(out, v);
		return 0;
	}
	if (!m->password_file) {
		strbuf_addstr(err, "no SMTP password configured "
				   "(mail.password_env or mail.password_file)");
		return -ENOKEY;
	}
	fd = open(m->password_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		strbuf_addf(err, "cannot open '%s': %s", m->password_file,
			    strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077)) {
		close(fd);
		strbuf_addf(err, "'%s' must be a regular file readable by "
				 "its owner only (mode 0600)",
			    m->password_file);
		return -EPERM;
	}
	k.max = PASSWORD_MAX;
	r = strbuf_read_fd(&k, fd, PASSWORD_MAX);
	close(fd);
	if (r < 0) {
		strbuf_addf(err, "cannot read '%s': %s", m->password_file,
			    strerror(-r));
		strbuf_release(&k);
		return r;
	}
	while (k.len && (k.buf[k.len - 1] == '\n' || k.buf[k.len - 1] == '\r'))
		strbuf_setlen(&k, k.len - 1);
	if (!k.len) {
		strbuf_addf(err, "'%s' is empty", m->password_file);
		strbuf_release(&k);
		return -ENOKEY;
	}
	strbuf_reset(out);
	strbuf_addbuf(out, &k);
	/* Do not leave the secret in freed memory. */
	memset(k.buf, 0, k.len);
	strbuf_release(&k);
	return 0;
}

/* States. */

static const char *const state_names[OUTBOX_STATE_MAX] = {
	[OUTBOX_HELD] = "held",		[OUTBOX_PENDING] = "pending",
	[OUTBOX_SENDING] = "sending",	[OUTBOX_SENT] = "sent",
	[OUTBOX_RETRYING] = "failed-retrying", [OUTBOX_DEAD] = "dead",
	[OUTBOX_DROPPED] = "dropped",
};

const char *outbox_state_name(enum outbox_state s)
{
	if ((unsigned)s >= OUTBOX_STATE_MAX)
		BUG("bad outbox state %d", (int)s);
	return state_names[s];
}

int outbox_state_parse(enum outbox_state *out, const char *name)
{
	int i = name_index(state_names, OUTBOX_STATE_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum outbox_state)i;
	return 0;
}

void outbox_item_release(struct outbox_item *it)
{
	free(it->msgid);
	free(it->in_reply_to);
	free(it->kind);
	free(it->lists);
	free(it->mode);
	free(it->env_from);
	free(it->rcpts);
	free(it->subject);
	free(it->message);
	free(it->transport);
	free(it->last_error);
	memset(it, 0, sizeof(*it));
}

void outbox_list_release(struct outbox_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		outbox_item_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Enqueueing. */

static const char *const mode_sql[REPLY_MODE_MAX] = {
	[REPLY_MODE_DRY_RUN] = "dry-run",
	[REPLY_MODE_OUTBOX] = "outbox",
	[REPLY_MODE_SEND] = "send",
};

static const char *const kind_sql[] = {
	[REPLY_KIND_PATCH] = "patch",
	[REPLY_KIND_SUMMARY] = "summary",
	[REPLY_KIND_COMMAND] = "command",
	[REPLY_KIND_DIGEST] = "digest",
};

static int enqueue_one(int64_t *id_out, struct db *db,
		       const struct reply_mail *m, int64_t review_id,
		       int64_t now_ms, struct strbuf *err)
{
	struct strbuf rcpts = STRBUF_INIT;
	sqlite3_stmt *st;
	int r;

	if (m->mode <= REPLY_MODE_OFF || m->mode >= REPLY_MODE_MAX) {
		strbuf_addf(err, "reply to <%s>: mode off is never queued",
			    m->in_reply_to);
		return -EINVAL;
	}
	st = db_prepare(db, "SELECT id FROM outbox WHERE in_reply_to = ?1");
	db_bind_text(st, 1, m->in_reply_to);
	r = db_step(db, st, err);
	if (r > 0 && id_out)
		*id_out = sqlite3_column_int64(st, 0);
	db_done(st);
	if (r < 0)
		return r;
	if (r > 0)
		return -EEXIST;
	for (size_t i = 0; i < m->rcpts_nr; i++)
		strbuf_addf(&rcpts, "%s\n", m->rcpts[i]);
	st = db_prepare(db,
			"INSERT INTO outbox (msgid, in_reply_to, review_id, "
			"kind, list, mode, state, env_from, rcpts, subject, "
			"message, not_before_ms, next_try_ms, created_ms, "
			"updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			"?9, ?10, ?11, ?12, ?13, ?14, ?14) RETURNING id");
	db_bind_text(st, 1, m->msgid);
	db_bind_text(st, 2, m->in_reply_to);
	if (review_id > 0)
		db_bind_int64(st, 3, review_id);
	db_bind_text(st, 4, kind_sql[m->kind]);
	db_bind_text(st, 5, m->lists ? m->lists : "");
	db_bind_text(st, 6, mode_sql[m->mode]);
	db_bind_text(st, 7, m->mode == REPLY_MODE_OUTBOX ? "held" : "pending");
	db_bind_text(st, 8, m->env_from);
	db_bind_text(st, 9, rcpts.buf);
	db_bind_text(st, 10, m->subject);
	db_bind_blob(st, 11, m->text.buf, m->text.len);
	db_bind_int64(st, 12, m->not_before_ms);
	db_bind_int64(st, 13, now_ms);
	db_bind_int64(st, 14, now_ms);
	r = db_step(db, st, err);
	if (r > 0 && id_out)
		*id_out = sqlite3_column_int64(st, 0);
	db_done(st);
	strbuf_release(&rcpts);
	return r < 0 ? r : 0;
}

int outbox_enqueue(int64_t *id_out, struct db *db, const struct reply_mail *m,
		   int64_t review_id, int64_t now_ms, struct strbuf *err)
{
	bool own = sqlite3_get_autocommit(db_handle(db)) != 0;
	int64_t id = 0;
	int r;

	if (own && db_begin(db, err) < 0)
		return -EIO;
	r = enqueue_one(&id, db, m, review_id, now_ms, err);
	if (own) {
		if (r < 0)
			db_rollback(db);
		else if (db_commit(db, err) < 0)
			r = -EIO;
	}
	if ((r == 0 || r == -EEXIST) && id_out)
		*id_out = id;
	return r;
}

int outbox_enqueue_all(size_t *skipped, struct db *db,
		       const struct reply_mail_list *l, int64_t review_id,
		       int64_t now_ms, struct strbuf *err)
{
	bool own = sqlite3_get_autocommit(db_handle(db)) != 0;
	size_t skip = 0;
	int r = 0;

	if (own && db_begin(db, err) < 0)
		return -EIO;
	for (size_t i = 0; i < l->nr; i++) {
		r = enqueue_one(NULL, db, &l->v[i], review_id, now_ms, err);
		if (r == -EEXIST) {
			skip++;
			r = 0;
		}
		if (r < 0)
			break;
	}
	if (own) {
		if (r < 0)
			db_rollback(db);
		else if (db_commit(db, err) < 0)
			r = -EIO;
	}
	if (r == 0 && skipped)
		*skipped = skip;
	return r;
}

/* Reading rows. */

#define ITEM_COLS                                                           \
	"id, msgid, in_reply_to, review_id, kind, list, mode, state, "      \
	"env_from, rcpts, subject, date_ms, not_before_ms, next_try_ms, "   \
	"attempts, transport, last_error, created_ms, updated_ms, sent_ms, " \
	"message"

static int64_t col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? 0
		       : sqlite3_column_int64(st, i);
}

static void read_item(struct outbox_item *it, sqlite3_stmt *st, bool message)
{
	char *state;

	memset(it, 0, sizeof(*it));
	it->id = sqlite3_column_int64(st, 0);
	it->msgid = db_column_strdup(st, 1);
	it->in_reply_to = db_column_strdup(st, 2);
	it->review_id = col_int(st, 3);
	it->kind = db_column_strdup(st, 4);
	it->lists = db_column_strdup(st, 5);
	it->mode = db_column_strdup(st, 6);
	state = db_column_strdup(st, 7);
	if (outbox_state_parse(&it->state, state) < 0)
		BUG("outbox row %" PRId64 " in unknown state '%s'", it->id,
		    state);
	free(state);
	it->env_from = db_column_strdup(st, 8);
	it->rcpts = db_column_strdup(st, 9);
	it->subject = db_column_strdup(st, 10);
	it->date_ms = col_int(st, 11);
	it->not_before_ms = col_int(st, 12);
	it->next_try_ms = col_int(st, 13);
	it->attempts = (int)col_int(st, 14);
	it->transport = db_column_strdup(st, 15);
	it->last_error = db_column_strdup(st, 16);
	it->created_ms = col_int(st, 17);
	it->updated_ms = col_int(st, 18);
	it->sent_ms = col_int(st, 19);
	if (message) {
		const void *b = sqlite3_column_blob(st, 20);
		size_t n = (size_t)sqlite3_column_bytes(st, 20);

		it->message = xmemdupz(b ? b : "", n);
		it->message_len = n;
	}
}

int outbox_list(struct outbox_list *out, struct db *db,
		enum outbox_state state, size_t limit, struct strbuf *err)
{
	sqlite3_stmt *st;
	int r;

	st = db_prepare(db, "SELECT " ITEM_COLS " FROM outbox WHERE "
			    "(?1 IS NULL OR state = ?1) ORDER BY id DESC "
			    "LIMIT ?2");
	db_bind_text(st, 1, state < OUTBOX_STATE_MAX ? state_names[state]
						     : NULL);
	db_bind_int64(st, 2, limit ? (int64_t)limit : -1);
	while ((r = db_step(db, st, err)) > 0) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		read_item(&out->v[out->nr++], st, false);
	}
	db_done(st);
	return r < 0 ? r : 0;
}

int outbox_get(struct outbox_item *out, struct db *db, int64_t id,
	       const char *msgid, struct strbuf *err)
{
	sqlite3_stmt *st;
	int r;

	if (msgid) {
		st = db_prepare(db, "SELECT " ITEM_COLS
				    " FROM outbox WHERE msgid = ?1");
		db_bind_text(st, 1, msgid);
	} else {
		st = db_prepare(db, "SELECT " ITEM_COLS
				    " FROM outbox WHERE id = ?1");
		db_bind_int64(st, 1, id);
	}
	r = db_step(db, st, err);
	if (r > 0)
		read_item(out, st, true);
	db_done(st);
	if (r == 0) {
		if (msgid)
			strbuf_addf(err, "no outbox mail <%s>", msgid);
		else
			strbuf_addf(err, "no outbox mail %" PRId64, id);
		return -ENOENT;
	}
	return r < 0 ? r : 0;
}

int outbox_counts(size_t out[OUTBOX_STATE_MAX], struct db *db,
		  struct strbuf *err)
{
	sqlite3_stmt *st;
	int r;

	memset(out, 0, sizeof(size_t) * OUTBOX_STATE_MAX);
	st = db_prepare(db, "SELECT state, count(*) FROM outbox GROUP BY state");
	while ((r = db_step(db, st, err)) > 0) {
		enum outbox_state s;

		if (!outbox_state_parse(&s, (const char *)sqlite3_column_text(
						    st, 0)))
			out[s] = (size_t)sqlite3_column_int64(st, 1);
	}
	db_done(st);
	return r < 0 ? r : 0;
}

int outbox_next_due(int64_t *out_ms, struct db *db, struct strbuf *err)
{
	sqlite3_stmt *st;
	int64_t v = INT64_MAX;
	int r;

	st = db_prepare(db, "SELECT min(CASE WHEN mode = 'dry-run' THEN "
			    "next_try_ms ELSE max(next_try_ms, not_before_ms) "
			    "END) FROM outbox WHERE state IN ('pending', "
			    "'failed-retrying')");
	r = db_step(db, st, err);
	if (r > 0 && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	db_done(st);
	if (r < 0)
		return r;
	*out_ms = v;
	return 0;
}

/* The wire form. */

static void rfc5322_date(struct strbuf *out, int64_t ms)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
					    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
					      "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strbuf_addf(out, "%s, %d %s %d %02d:%02d:%02d +0000",
		    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void outbox_wire(struct strbuf *out, const struct outbox_item *it,
		 int64_t now_ms, bool crlf)
{
	struct strbuf lf = STRBUF_INIT;

	strbuf_addstr(&lf, "Date: ");
	rfc5322_date(&lf, it->date_ms ? it->date_ms : now_ms);
	strbuf_addch(&lf, '\n');
	strbuf_add(&lf, it->message ? it->message : "", it->message_len);
	if (!lf.len || lf.buf[lf.len - 1] != '\n')
		strbuf_addch(&lf, '\n');
	if (!crlf) {
		strbuf_addbuf(out, &lf);
	} else {
		for (size_t i = 0; i < lf.len; i++) {
			if (lf.buf[i] == '\n')
				strbuf_addch(out, '\r');
			strbuf_addch(out, lf.buf[i]);
		}
	}
	strbuf_release(&lf);
}

/* Transports.  Each returns 0, -EAGAIN (transient) or -EIO (permanent),
 * with the reason in 'why'. */

/* Maildir file name for a Message-ID. */
static void maildir_name(struct strbuf *out, const char *msgid)
{
	for (const char *p = msgid; *p; p++)
		strbuf_addch(out, isalnum((unsigned char)*p) ||
					  strchr("._@+-=", *p)
				  ? *p
				  : '_');
}

static bool maildir_has(const char *dir, const char *name)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	size_t nl = strlen(name);
	bool found;
	DIR *d;

	strbuf_addf(&p, "%s/new/%s", dir, name);
	found = !stat(p.buf, &st);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/cur", dir);
	d = found ? NULL : opendir(p.buf);
	for (struct dirent *de; d && !found && (de = readdir(d));)
		found = !strncmp(de->d_name, name, nl) &&
			(!de->d_name[nl] || de->d_name[nl] == ':');
	if (d)
		closedir(d);
	strbuf_release(&p);
	return found;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int deliver_maildir(const char *dir, const struct outbox_item *it,
			   const struct strbuf *wire, struct strbuf *why)
{
	struct strbuf name = STRBUF_INIT, tmp = STRBUF_INIT, dst = STRBUF_INIT;
	size_t off = 0;
	int fd = -1, r = 0;

	maildir_name(&name, it->msgid);
	if (maildir_has(dir, name.buf))
		goto out;
	strbuf_addf(&tmp, "%s/tmp", dir);
	r = mkdir_p(tmp.buf);
	strbuf_reset(&tmp);
	strbuf_addf(&tmp, "%s/new", dir);
	if (!r)
		r = mkdir_p(tmp.buf);
	strbuf_reset(&tmp);
	strbuf_addf(&tmp, "%s/cur", dir);
	if (!r)
		r = mkdir_p(tmp.buf);
	if (r < 0) {
		strbuf_addf(why, "cannot create maildir '%s': %s", dir,
			    strerror(-r));
		goto out;
	}
	strbuf_reset(&tmp);
	strbuf_addf(&tmp, "%s/tmp/%s.%ld", dir, name.buf, (long)getpid());
	strbuf_addf(&dst, "%s/new/%s", dir, name.buf);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		strbuf_addf(why, "cannot create '%s': %s", tmp.buf,
			    strerror(errno));
		goto out;
	}
	while (off < wire->len) {
		ssize_t n = write(fd, wire->buf + off, wire->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = -errno;
			strbuf_addf(why, "cannot write '%s': %s", tmp.buf,
				    strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		r = -errno;
		fd = -1;
		strbuf_addf(why, "cannot write '%s': %s", tmp.buf,
			    strerror(errno));
		goto out;
	}
	fd = -1;
	/* link() never replaces: a file already there is this mail. */
	if (link(tmp.buf, dst.buf) < 0 && errno != EEXIST) {
		r = -errno;
		strbuf_addf(why, "cannot link '%s': %s", dst.buf,
			    strerror(errno));
		goto out;
	}
	strbuf_reset(&name);
	strbuf_addf(&name, "%s/new", dir);
	fsync_dir(name.buf);
out:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	strbuf_release(&name);
	strbuf_release(&tmp);
	strbuf_release(&dst);
	/* A maildir that cannot be written will not heal by itself soon,
	 * but a full disk may: retry, the attempts are bounded. */
	return r < 0 ? -EAGAIN : 0;
}

/* SMTP through libcurl. */

struct upload {
	const struct strbuf *data;
	size_t off;
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct upload *u = ctx;
	size_t n = size * nmemb, left = u->data->len - u->off;

	if (n > left)
		n = left;
	memcpy(buf, u->data->buf + u->off, n);
	u->off += n;
	return n;
}

static bool curl_transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	/*
	 * TLS trouble (no STARTTLS offered, a handshake or certificate
	 * failure, an unreadable CA file) is the server's or the
	 * operator's to fix, never the mail's: keep it queued with
	 * backoff, up to max_attempts, instead of declaring it dead.
	 */
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return true;
	default:
		return false;
	}
}

static int deliver_smtp(const struct outbox_mail *cfg,
			const struct outbox_item *it, const struct strbuf *wire,
			struct strbuf *why)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *rcpt = NULL;
	struct strbuf pw = STRBUF_INIT, a = STRBUF_INIT;
	struct upload up = { wire, 0 };
	long code = 0;
	CURLcode c;
	CURL *h;
	int r = 0;

	h = curl_easy_init();
	if (!h) {
		strbuf_addstr(why, "cannot create a curl handle");
		return -EAGAIN;
	}
	for (const char *p = it->rcpts; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len) {
			strbuf_reset(&a);
			strbuf_addch(&a, '<');
			strbuf_add(&a, p, len);
			strbuf_addch(&a, '>');
			rcpt = curl_slist_append(rcpt, a.buf);
		}
		p += len + (eol ? 1 : 0);
	}
	strbuf_reset(&a);
	strbuf_addf(&a, "<%s>", it->env_from);
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, a.buf);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &up);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(cfg->timeout_ms < 30000 ? cfg->timeout_ms
							: 30000));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->cainfo)
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->cainfo);
	/*
	 * STARTTLS is mandatory off loopback (the config refuses
	 * starttls: false there, and this check does not trust it).
	 */
	if (skip_prefix_icase(cfg->smtp_url, "smtp://"))
		curl_easy_setopt(h, CURLOPT_USE_SSL,
				 cfg->starttls || !url_is_loopback(cfg->smtp_url)
					 ? (long)CURLUSESSL_ALL
					 : (long)CURLUSESSL_NONE);
	if (cfg->smtp_user) {
		r = outbox_smtp_password(&pw, cfg, why);
		if (r < 0) {
			r = -EIO;
			goto out;
		}
		curl_easy_setopt(h, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, pw.buf);
	}
	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (c == CURLE_OK)
		goto out;
	strbuf_addf(why, "smtp: %s", errbuf[0] ? errbuf : curl_easy_strerror(c));
	if (code)
		strbuf_addf(why, " (server said %ld)", code);
	if (code >= 500 && code < 600)
		r = -EIO;
	else if (code >= 400 && code < 500)
		r = -EAGAIN;
	else
		r = curl_transient(c) ? -EAGAIN : -EIO;
out:
	if (pw.len)
		memset(pw.buf, 0, pw.len);
	strbuf_release(&pw);
	strbuf_release(&a);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(h);
	return r;
}

/* sendmail: the mail on stdin, stderr kept for the error text. */
static int deliver_sendmail(const struct outbox_mail *cfg,
			    const struct outbox_item *it,
			    const struct strbuf *wire, struct strbuf *why)
{
	const char **argv = NULL;
	size_t argc = 0;
	bool by_headers = false;
	int sv[2] = { -1, -1 }, errfd = -1, status = 0, r = 0;
	int64_t deadline = time_mono_ms() + cfg->timeout_ms;
	size_t off = 0;
	pid_t pid;

	if (!cfg->sendmail.nr) {
		strbuf_addstr(why, "mail.sendmail is empty");
		return -EIO;
	}
	argv = xcalloc(cfg->sendmail.nr + 3 + 256, sizeof(*argv));
	for (size_t i = 0; i < cfg->sendmail.nr; i++) {
		argv[argc++] = cfg->sendmail.v[i];
		by_headers |= !strcmp(cfg->sendmail.v[i], "-t");
	}
	if (!by_headers) {
		argv[argc++] = "--";
		/* the rcpts text outlives argv: point into a copy */
	}
	{
		char *copy = xstrdup(it->rcpts ? it->rcpts : "");
		size_t n = 0;

		for (char *p = copy; !by_headers && *p && n < 256;) {
			char *eol = strchr(p, '\n');

			if (eol)
				*eol = '\0';
			if (*p) {
				argv[argc++] = p;
				n++;
			}
			p = eol ? eol + 1 : p + strlen(p);
		}
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
		    (errfd = memfd_create("kreview-sendmail", MFD_CLOEXEC)) <
			    0) {
			strbuf_addf(why, "sendmail: %s", strerror(errno));
			r = -EAGAIN;
			free(copy);
			goto out;
		}
		pid = fork();
		if (pid == 0) {
			int devnull = open("/dev/null", O_WRONLY);

			dup2(sv[1], 0);
			dup2(devnull >= 0 ? devnull : errfd, 1);
			dup2(errfd, 2);
			execvp(argv[0], (char *const *)argv);
			dprintf(2, "cannot run '%s': %s", argv[0],
				strerror(errno));
			_exit(127);
		}
		free(copy);
	}
	if (pid < 0) {
		strbuf_addf(why, "sendmail: fork: %s", strerror(errno));
		r = -EAGAIN;
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	while (off < wire->len) {
		struct pollfd pfd = { .fd = sv[0], .events = POLLOUT };
		int64_t left = deadline - time_mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)(left > 1000 ? 1000 : left))
					 < 0) {
			if (left > 0 && errno == EINTR)
				continue;
			if (left > 0)
				break;
			break;
		}
		n = send(sv[0], wire->buf + off, wire->len - off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			break; /* the child closed stdin: its status says why */
		off += (size_t)n;
	}
	close(sv[0]);
	sv[0] = -1;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (time_mono_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			strbuf_addf(why, "sendmail: '%s' took longer than the "
					 "time limit",
				    argv[0]);
			r = -EAGAIN;
			goto out;
		}
		struct timespec ts = { 0, CHILD_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && off == wire->len)
		goto out;
	{
		char ebuf[ERROR_MAX + 1];
		ssize_t n = pread(errfd, ebuf, ERROR_MAX, 0);

		ebuf[n > 0 ? n : 0] = '\0';
		for (char *p = ebuf; *p; p++)
			if ((unsigned char)*p < ' ')
				*p = ' ';
		if (WIFEXITED(status))
			strbuf_addf(why, "sendmail: '%s' exited with %d",
				    argv[0], WEXITSTATUS(status));
		else
			strbuf_addf(why, "sendmail: '%s' was killed",
				    argv[0]);
		if (off < wire->len)
			strbuf_addstr(why, " before reading the whole mail");
		if (ebuf[0])
			strbuf_addf(why, ": %s", ebuf);
		/* EX_TEMPFAIL (75) and signals are worth another try. */
		r = (WIFEXITED(status) && WEXITSTATUS(status) != 75 &&
		     WEXITSTATUS(status) != 0)
			    ? -EIO
			    : -EAGAIN;
	}
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (errfd >= 0)
		close(errfd);
	free(argv);
	return r;
}

/* Delivery. */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int64_t backoff_ms(const struct outbox_mail *m, const char *msgid,
			  int attempts)
{
	int64_t d = m->retry_base_ms;

	for (int i = 1; i < attempts && d < m->retry_max_ms; i++)
		d *= 2;
	if (d > m->retry_max_ms)
		d = m->retry_max_ms;
	if (d >= 4)
		d += (int64_t)(hash_str(msgid) % (uint64_t)(d / 4) +
			       (uint64_t)attempts) % (d / 4);
	return d;
}

/*
 * When the row's lists allow the next 'send' mail: 0 if now, else the
 * time the oldest mail of the last hour turns an hour old.
 */
static int rate_wait(int64_t *until, struct db *db, const char *lists,
		     const struct reply_lists *cfg, int64_t now_ms,
		     struct strbuf *err)
{
	char *copy = xstrdup(lists ? lists : "");
	int r = 0;

	*until = 0;
	for (char *p = copy, *sp; *p; p = sp ? sp + 1 : p + strlen(p)) {
		const struct reply_list *l;
		sqlite3_stmt *st;

		sp = strchr(p, ' ');
		if (sp)
			*sp = '\0';
		l = reply_lists_find(cfg, p);
		if (!l || !l->rate_limit)
			continue;
		st = db_prepare(db,
				"SELECT count(*), min(sent_ms) FROM outbox "
				"WHERE state = 'sent' AND mode = 'send' AND "
				"sent_ms > ?1 AND instr(' ' || list || ' ', "
				"' ' || ?2 || ' ') > 0");
		db_bind_int64(st, 1, now_ms - 3600 * 1000);
		db_bind_text(st, 2, p);
		r = db_step(db, st, err);
		if (r > 0 && sqlite3_column_int64(st, 0) >= l->rate_limit) {
			int64_t t = sqlite3_column_int64(st, 1) + 3600 * 1000;

			if (t > *until)
				*until = t;
		}
		db_done(st);
		if (r < 0)
			break;
		r = 0;
	}
	free(copy);
	return r;
}

static int set_state(struct db *db, int64_t id, const char *state,
		     int64_t next_try_ms, const char *error, int64_t now_ms,
		     struct strbuf *err)
{
	sqlite3_stmt *st;
	int r;

	st = db_prepare(db, "UPDATE outbox SET state = ?2, next_try_ms = ?3, "
			    "last_error = ?4, updated_ms = ?5, sent_ms = "
			    "CASE WHEN ?2 = 'sent' THEN ?5 ELSE sent_ms END "
			    "WHERE id = ?1");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, state);
	db_bind_int64(st, 3, next_try_ms);
	db_bind_text(st, 4, error);
	db_bind_int64(st, 5, now_ms);
	r = db_step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

static const char *row_transport(const struct outbox_item *it,
				 const struct outbox_mail *m)
{
	if (!strcmp(it->mode, "dry-run"))
		return "drafts";
	return outbox_transport_names[m->transport];
}

/* Outcome of one attempt at a row. */
enum attempt {
	ATTEMPT_SENT,
	ATTEMPT_RETRY,
	ATTEMPT_DEAD,
	ATTEMPT_DEFERRED,
	ATTEMPT_SKIPPED,
	ATTEMPT_RECOVERED,
};

/*
 * One row: claim it (-> sending, Date fixed), hand it over, record the
 * outcome.  'force' ignores the embargo (and the due time).
 */
static int attempt_row(enum attempt *res, struct db *db, int64_t id,
		       const struct outbox_deliver_opts *o, bool force,
		       struct strbuf *err)
{
	const struct outbox_mail *m = o->mail;
	struct outbox_item it;
	struct strbuf wire = STRBUF_INIT, why = STRBUF_INIT;
	const char *tr, *dir = NULL;
	bool dry, was_sending;
	int64_t until = 0, now = o->now_ms;
	sqlite3_stmt *st;
	int r, t = 0;

	memset(&it, 0, sizeof(it));
	*res = ATTEMPT_SKIPPED;
	if (db_begin(db, err) < 0)
		return -EIO;
	r = outbox_get(&it, db, id, NULL, err);
	if (r < 0)
		goto rollback;
	dry = !strcmp(it.mode, "dry-run");
	was_sending = it.state == OUTBOX_SENDING;
	/* Re-check under the write lock: another process may have won. */
	if (!(it.state == OUTBOX_PENDING || it.state == OUTBOX_RETRYING ||
	      (was_sending && (force || it.updated_ms <=
					       now - m->sending_lease_ms))))
		goto rollback;
	if (!force && !was_sending &&
	    (it.next_try_ms > now || (!dry && it.not_before_ms > now)))
		goto rollback;
	if (!dry && !strcmp(it.mode, "send") && o->lists) {
		r = rate_wait(&until, db, it.lists, o->lists, now, err);
		if (r < 0)
			goto rollback;
		if (until > now && !force) {
			r = set_state(db, id, state_names[it.state], until,
				      it.last_error, now, err);
			if (r < 0)
				goto rollback;
			*res = ATTEMPT_DEFERRED;
			goto commit;
		}
	}
	tr = row_transport(&it, m);
	if (dry || m->transport == OUTBOX_MAILDIR) {
		dir = dry ? o->drafts : m->maildir;
		if (!dir) {
			strbuf_addstr(err, dry ? "no drafts maildir (mail.drafts)"
					       : "no maildir (mail.maildir)");
			r = -EINVAL;
			goto rollback;
		}
	}
	if (!it.date_ms)
		it.date_ms = now;
	st = db_prepare(db, "UPDATE outbox SET state = 'sending', attempts = "
			    "attempts + 1, date_ms = ?2, transport = ?3, "
			    "updated_ms = ?4 WHERE id = ?1");
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, it.date_ms);
	db_bind_text(st, 3, tr);
	db_bind_int64(st, 4, now);
	r = db_step(db, st, err);
	db_done(st);
	if (r < 0)
		goto rollback;
	if (db_commit(db, err) < 0) {
		r = -EIO;
		goto out;
	}
	it.attempts++;

	/* The hand-over, outside any transaction. */
	if (dir) {
		struct strbuf name = STRBUF_INIT;

		maildir_name(&name, it.msgid);
		if (was_sending && maildir_has(dir, name.buf)) {
			strbuf_release(&name);
			*res = ATTEMPT_RECOVERED;
			goto record;
		}
		strbuf_release(&name);
		outbox_wire(&wire, &it, now, false);
		t = deliver_maildir(dir, &it, &wire, &why);
	} else if (m->transport == OUTBOX_SMTP) {
		outbox_wire(&wire, &it, now, true);
		t = deliver_smtp(m, &it, &wire, &why);
	} else {
		outbox_wire(&wire, &it, now, false);
		t = deliver_sendmail(m, &it, &wire, &why);
	}
	if (o->crash_after_handover) {
		r = -EINTR;
		goto out;
	}
	if (t == 0)
		*res = ATTEMPT_SENT;
	else if (t == -EAGAIN && it.attempts < m->max_attempts)
		*res = ATTEMPT_RETRY;
	else
		*res = ATTEMPT_DEAD;
record:
	if (db_begin(db, err) < 0) {
		r = -EIO;
		goto out;
	}
	if (why.len > ERROR_MAX)
		strbuf_setlen(&why, ERROR_MAX);
	switch (*res) {
	case ATTEMPT_SENT:
	case ATTEMPT_RECOVERED:
		r = set_state(db, id, "sent", it.next_try_ms, NULL, now, err);
		break;
	case ATTEMPT_RETRY:
		r = set_state(db, id, "failed-retrying",
			      now + backoff_ms(m, it.msgid, it.attempts),
			      why.buf, now, err);
		break;
	default:
		if (t == -EAGAIN)
			strbuf_addf(&why, "; gave up after %d attempts",
				    it.attempts);
		r = set_state(db, id, "dead", it.next_try_ms, why.buf, now,
			      err);
		break;
	}
	if (r < 0)
		goto rollback;
commit:
	if (db_commit(db, err) < 0)
		r = -EIO;
	goto out;
rollback:
	db_rollback(db);
out:
	outbox_item_release(&it);
	strbuf_release(&wire);
	strbuf_release(&why);
	return r;
}

static void count(struct outbox_report *rep, enum attempt a)
{
	switch (a) {
	case ATTEMPT_SENT:
		rep->sent++;
		break;
	case ATTEMPT_RECOVERED:
		rep->recovered++;
		break;
	case ATTEMPT_RETRY:
		rep->retrying++;
		break;
	case ATTEMPT_DEAD:
		rep->dead++;
		break;
	case ATTEMPT_DEFERRED:
		rep->deferred++;
		break;
	default:
		break;
	}
}

static int due_ids(int64_t **ids, size_t *nr, struct db *db,
		   const struct outbox_deliver_opts *o, struct strbuf *err)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int r;

	st = db_prepare(db,
			"SELECT id FROM outbox WHERE (state IN ('pending', "
			"'failed-retrying') AND next_try_ms <= ?1 AND "
			"(not_before_ms <= ?1 OR mode = 'dry-run')) OR (state "
			"= 'sending' AND updated_ms <= ?1 - ?2) "
			"ORDER BY next_try_ms, id LIMIT ?3");
	db_bind_int64(st, 1, o->now_ms);
	db_bind_int64(st, 2, o->mail->sending_lease_ms);
	db_bind_int64(st, 3, o->max ? (int64_t)o->max : -1);
	while ((r = db_step(db, st, err)) > 0) {
		ALLOC_GROW(*ids, *nr + 1, alloc);
		(*ids)[(*nr)++] = sqlite3_column_int64(st, 0);
	}
	db_done(st);
	return r < 0 ? r : 0;
}

/* Attempt the rows 'ids' in order ('force': see attempt_row()). */
static int attempt_ids(struct outbox_report *out, struct db *db,
		       const int64_t *ids, size_t nr,
		       const struct outbox_deliver_opts *o, bool force,
		       struct strbuf *err)
{
	struct outbox_report rep = { 0 };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < nr; i++) {
		enum attempt a;

		r = attempt_row(&a, db, ids[i], o, force, err);
		count(&rep, a);
	}
	if (out)
		*out = rep;
	return r;
}

int outbox_deliver_due(struct outbox_report *out, struct db *db,
		       const struct outbox_deliver_opts *opts,
		       struct strbuf *err)
{
	int64_t *ids = NULL;
	size_t nr = 0;
	int r;

	if (!opts->mail)
		BUG("outbox delivery without mail settings");
	r = due_ids(&ids, &nr, db, opts, err);
	if (r >= 0)
		r = attempt_ids(out, db, ids, nr, opts, false, err);
	else if (out)
		memset(out, 0, sizeof(*out));
	free(ids);
	return r;
}

int outbox_recover(struct outbox_report *out, struct db *db,
		   const struct outbox_deliver_opts *opts, struct strbuf *err)
{
	int64_t *ids = NULL;
	size_t nr = 0, alloc = 0;
	sqlite3_stmt *st;
	int r;

	st = db_prepare(db, "SELECT id FROM outbox WHERE state = 'sending'");
	while ((r = db_step(db, st, err)) > 0) {
		ALLOC_GROW(ids, nr + 1, alloc);
		ids[nr++] = sqlite3_column_int64(st, 0);
	}
	db_done(st);
	if (r >= 0)
		r = attempt_ids(out, db, ids, nr, opts, true, err);
	else if (out)
		memset(out, 0, sizeof(*out));
	free(ids);
	return r;
}

int outbox_send_now(struct db *db, int64_t id,
		    const struct outbox_deliver_opts *opts, struct strbuf *err)
{
	struct outbox_item it;
	enum attempt a;
	sqlite3_stmt *st;
	int r;

	memset(&it, 0, sizeof(it));
	if (db_begin(db, err) < 0)
		return -EIO;
	r = outbox_get(&it, db, id, NULL, err);
	if (r < 0)
		goto rollback;
	if (it.state == OUTBOX_SENT || it.state == OUTBOX_SENDING ||
	    it.state == OUTBOX_DROPPED) {
		strbuf_addf(err, "outbox mail %" PRId64 " is %s", id,
			    state_names[it.state]);
		r = -EBUSY;
		goto rollback;
	}
	st = db_prepare(db, "UPDATE outbox SET state = 'pending', "
			    "next_try_ms = ?2, not_before_ms = min("
			    "not_before_ms, ?2), updated_ms = ?2, attempts = "
			    "CASE WHEN state = 'dead' THEN 0 ELSE attempts END "
			    "WHERE id = ?1");
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, opts->now_ms);
	r = db_step(db, st, err);
	db_done(st);
	if (r < 0)
		goto rollback;
	if (db_commit(db, err) < 0) {
		r = -EIO;
		goto out;
	}
	r = attempt_row(&a, db, id, opts, true, err);
	if (r < 0)
		goto out;
	if (a == ATTEMPT_RETRY || a == ATTEMPT_DEFERRED)
		r = -EAGAIN;
	else if (a == ATTEMPT_DEAD)
		r = -EIO;
	goto out;
rollback:
	db_rollback(db);
out:
	outbox_item_release(&it);
	return r;
}

int outbox_drop(struct db *db, int64_t id, int64_t now_ms, struct strbuf *err)
{
	struct outbox_item it;
	int r;

	memset(&it, 0, sizeof(it));
	if (db_begin(db, err) < 0)
		return -EIO;
	r = outbox_get(&it, db, id, NULL, err);
	if (r < 0)
		goto rollback;
	if (it.state == OUTBOX_SENT || it.state == OUTBOX_SENDING) {
		strbuf_addf(err, "outbox mail %" PRId64 " is %s", id,
			    state_names[it.state]);
		r = -EBUSY;
		goto rollback;
	}
	r = set_state(db, id, "dropped", it.next_try_ms, it.last_error, now_ms,
		      err);
	if (r < 0)
		goto rollback;
	if (db_commit(db, err) < 0)
		r = -EIO;
	goto out;
rollback:
	db_rollback(db);
out:
	outbox_item_release(&it);
	return r;
}

int outbox_load_target(struct reply_target *out, struct db *db,
		       const char *msgid, struct strbuf *err)
{
	struct strbuf raw = STRBUF_INIT;
	int64_t ingested_ms = 0;
	int r = store_message_raw(&raw, &ingested_ms, db, msgid, false, err);

	if (r > 0) {
		r = reply_target_parse(out, raw.buf, raw.len, ingested_ms, err);
	} else if (r == 0) {
		strbuf_addf(err, "message <%s> is not stored", msgid);
		r = -ENOENT;
	}
	strbuf_release(&raw);
	return r;
}
