-- Deletions from the API root's collections since its filter collections
-- were last pruned (store.Store.PrunesDue); 0 when none is due. Kept in
-- the deleting transaction, so that a restart forgets no prune.
ALTER TABLE api_roots ADD COLUMN prune_due INTEGER NOT NULL DEFAULT 0;
