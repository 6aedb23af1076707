//! Staff accounts and console sessions.

use crate::audit::AuditEntry;
use crate::records::{SessionRecord, StaffRecord, decode_list, encode_list};
use crate::{Result, StorageError, Store, conflict_on_unique};
use rempart_domain::ids::StaffId;
use rempart_domain::policy::Role;
use sqlx::Row;
use sqlx::any::AnyRow;

const STAFF_COLS: &str = "id, email, display_name, role, team, lang, password_hash, totp_secret, totp_enabled, \
     totp_last_step, recovery_codes, disabled, second_factor_failures, second_factor_locked_until, created_at, \
     (SELECT COUNT(*) FROM passkeys p WHERE p.staff_id = staff.id) AS passkey_count";

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
        second_factor_failures: r.try_get("second_factor_failures")?,
        second_factor_locked_until: r.try_get("second_factor_locked_until")?,
        passkeys: r.try_get("passkey_count")?,
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
        second_factor_failures: r.try_get("second_factor_failures")?,
        created_at: r.try_get("created_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        ended_at: r.try_get("ended_at")?,
    })
}

impl Store {
    /// Creates an account; `Conflict` when the e-mail is taken.
    pub async fn create_staff(&self, s: &StaffRecord, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        insert_staff(w.conn(), s).await?;
        w.commit(audit).await
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

    /// Counts a login attempt for `key` (a keyed hash of the e-mail address, whether or
    /// not it names an account) before its password is checked, in the transaction that
    /// decides the lock: however many attempts arrive at once, each is counted, and once
    /// the count reaches the free attempts the lock is set before the check — so no more
    /// than the free attempts are ever checked. A success clears it ([`open_session`]).
    pub async fn reserve_login_attempt(
        &self,
        key: &str,
        now: i64,
        lock: &LockPolicy,
    ) -> Result<Attempt> {
        let mut w = self.begin_write().await?;
        // failures forgotten after a day without attempts (and no lock running): the table
        // holds the addresses tried lately, not every address ever tried
        sqlx::query("DELETE FROM login_throttle WHERE updated_at < $1 AND locked_until < $2")
            .bind(now - 86_400_000)
            .bind(now)
            .execute(w.conn())
            .await?;
        sqlx::query(
            "INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES ($1, 0, 0, $2) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key.to_owned())
        .bind(now)
        .execute(w.conn())
        .await?;
        let n: Option<i64> = sqlx::query_scalar(
            "UPDATE login_throttle SET failures = failures + 1, updated_at = $1 \
             WHERE key = $2 AND locked_until <= $1 RETURNING failures",
        )
        .bind(now)
        .bind(key.to_owned())
        .fetch_optional(w.conn())
        .await?;
        let attempt = match n {
            None => {
                let until: i64 =
                    sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE key = $1")
                        .bind(key.to_owned())
                        .fetch_one(w.conn())
                        .await?;
                Attempt::Locked { until }
            }
            Some(n) => {
                if let Some(until) = lock.until(n, now) {
                    sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE key = $2")
                        .bind(until)
                        .bind(key.to_owned())
                        .execute(w.conn())
                        .await?;
                }
                Attempt::Counted { failures: n }
            }
        };
        w.commit_unaudited().await?;
        Ok(attempt)
    }

    /// Counts a second-factor attempt of a session and of its account before it is
    /// checked, in one transaction: first the session's (once it used `session_max`
    /// attempts, the next ones are refused unchecked and the caller ends it), then the
    /// account's own counter, whose lock works like [`Store::reserve_login_attempt`]'s —
    /// and which a password success does not reset.
    pub async fn reserve_second_factor(
        &self,
        staff: StaffId,
        session_hash: &str,
        now: i64,
        lock: &LockPolicy,
        session_max: i64,
    ) -> Result<SecondFactorAttempt> {
        let mut w = self.begin_write().await?;
        let in_session: Option<i64> = sqlx::query_scalar(
            "UPDATE staff_sessions SET second_factor_failures = second_factor_failures + 1 \
             WHERE token_hash = $1 AND ended_at IS NULL RETURNING second_factor_failures",
        )
        .bind(session_hash.to_owned())
        .fetch_optional(w.conn())
        .await?;
        let Some(in_session) = in_session else {
            w.abandon().await;
            return Ok(SecondFactorAttempt::SessionEnded);
        };
        if in_session > session_max {
            w.commit_unaudited().await?;
            return Ok(SecondFactorAttempt::SessionUsedUp);
        }
        let n: Option<i64> = sqlx::query_scalar(
            "UPDATE staff SET second_factor_failures = second_factor_failures + 1 \
             WHERE id = $1 AND second_factor_locked_until <= $2 RETURNING second_factor_failures",
        )
        .bind(staff.to_string())
        .bind(now)
        .fetch_optional(w.conn())
        .await?;
        let Some(n) = n else {
            w.abandon().await;
            return Ok(SecondFactorAttempt::Locked);
        };
        if let Some(until) = lock.until(n, now) {
            sqlx::query("UPDATE staff SET second_factor_locked_until = $1 WHERE id = $2")
                .bind(until)
                .bind(staff.to_string())
                .execute(w.conn())
                .await?;
        }
        w.commit_unaudited().await?;
        Ok(SecondFactorAttempt::Counted {
            failures: n,
            in_session,
        })
    }

    /// Opens a session after a correct password: the e-mail's lock-out counter is cleared
    /// (the second factor's is not).
    pub async fn open_session(
        &self,
        s: &SessionRecord,
        throttle_key: &str,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(throttle_key.to_owned())
            .execute(w.conn())
            .await?;
        insert_session(w.conn(), s).await?;
        w.commit(audit).await
    }

    /// The second factor passed: the account's counter is cleared, the half-open session
    /// ends and a new, full one (a new token) takes its place.
    pub async fn upgrade_session(
        &self,
        old_hash: &str,
        new: &SessionRecord,
        ended: &AuditEntry,
        passed: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE staff_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL AND staff_id = $3",
        )
        .bind(new.created_at)
        .bind(old_hash.to_owned())
        .bind(new.staff_id.to_string())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        sqlx::query(
            "UPDATE staff SET second_factor_failures = 0, second_factor_locked_until = 0 WHERE id = $1",
        )
        .bind(new.staff_id.to_string())
        .execute(w.conn())
        .await?;
        insert_session(w.conn(), new).await?;
        w.audit(ended).await?;
        w.commit(passed).await
    }

    /// Keeps a passkey challenge in progress for a session (or clears it).
    pub async fn set_webauthn_state(
        &self,
        session_hash: &str,
        state: Option<String>,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE staff_sessions SET webauthn_state = $1 WHERE token_hash = $2 AND ended_at IS NULL")
            .bind(state)
            .bind(session_hash.to_owned())
            .execute(w.conn())
            .await?;
        w.commit_unaudited().await
    }

    /// Takes the passkey challenge in progress of a session (it is used once).
    pub async fn take_webauthn_state(&self, session_hash: &str) -> Result<Option<String>> {
        let mut w = self.begin_write().await?;
        let state: Option<Option<String>> = sqlx::query_scalar(
            "SELECT webauthn_state FROM staff_sessions WHERE token_hash = $1 AND ended_at IS NULL",
        )
        .bind(session_hash.to_owned())
        .fetch_optional(w.conn())
        .await?;
        sqlx::query("UPDATE staff_sessions SET webauthn_state = NULL WHERE token_hash = $1")
            .bind(session_hash.to_owned())
            .execute(w.conn())
            .await?;
        w.commit_unaudited().await?;
        Ok(state.flatten())
    }

    /// A live or ended session by token hash.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let r = sqlx::query(
            "SELECT token_hash, staff_id, csrf_token, mfa_done, second_factor_failures, created_at, last_seen_at, ended_at \
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

    /// Ends one session (logout, expiry).
    /// (Already ended: nothing is written, no second event.)
    pub async fn end_session(&self, token_hash: &str, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE staff_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL",
        )
        .bind(audit.at)
        .bind(token_hash.to_owned())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            w.abandon().await;
            return Ok(());
        }
        w.commit(audit).await
    }

    /// Disables or re-enables an account; disabling ends all its sessions in the same
    /// transaction.
    pub async fn set_staff_disabled(
        &self,
        id: StaffId,
        disabled: bool,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query("UPDATE staff SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(audit.at)
            .bind(id.to_string())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        if disabled {
            sqlx::query(
                "UPDATE staff_sessions SET ended_at = $1 WHERE staff_id = $2 AND ended_at IS NULL",
            )
            .bind(audit.at)
            .bind(id.to_string())
            .execute(w.conn())
            .await?;
        }
        w.commit(audit).await?;
        Ok(())
    }

    /// Corrects an account's name and login address (`Conflict` when another account has
    /// the address).
    pub async fn set_staff_identity(
        &self,
        id: StaffId,
        display_name: &str,
        email: &str,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = match sqlx::query(
            "UPDATE staff SET display_name = $1, email = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(display_name.to_owned())
        .bind(email.to_owned())
        .bind(audit.at)
        .bind(id.to_string())
        .execute(w.conn())
        .await
        {
            Ok(r) => r.rows_affected(),
            Err(e) => return w.refuse(crate::conflict_on_unique(e)).await,
        };
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        w.commit(audit).await?;
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
        let mut w = self.begin_write().await?;
        let n = sqlx::query("UPDATE staff SET role = $1, team = $2, updated_at = $3 WHERE id = $4")
            .bind(role.as_str())
            .bind(team)
            .bind(audit.at)
            .bind(id.to_string())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        w.commit(audit).await?;
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
        let mut w = self.begin_write().await?;
        sqlx::query(
            "UPDATE staff SET totp_secret = $1, totp_enabled = $2, recovery_codes = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(secret)
        .bind(i64::from(enabled))
        .bind(encode_list(recovery_codes))
        .bind(audit.at)
        .bind(id.to_string())
        .execute(w.conn())
        .await?;
        w.commit(audit).await?;
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
        let mut w = self.begin_write().await?;
        let codes: Option<String> =
            sqlx::query_scalar("SELECT recovery_codes FROM staff WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(w.conn())
                .await?;
        let Some(codes) = codes else {
            w.abandon().await;
            return Ok(false);
        };
        let mut list = decode_list(&codes);
        let before = list.len();
        list.retain(|c| c != code_hash);
        if list.len() == before {
            w.abandon().await;
            return Ok(false);
        }
        sqlx::query("UPDATE staff SET recovery_codes = $1 WHERE id = $2")
            .bind(encode_list(&list))
            .bind(id.to_string())
            .execute(w.conn())
            .await?;
        w.commit(audit).await?;
        Ok(true)
    }

    /// Number of accounts (the demo seeds only an empty database).
    pub async fn staff_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM staff")
            .fetch_one(self.pool())
            .await?)
    }
}

/// Inserts a session (inside the caller's transaction).
pub(crate) async fn insert_session(
    conn: &mut sqlx::AnyConnection,
    s: &SessionRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, mfa_done, second_factor_failures, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $5)",
    )
    .bind(s.token_hash.clone())
    .bind(s.staff_id.to_string())
    .bind(s.csrf_token.clone())
    .bind(i64::from(s.mfa_done))
    .bind(s.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The progressive lock-out: `free` attempts, then a lock of `base_ms` doubling at each
/// further failure, at most `max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    /// Attempts before the first lock.
    pub free: i64,
    /// First lock, ms.
    pub base_ms: i64,
    /// Longest lock, ms.
    pub max_ms: i64,
}

