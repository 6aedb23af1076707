//! A platform's partner API keys (administrators): issue one (shown once, on the page
//! that answers the form, never again), see which are live, replaced (working until the
//! overlap ends) or revoked, and revoke one at once.

use super::{Fields, base, ctx};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{FormBody, Here, Lang, PageAuth};
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::auth::Authenticated;

async fn render(
    st: &AppState,
    lang: &str,
    code: &str,
    auth: &Authenticated,
    notice: Option<&str>,
    new_key: Option<&str>,
) -> Result<Response, PageError> {
    let view = st.app.partner_keys(&auth.actor(), code).await?;
    let keys: Vec<_> = view
        .keys
        .iter()
        .map(|k| {
            let state = if k.revoked_at.is_some() {
                "revoked"
            } else if k.is_live(view.now) && k.expires_at.is_some() {
                "replaced"
            } else if k.is_live(view.now) {
                "live"
            } else {
                "expired"
            };
            serde_json::json!({"id": k.id, "prefix": k.prefix, "created_at": k.created_at, "expires_at": k.expires_at, "revoked_at": k.revoked_at, "state": state})
        })
        .collect();
    let here = Here(format!("/admin/platforms/{}/keys", view.code));
    let v = vec![
        ("code", Value::from(view.code.clone())),
        ("name", Value::from(view.name.clone())),
        ("uses_partner_api", Value::from(view.uses_partner_api)),
        ("webhook_url", Value::from(view.webhook_url.clone())),
        ("keys", Value::from_serialize(&keys)),
        ("notice", Value::from(notice)),
        ("new_key", Value::from(new_key)),
    ];
    Ok(st.templates.render(
        "partner_keys.html",
        ctx(base(st, lang, &here, Some(auth)), v),
    )?)
}

/// The page.
pub async fn page(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    PageAuth(auth): PageAuth,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    render(&st, lang, &code, &auth, None, None).await
}

/// Issues a new key (the others live on for the overlap) and shows it once.
pub async fn issue(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    PageAuth(auth): PageAuth,
    Path(code): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    let issued = st.app.issue_partner_key(&auth.actor(), &code).await?;
    render(
        &st,
        lang,
        &code,
        &auth,
        Some("partner-keys-issued"),
        Some(&issued.key),
    )
    .await
}

/// Revokes a key at once.
pub async fn revoke(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    PageAuth(auth): PageAuth,
    Path(code): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["key"], &auth)?;
    let key = f.get("key");
    st.app.revoke_partner_key(&auth.actor(), &code, key).await?;
    render(&st, lang, &code, &auth, Some("partner-keys-revoked"), None).await
}
