-- The default view's index carries the objects row key, so that a page of
-- the default view (what most polls read) goes from the index straight to
-- the objects rows, without a lookup of each entries row by date_added
-- (the rowid, which every index holds already).
--
-- entries_collection gets the same column: without statistics SQLite
-- prices a non-covering index by its width, and a wider entries_current
-- alone would lose to entries_collection in the plans that need the entries
-- row anyway (the IOC listing), which would then walk old versions too.
DROP INDEX entries_current;
DROP INDEX entries_collection;
CREATE INDEX entries_collection ON entries (collection, date_added, object);
CREATE INDEX entries_current ON entries (collection, date_added, object) WHERE is_last = 1 AND latest_spec = 1;
