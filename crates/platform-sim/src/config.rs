//! What a simulator is started with: the platforms, their kind, their faults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything [`crate::spawn`] needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The simulated platforms; their codes must be unique.
    pub platforms: Vec<SimPlatform>,
    /// Largest request body accepted on any endpoint; a larger one is answered 413.
    pub body_limit: usize,
    /// How action and appeal callbacks are delivered.
    pub callbacks: CallbackPolicy,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            platforms: Vec::new(),
            body_limit: 1024 * 1024,
            callbacks: CallbackPolicy::default(),
        }
    }
}

impl SimConfig {
    /// A configuration with these platforms and the default limits.
    pub fn with_platforms(platforms: Vec<SimPlatform>) -> Self {
        SimConfig {
            platforms,
            ..SimConfig::default()
        }
    }
}

/// Delivery of Coop callbacks: retries after a failure (any answer other than 2xx, or no
/// answer), with a delay doubling from `first_backoff`.
#[derive(Clone, Debug)]
pub struct CallbackPolicy {
    /// Retries after the first attempt (Coop: up to five).
    pub retries: u32,
    /// Delay before the first retry; each later retry waits twice as long as the previous.
    pub first_backoff: Duration,
    /// Time allowed for one attempt.
    pub timeout: Duration,
}

impl Default for CallbackPolicy {
    fn default() -> Self {
        CallbackPolicy {
            retries: 5,
            first_backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One simulated platform.
#[derive(Clone, Debug)]
pub struct SimPlatform {
    /// The platform's code in URLs, e.g. `snapchat`: ASCII letters, digits, `-` and `_`.
    pub code: String,
    /// Which reporting endpoint it offers.
    pub kind: SimKind,
    /// The faults it injects from the start.
    pub faults: Faults,
}

impl SimPlatform {
    /// A platform running ROOST Coop that accepts reports with `api_key`, without callbacks.
    pub fn coop(code: impl Into<String>, api_key: impl Into<String>) -> Self {
        SimPlatform {
            code: code.into(),
            kind: SimKind::Coop(CoopConfig::new(api_key)),
            faults: Faults::default(),
        }
    }

    /// A platform receiving JSON notices signed per Standard Webhooks with `webhook_secret`
    /// (`whsec_` followed by the base64 of the key).
    pub fn http_json(code: impl Into<String>, webhook_secret: impl Into<String>) -> Self {
        SimPlatform {
            code: code.into(),
            kind: SimKind::HttpJson {
                webhook_secret: webhook_secret.into(),
            },
            faults: Faults::default(),
        }
    }

    /// The same platform with these faults.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }
}

/// The reporting endpoint a platform offers.
#[derive(Clone, Debug)]
pub enum SimKind {
    /// ROOST Coop's Report API, and its action and appeal callbacks.
    Coop(CoopConfig),
    /// A receiver of JSON notices signed per Standard Webhooks 1.0.
    HttpJson {
        /// `whsec_` followed by the base64 of the HMAC key.
        webhook_secret: String,
    },
}

/// A Coop platform's settings.
#[derive(Clone, Debug)]
pub struct CoopConfig {
    /// The value the `X-API-KEY` header must carry.
    pub api_key: String,
    /// Where action callbacks are sent.
    pub callback_url: Option<String>,
    /// Where appeal decision callbacks are sent.
    pub appeal_callback_url: Option<String>,
    /// Decide every report on its own after a delay.
    pub auto_decide: Option<AutoDecide>,
    /// The key pair that signs callbacks.
    pub key: CoopKey,
}

impl CoopConfig {
    /// Settings with this API key, no callback, and a freshly generated key pair.
    pub fn new(api_key: impl Into<String>) -> Self {
        CoopConfig {
            api_key: api_key.into(),
            callback_url: None,
            appeal_callback_url: None,
            auto_decide: None,
            key: CoopKey::Generate,
        }
    }
}

/// An automatic decision: `delay` after a report is taken, the action `action_id` is
/// sent to the callback URL.
#[derive(Clone, Debug)]
pub struct AutoDecide {
    /// Time between taking the report and deciding it.
    pub delay: Duration,
    /// The Coop action id sent in the callback.
    pub action_id: String,
}

/// Where a Coop platform's RSA-2048 signing key comes from.
///
/// Generating one takes about a second in a debug build, so tests and the demo share one
/// key per process.
#[derive(Clone, Debug)]
pub enum CoopKey {
    /// A new key for this platform, generated at start.
    Generate,
    /// One key generated the first time it is asked for and shared by every platform of
    /// the process that asks for it.
    SharedPerProcess,
    /// This private key, PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    Pkcs8Pem(String),
}

/// One kind of failure a platform can answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// `500 Internal Server Error`.
    InternalError,
    /// `502 Bad Gateway`.
    BadGateway,
    /// `503 Service Unavailable`.
    ServiceUnavailable,
    /// `429 Too Many Requests` with `Retry-After: <retry_after_secs>`.
    TooManyRequests,
    /// No answer for `hold_ms`, then `504 Gateway Timeout`.
    Timeout,
    /// The TCP connection is reset without any HTTP answer.
    Reset,
    /// The status line and headers at once, then the body dribbled over `slow_body_ms`.
    SlowBody,
}

impl FaultKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::InternalError,
        FaultKind::BadGateway,
        FaultKind::ServiceUnavailable,
        FaultKind::TooManyRequests,
        FaultKind::Timeout,
        FaultKind::Reset,
        FaultKind::SlowBody,
    ];

