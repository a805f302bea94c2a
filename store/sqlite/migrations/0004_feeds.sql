-- Scheduled pulls (store.Feed). Secrets are kept in clear: the server must
-- present them unattended (see store.Feed).
CREATE TABLE feeds (
	name             TEXT PRIMARY KEY,
	kind             TEXT NOT NULL,
	url              TEXT NOT NULL,
	collection       INTEGER NOT NULL REFERENCES collections (seq) ON DELETE CASCADE,
	taxii_collection TEXT NOT NULL,
	username         TEXT NOT NULL,
	password         TEXT NOT NULL,
	token            TEXT NOT NULL,
	every            INTEGER NOT NULL, -- ns
	list             TEXT NOT NULL,    -- JSON store.FeedList
	insecure         INTEGER NOT NULL,
	created          INTEGER NOT NULL, -- µs
	next_run         INTEGER NOT NULL, -- µs; 0 for at once
	-- The high-water mark.
	added_after      INTEGER NOT NULL, -- µs; 0 for none
	etag             TEXT NOT NULL,
	last_modified    TEXT NOT NULL,
	-- The lease a runner holds while it runs the feed; 0 when free.
	lease_until      INTEGER NOT NULL
);

-- One row per finished run; seq orders them.
CREATE TABLE feed_runs (
	seq         INTEGER PRIMARY KEY,
	feed        TEXT NOT NULL REFERENCES feeds (name) ON DELETE CASCADE,
	started     INTEGER NOT NULL,
	ended       INTEGER NOT NULL,
	read        INTEGER NOT NULL,
	added       INTEGER NOT NULL,
	duplicates  INTEGER NOT NULL,
	rejected    INTEGER NOT NULL,
	revoked     INTEGER NOT NULL,
	not_changed INTEGER NOT NULL,
	error       TEXT NOT NULL
);
CREATE INDEX feed_runs_feed ON feed_runs (feed, seq);
