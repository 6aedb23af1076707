//! Console pages: server-rendered, French by default, usable at 360 px, no script.

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod case_evidence;
pub mod cases;
pub mod chats;
pub mod complaint;
pub mod contacts;
pub mod evidence;
pub mod followup;
pub mod followup_page;
pub mod guidance;
pub mod invite;
pub mod notices;
pub mod partner_keys;
pub mod passkeys;
pub mod platforms;
pub mod words;

use crate::AppState;
use crate::error::PageError;
use crate::extract::FormBody;
use minijinja::Value;
use std::collections::BTreeMap;

/// A page context under construction.
pub type ValueMap = BTreeMap<String, Value>;
use crate::i18n::Said;
use rempart_app::auth::Authenticated;
use rempart_app::{AppError, ErrorCode};
use rempart_domain::policy::{Action, Resource, can};

/// Form fields as sent (repeated keys kept), with a check that no unexpected field
/// came along (mass assignment).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Takes the form body, refusing fields outside `allowed`.
    pub fn new(
        FormBody(pairs): FormBody<Vec<(String, String)>>,
        allowed: &[&str],
    ) -> Result<Fields, PageError> {
        if pairs.len() > 200 {
            return Err(AppError::new(ErrorCode::InvalidField, "too many fields").into());
        }
        for (k, _) in &pairs {
            if k != "_csrf" && !allowed.contains(&k.as_str()) {
                return Err(
                    AppError::new(ErrorCode::UnknownField, format!("unknown field `{k}`")).into(),
                );
            }
        }
        Ok(Fields(pairs))
    }
    /// As [`Fields::new`], for a logged-in form: its CSRF token must be the session's.
    pub fn checked(
        form: FormBody<Vec<(String, String)>>,
        allowed: &[&str],
        auth: &Authenticated,
    ) -> Result<Fields, PageError> {
        let f = Fields::new(form, allowed)?;
        crate::extract::check_csrf(auth, f.csrf())?;
        Ok(f)
    }
    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }
    /// The first value of `name` as sent, untrimmed ("" when absent).
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    /// The value of `name`, None when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_owned()).filter(|s| !s.is_empty())
    }
    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
    /// The CSRF token sent.
    pub fn csrf(&self) -> &str {
        self.get("_csrf")
    }
}

/// The first page an account may use: the case list for those who work cases, the
/// accounts for administrators, else its own account page.
pub fn landing(auth: &Authenticated) -> &'static str {
    let actor = auth.actor();
    if auth.state != rempart_app::auth::SessionState::Full {
        return match auth.state {
            rempart_app::auth::SessionState::NeedsSecondFactor => "/login/totp",
            _ => "/account",
        };
    }
    if can(&actor, Action::ListCases, Resource::Global) {
        "/cases"
    } else if can(&actor, Action::ManageStaff, Resource::Global) {
        "/admin/staff"
    } else if can(&actor, Action::ReadAudit, Resource::Global) {
        "/audit"
    } else {
        "/account"
    }
}

/// The context every page gets: language, the page it is on (for the language switch),
/// user, CSRF token, navigation rights.
pub fn base(
    st: &AppState,
    lang: &str,
    here: &crate::extract::Here,
    auth: Option<&Authenticated>,
) -> ValueMap {
    let mut m = ValueMap::new();
    m.insert("lang".into(), Value::from(lang));
    m.insert("here".into(), Value::from(here.0.clone()));
    m.insert(
        "helpline".into(),
        Value::from(st.app.settings().helpline.name.clone()),
    );
    if let Some(a) = auth {
        let actor = a.actor();
        m.insert("home".into(), Value::from(landing(a)));
        m.insert(
            "nav_chats".into(),
            Value::from(can(&actor, Action::AnswerChats, Resource::Global)),
        );
        m.insert(
            "user_name".into(),
            Value::from(a.staff.display_name.clone()),
        );
        m.insert("user_role".into(), Value::from(a.staff.role.said(lang)));
        m.insert("csrf".into(), Value::from(a.session.csrf_token.clone()));
        m.insert(
            "nav_cases".into(),
            Value::from(can(&actor, Action::ListCases, Resource::Global)),
        );
        m.insert(
            "nav_waiting".into(),
            Value::from(st.app.waiting_now(&actor)),
        );
        m.insert(
            "nav_late".into(),
            Value::from(st.app.late_notices_alert(&actor)),
        );
        m.insert(
            "nav_admin".into(),
            Value::from(can(&actor, Action::ManageStaff, Resource::Global)),
        );
        m.insert(
            "nav_services".into(),
            Value::from(can(&actor, Action::ReadGuidance, Resource::Global)),
        );
        m.insert(
            "nav_playbooks".into(),
            Value::from(can(&actor, Action::EditPlaybooks, Resource::Global)),
        );
        m.insert(
            "nav_audit".into(),
            Value::from(can(&actor, Action::ReadAudit, Resource::Global)),
        );
        m.insert("logged_in".into(), Value::from(true));
        // no navigation before the second factor: every link would lead back to it
        m.insert(
            "full".into(),
            Value::from(a.state == rempart_app::auth::SessionState::Full),
        );
    } else {
        m.insert("logged_in".into(), Value::from(false));
        m.insert("nav_chats".into(), Value::from(false));
        m.insert("csrf".into(), Value::from(""));
        m.insert("home".into(), Value::from("/login"));
    }
    m
}

/// Builds a context from the base and extra pairs.
pub fn ctx(mut base: ValueMap, extra: Vec<(&str, Value)>) -> Value {
    for (k, v) in extra {
        base.insert(k.into(), v);
    }
    Value::from(base)
}

/// A `(code, label)` option list for selects.
pub fn options<T: Copy>(
    all: &[T],
    code: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Value {
    Value::from_serialize(
        all.iter()
            .map(|v| (code(*v), label(*v)))
            .collect::<Vec<_>>(),
    )
}

/// The taxonomy's categories as (code, words in `lang`), for a form's choices.
pub fn category_options(st: &AppState, lang: &str) -> Vec<(String, String)> {
    st.app
        .taxonomy()
        .categories()
        .iter()
        .map(|c| (c.code.clone(), c.label(lang).to_owned()))
        .collect()
}
