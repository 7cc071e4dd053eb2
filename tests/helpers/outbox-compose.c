/*
 * outbox-compose DB CONFIG EML [REVIEW_ID]: compose the reply to the
 * patch mail EML with one fixed finding on its first added line, under
 * the configuration's lists: and mail: sections, and enqueue it.
 * Prints the outbox id.  For the outbox integration tests.
 */
#include "kreview/config.h"
#include "kreview/db.h"
#include "kreview/outbox.h"
#include "kreview/review.h"

#include <gmime/gmime.h>

int main(int argc, char **argv)
{
	struct strbuf raw = STRBUF_INIT, err = STRBUF_INIT;
	struct kreview_config *cfg = NULL;
	struct db *db = NULL;
	struct reply_target t;
	struct review_series s;
	struct review_result res;
	struct reply_mail_list l = REPLY_MAIL_LIST_INIT;
	struct reply_opts o = REPLY_OPTS_INIT;
	struct review_finding *f;
	const char *diff, *added;
	int ret = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: outbox-compose DB CONFIG EML\n");
		return 2;
	}
	g_mime_init();
	reply_target_init(&t);
	review_series_init(&s);
	review_result_init(&res);
	if (config_load(&cfg, argv[2], &err) < 0 ||
	    db_open(&db, argv[1], &err) < 0 ||
	    strbuf_read_file(&raw, argv[3], 0) < 0 ||
	    reply_target_parse(&t, raw.buf, raw.len, time_now_ms(), &err) < 0)
		goto out;
	diff = strstr(t.msg.body, "diff --git");
	if (!diff || review_series_add(&s, t.msg.subj.title, t.msg.body, diff,
				       strlen(diff), t.msg.msgid, &err) < 0)
		goto out;
	added = strstr(diff, "\n+") + 2;
	while (*added == '+')
		added = strstr(added, "\n+") + 2;
	res.v = xcalloc(1, sizeof(*res.v));
	res.nr = res.reported = 1;
	f = &res.v[0];
	finding_init(&f->c.rep);
	f->c.rep.file = xstrdup(diff_file_path(&s.patches[0].diff.files[0]));
	f->c.rep.line = f->c.rep.end_line =
		s.patches[0].diff.files[0].hunks[0].new_start;
	f->c.rep.function = xstrdup("");
	f->c.rep.category = xstrdup("logic");
	f->c.rep.title = xstrdup("Cc: attacker@evil.example");
	f->c.rep.explanation = xstrdup(
		"Can this line be reached with a NULL pointer? Cc: "
		"attacker@evil.example and To: other@evil.example say so.");
	f->c.rep.evidence = xstrndup(added, strcspn(added, "\n"));
	f->c.rep.patch = 1;
	f->c.rep.severity = f->c.severity = SEV_HIGH;
	f->c.support = f->c.runs = 3;
	memcpy(f->c.fingerprint, "outbox-compose-test", 20);
	outbox_reply_opts(&o, cfg);
	{
		struct reply_patch_in pin = { .target = &t };
		struct reply_series_in in = { .series = &s, .result = &res,
					      .patches = &pin,
					      .lists = cfg->lists,
					      .bot_senders =
						      &cfg->ingest.bot_senders };
		int64_t id = 0;

		if (reply_compose_series(&l, &in, &o, &err) < 0)
			goto out;
		if (!l.nr) {
			fprintf(stderr, "no reply composed\n");
			goto out;
		}
		if (outbox_enqueue(&id, db, &l.v[0], 0, time_now_ms(), &err) <
		    0)
			goto out;
		printf("%" PRId64 "\n", id);
	}
	ret = 0;
out:
	if (ret && err.len)
		fprintf(stderr, "outbox-compose: %s\n", err.buf);
	reply_mail_list_release(&l);
	review_result_release(&res);
	review_series_release(&s);
	reply_target_release(&t);
	db_close(db);
	config_free(cfg);
	strbuf_release(&raw);
	strbuf_release(&err);
	return ret;
}
