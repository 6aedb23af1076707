//! The partner API `/partner/v1`, from outside: keys issued in the console (shown once,
//! kept hashed, rotated with an overlap, revoked at once), every partner route × every kind
//! of caller (its own key, another platform's, a revoked one, none, garbage, a staff
//! session), idempotent answers, bad inputs that leave nothing written, the outbound
//! webhook received by a real HTTP server with a valid Standard Webhooks signature (and a
//! replayed or stale one refused by the partner simulator), and the whole journey: a notice
//! sent to a `rempart_api` platform is pulled, acknowledged and decided by the simulated
//! partner, and the notice shows it with its times.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::{Actor, Role};
use rempart_platform_sim::partner::{PartnerAutoDecide, PartnerConfig, spawn_partner};
use rempart_platform_sim::{sign_standard_webhook, verify_standard_webhook};
use rempart_storage::StaffRecord;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use support::*;
use tokio::sync::mpsc;

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A webhook as the test's receiver got it: its headers and raw body.
#[derive(Debug, Clone)]
struct Hook {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

/// A real HTTP server taking webhooks (200), handing each to the test.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Hook>) {
    failing_receiver(0).await
}

/// A receiver that answers 503 to its first `failures` webhooks, then 200; each is handed
/// to the test.
async fn failing_receiver(failures: usize) -> (String, mpsc::UnboundedReceiver<Hook>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    let _ = tx.send(Hook {
                        id: h("webhook-id"),
                        timestamp: h("webhook-timestamp"),
                        signature: h("webhook-signature"),
                        body: body.to_vec(),
                    });
                    if n < failures {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, rx)
}

/// The next webhook the receiver got (10 s at most).
async fn next_hook(rx: &mut mpsc::UnboundedReceiver<Hook>) -> Hook {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("webhook in time")
        .unwrap()
}

fn directory(webhook_url: &str) -> String {
    format!(
        r#"
[[platform]]
code = "tiktok"
name = "TikTok"
expected_hours = 24
id_hint_fr = "lien"
id_hint_en = "link"

[[platform.channel]]
kind = "rempart_api"
webhook_url = "{webhook_url}"
webhook_secret = "tiktok_webhook"

[[platform]]
code = "yubo"
name = "Yubo"
expected_hours = 24
id_hint_fr = "pseudo"
id_hint_en = "username"

[[platform.channel]]
kind = "rempart_api"

[[platform]]
code = "snapchat"
name = "Snapchat"
expected_hours = 24
id_hint_fr = "pseudo"
id_hint_en = "username"

[[platform.channel]]
kind = "portal"
url = "https://trust-safety.snapchat.example.invalid/report"
"#
    )
}

