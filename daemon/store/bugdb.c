/* Per-subsystem bug databases: see bugdb.h and reference/bug-db.md. */
#include "kreview/bugdb.h"
#include "kreview/db.h"
#include "kreview/hash.h"
#include "kreview/aggregate.h"
#include "kreview/maint.h"
#include "kreview/migrations.h"
#include "kreview/reply.h"
#include "kreview/review.h"
#include "kreview/strbuf.h"
#include "kreview/trailer.h"
#include "kreview/yamlnode.h"

#include <ctype.h>
#include <dirent.h>
#include <git2.h>
#include <sqlite3.h>
#include <sys/stat.h>

/* Title similarity at which a same-place finding joins a bug (§4.2). */
#define SIMILAR_TITLE 0.6
/* dup_of chains longer than this are treated as cycles. */
#define MAX_DUP_CHAIN 32
#define ID_HEX_MIN 8
#define ID_HEX_MAX 16

static const char *const status_names[BUGDB_STATUS_MAX] = {
	[BUGDB_OPEN] = "open",
	[BUGDB_CONFIRMED] = "confirmed",
	[BUGDB_FIX_PENDING] = "fix-pending",
	[BUGDB_FIXED] = "fixed",
	[BUGDB_INVALID] = "invalid",
	[BUGDB_WONTFIX] = "wontfix",
	[BUGDB_DUP] = "dup",
	[BUGDB_OBSOLETE] = "obsolete",
};

static const char *const prio_names[BUGDB_PRIO_MAX] = {
	[BUGDB_PRIO_LOW] = "low",
	[BUGDB_PRIO_NORMAL] = "normal",
	[BUGDB_PRIO_HIGH] = "high",
};

static const char *const admission_names[BUGDB_ADMISSION_MAX] = {
	[BUGDB_NOT_QUALIFIED] = "not-qualified",
	[BUGDB_NEW] = "new",
	[BUGDB_SIGHTING] = "sighting",
	[BUGDB_RECURRENCE] = "recurrence",
	[BUGDB_SUPPRESSED] = "suppressed",
	[BUGDB_REOPENED] = "reopened",
};

const char *bugdb_status_name(enum bugdb_status s)
{
	if ((unsigned)s >= BUGDB_STATUS_MAX)
		BUG("bad bug status %d", (int)s);
	return status_names[s];
}

int bugdb_status_parse(enum bugdb_status *out, const char *name)
{
	int i = name_index(status_names, BUGDB_STATUS_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum bugdb_status)i;
	return 0;
}

const char *bugdb_prio_name(enum bugdb_prio p)
{
	if ((unsigned)p >= BUGDB_PRIO_MAX)
		BUG("bad bug prio %d", (int)p);
	return prio_names[p];
}

int bugdb_prio_parse(enum bugdb_prio *out, const char *name)
{
	int i = name_index(prio_names, BUGDB_PRIO_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum bugdb_prio)i;
	return 0;
}

const char *bugdb_admission_name(enum bugdb_admission a)
{
	if ((unsigned)a >= BUGDB_ADMISSION_MAX)
		BUG("bad admission %d", (int)a);
	return admission_names[a];
}

int bugdb_sort_parse(enum bugdb_sort *out, const char *name)
{
	static const char *const names[BUGDB_SORT_MAX] = {
		"severity", "seen", "age" };

	int i = name_index(names, BUGDB_SORT_MAX, name);

	if (i < 0)
		return -EINVAL;
	*out = (enum bugdb_sort)i;
	return 0;
}

/* ---- configuration ---- */

/* Names for the severity floor; the index is enum finding_severity. */
static const char *const floor_names[] = { "low", "medium", "high",
					   "critical", NULL };

static const struct config_field section_fields[] = {
	{CONFIG_F_STRING(struct bugdb_section_policy, section, "section"),
	 .required = true, .doc = "MAINTAINERS section title"},
	{CONFIG_F_INT(struct bugdb_section_policy, min_support, "min_support"),
	 .min = 1, .max = 16, .def_int = 2,
	 .doc = "passes that must report a finding"},
	{CONFIG_F_BOOL(struct bugdb_section_policy, require_verification,
		       "require_verification"),
	 .doc = "only verifier-confirmed findings enter"},
	{CONFIG_F_ENUM(struct bugdb_section_policy, severity_floor,
		       "severity_floor", floor_names),
	 .def_int = SEV_MEDIUM, .doc = "lowest severity recorded"},
	{NULL}};

const struct config_field bugdb_config_fields[] = {
	{CONFIG_F_STRING(struct bugdb_config, dir, "dir"),
	 .doc = "directory of the per-section databases (default "
		"<state_dir>/bugs)"},
	{CONFIG_F_INT(struct bugdb_config, min_support, "min_support"),
	 .min = 1, .max = 16, .def_int = 2,
	 .doc = "passes that must report a pre-existing finding, unless a "
		"verifier confirmed it"},
	{CONFIG_F_BOOL(struct bugdb_config, require_verification,
		       "require_verification"),
	 .doc = "only verifier-confirmed findings enter"},
	{CONFIG_F_ENUM(struct bugdb_config, severity_floor, "severity_floor",
		       floor_names),
	 .def_int = SEV_MEDIUM, .doc = "lowest severity recorded"},
	{CONFIG_F_SEQUENCE(struct bugdb_config, sections, "sections",
			   section_fields, struct bugdb_section_policy),
	 .doc = "per-section admission policies"},
	{CONFIG_F_STRLIST(struct bugdb_config, triagers, "triagers"),
	 .doc = "address patterns allowed to triage every section"},
	{CONFIG_F_STRING(struct bugdb_config, maintainers, "maintainers"),
	 .doc = "MAINTAINERS file whose M: and R: may triage a section"},
	{CONFIG_F_ENUM(struct bugdb_config, command_replies, "command_replies",
		       reply_mode_names),
	 .def_int = REPLY_MODE_DRY_RUN,
	 .doc = "mode of the answer to a #kreview mail that came through "
		"no list wanting mail"},
	{CONFIG_F_INT(struct bugdb_config, private_replies_per_day,
		      "private_replies_per_day"),
	 .min = 0, .max = 10000, .def_int = 5,
	 .doc = "answers sent to one address alone in 24 hours; 0: no cap"},
	{CONFIG_F_STRLIST(struct bugdb_config, branches, "branches"),
	 .doc = "branches a fix must reach before a bug is fixed"},
	{CONFIG_F_STRING(struct bugdb_config, url, "url"),
	 .doc = "base URL where bugs are published as <url>/<id>"},
	{CONFIG_F_INT(struct bugdb_config, digest_min_bugs, "digest_min_bugs"),
	 .min = 1, .max = 1000, .def_int = 2,
	 .doc = "no digest with fewer open bugs"},
	{CONFIG_F_INT(struct bugdb_config, digest_max_bugs, "digest_max_bugs"),
	 .min = 1, .max = 1000, .def_int = 20, .doc = "bugs per digest"},
	{CONFIG_F_DURATION(struct bugdb_config, digest_min_age_ms,
			   "digest_min_age"),
	 .min = 0, .max = 365LL * 86400 * 1000, .def_int = 7LL * 86400 * 1000,
	 .doc = "leave out bugs younger than this"},
	{CONFIG_F_DURATION(struct bugdb_config, digest_quiet_ms,
			   "digest_quiet_after_reply"),
	 .min = 0, .max = 365LL * 86400 * 1000,
	 .def_int = 14LL * 86400 * 1000,
	 .doc = "leave out bugs a human touched this recently"},
	{CONFIG_F_DURATION(struct bugdb_config, digest_reverify_max_age_ms,
			   "digest_reverify_max_age"),
	 .min = 0, .max = 365LL * 86400 * 1000,
	 .def_int = 14LL * 86400 * 1000,
	 .doc = "leave out bugs not verified present this recently "
		"(possibly fixed); 0 turns the check off"},
	{CONFIG_F_DURATION(struct bugdb_config, reverify_interval_ms,
			   "reverify_interval"),
	 .min = 0, .max = 365LL * 86400 * 1000, .def_int = 86400LL * 1000,
	 .doc = "the daemon re-verifies open bugs this often (and at once "
		"after a poke); 0 turns it off"},
	{CONFIG_F_STRING(struct bugdb_config, reverify_tree, "reverify_tree"),
	 .doc = "git tree the daemon re-verifies against (default "
		"daemon.tree; neither: off)"},
	{CONFIG_F_STRING(struct bugdb_config, reverify_rev, "reverify_rev"),
	 .def_str = "HEAD", .doc = "revision of that tree to re-verify at"},
	{CONFIG_F_STRING(struct bugdb_config, reverify_endpoint,
			 "reverify_endpoint"),
	 .doc = "endpoint the daemon's verifier asks (default "
		"review.endpoint, else the first)"},
	{CONFIG_F_INT(struct bugdb_config, reverify_budget, "reverify_budget"),
	 .min = 0, .max = 100000, .def_int = 50,
	 .doc = "verifier requests per daemon pass; 0: no limit"},
	{CONFIG_F_DURATION(struct bugdb_config, digest_period_ms,
			   "digest_period"),
	 .min = 86400LL * 1000, .max = 365LL * 86400 * 1000,
	 .def_int = 30LL * 86400 * 1000,
	 .doc = "the daemon sends a section's digest this often"},
	{CONFIG_F_INT(struct bugdb_config, digest_daily_limit,
		      "digest_daily_limit"),
	 .min = 0, .max = 1000, .def_int = 3,
	 .doc = "digests the daemon queues a day, all sections together; "
		"0: none"},
	{CONFIG_F_BOOL(struct bugdb_config, digest_moderation,
		       "digest_moderation"),
	 .def_bool = true,
	 .doc = "a section's digests go to digest_curator until one is "
		"released with #kreview upstream"},
	{CONFIG_F_STRING(struct bugdb_config, digest_curator,
			 "digest_curator"),
	 .doc = "address that moderated digests go to"},
	{CONFIG_F_STRLIST(struct bugdb_config, digest_sections,
			  "digest_sections"),
	 .doc = "MAINTAINERS section titles that get digests; empty: none"},
	{NULL}};

int bugdb_config_parse(void *field, const struct yamlnode *node,
		       struct strbuf *err)
{
	struct bugdb_config **pc = field, *c = xcalloc(1, sizeof(*c));
	int r;

	*pc = c;
	if (node && !yamlnode_is_null(node) && node->kind != YAMLNODE_MAPPING) {
		config_bind(c, bugdb_config_fields, NULL, NULL);
		yamlnode_error(err, node, "bugs: expected a mapping, got %s",
			       yamlnode_kind_name(node->kind));
		return -EINVAL;
	}
	r = config_bind(c, bugdb_config_fields, node, err);
	if (r == 0 && c->dir && c->dir[0] != '/') {
		yamlnode_error(err, node, "bugs: dir must be absolute");
		r = -EINVAL;
	}
	if (r == 0 && c->reverify_tree && c->reverify_tree[0] != '/') {
		yamlnode_error(err, yamlnode_map_get(node, "reverify_tree"),
			       "bugs: reverify_tree must be absolute");
		r = -EINVAL;
	}
	/* moderated digests would wait for a curator that is not there */
	if (r == 0 && c->digest_sections.nr && c->digest_moderation &&
	    (!c->digest_curator || !*c->digest_curator)) {
		yamlnode_error(err, yamlnode_map_get(node, "digest_sections"),
			       "bugs: digest_moderation needs digest_curator "
			       "(or set digest_moderation: false)");
		r = -EINVAL;
	}
	return r;
}

void bugdb_config_release(void *field)
{
	struct bugdb_config **pc = field;

	bugdb_config_free(*pc);
	*pc = NULL;
}

struct bugdb_config *bugdb_config_default(void)
{
	struct bugdb_config *c = xcalloc(1, sizeof(*c));

	config_bind(c, bugdb_config_fields, NULL, NULL);
	return c;
}

void bugdb_config_free(struct bugdb_config *c)
{
	if (!c)
		return;
	config_release(c, bugdb_config_fields);
	free(c);
}

void bugdb_config_dir(struct strbuf *out, const struct bugdb_config *c,
		      const char *state_dir)
{
	if (c && c->dir)
		strbuf_addstr(out, c->dir);
	else
		strbuf_addf(out, "%s/bugs", state_dir ? state_dir : ".");
}

void bugdb_config_policy(struct bugdb_policy *out,
			 const struct bugdb_config *c, const char *section)
{
	out->min_support = 2;
	out->require_verification = false;
	out->severity_floor = SEV_MEDIUM;
	if (!c)
		return;
	out->min_support = c->min_support;
	out->require_verification = c->require_verification;
	out->severity_floor = c->severity_floor;
	for (size_t i = 0; section && i < c->sections.nr; i++) {
		const struct bugdb_section_policy *p =
			(const struct bugdb_section_policy *)c->sections.items + i;

		if (!strcasecmp(p->section, section)) {
			out->min_support = p->min_support;
			out->require_verification = p->require_verification;
			out->severity_floor = p->severity_floor;
		}
	}
}

/* ---- names and files ---- */

void bugdb_slug(struct strbuf *out, const char *section)
{
	size_t start = out->len;
	bool dash = false;

	for (const char *p = section; *p && out->len - start < 64; p++) {
		unsigned char ch = (unsigned char)*p;

		if (isascii(ch) && isalnum(ch)) {
			if (dash && out->len > start)
				strbuf_addch(out, '-');
			dash = false;
			strbuf_addch(out, (char)tolower(ch));
		} else {
			dash = true;
		}
	}
	if (out->len == start)
		strbuf_addstr(out, "section");
}

void bugdb_id_prefix(struct strbuf *out, const char *section)
{
	struct strbuf slug = STRBUF_INIT;
	size_t start = out->len, n = 0;
	const char *p;

	bugdb_slug(&slug, section);
	/* the first word, up to three characters ... */
	for (p = slug.buf; *p && *p != '-' && n < 3; p++, n++)
		strbuf_addch(out, (char)toupper((unsigned char)*p));
	/* ... filled up with the initials of the next words */
	while (n < 3 && (p = strchr(p, '-')) != NULL) {
		p++;
		if (*p) {
			strbuf_addch(out, (char)toupper((unsigned char)*p));
			n++;
		}
	}
	if (out->len == start)
		strbuf_addstr(out, "BUG");
	strbuf_release(&slug);
}

void bugdb_path(struct strbuf *out, const char *dir, const char *section)
{
	strbuf_addf(out, "%s/", dir);
	bugdb_slug(out, section);
	strbuf_addstr(out, ".db");
}

