-- Plans, key limits, shared rate buckets and the activity record
-- (store.Plan, store.Key, store.Store.TakeToken, store.Activity).
ALTER TABLE keys ADD COLUMN plan TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN expires INTEGER NOT NULL DEFAULT 0; -- µs; 0 for never
ALTER TABLE keys ADD COLUMN allow_ips TEXT NOT NULL DEFAULT '[]'; -- JSON list

CREATE TABLE plans (
	name        TEXT PRIMARY KEY,
	rate        INTEGER NOT NULL,
	period      INTEGER NOT NULL, -- µs
	burst       INTEGER NOT NULL,
	apis        TEXT NOT NULL,    -- JSON list
	max_page    INTEGER NOT NULL,
	min_poll    INTEGER NOT NULL, -- µs
	created     INTEGER NOT NULL
);

-- One row per bucket: its theoretical arrival time (µs). A row whose tat
-- has passed is the same as no row.
CREATE TABLE rate_buckets (
	bucket TEXT PRIMARY KEY,
	tat    INTEGER NOT NULL
) WITHOUT ROWID;

-- Totals per key and collection; times in µs, 0 for none.
CREATE TABLE activity (
	key                  TEXT NOT NULL,
	collection           TEXT NOT NULL,
	first                INTEGER NOT NULL,
	last                 INTEGER NOT NULL,
	requests             INTEGER NOT NULL,
	polls                INTEGER NOT NULL,
	last_poll            INTEGER NOT NULL,
	objects              INTEGER NOT NULL,
	bytes                INTEGER NOT NULL,
	last_added_after     INTEGER NOT NULL,
	last_date_added_last INTEGER NOT NULL,
	PRIMARY KEY (key, collection)
) WITHOUT ROWID;

CREATE TABLE activity_errors (
	key        TEXT NOT NULL,
	collection TEXT NOT NULL,
	status     INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	PRIMARY KEY (key, collection, status)
) WITHOUT ROWID;

-- Counts per hour (µs of the hour's start), kept store.ActivityRetention.
CREATE TABLE activity_hours (
	key        TEXT NOT NULL,
	collection TEXT NOT NULL,
	hour       INTEGER NOT NULL,
	requests   INTEGER NOT NULL,
	polls      INTEGER NOT NULL,
	objects    INTEGER NOT NULL,
	PRIMARY KEY (key, collection, hour)
) WITHOUT ROWID;
CREATE INDEX activity_hours_hour ON activity_hours (hour);
