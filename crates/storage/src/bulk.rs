//! Bulk loading for benchmarks and large imports: many rows per statement, many
//! statements per transaction, the audit chain computed as it goes so it stays valid.

use crate::audit::AuditEntry;
use crate::notices::NewNotice;
use crate::records::{ItemRecord, NewCase, encode_consents, encode_list, encode_texts};
use crate::{Result, Store};
use rempart_domain::audit::chain_hash;
use rempart_domain::directory::NoticeChannel;
use rempart_domain::ids::StaffId;
use sqlx::Row;

/// A notice marked ready, for [`Store::bulk_load_ready_notices`]: the draft, its items, who
/// marked it ready, and the exact bytes it will leave with on its platform's first channel
/// (built by the application, as marking it ready would).
#[derive(Debug, Clone)]
pub struct ReadyNotice {
    /// The notice (its `items` are the ids of `items`).
    pub notice: NewNotice,
    /// Its items, added to its case.
    pub items: Vec<ItemRecord>,
    /// Who marked it ready.
    pub prepared_by: StaffId,
    /// The kind of the platform's first channel.
    pub channel: NoticeChannel,
    /// The exact bytes.
    pub payload: String,
}

/// `(a,b,c),(d,e,f)…`: `rows` groups of `cols` numbered placeholders.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::new();
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push_str(&format!("${}", r * cols + c + 1));
        }
        s.push(')');
    }
    s
}

