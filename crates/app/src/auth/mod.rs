//! Staff authentication: Argon2id passwords; a progressive lock-out per e-mail address,
//! counted in SQL before each check so that concurrency cannot defeat it, and identical
//! whether the address names an account or not; sessions with idle and absolute limits;
//! the second factor (TOTP with single-use recovery codes, or a passkey, see
//! [`crate::passkey`]) with its own lock-out, a per-session limit, and a new session token
//! once it passes.

use crate::error::{AppError, ErrorCode};
use crate::{App, keyed_hex, random_hex, sha256_hex, totp};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rempart_domain::audit::event::{AuditEvent, Factor, LoginFailure, SessionEnd};
use rempart_domain::policy::Actor;
use rempart_storage::{
    Attempt, AuditEntry, LockPolicy, SecondFactorAttempt, SessionRecord, StaffRecord,
};

/// What a session may do yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Fully logged in.
    Full,
    /// Password checked; the second factor (TOTP code or passkey) is still due.
    NeedsSecondFactor,
    /// Password checked; the role requires a second factor that is not enrolled yet:
    /// only enrolment is reachable.
    NeedsEnrolment,
}

/// A validated session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The account.
    pub staff: StaffRecord,
    /// The session.
    pub session: SessionRecord,
    /// What it may do yet.
    pub state: SessionState,
}

impl Authenticated {
    /// The actor for the access policy.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.staff.id,
            role: self.staff.role,
            team: self.staff.team.clone(),
        }
    }
}

/// A session just opened: its token (for a cookie or a bearer header, never stored) and
/// what it may do.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The token.
    pub token: String,
    /// The session.
    pub auth: Authenticated,
}

/// A dummy hash verified when the e-mail is unknown, so timing does not reveal which
/// addresses have accounts.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3bW0ssq6LwxHjvD0Xv5b4V7ibqbIuXbTo+Xv3GDyb4o";

fn locked(until: i64, now: i64) -> AppError {
    let secs = ((until - now).max(0) + 999) / 1000;
    AppError::new(
        ErrorCode::AccountLocked,
        format!("too many failed attempts, retry in {secs} s"),
    )
}

