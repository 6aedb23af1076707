//! Staff administration and the audit trail.

use crate::AppState;
use crate::api::dto::{
    AuditEvent, Invitation, IssuedInvitation, RoleChangeAnswer, RoleGrant, Session, Staff, code,
};
use crate::api::path::PathId;
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use rempart_app::records::AuditFilter;
use rempart_app::staff::InvitationInput;
use rempart_app::{AppError, ErrorCode};
use rempart_domain::ids::{CaseId, StaffId};
use rempart_domain::policy::Role;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Whom to invite.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteReq {
    /// The e-mail the account will log in with.
    #[schema(
        max_length = 254,
        pattern = "^[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9_+-]([A-Za-z0-9._+-]*[A-Za-z0-9_+-])?\\.[A-Za-z0-9_+-]([A-Za-z0-9._+-]*[A-Za-z0-9_+-])?$"
    )]
    email: String,
    /// Name shown to colleagues.
    #[schema(min_length = 1, max_length = 100)]
    display_name: String,
    /// Role granted (supervisor and administrator wait for a second administrator).
    #[schema(value_type = crate::api::dto::RoleCode)]
    role: String,
    /// Team (letters, digits, `-` and `_`).
    #[schema(max_length = 40)]
    team: Option<String>,
    /// Language (`fr` by default, `en`).
    lang: Option<String>,
}

/// Accounts.
pub async fn list(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Vec<Staff>>, ApiError> {
    let all = st.app.list_staff(&auth.actor()).await?;
    Ok(Json(all.iter().map(Into::into).collect()))
}

/// Invites a new account; the link is returned once (absent while it waits for a second
/// administrator).
pub async fn invite(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(r): ApiJson<InviteReq>,
) -> Result<(StatusCode, Json<IssuedInvitation>), ApiError> {
    let input = InvitationInput {
        email: r.email,
        display_name: r.display_name,
        role: code!(Role, "role", &r.role)?,
        team: r.team,
        lang: r.lang.unwrap_or_else(|| "fr".into()),
    };
    let i = st.app.invite_staff(&auth.actor(), input).await?;
    Ok((StatusCode::CREATED, Json((&i).into())))
}

/// Invitations awaiting approval or acceptance.
pub async fn invitations(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    let all = st.app.open_invitations(&auth.actor()).await?;
    Ok(Json(all.iter().map(Into::into).collect()))
}

/// Approves another administrator's invitation; its link is returned once.
pub async fn approve_invitation(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<Json<IssuedInvitation>, ApiError> {
    let i = st.app.approve_invitation(&auth.actor(), &id).await?;
    Ok(Json((&i).into()))
}

/// Refuses another administrator's invitation.
pub async fn refuse_invitation(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    st.app.refuse_invitation(&auth.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws an invitation.
pub async fn revoke_invitation(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    st.app.revoke_invitation(&auth.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepting an invitation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptReq {
    /// The token of the invitation's link.
    token: String,
    /// A password of one's own (12 characters at least).
    #[schema(min_length = 12)]
    password: String,
}

/// Accepts an invitation with a password of one's own; returns the new session (which
/// enrols a second factor next when the role requires one — in the console).
pub async fn accept_invitation(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    ApiJson(r): ApiJson<AcceptReq>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let n = st.app.settings().security.logins_per_minute;
    st.limit(&format!("login:{ip}"), n, 60_000 / i64::from(n.max(1)))?;
    let s = st.app.accept_invitation(&r.token, &r.password).await?;
    Ok((StatusCode::CREATED, Json((&s).into())))
}

/// A change of role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleReq {
    /// The new role.
    #[schema(value_type = crate::api::dto::RoleCode)]
    role: String,
    /// The team with it (letters, digits, `-` and `_`).
    #[schema(max_length = 40)]
    team: Option<String>,
}

/// Changes an account's role: `changed`, or `pending` when a second administrator must
/// approve the grant.
pub async fn role(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(r): ApiJson<RoleReq>,
) -> Result<Json<RoleChangeAnswer>, ApiError> {
    let role = code!(Role, "role", &r.role)?;
    let done = st
        .app
        .set_staff_role(&auth, staff_id(&id)?, role, r.team)
        .await?;
    Ok(Json(done.into()))
}

/// Role grants awaiting a second administrator.
pub async fn grants(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Vec<RoleGrant>>, ApiError> {
    let all = st.app.pending_role_grants(&auth.actor()).await?;
    Ok(Json(all.iter().map(Into::into).collect()))
}

/// Approves another administrator's grant.
pub async fn approve_grant(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    st.app.decide_role_grant(&auth.actor(), &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses another administrator's grant.
pub async fn refuse_grant(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    st.app.decide_role_grant(&auth.actor(), &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn staff_id(s: &str) -> Result<StaffId, AppError> {
    StaffId::parse(s).map_err(|_| AppError::not_found())
}

/// Disables an account.
pub async fn disable(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    st.app
        .set_staff_disabled(&auth, staff_id(&id)?, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-enables an account.
pub async fn enable(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    st.app
        .set_staff_disabled(&auth, staff_id(&id)?, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Audit query string (an empty value is no filter).
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only the events of this case (id).
    #[param(format = "uuid")]
    pub case_id: Option<String>,
    /// Only the events of this actor (staff id).
    #[param(format = "uuid")]
    pub actor: Option<String>,
    /// Page: the events before this sequence number.
    pub before: Option<i64>,
    /// Page size (100 by default).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl AuditQuery {
    /// To the storage filter.
    pub fn filter(&self) -> Result<AuditFilter, AppError> {
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(AuditFilter {
            case_id: nonempty(&self.case_id)
                .map(|c| CaseId::parse(&c).map_err(|_| AppError::field("case_id", "invalid id")))
                .transpose()?,
            actor: nonempty(&self.actor)
                .map(|a| StaffId::parse(&a).map_err(|_| AppError::field("actor", "invalid id")))
                .transpose()?,
            before_seq: self.before,
            changes_only: false,
            actions: Vec::new(),
            limit: match self.limit {
                Some(l) if !(1..=500).contains(&l) => {
                    return Err(AppError::field("limit", "between 1 and 500"));
                }
                l => l.unwrap_or(100),
            },
        })
    }
}

/// Audit events (supervisors, admins). Reading the trail is itself audited.
pub async fn audit(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidField, e.body_text()))?;
    let page = st.app.audit_trail(&auth.actor(), &q.filter()?).await?;
    Ok(Json(page.events.iter().map(Into::into).collect()))
}
