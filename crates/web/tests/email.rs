//! E-mail notices end to end against a real SMTP server (aiosmtpd, run by the test: see
//! support/smtp.rs): marked ready, the notice's payload is its mail — shown in the API and,
//! readable, on the case page — and once sent, the server received exactly those bytes over
//! STARTTLS (dot-stuffing added by the client, removed by the server), with the Message-ID,
//! the Reply-To carrying the reference and the notice JSON attached; a 4xx is retried after
//! its backoff (as are a refused connection and a silent server), a 5xx moves the notice to
//! the next channel or fails it, a notice falling back to an e-mail channel gets its own
//! mail, and without an SMTP host the e-mail channel is skipped with `smtp_not_configured`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/smtp.rs"]
mod smtp;
mod support;

use rempart_app::settings::SmtpTls;
use rempart_domain::policy::Role;
use serde_json::{Value, json};
use smtp::{Options, Server};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::*;

const DIRECTORY: &str = r#"
[[platform]]
code = "mailonly"
name = "Mail Only"
lang = "fr"
expected_hours = 24
id_hint_fr = "lien"
id_hint_en = "link"

[[platform.channel]]
kind = "email"
address = "abuse@mailonly.example"

[[platform]]
code = "mailfirst"
name = "Mail First"
lang = "en"
expected_hours = 24
id_hint_fr = "lien"
id_hint_en = "link"

[[platform.channel]]
kind = "email"
address = "trust@mailfirst.example"

[[platform.channel]]
kind = "portal"
url = "https://mailfirst.example/report"

[[platform]]
code = "pushfirst"
name = "Push First"
lang = "en"
expected_hours = 24
id_hint_fr = "lien"
id_hint_en = "link"

[[platform.channel]]
kind = "http_json"
url = "http://127.0.0.1:9/hook"
secret = "pushfirst_not_on_this_node"

[[platform.channel]]
kind = "email"
address = "safety@pushfirst.example"
"#;

