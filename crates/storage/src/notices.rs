//! Notices to platforms: drafted from a case's items, changed only from the state the
//! caller read (a concurrent change is a `Conflict`, never a lost update), and sent with
//! their delivery job in the same transaction (the transactional outbox); a worker ends the
//! job and records what the platform's channel said in one transaction too.

use crate::audit::AuditEntry;
use crate::jobs::{ClaimedJob, JobEnd, NewJob};
use crate::sql::Query;
use crate::{Result, StorageError, Store};
use rempart_domain::directory::NoticeChannel;
use rempart_domain::ids::{CaseId, ItemId, NoticeId, StaffId};
use rempart_domain::notice::{DecisionKind, NoticeState};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Id.
    pub id: NoticeId,
    /// Reference (in subjects, reply addresses and the platform's tools).
    pub reference: String,
    /// Its case.
    pub case_id: CaseId,
    /// The platform's code.
    pub platform: String,
    /// The category code.
    pub category: String,
    /// Its language.
    pub lang: String,
    /// Where it stands.
    pub state: NoticeState,
    /// Why the content is illegal.
    pub explanation: String,
    /// Flagged as sexual images of a minor.
    pub sexual_images_of_minor: bool,
    /// A second counsellor must validate it before it is sent.
    pub needs_validation: bool,
    /// Who marked it ready.
    pub prepared_by: Option<StaffId>,
    /// Who validated it.
    pub validated_by: Option<StaffId>,
    /// The platform's channel in use (its index in the directory).
    pub channel_index: u32,
    /// The kind of that channel, once sent.
    pub channel: Option<NoticeChannel>,
    /// The exact bytes that left (or will leave).
    pub payload: Option<String>,
    /// The platform's ticket or report id.
    pub ticket: Option<String>,
    /// The platform's decision.
    pub decision: Option<DecisionKind>,
    /// Where the decision came from (`coop`, `partner`, `manual`).
    pub decision_source: Option<String>,
    /// The ground or note given with the decision.
    pub decision_note: Option<String>,
    /// The last delivery failure's reason code.
    pub last_error: Option<String>,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The expected decision delay (hours).
    pub expected_hours: u32,
    /// Who drafted it.
    pub created_by: StaffId,
    /// Drafted (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Sent (ms).
    pub sent_at: Option<i64>,
    /// Taken by the platform's channel (ms).
    pub delivered_at: Option<i64>,
    /// Acknowledged by the platform (ms).
    pub acknowledged_at: Option<i64>,
    /// Decided (ms).
    pub decided_at: Option<i64>,
    /// Removed (ms).
    pub removed_at: Option<i64>,
    /// When the expected delay runs out (ms).
    pub due_at: Option<i64>,
    /// Escalated (ms).
    pub escalated_at: Option<i64>,
    /// Reminders sent to the platform.
    pub reminders: u32,
    /// Why the helpline contests the platform's refusal.
    pub contest_reason: Option<String>,
    /// The platform's decision on an appeal against its action (`accepted`: reversed).
    pub appeal: Option<String>,
    /// When it came (ms).
    pub appeal_at: Option<i64>,
    /// Its items, in order.
    pub items: Vec<ItemId>,
}

/// A draft to write.
#[derive(Debug, Clone)]
pub struct NewNotice {
    /// Id.
    pub id: NoticeId,
    /// Reference.
    pub reference: String,
    /// Case.
    pub case_id: CaseId,
    /// Platform code.
    pub platform: String,
    /// Category code.
    pub category: String,
    /// Language.
    pub lang: String,
    /// Explanation.
    pub explanation: String,
    /// Flagged as sexual images of a minor.
    pub sexual_images_of_minor: bool,
    /// Needs a second counsellor.
    pub needs_validation: bool,
    /// Expected delay (hours).
    pub expected_hours: u32,
    /// Items, in order.
    pub items: Vec<ItemId>,
    /// Who drafts it.
    pub created_by: StaffId,
    /// When (ms).
    pub at: i64,
}

