-- The IOC index (see store.IOC): one row per observable of the current
-- version of each indicator and vulnerability of a collection, keyed by its
-- entry's date_added and its position in the version's observables, which
-- is also the order of listings. Like entries, rows have no foreign keys;
-- the writers that delete entries delete their rows.
CREATE TABLE iocs (
	collection  bigint NOT NULL, -- collections.seq
	date_added  bigint NOT NULL, -- of the entry
	ordinal     integer NOT NULL,
	stix_id     text COLLATE "C" NOT NULL,
	object      bigint NOT NULL, -- objects.rid, ioc_meta.object
	type        text COLLATE "C" NOT NULL,
	value       text COLLATE "C" NOT NULL,
	-- cidr rows only: the prefix length and network address in the IPv6
	-- space, IPv4 blocks mapped to ::ffff:0:0/96 (plen 96 + bits); lookups
	-- of an address probe each prefix length the collection holds.
	plen        smallint,
	net         bytea,
	confidence  integer,         -- NULL when absent
	valid_until bigint NOT NULL, -- µs; 0 for none
	revoked     boolean NOT NULL,
	-- Listings in (date_added, ordinal) order.
	PRIMARY KEY (collection, date_added, ordinal)
);

-- Listings by type.
CREATE INDEX iocs_type ON iocs (collection, type, date_added, ordinal);
-- Lookups of exact values. The value is indexed through its MD5, as a
-- B-tree entry must fit in a third of a page and URLs can be longer.
CREATE INDEX iocs_value ON iocs (collection, type, md5(value));
-- Lookups of addresses in blocks.
CREATE INDEX iocs_cidr ON iocs (collection, plen, net) WHERE plen IS NOT NULL;
-- Replacing an object's rows when a newer version arrives.
CREATE INDEX iocs_object ON iocs (collection, stix_id);

-- What listings show of an indicator version, once per objects row
-- however many collections and observables refer to it.
CREATE TABLE ioc_meta (
	object      bigint PRIMARY KEY REFERENCES objects (rid) ON DELETE CASCADE,
	name        text NOT NULL,
	description text NOT NULL,
	threat_type text NOT NULL,
	labels      text[] NOT NULL,
	tlp         text NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	valid_from  bigint NOT NULL, -- µs; 0 for none
	created     text NOT NULL,
	modified    text NOT NULL,
	version     text COLLATE "C" NOT NULL -- as entries.version
);

-- The name of each identity, from its latest version, so that a listing
-- names an indicator's source with a join instead of a query per row.
CREATE TABLE identity_names (
	stix_id text COLLATE "C" PRIMARY KEY,
	version text COLLATE "C" NOT NULL,
	name    text NOT NULL
);
