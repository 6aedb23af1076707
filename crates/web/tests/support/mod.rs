//! Test helper: starts the real application on port 0 with a fresh database (a temp
//! SQLite file, or a fresh PostgreSQL database when `REMPART_TEST_POSTGRES` is set),
//! a manual clock, and gives a client with typed helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::StreamExt;
use rempart_app::App;
use rempart_app::clock::ManualClock;
use rempart_app::settings::Settings;
use rempart_app::staff::NewStaffInput;
use rempart_domain::policy::Role;
use rempart_storage::testing::{TestDb, fresh_database};
use rempart_storage::{StaffRecord, Store};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub app: App,
    /// The test's own handle on the database (acting on it directly, as another node or
    /// an operator would).
    pub store: Store,
    pub clock: ManualClock,
    pub http: Client,
    /// The folder evidence blobs are written to (removed with the test app).
    pub evidence_dir: std::path::PathBuf,
    _evidence: tempfile::TempDir,
    _db: TestDb,
}

/// The master secret of the tests (never a real helpline's).
pub const TEST_MASTER_KEY: &str = "test-master-key-0123456789abcdef0123456789";

pub fn test_settings(url: &str) -> Settings {
    let mut s = Settings::default();
    s.database.url = rempart_app::secret::Secret::new(url);
    s.secrets.master_key = rempart_app::secret::Secret::new(TEST_MASTER_KEY);
    s.security.secure_cookies = false;
    s.security.argon2_memory_kib = 64;
    s.security.argon2_iterations = 1;
    // Tests of the second factor turn the requirement back on.
    s.security.second_factor_roles = vec![];
    // Tests of the rate limits set them back; the others must not trip them.
    s.security.logins_per_minute = 10_000;
    s.widget.sessions_per_minute = 10_000;
    s.widget.sessions_per_day = 100_000;
    s.widget.typing_per_minute = 10_000;
    // the proof-of-work tests set a flood threshold
    s.widget.stress_sessions_per_minute = 0;
    s
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(f: impl FnOnce(&mut Settings)) -> TestApp {
        let db = fresh_database().await.unwrap();
        let mut s = test_settings(&db.url);
        let evidence = tempfile::tempdir().unwrap();
        let evidence_dir = evidence.path().join("evidence");
        s.evidence.path = evidence_dir.to_string_lossy().into_owned();
        f(&mut s);
        let clock = ManualClock::new(1_790_000_000_000);
        let store = rempart_app::open_store(&s).await.unwrap();
        let app = App::start(s, Arc::new(clock.clone())).await.unwrap();
        let state = rempart_web::AppState::new(app.clone()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let limits = rempart_web::server::ServerLimits::from_settings(app.settings());
        tokio::spawn(async move {
            rempart_web::server::serve(
                listener,
                rempart_web::router(state),
                limits,
                std::future::pending(),
            )
            .await
            .unwrap();
        });
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            base,
            app,
            store,
            clock,
            http,
            evidence_dir,
            _evidence: evidence,
            _db: db,
        }
    }

    /// Creates an account directly (as the operator would with `rempart user add`).
    pub async fn staff(&self, role: Role, team: Option<&str>) -> StaffRecord {
        let n = rempart_app::random_hex(4).unwrap();
        self.app
            .create_staff_by_operator(NewStaffInput {
                email: format!("{}-{n}@test.invalid", role.as_str()),
                display_name: format!("{} {n}", role.as_str()),
                role,
                team: team.map(Into::into),
                password: PASSWORD.into(),
                lang: "fr".into(),
            })
            .await
            .unwrap()
    }

    /// Logs in through the API and returns the bearer token.
    pub async fn token(&self, s: &StaffRecord) -> String {
        let r = self
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"email": s.email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), 200, "login of {}", s.email);
        let v: Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    /// A console page with a session cookie: its status and text.
    pub async fn page(&self, cookie: &str, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// A console form posted with a session cookie (redirects are not followed).
    pub async fn post_form<F: serde::Serialize + ?Sized>(
        &self,
        cookie: &str,
        path: &str,
        fields: &F,
    ) -> Response {
        self.http
            .post(self.url(path))
            .header("cookie", cookie)
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn req(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let b = self.http.request(method, self.url(path));
        match token {
            Some(t) => b.bearer_auth(t),
            None => b,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.req(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.req(reqwest::Method::POST, path, token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.req(reqwest::Method::PUT, path, token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Opens a case as `token`'s account; returns its id.
    pub async fn new_case(&self, token: &str, title: &str) -> String {
        let r = self
            .post_json(
                "/api/v1/cases",
                Some(token),
                json!({"title": title, "categories": ["cyber_harassment"], "age_band": "11_14"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    /// Opens a case with one item (an account) on `platform`, drafts its notice, marks it
    /// ready and sends it through the API; returns (case id, notice id).
    pub async fn sent_notice(&self, token: &str, platform: &str) -> (String, String) {
        let case = self.new_case(token, "signalement").await;
        let r = self
            .post_json(
                &format!("/api/v1/cases/{case}/items"),
                Some(token),
                json!({"platform": platform, "content_type": "account", "native_id": "@harceleur"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let drafts: Vec<Value> = self
            .req(
                reqwest::Method::POST,
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
            let r = self
                .req(
                    reqwest::Method::POST,
                    &format!("/api/v1/notices/{id}/{step}"),
                    Some(token),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{step}");
        }
        (case, id)
    }

    /// Logs into the console with a browser-like cookie flow; returns (cookie header, csrf).
    pub async fn console_login(&self, s: &StaffRecord) -> (String, String) {
        let page = self.http.get(self.url("/login")).send().await.unwrap();
        let login_cookie = set_cookie(&page, "rempart_login_csrf").unwrap();
        let html = page.text().await.unwrap();
        let token = attr_after(&html, "name=\"login_csrf\" value=\"");
        let r = self
            .http
            .post(self.url("/login"))
            .header("cookie", format!("rempart_login_csrf={login_cookie}"))
            .form(&[
                ("email", s.email.as_str()),
                ("password", PASSWORD),
                ("login_csrf", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let session = set_cookie(&r, "rempart_session").unwrap();
        let cookie = format!("rempart_session={session}");
        let cases = self
            .http
            .get(self.url("/account"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let html = cases.text().await.unwrap();
        let csrf = attr_after(&html, "name=\"_csrf\" value=\"");
        (cookie, csrf)
    }
}

pub fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
}

pub fn attr_after(html: &str, marker: &str) -> String {
    let i = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not found"))
        + marker.len();
    html[i..].split('"').next().unwrap().to_owned()
}

/// The current TOTP code for a base32 secret at the app's clock.
pub fn totp_now(app: &TestApp, secret: &str) -> String {
    let raw = rempart_app::totp::base32_decode(secret).unwrap();
    format!(
        "{:06}",
        rempart_app::totp::hotp(&raw, rempart_app::totp::step_at(app.app.now()) as u64)
    )
}

/// Starts a visitor's conversation; returns its token and state.
pub async fn visitor(t: &TestApp, body: Value) -> (String, Value) {
    let r = t.post_json("/widget/v1/sessions", None, body).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    (
        v["token"].as_str().unwrap().to_owned(),
        v["conversation"].clone(),
    )
}

/// A visitor's message.
pub async fn say(t: &TestApp, token: &str, client_id: &str, body: &str) -> Response {
    t.req(reqwest::Method::POST, "/widget/v1/messages", Some(token))
        .json(&json!({"client_id": client_id, "body": body}))
        .send()
        .await
        .unwrap()
}

/// Moves the clock to the next `hour`:00 UTC (Paris is UTC+1 in winter, +2 in summer: the
/// default hours 09:00–23:00 Paris are open at 10:00 UTC, closed at 02:00 UTC).
pub fn at_utc_hour(t: &TestApp, hour: i64) {
    let now = t.app.now();
    let day = 86_400_000;
    let mut target = (now / day) * day + hour * 3_600_000;
    if target <= now {
        target += day;
    }
    t.clock.advance(target - now);
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws(
    t: &TestApp,
    path: &str,
    origin: Option<&str>,
    extra: Option<(&'static str, String)>,
) -> Result<Ws, u16> {
    let mut req = format!("{}{}", t.base.replace("http://", "ws://"), path)
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    if let Some((k, v)) = extra {
        req.headers_mut().insert(k, v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((s, _)) => Ok(s),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// The next JSON frame of `kind`, waiting on the socket itself (bounded).
pub async fn next_frame(s: &mut Ws, kind: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match s.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == kind {
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
    .expect("frame in time")
}

/// The code of the close frame the server sends next (bounded wait).
pub async fn close_code(s: &mut Ws) -> Option<u16> {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match s.next().await {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                other => panic!("{other:?}"),
            }
        }
    })
    .await
    .expect("closed in time")
}

/// Every file under a folder (the evidence store's), recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Posts an evidence file (kind `kind`) to a case through the API: the status and the answer.
pub async fn upload_evidence(
    t: &TestApp,
    token: &str,
    case: &str,
    form: reqwest::multipart::Form,
) -> (u16, Value) {
    let r = t
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/cases/{case}/evidence/files"),
            Some(token),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
