//! The partner API, `/partner/v1`: platforms whose channel is `rempart_api` pull their
//! notices and post their acknowledgement and decision. `Authorization: Bearer <key>` with
//! the platform's own key (issued in the console); no session, no cookie, no CSRF; JSON
//! bodies parsed strictly (size, content type, unknown fields and invalid UTF-8 refused).
//! A notice that is not the caller's answers 404, exactly as one that does not exist.

use crate::AppState;
use crate::api::dto::{DecisionKindCode, NoticeStateCode};
use crate::api::notices::notice_id;
use crate::api::path::PathId;
use crate::error::ApiError;
use crate::extract::ApiJson;
use axum::Json;
use axum::extract::{FromRef, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rempart_app::notices::partner::{DecisionGround, PartnerAnswer, PartnerDecision, cursor};
use rempart_app::notices::payload::iso;
use rempart_app::records::NoticeRecord;
use rempart_app::{AppError, ErrorCode};
use rempart_domain::notice::{DecisionKind, NoticeState};
use rempart_domain::policy::PartnerActor;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A platform authenticated by its partner API key.
pub struct PartnerAuth(pub PartnerActor);

impl<S> FromRequestParts<S> for PartnerAuth
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        // the key only: a console session cookie opens nothing here
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        Ok(PartnerAuth(st.app.partner_authenticate(key).await?))
    }
}

/// A notice as its platform sees it: where it stands and what was recorded of its
/// answers (times in ISO 8601, UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerNotice {
    /// The notice's id.
    pub id: String,
    /// Its reference (quote it to the helpline).
    pub reference: String,
    /// Where it stands.
    pub state: NoticeStateCode,
    /// The category code.
    pub category: String,
    /// When it was sent.
    pub sent_at: Option<String>,
    /// When the platform first fetched it (or answered).
    pub delivered_at: Option<String>,
    /// When the platform acknowledged it.
    pub acknowledged_at: Option<String>,
    /// The platform's ticket.
    pub ticket: Option<String>,
    /// The platform's decision.
    pub decision: Option<DecisionKindCode>,
    /// When it decided.
    pub decided_at: Option<String>,
    /// When the expected delay for a decision runs out.
    pub due_at: Option<String>,
}

impl From<&NoticeRecord> for PartnerNotice {
    fn from(n: &NoticeRecord) -> Self {
        PartnerNotice {
            id: n.id.to_string(),
            reference: n.reference.clone(),
            state: n.state.into(),
            category: n.category.clone(),
            sent_at: n.sent_at.map(iso),
            delivered_at: n.delivered_at.map(iso),
            acknowledged_at: n.acknowledged_at.map(iso),
            ticket: n.ticket.clone(),
            decision: n.decision.map(Into::into),
            decided_at: n.decided_at.map(iso),
            due_at: n.due_at.map(iso),
        }
    }
}

/// A page of the platform's notices.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerNoticeList {
    /// The notices, oldest sent first.
    pub notices: Vec<PartnerNotice>,
    /// The `cursor` of the next page, when there may be one.
    pub next_cursor: Option<String>,
}

/// The list's query string.
#[derive(Debug, Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerListQuery {
    /// Only notices in this state (default: the open ones — sent, acknowledged,
    /// escalated). A draft or ready notice is never listed.
    #[param(value_type = Option<PartnerStateCode>, inline)]
    pub state: Option<String>,
    /// Paging cursor: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The states a platform may ask its list for.
#[derive(Debug, ToSchema)]
#[schema(as = PartnerState)]
#[allow(dead_code)]
pub enum PartnerStateCode {
    /// Sent, not answered.
    #[schema(rename = "sent")]
    Sent,
    /// Acknowledged.
    #[schema(rename = "acknowledged")]
    Acknowledged,
    /// Past its delay, or contested.
    #[schema(rename = "escalated")]
    Escalated,
    /// Removed.
    #[schema(rename = "removed")]
    Removed,
    /// Restricted.
    #[schema(rename = "restricted")]
    Restricted,
    /// Refused.
    #[schema(rename = "refused")]
    Refused,
    /// No answer within the delays.
    #[schema(rename = "no_answer")]
    NoAnswer,
}

/// The platform's acknowledgement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerAckReq {
    /// The platform's ticket id (1 to 200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub ticket: String,
}

/// The ground of a decision (the DSA Transparency Database's `decision_ground`).
#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum GroundCode {
    /// `DECISION_GROUND_ILLEGAL_CONTENT`.
    IllegalContent,
    /// `DECISION_GROUND_INCOMPATIBLE_CONTENT` (terms of service).
    IncompatibleContent,
}

/// The platform's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerDecisionReq {
    /// What it decided (not `no_answer`, which only the helpline records).
    #[schema(value_type = DecisionKindCode)]
    pub decision: String,
    /// On what ground; required unless the decision is `refused`.
    pub ground: Option<GroundCode>,
    /// How the notifier can contest the decision (DSA Art. 16(5)), up to 1,500 characters.
    #[schema(max_length = 1500)]
    pub redress: Option<String>,
    /// When it decided (RFC 3339), not before the notice was sent nor in the future.
    #[schema(format = DateTime)]
    pub decided_at: String,
    /// Its ticket id, if it gives one with the decision.
    #[schema(max_length = 200)]
    pub ticket: Option<String>,
}

