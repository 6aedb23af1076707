-- The partner API's keys: one or more per platform, each shown once when issued and kept
-- only as the SHA-256 of its text (`key_hash`). `prefix` is what the console shows to tell
-- keys apart (the first characters, never enough to use). `created_by` is empty for a key
-- the operator issued (the demo, the command line). A key replaced by a newer one
-- keeps working until `expires_at` (the rotation's overlap); a revoked key stops at once.
CREATE TABLE partner_keys (
    id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    revoked_by TEXT
);
CREATE INDEX partner_keys_platform ON partner_keys(platform, created_at);
-- A platform's notices in the order it pages through them.
CREATE INDEX notices_platform_sent ON notices(platform, sent_at, id);
