//! Chat: conversations and messages as staff see them, and as the widget does.

use super::{
    AgeBandCode, CallerTypeCode, ChannelCode, ConversationStatusCode, RiskCode, SenderCode,
};
use rempart_app::records::{ChatLoad, ConversationRecord, MessageRecord};
use serde::Serialize;
use utoipa::ToSchema;

/// A conversation for staff (never the visitor's token nor the person key).
#[derive(Debug, Serialize, ToSchema)]
pub struct Conversation {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Channel.
    pub channel: ChannelCode,
    /// Where it stands.
    pub status: ConversationStatusCode,
    /// Queue priority (higher first).
    pub priority: i64,
    /// Risks signalled so far.
    pub risks: Vec<RiskCode>,
    /// Pre-chat answer.
    #[schema(required)]
    pub caller_type: Option<CallerTypeCode>,
    /// Pre-chat answer.
    #[schema(required)]
    pub age_band: Option<AgeBandCode>,
    /// Language.
    pub lang: String,
    /// The counsellor handling it (staff id).
    #[schema(required, format = "uuid")]
    pub assigned_to: Option<String>,
    /// The case it opened or joined.
    #[schema(required, format = "uuid")]
    pub case_id: Option<String>,
    /// Start (ms since the epoch).
    pub created_at: i64,
    /// In the queue since (ms).
    pub waiting_since: i64,
    /// Last message (ms).
    pub last_activity_at: i64,
    /// End (ms).
    #[schema(required)]
    pub ended_at: Option<i64>,
    /// Left while the line was closed.
    pub left_message: bool,
}

impl From<&ConversationRecord> for Conversation {
    fn from(c: &ConversationRecord) -> Self {
        Conversation {
            id: c.id.to_string(),
            channel: c.channel.into(),
            status: c.status.into(),
            priority: c.priority,
            risks: c.risks.iter().map(|r| (*r).into()).collect(),
            caller_type: c.caller_type.map(Into::into),
            age_band: c.age_band.map(Into::into),
            lang: c.lang.clone(),
            assigned_to: c.assigned_to.map(|a| a.to_string()),
            case_id: c.case_id.map(|x| x.to_string()),
            created_at: c.created_at,
            waiting_since: c.waiting_since,
            last_activity_at: c.last_activity_at,
            ended_at: c.ended_at,
            left_message: c.left_message,
        }
    }
}

/// A message for staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    /// Position in the conversation, from 1.
    pub seq: i64,
    /// Who wrote it.
    pub from: SenderCode,
    /// The counsellor who wrote it (staff id).
    #[schema(required, format = "uuid")]
    pub author_id: Option<String>,
    /// The sender's id for it (idempotency key).
    pub client_id: String,
    /// Text.
    pub body: String,
    /// Committed at (ms since the epoch).
    pub at: i64,
}

impl From<&MessageRecord> for Message {
    fn from(m: &MessageRecord) -> Self {
        Message {
            seq: m.seq,
            from: m.sender.into(),
            author_id: m.author_id.map(|a| a.to_string()),
            client_id: m.client_id.clone(),
            body: m.body.clone(),
            at: m.created_at,
        }
    }
}

/// A counsellor's chat availability and load.
#[derive(Debug, Serialize, ToSchema)]
pub struct Load {
    /// The counsellor (staff id).
    #[schema(format = "uuid")]
    pub staff_id: String,
    /// Display name.
    pub name: String,
    /// Taking chats now.
    pub available: bool,
    /// Conversations at once.
    pub capacity: i64,
    /// Conversations handled now.
    pub active: i64,
}

impl From<&ChatLoad> for Load {
    fn from(l: &ChatLoad) -> Self {
        Load {
            staff_id: l.staff_id.to_string(),
            name: l.name.clone(),
            available: l.available,
            capacity: l.capacity,
            active: l.active,
        }
    }
}

/// The chat desk: the queue, the messages left while closed and one's own conversations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatOverview {
    /// Whether the line is open now.
    pub open: bool,
    /// Counsellors' availability and load.
    pub loads: Vec<Load>,
    /// Waiting, most urgent first.
    pub queue: Vec<Conversation>,
    /// Messages left while closed, not in the queue yet.
    pub left_messages: Vec<Conversation>,
    /// The account's own conversations.
    pub mine: Vec<Conversation>,
}

/// A conversation's transcript for staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transcript {
    /// The conversation.
    pub conversation: Conversation,
    /// Its messages after `after`, in order.
    pub messages: Vec<Message>,
}

/// A message as the widget sees it (no counsellor identity).
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetMessage {
    /// Position in the conversation, from 1.
    pub seq: i64,
    /// Who wrote it.
    pub from: SenderCode,
    /// The sender's id for it.
    pub client_id: String,
    /// Text.
    pub body: String,
    /// Committed at (ms since the epoch).
    pub at: i64,
}

impl From<&MessageRecord> for WidgetMessage {
    fn from(m: &MessageRecord) -> Self {
        WidgetMessage {
            seq: m.seq,
            from: m.sender.into(),
            client_id: m.client_id.clone(),
            body: m.body.clone(),
            at: m.created_at,
        }
    }
}

/// The visitor's conversation: where it stands, its place in the queue, the expected wait.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetConversation {
    /// Where it stands.
    pub status: ConversationStatusCode,
    /// Place in the queue (1 = next), while waiting.
    #[schema(required)]
    pub position: Option<i64>,
    /// A plain estimate of the wait (s), while waiting.
    #[schema(required)]
    pub expected_wait_s: Option<i64>,
}

/// One day's opening hours (Europe/Paris).
#[derive(Debug, Serialize, ToSchema)]
pub struct OpeningDay {
    /// Day of the week, 0 = Monday.
    pub day: u32,
    /// Opening time (`HH:MM`); null when closed that day.
    #[schema(required)]
    pub open: Option<String>,
    /// Closing time (`HH:MM`); null when closed that day.
    #[schema(required)]
    pub close: Option<String>,
}

/// An emergency number shown to the young person.
#[derive(Debug, Serialize, ToSchema)]
pub struct Emergency {
    /// The number as dialled.
    pub number: String,
    /// What it is for, in French.
    pub fr: String,
    /// What it is for, in English.
    pub en: String,
}

/// Whether the line is open, its hours and the emergency numbers.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineStatus {
    /// Open now.
    pub open: bool,
    /// The week's hours.
    pub hours: Vec<OpeningDay>,
    /// Emergency numbers.
    pub emergency: Vec<Emergency>,
}

/// A proof-of-work challenge: find a nonce whose `SHA-256(challenge ":" nonce)` starts
/// with `bits` zero bits.
#[derive(Debug, Serialize, ToSchema)]
pub struct Challenge {
    /// The signed, expiring, single-use challenge.
    pub challenge: String,
    /// Leading zero bits asked for.
    pub bits: u32,
}

/// A new anonymous conversation: its chat token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatSession {
    /// The chat token (`Authorization: Bearer …` on the widget's calls).
    pub token: String,
    /// The conversation.
    pub conversation: WidgetConversation,
    /// For a message left while the line is closed: the code with which to read the answer
    /// later (shown this once); null otherwise.
    #[schema(required)]
    pub follow_up_code: Option<String>,
}

/// A conversation opened again with its follow-up code.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpSession {
    /// A new chat token for it.
    pub token: String,
    /// The conversation.
    pub conversation: WidgetConversation,
}

/// The visitor's transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetTranscript {
    /// The conversation.
    pub conversation: WidgetConversation,
    /// Its messages after `after`, in order.
    pub messages: Vec<WidgetMessage>,
}
