//! The accept loop. Each connection is served by hyper directly, so a handler can have
//! its connection reset (closed with a TCP RST and no HTTP answer at all), which a
//! framework's own serve loop cannot do.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower_service::Service as _;

/// Put into every request's extensions: lets the handler reset its connection.
#[derive(Clone)]
pub(crate) struct ConnControl(Arc<Notify>);

impl ConnControl {
    /// Resets the connection: the handler should then never answer.
    pub(crate) fn reset(&self) {
        self.0.notify_one();
    }
}

/// Serves `router` on `listener` until `stop` turns true; connections still open then
/// are dropped, requests in flight included.
pub(crate) async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        while conns.try_join_next().is_some() {}
        // A second descriptor of the same socket outlives hyper's: closing it last with a
        // zero linger sends the RST.
        let (tcp, keep) = match split(tcp) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "socket setup failed");
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let reset = Arc::new(Notify::new());
        let control = ConnControl(reset.clone());
        conns.spawn(async move {
            let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(control.clone());
                router.clone().call(req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(tcp), svc);
            tokio::select! {
                _ = conn => {}
                () = reset.notified() => {
                    let _ = socket2::SockRef::from(&keep).set_linger(Some(Duration::ZERO));
                }
            }
            drop(keep);
        });
    }
    drop(listener);
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn split(tcp: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std = tcp.into_std()?;
    let keep = std.try_clone()?;
    Ok((TcpStream::from_std(std)?, keep))
}
