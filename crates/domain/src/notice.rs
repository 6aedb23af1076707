//! The notice ("signalement"): a request sent to a platform about items, its state
//! machine and its completeness under the Digital Services Act, Article 16.
//!
//! # State machine
//!
//! ```text
//!  from \ event  | MarkReady Unready Send  DeliveryFailed Retry Acknowledge  Decide(d)    DeadlinePassed Escalate  Reopen
//! ---------------+---------------------------------------------------------------------------------------------------------
//!  draft         | ready     .       .     .              .     .            .            .              .         .
//!  ready         | .         draft   sent  .              .     .            .            .              .         .
//!  sent          | .         .       .     failed         .     acknowledged d (1)        escalated      escalated .
//!  failed        | .         .       .     .              sent  .            .            .              .         draft
//!  acknowledged  | .         .       .     .              .     .            d            escalated      escalated .
//!  escalated     | .         .       .     .              .     acknowledged d            .              .         .
//!  removed    *  | .         .       .     .              .     .            .            .              .         .
//!  restricted *  | .         .       .     .              .     .            .            .              .         .
//!  refused    *  | .         .       .     .              .     .            .            .              escalated .
//!  no_answer  *  | .         .       .     .              .     .            d (2)        .              .         .
//!
//!  *   terminal (decided) state       .   rejected with a TransitionError
//!  (1) any decision but NoAnswer: "no answer" needs an acknowledgement or an escalation first
//!  (2) a late answer: removed, restricted or refused (not no_answer again)
//! ```
//!
//! - `MarkReady` is only legal when [`check_dsa_article16`] returns no missing element;
//!   the machine does not see the notice's content, so the **caller enforces it**.
//! - `Send` happens once per notice (never sent twice); `DeliveryFailed`/`Retry` loop
//!   until delivered, and `Reopen` sends a notice that could not be delivered back to
//!   draft so the counsellor can correct it.
//! - `DeadlinePassed` (the platform's expected delay ran out) and `Escalate` (by hand)
//!   both lead to `escalated`; the platform may still answer late from there.
//! - `refused` can be appealed (`Escalate`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Returned when a code is not one of a vocabulary's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown value")]
pub struct UnknownValue;

/// Whether `lang` asks for English (`"en"`, `"en-GB"`…); French is the default.
pub(crate) fn is_en(lang: &str) -> bool {
    lang.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("en"))
}

