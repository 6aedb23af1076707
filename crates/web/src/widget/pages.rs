//! The chat frame and the demo page of a helpline's site.

use crate::AppState;
use crate::error::PageError;
use axum::extract::{Query, State};
use axum::response::Response;
use minijinja::Value;
use serde::Deserialize;

/// `?lang=` of the frame.
#[derive(Deserialize, Default)]
pub struct FrameQuery {
    lang: Option<String>,
}

/// The chat frame (framed by the helpline's site, see the CSP set by the middleware).
pub async fn frame(
    State(st): State<AppState>,
    Query(q): Query<FrameQuery>,
) -> Result<Response, PageError> {
    let default = st.app.settings().helpline.default_language.as_str();
    let lang = crate::i18n::I18n::lang(q.lang.as_deref().unwrap_or(default));
    let mut ctx = crate::pages::base(&st, lang, &crate::extract::Here("/".into()), None);
    ctx.insert(
        "resume_minutes".into(),
        Value::from(st.app.settings().widget.resume_minutes),
    );
    ctx.insert(
        "exit_url".into(),
        Value::from(
            st.app
                .settings()
                .helpline
                .quick_exit_url
                .as_str()
                .to_owned(),
        ),
    );
    Ok(st.templates.render("widget_frame.html", Value::from(ctx))?)
}

/// A stand-in for the helpline's own site, with the one script tag.
pub async fn demo(State(st): State<AppState>) -> Result<Response, PageError> {
    Ok(st.templates.render(
        "demo.html",
        Value::from(crate::pages::base(
            &st,
            "fr",
            &crate::extract::Here("/demo".into()),
            None,
        )),
    )?)
}
