//! Helpers of the tests that run the `rempart` binary itself: real processes, real
//! sockets, faults injected from outside.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::StreamExt;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The master secret the test nodes share (never a real helpline's).
pub const MASTER_KEY: &str = "process-tests-master-key-0123456789abcdef";

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
}

pub fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rempart-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An opening-hours file open around the clock, in `dir`.
pub fn always_open(dir: &std::path::Path) -> std::path::PathBuf {
    let hours = dir.join("hours.toml");
    std::fs::write(
        &hours,
        "timezone = \"Europe/Paris\"\nholiday_hours = \"same\"\n[hours]\nevery_day = \"00:00-24:00\"\n",
    )
    .unwrap();
    hours
}

/// The environment of a test node: its database, the shared secret, quick passwords, no
/// second factor, the line always open, limits out of the way.
pub fn node_env(url: &str, hours: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("REMPART_DATABASE_URL", url.to_owned()),
        ("REMPART_SECRETS_MASTER_KEY", MASTER_KEY.to_owned()),
        ("REMPART_SECURITY_SECURE_COOKIES", "false".into()),
        ("REMPART_SECURITY_SECOND_FACTOR_ROLES", String::new()),
        ("REMPART_SECURITY_ARGON2_MEMORY_KIB", "64".into()),
        ("REMPART_SECURITY_LOGINS_PER_MINUTE", "100000".into()),
        (
            "REMPART_HELPLINE_OPENING_HOURS_FILE",
            hours.display().to_string(),
        ),
        ("REMPART_WIDGET_SESSIONS_PER_MINUTE", "100000".into()),
        ("REMPART_WIDGET_SESSIONS_PER_DAY", "1000000".into()),
        ("REMPART_WIDGET_MESSAGE_BURST", "100000".into()),
        ("REMPART_WIDGET_STRESS_SESSIONS_PER_MINUTE", "0".into()),
        ("REMPART_LOG", "warn".into()),
    ]
}

