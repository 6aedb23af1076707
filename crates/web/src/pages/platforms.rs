//! The platform directory (administrators): each platform's priority channels in the order
//! they are tried, whether their secrets are configured on this node (never their values),
//! the expected delays, and where the directory came from; reloading it by hand.

use super::{Fields, base, ctx};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{FormBody, Lang, PageAuth};
use crate::i18n::Said;
use axum::extract::State;
use axum::response::Response;
use minijinja::Value;
use rempart_app::auth::Authenticated;

fn render(
    st: &AppState,
    lang: &str,
    here: &crate::extract::Here,
    auth: &Authenticated,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let view = st.app.directory_view(&auth.actor())?;
    let platforms: Vec<_> = view
        .platforms
        .iter()
        .map(|(p, channels)| {
            let channels: Vec<_> = channels
                .iter()
                .map(|c| serde_json::json!({"kind": c.kind.said(lang), "code": c.kind.as_str(), "address": c.address, "secret": c.secret, "secret_configured": c.secret_configured, "callback_key": c.callback_key}))
                .collect();
            let delays: Vec<_> = p
                .delays
                .iter()
                .map(|(cat, h)| {
                    let label = st
                        .app
                        .taxonomy()
                        .get(cat)
                        .map(|c| c.label(lang).to_owned())
                        .unwrap_or_else(|| cat.clone());
                    serde_json::json!({"category": label, "hours": h})
                })
                .collect();
            let partner_api = p
                .channels
                .iter()
                .any(|c| c.kind() == rempart_domain::directory::NoticeChannel::RempartApi);
            serde_json::json!({"code": p.code, "name": p.name, "lang": p.lang, "hours": p.expected_hours, "delays": delays, "channels": channels, "hint": p.id_hint(lang), "partner_api": partner_api})
        })
        .collect();
    let l = &view.loaded;
    let v = vec![
        ("platforms", Value::from_serialize(&platforms)),
        (
            "source",
            Value::from(l.source.as_ref().map(|p| p.display().to_string())),
        ),
        ("digest", Value::from(l.digest.clone())),
        ("loaded_at", Value::from(l.loaded_at)),
        ("last_error", Value::from(l.last_error.clone())),
        ("notice", Value::from(notice)),
    ];
    Ok(st
        .templates
        .render("platforms.html", ctx(base(st, lang, here, Some(auth)), v))?)
}

/// The directory page.
pub async fn list(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
) -> Result<Response, PageError> {
    render(&st, lang, &here, &auth, None)
}

/// Loads the directory file again now.
pub async fn reload(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    let notice = match st.app.reload_directory(&auth.actor()).await? {
        Ok(_) => "platforms-reloaded",
        Err(_) => "platforms-reload-failed",
    };
    let here = crate::extract::Here("/admin/platforms".into());
    render(&st, lang, &here, &auth, Some(notice))
}
