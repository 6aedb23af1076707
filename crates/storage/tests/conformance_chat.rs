//! Conversations on both databases: idempotent messages, the queue, taking and ending.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rempart_domain::chat::{ConversationStatus, RiskKind, Sender, priority};
use rempart_domain::ids::{ContactId, ConversationId, StaffId};
use rempart_domain::policy::Role;
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome};
use rempart_storage::testing::{TestDb, fresh_database};
use rempart_storage::*;

async fn store() -> (Store, TestDb) {
    let db = fresh_database().await.unwrap();
    let s = Store::connect(&db.url, &rempart_storage::testing::options())
        .await
        .unwrap();
    s.migrate().await.unwrap();
    (s, db)
}

async fn counsellor(s: &Store, email: &str) -> StaffId {
    let r = StaffRecord {
        id: StaffId::new(),
        email: email.into(),
        display_name: email.into(),
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
        &r,
        &AuditEntry::new(1, None, rempart_storage::testing::event("staff.created")),
    )
    .await
    .unwrap();
    r.id
}

async fn conv(s: &Store, token: &str, priority: i64, at: i64) -> ConversationId {
    let c = NewConversation {
        id: ConversationId::new(),
        token_hash: token.into(),
        person_key: format!("pk-{token}"),
        channel: Channel::WebChat,
        status: ConversationStatus::Waiting,
        caller_type: Some(CallerType::Victim),
        age_band: Some(AgeBand::From11To14),
        priority,
        lang: "fr".into(),
        at,
        follow_up_hash: None,
    };
    s.create_conversation(
        &c,
        &AuditEntry::new(
            at,
            None,
            rempart_storage::testing::event("conversation.started"),
        )
        .object(c.id),
    )
    .await
    .unwrap();
    c.id
}

