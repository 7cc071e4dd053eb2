/* kreview bugs: browse and triage the per-subsystem bug databases. */
#include "kreview/bugcmd.h"
#include "kreview/bugdb.h"
#include "kreview/bugexport.h"
#include "kreview/bugmail.h"
#include "kreview/bugpass.h"
#include "kreview/bugverify.h"
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/digest.h"
#include "kreview/job.h"
#include "kreview/llm.h"
#include "kreview/maint.h"
#include "kreview/msg.h"
#include "kreview/prompt.h"
#include "kreview/review.h"
#include "kreview/strbuf.h"
#include "kreview/tree.h"

#include <getopt.h>
#include <git2.h>
#include <gmime/gmime.h>
#include <pwd.h>
#include <unistd.h>

enum { BUGS_OK = 0, BUGS_FAIL = 1, BUGS_USAGE = 2 };

struct bugs_opts {
	const char *config, *dir, *subsystem, *status, *severity, *sort;
	const char *reason, *format, *output, *tree, *rev, *maintainers;
	const char *endpoint, *db;
	const char *branches[16];
	size_t nr_branches;
	int max_count, limit;
	bool json, dry_run, fresh, queue;
};

struct bugs_ctx {
	struct bugs_opts o;
	struct kreview_config *cfg;
	struct bugdb_config *defcfg;	/* when the config has none */
	const struct bugdb_config *bc;
	struct strbuf dir;
	int argc;
	char **argv;			/* operands after the options */
};

static void usage(void)
{
	cmd_print_usage(cmd_find("bugs"), stderr);
}

static const char *actor(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u && *u)
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "cli";
}

/* The databases to work on: one section, or all. */
static int open_dbs(struct bugdb_set *set, struct bugs_ctx *c)
{
	struct strbuf warn = STRBUF_INIT;
	int r = bugdb_set_open(set, c->dir.buf, &warn);

	if (warn.len)
		fprintf(stderr, "kreview: %s", warn.buf);
	strbuf_release(&warn);
	if (r < 0) {
		fprintf(stderr, "kreview: cannot read '%s': %s\n", c->dir.buf,
			strerror(-r));
		return r;
	}
	if (c->o.subsystem) {
		struct bugdb *db = bugdb_set_section(set, c->o.subsystem);

		if (!db) {
			fprintf(stderr, "kreview: no bug database for '%s' in "
					"'%s'\n",
				c->o.subsystem, c->dir.buf);
			return -ENOENT;
		}
		for (size_t i = 0; i < set->nr; i++)
			if (set->v[i] != db)
				bugdb_close(set->v[i]);
		set->v[0] = db;
		set->nr = 1;
	}
	return 0;
}

/* The database of the --subsystem section (must exist); logs. */
static int open_section(struct bugdb **out, struct bugs_ctx *c)
{
	struct bugdb_set set = BUGDB_SET_INIT;
	int r = open_dbs(&set, c);

	if (r == 0 && set.nr != 1) {
		fprintf(stderr, "kreview: no bug database in '%s'\n",
			c->dir.buf);
		r = -ENOENT;
	}
	if (r == 0) {
		*out = set.v[0];
		set.nr = 0;
	}
	bugdb_set_release(&set);
	return r;
}

static int parse_mask(unsigned *out, const char *list, bool severity)
{
	struct strbuf w = STRBUF_INIT;
	const char *p = list;
	int r = 0;

	*out = 0;
	while (*p && r == 0) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		strbuf_reset(&w);
		strbuf_add(&w, p, n);
		if (severity) {
			enum finding_severity s;

			r = finding_severity_parse(&s, w.buf);
			if (r == 0)
				*out |= 1u << s;
		} else {
			enum bugdb_status s;

			r = bugdb_status_parse(&s, w.buf);
			if (r == 0)
				*out |= 1u << s;
		}
		if (r < 0)
			fprintf(stderr, "kreview: unknown %s '%s'\n",
				severity ? "severity" : "status", w.buf);
		p += n + (e ? 1 : 0);
	}
	strbuf_release(&w);
	return r;
}

/* A listing on its way to stdout: rows render into 'buf', flushed often. */
struct list_out {
	struct strbuf buf;
	const char *section;
	int64_t now_ms;
	bool json, first;
};

#define LIST_FLUSH_AT 65536

/* 0, or -errno when stdout cannot be written. */
static int list_flush(struct list_out *o)
{
	errno = 0;
	if (o->buf.len && fwrite(o->buf.buf, 1, o->buf.len, stdout) !=
				  o->buf.len)
		return errno ? -errno : -EIO;
	strbuf_reset(&o->buf);
	return 0;
}

