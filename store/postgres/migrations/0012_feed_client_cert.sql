-- The PEM client certificate and key a feed presents to a source that
-- asks for one (mutual TLS); '' for none.
ALTER TABLE feeds ADD COLUMN client_cert text NOT NULL DEFAULT '';
ALTER TABLE feeds ADD COLUMN client_key text NOT NULL DEFAULT '';
