//! Quick exit tells the server: `POST /widget/v1/leave` with the chat token marks the
//! conversation left — out of the queue, a system line for the counsellor, replies refused,
//! still ended with its summary by its counsellor — and a second call changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::SinkExt;
use rempart_domain::policy::Role;
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

async fn leave(t: &TestApp, token: Option<&str>) -> reqwest::Response {
    t.req(reqwest::Method::POST, "/widget/v1/leave", token)
        .send()
        .await
        .unwrap()
}

async fn queue_ids(t: &TestApp, tok: &str) -> Vec<String> {
    let q: Value = t
        .get("/api/v1/chats", Some(tok))
        .await
        .json()
        .await
        .unwrap();
    q["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn left_events(t: &TestApp) -> usize {
    t.store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "conversation.left")
        .count()
}

#[tokio::test]
async fn a_waiting_conversation_left_by_quick_exit_leaves_the_queue() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let (v, _) = visitor(&t, json!({"lang": "fr"})).await;
    let (other, _) = visitor(&t, json!({"lang": "fr"})).await;
    assert_eq!(say(&t, &v, "m1", "bonjour").await.status(), 201);
    assert_eq!(queue_ids(&t, &ctok).await.len(), 2);

    // no token, a malformed one, an unknown one: 401, nothing written
    assert_eq!(leave(&t, None).await.status(), 401);
    assert_eq!(leave(&t, Some("not-a-token")).await.status(), 401);
    assert_eq!(leave(&t, Some(&"ab".repeat(32))).await.status(), 401);
    assert_eq!(left_events(&t).await, 0);
    assert_eq!(queue_ids(&t, &ctok).await.len(), 2);

    // the young person leaves: one conversation fewer in the queue, the other one first
    assert_eq!(leave(&t, Some(&v)).await.status(), 204);
    let q = queue_ids(&t, &ctok).await;
    assert_eq!(q.len(), 1);
    let mine: Value = t
        .get("/widget/v1/messages", Some(&other))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["conversation"]["position"], 1, "the other moves up");
    assert_eq!(left_events(&t).await, 1);

    // the token opens nothing any more (a shared device shows nothing), and writes nothing
    assert_eq!(t.get("/widget/v1/messages", Some(&v)).await.status(), 401);
    let r = say(&t, &v, "m2", "encore").await;
    assert!(
        r.status() == 401 || r.status() == 409,
        "refused: {}",
        r.status()
    );
    // a retried beacon: the same answer, nothing more written
    assert_eq!(leave(&t, Some(&v)).await.status(), 204);
    assert_eq!(left_events(&t).await, 1);
    // take next gives the other conversation, never the one left
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(taken["id"], q[0]);
    assert_eq!(
        t.req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
            .send()
            .await
            .unwrap()
            .status(),
        204,
        "nothing else waits"
    );
}

#[tokio::test]
async fn the_counsellor_sees_it_left_live_writes_no_reply_and_still_ends_it() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let (v, _) = visitor(&t, json!({"lang": "fr"})).await;
    assert_eq!(
        say(&t, &v, "m1", "on me fait du chantage").await.status(),
        201
    );
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    let mut cs = ws(
        &t,
        "/api/v1/ws",
        Some(&t.base),
        Some(("authorization", format!("Bearer {ctok}"))),
    )
    .await
    .unwrap();
    cs.send(Message::text(
        json!({"type": "watch", "conversation": id, "after": 1}).to_string(),
    ))
    .await
    .unwrap();

    assert_eq!(leave(&t, Some(&v)).await.status(), 204);
    // the console's live view receives the system line with the new state
    // (the watch's first frame may still tell the state before the leave)
    // (the watch's first frame may tell the state before the leave, and the system line and
    // the new state may come in different frames: read until both have come)
    let mut seen = vec![];
    let mut left = false;
    while !(left && seen.iter().any(|m: &Value| m["from"] == "system")) {
        let f = next_frame(&mut cs, "messages").await;
        left |= f["status"] == "left";
        seen.extend(f["messages"].as_array().cloned().unwrap_or_default());
    }
    let line = seen.iter().find(|m| m["from"] == "system").unwrap();
    assert!(line["body"].as_str().unwrap().contains("Quick exit"));

    // still in the counsellor's hands, shown as left
    let q: Value = t
        .get("/api/v1/chats", Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    let mine = q["mine"].as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["status"], "left");
    assert!(q["queue"].as_array().unwrap().is_empty());
    // the console page says so in words
    let (cookie, _) = t.console_login(&c).await;
    let page = t
        .http
        .get(t.url(&format!("/chats/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("sortie rapide"), "{page}");
    assert!(!page.contains("id=\"reply-form\""), "no reply form");
    assert!(
        page.contains("id=\"end-form\""),
        "the summary is still to write"
    );

    // a reply is refused with a clear message; so is a handover
    let r = t
        .post_json(
            &format!("/api/v1/chats/{id}/messages"),
            Some(&ctok),
            json!({"client_id": "c1", "body": "Tu es là ?"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert!(e["message"].as_str().unwrap().contains("left"), "{e}");
    let r = t
        .post_json(
            &format!("/api/v1/chats/{id}/transfer"),
            Some(&ctok),
            json!({"to_role": "lawyer"}),
        )
        .await;
    assert_eq!(r.status(), 409);

    // a second leave changes nothing
    assert_eq!(leave(&t, Some(&v)).await.status(), 204);
    assert_eq!(left_events(&t).await, 1);
    let all: Value = t
        .get(&format!("/api/v1/chats/{id}/messages"), Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    let froms: Vec<&str> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["from"].as_str().unwrap())
        .collect();
    assert_eq!(froms, vec!["visitor", "system"], "one system line");

    // the counsellor ends it with its summary (the contact is written)
    let r = t
        .post_json(
            &format!("/api/v1/chats/{id}/end"),
            Some(&ctok),
            json!({"caller_type": "victim", "age_band": "15_17", "categories": ["sextortion"], "summary": "Partie par la sortie rapide", "outcome": "information"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let q: Value = t
        .get("/api/v1/chats", Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    assert!(q["mine"].as_array().unwrap().is_empty());
    // ended: a late beacon changes nothing and is not an error; the token still reads nothing
    assert_eq!(leave(&t, Some(&v)).await.status(), 204);
    assert_eq!(t.get("/widget/v1/messages", Some(&v)).await.status(), 401);
    assert_eq!(left_events(&t).await, 1);
}

#[tokio::test]
async fn after_the_end_a_new_conversation_starts_at_once_on_the_same_device() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let device = "0f".repeat(32);
    let (v, _) = visitor(&t, json!({"lang": "fr", "device": device})).await;
    say(&t, &v, "m1", "bonjour").await;
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap();
    let r = t
        .post_json(
            &format!("/api/v1/chats/{id}/end"),
            Some(&ctok),
            json!({"caller_type": "victim", "age_band": "15_17", "categories": [], "summary": "Première conversation", "outcome": "information"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // the same device starts again at once: a new token, a new waiting conversation
    let (again, state) = visitor(&t, json!({"lang": "fr", "device": device})).await;
    assert_ne!(again, v);
    assert_eq!(state["status"], "waiting");
    assert_eq!(say(&t, &again, "m1", "re-bonjour").await.status(), 201);
    assert_eq!(say(&t, &v, "m2", "ancienne").await.status(), 409);
    // taken, its counsellor sees the person's earlier contact
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(taken["id"], id);
}
