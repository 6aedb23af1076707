//! The HTTP client of outbound deliveries and the classification of what it meets.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use crate::endpoint::{Endpoint, EndpointPolicy, public_ip};
use crate::outcome::{AtPlatform, ConflictMeans, Outcome, classify_failure_status};

/// `User-Agent` of every delivery.
pub const USER_AGENT: &str = concat!("Rempart/", env!("CARGO_PKG_VERSION"));

/// Largest answer body read by default (64 KiB).
pub const DEFAULT_ANSWER_LIMIT: usize = 64 * 1024;

/// How the [`Deliverer`] is built.
#[derive(Clone, Debug)]
pub struct DelivererConfig {
    /// Time allowed to open the connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time allowed for the whole attempt, from connecting to the last byte of the answer.
    pub total_timeout: Duration,
    /// Which endpoints may be reached.
    pub policy: EndpointPolicy,
    /// An extra trusted root, PEM (e.g. a test CA), besides Mozilla's roots.
    pub extra_root_pem: Option<String>,
    /// A proxy for every delivery (`http://…`). The environment's proxy variables are
    /// never read.
    pub proxy: Option<String>,
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
            proxy: None,
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
    /// The proxy URL is not usable.
    #[error("the proxy URL is not usable")]
    Proxy,
    /// The TLS configuration or the client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// Sends notices over HTTP. Build it once; clones share the connection pool.
///
/// TLS is rustls with the ring provider, trusting Mozilla's roots (compiled in) and the
/// configured extra root. Redirects are never followed: a 3xx is a permanent
/// `redirect_refused`. Unless the policy allows local endpoints, host names resolving to
/// non-public addresses are refused before connecting.
#[derive(Clone, Debug)]
pub struct Deliverer {
    pub(crate) http: reqwest::Client,
    pub(crate) policy: EndpointPolicy,
    answer_limit: usize,
}

impl Deliverer {
    /// Builds the client.
    pub fn new(config: DelivererConfig) -> Result<Deliverer, BuildError> {
        let tls = tls_config(config.extra_root_pem.as_deref())?;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .user_agent(USER_AGENT)
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_local: config.policy.allow_local,
            }));
        if let Some(proxy) = &config.proxy {
            builder = builder.proxy(reqwest::Proxy::all(proxy).map_err(|_| BuildError::Proxy)?);
        }
        let http = builder
            .build()
            .map_err(|e| BuildError::Client(e.to_string()))?;
        Ok(Deliverer {
            http,
            policy: config.policy,
            answer_limit: config.answer_limit,
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
        let sent = self
            .http
            .post(endpoint.url().clone())
            .headers(headers)
            .body(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return classify_error(&e, None),
        };
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::outcome::parse_retry_after(v, SystemTime::now()));
            // the answer body is not read: nothing in it changes the class, and it is
            // never logged
            return classify_failure_status(status, retry_after, conflict);
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.answer_limit as u64)
        {
            return too_large(status);
        }
        let mut answer = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if answer.len() + chunk.len() > self.answer_limit {
                        return too_large(status);
                    }
                    answer.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return classify_error(&e, Some(status)),
            }
        }
        Outcome::Delivered {
            status,
            receipt: receipt_of(&answer),
            at_platform: AtPlatform::Taken,
        }
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
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BuildError::Client(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A name resolved only to non-public addresses while local endpoints are refused.
#[derive(Debug, thiserror::Error)]
#[error("the host resolves to a non-public address")]
struct ResolvedLocal;

/// The system resolver, keeping only public addresses unless local endpoints are allowed
/// (a public name pointing at 127.0.0.1 or 169.254.169.254 is refused like the literal).
struct GuardedResolver {
    allow_local: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_local = self.allow_local;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_local || public_ip(a.ip()))
                .collect();
            if kept.is_empty() && !found.is_empty() {
                return Err(Box::new(ResolvedLocal) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn sources(e: &reqwest::Error) -> impl Iterator<Item = &(dyn StdError + 'static)> {
    std::iter::successors(e.source(), |e: &&(dyn StdError + 'static)| (*e).source())
}

fn io_kind(e: &reqwest::Error) -> Option<std::io::ErrorKind> {
    sources(e).find_map(|s| s.downcast_ref::<std::io::Error>().map(std::io::Error::kind))
}

/// Classes a transport error. `status` is set when the error came while reading a 2xx
/// answer: the platform said it took the notice, but the answer (and its receipt) was
/// lost.
///
/// `maybe_delivered` is false only when the request cannot have reached the platform's
/// application: nothing connected (refused, DNS, connect timeout, TLS handshake).
/// Everything after the connection was opened (a timeout waiting for the answer, a
/// reset, a cut answer) may have come after the platform took the notice.
fn classify_error(e: &reqwest::Error, status: Option<u16>) -> Outcome {
    if sources(e).any(|s| s.is::<ResolvedLocal>()) {
        return Outcome::permanent("endpoint_resolves_local");
    }
    if e.is_builder() {
        return Outcome::permanent("invalid_request");
    }
    let kind = io_kind(e);
    let reason = if e.is_connect() {
        let tls = sources(e).find_map(|s| s.downcast_ref::<rustls::Error>());
        let reason = if e.is_timeout() {
            "connect_timeout"
        } else if e.is_dns() {
            "dns"
        } else if let Some(tls) = tls {
            match tls {
                rustls::Error::InvalidCertificate(_) => "tls_certificate",
                _ => "tls_handshake",
            }
        } else if kind == Some(std::io::ErrorKind::ConnectionRefused) {
            "connect_refused"
        } else if matches!(
            kind,
            Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted)
        ) {
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
    } else if e.is_timeout() {
        "timeout"
    } else if matches!(
        kind,
        Some(
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
        )
    ) {
        "reset"
    } else if status.is_some() || e.is_body() || e.is_decode() {
        "answer_cut"
    } else if sources(e).any(is_incomplete_message) {
        // the connection closed (or was reset) before any answer
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

/// hyper's "connection closed before message completed" and its like: the connection
/// ended before an answer, after the request was written.
fn is_incomplete_message(e: &(dyn StdError + 'static)) -> bool {
    e.downcast_ref::<hyper::Error>()
        .is_some_and(|h| h.is_incomplete_message() || h.is_closed() || h.is_canceled())
}

pub(crate) fn header(name: &'static str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    let value = HeaderValue::from_str(value).ok()?;
    Some((HeaderName::from_static(name), value))
}
