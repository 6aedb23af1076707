//! Coop's signed action callbacks, sent by the simulator to a local receiver and checked
//! with `verify_coop_signature` on the raw body.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use rempart_delivery::{CoopKey, SignatureProblem, verify_coop_signature};
use rempart_platform_sim::{Decision, Faults};
use tokio::net::TcpListener;

use crate::common::{API_KEY, coop, local, report, start};

type Got = Arc<Mutex<Vec<(Option<String>, Bytes)>>>;

/// A receiver keeping each callback's `Coop-Signature` and raw body; answers 200.
async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let app = Router::new()
        .route(
            "/coop/actions",
            post(
                |State(got): State<Got>, headers: HeaderMap, body: Bytes| async move {
                    let sig = headers
                        .get("coop-signature")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    got.lock().unwrap().push((sig, body));
                },
            ),
        )
        .with_state(got.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/coop/actions"), got)
}

#[tokio::test]
async fn coop_callback_signature_verifies_and_a_wrong_one_does_not() {
    let sim = start(vec![coop("snap")]).await;
    let (url, got) = receiver().await;
    sim.set_coop_callbacks("snap", Some(url), None).unwrap();
    let sent = local()
        .send_coop_report(&sim.coop_base_url("snap"), API_KEY, &report("item-9"))
        .await;
    assert!(sent.is_delivered(), "{sent:?}");
    let pem = sim.coop_public_key_pem("snap").unwrap();
    let key = CoopKey::from_pem(&pem).unwrap();

    let done = sim
        .decide("snap", Decision::for_item("item-9", "delete"))
        .await
        .unwrap();
    assert!(done.delivered);
    let (sig, body) = got.lock().unwrap().pop().unwrap();
    let sig = sig.unwrap();
    assert_eq!(verify_coop_signature(&pem, &body, &sig), Ok(()));
    assert_eq!(key.verify(&body, &sig), Ok(()));
    let callback: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(callback["item"]["id"], "item-9");
    assert_eq!(callback["action"]["id"], "delete");
    // one byte changed, or the body re-serialised, no longer verifies
    let mut tampered = body.to_vec();
    tampered[0] = b' ';
    assert_eq!(key.verify(&tampered, &sig), Err(SignatureProblem::Mismatch));
    let reserialised = serde_json::to_vec_pretty(&callback).unwrap();
    assert_eq!(
        key.verify(&reserialised, &sig),
        Err(SignatureProblem::Mismatch)
    );

    sim.set_faults(
        "snap",
        Faults {
            wrong_signature: true,
            ..Faults::none()
        },
    )
    .unwrap();
    sim.decide("snap", Decision::for_item("item-9", "delete"))
        .await
        .unwrap();
    let (sig, body) = got.lock().unwrap().pop().unwrap();
    assert_eq!(
        key.verify(&body, &sig.unwrap()),
        Err(SignatureProblem::Mismatch)
    );
    sim.shutdown().await;
}