static int list_row(const struct bugdb_bug *b, void *data)
{
	struct list_out *o = data;

	if (o->json)
		bugexport_json_row(&o->buf, o->section, b, o->first);
	else
		bugexport_text_row(&o->buf, b, o->now_ms);
	o->first = false;
	return o->buf.len >= LIST_FLUSH_AT ? list_flush(o) : 0;
}

/*
 * One section: its text header needs the count first, so the count
 * and the rows are read in one snapshot.
 */
static int list_section(struct list_out *o, struct bugdb *db,
			const struct bugdb_query *q, bool *any,
			struct strbuf *err)
{
	size_t nr = 0;
	int r;

	o->section = bugdb_section(db);
	r = bugdb_begin_read(db, err);
	if (r < 0)
		return r;
	if (!o->json) {
		r = bugdb_query_count(&nr, db, q, err);
		if (r < 0 || !nr)
			goto out;
		strbuf_addf(&o->buf, "%s== %s (%zu)\n", *any ? "\n" : "",
			    o->section, nr);
		bugexport_text_header(&o->buf);
		*any = true;
	}
	r = bugdb_query_each(db, q, list_row, o, err);
out:
	if (bugdb_commit(db, r < 0 ? NULL : err) < 0 && r == 0)
		r = -EIO;
	return r;
}

static int do_list(struct bugs_ctx *c)
{
	struct bugdb_query q = BUGDB_QUERY_INIT;
	struct bugdb_set set = BUGDB_SET_INIT;
	struct list_out o = { .buf = STRBUF_INIT, .first = true };
	struct strbuf err = STRBUF_INIT;
	bool any = false;
	int ret = BUGS_USAGE, r = 0;

	if (c->o.status && parse_mask(&q.status_mask, c->o.status, false) < 0)
		goto out;
	if (c->o.severity &&
	    parse_mask(&q.severity_mask, c->o.severity, true) < 0)
		goto out;
	if (c->o.sort && bugdb_sort_parse(&q.sort, c->o.sort) < 0) {
		fprintf(stderr, "kreview: --sort is severity, seen or age\n");
		goto out;
	}
	q.limit = c->o.limit > 0 ? (size_t)c->o.limit : 0;
	/* the text table needs only what the list indexes hold */
	q.brief = !c->o.json;
	o.json = c->o.json;
	o.now_ms = time_now_ms();
	ret = BUGS_FAIL;
	if (open_dbs(&set, c) < 0)
		goto out;
	if (o.json)
		strbuf_addstr(&o.buf, "{\"version\":1,\"bugs\":[\n");
	for (size_t i = 0; i < set.nr && r == 0; i++) {
		r = list_section(&o, set.v[i], &q, &any, &err);
		if (r < 0 && err.len) {
			fprintf(stderr, "kreview: %s\n", err.buf);
			goto out;
		}
	}
	if (o.json && r == 0)
		strbuf_addstr(&o.buf, "]}\n");
	if (r == 0)
		r = list_flush(&o);
	errno = 0;
	if (r == 0 && fflush(stdout) != 0)
		r = errno ? -errno : -EIO;
	/* a reader that went away (| head) has all it wanted */
	if (r < 0 && r != -EPIPE)
		fprintf(stderr, "kreview: cannot write the listing: %s\n",
			strerror(-r));
	if (r < 0)
		goto out;
	ret = BUGS_OK;
out:
	bugdb_set_release(&set);
	strbuf_release(&o.buf);
	strbuf_release(&err);
	return ret;
}

/* The database holding 'id'; logs when there is none. */
static struct bugdb *find_bug(struct bugdb_set *set, struct bugs_ctx *c,
			      const char *id)
{
	struct bugdb *db;

	if (open_dbs(set, c) < 0)
		return NULL;
	db = bugdb_set_find(set, id);
	if (!db)
		fprintf(stderr, "kreview: no bug '%s' in '%s'\n", id, c->dir.buf);
	return db;
}

