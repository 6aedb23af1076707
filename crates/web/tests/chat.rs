//! The live chat end to end: an anonymous visitor, the risk-first queue, a counsellor,
//! WebSockets both ways, idempotent retries, the closing summary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::{SinkExt, StreamExt};
use rempart_domain::policy::Role;
use serde_json::{Value, json};
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_visitor_is_heard_live_and_nothing_is_lost_or_doubled() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;

    // a calm visitor, then one who signals danger: the second is served first
    let (calm, state) = visitor(
        &t,
        json!({"caller_type": "parent", "age_band": "15_17", "lang": "fr"}),
    )
    .await;
    assert_eq!(state["status"], "waiting");
    assert_eq!(state["position"], 1);
    assert_eq!(
        say(
            &t,
            &calm,
            "m1",
            "Bonjour, une question sur le compte de ma fille"
        )
        .await
        .status(),
        201
    );
    let (urgent, _) = visitor(&t, json!({})).await;
    let r = say(
        &t,
        &urgent,
        "u1",
        "il va publier les photos ce soir, j'ai envie de mourir",
    )
    .await;
    assert_eq!(r.status(), 201);
    let q: Value = t
        .get("/api/v1/chats", Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    let risks = &q["queue"][0]["risks"];
    assert_eq!(risks, &json!(["suicidal_thoughts", "imminent_publication"]));
    let mine: Value = t
        .get("/widget/v1/messages", Some(&calm))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["conversation"]["position"], 2,
        "the calm visitor now waits behind"
    );

    // retried message: stored once, same answer
    let again: Value = say(
        &t,
        &urgent,
        "u1",
        "il va publier les photos ce soir, j'ai envie de mourir",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["seq"], 1);

    // the visitor's live socket (token in the first frame, never in the URL)
    let mut vs = ws(&t, "/widget/v1/ws", Some(&t.base), None).await.unwrap();
    vs.send(Message::text(
        json!({"token": urgent, "after": 0}).to_string(),
    ))
    .await
    .unwrap();
    let st = next_frame(&mut vs, "state").await;
    assert_eq!(st["conversation"]["status"], "waiting");
    assert_eq!(next_frame(&mut vs, "message").await["message"]["seq"], 1);

    // the counsellor takes the most urgent and watches it live
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    assert_eq!(taken["risks"][0], "suicidal_thoughts");
    assert_eq!(
        next_frame(&mut vs, "state").await["conversation"]["status"],
        "active"
    );
    let mut cs = ws(
        &t,
        "/api/v1/ws",
        Some(&t.base),
        Some(("authorization", format!("Bearer {ctok}"))),
    )
    .await
    .unwrap();
    cs.send(Message::text(
        json!({"type": "watch", "conversation": id, "after": 0}).to_string(),
    ))
    .await
    .unwrap();
    let first = next_frame(&mut cs, "messages").await;
    assert_eq!(first["messages"].as_array().unwrap().len(), 1);

    // counsellor → visitor, live
    let r = t
        .post_json(
            &format!("/api/v1/chats/{id}/messages"),
            Some(&ctok),
            json!({"client_id": "c1", "body": "Je suis là. Tu es en sécurité en ce moment ?"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let got = next_frame(&mut vs, "message").await;
    assert_eq!(got["message"]["from"], "counsellor");
    assert_eq!(got["message"]["seq"], 2);
    assert!(
        got["message"].get("author_id").is_none(),
        "the visitor never learns who answers"
    );

    // visitor → counsellor, live
    assert_eq!(
        say(&t, &urgent, "u2", "oui je suis chez moi")
            .await
            .status(),
        201
    );
    // the console receives every committed message in order (its own reply, then this one)
    let mut seen = vec![];
    while !seen
        .iter()
        .any(|(_, b): &(i64, String)| b == "oui je suis chez moi")
    {
        let f = next_frame(&mut cs, "messages").await;
        for m in f["messages"].as_array().unwrap() {
            seen.push((
                m["seq"].as_i64().unwrap(),
                m["body"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(seen.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![2, 3]);

    // a reconnect from seq 1 receives exactly what it missed
    let mut again = ws(&t, "/widget/v1/ws", Some(&t.base), None).await.unwrap();
    again
        .send(Message::text(
            json!({"token": urgent, "after": 1}).to_string(),
        ))
        .await
        .unwrap();
    next_frame(&mut again, "state").await;
    assert_eq!(next_frame(&mut again, "message").await["message"]["seq"], 2);
    assert_eq!(next_frame(&mut again, "message").await["message"]["seq"], 3);

    // the whole transcript, once
    let all: Value = t
        .get(&format!("/api/v1/chats/{id}/messages"), Some(&ctok))
        .await
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

    // ending with the summary makes a contact; the visitor can no longer write
    let r = t
        .post_json(
            &format!("/api/v1/chats/{id}/end"),
            Some(&ctok),
            json!({"caller_type": "victim", "age_band": "15_17", "categories": ["sextortion"], "summary": "Chantage, délai ce soir ; mise en sécurité, orientation", "outcome": "referred"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        next_frame(&mut vs, "state").await["conversation"]["status"],
        "ended"
    );
    assert_eq!(say(&t, &urgent, "u3", "encore là ?").await.status(), 409);
    // the young person can still read it for the resume window, then the token opens nothing
    assert_eq!(
        t.get("/widget/v1/messages", Some(&urgent)).await.status(),
        200
    );
    t.clock.advance(31 * 60_000);
    assert_eq!(
        t.get("/widget/v1/messages", Some(&urgent)).await.status(),
        401
    );
    assert_eq!(
        say(&t, &urgent, "u4", "toujours là ?").await.status(),
        401,
        "nor can it write, though this node knows its conversation"
    );
    let audit = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.action == "conversation.read"),
        "transcript reads are audited"
    );
    assert!(
        !audit.iter().any(|e| e.detail.contains("mourir")),
        "no message text in the trail"
    );
}

#[tokio::test]
async fn only_the_assigned_counsellor_answers_and_supervisors_read() {
    let t = TestApp::spawn().await;
    let a = t.staff(Role::Counsellor, None).await;
    let b = t.staff(Role::Counsellor, None).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let (ta, tb, ts) = (t.token(&a).await, t.token(&b).await, t.token(&sup).await);
    let (v, _) = visitor(&t, json!({})).await;
    say(&t, &v, "x", "bonjour").await;
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ta))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap();
    assert_eq!(
        t.req(reqwest::Method::POST, "/api/v1/chats/take", Some(&tb))
            .send()
            .await
            .unwrap()
            .status(),
        204,
        "queue empty"
    );
    assert_eq!(
        t.get(&format!("/api/v1/chats/{id}/messages"), Some(&tb))
            .await
            .status(),
        404
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/messages"),
            Some(&tb),
            json!({"client_id": "b", "body": "x"})
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        t.get(&format!("/api/v1/chats/{id}/messages"), Some(&ts))
            .await
            .status(),
        200,
        "supervisors monitor"
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/messages"),
            Some(&ts),
            json!({"client_id": "s", "body": "x"})
        )
        .await
        .status(),
        404
    );
    // the other counsellor's socket cannot watch it either
    let mut bs = ws(
        &t,
        "/api/v1/ws",
        Some(&t.base),
        Some(("authorization", format!("Bearer {tb}"))),
    )
    .await
    .unwrap();
    bs.send(Message::text(
        json!({"type": "watch", "conversation": id, "after": 0}).to_string(),
    ))
    .await
    .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(10), bs.next())
        .await
        .unwrap();
    assert!(
        matches!(closed, Some(Ok(Message::Close(Some(ref f)))) if u16::from(f.code) == 4404),
        "{closed:?}"
    );
}

#[tokio::test]
async fn bad_chat_inputs_get_clear_errors() {
    let t = TestApp::spawn().await;
    let (v, _) = visitor(&t, json!({"lang": "en"})).await;
    assert_eq!(
        say(&t, &v, "ok-1", &"é".repeat(4001)).await.status(),
        422,
        "message too long"
    );
    assert_eq!(say(&t, &v, "bad id with spaces", "x").await.status(), 422);
    assert_eq!(say(&t, &v, "", "x").await.status(), 422);
    assert_eq!(
        say(&t, &v, "ok-2", " \u{0} \u{1b} ").await.status(),
        422,
        "nothing left after cleaning"
    );
    assert_eq!(
        say(&t, &"0".repeat(64), "ok-3", "x").await.status(),
        401,
        "unknown token"
    );
    assert_eq!(
        t.get(&format!("/widget/v1/messages?token={v}"), None)
            .await
            .status(),
        422,
        "a token in the query string is refused"
    );
    let r = t
        .req(reqwest::Method::POST, "/widget/v1/messages", Some(&v))
        .json(&json!({"client_id": "a", "body": "x", "conversation_id": "other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "unknown fields refused");
    assert_eq!(
        t.post_json("/widget/v1/sessions", None, json!({"age_band": "99"}))
            .await
            .status(),
        422
    );
    // a socket from another site is refused, and so is one without Origin
    assert_eq!(
        ws(&t, "/widget/v1/ws", Some("https://evil.example"), None)
            .await
            .err(),
        Some(403)
    );
    assert_eq!(ws(&t, "/widget/v1/ws", None, None).await.err(), Some(403));
    // a bad first frame closes the socket
    let mut s = ws(&t, "/widget/v1/ws", Some(&t.base), None).await.unwrap();
    s.send(Message::text("{\"token\": 1}")).await.unwrap();
    let f = tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .unwrap();
    assert!(
        matches!(f, Some(Ok(Message::Close(Some(ref c)))) if u16::from(c.code) == 4400),
        "{f:?}"
    );
    // HTML in a message stays text in the console page
    let c = t.staff(Role::Counsellor, None).await;
    assert_eq!(
        say(&t, &v, "xss", "<script>alert(1)</script>")
            .await
            .status(),
        201
    );
    let ctok = t.token(&c).await;
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (cookie, _) = t.console_login(&c).await;
    let html = t
        .http
        .get(t.url(&format!("/chats/{}", taken["id"].as_str().unwrap())))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)") && !html.contains("<script>alert"),
        "{}",
        &html[..html.len().min(600)]
    );
}

#[tokio::test]
async fn floods_of_sessions_and_messages_are_refused_with_429() {
    let t = TestApp::spawn_with(|s| {
        s.widget.sessions_per_minute = 10;
        s.widget.sessions_per_day = 100;
        s.widget.message_burst = 10;
    })
    .await;
    let mut last = None;
    for _ in 0..10 {
        last = Some(visitor(&t, json!({})).await.0);
    }
    // a spoofed X-Forwarded-For does not make a new client (no trusted proxy configured)
    let r = t
        .http
        .post(t.url("/widget/v1/sessions"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "rate_limited");
    t.clock.advance(6_000);
    assert_eq!(
        t.post_json("/widget/v1/sessions", None, json!({}))
            .await
            .status(),
        201,
        "one more after six seconds"
    );
    // one session: a burst of ten, then one a second
    let token = last.unwrap();
    for i in 0..10 {
        assert_eq!(
            say(&t, &token, &format!("b{i}"), "message").await.status(),
            201
        );
    }
    assert_eq!(say(&t, &token, "b10", "message").await.status(), 429);
    t.clock.advance(1_000);
    assert_eq!(say(&t, &token, "b11", "message").await.status(), 201);
    let all: Value = t
        .get("/widget/v1/messages", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        all["messages"].as_array().unwrap().len(),
        11,
        "the refused message was not stored"
    );
}

#[tokio::test]
async fn take_next_respects_availability_and_capacity() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let (ctok, stok) = (t.token(&c).await, t.token(&sup).await);
    for i in 0..3 {
        let (v, _) = visitor(&t, json!({})).await;
        say(&t, &v, &format!("m{i}"), "bonjour").await;
    }
    let take = || {
        t.req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
            .send()
    };
    let r = t
        .put_json(
            "/api/v1/chats/availability",
            Some(&ctok),
            json!({"available": false, "capacity": 1}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = take().await.unwrap();
    assert_eq!(r.status(), 409, "not available");
    assert_eq!(
        t.put_json(
            "/api/v1/chats/availability",
            Some(&ctok),
            json!({"available": true, "capacity": 1})
        )
        .await
        .status(),
        200
    );
    assert_eq!(take().await.unwrap().status(), 200);
    assert_eq!(take().await.unwrap().status(), 409, "at capacity (1)");
    assert_eq!(
        t.put_json(
            "/api/v1/chats/availability",
            Some(&ctok),
            json!({"available": true, "capacity": 0})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        t.put_json(
            "/api/v1/chats/availability",
            Some(&ctok),
            json!({"available": true, "capacity": 2})
        )
        .await
        .status(),
        200
    );
    assert_eq!(take().await.unwrap().status(), 200);
    // the supervisor sees who handles how many
    let v: Value = t
        .get("/api/v1/chats", Some(&stok))
        .await
        .json()
        .await
        .unwrap();
    let line = v["loads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["staff_id"] == c.id.to_string())
        .unwrap()
        .clone();
    assert_eq!(
        (
            line["active"].as_i64(),
            line["capacity"].as_i64(),
            line["available"].as_bool()
        ),
        (Some(2), Some(2), Some(true))
    );
    assert_eq!(v["queue"].as_array().unwrap().len(), 1);
    // a counsellor sees only its own line
    let own: Value = t
        .get("/api/v1/chats", Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["loads"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn handing_over_keeps_the_note_internal_and_ends_the_old_view_at_once() {
    let t = TestApp::spawn().await;
    let a = t.staff(Role::Counsellor, None).await;
    let b = t.staff(Role::Counsellor, None).await;
    let law = t.staff(Role::Lawyer, None).await;
    let psy = t.staff(Role::Psychologist, None).await;
    let (ta, tb, tl, tp) = (
        t.token(&a).await,
        t.token(&b).await,
        t.token(&law).await,
        t.token(&psy).await,
    );
    let (v, _) = visitor(&t, json!({})).await;
    say(&t, &v, "v1", "Je veux porter plainte, comment faire ?").await;
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ta))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    let mut vs = ws(&t, "/widget/v1/ws", Some(&t.base), None).await.unwrap();
    vs.send(Message::text(json!({"token": v, "after": 0}).to_string()))
        .await
        .unwrap();
    next_frame(&mut vs, "state").await;
    let mut a_ws = ws(
        &t,
        "/api/v1/ws",
        Some(&t.base),
        Some(("authorization", format!("Bearer {ta}"))),
    )
    .await
    .unwrap();
    a_ws.send(Message::text(
        json!({"type": "watch", "conversation": id, "after": 0}).to_string(),
    ))
    .await
    .unwrap();
    next_frame(&mut a_ws, "messages").await;

    // to the first available lawyer, with an internal note
    let r = t
        .post_json(
            &format!("/api/v1/chats/{id}/transfer"),
            Some(&ta),
            json!({"to_role": "lawyer", "note": "NOTE-INTERNE plainte, art. 226-2-1"}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let closed = close_code(&mut a_ws).await;
    assert_eq!(
        closed,
        Some(4403),
        "the old counsellor's live view closes at once"
    );
    assert_eq!(
        t.get(&format!("/api/v1/chats/{id}/messages"), Some(&ta))
            .await
            .status(),
        404
    );
    // the visitor is told it waits again (a state frame pushed just before the handover
    // may still be on its way first)
    let mut seen = vec![];
    loop {
        let status = next_frame(&mut vs, "state").await["conversation"]["status"].clone();
        if status == "waiting" {
            break;
        }
        seen.push(status);
        assert!(
            seen.len() < 3,
            "no waiting state after the handover: {seen:?}"
        );
    }
    assert_eq!(
        t.req(reqwest::Method::POST, "/api/v1/chats/take", Some(&tb))
            .send()
            .await
            .unwrap()
            .status(),
        204,
        "a counsellor cannot take what waits for a lawyer"
    );
    let got: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&tl))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], id.as_str());
    let seen: Value = t
        .get(&format!("/api/v1/chats/{id}/messages"), Some(&tl))
        .await
        .json()
        .await
        .unwrap();
    assert!(seen["messages"].as_array().unwrap().iter().any(|m| m["from"] == "note" && m["body"].as_str().unwrap().starts_with("NOTE-INTERNE")));
    // the young person never sees the note, over HTTP or the socket
    let visible: Value = t
        .get("/widget/v1/messages", Some(&v))
        .await
        .json()
        .await
        .unwrap();
    assert!(!visible.to_string().contains("NOTE-INTERNE"));
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/messages"),
            Some(&tl),
            json!({"client_id": "l1", "body": "Bonjour, je suis juriste."})
        )
        .await
        .status(),
        201
    );
    let m = next_frame(&mut vs, "message").await;
    assert_eq!(m["message"]["body"], "Bonjour, je suis juriste.");
    // straight to a colleague
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/transfer"),
            Some(&tl),
            json!({"to_staff": psy.id.to_string()})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/messages"),
            Some(&tp),
            json!({"client_id": "p1", "body": "Je prends le relais."})
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/messages"),
            Some(&tl),
            json!({"client_id": "l2", "body": "x"})
        )
        .await
        .status(),
        404
    );
    // bad handovers
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/transfer"),
            Some(&tp),
            json!({"to_role": "admin"})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/transfer"),
            Some(&tp),
            json!({})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/chats/{id}/transfer"),
            Some(&tp),
            json!({"to_staff": psy.id.to_string()})
        )
        .await
        .status(),
        422,
        "not to oneself"
    );
    let seen: Value = t
        .get("/widget/v1/messages", Some(&v))
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = seen["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec![
            "Je veux porter plainte, comment faire ?",
            "Bonjour, je suis juriste.",
            "Je prends le relais."
        ]
    );
}

