/* "#kreview" mail commands: see bugcmd.h. */
#include "kreview/bugcmd.h"
#include "kreview/bugdb.h"
#include "kreview/maint.h"
#include "kreview/msg.h"
#include "kreview/strbuf.h"

#include <ctype.h>

#define PREFIX "#kreview"

static const struct {
	const char *name;
	const char *args;	/* for help; NULL: none */
	bool needs_arg;
	bool takes_arg;
	const char *what;
} verbs[BUGCMD_VERB_MAX] = {
	[BUGCMD_INVALID] = { "invalid", "[reason]", false, true,
			     "a false positive; never reported again" },
	[BUGCMD_WONTFIX] = { "wontfix", "[reason]", false, true,
			     "real but accepted; never reported again" },
	[BUGCMD_CONFIRM] = { "confirm", NULL, false, false,
			     "open -> confirmed" },
	[BUGCMD_REOPEN] = { "reopen", NULL, false, false,
			    "fixed, invalid, wontfix, obsolete -> open" },
	[BUGCMD_DUP] = { "dup", ": BUG-ID", true, true,
			 "a duplicate of another bug" },
	[BUGCMD_UNDUP] = { "undup", NULL, false, false, "undo dup" },
	[BUGCMD_FIX] = { "fix", ": COMMIT", true, true,
			 "the commit (hash or title) that fixes it" },
	[BUGCMD_UNFIX] = { "unfix", NULL, false, false,
			   "drop the recorded fix" },
	[BUGCMD_SET_PRIO] = { "set prio", ": low|normal|high", true, true,
			      "priority" },
	[BUGCMD_SET_NO_REMINDERS] = { "set no-reminders", NULL, false, false,
				      "never in digests again" },
	[BUGCMD_UNSET_NO_REMINDERS] = { "unset no-reminders", NULL, false,
					false, "in digests again" },
	[BUGCMD_BACKBURNER] = { "backburner", "[reason]", false, true,
				"leave out of digests for now" },
	[BUGCMD_UNBACKBURN] = { "unbackburn", NULL, false, false,
				"back into digests" },
	[BUGCMD_POKE] = { "poke", NULL, false, false,
			  "re-verify it at the daemon's next pass" },
	[BUGCMD_MOVE] = { "move", ": SECTION", true, true,
			  "it belongs to that MAINTAINERS section" },
	[BUGCMD_UNCC] = { "uncc", NULL, false, false,
			  "stop Cc'ing me on it (anyone may)" },
	[BUGCMD_ADD_SUBSYSTEM] = { "add-subsystem", ": SECTION", true, true,
				   "also concerns another section" },
	[BUGCMD_DEL_SUBSYSTEM] = { "del-subsystem", ": SECTION", true, true,
				   "no longer concerns that section" },
	[BUGCMD_UPSTREAM] = { "upstream", NULL, false, false,
			      "send a moderated digest to its list" },
	[BUGCMD_REGENERATE] = { "regenerate", NULL, false, false,
				"rebuild and resend this digest" },
	[BUGCMD_HELP] = { "help", NULL, false, false, "this list" },
};

const char *bugcmd_verb_name(enum bugcmd_verb v)
{
	if ((unsigned)v >= BUGCMD_VERB_MAX)
		BUG("bad bugcmd verb %d", (int)v);
	return verbs[v].name;
}

void bugcmd_help(struct strbuf *out)
{
	strbuf_addstr(out, "Commands, one per line, at the start of the line"
			   " (not quoted),\nafter an optional digest "
			   "reference <N> or bug id:\n\n");
	for (int i = 0; i < BUGCMD_VERB_MAX; i++) {
		struct strbuf v = STRBUF_INIT;

		strbuf_addf(&v, "%s%s%s", verbs[i].name,
			    verbs[i].args && verbs[i].args[0] != ':' ? " " : "",
			    verbs[i].args ? verbs[i].args : "");
		strbuf_addf(out, "  " PREFIX " %-30s %s\n", v.buf,
			    verbs[i].what);
		strbuf_release(&v);
	}
	strbuf_addstr(out, "\nExample: " PREFIX " <3> invalid the lock is "
			   "held by the caller\n\n"
			   "Only the section's maintainers and reviewers "
			   "(MAINTAINERS M: and R:)\nand configured triagers "
			   "may change a bug; uncc and help are open\nto "
			   "anyone; upstream and regenerate also to the "
			   "digest curator.\n");
}

