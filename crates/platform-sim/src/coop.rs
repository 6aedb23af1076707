//! Coop's Report API: `POST /coop/{code}/api/v1/report`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::faults::{Answer, inject};
use crate::http_util::{kept_headers, now_rfc3339, read_body};
use crate::records::Received;
use crate::server::ConnControl;
use crate::state::{PlatformKind, Shared};

/// A 4xx in Coop's documented error shape (`docs/api/errors.md`). Only
/// `/errors/invalid-user-input` is documented; the other types are this simulator's.
fn coop_error(status: StatusCode, kind: &str, title: &str, pointer: Option<&str>) -> Answer {
    let mut err = Map::new();
    err.insert("status".into(), json!(status.as_u16()));
    err.insert("type".into(), json!([kind]));
    err.insert("title".into(), json!(title));
    if let Some(p) = pointer {
        err.insert("pointer".into(), json!(p));
    }
    Answer::json(status, &json!({ "errors": [Value::Object(err)] }))
}

/// Where and why a report body is invalid.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) pointer: String,
    pub(crate) title: String,
}

fn invalid(pointer: &str, title: &str) -> Invalid {
    Invalid {
        pointer: pointer.to_owned(),
        title: title.to_owned(),
    }
}

/// The reported item of a valid report.
pub(crate) struct ReportedItem {
    pub(crate) id: String,
    pub(crate) type_id: String,
}

fn string_at<'a>(obj: &'a Map<String, Value>, field: &str, at: &str) -> Result<&'a str, Invalid> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(invalid(&format!("{at}/{field}"), "must not be empty")),
        Some(_) => Err(invalid(&format!("{at}/{field}"), "must be a string")),
        None => Err(invalid(&format!("{at}/{field}"), "is required")),
    }
}

fn optional<'a>(obj: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    obj.get(field).filter(|v| !v.is_null())
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, Invalid> {
    v.as_object()
        .ok_or_else(|| invalid(at, "must be an object"))
}

/// An item with `id`, `typeId` and a `data` object; `strict: false` (thread items) only
/// checks the types of the fields present.
fn item(v: &Value, at: &str, strict: bool) -> Result<(), Invalid> {
    let obj = object(v, at)?;
    for field in ["id", "typeId"] {
        if strict || obj.contains_key(field) {
            string_at(obj, field, at)?;
        }
    }
    match obj.get("data") {
        Some(Value::Object(_)) => {}
        Some(_) => return Err(invalid(&format!("{at}/data"), "must be an object")),
        None if strict => return Err(invalid(&format!("{at}/data"), "is required")),
        None => {}
    }
    Ok(())
}

fn array<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a [Value], Invalid> {
    match optional(obj, field) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(&format!("/{field}"), "must be an array")),
    }
}

/// Checks a report body against Coop's Report API (`docs/api/report.md`).
pub(crate) fn validate(body: &Value) -> Result<ReportedItem, Invalid> {
    let obj = object(body, "")?;

    let reporter = object(
        obj.get("reporter")
            .ok_or_else(|| invalid("/reporter", "is required"))?,
        "/reporter",
    )?;
    if string_at(reporter, "kind", "/reporter")? != "user" {
        return Err(invalid("/reporter/kind", "only \"user\" is supported"));
    }
    string_at(reporter, "typeId", "/reporter")?;
    string_at(reporter, "id", "/reporter")?;

    let at = string_at(obj, "reportedAt", "")?;
    if chrono::DateTime::parse_from_rfc3339(at).is_err() {
        return Err(invalid("/reportedAt", "must be an ISO 8601 date-time"));
    }

    let reported = obj
        .get("reportedItem")
        .ok_or_else(|| invalid("/reportedItem", "is required"))?;
    item(reported, "/reportedItem", true)?;
    let reported = object(reported, "/reportedItem")?;
    let id = string_at(reported, "id", "/reportedItem")?.to_owned();
    let type_id = string_at(reported, "typeId", "/reportedItem")?.to_owned();
    if let Some(images) = reported.get("data").and_then(|d| d.get("images"))
        && !images
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err(invalid(
            "/reportedItem/data/images",
            "must be an array of URL strings",
        ));
    }

    if let Some(reason) = optional(obj, "reportedForReason") {
        let reason = object(reason, "/reportedForReason")?;
        for field in ["policyId", "reason"] {
            if optional(reason, field).is_some_and(|v| !v.is_string()) {
                return Err(invalid(
                    &format!("/reportedForReason/{field}"),
                    "must be a string",
                ));
            }
        }
        if optional(reason, "csam").is_some_and(|v| !v.is_boolean()) {
            return Err(invalid("/reportedForReason/csam", "must be a boolean"));
        }
    }

    for (i, v) in array(obj, "reportedItemThread")?.iter().enumerate() {
        item(v, &format!("/reportedItemThread/{i}"), false)?;
    }
    for (i, v) in array(obj, "reportedItemsInThread")?.iter().enumerate() {
        let at = format!("/reportedItemsInThread/{i}");
        let ident = object(v, &at)?;
        string_at(ident, "id", &at)?;
        string_at(ident, "typeId", &at)?;
    }
    for (i, v) in array(obj, "additionalItems")?.iter().enumerate() {
        item(v, &format!("/additionalItems/{i}"), true)?;
    }
    Ok(ReportedItem { id, type_id })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Compares without stopping at the first difference.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `POST /coop/{code}/api/v1/report`.
