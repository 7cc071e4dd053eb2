/* Bug database renderings: see bugexport.h. */
#include "kreview/bugexport.h"
#include "kreview/bugcmd.h"
#include "kreview/bugdb.h"
#include "kreview/strbuf.h"

#include <time.h>

#define DAY_MS (86400LL * 1000)

static void add_date(struct strbuf *out, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	if (!ms || !gmtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%d", &tm)) {
		strbuf_addstr(out, "-");
		return;
	}
	strbuf_addstr(out, buf);
}

static void add_datetime(struct strbuf *out, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[40];

	if (!ms || !gmtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm)) {
		strbuf_addstr(out, "-");
		return;
	}
	strbuf_addstr(out, buf);
}

static int64_t age_days(int64_t now_ms, int64_t ms)
{
	return now_ms > ms ? (now_ms - ms) / DAY_MS : 0;
}

/* 'len' bytes of 's' on one line, at most 'max' columns ("..." cut). */
static void add_cut(struct strbuf *out, const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] && n < max; n++)
		strbuf_addch(out, s[n] == '\n' || s[n] == '\t' ? ' ' : s[n]);
	if (s[n]) {
		strbuf_setlen(out, out->len - (n > 3 ? 3 : n));
		strbuf_addstr(out, "...");
	}
}

static const char *sev_short(enum finding_severity s)
{
	static const char *const n[SEV__MAX] = { "low", "med", "high", "crit" };

	return (unsigned)s < SEV__MAX ? n[s] : "?";
}

void bugexport_text_header(struct strbuf *out)
{
	strbuf_addf(out, "%-14s %-4s %-11s %-6s %5s %5s  %s\n", "ID", "SEV",
		    "STATUS", "PRIO", "SEEN", "AGE", "TITLE");
}

void bugexport_text_row(struct strbuf *out, const struct bugdb_bug *b,
			int64_t now_ms)
{
	strbuf_addf(out, "%-14s %-4s %-11s %-6s %5" PRId64 " %4" PRId64 "d  ",
		    b->id, sev_short(b->severity), bugdb_status_name(b->status),
		    bugdb_prio_name(b->prio), b->times_seen,
		    age_days(now_ms, b->first_seen_ms));
	add_cut(out, b->title, 60);
	strbuf_addch(out, '\n');
}

void bugexport_list_text(struct strbuf *out, const char *section,
			 const struct bugdb_list *l, int64_t now_ms,
			 bool header)
{
	(void)section;
	if (header)
		bugexport_text_header(out);
	for (size_t i = 0; i < l->nr; i++)
		bugexport_text_row(out, &l->v[i], now_ms);
}

/* '"k":' for a key of plain ASCII (every key here is a literal). */
static void json_key(struct strbuf *out, const char *k, bool comma)
{
	if (comma)
		strbuf_addch(out, ',');
	strbuf_addch(out, '"');
	strbuf_addstr(out, k);
	strbuf_add(out, "\":", 2);
}

static void json_kv(struct strbuf *out, const char *k, const char *v,
		    bool comma)
{
	json_key(out, k, comma);
	if (v)
		strbuf_add_json_str(out, v, strlen(v));
	else
		strbuf_addstr(out, "null");
}

/* Listings print ~10 numbers a bug: cheaper than printf. */
static void json_ki(struct strbuf *out, const char *k, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	json_key(out, k, true);
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	strbuf_add(out, p, (size_t)(buf + sizeof(buf) - p));
}

