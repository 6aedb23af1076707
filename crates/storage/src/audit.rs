//! The append-only, hash-chained audit trail.

use crate::{Result, StorageError, Store};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::audit::{
    Anchor, AuditRecord, ChainKey, ChainProblem, ChainVerifier, chain_hash,
};
use rempart_domain::ids::{CaseId, StaffId};
use sqlx::{AnyConnection, Row};

/// An event to append: who did what to which object, never the content.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// When (ms).
    pub at: i64,
    /// Who.
    pub actor: Option<StaffId>,
    /// What, with its typed detail.
    pub event: AuditEvent,
    /// Object id.
    pub object_id: Option<String>,
    /// Case concerned.
    pub case_id: Option<CaseId>,
}

impl AuditEntry {
    /// An event by `actor` (None: the system, the command line or an anonymous visitor).
    pub fn new(at: i64, actor: Option<StaffId>, event: AuditEvent) -> Self {
        AuditEntry {
            at,
            actor,
            event,
            object_id: None,
            case_id: None,
        }
    }
    /// Names the object.
    pub fn object(mut self, id: impl ToString) -> Self {
        self.object_id = Some(id.to_string());
        self
    }
    /// Names the case.
    pub fn case(mut self, id: CaseId) -> Self {
        self.case_id = Some(id);
        self
    }
}

/// Appends `e` inside the caller's transaction. The head row is updated first, which
/// takes its row lock (PostgreSQL) or is already under the write lock (SQLite), so
/// concurrent writers on several nodes extend the chain one at a time.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    key: &ChainKey,
    e: &AuditEntry,
) -> Result<i64> {
    let row = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = row.try_get(0)?;
    let prev: String = row.try_get(1)?;
    let actor = e.actor.map(|a| a.to_string());
    let case = e.case_id.map(|c| c.to_string());
    let (action, object_type, detail) = (e.event.action(), e.event.object_type(), e.event.detail());
    let hash = chain_hash(
        key,
        &prev,
        seq,
        e.at,
        actor.as_deref(),
        action,
        object_type,
        e.object_id.as_deref(),
        case.as_deref(),
        &detail,
    );
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor_id, action, object_type, object_id, case_id, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(e.at)
    .bind(actor)
    .bind(action)
    .bind(object_type)
    .bind(e.object_id.clone())
    .bind(case)
    .bind(detail)
    .bind(prev)
    .bind(hash.clone())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(hash)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// Filters for the audit view.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events about this case.
    pub case_id: Option<CaseId>,
    /// Only events by this actor.
    pub actor: Option<StaffId>,
    /// Only events before this sequence number (paging backwards).
    pub before_seq: Option<i64>,
    /// Leave out reads (`case.read`, `audit.viewed`…): the case timeline.
    pub changes_only: bool,
    /// Only these actions (empty: any).
    pub actions: Vec<&'static str>,
    /// Page size (capped at 500).
    pub limit: i64,
}

/// The outcome of `audit verify`.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// Events checked.
    pub checked: u64,
    /// Problems found (empty when the trail is intact).
    pub problems: Vec<ChainProblem>,
}

pub(crate) fn record(r: &sqlx::any::AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        at_ms: r.try_get("at")?,
        actor_id: r.try_get("actor_id")?,
        action: r.try_get("action")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        case_id: r.try_get("case_id")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

const COLS: &str =
    "seq, at, actor_id, action, object_type, object_id, case_id, detail, prev_hash, hash";

impl Store {
    /// Appends one event in its own transaction (reads of cases, logins).
    pub async fn audit(&self, e: &AuditEntry) -> Result<()> {
        self.begin_write().await?.commit(e).await
    }

    /// A page of events, newest first.
    pub async fn audit_events(&self, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let mut q = crate::sql::Query::new(format!("SELECT {COLS} FROM audit_events WHERE 1=1"));
        if let Some(c) = f.case_id {
            q.push(" AND case_id = ").bind_text(c.to_string());
        }
        if let Some(a) = f.actor {
            q.push(" AND actor_id = ").bind_text(a.to_string());
        }
        if let Some(b) = f.before_seq {
            q.push(" AND seq < ").bind_int(b);
        }
        if f.changes_only {
            q.push(" AND action NOT IN (");
            let reads: Vec<&str> = rempart_domain::audit::event::ACTIONS
                .iter()
                .copied()
                .filter(|c| rempart_domain::audit::event::is_read_action(c))
                .collect();
            for (i, r) in reads.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind_text((*r).to_owned());
            }
            q.push(")");
        }
        if !f.actions.is_empty() {
            q.push(" AND action IN (");
            for (i, a) in f.actions.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind_text((*a).to_owned());
            }
            q.push(")");
        }
        q.push(" ORDER BY seq DESC LIMIT ")
            .bind_int(f.limit.clamp(1, 500));
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(record).collect()
    }

    /// The chain's head now (what `audit anchor` records outside the database).
    pub async fn audit_head(&self) -> Result<Anchor> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(self.pool())
            .await?
            .ok_or(StorageError::Corrupt("audit_head"))?;
        Ok(Anchor {
            seq: head.try_get(0)?,
            hash: head.try_get(1)?,
        })
    }

    /// Walks the whole chain in order and reports every break, and every anchor (a head
    /// recorded outside the database) that the chain no longer holds.
    pub async fn audit_verify(&self, anchors: Vec<Anchor>) -> Result<VerifyReport> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(self.pool())
            .await?
            .ok_or(StorageError::Corrupt("audit_head"))?;
        let head_seq: i64 = head.try_get(0)?;
        let head_hash: String = head.try_get(1)?;
        let mut v = ChainVerifier::new((*self.audit_key).clone(), anchors);
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 5000"
            )))
            .bind(after)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let rec = record(r)?;
                after = rec.seq;
                v.push(&rec);
            }
        }
        let (checked, problems) = v.finish(head_seq, &head_hash);
        Ok(VerifyReport { checked, problems })
    }
}