impl Store {
    /// Inserts cases (with their assignees) in batches; `audit` events follow them, each
    /// chained to the previous one. Returns the new head sequence number.
    pub async fn bulk_load(&self, cases: &[NewCase], audit: &[AuditEntry]) -> Result<i64> {
        for (n, chunk) in cases.chunks(500).enumerate() {
            let mut w = self.begin_write().await?;
            let mut sql = String::from(
                "INSERT INTO cases (id, reference, title, status, outcome, team, categories, age_band, preferred_channel, \
                 consents, legal_articles, dsa_category, search_text, created_by, created_at, updated_at, closed_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 14;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${},${},${},${},NULL,${},${},${},${},${},${},${},${},${},${},${},NULL)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10,
                    b + 11,
                    b + 12,
                    b + 13,
                    b + 14,
                    b + 14
                ));
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, c) in chunk.iter().enumerate() {
                let statuses = rempart_domain::case::CaseStatus::ALL;
                let status = statuses[(n * 500 + i) % statuses.len()];
                q = q
                    .bind(c.id.to_string())
                    .bind(c.reference.clone())
                    .bind(c.title.clone())
                    .bind(status.as_str())
                    .bind(c.team.clone())
                    .bind(encode_list(&c.categories))
                    .bind(c.age_band.as_str())
                    .bind(c.preferred_channel.map(|p| p.as_str()))
                    .bind(encode_consents(&c.consents))
                    .bind(encode_texts(&c.legal.articles))
                    .bind(c.legal.dsa_category.clone())
                    .bind(format!("{} {}", c.reference, c.title).to_lowercase())
                    .bind(c.created_by.to_string())
                    .bind(c.at);
            }
            q.execute(w.conn()).await?;
            let pairs: Vec<(String, String, i64)> = chunk
                .iter()
                .flat_map(|c| {
                    c.assignees
                        .iter()
                        .map(move |a| (c.id.to_string(), a.to_string(), c.at))
                })
                .collect();
            for p in pairs.chunks(300) {
                let mut sql = String::from(
                    "INSERT INTO case_assignees (case_id, staff_id, assigned_at) VALUES ",
                );
                for i in 0..p.len() {
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("(${},${},${})", i * 3 + 1, i * 3 + 2, i * 3 + 3));
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (c, s, at) in p {
                    q = q.bind(c.clone()).bind(s.clone()).bind(*at);
                }
                q.execute(w.conn()).await?;
            }
            w.commit_unaudited().await?;
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        let mut seq: i64 = head.try_get(0)?;
        let mut prev: String = head.try_get(1)?;
        for chunk in audit.chunks(5000) {
            let mut w = self.begin_write().await?;
            for rows in chunk.chunks(400) {
                let mut sql = String::from(
                    "INSERT INTO audit_events (seq, at, actor_id, action, object_type, object_id, case_id, detail, prev_hash, hash) VALUES ",
                );
                let mut vals = Vec::with_capacity(rows.len());
                for (i, e) in rows.iter().enumerate() {
                    if i > 0 {
                        sql.push(',');
                    }
                    let b = i * 10;
                    sql.push_str(&format!(
                        "(${},${},${},${},${},${},${},${},${},${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        b + 9,
                        b + 10
                    ));
                    seq += 1;
                    let actor = e.actor.map(|a| a.to_string());
                    let case = e.case_id.map(|c| c.to_string());
                    let (action, object_type, detail) =
                        (e.event.action(), e.event.object_type(), e.event.detail());
                    let hash = chain_hash(
                        &self.audit_key,
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
                    vals.push((
                        seq,
                        e,
                        actor,
                        case,
                        prev.clone(),
                        hash.clone(),
                        (action, object_type, detail),
                    ));
                    prev = hash;
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (s, e, actor, case, p, h, (action, object_type, detail)) in vals {
                    q = q
                        .bind(s)
                        .bind(e.at)
                        .bind(actor)
                        .bind(action)
                        .bind(object_type)
                        .bind(e.object_id.clone())
                        .bind(case)
                        .bind(detail)
                        .bind(p)
                        .bind(h);
                }
                q.execute(w.conn()).await?;
            }
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(prev.clone())
                .execute(w.conn())
                .await?;
            w.commit_unaudited().await?;
        }
        // Fresh statistics so both planners see the real table sizes.
        let analyze = match self.backend() {
            crate::Backend::Sqlite => "ANALYZE",
            crate::Backend::Postgres => "ANALYZE",
        };
        sqlx::query(analyze).execute(self.pool()).await?;
        Ok(seq)
    }
}

impl Store {
    /// Loads cases with their items and one notice each in the `ready` state (the
    /// notices' benchmark sends them through the application afterwards): many rows per
    /// statement, 500 notices per transaction. Cases go through [`Store::bulk_load`].
    pub async fn bulk_load_ready_notices(
        &self,
        cases: &[NewCase],
        notices: &[ReadyNotice],
    ) -> Result<()> {
        self.bulk_load(cases, &[]).await?;
        for chunk in notices.chunks(500) {
            let mut w = self.begin_write().await?;
            let items: Vec<&ItemRecord> = chunk.iter().flat_map(|n| n.items.iter()).collect();
            for rows in items.chunks(500) {
                let sql = format!(
                    "INSERT INTO items (id, case_id, platform, content_type, url, native_id, status, \
                     first_seen_at, created_by, created_at) VALUES {}",
                    placeholders(rows.len(), 10)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for i in rows {
                    q = q
                        .bind(i.id.to_string())
                        .bind(i.case_id.to_string())
                        .bind(i.platform.clone())
                        .bind(i.content_type.clone())
                        .bind(i.url.clone())
                        .bind(i.native_id.clone())
                        .bind(i.status.as_str())
                        .bind(i.first_seen_at)
                        .bind(i.created_by.to_string())
                        .bind(i.created_at);
                }
                q.execute(w.conn()).await?;
            }
            let sql = format!(
                "INSERT INTO notices (id, reference, case_id, platform, category, lang, state, explanation, \
                 sexual_images_of_minor, needs_validation, prepared_by, channel_index, channel, payload, \
                 attempts, expected_hours, created_by, created_at, updated_at) VALUES {}",
                placeholders(chunk.len(), 19)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                let n = &r.notice;
                q = q
                    .bind(n.id.to_string())
                    .bind(n.reference.clone())
                    .bind(n.case_id.to_string())
                    .bind(n.platform.clone())
                    .bind(n.category.clone())
                    .bind(n.lang.clone())
                    .bind(rempart_domain::notice::NoticeState::Ready.as_str())
                    .bind(n.explanation.clone())
                    .bind(i64::from(n.sexual_images_of_minor))
                    .bind(i64::from(n.needs_validation))
                    .bind(r.prepared_by.to_string())
                    .bind(0i64)
                    .bind(r.channel.as_str())
                    .bind(r.payload.clone())
                    .bind(0i64)
                    .bind(i64::from(n.expected_hours))
                    .bind(n.created_by.to_string())
                    .bind(n.at)
                    .bind(n.at);
            }
            q.execute(w.conn()).await?;
            let links: Vec<(String, String, i64)> = chunk
                .iter()
                .flat_map(|r| {
                    r.notice.items.iter().enumerate().map(|(pos, i)| {
                        (
                            r.notice.id.to_string(),
                            i.to_string(),
                            i64::try_from(pos).unwrap_or(i64::MAX),
                        )
                    })
                })
                .collect();
            for rows in links.chunks(500) {
                let sql = format!(
                    "INSERT INTO notice_items (notice_id, item_id, position) VALUES {}",
                    placeholders(rows.len(), 3)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (n, i, pos) in rows {
                    q = q.bind(n.clone()).bind(i.clone()).bind(*pos);
                }
                q.execute(w.conn()).await?;
            }
            w.commit_unaudited().await?;
        }
        sqlx::query("ANALYZE").execute(self.pool()).await?;
        Ok(())
    }

    /// Creates a database (PostgreSQL server connection only), for benchmarks.
    pub async fn create_database_for_bench(&self, name: &str) -> Result<()> {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(crate::StorageError::Corrupt("database name"));
        }
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
