//! The young person's follow-up page, through the real server: a counsellor gives the code
//! and the secret (shown once); the page opens with them, says where the case stands in
//! plain words and never a member of staff's name, takes messages, a file and fingerprints;
//! wrong secrets lock the code, openings are limited per address, every form needs its
//! token, a page idle for 30 minutes closes, and quick exit closes it and leaves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::ids::CaseId;
use rempart_domain::policy::Role;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use support::*;

/// A young person's browser: its cookies for the page.
struct Phone {
    csrf: String,
    token: Option<String>,
}

impl Phone {
    fn cookie(&self) -> String {
        match &self.token {
            Some(t) => format!("rempart_fu_csrf={}; rempart_followup={t}", self.csrf),
            None => format!("rempart_fu_csrf={}", self.csrf),
        }
    }
}

async fn phone(t: &TestApp) -> Phone {
    let r = t.http.get(t.url("/follow-up")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let csrf = set_cookie(&r, "rempart_fu_csrf").unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"quick-exit\""));
    assert_eq!(attr_after(&html, "name=\"fu_csrf\" value=\""), csrf);
    Phone { csrf, token: None }
}

async fn try_open(t: &TestApp, p: &mut Phone, code: &str, secret: &str) -> (u16, String) {
    let r = t
        .http
        .post(t.url("/follow-up"))
        .header("cookie", p.cookie())
        .form(&[
            ("fu_csrf", p.csrf.as_str()),
            ("code", code),
            ("secret", secret),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    if let Some(tok) = set_cookie(&r, "rempart_followup") {
        p.token = Some(tok);
    }
    (status, r.text().await.unwrap())
}

async fn post(t: &TestApp, p: &Phone, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut f: Vec<(&str, &str)> = vec![("fu_csrf", p.csrf.as_str())];
    f.extend_from_slice(fields);
    t.http
        .post(t.url(path))
        .header("cookie", p.cookie())
        .form(&f)
        .send()
        .await
        .unwrap()
}

async fn view(t: &TestApp, p: &Phone) -> String {
    let r = t
        .http
        .get(t.url("/follow-up"))
        .header("cookie", p.cookie())
        .send()
        .await
        .unwrap();
    r.text().await.unwrap()
}

/// The text after `marker`, up to the next tag.
fn text_after(html: &str, marker: &str) -> String {
    let i = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not found"))
        + marker.len();
    html[i..].split('<').next().unwrap_or("").to_owned()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_young_person_follows_the_case_with_a_code_and_a_secret() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let bearer = t.token(&counsellor).await;
    let case = t.new_case(&bearer, "suivi").await;
    let (cookie, csrf) = t.console_login(&counsellor).await;

    // the counsellor gives the code: the answer shows the code and the secret, once
    let r = t
        .post_form(
            &cookie,
            &format!("/cases/{case}/follow-up"),
            &[("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let code = text_after(&html, "<code id=\"fu-code\">");
    let secret = text_after(&html, "<code id=\"fu-secret\">");
    assert_eq!(code.len(), 9, "{code}");
    assert_eq!(secret.len(), 19, "{secret}");
    let (_, again) = t.page(&cookie, &format!("/cases/{case}")).await;
    assert!(!again.contains(&secret), "the secret is shown once");
    assert!(again.contains(&code));

    // the young person: a wrong secret, then the right one typed loosely
    let mut p = phone(&t).await;
    let (status, html) = try_open(&t, &mut p, &code, "AAAA-AAAA-AAAA-AAAA").await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"fu-error\""));
    assert!(p.token.is_none());
    let loose = secret.to_lowercase().replace('-', " ");
    let (status, _) = try_open(&t, &mut p, &code.to_lowercase(), &loose).await;
    assert_eq!(status, 303);
    assert!(p.token.is_some());

    // plain words, no staff name
    let page = view(&t, &p).await;
    assert!(page.contains("id=\"fu-state\""), "{page}");
    assert!(page.contains("Votre demande est bien reçue"));
    assert!(!page.contains(&counsellor.display_name));
    assert!(!page.contains(&counsellor.email));

    // a message, and the counsellor's answer
    let r = post(
        &t,
        &p,
        "/follow-up/messages",
        &[("body", "il a recommencé hier")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/follow-up?done=sent");
    let r = t
        .post_form(
            &cookie,
            &format!("/cases/{case}/follow-up/messages"),
            &[
                ("_csrf", csrf.as_str()),
                ("body", "Merci, nous avons signalé le compte."),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let page = view(&t, &p).await;
    assert!(page.contains("il a recommencé hier"));
    assert!(page.contains("Merci, nous avons signalé le compte."));
    assert!(!page.contains(&counsellor.display_name));
    let (_, staff_page) = t.page(&cookie, &format!("/cases/{case}")).await;
    assert!(staff_page.contains("il a recommencé hier"));

    // a file (its token before the file) and a picture's fingerprints
    let png = rempart_media::testing::phone_png(320, 240, 5);
    let form = Form::new()
        .text("fu_csrf", p.csrf.clone())
        .text("kind", "screenshot")
        .text("description", "la capture")
        .part("file", Part::bytes(png).file_name("capture.png"));
    let r = t
        .http
        .post(t.url("/follow-up/evidence"))
        .header("cookie", p.cookie())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/follow-up?done=evidence");
    let sha = "ab".repeat(32);
    let r = post(
        &t,
        &p,
        "/follow-up/fingerprints",
        &[
            ("sha256", sha.as_str()),
            ("pdq", &"0f".repeat(32)),
            ("pdq_quality", "77"),
            ("url", "https://www.instagram.com/p/xyz/"),
            ("sexual_image_of_minor", "true"),
        ],
    )
    .await;
    assert_eq!(location(&r), "/follow-up?done=fingerprint");
    let list: Value = t
        .get(&format!("/api/v1/cases/{case}/evidence"), Some(&bearer))
        .await
        .json()
        .await
        .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|e| e["source"] == "young_person"));
    assert!(list.iter().all(|e| e["captured_from"] == "follow_up_page"));
    assert!(list.iter().all(|e| e["added_by"].is_null()));
    assert_eq!(list[1]["kind"], "hash_only");
    assert_eq!(list[1]["sexual_image_of_minor"], true);
    assert_eq!(list[1]["copies"], serde_json::json!([]));

    // a file sent before its token, or a form with another token: refused
    let form = Form::new()
        .part("file", Part::bytes(b"x".to_vec()).file_name("x.png"))
        .text("fu_csrf", p.csrf.clone());
    let r = t
        .http
        .post(t.url("/follow-up/evidence"))
        .header("cookie", p.cookie())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let forged = Phone {
        csrf: "d".repeat(64),
        token: p.token.clone(),
    };
    let r = t
        .http
        .post(t.url("/follow-up/messages"))
        .header("cookie", forged.cookie())
        .form(&[("fu_csrf", p.csrf.as_str()), ("body", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // audit: opened, a failure, messages both ways
    let trail = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            case_id: Some(CaseId::parse(&case).unwrap()),
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|a| a.action.as_str()).collect();
    for a in [
        "followup.issued",
        "followup.failed",
        "followup.opened",
        "followup.message",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }

    // quick exit: the page closes and the browser leaves for the neutral site
    let r = post(&t, &p, "/follow-up/exit", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        t.app.settings().helpline.quick_exit_url.as_str()
    );
    assert_eq!(set_cookie(&r, "rempart_followup").as_deref(), Some(""));
    let page = view(&t, &p).await;
    assert!(page.contains("name=\"secret\""), "the code form again");
    let r = post(&t, &p, "/follow-up/messages", &[("body", "after exit")]).await;
    assert_eq!(location(&r), "/follow-up?error=fu-error-expired");
    // quick exit leaves even with a stale form token
    let stale = Phone {
        csrf: "e".repeat(64),
        token: None,
    };
    let r = t
        .http
        .post(t.url("/follow-up/exit"))
        .header("cookie", stale.cookie())
        .form(&[("fu_csrf", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        t.app.settings().helpline.quick_exit_url.as_str()
    );
}

#[tokio::test]
async fn wrong_secrets_lock_the_code_and_openings_are_limited_per_address() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let bearer = t.token(&counsellor).await;
    let case = t.new_case(&bearer, "verrou").await;
    let actor = rempart_domain::policy::Actor {
        id: counsellor.id,
        role: Role::Counsellor,
        team: None,
    };
    let issued = t
        .app
        .issue_followup(&actor, CaseId::parse(&case).unwrap())
        .await
        .unwrap();
    let mut p = phone(&t).await;
    for _ in 0..4 {
        let (status, _) = try_open(&t, &mut p, &issued.code, "AAAA-AAAA-AAAA-AAAA").await;
        assert_eq!(status, 422);
    }
    // the fifth wrong secret locks the code: then even the right one is refused
    let (status, html) = try_open(&t, &mut p, &issued.code, "AAAA-AAAA-AAAA-AAAA").await;
    assert_eq!(status, 429);
    assert!(html.contains("bloqué"), "{html}");
    let (status, html) = try_open(&t, &mut p, &issued.code, &issued.secret).await;
    assert_eq!(status, 429, "{html}");
    assert!(p.token.is_none());
    // the console says so
    let (cookie, _) = t.console_login(&counsellor).await;
    let (_, staff_page) = t.page(&cookie, &format!("/cases/{case}")).await;
    assert!(staff_page.contains("bloqué"));
    // after the lock (15 minutes) the right secret opens it
    t.clock.advance(15 * 60 * 1000 + 1);
    let (status, _) = try_open(&t, &mut p, &issued.code, &issued.secret).await;
    assert_eq!(status, 303);
    // 30 minutes without use: the page is closed
    t.clock.advance(30 * 60 * 1000 + 1);
    let page = view(&t, &p).await;
    assert!(page.contains("name=\"secret\""));

    // openings from one address: 10 at once, then refused for a minute
    let mut q = phone(&t).await;
    let mut limited = 0;
    for i in 0..12 {
        let (status, _) =
            try_open(&t, &mut q, &format!("ZZZZ-ZZ{i:02}"), "AAAA-AAAA-AAAA-AAAA").await;
        if status == 429 {
            limited += 1;
        }
    }
    assert_eq!(limited, 2);
}

#[tokio::test]
async fn the_pages_writes_are_limited_per_address_and_per_case() {
    let t = TestApp::spawn_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let bearer = t.token(&counsellor).await;
    let case = t.new_case(&bearer, "limites").await;
    let (cookie, csrf) = t.console_login(&counsellor).await;
    let html = t
        .post_form(
            &cookie,
            &format!("/cases/{case}/follow-up"),
            &[("_csrf", csrf.as_str())],
        )
        .await
        .text()
        .await
        .unwrap();
    let code = text_after(&html, "<code id=\"fu-code\">");
    let secret = text_after(&html, "<code id=\"fu-secret\">");
    let mut p = phone(&t).await;
    let (status, _) = try_open(&t, &mut p, &code, &secret).await;
    assert_eq!(status, 303);
    let say = |from: &'static str, n: usize| {
        let (t, p) = (&t, &p);
        async move {
            t.http
                .post(t.url("/follow-up/messages"))
                .header("cookie", p.cookie())
                .header("x-forwarded-for", from)
                .form(&[
                    ("fu_csrf", p.csrf.as_str()),
                    ("body", &format!("message {n}")),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let thread = || async {
        t.store
            .followup_messages(rempart_domain::ids::CaseId::parse(&case).unwrap())
            .await
            .unwrap()
            .len()
    };
    // one address: 20, then refused (nothing written)
    for n in 0..20 {
        assert_eq!(
            location(&say("203.0.113.1", n).await),
            "/follow-up?done=sent"
        );
    }
    assert_eq!(
        location(&say("203.0.113.1", 20).await),
        "/follow-up?error=fu-error-rate"
    );
    assert_eq!(thread().await, 20);
    // other addresses go on — fingerprints count too — until the case's own limit: 40 writes
    let r = post(
        &t,
        &p,
        "/follow-up/fingerprints",
        &[("sha256", &"ab".repeat(32))],
    )
    .await;
    assert_eq!(location(&r), "/follow-up?done=fingerprint");
    for n in 0..19 {
        assert_eq!(
            location(&say("203.0.113.2", n).await),
            "/follow-up?done=sent"
        );
    }
    assert_eq!(
        location(&say("203.0.113.3", 0).await),
        "/follow-up?error=fu-error-rate"
    );
    let r = post(
        &t,
        &p,
        "/follow-up/fingerprints",
        &[("sha256", &"cd".repeat(32))],
    )
    .await;
    assert_eq!(location(&r), "/follow-up?error=fu-error-rate");
    assert_eq!(thread().await, 39);
    // the refusal is said on the page
    let page = view(&t, &p).await;
    assert!(page.contains("id=\"quick-exit\""));
}
