//! Console chat pages: the queue with "take next", and a conversation with its live
//! transcript, replies and the closing summary. Without JavaScript the forms still work;
//! with it, `console-chat.js` keeps the page live over the WebSocket.

use super::{Fields, base, ctx, options};
use crate::AppState;
use crate::api::chat::conversation_id;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth, check_csrf};
use crate::i18n::Said;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_app::chat::{ChatSummary, NothingTaken};
use rempart_app::records::ConversationRecord;
use rempart_domain::chat::RiskKind;
use rempart_domain::ids::CaseId;
use rempart_domain::policy::Role;
use rempart_domain::values::{AgeBand, CallerType, ContactOutcome};

fn row(c: &ConversationRecord, lang: &str, now: i64) -> serde_json::Value {
    row_with(c, lang, now, i64::MAX)
}

/// A queue line; `alert_ms`: a wait past it is flagged.
fn row_with(c: &ConversationRecord, lang: &str, now: i64, alert_ms: i64) -> serde_json::Value {
    let waited = (now - c.waiting_since).max(0);
    serde_json::json!({
        "reserved": c.required_role.map(|r| r.said(lang)),
        "overdue": c.status == rempart_domain::chat::ConversationStatus::Waiting && waited > alert_ms,
        "id": c.id.to_string(), "status": c.status.said(lang), "priority": c.priority,
        "left_message": c.left_message, "waiting_left": c.status == rempart_domain::chat::ConversationStatus::LeftMessage,
        "gone": c.status == rempart_domain::chat::ConversationStatus::Left,
        "risks": c.risks.iter().map(|r| r.said(lang)).collect::<Vec<_>>(),
        "urgent": c.risks.contains(&RiskKind::SuicidalThoughts),
        "caller": c.caller_type.map(|x| x.said(lang)).unwrap_or("—"),
        "age": c.age_band.map(|x| x.said(lang)).unwrap_or("—"),
        "wait_min": (now - c.waiting_since).max(0) / 60_000, "since": c.waiting_since,
    })
}

/// What the queue page says after an action (`?ended=1`, `?transferred=1`…).
#[derive(serde::Deserialize, Default)]
pub struct Notice {
    ended: Option<String>,
    case: Option<String>,
    transferred: Option<String>,
    empty: Option<String>,
    none: Option<String>,
    roles: Option<String>,
    access_ended: Option<String>,
}

impl Notice {
    /// The message's key, and whether it warns.
    fn notice(&self) -> Option<(&'static str, bool)> {
        if self.ended.is_some() {
            Some(("chats-notice-ended", false))
        } else if self.transferred.is_some() {
            Some(("chats-notice-transferred", false))
        } else if self.empty.is_some() {
            Some(("chats-notice-empty", false))
        } else if let Some(why) = &self.none {
            Some(match why.as_str() {
                "unavailable" => ("chats-none-unavailable", true),
                "capacity" => ("chats-none-capacity", true),
                "reserved" => ("chats-none-reserved", false),
                _ => ("chats-notice-empty", false),
            })
        } else if self.access_ended.is_some() {
            Some(("chats-notice-access-ended", false))
        } else {
            None
        }
    }
}

/// The live part of the queue page (`chats_live.html`): the same for the page and for
/// its updates.
async fn live_ctx(
    st: &AppState,
    actor: &rempart_domain::policy::Actor,
    lang: &str,
) -> Result<Vec<(&'static str, Value)>, PageError> {
    let q = st.app.chat_queue(actor).await?;
    let now = st.app.now();
    let supervisor = rempart_domain::policy::can(
        actor,
        rempart_domain::policy::Action::MonitorChats,
        rempart_domain::policy::Resource::Global,
    );
    let alert_ms = if supervisor {
        st.app.wait_alert_ms()
    } else {
        i64::MAX
    };
    let queue: Vec<_> = q
        .waiting
        .iter()
        .map(|c| row_with(c, lang, now, alert_ms))
        .collect();
    let overdue = queue.iter().filter(|r| r["overdue"] == true).count();
    let mut out = vec![
        ("queue", Value::from_serialize(&queue)),
        (
            "left",
            Value::from_serialize(q.left.iter().map(|c| row(c, lang, now)).collect::<Vec<_>>()),
        ),
        ("line_open", Value::from(q.open)),
        ("supervisor", Value::from(supervisor)),
        ("overdue", Value::from(overdue)),
        ("alert_minutes", Value::from(alert_ms / 60_000)),
        ("alerts", Value::from(st.app.chat_alerts(actor).await?)),
    ];
    if supervisor {
        let w = st.app.chat_watch(actor).await?;
        let active: Vec<_> = w
            .active
            .iter()
            .map(|(c, who)| {
                serde_json::json!({
                    "id": c.id.to_string(), "who": who,
                    "risks": c.risks.iter().map(|r| r.said(lang)).collect::<Vec<_>>(),
                    "urgent": c.risks.contains(&RiskKind::SuicidalThoughts),
                    "started": c.created_at,
                    "duration_min": (now - c.created_at).max(0) / 60_000,
                    "quiet_min": (now - c.last_activity_at).max(0) / 60_000,
                })
            })
            .collect();
        out.push(("active", Value::from_serialize(&active)));
        out.push((
            "all_left",
            Value::from_serialize(w.left.iter().map(|c| row(c, lang, now)).collect::<Vec<_>>()),
        ));
    }
    Ok(out)
}

