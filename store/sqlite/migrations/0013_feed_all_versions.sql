-- 1 for a TAXII feed that mirrors every version (match[version]=all).
ALTER TABLE feeds ADD COLUMN all_versions INTEGER NOT NULL DEFAULT 0;
