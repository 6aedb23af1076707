//! Logging a contact by hand (phone call, e-mail, letter, walk-in), optionally opening
//! a case from it.

use super::{Fields, base, ctx, options};
use crate::AppState;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth, check_csrf};
use crate::i18n::Said;
use axum::extract::State;
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_app::cases::{CaseInput, ContactInput};
use rempart_domain::case::ConsentScope;
use rempart_domain::policy::{Action, Resource, can};
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome};

const HAND_CHANNELS: &[Channel] = &[
    Channel::Phone,
    Channel::Email,
    Channel::Letter,
    Channel::WalkIn,
];

/// What the form holds: empty (age band and caller "not stated" until the counsellor
/// says), or as it was typed with the mistake to show.
#[derive(Debug, Clone, serde::Serialize)]
struct ContactForm {
    error: &'static str,
    field: &'static str,
    channel: String,
    caller_type: String,
    age_band: String,
    categories: Vec<String>,
    summary: String,
    outcome: String,
    duration_min: String,
    open_case: bool,
    title: String,
    consents: Vec<String>,
    by_guardian: bool,
    case_reference: String,
}

impl Default for ContactForm {
    fn default() -> Self {
        ContactForm {
            error: "",
            field: "",
            channel: Channel::Phone.as_str().into(),
            caller_type: CallerType::Unknown.as_str().into(),
            age_band: AgeBand::Unknown.as_str().into(),
            categories: vec![],
            summary: String::new(),
            outcome: ContactOutcome::Listened.as_str().into(),
            duration_min: String::new(),
            open_case: false,
            title: String::new(),
            consents: vec![],
            by_guardian: false,
            case_reference: String::new(),
        }
    }
}

/// The form.
pub async fn form(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
) -> Result<Response, PageError> {
    if !can(&auth.actor(), Action::LogContact, Resource::Global) {
        return Err(AppError::not_found().into());
    }
    render_form(&st, lang, &here, &auth, ContactForm::default())
}

