-- Times are integers: microseconds since the Unix epoch (TAXII timestamps
-- carry microseconds), except object versions, which are nanoseconds so that
-- STIX timestamps with finer fractions still compare as instants.

CREATE TABLE api_roots (
	name               TEXT PRIMARY KEY,
	title              TEXT NOT NULL,
	description        TEXT NOT NULL,
	max_content_length INTEGER NOT NULL,
	is_default         INTEGER NOT NULL,
	created            INTEGER NOT NULL
);

-- seq gives the creation order that Collections lists by, and is the small
-- key entries refer to.
CREATE TABLE collections (
	seq         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	api_root    TEXT NOT NULL REFERENCES api_roots (name),
	alias       TEXT, -- NULL for none, so that UNIQUE ignores it
	title       TEXT NOT NULL,
	description TEXT NOT NULL,
	public      INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	filter      TEXT NOT NULL,
	created     INTEGER NOT NULL,
	UNIQUE (api_root, alias)
);

-- One row per object version received, holding the exact bytes. A row may be
-- referenced by entries of several collections; it is deleted with the last
-- entry that refers to it.
CREATE TABLE objects (
	rid          INTEGER PRIMARY KEY,
	stix_id      TEXT NOT NULL,
	type         TEXT NOT NULL,
	spec_version TEXT NOT NULL,
	version      INTEGER NOT NULL, -- ns; 0 for unversioned objects
	created      TEXT NOT NULL,    -- as received; '' when absent
	modified     TEXT NOT NULL,
	revoked      INTEGER NOT NULL,
	raw          TEXT NOT NULL
);

-- Collection membership. date_added (µs) is unique store-wide, so it is the
-- rowid, and the keyset of every page. The object's filter columns are copied
-- here so that pages never need the objects row to decide what to return.
--
-- Flags, kept right on every insert and delete:
--   latest_spec: spec_version is the greatest of the object's versions in
--     this collection (what a request without match[spec_version] returns);
--   is_first / is_last: the earliest / latest version among the object's
--     versions in this collection that share this spec_version.
CREATE TABLE entries (
	date_added   INTEGER PRIMARY KEY,
	collection   INTEGER NOT NULL REFERENCES collections (seq) ON DELETE CASCADE,
	object       INTEGER NOT NULL REFERENCES objects (rid) ON DELETE CASCADE,
	stix_id      TEXT NOT NULL,
	type         TEXT NOT NULL,
	spec_version TEXT NOT NULL,
	version      INTEGER NOT NULL,
	latest_spec  INTEGER NOT NULL,
	is_first     INTEGER NOT NULL,
	is_last      INTEGER NOT NULL
);

-- Duplicate detection, match[id], version flags upkeep, DeleteObject.
CREATE UNIQUE INDEX entries_object_version ON entries (collection, stix_id, version);
-- Pages of every version (match[version]=all|first|<timestamp>).
CREATE INDEX entries_collection ON entries (collection, date_added);
-- Pages of the default view (latest version of the newest spec_version), so
-- that old versions are never scanned and skipped.
CREATE INDEX entries_current ON entries (collection, date_added) WHERE is_last = 1 AND latest_spec = 1;
-- match[type].
CREATE INDEX entries_type ON entries (collection, type, date_added);
-- Deleting an objects row (cascade) and finding orphaned ones.
CREATE INDEX entries_object ON entries (object);

-- The greatest date_added ever assigned. Entries can be deleted, so the next
-- date_added cannot be derived from the table without risking reuse of a
-- value a poller has already passed.
CREATE TABLE clock (
	id              INTEGER PRIMARY KEY CHECK (id = 1),
	last_date_added INTEGER NOT NULL
);
INSERT INTO clock (id, last_date_added) VALUES (1, 0);

CREATE TABLE statuses (
	id                TEXT PRIMARY KEY,
	api_root          TEXT NOT NULL,
	request_timestamp INTEGER NOT NULL,
	status            TEXT NOT NULL,
	total             INTEGER NOT NULL,
	successes         TEXT NOT NULL, -- JSON list of [id, version, message]
	failures          TEXT NOT NULL,
	pendings          TEXT NOT NULL
);
CREATE INDEX statuses_request_timestamp ON statuses (request_timestamp);

CREATE TABLE keys (
	name      TEXT PRIMARY KEY,
	id        TEXT UNIQUE, -- NULL when the caller gave none
	hash      BLOB NOT NULL UNIQUE,
	admin     INTEGER NOT NULL,
	read_ids  TEXT NOT NULL, -- JSON list of collection ids
	write_ids TEXT NOT NULL,
	created   INTEGER NOT NULL,
	revoked   INTEGER NOT NULL -- 0 while the key is valid
);
