//! The referral ("orientation / transmission"): a hand-off of a case to an authority
//! or service (police, gendarmerie, Pharos, the 119, the school's referent, a lawyer,
//! a victim-support association), and its state machine.
//!
//! # State machine
//!
//! ```text
//!  from \ event      | RecordConsent(b)  RefuseConsent  Send  Acknowledge   Close   Cancel
//! -------------------+---------------------------------------------------------------------
//!  proposed          | consent_recorded  declined       .     .             .       cancelled
//!  consent_recorded  | .                 declined       sent  .             .       cancelled
//!  sent              | .                 .              .     acknowledged  closed  cancelled
//!  acknowledged      | .                 .              .     .             closed  cancelled
//!  closed     *      | .                 .              .     .             .       .
//!  declined   *      | .                 .              .     .             .       .
//!  cancelled  *      | .                 .              .     .             .       .
//!
//!  *  terminal: no exit        .  rejected with a TransitionError
//! ```
//!
//! **No transmission without a recorded basis**: `Send` is only allowed from
//! `consent_recorded`. The basis travels with the event ([`ConsentBasis`]): usually the
//! victim's or a guardian's consent, but a referral to the 119 for a child in danger
//! may rest on a legal obligation or the child's vital interest, without consent.
//! Refusing (or withdrawing) consent before the transmission declines the referral; the
//! caller does not offer that when the basis is not consent.

use crate::notice::{TransitionError, vocab};
use serde::{Deserialize, Serialize};
use std::fmt;

vocab!(
    /// Where a referral stands.
    ReferralState "referral-state" {
        /// Suggested by the counsellor, not yet agreed.
        Proposed => "proposed";
        /// Consent (or another lawful basis) recorded: may be sent.
        ConsentRecorded => "consent_recorded";
        /// Transmitted to the service.
        Sent => "sent";
        /// The service confirmed receipt.
        Acknowledged => "acknowledged";
        /// Done, with its outcome recorded.
        Closed => "closed";
        /// The victim or guardian refused.
        Declined => "declined";
        /// Abandoned by the helpline.
        Cancelled => "cancelled";
    }
);

impl ReferralState {
    /// A terminal state: no event leaves it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ReferralState::Closed | ReferralState::Declined | ReferralState::Cancelled
        )
    }

    /// Whether the case was (or is being) transmitted to the service.
    pub fn is_transmitted(self) -> bool {
        matches!(
            self,
            ReferralState::Sent | ReferralState::Acknowledged | ReferralState::Closed
        )
    }

    /// Applies `ev`, returning the new state, or an error if the table in the module
    /// documentation does not allow it.
    pub fn apply(self, ev: &ReferralEvent) -> Result<ReferralState, TransitionError> {
        use ReferralEvent as E;
        use ReferralState as S;
        let next = match (self, ev) {
            (S::Proposed, E::RecordConsent(_)) => S::ConsentRecorded,
            (S::Proposed | S::ConsentRecorded, E::RefuseConsent) => S::Declined,
            (S::ConsentRecorded, E::Send) => S::Sent,
            (S::Sent, E::Acknowledge) => S::Acknowledged,
            (S::Sent | S::Acknowledged, E::Close) => S::Closed,
            (s, E::Cancel) if !s.is_terminal() => S::Cancelled,
            _ => {
                return Err(TransitionError {
                    from: self.as_str(),
                    event: ev.name(),
                });
            }
        };
        Ok(next)
    }

    /// Whether `ev` is allowed from this state.
    pub fn can_apply(self, ev: &ReferralEvent) -> bool {
        self.apply(ev).is_ok()
    }

    /// The events allowed from this state (for the console's buttons).
    pub fn allowed_events(self) -> Vec<ReferralEvent> {
        ReferralEvent::every()
            .into_iter()
            .filter(|e| self.can_apply(e))
            .collect()
    }
}

vocab!(
    /// Where a referral's e-mail stands (when the helpline sends it).
    ReferralMailState "referral-mail" {
        /// Waiting for the SMTP server (retried after a transient failure).
        Queued => "queued";
        /// Taken by the SMTP server.
        Sent => "sent";
        /// Not sent: a permanent failure, or every attempt used.
        Failed => "failed";
    }
);

