//! The one write path. Every change of the store goes through a [`WriteTx`]: it starts
//! the transaction (on SQLite with the write lock at once, `BEGIN IMMEDIATE`), and ends
//! with [`WriteTx::commit`], which appends the change's audit event(s) in the same
//! transaction before committing. The durable jobs of later features join the same
//! transaction the same way.
//!
//! A transaction that ends any other way — a database error, a refused change, a request
//! cancelled by its timeout — never leaves its connection in the pool half-way: a refusal
//! rolls back and returns the connection; anything else (an error while committing, a
//! dropped transaction whose rollback fails) closes the connection, so the next write gets
//! a fresh one. This is what lets a node recover by itself once a full disk has space
//! again, instead of failing every write on a connection stuck inside a dead transaction.

use crate::audit::{AuditEntry, append};
use crate::{Backend, Result, StorageError, Store};
use rempart_domain::audit::ChainKey;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// How long after a write failed at the database `/readyz` answers "not ready" without
/// probing: a probe writes one page, which may still fit on a disk too full for a batch of
/// messages (the log keeps the space of the frames a failed transaction wrote).
const NOT_READY_AFTER_FAILURE_MS: u64 = 5000;

/// Whether writes work, as the last ones went. A write that failed at the database (a
/// full disk, a lost server: at its start, in the message writer, at its commit) makes the
/// node not ready for a few seconds, then `/readyz` probes with a real write; a
/// transaction abandoned on the way (a statement's error, a cancelled request) only makes
/// `/readyz` probe. The next successful commit clears both.
#[derive(Debug)]
pub(crate) struct WriteHealth {
    suspect: AtomicBool,
    /// When a write last failed, ms after `since` (0: not since the last success).
    failed_at: AtomicU64,
    since: Instant,
}

impl Default for WriteHealth {
    fn default() -> Self {
        WriteHealth {
            suspect: AtomicBool::new(false),
            failed_at: AtomicU64::new(0),
            since: Instant::now(),
        }
    }
}

impl WriteHealth {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
    /// Whether `/readyz` must look closer than a read.
    pub(crate) fn suspect(&self) -> bool {
        self.suspect.load(Ordering::Relaxed)
    }
    /// A write failed at the database just now.
    pub(crate) fn failed(&self) {
        self.suspect.store(true, Ordering::Relaxed);
        self.failed_at.store(self.now_ms(), Ordering::Relaxed);
    }
    /// A transaction ended half-way: worth a probe.
    fn abandoned(&self) {
        self.suspect.store(true, Ordering::Relaxed);
    }
    /// A write committed.
    fn committed(&self) {
        self.suspect.store(false, Ordering::Relaxed);
        self.failed_at.store(0, Ordering::Relaxed);
    }
    /// Whether a write failed within the last few seconds.
    fn failed_recently(&self) -> bool {
        let at = self.failed_at.load(Ordering::Relaxed);
        at != 0 && self.now_ms().saturating_sub(at) < NOT_READY_AFTER_FAILURE_MS
    }
}

/// SQLite: every write transaction holds this gate (shared) while it runs, and the
/// checkpoint that truncates the write-ahead log takes it alone. Without it the truncating
/// checkpoint, which waits for the database's write lock, lost it to one batch of messages
/// after another and the log went on growing (to three times its limit) meanwhile.
pub(crate) type Gate = Arc<tokio::sync::RwLock<()>>;

/// A write transaction in progress.
pub(crate) struct WriteTx {
    conn: Option<PoolConnection<Any>>,
    health: Arc<WriteHealth>,
    key: Arc<ChainKey>,
    /// SQLite: the shared hold on the checkpoints' gate, until the transaction ended.
    gate: Option<tokio::sync::OwnedRwLockReadGuard<()>>,
}

impl Store {
    /// Starts a write transaction.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        WriteTx::begin(
            self.pool(),
            self.backend,
            &self.health,
            &self.audit_key,
            &self.gate,
        )
        .await
    }
}