#[tokio::test]
async fn a_conversation_can_open_a_case_in_the_same_step() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, Some("nord")).await;
    let ctok = t.token(&c).await;
    let (v, _) = visitor(&t, json!({"age_band": "11_14"})).await;
    say(&t, &v, "v1", "On a créé un faux compte à mon nom").await;
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap();
    let path = format!("/api/v1/chats/{id}/end");
    let end = |body: Value| t.post_json(&path, Some(&ctok), body);
    let base = json!({"caller_type": "victim", "age_band": "11_14", "categories": ["identity_theft"], "summary": "Faux compte TikTok à son nom", "outcome": "case_opened"});
    let mut both = base.clone();
    both["open_case"] = json!(true);
    both["case_id"] = json!(rempart_domain::ids::CaseId::new().to_string());
    assert_eq!(end(both).await.status(), 422, "open or join, not both");
    let mut open = base.clone();
    open["open_case"] = json!(true);
    let r = end(open).await;
    assert_eq!(r.status(), 200);
    let contact: Value = r.json().await.unwrap();
    let case_id = contact["case_id"]
        .as_str()
        .expect("the contact names its new case")
        .to_owned();
    let case: Value = t
        .get(&format!("/api/v1/cases/{case_id}"), Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["title"], "Faux compte TikTok à son nom");
    assert_eq!(case["team"], "nord");
    assert_eq!(case["categories"], json!(["identity_theft"]));
    assert!(
        case["legal"]["articles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("226-4-1"))
    );
    assert_eq!(case["contacts"][0]["channel"], "web_chat");
}

