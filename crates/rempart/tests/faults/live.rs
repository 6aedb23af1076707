//! Live views and retries: a console starting to watch while a message is committed, a
//! retry of a message a dead node had stored, a client id reused for another text.

use crate::support::*;
use crate::{postgres_or_say, until};
use futures_util::SinkExt;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "faults passphrase";

/// Whether a console frame carries the message of `client_id`.
fn carries(f: &Value, client_id: &str) -> bool {
    f["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["client_id"] == client_id))
}

async fn watch(cs: &mut Ws, id: &str, after: i64) {
    cs.send(Message::text(
        json!({"type": "watch", "conversation": id, "after": after}).to_string(),
    ))
    .await
    .unwrap();
}

/// PostgreSQL, deterministic: the console's read of the conversation is audited after it
/// is done; the test holds the audit chain's head row so that audit waits, commits a
/// visitor message meanwhile (a message does not touch the audit chain), then lets go.
/// The console must receive the message: it subscribed before it read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_gets_a_message_committed_while_it_starts_watching() {
    if postgres_or_say("a_console_gets_a_message_committed_while_it_starts_watching").is_none() {
        return;
    }
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("watch-race-pg");
    let env = node_env(&db.url, &always_open(&dir));
    user_add(&env, "lea@helpline.invalid", "counsellor", PASSWORD);
    let node = serve(&env, &[]).await;
    let http = reqwest::Client::new();
    let token = visitor(&http, &node.base).await;
    assert_eq!(
        say(&http, &node.base, &token, "v1", "bonjour")
            .await
            .unwrap()
            .status(),
        201
    );
    let ctok = on_duty(&http, &node.base, "lea@helpline.invalid", PASSWORD, 10).await;
    let id = take(&http, &node.base, &ctok).await;
    let mut cs = socket(&node.base, "/api/v1/ws", Some(&ctok)).await;

    let mut lock = sqlx::PgConnection::connect(&db.url).await.unwrap();
    lock.execute("BEGIN").await.unwrap();
    sqlx::query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
        .fetch_one(&mut lock)
        .await
        .unwrap();
    watch(&mut cs, &id, 1).await;
    // the node's audit of the read now waits for the lock
    let probe = sqlx::PgPool::connect(&db.url).await.unwrap();
    until(
        10,
        "the watch's audit waits on the audit chain's head",
        || {
            let probe = probe.clone();
            async move {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND query ILIKE '%audit_head%'",
                )
                .fetch_one(&probe)
                .await
                .unwrap();
                n > 0
            }
        },
    )
    .await;
    // meanwhile, the young person writes
    let r = say(&http, &node.base, &token, "v2", "pendant l'ouverture")
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    lock.execute("COMMIT").await.unwrap();
    let got = frame(&mut cs, "messages", |f| carries(f, "v2")).await;
    assert_eq!(got["conversation"], id.as_str());
    let _ = std::fs::remove_dir_all(dir);
}

