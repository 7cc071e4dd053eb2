/* Review input from mail and trees: see revinput.h. */
#include "kreview/revinput.h"
#include "kreview/apply.h"
#include "kreview/body.h"
#include "kreview/config.h"
#include "kreview/context.h"
#include "kreview/maint.h"
#include "kreview/msg.h"
#include "kreview/review.h"
#include "kreview/series.h"
#include "kreview/strbuf.h"
#include "kreview/subsys.h"
#include "kreview/tree.h"

#include <git2.h>

int revinput_from_messages(struct review_series *out,
			   const struct revinput_msg *msgs, size_t nr,
			   struct strbuf *err)
{
	struct msg *parsed = xcalloc(nr ? nr : 1, sizeof(*parsed));
	struct series_msg *sm = xcalloc(nr ? nr : 1, sizeof(*sm));
	struct series_result res = SERIES_RESULT_INIT;
	const struct series_rev *pick = NULL;
	int r = 0;

	for (size_t i = 0; i < nr; i++) {
		msg_init(&parsed[i]);
		if (msg_parse(&parsed[i], msgs[i].data, msgs[i].len, NULL) < 0)
			continue;
		sm[i].msgid = parsed[i].msgid;
		sm[i].in_reply_to = parsed[i].in_reply_to;
		sm[i].sender_addr = parsed[i].sender_addr;
		sm[i].date_ms = parsed[i].date_ms;
		sm[i].is_reply = parsed[i].subj.reply;
		sm[i].is_bot = msg_is_bot(&parsed[i]);
		sm[i].has_refs = parsed[i].refs_nr > 0;
		sm[i].has_diff = parsed[i].has_diff;
		sm[i].has_diffstat = parsed[i].has_diffstat;
		sm[i].has_trailers = parsed[i].has_trailers;
		sm[i].revision = parsed[i].subj.revision;
		sm[i].revision_explicit = parsed[i].subj.explicit_revision;
		sm[i].counter = parsed[i].subj.counter;
		sm[i].expected = parsed[i].subj.expected;
		sm[i].counter_explicit = parsed[i].subj.explicit_counter;
		sm[i].flag_patch = parsed[i].subj.patch;
		sm[i].flag_resend = parsed[i].subj.resend;
	}
	for (size_t i = 0; i < nr; i++) {
		if (sm[i].msgid)
			continue;
		/* not a message: take no part */
		sm[i].msgid = "";
		sm[i].sender_addr = "";
		sm[i].is_bot = true;
	}
	series_assemble(&res, sm, nr);
	/* the newest complete revision, else the newest */
	for (size_t i = 0; i < res.revs_nr; i++)
		if (res.revs[i].complete)
			pick = &res.revs[i];
	if (!pick && res.revs_nr)
		pick = &res.revs[res.revs_nr - 1];
	if (!pick) {
		strbuf_addstr(err, "no patch found in the input");
		r = -ENODATA;
		goto out;
	}
	out->version = pick->version;
	if (pick->cover >= 0) {
		const struct msg *c = &parsed[pick->cover];

		out->cover = xstrdup(c->body);
		out->subject = xstrdup(c->subj.title);
		out->author = xstrdup(c->sender);
	}
	for (int k = 0; k < pick->total; k++) {
		const struct msg *m;
		struct body b = BODY_INIT;
		struct strbuf why = STRBUF_INIT;

		if (pick->patches[k] < 0) {
			strbuf_addf(err, "patch %d/%d is missing; ", k + 1,
				    pick->total);
			continue;
		}
		m = &parsed[pick->patches[k]];
		body_init(&b);
		if (body_split(&b, m->body, m->body_len, &why) < 0 || !b.diff) {
			strbuf_addf(err, "patch %d/%d (<%s>): %s", k + 1,
				    pick->total, m->msgid,
				    why.len ? why.buf : "no diff");
			body_release(&b);
			strbuf_release(&why);
			r = -EPROTO;
			goto out;
		}
		{
			struct strbuf msgtext = STRBUF_INIT;

			strbuf_addstr(&msgtext, b.message ? b.message : "");
			for (size_t t = 0; t < b.trailers.nr; t++)
				strbuf_addf(&msgtext, "%s%s: %s",
					    t ? "\n" : "\n\n",
					    b.trailers.items[t].name,
					    b.trailers.items[t].value);
			r = review_series_add(out, m->subj.title, msgtext.buf,
					      b.diff, strlen(b.diff), m->msgid,
					      &why);
			strbuf_release(&msgtext);
		}
		if (r < 0) {
			strbuf_addf(err, "patch %d/%d (<%s>): %s", k + 1,
				    pick->total, m->msgid, why.buf);
			body_release(&b);
			strbuf_release(&why);
			goto out;
		}
		if (!out->subject)
			out->subject = xstrdup(m->subj.title);
		if (!out->author)
			out->author = xstrdup(m->sender);
		if (!out->base && b.base_commit)
			out->base = xstrdup(b.base_commit);
		body_release(&b);
		strbuf_release(&why);
	}
	if (!out->nr) {
		strbuf_addstr(err, "no patch found in the input");
		r = -ENODATA;
	}
out:
	for (size_t i = 0; i < nr; i++)
		msg_release(&parsed[i]);
	free(parsed);
	free(sm);
	series_result_release(&res);
	return r;
}

