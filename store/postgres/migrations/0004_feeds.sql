-- Scheduled pulls (store.Feed). Secrets are kept in clear: the server must
-- present them unattended (see store.Feed).
CREATE TABLE feeds (
	name             text COLLATE "C" PRIMARY KEY,
	kind             text NOT NULL,
	url              text NOT NULL,
	collection       bigint NOT NULL REFERENCES collections (seq) ON DELETE CASCADE,
	taxii_collection text NOT NULL,
	username         text NOT NULL,
	password         text NOT NULL,
	token            text NOT NULL,
	every            bigint NOT NULL, -- ns
	list             jsonb NOT NULL,  -- store.FeedList
	insecure         boolean NOT NULL,
	created          timestamptz NOT NULL,
	next_run         timestamptz,     -- NULL for at once
	-- The high-water mark.
	added_after      timestamptz,     -- NULL for none
	etag             text NOT NULL,
	last_modified    text NOT NULL,
	-- The lease a runner holds while it runs the feed; NULL when free.
	-- Replicas claim with a conditional UPDATE, so one runs a feed at a time.
	lease_until      timestamptz
);

-- One row per finished run; seq orders them.
CREATE TABLE feed_runs (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	feed        text COLLATE "C" NOT NULL REFERENCES feeds (name) ON DELETE CASCADE,
	started     timestamptz NOT NULL,
	ended       timestamptz NOT NULL,
	read        integer NOT NULL,
	added       integer NOT NULL,
	duplicates  integer NOT NULL,
	rejected    integer NOT NULL,
	revoked     integer NOT NULL,
	not_changed boolean NOT NULL,
	error       text NOT NULL
);
CREATE INDEX feed_runs_feed ON feed_runs (feed, seq);
