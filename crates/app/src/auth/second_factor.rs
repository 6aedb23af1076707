//! The second factor: each attempt counted before it is checked (the account's lock-out
//! and the session's own limit), TOTP enrolment and checks, and the session upgraded
//! with a new token once the factor passes.

use super::*;

impl App {
    /// Counts a second-factor attempt before it is checked: the account's own counter
    /// (its lock-out), and the session's (which ends after a few wrong codes).
    pub(crate) async fn reserve_second_factor(&self, auth: &Authenticated) -> Result<(), AppError> {
        let now = self.now();
        let staff = &auth.staff;
        if auth.state != SessionState::NeedsSecondFactor {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "no second factor is due in this session",
            ));
        }
        match self
            .store
            .reserve_second_factor(
                staff.id,
                &auth.session.token_hash,
                now,
                &self.lock_policy(),
                self.settings.security.second_factor_session_attempts,
            )
            .await?
        {
            SecondFactorAttempt::Locked => {
                self.store
                    .audit(
                        &AuditEntry::new(now, Some(staff.id), AuditEvent::SecondFactorRefused)
                            .object(staff.id),
                    )
                    .await?;
                Err(AppError::new(
                    ErrorCode::AccountLocked,
                    "too many wrong codes, retry later",
                ))
            }
            SecondFactorAttempt::SessionEnded => {
                Err(AppError::new(ErrorCode::Unauthenticated, "log in again"))
            }
            SecondFactorAttempt::SessionUsedUp => {
                self.end_half_session(auth).await?;
                Err(AppError::new(
                    ErrorCode::Unauthenticated,
                    "too many wrong codes: log in again",
                ))
            }
            SecondFactorAttempt::Counted { .. } => Ok(()),
        }
    }

    /// A wrong second factor: audited; the session ends once it used its attempts.
    pub(crate) async fn second_factor_failed(
        &self,
        auth: &Authenticated,
    ) -> Result<AppError, AppError> {
        let now = self.now();
        let staff = self
            .store
            .staff_by_id(auth.staff.id)
            .await?
            .ok_or_else(AppError::not_found)?;
        self.store
            .audit(
                &AuditEntry::new(
                    now,
                    Some(staff.id),
                    AuditEvent::SecondFactorFailed {
                        failures: staff.second_factor_failures,
                    },
                )
                .object(staff.id),
            )
            .await?;
        let session = self.store.session(&auth.session.token_hash).await?;
        let used = session
            .map(|s| s.second_factor_failures)
            .unwrap_or(i64::MAX);
        if used >= self.settings.security.second_factor_session_attempts {
            self.end_half_session(auth).await?;
            return Ok(AppError::new(
                ErrorCode::Unauthenticated,
                "too many wrong codes: log in again",
            ));
        }
        Ok(AppError::new(ErrorCode::InvalidSecondFactor, "wrong code"))
    }

    async fn end_half_session(&self, auth: &Authenticated) -> Result<(), AppError> {
        self.store
            .end_session(
                &auth.session.token_hash,
                &AuditEntry::new(
                    self.now(),
                    Some(auth.staff.id),
                    AuditEvent::SessionEnded(SessionEnd::SecondFactorFailures),
                )
                .object(auth.staff.id),
            )
            .await?;
        Ok(())
    }

    /// The second factor passed: the half-open session ends and a new one (a new token)
    /// replaces it, so the token that was sent before the factor never becomes a full one.
    pub(crate) async fn second_factor_passed(
        &self,
        auth: &Authenticated,
        factor: Factor,
    ) -> Result<NewSession, AppError> {
        let now = self.now();
        let (token, session) = self.session_for(&auth.staff, true)?;
        self.store
            .upgrade_session(
                &auth.session.token_hash,
                &session,
                &AuditEntry::new(
                    now,
                    Some(auth.staff.id),
                    AuditEvent::SessionEnded(SessionEnd::Upgraded),
                )
                .object(auth.staff.id),
                &AuditEntry::new(
                    now,
                    Some(auth.staff.id),
                    AuditEvent::SecondFactorPassed(factor),
                )
                .object(auth.staff.id),
            )
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => {
                    AppError::new(ErrorCode::Unauthenticated, "log in again")
                }
                other => other.into(),
            })?;
        let staff = self
            .store
            .staff_by_id(auth.staff.id)
            .await?
            .ok_or_else(AppError::not_found)?;
        Ok(NewSession {
            token,
            auth: Authenticated {
                staff,
                session,
                state: SessionState::Full,
            },
        })
    }

    /// Checks the second factor: a TOTP code (each time step accepted once) or a
    /// recovery code (each usable once). Returns the new, full session.
    pub async fn verify_second_factor(
        &self,
        auth: &Authenticated,
        code: &str,
    ) -> Result<NewSession, AppError> {
        self.reserve_second_factor(auth).await?;
        let now = self.now();
        let staff = self
            .store
            .staff_by_id(auth.staff.id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let secret = staff.totp_secret.as_deref().filter(|_| staff.totp_enabled);
        let mut passed = None;
        if let Some(secret) = secret {
            if let Some(step) = totp::verify(secret, code, now) {
                if self.store.claim_totp_step(staff.id, step).await? {
                    passed = Some(Factor::Totp);
                }
            } else {
                let normal: String = code
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_uppercase();
                if normal.len() == 10
                    && self
                        .store
                        .use_recovery_code(
                            staff.id,
                            &sha256_hex(normal.as_bytes()),
                            &AuditEntry::new(now, Some(staff.id), AuditEvent::RecoveryCodeUsed)
                                .object(staff.id),
                        )
                        .await?
                {
                    passed = Some(Factor::RecoveryCode);
                }
            }
        }
        match passed {
            Some(f) => self.second_factor_passed(auth, f).await,
            None => Err(self.second_factor_failed(auth).await?),
        }
    }

    /// Starts TOTP enrolment: a fresh secret (160 bits) and the URI for the app (the page
    /// shows it as a QR code too).
    pub async fn begin_totp_enrolment(
        &self,
        auth: &Authenticated,
    ) -> Result<(String, String), AppError> {
        self.may_enrol(auth)?;
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
                &AuditEntry::new(now, Some(auth.staff.id), AuditEvent::TotpEnrolmentStarted)
                    .object(auth.staff.id),
            )
            .await?;
        let uri = totp::otpauth_uri(&self.settings.helpline.name, &auth.staff.email, &secret);
        Ok((secret, uri))
    }

    /// The TOTP secret whose enrolment is in progress, and its URI (to show again after
    /// a wrong first code).
    pub async fn pending_totp(&self, auth: &Authenticated) -> Result<(String, String), AppError> {
        let staff = self
            .store
            .staff_by_id(auth.staff.id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let secret = staff
            .totp_secret
            .filter(|_| !staff.totp_enabled)
            .ok_or_else(|| AppError::new(ErrorCode::Conflict, "enrolment not started"))?;
        let uri = totp::otpauth_uri(&self.settings.helpline.name, &staff.email, &secret);
        Ok((secret, uri))
    }

    /// Enrolment is for a full session, or one that must enrol before anything else; a
    /// session whose second factor is due must pass it first.
    pub(crate) fn may_enrol(&self, auth: &Authenticated) -> Result<(), AppError> {
        if auth.state == SessionState::NeedsSecondFactor {
            return Err(AppError::new(
                ErrorCode::SecondFactorRequired,
                "pass your second factor first",
            ));
        }
        Ok(())
    }

    /// Confirms enrolment with a first code; returns ten recovery codes, shown once, and
    /// — when the session had not passed a second factor yet — the new, full session.
    pub async fn confirm_totp_enrolment(
        &self,
        auth: &Authenticated,
        code: &str,
    ) -> Result<(Vec<String>, Option<NewSession>), AppError> {
        self.may_enrol(auth)?;
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
                &AuditEntry::new(now, Some(staff.id), AuditEvent::TotpEnrolled).object(staff.id),
            )
            .await?;
        // a session without a passed factor (waiting for this enrolment, or full because none
        // was required) passes it now; else the new factor would demote it at once
        let upgraded = if !auth.session.mfa_done {
            Some(self.second_factor_passed(auth, Factor::Totp).await?)
        } else {
            None
        };
        Ok((codes, upgraded))
    }
}
