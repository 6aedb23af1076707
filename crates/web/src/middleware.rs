//! Cross-cutting layers: security headers on every response, request metrics, and a
//! request log that names the route template, never the query string or the body.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rempart_app::ErrorCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const BUCKETS_MS: [u64; 9] = [1, 2, 5, 10, 20, 50, 100, 500, 2000];

/// Request counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 6],
    latency: [AtomicU64; 10],
    latency_sum_us: AtomicU64,
}

impl Metrics {
    fn record(&self, status: u16, elapsed_us: u64) {
        let class = usize::from(status / 100).min(5);
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        let ms = elapsed_us / 1000;
        let idx = BUCKETS_MS
            .iter()
            .position(|b| ms < *b)
            .unwrap_or(BUCKETS_MS.len());
        self.latency[idx].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(elapsed_us, Ordering::Relaxed);
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::from(
            "# HELP rempart_http_requests_total HTTP requests by status class.\n# TYPE rempart_http_requests_total counter\n",
        );
        for (i, c) in self.by_class.iter().enumerate().skip(1) {
            s.push_str(&format!(
                "rempart_http_requests_total{{class=\"{i}xx\"}} {}\n",
                c.load(Ordering::Relaxed)
            ));
        }
        s.push_str("# HELP rempart_http_request_duration_seconds Request duration.\n# TYPE rempart_http_request_duration_seconds histogram\n");
        let mut cum = 0;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            cum += self.latency[i].load(Ordering::Relaxed);
            s.push_str(&format!(
                "rempart_http_request_duration_seconds_bucket{{le=\"{}\"}} {cum}\n",
                *b as f64 / 1000.0
            ));
        }
        cum += self.latency[BUCKETS_MS.len()].load(Ordering::Relaxed);
        s.push_str(&format!(
            "rempart_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cum}\n"
        ));
        s.push_str(&format!(
            "rempart_http_request_duration_seconds_sum {}\nrempart_http_request_duration_seconds_count {cum}\n",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        ));
        s
    }
}

/// Logs and counts each request by its route template.
pub async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "-".into());
    let resp = next.run(req).await;
    let us = start.elapsed().as_micros() as u64;
    st.metrics.record(resp.status().as_u16(), us);
    tracing::info!(method = %method, route = %route, status = resp.status().as_u16(), micros = us, "request");
    resp
}

/// The one file another site loads: the widget's loader (`<script src=…/widget.js>` on
/// the helpline's own site). It alone may be read cross-origin; everything else, the
/// frame included, stays same-origin (the frame is embedded, not read).
pub const CROSS_ORIGIN_ASSET: &str = "/assets/widget.js";

/// Security headers: a strict CSP (no inline script, no framing), no sniffing, no
/// referrer, and `no-store` on everything but the static assets.
pub async fn security_headers(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let is_asset = path.starts_with("/assets/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // The chat frame may be embedded by this origin (the demo page) and by the helpline's
    // sites listed in the settings; everything else may be framed by no one.
    let framing = if path == "/widget/frame" {
        let mut f = String::from("frame-ancestors 'self'");
        for o in &st.app.settings().widget.allowed_origins {
            f.push(' ');
            f.push_str(o.as_str());
        }
        f
    } else {
        "frame-ancestors 'none'".to_owned()
    };
    // the hashing worker compiles the PDQ module (WebAssembly), and only it
    let script = if path == "/assets/hash-worker.js" {
        "script-src 'self' 'wasm-unsafe-eval'"
    } else {
        "script-src 'self'"
    };
    // the follow-up page's quick exit may leave by its form for the neutral site
    let form_action = if path.starts_with("/follow-up") {
        let exit = st.app.settings().helpline.quick_exit_url.as_str();
        let origin: String = exit.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        format!("form-action 'self' {origin}")
    } else {
        "form-action 'self'".to_owned()
    };
    let csp = format!(
        "default-src 'none'; {script}; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; \
         worker-src 'self'; {form_action}; {framing}; base-uri 'none'; object-src 'none'"
    );
    // a handler's own, stricter policy stays (evidence files: a sandbox)
    if !h.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(v) = HeaderValue::from_str(&csp)
    {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if path != "/widget/frame" {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static(if path == CROSS_ORIGIN_ASSET {
            "cross-origin"
        } else {
            "same-origin"
        }),
    );
    if st.app.settings().security.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Unknown routes.
pub async fn not_found() -> Response {
    ApiError::new(ErrorCode::NotFound, "no such route").into_response()
}

/// A known route called with the wrong method.
pub async fn method_not_allowed() -> Response {
    ApiError::new(ErrorCode::MethodNotAllowed, "method not allowed").into_response()
}
