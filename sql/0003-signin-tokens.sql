-- 0003: users, browser sessions, pending authorization requests, consents,
-- authorization codes, refresh tokens and issued access tokens.
-- Every session id, request id, code and refresh token is stored only as
-- base64url(SHA-256(value)); passwords as argon2id PHC strings.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT    NOT NULL UNIQUE,
	-- the access token's sub: random, stable, never reused
	subject       TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	disabled_at   INTEGER,
	last_login_at INTEGER
);

CREATE TABLE sessions (
	id_hash    TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	auth_time  INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- An authorization request between its validation and its answer: the
-- login and consent forms refer to it by id, from the browser that made it.
CREATE TABLE authorization_requests (
	id_hash        TEXT    PRIMARY KEY,
	-- hash of the flow cookie that binds it to one browser
	browser_hash   TEXT    NOT NULL,
	-- hash of the CSRF token its forms carry
	csrf_hash      TEXT    NOT NULL,
	client_id      TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
	redirect_uri   TEXT    NOT NULL,
	scope          TEXT    NOT NULL,
	resource       TEXT    NOT NULL,
	state          TEXT,
	code_challenge TEXT    NOT NULL,
	-- prompt=login / prompt=consent, 0 or 1
	force_login    INTEGER NOT NULL DEFAULT 0,
	force_consent  INTEGER NOT NULL DEFAULT 0,
	-- the session that signed in for it (hash), once one has
	session_hash   TEXT,
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL
);

-- What a user allowed a client to do at a resource; mcpauth-admin consent
-- revoke deletes the row.
CREATE TABLE consents (
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id  TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
	resource   TEXT    NOT NULL,
	-- space-separated, every scope granted so far
	scope      TEXT    NOT NULL,
	granted_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, client_id, resource)
);

-- Marks an operator's own clients whose users are not asked for consent.
ALTER TABLE clients ADD COLUMN first_party INTEGER NOT NULL DEFAULT 0;

CREATE TABLE authorization_codes (
	code_hash      TEXT    PRIMARY KEY,
	client_id      TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
	user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	redirect_uri   TEXT    NOT NULL,
	code_challenge TEXT    NOT NULL,
	resource       TEXT    NOT NULL,
	scope          TEXT    NOT NULL,
	auth_time      INTEGER NOT NULL,
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	-- set by the one redemption that wins (UPDATE ... WHERE consumed_at IS NULL)
	consumed_at    INTEGER,
	-- what that redemption issued, revoked if the code is presented again
	family_id      TEXT
);

-- Refresh tokens: each rotation adds a member to the family; reuse of a
-- rotated member revokes the whole family (RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
	token_hash  TEXT    PRIMARY KEY,
	family_id   TEXT    NOT NULL,
	client_id   TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	resource    TEXT    NOT NULL,
	scope       TEXT    NOT NULL,
	auth_time   INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	rotated_at  INTEGER,
	revoked_at  INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Access tokens are JWTs; their jti is kept until they expire so that
-- revocation and introspection can answer for them.
CREATE TABLE access_tokens (
	jti         TEXT    PRIMARY KEY,
	family_id   TEXT,
	client_id   TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
	user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
	resource    TEXT    NOT NULL,
	scope       TEXT    NOT NULL,
	issued_at   INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	revoked_at  INTEGER
);
CREATE INDEX access_tokens_family ON access_tokens (family_id);

CREATE VIEW users_view AS
SELECT id, username, subject,
       datetime(created_at, 'unixepoch')    AS created,
       datetime(disabled_at, 'unixepoch')   AS disabled,
       datetime(last_login_at, 'unixepoch') AS last_login
FROM users
ORDER BY username;

CREATE VIEW consents_view AS
SELECT u.username, c.client_id, cl.client_name, c.resource, c.scope,
       datetime(c.granted_at, 'unixepoch') AS granted
FROM consents c JOIN users u ON u.id = c.user_id
     JOIN clients cl ON cl.client_id = c.client_id
ORDER BY c.granted_at DESC;

CREATE VIEW refresh_tokens_view AS
SELECT family_id, client_id, user_id, resource, scope,
       datetime(created_at, 'unixepoch') AS created,
       datetime(expires_at, 'unixepoch') AS expires,
       datetime(rotated_at, 'unixepoch') AS rotated,
       datetime(revoked_at, 'unixepoch') AS revoked
FROM refresh_tokens
ORDER BY created_at DESC;

-- The registration audit trail learns the HTTP status of each answer and the
-- key the rate limit counts by (the address, or its /64 for IPv6).
ALTER TABLE audit_log ADD COLUMN status INTEGER;
ALTER TABLE audit_log ADD COLUMN rate_key TEXT;
DROP INDEX audit_log_rate;
CREATE INDEX audit_log_rate ON audit_log (rate_key, event, at);
