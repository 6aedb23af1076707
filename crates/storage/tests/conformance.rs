//! The storage conformance suite: every test runs on SQLite, and on PostgreSQL when
//! `REMPART_TEST_POSTGRES` is set (CI runs the suite both ways).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rempart_domain::case::{CaseOutcome, CaseStatus, NoteVisibility};
use rempart_domain::contact::ItemStatus;
use rempart_domain::ids::*;
use rempart_domain::policy::{CaseScope, Role};
use rempart_domain::values::*;
use rempart_storage::*;

mod support;
use support::*;

#[tokio::test]
async fn staff_accounts_unique_email_and_sessions_end_on_disable() {
    let (s, _db) = store().await;
    let a = staff("ana@example.org", Role::Counsellor, None);
    s.create_staff(&a, &audit(1, a.id, "staff.created"))
        .await
        .unwrap();
    let dup = staff("ana@example.org", Role::Admin, None);
    assert!(matches!(
        s.create_staff(&dup, &audit(2, a.id, "staff.created")).await,
        Err(StorageError::Conflict)
    ));
    assert_eq!(
        s.staff_count().await.unwrap(),
        1,
        "the refused insert left nothing behind"
    );
    let got = s.staff_by_email("ana@example.org").await.unwrap().unwrap();
    assert_eq!(got.role, Role::Counsellor);

    let sess = SessionRecord {
        token_hash: "h1".into(),
        staff_id: a.id,
        csrf_token: "c".into(),
        mfa_done: false,
        second_factor_failures: 0,
        created_at: 5,
        last_seen_at: 5,
        ended_at: None,
    };
    s.open_session(&sess, "throttle-key", &audit(5, a.id, "auth.login"))
        .await
        .unwrap();
    assert!(s.session("h1").await.unwrap().unwrap().ended_at.is_none());
    s.set_staff_disabled(a.id, true, &audit(6, a.id, "staff.disabled"))
        .await
        .unwrap();
    assert_eq!(s.session("h1").await.unwrap().unwrap().ended_at, Some(6));
    assert!(s.staff_by_id(a.id).await.unwrap().unwrap().disabled);
}

#[tokio::test]
async fn totp_steps_cannot_be_replayed_and_recovery_codes_are_single_use() {
    let (s, _db) = store().await;
    let a = staff("b@example.org", Role::Supervisor, None);
    s.create_staff(&a, &audit(1, a.id, "staff.created"))
        .await
        .unwrap();
    assert!(s.claim_totp_step(a.id, 100).await.unwrap());
    assert!(!s.claim_totp_step(a.id, 100).await.unwrap());
    assert!(!s.claim_totp_step(a.id, 99).await.unwrap());
    s.set_totp(
        a.id,
        Some("SECRET".into()),
        true,
        &["r1".into(), "r2".into()],
        &audit(2, a.id, "staff.totp"),
    )
    .await
    .unwrap();
    assert!(
        s.use_recovery_code(a.id, "r1", &audit(3, a.id, "auth.recovery"))
            .await
            .unwrap()
    );
    assert!(
        !s.use_recovery_code(a.id, "r1", &audit(4, a.id, "auth.recovery"))
            .await
            .unwrap()
    );
    assert_eq!(
        s.staff_by_id(a.id).await.unwrap().unwrap().recovery_codes,
        vec!["r2".to_string()]
    );
}

