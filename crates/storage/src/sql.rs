//! A tiny builder for queries with optional filters: it numbers the `$n` placeholders
//! and keeps the values in order, so no value is ever spliced into SQL text.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

enum Value {
    Text(String),
    Int(i64),
}

pub(crate) struct Query {
    sql: String,
    values: Vec<Value>,
}

impl Query {
    pub(crate) fn new(sql: impl Into<String>) -> Self {
        Query {
            sql: sql.into(),
            values: Vec::new(),
        }
    }
    pub(crate) fn push(&mut self, s: &str) -> &mut Self {
        self.sql.push_str(s);
        self
    }
    pub(crate) fn bind_text(&mut self, v: String) -> &mut Self {
        self.values.push(Value::Text(v));
        self.sql.push_str(&format!("${}", self.values.len()));
        self
    }
    pub(crate) fn bind_int(&mut self, v: i64) -> &mut Self {
        self.values.push(Value::Int(v));
        self.sql.push_str(&format!("${}", self.values.len()));
        self
    }
    /// Runs the statement on `conn` (inside a transaction); the rows it changed.
    pub(crate) async fn execute(self, conn: &mut sqlx::AnyConnection) -> Result<u64, sqlx::Error> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql));
        for v in self.values {
            q = match v {
                Value::Text(s) => q.bind(s),
                Value::Int(i) => q.bind(i),
            };
        }
        Ok(q.execute(conn).await?.rows_affected())
    }
    pub(crate) async fn fetch_all(self, pool: &AnyPool) -> Result<Vec<AnyRow>, sqlx::Error> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql));
        for v in self.values {
            q = match v {
                Value::Text(s) => q.bind(s),
                Value::Int(i) => q.bind(i),
            };
        }
        q.fetch_all(pool).await
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes `*`, `?` and `[` for a GLOB pattern (each becomes a one-character class).
pub(crate) fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}
