//! The OpenAPI document (`/api/v1/openapi.json`) against the route table, and real answers
//! against the document: every route with its method, parameters, body, answers and
//! errors; every reference resolving; the answers of real calls of the schema, status and
//! content type the document gives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::Role;
use rempart_web::routes::{Body, RouteDoc, routes};
use serde_json::{Value, json};
use std::collections::HashSet;
use support::*;

async fn document(t: &TestApp) -> Value {
    let r = t.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    r.json().await.unwrap()
}

/// Follows `$ref`s (`#/components/...`) to what they name.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return v;
        };
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("not a local reference: {r}"));
        v = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{r} does not resolve"));
    }
    panic!("a loop of references")
}

/// Every `$ref` in `v` resolves.
fn all_refs_resolve(doc: &Value, v: &Value, at: &str) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                let p = r.strip_prefix('#').unwrap_or(r);
                assert!(doc.pointer(p).is_some(), "{at}: {r} does not resolve");
            }
            for (k, x) in m {
                all_refs_resolve(doc, x, &format!("{at}/{k}"));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                all_refs_resolve(doc, x, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

fn op<'a>(doc: &'a Value, route: &RouteDoc) -> &'a Value {
    let op = &doc["paths"][route.path][route.method.to_lowercase()];
    assert!(
        op.is_object(),
        "{} {} missing from the document",
        route.method,
        route.path
    );
    op
}

fn is_named_schema(doc: &Value, schema: &Value) -> bool {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .is_some_and(|name| doc["components"]["schemas"][name].is_object())
}

#[tokio::test]
async fn every_route_is_described_with_its_body_answers_and_errors() {
    let t = TestApp::spawn().await;
    let doc = document(&t).await;
    assert_eq!(doc["openapi"], "3.1.0");
    all_refs_resolve(&doc, &doc, "#");
    for scheme in ["bearer", "cookie", "chat_token"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object());
    }
    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(error["required"], json!(["error", "message"]));

    let mut ids = HashSet::new();
    let table = routes();
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        table.len(),
        "the document has routes the table has not"
    );
    for (route, _) in &table {
        let name = format!("{} {}", route.method, route.path);
        let op = op(&doc, route);
        assert!(
            ids.insert(op["operationId"].as_str().unwrap().to_owned()),
            "{name}: operationId used twice"
        );
        assert_eq!(op["summary"], route.summary, "{name}");

        // path parameters
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for p in route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        {
            assert!(
                params
                    .iter()
                    .any(|x| x["name"] == p && x["in"] == "path" && x["required"] == true),
                "{name}: path parameter {p} not described"
            );
        }

        // the request body
        let api = route.path.starts_with("/api/v1/") || route.path.starts_with("/widget/v1/");
        match route.body {
            Body::Json(_) => {
                let body = &op["requestBody"];
                assert_eq!(body["required"], true, "{name}");
                let schema = &body["content"]["application/json"]["schema"];
                assert!(
                    is_named_schema(&doc, schema),
                    "{name}: the JSON body's schema is not in the components: {schema}"
                );
                let s = resolve(&doc, schema);
                assert_eq!(
                    s["additionalProperties"], false,
                    "{name}: unknown fields are refused"
                );
            }
            Body::Form => {
                assert!(
                    op["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object(),
                    "{name}"
                );
            }
            Body::Multipart(_) => {
                let body = &op["requestBody"];
                assert_eq!(body["required"], true, "{name}");
                let schema = &body["content"]["multipart/form-data"]["schema"];
                assert!(
                    is_named_schema(&doc, schema),
                    "{name}: the upload's fields are not in the components: {schema}"
                );
                assert_eq!(
                    resolve(&doc, schema)["properties"]["file"]["format"],
                    "binary",
                    "{name}: the file part"
                );
            }
            Body::None => assert!(op.get("requestBody").is_none(), "{name}: a body?"),
        }
        if api && matches!(route.method, "POST" | "PUT") {
            // a JSON route that takes a body documents it; one that takes none says so
            assert_eq!(
                op.get("requestBody").is_some(),
                matches!(route.body, Body::Json(_) | Body::Multipart(_)),
                "{name}"
            );
        }

        // answers
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.get("default").is_none(),
            "{name}: a default answer"
        );
        let successes: Vec<(&String, &Value)> = responses
            .iter()
            .filter(|(s, _)| s.starts_with('1') || s.starts_with('2') || s.starts_with('3'))
            .collect();
        assert!(!successes.is_empty(), "{name}: no success answer");
        for (status, r) in successes {
            let r = resolve(&doc, r);
            match status.as_str() {
                "204" | "101" | "303" => {
                    assert!(r.get("content").is_none(), "{name} {status}: no content")
                }
                _ => {
                    let content = r["content"]
                        .as_object()
                        .unwrap_or_else(|| panic!("{name} {status}: no content described"));
                    for (media, c) in content {
                        assert!(
                            c["schema"].is_object(),
                            "{name} {status} {media}: no schema"
                        );
                    }
                    if let Some(j) = content.get("application/json") {
                        let s = &j["schema"];
                        let named = is_named_schema(&doc, s)
                            || (s["type"] == "array" && is_named_schema(&doc, &s["items"]))
                            || route.path == "/api/v1/openapi.json";
                        assert!(named, "{name} {status}: schema not in the components: {s}");
                    }
                }
            }
        }

        // errors: every status the route can answer, JSON `Error`s unless a console page
        for status in route.error_statuses() {
            let r = responses
                .get(&status.to_string())
                .unwrap_or_else(|| panic!("{name}: error {status} not described"));
            let r = resolve(&doc, r);
            if route.is_page() && status != 408 {
                assert!(
                    r["content"]["text/html; charset=utf-8"].is_object(),
                    "{name} {status}"
                );
            } else {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{name} {status}"
                );
            }
        }
        for status in responses
            .keys()
            .filter(|s| s.starts_with('4') || s.starts_with('5'))
        {
            assert!(
                route
                    .error_statuses()
                    .contains(&status.parse::<u16>().unwrap()),
                "{name}: error {status} described but not in the table"
            );
        }
        if api {
            assert!(responses.contains_key("408"), "{name}: the request timeout");
        }

        // security
        let security = op["security"].as_array().unwrap();
        if route.access == rempart_web::routes::Access::Public && !route.chat_token {
            assert!(security.is_empty(), "{name}: public");
        } else {
            assert!(!security.is_empty(), "{name}: how does one authenticate?");
        }
    }
}

