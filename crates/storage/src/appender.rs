//! Group commit of chat messages. Every append goes to one writer task per node, which
//! takes all the appends waiting at that moment and commits them in one transaction: one
//! disk flush for many messages, so throughput grows with the load instead of being capped
//! by the flush time. The writer starts its transaction before it takes the waiting
//! appends, so those that arrive while it waits for a connection join that batch: when the
//! database is away, no append waits longer than one acquire timeout. A refused append (an
//! ended conversation, a duplicate client id) changes nothing and never takes the others
//! down; nobody is answered before the transaction that holds their message has committed.
//!
//! Several nodes write at once on PostgreSQL: each batch locks its conversations' rows in
//! one global order (by conversation id), so two batches never wait on each other in a
//! cycle. Should a batch still fail on a deadlock or a serialisation conflict (another
//! kind of transaction in the cycle), it is retried once, one append per transaction, so
//! one conflict never fails unrelated conversations.

use crate::messages::{MSG_COLS, message, risk_codes};
use crate::records::{decode_list, encode_list};
use crate::write::{Gate, WriteHealth, WriteTx};
use crate::{Appended, Backend, MessageRecord, Result, StorageError};
use rempart_domain::audit::ChainKey;
use rempart_domain::chat::{RiskKind, Sender, priority};
use rempart_domain::ids::{ConversationId, StaffId};
use rempart_domain::values::{AgeBand, CallerType};
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most appends committed together.
const MAX_BATCH: usize = 256;

/// One append.
pub(crate) struct Pending {
    pub(crate) conversation: ConversationId,
    pub(crate) sender: Sender,
    pub(crate) author: Option<StaffId>,
    pub(crate) client_id: String,
    pub(crate) body: String,
    pub(crate) at: i64,
    /// Risk signals found in this message (merged into the conversation's).
    pub(crate) found: Vec<RiskKind>,
}

/// An append waiting for the writer, and who to tell.
struct Job {
    pending: Pending,
    reply: oneshot::Sender<Result<Appended>>,
}

/// The writer's handle.
#[derive(Clone, Debug)]
pub(crate) struct Appender(mpsc::Sender<Job>);

/// What the writer needs to open transactions.
struct Writer {
    pool: AnyPool,
    backend: Backend,
    health: Arc<WriteHealth>,
    key: Arc<ChainKey>,
    gate: Gate,
    /// Longest a batch may take once it has its connection (the acquire timeout).
    timeout: std::time::Duration,
}

impl Appender {
    /// Starts the writer task for this pool.
    pub(crate) fn start(
        pool: AnyPool,
        backend: Backend,
        health: Arc<WriteHealth>,
        key: Arc<ChainKey>,
        gate: Gate,
        timeout: std::time::Duration,
    ) -> Appender {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let w = Writer {
            pool,
            backend,
            health,
            key,
            gate,
            timeout,
        };
        tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
                // The transaction first, then every append waiting by then: the appends
                // that arrive while a connection is awaited join this batch instead of
                // waiting for an acquisition of their own after it, so when the database
                // is away none waits longer than the acquire timeout.
                let tx = WriteTx::begin(&w.pool, w.backend, &w.health, &w.key, &w.gate).await;
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let batch = std::mem::take(&mut jobs);
                let answered = match tx {
                    Ok(tx) => commit_batch(&w, tx, batch).await,
                    Err(e) => {
                        fail(batch, &e);
                        true
                    }
                };
                if !answered {
                    // the database stopped answering in the middle of a batch (a network
                    // that drops everything): those who waited meanwhile hear so at once
                    // instead of after another attempt of their own
                    while let Ok(job) = rx.try_recv() {
                        jobs.push(job);
                    }
                    fail(std::mem::take(&mut jobs), &no_answer());
                }
            }
        });
        Appender(tx)
    }

    /// Queues the append and waits until the transaction holding it has committed.
    pub(crate) async fn append(&self, pending: Pending) -> Result<Appended> {
        let (reply, answer) = oneshot::channel();
        if self.0.send(Job { pending, reply }).await.is_err() {
            return Err(StorageError::Database(sqlx::Error::PoolClosed));
        }
        answer
            .await
            .unwrap_or(Err(StorageError::Database(sqlx::Error::PoolClosed)))
    }
}

