//! Staff accounts (admins).

use super::{Fields, base, ctx, options};
use crate::AppState;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth, check_csrf};
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_app::staff::NewStaffInput;
use rempart_domain::ids::StaffId;
use rempart_domain::policy::Role;

/// The accounts page.
pub async fn list(
    State(st): State<AppState>,
    Lang(lang): Lang,
    PageAuth(auth): PageAuth,
) -> Result<Response, PageError> {
    let staff = st.app.list_staff(&auth.actor()).await?;
    let rows: Vec<_> = staff
        .iter()
        .map(|s| serde_json::json!({"id": s.id.to_string(), "name": s.display_name, "email": s.email, "role": s.role.label(lang), "team": s.team, "totp": s.totp_enabled, "disabled": s.disabled, "me": s.id == auth.staff.id}))
        .collect();
    Ok(st.templates.render(
        "staff.html",
        ctx(
            base(&st, lang, Some(&auth)),
            vec![
                ("staff", Value::from_serialize(&rows)),
                (
                    "roles",
                    options(Role::ALL, |r| r.as_str(), |r| r.label(lang)),
                ),
            ],
        ),
    )?)
}

/// Creates an account.
pub async fn create(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(
        form,
        &["email", "display_name", "role", "team", "password", "lang"],
    )?;
    check_csrf(&auth, f.csrf())?;
    let input = NewStaffInput {
        email: f.get("email").to_owned(),
        display_name: f.get("display_name").to_owned(),
        role: Role::parse(f.get("role")).map_err(|_| AppError::field("role", "unknown value"))?,
        team: f.opt("team"),
        password: f.get("password").to_owned(),
        lang: f.opt("lang").unwrap_or_else(|| "fr".into()),
    };
    st.app.create_staff(Some(&auth.actor()), input).await?;
    Ok(redirect("/admin/staff"))
}

async fn set_disabled(
    st: AppState,
    auth: PageAuth,
    id: String,
    form: FormBody<Vec<(String, String)>>,
    disabled: bool,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &[])?;
    check_csrf(&auth.0, f.csrf())?;
    let id = StaffId::parse(&id).map_err(|_| AppError::not_found())?;
    st.app.set_staff_disabled(&auth.0, id, disabled).await?;
    Ok(redirect("/admin/staff"))
}

/// Disables an account.
pub async fn disable(
    State(st): State<AppState>,
    auth: PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    set_disabled(st, auth, id, form, true).await
}

/// Re-enables an account.
pub async fn enable(
    State(st): State<AppState>,
    auth: PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    set_disabled(st, auth, id, form, false).await
}
