//! The control endpoints under `/control`: statistics, what was received, faults,
//! decisions, public keys. They are never faulted.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::callbacks::{AppealDecision, Decision};
use crate::state::{PlatformKind, Shared};
use crate::{Faults, SimError};

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

fn sim_error(e: &SimError) -> Response {
    let status = match e {
        SimError::UnknownPlatform(_) | SimError::UnknownReport(_) => StatusCode::NOT_FOUND,
        SimError::NotCoop(_) | SimError::NoCallbackUrl(_) | SimError::InvalidFaults(_) => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e.code(), &e.to_string())
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(body)
}

fn bad_body(e: &serde_json::Error) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_body", &e.to_string())
}

/// `GET /control/stats`.
pub(crate) async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(crate::stats_of(&shared)).into_response()
}

/// `GET /control/{code}/reports`.
pub(crate) async fn reports(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
) -> Response {
    match shared.platform(&code) {
        Some(p) => Json(json!({ "reports": p.lock().received })).into_response(),
        None => sim_error(&SimError::UnknownPlatform(code)),
    }
}

/// `GET /control/{code}/faults`.
pub(crate) async fn get_faults(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
) -> Response {
    match shared.platform(&code) {
        Some(p) => Json(p.lock().faults.clone()).into_response(),
        None => sim_error(&SimError::UnknownPlatform(code)),
    }
}

/// `POST /control/{code}/faults`: replaces the faults (fields left out take their
/// defaults).
pub(crate) async fn set_faults(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let faults: Faults = match parse(&body) {
        Ok(f) => f,
        Err(e) => return bad_body(&e),
    };
    match crate::set_faults_of(&shared, &code, faults.clone()) {
        Ok(()) => Json(faults).into_response(),
        Err(e) => sim_error(&e),
    }
}

/// `POST /control/coop/{code}/decide`: sends the action callback, answers its outcome
/// once delivered or given up.
pub(crate) async fn decide(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let decision: Decision = match parse(&body) {
        Ok(d) => d,
        Err(e) => return bad_body(&e),
    };
    match crate::callbacks::decide(&shared, &code, decision).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(e) => sim_error(&e),
    }
}

/// `POST /control/coop/{code}/appeal-decide`.
pub(crate) async fn appeal_decide(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let appeal: AppealDecision = match parse(&body) {
        Ok(d) => d,
        Err(e) => return bad_body(&e),
    };
    match crate::callbacks::decide_appeal(&shared, &code, appeal).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(e) => sim_error(&e),
    }
}

/// `GET /control/coop/{code}/callbacks`.
pub(crate) async fn callbacks(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
) -> Response {
    match shared.platform(&code) {
        Some(p) => Json(json!({ "callbacks": p.lock().callbacks })).into_response(),
        None => sim_error(&SimError::UnknownPlatform(code)),
    }
}

/// `GET /control/coop/{code}/public-key`: the PEM.
pub(crate) async fn public_key(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
) -> Response {
    match shared.platform(&code).map(|p| &p.kind) {
        Some(PlatformKind::Coop { keys, .. }) => {
            let mut res = keys.public_pem().to_owned().into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-pem-file"),
            );
            res
        }
        Some(_) => sim_error(&SimError::NotCoop(code)),
        None => sim_error(&SimError::UnknownPlatform(code)),
    }
}
