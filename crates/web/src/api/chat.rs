//! Console chat endpoints: the queue, taking the next conversation, the transcript,
//! replies and the closing summary.

use crate::AppState;
use crate::api::dto::code;
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rempart_app::chat::ChatSummary;
use rempart_app::records::{ConversationRecord, MessageRecord};
use rempart_app::{AppError, ErrorCode};
use rempart_domain::ids::{CaseId, ConversationId};
use rempart_domain::values::{AgeBand, CallerType, ContactOutcome};
use serde::Deserialize;
use serde_json::{Value, json};

/// A conversation for staff (never the token; the person key is not shown either).
pub fn conversation(c: &ConversationRecord) -> Value {
    json!({
        "id": c.id.to_string(), "channel": c.channel.as_str(), "status": c.status.as_str(), "priority": c.priority,
        "risks": c.risks.iter().map(|r| r.as_str()).collect::<Vec<_>>(), "caller_type": c.caller_type.map(|x| x.as_str()),
        "age_band": c.age_band.map(|x| x.as_str()), "lang": c.lang, "assigned_to": c.assigned_to.map(|a| a.to_string()),
        "case_id": c.case_id.map(|x| x.to_string()), "created_at": c.created_at, "waiting_since": c.waiting_since,
        "last_activity_at": c.last_activity_at, "ended_at": c.ended_at, "left_message": c.left_message,
    })
}

/// A message for staff.
pub fn message(m: &MessageRecord) -> Value {
    json!({"seq": m.seq, "from": m.sender.as_str(), "author_id": m.author_id.map(|a| a.to_string()), "client_id": m.client_id, "body": m.body, "at": m.created_at})
}

/// A path id: malformed ids answer 404, like unknown ones.
pub fn conversation_id(s: &str) -> Result<ConversationId, AppError> {
    ConversationId::parse(s).map_err(|_| AppError::not_found())
}

/// The queue, messages left while closed, and the actor's own conversations.
pub async fn overview(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Value>, ApiError> {
    let actor = auth.actor();
    let q = st.app.chat_queue(&actor).await?;
    let mine = st.app.my_conversations(&actor).await?;
    let loads = st.app.chat_loads(&actor).await?;
    Ok(Json(json!({
        "open": q.open,
        "loads": loads.iter().map(load).collect::<Vec<_>>(),
        "queue": q.waiting.iter().map(conversation).collect::<Vec<_>>(),
        "left_messages": q.left.iter().map(conversation).collect::<Vec<_>>(),
        "mine": mine.iter().map(conversation).collect::<Vec<_>>(),
    })))
}

/// Takes the most urgent waiting conversation (204 when none waits).
pub async fn take(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Response, ApiError> {
    match st.app.take_next_chat(&auth.actor()).await? {
        Some(c) => Ok(Json(conversation(&c)).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// Takes this message left while the line was closed.
pub async fn take_left(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = st
        .app
        .take_left_message(&auth.actor(), conversation_id(&id)?)
        .await?;
    Ok(Json(conversation(&c)))
}

/// Paging of the transcript.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct After {
    after: Option<i64>,
}

/// The transcript (audited read).
pub async fn messages(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    q: Result<Query<After>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidField, e.body_text()))?;
    let (c, msgs) = st
        .app
        .counsellor_messages(
            &auth.actor(),
            conversation_id(&id)?,
            q.after.unwrap_or(0),
            true,
        )
        .await?;
    Ok(Json(
        json!({"conversation": conversation(&c), "messages": msgs.iter().map(message).collect::<Vec<_>>()}),
    ))
}

/// A reply.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendReq {
    client_id: String,
    body: String,
}

/// Sends a reply; answered once committed.
pub async fn send(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<SendReq>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let m = st
        .app
        .counsellor_send(&auth.actor(), conversation_id(&id)?, &r.client_id, &r.body)
        .await?;
    Ok((StatusCode::CREATED, Json(message(&m))))
}

/// The closing summary.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndReq {
    caller_type: String,
    age_band: String,
    #[serde(default)]
    categories: Vec<String>,
    summary: String,
    outcome: String,
    case_id: Option<String>,
    open_case: Option<bool>,
}

impl EndReq {
    /// To the use-case input.
    pub fn into_summary(self) -> Result<ChatSummary, AppError> {
        Ok(ChatSummary {
            caller_type: code!(CallerType, "caller_type", &self.caller_type)?,
            age_band: code!(AgeBand, "age_band", &self.age_band)?,
            categories: self.categories,
            summary: self.summary,
            outcome: code!(ContactOutcome, "outcome", &self.outcome)?,
            open_case: self.open_case.unwrap_or(false),
            case_id: self
                .case_id
                .filter(|c| !c.is_empty())
                .map(|c| CaseId::parse(&c).map_err(|_| AppError::field("case_id", "invalid id")))
                .transpose()?,
        })
    }
}

/// Ends the conversation with its summary.
pub async fn end(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<EndReq>,
) -> Result<Json<Value>, ApiError> {
    let k = st
        .app
        .end_chat(&auth.actor(), conversation_id(&id)?, r.into_summary()?)
        .await?;
    Ok(Json(crate::api::dto::contact(&k)))
}

/// A counsellor's availability and load.
pub fn load(l: &rempart_app::records::ChatLoad) -> Value {
    json!({"staff_id": l.staff_id.to_string(), "name": l.name, "available": l.available, "capacity": l.capacity, "active": l.active})
}

/// Availability body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityReq {
    available: bool,
    capacity: i64,
}

/// Sets one's own availability and capacity.
pub async fn availability(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(r): ApiJson<AvailabilityReq>,
) -> Result<Json<Value>, ApiError> {
    let l = st
        .app
        .set_chat_availability(&auth.actor(), r.available, r.capacity)
        .await?;
    Ok(Json(load(&l)))
}

/// A handover.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferReq {
    to_staff: Option<String>,
    to_role: Option<String>,
    note: Option<String>,
}

/// The target of a handover: exactly one of a colleague or a role.
pub fn transfer_target(
    to_staff: Option<&str>,
    to_role: Option<&str>,
) -> Result<rempart_app::chat::TransferTarget, AppError> {
    use rempart_app::chat::TransferTarget;
    match (
        to_staff.filter(|s| !s.is_empty()),
        to_role.filter(|s| !s.is_empty()),
    ) {
        (Some(s), None) => Ok(TransferTarget::Staff(
            rempart_domain::ids::StaffId::parse(s)
                .map_err(|_| AppError::field("to_staff", "invalid id"))?,
        )),
        (None, Some(r)) => Ok(TransferTarget::Role(code!(
            rempart_domain::policy::Role,
            "to_role",
            r
        )?)),
        _ => Err(AppError::field(
            "to_staff",
            "give either to_staff or to_role",
        )),
    }
}

/// Hands the conversation over.
pub async fn transfer(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<TransferReq>,
) -> Result<StatusCode, ApiError> {
    let to = transfer_target(r.to_staff.as_deref(), r.to_role.as_deref())?;
    st.app
        .transfer_chat(&auth.actor(), conversation_id(&id)?, to, r.note.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
