//! Case endpoints.

use crate::AppState;
use crate::api::dto::{
    self, AssignReq, ContactReq, CreateCaseReq, ItemReq, NoteReq, StatusReq, code,
};
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use rempart_app::AppError;
use rempart_app::cases::CaseQuery;
use rempart_app::records::CaseCursor;
use rempart_domain::case::{CaseOutcome, CaseStatus, NoteVisibility};
use rempart_domain::ids::{CaseId, StaffId};
use serde::Deserialize;
use serde_json::{Value, json};

/// Case list query string.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Status code.
    pub status: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Assignee id.
    pub assignee: Option<String>,
    /// Reference or words.
    pub q: Option<String>,
    /// Paging cursor.
    pub cursor: Option<String>,
    /// Page size (1–200).
    pub limit: Option<i64>,
}

impl ListQuery {
    /// To the use-case query.
    pub fn parse(&self) -> Result<CaseQuery, AppError> {
        let empty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(CaseQuery {
            status: empty(&self.status)
                .map(|s| code!(CaseStatus, "status", &s))
                .transpose()?,
            category: empty(&self.category),
            assignee: empty(&self.assignee)
                .map(|a| StaffId::parse(&a).map_err(|_| AppError::field("assignee", "invalid id")))
                .transpose()?,
            text: empty(&self.q),
            cursor: empty(&self.cursor)
                .map(|c| {
                    CaseCursor::decode(&c)
                        .ok_or_else(|| AppError::field("cursor", "invalid cursor"))
                })
                .transpose()?,
            limit: match self.limit {
                Some(l) if !(1..=200).contains(&l) => {
                    return Err(AppError::field("limit", "between 1 and 200"));
                }
                l => l,
            },
        })
    }
}

/// A path id: malformed ids answer 404, like unknown ones.
pub fn case_id(s: &str) -> Result<CaseId, AppError> {
    CaseId::parse(s).map_err(|_| AppError::not_found())
}

/// The case list.
pub async fn list(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        q.map_err(|e| ApiError::new(rempart_app::ErrorCode::InvalidField, e.body_text()))?;
    let page = st.app.list_cases(&auth.actor(), &q.parse()?).await?;
    Ok(Json(json!({
        "cases": page.cases.iter().map(dto::case_summary).collect::<Vec<_>>(),
        "next_cursor": page.next.map(|c| c.encode()),
    })))
}

/// Opens a case.
pub async fn create(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<CreateCaseReq>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (input, contact) = req.into_input()?;
    let c = st.app.create_case(&auth.actor(), input, contact).await?;
    Ok((StatusCode::CREATED, Json(dto::case(&c))))
}

/// A case page.
pub async fn show(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let v = st.app.read_case(&auth.actor(), case_id(&id)?).await?;
    Ok(Json(dto::case_view(&v)))
}

/// Changes the status.
pub async fn status(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StatusReq>,
) -> Result<Json<Value>, ApiError> {
    let id = case_id(&id)?;
    let to = code!(CaseStatus, "status", &req.status)?;
    let outcome = req
        .outcome
        .as_deref()
        .map(|o| code!(CaseOutcome, "outcome", o))
        .transpose()?;
    let c = st.app.change_status(&auth.actor(), id, to, outcome).await?;
    Ok(Json(dto::case(&c)))
}

/// Replaces the assignees.
pub async fn assign(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignReq>,
) -> Result<Json<Value>, ApiError> {
    let id = case_id(&id)?;
    let ids = req
        .assignees
        .iter()
        .map(|a| StaffId::parse(a).map_err(|_| AppError::field("assignees", "invalid id")))
        .collect::<Result<Vec<_>, _>>()?;
    let c = st.app.assign(&auth.actor(), id, ids).await?;
    Ok(Json(dto::case(&c)))
}

/// Adds an item.
pub async fn add_item(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ItemReq>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = case_id(&id)?;
    let i = st
        .app
        .add_item(&auth.actor(), id, req.into_input()?)
        .await?;
    Ok((StatusCode::CREATED, Json(dto::item(&i))))
}

/// Adds a note.
pub async fn add_note(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NoteReq>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = case_id(&id)?;
    let vis = code!(NoteVisibility, "visibility", &req.visibility)?;
    let n = st.app.add_note(&auth.actor(), id, vis, &req.body).await?;
    Ok((StatusCode::CREATED, Json(dto::note(&n))))
}

/// Logs a contact.
pub async fn log_contact(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<ContactReq>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let k = st.app.log_contact(&auth.actor(), req.into_input()?).await?;
    Ok((StatusCode::CREATED, Json(dto::contact(&k))))
}
