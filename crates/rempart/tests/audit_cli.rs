//! The audit trail against someone with database access: the chain is keyed by a secret
//! that is not in the database, and an anchor kept outside finds a cut tail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use support::*;

fn run(args: &[&str]) -> (bool, String) {
    run_cli(args)
}

fn add_user(dir: &std::path::Path, email: &str) {
    let mut cmd = bin();
    cmd.args([
        "user",
        "add",
        "--email",
        email,
        "--name",
        "N",
        "--role",
        "counsellor",
    ])
    .env(
        "REMPART_DATABASE_URL",
        format!("sqlite://{}/rempart.db", dir.display()),
    )
    .env("REMPART_SECURITY_ARGON2_MEMORY_KIB", "64")
    .env("REMPART_LOG", "warn")
    .stdin(Stdio::piped())
    .stdout(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        b"a long enough passphrase\n",
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
}

async fn raw(dir: &std::path::Path) -> rempart_storage::Store {
    rempart_storage::Store::connect(
        &format!("sqlite://{}/rempart.db", dir.display()),
        &rempart_storage::testing::options(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_cut_tail_is_found_by_the_anchor_and_a_recomputed_chain_by_the_key() {
    let dir = tmp("audit-anchor");
    let d = dir.to_str().unwrap();
    let anchors = dir.join("anchors.txt");
    let a = anchors.to_str().unwrap();
    add_user(&dir, "one@helpline.invalid");
    assert!(
        dir.join("master.key").exists(),
        "the node's secret, beside its database"
    );
    let (ok, out) = run(&["audit", "anchor", "--data-dir", d, a]);
    assert!(ok, "{out}");
    let first = std::fs::read_to_string(&anchors).unwrap();
    assert_eq!(first.lines().count(), 1);
    add_user(&dir, "two@helpline.invalid");
    add_user(&dir, "three@helpline.invalid");
    let (ok, out) = run(&["audit", "anchor", "--data-dir", d, a]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["audit", "verify", "--data-dir", d, "--anchor", a]);
    assert!(ok, "{out}");
    assert!(out.contains("audit trail intact") && out.contains("anchors checked: 2"));
    let head: i64 = std::fs::read_to_string(&anchors)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // someone with database access deletes the newest events and rewinds the head
    let s = raw(&dir).await;
    let cut = head - 2;
    let sql: &'static str = Box::leak(
        format!(
            "DELETE FROM audit_events WHERE seq > {cut}; \
             UPDATE audit_head SET seq = {cut}, hash = (SELECT hash FROM audit_events WHERE seq = {cut}) WHERE id = 1"
        )
        .into_boxed_str(),
    );
    s.tamper_for_tests(sql).await;
    s.close().await;
    let (ok, out) = run(&["audit", "verify", "--data-dir", d]);
    assert!(
        ok,
        "without an anchor a consistent cut is invisible — this is why anchors exist: {out}"
    );
    let (ok, out) = run(&["audit", "verify", "--data-dir", d, "--anchor", a]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("AnchorMismatch {{ seq: {head} }}")),
        "{out}"
    );

    // someone edits an event and recomputes the chain without the helpline's key
    add_user(&dir, "four@helpline.invalid");
    let s = raw(&dir).await;
    s.tamper_for_tests("UPDATE audit_events SET detail = 'role=admin' WHERE seq = 1")
        .await;
    s.close().await;
    let (ok, out) = run(&["audit", "verify", "--data-dir", d]);
    assert!(!ok);
    assert!(out.contains("Modified { seq: 1 }"), "{out}");
    // the search hash a supervisor uses to check what was searched
    let (ok, out) = run(&["audit", "search-hash", "--data-dir", d, "Camille Dupont"]);
    assert!(ok);
    assert_eq!(out.trim().len(), 32);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_postgres_node_refuses_to_start_without_a_master_secret() {
    let out = bin()
        .args(["serve"])
        .env(
            "REMPART_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/none",
        )
        .env("REMPART_LOG", "warn")
        .env_remove("REMPART_SECRETS_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no master secret"), "{err}");
}

#[tokio::test]
async fn a_sqlite_node_generates_its_secret_once_saying_so() {
    let dir = tmp("keygen");
    let env = node_env(
        &format!("sqlite://{}/rempart.db", dir.display()),
        &always_open(&dir),
    );
    let env: Vec<_> = env
        .into_iter()
        .filter(|(k, _)| *k != "REMPART_SECRETS_MASTER_KEY")
        .map(|(k, v)| {
            if k == "REMPART_LOG" {
                (k, "warn".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    let log = dir.join("stderr.log");
    let node = serve_with(&env, &[], std::fs::File::create(&log).unwrap()).await;
    let key = std::fs::read_to_string(dir.join("master.key")).unwrap();
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(dir.join("master.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    assert!(node.stop().success());
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("generated a new master secret"), "{said}");
    // and a second start keeps it
    let node = serve(&env, &[]).await;
    assert!(node.stop().success());
    assert_eq!(
        std::fs::read_to_string(dir.join("master.key")).unwrap(),
        key
    );
    let _ = std::fs::remove_dir_all(dir);
}
