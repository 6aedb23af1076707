//! Bulk loading of notices, for the benchmarks of the notices views: many rows per
//! statement, many statements per transaction (the cases they belong to are loaded first).

use crate::notices::NoticeRecord;
use crate::{Result, Store};

const COLS: [&str; 24] = [
    "id",
    "reference",
    "case_id",
    "platform",
    "category",
    "lang",
    "state",
    "explanation",
    "channel_index",
    "channel",
    "decision",
    "attempts",
    "expected_hours",
    "created_by",
    "created_at",
    "updated_at",
    "sent_at",
    "delivered_at",
    "acknowledged_at",
    "decided_at",
    "removed_at",
    "due_at",
    "escalated_at",
    "reminders",
];

impl Store {
    /// Inserts notices as they are (their items are not linked), 300 rows a statement.
    pub async fn bulk_load_notices(&self, notices: &[NoticeRecord]) -> Result<()> {
        for chunk in notices.chunks(3000) {
            let mut w = self.begin_write().await?;
            for rows in chunk.chunks(300) {
                let mut sql = format!("INSERT INTO notices ({}) VALUES ", COLS.join(", "));
                for i in 0..rows.len() {
                    if i > 0 {
                        sql.push(',');
                    }
                    let b = i * COLS.len();
                    let p: Vec<String> = (1..=COLS.len()).map(|k| format!("${}", b + k)).collect();
                    sql.push('(');
                    sql.push_str(&p.join(","));
                    sql.push(')');
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for n in rows {
                    q = q
                        .bind(n.id.to_string())
                        .bind(n.reference.clone())
                        .bind(n.case_id.to_string())
                        .bind(n.platform.clone())
                        .bind(n.category.clone())
                        .bind(n.lang.clone())
                        .bind(n.state.as_str())
                        .bind(n.explanation.clone())
                        .bind(i64::from(n.channel_index))
                        .bind(n.channel.map(|c| c.as_str()))
                        .bind(n.decision.map(|d| d.as_str()))
                        .bind(i64::from(n.attempts))
                        .bind(i64::from(n.expected_hours))
                        .bind(n.created_by.to_string())
                        .bind(n.created_at)
                        .bind(n.updated_at)
                        .bind(n.sent_at)
                        .bind(n.delivered_at)
                        .bind(n.acknowledged_at)
                        .bind(n.decided_at)
                        .bind(n.removed_at)
                        .bind(n.due_at)
                        .bind(n.escalated_at)
                        .bind(i64::from(n.reminders));
                }
                q.execute(w.conn()).await?;
            }
            w.commit_unaudited().await?;
        }
        sqlx::query("ANALYZE").execute(self.pool()).await?;
        Ok(())
    }
}
