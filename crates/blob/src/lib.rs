//! Evidence blobs behind one seam.
//!
//! - [`crypto`]: a data key per case, wrapped by the helpline's key-encryption key; every blob
//!   is sealed (XChaCha20-Poly1305) before it leaves the process.
//! - [`BlobStore`]: an immutable object store — a blob is written once under a new key and
//!   never replaced (`PutMode::Create`: the store refuses a second write of the same key) —
//!   on the local filesystem (one node) or any S3-compatible server (several nodes), through
//!   the `object_store` library. Every operation is bounded in time; a store that does not
//!   answer is an error the caller turns into "try again", never a hang.

pub mod crypto;
mod http;
#[cfg(feature = "testing")]
pub mod testing;

use bytes::Bytes;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where blobs are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum BlobConfig {
    /// A folder of the local filesystem (created if missing).
    Filesystem {
        /// The folder.
        root: PathBuf,
    },
    /// A bucket of an S3-compatible server.
    S3 {
        /// The server's address, e.g. `https://s3.example.org` (path-style requests).
        endpoint: String,
        /// The bucket (must exist).
        bucket: String,
        /// The region the signature names.
        region: String,
        /// The access key.
        access_key_id: String,
        /// The secret key.
        secret_access_key: String,
        /// Whether a plain `http://` endpoint is allowed (a server on the same host).
        allow_http: bool,
    },
}

impl std::fmt::Debug for BlobConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobConfig::Filesystem { root } => {
                f.debug_struct("Filesystem").field("root", root).finish()
            }
            BlobConfig::S3 {
                endpoint, bucket, ..
            } => f
                .debug_struct("S3")
                .field("endpoint", endpoint)
                .field("bucket", bucket)
                .finish_non_exhaustive(),
        }
    }
}

/// A blob's place in the store: lower-case letters, digits, `-`, `_`, `.` and `/` between
/// non-empty segments, never `.` or `..` — built by the application, never from a file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// A key from its segments, each checked.
    pub fn new(segments: &[&str]) -> Result<BlobKey, BlobError> {
        if segments.is_empty() {
            return Err(BlobError::BadKey);
        }
        for s in segments {
            let ok = !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.len() <= 100
                && s.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
                });
            if !ok {
                return Err(BlobError::BadKey);
            }
        }
        Ok(BlobKey(segments.join("/")))
    }

    /// The key as text (also the associated data its sealed bytes are bound to).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn path(&self) -> StorePath {
        StorePath::from(self.0.as_str())
    }
}

/// What a store operation could not do.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// A key that is not a valid blob key (a defect of the caller).
    #[error("invalid blob key")]
    BadKey,
    /// A blob already exists under this key: blobs are never replaced.
    #[error("a blob already exists under this key")]
    AlreadyExists,
    /// No blob under this key.
    #[error("no blob under this key")]
    NotFound,
    /// The store did not answer in time.
    #[error("the blob store did not answer within {0:?}")]
    TimedOut(Duration),
    /// The store failed (unreachable, refused, full disk…).
    #[error("blob store: {0}")]
    Unavailable(String),
    /// The settings do not describe a usable store.
    #[error("blob store settings: {0}")]
    Config(String),
}

fn store_error(e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            BlobError::AlreadyExists
        }
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        // the error's text names the store, the path and the cause: no blob content
        other => BlobError::Unavailable(other.to_string()),
    }
}

/// The blob store of the node.
#[derive(Debug, Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    timeout: Duration,
    kind: &'static str,
}

impl BlobStore {
    /// Opens the store the settings describe; `timeout` bounds every operation.
    pub fn open(config: &BlobConfig, timeout: Duration) -> Result<BlobStore, BlobError> {
        let (inner, kind): (Arc<dyn ObjectStore>, &'static str) = match config {
            BlobConfig::Filesystem { root } => {
                std::fs::create_dir_all(root).map_err(|e| {
                    BlobError::Config(format!("cannot create {}: {e}", root.display()))
                })?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(root)
                    .map_err(|e| BlobError::Config(e.to_string()))?
                    // a folder left empty by a deleted blob goes too
                    .with_automatic_cleanup(true);
                (Arc::new(fs), "filesystem")
            }
            BlobConfig::S3 {
                endpoint,
                bucket,
                region,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                let s3 = object_store::aws::AmazonS3Builder::new()
                    .with_endpoint(endpoint)
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key)
                    .with_allow_http(*allow_http)
                    .with_virtual_hosted_style_request(false)
                    .with_http_connector(http::HyperConnector)
                    .with_retry(RetryConfig {
                        max_retries: 2,
                        retry_timeout: timeout,
                        ..RetryConfig::default()
                    })
                    .build()
                    .map_err(|e| BlobError::Config(e.to_string()))?;
                (Arc::new(s3), "s3")
            }
        };
        Ok(BlobStore {
            inner,
            timeout,
            kind,
        })
    }

    /// `filesystem` or `s3`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = Result<T, object_store::Error>>,
    ) -> Result<T, BlobError> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(r) => r.map_err(store_error),
            Err(_) => Err(BlobError::TimedOut(self.timeout)),
        }
    }

    /// Writes a new blob; refuses (`AlreadyExists`) if the key is taken.
    pub async fn put_new(&self, key: &BlobKey, bytes: Bytes) -> Result<(), BlobError> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        self.bounded(
            self.inner
                .put_opts(&key.path(), PutPayload::from_bytes(bytes), opts),
        )
        .await
        .map(|_| ())
    }

    /// Reads a whole blob.
    pub async fn get(&self, key: &BlobKey) -> Result<Bytes, BlobError> {
        let path = key.path();
        self.bounded(async {
            let got = self.inner.get(&path).await?;
            got.bytes().await
        })
        .await
    }

    /// Deletes a blob; a blob already gone is not an error.
    pub async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match self.bounded(self.inner.delete(&key.path())).await {
            Err(BlobError::NotFound) => Ok(()),
            other => other,
        }
    }

    /// Whether a blob exists.
    pub async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        match self.bounded(self.inner.head(&key.path())).await {
            Ok(_) => Ok(true),
            Err(BlobError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
