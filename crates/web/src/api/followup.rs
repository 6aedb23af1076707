//! Following notices up: the helpline's notices list (and its late view), a platform's
//! figures, contesting a refusal.

use crate::AppState;
use crate::api::dto::{ContestReq, Notice, NoticeList, PlatformFiguresOut};
use crate::api::notices::notice_id;
use crate::api::path::PathId;
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::{Query, State};
use rempart_app::AppError;
use rempart_app::notices::followup::NoticeQuery;
use rempart_domain::notice::NoticeState;
use serde::Deserialize;
use utoipa::IntoParams;

/// Notices list query string (an empty value is no filter).
#[derive(Debug, Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeListQuery {
    /// Platform code.
    pub platform: Option<String>,
    /// State.
    #[param(value_type = Option<crate::api::dto::NoticeStateCode>)]
    pub state: Option<String>,
    /// `1`: only the notices waiting for their platform past its expected delay, most
    /// overdue first.
    #[param(pattern = "^[01]?$")]
    pub late: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Paging cursor: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

impl NoticeListQuery {
    /// To the use-case query.
    pub fn parse(&self) -> Result<NoticeQuery, AppError> {
        let empty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let state = empty(&self.state)
            .map(|s| NoticeState::parse(&s).map_err(|_| AppError::field("state", "unknown state")))
            .transpose()?;
        let late = match empty(&self.late).as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(AppError::field("late", "1 or 0")),
        };
        if let Some(l) = self.limit
            && !(1..=200).contains(&l)
        {
            return Err(AppError::field("limit", "between 1 and 200"));
        }
        for (name, v) in [("platform", &self.platform), ("category", &self.category)] {
            if v.as_deref().is_some_and(|s| {
                s.len() > 64
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }) {
                return Err(AppError::field(name, "not a code"));
            }
        }
        Ok(NoticeQuery {
            platform: empty(&self.platform),
            state,
            late,
            category: empty(&self.category),
            after: empty(&self.cursor),
            limit: self.limit,
        })
    }
}

/// The helpline's notices the account may see.
pub async fn list(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    q: Result<Query<NoticeListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<NoticeList>, ApiError> {
    let Query(q) = q.map_err(|e| AppError::field("query", &e.body_text()))?;
    let page = st.app.list_notices(&auth.actor(), q.parse()?).await?;
    Ok(Json(NoticeList::from(&page)))
}

/// A platform's time figures.
pub async fn figures(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(code): PathId,
) -> Result<Json<PlatformFiguresOut>, ApiError> {
    let f = st.app.platform_figures(&auth.actor(), &code).await?;
    Ok(Json(PlatformFiguresOut::new(&code, f)))
}

/// Contests a platform's refusal.
pub async fn contest(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<ContestReq>,
) -> Result<Json<Notice>, ApiError> {
    let id = notice_id(&id)?;
    st.app.contest_notice(&auth.actor(), id, req.reason).await?;
    Ok(Json(Notice::from(&st.app.notice(&auth.actor(), id).await?)))
}
