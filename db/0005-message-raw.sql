-- Raw message bytes move to their own table.  In the message row the
-- blob sat before most columns, so reading any later column (thread_id,
-- subject, ...) walked the blob's overflow pages, and every UPDATE of
-- the row (thread_id is set right after each insert, and again when
-- threads merge) rewrote the whole blob.  Rows are now small and the
-- blob is written once, zstd-compressed when that is smaller.
CREATE TABLE message_raw (
	message_id INTEGER PRIMARY KEY REFERENCES message(id) ON DELETE CASCADE,
	codec INTEGER NOT NULL DEFAULT 0,  -- 0: as received, 1: zstd frame
	raw BLOB NOT NULL                  -- the message (see codec)
) STRICT;
INSERT INTO message_raw(message_id, raw) SELECT id, raw FROM message;
ALTER TABLE message DROP COLUMN raw;
