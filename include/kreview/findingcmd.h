/*
 * findingcmd.h - "#kreview invalid" and "#kreview wontfix" in a reply to
 * one of kreview's review replies (reference lkml-reply §6, rules 10
 * and 11).
 *
 * A review reply invites "a line such as #kreview invalid below" the
 * finding.  The finding is the one whose text is quoted right above the
 * command (the nearest quoted line that is part of a reported
 * finding's explanation); when the reply reported a single finding the
 * command needs no quote.  A maintainer or reviewer of the section the
 * review filed the finding under (or a configured triager) may reject
 * it: bugdb_reject_finding() records it in that section's bug database,
 * created if needed, so that later revisions do not report it again.
 */
#ifndef KREVIEW_FINDINGCMD_H
#define KREVIEW_FINDINGCMD_H

#include "kreview/common.h"

struct bugcmd;
struct bugcmd_ctx;
struct db;
struct msg;
struct strbuf;

/*
 * The bugcmd_ctx.finding callback; 'data' is the main database.  1 when
 * the mail answers no review reply with findings (the caller says
 * "which bug?"); 0 when handled and logged in the section's database,
 * 2 when refused before a section was known (not logged); the result
 * line in 'res', '*ok' whether it was applied; negative on database
 * errors.
 */
int findingcmd_apply(void *data, const struct bugcmd *c,
		     const struct bugcmd_ctx *ctx, const struct msg *m,
		     bool *ok, struct strbuf *res, struct strbuf *err);

/*
 * The text quoted right above body line 'line' (1-based): the nearest
 * block of "> " lines, blank lines between it and the line skipped, the
 * quote marks removed, one line per line.
 */
void findingcmd_quote_above(struct strbuf *out, const char *body, size_t len,
			    unsigned int line);

#endif
