//! Standard Webhooks 1.0 signatures: `webhook-signature` carries space-separated
//! `v1,<base64>` entries, each an HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`
//! keyed with the bytes the secret `whsec_<base64>` encodes.
//!
//! Written here with RustCrypto's `hmac`/`sha2` rather than the `standardwebhooks` crate:
//! that crate (1.0.1) pulls `hmac-sha256` (a second HMAC implementation beside the
//! `hmac 0.13` already in the workspace), base64 0.21 and `time`, and reads the wall clock
//! inside `verify`, so a test or a caller cannot pass the time in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Largest distance, in seconds, between a message's timestamp and the receiver's clock.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a Standard Webhooks secret, header or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The secret is not `whsec_` (optional) followed by base64.
    #[error("the secret is not base64 after the whsec_ prefix")]
    BadSecret,
    /// `webhook-id`, `webhook-timestamp` or `webhook-signature` is missing or empty.
    #[error("a webhook-id, webhook-timestamp or webhook-signature header is missing")]
    MissingHeader,
    /// `webhook-timestamp` is not a number of seconds.
    #[error("webhook-timestamp is not a Unix time in seconds")]
    BadTimestamp,
    /// The timestamp is more than [`TOLERANCE_SECS`] away from now.
    #[error("webhook-timestamp is more than five minutes away")]
    StaleTimestamp,
    /// No `v1` entry matches the content.
    #[error("no signature matches")]
    BadSignature,
}

impl WebhookError {
    /// A stable snake_case code for answers and statistics.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::BadSecret => "bad_secret",
            WebhookError::MissingHeader => "missing_signature_headers",
            WebhookError::BadTimestamp => "bad_timestamp",
            WebhookError::StaleTimestamp => "stale_timestamp",
            WebhookError::BadSignature => "bad_signature",
        }
    }
}

/// The key bytes of a `whsec_…` secret (the prefix is optional).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, WebhookError> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    match STANDARD.decode(b64) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(WebhookError::BadSecret),
    }
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Result<HmacSha256, WebhookError> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| WebhookError::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` value (`v1,<base64>`) for a message `id` sent at `timestamp`
/// (Unix seconds) with this exact `body`.
pub fn sign_standard_webhook(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookError> {
    let key = secret_key(secret)?;
    let tag = mac(&key, id, &timestamp.to_string(), body)?
        .finalize()
        .into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// Checks a message against the key bytes: the headers are present, the timestamp is
/// within [`TOLERANCE_SECS`] of `now_unix`, and one `v1` entry of `signatures` matches
/// (compared in constant time). Call it on the raw body, before parsing it.
pub fn verify_with_key(
    key: &[u8],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), WebhookError> {
    if id.is_empty() || timestamp.is_empty() || signatures.trim().is_empty() {
        return Err(WebhookError::MissingHeader);
    }
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookError::BadTimestamp)?;
    if now_unix.abs_diff(ts) > TOLERANCE_SECS.unsigned_abs() {
        return Err(WebhookError::StaleTimestamp);
    }
    let expected = mac(key, id, timestamp, body)?;
    for entry in signatures.split(' ') {
        let Some(("v1", b64)) = entry.split_once(',') else {
            continue;
        };
        let Ok(tag) = STANDARD.decode(b64) else {
            continue;
        };
        // verify_slice compares in constant time
        if expected.clone().verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(WebhookError::BadSignature)
}

/// Checks a message signed with the secret `whsec_…`: the headers are present, the
/// timestamp is within [`TOLERANCE_SECS`] of `now_unix`, and one `v1` entry of
/// `signatures` matches (compared in constant time). Call it on the raw body, before
/// parsing it.
pub fn verify_standard_webhook(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), WebhookError> {
    let key = secret_key(secret)?;
    verify_with_key(&key, id, timestamp, signatures, body, now_unix)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // The example of the Standard Webhooks specification's reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn signs_and_verifies() {
        let body = br#"{"test": 2432232314}"#;
        let sig = sign_standard_webhook(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
            .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let key = secret_key(SECRET).unwrap();
        let ok = verify_with_key(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            &format!("v1,bm9wZQ== {sig}"),
            body,
            1614265330 + 299,
        );
        assert_eq!(ok, Ok(()));
        let stale = verify_with_key(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            &sig,
            body,
            1614265330 + 301,
        );
        assert_eq!(stale, Err(WebhookError::StaleTimestamp));
    }
}
