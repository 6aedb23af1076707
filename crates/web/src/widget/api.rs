//! Widget JSON API under `/widget/v1`. The widget runs in a frame served from this origin,
//! so its calls are same-origin: no cookies, no CORS; the chat token travels in the
//! `Authorization` header only.

use crate::AppState;
use crate::api::dto::{
    Challenge, ChatSession, Emergency, FollowUpSession, LineStatus, OpeningDay, WidgetConversation,
    WidgetMessage, WidgetTranscript, code,
};
use crate::error::ApiError;
use crate::extract::ApiJson;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use rempart_app::chat::ChatStart;
use rempart_app::live::Typist;
use rempart_app::records::{ConversationRecord, MessageRecord};
use rempart_app::{AppError, ErrorCode};
use rempart_domain::values::{AgeBand, CallerType};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The chat token from `Authorization: Bearer …`.
pub fn chat_token(h: &HeaderMap) -> Result<String, ApiError> {
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "chat token required"))
}

/// A message as the widget sees it (no counsellor identity).
pub fn message(m: &MessageRecord) -> WidgetMessage {
    m.into()
}

/// The conversation's state for the widget: status, queue position and expected wait.
pub async fn state(st: &AppState, c: &ConversationRecord) -> Result<WidgetConversation, AppError> {
    let w = st.app.waiting(c).await?;
    Ok(WidgetConversation {
        status: c.status.into(),
        position: w.position,
        expected_wait_s: w.expected_wait_s,
    })
}

/// Opening status, hours and emergency numbers.
pub async fn status(State(st): State<AppState>) -> Json<LineStatus> {
    let now = chrono::DateTime::from_timestamp_millis(st.app.now()).unwrap_or_default();
    let cal = st.app.calendar();
    let hours = cal
        .week_hours()
        .iter()
        .map(|(d, h)| OpeningDay {
            day: d.num_days_from_monday(),
            open: h.map(|(a, _)| a.format("%H:%M").to_string()),
            close: h.map(|(_, b)| b.format("%H:%M").to_string()),
        })
        .collect();
    let emergency = st
        .app
        .directory()
        .emergency_numbers()
        .iter()
        .map(|e| Emergency {
            number: e.number.clone(),
            fr: e.fr.clone(),
            en: e.en.clone(),
        })
        .collect();
    Json(LineStatus {
        open: cal.is_open(now),
        hours,
        emergency,
    })
}

/// Pre-chat answers (all optional).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartReq {
    /// Who is writing (empty: not said).
    #[schema(value_type = Option<crate::api::dto::CallerTypeCode>)]
    caller_type: Option<String>,
    /// Age band (empty: not said).
    #[schema(value_type = Option<crate::api::dto::AgeBandCode>)]
    age_band: Option<String>,
    /// Language (`fr` by default, `en`).
    lang: Option<String>,
    /// The widget's device key (random, kept until a quick exit), so that one device's
    /// conversations are one person's (64 hexadecimal digits).
    #[schema(pattern = "^[0-9A-Fa-f]{64}$")]
    device: Option<String>,
    /// The answer to a proof-of-work challenge, asked for only under a flood.
    pow: Option<PowAnswer>,
}

/// An answered challenge.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowAnswer {
    /// The challenge of `GET /widget/v1/challenge`.
    challenge: String,
    /// The nonce found.
    nonce: String,
}

/// A proof-of-work challenge for a new session and its difficulty (`GET
/// /widget/v1/challenge`): find a nonce whose `SHA-256(challenge ":" nonce)` starts with
/// `bits` zero bits.
pub async fn challenge(State(st): State<AppState>) -> Result<Json<Challenge>, ApiError> {
    Ok(Json(Challenge {
        challenge: st.app.pow_challenge()?,
        bits: st.app.settings().widget.pow_bits,
    }))
}

