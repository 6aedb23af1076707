//! Staff administration (admins only): create, disable, change role.

use crate::App;
use crate::auth::Authenticated;
use crate::error::AppError;
use rempart_domain::ids::StaffId;
use rempart_domain::policy::{Action, Actor, Resource, Role, can};
use rempart_domain::values::{Email, Text};
use rempart_storage::{AuditEntry, StaffRecord};

/// A new account.
#[derive(Debug, Clone)]
pub struct NewStaffInput {
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Team.
    pub team: Option<String>,
    /// Initial password (at least 12 characters).
    pub password: String,
    /// Language.
    pub lang: String,
}

fn team(t: Option<String>) -> Result<Option<String>, AppError> {
    match t.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t)
            if t.len() <= 40
                && t.chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_') =>
        {
            Ok(Some(t.to_lowercase()))
        }
        Some(_) => Err(AppError::field("team", "letters, digits, - and _ only")),
    }
}

impl App {
    /// Creates an account. `actor` is None only for the command line (`rempart user add`)
    /// and the demo seed, which run with the operator's authority.
    pub async fn create_staff(
        &self,
        actor: Option<&Actor>,
        input: NewStaffInput,
    ) -> Result<StaffRecord, AppError> {
        if let Some(a) = actor
            && !can(a, Action::ManageStaff, Resource::Global)
        {
            return Err(AppError::not_found());
        }
        let email = Email::parse(&input.email)
            .map_err(|_| AppError::field("email", "invalid e-mail address"))?;
        let name = Text::parse(&input.display_name, 100)
            .map_err(|e| AppError::field("display_name", &e.to_string()))?;
        let lang = if input.lang == "en" { "en" } else { "fr" };
        let now = self.now();
        let rec = StaffRecord {
            id: StaffId::new(),
            email: email.as_str().to_owned(),
            display_name: name.into_string(),
            role: input.role,
            team: team(input.team)?,
            lang: lang.into(),
            password_hash: self.hash_password(&input.password).await?,
            totp_secret: None,
            totp_enabled: false,
            totp_last_step: 0,
            recovery_codes: vec![],
            disabled: false,
            failed_logins: 0,
            locked_until: 0,
            created_at: now,
        };
        self.store
            .create_staff(
                &rec,
                &AuditEntry::new(now, actor.map(|a| a.id), "staff.created", "staff")
                    .object(rec.id)
                    .detail(format!("role={}", rec.role.as_str())),
            )
            .await?;
        Ok(rec)
    }

    /// Lists accounts (admins).
    pub async fn list_staff(&self, actor: &Actor) -> Result<Vec<StaffRecord>, AppError> {
        if !can(actor, Action::ManageStaff, Resource::Global) {
            return Err(AppError::not_found());
        }
        Ok(self.store.list_staff().await?)
    }

    /// Names and ids of accounts that work cases, for assignment lists.
    pub async fn case_workers(&self) -> Result<Vec<StaffRecord>, AppError> {
        Ok(self
            .store
            .list_staff()
            .await?
            .into_iter()
            .filter(|s| !s.disabled && s.role.works_cases())
            .collect())
    }

    /// Disables (ending all sessions at once) or re-enables an account.
    pub async fn set_staff_disabled(
        &self,
        auth: &Authenticated,
        id: StaffId,
        disabled: bool,
    ) -> Result<(), AppError> {
        let actor = auth.actor();
        if !can(&actor, Action::ManageStaff, Resource::Global) {
            return Err(AppError::not_found());
        }
        if id == actor.id && disabled {
            return Err(AppError::field("id", "you cannot disable your own account"));
        }
        let action = if disabled {
            "staff.disabled"
        } else {
            "staff.enabled"
        };
        self.store
            .set_staff_disabled(
                id,
                disabled,
                &AuditEntry::new(self.now(), Some(actor.id), action, "staff").object(id),
            )
            .await?;
        self.pubsub
            .publish(rempart_storage::Event::Staff { id: id.to_string() })
            .await?;
        Ok(())
    }

    /// Changes an account's role and team.
    pub async fn set_staff_role(
        &self,
        auth: &Authenticated,
        id: StaffId,
        role: Role,
        t: Option<String>,
    ) -> Result<(), AppError> {
        let actor = auth.actor();
        if !can(&actor, Action::ManageStaff, Resource::Global) {
            return Err(AppError::not_found());
        }
        if id == actor.id {
            return Err(AppError::field("id", "you cannot change your own role"));
        }
        self.store
            .set_staff_role(
                id,
                role,
                team(t)?,
                &AuditEntry::new(self.now(), Some(actor.id), "staff.role_changed", "staff")
                    .object(id)
                    .detail(format!("role={}", role.as_str())),
            )
            .await?;
        self.pubsub
            .publish(rempart_storage::Event::Staff { id: id.to_string() })
            .await?;
        Ok(())
    }
}
