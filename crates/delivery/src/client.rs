//! The HTTP client of outbound deliveries and the classification of what it meets.

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use crate::endpoint::{Endpoint, EndpointPolicy, public_ip};
use crate::outcome::{AtPlatform, ConflictMeans, Outcome, classify_failure_status};

/// `User-Agent` of every delivery.
pub const USER_AGENT: &str = concat!("Rempart/", env!("CARGO_PKG_VERSION"));

/// Largest answer body read by default (64 KiB).
pub const DEFAULT_ANSWER_LIMIT: usize = 64 * 1024;

type Https = hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>;

/// How the [`Deliverer`] is built.
#[derive(Clone, Debug)]
pub struct DelivererConfig {
    /// Time allowed to open the TCP connection.
    pub connect_timeout: Duration,
    /// Time allowed for the whole attempt, from connecting to the last byte of the answer.
    pub total_timeout: Duration,
    /// Which endpoints may be reached.
    pub policy: EndpointPolicy,
    /// An extra trusted root, PEM (e.g. a test CA), besides Mozilla's roots.
    pub extra_root_pem: Option<String>,
    /// Largest answer body read; a longer one is a protocol error.
    pub answer_limit: usize,
}

impl Default for DelivererConfig {
    fn default() -> Self {
        DelivererConfig {
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            policy: EndpointPolicy::default(),
            extra_root_pem: None,
            answer_limit: DEFAULT_ANSWER_LIMIT,
        }
    }
}

/// Why a [`Deliverer`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The extra root is not a PEM certificate rustls accepts.
    #[error("the extra root certificate is not usable")]
    ExtraRoot,
    /// The TLS configuration could not be built.
    #[error("the TLS configuration could not be built: {0}")]
    Tls(String),
}

/// Sends notices over HTTP/1.1. Build it once; clones share the connection pool.
///
/// TLS is rustls with the ring provider, trusting Mozilla's roots (compiled in) and the
/// configured extra root. Redirects are never followed: a 3xx is a permanent
/// `redirect_refused`. No proxy is used, and the environment's proxy variables are not
/// read. Unless the policy allows local endpoints, host names resolving only to
/// non-public addresses are refused before connecting (`endpoint_resolves_local`), and
/// non-public addresses among a name's answers are skipped.
#[derive(Clone)]
pub struct Deliverer {
    http: Client<Https, Full<Bytes>>,
    pub(crate) policy: EndpointPolicy,
    answer_limit: usize,
    total_timeout: Duration,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("policy", &self.policy)
            .field("answer_limit", &self.answer_limit)
            .field("total_timeout", &self.total_timeout)
            .finish_non_exhaustive()
    }
}

impl Deliverer {
    /// Builds the client; it sends from inside a Tokio runtime.
    pub fn new(config: DelivererConfig) -> Result<Deliverer, BuildError> {
        let tls = tls_config(config.extra_root_pem.as_deref())?;
        let mut http = HttpConnector::new_with_resolver(GuardedResolver {
            allow_local: config.policy.allow_local,
        });
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(4)
            .build(https);
        Ok(Deliverer {
            http: client,
            policy: config.policy,
            answer_limit: config.answer_limit,
            total_timeout: config.total_timeout,
        })
    }

    /// The endpoint policy it enforces.
    pub fn policy(&self) -> EndpointPolicy {
        self.policy
    }

    /// Parses `url` under this deliverer's policy; a refusal is a permanent outcome.
    pub fn endpoint(&self, url: &str) -> Result<Endpoint, Outcome> {
        Endpoint::parse(url, self.policy).map_err(|p| Outcome::permanent(p.code()))
    }

    /// POSTs `body` to `endpoint` with `headers` and classes the answer. For a 2xx, the
    /// answer body is read (at most the limit) and `receipt_of` picks the receipt from it.
    pub(crate) async fn post(
        &self,
        endpoint: &Endpoint,
        headers: HeaderMap,
        body: Vec<u8>,
        conflict: ConflictMeans,
        receipt_of: fn(&[u8]) -> Option<String>,
    ) -> Outcome {
        let outcome = self
            .post_inner(endpoint, headers, body, conflict, receipt_of)
            .await;
        tracing::debug!(
            host = endpoint.host(),
            class = outcome.class(),
            reason = outcome.reason(),
            status = outcome.status(),
            "delivery attempt"
        );
        outcome
    }