/// Declares a closed vocabulary with a stable snake_case code (its words are in the
/// console's catalogues under `key()`): `ALL`, `as_str`, `parse`, `key`, `Display`,
/// `FromStr` and serde by code.
macro_rules! vocab {
    ($(#[$doc:meta])* $name:ident $kind:literal {
        $($(#[$vdoc:meta])* $variant:ident => $code:literal;)+
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: [$name; { [$($code),+].len() }] = [$($name::$variant),+];

            /// The stable snake_case code (stored and sent on the wire).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// Parses a stable code.
            pub fn parse(s: &str) -> Result<Self, $crate::notice::UnknownValue> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err($crate::notice::UnknownValue),
                }
            }

            /// The vocabulary's name in the catalogues.
            pub const KIND: &'static str = $kind;

            /// The key of this value's words in the catalogues.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => concat!($kind, "-", $code),)+ }
            }
        }

        impl $crate::labelled::Vocabulary for $name {
            fn key(self) -> &'static str {
                $name::key(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::notice::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
pub(crate) use vocab;

vocab!(
    /// Where a notice stands.
    NoticeState "notice-state" {
        /// Being written; not yet complete.
        Draft => "draft";
        /// Complete under DSA Art. 16, waiting to be sent.
        Ready => "ready";
        /// Delivered to the platform's priority channel.
        Sent => "sent";
        /// The platform confirmed receipt (ticket id).
        Acknowledged => "acknowledged";
        /// The content or account was removed.
        Removed => "removed";
        /// The content was restricted (hidden, age-gated, demoted…).
        Restricted => "restricted";
        /// The platform refused to act.
        Refused => "refused";
        /// The platform never answered.
        NoAnswer => "no_answer";
        /// Delivery failed; will be retried.
        Failed => "failed";
        /// Past its delay or appealed: escalated.
        Escalated => "escalated";
    }
);

impl NoticeState {
    /// A decided state: the platform's answer (or its silence) is recorded.
    pub fn is_decided(self) -> bool {
        self.decision().is_some()
    }

    /// A terminal state; only the documented exits leave it (`refused` → `Escalate`,
    /// `no_answer` → a late `Decide`).
    pub fn is_terminal(self) -> bool {
        self.is_decided()
    }

    /// The decision this state records, if it is a decided state.
    pub fn decision(self) -> Option<Decision> {
        match self {
            NoticeState::Removed => Some(Decision::Removed),
            NoticeState::Restricted => Some(Decision::Restricted),
            NoticeState::Refused => Some(Decision::Refused),
            NoticeState::NoAnswer => Some(Decision::NoAnswer),
            _ => None,
        }
    }

    /// Applies `ev`, returning the new state, or an error if the table in the module
    /// documentation does not allow it.
    pub fn apply(self, ev: &NoticeEvent) -> Result<NoticeState, TransitionError> {
        use NoticeEvent as E;
        use NoticeState as S;
        let next = match (self, ev) {
            (S::Draft, E::MarkReady) => S::Ready,
            (S::Ready, E::Unready) => S::Draft,
            (S::Ready, E::Send) => S::Sent,
            (S::Sent, E::DeliveryFailed) => S::Failed,
            (S::Failed, E::Retry) => S::Sent,
            (S::Failed, E::Reopen) => S::Draft,
            (S::Sent | S::Escalated, E::Acknowledge) => S::Acknowledged,
            (S::Sent, E::Decide(d)) if *d != Decision::NoAnswer => d.state(),
            (S::Acknowledged | S::Escalated, E::Decide(d)) => d.state(),
            (S::NoAnswer, E::Decide(d)) if *d != Decision::NoAnswer => d.state(),
            (S::Sent | S::Acknowledged, E::DeadlinePassed | E::Escalate) => S::Escalated,
            (S::Refused, E::Escalate) => S::Escalated,
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
    pub fn can_apply(self, ev: &NoticeEvent) -> bool {
        self.apply(ev).is_ok()
    }

    /// The events allowed from this state (for the console's buttons).
    pub fn allowed_events(self) -> Vec<NoticeEvent> {
        NoticeEvent::every()
            .into_iter()
            .filter(|e| self.can_apply(e))
            .collect()
    }
}

vocab!(
    /// The platform's decision on a notice.
    Decision "decision" {
        /// Content or account removed.
        Removed => "removed";
        /// Visibility restricted.
        Restricted => "restricted";
        /// No action taken.
        Refused => "refused";
        /// No answer within the delays, even after escalation.
        NoAnswer => "no_answer";
    }
);

impl Decision {
    /// The notice state recording this decision.
    pub fn state(self) -> NoticeState {
        match self {
            Decision::Removed => NoticeState::Removed,
            Decision::Restricted => NoticeState::Restricted,
            Decision::Refused => NoticeState::Refused,
            Decision::NoAnswer => NoticeState::NoAnswer,
        }
    }
}

vocab!(
    /// What a platform decided, in the detail of the DSA Transparency Database's statements
    /// of reasons (so the helpline's yearly report lines up with what platforms publish),
    /// plus "refused" and "no answer".
    DecisionKind "decision-kind" {
        /// The content was removed.
        ContentRemoved => "content_removed";
        /// Access to the content was disabled.
        ContentDisabled => "content_disabled";
        /// The content was demoted.
        ContentDemoted => "content_demoted";
        /// The content was restricted to adults.
        ContentAgeRestricted => "content_age_restricted";
        /// Interactions with the content were restricted.
        ContentInteractionRestricted => "content_interaction_restricted";
        /// The content was labelled.
        ContentLabelled => "content_labelled";
        /// The account was suspended.
        AccountSuspended => "account_suspended";
        /// The account was terminated.
        AccountTerminated => "account_terminated";
        /// The platform took no action.
        Refused => "refused";
        /// Nothing came back within the delays.
        NoAnswer => "no_answer";
    }
);

impl DecisionKind {
    /// The notice state's decision this detail records: removal (content removed or
    /// disabled, account suspended or terminated), restriction, refusal, no answer.
    pub fn decision(self) -> Decision {
        use DecisionKind as K;
        match self {
            K::ContentRemoved | K::ContentDisabled | K::AccountSuspended | K::AccountTerminated => {
                Decision::Removed
            }
            K::ContentDemoted
            | K::ContentAgeRestricted
            | K::ContentInteractionRestricted
            | K::ContentLabelled => Decision::Restricted,
            K::Refused => Decision::Refused,
            K::NoAnswer => Decision::NoAnswer,
        }
    }

    /// The DSA Transparency Database's code for it (`None` for refused and no answer,
    /// which have none).
    pub fn dsa_code(self) -> Option<&'static str> {
        use DecisionKind as K;
        Some(match self {
            K::ContentRemoved => "DECISION_VISIBILITY_CONTENT_REMOVED",
            K::ContentDisabled => "DECISION_VISIBILITY_CONTENT_DISABLED",
            K::ContentDemoted => "DECISION_VISIBILITY_CONTENT_DEMOTED",
            K::ContentAgeRestricted => "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
            K::ContentInteractionRestricted => "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
            K::ContentLabelled => "DECISION_VISIBILITY_CONTENT_LABELLED",
            K::AccountSuspended => "DECISION_ACCOUNT_SUSPENDED",
            K::AccountTerminated => "DECISION_ACCOUNT_TERMINATED",
            K::Refused | K::NoAnswer => return None,
        })
    }
}

/// The longest wait before a delivery is tried again (ms).
pub const MAX_RETRY_DELAY_MS: u64 = 30 * 60 * 1000;

/// How long to wait before attempt `attempt + 1` of a delivery that failed transiently:
/// `base_ms` doubled at each attempt, at most [`MAX_RETRY_DELAY_MS`], half of it fixed and
/// half spread by `jitter` (in [0, 1), so that notices failed together do not retry
/// together); a platform's `Retry-After` is obeyed when it asks for longer (up to an hour).
pub fn retry_delay_ms(attempt: u32, base_ms: u64, retry_after_ms: Option<u64>, jitter: f64) -> u64 {
    let exp = attempt.saturating_sub(1).min(30);
    let full = base_ms.saturating_mul(1u64 << exp).min(MAX_RETRY_DELAY_MS);
    let spread = (full as f64 / 2.0 * jitter.clamp(0.0, 1.0)) as u64;
    let ours = full / 2 + spread;
    match retry_after_ms {
        Some(asked) => ours.max(asked.min(60 * 60 * 1000)),
        None => ours,
    }
}

/// Something that happens to a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEvent {
    /// The counsellor marks a complete draft ready.
    MarkReady,
    /// Back to draft to edit it.
    Unready,
    /// Handed to the platform's channel.
    Send,
    /// The channel refused or timed out.
    DeliveryFailed,
    /// Delivery retried.
    Retry,
    /// The platform acknowledged receipt.
    Acknowledge,
    /// The platform's decision was recorded.
    Decide(Decision),
    /// The expected delay ran out.
    DeadlinePassed,
    /// Escalated by hand, or an appeal of a refusal.
    Escalate,
    /// An undeliverable notice goes back to draft.
    Reopen,
}

impl NoticeEvent {
    /// The event's stable snake_case name (for logs, the timeline and errors).
    pub fn name(&self) -> &'static str {
        match self {
            NoticeEvent::MarkReady => "mark_ready",
            NoticeEvent::Unready => "unready",
            NoticeEvent::Send => "send",
            NoticeEvent::DeliveryFailed => "delivery_failed",
            NoticeEvent::Retry => "retry",
            NoticeEvent::Acknowledge => "acknowledge",
            NoticeEvent::Decide(_) => "decide",
            NoticeEvent::DeadlinePassed => "deadline_passed",
            NoticeEvent::Escalate => "escalate",
            NoticeEvent::Reopen => "reopen",
        }
    }

    /// Every possible event (each decision counted once).
    pub fn every() -> [NoticeEvent; 13] {
        [
            NoticeEvent::MarkReady,
            NoticeEvent::Unready,
            NoticeEvent::Send,
            NoticeEvent::DeliveryFailed,
            NoticeEvent::Retry,
            NoticeEvent::Acknowledge,
            NoticeEvent::Decide(Decision::Removed),
            NoticeEvent::Decide(Decision::Restricted),
            NoticeEvent::Decide(Decision::Refused),
            NoticeEvent::Decide(Decision::NoAnswer),
            NoticeEvent::DeadlinePassed,
            NoticeEvent::Escalate,
            NoticeEvent::Reopen,
        ]
    }
}

/// An event that the state machine does not allow from the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("event {event} is not allowed in state {from}")]
pub struct TransitionError {
    /// The state's code.
    pub from: &'static str,
    /// The event's name.
    pub event: &'static str,
}

vocab!(
    /// An element that DSA Article 16(2) requires and a notice lacks.
    MissingElement "missing-element" {
        /// (a) a sufficiently substantiated explanation of why the content is illegal.
        Explanation => "explanation";
        /// (b) the exact electronic location: URLs or platform-native ids.
        Location => "location";
        /// (c) the notifier's name and e-mail address (the helpline's, never the child's).
        NotifierIdentity => "notifier_identity";
        /// (d) a statement of good faith.
        GoodFaithStatement => "good_faith_statement";
    }
);

/// The parts of a notice that DSA Article 16(2) requires, borrowed for a check.
#[derive(Debug, Clone, Copy)]
pub struct NoticeCompleteness<'a> {
    /// Why the content is illegal (offence and article).
    pub explanation: &'a str,
    /// Exact URLs and/or native ids of the items.
    pub locations: &'a [String],
    /// The notifier's name (the helpline).
    pub notifier_name: &'a str,
    /// The notifier's e-mail address (the helpline).
    pub notifier_email: &'a str,
    /// Whether the good-faith statement is included.
    pub good_faith: bool,
}

impl NoticeCompleteness<'_> {
    /// The missing elements, in the order of Article 16(2) (a)–(d); empty when complete.
    pub fn missing(&self) -> Vec<MissingElement> {
        check_dsa_article16(
            self.explanation,
            self.locations,
            self.notifier_name,
            self.notifier_email,
            self.good_faith,
        )
    }

    /// Whether nothing is missing: only then may the notice be marked ready.
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }
}