/// A change of a notice, applied only if it still is in `from`.
#[derive(Debug, Clone, Default)]
pub struct NoticeChange {
    /// The state the caller read (None: any).
    pub from: Option<NoticeState>,
    /// The new state (None: unchanged).
    pub to: Option<NoticeState>,
    /// When (ms).
    pub at: i64,
    /// New explanation.
    pub explanation: Option<String>,
    /// New flag.
    pub sexual_images_of_minor: Option<bool>,
    /// New four-eyes requirement.
    pub needs_validation: Option<bool>,
    /// Who marked it ready (`Some(None)` clears it).
    pub prepared_by: Option<Option<StaffId>>,
    /// Who validated it (`Some(None)` clears it).
    pub validated_by: Option<Option<StaffId>>,
    /// Channel in use.
    pub channel_index: Option<u32>,
    /// Channel kind.
    pub channel: Option<NoticeChannel>,
    /// Exact bytes.
    pub payload: Option<String>,
    /// Ticket.
    pub ticket: Option<String>,
    /// Decision.
    pub decision: Option<DecisionKind>,
    /// Decision source.
    pub decision_source: Option<String>,
    /// Decision note.
    pub decision_note: Option<String>,
    /// Failure reason (`Some(None)` clears it).
    pub last_error: Option<Option<String>>,
    /// Attempts.
    pub attempts: Option<u32>,
    /// Sent at.
    pub sent_at: Option<i64>,
    /// Delivered at.
    pub delivered_at: Option<i64>,
    /// Acknowledged at.
    pub acknowledged_at: Option<i64>,
    /// Decided at.
    pub decided_at: Option<i64>,
    /// Removed at.
    pub removed_at: Option<i64>,
    /// Due at.
    pub due_at: Option<i64>,
    /// Escalated at.
    pub escalated_at: Option<i64>,
    /// Reminders sent.
    pub reminders: Option<u32>,
    /// Why a refusal is contested.
    pub contest_reason: Option<String>,
    /// An appeal's outcome.
    pub appeal: Option<String>,
    /// When it came.
    pub appeal_at: Option<i64>,
}

pub(crate) const COLUMNS: &str = "id, reference, case_id, platform, category, lang, state, explanation, \
    sexual_images_of_minor, needs_validation, prepared_by, validated_by, channel_index, channel, \
    payload, ticket, decision, decision_source, decision_note, last_error, attempts, expected_hours, \
    created_by, created_at, updated_at, sent_at, delivered_at, acknowledged_at, decided_at, \
    removed_at, due_at, escalated_at, reminders, contest_reason, appeal, appeal_at";

fn corrupt(col: &'static str) -> impl Fn(rempart_domain::notice::UnknownValue) -> StorageError {
    move |_| StorageError::Corrupt(col)
}

fn staff_opt(r: &AnyRow, col: &'static str) -> Result<Option<StaffId>> {
    let v: Option<String> = r.try_get(col)?;
    v.map(|s| StaffId::parse(&s).map_err(|_| StorageError::Corrupt(col)))
        .transpose()
}

fn u32_of(r: &AnyRow, col: &'static str) -> Result<u32> {
    u32::try_from(r.try_get::<i64, _>(col)?).map_err(|_| StorageError::Corrupt(col))
}

fn read(r: &AnyRow, items: Vec<ItemId>) -> Result<NoticeRecord> {
    let id: String = r.try_get("id")?;
    let case: String = r.try_get("case_id")?;
    let by: String = r.try_get("created_by")?;
    let state: String = r.try_get("state")?;
    let channel: Option<String> = r.try_get("channel")?;
    let decision: Option<String> = r.try_get("decision")?;
    Ok(NoticeRecord {
        id: NoticeId::parse(&id).map_err(|_| StorageError::Corrupt("notices.id"))?,
        reference: r.try_get("reference")?,
        case_id: CaseId::parse(&case).map_err(|_| StorageError::Corrupt("notices.case_id"))?,
        platform: r.try_get("platform")?,
        category: r.try_get("category")?,
        lang: r.try_get("lang")?,
        state: NoticeState::parse(&state).map_err(corrupt("notices.state"))?,
        explanation: r.try_get("explanation")?,
        sexual_images_of_minor: r.try_get::<i64, _>("sexual_images_of_minor")? != 0,
        needs_validation: r.try_get::<i64, _>("needs_validation")? != 0,
        prepared_by: staff_opt(r, "prepared_by")?,
        validated_by: staff_opt(r, "validated_by")?,
        channel_index: u32_of(r, "channel_index")?,
        channel: channel
            .map(|c| NoticeChannel::parse(&c).map_err(corrupt("notices.channel")))
            .transpose()?,
        payload: r.try_get("payload")?,
        ticket: r.try_get("ticket")?,
        decision: decision
            .map(|d| DecisionKind::parse(&d).map_err(corrupt("notices.decision")))
            .transpose()?,
        decision_source: r.try_get("decision_source")?,
        decision_note: r.try_get("decision_note")?,
        last_error: r.try_get("last_error")?,
        attempts: u32_of(r, "attempts")?,
        expected_hours: u32_of(r, "expected_hours")?,
        created_by: StaffId::parse(&by).map_err(|_| StorageError::Corrupt("notices.created_by"))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        sent_at: r.try_get("sent_at")?,
        delivered_at: r.try_get("delivered_at")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
        decided_at: r.try_get("decided_at")?,
        removed_at: r.try_get("removed_at")?,
        due_at: r.try_get("due_at")?,
        escalated_at: r.try_get("escalated_at")?,
        reminders: u32_of(r, "reminders")?,
        contest_reason: r.try_get("contest_reason")?,
        appeal: r.try_get("appeal")?,
        appeal_at: r.try_get("appeal_at")?,
        items,
    })
}

