-- The daemon's bug re-verification passes (bugpass.h), one row each:
-- the start is written before the pass runs, so that a restart does not
-- begin the next pass at once; the rest when it ends.  'kreview status'
-- shows the newest.
CREATE TABLE reverify_pass (
	id INTEGER PRIMARY KEY,
	started_ms INTEGER NOT NULL,
	finished_ms INTEGER,               -- NULL: did not end (stopped, crashed)
	cause TEXT NOT NULL,               -- interval, poke
	commit_id TEXT,                    -- the commit re-verified at
	bugs INTEGER NOT NULL DEFAULT 0,   -- looked at
	asked INTEGER NOT NULL DEFAULT 0,  -- verifier requests sent
	cached INTEGER NOT NULL DEFAULT 0, -- answered by the answer cache
	still INTEGER NOT NULL DEFAULT 0,
	obsolete INTEGER NOT NULL DEFAULT 0,
	stale INTEGER NOT NULL DEFAULT 0,
	fixed INTEGER NOT NULL DEFAULT 0,
	deferred INTEGER NOT NULL DEFAULT 0, -- left for later (budget, stop)
	errors INTEGER NOT NULL DEFAULT 0,
	tokens INTEGER NOT NULL DEFAULT 0,
	cost_usd REAL NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX reverify_pass_started ON reverify_pass(started_ms);
