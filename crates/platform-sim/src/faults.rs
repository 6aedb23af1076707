//! The answers of a faulted request.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use crate::FaultKind;
use crate::server::ConnControl;
use crate::state::{Drawn, Platform};

/// The answer the platform would have given had it not failed.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Answer {
            status,
            body: value.to_string().into_bytes(),
        }
    }

    pub(crate) fn into_response(self) -> Response {
        json_response(self.status, self.body)
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::json!({ "error": code, "message": message })
        .to_string()
        .into_bytes()
}

/// Answers with the drawn fault and counts it. `taken` is the answer of a notice already
/// taken (`fail_after_accept`): a slow body then dribbles it instead of an error.
pub(crate) async fn inject(
    platform: &Platform,
    drawn: Drawn,
    conn: Option<&ConnControl>,
    taken: Option<Answer>,
) -> Response {
    let Drawn { kind, faults } = drawn;
    platform.count_fault(kind);
    match kind {
        FaultKind::InternalError => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_body("internal_error", "simulated failure"),
        ),
        FaultKind::BadGateway => json_response(
            StatusCode::BAD_GATEWAY,
            error_body("bad_gateway", "simulated failure"),
        ),
        FaultKind::ServiceUnavailable => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            error_body("service_unavailable", "simulated failure"),
        ),
        FaultKind::TooManyRequests => {
            let mut res = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                error_body("too_many_requests", "simulated rate limit"),
            );
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(faults.retry_after_secs),
            );
            res
        }
        FaultKind::Timeout => {
            tokio::time::sleep(Duration::from_millis(faults.hold_ms)).await;
            json_response(
                StatusCode::GATEWAY_TIMEOUT,
                error_body("timeout", "simulated timeout"),
            )
        }
        FaultKind::Reset => match conn {
            Some(conn) => {
                conn.reset();
                // the connection task drops this request with its connection
                std::future::pending::<Response>().await
            }
            None => json_response(
                StatusCode::BAD_GATEWAY,
                error_body("bad_gateway", "reset unavailable"),
            ),
        },
        FaultKind::SlowBody => {
            let answer = taken.unwrap_or_else(|| Answer {
                status: StatusCode::SERVICE_UNAVAILABLE,
                body: error_body("service_unavailable", "simulated failure, slowly"),
            });
            slow(answer, Duration::from_millis(faults.slow_body_ms))
        }
    }
}

/// The status and headers at once (with the full `Content-Length`), then the body in
/// ten pieces spread over `total`.
fn slow(answer: Answer, total: Duration) -> Response {
    const PIECES: usize = 10;
    let len = answer.body.len();
    let piece = len.div_ceil(PIECES).max(1);
    let pause = total / u32::try_from(PIECES).unwrap_or(10);
    let chunks: Vec<Bytes> = answer
        .body
        .chunks(piece)
        .map(Bytes::copy_from_slice)
        .collect();
    let stream = futures_util::stream::unfold(chunks.into_iter(), move |mut rest| async move {
        let next = rest.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<_, std::io::Error>(next), rest))
    });
    let mut res = Response::new(Body::from_stream(stream));
    *res.status_mut() = answer.status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    res
}
