/*
 * subject.h - parsing of patch mail subjects the way b4 does it.
 *
 * "[RFC PATCH net-next v2 3/5] io_uring: fix foo" yields revision 2,
 * counter 3 of 5, the RFC flag and the tree tag "net-next".  Only the
 * leading bracket groups are parsed; later brackets are title text.
 * Reply markers (Re:, Aw:, Fwd:, any 2-3 letter word plus colon before
 * '[') mark the subject as a reply; unlike b4 0.12 the bracket groups
 * of a reply are still parsed (b4's current behaviour), but callers
 * never treat a reply as a patch.  See reference/b4-series.md §1.
 */
#ifndef KREVIEW_SUBJECT_H
#define KREVIEW_SUBJECT_H

#include "kreview/common.h"

/*
 * Bounds: only the first SUBJECT_MAX_LEN bytes of a subject are read,
 * and at most SUBJECT_MAX_PREFIXES bracket groups and as many chunks
 * are kept; the rest is ignored.
 */
#define SUBJECT_MAX_LEN 16384
#define SUBJECT_MAX_PREFIXES 64

struct subject {
	bool reply;		/* Re:/Aw:/Fwd:/Xx: prefix present */
	bool rfc;		/* a chunk starting with "rfc" */
	bool resend;		/* a chunk starting with "resend" */
	bool patch;		/* a chunk starting with "patch" (PATCHSET too) */
	bool has_brackets;	/* at least one leading [group] */
	bool explicit_revision; /* a vN chunk was present */
	bool explicit_counter;	/* an N/M chunk was present */
	int revision;		/* >= 1; 1 when not explicit */
	int counter;		/* 0 = cover letter; 1 when not explicit */
	int expected;		/* >= counter; 1 when not explicit */
	/*
	 * Every chunk of the leading groups in order, as written (after
	 * the PATCHv3 -> PATCH v3 rewrite and trailing ',' ';' strip).
	 */
	char **prefixes;
	size_t prefixes_nr;
	/*
	 * Chunks that are neither PATCH*, RFC*, RESEND*, vN nor N/M:
	 * tree tags such as "net-next", "bpf", "liburing", "v2.1".
	 */
	char **tags;
	size_t tags_nr;
	/*
	 * The subject without reply markers and leading groups, with
	 * whitespace collapsed: "io_uring: fix foo".  A trailing
	 * "(was: ...)" / "(was ...)" is removed.  Never NULL after parse.
	 */
	char *title;
};

#define SUBJECT_INIT { .revision = 1, .counter = 1, .expected = 1 }

void subject_init(struct subject *s);
void subject_release(struct subject *s);

/*
 * Parse the decoded subject 'subject' (may contain folding newlines)
 * into 'out', which must be initialised; previous contents are
 * released.  Never fails: anything unrecognised is title text.
 */
void subject_parse(struct subject *out, const char *subject);

/*
 * Normalise a title for grouping revisions: lowercase, whitespace
 * collapsed, trailing full stop dropped.  Appends to 'out'.
 */
struct strbuf;
void subject_normalise_title(struct strbuf *out, const char *title);

#endif
