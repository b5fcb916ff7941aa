-- 0004: limits on what anonymous browsers can make mcpauth store or compute.
-- Pending authorization requests and failed sign-ins are counted per rate
-- key (the client address, or its /64 for IPv6), as registrations are.

ALTER TABLE authorization_requests ADD COLUMN rate_key TEXT;
CREATE INDEX authorization_requests_rate ON authorization_requests (rate_key, expires_at);
CREATE INDEX authorization_requests_expiry ON authorization_requests (expires_at);

-- Sign-ins are audited too (event login): the username tried, never the
-- password.
ALTER TABLE audit_log ADD COLUMN username TEXT;
CREATE INDEX audit_log_username ON audit_log (username, event, at);
