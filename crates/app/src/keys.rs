//! The helpline's master secret and the keys derived from it, one per purpose (HKDF-SHA-256),
//! so that no purpose's key reveals another's: the pseudonymous person key, the proof of
//! work, the audit chain, the hash of searched words, the follow-up codes, the evidence
//! key-encryption key and the evidence exports' signing key.
//!
//! The secret comes from the settings, or from a file (with SQLite, `master.key` beside
//! the database by default). On SQLite — one node — a missing file is created at first
//! start with a new random secret (mode 0600), and the log says so. PostgreSQL nodes
//! refuse to start without one: every node must share the same.

use crate::secret::Secret;
use crate::settings::Settings;
use hkdf::Hkdf;
use rempart_domain::audit::ChainKey;
use sha2::Sha256;
use std::path::PathBuf;

/// One derived key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl Key {
    /// The bytes, for the one HMAC that uses them.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

/// Every key of the node.
#[derive(Clone, Debug)]
pub struct Keys {
    /// HMAC key of pseudonymous person keys.
    pub person: Key,
    /// HMAC key of proof-of-work challenges.
    pub pow: Key,
    /// HMAC key of the audit chain.
    pub audit: Key,
    /// HMAC key of the words of audited searches.
    pub search: Key,
    /// HMAC key of the young people's follow-up codes.
    pub follow_up: Key,
    /// HMAC key of the login lock-out's e-mail addresses.
    pub throttle: Key,
    /// The key-encryption key that wraps each case's evidence data key.
    pub evidence_kek: Key,
    /// The seed of the Ed25519 key that signs evidence exports' manifests.
    pub evidence_signing: Key,
}

impl Keys {
    /// Derives every key from the master secret.
    pub fn derive(master: &[u8]) -> Keys {
        let hk = Hkdf::<Sha256>::new(Some(b"rempart master key v1"), master);
        let key = |purpose: &str| {
            let mut k = [0u8; 32];
            // 32 bytes is far below HKDF-SHA-256's limit: this cannot fail
            let _ = hk.expand(purpose.as_bytes(), &mut k);
            Key(k)
        };
        Keys {
            person: key("person-key"),
            pow: key("proof-of-work"),
            audit: key("audit-chain"),
            search: key("search-words"),
            follow_up: key("follow-up-code"),
            throttle: key("login-throttle"),
            evidence_kek: key("evidence-key-encryption"),
            evidence_signing: key("evidence-manifest-signing"),
        }
    }

    /// The audit chain's key, as the storage takes it.
    pub fn chain_key(&self) -> ChainKey {
        ChainKey::new(*self.audit.bytes())
    }

    /// The keyed hash kept of a follow-up code (given in its normal form: 16 capitals and
    /// digits, no separators).
    pub fn follow_up_hash(&self, normal_code: &str) -> String {
        crate::keyed_hex(&self.follow_up, &[normal_code.as_bytes()])
    }
}

/// Where the master secret came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `secrets.master_key`.
    Settings,
    /// An existing file.
    File(PathBuf),
    /// A file created now with a new secret.
    Generated(PathBuf),
}

/// The master secret could not be found or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// PostgreSQL (several nodes) without a secret.
    #[error(
        "no master secret: set secrets.master_key (REMPART_SECRETS_MASTER_KEY) or secrets.master_key_file, the same on every node (generate one with `openssl rand -hex 32`)"
    )]
    Missing,
    /// The file could not be read or written.
    #[error("master secret file {0}: {1}")]
    Io(String, std::io::Error),
    /// The file holds too short a secret.
    #[error("master secret file {0}: the secret must be at least 32 characters")]
    TooShort(String),
}

/// The file the master secret is kept in (None: PostgreSQL without a configured file).
pub fn key_file(s: &Settings) -> Option<PathBuf> {
    if let Some(f) = &s.secrets.master_key_file {
        return Some(f.clone());
    }
    let db = s.database.sqlite_path()?;
    Some(
        db.parent()
            .map(|d| d.join("master.key"))
            .unwrap_or_else(|| PathBuf::from("master.key")),
    )
}

/// Finds the master secret (see the module's documentation); `generate` allows creating
/// it when missing (SQLite only).
pub fn master_secret(s: &Settings) -> Result<(Secret, Source), KeyError> {
    if !s.secrets.master_key.expose().is_empty() {
        return Ok((s.secrets.master_key.clone(), Source::Settings));
    }
    let Some(file) = key_file(s) else {
        return Err(KeyError::Missing);
    };
    let shown = file.display().to_string();
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            let k = text.trim();
            if k.len() < 32 {
                return Err(KeyError::TooShort(shown));
            }
            Ok((Secret::new(k), Source::File(file)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !s.database.is_sqlite() {
                return Err(KeyError::Missing);
            }
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw)
                .map_err(|_| KeyError::Io(shown.clone(), std::io::Error::other("no randomness")))?;
            let k = hex::encode(raw);
            write_private(&file, &k).map_err(|e| KeyError::Io(shown.clone(), e))?;
            Ok((Secret::new(k), Source::Generated(file)))
        }
        Err(e) => Err(KeyError::Io(shown, e)),
    }
}

/// Writes a new file readable by its owner only (never replacing one).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_get_different_keys_and_the_same_secret_the_same_keys() {
        let a = Keys::derive(b"0123456789abcdef0123456789abcdef");
        let b = Keys::derive(b"0123456789abcdef0123456789abcdef");
        let c = Keys::derive(b"another secret, of the same size.");
        assert_eq!(a.person, b.person);
        assert_ne!(a.person, c.person);
        let all = [
            &a.person,
            &a.pow,
            &a.audit,
            &a.search,
            &a.follow_up,
            &a.throttle,
        ];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
        assert_eq!(format!("{:?}", a.person), "Key(***)");
    }

    #[test]
    fn a_sqlite_node_generates_its_secret_once_and_postgres_refuses_without() {
        let dir = std::env::temp_dir().join(format!("rempart-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut s = Settings::default();
        s.database.url = Secret::new(format!("sqlite://{}/rempart.db?mode=rwc", dir.display()));
        let (k1, src) = master_secret(&s).unwrap();
        assert_eq!(src, Source::Generated(dir.join("master.key")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
        }
        let (k2, src) = master_secret(&s).unwrap();
        assert_eq!(src, Source::File(dir.join("master.key")));
        assert_eq!(k1.expose(), k2.expose(), "kept across restarts");
        let mut pg = Settings::default();
        pg.database.url = Secret::new("postgres://db/rempart");
        assert!(matches!(master_secret(&pg), Err(KeyError::Missing)));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
