//! Own account: second factors — passkeys (registered with the page's script) and TOTP
//! (the secret shown as text and as a QR code rendered here, never by an outside service).

use super::{Fields, base, ctx};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{FormBody, Lang, PagePartialAuth, SESSION_COOKIE};
use axum::extract::State;
use axum::response::Response;
use minijinja::Value;
use rempart_app::ErrorCode;
use rempart_app::auth::{Authenticated, SessionState};

/// The TOTP URI as a QR code (inline SVG).
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

async fn render(
    st: &AppState,
    lang: &str,
    here: &crate::extract::Here,
    auth: &Authenticated,
    extra: Vec<(&str, Value)>,
) -> Result<Response, PageError> {
    let passkeys: Vec<_> = st
        .app
        .my_passkeys(auth)
        .await?
        .iter()
        .map(|p| serde_json::json!({"id": p.id, "name": p.name, "created_at": p.created_at, "last_used_at": p.last_used_at}))
        .collect();
    let mut v = vec![
        ("email", Value::from(auth.staff.email.clone())),
        ("totp_enabled", Value::from(auth.staff.totp_enabled)),
        (
            "required",
            Value::from(auth.state == SessionState::NeedsEnrolment),
        ),
        ("full", Value::from(auth.state == SessionState::Full)),
        ("passkeys", Value::from_serialize(&passkeys)),
        (
            "passkeys_available",
            Value::from(st.app.passkeys_available()),
        ),
        ("stage", Value::from("start")),
        ("error", Value::from(None::<&str>)),
        ("next", Value::from(super::landing(auth))),
    ];
    for (k, val) in extra {
        v.retain(|(x, _)| *x != k);
        v.push((k, val));
    }
    Ok(st
        .templates
        .render("account.html", ctx(base(st, lang, here, Some(auth)), v))?)
}

/// The account page.
pub async fn page(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PagePartialAuth(auth): PagePartialAuth,
) -> Result<Response, PageError> {
    if auth.state == SessionState::NeedsSecondFactor {
        return Err(PageError::Redirect("/login/totp".into()));
    }
    render(&st, lang, &here, &auth, vec![]).await
}

/// `step=begin` shows a new secret (and its QR code); `step=confirm` checks the first code
/// and shows the recovery codes once. A session that had to enrol is replaced by a full
/// one (a new cookie).
pub async fn totp(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PagePartialAuth(auth): PagePartialAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["step", "code"], &auth)?;
    if auth.state == SessionState::NeedsSecondFactor {
        return Err(PageError::Redirect("/login/totp".into()));
    }
    let confirm = |secret: String, uri: String, error: Option<&'static str>| {
        vec![
            ("stage", Value::from("confirm")),
            ("qr", Value::from_safe_string(qr_svg(&uri))),
            ("secret", Value::from(secret)),
            ("uri", Value::from(uri)),
            ("error", Value::from(error)),
        ]
    };
    match f.get("step") {
        "begin" => {
            let (secret, uri) = st.app.begin_totp_enrolment(&auth).await?;
            render(&st, lang, &here, &auth, confirm(secret, uri, None)).await
        }
        "confirm" => match st.app.confirm_totp_enrolment(&auth, f.get("code")).await {
            Ok((codes, upgraded)) => {
                let shown = upgraded.as_ref().map(|s| &s.auth).unwrap_or(&auth);
                let mut r = render(
                    &st,
                    lang,
                    &here,
                    shown,
                    vec![
                        ("stage", Value::from("done")),
                        ("codes", Value::from_serialize(&codes)),
                        ("totp_enabled", Value::from(true)),
                    ],
                )
                .await?;
                if let Some(s) = upgraded {
                    super::auth::set_cookie(&mut r, &st, SESSION_COOKIE, &s.token, None);
                }
                Ok(r)
            }
            Err(e) if e.code == ErrorCode::InvalidSecondFactor => {
                let (secret, uri) = st.app.pending_totp(&auth).await?;
                let mut r = render(
                    &st,
                    lang,
                    &here,
                    &auth,
                    confirm(secret, uri, Some("totp-invalid")),
                )
                .await?;
                *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
                Ok(r)
            }
            Err(e) => Err(e.into()),
        },
        _ => Err(rempart_app::AppError::field("step", "unknown step").into()),
    }
}
