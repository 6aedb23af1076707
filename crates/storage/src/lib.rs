//! Rempart's storage: one narrow, coarse-grained API over SQLite (embedded, default) and
//! PostgreSQL (several nodes on one database).
//!
//! Queries are written once, in the SQL both databases share, and run through sqlx's
//! `Any` driver; column types are TEXT and BIGINT only so they mean the same on both.
//! Every change is written in one transaction together with its audit event, so there
//! is never a change without its trace, nor a trace without its change.

mod appender;
mod audit;
mod bulk;
mod case_list;
mod cases;
mod chat;
mod migrate;
mod pubsub;
mod records;
mod sql;
mod staff;
pub mod testing;

pub use audit::{AuditEntry, AuditFilter, VerifyReport};
pub use case_list::{CaseCursor, CaseFilter, CasePage};
pub use chat::{Appended, ChatLoad, ConversationRecord, Handover, MessageRecord, NewConversation};
pub use pubsub::{Event, PubSub};
pub use records::*;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Storage errors. `NotFound` and `Conflict` are expected outcomes; the others are
/// failures the caller reports as a 5xx without details.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No such row (or not visible).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a concurrent change refused the write.
    #[error("conflict")]
    Conflict,
    /// The database URL's scheme is neither sqlite nor postgres.
    #[error("unsupported database URL scheme (expected sqlite:// or postgres://)")]
    UnsupportedScheme,
    /// A stored value could not be read back as a domain value.
    #[error("corrupt stored value in {0}")]
    Corrupt(&'static str),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, StorageError>;

/// The store: a connection pool and the backend it talks to.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    appender: appender::Appender,
}

impl Store {
    /// Connects to `url` (`sqlite://path` — created if missing — or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StorageError::UnsupportedScheme);
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .min_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL: readers never block the writer; FULL: a commit is on
                            // disk before we acknowledge; the busy timeout queues writers.
                            // Checkpoints run in the background (below), not inside
                            // whichever commit crosses the threshold.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                                 PRAGMA wal_autocheckpoint = 0;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?
            }
        };
        let appender = appender::Appender::start(pool.clone(), backend);
        if backend == Backend::Sqlite {
            tokio::spawn(checkpoints(pool.clone()));
        }
        Ok(Store {
            pool,
            backend,
            appender,
        })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations (embedded, append-only). Safe to call from several
    /// nodes at once.
    pub async fn migrate(&self) -> Result<usize> {
        migrate::run(self).await
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-then-write never fails on lock upgrade.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// SQLite's write-ahead log is copied back into the database by this task, every
/// quarter second, beside the writers: a passive checkpoint never blocks a commit, where the
/// automatic one would run inside the commit that crosses its threshold and hold every
/// message of that batch for the duration of a database flush.
async fn checkpoints(pool: AnyPool) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        tick.tick().await;
        if pool.is_closed() {
            break;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
            && !pool.is_closed()
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// Maps a unique-constraint violation to `Conflict`.
pub(crate) fn conflict_on_unique(e: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StorageError::Conflict;
    }
    StorageError::Database(e)
}
