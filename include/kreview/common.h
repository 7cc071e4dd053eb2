/*
 * common.h - what every kreview source file includes first.
 *
 * Standard headers, the allocation wrappers that die on failure,
 * overflow-checked size arithmetic, checked number parsing, BUG() for
 * broken invariants, and the list of functions we do not use.  Nothing
 * here keeps state.
 */
#ifndef KREVIEW_COMMON_H
#define KREVIEW_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define KR_NORETURN __attribute__((noreturn))
#define KR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define KR_UNUSED __attribute__((unused))

/* Abort loudly with file and line: for broken invariants, always compiled. */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
KR_NORETURN KR_PRINTF(3, 4) void bug_fl(const char *file, int line,
					 const char *fmt, ...);

/* Print "kreview: fatal: ..." and exit(128).  For allocation failures. */
KR_NORETURN KR_PRINTF(1, 2) void die(const char *fmt, ...);

/* Allocators: never return NULL; die naming the size on failure. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Memory copy of 'len' bytes plus a NUL. */
char *xmemdupz(const void *data, size_t len);

/* Overflow-checked size arithmetic; die on overflow. */
static inline size_t st_add(size_t a, size_t b)
{
	size_t r;
	if (__builtin_add_overflow(a, b, &r))
		die("size overflow: %zu + %zu", a, b);
	return r;
}

static inline size_t st_mult(size_t a, size_t b)
{
	size_t r;
	if (__builtin_mul_overflow(a, b, &r))
		die("size overflow: %zu * %zu", a, b);
	return r;
}

/*
 * Grow the array 'x' of 'nr' used elements to hold at least 'want'
 * elements; 'alloc' is its capacity.  git's ALLOC_GROW.
 */
#define ALLOC_GROW(x, want, alloc)                                            \
	do {                                                                  \
		if ((size_t)(want) > (alloc)) {                               \
			size_t alloc_grow_n_ = st_add((alloc), 16) * 3 / 2;   \
			if (alloc_grow_n_ < (size_t)(want))                   \
				alloc_grow_n_ = (want);                       \
			(x) = xrealloc((x), st_mult(alloc_grow_n_,            \
						    sizeof(*(x))));           \
			(alloc) = alloc_grow_n_;                              \
		}                                                             \
	} while (0)

/*
 * Checked number parsing: the whole string must be a number in range.
 * Return 0, or -EINVAL (not a number) / -ERANGE (out of range); 'out'
 * is written only on success.
 */
int parse_int64(int64_t *out, const char *s, int base);
int parse_uint64(uint64_t *out, const char *s, int base);
int parse_int(int *out, const char *s, int min, int max);

/* Case-insensitive prefix test; return pointer past the prefix or NULL. */
const char *skip_prefix_icase(const char *s, const char *prefix);
/* Case-sensitive prefix test; return pointer past the prefix or NULL. */
const char *skip_prefix(const char *s, const char *prefix);

/*
 * Index of 'name' in names[0..n-1] (exact match) - the parser of every
 * enum with a table of names - or -1 when it is absent or NULL.
 */
int name_index(const char *const *names, size_t n, const char *name);

/* Lines in 'buf': its newlines, plus one for an unterminated last line. */
size_t count_lines(const char *buf, size_t len);

/* Create the directory 'dir' and its missing parents (mode 0700): 0 or -errno. */
int mkdir_p(const char *dir);
/* Create the missing parent directories of the file 'path': 0 or -errno. */
int mkdir_parents(const char *path);

/* Current time in milliseconds since the epoch (CLOCK_REALTIME). */
int64_t time_now_ms(void);
/* Monotonic clock in milliseconds. */
int64_t time_mono_ms(void);

/* Functions kreview does not use; see STYLE.md rule 8. */
#pragma GCC poison sprintf vsprintf strcpy strcat strncpy strncat strtok gets

#endif
