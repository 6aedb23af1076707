//! A platform integrated with Rempart's partner API (`/partner/v1`), as its own service
//! would be: with the key the helpline issued it, it lists its open notices, fetches each
//! one, acknowledges it with a ticket of its own and, when told to, posts a decision. It
//! polls, and it also receives Rempart's `notice.available` webhooks
//! (`POST /webhook`): each is verified on its raw body (Standard Webhooks: HMAC-SHA256,
//! timestamp within five minutes) before anything else, a `webhook-id` already seen is
//! refused as a replay, and a valid event makes it look at once instead of at its next
//! poll.
//!
//! Start one with [`spawn_partner`] and stop it with [`PartnerHandle::shutdown`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::SimError;
use crate::http_util::{header_str, now_unix, read_body};
use crate::webhooks::{WebhookError, secret_key, verify_with_key};

/// Largest webhook body read.
const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;
/// Webhook ids remembered to refuse replays (the oldest are forgotten past it; their
/// timestamps are stale by then anyway).
const REMEMBERED_IDS: usize = 100_000;

/// The decision the partner posts by itself on every notice it acknowledged.
#[derive(Clone, Debug)]
pub struct PartnerAutoDecide {
    /// Time between acknowledging and deciding.
    pub delay: Duration,
    /// The decision code (`content_removed`, `refused`…).
    pub decision: String,
    /// The ground (`illegal_content`, `incompatible_content`), none for a refusal.
    pub ground: Option<String>,
    /// The redress information it gives.
    pub redress: Option<String>,
}

/// A partner platform's configuration.
#[derive(Clone, Debug)]
pub struct PartnerConfig {
    /// The platform's code in the helpline's directory (for statistics and tickets).
    pub platform: String,
    /// Rempart's base URL (`http://127.0.0.1:8080`), without a trailing slash.
    pub rempart_url: String,
    /// The partner API key the helpline issued (`rpk_…`).
    pub api_key: String,
    /// The webhook signing secret (`whsec_…`) shared with the helpline; without it, every
    /// webhook is refused.
    pub webhook_secret: Option<String>,
    /// How often it polls when no webhook rings.
    pub poll_interval: Duration,
    /// Its automatic decision, if any.
    pub auto_decide: Option<PartnerAutoDecide>,
}

impl PartnerConfig {
    /// A partner of `platform` at `rempart_url` with `api_key`: polls every second,
    /// no webhook secret, no automatic decision.
    pub fn new(platform: &str, rempart_url: &str, api_key: &str) -> PartnerConfig {
        PartnerConfig {
            platform: platform.to_owned(),
            rempart_url: rempart_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            webhook_secret: None,
            poll_interval: Duration::from_secs(1),
            auto_decide: None,
        }
    }
}

/// What the partner did and refused, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartnerStats {
    /// Times it listed its notices.
    pub polls: u64,
    /// Webhooks that verified and were taken.
    pub webhooks: u64,
    /// Webhooks refused, by reason (`bad_signature`, `stale_timestamp`, `replayed`…).
    pub webhooks_refused: BTreeMap<String, u64>,
    /// Notices fetched.
    pub fetched: u64,
    /// Notices acknowledged.
    pub acknowledged: u64,
    /// Decisions posted and recorded.
    pub decided: u64,
    /// Calls Rempart answered with an error, by `METHOD status`.
    pub errors: BTreeMap<String, u64>,
}

/// A notice as the partner knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct PartnerSeen {
    /// Its id.
    pub id: String,
    /// Its reference.
    pub reference: String,
    /// The document fetched (Rempart's notice JSON), once fetched.
    pub document: Option<Value>,
    /// The ticket it acknowledged with.
    pub ticket: Option<String>,
    /// The decision it posted.
    pub decision: Option<String>,
}

struct Tracked {
    seen: PartnerSeen,
    /// When it acknowledged (its own clock) and the server's time of it (ms).
    acknowledged: Option<(Instant, i64)>,
}

#[derive(Default)]
struct Inner {
    stats: PartnerStats,
    notices: BTreeMap<String, Tracked>,
    webhook_ids: BTreeMap<String, u64>,
    webhook_seq: u64,
}

struct PartnerShared {
    config: PartnerConfig,
    webhook_key: Option<Vec<u8>>,
    inner: Mutex<Inner>,
    wake: Notify,
    changed: watch::Sender<u64>,
    http: reqwest::Client,
}

impl PartnerShared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn changed(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
    fn count_error(&self, what: String) {
        *self.lock().stats.errors.entry(what).or_default() += 1;
        self.changed();
    }
}

