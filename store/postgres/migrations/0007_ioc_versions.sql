-- The IOC index becomes one set of rows per object version (objects.rid),
-- written once when the objects row is inserted, however many collections
-- hold that version, and deleted with the objects row (deleteOrphans).
-- Which rows a collection shows is decided when it is read: those of the
-- versions its entries hold with is_last AND latest_spec, the version a
-- poll without match[version] or match[spec_version] returns. Listings walk
-- entries_current and join iocs by object, taking date_added from the
-- entry, so cursors keep their meaning; lookups go from iocs_value or
-- iocs_cidr to entries_object. A filter collection's copy of a version is
-- one entries row more, no IOC rows.
--
-- Before, rows were kept per collection entry, and only for the current
-- version. The rows of those versions are kept below; the versions that
-- have none yet (older ones, which become current when a newer one is
-- deleted) are indexed by Go code run in the same transaction as this file
-- (see goMigrations), which reads the versions that have no ioc_meta row.
ALTER TABLE iocs RENAME TO iocs_by_entry;
ALTER INDEX iocs_pkey RENAME TO iocs_by_entry_pkey;
DROP INDEX iocs_type;
DROP INDEX iocs_value;
DROP INDEX iocs_cidr;

CREATE TABLE iocs (
	object      bigint NOT NULL, -- objects.rid, ioc_meta.object
	ordinal     integer NOT NULL, -- position in the version's observables
	type        text COLLATE "C" NOT NULL,
	value       text COLLATE "C" NOT NULL,
	-- cidr rows only: the prefix length and network address in the IPv6
	-- space, IPv4 blocks mapped to ::ffff:0:0/96 (plen 96 + bits); lookups
	-- of an address probe each prefix length the index holds.
	plen        smallint,
	net         bytea,
	confidence  integer,         -- NULL when absent
	valid_until bigint NOT NULL, -- µs; 0 for none
	revoked     boolean NOT NULL,
	-- Rows are appended in rid order, so this index grows at its right
	-- edge, and a listing completes each entry of a page with one probe.
	PRIMARY KEY (object, ordinal)
);

INSERT INTO iocs (object, ordinal, type, value, plen, net, confidence, valid_until, revoked)
	SELECT DISTINCT ON (object, ordinal) object, ordinal, type, value, plen, net, confidence, valid_until, revoked
	FROM iocs_by_entry ORDER BY object, ordinal;
DROP TABLE iocs_by_entry;

-- Lookups of exact values. The value is indexed through its MD5, as a
-- B-tree entry must fit in a third of a page and URLs can be longer.
CREATE INDEX iocs_value ON iocs (type, md5(value));
-- Lookups of addresses in blocks.
CREATE INDEX iocs_cidr ON iocs (plen, net) WHERE plen IS NOT NULL;

-- A lookup goes from a version's rows to the entries that hold it in one
-- collection; orphan detection uses the prefix.
DROP INDEX entries_object;
CREATE INDEX entries_object ON entries (object, collection);
