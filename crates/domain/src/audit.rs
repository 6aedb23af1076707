//! The audit trail's hash chain: every event carries an HMAC-SHA-256, under a key that is
//! not in the database, of its predecessor's hash and its own fields, so a modified,
//! inserted or deleted event breaks the chain — and someone with only database access
//! cannot recompute it. A cut tail is found against an anchor kept outside the database
//! (`ChainVerifier::check_anchor`). Events name who did what to which object, never the
//! content; their vocabulary is [`event::AuditEvent`].

pub mod event;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The key of the chain (32 bytes, derived from the helpline's master secret).
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey([u8; 32]);

impl ChainKey {
    /// Wraps a derived key.
    pub fn new(bytes: [u8; 32]) -> Self {
        ChainKey(bytes)
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(***)")
    }
}

/// The hash before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When (ms since epoch, UTC).
    pub at_ms: i64,
    /// Who (staff id), if anyone.
    pub actor_id: Option<String>,
    /// What, e.g. `case.read`, `case.status_changed`.
    pub action: String,
    /// Kind of object, e.g. `case`, `staff`.
    pub object_type: String,
    /// Which object.
    pub object_id: Option<String>,
    /// The case concerned, for the case timeline.
    pub case_id: Option<String>,
    /// Non-content detail, e.g. `status=closed`.
    pub detail: String,
    /// The previous event's hash.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

type HmacSha256 = Hmac<Sha256>;

fn field(h: &mut HmacSha256, s: &str) {
    h.update(&(s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

/// The keyed hash of an event given its predecessor's hash (length-prefixed fields, so
/// no two different events serialise alike).
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    key: &ChainKey,
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    actor_id: Option<&str>,
    action: &str,
    object_type: &str,
    object_id: Option<&str>,
    case_id: Option<&str>,
    detail: &str,
) -> String {
    // HMAC accepts keys of any length: this cannot fail.
    let Ok(mut h) = HmacSha256::new_from_slice(&key.0) else {
        return String::new();
    };
    field(&mut h, "rempart-audit-v2");
    field(&mut h, prev_hash);
    h.update(&seq.to_be_bytes());
    h.update(&at_ms.to_be_bytes());
    for opt in [actor_id, object_id, case_id] {
        match opt {
            Some(s) => {
                h.update(&[1u8]);
                field(&mut h, s);
            }
            None => h.update(&[0u8]),
        }
    }
    field(&mut h, action);
    field(&mut h, object_type);
    field(&mut h, detail);
    hex::encode(h.finalize().into_bytes())
}

impl AuditRecord {
    /// Recomputes this record's hash from its fields and `prev_hash`.
    pub fn expected_hash(&self, key: &ChainKey) -> String {
        chain_hash(
            key,
            &self.prev_hash,
            self.seq,
            self.at_ms,
            self.actor_id.as_deref(),
            &self.action,
            &self.object_type,
            self.object_id.as_deref(),
            self.case_id.as_deref(),
            &self.detail,
        )
    }
}

/// A break found by `ChainVerifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// The event's fields do not match its hash: it was modified.
    Modified {
        /// Sequence number.
        seq: i64,
    },
    /// The event does not follow its predecessor: one was inserted or deleted.
    Broken {
        /// Sequence number where the link breaks.
        seq: i64,
    },
    /// The chain's head does not match the last event: the tail was cut or extended.
    HeadMismatch {
        /// The last sequence number the head claims.
        head_seq: i64,
    },
    /// An anchor kept outside the database names an event that is gone or different:
    /// the tail was cut (and the head rewound) or rewritten.
    AnchorMismatch {
        /// The anchored sequence number.
        seq: i64,
    },
}

/// A chain head recorded outside the database (`rempart audit anchor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// Sequence number of the head when anchored.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

impl Anchor {
    /// One line: `<seq> <hash>` (what `audit anchor` appends to a file).
    pub fn line(&self) -> String {
        format!("{} {}", self.seq, self.hash)
    }

    /// Parses the lines of an anchor file (blank lines and `#` comments skipped; any
    /// further words on a line, such as a date, are ignored).
    pub fn parse_file(text: &str) -> Result<Vec<Anchor>, String> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut w = line.split_whitespace();
            let seq = w.next().and_then(|s| s.parse::<i64>().ok());
            let hash = w
                .next()
                .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
            match (seq, hash) {
                (Some(seq), Some(hash)) if seq >= 0 => out.push(Anchor {
                    seq,
                    hash: hash.to_ascii_lowercase(),
                }),
                _ => return Err(format!("line {}: expected `<seq> <hash>`", i + 1)),
            }
        }
        Ok(out)
    }
}

/// Checks a chain event by event, in sequence order, in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    key: ChainKey,
    last_seq: i64,
    last_hash: String,
    problems: Vec<ChainProblem>,
    checked: u64,
    anchors: Vec<Anchor>,
}

