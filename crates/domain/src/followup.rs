//! The young person's follow-up page: a case code and a secret, given once at the end of
//! a contact, open a page without an account where they see where their case stands in
//! plain words, add evidence or fingerprints, and write to the helpline.
//!
//! Both are written in an alphabet a child can copy from a screen and type on a phone
//! (Crockford's base 32: no I, L, O or U; letters in any case; `O` read as `0`, `I` and `L`
//! as `1`; spaces and dashes ignored). The code names the access (40 bits, not secret); the
//! secret (80 bits) proves it and is kept only as a keyed hash. Guesses are limited per
//! code and per address, with a lock-out.

use crate::case::CaseStatus;
use std::fmt;

/// The alphabet (Crockford's base 32).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a code.
pub const CODE_LEN: usize = 8;
/// Characters of a secret.
pub const SECRET_LEN: usize = 16;
/// Wrong secrets for one code before it locks.
pub const MAX_FAILURES: i64 = 5;
/// How long a code stays locked after too many wrong secrets (doubling each time).
pub const LOCK_MS: i64 = 15 * 60 * 1000;

fn normalise(s: &str, len: usize) -> Option<String> {
    let mut out = String::with_capacity(len);
    for c in s.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\u{a0}' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
        if out.len() > len {
            return None;
        }
    }
    (out.len() == len).then_some(out)
}

fn encode(bytes: &[u8], len: usize) -> String {
    // 5 bits per character, most significant first
    let mut out = String::with_capacity(len);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 && out.len() < len {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    out
}

fn grouped(s: &str) -> String {
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A follow-up code: names the access.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FollowUpCode(String);

/// A follow-up secret: proves it. Debug never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct FollowUpSecret(String);

impl fmt::Debug for FollowUpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FollowUpSecret(…)")
    }
}

impl FollowUpCode {
    /// From 5 random bytes.
    pub fn from_random(bytes: [u8; 5]) -> FollowUpCode {
        FollowUpCode(encode(&bytes, CODE_LEN))
    }
    /// Parses what was typed; `None` when it cannot be a code.
    pub fn parse(s: &str) -> Option<FollowUpCode> {
        normalise(s, CODE_LEN).map(FollowUpCode)
    }
    /// The canonical form (stored, compared).
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// As shown to the young person: `K7QM-3XT9`.
    pub fn display(&self) -> String {
        grouped(&self.0)
    }
}

impl FollowUpSecret {
    /// From 10 random bytes.
    pub fn from_random(bytes: [u8; 10]) -> FollowUpSecret {
        FollowUpSecret(encode(&bytes, SECRET_LEN))
    }
    /// Parses what was typed; `None` when it cannot be a secret.
    pub fn parse(s: &str) -> Option<FollowUpSecret> {
        normalise(s, SECRET_LEN).map(FollowUpSecret)
    }
    /// The canonical form (hashed with a key, never stored).
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// As shown once: `ABCD-EFGH-JKMN-PQRS`.
    pub fn display(&self) -> String {
        grouped(&self.0)
    }
}

/// Where a case stands, in the words a young person reads on the follow-up page: nothing
/// about who handles it, what the content is or who the other people are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainState {
    /// The helpline received the request and will look at it.
    Received,
    /// Someone is working on it.
    InProgress,
    /// A report was sent to a platform, which has not answered yet.
    WaitingForPlatform,
    /// A platform removed or restricted what was reported.
    ContentRemoved,
    /// The case is closed.
    Closed,
}

impl PlainState {
    /// The state from the case's status and its notices: sent and undecided, and removed.
    pub fn of(status: CaseStatus, notices_waiting: u32, notices_removed: u32) -> PlainState {
        match status {
            CaseStatus::Closed => PlainState::Closed,
            _ if notices_removed > 0 && notices_waiting == 0 => PlainState::ContentRemoved,
            _ if notices_waiting > 0 => PlainState::WaitingForPlatform,
            CaseStatus::New => PlainState::Received,
            _ => PlainState::InProgress,
        }
    }

    /// The stable code (the key of its words is `followup-state-<code>`).
    pub fn as_str(self) -> &'static str {
        match self {
            PlainState::Received => "received",
            PlainState::InProgress => "in_progress",
            PlainState::WaitingForPlatform => "waiting_platform",
            PlainState::ContentRemoved => "content_removed",
            PlainState::Closed => "closed",
        }
    }
}

/// How long a code stays locked after its `locks`-th lock-out (15 min, doubling, at most a day).
pub fn lock_duration_ms(locks: i64) -> i64 {
    let shift = locks.clamp(1, 8) - 1;
    (LOCK_MS << shift).min(24 * 3600 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_survive_what_a_child_types() {
        let c = FollowUpCode::from_random([0xff, 0, 0x12, 0x34, 0x56]);
        assert_eq!(c.as_str().len(), CODE_LEN);
        let typed = c.display().to_lowercase().replace('-', " ");
        assert_eq!(FollowUpCode::parse(&typed), Some(c.clone()));
        assert_eq!(
            FollowUpCode::parse("OIL0-0000"),
            FollowUpCode::parse("0110-0000")
        );
        assert!(FollowUpCode::parse("UUUU-UUUU").is_none());
        assert!(FollowUpCode::parse("0000-00000").is_none());
        assert!(FollowUpCode::parse("0000-000").is_none());
        assert!(FollowUpCode::parse("0000-000é").is_none());
        let s = FollowUpSecret::from_random([7; 10]);
        assert_eq!(s.as_str().len(), SECRET_LEN);
        assert_eq!(s.display().len(), SECRET_LEN + 3);
        assert_eq!(FollowUpSecret::parse(&s.display()), Some(s.clone()));
        assert_eq!(format!("{s:?}"), "FollowUpSecret(…)");
    }

    #[test]
    fn every_bit_counts() {
        let a = FollowUpSecret::from_random([0; 10]);
        let b = FollowUpSecret::from_random([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "0".repeat(16));
        assert_eq!(b.as_str(), format!("{}1", "0".repeat(15)));
    }

    #[test]
    fn plain_states() {
        use CaseStatus::*;
        assert_eq!(PlainState::of(New, 0, 0), PlainState::Received);
        assert_eq!(PlainState::of(InProgress, 0, 0), PlainState::InProgress);
        assert_eq!(
            PlainState::of(InProgress, 1, 1),
            PlainState::WaitingForPlatform
        );
        assert_eq!(PlainState::of(InProgress, 0, 2), PlainState::ContentRemoved);
        assert_eq!(PlainState::of(Closed, 1, 0), PlainState::Closed);
        assert_eq!(lock_duration_ms(1), LOCK_MS);
        assert_eq!(lock_duration_ms(2), 2 * LOCK_MS);
        assert_eq!(lock_duration_ms(100), 24 * 3600 * 1000);
    }
}