static void bug_json(struct strbuf *out, const char *section,
		     const struct bugdb_bug *b)
{
	strbuf_addch(out, '{');
	json_kv(out, "id", b->id, false);
	json_kv(out, "subsystem", section, true);
	json_ki(out, "seq", b->seq);
	json_kv(out, "title", b->title, true);
	json_kv(out, "signature", b->signature, true);
	json_kv(out, "origin", b->origin, true);
	json_kv(out, "status", bugdb_status_name(b->status), true);
	json_kv(out, "dup_of", b->dup_of, true);
	json_kv(out, "prev_bug", b->prev_bug, true);
	strbuf_addf(out, ",\"backburner\":%s,\"stale\":%s",
		    b->backburner ? "true" : "false",
		    b->stale ? "true" : "false");
	json_kv(out, "file", b->file, true);
	json_kv(out, "function", b->function, true);
	json_kv(out, "category", b->category, true);
	json_kv(out, "severity", finding_severity_name(b->severity), true);
	strbuf_addf(out, ",\"confidence\":%.2f", b->confidence);
	json_kv(out, "prio", bugdb_prio_name(b->prio), true);
	json_kv(out, "code_commit", b->code_commit, true);
	json_ki(out, "line", b->line);
	json_ki(out, "end_line", b->end_line);
	json_ki(out, "first_seen_ms", b->first_seen_ms);
	json_ki(out, "last_seen_ms", b->last_seen_ms);
	json_ki(out, "times_seen", b->times_seen);
	json_ki(out, "last_verified_ms", b->last_verified_ms);
	if (b->evidence)
		json_kv(out, "evidence", b->evidence, true);
	if (b->explanation)
		json_kv(out, "explanation", b->explanation, true);
}

void bugexport_json_row(struct strbuf *out, const char *section,
			const struct bugdb_bug *b, bool first)
{
	if (!first)
		strbuf_addch(out, ',');
	bug_json(out, section, b);
	strbuf_addstr(out, "}\n");
}

void bugexport_list_json(struct strbuf *out, const char *section,
			 const struct bugdb_list *l, bool first)
{
	for (size_t i = 0; i < l->nr; i++)
		bugexport_json_row(out, section, &l->v[i], first && !i);
}

void bugexport_show_text(struct strbuf *out, const char *section,
			 const struct bugdb_bug *b,
			 const struct bugdb_detail *d)
{
	strbuf_addf(out, "%s%s%.0d  %s\n", b->id, b->seq ? " seq " : "",
		    b->seq, b->title);
	strbuf_addf(out, "subsystem:  %s\n", section);
	strbuf_addf(out, "status:     %s%s%s%s%s\n",
		    bugdb_status_name(b->status), b->dup_of ? " of " : "",
		    b->dup_of ? b->dup_of : "",
		    b->backburner ? " (backburner)" : "",
		    b->stale ? " (stale)" : "");
	strbuf_addf(out, "severity:   %s, confidence %.2f, prio %s\n",
		    finding_severity_name(b->severity), b->confidence,
		    bugdb_prio_name(b->prio));
	strbuf_addf(out, "where:      %s:%d-%d %s() [%s]\n", b->file, b->line,
		    b->end_line, b->function, b->category);
	if (b->code_commit)
		strbuf_addf(out, "code at:    %s\n", b->code_commit);
	strbuf_addf(out, "origin:     %s\n", b->origin);
	if (b->prev_bug)
		strbuf_addf(out, "recurs:     %s\n", b->prev_bug);
	strbuf_addstr(out, "seen:       ");
	add_datetime(out, b->first_seen_ms);
	strbuf_addstr(out, " .. ");
	add_datetime(out, b->last_seen_ms);
	strbuf_addf(out, ", %" PRId64 " time%s\n", b->times_seen,
		    b->times_seen == 1 ? "" : "s");
	strbuf_addf(out, "signature:  %s\n", b->signature);
	for (size_t i = 0; i < d->signatures_nr; i++)
		strbuf_addf(out, "            %s (alternate)\n", d->signatures[i]);
	for (size_t i = 0; i < d->labels_nr; i++)
		strbuf_addf(out, "label:      %s=%s (by %s)\n", d->labels[i].label,
			    d->labels[i].value,
			    d->labels[i].set_by ? d->labels[i].set_by : "?");
	if (b->evidence && *b->evidence)
		strbuf_addf(out, "\nevidence:\n%s\n", b->evidence);
	if (b->explanation && *b->explanation)
		strbuf_addf(out, "\nexplanation:\n%s\n", b->explanation);
	if (d->fixes_nr)
		strbuf_addstr(out, "\nfixes:\n");
	for (size_t i = 0; i < d->fixes_nr; i++)
		strbuf_addf(out, "  %s %s%s%s%s\n", d->fixes[i].commit,
			    *d->fixes[i].branch ? "in " : "(named)",
			    d->fixes[i].branch, d->fixes[i].title ? ": " : "",
			    d->fixes[i].title ? d->fixes[i].title : "");
	strbuf_addf(out, "\nsightings (%zu):\n", d->sightings_nr);
	for (size_t i = 0; i < d->sightings_nr; i++) {
		const struct bugdb_sighting *s = &d->sightings[i];

		strbuf_addstr(out, "  ");
		add_datetime(out, s->at_ms);
		strbuf_addf(out, "  %s, %s, support %d/%d, %s%s%s\n",
			    s->review ? s->review : "-",
			    finding_severity_name(s->severity), s->support,
			    s->runs, s->verdict ? s->verdict : "-",
			    s->msgid ? ", " : "", s->msgid ? s->msgid : "");
	}
	strbuf_addf(out, "\nevents (%zu):\n", d->events_nr);
	for (size_t i = 0; i < d->events_nr; i++) {
		const struct bugdb_event *e = &d->events[i];

		strbuf_addstr(out, "  ");
		add_datetime(out, e->at_ms);
		strbuf_addf(out, "  %s %s", e->actor, e->kind);
		if (e->old || e->new)
			strbuf_addf(out, " %s -> %s", e->old ? e->old : "-",
				    e->new ? e->new : "-");
		if (e->reason)
			strbuf_addf(out, " (%s)", e->reason);
		if (e->link)
			strbuf_addf(out, " <%s>", e->link);
		strbuf_addch(out, '\n');
	}
}

