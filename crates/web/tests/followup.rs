//! Following notices up, against real local platforms (the simulators): a notice past its
//! platform's expected delay is escalated by the scheduled job — a signed reminder reaches
//! a platform whose channel carries one (the same receiver, its own `webhook-id`), a
//! platform without one is left to a counsellor's reminder — and it comes first in the
//! late view, the supervisors' menu shows the alert, the case timeline says so; a refusal
//! is contested with a reason that reaches the platform; the notices list filters and
//! keeps to the reader's cases; a platform's figures are medians and percentiles of the
//! real times.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::Role;
use rempart_platform_sim::{CoopKey, SimConfig, SimHandle, SimKind, SimPlatform};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const HOUR: i64 = 3_600_000;

async fn sim() -> SimHandle {
    let mut coop = SimPlatform::coop("snapchat", "coop-key");
    if let SimKind::Coop(c) = &mut coop.kind {
        c.key = CoopKey::SharedPerProcess;
    }
    let push = SimPlatform::http_json("instagram", WHSEC);
    // a partner's webhook receiver: any signed event is taken and kept
    let hook = SimPlatform::http_json("partnerhub", WHSEC);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    rempart_platform_sim::spawn(SimConfig::with_platforms(vec![coop, push, hook]), listener)
        .await
        .unwrap()
}

async fn app(sim: &SimHandle) -> (TestApp, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "rempart-followup-{}-{}",
        std::process::id(),
        rempart_app::random_hex(6).unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platforms.toml");
    std::fs::write(
        &file,
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

[[platform]]
code = "partnerhub"
name = "Partner Hub"
expected_hours = 24
id_hint_fr = "lien"
id_hint_en = "link"

[[platform.channel]]
kind = "rempart_api"
webhook_url = "{hook}"
webhook_secret = "partnerhub_hook"

[[platform]]
code = "formsite"
name = "Form Site"
expected_hours = 24
id_hint_fr = "lien"
id_hint_en = "link"

[[platform.channel]]
kind = "portal"
url = "https://formsite.example.invalid/report"
"#,
            coop = sim.coop_base_url("snapchat"),
            push = sim.http_json_url("instagram"),
            hook = sim.http_json_url("partnerhub"),
        ),
    )
    .unwrap();
    let f = file.clone();
    let t = TestApp::spawn_with(move |s| {
        s.helpline.platforms_file = Some(f);
        s.delivery.allow_local_endpoints = true;
        s.delivery.timeout_seconds = 2;
        s.delivery.poll_ms = 20;
        s.delivery.escalation_check_ms = 20;
        s.secrets.platforms.insert(
            "snapchat_coop".into(),
            rempart_app::secret::Secret::new("coop-key"),
        );
        s.secrets.platforms.insert(
            "instagram_push".into(),
            rempart_app::secret::Secret::new(WHSEC),
        );
        s.secrets.platforms.insert(
            "partnerhub_hook".into(),
            rempart_app::secret::Secret::new(WHSEC),
        );
    })
    .await;
    (t, dir)
}