/// What one append did inside the batch.
enum Outcome {
    /// Stored; whether it raised the priority of a conversation waiting in the queue.
    New(MessageRecord, bool),
    /// Already stored under this client id (perhaps earlier in the same batch): answered
    /// with the stored message after the commit.
    Duplicate,
    /// The conversation has ended (or does not exist).
    Ended,
}

/// Whether a failed transaction lost a lock race (PostgreSQL `deadlock_detected`,
/// `serialization_failure`) and may simply be run again.
fn lost_race(e: &StorageError) -> bool {
    matches!(e, StorageError::Database(sqlx::Error::Database(db))
        if matches!(db.code().as_deref(), Some("40P01") | Some("40001")))
}

/// The database did not answer a batch within the timeout.
fn no_answer() -> StorageError {
    StorageError::Database(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the database did not answer the batch in time",
    )))
}

fn timed_out(e: &StorageError) -> bool {
    matches!(e, StorageError::Database(sqlx::Error::Io(io)) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Commits the batch; false when the database stopped answering on the way.
async fn commit_batch(w: &Writer, tx: WriteTx, mut jobs: Vec<Job>) -> bool {
    // One global lock order: by conversation (stable, so one conversation's messages keep
    // the order they arrived in).
    jobs.sort_by_key(|j| j.pending.conversation.to_string());
    // A connection whose network drops everything never answers, nor fails: a batch gets
    // as long as a connection may be waited for, then its senders hear `unavailable` (a
    // batch that did commit meanwhile is answered by the client's retry, which finds it).
    let ran = tokio::time::timeout(w.timeout, run_in(tx, &jobs))
        .await
        .unwrap_or_else(|_| Err(no_answer()));
    match ran {
        Ok(outcomes) => {
            answer(w, jobs, outcomes).await;
            true
        }
        Err(e) if lost_race(&e) && jobs.len() > 1 => {
            tracing::warn!(
                batch = jobs.len(),
                "message batch lost a lock race: one by one"
            );
            let mut answered = true;
            for job in jobs {
                let ran = tokio::time::timeout(w.timeout, run_batch(w, std::slice::from_ref(&job)))
                    .await
                    .unwrap_or_else(|_| Err(no_answer()));
                match ran {
                    Ok(outcomes) => answer(w, vec![job], outcomes).await,
                    Err(e) => {
                        answered &= !timed_out(&e);
                        failed_at_database(w, &e);
                        fail(vec![job], &e)
                    }
                }
            }
            answered
        }
        Err(e) => {
            failed_at_database(w, &e);
            let answered = !timed_out(&e);
            fail(jobs, &e);
            answered
        }
    }
}

async fn answer(w: &Writer, jobs: Vec<Job>, outcomes: Vec<Outcome>) {
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        let answer = match outcome {
            Outcome::New(m, requeued) => Ok(Appended::New {
                message: m,
                requeued,
            }),
            Outcome::Ended => Err(StorageError::Conflict),
            Outcome::Duplicate => {
                let p = &job.pending;
                by_client(&w.pool, p.conversation, p.sender, &p.client_id)
                    .await
                    .and_then(|m| m.map(Appended::Duplicate).ok_or(StorageError::Conflict))
            }
        };
        let _ = job.reply.send(answer);
    }
}

/// A batch the database failed (not one that lost a lock race): the node is not ready for
/// a moment (`/readyz`).
fn failed_at_database(w: &Writer, e: &StorageError) {
    if matches!(e, StorageError::Database(_)) && !lost_race(e) {
        w.health.failed();
    }
}

fn fail(jobs: Vec<Job>, e: &StorageError) {
    // nothing of these appends was committed: every sender hears so
    tracing::warn!(error = %e, batch = jobs.len(), "message batch not committed");
    for job in jobs {
        let _ = job
            .reply
            .send(Err(StorageError::Database(sqlx::Error::WorkerCrashed)));
    }
}

async fn run_batch(w: &Writer, jobs: &[Job]) -> Result<Vec<Outcome>> {
    let tx = WriteTx::begin(&w.pool, w.backend, &w.health, &w.key, &w.gate).await?;
    run_in(tx, jobs).await
}

async fn run_in(mut tx: WriteTx, jobs: &[Job]) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        outcomes.push(apply(tx.conn(), &job.pending).await?);
    }
    tx.commit_unaudited().await?;
    Ok(outcomes)
}

