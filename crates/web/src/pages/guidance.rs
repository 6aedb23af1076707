//! Guidance in the console: the checklist ticks of a case's playbooks, advice sent in the
//! chat in one click, the services directory (`/services`) and the supervisors' editor of
//! the playbooks (`/playbooks`).

use super::{Fields, base, ctx};
use crate::AppState;
use crate::api::cases::case_id;
use crate::api::chat::conversation_id;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth};
use crate::i18n::Said;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_app::auth::Authenticated;
use rempart_app::guidance::{CaseGuidance, CaseStep, EditError};
use rempart_domain::directory::{Service, ServiceKind};
use rempart_domain::playbook::PlaybookError;
use serde::Deserialize;
use utoipa::IntoParams;

/// The services directory's query string (an empty value is no filter).
#[derive(Debug, Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ServicesQuery {
    /// Words to find (accents and case ignored).
    pub q: Option<String>,
    /// A kind of service.
    pub kind: Option<String>,
    /// A region code.
    pub region: Option<String>,
}

/// What the playbooks editor says after a change (`?done=saved|restored`).
#[derive(Debug, Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EditorQuery {
    /// `saved` or `restored`.
    pub done: Option<String>,
}

fn step_json(st: &AppState, lang: &str, s: &CaseStep) -> serde_json::Value {
    let directory = st.app.directory();
    let platforms: Vec<String> = s
        .step
        .platforms
        .iter()
        .filter_map(|p| directory.platform(p).map(|p| p.name.clone()))
        .collect();
    let services: Vec<_> = s
        .step
        .services
        .iter()
        .filter_map(|c| directory.service(c))
        .map(|v| serde_json::json!({"code": v.code, "label": v.label(lang), "phone": v.phone}))
        .collect();
    serde_json::json!({
        "code": s.step.code,
        "text": s.step.text(lang),
        "platforms": platforms,
        "services": services,
        "advice": s.step.advice(lang),
        "done": s.done(),
        "tick": s.tick.as_ref().map(|t| serde_json::json!({"by": t.changed_by_name, "at": t.changed_at, "done": t.done})),
    })
}

/// The case page's "Conduite à tenir" cards.
pub fn case_cards(st: &AppState, lang: &str, g: &CaseGuidance) -> Value {
    let cards: Vec<_> = g
        .cards
        .iter()
        .map(|c| {
            let done = c.steps.iter().filter(|s| s.done()).count();
            serde_json::json!({
                "category": c.playbook.category,
                "title": c.playbook.title(lang),
                "steps": c.steps.iter().map(|s| step_json(st, lang, s)).collect::<Vec<_>>(),
                "other_platforms": c.other_platforms.iter().map(|s| step_json(st, lang, s)).collect::<Vec<_>>(),
                "done": done,
                "total": c.steps.len(),
            })
        })
        .collect();
    Value::from_serialize(&cards)
}

/// Ticks or unticks a step of a case's playbook, then back to the case's card.
pub async fn tick(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["playbook", "step", "done"], &auth)?;
    let cid = case_id(&id)?;
    let done = match f.get("done") {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::field("done", "0 or 1").into()),
    };
    let playbook = f.get("playbook");
    st.app
        .tick_playbook_step(&auth.actor(), cid, playbook, f.get("step"), done)
        .await?;
    let anchor: String = playbook
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Ok(redirect(&format!(
        "/cases/{id}?done={}#pb-{anchor}",
        if done { "ticked" } else { "unticked" }
    )))
}

/// The chat page's advice list: each playbook's advice in the conversation's language,
/// with a form that sends it. Its `client_id` names the advice (a hash of its step and
/// text) and the last message seen (`after`): a double click, or the same page sent again,
/// sends once; after a new message the same advice can be sent again.
pub async fn chat_advice(
    st: &AppState,
    auth: &Authenticated,
    id: rempart_domain::ids::ConversationId,
    after: i64,
) -> Result<Value, PageError> {
    let (lang, groups) = st.app.chat_advice(&auth.actor(), id).await?;
    let mut n = 0;
    let groups: Vec<_> = groups
        .iter()
        .map(|g| {
            let steps: Vec<_> = g
                .steps
                .iter()
                .map(|s| {
                    n += 1;
                    let advice = s.advice(&lang).unwrap_or("");
                    let what = rempart_app::sha256_hex(
                        format!("{}/{}/{advice}", g.playbook.category, s.code).as_bytes(),
                    );
                    serde_json::json!({
                        "code": s.code,
                        "advice": advice,
                        "client_id": format!("adv-{after}-{}", &what[..16]),
                        "n": n,
                    })
                })
                .collect();
            serde_json::json!({
                "category": g.playbook.category,
                "title": g.playbook.title(&lang),
                "of_case": g.of_case,
                "steps": steps,
            })
        })
        .collect();
    Ok(Value::from_serialize(&groups))
}

/// Sends a playbook step's advice into the conversation.
pub async fn send_advice(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["client_id", "playbook", "step"], &auth)?;
    let cid = conversation_id(&id)?;
    st.app
        .send_advice(
            &auth.actor(),
            cid,
            f.get("playbook"),
            f.get("step"),
            f.get("client_id"),
        )
        .await?;
    Ok(redirect(&format!("/chats/{id}?advice=sent")))
}

