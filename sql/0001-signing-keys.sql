-- 0001: signing keys and the migration history.
-- Times are unix seconds (INTEGER) everywhere; the *_view views show them
-- as ISO-8601 text for people reading the file with sqlite3.

CREATE TABLE schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
);

-- The public half of every signing key mcpauth has used or will use.
-- The private half is a file <kid>.jwk in key_dir, readable by its owner only;
-- it is deleted when the key is retired.
CREATE TABLE signing_keys (
	kid           TEXT    PRIMARY KEY,
	alg           TEXT    NOT NULL CHECK (alg IN ('ES256', 'EdDSA', 'RS256')),
	public_jwk    TEXT    NOT NULL CHECK (json_valid(public_jwk)),
	state         TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
	created_at    INTEGER NOT NULL,
	activated_at  INTEGER,
	retired_at    INTEGER,
	-- a retired key stays in the JWKS until then, so its tokens still verify
	publish_until INTEGER
);

-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state)
	WHERE state = 'active';

CREATE VIEW signing_keys_view AS
SELECT kid, alg, state,
       datetime(created_at, 'unixepoch')    AS created,
       datetime(activated_at, 'unixepoch')  AS activated,
       datetime(retired_at, 'unixepoch')    AS retired,
       datetime(publish_until, 'unixepoch') AS published_until
FROM signing_keys
ORDER BY created_at DESC, kid;
