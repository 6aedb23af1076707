//! Property tests of the notice and referral state machines, and round trips of every
//! closed vocabulary of the notice, referral, taxonomy and directory modules.

use proptest::prelude::*;
use rempart_domain::directory::{NoticeChannel, ServiceKind};
use rempart_domain::notice::{Decision, MissingElement, NoticeEvent, NoticeState};
use rempart_domain::referral::{ConsentBasis, ReferralEvent, ReferralState};
use rempart_domain::taxonomy::ContentType;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn notice_state() -> impl Strategy<Value = NoticeState> {
    prop::sample::select(NoticeState::ALL.to_vec())
}

fn notice_events() -> impl Strategy<Value = Vec<NoticeEvent>> {
    prop::collection::vec(prop::sample::select(NoticeEvent::every().to_vec()), 0..40)
}

fn referral_state() -> impl Strategy<Value = ReferralState> {
    prop::sample::select(ReferralState::ALL.to_vec())
}

fn referral_events() -> impl Strategy<Value = Vec<ReferralEvent>> {
    prop::collection::vec(prop::sample::select(ReferralEvent::every().to_vec()), 0..40)
}

/// The notice table of the module documentation, transcribed independently.
fn notice_spec(s: NoticeState, e: NoticeEvent) -> Option<NoticeState> {
    use NoticeEvent as E;
    use NoticeState as S;
    Some(match (s, e) {
        (S::Draft, E::MarkReady) => S::Ready,
        (S::Ready, E::Unready) => S::Draft,
        (S::Ready, E::Send) => S::Sent,
        (S::Sent, E::DeliveryFailed) => S::Failed,
        (S::Sent, E::Acknowledge) => S::Acknowledged,
        (S::Sent, E::Decide(Decision::NoAnswer)) => return None,
        (S::Sent, E::Decide(d)) => d.state(),
        (S::Sent, E::DeadlinePassed | E::Escalate) => S::Escalated,
        (S::Failed, E::Retry) => S::Sent,
        (S::Failed, E::Reopen) => S::Draft,
        (S::Acknowledged, E::Decide(d)) => d.state(),
        (S::Acknowledged, E::DeadlinePassed | E::Escalate) => S::Escalated,
        (S::Escalated, E::Acknowledge) => S::Acknowledged,
        (S::Escalated, E::Decide(d)) => d.state(),
        (S::Refused, E::Escalate) => S::Escalated,
        (S::NoAnswer, E::Decide(Decision::NoAnswer)) => return None,
        (S::NoAnswer, E::Decide(d)) => d.state(),
        _ => return None,
    })
}

/// The referral table of the module documentation, transcribed independently.
fn referral_spec(s: ReferralState, e: ReferralEvent) -> Option<ReferralState> {
    use ReferralEvent as E;
    use ReferralState as S;
    Some(match (s, e) {
        (S::Proposed, E::RecordConsent(_)) => S::ConsentRecorded,
        (S::Proposed | S::ConsentRecorded, E::RefuseConsent) => S::Declined,
        (S::ConsentRecorded, E::Send) => S::Sent,
        (S::Sent, E::Acknowledge) => S::Acknowledged,
        (S::Sent | S::Acknowledged, E::Close) => S::Closed,
        (S::Proposed | S::ConsentRecorded | S::Sent | S::Acknowledged, E::Cancel) => S::Cancelled,
        _ => return None,
    })
}

#[test]
fn notice_table_matches_the_documentation() {
    for s in NoticeState::ALL {
        for e in NoticeEvent::every() {
            let got = s.apply(&e);
            assert_eq!(got.as_ref().ok().copied(), notice_spec(s, e), "{s} {e}");
            if let Err(err) = got {
                assert_eq!((err.from, err.event), (s.as_str(), e.name()));
            }
        }
    }
}

#[test]
fn referral_table_matches_the_documentation() {
    for s in ReferralState::ALL {
        for e in ReferralEvent::every() {
            let got = s.apply(&e);
            assert_eq!(got.as_ref().ok().copied(), referral_spec(s, e), "{s} {e}");
            if let Err(err) = got {
                assert_eq!((err.from, err.event), (s.as_str(), e.name()));
            }
        }
    }
}