/// A running partner.
pub struct PartnerHandle {
    addr: SocketAddr,
    shared: Arc<PartnerShared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts a partner: its webhook receiver on `listener` and its poller.
pub async fn spawn_partner(
    config: PartnerConfig,
    listener: TcpListener,
) -> Result<PartnerHandle, SimError> {
    let addr = listener.local_addr()?;
    let webhook_key = match &config.webhook_secret {
        Some(s) => Some(secret_key(s).map_err(|e| SimError::Secret(config.platform.clone(), e))?),
        None => None,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| SimError::Client(e.to_string()))?;
    let shared = Arc::new(PartnerShared {
        config,
        webhook_key,
        inner: Mutex::new(Inner::default()),
        wake: Notify::new(),
        changed: watch::channel(0).0,
        http,
    });
    let (stop, stopped) = watch::channel(false);
    let app = Router::new()
        .route("/webhook", post(webhook))
        .with_state(shared.clone());
    let mut server_stop = stopped.clone();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await;
    });
    let poller = tokio::spawn(poll_loop(shared.clone(), stopped));
    Ok(PartnerHandle {
        addr,
        shared,
        stop,
        tasks: vec![server, poller],
    })
}

impl PartnerHandle {
    /// Where Rempart posts its webhooks (the directory's `webhook_url`).
    pub fn webhook_url(&self) -> String {
        format!("http://{}/webhook", self.addr)
    }

    /// The counters now.
    pub fn stats(&self) -> PartnerStats {
        self.shared.lock().stats.clone()
    }

    /// The notices it knows, by id.
    pub fn notices(&self) -> Vec<PartnerSeen> {
        self.shared
            .lock()
            .notices
            .values()
            .map(|t| t.seen.clone())
            .collect()
    }

    /// Makes it look at its notices now.
    pub fn poll_now(&self) {
        self.shared.wake.notify_one();
    }

    /// Waits until `done` holds for the counters (checked at every change), at most
    /// `timeout`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&PartnerStats) -> bool,
    ) -> Result<PartnerStats, SimError> {
        let mut rx = self.shared.changed.subscribe();
        tokio::time::timeout(timeout, async {
            loop {
                let s = self.stats();
                if done(&s) {
                    return s;
                }
                if rx.changed().await.is_err() {
                    return s;
                }
            }
        })
        .await
        .map_err(|_| SimError::Timeout)
    }

    /// Stops the receiver and the poller.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.shared.wake.notify_one();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn refuse(shared: &PartnerShared, status: StatusCode, code: &str) -> Response {
    *shared
        .lock()
        .stats
        .webhooks_refused
        .entry(code.to_owned())
        .or_default() += 1;
    shared.changed();
    (status, axum::Json(json!({ "error": code }))).into_response()
}

