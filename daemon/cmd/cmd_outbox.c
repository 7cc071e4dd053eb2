/* kreview outbox: list, show, send and drop kreview's outgoing mail. */
#include "kreview/cmd.h"
#include "kreview/config.h"
#include "kreview/daemon.h"
#include "kreview/db.h"
#include "kreview/outbox.h"
#include "kreview/strbuf.h"

#include <getopt.h>
#include <time.h>
#include <unistd.h>

struct outbox_cmd {
	const char *db_path;
	const char *config_path;
	const char *state;
	bool json, raw, recover;
	struct kreview_config *cfg;
	struct db *db;
	char *drafts;
};

static int usage(void)
{
	cmd_print_usage(cmd_find("outbox"), stderr);
	return 2;
}

static int open_all(struct outbox_cmd *o)
{
	struct strbuf err = STRBUF_INIT;
	int r;

	r = config_load(&o->cfg, o->config_path, &err);
	if (r < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	r = db_open(&o->db, o->db_path ? o->db_path : o->cfg->database, &err);
	if (r < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (o->cfg->mail->drafts) {
		o->drafts = xstrdup(o->cfg->mail->drafts);
	} else {
		strbuf_addf(&err, "%s/drafts", o->cfg->state_dir);
		o->drafts = strbuf_detach(&err, NULL);
	}
out:
	strbuf_release(&err);
	return r;
}

/* An id, or a Message-ID with or without <>. */
static int find_row(struct outbox_item *it, struct db *db, const char *arg)
{
	struct strbuf err = STRBUF_INIT, id = STRBUF_INIT;
	int64_t n;
	int r;

	if (!parse_int64(&n, arg, 10)) {
		r = outbox_get(it, db, n, NULL, &err);
	} else {
		strbuf_addstr(&id, arg);
		if (id.len >= 2 && id.buf[0] == '<' && id.buf[id.len - 1] == '>') {
			strbuf_remove(&id, 0, 1);
			strbuf_setlen(&id, id.len - 1);
		}
		r = outbox_get(it, db, 0, id.buf, &err);
	}
	if (r < 0)
		fprintf(stderr, "kreview: %s\n", err.buf);
	strbuf_release(&err);
	strbuf_release(&id);
	return r;
}

static void fmt_time(struct strbuf *sb, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	if (!ms) {
		strbuf_addch(sb, '-');
		return;
	}
	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
	strbuf_addstr(sb, buf);
}

static void json_field(struct strbuf *sb, const char *key, const char *v,
		       bool comma)
{
	strbuf_addf(sb, "%s\"%s\":", comma ? "," : "", key);
	if (v)
		strbuf_add_json_str(sb, v, strlen(v));
	else
		strbuf_addstr(sb, "null");
}

static void item_json(struct strbuf *sb, const struct outbox_item *it)
{
	strbuf_addf(sb, "{\"id\":%" PRId64, it->id);
	json_field(sb, "state", outbox_state_name(it->state), true);
	json_field(sb, "mode", it->mode, true);
	json_field(sb, "kind", it->kind, true);
	json_field(sb, "lists", it->lists, true);
	json_field(sb, "msgid", it->msgid, true);
	json_field(sb, "in_reply_to", it->in_reply_to, true);
	json_field(sb, "subject", it->subject, true);
	json_field(sb, "transport", it->transport, true);
	json_field(sb, "last_error", it->last_error, true);
	strbuf_addf(sb,
		    ",\"review\":%" PRId64 ",\"attempts\":%d,\"created_ms\":%"
		    PRId64 ",\"not_before_ms\":%" PRId64
		    ",\"next_try_ms\":%" PRId64 ",\"sent_ms\":%" PRId64 "}",
		    it->review_id, it->attempts, it->created_ms,
		    it->not_before_ms, it->next_try_ms, it->sent_ms);
}

static int do_list(struct outbox_cmd *o)
{
	struct outbox_list l = OUTBOX_LIST_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	enum outbox_state st = OUTBOX_STATE_MAX;
	int r;

	if (o->state && outbox_state_parse(&st, o->state) < 0) {
		fprintf(stderr, "kreview: unknown outbox state '%s'\n",
			o->state);
		return 2;
	}
	r = outbox_list(&l, o->db, st, 0, &err);
	if (r < 0) {
		fprintf(stderr, "kreview: %s\n", err.buf);
		goto out;
	}
	if (o->json)
		strbuf_addch(&sb, '[');
	for (size_t i = 0; i < l.nr; i++) {
		const struct outbox_item *it = &l.v[i];

		if (o->json) {
			if (i)
				strbuf_addch(&sb, ',');
			item_json(&sb, it);
			continue;
		}
		strbuf_addf(&sb, "%" PRId64 "\t%s\t%s\t%s\t", it->id,
			    outbox_state_name(it->state), it->mode,
			    it->lists[0] ? it->lists : "-");
		fmt_time(&sb, it->sent_ms ? it->sent_ms : it->created_ms);
		strbuf_addf(&sb, "\t%s\n", it->subject);
	}
	if (o->json)
		strbuf_addstr(&sb, "]\n");
	fwrite(sb.buf, 1, sb.len, stdout);
out:
	outbox_list_release(&l);
	strbuf_release(&err);
	strbuf_release(&sb);
	return r < 0 ? 1 : 0;
}

static int do_show(struct outbox_cmd *o, const char *arg)
{
	struct outbox_item it;
	struct strbuf sb = STRBUF_INIT;

	if (find_row(&it, o->db, arg) < 0)
		return 1;
	if (o->json) {
		struct strbuf w = STRBUF_INIT;

		outbox_wire(&w, &it, daemon_now_ms(), false);
		item_json(&sb, &it);
		strbuf_setlen(&sb, sb.len - 1);
		strbuf_addstr(&sb, ",\"message\":");
		strbuf_add_json_str(&sb, w.buf, w.len);
		strbuf_addstr(&sb, "}\n");
		strbuf_release(&w);
	} else if (o->raw) {
		/* Exactly what is (or was) handed over, LF line ends. */
		outbox_wire(&sb, &it, daemon_now_ms(), false);
	} else {
		strbuf_addf(&sb, "id: %" PRId64 "\nstate: %s\nmode: %s\n",
			    it.id, outbox_state_name(it.state), it.mode);
		strbuf_addf(&sb, "lists: %s\nkind: %s\nreview: %" PRId64 "\n",
			    it.lists, it.kind, it.review_id);
		strbuf_addf(&sb, "envelope-from: %s\nrecipients:", it.env_from);
		for (const char *p = it.rcpts; *p;) {
			const char *eol = strchr(p, '\n');
			size_t len = eol ? (size_t)(eol - p) : strlen(p);

			strbuf_addch(&sb, ' ');
			strbuf_add(&sb, p, len);
			p += len + (eol ? 1 : 0);
		}
		strbuf_addf(&sb, "\nattempts: %d\ncreated: ", it.attempts);
		fmt_time(&sb, it.created_ms);
		strbuf_addstr(&sb, "\nnot before: ");
		fmt_time(&sb, it.not_before_ms);
		strbuf_addstr(&sb, "\nnext try: ");
		fmt_time(&sb, it.next_try_ms);
		strbuf_addstr(&sb, "\nsent: ");
		fmt_time(&sb, it.sent_ms);
		if (it.last_error)
			strbuf_addf(&sb, "\nlast error: %s", it.last_error);
		strbuf_addstr(&sb, "\n\n");
		if (!it.date_ms)
			strbuf_addstr(&sb, "(Date: is set when the mail is "
					   "first handed over)\n");
		outbox_wire(&sb, &it, daemon_now_ms(), false);
	}
	fwrite(sb.buf, 1, sb.len, stdout);
	outbox_item_release(&it);
	strbuf_release(&sb);
	return 0;
}

static void deliver_opts(struct outbox_deliver_opts *d,
			 const struct outbox_cmd *o)
{
	memset(d, 0, sizeof(*d));
	d->mail = o->cfg->mail;
	d->lists = o->cfg->lists;
	d->drafts = o->drafts;
	d->now_ms = daemon_now_ms();
	/* Tests: a crash right after the hand-over, before the commit. */
	d->crash_after_handover = getenv("KREVIEW_TEST_OUTBOX_CRASH") != NULL;
}

static int do_send(struct outbox_cmd *o, int argc, char **argv)
{
	struct outbox_deliver_opts d;
	struct outbox_report rep = { 0 };
	struct strbuf err = STRBUF_INIT;
	int ret = 0, r;

	deliver_opts(&d, o);
	if (o->recover) {
		r = outbox_recover(&rep, o->db, &d, &err);
		if (r == -EINTR)
			_exit(137);
		if (r < 0) {
			fprintf(stderr, "kreview: %s\n", err.buf);
			ret = 1;
			goto out;
		}
		printf("recovered: %zu found delivered, %zu sent, %zu "
		       "retrying, %zu dead\n",
		       rep.recovered, rep.sent, rep.retrying, rep.dead);
	}
	if (!argc) {
		r = outbox_deliver_due(&rep, o->db, &d, &err);
		if (r == -EINTR)
			_exit(137);
		if (r < 0) {
			fprintf(stderr, "kreview: %s\n", err.buf);
			ret = 1;
			goto out;
		}
		printf("sent %zu, retrying %zu, dead %zu, deferred %zu\n",
		       rep.sent + rep.recovered, rep.retrying, rep.dead,
		       rep.deferred);
		ret = rep.dead || rep.retrying ? 1 : 0;
		goto out;
	}
	for (int i = 0; i < argc; i++) {
		struct outbox_item it;

		if (find_row(&it, o->db, argv[i]) < 0) {
			ret = 1;
			continue;
		}
		strbuf_reset(&err);
		r = outbox_send_now(o->db, it.id, &d, &err);
		if (r == -EINTR)
			_exit(137);
		if (r == 0) {
			printf("%" PRId64 " sent <%s>\n", it.id, it.msgid);
		} else {
			struct outbox_item now;

			ret = 1;
			if (r == -EAGAIN || r == -EIO) {
				memset(&now, 0, sizeof(now));
				if (!outbox_get(&now, o->db, it.id, NULL, &err))
					fprintf(stderr,
						"kreview: mail %" PRId64
						" %s: %s\n",
						it.id,
						outbox_state_name(now.state),
						now.last_error
							? now.last_error
							: "?");
				outbox_item_release(&now);
			} else {
				fprintf(stderr, "kreview: %s\n", err.buf);
			}
		}
		outbox_item_release(&it);
	}
out:
	strbuf_release(&err);
	return ret;
}

static int do_drop(struct outbox_cmd *o, int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	int ret = 0;

	for (int i = 0; i < argc; i++) {
		struct outbox_item it;

		if (find_row(&it, o->db, argv[i]) < 0) {
			ret = 1;
			continue;
		}
		strbuf_reset(&err);
		if (outbox_drop(o->db, it.id, daemon_now_ms(), &err) < 0) {
			fprintf(stderr, "kreview: %s\n", err.buf);
			ret = 1;
		} else {
			printf("%" PRId64 " dropped\n", it.id);
		}
		outbox_item_release(&it);
	}
	strbuf_release(&err);
	return ret;
}

int cmd_outbox(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "raw", no_argument, NULL, 'r' },
		{ "recover", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct outbox_cmd o = { 0 };
	const char *sub;
	int c, ret;

	if (argc < 2)
		return usage();
	sub = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db_path = optarg;
			break;
		case 'c':
			o.config_path = optarg;
			break;
		case 's':
			o.state = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'r':
			o.raw = true;
			break;
		case 'R':
			o.recover = true;
			break;
		default:
			return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "send") &&
	    strcmp(sub, "drop"))
		return usage();
	if ((!strcmp(sub, "show") && argc != 1) ||
	    (!strcmp(sub, "drop") && argc < 1) ||
	    (!strcmp(sub, "list") && argc))
		return usage();
	if (open_all(&o) < 0) {
		ret = 2;
		goto out;
	}
	if (!strcmp(sub, "list"))
		ret = do_list(&o);
	else if (!strcmp(sub, "show"))
		ret = do_show(&o, argv[0]);
	else if (!strcmp(sub, "send"))
		ret = do_send(&o, argc, argv);
	else
		ret = do_drop(&o, argc, argv);
out:
	db_close(o.db);
	config_free(o.cfg);
	free(o.drafts);
	return ret;
}
