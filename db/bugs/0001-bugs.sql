-- A bug database: one file per MAINTAINERS section (bug-db reference §9).
-- Timestamps are Unix milliseconds.  Shipped migrations are never edited.

CREATE TABLE meta(
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE bug(
	id TEXT PRIMARY KEY,
	seq INTEGER NOT NULL DEFAULT 0,
	title TEXT NOT NULL,
	signature TEXT NOT NULL,
	origin TEXT NOT NULL DEFAULT 'pre-existing' CHECK(origin IN ('pre-existing', 'introduced')),
	status TEXT NOT NULL CHECK(status IN ('open', 'confirmed', 'fix-pending', 'fixed', 'invalid', 'wontfix', 'dup', 'obsolete')),
	prev_status TEXT,
	dup_of TEXT REFERENCES bug(id),
	prev_bug TEXT REFERENCES bug(id),
	backburner INTEGER NOT NULL DEFAULT 0,
	stale INTEGER NOT NULL DEFAULT 0,
	file TEXT NOT NULL,
	function TEXT NOT NULL,
	category TEXT NOT NULL,
	severity INTEGER NOT NULL CHECK(severity BETWEEN 0 AND 3),
	confidence REAL NOT NULL,
	prio INTEGER NOT NULL DEFAULT 1 CHECK(prio BETWEEN 0 AND 2),
	code_commit TEXT,
	line INTEGER NOT NULL DEFAULT 0,
	end_line INTEGER NOT NULL DEFAULT 0,
	evidence TEXT,
	explanation TEXT,
	first_seen INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	times_seen INTEGER NOT NULL DEFAULT 1,
	last_activity INTEGER NOT NULL DEFAULT 0,
	last_verified_at INTEGER NOT NULL DEFAULT 0,
	last_verified_commit TEXT
) STRICT;
CREATE INDEX bug_by_status ON bug(status, severity DESC, prio DESC, times_seen DESC, first_seen);
CREATE INDEX bug_by_severity ON bug(severity DESC, prio DESC, times_seen DESC, first_seen);
CREATE INDEX bug_by_signature ON bug(signature, seq);
CREATE INDEX bug_by_place ON bug(file, function, category);
CREATE INDEX bug_by_last_seen ON bug(last_seen);
CREATE INDEX bug_by_status_seen ON bug(status, last_seen);
CREATE INDEX bug_by_first_seen ON bug(first_seen);

CREATE TABLE bug_signature(
	bug_id TEXT NOT NULL REFERENCES bug(id),
	signature TEXT NOT NULL,
	kind TEXT NOT NULL CHECK(kind IN ('alt', 'merged')),
	PRIMARY KEY(bug_id, signature)
) STRICT;
CREATE INDEX bug_signature_by_sig ON bug_signature(signature);

CREATE TABLE bug_sighting(
	id INTEGER PRIMARY KEY,
	bug_id TEXT NOT NULL REFERENCES bug(id),
	review TEXT,
	msgid TEXT,
	patch_subject TEXT,
	revision INTEGER NOT NULL DEFAULT 0,
	support INTEGER NOT NULL DEFAULT 0,
	runs INTEGER NOT NULL DEFAULT 0,
	severity INTEGER NOT NULL,
	verdict TEXT,
	suppressed INTEGER NOT NULL DEFAULT 0,
	seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX bug_sighting_by_bug ON bug_sighting(bug_id);

CREATE TABLE bug_fix(
	bug_id TEXT NOT NULL REFERENCES bug(id),
	commit_id TEXT NOT NULL,
	title TEXT,
	branch TEXT NOT NULL DEFAULT '',
	seen_at INTEGER NOT NULL,
	PRIMARY KEY(bug_id, commit_id, branch)
) STRICT;

CREATE TABLE bug_label(
	bug_id TEXT NOT NULL REFERENCES bug(id),
	label TEXT NOT NULL,
	value TEXT NOT NULL,
	set_by TEXT,
	link TEXT,
	at INTEGER NOT NULL,
	PRIMARY KEY(bug_id, label, value)
) STRICT;

CREATE TABLE bug_event(
	id INTEGER PRIMARY KEY,
	bug_id TEXT NOT NULL REFERENCES bug(id),
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,
	kind TEXT NOT NULL,
	old TEXT,
	new TEXT,
	reason TEXT,
	link TEXT
) STRICT;
CREATE INDEX bug_event_by_bug ON bug_event(bug_id, id);
CREATE INDEX bug_event_by_kind ON bug_event(kind, at);
CREATE TRIGGER bug_event_no_update BEFORE UPDATE ON bug_event BEGIN
	SELECT RAISE(ABORT, 'bug_event is append-only');
END;
CREATE TRIGGER bug_event_no_delete BEFORE DELETE ON bug_event BEGIN
	SELECT RAISE(ABORT, 'bug_event is append-only');
END;

CREATE TABLE digest(
	id INTEGER PRIMARY KEY,
	message_id TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE digest_item(
	digest_id INTEGER NOT NULL REFERENCES digest(id),
	ref INTEGER NOT NULL,
	bug_id TEXT NOT NULL REFERENCES bug(id),
	PRIMARY KEY(digest_id, ref)
) STRICT;

CREATE TABLE command_log(
	id INTEGER PRIMARY KEY,
	message_id TEXT NOT NULL,
	sender TEXT NOT NULL,
	line TEXT NOT NULL,
	result TEXT NOT NULL,
	ok INTEGER NOT NULL,
	at INTEGER NOT NULL
) STRICT;
CREATE INDEX command_log_by_msgid ON command_log(message_id);
