//! Passkeys (WebAuthn) as a second factor, through webauthn-rs: registration from the
//! account page (or at first login, when the role requires a second factor), and the
//! check after the password. The relying party is the console's public URL (its host
//! name: passkeys need a name, not an IP address). Ceremony state stays on the server, in
//! the session, and is used once.

use crate::App;
use crate::auth::{Authenticated, NewSession, SessionState};
use crate::error::{AppError, ErrorCode};
use rempart_domain::audit::event::{AuditEvent, Factor};
use rempart_storage::{AuditEntry, PasskeyRecord};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

/// A ceremony in progress, kept in the session.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Ceremony {
    Register { state: PasskeyRegistration },
    Authenticate { state: PasskeyAuthentication },
}

/// The relying party for a public URL; None when passkeys cannot work there (an IP
/// address instead of a host name).
pub(crate) fn relying_party(public_url: &str, host: &str, name: &str) -> Option<Webauthn> {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let origin = Url::parse(public_url).ok()?;
    WebauthnBuilder::new(host, &origin)
        .ok()?
        .rp_name(name)
        .build()
        .ok()
}

fn unavailable() -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        "passkeys need the console to be reached by a host name (server.public_url)",
    )
}

fn bad_credential() -> AppError {
    AppError::field("credential", "not a valid passkey answer")
}

impl App {
    fn webauthn(&self) -> Result<&Webauthn, AppError> {
        self.webauthn.as_deref().ok_or_else(unavailable)
    }

    /// Whether passkeys work on this console (its public URL has a host name).
    pub fn passkeys_available(&self) -> bool {
        self.webauthn.is_some()
    }

    async fn keep_ceremony(&self, auth: &Authenticated, c: &Ceremony) -> Result<(), AppError> {
        let json = serde_json::to_string(c).map_err(|_| AppError::internal("ceremony"))?;
        self.store
            .set_webauthn_state(&auth.session.token_hash, Some(json))
            .await?;
        Ok(())
    }

    async fn take_ceremony(&self, auth: &Authenticated) -> Result<Option<Ceremony>, AppError> {
        Ok(self
            .store
            .take_webauthn_state(&auth.session.token_hash)
            .await?
            .and_then(|j| serde_json::from_str(&j).ok()))
    }

    fn stored_passkeys(records: &[PasskeyRecord]) -> Vec<(String, Passkey)> {
        records
            .iter()
            .filter_map(|r| {
                serde_json::from_str::<Passkey>(&r.passkey)
                    .ok()
                    .map(|p| (r.id.clone(), p))
            })
            .collect()
    }

    /// The actor's passkeys.
    pub async fn my_passkeys(&self, auth: &Authenticated) -> Result<Vec<PasskeyRecord>, AppError> {
        Ok(self.store.passkeys(auth.staff.id).await?)
    }

    /// Starts registering a passkey: the options for `navigator.credentials.create`.
    pub async fn passkey_registration_options(
        &self,
        auth: &Authenticated,
    ) -> Result<serde_json::Value, AppError> {
        self.may_enrol(auth)?;
        let w = self.webauthn()?;
        let existing = self.store.passkeys(auth.staff.id).await?;
        let exclude = Self::stored_passkeys(&existing)
            .iter()
            .map(|(_, p)| p.cred_id().clone())
            .collect::<Vec<_>>();
        let (options, state) = w
            .start_passkey_registration(
                auth.staff.id.as_uuid(),
                &auth.staff.email,
                &auth.staff.display_name,
                Some(exclude),
            )
            .map_err(|_| AppError::internal("passkey registration"))?;
        self.keep_ceremony(auth, &Ceremony::Register { state })
            .await?;
        serde_json::to_value(options).map_err(|_| AppError::internal("passkey options"))
    }