const NOTICES: &str = "signalements@rempart.invalid";

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rempart-email-{test}-{}-{}",
        std::process::id(),
        rempart_app::random_hex(4).unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The application with the test directory, its SMTP settings pointing at `server` (none:
/// no host, e-mail off).
async fn app(dir: &Path, server: Option<&Server>, tls: SmtpTls) -> TestApp {
    let file = dir.join("platforms.toml");
    std::fs::write(&file, DIRECTORY).unwrap();
    let smtp = server.map(|s| (s.port, s.ca_file.clone()));
    TestApp::spawn_with(move |s| {
        s.helpline.platforms_file = Some(file);
        s.helpline.notices_email = NOTICES.into();
        s.delivery.allow_local_endpoints = true;
        s.delivery.retry_base_ms = 60_000;
        s.delivery.max_attempts = 3;
        s.delivery.timeout_seconds = 5;
        s.delivery.poll_ms = 20;
        if let Some((port, ca)) = smtp {
            s.smtp.host = "127.0.0.1".into();
            s.smtp.port = port;
            s.smtp.tls = tls;
            s.smtp.timeout_seconds = 10;
            s.smtp.extra_root_pem_file = ca;
            s.smtp.hello_name = "rempart.test".into();
        }
    })
    .await
}

async fn post(t: &TestApp, path: &str, token: &str) -> reqwest::Response {
    t.req(reqwest::Method::POST, path, Some(token))
        .send()
        .await
        .unwrap()
}

async fn notice(t: &TestApp, token: &str, id: &str) -> Value {
    t.get(&format!("/api/v1/notices/{id}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

/// A case with one item on `platform`, its notice drafted (its explanation replaced when
/// `explanation` is given) and marked ready; returns (case, notice).
async fn ready(
    t: &TestApp,
    token: &str,
    platform: &str,
    explanation: Option<(&str, bool)>,
) -> (String, String) {
    let case = t.new_case(token, "e-mail").await;
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/items"),
            Some(token),
            json!({"platform": platform, "content_type": "post",
                   "url": format!("https://{platform}.example/p/123"), "native_id": "@harceleur"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let drafts: Vec<Value> = post(t, &format!("/api/v1/cases/{case}/notices"), token)
        .await
        .json()
        .await
        .unwrap();
    let id = drafts[0]["id"].as_str().unwrap().to_owned();
    if let Some((text, sexual)) = explanation {
        let r = t
            .put_json(
                &format!("/api/v1/notices/{id}"),
                Some(token),
                json!({"explanation": text, "sexual_images_of_minor": sexual}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let r = post(t, &format!("/api/v1/notices/{id}/ready"), token).await;
    assert_eq!(r.status(), 200, "ready");
    (case, id)
}

async fn send(t: &TestApp, token: &str, id: &str) {
    let r = post(t, &format!("/api/v1/notices/{id}/send"), token).await;
    assert_eq!(r.status(), 200, "send");
}

/// Waits until the notice satisfies `done` (each look reads the database; 10 s at most).
async fn until(
    t: &TestApp,
    token: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = notice(t, token, id).await;
        if done(&n) {
            return n;
        }
        assert!(Instant::now() < deadline, "{what}: {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The server's record of message `n` and its decoded parts: (eml, record, text, json).
fn arrived(server: &Server, n: usize) -> (Vec<u8>, Value, String, Value) {
    let (eml, record) = server.message(n);
    let parts = record["parts"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 2, "a text and the JSON: {parts:?}");
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(parts[0]["charset"], "utf-8");
    let text = String::from_utf8(server.part(parts[0]["file"].as_str().unwrap()))
        .unwrap()
        .replace("\r\n", "\n");
    assert_eq!(parts[1]["content_type"], "application/json");
    let json: Value =
        serde_json::from_slice(&server.part(parts[1]["file"].as_str().unwrap())).unwrap();
    (eml, record, text, json)
}

#[tokio::test]
async fn an_email_notice_leaves_over_starttls_as_the_bytes_shown() {
    let test = "an_email_notice_leaves_over_starttls_as_the_bytes_shown";
    let dir = temp_dir("starttls");
    let Some(server) = Server::start(
        test,
        &dir,
        Options {
            starttls: true,
            ..Default::default()
        },
    ) else {
        return;
    };
    let t = app(&dir, Some(&server), SmtpTls::Required).await;
    let a = t.staff(Role::Counsellor, Some("nord")).await;
    let b = t.staff(Role::Counsellor, Some("nord")).await;
    let ta = t.token(&a).await;
    let tb = t.token(&b).await;
    // lines that start with a dot: SMTP stuffs them, the server unstuffs them
    let explanation =
        "Chantage à la diffusion d'images intimes d'une mineure.\n.\n..suite après deux points";
    let (case, id) = ready(&t, &ta, "mailonly", Some((explanation, true))).await;

    // ready: the payload is the mail, fixed now and shown before sending
    let n = notice(&t, &ta, &id).await;
    assert_eq!(n["channel"], "email");
    let reference = n["reference"].as_str().unwrap().to_owned();
    let payload = n["payload"].as_str().unwrap().to_owned();
    let message_id = format!("<{reference}.{id}@rempart.invalid>");
    assert!(
        payload.contains(&format!("\r\nMessage-ID: {message_id}\r\n")),
        "{payload}"
    );
    assert!(payload.contains(&format!(
        "Reply-To: signalements+{reference}@rempart.invalid\r\n"
    )));
    assert!(payload.is_ascii(), "7-bit bytes");

    // the console shows it readable — headers and text decoded — and raw
    let (cookie, _) = t.console_login(&a).await;
    let html = t
        .http
        .get(t.url(&format!("/cases/{case}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // as the templates escape text
    let escaped = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;")
            .replace('/', "&#x2f;")
    };
    assert!(html.contains("<dt>Répondre à</dt>"));
    assert!(html.contains(&format!(
        "<code>{}</code>",
        escaped(&format!("notice-{reference}.json"))
    )));
    for shown in [
        format!("signalements+{reference}@rempart.invalid"),
        format!("Signalement {reference} : Cyberharcèlement — images sexuelles d'un mineur"),
        "(b) Emplacement électronique exact".to_owned(),
        "1. https://mailonly.example/p/123".to_owned(),
        "Le message exact (octets bruts, tels qu'ils partent)".to_owned(),
        format!("Message-ID: <{reference}.{id}@rempart.invalid>"),
    ] {
        assert!(
            html.contains(&escaped(&shown)),
            "the case page shows {shown}"
        );
    }
    // in English, the page's words change; the mail stays in the platform's language
    let html_en = t
        .http
        .get(t.url(&format!("/cases/{case}")))
        .header("cookie", format!("{cookie}; rempart_lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html_en.contains("<dt>Reply to</dt>"));
    assert!(html_en.contains("The exact message (raw bytes, as they leave)"));
    assert!(html_en.contains("(b) Emplacement électronique exact"));
    assert!(!html.contains("<dt>Reply to</dt>"));

    // sexual images of a minor: four eyes, then sent
    assert_eq!(
        post(&t, &format!("/api/v1/notices/{id}/validate"), &tb)
            .await
            .status(),
        200
    );
    send(&t, &ta, &id).await;
    let n = until(&t, &ta, &id, "delivered", |n| n["delivered_at"].is_i64()).await;
    assert_eq!(
        n["ticket"],
        message_id.as_str(),
        "the receipt is the Message-ID"
    );
    assert_eq!(n["attempts"], 1);
    assert_eq!(
        n["payload"],
        payload.as_str(),
        "the stored bytes did not change"
    );

    // what arrived is exactly what was stored and shown
    assert_eq!(server.received(), 1);
    let (eml, record, text, attached) = arrived(&server, 1);
    assert_eq!(
        eml,
        payload.as_bytes(),
        "the server got other bytes:\n{}",
        String::from_utf8_lossy(&eml)
    );
    assert!(
        payload.contains("\r\n."),
        "a line starts with a dot: dot-stuffing was exercised"
    );
    assert_eq!(record["tls"], true, "over STARTTLS");
    assert_eq!(record["mail_from"], NOTICES);
    assert_eq!(record["rcpt_tos"], json!(["abuse@mailonly.example"]));
    let h = &record["headers"];
    assert_eq!(h["Message-ID"], message_id.as_str());
    assert_eq!(
        h["Reply-To"],
        format!("signalements+{reference}@rempart.invalid")
    );
    assert_eq!(h["From"], format!("Rempart <{NOTICES}>"));
    assert_eq!(h["To"], "abuse@mailonly.example");
    assert_eq!(h["Content-Language"], "fr");
    let subject = h["Subject"].as_str().unwrap();
    assert!(
        subject.starts_with(&format!("Signalement {reference} : Cyberharcèlement")),
        "{subject}"
    );

    // the text: the four elements in order, in French, locations only for these images
    let at = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("the text has {s}:\n{text}"))
    };
    assert!(at("(a) ") < at("(b) ") && at("(b) ") < at("(c) ") && at("(c) ") < at("(d) "));
    assert!(text.contains(explanation), "{text}");
    assert!(text.contains("1. https://mailonly.example/p/123"));
    assert!(text.contains("Identifiant sur le service : @harceleur"));
    assert!(text.contains(&format!("Rempart <{NOTICES}>")));
    assert!(text.contains("Nous déclarons de bonne foi"));
    assert!(text.contains("que les emplacements et les identifiants"));
    assert!(!text.contains(&a.display_name), "no staff or child name");

    // the attachment is the notice JSON
    assert_eq!(attached["type"], "rempart.notice");
    assert_eq!(attached["id"], id.as_str());
    assert_eq!(attached["reference"], reference.as_str());
    assert_eq!(attached["language"], "fr");
    assert_eq!(attached["explanation"], explanation);
    assert_eq!(attached["platform"], "mailonly");
    assert_eq!(attached["sexual_images_of_minor"], true);
    assert_eq!(attached["notifier"]["email"], NOTICES);
    assert_eq!(
        attached["items"][0]["url"],
        "https://mailonly.example/p/123"
    );
    assert_eq!(attached["items"][0]["native_id"], "@harceleur");
    assert_eq!(
        attached["good_faith_statement"],
        rempart_domain::notice_content::good_faith_statement("fr")
    );
    assert_eq!(attached["explanation"], n["explanation"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_smtp_4xx_is_retried_after_its_backoff_then_delivered_once() {
    let test = "an_smtp_4xx_is_retried_after_its_backoff_then_delivered_once";
    let dir = temp_dir("retry");
    let Some(server) = Server::start(
        test,
        &dir,
        Options {
            fail: vec!["data:1:451 4.3.0 Try again later"],
            ..Default::default()
        },
    ) else {
        return;
    };
    let t = app(&dir, Some(&server), SmtpTls::None).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (_, id) = ready(&t, &tok, "mailfirst", None).await;
    send(&t, &tok, &id).await;
    let n = until(&t, &tok, &id, "first attempt refused", |n| {
        n["last_error"] == "smtp_451"
    })
    .await;
    assert_eq!(
        (
            n["attempts"].as_u64(),
            n["state"].as_str(),
            n["channel"].as_str()
        ),
        (Some(1), Some("sent"), Some("email"))
    );
    assert!(n["delivered_at"].is_null());
    assert_eq!(server.received(), 0);
    let job = t
        .store
        .job_by_key(&format!("notice:{id}:delivery:0"))
        .await
        .unwrap()
        .unwrap();
    assert!(job.run_at > t.app.now(), "due again later, not at once");
    t.clock.advance(job.run_at - t.app.now() + 1);
    let n = until(&t, &tok, &id, "delivered on the retry", |n| {
        n["delivered_at"].is_i64()
    })
    .await;
    assert_eq!(n["attempts"], 2);
    assert_eq!(server.received(), 1, "accepted once");
    let (eml, record, text, attached) = arrived(&server, 1);
    assert_eq!(eml, n["payload"].as_str().unwrap().as_bytes());
    assert_eq!(record["tls"], false);
    // English for this platform
    assert_eq!(record["headers"]["Content-Language"], "en");
    assert!(text.starts_with("Dear Trust & Safety team,"), "{text}");
    assert!(text.contains("We declare in good faith"));
    assert_eq!(attached["language"], "en");
    assert_eq!(n["ticket"], record["headers"]["Message-ID"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_smtp_5xx_moves_the_notice_to_the_next_channel_or_fails_it() {
    let test = "an_smtp_5xx_moves_the_notice_to_the_next_channel_or_fails_it";
    let dir = temp_dir("refused");
    let Some(server) = Server::start(
        test,
        &dir,
        Options {
            fail: vec!["rcpt:0:550 5.1.1 Mailbox unavailable"],
            ..Default::default()
        },
    ) else {
        return;
    };
    let t = app(&dir, Some(&server), SmtpTls::None).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    // e-mail, then a portal: the portal takes it, for a counsellor's hands
    let (_, id) = ready(&t, &tok, "mailfirst", None).await;
    send(&t, &tok, &id).await;
    let n = until(&t, &tok, &id, "moved to the portal", |n| {
        n["channel"] == "portal"
    })
    .await;
    assert_eq!(
        (
            n["last_error"].as_str(),
            n["state"].as_str(),
            n["attempts"].as_u64()
        ),
        (Some("smtp_550"), Some("sent"), Some(1)),
        "refused for good at once, no retry"
    );
    // e-mail only: failed, with the reason
    let (_, id) = ready(&t, &tok, "mailonly", None).await;
    send(&t, &tok, &id).await;
    let n = until(&t, &tok, &id, "failed", |n| n["state"] == "failed").await;
    assert_eq!(n["last_error"], "smtp_550");
    assert_eq!(server.received(), 0, "nothing was accepted");
    let failures = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "notice.delivery_failed")
        .count();
    assert_eq!(failures, 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_notice_falling_back_to_an_email_channel_gets_its_own_mail() {
    let test = "a_notice_falling_back_to_an_email_channel_gets_its_own_mail";
    let dir = temp_dir("fallback");
    let Some(server) = Server::start(test, &dir, Options::default()) else {
        return;
    };
    let t = app(&dir, Some(&server), SmtpTls::Starttls).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (_, id) = ready(&t, &tok, "pushfirst", None).await;
    assert_eq!(notice(&t, &tok, &id).await["channel"], "http_json");
    send(&t, &tok, &id).await;
    // the push cannot be signed on this node: the e-mail channel (index 1) takes it
    let n = until(&t, &tok, &id, "delivered by e-mail", |n| {
        n["delivered_at"].is_i64()
    })
    .await;
    assert_eq!(n["channel"], "email");
    assert_eq!(n["last_error"], Value::Null);
    let reference = n["reference"].as_str().unwrap();
    let message_id = format!("<{reference}.{id}.1@rempart.invalid>");
    assert_eq!(n["ticket"], message_id.as_str(), "its own Message-ID");
    let (eml, record, _, attached) = arrived(&server, 1);
    assert_eq!(eml, n["payload"].as_str().unwrap().as_bytes());
    assert_eq!(
        record["tls"], false,
        "opportunistic: the server offers no STARTTLS"
    );
    assert_eq!(record["rcpt_tos"], json!(["safety@pushfirst.example"]));
    assert_eq!(record["headers"]["Message-ID"], message_id.as_str());
    assert_eq!(attached["id"], id.as_str());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_an_smtp_host_email_channels_are_skipped_with_smtp_not_configured() {
    let dir = temp_dir("off");
    let t = app(&dir, None, SmtpTls::Required).await;
    assert!(!t.app.settings().smtp.enabled());
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (_, id) = ready(&t, &tok, "mailfirst", None).await;
    let n = notice(&t, &tok, &id).await;
    assert!(
        n["payload"].as_str().unwrap().contains("\r\nMessage-ID: <"),
        "the mail is still what would leave"
    );
    send(&t, &tok, &id).await;
    let n = until(&t, &tok, &id, "moved to the portal", |n| {
        n["channel"] == "portal"
    })
    .await;
    assert_eq!(n["last_error"], "smtp_not_configured");
    let (_, id) = ready(&t, &tok, "mailonly", None).await;
    send(&t, &tok, &id).await;
    let n = until(&t, &tok, &id, "failed", |n| n["state"] == "failed").await;
    assert_eq!(n["last_error"], "smtp_not_configured");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_smtp_server_that_refuses_or_stays_silent_is_a_transient_failure() {
    let dir = temp_dir("down");
    // a port nobody listens on, then a server that accepts and never speaks
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    for (port, reason) in [
        (closed, "smtp_connection_refused"),
        (silent_port, "smtp_timeout"),
    ] {
        let file = dir.join("platforms.toml");
        std::fs::write(&file, DIRECTORY).unwrap();
        let t = TestApp::spawn_with(move |s| {
            s.helpline.platforms_file = Some(file);
            s.helpline.notices_email = NOTICES.into();
            s.delivery.retry_base_ms = 60_000;
            s.delivery.poll_ms = 20;
            s.smtp.host = "127.0.0.1".into();
            s.smtp.port = port;
            s.smtp.tls = SmtpTls::None;
            s.smtp.timeout_seconds = 1;
        })
        .await;
        let c = t.staff(Role::Counsellor, None).await;
        let tok = t.token(&c).await;
        let (_, id) = ready(&t, &tok, "mailonly", None).await;
        send(&t, &tok, &id).await;
        let n = until(&t, &tok, &id, reason, |n| n["last_error"] == reason).await;
        assert_eq!(
            (
                n["state"].as_str(),
                n["channel"].as_str(),
                n["attempts"].as_u64()
            ),
            (Some("sent"), Some("email"), Some(1)),
            "{reason}: kept on its channel, to be tried again"
        );
        let job = t
            .store
            .job_by_key(&format!("notice:{id}:delivery:0"))
            .await
            .unwrap()
            .unwrap();
        assert!(
            job.run_at > t.app.now(),
            "{reason}: due again after a backoff"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_late_email_notice_is_reminded_by_mail_and_a_contest_carries_its_reason() {
    let test = "a_late_email_notice_is_reminded_by_mail_and_a_contest_carries_its_reason";
    let dir = temp_dir("remind");
    let Some(server) = Server::start(test, &dir, Options::default()) else {
        return;
    };
    let file = dir.join("platforms.toml");
    std::fs::write(&file, DIRECTORY).unwrap();
    let port = server.port;
    let t = TestApp::spawn_with(move |s| {
        s.helpline.platforms_file = Some(file);
        s.helpline.notices_email = NOTICES.into();
        s.delivery.poll_ms = 20;
        s.delivery.escalation_check_ms = 20;
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = port;
        s.smtp.tls = SmtpTls::None;
        s.smtp.timeout_seconds = 10;
        s.smtp.hello_name = "rempart.test".into();
    })
    .await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (_, id) = ready(&t, &tok, "mailonly", None).await;
    send(&t, &tok, &id).await;
    let n = until(&t, &tok, &id, "delivered", |n| n["delivered_at"].is_i64()).await;
    assert_eq!(server.received(), 1);
    let reference = n["reference"].as_str().unwrap().to_owned();

    // a day and an hour later: escalated, and a reminder mail left
    t.clock.advance(25 * 3_600_000);
    let tok = t.token(&c).await;
    let n = until(&t, &tok, &id, "escalated", |n| n["state"] == "escalated").await;
    assert_eq!(n["reminders"], 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.received() < 2 {
        assert!(Instant::now() < deadline, "no reminder mail arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (eml, record) = server.message(2);
    assert_eq!(
        record["headers"]["Subject"],
        format!("Relance : signalement {reference} (DSA, art. 16)")
    );
    assert_eq!(record["headers"]["To"], "abuse@mailonly.example");
    assert_eq!(
        record["headers"]["Reply-To"],
        format!("signalements+{reference}@rempart.invalid")
    );
    assert_eq!(
        record["headers"]["Message-ID"],
        format!("<{reference}.{id}.reminder.1@rempart.invalid>")
    );
    assert!(!eml.is_empty());
    let parts = record["parts"].as_array().unwrap();
    let text = String::from_utf8(server.part(parts[0]["file"].as_str().unwrap())).unwrap();
    assert!(
        text.starts_with("Ce signalement a dépassé le délai"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Référence du signalement : {reference}")),
        "{text}"
    );

    // refused, contested: the reason leaves by mail too
    let r = t
        .post_json(
            &format!("/api/v1/notices/{id}/decision"),
            Some(&tok),
            json!({"decision": "refused"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = t
        .post_json(
            &format!("/api/v1/notices/{id}/contest"),
            Some(&tok),
            json!({"reason": "Le compte diffuse toujours les photos."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.received() < 3 {
        assert!(Instant::now() < deadline, "no contest mail arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, record) = server.message(3);
    assert_eq!(
        record["headers"]["Subject"],
        format!("Contestation du refus : signalement {reference}")
    );
    let parts = record["parts"].as_array().unwrap();
    let text = String::from_utf8(server.part(parts[0]["file"].as_str().unwrap())).unwrap();
    assert!(
        text.contains("Le compte diffuse toujours les photos."),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
