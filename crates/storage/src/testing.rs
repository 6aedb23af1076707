//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database
//! when `REMPART_TEST_POSTGRES` holds a server URL (e.g. `postgres://postgres@127.0.0.1:5432`).

use crate::{Result, Store, StoreOptions};
use rempart_domain::audit::ChainKey;
use std::path::PathBuf;

/// Store options for tests: a fixed audit key (tests only: a real helpline derives its key
/// from its master secret).
pub fn options() -> StoreOptions {
    StoreOptions::new(ChainKey::new([0x42; 32]))
}

/// Keeps a test database alive; the SQLite file is removed on drop.
#[derive(Debug)]
pub struct TestDb {
    /// The database URL.
    pub url: String,
    dir: Option<PathBuf>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// The PostgreSQL server tests should use, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("REMPART_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Creates a fresh, empty database and returns its URL.
pub async fn fresh_database() -> Result<TestDb> {
    let name = format!("rempart_t_{}", uuid::Uuid::new_v4().simple());
    match postgres_server() {
        Some(server) => {
            let server = server.trim_end_matches('/');
            let admin = Store::connect(&format!("{server}/postgres"), &options()).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(admin.pool())
                .await?;
            admin.close().await;
            Ok(TestDb {
                url: format!("{server}/{name}"),
                dir: None,
            })
        }
        None => {
            let dir = std::env::temp_dir().join(&name);
            std::fs::create_dir_all(&dir)
                .map_err(|e| crate::StorageError::Database(sqlx::Error::Io(e)))?;
            Ok(TestDb {
                url: format!("sqlite://{}/rempart.db", dir.display()),
                dir: Some(dir),
            })
        }
    }
}

impl Store {
    /// Runs raw SQL: only for tests that simulate tampering with the database.
    pub async fn tamper_for_tests(&self, sql: &'static str) {
        let _ = sqlx::query(sql).execute(self.pool()).await;
    }
}

impl Store {
    /// PostgreSQL: cuts every connection of this database that is listening for events
    /// (as a network failure would), and says how many were cut. For tests.
    pub async fn terminate_listeners_for_tests(&self) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }
}

/// A representative audit event for an action code, for tests that only need some event
/// of that kind in the trail (reads, changes).
pub fn event(action: &str) -> rempart_domain::audit::event::AuditEvent {
    use rempart_domain::audit::event::AuditEvent::*;
    use rempart_domain::case::CaseStatus;
    match action {
        "case.created" => CaseCreated,
        "case.read" => CaseRead { notes: vec![] },
        "case.status_changed" => CaseStatusChanged {
            from: CaseStatus::New,
            to: CaseStatus::InProgress,
            outcome: None,
        },
        "case.assigned" => CaseAssigned { assignees: vec![] },
        "item.added" => ItemAdded {
            platform: "tiktok".into(),
        },
        "note.added" => NoteAdded {
            visibility: rempart_domain::case::NoteVisibility::Team,
        },
        "contact.logged" => ContactLogged {
            channel: rempart_domain::values::Channel::Phone,
        },
        "conversation.started" => ConversationStarted {
            left_message: false,
        },
        "conversation.ended" => ConversationEnded { case_opened: false },
        "conversation.taken" => ConversationTaken,
        "auth.login" => Login,
        "staff.created" => StaffCreated {
            role: rempart_domain::policy::Role::Counsellor,
        },
        "staff.disabled" => StaffDisabled,
        "staff.edited" => StaffEdited {
            email_changed: false,
        },
        "auth.totp_enrolled" => TotpEnrolled,
        "auth.recovery_code_used" => {
            SecondFactorPassed(rempart_domain::audit::event::Factor::RecoveryCode)
        }
        _ => AuditViewed,
    }
}
