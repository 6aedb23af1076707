//! The audit trail's hash chain: every event carries the SHA-256 of its predecessor's
//! hash and its own fields, so a modified, inserted or deleted event breaks the chain.
//! Events name who did what to which object, never the content.

use sha2::{Digest, Sha256};

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

fn field(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

/// The hash of an event given its predecessor's hash (length-prefixed fields, so no
/// two different events serialise alike).
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
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
    let mut h = Sha256::new();
    field(&mut h, "rempart-audit-v1");
    field(&mut h, prev_hash);
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    for opt in [actor_id, object_id, case_id] {
        match opt {
            Some(s) => {
                h.update([1u8]);
                field(&mut h, s);
            }
            None => h.update([0u8]),
        }
    }
    field(&mut h, action);
    field(&mut h, object_type);
    field(&mut h, detail);
    hex::encode(h.finalize())
}

impl AuditRecord {
    /// Recomputes this record's hash from its fields and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        chain_hash(
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
}

/// Checks a chain event by event, in sequence order, in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    problems: Vec<ChainProblem>,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// Starts at the genesis.
    pub fn new() -> Self {
        ChainVerifier {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            problems: Vec::new(),
            checked: 0,
        }
    }

    /// Feeds the next event.
    pub fn push(&mut self, r: &AuditRecord) {
        self.checked += 1;
        if r.expected_hash() != r.hash {
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
        (self.checked, self.problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                r.hash = r.expected_hash();
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(c: &[AuditRecord]) -> Vec<ChainProblem> {
        let mut v = ChainVerifier::new();
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
        let mut v = ChainVerifier::new();
        c[..4].iter().for_each(|r| v.push(r));
        // the tail was cut: the head still names event 5
        assert_eq!(
            v.finish(5, &c[4].hash).1,
            vec![ChainProblem::HeadMismatch { head_seq: 5 }]
        );
    }
}
