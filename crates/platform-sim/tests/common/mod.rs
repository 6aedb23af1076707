//! Shared by the integration tests: a simulator on port 0, report bodies, and a
//! real local receiver for Coop's callbacks.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rempart_platform_sim::{CallbackPolicy, SimConfig, SimHandle, SimPlatform, spawn};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub const API_KEY: &str = "coop-key-1";
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A simulator with these platforms, quick callback retries.
pub async fn start(platforms: Vec<SimPlatform>) -> SimHandle {
    let config = SimConfig {
        callbacks: CallbackPolicy {
            retries: 5,
            first_backoff: Duration::from_millis(10),
            timeout: Duration::from_secs(2),
        },
        ..SimConfig::with_platforms(platforms)
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    spawn(config, listener).await.unwrap()
}

/// A Coop platform using the process's shared key.
pub fn coop(code: &str) -> SimPlatform {
    let mut p = SimPlatform::coop(code, API_KEY);
    if let rempart_platform_sim::SimKind::Coop(c) = &mut p.kind {
        c.key = rempart_platform_sim::CoopKey::SharedPerProcess;
    }
    p
}

/// Mutable access to a Coop platform's settings.
pub fn coop_config(p: &mut SimPlatform) -> &mut rempart_platform_sim::CoopConfig {
    match &mut p.kind {
        rempart_platform_sim::SimKind::Coop(c) => c,
        _ => panic!("not coop"),
    }
}

pub fn report_body(item_id: &str) -> Value {
    json!({
        "reporter": { "kind": "user", "typeId": "helpline", "id": "rempart-helpline" },
        "reportedAt": "2026-12-01T10:30:00.000Z",
        "reportedForReason": { "policyId": "harassment", "reason": "Cyber-harassment of a minor", "csam": false },
        "reportedItem": { "id": item_id, "typeId": "post", "data": { "url": format!("https://platform.example/p/{item_id}") } }
    })
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs a report with the right key.
pub async fn post_report(sim: &SimHandle, code: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/api/v1/report", sim.coop_base_url(code)))
        .header("x-api-key", API_KEY)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// POSTs a signed `http_json` notice.
pub async fn post_notice(
    sim: &SimHandle,
    code: &str,
    id: &str,
    body: &[u8],
) -> reqwest::Result<reqwest::Response> {
    let ts = now();
    let sig = rempart_platform_sim::sign_standard_webhook(SECRET, id, ts, body).unwrap();
    client()
        .post(sim.http_json_url(code))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(body.to_vec())
        .send()
        .await
}

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Got {
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Clone)]
struct ReceiverState {
    tx: mpsc::UnboundedSender<Got>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

/// A local HTTP server standing for Rempart's callback endpoint: it answers the scripted
/// statuses in order, then 200, and hands every request to the test.
pub struct Receiver {
    pub addr: SocketAddr,
    pub rx: mpsc::UnboundedReceiver<Got>,
}

impl Receiver {
    pub async fn start(script: &[u16]) -> Receiver {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = ReceiverState {
            tx,
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
        };
        let app = axum::Router::new()
            .route("/callback", post(receive))
            .route("/appeal", post(receive))
            .with_state(state);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { addr, rx }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next request, waiting at most 10 s.
    pub async fn next(&mut self) -> Got {
        tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
            .await
            .expect("no callback arrived")
            .expect("receiver closed")
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let status = state.script.lock().unwrap().pop_front().unwrap_or(200);
    let _ = state.tx.send(Got { headers, body });
    StatusCode::from_u16(status).unwrap()
}

/// Verifies a `Coop-Signature` over the raw body with the PEM public key, as a platform's
/// receiver would.
pub fn coop_signature_ok(public_pem: &str, body: &[u8], signature_b64: &str) -> bool {
    use base64::Engine as _;
    use rsa::pkcs8::DecodePublicKey as _;
    use rsa::signature::Verifier as _;
    let key = rsa::RsaPublicKey::from_public_key_pem(public_pem).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(signature_b64) else {
        return false;
    };
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(raw.as_slice()) else {
        return false;
    };
    verifier.verify(body, &sig).is_ok()
}
