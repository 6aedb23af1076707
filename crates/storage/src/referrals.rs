//! Referrals of a case to an authority or a service, and their changes: each change is one
//! transaction with its audit events (and, for a transmission, one custody event per piece
//! of evidence shared), guarded by the state it starts from, so that two nodes changing the
//! same referral at once cannot both succeed.

use crate::audit::AuditEntry;
use crate::jobs::{ClaimedJob, JobEnd, NewJob};
use crate::{Result, StorageError, Store};
use rempart_domain::ids::{CaseId, EvidenceId, StaffId};
use rempart_domain::referral::{ConsentBasis, ReferralMailState, ReferralState};
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
    /// The e-mail the helpline sends it by, if it does.
    pub mail: Option<ReferralMail>,
}

/// A referral's e-mail, sent by the helpline.
#[derive(Clone, PartialEq, Eq)]
pub struct ReferralMail {
    /// Its exact bytes (7-bit), sent as they are on every attempt.
    pub bytes: String,
    /// Where it stands.
    pub state: ReferralMailState,
    /// Its Message-ID.
    pub message_id: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last failure's code.
    pub error: Option<String>,
    /// When the SMTP server took it (ms).
    pub sent_at: Option<i64>,
}

impl std::fmt::Debug for ReferralMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the mail's words or addresses
        f.debug_struct("ReferralMail")
            .field("state", &self.state)
            .field("attempts", &self.attempts)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Where a referral's e-mail stands after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailChange {
    /// The new state.
    pub state: ReferralMailState,
    /// Attempts made.
    pub attempts: i64,
    /// The failure's code, if any.
    pub error: Option<String>,
    /// When the server took it.
    pub sent_at: Option<i64>,
    /// When (ms).
    pub at: i64,
}

const COLS: &str = "id, case_id, service, state, basis, consent_by, consent_scope, consent_at, \
     recipient, channel, shared, note, outcome, created_by, created_at, sent_at, updated_at, \
     mail, mail_state, mail_message_id, mail_attempts, mail_error, mail_sent_at";

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
        mail: mail(r)?,
    })
}

fn mail(r: &AnyRow) -> Result<Option<ReferralMail>> {
    let bytes: Option<String> = r.try_get(17)?;
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let state: Option<String> = r.try_get(18)?;
    let state = state
        .as_deref()
        .and_then(|s| ReferralMailState::parse(s).ok())
        .ok_or(StorageError::Corrupt("referrals.mail_state"))?;
    let message_id: Option<String> = r.try_get(19)?;
    Ok(Some(ReferralMail {
        bytes,
        state,
        message_id: message_id.unwrap_or_default(),
        attempts: r.try_get(20)?,
        error: r.try_get(21)?,
        sent_at: r.try_get(22)?,
    }))
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
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
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
        .bind(r.mail.as_ref().map(|m| m.bytes.clone()))
        .bind(r.mail.as_ref().map(|m| m.state.as_str()))
        .bind(r.mail.as_ref().map(|m| m.message_id.clone()))
        .bind(r.mail.as_ref().map(|m| m.attempts).unwrap_or(0))
        .bind(r.mail.as_ref().and_then(|m| m.error.clone()))
        .bind(r.mail.as_ref().and_then(|m| m.sent_at))
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
    /// events (the change's, then custody events) and the job that sends its e-mail, all in
    /// one transaction. `Conflict` when another change came first; `NotFound` for no such
    /// referral.
    pub async fn change_referral(
        &self,
        r: &ReferralRecord,
        from: ReferralState,
        audits: &[AuditEntry],
        job: Option<&NewJob>,
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
        // the mail's columns are written with the transmission that makes it, and after that
        // only by its job's end (a later change holds a stale copy of them)
        let mail_cols = if job.is_some() {
            ", mail = $16, mail_state = $17, mail_message_id = $18, mail_attempts = $19, \
             mail_error = $20, mail_sent_at = $21"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE referrals SET state = $1, basis = $2, consent_by = $3, consent_scope = $4, \
             consent_at = $5, recipient = $6, channel = $7, shared = $8, note = $9, outcome = $10, \
             sent_at = $11, updated_at = $12{mail_cols} \
             WHERE id = $13 AND case_id = $14 AND state = $15"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
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
            .bind(from.as_str());
        if job.is_some() {
            q = q
                .bind(r.mail.as_ref().map(|m| m.bytes.clone()))
                .bind(r.mail.as_ref().map(|m| m.state.as_str()))
                .bind(r.mail.as_ref().map(|m| m.message_id.clone()))
                .bind(r.mail.as_ref().map(|m| m.attempts).unwrap_or(0))
                .bind(r.mail.as_ref().and_then(|m| m.error.clone()))
                .bind(r.mail.as_ref().and_then(|m| m.sent_at));
        }
        let n = q.execute(w.conn()).await?.rows_affected();
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
        if r.state == ReferralState::Cancelled {
            // a cancelled referral's mail does not leave (its job finds it failed)
            sqlx::query(
                "UPDATE referrals SET mail_state = 'failed', mail_error = 'cancelled' \
                 WHERE id = $1 AND mail_state = 'queued'",
            )
            .bind(r.id.clone())
            .execute(w.conn())
            .await?;
        }
        for e in rest {
            w.audit(e).await?;
        }
        if let Some(j) = job {
            crate::jobs::enqueue(w.conn(), j, last.at).await?;
        }
        w.commit(last).await
    }

    /// The referral with this id, whatever its case (for the job that sends its e-mail).
    pub async fn referral_by_id(&self, id: &str) -> Result<Option<ReferralRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM referrals WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(record).transpose()
    }

    /// Ends the job that sends a referral's e-mail and records where the mail stands, with
    /// its audit event when it has one, in one transaction; `false` (nothing written) when
    /// the job's lease was no longer this worker's.
    pub async fn end_referral_mail(
        &self,
        job: &ClaimedJob,
        how: &JobEnd,
        referral: &str,
        change: &MailChange,
        audit: Option<&AuditEntry>,
    ) -> Result<bool> {
        let mut w = self.begin_write().await?;
        if !crate::jobs::end(w.conn(), job, how, change.at).await? {
            w.abandon().await;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE referrals SET mail_state = $1, mail_attempts = $2, mail_error = $3, \
             mail_sent_at = COALESCE($4, mail_sent_at), updated_at = $5 \
             WHERE id = $6 AND mail IS NOT NULL",
        )
        .bind(change.state.as_str())
        .bind(change.attempts)
        .bind(change.error.clone())
        .bind(change.sent_at)
        .bind(change.at)
        .bind(referral.to_owned())
        .execute(w.conn())
        .await?;
        match audit {
            Some(a) => w.commit(a).await?,
            None => w.commit_unaudited().await?,
        }
        Ok(true)
    }
}
