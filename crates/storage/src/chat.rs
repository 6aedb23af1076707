//! Conversations and their messages: idempotent appends (a retried message with the same
//! client id is stored once), the waiting queue, and taking the most urgent conversation.

use crate::audit::AuditEntry;
use crate::messages::{MSG_COLS, message};
use crate::records::{ContactRecord, decode_list};
use crate::{Result, StorageError, Store};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::chat::{ConversationStatus, RiskKind, Sender};
use rempart_domain::ids::{CaseId, ConversationId, StaffId};
use rempart_domain::policy::Role;
use rempart_domain::values::{AgeBand, CallerType, Channel};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A new conversation.
#[derive(Debug, Clone)]
pub struct NewConversation {
    /// Id.
    pub id: ConversationId,
    /// SHA-256 of the visitor's session token.
    pub token_hash: String,
    /// Pseudonymous person key.
    pub person_key: String,
    /// Channel.
    pub channel: Channel,
    /// `Waiting`, or `LeftMessage` when the line is closed.
    pub status: ConversationStatus,
    /// Pre-chat answers.
    pub caller_type: Option<CallerType>,
    /// Pre-chat answers.
    pub age_band: Option<AgeBand>,
    /// Queue priority.
    pub priority: i64,
    /// Language of the widget.
    pub lang: String,
    /// Start (ms).
    pub at: i64,
    /// Keyed hash of the follow-up code given with a message left while closed.
    pub follow_up_hash: Option<String>,
}

/// A conversation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRecord {
    /// Id.
    pub id: ConversationId,
    /// Pseudonymous person key.
    pub person_key: String,
    /// Channel.
    pub channel: Channel,
    /// Status.
    pub status: ConversationStatus,
    /// Queue priority.
    pub priority: i64,
    /// Risks signalled so far.
    pub risks: Vec<RiskKind>,
    /// Pre-chat answer.
    pub caller_type: Option<CallerType>,
    /// Pre-chat answer.
    pub age_band: Option<AgeBand>,
    /// Language.
    pub lang: String,
    /// The counsellor handling it.
    pub assigned_to: Option<StaffId>,
    /// The case it opened or joined.
    pub case_id: Option<CaseId>,
    /// Start (ms).
    pub created_at: i64,
    /// In the queue since (ms).
    pub waiting_since: i64,
    /// Last message (ms).
    pub last_activity_at: i64,
    /// End (ms).
    pub ended_at: Option<i64>,
    /// When handed over to a role: only that role may take it.
    pub required_role: Option<Role>,
    /// Left while the line was closed (answered later).
    pub left_message: bool,
    /// When the young person last opened it with their follow-up code (ms).
    pub follow_up_issued_at: Option<i64>,
}

impl ConversationRecord {
    /// What the access policy needs to know of it.
    pub fn access(&self) -> rempart_domain::policy::ConversationAccess {
        rempart_domain::policy::ConversationAccess {
            assigned_to: self.assigned_to,
            status: self.status,
            required_role: self.required_role,
        }
    }
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Position in the conversation, from 1.
    pub seq: i64,
    /// Who wrote it.
    pub sender: Sender,
    /// The counsellor who wrote it.
    pub author_id: Option<StaffId>,
    /// The sender's id for it (idempotency).
    pub client_id: String,
    /// Text.
    pub body: String,
    /// Committed at (ms).
    pub created_at: i64,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now.
    New {
        /// The message.
        message: MessageRecord,
        /// Its risk signals raised the priority of a conversation waiting in the queue:
        /// the queue's order changed.
        requeued: bool,
    },
    /// Already stored under this client id: nothing written.
    Duplicate(MessageRecord),
}

impl Appended {
    /// The stored message.
    pub fn message(&self) -> &MessageRecord {
        match self {
            Appended::New { message: m, .. } | Appended::Duplicate(m) => m,
        }
    }
}

const CONV_COLS: &str = "id, person_key, channel, status, priority, risks, caller_type, age_band, lang, assigned_to, \
     case_id, created_at, waiting_since, last_activity_at, ended_at, required_role, left_message, follow_up_issued_at";

fn bad(what: &'static str) -> impl Fn(rempart_domain::labelled::UnknownCode) -> StorageError {
    move |_| StorageError::Corrupt(what)
}

