//! The JSON API end to end, on SQLite (and PostgreSQL when REMPART_TEST_POSTGRES is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rempart_domain::policy::Role;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn a_case_from_creation_to_closing() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, Some("nord")).await;
    let tok = t.token(&c).await;

    let r = t
        .post_json(
            "/api/v1/cases",
            Some(&tok),
            json!({
                "title": "Photos diffusées sur un compte ficha",
                "categories": ["intimate_images", "cyber_harassment"],
                "age_band": "15_17",
                "preferred_channel": "whatsapp",
                "consents": [{"scope": "notice_to_platform", "by_guardian": true}],
                "contact": {"channel": "phone", "caller_type": "parent", "age_band": "15_17", "categories": ["intimate_images"],
                            "summary": "La mère appelle : photos de sa fille sur un compte ficha", "outcome": "case_opened", "duration_s": 900}
            }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let case: Value = r.json().await.unwrap();
    let id = case["id"].as_str().unwrap();
    assert_eq!(case["status"], "new");
    assert!(case["reference"].as_str().unwrap().starts_with('D'));
    assert_eq!(case["team"], "nord", "the creator's team by default");
    assert!(
        case["legal"]["articles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("226-2-1"))
    );
    assert_eq!(case["assignees"][0], c.id.to_string());

    let r = t
        .post_json(&format!("/api/v1/cases/{id}/items"), Some(&tok), json!({"platform": "instagram", "content_type": "account", "url": "https://www.instagram.com/ficha_lycee/", "native_id": "@ficha_lycee"}))
        .await;
    assert_eq!(r.status(), 201);
    let r = t
        .post_json(
            &format!("/api/v1/cases/{id}/notes"),
            Some(&tok),
            json!({"visibility": "team", "body": "Captures reçues"}),
        )
        .await;
    assert_eq!(r.status(), 201);

    // closing without an outcome is refused, with an outcome accepted
    let r = t
        .post_json(
            &format!("/api/v1/cases/{id}/status"),
            Some(&tok),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "invalid_transition"
    );
    let r = t
        .post_json(
            &format!("/api/v1/cases/{id}/status"),
            Some(&tok),
            json!({"status": "closed", "outcome": "content_removed"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let v: Value = t
        .get(&format!("/api/v1/cases/{id}"), Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["outcome"], "content_removed");
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["notes"][0]["body"], "Captures reçues");
    assert_eq!(v["contacts"][0]["caller_type"], "parent");
    let actions: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "case.status_changed",
            "note.added",
            "item.added",
            "case.created"
        ]
    );

    let list: Value = t
        .get("/api/v1/cases?status=closed", Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["cases"].as_array().unwrap().len(), 1);
    let list: Value = t
        .get("/api/v1/cases?q=ficha", Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["cases"].as_array().unwrap().len(),
        1,
        "contact summary searchable"
    );
    let list: Value = t
        .get("/api/v1/cases?status=new", Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["cases"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn every_read_and_change_is_audited_and_the_chain_verifies() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let tok = t.token(&c).await;
    let id = t.new_case(&tok, "Compte piraté").await;
    for _ in 0..3 {
        assert_eq!(
            t.get(&format!("/api/v1/cases/{id}"), Some(&tok))
                .await
                .status(),
            200
        );
    }
    let st = t.token(&sup).await;
    let events: Value = t
        .get(&format!("/api/v1/audit?case_id={id}"), Some(&st))
        .await
        .json()
        .await
        .unwrap();
    let reads = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "case.read")
        .count();
    assert_eq!(reads, 3, "each read is one audit event");
    // the events never carry content
    let text = events.to_string();
    assert!(!text.contains("Compte piraté"));
    let r = t.store.audit_verify(vec![]).await.unwrap();
    assert!(r.problems.is_empty());
    assert!(r.checked > 8);
    // a counsellor may not read the trail
    assert_eq!(t.get("/api/v1/audit", Some(&tok)).await.status(), 404);
}

#[tokio::test]
async fn openapi_lists_every_route_and_ops_endpoints_answer() {
    let t = TestApp::spawn().await;
    let doc: Value = t
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    for (route, _) in rempart_web::routes::routes() {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from the OpenAPI document",
            route.method,
            route.path
        );
    }
    assert_eq!(t.get("/healthz", None).await.text().await.unwrap(), "ok");
    assert_eq!(t.get("/readyz", None).await.status(), 200);
    let m = t.get("/metrics", None).await.text().await.unwrap();
    assert!(m.contains("rempart_http_requests_total{class=\"2xx\"}"));
    let css = t.get("/assets/app.css", None).await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=86400");
    let page = t.get("/login", None).await;
    let h = page.headers();
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn every_error_code_is_reachable() {
    // Each stable code is produced by some real request (or, for the two that need a
    // broken server, by the mapping the handlers use).
    use rempart_app::ErrorCode::*;
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let id = t.new_case(&tok, "t").await;
    let mut seen = std::collections::HashSet::new();
    let mut note = |v: Value| {
        seen.insert(v["error"].as_str().unwrap().to_owned());
    };
    note(
        t.req(reqwest::Method::POST, "/api/v1/cases", Some(&tok))
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    note(
        t.post_json(
            "/api/v1/cases",
            Some(&tok),
            json!({"title": "x", "age_band": "nope"}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    note(
        t.post_json(
            "/api/v1/cases",
            Some(&tok),
            json!({"title": "x", "age_band": "11_14", "role": "admin"}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    note(
        t.req(reqwest::Method::POST, "/api/v1/cases", Some(&tok))
            .header("content-type", "application/json")
            .body(vec![b' '; 300 * 1024])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    note(
        t.req(reqwest::Method::POST, "/api/v1/cases", Some(&tok))
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    note(t.get("/api/v1/cases", None).await.json().await.unwrap());
    note(
        t.post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": c.email, "password": "wrong password!"}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    for _ in 0..6 {
        let _ = t
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"email": c.email, "password": "wrong password!"}),
            )
            .await;
    }
    note(
        t.post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": c.email, "password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    // second factor codes
    let t2 = TestApp::spawn_with(|s| {
        s.security.second_factor_roles = vec![rempart_app::settings::RoleName(
            rempart_domain::policy::Role::Supervisor,
        )]
    })
    .await;
    let sup = t2.staff(Role::Supervisor, None).await;
    let stok = t2.token(&sup).await;
    note(
        t2.get("/api/v1/cases", Some(&stok))
            .await
            .json()
            .await
            .unwrap(),
    );
    // an account with a TOTP enrolled, and a wrong code
    let enrolled = t2.staff(Role::Counsellor, None).await;
    t2.store
        .set_totp(
            enrolled.id,
            Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".into()),
            true,
            &[],
            &rempart_storage::AuditEntry::new(
                0,
                None,
                rempart_storage::testing::event("auth.totp_enrolled"),
            ),
        )
        .await
        .unwrap();
    let etok = t2.token(&enrolled).await;
    note(
        t2.post_json("/api/v1/auth/totp", Some(&etok), json!({"code": "000000"}))
            .await
            .json()
            .await
            .unwrap(),
    );
    // csrf with the cookie and no header
    note(
        t.req(reqwest::Method::POST, "/api/v1/cases", None)
            .header("cookie", format!("rempart_session={tok}"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    note(
        t.get(
            &format!("/api/v1/cases/{}", rempart_domain::ids::CaseId::new()),
            Some(&tok),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    note(
        t.post_json(
            &format!("/api/v1/cases/{id}/status"),
            Some(&tok),
            json!({"status": "new"}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    note(
        t.post_json(
            "/api/v1/invitations",
            Some(&t.token(&t.staff(Role::Admin, None).await).await),
            json!({"email": c.email, "display_name": "x", "role": "counsellor"}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    // a message's client id reused for another text
    let v: Value = t
        .post_json("/widget/v1/sessions", None, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let chat = v["token"].as_str().unwrap().to_owned();
    let first = t
        .post_json(
            "/widget/v1/messages",
            Some(&chat),
            json!({"client_id": "same", "body": "un"}),
        )
        .await;
    assert_eq!(first.status(), 201);
    note(
        t.post_json(
            "/widget/v1/messages",
            Some(&chat),
            json!({"client_id": "same", "body": "deux"}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    note(
        t.req(reqwest::Method::DELETE, "/healthz", None)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    let limited = TestApp::spawn_with(|s| s.security.logins_per_minute = 1).await;
    let _ = limited
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "a@b.org", "password": "x"}),
        )
        .await;
    note(
        limited
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"email": "a@b.org", "password": "x"}),
            )
            .await
            .json()
            .await
            .unwrap(),
    );
    // a body that never finishes arriving
    let slow = TestApp::spawn_with(|s| s.server.request_timeout_seconds = 1).await;
    let mut tcp = tokio::net::TcpStream::connect(slow.base.trim_start_matches("http://"))
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut tcp,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 99\r\n\r\n{",
    )
    .await
    .unwrap();
    let mut raw = vec![0u8; 4096];
    let n = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::io::AsyncReadExt::read(&mut tcp, &mut raw),
    )
    .await
    .unwrap()
    .unwrap();
    let raw = String::from_utf8_lossy(&raw[..n]).into_owned();
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("");
    note(serde_json::from_str(body).unwrap());
    // a flood of new chat sessions
    let flood = TestApp::spawn_with(|s| s.widget.stress_sessions_per_minute = 1).await;
    let _ = flood
        .post_json("/widget/v1/sessions", None, json!({}))
        .await;
    note(
        flood
            .post_json("/widget/v1/sessions", None, json!({}))
            .await
            .json()
            .await
            .unwrap(),
    );
    // a notice: incomplete (no notifier's address configured), and one needing four eyes
    let bare = TestApp::spawn_with(|s| s.helpline.notices_email = String::new()).await;
    let bc = bare.staff(Role::Counsellor, None).await;
    let btok = bare.token(&bc).await;
    for (app, tok, category) in [
        (&bare, &btok, "cyber_harassment"),
        (&t, &tok, "intimate_images"),
    ] {
        let r = app
            .post_json(
                "/api/v1/cases",
                Some(tok),
                json!({"title": "n", "categories": [category], "age_band": "11_14"}),
            )
            .await;
        let case = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.post_json(
            &format!("/api/v1/cases/{case}/items"),
            Some(tok),
            json!({"platform": "tiktok", "content_type": "video", "url": "https://www.tiktok.com/@x/video/1"}),
        )
        .await;
        let drafts: Value = app
            .req(
                reqwest::Method::POST,
                &format!("/api/v1/cases/{case}/notices"),
                Some(tok),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let n = drafts[0]["id"].as_str().unwrap().to_owned();
        let ready: Value = app
            .req(
                reqwest::Method::POST,
                &format!("/api/v1/notices/{n}/ready"),
                Some(tok),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready.get("error").is_some() {
            note(ready);
        } else {
            note(
                app.req(
                    reqwest::Method::POST,
                    &format!("/api/v1/notices/{n}/send"),
                    Some(tok),
                )
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap(),
            );
        }
    }
    // a platform's callback without its signature
    note(
        t.http
            .post(t.url("/callbacks/coop/snapchat"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    // a platform's partner API call with a key never issued, and with a revoked one
    note(
        t.get("/partner/v1/notices", Some("rpk_unknown"))
            .await
            .json()
            .await
            .unwrap(),
    );
    let admin = t.staff(Role::Admin, None).await;
    let admin = rempart_domain::policy::Actor {
        id: admin.id,
        role: admin.role,
        team: None,
    };
    let issued = t.app.issue_partner_key(&admin, "tiktok").await.unwrap();
    t.app
        .revoke_partner_key(&admin, "tiktok", &issued.record.id)
        .await
        .unwrap();
    note(
        t.get("/partner/v1/notices", Some(&issued.key))
            .await
            .json()
            .await
            .unwrap(),
    );
    // an evidence file of a refused type, and one that may never be kept
    for fields in [
        &[("kind", "photo")][..],
        &[("kind", "photo"), ("sexual_image_of_minor", "true")][..],
    ] {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(*k, *v);
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(b"<svg/>".to_vec()).file_name("x.png"),
        );
        note(
            t.req(
                reqwest::Method::POST,
                &format!("/api/v1/cases/{id}/evidence/files"),
                Some(&tok),
            )
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
        );
    }
    let mut missing: Vec<&str> = rempart_app::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !seen.contains(*c))
        .collect();
    missing.sort();
    // internal and unavailable need a failing server: checked through their mapping.
    assert_eq!(
        missing,
        vec!["internal", "unavailable"],
        "codes never produced by a request: {missing:?}"
    );
    assert_eq!(rempart_app::AppError::internal("x").code, Internal);
    let dead = rempart_storage::StorageError::Database(sqlx::Error::PoolTimedOut);
    assert_eq!(rempart_app::AppError::from(dead).code, Unavailable);
}

#[tokio::test]
async fn every_asset_a_page_references_is_served() {
    let t = TestApp::spawn().await;
    let mut referenced = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for part in text.split("/assets/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                .collect();
            referenced.insert(name);
        }
    }
    assert!(referenced.len() >= 6, "{referenced:?}");
    for name in referenced {
        let r = t.get(&format!("/assets/{name}"), None).await;
        assert_eq!(r.status(), 200, "/assets/{name}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        if name.ends_with(".js") {
            assert!(ct.starts_with("text/javascript"), "{name}: {ct}");
        }
    }
}