void bugexport_digest_subject(struct strbuf *out, const char *section,
			      int64_t now_ms)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	char buf[32] = "";

	if (gmtime_r(&t, &tm))
		strftime(buf, sizeof(buf), "%b %Y", &tm);
	strbuf_addf(out, "[kreview] %s open-bug digest (%s)", section, buf);
}

void bugexport_digest_body(struct strbuf *out, const char *section,
			   const struct bugdb_list *l, int64_t new_nr,
			   int64_t fixed_nr, int64_t open_nr,
			   int64_t fixed_total, const char *url,
			   int64_t now_ms)
{
	strbuf_addf(out, "Hello %s maintainers/reviewers,\n\n", section);
	strbuf_addf(out, "This is a periodic reminder of open bugs that kreview's "
			 "reviews found in\nexisting code.  During the period "
			 "%" PRId64 " new issue%s recorded and %" PRId64
			 " %s fixed.\nIn total %" PRId64 " %s open and %" PRId64
			 " %s been fixed.\n\n",
		    new_nr, new_nr == 1 ? " was" : "s were", fixed_nr,
		    fixed_nr == 1 ? "was" : "were", open_nr,
		    open_nr == 1 ? "is" : "are", fixed_total,
		    fixed_total == 1 ? "has" : "have");
	strbuf_addstr(out, "Ref   Sev   Seen  Since       Title\n");
	for (size_t i = 0; i < l->nr; i++) {
		const struct bugdb_bug *b = &l->v[i];
		struct strbuf ref = STRBUF_INIT;

		strbuf_addf(&ref, "<%zu>", i + 1);
		strbuf_addf(out, "%-5s %-5s %4" PRId64 "  ", ref.buf,
			    sev_short(b->severity), b->times_seen);
		add_date(out, b->first_seen_ms);
		strbuf_addstr(out, "  ");
		add_cut(out, b->title, 46);
		strbuf_addch(out, '\n');
		strbuf_addf(out, "%24s%s", "", b->id);
		if (url)
			strbuf_addf(out, "  %s/%s", url, b->id);
		strbuf_addch(out, '\n');
		strbuf_release(&ref);
	}
	(void)now_ms;
	strbuf_addstr(out, "\nThe bugs are in the code as it is, not in a "
			   "patch under review.  Reply to\nthis mail with "
			   "commands at the start of a line, for example:\n\n"
			   "  #kreview <1> invalid the lock is held by every "
			   "caller\n  #kreview <2> set prio: high\n\n");
	bugcmd_help(out);
	strbuf_addstr(out, "\nTo leave a bug out of future digests: "
			   "#kreview <N> set no-reminders.\n"
			   "To credit kreview in a fix, add \"Closes:\" with "
			   "the bug id or its URL.\n"
			   "\n-- \nkreview, automated bug tracking; findings may "
			   "be wrong.\n");
}