/// Applies `c` to notice `id` in the caller's transaction; `Conflict` when it is no longer
/// in the state the caller read, `NotFound` when there is no such notice.
async fn apply(conn: &mut sqlx::AnyConnection, id: NoticeId, c: &NoticeChange) -> Result<()> {
    let mut q = Query::new("UPDATE notices SET updated_at = ");
    q.bind_int(c.at);
    let text = |q: &mut Query, col: &str, v: Option<String>| {
        q.push(&format!(", {col} = "));
        match v {
            Some(s) => q.bind_text(s),
            None => q.push("NULL"),
        };
    };
    if let Some(s) = c.to {
        text(&mut q, "state", Some(s.as_str().to_owned()));
    }
    if let Some(e) = &c.explanation {
        text(&mut q, "explanation", Some(e.clone()));
    }
    if let Some(p) = c.prepared_by {
        text(&mut q, "prepared_by", p.map(|s| s.to_string()));
    }
    if let Some(v) = c.validated_by {
        text(&mut q, "validated_by", v.map(|s| s.to_string()));
    }
    if let Some(ch) = c.channel {
        text(&mut q, "channel", Some(ch.as_str().to_owned()));
    }
    for (col, v) in [
        ("payload", &c.payload),
        ("ticket", &c.ticket),
        ("decision_source", &c.decision_source),
        ("decision_note", &c.decision_note),
        ("contest_reason", &c.contest_reason),
        ("appeal", &c.appeal),
    ] {
        if let Some(v) = v {
            text(&mut q, col, Some(v.clone()));
        }
    }
    if let Some(d) = c.decision {
        text(&mut q, "decision", Some(d.as_str().to_owned()));
    }
    if let Some(e) = &c.last_error {
        text(&mut q, "last_error", e.clone());
    }
    let flag = |b: bool| i64::from(b);
    for (col, v) in [
        ("sexual_images_of_minor", c.sexual_images_of_minor.map(flag)),
        ("needs_validation", c.needs_validation.map(flag)),
        ("channel_index", c.channel_index.map(i64::from)),
        ("attempts", c.attempts.map(i64::from)),
        ("sent_at", c.sent_at),
        ("delivered_at", c.delivered_at),
        ("acknowledged_at", c.acknowledged_at),
        ("decided_at", c.decided_at),
        ("removed_at", c.removed_at),
        ("due_at", c.due_at),
        ("escalated_at", c.escalated_at),
        ("reminders", c.reminders.map(i64::from)),
        ("appeal_at", c.appeal_at),
    ] {
        if let Some(v) = v {
            q.push(&format!(", {col} = "));
            q.bind_int(v);
        }
    }
    q.push(" WHERE id = ");
    q.bind_text(id.to_string());
    if let Some(from) = c.from {
        q.push(" AND state = ");
        q.bind_text(from.as_str().to_owned());
    }
    if q.execute(conn).await? == 1 {
        return Ok(());
    }
    let exists = sqlx::query("SELECT 1 FROM notices WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    Err(if exists {
        StorageError::Conflict
    } else {
        StorageError::NotFound
    })
}

