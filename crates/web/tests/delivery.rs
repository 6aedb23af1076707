//! Notices delivered by the node's workers to real local platforms (the simulators of
//! `rempart-platform-sim`: a Coop Report API and a Standard Webhooks receiver): the stored
//! bytes arrive once with the platform's receipt kept; a transient failure is retried with
//! the same idempotency key once its backoff has passed (the test moves the clock); a
//! permanent one moves the notice to the platform's next channel; the notice a platform took
//! and failed to confirm is taken once more by Coop (no idempotency key) but only once by
//! a signed push (its `webhook-id`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::Role;
use rempart_platform_sim::{
    CoopKey, FaultKind, Faults, SimConfig, SimHandle, SimKind, SimPlatform,
};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::*;

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn sim() -> SimHandle {
    let mut coop = SimPlatform::coop("snapchat", "coop-key");
    if let SimKind::Coop(c) = &mut coop.kind {
        c.key = CoopKey::SharedPerProcess;
    }
    let push = SimPlatform::http_json("instagram", WHSEC);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    rempart_platform_sim::spawn(SimConfig::with_platforms(vec![coop, push]), listener)
        .await
        .unwrap()
}

fn directory(sim: &SimHandle) -> String {
    format!(
        r#"
[[platform]]
code = "snapchat"
name = "Snapchat"
expected_hours = 24
id_hint_fr = "pseudo"
id_hint_en = "username"

[[platform.channel]]
kind = "coop"
url = "{coop}"
secret = "snapchat_coop"
reporter_type_id = "trusted_flagger"
reporter_id = "rempart"
item_type_id = "content"

[[platform.channel]]
kind = "portal"
url = "https://trust-safety.snapchat.example.invalid/report"

[[platform]]
code = "instagram"
name = "Instagram"
expected_hours = 24
id_hint_fr = "lien"
id_hint_en = "link"

[[platform.channel]]
kind = "http_json"
url = "{push}"
secret = "instagram_push"
"#,
        coop = sim.coop_base_url("snapchat"),
        push = sim.http_json_url("instagram"),
    )
}

async fn app_with(sim: &SimHandle, coop_key: &str) -> (TestApp, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "rempart-delivery-{}-{}",
        std::process::id(),
        rempart_app::random_hex(6).unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platforms.toml");
    std::fs::write(&file, directory(sim)).unwrap();
    let f = file.clone();
    let key = coop_key.to_owned();
    let t = TestApp::spawn_with(move |s| {
        s.helpline.platforms_file = Some(f);
        s.delivery.allow_local_endpoints = true;
        s.delivery.retry_base_ms = 60_000;
        s.delivery.max_attempts = 3;
        s.delivery.timeout_seconds = 2;
        s.delivery.poll_ms = 20;
        s.secrets.platforms.insert(
            "snapchat_coop".into(),
            rempart_app::secret::Secret::new(key),
        );
        s.secrets.platforms.insert(
            "instagram_push".into(),
            rempart_app::secret::Secret::new(WHSEC),
        );
    })
    .await;
    (t, dir)
}

/// Waits until the notice satisfies `done` (each look reads the database; 10 s at most).
/// Sends a new case's notice to `platform`; returns its id.
async fn sent(t: &TestApp, token: &str, platform: &str) -> String {
    t.sent_notice(token, platform).await.1
}