/// Two conversations started from the same device (its widget key) are one pseudonymous
/// person: the counsellor sees the first one's summary beside the second. Another device,
/// or none, links to nothing; a malformed key is refused.
#[tokio::test]
async fn conversations_from_one_device_share_their_history() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let device = "ab".repeat(32);
    let take = |t: &TestApp, tok: String| {
        let r = t.req(reqwest::Method::POST, "/api/v1/chats/take", Some(&tok));
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let (first, _) = visitor(&t, json!({"device": device})).await;
    assert_eq!(say(&t, &first, "a1", "on m'a piraté").await.status(), 201);
    let id1 = take(&t, ctok.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t
        .post_json(
            &format!("/api/v1/chats/{id1}/end"),
            Some(&ctok),
            json!({"caller_type": "victim", "age_band": "11_14", "categories": ["account_hacking"], "summary": "Compte Instagram repris : étapes de récupération données", "outcome": "listened"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let (cookie, _) = t.console_login(&c).await;
    let page = |id: String| {
        let r = t
            .http
            .get(t.url(&format!("/chats/{id}")))
            .header("cookie", cookie.clone());
        async move { r.send().await.unwrap().text().await.unwrap() }
    };
    // same device, upper-case hex: the same person
    let (second, _) = visitor(&t, json!({"device": device.to_uppercase()})).await;
    assert_eq!(
        say(&t, &second, "b1", "c'est encore moi").await.status(),
        201
    );
    let id2 = take(&t, ctok.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        page(id2).await.contains("Compte Instagram repris"),
        "the earlier summary is shown"
    );
    // another device, and no device: nothing linked
    for body in [json!({"device": "cd".repeat(32)}), json!({})] {
        let (other, _) = visitor(&t, body).await;
        assert_eq!(say(&t, &other, "c1", "bonjour").await.status(), 201);
        let id = take(&t, ctok.clone()).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!page(id).await.contains("Compte Instagram repris"));
    }
    for bad in [json!("short"), json!("zz".repeat(32)), json!(12)] {
        let r = t
            .post_json("/widget/v1/sessions", None, json!({"device": bad}))
            .await;
        assert!(
            r.status() == 422 || r.status() == 400,
            "{bad}: {}",
            r.status()
        );
    }
}

/// Solves a challenge as the widget does.
fn solve(challenge: &str, bits: u32) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|n| rempart_app::pow::work_bits(challenge, n) >= bits)
        .unwrap()
}

/// Under a flood of new sessions, each new one must bring a proof of work: a signed,
/// fresh, unused challenge and enough work. Below the threshold nothing is asked.
#[tokio::test]
async fn under_a_flood_new_sessions_need_a_proof_of_work() {
    let t = TestApp::spawn_with(|s| {
        s.widget.stress_sessions_per_minute = 2;
        s.widget.pow_bits = 8;
    })
    .await;
    for _ in 0..2 {
        visitor(&t, json!({})).await;
    }
    let r = t.post_json("/widget/v1/sessions", None, json!({})).await;
    assert_eq!(r.status(), 428);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "proof_of_work_required");

    let ch: Value = t
        .get("/widget/v1/challenge", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ch["bits"], 8);
    let challenge = ch["challenge"].as_str().unwrap().to_owned();
    // not enough work, a forged challenge, a malformed answer: refused, nothing started
    let weak = (0u64..)
        .map(|n| n.to_string())
        .find(|n| rempart_app::pow::work_bits(&challenge, n) < 8)
        .unwrap();
    let nonce = solve(&challenge, 8);
    let forged = {
        let mut p: Vec<&str> = challenge.split('.').collect();
        let other = "0".repeat(32);
        p[2] = &other;
        p.join(".")
    };
    let queue_before = t.store.queue(false).await.unwrap().len();
    for (body, why) in [
        (
            json!({"pow": {"challenge": challenge, "nonce": weak}}),
            "weak",
        ),
        (
            json!({"pow": {"challenge": forged, "nonce": solve(&forged, 8)}}),
            "forged",
        ),
        (
            json!({"pow": {"challenge": challenge, "nonce": "no spaces!"}}),
            "nonce",
        ),
        (json!({"pow": {"challenge": "1.2", "nonce": "1"}}), "shape"),
    ] {
        let r = t.post_json("/widget/v1/sessions", None, body).await;
        assert_eq!(r.status(), 428, "{why}");
    }
    let r = t
        .post_json(
            "/widget/v1/sessions",
            None,
            json!({"pow": {"challenge": challenge, "nonce": "1", "extra": 1}}),
        )
        .await;
    assert_eq!(r.status(), 422, "unknown field");
    assert_eq!(t.store.queue(false).await.unwrap().len(), queue_before);
    // the right answer opens a session, once
    let ok = json!({"pow": {"challenge": challenge, "nonce": nonce}});
    assert_eq!(
        t.post_json("/widget/v1/sessions", None, ok.clone())
            .await
            .status(),
        201
    );
    assert_eq!(
        t.post_json("/widget/v1/sessions", None, ok).await.status(),
        428,
        "a challenge is answered once"
    );
    // an expired challenge
    let old: Value = t
        .get("/widget/v1/challenge", None)
        .await
        .json()
        .await
        .unwrap();
    let old = old["challenge"].as_str().unwrap().to_owned();
    t.clock.advance(6 * 60_000);
    // the flood is over after a minute: nothing asked any more
    visitor(&t, json!({})).await;
    for _ in 0..2 {
        let _ = t.post_json("/widget/v1/sessions", None, json!({})).await;
    }
    let r = t
        .post_json(
            "/widget/v1/sessions",
            None,
            json!({"pow": {"challenge": old, "nonce": solve(&old, 8)}}),
        )
        .await;
    assert_eq!(r.status(), 428, "expired");
}