bool bugdb_id_valid(const char *s)
{
	size_t n = 0, hex = 0;

	while (isascii((unsigned char)s[n]) && isalnum((unsigned char)s[n]))
		n++;
	if (n < 1 || n > 4 || s[n] != '-')
		return false;
	s += n + 1;
	while (isxdigit((unsigned char)s[hex]))
		hex++;
	return hex >= ID_HEX_MIN && hex <= ID_HEX_MAX && !s[hex];
}

/* ---- the handle ---- */

/* A cached statement of a dynamic query (bugdb_query_each). */
struct bugdb_qstmt {
	char *sql;
	sqlite3_stmt *st;
	bool busy;		/* a walk is stepping it */
};

struct bugdb {
	struct db *conn;
	sqlite3 *h;		/* db_handle(conn) */
	char *path;
	char *section;
	char *prefix;
	char *maintainers;
	int version;
	int64_t clock_ms;
	struct bugdb_qstmt queries[8];
	size_t queries_next;
};

const char *bugdb_section(const struct bugdb *db)
{
	return db->section;
}

const char *bugdb_prefix(const struct bugdb *db)
{
	return db->prefix;
}

int bugdb_schema_version(const struct bugdb *db)
{
	return db->version;
}

const char *bugdb_maintainers(const struct bugdb *db)
{
	return db->maintainers ? db->maintainers : "";
}

void bugdb_set_clock(struct bugdb *db, int64_t now_ms)
{
	db->clock_ms = now_ms;
}

static int64_t now(const struct bugdb *db)
{
	return db->clock_ms ? db->clock_ms : time_now_ms();
}

/* A cached statement keyed by the address of its SQL literal. */
static sqlite3_stmt *stmt(struct bugdb *db, const char *sql)
{
	return db_prepare(db->conn, sql);
}

/* db_step(), with the file named in errors: there are many of them. */
static int step(struct bugdb *db, sqlite3_stmt *st, struct strbuf *err)
{
	int r = db_step(db->conn, st, NULL);

	if (r < 0 && err)
		strbuf_addf(err, "%s: %s", db->path, db_errmsg(db->conn));
	return r;
}

static int exec(struct bugdb *db, const char *sql, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	int r = db_exec(db->conn, sql, &e);

	if (r < 0 && err)
		strbuf_addf(err, "%s: %s", db->path, e.buf);
	strbuf_release(&e);
	return r;
}

/* Savepoints nest inside a caller's transaction and begin one if none. */
static int begin(struct bugdb *db, struct strbuf *err)
{
	return exec(db, "SAVEPOINT bugdb", err);
}

static int commit(struct bugdb *db, struct strbuf *err)
{
	return exec(db, "RELEASE bugdb", err);
}

static void rollback(struct bugdb *db)
{
	(void)sqlite3_exec(db->h, "ROLLBACK TO bugdb; RELEASE bugdb", NULL,
			   NULL, NULL);
}

int bugdb_begin(struct bugdb *db, struct strbuf *err)
{
	return exec(db, "BEGIN IMMEDIATE", err);
}

int bugdb_begin_read(struct bugdb *db, struct strbuf *err)
{
	int r = exec(db, "BEGIN DEFERRED", err);

	if (r < 0)
		return r;
	/* a deferred transaction takes its snapshot at the first read */
	r = exec(db, "SELECT 1 FROM meta LIMIT 1", err);
	if (r < 0)
		(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int bugdb_commit(struct bugdb *db, struct strbuf *err)
{
	return exec(db, "COMMIT", err);
}

static char *meta_get(struct bugdb *db, const char *key)
{
	sqlite3_stmt *st = stmt(db, "SELECT value FROM meta WHERE key = ?");
	char *v = NULL;

	db_bind_text(st, 1, key);
	if (step(db, st, NULL) == 1)
		v = db_column_strdup(st, 0);
	db_done(st);
	return v;
}

static int meta_set(struct db *conn, const char *key, const char *value,
		    struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(conn, "INSERT INTO meta(key, value)"
					    " VALUES (?, ?) ON CONFLICT(key)"
					    " DO UPDATE SET value = excluded.value");
	int r;

	db_bind_text(st, 1, key);
	db_bind_text(st, 2, value);
	r = db_step(conn, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

/* A new file: it holds 'section' (NULL: opening, not creating, one). */
static int init_meta(struct db *conn, void *arg, struct strbuf *err)
{
	const char *section = arg;
	struct strbuf pfx = STRBUF_INIT;
	int r;

	if (!section) {
		strbuf_addf(err, "not a bug database yet");
		return -ENOENT;
	}
	bugdb_id_prefix(&pfx, section);
	r = meta_set(conn, "section", section, err);
	if (r == 0)
		r = meta_set(conn, "prefix", pfx.buf, err);
	strbuf_release(&pfx);
	return r;
}

int bugdb_open(struct bugdb **out, const char *path, const char *section,
	       struct strbuf *err)
{
	struct bugdb *db = xcalloc(1, sizeof(*db));
	struct db_schema schema = {
		.what = "kreview bug database",
		.application_id = BUGDB_APPLICATION_ID,
		.migrations = bugdb_migrations,
		.nr = bugdb_migrations_nr,
		.create = section != NULL,
		.init = init_meta,
		.init_arg = (void *)section,
	};
	struct strbuf e = STRBUF_INIT;
	struct stat st;
	int r;

	db->path = xstrdup(path);
	if (section && (!*section || strlen(section) > BUGDB_SECTION_MAX)) {
		strbuf_addf(err, "bad section title for '%s'", path);
		r = -EINVAL;
		goto fail;
	}
	if (!section && stat(path, &st) < 0) {
		r = -errno;
		strbuf_addf(err, "cannot open bug database '%s': %s", path,
			    strerror(errno));
		goto fail;
	}
	r = db_open_schema(&db->conn, path, &schema, &e);
	if (r == -ENOENT) {
		strbuf_addf(err, "'%s' is %s", path, e.buf);
		goto fail;
	} else if (r < 0) {
		strbuf_addbuf(err, &e);
		goto fail;
	}
	db->h = db_handle(db->conn);
	db->version = db_schema_version(db->conn);
	db->section = meta_get(db, "section");
	db->prefix = meta_get(db, "prefix");
	db->maintainers = meta_get(db, "maintainers");
	if (!db->section || !db->prefix) {
		strbuf_addf(err, "'%s' has no section in its meta table", path);
		r = -EPROTO;
		goto fail;
	}
	if (section && strcmp(section, db->section)) {
		strbuf_addf(err, "'%s' holds section '%s', not '%s'", path,
			    db->section, section);
		r = -EPROTO;
		goto fail;
	}
	strbuf_release(&e);
	*out = db;
	return 0;
fail:
	strbuf_release(&e);
	bugdb_close(db);
	return r;
}

void bugdb_close(struct bugdb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(db->queries); i++) {
		sqlite3_finalize(db->queries[i].st);
		free(db->queries[i].sql);
	}
	db_close(db->conn);
	free(db->path);
	free(db->section);
	free(db->prefix);
	free(db->maintainers);
	free(db);
}

int bugdb_set_maintainers(struct bugdb *db, const struct maint *m,
			  struct strbuf *err)
{
	const struct maint_section *sec = maint_find_section(m, db->section);
	struct strbuf list = STRBUF_INIT;
	int r;

	if (!sec)
		return 0;
	for (size_t i = 0; i < sec->nr_entries; i++) {
		const struct maint_entry *e = &sec->entries[i];
		const char *lt, *gt;

		if (e->type != 'M' && e->type != 'R')
			continue;
		lt = strchr(e->value, '<');
		gt = lt ? strchr(lt, '>') : NULL;
		if (lt && gt)
			strbuf_add(&list, lt + 1, (size_t)(gt - lt - 1));
		else if (strchr(e->value, '@'))
			strbuf_addstr(&list, e->value);
		else
			continue;
		strbuf_addch(&list, '\n');
	}
	strbuf_tolower(&list);
	if (db->maintainers && !strcmp(db->maintainers, list.buf)) {
		strbuf_release(&list);
		return 0;
	}
	r = meta_set(db->conn, "maintainers", list.buf, err);
	if (r == 0) {
		free(db->maintainers);
		db->maintainers = strbuf_detach(&list, NULL);
	}
	strbuf_release(&list);
	return r;
}

/* ---- sets of databases ---- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int bugdb_set_open(struct bugdb_set *out, const char *dir, struct strbuf *warn)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t nr = 0, alloc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len > 3 && !strcmp(de->d_name + len - 3, ".db") &&
		    de->d_name[0] != '.') {
			ALLOC_GROW(names, nr + 1, alloc);
			names[nr++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (nr)
		qsort(names, nr, sizeof(*names), cmp_name);
	for (size_t i = 0; i < nr; i++) {
		struct strbuf path = STRBUF_INIT, e = STRBUF_INIT;
		struct bugdb *db = NULL;

		strbuf_addf(&path, "%s/%s", dir, names[i]);
		if (bugdb_open(&db, path.buf, NULL, &e) < 0) {
			if (warn)
				strbuf_addf(warn, "%s, skipped\n", e.buf);
		} else {
			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			out->v[out->nr++] = db;
		}
		strbuf_release(&path);
		strbuf_release(&e);
		free(names[i]);
	}
	free(names);
	return 0;
}

void bugdb_set_release(struct bugdb_set *set)
{
	for (size_t i = 0; i < set->nr; i++)
		bugdb_close(set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static int find_id(char out[BUGDB_ID_MAX], struct bugdb *db, const char *id);

struct bugdb *bugdb_set_find(const struct bugdb_set *set, const char *id)
{
	char buf[BUGDB_ID_MAX];
	const char *dash = strchr(id, '-');
	size_t plen = dash ? (size_t)(dash - id) : 0;

	/* databases whose prefix matches first, then the rest */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < set->nr; i++) {
			struct bugdb *db = set->v[i];
			bool same = strlen(db->prefix) == plen &&
				    !strncasecmp(db->prefix, id, plen);

			if (same != (pass == 0))
				continue;
			if (find_id(buf, db, id) == 1)
				return db;
		}
	}
	return NULL;
}

struct bugdb *bugdb_set_section(const struct bugdb_set *set,
				const char *section)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct bugdb *found = NULL;

	bugdb_slug(&a, section);
	for (size_t i = 0; i < set->nr && !found; i++) {
		strbuf_reset(&b);
		bugdb_slug(&b, set->v[i]->section);
		if (!strcasecmp(set->v[i]->section, section) ||
		    !strcmp(a.buf, b.buf))
			found = set->v[i];
	}
	strbuf_release(&a);
	strbuf_release(&b);
	return found;
}

/* ---- bug records ---- */

void bugdb_bug_init(struct bugdb_bug *b)
{
	memset(b, 0, sizeof(*b));
}

void bugdb_bug_release(struct bugdb_bug *b)
{
	if (!b)
		return;
	free(b->title);
	free(b->signature);
	free(b->origin);
	free(b->dup_of);
	free(b->prev_bug);
	free(b->file);
	free(b->function);
	free(b->category);
	free(b->code_commit);
	free(b->evidence);
	free(b->explanation);
	free(b->last_verified_commit);
	bugdb_bug_init(b);
}

#define BUG_COLS                                                             \
	"id, seq, title, signature, origin, status, prev_status, dup_of,"   \
	" prev_bug, backburner, stale, file, function, category, severity," \
	" confidence, prio, code_commit, line, end_line, first_seen,"       \
	" last_seen, times_seen, last_activity, last_verified_at,"          \
	" last_verified_commit"
#define BUG_COLS_NR 26
/* The brief view: columns of the bug_list_by_* indexes. */
#define BRIEF_COLS                                                      \
	"id, title, status, severity, prio, times_seen, first_seen,"   \
	" last_seen"

/* Which columns a statement selects, in the order of the macros. */
enum bug_view {
	VIEW_BRIEF,	/* BRIEF_COLS */
	VIEW_RECORD,	/* BUG_COLS */
	VIEW_FULL,	/* BUG_COLS, evidence, explanation */
};

static void status_from_col(enum bugdb_status *out, sqlite3_stmt *st, int c)
{
	const char *s = (const char *)sqlite3_column_text(st, c);

	if (!s || bugdb_status_parse(out, s) < 0)
		*out = BUGDB_OPEN;
}

static int clamp_int(int64_t v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

/*
 * A text column borrowed from the row (NULL stays NULL): bugdb_bug's
 * strings are not const because copies own theirs.
 */
static char *col_ref(sqlite3_stmt *st, int col)
{
	return (char *)sqlite3_column_text(st, col);
}

/* "" for the fields of a view that bugdb_bug never leaves NULL. */
static char *no_text(void)
{
	static char empty[1];

	return empty;
}

static char *col_ref0(sqlite3_stmt *st, int col)
{
	char *s = col_ref(st, col);

	return s ? s : no_text();
}

static void id_from_col(struct bugdb_bug *b, sqlite3_stmt *st, int col)
{
	const unsigned char *id = sqlite3_column_text(st, col);
	size_t n = id ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= sizeof(b->id))
		n = sizeof(b->id) - 1;
	memcpy(b->id, id ? (const char *)id : "", n);
	b->id[n] = '\0';
}

/*
 * Point 'b' at a row of 'view' without copying: the strings live in
 * the statement until its next step or reset.
 */
static void bug_view_row(struct bugdb_bug *b, sqlite3_stmt *st,
			 enum bug_view view)
{
	static char preexisting[] = "pre-existing";

