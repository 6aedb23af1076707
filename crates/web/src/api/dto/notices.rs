//! Notices to platforms on the wire.

use super::{DecisionKindCode, MissingElementCode, NoticeChannelCode, NoticeStateCode};
use rempart_app::AppError;
use rempart_app::notices::{DecisionInput, NoticeEdit, NoticeView};
use rempart_domain::notice::DecisionKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An item a notice is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeItem {
    /// The item's id.
    pub id: String,
    /// Kind of content.
    pub content_type: String,
    /// Exact URL.
    pub url: Option<String>,
    /// The platform's own id.
    pub native_id: Option<String>,
}

/// A notice to a platform, with what DSA Article 16 requires and it lacks.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notice {
    /// Id.
    pub id: String,
    /// Reference (in subjects and the platform's tools).
    pub reference: String,
    /// Its case.
    pub case_id: String,
    /// Platform code.
    pub platform: String,
    /// Platform name.
    pub platform_name: String,
    /// Category code.
    pub category: String,
    /// The language it is written in.
    pub lang: String,
    /// Where it stands.
    pub state: NoticeStateCode,
    /// Why the content is illegal (Article 16(2)(a)).
    pub explanation: String,
    /// The items (Article 16(2)(b)).
    pub items: Vec<NoticeItem>,
    /// The notifier: the helpline (Article 16(2)(c)).
    pub notifier_name: String,
    /// The notifier's address.
    pub notifier_email: String,
    /// Flagged to the platform as sexual images of a minor (hashes and URLs only).
    pub sexual_images_of_minor: bool,
    /// A second counsellor must validate it before it is sent.
    pub needs_validation: bool,
    /// Who marked it ready.
    pub prepared_by: Option<String>,
    /// Who validated it.
    pub validated_by: Option<String>,
    /// Whether the reader may validate it now.
    pub may_validate: bool,
    /// What it lacks (it cannot be marked ready until this is empty).
    pub missing: Vec<MissingElementCode>,
    /// The platform's channels, in the order they are tried.
    pub channels: Vec<NoticeChannelCode>,
    /// The channel it was sent on.
    pub channel: Option<NoticeChannelCode>,
    /// The exact bytes that left (or will leave) on that channel: a JSON document, or for
    /// an e-mail channel the whole RFC 5322 message (headers, text, JSON attachment).
    pub payload: Option<String>,
    /// The platform's ticket or report id.
    pub ticket: Option<String>,
    /// The platform's decision.
    pub decision: Option<DecisionKindCode>,
    /// Where the decision came from: `coop`, `partner` or `manual`.
    pub decision_source: Option<String>,
    /// The ground or redress information given.
    pub decision_note: Option<String>,
    /// The last delivery failure's reason code.
    pub last_error: Option<String>,
    /// Delivery attempts.
    pub attempts: u32,
    /// The expected decision delay (hours).
    pub expected_hours: u32,
    /// Drafted (ms).
    pub created_at: i64,
    /// Sent (ms).
    pub sent_at: Option<i64>,
    /// Taken by the platform's channel (ms).
    pub delivered_at: Option<i64>,
    /// Acknowledged (ms).
    pub acknowledged_at: Option<i64>,
    /// Decided (ms).
    pub decided_at: Option<i64>,
    /// Removed (ms).
    pub removed_at: Option<i64>,
    /// When the expected delay runs out (ms).
    pub due_at: Option<i64>,
    /// Escalated: past its delay, or a refusal contested (ms).
    pub escalated_at: Option<i64>,
    /// Reminders sent to the platform.
    pub reminders: u32,
    /// Why the helpline contests the platform's refusal.
    pub contest_reason: Option<String>,
    /// The platform's decision on an appeal against its action by the content's author:
    /// `accepted` (it reversed its action) or `rejected`.
    pub appeal: Option<String>,
    /// When that came (ms).
    pub appeal_at: Option<i64>,
}

