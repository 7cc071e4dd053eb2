/*
 * In-memory application of patch series: see include/kreview/apply.h.
 *
 * The hunk engine mirrors git's apply.c (find_pos() and
 * match_fragment() without whitespace correction) so that positions and
 * results agree with "git am"; the series driver keeps a per-patch
 * overlay of changed paths over the current tree and turns it into the
 * next tree with git_tree_create_updated().
 */
#include "kreview/apply.h"

#include <git2.h>

#include "kreview/strbuf.h"

/* A line without its terminator; 'nl' says whether it had one. */
struct line {
	const char *p;
	size_t len;
	bool nl;
};

struct lines {
	struct line *v;
	size_t nr, alloc;
};

static void lines_push(struct lines *l, const char *p, size_t len, bool nl)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr].p = p;
	l->v[l->nr].len = len;
	l->v[l->nr].nl = nl;
	l->nr++;
}

static void lines_release(struct lines *l)
{
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

static void split_lines(struct lines *out, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;

		lines_push(out, buf + i, end - i, nl != NULL);
		i = nl ? end + 1 : len;
	}
}

static bool line_eq(const struct line *a, const struct line *b)
{
	return a->len == b->len && a->nl == b->nl &&
	       !memcmp(a->p, b->p, a->len);
}

const char *apply_status_name(enum apply_status status)
{
	static const char *const names[APPLY_STATUS_MAX] = {
		[APPLY_OK] = "applied",
		[APPLY_CONTEXT_NOT_FOUND] = "context not found",
		[APPLY_MERGE_CONFLICT] = "conflict in 3-way merge",
		[APPLY_FILE_EXISTS] = "file exists",
		[APPLY_FILE_MISSING] = "file missing",
		[APPLY_NOT_EMPTY] = "deleted file not empty",
		[APPLY_BINARY] = "binary patch",
		[APPLY_UNSUPPORTED] = "unsupported change",
		[APPLY_MALFORMED] = "malformed patch",
	};

	if ((unsigned)status >= APPLY_STATUS_MAX)
		return "unknown";
	return names[status];
}

void apply_failure_release(struct apply_failure *f)
{
	if (!f)
		return;
	free(f->path);
	free(f->hunk_header);
	free(f->detail);
	memset(f, 0, sizeof(*f));
}

static void fail_set(struct apply_failure *f, enum apply_status status,
		     const char *path)
{
	if (!f)
		return;
	apply_failure_release(f);
	f->status = status;
	if (path)
		f->path = xstrdup(path);
}

KR_PRINTF(2, 3)
static void fail_detail(struct apply_failure *f, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!f)
		return;
	if (f->detail) {
		strbuf_addstr(&sb, f->detail);
		free(f->detail);
	}
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	f->detail = strbuf_detach(&sb, NULL);
}

/* ---------------------------------------------------------------- */
/* One hunk                                                         */

struct hunk_img {
	struct lines pre, post;
	size_t leading, trailing; /* context lines before/after changes */
	const char *header;	  /* the "@@" line, not NUL-terminated */
	size_t header_len;
};

static void hunk_img_release(struct hunk_img *h)
{
	lines_release(&h->pre);
	lines_release(&h->post);
}

/*
 * Read the body of hunk 'dh' from the diff text.  The parser already
 * checked the line counts; here they are only trusted to the extent
 * that we never read outside [offset, offset + length).
 */