/// Checks a notice against DSA Article 16(2) (a)–(d) and returns what is missing, in
/// that order. A notice may receive [`NoticeEvent::MarkReady`] only when this returns
/// an empty list; the caller enforces it.
///
/// - (a) `explanation` must not be blank;
/// - (b) `locations` must hold at least one entry and no blank entry;
/// - (c) `notifier_name` must not be blank and `notifier_email` must look like an
///   address (`local@domain`, no spaces);
/// - (d) `good_faith` must be true.
pub fn check_dsa_article16(
    explanation: &str,
    locations: &[String],
    notifier_name: &str,
    notifier_email: &str,
    good_faith: bool,
) -> Vec<MissingElement> {
    let mut missing = Vec::new();
    if explanation.trim().is_empty() {
        missing.push(MissingElement::Explanation);
    }
    if locations.is_empty() || locations.iter().any(|l| l.trim().is_empty()) {
        missing.push(MissingElement::Location);
    }
    if notifier_name.trim().is_empty() || !looks_like_email(notifier_email) {
        missing.push(MissingElement::NotifierIdentity);
    }
    if !good_faith {
        missing.push(MissingElement::GoodFaithStatement);
    }
    missing
}

/// A light shape check: one `@`, non-empty local part and domain, no whitespace.
pub(crate) fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