impl LockPolicy {
    /// The lock (until when) after `failures` counted attempts, if any.
    pub fn until(&self, failures: i64, now: i64) -> Option<i64> {
        if failures < self.free {
            return None;
        }
        let doublings = (failures - self.free).min(30) as u32;
        Some(
            now + self
                .base_ms
                .saturating_mul(1i64 << doublings)
                .min(self.max_ms),
        )
    }
}

/// A login attempt, counted before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Locked out: refused without checking.
    Locked {
        /// Until (ms).
        until: i64,
    },
    /// Counted: check it.
    Counted {
        /// Failures counted so far, this attempt included.
        failures: i64,
    },
}

/// A second-factor attempt, counted before it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorAttempt {
    /// The account's second factor is locked: refused without checking.
    Locked,
    /// The session is no longer open.
    SessionEnded,
    /// The session used its attempts: refused without checking (end it).
    SessionUsedUp,
    /// Counted: check it.
    Counted {
        /// The account's failures so far, this attempt included.
        failures: i64,
        /// The session's, this attempt included.
        in_session: i64,
    },
}

/// Inserts an account (inside the caller's transaction); `Conflict` when the e-mail is
/// taken.
pub(crate) async fn insert_staff(conn: &mut sqlx::AnyConnection, s: &StaffRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff (id, email, display_name, role, team, lang, password_hash, totp_secret, totp_enabled, \
         totp_last_step, recovery_codes, disabled, failed_logins, locked_until, second_factor_failures, \
         second_factor_locked_until, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, 0, $13, $14, $15, $15)",
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
    .bind(s.second_factor_failures)
    .bind(s.second_factor_locked_until)
    .bind(s.created_at)
    .execute(&mut *conn)
    .await
    .map_err(conflict_on_unique)?;
    Ok(())
}
