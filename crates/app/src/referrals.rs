//! Referrals to authorities and services, through the domain's state machine: proposed,
//! a lawful basis recorded (who consented, and to what — or the legal obligation or vital
//! interest that stands instead), transmitted (what was shared, with whom, how: each piece
//! of evidence shared is a custody event), acknowledged, closed with its outcome; declined
//! or cancelled. Sexual images of a minor are never files: what such an item shares is its
//! URL and fingerprints. No transmission without a recorded basis.

use crate::App;
use crate::error::{AppError, ErrorCode};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::ids::{CaseId, EvidenceId};
use rempart_domain::policy::{Action, Actor};
use rempart_domain::referral::{ConsentBasis, ReferralEvent, ReferralState};
use rempart_domain::values::Text;
use rempart_storage::{AuditEntry, ReferralRecord, StorageError};

/// The longest text of a referral's fields, in characters.
const MAX_TEXT: usize = 2000;

/// A transmission.
#[derive(Debug, Clone, Default)]
pub struct Transmission {
    /// The evidence shared (of the case).
    pub evidence: Vec<EvidenceId>,
    /// With whom.
    pub recipient: String,
    /// How: email, portal, phone, in_person, post.
    pub channel: String,
    /// What was said or shared, in words.
    pub note: Option<String>,
    /// Send it by e-mail from the helpline now (the channel is `email`, the recipient an
    /// address): URLs and fingerprints, never a file.
    pub by_email: bool,
    /// The e-mail's language (`fr` by default).
    pub lang: Option<String>,
}

/// The ways a referral is transmitted.
pub const CHANNELS: &[&str] = &["email", "portal", "phone", "in_person", "post"];

fn text(field: &str, v: &str) -> Result<String, AppError> {
    Text::parse(v.trim(), MAX_TEXT)
        .map(|t| t.into_string())
        .map_err(|e| AppError::field(field, &e.to_string()))
}

/// An optional text: empty is none.
fn opt_text(field: &str, v: &str) -> Result<Option<String>, AppError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    text(field, v).map(Some)
}

fn transition(e: rempart_domain::notice::TransitionError) -> AppError {
    AppError::new(ErrorCode::InvalidTransition, e.to_string())
}

fn conflict(e: StorageError) -> AppError {
    match e {
        StorageError::Conflict => AppError::new(
            ErrorCode::Conflict,
            "the referral changed meanwhile: reload it",
        ),
        other => other.into(),
    }
}

impl App {
    /// Proposes a referral of the case to a service of the directory.
    pub async fn propose_referral(
        &self,
        actor: &Actor,
        case: CaseId,
        service: &str,
    ) -> Result<ReferralRecord, AppError> {
        self.case_for(actor, case, Action::PrepareReferral).await?;
        if self.directory().service(service).is_none() {
            return Err(AppError::field("service", "unknown service"));
        }
        let now = self.now();
        let r = ReferralRecord {
            id: uuid::Uuid::now_v7().to_string(),
            case_id: case,
            service: service.to_owned(),
            state: ReferralState::Proposed,
            basis: None,
            consent_by: None,
            consent_scope: None,
            consent_at: None,
            recipient: None,
            channel: None,
            shared: Vec::new(),
            note: None,
            outcome: None,
            created_by: actor.id,
            created_at: now,
            sent_at: None,
            updated_at: now,
            mail: None,
        };
        let audit = AuditEntry::new(
            now,
            Some(actor.id),
            AuditEvent::ReferralProposed {
                service: service.to_owned(),
            },
        )
        .object(&r.id)
        .case(case);
        self.store.create_referral(&r, &audit).await?;
        Ok(r)
    }

