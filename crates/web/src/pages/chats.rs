//! Console chat pages: the queue with "take next", and a conversation with its live
//! transcript, replies and the closing summary. Without JavaScript the forms still work;
//! with it, `console-chat.js` keeps the page live over the WebSocket.

use super::{Fields, base, ctx, options};
use crate::AppState;
use crate::api::chat::conversation_id;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth, check_csrf};
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_app::chat::ChatSummary;
use rempart_app::records::ConversationRecord;
use rempart_domain::chat::RiskKind;
use rempart_domain::ids::CaseId;
use rempart_domain::policy::Role;
use rempart_domain::values::{AgeBand, CallerType, ContactOutcome};

fn row(c: &ConversationRecord, lang: &str, now: i64) -> serde_json::Value {
    serde_json::json!({
        "id": c.id.to_string(), "status": c.status.label(lang), "priority": c.priority,
        "left_message": c.left_message, "waiting_left": c.status == rempart_domain::chat::ConversationStatus::LeftMessage,
        "risks": c.risks.iter().map(|r| r.label(lang)).collect::<Vec<_>>(),
        "urgent": c.risks.contains(&RiskKind::SuicidalThoughts),
        "caller": c.caller_type.map(|x| x.label(lang)).unwrap_or("—"),
        "age": c.age_band.map(|x| x.label(lang)).unwrap_or("—"),
        "wait_min": (now - c.waiting_since).max(0) / 60_000, "since": c.waiting_since,
    })
}

/// What the queue page says after an action (`?ended=1`, `?transferred=1`…).
#[derive(serde::Deserialize, Default)]
pub struct Notice {
    ended: Option<String>,
    transferred: Option<String>,
    empty: Option<String>,
    access_ended: Option<String>,
}

impl Notice {
    fn notice(&self) -> Option<&'static str> {
        if self.ended.is_some() {
            Some("chats-notice-ended")
        } else if self.transferred.is_some() {
            Some("chats-notice-transferred")
        } else if self.empty.is_some() {
            Some("chats-notice-empty")
        } else if self.access_ended.is_some() {
            Some("chats-notice-access-ended")
        } else {
            None
        }
    }
}

/// The queue page.
pub async fn queue(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    notice: Result<axum::extract::Query<Notice>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let notice = notice.map(|q| q.0).unwrap_or_default();
    let actor = auth.actor();
    let q = st.app.chat_queue(&actor).await?;
    let mine = st.app.my_conversations(&actor).await?;
    let loads = st.app.chat_loads(&actor).await?;
    let me = loads.iter().find(|l| l.staff_id == actor.id).cloned();
    let team: Vec<_> = loads
        .iter()
        .map(|l| serde_json::json!({"name": l.name, "available": l.available, "capacity": l.capacity, "active": l.active}))
        .collect();
    let now = st.app.now();
    let rows = |v: &[ConversationRecord]| {
        Value::from_serialize(v.iter().map(|c| row(c, lang, now)).collect::<Vec<_>>())
    };
    Ok(st.templates.render(
        "chats.html",
        ctx(
            base(&st, lang, &here, Some(&auth)),
            vec![
                ("queue", rows(&q.waiting)),
                ("left", rows(&q.left)),
                ("line_open", Value::from(q.open)),
                ("mine", rows(&mine)),
                (
                    "available",
                    Value::from(me.as_ref().is_some_and(|l| l.available)),
                ),
                (
                    "capacity",
                    Value::from(me.as_ref().map(|l| l.capacity).unwrap_or(3)),
                ),
                ("team", Value::from_serialize(&team)),
                (
                    "supervisor",
                    Value::from(rempart_domain::policy::can(
                        &actor,
                        rempart_domain::policy::Action::MonitorChats,
                        rempart_domain::policy::Resource::Global,
                    )),
                ),
                ("notice", Value::from(notice.notice())),
            ],
        ),
    )?)
}

/// Takes the next conversation and opens it.
pub async fn take(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    match st.app.take_next_chat(&auth.actor()).await? {
        Some(c) => Ok(redirect(&format!("/chats/{}", c.id))),
        None => Ok(redirect("/chats?empty=1")),
    }
}

/// Takes this message left while the line was closed and opens it.
pub async fn take_left(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    let c = st
        .app
        .take_left_message(&auth.actor(), conversation_id(&id)?)
        .await?;
    Ok(redirect(&format!("/chats/{}", c.id)))
}