#[tokio::test]
async fn list_endpoints_document_their_query() {
    let t = TestApp::spawn().await;
    let doc = document(&t).await;
    for (path, names) in [
        (
            "/api/v1/cases",
            &["status", "category", "assignee", "q", "cursor", "limit"][..],
        ),
        (
            "/api/v1/audit",
            &["case_id", "actor", "before", "limit"][..],
        ),
        ("/api/v1/chats/{id}/messages", &["after"][..]),
        ("/widget/v1/messages", &["after"][..]),
        (
            "/cases",
            &["status", "category", "assignee", "q", "cursor", "limit"][..],
        ),
        ("/audit", &["case_id", "actor", "before", "limit"][..]),
    ] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        for n in names {
            let p = params
                .iter()
                .find(|p| p["name"] == *n)
                .unwrap_or_else(|| panic!("{path}: query parameter {n} missing"));
            assert_eq!(p["in"], "query", "{path} {n}");
            assert_eq!(p["required"], false, "{path} {n}");
            assert!(p["schema"].is_object(), "{path} {n}");
        }
    }
    let limit = doc["paths"]["/api/v1/cases"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 200);
}

/// What is wrong with `v` as an instance of `schema` (types, enums, required properties,
/// and no property the document does not describe).
fn mismatches(doc: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(all) = schema["allOf"].as_array() {
        let mut known = HashSet::new();
        for s in all {
            let s = resolve(doc, s);
            if let Some(p) = s["properties"].as_object() {
                known.extend(p.keys().cloned());
            }
            let mut inner = Vec::new();
            let mut lenient = s.clone();
            lenient["x-lenient"] = json!(true);
            mismatches(doc, &lenient, v, at, &mut inner);
            out.extend(inner);
        }
        if let Some(o) = v.as_object() {
            for k in o.keys().filter(|k| !known.contains(*k)) {
                out.push(format!("{at}: property {k} not described"));
            }
        }
        return;
    }
    if let Some(any) = schema["oneOf"].as_array() {
        let ok = any.iter().any(|s| {
            let mut e = Vec::new();
            mismatches(doc, s, v, at, &mut e);
            e.is_empty()
        });
        if !ok {
            out.push(format!("{at}: {v} matches none of oneOf"));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed = types.is_empty()
        || types.contains(&kind)
        || (kind == "integer" && types.contains(&"number"));
    if !allowed {
        out.push(format!("{at}: {kind} where the document says {types:?}"));
        return;
    }
    if let Some(e) = schema["enum"].as_array()
        && !e.contains(v)
    {
        out.push(format!("{at}: {v} is not one of {e:?}"));
    }
    match v {
        Value::Object(o) => {
            let props = schema["properties"].as_object();
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                if !o.contains_key(r) {
                    out.push(format!("{at}: required {r} missing"));
                }
            }
            for (k, x) in o {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => mismatches(doc, s, x, &format!("{at}/{k}"), out),
                    None if schema["x-lenient"] == true => {}
                    None if props.is_some() => {
                        out.push(format!("{at}: property {k} not described"))
                    }
                    None => {}
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                mismatches(doc, &schema["items"], x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Checks a real answer against the document: the status expected (and described), its
/// content type and its schema. Returns the body.
async fn check(doc: &Value, method: &str, path: &str, r: reqwest::Response, want: u16) -> Value {
    assert_eq!(r.status().as_u16(), want, "{method} {path}");
    let status = r.status().as_u16().to_string();
    let op = &doc["paths"][path][method.to_lowercase()];
    let described = op["responses"]
        .get(&status)
        .unwrap_or_else(|| panic!("{method} {path}: {status} not described"));
    let described = resolve(doc, described);
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    let Some(ct) = content_type else {
        assert!(
            described.get("content").is_none(),
            "{method} {path} {status}"
        );
        return Value::Null;
    };
    let media = described["content"]
        .as_object()
        .and_then(|c| c.get(&ct))
        .unwrap_or_else(|| panic!("{method} {path} {status}: {ct} not described"));
    if ct != "application/json" {
        return Value::String(text);
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    mismatches(doc, &media["schema"], &v, "", &mut out);
    assert!(
        out.is_empty(),
        "{method} {path} {status}:\n{}\n{v}",
        out.join("\n")
    );
    v
}

#[tokio::test]
async fn real_answers_are_what_the_document_says() {
    let t = TestApp::spawn().await;
    let doc = document(&t).await;
    let c = t.staff(Role::Counsellor, Some("nord")).await;
    let admin = t.staff(Role::Admin, None).await;
    let tok = t.token(&c).await;
    let adm = t.token(&admin).await;

    let r = t
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": c.email, "password": PASSWORD}),
        )
        .await;
    check(&doc, "POST", "/api/v1/auth/login", r, 200).await;
    let r = t.get("/api/v1/me", Some(&tok)).await;
    let me = check(&doc, "GET", "/api/v1/me", r, 200).await;
    // the checker itself: an undescribed field, a missing one, a wrong type are seen
    let staff = json!({"$ref": "#/components/schemas/Staff"});
    for (k, v) in [
        ("extra", json!(1)),
        ("role", json!("king")),
        ("passkeys", json!("2")),
    ] {
        let mut bad = me.clone();
        bad[k] = v;
        let mut out = Vec::new();
        mismatches(&doc, &staff, &bad, "", &mut out);
        assert!(!out.is_empty(), "{k}");
    }
    let mut bad = me.clone();
    bad.as_object_mut().unwrap().remove("team");
    let mut out = Vec::new();
    mismatches(&doc, &staff, &bad, "", &mut out);
    assert!(!out.is_empty(), "a missing field");
    let r = t
        .post_json(
            "/api/v1/cases",
            Some(&tok),
            json!({"title": "Compte usurpé", "categories": ["cyber_harassment"], "age_band": "11_14",
                   "consents": [{"scope": "notice_to_platform"}],
                   "contact": {"channel": "web_chat", "caller_type": "victim", "age_band": "11_14",
                               "summary": "Un compte se fait passer pour elle", "outcome": "case_opened"}}),
        )
        .await;
    let case = check(&doc, "POST", "/api/v1/cases", r, 201).await;
    let id = case["id"].as_str().unwrap();
    let r = t
        .post_json(
            &format!("/api/v1/cases/{id}/items"),
            Some(&tok),
            json!({"platform": "instagram", "content_type": "account", "url": "https://www.instagram.com/x/"}),
        )
        .await;
    check(&doc, "POST", "/api/v1/cases/{id}/items", r, 201).await;
    let r = t
        .post_json(
            &format!("/api/v1/cases/{id}/notes"),
            Some(&tok),
            json!({"visibility": "team", "body": "Captures reçues"}),
        )
        .await;
    check(&doc, "POST", "/api/v1/cases/{id}/notes", r, 201).await;
    let r = t.get(&format!("/api/v1/cases/{id}"), Some(&tok)).await;
    let page = check(&doc, "GET", "/api/v1/cases/{id}", r, 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let r = t.get("/api/v1/cases?limit=1", Some(&tok)).await;
    check(&doc, "GET", "/api/v1/cases", r, 200).await;
    let r = t.get("/api/v1/cases?limit=0", Some(&tok)).await;
    let e = check(&doc, "GET", "/api/v1/cases", r, 422).await;
    assert_eq!(e["error"], "invalid_field");
    let r = t
        .get(
            "/api/v1/cases/0191d7a4-5b1e-7c3a-9f00-000000000001",
            Some(&tok),
        )
        .await;
    check(&doc, "GET", "/api/v1/cases/{id}", r, 404).await;
    let r = t.get("/api/v1/cases/%FF", Some(&tok)).await;
    check(&doc, "GET", "/api/v1/cases/{id}", r, 404).await;
    for path in ["/api/v1/categories", "/api/v1/platforms", "/api/v1/chats"] {
        let r = t.get(path, Some(&tok)).await;
        check(&doc, "GET", path, r, 200).await;
    }
    for path in [
        "/api/v1/staff",
        "/api/v1/invitations",
        "/api/v1/role-grants",
        "/api/v1/audit",
    ] {
        let r = t.get(path, Some(&adm)).await;
        check(&doc, "GET", path, r, 200).await;
    }
    let r = t
        .post_json(
            "/api/v1/invitations",
            Some(&adm),
            json!({"email": "nouvelle@test.invalid", "display_name": "Nouvelle", "role": "counsellor"}),
        )
        .await;
    check(&doc, "POST", "/api/v1/invitations", r, 201).await;
    let r = t
        .put_json(
            &format!("/api/v1/staff/{}/role", c.id),
            Some(&adm),
            json!({"role": "lawyer", "team": "nord"}),
        )
        .await;
    check(&doc, "PUT", "/api/v1/staff/{id}/role", r, 200).await;
    let r = t.get("/api/v1/me", None).await;
    check(&doc, "GET", "/api/v1/me", r, 401).await;

    // the widget
    for path in ["/widget/v1/status", "/widget/v1/challenge"] {
        let r = t.get(path, None).await;
        check(&doc, "GET", path, r, 200).await;
    }
    let r = t
        .post_json("/widget/v1/sessions", None, json!({"age_band": "15_17"}))
        .await;
    let s = check(&doc, "POST", "/widget/v1/sessions", r, 201).await;
    let chat = s["token"].as_str().unwrap();
    let r = say(&t, chat, "m-1", "bonjour").await;
    check(&doc, "POST", "/widget/v1/messages", r, 201).await;
    let r = t.get("/widget/v1/messages?after=0", Some(chat)).await;
    check(&doc, "GET", "/widget/v1/messages", r, 200).await;
    let r = t.get("/widget/v1/messages", None).await;
    check(&doc, "GET", "/widget/v1/messages", r, 401).await;
    let (gone, _) = visitor(&t, json!({})).await;
    for _ in 0..2 {
        let r = t
            .req(reqwest::Method::POST, "/widget/v1/leave", Some(&gone))
            .send()
            .await
            .unwrap();
        check(&doc, "POST", "/widget/v1/leave", r, 204).await;
    }
    let r = t
        .req(reqwest::Method::POST, "/widget/v1/leave", None)
        .send()
        .await
        .unwrap();
    check(&doc, "POST", "/widget/v1/leave", r, 401).await;
    let r = t.get("/widget/v1/ws", None).await;
    check(&doc, "GET", "/widget/v1/ws", r, 403).await;
    let r = t
        .req(reqwest::Method::GET, "/widget/v1/ws", None)
        .header("origin", t.base.clone())
        .send()
        .await
        .unwrap();
    check(&doc, "GET", "/widget/v1/ws", r, 400).await;

    // operations
    for path in ["/healthz", "/readyz", "/metrics", "/assets/app.css"] {
        let r = t.get(path, None).await;
        check(
            &doc,
            "GET",
            path.replace("app.css", "{file}").as_str(),
            r,
            200,
        )
        .await;
    }
}
