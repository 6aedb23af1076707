//! Canary strings (a name, a phone number, message text, a password) go through the whole
//! flow; none may appear in the logs, even at TRACE level.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rempart_domain::policy::Role;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use support::*;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

#[tokio::test]
async fn no_canary_reaches_the_logs() {
    let buf = Buf::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buf.clone())
        .with_ansi(false)
        .init();
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let canaries = [
        "Zoé-Canari Dupont",
        "+33 6 12 34 56 78",
        "il va publier ce soir CANARY-MSG",
        PASSWORD,
    ];
    let r = t
        .post_json(
            "/api/v1/cases",
            Some(&tok),
            json!({"title": canaries[0], "age_band": "11_14",
                   "contact": {"channel": "phone", "caller_type": "victim", "age_band": "11_14", "summary": format!("{} {}", canaries[1], canaries[2]), "outcome": "case_opened"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.post_json(
        &format!("/api/v1/cases/{id}/notes"),
        Some(&tok),
        json!({"visibility": "team", "body": canaries[2]}),
    )
    .await;
    t.get(
        &format!("/api/v1/cases?q={}", "Zo%C3%A9-Canari"),
        Some(&tok),
    )
    .await;
    t.post_json(
        "/api/v1/auth/login",
        None,
        json!({"email": c.email, "password": "wrong: CANARY-PW"}),
    )
    .await;
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("request"), "the request log is there: {logs}");
    for canary in canaries.iter().chain([&"CANARY-PW", &tok.as_str()]) {
        assert!(!logs.contains(canary), "{canary} found in the logs");
    }
}
