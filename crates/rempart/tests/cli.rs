//! The `rempart` binary as an operator uses it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rempart-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn config_example_prints_the_documented_defaults() {
    let out = bin().args(["config", "example"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[database]\nurl = \"sqlite://") || text.contains("url = \"sqlite://"));
    assert!(text.contains("session_idle_minutes = 15"));
}

#[test]
fn an_unknown_database_scheme_is_an_error() {
    let out = bin()
        .args(["migrate"])
        .env("REMPART_DATABASE_URL", "mysql://localhost/x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL scheme"));
}

#[test]
fn user_add_reads_the_password_from_stdin_and_audit_verify_finds_tampering() {
    let dir = tmp("user");
    let url = format!("sqlite://{}/r.db", dir.display());
    let out = bin()
        .args(["migrate"])
        .env("REMPART_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = bin()
        .args([
            "user",
            "add",
            "--email",
            "nadia@helpline.invalid",
            "--name",
            "Nadia",
            "--role",
            "supervisor",
        ])
        .env("REMPART_DATABASE_URL", &url)
        .env("REMPART_SECURITY_ARGON2_MEMORY_KIB", "64")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a very long passphrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("account created"));
    // a short password is refused
    let mut child = bin()
        .args([
            "user",
            "add",
            "--email",
            "x@helpline.invalid",
            "--name",
            "X",
            "--role",
            "counsellor",
        ])
        .env("REMPART_DATABASE_URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    assert!(!child.wait_with_output().unwrap().status.success());

    let out = bin()
        .args(["audit", "verify"])
        .env("REMPART_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit trail intact"));

    // change an event behind the application's back
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = rempart_storage::Store::connect(&url, &rempart_storage::testing::options())
            .await
            .unwrap();
        s.tamper_for_tests("UPDATE audit_events SET detail = 'role=admin' WHERE seq = 1")
            .await;
        s.close().await;
    });
    let out = bin()
        .args(["audit", "verify"])
        .env("REMPART_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Modified { seq: 1 }"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn demo_prints_its_accounts_seeds_once_and_serves() {
    let dir = tmp("demo");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for round in 0..2 {
        let mut child = bin()
            .args([
                "demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
                dir.to_str().unwrap(),
            ])
            .env("REMPART_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut accounts = vec![];
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("demo account: ") {
                accounts.push(rest.split(' ').map(str::to_owned).collect::<Vec<_>>());
            }
            if line.starts_with("ready in") {
                break;
            }
        }
        let roles: Vec<&str> = accounts.iter().map(|a| a[0].as_str()).collect();
        assert_eq!(
            roles,
            [
                "counsellor",
                "psychologist",
                "lawyer",
                "digital_specialist",
                "supervisor",
                "admin"
            ],
            "round {round}"
        );
        assert!(accounts.iter().all(|a| a.len() == 3));
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut resp = String::new();
        std::io::Read::read_to_string(&mut s, &mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // seeded once: the second start found the accounts and did not add more cases
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rt.block_on(async {
        let s = rempart_storage::Store::connect(
            &format!("sqlite://{}/rempart.db", dir.display()),
            &rempart_storage::testing::options(),
        )
        .await
        .unwrap();
        (
            s.case_count().await.unwrap(),
            s.staff_count().await.unwrap(),
        )
    });
    assert_eq!(n, (200, 6));
    let _ = std::fs::remove_dir_all(dir);
}