	bugdb_bug_init(b);
	id_from_col(b, st, 0);
	if (view == VIEW_BRIEF) {
		b->title = col_ref0(st, 1);
		status_from_col(&b->status, st, 2);
		b->severity = (enum finding_severity)clamp_int(
			sqlite3_column_int64(st, 3), SEV_LOW, SEV_CRITICAL);
		b->prio = (enum bugdb_prio)clamp_int(
			sqlite3_column_int64(st, 4), BUGDB_PRIO_LOW,
			BUGDB_PRIO_HIGH);
		b->times_seen = sqlite3_column_int64(st, 5);
		b->first_seen_ms = sqlite3_column_int64(st, 6);
		b->last_seen_ms = sqlite3_column_int64(st, 7);
		b->signature = b->file = b->function = no_text();
		b->category = b->origin = no_text();
		return;
	}
	b->seq = sqlite3_column_int(st, 1);
	b->title = col_ref0(st, 2);
	b->signature = col_ref0(st, 3);
	b->origin = col_ref(st, 4);
	if (!b->origin)
		b->origin = preexisting;
	status_from_col(&b->status, st, 5);
	status_from_col(&b->prev_status, st, 6);
	b->dup_of = col_ref(st, 7);
	b->prev_bug = col_ref(st, 8);
	b->backburner = sqlite3_column_int(st, 9) != 0;
	b->stale = sqlite3_column_int(st, 10) != 0;
	b->file = col_ref0(st, 11);
	b->function = col_ref0(st, 12);
	b->category = col_ref0(st, 13);
	b->severity = (enum finding_severity)clamp_int(
		sqlite3_column_int64(st, 14), SEV_LOW, SEV_CRITICAL);
	b->confidence = sqlite3_column_double(st, 15);
	b->prio = (enum bugdb_prio)clamp_int(sqlite3_column_int64(st, 16),
					     BUGDB_PRIO_LOW, BUGDB_PRIO_HIGH);
	b->code_commit = col_ref(st, 17);
	b->line = sqlite3_column_int(st, 18);
	b->end_line = sqlite3_column_int(st, 19);
	b->first_seen_ms = sqlite3_column_int64(st, 20);
	b->last_seen_ms = sqlite3_column_int64(st, 21);
	b->times_seen = sqlite3_column_int64(st, 22);
	b->last_activity_ms = sqlite3_column_int64(st, 23);
	b->last_verified_ms = sqlite3_column_int64(st, 24);
	b->last_verified_commit = col_ref(st, 25);
	if (view == VIEW_FULL) {
		b->evidence = col_ref(st, BUG_COLS_NR);
		b->explanation = col_ref(st, BUG_COLS_NR + 1);
	}
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* 'out' becomes an owning copy of the borrowed 'b'. */
static void bug_copy(struct bugdb_bug *out, const struct bugdb_bug *b)
{
	*out = *b;
	out->title = xstrdup(b->title);
	out->signature = xstrdup(b->signature);
	out->origin = xstrdup(b->origin);
	out->dup_of = dup_or_null(b->dup_of);
	out->prev_bug = dup_or_null(b->prev_bug);
	out->file = xstrdup(b->file);
	out->function = xstrdup(b->function);
	out->category = xstrdup(b->category);
	out->code_commit = dup_or_null(b->code_commit);
	out->evidence = dup_or_null(b->evidence);
	out->explanation = dup_or_null(b->explanation);
	out->last_verified_commit = dup_or_null(b->last_verified_commit);
}

/* Fill 'b' with a copy of a row of 'view'. */
static void bug_from_row(struct bugdb_bug *b, sqlite3_stmt *st,
			 enum bug_view view)
{
	struct bugdb_bug v;

	bug_view_row(&v, st, view);
	bug_copy(b, &v);
}

/*
 * Ids are stored as PREFIX-hex (upper, lower case); user input is
 * brought to that form so that lookups use the primary key.
 */
static void norm_id(char out[BUGDB_ID_MAX], const char *id)
{
	bool hex = false;
	size_t i;

	for (i = 0; id[i] && i < BUGDB_ID_MAX - 1; i++) {
		unsigned char c = (unsigned char)id[i];

		if (c == '-')
			hex = true;
		out[i] = (char)(hex ? tolower(c) : toupper(c));
	}
	out[i] = '\0';
}

/* 1 and the stored spelling of 'id', 0 if absent, -EIO. */
static int find_id(char out[BUGDB_ID_MAX], struct bugdb *db, const char *id)
{
	sqlite3_stmt *st = stmt(db, "SELECT id FROM bug WHERE id = ?");
	char n[BUGDB_ID_MAX];
	int r;

	norm_id(n, id);
	db_bind_text(st, 1, n);
	r = step(db, st, NULL);
	if (r == 1)
		snprintf(out, BUGDB_ID_MAX, "%s",
			 (const char *)sqlite3_column_text(st, 0));
	db_done(st);
	return r;
}

int bugdb_get(struct bugdb_bug *out, struct bugdb *db, const char *id,
	      struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT " BUG_COLS ", evidence, explanation"
				    " FROM bug WHERE id = ?");
	char n[BUGDB_ID_MAX];
	int r;

	norm_id(n, id);
	db_bind_text(st, 1, n);
	r = step(db, st, err);
	if (r == 1)
		bug_from_row(out, st, VIEW_FULL);
	db_done(st);
	if (r == 0) {
		strbuf_addf(err, "no bug '%s' in %s", id, db->section);
		return -ENOENT;
	}
	return r < 0 ? r : 0;
}

int bugdb_canonical(char out[BUGDB_ID_MAX], struct bugdb *db, const char *id,
		    struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT id, status, dup_of FROM bug"
				    " WHERE id = ?");
	char cur[BUGDB_ID_MAX];
	int r;

	norm_id(cur, id);
	for (int hops = 0; hops <= MAX_DUP_CHAIN; hops++) {
		const unsigned char *dup;
		bool is_dup;

		db_bind_text(st, 1, cur);
		r = step(db, st, err);
		if (r <= 0) {
			db_done(st);
			if (r == 0) {
				strbuf_addf(err, "no bug '%s' in %s", cur,
					    db->section);
				return -ENOENT;
			}
			return r;
		}
		is_dup = !strcmp((const char *)sqlite3_column_text(st, 1),
				 "dup");
		dup = sqlite3_column_text(st, 2);
		if (!is_dup || !dup) {
			snprintf(out, BUGDB_ID_MAX, "%s",
				 (const char *)sqlite3_column_text(st, 0));
			db_done(st);
			return 0;
		}
		snprintf(cur, sizeof(cur), "%s", (const char *)dup);
		db_done(st);
	}
	strbuf_addf(err, "the duplicate chain of '%s' loops", id);
	return -ELOOP;
}

static int add_event(struct bugdb *db, const char *id, const char *actor,
		     const char *kind, const char *old, const char *new,
		     const char *reason, const char *link, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "INSERT INTO bug_event(bug_id, at, actor,"
				    " kind, old, new, reason, link) VALUES"
				    " (?, ?, ?, ?, ?, ?, ?, ?)");
	int r;

	db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, now(db));
	db_bind_text(st, 3, actor ? actor : "kreview");
	db_bind_text(st, 4, kind);
	db_bind_text(st, 5, old);
	db_bind_text(st, 6, new);
	db_bind_text(st, 7, reason && *reason ? reason : NULL);
	db_bind_text(st, 8, link);
	r = step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

/* Human changes count as activity (digests stay quiet after them). */
static bool is_human(const char *actor)
{
	return actor && strcmp(actor, "kreview");
}

static int write_status(struct bugdb *db, const char *id,
			enum bugdb_status from, enum bugdb_status to,
			enum bugdb_status prev, const char *actor,
			const char *reason, const char *link, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET status = ?, prev_status = ?,"
				    " last_activity = CASE WHEN ? THEN ? ELSE"
				    " last_activity END WHERE id = ?");
	int r;

	db_bind_text(st, 1, bugdb_status_name(to));
	db_bind_text(st, 2, bugdb_status_name(prev));
	sqlite3_bind_int(st, 3, is_human(actor));
	sqlite3_bind_int64(st, 4, now(db));
	db_bind_text(st, 5, id);
	r = step(db, st, err);
	db_done(st);
	if (r < 0)
		return r;
	return add_event(db, id, actor, "status", bugdb_status_name(from),
			 bugdb_status_name(to), reason, link, err);
}

/* ---- admission ---- */

bool bugdb_qualifies(const struct bugdb_finding *f,
		     const struct bugdb_policy *p, struct strbuf *why)
{
	if ((int)f->severity < p->severity_floor) {
		if (why)
			strbuf_addf(why, "severity %s below the floor %s",
				    finding_severity_name(f->severity),
				    finding_severity_name(
					    (enum finding_severity)p->severity_floor));
		return false;
	}
	if (p->require_verification && !f->verified) {
		if (why)
			strbuf_addstr(why, "not confirmed by the verifier");
		return false;
	}
	if (!f->verified && f->support < p->min_support) {
		if (why)
			strbuf_addf(why, "support %d/%d below %d and not verified",
				    f->support, f->runs, p->min_support);
		return false;
	}
	return true;
}

static void make_id(struct strbuf *out, const struct bugdb *db,
		    const char *signature, int seq, size_t hex)
{
	struct strbuf key = STRBUF_INIT;
	char buf[GIT_OID_HEXSZ + 1];

	strbuf_addf(&key, "kreview-bug-v1\n%s\n%s\n%d\n", db->section,
		    signature, seq);
	hash_git_blob(buf, key.buf, key.len);
	strbuf_addf(out, "%s-%.*s", db->prefix, (int)hex, buf);
	strbuf_release(&key);
}

/* The bug matching a fingerprint: latest seq by signature, then alt. */
static int match_signature(char out[BUGDB_ID_MAX], struct bugdb *db,
			   const char *sig, struct strbuf *err)
{
	sqlite3_stmt *a = stmt(db, "SELECT id FROM bug WHERE signature = ?"
				   " ORDER BY seq DESC LIMIT 1");
	sqlite3_stmt *b = stmt(db, "SELECT b.id FROM bug_signature s JOIN bug b"
				   " ON b.id = s.bug_id WHERE s.signature = ?"
				   " ORDER BY b.seq DESC LIMIT 1");
	int r;

	db_bind_text(a, 1, sig);
	r = step(db, a, err);
	if (r == 1)
		snprintf(out, BUGDB_ID_MAX, "%s",
			 (const char *)sqlite3_column_text(a, 0));
	db_done(a);
	if (r != 0)
		return r;
	db_bind_text(b, 1, sig);
	r = step(db, b, err);
	if (r == 1)
		snprintf(out, BUGDB_ID_MAX, "%s",
			 (const char *)sqlite3_column_text(b, 0));
	db_done(b);
	return r;
}

/* §4.2 step 2: same place and category, similar title, still open. */
static int match_similar(char out[BUGDB_ID_MAX], struct bugdb *db,
			 const struct bugdb_finding *f, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT id, title FROM bug WHERE file = ?"
				    " AND function = ? AND category = ? AND"
				    " status IN ('open', 'confirmed',"
				    " 'fix-pending') ORDER BY first_seen");
	double best = SIMILAR_TITLE;
	int r, found = 0;

	if (!f->function || !*f->function)
		return 0;
	db_bind_text(st, 1, f->file);
	db_bind_text(st, 2, f->function);
	db_bind_text(st, 3, f->category);
	while ((r = step(db, st, err)) == 1) {
		double sim = aggregate_similarity(
			(const char *)sqlite3_column_text(st, 1), f->title);

		if (sim >= best) {
			best = sim;
			found = 1;
			snprintf(out, BUGDB_ID_MAX, "%s",
				 (const char *)sqlite3_column_text(st, 0));
		}
	}
	db_done(st);
	return r < 0 ? r : found;
}

static int insert_bug(char id_out[BUGDB_ID_MAX], struct bugdb *db,
		      const struct bugdb_finding *f, int seq,
		      const char *prev_bug, const char *origin,
		      enum bugdb_status status, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "INSERT INTO bug(id, seq, title, signature,"
				    " origin, status, prev_bug, file, function,"
				    " category, severity, confidence, code_commit,"
				    " line, end_line, evidence, explanation,"
				    " first_seen, last_seen, times_seen,"
				    " last_verified_at, last_verified_commit)"
				    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
				    " ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)");
	struct strbuf id = STRBUF_INIT;
	char tmp[BUGDB_ID_MAX];
	int64_t t = now(db);
	int r;

	for (size_t hex = ID_HEX_MIN;; hex++) {
		strbuf_reset(&id);
		make_id(&id, db, f->fingerprint, seq, hex);
		r = find_id(tmp, db, id.buf);
		if (r < 0) {
			strbuf_addf(err, "%s: %s", db->path,
				    sqlite3_errmsg(db->h));
			goto out;
		}
		if (r == 0)
			break;
		if (hex == ID_HEX_MAX) {
			strbuf_addf(err, "no free bug id for '%s'",
				    f->fingerprint);
			r = -EEXIST;
			goto out;
		}
	}
	db_bind_text(st, 1, id.buf);
	sqlite3_bind_int(st, 2, seq);
	db_bind_text(st, 3, f->title ? f->title : "");
	db_bind_text(st, 4, f->fingerprint);
	db_bind_text(st, 5, origin);
	db_bind_text(st, 6, bugdb_status_name(status));
	db_bind_text(st, 7, prev_bug);
	db_bind_text(st, 8, f->file ? f->file : "");
	db_bind_text(st, 9, f->function ? f->function : "");
	db_bind_text(st, 10, f->category ? f->category : "");
	sqlite3_bind_int(st, 11, (int)f->severity);
	sqlite3_bind_double(st, 12, f->confidence);
	db_bind_text(st, 13, f->code_commit);
	sqlite3_bind_int(st, 14, f->line);
	sqlite3_bind_int(st, 15, f->end_line);
	db_bind_text(st, 16, f->evidence);
	db_bind_text(st, 17, f->explanation);
	sqlite3_bind_int64(st, 18, t);
	sqlite3_bind_int64(st, 19, t);
	sqlite3_bind_int64(st, 20, f->verified ? t : 0);
	db_bind_text(st, 21, f->verified ? f->code_commit : NULL);
	r = step(db, st, err);
	db_done(st);
	if (r < 0)
		goto out;
	snprintf(id_out, BUGDB_ID_MAX, "%s", id.buf);
	r = add_event(db, id.buf, "kreview", "created", NULL,
		      bugdb_status_name(status), prev_bug ? "recurrence" : NULL,
		      f->msgid, err);
out:
	strbuf_release(&id);
	return r;
}

static int add_sighting(struct bugdb *db, const char *id,
			const struct bugdb_finding *f, bool suppressed,
			struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "INSERT INTO bug_sighting(bug_id, review,"
				    " msgid, patch_subject, revision, support,"
				    " runs, severity, verdict, suppressed,"
				    " seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
				    " ?, ?)");
	int r;

	db_bind_text(st, 1, id);
	db_bind_text(st, 2, f->review);
	db_bind_text(st, 3, f->msgid);
	db_bind_text(st, 4, f->patch_subject);
	sqlite3_bind_int(st, 5, f->revision);
	sqlite3_bind_int(st, 6, f->support);
	sqlite3_bind_int(st, 7, f->runs);
	sqlite3_bind_int(st, 8, (int)f->severity);
	db_bind_text(st, 9, f->verified ? "confirmed" : "unverified");
	sqlite3_bind_int(st, 10, suppressed);
	sqlite3_bind_int64(st, 11, now(db));
	r = step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

