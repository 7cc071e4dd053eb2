-- Reviews: the answer cache, stored reviews, their findings.

-- A model answer, keyed by a hash of the endpoint's model and the exact
-- request, so that repeating a review costs no tokens.
CREATE TABLE llm_cache (
	key TEXT PRIMARY KEY,
	model TEXT NOT NULL,
	answer TEXT NOT NULL,
	in_uncached INTEGER NOT NULL DEFAULT 0,
	cache_write INTEGER NOT NULL DEFAULT 0,
	cache_read INTEGER NOT NULL DEFAULT 0,
	out INTEGER NOT NULL DEFAULT 0,
	created_ms INTEGER NOT NULL
) STRICT;

-- One review of a series revision (kreview review) or of a local
-- series (kreview check stores nothing here).
CREATE TABLE review (
	id INTEGER PRIMARY KEY,
	series_id INTEGER REFERENCES series(id) ON DELETE SET NULL,
	prompt_hash TEXT NOT NULL,
	profile TEXT NOT NULL,
	runs INTEGER NOT NULL,
	endpoint TEXT NOT NULL,
	requests INTEGER NOT NULL,
	cached INTEGER NOT NULL,
	failed INTEGER NOT NULL,
	in_uncached INTEGER NOT NULL,
	cache_write INTEGER NOT NULL,
	cache_read INTEGER NOT NULL,
	out INTEGER NOT NULL,
	cost_usd REAL NOT NULL,
	notes TEXT NOT NULL DEFAULT '',
	started_ms INTEGER NOT NULL,
	finished_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX review_series ON review(series_id);

CREATE TABLE review_finding (
	id INTEGER PRIMARY KEY,
	review_id INTEGER NOT NULL REFERENCES review(id) ON DELETE CASCADE,
	patch INTEGER NOT NULL,
	msgid TEXT,
	fingerprint TEXT NOT NULL,
	file TEXT NOT NULL,
	line INTEGER NOT NULL,
	end_line INTEGER NOT NULL,
	function TEXT NOT NULL,
	category TEXT NOT NULL,
	severity TEXT NOT NULL CHECK (severity IN ('critical','high','medium','low')),
	confidence REAL NOT NULL,
	support INTEGER NOT NULL,
	runs INTEGER NOT NULL,
	verdict TEXT NOT NULL CHECK (verdict IN ('confirmed','refuted','unverified')),
	verdict_reason TEXT,
	pre_existing INTEGER NOT NULL,
	reported INTEGER NOT NULL,
	dropped TEXT,
	title TEXT NOT NULL,
	explanation TEXT NOT NULL,
	evidence TEXT NOT NULL
) STRICT;
CREATE INDEX review_finding_review ON review_finding(review_id);
CREATE INDEX review_finding_fingerprint ON review_finding(fingerprint);

-- Local settings kreview keeps for itself, e.g. the secret from which
-- prompt fence tokens are derived (so cached answers stay usable while
-- patch authors still cannot know the token).
CREATE TABLE setting (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
