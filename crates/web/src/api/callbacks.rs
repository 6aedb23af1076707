//! Platforms' calls back: ROOST Coop's action callbacks, signed with the platform's key.

use crate::AppState;
use crate::api::dto::CallbackAck;
use crate::error::ApiError;
use crate::extract::RawJson;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use rempart_app::notices::callbacks::CallbackResult;

/// A Coop action callback: verified, then the decision recorded on its notice.
pub async fn coop(
    State(st): State<AppState>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    RawJson(body): RawJson,
) -> Result<Json<CallbackAck>, ApiError> {
    let signature = headers.get("coop-signature").and_then(|v| v.to_str().ok());
    let r = st.app.coop_callback(&platform, &body, signature).await?;
    Ok(Json(CallbackAck {
        recorded: r == CallbackResult::Recorded,
    }))
}

/// A Coop appeal decision callback: verified, then kept on its notice.
pub async fn coop_appeal(
    State(st): State<AppState>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    RawJson(body): RawJson,
) -> Result<Json<CallbackAck>, ApiError> {
    let signature = headers.get("coop-signature").and_then(|v| v.to_str().ok());
    let r = st
        .app
        .coop_appeal_callback(&platform, &body, signature)
        .await?;
    Ok(Json(CallbackAck {
        recorded: r == CallbackResult::Recorded,
    }))
}