impl ChainVerifier {
    /// Starts at the genesis; `anchors` are heads recorded outside the database, each of
    /// which must still be in the chain, unchanged.
    pub fn new(key: ChainKey, anchors: Vec<Anchor>) -> Self {
        ChainVerifier {
            key,
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            problems: Vec::new(),
            checked: 0,
            anchors,
        }
    }

    /// Feeds the next event.
    pub fn push(&mut self, r: &AuditRecord) {
        self.checked += 1;
        for a in self.anchors.iter().filter(|a| a.seq == r.seq) {
            if a.hash != r.hash {
                self.problems
                    .push(ChainProblem::AnchorMismatch { seq: a.seq });
            }
        }
        if r.expected_hash(&self.key) != r.hash {
            self.problems.push(ChainProblem::Modified { seq: r.seq });
        }
        if r.seq != self.last_seq + 1 || r.prev_hash != self.last_hash {
            self.problems.push(ChainProblem::Broken { seq: r.seq });
        }
        self.last_seq = r.seq;
        self.last_hash = r.hash.clone();
    }

    /// Ends with the stored head and returns (events checked, problems).
    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> (u64, Vec<ChainProblem>) {
        if head_seq != self.last_seq || head_hash != self.last_hash {
            self.problems.push(ChainProblem::HeadMismatch { head_seq });
        }
        // an anchor beyond the last event: the tail it names was cut
        for a in self.anchors.iter().filter(|a| a.seq > self.last_seq) {
            self.problems
                .push(ChainProblem::AnchorMismatch { seq: a.seq });
        }
        (self.checked, self.problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ChainKey {
        ChainKey::new([7; 32])
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut r = AuditRecord {
                    seq,
                    at_ms: 1000 + seq,
                    actor_id: Some("a".into()),
                    action: "case.read".into(),
                    object_type: "case".into(),
                    object_id: Some(format!("c{seq}")),
                    case_id: None,
                    detail: String::new(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = r.expected_hash(&key());
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(c: &[AuditRecord]) -> Vec<ChainProblem> {
        let mut v = ChainVerifier::new(key(), vec![]);
        c.iter().for_each(|r| v.push(r));
        let last = c
            .last()
            .map(|r| (r.seq, r.hash.clone()))
            .unwrap_or((0, GENESIS_HASH.into()));
        v.finish(last.0, &last.1).1
    }

    #[test]
    fn intact_chain_verifies() {
        assert!(verify(&chain(5)).is_empty());
    }

    #[test]
    fn modification_deletion_and_insertion_are_found() {
        let mut c = chain(5);
        c[2].detail = "status=closed".into();
        assert_eq!(verify(&c), vec![ChainProblem::Modified { seq: 3 }]);

        let mut c = chain(5);
        c.remove(2);
        assert_eq!(verify(&c), vec![ChainProblem::Broken { seq: 4 }]);

        let c = chain(5);
        let mut v = ChainVerifier::new(key(), vec![]);
        c[..4].iter().for_each(|r| v.push(r));
        // the tail was cut: the head still names event 5
        assert_eq!(
            v.finish(5, &c[4].hash).1,
            vec![ChainProblem::HeadMismatch { head_seq: 5 }]
        );
    }

    #[test]
    fn a_chain_recomputed_without_the_key_does_not_verify() {
        let mut c = chain(3);
        // someone with database access edits event 2 and recomputes the chain with a key
        // of their own (they do not have the helpline's)
        c[1].detail = "edited".into();
        let other = ChainKey::new([8; 32]);
        for i in 1..3 {
            c[i].prev_hash = c[i - 1].hash.clone();
            c[i].hash = c[i].expected_hash(&other);
        }
        assert!(verify(&c).contains(&ChainProblem::Modified { seq: 2 }));
    }

    #[test]
    fn an_anchor_finds_a_cut_tail_and_a_rewritten_one() {
        let c = chain(5);
        let anchor = Anchor {
            seq: 5,
            hash: c[4].hash.clone(),
        };
        // the last two events deleted and the head rewound to event 3: the chain itself
        // is consistent, the anchor is not
        let mut v = ChainVerifier::new(key(), vec![anchor.clone()]);
        c[..3].iter().for_each(|r| v.push(r));
        assert_eq!(
            v.finish(3, &c[2].hash).1,
            vec![ChainProblem::AnchorMismatch { seq: 5 }]
        );
        let mut v = ChainVerifier::new(key(), vec![anchor.clone()]);
        c.iter().for_each(|r| v.push(r));
        assert!(
            v.finish(5, &c[4].hash).1.is_empty(),
            "an intact chain matches"
        );
        assert_eq!(
            Anchor::parse_file(&format!("# anchors\n{} 2026-12-01\n", anchor.line())),
            Ok(vec![anchor])
        );
        assert!(Anchor::parse_file("5 nothex").is_err());
    }
}
