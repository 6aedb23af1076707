//! Two stores on one database (two pools, as two nodes): each one's group commit takes
//! the row locks of many conversations in one transaction. Appending to the same
//! conversations in opposite orders at the same moment must never make a batch fail: on
//! PostgreSQL a batch locks its conversations in one global order, and a batch that still
//! loses a lock race is retried one append per transaction. On SQLite the two writers
//! queue on the database's one write lock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rempart_domain::chat::{ConversationStatus, Sender};
use rempart_domain::ids::ConversationId;
use rempart_domain::values::{AgeBand, CallerType, Channel};
use rempart_storage::testing::{fresh_database, options};
use rempart_storage::*;

const CONVERSATIONS: usize = 48;
const ROUNDS: usize = 6;

async fn conv(s: &Store, i: usize) -> ConversationId {
    let c = NewConversation {
        id: ConversationId::new(),
        token_hash: format!("token-{i}"),
        person_key: format!("pk-{i}"),
        channel: Channel::WebChat,
        status: ConversationStatus::Waiting,
        caller_type: Some(CallerType::Victim),
        age_band: Some(AgeBand::From11To14),
        priority: 0,
        lang: "fr".into(),
        at: 10,
        follow_up_hash: None,
    };
    s.create_conversation(
        &c,
        &AuditEntry::new(
            10,
            None,
            rempart_storage::testing::event("conversation.started"),
        )
        .object(c.id),
    )
    .await
    .unwrap();
    c.id
}

// One thread: the appends below are queued in the order they are spawned, so each
// store's writer finds all of them waiting and commits them as one batch, A's in
// ascending order of arrival and B's in descending order.
#[tokio::test(flavor = "current_thread")]
async fn two_nodes_appending_to_the_same_conversations_in_opposite_orders_both_succeed() {
    let db = fresh_database().await.unwrap();
    let a = Store::connect(&db.url, &options()).await.unwrap();
    a.migrate().await.unwrap();
    let b = Store::connect(&db.url, &options()).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..CONVERSATIONS {
        ids.push(conv(&a, i).await);
    }
    for round in 0..ROUNDS {
        let mut tasks = Vec::new();
        for (node, store) in [("a", &a), ("b", &b)] {
            let order: Vec<usize> = if node == "a" {
                (0..CONVERSATIONS).collect()
            } else {
                (0..CONVERSATIONS).rev().collect()
            };
            for i in order {
                let (store, id) = (store.clone(), ids[i]);
                let (sender, cid) = if node == "a" {
                    (Sender::Visitor, format!("v-{round}-{i}"))
                } else {
                    (Sender::Counsellor, format!("c-{round}-{i}"))
                };
                tasks.push(tokio::spawn(async move {
                    store
                        .append_message(id, sender, None, &cid, "message", 20, &[])
                        .await
                }));
            }
        }
        for (n, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(Appended::New { .. }) => {}
                other => panic!("round {round}, append {n}: {other:?}"),
            }
        }
    }
    // every message stored once, numbered without a gap in each conversation
    for id in &ids {
        let m = a.messages(*id, 0, 1000).await.unwrap();
        assert_eq!(m.len(), 2 * ROUNDS);
        let seqs: Vec<i64> = m.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=(2 * ROUNDS) as i64).collect::<Vec<_>>());
    }
    a.close().await;
    b.close().await;
}