static int read_hunk(struct hunk_img *h, const char *text, size_t text_len,
		     const struct diff_hunk *dh)
{
	size_t i = dh->offset, end;
	const char *nl;
	char last = 0;
	bool changed = false;

	if (dh->offset > text_len || dh->length > text_len - dh->offset)
		return -EINVAL;
	end = dh->offset + dh->length;
	nl = memchr(text + i, '\n', end - i);
	h->header = text + i;
	h->header_len = nl ? (size_t)(nl - (text + i)) : end - i;
	if (h->header_len && h->header[h->header_len - 1] == '\r')
		h->header_len--;
	i = nl ? (size_t)(nl - text) + 1 : end;
	while (i < end) {
		size_t e, clen;
		bool has_nl;
		const char *content;
		char tag;

		nl = memchr(text + i, '\n', end - i);
		e = nl ? (size_t)(nl - text) : end;
		has_nl = nl != NULL;
		if (has_nl && e > i && text[e - 1] == '\r')
			e--;
		tag = e > i ? text[i] : ' ';
		content = e > i ? text + i + 1 : text + i;
		clen = e > i ? e - i - 1 : 0;
		switch (tag) {
		case ' ':
			lines_push(&h->pre, content, clen, has_nl);
			lines_push(&h->post, content, clen, has_nl);
			if (changed)
				h->trailing++;
			else
				h->leading++;
			break;
		case '-':
			lines_push(&h->pre, content, clen, has_nl);
			changed = true;
			h->trailing = 0;
			break;
		case '+':
			lines_push(&h->post, content, clen, has_nl);
			changed = true;
			h->trailing = 0;
			break;
		case '\\':
			/* "\ No newline at end of file" for the line before */
			if ((last == ' ' || last == '-') && h->pre.nr)
				h->pre.v[h->pre.nr - 1].nl = false;
			if ((last == ' ' || last == '+') && h->post.nr)
				h->post.v[h->post.nr - 1].nl = false;
			break;
		default:
			return -EINVAL;
		}
		if (tag != '\\')
			last = tag;
		i = nl ? (size_t)(nl - text) + 1 : end;
	}
	if (h->pre.nr != (size_t)dh->old_lines ||
	    h->post.nr != (size_t)dh->new_lines)
		return -EINVAL;
	return 0;
}

static bool match_at(const struct lines *img, const struct lines *pre,
		     size_t pos, bool match_beginning, bool match_end)
{
	size_t j;

	if (pos > img->nr || pre->nr > img->nr - pos)
		return false;
	if (match_beginning && pos != 0)
		return false;
	if (match_end && pos + pre->nr != img->nr)
		return false;
	for (j = 0; j < pre->nr; j++)
		if (!line_eq(&img->v[pos + j], &pre->v[j]))
			return false;
	return true;
}

/* git's find_pos(): the nearest exact match, forward first on ties. */
static long find_pos(const struct lines *img, const struct lines *pre,
		     size_t line, bool match_beginning, bool match_end)
{
	size_t backwards, forwards, current;
	unsigned long i;

	if (pre->nr > img->nr)
		return -1;
	if (match_beginning)
		line = 0;
	else if (match_end)
		line = img->nr - pre->nr;
	if (line > img->nr)
		line = img->nr;
	backwards = forwards = current = line;
	for (i = 0;; i++) {
		if (match_at(img, pre, current, match_beginning, match_end))
			return (long)current;
again:
		if (backwards == 0 && forwards == img->nr)
			break;
		if (i & 1) {
			if (backwards == 0) {
				i++;
				goto again;
			}
			current = --backwards;
		} else {
			if (forwards == img->nr) {
				i++;
				goto again;
			}
			current = ++forwards;
		}
	}
	return -1;
}

static void add_quoted_line(struct strbuf *sb, const struct line *l)
{
	size_t n = l->len > 72 ? 72 : l->len, i;

	strbuf_addch(sb, '\'');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l->p[i];

		if (c == '\t')
			strbuf_addstr(sb, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(sb, "\\x%02x", c);
		else
			strbuf_addch(sb, (char)c);
	}
	strbuf_addch(sb, '\'');
	if (n < l->len)
		strbuf_addstr(sb, "...");
}

