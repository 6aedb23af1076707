//! The Standard Webhooks receiver over real HTTP: signatures, timestamps, idempotency.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use rempart_platform_sim::{SimPlatform, sign_standard_webhook};
use serde_json::{Value, json};

fn platform() -> SimPlatform {
    SimPlatform::http_json("meta", SECRET)
}

const BODY: &[u8] = br#"{"notice":"N-1","items":["https://platform.example/p/1"]}"#;

async fn send(
    sim: &rempart_platform_sim::SimHandle,
    headers: &[(&str, String)],
    body: &[u8],
) -> reqwest::Response {
    let mut req = client()
        .post(sim.http_json_url("meta"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.unwrap()
}

type Headers = Vec<(&'static str, String)>;

fn signed(id: &str, ts: i64, body: &[u8], secret: &str) -> Headers {
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", ts.to_string()),
        (
            "webhook-signature",
            sign_standard_webhook(secret, id, ts, body).unwrap(),
        ),
    ]
}

#[tokio::test]
async fn a_validly_signed_notice_is_accepted_with_a_ticket() {
    let sim = start(vec![platform()]).await;
    let res = post_notice(&sim, "meta", "msg_1", BODY).await.unwrap();
    assert_eq!(res.status(), 202);
    let v: Value = res.json().await.unwrap();
    let ticket = v["ticket"].as_str().unwrap().to_owned();
    let got = sim.received("meta").unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, ticket);
    assert_eq!(got[0].webhook_id.as_deref(), Some("msg_1"));
    assert_eq!(got[0].body, serde_json::from_slice::<Value>(BODY).unwrap());
    assert!(got[0].headers["webhook-signature"].starts_with("v1,"));
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_signatures_stale_timestamps_and_missing_headers_are_401() {
    let sim = start(vec![platform()]).await;
    let now = now();
    let other_secret = "whsec_c2VjcmV0LW9mLWFub3RoZXItcGxhdGZvcm0=";
    let tampered = br#"{"notice":"N-2","items":["https://platform.example/p/1"]}"#;
    let good = signed("msg_1", now, BODY, SECRET);
    let cases: Vec<(&str, Headers, &[u8], &str)> = vec![
        ("tampered body", good.clone(), tampered, "bad_signature"),
        (
            "wrong secret",
            signed("msg_1", now, BODY, other_secret),
            BODY,
            "bad_signature",
        ),
        (
            "stale timestamp",
            signed("msg_1", now - 400, BODY, SECRET),
            BODY,
            "stale_timestamp",
        ),
        (
            "future timestamp",
            signed("msg_1", now + 400, BODY, SECRET),
            BODY,
            "stale_timestamp",
        ),
        (
            "another id",
            vec![good[0].clone(), good[1].clone(), good[2].clone()]
                .into_iter()
                .map(|(k, v)| {
                    if k == "webhook-id" {
                        (k, "msg_2".to_owned())
                    } else {
                        (k, v)
                    }
                })
                .collect(),
            BODY,
            "bad_signature",
        ),
        ("no headers", vec![], BODY, "missing_signature_headers"),
        (
            "no signature",
            good[..2].to_vec(),
            BODY,
            "missing_signature_headers",
        ),
        (
            "no id",
            good[1..].to_vec(),
            BODY,
            "missing_signature_headers",
        ),
        (
            "v2 scheme",
            vec![
                good[0].clone(),
                good[1].clone(),
                ("webhook-signature", good[2].1.replacen("v1,", "v2,", 1)),
            ],
            BODY,
            "bad_signature",
        ),
    ];
    for (what, headers, body, code) in cases {
        let res = send(&sim, &headers, body).await;
        assert_eq!(res.status(), 401, "{what}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"], code, "{what}");
    }
    assert!(sim.received("meta").unwrap().is_empty());
    let s = &sim.stats().platforms["meta"];
    assert_eq!(s.received, 0);
    assert_eq!(s.rejected["stale_timestamp"], 2);
    assert_eq!(s.rejected["unauthorized"], 7);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_signature_among_several_is_enough_during_a_key_rotation() {
    let sim = start(vec![platform()]).await;
    let now = now();
    let old =
        sign_standard_webhook("whsec_b2xkLWtleS1vZi10aGUtc2VuZGVy", "msg_1", now, BODY).unwrap();
    let new = sign_standard_webhook(SECRET, "msg_1", now, BODY).unwrap();
    let headers = vec![
        ("webhook-id", "msg_1".to_owned()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", format!("{old} {new}")),
    ];
    assert_eq!(send(&sim, &headers, BODY).await.status(), 202);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_signed_body_that_is_not_a_json_object_is_400() {
    let sim = start(vec![platform()]).await;
    for body in [&b"[1,2]"[..], b"not json", b"\"text\""] {
        let res = send(&sim, &signed("msg_x", now(), body, SECRET), body).await;
        assert_eq!(res.status(), 400);
    }
    assert!(sim.received("meta").unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeated_webhook_id_is_a_retry_answered_with_the_same_ticket() {
    let sim = start(vec![platform()]).await;
    // many at once: the idempotency must hold under concurrency
    let sends = (0..12).map(|_| {
        let sim = &sim;
        async move { post_notice(sim, "meta", "msg_1", BODY).await.unwrap() }
    });
    let mut tickets = std::collections::HashSet::new();
    for res in futures_util::future::join_all(sends).await {
        assert_eq!(res.status(), 202);
        let v: Value = res.json().await.unwrap();
        tickets.insert(v["ticket"].as_str().unwrap().to_owned());
    }
    assert_eq!(tickets.len(), 1);
    let other = post_notice(&sim, "meta", "msg_2", BODY).await.unwrap();
    assert_eq!(other.status(), 202);
    let changed = br#"{"notice":"N-1","items":[]}"#;
    let again = post_notice(&sim, "meta", "msg_2", changed).await.unwrap();
    assert_eq!(again.status(), 202);

    let s = &sim.stats().platforms["meta"];
    assert_eq!(
        (
            s.received,
            s.unique,
            s.repeated_ids,
            s.repeated_with_other_body
        ),
        (14, 2, 12, 1)
    );
    let got = sim.received("meta").unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].deliveries, 12);
    assert_eq!(got[1].deliveries, 2);
    assert_eq!(
        got[0].body,
        json!({"notice":"N-1","items":["https://platform.example/p/1"]})
    );
    sim.shutdown().await;
}
