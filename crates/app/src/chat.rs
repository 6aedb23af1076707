//! Live chat use-cases: an anonymous visitor starts a conversation and writes; the most
//! urgent conversation is taken first; the counsellor answers and ends it with the contact
//! summary. Every message is committed before the sender is told it was sent, and a
//! message retried with the same client id is stored once.

use crate::error::{AppError, ErrorCode};
use crate::{App, random_hex, sha256_hex};
use hmac::{Hmac, KeyInit, Mac};
use rempart_domain::chat::{ConversationStatus, Sender, priority};
use rempart_domain::ids::{CaseId, ContactId, ConversationId};
use rempart_domain::policy::{Action, Actor, Resource, Role, can};
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome, Text};
use rempart_storage::{
    AuditEntry, ContactRecord, ConversationRecord, Event, MessageRecord, NewConversation,
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

impl App {
    /// The pseudonymous key of a visitor: HMAC-SHA-256 of its token under the helpline's
    /// secret; the clear token is never stored.
    pub fn person_key(&self, kind: &str, value: &str) -> String {
        let secret = self.settings.person_key_secret.expose();
        let key: &[u8] = if secret.is_empty() {
            b"rempart-person-key-unset"
        } else {
            secret.as_bytes()
        };
        match Hmac::<sha2::Sha256>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(kind.as_bytes());
                m.update(b":");
                m.update(value.as_bytes());
                hex::encode(m.finalize().into_bytes())
            }
            Err(_) => sha256_hex(format!("{kind}:{value}").as_bytes()),
        }
    }

    /// Starts an anonymous conversation. Returns the session token (256 random bits; the
    /// widget keeps it, never in a URL) and the conversation. When the line is closed the
    /// conversation takes a message for later instead of queueing.
    pub async fn start_chat(&self, s: ChatStart) -> Result<(String, ConversationRecord), AppError> {
        if let Some(d) = &s.device
            && (d.len() != 64 || !d.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(AppError::field("device", "64 hexadecimal digits"));
        }
        let now = self.now();
        let token = random_hex(32)?;
        let open = self
            .calendar
            .is_open(chrono::DateTime::from_timestamp_millis(now).unwrap_or_default());
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
        };
        self.store
            .create_conversation(
                &c,
                &AuditEntry::new(now, None, "conversation.started", "conversation").object(c.id),
            )
            .await?;
        if open {
            self.pubsub.publish(Event::Queue).await?;
        }
        let rec = self
            .store
            .conversation(c.id)
            .await?
            .ok_or_else(|| AppError::internal("conversation vanished"))?;
        Ok((token, rec))
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
        // After the end, the young person may still read the conversation for the resume
        // window (a reload, a lost connection); after that the token opens nothing, so a
        // shared or lost device shows nothing of it.
        let window = self.settings.chat_resume_minutes * 60_000;
        if conv.ended_at.is_some_and(|end| self.now() - end > window) {
            return Err(unauth());
        }
        Ok(conv)
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
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "this conversation has ended",
                ));
            }
            Err(other) => return Err(other.into()),
        };
        if let rempart_storage::Appended::New {
            message: m,
            requeued,
        } = &appended
        {
            self.pubsub
                .publish(Event::Message {
                    conversation: id.to_string(),
                    seq: m.seq,
                })
                .await?;
            if *requeued {
                self.pubsub.publish(Event::Queue).await?;
            }
        }
        Ok(appended.message().clone())
    }

    /// A visitor's conversation and its messages after `after`.
    pub async fn visitor_messages(
        &self,
        token: &str,
        after: i64,
    ) -> Result<(ConversationRecord, Vec<MessageRecord>), AppError> {
        let conv = self.visitor_conversation(token).await?;
        // internal notes between counsellors are never shown to the young person
        let msgs = self
            .store
            .messages(conv.id, after.max(0), 500)
            .await?
            .into_iter()
            .filter(|m| m.sender != Sender::Note)
            .collect();
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

    /// The waiting queue (and messages left while closed), for those who answer chats.
    pub async fn chat_queue(
        &self,
        actor: &Actor,
    ) -> Result<(Vec<ConversationRecord>, Vec<ConversationRecord>), AppError> {
        if !can(actor, Action::ListCases, Resource::Global) {
            return Err(AppError::not_found());
        }
        Ok((self.store.queue().await?, self.store.left_messages().await?))
    }

    /// Takes the most urgent waiting conversation.
    pub async fn take_next_chat(
        &self,
        actor: &Actor,
    ) -> Result<Option<ConversationRecord>, AppError> {
        if !can(actor, Action::LogContact, Resource::Global) {
            return Err(AppError::not_found());
        }
        let load = self.store.chat_loads(Some(actor.id)).await?;
        match load.first() {
            Some(l) if !l.available => {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "you are not available for chats: set yourself available first",
                ));
            }
            Some(l) if l.active >= l.capacity => {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "you are at your chat capacity",
                ));
            }
            Some(_) => {}
            None => return Err(AppError::not_found()),
        }
        let taken = self
            .store
            .take_next(actor.id, actor.role, self.now())
            .await?;
        if let Some(c) = &taken {
            self.pubsub.publish(Event::Queue).await?;
            self.pubsub
                .publish(Event::Conversation {
                    conversation: c.id.to_string(),
                })
                .await?;
        }
        Ok(taken)
    }

    /// A conversation the actor may see: the counsellor it is assigned to; supervisors
    /// (monitoring) read any. Others get `not_found`.
    async fn chat_for(
        &self,
        actor: &Actor,
        id: ConversationId,
        write: bool,
    ) -> Result<ConversationRecord, AppError> {
        let conv = self
            .store
            .conversation(id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let answers = can(actor, Action::LogContact, Resource::Global);
        let mine = answers && conv.assigned_to == Some(actor.id);
        let ok = if write {
            mine || (conv.status == ConversationStatus::LeftMessage
                && can(actor, Action::LogContact, Resource::Global))
        } else {
            mine || actor.role == Role::Supervisor
        };
        if !ok {
            self.store
                .audit(
                    &AuditEntry::new(
                        self.now(),
                        Some(actor.id),
                        "conversation.access_denied",
                        "conversation",
                    )
                    .object(id),
                )
                .await?;
            return Err(AppError::not_found());
        }
        Ok(conv)
    }

    /// The transcript after `after`. The read is audited, except the pushes of a live view
    /// whose opening was audited (`audit_read` false); access is checked every time.
    pub async fn counsellor_messages(
        &self,
        actor: &Actor,
        id: ConversationId,
        after: i64,
        audit_read: bool,
    ) -> Result<(ConversationRecord, Vec<MessageRecord>), AppError> {
        let conv = self.chat_for(actor, id, false).await?;
        let msgs = self.store.messages(id, after.max(0), 500).await?;
        if !audit_read {
            return Ok((conv, msgs));
        }
        self.store
            .audit(
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    "conversation.read",
                    "conversation",
                )
                .object(id)
                .detail(format!("after={after}")),
            )
            .await?;
        Ok((conv, msgs))
    }

    /// A counsellor's reply.
    pub async fn counsellor_send(
        &self,
        actor: &Actor,
        id: ConversationId,
        client_id: &str,
        text: &str,
    ) -> Result<MessageRecord, AppError> {
        check_client_id(client_id)?;
        let text = body(text)?;
        let conv = self.chat_for(actor, id, true).await?;
        let appended = self
            .store
            .append_message(
                conv.id,
                Sender::Counsellor,
                Some(actor.id),
                client_id,
                &text,
                self.now(),
                &[],
            )
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => {
                    AppError::new(ErrorCode::Conflict, "this conversation has ended")
                }
                other => other.into(),
            })?;
        if let rempart_storage::Appended::New { message: m, .. } = &appended {
            self.pubsub
                .publish(Event::Message {
                    conversation: conv.id.to_string(),
                    seq: m.seq,
                })
                .await?;
        }
        Ok(appended.message().clone())
    }

    /// Ends a conversation with its contact summary (a contact of the pseudonymous person).
    pub async fn end_chat(
        &self,
        actor: &Actor,
        id: ConversationId,
        s: ChatSummary,
    ) -> Result<ContactRecord, AppError> {
        let conv = self.chat_for(actor, id, true).await?;
        if let Some(c) = s.case_id {
            let case = self
                .store
                .case_by_id(c)
                .await?
                .ok_or_else(|| AppError::field("case_id", "no such case"))?;
            if !can(actor, Action::UpdateCase, Resource::Case(&case.access())) {
                return Err(AppError::field("case_id", "no such case"));
            }
        }
        let now = self.now();
        let summary = Text::parse(&s.summary, 4000)
            .map_err(|e| AppError::field("summary", &e.to_string()))?;
        for c in &s.categories {
            if !self.taxonomy.contains(c) {
                return Err(AppError::field("categories", "unknown category"));
            }
        }
        if s.open_case && s.case_id.is_some() {
            return Err(AppError::field(
                "open_case",
                "either open a case or join one",
            ));
        }
        let new_case = if s.open_case {
            let title: String = summary.as_str().chars().take(80).collect();
            Some(self.new_case(
                actor,
                crate::cases::CaseInput {
                    title,
                    categories: s.categories.clone(),
                    age_band: s.age_band,
                    preferred_channel: Some(conv.channel),
                    consents: vec![],
                    articles: vec![],
                    team: None,
                },
            )?)
        } else {
            None
        };
        let case_id = new_case.as_ref().map(|c| c.id).or(s.case_id);
        let contact = ContactRecord {
            id: ContactId::new(),
            case_id,
            channel: conv.channel,
            caller_type: s.caller_type,
            age_band: s.age_band,
            categories: s.categories,
            summary: summary.into_string(),
            outcome: s.outcome,
            person_key: Some(conv.person_key.clone()),
            started_at: conv.created_at,
            duration_s: Some((now - conv.created_at).max(0) / 1000),
            created_by: actor.id,
            created_at: now,
        };
        let mut audit =
            AuditEntry::new(now, Some(actor.id), "conversation.ended", "conversation").object(id);
        if let Some(c) = case_id {
            audit = audit.case(c);
        }
        if new_case.is_some() {
            audit = audit.detail("case_opened");
        }
        self.store
            .end_conversation(id, &contact, new_case.as_ref(), &audit)
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => {
                    AppError::new(ErrorCode::Conflict, "this conversation has ended")
                }
                other => other.into(),
            })?;
        self.pubsub
            .publish(Event::Conversation {
                conversation: id.to_string(),
            })
            .await?;
        Ok(contact)
    }

    /// Earlier contacts of the same person as this conversation (for the counsellor).
    pub async fn person_history(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<Vec<ContactRecord>, AppError> {
        let conv = self.chat_for(actor, id, false).await?;
        Ok(self.store.contacts_for_person(&conv.person_key).await?)
    }
}

