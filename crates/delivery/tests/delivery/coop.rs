//! Coop Report API deliveries against the simulator, every fault kind included.

use std::time::Duration;

use rempart_delivery::{AtPlatform, Outcome, USER_AGENT};
use rempart_platform_sim::{FaultKind, Faults};

use crate::common::{API_KEY, coop, deliverer, local, report, start};

#[tokio::test]
async fn coop_report_delivered_with_its_report_id() {
    let sim = start(vec![coop("snap")]).await;
    let outcome = local()
        .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-1"))
        .await;
    let received = sim.received("snap").unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 201,
            receipt: Some(received[0].id.clone()),
            at_platform: AtPlatform::Taken,
        }
    );
    assert_eq!(received[0].item_id.as_deref(), Some("item-1"));
    assert_eq!(
        received[0].headers.get("user-agent").map(String::as_str),
        Some(USER_AGENT)
    );
    assert_eq!(
        received[0].headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    // a trailing slash on the base changes nothing
    let again = local()
        .send_coop_report(
            &format!("{}/", sim.coop_base_url("snap")),
            API_KEY,
            &report("item-2"),
        )
        .await;
    assert!(again.is_delivered(), "{again:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_wrong_key_is_permanent_401() {
    let sim = start(vec![coop("snap")]).await;
    let outcome = local()
        .send_coop_report(&sim.coop_base_url("snap"), "not-the-key", &report("item-1"))
        .await;
    assert_eq!(
        outcome,
        Outcome::Permanent {
            reason: "http_401",
            status: Some(401)
        }
    );
    assert_eq!(sim.received("snap").unwrap().len(), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_invalid_body_is_permanent_400() {
    let sim = start(vec![coop("snap")]).await;
    let d = local();
    for body in [&br#"{"reporter":{"kind":"user"}}"#[..], b"not json", b"[]"] {
        let outcome = d
            .send_coop_report(&sim.coop_base_url("snap"), API_KEY, body)
            .await;
        assert_eq!(
            outcome,
            Outcome::Permanent {
                reason: "http_400",
                status: Some(400)
            }
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_5xx_are_transient_and_may_have_been_taken() {
    let sim = start(vec![coop("snap")]).await;
    let d = local();
    for (kind, status, reason) in [
        (FaultKind::InternalError, 500, "http_500"),
        (FaultKind::BadGateway, 502, "http_502"),
        (FaultKind::ServiceUnavailable, 503, "http_503"),
    ] {
        sim.set_faults("snap", Faults::always(kind)).unwrap();
        let outcome = d
            .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-1"))
            .await;
        assert_eq!(
            outcome,
            Outcome::Transient {
                reason,
                status: Some(status),
                retry_after: None,
                maybe_delivered: true
            }
        );
    }
    assert_eq!(sim.received("snap").unwrap().len(), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_429_carries_the_simulators_retry_after() {
    let sim = start(vec![coop("snap").with_faults(Faults {
        retry_after_secs: 7,
        ..Faults::always(FaultKind::TooManyRequests)
    })])
    .await;
    let outcome = local()
        .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-1"))
        .await;
    assert_eq!(
        outcome,
        Outcome::Transient {
            reason: "http_429",
            status: Some(429),
            retry_after: Some(Duration::from_secs(7)),
            maybe_delivered: false
        }
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_held_request_times_out_maybe_delivered() {
    let sim = start(vec![coop("snap").with_faults(Faults {
        hold_ms: 30_000,
        ..Faults::always(FaultKind::Timeout)
    })])
    .await;
    let outcome = deliverer(Duration::from_millis(300))
        .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-1"))
        .await;
    assert_eq!(
        outcome,
        Outcome::Transient {
            reason: "timeout",
            status: None,
            retry_after: None,
            maybe_delivered: true
        }
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_reset_is_transient() {
    let sim = start(vec![
        coop("snap").with_faults(Faults::always(FaultKind::Reset)),
    ])
    .await;
    let outcome = local()
        .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-1"))
        .await;
    assert_eq!(
        outcome,
        Outcome::Transient {
            reason: "reset",
            status: None,
            retry_after: None,
            maybe_delivered: true
        }
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_slow_body_beyond_the_total_timeout_is_transient() {
    // taken, then the 201 dribbled over 5 s: the status is known, the receipt is lost
    let sim = start(vec![coop("snap").with_faults(Faults {
        fail_after_accept: true,
        slow_body_ms: 5_000,
        ..Faults::always(FaultKind::SlowBody)
    })])
    .await;
    let outcome = deliverer(Duration::from_millis(400))
        .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-1"))
        .await;
    assert_eq!(
        outcome,
        Outcome::Transient {
            reason: "timeout",
            status: Some(201),
            retry_after: None,
            maybe_delivered: true
        }
    );
    assert_eq!(sim.stats().platforms["snap"].accepted_then_failed, 1);

    // not taken: a 503 whose body is slow is classed on its status, without waiting
    sim.set_faults(
        "snap",
        Faults {
            slow_body_ms: 5_000,
            ..Faults::always(FaultKind::SlowBody)
        },
    )
    .unwrap();
    let outcome = deliverer(Duration::from_millis(400))
        .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-2"))
        .await;
    assert_eq!(outcome.reason(), Some("http_503"));
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_fail_after_accept_is_transient_and_a_retry_duplicates() {
    let sim = start(vec![coop("snap").with_faults(Faults {
        fail_after_accept: true,
        ..Faults::always(FaultKind::InternalError)
    })])
    .await;
    let d = local();
    let base = sim.coop_base_url("snap");
    let outcome = d.send_coop_report(&base, API_KEY, &report("item-1")).await;
    assert_eq!(
        outcome,
        Outcome::Transient {
            reason: "http_500",
            status: Some(500),
            retry_after: None,
            maybe_delivered: true
        }
    );
    let stats = &sim.stats().platforms["snap"];
    assert_eq!((stats.received, stats.accepted_then_failed), (1, 1));

    // Coop has no idempotency key: the retry is a second report of the same item
    sim.set_faults("snap", Faults::none()).unwrap();
    let retry = d.send_coop_report(&base, API_KEY, &report("item-1")).await;
    assert!(retry.is_delivered(), "{retry:?}");
    let stats = &sim.stats().platforms["snap"];
    assert_eq!((stats.received, stats.unique, stats.duplicates), (2, 1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn coop_every_fault_kind_is_transient() {
    let sim = start(vec![coop("snap")]).await;
    let d = deliverer(Duration::from_millis(400));
    for kind in FaultKind::ALL {
        sim.set_faults(
            "snap",
            Faults {
                hold_ms: 10_000,
                slow_body_ms: 5_000,
                ..Faults::always(kind)
            },
        )
        .unwrap();
        let outcome = d
            .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-1"))
            .await;
        assert_eq!(outcome.class(), "transient", "{kind:?}: {outcome:?}");
    }
    assert_eq!(sim.received("snap").unwrap().len(), 0);
    sim.shutdown().await;
}
