//! ROOST Coop's Report API: `POST {base}/api/v1/report` with `X-API-KEY`.
//!
//! Coop has no idempotency key: every POST it takes is a new report. A retry after a
//! transient outcome with `maybe_delivered` may therefore create a second report of the
//! same item; the caller decides whether to retry (Coop counts it as another report of
//! the item, which its reviewers see side by side).

use http::HeaderMap;
use serde::Serialize;

use crate::client::{Deliverer, header};
use crate::outcome::{ConflictMeans, Outcome};
use crate::webhooks::receipt_value;

/// The path of the Report API under a platform's Coop base URL.
pub const COOP_REPORT_PATH: &str = "api/v1/report";

fn coop_receipt(answer: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(answer).ok()?;
    v.get("reportId").and_then(receipt_value)
}

impl Deliverer {
    /// Submits a report to a platform running Coop: `POST {endpoint_base}/api/v1/report`
    /// with `X-API-KEY: <api_key>` and `Content-Type: application/json`; `body` is sent as
    /// is (see [`CoopReport`]).
    ///
    /// Any 2xx is delivered: Coop's `report.md` documents `201 {"reportId": "…"}` (the
    /// receipt), its `errors.md` lists `204` for report submissions. A `409` is a refusal
    /// like other 4xx: Coop has no idempotency key, so it cannot mean "already received".
    pub async fn send_coop_report(
        &self,
        endpoint_base: &str,
        api_key: &str,
        body: &[u8],
    ) -> Outcome {
        let endpoint = match self.endpoint(endpoint_base) {
            Ok(e) => e.join(COOP_REPORT_PATH),
            Err(o) => return o,
        };
        let mut headers = HeaderMap::new();
        let Some((name, mut key)) = header("x-api-key", api_key) else {
            return Outcome::permanent("invalid_api_key");
        };
        key.set_sensitive(true);
        headers.insert(name, key);
        if let Some((name, value)) = header("content-type", "application/json") {
            headers.insert(name, value);
        }
        self.post(
            &endpoint,
            headers,
            body.to_vec(),
            ConflictMeans::Refusal,
            coop_receipt,
        )
        .await
    }
}

/// A Coop report, serialised as the Report API wants it (`docs/api/report.md` in
/// `roostorg/coop`). The type ids and the reporter id are the platform's configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoopReport {
    /// Who reports: for Rempart, the helpline's account at the platform.
    pub reporter: CoopReporter,
    /// When it was reported, ISO 8601 in UTC with milliseconds.
    #[serde(serialize_with = "rfc3339_millis")]
    pub reported_at: chrono::DateTime<chrono::Utc>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_for_reason: Option<CoopReason>,
    /// The reported item.
    pub reported_item: CoopItem,
    /// Other items of the same thread, for context.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reported_item_thread: Vec<CoopItem>,
    /// The items of the thread that are specifically reported.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reported_items_in_thread: Vec<CoopItemRef>,
    /// Other content shown beside the report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_items: Vec<CoopItem>,
}

impl CoopReport {
    /// A report of `item` by `reporter` at `reported_at`, with nothing optional.
    pub fn new(
        reporter: CoopReporter,
        reported_at: chrono::DateTime<chrono::Utc>,
        item: CoopItem,
    ) -> Self {
        CoopReport {
            reporter,
            reported_at,
            reported_for_reason: None,
            reported_item: item,
            reported_item_thread: Vec::new(),
            reported_items_in_thread: Vec::new(),
            additional_items: Vec::new(),
        }
    }

    /// The same report with a reason.
    pub fn with_reason(mut self, reason: CoopReason) -> Self {
        self.reported_for_reason = Some(reason);
        self
    }

    /// The same report with one more context item.
    pub fn with_additional_item(mut self, item: CoopItem) -> Self {
        self.additional_items.push(item);
        self
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        // a struct of strings, maps and vectors always serialises
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn rfc3339_millis<S: serde::Serializer>(
    at: &chrono::DateTime<chrono::Utc>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// `reporter`: `{ "kind": "user", "typeId", "id" }` (`user` is the only kind Coop has).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoopReporter {
    kind: &'static str,
    /// The item type id of the reporting user.
    pub type_id: String,
    /// The reporting user's id.
    pub id: String,
}

impl CoopReporter {
    /// A reporting user.
    pub fn user(type_id: impl Into<String>, id: impl Into<String>) -> Self {
        CoopReporter {
            kind: "user",
            type_id: type_id.into(),
            id: id.into(),
        }
    }
}

/// `reportedForReason`: every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoopReason {
    /// The violated policy's id at the platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Free text (never the victim's identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `true` routes the report to Coop's NCMEC queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csam: Option<bool>,
}

/// An item: `{ "id", "typeId", "data" }`, `data` conforming to the platform's item type
/// (`data.images` may list image URLs Coop hashes).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoopItem {
    /// The platform's id of the item.
    pub id: String,
    /// Its item type id.
    pub type_id: String,
    /// Its fields.
    pub data: serde_json::Value,
}

/// An item identifier: `{ "id", "typeId" }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoopItemRef {
    /// The platform's id of the item.
    pub id: String,
    /// Its item type id.
    pub type_id: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn serialises_like_the_report_api() {
        let at = chrono::DateTime::from_timestamp_millis(1_796_121_000_000).unwrap_or_default();
        let report = CoopReport::new(
            CoopReporter::user("helpline-type", "rempart-helpline"),
            at,
            CoopItem {
                id: "video-123".into(),
                type_id: "video".into(),
                data: serde_json::json!({ "url": "https://www.tiktok.com/@x/video/123" }),
            },
        )
        .with_reason(CoopReason {
            policy_id: Some("policy-1".into()),
            reason: Some("explanation".into()),
            csam: Some(false),
        });
        let v: serde_json::Value = serde_json::from_slice(&report.to_json()).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({
                "reporter": { "kind": "user", "typeId": "helpline-type", "id": "rempart-helpline" },
                "reportedAt": "2026-12-01T10:30:00.000Z",
                "reportedForReason": { "policyId": "policy-1", "reason": "explanation", "csam": false },
                "reportedItem": {
                    "id": "video-123",
                    "typeId": "video",
                    "data": { "url": "https://www.tiktok.com/@x/video/123" }
                }
            })
        );
    }

    #[test]
    fn receipts() {
        assert_eq!(
            coop_receipt(br#"{"reportId":"r-1"}"#),
            Some("r-1".to_owned())
        );
        assert_eq!(coop_receipt(br#"{"id":"r-1"}"#), None);
        assert_eq!(coop_receipt(b""), None);
    }
}
