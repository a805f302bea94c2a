-- Deletions from the API root's collections since its filter collections
-- were last pruned (store.Store.PrunesDue); 0 when none is due. Kept in
-- the deleting transaction, so that neither a restart nor another
-- replica forgets a prune.
ALTER TABLE api_roots ADD COLUMN prune_due bigint NOT NULL DEFAULT 0;