/// `POST /webhook`: verified on the raw body first, replays refused.
async fn webhook(
    State(shared): State<Arc<PartnerShared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(raw) = read_body(body, WEBHOOK_BODY_LIMIT).await else {
        return refuse(&shared, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    };
    let Some(key) = &shared.webhook_key else {
        return refuse(&shared, StatusCode::UNAUTHORIZED, "no_secret");
    };
    let id = header_str(&headers, "webhook-id");
    if let Err(e) = verify_with_key(
        key,
        id,
        header_str(&headers, "webhook-timestamp"),
        header_str(&headers, "webhook-signature"),
        &raw,
        now_unix(),
    ) {
        let status = match e {
            WebhookError::MissingHeader | WebhookError::BadTimestamp => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        };
        return refuse(&shared, status, e.code());
    }
    let event: Value = match serde_json::from_slice(&raw) {
        Ok(v @ Value::Object(_)) => v,
        _ => return refuse(&shared, StatusCode::BAD_REQUEST, "invalid_body"),
    };
    {
        let mut inner = shared.lock();
        if inner.webhook_ids.contains_key(id) {
            drop(inner);
            return refuse(&shared, StatusCode::CONFLICT, "replayed");
        }
        inner.webhook_seq += 1;
        let seq = inner.webhook_seq;
        inner.webhook_ids.insert(id.to_owned(), seq);
        if inner.webhook_ids.len() > REMEMBERED_IDS
            && let Some(oldest) = inner
                .webhook_ids
                .iter()
                .min_by_key(|(_, s)| **s)
                .map(|(k, _)| k.clone())
        {
            inner.webhook_ids.remove(&oldest);
        }
        inner.stats.webhooks += 1;
    }
    shared.changed();
    if event["type"] == "notice.available" {
        shared.wake.notify_one();
    }
    (StatusCode::OK, axum::Json(json!({ "received": true }))).into_response()
}

async fn poll_loop(shared: Arc<PartnerShared>, mut stopped: watch::Receiver<bool>) {
    loop {
        if *stopped.borrow() {
            return;
        }
        let next = round(&shared).await;
        let wait = next.unwrap_or(shared.config.poll_interval);
        tokio::select! {
            _ = tokio::time::sleep(wait.min(shared.config.poll_interval)) => {}
            _ = shared.wake.notified() => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

/// One call to Rempart: the status and the JSON answer.
async fn call(
    shared: &PartnerShared,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let url = format!("{}{path}", shared.config.rempart_url);
    let mut req = shared
        .http
        .request(method.clone(), url)
        .header("authorization", format!("Bearer {}", shared.config.api_key));
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let r = match req.send().await {
        Ok(r) => r,
        Err(_) => {
            shared.count_error(format!("{method} unreachable"));
            return None;
        }
    };
    let status = r.status().as_u16();
    let bytes = r.bytes().await.ok()?;
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status >= 400 {
        shared.count_error(format!("{method} {status}"));
    }
    Some((status, v))
}

fn ms_of(v: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// One round: list the open notices, fetch and acknowledge the new ones, decide those
/// whose delay passed. Returns how long until the next decision is due, if one waits.
async fn round(shared: &PartnerShared) -> Option<Duration> {
    let mut cursor: Option<String> = None;
    let mut open = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/partner/v1/notices?limit=200&cursor={c}"),
            None => "/partner/v1/notices?limit=200".to_owned(),
        };
        let (status, page) = call(shared, reqwest::Method::GET, &path, None).await?;
        if status != 200 {
            return None;
        }
        if let Some(list) = page["notices"].as_array() {
            open.extend(list.iter().cloned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    shared.lock().stats.polls += 1;
    shared.changed();
    let mut next_due: Option<Duration> = None;
    for n in open {
        let (Some(id), Some(reference)) = (n["id"].as_str(), n["reference"].as_str()) else {
            continue;
        };
        let known = shared.lock().notices.contains_key(id);
        if !known {
            let Some((200, doc)) = call(
                shared,
                reqwest::Method::GET,
                &format!("/partner/v1/notices/{id}"),
                None,
            )
            .await
            else {
                continue;
            };
            let mut inner = shared.lock();
            inner.stats.fetched += 1;
            inner.notices.insert(
                id.to_owned(),
                Tracked {
                    seen: PartnerSeen {
                        id: id.to_owned(),
                        reference: reference.to_owned(),
                        document: Some(doc),
                        ticket: None,
                        decision: None,
                    },
                    acknowledged: None,
                },
            );
            drop(inner);
            shared.changed();
        }
        let acknowledged = shared.lock().notices.get(id).and_then(|t| t.acknowledged);
        let acknowledged = match acknowledged {
            Some(a) => a,
            None => {
                let ticket = format!(
                    "{}-{}",
                    shared.config.platform.to_uppercase(),
                    &id[id.len().saturating_sub(12)..]
                );
                let Some((status, answer)) = call(
                    shared,
                    reqwest::Method::POST,
                    &format!("/partner/v1/notices/{id}/acknowledgement"),
                    Some(json!({ "ticket": ticket })),
                )
                .await
                else {
                    continue;
                };
                if status != 200 && status != 201 {
                    continue;
                }
                let at = (
                    Instant::now(),
                    ms_of(&answer["acknowledged_at"]).unwrap_or(0),
                );
                let mut inner = shared.lock();
                if status == 201 {
                    inner.stats.acknowledged += 1;
                }
                if let Some(t) = inner.notices.get_mut(id) {
                    t.seen.ticket = Some(ticket);
                    t.acknowledged = Some(at);
                }
                drop(inner);
                shared.changed();
                at
            }
        };
        let Some(auto) = &shared.config.auto_decide else {
            continue;
        };
        let elapsed = acknowledged.0.elapsed();
        if elapsed < auto.delay {
            let left = auto.delay - elapsed;
            next_due = Some(next_due.map_or(left, |d| d.min(left)));
            continue;
        }
        // the decision's time in the server's clock: its acknowledgement's, plus the time
        // this partner took since
        let decided_ms = acknowledged
            .1
            .saturating_add(i64::try_from(elapsed.as_millis()).unwrap_or(0));
        let decided_at = chrono::DateTime::from_timestamp_millis(decided_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let Some((status, _)) = call(
            shared,
            reqwest::Method::POST,
            &format!("/partner/v1/notices/{id}/decision"),
            Some(json!({
                "decision": auto.decision,
                "ground": auto.ground,
                "redress": auto.redress,
                "decided_at": decided_at,
            })),
        )
        .await
        else {
            continue;
        };
        if status == 201 || status == 200 {
            let mut inner = shared.lock();
            if status == 201 {
                inner.stats.decided += 1;
            }
            if let Some(t) = inner.notices.get_mut(id) {
                t.seen.decision = Some(auto.decision.clone());
            }
            drop(inner);
            shared.changed();
        }
    }
    next_due
}
