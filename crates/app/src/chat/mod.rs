//! Live chat use-cases: an anonymous visitor starts a conversation and writes; the most
//! urgent conversation is taken first; the counsellor answers and ends it with the contact
//! summary. Every message is committed before the sender is told it was sent, and a
//! message retried with the same client id is stored once.
//!
//! Who may read, write or take a conversation is the access policy's decision
//! (`Resource::Conversation`): one rule for reading and writing. A message left while the
//! line is closed enters the queue when the line opens, with the priority its risk gave
//! it, and is taken, answered and ended like any conversation; the young person reads the
//! answer when they come back (within the resume window), or later with the follow-up code
//! they were given when they left it.

use crate::error::{AppError, ErrorCode};
use crate::{App, keyed_hex, random_hex, sha256_hex};
use rempart_domain::audit::event::{AuditEvent, HandoverTarget};
use rempart_domain::chat::{ConversationStatus, Sender, priority};
use rempart_domain::ids::{CaseId, ContactId, ConversationId};
use rempart_domain::policy::{Action, Actor, Resource, Role, can};
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome, Text};
use rempart_storage::{
    Appended, AuditEntry, ContactRecord, ConversationRecord, Event, MessageRecord, NewConversation,
};

/// Token hash → conversation id, for the node's recently active widget sessions.
#[derive(Clone, Default)]
pub(crate) struct TokenIds(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, ConversationId>>>,
);

impl TokenIds {
    /// Entries kept before the map is cleared (about 10 MB).
    const MAX: usize = 65_536;

    fn get(&self, hash: &str) -> Option<ConversationId> {
        self.0.lock().ok()?.get(hash).copied()
    }

    fn put(&self, hash: String, id: ConversationId) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= Self::MAX {
                m.clear();
            }
            m.insert(hash, id);
        }
    }
}

/// The longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Pre-chat answers (all optional).
#[derive(Debug, Clone, Default)]
pub struct ChatStart {
    /// Who is writing.
    pub caller_type: Option<CallerType>,
    /// Age band.
    pub age_band: Option<AgeBand>,
    /// Widget language.
    pub lang: String,
    /// The widget's device key (64 hex digits, random, kept by the widget until a quick
    /// exit): the conversations started with the same key are one pseudonymous person's.
    pub device: Option<String>,
}

/// A conversation just started.
#[derive(Debug, Clone)]
pub struct Started {
    /// The visitor's token (256 random bits; never in a URL, only its hash is kept).
    pub token: String,
    /// The conversation.
    pub conversation: ConversationRecord,
    /// For a message left while closed: the code with which the young person reads the
    /// answer later (shown once; only a keyed hash is kept).
    pub follow_up_code: Option<String>,
}

/// Where a waiting visitor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// Place in the queue (1 = next), when waiting.
    pub position: Option<i64>,
    /// A plain estimate of the wait, seconds.
    pub expected_wait_s: Option<i64>,
}

/// The contact summary that ends a conversation.
#[derive(Debug, Clone)]
pub struct ChatSummary {
    /// Caller type.
    pub caller_type: CallerType,
    /// Age band.
    pub age_band: AgeBand,
    /// Categories.
    pub categories: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Outcome.
    pub outcome: ContactOutcome,
    /// The case it joins.
    pub case_id: Option<CaseId>,
    /// Open a new case from this conversation (titled by the summary).
    pub open_case: bool,
}

/// The queue as a counsellor sees it.
#[derive(Debug, Clone)]
pub struct Queue {
    /// Waiting, most urgent first (with the messages left while closed, once open).
    pub waiting: Vec<ConversationRecord>,
    /// Messages left while closed that are not in the queue yet (the line is closed).
    pub left: Vec<ConversationRecord>,
    /// Whether the line is open now.
    pub open: bool,
}

