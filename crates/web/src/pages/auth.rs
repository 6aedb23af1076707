//! Login, second factor, logout and the language switch.

use super::{Fields, base, ctx};
use crate::AppState;
use crate::error::{PageError, redirect};
use crate::extract::{
    FormBody, LANG_COOKIE, Lang, PagePartialAuth, SESSION_COOKIE, constant_time_eq, cookie,
};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use minijinja::Value;
use rempart_app::auth::SessionState;
use rempart_app::{AppError, ErrorCode, random_hex};
use serde::Deserialize;

const LOGIN_CSRF_COOKIE: &str = "rempart_login_csrf";

/// Sets a cookie (HttpOnly, SameSite=Strict, Secure outside the local demo).
pub fn set_cookie(r: &mut Response, st: &AppState, name: &str, value: &str, max_age: Option<i64>) {
    let secure = if st.app.settings().security.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{age}"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `/`: the first page the account's role may use, or the login.
pub async fn home(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let session = match cookie(&headers, SESSION_COOKIE) {
        Some(t) => st.app.authenticate(t).await.ok(),
        None => None,
    };
    match session {
        Some(auth) => redirect(super::landing(&auth)),
        None => redirect("/login"),
    }
}

fn login_form(
    st: &AppState,
    lang: &str,
    here: &crate::extract::Here,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let token = random_hex(32)?;
    let mut r = st.templates.render(
        "login.html",
        ctx(
            base(st, lang, here, None),
            vec![
                ("login_csrf", Value::from(token.clone())),
                ("error", Value::from(error)),
            ],
        ),
    )?;
    set_cookie(&mut r, st, LOGIN_CSRF_COOKIE, &token, Some(3600));
    Ok(r)
}

/// The login page. A pre-session CSRF token (cookie + form field) stops login CSRF.
pub async fn login_page(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
) -> Result<Response, PageError> {
    login_form(&st, lang, &here, None)
}

/// Puts a new session's token in the cookie and goes to its first page.
pub fn start_session(st: &AppState, s: &rempart_app::auth::NewSession) -> Response {
    let mut r = redirect(super::landing(&s.auth));
    set_cookie(&mut r, st, SESSION_COOKIE, &s.token, None);
    r
}

/// Checks e-mail and password; starts a session (a new token: no fixation).
pub async fn login(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    headers: HeaderMap,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &["email", "password", "login_csrf"])?;
    let n = st.app.settings().security.logins_per_minute;
    st.limit(&format!("login:{ip}"), n, 60_000 / i64::from(n.max(1)))?;
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), f.get("login_csrf").as_bytes())
    {
        return Err(AppError::new(ErrorCode::CsrfFailed, "form expired").into());
    }
    match st.app.login(f.get("email"), f.get("password")).await {
        Ok(s) => {
            let mut r = start_session(&st, &s);
            set_cookie(&mut r, &st, LOGIN_CSRF_COOKIE, "", Some(0));
            Ok(r)
        }
        Err(e) => {
            let key = match e.code {
                ErrorCode::AccountLocked => "login-locked",
                ErrorCode::InvalidCredentials => "login-invalid",
                _ => return Err(e.into()),
            };
            let mut r = login_form(&st, lang, &here, Some(key))?;
            *r.status_mut() = axum::http::StatusCode::from_u16(e.code.status())
                .unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
            Ok(r)
        }
    }
}

fn totp_form(
    st: &AppState,
    lang: &str,
    here: &crate::extract::Here,
    auth: &rempart_app::auth::Authenticated,
    error: Option<&str>,
) -> Result<Response, PageError> {
    Ok(st.templates.render(
        "totp.html",
        ctx(
            base(st, lang, here, Some(auth)),
            vec![
                ("error", Value::from(error)),
                ("totp", Value::from(auth.staff.totp_enabled)),
                (
                    "passkeys",
                    Value::from(auth.staff.passkeys > 0 && st.app.passkeys_available()),
                ),
            ],
        ),
    )?)
}

/// The second-factor page: the passkey (with the script) or a code.
pub async fn totp_page(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PagePartialAuth(auth): PagePartialAuth,
) -> Result<Response, PageError> {
    if auth.state != SessionState::NeedsSecondFactor {
        return Ok(redirect(super::landing(&auth)));
    }
    totp_form(&st, lang, &here, &auth, None)
}

/// Checks a TOTP or recovery code; passed, the session is replaced by a new one (a new
/// cookie). After a few wrong codes the half-open session ends: log in again.
pub async fn totp(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    PagePartialAuth(auth): PagePartialAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &["code"])?;
    crate::extract::check_csrf(&auth, f.csrf())?;
    let n = st.app.settings().security.logins_per_minute;
    st.limit(
        &format!("second-factor:{ip}"),
        n,
        60_000 / i64::from(n.max(1)),
    )?;
    match st.app.verify_second_factor(&auth, f.get("code")).await {
        Ok(s) => Ok(start_session(&st, &s)),
        Err(e) if e.code == ErrorCode::Unauthenticated => {
            let mut r = redirect("/login?again=1");
            set_cookie(&mut r, &st, SESSION_COOKIE, "", Some(0));
            Ok(r)
        }
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidSecondFactor | ErrorCode::AccountLocked
            ) =>
        {
            let key = if e.code == ErrorCode::AccountLocked {
                "login-locked"
            } else {
                "totp-invalid"
            };
            let mut r = totp_form(&st, lang, &here, &auth, Some(key))?;
            *r.status_mut() = axum::http::StatusCode::from_u16(e.code.status())
                .unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// Ends the session and clears the cookie.
pub async fn logout(
    State(st): State<AppState>,
    PagePartialAuth(auth): PagePartialAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &[])?;
    crate::extract::check_csrf(&auth, f.csrf())?;
    st.app.logout(&auth).await?;
    let mut r = redirect("/login?bye=1");
    set_cookie(&mut r, &st, SESSION_COOKIE, "", Some(0));
    Ok(r)
}

/// Where to go back after switching language.
#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// Switches language (a cookie) and goes back to the page it was on: only a local page
/// the router knows (never another site, whatever the slashes, tabs or encodings).
pub async fn switch_lang(
    State(st): State<AppState>,
    Path(lang): Path<String>,
    q: Result<Query<Back>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let lang = crate::i18n::I18n::lang(&lang);
    let back = q
        .ok()
        .and_then(|Query(b)| b.back)
        .and_then(|b| crate::routes::local_path(&b).map(str::to_owned))
        .unwrap_or_else(|| "/".into());
    let mut r = redirect(&back);
    let secure = if st.app.settings().security.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000{secure}"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}
