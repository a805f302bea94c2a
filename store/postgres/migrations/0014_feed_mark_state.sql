-- What a feed keeps beside its mark (store.FeedMark.State): for a MISP
-- feed, the events it imported and the timestamp of each.
ALTER TABLE feeds ADD COLUMN mark_state text NOT NULL DEFAULT '';
