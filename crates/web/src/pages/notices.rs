//! Notices on the case page: "Signaler aux plateformes" drafts one notice per platform;
//! each is edited, marked ready, validated by a second counsellor when it must be, sent,
//! and its acknowledgement or decision recorded by hand — each a form that comes back to
//! the case page at the notice.

use super::Fields;
use crate::AppState;
use crate::api::cases::case_id;
use crate::api::notices::notice_id;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, PageAuth};
use crate::i18n::Said;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_app::notices::{DecisionInput, NoticeEdit, NoticeView};
use rempart_domain::directory::NoticeChannel;
use rempart_domain::ids::NoticeId;
use rempart_domain::notice::{DecisionKind, NoticeState};
use rempart_domain::notice_content::good_faith_statement;

/// The case page's notices, for its template.
pub fn for_template(views: &[NoticeView], lang: &str) -> Value {
    let rows: Vec<_> = views
        .iter()
        .map(|v| {
            let n = &v.notice;
            let time_to_removal = match (n.sent_at, n.removed_at) {
                (Some(s), Some(r)) if r >= s => Some(duration(r - s)),
                _ => None,
            };
            serde_json::json!({
                "id": n.id.to_string(),
                "reference": n.reference,
                "platform": v.platform_name,
                "state": n.state.as_str(),
                "state_label": n.state.said(lang),
                "sending": n.state == NoticeState::Sent && n.delivered_at.is_none(),
                "draft": n.state == NoticeState::Draft,
                "ready": n.state == NoticeState::Ready,
                "awaits_validation": n.state == NoticeState::Ready && n.needs_validation && n.validated_by.is_none(),
                "may_validate": v.may_validate,
                "may_send": n.state == NoticeState::Ready && (!n.needs_validation || n.validated_by.is_some()),
                "open": matches!(n.state, NoticeState::Sent | NoticeState::Acknowledged | NoticeState::Escalated | NoticeState::NoAnswer),
                "may_acknowledge": n.state.can_apply(&rempart_domain::notice::NoticeEvent::Acknowledge),
                "needs_validation": n.needs_validation,
                "explanation": n.explanation,
                "sexual": n.sexual_images_of_minor,
                "items": v.content.items.iter().map(|i| i.location().unwrap_or("").to_owned()).collect::<Vec<_>>(),
                "notifier": format!("{} <{}>", v.content.notifier_name, v.content.notifier_email),
                "good_faith": good_faith_statement(&n.lang),
                "missing": v.missing.iter().map(|m| m.said(lang)).collect::<Vec<_>>(),
                "channels": v.channels.iter().map(|c| c.said(lang)).collect::<Vec<_>>(),
                "channel": n.channel.map(|c| c.said(lang)),
                "payload": n.payload,
                "mail": mail_view(n.channel, n.payload.as_deref()),
                "ticket": n.ticket,
                "attempts": n.attempts,
                "last_error": n.last_error,
                "sent_at": n.sent_at,
                "due_at": n.due_at,
                "decision": n.decision.map(|d| d.said(lang)),
                "decided_at": n.decided_at,
                "time_to_removal": time_to_removal,
                "escalated_at": n.escalated_at,
                "reminders": n.reminders,
                "contest_reason": n.contest_reason,
                "appeal": n.appeal,
                "portal_url": v.portal_url,
                "appeal_at": n.appeal_at,
                "may_contest": rempart_app::notices::followup::may_contest(v),
                "lang": n.lang,
            })
        })
        .collect();
    Value::from_serialize(&rows)
}