fn conversation(r: &AnyRow) -> Result<ConversationRecord> {
    let id: String = r.try_get("id")?;
    let channel: String = r.try_get("channel")?;
    let status: String = r.try_get("status")?;
    let risks: String = r.try_get("risks")?;
    let caller: Option<String> = r.try_get("caller_type")?;
    let age: Option<String> = r.try_get("age_band")?;
    let assigned: Option<String> = r.try_get("assigned_to")?;
    let case: Option<String> = r.try_get("case_id")?;
    Ok(ConversationRecord {
        id: ConversationId::parse(&id).map_err(|_| StorageError::Corrupt("conversations.id"))?,
        person_key: r.try_get("person_key")?,
        channel: Channel::parse(&channel).map_err(bad("conversations.channel"))?,
        status: ConversationStatus::parse(&status).map_err(bad("conversations.status"))?,
        priority: r.try_get("priority")?,
        risks: decode_list(&risks)
            .iter()
            .map(|k| RiskKind::parse(k))
            .collect::<std::result::Result<_, _>>()
            .map_err(bad("conversations.risks"))?,
        caller_type: caller
            .map(|c| CallerType::parse(&c))
            .transpose()
            .map_err(bad("conversations.caller_type"))?,
        age_band: age
            .map(|a| AgeBand::parse(&a))
            .transpose()
            .map_err(bad("conversations.age_band"))?,
        lang: r.try_get("lang")?,
        assigned_to: assigned
            .map(|a| StaffId::parse(&a))
            .transpose()
            .map_err(|_| StorageError::Corrupt("conversations.assigned_to"))?,
        case_id: case
            .map(|c| CaseId::parse(&c))
            .transpose()
            .map_err(|_| StorageError::Corrupt("conversations.case_id"))?,
        created_at: r.try_get("created_at")?,
        waiting_since: r.try_get("waiting_since")?,
        last_activity_at: r.try_get("last_activity_at")?,
        ended_at: r.try_get("ended_at")?,
        required_role: r
            .try_get::<Option<String>, _>("required_role")?
            .map(|x| Role::parse(&x))
            .transpose()
            .map_err(bad("conversations.required_role"))?,
        left_message: r.try_get::<i64, _>("left_message")? != 0,
        follow_up_issued_at: r.try_get("follow_up_issued_at")?,
    })
}

