/* A series and its tree: loading, paths, base detection (tree.h). */
#include "kreview/tree.h"
#include "kreview/body.h"
#include "kreview/diff.h"
#include "kreview/maint.h"
#include "kreview/msg.h"
#include "kreview/source.h"
#include "kreview/store_series.h"
#include "kreview/strbuf.h"

#include <git2.h>

/* Branch names taken for a T: entry that names no branch. */
static const char *const default_tip_names[] = { "master", "main" };
static const char *const usual_defaults[] = { "origin/master", "master",
					      "main" };
/* Unmatched T: entries mentioned in the notes at most. */
#define MAX_T_NOTES 8

/* ---- the series ---- */

static void patch_release(struct tree_patch *p)
{
	free(p->msgid);
	free(p->subject);
	free(p->title);
	free(p->body);
}

static void strv_free(char **v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(v[i]);
	free(v);
}

void tree_series_release(struct tree_series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		patch_release(&s->patches[i]);
	free(s->patches);
	free(s->name);
	free(s->cover_body);
	free(s->cover_subject);
	free(s->base_commit);
	strv_free(s->prereqs, s->prereqs_nr);
	strv_free(s->tags, s->tags_nr);
	memset(s, 0, sizeof(*s));
}

static bool strv_has(char *const *v, size_t nr, const char *s)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void strv_add_unique(char ***v, size_t *nr, const char *s)
{
	if (strv_has(*v, *nr, s))
		return;
	*v = xrealloc(*v, st_mult(*nr + 1, sizeof(**v)));
	(*v)[(*nr)++] = xstrdup(s);
}

/* base-commit and prerequisites come from the cover or patch 1 only. */
static void note_dependencies(struct tree_series *s, const struct msg *m)
{
	struct body b = BODY_INIT;

	if (!s->base_commit && m->base_commit)
		s->base_commit = xstrdup(m->base_commit);
	body_init(&b);
	/* a malformed diff still yields the other parts */
	body_split(&b, m->body, m->body_len, NULL);
	for (size_t i = 0; i < b.prerequisites_nr; i++)
		strv_add_unique(&s->prereqs, &s->prereqs_nr,
				b.prerequisites[i]);
	body_release(&b);
}

int tree_series_add(struct tree_series *s, const char *raw, size_t len,
		    bool cover, const char *where, struct strbuf *err)
{
	struct msg m = MSG_INIT;
	struct tree_patch *p;
	int ret;

	if (!cover && s->nr >= TREE_MAX_PATCHES) {
		if (err)
			strbuf_addf(err, "%s: more than %d patches", where,
				    TREE_MAX_PATCHES);
		return -E2BIG;
	}
	msg_init(&m);
	ret = msg_parse(&m, raw, len, NULL);
	if (ret < 0) {
		if (err)
			strbuf_addf(err, "%s: %s", where,
				    ret == -E2BIG ? "message too large" :
						    "not a mail message");
		ret = -EPROTO;
		goto out;
	}
	for (size_t i = 0; i < m.subj.tags_nr; i++)
		strv_add_unique(&s->tags, &s->tags_nr, m.subj.tags[i]);
	if (cover) {
		free(s->cover_body);
		free(s->cover_subject);
		s->cover_body = xmemdupz(m.body, m.body_len);
		s->cover_subject = xstrdup(m.subject);
		/* the cover's base-commit wins over patch 1's */
		free(s->base_commit);
		s->base_commit = NULL;
		note_dependencies(s, &m);
		goto out;
	}
	if (!s->nr)
		note_dependencies(s, &m);
	s->patches = xrealloc(s->patches,
			      st_mult(s->nr + 1, sizeof(*s->patches)));
	p = &s->patches[s->nr++];
	p->msgid = xstrdup(m.msgid);
	p->subject = xstrdup(m.subject);
	p->title = xstrdup(m.subj.title);
	p->body = xmemdupz(m.body, m.body_len);
	p->body_len = m.body_len;
out:
	msg_release(&m);
	return ret;
}