impl Store {
    /// Writes drafts (one transaction, one audit event for them all).
    pub async fn create_notices(&self, notices: &[NewNotice], audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        for n in notices {
            sqlx::query(
                "INSERT INTO notices (id, reference, case_id, platform, category, lang, state, explanation, \
                 sexual_images_of_minor, needs_validation, channel_index, attempts, expected_hours, \
                 created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $9, 0, 0, $10, $11, $12, $12)",
            )
            .bind(n.id.to_string())
            .bind(&n.reference)
            .bind(n.case_id.to_string())
            .bind(&n.platform)
            .bind(&n.category)
            .bind(&n.lang)
            .bind(&n.explanation)
            .bind(i64::from(n.sexual_images_of_minor))
            .bind(i64::from(n.needs_validation))
            .bind(i64::from(n.expected_hours))
            .bind(n.created_by.to_string())
            .bind(n.at)
            .execute(w.conn())
            .await
            .map_err(crate::conflict_on_unique)?;
            for (pos, item) in n.items.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO notice_items (notice_id, item_id, position) VALUES ($1, $2, $3)",
                )
                .bind(n.id.to_string())
                .bind(item.to_string())
                .bind(i64::try_from(pos).unwrap_or(i64::MAX))
                .execute(w.conn())
                .await?;
            }
        }
        w.commit(audit).await
    }

    async fn items_of(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<ItemId>>> {
        let mut out: std::collections::HashMap<String, Vec<ItemId>> = Default::default();
        for chunk in ids.chunks(200) {
            let mut q =
                Query::new("SELECT notice_id, item_id FROM notice_items WHERE notice_id IN (");
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind_text(id.clone());
            }
            q.push(") ORDER BY notice_id, position");
            for r in q.fetch_all(self.pool()).await? {
                let n: String = r.try_get(0)?;
                let i: String = r.try_get(1)?;
                out.entry(n).or_default().push(
                    ItemId::parse(&i).map_err(|_| StorageError::Corrupt("notice_items.item_id"))?,
                );
            }
        }
        Ok(out)
    }

    pub(crate) async fn with_items(&self, rows: Vec<AnyRow>) -> Result<Vec<NoticeRecord>> {
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut items = self.items_of(&ids).await?;
        rows.iter()
            .zip(ids)
            .map(|(r, id)| read(r, items.remove(&id).unwrap_or_default()))
            .collect()
    }

    /// One notice.
    pub async fn notice(&self, id: NoticeId) -> Result<Option<NoticeRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notices WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok(self.with_items(vec![r]).await?.pop()),
            None => Ok(None),
        }
    }

    /// A case's notices, oldest first.
    pub async fn notices_of_case(&self, case: CaseId) -> Result<Vec<NoticeRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notices WHERE case_id = $1 ORDER BY created_at, id"
        )))
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        self.with_items(rows).await
    }

    /// Changes a notice (guarded by the state the caller read), with its audit event and,
    /// when it asks for one, its job — all in one transaction.
    pub async fn change_notice(
        &self,
        id: NoticeId,
        change: &NoticeChange,
        job: Option<&NewJob>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        if let Err(e) = apply(w.conn(), id, change).await {
            return w.refuse(e).await;
        }
        if let Some(j) = job {
            crate::jobs::enqueue(w.conn(), j, change.at).await?;
        }
        w.commit(audit).await
    }

    /// Ends a delivery job and records its result on the notice in one transaction;
    /// `false` (nothing written) when the job's lease is no longer this worker's. A
    /// follow-up job (the next channel, a reminder) may be asked for in the same step.
    pub async fn end_notice_job(
        &self,
        job: &ClaimedJob,
        how: &JobEnd,
        id: NoticeId,
        change: &NoticeChange,
        next: Option<&NewJob>,
        audit: Option<&AuditEntry>,
    ) -> Result<bool> {
        let mut w = self.begin_write().await?;
        if !crate::jobs::end(w.conn(), job, how, change.at).await? {
            w.abandon().await;
            return Ok(false);
        }
        if let Err(e) = apply(w.conn(), id, change).await {
            return w.refuse(e).await;
        }
        if let Some(j) = next {
            crate::jobs::enqueue(w.conn(), j, change.at).await?;
        }
        match audit {
            Some(a) => w.commit(a).await?,
            None => w.commit_unaudited().await?,
        }
        Ok(true)
    }

    /// The items of a case already in one of its notices: the builder proposes notices
    /// for the others only.
    pub async fn noticed_items(&self, case: CaseId) -> Result<Vec<ItemId>> {
        let rows = sqlx::query(
            "SELECT ni.item_id FROM notice_items ni JOIN notices n ON n.id = ni.notice_id \
             WHERE n.case_id = $1",
        )
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let s: String = r.try_get(0)?;
                ItemId::parse(&s).map_err(|_| StorageError::Corrupt("notice_items.item_id"))
            })
            .collect()
    }

    /// The latest notice sent to `platform` about item `item` (a platform's decision
    /// names the item it acted on).
    pub async fn notice_for_item(
        &self,
        platform: &str,
        item: &str,
    ) -> Result<Option<NoticeRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM notices n JOIN notice_items ni ON ni.notice_id = n.id \
             WHERE n.platform = $1 AND ni.item_id = $2 AND n.sent_at IS NOT NULL \
             ORDER BY n.sent_at DESC, n.id DESC LIMIT 1",
            COLUMNS
                .split(", ")
                .map(|c| format!("n.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        )))
        .bind(platform)
        .bind(item)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok(self.with_items(vec![r]).await?.pop()),
            None => Ok(None),
        }
    }

    /// How many notices a case has (for references).
    pub async fn count_notices(&self, case: CaseId) -> Result<u64> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM notices WHERE case_id = $1")
            .bind(case.to_string())
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
