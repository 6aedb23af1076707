//! Staff authentication: Argon2id passwords, progressive lock-out, sessions with idle
//! and absolute limits, and the TOTP second factor with single-use recovery codes.

use crate::error::{AppError, ErrorCode};
use crate::{App, random_hex, sha256_hex, totp};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rempart_domain::policy::Actor;
use rempart_storage::{AuditEntry, SessionRecord, StaffRecord};

/// What a session may do yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Fully logged in.
    Full,
    /// Password checked; the TOTP code is still due.
    NeedsTotp,
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

/// A dummy hash verified when the e-mail is unknown, so timing does not reveal which
/// addresses have accounts.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3bW0ssq6LwxHjvD0Xv5b4V7ibqbIuXbTo+Xv3GDyb4o";

impl App {
    fn argon2(&self) -> Result<Argon2<'static>, AppError> {
        let p = Params::new(
            self.settings.argon2_memory_kib,
            self.settings.argon2_iterations,
            1,
            None,
        )
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

    fn lock_seconds(&self, failures: i64) -> i64 {
        let free = self.settings.lockout_free_attempts;
        if failures < free {
            return 0;
        }
        let doublings = (failures - free).min(30) as u32;
        self.settings
            .lockout_base_seconds
            .saturating_mul(1i64 << doublings)
            .min(self.settings.lockout_max_seconds)
    }