impl Store {
    /// Starts a conversation.
    pub async fn create_conversation(&self, c: &NewConversation, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO conversations (id, token_hash, person_key, channel, status, priority, risks, caller_type, age_band, \
             lang, assigned_to, case_id, next_seq, created_at, waiting_since, last_activity_at, ended_at, left_message, follow_up_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $9, NULL, NULL, 1, $10, $10, $10, NULL, $11, $12)",
        )
        .bind(c.id.to_string())
        .bind(c.token_hash.clone())
        .bind(c.person_key.clone())
        .bind(c.channel.as_str())
        .bind(c.status.as_str())
        .bind(c.priority)
        .bind(c.caller_type.map(|x| x.as_str()))
        .bind(c.age_band.map(|x| x.as_str()))
        .bind(c.lang.clone())
        .bind(c.at)
        .bind(i64::from(c.status == ConversationStatus::LeftMessage))
        .bind(c.follow_up_hash.clone())
        .execute(w.conn())
        .await
        .map_err(crate::conflict_on_unique)?;
        w.commit(audit).await?;
        Ok(())
    }

    /// The conversation of a visitor's session token (by its hash): the widget's own, or
    /// one opened later with the follow-up code.
    pub async fn conversation_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<ConversationRecord>> {
        Ok(self
            .conversations_where(
                "(token_hash = $1 OR follow_up_token_hash = $1)",
                Some(token_hash.to_owned()),
                "",
            )
            .await?
            .pop())
    }

    /// Opens the conversation of a follow-up code (by its keyed hash) with a new token
    /// (by its hash), audited; None when no conversation has this code.
    pub async fn follow_up(
        &self,
        code_hash: &str,
        token_hash: &str,
        at: i64,
    ) -> Result<Option<ConversationRecord>> {
        let mut w = self.begin_write().await?;
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE conversations SET follow_up_token_hash = $1, follow_up_issued_at = $2 \
             WHERE follow_up_hash = $3 RETURNING id",
        )
        .bind(token_hash.to_owned())
        .bind(at)
        .bind(code_hash.to_owned())
        .fetch_optional(w.conn())
        .await?;
        let Some(id) = id else {
            w.abandon().await;
            return Ok(None);
        };
        let cid =
            ConversationId::parse(&id).map_err(|_| StorageError::Corrupt("conversations.id"))?;
        w.commit(&AuditEntry::new(at, None, AuditEvent::ConversationFollowedUp).object(cid))
            .await?;
        self.conversation(cid).await
    }

    /// A conversation by id.
    pub async fn conversation(&self, id: ConversationId) -> Result<Option<ConversationRecord>> {
        Ok(self
            .conversations_where("id = $1", Some(id.to_string()), "")
            .await?
            .pop())
    }

    /// Conversations matching a fixed condition (with at most one bound value `$1`).
    async fn conversations_where(
        &self,
        cond: &'static str,
        value: Option<String>,
        tail: &'static str,
    ) -> Result<Vec<ConversationRecord>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CONV_COLS} FROM conversations WHERE {cond} {tail}"
        )));
        if let Some(v) = value {
            q = q.bind(v);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(conversation).collect()
    }

    /// Appends a message once per (sender, client id), committed before this returns
    /// (together with the other appends waiting at the same moment: one flush for all).
    /// `found` are risk signals seen in this message: they join the conversation's and
    /// raise its priority. A closed conversation refuses new messages (`Conflict`).
    #[allow(clippy::too_many_arguments)]
    pub async fn append_message(
        &self,
        id: ConversationId,
        sender: Sender,
        author: Option<StaffId>,
        client_id: &str,
        body: &str,
        at: i64,
        found: &[RiskKind],
    ) -> Result<Appended> {
        self.appender
            .append(crate::appender::Pending {
                conversation: id,
                sender,
                author,
                client_id: client_id.to_owned(),
                body: body.to_owned(),
                at,
                found: found.to_vec(),
            })
            .await
    }

    /// Messages after `after_seq`, oldest first (at most `limit`).
    pub async fn messages(
        &self,
        id: ConversationId,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MSG_COLS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        )))
        .bind(id.to_string())
        .bind(after_seq)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message).collect()
    }

    /// The waiting queue: highest priority first, then longest wait. While the line is
    /// open (`with_left`), the messages left while it was closed are in it too, with their
    /// risk and the time they were left.
    pub async fn queue(&self, with_left: bool) -> Result<Vec<ConversationRecord>> {
        let cond = if with_left {
            "status IN ('waiting', 'left_message')"
        } else {
            "status = 'waiting'"
        };
        self.conversations_where(
            cond,
            None,
            "ORDER BY priority DESC, waiting_since ASC, id ASC LIMIT 500",
        )
        .await
    }

    /// Gives the most urgent waiting conversation (with the messages left while closed
    /// when `with_left`) to `staff`, or None when the queue is empty. Safe when several
    /// counsellors (on several nodes) take at once: each conversation goes to exactly one.
    pub async fn take_next(
        &self,
        staff: StaffId,
        role: Role,
        at: i64,
        with_left: bool,
    ) -> Result<Option<ConversationRecord>> {
        let sql = if with_left {
            "SELECT id FROM conversations WHERE status IN ('waiting', 'left_message') AND (required_role IS NULL OR required_role = $1) \
             ORDER BY priority DESC, waiting_since ASC, id ASC LIMIT 1"
        } else {
            "SELECT id FROM conversations WHERE status = 'waiting' AND (required_role IS NULL OR required_role = $1) \
             ORDER BY priority DESC, waiting_since ASC, id ASC LIMIT 1"
        };
        for _ in 0..8 {
            let mut w = self.begin_write().await?;
            let next: Option<String> = sqlx::query_scalar(sql)
                .bind(role.as_str())
                .fetch_optional(w.conn())
                .await?;
            let Some(next) = next else {
                w.abandon().await;
                return Ok(None);
            };
            let n = sqlx::query(
                "UPDATE conversations SET status = 'active', assigned_to = $1, last_activity_at = $2, required_role = NULL \
                 WHERE id = $3 AND status IN ('waiting', 'left_message')",
            )
            .bind(staff.to_string())
            .bind(at)
            .bind(next.clone())
            .execute(w.conn())
            .await?
            .rows_affected();
            if n == 1 {
                let cid = ConversationId::parse(&next)
                    .map_err(|_| StorageError::Corrupt("conversations.id"))?;
                w.commit(
                    &AuditEntry::new(at, Some(staff), AuditEvent::ConversationTaken).object(cid),
                )
                .await?;
                return self.conversation(cid).await;
            }
            // Someone else took it between our read and our write: try the next one.
            w.abandon().await;
        }
        Err(StorageError::Conflict)
    }

    /// Gives this message left while closed to `staff` (`Conflict` when someone took it
    /// first, or it is not a left message waiting for `role`).
    pub async fn take_left_message(
        &self,
        id: ConversationId,
        staff: StaffId,
        role: Role,
        at: i64,
    ) -> Result<ConversationRecord> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE conversations SET status = 'active', assigned_to = $1, last_activity_at = $2, required_role = NULL \
             WHERE id = $3 AND status = 'left_message' AND (required_role IS NULL OR required_role = $4)",
        )
        .bind(staff.to_string())
        .bind(at)
        .bind(id.to_string())
        .bind(role.as_str())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        w.commit(&AuditEntry::new(at, Some(staff), AuditEvent::ConversationTaken).object(id))
            .await?;
        self.conversation(id).await?.ok_or(StorageError::NotFound)
    }

    /// Ends a conversation and stores its contact summary (and the case it opens, if any)
    /// in the same transaction.
    pub async fn end_conversation(
        &self,
        id: ConversationId,
        contact: &ContactRecord,
        new_case: Option<&crate::NewCase>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE conversations SET status = 'ended', ended_at = $1, case_id = $2 WHERE id = $3 AND status IN ('waiting', 'active', 'left_message', 'left')",
        )
        .bind(audit.at)
        .bind(contact.case_id.map(|c| c.to_string()))
        .bind(id.to_string())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        if let Some(c) = new_case {
            crate::cases::insert_case(w.conn(), c, &contact.summary).await?;
        }
        crate::cases::insert_contact(w.conn(), contact).await?;
        w.commit(audit).await?;
        Ok(())
    }

    /// The young person left this conversation by quick exit: out of the queue (or of its
    /// counsellor's hands: no more replies), with a system line in its transcript, in one
    /// transaction with its audit event. Its tokens open nothing any more (their hashes are
    /// kept prefixed with `left:`, so that a retried leave is still recognised: see
    /// [`Store::conversation_by_token`] with that prefix). `Ok(None)` when it was no longer open (left
    /// already, or ended): nothing is written. Else the line's sequence number.
    pub async fn leave_conversation(
        &self,
        id: ConversationId,
        line: &str,
        client_id: &str,
        audit: &AuditEntry,
    ) -> Result<Option<i64>> {
        let mut w = self.begin_write().await?;
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE conversations SET status = 'left', required_role = NULL, next_seq = next_seq + 1, last_activity_at = $1, \
             token_hash = 'left:' || token_hash, follow_up_token_hash = 'left:' || follow_up_token_hash \
             WHERE id = $2 AND status IN ('waiting', 'active', 'left_message') RETURNING next_seq",
        )
        .bind(audit.at)
        .bind(id.to_string())
        .fetch_optional(w.conn())
        .await?;
        let Some(next) = seq else {
            w.abandon().await;
            return Ok(None);
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO messages ({MSG_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(id.to_string())
        .bind(next - 1)
        .bind(Sender::System.as_str())
        .bind(None::<String>)
        .bind(client_id.to_owned())
        .bind(line.to_owned())
        .bind(audit.at)
        .execute(w.conn())
        .await
        .map_err(crate::conflict_on_unique)?;
        w.commit(audit).await?;
        Ok(Some(next - 1))
    }

    /// Earlier conversations of the same person, newest first.
    pub async fn conversations_for_person(
        &self,
        person_key: &str,
    ) -> Result<Vec<ConversationRecord>> {
        self.conversations_where(
            "person_key = $1",
            Some(person_key.to_owned()),
            "ORDER BY created_at DESC LIMIT 100",
        )
        .await
    }
}

impl Store {
    /// Messages left while the line was closed, oldest first.
    pub async fn left_messages(&self) -> Result<Vec<ConversationRecord>> {
        self.conversations_where(
            "status = 'left_message'",
            None,
            "ORDER BY waiting_since ASC, id ASC LIMIT 500",
        )
        .await
    }

    /// Conversations a counsellor is handling now, with those the young person left by
    /// quick exit that the counsellor has still to end (their contact to write).
    pub async fn active_conversations(&self, staff: StaffId) -> Result<Vec<ConversationRecord>> {
        self.conversations_where(
            "assigned_to = $1 AND status IN ('active', 'left')",
            Some(staff.to_string()),
            "ORDER BY last_activity_at DESC LIMIT 100",
        )
        .await
    }

    /// Every conversation being handled now, the longest first (at most 500).
    pub async fn all_active_conversations(&self) -> Result<Vec<ConversationRecord>> {
        self.conversations_where(
            "status = 'active'",
            None,
            "ORDER BY created_at, id LIMIT 500",
        )
        .await
    }
}

/// A counsellor's chat availability and load, for "take next" and the supervisors' view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLoad {
    /// The counsellor.
    pub staff_id: StaffId,
    /// Display name.
    pub name: String,
    /// Taking chats now.
    pub available: bool,
    /// Conversations at once.
    pub capacity: i64,
    /// Conversations being handled now.
    pub active: i64,
    /// A sound and a tab-title change when a conversation arrives or becomes urgent.
    pub alerts: bool,
}

