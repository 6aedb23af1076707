//! Rempart's web layer: the console (server-rendered pages), the JSON API under
//! `/api/v1`, health and metrics. `router(state)` builds everything from one route
//! table, which also produces the OpenAPI document and drives the route × role test.

pub mod api;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod limits;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod partner;
pub mod render;
pub mod routes;
pub mod server;
pub mod widget;

use axum::Router;
use axum::extract::FromRef;
use rempart_app::App;
use std::sync::Arc;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The application.
    pub app: App,
    /// Message catalogues.
    pub i18n: Arc<i18n::I18n>,
    /// Templates.
    pub templates: Arc<render::Templates>,
    /// Request counters.
    pub metrics: Arc<middleware::Metrics>,
    /// Rate limits.
    pub limits: Arc<limits::Limiter>,
    /// Live sockets by client address and chat session, and the widget's share.
    pub sockets: Arc<limits::Sockets>,
}

/// The web layer could not start (a build defect: catalogues or templates).
#[derive(Debug, thiserror::Error)]
pub enum WebInitError {
    /// Catalogues.
    #[error(transparent)]
    I18n(#[from] i18n::I18nError),
    /// Templates.
    #[error("templates: {0}")]
    Templates(String),
}

impl AppState {
    /// Builds the state around an application.
    pub fn new(app: App) -> Result<AppState, WebInitError> {
        let i18n = Arc::new(i18n::I18n::load()?);
        let templates = Arc::new(
            render::Templates::new(i18n.clone())
                .map_err(|e| WebInitError::Templates(e.to_string()))?,
        );
        let sockets = Arc::new(limits::Sockets::new(app.settings()));
        Ok(AppState {
            app,
            i18n,
            templates,
            metrics: Arc::new(middleware::Metrics::default()),
            limits: Arc::new(limits::Limiter::default()),
            sockets,
        })
    }
}

impl FromRef<AppState> for App {
    fn from_ref(s: &AppState) -> App {
        s.app.clone()
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let mut r: Router<AppState> = Router::new();
    for (doc, handler) in routes::routes() {
        r = r.route(doc.path, handler);
    }
    r.fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.app.settings().server.max_body_bytes,
        ))
        .with_state(state)
}
