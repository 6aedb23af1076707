//! Following notices up on the wire: the helpline's notices list, a platform's figures,
//! contesting a refusal.

use super::{DecisionKindCode, NoticeChannelCode, NoticeStateCode};
use rempart_app::notices::followup::{Figure, PlatformFigures};
use rempart_app::records::{NoticePage, NoticeSummary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A line of the notices list.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeLine {
    /// Id.
    pub id: String,
    /// Reference.
    pub reference: String,
    /// Its case.
    pub case_id: String,
    /// The case's reference.
    pub case_reference: String,
    /// Platform code.
    pub platform: String,
    /// Category code.
    pub category: String,
    /// Where it stands.
    pub state: NoticeStateCode,
    /// The channel in use, once sent.
    pub channel: Option<NoticeChannelCode>,
    /// Delivery attempts.
    pub attempts: u32,
    /// The last delivery failure's reason code.
    pub last_error: Option<String>,
    /// The platform's decision.
    pub decision: Option<DecisionKindCode>,
    /// Sent (ms).
    pub sent_at: Option<i64>,
    /// When the platform's expected delay runs out (ms).
    pub due_at: Option<i64>,
    /// Escalated (ms).
    pub escalated_at: Option<i64>,
    /// Last change (ms).
    pub updated_at: i64,
}

impl From<&NoticeSummary> for NoticeLine {
    fn from(n: &NoticeSummary) -> Self {
        NoticeLine {
            id: n.id.to_string(),
            reference: n.reference.clone(),
            case_id: n.case_id.to_string(),
            case_reference: n.case_reference.clone(),
            platform: n.platform.clone(),
            category: n.category.clone(),
            state: n.state.into(),
            channel: n.channel.map(Into::into),
            attempts: n.attempts,
            last_error: n.last_error.clone(),
            decision: n.decision.map(Into::into),
            sent_at: n.sent_at,
            due_at: n.due_at,
            escalated_at: n.escalated_at,
            updated_at: n.updated_at,
        }
    }
}

/// A page of notices.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeList {
    /// The notices: most recently changed first, or with `late`, most overdue first.
    pub notices: Vec<NoticeLine>,
    /// The `cursor` of the next page; null on the last one.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

impl From<&NoticePage> for NoticeList {
    fn from(p: &NoticePage) -> Self {
        NoticeList {
            notices: p.notices.iter().map(NoticeLine::from).collect(),
            next_cursor: p.next.as_ref().map(|c| c.encode()),
        }
    }
}

/// One time figure over a platform's notices.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeFigure {
    /// Notices counted.
    pub count: usize,
    /// Median (ms).
    #[schema(required)]
    pub median_ms: Option<i64>,
    /// 90th percentile (ms).
    #[schema(required)]
    pub p90_ms: Option<i64>,
}

impl From<Figure> for TimeFigure {
    fn from(f: Figure) -> Self {
        TimeFigure {
            count: f.count,
            median_ms: f.median_ms,
            p90_ms: f.p90_ms,
        }
    }
}

/// A platform's figures over the notices sent to it in the last 365 days.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformFiguresOut {
    /// Platform code.
    pub platform: String,
    /// Notices sent.
    pub sent: usize,
    /// From sending to the acknowledgement.
    pub to_acknowledgement: TimeFigure,
    /// From sending to the decision.
    pub to_decision: TimeFigure,
    /// From sending to the removal.
    pub to_removal: TimeFigure,
}

impl PlatformFiguresOut {
    /// From the use-case's figures.
    pub fn new(platform: &str, f: PlatformFigures) -> Self {
        PlatformFiguresOut {
            platform: platform.to_owned(),
            sent: f.sent,
            to_acknowledgement: f.to_acknowledgement.into(),
            to_decision: f.to_decision.into(),
            to_removal: f.to_removal.into(),
        }
    }
}

/// Contesting a platform's refusal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContestReq {
    /// Why the helpline contests it (sent to the platform where its channels allow).
    pub reason: String,
}