impl App {
    fn argon2(&self) -> Result<Argon2<'static>, AppError> {
        let s = &self.settings.security;
        let p = Params::new(s.argon2_memory_kib, s.argon2_iterations, 1, None)
            .map_err(|_| AppError::internal("argon2 params"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }

    /// Hashes a new password (at least 12 characters).
    pub async fn hash_password(&self, password: &str) -> Result<String, AppError> {
        if password.chars().count() < 12 {
            return Err(AppError::field("password", "at least 12 characters"));
        }
        if password.len() > 1024 {
            return Err(AppError::field("password", "too long"));
        }
        let a = self.argon2()?;
        let pw = password.to_owned();
        tokio::task::spawn_blocking(move || a.hash_password(pw.as_bytes()).map(|h| h.to_string()))
            .await
            .map_err(|_| AppError::internal("hash task"))?
            .map_err(|_| AppError::internal("argon2 hash"))
    }

    async fn verify_password(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let a = self.argon2()?;
        let (pw, hash) = (password.to_owned(), hash.to_owned());
        tokio::task::spawn_blocking(move || a.verify_password(pw.as_bytes(), hash.as_str()).is_ok())
            .await
            .map_err(|_| AppError::internal("verify task"))
    }

    pub(crate) fn lock_policy(&self) -> LockPolicy {
        let s = &self.settings.security;
        LockPolicy {
            free: s.lockout_free_attempts,
            base_ms: s.lockout_base_seconds.saturating_mul(1000),
            max_ms: s.lockout_max_seconds.saturating_mul(1000),
        }
    }

    /// The lock-out key of an e-mail address: a keyed hash, the same whether or not the
    /// address names an account.
    fn throttle_key(&self, email: &str) -> String {
        keyed_hex(&self.keys.throttle, &[b"login", email.as_bytes()])
    }

    /// A fresh session record for `staff` (token returned, only its hash kept).
    pub(crate) fn session_for(
        &self,
        staff: &StaffRecord,
        mfa_done: bool,
    ) -> Result<(String, SessionRecord), AppError> {
        let token = random_hex(32)?;
        let now = self.now();
        Ok((
            token.clone(),
            SessionRecord {
                token_hash: sha256_hex(token.as_bytes()),
                staff_id: staff.id,
                csrf_token: random_hex(32)?,
                mfa_done,
                second_factor_failures: 0,
                created_at: now,
                last_seen_at: now,
                ended_at: None,
            },
        ))
    }

    /// Checks e-mail and password and opens a session (a new token: no fixation).
    ///
    /// The attempt is counted before the password is checked; once the free attempts are
    /// used, further ones are refused unchecked (`account_locked`) until the lock expires —
    /// exactly alike for an address with no account.
    pub async fn login(&self, email: &str, password: &str) -> Result<NewSession, AppError> {
        let now = self.now();
        let email = email.trim().to_lowercase();
        let bad = || AppError::new(ErrorCode::InvalidCredentials, "wrong e-mail or password");
        let key = self.throttle_key(&email);
        // no account has a NUL in its address (and PostgreSQL refuses one in a query): such
        // an address is an unknown one
        let staff = match email.contains('\0') {
            true => None,
            false => self.store.staff_by_email(&email).await?,
        };
        let actor = staff.as_ref().map(|s| s.id);
        let failures = match self
            .store
            .reserve_login_attempt(&key, now, &self.lock_policy())
            .await?
        {
            Attempt::Locked { until } => {
                self.store
                    .audit(&AuditEntry::new(now, actor, AuditEvent::LoginRefused))
                    .await?;
                return Err(locked(until, now));
            }
            Attempt::Counted { failures } => failures,
        };
        let Some(staff) = staff else {
            let _ = self.verify_password(password, DUMMY_HASH).await;
            self.store
                .audit(&AuditEntry::new(
                    now,
                    None,
                    AuditEvent::LoginFailed(LoginFailure::UnknownAccount),
                ))
                .await?;
            return Err(bad());
        };
        let ok = self.verify_password(password, &staff.password_hash).await?;
        if !ok || staff.disabled {
            let why = if staff.disabled {
                LoginFailure::Disabled
            } else {
                LoginFailure::WrongPassword { failures }
            };
            self.store
                .audit(
                    &AuditEntry::new(now, Some(staff.id), AuditEvent::LoginFailed(why))
                        .object(staff.id),
                )
                .await?;
            return Err(bad());
        }
        let (token, session) = self.session_for(&staff, false)?;
        self.store
            .open_session(
                &session,
                &key,
                &AuditEntry::new(now, Some(staff.id), AuditEvent::Login).object(staff.id),
            )
            .await?;
        let state = self.session_state(&staff, &session);
        Ok(NewSession {
            token,
            auth: Authenticated {
                staff,
                session,
                state,
            },
        })
    }

    pub(crate) fn session_state(&self, staff: &StaffRecord, s: &SessionRecord) -> SessionState {
        if s.mfa_done {
            SessionState::Full
        } else if staff.has_second_factor() {
            SessionState::NeedsSecondFactor
        } else if self.settings.security.second_factor_required(staff.role) {
            SessionState::NeedsEnrolment
        } else {
            SessionState::Full
        }
    }

    /// Whether a session is past its idle or absolute limit.
    fn session_expired(&self, s: &SessionRecord, now: i64) -> bool {
        let sec = &self.settings.security;
        now - s.last_seen_at > sec.session_idle_minutes * 60_000
            || now - s.created_at > sec.session_absolute_hours * 3_600_000
    }

    /// Validates a session token: it must exist, not be ended, be within the idle and
    /// absolute limits, and belong to an enabled account. An expired session is ended.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, AppError> {
        let unauth = || AppError::new(ErrorCode::Unauthenticated, "not logged in");
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unauth());
        }
        let now = self.now();
        let hash = sha256_hex(token.as_bytes());
        let Some(session) = self.store.session(&hash).await? else {
            return Err(unauth());
        };
        if session.ended_at.is_some() {
            return Err(unauth());
        }
        let staff = self
            .store
            .staff_by_id(session.staff_id)
            .await?
            .ok_or_else(unauth)?;
        let expired = self.session_expired(&session, now);
        if expired || staff.disabled {
            let why = if staff.disabled {
                SessionEnd::Disabled
            } else {
                SessionEnd::Expired
            };
            self.store
                .end_session(
                    &hash,
                    &AuditEntry::new(now, Some(staff.id), AuditEvent::SessionEnded(why))
                        .object(staff.id),
                )
                .await?;
            return Err(unauth());
        }
        if now - session.last_seen_at > 30_000 {
            self.store.touch_session(&hash, now).await?;
        }
        let state = self.session_state(&staff, &session);
        Ok(Authenticated {
            staff,
            session,
            state,
        })
    }

    /// Ends the session.
    pub async fn logout(&self, auth: &Authenticated) -> Result<(), AppError> {
        let now = self.now();
        self.store
            .end_session(
                &auth.session.token_hash,
                &AuditEntry::new(now, Some(auth.staff.id), AuditEvent::Logout)
                    .object(auth.staff.id),
            )
            .await?;
        self.pubsub
            .publish(rempart_storage::Event::Staff {
                id: auth.staff.id.to_string(),
            })
            .await?;
        Ok(())
    }

    /// Whether a live view's session still holds, without counting as activity: not
    /// ended, not past its idle or absolute limit, the account enabled and with the same
    /// role and team as when the view opened.
    pub async fn session_still_valid(&self, auth: &Authenticated) -> Result<bool, AppError> {
        let now = self.now();
        let Some(session) = self.store.session(&auth.session.token_hash).await? else {
            return Ok(false);
        };
        let Some(staff) = self.store.staff_by_id(session.staff_id).await? else {
            return Ok(false);
        };
        Ok(session.ended_at.is_none()
            && !self.session_expired(&session, now)
            && !staff.disabled
            && staff.role == auth.staff.role
            && staff.team == auth.staff.team)
    }
}

mod second_factor;
