//! What the simulator records and counts, as served by the control endpoints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Counters of every platform, by code.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// One entry per platform.
    pub platforms: BTreeMap<String, PlatformStats>,
}

/// One platform's counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlatformStats {
    /// `coop` or `http_json`.
    pub kind: String,
    /// Notices taken: Coop reports created; `http_json` deliveries accepted, repeats included.
    pub received: u64,
    /// Distinct notices: Coop reported item ids; `http_json` webhook ids.
    pub unique: u64,
    /// Coop: reports beyond the first for the same item (Coop has no idempotency key, so
    /// each is a second report).
    pub duplicates: u64,
    /// `http_json`: deliveries whose `webhook-id` had been seen (answered with the same
    /// ticket, not taken again).
    pub repeated_ids: u64,
    /// `http_json`: repeated ids that came with another body than the first time.
    pub repeated_with_other_body: u64,
    /// Notices taken and then answered with a fault (`fail_after_accept`).
    pub accepted_then_failed: u64,
    /// Requests refused, by reason (`unauthorized`, `unsupported_media_type`,
    /// `too_large`, `invalid`, `stale_timestamp`, …).
    pub rejected: BTreeMap<String, u64>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// Coop callbacks sent.
    pub callbacks: CallbackStats,
}

/// Counters of the Coop callbacks one platform sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallbackStats {
    /// Decisions (action or appeal) whose delivery started.
    pub decisions: u64,
    /// HTTP attempts, retries included.
    pub attempts: u64,
    /// Decisions delivered (a 2xx answer).
    pub delivered: u64,
    /// Decisions given up after the last retry.
    pub failed: u64,
    /// Answers by status code, `error` when there was none (refused, reset, timeout).
    pub answers: BTreeMap<String, u64>,
}

/// One notice a platform took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// The id the platform answered: Coop's `reportId`, or the `http_json` ticket.
    pub id: String,
    /// When it was first taken, RFC 3339.
    pub received_at: String,
    /// Coop: `reportedItem.id`.
    pub item_id: Option<String>,
    /// Coop: `reportedItem.typeId`.
    pub item_type_id: Option<String>,
    /// `http_json`: the `webhook-id`.
    pub webhook_id: Option<String>,
    /// Times it arrived: 1 for a Coop report; for `http_json`, 1 plus the repeats.
    pub deliveries: u64,
    /// The first acceptance was answered with a fault.
    pub accepted_then_failed: bool,
    /// The request headers that matter (content type, user agent, webhook headers; never
    /// the API key).
    pub headers: BTreeMap<String, String>,
    /// The body, as JSON.
    pub body: serde_json::Value,
}

/// What happened to one callback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallbackOutcome {
    /// `action` or `appeal`.
    pub kind: String,
    /// Where it was sent.
    pub url: String,
    /// The exact body sent on every attempt.
    pub body: String,
    /// The `Coop-Signature` header sent.
    pub signature: String,
    /// Every attempt in order.
    pub attempts: Vec<Attempt>,
    /// An attempt was answered 2xx.
    pub delivered: bool,
}

/// One HTTP attempt of a callback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The answer's status, if there was one.
    pub status: Option<u16>,
    /// Why there was no answer.
    pub error: Option<String>,
}
