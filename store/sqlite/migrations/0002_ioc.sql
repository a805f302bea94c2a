-- The IOC index (see store.IOC): one row per observable of the current
-- version of each indicator and vulnerability of a collection. A row is
-- keyed by its entry's date_added, store-wide unique, and its position in
-- the version's observables, which is also the order of listings; deleting
-- the entry deletes its rows.
CREATE TABLE iocs (
	date_added  INTEGER NOT NULL REFERENCES entries (date_added) ON DELETE CASCADE,
	ordinal     INTEGER NOT NULL,
	collection  INTEGER NOT NULL,
	stix_id     TEXT NOT NULL,
	object      INTEGER NOT NULL, -- ioc_meta.object
	type        TEXT NOT NULL,
	value       TEXT NOT NULL,
	-- cidr rows only: the prefix length and network address in the IPv6
	-- space, IPv4 blocks mapped to ::ffff:0:0/96 (plen 96 + bits); lookups
	-- of an address probe each prefix length the collection holds.
	plen        INTEGER,
	net         BLOB,
	confidence  INTEGER,          -- NULL when absent
	valid_until INTEGER NOT NULL, -- µs; 0 for none
	revoked     INTEGER NOT NULL,
	PRIMARY KEY (date_added, ordinal)
) WITHOUT ROWID;

-- Listings, whole and by type, in (date_added, ordinal) order.
CREATE INDEX iocs_list ON iocs (collection, date_added, ordinal);
CREATE INDEX iocs_type ON iocs (collection, type, date_added, ordinal);
-- Lookups of exact values.
CREATE INDEX iocs_value ON iocs (collection, type, value);
-- Lookups of addresses in blocks.
CREATE INDEX iocs_cidr ON iocs (collection, plen, net) WHERE plen IS NOT NULL;
-- Replacing an object's rows when a newer version arrives.
CREATE INDEX iocs_object ON iocs (collection, stix_id);

-- What listings show of an indicator version, once per objects row
-- however many collections and observables refer to it.
CREATE TABLE ioc_meta (
	object      INTEGER PRIMARY KEY REFERENCES objects (rid) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL,
	threat_type TEXT NOT NULL,
	labels      TEXT NOT NULL, -- JSON list
	tlp         TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	valid_from  INTEGER NOT NULL, -- µs; 0 for none
	created     TEXT NOT NULL,
	modified    TEXT NOT NULL,
	version     INTEGER NOT NULL  -- ns, as objects.version
);

-- The name of each identity, from its latest version, so that a listing
-- names an indicator's source with a join instead of a query per row.
CREATE TABLE identity_names (
	stix_id TEXT PRIMARY KEY,
	version INTEGER NOT NULL,
	name    TEXT NOT NULL
) WITHOUT ROWID;
