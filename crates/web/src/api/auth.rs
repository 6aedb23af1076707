//! API authentication: bearer tokens.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson, ApiPartialAuth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rempart_app::auth::SessionState;
use serde::Deserialize;
use serde_json::{Value, json};

/// Login body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginReq {
    email: String,
    password: String,
}

/// Second-factor body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpReq {
    code: String,
}

fn state_code(s: SessionState) -> &'static str {
    match s {
        SessionState::Full => "full",
        SessionState::NeedsTotp => "needs_totp",
        SessionState::NeedsEnrolment => "needs_enrolment",
    }
}

/// Logs in; the token is returned once and never stored in clear.
pub async fn login(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    ApiJson(req): ApiJson<LoginReq>,
) -> Result<Json<Value>, ApiError> {
    let n = st.app.settings.logins_per_minute;
    st.limit(&format!("login:{ip}"), n, 60_000 / i64::from(n.max(1)))?;
    let (token, auth) = st.app.login(&req.email, &req.password).await?;
    Ok(Json(
        json!({"token": token, "state": state_code(auth.state), "csrf_token": auth.session.csrf_token}),
    ))
}

/// Checks the second factor.
pub async fn totp(
    State(st): State<AppState>,
    ApiPartialAuth(auth): ApiPartialAuth,
    ApiJson(req): ApiJson<TotpReq>,
) -> Result<Json<Value>, ApiError> {
    st.app.verify_second_factor(&auth, &req.code).await?;
    Ok(Json(json!({"state": "full"})))
}

/// Ends the session.
pub async fn logout(
    State(st): State<AppState>,
    ApiPartialAuth(auth): ApiPartialAuth,
) -> Result<StatusCode, ApiError> {
    st.app.logout(&auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account behind the token.
pub async fn me(ApiAuth(auth): ApiAuth) -> Json<Value> {
    Json(crate::api::dto::staff(&auth.staff))
}
