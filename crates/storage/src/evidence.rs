//! Evidence rows (the files themselves are encrypted blobs elsewhere), the items each
//! supports, the cases' wrapped data keys, and the chain of custody read back from the
//! audit trail.

use crate::audit::AuditEntry;
use crate::{Result, StorageError, Store};
use rempart_domain::audit::AuditRecord;
use rempart_domain::case::EvidenceKind;
use rempart_domain::evidence::EvidenceSource;
use rempart_domain::ids::{CaseId, EvidenceId, ItemId, StaffId};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A piece of evidence as stored (also what is written: `number` and `added_by_name` are
/// filled on write and read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRecord {
    /// Id.
    pub id: EvidenceId,
    /// Case.
    pub case_id: CaseId,
    /// Its number in the case (1, 2, …), given on write.
    pub number: i64,
    /// Kind.
    pub kind: EvidenceKind,
    /// Who brought it in.
    pub source: EvidenceSource,
    /// The staff member who added it (None: the young person, a channel).
    pub added_by: Option<StaffId>,
    /// Their display name (filled on read).
    pub added_by_name: Option<String>,
    /// Received (ms).
    pub received_at: i64,
    /// Where it was captured: `console`, `followup`, `api`, or a channel's code.
    pub captured_from: String,
    /// A description.
    pub description: Option<String>,
    /// The URL (links, fingerprints only).
    pub url: Option<String>,
    /// A text excerpt.
    pub excerpt: Option<String>,
    /// The file's original name, as data.
    pub original_name: Option<String>,
    /// The file's type, decided by its bytes (`jpeg`, `pdf`, …).
    pub file_type: Option<String>,
    /// Its MIME type.
    pub mime: Option<String>,
    /// Size in bytes of the original.
    pub size: Option<i64>,
    /// Width in pixels (images).
    pub width: Option<i64>,
    /// Height in pixels (images).
    pub height: Option<i64>,
    /// SHA-256 of the original, hex.
    pub sha256: Option<String>,
    /// MD5 of the original, hex.
    pub md5: Option<String>,
    /// PDQ, hex.
    pub pdq: Option<String>,
    /// PDQ quality.
    pub pdq_quality: Option<i64>,
    /// Marked as a sexual image of a minor (then never a file).
    pub sexual_image_of_minor: bool,
    /// An intimate image: blurred by default for staff.
    pub intimate: bool,
    /// Which encrypted copies exist: `original`, `clean`, `display`, `blurred`.
    pub copies: Vec<String>,
    /// The case's items it supports.
    pub items: Vec<ItemId>,
}

/// A stored fingerprint, for the hash bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFingerprint {
    /// The evidence.
    pub evidence: EvidenceId,
    /// Its case.
    pub case_id: CaseId,
    /// PDQ, hex.
    pub pdq: String,
    /// Received (ms).
    pub received_at: i64,
}

const COLS: &str = "e.id, e.case_id, e.number, e.kind, e.source, e.added_by, s.display_name, \
     e.received_at, e.captured_from, e.description, e.url, e.excerpt, e.original_name, e.file_type, \
     e.mime, e.size, e.width, e.height, e.sha256, e.md5, e.pdq, e.pdq_quality, \
     e.sexual_image_of_minor, e.intimate, e.copies";

fn corrupt(what: &'static str) -> impl Fn(rempart_domain::labelled::UnknownCode) -> StorageError {
    move |_| StorageError::Corrupt(what)
}

fn row(r: &AnyRow) -> Result<EvidenceRecord> {
    let id: String = r.try_get(0)?;
    let case: String = r.try_get(1)?;
    let kind: String = r.try_get(3)?;
    let source: String = r.try_get(4)?;
    let added_by: Option<String> = r.try_get(5)?;
    let sexual: i64 = r.try_get(22)?;
    let intimate: i64 = r.try_get(23)?;
    let copies: String = r.try_get(24)?;
    Ok(EvidenceRecord {
        id: EvidenceId::parse(&id).map_err(|_| StorageError::Corrupt("evidence.id"))?,
        case_id: CaseId::parse(&case).map_err(|_| StorageError::Corrupt("evidence.case_id"))?,
        number: r.try_get(2)?,
        kind: EvidenceKind::parse(&kind).map_err(corrupt("evidence.kind"))?,
        source: EvidenceSource::parse(&source)
            .map_err(|_| StorageError::Corrupt("evidence.source"))?,
        added_by: added_by
            .map(|s| StaffId::parse(&s).map_err(|_| StorageError::Corrupt("evidence.added_by")))
            .transpose()?,
        added_by_name: r.try_get(6)?,
        received_at: r.try_get(7)?,
        captured_from: r.try_get(8)?,
        description: r.try_get(9)?,
        url: r.try_get(10)?,
        excerpt: r.try_get(11)?,
        original_name: r.try_get(12)?,
        file_type: r.try_get(13)?,
        mime: r.try_get(14)?,
        size: r.try_get(15)?,
        width: r.try_get(16)?,
        height: r.try_get(17)?,
        sha256: r.try_get(18)?,
        md5: r.try_get(19)?,
        pdq: r.try_get(20)?,
        pdq_quality: r.try_get(21)?,
        sexual_image_of_minor: sexual != 0,
        intimate: intimate != 0,
        copies: copies
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        items: Vec::new(),
    })
}

