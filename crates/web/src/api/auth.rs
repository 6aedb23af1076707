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
        SessionState::NeedsSecondFactor => "needs_second_factor",
        SessionState::NeedsEnrolment => "needs_enrolment",
    }
}

/// Logs in; the token is returned once and never stored in clear.
pub async fn login(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    ApiJson(req): ApiJson<LoginReq>,
) -> Result<Json<Value>, ApiError> {
    let n = st.app.settings().security.logins_per_minute;
    st.limit(&format!("login:{ip}"), n, 60_000 / i64::from(n.max(1)))?;
    let s = st.app.login(&req.email, &req.password).await?;
    Ok(Json(session(&s)))
}

/// A new session as the API returns it (the token once).
pub fn session(s: &rempart_app::auth::NewSession) -> Value {
    json!({"token": s.token, "state": state_code(s.auth.state), "csrf_token": s.auth.session.csrf_token})
}

/// Checks the second factor; the half-open session ends and the new, full one's token is
/// returned (the token sent before the factor never becomes a full one).
pub async fn totp(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    ApiPartialAuth(auth): ApiPartialAuth,
    ApiJson(req): ApiJson<TotpReq>,
) -> Result<Json<Value>, ApiError> {
    let n = st.app.settings().security.logins_per_minute;
    st.limit(
        &format!("second-factor:{ip}"),
        n,
        60_000 / i64::from(n.max(1)),
    )?;
    let s = st.app.verify_second_factor(&auth, &req.code).await?;
    Ok(Json(session(&s)))
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