#[tokio::test]
async fn cases_round_trip_list_scope_filters_and_paging() {
    let (s, _db) = store().await;
    let me = staff("me@example.org", Role::Counsellor, Some("nord"));
    let other = staff("o@example.org", Role::Counsellor, Some("sud"));
    s.create_staff(&me, &audit(1, me.id, "staff.created"))
        .await
        .unwrap();
    s.create_staff(&other, &audit(1, other.id, "staff.created"))
        .await
        .unwrap();

    let mine = new_case(
        me.id,
        "D26-AAAA1",
        "Photos diffusées sur Snapchat",
        10,
        None,
    );
    let team = new_case(
        other.id,
        "D26-AAAA2",
        "Compte piraté <script>",
        20,
        Some("nord"),
    );
    let theirs = new_case(
        other.id,
        "D26-AAAA3",
        "Harcèlement en classe",
        30,
        Some("sud"),
    );
    for c in [&mine, &team, &theirs] {
        s.create_case(
            c,
            None,
            &audit(c.at, c.created_by, "case.created").case(c.id),
        )
        .await
        .unwrap();
    }
    let dup = new_case(me.id, "D26-AAAA1", "dup", 40, None);
    assert!(matches!(
        s.create_case(&dup, None, &audit(40, me.id, "case.created"))
            .await,
        Err(StorageError::Conflict)
    ));
    assert_eq!(s.case_count().await.unwrap(), 3);

    let got = s.case_by_id(mine.id).await.unwrap().unwrap();
    assert_eq!(got.reference, "D26-AAAA1");
    assert_eq!(got.assignees, vec![me.id]);
    assert_eq!(got.consents, mine.consents);
    assert_eq!(got.legal, mine.legal);
    assert_eq!(got.categories, mine.categories);
    assert_eq!(got.preferred_channel, Some(Channel::WhatsApp));
    assert!(s.case_by_id(CaseId::new()).await.unwrap().is_none());
    assert_eq!(
        s.case_by_reference("D26-AAAA3").await.unwrap().unwrap().id,
        theirs.id
    );

    let f = |scope: CaseScope| CaseFilter {
        scope,
        status: None,
        category: None,
        assignee: None,
        text: None,
        cursor: None,
        backward: false,
        limit: 50,
    };
    let scoped = s
        .list_cases(&f(CaseScope::TeamOrAssigned {
            staff: me.id,
            team: Some("nord".into()),
        }))
        .await
        .unwrap();
    let refs: Vec<_> = scoped.cases.iter().map(|c| c.reference.as_str()).collect();
    assert_eq!(
        refs,
        vec!["D26-AAAA2", "D26-AAAA1"],
        "own and team cases, newest first"
    );
    assert_eq!(
        s.list_cases(&f(CaseScope::Nothing))
            .await
            .unwrap()
            .cases
            .len(),
        0
    );
    assert_eq!(
        s.list_cases(&f(CaseScope::All)).await.unwrap().cases.len(),
        3
    );

    let mut q = f(CaseScope::All);
    q.text = Some("SNAPCHAT".into());
    assert_eq!(
        s.list_cases(&q).await.unwrap().cases.len(),
        1,
        "search is case-insensitive"
    );
    q.text = Some("%".into());
    assert_eq!(
        s.list_cases(&q).await.unwrap().cases.len(),
        0,
        "LIKE wildcards are escaped"
    );
    q.text = Some("*".into());
    assert_eq!(
        s.list_cases(&q).await.unwrap().cases.len(),
        0,
        "GLOB wildcards are escaped"
    );
    q.text = Some("[a".into());
    assert_eq!(s.list_cases(&q).await.unwrap().cases.len(), 0);
    q.text = Some("pi".into());
    assert_eq!(
        s.list_cases(&q).await.unwrap().cases.len(),
        1,
        "two letters still search (piraté)"
    );
    q.text = Some("HARCÈLEMENT EN".into());
    assert_eq!(
        s.list_cases(&q).await.unwrap().cases.len(),
        1,
        "accents and spaces"
    );
    q.text = Some("' OR 1=1--".into());
    assert_eq!(s.list_cases(&q).await.unwrap().cases.len(), 0);
    q.text = Some("d26-aaaa3".into());
    assert_eq!(s.list_cases(&q).await.unwrap().cases[0].id, theirs.id);

    let mut q = f(CaseScope::All);
    q.category = Some("intimate_images".into());
    assert_eq!(s.list_cases(&q).await.unwrap().cases.len(), 3);
    q.category = Some("intimate".into());
    assert_eq!(
        s.list_cases(&q).await.unwrap().cases.len(),
        0,
        "category matches whole codes"
    );
    let mut q = f(CaseScope::All);
    q.assignee = Some(me.id);
    assert_eq!(s.list_cases(&q).await.unwrap().cases.len(), 1);

    // paging
    let mut q = f(CaseScope::All);
    q.limit = 2;
    let p1 = s.list_cases(&q).await.unwrap();
    assert_eq!(p1.cases.len(), 2);
    q.cursor = p1.next.clone();
    let p2 = s.list_cases(&q).await.unwrap();
    assert_eq!(p2.cases.len(), 1);
    assert!(p2.next.is_none());
    assert_eq!(p2.cases[0].reference, "D26-AAAA1");
    let cursor = p1.next.unwrap();
    assert_eq!(CaseCursor::decode(&cursor.encode()), Some(cursor));
}