    async fn post_inner(
        &self,
        endpoint: &Endpoint,
        headers: HeaderMap,
        body: Vec<u8>,
        conflict: ConflictMeans,
        receipt_of: fn(&[u8]) -> Option<String>,
    ) -> Outcome {
        let deadline = tokio::time::Instant::now() + self.total_timeout;
        let Ok(uri) = http::Uri::try_from(endpoint.url().as_str()) else {
            return Outcome::permanent("endpoint_invalid");
        };
        let mut request = http::Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        request.headers_mut().insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );

        let response = match tokio::time::timeout_at(deadline, self.http.request(request)).await {
            Err(_) => return timed_out(None),
            Ok(Err(e)) => return classify_error(&e, None),
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::outcome::parse_retry_after(v, SystemTime::now()));
            // the answer body is not read: nothing in it changes the class, and it is
            // never logged
            return classify_failure_status(status, retry_after, conflict);
        }
        let declared = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.answer_limit as u64) {
            return too_large(status);
        }
        let mut body = response.into_body();
        let mut answer = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => return timed_out(Some(status)),
                Ok(None) => break,
                Ok(Some(Err(e))) => return classify_error(&e, Some(status)),
                Ok(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        if answer.len() + data.len() > self.answer_limit {
                            return too_large(status);
                        }
                        answer.extend_from_slice(data);
                    }
                }
            }
        }
        Outcome::Delivered {
            status,
            receipt: receipt_of(&answer),
            at_platform: AtPlatform::Taken,
        }
    }
}

/// The total timeout passed: while waiting for the answer (`status` none) or reading a
/// 2xx answer's body. The request may have been processed either way.
fn timed_out(status: Option<u16>) -> Outcome {
    Outcome::Transient {
        reason: "timeout",
        status,
        retry_after: None,
        maybe_delivered: true,
    }
}

/// A success answer longer than the limit: not the protocol Rempart speaks. Not retried
/// (a retry of a Coop report would create a second one): a person checks.
fn too_large(status: u16) -> Outcome {
    Outcome::Permanent {
        reason: "answer_too_large",
        status: Some(status),
    }
}

fn tls_config(extra_root_pem: Option<&str>) -> Result<rustls::ClientConfig, BuildError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_root_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|_| BuildError::ExtraRoot)?;
            roots.add(cert).map_err(|_| BuildError::ExtraRoot)?;
            added += 1;
        }
        if added == 0 {
            return Err(BuildError::ExtraRoot);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BuildError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Why a host name gave no address to connect to.
#[derive(Debug, thiserror::Error)]
enum DnsProblem {
    /// The name resolved only to non-public addresses while local endpoints are refused.
    #[error("the host resolves to a non-public address")]
    Local,
    /// The lookup failed.
    #[error("lookup failed")]
    Lookup(#[source] std::io::Error),
}

/// The system resolver, keeping only public addresses unless local endpoints are allowed
/// (a public name pointing at 127.0.0.1 or 169.254.169.254 is refused like the literal).
#[derive(Clone, Copy, Debug)]
struct GuardedResolver {
    allow_local: bool,
}

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = DnsProblem;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, DnsProblem>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), DnsProblem>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_local = self.allow_local;
        Box::pin(async move { resolve(name.as_str(), allow_local).await })
    }
}

async fn resolve(
    name: &str,
    allow_local: bool,
) -> Result<std::vec::IntoIter<SocketAddr>, DnsProblem> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((name, 0))
        .await
        .map_err(DnsProblem::Lookup)?
        .collect();
    let kept: Vec<SocketAddr> = found
        .iter()
        .copied()
        .filter(|a| allow_local || public_ip(a.ip()))
        .collect();
    if kept.is_empty() && !found.is_empty() {
        return Err(DnsProblem::Local);
    }
    Ok(kept.into_iter())
}