/// A conversation.
pub async fn show(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let actor = auth.actor();
    let cid = conversation_id(&id)?;
    let view = st.app.conversation_view(&actor, cid).await?;
    let (conv, msgs, history) = (&view.conversation, &view.messages, &view.history);
    let colleagues: Vec<(String, String)> = st
        .app
        .case_workers()
        .await?
        .into_iter()
        .filter(|w| w.id != actor.id && w.role != Role::Supervisor)
        .map(|w| {
            (
                w.id.to_string(),
                format!("{} ({})", w.display_name, w.role.label(lang)),
            )
        })
        .collect();
    let cats: Vec<(String, String)> = st
        .app
        .taxonomy()
        .categories()
        .iter()
        .map(|c| (c.code.clone(), c.label(lang).to_owned()))
        .collect();
    let messages: Vec<_> = msgs
        .iter()
        .map(|m| serde_json::json!({"seq": m.seq, "from": m.sender.as_str(), "who": m.sender.label(lang), "body": m.body, "at": m.created_at}))
        .collect();
    let past: Vec<_> = history
        .iter()
        .map(|k| serde_json::json!({"at": k.started_at, "channel": k.channel.label(lang), "summary": k.summary, "outcome": k.outcome.label(lang)}))
        .collect();
    Ok(st.templates.render(
        "chat.html",
        ctx(
            base(&st, lang, &here, Some(&auth)),
            vec![
                ("conv", Value::from_serialize(row(conv, lang, st.app.now()))),
                ("open", Value::from(view.can_write)),
                ("mine", Value::from(view.can_write)),
                ("can_take", Value::from(view.can_take)),
                ("messages", Value::from_serialize(&messages)),
                (
                    "last_seq",
                    Value::from(msgs.last().map(|m| m.seq).unwrap_or(0)),
                ),
                ("history", Value::from_serialize(&past)),
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
                ("categories", Value::from_serialize(&cats)),
                ("colleagues", Value::from_serialize(&colleagues)),
                (
                    "canned",
                    Value::from_serialize(
                        st.app
                            .canned()
                            .iter()
                            .map(|c| {
                                let text = c.text(lang);
                                let short: String = text.chars().take(70).collect();
                                let label = if short.len() < text.len() {
                                    format!("{short}…")
                                } else {
                                    short
                                };
                                (text.to_owned(), label)
                            })
                            .collect::<Vec<_>>(),
                    ),
                ),
                (
                    "roles",
                    options(
                        &[
                            Role::Psychologist,
                            Role::Lawyer,
                            Role::DigitalSpecialist,
                            Role::Counsellor,
                        ],
                        |r| r.as_str(),
                        |r| r.label(lang),
                    ),
                ),
                (
                    "pre_caller",
                    Value::from(conv.caller_type.map(|c| c.as_str()).unwrap_or("unknown")),
                ),
                (
                    "pre_age",
                    Value::from(conv.age_band.map(|c| c.as_str()).unwrap_or("unknown")),
                ),
            ],
        ),
    )?)
}

/// A reply from the form (without JavaScript).
pub async fn reply(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["client_id", "body"], &auth)?;
    let cid = conversation_id(&id)?;
    st.app
        .counsellor_send(&auth.actor(), cid, f.get("client_id"), f.get("body"))
        .await?;
    Ok(redirect(&format!("/chats/{id}")))
}

/// Ends the conversation with its summary.
pub async fn end(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(
        form,
        &[
            "caller_type",
            "age_band",
            "category",
            "summary",
            "outcome",
            "case_reference",
            "open_case",
        ],
    )?;
    check_csrf(&auth, f.csrf())?;
    let cid = conversation_id(&id)?;
    // an unknown reference and a case the account may not change answer alike
    let case_id: Option<CaseId> = match f.opt("case_reference") {
        None => None,
        Some(r) => Some(st.app.case_for_reference(&auth.actor(), &r).await?),
    };
    let s = ChatSummary {
        caller_type: CallerType::parse(f.get("caller_type"))
            .map_err(|_| AppError::field("caller_type", "unknown value"))?,
        age_band: AgeBand::parse(f.get("age_band"))
            .map_err(|_| AppError::field("age_band", "unknown value"))?,
        categories: f.all("category"),
        summary: f.get("summary").to_owned(),
        outcome: ContactOutcome::parse(f.get("outcome"))
            .map_err(|_| AppError::field("outcome", "unknown value"))?,
        case_id,
        open_case: f.get("open_case") == "1",
    };
    st.app.end_chat(&auth.actor(), cid, s).await?;
    Ok(redirect("/chats?ended=1"))
}

/// Sets one's own availability and capacity from the queue page.
pub async fn availability(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["available", "capacity"], &auth)?;
    let capacity: i64 = f
        .get("capacity")
        .parse()
        .map_err(|_| AppError::field("capacity", "a number"))?;
    st.app
        .set_chat_availability(&auth.actor(), f.get("available") == "1", capacity)
        .await?;
    Ok(redirect("/chats"))
}

/// Hands the conversation over from the form: `to` is `staff:<id>` or `role:<code>`.
pub async fn transfer(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["to", "note"], &auth)?;
    let to = f.get("to");
    let target =
        crate::api::chat::transfer_target(to.strip_prefix("staff:"), to.strip_prefix("role:"))?;
    st.app
        .transfer_chat(
            &auth.actor(),
            conversation_id(&id)?,
            target,
            f.opt("note").as_deref(),
        )
        .await?;
    Ok(redirect("/chats?transferred=1"))
}
