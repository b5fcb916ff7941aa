-- 0002: OAuth clients, the registration audit trail, initial access tokens.
-- Secrets and tokens are never stored: only base64url(SHA-256(value)), which
-- is enough for 256-bit random values (RFC 7591 §3.2.1 secrets, RFC 7592
-- registration access tokens, RFC 7591 §3 initial access tokens).

-- Operator-issued tokens that open registration when
-- initial_access_token_required = yes (mcpauth-admin initial-token ...).
CREATE TABLE initial_access_tokens (
	id          INTEGER PRIMARY KEY,
	label       TEXT,
	token_hash  TEXT    NOT NULL UNIQUE,
	created_at  INTEGER NOT NULL,
	-- 0: never expires
	expires_at  INTEGER NOT NULL DEFAULT 0,
	revoked_at  INTEGER,
	uses        INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER
);

CREATE TABLE clients (
	client_id    TEXT    PRIMARY KEY,
	-- dynamic: RFC 7591 registration; operator: mcpauth-admin;
	-- metadata_document: an https client_id URL (CIMD)
	source       TEXT    NOT NULL
		CHECK (source IN ('dynamic', 'operator', 'metadata_document')),
	client_name  TEXT,
	token_endpoint_auth_method TEXT NOT NULL,
	application_type TEXT NOT NULL CHECK (application_type IN ('web', 'native')),
	-- a JSON array of strings, compared byte for byte at /authorize
	redirect_uris TEXT   NOT NULL CHECK (json_valid(redirect_uris)),
	-- space-separated, as in the metadata
	grant_types  TEXT    NOT NULL,
	scope        TEXT    NOT NULL,
	software_id  TEXT,
	software_version TEXT,
	-- the whole registered metadata as answered (no secret, no token)
	metadata     TEXT    NOT NULL CHECK (json_valid(metadata)),
	-- NULL for public clients (token_endpoint_auth_method none)
	secret_hash  TEXT,
	-- 0: the secret never expires
	secret_expires_at INTEGER NOT NULL DEFAULT 0,
	registration_token_hash TEXT UNIQUE,
	initial_token_id INTEGER
		REFERENCES initial_access_tokens (id) ON DELETE SET NULL,
	-- REMOTE_ADDR of the registration request
	registered_from TEXT,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	-- set by the authorization and token endpoints; gc removes idle
	-- dynamic clients by max(created_at, updated_at, last_used_at)
	last_used_at INTEGER
);

CREATE INDEX clients_source ON clients (source);

-- Every registration, read, update, deletion and refusal; never a secret.
-- AUTOINCREMENT: ids are never reused after gc deletes old rows.
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          INTEGER NOT NULL,
	-- register, read, update, delete, gc
	event       TEXT    NOT NULL,
	outcome     TEXT    NOT NULL CHECK (outcome IN ('ok', 'refused')),
	-- client (over HTTP), admin (mcpauth-admin), gc
	actor       TEXT    NOT NULL,
	client_id   TEXT,
	address     TEXT,
	software_id TEXT,
	client_name TEXT,
	-- the RFC error code and description of a refusal
	error       TEXT,
	detail      TEXT
);

-- The per-address registration rate limit counts recent rows here.
CREATE INDEX audit_log_rate ON audit_log (event, address, at);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE VIEW clients_view AS
SELECT client_id, source, client_name, token_endpoint_auth_method AS auth_method,
       application_type, redirect_uris, scope, software_id, software_version,
       secret_hash IS NOT NULL AS has_secret,
       CASE WHEN secret_expires_at = 0 THEN NULL
            ELSE datetime(secret_expires_at, 'unixepoch') END AS secret_expires,
       registered_from,
       datetime(created_at, 'unixepoch')   AS created,
       datetime(updated_at, 'unixepoch')   AS updated,
       datetime(last_used_at, 'unixepoch') AS last_used
FROM clients
ORDER BY created_at DESC, client_id;

CREATE VIEW audit_view AS
SELECT id, datetime(at, 'unixepoch') AS at, event, outcome, actor, client_id,
       address, software_id, client_name, error, detail
FROM audit_log
ORDER BY audit_log.at DESC, audit_log.id DESC;

CREATE VIEW initial_access_tokens_view AS
SELECT id, label,
       datetime(created_at, 'unixepoch') AS created,
       CASE WHEN expires_at = 0 THEN NULL
            ELSE datetime(expires_at, 'unixepoch') END AS expires,
       datetime(revoked_at, 'unixepoch') AS revoked,
       uses,
       datetime(last_used_at, 'unixepoch') AS last_used
FROM initial_access_tokens
ORDER BY id;
