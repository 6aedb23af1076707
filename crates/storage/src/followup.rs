//! The follow-up page's storage: a case's code and the keyed hash of its secret, the
//! attempts counted and locked in the transaction that decides, the open pages (the
//! token's hash only), and the messages both ways.

use crate::audit::AuditEntry;
use crate::{Result, StorageError, Store, conflict_on_unique};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::followup::{MAX_FAILURES, lock_duration_ms};
use rempart_domain::ids::{CaseId, StaffId};
use sqlx::Row;

/// A case's follow-up access as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpAccess {
    /// The code (canonical form).
    pub code: String,
    /// Who gave it.
    pub issued_by: StaffId,
    /// When (ms).
    pub issued_at: i64,
    /// Locked until (ms; 0 or past: not locked).
    pub locked_until: i64,
}

/// What an attempt to open the follow-up page came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpLogin {
    /// The secret matched: the page is open for this case.
    Opened(CaseId),
    /// No such code, or a wrong secret (not told apart to the person typing).
    Refused,
    /// The code is locked after too many wrong secrets, until then (ms).
    Locked(i64),
}

/// A message on the follow-up page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpMessage {
    /// Id (UUIDv7 text).
    pub id: String,
    /// Case.
    pub case_id: CaseId,
    /// Written by the young person (else by the helpline).
    pub from_young_person: bool,
    /// The staff member who answered (never shown to the young person).
    pub author: Option<StaffId>,
    /// The text.
    pub body: String,
    /// When (ms).
    pub created_at: i64,
}

