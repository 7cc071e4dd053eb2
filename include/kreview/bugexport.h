/*
 * bugexport.h - renderings of the bug databases: the CLI's text and
 * JSON listings, one bug in full, the plain-text digest mail body
 * (reference/bug-db.md §6) and the static offline HTML page.
 *
 * Everything is built into a strbuf; nothing here touches the outside
 * world beyond reading the database.  Times are printed in UTC.  The
 * JSON documents carry "version": 1.
 */
#ifndef KREVIEW_BUGEXPORT_H
#define KREVIEW_BUGEXPORT_H

#include "kreview/common.h"

struct strbuf;
struct bugdb;
struct bugdb_bug;
struct bugdb_detail;
struct bugdb_list;

/* The header line of the text table. */
void bugexport_text_header(struct strbuf *out);
/* One row of the text table: id, severity, status, prio, times seen,
 * age at 'now_ms' and title - the fields of a brief query. */
void bugexport_text_row(struct strbuf *out, const struct bugdb_bug *b,
			int64_t now_ms);
/* One JSON object and a newline ('first': no leading comma). */
void bugexport_json_row(struct strbuf *out, const char *section,
			const struct bugdb_bug *b, bool first);
/* One table row per bug of 'l' (a header first when 'header'). */
void bugexport_list_text(struct strbuf *out, const char *section,
			 const struct bugdb_list *l, int64_t now_ms,
			 bool header);
/* One JSON object per bug, comma-separated ('first': no leading comma). */
void bugexport_list_json(struct strbuf *out, const char *section,
			 const struct bugdb_list *l, bool first);

/* A bug with its sightings, fixes, labels and events. */
void bugexport_show_text(struct strbuf *out, const char *section,
			 const struct bugdb_bug *b,
			 const struct bugdb_detail *d);

/* "[kreview] <section> open-bug digest (<Mon YYYY>)" */
void bugexport_digest_subject(struct strbuf *out, const char *section,
			      int64_t now_ms);
/*
 * The digest body: the period summary ('new_nr' recorded and
 * 'fixed_nr' fixed in the period, 'open_nr'/'fixed_total' overall),
 * the numbered table, one link per bug when 'url' is set, and the
 * footer with the reply commands.
 */
void bugexport_digest_body(struct strbuf *out, const char *section,
			   const struct bugdb_list *l, int64_t new_nr,
			   int64_t fixed_nr, int64_t open_nr,
			   int64_t fixed_total, const char *url,
			   int64_t now_ms);

/* Every bug of 'db' with its details as one JSON document. */
int bugexport_json(struct strbuf *out, struct bugdb *db, struct strbuf *err);
/*
 * A self-contained HTML page for 'db': a sortable table (inline
 * script, no external assets) with severity, status, age, times seen
 * and the evidence of each bug.
 */
int bugexport_html(struct strbuf *out, struct bugdb *db, int64_t now_ms,
		   struct strbuf *err);

#endif
