/*
 * maildir source: every file in cur/ and new/, in file name order.
 *
 * Maildir names start with the delivery time, so name order is close
 * to arrival order and, above all, the same on every run.  tmp/ holds
 * deliveries in progress and is never read.  There is no cursor: a
 * maildir has no append-only order to resume from, and the store
 * dedups what it has seen.  A mail reader may move a file from new/ to
 * cur/ (adding ":2,FLAGS") between the listing and the read; such a
 * file is looked up again in cur/.
 */
#include "source-impl.h"

#include <dirent.h>
#include <sys/stat.h>

struct maildir_entry {
	char *name;
	bool in_new;
};

struct maildir {
	char *path;
	struct maildir_entry *ent;
	size_t nr, alloc, pos;
	struct strbuf msg;
};

static int maildir_list(struct maildir *md, const char *sub, bool in_new,
			struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	strbuf_addf(&dir, "%s/%s", md->path, sub);
	d = opendir(dir.buf);
	if (!d) {
		ret = -errno;
		source_err(err, "cannot read maildir folder '%s': %s", dir.buf,
			   strerror(-ret));
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		/* Dot files are not mail (and ".", ".." are not files). */
		if (de->d_name[0] == '.')
			continue;
		ALLOC_GROW(md->ent, md->nr + 1, md->alloc);
		md->ent[md->nr].name = xstrdup(de->d_name);
		md->ent[md->nr].in_new = in_new;
		md->nr++;
	}
	if (errno) {
		ret = -errno;
		source_err(err, "cannot read maildir folder '%s': %s", dir.buf,
			   strerror(-ret));
	}
	closedir(d);
out:
	strbuf_release(&dir);
	return ret;
}

static int maildir_cmp(const void *a, const void *b)
{
	const struct maildir_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return (int)x->in_new - (int)y->in_new;
}

static bool maildir_is_dir(const char *path, const char *sub)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	bool r;

	strbuf_addf(&p, "%s/%s", path, sub);
	r = !stat(p.buf, &st) && S_ISDIR(st.st_mode);
	strbuf_release(&p);
	return r;
}

/*
 * The file moved from new/ to cur/: find "cur/NAME" or "cur/NAME:2,...".
 * 0 and the new path in 'path', or -ENOENT.
 */
static int maildir_find_moved(struct maildir *md, const char *name,
			      struct strbuf *path)
{
	size_t len = strlen(name);
	struct strbuf dir = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	strbuf_addf(&dir, "%s/cur", md->path);
	d = opendir(dir.buf);
	if (!d)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, name, len) ||
		    (de->d_name[len] && de->d_name[len] != ':'))
			continue;
		strbuf_reset(path);
		strbuf_addf(path, "%s/%s", dir.buf, de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
out:
	strbuf_release(&dir);
	return ret;
}

static int maildir_next(struct source *s, struct source_msg *out,
			struct strbuf *err)
{
	struct maildir *md = s->priv;
	struct strbuf path = STRBUF_INIT;
	int ret;

	for (;;) {
		struct maildir_entry *e;

		if (md->pos >= md->nr) {
			ret = 0;
			goto out;
		}
		e = &md->ent[md->pos++];
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s/%s", md->path,
			    e->in_new ? "new" : "cur", e->name);
		strbuf_reset(&md->msg);
		ret = strbuf_read_file(&md->msg, path.buf, s->max_message);
		if (ret == -ENOENT && e->in_new &&
		    !maildir_find_moved(md, e->name, &path))
			ret = strbuf_read_file(&md->msg, path.buf,
					       s->max_message);
		strbuf_reset(&s->where);
		strbuf_addbuf(&s->where, &path);
		if (ret == -ENOENT)
			continue; /* deleted since the listing: not ours */
		if (ret == -E2BIG) {
			source_err(err, "%s: larger than %zu bytes, skipped",
				   path.buf, s->max_message);
			goto out;
		}
		if (ret == -EISDIR) {
			source_err(err, "%s: a directory, not a message, skipped",
				   path.buf);
			ret = -EPROTO;
			goto out;
		}
		if (ret < 0) {
			source_err(err, "cannot read '%s': %s", path.buf,
				   strerror(-ret));
			goto out;
		}
		out->data = md->msg.buf;
		out->len = md->msg.len;
		ret = 1;
		goto out;
	}
out:
	strbuf_release(&path);
	return ret;
}

static void maildir_release(void *priv)
{
	struct maildir *md = priv;

	if (!md)
		return;
	for (size_t i = 0; i < md->nr; i++)
		free(md->ent[i].name);
	free(md->ent);
	free(md->path);
	strbuf_release(&md->msg);
	free(md);
}

static const struct source_ops maildir_ops = {
	.next = maildir_next,
	.release = maildir_release,
};

int maildir_open(struct source *s, const char *location, struct strbuf *err)
{
	struct maildir *md = xcalloc(1, sizeof(*md));
	struct stat st;
	int r;

	s->ops = &maildir_ops;
	s->priv = md;
	strbuf_init(&md->msg, 0);
	md->path = xstrdup(location);
	if (stat(location, &st) < 0) {
		r = -errno;
		source_err(err, "cannot open maildir '%s': %s", location,
			   strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode) || !maildir_is_dir(location, "cur") ||
	    !maildir_is_dir(location, "new")) {
		source_err(err,
			   "'%s' is not a maildir (it needs cur/ and new/ folders)",
			   location);
		return -ENOTDIR;
	}
	r = maildir_list(md, "cur", false, err);
	if (r < 0)
		return r;
	r = maildir_list(md, "new", true, err);
	if (r < 0)
		return r;
	if (md->nr)
		qsort(md->ent, md->nr, sizeof(*md->ent), maildir_cmp);

	source_set_key(s, "maildir:", location, NULL);
	return 0;
}