    /// Finishes registering a passkey under `name`. A session that had not passed a second
    /// factor — waiting for this enrolment, or full because none was required — is replaced
    /// by one that has (returned): the new passkey would otherwise send it back to the
    /// second-factor page at its next request.
    pub async fn passkey_register(
        &self,
        auth: &Authenticated,
        name: &str,
        credential: serde_json::Value,
    ) -> Result<Option<NewSession>, AppError> {
        self.may_enrol(auth)?;
        let w = self.webauthn()?;
        let name = rempart_domain::values::Text::parse(name, 60)
            .map_err(|e| AppError::field("name", &e.to_string()))?;
        let reply: RegisterPublicKeyCredential =
            serde_json::from_value(credential).map_err(|_| bad_credential())?;
        let Some(Ceremony::Register { state }) = self.take_ceremony(auth).await? else {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "no passkey registration in progress",
            ));
        };
        let passkey = w
            .finish_passkey_registration(&reply, &state)
            .map_err(|_| bad_credential())?;
        let now = self.now();
        let record = PasskeyRecord {
            id: Uuid::now_v7().to_string(),
            staff_id: auth.staff.id,
            credential_id: hex::encode(passkey.cred_id()),
            name: name.into_string(),
            passkey: serde_json::to_string(&passkey).map_err(|_| AppError::internal("passkey"))?,
            created_at: now,
            last_used_at: None,
        };
        self.store
            .add_passkey(
                &record,
                &AuditEntry::new(now, Some(auth.staff.id), AuditEvent::PasskeyRegistered)
                    .object(&record.id),
            )
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => {
                    AppError::new(ErrorCode::Conflict, "this passkey is registered already")
                }
                other => other.into(),
            })?;
        if !auth.session.mfa_done {
            return Ok(Some(
                self.second_factor_passed(auth, Factor::Passkey).await?,
            ));
        }
        Ok(None)
    }

    /// Starts the passkey check after the password: the options for
    /// `navigator.credentials.get`.
    pub async fn passkey_login_options(
        &self,
        auth: &Authenticated,
    ) -> Result<serde_json::Value, AppError> {
        if auth.state != SessionState::NeedsSecondFactor {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "no second factor is due in this session",
            ));
        }
        let w = self.webauthn()?;
        let keys = Self::stored_passkeys(&self.store.passkeys(auth.staff.id).await?);
        if keys.is_empty() {
            return Err(AppError::new(ErrorCode::Conflict, "no passkey registered"));
        }
        let creds: Vec<Passkey> = keys.into_iter().map(|(_, p)| p).collect();
        let (options, state) = w
            .start_passkey_authentication(&creds)
            .map_err(|_| AppError::internal("passkey authentication"))?;
        self.keep_ceremony(auth, &Ceremony::Authenticate { state })
            .await?;
        serde_json::to_value(options).map_err(|_| AppError::internal("passkey options"))
    }

    /// Checks the passkey's answer; counted like a code (the same lock-out). Returns the
    /// new, full session.
    pub async fn passkey_login(
        &self,
        auth: &Authenticated,
        credential: serde_json::Value,
    ) -> Result<NewSession, AppError> {
        let w = self.webauthn()?;
        self.reserve_second_factor(auth).await?;
        let ceremony = self.take_ceremony(auth).await?;
        let reply: Option<PublicKeyCredential> = serde_json::from_value(credential).ok();
        let (Some(Ceremony::Authenticate { state }), Some(reply)) = (ceremony, reply) else {
            return Err(self.second_factor_failed(auth).await?);
        };
        let Ok(result) = w.finish_passkey_authentication(&reply, &state) else {
            return Err(self.second_factor_failed(auth).await?);
        };
        let now = self.now();
        for (id, mut p) in Self::stored_passkeys(&self.store.passkeys(auth.staff.id).await?) {
            if p.cred_id() == result.cred_id() {
                p.update_credential(&result);
                if let Ok(json) = serde_json::to_string(&p) {
                    self.store.passkey_used(&id, &json, now).await?;
                }
            }
        }
        self.second_factor_passed(auth, Factor::Passkey).await
    }

    /// Removes one of the actor's passkeys (a full session only).
    pub async fn remove_passkey(&self, auth: &Authenticated, id: &str) -> Result<(), AppError> {
        if auth.state != SessionState::Full {
            return Err(AppError::new(
                ErrorCode::SecondFactorRequired,
                "pass your second factor first",
            ));
        }
        self.store
            .remove_passkey(
                id,
                auth.staff.id,
                &AuditEntry::new(self.now(), Some(auth.staff.id), AuditEvent::PasskeyRemoved)
                    .object(id),
            )
            .await?;
        Ok(())
    }
}
