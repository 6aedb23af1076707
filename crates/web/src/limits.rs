//! Anti-automation: token buckets per client IP and per chat session, so a flood of new
//! sessions or messages cannot drown the young people who need the line. Limits are per
//! node; every refusal is a clear 429 with `rate_limited`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

/// A bucket: `capacity` tokens, refilled at `per_ms` milliseconds per token.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: i64,
}

/// Buckets by key, bounded in memory (the oldest half is dropped past `MAX_KEYS`).
#[derive(Debug, Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

const MAX_KEYS: usize = 100_000;

impl Limiter {
    /// Takes one token from `key`'s bucket (capacity `burst`, one token back every
    /// `per_ms`); false when empty.
    pub fn allow(&self, key: &str, burst: u32, per_ms: i64, now: i64) -> bool {
        let Ok(mut map) = self.buckets.lock() else {
            return false; // fail closed
        };
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            let mut ages: Vec<i64> = map.values().map(|b| b.at).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            map.retain(|_, b| b.at > cut);
        }
        let cap = f64::from(burst.max(1));
        let b = map.entry(key.to_owned()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let refill = (now - b.at).max(0) as f64 / per_ms.max(1) as f64;
        b.tokens = (b.tokens + refill).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The client's address: the peer, or — only when the peer is a trusted proxy — the last
/// address the proxy appended to `X-Forwarded-For` (a client cannot spoof it).
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> String {
    let Some(peer) = peer else {
        return "local".into();
    };
    let ip = peer.ip();
    if trusted.contains(&ip) {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter_map(|s| s.parse::<IpAddr>().ok())
            .next_back();
        if let Some(f) = forwarded {
            return f.to_string();
        }
    }
    ip.to_string()
}

/// The client address of a request (see `client_ip`).
pub struct ClientIp(pub String);

impl<S> axum::extract::FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    crate::AppState: axum::extract::FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let st = <crate::AppState as axum::extract::FromRef<S>>::from_ref(state);
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &st.app.settings().server.trusted_proxies,
        )))
    }
}

impl crate::AppState {
    /// Refuses with `rate_limited` when `key`'s bucket is empty.
    pub fn limit(&self, key: &str, burst: u32, per_ms: i64) -> Result<(), rempart_app::AppError> {
        if self.limits.allow(key, burst, per_ms, self.app.now()) {
            Ok(())
        } else {
            Err(rempart_app::AppError::new(
                rempart_app::ErrorCode::RateLimited,
                "too many requests, try again in a moment",
            ))
        }
    }
}

impl crate::AppState {
    /// Refuses a typing signal past `widget.typing_per_minute` for this session (a hash of
    /// its token, or a console session's).
    pub fn typing_allowed(&self, session: &str) -> Result<(), rempart_app::AppError> {
        let n = self.app.settings().widget.typing_per_minute.max(1);
        self.limit(
            &format!("typing:{session}"),
            n.min(5),
            60_000 / i64::from(n),
        )
    }
}

/// Bounds the time to read a request's body and answer it (`request_timeout_seconds`):
/// a client sending its body a byte at a time gets `408` instead of holding the node. A
/// write cut short this way is rolled back whole; a chat message may still commit, and its
/// retry with the same client id is answered with it.
pub async fn request_timeout(
    axum::extract::State(st): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit =
        std::time::Duration::from_secs(st.app.settings().server.request_timeout_seconds.max(1));
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => crate::error::ApiError::new(
            rempart_app::ErrorCode::RequestTimeout,
            "the request took too long",
        )
        .into_response(),
    }
}

/// Live sockets: at most so many per client address and per chat session, and the
/// widget's sockets together at most a share of the node's connections, so that a client
/// opening sockets in a loop can neither fill the node nor take the console's capacity.
#[derive(Debug)]
pub struct Sockets {
    counts: Mutex<HashMap<String, u32>>,
    widget: std::sync::Arc<tokio::sync::Semaphore>,
    per_address: u32,
    per_session: u32,
}

/// A socket's places; given back when the socket closes.
#[derive(Debug)]
pub struct SocketPlace {
    keys: Vec<String>,
    owner: std::sync::Arc<Sockets>,
    _share: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        if let Ok(mut m) = self.owner.counts.lock() {
            for k in &self.keys {
                if let Some(n) = m.get_mut(k) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        m.remove(k);
                    }
                }
            }
        }
    }
}

impl Sockets {
    /// From the settings.
    pub fn new(s: &rempart_app::settings::Settings) -> Sockets {
        let share =
            (u64::from(s.server.max_connections) * u64::from(s.widget.sockets_share_percent) / 100)
                .max(1);
        Sockets {
            counts: Mutex::new(HashMap::new()),
            widget: std::sync::Arc::new(tokio::sync::Semaphore::new(
                usize::try_from(share).unwrap_or(usize::MAX),
            )),
            per_address: s.widget.sockets_per_address,
            per_session: s.widget.sockets_per_session,
        }
    }

    fn take(&self, key: &str, max: u32) -> bool {
        let Ok(mut m) = self.counts.lock() else {
            return false;
        };
        let n = m.entry(key.to_owned()).or_insert(0);
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    /// A widget socket from `ip`: its address's place and one of the widget's share;
    /// None when either is full.
    pub fn widget(self: &std::sync::Arc<Self>, ip: &str) -> Option<SocketPlace> {
        let share = self.widget.clone().try_acquire_owned().ok()?;
        let key = format!("ip:{ip}");
        if !self.take(&key, self.per_address) {
            return None;
        }
        Some(SocketPlace {
            keys: vec![key],
            owner: self.clone(),
            _share: Some(share),
        })
    }

    /// Adds the chat session's place (known once the socket said its token); false when
    /// the session has its sockets already.
    pub fn session(&self, place: &mut SocketPlace, token_hash: &str) -> bool {
        let key = format!("session:{token_hash}");
        if !self.take(&key, self.per_session) {
            return false;
        }
        place.keys.push(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_on_schedule() {
        let l = Limiter::default();
        for _ in 0..3 {
            assert!(l.allow("k", 3, 1000, 0));
        }
        assert!(!l.allow("k", 3, 1000, 0), "burst used up");
        assert!(!l.allow("k", 3, 1000, 999));
        assert!(l.allow("k", 3, 1000, 1999), "one token back after a second");
        assert!(l.allow("other", 3, 1000, 0), "keys are separate");
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 10.0.0.7".parse().unwrap());
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            client_ip(Some(peer), &h, &[]),
            "127.0.0.1",
            "spoofed header ignored"
        );
        assert_eq!(
            client_ip(Some(peer), &h, &["127.0.0.1".parse().unwrap()]),
            "10.0.0.7"
        );
    }
}