int bugexport_json(struct strbuf *out, struct bugdb *db, struct strbuf *err)
{
	struct bugdb_query q = BUGDB_QUERY_INIT;
	struct bugdb_list l = BUGDB_LIST_INIT;
	int r;

	q.full = true;
	q.sort = BUGDB_SORT_AGE;
	r = bugdb_query_run(&l, db, &q, err);
	if (r < 0)
		return r;
	strbuf_addstr(out, "{\"version\":1,");
	json_kv(out, "subsystem", bugdb_section(db), false);
	strbuf_addstr(out, ",\"bugs\":[\n");
	for (size_t i = 0; i < l.nr; i++) {
		struct bugdb_detail d;

		r = bugdb_get_detail(&d, db, l.v[i].id, err);
		if (r < 0)
			break;
		if (i)
			strbuf_addch(out, ',');
		bug_json(out, bugdb_section(db), &l.v[i]);
		strbuf_addstr(out, ",\"fixes\":[");
		for (size_t k = 0; k < d.fixes_nr; k++) {
			strbuf_addstr(out, k ? ",{" : "{");
			json_kv(out, "commit", d.fixes[k].commit, false);
			json_kv(out, "title", d.fixes[k].title, true);
			json_kv(out, "branch", d.fixes[k].branch, true);
			strbuf_addch(out, '}');
		}
		strbuf_addstr(out, "],\"events\":[");
		for (size_t k = 0; k < d.events_nr; k++) {
			const struct bugdb_event *e = &d.events[k];

			strbuf_addf(out, "%s{\"at_ms\":%" PRId64, k ? "," : "",
				    e->at_ms);
			json_kv(out, "actor", e->actor, true);
			json_kv(out, "kind", e->kind, true);
			json_kv(out, "old", e->old, true);
			json_kv(out, "new", e->new, true);
			json_kv(out, "reason", e->reason, true);
			json_kv(out, "link", e->link, true);
			strbuf_addch(out, '}');
		}
		strbuf_addf(out, "],\"sightings\":%zu}\n", d.sightings_nr);
		bugdb_detail_release(&d);
	}
	strbuf_addstr(out, "]}\n");
	bugdb_list_release(&l);
	return r < 0 ? r : 0;
}