/* Say why the pre-image does not match at the stated position. */
static void describe_mismatch(struct apply_failure *fail,
			      const struct lines *img,
			      const struct lines *pre, size_t pos,
			      bool match_beginning, bool match_end)
{
	struct strbuf sb = STRBUF_INIT;
	size_t j;

	if (!fail)
		return;
	if (pre->nr > img->nr) {
		strbuf_addf(&sb, "the file has %zu lines, the hunk needs %zu",
			    img->nr, pre->nr);
		goto out;
	}
	if (match_beginning)
		pos = 0;
	else if (match_end)
		pos = img->nr - pre->nr;
	if (pos > img->nr - pre->nr)
		pos = img->nr - pre->nr;
	for (j = 0; j < pre->nr; j++) {
		const struct line *want = &pre->v[j], *have = &img->v[pos + j];

		if (line_eq(want, have))
			continue;
		strbuf_addf(&sb, "line %zu ", pos + j + 1);
		if (want->len == have->len &&
		    !memcmp(want->p, have->p, want->len)) {
			strbuf_addstr(&sb, want->nl ?
				      "has no final newline, the patch has one" :
				      "has a final newline, the patch has none");
			goto out;
		}
		strbuf_addstr(&sb, "differs: expected ");
		add_quoted_line(&sb, want);
		strbuf_addstr(&sb, ", found ");
		add_quoted_line(&sb, have);
		strbuf_addstr(&sb, "; no exact match at any other line");
		goto out;
	}
	if (match_end && pos + pre->nr != img->nr)
		strbuf_addf(&sb, "the hunk must end at the end of the file, "
			    "which has %zu more lines", img->nr - pos - pre->nr);
	else
		strbuf_addstr(&sb, "the hunk must apply at the beginning of "
			      "the file");
out:
	fail_detail(fail, "%s", sb.buf);
	strbuf_release(&sb);
}

static void lines_write(struct strbuf *out, const struct lines *img)
{
	size_t i;

	for (i = 0; i < img->nr; i++) {
		strbuf_add(out, img->v[i].p, img->v[i].len);
		if (img->v[i].nl)
			strbuf_addch(out, '\n');
	}
}

/* Replace img[pos, pos + n) by 'with'. */
static void lines_splice(struct lines *img, size_t pos, size_t n,
			 const struct lines *with)
{
	size_t tail = img->nr - pos - n;

	ALLOC_GROW(img->v, st_add(img->nr - n, with->nr), img->alloc);
	memmove(img->v + pos + with->nr, img->v + pos + n,
		st_mult(tail, sizeof(*img->v)));
	if (with->nr)
		memcpy(img->v + pos, with->v,
		       st_mult(with->nr, sizeof(*img->v)));
	img->nr = img->nr - n + with->nr;
}

int apply_hunks(struct strbuf *out, struct apply_hunk *hunks,
		const char *pre, size_t pre_len, const struct diff_file *f,
		const char *text, size_t text_len,
		struct apply_failure *fail)
{
	struct lines img = { 0 };
	struct hunk_img h = { 0 };
	size_t k;
	int ret = 0;