/// The live part of the queue page alone, for its updates and the menu's count.
pub async fn live(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
) -> Result<Response, PageError> {
    let actor = auth.actor();
    let extra = live_ctx(&st, &actor, lang).await?;
    Ok(st.templates.render(
        "chats_live.html",
        ctx(base(&st, lang, &here, Some(&auth)), extra),
    )?)
}

/// The words of a transcript search.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The words.
    q: Option<String>,
}

/// Searching the transcripts one may read. Too short words stay in the form, answered 422.
pub async fn search(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    q: Result<axum::extract::Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let axum::extract::Query(q) = q.map_err(|e| AppError::field("query", &e.body_text()))?;
    let words = q.q.unwrap_or_default();
    let actor = auth.actor();
    if !rempart_domain::policy::can(
        &actor,
        rempart_domain::policy::Action::SearchTranscripts,
        rempart_domain::policy::Resource::Global,
    ) {
        return Err(AppError::not_found().into());
    }
    let (hits, error) = if words.trim().is_empty() {
        (None, None)
    } else {
        match st.app.search_transcripts(&actor, &words).await {
            Ok(h) => (Some(h), None),
            Err(e) if e.code == rempart_app::ErrorCode::InvalidField => {
                (None, Some("chat-search-error"))
            }
            Err(e) => return Err(e.into()),
        }
    };
    let names: std::collections::HashMap<String, String> = st
        .app
        .case_workers()
        .await?
        .into_iter()
        .map(|s| (s.id.to_string(), s.display_name))
        .collect();
    let rows: Vec<_> = hits
        .iter()
        .flatten()
        .map(|h| {
            let who = match h.message.author_id {
                Some(a) => names
                    .get(&a.to_string())
                    .cloned()
                    .unwrap_or_else(|| h.message.sender.said(lang).to_owned()),
                None => h.message.sender.said(lang).to_owned(),
            };
            serde_json::json!({
                "conversation": h.conversation.id.to_string(),
                "status": h.conversation.status.said(lang),
                "who": who,
                "note": h.message.sender == rempart_domain::chat::Sender::Note,
                "at": h.message.created_at,
                "text": rempart_domain::text::short_title(&h.message.body, 400),
            })
        })
        .collect();
    let mut r = st.templates.render(
        "chat_search.html",
        ctx(
            base(&st, lang, &here, Some(&auth)),
            vec![
                ("q", Value::from(words.clone())),
                ("searched", Value::from(hits.is_some())),
                ("hits", Value::from_serialize(&rows)),
                (
                    "more",
                    Value::from(rows.len() as i64 >= rempart_app::chat::TRANSCRIPT_HITS),
                ),
                ("error", Value::from(error)),
            ],
        ),
    )?;
    if error.is_some() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
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
    let mine = st.app.my_conversations(&actor).await?;
    let loads = st.app.chat_loads(&actor).await?;
    let me = loads.iter().find(|l| l.staff_id == actor.id).cloned();
    let team: Vec<_> = loads
        .iter()
        .map(|l| serde_json::json!({"name": l.name, "available": l.available, "capacity": l.capacity, "active": l.active}))
        .collect();
    let now = st.app.now();
    // the case a conversation just opened or joined, when the reader may see it
    let ended_case = match notice.case.as_deref().map(CaseId::parse) {
        Some(Ok(id)) => st
            .app
            .case_reference(&actor, id)
            .await?
            .map(|r| serde_json::json!({"id": id.to_string(), "reference": r})),
        _ => None,
    };
    let roles = notice
        .roles
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(|r| Role::parse(r).ok())
        .map(|r| r.said(lang))
        .collect::<Vec<_>>()
        .join(", ");
    let (key, warn) = notice.notice().unzip();
    let mut extra = live_ctx(&st, &actor, lang).await?;
    extra.extend([
        (
            "mine",
            Value::from_serialize(mine.iter().map(|c| row(c, lang, now)).collect::<Vec<_>>()),
        ),
        (
            "available",
            Value::from(me.as_ref().is_some_and(|l| l.available)),
        ),
        (
            "capacity",
            Value::from(me.as_ref().map(|l| l.capacity).unwrap_or(3)),
        ),
        ("team", Value::from_serialize(&team)),
        ("notice", Value::from(key)),
        ("notice_warn", Value::from(warn.unwrap_or(false))),
        ("notice_roles", Value::from(roles)),
        ("ended_case", Value::from_serialize(&ended_case)),
    ]);
    Ok(st.templates.render(
        "chats.html",
        ctx(base(&st, lang, &here, Some(&auth)), extra),
    )?)
}

