-- Versions are found by STIX id through the objects rows, not the entries:
-- the id is a random UUID, so each row of an index keyed by it lands on a
-- random page, which a large import then writes back to the WAL at every
-- commit. Keyed per objects row it is one such insert per object version,
-- however many collections (its own, "all", "ips" ...) hold the version,
-- instead of one per entry; from an objects row to its entry in a
-- collection is entries_object (object, collection), whose keys grow with
-- the rowid.
--
-- The one-version-per-collection rule the dropped UNIQUE index checked
-- is kept by the writer, which reads the versions a collection holds of
-- each object before it adds any (adder.preload, under the write lock).
CREATE INDEX objects_stix_id ON objects (stix_id, version);
DROP INDEX entries_object_version;
