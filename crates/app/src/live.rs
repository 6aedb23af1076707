//! Live views (the widget's and the console's sockets): subscriptions to the events of the
//! pub/sub seam. A view subscribes *before* it reads what was committed, so a message
//! committed while it starts watching is either in what it read or announced by an event
//! it will receive — never lost between the two.

use crate::App;
use crate::error::AppError;
use rempart_domain::ids::ConversationId;
use rempart_domain::policy::{Action, Actor};
use rempart_storage::{ConversationRecord, Event, MessageRecord};
use tokio::sync::broadcast::Receiver;

/// A conversation a console started watching.
#[derive(Debug)]
pub struct Watch {
    /// Its events, subscribed before the read below.
    pub events: Receiver<Event>,
    /// The conversation.
    pub conversation: ConversationRecord,
    /// Its messages after the view's last one.
    pub messages: Vec<MessageRecord>,
}

/// Who is typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typist {
    /// The young person.
    Visitor,
    /// The counsellor.
    Counsellor,
}

impl Typist {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Typist::Visitor => "visitor",
            Typist::Counsellor => "counsellor",
        }
    }
}

impl App {
    /// Node-wide events (the queue, staff changes, catch-up after a lost connection).
    pub fn subscribe_events(&self) -> Receiver<Event> {
        self.pubsub.subscribe()
    }

    /// One conversation's events (messages, state, typing).
    pub fn subscribe_conversation(&self, id: ConversationId) -> Receiver<Event> {
        self.pubsub.subscribe_conversation(&id.to_string())
    }

    /// A console starts watching a conversation it may read: subscribed first, then the
    /// messages after `after` are read, and the opening of the view is audited.
    pub async fn watch_conversation(
        &self,
        actor: &Actor,
        id: ConversationId,
        after: i64,
    ) -> Result<Watch, AppError> {
        self.chat_for(actor, id, Action::ReadConversation).await?;
        let events = self.subscribe_conversation(id);
        let (conversation, messages) = self.counsellor_messages(actor, id, after, false).await?;
        self.audit_conversation_read(actor, id, after).await?;
        Ok(Watch {
            events,
            conversation,
            messages,
        })
    }

    /// Says someone is typing in a conversation (the callers limit how often).
    pub async fn typing(&self, id: ConversationId, who: Typist) -> Result<(), AppError> {
        self.pubsub
            .publish(Event::Typing {
                conversation: id.to_string(),
                who: who.as_str().into(),
            })
            .await?;
        Ok(())
    }

    /// The visitor's live view opens: the token's conversation (its events are subscribed
    /// by the caller first).
    pub async fn visitor_watch(&self, token: &str) -> Result<ConversationRecord, AppError> {
        self.visitor_conversation(token).await
    }
}
