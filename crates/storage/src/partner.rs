//! The partner API's side of the store: the platforms' API keys (only their SHA-256 is
//! kept; issuing a new one gives the platform's other live keys an end, the rotation's
//! overlap; revoking ends one at once) and the pages of a platform's notices it pulls.

use crate::audit::AuditEntry;
use crate::notices::{COLUMNS, NoticeRecord};
use crate::sql::Query;
use crate::{Result, StorageError, Store};
use rempart_domain::directory::NoticeChannel;
use rempart_domain::ids::StaffId;
use rempart_domain::notice::NoticeState;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A key as stored (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerKeyRecord {
    /// Its id.
    pub id: String,
    /// The platform it opens.
    pub platform: String,
    /// Its first characters, to tell keys apart.
    pub prefix: String,
    /// Who issued it (None: the operator).
    pub created_by: Option<StaffId>,
    /// When (ms).
    pub created_at: i64,
    /// When it stops working, once a newer key replaced it (ms).
    pub expires_at: Option<i64>,
    /// When it was revoked (ms).
    pub revoked_at: Option<i64>,
}

impl PartnerKeyRecord {
    /// Whether it opens the API at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A key to write.
#[derive(Debug, Clone)]
pub struct NewPartnerKey {
    /// Its id.
    pub id: String,
    /// The platform.
    pub platform: String,
    /// Its first characters.
    pub prefix: String,
    /// The SHA-256 (hex) of the key's text.
    pub key_hash: String,
    /// Who issues it (None: the operator).
    pub created_by: Option<StaffId>,
    /// When (ms).
    pub at: i64,
}

/// One page of a platform's notices, in the order they were sent.
#[derive(Debug, Clone)]
pub struct PartnerNoticePage {
    /// The notices.
    pub notices: Vec<NoticeRecord>,
    /// Where the next page starts (sent time, id), if there may be one.
    pub next: Option<(i64, String)>,
}

const KEY_COLUMNS: &str = "id, platform, prefix, created_by, created_at, expires_at, revoked_at";

fn read_key(r: &AnyRow) -> Result<PartnerKeyRecord> {
    let by: Option<String> = r.try_get("created_by")?;
    Ok(PartnerKeyRecord {
        id: r.try_get("id")?,
        platform: r.try_get("platform")?,
        prefix: r.try_get("prefix")?,
        created_by: by
            .map(|b| {
                StaffId::parse(&b).map_err(|_| StorageError::Corrupt("partner_keys.created_by"))
            })
            .transpose()?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

impl Store {
    /// Writes a new key for its platform; the platform's other live keys stop at
    /// `others_until` (ms; now or later: the rotation's overlap) unless they already end
    /// sooner. One transaction, with its audit event.
    pub async fn issue_partner_key(
        &self,
        key: &NewPartnerKey,
        others_until: i64,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "UPDATE partner_keys SET expires_at = $1 WHERE platform = $2 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(others_until)
        .bind(&key.platform)
        .execute(w.conn())
        .await?;
        let r = sqlx::query(
            "INSERT INTO partner_keys (id, platform, prefix, key_hash, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.id)
        .bind(&key.platform)
        .bind(&key.prefix)
        .bind(&key.key_hash)
        .bind(key.created_by.map(|s| s.to_string()))
        .bind(key.at)
        .execute(w.conn())
        .await;
        if let Err(e) = r {
            return w.refuse(crate::conflict_on_unique(e)).await;
        }
        w.commit(audit).await
    }

    /// Revokes a key of `platform` at once; `NotFound` when it has no such key not yet
    /// revoked.
    pub async fn revoke_partner_key(
        &self,
        platform: &str,
        id: &str,
        at: i64,
        by: StaffId,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE partner_keys SET revoked_at = $1, revoked_by = $2 \
             WHERE id = $3 AND platform = $4 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(by.to_string())
        .bind(id)
        .bind(platform)
        .execute(w.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return w.refuse(StorageError::NotFound).await;
        }
        w.commit(audit).await
    }

    /// The key whose text hashes to `key_hash` (revoked and expired ones too: the caller
    /// says why it is refused).
    pub async fn partner_key_by_hash(&self, key_hash: &str) -> Result<Option<PartnerKeyRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM partner_keys WHERE key_hash = $1"
        )))
        .bind(key_hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(read_key).transpose()
    }

    /// A platform's keys, newest first.
    pub async fn partner_keys(&self, platform: &str) -> Result<Vec<PartnerKeyRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM partner_keys WHERE platform = $1 \
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(platform)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(read_key).collect()
    }

    /// A page of the notices sent to `platform` on `channel`, in one of `states`, in the
    /// order they were sent, after `after` (sent time, id), at most `limit`.
    pub async fn partner_notices(
        &self,
        platform: &str,
        channel: NoticeChannel,
        states: &[NoticeState],
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<PartnerNoticePage> {
        let mut q = Query::new(format!("SELECT {COLUMNS} FROM notices WHERE platform = "));
        q.bind_text(platform.to_owned());
        q.push(" AND channel = ");
        q.bind_text(channel.as_str().to_owned());
        q.push(" AND sent_at IS NOT NULL AND state IN (");
        for (i, s) in states.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind_text(s.as_str().to_owned());
        }
        q.push(")");
        if let Some((at, id)) = after {
            q.push(" AND (sent_at > ");
            q.bind_int(at);
            q.push(" OR (sent_at = ");
            q.bind_int(at);
            q.push(" AND id > ");
            q.bind_text(id);
            q.push("))");
        }
        q.push(" ORDER BY sent_at, id LIMIT ");
        q.bind_int(i64::from(limit) + 1);
        let mut rows = if states.is_empty() {
            Vec::new()
        } else {
            q.fetch_all(self.pool()).await?
        };
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let notices = self.with_items(rows).await?;
        let next = if more {
            notices
                .last()
                .and_then(|n| n.sent_at.map(|at| (at, n.id.to_string())))
        } else {
            None
        };
        Ok(PartnerNoticePage { notices, next })
    }
}
