//! Error responses: `{"error": "<code>", "message": "…"}` for the API, a small
//! bilingual page for the console. A 5xx never carries internals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rempart_app::{AppError, ErrorCode};

/// An API error.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    /// A new error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(AppError::new(code, message))
    }
}

fn status(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = crate::api::dto::ErrorBody::from(&self.0);
        let mut r = (status(self.0.code), axum::Json(body)).into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

/// A console error, or a redirect the console must follow (login, second factor).
#[derive(Debug)]
pub enum PageError {
    /// Show an error page.
    Error(AppError),
    /// Go there instead (303).
    Redirect(String),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::Error(e)
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Redirect(to) => redirect(&to),
            PageError::Error(e) => {
                let st = status(e.code);
                let (fr, en) = match e.code {
                    ErrorCode::NotFound => ("Page introuvable.", "Page not found."),
                    ErrorCode::Internal | ErrorCode::Unavailable => (
                        "Erreur du service, réessayez dans un instant.",
                        "Service error, try again shortly.",
                    ),
                    ErrorCode::CsrfFailed => (
                        "Formulaire expiré : rechargez la page.",
                        "Form expired: reload the page.",
                    ),
                    _ => (
                        "La demande n'a pas pu aboutir.",
                        "The request could not be completed.",
                    ),
                };
                let detail = if st.is_server_error() {
                    String::new()
                } else {
                    escape(&e.message)
                };
                let html = format!(
                    "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                     <title>{} – Rempart</title><link rel=\"stylesheet\" href=\"/assets/app.css\"><link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\"></head><body><main class=\"narrow\">\
                     <h1>{}</h1><p>{fr}</p><p lang=\"en\">{en}</p><p class=\"muted\"><code>{}</code> {detail}</p>\
                     <p><a href=\"/\">Retour à l'accueil / Back to the start page</a></p></main></body></html>",
                    st.as_u16(),
                    st.as_u16(),
                    e.code.as_str()
                );
                let mut r = (st, axum::response::Html(html)).into_response();
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
        }
    }
}

/// A 303 redirect to a local path.
pub fn redirect(to: &str) -> Response {
    let to = if to.starts_with('/') && !to.starts_with("//") && !to.contains('\\') {
        to
    } else {
        "/"
    };
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
