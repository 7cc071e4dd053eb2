/* Commits to patch mail: fromgit.h. */
#include "kreview/fromgit.h"
#include "kreview/strbuf.h"

#include <git2.h>
#include <time.h>

void fromgit_series_release(struct fromgit_series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++) {
		free(s->patches[i].msgid);
		free(s->patches[i].raw);
	}
	free(s->patches);
	memset(s, 0, sizeof(*s));
}

static int git_err(struct strbuf *err, int ret, const char *fmt, ...)
	KR_PRINTF(3, 4);

/* Append "what: libgit2's message" to 'err' and return 'ret'. */
static int git_err(struct strbuf *err, int ret, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	va_list ap;

	if (!err)
		return ret;
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	if (e && e->message)
		strbuf_addf(err, ": %s", e->message);
	return ret;
}

void fromgit_rfc2822_date(struct strbuf *out, int64_t time, int offset_min)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
					    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
					      "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(time + (int64_t)offset_min * 60);
	int off = offset_min < 0 ? -offset_min : offset_min;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		t = 0;
		gmtime_r(&t, &tm);
		off = offset_min = 0;
	}
	strbuf_addf(out, "%s, %d %s %d %02d:%02d:%02d %c%02d%02d",
		    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

/* RFC 5322 display name: quoted when it holds specials, as git does. */
static void add_name_addr(struct strbuf *out, const char *name,
			  const char *email)
{
	if (name && *name) {
		if (strpbrk(name, "()<>[]:;@\\,.\"")) {
			strbuf_addch(out, '"');
			for (const char *p = name; *p; p++) {
				if (*p == '"' || *p == '\\')
					strbuf_addch(out, '\\');
				strbuf_addch(out, *p);
			}
			strbuf_addch(out, '"');
		} else {
			strbuf_addstr(out, name);
		}
		strbuf_addch(out, ' ');
	}
	strbuf_addf(out, "<%s>", email ? email : "");
}

/* Append one header value on one line: newlines become spaces. */
static void add_oneline(struct strbuf *out, const char *s)
{
	for (; s && *s; s++)
		strbuf_addch(out, *s == '\n' || *s == '\r' ? ' ' : *s);
}

static int make_diff(git_diff **out, git_repository *repo,
		     git_commit *c, struct strbuf *err)
{
	git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
	git_diff_find_options fopts = GIT_DIFF_FIND_OPTIONS_INIT;
	git_tree *old = NULL, *new = NULL;
	git_commit *parent = NULL;
	git_diff *diff = NULL;
	int ret = -EIO;

	if (git_commit_parentcount(c) &&
	    git_commit_parent(&parent, c, 0) < 0) {
		git_err(err, 0, "cannot read the parent of %s",
			git_oid_tostr_s(git_commit_id(c)));
		goto out;
	}
	if ((parent && git_commit_tree(&old, parent) < 0) ||
	    git_commit_tree(&new, c) < 0) {
		git_err(err, 0, "cannot read the trees of %s",
			git_oid_tostr_s(git_commit_id(c)));
		goto out;
	}
	/* format-patch defaults: 3 lines, --binary, renames (-M) */
	dopts.context_lines = 3;
	dopts.flags |= GIT_DIFF_SHOW_BINARY;
	fopts.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_tree_to_tree(&diff, repo, old, new, &dopts) < 0 ||
	    git_diff_find_similar(diff, &fopts) < 0) {
		git_err(err, 0, "cannot diff %s",
			git_oid_tostr_s(git_commit_id(c)));
		goto out;
	}
	*out = diff;
	diff = NULL;
	ret = 0;
out:
	git_diff_free(diff);
	git_tree_free(old);
	git_tree_free(new);
	git_commit_free(parent);
	return ret;
}

static void make_msgid(struct strbuf *out, const git_oid *commit, size_t i,
		       size_t n, const git_oid *base)
{
	char b[13];

	git_oid_tostr(b, sizeof(b), base);
	strbuf_addf(out, "kreview-%s-%zuof%zu-%s@localhost",
		    git_oid_tostr_s(commit), i, n, b);
}

