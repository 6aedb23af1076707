//! Embedded, append-only migrations with a small runner of our own: the same SQL runs
//! on both databases (a few type names are translated), and concurrent starts of several
//! nodes are serialised by a lock.

use crate::{Backend, Result, Store};
use sqlx::Executor;

/// (version, name, SQL for SQLite, SQL for PostgreSQL). Append only: never edit a
/// released migration. Most migrations are the same text for both.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/0001_init.sql"),
        include_str!("../migrations/0001_init.sql"),
    ),
    (
        2,
        "search",
        include_str!("../migrations/0002_search.sqlite.sql"),
        include_str!("../migrations/0002_search.postgres.sql"),
    ),
    (
        3,
        "assignee_recency",
        include_str!("../migrations/0003_assignee_recency.sqlite.sql"),
        include_str!("../migrations/0003_assignee_recency.postgres.sql"),
    ),
    (
        4,
        "conversations",
        include_str!("../migrations/0004_conversations.sql"),
        include_str!("../migrations/0004_conversations.sql"),
    ),
    (
        5,
        "availability",
        include_str!("../migrations/0005_availability.sql"),
        include_str!("../migrations/0005_availability.sql"),
    ),
    (
        6,
        "transfer",
        include_str!("../migrations/0006_transfer.sql"),
        include_str!("../migrations/0006_transfer.sql"),
    ),
    (
        7,
        "trust",
        include_str!("../migrations/0007_trust.sql"),
        include_str!("../migrations/0007_trust.sql"),
    ),
    (
        8,
        "jobs",
        include_str!("../migrations/0008_jobs.sql"),
        include_str!("../migrations/0008_jobs.sql"),
    ),
    (
        9,
        "notices",
        include_str!("../migrations/0009_notices.sql"),
        include_str!("../migrations/0009_notices.sql"),
    ),
    (
        10,
        "partner_keys",
        include_str!("../migrations/0010_partner_keys.sql"),
        include_str!("../migrations/0010_partner_keys.sql"),
    ),
    (
        11,
        "notice_followup",
        include_str!("../migrations/0011_notice_followup.sql"),
        include_str!("../migrations/0011_notice_followup.sql"),
    ),
    (
        12,
        "notice_team",
        include_str!("../migrations/0012_notice_team.sqlite.sql"),
        include_str!("../migrations/0012_notice_team.postgres.sql"),
    ),
    (
        13,
        "chat_alerts",
        include_str!("../migrations/0013_chat_alerts.sql"),
        include_str!("../migrations/0013_chat_alerts.sql"),
    ),
    (
        14,
        "guidance",
        include_str!("../migrations/0014_guidance.sql"),
        include_str!("../migrations/0014_guidance.sql"),
    ),
    (
        16,
        "search_fold",
        include_str!("../migrations/0016_search_fold.sql"),
        include_str!("../migrations/0016_search_fold.sql"),
    ),
    (
        17,
        "message_search",
        include_str!("../migrations/0017_message_search.sql"),
        include_str!("../migrations/0017_message_search.sql"),
    ),
    (
        18,
        "evidence",
        include_str!("../migrations/0018_evidence.sql"),
        include_str!("../migrations/0018_evidence.sql"),
    ),
    (
        19,
        "referrals",
        include_str!("../migrations/0019_referrals.sql"),
        include_str!("../migrations/0019_referrals.sql"),
    ),
    (
        20,
        "referral_mail",
        include_str!("../migrations/0020_referral_mail.sql"),
        include_str!("../migrations/0020_referral_mail.sql"),
    ),
];

/// Splits a migration into statements at `;` line ends, keeping trigger bodies
/// (`BEGIN` … `END;`) whole; comment lines are dropped.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_body = false;
    for line in sql.lines() {
        let t = line.trim();
        if t.starts_with("--") || t.is_empty() {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if t.ends_with("BEGIN") {
            in_body = true;
        }
        let ends = if in_body {
            t == "END;"
        } else {
            t.ends_with(';')
        };
        if ends {
            in_body = false;
            let stmt = cur.trim().trim_end_matches(';').trim().to_owned();
            if !stmt.is_empty() {
                out.push(stmt);
            }
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().trim_end_matches(';').to_owned());
    }
    out
}

pub(crate) async fn run(store: &Store) -> Result<usize> {
    let mut conn = store.pool().acquire().await?;
    // a migration that fails leaves this connection's transaction unknown: never reuse it
    conn.close_on_drop();
    if store.backend() == Backend::Postgres {
        // One node migrates; the others wait here, then find nothing to do.
        sqlx::query("SELECT pg_advisory_lock(7265647061727401)")
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(store, &mut conn).await;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock(7265647061727401)")
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(store: &Store, conn: &mut sqlx::AnyConnection) -> Result<usize> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let mut applied = 0;
    for (version, name, sqlite_sql, pg_sql) in MIGRATIONS {
        let sql = match store.backend() {
            Backend::Sqlite => sqlite_sql,
            Backend::Postgres => pg_sql,
        };
        conn.execute(crate::write::begin_sql(store.backend()))
            .await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *conn)
                .await?;
        if done.is_some() {
            conn.execute("ROLLBACK").await?;
            continue;
        }
        for stmt in statements(sql) {
            let stmt = match store.backend() {
                Backend::Postgres => stmt.replace(" BLOB", " BYTEA"),
                Backend::Sqlite => stmt,
            };
            sqlx::query(sqlx::AssertSqlSafe(stmt))
                .execute(&mut *conn)
                .await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(*version)
        .bind(*name)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        conn.execute("COMMIT").await?;
        applied += 1;
        tracing::info!(version, name, "migration applied");
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    #[test]
    fn statements_split_and_skip_comments() {
        let s = super::statements(
            "-- a comment; with semicolon\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX i ON a(x);\n",
        );
        assert_eq!(s, vec!["CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a(x)"]);
        let s = super::statements(
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (1);\n  INSERT INTO c VALUES (2);\nEND;\nSELECT 1;\n",
        );
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].ends_with("END"));
        assert_eq!(s[1], "SELECT 1");
    }
}
