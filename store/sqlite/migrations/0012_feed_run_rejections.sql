-- The first rejections of a feed run (store.MaxRunRejections), as a JSON
-- list of {where, id, reason}.
ALTER TABLE feed_runs ADD COLUMN rejections TEXT NOT NULL DEFAULT '[]';
