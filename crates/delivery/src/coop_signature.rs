//! `Coop-Signature` on Coop's action and appeal callbacks: the base64 of an
//! RSASSA-PKCS1-v1_5 signature with SHA-256 over the raw request body, checked with the
//! platform's public key (SPKI PEM, `BEGIN PUBLIC KEY`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use sha2::Sha256;

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a callback signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    /// No `Coop-Signature` value.
    #[error("the signature is missing")]
    Missing,
    /// The signature is not base64.
    #[error("the signature is not base64")]
    BadBase64,
    /// The key is not an RSA public key in SPKI PEM of at least [`MIN_RSA_BITS`] bits.
    #[error("the public key is not usable")]
    BadKey,
    /// The signature does not match the body under this key.
    #[error("the signature does not match")]
    Mismatch,
}

impl SignatureProblem {
    /// A stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            SignatureProblem::Missing => "signature_missing",
            SignatureProblem::BadBase64 => "signature_bad_base64",
            SignatureProblem::BadKey => "signature_bad_key",
            SignatureProblem::Mismatch => "signature_mismatch",
        }
    }
}

/// A platform's Coop public key, parsed once.
#[derive(Clone, Debug)]
pub struct CoopKey {
    key: VerifyingKey<Sha256>,
    size: usize,
}

impl CoopKey {
    /// Parses an SPKI PEM RSA public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(public_key_pem: &str) -> Result<CoopKey, SignatureProblem> {
        let key = rsa::RsaPublicKey::from_public_key_pem(public_key_pem.trim())
            .map_err(|_| SignatureProblem::BadKey)?;
        let size = key.size();
        if size * 8 < MIN_RSA_BITS {
            return Err(SignatureProblem::BadKey);
        }
        Ok(CoopKey {
            key: VerifyingKey::new(key),
            size,
        })
    }

    /// Checks `signature_b64` (the `Coop-Signature` header) against the raw body, before
    /// the body is parsed.
    pub fn verify(&self, raw_body: &[u8], signature_b64: &str) -> Result<(), SignatureProblem> {
        let b64 = signature_b64.trim();
        if b64.is_empty() {
            return Err(SignatureProblem::Missing);
        }
        // a base64 signature is 4/3 of the modulus size; refuse anything much longer
        // before decoding it
        if b64.len() > self.size * 2 + 8 {
            return Err(SignatureProblem::BadBase64);
        }
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| SignatureProblem::BadBase64)?;
        if bytes.len() != self.size {
            return Err(SignatureProblem::Mismatch);
        }
        let signature =
            Signature::try_from(bytes.as_slice()).map_err(|_| SignatureProblem::Mismatch)?;
        self.key
            .verify(raw_body, &signature)
            .map_err(|_| SignatureProblem::Mismatch)
    }
}

/// Checks a Coop callback: `signature_b64` (the `Coop-Signature` header) must be a valid
/// RSASSA-PKCS1-v1_5 SHA-256 signature of `raw_body` under `public_key_pem` (SPKI PEM).
/// When a key serves many callbacks, parse it once with [`CoopKey::from_pem`].
pub fn verify_coop_signature(
    public_key_pem: &str,
    raw_body: &[u8],
    signature_b64: &str,
) -> Result<(), SignatureProblem> {
    CoopKey::from_pem(public_key_pem)?.verify(raw_body, signature_b64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // A key pair made with OpenSSL, and OpenSSL's signature of the body
    // (`openssl dgst -sha256 -sign`): an implementation independent of this one.
    const PUBLIC: &str = include_str!("../testdata/coop-test-key.pub.pem");
    const BODY: &[u8] = include_bytes!("../testdata/callback-body.json");
    const SIGNATURE: &str = include_str!("../testdata/callback-body.sig.b64");
    const SHORT_KEY: &str = include_str!("../testdata/short-1024.pub.pem");

    #[test]
    fn verifies_an_openssl_signature() {
        assert_eq!(verify_coop_signature(PUBLIC, BODY, SIGNATURE), Ok(()));
    }

    #[test]
    fn refuses_what_does_not_match() {
        let key = CoopKey::from_pem(PUBLIC).unwrap();
        let mut tampered = BODY.to_vec();
        tampered[3] ^= 1;
        assert_eq!(
            key.verify(&tampered, SIGNATURE),
            Err(SignatureProblem::Mismatch)
        );
        let mut sig = STANDARD.decode(SIGNATURE.trim()).unwrap();
        sig[10] ^= 1;
        assert_eq!(
            key.verify(BODY, &STANDARD.encode(&sig)),
            Err(SignatureProblem::Mismatch)
        );
        assert_eq!(
            key.verify(BODY, &STANDARD.encode(&sig[1..])),
            Err(SignatureProblem::Mismatch)
        );
        assert_eq!(key.verify(BODY, ""), Err(SignatureProblem::Missing));
        assert_eq!(key.verify(BODY, "  "), Err(SignatureProblem::Missing));
        assert_eq!(
            key.verify(BODY, "not base64!"),
            Err(SignatureProblem::BadBase64)
        );
        assert_eq!(
            key.verify(BODY, &"A".repeat(10_000)),
            Err(SignatureProblem::BadBase64)
        );
    }

    #[test]
    fn refuses_bad_keys() {
        for pem in [
            "",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            SHORT_KEY,
            "not a key",
        ] {
            assert_eq!(
                verify_coop_signature(pem, BODY, SIGNATURE),
                Err(SignatureProblem::BadKey)
            );
        }
    }

    /// A measure, not a check: prints the time of one verification with a parsed key
    /// (`cargo test --release -p rempart-delivery verification_time -- --nocapture`).
    #[test]
    fn verification_time() {
        let key = CoopKey::from_pem(PUBLIC).unwrap();
        let rounds = 50u32;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            assert_eq!(key.verify(BODY, SIGNATURE), Ok(()));
        }
        let each = start.elapsed() / rounds;
        let parse = std::time::Instant::now();
        let _ = CoopKey::from_pem(PUBLIC).unwrap();
        eprintln!(
            "RSA-2048 PKCS#1 v1.5 SHA-256 verification: {each:?} each; key parsing {:?}",
            parse.elapsed()
        );
    }
}
