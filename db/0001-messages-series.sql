-- Messages, their references, source cursors, and assembled series.
-- Timestamps are Unix milliseconds.

CREATE TABLE message (
	id INTEGER PRIMARY KEY,
	msgid TEXT NOT NULL UNIQUE,        -- without angle brackets
	msgid_synthetic INTEGER NOT NULL DEFAULT 0,
	blob_oid TEXT NOT NULL,            -- git blob id of the raw bytes
	raw BLOB NOT NULL,                 -- the message as received
	sender TEXT,                       -- "Name <addr>" of From (after X-Original-From)
	sender_addr TEXT,                  -- lowercase address of 'sender'
	author TEXT,                       -- real author: in-body From: wins
	date_ms INTEGER,                   -- Date: header, NULL if unparsable
	subject TEXT NOT NULL,             -- decoded, unfolded
	title TEXT NOT NULL,               -- subject without prefixes
	norm_title TEXT NOT NULL,          -- lowercase, for revision lineage
	in_reply_to TEXT,
	list_id TEXT,
	is_reply INTEGER NOT NULL,
	is_bot INTEGER NOT NULL,
	has_diff INTEGER NOT NULL,
	has_diffstat INTEGER NOT NULL,
	has_trailers INTEGER NOT NULL,
	revision INTEGER NOT NULL,
	revision_explicit INTEGER NOT NULL,
	counter INTEGER NOT NULL,
	expected INTEGER NOT NULL,
	counter_explicit INTEGER NOT NULL,
	flag_patch INTEGER NOT NULL,
	flag_rfc INTEGER NOT NULL,
	flag_resend INTEGER NOT NULL,
	tags TEXT NOT NULL DEFAULT '',     -- tree tags, space separated
	change_id TEXT,
	base_commit TEXT,
	thread_id INTEGER NOT NULL,        -- id of the thread's representative
	deleted INTEGER NOT NULL DEFAULT 0, -- removed from the archive
	source_pos TEXT,                   -- where it was first read
	ingested_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX message_thread ON message(thread_id, id);
CREATE INDEX message_norm_title ON message(norm_title);

-- Every Message-ID a message names in In-Reply-To or References.
CREATE TABLE message_ref (
	message_id INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
	ref TEXT NOT NULL,
	pos INTEGER NOT NULL,
	PRIMARY KEY (message_id, ref)
) STRICT, WITHOUT ROWID;
CREATE INDEX message_ref_ref ON message_ref(ref);

-- Copies of a Message-ID whose content differed from the stored one.
CREATE TABLE message_conflict (
	id INTEGER PRIMARY KEY,
	msgid TEXT NOT NULL,
	blob_oid TEXT NOT NULL,
	source_pos TEXT,
	seen_ms INTEGER NOT NULL,
	UNIQUE (msgid, blob_oid)
) STRICT;

CREATE TABLE source_cursor (
	key TEXT PRIMARY KEY,
	cursor TEXT NOT NULL,
	updated_ms INTEGER NOT NULL
) STRICT;

-- One row per series revision (v1, v2, ... of one series are rows
-- linked through prev_version).
CREATE TABLE series (
	id INTEGER PRIMARY KEY,
	thread_id INTEGER NOT NULL,
	version INTEGER NOT NULL,
	total INTEGER NOT NULL,
	subject TEXT NOT NULL,            -- title of the cover, else patch 1
	norm_title TEXT NOT NULL,
	cover_msgid TEXT,
	complete INTEGER NOT NULL,
	stalled INTEGER NOT NULL DEFAULT 0,
	partial_reroll INTEGER NOT NULL DEFAULT 0,
	rfc INTEGER NOT NULL DEFAULT 0,
	resend INTEGER NOT NULL DEFAULT 0,
	tags TEXT NOT NULL DEFAULT '',
	author TEXT,
	author_addr TEXT,
	change_id TEXT,
	base_commit TEXT,
	first_ms INTEGER,
	newest_ms INTEGER,
	prev_version INTEGER REFERENCES series(id) ON DELETE SET NULL,
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX series_thread ON series(thread_id);
CREATE INDEX series_lineage ON series(author_addr, norm_title);
CREATE INDEX series_change_id ON series(change_id);

CREATE TABLE series_patch (
	series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
	idx INTEGER NOT NULL,             -- 1..total
	msgid TEXT NOT NULL,
	from_revision INTEGER,            -- partial reroll: slot filled from vK
	PRIMARY KEY (series_id, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX series_patch_msgid ON series_patch(msgid);

-- Threads whose series must be assembled again; written in the same
-- transaction as the messages that changed them, so a crash between
-- ingestion and assembly is repaired by the next run.
CREATE TABLE thread_dirty (
	thread_id INTEGER PRIMARY KEY
) STRICT;
