//! Staff accounts (administrators): invitations (the person sets their own password and
//! second factor from a one-time link), role changes, the grants of supervisor and
//! administrator that wait for a second administrator, disabling.

use super::{Fields, base, ctx, options};
use crate::AppState;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth, check_csrf};
use crate::i18n::Said;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_app::auth::Authenticated;
use rempart_app::staff::{Invitation, InvitationInput, RoleChange};
use rempart_domain::ids::StaffId;
use rempart_domain::policy::Role;
use std::collections::HashMap;

async fn render(
    st: &AppState,
    lang: &str,
    here: &crate::extract::Here,
    auth: &Authenticated,
    extra: Vec<(&str, Value)>,
) -> Result<Response, PageError> {
    let actor = auth.actor();
    let staff = st.app.list_staff(&actor).await?;
    let names: HashMap<StaffId, String> = staff
        .iter()
        .map(|s| (s.id, s.display_name.clone()))
        .collect();
    let name = |id: &StaffId| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let rows: Vec<_> = staff
        .iter()
        .map(|s| serde_json::json!({"id": s.id.to_string(), "name": s.display_name, "email": s.email, "role": s.role.said(lang), "role_code": s.role.as_str(), "team": s.team, "second_factor": s.has_second_factor(), "disabled": s.disabled, "me": s.id == auth.staff.id}))
        .collect();
    let invitations: Vec<_> = st
        .app
        .open_invitations(&actor)
        .await?
        .iter()
        .map(|i| serde_json::json!({"id": i.id, "name": i.display_name, "email": i.email, "role": i.role.said(lang), "pending": i.token_hash.is_none(), "by": name(&i.invited_by), "mine": i.invited_by == actor.id, "expires_at": i.expires_at}))
        .collect();
    let grants: Vec<_> = st
        .app
        .pending_role_grants(&actor)
        .await?
        .iter()
        .map(|g| serde_json::json!({"id": g.id, "who": name(&g.staff_id), "role": g.role.said(lang), "by": name(&g.requested_by), "mine": g.requested_by == actor.id}))
        .collect();
    let mut v = vec![
        ("staff", Value::from_serialize(&rows)),
        ("invitations", Value::from_serialize(&invitations)),
        ("grants", Value::from_serialize(&grants)),
        (
            "roles",
            options(Role::ALL, |r| r.as_str(), |r| r.said(lang)),
        ),
        ("link", Value::from(None::<String>)),
        ("notice", Value::from(None::<&str>)),
        // the account whose correction failed, with what was typed
        ("edit_id", Value::from("")),
        ("edit_error", Value::from("")),
        ("edit_name", Value::from("")),
        ("edit_email", Value::from("")),
    ];
    for (k, val) in extra {
        v.retain(|(x, _)| *x != k);
        v.push((k, val));
    }
    Ok(st
        .templates
        .render("staff.html", ctx(base(st, lang, here, Some(auth)), v))?)
}

/// The accounts page; `?done=` says what the last action did.
pub async fn list(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    done: axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let notice = match done.get("done").map(String::as_str) {
        Some("role") => Some("staff-done-role"),
        Some("grant_pending") => Some("staff-done-grant-pending"),
        Some("edited") => Some("staff-done-edited"),
        Some("disabled") => Some("staff-done-disabled"),
        Some("enabled") => Some("staff-done-enabled"),
        _ => None,
    };
    render(
        &st,
        lang,
        &here,
        &auth,
        vec![("notice", Value::from(notice))],
    )
    .await
}