impl Store {
    /// The case's wrapped data key, if it has one.
    pub async fn case_key(&self, case: CaseId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT wrapped FROM case_keys WHERE case_id = $1")
                .bind(case.to_string())
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Stores `wrapped` as the case's data key unless it has one already (two nodes
    /// creating it at once: the first wins); answers the key the case now has.
    /// `NotFound` for no case.
    pub async fn ensure_case_key(&self, case: CaseId, wrapped: &str, at: i64) -> Result<String> {
        let mut w = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM cases WHERE id = $1")
            .bind(case.to_string())
            .fetch_optional(w.conn())
            .await?;
        if exists.is_none() {
            return w.refuse(StorageError::NotFound).await;
        }
        sqlx::query(
            "INSERT INTO case_keys (case_id, wrapped, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (case_id) DO NOTHING",
        )
        .bind(case.to_string())
        .bind(wrapped.to_owned())
        .bind(at)
        .execute(w.conn())
        .await?;
        let key: String = sqlx::query_scalar("SELECT wrapped FROM case_keys WHERE case_id = $1")
            .bind(case.to_string())
            .fetch_one(w.conn())
            .await?;
        w.commit_unaudited().await?;
        Ok(key)
    }

    /// Records a piece of evidence with the items it supports and its audit event (the
    /// start of its custody) in one transaction; answers it with its number in the case.
    /// `NotFound` for no case, or an item that is not the case's.
    pub async fn add_evidence(
        &self,
        e: &EvidenceRecord,
        audit: &AuditEntry,
    ) -> Result<EvidenceRecord> {
        let mut w = self.begin_write().await?;
        // the case's row lock serialises the numbering of its evidence across nodes
        if let Err(err) = crate::cases::touch_case(w.conn(), e.case_id, audit.at).await {
            return w.refuse(err).await;
        }
        for item in &e.items {
            let owner: Option<String> =
                sqlx::query_scalar("SELECT case_id FROM items WHERE id = $1")
                    .bind(item.to_string())
                    .fetch_optional(w.conn())
                    .await?;
            if owner.as_deref() != Some(e.case_id.to_string().as_str()) {
                return w.refuse(StorageError::NotFound).await;
            }
        }
        let number: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM evidence WHERE case_id = $1",
        )
        .bind(e.case_id.to_string())
        .fetch_one(w.conn())
        .await?;
        sqlx::query(
            "INSERT INTO evidence (id, case_id, number, kind, source, added_by, received_at, \
             captured_from, description, url, excerpt, original_name, file_type, mime, size, width, \
             height, sha256, md5, pdq, pdq_quality, sexual_image_of_minor, intimate, copies) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $23, $24)",
        )
        .bind(e.id.to_string())
        .bind(e.case_id.to_string())
        .bind(number)
        .bind(e.kind.as_str())
        .bind(e.source.as_str())
        .bind(e.added_by.map(|s| s.to_string()))
        .bind(e.received_at)
        .bind(e.captured_from.clone())
        .bind(e.description.clone())
        .bind(e.url.clone())
        .bind(e.excerpt.clone())
        .bind(e.original_name.clone())
        .bind(e.file_type.clone())
        .bind(e.mime.clone())
        .bind(e.size)
        .bind(e.width)
        .bind(e.height)
        .bind(e.sha256.clone())
        .bind(e.md5.clone())
        .bind(e.pdq.clone())
        .bind(e.pdq_quality)
        .bind(i64::from(e.sexual_image_of_minor))
        .bind(i64::from(e.intimate))
        .bind(e.copies.join(","))
        .execute(w.conn())
        .await
        .map_err(crate::conflict_on_unique)?;
        for item in &e.items {
            sqlx::query("INSERT INTO evidence_items (evidence_id, item_id) VALUES ($1, $2)")
                .bind(e.id.to_string())
                .bind(item.to_string())
                .execute(w.conn())
                .await?;
        }
        w.commit(audit).await?;
        let mut out = e.clone();
        out.number = number;
        Ok(out)
    }

