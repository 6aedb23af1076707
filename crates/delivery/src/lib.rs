//! The outbound HTTP side of notice delivery, and the inbound signature checks.
//!
//! - [`Deliverer`]: one HTTP client (rustls with ring, redirects refused, timeouts, no
//!   proxy) that sends a Coop report
//!   ([`Deliverer::send_coop_report`]) or a Standard Webhooks push
//!   ([`Deliverer::send_http_json`]) and says what happened as an [`Outcome`]:
//!   delivered, transient (retry later) or permanent (a person must look).
//! - [`Endpoint`] and [`check_item_url`]: which URLs Rempart sends to, and which item URLs
//!   it accepts from counsellors.
//! - [`sign_webhook`] / [`verify_webhook`]: Standard Webhooks 1.0 signatures.
//! - [`CoopKey`] / [`verify_coop_signature`]: the `Coop-Signature` of Coop's callbacks.
//!
//! It knows nothing of storage: it takes bytes and endpoints. Nothing it logs carries a
//! body, a key, a secret or a URL path: only the host, the outcome class, the reason code
//! and the status.

#![warn(missing_docs)]

mod client;
mod coop;
mod coop_signature;
mod endpoint;
mod outcome;
mod webhooks;

pub use client::{BuildError, DEFAULT_ANSWER_LIMIT, Deliverer, DelivererConfig, USER_AGENT};
pub use coop::{COOP_REPORT_PATH, CoopItem, CoopItemRef, CoopReason, CoopReport, CoopReporter};
pub use coop_signature::{CoopKey, MIN_RSA_BITS, SignatureProblem, verify_coop_signature};
pub use endpoint::{
    Endpoint, EndpointPolicy, EndpointProblem, MAX_ITEM_URL_LEN, UrlProblem, check_item_url,
    public_ip,
};
pub use outcome::{AtPlatform, MAX_RETRY_AFTER, Outcome, parse_retry_after};
pub use webhooks::{
    MIN_SECRET_BYTES, WEBHOOK_TOLERANCE_SECS, WebhookProblem, sign_webhook, verify_webhook,
};
