//! SQLite's disk: full, then freed again; and its write-ahead log under sustained load.

use crate::support::*;
use crate::until;
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Writes `path` until the file system refuses a single byte more.
fn fill(path: &std::path::Path) {
    let mut f = std::fs::File::create(path).unwrap();
    for chunk in [1 << 20, 1 << 12, 1] {
        let buf = vec![0x5a_u8; chunk];
        while f.write_all(&buf).is_ok() {}
    }
    let _ = f.sync_all();
}

/// The database's disk fills up under a node: sends answer a clean 503 `unavailable`
/// (nothing half-written: each message is stored if and only if it was acknowledged),
/// new chat sessions too, and `/readyz` says the node is not ready. Once the disk has
/// space again, the node recovers by itself — sends answer 201 and `/readyz` 200 again,
/// without a restart — and nothing acknowledged was lost; the audit trail is intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_and_the_node_recovers_by_itself() {
    let outside = tmp("full-disk-conf");
    let hours = always_open(&outside);
    let Some(disk) = Tmpfs::mount(
        "a_full_disk_answers_503_and_the_node_recovers_by_itself",
        "full-disk",
        "16m",
    ) else {
        return;
    };
    let url = format!("sqlite://{}/rempart.db", disk.dir.display());
    let env = node_env(&url, &hours);
    let node = serve(&env, &[]).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let tokens: Vec<String> = {
        let mut t = Vec::new();
        for _ in 0..4 {
            t.push(visitor(&http, &node.base).await);
        }
        t
    };
    let text = "x".repeat(3000);
    // what each visitor was told: client id -> acknowledged (201) or refused (503)
    let mut told: Vec<BTreeMap<String, bool>> = vec![BTreeMap::new(); tokens.len()];
    let mut n = 0;
    let mut send = async |told: &mut Vec<BTreeMap<String, bool>>| -> u16 {
        n += 1;
        let i = n % tokens.len();
        let cid = format!("m{n}");
        let r = say(&http, &node.base, &tokens[i], &cid, &text)
            .await
            .unwrap();
        let status = r.status().as_u16();
        match status {
            201 => {
                told[i].insert(cid, true);
            }
            503 => {
                let v: Value = r.json().await.unwrap();
                assert_eq!(v["error"], "unavailable", "{v}");
                told[i].insert(cid, false);
            }
            other => panic!("a send answered {other}"),
        }
        status
    };
    for _ in 0..20 {
        assert_eq!(send(&mut told).await, 201);
    }

    let filler = disk.dir.join("filler");
    fill(&filler);
    // the log may still have room in frames already on disk: sends go on until the
    // first refusal, which must come soon
    let mut refused = 0;
    for _ in 0..500 {
        if send(&mut told).await == 503 {
            refused += 1;
            break;
        }
    }
    assert_eq!(refused, 1, "a full disk refused a send");
    for _ in 0..10 {
        if send(&mut told).await == 503 {
            refused += 1;
        }
    }
    assert!(refused >= 8, "a full disk keeps refusing ({refused} of 11)");
    let r = http
        .post(format!("{}/widget/v1/sessions", node.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "a new chat session on a full disk");
    let r = http
        .get(format!("{}/readyz", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "/readyz on a full disk");

    std::fs::remove_file(&filler).unwrap();
    until(
        15,
        "sends are acknowledged again once the disk has space",
        || {
            let (http, base, token) = (http.clone(), node.base.clone(), tokens[0].clone());
            async move {
                say(&http, &base, &token, "back", "de retour")
                    .await
                    .is_ok_and(|r| r.status() == 201)
            }
        },
    )
    .await;
    told[0].insert("back".into(), true);
    let r = http
        .get(format!("{}/readyz", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "/readyz once the disk has space");
    for _ in 0..20 {
        assert_eq!(send(&mut told).await, 201);
    }
    assert!(
        visitor(&http, &node.base).await.len() > 16,
        "new chat sessions again"
    );

    // each conversation holds exactly what was acknowledged, numbered without a gap
    for (i, token) in tokens.iter().enumerate() {
        let all = transcript(&http, &node.base, token).await;
        let stored: BTreeSet<String> = all
            .iter()
            .map(|m| m["client_id"].as_str().unwrap().to_owned())
            .collect();
        let acked: BTreeSet<String> = told[i]
            .iter()
            .filter(|(_, ok)| **ok)
            .map(|(c, _)| c.clone())
            .collect();
        assert_eq!(stored, acked, "visitor {i}: stored = acknowledged");
        let seqs: Vec<i64> = all.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    }
    let status = node.stop();
    assert!(status.success(), "stopped with {status}");
    let mut verify = bin();
    verify.args(["audit", "verify"]);
    for (k, v) in &env {
        verify.env(k, v);
    }
    let out = verify.output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("intact"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(outside);
}

fn wal_size(db: &std::path::Path) -> Option<u64> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(std::path::PathBuf::from(wal))
        .ok()
        .map(|m| m.len())
}

/// Many visitors write at once for five seconds while others read (transcripts, live
/// sockets), so some reader always holds an older snapshot of the log: with
/// `database.sqlite_wal_limit_mb = 1`, the write-ahead log file never grows past three
/// times that limit (it reached 7 to 10 MiB when only passive checkpoints ran), and after
/// SIGTERM it is empty or gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_log_stays_bounded_under_load_and_is_gone_after_a_clean_stop() {
    const LIMIT_MB: u64 = 1;
    const WRITERS: usize = 32;
    const READERS: usize = 16;
    let dir = tmp("wal-bound");
    let db = dir.join("rempart.db");
    let url = format!("sqlite://{}", db.display());
    let env = node_env(&url, &always_open(&dir));
    let node = serve(
        &env,
        &[(
            "REMPART_DATABASE_SQLITE_WAL_LIMIT_MB",
            &LIMIT_MB.to_string(),
        )],
    )
    .await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut tokens = Vec::new();
    for _ in 0..WRITERS {
        tokens.push(visitor(&http, &node.base).await);
    }
    // live sockets: every message is pushed to its visitor, read from the database
    let (quit, quitting) = tokio::sync::watch::channel(false);
    let mut sockets = Vec::new();
    for t in tokens.iter().take(8) {
        let mut s = socket(&node.base, "/widget/v1/ws", None).await;
        s.send(Message::text(json!({"token": t, "after": 0}).to_string()))
            .await
            .unwrap();
        frame(&mut s, "state", |_| true).await;
        let mut quitting = quitting.clone();
        sockets.push(tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut pushed = 0u64;
            loop {
                tokio::select! {
                    m = s.next() => match m {
                        Some(Ok(_)) => pushed += 1,
                        _ => break,
                    },
                    _ = quitting.changed() => {
                        let _ = s.close(None).await;
                        break;
                    }
                }
            }
            pushed
        }));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, peak, db) = (stop.clone(), peak.clone(), db.clone());
        tokio::spawn(async move {
            let mut samples = 0u64;
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(wal_size(&db).unwrap_or(0), Ordering::Relaxed);
                samples += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            samples
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let text = "y".repeat(4000);
    let sent = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for (w, token) in tokens.iter().enumerate() {
        let (http, base, token, text, sent) = (
            http.clone(),
            node.base.clone(),
            token.clone(),
            text.clone(),
            sent.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while Instant::now() < deadline {
                let r = say(&http, &base, &token, &format!("w{w}-{i}"), &text)
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                sent.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    for r in 0..READERS {
        let (http, base, token) = (http.clone(), node.base.clone(), tokens[r % WRITERS].clone());
        load.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let r = http
                    .get(format!("{base}/widget/v1/messages"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await;
            }
        }));
    }
    for l in load {
        l.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.await.unwrap();
    let peak = peak.load(Ordering::Relaxed);
    let sent = sent.load(Ordering::Relaxed);
    let metrics = http
        .get(format!("{}/metrics", node.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    eprintln!(
        "WAL under load: {sent} messages of 4 KB in 5 s, largest -wal file {:.1} MiB ({samples} samples), limit {LIMIT_MB} MiB",
        peak as f64 / 1048576.0
    );
    assert!(sent > 500, "the load ran ({sent} messages)");
    assert!(
        peak <= 3 * LIMIT_MB * 1024 * 1024,
        "the WAL grew to {peak} bytes, limit {LIMIT_MB} MiB"
    );
    assert!(
        metrics.contains("rempart_sqlite_wal_peak_bytes"),
        "the node reports its largest log in /metrics"
    );
    quit.send(true).unwrap();
    for s in sockets {
        assert!(
            s.await.unwrap() > 0,
            "the live sockets were pushed messages"
        );
    }
    let status = node.stop();
    assert!(status.success(), "stopped with {status}");
    assert!(
        wal_size(&db).unwrap_or(0) == 0,
        "after a clean stop the log is empty or gone: {:?}",
        wal_size(&db)
    );
    let _ = std::fs::remove_dir_all(dir);
}
