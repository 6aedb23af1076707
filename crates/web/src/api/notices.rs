//! Notice endpoints: the builder, editing, ready, four eyes, sending, and the platform's
//! acknowledgement and decision recorded by hand.

use crate::AppState;
use crate::api::cases::case_id;
use crate::api::dto::{AcknowledgeReq, DecisionReq, Notice, NoticeEditReq, notices};
use crate::api::path::PathId;
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rempart_app::AppError;
use rempart_domain::ids::NoticeId;

/// A notice id from the path (one that does not parse is not found).
pub fn notice_id(s: &str) -> Result<NoticeId, AppError> {
    NoticeId::parse(s).map_err(|_| AppError::not_found())
}

/// A case's notices.
pub async fn of_case(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<Json<Vec<Notice>>, ApiError> {
    let v = st.app.case_notices(&auth.actor(), case_id(&id)?).await?;
    Ok(Json(notices(&v)))
}

/// Proposes one draft per platform for the case's items in no notice yet.
pub async fn propose(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<(StatusCode, Json<Vec<Notice>>), ApiError> {
    let v = st.app.propose_notices(&auth.actor(), case_id(&id)?).await?;
    Ok((StatusCode::CREATED, Json(notices(&v))))
}

async fn current(
    st: &AppState,
    auth: &rempart_app::auth::Authenticated,
    id: NoticeId,
) -> Result<Json<Notice>, ApiError> {
    Ok(Json(Notice::from(&st.app.notice(&auth.actor(), id).await?)))
}

/// One notice.
pub async fn get(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<Json<Notice>, ApiError> {
    current(&st, &auth, notice_id(&id)?).await
}

/// Edits a draft.
pub async fn edit(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<NoticeEditReq>,
) -> Result<Json<Notice>, ApiError> {
    let id = notice_id(&id)?;
    st.app.edit_notice(&auth.actor(), id, req.into()).await?;
    current(&st, &auth, id).await
}

macro_rules! step {
    ($(#[$doc:meta])* $name:ident => $method:ident) => {
        $(#[$doc])*
        pub async fn $name(
            State(st): State<AppState>,
            ApiAuth(auth): ApiAuth,
            PathId(id): PathId,
        ) -> Result<Json<Notice>, ApiError> {
            let id = notice_id(&id)?;
            st.app.$method(&auth.actor(), id).await?;
            current(&st, &auth, id).await
        }
    };
}

step!(
    /// Marks a complete draft ready (422 `notice_incomplete` with what is missing).
    ready => mark_notice_ready
);
step!(
    /// Back to draft.
    unready => unready_notice
);
step!(
    /// A second counsellor validates a ready notice.
    validate => validate_notice
);
step!(
    /// Sends a ready notice (409 `validation_required` until a second counsellor
    /// validated one that needs it).
    send => send_notice
);

/// Records the platform's acknowledgement by hand.
pub async fn acknowledge(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<AcknowledgeReq>,
) -> Result<Json<Notice>, ApiError> {
    let id = notice_id(&id)?;
    st.app
        .acknowledge_notice(&auth.actor(), id, req.ticket)
        .await?;
    current(&st, &auth, id).await
}

/// Records the platform's decision by hand.
pub async fn decision(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<DecisionReq>,
) -> Result<Json<Notice>, ApiError> {
    let id = notice_id(&id)?;
    st.app
        .record_notice_decision(&auth.actor(), id, req.into_input()?)
        .await?;
    current(&st, &auth, id).await
}
