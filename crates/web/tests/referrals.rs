//! Referrals through the application, on the real store (SQLite, and PostgreSQL when
//! `REMPART_TEST_POSTGRES` is set): no transmission without a recorded basis, consent with
//! who gave it and for what, only the case's own evidence shared and each piece a custody
//! event, the state machine's refusals, and two changes from the same state: one wins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_app::ErrorCode;
use rempart_app::evidence::{Content, EvidenceInput};
use rempart_app::referrals::Transmission;
use rempart_domain::case::EvidenceKind;
use rempart_domain::directory::ServiceKind;
use rempart_domain::ids::CaseId;
use rempart_domain::policy::{Actor, Role};
use rempart_domain::referral::{ConsentBasis, ReferralEvent, ReferralState};
use rempart_storage::AuditEntry;
use support::*;

#[tokio::test]
async fn a_referral_to_pharos_with_consent_shares_hashes_and_urls_with_custody() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let token = t.token(&counsellor).await;
    let case = CaseId::parse(&t.new_case(&token, "pharos").await).unwrap();
    let other = CaseId::parse(&t.new_case(&token, "autre").await).unwrap();
    let me = Actor {
        id: counsellor.id,
        role: Role::Counsellor,
        team: None,
    };
    let pharos = t
        .app
        .directory()
        .services()
        .iter()
        .find(|s| s.kind == ServiceKind::Pharos)
        .expect("Pharos in the directory")
        .code
        .clone();
    let fp = t
        .app
        .add_evidence(
            &me,
            case,
            EvidenceInput {
                kind: Some(EvidenceKind::HashOnly),
                url: Some("https://example.org/post/1".into()),
                sexual_image_of_minor: true,
                ..Default::default()
            },
            Content::Fingerprints {
                sha256: "ab".repeat(32),
                md5: None,
                pdq: Some(("cd".repeat(32), 90)),
            },
        )
        .await
        .unwrap()
        .evidence;
    let elsewhere = t
        .app
        .add_evidence(
            &me,
            other,
            EvidenceInput {
                kind: Some(EvidenceKind::Link),
                url: Some("https://example.org/other".into()),
                ..Default::default()
            },
            Content::Link,
        )
        .await
        .unwrap()
        .evidence;

    let err = t
        .app
        .propose_referral(&me, case, "nowhere")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidField);
    let r = t.app.propose_referral(&me, case, &pharos).await.unwrap();
    assert_eq!(r.state, ReferralState::Proposed);

    // no transmission without a recorded basis
    let send = |evidence| Transmission {
        evidence,
        recipient: "Pharos (internet-signalement.gouv.fr)".into(),
        channel: "portal".into(),
        note: Some("URL et empreintes seulement".into()),
        ..Default::default()
    };
    let err = t
        .app
        .transmit_referral(&me, case, &r.id, send(vec![fp.id]))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidTransition);
    // consent needs who gave it
    let err = t
        .app
        .record_referral_basis(&me, case, &r.id, ConsentBasis::Guardian, " ", "")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidField);
    let r = t
        .app
        .record_referral_basis(
            &me,
            case,
            &r.id,
            ConsentBasis::Guardian,
            "sa mère",
            "signaler l'image à Pharos",
        )
        .await
        .unwrap();
    assert_eq!(r.state, ReferralState::ConsentRecorded);
    assert_eq!(r.consent_by.as_deref(), Some("sa mère"));
    // only the case's own evidence
    let err = t
        .app
        .transmit_referral(&me, case, &r.id, send(vec![fp.id, elsewhere.id]))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidField);
    let r = t
        .app
        .transmit_referral(&me, case, &r.id, send(vec![fp.id]))
        .await
        .unwrap();
    assert_eq!(r.state, ReferralState::Sent);
    assert_eq!(r.shared, vec![fp.id]);
    assert!(r.sent_at.is_some());
    // the custody log names the transmission
    let custody = t.store.custody_log(case).await.unwrap();
    let last = custody.last().unwrap();
    assert_eq!(last.action, "evidence.transmitted");
    assert_eq!(last.object_id.as_deref(), Some(fp.id.to_string().as_str()));
    assert_eq!(last.detail, format!("referral={}", r.id));

    // two changes from the same state: the second finds it changed
    let mut ack = r.clone();
    ack.state = ReferralState::Acknowledged;
    let audit = || {
        vec![
            AuditEntry::new(
                t.app.now(),
                Some(me.id),
                rempart_domain::audit::event::AuditEvent::ReferralChanged {
                    state: ReferralState::Acknowledged,
                },
            )
            .object(&r.id)
            .case(case),
        ]
    };
    t.store
        .change_referral(&ack, ReferralState::Sent, &audit(), None)
        .await
        .unwrap();
    let stale = t
        .store
        .change_referral(&ack, ReferralState::Sent, &audit(), None)
        .await;
    assert!(
        matches!(stale, Err(rempart_storage::StorageError::Conflict)),
        "{stale:?}"
    );

    let r = t
        .app
        .change_referral(
            &me,
            case,
            &r.id,
            ReferralEvent::Close,
            Some("plainte déposée"),
        )
        .await
        .unwrap();
    assert_eq!(r.state, ReferralState::Closed);
    assert_eq!(r.outcome.as_deref(), Some("plainte déposée"));
    let err = t
        .app
        .change_referral(&me, case, &r.id, ReferralEvent::Cancel, None)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidTransition);
    let all = t.app.case_referrals(&me, case).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0], r);

    // another team's counsellor: as if the case did not exist
    let outsider = t.staff(Role::Counsellor, Some("ailleurs")).await;
    let o = Actor {
        id: outsider.id,
        role: Role::Counsellor,
        team: Some("ailleurs".into()),
    };
    let err = t.app.propose_referral(&o, case, &pharos).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
}

