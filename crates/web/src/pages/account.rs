//! Own account: second-factor (TOTP) enrolment.

use super::{Fields, base, ctx};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{FormBody, Lang, PagePartialAuth, check_csrf};
use axum::extract::State;
use axum::response::Response;
use minijinja::Value;
use rempart_app::ErrorCode;
use rempart_app::auth::SessionState;

/// The account page.
pub async fn page(
    State(st): State<AppState>,
    Lang(lang): Lang,
    PagePartialAuth(auth): PagePartialAuth,
) -> Result<Response, PageError> {
    if auth.state == SessionState::NeedsTotp {
        return Err(PageError::Redirect("/login/totp".into()));
    }
    let required = auth.state == SessionState::NeedsEnrolment;
    Ok(st.templates.render(
        "account.html",
        ctx(
            base(&st, lang, Some(&auth)),
            vec![
                ("email", Value::from(auth.staff.email.clone())),
                ("totp_enabled", Value::from(auth.staff.totp_enabled)),
                ("required", Value::from(required)),
                ("stage", Value::from("start")),
                ("error", Value::from(None::<&str>)),
            ],
        ),
    )?)
}

/// `step=begin` shows a new secret; `step=confirm` checks the first code and shows the
/// recovery codes once.
pub async fn totp(
    State(st): State<AppState>,
    Lang(lang): Lang,
    PagePartialAuth(auth): PagePartialAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &["step", "code", "secret"])?;
    check_csrf(&auth, f.csrf())?;
    if auth.state == SessionState::NeedsTotp {
        return Err(PageError::Redirect("/login/totp".into()));
    }
    let b = base(&st, lang, Some(&auth));
    let common = |stage: &str| {
        vec![
            ("email", Value::from(auth.staff.email.clone())),
            ("totp_enabled", Value::from(auth.staff.totp_enabled)),
            (
                "required",
                Value::from(auth.state == SessionState::NeedsEnrolment),
            ),
            ("stage", Value::from(stage)),
        ]
    };
    match f.get("step") {
        "begin" => {
            let (secret, uri) = st.app.begin_totp_enrolment(&auth).await?;
            let mut v = common("confirm");
            v.push(("secret", Value::from(secret)));
            v.push(("uri", Value::from(uri)));
            v.push(("error", Value::from(None::<&str>)));
            Ok(st.templates.render("account.html", ctx(b, v))?)
        }
        "confirm" => match st.app.confirm_totp_enrolment(&auth, f.get("code")).await {
            Ok(codes) => {
                let mut v = common("done");
                v.push(("codes", Value::from_serialize(&codes)));
                v.push(("error", Value::from(None::<&str>)));
                Ok(st.templates.render("account.html", ctx(b, v))?)
            }
            Err(e) if e.code == ErrorCode::InvalidSecondFactor => {
                let staff = st
                    .app
                    .store
                    .staff_by_id(auth.staff.id)
                    .await
                    .map_err(rempart_app::AppError::from)?;
                let secret = staff.and_then(|s| s.totp_secret).unwrap_or_default();
                let uri = rempart_app::totp::otpauth_uri(
                    &st.app.settings.helpline_name,
                    &auth.staff.email,
                    &secret,
                );
                let mut v = common("confirm");
                v.push(("secret", Value::from(secret)));
                v.push(("uri", Value::from(uri)));
                v.push(("error", Value::from("totp-invalid")));
                let mut r = st.templates.render("account.html", ctx(b, v))?;
                *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
                Ok(r)
            }
            Err(e) => Err(e.into()),
        },
        _ => Err(rempart_app::AppError::field("step", "unknown step").into()),
    }
}
