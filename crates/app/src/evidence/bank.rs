//! The hash bank of evidence: every PDQ fingerprint received (of files, and of images that
//! never left the young person's device), so that a picture reported again later — cropped,
//! recompressed — is recognised. Held in memory on each node (an exact Hamming bank) and
//! topped up from the store before each query, so a fingerprint recorded on another node is
//! found too.

use rempart_domain::ids::{CaseId, EvidenceId};
use rempart_pdq::Hash256;
use rempart_pdq::bank::{DEFAULT_RADIUS, HashBank};
use rempart_storage::Store;
use std::collections::HashSet;
use std::sync::Mutex;

/// Evidence a new piece matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recognised {
    /// The same SHA-256 or MD5.
    pub same_digest: Vec<(EvidenceId, CaseId)>,
    /// A PDQ fingerprint within the match radius (31), with its distance.
    pub near: Vec<(EvidenceId, CaseId, u32)>,
}

impl Recognised {
    /// Whether anything matched.
    pub fn any(&self) -> bool {
        !self.same_digest.is_empty() || !self.near.is_empty()
    }
}

#[derive(Default)]
struct State {
    bank: HashBank,
    ids: Vec<(EvidenceId, CaseId)>,
    known: HashSet<EvidenceId>,
    /// The newest `received_at` loaded.
    newest: i64,
}

/// The node's bank.
#[derive(Default)]
pub struct EvidenceBank {
    state: Mutex<State>,
}

/// How far back each top-up reads again, in ms: rows committed on another node with a
/// slightly older clock are not missed (duplicates are skipped).
const OVERLAP_MS: i64 = 120_000;

impl EvidenceBank {
    /// Adds a fingerprint (a new piece of evidence on this node).
    pub fn add(&self, pdq: &str, evidence: EvidenceId, case: CaseId) {
        let Ok(hash) = Hash256::parse(pdq) else {
            return;
        };
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if !s.known.insert(evidence) {
            return;
        }
        let idx = s.ids.len() as u64;
        if s.bank.add(hash, idx).is_ok() {
            s.ids.push((evidence, case));
        }
    }

    /// Loads what was recorded since the last top-up.
    pub async fn refresh(&self, store: &Store) -> Result<(), rempart_storage::StorageError> {
        let since = self
            .state
            .lock()
            .map(|s| s.newest)
            .unwrap_or(0)
            .saturating_sub(OVERLAP_MS);
        let rows = store.fingerprints_since(since).await?;
        for r in rows {
            self.add(&r.pdq, r.evidence, r.case_id);
            if let Ok(mut s) = self.state.lock() {
                s.newest = s.newest.max(r.received_at);
            }
        }
        Ok(())
    }

    /// Fingerprints within the radius of `pdq`, nearest first.
    pub fn near(&self, pdq: &str) -> Vec<(EvidenceId, CaseId, u32)> {
        let Ok(hash) = Hash256::parse(pdq) else {
            return Vec::new();
        };
        let Ok(s) = self.state.lock() else {
            return Vec::new();
        };
        s.bank
            .query_radius(&hash, DEFAULT_RADIUS)
            .into_iter()
            .filter_map(|m| {
                let (e, c) = *s.ids.get(m.id as usize)?;
                Some((e, c, m.distance))
            })
            .collect()
    }

    /// How many fingerprints the bank holds.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.ids.len()).unwrap_or(0)
    }

    /// Whether the bank is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
