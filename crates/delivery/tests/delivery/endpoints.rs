//! Redirects, refused endpoints and unreachable ones, against small local servers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::{any, post};
use rempart_delivery::{Deliverer, DelivererConfig, EndpointPolicy, Outcome};
use tokio::net::TcpListener;

use crate::common::{API_KEY, SECRET, local, notice, now_unix, report};

/// A server answering every report with `status` and `Location: /target`; counts the
/// hits on `/target`.
async fn redirecting(status: StatusCode) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route(
            "/api/v1/report",
            post(move || async move { (status, [(header::LOCATION, "/target")]) }),
        )
        .route(
            "/target",
            any(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    (StatusCode::CREATED, r#"{"reportId":"r"}"#)
                }
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits)
}

#[tokio::test]
async fn redirect_is_refused_and_never_followed() {
    for status in [
        StatusCode::MOVED_PERMANENTLY,
        StatusCode::FOUND,
        StatusCode::SEE_OTHER,
        StatusCode::TEMPORARY_REDIRECT,
        StatusCode::PERMANENT_REDIRECT,
    ] {
        let (base, hits) = redirecting(status).await;
        let outcome = local().send_coop_report(&base, API_KEY, &report("i")).await;
        assert_eq!(
            outcome,
            Outcome::Permanent {
                reason: "redirect_refused",
                status: Some(status.as_u16())
            }
        );
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }
}

fn strict() -> Deliverer {
    Deliverer::new(DelivererConfig {
        policy: EndpointPolicy {
            allow_local: false,
            allow_plain_http: true,
        },
        ..DelivererConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn private_endpoint_refused_without_connecting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let d = strict();
    let coop = d
        .send_coop_report(&format!("http://127.0.0.1:{port}"), API_KEY, &report("i"))
        .await;
    assert_eq!(
        coop,
        Outcome::Permanent {
            reason: "endpoint_local_address",
            status: None
        }
    );
    let push = d
        .send_http_json(
            &format!("http://[::ffff:127.0.0.1]:{port}/n"),
            SECRET,
            "m",
            &notice(1),
            now_unix(),
        )
        .await;
    assert_eq!(push.reason(), Some("endpoint_local_address"));
    let name = d
        .send_http_json(
            &format!("http://localhost:{port}/n"),
            SECRET,
            "m",
            &notice(1),
            now_unix(),
        )
        .await;
    assert_eq!(name.reason(), Some("endpoint_local_name"));
    // a connection would be waiting in the backlog by now
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{accepted:?}"
    );
}

#[tokio::test]
async fn invalid_endpoints_are_permanent() {
    let d = local();
    for (url, reason) in [
        ("ftp://platform.example/", "endpoint_scheme"),
        (
            "https://key:secret@platform.example/",
            "endpoint_credentials",
        ),
        ("platform.example/api", "endpoint_invalid"),
    ] {
        let outcome = d.send_coop_report(url, API_KEY, &report("i")).await;
        assert_eq!(
            outcome,
            Outcome::Permanent {
                reason,
                status: None
            },
            "{url}"
        );
    }
    let https_only = Deliverer::new(DelivererConfig::default()).unwrap();
    let outcome = https_only
        .send_coop_report("http://platform.example/", API_KEY, &report("i"))
        .await;
    assert_eq!(outcome.reason(), Some("endpoint_plain_http"));
}

#[tokio::test]
async fn refused_connection_is_transient_not_delivered() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let outcome = local()
        .send_coop_report(&format!("http://127.0.0.1:{port}"), API_KEY, &report("i"))
        .await;
    assert_eq!(
        outcome,
        Outcome::Transient {
            reason: "connect_refused",
            status: None,
            retry_after: None,
            maybe_delivered: false
        }
    );
}

#[tokio::test]
async fn oversized_answer_is_a_protocol_error() {
    let big = "x".repeat(100 * 1024);
    let app = Router::new().route(
        "/api/v1/report",
        post(move || {
            let big = big.clone();
            async move { (StatusCode::CREATED, big) }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let outcome = crate::common::deliverer(Duration::from_secs(5))
        .send_coop_report(&format!("http://{addr}"), API_KEY, &report("i"))
        .await;
    assert_eq!(
        outcome,
        Outcome::Permanent {
            reason: "answer_too_large",
            status: Some(201)
        }
    );
}
