//! Notices delivered by real `rempart serve` processes to the platform simulators, with a
//! node SIGKILLed while it holds deliveries: the killed node's jobs are due again once their
//! lease ran out, and every notice the API acknowledged as sent is delivered — by the node
//! restarted (either database) or by the other node of a PostgreSQL pair.

use crate::support::*;
use crate::{postgres_or_say, until};
use rempart_platform_sim::{
    CoopKey, FaultKind, Faults, SimConfig, SimHandle, SimKind, SimPlatform,
};
use rempart_storage::{JobState, Store};
use serde_json::{Value, json};
use std::time::Duration;

const PASSWORD: &str = "faults passphrase";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const COOP_KEY: &str = "process-tests-coop-key";
/// Notices per platform.
const EACH: usize = 4;

/// A Coop platform that answers at once, and an `http_json` one that holds every request
/// for a minute (far past the nodes' ten-second timeout) until the test lets it answer.
async fn sim() -> SimHandle {
    let mut coop = SimPlatform::coop("snapchat", COOP_KEY);
    if let SimKind::Coop(c) = &mut coop.kind {
        c.key = CoopKey::SharedPerProcess;
    }
    let held = Faults {
        hold_ms: 60_000,
        ..Faults::always(FaultKind::Timeout)
    };
    let push = SimPlatform::http_json("instagram", WHSEC).with_faults(held);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    rempart_platform_sim::spawn(SimConfig::with_platforms(vec![coop, push]), listener)
        .await
        .unwrap()
}

/// The nodes' environment: the test's database, the simulators as the directory, a
/// ten-second attempt and an eleven-second lease.
fn env_with(db: &str, dir: &std::path::Path, sim: &SimHandle) -> Vec<(&'static str, String)> {
    let platforms = dir.join("platforms.toml");
    std::fs::write(
        &platforms,
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
        ),
    )
    .unwrap();
    let mut env = node_env(db, &always_open(dir));
    env.extend([
        (
            "REMPART_HELPLINE_PLATFORMS_FILE",
            platforms.display().to_string(),
        ),
        ("REMPART_DELIVERY_ALLOW_LOCAL_ENDPOINTS", "true".into()),
        // an attempt held at the platform lasts 10 s: the kill falls inside one
        ("REMPART_DELIVERY_TIMEOUT_SECONDS", "10".into()),
        ("REMPART_DELIVERY_LEASE_SECONDS", "11".into()),
        ("REMPART_DELIVERY_RETRY_BASE_MS", "100".into()),
        ("REMPART_DELIVERY_POLL_MS", "50".into()),
        ("REMPART_PLATFORM_SECRET_SNAPCHAT_COOP", COOP_KEY.into()),
        ("REMPART_PLATFORM_SECRET_INSTAGRAM_PUSH", WHSEC.into()),
    ]);
    env
}

