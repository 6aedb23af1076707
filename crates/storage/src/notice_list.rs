//! The helpline's notices: the list (filters, the access scope, keyset paging), the late
//! view (most overdue first), the times each platform took, and what the escalation job
//! looks for.

use crate::sql::Query;
use crate::{Result, StorageError, Store};
use rempart_domain::directory::NoticeChannel;
use rempart_domain::ids::{CaseId, NoticeId};
use rempart_domain::notice::{DecisionKind, NoticeState};
use rempart_domain::policy::CaseScope;
use sqlx::Row;
use sqlx::any::AnyRow;

/// The states in which a notice waits for the platform (and can be late).
pub const OPEN_STATES: [NoticeState; 3] = [
    NoticeState::Sent,
    NoticeState::Acknowledged,
    NoticeState::Escalated,
];

const OPEN_SQL: &str = "('sent', 'acknowledged', 'escalated')";

/// Where a page starts: the sort key of the last notice shown and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeCursor {
    /// `updated_at` (the list) or `due_at` (the late view) of the last notice shown.
    pub key: i64,
    /// Its id.
    pub id: String,
}

impl NoticeCursor {
    /// Text form for URLs: `<key>_<id>`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.key, self.id)
    }
    /// Parses the text form.
    pub fn decode(s: &str) -> Option<NoticeCursor> {
        let (k, id) = s.split_once('_')?;
        let id = NoticeId::parse(id).ok()?;
        Some(NoticeCursor {
            key: k.parse().ok()?,
            id: id.to_string(),
        })
    }
}

/// Filters of the notices list.
#[derive(Debug, Clone)]
pub struct NoticeFilter {
    /// The cases the reader may see (from the access policy).
    pub scope: CaseScope,
    /// Platform code.
    pub platform: Option<String>,
    /// State.
    pub state: Option<NoticeState>,
    /// Only the late ones (waiting for the platform past their expected delay), most
    /// overdue first.
    pub late: bool,
    /// Category code.
    pub category: Option<String>,
    /// Now (ms), for `late`.
    pub now: i64,
    /// Start after.
    pub cursor: Option<NoticeCursor>,
    /// Page size (1–200).
    pub limit: i64,
}

/// A line of the notices list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeSummary {
    /// Id.
    pub id: NoticeId,
    /// Reference.
    pub reference: String,
    /// Its case.
    pub case_id: CaseId,
    /// The case's reference.
    pub case_reference: String,
    /// Platform code.
    pub platform: String,
    /// Category code.
    pub category: String,
    /// State.
    pub state: NoticeState,
    /// Channel in use, once sent.
    pub channel: Option<NoticeChannel>,
    /// Delivery attempts.
    pub attempts: u32,
    /// Last delivery failure.
    pub last_error: Option<String>,
    /// The decision.
    pub decision: Option<DecisionKind>,
    /// Sent (ms).
    pub sent_at: Option<i64>,
    /// Due (ms).
    pub due_at: Option<i64>,
    /// Escalated (ms).
    pub escalated_at: Option<i64>,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A page of notices.
#[derive(Debug, Clone)]
pub struct NoticePage {
    /// The notices.
    pub notices: Vec<NoticeSummary>,
    /// Cursor of the next page.
    pub next: Option<NoticeCursor>,
}

/// The times of one notice, for a platform's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeTimes {
    /// Sent (ms).
    pub sent_at: i64,
    /// Acknowledged (ms).
    pub acknowledged_at: Option<i64>,
    /// Decided (ms).
    pub decided_at: Option<i64>,
    /// Removed (ms).
    pub removed_at: Option<i64>,
}

const SUMMARY: &str = "n.id, n.reference, n.case_id, n.platform, n.category, n.state, \
    n.channel, n.attempts, n.last_error, n.decision, n.sent_at, n.due_at, n.escalated_at, \
    n.updated_at";