static void html_esc(struct strbuf *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '"': strbuf_addstr(out, "&quot;"); break;
		case '\'': strbuf_addstr(out, "&#39;"); break;
		default: strbuf_addch(out, *s); break;
		}
	}
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	"'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	"<title>";
static const char html_style[] =
	"</title>\n<style>\n"
	"body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.4em;margin:0 0 .3em}\n"
	"p.sum{color:#555;margin:0 0 1em}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"th,td{border-bottom:1px solid #ddd;padding:.35em .5em;"
	"text-align:left;vertical-align:top}\n"
	"th{background:#f2f2f2;cursor:pointer;user-select:none;"
	"white-space:nowrap}\n"
	"th:hover{background:#e4e4e4}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"code,pre{font-family:monospace;font-size:12px}\n"
	"pre{white-space:pre-wrap;background:#f8f8f8;padding:.4em;margin:.3em 0}\n"
	".sev{font-weight:bold;border-radius:3px;padding:0 .4em;color:#fff}\n"
	".sev-critical{background:#8b0000}.sev-high{background:#d9534f}\n"
	".sev-medium{background:#e08e0b}.sev-low{background:#5b8fc7}\n"
	".st-open,.st-confirmed{color:#b00}.st-fixed{color:#070}\n"
	".st-invalid,.st-wontfix,.st-dup,.st-obsolete{color:#888}\n"
	"</style></head><body>\n";
static const char html_script[] =
	"<script>\n"
	"(function(){var t=document.getElementById('bugs');"
	"var hs=t.tHead.rows[0].cells;"
	"for(var i=0;i<hs.length;i++)(function(c){var asc=true;"
	"hs[c].addEventListener('click',function(){"
	"var rows=Array.prototype.slice.call(t.tBodies[0].rows);"
	"rows.sort(function(a,b){var x=a.cells[c].getAttribute('data-k')||"
	"a.cells[c].textContent,y=b.cells[c].getAttribute('data-k')||"
	"b.cells[c].textContent;var nx=parseFloat(x),ny=parseFloat(y);"
	"var r=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);"
	"return asc?r:-r;});asc=!asc;"
	"rows.forEach(function(r){t.tBodies[0].appendChild(r);});});})(i);"
	"})();\n</script>\n";

int bugexport_html(struct strbuf *out, struct bugdb *db, int64_t now_ms,
		   struct strbuf *err)
{
	struct bugdb_query q = BUGDB_QUERY_INIT;
	struct bugdb_list l = BUGDB_LIST_INIT;
	int64_t counts[BUGDB_STATUS_MAX];
	int r;

	q.full = true;
	r = bugdb_query_run(&l, db, &q, err);
	if (r == 0)
		r = bugdb_count(counts, db, err);
	if (r < 0)
		goto out;
	strbuf_addstr(out, html_head);
	html_esc(out, bugdb_section(db));
	strbuf_addstr(out, " - kreview bugs");
	strbuf_addstr(out, html_style);
	strbuf_addstr(out, "<h1>");
	html_esc(out, bugdb_section(db));
	strbuf_addstr(out, ": bugs found by kreview in existing code</h1>\n"
			   "<p class=\"sum\">");
	strbuf_addf(out, "%zu bugs: %" PRId64 " open, %" PRId64
			 " confirmed, %" PRId64 " fix pending, %" PRId64
			 " fixed, %" PRId64 " invalid, %" PRId64 " wontfix.  "
			 "Generated ",
		    l.nr, counts[BUGDB_OPEN], counts[BUGDB_CONFIRMED],
		    counts[BUGDB_FIX_PENDING], counts[BUGDB_FIXED],
		    counts[BUGDB_INVALID], counts[BUGDB_WONTFIX]);
	add_datetime(out, now_ms);
	strbuf_addstr(out, "; click a column to sort.</p>\n"
			   "<table id=\"bugs\"><thead><tr><th>ID</th>"
			   "<th>Severity</th><th>Status</th><th>Prio</th>"
			   "<th>Age (days)</th><th>Seen</th><th>Last seen</th>"
			   "<th>Where</th><th>Title and evidence</th></tr>"
			   "</thead>\n<tbody>\n");
	for (size_t i = 0; i < l.nr; i++) {
		const struct bugdb_bug *b = &l.v[i];
		const char *sev = finding_severity_name(b->severity);
		const char *st = bugdb_status_name(b->status);

		strbuf_addstr(out, "<tr><td><code>");
		html_esc(out, b->id);
		strbuf_addf(out, "</code></td><td data-k=\"%d\"><span class=\""
				 "sev sev-%s\">%s</span></td>",
			    (int)b->severity, sev, sev);
		strbuf_addf(out, "<td class=\"st-%s\">%s</td><td data-k=\"%d\">"
				 "%s</td>",
			    st, st, (int)b->prio, bugdb_prio_name(b->prio));
		strbuf_addf(out, "<td class=\"n\">%" PRId64 "</td><td class=\"n\">"
				 "%" PRId64 "</td><td>",
			    age_days(now_ms, b->first_seen_ms), b->times_seen);
		add_date(out, b->last_seen_ms);
		strbuf_addstr(out, "</td><td><code>");
		html_esc(out, b->file);
		strbuf_addf(out, ":%d</code><br>", b->line);
		html_esc(out, b->function);
		strbuf_addstr(out, "()</td><td>");
		html_esc(out, b->title);
		if (b->evidence && *b->evidence) {
			strbuf_addstr(out, "<details><summary>evidence</summary>"
					   "<pre>");
			html_esc(out, b->evidence);
			strbuf_addstr(out, "</pre>");
			html_esc(out, b->explanation);
			strbuf_addstr(out, "</details>");
		}
		strbuf_addstr(out, "</td></tr>\n");
	}
	strbuf_addstr(out, "</tbody></table>\n");
	strbuf_addstr(out, html_script);
	strbuf_addstr(out, "</body></html>\n");
out:
	bugdb_list_release(&l);
	return r;
}
