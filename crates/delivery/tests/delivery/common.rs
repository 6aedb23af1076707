//! A simulator on port 0, deliverers allowed to reach it, report bodies.

use std::time::Duration;

use rempart_delivery::{
    CoopItem, CoopReason, CoopReport, CoopReporter, Deliverer, DelivererConfig, EndpointPolicy,
};
use rempart_platform_sim::{
    CallbackPolicy, CoopKey, SimConfig, SimHandle, SimKind, SimPlatform, spawn,
};
use tokio::net::TcpListener;

pub const API_KEY: &str = "coop-api-key-1";
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const OTHER_SECRET: &str = "whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=";

/// A simulator with these platforms; Coop callbacks are not retried.
pub async fn start(platforms: Vec<SimPlatform>) -> SimHandle {
    let config = SimConfig {
        callbacks: CallbackPolicy {
            retries: 0,
            first_backoff: Duration::from_millis(1),
            timeout: Duration::from_secs(2),
        },
        ..SimConfig::with_platforms(platforms)
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    spawn(config, listener).await.unwrap()
}

/// A Coop platform using the process's shared key (generated once).
pub fn coop(code: &str) -> SimPlatform {
    let mut p = SimPlatform::coop(code, API_KEY);
    if let SimKind::Coop(c) = &mut p.kind {
        c.key = CoopKey::SharedPerProcess;
    }
    p
}

/// A deliverer allowed to reach 127.0.0.1 over plain HTTP, with this total timeout.
pub fn deliverer(total: Duration) -> Deliverer {
    Deliverer::new(DelivererConfig {
        connect_timeout: Duration::from_secs(2),
        total_timeout: total,
        policy: EndpointPolicy::local(),
        ..DelivererConfig::default()
    })
    .unwrap()
}

pub fn local() -> Deliverer {
    deliverer(Duration::from_secs(5))
}

/// A valid Coop report of `item_id`, built with the crate's types.
pub fn report(item_id: &str) -> Vec<u8> {
    let at = chrono::DateTime::from_timestamp(1_796_121_000, 0).unwrap();
    CoopReport::new(
        CoopReporter::user("helpline", "rempart-helpline"),
        at,
        CoopItem {
            id: item_id.to_owned(),
            type_id: "post".to_owned(),
            data: serde_json::json!({ "url": format!("https://platform.example/p/{item_id}") }),
        },
    )
    .with_reason(CoopReason {
        policy_id: Some("harassment".to_owned()),
        reason: Some("Cyber-harassment".to_owned()),
        csam: Some(false),
    })
    .to_json()
}

pub fn notice(n: u32) -> Vec<u8> {
    serde_json::json!({ "notice": format!("N-{n}"), "items": ["https://platform.example/p/1"] })
        .to_string()
        .into_bytes()
}

pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}
