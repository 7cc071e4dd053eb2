/* "#kreview invalid|wontfix" on a finding of a review reply: findingcmd.h. */
#include "kreview/findingcmd.h"
#include "kreview/bugcmd.h"
#include "kreview/bugdb.h"
#include "kreview/db.h"
#include "kreview/finding.h"
#include "kreview/msg.h"
#include "kreview/strbuf.h"

/* A quoted line shorter than this says too little to pick a finding. */
#define MIN_QUOTE 20

void findingcmd_quote_above(struct strbuf *out, const char *body, size_t len,
			    unsigned int line)
{
	const char **starts = NULL;
	size_t nr = 0, alloc = 0, i;
	const char *p = body, *end = body + len;

	while (p < end && nr + 1 < line) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		ALLOC_GROW(starts, nr + 1, alloc);
		starts[nr++] = p;
		p = eol ? eol + 1 : end;
	}
	/* lines 1..line-1 are starts[0..nr-1]; walk up from the last */
	i = nr;
	while (i > 0) {
		const char *s = starts[i - 1];

		while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		if (s < end && *s != '\n')
			break;
		i--;
	}
	{
		size_t last = i;

		while (i > 0 && *starts[i - 1] == '>')
			i--;
		for (size_t k = i; k < last; k++) {
			const char *s = starts[k], *e;

			while (s < end && (*s == '>' || *s == ' '))
				s++;
			e = memchr(s, '\n', (size_t)(end - s));
			strbuf_add(out, s, (size_t)((e ? e : end) - s));
			strbuf_addch(out, '\n');
		}
	}
	free(starts);
}

struct cand {
	char *section, *fingerprint, *file, *function, *category, *title;
	char *explanation, *evidence, *severity;
	struct strbuf squashed;	/* the explanation, finding_squash()ed */
	double confidence;
	int line, end_line;
};

static void cand_release(struct cand *c)
{
	free(c->section);
	free(c->fingerprint);
	free(c->file);
	free(c->function);
	free(c->category);
	free(c->title);
	free(c->explanation);
	free(c->evidence);
	free(c->severity);
	strbuf_release(&c->squashed);
}

/* The reported, introduced findings of the review reply 'msgid'. */
static int load_findings(struct cand **out, size_t *nr, struct db *db,
			 const struct msg *m, struct strbuf *err)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT f.section, f.fingerprint, f.file, f.function,"
		    " f.category, f.title, f.explanation, f.evidence,"
		    " f.severity, f.confidence, f.line, f.end_line"
		    " FROM outbox o JOIN review_finding f"
		    " ON f.review_id = o.review_id AND f.msgid = o.in_reply_to"
		    " WHERE o.msgid = ?1 AND o.kind = 'patch' AND f.reported = 1"
		    " AND f.pre_existing = 0 ORDER BY f.id");
	size_t alloc = 0;
	int r;

	*out = NULL;
	*nr = 0;
	if (!m->in_reply_to)
		return 0;
	db_bind_text(st, 1, m->in_reply_to);
	while ((r = db_step(db, st, err)) == 1) {
		struct cand *c;

		ALLOC_GROW(*out, *nr + 1, alloc);
		c = &(*out)[(*nr)++];
		c->section = db_column_strdup(st, 0);
		c->fingerprint = db_column_strdup(st, 1);
		c->file = db_column_strdup(st, 2);
		c->function = db_column_strdup(st, 3);
		c->category = db_column_strdup(st, 4);
		c->title = db_column_strdup(st, 5);
		c->explanation = db_column_strdup(st, 6);
		c->evidence = db_column_strdup(st, 7);
		c->severity = db_column_strdup(st, 8);
		c->confidence = sqlite3_column_double(st, 9);
		c->line = sqlite3_column_int(st, 10);
		c->end_line = sqlite3_column_int(st, 11);
		strbuf_init(&c->squashed, 0);
		finding_squash(&c->squashed, c->explanation,
			       strlen(c->explanation));
	}
	db_done(st);
	return r;
}

/*
 * The finding whose explanation holds the quoted line nearest the
 * command; the only one when the reply reported one.  NULL: unclear.
 */