#[tokio::test]
async fn status_changes_are_checked_against_the_current_status() {
    let (s, _db) = store().await;
    let me = staff("me@example.org", Role::Counsellor, None);
    s.create_staff(&me, &audit(1, me.id, "staff.created"))
        .await
        .unwrap();
    let c = new_case(me.id, "D26-BBBB1", "t", 10, None);
    s.create_case(&c, None, &audit(10, me.id, "case.created").case(c.id))
        .await
        .unwrap();
    s.change_case_status(
        c.id,
        CaseStatus::New,
        CaseStatus::Closed,
        Some(CaseOutcome::AdviceOnly),
        &audit(11, me.id, "case.status_changed").case(c.id),
    )
    .await
    .unwrap();
    // a stale writer who still thinks the case is new loses, and writes no audit event
    let before = s.audit_verify(vec![]).await.unwrap().checked;
    assert!(matches!(
        s.change_case_status(
            c.id,
            CaseStatus::New,
            CaseStatus::InProgress,
            None,
            &audit(12, me.id, "case.status_changed")
        )
        .await,
        Err(StorageError::Conflict)
    ));
    assert_eq!(s.audit_verify(vec![]).await.unwrap().checked, before);
    let got = s.case_by_id(c.id).await.unwrap().unwrap();
    assert_eq!(got.status, CaseStatus::Closed);
    assert_eq!(got.outcome, Some(CaseOutcome::AdviceOnly));
    assert_eq!(got.closed_at, Some(11));
}

#[tokio::test]
async fn items_notes_contacts_and_assignees() {
    let (s, _db) = store().await;
    let psy = staff("psy@example.org", Role::Psychologist, None);
    let c1 = staff("c@example.org", Role::Counsellor, None);
    for a in [&psy, &c1] {
        s.create_staff(a, &audit(1, a.id, "staff.created"))
            .await
            .unwrap();
    }
    let c = new_case(c1.id, "D26-CCCC1", "t", 10, None);
    s.create_case(&c, None, &audit(10, c1.id, "case.created").case(c.id))
        .await
        .unwrap();

    let item = ItemRecord {
        id: ItemId::new(),
        case_id: c.id,
        platform: "instagram".into(),
        content_type: "account".into(),
        url: Some("https://instagram.com/x".into()),
        native_id: Some("@x".into()),
        status: ItemStatus::Online,
        first_seen_at: Some(9),
        created_by: c1.id,
        created_at: 11,
    };
    s.add_item(&item, &audit(11, c1.id, "item.added").case(c.id))
        .await
        .unwrap();
    let orphan = ItemRecord {
        case_id: CaseId::new(),
        id: ItemId::new(),
        ..item.clone()
    };
    assert!(matches!(
        s.add_item(&orphan, &audit(11, c1.id, "item.added")).await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(s.items(c.id).await.unwrap().len(), 1);

    for (v, by) in [
        (NoteVisibility::Team, c1.id),
        (NoteVisibility::Psychologists, psy.id),
    ] {
        let n = NoteRecord {
            id: NoteId::new(),
            case_id: c.id,
            visibility: v,
            body: "Nuit difficile 🌙".into(),
            author_id: by,
            author_name: String::new(),
            created_at: 12,
        };
        s.add_note(&n, &audit(12, by, "note.added").case(c.id))
            .await
            .unwrap();
    }
    assert_eq!(
        s.notes(c.id, &[NoteVisibility::Team]).await.unwrap().len(),
        1
    );
    let all = s
        .notes(c.id, &[NoteVisibility::Team, NoteVisibility::Psychologists])
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].body, "Nuit difficile 🌙");
    assert!(s.notes(c.id, &[]).await.unwrap().is_empty());

    let k = ContactRecord {
        id: ContactId::new(),
        case_id: Some(c.id),
        channel: Channel::Phone,
        caller_type: CallerType::Parent,
        age_band: AgeBand::From15To17,
        categories: vec!["sextortion".into()],
        summary: "Chantage webcam, délai ce soir".into(),
        outcome: ContactOutcome::CaseOpened,
        person_key: Some("ab".repeat(32)),
        started_at: 13,
        duration_s: Some(600),
        created_by: c1.id,
        created_at: 13,
    };
    s.add_contact(&k, &audit(13, c1.id, "contact.logged").case(c.id))
        .await
        .unwrap();
    assert_eq!(
        s.contacts_for_case(c.id).await.unwrap()[0].summary,
        k.summary
    );
    assert_eq!(
        s.contacts_for_person(&"ab".repeat(32)).await.unwrap().len(),
        1
    );
    let mut q = CaseFilter {
        scope: CaseScope::All,
        status: None,
        category: None,
        assignee: None,
        text: Some("webcam".into()),
        cursor: None,
        backward: false,
        limit: 10,
    };
    assert_eq!(
        s.list_cases(&q).await.unwrap().cases.len(),
        1,
        "contact summaries are searchable"
    );
    q.text = Some("CCCC1".into());
    assert_eq!(
        s.list_cases(&q).await.unwrap().cases.len(),
        1,
        "the reference stays searchable"
    );

    s.set_case_assignees(
        c.id,
        &[psy.id, c1.id],
        &audit(14, c1.id, "case.assigned").case(c.id),
    )
    .await
    .unwrap();
    assert_eq!(
        s.case_by_id(c.id).await.unwrap().unwrap().assignees.len(),
        2
    );
    assert!(matches!(
        s.set_case_assignees(CaseId::new(), &[], &audit(15, c1.id, "case.assigned"))
            .await,
        Err(StorageError::NotFound)
    ));
}

