-- The PEM client certificate and key a feed presents to a source that
-- asks for one (mutual TLS); '' for none.
ALTER TABLE feeds ADD COLUMN client_cert TEXT NOT NULL DEFAULT '';
ALTER TABLE feeds ADD COLUMN client_key TEXT NOT NULL DEFAULT '';