int tree_series_from_db(struct tree_series *out, struct db *db, int64_t id,
			struct strbuf *err)
{
	struct store_series ss = STORE_SERIES_INIT;
	struct tree_series s = TREE_SERIES_INIT;
	struct strbuf where = STRBUF_INIT;
	int ret;

	ret = store_series_load(&ss, db, id, err);
	if (ret < 0)
		goto out;
	strbuf_addf(&where, "series %" PRId64, id);
	s.name = xstrdup(where.buf);
	if (ss.has_cover) {
		strbuf_reset(&where);
		strbuf_addf(&where, "series %" PRId64 " cover <%s>", id,
			    ss.cover.msgid);
		ret = tree_series_add(&s, ss.cover.raw, ss.cover.len, true,
				      where.buf, err);
		if (ret < 0)
			goto out;
	}
	for (int i = 0; i < ss.total; i++) {
		strbuf_reset(&where);
		strbuf_addf(&where, "series %" PRId64 " patch %d <%s>", id,
			    i + 1, ss.patches[i].msgid);
		ret = tree_series_add(&s, ss.patches[i].raw,
				      ss.patches[i].len, false, where.buf,
				      err);
		if (ret < 0)
			goto out;
	}
	if (!s.nr) {
		if (err)
			strbuf_addf(err, "series %" PRId64 " has no patches",
				    id);
		ret = -ENODATA;
		goto out;
	}
	*out = s;
	memset(&s, 0, sizeof(s));
out:
	tree_series_release(&s);
	store_series_release(&ss);
	strbuf_release(&where);
	return ret;
}

int tree_series_from_mbox(struct tree_series *out, const char *path,
			  struct strbuf *err)
{
	struct tree_series s = TREE_SERIES_INIT;
	struct source *src = NULL;
	struct source_msg sm;
	int ret;

	ret = source_open(&src, SOURCE_MBOX, path, NULL, NULL, err);
	if (ret < 0)
		goto out;
	s.name = xstrdup(path);
	while ((ret = source_next(src, &sm, err)) != 0) {
		struct msg m = MSG_INIT;
		bool cover = false, patch = false;

		if (ret == -E2BIG || ret == -EPROTO) {
			/* one bad message makes the series unusable */
			ret = -EPROTO;
			goto out;
		}
		if (ret < 0)
			goto out;
		msg_init(&m);
		if (msg_parse(&m, sm.data, sm.len, NULL) < 0) {
			if (err)
				strbuf_addf(err, "%s: not a mail message",
					    sm.where);
			msg_release(&m);
			ret = -EPROTO;
			goto out;
		}
		patch = m.has_diff && !m.subj.reply;
		cover = !m.has_diff && !m.subj.reply &&
			m.subj.explicit_counter && !m.subj.counter &&
			!s.cover_body;
		msg_release(&m);
		if (patch || cover) {
			ret = tree_series_add(&s, sm.data, sm.len, cover,
					      sm.where, err);
			if (ret < 0)
				goto out;
		}
	}
	if (!s.nr) {
		if (err)
			strbuf_addf(err, "%s: no patch (no message with a diff)",
				    path);
		ret = -ENODATA;
		goto out;
	}
	*out = s;
	memset(&s, 0, sizeof(s));
	ret = 0;
out:
	source_free(src);
	tree_series_release(&s);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void tree_series_paths(char ***out, size_t *nr_out,
		       const struct tree_series *s)
{
	char **v = NULL;
	size_t nr = 0, alloc = 0, k = 0;

	for (size_t i = 0; i < s->nr; i++) {
		struct diff d = DIFF_INIT;

		diff_init(&d);
		if (diff_parse(&d, s->patches[i].body, s->patches[i].body_len,
			       NULL) < 0)
			continue;
		for (size_t j = 0; j < d.files_nr; j++) {
			const char *names[2] = { d.files[j].old_path,
						 d.files[j].new_path };

			for (size_t n = 0; n < 2; n++) {
				if (!names[n])
					continue;
				ALLOC_GROW(v, nr + 2, alloc);
				v[nr++] = xstrdup(names[n]);
			}
		}
		diff_release(&d);
	}
	ALLOC_GROW(v, nr + 1, alloc);
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_str);
	for (size_t i = 0; i < nr; i++) {
		if (k && !strcmp(v[k - 1], v[i])) {
			free(v[i]);
			continue;
		}
		v[k++] = v[i];
	}
	v[k] = NULL;
	*out = v;
	*nr_out = k;
}

