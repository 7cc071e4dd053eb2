/*
 * hash.h - content hashes.
 *
 * hash_git_blob() computes git's blob id (the SHA-1 of "blob <len>\0"
 * followed by the bytes, as "git hash-object" prints it) with OpenSSL's
 * SHA-1.  libgit2's git_odb_hash() gives the same id but uses the
 * collision-detecting SHA-1, which is several times slower; ingestion
 * hashes every message, so kreview uses this one for its own content
 * ids.  Neither is used for security.
 */
#ifndef KREVIEW_HASH_H
#define KREVIEW_HASH_H

#include "kreview/common.h"

#define HASH_HEX 40

/* 40 lowercase hex digits and a NUL into 'out'. */
void hash_git_blob(char out[HASH_HEX + 1], const void *data, size_t len);

#endif