impl Store {
    /// Sets a counsellor's availability and capacity.
    pub async fn set_chat_availability(
        &self,
        staff: StaffId,
        available: bool,
        capacity: i64,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n =
            sqlx::query("UPDATE staff SET chat_available = $1, chat_capacity = $2 WHERE id = $3")
                .bind(i64::from(available))
                .bind(capacity)
                .bind(staff.to_string())
                .execute(w.conn())
                .await?
                .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        w.commit(audit).await?;
        Ok(())
    }

    /// Turns a counsellor's queue alerts (sound, tab title) on or off.
    pub async fn set_chat_alerts(
        &self,
        staff: StaffId,
        on: bool,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query("UPDATE staff SET chat_alerts = $1 WHERE id = $2")
            .bind(i64::from(on))
            .bind(staff.to_string())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        w.commit(audit).await?;
        Ok(())
    }

    /// Availability and load of every enabled account (one, or all when `staff` is None).
    pub async fn chat_loads(&self, staff: Option<StaffId>) -> Result<Vec<ChatLoad>> {
        let mut q = crate::sql::Query::new(
            "SELECT s.id, s.display_name, s.chat_available, s.chat_capacity, \
             (SELECT COUNT(*) FROM conversations c WHERE c.assigned_to = s.id AND c.status = 'active'), s.chat_alerts \
             FROM staff s WHERE s.disabled = 0",
        );
        if let Some(s) = staff {
            q.push(" AND s.id = ").bind_text(s.to_string());
        }
        q.push(" ORDER BY s.display_name");
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                Ok(ChatLoad {
                    staff_id: StaffId::parse(&id).map_err(|_| StorageError::Corrupt("staff.id"))?,
                    name: r.try_get(1)?,
                    available: r.try_get::<i64, _>(2)? != 0,
                    capacity: r.try_get(3)?,
                    active: r.try_get(4)?,
                    alerts: r.try_get::<i64, _>(5)? != 0,
                })
            })
            .collect()
    }
}

