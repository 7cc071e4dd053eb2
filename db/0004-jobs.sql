-- The daemon: the list each message was read from, one review job per
-- series revision, and the tokens and cost spent per day.
-- Timestamps are Unix milliseconds.

-- Filled by ingestion in the same transaction as the message: which
-- configured source (list) a message came from and its priority
-- (lower first: local submissions before list backlog).
CREATE TABLE message_list (
	msgid TEXT PRIMARY KEY,
	list TEXT NOT NULL,
	priority INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- One job per series revision, ever: a revision is never reviewed
-- twice.  States: queued -> running -> done | failed; queued ->
-- superseded (a newer revision arrived) | skipped (nothing to review).
CREATE TABLE job (
	id INTEGER PRIMARY KEY,
	series_id INTEGER NOT NULL UNIQUE,
	list TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	priority INTEGER NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done',
		'failed', 'superseded', 'skipped')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_try_ms INTEGER NOT NULL,
	lease_owner TEXT,
	lease_expires_ms INTEGER,
	review_id INTEGER,
	last_error TEXT,
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX job_ready ON job(state, priority, next_try_ms, id);

-- Usage per UTC day ('YYYY-MM-DD'), list and endpoint, for budgets and
-- kreview status.
CREATE TABLE usage_day (
	day TEXT NOT NULL,
	list TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	tokens INTEGER NOT NULL,
	cost_usd REAL NOT NULL,
	reviews INTEGER NOT NULL,
	PRIMARY KEY (day, list, endpoint)
) STRICT, WITHOUT ROWID;
