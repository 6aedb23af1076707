//! Guidance: the ticks of a case's playbook steps, and the versions of the helpline's
//! playbooks document.

use crate::audit::AuditEntry;
use crate::{Result, StorageError, Store, conflict_on_unique};
use rempart_domain::ids::{CaseId, StaffId};
use sqlx::Row;

/// The last state of one step of a case's playbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookTick {
    /// The playbook's category code.
    pub playbook: String,
    /// The step's code.
    pub step: String,
    /// Ticked (done) or unticked again.
    pub done: bool,
    /// Who changed it last.
    pub changed_by: StaffId,
    /// Their display name.
    pub changed_by_name: String,
    /// When (ms).
    pub changed_at: i64,
}

/// One version of the helpline's playbooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookVersion {
    /// Its number (1, 2, …).
    pub version: i64,
    /// The TOML document (None: the embedded defaults).
    pub document: Option<String>,
    /// Who saved it.
    pub edited_by: StaffId,
    /// Their display name.
    pub edited_by_name: String,
    /// When (ms).
    pub edited_at: i64,
}

fn staff_id(s: &str) -> Result<StaffId> {
    StaffId::parse(s).map_err(|_| StorageError::Corrupt("staff id"))
}

impl Store {
    /// Ticks (`done`) or unticks a step of a case's playbook, with its audit event in the
    /// same transaction; the case is touched (its change time). `NotFound` for no case.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_playbook_tick(
        &self,
        case: CaseId,
        playbook: &str,
        step: &str,
        done: bool,
        by: StaffId,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query("UPDATE cases SET updated_at = $1 WHERE id = $2")
            .bind(audit.at)
            .bind(case.to_string())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        sqlx::query(
            "INSERT INTO playbook_ticks (case_id, playbook, step, done, changed_by, changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (case_id, playbook, step) DO UPDATE SET done = $4, changed_by = $5, changed_at = $6",
        )
        .bind(case.to_string())
        .bind(playbook.to_owned())
        .bind(step.to_owned())
        .bind(i64::from(done))
        .bind(by.to_string())
        .bind(audit.at)
        .execute(w.conn())
        .await?;
        w.commit(audit).await?;
        Ok(())
    }

    /// The ticks of a case, by playbook and step.
    pub async fn playbook_ticks(&self, case: CaseId) -> Result<Vec<PlaybookTick>> {
        let rows = sqlx::query(
            "SELECT t.playbook, t.step, t.done, t.changed_by, s.display_name, t.changed_at \
             FROM playbook_ticks t JOIN staff s ON s.id = t.changed_by \
             WHERE t.case_id = $1 ORDER BY t.playbook, t.step",
        )
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let by: String = r.try_get(3)?;
                let done: i64 = r.try_get(2)?;
                Ok(PlaybookTick {
                    playbook: r.try_get(0)?,
                    step: r.try_get(1)?,
                    done: done != 0,
                    changed_by: staff_id(&by)?,
                    changed_by_name: r.try_get(4)?,
                    changed_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// The number of the latest version of the playbooks (0: never edited).
    pub async fn playbooks_version(&self) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM playbook_versions")
            .fetch_one(self.pool())
            .await?;
        Ok(v.unwrap_or(0))
    }

    /// The latest version of the playbooks, if they were ever edited.
    pub async fn latest_playbooks(&self) -> Result<Option<PlaybookVersion>> {
        let r = sqlx::query(
            "SELECT v.version, v.document, v.edited_by, s.display_name, v.edited_at \
             FROM playbook_versions v JOIN staff s ON s.id = v.edited_by \
             ORDER BY v.version DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let by: String = r.try_get(2)?;
        Ok(Some(PlaybookVersion {
            version: r.try_get(0)?,
            document: r.try_get(1)?,
            edited_by: staff_id(&by)?,
            edited_by_name: r.try_get(3)?,
            edited_at: r.try_get(4)?,
        }))
    }

    /// Saves a new version of the playbooks (None: back to the defaults) on top of
    /// `based_on`, the version the editor read: when another was saved meanwhile, or at the
    /// same moment on another node, `Conflict` and nothing is written. Answers the new
    /// version's number; the audit entry is appended in the same transaction.
    pub async fn save_playbooks(
        &self,
        based_on: i64,
        document: Option<&str>,
        by: StaffId,
        audit: &AuditEntry,
    ) -> Result<i64> {
        let mut w = self.begin_write().await?;
        let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM playbook_versions")
            .fetch_one(w.conn())
            .await?;
        if latest.unwrap_or(0) != based_on {
            return w.refuse(StorageError::Conflict).await;
        }
        let version = based_on + 1;
        let inserted = sqlx::query(
            "INSERT INTO playbook_versions (version, document, edited_by, edited_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(version)
        .bind(document.map(str::to_owned))
        .bind(by.to_string())
        .bind(audit.at)
        .execute(w.conn())
        .await
        .map_err(conflict_on_unique);
        if let Err(e) = inserted {
            return w.refuse(e).await;
        }
        w.commit(audit).await?;
        Ok(version)
    }
}
