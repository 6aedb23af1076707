//! Evidence rows, case keys, custody, and the follow-up page's access, on SQLite and on
//! PostgreSQL when `REMPART_TEST_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rempart_domain::audit::event::AuditEvent;
use rempart_domain::case::EvidenceKind;
use rempart_domain::contact::ItemStatus;
use rempart_domain::evidence::{EvidenceCopy, EvidenceSource};
use rempart_domain::followup::MAX_FAILURES;
use rempart_domain::ids::*;
use rempart_domain::policy::Role;
use rempart_storage::*;
use support::*;

fn evidence(case: CaseId, by: StaffId, items: Vec<ItemId>, at: i64) -> EvidenceRecord {
    EvidenceRecord {
        id: EvidenceId::new(),
        case_id: case,
        number: 0,
        kind: EvidenceKind::Screenshot,
        source: EvidenceSource::Counsellor,
        added_by: Some(by),
        added_by_name: None,
        received_at: at,
        captured_from: "console".into(),
        description: Some("capture".into()),
        url: None,
        excerpt: None,
        original_name: Some("IMG_0001.jpg".into()),
        file_type: Some("jpeg".into()),
        mime: Some("image/jpeg".into()),
        size: Some(1234),
        width: Some(10),
        height: Some(20),
        sha256: Some("ab".repeat(32)),
        md5: Some("cd".repeat(16)),
        pdq: Some("ef".repeat(32)),
        pdq_quality: Some(90),
        sexual_image_of_minor: false,
        intimate: true,
        copies: vec!["original".into(), "display".into()],
        items,
    }
}

fn added(at: i64, by: StaffId, case: CaseId, e: &EvidenceRecord) -> AuditEntry {
    AuditEntry::new(
        at,
        Some(by),
        AuditEvent::EvidenceAdded {
            kind: e.kind,
            source: e.source,
            file: true,
        },
    )
    .object(e.id)
    .case(case)
}

/// An account and two cases it handles.
async fn two_cases(s: &Store, email: &str, refs: [&str; 2]) -> (StaffRecord, [NewCase; 2]) {
    let me = staff(email, Role::Counsellor, None);
    s.create_staff(&me, &audit(1, me.id, "staff.created"))
        .await
        .unwrap();
    let cases = refs.map(|r| new_case(me.id, r, "t", 10, None));
    for c in &cases {
        s.create_case(c, None, &audit(10, me.id, "case.created").case(c.id))
            .await
            .unwrap();
    }
    (me, cases)
}

#[tokio::test]
async fn evidence_is_numbered_linked_to_its_items_and_its_custody_logged() {
    let (s, _db) = store().await;
    let (me, [c, other]) = two_cases(&s, "preuve@example.org", ["D26-EVID1", "D26-EVID2"]).await;
    let item = ItemRecord {
        id: ItemId::new(),
        case_id: c.id,
        platform: "instagram".into(),
        content_type: "post".into(),
        url: Some("https://instagram.com/p/x".into()),
        native_id: None,
        status: ItemStatus::Online,
        first_seen_at: None,
        created_by: me.id,
        created_at: 11,
    };
    s.add_item(&item, &audit(11, me.id, "item.added").case(c.id))
        .await
        .unwrap();

    // the data key: the first one stored wins
    assert_eq!(s.case_key(c.id).await.unwrap(), None);
    assert_eq!(s.ensure_case_key(c.id, "k1", 12).await.unwrap(), "k1");
    assert_eq!(s.ensure_case_key(c.id, "k2", 13).await.unwrap(), "k1");
    assert!(matches!(
        s.ensure_case_key(CaseId::new(), "k", 13).await,
        Err(StorageError::NotFound)
    ));

    let e1 = evidence(c.id, me.id, vec![item.id], 20);
    let got = s
        .add_evidence(&e1, &added(20, me.id, c.id, &e1))
        .await
        .unwrap();
    assert_eq!(got.number, 1);
    let e2 = evidence(c.id, me.id, vec![], 21);
    assert_eq!(
        s.add_evidence(&e2, &added(21, me.id, c.id, &e2))
            .await
            .unwrap()
            .number,
        2
    );
    // an item of another case is refused, and nothing is written
    let stray = evidence(other.id, me.id, vec![item.id], 22);
    assert!(matches!(
        s.add_evidence(&stray, &added(22, me.id, other.id, &stray))
            .await,
        Err(StorageError::NotFound)
    ));
    assert!(s.case_evidence(other.id).await.unwrap().is_empty());

    let list = s.case_evidence(c.id).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].items, vec![item.id]);
    assert_eq!(
        list[0].added_by_name.as_deref(),
        Some("Agent preuve@example.org")
    );
    assert_eq!(list[0].copies, vec!["original", "display"]);
    assert!(list[0].intimate);
    let one = s.evidence(c.id, e1.id).await.unwrap().unwrap();
    assert_eq!(one.items, vec![item.id]);
    assert_eq!(one.sha256, e1.sha256);
    assert!(s.evidence(other.id, e1.id).await.unwrap().is_none());

    // custody: views and downloads, all in one transaction
    let view = |at: i64, copy: EvidenceCopy| {
        AuditEntry::new(at, Some(me.id), AuditEvent::EvidenceViewed { copy })
            .object(e1.id)
            .case(c.id)
    };
    s.record_custody(&[
        view(30, EvidenceCopy::Display),
        view(31, EvidenceCopy::Revealed),
    ])
    .await
    .unwrap();
    let log = s.custody_log(c.id).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "evidence.added",
            "evidence.added",
            "evidence.viewed",
            "evidence.viewed"
        ]
    );
    assert_eq!(log[3].detail, "copy=revealed");

    // digests and fingerprints for the hash bank
    let seen = s
        .evidence_with_digest(&"ab".repeat(32), None)
        .await
        .unwrap();
    assert_eq!(seen.len(), 2);
    let by_md5 = s
        .evidence_with_digest(&"00".repeat(32), Some(&"cd".repeat(16)))
        .await
        .unwrap();
    assert_eq!(by_md5.len(), 2);
    assert_eq!(s.fingerprints_since(21).await.unwrap().len(), 1);
    assert_eq!(s.fingerprints_since(0).await.unwrap()[0].evidence, e1.id);
}