/// A conversation as its reader sees it.
#[derive(Debug, Clone)]
pub struct ConversationView {
    /// The conversation.
    pub conversation: ConversationRecord,
    /// Its messages (internal notes included).
    pub messages: Vec<MessageRecord>,
    /// Earlier contacts of the same person that the reader may see.
    pub history: Vec<ContactRecord>,
    /// The reader may reply, hand over and end it.
    pub can_write: bool,
    /// The reader may take it (a message left while the line was closed).
    pub can_take: bool,
    /// The reader may end it with its summary (active, or left by quick exit).
    pub can_end: bool,
}

fn check_client_id(c: &str) -> Result<(), AppError> {
    if c.is_empty()
        || c.len() > 64
        || !c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(AppError::field(
            "client_id",
            "1 to 64 letters, digits, - or _",
        ));
    }
    Ok(())
}

fn body(text: &str) -> Result<String, AppError> {
    Text::parse(text, MAX_MESSAGE_CHARS)
        .map(Text::into_string)
        .map_err(|e| AppError::field("body", &e.to_string()))
}

fn ended() -> AppError {
    AppError::new(ErrorCode::Conflict, "this conversation has ended")
}

fn gone() -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        "the young person left this conversation (quick exit): a reply would reach nobody; end it with its summary",
    )
}

/// Follow-up codes: 80 random bits as 16 base32 letters and digits, shown in groups of 4.
fn new_follow_up_code() -> Result<String, AppError> {
    let mut raw = [0u8; 10];
    getrandom::fill(&mut raw).map_err(|_| AppError::internal("random"))?;
    let c = crate::totp::base32_encode(&raw);
    Ok(format!(
        "{}-{}-{}-{}",
        &c[0..4],
        &c[4..8],
        &c[8..12],
        &c[12..16]
    ))
}

/// A typed code, normalised: capitals, separators dropped (None when it cannot be one).
fn normal_follow_up(code: &str) -> Option<String> {
    let c: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (c.len() == 16 && c.bytes().all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'7'))).then_some(c)
}

impl App {
    /// The pseudonymous key of a person: HMAC-SHA-256, under the person key derived from
    /// the master secret, of `kind:value`; the clear value is never stored.
    pub fn person_key(&self, kind: &str, value: &str) -> String {
        keyed_hex(&self.keys.person, &[kind.as_bytes(), value.as_bytes()])
    }

    fn is_open_now(&self) -> bool {
        self.calendar
            .is_open(chrono::DateTime::from_timestamp_millis(self.now()).unwrap_or_default())
    }

    /// Starts an anonymous conversation. When the line is closed the conversation takes a
    /// message for later instead of queueing, and a follow-up code is given.
    pub async fn start_chat(&self, s: ChatStart) -> Result<Started, AppError> {
        if let Some(d) = &s.device
            && (d.len() != 64 || !d.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(AppError::field("device", "64 hexadecimal digits"));
        }
        let now = self.now();
        let token = random_hex(32)?;
        let open = self.is_open_now();
        let follow_up_code = if open {
            None
        } else {
            Some(new_follow_up_code()?)
        };
        let c = NewConversation {
            id: ConversationId::new(),
            token_hash: sha256_hex(token.as_bytes()),
            // the device key links this conversation to the earlier ones of the same device;
            // without it, the conversation is its own person. Only the keyed hash is kept.
            person_key: match &s.device {
                Some(d) => self.person_key("widget-device", &d.to_ascii_lowercase()),
                None => self.person_key("widget", &token),
            },
            channel: Channel::WebChat,
            status: if open {
                ConversationStatus::Waiting
            } else {
                ConversationStatus::LeftMessage
            },
            caller_type: s.caller_type,
            age_band: s.age_band,
            priority: priority(&[], s.caller_type, s.age_band),
            lang: if s.lang == "en" {
                "en".into()
            } else {
                "fr".into()
            },
            at: now,
            follow_up_hash: follow_up_code
                .as_deref()
                .and_then(normal_follow_up)
                .map(|c| self.keys.follow_up_hash(&c)),
        };
        self.store
            .create_conversation(
                &c,
                &AuditEntry::new(
                    now,
                    None,
                    AuditEvent::ConversationStarted {
                        left_message: !open,
                    },
                )
                .object(c.id),
            )
            .await?;
        self.pubsub.publish(Event::Queue).await?;
        let rec = self
            .store
            .conversation(c.id)
            .await?
            .ok_or_else(|| AppError::internal("conversation vanished"))?;
        Ok(Started {
            token,
            conversation: rec,
            follow_up_code,
        })
    }

