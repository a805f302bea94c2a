-- Text that is compared or ordered uses COLLATE "C" (byte order), so that
-- names, ids and timestamps sort as Go strings do, whatever the database's
-- locale.
--
-- date_added is an integer: microseconds since the Unix epoch (TAXII
-- timestamps carry microseconds). Object versions are text of a fixed width,
-- "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" in UTC, so that they order as instants and
-- keep STIX fractions finer than a microsecond exactly.

CREATE TABLE api_roots (
	name               text COLLATE "C" PRIMARY KEY,
	title              text NOT NULL,
	description        text NOT NULL,
	max_content_length bigint NOT NULL,
	is_default         boolean NOT NULL,
	created            timestamptz NOT NULL
);

-- seq gives the creation order that Collections lists by, and is the small
-- key entries refer to.
CREATE TABLE collections (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id          text COLLATE "C" NOT NULL UNIQUE,
	api_root    text COLLATE "C" NOT NULL REFERENCES api_roots (name),
	alias       text COLLATE "C", -- NULL for none, so that UNIQUE ignores it
	title       text NOT NULL,
	description text NOT NULL,
	public      boolean NOT NULL,
	kind        text NOT NULL,
	filter      text NOT NULL,
	created     timestamptz NOT NULL,
	UNIQUE (api_root, alias)
);

-- One row per distinct object version received, holding the exact bytes
-- (bytea, not jsonb: jsonb reorders keys and drops whitespace). digest is
-- SHA-256 over every stored column, so the same version added to several
-- collections is kept once, while a different body under the same id and
-- version is kept apart. A row is deleted with the last entry that refers
-- to it.
CREATE TABLE objects (
	rid          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	digest       bytea NOT NULL UNIQUE,
	stix_id      text COLLATE "C" NOT NULL,
	type         text COLLATE "C" NOT NULL,
	spec_version text COLLATE "C" NOT NULL,
	created      text NOT NULL, -- as received; '' when absent
	modified     text NOT NULL,
	revoked      boolean NOT NULL,
	raw          bytea NOT NULL
);

-- Collection membership. date_added is unique store-wide (the clock below
-- assigns it) and is the keyset of every page. The primary key leads with
-- the collection, so that no index ordered by date_added alone tempts the
-- planner to walk every collection's entries to fill a page of one. The
-- object's filter columns are copied here so that pages decide what to
-- return from entries alone.
--
-- collection and object have no FOREIGN KEY: their per-row triggers doubled
-- the cost of inserting entries. The writers' locks keep them valid instead:
-- AddObjects holds a KEY SHARE lock on the collection row and on every
-- existing objects row it refers to (the rows it inserts are its own until
-- it commits), while DeleteCollection locks the collection row FOR UPDATE,
-- and an orphaned objects row is deleted only once locked and then found
-- unreferenced (deleteOrphans).
--
-- Flags, kept right on every insert and delete:
--   latest_spec: spec_version is the greatest of the object's versions in
--     this collection (what a request without match[spec_version] returns);
--   is_first / is_last: the earliest / latest version among the object's
--     versions in this collection that share this spec_version.
CREATE TABLE entries (
	collection   bigint NOT NULL, -- collections.seq
	date_added   bigint NOT NULL,
	object       bigint NOT NULL, -- objects.rid
	stix_id      text COLLATE "C" NOT NULL,
	type         text COLLATE "C" NOT NULL,
	spec_version text COLLATE "C" NOT NULL,
	version      text COLLATE "C" NOT NULL,
	latest_spec  boolean NOT NULL,
	is_first     boolean NOT NULL,
	is_last      boolean NOT NULL,
	-- Pages of every version (match[version]=all|first|<timestamp>).
	PRIMARY KEY (collection, date_added)
);

-- Duplicate detection, match[id], flag upkeep, DeleteObject.
CREATE UNIQUE INDEX entries_object_version ON entries (collection, stix_id, version);
-- Pages of the default view (latest version of the newest spec_version), so
-- that a poll never scans and skips superseded versions.
CREATE INDEX entries_current ON entries (collection, date_added) WHERE is_last AND latest_spec;
-- match[type].
CREATE INDEX entries_type ON entries (collection, type, date_added);
-- Orphan detection when entries are deleted.
CREATE INDEX entries_object ON entries (object);

-- The greatest date_added ever assigned. Every transaction that adds or
-- deletes entries of an object locks this row (SELECT ... FOR UPDATE) before
-- it reads anything it decides on, which serialises those writers across
-- every process sharing the database; see DB.AddObjects.
-- Entries can be deleted, so the next date_added cannot be derived from the
-- table without risking reuse of a value a poller has already passed.
CREATE TABLE clock (
	id              integer PRIMARY KEY CHECK (id = 1),
	last_date_added bigint NOT NULL
);
INSERT INTO clock (id, last_date_added) VALUES (1, 0);

CREATE TABLE statuses (
	id                text COLLATE "C" PRIMARY KEY,
	api_root          text COLLATE "C" NOT NULL,
	request_timestamp timestamptz NOT NULL,
	status            text NOT NULL,
	total             integer NOT NULL,
	successes         jsonb NOT NULL, -- list of {id, version, message}
	failures          jsonb NOT NULL,
	pendings          jsonb NOT NULL
);
CREATE INDEX statuses_request_timestamp ON statuses (request_timestamp);

CREATE TABLE keys (
	name      text COLLATE "C" PRIMARY KEY,
	id        text COLLATE "C" UNIQUE, -- NULL when the caller gave none
	hash      bytea NOT NULL UNIQUE,
	admin     boolean NOT NULL,
	read_ids  text[] NOT NULL,
	write_ids text[] NOT NULL,
	created   timestamptz NOT NULL,
	revoked   timestamptz -- NULL while the key is valid
);