	split_lines(&img, pre, pre_len);
	for (k = 0; k < f->hunks_nr; k++) {
		const struct diff_hunk *dh = &f->hunks[k];
		bool match_beginning, match_end;
		size_t pos;
		long at;

		hunk_img_release(&h);
		memset(&h, 0, sizeof(h));
		if (read_hunk(&h, text, text_len, dh) < 0) {
			fail_set(fail, APPLY_MALFORMED, NULL);
			if (fail) {
				fail->hunk = k + 1;
				fail->line = dh->old_start;
			}
			fail_detail(fail, "hunk body does not match its header");
			ret = -EBADMSG;
			goto out;
		}
		/* git apply: see apply_one_fragment() */
		match_beginning = dh->old_start == 0 || dh->old_start == 1;
		match_end = h.trailing == 0;
		pos = dh->new_start > 0 ? (size_t)dh->new_start - 1 : 0;
		at = find_pos(&img, &h.pre, pos, match_beginning, match_end);
		if (at < 0) {
			fail_set(fail, APPLY_CONTEXT_NOT_FOUND, NULL);
			if (fail) {
				fail->hunk = k + 1;
				fail->hunk_header = xmemdupz(h.header,
							     h.header_len);
				fail->line = dh->old_start;
			}
			describe_mismatch(fail, &img, &h.pre, pos,
					  match_beginning, match_end);
			ret = -EBADMSG;
			goto out;
		}
		if (hunks) {
			hunks[k].old_start = dh->old_start;
			hunks[k].applied_line = (int)at + 1;
			hunks[k].new_line = (int)at + 1;
			hunks[k].offset = (int)((long)at - (long)pos);
			hunks[k].threeway = false;
		}
		lines_splice(&img, (size_t)at, h.pre.nr, &h.post);
	}
	lines_write(out, &img);
out:
	hunk_img_release(&h);
	lines_release(&img);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Series                                                           */

/* A path changed by the patch being applied. */
struct overlay_entry {
	char *path;
	bool present;
	git_oid oid;
	unsigned mode;
};

struct state {
	git_repository *repo;
	git_tree *tree; /* the tree before the current patch */
	struct overlay_entry *ov;
	size_t ov_nr, ov_alloc;
	const struct apply_opts *opts;
	struct strbuf *err;
};

static void overlay_clear(struct state *st)
{
	size_t i;

	for (i = 0; i < st->ov_nr; i++)
		free(st->ov[i].path);
	st->ov_nr = 0;
}

static struct overlay_entry *overlay_find(struct state *st,
					  const char *path)
{
	size_t i;

	for (i = 0; i < st->ov_nr; i++)
		if (!strcmp(st->ov[i].path, path))
			return &st->ov[i];
	return NULL;
}

static void overlay_set(struct state *st, const char *path, bool present,
			const git_oid *oid, unsigned mode)
{
	struct overlay_entry *e = overlay_find(st, path);

	if (!e) {
		ALLOC_GROW(st->ov, st->ov_nr + 1, st->ov_alloc);
		e = &st->ov[st->ov_nr++];
		e->path = xstrdup(path);
	}
	e->present = present;
	if (oid)
		git_oid_cpy(&e->oid, oid);
	e->mode = mode;
}

static int git_fail(struct state *st, const char *what, const char *path)
{
	const git_error *e = git_error_last();

	if (st->err)
		strbuf_addf(st->err, "cannot %s '%s': %s", what, path,
			    e && e->message ? e->message : "libgit2 error");
	return -EIO;
}

/*
 * Look 'path' up in the overlay, then in the tree.  Returns 1 and
 * fills 'oid'/'mode' when it is a file, 0 when absent, 2 when it is a
 * directory, -EIO on errors.
 */
static int lookup_path(struct state *st, const char *path, git_oid *oid,
		       unsigned *mode)
{
	struct overlay_entry *e = overlay_find(st, path);
	git_tree_entry *te = NULL;
	int r;

	if (e) {
		if (!e->present)
			return 0;
		git_oid_cpy(oid, &e->oid);
		*mode = e->mode;
		return 1;
	}
	r = git_tree_entry_bypath(&te, st->tree, path);
	if (r == GIT_ENOTFOUND)
		return 0;
	if (r < 0)
		return git_fail(st, "look up", path);
	git_oid_cpy(oid, git_tree_entry_id(te));
	*mode = (unsigned)git_tree_entry_filemode(te);
	r = git_tree_entry_type(te) == GIT_OBJECT_TREE ? 2 : 1;
	git_tree_entry_free(te);
	return r;
}

/* Resolve the abbreviated pre-image id of an index line. */
static int lookup_preimage(git_blob **out, struct state *st,
			   const char *hex, struct apply_failure *fail)
{
	git_oid prefix;
	size_t n = strlen(hex);
	int r;

	if (n < 4 || n > GIT_OID_HEXSZ ||
	    git_oid_fromstrn(&prefix, hex, n) < 0) {
		fail_detail(fail, "; no 3-way merge: index line names '%s'",
			    hex);
		return -ENOENT;
	}
	r = git_blob_lookup_prefix(out, st->repo, &prefix, n);
	if (r == GIT_EAMBIGUOUS) {
		fail_detail(fail, "; no 3-way merge: pre-image blob %s is "
			    "ambiguous", hex);
		return -ENOENT;
	}
	if (r < 0) {
		fail_detail(fail, "; no 3-way merge: pre-image blob %s is not "
			    "in the repository", hex);
		return -ENOENT;
	}
	return 0;
}

static bool oid_is_zero_hex(const char *hex)
{
	for (; *hex; hex++)
		if (*hex != '0')
			return false;
	return true;
}

/*
 * The "git am -3" fallback for one file: apply the patch to the blob
 * its index line names and merge that into 'ours'.  'fail' already
 * describes the direct failure; it is extended or replaced.
 */
static int threeway(struct strbuf *out, struct apply_hunk *hunks,
		    struct state *st, const struct diff_file *f,
		    const char *text, size_t len, const char *ours,
		    size_t ours_len, const char *path,
		    struct apply_failure *fail)
{
	struct strbuf theirs = STRBUF_INIT;
	struct apply_failure fail2 = { 0 };
	git_merge_file_input in_base = GIT_MERGE_FILE_INPUT_INIT;
	git_merge_file_input in_ours = GIT_MERGE_FILE_INPUT_INIT;
	git_merge_file_input in_theirs = GIT_MERGE_FILE_INPUT_INIT;
	git_merge_file_result merged = { 0 };
	git_blob *base = NULL;
	size_t k;
	int ret = -EBADMSG;