    /// A case's evidence, by number.
    pub async fn case_evidence(&self, case: CaseId) -> Result<Vec<EvidenceRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM evidence e LEFT JOIN staff s ON s.id = e.added_by \
             WHERE e.case_id = $1 ORDER BY e.number"
        )))
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut out = rows.iter().map(row).collect::<Result<Vec<_>>>()?;
        let links = sqlx::query(
            "SELECT ei.evidence_id, ei.item_id FROM evidence_items ei \
             JOIN evidence e ON e.id = ei.evidence_id WHERE e.case_id = $1 \
             ORDER BY ei.item_id",
        )
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        for l in &links {
            let ev: String = l.try_get(0)?;
            let item: String = l.try_get(1)?;
            let item = ItemId::parse(&item)
                .map_err(|_| StorageError::Corrupt("evidence_items.item_id"))?;
            if let Some(e) = out.iter_mut().find(|e| e.id.to_string() == ev) {
                e.items.push(item);
            }
        }
        Ok(out)
    }

    /// One piece of evidence of a case (`None`: not this case's, or none).
    pub async fn evidence(&self, case: CaseId, id: EvidenceId) -> Result<Option<EvidenceRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM evidence e LEFT JOIN staff s ON s.id = e.added_by \
             WHERE e.case_id = $1 AND e.id = $2"
        )))
        .bind(case.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let mut e = row(&r)?;
        let items: Vec<String> = sqlx::query_scalar(
            "SELECT item_id FROM evidence_items WHERE evidence_id = $1 ORDER BY item_id",
        )
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        e.items = items
            .iter()
            .map(|i| ItemId::parse(i).map_err(|_| StorageError::Corrupt("evidence_items.item_id")))
            .collect::<Result<_>>()?;
        Ok(Some(e))
    }

    /// Appends custody events (views, downloads, exports, transmissions) in one
    /// transaction: all or none.
    pub async fn record_custody(&self, events: &[AuditEntry]) -> Result<()> {
        let Some((last, rest)) = events.split_last() else {
            return Ok(());
        };
        let mut w = self.begin_write().await?;
        for e in rest {
            w.audit(e).await?;
        }
        w.commit(last).await
    }

    /// The chain of custody of a case's evidence: every `evidence.*` event, oldest first.
    pub async fn custody_log(&self, case: CaseId) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_id, action, object_type, object_id, case_id, detail, prev_hash, hash \
             FROM audit_events WHERE case_id = $1 AND object_type = 'evidence' ORDER BY seq",
        )
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(crate::audit::record).collect()
    }

    /// Evidence of any case with this SHA-256 or MD5 (a file or fingerprints seen before).
    pub async fn evidence_with_digest(
        &self,
        sha256: &str,
        md5: Option<&str>,
    ) -> Result<Vec<(EvidenceId, CaseId)>> {
        let rows = sqlx::query(
            "SELECT id, case_id FROM evidence WHERE sha256 = $1 OR (md5 IS NOT NULL AND md5 = $2) \
             ORDER BY received_at LIMIT 50",
        )
        .bind(sha256.to_owned())
        .bind(md5.unwrap_or("-").to_owned())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let case: String = r.try_get(1)?;
                Ok((
                    EvidenceId::parse(&id).map_err(|_| StorageError::Corrupt("evidence.id"))?,
                    CaseId::parse(&case).map_err(|_| StorageError::Corrupt("evidence.case_id"))?,
                ))
            })
            .collect()
    }

    /// PDQ fingerprints received at or after `since` (ms), oldest first (the hash bank
    /// loads them at start and then what came since).
    pub async fn fingerprints_since(&self, since: i64) -> Result<Vec<StoredFingerprint>> {
        let rows = sqlx::query(
            "SELECT id, case_id, pdq, received_at FROM evidence \
             WHERE pdq IS NOT NULL AND received_at >= $1 ORDER BY received_at, id",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let case: String = r.try_get(1)?;
                Ok(StoredFingerprint {
                    evidence: EvidenceId::parse(&id)
                        .map_err(|_| StorageError::Corrupt("evidence.id"))?,
                    case_id: CaseId::parse(&case)
                        .map_err(|_| StorageError::Corrupt("evidence.case_id"))?,
                    pdq: r.try_get(2)?,
                    received_at: r.try_get(3)?,
                })
            })
            .collect()
    }
}