fn service_json(st: &AppState, lang: &str, s: &Service) -> serde_json::Value {
    let directory = st.app.directory();
    serde_json::json!({
        "code": s.code,
        "label": s.label(lang),
        "kind": s.kind.said(lang),
        "region": directory.region(&s.region).map(|r| r.label(lang).to_owned()).unwrap_or_else(|| s.region.clone()),
        "about": s.about(lang),
        "hours": s.hours(lang),
        "phone": s.phone,
        "tel": s.phone.as_deref().map(|p| p.replace(' ', "")),
        "website": s.website,
        "languages": s.languages.iter().map(|l| language_name(l, lang)).collect::<Vec<_>>(),
        "consent": s.requires_consent,
    })
}

/// A language's name in the reader's language (the code for the ones not listed).
fn language_name(code: &str, lang: &str) -> String {
    let en = lang == "en";
    match (code, en) {
        ("fr", false) => "français",
        ("fr", true) => "French",
        ("en", false) => "anglais",
        ("en", true) => "English",
        ("es", false) => "espagnol",
        ("es", true) => "Spanish",
        ("ar", false) => "arabe",
        ("ar", true) => "Arabic",
        ("de", false) => "allemand",
        ("de", true) => "German",
        ("it", false) => "italien",
        ("it", true) => "Italian",
        ("pt", false) => "portugais",
        ("pt", true) => "Portuguese",
        _ => code,
    }
    .to_owned()
}

/// The services directory: search by words, kind and region.
pub async fn services(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    q: Result<Query<ServicesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let Query(q) = q.map_err(|e| AppError::field("query", &e.body_text()))?;
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (words, kind, region) = (blank(&q.q), blank(&q.kind), blank(&q.region));
    let found = st.app.search_services(
        &auth.actor(),
        words.as_deref().unwrap_or(""),
        kind.as_deref(),
        region.as_deref(),
    )?;
    let directory = st.app.directory();
    let rows: Vec<_> = found.iter().map(|s| service_json(&st, lang, s)).collect();
    let kinds: Vec<(&str, &str)> = ServiceKind::ALL
        .iter()
        .filter(|k| directory.services_of(**k).next().is_some())
        .map(|k| (k.as_str(), k.said(lang)))
        .collect();
    let regions: Vec<(String, String)> = directory
        .regions()
        .iter()
        .map(|r| (r.code.clone(), r.label(lang).to_owned()))
        .collect();
    Ok(st.templates.render(
        "services.html",
        ctx(
            base(&st, lang, &here, Some(&auth)),
            vec![
                ("services", Value::from_serialize(&rows)),
                ("kinds", Value::from_serialize(&kinds)),
                ("regions", Value::from_serialize(&regions)),
                ("f_q", Value::from(words.unwrap_or_default())),
                ("f_kind", Value::from(kind.unwrap_or_default())),
                ("f_region", Value::from(region.unwrap_or_default())),
                (
                    "emergency",
                    Value::from_serialize(
                        directory
                            .emergency_numbers()
                            .iter()
                            .map(|e| (e.number.clone(), e.label(lang).to_owned()))
                            .collect::<Vec<_>>(),
                    ),
                ),
            ],
        ),
    )?)
}

/// What the editor says is wrong with a document: a message key and its arguments.
fn problem(e: &EditError) -> (&'static str, Vec<(&'static str, String)>) {
    match e {
        EditError::TooLarge => (
            "playbooks-error-too-large",
            vec![(
                "kb",
                (rempart_app::guidance::MAX_DOCUMENT_BYTES / 1024).to_string(),
            )],
        ),
        EditError::Stale => ("playbooks-error-stale", vec![]),
        EditError::App(_) => ("playbooks-error-stale", vec![]),
        EditError::Invalid(p) => match p {
            PlaybookError::Syntax(detail) => {
                ("playbooks-error-syntax", vec![("detail", detail.clone())])
            }
            PlaybookError::InvalidCode(c) => ("playbooks-error-code", vec![("code", c.clone())]),
            PlaybookError::DuplicatePlaybook(c) => (
                "playbooks-error-duplicate-playbook",
                vec![("code", c.clone())],
            ),
            PlaybookError::DuplicateStep { playbook, step } => (
                "playbooks-error-duplicate-step",
                vec![("code", step.clone()), ("playbook", playbook.clone())],
            ),
            PlaybookError::Blank { code, field } => (
                "playbooks-error-blank",
                vec![("code", code.clone()), ("field", (*field).to_owned())],
            ),
            PlaybookError::AdviceHalf(c) => {
                ("playbooks-error-advice-half", vec![("code", c.clone())])
            }
            PlaybookError::TooLong(c) => ("playbooks-error-too-long", vec![("code", c.clone())]),
            PlaybookError::TooManySteps(c) => {
                ("playbooks-error-too-many-steps", vec![("code", c.clone())])
            }
            PlaybookError::UnknownCategory(c) => (
                "playbooks-error-unknown-category",
                vec![("code", c.clone())],
            ),
            PlaybookError::UnknownPlatform { step, platform } => (
                "playbooks-error-unknown-platform",
                vec![("code", step.clone()), ("platform", platform.clone())],
            ),
            PlaybookError::UnknownService { step, service } => (
                "playbooks-error-unknown-service",
                vec![("code", step.clone()), ("service", service.clone())],
            ),
        },
    }
}

