//! Referrals of a case.

use super::ids;
use rempart_app::records::ReferralRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A referral to an authority or a service.
#[derive(Debug, Serialize, ToSchema)]
pub struct Referral {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// The service's code in the directory (`GET /services` in the console).
    pub service: String,
    /// proposed, consent_recorded, sent, acknowledged, closed, declined, cancelled.
    pub state: String,
    /// The lawful basis: victim, guardian, legal_obligation, vital_interest.
    #[schema(required)]
    pub basis: Option<String>,
    /// Who consented, in words.
    #[schema(required)]
    pub consent_by: Option<String>,
    /// What the consent covers.
    #[schema(required)]
    pub consent_scope: Option<String>,
    /// When the basis was recorded (ms).
    #[schema(required)]
    pub consent_at: Option<i64>,
    /// With whom it was shared.
    #[schema(required)]
    pub recipient: Option<String>,
    /// How: email, portal, phone, in_person, post.
    #[schema(required)]
    pub channel: Option<String>,
    /// The evidence shared.
    pub shared: Vec<String>,
    /// What was said or shared, in words.
    #[schema(required)]
    pub note: Option<String>,
    /// The outcome.
    #[schema(required)]
    pub outcome: Option<String>,
    /// Proposed (ms).
    pub created_at: i64,
    /// Transmitted (ms).
    #[schema(required)]
    pub sent_at: Option<i64>,
    /// The events allowed now.
    pub next: Vec<String>,
    /// The e-mail the helpline sends it by, when it does.
    #[schema(required)]
    pub mail: Option<ReferralMailOut>,
}

/// A referral's e-mail, sent by the helpline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralMailOut {
    /// queued (waiting for the SMTP server, retried after a transient failure), sent,
    /// failed.
    pub state: super::ReferralMailCode,
    /// Its Message-ID.
    pub message_id: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last failure, as a code (e.g. `smtp_451`).
    #[schema(required)]
    pub error: Option<String>,
    /// When the SMTP server took it (ms).
    #[schema(required)]
    pub sent_at: Option<i64>,
}

impl From<&ReferralRecord> for Referral {
    fn from(r: &ReferralRecord) -> Self {
        let mut next: Vec<String> = r
            .state
            .allowed_events()
            .iter()
            .map(|e| e.name().to_owned())
            .collect();
        next.dedup();
        Referral {
            id: r.id.clone(),
            service: r.service.clone(),
            state: r.state.as_str().to_owned(),
            basis: r.basis.map(|b| b.as_str().to_owned()),
            consent_by: r.consent_by.clone(),
            consent_scope: r.consent_scope.clone(),
            consent_at: r.consent_at,
            recipient: r.recipient.clone(),
            channel: r.channel.clone(),
            shared: ids(&r.shared),
            note: r.note.clone(),
            outcome: r.outcome.clone(),
            created_at: r.created_at,
            sent_at: r.sent_at,
            next,
            mail: r.mail.as_ref().map(|m| ReferralMailOut {
                state: m.state.into(),
                message_id: m.message_id.clone(),
                attempts: m.attempts,
                error: m.error.clone(),
                sent_at: m.sent_at,
            }),
        }
    }
}

/// Proposes a referral.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralReq {
    /// The service's code.
    pub service: String,
}

/// Records the lawful basis.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralBasisReq {
    /// victim, guardian, legal_obligation, vital_interest.
    pub basis: String,
    /// Who consented (required for victim and guardian).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub consent_by: String,
    /// What the consent covers.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub consent_scope: String,
}

/// Records the transmission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralTransmissionReq {
    /// The case's evidence shared.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// With whom.
    #[schema(min_length = 1, max_length = 2000)]
    pub recipient: String,
    /// email, portal, phone, in_person, post.
    pub channel: String,
    /// What was said or shared, in words.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Send it by e-mail from the helpline now (with the `email` channel and an address as
    /// the recipient; the server needs `[smtp] host`): the offences, the basis, the note and
    /// the evidence shared as words and JSON — URLs and fingerprints, never a file.
    #[serde(default)]
    pub by_email: bool,
    /// The e-mail's language (`fr` by default).
    #[schema(inline, value_type = Option<super::LangCode>)]
    pub lang: Option<String>,
}

/// Moves a referral on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralEventReq {
    /// acknowledge, close, refuse_consent, cancel.
    pub event: String,
    /// The outcome (with close).
    #[schema(max_length = 2000)]
    pub outcome: Option<String>,
}