/* times_seen, last_seen, max severity, latest confidence and evidence. */
static int bump_seen(struct bugdb *db, const char *id,
		     const struct bugdb_finding *f, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET times_seen = times_seen + 1,"
				    " last_seen = ?, severity = max(severity, ?),"
				    " confidence = ?,"
				    " line = ?, end_line = ?,"
				    " code_commit = coalesce(?, code_commit),"
				    " evidence = CASE WHEN length(coalesce(?, ''))"
				    "  > length(coalesce(evidence, '')) THEN ?"
				    "  ELSE evidence END,"
				    " last_verified_at = CASE WHEN ? THEN ? ELSE"
				    "  last_verified_at END"
				    " WHERE id = ?");
	int r;

	sqlite3_bind_int64(st, 1, now(db));
	sqlite3_bind_int(st, 2, (int)f->severity);
	sqlite3_bind_double(st, 3, f->confidence);
	sqlite3_bind_int(st, 4, f->line);
	sqlite3_bind_int(st, 5, f->end_line);
	db_bind_text(st, 6, f->code_commit);
	db_bind_text(st, 7, f->evidence);
	db_bind_text(st, 8, f->evidence);
	sqlite3_bind_int(st, 9, f->verified);
	sqlite3_bind_int64(st, 10, now(db));
	db_bind_text(st, 11, id);
	r = step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

static int add_alt_signature(struct bugdb *db, const char *id,
			     const char *sig, const char *kind,
			     struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "INSERT OR IGNORE INTO bug_signature(bug_id,"
				    " signature, kind) SELECT ?1, ?2, ?3 WHERE"
				    " NOT EXISTS (SELECT 1 FROM bug WHERE id = ?1"
				    " AND signature = ?2)");
	int r;

	db_bind_text(st, 1, id);
	db_bind_text(st, 2, sig);
	db_bind_text(st, 3, kind);
	r = step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

int bugdb_admit(enum bugdb_admission *out, char id_out[BUGDB_ID_MAX],
		struct bugdb *db, const struct bugdb_finding *f,
		const struct bugdb_policy *policy, struct strbuf *err)
{
	enum bugdb_admission what;
	struct bugdb_bug b;
	char id[BUGDB_ID_MAX], canon[BUGDB_ID_MAX];
	bool similar = false;
	int r;

	bugdb_bug_init(&b);
	if (!f->fingerprint || !*f->fingerprint || !f->file || !f->category) {
		strbuf_addstr(err, "finding without fingerprint, file or "
				   "category");
		return -EINVAL;
	}
	if (policy && !bugdb_qualifies(f, policy, NULL)) {
		*out = BUGDB_NOT_QUALIFIED;
		return 0;
	}
	r = begin(db, err);
	if (r < 0)
		return r;
	r = match_signature(id, db, f->fingerprint, err);
	if (r == 0) {
		r = match_similar(id, db, f, err);
		similar = r == 1;
	}
	if (r < 0)
		goto fail;
	if (r == 0) {
		r = insert_bug(id_out, db, f, 0, NULL, "pre-existing",
			       BUGDB_OPEN, err);
		if (r < 0)
			goto fail;
		r = add_sighting(db, id_out, f, false, err);
		if (r < 0)
			goto fail;
		what = BUGDB_NEW;
		goto commit;
	}
	r = bugdb_canonical(canon, db, id, err);
	if (r < 0)
		goto fail;
	r = bugdb_get(&b, db, canon, err);
	if (r < 0)
		goto fail;
	if (similar) {
		r = add_alt_signature(db, b.id, f->fingerprint, "alt", err);
		if (r < 0)
			goto fail;
	}
	switch (b.status) {
	case BUGDB_FIXED:
	case BUGDB_OBSOLETE:
		r = insert_bug(id_out, db, f, b.seq + 1, b.id, "pre-existing",
			       BUGDB_OPEN, err);
		if (r == 0)
			r = add_sighting(db, id_out, f, false, err);
		what = BUGDB_RECURRENCE;
		break;
	case BUGDB_INVALID:
	case BUGDB_WONTFIX:
		snprintf(id_out, BUGDB_ID_MAX, "%s", b.id);
		if (f->severity > b.severity) {
			r = write_status(db, b.id, b.status, BUGDB_OPEN,
					 b.status, "kreview",
					 "seen again at a higher severity",
					 f->msgid, err);
			if (r == 0)
				r = add_sighting(db, b.id, f, false, err);
			if (r == 0)
				r = bump_seen(db, b.id, f, err);
			what = BUGDB_REOPENED;
		} else {
			r = add_sighting(db, b.id, f, true, err);
			what = BUGDB_SUPPRESSED;
		}
		break;
	default:
		snprintf(id_out, BUGDB_ID_MAX, "%s", b.id);
		r = add_sighting(db, b.id, f, false, err);
		if (r == 0)
			r = bump_seen(db, b.id, f, err);
		what = BUGDB_SIGHTING;
		break;
	}
	if (r < 0)
		goto fail;
commit:
	r = commit(db, err);
	if (r < 0)
		goto fail;
	bugdb_bug_release(&b);
	*out = what;
	return 0;
fail:
	rollback(db);
	bugdb_bug_release(&b);
	return r;
}

int bugdb_suppressed_by(char id_out[BUGDB_ID_MAX], struct bugdb *db,
			const char *fingerprint, struct strbuf *err)
{
	char id[BUGDB_ID_MAX], canon[BUGDB_ID_MAX];
	struct bugdb_bug b;
	int r;

	r = match_signature(id, db, fingerprint, err);
	if (r <= 0)
		return r;
	r = bugdb_canonical(canon, db, id, err);
	if (r < 0)
		return r;
	bugdb_bug_init(&b);
	r = bugdb_get(&b, db, canon, err);
	if (r < 0)
		return r;
	r = b.status == BUGDB_INVALID || b.status == BUGDB_WONTFIX;
	if (r)
		snprintf(id_out, BUGDB_ID_MAX, "%s", b.id);
	bugdb_bug_release(&b);
	return r;
}

int bugdb_reject_finding(char id_out[BUGDB_ID_MAX], struct bugdb *db,
			 const struct bugdb_finding *f,
			 enum bugdb_status status, const char *actor,
			 const char *reason, const char *link,
			 struct strbuf *err)
{
	char id[BUGDB_ID_MAX];
	int r;

	if (status != BUGDB_INVALID && status != BUGDB_WONTFIX) {
		strbuf_addstr(err, "a rejected finding is invalid or wontfix");
		return -EINVAL;
	}
	r = begin(db, err);
	if (r < 0)
		return r;
	r = match_signature(id, db, f->fingerprint, err);
	if (r == 1)
		r = bugdb_set_status(db, id, status, actor, reason, link, err);
	else if (r == 0 &&
		 (r = insert_bug(id, db, f, 0, NULL,
				 f->pre_existing ? "pre-existing" : "introduced",
				 BUGDB_OPEN, err)) == 0)
		r = bugdb_set_status(db, id, status, actor, reason, link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	r = commit(db, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	snprintf(id_out, BUGDB_ID_MAX, "%s", id);
	return 0;
}

/* ---- the review hook ---- */

struct open_db {
	char *section;
	struct bugdb *db;	/* NULL: does not exist (suppression only) */
};

/* The database of 'section'; created when 'create'. */
static struct bugdb *review_db(struct open_db **v, size_t *nr, size_t *alloc,
			       const char *dir, const char *section,
			       bool create, const struct maint *m,
			       int64_t now_ms, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct bugdb *db = NULL;
	struct stat st;
	size_t i;

	for (i = 0; i < *nr; i++)
		if (!strcmp((*v)[i].section, section))
			break;
	if (i < *nr && ((*v)[i].db || !create))
		return (*v)[i].db;
	bugdb_path(&path, dir, section);
	if (create || stat(path.buf, &st) == 0) {
		if (bugdb_open(&db, path.buf, section, err) < 0) {
			db = NULL;
			strbuf_addch(err, '\n');
		} else {
			if (now_ms)
				bugdb_set_clock(db, now_ms);
			if (m)
				(void)bugdb_set_maintainers(db, m, NULL);
		}
	}
	strbuf_release(&path);
	if (i == *nr) {
		ALLOC_GROW(*v, *nr + 1, *alloc);
		(*v)[*nr].section = xstrdup(section);
		(*v)[(*nr)++].db = db;
	} else {
		(*v)[i].db = db;
	}
	return db;
}

static void from_review(struct bugdb_finding *bf, const struct review_finding *rf,
			const struct review_series *s, const char *review)
{
	const struct finding *rep = &rf->c.rep;
	const struct review_patch *p =
		rep->patch >= 1 && (size_t)rep->patch <= s->nr ?
			&s->patches[rep->patch - 1] : NULL;

	memset(bf, 0, sizeof(*bf));
	bf->fingerprint = rf->c.fingerprint;
	bf->title = rep->title;
	bf->file = rep->file;
	bf->function = rep->function;
	bf->category = rep->category;
	bf->evidence = rep->evidence;
	bf->explanation = rep->explanation;
	bf->severity = rf->c.severity;
	bf->confidence = rf->c.confidence;
	bf->line = rep->line;
	bf->end_line = rep->end_line;
	bf->support = rf->c.support;
	bf->runs = rf->c.runs;
	bf->verified = rf->c.verdict == VERDICT_CONFIRMED;
	bf->pre_existing = rf->pre_existing;
	bf->review = review;
	bf->msgid = p ? p->msgid : NULL;
	bf->patch_subject = p ? p->subject : NULL;
	bf->revision = s->version;
	bf->code_commit = s->base;
}

static void suppress(struct review_finding *rf, const char *id)
{
	struct strbuf why = STRBUF_INIT;

	strbuf_addf(&why, "suppressed by bug %s", id);
	rf->drop = REVIEW_DROP_SUPPRESSED;
	free(rf->drop_reason);
	rf->drop_reason = strbuf_detach(&why, NULL);
}

/* Reported first, both groups in their previous order. */
static void repartition(struct review_result *res)
{
	struct review_finding *v = xcalloc(res->nr + 1, sizeof(*v));
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < res->nr; i++)
			if ((res->v[i].drop == REVIEW_REPORTED) == (pass == 0))
				v[n++] = res->v[i];
	if (res->nr)
		memcpy(res->v, v, res->nr * sizeof(*v));
	free(v);
	res->reported = 0;
	while (res->reported < res->nr &&
	       res->v[res->reported].drop == REVIEW_REPORTED)
		res->reported++;
}

int bugdb_review_apply(struct bugdb_review_stats *out,
		       struct review_result *res,
		       const struct review_series *s,
		       const struct bugdb_config *cfg, const char *dir,
		       const struct maint *m, const char *review,
		       int64_t now_ms, struct strbuf *err)
{
	struct open_db *dbs = NULL;
	size_t nr = 0, alloc = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < res->nr; i++) {
		struct review_finding *rf = &res->v[i];
		const struct finding *rep = &rf->c.rep;
		const char *section = BUGDB_DEFAULT_SECTION;
		struct bugdb_policy pol;
		struct bugdb_finding bf;
		enum bugdb_admission what;
		char id[BUGDB_ID_MAX];
		struct bugdb *db;
		int r;

		if (rf->drop != REVIEW_REPORTED)
			continue;
		if (rep->patch >= 1 && (size_t)rep->patch <= s->nr &&
		    s->patches[rep->patch - 1].subsystem)
			section = s->patches[rep->patch - 1].subsystem;
		from_review(&bf, rf, s, review);
		bugdb_config_policy(&pol, cfg, section);
		if (!rf->pre_existing) {
			db = review_db(&dbs, &nr, &alloc, dir, section, false, m,
				       now_ms, err);
			if (!db)
				continue;
			r = bugdb_suppressed_by(id, db, rf->c.fingerprint, err);
			if (r < 0) {
				ret = r;
				continue;
			}
			if (r == 1) {
				suppress(rf, id);
				out->suppressed_introduced++;
			}
			continue;
		}
		if (!bugdb_qualifies(&bf, &pol, NULL)) {
			out->admitted[BUGDB_NOT_QUALIFIED]++;
			continue;
		}
		db = review_db(&dbs, &nr, &alloc, dir, section, true, m, now_ms,
			       err);
		if (!db) {
			ret = -EIO;
			continue;
		}
		r = bugdb_admit(&what, id, db, &bf, NULL, err);
		if (r < 0) {
			strbuf_addch(err, '\n');
			ret = r;
			continue;
		}
		out->admitted[what]++;
		if (what == BUGDB_SUPPRESSED)
			suppress(rf, id);
		else
			strbuf_addf(&res->notes,
				    "pre-existing issue '%s' recorded as %s (%s)\n",
				    rep->title, id, bugdb_admission_name(what));
	}
	for (size_t i = 0; i < nr; i++) {
		if (dbs[i].db)
			out->databases++;
		bugdb_close(dbs[i].db);
		free(dbs[i].section);
	}
	free(dbs);
	repartition(res);
	return ret;
}

/* ---- triage ---- */

/* Load the status of 'id' (stored spelling into 'id_out'). */
static int load_status(enum bugdb_status *st_out, enum bugdb_status *prev,
		       char id_out[BUGDB_ID_MAX], struct bugdb *db,
		       const char *id, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT id, status, prev_status FROM bug"
				    " WHERE id = ?");
	char n[BUGDB_ID_MAX];
	int r;

	norm_id(n, id);
	db_bind_text(st, 1, n);
	r = step(db, st, err);
	if (r == 1) {
		snprintf(id_out, BUGDB_ID_MAX, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		status_from_col(st_out, st, 1);
		status_from_col(prev, st, 2);
		if (sqlite3_column_type(st, 2) == SQLITE_NULL)
			*prev = BUGDB_OPEN;
	}
	db_done(st);
	if (r == 0) {
		strbuf_addf(err, "no bug '%s' in %s", id, db->section);
		return -ENOENT;
	}
	return r < 0 ? r : 0;
}

static bool allowed(enum bugdb_status from, enum bugdb_status to)
{
	switch (to) {
	case BUGDB_OPEN:
		return from == BUGDB_FIXED || from == BUGDB_INVALID ||
		       from == BUGDB_WONTFIX || from == BUGDB_OBSOLETE;
	case BUGDB_CONFIRMED:
		return from == BUGDB_OPEN;
	case BUGDB_FIXED:
	case BUGDB_WONTFIX:
	case BUGDB_OBSOLETE:
		return from == BUGDB_OPEN || from == BUGDB_CONFIRMED ||
		       from == BUGDB_FIX_PENDING;
	case BUGDB_INVALID:
		return from != BUGDB_DUP && from != BUGDB_INVALID;
	default:
		return false;
	}
}

int bugdb_set_status(struct bugdb *db, const char *id, enum bugdb_status to,
		     const char *actor, const char *reason, const char *link,
		     struct strbuf *err)
{
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	int r;