    /// A case's referrals.
    pub async fn case_referrals(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> Result<Vec<ReferralRecord>, AppError> {
        self.case_for(actor, case, Action::ReadCase).await?;
        Ok(self.store.case_referrals(case).await?)
    }

    async fn referral_for(
        &self,
        actor: &Actor,
        case: CaseId,
        id: &str,
    ) -> Result<ReferralRecord, AppError> {
        self.case_for(actor, case, Action::PrepareReferral).await?;
        self.store
            .referral(case, id)
            .await?
            .ok_or_else(AppError::not_found)
    }

    /// Records the basis of a referral: who consented and to what (or the legal obligation
    /// or vital interest that stands without consent).
    pub async fn record_referral_basis(
        &self,
        actor: &Actor,
        case: CaseId,
        id: &str,
        basis: ConsentBasis,
        by: &str,
        scope: &str,
    ) -> Result<ReferralRecord, AppError> {
        let mut r = self.referral_for(actor, case, id).await?;
        let from = r.state;
        r.state = from
            .apply(&ReferralEvent::RecordConsent(basis))
            .map_err(transition)?;
        if basis.is_consent() && by.trim().is_empty() {
            return Err(AppError::field("consent_by", "who consented"));
        }
        let now = self.now();
        r.basis = Some(basis);
        r.consent_by = opt_text("consent_by", by)?;
        r.consent_scope = opt_text("consent_scope", scope)?;
        r.consent_at = Some(now);
        r.updated_at = now;
        let audit = AuditEntry::new(
            now,
            Some(actor.id),
            AuditEvent::ReferralConsentRecorded { basis },
        )
        .object(&r.id)
        .case(case);
        self.store
            .change_referral(&r, from, &[audit], None)
            .await
            .map_err(conflict)?;
        Ok(r)
    }

    /// Records the transmission: what was shared, with whom, how; each piece of evidence
    /// shared gets its custody event, in the same transaction as the change.
    pub async fn transmit_referral(
        &self,
        actor: &Actor,
        case: CaseId,
        id: &str,
        t: Transmission,
    ) -> Result<ReferralRecord, AppError> {
        let mut r = self.referral_for(actor, case, id).await?;
        let from = r.state;
        r.state = from.apply(&ReferralEvent::Send).map_err(transition)?;
        if !CHANNELS.contains(&t.channel.as_str()) {
            return Err(AppError::field(
                "channel",
                "email, portal, phone, in_person or post",
            ));
        }
        let recipient = opt_text("recipient", &t.recipient)?
            .ok_or_else(|| AppError::field("recipient", "with whom"))?;
        let mut shared = t.evidence.clone();
        shared.sort_unstable_by_key(|e| e.to_string());
        shared.dedup();
        for e in &shared {
            // only the case's own evidence
            if self.store.evidence(case, *e).await?.is_none() {
                return Err(AppError::field("evidence", "not evidence of this case"));
            }
        }
        let now = self.now();
        r.recipient = Some(recipient);
        r.channel = Some(t.channel.clone());
        r.note = match t.note.as_deref() {
            Some(n) => opt_text("note", n)?,
            None => None,
        };
        r.shared = shared.clone();
        r.sent_at = Some(now);
        r.updated_at = now;
        let job = if t.by_email {
            if t.channel != "email" {
                return Err(AppError::field("by_email", "only with the email channel"));
            }
            let c = self
                .store
                .case_by_id(case)
                .await?
                .ok_or_else(AppError::not_found)?;
            let mut evidence = Vec::with_capacity(shared.len());
            for e in &shared {
                evidence.extend(self.store.evidence(case, *e).await?);
            }
            let lang = t.lang.as_deref().unwrap_or("fr");
            r.mail = Some(self.referral_mail(&r, &c, &evidence, lang, now)?);
            Some(crate::referral_mail::job_for(&r.id, now))
        } else {
            None
        };
        let mut audits: Vec<AuditEntry> = shared
            .iter()
            .map(|e| {
                AuditEntry::new(
                    now,
                    Some(actor.id),
                    AuditEvent::EvidenceTransmitted {
                        referral: r.id.clone(),
                    },
                )
                .object(e)
                .case(case)
            })
            .collect();
        audits.push(
            AuditEntry::new(
                now,
                Some(actor.id),
                AuditEvent::ReferralChanged {
                    state: ReferralState::Sent,
                },
            )
            .object(&r.id)
            .case(case),
        );
        self.store
            .change_referral(&r, from, &audits, job.as_ref())
            .await
            .map_err(conflict)?;
        if job.is_some() {
            self.wake_delivery();
        }
        Ok(r)
    }

    /// Moves a referral on: acknowledged, closed (with its outcome), declined, cancelled.
    pub async fn change_referral(
        &self,
        actor: &Actor,
        case: CaseId,
        id: &str,
        event: ReferralEvent,
        outcome: Option<&str>,
    ) -> Result<ReferralRecord, AppError> {
        if matches!(event, ReferralEvent::RecordConsent(_) | ReferralEvent::Send) {
            return Err(AppError::field(
                "event",
                "record the basis or the transmission instead",
            ));
        }
        let mut r = self.referral_for(actor, case, id).await?;
        let from = r.state;
        r.state = from.apply(&event).map_err(transition)?;
        let now = self.now();
        if let Some(o) = outcome {
            r.outcome = opt_text("outcome", o)?;
        }
        r.updated_at = now;
        let audit = AuditEntry::new(
            now,
            Some(actor.id),
            AuditEvent::ReferralChanged { state: r.state },
        )
        .object(&r.id)
        .case(case);
        self.store
            .change_referral(&r, from, &[audit], None)
            .await
            .map_err(conflict)?;
        Ok(r)
    }
}