impl App {
    /// Sets the actor's own availability for chats and capacity (1–10 at once).
    pub async fn set_chat_availability(
        &self,
        actor: &Actor,
        available: bool,
        capacity: i64,
    ) -> Result<rempart_storage::ChatLoad, AppError> {
        if !can(actor, Action::LogContact, Resource::Global) {
            return Err(AppError::not_found());
        }
        if !(1..=10).contains(&capacity) {
            return Err(AppError::field("capacity", "between 1 and 10"));
        }
        self.store
            .set_chat_availability(
                actor.id,
                available,
                capacity,
                &AuditEntry::new(self.now(), Some(actor.id), "chat.availability", "staff")
                    .object(actor.id)
                    .detail(format!("available={available} capacity={capacity}")),
            )
            .await?;
        self.pubsub.publish(Event::Queue).await?;
        self.store
            .chat_loads(Some(actor.id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(AppError::not_found)
    }

    /// Who handles how many chats, and who is available: the actor's own line, or every
    /// counsellor's for supervisors.
    pub async fn chat_loads(
        &self,
        actor: &Actor,
    ) -> Result<Vec<rempart_storage::ChatLoad>, AppError> {
        if actor.role == Role::Supervisor {
            let workers: Vec<_> = self
                .case_workers()
                .await?
                .into_iter()
                .map(|s| s.id)
                .collect();
            Ok(self
                .store
                .chat_loads(None)
                .await?
                .into_iter()
                .filter(|l| workers.contains(&l.staff_id))
                .collect())
        } else if can(actor, Action::LogContact, Resource::Global) {
            Ok(self.store.chat_loads(Some(actor.id)).await?)
        } else {
            Err(AppError::not_found())
        }
    }
}

/// Where a conversation is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTarget {
    /// A colleague, at once.
    Staff(rempart_domain::ids::StaffId),
    /// The first available person with this role (e.g. a lawyer), from the queue.
    Role(Role),
}

impl App {
    /// Hands the actor's conversation to a colleague or a role, with an internal note the
    /// young person never sees. The actor loses access at once (its live view closes).
    pub async fn transfer_chat(
        &self,
        actor: &Actor,
        id: ConversationId,
        to: TransferTarget,
        note: Option<&str>,
    ) -> Result<(), AppError> {
        let conv = self.chat_for(actor, id, true).await?;
        if conv.status != ConversationStatus::Active || conv.assigned_to != Some(actor.id) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "only the counsellor in an active conversation can hand it over",
            ));
        }
        let handover = match to {
            TransferTarget::Staff(s) => {
                let target = self
                    .store
                    .staff_by_id(s)
                    .await?
                    .ok_or_else(|| AppError::field("to_staff", "unknown account"))?;
                if target.disabled || !target.role.works_cases() || target.id == actor.id {
                    return Err(AppError::field(
                        "to_staff",
                        "this account cannot take the conversation",
                    ));
                }
                rempart_storage::Handover::Staff(s)
            }
            TransferTarget::Role(r) => {
                if !r.works_cases() {
                    return Err(AppError::field(
                        "to_role",
                        "this role does not answer chats",
                    ));
                }
                rempart_storage::Handover::Role(r)
            }
        };
        let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(n) => Some(body(n)?),
        };
        let client_id = crate::random_hex(8)?;
        let detail = match to {
            TransferTarget::Staff(s) => format!("to_staff={s}"),
            TransferTarget::Role(r) => format!("to_role={}", r.as_str()),
        };
        self.store
            .hand_over(
                id,
                actor.id,
                handover,
                note.as_deref().map(|n| (client_id.as_str(), n)),
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    "conversation.transferred",
                    "conversation",
                )
                .object(id)
                .detail(detail),
            )
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => {
                    AppError::new(ErrorCode::Conflict, "the conversation changed meanwhile")
                }
                other => other.into(),
            })?;
        self.pubsub
            .publish(Event::Conversation {
                conversation: id.to_string(),
            })
            .await?;
        self.pubsub.publish(Event::Queue).await?;
        Ok(())
    }
}
