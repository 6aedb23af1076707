//! Bulk loading for benchmarks and large imports: many rows per statement, many
//! statements per transaction, the audit chain computed as it goes so it stays valid.

use crate::audit::AuditEntry;
use crate::records::{NewCase, encode_consents, encode_list};
use crate::{Result, Store};
use rempart_domain::audit::chain_hash;
use sqlx::Row;

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
                    .bind(encode_list(&c.legal.articles))
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