/// A running `rempart serve`; killed when dropped.
pub struct Node {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    /// SIGTERM, and wait for a clean stop.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

/// Starts `rempart serve` with `env` (plus `extra`), and waits until `/readyz` answers 200.
pub async fn serve(env: &[(&'static str, String)], extra: &[(&str, &str)]) -> Node {
    serve_with(env, extra, Stdio::inherit()).await
}

/// As [`serve`], with the node's standard error sent to `stderr`.
pub async fn serve_with(
    env: &[(&'static str, String)],
    extra: &[(&str, &str)],
    stderr: impl Into<Stdio>,
) -> Node {
    let port = free_port();
    let mut cmd = bin();
    cmd.arg("serve")
        .env("REMPART_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(stderr);
    for (k, v) in env {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut node = Node { child, base, port };
    loop {
        if let Ok(r) = reqwest::get(format!("{}/readyz", node.base)).await
            && r.status() == 200
        {
            return node;
        }
        if let Ok(Some(status)) = node.child.try_wait() {
            panic!("node on {port} exited before it was ready: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "node on {port} not ready in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates an account with `rempart user add` (as an operator would).
pub fn user_add(env: &[(&'static str, String)], email: &str, role: &str, password: &str) {
    let mut cmd = bin();
    cmd.args([
        "user", "add", "--email", email, "--name", email, "--role", role,
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut add = cmd.spawn().unwrap();
    std::io::Write::write_all(
        &mut add.stdin.take().unwrap(),
        format!("{password}\n").as_bytes(),
    )
    .unwrap();
    assert!(add.wait().unwrap().success());
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn socket(base: &str, path: &str, bearer: Option<&str>) -> Ws {
    let mut req = format!("{}{}", base.replace("http://", "ws://"), path)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("origin", base.parse().unwrap());
    if let Some(b) = bearer {
        req.headers_mut()
            .insert("authorization", format!("Bearer {b}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// The next frame of `kind` that satisfies `pred`, within 10 s.
pub async fn frame(s: &mut Ws, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match s.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == kind && pred(&v) {
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
    .expect("the event arrived in time")
}

/// Logs in through the API; returns the bearer token.
pub async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let v: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().expect("a token").to_owned()
}

/// Opens an anonymous chat session on `base`; returns its token.
pub async fn visitor(http: &reqwest::Client, base: &str) -> String {
    let r = http
        .post(format!("{base}/widget/v1/sessions"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "new chat session");
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().expect("a chat token").to_owned()
}

/// The visitor sends a message (the response, whatever it is).
pub async fn say(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    client_id: &str,
    body: &str,
) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{base}/widget/v1/messages"))
        .bearer_auth(token)
        .json(&serde_json::json!({"client_id": client_id, "body": body}))
        .send()
        .await
}

/// The counsellor replies in a conversation (the response, whatever it is).
pub async fn reply(
    http: &reqwest::Client,
    base: &str,
    bearer: &str,
    conversation: &str,
    client_id: &str,
    body: &str,
) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{base}/api/v1/chats/{conversation}/messages"))
        .bearer_auth(bearer)
        .json(&serde_json::json!({"client_id": client_id, "body": body}))
        .send()
        .await
}

/// Logs a counsellor in on `base` and makes them available for `capacity` conversations;
/// returns the bearer token.
pub async fn on_duty(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
    capacity: i64,
) -> String {
    let tok = login(http, base, email, password).await;
    let r = http
        .put(format!("{base}/api/v1/chats/availability"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"available": true, "capacity": capacity}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "availability");
    tok
}

/// The counsellor takes the most urgent waiting conversation; returns its id.
pub async fn take(http: &reqwest::Client, base: &str, bearer: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/chats/take"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a conversation to take");
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().expect("a conversation id").to_owned()
}

/// The visitor's transcript, as the widget reads it.
pub async fn transcript(http: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let r = http
        .get(format!("{base}/widget/v1/messages"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the transcript");
    let v: Value = r.json().await.unwrap();
    v["messages"].as_array().cloned().unwrap_or_default()
}

/// Whether the process runs as root (reads `/proc/self/status`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// A small tmpfs of our own (a disk that can be filled); unmounted when dropped, also
/// when the test fails. Mounting needs root: without it the test says loudly that it
/// checked nothing — and fails when `REMPART_REQUIRE_ROOT=1`, as CI (root) sets.
pub struct Tmpfs {
    pub dir: std::path::PathBuf,
}

impl Tmpfs {
    pub fn mount(test: &str, name: &str, size: &str) -> Option<Tmpfs> {
        if !is_root() {
            assert!(
                std::env::var("REMPART_REQUIRE_ROOT").as_deref() != Ok("1"),
                "{test} NEEDS ROOT (it mounts a {size} tmpfs to fill a disk) and REMPART_REQUIRE_ROOT=1"
            );
            eprintln!(
                "NOT ROOT: {test} mounts a {size} tmpfs to fill a disk and checked NOTHING (CI runs it as root)"
            );
            return None;
        }
        let dir = tmp(name);
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "could not mount a tmpfs on {} (root with CAP_SYS_ADMIN is needed): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP proxy of the test's own between a node and its database: `down` refuses new
/// connections and cuts the open ones (as a database that went away), `up` serves again on
/// the same port.
pub struct Proxy {
    pub port: u16,
    target: std::net::SocketAddr,
    run: std::sync::Mutex<Option<ProxyRun>>,
    frozen: tokio::sync::watch::Sender<bool>,
}

struct ProxyRun {
    accept: tokio::task::JoinHandle<()>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    pub async fn start(target: std::net::SocketAddr) -> Proxy {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let p = Proxy {
            port,
            target,
            run: std::sync::Mutex::new(None),
            frozen: tokio::sync::watch::channel(false).0,
        };
        *p.run.lock().unwrap() = Some(p.serve(l));
        p
    }

    fn serve(&self, l: tokio::net::TcpListener) -> ProxyRun {
        let conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> =
            Default::default();
        let (c2, target, frozen) = (conns.clone(), self.target, self.frozen.clone());
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = l.accept().await {
                let frozen = frozen.subscribe();
                let h = tokio::spawn(async move {
                    if let Ok(out) = tokio::net::TcpStream::connect(target).await {
                        let (ri, wi) = inbound.into_split();
                        let (ro, wo) = out.into_split();
                        let up = tokio::spawn(pump(ri, wo, frozen.clone()));
                        let _ = pump(ro, wi, frozen).await;
                        up.abort();
                    }
                });
                c2.lock().unwrap().push(h.abort_handle());
            }
        });
        ProxyRun { accept, conns }
    }

    /// The database is away: new connections are refused, open ones cut.
    pub async fn down(&self) {
        let run = self.run.lock().unwrap().take();
        if let Some(run) = run {
            run.accept.abort();
            let _ = run.accept.await;
            for c in run.conns.lock().unwrap().drain(..) {
                c.abort();
            }
        }
    }

    /// The network to the database drops every packet from now on: nothing passes, yet
    /// no connection is closed.
    pub fn freeze(&self, on: bool) {
        self.frozen.send_replace(on);
    }

    /// The database is back, on the same port.
    pub async fn up(&self) {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let run = self.serve(l);
        *self.run.lock().unwrap() = Some(run);
    }
}

/// Copies `from` to `to`, holding everything while frozen.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(run) = self.run.lock().unwrap().take() {
            run.accept.abort();
            for c in run.conns.lock().unwrap().drain(..) {
                c.abort();
            }
        }
    }
}

/// Runs the binary to its end: whether it succeeded, and what it printed (out and err).
pub fn run_cli(args: &[&str]) -> (bool, String) {
    let out = bin()
        .args(args)
        .env("REMPART_LOG", "warn")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// POSTs `body` as JSON with the bearer token; asserts a 2xx and returns the answer.
pub async fn post_ok(http: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let r = http
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {v}");
    v
}
