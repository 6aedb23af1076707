//! Messages left while the line is closed: they enter the queue at opening with their risk,
//! are taken, answered and ended like any conversation, and the young person reads the
//! answer on return or later with the follow-up code. Whoever may not read a conversation
//! may not write to or end it either.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures_util::SinkExt;
use rempart_domain::policy::Role;
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

async fn overview(t: &TestApp, token: &str) -> Value {
    let r = t.get("/api/v1/chats", Some(token)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_message_left_while_closed_is_answered_at_opening() {
    let t = TestApp::spawn().await;
    at_utc_hour(&t, 2); // 03:00 in Paris: closed
    let st: Value = t.get("/widget/v1/status", None).await.json().await.unwrap();
    assert_eq!(st["open"], false);
    let numbers: Vec<&str> = st["emergency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["number"].as_str().unwrap())
        .collect();
    for n in ["17", "112", "119", "3114"] {
        assert!(numbers.contains(&n), "{n} shown");
    }
    // two messages left: an ordinary one first, then one that signals a danger
    let r = t.post_json("/widget/v1/sessions", None, json!({})).await;
    assert_eq!(r.status(), 201);
    let calm: Value = r.json().await.unwrap();
    assert_eq!(calm["conversation"]["status"], "left_message");
    let calm_token = calm["token"].as_str().unwrap().to_owned();
    assert_eq!(
        say(&t, &calm_token, "c1", "Bonjour, une question pour demain")
            .await
            .status(),
        201
    );
    let r = t.post_json("/widget/v1/sessions", None, json!({})).await;
    let urgent: Value = r.json().await.unwrap();
    let code = urgent["follow_up_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 19, "a code to read the answer later: {code}");
    let token = urgent["token"].as_str().unwrap().to_owned();
    assert_eq!(
        say(
            &t,
            &token,
            "u1",
            "il va publier mes photos ce soir si je ne paie pas"
        )
        .await
        .status(),
        201
    );

    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let other = t.staff(Role::Counsellor, None).await;
    let otok = t.token(&other).await;
    for tok in [&ctok, &otok] {
        t.put_json(
            "/api/v1/chats/availability",
            Some(tok),
            json!({"available": true, "capacity": 3}),
        )
        .await;
    }
    let q = overview(&t, &ctok).await;
    assert_eq!(q["open"], false);
    assert_eq!(
        q["queue"].as_array().unwrap().len(),
        0,
        "not queued while closed"
    );
    let left = q["left_messages"].as_array().unwrap();
    assert_eq!(left.len(), 2);
    let urgent_id = left
        .iter()
        .find(|c| c["priority"].as_i64().unwrap() > 0)
        .expect("the risk raised its priority")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // one rule: a worker who may not read it may not write to or end it either
    assert_eq!(
        t.get(&format!("/api/v1/chats/{urgent_id}/messages"), Some(&ctok))
            .await
            .status(),
        404
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{urgent_id}/messages"),
            Some(&ctok),
            json!({"client_id": "x1", "body": "réponse sans l'avoir prise"})
        )
        .await
        .status(),
        404,
        "an unassigned worker cannot reply"
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{urgent_id}/end"),
            Some(&ctok),
            json!({"caller_type": "unknown", "age_band": "unknown", "summary": "x", "outcome": "listened"})
        )
        .await
        .status(),
        404,
        "an unassigned worker cannot end it"
    );

    // at opening, both are in the queue, the urgent one first, and "take next" offers it
    at_utc_hour(&t, 10);
    // (the night was longer than a console session: log in again)
    let ctok = t.token(&c).await;
    let otok = t.token(&other).await;
    let q = overview(&t, &ctok).await;
    assert_eq!(q["open"], true);
    let queue = q["queue"].as_array().unwrap();
    assert_eq!(queue.len(), 2, "left messages entered the queue: {q}");
    assert_eq!(queue[0]["id"], urgent_id.as_str(), "risk first");
    assert!(q["left_messages"].as_array().unwrap().is_empty());
    let taken: Value = t
        .post_json("/api/v1/chats/take", Some(&ctok), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(taken["id"], urgent_id.as_str());
    assert_eq!(taken["status"], "active");
    assert_eq!(taken["left_message"], true);
    // the other counsellor takes the other one by name
    let calm_id = queue[1]["id"].as_str().unwrap();
    let r = t
        .post_json(
            &format!("/api/v1/chats/{calm_id}/take"),
            Some(&otok),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{calm_id}/take"),
            Some(&ctok),
            json!({})
        )
        .await
        .status(),
        404,
        "taken: no longer a left message anyone may take"
    );

    // answered; the young person, back within the resume window, reads the answer
    let r = t
        .post_json(
            &format!("/api/v1/chats/{urgent_id}/messages"),
            Some(&ctok),
            json!({"client_id": "a1", "body": "Nous sommes là. Ne paie pas."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mine: Value = t
        .get("/widget/v1/messages", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["conversation"]["status"], "active");
    assert!(
        mine["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "Nous sommes là. Ne paie pas.")
    );
    // ended with a summary
    let r = t
        .post_json(
            &format!("/api/v1/chats/{urgent_id}/end"),
            Some(&ctok),
            json!({"caller_type": "victim", "age_band": "unknown", "summary": "Chantage, réponse laissée", "outcome": "information"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["channel"], "web_chat");

    // the next day the token opens nothing; the follow-up code opens the answer
    t.clock.advance(86_400_000);
    assert_eq!(
        t.get("/widget/v1/messages", Some(&token)).await.status(),
        401
    );
    let r = t
        .post_json(
            "/widget/v1/follow-up",
            None,
            json!({"code": "AAAA-BBBB-CCCC-DDDD"}),
        )
        .await;
    assert_eq!(r.status(), 404, "an unknown code opens nothing");
    let r = t
        .post_json(
            "/widget/v1/follow-up",
            None,
            json!({"code": code.to_lowercase().replace('-', " ")}),
        )
        .await;
    assert_eq!(r.status(), 200, "the code works however it is typed");
    let back: Value = r.json().await.unwrap();
    let again = back["token"].as_str().unwrap();
    let mine: Value = t
        .get("/widget/v1/messages", Some(again))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["conversation"]["status"], "ended");
    let bodies: Vec<&str> = mine["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec![
            "il va publier mes photos ce soir si je ne paie pas",
            "Nous sommes là. Ne paie pas."
        ]
    );
    let audit = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "conversation.followed_up"));
}

#[tokio::test]
async fn follow_up_guesses_are_limited() {
    let t = TestApp::spawn().await;
    let mut last = 0;
    for i in 0..12 {
        last = t
            .post_json(
                "/widget/v1/follow-up",
                None,
                json!({"code": format!("AAAA-BBBB-CCCC-DD{:02}", i % 8 + 22)}),
            )
            .await
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn the_consoles_are_told_when_the_line_opens_and_the_left_messages_enter_the_queue() {
    let t = TestApp::spawn().await;
    at_utc_hour(&t, 2); // closed
    let (token, _) = visitor(&t, json!({})).await;
    assert_eq!(
        say(&t, &token, "l1", "Un message pour demain matin")
            .await
            .status(),
        201
    );
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let q = overview(&t, &ctok).await;
    assert_eq!(
        q["queue"].as_array().unwrap().len(),
        0,
        "closed: not queued"
    );
    let id = q["left_messages"][0]["id"].as_str().unwrap().to_owned();
    let sup = t.staff(Role::Supervisor, None).await;
    let stok = t.token(&sup).await;
    let mut cs = ws(
        &t,
        "/api/v1/ws",
        Some(&t.base),
        Some(("authorization", format!("Bearer {stok}"))),
    )
    .await
    .unwrap();
    // the socket is live before the clock moves: it answers a watch of the left message
    cs.send(Message::text(
        json!({"type": "watch", "conversation": id, "after": 0}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_frame(&mut cs, "messages").await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    at_utc_hour(&t, 10); // open: nothing else happens, yet the console hears of it
    next_frame(&mut cs, "queue").await;
    let ctok = t.token(&c).await; // hours went by: a new session
    let q = overview(&t, &ctok).await;
    assert_eq!(q["open"], true);
    let queue = q["queue"].as_array().unwrap();
    assert_eq!(queue.len(), 1, "the left message is in the queue: {q}");
    assert_eq!(queue[0]["id"], id.as_str());
}
