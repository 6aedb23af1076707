//! The case list: filters, the access scope, keyset paging and text search.
//!
//! Text search has two plans. On PostgreSQL the planner chooses between the recency index
//! and the trigram index itself. SQLite cannot, so the store tries the cheap plan first —
//! scan the most recent cases (a bounded window) with `LIKE` — and keeps its answer when
//! the window holds a full page (those are then exactly the newest matches); otherwise it
//! asks the FTS5 trigram index, which is fast precisely when matches are rare.

use crate::sql::{Query, glob_escape, like_escape};
use crate::{Backend, CaseSummary, Result, Store};
use rempart_domain::case::CaseStatus;
use rempart_domain::ids::{CaseId, StaffId};
use rempart_domain::policy::CaseScope;
use rempart_domain::values::CaseReference;

/// Where a page of the case list starts (keyset paging: stable under inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCursor {
    /// `updated_at` of the last case shown.
    pub updated_at: i64,
    /// Its id.
    pub id: String,
}

impl CaseCursor {
    /// Text form for URLs: `<updated_at>_<id>`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.updated_at, self.id)
    }
    /// Parses the text form.
    pub fn decode(s: &str) -> Option<CaseCursor> {
        let (t, id) = s.split_once('_')?;
        let id = CaseId::parse(id).ok()?;
        Some(CaseCursor {
            updated_at: t.parse().ok()?,
            id: id.to_string(),
        })
    }
}

/// Filters of the case list.
#[derive(Debug, Clone)]
pub struct CaseFilter {
    /// What the actor may see (from the access policy).
    pub scope: CaseScope,
    /// Status.
    pub status: Option<CaseStatus>,
    /// Category code.
    pub category: Option<String>,
    /// Assigned to.
    pub assignee: Option<StaffId>,
    /// Reference or words of the title / summaries.
    pub text: Option<String>,
    /// Start after (or, with `backward`, end before).
    pub cursor: Option<CaseCursor>,
    /// The page before `cursor` rather than after it (the "previous" link).
    pub backward: bool,
    /// Page size (1–200).
    pub limit: i64,
}

/// A page of the case list.
#[derive(Debug, Clone)]
pub struct CasePage {
    /// Cases, most recently changed first.
    pub cases: Vec<CaseSummary>,
    /// Cursor of the next page, if any.
    pub next: Option<CaseCursor>,
    /// Cursor of the previous page (newer cases), if any: the page ends before it.
    pub prev: Option<CaseCursor>,
    /// How many cases the filter finds, up to `COUNT_CAP + 1`, when it was asked for.
    pub total: Option<i64>,
}

/// How the words of a search are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextPlan {
    /// `LIKE` on the rows the plan reads (PostgreSQL: its planner may use the trigram index).
    Like,
    /// `LIKE` on the newest `WINDOW` rows of each branch only (SQLite, first try).
    Window,
    /// The FTS5 trigram index (SQLite, when the window did not fill a page).
    Fts,
}

/// Rows a windowed scan reads at most per branch.
const WINDOW: i64 = 4000;

const COLS: &str = "c.id, c.reference, c.title, c.status, c.team, c.categories, c.age_band, c.created_at, c.updated_at";

enum Words {
    None,
    Reference(String),
    Text(String),
}

fn words(f: &CaseFilter) -> Words {
    match f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Words::None,
        Some(t) => match CaseReference::parse(t) {
            Ok(r) => Words::Reference(r.as_str().to_owned()),
            Err(_) => Words::Text(rempart_domain::text::fold_for_search(t)),
        },
    }
}

