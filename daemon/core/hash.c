/* Content hashes: see hash.h. */
#include "kreview/hash.h"

#include <openssl/evp.h>

void hash_git_blob(char out[HASH_HEX + 1], const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char head[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int n = snprintf(head, sizeof(head), "blob %zu", len);

	if (!ctx || n < 0 || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(ctx, head, (size_t)n + 1) ||
	    !EVP_DigestUpdate(ctx, data, len) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 20)
		die("SHA-1 computation failed");
	EVP_MD_CTX_free(ctx);
	for (unsigned int i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[HASH_HEX] = '\0';
}
