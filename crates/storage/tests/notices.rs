//! Notices in storage: drafted with their items, changed only from the state the caller
//! read, sent with their delivery job in one transaction (a refused change writes no job),
//! and a delivery's end written only by the job's current holder. SQLite, and PostgreSQL
//! when `REMPART_TEST_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rempart_domain::case::{Consent, ConsentScope, LegalQualification};
use rempart_domain::contact::ItemStatus;
use rempart_domain::directory::NoticeChannel;
use rempart_domain::ids::*;
use rempart_domain::notice::{DecisionKind, NoticeState};
use rempart_domain::policy::Role;
use rempart_domain::values::*;
use rempart_storage::testing::{event, fresh_database, options};
use rempart_storage::*;

struct Fixture {
    s: Store,
    _db: rempart_storage::testing::TestDb,
    by: StaffId,
    case: CaseId,
    items: Vec<ItemId>,
}

async fn fixture() -> Fixture {
    let db = fresh_database().await.unwrap();
    let s = Store::connect(&db.url, &options()).await.unwrap();
    s.migrate().await.unwrap();
    let by = StaffId::new();
    let staff = StaffRecord {
        id: by,
        email: "c@example.org".into(),
        display_name: "C".into(),
        role: Role::Counsellor,
        team: None,
        lang: "fr".into(),
        password_hash: "x".into(),
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: 0,
        recovery_codes: vec![],
        disabled: false,
        second_factor_failures: 0,
        second_factor_locked_until: 0,
        passkeys: 0,
        created_at: 1,
    };
    s.create_staff(
        &staff,
        &AuditEntry::new(1, Some(by), event("staff.created")),
    )
    .await
    .unwrap();
    let case = CaseId::new();
    let c = NewCase {
        id: case,
        reference: "D26-NNNN1".into(),
        title: "t".into(),
        team: None,
        categories: vec!["sextortion".into()],
        age_band: AgeBand::From15To17,
        preferred_channel: None,
        consents: vec![Consent {
            scope: ConsentScope::NoticeToPlatform,
            by_guardian: false,
            at_ms: 5,
        }],
        legal: LegalQualification {
            articles: vec![],
            dsa_category: None,
        },
        assignees: vec![by],
        created_by: by,
        at: 5,
    };
    s.create_case(
        &c,
        None,
        &AuditEntry::new(5, Some(by), event("case.created")),
    )
    .await
    .unwrap();
    let mut items = Vec::new();
    for i in 0..3 {
        let item = ItemRecord {
            id: ItemId::new(),
            case_id: case,
            platform: "snapchat".into(),
            content_type: "account".into(),
            url: None,
            native_id: Some(format!("@compte_{i}")),
            status: ItemStatus::Online,
            first_seen_at: None,
            created_by: by,
            created_at: 6 + i,
        };
        s.add_item(&item, &AuditEntry::new(6, Some(by), event("item.added")))
            .await
            .unwrap();
        items.push(item.id);
    }
    Fixture {
        s,
        _db: db,
        by,
        case,
        items,
    }
}

fn draft(f: &Fixture, items: Vec<ItemId>) -> NewNotice {
    NewNotice {
        id: NoticeId::new(),
        reference: format!("D26-NNNN1-{}", items.len()),
        case_id: f.case,
        platform: "snapchat".into(),
        category: "sextortion".into(),
        lang: "fr".into(),
        explanation: "Chantage à la diffusion d'images intimes.".into(),
        sexual_images_of_minor: true,
        needs_validation: true,
        expected_hours: 4,
        items,
        created_by: f.by,
        at: 10,
    }
}

fn audit(f: &Fixture, at: i64) -> AuditEntry {
    AuditEntry::new(at, Some(f.by), event("case.read")).case(f.case)
}

#[tokio::test]
async fn a_notice_is_drafted_with_its_items_in_order() {
    let f = fixture().await;
    let n = draft(&f, vec![f.items[2], f.items[0]]);
    f.s.create_notices(std::slice::from_ref(&n), &audit(&f, 10))
        .await
        .unwrap();
    let got = f.s.notice(n.id).await.unwrap().unwrap();
    assert_eq!(got.state, NoticeState::Draft);
    assert_eq!(got.items, vec![f.items[2], f.items[0]]);
    assert!(got.sexual_images_of_minor && got.needs_validation);
    assert_eq!(
        (got.expected_hours, got.attempts, got.channel_index),
        (4, 0, 0)
    );
    assert_eq!(f.s.notices_of_case(f.case).await.unwrap(), vec![got]);
    let mut noticed = f.s.noticed_items(f.case).await.unwrap();
    noticed.sort();
    let mut want = vec![f.items[2], f.items[0]];
    want.sort();
    assert_eq!(noticed, want);
    // the same reference twice: refused, nothing written
    let mut again = draft(&f, vec![f.items[1]]);
    again.reference = n.reference.clone();
    assert!(matches!(
        f.s.create_notices(&[again.clone()], &audit(&f, 11)).await,
        Err(StorageError::Conflict)
    ));
    assert!(f.s.notice(again.id).await.unwrap().is_none());
    assert_eq!(f.s.count_notices(f.case).await.unwrap(), 1);
}