/// Either database, by numbers: a console starts watching each of many conversations
/// while the young person's message is being committed, at slightly different moments
/// each time. Every message reaches the console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_misses_no_message_racing_its_watch() {
    const CONVERSATIONS: usize = 10; // the most one counsellor may hold
    const TRIALS: usize = 120;
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("watch-race");
    let env = node_env(&db.url, &always_open(&dir));
    user_add(&env, "remi@helpline.invalid", "counsellor", PASSWORD);
    let node = serve(&env, &[]).await;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 0..CONVERSATIONS {
        let t = visitor(&http, &node.base).await;
        let r = say(&http, &node.base, &t, &format!("first-{i}"), "bonjour")
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        tokens.push(t);
    }
    let ctok = on_duty(&http, &node.base, "remi@helpline.invalid", PASSWORD, 10).await;
    // which conversation is whose: the first message's client id says it
    let mut pairs = vec![(String::new(), String::new()); CONVERSATIONS];
    for _ in 0..CONVERSATIONS {
        let id = take(&http, &node.base, &ctok).await;
        let r: Value = http
            .get(format!("{}/api/v1/chats/{id}/messages", node.base))
            .bearer_auth(&ctok)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let first = r["messages"][0]["client_id"].as_str().unwrap();
        let i: usize = first.strip_prefix("first-").unwrap().parse().unwrap();
        pairs[i] = (tokens[i].clone(), id);
    }
    // each trial: a console socket of its own starts watching while a message is sent,
    // at a different moment each time (0 to 6 ms apart, around the watch's read and
    // audited commit)
    for k in 0..TRIALS {
        let (t, id) = &pairs[k % CONVERSATIONS];
        let cid = format!("race-{k}");
        let mut cs = socket(&node.base, "/api/v1/ws", Some(&ctok)).await;
        let send = {
            let (http, base, t, cid) = (http.clone(), node.base.clone(), t.clone(), cid.clone());
            tokio::spawn(async move {
                let delay = (k as u64 * 211) % 6000;
                tokio::time::sleep(std::time::Duration::from_micros(delay)).await;
                say(&http, &base, &t, &cid, "pendant")
                    .await
                    .unwrap()
                    .status()
            })
        };
        watch(&mut cs, id, 1).await;
        assert_eq!(send.await.unwrap(), 201);
        frame(&mut cs, "messages", |f| {
            f["conversation"] == id.as_str() && carries(f, &cid)
        })
        .await;
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// PostgreSQL, two nodes: a node stores a visitor's message and dies before answering or
/// publishing (the test's own store commits it, as that node would have). The widget
/// retries on node B with the same client id and text: B answers with the stored message
/// and publishes it, so the console watching on B and the visitor's socket on A get it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_of_a_message_a_dead_node_stored_reaches_the_live_views() {
    if postgres_or_say("a_retry_of_a_message_a_dead_node_stored_reaches_the_live_views").is_none() {
        return;
    }
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("retry-dead-node");
    let env = node_env(&db.url, &always_open(&dir));
    user_add(&env, "sam@helpline.invalid", "counsellor", PASSWORD);
    let a = serve(&env, &[]).await;
    let b = serve(&env, &[]).await;
    let http = reqwest::Client::new();
    let token = visitor(&http, &a.base).await;
    assert_eq!(
        say(&http, &a.base, &token, "v1", "bonjour")
            .await
            .unwrap()
            .status(),
        201
    );
    let ctok = on_duty(&http, &b.base, "sam@helpline.invalid", PASSWORD, 10).await;
    let id = take(&http, &b.base, &ctok).await;
    let mut cs = socket(&b.base, "/api/v1/ws", Some(&ctok)).await;
    watch(&mut cs, &id, 0).await;
    frame(&mut cs, "messages", |f| carries(f, "v1")).await;
    let mut vs = socket(&a.base, "/widget/v1/ws", None).await;
    vs.send(Message::text(
        json!({"token": token, "after": 1}).to_string(),
    ))
    .await
    .unwrap();
    frame(&mut vs, "state", |_| true).await;

    // the node that died: committed, never answered, never published
    let keys = rempart_app::keys::Keys::derive(MASTER_KEY.as_bytes());
    let dead = rempart_storage::Store::connect(
        &db.url,
        &rempart_storage::StoreOptions::new(keys.chain_key()),
    )
    .await
    .unwrap();
    let conv = rempart_domain::ids::ConversationId::parse(&id).unwrap();
    let stored = dead
        .append_message(
            conv,
            rempart_domain::chat::Sender::Visitor,
            None,
            "v2",
            "tu es là ?",
            1_790_000_000_000,
            &[],
        )
        .await
        .unwrap();
    let stored = stored.message().clone();
    dead.close().await;

    // the widget's retry, on node B
    let r = say(&http, &b.base, &token, "v2", "tu es là ?")
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["seq"], stored.seq, "the retry answers the stored message");
    let got = frame(&mut cs, "messages", |f| carries(f, "v2")).await;
    assert_eq!(got["conversation"], id.as_str());
    let got = frame(&mut vs, "message", |f| f["message"]["client_id"] == "v2").await;
    assert_eq!(got["message"]["body"], "tu es là ?");
    // stored once
    let all = transcript(&http, &a.base, &token).await;
    assert_eq!(all.iter().filter(|m| m["client_id"] == "v2").count(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

/// A client id is the message's idempotency key: the same text again (many times at once,
/// as a flaky network retries) answers 201 with the first message; another text under it
/// answers 409 `idempotency_conflict` and stores nothing.
#[tokio::test]
async fn a_client_id_reused_for_another_text_is_refused() {
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("idempotency");
    let env = node_env(&db.url, &always_open(&dir));
    let node = serve(&env, &[]).await;
    let http = reqwest::Client::new();
    let token = visitor(&http, &node.base).await;
    let first: Value = {
        let r = say(&http, &node.base, &token, "k1", "premier texte")
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    };
    let mut retries = Vec::new();
    for i in 0..20 {
        let (http, base, token) = (http.clone(), node.base.clone(), token.clone());
        retries.push(tokio::spawn(async move {
            let text = if i == 7 {
                "autre texte"
            } else {
                "premier texte"
            };
            let r = say(&http, &base, &token, "k1", text).await.unwrap();
            (i, r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    for h in retries {
        let (i, status, v) = h.await.unwrap();
        if i == 7 {
            assert_eq!(status, 409, "{v}");
            assert_eq!(v["error"], "idempotency_conflict");
        } else {
            assert_eq!(status, 201, "{v}");
            assert_eq!(v, first, "the retry answers the first message");
        }
    }
    let r = say(&http, &node.base, &token, "k1", "autre texte")
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let all = transcript(&http, &node.base, &token).await;
    let k1: Vec<&Value> = all.iter().filter(|m| m["client_id"] == "k1").collect();
    assert_eq!(k1.len(), 1);
    assert_eq!(k1[0]["body"], "premier texte");
    let _ = std::fs::remove_dir_all(dir);
}

/// The close code the server sends next on `s`, within 10 s.
async fn closed_with(s: &mut Ws) -> Option<u16> {
    use futures_util::StreamExt;
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match s.next().await {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("closed in time")
}

/// A node told to stop (SIGTERM, as in a rolling restart) closes its live sockets at once
/// with 1012 "service restart" — the widget and the console reconnect, to another node —
/// and exits without waiting for its drain deadline (10 s) on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_node_closes_its_live_sockets_at_once() {
    let dir = tmp("stop-sockets");
    let env = node_env(
        &format!("sqlite://{}", dir.join("rempart.db").display()),
        &always_open(&dir),
    );
    user_add(&env, "lea@helpline.invalid", "counsellor", PASSWORD);
    let node = serve(&env, &[]).await;
    let http = reqwest::Client::new();
    let token = visitor(&http, &node.base).await;
    assert_eq!(
        say(&http, &node.base, &token, "v1", "bonjour")
            .await
            .unwrap()
            .status(),
        201
    );
    let ctok = on_duty(&http, &node.base, "lea@helpline.invalid", PASSWORD, 10).await;
    let id = take(&http, &node.base, &ctok).await;
    let mut cs = socket(&node.base, "/api/v1/ws", Some(&ctok)).await;
    watch(&mut cs, &id, 0).await;
    frame(&mut cs, "messages", |f| carries(f, "v1")).await;
    let mut vs = socket(&node.base, "/widget/v1/ws", None).await;
    vs.send(Message::text(
        json!({"token": token, "after": 1}).to_string(),
    ))
    .await
    .unwrap();
    frame(&mut vs, "state", |_| true).await;

    let started = std::time::Instant::now();
    let pid = node.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        closed_with(&mut vs).await,
        Some(1012),
        "the visitor's socket"
    );
    assert_eq!(
        closed_with(&mut cs).await,
        Some(1012),
        "the console's socket"
    );
    let status = node.stop();
    let took = started.elapsed();
    assert!(status.success(), "clean exit: {status}");
    assert!(
        took < std::time::Duration::from_secs(5),
        "the node did not wait for its drain deadline on open sockets: {took:?}"
    );
}
