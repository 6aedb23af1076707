//! Referrals of a case to an authority or a service, and their changes: each change is one
//! transaction with its audit events (and, for a transmission, one custody event per piece
//! of evidence shared), guarded by the state it starts from, so that two nodes changing the
//! same referral at once cannot both succeed.

use crate::audit::AuditEntry;
use crate::{Result, StorageError, Store};
use rempart_domain::ids::{CaseId, EvidenceId, StaffId};
use rempart_domain::referral::{ConsentBasis, ReferralState};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A referral as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRecord {
    /// Id (UUIDv7 text).
    pub id: String,
    /// The case.
    pub case_id: CaseId,
    /// The service's code in the directory.
    pub service: String,
    /// Where it stands.
    pub state: ReferralState,
    /// The lawful basis, once recorded.
    pub basis: Option<ConsentBasis>,
    /// Who gave the consent, in words ("la jeune fille", "sa mère").
    pub consent_by: Option<String>,
    /// What the consent covers, in words.
    pub consent_scope: Option<String>,
    /// When the basis was recorded (ms).
    pub consent_at: Option<i64>,
    /// With whom it was shared (the service's address, a person's name).
    pub recipient: Option<String>,
    /// How (e-mail, the service's portal, the phone, in person, post).
    pub channel: Option<String>,
    /// The evidence shared.
    pub shared: Vec<EvidenceId>,
    /// What was said or shared, in words.
    pub note: Option<String>,
    /// The outcome, once known.
    pub outcome: Option<String>,
    /// Who proposed it.
    pub created_by: StaffId,
    /// When (ms).
    pub created_at: i64,
    /// When it was transmitted (ms).
    pub sent_at: Option<i64>,
    /// Last change (ms).
    pub updated_at: i64,
}

const COLS: &str = "id, case_id, service, state, basis, consent_by, consent_scope, consent_at, \
     recipient, channel, shared, note, outcome, created_by, created_at, sent_at, updated_at";

fn record(r: &AnyRow) -> Result<ReferralRecord> {
    let corrupt = |what| StorageError::Corrupt(what);
    let case: String = r.try_get(1)?;
    let state: String = r.try_get(3)?;
    let basis: Option<String> = r.try_get(4)?;
    let shared: String = r.try_get(10)?;
    let by: String = r.try_get(13)?;
    Ok(ReferralRecord {
        id: r.try_get(0)?,
        case_id: CaseId::parse(&case).map_err(|_| corrupt("referrals.case_id"))?,
        service: r.try_get(2)?,
        state: ReferralState::parse(&state).map_err(|_| corrupt("referrals.state"))?,
        basis: basis
            .map(|b| ConsentBasis::parse(&b).map_err(|_| corrupt("referrals.basis")))
            .transpose()?,
        consent_by: r.try_get(5)?,
        consent_scope: r.try_get(6)?,
        consent_at: r.try_get(7)?,
        recipient: r.try_get(8)?,
        channel: r.try_get(9)?,
        shared: shared
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| EvidenceId::parse(s).map_err(|_| corrupt("referrals.shared")))
            .collect::<Result<_>>()?,
        note: r.try_get(11)?,
        outcome: r.try_get(12)?,
        created_by: StaffId::parse(&by).map_err(|_| corrupt("referrals.created_by"))?,
        created_at: r.try_get(14)?,
        sent_at: r.try_get(15)?,
        updated_at: r.try_get(16)?,
    })
}

fn csv(ids: &[EvidenceId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Records a new referral with its audit event. `NotFound` for no case.
    pub async fn create_referral(&self, r: &ReferralRecord, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        if let Err(err) = crate::cases::touch_case(w.conn(), r.case_id, audit.at).await {
            return w.refuse(err).await;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO referrals ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17)"
        )))
        .bind(r.id.clone())
        .bind(r.case_id.to_string())
        .bind(r.service.clone())
        .bind(r.state.as_str())
        .bind(r.basis.map(|b| b.as_str()))
        .bind(r.consent_by.clone())
        .bind(r.consent_scope.clone())
        .bind(r.consent_at)
        .bind(r.recipient.clone())
        .bind(r.channel.clone())
        .bind(csv(&r.shared))
        .bind(r.note.clone())
        .bind(r.outcome.clone())
        .bind(r.created_by.to_string())
        .bind(r.created_at)
        .bind(r.sent_at)
        .bind(r.updated_at)
        .execute(w.conn())
        .await
        .map_err(crate::conflict_on_unique)?;
        w.commit(audit).await
    }

    /// A case's referral.
    pub async fn referral(&self, case: CaseId, id: &str) -> Result<Option<ReferralRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM referrals WHERE case_id = $1 AND id = $2"
        )))
        .bind(case.to_string())
        .bind(id.to_owned())
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(record).transpose()
    }

    /// A case's referrals, oldest first.
    pub async fn case_referrals(&self, case: CaseId) -> Result<Vec<ReferralRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM referrals WHERE case_id = $1 ORDER BY created_at, id"
        )))
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Writes a referral's new version if it still stands where `from` says, with its audit
    /// events (the change's, then custody events), all in one transaction. `Conflict` when
    /// another change came first; `NotFound` for no such referral.
    pub async fn change_referral(
        &self,
        r: &ReferralRecord,
        from: ReferralState,
        audits: &[AuditEntry],
    ) -> Result<()> {
        let Some((last, rest)) = audits.split_last() else {
            return Err(StorageError::Corrupt(
                "a referral change without its audit event",
            ));
        };
        let mut w = self.begin_write().await?;
        if let Err(err) = crate::cases::touch_case(w.conn(), r.case_id, last.at).await {
            return w.refuse(err).await;
        }
        let n = sqlx::query(
            "UPDATE referrals SET state = $1, basis = $2, consent_by = $3, consent_scope = $4, \
             consent_at = $5, recipient = $6, channel = $7, shared = $8, note = $9, outcome = $10, \
             sent_at = $11, updated_at = $12 WHERE id = $13 AND case_id = $14 AND state = $15",
        )
        .bind(r.state.as_str())
        .bind(r.basis.map(|b| b.as_str()))
        .bind(r.consent_by.clone())
        .bind(r.consent_scope.clone())
        .bind(r.consent_at)
        .bind(r.recipient.clone())
        .bind(r.channel.clone())
        .bind(csv(&r.shared))
        .bind(r.note.clone())
        .bind(r.outcome.clone())
        .bind(r.sent_at)
        .bind(r.updated_at)
        .bind(r.id.clone())
        .bind(r.case_id.to_string())
        .bind(from.as_str())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM referrals WHERE id = $1 AND case_id = $2")
                    .bind(r.id.clone())
                    .bind(r.case_id.to_string())
                    .fetch_optional(w.conn())
                    .await?;
            let err = if exists.is_some() {
                StorageError::Conflict
            } else {
                StorageError::NotFound
            };
            return w.refuse(err).await;
        }
        for e in rest {
            w.audit(e).await?;
        }
        w.commit(last).await
    }
}
