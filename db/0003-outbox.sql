-- The outbox: every mail kreview composes, delivered exactly once.
--
-- The Message-ID is chosen when the row is created and never changes;
-- a crash between handing a mail over and recording it is resolved by
-- that id (a maildir file named after it; for SMTP and sendmail the
-- row is still 'sending' and is sent again with the same id and the
-- same bytes, see outbox.h).  Timestamps are Unix milliseconds.
--
-- States: held (outbox mode, waiting for "kreview outbox send"),
-- pending, sending, sent, failed-retrying, dead (permanent failure or
-- attempts exhausted), dropped (by an operator).
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	msgid TEXT NOT NULL UNIQUE,        -- without <>, fixed at creation
	in_reply_to TEXT NOT NULL UNIQUE,  -- the answered message: once only
	review_id INTEGER REFERENCES review(id) ON DELETE SET NULL,
	kind TEXT NOT NULL CHECK (kind IN ('patch','summary')),
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
CREATE INDEX outbox_due ON outbox(state, next_try_ms);
CREATE INDEX outbox_list_sent ON outbox(list, sent_ms);
