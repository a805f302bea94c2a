-- How many of a run's added versions are new versions of objects the
-- collection held already; 0 for runs recorded before.
ALTER TABLE feed_runs ADD COLUMN new_versions INTEGER NOT NULL DEFAULT 0;
