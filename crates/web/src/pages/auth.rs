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

fn set_cookie(r: &mut Response, st: &AppState, name: &str, value: &str, max_age: Option<i64>) {
    let secure = if st.app.settings.secure_cookies {
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

/// `/`: to the cases (or the login).
pub async fn home() -> Response {
    redirect("/cases")
}

fn login_form(st: &AppState, lang: &str, error: Option<&str>) -> Result<Response, PageError> {
    let token = random_hex(32)?;
    let mut r = st.templates.render(
        "login.html",
        ctx(
            base(st, lang, None),
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
    Lang(lang): Lang,
) -> Result<Response, PageError> {
    login_form(&st, lang, None)
}

/// Checks e-mail and password; starts a session (a new token: no fixation).
pub async fn login(
    State(st): State<AppState>,
    Lang(lang): Lang,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    headers: HeaderMap,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &["email", "password", "login_csrf"])?;
    let n = st.app.settings.logins_per_minute;
    st.limit(&format!("login:{ip}"), n, 60_000 / i64::from(n.max(1)))?;
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), f.get("login_csrf").as_bytes())
    {
        return Err(AppError::new(ErrorCode::CsrfFailed, "form expired").into());
    }
    match st.app.login(f.get("email"), f.get("password")).await {
        Ok((token, auth)) => {
            let to = match auth.state {
                SessionState::Full => "/cases",
                SessionState::NeedsTotp => "/login/totp",
                SessionState::NeedsEnrolment => "/account",
            };
            let mut r = redirect(to);
            set_cookie(&mut r, &st, SESSION_COOKIE, &token, None);
            set_cookie(&mut r, &st, LOGIN_CSRF_COOKIE, "", Some(0));
            Ok(r)
        }
        Err(e) => {
            let key = match e.code {
                ErrorCode::AccountLocked => "login-locked",
                ErrorCode::InvalidCredentials => "login-invalid",
                _ => return Err(e.into()),
            };
            let mut r = login_form(&st, lang, Some(key))?;
            *r.status_mut() = axum::http::StatusCode::from_u16(e.code.status())
                .unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
            Ok(r)
        }
    }
}

/// The second-factor page.
pub async fn totp_page(
    State(st): State<AppState>,
    Lang(lang): Lang,
    PagePartialAuth(auth): PagePartialAuth,
) -> Result<Response, PageError> {
    if auth.state == SessionState::Full {
        return Ok(redirect("/cases"));
    }
    Ok(st.templates.render(
        "totp.html",
        ctx(
            base(&st, lang, Some(&auth)),
            vec![("error", Value::from(None::<&str>))],
        ),
    )?)
}

/// Checks the second factor.
pub async fn totp(
    State(st): State<AppState>,
    Lang(lang): Lang,
    PagePartialAuth(auth): PagePartialAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &["code"])?;
    crate::extract::check_csrf(&auth, f.csrf())?;
    match st.app.verify_second_factor(&auth, f.get("code")).await {
        Ok(()) => Ok(redirect("/cases")),
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidSecondFactor | ErrorCode::AccountLocked
            ) =>
        {
            let mut r = st.templates.render(
                "totp.html",
                ctx(
                    base(&st, lang, Some(&auth)),
                    vec![("error", Value::from("totp-invalid"))],
                ),
            )?;
            *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
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

/// Switches language (a cookie) and goes back to a local page.
pub async fn switch_lang(
    State(st): State<AppState>,
    Path(lang): Path<String>,
    Query(b): Query<Back>,
) -> Response {
    let lang = crate::i18n::I18n::lang(&lang);
    let back = b
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .unwrap_or_else(|| "/cases".into());
    let mut r = redirect(&back);
    let secure = if st.app.settings.secure_cookies {
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