impl Store {
    /// A page of the case list.
    pub async fn list_cases(&self, f: &CaseFilter) -> Result<CasePage> {
        if f.scope == CaseScope::Nothing {
            return Ok(CasePage {
                cases: vec![],
                next: None,
                prev: None,
                total: None,
            });
        }
        let limit = f.limit.clamp(1, 200);
        let searching = matches!(words(f), Words::Text(_));
        let rows = match (self.backend(), searching) {
            (Backend::Sqlite, true) => {
                let first = build(f, limit, TextPlan::Window)
                    .fetch_all(self.pool())
                    .await?;
                if first.len() as i64 > limit {
                    first
                } else {
                    build(f, limit, TextPlan::Fts)
                        .fetch_all(self.pool())
                        .await?
                }
            }
            _ => {
                build(f, limit, TextPlan::Like)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        let mut cases: Vec<CaseSummary> = rows
            .iter()
            .map(crate::cases::summary)
            .collect::<Result<_>>()?;
        let more = cases.len() as i64 > limit;
        cases.truncate(limit as usize);
        let at = |c: &CaseSummary| CaseCursor {
            updated_at: c.updated_at,
            id: c.id.to_string(),
        };
        let (next, prev) = if f.backward {
            // read oldest first from the cursor up: shown newest first
            cases.reverse();
            (
                cases.last().map(at),
                if more { cases.first().map(at) } else { None },
            )
        } else {
            (
                if more { cases.last().map(at) } else { None },
                if f.cursor.is_some() {
                    cases.first().map(at)
                } else {
                    None
                },
            )
        };
        Ok(CasePage {
            cases,
            next,
            prev,
            total: None,
        })
    }
}

/// One branch of a count.
#[derive(Clone, Copy)]
enum Branch<'a> {
    /// Every case.
    All,
    /// A team's cases.
    Team(&'a str),
    /// The cases assigned to someone, outside its team when it has one.
    Assigned(StaffId, Option<&'a str>),
}

/// Counts stop here: the list says "more than 200" past it (a count costs what it reads).
pub const COUNT_CAP: i64 = 200;

impl Store {
    /// How many cases the filter finds (the cursor aside), up to `COUNT_CAP + 1`.
    pub async fn count_cases(&self, f: &CaseFilter) -> Result<i64> {
        if f.scope == CaseScope::Nothing {
            return Ok(0);
        }
        let f = CaseFilter {
            cursor: None,
            backward: false,
            ..f.clone()
        };
        // SQLite first counts in the newest rows (a common word reaches the cap there), then,
        // when it did not, with the trigram index (cheap precisely when matches are rare) —
        // the list's own two plans
        if self.backend() == Backend::Sqlite && matches!(words(&f), Words::Text(_)) {
            let n = self.count_with(&f, TextPlan::Window).await?;
            if n > COUNT_CAP {
                return Ok(n);
            }
            return self.count_with(&f, TextPlan::Fts).await;
        }
        self.count_with(&f, TextPlan::Like).await
    }

    /// The count under one plan: the scope's branches counted apart, each on its own index
    /// and stopping at the cap (a counsellor's team, and its assigned cases outside it).
    async fn count_with(&self, f: &CaseFilter, plan: TextPlan) -> Result<i64> {
        match &f.scope {
            CaseScope::TeamOrAssigned { staff, team } => {
                let mine = self
                    .count_branch(f, plan, Branch::Assigned(*staff, team.as_deref()))
                    .await?;
                let theirs = match team {
                    Some(t) => self.count_branch(f, plan, Branch::Team(t)).await?,
                    None => 0,
                };
                Ok((mine + theirs).min(COUNT_CAP + 1))
            }
            _ => self.count_branch(f, plan, Branch::All).await,
        }
    }

    async fn count_branch(&self, f: &CaseFilter, plan: TextPlan, b: Branch<'_>) -> Result<i64> {
        // the window is the branch's newest rows, read on the branch's own index
        let window = plan == TextPlan::Window;
        let t = if window { "w" } else { "c" };
        let mut q = Query::new(if window {
            "SELECT COUNT(*) FROM (SELECT c.id FROM (SELECT * FROM cases w WHERE 1=1"
        } else {
            "SELECT COUNT(*) FROM (SELECT c.id FROM cases c WHERE 1=1"
        });
        match b {
            Branch::All => {}
            Branch::Team(team) => {
                q.push(&format!(" AND {t}.team = "))
                    .bind_text(team.to_owned());
            }
            Branch::Assigned(staff, outside) => {
                q.push(&format!(
                    " AND {t}.id IN (SELECT a.case_id FROM case_assignees a WHERE a.staff_id = "
                ))
                .bind_text(staff.to_string());
                if let Some(team) = outside {
                    q.push(" AND (a.case_team IS NULL OR a.case_team <> ")
                        .bind_text(team.to_owned());
                    q.push(")");
                }
                q.push(")");
            }
        }
        if window {
            q.push(&format!(
                " ORDER BY w.updated_at DESC, w.id DESC LIMIT {WINDOW}) c WHERE 1=1"
            ));
        }
        let plan = if plan == TextPlan::Window {
            TextPlan::Like
        } else {
            plan
        };
        filters(&mut q, f, plan);
        q.push(&format!(" LIMIT {}) n", COUNT_CAP + 1));
        let rows = q.fetch_all(self.pool()).await?;
        let n: i64 = match rows.first() {
            Some(r) => sqlx::Row::try_get(r, 0)?,
            None => 0,
        };
        Ok(n)
    }
}

/// Builds the list query. Each branch of the scope (all cases; or the actor's assigned
/// cases and its team's) is ordered and cut to one page on its own, then merged.
fn build(f: &CaseFilter, limit: i64, plan: TextPlan) -> Query {
    let mut q = Query::new(format!("SELECT {COLS} FROM cases c WHERE c.id IN ("));
    match &f.scope {
        CaseScope::TeamOrAssigned { staff, team } => {
            q.push("SELECT id FROM (SELECT c.id FROM case_assignees a JOIN cases c ON c.id = a.case_id WHERE a.staff_id = ")
                .bind_text(staff.to_string());
            filters(
                &mut q,
                f,
                if plan == TextPlan::Window {
                    TextPlan::Like
                } else {
                    plan
                },
            );
            // (staff_id, case_updated_at, case_id) is an index: read in order, stop early.
            let o = order(f);
            q.push(&format!(
                " ORDER BY a.case_updated_at {o}, a.case_id {o} LIMIT "
            ))
            .bind_int(limit + 1);
            q.push(") mine");
            if let Some(t) = team {
                q.push(" UNION SELECT id FROM (");
                branch(&mut q, f, limit, plan, Some(t));
                q.push(") team");
            }
        }
        _ => {
            q.push("SELECT id FROM (");
            branch(&mut q, f, limit, plan, None);
            q.push(") everyone");
        }
    }
    let o = order(f);
    q.push(&format!(") ORDER BY c.updated_at {o}, c.id {o} LIMIT "))
        .bind_int(limit + 1);
    q
}

/// The order a page is read in: newest first, or from the cursor up for the page before it.
fn order(f: &CaseFilter) -> &'static str {
    if f.backward { "ASC" } else { "DESC" }
}

/// Rows past the cursor in the page's reading order, on the table aliased `t`.
fn past_cursor(q: &mut Query, f: &CaseFilter, t: &str) {
    if let Some(c) = &f.cursor {
        let cmp = if f.backward { ">" } else { "<" };
        q.push(&format!(" AND ({t}.updated_at {cmp} "))
            .bind_int(c.updated_at);
        q.push(&format!(" OR ({t}.updated_at = "))
            .bind_int(c.updated_at);
        q.push(&format!(" AND {t}.id {cmp} "))
            .bind_text(c.id.clone());
        q.push("))");
    }
}

/// One branch over `cases`, optionally limited to a team; windowed when asked.
fn branch(q: &mut Query, f: &CaseFilter, limit: i64, plan: TextPlan, team: Option<&String>) {
    if plan == TextPlan::Window {
        q.push("SELECT c.id FROM (SELECT * FROM cases w WHERE 1=1");
        if let Some(t) = team {
            q.push(" AND w.team = ").bind_text(t.clone());
        }
        past_cursor(q, f, "w");
        let o = order(f);
        q.push(&format!(" ORDER BY w.updated_at {o}, w.id {o} LIMIT "))
            .bind_int(WINDOW);
        q.push(") c WHERE 1=1");
    } else {
        q.push("SELECT c.id FROM cases c WHERE 1=1");
        if let Some(t) = team {
            q.push(" AND c.team = ").bind_text(t.clone());
        }
    }
    filters(q, f, plan);
    let o = order(f);
    q.push(&format!(" ORDER BY c.updated_at {o}, c.id {o} LIMIT "))
        .bind_int(limit + 1);
}

/// The list filters, on columns of the case aliased `c`.
fn filters(q: &mut Query, f: &CaseFilter, plan: TextPlan) {
    if let Some(s) = f.status {
        q.push(" AND c.status = ").bind_text(s.as_str().to_owned());
    }
    if let Some(c) = &f.category {
        q.push(" AND c.categories LIKE ")
            .bind_text(format!("%,{},%", like_escape(c)));
        q.push(" ESCAPE '\\'");
    }
    if let Some(a) = f.assignee {
        q.push(
            " AND EXISTS (SELECT 1 FROM case_assignees x WHERE x.case_id = c.id AND x.staff_id = ",
        )
        .bind_text(a.to_string());
        q.push(")");
    }
    match words(f) {
        Words::None => {}
        // A reference finds its case through the unique index.
        Words::Reference(r) => {
            q.push(" AND c.reference = ").bind_text(r);
        }
        Words::Text(t) if plan == TextPlan::Fts => {
            q.push(" AND c.id IN (SELECT k.id FROM cases_fts JOIN cases k ON k.rowid = cases_fts.rowid WHERE cases_fts.search_text GLOB ")
                .bind_text(format!("*{}*", glob_escape(&t)));
            q.push(")");
        }
        Words::Text(t) => {
            q.push(" AND c.search_text LIKE ")
                .bind_text(format!("%{}%", like_escape(&t)));
            q.push(" ESCAPE '\\'");
        }
    }
    past_cursor(q, f, "c");
}