#[tokio::test]
async fn a_change_from_a_stale_state_is_a_conflict_and_writes_no_job() {
    let f = fixture().await;
    let n = draft(&f, vec![f.items[0]]);
    f.s.create_notices(std::slice::from_ref(&n), &audit(&f, 10))
        .await
        .unwrap();
    let ready = NoticeChange {
        from: Some(NoticeState::Draft),
        to: Some(NoticeState::Ready),
        at: 20,
        prepared_by: Some(Some(f.by)),
        ..Default::default()
    };
    f.s.change_notice(n.id, &ready, None, &audit(&f, 20))
        .await
        .unwrap();
    let job = NewJob {
        kind: "notice_delivery".into(),
        dedup_key: format!("notice:{}:delivery:0", n.id),
        payload: n.id.to_string(),
        run_at: 30,
    };
    // a send from "draft" (a stale read): refused, and no job exists
    let stale_send = NoticeChange {
        from: Some(NoticeState::Draft),
        to: Some(NoticeState::Sent),
        at: 30,
        ..Default::default()
    };
    assert!(matches!(
        f.s.change_notice(n.id, &stale_send, Some(&job), &audit(&f, 30))
            .await,
        Err(StorageError::Conflict)
    ));
    assert!(f.s.job_by_key(&job.dedup_key).await.unwrap().is_none());
    assert!(matches!(
        f.s.change_notice(NoticeId::new(), &stale_send, None, &audit(&f, 30))
            .await,
        Err(StorageError::NotFound)
    ));
    // from "ready": the state and the job commit together
    let send = NoticeChange {
        from: Some(NoticeState::Ready),
        to: Some(NoticeState::Sent),
        at: 30,
        channel: Some(NoticeChannel::Coop),
        payload: Some("{\"exact\":\"bytes\"}".into()),
        sent_at: Some(30),
        due_at: Some(30 + 4 * 3_600_000),
        ..Default::default()
    };
    f.s.change_notice(n.id, &send, Some(&job), &audit(&f, 30))
        .await
        .unwrap();
    let got = f.s.notice(n.id).await.unwrap().unwrap();
    assert_eq!(got.state, NoticeState::Sent);
    assert_eq!(got.payload.as_deref(), Some("{\"exact\":\"bytes\"}"));
    assert_eq!(got.prepared_by, Some(f.by));
    assert_eq!(got.channel, Some(NoticeChannel::Coop));
    assert_eq!(
        f.s.job_by_key(&job.dedup_key).await.unwrap().unwrap().state,
        JobState::Pending
    );
}

#[tokio::test]
async fn a_delivery_ends_only_for_the_jobs_current_holder() {
    let f = fixture().await;
    let n = draft(&f, vec![f.items[0]]);
    f.s.create_notices(std::slice::from_ref(&n), &audit(&f, 10))
        .await
        .unwrap();
    let job = NewJob {
        kind: "notice_delivery".into(),
        dedup_key: format!("notice:{}:delivery:0", n.id),
        payload: n.id.to_string(),
        run_at: 0,
    };
    let to_sent = |from| NoticeChange {
        from: Some(from),
        to: Some(NoticeState::Sent),
        at: 20,
        ..Default::default()
    };
    f.s.change_notice(
        n.id,
        &NoticeChange {
            to: Some(NoticeState::Ready),
            ..to_sent(NoticeState::Draft)
        },
        None,
        &audit(&f, 20),
    )
    .await
    .unwrap();
    f.s.change_notice(
        n.id,
        &to_sent(NoticeState::Ready),
        Some(&job),
        &audit(&f, 20),
    )
    .await
    .unwrap();
    let first =
        f.s.claim_jobs(&["notice_delivery"], "n1", 100, 50, 10)
            .await
            .unwrap();
    let second =
        f.s.claim_jobs(&["notice_delivery"], "n2", 200, 50, 10)
            .await
            .unwrap();
    assert_eq!((first.len(), second.len()), (1, 1), "the lease ran out");
    let delivered = NoticeChange {
        from: Some(NoticeState::Sent),
        at: 210,
        ticket: Some("report-1".into()),
        delivered_at: Some(210),
        attempts: Some(2),
        ..Default::default()
    };
    // the first worker, back late: nothing of its result is written
    assert!(
        !f.s.end_notice_job(&first[0], &JobEnd::Done, n.id, &delivered, None, None)
            .await
            .unwrap()
    );
    assert_eq!(f.s.notice(n.id).await.unwrap().unwrap().ticket, None);
    assert!(
        f.s.end_notice_job(
            &second[0],
            &JobEnd::Done,
            n.id,
            &delivered,
            None,
            Some(&audit(&f, 210))
        )
        .await
        .unwrap()
    );
    let got = f.s.notice(n.id).await.unwrap().unwrap();
    assert_eq!(
        (got.ticket.as_deref(), got.delivered_at, got.attempts),
        (Some("report-1"), Some(210), 2)
    );
    assert_eq!(f.s.job_counts("notice_delivery").await.unwrap(), (0, 1, 0));
    // a decision later
    f.s.change_notice(
        n.id,
        &NoticeChange {
            from: Some(NoticeState::Sent),
            to: Some(NoticeState::Removed),
            at: 300,
            decision: Some(DecisionKind::ContentRemoved),
            decision_source: Some("coop".into()),
            decided_at: Some(300),
            removed_at: Some(300),
            ..Default::default()
        },
        None,
        &audit(&f, 300),
    )
    .await
    .unwrap();
    let got = f.s.notice(n.id).await.unwrap().unwrap();
    assert_eq!(got.decision, Some(DecisionKind::ContentRemoved));
    assert_eq!(got.state, NoticeState::Removed);
}

