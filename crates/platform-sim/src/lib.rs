//! Local simulators of online platforms' reporting endpoints, for tests, benchmarks and
//! the demo: real HTTP servers that speak the documented formats and fail on demand.
//!
//! - A platform running ROOST Coop: the Report API (`POST /coop/{code}/api/v1/report`),
//!   and the action and appeal callbacks it sends, signed with `Coop-Signature`.
//! - A platform taking JSON notices signed per Standard Webhooks 1.0
//!   (`POST /http-json/{code}/notices`).
//! - Faults per platform (5xx, 429, timeouts, connection resets, slow bodies, taking a
//!   notice and failing anyway), drawn from a seeded sequence so runs are reproducible.
//! - A platform integrated with Rempart's partner API ([`partner`]): it polls
//!   `/partner/v1` with its key (and takes Rempart's signed webhooks, refusing replays),
//!   fetches, acknowledges and decides its notices.
//! - Control endpoints under `/control` to read what was received and counted, set faults
//!   and trigger decisions.
//!
//! Start one with [`spawn`] on a listener (port 0 in tests) and stop it with
//! [`SimHandle::shutdown`].

#![warn(missing_docs)]

mod callbacks;
mod config;
mod control;
mod coop;
mod faults;
mod http_json;
mod http_util;
mod keys;
pub mod mailbox;
pub mod partner;
mod records;
mod server;
mod state;
mod webhooks;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use callbacks::{
    AppealDecision, AppealVerdict, Decision, ItemIdentifier, Penalty, Policy, Rule, Target,
};
pub use config::{
    AutoDecide, CallbackPolicy, CoopConfig, CoopKey, FaultKind, Faults, SimConfig, SimKind,
    SimPlatform,
};
pub use records::{Attempt, CallbackOutcome, CallbackStats, PlatformStats, Received, Stats};
pub use webhooks::{TOLERANCE_SECS, WebhookError, sign_standard_webhook, verify_standard_webhook};

use state::{Platform, PlatformKind, Shared};

/// Why the simulator could not start or do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No platform has this code.
    #[error("no platform {0:?}")]
    UnknownPlatform(String),
    /// Two platforms share a code, or a code has characters other than ASCII letters,
    /// digits, `-` and `_`.
    #[error("invalid or repeated platform code {0:?}")]
    BadCode(String),
    /// The platform does not run Coop.
    #[error("platform {0:?} does not run Coop")]
    NotCoop(String),
    /// The Coop platform has no callback URL for this kind of decision.
    #[error("platform {0:?} has no callback URL for this decision")]
    NoCallbackUrl(String),
    /// No report matches the decision's target.
    #[error("no report matches {0}")]
    UnknownReport(String),
    /// The faults make no sense.
    #[error("invalid faults: {0}")]
    InvalidFaults(String),
    /// A webhook secret is not `whsec_<base64>`.
    #[error("platform {0:?}: {1}")]
    Secret(String, WebhookError),
    /// A signing key could not be generated, decoded or used.
    #[error("key: {0}")]
    Key(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(String),
    /// The listener has no local address.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// [`SimHandle::wait_for`] gave up.
    #[error("the awaited condition did not happen in time")]
    Timeout,
}

impl SimError {
    /// A stable snake_case code, for the control endpoints' answers.
    pub fn code(&self) -> &'static str {
        match self {
            SimError::UnknownPlatform(_) => "unknown_platform",
            SimError::BadCode(_) => "bad_code",
            SimError::NotCoop(_) => "not_coop",
            SimError::NoCallbackUrl(_) => "no_callback_url",
            SimError::UnknownReport(_) => "unknown_report",
            SimError::InvalidFaults(_) => "invalid_faults",
            SimError::Secret(..) => "bad_secret",
            SimError::Key(_) => "key",
            SimError::Client(_) => "client",
            SimError::Io(_) => "io",
            SimError::Timeout => "timeout",
        }
    }
}

