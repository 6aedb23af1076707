//! Case endpoints.

use crate::AppState;
use crate::api::dto::{
    AssignReq, Case, CaseList, CasePage, Contact, ContactReq, CreateCaseReq, Item, ItemReq, Note,
    NoteReq, StatusReq, code,
};
use crate::api::path::PathId;
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use rempart_app::AppError;
use rempart_app::cases::CaseQuery;
use rempart_app::records::CaseCursor;
use rempart_domain::case::{CaseOutcome, CaseStatus, NoteVisibility};
use rempart_domain::ids::{CaseId, StaffId};
use serde::Deserialize;
use utoipa::IntoParams;

/// Case list query string (an empty value is no filter).
#[derive(Debug, Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Status.
    #[param(value_type = Option<crate::api::dto::CaseStatusCode>)]
    pub status: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Assignee (staff id).
    #[param(format = "uuid")]
    pub assignee: Option<String>,
    /// A case reference, or words of the title (no control characters).
    pub q: Option<String>,
    /// Paging cursor: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Paging cursor for the page before: a page's `prev_cursor` (not with `cursor`).
    pub before: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 200)]
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
            text: match empty(&self.q) {
                // words to search for, never a control character (PostgreSQL refuses a NUL)
                Some(q) if q.chars().any(char::is_control) => {
                    return Err(AppError::field("q", "no control characters"));
                }
                q => q,
            },
            cursor: match (empty(&self.cursor), empty(&self.before)) {
                (Some(_), Some(_)) => {
                    return Err(AppError::field("before", "not with cursor"));
                }
                (Some(c), None) => Some(
                    CaseCursor::decode(&c)
                        .ok_or_else(|| AppError::field("cursor", "invalid cursor"))?,
                ),
                (None, Some(c)) => Some(
                    CaseCursor::decode(&c)
                        .ok_or_else(|| AppError::field("before", "invalid cursor"))?,
                ),
                (None, None) => None,
            },
            backward: empty(&self.before).is_some() && empty(&self.cursor).is_none(),
            with_total: false,
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
) -> Result<Json<CaseList>, ApiError> {
    let Query(q) =
        q.map_err(|e| ApiError::new(rempart_app::ErrorCode::InvalidField, e.body_text()))?;
    let page = st.app.list_cases(&auth.actor(), &q.parse()?).await?;
    Ok(Json(CaseList {
        cases: page.cases.iter().map(Into::into).collect(),
        next_cursor: page.next.map(|c| c.encode()),
        prev_cursor: page.prev.map(|c| c.encode()),
    }))
}

/// Opens a case.
pub async fn create(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<CreateCaseReq>,
) -> Result<(StatusCode, Json<Case>), ApiError> {
    let (input, contact) = req.into_input()?;
    let c = st.app.create_case(&auth.actor(), input, contact).await?;
    Ok((StatusCode::CREATED, Json(Case::from(&c))))
}

/// A case page.
pub async fn show(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<Json<CasePage>, ApiError> {
    let v = st.app.read_case(&auth.actor(), case_id(&id)?).await?;
    Ok(Json(CasePage::from(&v)))
}

/// Changes the status.
pub async fn status(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<StatusReq>,
) -> Result<Json<Case>, ApiError> {
    let id = case_id(&id)?;
    let to = code!(CaseStatus, "status", &req.status)?;
    let outcome = req
        .outcome
        .as_deref()
        .map(|o| code!(CaseOutcome, "outcome", o))
        .transpose()?;
    let c = st.app.change_status(&auth.actor(), id, to, outcome).await?;
    Ok(Json(Case::from(&c)))
}

/// Replaces the assignees.
pub async fn assign(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<AssignReq>,
) -> Result<Json<Case>, ApiError> {
    let id = case_id(&id)?;
    let ids = req
        .assignees
        .iter()
        .map(|a| StaffId::parse(a).map_err(|_| AppError::field("assignees", "invalid id")))
        .collect::<Result<Vec<_>, _>>()?;
    let c = st.app.assign(&auth.actor(), id, ids).await?;
    Ok(Json(Case::from(&c)))
}

/// Adds an item.
pub async fn add_item(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<ItemReq>,
) -> Result<(StatusCode, Json<Item>), ApiError> {
    let id = case_id(&id)?;
    let i = st
        .app
        .add_item(&auth.actor(), id, req.into_input()?)
        .await?;
    Ok((StatusCode::CREATED, Json(Item::from(&i))))
}

/// Adds a note.
pub async fn add_note(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<NoteReq>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    let id = case_id(&id)?;
    let vis = code!(NoteVisibility, "visibility", &req.visibility)?;
    let n = st.app.add_note(&auth.actor(), id, vis, &req.body).await?;
    Ok((StatusCode::CREATED, Json(Note::from(&n))))
}

/// Logs a contact.
pub async fn log_contact(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<ContactReq>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    let k = st.app.log_contact(&auth.actor(), req.into_input()?).await?;
    Ok((StatusCode::CREATED, Json(Contact::from(&k))))
}
