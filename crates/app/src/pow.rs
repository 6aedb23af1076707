//! A proof of work for new chat sessions when the line is under a flood: instead of a
//! picture puzzle (which a frightened young person, or a screen reader, may fail), the
//! widget computes a hash for a second or so without any action of its user, which makes
//! thousands of fake sessions expensive. Challenges are signed (any node can check them),
//! expire after five minutes, and are accepted once per node. Their key is the proof of
//! work's own, derived from the master secret: it signs nothing else.

use crate::error::{AppError, ErrorCode};
use crate::{App, constant_time_eq, random_hex};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a challenge can be answered, ms.
const VALID_MS: i64 = 5 * 60_000;

/// Challenges already answered on this node (until they expire).
#[derive(Clone, Default)]
pub(crate) struct UsedChallenges(Arc<Mutex<HashMap<String, i64>>>);

/// The work an answer shows: the leading zero bits of `SHA-256(challenge ":" nonce)`.
pub fn work_bits(challenge: &str, nonce: &str) -> u32 {
    leading_zero_bits(&sha2::Sha256::digest(
        format!("{challenge}:{nonce}").as_bytes(),
    ))
}

/// Leading zero bits of a digest.
pub fn leading_zero_bits(d: &[u8]) -> u32 {
    let mut n = 0;
    for b in d {
        if *b == 0 {
            n += 8;
        } else {
            return n + b.leading_zeros();
        }
    }
    n
}

fn refuse(why: &str) -> AppError {
    AppError::new(ErrorCode::ProofOfWorkRequired, why)
}

impl App {
    /// A new challenge: `<issued ms>.<random>.<signature>`.
    pub fn pow_challenge(&self) -> Result<String, AppError> {
        let body = format!("{}.{}", self.now(), random_hex(16)?);
        let sig = crate::keyed_hex(&self.keys.pow, &[body.as_bytes()]);
        Ok(format!("{body}.{}", &sig[..32]))
    }

    /// Checks an answer: a challenge this helpline signed, not expired, not used before on
    /// this node, and `SHA-256(challenge ":" nonce)` starting with `bits` zero bits.
    pub fn pow_verify(&self, challenge: &str, nonce: &str, bits: u32) -> Result<(), AppError> {
        let mut parts = challenge.split('.');
        let (Some(at), Some(rand), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refuse("malformed challenge"));
        };
        let body = format!("{at}.{rand}");
        let expected = crate::keyed_hex(&self.keys.pow, &[body.as_bytes()]);
        if sig.len() != 32 || !constant_time_eq(sig.as_bytes(), &expected.as_bytes()[..32]) {
            return Err(refuse("unknown challenge"));
        }
        let issued: i64 = at.parse().map_err(|_| refuse("malformed challenge"))?;
        let now = self.now();
        if now - issued > VALID_MS || issued - now > 60_000 {
            return Err(refuse("expired challenge"));
        }
        if nonce.is_empty() || nonce.len() > 32 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(refuse("malformed nonce"));
        }
        if work_bits(challenge, nonce) < bits {
            return Err(refuse("not enough work"));
        }
        let mut used = self
            .pow_used
            .0
            .lock()
            .map_err(|_| AppError::internal("lock"))?;
        if used.len() > 100_000 {
            used.retain(|_, at| now - *at <= VALID_MS);
        }
        if used.insert(challenge.to_owned(), issued).is_some() {
            return Err(refuse("challenge already used"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bits_are_counted_across_bytes() {
        assert_eq!(leading_zero_bits(&[0xff]), 0);
        assert_eq!(leading_zero_bits(&[0x00, 0x10]), 11);
        assert_eq!(leading_zero_bits(&[0x00, 0x00, 0x01]), 23);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }
}
