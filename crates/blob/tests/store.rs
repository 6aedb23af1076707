//! The blob store against the local filesystem and against a real S3-compatible server
//! (s3s-fs, installed by `crates/blob/s3-server.sh install`; its path in
//! `REMPART_TEST_S3FS_BIN`, or `target/tools/bin/s3s-fs`). Without the server the S3 tests
//! say so and return — and fail instead when `REMPART_REQUIRE_S3=1`, as CI sets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use rempart_blob::crypto::{SecretKey, open, seal};
use rempart_blob::testing::{S3fs, s3fs_bin};
use rempart_blob::{BlobConfig, BlobError, BlobKey, BlobStore};
use std::time::{Duration, Instant};

fn key(case: &str, n: &str) -> BlobKey {
    BlobKey::new(&["cases", case, "evidence", n, "original"]).expect("valid key")
}

/// What every store must do: write once, read back, refuse a second write, delete.
async fn immutable_store(store: &BlobStore) {
    let k = key("c1", "1");
    let dek = SecretKey::generate().expect("random");
    let sealed = seal(&dek, k.as_str().as_bytes(), b"screenshot bytes").expect("seal");
    assert!(!store.exists(&k).await.expect("head"));
    store
        .put_new(&k, Bytes::from(sealed.clone()))
        .await
        .expect("first write");
    assert!(store.exists(&k).await.expect("head"));
    let back = store.get(&k).await.expect("read");
    assert_eq!(back.as_ref(), sealed.as_slice());
    assert_eq!(
        open(&dek, k.as_str().as_bytes(), &back).expect("opens"),
        b"screenshot bytes"
    );
    // never replaced
    let again = store.put_new(&k, Bytes::from_static(b"other")).await;
    assert!(matches!(again, Err(BlobError::AlreadyExists)), "{again:?}");
    assert_eq!(
        store.get(&k).await.expect("still there").as_ref(),
        sealed.as_slice()
    );
    // an unknown key
    let missing = store.get(&key("c1", "2")).await;
    assert!(matches!(missing, Err(BlobError::NotFound)), "{missing:?}");
    // delete, twice
    store.delete(&k).await.expect("delete");
    store.delete(&k).await.expect("delete again");
    assert!(!store.exists(&k).await.expect("head"));
}

#[tokio::test]
async fn the_filesystem_store_writes_once_and_keeps_only_sealed_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(
        &BlobConfig::Filesystem {
            root: dir.path().join("blobs"),
        },
        Duration::from_secs(5),
    )
    .expect("open");
    assert_eq!(store.kind(), "filesystem");
    immutable_store(&store).await;
    // what lies on disk is the sealed form only
    let k = key("c9", "1");
    let dek = SecretKey::generate().expect("random");
    let sealed = seal(&dek, k.as_str().as_bytes(), b"PLAINTEXT-MARKER").expect("seal");
    store.put_new(&k, Bytes::from(sealed)).await.expect("write");
    let on_disk =
        std::fs::read(dir.path().join("blobs/cases/c9/evidence/1/original")).expect("file");
    assert!(!on_disk.windows(16).any(|w| w == b"PLAINTEXT-MARKER"));
    // no temporary file left beside it
    let names: Vec<_> = std::fs::read_dir(dir.path().join("blobs/cases/c9/evidence/1"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("original")]);
}

#[test]
fn blob_keys_are_never_paths_from_outside() {
    assert!(BlobKey::new(&["cases", "..", "x"]).is_err());
    assert!(BlobKey::new(&["cases", "a/b"]).is_err());
    assert!(BlobKey::new(&["cases", ""]).is_err());
    assert!(BlobKey::new(&["cases", "Photo.JPG"]).is_err());
    assert!(BlobKey::new(&["cases", "x\0y"]).is_err());
    assert!(BlobKey::new(&[]).is_err());
    assert_eq!(
        BlobKey::new(&["cases", "0193-ab", "evidence", "1", "clean"])
            .expect("valid")
            .as_str(),
        "cases/0193-ab/evidence/1/clean"
    );
}

#[tokio::test]
async fn the_s3_store_writes_once_against_a_real_server() {
    let Some(bin) = s3fs_bin() else { return };
    let root = tempfile::tempdir().expect("temp dir");
    let server = S3fs::start(&bin, root.path());
    let store = BlobStore::open(&server.config(), Duration::from_secs(10)).expect("open");
    assert_eq!(store.kind(), "s3");
    immutable_store(&store).await;
    // a wrong secret key is refused by the server, not silently accepted
    let endpoint = server.endpoint();
    let wrong = BlobStore::open(
        &BlobConfig::S3 {
            endpoint,
            bucket: "evidence".into(),
            region: "us-east-1".into(),
            access_key_id: "rempart-test".into(),
            secret_access_key: "not-the-secret".into(),
            allow_http: true,
        },
        Duration::from_secs(10),
    )
    .expect("open");
    let refused = wrong
        .put_new(&key("c2", "1"), Bytes::from_static(b"x"))
        .await;
    assert!(
        matches!(refused, Err(BlobError::Unavailable(_))),
        "{refused:?}"
    );
    assert!(!store.exists(&key("c2", "1")).await.expect("head"));
}

#[tokio::test]
async fn a_stopped_s3_server_is_an_error_soon_and_the_store_works_again_after_restart() {
    let Some(bin) = s3fs_bin() else { return };
    let root = tempfile::tempdir().expect("temp dir");
    let mut server = S3fs::start(&bin, root.path());
    let store = BlobStore::open(&server.config(), Duration::from_secs(3)).expect("open");
    store
        .put_new(&key("c3", "1"), Bytes::from_static(b"before"))
        .await
        .expect("write");
    // killed: refused connections give an error within the bound, not a hang
    server.kill();
    let t = Instant::now();
    let down = store.get(&key("c3", "1")).await;
    assert!(
        matches!(
            down,
            Err(BlobError::Unavailable(_)) | Err(BlobError::TimedOut(_))
        ),
        "{down:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    // the same folder served again: what was written is still there
    server.restart();
    assert_eq!(
        store
            .get(&key("c3", "1"))
            .await
            .expect("read after restart")
            .as_ref(),
        b"before"
    );
}

#[tokio::test]
async fn a_store_that_never_answers_times_out() {
    // a listener that accepts and never answers
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let store = BlobStore::open(
        &BlobConfig::S3 {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "evidence".into(),
            region: "us-east-1".into(),
            access_key_id: "rempart-test".into(),
            secret_access_key: "rempart-test-secret".into(),
            allow_http: true,
        },
        Duration::from_millis(500),
    )
    .expect("open");
    let t = Instant::now();
    let r = store
        .put_new(&key("c4", "1"), Bytes::from_static(b"x"))
        .await;
    assert!(matches!(r, Err(BlobError::TimedOut(_))), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}
