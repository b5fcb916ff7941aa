-- 0006: read-only views for sysadmins who open the database with sqlite3,
-- matching what mcpauth-admin consent list, audit and stats print. No table
-- changes; every secret stays a hash, and no view shows a hash.

-- The audit trail with the sign-in username and the HTTP status answered.
DROP VIEW IF EXISTS audit_view;
CREATE VIEW audit_view AS
SELECT id, datetime(at, 'unixepoch') AS at, event, outcome, actor, client_id,
       address, username, software_id, client_name, status, error, detail
FROM audit_log
ORDER BY audit_log.at DESC, audit_log.id DESC;

-- Issued access tokens (JWTs) by their jti, kept until they expire (gc
-- removes the expired ones), with the user's name for a user's token.
CREATE VIEW access_tokens_view AS
SELECT a.jti, a.family_id, a.client_id, cl.client_name, u.username,
       a.resource, a.scope,
       datetime(a.issued_at, 'unixepoch')  AS issued,
       datetime(a.expires_at, 'unixepoch') AS expires,
       datetime(a.revoked_at, 'unixepoch') AS revoked
FROM access_tokens a
     LEFT JOIN users u ON u.id = a.user_id
     LEFT JOIN clients cl ON cl.client_id = a.client_id
ORDER BY a.issued_at DESC, a.jti;

-- One row per grant (refresh-token family): its client, user, and whether
-- it is still usable (a member unrevoked and unexpired).
CREATE VIEW grants_view AS
SELECT r.family_id, r.client_id, u.username, r.resource,
       datetime(min(r.created_at), 'unixepoch') AS created,
       datetime(max(r.expires_at), 'unixepoch') AS expires,
       datetime(max(r.revoked_at), 'unixepoch') AS revoked,
       max(r.revoked_at IS NULL AND r.expires_at > unixepoch()) AS active
FROM refresh_tokens r LEFT JOIN users u ON u.id = r.user_id
GROUP BY r.family_id
ORDER BY min(r.created_at) DESC;

-- The numbers mcpauth-admin stats prints, as one row, now.
CREATE VIEW stats_view AS
SELECT
  (SELECT count(*) FROM clients WHERE source = 'dynamic') AS clients_dynamic,
  (SELECT count(*) FROM clients WHERE source = 'operator') AS clients_operator,
  (SELECT count(*) FROM clients WHERE source = 'metadata_document')
    AS clients_metadata_document,
  (SELECT count(*) FROM clients WHERE disabled_at IS NOT NULL)
    AS clients_disabled,
  (SELECT count(*) FROM users WHERE disabled_at IS NULL) AS users_enabled,
  (SELECT count(*) FROM users WHERE disabled_at IS NOT NULL) AS users_disabled,
  (SELECT count(DISTINCT family_id) FROM refresh_tokens
    WHERE revoked_at IS NULL AND expires_at > unixepoch()) AS active_grants,
  (SELECT count(*) FROM consents) AS consents,
  (SELECT count(*) FROM access_tokens
    WHERE revoked_at IS NULL AND expires_at > unixepoch())
    AS access_tokens_valid,
  (SELECT count(*) FROM audit_log WHERE event = 'login'
    AND outcome = 'refused' AND at >= unixepoch() - 86400)
    AS failed_signins_24h,
  (SELECT count(*) FROM audit_log WHERE event = 'register'
    AND actor = 'client' AND outcome = 'ok' AND at >= unixepoch() - 86400)
    AS registrations_24h;