vocab!(
    /// The lawful basis on which a case is transmitted.
    ConsentBasis "consent-basis" {
        /// The young person agreed.
        Victim => "victim";
        /// A parent or legal guardian agreed.
        Guardian => "guardian";
        /// The law requires the transmission (e.g. a child in danger, to the 119).
        LegalObligation => "legal_obligation";
        /// Someone's life or safety is at stake.
        VitalInterest => "vital_interest";
    }
);

impl ConsentBasis {
    /// Whether the basis is a person's consent (which they may withdraw).
    pub fn is_consent(self) -> bool {
        matches!(self, ConsentBasis::Victim | ConsentBasis::Guardian)
    }
}

/// Something that happens to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralEvent {
    /// Consent (or another lawful basis) recorded.
    RecordConsent(ConsentBasis),
    /// The person refused or withdrew consent before transmission.
    RefuseConsent,
    /// Transmitted to the service.
    Send,
    /// The service confirmed receipt.
    Acknowledge,
    /// Outcome recorded; the referral is over.
    Close,
    /// Abandoned.
    Cancel,
}

impl ReferralEvent {
    /// The event's stable snake_case name (for logs, the timeline and errors).
    pub fn name(&self) -> &'static str {
        match self {
            ReferralEvent::RecordConsent(_) => "record_consent",
            ReferralEvent::RefuseConsent => "refuse_consent",
            ReferralEvent::Send => "send",
            ReferralEvent::Acknowledge => "acknowledge",
            ReferralEvent::Close => "close",
            ReferralEvent::Cancel => "cancel",
        }
    }

    /// Every possible event (each basis counted once).
    pub fn every() -> [ReferralEvent; 9] {
        [
            ReferralEvent::RecordConsent(ConsentBasis::Victim),
            ReferralEvent::RecordConsent(ConsentBasis::Guardian),
            ReferralEvent::RecordConsent(ConsentBasis::LegalObligation),
            ReferralEvent::RecordConsent(ConsentBasis::VitalInterest),
            ReferralEvent::RefuseConsent,
            ReferralEvent::Send,
            ReferralEvent::Acknowledge,
            ReferralEvent::Close,
            ReferralEvent::Cancel,
        ]
    }
}

impl fmt::Display for ReferralEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReferralEvent::RecordConsent(b) => write!(f, "record_consent({b})"),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path() {
        use ReferralEvent::*;
        let s = [
            RecordConsent(ConsentBasis::Guardian),
            Send,
            Acknowledge,
            Close,
        ]
        .iter()
        .try_fold(ReferralState::Proposed, |s, e| s.apply(e))
        .unwrap();
        assert_eq!(s, ReferralState::Closed);
        assert!(s.is_terminal() && s.is_transmitted());
    }

    #[test]
    fn no_transmission_without_consent() {
        let e = ReferralState::Proposed
            .apply(&ReferralEvent::Send)
            .unwrap_err();
        assert_eq!((e.from, e.event), ("proposed", "send"));
        assert_eq!(
            ReferralState::Proposed
                .apply(&ReferralEvent::RecordConsent(ConsentBasis::LegalObligation))
                .unwrap(),
            ReferralState::ConsentRecorded
        );
    }

    #[test]
    fn cancel_from_any_open_state_only() {
        for s in ReferralState::ALL {
            assert_eq!(s.can_apply(&ReferralEvent::Cancel), !s.is_terminal());
            if s.is_terminal() {
                assert!(s.allowed_events().is_empty());
            }
        }
        assert_eq!(
            ReferralState::ConsentRecorded
                .apply(&ReferralEvent::RefuseConsent)
                .unwrap(),
            ReferralState::Declined
        );
        assert!(
            ReferralState::Sent
                .apply(&ReferralEvent::RefuseConsent)
                .is_err()
        );
    }

    #[test]
    fn codes_and_labels() {
        for s in ReferralState::ALL {
            assert_eq!(ReferralState::parse(s.as_str()).unwrap(), s);
            assert_eq!(s.key(), format!("referral-state-{}", s.as_str()));
        }
        for b in ConsentBasis::ALL {
            assert_eq!(ConsentBasis::parse(b.as_str()).unwrap(), b);
        }
        assert!(ConsentBasis::Guardian.is_consent());
        assert!(!ConsentBasis::LegalObligation.is_consent());
        assert_eq!(
            ReferralEvent::RecordConsent(ConsentBasis::VitalInterest).to_string(),
            "record_consent(vital_interest)"
        );
    }
}