impl From<&NoticeView> for Notice {
    fn from(v: &NoticeView) -> Self {
        let n = &v.notice;
        Notice {
            id: n.id.to_string(),
            reference: n.reference.clone(),
            case_id: n.case_id.to_string(),
            platform: n.platform.clone(),
            platform_name: v.platform_name.clone(),
            category: n.category.clone(),
            lang: n.lang.clone(),
            state: n.state.into(),
            explanation: n.explanation.clone(),
            items: v
                .content
                .items
                .iter()
                .map(|i| NoticeItem {
                    id: i.item_id.clone(),
                    content_type: i.content_type.clone(),
                    url: i.url.clone(),
                    native_id: i.native_id.clone(),
                })
                .collect(),
            notifier_name: v.content.notifier_name.clone(),
            notifier_email: v.content.notifier_email.clone(),
            sexual_images_of_minor: n.sexual_images_of_minor,
            needs_validation: n.needs_validation,
            prepared_by: n.prepared_by.map(|s| s.to_string()),
            validated_by: n.validated_by.map(|s| s.to_string()),
            may_validate: v.may_validate,
            missing: v.missing.iter().map(|m| (*m).into()).collect(),
            channels: v.channels.iter().map(|c| (*c).into()).collect(),
            channel: n.channel.map(Into::into),
            payload: n.payload.clone(),
            ticket: n.ticket.clone(),
            decision: n.decision.map(Into::into),
            decision_source: n.decision_source.clone(),
            decision_note: n.decision_note.clone(),
            last_error: n.last_error.clone(),
            attempts: n.attempts,
            expected_hours: n.expected_hours,
            created_at: n.created_at,
            sent_at: n.sent_at,
            delivered_at: n.delivered_at,
            acknowledged_at: n.acknowledged_at,
            decided_at: n.decided_at,
            removed_at: n.removed_at,
            due_at: n.due_at,
            escalated_at: n.escalated_at,
            reminders: n.reminders,
            contest_reason: n.contest_reason.clone(),
            appeal: n.appeal.clone(),
            appeal_at: n.appeal_at,
        }
    }
}

/// Notices, e.g. the drafts the builder proposed.
pub fn notices(v: &[NoticeView]) -> Vec<Notice> {
    v.iter().map(Notice::from).collect()
}

/// A draft's new content.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeEditReq {
    /// Why the content is illegal.
    pub explanation: String,
    /// The items show a minor sexually.
    pub sexual_images_of_minor: bool,
}

impl From<NoticeEditReq> for NoticeEdit {
    fn from(r: NoticeEditReq) -> Self {
        NoticeEdit {
            explanation: r.explanation,
            sexual_images_of_minor: r.sexual_images_of_minor,
        }
    }
}

/// The platform's acknowledgement, recorded by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeReq {
    /// The platform's ticket number.
    pub ticket: Option<String>,
}

/// The platform's decision, recorded by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionReq {
    /// What the platform decided.
    #[schema(value_type = DecisionKindCode)]
    pub decision: String,
    /// Its ticket number.
    pub ticket: Option<String>,
    /// The ground or redress information it gave.
    pub note: Option<String>,
}

impl DecisionReq {
    /// To the use-case input.
    pub fn into_input(self) -> Result<DecisionInput, AppError> {
        Ok(DecisionInput {
            decision: DecisionKind::parse(&self.decision)
                .map_err(|_| AppError::field("decision", "unknown value"))?,
            ticket: self.ticket,
            note: self.note,
        })
    }
}

/// The answer to a platform's callback.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackAck {
    /// True when the decision was recorded now; false when it already was (a retried
    /// callback).
    pub recorded: bool,
}

/// The item a Coop action names.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoopCallbackItem {
    /// The reported item's id (Rempart's item id, as sent in the report).
    pub id: String,
    /// Its item type id.
    pub type_id: Option<String>,
    /// Its item type's name.
    pub type_name: Option<String>,
}

/// The action taken.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoopCallbackAction {
    /// The platform's action id (mapped to a decision in the directory).
    pub id: String,
}

/// A policy the action applied.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoopCallbackPolicy {
    /// Id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// `NONE`, `LOW`, `MEDIUM`, `HIGH` or `SEVERE`.
    pub penalty: Option<String>,
}

/// A ROOST Coop action callback (signed: header `Coop-Signature`, the base64 of an
/// RSASSA-PKCS1-v1_5 SHA-256 signature over the raw body, by the platform's key).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoopCallback {
    /// The item acted on.
    pub item: CoopCallbackItem,
    /// The action.
    pub action: CoopCallbackAction,
    /// The policies applied.
    pub policies: Vec<CoopCallbackPolicy>,
    /// Rules that matched.
    pub rules: Option<Vec<serde_json::Value>>,
    /// Platform-specific fields.
    pub custom: Option<serde_json::Value>,
    /// The moderator's address (read, never stored).
    pub actor_email: Option<String>,
    /// The moderator's note (read, never stored).
    pub actor_note: Option<String>,
    /// Who created the item.
    pub creator: Option<serde_json::Value>,
}

/// Who appealed (the content's author on the platform).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoopAppealedBy {
    /// Id.
    pub id: String,
    /// Item type id.
    pub type_id: String,
}

/// A ROOST Coop appeal decision callback (signed like the action callbacks).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoopAppealCallback {
    /// The platform's appeal id.
    pub appeal_id: String,
    /// The reported item the appeal is about.
    pub item: CoopCallbackItem,
    /// Who appealed (read, never stored).
    pub appealed_by: CoopAppealedBy,
    /// `ACCEPT` (the platform reversed its action) or `REJECT`.
    #[schema(pattern = "^(ACCEPT|REJECT)$")]
    pub appeal_decision: String,
    /// Platform-specific fields.
    pub custom: Option<serde_json::Value>,
}
