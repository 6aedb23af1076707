//! The Coop simulator over real HTTP: reports, authentication, validation, duplicates, and
//! signed action and appeal callbacks reaching a real local receiver.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use rempart_platform_sim::{
    AppealDecision, AppealVerdict, AutoDecide, Decision, Faults, ItemIdentifier, Penalty, Policy,
};
use serde_json::{Value, json};

#[tokio::test]
async fn a_valid_report_is_created_and_recorded() {
    let sim = start(vec![coop("snapchat")]).await;
    let body = report_body("post-1");
    let res = post_report(&sim, "snapchat", &body).await;
    assert_eq!(res.status(), 201);
    let answer: Value = res.json().await.unwrap();
    let report_id = answer["reportId"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&report_id).is_ok());

    let got = sim.received("snapchat").unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, report_id);
    assert_eq!(got[0].item_id.as_deref(), Some("post-1"));
    assert_eq!(got[0].body, body);
    assert!(!got[0].headers.contains_key("x-api-key"));

    // the same through the control endpoints
    let c = client();
    let listed: Value = c
        .get(format!("{}/control/snapchat/reports", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["reports"][0]["id"], json!(report_id));
    assert_eq!(listed["reports"][0]["body"], body);
    let stats: Value = c
        .get(format!("{}/control/stats", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["platforms"]["snapchat"]["received"], 1);
    assert_eq!(stats["platforms"]["snapchat"]["unique"], 1);
    assert_eq!(stats["platforms"]["snapchat"]["duplicates"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_and_nothing_is_recorded() {
    let sim = start(vec![coop("snapchat")]).await;
    let url = format!("{}/api/v1/report", sim.coop_base_url("snapchat"));
    let body = report_body("post-1");
    let missing = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let err: Value = missing.json().await.unwrap();
    assert_eq!(err["errors"][0]["status"], 401);
    let wrong = client()
        .post(&url)
        .header("x-api-key", "coop-key-2")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let prefix = client()
        .post(&url)
        .header("x-api-key", "coop-key-")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(prefix.status(), 401);
    assert!(sim.received("snapchat").unwrap().is_empty());
    let stats = sim.stats();
    assert_eq!(stats.platforms["snapchat"].received, 0);
    assert_eq!(stats.platforms["snapchat"].rejected["unauthorized"], 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let sim = start(vec![coop("snapchat")]).await;
    let res = client()
        .post(format!("{}/api/v1/report", sim.coop_base_url("snapchat")))
        .header("x-api-key", API_KEY)
        .header("content-type", "text/plain")
        .body(report_body("post-1").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert!(sim.received("snapchat").unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn invalid_bodies_are_400_with_a_pointer_and_nothing_is_recorded() {
    let sim = start(vec![coop("snapchat")]).await;
    let mut no_reporter = report_body("post-1");
    no_reporter.as_object_mut().unwrap().remove("reporter");
    let mut bad_date = report_body("post-1");
    bad_date["reportedAt"] = json!("1 December 2026");
    let mut no_data = report_body("post-1");
    no_data["reportedItem"]
        .as_object_mut()
        .unwrap()
        .remove("data");
    let mut org = report_body("post-1");
    org["reporter"]["kind"] = json!("organisation");
    let cases = [
        (no_reporter, "/reporter"),
        (bad_date, "/reportedAt"),
        (no_data, "/reportedItem/data"),
        (org, "/reporter/kind"),
        (json!([1, 2]), ""),
    ];
    for (body, pointer) in cases {
        let res = post_report(&sim, "snapchat", &body).await;
        assert_eq!(res.status(), 400, "{pointer}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["errors"][0]["pointer"], json!(pointer));
        assert_eq!(err["errors"][0]["type"][0], "/errors/invalid-user-input");
    }
    let malformed = client()
        .post(format!("{}/api/v1/report", sim.coop_base_url("snapchat")))
        .header("x-api-key", API_KEY)
        .header("content-type", "application/json")
        .body("{\"reporter\":")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert!(sim.received("snapchat").unwrap().is_empty());
    assert_eq!(sim.stats().platforms["snapchat"].rejected["invalid"], 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let sim = start(vec![coop("snapchat")]).await;
    let mut body = report_body("post-1");
    body["reportedItem"]["data"]["text"] = json!("x".repeat(1024 * 1024 + 1));
    let res = post_report(&sim, "snapchat", &body).await;
    assert_eq!(res.status(), 413);
    assert!(sim.received("snapchat").unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeated_report_is_a_second_report_counted_as_a_duplicate() {
    let sim = start(vec![coop("snapchat")]).await;
    // concurrently, as a sender retrying in a hurry would
    let sends = (0..8).map(|i| {
        let body = report_body(if i < 6 { "post-1" } else { "post-2" });
        let sim = &sim;
        async move { post_report(sim, "snapchat", &body).await }
    });
    let answers = futures_util::future::join_all(sends).await;
    let mut ids = std::collections::HashSet::new();
    for res in answers {
        assert_eq!(res.status(), 201);
        let v: Value = res.json().await.unwrap();
        ids.insert(v["reportId"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 8, "every POST creates its own report");
    let s = &sim.stats().platforms["snapchat"];
    assert_eq!((s.received, s.unique, s.duplicates), (8, 2, 6));
    sim.shutdown().await;
}

fn verify(sim: &rempart_platform_sim::SimHandle, got: &Got) -> bool {
    let pem = sim.coop_public_key_pem("snapchat").unwrap();
    let sig = got.headers["coop-signature"].to_str().unwrap();
    coop_signature_ok(&pem, &got.body, sig)
}

#[tokio::test]
async fn a_decision_reaches_the_callback_signed_with_the_published_key() {
    let mut receiver = Receiver::start(&[]).await;
    let mut p = coop("snapchat");
    coop_config(&mut p).callback_url = Some(receiver.url("/callback"));
    let sim = start(vec![p]).await;
    post_report(&sim, "snapchat", &report_body("post-1")).await;

    let mut decision = Decision::for_item("post-1", "delete");
    decision.policies = vec![Policy {
        id: "harassment".into(),
        name: "Harassment".into(),
        penalty: Penalty::High,
    }];
    decision.actor_email = Some("moderator@platform.example".into());
    decision.actor_note = Some("removed".into());
    decision.type_name = Some("Post".into());
    let outcome = sim.decide("snapchat", decision).await.unwrap();
    assert!(outcome.delivered);
    assert_eq!(outcome.attempts.len(), 1);
    assert_eq!(outcome.attempts[0].status, Some(200));

    let got = receiver.next().await;
    assert_eq!(got.body, outcome.body.as_bytes());
    assert_eq!(got.headers["content-type"], "application/json");
    // the published key, from the control endpoint too
    let pem = client()
        .get(format!(
            "{}/control/coop/snapchat/public-key",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(Some(pem), sim.coop_public_key_pem("snapchat"));
    assert!(verify(&sim, &got));
    let mut tampered = got.clone();
    tampered.body = String::from_utf8(got.body.to_vec())
        .unwrap()
        .replace("post-1", "post-2")
        .into();
    assert!(!verify(&sim, &tampered));

    let v: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        v,
        json!({
            "item": { "id": "post-1", "typeId": "post", "typeName": "Post" },
            "action": { "id": "delete" },
            "policies": [ { "id": "harassment", "name": "Harassment", "penalty": "HIGH" } ],
            "actorEmail": "moderator@platform.example",
            "actorNote": "removed"
        })
    );
    let cb = &sim.stats().platforms["snapchat"].callbacks;
    assert_eq!((cb.decisions, cb.attempts, cb.delivered), (1, 1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn wrong_signature_makes_verification_fail() {
    let mut receiver = Receiver::start(&[]).await;
    let mut p = coop("snapchat");
    coop_config(&mut p).callback_url = Some(receiver.url("/callback"));
    let sim = start(vec![p.with_faults(Faults {
        wrong_signature: true,
        ..Faults::none()
    })])
    .await;
    let res = post_report(&sim, "snapchat", &report_body("post-1")).await;
    let report_id = res.json::<Value>().await.unwrap()["reportId"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.decide("snapchat", Decision::for_report(report_id, "delete"))
        .await
        .unwrap();
    let got = receiver.next().await;
    assert!(got.headers.contains_key("coop-signature"));
    assert!(!verify(&sim, &got));

    sim.set_faults("snapchat", Faults::none()).unwrap();
    sim.decide("snapchat", Decision::for_item("post-1", "delete"))
        .await
        .unwrap();
    assert!(verify(&sim, &receiver.next().await));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_callback_is_retried_with_the_same_body_and_signature() {
    let mut receiver = Receiver::start(&[500, 503]).await;
    let mut p = coop("snapchat");
    coop_config(&mut p).callback_url = Some(receiver.url("/callback"));
    let sim = start(vec![p]).await;
    post_report(&sim, "snapchat", &report_body("post-1")).await;
    let outcome = sim
        .decide("snapchat", Decision::for_item("post-1", "delete"))
        .await
        .unwrap();
    let statuses: Vec<_> = outcome.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(503), Some(200)]);
    assert!(outcome.delivered);
    let first = receiver.next().await;
    for _ in 0..2 {
        let again = receiver.next().await;
        assert_eq!(again.body, first.body);
        assert_eq!(
            again.headers["coop-signature"],
            first.headers["coop-signature"]
        );
    }
    let cb = &sim.stats().platforms["snapchat"].callbacks;
    assert_eq!(cb.answers["500"], 1);
    assert_eq!(cb.answers["503"], 1);
    assert_eq!(cb.answers["200"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_callback_is_given_up_after_five_retries() {
    let receiver = Receiver::start(&[500; 10]).await;
    let mut p = coop("snapchat");
    coop_config(&mut p).callback_url = Some(receiver.url("/callback"));
    let sim = start(vec![p]).await;
    post_report(&sim, "snapchat", &report_body("post-1")).await;
    let outcome = sim
        .decide("snapchat", Decision::for_item("post-1", "delete"))
        .await
        .unwrap();
    assert_eq!(outcome.attempts.len(), 6);
    assert!(!outcome.delivered);
    assert_eq!(sim.stats().platforms["snapchat"].callbacks.failed, 1);

    // a receiver that is not listening at all: errors, no status
    sim.set_coop_callbacks("snapchat", Some("http://127.0.0.1:9/callback".into()), None)
        .unwrap();
    let outcome = sim
        .decide("snapchat", Decision::for_item("post-1", "delete"))
        .await
        .unwrap();
    assert!(
        outcome
            .attempts
            .iter()
            .all(|a| a.status.is_none() && a.error.is_some())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_appeal_decision_reaches_the_appeal_callback() {
    let mut receiver = Receiver::start(&[]).await;
    let mut p = coop("snapchat");
    coop_config(&mut p).appeal_callback_url = Some(receiver.url("/appeal"));
    let sim = start(vec![p]).await;
    post_report(&sim, "snapchat", &report_body("post-1")).await;
    let outcome = sim
        .decide_appeal(
            "snapchat",
            AppealDecision {
                appeal_id: "appeal-1".into(),
                item_id: "post-1".into(),
                appealed_by: ItemIdentifier {
                    id: "author-9".into(),
                    type_id: "user".into(),
                },
                appeal_decision: AppealVerdict::Reject,
                custom: None,
                type_name: None,
            },
        )
        .await
        .unwrap();
    assert!(outcome.delivered);
    let got = receiver.next().await;
    assert!(verify(&sim, &got));
    let v: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        v,
        json!({
            "appealId": "appeal-1",
            "item": { "id": "post-1", "typeId": "post", "typeName": "post" },
            "appealedBy": { "id": "author-9", "typeId": "user" },
            "appealDecision": "REJECT"
        })
    );
    // no action callback URL configured
    let err = sim
        .decide("snapchat", Decision::for_item("post-1", "delete"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "no_callback_url");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_automatic_decision_comes_back_after_the_delay() {
    let mut receiver = Receiver::start(&[]).await;
    let mut p = coop("snapchat");
    let c = coop_config(&mut p);
    c.callback_url = Some(receiver.url("/callback"));
    c.auto_decide = Some(AutoDecide {
        delay: Duration::from_millis(50),
        action_id: "delete".into(),
    });
    let sim = start(vec![p]).await;
    post_report(&sim, "snapchat", &report_body("post-7")).await;
    let got = receiver.next().await;
    assert!(verify(&sim, &got));
    let v: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(v["item"]["id"], "post-7");
    assert_eq!(v["action"]["id"], "delete");
    sim.wait_for(Duration::from_secs(5), |s| {
        s.platforms["snapchat"].callbacks.delivered == 1
    })
    .await
    .unwrap();
    assert_eq!(sim.callbacks("snapchat").unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_control_endpoint_triggers_a_decision() {
    let mut receiver = Receiver::start(&[]).await;
    let mut p = coop("snapchat");
    coop_config(&mut p).callback_url = Some(receiver.url("/callback"));
    let sim = start(vec![p]).await;
    post_report(&sim, "snapchat", &report_body("post-1")).await;
    let c = client();
    let res = c
        .post(format!("{}/control/coop/snapchat/decide", sim.base_url()))
        .json(&json!({ "itemId": "post-1", "actionId": "suspend", "actorNote": "note" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let outcome: Value = res.json().await.unwrap();
    assert_eq!(outcome["delivered"], true);
    let got = receiver.next().await;
    let v: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(v["action"]["id"], "suspend");
    assert_eq!(v["actorNote"], "note");
    assert!(verify(&sim, &got));

    let unknown = c
        .post(format!("{}/control/coop/snapchat/decide", sim.base_url()))
        .json(&json!({ "itemId": "post-404", "actionId": "suspend" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let listed: Value = c
        .get(format!(
            "{}/control/coop/snapchat/callbacks",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["callbacks"].as_array().unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn each_key_source_signs_with_the_key_it_publishes() {
    use rempart_platform_sim::CoopKey;
    use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
    let mut receiver = Receiver::start(&[]).await;
    let own =
        tokio::task::spawn_blocking(|| rsa::RsaPrivateKey::new(&mut rand::rng(), 2048).unwrap())
            .await
            .unwrap();
    let own_pem = own.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let own_public = rsa::RsaPublicKey::from(&own)
        .to_public_key_pem(LineEnding::LF)
        .unwrap();

    let mut generated = coop("generated");
    coop_config(&mut generated).key = CoopKey::Generate;
    let mut given = coop("given");
    coop_config(&mut given).key = CoopKey::Pkcs8Pem(own_pem);
    let mut platforms = vec![coop("shared"), generated, given];
    for p in &mut platforms {
        coop_config(p).callback_url = Some(receiver.url("/callback"));
    }
    let sim = start(platforms).await;
    let shared = sim.coop_public_key_pem("shared").unwrap();
    let generated = sim.coop_public_key_pem("generated").unwrap();
    assert_eq!(sim.coop_public_key_pem("given"), Some(own_public));
    assert_ne!(shared, generated);
    for code in ["shared", "generated", "given"] {
        post_report(&sim, code, &report_body("post-1")).await;
        sim.decide(code, Decision::for_item("post-1", "delete"))
            .await
            .unwrap();
        let got = receiver.next().await;
        let pem = sim.coop_public_key_pem(code).unwrap();
        let sig = got.headers["coop-signature"].to_str().unwrap();
        assert!(coop_signature_ok(&pem, &got.body, sig), "{code}");
    }
    sim.shutdown().await;

    let mut broken = coop("broken");
    coop_config(&mut broken).key = CoopKey::Pkcs8Pem("-----BEGIN PRIVATE KEY-----\nAAAA\n".into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = rempart_platform_sim::spawn(
        rempart_platform_sim::SimConfig::with_platforms(vec![broken]),
        listener,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.code(), "key");
}
