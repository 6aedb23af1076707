//! Staff administration. An administrator never knows anyone's secret: a new account is
//! an invitation — a one-time, expiring link with which the person sets their own password,
//! then their second factor. Granting the supervisor or administrator role (by invitation
//! or by a change of role) waits for a second administrator's approval when the helpline
//! has two or more; either way it is audited. Only the operator (`rempart user add`, the
//! demo seed) creates an account with a password directly.

use crate::App;
use crate::auth::{Authenticated, NewSession};
use crate::error::{AppError, ErrorCode};
use crate::{random_hex, sha256_hex};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::ids::StaffId;
use rempart_domain::policy::{Action, Actor, Resource, Role, can};
use rempart_domain::values::{Email, Text};
use rempart_storage::{
    AuditEntry, InvitationRecord, InvitationStatus, RoleGrantRecord, StaffRecord,
};

/// An account created by the operator, with its password.
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

/// Whom to invite.
#[derive(Debug, Clone)]
pub struct InvitationInput {
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Team.
    pub team: Option<String>,
    /// Language.
    pub lang: String,
}

/// An invitation and, when it can be used now, its link (shown once to the administrator,
/// who hands it to the person).
#[derive(Debug, Clone)]
pub struct Invitation {
    /// The invitation.
    pub record: InvitationRecord,
    /// `<public_url>/invite/<token>` (None while it waits for a second administrator).
    pub link: Option<String>,
}

/// What a change of role did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    /// Done.
    Changed,
    /// Waits for a second administrator.
    Pending,
}

pub(crate) fn team(t: Option<String>) -> Result<Option<String>, AppError> {
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

fn lang(l: &str) -> &'static str {
    if l == "en" { "en" } else { "fr" }
}

/// Roles whose grant needs a second administrator.
fn sensitive(role: Role) -> bool {
    matches!(role, Role::Supervisor | Role::Admin)
}

