//! Two `rempart serve` processes on one PostgreSQL database: the young person writes on
//! one node, the counsellor answers on the other, and both see each other live (pub/sub
//! over LISTEN/NOTIFY). Needs `REMPART_TEST_POSTGRES`; CI's PostgreSQL pass sets it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::SinkExt;
use serde_json::{Value, json};
use std::time::Instant;
use support::*;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_visitor_on_one_node_and_a_counsellor_on_another_talk_live() {
    let Some(server) = rempart_storage::testing::postgres_server() else {
        eprintln!(
            "REMPART_TEST_POSTGRES IS NOT SET: the two-node test needs PostgreSQL and checked NOTHING (CI runs it)"
        );
        return;
    };
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    assert!(db.url.starts_with(&server));
    let dir = tmp("two-nodes");
    let hours = always_open(&dir);
    let env = node_env(&db.url, &hours);
    // one account, created as an operator would
    user_add(
        &env,
        "nina@helpline.invalid",
        "counsellor",
        "two nodes passphrase",
    );
    let a = serve(&env, &[]).await;
    let b = serve(&env, &[]).await;
    let http = reqwest::Client::new();

    // the visitor, on node A
    let v: Value = http
        .post(format!("{}/widget/v1/sessions", a.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = v["token"].as_str().unwrap().to_owned();
    let mut vs = socket(&a.base, "/widget/v1/ws", None).await;
    vs.send(Message::text(
        json!({"token": token, "after": 0}).to_string(),
    ))
    .await
    .unwrap();
    frame(&mut vs, "state", |_| true).await;
    let r = http
        .post(format!("{}/widget/v1/messages", a.base))
        .bearer_auth(&token)
        .json(&json!({"client_id": "a1", "body": "Bonjour depuis le nœud A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // the counsellor, on node B: its queue socket hears the visitor's arrival from A
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", b.base))
        .json(&json!({"email": "nina@helpline.invalid", "password": "two nodes passphrase"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ctok = login["token"].as_str().unwrap().to_owned();
    let mut cs = socket(&b.base, "/api/v1/ws", Some(&ctok)).await;
    let r = http
        .post(format!("{}/widget/v1/typing", a.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let taken: Value = http
        .post(format!("{}/api/v1/chats/take", b.base))
        .bearer_auth(&ctok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    // taking it on B changes its state on A's socket
    frame(&mut vs, "state", |f| {
        f["conversation"]["status"] == "active"
    })
    .await;
    cs.send(Message::text(
        json!({"type": "watch", "conversation": id, "after": 1}).to_string(),
    ))
    .await
    .unwrap();
    frame(&mut cs, "messages", |_| true).await;

    // B → A
    let sent = Instant::now();
    let r = http
        .post(format!("{}/api/v1/chats/{id}/messages", b.base))
        .bearer_auth(&ctok)
        .json(&json!({"client_id": "b1", "body": "Bonjour, ici le nœud B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = frame(&mut vs, "message", |f| f["message"]["from"] == "counsellor").await;
    assert_eq!(got["message"]["body"], "Bonjour, ici le nœud B");
    eprintln!("B → A delivered in {} ms", sent.elapsed().as_millis());

    // A → B
    let r = http
        .post(format!("{}/widget/v1/messages", a.base))
        .bearer_auth(&token)
        .json(&json!({"client_id": "a2", "body": "Reçu sur A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = frame(&mut cs, "messages", |f| {
        f["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["body"] == "Reçu sur A"))
    })
    .await;
    assert_eq!(got["conversation"], id.as_str());

    // each message stored once, in order, whichever node is asked
    for base in [&a.base, &b.base] {
        let all: Value = http
            .get(format!("{base}/api/v1/chats/{id}/messages"))
            .bearer_auth(&ctok)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let seqs: Vec<i64> = all["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, vec![1, 2, 3]);
    }
    let _ = std::fs::remove_dir_all(dir);
}