struct tip_reader {
	git_repository *repo;
	git_oid tree;
};

static int read_tip_file(void *ctx, const char *path, struct strbuf *out)
{
	struct tip_reader *t = ctx;

	return tree_read_file(out, t->repo, &t->tree, path, NULL);
}

int revinput_attach_tree(struct review_series *s, struct git_repository *repo,
			 const struct git_oid *base, size_t budget,
			 struct strbuf *err)
{
	struct apply_result ar = APPLY_RESULT_INIT;
	const char **texts = xcalloc(s->nr + 1, sizeof(char *));
	size_t *lens = xcalloc(s->nr + 1, sizeof(size_t));
	struct context_opts copts = CONTEXT_OPTS_INIT;
	struct tip_reader *tip;
	git_object *obj = NULL;
	int r;

	for (size_t i = 0; i < s->nr; i++) {
		texts[i] = s->patches[i].patch_text;
		lens[i] = s->patches[i].patch_len;
	}
	r = apply_series(&ar, repo, base, texts, lens, s->nr, NULL, err);
	if (r < 0)
		goto out;
	if (ar.failed) {
		strbuf_addstr(err, "the series does not apply: ");
		apply_failure_format(err, &ar.failure, 1);
		r = -EBADMSG;
		goto out;
	}
	if (budget)
		copts.budget = budget;
	for (size_t i = 0; i < s->nr; i++) {
		struct context c = CONTEXT_INIT;
		struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;

		if (context_build(&c, repo, &ar.trees[i], &ar.trees[i + 1],
				  texts[i], lens[i], &ar.patches[i], NULL,
				  &copts, &why) == 0) {
			context_render(&text, &c, false);
			free(s->patches[i].context);
			s->patches[i].context = strbuf_detach(&text, NULL);
		}
		context_release(&c);
		strbuf_release(&text);
		strbuf_release(&why);
	}
	tip = xcalloc(1, sizeof(*tip));
	tip->repo = repo;
	git_oid_cpy(&tip->tree, &ar.trees[ar.trees_nr - 1]);
	revinput_detach_tree(s);
	s->read_file = read_tip_file;
	s->read_ctx = tip;
	s->read_free = free;
	/* the trees of every position, for the stage tools */
	s->repo = repo;
	s->nr_trees = ar.trees_nr;
	s->trees = xcalloc(ar.trees_nr, sizeof(*s->trees));
	for (size_t i = 0; i < ar.trees_nr; i++)
		git_oid_cpy(&s->trees[i], &ar.trees[i]);
	if (git_object_lookup(&obj, repo, base, GIT_OBJECT_COMMIT) == 0) {
		s->base_commit = xcalloc(1, sizeof(*s->base_commit));
		git_oid_cpy(s->base_commit, base);
	}
	git_object_free(obj);
	r = 0;
out:
	apply_result_release(&ar);
	free(texts);
	free(lens);
	return r;
}