/// An e-mail payload as people read it: its main headers decoded, the text part, the
/// attachments (the raw bytes stay in `payload`).
fn mail_view(channel: Option<NoticeChannel>, payload: Option<&str>) -> Option<serde_json::Value> {
    if channel != Some(NoticeChannel::Email) {
        return None;
    }
    let m = rempart_app::notices::email::read(payload?);
    let headers: Vec<_> = [
        ("From", "mail-from"),
        ("To", "mail-to"),
        ("Reply-To", "mail-reply-to"),
        ("Subject", "mail-subject"),
        ("Date", "mail-date"),
        ("Message-ID", "mail-message-id"),
    ]
    .iter()
    .filter_map(|(h, key)| {
        m.header(h)
            .map(|v| serde_json::json!({"key": key, "value": v}))
    })
    .collect();
    let attachments: Vec<_> = m
        .attachments
        .iter()
        .map(|a| {
            serde_json::json!({
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.bytes.len(),
            })
        })
        .collect();
    Some(serde_json::json!({
        "headers": headers,
        "text": m.text,
        "attachments": attachments,
    }))
}

pub fn duration(ms: i64) -> String {
    let min = ms / 60_000;
    if ms < 60_000 {
        format!("{} s", ms.max(0) / 1000)
    } else if min < 60 {
        format!("{min} min")
    } else {
        format!("{} h {:02} min", min / 60, min % 60)
    }
}

fn back(case: impl std::fmt::Display, notice: Option<NoticeId>) -> Response {
    match notice {
        Some(n) => redirect(&format!("/cases/{case}?done=notice#notice-{n}")),
        None => redirect(&format!("/cases/{case}?done=notices#notices")),
    }
}

/// "Signaler aux plateformes": one draft per platform for the items in no notice yet.
pub async fn propose(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    let case = case_id(&id)?;
    st.app.propose_notices(&auth.actor(), case).await?;
    Ok(back(case, None))
}

async fn case_of(
    st: &AppState,
    auth: &rempart_app::auth::Authenticated,
    id: NoticeId,
) -> Result<String, PageError> {
    Ok(st
        .app
        .notice(&auth.actor(), id)
        .await?
        .notice
        .case_id
        .to_string())
}

/// Saves a draft's explanation and flag.
pub async fn edit(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["explanation", "sexual_images_of_minor"], &auth)?;
    let id = notice_id(&id)?;
    st.app
        .edit_notice(
            &auth.actor(),
            id,
            NoticeEdit {
                explanation: f.get("explanation").to_owned(),
                sexual_images_of_minor: f.get("sexual_images_of_minor") == "1",
            },
        )
        .await?;
    Ok(back(case_of(&st, &auth, id).await?, Some(id)))
}

macro_rules! step {
    ($(#[$doc:meta])* $name:ident => $method:ident) => {
        $(#[$doc])*
        pub async fn $name(
            State(st): State<AppState>,
            PageAuth(auth): PageAuth,
            Path(id): Path<String>,
            form: FormBody<Vec<(String, String)>>,
        ) -> Result<Response, PageError> {
            Fields::checked(form, &[], &auth)?;
            let id = notice_id(&id)?;
            st.app.$method(&auth.actor(), id).await?;
            Ok(back(case_of(&st, &auth, id).await?, Some(id)))
        }
    };
}

step!(
    /// Marks a complete draft ready.
    ready => mark_notice_ready
);
step!(
    /// Back to draft.
    unready => unready_notice
);
step!(
    /// A second counsellor validates it.
    validate => validate_notice
);
step!(
    /// Sends it.
    send => send_notice
);

/// Records the platform's acknowledgement (a portal's ticket number).
pub async fn acknowledge(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["ticket"], &auth)?;
    let id = notice_id(&id)?;
    st.app
        .acknowledge_notice(&auth.actor(), id, f.opt("ticket"))
        .await?;
    Ok(back(case_of(&st, &auth, id).await?, Some(id)))
}

/// Records the platform's decision by hand.
pub async fn decision(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["decision", "ticket", "note"], &auth)?;
    let id = notice_id(&id)?;
    let decision = DecisionKind::parse(f.get("decision"))
        .map_err(|_| AppError::field("decision", "unknown value"))?;
    st.app
        .record_notice_decision(
            &auth.actor(),
            id,
            DecisionInput {
                decision,
                ticket: f.opt("ticket"),
                note: f.opt("note"),
            },
        )
        .await?;
    Ok(back(case_of(&st, &auth, id).await?, Some(id)))
}