	if (to == BUGDB_DUP || to == BUGDB_FIX_PENDING) {
		strbuf_addf(err, "status %s is set with %s", bugdb_status_name(to),
			    to == BUGDB_DUP ? "dup" : "fix");
		return -EINVAL;
	}
	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	if (!allowed(from, to)) {
		strbuf_addf(err, "%s is %s and cannot become %s", real,
			    bugdb_status_name(from), bugdb_status_name(to));
		return -EINVAL;
	}
	r = begin(db, err);
	if (r < 0)
		return r;
	r = write_status(db, real, from, to, from, actor, reason, link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

int bugdb_set_prio(struct bugdb *db, const char *id, enum bugdb_prio prio,
		   const char *actor, const char *reason, const char *link,
		   struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET prio = ?, last_activity = ?"
				    " WHERE id = ?");
	struct bugdb_bug b;
	int r;

	bugdb_bug_init(&b);
	r = bugdb_get(&b, db, id, err);
	if (r < 0)
		return r;
	r = begin(db, err);
	if (r < 0)
		goto out;
	sqlite3_bind_int(st, 1, (int)prio);
	sqlite3_bind_int64(st, 2, now(db));
	db_bind_text(st, 3, b.id);
	r = step(db, st, err);
	db_done(st);
	if (r >= 0)
		r = add_event(db, b.id, actor, "prio", bugdb_prio_name(b.prio),
			      bugdb_prio_name(prio), reason, link, err);
	if (r < 0)
		rollback(db);
	else
		r = commit(db, err);
out:
	bugdb_bug_release(&b);
	return r;
}

static int refuse_moved(struct bugdb *db, const char *real,
			struct strbuf *err);

int bugdb_dup(struct bugdb *db, const char *id, const char *other,
	      const char *actor, const char *link, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET status = 'dup', dup_of = ?,"
				    " prev_status = ?, last_activity = ?"
				    " WHERE id = ?");
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX], canon[BUGDB_ID_MAX];
	int r;

	r = load_status(&from, &prev, real, db, id, err);
	if (r == 0)
		r = refuse_moved(db, real, err);
	if (r < 0)
		return r;
	r = bugdb_canonical(canon, db, other, err);
	if (r < 0)
		return r;
	if (!strcmp(canon, real)) {
		strbuf_addf(err, "%s cannot be a duplicate of itself (%s leads "
				 "back to it)", real, other);
		return -ELOOP;
	}
	r = begin(db, err);
	if (r < 0)
		return r;
	db_bind_text(st, 1, canon);
	db_bind_text(st, 2, bugdb_status_name(from == BUGDB_DUP ? prev : from));
	sqlite3_bind_int64(st, 3, now(db));
	db_bind_text(st, 4, real);
	r = step(db, st, err);
	db_done(st);
	if (r >= 0)
		r = add_event(db, real, actor, "dup", bugdb_status_name(from),
			      canon, NULL, link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

int bugdb_undup(struct bugdb *db, const char *id, const char *actor,
		const char *link, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET status = ?, dup_of = NULL,"
				    " prev_status = NULL, last_activity = ?"
				    " WHERE id = ?");
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	int r;

	r = load_status(&from, &prev, real, db, id, err);
	if (r == 0)
		r = refuse_moved(db, real, err);
	if (r < 0)
		return r;
	if (from != BUGDB_DUP) {
		strbuf_addf(err, "%s is %s, not a duplicate", real,
			    bugdb_status_name(from));
		return -EINVAL;
	}
	if (prev == BUGDB_DUP)
		prev = BUGDB_OPEN;
	r = begin(db, err);
	if (r < 0)
		return r;
	db_bind_text(st, 1, bugdb_status_name(prev));
	sqlite3_bind_int64(st, 2, now(db));
	db_bind_text(st, 3, real);
	r = step(db, st, err);
	db_done(st);
	if (r >= 0)
		r = add_event(db, real, actor, "undup", "dup",
			      bugdb_status_name(prev), NULL, link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

static bool fixable(enum bugdb_status s)
{
	return s == BUGDB_OPEN || s == BUGDB_CONFIRMED || s == BUGDB_FIX_PENDING;
}

int bugdb_fix(struct bugdb *db, const char *id, const char *commit_id,
	      const char *actor, const char *link, struct strbuf *err)
{
	sqlite3_stmt *del = stmt(db, "DELETE FROM bug_fix WHERE bug_id = ? AND"
				     " branch = ''");
	sqlite3_stmt *ins = stmt(db, "INSERT OR REPLACE INTO bug_fix(bug_id,"
				     " commit_id, title, branch, seen_at)"
				     " VALUES (?, ?, NULL, '', ?)");
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	int r;

	if (!commit_id || !*commit_id) {
		strbuf_addstr(err, "fix needs a commit hash or title");
		return -EINVAL;
	}
	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	if (!fixable(from)) {
		strbuf_addf(err, "%s is %s: only open, confirmed or fix-pending "
				 "bugs take a fix", real, bugdb_status_name(from));
		return -EINVAL;
	}
	r = begin(db, err);
	if (r < 0)
		return r;
	db_bind_text(del, 1, real);
	r = step(db, del, err);
	db_done(del);
	if (r >= 0) {
		db_bind_text(ins, 1, real);
		db_bind_text(ins, 2, commit_id);
		sqlite3_bind_int64(ins, 3, now(db));
		r = step(db, ins, err);
		db_done(ins);
	}
	if (r >= 0 && from != BUGDB_FIX_PENDING)
		r = write_status(db, real, from, BUGDB_FIX_PENDING, from, actor,
				 NULL, link, err);
	if (r >= 0)
		r = add_event(db, real, actor, "fix", NULL, commit_id, NULL,
			      link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

int bugdb_unfix(struct bugdb *db, const char *id, const char *actor,
		const char *link, struct strbuf *err)
{
	sqlite3_stmt *del = stmt(db, "DELETE FROM bug_fix WHERE bug_id = ?");
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	int r;

	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	if (from != BUGDB_FIX_PENDING && from != BUGDB_FIXED) {
		strbuf_addf(err, "%s is %s: no fix to drop", real,
			    bugdb_status_name(from));
		return -EINVAL;
	}
	if (!fixable(prev) || prev == BUGDB_FIX_PENDING)
		prev = BUGDB_OPEN;
	r = begin(db, err);
	if (r < 0)
		return r;
	db_bind_text(del, 1, real);
	r = step(db, del, err);
	db_done(del);
	if (r >= 0)
		r = write_status(db, real, from, prev, prev, actor, "unfix",
				 link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

int bugdb_fix_seen(bool *fixed, struct bugdb *db, const char *id,
		   const char *commit_id, const char *title, const char *branch,
		   const char *const *tracked, size_t nr, struct strbuf *err)
{
	sqlite3_stmt *ins = stmt(db, "INSERT OR IGNORE INTO bug_fix(bug_id,"
				     " commit_id, title, branch, seen_at)"
				     " VALUES (?, ?, ?, ?, ?)");
	sqlite3_stmt *has = stmt(db, "SELECT 1 FROM bug_fix WHERE bug_id = ?"
				     " AND branch = ? LIMIT 1");
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	bool everywhere = true;
	int r;

	*fixed = false;
	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	if (!fixable(from))
		return 0;
	r = begin(db, err);
	if (r < 0)
		return r;
	db_bind_text(ins, 1, real);
	db_bind_text(ins, 2, commit_id);
	db_bind_text(ins, 3, title);
	db_bind_text(ins, 4, branch ? branch : "");
	sqlite3_bind_int64(ins, 5, now(db));
	r = step(db, ins, err);
	db_done(ins);
	if (r >= 0 && sqlite3_changes(db->h) > 0) {
		struct strbuf what = STRBUF_INIT;

		strbuf_addf(&what, "%s in %s", commit_id, branch);
		r = add_event(db, real, "kreview", "fix-seen", NULL, what.buf,
			      title, NULL, err);
		strbuf_release(&what);
	}
	for (size_t i = 0; r >= 0 && i < nr && everywhere; i++) {
		db_bind_text(has, 1, real);
		db_bind_text(has, 2, tracked[i]);
		r = step(db, has, err);
		db_done(has);
		if (r == 0)
			everywhere = false;
	}
	if (r >= 0 && from != BUGDB_FIX_PENDING)
		r = write_status(db, real, from, BUGDB_FIX_PENDING, from,
				 "kreview", title, NULL, err);
	if (r >= 0 && everywhere) {
		r = write_status(db, real, BUGDB_FIX_PENDING, BUGDB_FIXED,
				 BUGDB_FIX_PENDING, "kreview",
				 "the fix reached every tracked branch", NULL,
				 err);
		*fixed = r >= 0;
	}
	if (r < 0) {
		*fixed = false;
		rollback(db);
		return r;
	}
	return commit(db, err);
}

int bugdb_backburner(struct bugdb *db, const char *id, bool on,
		     const char *actor, const char *reason, const char *link,
		     struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET backburner = ?,"
				    " last_activity = ? WHERE id = ?");
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	int r;

	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	r = begin(db, err);
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, on);
	sqlite3_bind_int64(st, 2, now(db));
	db_bind_text(st, 3, real);
	r = step(db, st, err);
	db_done(st);
	if (r >= 0)
		r = add_event(db, real, actor, "backburner", on ? "off" : "on",
			      on ? "on" : "off", reason, link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

/* 1 and the newest value of 'label' (or 'value' itself) on 'id'; 0. */
static int label_get(char **value_out, struct bugdb *db, const char *id,
		     const char *label, const char *value, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT value FROM bug_label WHERE"
				    " bug_id = ?1 AND label = ?2 AND"
				    " (?3 IS NULL OR value = ?3)"
				    " ORDER BY at DESC LIMIT 1");
	int r;

	db_bind_text(st, 1, id);
	db_bind_text(st, 2, label);
	db_bind_text(st, 3, value);
	r = step(db, st, err);
	if (r == 1 && value_out)
		*value_out = db_column_strdup(st, 0);
	db_done(st);
	return r;
}

/* Add (or remove) a label row; '*changed' says whether a row moved. */
static int label_put(bool *changed, struct bugdb *db, const char *id,
		     const char *label, const char *value, bool add,
		     const char *actor, const char *link, struct strbuf *err)
{
	sqlite3_stmt *ins = stmt(db, "INSERT OR IGNORE INTO bug_label(bug_id,"
				     " label, value, set_by, link, at) VALUES"
				     " (?, ?, ?, ?, ?, ?)");
	sqlite3_stmt *del = stmt(db, "DELETE FROM bug_label WHERE bug_id = ?"
				     " AND label = ? AND value = ?");
	sqlite3_stmt *st = add ? ins : del;
	int r;

	db_bind_text(st, 1, id);
	db_bind_text(st, 2, label);
	db_bind_text(st, 3, value);
	if (add) {
		db_bind_text(st, 4, actor);
		db_bind_text(st, 5, link);
		sqlite3_bind_int64(st, 6, now(db));
	}
	r = step(db, st, err);
	db_done(st);
	*changed = r >= 0 && sqlite3_changes(db->h) > 0;
	return r < 0 ? r : 0;
}

int bugdb_label(struct bugdb *db, const char *id, const char *label,
		const char *value, bool add, const char *actor,
		const char *link, struct strbuf *err)
{
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	bool changed;
	int r;

	if (!value || !*value) {
		strbuf_addf(err, "%s needs a value", label);
		return -EINVAL;
	}
	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	r = begin(db, err);
	if (r < 0)
		return r;
	r = label_put(&changed, db, real, label, value, add, actor, link, err);
	if (r >= 0 && !changed) {
		strbuf_addf(err, add ? "%s already has %s '%s'" :
				       "%s has no %s '%s'",
			    real, label, value);
		r = add ? -EEXIST : -ENOENT;
	}
	if (r >= 0)
		r = add_event(db, real, actor, add ? "label-add" : "label-del",
			      NULL, value, label, link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

int bugdb_verified(struct bugdb *db, const char *id, const char *commit_id,
		   bool stale, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET stale = ?,"
				    " last_verified_at = CASE WHEN ? THEN"
				    "  last_verified_at ELSE ? END,"
				    " last_verified_commit = CASE WHEN ? THEN"
				    "  last_verified_commit ELSE ? END"
				    " WHERE id = ?");
	int r;

	sqlite3_bind_int(st, 1, stale);
	sqlite3_bind_int(st, 2, stale);
	sqlite3_bind_int64(st, 3, now(db));
	sqlite3_bind_int(st, 4, stale);
	db_bind_text(st, 5, commit_id);
	db_bind_text(st, 6, id);
	r = step(db, st, err);
	db_done(st);
	if (r >= 0 && stale)
		r = add_event(db, id, "kreview", "stale", NULL, commit_id,
			      "the code changed; needs the verifier", NULL, err);
	return r < 0 ? r : 0;
}

/* A fix named or seen for 'id': 1, 0, or -EIO. */
static int has_fix(struct bugdb *db, const char *id, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT 1 FROM bug_fix WHERE bug_id = ?"
				    " LIMIT 1");
	int r;

	db_bind_text(st, 1, id);
	r = step(db, st, err);
	db_done(st);
	return r;
}

static int verdict_present(struct bugdb *db, const char *id,
			   const struct bugdb_recheck *v, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET stale = 0,"
				    " code_commit = ?1, line = CASE WHEN ?2 > 0"
				    " THEN ?2 ELSE line END, end_line = CASE"
				    " WHEN ?3 > 0 THEN ?3 ELSE end_line END,"
				    " last_verified_at = ?4,"
				    " last_verified_commit = ?1 WHERE id = ?5");
	int r;

	db_bind_text(st, 1, v->commit);
	sqlite3_bind_int(st, 2, v->line);
	sqlite3_bind_int(st, 3, v->end_line > v->line ? v->end_line : v->line);
	sqlite3_bind_int64(st, 4, now(db));
	db_bind_text(st, 5, id);
	r = step(db, st, err);
	db_done(st);
	if (r >= 0)
		r = add_event(db, id, "kreview", "verified", NULL, v->commit,
			      v->reason, NULL, err);
	return r;
}

static int verdict_gone(bool *fix_known, struct bugdb *db, const char *id,
			enum bugdb_status from, const struct bugdb_recheck *v,
			struct strbuf *err)
{
	sqlite3_stmt *up = stmt(db, "UPDATE bug SET stale = 0,"
				    " last_verified_at = ?,"
				    " last_verified_commit = ? WHERE id = ?");
	sqlite3_stmt *ins = stmt(db, "INSERT OR REPLACE INTO bug_fix(bug_id,"
				     " commit_id, title, branch, seen_at)"
				     " VALUES (?, ?, NULL, '', ?)");
	struct strbuf fix = STRBUF_INIT, why = STRBUF_INIT;
	int r;

	r = has_fix(db, id, err);
	if (r < 0)
		goto out;
	*fix_known = r == 1;
	if (!*fix_known) {
		strbuf_addf(&fix, "unknown (code changed in %.12s)",
			    v->changed_in ? v->changed_in : v->commit);
		db_bind_text(ins, 1, id);
		db_bind_text(ins, 2, fix.buf);
		sqlite3_bind_int64(ins, 3, now(db));
		r = step(db, ins, err);
		db_done(ins);
		if (r >= 0)
			r = add_event(db, id, "kreview", "fix", NULL, fix.buf,
				      v->reason, NULL, err);
		if (r < 0)
			goto out;
	}
	sqlite3_bind_int64(up, 1, now(db));
	db_bind_text(up, 2, v->commit);
	db_bind_text(up, 3, id);
	r = step(db, up, err);
	db_done(up);
	strbuf_addf(&why, "the verifier found it gone at %.12s", v->commit);
	if (v->reason && *v->reason)
		strbuf_addf(&why, ": %s", v->reason);
	if (r >= 0)
		r = write_status(db, id, from, BUGDB_FIXED, from, "kreview",
				 why.buf, NULL, err);
out:
	strbuf_release(&fix);
	strbuf_release(&why);
	return r;
}

static int verdict_unsure(struct bugdb *db, const char *id,
			  const struct bugdb_recheck *v, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET stale = 1 WHERE id = ?");
	struct strbuf why = STRBUF_INIT;
	int r;

	db_bind_text(st, 1, id);
	r = step(db, st, err);
	db_done(st);
	strbuf_addf(&why, "the verifier is unsure: %s",
		    v->reason && *v->reason ? v->reason : "no reason given");
	if (r >= 0)
		r = add_event(db, id, "kreview", "stale", NULL, v->commit,
			      why.buf, NULL, err);
	strbuf_release(&why);
	return r;
}

int bugdb_record_verdict(bool *fix_known, struct bugdb *db, const char *id,
			 const struct bugdb_recheck *v, struct strbuf *err)
{
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	bool known = false;
	int r;

	if ((unsigned)v->verdict >= BUGDB_VERDICT_MAX || !v->commit)
		BUG("bad verifier verdict %d", (int)v->verdict);
	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	if (!fixable(from)) {
		strbuf_addf(err, "%s is %s: only open, confirmed or fix-pending "
				 "bugs are re-verified", real,
			    bugdb_status_name(from));
		return -EINVAL;
	}
	r = begin(db, err);
	if (r < 0)
		return r;
	if (v->verdict == BUGDB_VERDICT_PRESENT)
		r = verdict_present(db, real, v, err);
	else if (v->verdict == BUGDB_VERDICT_GONE)
		r = verdict_gone(&known, db, real, from, v, err);
	else
		r = verdict_unsure(db, real, v, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	r = commit(db, err);
	if (r == 0 && fix_known)
		*fix_known = known;
	return r;
}

/* ---- queries ---- */

void bugdb_list_release(struct bugdb_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		bugdb_bug_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void add_in_list(struct strbuf *sql, const char *col, unsigned mask,
			int max, bool text)
{
	bool first = true;

	strbuf_addf(sql, " AND %s IN (", col);
	for (int i = 0; i < max; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (text)
			strbuf_addf(sql, "%s'%s'", first ? "" : ", ",
				    status_names[i]);
		else
			strbuf_addf(sql, "%s%d", first ? "" : ", ", i);
		first = false;
	}
	strbuf_addch(sql, ')');
}

static enum bug_view query_view(const struct bugdb_query *q)
{
	return q->brief ? VIEW_BRIEF : q->full ? VIEW_FULL : VIEW_RECORD;
}

/* The WHERE clause of 'q'; the masks hold enum values, no user text. */
static void query_where(struct strbuf *sql, const struct bugdb_query *q,
			const char *indexed_by)
{
	strbuf_addf(sql, " FROM bug%s WHERE 1", indexed_by);
	if (q->status_mask)
		add_in_list(sql, "status", q->status_mask, BUGDB_STATUS_MAX,
			    true);
	if (q->severity_mask)
		add_in_list(sql, "severity", q->severity_mask, SEV__MAX, false);
}

/*
 * The statement of a query, from the handle's small cache keyed by its
 * SQL (the limit is a parameter, so repeated listings reuse it).  A
 * statement in use by an outer walk is not handed out again: a nested
 * identical query gets a fresh one, finalized by query_stmt_put().
 */
static int query_stmt_get(struct bugdb_qstmt **slot_out, sqlite3_stmt **out,
			  struct bugdb *db, const char *sql,
			  struct strbuf *err)
{
	struct bugdb_qstmt *slot = NULL;
	sqlite3_stmt *st;

	for (size_t i = 0; i < ARRAY_SIZE(db->queries); i++) {
		struct bugdb_qstmt *e = &db->queries[i];

		if (e->st && !e->busy && !strcmp(e->sql, sql)) {
			e->busy = true;
			*slot_out = e;
			*out = e->st;
			return 0;
		}
	}
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		strbuf_addf(err, "%s: %s", db->path, sqlite3_errmsg(db->h));
		return -EIO;
	}
	/* round robin over the slots no walk is using */
	for (size_t i = 0; i < ARRAY_SIZE(db->queries) && !slot; i++) {
		struct bugdb_qstmt *e = &db->queries[db->queries_next];

		db->queries_next = (db->queries_next + 1) %
				   ARRAY_SIZE(db->queries);
		if (!e->busy)
			slot = e;
	}
	if (slot) {
		sqlite3_finalize(slot->st);
		free(slot->sql);
		slot->sql = xstrdup(sql);
		slot->st = st;
		slot->busy = true;
	}
	*slot_out = slot;
	*out = st;
	return 0;
}

static void query_stmt_put(struct bugdb_qstmt *slot, sqlite3_stmt *st)
{
	if (!slot) {
		sqlite3_finalize(st);
		return;
	}
	db_done(st);
	slot->busy = false;
}

int bugdb_query_each(struct bugdb *db, const struct bugdb_query *q,
		     bugdb_row_fn fn, void *data, struct strbuf *err)
{
	static const char *const cols[] = {
		[VIEW_BRIEF] = "SELECT " BRIEF_COLS,
		[VIEW_RECORD] = "SELECT " BUG_COLS,
		[VIEW_FULL] = "SELECT " BUG_COLS ", evidence, explanation",
	};
	/* the orders of the bug_list_by_* indexes */
	static const char *const order[BUGDB_SORT_MAX] = {
		(" ORDER BY severity DESC, prio DESC, times_seen DESC,"
		 " first_seen, id"),
		" ORDER BY last_seen DESC, id",
		" ORDER BY first_seen, id",
	};
	static const char *const by_index[BUGDB_SORT_MAX] = {
		" INDEXED BY bug_list_by_severity",
		" INDEXED BY bug_list_by_seen",
		" INDEXED BY bug_list_by_age",
	};
	enum bug_view view = query_view(q);
	unsigned sort = (unsigned)q->sort < BUGDB_SORT_MAX ? q->sort : 0;
	struct strbuf sql = STRBUF_INIT;
	struct bugdb_qstmt *slot = NULL;
	sqlite3_stmt *st = NULL;
	int r;

	strbuf_addstr(&sql, cols[view]);
	/*
	 * Without statistics the planner prefers a status index and a
	 * sort, which costs a table lookup per matching row.  The brief
	 * view is served best by walking its covering index in order,
	 * filtering inside it and stopping at the limit; so is any view
	 * with a limit, which then looks up only the rows it returns.
	 * Whole wider listings need the table anyway and are left to the
	 * planner.
	 */
	query_where(&sql, q,
		    view == VIEW_BRIEF || q->limit ? by_index[sort] : "");
	strbuf_addstr(&sql, order[sort]);
	strbuf_addstr(&sql, " LIMIT ?");
	r = query_stmt_get(&slot, &st, db, sql.buf, err);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, q->limit && q->limit <= INT64_MAX ?
					  (int64_t)q->limit : -1);
	while ((r = step(db, st, err)) == 1) {
		struct bugdb_bug b;

		bug_view_row(&b, st, view);
		r = fn(&b, data);
		if (r)
			break;
	}
	query_stmt_put(slot, st);
out:
	strbuf_release(&sql);
	return r;
}

int bugdb_query_count(size_t *out, struct bugdb *db,
		      const struct bugdb_query *q, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct bugdb_qstmt *slot = NULL;
	sqlite3_stmt *st = NULL;
	int r;

	strbuf_addstr(&sql, "SELECT count(*)");
	query_where(&sql, q, "");
	r = query_stmt_get(&slot, &st, db, sql.buf, err);
	if (r < 0)
		goto out;
	r = step(db, st, err);
	if (r == 1) {
		int64_t n = sqlite3_column_int64(st, 0);
		size_t nr = n > 0 ? (size_t)n : 0;

		*out = q->limit && q->limit < nr ? q->limit : nr;
		r = 0;
	} else if (r == 0) {
		strbuf_addf(err, "%s: count returned no row", db->path);
		r = -EIO;
	}
	query_stmt_put(slot, st);
out:
	strbuf_release(&sql);
	return r;
}

static int append_copy(const struct bugdb_bug *b, void *data)
{
	struct bugdb_list *l = data;

	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	bug_copy(&l->v[l->nr++], b);
	return 0;
}

int bugdb_query_run(struct bugdb_list *out, struct bugdb *db,
		    const struct bugdb_query *q, struct strbuf *err)
{
	return bugdb_query_each(db, q, append_copy, out, err);
}

int bugdb_count(int64_t *out, struct bugdb *db, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT status, count(*) FROM bug"
				    " GROUP BY status");
	int r;

	for (int i = 0; i < BUGDB_STATUS_MAX; i++)
		out[i] = 0;
	while ((r = step(db, st, err)) == 1) {
		enum bugdb_status s;

		if (bugdb_status_parse(&s, (const char *)sqlite3_column_text(
						   st, 0)) == 0)
			out[s] = sqlite3_column_int64(st, 1);
	}
	db_done(st);
	return r < 0 ? r : 0;
}

void bugdb_detail_release(struct bugdb_detail *d)
{
	for (size_t i = 0; i < d->events_nr; i++) {
		struct bugdb_event *e = &d->events[i];

		free(e->actor);
		free(e->kind);
		free(e->old);
		free(e->new);
		free(e->reason);
		free(e->link);
	}
	free(d->events);
	for (size_t i = 0; i < d->sightings_nr; i++) {
		free(d->sightings[i].review);
		free(d->sightings[i].msgid);
		free(d->sightings[i].patch_subject);
		free(d->sightings[i].verdict);
	}
	free(d->sightings);
	for (size_t i = 0; i < d->fixes_nr; i++) {
		free(d->fixes[i].commit);
		free(d->fixes[i].title);
		free(d->fixes[i].branch);
	}
	free(d->fixes);
	for (size_t i = 0; i < d->labels_nr; i++) {
		free(d->labels[i].label);
		free(d->labels[i].value);
		free(d->labels[i].set_by);
	}
	free(d->labels);
	for (size_t i = 0; i < d->signatures_nr; i++)
		free(d->signatures[i]);
	free(d->signatures);
	memset(d, 0, sizeof(*d));
}

int bugdb_get_detail(struct bugdb_detail *out, struct bugdb *db,
		     const char *id, struct strbuf *err)
{
	sqlite3_stmt *ev = stmt(db, "SELECT at, actor, kind, old, new, reason,"
				    " link FROM bug_event WHERE bug_id = ?"
				    " ORDER BY id");
	sqlite3_stmt *si = stmt(db, "SELECT seen_at, review, msgid,"
				    " patch_subject, verdict, support, runs,"
				    " revision, severity FROM bug_sighting WHERE"
				    " bug_id = ? ORDER BY id");
	sqlite3_stmt *fx = stmt(db, "SELECT commit_id, title, branch, seen_at"
				    " FROM bug_fix WHERE bug_id = ?"
				    " ORDER BY seen_at, branch");
	sqlite3_stmt *lb = stmt(db, "SELECT label, value, set_by FROM bug_label"
				    " WHERE bug_id = ? ORDER BY at");
	sqlite3_stmt *sg = stmt(db, "SELECT signature FROM bug_signature"
				    " WHERE bug_id = ? ORDER BY signature");
	struct bugdb_detail d;
	char real[BUGDB_ID_MAX];
	size_t alloc = 0;
	int r;

	memset(&d, 0, sizeof(d));
	r = find_id(real, db, id);
	if (r <= 0) {
		strbuf_addf(err, "no bug '%s' in %s", id, db->section);
		return r < 0 ? r : -ENOENT;
	}
	db_bind_text(ev, 1, real);
	while ((r = step(db, ev, err)) == 1) {
		struct bugdb_event *e;

		ALLOC_GROW(d.events, d.events_nr + 1, alloc);
		e = &d.events[d.events_nr++];
		e->at_ms = sqlite3_column_int64(ev, 0);
		e->actor = db_column_strdup(ev, 1);
		e->kind = db_column_strdup(ev, 2);
		e->old = db_column_strdup(ev, 3);
		e->new = db_column_strdup(ev, 4);
		e->reason = db_column_strdup(ev, 5);
		e->link = db_column_strdup(ev, 6);
	}
	db_done(ev);
	alloc = 0;
	db_bind_text(si, 1, real);
	while (r >= 0 && (r = step(db, si, err)) == 1) {
		struct bugdb_sighting *s;

		ALLOC_GROW(d.sightings, d.sightings_nr + 1, alloc);
		s = &d.sightings[d.sightings_nr++];
		s->at_ms = sqlite3_column_int64(si, 0);
		s->review = db_column_strdup(si, 1);
		s->msgid = db_column_strdup(si, 2);
		s->patch_subject = db_column_strdup(si, 3);
		s->verdict = db_column_strdup(si, 4);
		s->support = sqlite3_column_int(si, 5);
		s->runs = sqlite3_column_int(si, 6);
		s->revision = sqlite3_column_int(si, 7);
		s->severity = (enum finding_severity)clamp_int(
			sqlite3_column_int(si, 8), SEV_LOW, SEV_CRITICAL);
	}
	db_done(si);
	alloc = 0;
	db_bind_text(fx, 1, real);
	while (r >= 0 && (r = step(db, fx, err)) == 1) {
		struct bugdb_fixrec *f;

		ALLOC_GROW(d.fixes, d.fixes_nr + 1, alloc);
		f = &d.fixes[d.fixes_nr++];
		f->commit = db_column_strdup(fx, 0);
		f->title = db_column_strdup(fx, 1);
		f->branch = db_column_strdup(fx, 2);
		f->at_ms = sqlite3_column_int64(fx, 3);
	}
	db_done(fx);
	alloc = 0;
	db_bind_text(lb, 1, real);
	while (r >= 0 && (r = step(db, lb, err)) == 1) {
		struct bugdb_labelrec *l;

		ALLOC_GROW(d.labels, d.labels_nr + 1, alloc);
		l = &d.labels[d.labels_nr++];
		l->label = db_column_strdup(lb, 0);
		l->value = db_column_strdup(lb, 1);
		l->set_by = db_column_strdup(lb, 2);
	}
	db_done(lb);
	alloc = 0;
	db_bind_text(sg, 1, real);
	while (r >= 0 && (r = step(db, sg, err)) == 1) {
		ALLOC_GROW(d.signatures, d.signatures_nr + 1, alloc);
		d.signatures[d.signatures_nr++] = db_column_strdup(sg, 0);
	}
	db_done(sg);
	if (r < 0) {
		bugdb_detail_release(&d);
		return r;
	}
	*out = d;
	return 0;
}

/* ---- digests ---- */

int bugdb_digest_pick(struct bugdb_list *out, struct bugdb *db,
		      const struct bugdb_digest_opts *o, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT " BUG_COLS " FROM bug WHERE"
				    " status IN ('open', 'confirmed') AND"
				    " backburner = 0 AND stale = 0 AND"
				    " first_seen <= ? AND last_activity <= ?"
				    " AND (? OR CASE WHEN last_verified_at > 0"
				    "  THEN last_verified_at ELSE first_seen"
				    "  END >= ?)"
				    " AND NOT EXISTS (SELECT 1 FROM bug_label l"
				    " WHERE l.bug_id = bug.id AND"
				    " l.label = 'no-reminders')"
				    " ORDER BY status = 'confirmed' DESC,"
				    " severity DESC, prio DESC, times_seen DESC,"
				    " first_seen, id LIMIT ?");
	struct bugdb_list l = BUGDB_LIST_INIT;
	int64_t t = now(db);
	int r;

	sqlite3_bind_int64(st, 1, t - o->min_age_ms);
	sqlite3_bind_int64(st, 2, t - o->quiet_ms);
	/* possibly fixed: not verified present within the age */
	sqlite3_bind_int(st, 3, o->reverify_max_age_ms <= 0);
	sqlite3_bind_int64(st, 4, t - o->reverify_max_age_ms);
	sqlite3_bind_int(st, 5, o->max_bugs > 0 ? o->max_bugs : 20);
	while ((r = step(db, st, err)) == 1) {
		ALLOC_GROW(l.v, l.nr + 1, l.alloc);
		bug_from_row(&l.v[l.nr++], st, VIEW_RECORD);
	}
	db_done(st);
	if (r < 0 || (int64_t)l.nr < o->min_bugs) {
		bugdb_list_release(&l);
		return r < 0 ? r : 0;
	}
	for (size_t i = 0; i < l.nr; i++) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = l.v[i];
	}
	free(l.v);
	return 0;
}

int bugdb_digest_store(int64_t *id_out, struct bugdb *db,
		       const char *message_id, const struct bugdb_list *l,
		       struct strbuf *err)
{
	sqlite3_stmt *d = stmt(db, "INSERT INTO digest(message_id, created_at)"
				   " VALUES (?, ?)");
	sqlite3_stmt *it = stmt(db, "INSERT INTO digest_item(digest_id, ref,"
				    " bug_id) VALUES (?, ?, ?)");
	int64_t id;
	int r;

	r = begin(db, err);
	if (r < 0)
		return r;
	db_bind_text(d, 1, message_id);
	sqlite3_bind_int64(d, 2, now(db));
	r = step(db, d, err);
	db_done(d);
	id = sqlite3_last_insert_rowid(db->h);
	for (size_t i = 0; r >= 0 && i < l->nr; i++) {
		sqlite3_bind_int64(it, 1, id);
		sqlite3_bind_int64(it, 2, (int64_t)i + 1);
		db_bind_text(it, 3, l->v[i].id);
		r = step(db, it, err);
		db_done(it);
	}
	if (r < 0) {
		rollback(db);
		return r;
	}
	r = commit(db, err);
	if (r == 0)
		*id_out = id;
	return r;
}

int bugdb_digest_ref(char id_out[BUGDB_ID_MAX], struct bugdb *db,
		     const char *const *msgids, size_t nr, int ref,
		     struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT i.bug_id FROM digest d JOIN"
				    " digest_item i ON i.digest_id = d.id WHERE"
				    " d.message_id = ? AND i.ref = ?");
	int r = 0;

	for (size_t i = 0; i < nr && r == 0; i++) {
		db_bind_text(st, 1, msgids[i]);
		sqlite3_bind_int(st, 2, ref);
		r = step(db, st, err);
		if (r == 1)
			snprintf(id_out, BUGDB_ID_MAX, "%s",
				 (const char *)sqlite3_column_text(st, 0));
		db_done(st);
	}
	return r;
}

