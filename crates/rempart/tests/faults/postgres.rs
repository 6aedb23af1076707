//! Two PostgreSQL nodes under ordinary load, and a database that goes away.

use crate::postgres_or_say;
use crate::support::*;
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