void tree_series_keyword_text(struct strbuf *out,
			      const struct tree_series *s)
{
	if (s->cover_body) {
		strbuf_addf(out, "Subject: %s\n\n", s->cover_subject);
		strbuf_addstr(out, s->cover_body);
		strbuf_addch(out, '\n');
	}
	for (size_t i = 0; i < s->nr; i++) {
		strbuf_addf(out, "Subject: %s\n\n", s->patches[i].subject);
		strbuf_add(out, s->patches[i].body, s->patches[i].body_len);
		strbuf_addch(out, '\n');
	}
}

/* ---- repository helpers ---- */

static int git_err(struct strbuf *err, int ret, const char *fmt, ...)
	KR_PRINTF(3, 4);

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

int tree_open_repo(struct git_repository **out, const char *dir,
		   struct strbuf *err)
{
	git_repository *repo = NULL;
	unsigned flags = dir ? GIT_REPOSITORY_OPEN_NO_SEARCH : 0;

	if (git_repository_open_ext(&repo, dir ? dir : ".", flags, NULL) < 0)
		return git_err(err, -ENOENT, "'%s' is not a git repository",
			       dir ? dir : ".");
	*out = repo;
	return 0;
}

int tree_read_file(struct strbuf *out, struct git_repository *repo,
		   const git_oid *treeish, const char *path,
		   struct strbuf *err)
{
	git_object *obj = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int ret = -ENOENT;

	if (git_object_lookup(&obj, repo, treeish, GIT_OBJECT_ANY) < 0 ||
	    git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0) {
		git_err(err, 0, "%s is not a tree or commit",
			git_oid_tostr_s(treeish));
		goto out;
	}
	if (git_tree_entry_bypath(&te, tree, path) < 0 ||
	    git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
		if (err)
			strbuf_addf(err, "no file '%s' in %s", path,
				    git_oid_tostr_s(treeish));
		goto out;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0) {
		ret = git_err(err, -EIO, "cannot read '%s'", path);
		goto out;
	}
	strbuf_add(out, git_blob_rawcontent(blob),
		   (size_t)git_blob_rawsize(blob));
	ret = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_object_free(obj);
	return ret;
}

/* ---- candidates ---- */

const char *tree_cand_source_name(enum tree_cand_source src)
{
	static const char *const names[TREE_CAND_MAX] = {
		[TREE_CAND_OPTION] = "--base",
		[TREE_CAND_BASE_COMMIT] = "base-commit",
		[TREE_CAND_MAINT_TREE] = "maintainers-tree",
		[TREE_CAND_DEFAULT] = "default",
		[TREE_CAND_HEAD] = "HEAD",
	};

	return (unsigned)src < TREE_CAND_MAX ? names[src] : "unknown";
}

static const char *state_name(enum tree_attempt_state st)
{
	static const char *const names[TREE_ATTEMPT_STATE_MAX] = {
		[TREE_ATTEMPT_PENDING] = "not tried",
		[TREE_ATTEMPT_APPLIED] = "applied",
		[TREE_ATTEMPT_FAILED] = "failed",
		[TREE_ATTEMPT_NOT_FOUND] = "not in the repository",
		[TREE_ATTEMPT_DUPLICATE] = "duplicate",
	};

	return (unsigned)st < TREE_ATTEMPT_STATE_MAX ? names[st] : "unknown";
}