/// A case with one item on `platform`, its notice drafted, marked ready and sent through
/// the API; returns the notice's id once the send was acknowledged (200).
async fn sent_notice(http: &reqwest::Client, base: &str, tok: &str, platform: &str) -> String {
    let case: Value = http
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(tok)
        .json(&json!({"title": "d", "categories": ["cyber_harassment"], "age_band": "15_17"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = case["id"].as_str().unwrap().to_owned();
    let r = http
        .post(format!("{base}/api/v1/cases/{case}/items"))
        .bearer_auth(tok)
        .json(&json!({"platform": platform, "content_type": "account", "native_id": "@harceleur"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "item");
    let drafts: Vec<Value> = http
        .post(format!("{base}/api/v1/cases/{case}/notices"))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = drafts[0]["id"].as_str().unwrap().to_owned();
    for step in ["ready", "send"] {
        let r = http
            .post(format!("{base}/api/v1/notices/{id}/{step}"))
            .bearer_auth(tok)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{step}");
    }
    id
}

/// The pushed notices whose delivery is leased now: held at the `http_json` platform, they
/// cannot end before the test lets the platform answer.
async fn held_now(store: &Store, pushed: &[String]) -> Vec<String> {
    let now = chrono::Utc::now().timestamp_millis();
    store
        .leased_jobs("notice_delivery", now)
        .await
        .unwrap()
        .into_iter()
        .filter(|id| pushed.contains(id))
        .collect()
}

/// Sends `EACH` notices to each platform through `base`; waits until the node holds a
/// delivery the `http_json` platform keeps waiting (its job leased in the database).
/// Returns every notice, and the pushed ones.
async fn send_and_hold(
    http: &reqwest::Client,
    sim: &SimHandle,
    store: &Store,
    base: &str,
) -> (Vec<String>, Vec<String>) {
    let tok = login(http, base, "sam@helpline.invalid", PASSWORD).await;
    let (mut ids, mut pushed) = (Vec::new(), Vec::new());
    for _ in 0..EACH {
        ids.push(sent_notice(http, base, &tok, "snapchat").await);
        let id = sent_notice(http, base, &tok, "instagram").await;
        ids.push(id.clone());
        pushed.push(id);
    }
    sim.wait_for(Duration::from_secs(20), |s| {
        s.platforms["instagram"].faults.get("timeout").copied() >= Some(1)
    })
    .await
    .expect("a delivery held at the platform");
    let p = pushed.as_slice();
    until(20, "a delivery leased", move || async move {
        !held_now(store, p).await.is_empty()
    })
    .await;
    (ids, pushed)
}

/// Every acknowledged notice delivered once (the database says so, and each platform
/// holds each one); the deliveries the dead node held were attempted again.
async fn every_notice_delivered(store: &Store, sim: &SimHandle, ids: &[String], held: &[String]) {
    until(90, "every sent notice delivered", move || async move {
        let mut all = true;
        for id in ids {
            let n = store
                .notice(rempart_domain::ids::NoticeId::parse(id).unwrap())
                .await
                .unwrap()
                .unwrap();
            all &= n.delivered_at.is_some();
        }
        all
    })
    .await;
    for id in ids {
        let n = store
            .notice(rempart_domain::ids::NoticeId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.state, rempart_domain::notice::NoticeState::Sent);
        assert!(n.ticket.is_some(), "the platform's receipt is kept");
        let job = store
            .job_by_key(&format!("notice:{id}:delivery:0"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.state, JobState::Done);
        if held.contains(id) {
            assert!(
                job.attempts >= 2,
                "a delivery the dead node held is attempted again"
            );
        }
    }
    let stats = sim.stats();
    assert_eq!(
        stats.platforms["snapchat"].unique, EACH as u64,
        "each Coop notice reported"
    );
    assert_eq!(
        stats.platforms["instagram"].unique, EACH as u64,
        "each pushed notice taken once (its webhook-id)"
    );
    assert_eq!(stats.platforms["instagram"].repeated_with_other_body, 0);
    let tickets: std::collections::HashSet<String> = sim
        .received("instagram")
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(tickets.len(), EACH, "one ticket per pushed notice");
}

/// Either database: the only node is SIGKILLed while the platform holds one of its
/// deliveries, and restarted; once the leases ran out it delivers every notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_while_it_delivers_delivers_every_notice_once_restarted() {
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("delivery-kill");
    let sim = sim().await;
    let env = env_with(&db.url, &dir, &sim);
    user_add(&env, "sam@helpline.invalid", "counsellor", PASSWORD);
    let store = Store::connect(&db.url, &rempart_storage::testing::options())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let mut node = serve(&env, &[]).await;
    let (ids, pushed) = send_and_hold(&http, &sim, &store, &node.base).await;
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    drop(node);
    let held = held_now(&store, &pushed).await;
    assert!(!held.is_empty(), "the node died holding deliveries");
    sim.set_faults("instagram", Faults::none()).unwrap();
    let _node = serve(&env, &[]).await;
    every_notice_delivered(&store, &sim, &ids, &held).await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// PostgreSQL, two nodes on one queue: node A holds a delivery when it is SIGKILLed; node
/// B, running beside it, takes A's jobs over once their leases ran out and delivers every
/// notice (A never comes back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_node_takes_over_the_deliveries_of_a_killed_one() {
    if postgres_or_say("the_other_node_takes_over_the_deliveries_of_a_killed_one").is_none() {
        return;
    }
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("delivery-takeover");
    let sim = sim().await;
    let env = env_with(&db.url, &dir, &sim);
    user_add(&env, "sam@helpline.invalid", "counsellor", PASSWORD);
    let store = Store::connect(&db.url, &rempart_storage::testing::options())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let mut a = serve(&env, &[]).await;
    let (ids, pushed) = send_and_hold(&http, &sim, &store, &a.base).await;
    // what A holds (held at the platform, it cannot end); B runs while A dies
    let held = held_now(&store, &pushed).await;
    assert!(!held.is_empty(), "A holds deliveries");
    let b = serve(&env, &[]).await;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    drop(a);
    sim.set_faults("instagram", Faults::none()).unwrap();
    every_notice_delivered(&store, &sim, &ids, &held).await;
    // B still sends: a notice sent on it now is delivered too
    let tok = login(&http, &b.base, "sam@helpline.invalid", PASSWORD).await;
    let late = sent_notice(&http, &b.base, &tok, "instagram").await;
    let (s, late) = (&store, late.as_str());
    until(20, "the notice sent on B delivered", move || async move {
        s.notice(rempart_domain::ids::NoticeId::parse(late).unwrap())
            .await
            .unwrap()
            .unwrap()
            .delivered_at
            .is_some()
    })
    .await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