static int do_show(struct bugs_ctx *c)
{
	struct bugdb_set set = BUGDB_SET_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct bugdb_detail d;
	struct bugdb_bug b;
	struct bugdb *db;
	int ret = BUGS_FAIL;

	bugdb_bug_init(&b);
	if (c->argc != 1) {
		usage();
		return BUGS_USAGE;
	}
	db = find_bug(&set, c, c->argv[0]);
	if (!db)
		goto out;
	if (bugdb_get(&b, db, c->argv[0], &err) < 0 ||
	    bugdb_get_detail(&d, db, c->argv[0], &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (c->o.json) {
		struct bugdb_list l = { .v = &b, .nr = 1 };

		bugexport_list_json(&out, bugdb_section(db), &l, true);
	} else {
		bugexport_show_text(&out, bugdb_section(db), &b, &d);
	}
	bugdb_detail_release(&d);
	fputs(out.buf, stdout);
	ret = BUGS_OK;
out:
	bugdb_bug_release(&b);
	bugdb_set_release(&set);
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}

/* set ID status=S prio=P, dup ID OTHER, undup ID, fix ID C, unfix ID */
static int do_change(struct bugs_ctx *c, const char *what)
{
	struct bugdb_set set = BUGDB_SET_INIT;
	struct strbuf err = STRBUF_INIT;
	struct bugdb *db;
	int ret = BUGS_USAGE, r = 0;
	bool unset = !strcmp(what, "unset");
	bool is_set = !strcmp(what, "set") || unset;

	if (c->argc < 1 || (is_set && c->argc < 2) ||
	    (!is_set && c->argc != ((!strcmp(what, "dup") ||
				     !strcmp(what, "fix")) ? 2 : 1))) {
		usage();
		return BUGS_USAGE;
	}
	ret = BUGS_FAIL;
	db = find_bug(&set, c, c->argv[0]);
	if (!db)
		goto out;
	if (!strcmp(what, "dup"))
		r = bugdb_dup(db, c->argv[0], c->argv[1], actor(), NULL, &err);
	else if (!strcmp(what, "undup"))
		r = bugdb_undup(db, c->argv[0], actor(), NULL, &err);
	else if (!strcmp(what, "fix"))
		r = bugdb_fix(db, c->argv[0], c->argv[1], actor(), NULL, &err);
	else if (!strcmp(what, "unfix"))
		r = bugdb_unfix(db, c->argv[0], actor(), NULL, &err);
	for (int i = 1; is_set && i < c->argc && r == 0; i++) {
		const char *a = c->argv[i], *v;

		if (!strcmp(a, "no-reminders")) {
			r = bugdb_set_no_reminders(db, c->argv[0], !unset,
						   actor(), NULL, &err);
		} else if (unset) {
			fprintf(stderr, "kreview: unset takes no-reminders, not "
					"'%s'\n", a);
			ret = BUGS_USAGE;
			goto out;
		} else if ((v = skip_prefix(a, "status=")) != NULL) {
			enum bugdb_status s;

			if (bugdb_status_parse(&s, v) < 0) {
				fprintf(stderr, "kreview: unknown status '%s'\n",
					v);
				ret = BUGS_USAGE;
				goto out;
			}
			r = bugdb_set_status(db, c->argv[0], s, actor(),
					     c->o.reason, NULL, &err);
		} else if ((v = skip_prefix(a, "prio=")) != NULL) {
			enum bugdb_prio p;

			if (bugdb_prio_parse(&p, v) < 0) {
				fprintf(stderr, "kreview: prio is low, normal or "
						"high, not '%s'\n", v);
				ret = BUGS_USAGE;
				goto out;
			}
			r = bugdb_set_prio(db, c->argv[0], p, actor(),
					   c->o.reason, NULL, &err);
		} else if (!strcmp(a, "backburner") ||
			   !strcmp(a, "unbackburn")) {
			r = bugdb_backburner(db, c->argv[0], a[0] == 'b',
					     actor(), c->o.reason, NULL, &err);
		} else {
			fprintf(stderr, "kreview: set takes status=S, prio=P, "
					"backburner, unbackburn or no-reminders, "
					"not '%s'\n", a);
			ret = BUGS_USAGE;
			goto out;
		}
	}
	if (r < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	ret = BUGS_OK;
out:
	bugdb_set_release(&set);
	strbuf_release(&err);
	return ret;
}

/* "digest --queue": compose and queue it as the daemon would (digest.h). */
static int queue_digest(struct bugs_ctx *c)
{
	const char *mfile = c->o.maintainers ? c->o.maintainers :
			    c->bc->maintainers;
	const char *dbpath = c->o.db ? c->o.db : c->cfg->database;
	struct digest_opts o = { .cfg = c->cfg, .bugs = c->bc,
				 .dir = c->dir.buf };
	struct strbuf err = STRBUF_INIT;
	struct digest_result res;
	struct bugdb *bdb = NULL;
	struct maint *m = NULL;
	struct db *db = NULL;
	int ret = BUGS_FAIL;

	memset(&res, 0, sizeof(res));
	if (open_section(&bdb, c) < 0)
		goto out;
	if ((mfile && maint_load_file(&m, mfile, NULL, &err) < 0) ||
	    db_open(&db, dbpath, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	o.maint = m;
	if (digest_queue(&res, db, bdb, DIGEST_CLI, &o, &err) < 0) {
		fprintf(stderr, "kreview: cannot queue the digest: %s\n",
			err.buf);
		goto out;
	}
	if (!res.outbox_id) {
		fprintf(stderr, "kreview: %s: no digest queued: %s\n",
			res.section, res.why);
		ret = BUGS_OK;
		goto out;
	}
	printf("digest of %s (%zu bugs) queued as outbox row %" PRId64
	       " <%s>%s\n", res.section, res.bugs, res.outbox_id, res.msgid,
	       res.to_curator ? ", to the curator for moderation" : "");
	ret = BUGS_OK;
out:
	digest_result_release(&res);
	bugdb_close(bdb);
	maint_free(m);
	db_close(db);
	strbuf_release(&err);
	return ret;
}

static int do_digest(struct bugs_ctx *c)
{
	struct bugdb_digest_opts dopt;
	struct bugdb_list l = BUGDB_LIST_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf mid = STRBUF_INIT, slug = STRBUF_INIT;
	struct bugdb *db = NULL;
	int64_t counts[BUGDB_STATUS_MAX], nnew = 0, nfixed = 0, id = 0;
	int64_t t = time_now_ms();
	int ret = BUGS_FAIL;

	if (!c->o.subsystem) {
		fprintf(stderr, "kreview: digest needs --subsystem\n");
		return BUGS_USAGE;
	}
	if (c->o.queue)
		return queue_digest(c);
	if (open_section(&db, c) < 0)
		goto out;
	dopt.min_bugs = c->bc->digest_min_bugs;
	dopt.max_bugs = c->bc->digest_max_bugs;
	dopt.min_age_ms = c->bc->digest_min_age_ms;
	dopt.quiet_ms = c->bc->digest_quiet_ms;
	dopt.reverify_max_age_ms = c->bc->digest_reverify_max_age_ms;
	if (bugdb_digest_pick(&l, db, &dopt, &err) < 0 ||
	    bugdb_count(counts, db, &err) < 0 ||
	    bugdb_period_counts(&nnew, &nfixed, db, t - c->bc->digest_period_ms,
				&err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (!l.nr) {
		fprintf(stderr, "kreview: %s: fewer than %d bugs are due for a "
				"digest, nothing to send\n",
			bugdb_section(db), dopt.min_bugs);
		ret = BUGS_OK;
		goto out;
	}
	bugdb_slug(&slug, bugdb_section(db));
	strbuf_addf(&mid, "kreview-digest-%s-%" PRId64 "@kreview", slug.buf, t);
	strbuf_addstr(&out, "Subject: ");
	bugexport_digest_subject(&out, bugdb_section(db), t);
	strbuf_addf(&out, "\nMessage-ID: <%s>\nAuto-Submitted: auto-generated\n"
			  "Content-Type: text/plain; charset=utf-8\n\n",
		    mid.buf);
	bugexport_digest_body(&out, bugdb_section(db), &l, nnew, nfixed,
			      counts[BUGDB_OPEN] + counts[BUGDB_CONFIRMED],
			      counts[BUGDB_FIXED], c->bc->url, t);
	if (!c->o.dry_run && bugdb_digest_store(&id, db, mid.buf, &l, &err) < 0) {
		fprintf(stderr, "kreview: cannot store the digest: %s\n",
			err.buf);
		goto out;
	}
	fputs(out.buf, stdout);
	ret = BUGS_OK;
out:
	bugdb_list_release(&l);
	bugdb_close(db);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&mid);
	strbuf_release(&slug);
	return ret;
}

static int write_file(const char *path, const struct strbuf *sb)
{
	FILE *f = fopen(path, "w");
	int r = 0;

	if (!f)
		return -errno;
	if (fwrite(sb->buf, 1, sb->len, f) != sb->len)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

static int do_export(struct bugs_ctx *c)
{
	struct bugdb_set set = BUGDB_SET_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	bool html;
	int ret = BUGS_USAGE;

	if (!c->o.format || (strcmp(c->o.format, "json") &&
			     strcmp(c->o.format, "html"))) {
		fprintf(stderr, "kreview: export needs --format json|html\n");
		return BUGS_USAGE;
	}
	html = !strcmp(c->o.format, "html");
	ret = BUGS_FAIL;
	if (open_dbs(&set, c) < 0)
		goto out;
	if (set.nr > 1 && !c->o.output) {
		fprintf(stderr, "kreview: %zu sections: give --subsystem or "
				"--output DIR\n", set.nr);
		ret = BUGS_USAGE;
		goto out;
	}
	for (size_t i = 0; i < set.nr; i++) {
		struct strbuf path = STRBUF_INIT;
		int r;

		strbuf_reset(&out);
		r = html ? bugexport_html(&out, set.v[i], time_now_ms(), &err) :
			   bugexport_json(&out, set.v[i], &err);
		if (r < 0) {
			fprintf(stderr, "kreview: %s\n", err.buf);
			goto out;
		}
		if (!c->o.output) {
			fputs(out.buf, stdout);
			continue;
		}
		strbuf_addf(&path, "%s/", c->o.output);
		bugdb_slug(&path, bugdb_section(set.v[i]));
		strbuf_addstr(&path, html ? ".html" : ".json");
		r = write_file(path.buf, &out);
		if (r < 0) {
			fprintf(stderr, "kreview: cannot write '%s': %s\n",
				path.buf, strerror(-r));
			strbuf_release(&path);
			goto out;
		}
		printf("%s\n", path.buf);
		strbuf_release(&path);
	}
	ret = BUGS_OK;
out:
	bugdb_set_release(&set);
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}

static int do_mail(struct bugs_ctx *c)
{
	struct bugmail_opts bo = { .dir = c->dir.buf, .cfg = c->cfg };
	struct strbuf raw = STRBUF_INIT, err = STRBUF_INIT, reply = STRBUF_INIT;
	struct maint *m = NULL;
	const char *mfile = c->o.maintainers ? c->o.maintainers :
			    c->bc->maintainers;
	const char *dbpath = c->o.db ? c->o.db : c->cfg->database;
	struct bugmail_result res;
	struct reply_target t;
	struct db *db = NULL;
	int r, ret = BUGS_FAIL;

	memset(&res, 0, sizeof(res));
	reply_target_init(&t);
	if (c->argc != 1) {
		usage();
		return BUGS_USAGE;
	}
	r = !strcmp(c->argv[0], "-") ?
		    strbuf_read_fd(&raw, STDIN_FILENO, MSG_MAX_SIZE) :
		    strbuf_read_file(&raw, c->argv[0], MSG_MAX_SIZE);
	if (r < 0) {
		fprintf(stderr, "kreview: cannot read '%s': %s\n", c->argv[0],
			strerror(-r));
		goto out;
	}
	if (mfile && maint_load_file(&m, mfile, NULL, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	bo.maint = m;
	g_mime_init();
	strbuf_reset(&err);
	r = reply_target_parse(&t, raw.buf, raw.len, time_now_ms(), &err);
	if (r < 0) {
		fprintf(stderr, "kreview: '%s' is not a mail message: %s\n",
			c->argv[0], strerror(-r));
		goto out;
	}
	if (c->o.queue && db_open(&db, dbpath, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (bugmail_handle(&res, &reply, db, &t, &bo, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (res.duplicate)
		fprintf(stderr, "kreview: mail <%s> was processed before, "
				"ignoring\n", res.msgid);
	else if (!res.commands)
		fprintf(stderr, "kreview: no #kreview command in the mail\n");
	else if (!reply.len && res.why)
		fprintf(stderr, "kreview: mail <%s> is not processed: %s\n",
			res.msgid, res.why);
	else
		fprintf(stderr, "kreview: %zu command%s refused or malformed\n",
			res.failed, res.failed == 1 ? "" : "s");
	if (c->o.queue && res.outbox_id)
		fprintf(stderr, "kreview: answer queued in the outbox as %" PRId64
				" (%s)\n",
			res.outbox_id, reply_mode_names[res.mode]);
	else if (c->o.queue && res.answered_before)
		fprintf(stderr, "kreview: the outbox has an answer to <%s> "
				"already, nothing queued\n", res.msgid);
	else if (c->o.queue && reply.len)
		fprintf(stderr, "kreview: nothing queued: %s\n",
			res.why ? res.why : "no answer");
	fputs(reply.buf, stdout);
	ret = BUGS_OK;
out:
	bugmail_result_release(&res);
	reply_target_release(&t);
	db_close(db);
	maint_free(m);
	strbuf_release(&raw);
	strbuf_release(&err);
	strbuf_release(&reply);
	return ret;
}

/* Transfer a bug to another section's database. */
static int do_move(struct bugs_ctx *c)
{
	struct bugdb_set set = BUGDB_SET_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *mfile = c->o.maintainers ? c->o.maintainers :
			    c->bc->maintainers;
	char to_id[BUGDB_ID_MAX];
	struct maint *m = NULL;
	struct bugdb *db, *to = NULL;
	int ret = BUGS_FAIL;

	if (c->argc != 2) {
		usage();
		return BUGS_USAGE;
	}
	db = find_bug(&set, c, c->argv[0]);
	if (!db)
		goto out;
	if (mfile && maint_load_file(&m, mfile, NULL, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (bugdb_set_section_open(&to, &set, c->dir.buf, c->argv[1], m,
				   &err) < 0 ||
	    bugdb_move(to_id, db, c->argv[0], to, actor(), c->o.reason, NULL,
		       &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	printf("%s moved to %s as %s\n", c->argv[0], bugdb_section(to), to_id);
	ret = BUGS_OK;
out:
	maint_free(m);
	bugdb_set_release(&set);
	strbuf_release(&err);
	return ret;
}

/* Walk the tracked branches; trailers naming a bug record its fix. */
static int do_scan_fixes(struct bugs_ctx *c)
{
	struct bugdb_set set = BUGDB_SET_INIT;
	struct strbuf err = STRBUF_INIT;
	git_repository *repo = NULL;
	const char *const *branches;
	size_t nr_branches;
	size_t seen = 0, fixed = 0, pending = 0;
	int ret = BUGS_FAIL;

	if (c->o.nr_branches) {
		branches = c->o.branches;
		nr_branches = c->o.nr_branches;
	} else {
		branches = (const char *const *)c->bc->branches.v;
		nr_branches = c->bc->branches.nr;
	}
	if (!nr_branches) {
		fprintf(stderr, "kreview: no branch to scan: --branch REF or "
				"bugs.branches in the configuration\n");
		return BUGS_USAGE;
	}
	if (tree_open_repo(&repo, c->o.tree, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		ret = BUGS_USAGE;
		goto out;
	}
	if (open_dbs(&set, c) < 0)
		goto out;
	for (size_t bi = 0; bi < nr_branches; bi++) {
		git_revwalk *walk = NULL;
		git_oid oid;
		int n = 0;

		if (git_revwalk_new(&walk, repo) < 0 ||
		    git_revwalk_push_ref(walk, branches[bi]) < 0) {
			const git_error *e = git_error_last();

			fprintf(stderr, "kreview: branch '%s': %s\n", branches[bi],
				e ? e->message : "unknown error");
			git_revwalk_free(walk);
			goto out;
		}
		while (git_revwalk_next(&oid, walk) == 0 &&
		       n++ < (c->o.max_count > 0 ? c->o.max_count : 10000)) {
			git_commit *cm = NULL;
			char **ids = NULL, hex[GIT_OID_HEXSZ + 1];
			size_t nids = 0;

			if (git_commit_lookup(&cm, repo, &oid) < 0)
				continue;
			bugdb_trailer_ids(&ids, &nids, git_commit_message(cm));
			git_oid_tostr(hex, sizeof(hex), &oid);
			for (size_t k = 0; k < nids; k++) {
				struct bugdb *db = bugdb_set_find(&set, ids[k]);
				bool now_fixed = false;

				if (db && bugdb_fix_seen(&now_fixed, db, ids[k], hex,
							 git_commit_summary(cm),
							 branches[bi], branches,
							 nr_branches, &err) < 0) {
					fprintf(stderr, "kreview: %s\n", err.buf);
					strbuf_reset(&err);
				} else if (db) {
					seen++;
					if (now_fixed) {
						fixed++;
						printf("%s fixed by %.12s (\"%s\")\n",
						       ids[k], hex,
						       git_commit_summary(cm));
					}
				}
				free(ids[k]);
			}
			free(ids);
			git_commit_free(cm);
		}
		git_revwalk_free(walk);
	}
	for (size_t i = 0; i < set.nr; i++) {
		int64_t counts[BUGDB_STATUS_MAX];

		if (bugdb_count(counts, set.v[i], &err) == 0)
			pending += (size_t)counts[BUGDB_FIX_PENDING];
	}
	fprintf(stderr, "kreview: %zu fixing trailers seen, %zu bugs fixed, "
			"%zu fix-pending\n", seen, fixed, pending);
	ret = BUGS_OK;
out:
	git_repository_free(repo);
	bugdb_set_release(&set);
	strbuf_release(&err);
	return ret;
}

/* ---- reverify ---- */

enum { BUGS_INFRA = 3 };

/*
 * The LLM verifier of one run, set up on first use (a run that needs
 * no verifier needs no endpoint).
 */
struct reverify {
	struct bugs_ctx *c;
	bool tried, ready;	/* verifier setup attempted, succeeded */
	int setup_status;	/* exit status of a failed setup */
	struct prompt_set *prompts;
	struct llm_engine *engine;
	struct db *cache;
	char *secret;
	struct bugverify_opts vo;
};

/* Load the prompt and, unless dry, the engine and the cache; prints. */
static int verifier_setup(const struct bugverify_opts **out, void *ctx)
{
	struct reverify *rv = ctx;
	struct bugs_ctx *c = rv->c;
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;

	rv->tried = true;
	rv->setup_status = BUGS_FAIL;
	prompt_find_dir(&dir, c->cfg->review.prompts);
	if (prompt_set_load(&rv->prompts, dir.buf, &err) < 0) {
		fprintf(stderr, "kreview: cannot load the prompts in '%s':\n%s\n",
			dir.buf, err.buf);
		goto out;
	}
	rv->vo.prompt = prompt_set_role(rv->prompts, PROMPT_BUGVERIFY);
	if (!rv->vo.prompt) {
		fprintf(stderr, "kreview: the prompts in '%s' have no "
				"bugverify.md: the verifier cannot be asked\n",
			dir.buf);
		goto out;
	}
	if (c->o.dry_run) {
		rv->vo.endpoint = job_endpoint(c->cfg, c->o.endpoint);
		rv->ready = true;
		goto out;
	}
	strbuf_reset(&err);
	if (cmd_llm_engine(&rv->engine, c->cfg, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		rv->setup_status = BUGS_USAGE;
		goto out;
	}
	rv->vo.endpoint = job_endpoint(c->cfg, c->o.endpoint);
	if (!rv->vo.endpoint) {
		fprintf(stderr, "kreview: no LLM endpoint is configured and no "
				"local server answered, so the verifier cannot "
				"be asked; see kreview.yaml(5)\n");
		rv->setup_status = BUGS_INFRA;
		goto out;
	}
	if (!llm_engine_endpoint(rv->engine, rv->vo.endpoint)) {
		fprintf(stderr, "kreview: no endpoint named '%s'\n",
			rv->vo.endpoint);
		rv->setup_status = BUGS_USAGE;
		goto out;
	}
	strbuf_reset(&err);
	if (db_open(&rv->cache, c->cfg->database, &err) < 0) {
		fprintf(stderr, "kreview: %s (the answer cache is off)\n",
			err.buf);
		rv->cache = NULL;
	}
	if (rv->cache && review_fence_secret(&rv->secret, rv->cache) < 0)
		rv->secret = NULL;
	rv->vo.engine = rv->engine;
	rv->vo.cache = rv->cache;
	rv->vo.fresh = c->o.fresh;
	rv->vo.fence_secret = rv->secret;
	rv->ready = true;
out:
	strbuf_release(&dir);
	strbuf_release(&err);
	*out = &rv->vo;
	return rv->ready ? 0 : -1;
}

static void reverify_release(struct reverify *rv)
{
	llm_engine_free(rv->engine);
	prompt_set_free(rv->prompts);
	db_close(rv->cache);
	free(rv->secret);
}

/* Results on standard output, problems on standard error. */
static void reverify_say(void *ctx, bool problem, const char *line)
{
	(void)ctx;
	if (problem)
		fprintf(stderr, "kreview: %s\n", line);
	else
		printf("%s\n", line);
}

/*
 * The bugs to re-verify: the IDs given (each must exist and be open,
 * confirmed or fix-pending), else every such bug of 'set'.  Prints;
 * negative when an ID is bad (nothing is done then).
 */
static int reverify_pick(struct bugpass_list *out, const struct bugdb_set *set,
			 struct bugs_ctx *c)
{
	struct strbuf err = STRBUF_INIT;
	int r = 0;

	if (!c->argc && bugpass_list_all(out, set, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		r = -EIO;
	}
	for (int k = 0; k < c->argc && r == 0; k++) {
		r = bugpass_list_add(out, set, c->argv[k], &err);
		if (r == -ENOENT)
			fprintf(stderr, "kreview: no bug '%s' in '%s'%s\n",
				c->argv[k], c->dir.buf,
				c->o.subsystem ? " for that --subsystem" : "");
		else if (r < 0)
			fprintf(stderr, "kreview: %s\n", err.buf);
	}
	strbuf_release(&err);
	return r;
}

/*
 * Re-verification (reference §7): the pass of bugpass.h over the bugs
 * picked, in pass order.
 */
static int do_reverify(struct bugs_ctx *c)
{
	struct reverify rv = { .c = c };
	struct bugpass_opts po = { 0 };
	struct bugpass_list list = BUGPASS_LIST_INIT;
	struct bugpass_counts counts;
	struct bugdb_set set = BUGDB_SET_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *rev = c->o.rev ? c->o.rev : "HEAD";
	git_repository *repo = NULL;
	git_oid commit;
	int ret = BUGS_FAIL;

	/* without endpoints a local server is looked for later */
	if (c->o.endpoint && c->cfg->endpoints &&
	    !llm_config_find(c->cfg->endpoints, c->o.endpoint)) {
		fprintf(stderr, "kreview: no endpoint named '%s' in the "
				"configuration\n", c->o.endpoint);
		return BUGS_USAGE;
	}
	if (tree_open_repo(&repo, c->o.tree, &err) < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		ret = BUGS_USAGE;
		goto out;
	}
	if (bugverify_resolve(&commit, repo, rev) < 0) {
		fprintf(stderr, "kreview: no commit '%s' in the tree\n", rev);
		goto out;
	}
	if (open_dbs(&set, c) < 0 || reverify_pick(&list, &set, c) < 0)
		goto out;
	bugpass_list_sort(&list);
	po.repo = repo;
	po.commit = &commit;
	po.dry_run = c->o.dry_run;
	po.max_asks = c->o.limit > 0 ? (size_t)c->o.limit : 0;
	po.actor = actor();
	po.verifier = verifier_setup;
	po.say = reverify_say;
	po.ctx = &rv;
	bugpass_run(&counts, &list, &po);
	strbuf_reset(&err);
	bugpass_summary(&err, &counts, c->o.dry_run);
	fprintf(stderr, "kreview: %s\n", err.buf);
	ret = BUGS_OK;
	if (counts.errors)
		ret = rv.tried && !rv.ready ? rv.setup_status :
		      counts.broken	    ? BUGS_INFRA :
					      BUGS_FAIL;
out:
	bugpass_list_release(&list);
	reverify_release(&rv);
	git_repository_free(repo);
	bugdb_set_release(&set);
	strbuf_release(&err);
	return ret;
}

int cmd_bugs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'D' },
		{ "subsystem", required_argument, NULL, 's' },
		{ "status", required_argument, NULL, 'S' },
		{ "severity", required_argument, NULL, 'v' },
		{ "sort", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "reason", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'O' },
		{ "tree", required_argument, NULL, 't' },
		{ "rev", required_argument, NULL, 'R' },
		{ "branch", required_argument, NULL, 'b' },
		{ "max-count", required_argument, NULL, 'm' },
		{ "maintainers", required_argument, NULL, 'M' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "fresh", no_argument, NULL, 'F' },
		{ "queue", no_argument, NULL, 'Q' },
		{ "db", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct bugs_ctx c;
	struct strbuf err = STRBUF_INIT;
	const char *sub;
	int opt, ret = BUGS_USAGE;

	memset(&c, 0, sizeof(c));
	strbuf_init(&c.dir, 0);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': c.o.config = optarg; break;
		case 'D': c.o.dir = optarg; break;
		case 's': c.o.subsystem = optarg; break;
		case 'S': c.o.status = optarg; break;
		case 'v': c.o.severity = optarg; break;
		case 'o': c.o.sort = optarg; break;
		case 'j': c.o.json = true; break;
		case 'r': c.o.reason = optarg; break;
		case 'f': c.o.format = optarg; break;
		case 'O': c.o.output = optarg; break;
		case 't': c.o.tree = optarg; break;
		case 'R': c.o.rev = optarg; break;
		case 'M': c.o.maintainers = optarg; break;
		case 'n': c.o.dry_run = true; break;
		case 'e': c.o.endpoint = optarg; break;
		case 'F': c.o.fresh = true; break;
		case 'Q': c.o.queue = true; break;
		case 'B': c.o.db = optarg; break;
		case 'b':
			if (c.o.nr_branches == ARRAY_SIZE(c.o.branches)) {
				fprintf(stderr, "kreview: too many --branch\n");
				goto out;
			}
			c.o.branches[c.o.nr_branches++] = optarg;
			break;
		case 'l':
		case 'm':
			if (parse_int(opt == 'l' ? &c.o.limit : &c.o.max_count,
				      optarg, 1, INT_MAX) < 0) {
				fprintf(stderr, "kreview: not a positive number: "
						"'%s'\n", optarg);
				goto out;
			}
			break;
		default:
			usage();
			goto out;
		}
	}
	if (optind >= argc) {
		usage();
		goto out;
	}
	sub = argv[optind];
	c.argc = argc - optind - 1;
	c.argv = argv + optind + 1;
	if (config_load(&c.cfg, c.o.config, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	c.bc = c.cfg->bugs;
	if (!c.bc)
		c.bc = c.defcfg = bugdb_config_default();
	if (c.o.dir)
		strbuf_addstr(&c.dir, c.o.dir);
	else
		bugdb_config_dir(&c.dir, c.bc, c.cfg->state_dir);

	if (!strcmp(sub, "list"))
		ret = do_list(&c);
	else if (!strcmp(sub, "show"))
		ret = do_show(&c);
	else if (!strcmp(sub, "set") || !strcmp(sub, "unset") ||
		 !strcmp(sub, "dup") ||
		 !strcmp(sub, "undup") || !strcmp(sub, "fix") ||
		 !strcmp(sub, "unfix"))
		ret = do_change(&c, sub);
	else if (!strcmp(sub, "digest"))
		ret = do_digest(&c);
	else if (!strcmp(sub, "export"))
		ret = do_export(&c);
	else if (!strcmp(sub, "mail"))
		ret = do_mail(&c);
	else if (!strcmp(sub, "move"))
		ret = do_move(&c);
	else if (!strcmp(sub, "scan-fixes"))
		ret = do_scan_fixes(&c);
	else if (!strcmp(sub, "reverify"))
		ret = do_reverify(&c);
	else
		usage();
out:
	config_free(c.cfg);
	bugdb_config_free(c.defcfg);
	strbuf_release(&c.dir);
	strbuf_release(&err);
	return ret;
}