/// Starts a conversation; the token is returned once.
pub async fn start(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    ApiJson(r): ApiJson<StartReq>,
) -> Result<(StatusCode, Json<ChatSession>), ApiError> {
    let per_min = st.app.settings().widget.sessions_per_minute;
    st.limit(
        &format!("session-min:{ip}"),
        per_min,
        60_000 / i64::from(per_min.max(1)),
    )?;
    let per_day = st.app.settings().widget.sessions_per_day;
    st.limit(
        &format!("session-day:{ip}"),
        per_day,
        86_400_000 / i64::from(per_day.max(1)),
    )?;
    // Under a flood of new sessions on this node, each must bring a proof of work.
    let stress = st.app.settings().widget.stress_sessions_per_minute;
    if stress > 0
        && !st.limits.allow(
            "stress:sessions",
            stress,
            60_000 / i64::from(stress),
            st.app.now(),
        )
    {
        match &r.pow {
            Some(p) => {
                st.app
                    .pow_verify(&p.challenge, &p.nonce, st.app.settings().widget.pow_bits)?
            }
            None => {
                return Err(AppError::new(
                    ErrorCode::ProofOfWorkRequired,
                    "many conversations are starting: answer GET /widget/v1/challenge",
                )
                .into());
            }
        }
    }
    let s = ChatStart {
        caller_type: r
            .caller_type
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|c| code!(CallerType, "caller_type", c))
            .transpose()?,
        age_band: r
            .age_band
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|c| code!(AgeBand, "age_band", c))
            .transpose()?,
        lang: r.lang.unwrap_or_else(|| "fr".into()),
        device: r.device,
    };
    let started = st.app.start_chat(s).await?;
    let conversation = state(&st, &started.conversation).await?;
    Ok((
        StatusCode::CREATED,
        Json(ChatSession {
            token: started.token,
            conversation,
            follow_up_code: started.follow_up_code,
        }),
    ))
}

/// A follow-up code, typed by the young person.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpReq {
    /// The code shown when the message was left.
    code: String,
}

/// Opens a conversation again with its follow-up code (guesses are limited per address);
/// returns a token for it, as a new session does.
pub async fn follow_up(
    State(st): State<AppState>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    ApiJson(r): ApiJson<FollowUpReq>,
) -> Result<Json<FollowUpSession>, ApiError> {
    st.limit(&format!("follow-up:{ip}"), 10, 60_000)?;
    let (token, conv) = st.app.follow_up(&r.code).await?;
    let conversation = state(&st, &conv).await?;
    Ok(Json(FollowUpSession {
        token,
        conversation,
    }))
}

/// Paging of the transcript.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// Only the messages after this sequence number (0: all).
    after: Option<i64>,
}

/// The transcript after `after`, with the conversation's state.
pub async fn messages(
    State(st): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<After>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<WidgetTranscript>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidField, e.body_text()))?;
    let token = chat_token(&headers)?;
    let (conv, msgs) = st
        .app
        .visitor_messages(&token, q.after.unwrap_or(0))
        .await?;
    let conversation = state(&st, &conv).await?;
    Ok(Json(WidgetTranscript {
        conversation,
        messages: msgs.iter().map(message).collect(),
    }))
}

/// A message from the visitor.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WidgetSendReq)]
pub struct SendReq {
    /// The widget's id for this message: a retry with the same id and text is answered
    /// with the stored message, once.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    client_id: String,
    /// Text.
    #[schema(min_length = 1, max_length = 4000)]
    body: String,
}

/// Sends a message: answered only once it is committed.
pub async fn send(
    State(st): State<AppState>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<SendReq>,
) -> Result<(StatusCode, Json<WidgetMessage>), ApiError> {
    let token = chat_token(&headers)?;
    // one message a second after a burst, per chat session
    let key = format!("msg:{}", rempart_app::sha256_hex(token.as_bytes()));
    st.limit(&key, st.app.settings().widget.message_burst, 1000)?;
    let m = st.app.visitor_send(&token, &r.client_id, &r.body).await?;
    Ok((StatusCode::CREATED, Json(message(&m))))
}

/// The visitor is typing (limited per chat session: `widget.typing_per_minute`).
pub async fn typing(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = chat_token(&headers)?;
    st.typing_allowed(&rempart_app::sha256_hex(token.as_bytes()))?;
    let conv = st.app.visitor_conversation(&token).await?;
    st.app.typing(conv.id, Typist::Visitor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The young person left by quick exit (the widget's keepalive request, sent before it
/// navigates away): the conversation leaves the queue and its counsellor sees it left.
/// A second call (a retry) answers the same and changes nothing; an unknown token is 401.
pub async fn leave(State(st): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = chat_token(&headers)?;
    let key = format!("leave:{}", rempart_app::sha256_hex(token.as_bytes()));
    st.limit(&key, 5, 1000)?;
    st.app.visitor_leave(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}
