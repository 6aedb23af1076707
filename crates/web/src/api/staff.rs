//! Staff administration and the audit trail.

use crate::AppState;
use crate::api::dto::{self, code};
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use rempart_app::staff::NewStaffInput;
use rempart_app::{AppError, ErrorCode};
use rempart_domain::ids::{CaseId, StaffId};
use rempart_domain::policy::{Action, Resource, Role, can};
use rempart_storage::AuditFilter;
use serde::Deserialize;
use serde_json::{Value, json};

/// A new account.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffReq {
    email: String,
    display_name: String,
    role: String,
    team: Option<String>,
    password: String,
    lang: Option<String>,
}

/// Accounts.
pub async fn list(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Value>, ApiError> {
    let all = st.app.list_staff(&auth.actor()).await?;
    Ok(Json(json!(all.iter().map(dto::staff).collect::<Vec<_>>())))
}

/// Creates an account.
pub async fn create(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(r): ApiJson<StaffReq>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = NewStaffInput {
        email: r.email,
        display_name: r.display_name,
        role: code!(Role, "role", &r.role)?,
        team: r.team,
        password: r.password,
        lang: r.lang.unwrap_or_else(|| "fr".into()),
    };
    let s = st.app.create_staff(Some(&auth.actor()), input).await?;
    Ok((StatusCode::CREATED, Json(dto::staff(&s))))
}

fn staff_id(s: &str) -> Result<StaffId, AppError> {
    StaffId::parse(s).map_err(|_| AppError::not_found())
}

/// Disables an account.
pub async fn disable(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
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
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.app
        .set_staff_disabled(&auth, staff_id(&id)?, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Audit query string.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Case id.
    pub case_id: Option<String>,
    /// Actor id.
    pub actor: Option<String>,
    /// Page: before this sequence number.
    pub before: Option<i64>,
    /// Page size.
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
) -> Result<Json<Value>, ApiError> {
    let actor = auth.actor();
    if !can(&actor, Action::ReadAudit, Resource::Global) {
        return Err(AppError::not_found().into());
    }
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidField, e.body_text()))?;
    let events = st
        .app
        .store
        .audit_events(&q.filter()?)
        .await
        .map_err(AppError::from)?;
    st.app
        .store
        .audit(&rempart_storage::AuditEntry::new(
            st.app.now(),
            Some(actor.id),
            "audit.viewed",
            "audit",
        ))
        .await
        .map_err(AppError::from)?;
    Ok(Json(json!(
        events.iter().map(dto::audit).collect::<Vec<_>>()
    )))
}