	if (st->opts->no_threeway)
		return -EBADMSG;
	if (!f->old_oid || oid_is_zero_hex(f->old_oid)) {
		fail_detail(fail, "; no 3-way merge: the patch has no index "
			    "line naming the pre-image");
		return -EBADMSG;
	}
	if (lookup_preimage(&base, st, f->old_oid, fail) < 0)
		return -EBADMSG;
	if (apply_hunks(&theirs, NULL, git_blob_rawcontent(base),
			(size_t)git_blob_rawsize(base), f, text, len,
			&fail2) < 0) {
		fail_detail(fail, "; it does not apply to its pre-image blob "
			    "%s either", f->old_oid);
		goto out;
	}
	in_base.ptr = git_blob_rawcontent(base);
	in_base.size = (size_t)git_blob_rawsize(base);
	in_base.path = path;
	in_ours.ptr = ours;
	in_ours.size = ours_len;
	in_ours.path = path;
	in_theirs.ptr = theirs.buf;
	in_theirs.size = theirs.len;
	in_theirs.path = path;
	if (git_merge_file(&merged, &in_base, &in_ours, &in_theirs, NULL) < 0) {
		ret = git_fail(st, "merge", path);
		goto out;
	}
	if (!merged.automergeable) {
		fail->status = APPLY_MERGE_CONFLICT;
		free(fail->detail);
		fail->detail = NULL;
		fail_detail(fail, "3-way merge with pre-image blob %s left "
			    "conflicts", f->old_oid);
		goto out;
	}
	strbuf_add(out, merged.ptr, merged.len);
	for (k = 0; hunks && k < f->hunks_nr; k++) {
		hunks[k].old_start = f->hunks[k].old_start;
		hunks[k].applied_line = 0;
		hunks[k].new_line = f->hunks[k].new_start;
		hunks[k].offset = 0;
		hunks[k].threeway = true;
	}
	ret = 0;
out:
	git_merge_file_result_free(&merged);
	git_blob_free(base);
	apply_failure_release(&fail2);
	strbuf_release(&theirs);
	return ret;
}

/*
 * Produce the new content of 'path' from the blob 'oid' (NULL: empty)
 * and write it as a blob.  Returns 0, -EBADMSG (fail filled) or -EIO.
 */
static int patch_content(git_oid *new_oid, struct apply_file *af,
			 struct state *st, const struct diff_file *f,
			 const char *text, size_t len, const git_oid *oid,
			 const char *path, bool expect_empty,
			 struct apply_failure *fail)
{
	struct strbuf out = STRBUF_INIT;
	git_blob *blob = NULL;
	const char *pre = "";
	size_t pre_len = 0;
	int ret;

