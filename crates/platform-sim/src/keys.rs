//! Coop's RSA key pairs: the one that signs a platform's callbacks, and a stranger used
//! when the `wrong_signature` fault is on.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use crate::{CoopKey, SimError};

const BITS: usize = 2048;

/// A platform's signing key and the public half it publishes.
pub(crate) struct CoopKeys {
    signing: SigningKey<Sha256>,
    public_pem: String,
}

impl CoopKeys {
    fn from_private(key: RsaPrivateKey) -> Result<Self, SimError> {
        let public_pem = RsaPublicKey::from(&key)
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| SimError::Key(e.to_string()))?;
        Ok(CoopKeys {
            signing: SigningKey::new(key),
            public_pem,
        })
    }

    /// Generates or decodes the key (slow: call it off the async threads).
    pub(crate) fn load(source: &CoopKey) -> Result<Self, SimError> {
        let key = match source {
            CoopKey::Generate => generate()?,
            CoopKey::SharedPerProcess => shared(&SHARED)?,
            CoopKey::Pkcs8Pem(pem) => {
                RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| SimError::Key(e.to_string()))?
            }
        };
        CoopKeys::from_private(key)
    }

    /// The public key, SPKI PEM (`BEGIN PUBLIC KEY`).
    pub(crate) fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// Base64 of the RSASSA-PKCS1-v1_5 SHA-256 signature of `body`.
    pub(crate) fn sign(&self, body: &[u8]) -> Result<String, SimError> {
        sign_with(&self.signing, body)
    }
}

fn sign_with(key: &SigningKey<Sha256>, body: &[u8]) -> Result<String, SimError> {
    let sig = key
        .try_sign(body)
        .map_err(|e| SimError::Key(e.to_string()))?;
    Ok(STANDARD.encode(sig.to_bytes()))
}

fn generate() -> Result<RsaPrivateKey, SimError> {
    let mut rng = rand::rng();
    RsaPrivateKey::new(&mut rng, BITS).map_err(|e| SimError::Key(e.to_string()))
}

static SHARED: OnceLock<Result<RsaPrivateKey, String>> = OnceLock::new();
static STRANGER: OnceLock<Result<SigningKey<Sha256>, String>> = OnceLock::new();

fn shared(cell: &OnceLock<Result<RsaPrivateKey, String>>) -> Result<RsaPrivateKey, SimError> {
    cell.get_or_init(|| generate().map_err(|e| e.to_string()))
        .clone()
        .map_err(SimError::Key)
}

/// Signs `body` with a key no platform publishes (generated once per process; slow the
/// first time: call it off the async threads).
pub(crate) fn sign_as_stranger(body: &[u8]) -> Result<String, SimError> {
    let key = STRANGER
        .get_or_init(|| generate().map(SigningKey::new).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| SimError::Key(e.clone()))?;
    sign_with(key, body)
}
