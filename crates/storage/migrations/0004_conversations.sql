-- Live conversations (web chat now; WhatsApp and Messenger later) and their messages.
-- The visitor's session token is stored only as a SHA-256 hash; the person key is a keyed
-- hash that links a person's contacts without the clear value.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    person_key TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    priority BIGINT NOT NULL,
    risks TEXT NOT NULL,
    caller_type TEXT,
    age_band TEXT,
    lang TEXT NOT NULL,
    assigned_to TEXT,
    case_id TEXT,
    next_seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    waiting_since BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX conversations_queue ON conversations(status, priority, waiting_since);
CREATE INDEX conversations_assigned ON conversations(assigned_to, status);
CREATE INDEX conversations_person ON conversations(person_key);

CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq BIGINT NOT NULL,
    sender TEXT NOT NULL,
    author_id TEXT,
    client_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client ON messages(conversation_id, sender, client_id);