/// Where a conversation is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// To this counsellor, at once.
    Staff(StaffId),
    /// Back to the queue, for the first available person with this role.
    Role(Role),
}

impl Store {
    /// Hands an active conversation from `from` over to someone else, with an internal note
    /// (a message the visitor never sees), in one transaction; `Conflict` when `from` no
    /// longer holds it.
    pub async fn hand_over(
        &self,
        id: ConversationId,
        from: StaffId,
        to: Handover,
        note: Option<(&str, &str)>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = match to {
            Handover::Staff(s) => sqlx::query(
                "UPDATE conversations SET assigned_to = $1, next_seq = next_seq + $2, last_activity_at = $3 \
                 WHERE id = $4 AND status = 'active' AND assigned_to = $5",
            )
            .bind(s.to_string())
            .bind(i64::from(note.is_some()))
            .bind(audit.at)
            .bind(id.to_string())
            .bind(from.to_string())
            .execute(w.conn())
            .await?
            .rows_affected(),
            Handover::Role(r) => sqlx::query(
                "UPDATE conversations SET status = 'waiting', assigned_to = NULL, required_role = $1, next_seq = next_seq + $2, \
                 last_activity_at = $3 WHERE id = $4 AND status = 'active' AND assigned_to = $5",
            )
            .bind(r.as_str())
            .bind(i64::from(note.is_some()))
            .bind(audit.at)
            .bind(id.to_string())
            .bind(from.to_string())
            .execute(w.conn())
            .await?
            .rows_affected(),
        };
        if n == 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        if let Some((client_id, body)) = note {
            let seq: i64 = sqlx::query_scalar("SELECT next_seq FROM conversations WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(w.conn())
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO messages ({MSG_COLS}, search_body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            )))
            .bind(id.to_string())
            .bind(seq - 1)
            .bind(Sender::Note.as_str())
            .bind(from.to_string())
            .bind(client_id.to_owned())
            .bind(body.to_owned())
            .bind(audit.at)
            .bind(rempart_domain::text::fold_for_search(body))
            .execute(w.conn())
            .await
            .map_err(crate::conflict_on_unique)?;
        }
        w.commit(audit).await?;
        Ok(())
    }
}