pub(crate) async fn report(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    conn: Option<axum::Extension<ConnControl>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let conn = conn.map(|c| c.0);
    let Some(platform) = shared.platform(&code) else {
        return coop_error(
            StatusCode::NOT_FOUND,
            "/errors/not-found",
            "no such platform",
            None,
        )
        .into_response();
    };
    let PlatformKind::Coop { api_key, .. } = &platform.kind else {
        return coop_error(
            StatusCode::NOT_FOUND,
            "/errors/not-found",
            "this platform does not run Coop",
            None,
        )
        .into_response();
    };

    let mut drawn = platform.draw_fault();
    if drawn.as_ref().is_some_and(|d| !d.faults.fail_after_accept)
        && let Some(d) = drawn.take()
    {
        return inject(platform, d, conn.as_ref(), None).await;
    }

    let given = headers
        .get("x-api-key")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same_secret(given, api_key.as_bytes()) {
        platform.count_rejection("unauthorized");
        return coop_error(
            StatusCode::UNAUTHORIZED,
            "/errors/unauthenticated",
            "missing or invalid X-API-KEY",
            None,
        )
        .into_response();
    }
    if !is_json(&headers) {
        platform.count_rejection("unsupported_media_type");
        return coop_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "/errors/unsupported-media-type",
            "Content-Type must be application/json",
            None,
        )
        .into_response();
    }
    let Some(raw) = read_body(body, shared.body_limit).await else {
        platform.count_rejection("too_large");
        return coop_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "/errors/payload-too-large",
            "body too large",
            None,
        )
        .into_response();
    };
    let value: Value = match serde_json::from_slice(&raw) {
        Ok(v) => v,
        Err(_) => {
            platform.count_rejection("invalid");
            return coop_error(
                StatusCode::BAD_REQUEST,
                "/errors/invalid-user-input",
                "malformed JSON",
                None,
            )
            .into_response();
        }
    };
    let item = match validate(&value) {
        Ok(item) => item,
        Err(e) => {
            platform.count_rejection("invalid");
            return coop_error(
                StatusCode::BAD_REQUEST,
                "/errors/invalid-user-input",
                &e.title,
                Some(&e.pointer),
            )
            .into_response();
        }
    };

    let report_id = uuid::Uuid::new_v4().to_string();
    let auto = {
        let mut st = platform.lock();
        let seen = st.by_key.entry(item.id.clone()).or_insert(0);
        *seen += 1;
        let first = *seen == 1;
        st.stats.received += 1;
        if first {
            st.stats.unique += 1;
        } else {
            st.stats.duplicates += 1;
        }
        if drawn.is_some() {
            st.stats.accepted_then_failed += 1;
        }
        st.received.push(Received {
            id: report_id.clone(),
            received_at: now_rfc3339(),
            item_id: Some(item.id),
            item_type_id: Some(item.type_id),
            webhook_id: None,
            deliveries: 1,
            accepted_then_failed: drawn.is_some(),
            headers: kept_headers(&headers, &["content-type", "user-agent"]),
            body: value,
        });
        st.auto_decide.clone()
    };
    shared.changed();
    if let Some(auto) = auto {
        let task_shared = shared.clone();
        let code = platform.code.clone();
        let report_id = report_id.clone();
        shared.spawn_task(async move {
            tokio::time::sleep(auto.delay).await;
            let decision = crate::Decision::for_report(report_id, auto.action_id);
            if let Err(e) = crate::callbacks::decide(&task_shared, &code, decision).await {
                tracing::warn!(error = %e, "automatic decision failed");
            }
        });
    }

    let answer = Answer::json(StatusCode::CREATED, &json!({ "reportId": report_id }));
    match drawn {
        Some(d) => inject(platform, d, conn.as_ref(), Some(answer)).await,
        None => answer.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        json!({
            "reporter": { "kind": "user", "typeId": "helpline", "id": "rempart" },
            "reportedAt": "2026-12-01T10:30:00.000Z",
            "reportedForReason": { "policyId": "p1", "reason": "harassment", "csam": false },
            "reportedItem": { "id": "post-1", "typeId": "post", "data": { "images": ["https://x.example/a.png"] } },
            "reportedItemThread": [ { "id": "m1", "data": { "content": "hi" } } ],
            "reportedItemsInThread": [ { "id": "m1", "typeId": "message" } ],
            "additionalItems": [ { "id": "a1", "typeId": "post", "data": {} } ]
        })
    }

    #[test]
    fn accepts_the_documented_example() {
        assert!(validate(&valid()).is_ok());
    }

    #[test]
    fn points_at_what_is_wrong() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("/reporter", Value::Null, "reporter"),
            ("/reporter/kind", json!("org"), "reporter.kind"),
            ("/reportedAt", json!("yesterday"), "reportedAt"),
            ("/reportedItem/data", json!(null), "reportedItem.data"),
            ("/reportedItem/id", json!(7), "reportedItem.id"),
            (
                "/reportedForReason/csam",
                json!("no"),
                "reportedForReason.csam",
            ),
            (
                "/additionalItems/0/data",
                Value::Null,
                "additionalItems.0.data",
            ),
        ];
        for (pointer, replacement, path) in cases {
            let mut body = valid();
            let mut target = &mut body;
            let parts: Vec<&str> = path.split('.').collect();
            let (last, init) = parts
                .split_last()
                .map(|(l, i)| (*l, i))
                .unwrap_or(("", &[]));
            for p in init {
                target = match p.parse::<usize>() {
                    Ok(i) => &mut target[i],
                    Err(_) => &mut target[*p],
                };
            }
            if replacement.is_null() {
                if let Some(o) = target.as_object_mut() {
                    o.remove(last);
                }
            } else {
                target[last] = replacement;
            }
            let err = validate(&body).err();
            assert_eq!(err.map(|e| e.pointer), Some(pointer.to_owned()), "{path}");
        }
    }
}