int bugdb_period_counts(int64_t *new_out, int64_t *fixed_out,
			struct bugdb *db, int64_t since_ms, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT (SELECT count(*) FROM bug WHERE"
				    " first_seen >= ?1), (SELECT count(*) FROM"
				    " bug_event WHERE kind = 'status' AND"
				    " new = 'fixed' AND at >= ?1)");
	int r;

	sqlite3_bind_int64(st, 1, since_ms);
	r = step(db, st, err);
	if (r == 1) {
		*new_out = sqlite3_column_int64(st, 0);
		*fixed_out = sqlite3_column_int64(st, 1);
	}
	db_done(st);
	return r < 0 ? r : 0;
}

int bugdb_command_seen(struct bugdb *db, const char *msgid,
		       struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT 1 FROM command_log WHERE"
				    " message_id = ? LIMIT 1");
	int r;

	db_bind_text(st, 1, msgid);
	r = step(db, st, err);
	db_done(st);
	return r;
}

int bugdb_command_log(struct bugdb *db, const char *msgid,
		      const char *sender, const char *line, const char *result,
		      bool ok, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "INSERT INTO command_log(message_id, sender,"
				    " line, result, ok, at) VALUES (?, ?, ?, ?,"
				    " ?, ?)");
	int r;

	db_bind_text(st, 1, msgid ? msgid : "");
	db_bind_text(st, 2, sender ? sender : "");
	db_bind_text(st, 3, line ? line : "");
	db_bind_text(st, 4, result ? result : "");
	sqlite3_bind_int(st, 5, ok);
	sqlite3_bind_int64(st, 6, now(db));
	r = step(db, st, err);
	db_done(st);
	return r < 0 ? r : 0;
}

