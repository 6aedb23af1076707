//! Console chat endpoints: the queue, taking the next conversation, the transcript,
//! replies and the closing summary.

use crate::AppState;
use crate::api::dto::{ChatOverview, Contact, Conversation, Load, Message, Transcript, code};
use crate::api::path::PathId;
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rempart_app::chat::ChatSummary;
use rempart_app::{AppError, ErrorCode};
use rempart_domain::ids::{CaseId, ConversationId};
use rempart_domain::values::{AgeBand, CallerType, ContactOutcome};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// A path id: malformed ids answer 404, like unknown ones.
pub fn conversation_id(s: &str) -> Result<ConversationId, AppError> {
    ConversationId::parse(s).map_err(|_| AppError::not_found())
}

/// The queue, messages left while closed, and the actor's own conversations.
pub async fn overview(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<ChatOverview>, ApiError> {
    let actor = auth.actor();
    let q = st.app.chat_queue(&actor).await?;
    let mine = st.app.my_conversations(&actor).await?;
    let loads = st.app.chat_loads(&actor).await?;
    Ok(Json(ChatOverview {
        open: q.open,
        loads: loads.iter().map(Into::into).collect(),
        queue: q.waiting.iter().map(Into::into).collect(),
        left_messages: q.left.iter().map(Into::into).collect(),
        mine: mine.iter().map(Into::into).collect(),
    }))
}

/// Takes the most urgent waiting conversation (204 when none waits).
pub async fn take(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Response, ApiError> {
    match st.app.take_next_chat(&auth.actor()).await? {
        Some(c) => Ok(Json(Conversation::from(&c)).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// Takes this message left while the line was closed.
pub async fn take_left(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<Json<Conversation>, ApiError> {
    let c = st
        .app
        .take_left_message(&auth.actor(), conversation_id(&id)?)
        .await?;
    Ok(Json((&c).into()))
}

/// Paging of the transcript.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// Only the messages after this sequence number (0: all).
    after: Option<i64>,
}

/// The transcript (audited read).
pub async fn messages(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    q: Result<Query<After>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Transcript>, ApiError> {
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
    Ok(Json(Transcript {
        conversation: (&c).into(),
        messages: msgs.iter().map(Into::into).collect(),
    }))
}

/// A reply.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReplyReq)]
pub struct SendReq {
    /// The sender's id for this message: a retry with the same id and text is answered
    /// with the stored message, once.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    client_id: String,
    /// Text.
    #[schema(min_length = 1, max_length = 4000)]
    body: String,
}

/// Sends a reply; answered once committed.
pub async fn send(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(r): ApiJson<SendReq>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let m = st
        .app
        .counsellor_send(&auth.actor(), conversation_id(&id)?, &r.client_id, &r.body)
        .await?;
    Ok((StatusCode::CREATED, Json((&m).into())))
}

/// The closing summary, logged as a contact.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndReq {
    /// Who called.
    #[schema(value_type = crate::api::dto::CallerTypeCode)]
    caller_type: String,
    /// Age band.
    #[schema(value_type = crate::api::dto::AgeBandCode)]
    age_band: String,
    /// Category codes.
    #[serde(default)]
    categories: Vec<String>,
    /// Summary.
    #[schema(min_length = 1, max_length = 4000)]
    summary: String,
    /// What the conversation led to.
    #[schema(value_type = crate::api::dto::ContactOutcomeCode)]
    outcome: String,
    /// A case the contact joins (empty: none).
    case_id: Option<String>,
    /// Open a new case with the contact (in the same transaction).
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
    PathId(id): PathId,
    ApiJson(r): ApiJson<EndReq>,
) -> Result<Json<Contact>, ApiError> {
    let k = st
        .app
        .end_chat(&auth.actor(), conversation_id(&id)?, r.into_summary()?)
        .await?;
    Ok(Json((&k).into()))
}

/// Availability body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityReq {
    /// Taking chats now.
    available: bool,
    /// Conversations at once.
    #[schema(minimum = 1, maximum = 10)]
    capacity: i64,
}

/// Sets one's own availability and capacity.
pub async fn availability(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(r): ApiJson<AvailabilityReq>,
) -> Result<Json<Load>, ApiError> {
    let l = st
        .app
        .set_chat_availability(&auth.actor(), r.available, r.capacity)
        .await?;
    Ok(Json((&l).into()))
}

/// A handover: to a colleague or to a role (exactly one of them).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferReq {
    /// A colleague (staff id).
    #[schema(format = "uuid")]
    to_staff: Option<String>,
    /// A role: whoever of it takes the conversation next.
    #[schema(value_type = Option<crate::api::dto::RoleCode>)]
    to_role: Option<String>,
    /// An internal note the young person never sees.
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
    PathId(id): PathId,
    ApiJson(r): ApiJson<TransferReq>,
) -> Result<StatusCode, ApiError> {
    let to = transfer_target(r.to_staff.as_deref(), r.to_role.as_deref())?;
    st.app
        .transfer_chat(&auth.actor(), conversation_id(&id)?, to, r.note.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
