-- 0005: clients an operator provisions (mcpauth-admin client add): machine
-- clients with the client_credentials grant, private_key_jwt keys, secret
-- rotation with an overlap, and disabling.

ALTER TABLE clients ADD COLUMN disabled_at INTEGER;
-- space-separated resource URLs a machine client may ask for; NULL: any
ALTER TABLE clients ADD COLUMN allowed_resources TEXT;
-- private_key_jwt: the client's public keys (a JWKS) and the one algorithm
-- its assertions may use (RFC 7523; never none, never HMAC)
ALTER TABLE clients ADD COLUMN jwks TEXT CHECK (jwks IS NULL OR json_valid(jwks));
ALTER TABLE clients ADD COLUMN signing_alg TEXT
	CHECK (signing_alg IS NULL OR signing_alg IN ('ES256', 'EdDSA', 'RS256'));
-- after client rotate-secret: the old secret, valid until then
ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE clients ADD COLUMN previous_secret_until INTEGER;

-- Client assertion ids already used (RFC 7523 §3: jti single use), kept
-- until the assertion expires.
CREATE TABLE assertion_jtis (
	client_id  TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
	jti        TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (client_id, jti)
);
CREATE INDEX assertion_jtis_expiry ON assertion_jtis (expires_at);