/// Corrects an account's name and login address. A mistake (an address that is not one,
/// or another account's) shows the page again with it, answered 422.
pub async fn edit(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["display_name", "email"], &auth)?;
    let sid = StaffId::parse(&id).map_err(|_| AppError::not_found())?;
    let mistake = match st
        .app
        .edit_staff(&auth, sid, f.get("display_name"), f.get("email"))
        .await
    {
        Ok(()) => return Ok(redirect("/admin/staff?done=edited")),
        Err(e) if e.code == rempart_app::ErrorCode::Conflict => "staff-edit-error-taken",
        Err(e) if e.code == rempart_app::ErrorCode::InvalidField => {
            if e.message.starts_with("email") {
                "staff-edit-error-email"
            } else {
                "staff-edit-error-name"
            }
        }
        Err(e) => return Err(e.into()),
    };
    let here = crate::extract::Here("/admin/staff".into());
    let mut r = render(
        &st,
        lang,
        &here,
        &auth,
        vec![
            ("edit_error", Value::from(mistake)),
            ("edit_id", Value::from(id.clone())),
            ("edit_name", Value::from(f.get("display_name").to_owned())),
            ("edit_email", Value::from(f.get("email").to_owned())),
        ],
    )
    .await?;
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

fn shown(inv: &Invitation) -> Vec<(&'static str, Value)> {
    match &inv.link {
        Some(l) => vec![
            ("link", Value::from(l.clone())),
            ("notice", Value::from("staff-invited")),
        ],
        None => vec![("notice", Value::from("staff-invite-pending"))],
    }
}

/// Invites a new account; the page shows its one-time link (or that it waits for a second
/// administrator).
pub async fn invite(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(
        form,
        &["email", "display_name", "role", "team", "lang"],
        &auth,
    )?;
    let input = InvitationInput {
        email: f.get("email").to_owned(),
        display_name: f.get("display_name").to_owned(),
        role: Role::parse(f.get("role")).map_err(|_| AppError::field("role", "unknown value"))?,
        team: f.opt("team"),
        lang: f.opt("lang").unwrap_or_else(|| "fr".into()),
    };
    let inv = st.app.invite_staff(&auth.actor(), input).await?;
    let here = crate::extract::Here("/admin/staff".into());
    render(&st, lang, &here, &auth, shown(&inv)).await
}

/// Withdraws an invitation.
pub async fn revoke(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    st.app.revoke_invitation(&auth.actor(), &id).await?;
    Ok(redirect("/admin/staff"))
}

/// Approves another administrator's invitation; the page shows its link.
pub async fn approve_invitation(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    let inv = st.app.approve_invitation(&auth.actor(), &id).await?;
    let here = crate::extract::Here("/admin/staff".into());
    render(&st, lang, &here, &auth, shown(&inv)).await
}

/// Refuses another administrator's invitation.
pub async fn refuse_invitation(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    st.app.refuse_invitation(&auth.actor(), &id).await?;
    Ok(redirect("/admin/staff"))
}

/// Changes an account's role and team.
pub async fn role(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["role", "team"], &auth)?;
    let id = StaffId::parse(&id).map_err(|_| AppError::not_found())?;
    let role = Role::parse(f.get("role")).map_err(|_| AppError::field("role", "unknown value"))?;
    match st
        .app
        .set_staff_role(&auth, id, role, f.opt("team"))
        .await?
    {
        RoleChange::Changed => Ok(redirect("/admin/staff?done=role")),
        RoleChange::Pending => Ok(redirect("/admin/staff?done=grant_pending")),
    }
}

async fn decide(
    st: AppState,
    auth: Authenticated,
    id: String,
    form: FormBody<Vec<(String, String)>>,
    approve: bool,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    st.app
        .decide_role_grant(&auth.actor(), &id, approve)
        .await?;
    Ok(redirect("/admin/staff"))
}

/// Approves another administrator's grant of a role.
pub async fn approve_grant(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    decide(st, auth, id, form, true).await
}

/// Refuses another administrator's grant of a role.
pub async fn refuse_grant(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    decide(st, auth, id, form, false).await
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
    Ok(redirect(if disabled {
        "/admin/staff?done=disabled"
    } else {
        "/admin/staff?done=enabled"
    }))
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
