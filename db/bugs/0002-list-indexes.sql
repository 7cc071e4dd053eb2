-- a listing reads only the columns of the brief view; one
-- index per sort order holds all of them, the order ending with
-- the id tie-break, so that a listing is one index scan with
-- neither table lookups nor a sort.  They replace the plain sort
-- indexes.  bug_list_by_seen is ascending and scanned backwards:
-- new sightings then append to it instead of splitting its pages.

DROP INDEX bug_by_severity;
DROP INDEX bug_by_last_seen;
DROP INDEX bug_by_first_seen;
CREATE INDEX bug_list_by_severity ON bug(severity DESC, prio DESC, times_seen DESC, first_seen, id, status, last_seen, title);
CREATE INDEX bug_list_by_seen ON bug(last_seen, id DESC, status, severity, prio, times_seen, first_seen, title);
CREATE INDEX bug_list_by_age ON bug(first_seen, id, status, severity, prio, times_seen, last_seen, title);