void tree_base_release(struct tree_base *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nr; i++) {
		free(b->attempts[i].rev);
		free(b->attempts[i].why);
		free(b->attempts[i].failure);
	}
	free(b->attempts);
	strv_free(b->notes, b->notes_nr);
	apply_result_release(&b->result);
	memset(b, 0, sizeof(*b));
}

KR_PRINTF(2, 3) static void add_note(struct tree_base *b, const char *fmt,
				     ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	b->notes = xrealloc(b->notes, st_mult(b->notes_nr + 1,
					      sizeof(*b->notes)));
	b->notes[b->notes_nr++] = strbuf_detach(&sb, NULL);
}

static bool listed(const struct tree_base *b, const char *rev)
{
	for (size_t i = 0; i < b->nr; i++)
		if (!strcmp(b->attempts[i].rev, rev))
			return true;
	return false;
}

/* Add a candidate; resolve it and spot duplicates.  Same rev: once. */
static void add_cand(struct tree_base *b, git_repository *repo,
		     enum tree_cand_source src, const char *rev,
		     const char *why)
{
	struct tree_attempt *a;
	git_object *obj = NULL, *c = NULL;

	if (listed(b, rev))
		return;
	ALLOC_GROW(b->attempts, b->nr + 1, b->alloc);
	a = &b->attempts[b->nr++];
	memset(a, 0, sizeof(*a));
	a->source = src;
	a->rev = xstrdup(rev);
	a->why = why ? xstrdup(why) : NULL;
	if (git_revparse_single(&obj, repo, rev) < 0 ||
	    git_object_peel(&c, obj, GIT_OBJECT_COMMIT) < 0) {
		a->state = TREE_ATTEMPT_NOT_FOUND;
		goto out;
	}
	git_oid_cpy(&a->commit, git_object_id(c));
	a->state = TREE_ATTEMPT_PENDING;
	for (size_t i = 0; i + 1 < b->nr; i++) {
		const struct tree_attempt *e = &b->attempts[i];

		if (e->state != TREE_ATTEMPT_NOT_FOUND &&
		    e->state != TREE_ATTEMPT_DUPLICATE &&
		    git_oid_equal(&e->commit, &a->commit)) {
			a->state = TREE_ATTEMPT_DUPLICATE;
			a->same_as = i;
			break;
		}
	}
out:
	git_object_free(obj);
	git_object_free(c);
}

/* A branch the T:/tag rules look at. */
struct branch {
	char *rev;    /* shorthand to resolve: "origin/master" */
	char *remote; /* remote name, or NULL */
	char *url;    /* normalised remote URL, or NULL */
	char *name;   /* branch name on the remote (or local name) */
	bool configured;
};

struct branches {
	struct branch *v;
	size_t nr, alloc;
};

static void branches_release(struct branches *bs)
{
	for (size_t i = 0; i < bs->nr; i++) {
		free(bs->v[i].rev);
		free(bs->v[i].remote);
		free(bs->v[i].url);
		free(bs->v[i].name);
	}
	free(bs->v);
}

/*
 * "git://git.kernel.org/pub/scm/x.git/", "https://user@host/x",
 * "git@host:x.git" -> "host/x": the part that names the repository.
 */
static char *normalise_url(const char *url)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = strstr(url, "://");
	const char *at, *slash;

	if (p) {
		p += 3;
	} else {
		p = url;
		/* scp-like "user@host:path" */
		slash = strchr(p, '/');
		at = strchr(p, ':');
		if (at && (!slash || at < slash)) {
			strbuf_add(&sb, p, (size_t)(at - p));
			strbuf_addch(&sb, '/');
			p = at + 1;
		}
	}
	strbuf_addstr(&sb, p);
	slash = strchr(sb.buf, '/');
	at = memchr(sb.buf, '@', slash ? (size_t)(slash - sb.buf) : sb.len);
	if (at)
		strbuf_remove(&sb, 0, (size_t)(at - sb.buf) + 1);
	/* the host part is case-insensitive */
	for (size_t i = 0; i < sb.len && sb.buf[i] != '/'; i++)
		if (sb.buf[i] >= 'A' && sb.buf[i] <= 'Z')
			sb.buf[i] = (char)(sb.buf[i] - 'A' + 'a');
	while (sb.len && sb.buf[sb.len - 1] == '/')
		strbuf_setlen(&sb, sb.len - 1);
	if (sb.len > 4 && !strcmp(sb.buf + sb.len - 4, ".git"))
		strbuf_setlen(&sb, sb.len - 4);
	while (sb.len && sb.buf[sb.len - 1] == '/')
		strbuf_setlen(&sb, sb.len - 1);
	return strbuf_detach(&sb, NULL);
}