fn summary(r: &AnyRow, refs: &std::collections::HashMap<String, String>) -> Result<NoticeSummary> {
    let id: String = r.try_get("id")?;
    let case: String = r.try_get("case_id")?;
    let state: String = r.try_get("state")?;
    let channel: Option<String> = r.try_get("channel")?;
    let decision: Option<String> = r.try_get("decision")?;
    Ok(NoticeSummary {
        id: NoticeId::parse(&id).map_err(|_| StorageError::Corrupt("notices.id"))?,
        reference: r.try_get("reference")?,
        case_id: CaseId::parse(&case).map_err(|_| StorageError::Corrupt("notices.case_id"))?,
        case_reference: refs.get(&case).cloned().unwrap_or_default(),
        platform: r.try_get("platform")?,
        category: r.try_get("category")?,
        state: NoticeState::parse(&state).map_err(|_| StorageError::Corrupt("notices.state"))?,
        channel: channel
            .map(|c| NoticeChannel::parse(&c).map_err(|_| StorageError::Corrupt("notices.channel")))
            .transpose()?,
        attempts: u32::try_from(r.try_get::<i64, _>("attempts")?)
            .map_err(|_| StorageError::Corrupt("notices.attempts"))?,
        last_error: r.try_get("last_error")?,
        decision: decision
            .map(|d| DecisionKind::parse(&d).map_err(|_| StorageError::Corrupt("notices.decision")))
            .transpose()?,
        sent_at: r.try_get("sent_at")?,
        due_at: r.try_get("due_at")?,
        escalated_at: r.try_get("escalated_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The conditions of the filters (and the page's start) on notices aliased `n`.
fn push_filters(q: &mut Query, f: &NoticeFilter) {
    if let Some(p) = &f.platform {
        q.push(" AND n.platform = ").bind_text(p.clone());
    }
    if let Some(s) = f.state {
        q.push(" AND n.state = ").bind_text(s.as_str().to_owned());
    }
    if let Some(cat) = &f.category {
        q.push(" AND n.category = ").bind_text(cat.clone());
    }
    let key = if f.late {
        q.push(&format!(" AND n.state IN {OPEN_SQL} AND n.due_at <= "))
            .bind_int(f.now);
        "n.due_at"
    } else {
        "n.updated_at"
    };
    if let Some(c) = &f.cursor {
        // late: ascending due time; the list: descending change time
        let cmp = if f.late { ">" } else { "<" };
        q.push(&format!(" AND ({key} {cmp} "))
            .bind_int(c.key)
            .push(&format!(" OR ({key} = "))
            .bind_int(c.key)
            .push(&format!(" AND n.id {cmp} "))
            .bind_text(c.id.clone())
            .push("))");
    }
}

/// The page's order and its length (written out: a bound limit leaves PostgreSQL's
/// generic plans guessing at it).
fn push_order(q: &mut Query, late: bool, limit: i64) {
    let limit = limit.clamp(1, 1000);
    q.push(&if late {
        format!(" ORDER BY n.due_at ASC, n.id ASC LIMIT {limit}")
    } else {
        format!(" ORDER BY n.updated_at DESC, n.id DESC LIMIT {limit}")
    });
}

/// The notices of the scope that pass `conds`, each branch of the scope ordered and cut to
/// `limit` on its own: the team's notices on the index of the team and the order (each
/// notice carries its case's team), and the notices of the cases assigned to the reader
/// outside that team (few: most of a counsellor's cases are its team's), merged by the
/// caller. Every notice for `CaseScope::All`.
fn push_scoped_ids(
    q: &mut Query,
    backend: crate::Backend,
    scope: &CaseScope,
    conds: &dyn Fn(&mut Query),
    late: bool,
    limit: i64,
) {
    match scope {
        CaseScope::TeamOrAssigned { staff, team } => {
            if let Some(t) = team {
                q.push("SELECT id FROM (SELECT n.id FROM notices n WHERE n.team = ")
                    .bind_text(t.clone());
                conds(q);
                push_order(q, late, limit);
                q.push(") team UNION ");
            }
            // from the reader's assignments (each carries its case's team) to their
            // cases' notices: SQLite keeps the order of a CROSS JOIN (the assignments
            // drive, not the notices); PostgreSQL takes the cases as one array first
            let outside = |q: &mut Query, col: &str| {
                if let Some(t) = team {
                    q.push(&format!(" AND ({col} IS NULL OR {col} <> "))
                        .bind_text(t.clone())
                        .push(")");
                }
            };
            match backend {
                crate::Backend::Sqlite => {
                    q.push("SELECT id FROM (SELECT n.id FROM case_assignees a CROSS JOIN notices n WHERE a.staff_id = ")
                        .bind_text(staff.to_string())
                        .push(" AND n.case_id = a.case_id");
                    outside(q, "a.case_team");
                }
                crate::Backend::Postgres => {
                    q.push(
                        "SELECT id FROM (SELECT n.id FROM notices n WHERE n.case_id = ANY(ARRAY(\
                         SELECT a.case_id FROM case_assignees a WHERE a.staff_id = ",
                    )
                    .bind_text(staff.to_string());
                    outside(q, "a.case_team");
                    q.push("))");
                }
            }
            conds(q);
            push_order(q, late, limit);
            q.push(") mine");
        }
        _ => {
            q.push("SELECT id FROM (SELECT n.id FROM notices n WHERE 1 = 1");
            conds(q);
            push_order(q, late, limit);
            q.push(") everyone");
        }
    }
}

impl Store {
    /// The references of these cases (id → reference; unknown ids are left out).
    pub async fn case_references(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut refs = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let mut cq = Query::new("SELECT id, reference FROM cases WHERE id IN (");
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    cq.push(", ");
                }
                cq.bind_text(id.clone());
            }
            cq.push(")");
            for r in cq.fetch_all(self.pool()).await? {
                refs.insert(r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?);
            }
        }
        Ok(refs)
    }

    /// A page of the notices the scope allows, most recently changed first; with `late`,
    /// those waiting for the platform past their due time, most overdue first.
    pub async fn list_notices(&self, f: &NoticeFilter) -> Result<NoticePage> {
        if f.scope == CaseScope::Nothing {
            return Ok(NoticePage {
                notices: vec![],
                next: None,
            });
        }
        let limit = f.limit.clamp(1, 200);
        // the notices alone (the index of the order gives the page), then their cases'
        // references for the page's lines
        let mut q = Query::new(format!("SELECT {SUMMARY} FROM notices n"));
        if f.scope == CaseScope::All {
            q.push(" WHERE 1 = 1");
            push_filters(&mut q, f);
        } else {
            q.push(" WHERE n.id IN (");
            push_scoped_ids(
                &mut q,
                self.backend(),
                &f.scope,
                &|q| push_filters(q, f),
                f.late,
                limit + 1,
            );
            q.push(")");
        }
        push_order(&mut q, f.late, limit + 1);
        let rows = q.fetch_all(self.pool()).await?;
        let mut case_ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("case_id"))
            .collect::<std::result::Result<_, _>>()?;
        case_ids.sort();
        case_ids.dedup();
        let refs = self.case_references(&case_ids).await?;
        let mut notices: Vec<NoticeSummary> = rows
            .iter()
            .map(|r| summary(r, &refs))
            .collect::<Result<_>>()?;
        let next = if notices.len() as i64 > limit {
            notices.truncate(limit as usize);
            notices.last().map(|n| NoticeCursor {
                key: if f.late {
                    n.due_at.unwrap_or(0)
                } else {
                    n.updated_at
                },
                id: n.id.to_string(),
            })
        } else {
            None
        };
        Ok(NoticePage { notices, next })
    }

    /// How many notices the scope allows are late, counted up to `cap` (a view says "100+"
    /// past it: counting every late notice of a team's cases would cost more than the page).
    pub async fn count_late_notices(&self, scope: &CaseScope, now: i64, cap: i64) -> Result<u64> {
        if *scope == CaseScope::Nothing {
            return Ok(0);
        }
        let cap = cap.max(1);
        let late = |q: &mut Query| {
            q.push(&format!(" AND n.state IN {OPEN_SQL} AND n.due_at <= "))
                .bind_int(now);
        };
        let mut q = Query::new("SELECT COUNT(*) FROM (");
        push_scoped_ids(&mut q, self.backend(), scope, &late, true, cap);
        q.push(") capped");
        let rows = q.fetch_all(self.pool()).await?;
        let n: i64 = rows.first().map(|r| r.try_get(0)).transpose()?.unwrap_or(0);
        Ok(u64::try_from(n.min(cap)).unwrap_or(0))
    }

    /// The times of the notices sent to `platform` since `since` (ms), for its figures.
    pub async fn notice_times(&self, platform: &str, since: i64) -> Result<Vec<NoticeTimes>> {
        let rows = sqlx::query(
            "SELECT sent_at, acknowledged_at, decided_at, removed_at FROM notices \
             WHERE platform = $1 AND sent_at IS NOT NULL AND sent_at >= $2",
        )
        .bind(platform)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NoticeTimes {
                    sent_at: r.try_get("sent_at")?,
                    acknowledged_at: r.try_get("acknowledged_at")?,
                    decided_at: r.try_get("decided_at")?,
                    removed_at: r.try_get("removed_at")?,
                })
            })
            .collect()
    }

    /// Notices to escalate: waiting for the platform past their due time, not escalated
    /// yet, and taken by its channel (a push or a mail delivered; a partner's or a portal's
    /// notice is the platform's from its sending); oldest due first.
    pub async fn notices_to_escalate(&self, now: i64, limit: i64) -> Result<Vec<NoticeId>> {
        let rows = sqlx::query(
            "SELECT id FROM notices WHERE state IN ('sent', 'acknowledged') AND due_at <= $1 \
             AND escalated_at IS NULL \
             AND (delivered_at IS NOT NULL OR channel IN ('rempart_api', 'portal')) \
             ORDER BY due_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let s: String = r.try_get(0)?;
                NoticeId::parse(&s).map_err(|_| StorageError::Corrupt("notices.id"))
            })
            .collect()
    }
}