async fn render_editor(
    st: &AppState,
    lang: &'static str,
    here: &crate::extract::Here,
    auth: &Authenticated,
    done: Option<&str>,
    typed: Option<(&str, i64, &EditError)>,
) -> Result<Response, PageError> {
    let loaded = st.app.playbooks_for_edit(&auth.actor()).await?;
    let error = typed.map(|(_, _, e)| {
        let (key, args) = problem(e);
        let args: Vec<(&str, fluent_bundle::FluentValue<'_>)> =
            args.iter().map(|(k, v)| (*k, v.clone().into())).collect();
        st.i18n.t(lang, key, &args)
    });
    let stale = typed.is_some_and(|(_, _, e)| matches!(e, EditError::Stale | EditError::App(_)));
    let categories: Vec<(String, String)> = super::category_options(st, lang);
    let directory = st.app.directory();
    let summary: Vec<_> = loaded
        .playbooks
        .all()
        .iter()
        .map(|p| serde_json::json!({"title": p.title(lang), "category": p.category, "steps": p.steps.len(), "advice": p.steps.iter().filter(|s| s.advice_fr.is_some()).count()}))
        .collect();
    let r = st.templates.render(
        "playbooks.html",
        ctx(
            base(st, lang, here, Some(auth)),
            vec![
                (
                    "document",
                    Value::from(
                        typed
                            .map(|(d, _, _)| d.to_owned())
                            .unwrap_or_else(|| loaded.document.clone()),
                    ),
                ),
                // a stale edit is sent again on top of the version now in use
                (
                    "based_on",
                    Value::from(match typed {
                        Some((_, v, _)) if !stale => v,
                        _ => loaded.version.max(0),
                    }),
                ),
                ("version", Value::from(loaded.version.max(0))),
                ("defaults", Value::from(loaded.defaults)),
                (
                    "edited_by",
                    Value::from(loaded.edited.as_ref().map(|e| e.0.clone())),
                ),
                (
                    "edited_at",
                    Value::from(loaded.edited.as_ref().map(|e| e.1)),
                ),
                ("problem", Value::from(loaded.problem.clone())),
                ("error", Value::from(error)),
                ("done", Value::from(done)),
                ("summary", Value::from_serialize(&summary)),
                ("categories", Value::from_serialize(&categories)),
                (
                    "platform_codes",
                    Value::from(
                        directory
                            .platforms()
                            .iter()
                            .map(|p| p.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ),
                (
                    "service_codes",
                    Value::from(
                        directory
                            .services()
                            .iter()
                            .map(|s| s.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ),
            ],
        ),
    )?;
    Ok(match typed {
        Some((_, _, e)) => {
            let mut r = r;
            *r.status_mut() = if matches!(e, EditError::Stale) {
                axum::http::StatusCode::CONFLICT
            } else {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            };
            r
        }
        None => r,
    })
}

/// The playbooks editor (supervisors and administrators).
pub async fn editor(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    q: Result<Query<EditorQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let Query(q) = q.map_err(|e| AppError::field("query", &e.body_text()))?;
    let done = match q.done.as_deref() {
        Some("saved") => Some("playbooks-saved"),
        Some("restored") => Some("playbooks-restored"),
        _ => None,
    };
    render_editor(&st, lang, &here, &auth, done, None).await
}

fn based_on(f: &Fields) -> Result<i64, PageError> {
    f.get("based_on")
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| AppError::field("based_on", "a version number").into())
}

/// Saves an edited document; a mistake shows it again, as typed, with what is wrong (422;
/// 409 when another version was saved meanwhile).
pub async fn save(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["document", "based_on"], &auth)?;
    let v = based_on(&f)?;
    // the document as typed (not trimmed: its lines are its own)
    let document = f.raw("document").replace("\r\n", "\n");
    match st.app.edit_playbooks(&auth.actor(), v, &document).await {
        Ok(_) => Ok(redirect("/playbooks?done=saved")),
        Err(EditError::App(e)) => Err(e.into()),
        Err(e) => render_editor(&st, lang, &here, &auth, None, Some((&document, v, &e))).await,
    }
}

/// Sets the playbooks back to the embedded defaults.
pub async fn restore(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["based_on"], &auth)?;
    let v = based_on(&f)?;
    match st.app.restore_default_playbooks(&auth.actor(), v).await {
        Ok(_) => Ok(redirect("/playbooks?done=restored")),
        Err(EditError::App(e)) => Err(e.into()),
        Err(e) => {
            let loaded = st.app.playbooks_for_edit(&auth.actor()).await?;
            render_editor(
                &st,
                lang,
                &here,
                &auth,
                None,
                Some((&loaded.document, v, &e)),
            )
            .await
        }
    }
}
