-- Webhooks (store.Webhook) and their delivery state. The secret is kept in
-- clear: every delivery is signed with it.
CREATE TABLE webhooks (
	id            TEXT PRIMARY KEY,
	collection    INTEGER NOT NULL REFERENCES collections (seq) ON DELETE CASCADE,
	url           TEXT NOT NULL,
	secret        TEXT NOT NULL,
	batch_size    INTEGER NOT NULL,
	max_wait      INTEGER NOT NULL, -- ns
	created       INTEGER NOT NULL, -- µs
	-- store.WebhookState; times in µs, 0 for none.
	cursor        INTEGER NOT NULL,
	pending_last  INTEGER NOT NULL,
	failures      INTEGER NOT NULL,
	failing_since INTEGER NOT NULL,
	next_attempt  INTEGER NOT NULL,
	last_error    TEXT NOT NULL,
	paused        INTEGER NOT NULL,
	paused_reason TEXT NOT NULL,
	-- The lease of the process delivering the webhook; '' and 0 when free.
	lease_holder  TEXT NOT NULL,
	lease_until   INTEGER NOT NULL
);
CREATE INDEX webhooks_collection ON webhooks (collection);

-- The delivery log: the newest store.WebhookLogSize attempts per webhook.
CREATE TABLE webhook_attempts (
	webhook  TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	seq      INTEGER NOT NULL,
	delivery TEXT NOT NULL,
	time     INTEGER NOT NULL, -- µs
	objects  INTEGER NOT NULL,
	status   INTEGER NOT NULL,
	latency  INTEGER NOT NULL, -- ns
	error    TEXT NOT NULL,
	PRIMARY KEY (webhook, seq)
) WITHOUT ROWID;
