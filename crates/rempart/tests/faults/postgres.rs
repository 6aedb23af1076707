//! Two PostgreSQL nodes under ordinary load, and a database that goes away.

use crate::support::*;
use crate::{postgres_or_say, until};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "faults passphrase";

/// Young people write on node A while their counsellors answer on node B, in many
/// conversations at once, for a few seconds: each node's group commit locks many
/// conversations in one transaction, and the two never deadlock each other. Every message
/// is acknowledged (201), none refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitors_on_one_node_and_counsellors_on_another_never_fail() {
    if postgres_or_say("visitors_on_one_node_and_counsellors_on_another_never_fail").is_none() {
        return;
    }
    const COUNSELLORS: usize = 3;
    const EACH: usize = 10; // the most one counsellor may hold
    const WORKERS: usize = 24; // requests in flight on each side
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("cross-node-load");
    let env = node_env(&db.url, &always_open(&dir));
    for c in 0..COUNSELLORS {
        user_add(
            &env,
            &format!("n{c}@helpline.invalid"),
            "counsellor",
            PASSWORD,
        );
    }
    let a = serve(&env, &[]).await;
    let b = serve(&env, &[]).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(4 * WORKERS)
        .build()
        .unwrap();
    let mut visitors = Vec::new();
    for i in 0..COUNSELLORS * EACH {
        let t = visitor(&http, &a.base).await;
        let r = say(&http, &a.base, &t, "first", "bonjour").await.unwrap();
        assert_eq!(r.status(), 201, "visitor {i}");
        visitors.push(t);
    }
    let mut counsellors = Vec::new(); // (bearer, conversation)
    for c in 0..COUNSELLORS {
        let email = format!("n{c}@helpline.invalid");
        let tok = on_duty(&http, &b.base, &email, PASSWORD, EACH as i64).await;
        for _ in 0..EACH {
            let id = take(&http, &b.base, &tok).await;
            counsellors.push((tok.clone(), id));
        }
    }
    let (visitors, counsellors) = (Arc::new(visitors), Arc::new(counsellors));
    let n = visitors.len();
    let deadline = Instant::now() + Duration::from_secs(3);
    let (sent, errors) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..2 * WORKERS {
        let (http, visitors, counsellors) = (http.clone(), visitors.clone(), counsellors.clone());
        let (sent, errors, next) = (sent.clone(), errors.clone(), next.clone());
        let (a, b) = (a.base.clone(), b.base.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while Instant::now() < deadline {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let cid = format!("load-{k}");
                // visitors go up the conversations, counsellors down: opposite lock orders
                let r = if w % 2 == 0 {
                    say(&http, &a, &visitors[k % n], &cid, "message").await
                } else {
                    let (tok, id) = &counsellors[n - 1 - k % n];
                    reply(&http, &b, tok, id, &cid, "réponse").await
                };
                sent.fetch_add(1, Ordering::Relaxed);
                let status = r.map(|r| r.status().as_u16()).unwrap_or(0);
                if status != 201 {
                    errors.fetch_add(1, Ordering::Relaxed);
                    statuses.push(status);
                }
            }
            statuses
        }));
    }
    let mut refused = Vec::new();
    for w in workers {
        refused.extend(w.await.unwrap());
    }
    let sent = sent.load(Ordering::Relaxed);
    eprintln!(
        "cross-node load: {sent} messages in 3 s, {} not acknowledged",
        errors.load(Ordering::Relaxed)
    );
    assert!(sent > 200, "the load ran ({sent} messages)");
    assert!(refused.is_empty(), "statuses other than 201: {refused:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `url` with its server's address replaced by `addr` (the same database through a
/// proxy), and the server's own address.
fn through(url: &str, addr: &str) -> (String, std::net::SocketAddr) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
    let (host, path) = rest.split_once('/').unwrap();
    let server = std::net::ToSocketAddrs::to_socket_addrs(host)
        .unwrap()
        .next()
        .unwrap();
    let at = if user.is_empty() { "" } else { "@" };
    (format!("{scheme}://{user}{at}{addr}/{path}"), server)
}

