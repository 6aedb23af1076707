//! A receiver of notices pushed as JSON and signed per Standard Webhooks:
//! `POST /http-json/{code}/notices`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::faults::{Answer, inject};
use crate::http_util::{header_str, kept_headers, now_rfc3339, now_unix, read_body};
use crate::records::Received;
use crate::server::ConnControl;
use crate::state::{PlatformKind, Shared};
use crate::webhooks::{WebhookError, verify_with_key};

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    Answer::json(status, &json!({ "error": code, "message": message })).into_response()
}

/// `POST /http-json/{code}/notices`.
pub(crate) async fn notice(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    conn: Option<axum::Extension<ConnControl>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let conn = conn.map(|c| c.0);
    let Some(platform) = shared.platform(&code) else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_platform",
            "no such platform",
        );
    };
    let PlatformKind::HttpJson { key } = &platform.kind else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_platform",
            "this platform does not take http_json notices",
        );
    };

    let mut drawn = platform.draw_fault();
    if drawn.as_ref().is_some_and(|d| !d.faults.fail_after_accept)
        && let Some(d) = drawn.take()
    {
        return inject(platform, d, conn.as_ref(), None).await;
    }

    let Some(raw) = read_body(body, shared.body_limit).await else {
        platform.count_rejection("too_large");
        return error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "body too large");
    };
    let id = header_str(&headers, "webhook-id");
    if let Err(e) = verify_with_key(
        key,
        id,
        header_str(&headers, "webhook-timestamp"),
        header_str(&headers, "webhook-signature"),
        &raw,
        now_unix(),
    ) {
        let reason = match e {
            WebhookError::StaleTimestamp => "stale_timestamp",
            _ => "unauthorized",
        };
        platform.count_rejection(reason);
        return error(StatusCode::UNAUTHORIZED, e.code(), &e.to_string());
    }
    let value: Value = match serde_json::from_slice(&raw) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            platform.count_rejection("invalid");
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "the body must be a JSON object",
            );
        }
    };

    let ticket = {
        let mut st = platform.lock();
        st.stats.received += 1;
        let known = st.by_key.get(id).copied();
        let ticket = match known {
            Some(i) => {
                st.stats.repeated_ids += 1;
                if st.first_bodies.get(id).is_some_and(|b| b[..] != raw[..]) {
                    st.stats.repeated_with_other_body += 1;
                }
                match st.received.get_mut(i) {
                    Some(r) => {
                        r.deliveries += 1;
                        r.id.clone()
                    }
                    None => String::new(),
                }
            }
            None => {
                let ticket = uuid::Uuid::now_v7().to_string();
                st.stats.unique += 1;
                let index = st.received.len();
                st.by_key.insert(id.to_owned(), index);
                st.first_bodies.insert(id.to_owned(), raw.to_vec());
                st.received.push(Received {
                    id: ticket.clone(),
                    received_at: now_rfc3339(),
                    item_id: None,
                    item_type_id: None,
                    webhook_id: Some(id.to_owned()),
                    deliveries: 1,
                    accepted_then_failed: drawn.is_some(),
                    headers: kept_headers(
                        &headers,
                        &[
                            "content-type",
                            "user-agent",
                            "webhook-id",
                            "webhook-timestamp",
                            "webhook-signature",
                        ],
                    ),
                    body: value,
                });
                ticket
            }
        };
        if drawn.is_some() {
            st.stats.accepted_then_failed += 1;
        }
        ticket
    };
    shared.changed();

    let answer = Answer::json(StatusCode::ACCEPTED, &json!({ "ticket": ticket }));
    match drawn {
        Some(d) => inject(platform, d, conn.as_ref(), Some(answer)).await,
        None => answer.into_response(),
    }
}