#[tokio::test]
async fn the_119_for_a_child_in_danger_rests_on_a_legal_obligation_and_can_be_declined_before() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let token = t.token(&counsellor).await;
    let case = CaseId::parse(&t.new_case(&token, "119").await).unwrap();
    let me = Actor {
        id: counsellor.id,
        role: Role::Counsellor,
        team: None,
    };
    let service = t.app.directory().services()[0].code.clone();
    let a = t.app.propose_referral(&me, case, &service).await.unwrap();
    let a = t
        .app
        .record_referral_basis(
            &me,
            case,
            &a.id,
            ConsentBasis::LegalObligation,
            "",
            "enfant en danger",
        )
        .await
        .unwrap();
    assert_eq!(a.state, ReferralState::ConsentRecorded);
    assert_eq!(a.consent_by, None);
    let b = t.app.propose_referral(&me, case, &service).await.unwrap();
    let b = t
        .app
        .change_referral(&me, case, &b.id, ReferralEvent::RefuseConsent, None)
        .await
        .unwrap();
    assert_eq!(b.state, ReferralState::Declined);
    let err = t
        .app
        .transmit_referral(
            &me,
            case,
            &b.id,
            Transmission {
                recipient: "x".into(),
                channel: "email".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidTransition);
    let err = t
        .app
        .change_referral(&me, case, &a.id, ReferralEvent::Send, None)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidField);
}

#[tokio::test]
async fn the_case_page_proposes_records_and_closes_a_referral() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let token = t.token(&counsellor).await;
    let case = t.new_case(&token, "orientation").await;
    let (cookie, csrf) = t.console_login(&counsellor).await;
    let service = t.app.directory().services()[0].clone();
    let r = t
        .post_form(
            &cookie,
            &format!("/cases/{case}/referrals"),
            &[("_csrf", csrf.as_str()), ("service", service.code.as_str())],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (status, html) = t.page(&cookie, &format!("/cases/{case}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"ref-1\""));
    assert!(html.contains(service.label("fr")));
    let id = t
        .app
        .case_referrals(
            &Actor {
                id: counsellor.id,
                role: Role::Counsellor,
                team: None,
            },
            CaseId::parse(&case).unwrap(),
        )
        .await
        .unwrap()[0]
        .id
        .clone();
    for (path, fields) in [
        (
            "basis",
            vec![
                ("basis", "victim"),
                ("consent_by", "la jeune fille"),
                ("consent_scope", "le signalement"),
            ],
        ),
        (
            "transmission",
            vec![
                ("recipient", "brigade des mineurs"),
                ("channel", "in_person"),
            ],
        ),
        (
            "events",
            vec![("event", "close"), ("outcome", "plainte enregistrée")],
        ),
    ] {
        let mut f = vec![("_csrf", csrf.as_str())];
        f.extend(fields);
        let r = t
            .post_form(&cookie, &format!("/cases/{case}/referrals/{id}/{path}"), &f)
            .await;
        assert_eq!(r.status(), 303, "{path}");
    }
    let (_, html) = t.page(&cookie, &format!("/cases/{case}")).await;
    assert!(html.contains("plainte enregistrée"));
    assert!(html.contains("brigade des mineurs"));
    assert!(html.contains("la jeune fille"));
    // a closed referral offers no more changes
    assert!(!html.contains(&format!("/cases/{case}/referrals/{id}/events")));
}
