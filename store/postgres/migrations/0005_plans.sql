-- Plans, key limits, shared rate buckets and the activity record
-- (store.Plan, store.Key, store.Store.TakeToken, store.Activity).
ALTER TABLE keys ADD COLUMN plan text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN expires timestamptz; -- NULL for never
ALTER TABLE keys ADD COLUMN allow_ips text[] NOT NULL DEFAULT '{}';

CREATE TABLE plans (
	name     text COLLATE "C" PRIMARY KEY,
	rate     integer NOT NULL,
	period   bigint NOT NULL, -- µs
	burst    integer NOT NULL,
	apis     text[] NOT NULL,
	max_page integer NOT NULL,
	min_poll bigint NOT NULL, -- µs
	created  timestamptz NOT NULL
);

-- One row per bucket: its theoretical arrival time (µs since the epoch).
-- A row whose tat has passed is the same as no row. Every replica updates
-- the same row, so the limit holds across replicas exactly. UNLOGGED: an
-- admission is then not a WAL flush, and a crash only forgets recent
-- admissions, which at worst lets a key have a fresh burst.
CREATE UNLOGGED TABLE rate_buckets (
	bucket text COLLATE "C" PRIMARY KEY,
	tat    bigint NOT NULL
);

-- Totals per key and collection; times in µs since the epoch, 0 for none.
CREATE TABLE activity (
	key                  text COLLATE "C" NOT NULL,
	collection           text COLLATE "C" NOT NULL,
	first                bigint NOT NULL,
	last                 bigint NOT NULL,
	requests             bigint NOT NULL,
	polls                bigint NOT NULL,
	last_poll            bigint NOT NULL,
	objects              bigint NOT NULL,
	bytes                bigint NOT NULL,
	last_added_after     bigint NOT NULL,
	last_date_added_last bigint NOT NULL,
	PRIMARY KEY (key, collection)
);

CREATE TABLE activity_errors (
	key        text COLLATE "C" NOT NULL,
	collection text COLLATE "C" NOT NULL,
	status     integer NOT NULL,
	count      bigint NOT NULL,
	PRIMARY KEY (key, collection, status)
);

-- Counts per hour (µs of the hour's start), kept store.ActivityRetention.
CREATE TABLE activity_hours (
	key        text COLLATE "C" NOT NULL,
	collection text COLLATE "C" NOT NULL,
	hour       bigint NOT NULL,
	requests   bigint NOT NULL,
	polls      bigint NOT NULL,
	objects    bigint NOT NULL,
	PRIMARY KEY (key, collection, hour)
);
CREATE INDEX activity_hours_hour ON activity_hours (hour);