/// The benchmarks' bulk loader: cases, their items and a notice each in the `ready` state
/// with its bytes, read back as the use-cases read them, and sendable from there.
#[tokio::test]
async fn ready_notices_load_in_bulk_with_their_items_and_bytes() {
    let f = fixture().await;
    let mut cases = Vec::new();
    let mut ready = Vec::new();
    for i in 0..700u32 {
        let case = CaseId::new();
        cases.push(NewCase {
            id: case,
            reference: CaseReference::generate(2026, i + 100).to_string(),
            title: format!("bulk {i}"),
            team: None,
            categories: vec!["cyber_harassment".into()],
            age_band: AgeBand::From15To17,
            preferred_channel: None,
            consents: vec![],
            legal: LegalQualification {
                articles: vec![],
                dsa_category: None,
            },
            assignees: vec![f.by],
            created_by: f.by,
            at: 20,
        });
        let item = ItemRecord {
            id: ItemId::new(),
            case_id: case,
            platform: "instagram".into(),
            content_type: "post".into(),
            url: Some(format!("https://instagram.example/p/{i}")),
            native_id: None,
            status: ItemStatus::Online,
            first_seen_at: Some(19),
            created_by: f.by,
            created_at: 20,
        };
        ready.push(ReadyNotice {
            notice: NewNotice {
                id: NoticeId::new(),
                reference: format!("D26-BULK{i}-N1"),
                case_id: case,
                platform: "instagram".into(),
                category: "cyber_harassment".into(),
                lang: "en".into(),
                explanation: "Harassment.".into(),
                sexual_images_of_minor: false,
                needs_validation: false,
                expected_hours: 24,
                items: vec![item.id],
                created_by: f.by,
                at: 21,
            },
            items: vec![item],
            prepared_by: f.by,
            channel: NoticeChannel::HttpJson,
            payload: format!("{{\"n\":{i}}}"),
        });
    }
    f.s.bulk_load_ready_notices(&cases, &ready).await.unwrap();
    for (i, r) in ready.iter().enumerate().step_by(99) {
        let got = f.s.notice(r.notice.id).await.unwrap().unwrap();
        assert_eq!(got.state, NoticeState::Ready);
        assert_eq!(
            got.payload.as_deref(),
            Some(format!("{{\"n\":{i}}}").as_str())
        );
        assert_eq!(got.channel, Some(NoticeChannel::HttpJson));
        assert_eq!(got.prepared_by, Some(f.by));
        assert_eq!(got.items, r.notice.items);
        let items = f.s.items(r.notice.case_id).await.unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].url, r.items[0].url);
    }
    // a loaded notice is sent like any other: its state and its job together
    let n = &ready[699].notice;
    let change = NoticeChange {
        from: Some(NoticeState::Ready),
        to: Some(NoticeState::Sent),
        at: 30,
        sent_at: Some(30),
        ..Default::default()
    };
    let job = NewJob {
        kind: "notice_delivery".into(),
        dedup_key: format!("notice:{}:delivery:0", n.id),
        payload: n.id.to_string(),
        run_at: 30,
    };
    f.s.change_notice(n.id, &change, Some(&job), &audit(&f, 30))
        .await
        .unwrap();
    assert_eq!(
        f.s.notice(n.id).await.unwrap().unwrap().state,
        NoticeState::Sent
    );
    assert_eq!(f.s.job_counts("notice_delivery").await.unwrap(), (1, 0, 0));
}