/*
 * Remotes and upstreams are read from the configuration by key:
 * libgit2 1.5's git_remote_list() and git_branch_remote_name() match
 * config keys with a regex whose PCRE2 match data it never frees.
 */
static char *config_value(git_config *cfg, const char *section,
			  const char *sub, const char *name)
{
	struct strbuf key = STRBUF_INIT;
	git_buf buf = GIT_BUF_INIT;
	char *v = NULL;

	strbuf_addf(&key, "%s.%s.%s", section, sub, name);
	if (cfg && git_config_get_string_buf(&buf, cfg, key.buf) == 0)
		v = xmemdupz(buf.ptr, buf.size);
	git_buf_dispose(&buf);
	strbuf_release(&key);
	return v;
}

/* Describe one reference for the matching rules. */
static void add_branch(struct branches *bs, git_config *cfg,
		       git_reference *ref, bool configured)
{
	const char *name = git_reference_name(ref), *rest;
	struct branch *b;
	char *url = NULL;

	ALLOC_GROW(bs->v, bs->nr + 1, bs->alloc);
	b = &bs->v[bs->nr++];
	memset(b, 0, sizeof(*b));
	b->rev = xstrdup(git_reference_shorthand(ref));
	b->configured = configured;
	if ((rest = skip_prefix(name, "refs/remotes/"))) {
		/* the longest "<remote>/" prefix that is a remote wins */
		for (const char *sl = strrchr(rest, '/'); sl && !url;) {
			char *remote = xmemdupz(rest, (size_t)(sl - rest));

			url = config_value(cfg, "remote", remote, "url");
			if (url) {
				b->remote = remote;
				b->name = xstrdup(sl + 1);
				break;
			}
			free(remote);
			while (--sl > rest && *sl != '/')
				;
			if (sl <= rest)
				sl = NULL;
		}
	} else if ((rest = skip_prefix(name, "refs/heads/"))) {
		b->remote = config_value(cfg, "branch", rest, "remote");
		if (b->remote)
			url = config_value(cfg, "remote", b->remote, "url");
		if (url) {
			char *merge = config_value(cfg, "branch", rest,
						   "merge");

			if (merge && skip_prefix(merge, "refs/heads/"))
				b->name = xstrdup(skip_prefix(merge,
							      "refs/heads/"));
			free(merge);
		}
		if (!b->name)
			b->name = xstrdup(rest);
	}
	if (!b->name)
		b->name = xstrdup(b->rev);
	if (url)
		b->url = normalise_url(url);
	free(url);
}

