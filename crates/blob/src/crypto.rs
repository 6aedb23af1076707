//! Envelope encryption of evidence: every case has its own random data key; the data key is
//! kept only wrapped (sealed) by the helpline's key-encryption key, which is derived from the
//! master secret and never stored. Deleting a case's wrapped key makes every blob of the case
//! unreadable wherever copies of it lie.
//!
//! Sealed bytes: a version byte, a random 24-byte nonce, then the XChaCha20-Poly1305
//! ciphertext and its tag. The associated data binds a sealed blob to its place (its key in
//! the store) and a wrapped key to its case, so that swapping two blobs, or two cases' keys,
//! fails to open instead of showing the wrong file.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop};

const VERSION: u8 = 1;
const NONCE: usize = 24;
const TAG: usize = 16;

/// What sealing or opening could not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The operating system's random source failed.
    #[error("no randomness from the operating system")]
    Random,
    /// The bytes are not a sealed blob of this version, or were altered, or belong elsewhere.
    #[error("sealed bytes altered, truncated or opened with the wrong key")]
    Corrupt,
}

/// A 256-bit key: the key-encryption key or a case's data key. Wiped from memory on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// A key from its bytes (the key-encryption key, derived from the master secret).
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A new random data key.
    pub fn generate() -> Result<SecretKey, CryptoError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|_| CryptoError::Random)?;
        Ok(SecretKey(k))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Seals `plain` under `key`, bound to `aad`.
pub fn seal(key: &SecretKey, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE];
    getrandom::fill(&mut nonce).map_err(|_| CryptoError::Random)?;
    let sealed = key
        .cipher()
        .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad })
        // encrypting fails only beyond the cipher's length limit (256 GiB)
        .map_err(|_| CryptoError::Corrupt)?;
    let mut out = Vec::with_capacity(1 + NONCE + sealed.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens what [`seal`] made with the same key and associated data.
pub fn open(key: &SecretKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 1 + NONCE + TAG || sealed[0] != VERSION {
        return Err(CryptoError::Corrupt);
    }
    let mut nonce = [0u8; NONCE];
    nonce.copy_from_slice(&sealed[1..1 + NONCE]);
    key.cipher()
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &sealed[1 + NONCE..],
                aad,
            },
        )
        .map_err(|_| CryptoError::Corrupt)
}

/// The associated data of a case's wrapped key.
fn key_aad(case: &str) -> Vec<u8> {
    format!("rempart case data key v1:{case}").into_bytes()
}

/// Wraps a case's data key for storage.
pub fn wrap_key(kek: &SecretKey, case: &str, key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
    seal(kek, &key_aad(case), &key.0)
}

/// Unwraps a case's data key.
pub fn unwrap_key(kek: &SecretKey, case: &str, wrapped: &[u8]) -> Result<SecretKey, CryptoError> {
    let mut plain = open(kek, &key_aad(case), wrapped)?;
    let out = <[u8; 32]>::try_from(plain.as_slice())
        .map(SecretKey)
        .map_err(|_| CryptoError::Corrupt);
    plain.zeroize();
    out
}

/// How many bytes sealing adds.
pub const OVERHEAD: usize = 1 + NONCE + TAG;

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::generate().unwrap_or_else(|_| SecretKey::from_bytes([7; 32]))
    }

    #[test]
    fn sealed_bytes_open_only_with_their_key_and_place() -> Result<(), CryptoError> {
        let k = key();
        let sealed = seal(&k, b"cases/a/evidence/1/original", b"the photo")?;
        assert_eq!(sealed.len(), b"the photo".len() + OVERHEAD);
        assert!(!sealed.windows(5).any(|w| w == b"photo"));
        assert_eq!(
            open(&k, b"cases/a/evidence/1/original", &sealed)?,
            b"the photo"
        );
        // another place, another key, a flipped bit, a cut: all refused
        assert_eq!(
            open(&k, b"cases/a/evidence/2/original", &sealed),
            Err(CryptoError::Corrupt)
        );
        assert_eq!(
            open(&key(), b"cases/a/evidence/1/original", &sealed),
            Err(CryptoError::Corrupt)
        );
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            open(&k, b"cases/a/evidence/1/original", &flipped),
            Err(CryptoError::Corrupt)
        );
        assert_eq!(
            open(&k, b"cases/a/evidence/1/original", &sealed[..OVERHEAD - 1]),
            Err(CryptoError::Corrupt)
        );
        // two seals of the same bytes differ (random nonces)
        assert_ne!(seal(&k, b"x", b"same")?, seal(&k, b"x", b"same")?);
        Ok(())
    }

    #[test]
    fn a_wrapped_key_belongs_to_its_case() -> Result<(), CryptoError> {
        let kek = key();
        let dek = key();
        let wrapped = wrap_key(&kek, "case-1", &dek)?;
        let back = unwrap_key(&kek, "case-1", &wrapped)?;
        assert_eq!(back.0, dek.0);
        assert!(unwrap_key(&kek, "case-2", &wrapped).is_err());
        assert!(unwrap_key(&key(), "case-1", &wrapped).is_err());
        Ok(())
    }
}
