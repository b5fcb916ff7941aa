-- 0007: documents mcpauth fetches from URLs a client names (src/common/fetch.c):
-- a private_key_jwt client's jwks_uri and Client ID Metadata Documents.

-- private_key_jwt keys published at an https URL (RFC 7591 §2 jwks_uri)
-- instead of given once: jwks then holds the keys last fetched from it,
-- fetched at jwks_fetched_at and used without fetching again until
-- jwks_expires_at (the document's cache headers, bounded).
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
ALTER TABLE clients ADD COLUMN jwks_fetched_at INTEGER;
ALTER TABLE clients ADD COLUMN jwks_expires_at INTEGER;
-- source = 'metadata_document': the client_id is the URL of its metadata
-- (draft-ietf-oauth-client-id-metadata-document), fetched at
-- document_fetched_at and used until document_expires_at.
ALTER TABLE clients ADD COLUMN document_fetched_at INTEGER;
ALTER TABLE clients ADD COLUMN document_expires_at INTEGER;