/* ---- moves, re-verification requests, mail preferences ---- */

#define LABEL_MOVED_TO "moved-to"
#define LABEL_MOVED_FROM "moved-from"
#define LABEL_UNCC "uncc"
#define LABEL_NO_REMINDERS "no-reminders"
/* The schema name of the target database while a move runs. */
#define MOVE_DST "kreview_move_dst"

int bugdb_moved_to(char id_out[BUGDB_ID_MAX], struct bugdb *db,
		   const char *id, struct strbuf *err)
{
	char real[BUGDB_ID_MAX], *to = NULL;
	int r = find_id(real, db, id);

	if (r <= 0)
		return r;
	r = label_get(&to, db, real, LABEL_MOVED_TO, NULL, err);
	if (r == 1)
		snprintf(id_out, BUGDB_ID_MAX, "%s", to);
	free(to);
	return r;
}

/* A move stub has no status of its own: refuse to change it. */
static int refuse_moved(struct bugdb *db, const char *real,
			struct strbuf *err)
{
	char to[BUGDB_ID_MAX];
	int r = bugdb_moved_to(to, db, real, err);

	if (r == 1) {
		strbuf_addf(err, "%s was moved to %s; change that bug instead",
			    real, to);
		return -EINVAL;
	}
	return r;
}

int bugdb_set_section_open(struct bugdb **out, struct bugdb_set *set,
			   const char *dir, const char *section,
			   const struct maint *m, struct strbuf *err)
{
	struct strbuf want = STRBUF_INIT, slug = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT;
	const struct maint_section *sec = NULL;
	struct bugdb *db = bugdb_set_section(set, section);
	int r = 0;

	if (db) {
		*out = db;
		return 0;
	}
	bugdb_slug(&want, section);
	for (size_t i = 0; m && i < maint_section_count(m) && !sec; i++) {
		const struct maint_section *s = maint_section_at(m, i);

		strbuf_reset(&slug);
		bugdb_slug(&slug, s->title);
		if (!strcasecmp(s->title, section) ||
		    !strcmp(slug.buf, want.buf))
			sec = s;
	}
	if (!sec) {
		strbuf_addf(err, "no bug database for section '%s'%s", section,
			    m ? ", and MAINTAINERS has no such section" :
				" (and no MAINTAINERS to create one from)");
		r = -ENOENT;
		goto out;
	}
	bugdb_path(&path, dir, sec->title);
	r = bugdb_open(&db, path.buf, sec->title, err);
	if (r < 0)
		goto out;
	r = bugdb_set_maintainers(db, m, err);
	if (r < 0) {
		bugdb_close(db);
		goto out;
	}
	ALLOC_GROW(set->v, set->nr + 1, set->alloc);
	set->v[set->nr++] = db;
	*out = db;
out:
	strbuf_release(&want);
	strbuf_release(&slug);
	strbuf_release(&path);
	return r;
}

/*
 * One statement on 'db''s connection with text parameters ?1..?n (NULL
 * binds NULL), not cached: statements naming the attached target of a
 * move must not outlive it.
 */
static int run_text(struct bugdb *db, const char *sql, const char *const *args,
		    int n, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		strbuf_addf(err, "%s: %s", db->path, sqlite3_errmsg(db->h));
		return -EIO;
	}
	for (int i = 0; i < n; i++)
		db_bind_text(st, i + 1, args[i]);
	r = step(db, st, err);
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

/* A free id of 'to' for a bug of 'signature' and 'seq'. */
static int free_id(struct strbuf *out, struct bugdb *to, const char *signature,
		   int seq, struct strbuf *err)
{
	char tmp[BUGDB_ID_MAX];

	for (size_t hex = ID_HEX_MIN; hex <= ID_HEX_MAX; hex++) {
		int r;

		strbuf_reset(out);
		make_id(out, to, signature, seq, hex);
		r = find_id(tmp, to, out->buf);
		if (r < 0) {
			strbuf_addf(err, "%s: %s", to->path,
				    sqlite3_errmsg(to->h));
			return r;
		}
		if (r == 0)
			return 0;
	}
	strbuf_addf(err, "no free bug id in %s for '%s'", to->section,
		    signature);
	return -EEXIST;
}

/*
 * The SQL of a move, on the source's connection: ?1 is the moved bug
 * in main, ?2 its id in the attached target.  MOVE_ROWS copies the
 * rows of one table; 'verb' is INSERT or INSERT OR IGNORE, 'where'
 * filters (" AND ..."), 'order' orders (" ORDER BY id").
 */
#define MOVE_ROWS(verb, table, cols, where, order)                           \
	verb " INTO " MOVE_DST "." table "(bug_id, " cols ") SELECT ?2, "   \
	cols " FROM main." table " s WHERE bug_id = ?1" where order
#define MOVE_BUG_STATE                                                        \
	"title, status, prev_status, backburner, stale, severity,"          \
	" confidence, prio, code_commit, line, end_line, evidence,"         \
	" explanation, first_seen, last_seen, times_seen, last_activity,"  \
	" last_verified_at, last_verified_commit"
#define MOVE_SIGHTING_COLS                                                    \
	"review, msgid, patch_subject, revision, support, runs, severity,"  \
	" verdict, suppressed, seen_at"
#define MOVE_EVENT_COLS "at, actor, kind, old, new, reason, link"
#define MOVE_LABEL_COLS "label, value, set_by, link, at"
#define MOVE_FIX_COLS "commit_id, title, branch, seen_at"
#define MOVE_NOT_MOVE_LABELS                                                  \
	" AND label NOT IN ('" LABEL_MOVED_TO "', '" LABEL_MOVED_FROM "')"

static int run_all(struct bugdb *from, const char *const *sql, size_t nr,
		   const char *const *a, struct strbuf *err)
{
	int r = 0;

	for (size_t i = 0; i < nr && r == 0; i++)
		r = run_text(from, sql[i], a, 2, err);
	return r;
}

/* Copy the bug and its rows under 'a[1]' (a[0]: the moved id). */
static int move_copy(struct bugdb *from, const char *const *a,
		     struct strbuf *err)
{
	static const char *const sql[] = {
		"INSERT INTO " MOVE_DST ".bug(id, seq, signature, origin, file,"
		" function, category, " MOVE_BUG_STATE ") SELECT ?2, seq,"
		" signature, origin, file, function, category, " MOVE_BUG_STATE
		" FROM main.bug WHERE id = ?1",
		MOVE_ROWS("INSERT", "bug_signature", "signature, kind", "", ""),
		MOVE_ROWS("INSERT", "bug_fix", MOVE_FIX_COLS, "", ""),
		MOVE_ROWS("INSERT", "bug_label", MOVE_LABEL_COLS,
			  MOVE_NOT_MOVE_LABELS, ""),
		MOVE_ROWS("INSERT", "bug_event", MOVE_EVENT_COLS, "",
			  " ORDER BY id"),
		MOVE_ROWS("INSERT", "bug_sighting", MOVE_SIGHTING_COLS, "",
			  " ORDER BY id"),
	};

	return run_all(from, sql, ARRAY_SIZE(sql), a, err);
}

/* Fold the moved bug 'a[0]' into the bug 'a[1]' 'to' already had. */
static int move_merge(struct bugdb *from, const char *const *a,
		      struct strbuf *err)
{
	static const char *const sql[] = {
		MOVE_ROWS("INSERT", "bug_sighting", MOVE_SIGHTING_COLS, "",
			  " ORDER BY id"),
		MOVE_ROWS("INSERT OR IGNORE", "bug_signature",
			  "signature, kind", "", ""),
		"UPDATE " MOVE_DST ".bug SET times_seen = times_seen +"
		" (SELECT times_seen FROM main.bug WHERE id = ?1),"
		" first_seen = min(first_seen, (SELECT first_seen FROM main.bug"
		" WHERE id = ?1)), last_seen = max(last_seen, (SELECT last_seen"
		" FROM main.bug WHERE id = ?1)), severity = max(severity,"
		" (SELECT severity FROM main.bug WHERE id = ?1)) WHERE id = ?2",
	};

	return run_all(from, sql, ARRAY_SIZE(sql), a, err);
}

/*
 * Moving a bug back where it came from: the stub 'a[1]' left there
 * becomes the bug again with the current state of 'a[0]', and gains
 * what happened to it meanwhile (rows it does not have yet).
 */
