//! A referral's package: the signed export of only the evidence its transmission shared —
//! verified like any export, the others' files and custody events absent — for the roles
//! that may export, refused before the transmission names any evidence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_app::evidence::export::{Manifest, verify};
use rempart_domain::policy::Role;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::*;

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("package.zip");
    std::fs::write(&path, bytes).unwrap();
    rempart_app::evidence::export::read_export(&path).unwrap()
}

#[tokio::test]
async fn a_referral_package_holds_the_shared_evidence_only_signed() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, Some("paris")).await;
    let lawyer = t.staff(Role::Lawyer, Some("paris")).await;
    let tok = t.token(&counsellor).await;
    let ltok = t.token(&lawyer).await;
    let case = t.new_case(&tok, "paquet").await;
    let mut ids = Vec::new();
    for seed in 0..2 {
        let png = rempart_media::testing::phone_png(200, 150, seed);
        let form = reqwest::multipart::Form::new()
            .text("kind", "screenshot")
            .part(
                "file",
                reqwest::multipart::Part::bytes(png).file_name("capture.png"),
            );
        let (status, v) = upload_evidence(&t, &tok, &case, form).await;
        assert_eq!(status, 201, "{v}");
        ids.push(v["evidence"]["id"].as_str().unwrap().to_owned());
    }
    let fp: Value = t
        .post_json(
            &format!("/api/v1/cases/{case}/evidence/fingerprints"),
            Some(&tok),
            json!({"sha256": "ab".repeat(32), "url": "https://example.org/p/9", "sexual_image_of_minor": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let fp = fp["evidence"]["id"].as_str().unwrap().to_owned();
    let r: Value = t
        .post_json(
            &format!("/api/v1/cases/{case}/referrals"),
            Some(&tok),
            json!({"service": "pharos"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let rid = r["id"].as_str().unwrap().to_owned();
    let package = format!("/api/v1/cases/{case}/referrals/{rid}/package");
    // nothing shared yet: refused, nothing exported
    let r = t.get(&package, Some(&ltok)).await;
    assert_eq!(r.status(), 422);
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/referrals/{rid}/basis"),
            Some(&tok),
            json!({"basis": "victim", "consent_by": "la jeune fille", "consent_scope": "Pharos"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/referrals/{rid}/transmission"),
            Some(&tok),
            json!({"evidence": [ids[1], fp], "recipient": "Pharos", "channel": "portal"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    // a counsellor may not export; a lawyer may
    assert_eq!(t.get(&package, Some(&tok)).await.status(), 404);
    let r = t.get(&package, Some(&ltok)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let entries = unzip(&r.bytes().await.unwrap());
    let key =
        rempart_app::evidence::export::parse_public_key(&t.app.evidence_public_key()).unwrap();
    let report = verify(&entries, &key);
    assert!(report.ok(), "{:?}", report.problems);
    let m: Manifest = serde_json::from_slice(&entries["manifest.json"]).unwrap();
    let numbers: Vec<i64> = m.evidence.iter().map(|e| e.number).collect();
    assert_eq!(numbers, vec![2, 3], "the shared pieces only");
    assert_eq!(m.files.len(), 1, "one file: fingerprints only have none");
    assert!(entries.keys().all(|k| !k.starts_with("files/0001")));
    let shared = [ids[1].clone(), fp.clone()];
    assert!(!m.custody.is_empty());
    assert!(
        m.custody
            .iter()
            .all(|c| c.evidence.as_ref().is_some_and(|e| shared.contains(e))),
        "custody of the shared pieces only"
    );
    assert!(m.custody.iter().any(|c| c.action == "evidence.transmitted"));
    assert!(m.custody.iter().any(|c| c.action == "evidence.exported"));
}