#[tokio::test]
async fn followup_codes_lock_after_wrong_secrets_and_open_pages() {
    let (s, _db) = store().await;
    let (me, [c, other]) = two_cases(&s, "suivi@example.org", ["D26-SUIV1", "D26-SUIV2"]).await;
    let issued = |at| AuditEntry::new(at, Some(me.id), AuditEvent::FollowUpIssued);
    s.issue_followup(c.id, "CODE0001", "h-right", me.id, &issued(20).case(c.id))
        .await
        .unwrap();
    // a code is one case's only
    assert!(matches!(
        s.issue_followup(other.id, "CODE0001", "h", me.id, &issued(21).case(other.id))
            .await,
        Err(StorageError::Conflict)
    ));
    assert_eq!(
        s.followup_login("NOPE0000", "h-right", "t0", 30)
            .await
            .unwrap(),
        FollowUpLogin::Refused
    );
    assert_eq!(
        s.followup_login("CODE0001", "h-right", "t1", 30)
            .await
            .unwrap(),
        FollowUpLogin::Opened(c.id)
    );
    assert_eq!(
        s.followup_session("t1", 40, 1000).await.unwrap(),
        Some(c.id)
    );
    // idle too long: closed
    assert_eq!(s.followup_session("t1", 2000, 1000).await.unwrap(), None);
    assert_eq!(s.followup_session("t1", 2001, 1000).await.unwrap(), None);

    // wrong secrets, tried all at once: exactly one lock
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..MAX_FAILURES + 3 {
        let s = s.clone();
        tries.spawn(async move {
            s.followup_login("CODE0001", &format!("wrong{i}"), "t", 3000)
                .await
                .unwrap()
        });
    }
    let results = tries.join_all().await;
    let locked = results
        .iter()
        .filter(|r| matches!(r, FollowUpLogin::Locked(_)))
        .count();
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == FollowUpLogin::Refused)
            .count(),
        usize::try_from(MAX_FAILURES - 1).unwrap()
    );
    assert_eq!(locked, 4);
    // locked: even the right secret is refused until the lock ends
    assert!(matches!(
        s.followup_login("CODE0001", "h-right", "t2", 3001)
            .await
            .unwrap(),
        FollowUpLogin::Locked(_)
    ));
    let until = s.followup_access(c.id).await.unwrap().unwrap().locked_until;
    assert_eq!(
        s.followup_login("CODE0001", "h-right", "t3", until)
            .await
            .unwrap(),
        FollowUpLogin::Opened(c.id)
    );
    // a new code closes the pages of the old one
    s.issue_followup(c.id, "CODE0002", "h2", me.id, &issued(5000).case(c.id))
        .await
        .unwrap();
    assert_eq!(
        s.followup_session("t3", until + 1, 1000).await.unwrap(),
        None
    );
    assert_eq!(
        s.followup_login("CODE0001", "h-right", "t4", until + 2)
            .await
            .unwrap(),
        FollowUpLogin::Refused
    );

    // messages both ways, oldest first
    for (i, young) in [(1, true), (2, false)] {
        s.add_followup_message(
            &FollowUpMessage {
                id: format!("m{i}"),
                case_id: c.id,
                from_young_person: young,
                author: (!young).then_some(me.id),
                body: format!("message {i}"),
                created_at: 6000 + i,
            },
            &AuditEntry::new(
                6000 + i,
                (!young).then_some(me.id),
                AuditEvent::FollowUpMessage {
                    from_young_person: young,
                },
            )
            .case(c.id),
        )
        .await
        .unwrap();
    }
    let msgs = s.followup_messages(c.id).await.unwrap();
    assert_eq!(
        msgs.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["message 1", "message 2"]
    );
    assert_eq!(s.followup_notice_counts(c.id).await.unwrap(), (0, 0));
    s.revoke_followup(
        c.id,
        &AuditEntry::new(7000, Some(me.id), AuditEvent::FollowUpRevoked).case(c.id),
    )
    .await
    .unwrap();
    assert!(s.followup_access(c.id).await.unwrap().is_none());
}
