-- Messages left while the line was closed keep that fact once taken; the young person may
-- read the answer later with a follow-up code (kept only as a keyed hash), which opens a
-- token of its own.
ALTER TABLE conversations ADD COLUMN left_message BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN follow_up_hash TEXT;
ALTER TABLE conversations ADD COLUMN follow_up_token_hash TEXT;
ALTER TABLE conversations ADD COLUMN follow_up_issued_at BIGINT;
CREATE UNIQUE INDEX conversations_follow_up ON conversations(follow_up_hash);
CREATE UNIQUE INDEX conversations_follow_up_token ON conversations(follow_up_token_hash);
UPDATE conversations SET left_message = 1 WHERE status = 'left_message';

-- Password lock-out per e-mail address, whether or not it names an account (keyed hash of
-- the address), counted in the transaction that decides the lock.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX login_throttle_age ON login_throttle(updated_at);

-- The second factor's own failure counter (a password success does not reset it). The
-- older staff.failed_logins and staff.locked_until are no longer used.
ALTER TABLE staff ADD COLUMN second_factor_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN second_factor_locked_until BIGINT NOT NULL DEFAULT 0;
-- Wrong codes within one half-logged-in session, and a passkey challenge in progress.
ALTER TABLE staff_sessions ADD COLUMN second_factor_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff_sessions ADD COLUMN webauthn_state TEXT;

-- Passkeys (WebAuthn) registered as second factors.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id),
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_staff ON passkeys(staff_id);

-- Invitations: an administrator names the person and the role; the person sets their own
-- password and second factor from a one-time link (its token kept as a hash). Granting
-- supervisor or administrator waits for a second administrator when there are two.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    token_hash TEXT UNIQUE,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    team TEXT,
    lang TEXT NOT NULL,
    status TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    approved_by TEXT,
    staff_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX invitations_status ON invitations(status, created_at);

-- A pending change of an existing account to the supervisor or administrator role.
CREATE TABLE role_grants (
    id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id),
    role TEXT NOT NULL,
    team TEXT,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    decided_by TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX role_grants_status ON role_grants(status, created_at);
