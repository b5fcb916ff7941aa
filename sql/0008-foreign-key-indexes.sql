-- 0008: an index on every foreign key column. Deleting a client (DCR gc of
-- idle clients, mcpauth-admin client delete) or a user cascades to the
-- rows that name it; without these SQLite finds them by reading the whole
-- table, under the write lock. Measured before: 13 ms per deleted client
-- with 150,000 access tokens, so a gc of 10,000 idle clients would have
-- held every writer back for two minutes. tests/unit/check_store.c keeps
-- every foreign key indexed.
CREATE INDEX clients_initial_token ON clients (initial_token_id);
CREATE INDEX authorization_requests_client ON authorization_requests (client_id);
CREATE INDEX consents_client ON consents (client_id);
CREATE INDEX authorization_codes_client ON authorization_codes (client_id);
CREATE INDEX authorization_codes_user ON authorization_codes (user_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX access_tokens_client ON access_tokens (client_id);
CREATE INDEX access_tokens_user ON access_tokens (user_id);
