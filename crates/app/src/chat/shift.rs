//! A counsellor's shift: how many wait (for the menu of every page, kept on each node),
//! why "take next" gave nothing, the queue alerts each counsellor chooses, and what the
//! supervisors watch (the conversations being handled, the long waits, the messages left).

use super::*;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The queue as this node last counted it.
#[derive(Debug, Default)]
pub(crate) struct QueueGauge {
    waiting: AtomicI64,
    counted: AtomicI64,
}

/// Why "take next" gave no conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NothingTaken {
    /// The actor is not available for chats.
    NotAvailable,
    /// The actor already handles as many as its capacity.
    AtCapacity,
    /// Nobody waits.
    Empty,
    /// Conversations wait, each reserved for another role (these).
    Reserved(Vec<Role>),
}

/// What the supervisors watch.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The conversations being handled now, each with who handles it.
    pub active: Vec<(ConversationRecord, String)>,
    /// Every message left while the line was closed and not answered yet.
    pub left: Vec<ConversationRecord>,
}

impl App {
    /// Counts the queue on this node at start, after each change of the queue (from any
    /// node) and every 5 seconds (the wait of each conversation grows on its own).
    pub(crate) fn watch_queue(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut events = app.pubsub.subscribe();
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                if let Ok(q) = app.store.queue(app.is_open_now()).await {
                    app.queue_gauge
                        .waiting
                        .store(q.len() as i64, Ordering::Relaxed);
                    app.queue_gauge.counted.store(1, Ordering::Relaxed);
                }
                loop {
                    tokio::select! {
                        e = events.recv() => match e {
                            Ok(Event::Queue) | Ok(Event::Resync)
                            | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                            Ok(_) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                        },
                        _ = tick.tick() => break,
                    }
                }
            }
        });
    }

    /// How many conversations wait, for the menu of those who answer chats (None for the
    /// others, and before the first count).
    pub fn waiting_now(&self, actor: &Actor) -> Option<i64> {
        if !can(actor, Action::AnswerChats, Resource::Global)
            || self.queue_gauge.counted.load(Ordering::Relaxed) == 0
        {
            return None;
        }
        Some(self.queue_gauge.waiting.load(Ordering::Relaxed))
    }

    /// Supervisors are alerted past this wait (ms).
    pub fn wait_alert_ms(&self) -> i64 {
        self.settings.helpline.wait_alert_minutes * 60_000
    }

    /// Why "take next" would give the actor nothing now.
    pub async fn nothing_to_take(&self, actor: &Actor) -> Result<NothingTaken, AppError> {
        if !can(actor, Action::AnswerChats, Resource::Global) {
            return Err(AppError::not_found());
        }
        let load = self.store.chat_loads(Some(actor.id)).await?;
        match load.first() {
            Some(l) if !l.available => return Ok(NothingTaken::NotAvailable),
            Some(l) if l.active >= l.capacity => return Ok(NothingTaken::AtCapacity),
            Some(_) => {}
            None => return Err(AppError::not_found()),
        }
        let q = self.store.queue(self.is_open_now()).await?;
        let mut others: Vec<Role> = q
            .iter()
            .filter_map(|c| c.required_role)
            .filter(|r| *r != actor.role)
            .collect();
        others.sort_by_key(|r| r.as_str());
        others.dedup();
        let free = q
            .iter()
            .any(|c| c.required_role.is_none_or(|r| r == actor.role));
        Ok(if q.is_empty() || free || others.is_empty() {
            NothingTaken::Empty
        } else {
            NothingTaken::Reserved(others)
        })
    }

    /// Turns the actor's queue alerts (a sound and the tab's title) on or off.
    pub async fn set_chat_alerts(&self, actor: &Actor, on: bool) -> Result<(), AppError> {
        if !can(actor, Action::AnswerChats, Resource::Global) {
            return Err(AppError::not_found());
        }
        self.store
            .set_chat_alerts(
                actor.id,
                on,
                &AuditEntry::new(self.now(), Some(actor.id), AuditEvent::ChatAlerts { on })
                    .object(actor.id),
            )
            .await?;
        Ok(())
    }

    /// Whether the actor turned its queue alerts on.
    pub async fn chat_alerts(&self, actor: &Actor) -> Result<bool, AppError> {
        if !can(actor, Action::AnswerChats, Resource::Global) {
            return Err(AppError::not_found());
        }
        Ok(self
            .store
            .chat_loads(Some(actor.id))
            .await?
            .first()
            .is_some_and(|l| l.alerts))
    }

    /// The conversations being handled and the messages left, for the supervisors.
    pub async fn chat_watch(&self, actor: &Actor) -> Result<Watch, AppError> {
        if !can(actor, Action::MonitorChats, Resource::Global) {
            return Err(AppError::not_found());
        }
        let names: std::collections::HashMap<_, _> = self
            .store
            .chat_loads(None)
            .await?
            .into_iter()
            .map(|l| (l.staff_id, l.name))
            .collect();
        let active = self
            .store
            .all_active_conversations()
            .await?
            .into_iter()
            .map(|c| {
                let who = c
                    .assigned_to
                    .and_then(|s| names.get(&s).cloned())
                    .unwrap_or_default();
                (c, who)
            })
            .collect();
        Ok(Watch {
            active,
            left: self.store.left_messages().await?,
        })
    }

    /// The reference of a case the actor may read (None otherwise), to say which case a
    /// conversation just opened or joined.
    pub async fn case_reference(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> Result<Option<String>, AppError> {
        Ok(self
            .store
            .case_by_id(id)
            .await?
            .filter(|c| can(actor, Action::ReadCase, Resource::Case(&c.access())))
            .map(|c| c.reference))
    }
}
