//! A referral sent by e-mail and a node killed: the transmission was acknowledged while the
//! SMTP server was down (its mail queued, the first attempt failed and due again), the node
//! is SIGKILLed, the mail server comes up, the node restarts — and the mail leaves, once,
//! with the bytes stored at the transmission.

use crate::support::*;
use crate::until;
use serde_json::{Value, json};

const EMAIL: &str = "c@fault-mail.invalid";
const PASSWORD: &str = "a long enough passphrase";

async fn referral(http: &reqwest::Client, base: &str, token: &str, case: &str) -> Value {
    let v: Value = http
        .get(format!("{base}/api/v1/cases/{case}/referrals"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v[0].clone()
}

#[tokio::test]
async fn a_queued_referral_mail_survives_a_killed_node_and_leaves_once() {
    let dir = tmp("fault-referral-mail");
    let hours = always_open(&dir);
    let env = node_env(&format!("sqlite://{}/rempart.db", dir.display()), &hours);
    // a port where no mail server listens yet
    let smtp_port = free_port().to_string();
    let extra = [
        ("REMPART_SMTP_HOST", "127.0.0.1"),
        ("REMPART_SMTP_PORT", smtp_port.as_str()),
        ("REMPART_SMTP_TLS", "none"),
        ("REMPART_SMTP_TIMEOUT_SECONDS", "5"),
        ("REMPART_DELIVERY_POLL_MS", "50"),
        ("REMPART_DELIVERY_RETRY_BASE_MS", "500"),
    ];
    user_add(&env, EMAIL, "counsellor", PASSWORD);
    let http = reqwest::Client::new();
    let node = serve(&env, &extra).await;
    let token = login(&http, &node.base, EMAIL, PASSWORD).await;
    let case = post_ok(
        &http,
        format!("{}/api/v1/cases", node.base),
        &token,
        json!({"title": "orientation", "categories": ["intimate_images"], "age_band": "15_17"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = |base: &str, p: &str| format!("{base}/api/v1/cases/{case}{p}");
    let fp = post_ok(
        &http,
        api(&node.base, "/evidence/fingerprints"),
        &token,
        json!({"sha256": "ab".repeat(32), "url": "https://example.org/p/1", "sexual_image_of_minor": true}),
    )
    .await["evidence"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = post_ok(
        &http,
        api(&node.base, "/referrals"),
        &token,
        json!({"service": "pharos"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post_ok(
        &http,
        api(&node.base, &format!("/referrals/{id}/basis")),
        &token,
        json!({"basis": "guardian", "consent_by": "sa mère", "consent_scope": "Pharos"}),
    )
    .await;
    let sent = post_ok(
        &http,
        api(&node.base, &format!("/referrals/{id}/transmission")),
        &token,
        json!({"evidence": [fp], "recipient": "signalement@pharos.example", "channel": "email", "by_email": true}),
    )
    .await;
    assert_eq!(sent["mail"]["state"], "queued");
    let message_id = sent["mail"]["message_id"].as_str().unwrap().to_owned();
    // the first attempt fails (nothing listens) and the mail waits for the next
    until(20, "a first failed attempt", || async {
        let r = referral(&http, &node.base, &token, &case).await;
        r["mail"]["attempts"].as_i64().unwrap_or(0) >= 1 && r["mail"]["state"] == "queued"
    })
    .await;
    drop(node); // SIGKILL

    // the mail server comes up on that port; the node restarts
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", smtp_port.parse::<u16>().unwrap()))
        .await
        .unwrap();
    let mailbox = rempart_platform_sim::mailbox::spawn_mailbox(listener, dir.join("mail")).unwrap();
    let node = serve(&env, &extra).await;
    let token = login(&http, &node.base, EMAIL, PASSWORD).await;
    until(30, "the mail sent after the restart", || async {
        referral(&http, &node.base, &token, &case).await["mail"]["state"] == "sent"
    })
    .await;
    assert_eq!(mailbox.received(), 1, "sent once");
    let eml = std::fs::read_to_string(dir.join("mail/0001.eml")).unwrap();
    assert!(
        eml.contains(&format!("Message-ID: {message_id}")),
        "the stored bytes"
    );
    assert!(eml.contains(&"ab".repeat(32)[..40]), "the fingerprint");
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}