void revinput_detach_tree(struct review_series *s)
{
	if (s->read_free)
		s->read_free(s->read_ctx);
	s->read_file = NULL;
	s->read_ctx = NULL;
	s->read_free = NULL;
	free(s->trees);
	free(s->base_commit);
	s->repo = NULL;
	s->trees = NULL;
	s->nr_trees = 0;
	s->base_commit = NULL;
}

static void render_rules(struct strbuf *out, const struct subsys_rules *r,
			 const struct review_patch *p)
{
	for (int st = 0; st < SUBSYS_STAGE_MAX; st++) {
		if (!r->guidance[st] || !*r->guidance[st])
			continue;
		strbuf_addf(out, "## For the %s stage\n\n%s\n\n",
			    subsys_stage_name((enum subsys_stage)st),
			    r->guidance[st]);
	}
	if (r->nr_non_issues) {
		strbuf_addstr(out, "## Not issues here (do not report)\n\n");
		for (size_t i = 0; i < r->nr_non_issues; i++)
			strbuf_addf(out, "- %s: %s\n",
				    r->non_issues[i].pattern,
				    r->non_issues[i].why);
		strbuf_addch(out, '\n');
	}
	if (r->nr_style) {
		bool header = false;

		for (size_t i = 0; i < r->nr_style; i++) {
			bool applies = false;

			for (size_t k = 0; k < p->nr_paths && !applies; k++)
				applies = subsys_style_applies(&r->style[i],
							       p->paths[k]);
			if (!applies)
				continue;
			if (!header)
				strbuf_addstr(out, "## Style rules of the subsystem\n\n");
			header = true;
			strbuf_addf(out, "- [%s, %s] %s\n", r->style[i].id,
				    subsys_severity_name(r->style[i].severity),
				    r->style[i].text);
		}
		if (header)
			strbuf_addch(out, '\n');
	}
	if (r->nr_references) {
		strbuf_addstr(out, "## Documentation\n\n");
		for (size_t i = 0; i < r->nr_references; i++)
			strbuf_addf(out, "- %s\n", r->references[i]);
	}
}

void revinput_attach_rules(struct review_series *s, const struct maint *m,
			   const struct subsys_set *set)
{
	for (size_t i = 0; i < s->nr; i++) {
		struct review_patch *p = &s->patches[i];
		struct maint_matches mm = MAINT_MATCHES_INIT;
		struct subsys_rules rules;
		struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
		const char **titles = NULL;
		size_t nr = 0;

		maint_matches_init(&mm);
		if (m) {
			strbuf_addf(&text, "%s\n%s", p->message, p->patch_text);
			maint_map(&mm, m, (const char *const *)p->paths,
				  p->nr_paths, text.buf, text.len);
			titles = xcalloc(mm.nr + 1, sizeof(*titles));
			for (size_t k = 0; k < mm.nr; k++)
				if (strcmp(mm.v[k].section->title, "THE REST"))
					titles[nr++] = mm.v[k].section->title;
		}
		free(p->subsystem);
		p->subsystem = nr ? xstrdup(titles[0]) : NULL;
		if (set && nr) {
			subsys_rules_init(&rules);
			subsys_rules_build(&rules, set, titles, nr);
			if (rules.nr_sections) {
				strbuf_addstr(&out, "Rules of ");
				for (size_t k = 0; k < rules.nr_sections; k++)
					strbuf_addf(&out, "%s%s", k ? ", " : "",
						    rules.sections[k]);
				strbuf_addstr(&out, ", from kreview's subsystem rule files:\n\n");
				render_rules(&out, &rules, p);
			}
			subsys_rules_release(&rules);
		}
		free(p->rules);
		p->rules = out.len ? strbuf_detach(&out, NULL) : NULL;
		free(titles);
		maint_matches_release(&mm);
		strbuf_release(&text);
		strbuf_release(&out);
	}
}

int revinput_tree_maintainers(struct maint **out, struct git_repository *repo,
			      const struct git_oid *tree, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int r;

	/* a tree without MAINTAINERS is no error: -ENOENT, nothing said */
	r = tree_read_file(&text, repo, tree, "MAINTAINERS", NULL);
	if (r == 0)
		r = maint_parse(out, text.buf, text.len, "MAINTAINERS", NULL,
				err);
	strbuf_release(&text);
	return r;
}
