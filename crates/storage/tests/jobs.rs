//! The durable job queue: asked once, leased to one worker at a time, due again when its
//! worker vanished, ended only by the claim's holder. On PostgreSQL (`REMPART_TEST_POSTGRES`)
//! two stores claim at once as two nodes would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rempart_storage::testing::{event, fresh_database, options};
use rempart_storage::*;
use std::collections::HashSet;

fn job(i: usize, kind: &str, run_at: i64) -> NewJob {
    NewJob {
        kind: kind.into(),
        dedup_key: format!("{kind}:{i}"),
        payload: format!("{{\"n\":{i}}}"),
        run_at,
    }
}

fn audit(at: i64) -> AuditEntry {
    AuditEntry::new(at, None, event("case.created"))
}

async fn store() -> (rempart_storage::testing::TestDb, Store) {
    let db = fresh_database().await.unwrap();
    let s = Store::connect(&db.url, &options()).await.unwrap();
    s.migrate().await.unwrap();
    (db, s)
}

#[tokio::test]
async fn a_job_asked_twice_is_one_job() {
    let (_db, s) = store().await;
    assert!(
        s.enqueue_job(&job(1, "k", 100), 10, &audit(10))
            .await
            .unwrap()
    );
    let mut again = job(1, "k", 5);
    again.payload = "{\"other\":true}".into();
    assert!(!s.enqueue_job(&again, 11, &audit(11)).await.unwrap());
    let rec = s.job_by_key("k:1").await.unwrap().unwrap();
    assert_eq!(
        (rec.state, rec.attempts, rec.run_at),
        (JobState::Pending, 0, 100)
    );
    let claimed = s.claim_jobs(&["k"], "n1", 100, 1000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].payload, "{\"n\":1}", "the first job stands");
    assert_eq!(s.job_counts("k").await.unwrap(), (1, 0, 0));
}

#[tokio::test]
async fn a_job_is_due_only_at_its_time_and_only_for_its_kind() {
    let (_db, s) = store().await;
    s.enqueue_job(&job(1, "a", 500), 0, &audit(0))
        .await
        .unwrap();
    s.enqueue_job(&job(2, "b", 100), 0, &audit(0))
        .await
        .unwrap();
    assert!(
        s.claim_jobs(&["a"], "n1", 499, 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.next_job_due(&["a"]).await.unwrap(), Some(500));
    assert_eq!(s.next_job_due(&["a", "b"]).await.unwrap(), Some(100));
    assert_eq!(s.next_job_due(&["c"]).await.unwrap(), None);
    let got = s.claim_jobs(&["a"], "n1", 500, 1000, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].kind.as_str(), got[0].attempt), ("a", 1));
    assert!(
        s.claim_jobs(&["c"], "n1", 10_000, 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_lease_that_runs_out_gives_the_job_to_another_worker_and_only_the_new_holder_ends_it() {
    let (_db, s) = store().await;
    s.enqueue_job(&job(1, "k", 0), 0, &audit(0)).await.unwrap();
    let first = s.claim_jobs(&["k"], "n1", 10, 1000, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].lease_until, 1010);
    assert_eq!(
        s.leased_jobs("k", 1009).await.unwrap(),
        vec!["{\"n\":1}".to_owned()],
        "leased to n1"
    );
    assert!(
        s.leased_jobs("k", 1010).await.unwrap().is_empty(),
        "its lease ran out"
    );
    assert!(s.leased_jobs("other", 1009).await.unwrap().is_empty());
    // while the lease runs, nobody else gets it
    assert!(
        s.claim_jobs(&["k"], "n2", 1009, 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.next_job_due(&["k"]).await.unwrap(), Some(1010));
    // n1 died: once the lease ran out, n2 gets it, as a second attempt
    let second = s.claim_jobs(&["k"], "n2", 1010, 1000, 10).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempt, 2);
    assert_ne!(second[0].lease_token, first[0].lease_token);
    // n1 comes back late: its end changes nothing
    assert!(!s.end_job(&first[0], &JobEnd::Done, 1100).await.unwrap());
    assert_eq!(
        s.job_by_key("k:1").await.unwrap().unwrap().state,
        JobState::Pending
    );
    assert!(s.end_job(&second[0], &JobEnd::Done, 1200).await.unwrap());
    assert!(s.leased_jobs("k", 1201).await.unwrap().is_empty(), "ended");
    assert_eq!(s.job_counts("k").await.unwrap(), (0, 1, 0));
    // done is done: never claimed again, never ended twice
    assert!(
        s.claim_jobs(&["k"], "n3", i64::MAX / 2, 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!s.end_job(&second[0], &JobEnd::Done, 1300).await.unwrap());
}

#[tokio::test]
async fn a_retried_job_waits_for_its_time_and_a_failed_one_stays_failed() {
    let (_db, s) = store().await;
    s.enqueue_job(&job(1, "k", 0), 0, &audit(0)).await.unwrap();
    s.enqueue_job(&job(2, "k", 0), 0, &audit(0)).await.unwrap();
    let got = s.claim_jobs(&["k"], "n1", 0, 60_000, 10).await.unwrap();
    assert_eq!(got.len(), 2);
    let retry = JobEnd::Retry {
        at: 5000,
        reason: "http_503".into(),
    };
    assert!(s.end_job(&got[0], &retry, 10).await.unwrap());
    let failed = JobEnd::Failed {
        reason: "http_400".into(),
    };
    assert!(s.end_job(&got[1], &failed, 10).await.unwrap());
    let r1 = s.job_by_key(&got[0].dedup_key).await.unwrap().unwrap();
    assert_eq!(
        (r1.state, r1.run_at, r1.last_error.as_deref()),
        (JobState::Pending, 5000, Some("http_503"))
    );
    let r2 = s.job_by_key(&got[1].dedup_key).await.unwrap().unwrap();
    assert_eq!(
        (r2.state, r2.last_error.as_deref()),
        (JobState::Failed, Some("http_400"))
    );
    assert!(
        s.claim_jobs(&["k"], "n1", 4999, 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = s.claim_jobs(&["k"], "n1", 5000, 60_000, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].dedup_key.as_str(), again[0].attempt),
        (got[0].dedup_key.as_str(), 2)
    );
    assert_eq!(s.job_counts("k").await.unwrap(), (1, 0, 1));
}

/// Two nodes (two pools on one database), each with several workers claiming at the same
/// moment: every job is claimed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_on_two_nodes_never_claim_the_same_job() {
    const JOBS: usize = 300;
    let (db, a) = store().await;
    let b = Store::connect(&db.url, &options()).await.unwrap();
    for i in 0..JOBS {
        a.enqueue_job(&job(i, "k", 0), 0, &audit(0)).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..6 {
        let s = if w % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = s
                    .claim_jobs(&["k"], &format!("w{w}"), 1, 600_000, 7)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                for j in got {
                    assert!(s.end_job(&j, &JobEnd::Done, 2).await.unwrap());
                    mine.push(j.dedup_key);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    let mut busy = 0;
    for t in tasks {
        let mine = t.await.unwrap();
        busy += usize::from(!mine.is_empty());
        all.extend(mine);
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(
        all.len(),
        JOBS,
        "claimed {} times for {JOBS} jobs",
        all.len()
    );
    assert_eq!(unique.len(), JOBS);
    assert!(busy >= 2, "the work was shared ({busy} workers had some)");
    assert_eq!(a.job_counts("k").await.unwrap(), (0, JOBS as u64, 0));
}