/// A console's live view ends at once when its account is disabled or logs out, and when
/// its session idles out while the view stays open (watching is not activity).
#[tokio::test]
async fn a_live_console_view_ends_with_its_session() {
    let t = TestApp::spawn_with(|s| {
        s.server.ws_idle_seconds = 3;
        s.security.session_idle_minutes = 15;
    })
    .await;
    let admin = t.staff(Role::Admin, None).await;
    let atok = t.token(&admin).await;
    let c = t.staff(Role::Counsellor, None).await;
    let t = &t;
    let open = |tok: String| async move {
        let mut s = ws(
            t,
            "/api/v1/ws",
            Some(&t.base),
            Some(("authorization", format!("Bearer {tok}"))),
        )
        .await
        .unwrap();
        s.send(Message::text(json!({"type": "ping"}).to_string()))
            .await
            .unwrap();
        s
    };
    let closed = |mut s: Ws| async move { close_code(&mut s).await };
    // logout
    let tok = t.token(&c).await;
    let s = open(tok.clone()).await;
    let r = t
        .req(reqwest::Method::POST, "/api/v1/auth/logout", Some(&tok))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(closed(s).await, Some(4401), "logged out");
    // disabled by an admin
    let tok = t.token(&c).await;
    let s = open(tok).await;
    let r = t
        .post_json(
            &format!("/api/v1/staff/{}/disable", c.id),
            Some(&atok),
            json!({}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(closed(s).await, Some(4401), "disabled");
    // idle: the view stays open, the clock passes the idle limit, the next check closes it
    let other = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&other).await;
    let s = open(tok).await;
    t.clock.advance(16 * 60_000);
    assert_eq!(closed(s).await, Some(4401), "idled out");
}
