-- Durable jobs (the transactional outbox): a job is inserted in the same transaction as
-- the change that asks for it, so it exists if and only if that change was committed.
-- A worker claims a job by taking a lease: `run_at` moves to the lease's end, so a job
-- whose node died is simply due again once the lease ran out. `lease_token` names the
-- claim: only its holder may end the job. `dedup_key` makes asking twice the same job.
-- The payload holds ids and codes only, never content.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    dedup_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_token TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at);
