//! Server-rendered pages: templates compiled into the binary, auto-escaped (every
//! value is text, never HTML), with `t("key", …)` for translated messages.

use crate::i18n::I18n;
use axum::response::{Html, IntoResponse, Response};
use fluent_bundle::FluentValue;
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, State};
use rempart_app::AppError;
use std::sync::Arc;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    (
        "platforms.html",
        include_str!("../templates/platforms.html"),
    ),
    (
        "partner_keys.html",
        include_str!("../templates/partner_keys.html"),
    ),
    ("totp.html", include_str!("../templates/totp.html")),
    ("notices.html", include_str!("../templates/notices.html")),
    ("platform.html", include_str!("../templates/platform.html")),
    ("account.html", include_str!("../templates/account.html")),
    ("cases.html", include_str!("../templates/cases.html")),
    ("case.html", include_str!("../templates/case.html")),
    ("followup.html", include_str!("../templates/followup.html")),
    (
        "notice_payload.html",
        include_str!("../templates/notice_payload.html"),
    ),
    (
        "contact_new.html",
        include_str!("../templates/contact_new.html"),
    ),
    ("staff.html", include_str!("../templates/staff.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("chats.html", include_str!("../templates/chats.html")),
    (
        "chats_live.html",
        include_str!("../templates/chats_live.html"),
    ),
    (
        "chat_search.html",
        include_str!("../templates/chat_search.html"),
    ),
    ("chat.html", include_str!("../templates/chat.html")),
    (
        "widget_frame.html",
        include_str!("../templates/widget_frame.html"),
    ),
    ("demo.html", include_str!("../templates/demo.html")),
    ("invite.html", include_str!("../templates/invite.html")),
    ("services.html", include_str!("../templates/services.html")),
    (
        "playbooks.html",
        include_str!("../templates/playbooks.html"),
    ),
];

/// The template environment.
pub struct Templates {
    env: Environment<'static>,
}

/// Formats ms since the epoch as local Paris time.
pub fn datetime(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| {
            d.with_timezone(&chrono_tz::Europe::Paris)
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

impl Templates {
    /// Compiles the embedded templates.
    pub fn new(i18n: Arc<I18n>) -> Result<Templates, Error> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, src) in TEMPLATES {
            env.add_template(name, src)?;
        }
        env.add_function(
            "t",
            move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, Error> {
                let lang = state
                    .lookup("lang")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "fr".into());
                let mut args: Vec<(String, FluentValue<'static>)> = Vec::new();
                for k in kwargs.args() {
                    let v: Value = kwargs.get(k)?;
                    let fv = match v.as_i64() {
                        Some(n) => FluentValue::from(n),
                        None => FluentValue::from(v.to_string()),
                    };
                    args.push((k.to_owned(), fv));
                }
                let borrowed: Vec<(&str, FluentValue<'_>)> =
                    args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                if !i18n.has(crate::i18n::I18n::lang(&lang), key) {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("missing message {key}"),
                    ));
                }
                Ok(i18n.t(&lang, key, &borrowed))
            },
        );
        env.add_filter("datetime", |ms: i64| datetime(ms));
        Ok(Templates { env })
    }

    /// Renders a page.
    pub fn render(&self, name: &str, ctx: Value) -> Result<Response, AppError> {
        let tpl = self
            .env
            .get_template(name)
            .map_err(|_| AppError::internal("template missing"))?;
        let html = tpl.render(ctx).map_err(|e| {
            tracing::error!(template = name, error = %e, "template error");
            AppError::internal("template")
        })?;
        Ok(Html(html).into_response())
    }
}