/// One message sent while the database may be away: its status, error code and time.
async fn timed_say(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    cid: &str,
) -> (u16, String, Duration) {
    let t = Instant::now();
    let r = say(http, base, token, cid, "tu es là ?").await.unwrap();
    let status = r.status().as_u16();
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    let code = v["error"].as_str().unwrap_or("").to_owned();
    (status, code, t.elapsed())
}

/// PostgreSQL goes away (the test's proxy refuses new connections and cuts the open
/// ones): messages sent meanwhile — several at once, arriving over two seconds — answer
/// 503 `unavailable` after at most about `database.acquire_timeout_ms` (3 s by default;
/// 500 ms on the second node), never after the 8–15 s a request once hung; `/readyz` says
/// so. When the database is back, both nodes serve again by themselves, and nothing
/// acknowledged before was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_answers_503_quickly_and_comes_back() {
    if postgres_or_say("a_database_that_goes_away_answers_503_quickly_and_comes_back").is_none() {
        return;
    }
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let (_, server) = through(&db.url, "");
    let proxy = Proxy::start(server).await;
    let (url, _) = through(&db.url, &format!("127.0.0.1:{}", proxy.port));
    let dir = tmp("database-away");
    let env = node_env(&url, &always_open(&dir));
    let slow = serve(&env, &[]).await; // the default acquire timeout, 3 s
    let quick = serve(&env, &[("REMPART_DATABASE_ACQUIRE_TIMEOUT_MS", "500")]).await;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for (node, base) in [("slow", &slow.base), ("quick", &quick.base)] {
        let mut mine = Vec::new();
        for i in 0..6 {
            let t = visitor(&http, base).await;
            let r = say(&http, base, &t, "before", "bonjour").await.unwrap();
            assert_eq!(r.status(), 201, "{node} {i}");
            mine.push(t);
        }
        tokens.push(mine);
    }

    proxy.down().await;
    let mut sends = Vec::new();
    for (n, base) in [&slow.base, &quick.base].into_iter().enumerate() {
        for (i, t) in tokens[n].iter().enumerate() {
            let (http, base, t) = (http.clone(), base.clone(), t.clone());
            sends.push(tokio::spawn(async move {
                // arriving over two seconds, while earlier ones still wait
                tokio::time::sleep(Duration::from_millis(400 * i as u64)).await;
                (n, timed_say(&http, &base, &t, "during").await)
            }));
        }
    }
    let mut longest = [Duration::ZERO; 2];
    for s in sends {
        let (n, (status, code, took)) = s.await.unwrap();
        eprintln!("database away: node {n} answered {status} {code} in {took:?}");
        assert_eq!((status, code.as_str()), (503, "unavailable"), "node {n}");
        longest[n] = longest[n].max(took);
    }
    assert!(
        longest[0] < Duration::from_secs(5),
        "default timeout (3 s): {:?}",
        longest[0]
    );
    assert!(
        longest[1] >= Duration::from_millis(400) && longest[1] < Duration::from_millis(1500),
        "500 ms timeout: {:?}",
        longest[1]
    );
    for base in [&slow.base, &quick.base] {
        let t = Instant::now();
        let r = http.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 503);
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }

    proxy.up().await;
    for (n, base) in [&slow.base, &quick.base].into_iter().enumerate() {
        let t = tokens[n][0].clone();
        until(
            20,
            "the node serves again once the database is back",
            || {
                let (http, base, t) = (http.clone(), base.clone(), t.clone());
                async move {
                    say(&http, &base, &t, "after", "de retour")
                        .await
                        .is_ok_and(|r| r.status() == 201)
                }
            },
        )
        .await;
        let r = http.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        for t in &tokens[n] {
            let all = transcript(&http, base, t).await;
            assert!(all.iter().any(|m| m["client_id"] == "before"));
            assert!(!all.iter().any(|m| m["client_id"] == "during"));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The network to PostgreSQL starts dropping everything while a batch of messages is on
/// its way (the test holds a conversation's row so the node's batch waits inside the
/// database, silences the network, then lets the row go: the answer never reaches the
/// node, whose connection neither answers nor fails). Every send still answers 503
/// `unavailable` within the acquire timeout (3 s) and a little — the hung batch's and
/// those queued behind it — instead of waiting out the request timeout (408) for as long
/// as the network is down; `/readyz` says so; once the network is back the node serves
/// again by itself, and every acknowledged message is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_stops_answering_answers_503_quickly_and_comes_back() {
    if postgres_or_say("a_database_that_stops_answering_answers_503_quickly_and_comes_back")
        .is_none()
    {
        return;
    }
    const VISITORS: usize = 4;
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let (_, server) = through(&db.url, "");
    let proxy = Proxy::start(server).await;
    let (url, _) = through(&db.url, &format!("127.0.0.1:{}", proxy.port));
    let dir = tmp("database-silent");
    let env = node_env(&url, &always_open(&dir));
    // a short request timeout, so that waiting it out shows quickly
    let node = serve(&env, &[("REMPART_SERVER_REQUEST_TIMEOUT_SECONDS", "10")]).await;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for _ in 0..VISITORS {
        let t = visitor(&http, &node.base).await;
        let r = say(&http, &node.base, &t, "before", "bonjour")
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        tokens.push(t);
    }

    // the test holds the first visitor's conversation (directly, not through the proxy)
    let direct = sqlx::PgPool::connect(&db.url).await.unwrap();
    let mut lock = direct.begin().await.unwrap();
    let hash = rempart_app::sha256_hex(tokens[0].as_bytes());
    sqlx::query("SELECT id FROM conversations WHERE token_hash = $1 FOR UPDATE")
        .bind(&hash)
        .fetch_one(&mut *lock)
        .await
        .unwrap();
    let held = {
        let (http, base, t) = (http.clone(), node.base.clone(), tokens[0].clone());
        tokio::spawn(async move { timed_say(&http, &base, &t, "held").await })
    };
    until(
        10,
        "the node's batch waits for the conversation's row",
        || {
            let direct = direct.clone();
            async move {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE conversations%'",
                )
                .fetch_one(&direct)
                .await
                .unwrap();
                n > 0
            }
        },
    )
    .await;
    proxy.freeze(true);
    lock.commit().await.unwrap();
    // the others write meanwhile, behind the silent batch
    let mut sends = vec![held];
    for (i, t) in tokens.iter().enumerate().skip(1) {
        let (http, base, t) = (http.clone(), node.base.clone(), t.clone());
        sends.push(tokio::spawn(async move {
            timed_say(&http, &base, &t, &format!("during-{i}")).await
        }));
    }
    for s in sends {
        let (status, code, took) = s.await.unwrap();
        eprintln!("silent database: {status} {code} in {took:?}");
        assert_eq!((status, code.as_str()), (503, "unavailable"), "in {took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
    let (status, code, took) = timed_say(&http, &node.base, &tokens[1], "idle").await;
    assert_eq!((status, code.as_str()), (503, "unavailable"));
    assert!(took < Duration::from_secs(5), "an idle node: {took:?}");
    let r = http
        .get(format!("{}/readyz", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);

    proxy.freeze(false);
    until(20, "the node serves again once the network is back", || {
        let (http, base, t) = (http.clone(), node.base.clone(), tokens[1].clone());
        async move {
            say(&http, &base, &t, "back", "de retour")
                .await
                .is_ok_and(|r| r.status() == 201)
        }
    })
    .await;
    for t in &tokens {
        let all = transcript(&http, &node.base, t).await;
        assert!(all.iter().any(|m| m["client_id"] == "before"));
    }
    direct.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