	if (oid) {
		if (git_blob_lookup(&blob, st->repo, oid) < 0)
			return git_fail(st, "read blob of", path);
		pre = git_blob_rawcontent(blob);
		pre_len = (size_t)git_blob_rawsize(blob);
	}
	ret = apply_hunks(&out, af->hunks, pre, pre_len, f, text, len, fail);
	if (ret == -EBADMSG && fail->status == APPLY_CONTEXT_NOT_FOUND &&
	    oid) {
		strbuf_reset(&out);
		ret = threeway(&out, af->hunks, st, f, text, len, pre, pre_len,
			       path, fail);
		if (!ret)
			af->threeway = true;
	}
	if (ret < 0)
		goto out;
	if (expect_empty) {
		if (out.len) {
			fail_set(fail, APPLY_NOT_EMPTY, NULL);
			fail_detail(fail, "the deletion leaves %zu bytes",
				    out.len);
			ret = -EBADMSG;
		}
		goto out;
	}
	if (git_blob_create_from_buffer(new_oid, st->repo, out.buf, out.len) <
	    0)
		ret = git_fail(st, "write blob for", path);
out:
	git_blob_free(blob);
	strbuf_release(&out);
	return ret;
}

static bool is_gitlink(unsigned mode)
{
	return mode == GIT_FILEMODE_COMMIT;
}

/*
 * The mode after the patch.  The diff parser also fills both modes from
 * the "index a..b 100644" line, so only a stated difference (or a new
 * file) changes the mode; like git apply, an unchanged mode is taken
 * from the tree rather than from the patch.
 */
static unsigned result_mode(const struct diff_file *f, unsigned old)
{
	if (!old)
		return f->new_mode ? f->new_mode : GIT_FILEMODE_BLOB;
	if (f->new_mode && f->new_mode != f->old_mode)
		return f->new_mode;
	return old;
}

/* Apply one file of a patch to the overlay. */
static int apply_file(struct apply_file *af, struct state *st,
		      const struct diff_file *f, const char *text, size_t len,
		      struct apply_failure *fail)
{
	const char *src = f->old_path, *dst = f->new_path;
	git_oid oid, new_oid;
	unsigned mode = 0, tmp_mode;
	int r;

	af->old_path = f->old_path ? xstrdup(f->old_path) : NULL;
	af->new_path = f->new_path ? xstrdup(f->new_path) : NULL;
	af->status = f->status;
	af->hunks_nr = f->hunks_nr;
	af->hunks = xcalloc(f->hunks_nr ? f->hunks_nr : 1,
			    sizeof(*af->hunks));
	if (f->binary) {
		fail_set(fail, APPLY_BINARY, diff_file_path(f));
		fail_detail(fail, "binary patches are not applied; send the "
			    "change as a text diff or apply it with git");
		return -EBADMSG;
	}
	if (is_gitlink(f->old_mode) || is_gitlink(f->new_mode)) {
		fail_set(fail, APPLY_UNSUPPORTED, diff_file_path(f));
		fail_detail(fail, "submodule changes are not applied");
		return -EBADMSG;
	}
	if (!src && !dst) {
		fail_set(fail, APPLY_MALFORMED, NULL);
		fail_detail(fail, "a file without a name");
		return -EBADMSG;
	}

	if (f->status == DIFF_ADDED) {
		r = lookup_path(st, dst, &oid, &tmp_mode);
		if (r < 0)
			return r;
		if (r) {
			fail_set(fail, APPLY_FILE_EXISTS, dst);
			fail_detail(fail, "the patch creates '%s', which "
				    "already exists%s", dst,
				    r == 2 ? " as a directory" : "");
			return -EBADMSG;
		}
		r = patch_content(&new_oid, af, st, f, text, len, NULL, dst,
				  false, fail);
		if (r < 0)
			goto fill_path;
		af->mode = result_mode(f, 0);
		overlay_set(st, dst, true, &new_oid, af->mode);
		return 0;
	}

	if (!src)
		src = dst;
	r = lookup_path(st, src, &oid, &mode);
	if (r < 0)
		return r;
	if (r != 1) {
		fail_set(fail, APPLY_FILE_MISSING, src);
		fail_detail(fail, "the patch %s '%s', which is not in the tree%s",
			    f->status == DIFF_DELETED ? "deletes" : "changes",
			    src, r == 2 ? " (a directory has that name)" : "");
		return -EBADMSG;
	}
	if (mode == GIT_FILEMODE_TREE || is_gitlink(mode)) {
		fail_set(fail, APPLY_UNSUPPORTED, src);
		fail_detail(fail, "'%s' is not a file", src);
		return -EBADMSG;
	}

	if (f->status == DIFF_DELETED) {
		r = patch_content(&new_oid, af, st, f, text, len, &oid, src,
				  true, fail);
		if (r < 0)
			goto fill_path;
		af->mode = 0;
		overlay_set(st, src, false, NULL, 0);
		return 0;
	}

