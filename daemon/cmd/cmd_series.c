/* kreview series: list and show assembled series revisions. */
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/store.h"
#include "kreview/strbuf.h"

#include <getopt.h>

struct series_opts {
	const char *db_path;
	const char *config_path;
	bool json, mbox;
};

static int open_db(struct db **db, const struct series_opts *o)
{
	struct kreview_config *cfg = NULL;
	struct strbuf err = STRBUF_INIT;
	const char *path = o->db_path;
	int r = 0;

	if (!path) {
		r = config_load(&cfg, o->config_path, &err);
		if (r < 0) {
			fprintf(stderr, "%s\n", err.buf);
			goto out;
		}
		path = cfg->database;
	}
	r = db_open(db, path, &err);
	if (r < 0)
		fprintf(stderr, "kreview: %s\n", err.buf);
out:
	config_free(cfg);
	strbuf_release(&err);
	return r;
}

static void json_str_or_null(struct strbuf *sb, const unsigned char *s,
			     int len)
{
	if (s)
		strbuf_add_json_str(sb, (const char *)s, (size_t)len);
	else
		strbuf_addstr(sb, "null");
}

/* Patch message ids of a revision in slot order, NULL for gaps. */
static char **load_patches(struct db *db, int64_t id, int total)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT idx, msgid FROM series_patch WHERE series_id = ?");
	char **slots = xcalloc((size_t)total + 1, sizeof(char *));

	db_bind_int64(st, 1, id);
	while (db_step(db, st, NULL) > 0) {
		int idx = sqlite3_column_int(st, 0);

		if (idx >= 1 && idx <= total && !slots[idx - 1])
			slots[idx - 1] = db_column_strdup(st, 1);
	}
	db_done(st);
	return slots;
}

static void free_slots(char **slots, int total)
{
	for (int i = 0; i < total; i++)
		free(slots[i]);
	free(slots);
}

static int series_list(struct db *db, const struct series_opts *o)
{
	sqlite3_stmt *st = db_prepare(
		db,
		"SELECT id, subject, version, total, cover_msgid, complete, author,"
		" prev_version, stalled, (SELECT count(*) FROM series_patch p"
		" WHERE p.series_id = s.id) FROM series s"
		" ORDER BY first_ms, id");
	struct strbuf sb = STRBUF_INIT;
	int r;

	while ((r = db_step(db, st, NULL)) > 0) {
		int64_t id = sqlite3_column_int64(st, 0);
		int total = sqlite3_column_int(st, 3);

		strbuf_reset(&sb);
		if (o->json) {
			char **slots = load_patches(db, id, total);

			strbuf_addf(&sb, "{\"id\": %" PRId64 ", \"subject\": ", id);
			json_str_or_null(&sb, sqlite3_column_text(st, 1),
					 sqlite3_column_bytes(st, 1));
			strbuf_addf(&sb, ", \"version\": %d, \"total\": %d, \"cover\": ",
				    sqlite3_column_int(st, 2), total);
			json_str_or_null(&sb, sqlite3_column_text(st, 4),
					 sqlite3_column_bytes(st, 4));
			strbuf_addstr(&sb, ", \"patches\": [");
			for (int i = 0; i < total; i++) {
				if (i)
					strbuf_addstr(&sb, ", ");
				if (slots[i])
					strbuf_add_json_str(&sb, slots[i],
							    strlen(slots[i]));
				else
					strbuf_addstr(&sb, "null");
			}
			strbuf_addf(&sb, "], \"complete\": %s, \"author\": ",
				    sqlite3_column_int(st, 5) ? "true" :
								"false");
			json_str_or_null(&sb, sqlite3_column_text(st, 6),
					 sqlite3_column_bytes(st, 6));
			strbuf_addstr(&sb, ", \"prev_version\": ");
			if (sqlite3_column_type(st, 7) == SQLITE_NULL)
				strbuf_addstr(&sb, "null");
			else
				strbuf_addf(&sb, "%" PRId64,
					    (int64_t)sqlite3_column_int64(st, 7));
			strbuf_addstr(&sb, "}");
			free_slots(slots, total);
		} else {
			const char *state = sqlite3_column_int(st, 5) ? "complete" :
					    sqlite3_column_int(st, 8) ? "stalled" :
									"incomplete";

			strbuf_addf(&sb, "%6" PRId64 "  v%-2d %3d/%-3d %-10s %s",
				    id, sqlite3_column_int(st, 2),
				    sqlite3_column_int(st, 9), total, state,
				    sqlite3_column_text(st, 1));
			if (sqlite3_column_type(st, 6) != SQLITE_NULL)
				strbuf_addf(&sb, " (%s)",
					    sqlite3_column_text(st, 6));
		}
		puts(sb.buf);
	}
	db_done(st);
	strbuf_release(&sb);
	if (r < 0) {
		fprintf(stderr, "kreview: cannot list series: %s\n",
			db_errmsg(db));
		return 1;
	}
	return 0;
}