    /// The conversation behind a visitor's token.
    pub async fn visitor_conversation(&self, token: &str) -> Result<ConversationRecord, AppError> {
        let unauth = || AppError::new(ErrorCode::Unauthenticated, "unknown or ended chat session");
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unauth());
        }
        let conv = self
            .store
            .conversation_by_token(&sha256_hex(token.as_bytes()))
            .await?
            .ok_or_else(unauth)?;
        // Left by quick exit: whoever picks the device up next finds nothing.
        if conv.status == ConversationStatus::Left {
            return Err(unauth());
        }
        // After the end, the young person may still read the conversation for the resume
        // window (a reload, a lost connection, or since they opened it with their follow-up
        // code); after that the token opens nothing, so a shared or lost device shows
        // nothing of it.
        let window = self.settings.widget.resume_minutes * 60_000;
        let since = conv
            .ended_at
            .map(|end| end.max(conv.follow_up_issued_at.unwrap_or(0)));
        if since.is_some_and(|t| self.now() - t > window) {
            return Err(unauth());
        }
        Ok(conv)
    }

    /// The young person leaves by quick exit: the conversation is marked left (out of the
    /// queue; its counsellor, if any, sees it and may only end it), with a system line in the
    /// transcript and an audit event, and the token opens nothing any more (nor reads it
    /// after its end). A second call (a retried beacon) or a call after the end changes
    /// nothing and succeeds.
    pub async fn visitor_leave(&self, token: &str) -> Result<(), AppError> {
        let unauth = || AppError::new(ErrorCode::Unauthenticated, "unknown or ended chat session");
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unauth());
        }
        let hash = sha256_hex(token.as_bytes());
        let Some(conv) = self.store.conversation_by_token(&hash).await? else {
            // left already (a retried beacon): its tokens were set aside, nothing to change
            return match self
                .store
                .conversation_by_token(&format!("left:{hash}"))
                .await?
            {
                Some(_) => Ok(()),
                None => Err(unauth()),
            };
        };
        if !conv.status.may_leave() {
            return Ok(());
        }
        let audit = AuditEntry::new(self.now(), None, AuditEvent::ConversationLeft).object(conv.id);
        let Some(seq) = self
            .store
            .leave_conversation(
                conv.id,
                rempart_domain::chat::LEFT_LINE,
                "quick-exit",
                &audit,
            )
            .await?
        else {
            return Ok(());
        };
        self.pubsub
            .publish(Event::Message {
                conversation: conv.id.to_string(),
                seq,
            })
            .await?;
        self.pubsub
            .publish(Event::Conversation {
                conversation: conv.id.to_string(),
            })
            .await?;
        self.pubsub.publish(Event::Queue).await?;
        Ok(())
    }

    /// Opens a conversation again with its follow-up code: a new token for it (the young
    /// person reads the answer; they may write again if it is still open).
    pub async fn follow_up(&self, code: &str) -> Result<(String, ConversationRecord), AppError> {
        let unknown = || AppError::new(ErrorCode::NotFound, "unknown follow-up code");
        let code = normal_follow_up(code).ok_or_else(unknown)?;
        let token = random_hex(32)?;
        let conv = self
            .store
            .follow_up(
                &self.keys.follow_up_hash(&code),
                &sha256_hex(token.as_bytes()),
                self.now(),
            )
            .await?
            .ok_or_else(unknown)?;
        Ok((token, conv))
    }

    /// Where a waiting conversation stands in the queue.
    pub async fn waiting(&self, c: &ConversationRecord) -> Result<Waiting, AppError> {
        let open = self.is_open_now();
        let counts = c.status == ConversationStatus::Waiting
            || (open && c.status == ConversationStatus::LeftMessage);
        if !counts {
            return Ok(Waiting {
                position: None,
                expected_wait_s: None,
            });
        }
        let pos = self.store.queue_position(c, open).await?;
        // A plain estimate: four minutes per conversation ahead.
        Ok(Waiting {
            position: Some(pos),
            expected_wait_s: Some((pos - 1) * 240),
        })
    }

    /// Publishes a committed message — also when a retry found it stored already: the node
    /// that stored it may have died before publishing, and the live views must have it.
    async fn published(
        &self,
        id: ConversationId,
        appended: Appended,
        text: &str,
    ) -> Result<MessageRecord, AppError> {
        let (m, requeued) = match appended {
            Appended::New { message, requeued } => (message, requeued),
            Appended::Duplicate(m) if m.body != text => {
                return Err(AppError::new(
                    ErrorCode::IdempotencyConflict,
                    "this client_id was used for another message",
                ));
            }
            Appended::Duplicate(m) => (m, false),
        };
        self.pubsub
            .publish(Event::Message {
                conversation: id.to_string(),
                seq: m.seq,
            })
            .await?;
        if requeued {
            self.pubsub.publish(Event::Queue).await?;
        }
        Ok(m)
    }

    /// A visitor's message: committed (once per client id) before this returns; risk
    /// signals raise the conversation's priority.
    pub async fn visitor_send(
        &self,
        token: &str,
        client_id: &str,
        text: &str,
    ) -> Result<MessageRecord, AppError> {
        check_client_id(client_id)?;
        let text = body(text)?;
        let hash = sha256_hex(token.as_bytes());
        // The token's conversation never changes: once known on this node, the append
        // itself checks the conversation is still open.
        let id = match self.token_ids.get(&hash) {
            Some(id) => id,
            None => {
                let conv = self.visitor_conversation(token).await?;
                self.token_ids.put(hash, conv.id);
                conv.id
            }
        };
        let found = self.risk.assess(&text);
        let appended = self
            .store
            .append_message(
                id,
                Sender::Visitor,
                None,
                client_id,
                &text,
                self.now(),
                &found,
            )
            .await;
        let appended = match appended {
            Ok(a) => a,
            Err(rempart_storage::StorageError::Conflict) => {
                // ended: a token past its resume window opens nothing (401), else 409
                self.visitor_conversation(token).await?;
                return Err(ended());
            }
            Err(other) => return Err(other.into()),
        };
        self.published(id, appended, &text).await
    }

    /// A visitor's conversation and its messages after `after`.
    pub async fn visitor_messages(
        &self,
        token: &str,
        after: i64,
    ) -> Result<(ConversationRecord, Vec<MessageRecord>), AppError> {
        let conv = self.visitor_conversation(token).await?;
        let msgs = self.visitor_transcript(conv.id, after).await?;
        Ok((conv, msgs))
    }

    /// The messages of a visitor's live view after `after`, by conversation id: the view
    /// checked the token when it opened and re-checks it at every change of state.
    /// Internal notes are never among them.
    pub async fn visitor_transcript(
        &self,
        id: ConversationId,
        after: i64,
    ) -> Result<Vec<MessageRecord>, AppError> {
        Ok(self
            .store
            .messages(id, after.max(0), 500)
            .await?
            .into_iter()
            .filter(|m| m.sender != Sender::Note)
            .collect())
    }
}

mod counsellor;
mod search;
mod shift;
pub use counsellor::TransferTarget;
pub use search::{TRANSCRIPT_HITS, TranscriptHit};
pub(crate) use shift::QueueGauge;
pub use shift::{NothingTaken, Watch};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_up_codes_read_back_however_typed() {
        let c = new_follow_up_code().unwrap();
        assert_eq!(c.len(), 19);
        let n = normal_follow_up(&c).unwrap();
        assert_eq!(normal_follow_up(&c.to_lowercase()), Some(n.clone()));
        assert_eq!(normal_follow_up(&n), Some(n));
        assert_eq!(normal_follow_up("ABCD-EFGH"), None);
        assert_eq!(
            normal_follow_up("ABCD-EFGH-IJKL-MN01"),
            None,
            "0 and 1 are not base32"
        );
    }
}
