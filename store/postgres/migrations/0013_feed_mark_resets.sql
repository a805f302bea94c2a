-- How many times a feed's mark was reset (store.FeedMark.Resets), so that
-- a run that ends after a reset does not put back the mark it reached.
ALTER TABLE feeds ADD COLUMN mark_resets bigint NOT NULL DEFAULT 0;