impl fmt::Display for NoticeEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoticeEvent::Decide(d) => write!(f, "decide({d})"),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[NoticeEvent]) -> Result<NoticeState, TransitionError> {
        events
            .iter()
            .try_fold(NoticeState::Draft, |s, e| s.apply(e))
    }

    #[test]
    fn happy_path_to_removal() {
        use NoticeEvent::*;
        let s = run(&[MarkReady, Send, Acknowledge, Decide(Decision::Removed)]).unwrap();
        assert_eq!(s, NoticeState::Removed);
        assert!(s.is_terminal() && s.is_decided());
    }

    #[test]
    fn delivery_failure_retry_and_reopen() {
        use NoticeEvent::*;
        assert_eq!(
            run(&[MarkReady, Send, DeliveryFailed, Retry]).unwrap(),
            NoticeState::Sent
        );
        assert_eq!(
            run(&[MarkReady, Send, DeliveryFailed, Reopen]).unwrap(),
            NoticeState::Draft
        );
    }

    #[test]
    fn retries_back_off_with_jitter_and_obey_retry_after() {
        assert_eq!(retry_delay_ms(1, 1000, None, 0.0), 500);
        assert_eq!(retry_delay_ms(1, 1000, None, 0.999), 999);
        assert_eq!(retry_delay_ms(3, 1000, None, 0.0), 2000);
        assert_eq!(retry_delay_ms(40, 1000, None, 0.0), MAX_RETRY_DELAY_MS / 2);
        assert!(retry_delay_ms(40, 1000, None, 0.99) <= MAX_RETRY_DELAY_MS);
        assert_eq!(retry_delay_ms(1, 1000, Some(120_000), 0.5), 120_000);
        assert_eq!(
            retry_delay_ms(1, 1000, Some(10), 0.0),
            500,
            "never sooner than ours"
        );
        assert_eq!(retry_delay_ms(1, 1000, Some(u64::MAX), 0.0), 3_600_000);
    }

    #[test]
    fn never_sent_twice() {
        let e = NoticeState::Sent.apply(&NoticeEvent::Send).unwrap_err();
        assert_eq!((e.from, e.event), ("sent", "send"));
        assert!(NoticeState::Acknowledged.apply(&NoticeEvent::Send).is_err());
    }

    #[test]
    fn no_answer_needs_ack_or_escalation() {
        let no = NoticeEvent::Decide(Decision::NoAnswer);
        assert!(NoticeState::Sent.apply(&no).is_err());
        assert_eq!(
            NoticeState::Escalated.apply(&no).unwrap(),
            NoticeState::NoAnswer
        );
        assert_eq!(
            NoticeState::Acknowledged.apply(&no).unwrap(),
            NoticeState::NoAnswer
        );
    }

    #[test]
    fn escalation_and_late_answers() {
        use NoticeEvent::*;
        let s = run(&[MarkReady, Send, DeadlinePassed]).unwrap();
        assert_eq!(s, NoticeState::Escalated);
        assert_eq!(s.apply(&Acknowledge).unwrap(), NoticeState::Acknowledged);
        assert_eq!(
            s.apply(&Decide(Decision::Restricted)).unwrap(),
            NoticeState::Restricted
        );
        assert_eq!(
            NoticeState::Refused.apply(&Escalate).unwrap(),
            NoticeState::Escalated
        );
        assert_eq!(
            NoticeState::NoAnswer
                .apply(&Decide(Decision::Removed))
                .unwrap(),
            NoticeState::Removed
        );
        assert!(NoticeState::Removed.allowed_events().is_empty());
        assert!(NoticeState::Restricted.allowed_events().is_empty());
    }

    #[test]
    fn codes_round_trip_and_labels() {
        for s in NoticeState::ALL {
            assert_eq!(NoticeState::parse(s.as_str()).unwrap(), s);
            assert_eq!(s.key(), format!("notice-state-{}", s.as_str()));
        }
        assert_eq!(NoticeState::NoAnswer.as_str(), "no_answer");
        assert_eq!(NoticeState::Sent.key(), "notice-state-sent");
        assert!(NoticeState::parse("Sent").is_err());
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.as_str()).unwrap(), d);
            assert_eq!(d.state().decision(), Some(d));
        }
        for k in DecisionKind::ALL {
            assert_eq!(DecisionKind::parse(k.as_str()).unwrap(), k);
            assert_eq!(
                k.dsa_code().is_none(),
                matches!(k.decision(), Decision::Refused | Decision::NoAnswer),
                "{k}"
            );
        }
        assert_eq!(
            DecisionKind::AccountTerminated.decision(),
            Decision::Removed
        );
        assert_eq!(
            DecisionKind::ContentLabelled.dsa_code(),
            Some("DECISION_VISIBILITY_CONTENT_LABELLED")
        );
        assert_eq!(
            NoticeEvent::Decide(Decision::Refused).to_string(),
            "decide(refused)"
        );
    }

    #[test]
    fn article16_completeness() {
        let locs = vec!["https://example.invalid/p/1".to_string()];
        let ok = NoticeCompleteness {
            explanation: "Diffusion d'images intimes d'une mineure (Code pénal, art. 227-23).",
            locations: &locs,
            notifier_name: "Rempart helpline",
            notifier_email: "notices@helpline.invalid",
            good_faith: true,
        };
        assert!(ok.is_complete());
        let all = check_dsa_article16("  ", &[], "", "not-an-email", false);
        assert_eq!(
            all,
            vec![
                MissingElement::Explanation,
                MissingElement::Location,
                MissingElement::NotifierIdentity,
                MissingElement::GoodFaithStatement
            ]
        );
        let blank = vec![String::new()];
        assert_eq!(
            check_dsa_article16("x", &blank, "n", "a@b", true),
            vec![MissingElement::Location]
        );
        assert_eq!(
            check_dsa_article16("x", &locs, "n", "a b@c", true),
            vec![MissingElement::NotifierIdentity]
        );
    }
}