static const struct cand *pick(const struct cand *v, size_t nr,
			       const char *quote)
{
	const struct cand *best = NULL;
	const char *p = quote;

	if (nr == 1)
		return &v[0];
	while (*p) {
		const char *eol = strchr(p, '\n');
		struct strbuf q = STRBUF_INIT;

		if (!eol)
			eol = p + strlen(p);
		finding_squash(&q, p, (size_t)(eol - p));
		if (q.len >= MIN_QUOTE) {
			for (size_t i = 0; i < nr; i++)
				if (strstr(v[i].squashed.buf, q.buf))
					best = &v[i]; /* later lines win */
		}
		strbuf_release(&q);
		p = *eol ? eol + 1 : eol;
	}
	return best;
}

int findingcmd_apply(void *data, const struct bugcmd *c,
		     const struct bugcmd_ctx *ctx, const struct msg *m,
		     bool *ok, struct strbuf *res, struct strbuf *err)
{
	struct db *db = data;
	struct cand *v = NULL;
	struct strbuf quote = STRBUF_INIT, path = STRBUF_INIT;
	struct bugdb *bdb = NULL;
	const struct cand *f;
	const char *section;
	char id[BUGDB_ID_MAX];
	size_t nr = 0;
	int r;

	*ok = false;
	r = load_findings(&v, &nr, db, m, err);
	if (r < 0)
		goto out;
	if (!nr) {
		r = 1;	/* not a review reply with findings */
		goto out;
	}
	r = 2;
	if (c->verb != BUGCMD_INVALID && c->verb != BUGCMD_WONTFIX) {
		strbuf_addstr(res, "error: on a finding of a review, only "
				   "invalid and wontfix apply; other commands "
				   "take a bug id");
		goto out;
	}
	findingcmd_quote_above(&quote, m->body, m->body_len, c->line);
	f = pick(v, nr, quote.buf);
	if (!f) {
		strbuf_addstr(res, "error: which finding?  Quote its text right "
				   "above the command");
		goto out;
	}
	section = f->section ? f->section : BUGDB_DEFAULT_SECTION;
	bugdb_path(&path, ctx->dir, section);
	r = bugdb_open(&bdb, path.buf, section, err);
	if (r < 0)
		goto out;
	r = 0;
	if (ctx->now_ms)
		bugdb_set_clock(bdb, ctx->now_ms);
	if (ctx->maint)
		(void)bugdb_set_maintainers(bdb, ctx->maint, NULL);
	if (!bugcmd_authorised(ctx, section, bugdb_maintainers(bdb),
			       m->sender_addr)) {
		strbuf_addf(res, "refused: %s is not a maintainer or reviewer "
				 "of %s, nor a configured triager",
			    *m->sender_addr ? m->sender_addr : "(no address)",
			    section);
	} else {
		struct bugdb_finding bf = {
			.fingerprint = f->fingerprint,
			.title = f->title,
			.file = f->file,
			.function = f->function,
			.category = f->category,
			.evidence = f->evidence,
			.explanation = f->explanation,
			.confidence = f->confidence,
			.line = f->line,
			.end_line = f->end_line,
			.msgid = m->in_reply_to,
		};

		if (finding_severity_parse(&bf.severity, f->severity) < 0)
			bf.severity = SEV_LOW;
		r = bugdb_reject_finding(id, bdb, &bf,
					 c->verb == BUGCMD_INVALID ?
						 BUGDB_INVALID :
						 BUGDB_WONTFIX,
					 m->sender_addr, c->arg, m->msgid, err);
		if (r < 0)
			goto out;
		strbuf_addf(res, "finding \"%s\" marked %s (%s); later "
				 "revisions will not report it",
			    f->title, bugcmd_verb_name(c->verb), id);
		*ok = true;
	}
	r = bugdb_command_log(bdb, m->msgid, m->sender_addr, c->raw, res->buf,
			      *ok, err);
out:
	for (size_t i = 0; i < nr; i++)
		cand_release(&v[i]);
	free(v);
	bugdb_close(bdb);
	strbuf_release(&quote);
	strbuf_release(&path);
	return r;
}