	if (!dst)
		dst = src;
	if ((f->status == DIFF_RENAMED || f->status == DIFF_COPIED) &&
	    strcmp(src, dst)) {
		r = lookup_path(st, dst, &new_oid, &tmp_mode);
		if (r < 0)
			return r;
		if (r) {
			fail_set(fail, APPLY_FILE_EXISTS, dst);
			fail_detail(fail, "the patch %s '%s' to '%s', which "
				    "already exists",
				    f->status == DIFF_RENAMED ? "renames" :
								"copies",
				    src, dst);
			return -EBADMSG;
		}
	}
	if (f->hunks_nr) {
		r = patch_content(&new_oid, af, st, f, text, len, &oid, dst,
				  false, fail);
		if (r < 0)
			goto fill_path;
	} else {
		git_oid_cpy(&new_oid, &oid);
	}
	af->mode = result_mode(f, mode);
	if (f->status == DIFF_RENAMED && strcmp(src, dst))
		overlay_set(st, src, false, NULL, 0);
	overlay_set(st, dst, true, &new_oid, af->mode);
	return 0;

fill_path:
	if (r == -EBADMSG && !fail->path)
		fail->path = xstrdup(diff_file_path(f));
	return r;
}

static int write_tree(git_oid *out, struct state *st)
{
	git_tree_update *upd;
	size_t i;
	int ret = 0;

	if (!st->ov_nr) {
		git_oid_cpy(out, git_tree_id(st->tree));
		return 0;
	}
	upd = xcalloc(st->ov_nr, sizeof(*upd));
	for (i = 0; i < st->ov_nr; i++) {
		upd[i].path = st->ov[i].path;
		if (st->ov[i].present) {
			upd[i].action = GIT_TREE_UPDATE_UPSERT;
			git_oid_cpy(&upd[i].id, &st->ov[i].oid);
			upd[i].filemode = (git_filemode_t)st->ov[i].mode;
		} else {
			upd[i].action = GIT_TREE_UPDATE_REMOVE;
		}
	}
	if (git_tree_create_updated(out, st->repo, st->tree, st->ov_nr, upd) <
	    0)
		ret = git_fail(st, "write tree after", st->ov[0].path);
	free(upd);
	return ret;
}

static void patch_release(struct apply_patch *p)
{
	size_t i;

	for (i = 0; i < p->files_nr; i++) {
		free(p->files[i].old_path);
		free(p->files[i].new_path);
		free(p->files[i].hunks);
	}
	free(p->files);
	p->files = NULL;
	p->files_nr = 0;
}

void apply_result_release(struct apply_result *r)
{
	size_t i;

	if (!r)
		return;
	free(r->trees);
	for (i = 0; i < r->patches_nr; i++)
		patch_release(&r->patches[i]);
	free(r->patches);
	apply_failure_release(&r->failure);
	memset(r, 0, sizeof(*r));
}

/*
 * Apply one patch to st->tree.  Returns 0 with 'tree_out' set, -EBADMSG
 * with 'fail' filled, or -EIO.
 */
static int apply_one(git_oid *tree_out, struct apply_patch *ap,
		     struct state *st, const char *text, size_t len,
		     struct apply_failure *fail)
{
	struct diff d = DIFF_INIT;
	struct strbuf perr = STRBUF_INIT;
	size_t i;
	int ret;

	overlay_clear(st);
	ret = diff_parse(&d, text, len, &perr);
	if (ret < 0) {
		fail_set(fail, APPLY_MALFORMED, NULL);
		fail_detail(fail, "%s", perr.len ? perr.buf : "cannot parse");
		ret = -EBADMSG;
		goto out;
	}
	ap->files = xcalloc(d.files_nr ? d.files_nr : 1, sizeof(*ap->files));
	for (i = 0; i < d.files_nr; i++) {
		ap->files_nr = i + 1;
		ret = apply_file(&ap->files[i], st, &d.files[i], text, len,
				 fail);
		if (ret < 0)
			goto out;
	}
	ret = write_tree(tree_out, st);
out:
	diff_release(&d);
	strbuf_release(&perr);
	return ret;
}

static int write_refs(struct state *st, const char *prefix,
		      const git_oid *trees, size_t nr)
{
	struct strbuf name = STRBUF_INIT;
	size_t i;
	int ret = 0;

	for (i = 0; i < nr && !ret; i++) {
		git_reference *ref = NULL;

		strbuf_reset(&name);
		strbuf_addf(&name, "%s/%zu", prefix, i);
		if (git_reference_create(&ref, st->repo, name.buf, &trees[i], 1,
					 "kreview apply") < 0)
			ret = git_fail(st, "write ref", name.buf);
		git_reference_free(ref);
	}
	strbuf_release(&name);
	return ret;
}

static bool ref_prefix_ok(const char *prefix)
{
	struct strbuf probe = STRBUF_INIT;
	int valid = 0;

	if (!skip_prefix(prefix, "refs/kreview/") ||
	    !prefix[strlen("refs/kreview/")])
		return false;
	strbuf_addf(&probe, "%s/0", prefix);
	if (git_reference_name_is_valid(&valid, probe.buf) < 0)
		valid = 0;
	strbuf_release(&probe);
	return valid;
}

int apply_series(struct apply_result *out, struct git_repository *repo,
		 const struct git_oid *base, const char *const *texts,
		 const size_t *lens, size_t nr, const struct apply_opts *opts,
		 struct strbuf *err)
{
	static const struct apply_opts default_opts = APPLY_OPTS_INIT;
	struct apply_result res = APPLY_RESULT_INIT;
	struct state st = { .repo = repo, .err = err };
	git_object *obj = NULL;
	size_t i;
	int ret = 0;

