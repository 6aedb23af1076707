-- Evidence and the follow-up page.
--
-- A case's data key, wrapped by the key-encryption key (which is not in the database):
-- deleting this row destroys the case's evidence files wherever their blobs are.
CREATE TABLE case_keys (
  case_id TEXT PRIMARY KEY REFERENCES cases(id),
  wrapped TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- One piece of evidence: its metadata, fingerprints and which encrypted copies exist in the
-- blob store (`copies`: a comma-separated list of original, clean, display, blurred; empty
-- for links, excerpts and fingerprints only). `number` counts a case's evidence from 1.
CREATE TABLE evidence (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  number BIGINT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  added_by TEXT REFERENCES staff(id),
  received_at BIGINT NOT NULL,
  captured_from TEXT NOT NULL,
  description TEXT,
  url TEXT,
  excerpt TEXT,
  original_name TEXT,
  file_type TEXT,
  mime TEXT,
  size BIGINT,
  width BIGINT,
  height BIGINT,
  sha256 TEXT,
  md5 TEXT,
  pdq TEXT,
  pdq_quality BIGINT,
  sexual_image_of_minor BIGINT NOT NULL,
  intimate BIGINT NOT NULL,
  copies TEXT NOT NULL,
  UNIQUE (case_id, number)
);
CREATE INDEX evidence_sha256 ON evidence(sha256);
CREATE INDEX evidence_received ON evidence(received_at);

-- Which of its case's items a piece of evidence supports.
CREATE TABLE evidence_items (
  evidence_id TEXT NOT NULL REFERENCES evidence(id),
  item_id TEXT NOT NULL REFERENCES items(id),
  PRIMARY KEY (evidence_id, item_id)
);

-- The follow-up page's access to a case: a code (not secret) and the keyed hash of its
-- secret; wrong secrets counted per code, with a lock-out that doubles.
CREATE TABLE followup_access (
  case_id TEXT PRIMARY KEY REFERENCES cases(id),
  code TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  issued_by TEXT NOT NULL REFERENCES staff(id),
  issued_at BIGINT NOT NULL,
  failures BIGINT NOT NULL,
  locks BIGINT NOT NULL,
  locked_until BIGINT NOT NULL
);

-- An open follow-up page (the token's SHA-256 only).
CREATE TABLE followup_sessions (
  token_hash TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  created_at BIGINT NOT NULL,
  last_seen BIGINT NOT NULL
);
CREATE INDEX followup_sessions_case ON followup_sessions(case_id);

-- Messages on the follow-up page, both ways.
CREATE TABLE followup_messages (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  from_young_person BIGINT NOT NULL,
  author_id TEXT REFERENCES staff(id),
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX followup_messages_case ON followup_messages(case_id, created_at);
