//! A referral sent by e-mail from the helpline, end to end against a real SMTP server
//! (aiosmtpd, see support/smtp.rs): the transmission stores the mail and its job with the
//! custody events; the server receives exactly those bytes — the offences, the basis, the
//! evidence shared as words and JSON, URLs and fingerprints and never a file (the
//! screenshot's bytes are nowhere in the mail); a 4xx is retried after its backoff and sent
//! once, a 5xx fails the mail with its reason (shown on the case page, audited); without an
//! SMTP host, or with a recipient that is no address, the transmission is refused and
//! nothing changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/smtp.rs"]
mod smtp;
mod support;

use rempart_domain::policy::Role;
use serde_json::{Value, json};
use smtp::{Options, Server};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::*;

const NOTICES: &str = "signalements@rempart.invalid";

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rempart-referral-mail-{test}-{}-{}",
        std::process::id(),
        rempart_app::random_hex(4).unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn app(server: Option<&Server>) -> TestApp {
    let port = server.map(|s| s.port);
    TestApp::spawn_with(move |s| {
        s.helpline.notices_email = NOTICES.into();
        s.delivery.retry_base_ms = 60_000;
        s.delivery.max_attempts = 3;
        s.delivery.poll_ms = 20;
        if let Some(port) = port {
            s.smtp.host = "127.0.0.1".into();
            s.smtp.port = port;
            s.smtp.tls = rempart_app::settings::SmtpTls::None;
            s.smtp.timeout_seconds = 10;
            s.smtp.hello_name = "rempart.test".into();
        }
    })
    .await
}

