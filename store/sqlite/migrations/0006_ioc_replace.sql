-- A new version's IOC rows replace those of the version it supersedes,
-- found by that entry's date_added (the primary key), not by object id:
-- one index less to keep up on every insert.
DROP INDEX iocs_object;
