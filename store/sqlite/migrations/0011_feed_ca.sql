-- PEM certificates a feed's source must chain to, instead of the system
-- roots; '' for the system roots.
ALTER TABLE feeds ADD COLUMN ca TEXT NOT NULL DEFAULT '';