/// A case with a screenshot, fingerprints only of a sexual image and an excerpt, and a
/// referral to Pharos with the guardian's consent; returns (case, referral, evidence ids,
/// the screenshot's bytes).
async fn prepared(t: &TestApp, token: &str) -> (String, String, Vec<String>, Vec<u8>) {
    let case = t.new_case(token, "orientation par courriel").await;
    let png = rempart_media::testing::phone_png(320, 240, 3);
    let form = reqwest::multipart::Form::new()
        .text("kind", "screenshot")
        .part(
            "file",
            reqwest::multipart::Part::bytes(png.clone()).file_name("capture.png"),
        );
    let (status, shot) = upload_evidence(t, token, &case, form).await;
    assert_eq!(status, 201, "{shot}");
    let fp: Value = t
        .post_json(
            &format!("/api/v1/cases/{case}/evidence/fingerprints"),
            Some(token),
            json!({"sha256": "ab".repeat(32), "md5": "cd".repeat(16), "pdq": "ef".repeat(32),
                   "pdq_quality": 90, "url": "https://example.org/post/1",
                   "description": "Image diffusée", "sexual_image_of_minor": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let ex: Value = t
        .post_json(
            &format!("/api/v1/cases/{case}/evidence/notes"),
            Some(token),
            json!({"kind": "excerpt", "excerpt": "« Envoie-moi 200 € ou je publie tout »"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = [&shot, &fp, &ex]
        .iter()
        .map(|v| {
            v["evidence"]["id"]
                .as_str()
                .expect("an evidence id")
                .to_owned()
        })
        .collect();
    let pharos = t
        .app
        .directory()
        .services()
        .iter()
        .find(|s| s.kind == rempart_domain::directory::ServiceKind::Pharos)
        .unwrap()
        .code
        .clone();
    let r: Value = t
        .post_json(
            &format!("/api/v1/cases/{case}/referrals"),
            Some(token),
            json!({"service": pharos}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = r["id"].as_str().unwrap().to_owned();
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/referrals/{id}/basis"),
            Some(token),
            json!({"basis": "guardian", "consent_by": "sa mère", "consent_scope": "signalement à Pharos"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    (case, id, ids, png)
}

/// What the server answers: `STAGE:TIMES:REPLY` specs (see smtp_server.py).
fn failing(fail: Vec<&'static str>) -> Options {
    Options {
        fail,
        ..Default::default()
    }
}

/// The application pointed at `server`, a counsellor and a referral ready to transmit.
struct Ready {
    t: TestApp,
    c: rempart_storage::StaffRecord,
    tok: String,
    case: String,
    id: String,
    ids: Vec<String>,
    png: Vec<u8>,
}

async fn ready(server: Option<&Server>) -> Ready {
    let t = app(server).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (case, id, ids, png) = prepared(&t, &tok).await;
    Ready {
        t,
        c,
        tok,
        case,
        id,
        ids,
        png,
    }
}

async fn transmit(
    t: &TestApp,
    token: &str,
    case: &str,
    id: &str,
    body: Value,
) -> reqwest::Response {
    t.post_json(
        &format!("/api/v1/cases/{case}/referrals/{id}/transmission"),
        Some(token),
        body,
    )
    .await
}

async fn referral(t: &TestApp, token: &str, case: &str, id: &str) -> Value {
    let all: Vec<Value> = t
        .get(&format!("/api/v1/cases/{case}/referrals"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    all.into_iter().find(|r| r["id"] == id).unwrap()
}

async fn until(
    t: &TestApp,
    token: &str,
    case: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = referral(t, token, case, id).await;
        if done(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "{what}: {r}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn actions(t: &TestApp) -> Vec<(String, String)> {
    t.store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.detail))
        .collect()
}

#[tokio::test]
async fn a_referral_goes_by_e_mail_with_fingerprints_and_urls_never_a_file() {
    let test = "a_referral_goes_by_e_mail_with_fingerprints_and_urls_never_a_file";
    let dir = temp_dir("sent");
    let Some(server) = Server::start(test, &dir, Options::default()) else {
        return;
    };
    let Ready {
        t,
        c,
        tok,
        case,
        id,
        ids,
        png,
    } = ready(Some(&server)).await;
    let r = transmit(
        &t,
        &tok,
        &case,
        &id,
        json!({"evidence": ids, "recipient": "signalements@pharos.example", "channel": "email",
               "note": "Diffusion d'une image intime d'une mineure de 15 ans.", "by_email": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let sent = until(&t, &tok, &case, &id, "sent", |r| {
        r["mail"]["state"] == "sent"
    })
    .await;
    assert_eq!(sent["state"], "sent");
    assert_eq!(sent["mail"]["attempts"], 1);
    assert!(sent["mail"]["sent_at"].is_i64());
    assert_eq!(server.received(), 1);
    let (eml, record) = server.message(1);
    let stored = t.store.referral_by_id(&id).await.unwrap().unwrap();
    assert_eq!(
        eml,
        stored.mail.as_ref().unwrap().bytes.as_bytes(),
        "the stored bytes, as they are"
    );
    assert_eq!(record["headers"]["Message-ID"], sent["mail"]["message_id"]);
    assert!(
        record["headers"]["Reply-To"]
            .as_str()
            .unwrap()
            .contains("signalements+")
    );
    let parts = record["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "a text and a JSON: {parts:?}");
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(parts[1]["content_type"], "application/json");
    let text = String::from_utf8(server.part(parts[0]["file"].as_str().unwrap())).unwrap();
    for must in [
        "Madame, Monsieur,",
        "Preuve n° 1",
        "ab".repeat(32).as_str(),
        "cd".repeat(16).as_str(),
        "https://example.org/post/1",
        "Envoie-moi 200 € ou je publie tout",
        "sa mère",
        "Diffusion d'une image intime",
        "Aucune image",
    ] {
        assert!(text.contains(must), "the mail lacks {must:?}:\n{text}");
    }
    let shot_sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&png))
    };
    assert!(text.contains(&shot_sha), "the screenshot's fingerprint");
    let attached: Value =
        serde_json::from_slice(&server.part(parts[1]["file"].as_str().unwrap())).unwrap();
    assert_eq!(attached["format"], "rempart-referral/1");
    assert_eq!(attached["evidence"].as_array().unwrap().len(), 3);
    // no file: not the screenshot's bytes, not even a piece of them
    let needle = &png[png.len() / 2..png.len() / 2 + 64];
    assert!(!eml.windows(needle.len()).any(|w| w == needle));
    assert!(
        !String::from_utf8_lossy(&eml).contains("image/"),
        "no image part"
    );
    // custody: one transmission per piece, then the mail's delivery
    let trail = actions(&t).await;
    let transmitted = trail
        .iter()
        .filter(|(a, d)| a == "evidence.transmitted" && d.contains(&id))
        .count();
    assert_eq!(transmitted, 3);
    assert!(
        trail
            .iter()
            .any(|(a, d)| a == "referral.mail_sent" && d == "attempt=1")
    );
    // a later change (acknowledged) keeps the mail as it stands
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/referrals/{id}/events"),
            Some(&tok),
            json!({"event": "acknowledge"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let after = referral(&t, &tok, &case, &id).await;
    assert_eq!(after["mail"]["state"], "sent");
    assert_eq!(after["mail"]["attempts"], 1);
    assert_eq!(after["mail"]["sent_at"], sent["mail"]["sent_at"]);
    // the case page says so
    let (cookie, _) = t.console_login(&c).await;
    let (status, html) = t.page(&cookie, &format!("/cases/{case}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-state=\"sent\""),
        "the mail's state on the page"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_4xx_is_retried_and_sent_once_a_5xx_fails_the_mail() {
    let test = "a_4xx_is_retried_and_sent_once_a_5xx_fails_the_mail";
    let dir = temp_dir("retry");
    let Some(server) = Server::start(
        test,
        &dir,
        failing(vec!["rcpt:1:451 4.3.0 Try again later"]),
    ) else {
        return;
    };
    let Ready {
        t,
        c: _,
        tok,
        case,
        id,
        ids,
        png: _,
    } = ready(Some(&server)).await;
    let r = transmit(
        &t,
        &tok,
        &case,
        &id,
        json!({"evidence": ids, "recipient": "signalements@pharos.example", "channel": "email",
               "by_email": true, "lang": "en"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = until(&t, &tok, &case, &id, "first attempt refused", |r| {
        r["mail"]["error"] == "smtp_451"
    })
    .await;
    assert_eq!(r["mail"]["state"], "queued");
    assert_eq!(server.received(), 0);
    let job = t
        .store
        .job_by_key(&format!("referral:{id}:mail"))
        .await
        .unwrap()
        .unwrap();
    assert!(job.run_at > t.app.now(), "due again later, not at once");
    t.clock.advance(job.run_at - t.app.now() + 1);
    let r = until(&t, &tok, &case, &id, "sent on the retry", |r| {
        r["mail"]["state"] == "sent"
    })
    .await;
    assert_eq!(r["mail"]["attempts"], 2);
    assert_eq!(server.received(), 1, "accepted once");
    let (_, record) = server.message(1);
    assert_eq!(record["headers"]["Content-Language"], "en");
    drop(server);

    // a server that refuses for good
    let dir5 = temp_dir("refused");
    let Some(server) = Server::start(test, &dir5, failing(vec!["data:0:554 5.7.1 Rejected"]))
    else {
        return;
    };
    let Ready {
        t,
        c,
        tok,
        case,
        id,
        ids,
        png: _,
    } = ready(Some(&server)).await;
    let r = transmit(
        &t,
        &tok,
        &case,
        &id,
        json!({"evidence": ids, "recipient": "signalements@pharos.example", "channel": "email", "by_email": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = until(&t, &tok, &case, &id, "failed", |r| {
        r["mail"]["state"] == "failed"
    })
    .await;
    assert_eq!(r["mail"]["error"], "smtp_554");
    assert_eq!(server.received(), 0);
    let trail = actions(&t).await;
    assert!(
        trail
            .iter()
            .any(|(a, d)| a == "referral.mail_failed" && d == "reason=smtp_554")
    );
    let (cookie, _) = t.console_login(&c).await;
    let (_, html) = t.page(&cookie, &format!("/cases/{case}")).await;
    assert!(html.contains("data-state=\"failed\"") && html.contains("smtp_554"));
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(dir5);
}

#[tokio::test]
async fn without_smtp_or_an_address_the_transmission_is_refused_and_nothing_changes() {
    let t = app(None).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (case, id, ids, _) = prepared(&t, &tok).await;
    let before = referral(&t, &tok, &case, &id).await;
    let jobs_before = t.store.job_counts("referral_mail").await.unwrap();
    let trail_before = actions(&t).await.len();
    for (body, field) in [
        (
            json!({"evidence": ids, "recipient": "signalements@pharos.example", "channel": "email", "by_email": true}),
            "by_email",
        ),
        (
            json!({"evidence": ids, "recipient": "signalements@pharos.example", "channel": "portal", "by_email": true}),
            "by_email",
        ),
        (
            json!({"evidence": ids, "recipient": "x", "channel": "email", "by_email": true, "lang": "de"}),
            "lang",
        ),
    ] {
        let r = transmit(&t, &tok, &case, &id, body).await;
        assert_eq!(r.status(), 422);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "invalid_field", "{v}");
        assert!(v["message"].as_str().unwrap().contains(field), "{v}");
    }
    assert_eq!(referral(&t, &tok, &case, &id).await, before);
    assert_eq!(
        t.store.job_counts("referral_mail").await.unwrap(),
        jobs_before
    );
    assert_eq!(actions(&t).await.len(), trail_before, "nothing audited");
}

#[tokio::test]
async fn a_recipient_that_is_no_address_is_refused_with_smtp_on() {
    let test = "a_recipient_that_is_no_address_is_refused_with_smtp_on";
    let dir = temp_dir("address");
    let Some(server) = Server::start(test, &dir, Options::default()) else {
        return;
    };
    let Ready {
        t,
        c: _,
        tok,
        case,
        id,
        ids,
        png: _,
    } = ready(Some(&server)).await;
    let before = referral(&t, &tok, &case, &id).await;
    let r = transmit(
        &t,
        &tok,
        &case,
        &id,
        json!({"evidence": ids, "recipient": "la brigade des mineurs", "channel": "email", "by_email": true}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("recipient"), "{v}");
    assert_eq!(referral(&t, &tok, &case, &id).await, before);
    // without by_email the same words are a transmission recorded by hand, no mail
    let r = transmit(
        &t,
        &tok,
        &case,
        &id,
        json!({"evidence": ids, "recipient": "la brigade des mineurs", "channel": "phone"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert!(r["mail"].is_null());
    assert_eq!(server.received(), 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_referral_cancelled_while_its_mail_waits_sends_nothing() {
    let test = "a_referral_cancelled_while_its_mail_waits_sends_nothing";
    let dir = temp_dir("cancel");
    let Some(server) = Server::start(
        test,
        &dir,
        failing(vec!["rcpt:0:451 4.3.0 Try again later"]),
    ) else {
        return;
    };
    let Ready {
        t,
        c: _,
        tok,
        case,
        id,
        ids,
        png: _,
    } = ready(Some(&server)).await;
    let r = transmit(
        &t,
        &tok,
        &case,
        &id,
        json!({"evidence": ids, "recipient": "mauvaise@adresse.example", "channel": "email", "by_email": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    until(&t, &tok, &case, &id, "a first refused attempt", |r| {
        r["mail"]["error"] == "smtp_451"
    })
    .await;
    // the counsellor sees the wrong address and cancels
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/referrals/{id}/events"),
            Some(&tok),
            json!({"event": "cancel"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = referral(&t, &tok, &case, &id).await;
    assert_eq!(r["state"], "cancelled");
    assert_eq!(r["mail"]["state"], "failed");
    assert_eq!(r["mail"]["error"], "cancelled");
    // its job comes due: it ends, and nothing leaves
    let job = t
        .store
        .job_by_key(&format!("referral:{id}:mail"))
        .await
        .unwrap()
        .unwrap();
    t.clock.advance(job.run_at - t.app.now() + 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let j = t
            .store
            .job_by_key(&format!("referral:{id}:mail"))
            .await
            .unwrap()
            .unwrap();
        if j.state != rempart_storage::JobState::Pending {
            break;
        }
        assert!(Instant::now() < deadline, "the job did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.received(), 0);
    assert_eq!(
        referral(&t, &tok, &case, &id).await["mail"]["state"],
        "failed"
    );
    let _ = std::fs::remove_dir_all(dir);
}