fn render_form(
    st: &AppState,
    lang: &'static str,
    here: &crate::extract::Here,
    auth: &rempart_app::auth::Authenticated,
    v: ContactForm,
) -> Result<Response, PageError> {
    let failed = !v.error.is_empty();
    let cats: Vec<(String, String)> = super::category_options(st, lang);
    let mut r = st.templates.render(
        "contact_new.html",
        ctx(
            base(st, lang, here, Some(auth)),
            vec![
                (
                    "channels",
                    options(HAND_CHANNELS, |c| c.as_str(), |c| c.said(lang)),
                ),
                (
                    "callers",
                    options(CallerType::ALL, |c| c.as_str(), |c| c.said(lang)),
                ),
                (
                    "ages",
                    options(AgeBand::ALL, |c| c.as_str(), |c| c.said(lang)),
                ),
                (
                    "outcomes",
                    options(ContactOutcome::ALL, |c| c.as_str(), |c| c.said(lang)),
                ),
                (
                    "consents",
                    options(ConsentScope::ALL, |c| c.as_str(), |c| c.said(lang)),
                ),
                ("categories", Value::from_serialize(&cats)),
                ("v", Value::from_serialize(&v)),
                ("failed", Value::from(failed)),
            ],
        ),
    )?;
    if failed {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

fn code<T>(
    f: &Fields,
    name: &'static str,
    parse: impl Fn(&str) -> Result<T, rempart_domain::labelled::UnknownCode>,
) -> Result<T, AppError> {
    parse(f.get(name)).map_err(|_| AppError::field(name, "unknown value"))
}

/// Logs the contact; with `open_case`, opens a case from it; with `case_reference`,
/// joins that case.
pub async fn create(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(
        form,
        &[
            "channel",
            "caller_type",
            "age_band",
            "category",
            "summary",
            "outcome",
            "duration_min",
            "open_case",
            "title",
            "consent",
            "by_guardian",
            "case_reference",
        ],
    )?;
    check_csrf(&auth, f.csrf())?;
    let typed = |error: &'static str, field: &'static str| ContactForm {
        error,
        field,
        channel: f.get("channel").to_owned(),
        caller_type: f.get("caller_type").to_owned(),
        age_band: f.get("age_band").to_owned(),
        categories: f.all("category"),
        summary: f.get("summary").to_owned(),
        outcome: f.get("outcome").to_owned(),
        duration_min: f.get("duration_min").to_owned(),
        open_case: f.get("open_case") == "1",
        title: f.get("title").to_owned(),
        consents: f.all("consent"),
        by_guardian: f.get("by_guardian") == "1",
        case_reference: f.get("case_reference").to_owned(),
    };
    match record(&st, &auth, &f).await {
        Ok(r) => Ok(r),
        Err(e) if e.code == rempart_app::ErrorCode::InvalidField => {
            let field = match e.message.split(':').next().unwrap_or("") {
                "summary" => "summary",
                "category" | "categories" => "category",
                "case_reference" => "case_reference",
                "duration_min" => "duration_min",
                "title" => "title",
                "channel" => "channel",
                "caller_type" => "caller_type",
                "age_band" => "age_band",
                "outcome" => "outcome",
                _ => "",
            };
            let key = match field {
                "summary" => "contact-error-summary",
                "category" => "chat-end-error-category",
                "case_reference" => "chat-end-error-case",
                "duration_min" => "contact-error-duration",
                "title" => "contact-error-title",
                "caller_type" => "chat-end-error-caller",
                "age_band" => "chat-end-error-age",
                "outcome" => "chat-end-error-outcome",
                _ => "contact-error",
            };
            render_form(&st, lang, &here, &auth, typed(key, field))
        }
        Err(e) => Err(e.into()),
    }
}

/// Records what the form says: a contact, a case opened from it, or a case joined.
async fn record(
    st: &AppState,
    auth: &rempart_app::auth::Authenticated,
    f: &Fields,
) -> Result<Response, AppError> {
    let actor = auth.actor();
    let duration_s = match f.opt("duration_min") {
        None => None,
        Some(m) => Some(
            m.parse::<i64>()
                .ok()
                .filter(|m| (0..=1440).contains(m))
                .ok_or_else(|| AppError::field("duration_min", "between 0 and 1440"))?
                .saturating_mul(60),
        ),
    };
    let mut contact = ContactInput {
        channel: code(f, "channel", Channel::parse)?,
        caller_type: code(f, "caller_type", CallerType::parse)?,
        age_band: code(f, "age_band", AgeBand::parse)?,
        categories: f.all("category"),
        summary: f.get("summary").to_owned(),
        outcome: code(f, "outcome", ContactOutcome::parse)?,
        started_at: None,
        duration_s,
        case_id: None,
    };
    if f.get("open_case") == "1" {
        let consents = f
            .all("consent")
            .iter()
            .map(|c| {
                ConsentScope::parse(c)
                    .map(|s| (s, f.get("by_guardian") == "1"))
                    .map_err(|_| AppError::field("consent", "unknown value"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let title = f
            .opt("title")
            .unwrap_or_else(|| rempart_domain::text::short_title(f.get("summary"), 80));
        contact.outcome = ContactOutcome::CaseOpened;
        let input = CaseInput {
            title,
            categories: contact.categories.clone(),
            age_band: contact.age_band,
            preferred_channel: Some(contact.channel),
            consents,
            articles: vec![],
            team: None,
        };
        let c = st.app.create_case(&actor, input, Some(contact)).await?;
        return Ok(redirect(&format!("/cases/{}?done=created", c.id)));
    }
    if let Some(r) = f.opt("case_reference") {
        // an unknown reference and a case the account may not change answer alike
        let c = st.app.case_for_reference(&actor, &r).await?;
        contact.case_id = Some(c);
        st.app.log_contact(&actor, contact).await?;
        return Ok(redirect(&format!("/cases/{c}?done=created")));
    }
    st.app.log_contact(&actor, contact).await?;
    Ok(redirect("/cases?logged=1"))
}