/// One append, inside the batch's transaction; `Err` only for a database error. The
/// conversation's row stays locked from its `UPDATE` to the commit, so its sequence
/// numbers are given out one at a time even across nodes.
async fn apply(tx: &mut sqlx::AnyConnection, job: &Pending) -> Result<Outcome> {
    let id = job.conversation.to_string();
    // The risk signals are merged with the stored ones here, under the write lock, so two
    // messages committed together never overwrite each other's.
    let mut raised = None;
    if !job.found.is_empty() {
        let Some(r) =
            sqlx::query("SELECT risks, caller_type, age_band FROM conversations WHERE id = $1")
                .bind(id.clone())
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(Outcome::Ended);
        };
        let stored: String = r.try_get(0)?;
        let mut risks: Vec<RiskKind> = decode_list(&stored)
            .iter()
            .filter_map(|c| RiskKind::parse(c).ok())
            .collect();
        let before = risks.len();
        for k in &job.found {
            if !risks.contains(k) {
                risks.push(*k);
            }
        }
        if risks.len() != before {
            risks.sort();
            let caller = r
                .try_get::<Option<String>, _>(1)?
                .and_then(|c| CallerType::parse(&c).ok());
            let age = r
                .try_get::<Option<String>, _>(2)?
                .and_then(|a| AgeBand::parse(&a).ok());
            raised = Some((
                encode_list(&risk_codes(&risks)),
                priority(&risks, caller, age),
            ));
        }
    }
    let row = match &raised {
        Some((risks, p)) => {
            sqlx::query(
                "UPDATE conversations SET next_seq = next_seq + 1, last_activity_at = $1, risks = $2, priority = $3 \
                 WHERE id = $4 AND status IN ('waiting', 'active', 'left_message') RETURNING next_seq, status",
            )
            .bind(job.at)
            .bind(risks.clone())
            .bind(*p)
            .bind(id.clone())
            .fetch_optional(&mut *tx)
            .await?
        }
        None => {
            sqlx::query(
                "UPDATE conversations SET next_seq = next_seq + 1, last_activity_at = $1 \
                 WHERE id = $2 AND status IN ('waiting', 'active', 'left_message') RETURNING next_seq, status",
            )
            .bind(job.at)
            .bind(id.clone())
            .fetch_optional(&mut *tx)
            .await?
        }
    };
    let Some(row) = row else {
        return Ok(Outcome::Ended);
    };
    let seq: i64 = row.try_get::<i64, _>(0)? - 1;
    let waiting = row.try_get::<String, _>(1)? == "waiting";
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO messages ({MSG_COLS}, search_body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (conversation_id, sender, client_id) DO NOTHING"
    )))
    .bind(id.clone())
    .bind(seq)
    .bind(job.sender.as_str())
    .bind(job.author.map(|a| a.to_string()))
    .bind(job.client_id.clone())
    .bind(job.body.clone())
    .bind(job.at)
    .bind(rempart_domain::text::fold_for_search(&job.body))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        // a retry: give the number back (the row is still locked by this transaction)
        sqlx::query("UPDATE conversations SET next_seq = next_seq - 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        return Ok(Outcome::Duplicate);
    }
    Ok(Outcome::New(
        MessageRecord {
            conversation_id: job.conversation,
            seq,
            sender: job.sender,
            author_id: job.author,
            client_id: job.client_id.clone(),
            body: job.body.clone(),
            created_at: job.at,
        },
        raised.is_some() && waiting,
    ))
}

/// The message stored under a client id.
pub(crate) async fn by_client(
    pool: &AnyPool,
    id: ConversationId,
    sender: Sender,
    client_id: &str,
) -> Result<Option<MessageRecord>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MSG_COLS} FROM messages WHERE conversation_id = $1 AND sender = $2 AND client_id = $3"
    )))
    .bind(id.to_string())
    .bind(sender.as_str())
    .bind(client_id.to_owned())
    .fetch_optional(pool)
    .await?;
    r.as_ref().map(message).transpose()
}