#[tokio::test]
async fn messages_are_stored_once_per_client_id_in_order() {
    let (s, _db) = store().await;
    let id = conv(&s, "t1", 0, 10).await;
    let a = s
        .append_message(id, Sender::Visitor, None, "c-1", "bonjour", 11, &[])
        .await
        .unwrap();
    assert!(matches!(a, Appended::New { message: ref m, .. } if m.seq == 1));
    let again = s
        .append_message(id, Sender::Visitor, None, "c-1", "bonjour", 12, &[])
        .await
        .unwrap();
    assert_eq!(
        again,
        Appended::Duplicate(a.message().clone()),
        "a retry returns the stored message"
    );
    let b = s
        .append_message(
            id,
            Sender::Visitor,
            None,
            "c-2",
            "il va publier ce soir",
            13,
            &[RiskKind::ImminentPublication],
        )
        .await
        .unwrap();
    assert_eq!(b.message().seq, 2);
    // the same client id from the other side is another message
    let staff = counsellor(&s, "c@x.org").await;
    let c = s
        .append_message(
            id,
            Sender::Counsellor,
            Some(staff),
            "c-1",
            "Je t'écoute",
            14,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(c.message().seq, 3);
    let all = s.messages(id, 0, 100).await.unwrap();
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(s.messages(id, 2, 100).await.unwrap().len(), 1);
    let rec = s.conversation(id).await.unwrap().unwrap();
    assert_eq!(rec.risks, vec![RiskKind::ImminentPublication]);
    // the stored priority is recomputed from the merged signals and the pre-chat answers
    assert_eq!(
        rec.priority,
        priority(
            &[RiskKind::ImminentPublication],
            Some(CallerType::Victim),
            Some(AgeBand::From11To14)
        )
    );
    assert!(rec.priority >= 50);
    assert_eq!(s.conversation_by_token("t1").await.unwrap().unwrap().id, id);
    assert!(s.conversation_by_token("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_retries_store_one_message() {
    let (s, _db) = store().await;
    let id = conv(&s, "t1", 0, 10).await;
    let mut tasks = vec![];
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.append_message(id, Sender::Visitor, None, "same", "texte", 20 + i, &[])
                .await
                .unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Appended::New { .. }) {
            new += 1;
        }
    }
    assert_eq!(new, 1);
    assert_eq!(s.messages(id, 0, 100).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_most_urgent_is_taken_first_and_by_one_counsellor_only() {
    let (s, _db) = store().await;
    let calm_old = conv(&s, "a", 0, 10).await;
    let urgent = conv(&s, "b", 100, 30).await;
    let calm_new = conv(&s, "c", 0, 20).await;
    let q: Vec<_> = s.queue(false).await.unwrap().iter().map(|c| c.id).collect();
    assert_eq!(q, vec![urgent, calm_old, calm_new]);

    let mut staff = vec![];
    for i in 0..4 {
        staff.push(counsellor(&s, &format!("c{i}@x.org")).await);
    }
    let mut tasks = vec![];
    for st in staff.clone() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.take_next(st, Role::Counsellor, 40, false).await.unwrap()
        }));
    }
    let mut taken = vec![];
    for t in tasks {
        if let Some(c) = t.await.unwrap() {
            assert_eq!(c.status, ConversationStatus::Active);
            taken.push((c.id, c.assigned_to.unwrap()));
        }
    }
    assert_eq!(
        taken.len(),
        3,
        "three conversations, four counsellors: one gets none"
    );
    let mut ids: Vec<_> = taken.iter().map(|t| t.0).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "no conversation given twice");
    assert!(s.queue(false).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_ended_conversation_keeps_its_summary_and_refuses_messages() {
    let (s, _db) = store().await;
    let staff = counsellor(&s, "c@x.org").await;
    let id = conv(&s, "t", 0, 10).await;
    s.take_next(staff, Role::Counsellor, 11, false)
        .await
        .unwrap()
        .unwrap();
    let contact = ContactRecord {
        id: ContactId::new(),
        case_id: None,
        channel: Channel::WebChat,
        caller_type: CallerType::Victim,
        age_band: AgeBand::From11To14,
        categories: vec!["cyber_harassment".into()],
        summary: "Écoute, conseils de signalement".into(),
        outcome: ContactOutcome::Listened,
        person_key: Some("pk-t".into()),
        started_at: 10,
        duration_s: Some(600),
        created_by: staff,
        created_at: 20,
    };
    s.end_conversation(
        id,
        &contact,
        None,
        &AuditEntry::new(
            20,
            Some(staff),
            rempart_storage::testing::event("conversation.ended"),
        )
        .object(id),
    )
    .await
    .unwrap();
    let rec = s.conversation(id).await.unwrap().unwrap();
    assert_eq!(rec.status, ConversationStatus::Ended);
    assert_eq!(rec.ended_at, Some(20));
    assert!(matches!(
        s.append_message(id, Sender::Visitor, None, "late", "encore là ?", 21, &[])
            .await,
        Err(StorageError::Conflict)
    ));
    assert!(matches!(
        s.end_conversation(
            id,
            &contact,
            None,
            &AuditEntry::new(
                22,
                Some(staff),
                rempart_storage::testing::event("conversation.ended")
            )
        )
        .await,
        Err(StorageError::Conflict)
    ));
    assert_eq!(
        s.contacts_for_person("pk-t").await.unwrap().len(),
        1,
        "the summary is a contact, stored once"
    );
    assert_eq!(s.conversations_for_person("pk-t").await.unwrap().len(), 1);
    assert!(s.audit_verify(vec![]).await.unwrap().problems.is_empty());
}

/// Two nodes' pub/sub on one database (on SQLite, one node: it has no other).
async fn two_nodes() -> (PubSub, PubSub, TestDb) {
    let (a, db) = store().await;
    let node_a = PubSub::start(a.clone(), &db.url).await.unwrap();
    let node_b = if a.backend() == Backend::Postgres {
        let b = Store::connect(&db.url, &rempart_storage::testing::options())
            .await
            .unwrap();
        PubSub::start(b, &db.url).await.unwrap()
    } else {
        node_a.clone()
    };
    (node_a, node_b, db)
}

#[tokio::test]
async fn events_reach_every_node() {
    let (node_a, node_b, _db) = two_nodes().await;
    let mut on_b = node_b.subscribe_conversation("c1");
    let mut on_a = node_a.subscribe_conversation("c1");
    let mut queue_a = node_a.subscribe();
    let mut other_topic = node_a.subscribe_conversation("c2");
    let e = Event::Message {
        conversation: "c1".into(),
        seq: 3,
    };
    node_a.publish(e.clone()).await.unwrap();
    let wait = std::time::Duration::from_secs(10);
    assert_eq!(
        tokio::time::timeout(wait, on_b.recv())
            .await
            .unwrap()
            .unwrap(),
        e,
        "the other node hears it"
    );
    assert_eq!(
        tokio::time::timeout(wait, on_a.recv())
            .await
            .unwrap()
            .unwrap(),
        e,
        "and so does the publisher's node, once"
    );
    node_b.publish(Event::Queue).await.unwrap();
    assert_eq!(
        tokio::time::timeout(wait, queue_a.recv())
            .await
            .unwrap()
            .unwrap(),
        Event::Queue
    );
    assert!(
        on_a.try_recv().is_err(),
        "no duplicate delivery, and queue events stay off conversation topics"
    );
    assert!(
        other_topic.try_recv().is_err(),
        "another conversation's watcher is not woken"
    );
}

#[tokio::test]
async fn a_burst_of_events_arrives_whole_and_in_order_on_the_other_node() {
    let (node_a, node_b, _db) = two_nodes().await;
    // 20 conversations x 10 events of ~70 bytes, sent at once: more than one NOTIFY payload
    // holds (and fewer per conversation than its topic buffers)
    let topics: Vec<String> = (0..20)
        .map(|k| format!("{}-{k:02}", "burst-conversation-id".repeat(3)))
        .collect();
    let mut subs: Vec<_> = topics
        .iter()
        .map(|t| node_b.subscribe_conversation(t))
        .collect();
    for seq in 1..=10 {
        for t in &topics {
            node_a
                .publish(Event::Message {
                    conversation: t.clone(),
                    seq,
                })
                .await
                .unwrap();
        }
    }
    let wait = std::time::Duration::from_secs(10);
    for (t, sub) in topics.iter().zip(subs.iter_mut()) {
        for seq in 1..=10 {
            let e = tokio::time::timeout(wait, sub.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                e,
                Event::Message {
                    conversation: t.clone(),
                    seq
                }
            );
        }
    }
}

/// Takes the (only waiting) conversation and ends it with a short summary.
async fn take_and_end(s: &Store, staff: StaffId, id: ConversationId) {
    s.take_next(staff, Role::Counsellor, 11, false)
        .await
        .unwrap()
        .unwrap();
    let contact = ContactRecord {
        id: ContactId::new(),
        case_id: None,
        channel: Channel::WebChat,
        caller_type: CallerType::Parent,
        age_band: AgeBand::From15To17,
        categories: vec![],
        summary: "fin".into(),
        outcome: ContactOutcome::Listened,
        person_key: None,
        started_at: 10,
        duration_s: None,
        created_by: staff,
        created_at: 12,
    };
    s.end_conversation(
        id,
        &contact,
        None,
        &AuditEntry::new(
            12,
            Some(staff),
            rempart_storage::testing::event("conversation.ended"),
        )
        .object(id),
    )
    .await
    .unwrap();
}

/// PostgreSQL only (the embedded database has no connection to lose; CI runs this suite on
/// PostgreSQL): when a node's listening connection is cut, the node tells its subscribers
/// to catch up once it listens again.
#[tokio::test]
async fn a_node_whose_listener_was_cut_tells_its_subscribers_to_catch_up() {
    let (a, db) = store().await;
    if a.backend() != Backend::Postgres {
        eprintln!("SQLite: no listening connection to cut (this test runs on PostgreSQL in CI)");
        return;
    }
    let node = PubSub::start(a.clone(), &db.url).await.unwrap();
    let mut all = node.subscribe();
    let admin = Store::connect(&db.url, &rempart_storage::testing::options())
        .await
        .unwrap();
    let cut = admin.terminate_listeners_for_tests().await.unwrap();
    assert!(
        cut >= 1,
        "the node's listening connection was found and cut"
    );
    let wait = std::time::Duration::from_secs(20);
    loop {
        let e = tokio::time::timeout(wait, all.recv())
            .await
            .expect("a resync after the listener came back")
            .unwrap();
        if e == Event::Resync {
            break;
        }
    }
    // and it hears events again
    let mut topic = node.subscribe_conversation("after");
    let e = Event::Conversation {
        conversation: "after".into(),
    };
    node.publish(e.clone()).await.unwrap();
    assert_eq!(
        tokio::time::timeout(wait, topic.recv())
            .await
            .unwrap()
            .unwrap(),
        e
    );
}

#[tokio::test]
async fn queue_positions_follow_the_queue_order() {
    let (s, _db) = store().await;
    let a = conv(&s, "a", 0, 10).await;
    let b = conv(&s, "b", 100, 30).await;
    let c = conv(&s, "c", 0, 20).await;
    let order: Vec<_> = s.queue(false).await.unwrap().iter().map(|x| x.id).collect();
    for (i, id) in order.iter().enumerate() {
        let rec = s.conversation(*id).await.unwrap().unwrap();
        assert_eq!(s.queue_position(&rec, false).await.unwrap(), i as i64 + 1);
    }
    assert_eq!(order, vec![b, a, c]);
}

#[tokio::test]
async fn appends_committed_together_keep_order_and_their_own_fate() {
    let (s, _db) = store().await;
    let staff = counsellor(&s, "c@x.org").await;
    let ended = conv(&s, "ended", 0, 10).await;
    take_and_end(&s, staff, ended).await;
    let open: Vec<ConversationId> = {
        let mut v = vec![];
        for i in 0..5 {
            v.push(conv(&s, &format!("open{i}"), 0, 20).await);
        }
        v
    };
    // 5 conversations x 20 messages, each sent twice, plus appends to the ended one,
    // all at once: the writer commits them in shared transactions
    let mut tasks = vec![];
    for round in 0..2 {
        for n in 0..20 {
            for (k, id) in open.iter().enumerate() {
                let (s, id) = (s.clone(), *id);
                tasks.push(tokio::spawn(async move {
                    let r = s
                        .append_message(
                            id,
                            Sender::Visitor,
                            None,
                            &format!("m{n}"),
                            "texte",
                            30 + n,
                            &[],
                        )
                        .await
                        .unwrap();
                    (
                        k,
                        n,
                        round,
                        matches!(r, Appended::New { .. }),
                        r.message().clone(),
                    )
                }));
            }
            let s2 = s.clone();
            tasks.push(tokio::spawn(async move {
                let r = s2
                    .append_message(
                        ended,
                        Sender::Visitor,
                        None,
                        &format!("late{n}"),
                        "là ?",
                        40,
                        &[],
                    )
                    .await;
                assert!(
                    matches!(r, Err(StorageError::Conflict)),
                    "an ended conversation refuses: {r:?}"
                );
                (
                    usize::MAX,
                    n,
                    round,
                    false,
                    MessageRecord {
                        conversation_id: ended,
                        seq: 0,
                        sender: Sender::Visitor,
                        author_id: None,
                        client_id: String::new(),
                        body: String::new(),
                        created_at: 0,
                    },
                )
            }));
        }
    }
    let mut stored: std::collections::HashMap<(usize, i64), MessageRecord> = Default::default();
    let mut new = 0;
    for t in tasks {
        let (k, n, _round, is_new, m) = t.await.unwrap();
        if k == usize::MAX {
            continue;
        }
        if is_new {
            new += 1;
        }
        // both sends of one client id answer with the same stored message
        if let Some(prev) = stored.insert((k, n), m.clone()) {
            assert_eq!(prev, m);
        }
    }
    assert_eq!(new, 100, "each client id stored once");
    for id in &open {
        let seqs: Vec<i64> = s
            .messages(*id, 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|m| m.seq)
            .collect();
        assert_eq!(seqs, (1..=20).collect::<Vec<i64>>(), "contiguous sequence");
    }
    assert!(s.messages(ended, 0, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn risk_signals_committed_together_are_merged() {
    let (s, _db) = store().await;
    let id = conv(&s, "risky", 0, 10).await;
    let mut tasks = vec![];
    for (n, found) in [
        vec![RiskKind::BlackmailDeadline],
        vec![],
        vec![RiskKind::SuicidalThoughts],
        vec![],
        vec![RiskKind::BlackmailDeadline],
    ]
    .into_iter()
    .enumerate()
    {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.append_message(
                id,
                Sender::Visitor,
                None,
                &format!("r{n}"),
                "texte",
                20,
                &found,
            )
            .await
            .unwrap()
        }));
    }
    let mut raised = 0;
    for t in tasks {
        if let Appended::New { requeued: true, .. } = t.await.unwrap() {
            raised += 1;
        }
    }
    assert_eq!(
        raised, 2,
        "only the first sighting of each signal raises the priority"
    );
    let rec = s.conversation(id).await.unwrap().unwrap();
    let mut risks = rec.risks.clone();
    risks.sort();
    let mut want = vec![RiskKind::BlackmailDeadline, RiskKind::SuicidalThoughts];
    want.sort();
    assert_eq!(risks, want, "no signal overwrote another");
    assert_eq!(
        rec.priority,
        priority(&want, Some(CallerType::Victim), Some(AgeBand::From11To14))
    );
}