#[tokio::test]
async fn audit_chain_verifies_and_detects_tampering() {
    let (s, db) = store().await;
    let me = staff("me@example.org", Role::Supervisor, None);
    s.create_staff(&me, &audit(1, me.id, "staff.created"))
        .await
        .unwrap();
    for i in 0..20 {
        s.audit(&audit(10 + i, me.id, "case.read").object(format!("o{i}")))
            .await
            .unwrap();
    }
    let r = s.audit_verify(vec![]).await.unwrap();
    assert_eq!(r.checked, 21);
    assert!(r.problems.is_empty());
    let page = s
        .audit_events(&AuditFilter {
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 5);
    assert_eq!(page[0].seq, 21);
    let changes = s
        .audit_events(&AuditFilter {
            limit: 50,
            changes_only: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(changes.len(), 1, "reads are left out of the timeline");

    // tamper behind the store's back
    let raw = Store::connect(&db.url, &rempart_storage::testing::options())
        .await
        .unwrap();
    raw.tamper_for_tests("UPDATE audit_events SET detail = 'x' WHERE seq = 7")
        .await;
    let r = s.audit_verify(vec![]).await.unwrap();
    assert_eq!(r.problems.len(), 1);
}

#[tokio::test]
async fn concurrent_writers_keep_one_chain() {
    let (s, _db) = store().await;
    let me = staff("me@example.org", Role::Supervisor, None);
    s.create_staff(&me, &audit(1, me.id, "staff.created"))
        .await
        .unwrap();
    let mut tasks = vec![];
    for t in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                s.audit(
                    &AuditEntry::new(
                        100 + i,
                        Some(me.id),
                        rempart_storage::testing::event("case.read"),
                    )
                    .object(t),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = s.audit_verify(vec![]).await.unwrap();
    assert_eq!(r.checked, 101);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
}

#[tokio::test]
async fn unknown_url_scheme_is_refused() {
    assert!(matches!(
        Store::connect("mysql://localhost/x", &rempart_storage::testing::options()).await,
        Err(StorageError::UnsupportedScheme)
    ));
}

#[tokio::test]
async fn search_pages_equal_a_filtered_full_listing() {
    // Every plan (window scan, trigram index, team branch) must give exactly the newest
    // matches in order, page after page.
    let (s, _db) = store().await;
    let me = staff("me@example.org", Role::Counsellor, Some("nord"));
    let other = staff("o@example.org", Role::Counsellor, Some("sud"));
    s.create_staff(&me, &audit(1, me.id, "staff.created"))
        .await
        .unwrap();
    s.create_staff(&other, &audit(1, other.id, "staff.created"))
        .await
        .unwrap();
    let words = ["harcèlement", "photos", "compte", "chantage", "vidéo"];
    let mut made = vec![];
    for i in 0..60u32 {
        let owner = if i % 3 == 0 { other.id } else { me.id };
        let team = if i % 2 == 0 { Some("nord") } else { None };
        let title = format!(
            "{} {} n{i}",
            words[(i % 5) as usize],
            words[((i / 5) % 5) as usize]
        );
        let c = new_case(
            owner,
            &format!("D26-{:05}", i),
            &title,
            100 + i64::from(i / 2),
            team,
        );
        s.create_case(&c, None, &audit(c.at, owner, "case.created").case(c.id))
            .await
            .unwrap();
        made.push((c, owner, team));
    }
    for scope in [
        CaseScope::All,
        CaseScope::TeamOrAssigned {
            staff: me.id,
            team: Some("nord".into()),
        },
    ] {
        // accents and case are ignored: "harcelement" and "VIDEO" find the accented titles
        for word in [
            "photos",
            "vidéo",
            "VIDEO",
            "harcelement",
            "HARCÈLEMENT",
            "n1",
            "compte chantage",
            "zzz",
        ] {
            let fold = rempart_domain::text::fold_for_search;
            let mut expected: Vec<&NewCase> = made
                .iter()
                .filter(|(c, owner, team)| {
                    let visible = match &scope {
                        CaseScope::All => true,
                        _ => *owner == me.id || *team == Some("nord"),
                    };
                    visible && fold(&c.title).contains(&fold(word))
                })
                .map(|(c, _, _)| c)
                .collect();
            expected.sort_by_key(|c| std::cmp::Reverse((c.at, c.id.to_string())));
            if !["zzz", "n1"].contains(&word) {
                assert!(!expected.is_empty(), "{word} finds something");
            }
            let filter = |cursor, backward, limit| CaseFilter {
                scope: scope.clone(),
                status: None,
                category: None,
                assignee: None,
                text: Some(word.into()),
                cursor,
                backward,
                limit,
            };
            assert_eq!(
                s.count_cases(&filter(None, false, 1)).await.unwrap(),
                expected.len() as i64,
                "{scope:?} {word}: the total"
            );
            for limit in [1, 3, 50] {
                let mut got = vec![];
                let mut pages = vec![];
                let mut cursor = None;
                loop {
                    let page = s.list_cases(&filter(cursor, false, limit)).await.unwrap();
                    assert_eq!(
                        page.prev.is_some(),
                        !pages.is_empty() && !page.cases.is_empty(),
                        "{scope:?} {word} limit {limit}: a previous page after the first"
                    );
                    got.extend(page.cases.iter().map(|c| c.id));
                    pages.push(page.cases.iter().map(|c| c.id).collect::<Vec<_>>());
                    match page.next {
                        Some(n) => cursor = Some(n),
                        None => {
                            cursor = page.prev;
                            break;
                        }
                    }
                }
                let want: Vec<CaseId> = expected.iter().map(|c| c.id).collect();
                assert_eq!(got, want, "{scope:?} {word} limit {limit}");
                // back from the last page, one page at a time, to the first
                let mut back = pages.len() - 1;
                while let Some(before) = cursor {
                    back -= 1;
                    let page = s
                        .list_cases(&filter(Some(before), true, limit))
                        .await
                        .unwrap();
                    let ids: Vec<CaseId> = page.cases.iter().map(|c| c.id).collect();
                    assert_eq!(
                        ids, pages[back],
                        "{scope:?} {word} limit {limit}: page {back} read backwards"
                    );
                    assert!(page.next.is_some(), "a page read backwards has a next page");
                    cursor = page.prev;
                }
                assert_eq!(
                    back, 0,
                    "{scope:?} {word} limit {limit}: back to the first page"
                );
            }
        }
    }
}

#[tokio::test]
async fn own_cases_follow_their_latest_change() {
    let (s, _db) = store().await;
    let me = staff("me@example.org", Role::Counsellor, None);
    s.create_staff(&me, &audit(1, me.id, "staff.created"))
        .await
        .unwrap();
    let old = new_case(me.id, "D26-EEEE1", "ancien", 10, None);
    let new = new_case(me.id, "D26-EEEE2", "récent", 20, None);
    for c in [&old, &new] {
        s.create_case(c, None, &audit(c.at, me.id, "case.created").case(c.id))
            .await
            .unwrap();
    }
    let mine = CaseFilter {
        scope: CaseScope::TeamOrAssigned {
            staff: me.id,
            team: None,
        },
        status: None,
        category: None,
        assignee: None,
        text: None,
        cursor: None,
        backward: false,
        limit: 1,
    };
    assert_eq!(s.list_cases(&mine).await.unwrap().cases[0].id, new.id);
    let n = NoteRecord {
        id: NoteId::new(),
        case_id: old.id,
        visibility: NoteVisibility::Team,
        body: "relance".into(),
        author_id: me.id,
        author_name: String::new(),
        created_at: 30,
    };
    s.add_note(&n, &audit(30, me.id, "note.added").case(old.id))
        .await
        .unwrap();
    assert_eq!(
        s.list_cases(&mine).await.unwrap().cases[0].id,
        old.id,
        "the note made the old case the newest"
    );
    s.set_case_assignees(
        new.id,
        &[me.id],
        &audit(40, me.id, "case.assigned").case(new.id),
    )
    .await
    .unwrap();
    assert_eq!(
        s.list_cases(&mine).await.unwrap().cases[0].id,
        new.id,
        "a re-assignment counts as a change"
    );
}

#[tokio::test]
async fn partner_keys_rotate_with_an_overlap_and_revoke_once() {
    use rempart_domain::audit::event::AuditEvent;
    let (s, _db) = store().await;
    let admin = StaffId::new();
    let audit = |at: i64| {
        AuditEntry::new(
            at,
            Some(admin),
            AuditEvent::PartnerKeyIssued {
                platform: "tiktok".into(),
                key: "rpk_x".into(),
            },
        )
    };
    let key = |id: &str, hash: &str, at: i64| NewPartnerKey {
        id: id.into(),
        platform: "tiktok".into(),
        prefix: format!("rpk_{id}"),
        key_hash: hash.into(),
        created_by: Some(admin),
        at,
    };
    s.issue_partner_key(&key("k1", "h1", 1_000), 1_000, &audit(1_000))
        .await
        .unwrap();
    let k1 = s.partner_key_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(
        (k1.id.as_str(), k1.expires_at, k1.revoked_at),
        ("k1", None, None)
    );
    assert!(k1.is_live(5_000));
    // a new key: the live one ends at the overlap's end, in the same transaction
    s.issue_partner_key(&key("k2", "h2", 2_000), 9_000, &audit(2_000))
        .await
        .unwrap();
    let k1 = s.partner_key_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(k1.expires_at, Some(9_000));
    assert!(k1.is_live(8_999) && !k1.is_live(9_000));
    // a third: an end already sooner is kept
    s.issue_partner_key(&key("k3", "h3", 3_000), 20_000, &audit(3_000))
        .await
        .unwrap();
    assert_eq!(
        s.partner_key_by_hash("h1")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        Some(9_000)
    );
    assert_eq!(
        s.partner_key_by_hash("h2")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        Some(20_000)
    );
    let ids: Vec<String> = s
        .partner_keys("tiktok")
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, ["k3", "k2", "k1"], "newest first");
    assert!(s.partner_keys("yubo").await.unwrap().is_empty());
    // the same hash twice is refused, and nothing of it is written
    assert!(matches!(
        s.issue_partner_key(&key("k4", "h3", 4_000), 30_000, &audit(4_000))
            .await,
        Err(StorageError::Conflict)
    ));
    assert_eq!(
        s.partner_key_by_hash("h2")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        Some(20_000)
    );
    // revoked at once, once; never through another platform
    let revoke = AuditEntry::new(
        5_000,
        Some(admin),
        AuditEvent::PartnerKeyRevoked {
            platform: "tiktok".into(),
            key: "rpk_k3".into(),
        },
    );
    assert!(matches!(
        s.revoke_partner_key("yubo", "k3", 5_000, admin, &revoke)
            .await,
        Err(StorageError::NotFound)
    ));
    s.revoke_partner_key("tiktok", "k3", 5_000, admin, &revoke)
        .await
        .unwrap();
    let k3 = s.partner_key_by_hash("h3").await.unwrap().unwrap();
    assert_eq!(k3.revoked_at, Some(5_000));
    assert!(!k3.is_live(5_000));
    assert!(matches!(
        s.revoke_partner_key("tiktok", "k3", 6_000, admin, &revoke)
            .await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(
        s.partner_key_by_hash("h3")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(5_000)
    );
    assert!(s.partner_key_by_hash("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn playbook_ticks_and_versions() {
    use rempart_domain::audit::event::AuditEvent;
    let (s, _db) = store().await;
    let me = staff("guide@example.org", Role::Counsellor, None);
    s.create_staff(&me, &audit(1, me.id, "staff.created"))
        .await
        .unwrap();
    let c = new_case(me.id, "D26-GUID1", "t", 10, None);
    s.create_case(&c, None, &audit(10, me.id, "case.created").case(c.id))
        .await
        .unwrap();
    let tick = |at: i64, done: bool| {
        AuditEntry::new(
            at,
            Some(me.id),
            AuditEvent::PlaybookStepTicked {
                playbook: "cyber_harassment".into(),
                step: "keep_proof".into(),
                done,
            },
        )
        .case(c.id)
    };
    s.set_playbook_tick(
        c.id,
        "cyber_harassment",
        "keep_proof",
        true,
        me.id,
        &tick(20, true),
    )
    .await
    .unwrap();
    let t = s.playbook_ticks(c.id).await.unwrap();
    assert_eq!(t.len(), 1);
    assert!(t[0].done);
    assert_eq!(
        (t[0].changed_at, t[0].changed_by_name.as_str()),
        (20, "Agent guide@example.org")
    );
    // unticked: the same row, the last state
    s.set_playbook_tick(
        c.id,
        "cyber_harassment",
        "keep_proof",
        false,
        me.id,
        &tick(30, false),
    )
    .await
    .unwrap();
    let t = s.playbook_ticks(c.id).await.unwrap();
    assert_eq!(t.len(), 1);
    assert!(!t[0].done);
    assert_eq!(t[0].changed_at, 30);
    assert_eq!(s.case_by_id(c.id).await.unwrap().unwrap().updated_at, 30);
    // both changes are in the case's timeline, in order
    let timeline = s
        .audit_events(&AuditFilter {
            case_id: Some(c.id),
            changes_only: true,
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let steps: Vec<&str> = timeline
        .iter()
        .filter(|e| e.action == "case.playbook_step")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(steps.iter().any(|d| d.contains("done=1")));
    assert!(steps.iter().any(|d| d.contains("done=0")));
    // no case: refused, nothing written
    let before = s.audit_verify(vec![]).await.unwrap().checked;
    assert!(matches!(
        s.set_playbook_tick(CaseId::new(), "x", "y", true, me.id, &tick(40, true))
            .await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(s.audit_verify(vec![]).await.unwrap().checked, before);

    // versions: none, then 1, 2 (the defaults again); a stale editor loses
    assert_eq!(s.playbooks_version().await.unwrap(), 0);
    assert!(s.latest_playbooks().await.unwrap().is_none());
    let edited = |at: i64, version: i64, defaults: bool| {
        AuditEntry::new(
            at,
            Some(me.id),
            AuditEvent::PlaybooksEdited { version, defaults },
        )
    };
    assert_eq!(
        s.save_playbooks(0, Some("# v1"), me.id, &edited(50, 1, false))
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        s.save_playbooks(0, Some("# stale"), me.id, &edited(51, 1, false))
            .await,
        Err(StorageError::Conflict)
    ));
    let v = s.latest_playbooks().await.unwrap().unwrap();
    assert_eq!(
        (v.version, v.document.as_deref(), v.edited_at),
        (1, Some("# v1"), 50)
    );
    assert_eq!(
        s.save_playbooks(1, None, me.id, &edited(60, 2, true))
            .await
            .unwrap(),
        2
    );
    let v = s.latest_playbooks().await.unwrap().unwrap();
    assert_eq!((v.version, v.document), (2, None));
    assert_eq!(v.edited_by, me.id);
    assert_eq!(s.playbooks_version().await.unwrap(), 2);
}
