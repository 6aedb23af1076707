//! A log that cannot be written never takes the service down: standard error on a full
//! disk, or a pipe nobody reads.

use crate::support::*;
use std::io::Read;
use std::time::Duration;

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

/// `rempart serve 2>/dev/full` with debug logs: every line fails to be written, and the
/// node still starts, answers, stores messages and stops cleanly (exit 0) on SIGTERM.
/// A command's own output on a full standard output does not make it fail either.
#[tokio::test]
async fn a_node_whose_log_cannot_be_written_keeps_serving() {
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("log-dev-full");
    let env = node_env(&db.url, &always_open(&dir));
    let node = serve_with(&env, &[("REMPART_LOG", "debug")], dev_full()).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/healthz", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = visitor(&http, &node.base).await;
    for i in 0..20 {
        let r = say(&http, &node.base, &token, &format!("m{i}"), "bonjour")
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    assert_eq!(transcript(&http, &node.base, &token).await.len(), 20);
    let status = node.stop();
    assert!(status.success(), "stopped with {status}");

    let out = bin()
        .args(["config", "example"])
        .stdout(dev_full())
        .stderr(dev_full())
        .status()
        .unwrap();
    assert!(out.success(), "config example on a full stdout: {out}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A node whose standard error is a pipe nobody reads (a stalled log collector), with
/// debug logs: the pipe fills up (64 KiB) within the first requests, and the node keeps
/// answering every one of the many that follow, each within a few seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_log_pipe_is_never_read_keeps_serving() {
    let db = rempart_storage::testing::fresh_database().await.unwrap();
    let dir = tmp("log-stalled-pipe");
    let env = node_env(&db.url, &always_open(&dir));
    let mut node = serve_with(
        &env,
        &[("REMPART_LOG", "debug")],
        std::process::Stdio::piped(),
    )
    .await;
    // held open, never read
    let mut stalled = node.child.stderr.take().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut tokens = Vec::new();
    for _ in 0..20 {
        tokens.push(visitor(&http, &node.base).await);
    }
    let mut tasks = Vec::new();
    for (w, token) in tokens.iter().enumerate() {
        let (http, base, token) = (http.clone(), node.base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                let r = say(&http, &base, &token, &format!("m{w}-{i}"), "bonjour")
                    .await
                    .expect("answered within 5 s");
                assert_eq!(r.status(), 201);
                let r = http
                    .get(format!("{base}/widget/v1/messages"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("answered within 5 s");
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(transcript(&http, &node.base, &tokens[0]).await.len(), 50);
    // the pipe is full: a whole pipe's worth of log lines waits, unread
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        let mut got = 0;
        while got < buf.len() {
            match stalled.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        let _ = tx.send(got);
    });
    let unread = rx.recv_timeout(Duration::from_secs(5)).unwrap_or(0);
    assert_eq!(unread, 65_536, "the log pipe was full");
    let status = node.stop();
    assert!(status.success(), "stopped with {status}");
    let _ = std::fs::remove_dir_all(dir);
}