    /// The snake_case name used in JSON and in the statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::InternalError => "internal_error",
            FaultKind::BadGateway => "bad_gateway",
            FaultKind::ServiceUnavailable => "service_unavailable",
            FaultKind::TooManyRequests => "too_many_requests",
            FaultKind::Timeout => "timeout",
            FaultKind::Reset => "reset",
            FaultKind::SlowBody => "slow_body",
        }
    }
}

/// The faults a platform injects into the requests it receives on its reporting endpoint
/// (the control endpoints are never faulted).
///
/// Each request draws from a pseudo-random sequence seeded with `seed` (reset whenever
/// the faults are set): with probability `fraction` it fails with one of `kinds`, chosen
/// uniformly. Requests sent one after another therefore meet the same faults on every
/// run; concurrent requests draw in the order they arrive.
///
/// A faulted request is not taken: nothing is recorded, unless `fail_after_accept` is on,
/// in which case the notice is validated and recorded first and the fault replaces the
/// answer (a rejected request is then answered normally, without fault).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share of requests that fail, from 0 to 1.
    pub fraction: f64,
    /// Seed of the sequence deciding which requests fail and how.
    pub seed: u64,
    /// The mix of kinds a failing request picks from.
    pub kinds: Vec<FaultKind>,
    /// Every request fails with this kind, whatever `fraction` says.
    pub always: Option<FaultKind>,
    /// Take the notice, then fail: the platform has it but the sender never learns.
    pub fail_after_accept: bool,
    /// Coop only: sign callbacks with another key than the published one.
    pub wrong_signature: bool,
    /// Seconds announced in `Retry-After` with a 429.
    pub retry_after_secs: u64,
    /// How long a `timeout` fault holds the request before answering 504.
    pub hold_ms: u64,
    /// How long a `slow_body` fault takes to send its body.
    pub slow_body_ms: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            fraction: 0.0,
            seed: 0,
            kinds: FaultKind::ALL.to_vec(),
            always: None,
            fail_after_accept: false,
            wrong_signature: false,
            retry_after_secs: 1,
            hold_ms: 30_000,
            slow_body_ms: 5_000,
        }
    }
}

impl Faults {
    /// No fault at all.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Every request fails with `kind`.
    pub fn always(kind: FaultKind) -> Self {
        Faults {
            always: Some(kind),
            ..Faults::default()
        }
    }

    /// A share `fraction` of requests fails with one of `kinds`, drawn from `seed`.
    pub fn fraction(fraction: f64, seed: u64, kinds: &[FaultKind]) -> Self {
        Faults {
            fraction,
            seed,
            kinds: kinds.to_vec(),
            ..Faults::default()
        }
    }

    /// Checks the values make sense.
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.fraction) {
            return Err(format!("fraction {} is not between 0 and 1", self.fraction));
        }
        if self.fraction > 0.0 && self.kinds.is_empty() {
            return Err("a fraction above 0 needs at least one kind".to_owned());
        }
        Ok(())
    }
}