int fromgit_format(struct strbuf *out, char **msgid_out,
		   struct git_repository *repo, const struct git_oid *commit,
		   size_t i, size_t n, const struct git_oid *base,
		   const char *in_reply_to, bool with_base,
		   struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT, id = STRBUF_INIT;
	git_buf stat = GIT_BUF_INIT, patch = GIT_BUF_INIT;
	git_diff_stats *stats = NULL;
	const git_signature *author;
	git_commit *c = NULL;
	git_diff *diff = NULL;
	const char *body;
	int ret;

	if (git_commit_lookup(&c, repo, commit) < 0) {
		ret = git_err(err, -ENOENT, "no commit %s",
			      git_oid_tostr_s(commit));
		goto out;
	}
	if (git_commit_parentcount(c) > 1) {
		if (err)
			strbuf_addf(err, "%s is a merge; only linear ranges "
				    "become a series", git_oid_tostr_s(commit));
		ret = -EINVAL;
		goto out;
	}
	ret = make_diff(&diff, repo, c, err);
	if (ret < 0)
		goto out;
	if (!git_diff_num_deltas(diff)) {
		ret = -ENODATA;
		goto out;
	}
	if (git_diff_get_stats(&stats, diff) < 0 ||
	    git_diff_stats_to_buf(&stat, stats,
				  GIT_DIFF_STATS_FULL |
					  GIT_DIFF_STATS_INCLUDE_SUMMARY,
				  72) < 0 ||
	    git_diff_to_buf(&patch, diff, GIT_DIFF_FORMAT_PATCH) < 0) {
		ret = git_err(err, -EIO, "cannot print the diff of %s",
			      git_oid_tostr_s(commit));
		goto out;
	}

	author = git_commit_author(c);
	make_msgid(&id, commit, i, n, base);
	strbuf_addstr(&msg, "From: ");
	add_name_addr(&msg, author->name, author->email);
	strbuf_addstr(&msg, "\nDate: ");
	fromgit_rfc2822_date(&msg, author->when.time, author->when.offset);
	if (n == 1)
		strbuf_addstr(&msg, "\nSubject: [PATCH] ");
	else
		strbuf_addf(&msg, "\nSubject: [PATCH %zu/%zu] ", i, n);
	add_oneline(&msg, git_commit_summary(c));
	strbuf_addf(&msg, "\nMessage-ID: <%s>\n", id.buf);
	if (in_reply_to)
		strbuf_addf(&msg, "In-Reply-To: <%s>\nReferences: <%s>\n",
			    in_reply_to, in_reply_to);
	strbuf_addstr(&msg, "MIME-Version: 1.0\n"
			    "Content-Type: text/plain; charset=UTF-8\n"
			    "Content-Transfer-Encoding: 8bit\n\n");
	body = git_commit_body(c);
	if (body && *body) {
		strbuf_addstr(&msg, body);
		if (msg.buf[msg.len - 1] != '\n')
			strbuf_addch(&msg, '\n');
	}
	strbuf_addstr(&msg, "---\n");
	strbuf_add(&msg, stat.ptr, stat.size);
	strbuf_addch(&msg, '\n');
	strbuf_add(&msg, patch.ptr, patch.size);
	if (with_base)
		strbuf_addf(&msg, "\nbase-commit: %s\n", git_oid_tostr_s(base));
	strbuf_addstr(&msg, "-- \nkreview " KREVIEW_VERSION "\n\n");

	strbuf_addbuf(out, &msg);
	if (msgid_out)
		*msgid_out = strbuf_detach(&id, NULL);
	ret = 0;
out:
	git_buf_dispose(&stat);
	git_buf_dispose(&patch);
	git_diff_stats_free(stats);
	git_diff_free(diff);
	git_commit_free(c);
	strbuf_release(&msg);
	strbuf_release(&id);
	return ret;
}

/* Resolve one side of a range; an empty side is HEAD. */
static int resolve_side(git_oid *out, git_repository *repo, const char *s,
			size_t len, struct strbuf *err)
{
	char *spec = len ? xmemdupz(s, len) : xstrdup("HEAD");
	git_object *obj = NULL, *peeled = NULL;
	int ret = 0;

	if (git_revparse_single(&obj, repo, spec) < 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		ret = git_err(err, -ENOENT, "'%s' is not a commit", spec);
		goto out;
	}
	git_oid_cpy(out, git_object_id(peeled));
out:
	git_object_free(obj);
	git_object_free(peeled);
	free(spec);
	return ret;
}

