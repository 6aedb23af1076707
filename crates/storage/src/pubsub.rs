//! The pub/sub seam for live events (a new message, the queue changed). One node: an
//! in-process broadcast. Several nodes on one PostgreSQL database: `NOTIFY` on publish and
//! a `LISTEN`ing connection per node feeding the same local broadcast, so a subscriber
//! never needs to know where the event came from.
//!
//! Events carry ids and sequence numbers only, never message text: a subscriber reads
//! what it needs from the database, which stays the one source of truth.

use crate::{Backend, Result, Store};
use std::fmt;
use tokio::sync::broadcast;

const CHANNEL: &str = "rempart_events";

/// A live event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A message was committed in a conversation.
    Message {
        /// Conversation id.
        conversation: String,
        /// Its sequence number.
        seq: i64,
    },
    /// A conversation changed state (taken, ended, transferred).
    Conversation {
        /// Conversation id.
        conversation: String,
    },
    /// Someone is typing in a conversation (`visitor` or `counsellor`).
    Typing {
        /// Conversation id.
        conversation: String,
        /// Who.
        who: String,
    },
    /// The waiting queue changed.
    Queue,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Message { conversation, seq } => write!(f, "m|{conversation}|{seq}"),
            Event::Conversation { conversation } => write!(f, "c|{conversation}"),
            Event::Typing { conversation, who } => write!(f, "t|{conversation}|{who}"),
            Event::Queue => f.write_str("q"),
        }
    }
}

impl Event {
    /// Parses the wire form written by `Display`.
    pub fn parse(s: &str) -> Option<Event> {
        let mut p = s.split('|');
        match (p.next()?, p.next(), p.next(), p.next()) {
            ("m", Some(c), Some(seq), None) => Some(Event::Message {
                conversation: c.to_owned(),
                seq: seq.parse().ok()?,
            }),
            ("c", Some(c), None, None) => Some(Event::Conversation {
                conversation: c.to_owned(),
            }),
            ("t", Some(c), Some(w), None) => Some(Event::Typing {
                conversation: c.to_owned(),
                who: w.to_owned(),
            }),
            ("q", None, None, None) => Some(Event::Queue),
            _ => None,
        }
    }
}

/// The seam.
#[derive(Clone, Debug)]
pub struct PubSub {
    local: broadcast::Sender<Event>,
    topics: Topics,
    store: Store,
}

/// Per-conversation channels: an event about a conversation wakes only the sockets that
/// watch it, not every socket of the node.
#[derive(Clone, Debug, Default)]
struct Topics(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, broadcast::Sender<Event>>>>,
);

impl Topics {
    fn dispatch(&self, local: &broadcast::Sender<Event>, e: Event) {
        let topic = match &e {
            Event::Message { conversation, .. }
            | Event::Conversation { conversation }
            | Event::Typing { conversation, .. } => Some(conversation.clone()),
            Event::Queue => None,
        };
        match topic {
            None => {
                let _ = local.send(e);
            }
            Some(t) => {
                if let Ok(mut map) = self.0.lock()
                    && let Some(tx) = map.get(&t)
                    && tx.send(e).is_err()
                {
                    map.remove(&t); // nobody listens any more
                }
            }
        }
    }

    fn subscribe(&self, conversation: &str) -> broadcast::Receiver<Event> {
        match self.0.lock() {
            Ok(mut map) => {
                map.retain(|_, tx| tx.receiver_count() > 0);
                map.entry(conversation.to_owned())
                    .or_insert_with(|| broadcast::channel(256).0)
                    .subscribe()
            }
            // a poisoned lock: a channel nobody publishes to (the reader then relies on the
            // database when it reconnects)
            Err(_) => broadcast::channel(1).0.subscribe(),
        }
    }
}

impl PubSub {
    /// Starts the seam for this store: on PostgreSQL, a listening connection forwards
    /// every node's events to local subscribers (and reconnects if it drops).
    pub async fn start(store: Store, database_url: &str) -> Result<PubSub> {
        let (local, _) = broadcast::channel(4096);
        let topics = Topics::default();
        if store.backend() == Backend::Postgres {
            let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
            listener.listen(CHANNEL).await?;
            let tx = local.clone();
            let topics = topics.clone();
            tokio::spawn(async move {
                loop {
                    match listener.recv().await {
                        Ok(n) => {
                            if let Some(e) = Event::parse(n.payload()) {
                                topics.dispatch(&tx, e);
                            }
                        }
                        Err(e) => {
                            // PgListener reconnects by itself on the next recv; events sent
                            // while it was away are recovered by readers from the database.
                            tracing::warn!(error = %e, "pub/sub listener interrupted");
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                    }
                }
            });
        }
        Ok(PubSub {
            local,
            topics,
            store,
        })
    }

    /// Publishes an event to every subscriber on every node.
    pub async fn publish(&self, e: Event) -> Result<()> {
        match self.store.backend() {
            Backend::Sqlite => self.topics.dispatch(&self.local, e),
            Backend::Postgres => {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(e.to_string())
                    .execute(self.store.pool())
                    .await?;
            }
        }
        Ok(())
    }

    /// A subscription to node-wide events (the queue). Missed events after a lag are
    /// recovered from the database by the subscriber: events only say where to look.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }

    /// A subscription to one conversation's events (messages, state, typing).
    pub fn subscribe_conversation(&self, conversation: &str) -> broadcast::Receiver<Event> {
        self.topics.subscribe(conversation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips() {
        for e in [
            Event::Message {
                conversation: "abc".into(),
                seq: 7,
            },
            Event::Conversation {
                conversation: "abc".into(),
            },
            Event::Typing {
                conversation: "abc".into(),
                who: "visitor".into(),
            },
            Event::Queue,
        ] {
            assert_eq!(Event::parse(&e.to_string()), Some(e));
        }
        assert_eq!(Event::parse("m|x"), None);
        assert_eq!(Event::parse("m|x|notanumber"), None);
        assert_eq!(Event::parse(""), None);
    }
}
