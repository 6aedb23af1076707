//! API authentication: bearer tokens.

use crate::AppState;
use crate::api::dto::{Session, Staff};
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson, ApiPartialAuth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

/// Login body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginReq {
    /// Login e-mail.
    email: String,
    /// Password.
    password: String,
}

/// Second-factor body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpReq {
    /// A TOTP code (6 digits) or a recovery code.
    code: String,
}

/// Logs in; the token is returned once and never stored in clear.
pub async fn login(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    ApiJson(req): ApiJson<LoginReq>,
) -> Result<Json<Session>, ApiError> {
    let n = st.app.settings().security.logins_per_minute;
    st.limit(&format!("login:{ip}"), n, 60_000 / i64::from(n.max(1)))?;
    let s = st.app.login(&req.email, &req.password).await?;
    Ok(Json((&s).into()))
}

/// Checks the second factor; the half-open session ends and the new, full one's token is
/// returned (the token sent before the factor never becomes a full one).
pub async fn totp(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    ApiPartialAuth(auth): ApiPartialAuth,
    ApiJson(req): ApiJson<TotpReq>,
) -> Result<Json<Session>, ApiError> {
    let n = st.app.settings().security.logins_per_minute;
    st.limit(
        &format!("second-factor:{ip}"),
        n,
        60_000 / i64::from(n.max(1)),
    )?;
    let s = st.app.verify_second_factor(&auth, &req.code).await?;
    Ok(Json((&s).into()))
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
pub async fn me(ApiAuth(auth): ApiAuth) -> Json<Staff> {
    Json((&auth.staff).into())
}
