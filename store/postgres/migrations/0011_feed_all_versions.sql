-- A TAXII feed that mirrors every version (match[version]=all).
ALTER TABLE feeds ADD COLUMN all_versions boolean NOT NULL DEFAULT false;