/// Every error of the chain, looking inside `io::Error`s too (whose `source` skips the
/// error they wrap).
fn chain<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut all = Vec::new();
    let mut next = Some(e);
    while let Some(e) = next {
        all.push(e);
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            let inner: &'a (dyn StdError + 'static) = inner;
            next = Some(inner);
        } else {
            next = e.source();
        }
    }
    all
}

fn io_kinds(chain: &[&(dyn StdError + 'static)]) -> Vec<std::io::ErrorKind> {
    chain
        .iter()
        .filter_map(|e| e.downcast_ref::<std::io::Error>().map(std::io::Error::kind))
        .collect()
}

fn is_reset(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    matches!(kind, ConnectionReset | ConnectionAborted | BrokenPipe)
}

/// Classes a transport error. `status` is set when the error came while reading a 2xx
/// answer: the platform said it took the notice, but the answer (and its receipt) was
/// lost.
///
/// `maybe_delivered` is false only when the request cannot have reached the platform's
/// application: nothing connected (refused, DNS, connect timeout, TLS handshake).
/// Everything after the connection was opened (a reset, the connection closed before
/// the answer, a cut answer) may have come after the platform took the notice.
fn classify_error(e: &(dyn StdError + 'static), status: Option<u16>) -> Outcome {
    let chain = chain(e);
    let kinds = io_kinds(&chain);
    let connect = chain.iter().any(|e| {
        e.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
    });
    if connect {
        if chain
            .iter()
            .any(|e| matches!(e.downcast_ref::<DnsProblem>(), Some(DnsProblem::Local)))
        {
            return Outcome::permanent("endpoint_resolves_local");
        }
        let tls = chain.iter().find_map(|e| e.downcast_ref::<rustls::Error>());
        let reason = if chain.iter().any(|e| e.is::<DnsProblem>()) {
            "dns"
        } else if let Some(tls) = tls {
            match tls {
                rustls::Error::InvalidCertificate(_) => "tls_certificate",
                _ => "tls_handshake",
            }
        } else if kinds.contains(&std::io::ErrorKind::TimedOut) {
            "connect_timeout"
        } else if kinds.contains(&std::io::ErrorKind::ConnectionRefused) {
            "connect_refused"
        } else if kinds.iter().copied().any(is_reset) {
            "connect_reset"
        } else {
            "connect_failed"
        };
        return Outcome::Transient {
            reason,
            status,
            retry_after: None,
            maybe_delivered: false,
        };
    }
    let hyper_errors: Vec<&hyper::Error> = chain
        .iter()
        .filter_map(|e| e.downcast_ref::<hyper::Error>())
        .collect();
    let reason = if kinds.iter().copied().any(is_reset) {
        "reset"
    } else if hyper_errors.iter().any(|h| h.is_timeout())
        || kinds.contains(&std::io::ErrorKind::TimedOut)
    {
        "timeout"
    } else if status.is_some() {
        "answer_cut"
    } else if hyper_errors
        .iter()
        .any(|h| h.is_incomplete_message() || h.is_closed() || h.is_canceled())
    {
        // the connection closed before any answer
        "reset"
    } else {
        "request_failed"
    };
    Outcome::Transient {
        reason,
        status,
        retry_after: None,
        maybe_delivered: true,
    }
}

pub(crate) fn header(name: &'static str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    let value = HeaderValue::from_str(value).ok()?;
    Some((HeaderName::from_static(name), value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[tokio::test]
    async fn resolver_drops_local_addresses() {
        assert!(matches!(
            resolve("localhost", false).await,
            Err(DnsProblem::Local)
        ));
        let allowed: Vec<SocketAddr> = resolve("localhost", true).await.unwrap().collect();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()) && !allowed.is_empty());
        assert!(matches!(
            resolve("no-such-host.invalid", false).await,
            Err(DnsProblem::Lookup(_))
        ));
    }

    #[test]
    fn bad_extra_roots_are_refused() {
        for pem in [
            "",
            "not pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            assert!(
                matches!(tls_config(Some(pem)), Err(BuildError::ExtraRoot)),
                "{pem}"
            );
        }
        assert!(tls_config(None).is_ok());
    }
}