static void collect_branches(struct branches *bs, git_repository *repo,
			     const struct tree_base_opts *o)
{
	git_branch_iterator *it = NULL;
	git_config *cfg = NULL;
	git_reference *ref;
	git_branch_t type;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		cfg = NULL;

	for (size_t i = 0; i < o->branches_nr; i++) {
		if (git_reference_dwim(&ref, repo, o->branches[i]) < 0) {
			/* not a ref (a tag or an id): matched by name only */
			ALLOC_GROW(bs->v, bs->nr + 1, bs->alloc);
			memset(&bs->v[bs->nr], 0, sizeof(bs->v[0]));
			bs->v[bs->nr].rev = xstrdup(o->branches[i]);
			bs->v[bs->nr].name = xstrdup(o->branches[i]);
			bs->v[bs->nr++].configured = true;
			continue;
		}
		add_branch(bs, cfg, ref, true);
		/* keep the name as the user wrote it */
		free(bs->v[bs->nr - 1].rev);
		bs->v[bs->nr - 1].rev = xstrdup(o->branches[i]);
		git_reference_free(ref);
	}
	if (git_branch_iterator_new(&it, repo, GIT_BRANCH_REMOTE) == 0) {
		while (git_branch_next(&ref, &type, it) == 0) {
			if (git_reference_type(ref) == GIT_REFERENCE_DIRECT)
				add_branch(bs, cfg, ref, false);
			git_reference_free(ref);
		}
	}
	git_branch_iterator_free(it);
	git_config_free(cfg);
}

static const char *url_basename(const char *url)
{
	const char *s = url ? strrchr(url, '/') : NULL;

	return s ? s + 1 : url;
}

static void tag_candidates(struct tree_base *b, git_repository *repo,
			   const struct tree_series *s,
			   const struct branches *bs)
{
	struct strbuf why = STRBUF_INIT;

	for (size_t t = 0; t < s->tags_nr; t++) {
		const char *tag = s->tags[t];

		for (size_t i = 0; i < bs->nr; i++) {
			const struct branch *br = &bs->v[i];
			const char *how = NULL;

			if (br->remote && !strcmp(br->remote, tag))
				how = "remote name";
			else if (!strcmp(br->name, tag))
				how = "branch name";
			else if (br->url &&
				 !strcmp(url_basename(br->url), tag))
				how = "repository name";
			if (!how)
				continue;
			strbuf_reset(&why);
			strbuf_addf(&why, "subject tag [%s] = %s", tag, how);
			add_cand(b, repo, TREE_CAND_MAINT_TREE, br->rev,
				 why.buf);
		}
	}
	strbuf_release(&why);
}

/* "git URL [branch]" -> normalised URL and branch (NULL if none). */
static bool parse_t_entry(char **url_out, char **branch_out, const char *v)
{
	const char *p = v, *e;
	char *url;

	if (strncmp(p, "git", 3) || (p[3] != ' ' && p[3] != '\t'))
		return false;
	p += 4;
	p += strspn(p, " \t");
	e = p + strcspn(p, " \t");
	if (e == p)
		return false;
	url = xmemdupz(p, (size_t)(e - p));
	*url_out = normalise_url(url);
	free(url);
	e += strspn(e, " \t");
	*branch_out = *e ? xmemdupz(e, strcspn(e, " \t")) : NULL;
	return true;
}

static bool branch_fits(const struct branch *br, const char *want)
{
	if (want)
		return !strcmp(br->name, want);
	for (size_t i = 0; i < ARRAY_SIZE(default_tip_names); i++)
		if (!strcmp(br->name, default_tip_names[i]))
			return true;
	return false;
}

static void maint_candidates(struct tree_base *b, git_repository *repo,
			     const struct tree_series *s,
			     const struct branches *bs, const struct maint *m)
{
	struct maint_matches mm = MAINT_MATCHES_INIT;
	struct strbuf why = STRBUF_INIT;
	size_t unmatched = 0, paths_nr = 0;
	char **paths = NULL;

	tree_series_paths(&paths, &paths_nr, s);
	maint_matches_init(&mm);
	maint_map(&mm, m, (const char *const *)paths, paths_nr, NULL, 0);
	for (size_t i = 0; i < mm.nr; i++) {
		const struct maint_section *sec = mm.v[i].section;

		for (size_t k = 0; k < sec->nr_entries; k++) {
			const struct maint_entry *e = &sec->entries[k];
			char *url = NULL, *want = NULL;
			bool hit = false;

			if (e->type != 'T' ||
			    !parse_t_entry(&url, &want, e->value))
				continue;
			for (size_t j = 0; j < bs->nr; j++) {
				const struct branch *br = &bs->v[j];

				if (!br->url || strcmp(br->url, url) ||
				    !branch_fits(br, want))
					continue;
				strbuf_reset(&why);
				strbuf_addf(&why, "T: %s (%s)", e->value,
					    sec->title);
				add_cand(b, repo, TREE_CAND_MAINT_TREE,
					 br->rev, why.buf);
				hit = true;
			}
			if (!hit && unmatched++ < MAX_T_NOTES)
				add_note(b, "no branch here tracks T: %s (%s)",
					 e->value, sec->title);
			free(url);
			free(want);
		}
	}
	maint_matches_release(&mm);
	strv_free(paths, paths_nr);
	strbuf_release(&why);
}

