//! Evidence over HTTP on a real S3-compatible server (s3s-fs, as the blob store's tests;
//! `REMPART_TEST_S3FS_BIN`, required in CI by `REMPART_REQUIRE_S3=1`): uploads land sealed in
//! the bucket's folder and come back; when the store is down an upload answers 503 within the
//! store's timeout and nothing is recorded, and once it is back the same upload goes through.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_blob::testing::{ACCESS_KEY, BUCKET, S3fs, SECRET_KEY, s3fs_bin};
use rempart_domain::policy::Role;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::*;

async fn upload(t: &TestApp, token: &str, case: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = Form::new()
        .text("kind", "screenshot")
        .part("file", Part::bytes(bytes).file_name("s.png"));
    upload_evidence(t, token, case, form).await
}

#[tokio::test]
async fn evidence_on_s3_and_what_happens_when_the_store_is_down() {
    let Some(bin) = s3fs_bin() else { return };
    let root = tempfile::tempdir().unwrap();
    let mut server = S3fs::start(&bin, root.path());
    let endpoint = server.endpoint();
    let t = TestApp::spawn_with(|s| {
        s.evidence.store = rempart_app::settings::EvidenceStore::S3;
        s.evidence.s3_endpoint = endpoint;
        s.evidence.s3_bucket = BUCKET.into();
        s.evidence.s3_access_key_id = ACCESS_KEY.into();
        s.evidence.s3_secret_access_key = rempart_app::secret::Secret::new(SECRET_KEY);
        s.evidence.s3_allow_http = true;
        s.evidence.timeout_seconds = 2;
    })
    .await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let supervisor = t.staff(Role::Supervisor, None).await;
    let c = t.token(&counsellor).await;
    let s = t.token(&supervisor).await;
    let case = t.new_case(&c, "s3").await;
    let png = rempart_media::testing::phone_png(400, 300, 9);

    let (status, v) = upload(&t, &c, &case, png.clone()).await;
    assert_eq!(status, 201, "{v}");
    let id = v["evidence"]["id"].as_str().unwrap().to_owned();
    // four sealed objects in the bucket's folder, nothing in the filesystem store's
    let bucket = root.path().join(BUCKET);
    assert_eq!(files_under(&bucket).len(), 4);
    assert_eq!(files_under(&t.evidence_dir).len(), 0);
    let r = t
        .get(
            &format!("/api/v1/cases/{case}/evidence/{id}/original"),
            Some(&s),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), png.as_slice());

    // the store goes down: 503 within the timeout, nothing recorded
    server.kill();
    let started = Instant::now();
    let (status, v) = upload(
        &t,
        &c,
        &case,
        rempart_media::testing::phone_png(400, 300, 10),
    )
    .await;
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["error"], "unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let r = t
        .get(
            &format!("/api/v1/cases/{case}/evidence/{id}/display"),
            Some(&c),
        )
        .await;
    assert_eq!(r.status(), 503);
    let list: Value = t
        .get(&format!("/api/v1/cases/{case}/evidence"), Some(&c))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing half-written");

    // back: the same upload goes through, numbered after the first
    server.restart();
    let (status, v) = upload(
        &t,
        &c,
        &case,
        rempart_media::testing::phone_png(400, 300, 10),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["evidence"]["number"], 2);
    assert_eq!(files_under(&bucket).len(), 8);
}
