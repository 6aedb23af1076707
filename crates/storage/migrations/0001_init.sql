-- Rempart schema, version 1. Column types are chosen to mean the same on SQLite and
-- PostgreSQL: TEXT, BIGINT (times are milliseconds since the Unix epoch, UTC; flags are
-- 0/1). Ids are UUIDv7 in their hyphenated text form.

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    team TEXT,
    lang TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_enabled BIGINT NOT NULL,
    totp_last_step BIGINT NOT NULL,
    recovery_codes TEXT NOT NULL,
    disabled BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id),
    csrf_token TEXT NOT NULL,
    mfa_done BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    team TEXT,
    categories TEXT NOT NULL,
    age_band TEXT NOT NULL,
    preferred_channel TEXT,
    consents TEXT NOT NULL,
    legal_articles TEXT NOT NULL,
    dsa_category TEXT,
    search_text TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX cases_updated ON cases(updated_at);
CREATE INDEX cases_status_updated ON cases(status, updated_at);
CREATE INDEX cases_team_updated ON cases(team, updated_at);

CREATE TABLE case_assignees (
    case_id TEXT NOT NULL REFERENCES cases(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, staff_id)
);
CREATE INDEX case_assignees_staff ON case_assignees(staff_id, case_id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    case_id TEXT REFERENCES cases(id),
    channel TEXT NOT NULL,
    caller_type TEXT NOT NULL,
    age_band TEXT NOT NULL,
    categories TEXT NOT NULL,
    summary TEXT NOT NULL,
    outcome TEXT NOT NULL,
    person_key TEXT,
    started_at BIGINT NOT NULL,
    duration_s BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX contacts_case ON contacts(case_id);
CREATE INDEX contacts_person ON contacts(person_key);
CREATE INDEX contacts_started ON contacts(started_at);

CREATE TABLE items (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    platform TEXT NOT NULL,
    content_type TEXT NOT NULL,
    url TEXT,
    native_id TEXT,
    status TEXT NOT NULL,
    first_seen_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX items_case ON items(case_id);

CREATE TABLE notes (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    visibility TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES staff(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_case ON notes(case_id, created_at);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT,
    case_id TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_case ON audit_events(case_id, seq);
CREATE INDEX audit_events_actor ON audit_events(actor_id, seq);
