//! Standard Webhooks 1.0: signing Rempart's pushes (`http_json` notices) and verifying
//! partners' calls.
//!
//! `webhook-signature` carries space-separated `v1,<base64>` entries, each the
//! HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<raw body>` keyed with the bytes that
//! the secret `whsec_<base64>` encodes. Several entries appear during a key rotation.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};
use http::HeaderMap;

use crate::client::{Deliverer, header};
use crate::outcome::{ConflictMeans, Outcome};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Largest distance, in seconds, between a message's timestamp and the receiver's clock,
/// either way.
pub const WEBHOOK_TOLERANCE_SECS: i64 = 5 * 60;

/// Shortest key accepted, in bytes (the specification recommends 24 to 64).
pub const MIN_SECRET_BYTES: usize = 16;

/// Most `webhook-signature` entries looked at.
const MAX_SIGNATURES: usize = 16;

/// Why a Standard Webhooks secret or message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookProblem {
    /// The secret is not `whsec_` followed by the base64 of at least
    /// [`MIN_SECRET_BYTES`] bytes.
    #[error("the secret is not whsec_ followed by base64 of a long enough key")]
    BadSecret,
    /// `webhook-id`, `webhook-timestamp` or `webhook-signature` is missing or empty.
    #[error("a webhook-id, webhook-timestamp or webhook-signature header is missing")]
    MissingHeader,
    /// `webhook-timestamp` is not a number of seconds.
    #[error("webhook-timestamp is not a Unix time in seconds")]
    BadTimestamp,
    /// The timestamp is more than [`WEBHOOK_TOLERANCE_SECS`] away from now.
    #[error("webhook-timestamp is more than five minutes away")]
    StaleTimestamp,
    /// No `v1` entry matches.
    #[error("no signature matches")]
    BadSignature,
}

impl WebhookProblem {
    /// A stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            WebhookProblem::BadSecret => "bad_secret",
            WebhookProblem::MissingHeader => "missing_signature_headers",
            WebhookProblem::BadTimestamp => "bad_timestamp",
            WebhookProblem::StaleTimestamp => "stale_timestamp",
            WebhookProblem::BadSignature => "bad_signature",
        }
    }
}