/* Resolve an id or a Message-ID (of the cover or any patch). */
static int64_t resolve(struct db *db, const char *arg)
{
	sqlite3_stmt *st;
	int64_t id = 0, v;
	const char *msgid = arg;
	char *clean = NULL;

	if (!parse_int64(&v, arg, 10) && v > 0) {
		st = db_prepare(db, "SELECT id FROM series WHERE id = ?");
		db_bind_int64(st, 1, v);
		if (db_step(db, st, NULL) > 0)
			id = v;
		db_done(st);
		return id;
	}
	if (*arg == '<') {
		clean = xstrdup(arg + 1);
		if (*clean && clean[strlen(clean) - 1] == '>')
			clean[strlen(clean) - 1] = '\0';
		msgid = clean;
	}
	st = db_prepare(db,
			"SELECT id FROM series WHERE cover_msgid = ?1 UNION ALL"
			" SELECT series_id FROM series_patch WHERE msgid = ?1"
			" ORDER BY 1 DESC LIMIT 1");
	db_bind_text(st, 1, msgid);
	if (db_step(db, st, NULL) > 0)
		id = sqlite3_column_int64(st, 0);
	db_done(st);
	free(clean);
	return id;
}

/* git's "From " separator test: "From " plus a time and a year. */
static bool looks_like_separator(const char *line, size_t len)
{
	bool colon_time = false, year = false;

	if (len < 5 || memcmp(line, "From ", 5))
		return false;
	for (size_t i = 5; i + 7 < len; i++)
		if (line[i + 2] == ':' && line[i + 5] == ':')
			colon_time = true;
	for (size_t i = 5; i + 4 <= len; i++)
		if (line[i] >= '1' && line[i] <= '2' &&
		    strspn(line + i, "0123456789") >= 4)
			year = true;
	return colon_time && year;
}

static void write_mbox_message(FILE *f, const char *raw, size_t len)
{
	size_t pos = 0;

	fputs("From git@z Thu Jan  1 00:00:00 1970\n", f);
	while (pos < len) {
		const char *nl = memchr(raw + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - raw - pos) + 1 : len - pos;

		if (pos && looks_like_separator(raw + pos, n))
			fputc('>', f);
		fwrite(raw + pos, 1, n, f);
		pos += n;
	}
	if (len && raw[len - 1] != '\n')
		fputc('\n', f);
	fputc('\n', f);
}

