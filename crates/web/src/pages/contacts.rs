//! Logging a contact by hand (phone call, e-mail, letter, walk-in), optionally opening
//! a case from it.

use super::{Fields, base, ctx, options};
use crate::AppState;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth, check_csrf};
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

/// The form.
pub async fn form(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
) -> Result<Response, PageError> {
    if !can(&auth.actor(), Action::LogContact, Resource::Global) {
        return Err(AppError::not_found().into());
    }
    let cats: Vec<(String, String)> = st
        .app
        .taxonomy()
        .categories()
        .iter()
        .map(|c| (c.code.clone(), c.label(lang).to_owned()))
        .collect();
    Ok(st.templates.render(
        "contact_new.html",
        ctx(
            base(&st, lang, &here, Some(&auth)),
            vec![
                (
                    "channels",
                    options(HAND_CHANNELS, |c| c.as_str(), |c| c.label(lang)),
                ),
                (
                    "callers",
                    options(CallerType::ALL, |c| c.as_str(), |c| c.label(lang)),
                ),
                (
                    "ages",
                    options(AgeBand::ALL, |c| c.as_str(), |c| c.label(lang)),
                ),
                (
                    "outcomes",
                    options(ContactOutcome::ALL, |c| c.as_str(), |c| c.label(lang)),
                ),
                (
                    "consents",
                    options(ConsentScope::ALL, |c| c.as_str(), |c| c.label(lang)),
                ),
                ("categories", Value::from_serialize(&cats)),
            ],
        ),
    )?)
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
    let actor = auth.actor();
    let duration_s = match f.opt("duration_min") {
        None => None,
        Some(m) => Some(
            m.parse::<i64>()
                .map_err(|_| AppError::field("duration_min", "not a number"))?
                .saturating_mul(60),
        ),
    };
    let mut contact = ContactInput {
        channel: code(&f, "channel", Channel::parse)?,
        caller_type: code(&f, "caller_type", CallerType::parse)?,
        age_band: code(&f, "age_band", AgeBand::parse)?,
        categories: f.all("category"),
        summary: f.get("summary").to_owned(),
        outcome: code(&f, "outcome", ContactOutcome::parse)?,
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
            .unwrap_or_else(|| f.get("summary").chars().take(80).collect());
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