/// Takes the next conversation and opens it.
pub async fn take(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    let actor = auth.actor();
    match st.app.take_next_chat(&actor).await {
        Ok(Some(c)) => return Ok(redirect(&format!("/chats/{}", c.id))),
        Ok(None) => {}
        Err(e) if e.code == rempart_app::ErrorCode::Conflict => {}
        Err(e) => return Err(e.into()),
    }
    // say why nothing was given
    Ok(redirect(&match st.app.nothing_to_take(&actor).await? {
        NothingTaken::NotAvailable => "/chats?none=unavailable".to_owned(),
        NothingTaken::AtCapacity => "/chats?none=capacity".to_owned(),
        NothingTaken::Empty => "/chats?none=empty".to_owned(),
        NothingTaken::Reserved(roles) => format!(
            "/chats?none=reserved&roles={}",
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
    }))
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
    q: Result<
        axum::extract::Query<std::collections::HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Response, PageError> {
    let sent = q.is_ok_and(|q| q.get("advice").is_some_and(|v| v == "sent"));
    render_chat(&st, lang, &here, &auth, conversation_id(&id)?, None, sent).await
}

/// What was typed in the closing form, shown again with what is wrong.
#[derive(serde::Serialize, Default)]
struct EndForm {
    error: &'static str,
    field: &'static str,
    caller_type: String,
    age_band: String,
    categories: Vec<String>,
    summary: String,
    outcome: String,
    case_reference: String,
    open_case: bool,
}

async fn render_chat(
    st: &AppState,
    lang: &'static str,
    here: &crate::extract::Here,
    auth: &rempart_app::auth::Authenticated,
    cid: rempart_domain::ids::ConversationId,
    end_form: Option<EndForm>,
    advice_sent: bool,
) -> Result<Response, PageError> {
    let actor = auth.actor();
    let view = st.app.conversation_view(&actor, cid).await?;
    let advice = if view.can_write {
        let last = view.messages.last().map(|m| m.seq).unwrap_or(0);
        super::guidance::chat_advice(st, auth, cid, last).await?
    } else {
        Value::from(())
    };
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
                format!("{} ({})", w.display_name, w.role.said(lang)),
            )
        })
        .collect();
    let cats: Vec<(String, String)> = super::category_options(st, lang);
    let past: Vec<_> = history
        .iter()
        .map(|k| serde_json::json!({"at": k.started_at, "channel": k.channel.said(lang), "summary": k.summary, "outcome": k.outcome.said(lang)}))
        .collect();
    let names: std::collections::HashMap<String, String> = st
        .app
        .case_workers()
        .await?
        .into_iter()
        .map(|w| (w.id.to_string(), w.display_name))
        .collect();
    let messages: Vec<_> = msgs
        .iter()
        .map(|m| {
            let name = m.author_id.and_then(|a| names.get(&a.to_string()).cloned());
            serde_json::json!({"seq": m.seq, "from": m.sender.as_str(), "who": m.sender.said(lang), "name": name, "body": m.body, "at": m.created_at})
        })
        .collect();
    let end_failed = end_form.is_some();
    let end_form = end_form.unwrap_or_else(|| EndForm {
        caller_type: conv
            .caller_type
            .map(|c| c.as_str())
            .unwrap_or("unknown")
            .to_owned(),
        age_band: conv
            .age_band
            .map(|c| c.as_str())
            .unwrap_or("unknown")
            .to_owned(),
        ..EndForm::default()
    });
    Ok(st.templates.render(
        "chat.html",
        ctx(
            base(st, lang, here, Some(auth)),
            vec![
                ("end", Value::from_serialize(&end_form)),
                ("end_failed", Value::from(end_failed)),
                ("advice", advice),
                ("advice_sent", Value::from(advice_sent)),
                ("you", Value::from(auth.staff.display_name.clone())),
                (
                    "names_json",
                    Value::from(serde_json::to_string(&names).unwrap_or_default()),
                ),
                ("names", Value::from_serialize(&names)),
                ("conv", Value::from_serialize(row(conv, lang, st.app.now()))),
                ("open", Value::from(view.can_write)),
                ("mine", Value::from(view.can_write)),
                ("can_take", Value::from(view.can_take)),
                ("can_end", Value::from(view.can_end)),
                (
                    "gone",
                    Value::from(conv.status == rempart_domain::chat::ConversationStatus::Left),
                ),
                ("messages", Value::from_serialize(&messages)),
                (
                    "last_seq",
                    Value::from(msgs.last().map(|m| m.seq).unwrap_or(0)),
                ),
                ("history", Value::from_serialize(&past)),
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
                        |r| r.said(lang),
                    ),
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

/// Ends the conversation with its summary. A mistake (an unknown case reference, a
/// missing summary…) shows the conversation again with the form as it was typed.
pub async fn end(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
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
    let typed = |error: &'static str, field: &'static str| EndForm {
        error,
        field,
        caller_type: f.get("caller_type").to_owned(),
        age_band: f.get("age_band").to_owned(),
        categories: f.all("category"),
        summary: f.get("summary").to_owned(),
        outcome: f.get("outcome").to_owned(),
        case_reference: f.get("case_reference").to_owned(),
        open_case: f.get("open_case") == "1",
    };
    // an unknown reference and a case the account may not change answer alike
    let case_id: Option<CaseId> = match f.opt("case_reference") {
        None => None,
        Some(r) => match st.app.case_for_reference(&auth.actor(), &r).await {
            Ok(c) => Some(c),
            Err(e)
                if e.code == rempart_app::ErrorCode::NotFound
                    || e.code == rempart_app::ErrorCode::InvalidField =>
            {
                let form = typed("chat-end-error-case", "case_reference");
                return render_422(
                    render_chat(&st, lang, &here, &auth, cid, Some(form), false).await,
                );
            }
            Err(e) => return Err(e.into()),
        },
    };
    let parsed = (|| {
        Ok::<_, (&'static str, &'static str)>(ChatSummary {
            caller_type: CallerType::parse(f.get("caller_type"))
                .map_err(|_| ("chat-end-error-caller", "caller_type"))?,
            age_band: AgeBand::parse(f.get("age_band"))
                .map_err(|_| ("chat-end-error-age", "age_band"))?,
            categories: f.all("category"),
            summary: f.get("summary").to_owned(),
            outcome: ContactOutcome::parse(f.get("outcome"))
                .map_err(|_| ("chat-end-error-outcome", "outcome"))?,
            case_id,
            open_case: f.get("open_case") == "1",
        })
    })();
    let s = match parsed {
        Ok(s) => s,
        Err((key, field)) => {
            return render_422(
                render_chat(&st, lang, &here, &auth, cid, Some(typed(key, field)), false).await,
            );
        }
    };
    match st.app.end_chat(&auth.actor(), cid, s).await {
        Ok(contact) => Ok(redirect(&format!(
            "/chats?ended=1{}",
            contact
                .case_id
                .map(|c| format!("&case={c}"))
                .unwrap_or_default()
        ))),
        Err(e) if e.code == rempart_app::ErrorCode::InvalidField => {
            let field = match e.message.split(':').next().unwrap_or("") {
                "summary" => "summary",
                "category" | "categories" => "category",
                "case_reference" => "case_reference",
                _ => "",
            };
            let key = match field {
                "summary" => "chat-end-error-summary",
                "category" => "chat-end-error-category",
                "case_reference" => "chat-end-error-case",
                _ => "chat-end-error",
            };
            render_422(
                render_chat(&st, lang, &here, &auth, cid, Some(typed(key, field)), false).await,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// The page again, answered 422 (what was sent could not be recorded).
fn render_422(r: Result<Response, PageError>) -> Result<Response, PageError> {
    r.map(|mut resp| {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        resp
    })
}

/// Sets one's own availability and capacity from the queue page.
pub async fn availability(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["available", "capacity", "alerts"], &auth)?;
    let capacity: i64 = f
        .get("capacity")
        .parse()
        .map_err(|_| AppError::field("capacity", "a number"))?;
    st.app
        .set_chat_availability(&auth.actor(), f.get("available") == "1", capacity)
        .await?;
    let alerts = f.get("alerts") == "1";
    if st.app.chat_alerts(&auth.actor()).await? != alerts {
        st.app.set_chat_alerts(&auth.actor(), alerts).await?;
    }
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