	st.opts = opts ? opts : &default_opts;
	if (st.opts->ref_prefix && !ref_prefix_ok(st.opts->ref_prefix)) {
		if (err)
			strbuf_addf(err, "ref prefix '%s' is not below "
				    "refs/kreview/", st.opts->ref_prefix);
		return -EINVAL;
	}
	if (git_object_lookup(&obj, repo, base, GIT_OBJECT_ANY) < 0 ||
	    git_object_peel((git_object **)&st.tree, obj, GIT_OBJECT_TREE) <
		    0) {
		if (err)
			strbuf_addf(err, "base '%s' is not a commit or tree in "
				    "the repository", git_oid_tostr_s(base));
		ret = -ENOENT;
		goto out;
	}
	res.trees = xcalloc(st_add(nr, 1), sizeof(*res.trees));
	res.patches = xcalloc(nr ? nr : 1, sizeof(*res.patches));
	git_oid_cpy(&res.trees[0], git_tree_id(st.tree));
	res.trees_nr = 1;
	for (i = 0; i < nr; i++) {
		git_tree *next = NULL;

		res.patches_nr = i + 1;
		ret = apply_one(&res.trees[i + 1], &res.patches[i], &st,
				texts[i], lens[i], &res.failure);
		if (ret == -EBADMSG) {
			res.failed = true;
			res.failure.patch = i;
			res.patches_nr = i;
			patch_release(&res.patches[i]);
			ret = 0;
			break;
		}
		if (ret < 0)
			goto out;
		if (git_tree_lookup(&next, repo, &res.trees[i + 1]) < 0) {
			ret = git_fail(&st, "read back tree",
				       git_oid_tostr_s(&res.trees[i + 1]));
			goto out;
		}
		git_tree_free(st.tree);
		st.tree = next;
		res.trees_nr = i + 2;
	}
	if (st.opts->ref_prefix) {
		ret = write_refs(&st, st.opts->ref_prefix, res.trees,
				 res.trees_nr);
		if (ret < 0)
			goto out;
	}
	*out = res;
	memset(&res, 0, sizeof(res));
out:
	apply_result_release(&res);
	overlay_clear(&st);
	free(st.ov);
	git_tree_free(st.tree);
	git_object_free(obj);
	return ret;
}

void apply_failure_format(struct strbuf *out, const struct apply_failure *f,
			  size_t patch_base)
{
	strbuf_addf(out, "patch %zu", f->patch + patch_base);
	if (f->path)
		strbuf_addf(out, ": %s", f->path);
	if (f->hunk) {
		strbuf_addf(out, ": hunk #%zu", f->hunk);
		if (f->hunk_header)
			strbuf_addf(out, " (%s)", f->hunk_header);
		if (f->line)
			strbuf_addf(out, " at line %d", f->line);
	}
	strbuf_addf(out, ": %s", apply_status_name(f->status));
	if (f->detail && f->detail[0])
		strbuf_addf(out, ": %s", f->detail[0] == ';' ?
			    f->detail + 2 : f->detail);
}
