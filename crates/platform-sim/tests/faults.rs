//! Every fault kind as a client sees it, the seeded sequence, and `fail_after_accept`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use rempart_platform_sim::{FaultKind, Faults, SimHandle, SimPlatform};
use serde_json::{Value, json};

async fn start_both(faults: Faults) -> SimHandle {
    start(vec![
        coop("snapchat").with_faults(faults.clone()),
        SimPlatform::http_json("meta", SECRET).with_faults(faults),
    ])
    .await
}

fn report_request(sim: &SimHandle, client: &reqwest::Client) -> reqwest::RequestBuilder {
    client
        .post(format!("{}/api/v1/report", sim.coop_base_url("snapchat")))
        .header("x-api-key", API_KEY)
        .json(&report_body("post-1"))
}

#[tokio::test]
async fn status_faults_answer_their_status_and_take_nothing() {
    let sim = start_both(Faults::none()).await;
    for (kind, status) in [
        (FaultKind::InternalError, 500),
        (FaultKind::BadGateway, 502),
        (FaultKind::ServiceUnavailable, 503),
    ] {
        sim.set_faults("snapchat", Faults::always(kind)).unwrap();
        sim.set_faults("meta", Faults::always(kind)).unwrap();
        let res = report_request(&sim, &client()).send().await.unwrap();
        assert_eq!(res.status(), status);
        let res = post_notice(&sim, "meta", "msg_1", b"{}").await.unwrap();
        assert_eq!(res.status(), status);
    }
    let stats = sim.stats();
    for code in ["snapchat", "meta"] {
        let s = &stats.platforms[code];
        assert_eq!(s.received, 0, "{code}");
        assert_eq!(s.faults["internal_error"], 1);
        assert_eq!(s.faults["bad_gateway"], 1);
        assert_eq!(s.faults["service_unavailable"], 1);
    }
    assert!(sim.received("snapchat").unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let sim = start_both(Faults {
        retry_after_secs: 7,
        ..Faults::always(FaultKind::TooManyRequests)
    })
    .await;
    let res = report_request(&sim, &client()).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    let res = post_notice(&sim, "meta", "msg_1", b"{}").await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    assert_eq!(sim.stats().platforms["snapchat"].received, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_held_request_times_out_on_the_client() {
    let sim = start_both(Faults {
        hold_ms: 20_000,
        ..Faults::always(FaultKind::Timeout)
    })
    .await;
    let c = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let err = report_request(&sim, &c).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(sim.stats().platforms["snapchat"].faults["timeout"], 1);
    assert_eq!(sim.stats().platforms["snapchat"].received, 0);
    // shutting down drops the held request at once
    sim.shutdown().await;
}

#[tokio::test]
async fn a_held_request_ends_in_504_after_the_hold() {
    let sim = start_both(Faults {
        hold_ms: 50,
        ..Faults::always(FaultKind::Timeout)
    })
    .await;
    let res = report_request(&sim, &client()).send().await.unwrap();
    assert_eq!(res.status(), 504);
    sim.shutdown().await;
}

fn is_reset(err: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    let mut text = String::new();
    while let Some(e) = source {
        text.push_str(&format!("{e} / "));
        source = e.source();
    }
    text.contains("reset") || text.contains("closed") || text.contains("incomplete")
}

#[tokio::test]
async fn a_reset_is_a_connection_error_without_any_response() {
    let sim = start_both(Faults::always(FaultKind::Reset)).await;
    let err = report_request(&sim, &client()).send().await.unwrap_err();
    assert!(err.status().is_none());
    assert!(!err.is_timeout());
    assert!(is_reset(&err), "{err:?}");
    let err = post_notice(&sim, "meta", "msg_1", b"{}").await.unwrap_err();
    assert!(err.status().is_none() && is_reset(&err), "{err:?}");

    // a raw socket sees no byte of HTTP
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut tcp = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let body = report_body("post-1").to_string();
    let req = format!(
        "POST /coop/snapchat/api/v1/report HTTP/1.1\r\nhost: x\r\nx-api-key: {API_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let read = tcp.read_to_end(&mut buf).await;
    assert!(buf.is_empty(), "{:?}", String::from_utf8_lossy(&buf));
    assert_eq!(
        read.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset)
    );

    let s = &sim.stats().platforms["snapchat"];
    assert_eq!((s.received, s.faults["reset"]), (0, 2));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_body_sends_headers_at_once_then_dribbles() {
    let sim = start_both(Faults {
        slow_body_ms: 3_000,
        ..Faults::always(FaultKind::SlowBody)
    })
    .await;
    let c = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    // the status line arrives within the client's timeout, the body does not
    let res = report_request(&sim, &c).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let err = res.bytes().await.unwrap_err();
    assert!(err.is_timeout() || err.is_body(), "{err:?}");
    assert_eq!(sim.stats().platforms["snapchat"].received, 0);

    // a patient client gets the whole body
    sim.set_faults(
        "snapchat",
        Faults {
            slow_body_ms: 100,
            ..Faults::always(FaultKind::SlowBody)
        },
    )
    .unwrap();
    let res = report_request(&sim, &client()).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"], "service_unavailable");
    assert_eq!(sim.stats().platforms["snapchat"].faults["slow_body"], 2);
    sim.shutdown().await;
}

const MIX: [FaultKind; 5] = [
    FaultKind::InternalError,
    FaultKind::BadGateway,
    FaultKind::ServiceUnavailable,
    FaultKind::TooManyRequests,
    FaultKind::Reset,
];

async fn outcomes(sim: &SimHandle, n: usize) -> Vec<String> {
    let c = client();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(match report_request(sim, &c).send().await {
            Ok(res) => res.status().as_str().to_owned(),
            Err(_) => "reset".to_owned(),
        });
    }
    out
}

#[tokio::test]
async fn a_seed_gives_the_same_faults_twice() {
    let faults = Faults::fraction(0.5, 42, &MIX);
    let sim = start_both(faults.clone()).await;
    let first = outcomes(&sim, 40).await;
    sim.set_faults("snapchat", faults).unwrap();
    let second = outcomes(&sim, 40).await;
    assert_eq!(first, second);
    let kinds: std::collections::BTreeSet<_> = first.iter().collect();
    assert!(kinds.len() >= 4, "{kinds:?}");
    let taken = first.iter().filter(|o| *o == "201").count();
    assert!((8..=32).contains(&taken), "{taken} of 40 taken");
    // what was taken is exactly what was answered 201
    let s = &sim.stats().platforms["snapchat"];
    assert_eq!(s.received as usize, 2 * taken);
    let injected: u64 = s.faults.values().sum();
    assert_eq!(injected as usize, 80 - 2 * taken);

    // another seed, another sequence; and a fresh simulator with the same seed repeats it
    sim.set_faults("snapchat", Faults::fraction(0.5, 43, &MIX))
        .unwrap();
    assert_ne!(outcomes(&sim, 40).await, first);
    sim.shutdown().await;
    let again = start_both(Faults::fraction(0.5, 42, &MIX)).await;
    assert_eq!(outcomes(&again, 40).await, first);
    again.shutdown().await;
}

#[tokio::test]
async fn faults_are_set_through_the_control_endpoint() {
    let sim = start_both(Faults::none()).await;
    let c = client();
    let url = format!("{}/control/snapchat/faults", sim.base_url());
    let res = c
        .post(&url)
        .json(&json!({ "always": "too_many_requests", "retry_after_secs": 3 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = report_request(&sim, &c).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "3");
    let current: Faults = c.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(current.always, Some(FaultKind::TooManyRequests));

    for bad in [
        json!({ "fraction": 1.5 }),
        json!({ "always": "meteor" }),
        json!({ "frac": 1 }),
    ] {
        let res = c.post(&url).json(&bad).send().await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
    let res = c
        .post(format!("{}/control/nowhere/faults", sim.base_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    c.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(report_request(&sim, &c).send().await.unwrap().status(), 201);
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_after_accept_takes_the_notice_then_fails() {
    let sim = start_both(Faults {
        fail_after_accept: true,
        ..Faults::always(FaultKind::InternalError)
    })
    .await;
    let res = report_request(&sim, &client()).send().await.unwrap();
    assert_eq!(res.status(), 500);
    let res = post_notice(&sim, "meta", "msg_1", b"{}").await.unwrap();
    assert_eq!(res.status(), 500);

    // the sender retries: Coop takes a second report, the webhook receiver a repeat
    for kind in [FaultKind::Reset, FaultKind::Timeout] {
        let faults = Faults {
            fail_after_accept: true,
            hold_ms: 20_000,
            ..Faults::always(kind)
        };
        sim.set_faults("snapchat", faults.clone()).unwrap();
        sim.set_faults("meta", faults).unwrap();
        let c = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        assert!(report_request(&sim, &c).send().await.is_err());
        let ts = now();
        let sig = rempart_platform_sim::sign_standard_webhook(SECRET, "msg_1", ts, b"{}").unwrap();
        let sent = c
            .post(sim.http_json_url("meta"))
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body("{}")
            .send()
            .await;
        assert!(sent.is_err());
    }

    // a slow body after acceptance dribbles the real answer
    sim.set_faults(
        "snapchat",
        Faults {
            fail_after_accept: true,
            slow_body_ms: 100,
            ..Faults::always(FaultKind::SlowBody)
        },
    )
    .unwrap();
    let res = report_request(&sim, &client()).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    assert!(v["reportId"].is_string());

    // a rejected request is answered normally, without fault
    let res = client()
        .post(format!("{}/api/v1/report", sim.coop_base_url("snapchat")))
        .json(&report_body("post-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let stats = sim.stats();
    let coop = &stats.platforms["snapchat"];
    assert_eq!(
        (
            coop.received,
            coop.unique,
            coop.duplicates,
            coop.accepted_then_failed
        ),
        (4, 1, 3, 4)
    );
    let meta = &stats.platforms["meta"];
    assert_eq!(
        (
            meta.received,
            meta.unique,
            meta.repeated_ids,
            meta.accepted_then_failed
        ),
        (3, 1, 2, 3)
    );
    assert!(
        sim.received("snapchat")
            .unwrap()
            .iter()
            .all(|r| r.accepted_then_failed)
    );
    sim.shutdown().await;
}