    /// Checks e-mail and password and opens a session. Returns the session token (to
    /// put in a cookie or an `Authorization: Bearer` header) and the session.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
    ) -> Result<(String, Authenticated), AppError> {
        let now = self.now();
        let email = email.trim().to_lowercase();
        let bad = || AppError::new(ErrorCode::InvalidCredentials, "wrong e-mail or password");
        let Some(staff) = self.store.staff_by_email(&email).await? else {
            let _ = self.verify_password(password, DUMMY_HASH).await;
            self.store
                .audit(
                    &AuditEntry::new(now, None, "auth.login_failed", "staff")
                        .detail("unknown_account"),
                )
                .await?;
            return Err(bad());
        };
        if staff.locked_until > now {
            let secs = (staff.locked_until - now + 999) / 1000;
            self.store
                .audit(
                    &AuditEntry::new(now, Some(staff.id), "auth.login_refused", "staff")
                        .object(staff.id)
                        .detail("locked"),
                )
                .await?;
            return Err(AppError::new(
                ErrorCode::AccountLocked,
                format!("account locked, retry in {secs} s"),
            ));
        }
        let ok = self.verify_password(password, &staff.password_hash).await?;
        if !ok || staff.disabled {
            let failures = staff.failed_logins + 1;
            let lock = self.lock_seconds(failures);
            let until = if lock > 0 { now + lock * 1000 } else { 0 };
            let detail = if staff.disabled {
                "disabled".to_owned()
            } else {
                format!("failures={failures}")
            };
            self.store
                .record_login_failure(
                    staff.id,
                    failures,
                    until,
                    &AuditEntry::new(now, Some(staff.id), "auth.login_failed", "staff")
                        .object(staff.id)
                        .detail(detail),
                )
                .await?;
            return Err(bad());
        }
        let token = random_hex(32)?;
        let session = SessionRecord {
            token_hash: sha256_hex(token.as_bytes()),
            staff_id: staff.id,
            csrf_token: random_hex(32)?,
            mfa_done: false,
            created_at: now,
            last_seen_at: now,
            ended_at: None,
        };
        self.store
            .open_session(
                &session,
                &AuditEntry::new(now, Some(staff.id), "auth.login", "staff").object(staff.id),
            )
            .await?;
        let state = self.session_state(&staff, &session);
        Ok((
            token,
            Authenticated {
                staff,
                session,
                state,
            },
        ))
    }

    fn session_state(&self, staff: &StaffRecord, s: &SessionRecord) -> SessionState {
        if s.mfa_done {
            SessionState::Full
        } else if staff.totp_enabled {
            SessionState::NeedsTotp
        } else if self.settings.totp_required(staff.role) {
            SessionState::NeedsEnrolment
        } else {
            SessionState::Full
        }
    }

    /// Whether a session is past its idle or absolute limit.
    fn session_expired(&self, s: &rempart_storage::SessionRecord, now: i64) -> bool {
        now - s.last_seen_at > self.settings.session_idle_minutes * 60_000
            || now - s.created_at > self.settings.session_absolute_hours * 3_600_000
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
                "disabled"
            } else {
                "expired"
            };
            self.store
                .end_session(
                    &hash,
                    &AuditEntry::new(now, Some(staff.id), "auth.session_ended", "staff")
                        .object(staff.id)
                        .detail(why),
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
                &AuditEntry::new(now, Some(auth.staff.id), "auth.logout", "staff")
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

    /// Checks the second factor: a TOTP code (each time step accepted once) or a
    /// recovery code (each usable once). Wrong codes count as failed logins.
    pub async fn verify_second_factor(
        &self,
        auth: &Authenticated,
        code: &str,
    ) -> Result<(), AppError> {
        let now = self.now();
        let staff = &auth.staff;
        if staff.locked_until > now {
            return Err(AppError::new(
                ErrorCode::AccountLocked,
                "account locked, retry later",
            ));
        }
        let secret = staff.totp_secret.as_deref().filter(|_| staff.totp_enabled);
        let Some(secret) = secret else {
            return Err(AppError::new(
                ErrorCode::InvalidSecondFactor,
                "no second factor enrolled",
            ));
        };
        let mut ok = false;
        if let Some(step) = totp::verify(secret, code, now) {
            ok = self.store.claim_totp_step(staff.id, step).await?;
        } else {
            let normal: String = code
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_uppercase();
            if normal.len() == 10 {
                ok = self
                    .store
                    .use_recovery_code(
                        staff.id,
                        &sha256_hex(normal.as_bytes()),
                        &AuditEntry::new(now, Some(staff.id), "auth.recovery_code_used", "staff")
                            .object(staff.id),
                    )
                    .await?;
            }
        }
        if !ok {
            let failures = staff.failed_logins + 1;
            let lock = self.lock_seconds(failures);
            self.store
                .record_login_failure(
                    staff.id,
                    failures,
                    if lock > 0 { now + lock * 1000 } else { 0 },
                    &AuditEntry::new(now, Some(staff.id), "auth.second_factor_failed", "staff")
                        .object(staff.id),
                )
                .await?;
            return Err(AppError::new(ErrorCode::InvalidSecondFactor, "wrong code"));
        }
        self.store
            .session_mfa_done(
                &auth.session.token_hash,
                &AuditEntry::new(now, Some(staff.id), "auth.second_factor_ok", "staff")
                    .object(staff.id),
            )
            .await?;
        Ok(())
    }

    /// Starts TOTP enrolment: a fresh secret (160 bits) and the URI for the app.
    pub async fn begin_totp_enrolment(
        &self,
        auth: &Authenticated,
    ) -> Result<(String, String), AppError> {
        if auth.staff.totp_enabled {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "second factor already enrolled",
            ));
        }
        let mut raw = [0u8; 20];
        getrandom::fill(&mut raw).map_err(|_| AppError::internal("random"))?;
        let secret = totp::base32_encode(&raw);
        let now = self.now();
        self.store
            .set_totp(
                auth.staff.id,
                Some(secret.clone()),
                false,
                &[],
                &AuditEntry::new(
                    now,
                    Some(auth.staff.id),
                    "auth.totp_enrolment_started",
                    "staff",
                )
                .object(auth.staff.id),
            )
            .await?;
        let uri = totp::otpauth_uri(&self.settings.helpline_name, &auth.staff.email, &secret);
        Ok((secret, uri))
    }

    /// Confirms enrolment with a first code; returns ten recovery codes, shown once.
    pub async fn confirm_totp_enrolment(
        &self,
        auth: &Authenticated,
        code: &str,
    ) -> Result<Vec<String>, AppError> {
        let now = self.now();
        let staff = self
            .store
            .staff_by_id(auth.staff.id)
            .await?
            .ok_or_else(AppError::not_found)?;
        if staff.totp_enabled {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "second factor already enrolled",
            ));
        }
        let secret = staff
            .totp_secret
            .clone()
            .ok_or_else(|| AppError::new(ErrorCode::Conflict, "enrolment not started"))?;
        let step = totp::verify(&secret, code, now)
            .ok_or_else(|| AppError::new(ErrorCode::InvalidSecondFactor, "wrong code"))?;
        if !self.store.claim_totp_step(staff.id, step).await? {
            return Err(AppError::new(
                ErrorCode::InvalidSecondFactor,
                "code already used",
            ));
        }
        let mut codes = Vec::new();
        let mut hashes = Vec::new();
        for _ in 0..10 {
            let mut raw = [0u8; 7];
            getrandom::fill(&mut raw).map_err(|_| AppError::internal("random"))?;
            let c: String = totp::base32_encode(&raw).chars().take(10).collect();
            hashes.push(sha256_hex(c.as_bytes()));
            codes.push(format!("{}-{}", &c[..5], &c[5..]));
        }
        self.store
            .set_totp(
                staff.id,
                Some(secret),
                true,
                &hashes,
                &AuditEntry::new(now, Some(staff.id), "auth.totp_enrolled", "staff")
                    .object(staff.id),
            )
            .await?;
        self.store
            .session_mfa_done(
                &auth.session.token_hash,
                &AuditEntry::new(now, Some(staff.id), "auth.second_factor_ok", "staff")
                    .object(staff.id),
            )
            .await?;
        Ok(codes)
    }
}
