//! Rempart's storage: one narrow, coarse-grained API over SQLite (embedded, default) and
//! PostgreSQL (several nodes on one database).
//!
//! Queries are written once, in the SQL both databases share, and run through sqlx's
//! `Any` driver; column types are TEXT and BIGINT only so they mean the same on both.
//! Every change is written in one transaction together with its audit event, so there
//! is never a change without its trace, nor a trace without its change.

mod accounts;
mod appender;
mod audit;
mod bulk;
mod bulk_notices;
mod case_list;
mod cases;
mod chat;
mod evidence;
mod followup;
mod guidance;
mod jobs;
mod messages;
mod migrate;
mod notice_list;
mod notices;
mod partner;
mod pubsub;
mod records;
mod referrals;
mod sql;
mod staff;
pub mod testing;
mod write;

pub use accounts::{InvitationRecord, InvitationStatus, PasskeyRecord, RoleGrantRecord};
pub use audit::{AuditEntry, AuditFilter, VerifyReport};
pub use bulk::ReadyNotice;
pub use case_list::{COUNT_CAP, CaseCursor, CaseFilter, CasePage};
pub use chat::{Appended, ChatLoad, ConversationRecord, Handover, MessageRecord, NewConversation};
pub use evidence::{EvidenceRecord, StoredFingerprint};
pub use followup::{FollowUpAccess, FollowUpLogin, FollowUpMessage};
pub use guidance::{PlaybookTick, PlaybookVersion};
pub use jobs::{ClaimedJob, JobEnd, JobRecord, JobState, NewJob};
pub use notice_list::{
    NoticeCursor, NoticeFilter, NoticePage, NoticeSummary, NoticeTimes, OPEN_STATES,
};
pub use notices::{NewNotice, NoticeChange, NoticeRecord};
pub use partner::{NewPartnerKey, PartnerKeyRecord, PartnerNoticePage};
pub use pubsub::{Event, PubSub};
pub use records::*;
pub use referrals::{MailChange, ReferralMail, ReferralRecord};
pub use staff::{Attempt, LockPolicy, SecondFactorAttempt};

use rempart_domain::audit::ChainKey;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::Arc;
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
    /// Writes failed at the database a moment ago (a full disk, a lost server).
    #[error("writes are failing")]
    WritesFailing,
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, StorageError>;

/// How the store connects and keeps its database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Key of the audit chain's HMAC (derived from the helpline's master secret, never
    /// stored in the database).
    pub audit_key: ChainKey,
    /// Longest wait for a database connection before a request fails with
    /// `unavailable` (a database that is down must not hold requests for long); also the
    /// longest a batch of chat messages may take once it has its connection.
    pub acquire_timeout: Duration,
    /// SQLite: above this many bytes of write-ahead log, a checkpoint waits for readers
    /// and truncates it, so the log stays bounded under sustained writes.
    pub wal_limit_bytes: u64,
}

impl StoreOptions {
    /// Defaults around an audit key: a 3 s acquire timeout, a 64 MiB log.
    pub fn new(audit_key: ChainKey) -> Self {
        StoreOptions {
            audit_key,
            acquire_timeout: Duration::from_secs(3),
            wal_limit_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The store: a connection pool and the backend it talks to.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    appender: appender::Appender,
    audit_key: Arc<ChainKey>,
    health: Arc<write::WriteHealth>,
    wal: Arc<WalWatch>,
    gate: write::Gate,
}

/// The largest write-ahead log seen, for the benchmarks.
#[derive(Debug, Default)]
struct WalWatch {
    peak_bytes: std::sync::atomic::AtomicU64,
}

impl Store {
    /// Connects to `url` (`sqlite://path` — created if missing — or `postgres://…`).
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Store> {
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
                    .acquire_timeout(options.acquire_timeout)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL: readers never block the writer; FULL: a commit is on
                            // disk before we acknowledge; the busy timeout queues writers.
                            // Checkpoints run in the background (below), not inside
                            // whichever commit crosses the threshold; a log reset by a
                            // checkpoint is cut back to 8 MiB.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                                 PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 8388608;",
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
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(opts)
                    .await?
            }
        };
        let health = Arc::new(write::WriteHealth::default());
        let audit_key = Arc::new(options.audit_key.clone());
        let gate = write::Gate::default();
        let appender = appender::Appender::start(
            pool.clone(),
            backend,
            health.clone(),
            audit_key.clone(),
            gate.clone(),
            options.acquire_timeout,
        );
        let wal = Arc::new(WalWatch::default());
        if backend == Backend::Sqlite {
            tokio::spawn(checkpoints(
                pool.clone(),
                options.wal_limit_bytes,
                wal.clone(),
                wal_file(&url),
                gate.clone(),
            ));
        }
        Ok(Store {
            pool,
            backend,
            appender,
            audit_key,
            health,
            wal,
            gate,
        })
    }

