-- The IOC index belongs to object versions: one row per observable of each
-- objects row of an indicator or vulnerability, written when the row is,
-- however many collections hold that version, and deleted with it. Which
-- version of an object a collection shows is decided when reading, by the
-- collection's entry of that row: an IOC row is visible in a collection
-- when an entry of the collection refers to its objects row with
-- is_last = 1 AND latest_spec = 1, the default TAXII view. Listings walk
-- the collection's current entries (entries_current) in date_added order,
-- which stays the cursor; lookups go from a value to its objects rows and
-- from each to its entry in the collection.
--
-- Rows of the current versions are carried over here; versions that had
-- none (superseded ones) get theirs from the objects rows, in Go, in the
-- same transaction (see migrationSteps).
ALTER TABLE iocs RENAME TO iocs_0006;
DROP INDEX iocs_list;
DROP INDEX iocs_type;
DROP INDEX iocs_value;
DROP INDEX iocs_cidr;

CREATE TABLE iocs (
	object      INTEGER NOT NULL REFERENCES objects (rid) ON DELETE CASCADE,
	ordinal     INTEGER NOT NULL, -- position in the version's observables, the order of listings
	type        TEXT NOT NULL,
	value       TEXT NOT NULL,
	-- cidr rows only: the prefix length and network address in the IPv6
	-- space, IPv4 blocks mapped to ::ffff:0:0/96 (plen 96 + bits); lookups
	-- of an address probe each prefix length the index holds.
	plen        INTEGER,
	net         BLOB,
	confidence  INTEGER,          -- NULL when absent
	valid_until INTEGER NOT NULL, -- µs; 0 for none
	revoked     INTEGER NOT NULL,
	PRIMARY KEY (object, ordinal)
) WITHOUT ROWID;

INSERT OR IGNORE INTO iocs (object, ordinal, type, value, plen, net, confidence, valid_until, revoked)
	SELECT object, ordinal, type, value, plen, net, confidence, valid_until, revoked FROM iocs_0006;
DROP TABLE iocs_0006;

-- Lookups of exact values.
CREATE INDEX iocs_value ON iocs (type, value);
-- Lookups of addresses in blocks.
CREATE INDEX iocs_cidr ON iocs (plen, net) WHERE plen IS NOT NULL;

-- From an IOC row's objects row to its entry in the collection looked in;
-- still serves the cascade from objects and finding orphaned rows.
DROP INDEX entries_object;
CREATE INDEX entries_object ON entries (object, collection);
