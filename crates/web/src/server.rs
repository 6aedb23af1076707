//! The HTTP server loop: HTTP/1.1 with upgrades (WebSockets), and the limits that keep a
//! slow or greedy client from holding the node.
//!
//! - a request's headers must arrive within `header_timeout_seconds` of the connection
//!   opening or becoming idle (a slow-headers attack, or an idle keep-alive connection,
//!   is closed after it);
//! - at most `max_connections` connections are served at once; more wait in the
//!   kernel's queue instead of costing memory;
//! - on shutdown the node stops accepting, lets requests in flight finish and closes
//!   its connections; WebSockets close at once with 1012 and reconnect to another node.
//!
//! The time to read a request's body and answer it is bounded by a middleware of the
//! router ([`crate::limits::request_timeout`]).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_service::Service;

/// A connection's place among `max_connections`, in each request's extensions: a
/// WebSocket handler keeps it for the life of the socket, so upgraded connections count too.
#[derive(Clone, Debug)]
pub struct ConnPermit(#[allow(dead_code)] Arc<tokio::sync::OwnedSemaphorePermit>);

/// The node is stopping, in each request's extensions: a WebSocket closes itself with
/// 1012 ("service restart") so that its client reconnects — to another node — at once
/// instead of holding this one until the drain deadline.
#[derive(Clone, Debug)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Resolves once the node is stopping.
    pub async fn wait(&mut self) {
        if self.0.wait_for(|s| *s).await.is_err() {
            // the server loop is gone: it is stopping too
        }
    }
}

/// Waits for the node to stop, or forever when the request did not come through
/// [`serve`] (a router served another way).
pub async fn stopping(s: &mut Option<Stopping>) {
    match s {
        Some(s) => s.wait().await,
        None => std::future::pending().await,
    }
}

/// Limits of the server loop.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Time allowed to send a request's headers (also the idle keep-alive time).
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl ServerLimits {
    /// From the settings.
    pub fn from_settings(s: &rempart_app::settings::Settings) -> ServerLimits {
        ServerLimits {
            header_timeout: Duration::from_secs(s.server.header_timeout_seconds.max(1)),
            max_connections: s.server.max_connections.max(1) as usize,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; the client's address reaches
/// handlers as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // out of file descriptors and the like: wait a little, keep serving
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let mut stop = stop_rx.clone();
        let permit = ConnPermit(Arc::new(permit));
        let stopping = Stopping(stop_rx.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req.extensions_mut().insert(permit.clone());
                req.extensions_mut().insert(stopping.clone());
                router.clone().call(req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(tcp), svc)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // requests in flight finish (bounded): every permit back means every connection and
    // socket closed
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(10), permits.acquire_many(all)).await;
    Ok(())
}
