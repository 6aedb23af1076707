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
