//! A real S3-compatible server for tests (feature `testing`): s3s-fs, installed by
//! `crates/blob/s3-server.sh install` into `target/tools` (or named by
//! `REMPART_TEST_S3FS_BIN`). Without it a test says so loudly and returns — and fails instead
//! when `REMPART_REQUIRE_S3=1`, as CI sets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::BlobConfig;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The test server's access key.
pub const ACCESS_KEY: &str = "rempart-test";
/// Its secret key.
pub const SECRET_KEY: &str = "rempart-test-secret";
/// The bucket made in its folder.
pub const BUCKET: &str = "evidence";

/// The s3s-fs binary, or None (said on stderr) when absent; panics when CI requires it.
pub fn s3fs_bin() -> Option<PathBuf> {
    let bin = std::env::var_os("REMPART_TEST_S3FS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/bin/s3s-fs")
        });
    if bin.is_file() {
        return Some(bin);
    }
    let msg = format!(
        "S3 TESTS NOT RUN: no s3s-fs at {} (run crates/blob/s3-server.sh install)",
        bin.display()
    );
    if std::env::var("REMPART_REQUIRE_S3").as_deref() == Ok("1") {
        panic!("{msg} (REMPART_REQUIRE_S3=1)");
    }
    eprintln!("{msg}");
    None
}

/// A running s3s-fs serving `root` (its bucket is the folder `root/evidence`).
pub struct S3fs {
    child: Option<Child>,
    bin: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The folder it serves.
    pub root: PathBuf,
}

impl S3fs {
    /// Starts it on a free port and waits until it listens.
    pub fn start(bin: &Path, root: &Path) -> S3fs {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let mut s = S3fs {
            child: None,
            bin: bin.to_owned(),
            port,
            root: root.to_owned(),
        };
        s.restart();
        s
    }

    /// Starts it again on the same port and folder (after [`S3fs::kill`]).
    pub fn restart(&mut self) {
        let child = Command::new(&self.bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it (SIGKILL) and waits for its end.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Its endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The store's settings for it.
    pub fn config(&self) -> BlobConfig {
        BlobConfig::S3 {
            endpoint: self.endpoint(),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            allow_http: true,
        }
    }
}

impl Drop for S3fs {
    fn drop(&mut self) {
        self.kill();
    }
}