int tree_base_candidates(struct tree_base *out, struct git_repository *repo,
			 const struct tree_series *s,
			 const struct tree_base_opts *opts,
			 struct strbuf *err)
{
	static const struct tree_base_opts no_opts = TREE_BASE_OPTS_INIT;
	const struct tree_base_opts *o = opts ? opts : &no_opts;
	const char *const *defs = o->default_branches;
	size_t defs_nr = o->default_branches_nr;
	struct branches bs = { 0 };
	struct strbuf why = STRBUF_INIT;

	(void)err;
	if (o->base_rev)
		add_cand(out, repo, TREE_CAND_OPTION, o->base_rev, NULL);
	if (s->base_commit)
		add_cand(out, repo, TREE_CAND_BASE_COMMIT, s->base_commit,
			 s->cover_body ? "of the cover letter" :
					 "of patch 1");
	for (size_t i = 0; i < s->prereqs_nr; i++)
		add_note(out, "declares %s: not looked up (kreview applies "
			 "only this series; the prerequisite must already be "
			 "in the base)", s->prereqs[i]);

	collect_branches(&bs, repo, o);
	tag_candidates(out, repo, s, &bs);
	if (o->maint)
		maint_candidates(out, repo, s, &bs, o->maint);
	else
		add_note(out, "no MAINTAINERS: T: trees not used");

	for (size_t i = 0; i < bs.nr; i++)
		if (bs.v[i].configured)
			add_cand(out, repo, TREE_CAND_DEFAULT, bs.v[i].rev,
				 "configured branch");
	if (!defs) {
		defs = usual_defaults;
		defs_nr = ARRAY_SIZE(usual_defaults);
	}
	for (size_t i = 0; i < defs_nr; i++)
		add_cand(out, repo, TREE_CAND_DEFAULT, defs[i],
			 "default branch");
	if (!o->no_head)
		add_cand(out, repo, TREE_CAND_HEAD, "HEAD", NULL);
	branches_release(&bs);
	strbuf_release(&why);
	return 0;
}

int tree_find_base(struct tree_base *out, struct git_repository *repo,
		   const struct tree_series *s,
		   const struct tree_base_opts *opts, struct strbuf *err)
{
	static const struct tree_base_opts no_opts = TREE_BASE_OPTS_INIT;
	const struct tree_base_opts *o = opts ? opts : &no_opts;
	struct apply_opts ao = APPLY_OPTS_INIT;
	const char **texts = xcalloc(s->nr + 1, sizeof(*texts));
	size_t *lens = xcalloc(s->nr + 1, sizeof(*lens));
	int ret;

	for (size_t i = 0; i < s->nr; i++) {
		texts[i] = s->patches[i].body;
		lens[i] = s->patches[i].body_len;
	}
	ao.no_threeway = o->no_threeway;
	ret = tree_base_candidates(out, repo, s, o, err);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < out->nr; i++) {
		struct tree_attempt *a = &out->attempts[i];
		struct apply_result res = APPLY_RESULT_INIT;
		struct strbuf f = STRBUF_INIT;

		if (a->state != TREE_ATTEMPT_PENDING)
			continue;
		ret = apply_series(&res, repo, &a->commit, texts, lens, s->nr,
				   &ao, err);
		if (ret < 0)
			goto out;
		if (!res.failed) {
			a->state = TREE_ATTEMPT_APPLIED;
			out->found = true;
			out->winner = i;
			apply_result_release(&out->result);
			out->result = res;
			out->has_result = true;
			break;
		}
		a->state = TREE_ATTEMPT_FAILED;
		a->applied = res.patches_nr;
		apply_failure_format(&f, &res.failure, 1);
		a->failure = strbuf_detach(&f, NULL);
		if (!out->has_result ||
		    res.patches_nr > out->result.patches_nr) {
			apply_result_release(&out->result);
			out->result = res;
			out->has_result = true;
			out->best = i;
		} else {
			apply_result_release(&res);
		}
	}
	if (out->found && o->keep_prefix) {
		struct apply_result res = APPLY_RESULT_INIT;

		/* applied once more, now writing refs: only for the winner */
		ao.ref_prefix = o->keep_prefix;
		ret = apply_series(&res, repo,
				   &out->attempts[out->winner].commit, texts,
				   lens, s->nr, &ao, err);
		apply_result_release(&res);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	free(texts);
	free(lens);
	return ret;
}