static int series_show(struct db *db, const char *arg,
		       const struct series_opts *o)
{
	sqlite3_stmt *st;
	int64_t id = resolve(db, arg);
	char **slots = NULL;
	int total = 0, missing = 0, ret = 0;

	if (!id) {
		fprintf(stderr, "kreview: no series '%s'\n", arg);
		return 1;
	}
	st = db_prepare(db,
			"SELECT subject, version, total, cover_msgid, complete,"
			" stalled, author, prev_version, base_commit, change_id,"
			" tags, rfc, resend, partial_reroll,"
			" (SELECT group_concat(n.id, ' ') FROM series n"
			"  WHERE n.prev_version = s.id)"
			" FROM series s WHERE id = ?");
	db_bind_int64(st, 1, id);
	if (db_step(db, st, NULL) <= 0) {
		db_done(st);
		return 1;
	}
	total = sqlite3_column_int(st, 2);
	slots = load_patches(db, id, total);
	if (!o->mbox) {
		const unsigned char *tags = sqlite3_column_text(st, 10);

		printf("series %" PRId64 ": v%d %s%s%s\n", id,
		       sqlite3_column_int(st, 1), sqlite3_column_text(st, 0),
		       sqlite3_column_int(st, 11) ? " [RFC]" : "",
		       sqlite3_column_int(st, 12) ? " [RESEND]" : "");
		printf("author:   %s\n", sqlite3_column_text(st, 6));
		printf("state:    %s%s\n",
		       sqlite3_column_int(st, 4) ? "complete" :
		       sqlite3_column_int(st, 5) ? "stalled (parts missing, quiet period over)" :
						   "incomplete (waiting for missing parts)",
		       sqlite3_column_int(st, 13) ? ", partial reroll" : "");
		if (tags && *tags)
			printf("tags:     %s\n", tags);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			printf("base:     %s\n", sqlite3_column_text(st, 8));
		if (sqlite3_column_type(st, 9) != SQLITE_NULL)
			printf("change-id: %s\n", sqlite3_column_text(st, 9));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			printf("previous: series %" PRId64 "\n",
			       (int64_t)sqlite3_column_int64(st, 7));
		if (sqlite3_column_type(st, 14) != SQLITE_NULL)
			printf("next:     series %s\n",
			       sqlite3_column_text(st, 14));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			printf("cover:    <%s>\n", sqlite3_column_text(st, 3));
		else
			printf("cover:    none\n");
	}
	db_done(st);

	for (int i = 0; i < total; i++) {
		sqlite3_stmt *m;

		if (!slots[i]) {
			missing++;
			if (!o->mbox)
				printf("  [%d/%d] MISSING\n", i + 1, total);
			continue;
		}
		if (o->mbox) {
			struct strbuf raw = STRBUF_INIT;

			if (store_message_raw(&raw, NULL, db, slots[i], false,
					      NULL) > 0)
				write_mbox_message(stdout, raw.buf, raw.len);
			strbuf_release(&raw);
			continue;
		}
		m = db_prepare(db, "SELECT subject FROM message WHERE msgid = ?");
		db_bind_text(m, 1, slots[i]);
		if (db_step(db, m, NULL) > 0)
			printf("  [%d/%d] %s\n         <%s>\n", i + 1, total,
			       sqlite3_column_text(m, 0), slots[i]);
		db_done(m);
	}
	if (o->mbox && missing) {
		fprintf(stderr, "kreview: series %" PRId64 " lacks %d of %d patches; the mbox holds the others\n",
			id, missing, total);
		ret = 1;
	}
	free_slots(slots, total);
	return ret;
}

int cmd_series(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "mbox", no_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct series_opts o = { 0 };
	struct db *db = NULL;
	const char *sub;
	int c, ret;

	if (argc < 2) {
		cmd_print_usage(cmd_find("series"), stderr);
		return 2;
	}
	if (!strcmp(argv[1], "from-git"))
		return cmd_series_from_git(argc - 1, argv + 1);
	sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db_path = optarg;
			break;
		case 'c':
			o.config_path = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'm':
			o.mbox = true;
			break;
		default:
			cmd_print_usage(cmd_find("series"), stderr);
			return 2;
		}
	}
	if (strcmp(sub, "list") && strcmp(sub, "show")) {
		fprintf(stderr, "kreview: unknown series command '%s'\n", sub);
		cmd_print_usage(cmd_find("series"), stderr);
		return 2;
	}
	if ((!strcmp(sub, "list") && optind != argc) ||
	    (!strcmp(sub, "show") && optind != argc - 1)) {
		cmd_print_usage(cmd_find("series"), stderr);
		return 2;
	}
	if (open_db(&db, &o) < 0)
		return 1;
	if (!strcmp(sub, "list"))
		ret = series_list(db, &o);
	else
		ret = series_show(db, argv[optind], &o);
	db_close(db);
	return ret;
}
