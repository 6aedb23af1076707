//! Two `rempart serve` processes on one PostgreSQL database: the young person writes on
//! one node, the counsellor answers on the other, and both see each other live (pub/sub
//! over LISTEN/NOTIFY). Needs `REMPART_TEST_POSTGRES`; CI's PostgreSQL pass sets it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(url: &str, hours: &std::path::Path) -> Node {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .arg("serve")
        .env("REMPART_DATABASE_URL", url)
        .env("REMPART_LISTEN", format!("127.0.0.1:{port}"))
        .env("REMPART_SECURE_COOKIES", "false")
        .env("REMPART_REQUIRE_TOTP_ROLES", "")
        .env("REMPART_ARGON2_MEMORY_KIB", "64")
        .env("REMPART_OPENING_HOURS_FILE", hours)
        .env("REMPART_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status() == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node on {port} not ready in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Node { child, base }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(base: &str, path: &str, bearer: Option<&str>) -> Ws {
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

async fn frame(s: &mut Ws, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
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
    .expect("the other node's event arrived in time")
}

#[tokio::test]
async fn a_visitor_on_one_node_and_a_counsellor_on_another_talk_live() {
    let Some(server) = rempart_storage::testing::postgres_server() else {
        eprintln!(
            "REMPART_TEST_POSTGRES IS NOT SET: the two-node test needs PostgreSQL and checked NOTHING (CI runs it)"
        );
        return;
    };
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    assert!(db.url.starts_with(&server));
    let dir = std::env::temp_dir().join(format!("rempart-two-nodes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hours = dir.join("hours.toml");
    std::fs::write(&hours, "timezone = \"Europe/Paris\"\nholiday_hours = \"same\"\n[hours]\nevery_day = \"00:00-24:00\"\n").unwrap();

    // one account, created as an operator would
    let mut add = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args([
            "user",
            "add",
            "--email",
            "nina@helpline.invalid",
            "--name",
            "Nina",
            "--role",
            "counsellor",
        ])
        .env("REMPART_DATABASE_URL", &db.url)
        .env("REMPART_ARGON2_MEMORY_KIB", "64")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut add.stdin.take().unwrap(), b"two nodes passphrase\n").unwrap();
    assert!(add.wait().unwrap().success());

    let a = start(&db.url, &hours).await;
    let b = start(&db.url, &hours).await;
    let http = reqwest::Client::new();

    // the visitor, on node A
    let v: Value = http
        .post(format!("{}/widget/v1/sessions", a.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = v["token"].as_str().unwrap().to_owned();
    let mut vs = socket(&a.base, "/widget/v1/ws", None).await;
    vs.send(Message::text(
        json!({"token": token, "after": 0}).to_string(),
    ))
    .await
    .unwrap();
    frame(&mut vs, "state", |_| true).await;
    let r = http
        .post(format!("{}/widget/v1/messages", a.base))
        .bearer_auth(&token)
        .json(&json!({"client_id": "a1", "body": "Bonjour depuis le nœud A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // the counsellor, on node B: its queue socket hears the visitor's arrival from A
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", b.base))
        .json(&json!({"email": "nina@helpline.invalid", "password": "two nodes passphrase"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ctok = login["token"].as_str().unwrap().to_owned();
    let mut cs = socket(&b.base, "/api/v1/ws", Some(&ctok)).await;
    let r = http
        .post(format!("{}/widget/v1/typing", a.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let taken: Value = http
        .post(format!("{}/api/v1/chats/take", b.base))
        .bearer_auth(&ctok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    // taking it on B changes its state on A's socket
    frame(&mut vs, "state", |f| {
        f["conversation"]["status"] == "active"
    })
    .await;
    cs.send(Message::text(
        json!({"type": "watch", "conversation": id, "after": 1}).to_string(),
    ))
    .await
    .unwrap();
    frame(&mut cs, "messages", |_| true).await;

    // B → A
    let sent = Instant::now();
    let r = http
        .post(format!("{}/api/v1/chats/{id}/messages", b.base))
        .bearer_auth(&ctok)
        .json(&json!({"client_id": "b1", "body": "Bonjour, ici le nœud B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = frame(&mut vs, "message", |f| f["message"]["from"] == "counsellor").await;
    assert_eq!(got["message"]["body"], "Bonjour, ici le nœud B");
    eprintln!("B → A delivered in {} ms", sent.elapsed().as_millis());

    // A → B
    let r = http
        .post(format!("{}/widget/v1/messages", a.base))
        .bearer_auth(&token)
        .json(&json!({"client_id": "a2", "body": "Reçu sur A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = frame(&mut cs, "messages", |f| {
        f["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["body"] == "Reçu sur A"))
    })
    .await;
    assert_eq!(got["conversation"], id.as_str());

    // each message stored once, in order, whichever node is asked
    for base in [&a.base, &b.base] {
        let all: Value = http
            .get(format!("{base}/api/v1/chats/{id}/messages"))
            .bearer_auth(&ctok)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let seqs: Vec<i64> = all["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, vec![1, 2, 3]);
    }
    let _ = std::fs::remove_dir_all(dir);
}