void tree_base_format_attempt(struct strbuf *out, const struct tree_base *b,
			      size_t i, size_t total)
{
	const struct tree_attempt *a = &b->attempts[i];
	char hex[13];

	strbuf_addf(out, "attempt %zu: ", i + 1);
	if (a->source != TREE_CAND_HEAD)
		strbuf_addf(out, "%s ", tree_cand_source_name(a->source));
	strbuf_addstr(out, a->rev);
	if (a->state != TREE_ATTEMPT_NOT_FOUND) {
		git_oid_tostr(hex, sizeof(hex), &a->commit);
		/* an id given in full or in part is not repeated */
		if (strncmp(a->rev, hex, strlen(a->rev) < 12 ?
						 strlen(a->rev) : 12))
			strbuf_addf(out, " (%s)", hex);
	}
	if (a->why)
		strbuf_addf(out, " [%s]", a->why);
	strbuf_addf(out, ": %s", state_name(a->state));
	switch (a->state) {
	case TREE_ATTEMPT_FAILED:
		strbuf_addf(out, " after %zu of %zu patches: %s", a->applied,
			    total, a->failure ? a->failure : "");
		break;
	case TREE_ATTEMPT_DUPLICATE:
		strbuf_addf(out, " of attempt %zu", a->same_as + 1);
		break;
	case TREE_ATTEMPT_APPLIED:
		strbuf_addf(out, ": all %zu patches", total);
		break;
	case TREE_ATTEMPT_PENDING:
		if (b->found)
			strbuf_addf(out, ": attempt %zu applied first",
				    b->winner + 1);
		break;
	default:
		break;
	}
}

void tree_base_format_failure(struct strbuf *out, const struct tree_base *b,
			      const struct tree_series *s)
{
	strbuf_addf(out, "%s: the series does not apply to any of %zu "
		    "candidate bases\n", s->name, b->nr);
	for (size_t i = 0; i < b->notes_nr; i++)
		strbuf_addf(out, "note: %s\n", b->notes[i]);
	if (!b->has_result) {
		strbuf_addstr(out, "no candidate base exists in this "
			      "repository; give one with --base\n");
		return;
	}
	strbuf_addf(out, "closest: %s %s applied %zu of %zu patches; ",
		    tree_cand_source_name(b->attempts[b->best].source),
		    b->attempts[b->best].rev, b->result.patches_nr, s->nr);
	apply_failure_format(out, &b->result.failure, 1);
	strbuf_addch(out, '\n');
	if (b->result.failure.patch < s->nr)
		strbuf_addf(out, "failing patch: %s\n",
			    s->patches[b->result.failure.patch].subject);
	if (s->prereqs_nr)
		strbuf_addf(out, "the series declares %zu prerequisite(s); "
			    "they must be in the base\n", s->prereqs_nr);
}