fn same(a: &str, b: &str) -> bool {
    // constant time over equal lengths; the lengths are public (hex of one digest)
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Store {
    /// Gives a case its follow-up code and secret (the secret's keyed hash), replacing any
    /// earlier one and closing the pages it opened, with the audit event. `Conflict` when
    /// another case has this code (the caller draws another); `NotFound` for no case.
    pub async fn issue_followup(
        &self,
        case: CaseId,
        code: &str,
        secret_hash: &str,
        by: StaffId,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        if let Err(err) = crate::cases::touch_case(w.conn(), case, audit.at).await {
            return w.refuse(err).await;
        }
        sqlx::query("DELETE FROM followup_access WHERE case_id = $1")
            .bind(case.to_string())
            .execute(w.conn())
            .await?;
        sqlx::query("DELETE FROM followup_sessions WHERE case_id = $1")
            .bind(case.to_string())
            .execute(w.conn())
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO followup_access (case_id, code, secret_hash, issued_by, issued_at, failures, locks, locked_until) \
             VALUES ($1, $2, $3, $4, $5, 0, 0, 0)",
        )
        .bind(case.to_string())
        .bind(code.to_owned())
        .bind(secret_hash.to_owned())
        .bind(by.to_string())
        .bind(audit.at)
        .execute(w.conn())
        .await;
        if let Err(e) = inserted {
            let e = conflict_on_unique(e);
            return w.refuse(e).await;
        }
        w.commit(audit).await
    }

    /// Withdraws a case's follow-up code (its pages close), with the audit event.
    /// `NotFound` when it has none.
    pub async fn revoke_followup(&self, case: CaseId, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM followup_access WHERE case_id = $1")
            .bind(case.to_string())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        sqlx::query("DELETE FROM followup_sessions WHERE case_id = $1")
            .bind(case.to_string())
            .execute(w.conn())
            .await?;
        w.commit(audit).await
    }

    /// A case's follow-up access, if it has one.
    pub async fn followup_access(&self, case: CaseId) -> Result<Option<FollowUpAccess>> {
        let r = sqlx::query(
            "SELECT code, issued_by, issued_at, locked_until FROM followup_access WHERE case_id = $1",
        )
        .bind(case.to_string())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let by: String = r.try_get(1)?;
        Ok(Some(FollowUpAccess {
            code: r.try_get(0)?,
            issued_by: StaffId::parse(&by)
                .map_err(|_| StorageError::Corrupt("followup_access.issued_by"))?,
            issued_at: r.try_get(2)?,
            locked_until: r.try_get(3)?,
        }))
    }

    /// Tries a code and the keyed hash of a typed secret. In one transaction, under the
    /// code's row lock: a locked code is refused without checking; a wrong secret counts a
    /// failure (the `MAX_FAILURES`-th locks the code, for longer at each lock) with its
    /// audit event; the right one resets the count, opens a page (`token_hash`) and is
    /// audited. An unknown code answers `Refused` like a wrong secret.
    pub async fn followup_login(
        &self,
        code: &str,
        secret_hash: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<FollowUpLogin> {
        let mut w = self.begin_write().await?;
        // the UPDATE takes the row's lock (PostgreSQL) before anything is read
        let n = sqlx::query("UPDATE followup_access SET failures = failures WHERE code = $1")
            .bind(code.to_owned())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            w.abandon().await;
            return Ok(FollowUpLogin::Refused);
        }
        let r = sqlx::query(
            "SELECT case_id, secret_hash, failures, locks, locked_until FROM followup_access WHERE code = $1",
        )
        .bind(code.to_owned())
        .fetch_one(w.conn())
        .await?;
        let case: String = r.try_get(0)?;
        let case =
            CaseId::parse(&case).map_err(|_| StorageError::Corrupt("followup_access.case_id"))?;
        let stored: String = r.try_get(1)?;
        let failures: i64 = r.try_get(2)?;
        let locks: i64 = r.try_get(3)?;
        let locked_until: i64 = r.try_get(4)?;
        if locked_until > now {
            w.abandon().await;
            return Ok(FollowUpLogin::Locked(locked_until));
        }
        if same(&stored, secret_hash) {
            sqlx::query("UPDATE followup_access SET failures = 0 WHERE code = $1")
                .bind(code.to_owned())
                .execute(w.conn())
                .await?;
            sqlx::query(
                "INSERT INTO followup_sessions (token_hash, case_id, created_at, last_seen) VALUES ($1, $2, $3, $3)",
            )
            .bind(token_hash.to_owned())
            .bind(case.to_string())
            .bind(now)
            .execute(w.conn())
            .await?;
            w.commit(&AuditEntry::new(now, None, AuditEvent::FollowUpOpened).case(case))
                .await?;
            return Ok(FollowUpLogin::Opened(case));
        }
        let failures = failures + 1;
        let locked = failures >= MAX_FAILURES;
        let (failures_after, locks_after, until) = if locked {
            (0, locks + 1, now + lock_duration_ms(locks + 1))
        } else {
            (failures, locks, 0)
        };
        sqlx::query(
            "UPDATE followup_access SET failures = $1, locks = $2, locked_until = $3 WHERE code = $4",
        )
        .bind(failures_after)
        .bind(locks_after)
        .bind(until)
        .bind(code.to_owned())
        .execute(w.conn())
        .await?;
        w.commit(
            &AuditEntry::new(now, None, AuditEvent::FollowUpFailed { failures, locked }).case(case),
        )
        .await?;
        Ok(if locked {
            FollowUpLogin::Locked(until)
        } else {
            FollowUpLogin::Refused
        })
    }

    /// The case of an open follow-up page, if its token is known and was used within
    /// `idle_ms`; touches it. A page idle for longer is closed.
    pub async fn followup_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_ms: i64,
    ) -> Result<Option<CaseId>> {
        let r =
            sqlx::query("SELECT case_id, last_seen FROM followup_sessions WHERE token_hash = $1")
                .bind(token_hash.to_owned())
                .fetch_optional(self.pool())
                .await?;
        let Some(r) = r else { return Ok(None) };
        let case: String = r.try_get(0)?;
        let last: i64 = r.try_get(1)?;
        let mut w = self.begin_write().await?;
        if now - last > idle_ms {
            sqlx::query("DELETE FROM followup_sessions WHERE token_hash = $1")
                .bind(token_hash.to_owned())
                .execute(w.conn())
                .await?;
            w.commit_unaudited().await?;
            return Ok(None);
        }
        sqlx::query("UPDATE followup_sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash.to_owned())
            .execute(w.conn())
            .await?;
        w.commit_unaudited().await?;
        Ok(Some(CaseId::parse(&case).map_err(|_| {
            StorageError::Corrupt("followup_sessions.case_id")
        })?))
    }

    /// Closes a follow-up page (quick exit, or leaving).
    pub async fn end_followup_session(&self, token_hash: &str) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("DELETE FROM followup_sessions WHERE token_hash = $1")
            .bind(token_hash.to_owned())
            .execute(w.conn())
            .await?;
        w.commit_unaudited().await
    }

    /// Writes a message on a case's follow-up page, with its audit event.
    pub async fn add_followup_message(
        &self,
        m: &FollowUpMessage,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        if let Err(err) = crate::cases::touch_case(w.conn(), m.case_id, audit.at).await {
            return w.refuse(err).await;
        }
        sqlx::query(
            "INSERT INTO followup_messages (id, case_id, from_young_person, author_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(m.id.clone())
        .bind(m.case_id.to_string())
        .bind(i64::from(m.from_young_person))
        .bind(m.author.map(|a| a.to_string()))
        .bind(m.body.clone())
        .bind(m.created_at)
        .execute(w.conn())
        .await
        .map_err(conflict_on_unique)?;
        w.commit(audit).await
    }

    /// A case's follow-up messages, oldest first (at most the last 200).
    pub async fn followup_messages(&self, case: CaseId) -> Result<Vec<FollowUpMessage>> {
        let rows = sqlx::query(
            "SELECT id, from_young_person, author_id, body, created_at FROM followup_messages \
             WHERE case_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
        )
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                let from: i64 = r.try_get(1)?;
                let author: Option<String> = r.try_get(2)?;
                Ok(FollowUpMessage {
                    id: r.try_get(0)?,
                    case_id: case,
                    from_young_person: from != 0,
                    author: author
                        .map(|a| {
                            StaffId::parse(&a)
                                .map_err(|_| StorageError::Corrupt("followup_messages.author_id"))
                        })
                        .transpose()?,
                    body: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// A case's notices as the follow-up page counts them: sent and waiting for the
    /// platform, and removed or restricted.
    pub async fn followup_notice_counts(&self, case: CaseId) -> Result<(u32, u32)> {
        let r = sqlx::query(
            "SELECT \
             SUM(CASE WHEN state IN ('sent', 'acknowledged', 'escalated', 'failed') THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state IN ('removed', 'restricted') THEN 1 ELSE 0 END) \
             FROM notices WHERE case_id = $1",
        )
        .bind(case.to_string())
        .fetch_one(self.pool())
        .await?;
        let waiting: Option<i64> = r.try_get(0)?;
        let removed: Option<i64> = r.try_get(1)?;
        let n = |v: Option<i64>| u32::try_from(v.unwrap_or(0)).unwrap_or(u32::MAX);
        Ok((n(waiting), n(removed)))
    }
}