/// Waits (10 s at most) until `look` gives something.
async fn until<T>(what: &str, mut look: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = look().await {
            return v;
        }
        assert!(Instant::now() < deadline, "waited in vain: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn notice(t: &TestApp, token: &str, id: &str) -> Value {
    t.get(&format!("/api/v1/notices/{id}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

async fn list(t: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let r = t.get(&format!("/api/v1/notices{query}"), Some(token)).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn ids(v: &Value) -> Vec<String> {
    v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn page(t: &TestApp, cookie: &str, path: &str) -> String {
    let r = t
        .http
        .get(t.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_late_notice_is_escalated_reminded_listed_first_and_its_refusal_contested() {
    let sim = sim().await;
    let (t, dir) = app(&sim).await;
    let c = t.staff(Role::Counsellor, None).await;
    let mut tok = t.token(&c).await;
    let sup = t.staff(Role::Supervisor, None).await;

    let (case, pushed) = t.sent_notice(&tok, "instagram").await;
    let (_, coop) = t.sent_notice(&tok, "snapchat").await;
    for id in [&pushed, &coop] {
        until("delivered", async || {
            notice(&t, &tok, id).await["delivered_at"].as_i64()
        })
        .await;
    }
    let (s, v) = list(&t, &tok, "?late=1").await;
    assert_eq!((s, ids(&v)), (200, vec![]), "nothing is late yet");

    // a third notice, sent an hour later, is not due when the first two are
    // (sessions do not outlive hours of the moved clock: each step logs in again)
    t.clock.advance(HOUR);
    tok = t.token(&c).await;
    let (_, third) = t.sent_notice(&tok, "instagram").await;
    t.clock.advance(24 * HOUR - HOUR / 2);
    let tok = t.token(&c).await;
    let sup_tok = t.token(&sup).await;
    let (sup_cookie, _) = t.console_login(&sup).await;
    let n = until("the coop notice escalated", async || {
        let n = notice(&t, &tok, &coop).await;
        (n["state"] == "escalated").then_some(n)
    })
    .await;
    assert_eq!(n["reminders"], 0, "Coop's API carries no reminder");
    let n = notice(&t, &tok, &pushed).await;
    assert_eq!(n["state"], "escalated");
    assert_eq!(n["reminders"], 1);
    assert_eq!(
        notice(&t, &tok, &third).await["state"],
        "sent",
        "not due yet"
    );
    let (_, v) = list(&t, &tok, "?late=1").await;
    // the same due time: in the order they were drafted
    assert_eq!(
        ids(&v),
        vec![pushed.clone(), coop.clone()],
        "most overdue first"
    );

    // the reminder reached the receiver, signed, with its own id; Coop got nothing more
    let got = until("the reminder", async || {
        let got = sim.received("instagram").unwrap();
        (got.len() == 3).then_some(got)
    })
    .await;
    let reminder = got
        .iter()
        .find(|r| r.webhook_id.as_deref() == Some(&format!("notice:{pushed}:reminder:1")))
        .expect("the reminder's webhook-id");
    assert_eq!(reminder.body["type"], "notice.reminder");
    assert_eq!(
        reminder.body["notice"]["reference"],
        notice(&t, &tok, &pushed).await["reference"]
    );
    assert_eq!(sim.received("snapchat").unwrap().len(), 1);

    // the supervisors' menu says it, the late view lists it, the case timeline tells it
    let html = until("the supervisors' alert", async || {
        let html = page(&t, &sup_cookie, "/notices").await;
        html.contains("id=\"nav-late\"").then_some(html)
    })
    .await;
    assert!(html.contains("2 en retard"), "{html}");
    let html = page(&t, &sup_cookie, "/notices?late=1").await;
    assert!(html.contains(&format!("id=\"notice-{pushed}\"")));
    assert!(!html.contains(&format!("id=\"notice-{third}\"")));
    let html = page(&t, &sup_cookie, &format!("/cases/{case}")).await;
    assert!(
        html.contains("signalement en retard : relance de la plateforme"),
        "timeline"
    );
    assert!(html.contains(&format!("id=\"escalated-{pushed}\"")));

    // a refusal is contested with a reason the platform receives
    let r = t
        .post_json(
            &format!("/api/v1/notices/{pushed}/contest"),
            Some(&tok),
            json!({"reason": "Le compte publie toujours les photos."}),
        )
        .await;
    assert_eq!(r.status(), 409, "only a refusal can be contested");
    let r = t
        .post_json(
            &format!("/api/v1/notices/{pushed}/decision"),
            Some(&tok),
            json!({"decision": "refused"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    for (body, code) in [
        (json!({"reason": "  "}), 422),
        (json!({"reason": "x", "extra": 1}), 422),
        (json!({}), 422),
    ] {
        let r = t
            .post_json(
                &format!("/api/v1/notices/{pushed}/contest"),
                Some(&tok),
                body.clone(),
            )
            .await;
        assert_eq!(r.status(), code, "{body}");
    }
    assert_eq!(
        notice(&t, &tok, &pushed).await["state"],
        "refused",
        "nothing written"
    );
    let r = t
        .post_json(
            &format!("/api/v1/notices/{pushed}/contest"),
            Some(&tok),
            json!({"reason": "Le compte publie toujours les photos."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let n: Value = r.json().await.unwrap();
    assert_eq!(
        (n["state"].as_str(), n["reminders"].as_u64()),
        (Some("escalated"), Some(2))
    );
    let got = until("the contest", async || {
        sim.received("instagram")
            .unwrap()
            .into_iter()
            .find(|r| r.webhook_id.as_deref() == Some(&format!("notice:{pushed}:reminder:2")))
    })
    .await;
    assert_eq!(got.body["type"], "notice.contest");
    assert_eq!(got.body["reason"], "Le compte publie toujours les photos.");
    // the supervisor sees it all; the platform's page lists its open notices
    let (_, v) = list(&t, &sup_tok, "").await;
    assert!(ids(&v).contains(&third));
    let html = page(&t, &sup_cookie, "/platforms/instagram").await;
    assert!(html.contains("id=\"open-notices\""));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_notices_list_filters_keeps_to_the_readers_cases_and_platform_figures_are_real_times() {
    let sim = sim().await;
    let (t, dir) = app(&sim).await;
    let c = t.staff(Role::Counsellor, Some("nord")).await;
    let tok = t.token(&c).await;
    let outsider = t.staff(Role::Counsellor, Some("sud")).await;
    let adm = t.staff(Role::Admin, None).await;

    let (_, a) = t.sent_notice(&tok, "instagram").await;
    let (_, b) = t.sent_notice(&tok, "snapchat").await;
    for id in [&a, &b] {
        until("delivered", async || {
            notice(&t, &tok, id).await["delivered_at"].as_i64()
        })
        .await;
    }
    // removed two hours after sending, refused after five
    t.clock.advance(2 * HOUR);
    let tok = t.token(&c).await;
    let r = t
        .post_json(
            &format!("/api/v1/notices/{a}/decision"),
            Some(&tok),
            json!({"decision": "content_removed"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    t.clock.advance(3 * HOUR);
    let tok = t.token(&c).await;
    let out_tok = t.token(&outsider).await;
    let adm_tok = t.token(&adm).await;
    let r = t
        .post_json(
            &format!("/api/v1/notices/{b}/decision"),
            Some(&tok),
            json!({"decision": "refused"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let (_, v) = list(&t, &tok, "").await;
    assert_eq!(
        ids(&v),
        vec![b.clone(), a.clone()],
        "most recently changed first"
    );
    let (_, v) = list(&t, &tok, "?platform=instagram").await;
    assert_eq!(ids(&v), vec![a.clone()]);
    let (_, v) = list(&t, &tok, "?state=refused").await;
    assert_eq!(ids(&v), vec![b.clone()]);
    let (_, v) = list(&t, &tok, "?category=cyber_harassment&limit=1").await;
    assert_eq!(ids(&v), vec![b.clone()]);
    let cursor = v["next_cursor"].as_str().unwrap().to_owned();
    let (_, v) = list(
        &t,
        &tok,
        &format!("?category=cyber_harassment&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&v), vec![a.clone()]);
    assert!(v["next_cursor"].is_null());
    let (_, v) = list(&t, &tok, "?category=sextortion").await;
    assert_eq!(ids(&v), Vec::<String>::new());
    // another team's counsellor sees none of them; an administrator is not shown cases
    let (_, v) = list(&t, &out_tok, "").await;
    assert_eq!(ids(&v), Vec::<String>::new());
    let (s, _) = list(&t, &adm_tok, "").await;
    assert_eq!(s, 404);
    // a team-mate sees the team's notices; a case of another team assigned to the
    // counsellor brings its notices to the counsellor (and to that team), not to the mate
    let mate = t.staff(Role::Counsellor, Some("nord")).await;
    let mate_tok = t.token(&mate).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let sup_tok = t.token(&sup).await;
    let (_, v) = list(&t, &mate_tok, "").await;
    assert_eq!(ids(&v), vec![b.clone(), a.clone()]);
    let (south_case, south) = t.sent_notice(&out_tok, "instagram").await;
    let r = t
        .put_json(
            &format!("/api/v1/cases/{south_case}/assignees"),
            Some(&sup_tok),
            json!({"assignees": [outsider.id.to_string(), c.id.to_string()]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (_, v) = list(&t, &tok, "").await;
    assert_eq!(ids(&v), vec![south.clone(), b.clone(), a.clone()]);
    let (_, v) = list(&t, &tok, "?platform=instagram&limit=1").await;
    assert_eq!(ids(&v), vec![south.clone()]);
    let cursor = v["next_cursor"].as_str().unwrap().to_owned();
    let (_, v) = list(
        &t,
        &tok,
        &format!("?platform=instagram&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&v), vec![a.clone()]);
    let (_, v) = list(&t, &mate_tok, "").await;
    assert_eq!(ids(&v), vec![b.clone(), a.clone()]);
    let (_, v) = list(&t, &out_tok, "").await;
    assert_eq!(ids(&v), vec![south.clone()]);
    for bad in [
        "?state=lost",
        "?late=2",
        "?limit=0",
        "?platform=a%20b",
        "?cursor=zz",
        "?sort=x",
    ] {
        let (s, v) = list(&t, &tok, bad).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (422, Some("invalid_field")),
            "{bad}: {v}"
        );
    }

    let f: Value = t
        .get("/api/v1/platforms/instagram/figures", Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["sent"], 2, "the two notices sent to Instagram");
    assert_eq!(f["to_removal"]["count"], 1);
    assert_eq!(f["to_removal"]["median_ms"], 2 * HOUR);
    assert_eq!(f["to_decision"]["p90_ms"], 2 * HOUR);
    let f: Value = t
        .get("/api/v1/platforms/snapchat/figures", Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["to_decision"]["median_ms"], 5 * HOUR);
    assert_eq!(f["to_removal"]["count"], 0);
    assert!(f["to_removal"]["median_ms"].is_null());
    let r = t.get("/api/v1/platforms/nowhere/figures", Some(&tok)).await;
    assert_eq!(r.status(), 404);
    let (cookie, _) = t.console_login(&c).await;
    let html = page(&t, &cookie, "/platforms/instagram").await;
    assert!(html.contains("id=\"followup-to-removal\""));
    assert!(html.contains("2 h 00 min"), "the median in words");
    let html = page(&t, &cookie, "/notices?platform=snapchat").await;
    assert!(html.contains(&format!("id=\"notice-{b}\"")));
    assert!(!html.contains(&format!("id=\"notice-{a}\"")));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_partners_late_notice_rings_its_webhook_again_and_a_portals_is_left_to_a_counsellor() {
    let sim = sim().await;
    let (t, dir) = app(&sim).await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (_, partner) = t.sent_notice(&tok, "partnerhub").await;
    let (_, portal) = t.sent_notice(&tok, "formsite").await;
    // the partner is told once at sending
    until("the notice.available event", async || {
        let got = sim.received("partnerhub").unwrap();
        (got.len() == 1).then_some(())
    })
    .await;
    t.clock.advance(25 * HOUR);
    let tok = t.token(&c).await;
    for id in [&partner, &portal] {
        until("escalated", async || {
            (notice(&t, &tok, id).await["state"] == "escalated").then_some(())
        })
        .await;
    }
    assert_eq!(notice(&t, &tok, &partner).await["reminders"], 1);
    assert_eq!(
        notice(&t, &tok, &portal).await["reminders"],
        0,
        "reminded by hand"
    );
    // the portal's copy-ready view: the form's address and each element to paste
    let (cookie, _) = t.console_login(&c).await;
    let case = notice(&t, &tok, &portal).await["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let html = page(&t, &cookie, &format!("/cases/{case}")).await;
    assert!(html.contains(&format!("id=\"portal-{portal}\"")));
    assert!(
        html.contains("formsite.example.invalid"),
        "the form's address"
    );
    assert!(html.contains("class=\"copy\""));
    assert!(html.contains("relancer la plateforme à la main"));
    let got = until("the reminder event", async || {
        let got = sim.received("partnerhub").unwrap();
        (got.len() == 2).then_some(got)
    })
    .await;
    assert_eq!(
        got[1].webhook_id.as_deref(),
        Some(format!("notice:{partner}:available:reminder-1").as_str())
    );
    assert_eq!(got[1].body["type"], "notice.available");
    let _ = std::fs::remove_dir_all(dir);
}
