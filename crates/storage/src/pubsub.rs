//! The pub/sub seam for live events (a new message, the queue changed). One node: an
//! in-process broadcast. Several nodes on one PostgreSQL database: `NOTIFY` on publish and
//! a `LISTEN`ing connection per node feeding the same local broadcast, so a subscriber
//! never needs to know where the event came from.
//!
//! Events carry ids and sequence numbers only, never message text: a subscriber reads
//! what it needs from the database, which stays the one source of truth.
//!
//! On PostgreSQL, publishing only queues the event: one task per node sends everything
//! queued at that moment in one `NOTIFY` (one line per event), so a busy node sends a few
//! notifications per flush instead of one per event. When a node's listening connection
//! drops, events sent meanwhile are missed; once it listens again the node tells every
//! local subscriber to catch up from the database ([`Event::Resync`]).

use crate::{Backend, Result, Store};

use std::fmt;
use tokio::sync::{broadcast, mpsc};

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
    /// A staff account's sessions or rights changed (logout, disabled, new role): its live
    /// views re-check their session at once.
    Staff {
        /// The account's id.
        id: String,
    },
    /// Local only, on the node-wide channel: events may have been missed (the listening
    /// connection dropped and is back); every subscriber catches up from the database.
    Resync,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Message { conversation, seq } => write!(f, "m|{conversation}|{seq}"),
            Event::Conversation { conversation } => write!(f, "c|{conversation}"),
            Event::Typing { conversation, who } => write!(f, "t|{conversation}|{who}"),
            Event::Queue => f.write_str("q"),
            Event::Staff { id } => write!(f, "s|{id}"),
            Event::Resync => f.write_str("r"),
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
            ("s", Some(id), None, None) => Some(Event::Staff { id: id.to_owned() }),
            _ => None,
        }
    }
}

/// The seam.
#[derive(Clone, Debug)]
pub struct PubSub {
    local: broadcast::Sender<Event>,
    topics: Topics,
    /// PostgreSQL: the queue of events for the notifying task.
    outbox: Option<mpsc::UnboundedSender<Event>>,
}

/// Events buffered per conversation topic.
const TOPIC_CAPACITY: usize = 16;

/// Largest `NOTIFY` payload we send (PostgreSQL's limit is 8,000 bytes).
const MAX_PAYLOAD: usize = 7800;

/// Packs events into as few payloads as fit, one event per line, in order.
fn pack(events: &[Event]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for e in events {
        let line = e.to_string();
        if !cur.is_empty() && cur.len() + 1 + line.len() > MAX_PAYLOAD {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(&line);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// One `NOTIFY` on the events channel.
async fn notify(store: &Store, payload: String) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Sends the queued events, as few `NOTIFY`s as they fit in. A failed send is retried
/// for a few seconds; past that the database is away, and every node's listener (which
/// loses its connection too) makes its subscribers catch up when it is back.
async fn notifier(store: Store, mut rx: mpsc::UnboundedReceiver<Event>) {
    let mut batch = Vec::with_capacity(1024);
    while rx.recv_many(&mut batch, 1024).await > 0 {
        for payload in pack(&batch) {
            let mut tries = 0;
            loop {
                match notify(&store, payload.clone()).await {
                    Ok(_) => break,
                    Err(_) if store.pool().is_closed() => return,
                    Err(e) => {
                        tries += 1;
                        if tries >= 50 {
                            tracing::warn!(error = %e, "events not sent: the database is away");
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            }
        }
        batch.clear();
    }
}

/// The node's listening connection: dispatches every node's events to local subscribers.
/// When the connection drops (it is reopened by the next receive), the node sends a marker
/// of its own through the channel until it hears it back, then tells its subscribers to
/// catch up: from that moment nothing more can be missed.
async fn listen(
    mut listener: sqlx::postgres::PgListener,
    store: Store,
    local: broadcast::Sender<Event>,
    topics: Topics,
) {
    let marker = format!("r|{}", uuid::Uuid::new_v4().simple());
    let awaiting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lost = |why: &str| {
        tracing::warn!(reason = why, "pub/sub listener interrupted");
        if !awaiting.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let (store, marker, awaiting) = (store.clone(), marker.clone(), awaiting.clone());
            tokio::spawn(async move {
                while awaiting.load(std::sync::atomic::Ordering::SeqCst)
                    && !store.pool().is_closed()
                {
                    let _ = notify(&store, marker.clone()).await;
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
            });
        }
    };
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                for line in n.payload().split('\n') {
                    if line.starts_with("r|") {
                        if line == marker
                            && awaiting.swap(false, std::sync::atomic::Ordering::SeqCst)
                        {
                            let _ = local.send(Event::Resync);
                        }
                    } else if let Some(e) = Event::parse(line) {
                        topics.dispatch(&local, e);
                    }
                }
            }
            Ok(None) => lost("connection lost"),
            Err(e) => {
                if store.pool().is_closed() {
                    return;
                }
                lost(&e.to_string());
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
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
            Event::Queue | Event::Resync | Event::Staff { .. } => None,
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
                // A few events at a time per conversation: a subscriber that falls further
                // behind is told it lagged and catches up from the database. (Each slot is
                // allocated up front, for every open conversation.)
                map.entry(conversation.to_owned())
                    .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0)
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
        let mut outbox = None;
        if store.backend() == Backend::Postgres {
            let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
            listener.listen(CHANNEL).await?;
            tokio::spawn(listen(
                listener,
                store.clone(),
                local.clone(),
                topics.clone(),
            ));
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(notifier(store.clone(), rx));
            outbox = Some(tx);
        }
        Ok(PubSub {
            local,
            topics,
            outbox,
        })
    }

    /// Publishes an event to every subscriber on every node (on PostgreSQL: queues it for
    /// the next `NOTIFY`, in order). `Resync` is never sent to other nodes.
    pub async fn publish(&self, e: Event) -> Result<()> {
        match (&self.outbox, e) {
            (_, Event::Resync) => {
                let _ = self.local.send(Event::Resync);
            }
            (None, e) => self.topics.dispatch(&self.local, e),
            (Some(outbox), e) => {
                // the notifier lives as long as the runtime; a send fails only at shutdown
                let _ = outbox.send(e);
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
            Event::Staff { id: "s1".into() },
        ] {
            assert_eq!(Event::parse(&e.to_string()), Some(e));
        }
        assert_eq!(Event::parse("m|x"), None);
        assert_eq!(Event::parse("m|x|notanumber"), None);
        assert_eq!(Event::parse(""), None);
    }

    #[test]
    fn packed_payloads_fit_and_keep_the_order() {
        let events: Vec<Event> = (0..1000)
            .map(|seq| Event::Message {
                conversation: format!("conversation-{}", seq % 7),
                seq,
            })
            .collect();
        let payloads = pack(&events);
        assert!(payloads.len() > 1, "{} payloads", payloads.len());
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: Vec<Event> = payloads
            .iter()
            .flat_map(|p| p.split('\n'))
            .map(|l| Event::parse(l).unwrap_or(Event::Queue))
            .collect();
        assert_eq!(back, events);
        assert!(pack(&[]).is_empty());
    }
}