fn manage(actor: &Actor) -> Result<(), AppError> {
    if can(actor, Action::ManageStaff, Resource::Global) {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

fn conflict(e: rempart_storage::StorageError, why: &str) -> AppError {
    match e {
        rempart_storage::StorageError::Conflict => AppError::new(ErrorCode::Conflict, why),
        other => other.into(),
    }
}

/// Only another administrator decides on a grant (the policy's `ApproveRoleGrant`).
fn may_decide(actor: &Actor, requested_by: StaffId) -> Result<(), AppError> {
    if can(
        actor,
        Action::ApproveRoleGrant,
        Resource::Grant { requested_by },
    ) {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

impl App {
    /// An invitation another administrator issued, for `actor` to approve or refuse.
    async fn invitation_to_decide(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<InvitationRecord, AppError> {
        let inv = self
            .store
            .invitation(id)
            .await?
            .ok_or_else(AppError::not_found)?;
        may_decide(actor, inv.invited_by)?;
        Ok(inv)
    }

    fn new_account(
        &self,
        email: &str,
        display_name: &str,
        role: Role,
        team_name: Option<String>,
        language: &str,
        password_hash: String,
    ) -> Result<StaffRecord, AppError> {
        let email =
            Email::parse(email).map_err(|_| AppError::field("email", "invalid e-mail address"))?;
        let name = Text::parse(display_name, 100)
            .map_err(|e| AppError::field("display_name", &e.to_string()))?;
        Ok(StaffRecord {
            id: StaffId::new(),
            email: email.as_str().to_owned(),
            display_name: name.into_string(),
            role,
            team: team(team_name)?,
            lang: lang(language).into(),
            password_hash,
            totp_secret: None,
            totp_enabled: false,
            totp_last_step: 0,
            recovery_codes: vec![],
            disabled: false,
            second_factor_failures: 0,
            second_factor_locked_until: 0,
            passkeys: 0,
            created_at: self.now(),
        })
    }

    /// Creates an account with a password, with the operator's authority (`rempart user
    /// add`, the demo seed): never reachable from the web.
    pub async fn create_staff_by_operator(
        &self,
        input: NewStaffInput,
    ) -> Result<StaffRecord, AppError> {
        let hash = self.hash_password(&input.password).await?;
        let rec = self.new_account(
            &input.email,
            &input.display_name,
            input.role,
            input.team,
            &input.lang,
            hash,
        )?;
        self.store
            .create_staff(
                &rec,
                &AuditEntry::new(
                    rec.created_at,
                    None,
                    AuditEvent::StaffCreated { role: rec.role },
                )
                .object(rec.id),
            )
            .await
            .map_err(|e| conflict(e, "this e-mail has an account already"))?;
        Ok(rec)
    }

    fn invitation_link(&self, token: &str) -> String {
        format!(
            "{}/invite/{token}",
            self.settings.server.public_url.as_str()
        )
    }

    /// Invites a new account. A supervisor or administrator invited while the helpline
    /// has two or more administrators waits for another administrator's approval.
    pub async fn invite_staff(
        &self,
        actor: &Actor,
        input: InvitationInput,
    ) -> Result<Invitation, AppError> {
        manage(actor)?;
        // checks the fields the account will have
        let probe = self.new_account(
            &input.email,
            &input.display_name,
            input.role,
            input.team.clone(),
            &input.lang,
            String::new(),
        )?;
        let now = self.now();
        let pending = sensitive(input.role) && self.store.admin_count().await? >= 2;
        let token = random_hex(32)?;
        let record = InvitationRecord {
            id: uuid::Uuid::now_v7().to_string(),
            token_hash: (!pending).then(|| sha256_hex(token.as_bytes())),
            email: probe.email,
            display_name: probe.display_name,
            role: probe.role,
            team: probe.team,
            lang: probe.lang,
            status: if pending {
                InvitationStatus::PendingApproval
            } else {
                InvitationStatus::Open
            },
            invited_by: actor.id,
            approved_by: None,
            created_at: now,
            expires_at: now + self.settings.security.invitation_hours * 3_600_000,
        };
        self.store
            .create_invitation(
                &record,
                &AuditEntry::new(
                    now,
                    Some(actor.id),
                    AuditEvent::StaffInvited {
                        role: record.role,
                        pending_approval: pending,
                    },
                )
                .object(&record.id),
            )
            .await
            .map_err(|e| conflict(e, "this e-mail has an account or an invitation already"))?;
        Ok(Invitation {
            link: (!pending).then(|| self.invitation_link(&token)),
            record,
        })
    }

    /// Invitations waiting for approval or acceptance (administrators).
    pub async fn open_invitations(&self, actor: &Actor) -> Result<Vec<InvitationRecord>, AppError> {
        manage(actor)?;
        Ok(self.store.open_invitations(self.now()).await?)
    }

    /// A second administrator approves a pending invitation: its link is made now (and
    /// returned, once).
    pub async fn approve_invitation(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Invitation, AppError> {
        let inv = self.invitation_to_decide(actor, id).await?;
        let token = random_hex(32)?;
        let now = self.now();
        let expires = now + self.settings.security.invitation_hours * 3_600_000;
        self.store
            .decide_invitation(
                id,
                actor.id,
                Some((&sha256_hex(token.as_bytes()), expires)),
                &AuditEntry::new(
                    now,
                    Some(actor.id),
                    AuditEvent::RoleGrantApproved { role: inv.role },
                )
                .object(id),
            )
            .await
            .map_err(|e| conflict(e, "this invitation is not waiting for approval"))?;
        let record = self
            .store
            .invitation(id)
            .await?
            .ok_or_else(AppError::not_found)?;
        Ok(Invitation {
            record,
            link: Some(self.invitation_link(&token)),
        })
    }

    /// A second administrator refuses a pending invitation.
    pub async fn refuse_invitation(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let inv = self.invitation_to_decide(actor, id).await?;
        self.store
            .decide_invitation(
                id,
                actor.id,
                None,
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    AuditEvent::RoleGrantRefused { role: inv.role },
                )
                .object(id),
            )
            .await
            .map_err(|e| conflict(e, "this invitation is not waiting for approval"))
    }

    /// Withdraws an invitation not yet accepted.
    pub async fn revoke_invitation(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        manage(actor)?;
        self.store
            .revoke_invitation(
                id,
                &AuditEntry::new(self.now(), Some(actor.id), AuditEvent::InvitationRevoked)
                    .object(id),
            )
            .await?;
        Ok(())
    }

    /// The invitation a link opens (its page shows whom it is for); `not_found` once it was
    /// used, withdrawn or has expired.
    pub async fn invitation_for_link(&self, token: &str) -> Result<InvitationRecord, AppError> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::not_found());
        }
        self.store
            .invitation_by_token(&sha256_hex(token.as_bytes()), self.now())
            .await?
            .ok_or_else(AppError::not_found)
    }

    /// The invited person sets their password: the account is created and a session opens
    /// (which must enrol a second factor next when the role requires one). Once only.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
    ) -> Result<NewSession, AppError> {
        let inv = self.invitation_for_link(token).await?;
        let hash = self.hash_password(password).await?;
        let account = self.new_account(
            &inv.email,
            &inv.display_name,
            inv.role,
            inv.team.clone(),
            &inv.lang,
            hash,
        )?;
        let (session_token, session) = self.session_for(&account, false)?;
        let now = self.now();
        self.store
            .accept_invitation(
                &sha256_hex(token.as_bytes()),
                &account,
                &session,
                &AuditEntry::new(
                    now,
                    Some(account.id),
                    AuditEvent::InvitationAccepted { role: account.role },
                )
                .object(account.id),
                &AuditEntry::new(now, Some(account.id), AuditEvent::Login).object(account.id),
            )
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => AppError::not_found(),
                other => other.into(),
            })?;
        let state = self.session_state(&account, &session);
        Ok(NewSession {
            token: session_token,
            auth: Authenticated {
                staff: account,
                session,
                state,
            },
        })
    }

    /// Lists accounts (admins).
    pub async fn list_staff(&self, actor: &Actor) -> Result<Vec<StaffRecord>, AppError> {
        manage(actor)?;
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

    /// Corrects an account's name and login address (administrators). Another account's
    /// address is a conflict; nothing changes then.
    pub async fn edit_staff(
        &self,
        auth: &Authenticated,
        id: StaffId,
        display_name: &str,
        email: &str,
    ) -> Result<(), AppError> {
        let actor = auth.actor();
        manage(&actor)?;
        let email =
            Email::parse(email).map_err(|_| AppError::field("email", "invalid e-mail address"))?;
        let name = Text::parse(display_name, 100)
            .map_err(|e| AppError::field("display_name", &e.to_string()))?;
        let target = self
            .store
            .staff_by_id(id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let event = AuditEvent::StaffEdited {
            email_changed: target.email != email.as_str(),
        };
        self.store
            .set_staff_identity(
                id,
                name.as_str(),
                email.as_str(),
                &AuditEntry::new(self.now(), Some(actor.id), event).object(id),
            )
            .await
            .map_err(|e| conflict(e, "another account has this e-mail address"))?;
        self.pubsub
            .publish(rempart_storage::Event::Staff { id: id.to_string() })
            .await?;
        Ok(())
    }

    /// Disables (ending all sessions at once) or re-enables an account.
    pub async fn set_staff_disabled(
        &self,
        auth: &Authenticated,
        id: StaffId,
        disabled: bool,
    ) -> Result<(), AppError> {
        let actor = auth.actor();
        manage(&actor)?;
        if id == actor.id && disabled {
            return Err(AppError::field("id", "you cannot disable your own account"));
        }
        let event = if disabled {
            AuditEvent::StaffDisabled
        } else {
            AuditEvent::StaffEnabled
        };
        self.store
            .set_staff_disabled(
                id,
                disabled,
                &AuditEntry::new(self.now(), Some(actor.id), event).object(id),
            )
            .await?;
        self.pubsub
            .publish(rempart_storage::Event::Staff { id: id.to_string() })
            .await?;
        Ok(())
    }

    /// Changes an account's role and team. Granting supervisor or administrator waits for
    /// another administrator when the helpline has two or more.
    pub async fn set_staff_role(
        &self,
        auth: &Authenticated,
        id: StaffId,
        role: Role,
        t: Option<String>,
    ) -> Result<RoleChange, AppError> {
        let actor = auth.actor();
        manage(&actor)?;
        if id == actor.id {
            return Err(AppError::field("id", "you cannot change your own role"));
        }
        let target = self
            .store
            .staff_by_id(id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let team = team(t)?;
        let now = self.now();
        if sensitive(role) && target.role != role && self.store.admin_count().await? >= 2 {
            let g = RoleGrantRecord {
                id: uuid::Uuid::now_v7().to_string(),
                staff_id: id,
                role,
                team,
                requested_by: actor.id,
                created_at: now,
            };
            self.store
                .request_role_grant(
                    &g,
                    &AuditEntry::new(now, Some(actor.id), AuditEvent::RoleGrantRequested { role })
                        .object(id),
                )
                .await
                .map_err(|e| conflict(e, "a role grant is already waiting for this account"))?;
            return Ok(RoleChange::Pending);
        }
        self.store
            .set_staff_role(
                id,
                role,
                team,
                &AuditEntry::new(now, Some(actor.id), AuditEvent::StaffRoleChanged { role })
                    .object(id),
            )
            .await?;
        self.pubsub
            .publish(rempart_storage::Event::Staff { id: id.to_string() })
            .await?;
        Ok(RoleChange::Changed)
    }

    /// Role grants waiting for a second administrator.
    pub async fn pending_role_grants(
        &self,
        actor: &Actor,
    ) -> Result<Vec<RoleGrantRecord>, AppError> {
        manage(actor)?;
        Ok(self.store.pending_role_grants().await?)
    }

    /// Another administrator approves or refuses a pending grant.
    pub async fn decide_role_grant(
        &self,
        actor: &Actor,
        id: &str,
        approve: bool,
    ) -> Result<(), AppError> {
        let g = self
            .store
            .pending_role_grant(id)
            .await?
            .ok_or_else(AppError::not_found)?;
        may_decide(actor, g.requested_by)?;
        let event = if approve {
            AuditEvent::RoleGrantApproved { role: g.role }
        } else {
            AuditEvent::RoleGrantRefused { role: g.role }
        };
        self.store
            .decide_role_grant(
                id,
                actor.id,
                approve,
                &AuditEntry::new(self.now(), Some(actor.id), event).object(g.staff_id),
            )
            .await
            .map_err(|e| conflict(e, "this grant is no longer pending"))?;
        if approve {
            self.pubsub
                .publish(rempart_storage::Event::Staff {
                    id: g.staff_id.to_string(),
                })
                .await?;
        }
        Ok(())
    }
}
