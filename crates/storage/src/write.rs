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
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the last write failed at the database (a full disk, a lost server): `/readyz`
/// then probes with a real write instead of trusting a read.
#[derive(Debug, Default)]
pub(crate) struct WriteHealth {
    failing: AtomicBool,
}

impl WriteHealth {
    pub(crate) fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }
    fn set(&self, failing: bool) {
        self.failing.store(failing, Ordering::Relaxed);
    }
}

/// A write transaction in progress.
pub(crate) struct WriteTx {
    conn: Option<PoolConnection<Any>>,
    health: Arc<WriteHealth>,
    key: Arc<ChainKey>,
}

impl Store {
    /// Starts a write transaction.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        WriteTx::begin(self.pool(), self.backend, &self.health, &self.audit_key).await
    }
}

impl WriteTx {
    /// Starts a write transaction on `pool`.
    pub(crate) async fn begin(
        pool: &AnyPool,
        backend: Backend,
        health: &Arc<WriteHealth>,
        key: &Arc<ChainKey>,
    ) -> Result<WriteTx> {
        let mut conn = match pool.acquire().await {
            Ok(c) => c,
            Err(e) => {
                health.set(true);
                return Err(e.into());
            }
        };
        if let Err(e) = conn.execute(begin_sql(backend)).await {
            conn.close_on_drop();
            health.set(true);
            return Err(e.into());
        }
        Ok(WriteTx {
            conn: Some(conn),
            health: health.clone(),
            key: key.clone(),
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
                self.health.set(false);
                Ok(())
            }
            Err(e) => {
                // the transaction's state is unknown: this connection never serves again
                conn.close_on_drop();
                self.health.set(true);
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
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if conn.execute("ROLLBACK").await.is_err() {
                        conn.close_on_drop();
                    }
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

impl Store {
    /// Whether writes work: after a failed write, a real (empty) write transaction is
    /// tried, so a node whose disk is full says so, and says so no more once it recovered.
    pub async fn writable(&self) -> Result<()> {
        if !self.health.failing() {
            return Ok(());
        }
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(w.conn())
            .await?;
        w.commit_unaudited().await
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