static int move_revive(struct bugdb *from, const char *const *a,
		       struct strbuf *err)
{
	static const char *const sql[] = {
		"UPDATE " MOVE_DST ".bug SET dup_of = NULL, (" MOVE_BUG_STATE
		") = (SELECT " MOVE_BUG_STATE " FROM main.bug WHERE id = ?1)"
		" WHERE id = ?2",
		"DELETE FROM " MOVE_DST ".bug_label WHERE bug_id = ?2 AND"
		" label = '" LABEL_MOVED_TO "'",
		MOVE_ROWS("INSERT OR IGNORE", "bug_label", MOVE_LABEL_COLS,
			  MOVE_NOT_MOVE_LABELS, ""),
		MOVE_ROWS("INSERT OR IGNORE", "bug_fix", MOVE_FIX_COLS, "", ""),
		MOVE_ROWS("INSERT OR IGNORE", "bug_signature",
			  "signature, kind", "", ""),
		MOVE_ROWS("INSERT", "bug_sighting", MOVE_SIGHTING_COLS,
			  " AND NOT EXISTS (SELECT 1 FROM " MOVE_DST
			  ".bug_sighting d WHERE d.bug_id = ?2 AND d.seen_at ="
			  " s.seen_at AND d.review IS s.review AND d.msgid IS"
			  " s.msgid)", " ORDER BY id"),
		MOVE_ROWS("INSERT", "bug_event", MOVE_EVENT_COLS,
			  " AND NOT EXISTS (SELECT 1 FROM " MOVE_DST
			  ".bug_event d WHERE d.bug_id = ?2 AND d.at = s.at AND"
			  " d.kind = s.kind AND d.actor = s.actor AND d.new IS"
			  " s.new)", " ORDER BY id"),
	};

	return run_all(from, sql, ARRAY_SIZE(sql), a, err);
}

int bugdb_move(char id_out[BUGDB_ID_MAX], struct bugdb *from, const char *id,
	       struct bugdb *to, const char *actor, const char *reason,
	       const char *link, struct strbuf *err)
{
	sqlite3_stmt *stub = stmt(from, "UPDATE bug SET status = 'dup',"
				      " prev_status = status, dup_of = NULL,"
				      " last_activity = ? WHERE id = ?");
	struct strbuf dst = STRBUF_INIT, what = STRBUF_INIT;
	struct strbuf t = STRBUF_INIT, at = STRBUF_INIT;
	enum bugdb_status st, prev;
	char real[BUGDB_ID_MAX], existing[BUGDB_ID_MAX], *sig = NULL;
	const char *a[8];
	bool merge = false, revive = false, attached = false, copied = false;
	bool changed;
	int r;

	if (from == to || !strcmp(from->section, to->section)) {
		strbuf_addf(err, "%s is already in %s", id, from->section);
		return -EINVAL;
	}
	r = load_status(&st, &prev, real, from, id, err);
	if (r < 0)
		return r;
	if (st == BUGDB_DUP) {
		r = refuse_moved(from, real, err);
		if (r == 0) {
			strbuf_addf(err, "%s is a duplicate: move the bug it "
					 "duplicates instead", real);
			r = -EINVAL;
		}
		return r;
	}
	{
		sqlite3_stmt *s = stmt(from, "SELECT signature, seq FROM bug"
					     " WHERE id = ?");
		int seq = 0;

		db_bind_text(s, 1, real);
		r = step(from, s, err);
		if (r == 1) {
			sig = db_column_strdup(s, 0);
			seq = sqlite3_column_int(s, 1);
		}
		db_done(s);
		if (r < 0)
			goto out;
		r = match_signature(existing, to, sig ? sig : "", err);
		if (r < 0)
			goto out;
		merge = r == 1;
		if (merge)
			strbuf_addstr(&dst, existing);
		else
			r = free_id(&dst, to, sig ? sig : "", seq, err);
		if (r < 0)
			goto out;
	}
	if (merge) {
		/* back to where it was moved from: the stub lives again */
		r = label_get(NULL, to, dst.buf, LABEL_MOVED_TO, NULL, err);
		if (r < 0)
			goto out;
		revive = r == 1;
	}
	if (merge && !revive) {
		/* a move retried after a crash between the two files */
		r = label_get(NULL, to, dst.buf, LABEL_MOVED_FROM, real, err);
		if (r < 0)
			goto out;
		copied = r == 1;
	}
	a[0] = to->path;
	r = run_text(from, "ATTACH DATABASE ?1 AS " MOVE_DST, a, 1, err);
	if (r < 0)
		goto out;
	attached = true;
	r = begin(from, err);
	if (r < 0)
		goto out;
	a[0] = real;
	a[1] = dst.buf;
	if (revive)
		r = move_revive(from, a, err);
	else if (!copied)
		r = merge ? move_merge(from, a, err) : move_copy(from, a, err);
	/* the target's side: where it came from, and an event */
	strbuf_addf(&t, "%" PRId64, now(from));
	strbuf_addf(&what, "%s (%s)", real, from->section);
	a[2] = actor ? actor : "kreview";
	a[3] = what.buf;
	a[4] = to->section;
	a[5] = reason && *reason ? reason : NULL;
	a[6] = link;
	a[7] = t.buf;
	if (r == 0 && !copied)
		r = run_text(from,
			     "INSERT OR IGNORE INTO " MOVE_DST ".bug_label("
			     "bug_id, label, value, set_by, link, at) VALUES"
			     " (?2, '" LABEL_MOVED_FROM "', ?1, ?3, ?7,"
			     " CAST(?8 AS INTEGER))",
			     a, 8, err);
	if (r == 0 && !copied)
		r = run_text(from,
			     "INSERT INTO " MOVE_DST ".bug_event(bug_id, at,"
			     " actor, kind, old, new, reason, link) VALUES"
			     " (?2, CAST(?8 AS INTEGER), ?3, 'moved', ?4, ?5,"
			     " ?6, ?7)",
			     a, 8, err);
	if (r == 0 && !copied)
		r = run_text(from,
			     "UPDATE " MOVE_DST ".bug SET last_activity ="
			     " CAST(?8 AS INTEGER) WHERE id = ?2",
			     a, 8, err);
	/* the source's side: the forwarding stub */
	if (r == 0) {
		sqlite3_bind_int64(stub, 1, now(from));
		db_bind_text(stub, 2, real);
		r = step(from, stub, err);
		db_done(stub);
		r = r < 0 ? r : 0;
	}
	if (r == 0)
		r = label_put(&changed, from, real, LABEL_MOVED_TO, dst.buf,
			      true, actor, link, err);
	strbuf_addf(&at, "%s (%s)", dst.buf, to->section);
	if (r == 0)
		r = add_event(from, real, actor, "moved", from->section, at.buf,
			      reason, link, err);
	if (r < 0) {
		rollback(from);
		goto out;
	}
	r = commit(from, err);
	if (r == 0)
		snprintf(id_out, BUGDB_ID_MAX, "%s", dst.buf);
out:
	if (attached)
		(void)sqlite3_exec(from->h, "DETACH DATABASE " MOVE_DST, NULL,
				   NULL, NULL);
	free(sig);
	strbuf_release(&dst);
	strbuf_release(&what);
	strbuf_release(&t);
	strbuf_release(&at);
	return r;
}

int bugdb_poke(struct bugdb *db, const char *id, const char *actor,
	       const char *link, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET stale = 1 WHERE id = ?");
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	int r;

	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	if (!fixable(from)) {
		strbuf_addf(err, "%s is %s: only open, confirmed and "
				 "fix-pending bugs are re-verified",
			    real, bugdb_status_name(from));
		return -EINVAL;
	}
	r = begin(db, err);
	if (r < 0)
		return r;
	db_bind_text(st, 1, real);
	r = step(db, st, err);
	db_done(st);
	if (r >= 0)
		r = add_event(db, real, actor, "poke", NULL, "stale",
			      "re-verification requested", link, err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

/*
 * A poke waits for the verifier while the bug is stale, re-verifiable,
 * and poked after the verifier last spoke about it ("verified" or
 * "stale" by kreview).  Event ids order the events; times may tie.
 */
#define POKE_PENDING                                                       \
	" b.stale = 1 AND b.status IN ('open', 'confirmed', 'fix-pending')" \
	" AND EXISTS (SELECT 1 FROM bug_event p WHERE p.bug_id = b.id AND"   \
	" p.kind = 'poke' AND p.at >= ?1 AND p.id > coalesce((SELECT"       \
	" max(v.id) FROM bug_event v WHERE v.bug_id = b.id AND"              \
	" v.actor = 'kreview' AND v.kind IN ('verified', 'stale')), 0))"

int bugdb_poked(struct bugdb *db, const char *id, struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT 1 FROM bug b WHERE b.id = ?2 AND"
				    POKE_PENDING);
	char real[BUGDB_ID_MAX];
	int r = find_id(real, db, id);

	if (r <= 0)
		return r;
	sqlite3_bind_int64(st, 1, 0);
	db_bind_text(st, 2, real);
	r = step(db, st, err);
	db_done(st);
	return r;
}

int bugdb_pokes_since(size_t *out, struct bugdb *db, int64_t since_ms,
		      struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT count(*) FROM bug b WHERE"
				    POKE_PENDING);
	int r;

	sqlite3_bind_int64(st, 1, since_ms);
	r = step(db, st, err);
	if (r == 1)
		*out = (size_t)sqlite3_column_int64(st, 0);
	db_done(st);
	return r < 0 ? r : 0;
}

int bugdb_set_no_reminders(struct bugdb *db, const char *id, bool on,
			   const char *actor, const char *link,
			   struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "UPDATE bug SET last_activity = ?"
				    " WHERE id = ?");
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	bool changed = false;
	int r;

	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		return r;
	r = refuse_moved(db, real, err);
	if (r < 0)
		return r;
	r = begin(db, err);
	if (r < 0)
		return r;
	r = label_put(&changed, db, real, LABEL_NO_REMINDERS, "on", on, actor,
		      link, err);
	if (r == 0 && changed && is_human(actor)) {
		sqlite3_bind_int64(st, 1, now(db));
		db_bind_text(st, 2, real);
		r = step(db, st, err);
		db_done(st);
		r = r < 0 ? r : 0;
	}
	if (r == 0 && changed)
		r = add_event(db, real, actor, LABEL_NO_REMINDERS,
			      on ? "off" : "on", on ? "on" : "off", NULL, link,
			      err);
	if (r < 0) {
		rollback(db);
		return r;
	}
	return commit(db, err);
}

int bugdb_no_reminders(struct bugdb *db, const char *id, struct strbuf *err)
{
	char real[BUGDB_ID_MAX];
	int r = find_id(real, db, id);

	if (r <= 0)
		return r;
	return label_get(NULL, db, real, LABEL_NO_REMINDERS, "on", err);
}

int bugdb_uncc(struct bugdb *db, const char *id, const char *addr,
	       const char *link, struct strbuf *err)
{
	struct strbuf a = STRBUF_INIT;
	enum bugdb_status from, prev;
	char real[BUGDB_ID_MAX];
	bool changed = false;
	int r;

	strbuf_addstr(&a, addr ? addr : "");
	strbuf_trim(&a);
	strbuf_tolower(&a);
	if (!a.len || !strchr(a.buf, '@')) {
		strbuf_addstr(err, "uncc needs the sender's address");
		r = -EINVAL;
		goto out;
	}
	r = load_status(&from, &prev, real, db, id, err);
	if (r < 0)
		goto out;
	r = begin(db, err);
	if (r < 0)
		goto out;
	r = label_put(&changed, db, real, LABEL_UNCC, a.buf, true, a.buf, link,
		      err);
	if (r == 0 && changed)
		r = add_event(db, real, a.buf, LABEL_UNCC, NULL, a.buf, NULL,
			      link, err);
	if (r < 0) {
		rollback(db);
		goto out;
	}
	r = commit(db, err);
out:
	strbuf_release(&a);
	return r;
}

int bugdb_uncced(struct bugdb *db, const char *id, const char *addr,
		 struct strbuf *err)
{
	struct strbuf a = STRBUF_INIT;
	char real[BUGDB_ID_MAX];
	int r = find_id(real, db, id);

	if (r <= 0)
		return r;
	strbuf_addstr(&a, addr ? addr : "");
	strbuf_tolower(&a);
	r = label_get(NULL, db, real, LABEL_UNCC, a.buf, err);
	strbuf_release(&a);
	return r;
}

int bugdb_digest_ids(char ***out, size_t *nr, struct bugdb *db,
		     struct strbuf *err)
{
	sqlite3_stmt *st = stmt(db, "SELECT message_id FROM digest"
				    " ORDER BY id");
	int r;

	while ((r = step(db, st, err)) == 1) {
		*out = xrealloc(*out, st_mult(*nr + 1, sizeof(char *)));
		(*out)[(*nr)++] = db_column_strdup(st, 0);
	}
	db_done(st);
	return r < 0 ? r : 0;
}

/* ---- fix detection ---- */

/* Append every id-shaped token of 'value' to the list, once. */
static void scan_ids(char ***out, size_t *nr, const char *value)
{
	const char *p = value;

	while (*p) {
		const char *s = p, *e;
		struct strbuf tok = STRBUF_INIT;
		bool dup = false;

		if (!isalnum((unsigned char)*p) ||
		    (p > value && isalnum((unsigned char)p[-1]))) {
			p++;
			continue;
		}
		e = s;
		while (isalnum((unsigned char)*e))
			e++;
		if (*e == '-') {
			e++;
			while (isxdigit((unsigned char)*e))
				e++;
		}
		strbuf_add(&tok, s, (size_t)(e - s));
		p = e > s ? e : s + 1;
		if (isalnum((unsigned char)*e) || !bugdb_id_valid(tok.buf)) {
			strbuf_release(&tok);
			continue;
		}
		for (size_t i = 0; i < tok.len && tok.buf[i] != '-'; i++)
			tok.buf[i] = (char)toupper((unsigned char)tok.buf[i]);
		for (size_t i = 0; i < *nr && !dup; i++)
			dup = !strcasecmp((*out)[i], tok.buf);
		if (dup) {
			strbuf_release(&tok);
			continue;
		}
		*out = xrealloc(*out, st_mult(*nr + 1, sizeof(char *)));
		(*out)[(*nr)++] = strbuf_detach(&tok, NULL);
	}
}

void bugdb_trailer_ids(char ***out, size_t *nr, const char *message)
{
	struct trailer_list tl = TRAILER_LIST_INIT;

	trailer_parse_block(&tl, message, strlen(message));
	for (size_t i = 0; i < tl.nr; i++) {
		const char *n = tl.items[i].name;

		if (!strcasecmp(n, "Closes") || !strcasecmp(n, "Link") ||
		    !strcasecmp(n, "Reported-by"))
			scan_ids(out, nr, tl.items[i].value);
	}
	trailer_list_release(&tl);
}
