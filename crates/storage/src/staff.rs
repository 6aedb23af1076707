//! Staff accounts and console sessions.

use crate::audit::{AuditEntry, append};
use crate::records::{SessionRecord, StaffRecord, decode_list, encode_list};
use crate::{Result, StorageError, Store, conflict_on_unique};
use rempart_domain::ids::StaffId;
use rempart_domain::policy::Role;
use sqlx::Row;
use sqlx::any::AnyRow;

const STAFF_COLS: &str = "id, email, display_name, role, team, lang, password_hash, totp_secret, totp_enabled, \
     totp_last_step, recovery_codes, disabled, failed_logins, locked_until, created_at";

fn staff(r: &AnyRow) -> Result<StaffRecord> {
    let id: String = r.try_get("id")?;
    let role: String = r.try_get("role")?;
    let codes: String = r.try_get("recovery_codes")?;
    Ok(StaffRecord {
        id: StaffId::parse(&id).map_err(|_| StorageError::Corrupt("staff.id"))?,
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&role).map_err(|_| StorageError::Corrupt("staff.role"))?,
        team: r.try_get("team")?,
        lang: r.try_get("lang")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        totp_enabled: r.try_get::<i64, _>("totp_enabled")? != 0,
        totp_last_step: r.try_get("totp_last_step")?,
        recovery_codes: decode_list(&codes),
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get("locked_until")?,
        created_at: r.try_get("created_at")?,
    })
}

fn session(r: &AnyRow) -> Result<SessionRecord> {
    let staff_id: String = r.try_get("staff_id")?;
    Ok(SessionRecord {
        token_hash: r.try_get("token_hash")?,
        staff_id: StaffId::parse(&staff_id)
            .map_err(|_| StorageError::Corrupt("session.staff_id"))?,
        csrf_token: r.try_get("csrf_token")?,
        mfa_done: r.try_get::<i64, _>("mfa_done")? != 0,
        created_at: r.try_get("created_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        ended_at: r.try_get("ended_at")?,
    })
}

impl Store {
    /// Creates an account; `Conflict` when the e-mail is taken.
    pub async fn create_staff(&self, s: &StaffRecord, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO staff (id, email, display_name, role, team, lang, password_hash, totp_secret, totp_enabled, \
             totp_last_step, recovery_codes, disabled, failed_logins, locked_until, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
        )
        .bind(s.id.to_string())
        .bind(s.email.clone())
        .bind(s.display_name.clone())
        .bind(s.role.as_str())
        .bind(s.team.clone())
        .bind(s.lang.clone())
        .bind(s.password_hash.clone())
        .bind(s.totp_secret.clone())
        .bind(i64::from(s.totp_enabled))
        .bind(s.totp_last_step)
        .bind(encode_list(&s.recovery_codes))
        .bind(i64::from(s.disabled))
        .bind(s.failed_logins)
        .bind(s.locked_until)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique)?;
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Looks an account up by e-mail.
    pub async fn staff_by_email(&self, email: &str) -> Result<Option<StaffRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLS} FROM staff WHERE email = $1"
        )))
        .bind(email.to_owned())
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(staff).transpose()
    }

    /// Looks an account up by id.
    pub async fn staff_by_id(&self, id: StaffId) -> Result<Option<StaffRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLS} FROM staff WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(staff).transpose()
    }

    /// All accounts, by name.
    pub async fn list_staff(&self) -> Result<Vec<StaffRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLS} FROM staff ORDER BY display_name"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(staff).collect()
    }

    /// Records a failed login and the resulting lock.
    pub async fn record_login_failure(
        &self,
        id: StaffId,
        failed_logins: i64,
        locked_until: i64,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE staff SET failed_logins = $1, locked_until = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(failed_logins)
        .bind(locked_until)
        .bind(audit.at)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a successful password check: resets the counter and opens a session.
    pub async fn open_session(&self, s: &SessionRecord, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE staff SET failed_logins = 0, locked_until = 0, updated_at = $1 WHERE id = $2",
        )
        .bind(s.created_at)
        .bind(s.staff_id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, mfa_done, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(s.token_hash.clone())
        .bind(s.staff_id.to_string())
        .bind(s.csrf_token.clone())
        .bind(i64::from(s.mfa_done))
        .bind(s.created_at)
        .execute(&mut *tx)
        .await?;
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A live or ended session by token hash.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let r = sqlx::query(
            "SELECT token_hash, staff_id, csrf_token, mfa_done, created_at, last_seen_at, ended_at \
             FROM staff_sessions WHERE token_hash = $1",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(session).transpose()
    }

    /// Moves a session's last-seen time forward.
    pub async fn touch_session(&self, token_hash: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2 AND ended_at IS NULL")
            .bind(at)
            .bind(token_hash.to_owned())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Marks the second factor as passed for a session.
    pub async fn session_mfa_done(&self, token_hash: &str, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE staff_sessions SET mfa_done = 1, last_seen_at = $1 WHERE token_hash = $2 AND ended_at IS NULL")
            .bind(audit.at)
            .bind(token_hash.to_owned())
            .execute(&mut *tx)
            .await?;
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends one session (logout, expiry).
    pub async fn end_session(&self, token_hash: &str, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE staff_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL",
        )
        .bind(audit.at)
        .bind(token_hash.to_owned())
        .execute(&mut *tx)
        .await?;
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables or re-enables an account; disabling ends all its sessions in the same
    /// transaction.
    pub async fn set_staff_disabled(
        &self,
        id: StaffId,
        disabled: bool,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE staff SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(audit.at)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StorageError::NotFound);
        }
        if disabled {
            sqlx::query(
                "UPDATE staff_sessions SET ended_at = $1 WHERE staff_id = $2 AND ended_at IS NULL",
            )
            .bind(audit.at)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes an account's role and team.
    pub async fn set_staff_role(
        &self,
        id: StaffId,
        role: Role,
        team: Option<String>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE staff SET role = $1, team = $2, updated_at = $3 WHERE id = $4")
            .bind(role.as_str())
            .bind(team)
            .bind(audit.at)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StorageError::NotFound);
        }
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores second-factor settings (secret, active flag, recovery code hashes).
    pub async fn set_totp(
        &self,
        id: StaffId,
        secret: Option<String>,
        enabled: bool,
        recovery_codes: &[String],
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE staff SET totp_secret = $1, totp_enabled = $2, recovery_codes = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(secret)
        .bind(i64::from(enabled))
        .bind(encode_list(recovery_codes))
        .bind(audit.at)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepts a TOTP time step once: returns false when that step (or a later one)
    /// was already used, which stops a code being replayed.
    pub async fn claim_totp_step(&self, id: StaffId, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE staff SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(id.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Uses up a recovery code (by hash): returns false when it is not (or no longer) valid.
    pub async fn use_recovery_code(
        &self,
        id: StaffId,
        code_hash: &str,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let codes: Option<String> =
            sqlx::query_scalar("SELECT recovery_codes FROM staff WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let Some(codes) = codes else {
            return Ok(false);
        };
        let mut list = decode_list(&codes);
        let before = list.len();
        list.retain(|c| c != code_hash);
        if list.len() == before {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("UPDATE staff SET recovery_codes = $1 WHERE id = $2")
            .bind(encode_list(&list))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Number of accounts (the demo seeds only an empty database).
    pub async fn staff_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM staff")
            .fetch_one(self.pool())
            .await?)
    }
}