/// A running simulator. Dropping it without [`SimHandle::shutdown`] leaves the server
/// running until the runtime stops.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Starts the simulator on `listener`: checks the configuration, prepares the Coop
/// platforms' keys (generated in parallel, off the async threads), then serves until
/// [`SimHandle::shutdown`].
pub async fn spawn(config: SimConfig, listener: TcpListener) -> Result<SimHandle, SimError> {
    let addr = listener.local_addr()?;
    let mut codes = HashSet::new();
    for p in &config.platforms {
        if !valid_code(&p.code) || !codes.insert(p.code.clone()) {
            return Err(SimError::BadCode(p.code.clone()));
        }
        p.faults.check().map_err(SimError::InvalidFaults)?;
    }

    let mut key_jobs = JoinSet::new();
    for (i, p) in config.platforms.iter().enumerate() {
        if let SimKind::Coop(c) = &p.kind {
            let source = c.key.clone();
            key_jobs.spawn_blocking(move || (i, keys::CoopKeys::load(&source)));
        }
    }
    let mut loaded = BTreeMap::new();
    while let Some(done) = key_jobs.join_next().await {
        let (i, keys) = done.map_err(|e| SimError::Key(e.to_string()))?;
        loaded.insert(i, Arc::new(keys?));
    }

    let mut platforms = BTreeMap::new();
    for (i, p) in config.platforms.into_iter().enumerate() {
        let platform = match p.kind {
            SimKind::Coop(c) => {
                let keys = loaded
                    .remove(&i)
                    .ok_or_else(|| SimError::Key("missing key".to_owned()))?;
                Platform::new(
                    p.code.clone(),
                    PlatformKind::Coop {
                        api_key: c.api_key,
                        keys,
                    },
                    p.faults,
                    c.callback_url,
                    c.appeal_callback_url,
                    c.auto_decide,
                )
            }
            SimKind::HttpJson { webhook_secret } => {
                let key = webhooks::secret_key(&webhook_secret)
                    .map_err(|e| SimError::Secret(p.code.clone(), e))?;
                Platform::new(
                    p.code.clone(),
                    PlatformKind::HttpJson { key },
                    p.faults,
                    None,
                    None,
                    None,
                )
            }
        };
        platforms.insert(p.code, platform);
    }

    let http = reqwest::Client::builder()
        .user_agent("Coop-Simulator")
        .build()
        .map_err(|e| SimError::Client(e.to_string()))?;
    let shared = Arc::new(Shared {
        platforms,
        body_limit: config.body_limit,
        callback_policy: config.callbacks,
        http,
        version: watch::Sender::new(0),
        tasks: Mutex::new(JoinSet::new()),
    });

    let router = router(shared.clone());
    let (stop, stop_rx) = watch::channel(false);
    let server = tokio::spawn(server::serve(listener, router, stop_rx));
    Ok(SimHandle {
        addr,
        shared,
        stop,
        server,
    })
}

fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.body_limit;
    Router::new()
        .route("/coop/{code}/api/v1/report", post(coop::report))
        .route("/http-json/{code}/notices", post(http_json::notice))
        .route("/control/stats", get(control::stats))
        .route("/control/{code}/reports", get(control::reports))
        .route(
            "/control/{code}/faults",
            get(control::get_faults).post(control::set_faults),
        )
        .route("/control/coop/{code}/decide", post(control::decide))
        .route(
            "/control/coop/{code}/appeal-decide",
            post(control::appeal_decide),
        )
        .route("/control/coop/{code}/callbacks", get(control::callbacks))
        .route("/control/coop/{code}/public-key", get(control::public_key))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(shared)
}

pub(crate) fn stats_of(shared: &Shared) -> Stats {
    Stats {
        platforms: shared
            .platforms
            .iter()
            .map(|(code, p)| (code.clone(), p.lock().stats.clone()))
            .collect(),
    }
}

pub(crate) fn set_faults_of(shared: &Shared, code: &str, faults: Faults) -> Result<(), SimError> {
    faults.check().map_err(SimError::InvalidFaults)?;
    let platform = shared
        .platform(code)
        .ok_or_else(|| SimError::UnknownPlatform(code.to_owned()))?;
    platform.set_faults(faults);
    shared.changed();
    Ok(())
}

