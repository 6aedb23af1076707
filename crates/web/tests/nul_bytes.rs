//! A NUL byte anywhere in the input is refused or answered like any unknown value, never
//! with a 5xx: PostgreSQL refuses a NUL in a query (run with REMPART_TEST_POSTGRES).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::Role;
use reqwest::Method;
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_nul_byte_never_gives_a_server_error() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, Some("nord")).await;
    let a = t.staff(Role::Admin, None).await;
    let tok = t.token(&c).await;
    let adm = t.token(&a).await;
    let case = t.new_case(&tok, "Compte usurpé").await;
    let n = "a\u{0}b";
    let role = format!("/api/v1/staff/{}/role", c.id);
    let items = format!("/api/v1/cases/{case}/items");
    let calls = [
        (
            Method::POST,
            "/api/v1/auth/login",
            &tok,
            json!({"email": n, "password": n}),
        ),
        (Method::POST, "/api/v1/auth/totp", &tok, json!({"code": n})),
        (
            Method::POST,
            "/api/v1/cases",
            &tok,
            json!({"title": n, "age_band": "11_14", "team": n}),
        ),
        (
            Method::POST,
            "/api/v1/cases",
            &tok,
            json!({"title": "t", "age_band": "11_14", "articles": [n], "categories": [n]}),
        ),
        (
            Method::POST,
            &items,
            &tok,
            json!({"platform": n, "content_type": "post", "native_id": n}),
        ),
        (
            Method::POST,
            &items,
            &tok,
            json!({"platform": "instagram", "content_type": "post", "url": format!("https://x.example/{n}")}),
        ),
        (
            Method::POST,
            "/api/v1/contacts",
            &tok,
            json!({"channel": "phone", "caller_type": "victim", "age_band": "11_14", "summary": n, "outcome": "listened", "categories": [n]}),
        ),
        (
            Method::POST,
            "/api/v1/invitations",
            &adm,
            json!({"email": n, "display_name": n, "role": "counsellor", "team": n, "lang": n}),
        ),
        (
            Method::PUT,
            &role,
            &adm,
            json!({"role": "counsellor", "team": n}),
        ),
        (
            Method::POST,
            "/api/v1/invitations/accept",
            &tok,
            json!({"token": n, "password": "a long enough password"}),
        ),
        (
            Method::POST,
            "/widget/v1/sessions",
            &tok,
            json!({"lang": n, "device": n}),
        ),
        (
            Method::POST,
            "/widget/v1/follow-up",
            &tok,
            json!({"code": n}),
        ),
    ];
    let mut failures = vec![];
    for (method, path, token, body) in calls {
        let r = t
            .req(method.clone(), path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap();
        if r.status().is_server_error() {
            failures.push(format!("{method} {path} {body}: {}", r.status()));
        }
    }
    for q in ["q", "category", "cursor", "status", "assignee"] {
        let path = format!("/api/v1/cases?{q}=a%00b");
        let r = t.get(&path, Some(&tok)).await;
        if r.status().is_server_error() {
            failures.push(format!("GET {path}: {}", r.status()));
        }
    }
    for (method, path, token) in [
        (Method::GET, "/api/v1/cases/a%00b", &tok),
        (Method::POST, "/api/v1/chats/a%00b/take", &tok),
        (Method::GET, "/api/v1/audit?case_id=a%00b&actor=a%00b", &adm),
        (Method::POST, "/api/v1/staff/a%00b/disable", &adm),
        (Method::POST, "/api/v1/invitations/a%00b/approve", &adm),
        (Method::POST, "/api/v1/invitations/a%00b/refuse", &adm),
        (Method::POST, "/api/v1/invitations/a%00b/revoke", &adm),
        (Method::POST, "/api/v1/role-grants/a%00b/approve", &adm),
        (Method::POST, "/api/v1/role-grants/a%00b/refuse", &adm),
    ] {
        let r = t
            .req(method.clone(), path, Some(token))
            .send()
            .await
            .unwrap();
        if r.status().is_server_error() {
            failures.push(format!("{method} {path}: {}", r.status()));
        } else if path.contains("/a%00b") {
            assert_eq!(r.status(), 404, "{method} {path}: like an unknown id");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