    /// SQLite: the largest write-ahead log seen since start, in bytes (0 on PostgreSQL).
    pub fn wal_peak_bytes(&self) -> u64 {
        self.wal
            .peak_bytes
            .load(std::sync::atomic::Ordering::Relaxed)
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

    /// Closes the pool; on SQLite the write-ahead log is copied back and truncated
    /// first, so a clean stop leaves no log behind.
    pub async fn close(&self) {
        if self.backend == Backend::Sqlite
            && let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await
        {
            tracing::warn!(error = %e, "final WAL checkpoint failed");
        }
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// The `-wal` file beside a SQLite database (None in memory).
fn wal_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.starts_with(":memory:"))
        .then(|| std::path::PathBuf::from(format!("{path}-wal")))
}

/// SQLite's write-ahead log is copied back into the database by this task, every
/// quarter second, beside the writers: a passive checkpoint never blocks a commit, where
/// the automatic one would run inside the commit that crosses its threshold and hold
/// every message of that batch for the duration of a database flush. A passive
/// checkpoint cannot restart the log while readers still use its older frames, and under
/// sustained load some reader always does: once the log passes `limit` bytes, a
/// `TRUNCATE` checkpoint waits for those readers (new writers wait a few milliseconds
/// meanwhile: it takes the write transactions' gate alone), copies everything back and
/// cuts the file to zero. The file's size is looked at every 50 ms (a busy node writes
/// tens of megabytes of log a second), so it passes the limit by little before it is cut.
async fn checkpoints(
    pool: AnyPool,
    limit: u64,
    wal: Arc<WalWatch>,
    file: Option<std::path::PathBuf>,
    gate: write::Gate,
) {
    use sqlx::Row;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&pool)
        .await
        .unwrap_or(4096);
    let mut ticks: u64 = 0;
    while !pool.is_closed() {
        tick.tick().await;
        if pool.is_closed() {
            break;
        }
        ticks += 1;
        let mut bytes = match &file {
            Some(f) => tokio::fs::metadata(f).await.map_or(0, |m| m.len()),
            None => 0,
        };
        // past the limit already: straight to the truncation
        if ticks.is_multiple_of(5) && bytes <= limit {
            let r = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&pool)
                .await;
            match r {
                Ok(row) => {
                    let frames: i64 = row.try_get(1).unwrap_or(0);
                    bytes = bytes.max(u64::try_from(frames.max(0) * page).unwrap_or(0));
                }
                Err(e) => {
                    if !pool.is_closed() {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                    }
                    continue;
                }
            }
        }
        wal.peak_bytes
            .fetch_max(bytes, std::sync::atomic::Ordering::Relaxed);
        if bytes > limit {
            // alone: no write transaction runs meanwhile, none starts before it is done
            let _alone = gate.write().await;
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&pool)
                .await
                && !pool.is_closed()
            {
                tracing::warn!(error = %e, "WAL truncation failed");
            }
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