impl SimHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of a Coop platform's API: reports go to `<this>/api/v1/report`.
    pub fn coop_base_url(&self, code: &str) -> String {
        format!("{}/coop/{code}", self.base_url())
    }

    /// Where an `http_json` platform takes notices.
    pub fn http_json_url(&self, code: &str) -> String {
        format!("{}/http-json/{code}/notices", self.base_url())
    }

    /// Every platform's counters now.
    pub fn stats(&self) -> Stats {
        stats_of(&self.shared)
    }

    /// What a platform took, in arrival order.
    pub fn received(&self, code: &str) -> Option<Vec<Received>> {
        self.shared
            .platform(code)
            .map(|p| p.lock().received.clone())
    }

    /// The callbacks a Coop platform sent, automatic decisions included.
    pub fn callbacks(&self, code: &str) -> Option<Vec<CallbackOutcome>> {
        self.shared
            .platform(code)
            .map(|p| p.lock().callbacks.clone())
    }

    /// Replaces a platform's faults and restarts their sequence from the seed.
    pub fn set_faults(&self, code: &str, faults: Faults) -> Result<(), SimError> {
        set_faults_of(&self.shared, code, faults)
    }

    /// Changes where a Coop platform sends its callbacks (e.g. once the receiver's port
    /// is known).
    pub fn set_coop_callbacks(
        &self,
        code: &str,
        callback_url: Option<String>,
        appeal_callback_url: Option<String>,
    ) -> Result<(), SimError> {
        let platform = self
            .shared
            .platform(code)
            .ok_or_else(|| SimError::UnknownPlatform(code.to_owned()))?;
        if !matches!(platform.kind, PlatformKind::Coop { .. }) {
            return Err(SimError::NotCoop(code.to_owned()));
        }
        let mut st = platform.lock();
        st.callback_url = callback_url;
        st.appeal_callback_url = appeal_callback_url;
        Ok(())
    }

    /// Changes a Coop platform's automatic decision.
    pub fn set_auto_decide(&self, code: &str, auto: Option<AutoDecide>) -> Result<(), SimError> {
        let platform = self
            .shared
            .platform(code)
            .ok_or_else(|| SimError::UnknownPlatform(code.to_owned()))?;
        if !matches!(platform.kind, PlatformKind::Coop { .. }) {
            return Err(SimError::NotCoop(code.to_owned()));
        }
        platform.lock().auto_decide = auto;
        Ok(())
    }

    /// A moderator's action: POSTs the signed action callback, retrying failures, and
    /// returns every attempt once delivered or given up.
    pub async fn decide(
        &self,
        code: &str,
        decision: Decision,
    ) -> Result<CallbackOutcome, SimError> {
        callbacks::decide(&self.shared, code, decision).await
    }

    /// A decision on an appeal: POSTs the signed appeal callback like [`SimHandle::decide`].
    pub async fn decide_appeal(
        &self,
        code: &str,
        appeal: AppealDecision,
    ) -> Result<CallbackOutcome, SimError> {
        callbacks::decide_appeal(&self.shared, code, appeal).await
    }

    /// A Coop platform's public key, SPKI PEM (`BEGIN PUBLIC KEY`).
    pub fn coop_public_key_pem(&self, code: &str) -> Option<String> {
        match &self.shared.platform(code)?.kind {
            PlatformKind::Coop { keys, .. } => Some(keys.public_pem().to_owned()),
            PlatformKind::HttpJson { .. } => None,
        }
    }

    /// Waits until `done` holds for the counters, at most `timeout`; returns them.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&Stats) -> bool,
    ) -> Result<Stats, SimError> {
        let mut changes = self.shared.version.subscribe();
        let wait = async {
            loop {
                let stats = self.stats();
                if done(&stats) {
                    return stats;
                }
                if changes.changed().await.is_err() {
                    // cannot happen while `self` holds the sender; check once more
                    return self.stats();
                }
            }
        };
        let stats = tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| SimError::Timeout)?;
        if done(&stats) {
            Ok(stats)
        } else {
            Err(SimError::Timeout)
        }
    }

    /// Stops serving: closes the listener and every connection (requests held by a
    /// fault included) and aborts pending automatic decisions.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let mut tasks = {
            let mut guard = self
                .shared
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::take(&mut *guard)
        };
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}