/// The exact notice document prepared for the platform (Rempart's notice JSON, version
/// 1): the four elements of DSA Article 16(2), the category, the items.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PartnerNoticeDocument {
    /// `rempart.notice`.
    #[schema(rename = "type")]
    pub kind: String,
    /// The document's version (1).
    pub version: i64,
    /// The notice's id.
    pub id: String,
    /// Its reference.
    pub reference: String,
    /// When it was prepared to be sent (ISO 8601).
    pub sent_at: String,
    /// The platform's code.
    pub platform: String,
    /// The language it is written in.
    pub language: String,
    /// Why the content is illegal (Art. 16(2)(a)).
    pub explanation: String,
    /// The exact locations (Art. 16(2)(b)).
    pub items: Vec<PartnerNoticeDocItem>,
    /// The notifier: the helpline (Art. 16(2)(c)).
    pub notifier: PartnerNotifier,
    /// The statement of good faith (Art. 16(2)(d)).
    pub good_faith_statement: String,
    /// The category.
    pub category: PartnerCategory,
    /// The items show a minor sexually (URLs and hashes only).
    pub sexual_images_of_minor: bool,
}

/// An item of the notice document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PartnerNoticeDocItem {
    /// The item's id.
    pub id: String,
    /// Its exact URL.
    pub url: Option<String>,
    /// The platform's own id.
    pub native_id: Option<String>,
    /// The kind of content.
    pub content_type: String,
}

/// The notifier of the notice document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PartnerNotifier {
    /// The helpline's name.
    pub name: String,
    /// Its address.
    pub email: String,
    /// It is a trusted flagger (DSA Art. 22).
    pub trusted_flagger: bool,
}

/// The category of the notice document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PartnerCategory {
    /// The helpline's category code.
    pub code: String,
    /// The DSA Transparency Database's category.
    pub dsa_category: Option<String>,
    /// Its label in the notice's language.
    pub label: Option<String>,
}

/// The platform's open notices (or those in `state`), by pages.
pub async fn list(
    State(st): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    q: Result<Query<PartnerListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PartnerNoticeList>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidField, e.body_text()))?;
    let state = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| NoticeState::parse(s).map_err(|_| AppError::field("state", "unknown value")))
        .transpose()?;
    let limit = match q.limit {
        None => 50,
        Some(l) => u32::try_from(l)
            .ok()
            .filter(|l| (1..=200).contains(l))
            .ok_or_else(|| AppError::field("limit", "between 1 and 200"))?,
    };
    let page = st
        .app
        .partner_notices(
            &p,
            state,
            q.cursor.as_deref().filter(|c| !c.is_empty()),
            limit,
        )
        .await?;
    Ok(Json(PartnerNoticeList {
        notices: page.notices.iter().map(Into::into).collect(),
        next_cursor: page.next.as_ref().map(cursor),
    }))
}

/// The exact notice document prepared for the platform, as stored.
pub async fn get(
    State(st): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let n = st.app.partner_notice(&p, notice_id(&id)?).await?;
    let body = n.payload.unwrap_or_default();
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

fn answered(a: PartnerAnswer) -> (StatusCode, Json<PartnerNotice>) {
    let status = if a.recorded {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(PartnerNotice::from(&a.notice)))
}

/// The platform acknowledges a notice with its ticket (201; the same again: 200).
pub async fn acknowledge(
    State(st): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<PartnerAckReq>,
) -> Result<(StatusCode, Json<PartnerNotice>), ApiError> {
    let a = st
        .app
        .partner_acknowledge(&p, notice_id(&id)?, &req.ticket)
        .await?;
    Ok(answered(a))
}

/// The platform's decision on a notice (201; the same again: 200).
pub async fn decide(
    State(st): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<PartnerDecisionReq>,
) -> Result<(StatusCode, Json<PartnerNotice>), ApiError> {
    let id = notice_id(&id)?;
    let decision = DecisionKind::parse(&req.decision)
        .map_err(|_| AppError::field("decision", "unknown value"))?;
    let decided_at = chrono::DateTime::parse_from_rfc3339(req.decided_at.trim())
        .map_err(|_| AppError::field("decided_at", "not an RFC 3339 time"))?
        .timestamp_millis();
    let ticket = req
        .ticket
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if ticket.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::field("ticket", "longer than 200 characters").into());
    }
    let d = PartnerDecision {
        decision,
        ground: req.ground.map(|g| match g {
            GroundCode::IllegalContent => DecisionGround::IllegalContent,
            GroundCode::IncompatibleContent => DecisionGround::IncompatibleContent,
        }),
        redress: req.redress,
        decided_at,
        ticket,
    };
    Ok(answered(st.app.partner_decide(&p, id, d).await?))
}