void bugcmd_list_release(struct bugcmd_list *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		free(l->v[i].raw);
		free(l->v[i].bug_id);
		free(l->v[i].arg);
		free(l->v[i].error);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void set_error(struct bugcmd *c, const char *fmt, ...) KR_PRINTF(2, 3);

static void set_error(struct bugcmd *c, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (c->error)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	c->error = strbuf_detach(&sb, NULL);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The word at 'p' (up to blank, ':' or end) into 'out'. */
static const char *word(struct strbuf *out, const char *p)
{
	strbuf_reset(out);
	while (*p && *p != ' ' && *p != '\t' && *p != ':')
		strbuf_addch(out, *p++);
	return p;
}

static void parse_line(struct bugcmd *c, const char *line)
{
	struct strbuf w = STRBUF_INIT;
	const char *p = line + strlen(PREFIX);
	int v = -1;

	for (const char *q = line; *q; q++) {
		if ((unsigned char)*q < 0x20 && *q != '\t') {
			set_error(c, "control character in the line");
			goto out;
		}
	}
	p = skip_ws(p);
	if (!*p) {
		set_error(c, "no command after " PREFIX);
		goto out;
	}
	if (*p == '<') {
		const char *s = ++p;
		int n = 0;

		while (isdigit((unsigned char)*p) && p - s < 4)
			n = n * 10 + (*p++ - '0');
		if (p == s || p - s > 3 || *p != '>' || n < 1) {
			set_error(c, "a digest reference is <1> to <999>");
			goto out;
		}
		c->ref = n;
		p = skip_ws(p + 1);
	} else {
		p = word(&w, p);
		if (bugdb_id_valid(w.buf)) {
			c->bug_id = strbuf_detach(&w, NULL);
			p = skip_ws(p);
		} else {
			p -= w.len;
		}
	}
	p = word(&w, p);
	strbuf_tolower(&w);
	if (!strcmp(w.buf, "set") || !strcmp(w.buf, "unset")) {
		bool unset = w.buf[0] == 'u';

		p = word(&w, skip_ws(p));
		strbuf_tolower(&w);
		if (!unset && !strcmp(w.buf, "prio"))
			v = BUGCMD_SET_PRIO;
		else if (!strcmp(w.buf, "no-reminders"))
			v = unset ? BUGCMD_UNSET_NO_REMINDERS :
				    BUGCMD_SET_NO_REMINDERS;
		if (v < 0) {
			set_error(c, unset ? "'unset' knows only 'no-reminders'" :
					     "'set' knows only 'prio: "
					     "low|normal|high' and "
					     "'no-reminders'");
			goto out;
		}
	} else {
		/* the two-word verbs were handled above */
		for (int i = 0; i < BUGCMD_VERB_MAX; i++)
			if (!strchr(verbs[i].name, ' ') &&
			    !strcmp(w.buf, verbs[i].name))
				v = i;
	}
	if (v < 0) {
		if (!w.len)
			set_error(c, "no command after " PREFIX);
		else
			set_error(c, "unknown command '%.40s'", w.buf);
		goto out;
	}
	c->verb = (enum bugcmd_verb)v;
	if (*p == ':')
		p++;
	p = skip_ws(p);
	if (*p) {
		struct strbuf a = STRBUF_INIT;

		strbuf_addstr(&a, p);
		strbuf_rtrim(&a);
		c->arg = strbuf_detach(&a, NULL);
	}
	if (verbs[v].needs_arg && !c->arg) {
		set_error(c, "'%s' needs an argument%s", verbs[v].name,
			  verbs[v].args ? verbs[v].args : "");
		goto out;
	}
	if (!verbs[v].takes_arg && c->arg) {
		set_error(c, "'%s' takes no argument", verbs[v].name);
		goto out;
	}
	if (v == BUGCMD_DUP && !bugdb_id_valid(c->arg))
		set_error(c, "dup wants a bug id such as IOU-3f2a1c9d, not "
			     "'%.40s'", c->arg);
	if (v == BUGCMD_SET_PRIO) {
		enum bugdb_prio pr;

		if (bugdb_prio_parse(&pr, c->arg) < 0)
			set_error(c, "prio is low, normal or high, not '%.40s'",
				  c->arg);
	}
	if (v == BUGCMD_HELP && (c->ref || c->bug_id))
		set_error(c, "help takes no bug");
	if ((v == BUGCMD_UPSTREAM || v == BUGCMD_REGENERATE) &&
	    (c->ref || c->bug_id))
		set_error(c, "%s takes no bug: it acts on the digest the "
			     "mail answers", verbs[v].name);
out:
	strbuf_release(&w);
}

void bugcmd_parse(struct bugcmd_list *out, const char *body, size_t len)
{
	const char *end = body + len, *p = body;
	unsigned int lineno = 0;
	bool overflow = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);
		struct bugcmd *c;

		lineno++;
		if (n && e[-1] == '\r')
			n--;
		if (n == 3 && !memcmp(p, "-- ", 3))
			break;
		if (n >= strlen(PREFIX) && !memcmp(p, PREFIX, strlen(PREFIX)) &&
		    (n == strlen(PREFIX) || p[strlen(PREFIX)] == ' ' ||
		     p[strlen(PREFIX)] == '\t')) {
			if (out->nr >= BUGCMD_MAX) {
				overflow = true;
				break;
			}
			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			c = &out->v[out->nr++];
			memset(c, 0, sizeof(*c));
			c->line = lineno;
			if (n > BUGCMD_MAX_LINE) {
				c->raw = xmemdupz(p, 80);
				set_error(c, "line longer than %d bytes",
					  BUGCMD_MAX_LINE);
			} else {
				c->raw = xmemdupz(p, n);
				if (memchr(c->raw, '\0', n))
					set_error(c, "NUL byte in the line");
				else
					parse_line(c, c->raw);
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (overflow) {
		struct bugcmd *c = &out->v[out->nr - 1];

		free(c->error);
		c->error = NULL;
		set_error(c, "more than %d commands in one mail; the rest "
			     "were ignored", BUGCMD_MAX);
	}
}

/* ---- processing ---- */

static bool in_list(const char *list, const char *addr)
{
	size_t n = strlen(addr);

	for (const char *p = list; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len == n && !strncasecmp(p, addr, n))
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

static bool maint_has(const struct maint *m, const char *section,
		      const char *addr)
{
	const struct maint_section *s = m ? maint_find_section(m, section) :
					    NULL;
	size_t n = strlen(addr);

	for (size_t i = 0; s && i < s->nr_entries; i++) {
		const struct maint_entry *e = &s->entries[i];
		const char *lt, *gt;

		if (e->type != 'M' && e->type != 'R')
			continue;
		lt = strchr(e->value, '<');
		gt = lt ? strchr(lt, '>') : NULL;
		if (lt && gt) {
			if ((size_t)(gt - lt - 1) == n &&
			    !strncasecmp(lt + 1, addr, n))
				return true;
		} else if (!strcasecmp(e->value, addr)) {
			return true;
		}
	}
	return false;
}

bool bugcmd_authorised(const struct bugcmd_ctx *ctx, const char *section,
		       const char *stored, const char *addr)
{
	if (!addr || !*addr)
		return false;
	if (in_list(stored, addr) || maint_has(ctx->maint, section, addr))
		return true;
	for (size_t i = 0; ctx->cfg && i < ctx->cfg->triagers.nr; i++)
		if (config_glob_match(ctx->cfg->triagers.v[i], addr))
			return true;
	return false;
}

static const char *status_of(struct bugdb *db, const char *id,
			     struct strbuf *scratch)
{
	struct bugdb_bug b;

	bugdb_bug_init(&b);
	strbuf_reset(scratch);
	if (bugdb_get(&b, db, id, NULL) == 0)
		strbuf_addstr(scratch, bugdb_status_name(b.status));
	else
		strbuf_addstr(scratch, "?");
	bugdb_bug_release(&b);
	return scratch->buf;
}

/* move: to the section named by the argument, created if need be. */
static int move(struct strbuf *res, struct bugdb_set *set,
		const struct bugcmd_ctx *ctx, struct bugdb *db, const char *id,
		const struct bugcmd *c, const char *actor, const char *link,
		struct strbuf *e)
{
	char to_id[BUGDB_ID_MAX];
	struct bugdb *to = NULL;
	int r;

	r = bugdb_set_section_open(&to, set, ctx->dir, c->arg, ctx->maint, e);
	if (r < 0)
		return r;
	if (ctx->now_ms)
		bugdb_set_clock(to, ctx->now_ms);
	r = bugdb_move(to_id, db, id, to, actor, NULL, link, e);
	if (r == 0)
		strbuf_addf(res, "%s: moved to %s as %s", id, bugdb_section(to),
			    to_id);
	return r;
}

/* Apply one parsed, authorised command; the result line in 'res'. */
static int apply(struct strbuf *res, struct bugdb_set *set,
		 const struct bugcmd_ctx *ctx, struct bugdb *db, const char *id,
		 const struct bugcmd *c, const char *actor, const char *link)
{
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	struct strbuf e = STRBUF_INIT;
	enum bugdb_prio prio;
	bool changes_status = true;
	int r;

	status_of(db, id, &before);
	switch (c->verb) {
	case BUGCMD_INVALID:
		r = bugdb_set_status(db, id, BUGDB_INVALID, actor, c->arg, link,
				     &e);
		break;
	case BUGCMD_WONTFIX:
		r = bugdb_set_status(db, id, BUGDB_WONTFIX, actor, c->arg, link,
				     &e);
		break;
	case BUGCMD_CONFIRM:
		r = bugdb_set_status(db, id, BUGDB_CONFIRMED, actor, NULL, link,
				     &e);
		break;
	case BUGCMD_REOPEN:
		r = bugdb_set_status(db, id, BUGDB_OPEN, actor, NULL, link, &e);
		break;
	case BUGCMD_DUP:
		r = bugdb_dup(db, id, c->arg, actor, link, &e);
		break;
	case BUGCMD_UNDUP:
		r = bugdb_undup(db, id, actor, link, &e);
		break;
	case BUGCMD_FIX:
		r = bugdb_fix(db, id, c->arg, actor, link, &e);
		break;
	case BUGCMD_UNFIX:
		r = bugdb_unfix(db, id, actor, link, &e);
		break;
	case BUGCMD_SET_PRIO:
		changes_status = false;
		r = bugdb_prio_parse(&prio, c->arg);
		if (r == 0)
			r = bugdb_set_prio(db, id, prio, actor, NULL, link, &e);
		if (r == 0)
			strbuf_addf(res, "%s: prio %s", id, c->arg);
		break;
	case BUGCMD_BACKBURNER:
	case BUGCMD_UNBACKBURN:
		changes_status = false;
		r = bugdb_backburner(db, id, c->verb == BUGCMD_BACKBURNER, actor,
				     c->arg, link, &e);
		if (r == 0)
			strbuf_addf(res, "%s: %s", id,
				    c->verb == BUGCMD_BACKBURNER ?
					    "left out of digests" :
					    "back in digests");
		break;
	case BUGCMD_SET_NO_REMINDERS:
	case BUGCMD_UNSET_NO_REMINDERS:
		changes_status = false;
		r = bugdb_set_no_reminders(db, id,
					   c->verb == BUGCMD_SET_NO_REMINDERS,
					   actor, link, &e);
		if (r == 0)
			strbuf_addf(res, "%s: %s", id,
				    c->verb == BUGCMD_SET_NO_REMINDERS ?
					    "no reminders in digests" :
					    "reminders in digests again");
		break;
	case BUGCMD_POKE:
		changes_status = false;
		r = bugdb_poke(db, id, actor, link, &e);
		if (r == 0)
			strbuf_addf(res, "%s: re-verification requested", id);
		break;
	case BUGCMD_MOVE:
		changes_status = false;
		r = move(res, set, ctx, db, id, c, actor, link, &e);
		break;
	case BUGCMD_UNCC:
		changes_status = false;
		r = bugdb_uncc(db, id, actor, link, &e);
		if (r == 0)
			strbuf_addf(res, "%s: %s will not be Cc'd on it again",
				    id, actor);
		break;
	case BUGCMD_ADD_SUBSYSTEM:
	case BUGCMD_DEL_SUBSYSTEM:
		changes_status = false;
		r = bugdb_label(db, id, "subsystem", c->arg,
				c->verb == BUGCMD_ADD_SUBSYSTEM, actor, link, &e);
		if (r == 0)
			strbuf_addf(res, "%s: subsystem '%s' %s", id, c->arg,
				    c->verb == BUGCMD_ADD_SUBSYSTEM ? "added" :
								      "removed");
		break;
	default:
		BUG("verb %d not applied", (int)c->verb);
	}
	if (r < 0) {
		strbuf_addf(res, "error: %s", e.buf);
	} else if (changes_status) {
		status_of(db, id, &after);
		strbuf_addf(res, "%s: %s -> %s", id, before.buf, after.buf);
		if (c->verb == BUGCMD_DUP)
			strbuf_addf(res, " of %s", c->arg);
		if (c->verb == BUGCMD_FIX)
			strbuf_addf(res, " (fix: %s)", c->arg);
	}
	strbuf_release(&before);
	strbuf_release(&after);
	strbuf_release(&e);
	return r;
}

/*
 * A bug that was moved to another database: follow the stub to where
 * it lives now (a note goes to 'res'); 'id' is updated.  A forward to
 * a database that is not in 'set' stays on the stub (its commands then
 * fail as for any dup).  Negative only for database errors.
 */
static int forward(struct bugdb **db, char id[BUGDB_ID_MAX],
		   struct strbuf *res, const struct bugdb_set *set,
		   struct strbuf *err)
{
	char to[BUGDB_ID_MAX];

	for (int hops = 0; hops < 8; hops++) {
		struct bugdb *next;
		int r = bugdb_moved_to(to, *db, id, err);

		if (r <= 0)
			return r;
		next = bugdb_set_find(set, to);
		if (!next)
			return 0;
		strbuf_addf(res, "(%s moved to %s) ", id, to);
		*db = next;
		memcpy(id, to, BUGDB_ID_MAX);
	}
	return 0;
}

int bugcmd_process(struct strbuf *reply, bool *duplicate, size_t *failed,
		   const struct bugcmd_ctx *ctx, const struct msg *m,
		   struct strbuf *err)
{
	struct bugcmd_list l = BUGCMD_LIST_INIT;
	struct bugdb_set set = BUGDB_SET_INIT;
	struct strbuf body = STRBUF_INIT, res = STRBUF_INIT;
	const char **msgids = NULL;
	size_t nmsgids = 0;
	bool need_help = false;
	int r;

	*duplicate = false;
	*failed = 0;
	bugcmd_parse(&l, m->body, m->body_len);
	if (!l.nr)
		return 0;
	r = bugdb_set_open(&set, ctx->dir, NULL);
	if (r < 0) {
		strbuf_addf(err, "cannot read the bug databases in '%s': %s",
			    ctx->dir, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < set.nr; i++) {
		if (ctx->now_ms)
			bugdb_set_clock(set.v[i], ctx->now_ms);
		r = bugdb_command_seen(set.v[i], m->msgid, err);
		if (r < 0)
			goto out;
		if (r == 1) {
			*duplicate = true;
			r = 0;
			goto out;
		}
	}
	msgids = xcalloc(m->refs_nr + 2, sizeof(*msgids));
	if (m->in_reply_to)
		msgids[nmsgids++] = m->in_reply_to;
	for (size_t i = 0; i < m->refs_nr; i++)
		msgids[nmsgids++] = m->refs[i];

	for (size_t i = 0; i < l.nr; i++) {
		const struct bugcmd *c = &l.v[i];
		struct bugdb *db = NULL;
		char id[BUGDB_ID_MAX] = "";
		bool ok = false, logged = false;

		strbuf_reset(&res);
		if (c->error) {
			strbuf_addf(&res, "error: %s", c->error);
			need_help = true;
		} else if (c->verb == BUGCMD_HELP) {
			strbuf_addstr(&res, "help follows below");
			need_help = true;
			ok = true;
		} else if (c->verb == BUGCMD_UPSTREAM ||
			   c->verb == BUGCMD_REGENERATE) {
			if (!ctx->digest) {
				strbuf_addstr(&res, "error: digests are not "
						    "sent from here");
				r = 1;
			} else {
				r = ctx->digest(ctx->digest_data, c->verb, ctx,
						msgids, nmsgids,
						m->sender_addr, &res, err);
				if (r < 0)
					goto out;
			}
			ok = r == 0;
		} else if (c->bug_id) {
			db = bugdb_set_find(&set, c->bug_id);
			if (db)
				snprintf(id, sizeof(id), "%s", c->bug_id);
			else
				strbuf_addf(&res, "error: no bug %s", c->bug_id);
		} else if (c->ref) {
			for (size_t k = 0; k < set.nr && !db; k++) {
				r = bugdb_digest_ref(id, set.v[k], msgids,
						     nmsgids, c->ref, err);
				if (r < 0)
					goto out;
				if (r == 1)
					db = set.v[k];
			}
			if (!db)
				strbuf_addf(&res, "error: no <%d> in the digest "
						  "this mail replies to",
					    c->ref);
		} else {
			r = ctx->finding ? ctx->finding(ctx->finding_data, c,
							ctx, m, &ok, &res,
							err) :
					   1;
			if (r < 0)
				goto out;
			logged = r == 0;
			if (r == 2)
				r = 0;
			if (r == 1) {
				r = 0;
				strbuf_addstr(&res, "error: which bug? Put the "
						    "digest reference <N> or "
						    "the bug id before the "
						    "command");
				need_help = true;
			} else if (!ok) {
				need_help = true;
			}
		}
		if (db) {
			r = forward(&db, id, &res, &set, err);
			if (r < 0)
				goto out;
		}
		if (db && c->verb != BUGCMD_UNCC &&
		    !bugcmd_authorised(ctx, bugdb_section(db),
				       bugdb_maintainers(db), m->sender_addr)) {
			strbuf_addf(&res, "refused: %s is not a maintainer or "
					  "reviewer of %s, nor a configured "
					  "triager",
				    *m->sender_addr ? m->sender_addr :
						      "(no address)",
				    bugdb_section(db));
			need_help = true;
		} else if (db) {
			ok = apply(&res, &set, ctx, db, id, c, m->sender_addr,
				   m->msgid) == 0;
			if (!ok)
				need_help = true;
		}
		if (!ok)
			(*failed)++;
		strbuf_addf(&body, "> %s\n%s\n\n", c->raw, res.buf);
		/* the log goes to the section acted on, else to every one */
		for (size_t k = 0; k < set.nr && !logged; k++) {
			if (db && set.v[k] != db)
				continue;
			r = bugdb_command_log(set.v[k], m->msgid,
					      m->sender_addr, c->raw, res.buf,
					      ok, err);
			if (r < 0)
				goto out;
		}
	}
	strbuf_addf(reply, "%s processed %zu command%s from your mail:\n\n",
		    *failed ? "kreview" : "Thanks; kreview", l.nr,
		    l.nr == 1 ? "" : "s");
	strbuf_addbuf(reply, &body);
	if (need_help)
		bugcmd_help(reply);
	if (ctx->no_list)
		strbuf_addstr(reply,
			      "\nYour mail reached kreview with no mailing list "
			      "in To or Cc.  The\ncommands were applied, but "
			      "the list copy of a command is the\nhistory of a "
			      "bug that others read: please Cc the list next "
			      "time.\n");
	strbuf_addstr(reply, "\n-- \nkreview, automated bug tracking.\n");
	r = 0;
out:
	free(msgids);
	bugcmd_list_release(&l);
	bugdb_set_release(&set);
	strbuf_release(&body);
	strbuf_release(&res);
	return r;
}
