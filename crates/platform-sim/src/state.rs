//! The simulator's shared state: the platforms, what they received, their counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::keys::CoopKeys;
use crate::records::{CallbackOutcome, PlatformStats, Received};
use crate::{AutoDecide, CallbackPolicy, FaultKind, Faults};

/// State shared by the server, the background tasks and the handle.
pub(crate) struct Shared {
    pub(crate) platforms: BTreeMap<String, Platform>,
    pub(crate) body_limit: usize,
    pub(crate) callback_policy: CallbackPolicy,
    pub(crate) http: reqwest::Client,
    /// Bumped on every change, so waiters wake up.
    pub(crate) version: watch::Sender<u64>,
    /// Background work (automatic decisions), aborted at shutdown.
    pub(crate) tasks: Mutex<JoinSet<()>>,
}

impl Shared {
    pub(crate) fn platform(&self, code: &str) -> Option<&Platform> {
        self.platforms.get(code)
    }

    pub(crate) fn changed(&self) {
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(crate) fn spawn_task(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }
}

/// One platform: what never changes, and its mutable state behind a lock that is never
/// held across an await.
pub(crate) struct Platform {
    pub(crate) code: String,
    pub(crate) kind: PlatformKind,
    state: Mutex<PlatformState>,
}

pub(crate) enum PlatformKind {
    Coop {
        api_key: String,
        keys: Arc<CoopKeys>,
    },
    HttpJson {
        key: Vec<u8>,
    },
}

impl PlatformKind {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            PlatformKind::Coop { .. } => "coop",
            PlatformKind::HttpJson { .. } => "http_json",
        }
    }
}

pub(crate) struct PlatformState {
    pub(crate) faults: Faults,
    rng: SplitMix64,
    pub(crate) received: Vec<Received>,
    /// Coop: item id → reports; `http_json`: webhook id → index in `received`.
    pub(crate) by_key: HashMap<String, usize>,
    /// `http_json`: the first body of each webhook id, to spot a repeat with another body.
    pub(crate) first_bodies: HashMap<String, Vec<u8>>,
    pub(crate) stats: PlatformStats,
    pub(crate) callbacks: Vec<CallbackOutcome>,
    pub(crate) callback_url: Option<String>,
    pub(crate) appeal_callback_url: Option<String>,
    pub(crate) auto_decide: Option<AutoDecide>,
}

impl Platform {
    pub(crate) fn new(
        code: String,
        kind: PlatformKind,
        faults: Faults,
        callback_url: Option<String>,
        appeal_callback_url: Option<String>,
        auto_decide: Option<AutoDecide>,
    ) -> Self {
        let stats = PlatformStats {
            kind: kind.name().to_owned(),
            ..PlatformStats::default()
        };
        Platform {
            code,
            kind,
            state: Mutex::new(PlatformState {
                rng: SplitMix64(faults.seed),
                faults,
                received: Vec::new(),
                by_key: HashMap::new(),
                first_bodies: HashMap::new(),
                stats,
                callbacks: Vec::new(),
                callback_url,
                appeal_callback_url,
                auto_decide,
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, PlatformState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Draws the fault, if any, the next request meets.
    pub(crate) fn draw_fault(&self) -> Option<Drawn> {
        let mut st = self.lock();
        let faults = st.faults.clone();
        let kind = if let Some(kind) = faults.always {
            Some(kind)
        } else if faults.fraction > 0.0 && !faults.kinds.is_empty() {
            let roll = st.rng.next_f64();
            if roll < faults.fraction {
                let n = faults.kinds.len() as u64;
                let i = usize::try_from(st.rng.next_u64() % n).unwrap_or(0);
                faults.kinds.get(i).copied()
            } else {
                None
            }
        } else {
            None
        };
        kind.map(|kind| Drawn { kind, faults })
    }

    /// Counts a fault as injected.
    pub(crate) fn count_fault(&self, kind: FaultKind) {
        *self
            .lock()
            .stats
            .faults
            .entry(kind.as_str().to_owned())
            .or_default() += 1;
    }

    /// Counts a refused request.
    pub(crate) fn count_rejection(&self, reason: &str) {
        *self
            .lock()
            .stats
            .rejected
            .entry(reason.to_owned())
            .or_default() += 1;
    }

    /// Replaces the faults and restarts their sequence from the seed.
    pub(crate) fn set_faults(&self, faults: Faults) {
        let mut st = self.lock();
        st.rng = SplitMix64(faults.seed);
        st.faults = faults;
    }
}

/// A fault drawn for a request, with the settings it was drawn under.
pub(crate) struct Drawn {
    pub(crate) kind: FaultKind,
    pub(crate) faults: Faults,
}

/// SplitMix64: small, fast, and the same sequence for a seed on every platform and
/// version (a dependency's generator could change between releases).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
