-- Per-subsystem bug digests (digest.h) go through the outbox: the kind
-- check gains 'digest'.  A digest answers no message; its in_reply_to
-- is its own Message-ID (unique like every other).  SQLite cannot alter
-- a CHECK constraint, so the table is rebuilt with the same columns in
-- the same order, then its indexes.
CREATE TABLE outbox_new (
	id INTEGER PRIMARY KEY,
	msgid TEXT NOT NULL UNIQUE,        -- without <>, fixed at creation
	in_reply_to TEXT NOT NULL UNIQUE,  -- the answered message: once only
	review_id INTEGER REFERENCES review(id) ON DELETE SET NULL,
	kind TEXT NOT NULL CHECK (kind IN ('patch','summary','command',
					   'digest')),
	list TEXT NOT NULL DEFAULT '',     -- name of the policy that applied
	mode TEXT NOT NULL CHECK (mode IN ('dry-run','outbox','send')),
	state TEXT NOT NULL CHECK (state IN ('held','pending','sending','sent',
					     'failed-retrying','dead','dropped')),
	env_from TEXT NOT NULL,            -- envelope sender
	rcpts TEXT NOT NULL,               -- envelope recipients, one per line
	subject TEXT NOT NULL,             -- decoded, for listings
	message BLOB NOT NULL,             -- header and body without Date:, LF
	date_ms INTEGER,                   -- Date:, fixed at the first attempt
	not_before_ms INTEGER NOT NULL,    -- embargo end
	next_try_ms INTEGER NOT NULL,      -- earliest next attempt
	attempts INTEGER NOT NULL DEFAULT 0,
	transport TEXT,                    -- of the last attempt
	last_error TEXT,
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL,
	sent_ms INTEGER
) STRICT;
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_try_ms);
CREATE INDEX outbox_list_sent ON outbox(list, sent_ms);

-- Every digest queued, one row each: the schedule's memory across
-- restarts (when a section's last digest went out, how many went out
-- today), the moderation state (a section is released once a curator
-- copy was sent 'upstream') and the body that 'upstream' sends again.
CREATE TABLE digest_sent (
	id INTEGER PRIMARY KEY,
	section TEXT NOT NULL,             -- MAINTAINERS title
	msgid TEXT NOT NULL UNIQUE,        -- without <>
	outbox_id INTEGER,
	cause TEXT NOT NULL CHECK (cause IN ('schedule','cli','upstream',
					     'regenerate')),
	to_curator INTEGER NOT NULL,       -- 1: the moderated private copy
	of_msgid TEXT,                     -- upstream: the copy released
	subject TEXT NOT NULL,
	body BLOB NOT NULL,                -- without the moderation note
	created_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX digest_sent_section ON digest_sent(section, created_ms);
CREATE INDEX digest_sent_created ON digest_sent(cause, created_ms);
