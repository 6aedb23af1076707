//! The invitation page: the invited person sets their own password (then their second
//! factor on the account page). The link's token is in the path (a one-time, expiring
//! link, never logged: the request log names the route template only).

use super::{Fields, base, ctx};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{FormBody, Lang};
use crate::i18n::Said;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::ErrorCode;

async fn render(
    st: &AppState,
    lang: &str,
    token: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let inv = st.app.invitation_for_link(token).await?;
    let here = crate::extract::Here("/".into());
    Ok(st.templates.render(
        "invite.html",
        ctx(
            base(st, lang, &here, None),
            vec![
                ("token", Value::from(token)),
                ("name", Value::from(inv.display_name)),
                ("email", Value::from(inv.email)),
                ("role", Value::from(inv.role.said(lang))),
                ("error", Value::from(error)),
            ],
        ),
    )?)
}

/// The page (404 once the link was used, withdrawn or has expired).
pub async fn page(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    render(&st, lang, &token, None).await
}

/// Accepts: the account exists now, with a session that goes on to the second factor.
pub async fn accept(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    Path(token): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &["password", "password_again"])?;
    let n = st.app.settings().security.logins_per_minute;
    st.limit(&format!("login:{ip}"), n, 60_000 / i64::from(n.max(1)))?;
    if f.get("password") != f.get("password_again") {
        let mut r = render(&st, lang, &token, Some("invite-mismatch")).await?;
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    }
    match st.app.accept_invitation(&token, f.get("password")).await {
        Ok(s) => Ok(super::auth::start_session(&st, &s)),
        Err(e) if e.code == ErrorCode::InvalidField => {
            let mut r = render(&st, lang, &token, Some("invite-weak")).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
