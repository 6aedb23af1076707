//! Durable jobs: the transactional outbox that later features (deliveries of notices,
//! reminders, scheduled sweeps) hand their work to.
//!
//! - A job is written by [`enqueue`] **inside the transaction of the change that asks for
//!   it** (a notice marked sent and its delivery job commit together, or neither does).
//!   Its `dedup_key` is unique: asking twice for the same work is one job.
//! - Workers on every node [`Store::claim_jobs`]: the due jobs of the kinds they run are
//!   leased to them (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two nodes never claim the
//!   same job and never wait for each other; SQLite's one writer serialises claims). The
//!   lease moves the job's `run_at` to the lease's end and counts an attempt, so a job
//!   whose node died mid-way is due again once its lease ran out — nothing is lost, and a
//!   job that kills its node every time stops once it used its attempts.
//! - Only the claim's holder ends the job ([`end`] / [`Store::end_job`]): done, due again
//!   later (a transient failure), or failed for good. An end whose lease was taken over by
//!   another node changes nothing and says so.

use crate::audit::AuditEntry;
use crate::{Backend, Result, Store};
use sqlx::{AnyConnection, Row};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for its time, or leased to a worker until `run_at`.
    Pending,
    /// Done.
    Done,
    /// Given up: a permanent failure, or every attempt used.
    Failed,
}

impl JobState {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(JobState::Pending),
            "done" => Ok(JobState::Done),
            "failed" => Ok(JobState::Failed),
            _ => Err(crate::StorageError::Corrupt("jobs.state")),
        }
    }
}

/// A job to write with the change that asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What runs it (a handler's code, e.g. `notice_delivery`).
    pub kind: String,
    /// The same work asked twice is the same job (e.g. `notice:<id>:delivery`).
    pub dedup_key: String,
    /// Ids and codes the handler needs, never content.
    pub payload: String,
    /// Not before this time (ms).
    pub run_at: i64,
}

/// A job leased to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The job's id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its deduplication key (also the idempotency key its deliveries carry).
    pub dedup_key: String,
    /// Its payload.
    pub payload: String,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
    /// The claim's token: only its holder may end the job.
    pub lease_token: String,
    /// When the lease runs out (ms): past it, another worker may claim the job.
    pub lease_until: i64,
}

/// How a claimed job ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// The work is done.
    Done,
    /// A transient failure: due again at `at` (ms), with a reason code (no content).
    Retry {
        /// When (ms).
        at: i64,
        /// Why, as a code (`timeout`, `http_503`…).
        reason: String,
    },
    /// Given up for good, with a reason code.
    Failed {
        /// Why, as a code.
        reason: String,
    },
}

/// A job as stored (for tests, benchmarks and the operators' view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// The job's id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its deduplication key.
    pub dedup_key: String,
    /// Where it stands.
    pub state: JobState,
    /// Attempts started so far.
    pub attempts: u32,
    /// When it is due (ms); while leased, when its lease runs out.
    pub run_at: i64,
    /// The last failure's reason code.
    pub last_error: Option<String>,
}