/// The only ways out of a terminal notice state.
fn documented_notice_exit(s: NoticeState, e: NoticeEvent) -> bool {
    matches!(
        (s, e),
        (NoticeState::Refused, NoticeEvent::Escalate)
            | (
                NoticeState::NoAnswer,
                NoticeEvent::Decide(Decision::Removed | Decision::Restricted | Decision::Refused)
            )
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn notice_sequences(start in notice_state(), events in notice_events()) {
        let pre_send = matches!(start, NoticeState::Draft | NoticeState::Ready);
        let mut sent_seen = !pre_send;
        let mut s = start;
        for e in &events {
            match s.apply(e) {
                Ok(next) => {
                    // (b) always a known state.
                    prop_assert!(NoticeState::ALL.contains(&next));
                    // (c) terminal states only leave by their documented exits.
                    if s.is_terminal() {
                        prop_assert!(documented_notice_exit(s, *e), "{} --{}--> {}", s, e, next);
                    }
                    if next == NoticeState::Sent {
                        prop_assert!(matches!(s, NoticeState::Ready | NoticeState::Failed));
                        sent_seen = true;
                    }
                    // (e) never decided without having been sent.
                    if next.is_decided() {
                        prop_assert!(sent_seen, "{} decided without being sent", next);
                    }
                    prop_assert_eq!(next.is_terminal(), next.is_decided());
                    s = next;
                }
                Err(err) => {
                    prop_assert_eq!(err.from, s.as_str());
                    prop_assert_eq!(err.event, e.name());
                    if s.is_terminal() {
                        prop_assert!(!documented_notice_exit(s, *e));
                    }
                }
            }
        }
    }

    #[test]
    fn referral_sequences(start in referral_state(), events in referral_events()) {
        // (d) no transmission without passing through consent_recorded.
        let mut consent_seen = matches!(start, ReferralState::ConsentRecorded) || start.is_transmitted();
        let mut s = start;
        for e in &events {
            match s.apply(e) {
                Ok(next) => {
                    prop_assert!(ReferralState::ALL.contains(&next));
                    // (c) terminal referral states have no exit at all.
                    prop_assert!(!s.is_terminal(), "{} --{}--> {}", s, e, next);
                    if next == ReferralState::Sent {
                        prop_assert_eq!(s, ReferralState::ConsentRecorded);
                    }
                    if next == ReferralState::ConsentRecorded {
                        consent_seen = true;
                    }
                    if next.is_transmitted() {
                        prop_assert!(consent_seen, "{} reached without consent", next);
                    }
                    s = next;
                }
                Err(err) => {
                    prop_assert_eq!(err.from, s.as_str());
                    prop_assert_eq!(err.event, e.name());
                    if *e == ReferralEvent::Cancel {
                        prop_assert!(s.is_terminal());
                    }
                }
            }
        }
    }

    #[test]
    fn parse_accepts_exactly_the_codes(s in "[a-z_]{0,24}") {
        macro_rules! check {
            ($($t:ty),+) => {$(
                match <$t>::parse(&s) {
                    Ok(v) => prop_assert_eq!(v.as_str(), s.as_str()),
                    Err(_) => prop_assert!(<$t>::ALL.iter().all(|v| v.as_str() != s)),
                }
            )+};
        }
        check!(NoticeState, Decision, MissingElement, ReferralState, ConsentBasis,
               ContentType, NoticeChannel, ServiceKind);
    }
}

#[test]
fn every_value_round_trips() {
    macro_rules! round_trip {
        ($($t:ty),+) => {$(
            for v in <$t>::ALL {
                assert_eq!(<$t>::parse(v.as_str()).unwrap(), v);
                assert_eq!(v.to_string(), v.as_str());
                assert_eq!(v.key(), format!("{}-{}", <$t>::KIND, v.as_str()));
                assert!(v.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            }
            let mut codes: Vec<&str> = <$t>::ALL.iter().map(|v| v.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), <$t>::ALL.len());
        )+};
    }
    round_trip!(
        NoticeState,
        Decision,
        MissingElement,
        ReferralState,
        ConsentBasis,
        ContentType,
        NoticeChannel,
        ServiceKind
    );
    assert_eq!(
        NoticeState::ALL.map(NoticeState::as_str),
        [
            "draft",
            "ready",
            "sent",
            "acknowledged",
            "removed",
            "restricted",
            "refused",
            "no_answer",
            "failed",
            "escalated"
        ]
    );
}