impl Store {
    /// A waiting conversation's place in the queue (1 = next), counted in the database
    /// with the queue's own order, however long the queue (with the messages left while
    /// closed when `with_left`).
    pub async fn queue_position(&self, c: &ConversationRecord, with_left: bool) -> Result<i64> {
        let sql = if with_left {
            "SELECT COUNT(*) FROM conversations WHERE status IN ('waiting', 'left_message') AND (priority > $1 OR (priority = $1 AND \
             (waiting_since < $2 OR (waiting_since = $2 AND id < $3))))"
        } else {
            "SELECT COUNT(*) FROM conversations WHERE status = 'waiting' AND (priority > $1 OR (priority = $1 AND \
             (waiting_since < $2 OR (waiting_since = $2 AND id < $3))))"
        };
        let ahead: i64 = sqlx::query_scalar(sql)
            .bind(c.priority)
            .bind(c.waiting_since)
            .bind(c.id.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(ahead + 1)
    }
}

impl Store {
    /// Messages whose text holds `words` (folded as `fold_for_search` folds), newest first,
    /// at most `limit`, with their conversations; only conversations assigned to
    /// `assigned_to` when given (the caller's policy decides what it may read).
    pub async fn search_messages(
        &self,
        words: &str,
        assigned_to: Option<StaffId>,
        limit: i64,
    ) -> Result<Vec<(MessageRecord, ConversationRecord)>> {
        let cols = crate::messages::MSG_COLS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = crate::sql::Query::new(format!(
            "SELECT {cols} FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.search_body LIKE "
        ));
        q.bind_text(format!(
            "%{}%",
            crate::sql::like_escape(&rempart_domain::text::fold_for_search(words))
        ));
        q.push(" ESCAPE '\\'");
        if let Some(a) = assigned_to {
            q.push(" AND c.assigned_to = ").bind_text(a.to_string());
        }
        q.push(&format!(
            " ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC LIMIT {}",
            limit.clamp(1, 500)
        ));
        let rows = q.fetch_all(self.pool()).await?;
        let mut convs: std::collections::HashMap<ConversationId, ConversationRecord> =
            std::collections::HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let m = crate::messages::message(r)?;
            let c = match convs.get(&m.conversation_id) {
                Some(c) => c.clone(),
                None => {
                    let Some(c) = self.conversation(m.conversation_id).await? else {
                        continue;
                    };
                    convs.insert(m.conversation_id, c.clone());
                    c
                }
            };
            out.push((m, c));
        }
        Ok(out)
    }
}
