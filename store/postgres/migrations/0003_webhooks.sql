-- Webhooks (store.Webhook) and their delivery state. The secret is kept in
-- clear: every delivery is signed with it.
CREATE TABLE webhooks (
	id            text COLLATE "C" PRIMARY KEY,
	collection    bigint NOT NULL REFERENCES collections (seq) ON DELETE CASCADE,
	url           text NOT NULL,
	secret        text NOT NULL,
	batch_size    integer NOT NULL,
	max_wait      bigint NOT NULL, -- ns
	created       timestamptz NOT NULL,
	-- store.WebhookState; date_added cursors in µs as entries.date_added,
	-- other times NULL for none.
	cursor        bigint NOT NULL,
	pending_last  bigint NOT NULL,
	failures      integer NOT NULL,
	failing_since timestamptz,
	next_attempt  timestamptz,
	last_error    text NOT NULL,
	paused        boolean NOT NULL,
	paused_reason text NOT NULL,
	-- The lease of the process delivering the webhook; '' and NULL when
	-- free. Only its holder extends it; another process takes it once it
	-- has expired, so one replica at a time delivers each webhook.
	lease_holder  text NOT NULL,
	lease_until   timestamptz
);
CREATE INDEX webhooks_collection ON webhooks (collection);

-- The delivery log: the newest store.WebhookLogSize attempts per webhook.
CREATE TABLE webhook_attempts (
	webhook  text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	seq      bigint NOT NULL,
	delivery text NOT NULL,
	time     timestamptz NOT NULL,
	objects  integer NOT NULL,
	status   integer NOT NULL,
	latency  bigint NOT NULL, -- ns
	error    text NOT NULL,
	PRIMARY KEY (webhook, seq)
);
