//! Faults injected from outside into real `rempart serve` processes: a console that starts
//! watching while a message is committed, a retry after a node died, two PostgreSQL nodes
//! writing the same conversations, a full disk, a log that cannot be written, a database
//! that goes away, a node stopped while it holds live sockets, a node killed while it
//! delivers notices to platforms, a node killed mid-upload and right after one, a node
//! killed while a referral's e-mail waits for a mail server that is down. Each test waits for the
//! event itself (a socket frame, a status) within a bound, never for a fixed time. The PostgreSQL ones need `REMPART_TEST_POSTGRES` (CI's
//! PostgreSQL pass sets it) and say so loudly without it; the full-disk test mounts a
//! tmpfs, which needs root: without it, it says so loudly (and fails under CI's
//! `REMPART_REQUIRE_ROOT=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

#[path = "faults/delivery.rs"]
mod delivery;
#[path = "faults/disk.rs"]
mod disk;
#[path = "faults/evidence.rs"]
mod evidence;
#[path = "faults/live.rs"]
mod live;
#[path = "faults/logs.rs"]
mod logs;
#[path = "faults/postgres.rs"]
mod postgres;
#[path = "faults/referral_mail.rs"]
mod referral_mail;

/// The PostgreSQL server of the tests, or None after saying loudly that `test` checked
/// nothing.
pub fn postgres_or_say(test: &str) -> Option<String> {
    let s = rempart_storage::testing::postgres_server();
    if s.is_none() {
        eprintln!(
            "REMPART_TEST_POSTGRES IS NOT SET: {test} needs PostgreSQL and checked NOTHING (CI runs it)"
        );
    }
    s
}

/// Polls `check` every 20 ms until it holds, for at most `secs` seconds (a wait for an
/// observable state, never a fixed sleep).
pub async fn until<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not within {secs} s: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