/// Writes `job` in the caller's transaction; `false` when a job with its `dedup_key`
/// already exists (the earlier one stands, untouched).
pub(crate) async fn enqueue(conn: &mut AnyConnection, job: &NewJob, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO jobs (id, kind, dedup_key, payload, state, attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $6) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&job.kind)
    .bind(&job.dedup_key)
    .bind(&job.payload)
    .bind(job.run_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends a claimed job in the caller's transaction; `false` when the claim is no longer
/// this worker's (its lease ran out and another worker took the job, or it ended).
pub(crate) async fn end(
    conn: &mut AnyConnection,
    job: &ClaimedJob,
    how: &JobEnd,
    now: i64,
) -> Result<bool> {
    let (state, run_at, reason) = match how {
        JobEnd::Done => (JobState::Done, None, None),
        JobEnd::Retry { at, reason } => (JobState::Pending, Some(*at), Some(reason.as_str())),
        JobEnd::Failed { reason } => (JobState::Failed, None, Some(reason.as_str())),
    };
    let r = sqlx::query(
        "UPDATE jobs SET state = $1, run_at = COALESCE($2, run_at), \
         last_error = COALESCE($3, last_error), lease_owner = NULL, lease_token = NULL, updated_at = $4 \
         WHERE id = $5 AND lease_token = $6 AND state = 'pending'",
    )
    .bind(state.as_str())
    .bind(run_at)
    .bind(reason)
    .bind(now)
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

impl Store {
    /// Writes an internal job (a schedule every node asks for) unless it exists; not
    /// audited: it changes nothing of the helpline's records.
    pub async fn ensure_job(&self, job: &NewJob, now: i64) -> Result<bool> {
        let mut w = self.begin_write().await?;
        let fresh = enqueue(w.conn(), job, now).await?;
        w.commit_unaudited().await?;
        Ok(fresh)
    }

    /// Writes a job on its own, with its audit event (operators' commands; a feature's
    /// jobs are written with the change that asks for them). `false`: it already existed.
    pub async fn enqueue_job(&self, job: &NewJob, now: i64, audit: &AuditEntry) -> Result<bool> {
        let mut w = self.begin_write().await?;
        let fresh = enqueue(w.conn(), job, now).await?;
        w.commit(audit).await?;
        Ok(fresh)
    }

    /// Leases up to `limit` due jobs of `kinds` to `owner` until `now + lease_ms`, oldest
    /// due first, counting an attempt on each. Jobs another node is claiming at this very
    /// moment are skipped, not waited for.
    pub async fn claim_jobs(
        &self,
        kinds: &[&str],
        owner: &str,
        now: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let kind_params: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 6)).collect();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET lease_owner = $1, lease_token = $2, run_at = $3, \
             attempts = attempts + 1, updated_at = $4 \
             WHERE id IN (SELECT id FROM jobs WHERE state = 'pending' AND run_at <= $4 \
             AND kind IN ({}) ORDER BY run_at, id LIMIT $5{lock}) \
             RETURNING id, kind, dedup_key, payload, attempts",
            kind_params.join(", ")
        );
        let token = uuid::Uuid::new_v4().simple().to_string();
        let until = now.saturating_add(lease_ms);
        let mut w = self.begin_write().await?;
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(&token)
            .bind(until)
            .bind(now)
            .bind(i64::from(limit));
        for k in kinds {
            q = q.bind(*k);
        }
        let rows = q.fetch_all(w.conn()).await?;
        w.commit_unaudited().await?;
        let mut jobs = rows
            .iter()
            .map(|r| {
                Ok(ClaimedJob {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    dedup_key: r.try_get(2)?,
                    payload: r.try_get(3)?,
                    attempt: u32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(u32::MAX),
                    lease_token: token.clone(),
                    lease_until: until,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // RETURNING gives no order: the oldest id (UUIDv7) first.
        jobs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(jobs)
    }

    /// Ends a claimed job that has no change of its own to commit with its end; `false`
    /// when the claim is no longer this worker's.
    pub async fn end_job(&self, job: &ClaimedJob, how: &JobEnd, now: i64) -> Result<bool> {
        let mut w = self.begin_write().await?;
        let held = end(w.conn(), job, how, now).await?;
        w.commit_unaudited().await?;
        Ok(held)
    }

    /// When the next job of `kinds` is due (ms), if any is pending: a worker sleeps until
    /// then (or until its polling interval, whichever comes first).
    pub async fn next_job_due(&self, kinds: &[&str]) -> Result<Option<i64>> {
        let mut best: Option<i64> = None;
        for k in kinds {
            let at: Option<i64> =
                sqlx::query("SELECT MIN(run_at) FROM jobs WHERE state = 'pending' AND kind = $1")
                    .bind(*k)
                    .fetch_one(self.pool())
                    .await?
                    .try_get(0)?;
            best = match (best, at) {
                (Some(b), Some(a)) => Some(b.min(a)),
                (b, a) => b.or(a),
            };
        }
        Ok(best)
    }

    /// The payloads of the jobs of `kind` leased at `now` (claimed, their lease still
    /// running, not ended): what a node that dies at this moment leaves to be taken over
    /// once the leases run out (benchmarks, operators).
    pub async fn leased_jobs(&self, kind: &str, now: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT payload FROM jobs WHERE kind = $1 AND state = 'pending' \
             AND lease_token IS NOT NULL AND run_at > $2 ORDER BY id",
        )
        .bind(kind)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(Into::into))
            .collect()
    }

    /// The job with this deduplication key.
    pub async fn job_by_key(&self, dedup_key: &str) -> Result<Option<JobRecord>> {
        let row = sqlx::query(
            "SELECT id, kind, dedup_key, state, attempts, run_at, last_error FROM jobs WHERE dedup_key = $1",
        )
        .bind(dedup_key)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(JobRecord {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                dedup_key: r.try_get(2)?,
                state: JobState::parse(&r.try_get::<String, _>(3)?)?,
                attempts: u32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(u32::MAX),
                run_at: r.try_get(5)?,
                last_error: r.try_get(6)?,
            })
        })
        .transpose()
    }

    /// How many jobs of `kind` are in each state: (pending, done, failed).
    pub async fn job_counts(&self, kind: &str) -> Result<(u64, u64, u64)> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs WHERE kind = $1 GROUP BY state")
            .bind(kind)
            .fetch_all(self.pool())
            .await?;
        let mut out = (0, 0, 0);
        for r in rows {
            let n = u64::try_from(r.try_get::<i64, _>(1)?).unwrap_or(0);
            match JobState::parse(&r.try_get::<String, _>(0)?)? {
                JobState::Pending => out.0 = n,
                JobState::Done => out.1 = n,
                JobState::Failed => out.2 = n,
            }
        }
        Ok(out)
    }
}
