//! Health, metrics, assets, reference data and the OpenAPI document.

use crate::AppState;
use crate::api::dto::{Category, Platform, PlatformChannel};
use crate::error::ApiError;
use crate::extract::{ApiAuth, Lang};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rempart_app::ErrorCode;

/// Liveness.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers, and takes writes (a node whose disk is full is not
/// ready, and is again once it has space).
pub async fn readyz(State(st): State<AppState>) -> Response {
    match st.app.ready().await {
        Ok(()) => "ready".into_response(),
        Err(_) => ApiError::new(ErrorCode::Unavailable, "database unavailable").into_response(),
    }
}

/// Prometheus metrics (SQLite: with the largest write-ahead log seen).
pub async fn metrics(State(st): State<AppState>) -> Response {
    let mut text = st.metrics.render();
    if st.app.settings().database.is_sqlite() {
        text.push_str(&format!(
            "# HELP rempart_sqlite_wal_peak_bytes Largest SQLite write-ahead log since start.\n# TYPE rempart_sqlite_wal_peak_bytes gauge\nrempart_sqlite_wal_peak_bytes {}\n",
            st.app.wal_peak_bytes()
        ));
    }
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/favicon.svg"),
    ),
    (
        "widget.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/widget.js"),
    ),
    (
        "chat.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/chat.js"),
    ),
    (
        "chat.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/chat.css"),
    ),
    (
        "console-chat.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/console-chat.js"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/console.js"),
    ),
    (
        "console-live.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/console-live.js"),
    ),
    (
        "passkey.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/passkey.js"),
    ),
    (
        "followup.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/followup.js"),
    ),
    (
        "hash-worker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/hash-worker.js"),
    ),
    // the PDQ crate's browser build: hashing on the young person's device
    (
        "pdq.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../pdq/js/pdq.js"),
    ),
    (
        "rempart_pdq.wasm",
        "application/wasm",
        include_bytes!("../../../pdq/js/rempart_pdq.wasm"),
    ),
];

/// Embedded static files, cached for a day.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == file) {
        Some((_, ct, body)) => {
            let mut r = (StatusCode::OK, *body).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            r
        }
        None => ApiError::new(ErrorCode::NotFound, "no such asset").into_response(),
    }
}

/// The OpenAPI document.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// The category taxonomy in the request's language.
pub async fn categories(
    State(st): State<AppState>,
    Lang(lang, _): Lang,
    _auth: ApiAuth,
) -> Json<Vec<Category>> {
    Json(
        st.app
            .taxonomy()
            .categories()
            .iter()
            .map(|c| Category {
                code: c.code.clone(),
                label: c.label(lang).to_owned(),
                dsa_category: c.dsa_category.clone(),
                articles: c.articles.clone(),
                sensitive_images: c.sensitive_images,
            })
            .collect(),
    )
}

/// The platform directory.
pub async fn platforms(State(st): State<AppState>, _auth: ApiAuth) -> Json<Vec<Platform>> {
    Json(
        st.app
            .directory()
            .platforms()
            .iter()
            .map(|p| Platform {
                code: p.code.clone(),
                name: p.name.clone(),
                lang: p.lang.clone(),
                channels: p
                    .channels
                    .iter()
                    .map(|c| PlatformChannel {
                        kind: c.kind().into(),
                        address: c.address().to_owned(),
                    })
                    .collect(),
                expected_hours: p.expected_hours,
                delays: p.delays.clone(),
            })
            .collect(),
    )
}