impl WriteTx {
    /// Starts a write transaction on `pool`.
    pub(crate) async fn begin(
        pool: &AnyPool,
        backend: Backend,
        health: &Arc<WriteHealth>,
        key: &Arc<ChainKey>,
        gate: &Gate,
    ) -> Result<WriteTx> {
        // the gate before a connection: a truncating checkpoint holding it never waits
        // for a connection held by a transaction waiting for the gate
        let gate = match backend {
            Backend::Sqlite => Some(gate.clone().read_owned().await),
            Backend::Postgres => None,
        };
        let mut conn = match pool.acquire().await {
            Ok(c) => c,
            Err(e) => {
                health.failed();
                return Err(e.into());
            }
        };
        if let Err(e) = conn.execute(begin_sql(backend)).await {
            conn.close_on_drop();
            health.failed();
            return Err(e.into());
        }
        Ok(WriteTx {
            conn: Some(conn),
            health: health.clone(),
            key: key.clone(),
            gate,
        })
    }

    /// The connection, for the statements of the change.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        match self.conn.as_mut() {
            Some(c) => c,
            // only `commit`/`rollback` take the connection, and they consume `self`
            None => unreachable_conn(),
        }
    }

    /// Appends an audit event (for changes that record several).
    pub(crate) async fn audit(&mut self, e: &AuditEntry) -> Result<i64> {
        let key = self.key.clone();
        append(self.conn(), &key, e).await
    }

    /// Appends the change's audit event and commits both.
    pub(crate) async fn commit(mut self, audit: &AuditEntry) -> Result<()> {
        self.audit(audit).await?;
        self.finish().await
    }

    /// Commits a bookkeeping change that has no audit event of its own (a session's
    /// last-seen time, a batch of chat messages: the messages are their own record).
    pub(crate) async fn commit_unaudited(self) -> Result<()> {
        self.finish().await
    }

    async fn finish(mut self) -> Result<()> {
        let Some(mut conn) = self.conn.take() else {
            return Err(StorageError::Corrupt("transaction already ended"));
        };
        match conn.execute("COMMIT").await {
            Ok(_) => {
                self.health.committed();
                Ok(())
            }
            Err(e) => {
                // the transaction's state is unknown: this connection never serves again
                conn.close_on_drop();
                self.health.failed();
                Err(e.into())
            }
        }
    }

    /// Rolls back a refused change (nothing of it was written) and answers `err`.
    pub(crate) async fn refuse<T>(self, err: StorageError) -> Result<T> {
        self.abandon().await;
        Err(err)
    }

    /// Rolls back: nothing of the transaction was written.
    pub(crate) async fn abandon(mut self) {
        if let Some(mut conn) = self.conn.take()
            && conn.execute("ROLLBACK").await.is_err()
        {
            conn.close_on_drop();
        }
    }
}

#[allow(clippy::panic)]
fn unreachable_conn() -> ! {
    // `conn` is only None after commit/rollback, which consume the transaction.
    panic!("write transaction used after it ended")
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // Ended by an error or a cancelled request: roll back before the connection may
        // serve again, or close it.
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        self.health.abandoned();
        let gate = self.gate.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if conn.execute("ROLLBACK").await.is_err() {
                        conn.close_on_drop();
                    }
                    drop(gate);
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

impl Store {
    /// Whether writes work: after a write failed at the database, not for a few seconds;
    /// then (or after a transaction was abandoned) a real (empty) write transaction is
    /// tried, so a node whose disk is full says so, and says so no more once it recovered.
    pub async fn writable(&self) -> Result<()> {
        if !self.health.suspect() {
            return Ok(());
        }
        if self.health.failed_recently() {
            return Err(StorageError::WritesFailing);
        }
        let probe = async {
            let mut w = self.begin_write().await?;
            sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
                .execute(w.conn())
                .await?;
            w.commit_unaudited().await
        };
        let r = probe.await;
        if r.is_err() {
            self.health.failed();
        }
        r
    }
}

/// The statement that starts a write transaction: on SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so a read-then-write never fails on a lock upgrade.
pub(crate) fn begin_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}