int fromgit_range(struct fromgit_series *out, struct git_repository *repo,
		  const char *range, struct strbuf *err)
{
	struct fromgit_series s = FROMGIT_SERIES_INIT;
	git_oid from, to, base, oid, *commits = NULL;
	size_t nr = 0, alloc = 0, alloc_p = 0, total = 0;
	git_revwalk *walk = NULL;
	const char *dots = strstr(range, "..");
	int ret, r;

	if (!dots || dots[2] == '.' || strstr(dots + 2, "..")) {
		if (err)
			strbuf_addf(err, "range '%s' is not of the form A..B, "
				    "A.. or ..B", range);
		return -EINVAL;
	}
	ret = resolve_side(&from, repo, range, (size_t)(dots - range), err);
	if (!ret)
		ret = resolve_side(&to, repo, dots + 2, strlen(dots + 2), err);
	if (ret < 0)
		return ret;
	if (git_merge_base(&base, repo, &from, &to) < 0) {
		if (err)
			strbuf_addf(err, "'%s': the two ends have no common "
				    "ancestor", range);
		return -EINVAL;
	}

	if (git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL |
					      GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(walk, &to) < 0 ||
	    git_revwalk_hide(walk, &from) < 0) {
		ret = git_err(err, -EIO, "cannot walk '%s'", range);
		goto out;
	}
	while ((r = git_revwalk_next(&oid, walk)) == 0) {
		if (nr >= FROMGIT_MAX_PATCHES) {
			if (err)
				strbuf_addf(err, "range '%s' has more than %d "
					    "commits", range,
					    FROMGIT_MAX_PATCHES);
			ret = -EINVAL;
			goto out;
		}
		ALLOC_GROW(commits, nr + 1, alloc);
		git_oid_cpy(&commits[nr++], &oid);
	}
	if (r != GIT_ITEROVER) {
		ret = git_err(err, -EIO, "cannot walk '%s'", range);
		goto out;
	}

	/*
	 * Empty commits are left out, so the patches are counted in a
	 * first pass (which also refuses merges before anything is kept).
	 */
	for (size_t i = 0; i < nr; i++) {
		git_commit *c = NULL;
		git_diff *diff = NULL;

		if (git_commit_lookup(&c, repo, &commits[i]) < 0) {
			ret = git_err(err, -EIO, "cannot read %s",
				      git_oid_tostr_s(&commits[i]));
			goto out;
		}
		if (git_commit_parentcount(c) > 1) {
			if (err)
				strbuf_addf(err, "%s is a merge; only linear "
					    "ranges become a series",
					    git_oid_tostr_s(&commits[i]));
			git_commit_free(c);
			ret = -EINVAL;
			goto out;
		}
		ret = make_diff(&diff, repo, c, err);
		if (!ret && git_diff_num_deltas(diff))
			total++;
		else if (!ret)
			s.skipped_empty++;
		git_diff_free(diff);
		git_commit_free(c);
		if (ret < 0)
			goto out;
	}
	for (size_t i = 0; i < nr && total; i++) {
		struct strbuf text = STRBUF_INIT;
		char *msgid = NULL;
		struct fromgit_patch *p;

		ret = fromgit_format(&text, &msgid, repo, &commits[i],
				     s.nr + 1, total, &base,
				     s.nr ? s.patches[0].msgid : NULL, !s.nr,
				     err);
		if (ret == -ENODATA)
			continue;
		if (ret < 0) {
			strbuf_release(&text);
			goto out;
		}
		ALLOC_GROW(s.patches, s.nr + 1, alloc_p);
		p = &s.patches[s.nr++];
		memset(p, 0, sizeof(*p));
		git_oid_tostr(p->commit, sizeof(p->commit), &commits[i]);
		p->msgid = msgid;
		p->raw = strbuf_detach(&text, &p->len);
	}
	if (!s.nr) {
		if (err)
			strbuf_addf(err, "range '%s' has no commits that "
				    "change anything", range);
		ret = -EINVAL;
		goto out;
	}
	git_oid_tostr(s.base, sizeof(s.base), &base);
	*out = s;
	memset(&s, 0, sizeof(s));
	ret = 0;
out:
	fromgit_series_release(&s);
	git_revwalk_free(walk);
	free(commits);
	return ret;
}