fn key_of(secret: &str) -> Result<Vec<u8>, WebhookProblem> {
    let b64 = secret
        .trim()
        .strip_prefix("whsec_")
        .ok_or(WebhookProblem::BadSecret)?;
    match STANDARD.decode(b64) {
        Ok(key) if key.len() >= MIN_SECRET_BYTES => Ok(key),
        _ => Err(WebhookProblem::BadSecret),
    }
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Result<HmacSha256, WebhookProblem> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| WebhookProblem::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` value (`v1,<base64>`) of message `id` sent at `timestamp`
/// (Unix seconds) with exactly `body`.
pub fn sign_webhook(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookProblem> {
    let key = key_of(secret)?;
    let tag = mac(&key, id, &timestamp.to_string(), body)?
        .finalize()
        .into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// Checks a message before its body is parsed: the three headers are present, the
/// timestamp is within [`WEBHOOK_TOLERANCE_SECS`] of `now_unix` either way, and one `v1`
/// entry of `signatures_header` matches the raw `body` (compared in constant time;
/// entries of other versions are skipped).
pub fn verify_webhook(
    secret: &str,
    id: &str,
    timestamp_header: &str,
    signatures_header: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), WebhookProblem> {
    let key = key_of(secret)?;
    let timestamp = timestamp_header.trim();
    if id.is_empty() || timestamp.is_empty() || signatures_header.trim().is_empty() {
        return Err(WebhookProblem::MissingHeader);
    }
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebhookProblem::BadTimestamp);
    }
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| WebhookProblem::BadTimestamp)?;
    if now_unix.abs_diff(ts) > WEBHOOK_TOLERANCE_SECS.unsigned_abs() {
        return Err(WebhookProblem::StaleTimestamp);
    }
    let expected = mac(&key, id, timestamp, body)?;
    for entry in signatures_header
        .split_ascii_whitespace()
        .take(MAX_SIGNATURES)
    {
        let Some(("v1", b64)) = entry.split_once(',') else {
            continue;
        };
        let Ok(tag) = STANDARD.decode(b64) else {
            continue;
        };
        if expected.clone().verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(WebhookProblem::BadSignature)
}

/// Longest receipt kept from an answer.
pub(crate) const MAX_RECEIPT_LEN: usize = 256;

/// A receipt value: a non-empty string (or number) of printable characters, not too long.
pub(crate) fn receipt_value(v: &serde_json::Value) -> Option<String> {
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && s.len() <= MAX_RECEIPT_LEN && !s.chars().any(char::is_control)).then_some(s)
}

fn http_json_receipt(answer: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(answer).ok()?;
    ["ticket", "id"]
        .iter()
        .find_map(|k| v.get(k).and_then(receipt_value))
}

impl Deliverer {
    /// Pushes a JSON notice signed per Standard Webhooks to `endpoint`.
    ///
    /// `webhook_id` must be the same on every retry of one notice: it is the receiver's
    /// idempotency key, so a retry after a lost answer does not create a second notice.
    /// 2xx is delivered, with the answer's `ticket` or `id` as receipt; a `409` is read as
    /// "already received" ([`crate::AtPlatform::AlreadyReceived`]).
    pub async fn send_http_json(
        &self,
        endpoint: &str,
        secret: &str,
        webhook_id: &str,
        body: &[u8],
        now_unix: i64,
    ) -> Outcome {
        let endpoint = match self.endpoint(endpoint) {
            Ok(e) => e,
            Err(o) => return o,
        };
        let Ok(signature) = sign_webhook(secret, webhook_id, now_unix, body) else {
            return Outcome::permanent("bad_secret");
        };
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("webhook-id", webhook_id),
            ("webhook-timestamp", &now_unix.to_string()),
            ("webhook-signature", &signature),
            ("content-type", "application/json"),
        ] {
            let Some((name, value)) = header(name, value) else {
                return Outcome::permanent("invalid_webhook_id");
            };
            headers.insert(name, value);
        }
        self.post(
            &endpoint,
            headers,
            body.to_vec(),
            ConflictMeans::AlreadyReceived,
            http_json_receipt,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    // The test vector of the Standard Webhooks specification's reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const OTHER: &str = "whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=";

    #[test]
    fn matches_the_specification_vector() {
        assert_eq!(sign_webhook(SECRET, ID, TS, BODY), Ok(SIGNATURE.to_owned()));
        assert_eq!(
            verify_webhook(SECRET, ID, "1614265330", SIGNATURE, BODY, TS),
            Ok(())
        );
    }

    #[test]
    fn round_trip_and_tolerance() {
        let sig = sign_webhook(OTHER, "msg_1", 1_000_000, b"{}");
        let Ok(sig) = sig else {
            panic!("signing failed: {sig:?}");
        };
        for now in [1_000_000 - 300, 1_000_000, 1_000_000 + 300] {
            assert_eq!(
                verify_webhook(OTHER, "msg_1", "1000000", &sig, b"{}", now),
                Ok(())
            );
        }
        for now in [1_000_000 - 301, 1_000_000 + 301, 0, i64::MAX, i64::MIN] {
            assert_eq!(
                verify_webhook(OTHER, "msg_1", "1000000", &sig, b"{}", now),
                Err(WebhookProblem::StaleTimestamp)
            );
        }
    }

    #[test]
    fn tampering_is_refused() {
        fn v(
            secret: &str,
            id: &str,
            ts: &str,
            sig: &str,
            body: &[u8],
        ) -> Result<(), WebhookProblem> {
            verify_webhook(secret, id, ts, sig, body, TS)
        }
        let bad = Err(WebhookProblem::BadSignature);
        assert_eq!(
            v(
                SECRET,
                ID,
                "1614265330",
                SIGNATURE,
                br#"{"test": 2432232315}"#
            ),
            bad
        );
        assert_eq!(
            v(
                SECRET,
                ID,
                "1614265330",
                SIGNATURE,
                br#"{"test":2432232314}"#
            ),
            bad
        );
        assert_eq!(v(SECRET, "msg_other", "1614265330", SIGNATURE, BODY), bad);
        assert_eq!(v(SECRET, ID, "1614265331", SIGNATURE, BODY), bad);
        assert_eq!(v(OTHER, ID, "1614265330", SIGNATURE, BODY), bad);
        // the same tag under another version, or without a version
        let tag = SIGNATURE.trim_start_matches("v1,");
        assert_eq!(
            v(SECRET, ID, "1614265330", &format!("v1a,{tag}"), BODY),
            bad
        );
        assert_eq!(v(SECRET, ID, "1614265330", tag, BODY), bad);
        // a truncated tag
        assert_eq!(v(SECRET, ID, "1614265330", &SIGNATURE[..20], BODY), bad);
        assert_eq!(v(SECRET, ID, "1614265330", "v1,!!!", BODY), bad);
        assert_eq!(
            v(SECRET, "", "1614265330", SIGNATURE, BODY),
            Err(WebhookProblem::MissingHeader)
        );
        assert_eq!(
            v(SECRET, ID, "", SIGNATURE, BODY),
            Err(WebhookProblem::MissingHeader)
        );
        assert_eq!(
            v(SECRET, ID, "1614265330", " ", BODY),
            Err(WebhookProblem::MissingHeader)
        );
        for ts in ["-1614265330", "+1614265330", "1614265330.0", "1e9", "abc"] {
            assert_eq!(
                v(SECRET, ID, ts, SIGNATURE, BODY),
                Err(WebhookProblem::BadTimestamp),
                "{ts}"
            );
        }
    }

    #[test]
    fn rotation_accepts_any_entry() {
        let Ok(new) = sign_webhook(OTHER, ID, TS, BODY) else {
            panic!("signing failed");
        };
        let header = format!("{new} {SIGNATURE}");
        assert_eq!(
            verify_webhook(SECRET, ID, "1614265330", &header, BODY, TS),
            Ok(())
        );
        assert_eq!(
            verify_webhook(OTHER, ID, "1614265330", &header, BODY, TS),
            Ok(())
        );
        let header = format!("v2,abc v1,bm9wZQ== {SIGNATURE}");
        assert_eq!(
            verify_webhook(SECRET, ID, "1614265330", &header, BODY, TS),
            Ok(())
        );
    }

    #[test]
    fn secrets_are_checked() {
        for secret in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not base64!",
            "whsec_c2hvcnQ=",
            "",
        ] {
            assert_eq!(
                sign_webhook(secret, ID, TS, BODY),
                Err(WebhookProblem::BadSecret),
                "{secret}"
            );
            assert_eq!(
                verify_webhook(secret, ID, "1614265330", SIGNATURE, BODY, TS),
                Err(WebhookProblem::BadSecret)
            );
        }
    }

    #[test]
    fn receipts() {
        assert_eq!(
            http_json_receipt(br#"{"ticket":"T-1","id":"x"}"#),
            Some("T-1".to_owned())
        );
        assert_eq!(http_json_receipt(br#"{"id":42}"#), Some("42".to_owned()));
        assert_eq!(http_json_receipt(br#"{"ticket":""}"#), None);
        assert_eq!(http_json_receipt(br#"{"ticket":"a\nb"}"#), None);
        let long = format!(r#"{{"ticket":"{}"}}"#, "x".repeat(MAX_RECEIPT_LEN + 1));
        assert_eq!(http_json_receipt(long.as_bytes()), None);
        assert_eq!(http_json_receipt(b""), None);
        assert_eq!(http_json_receipt(b"[1]"), None);
    }
}