async fn app(webhook_url: &str) -> TestApp {
    let dir = std::env::temp_dir().join(format!(
        "rempart-partner-{}-{}",
        std::process::id(),
        rempart_app::random_hex(6).unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platforms.toml");
    std::fs::write(&file, directory(webhook_url)).unwrap();
    TestApp::spawn_with(move |s| {
        s.helpline.platforms_file = Some(file);
        s.delivery.allow_local_endpoints = true;
        s.delivery.retry_base_ms = 60_000;
        s.delivery.max_attempts = 3;
        s.delivery.timeout_seconds = 2;
        s.delivery.poll_ms = 20;
        s.secrets.platforms.insert(
            "tiktok_webhook".into(),
            rempart_app::secret::Secret::new(WHSEC),
        );
    })
    .await
}

fn nid(s: &str) -> rempart_domain::ids::NoticeId {
    rempart_domain::ids::NoticeId::parse(s).unwrap()
}

fn actor(s: &StaffRecord) -> Actor {
    Actor {
        id: s.id,
        role: s.role,
        team: s.team.clone(),
    }
}

async fn key_for(t: &TestApp, admin: &StaffRecord, platform: &str) -> String {
    t.app
        .issue_partner_key(&actor(admin), platform)
        .await
        .unwrap()
        .key
}

/// Drafts, readies and sends a notice about a new case's item on `platform`.
async fn send(t: &TestApp, token: &str, platform: &str) -> String {
    let case = t.new_case(token, "partner").await;
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/items"),
            Some(token),
            json!({"platform": platform, "content_type": "account", "native_id": format!("@harceleur_{}", rempart_app::random_hex(3).unwrap())}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let drafts: Vec<Value> = t
        .req(
            Method::POST,
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
    for step in ["ready", "send"] {
        let r = t
            .req(
                Method::POST,
                &format!("/api/v1/notices/{id}/{step}"),
                Some(token),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{step}");
    }
    id
}

async fn partner(
    t: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = t.req(method, path, key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn decision(at: i64) -> Value {
    json!({
        "decision": "content_removed",
        "ground": "illegal_content",
        "redress": "Contact our appeals team at appeals@tiktok.example.invalid",
        "decided_at": rempart_app::notices::payload::iso(at),
    })
}

#[tokio::test]
async fn a_key_is_shown_once_kept_hashed_rotated_with_an_overlap_and_revoked_at_once() {
    let (hook, _rx) = receiver().await;
    let t = app(&hook).await;
    let admin = t.staff(Role::Admin, None).await;
    let (cookie, csrf) = t.console_login(&admin).await;
    let page = |path: String| {
        let cookie = cookie.clone();
        let t = &t;
        async move {
            let r = t
                .http
                .get(t.url(&path))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // the directory links the partner platforms' keys
    let (status, html) = page("/admin/platforms".into()).await;
    assert_eq!(status, 200);
    assert!(html.contains("/admin/platforms/tiktok/keys"), "{html}");
    assert!(!html.contains("/admin/platforms/snapchat/keys"));
    let (status, html) = page("/admin/platforms/tiktok/keys".into()).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"issue-key\""));
    assert!(!html.contains("rpk_"), "no key yet");
    // a platform that does not use the partner API gets none
    let (status, html) = page("/admin/platforms/snapchat/keys".into()).await;
    assert_eq!(status, 200);
    assert!(html.contains("partner-not-used"));
    let issue = |platform: &str| {
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        let url = t.url(&format!("/admin/platforms/{platform}/keys"));
        let http = t.http.clone();
        async move {
            let r = http
                .post(url)
                .header("cookie", cookie)
                .form(&[("_csrf", csrf.as_str())])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, _) = issue("snapchat").await;
    assert_eq!(status, 409, "no key for a platform off the partner API");
    let (status, html) = issue("tiktok").await;
    assert_eq!(status, 200);
    let first = attr_after(&html, "id=\"new-key\" class=\"wrap\" readonly value=\"");
    assert!(
        first.starts_with("rpk_") && first.len() == 4 + 64,
        "{first}"
    );
    // shown once: not on the page again, kept only as its hash, never in the audit
    let (_, html) = page("/admin/platforms/tiktok/keys".into()).await;
    assert!(!html.contains(&first));
    assert!(html.contains(&first[..12]), "its prefix tells it apart");
    let stored = t
        .store
        .partner_key_by_hash(&rempart_app::sha256_hex(first.as_bytes()))
        .await
        .unwrap()
        .expect("kept by its hash");
    assert_eq!(stored.platform, "tiktok");
    assert_ne!(stored.prefix, first);
    let audit = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    let issued: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "partner.key_issued")
        .collect();
    assert_eq!(issued.len(), 1);
    assert!(issued[0].detail.contains("platform=tiktok"));
    assert!(audit.iter().all(|e| !e.detail.contains(&first[12..])));

    let list = |key: String| {
        let t = &t;
        async move { partner(t, Method::GET, "/partner/v1/notices", Some(&key), None).await }
    };
    assert_eq!(list(first.clone()).await.0, 200);

    // rotation: the new key works at once, the old one for 24 hours more
    let (_, html) = issue("tiktok").await;
    let second = attr_after(&html, "id=\"new-key\" class=\"wrap\" readonly value=\"");
    assert_ne!(first, second);
    assert_eq!(list(first.clone()).await.0, 200, "overlap");
    assert_eq!(list(second.clone()).await.0, 200);
    let (_, html) = page("/admin/platforms/tiktok/keys".into()).await;
    assert!(html.contains("data-state=\"replaced\"") && html.contains("data-state=\"live\""));
    t.clock.advance(24 * 3_600_000 + 1);
    let (status, body) = list(first.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("api_key_revoked"))
    );
    assert_eq!(list(second.clone()).await.0, 200);

    // revocation: at once (a new console session: the day ended the first)
    let (cookie, csrf) = t.console_login(&admin).await;
    let id = stored.id.clone();
    let second_id = t
        .store
        .partner_key_by_hash(&rempart_app::sha256_hex(second.as_bytes()))
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_ne!(id, second_id);
    let r = t
        .http
        .post(t.url("/admin/platforms/tiktok/keys/revoke"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("key", second_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = list(second.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("api_key_revoked"))
    );
    // revoking again, or another platform's key: refused
    let r = t
        .http
        .post(t.url("/admin/platforms/tiktok/keys/revoke"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("key", second_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = t
        .http
        .post(t.url("/admin/platforms/yubo/keys/revoke"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("key", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let revoked = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "partner.key_revoked")
        .count();
    assert_eq!(revoked, 1);
}

#[tokio::test]
async fn every_partner_route_for_every_kind_of_caller() {
    let (hook, _rx) = receiver().await;
    let t = app(&hook).await;
    let admin = t.staff(Role::Admin, None).await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&counsellor).await;
    let own = key_for(&t, &admin, "tiktok").await;
    let other = key_for(&t, &admin, "yubo").await;
    let revoked = key_for(&t, &admin, "tiktok").await;
    let revoked_id = t
        .store
        .partner_key_by_hash(&rempart_app::sha256_hex(revoked.as_bytes()))
        .await
        .unwrap()
        .unwrap()
        .id;
    t.app
        .revoke_partner_key(&actor(&admin), "tiktok", &revoked_id)
        .await
        .unwrap();
    let (cookie, csrf) = t.console_login(&counsellor).await;
    let tiktok_notice = send(&t, &tok, "tiktok").await;
    let yubo_notice = send(&t, &tok, "yubo").await;
    let portal_notice = send(&t, &tok, "snapchat").await;
    let missing = rempart_domain::ids::NoticeId::new().to_string();

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Caller {
        Own,
        Other,
        Revoked,
        NoKey,
        Garbage,
        StaffCookie,
        StaffBearer,
    }
    let routes = rempart_web::routes::routes();
    let partner_routes: Vec<_> = routes
        .iter()
        .filter(|(d, _)| d.path.starts_with("/partner/"))
        .map(|(d, _)| (d.method, d.path))
        .collect();
    assert_eq!(partner_routes.len(), 4, "{partner_routes:?}");
    let mut checked = 0;
    let mut not_found_bodies = std::collections::BTreeSet::new();
    for (method, path) in &partner_routes {
        for caller in [
            Caller::Own,
            Caller::Other,
            Caller::Revoked,
            Caller::NoKey,
            Caller::Garbage,
            Caller::StaffCookie,
            Caller::StaffBearer,
        ] {
            for target in [&tiktok_notice, &yubo_notice, &portal_notice, &missing] {
                if !path.contains("{id}") && target != &tiktok_notice {
                    continue;
                }
                let real = path.replace("{id}", target);
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let mut req = t.http.request(m.clone(), t.url(&real));
                req = match caller {
                    Caller::Own => req.bearer_auth(&own),
                    Caller::Other => req.bearer_auth(&other),
                    Caller::Revoked => req.bearer_auth(&revoked),
                    Caller::NoKey => req,
                    Caller::Garbage => req.bearer_auth("rpk_not-a-key"),
                    Caller::StaffCookie => {
                        req.header("cookie", &cookie).header("x-csrf-token", &csrf)
                    }
                    Caller::StaffBearer => req.bearer_auth(&tok),
                };
                let body = if path.ends_with("/acknowledgement") {
                    Some(json!({"ticket": "TT-1"}))
                } else if path.ends_with("/decision") {
                    Some(decision(t.app.now()))
                } else {
                    None
                };
                if let Some(b) = &body {
                    req = req.json(b);
                }
                let r = req.send().await.unwrap();
                let status = r.status().as_u16();
                let text = r.text().await.unwrap();
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let code = v["error"].as_str().unwrap_or("");
                let own_notice = target == &tiktok_notice;
                let expected: (u16, &str) = match caller {
                    Caller::Revoked => (401, "api_key_revoked"),
                    Caller::NoKey | Caller::StaffCookie => (401, "unauthenticated"),
                    Caller::Garbage | Caller::StaffBearer => (401, "invalid_api_key"),
                    Caller::Own | Caller::Other if !path.contains("{id}") => (200, ""),
                    Caller::Own if own_notice => match *path {
                        "/partner/v1/notices/{id}" => (200, ""),
                        // the first answer records, the same again answers it
                        _ => (if status == 201 { 201 } else { 200 }, ""),
                    },
                    Caller::Other if target == &yubo_notice => match *path {
                        "/partner/v1/notices/{id}" => (200, ""),
                        _ => (if status == 201 { 201 } else { 200 }, ""),
                    },
                    _ => (404, "not_found"),
                };
                assert_eq!(
                    (status, code),
                    expected,
                    "{method} {path} as {caller:?} on {target}: {text}"
                );
                if status == 404 {
                    not_found_bodies.insert(text.clone());
                }
                if status == 200 && !path.contains("{id}") {
                    // a list names only the caller's own notices
                    let ids: Vec<&str> = v["notices"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n["id"].as_str().unwrap())
                        .collect();
                    let mine = if caller == Caller::Own {
                        &tiktok_notice
                    } else {
                        &yubo_notice
                    };
                    assert!(ids.iter().all(|i| i == mine), "{caller:?}: {ids:?}");
                }
                if status == 200 && *path == "/partner/v1/notices/{id}" {
                    assert_eq!(v["id"].as_str(), Some(target.as_str()));
                    assert_eq!(v["type"], "rempart.notice");
                }
                checked += 1;
            }
        }
    }
    // another platform's notice, one on another channel and a missing one: the same 404
    assert_eq!(not_found_bodies.len(), 1, "{not_found_bodies:?}");
    assert_eq!(checked, 7 * (1 + 3 * 4));
    // the staff side never saw a partner call as its own: the portal notice is untouched
    let n = t.store.notice(nid(&portal_notice)).await.unwrap().unwrap();
    assert_eq!(n.ticket, None);
    assert_eq!(n.decision, None);
}

#[tokio::test]
async fn acknowledgements_and_decisions_are_idempotent_and_follow_the_state_machine() {
    let (hook, _rx) = receiver().await;
    let t = app(&hook).await;
    let admin = t.staff(Role::Admin, None).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let key = key_for(&t, &admin, "tiktok").await;
    let id = send(&t, &tok, "tiktok").await;
    let ack = format!("/partner/v1/notices/{id}/acknowledgement");
    let dec = format!("/partner/v1/notices/{id}/decision");

    // fetching counts as delivered, once
    let (status, doc) = partner(
        &t,
        Method::GET,
        &format!("/partner/v1/notices/{id}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let n = t.store.notice(nid(&id)).await.unwrap().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(n.payload.as_deref().unwrap()).unwrap(),
        doc,
        "the exact document prepared"
    );
    let delivered = n.delivered_at.expect("delivered when fetched");
    t.clock.advance(1_000);
    partner(
        &t,
        Method::GET,
        &format!("/partner/v1/notices/{id}"),
        Some(&key),
        None,
    )
    .await;
    let n = t.store.notice(nid(&id)).await.unwrap().unwrap();
    assert_eq!(n.delivered_at, Some(delivered));

    let (s1, first) = partner(
        &t,
        Method::POST,
        &ack,
        Some(&key),
        Some(json!({"ticket": "TT-1"})),
    )
    .await;
    assert_eq!(s1, 201, "{first}");
    assert_eq!(first["state"], "acknowledged");
    assert_eq!(first["ticket"], "TT-1");
    t.clock.advance(1_000);
    let (s2, again) = partner(
        &t,
        Method::POST,
        &ack,
        Some(&key),
        Some(json!({"ticket": "TT-1"})),
    )
    .await;
    assert_eq!(
        (s2, &again),
        (200, &first),
        "the same again: the recorded one"
    );
    let (s3, other) = partner(
        &t,
        Method::POST,
        &ack,
        Some(&key),
        Some(json!({"ticket": "TT-2"})),
    )
    .await;
    assert_eq!(
        (s3, other["error"].as_str()),
        (409, Some("idempotency_conflict"))
    );

    // the list shows it while open, with its state
    let (_, list) = partner(
        &t,
        Method::GET,
        "/partner/v1/notices?state=acknowledged",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(list["notices"][0]["id"].as_str(), Some(id.as_str()));

    let at = t.app.now();
    let (d1, decided) = partner(&t, Method::POST, &dec, Some(&key), Some(decision(at))).await;
    assert_eq!(d1, 201, "{decided}");
    assert_eq!(decided["state"], "removed");
    assert_eq!(decided["decision"], "content_removed");
    let (d2, again) = partner(&t, Method::POST, &dec, Some(&key), Some(decision(at))).await;
    assert_eq!((d2, &again), (200, &decided));
    let mut refused = decision(at);
    refused["decision"] = json!("refused");
    let (d3, e) = partner(&t, Method::POST, &dec, Some(&key), Some(refused)).await;
    assert_eq!((d3, e["error"].as_str()), (409, Some("invalid_transition")));
    // decided: no longer open
    let (_, list) = partner(&t, Method::GET, "/partner/v1/notices", Some(&key), None).await;
    assert_eq!(list["notices"], json!([]));
    let (_, list) = partner(
        &t,
        Method::GET,
        "/partner/v1/notices?state=removed",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(list["notices"][0]["id"].as_str(), Some(id.as_str()));

    // a refusal cannot be followed by another decision (refused takes only an escalation)
    let id2 = send(&t, &tok, "tiktok").await;
    let dec2 = format!("/partner/v1/notices/{id2}/decision");
    let refusal = json!({"decision": "refused", "decided_at": rempart_app::notices::payload::iso(t.app.now())});
    assert_eq!(
        partner(&t, Method::POST, &dec2, Some(&key), Some(refusal))
            .await
            .0,
        201
    );
    let (s, e) = partner(
        &t,
        Method::POST,
        &dec2,
        Some(&key),
        Some(decision(t.app.now())),
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("invalid_transition")));
    // and an acknowledgement after a decision with a ticket it never had: a conflict
    let (s, e) = partner(
        &t,
        Method::POST,
        &format!("/partner/v1/notices/{id2}/acknowledgement"),
        Some(&key),
        Some(json!({"ticket": "late"})),
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("invalid_transition")));

    // every answer audited with the platform as actor
    let audit = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    let acks: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "notice.partner_acknowledged")
        .collect();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].detail, "platform=tiktok");
    assert_eq!(acks[0].actor_id, None);
    let decisions = audit
        .iter()
        .filter(|e| e.action == "notice.partner_decided")
        .count();
    assert_eq!(decisions, 2);

    // paging: a cursor walks the list, one at a time
    let mut ids = vec![];
    for _ in 0..3 {
        ids.push(send(&t, &tok, "tiktok").await);
        t.clock.advance(10);
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/partner/v1/notices?limit=1&cursor={c}"),
            None => "/partner/v1/notices?limit=1".into(),
        };
        let (s, page) = partner(&t, Method::GET, &path, Some(&key), None).await;
        assert_eq!(s, 200);
        for n in page["notices"].as_array().unwrap() {
            seen.push(n["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn concurrent_answers_are_recorded_once() {
    let (hook, _rx) = receiver().await;
    let t = app(&hook).await;
    let admin = t.staff(Role::Admin, None).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let key = key_for(&t, &admin, "tiktok").await;
    let id = send(&t, &tok, "tiktok").await;
    let at = t.app.now();
    for (path, body) in [
        (
            format!("/partner/v1/notices/{id}/acknowledgement"),
            json!({"ticket": "TT-RACE"}),
        ),
        (format!("/partner/v1/notices/{id}/decision"), decision(at)),
    ] {
        let calls = (0..8).map(|_| {
            let req = t.http.post(t.url(&path)).bearer_auth(&key).json(&body);
            async move {
                let r = req.send().await.unwrap();
                let s = r.status().as_u16();
                (s, r.json::<Value>().await.unwrap())
            }
        });
        let answers = futures_util::future::join_all(calls).await;
        let created = answers.iter().filter(|(s, _)| *s == 201).count();
        let same = answers.iter().filter(|(s, _)| *s == 200).count();
        assert_eq!((created, same), (1, 7), "{path}: {answers:?}");
        let first = &answers.iter().find(|(s, _)| *s == 201).unwrap().1;
        assert!(answers.iter().all(|(_, v)| v == first), "{answers:?}");
    }
    let audit = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    for action in ["notice.partner_acknowledged", "notice.partner_decided"] {
        assert_eq!(
            audit.iter().filter(|e| e.action == action).count(),
            1,
            "{action}"
        );
    }
}

#[tokio::test]
async fn bad_inputs_are_refused_with_nothing_written() {
    let (hook, _rx) = receiver().await;
    let t = app(&hook).await;
    let admin = t.staff(Role::Admin, None).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let key = key_for(&t, &admin, "tiktok").await;
    let id = send(&t, &tok, "tiktok").await;
    let before = t.store.notice(nid(&id)).await.unwrap().unwrap();
    let ack = format!("/partner/v1/notices/{id}/acknowledgement");
    let dec = format!("/partner/v1/notices/{id}/decision");
    let raw = |path: String, ct: &'static str, body: Vec<u8>| {
        let t = &t;
        let key = key.clone();
        async move {
            let r = t
                .http
                .post(t.url(&path))
                .bearer_auth(key)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (s, v["error"].as_str().unwrap_or("").to_owned())
        }
    };
    let now = rempart_app::notices::payload::iso(t.app.now());
    let cases: Vec<(String, &'static str, Vec<u8>, u16, &str)> = vec![
        (ack.clone(), "application/json", br#"{"ticket":"T","state":"removed"}"#.to_vec(), 422, "unknown_field"),
        (ack.clone(), "application/json", br#"{}"#.to_vec(), 422, "invalid_field"),
        (ack.clone(), "application/json", br#"{"ticket":"   "}"#.to_vec(), 422, "invalid_field"),
        (ack.clone(), "application/json", format!(r#"{{"ticket":"{}"}}"#, "x".repeat(201)).into_bytes(), 422, "invalid_field"),
        (ack.clone(), "application/json", b"{\"ticket\":\"\xC3\x28\"}".to_vec(), 400, "malformed_body"),
        (ack.clone(), "application/json", b"{\"ticket\":".to_vec(), 400, "malformed_body"),
        (ack.clone(), "text/plain", br#"{"ticket":"T"}"#.to_vec(), 415, "unsupported_media_type"),
        (ack.clone(), "application/json", format!(r#"{{"ticket":"{}"}}"#, "x".repeat(2_000_000)).into_bytes(), 413, "payload_too_large"),
        (dec.clone(), "application/json", format!(r#"{{"decision":"content_removed","ground":"illegal_content","decided_at":"{now}","partner_id":"yubo"}}"#).into_bytes(), 422, "unknown_field"),
        (dec.clone(), "application/json", format!(r#"{{"decision":"deleted","ground":"illegal_content","decided_at":"{now}"}}"#).into_bytes(), 422, "invalid_field"),
        (dec.clone(), "application/json", format!(r#"{{"decision":"no_answer","decided_at":"{now}"}}"#).into_bytes(), 422, "invalid_field"),
        (dec.clone(), "application/json", format!(r#"{{"decision":"content_removed","decided_at":"{now}"}}"#).into_bytes(), 422, "invalid_field"),
        (dec.clone(), "application/json", br#"{"decision":"content_removed","ground":"illegal_content","decided_at":"yesterday"}"#.to_vec(), 422, "invalid_field"),
        (dec.clone(), "application/json", br#"{"decision":"content_removed","ground":"illegal_content","decided_at":"2099-01-01T00:00:00Z"}"#.to_vec(), 422, "invalid_field"),
        (dec.clone(), "application/json", br#"{"decision":"content_removed","ground":"illegal_content","decided_at":"2001-01-01T00:00:00Z"}"#.to_vec(), 422, "invalid_field"),
        (dec.clone(), "application/json", format!(r#"{{"decision":"content_removed","ground":"illegal_content","decided_at":"{now}","redress":"{}"}}"#, "r".repeat(1501)).into_bytes(), 422, "invalid_field"),
        (dec.clone(), "application/json", [format!(r#"{{"decision":"content_removed","ground":"illegal_content","decided_at":"{now}","redress":""#).into_bytes(), vec![0xff, 0xfe], b"\"}".to_vec()].concat(), 400, "malformed_body"),
    ];
    for (path, ct, body, status, code) in cases {
        let short: String = String::from_utf8_lossy(&body).chars().take(80).collect();
        assert_eq!(
            raw(path.clone(), ct, body).await,
            (status, code.to_owned()),
            "{path} {short}"
        );
    }
    for q in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "state=draft",
        "state=ready",
        "state=nonsense",
        "cursor=nonsense",
        "cursor=1_not-an-id",
        "partner_id=yubo",
    ] {
        let (s, v) = partner(
            &t,
            Method::GET,
            &format!("/partner/v1/notices?{q}"),
            Some(&key),
            None,
        )
        .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (422, Some("invalid_field")),
            "{q}"
        );
    }
    for id in ["not-an-id", "%C3%28", "..%2F..%2Fapi"] {
        let (s, _) = partner(
            &t,
            Method::GET,
            &format!("/partner/v1/notices/{id}"),
            Some(&key),
            None,
        )
        .await;
        assert_eq!(s, 404, "{id}");
    }
    let after = t.store.notice(nid(&id)).await.unwrap().unwrap();
    assert_eq!(after, before, "nothing written");
    let audit = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .all(|e| !e.action.starts_with("notice.partner"))
    );
}

#[tokio::test]
async fn the_webhook_arrives_signed_and_the_partner_refuses_replays_and_stale_ones() {
    let (hook, mut rx) = receiver().await;
    let t = app(&hook).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let id = send(&t, &tok, "tiktok").await;
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("webhook in time")
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        verify_standard_webhook(
            WHSEC,
            &got.id,
            &got.timestamp,
            &got.signature,
            &got.body,
            now
        ),
        Ok(()),
        "signed per Standard Webhooks"
    );
    assert!(got.signature.starts_with("v1,"));
    let event: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(event["type"], "notice.available");
    assert_eq!(event["data"]["id"].as_str(), Some(id.as_str()));
    let n = t.store.notice(nid(&id)).await.unwrap().unwrap();
    assert_eq!(
        event["data"]["reference"].as_str(),
        Some(n.reference.as_str())
    );
    // the webhook-id is the job's key; its end is committed after the answer arrived
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let job = t
            .store
            .job_by_key(&got.id)
            .await
            .unwrap()
            .expect("the webhook-id is the job's key");
        assert_eq!(job.kind, "partner_webhook");
        if job.state == rempart_storage::JobState::Done {
            assert_eq!(job.attempts, 1);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{job:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // a platform without webhook: nothing is posted, the notice waits to be pulled
    send(&t, &tok, "yubo").await;

    // the partner simulator, as a platform's receiver
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = PartnerConfig::new("tiktok", &t.base, "rpk_unused");
    config.webhook_secret = Some(WHSEC.into());
    config.poll_interval = Duration::from_secs(3600);
    let sim = spawn_partner(config, listener).await.unwrap();
    let http = reqwest::Client::new();
    let post = |h: Hook| {
        let http = http.clone();
        let url = sim.webhook_url();
        async move {
            http.post(url)
                .header("content-type", "application/json")
                .header("webhook-id", h.id)
                .header("webhook-timestamp", h.timestamp)
                .header("webhook-signature", h.signature)
                .body(h.body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post(got.clone()).await, 200, "the genuine one is taken");
    assert_eq!(post(got.clone()).await, 409, "the same again is a replay");
    let stale_ts = now - 600;
    let stale = Hook {
        id: "msg_stale".into(),
        timestamp: stale_ts.to_string(),
        signature: sign_standard_webhook(WHSEC, "msg_stale", stale_ts, &got.body).unwrap(),
        body: got.body.clone(),
    };
    assert_eq!(post(stale).await, 401);
    let mut tampered = got.clone();
    tampered.id = "msg_other".into();
    assert_eq!(
        post(tampered.clone()).await,
        401,
        "the signature covers the id"
    );
    tampered.id = got.id.clone();
    tampered.body = br#"{"type":"notice.available","data":{"id":"x"}}"#.to_vec();
    assert_eq!(post(tampered).await, 401);
    let mut unsigned = got.clone();
    unsigned.signature = String::new();
    assert_eq!(post(unsigned).await, 400);
    let s = sim.stats();
    assert_eq!(s.webhooks, 1);
    assert_eq!(s.webhooks_refused.get("replayed"), Some(&1));
    assert_eq!(s.webhooks_refused.get("stale_timestamp"), Some(&1));
    assert_eq!(s.webhooks_refused.get("bad_signature"), Some(&2));
    assert_eq!(
        s.webhooks_refused.get("missing_signature_headers"),
        Some(&1)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_webhook_the_platform_could_not_take_is_retried_with_the_same_id() {
    let (hook, mut rx) = failing_receiver(1).await;
    let t = app(&hook).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    send(&t, &tok, "tiktok").await;
    let first = next_hook(&mut rx).await;
    // answered 503: due again after its backoff, on the application's clock
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let job = loop {
        let job = t.store.job_by_key(&first.id).await.unwrap().unwrap();
        if job.last_error.is_some() {
            break job;
        }
        assert!(std::time::Instant::now() < deadline, "{job:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(job.state, rempart_storage::JobState::Pending);
    assert_eq!(job.last_error.as_deref(), Some("http_503"), "{job:?}");
    assert!(rx.try_recv().is_err(), "not before its time");
    t.clock.advance(10 * 60_000);
    let second = next_hook(&mut rx).await;
    assert_eq!(
        second.id, first.id,
        "the same webhook-id: the receiver's idempotency key"
    );
    assert_eq!(second.body, first.body);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        verify_standard_webhook(
            WHSEC,
            &second.id,
            &second.timestamp,
            &second.signature,
            &second.body,
            now
        ),
        Ok(())
    );
}

#[tokio::test]
async fn a_partner_pulls_acknowledges_and_decides_and_the_notice_shows_it() {
    // the partner's receiver is bound first: its address goes in the directory
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/webhook", listener.local_addr().unwrap());
    let t = app(&hook).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    // as the demo does: the operator issues the platform's key
    let key = t
        .app
        .issue_partner_key_by_operator("tiktok")
        .await
        .unwrap()
        .key;
    let mut config = PartnerConfig::new("tiktok", &t.base, &key);
    config.webhook_secret = Some(WHSEC.into());
    // it polls once at start, then only the webhook makes it look
    config.poll_interval = Duration::from_secs(3600);
    config.auto_decide = Some(PartnerAutoDecide {
        delay: Duration::ZERO,
        decision: "content_removed".into(),
        ground: Some("illegal_content".into()),
        redress: Some("Appeal within 6 months at appeals.tiktok.example.invalid".into()),
    });
    let sim = spawn_partner(config, listener).await.unwrap();
    sim.wait_for(Duration::from_secs(10), |s| s.polls >= 1)
        .await
        .unwrap();
    let sent_at = t.app.now();
    let id = send(&t, &tok, "tiktok").await;
    let s = sim
        .wait_for(Duration::from_secs(10), |s| s.decided == 1)
        .await
        .unwrap();
    assert_eq!(s.webhooks, 1, "the webhook rang: {s:?}");
    assert_eq!(s.fetched, 1);
    assert_eq!(s.acknowledged, 1);
    assert!(s.errors.is_empty(), "{s:?}");
    let seen = sim.notices();
    assert_eq!(seen.len(), 1);
    let n: Value = t
        .get(&format!("/api/v1/notices/{id}"), Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(n["state"], "removed", "{n}");
    assert_eq!(n["decision"], "content_removed");
    assert_eq!(n["decision_source"], "partner");
    assert_eq!(n["ticket"].as_str(), seen[0].ticket.as_deref());
    assert!(
        n["decision_note"]
            .as_str()
            .unwrap()
            .contains("illegal_content")
    );
    assert_eq!(
        serde_json::from_str::<Value>(n["payload"].as_str().unwrap()).unwrap(),
        seen[0].document.clone().unwrap(),
        "the partner got the exact document"
    );
    let rec = t.store.notice(nid(&id)).await.unwrap().unwrap();
    for (what, at) in [
        ("delivered", rec.delivered_at),
        ("acknowledged", rec.acknowledged_at),
        ("decided", rec.decided_at),
        ("removed", rec.removed_at),
    ] {
        let at = at.unwrap_or_else(|| panic!("{what} recorded"));
        assert!(at >= sent_at, "{what}");
    }
    // the case's timeline names what the platform did
    let audit = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    for action in [
        "notice.delivered",
        "notice.partner_acknowledged",
        "notice.partner_decided",
    ] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.case_id == Some(rec.case_id.to_string())),
            "{action}"
        );
    }
    sim.shutdown().await;
}
