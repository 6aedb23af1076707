//! Bad inputs: each gets a clear 4xx with a stable code, and leaves nothing half-written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rempart_domain::policy::Role;
use reqwest::Method;
use serde_json::{Value, json};
use support::*;

async fn counts(t: &TestApp) -> (i64, u64) {
    (
        t.store.case_count().await.unwrap(),
        t.store.audit_verify(vec![]).await.unwrap().checked,
    )
}

async fn raw(t: &TestApp, tok: &str, path: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
    let r = t
        .req(Method::POST, path, Some(tok))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_and_hostile_json_is_refused_and_writes_nothing() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let before = counts(&t).await;
    let json_ct = "application/json";
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("truncated", b"{\"title\": \"x\"".to_vec(), 400, "malformed_body"),
        ("not json", b"title=x".to_vec(), 400, "malformed_body"),
        ("10k-deep nesting", deep.into_bytes(), 422, "invalid_field"),
        ("10k-deep nesting in a field", format!(r#"{{"title": {}, "age_band": "11_14"}}"#, "[".repeat(10_000) + &"]".repeat(10_000)).into_bytes(), 422, "invalid_field"),
        ("invalid utf-8 (overlong)", b"{\"title\": \"\xC0\xAF\", \"age_band\": \"11_14\"}".to_vec(), 400, "malformed_body"),
        ("lone surrogate", br#"{"title": "\ud800", "age_band": "11_14"}"#.to_vec(), 400, "malformed_body"),
        ("huge number", br#"{"title": "x", "age_band": "11_14", "contact": {"channel": "phone", "caller_type": "victim", "age_band": "11_14", "summary": "s", "outcome": "listened", "started_at": 1e999}}"#.to_vec(), 400, "malformed_body"),
        ("duplicate keys", br#"{"title": "x", "title": "y", "age_band": "11_14"}"#.to_vec(), 422, "invalid_field"),
        ("type confusion", br#"{"title": ["x"], "age_band": "11_14"}"#.to_vec(), 422, "invalid_field"),
        ("missing field", br#"{"title": "x"}"#.to_vec(), 422, "invalid_field"),
        ("mass assignment: role", br#"{"title": "x", "age_band": "11_14", "role": "admin"}"#.to_vec(), 422, "unknown_field"),
        ("mass assignment: account_id", br#"{"title": "x", "age_band": "11_14", "account_id": 7}"#.to_vec(), 422, "unknown_field"),
        ("mass assignment: status", br#"{"title": "x", "age_band": "11_14", "status": "closed"}"#.to_vec(), 422, "unknown_field"),
        ("invalid enum", br#"{"title": "x", "age_band": "{\"$ne\":null}"}"#.to_vec(), 422, "invalid_field"),
        ("unknown category", br#"{"title": "x", "age_band": "11_14", "categories": ["' OR 1=1--"]}"#.to_vec(), 422, "invalid_field"),
        ("empty title", br#"{"title": "  \u0000 ", "age_band": "11_14"}"#.to_vec(), 422, "invalid_field"),
        ("title too long", format!(r#"{{"title": "{}", "age_band": "11_14"}}"#, "é".repeat(201)).into_bytes(), 422, "invalid_field"),
        ("bad contact inside a valid case", br#"{"title": "x", "age_band": "11_14", "contact": {"channel": "pigeon", "caller_type": "victim", "age_band": "11_14", "summary": "s", "outcome": "listened"}}"#.to_vec(), 422, "invalid_field"),
        ("10 MiB body", vec![b' '; 10 * 1024 * 1024], 413, "payload_too_large"),
    ];
    for (name, body, status, code) in cases {
        let (st, v) = raw(&t, &tok, "/api/v1/cases", json_ct, body).await;
        assert_eq!(
            (st, v["error"].as_str().unwrap_or("")),
            (status, code),
            "{name}: {v}"
        );
        assert!(v["message"].is_string(), "{name}: a message");
    }
    let (st, v) = raw(&t, &tok, "/api/v1/cases", "text/plain", b"{}".to_vec()).await;
    assert_eq!(
        (st, v["error"].as_str().unwrap()),
        (415, "unsupported_media_type")
    );
    assert_eq!(counts(&t).await, before, "nothing was written");
    // a BOM-prefixed body is fine
    let (st, _) = raw(
        &t,
        &tok,
        "/api/v1/cases",
        json_ct,
        b"\xEF\xBB\xBF{\"title\": \"x\", \"age_band\": \"11_14\"}".to_vec(),
    )
    .await;
    assert_eq!(st, 201);
}

#[tokio::test]
async fn ids_and_other_cases_leak_nothing() {
    let t = TestApp::spawn().await;
    let a = t.staff(Role::Counsellor, Some("nord")).await;
    let b = t.staff(Role::Counsellor, Some("sud")).await;
    let ta = t.token(&a).await;
    let tb = t.token(&b).await;
    let theirs = t.new_case(&tb, "Dossier de l'autre équipe").await;
    let ghost = rempart_domain::ids::CaseId::new().to_string();
    let r1 = t.get(&format!("/api/v1/cases/{theirs}"), Some(&ta)).await;
    let r2 = t.get(&format!("/api/v1/cases/{ghost}"), Some(&ta)).await;
    assert_eq!(r1.status(), 404);
    assert_eq!(
        r1.text().await.unwrap(),
        r2.text().await.unwrap(),
        "another case's id answers exactly like a missing one"
    );
    for bad in ["not-an-id", "1", "..%2F..%2Fetc%2Fpasswd", "' OR 1=1--"] {
        assert_eq!(
            t.get(&format!("/api/v1/cases/{bad}"), Some(&ta))
                .await
                .status(),
            404,
            "{bad}"
        );
    }
    let before = counts(&t).await;
    for path in ["status", "items", "notes"] {
        let body = match path {
            "status" => json!({"status": "closed", "outcome": "refused"}),
            "items" => {
                json!({"platform": "instagram", "content_type": "account", "native_id": "@x"})
            }
            _ => json!({"visibility": "team", "body": "x"}),
        };
        let r = t
            .post_json(&format!("/api/v1/cases/{theirs}/{path}"), Some(&ta), body)
            .await;
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = t
        .put_json(
            &format!("/api/v1/cases/{theirs}/assignees"),
            Some(&ta),
            json!({"assignees": [a.id.to_string()]}),
        )
        .await;
    assert_eq!(r.status(), 404, "no self-assignment to another team's case");
    let (cases, events) = counts(&t).await;
    assert_eq!(cases, before.0);
    assert_eq!(events, before.1 + 4, "only the four denials were audited");
    // joining someone else's case with a contact is refused too
    let r = t.post_json("/api/v1/contacts", Some(&ta), json!({"channel": "phone", "caller_type": "victim", "age_band": "11_14", "summary": "s", "outcome": "listened", "case_id": theirs})).await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn query_strings_are_checked() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    t.new_case(&tok, "Harcèlement").await;
    for (q, status) in [
        ("limit=1000000000", 422),
        ("limit=-1", 422),
        ("status=' OR 1=1--", 422),
        ("assignee=x", 422),
        ("cursor=zzz", 422),
        ("category=nope", 422),
        ("unknown=1", 422),
        ("q=' OR 1=1--", 200),
        ("q=%25", 200),
    ] {
        let r = t.get(&format!("/api/v1/cases?{q}"), Some(&tok)).await;
        assert_eq!(r.status(), status, "{q}");
        if status == 200 {
            let v: Value = r.json().await.unwrap();
            assert_eq!(
                v["cases"].as_array().unwrap().len(),
                0,
                "{q} matched nothing"
            );
        }
    }
    // the token is never taken from the query string
    assert_eq!(
        t.get(&format!("/api/v1/me?token={tok}"), None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn html_and_script_in_every_text_field_render_inert() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let xss =
        "<script>alert(1)</script><img src=x onerror=alert(2)>{{7*7}}\u{202E}gpj.exe\u{1b}[31m";
    let r = t
        .post_json(
            "/api/v1/cases",
            Some(&tok),
            json!({"title": xss, "age_band": "11_14", "contact": {"channel": "phone", "caller_type": "victim", "age_band": "11_14", "summary": xss, "outcome": "case_opened"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        t.post_json(
            &format!("/api/v1/cases/{id}/notes"),
            Some(&tok),
            json!({"visibility": "team", "body": xss})
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/cases/{id}/items"),
            Some(&tok),
            json!({"platform": "x", "content_type": "post", "native_id": xss.replace('\u{1b}', "")})
        )
        .await
        .status(),
        201
    );
    let r = t
        .post_json(
            &format!("/api/v1/cases/{id}/items"),
            Some(&tok),
            json!({"platform": "x", "content_type": "post", "url": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(r.status(), 422, "javascript: URLs are refused");
    // item URLs pointing at private, loopback or local addresses: refused, nothing stored
    let before = t
        .store
        .items(rempart_domain::ids::CaseId::parse(&id).unwrap())
        .await
        .unwrap()
        .len();
    for url in [
        "http://127.0.0.1/admin",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/",
        "http://192.168.1.1/",
        "http://localhost:8080/",
        "https://printer.local/",
    ] {
        let r = t
            .post_json(
                &format!("/api/v1/cases/{id}/items"),
                Some(&tok),
                json!({"platform": "x", "content_type": "post", "url": url}),
            )
            .await;
        assert_eq!(r.status(), 422, "{url}");
    }
    assert_eq!(
        t.store
            .items(rempart_domain::ids::CaseId::parse(&id).unwrap())
            .await
            .unwrap()
            .len(),
        before
    );
    let (cookie, _) = t.console_login(&c).await;
    for path in [
        format!("/cases/{id}"),
        "/cases".to_owned(),
        format!("/cases?q={}", "%3Cscript%3E"),
    ] {
        let html = t
            .http
            .get(t.url(&path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("<script>alert"), "{path}: raw script tag");
        assert!(!html.contains("<img src=x"), "{path}: raw img tag");
        assert!(
            html.contains("&lt;script&gt;alert(1)"),
            "{path}: shown as text"
        );
        assert!(
            html.contains("{{7*7}}"),
            "{path}: template syntax is shown, not evaluated"
        );
        assert!(
            !html.contains('\u{1b}'),
            "{path}: control characters are dropped"
        );
    }
}

#[tokio::test]
async fn forms_need_csrf_known_fields_and_valid_utf8() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let id = t.new_case(&tok, "t").await;
    let (cookie, csrf) = t.console_login(&c).await;
    let before = counts(&t).await;
    let post = |body: Vec<u8>| {
        t.http
            .post(t.url(&format!("/cases/{id}/notes")))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r = post(b"visibility=team&body=hello".to_vec()).await.unwrap();
    assert_eq!(r.status(), 403, "no CSRF token");
    let r = post(format!("visibility=team&body=hello&_csrf={}", "0".repeat(64)).into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "wrong CSRF token");
    let r = post(format!("visibility=team&body=hello&author_id=x&_csrf={csrf}").into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "unknown field");
    let r = post(format!("visibility=team&body=%C0%AF&_csrf={csrf}").into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "invalid UTF-8");
    let r = post(format!("visibility=psychologists&body=x&_csrf={csrf}").into_bytes())
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "a counsellor cannot write psychologists' notes"
    );
    let r = post(
        format!(
            "visibility=team&body={}&_csrf={csrf}",
            "a".repeat(300 * 1024)
        )
        .into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413);
    let after = counts(&t).await;
    assert_eq!(after.0, before.0);
    assert_eq!(
        after.1,
        before.1 + 1,
        "only the denied note write was audited"
    );
    let v: Value = t
        .get(&format!("/api/v1/cases/{id}"), Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        v["notes"].as_array().unwrap().is_empty(),
        "nothing half-written"
    );
    let r = post(format!("visibility=team&body=ok&_csrf={csrf}").into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // wrong method on a known route
    let r = t
        .http
        .delete(t.url(&format!("/cases/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn notes_are_shown_by_visibility() {
    let t = TestApp::spawn().await;
    let psy = t.staff(Role::Psychologist, Some("nord")).await;
    let law = t.staff(Role::Lawyer, Some("nord")).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let tp = t.token(&psy).await;
    let tl = t.token(&law).await;
    let id = t.new_case(&tp, "Suivi").await; // team nord
    assert_eq!(
        t.post_json(
            &format!("/api/v1/cases/{id}/notes"),
            Some(&tp),
            json!({"visibility": "psychologists", "body": "PSY-SECRET"})
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/cases/{id}/notes"),
            Some(&tl),
            json!({"visibility": "lawyers", "body": "LAW-SECRET"})
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        t.post_json(
            &format!("/api/v1/cases/{id}/notes"),
            Some(&tl),
            json!({"visibility": "psychologists", "body": "x"})
        )
        .await
        .status(),
        404
    );
    let read = |tok: String| {
        let path = format!("/api/v1/cases/{id}");
        let t = &t;
        async move { t.get(&path, Some(&tok)).await.text().await.unwrap() }
    };
    let as_psy = read(tp.clone()).await;
    assert!(as_psy.contains("PSY-SECRET") && !as_psy.contains("LAW-SECRET"));
    let as_law = read(tl.clone()).await;
    assert!(as_law.contains("LAW-SECRET") && !as_law.contains("PSY-SECRET"));
    let as_sup = read(t.token(&sup).await).await;
    assert!(!as_sup.contains("LAW-SECRET") && !as_sup.contains("PSY-SECRET"));
}
