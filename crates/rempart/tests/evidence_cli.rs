//! `rempart evidence verify` on a real export: a node's data folder, evidence added and
//! exported through the application, then the binary run on the zip, on a tampered copy
//! and on an unpacked folder with a file added.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rempart_app::App;
use rempart_app::cases::CaseInput;
use rempart_app::evidence::{Content, EvidenceInput};
use rempart_app::staff::NewStaffInput;
use rempart_domain::case::EvidenceKind;
use rempart_domain::policy::{Actor, Role};
use rempart_domain::values::AgeBand;
use std::sync::Arc;
use support::*;

#[tokio::test]
async fn an_export_verifies_and_any_change_is_reported() {
    let dir = tmp("evidence-cli");
    let mut s = rempart_app::settings::Settings::default();
    s.database.url =
        rempart_app::secret::Secret::new(format!("sqlite://{}/rempart.db", dir.display()));
    s.security.argon2_memory_kib = 64;
    s.security.argon2_iterations = 1;
    let app = App::start(s, Arc::new(rempart_app::clock::SystemClock))
        .await
        .unwrap();
    let sup = app
        .create_staff_by_operator(NewStaffInput {
            email: "sup@helpline.invalid".into(),
            display_name: "Superviseuse".into(),
            role: Role::Supervisor,
            team: None,
            password: "a long enough passphrase".into(),
            lang: "fr".into(),
        })
        .await
        .unwrap();
    let actor = Actor {
        id: sup.id,
        role: Role::Supervisor,
        team: None,
    };
    let case = app
        .create_case(
            &actor,
            CaseInput {
                title: "export".into(),
                categories: vec!["cyber_harassment".into()],
                age_band: AgeBand::From11To14,
                preferred_channel: None,
                consents: vec![],
                articles: vec![],
                team: None,
            },
            None,
        )
        .await
        .unwrap();
    for seed in 0..2 {
        let png = rempart_media::testing::phone_png(300, 200, seed);
        app.add_evidence(
            &actor,
            case.id,
            EvidenceInput {
                kind: Some(EvidenceKind::Screenshot),
                ..Default::default()
            },
            Content::File {
                bytes: png,
                name: Some("capture.png".into()),
            },
        )
        .await
        .unwrap();
    }
    let export = app.export_evidence(&actor, case.id).await.unwrap();
    let zip = dir.join("export.zip");
    std::fs::write(&zip, &export.zip).unwrap();
    let key = app.evidence_public_key();
    app.shutdown().await;
    let d = dir.to_str().unwrap();

    let (ok, out) = run_cli(&["evidence", "public-key", "--data-dir", d]);
    assert!(ok, "{out}");
    assert_eq!(out.trim(), key);
    let (ok, out) = run_cli(&["evidence", "verify", "--data-dir", d, zip.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("signature: valid"), "{out}");
    assert!(out.contains("files intact: 2"), "{out}");
    assert!(out.contains("export intact"), "{out}");
    // the public key alone is enough, without the node's secret
    let (ok, out) = run_cli(&[
        "evidence",
        "verify",
        "--public-key",
        &key,
        zip.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");

    // unpacked into a folder: one file altered, one removed, one added
    let folder = dir.join("unpacked");
    for (name, bytes) in rempart_app::evidence::export::read_export(&zip).unwrap() {
        let p = folder.join(&name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let (ok, out) = run_cli(&[
        "evidence",
        "verify",
        "--public-key",
        &key,
        folder.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let first = folder.join("files/0001-original.png");
    let mut b = std::fs::read(&first).unwrap();
    b[30] ^= 0x40;
    std::fs::write(&first, b).unwrap();
    std::fs::remove_file(folder.join("files/0002-original.png")).unwrap();
    std::fs::write(folder.join("files/0003-original.png"), b"planted").unwrap();
    let (ok, out) = run_cli(&[
        "evidence",
        "verify",
        "--public-key",
        &key,
        folder.to_str().unwrap(),
    ]);
    assert!(!ok, "{out}");
    assert!(out.contains("altered: files/0001-original.png"), "{out}");
    assert!(out.contains("missing: files/0002-original.png"), "{out}");
    assert!(out.contains("added: files/0003-original.png"), "{out}");
    assert!(out.contains("export NOT intact"), "{out}");
    // another key: the signature does not verify
    let other = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let (ok, out) = run_cli(&[
        "evidence",
        "verify",
        "--public-key",
        other,
        zip.to_str().unwrap(),
    ]);
    assert!(!ok, "{out}");
    assert!(out.contains("signature: INVALID"), "{out}");
    // no secret and no key: refused, and no secret made
    let empty = tmp("evidence-cli-empty");
    let (ok, out) = run_cli(&[
        "evidence",
        "verify",
        "--data-dir",
        empty.to_str().unwrap(),
        zip.to_str().unwrap(),
    ]);
    assert!(!ok, "{out}");
    assert!(!empty.join("master.key").exists());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
}
