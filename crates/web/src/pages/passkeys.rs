//! The passkey ceremonies of the console, called by `assets/passkey.js` (WebAuthn needs
//! the browser's script): register a passkey on the account page, use it after the
//! password. JSON in and out; the session cookie and its CSRF token in `X-CSRF-Token`.

use super::{Fields, auth::set_cookie};
use crate::AppState;
use crate::api::dto::{Next, PasskeyOptions};
use crate::error::{ApiError, PageError, redirect};
use crate::extract::{ApiJson, FormBody, PageAuth, PageScriptAuth, SESSION_COOKIE};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A passkey's answer to a registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PasskeyRegisterReq)]
pub struct RegisterReq {
    /// The name the person gives it ("phone", "work key").
    #[schema(min_length = 1, max_length = 60)]
    name: String,
    /// `PublicKeyCredential` as the browser made it (base64url fields).
    #[schema(value_type = Object)]
    credential: Value,
}

/// A passkey's answer to the check.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PasskeyLoginReq)]
pub struct LoginReq {
    /// `PublicKeyCredential` as the browser made it.
    #[schema(value_type = Object)]
    credential: Value,
}

/// Options for `navigator.credentials.create`.
pub async fn register_options(
    State(st): State<AppState>,
    PageScriptAuth(auth): PageScriptAuth,
) -> Result<Json<PasskeyOptions>, ApiError> {
    Ok(Json(PasskeyOptions(
        st.app.passkey_registration_options(&auth).await?,
    )))
}

/// Registers the passkey; a session that had to enrol becomes a full one (a new cookie),
/// and the page is told where to go next.
pub async fn register(
    State(st): State<AppState>,
    PageScriptAuth(auth): PageScriptAuth,
    ApiJson(r): ApiJson<RegisterReq>,
) -> Result<Response, ApiError> {
    let upgraded = st
        .app
        .passkey_register(&auth, &r.name, r.credential)
        .await?;
    let next = match &upgraded {
        Some(s) if auth.state != rempart_app::auth::SessionState::Full => super::landing(&s.auth),
        _ => "/account",
    };
    let mut resp = Json(Next {
        next: next.to_owned(),
    })
    .into_response();
    if let Some(s) = upgraded {
        set_cookie(&mut resp, &st, SESSION_COOKIE, &s.token, None);
    }
    Ok(resp)
}

/// Options for `navigator.credentials.get`, after the password.
pub async fn login_options(
    State(st): State<AppState>,
    PageScriptAuth(auth): PageScriptAuth,
) -> Result<Json<PasskeyOptions>, ApiError> {
    Ok(Json(PasskeyOptions(
        st.app.passkey_login_options(&auth).await?,
    )))
}

/// Checks the passkey: passed, a new, full session (a new cookie).
pub async fn login(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    PageScriptAuth(auth): PageScriptAuth,
    ApiJson(r): ApiJson<LoginReq>,
) -> Result<Response, ApiError> {
    let n = st.app.settings().security.logins_per_minute;
    st.limit(
        &format!("second-factor:{ip}"),
        n,
        60_000 / i64::from(n.max(1)),
    )?;
    let s = st.app.passkey_login(&auth, r.credential).await?;
    let mut resp = Json(Next {
        next: super::landing(&s.auth).to_owned(),
    })
    .into_response();
    set_cookie(&mut resp, &st, SESSION_COOKIE, &s.token, None);
    Ok(resp)
}

/// Removes one of the account's passkeys (a form).
pub async fn remove(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    st.app.remove_passkey(&auth, &id).await?;
    Ok(redirect("/account"))
}
