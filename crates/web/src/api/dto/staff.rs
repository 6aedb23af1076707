//! Sessions, staff accounts, invitations and role grants.

use super::RoleCode;
use rempart_app::auth::{NewSession, SessionState};
use rempart_app::records::{InvitationRecord, RoleGrantRecord, StaffRecord};
use rempart_app::staff::RoleChange;
use serde::Serialize;
use utoipa::ToSchema;

/// What a session may do yet.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStage {
    /// Everything its role may.
    Full,
    /// The second factor is due (`POST /api/v1/auth/totp`).
    NeedsSecondFactor,
    /// The role needs a second factor the account has not enrolled yet (in the console).
    NeedsEnrolment,
}

impl From<SessionState> for SessionStage {
    fn from(s: SessionState) -> Self {
        match s {
            SessionState::Full => SessionStage::Full,
            SessionState::NeedsSecondFactor => SessionStage::NeedsSecondFactor,
            SessionState::NeedsEnrolment => SessionStage::NeedsEnrolment,
        }
    }
}

/// A new session: its bearer token, shown this once and never stored in clear.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// What it may do yet.
    pub state: SessionStage,
    /// The session's CSRF token (for console forms and cookie-authenticated calls).
    pub csrf_token: String,
}

impl From<&NewSession> for Session {
    fn from(s: &NewSession) -> Self {
        Session {
            token: s.token.clone(),
            state: s.auth.state.into(),
            csrf_token: s.auth.session.csrf_token.clone(),
        }
    }
}

/// A staff account (never its secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct Staff {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Login e-mail.
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    pub role: RoleCode,
    /// Team.
    #[schema(required)]
    pub team: Option<String>,
    /// Preferred language (`fr`, `en`).
    pub lang: String,
    /// Whether a TOTP second factor is active.
    pub totp_enabled: bool,
    /// Passkeys registered.
    pub passkeys: i64,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Created (ms since the epoch).
    pub created_at: i64,
}

impl From<&StaffRecord> for Staff {
    fn from(s: &StaffRecord) -> Self {
        Staff {
            id: s.id.to_string(),
            email: s.email.clone(),
            display_name: s.display_name.clone(),
            role: s.role.into(),
            team: s.team.clone(),
            lang: s.lang.clone(),
            totp_enabled: s.totp_enabled,
            passkeys: s.passkeys,
            disabled: s.disabled,
            created_at: s.created_at,
        }
    }
}

/// An invitation (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// The e-mail the account will log in with.
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role granted.
    pub role: RoleCode,
    /// Team.
    #[schema(required)]
    pub team: Option<String>,
    /// Waits for a second administrator's approval (no link yet).
    pub pending_approval: bool,
    /// The administrator who invited.
    #[schema(format = "uuid")]
    pub invited_by: String,
    /// Created (ms since the epoch).
    pub created_at: i64,
    /// The link stops working then (ms).
    pub expires_at: i64,
}

impl From<&InvitationRecord> for Invitation {
    fn from(i: &InvitationRecord) -> Self {
        Invitation {
            id: i.id.clone(),
            email: i.email.clone(),
            display_name: i.display_name.clone(),
            role: i.role.into(),
            team: i.team.clone(),
            pending_approval: i.token_hash.is_none(),
            invited_by: i.invited_by.to_string(),
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// An invitation just made or approved, with its one-time link.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedInvitation {
    /// The invitation.
    #[serde(flatten)]
    pub invitation: Invitation,
    /// `<public_url>/invite/<token>`, shown this once; null while it waits for a second
    /// administrator.
    #[schema(required)]
    pub link: Option<String>,
}

impl From<&rempart_app::staff::Invitation> for IssuedInvitation {
    fn from(i: &rempart_app::staff::Invitation) -> Self {
        IssuedInvitation {
            invitation: (&i.record).into(),
            link: i.link.clone(),
        }
    }
}

/// A grant of a role awaiting a second administrator.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleGrant {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// The account.
    #[schema(format = "uuid")]
    pub staff_id: String,
    /// The role asked for.
    pub role: RoleCode,
    /// The team with it.
    #[schema(required)]
    pub team: Option<String>,
    /// Who asked.
    #[schema(format = "uuid")]
    pub requested_by: String,
    /// Asked at (ms since the epoch).
    pub created_at: i64,
}

impl From<&RoleGrantRecord> for RoleGrant {
    fn from(g: &RoleGrantRecord) -> Self {
        RoleGrant {
            id: g.id.clone(),
            staff_id: g.staff_id.to_string(),
            role: g.role.into(),
            team: g.team.clone(),
            requested_by: g.requested_by.to_string(),
            created_at: g.created_at,
        }
    }
}

/// What a change of role did.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleChangeResult {
    /// Done.
    Changed,
    /// Waits for a second administrator (supervisor and administrator grants).
    Pending,
}

/// The answer to a change of role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleChangeAnswer {
    /// What it did.
    pub result: RoleChangeResult,
}

impl From<RoleChange> for RoleChangeAnswer {
    fn from(r: RoleChange) -> Self {
        RoleChangeAnswer {
            result: match r {
                RoleChange::Changed => RoleChangeResult::Changed,
                RoleChange::Pending => RoleChangeResult::Pending,
            },
        }
    }
}
