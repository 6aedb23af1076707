//! A platform's decision comes back: the Coop simulator decides on the report Rempart's
//! worker delivered and sends its signed action callback; Rempart verifies the signature
//! with the platform's key from the directory, records the decision on the notice (with
//! the time to removal), answers a replay alike without recording twice, and refuses a
//! forged, missing or tampered signature, an unknown platform or action, and a conflicting
//! decision, leaving the notice as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::Role;
use rempart_platform_sim::{
    AppealDecision, AppealVerdict, CallbackPolicy, CoopKey, Decision, Faults, ItemIdentifier,
    SimConfig, SimHandle, SimKind, SimPlatform,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

async fn sim() -> SimHandle {
    let mut coop = SimPlatform::coop("snapchat", "coop-key");
    if let SimKind::Coop(c) = &mut coop.kind {
        c.key = CoopKey::SharedPerProcess;
    }
    let mut config = SimConfig::with_platforms(vec![coop]);
    // a refused callback is not retried here: each test says what it sends
    config.callbacks = CallbackPolicy {
        retries: 0,
        first_backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    rempart_platform_sim::spawn(config, listener).await.unwrap()
}

async fn app(sim: &SimHandle) -> TestApp {
    let pem = sim.coop_public_key_pem("snapchat").unwrap();
    let toml = format!(
        r#"
[[platform]]
code = "snapchat"
name = "Snapchat"
expected_hours = 24
id_hint_fr = "pseudo"
id_hint_en = "username"

[[platform.channel]]
kind = "coop"
url = "{url}"
secret = "snapchat_coop"
reporter_type_id = "trusted_flagger"
reporter_id = "rempart"
item_type_id = "content"
public_key_pem = """
{pem}"""

[platform.channel.actions]
delete = "content_removed"
no_action = "refused"
"#,
        url = sim.coop_base_url("snapchat"),
    );
    let dir = std::env::temp_dir().join(format!(
        "rempart-callbacks-{}",
        rempart_app::random_hex(6).unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platforms.toml");
    std::fs::write(&file, toml).unwrap();
    let t = TestApp::spawn_with(move |s| {
        s.helpline.platforms_file = Some(file);
        s.delivery.allow_local_endpoints = true;
        s.delivery.poll_ms = 20;
        s.secrets.platforms.insert(
            "snapchat_coop".into(),
            rempart_app::secret::Secret::new("coop-key"),
        );
    })
    .await;
    sim.set_coop_callbacks("snapchat", Some(t.url("/callbacks/coop/snapchat")), None)
        .unwrap();
    t
}

async fn notice(t: &TestApp, token: &str, id: &str) -> Value {
    t.get(&format!("/api/v1/notices/{id}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

/// A notice sent and delivered to the simulator; (notice id, reported item id).
async fn delivered(t: &TestApp, token: &str) -> (String, String) {
    let r = t
        .post_json(
            "/api/v1/cases",
            Some(token),
            json!({"title": "c", "categories": ["cyber_harassment"], "age_band": "11_14"}),
        )
        .await;
    let case = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.post_json(
        &format!("/api/v1/cases/{case}/items"),
        Some(token),
        json!({"platform": "snapchat", "content_type": "account", "native_id": "@harceleur"}),
    )
    .await;
    let drafts: Vec<Value> = t
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/cases/{case}/notices"),
            Some(token),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = drafts[0]["id"].as_str().unwrap().to_owned();
    let item = drafts[0]["items"][0]["id"].as_str().unwrap().to_owned();
    for step in ["ready", "send"] {
        let r = t
            .req(
                reqwest::Method::POST,
                &format!("/api/v1/notices/{id}/{step}"),
                Some(token),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while notice(t, token, &id).await["delivered_at"].is_null() {
        assert!(Instant::now() < deadline, "the notice was delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (id, item)
}

async fn post_raw(t: &TestApp, path: &str, body: &str, signature: Option<&str>) -> (u16, Value) {
    let mut r = t
        .http
        .post(t.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(s) = signature {
        r = r.header("coop-signature", s);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_signed_decision_comes_back_and_is_recorded_once() {
    let sim = sim().await;
    let t = app(&sim).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (id, item) = delivered(&t, &tok).await;
    t.clock.advance(12 * 60_000);
    let mut d = Decision::for_item(item.clone(), "delete");
    d.actor_email = Some("moderator@snapchat.example".into());
    let out = sim.decide("snapchat", d).await.unwrap();
    assert_eq!(out.attempts.last().unwrap().status, Some(200), "{out:?}");
    let n = notice(&t, &tok, &id).await;
    assert_eq!(n["state"], "removed");
    assert_eq!(n["decision"], "content_removed");
    assert_eq!(n["decision_source"], "coop");
    assert_eq!(
        n["removed_at"].as_i64().unwrap() - n["sent_at"].as_i64().unwrap(),
        12 * 60_000,
        "the time to removal"
    );
    // the moderator's address is not kept anywhere on the notice
    assert!(!n.to_string().contains("moderator@snapchat.example"));

    // the same callback again (Coop retries): answered alike, recorded once
    let (status, body) = post_raw(
        &t,
        "/callbacks/coop/snapchat",
        &out.body,
        Some(&out.signature),
    )
    .await;
    assert_eq!((status, body["recorded"].as_bool()), (200, Some(false)));
    let decided: Vec<_> = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "notice.decided")
        .collect();
    assert_eq!(decided.len(), 1);

    // another decision on a decided notice: a conflict, nothing changes
    let out = sim
        .decide("snapchat", Decision::for_item(item, "no_action"))
        .await
        .unwrap();
    assert_eq!(out.attempts.last().unwrap().status, Some(409));
    assert_eq!(notice(&t, &tok, &id).await["decision"], "content_removed");
}

#[tokio::test]
async fn forged_missing_or_tampered_signatures_and_unknown_names_are_refused() {
    let sim = sim().await;
    let t = app(&sim).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (id, item) = delivered(&t, &tok).await;
    // signed with another key
    sim.set_faults(
        "snapchat",
        Faults {
            wrong_signature: true,
            ..Faults::none()
        },
    )
    .unwrap();
    let forged = sim
        .decide("snapchat", Decision::for_item(item.clone(), "delete"))
        .await
        .unwrap();
    assert_eq!(forged.attempts.last().unwrap().status, Some(401));
    sim.set_faults("snapchat", Faults::none()).unwrap();
    // a valid one, kept to tamper with: the notice is decided by it only when intact
    let mut d = Decision::for_item(item.clone(), "delete");
    d.actor_note = Some("ok".into());
    sim.set_coop_callbacks("snapchat", Some(t.url("/nowhere")), None)
        .unwrap();
    let kept = sim.decide("snapchat", d).await.unwrap();
    let body = kept.body.clone();
    let sig = kept.signature.clone();
    for (what, b, s) in [
        ("no signature", body.clone(), None),
        ("garbage", body.clone(), Some("not base64!")),
        (
            "tampered body",
            body.replace("delete", "no_action"),
            Some(sig.as_str()),
        ),
    ] {
        let (status, v) = post_raw(&t, "/callbacks/coop/snapchat", &b, s).await;
        assert_eq!(
            (status, v["error"].as_str()),
            (401, Some("invalid_signature")),
            "{what}"
        );
    }
    assert_eq!(
        notice(&t, &tok, &id).await["state"],
        "sent",
        "nothing recorded"
    );
    // an unknown platform; a body that is not JSON
    let (status, _) = post_raw(&t, "/callbacks/coop/nowhere", &body, Some(&sig)).await;
    assert_eq!(status, 404);
    let r = t
        .http
        .post(t.url("/callbacks/coop/snapchat"))
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = t
        .http
        .post(t.url("/callbacks/coop/snapchat"))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, b'{'])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // the intact one still decides it
    let (status, v) = post_raw(&t, "/callbacks/coop/snapchat", &body, Some(&sig)).await;
    assert_eq!((status, v["recorded"].as_bool()), (200, Some(true)));
    assert_eq!(notice(&t, &tok, &id).await["state"], "removed");
}

#[tokio::test]
async fn an_appeal_decision_is_verified_kept_on_the_notice_and_told_in_the_timeline() {
    let sim = sim().await;
    let t = app(&sim).await;
    sim.set_coop_callbacks(
        "snapchat",
        Some(t.url("/callbacks/coop/snapchat")),
        Some(t.url("/callbacks/coop/snapchat/appeal")),
    )
    .unwrap();
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (id, item) = delivered(&t, &tok).await;
    let appeal = |verdict| AppealDecision {
        appeal_id: "appeal-1".into(),
        item_id: item.clone(),
        appealed_by: ItemIdentifier {
            id: "author-7".into(),
            type_id: "user".into(),
        },
        appeal_decision: verdict,
        custom: None,
        type_name: None,
    };
    // nothing decided yet: nothing to appeal
    let out = sim
        .decide_appeal("snapchat", appeal(AppealVerdict::Accept))
        .await
        .unwrap();
    assert_eq!(out.attempts.last().unwrap().status, Some(409), "{out:?}");
    assert!(notice(&t, &tok, &id).await["appeal"].is_null());
    sim.decide("snapchat", Decision::for_item(item.clone(), "delete"))
        .await
        .unwrap();
    // a forged signature is refused, nothing kept
    let (status, _) = post_raw(
        &t,
        "/callbacks/coop/snapchat/appeal",
        &out.body,
        Some("AAAA"),
    )
    .await;
    assert_eq!(status, 401);
    assert!(notice(&t, &tok, &id).await["appeal"].is_null());
    // the author's appeal accepted: the platform reversed its removal
    let out = sim
        .decide_appeal("snapchat", appeal(AppealVerdict::Accept))
        .await
        .unwrap();
    assert_eq!(out.attempts.last().unwrap().status, Some(200), "{out:?}");
    let n = notice(&t, &tok, &id).await;
    assert_eq!(
        (n["appeal"].as_str(), n["state"].as_str()),
        (Some("accepted"), Some("removed"))
    );
    assert!(
        !n.to_string().contains("author-7"),
        "who appealed is not kept"
    );
    // retried: answered alike, recorded once
    let (status, body) = post_raw(
        &t,
        "/callbacks/coop/snapchat/appeal",
        &out.body,
        Some(&out.signature),
    )
    .await;
    assert_eq!((status, body["recorded"].as_bool()), (200, Some(false)));
    let events: Vec<_> = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "notice.appeal_decided")
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].detail, "accepted=1");
}
