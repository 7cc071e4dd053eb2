/* testutil.h - small helpers shared by the cmocka unit tests. */
#ifndef KREVIEW_TESTUTIL_H
#define KREVIEW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kreview/common.h"
#include "kreview/strbuf.h"

/* Read tests/data/<name> into 'sb'; fails the test if missing. */
void test_read_data(struct strbuf *sb, const char *name);
/* Make a fresh temporary directory; caller frees the path. */
char *test_mkdtemp(void);
/* rm -rf 'path' (only below /tmp). */
void test_rmtree(const char *path);

struct git_oid;
struct git_repository;

/*
 * A commit in 'repo' on 'parent' (NULL: a root commit) that sets 'path'
 * to 'content' (NULL path: the parent's tree), with a second parent
 * 'parent2' (may be NULL).  Fails the test on any libgit2 error.
 */
void test_git_commit(struct git_oid *out, struct git_repository *repo,
		     const struct git_oid *parent, const char *path,
		     const char *content, const char *message,
		     const struct git_oid *parent2);

#endif