async fn until(
    t: &TestApp,
    token: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: Value = t
            .get(&format!("/api/v1/notices/{id}"), Some(token))
            .await
            .json()
            .await
            .unwrap();
        if done(&n) {
            return n;
        }
        assert!(Instant::now() < deadline, "{what}: {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_sent_notice_reaches_the_platform_once_with_its_exact_bytes() {
    let sim = sim().await;
    let (t, dir) = app_with(&sim, "coop-key").await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let id = sent(&t, &tok, "snapchat").await;
    let n = until(&t, &tok, &id, "delivered", |n| n["delivered_at"].is_i64()).await;
    let got = sim.received("snapchat").unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        n["ticket"].as_str(),
        Some(got[0].id.as_str()),
        "the report id is kept"
    );
    assert_eq!(n["attempts"], 1);
    let stored: Value = serde_json::from_str(n["payload"].as_str().unwrap()).unwrap();
    assert_eq!(got[0].body, stored, "what arrived is what was stored");

    // a signed push: verified by the receiver, its ticket kept
    let id = sent(&t, &tok, "instagram").await;
    let n = until(&t, &tok, &id, "delivered", |n| n["delivered_at"].is_i64()).await;
    let got = sim.received("instagram").unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].webhook_id.as_deref(),
        Some(format!("notice:{id}:delivery:0").as_str())
    );
    assert!(n["ticket"].is_string());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_its_backoff_with_the_same_key() {
    let sim = sim().await;
    let (t, dir) = app_with(&sim, "coop-key").await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    sim.set_faults("instagram", Faults::always(FaultKind::ServiceUnavailable))
        .unwrap();
    let id = sent(&t, &tok, "instagram").await;
    let n = until(&t, &tok, &id, "first attempt failed", |n| {
        n["last_error"] == "http_503"
    })
    .await;
    assert_eq!(
        (n["attempts"].as_u64(), n["state"].as_str()),
        (Some(1), Some("sent"))
    );
    assert!(n["delivered_at"].is_null());
    let job = t
        .store
        .job_by_key(&format!("notice:{id}:delivery:0"))
        .await
        .unwrap()
        .unwrap();
    assert!(job.run_at > t.app.now(), "due again later, not at once");
    // the platform recovers; nothing is sent before the backoff has passed
    sim.set_faults("instagram", Faults::none()).unwrap();
    t.clock.advance(job.run_at - t.app.now() + 1);
    let n = until(&t, &tok, &id, "delivered on the retry", |n| {
        n["delivered_at"].is_i64()
    })
    .await;
    assert_eq!(n["attempts"], 2);
    let st = &sim.stats().platforms["instagram"];
    assert_eq!((st.unique, st.repeated_ids), (1, 0));
    assert_eq!(st.faults.get("service_unavailable").copied(), Some(1));

    // taken, then a 500: the retry carries the same webhook-id, the platform keeps one
    sim.set_faults(
        "instagram",
        Faults {
            fail_after_accept: true,
            ..Faults::always(FaultKind::InternalError)
        },
    )
    .unwrap();
    let id = sent(&t, &tok, "instagram").await;
    let n = until(&t, &tok, &id, "failed once", |n| {
        n["last_error"] == "http_500"
    })
    .await;
    sim.set_faults("instagram", Faults::none()).unwrap();
    let job = t
        .store
        .job_by_key(&format!("notice:{id}:delivery:0"))
        .await
        .unwrap()
        .unwrap();
    t.clock.advance(job.run_at - t.app.now() + 1);
    until(&t, &tok, &id, "delivered", |n| n["delivered_at"].is_i64()).await;
    let st = &sim.stats().platforms["instagram"];
    assert_eq!(
        st.unique, 2,
        "one notice each, the second taken once: {st:?}"
    );
    assert_eq!(
        st.repeated_ids, 1,
        "the retry was recognised by its webhook-id"
    );
    assert_eq!(n["attempts"], 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_permanent_failure_moves_the_notice_to_the_next_channel_or_fails_it() {
    let sim = sim().await;
    let (t, dir) = app_with(&sim, "not-the-key").await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    // Coop refuses the key (401): the platform's portal is next, for a counsellor's hands
    let id = sent(&t, &tok, "snapchat").await;
    let n = until(&t, &tok, &id, "moved to the portal", |n| {
        n["channel"] == "portal"
    })
    .await;
    assert_eq!(n["last_error"], "http_401");
    assert_eq!(n["state"], "sent");
    assert!(
        sim.received("snapchat").unwrap().is_empty(),
        "nothing was taken"
    );
    let (pending, _, failed) = t.store.job_counts("notice_delivery").await.unwrap();
    assert_eq!((pending, failed), (0, 1), "no job for a portal");
    // a push that cannot be signed (its secret is not on this node) and no channel after
    // it: failed, with the reason
    let secret_missing = {
        let (t2, dir2) = app_with(&sim, "coop-key").await;
        let c2 = t2.staff(Role::Counsellor, None).await;
        let tok2 = t2.token(&c2).await;
        // the signing secret removed from this node: a permanent failure, no channel left
        let file = dir2.join("platforms.toml");
        std::fs::write(
            &file,
            directory(&sim).replace(
                "secret = \"instagram_push\"",
                "secret = \"instagram_other\"",
            ),
        )
        .unwrap();
        let mut changes = t2.app.directory_changes();
        tokio::time::timeout(Duration::from_secs(10), changes.changed())
            .await
            .unwrap()
            .unwrap();
        let id2 = sent(&t2, &tok2, "instagram").await;
        let n = until(&t2, &tok2, &id2, "failed", |n| n["state"] == "failed").await;
        let _ = std::fs::remove_dir_all(dir2);
        n
    };
    assert_eq!(secret_missing["last_error"], "secret_missing");
    let actions: Vec<String> = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.iter().any(|a| a == "notice.delivery_failed"));
    let _ = std::fs::remove_dir_all(dir);
}
