-- The collection an add request wrote to, so that its status is shown only
-- to keys that may see that collection; '' for statuses stored before.
ALTER TABLE statuses ADD COLUMN collection TEXT NOT NULL DEFAULT '';
