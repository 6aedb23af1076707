//! The delivery workers: every node claims the due delivery jobs (a lease; another node
//! takes a job over if this one dies), sends the notice's stored bytes on its channel with a
//! timeout, and records the outcome with the end of the job in one transaction:
//!
//! - delivered: the platform's receipt (report id, ticket; a mail's Message-ID) is kept;
//! - a transient failure (connection, timeout, 408/425/429, 5xx; for a mail, an SMTP 4xx
//!   reply, a connection or a timeout): due again after an
//!   exponential backoff with jitter, or the platform's `Retry-After`; every attempt carries
//!   the same idempotency key (the `webhook-id` of a signed push);
//! - a permanent failure (another 4xx, a refused redirect, a missing secret; an SMTP 5xx,
//!   an untrusted certificate, no `[smtp]` host: `smtp_not_configured`), or every
//!   attempt used: the platform's next channel is tried (its own bytes, its own job), and
//!   with none left the notice is `failed` with the reason.

use super::DELIVERY_JOB;
use super::followup::REMINDER_JOB;
use crate::App;
use rempart_delivery::{Deliverer, DelivererConfig, EndpointPolicy, Outcome};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::directory::{ChannelSpec, NoticeChannel};
use rempart_domain::ids::NoticeId;
use rempart_domain::notice::{NoticeEvent, NoticeState, retry_delay_ms};
use rempart_storage::{AuditEntry, ClaimedJob, JobEnd, NewJob, NoticeChange, NoticeRecord};
use std::sync::Arc;
use std::time::Duration;

/// Deliveries one node runs at once (each slot takes the next due job when it is free).
const BATCH: u32 = 16;
/// The jobs the delivery workers run.
const KINDS: &[&str] = &[
    DELIVERY_JOB,
    REMINDER_JOB,
    crate::referral_mail::REFERRAL_MAIL_JOB,
];

/// The node's delivery side: its HTTP client, its mailer (None: `[smtp]` has no host) and
/// the bell its own sends ring.
pub(crate) struct Delivery {
    pub(crate) deliverer: Deliverer,
    pub(crate) mailer: Option<rempart_mail::Mailer>,
    pub(crate) wake: tokio::sync::Notify,
    /// The bell of the partner webhooks' worker.
    pub(crate) partner_wake: tokio::sync::Notify,
    pub(crate) node: String,
    /// The helpline's late notices as last counted on this node (-1: not yet).
    pub(crate) late_all: std::sync::atomic::AtomicI64,
}

impl Delivery {
    pub(crate) fn new(s: &crate::settings::DeliverySettings) -> Result<Delivery, String> {
        let policy = if s.allow_local_endpoints {
            EndpointPolicy::local()
        } else {
            EndpointPolicy::default()
        };
        let deliverer = Deliverer::new(DelivererConfig {
            total_timeout: Duration::from_secs(s.timeout_seconds),
            connect_timeout: Duration::from_secs(s.timeout_seconds.min(10)),
            policy,
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
        Ok(Delivery {
            deliverer,
            mailer: None,
            wake: tokio::sync::Notify::new(),
            partner_wake: tokio::sync::Notify::new(),
            node: uuid::Uuid::new_v4().simple().to_string(),
            late_all: std::sync::atomic::AtomicI64::new(-1),
        })
    }
}

/// A random number in [0, 1) for the retries' jitter.
fn jitter() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// The wall clock in seconds since the epoch: a signature's timestamp, which the receiver
/// checks against its own clock.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How a job that is not a notice's delivery (a reminder, a referral's mail) ends after `outcome`.
pub(crate) fn job_end(app: &App, job: &ClaimedJob, outcome: &Outcome) -> JobEnd {
    match outcome {
        Outcome::Delivered { .. } => JobEnd::Done,
        Outcome::Transient {
            reason,
            retry_after,
            ..
        } if job.attempt < app.settings.delivery.max_attempts => {
            let delay = retry_delay_ms(
                job.attempt,
                app.settings.delivery.retry_base_ms,
                retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                jitter(),
            );
            JobEnd::Retry {
                at: app
                    .now()
                    .saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
                reason: (*reason).to_owned(),
            }
        }
        Outcome::Transient { reason, .. } | Outcome::Permanent { reason, .. } => JobEnd::Failed {
            reason: (*reason).to_owned(),
        },
    }
}

/// The automatic channels, whose deliveries are jobs.
pub(crate) fn is_pushed(c: NoticeChannel) -> bool {
    matches!(
        c,
        NoticeChannel::Coop | NoticeChannel::HttpJson | NoticeChannel::Email
    )
}

/// The job that delivers notice `id` on its channel `index` (its key is also the
/// idempotency key every attempt carries).
pub(crate) fn job_for(id: NoticeId, index: u32, at: i64) -> NewJob {
    NewJob {
        kind: DELIVERY_JOB.into(),
        dedup_key: format!("notice:{id}:delivery:{index}"),
        payload: id.to_string(),
        run_at: at,
    }
}

impl App {
    /// Starts this node's delivery workers (once per node).
    pub(crate) fn start_delivery(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let poll = Duration::from_millis(app.settings.delivery.poll_ms);
            // longer than any attempt's timeout (checked with the settings)
            let lease_ms = i64::try_from(app.settings.delivery.lease_seconds)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000);
            // each of the BATCH slots takes a new job as soon as its attempt ends: a slow
            // platform holds its own slots only, never the others' deliveries
            let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(BATCH as usize));
            let freed = std::sync::Arc::new(tokio::sync::Notify::new());
            loop {
                let free = slots.available_permits();
                if free == 0 {
                    freed.notified().await;
                    continue;
                }
                let now = app.now();
                let wait = match app.store.next_job_due(KINDS).await {
                    Ok(Some(at)) if at <= now => {
                        let limit = u32::try_from(free).unwrap_or(BATCH);
                        match app
                            .store
                            .claim_jobs(KINDS, &app.delivery.node, now, lease_ms, limit)
                            .await
                        {
                            Ok(jobs) if !jobs.is_empty() => {
                                for job in jobs {
                                    let Ok(permit) = slots.clone().try_acquire_owned() else {
                                        // cannot happen (as many jobs as free slots); the
                                        // lease gives the job back if it ever does
                                        break;
                                    };
                                    let app = app.clone();
                                    let freed = freed.clone();
                                    tokio::spawn(async move {
                                        if job.kind == REMINDER_JOB {
                                            app.remind(&job).await
                                        } else if job.kind
                                            == crate::referral_mail::REFERRAL_MAIL_JOB
                                        {
                                            app.send_referral_mail(&job).await
                                        } else {
                                            app.deliver(job).await
                                        }
                                        drop(permit);
                                        freed.notify_one();
                                    });
                                }
                                continue;
                            }
                            Ok(_) => poll,
                            Err(e) => {
                                tracing::warn!(error = %e, "delivery jobs could not be claimed");
                                poll
                            }
                        }
                    }
                    Ok(Some(at)) => {
                        poll.min(Duration::from_millis(u64::try_from(at - now).unwrap_or(0)))
                    }
                    Ok(None) => poll,
                    Err(e) => {
                        tracing::warn!(error = %e, "delivery jobs could not be read");
                        poll
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = app.delivery.wake.notified() => {}
                    _ = freed.notified() => {}
                }
            }
        });
    }

    /// This node's name for job leases.
    pub(crate) fn delivery_node(&self) -> String {
        self.delivery.node.clone()
    }

    /// Tells this node's workers a job was just queued.
    pub(crate) fn wake_delivery(&self) {
        self.delivery.wake.notify_one();
        self.delivery.partner_wake.notify_one();
    }

    /// The job a notice asks for when it goes out on its platform's channel `index` of
    /// kind `channel`: its delivery when Rempart pushes it, the `notice.available` event
    /// when the platform pulls it and has a webhook, nothing otherwise.
    pub(crate) fn job_for_channel(
        &self,
        platform: &str,
        channel: NoticeChannel,
        id: NoticeId,
        index: u32,
        at: i64,
    ) -> Option<NewJob> {
        if is_pushed(channel) {
            return Some(job_for(id, index, at));
        }
        let has_webhook = self.directory().platform(platform).is_some_and(|p| {
            matches!(
                p.channels.get(index as usize),
                Some(ChannelSpec::RempartApi {
                    webhook_url: Some(_),
                    ..
                })
            )
        });
        has_webhook.then(|| super::partner_webhooks::job_for(id, "sent", at))
    }

    async fn deliver(&self, job: ClaimedJob) {
        let id = match NoticeId::parse(&job.payload) {
            Ok(id) => id,
            Err(_) => {
                let failed = JobEnd::Failed {
                    reason: "bad_job".into(),
                };
                let _ = self.store.end_job(&job, &failed, self.now()).await;
                return;
            }
        };
        if let Err(e) = self.deliver_notice(&job, id).await {
            // the lease runs out and another attempt follows: nothing is lost
            tracing::warn!(error = %e, notice = %id, "delivery attempt not recorded");
        }
    }

    async fn deliver_notice(
        &self,
        job: &ClaimedJob,
        id: NoticeId,
    ) -> Result<(), rempart_storage::StorageError> {
        let Some(n) = self.store.notice(id).await? else {
            let failed = JobEnd::Failed {
                reason: "no_notice".into(),
            };
            self.store.end_job(job, &failed, self.now()).await?;
            return Ok(());
        };
        if n.state != NoticeState::Sent || n.delivered_at.is_some() {
            // decided, failed or delivered meanwhile: nothing left to send
            self.store.end_job(job, &JobEnd::Done, self.now()).await?;
            return Ok(());
        }
        let platform = self.directory().platform(&n.platform).cloned();
        let index = n.channel_index as usize;
        let Some(spec) = platform
            .as_ref()
            .and_then(|p| p.channels.get(index).cloned())
        else {
            return self.channel_failed(job, &n, "channel_unknown").await;
        };
        let max = self.settings.delivery.max_attempts;
        let outcome = if job.attempt > max {
            Outcome::Permanent {
                reason: "attempts_exhausted",
                status: None,
            }
        } else {
            self.attempt(&spec, job, &n).await
        };
        let now = self.now();
        let channel = spec.kind();
        match outcome {
            Outcome::Delivered { receipt, .. } => {
                let change = NoticeChange {
                    from: Some(NoticeState::Sent),
                    at: now,
                    ticket: receipt,
                    delivered_at: Some(now),
                    attempts: Some(job.attempt),
                    last_error: Some(None),
                    ..Default::default()
                };
                let audit = AuditEntry::new(
                    now,
                    None,
                    AuditEvent::NoticeDelivered {
                        channel,
                        attempt: job.attempt,
                    },
                )
                .object(n.id)
                .case(n.case_id);
                self.store
                    .end_notice_job(job, &JobEnd::Done, n.id, &change, None, Some(&audit))
                    .await?;
            }
            Outcome::Transient {
                reason,
                retry_after,
                ..
            } if job.attempt < max => {
                let delay = retry_delay_ms(
                    job.attempt,
                    self.settings.delivery.retry_base_ms,
                    retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    jitter(),
                );
                let at = now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
                let change = NoticeChange {
                    from: Some(NoticeState::Sent),
                    at: now,
                    attempts: Some(job.attempt),
                    last_error: Some(Some(reason.to_owned())),
                    ..Default::default()
                };
                let retry = JobEnd::Retry {
                    at,
                    reason: reason.to_owned(),
                };
                self.store
                    .end_notice_job(job, &retry, n.id, &change, None, None)
                    .await?;
            }
            Outcome::Transient { reason, .. } | Outcome::Permanent { reason, .. } => {
                self.channel_failed(job, &n, reason).await?;
            }
        }
        Ok(())
    }

    /// One attempt on `spec` with the notice's stored bytes.
    async fn attempt(&self, spec: &ChannelSpec, job: &ClaimedJob, n: &NoticeRecord) -> Outcome {
        let body = n.payload.as_deref().unwrap_or("").as_bytes();
        let d = &self.delivery.deliverer;
        let missing = Outcome::Permanent {
            reason: "secret_missing",
            status: None,
        };
        match spec {
            ChannelSpec::Coop { url, secret, .. } => match self.platform_secret(secret) {
                Some(key) => d.send_coop_report(url, key.expose(), body).await,
                None => missing,
            },
            ChannelSpec::HttpJson { url, secret } => match self.platform_secret(secret) {
                Some(key) => {
                    d.send_http_json(url, key.expose(), &job.dedup_key, body, unix_now())
                        .await
                }
                None => missing,
            },
            ChannelSpec::Email { .. } => match &self.delivery.mailer {
                Some(mailer) => {
                    super::email::send(mailer, n.payload.as_deref().unwrap_or("")).await
                }
                None => Outcome::Permanent {
                    reason: "smtp_not_configured",
                    status: None,
                },
            },
            // nothing to push: the platform pulls, or a counsellor submits by hand
            ChannelSpec::RempartApi { .. } | ChannelSpec::Portal { .. } => Outcome::Delivered {
                status: 0,
                receipt: None,
                at_platform: rempart_delivery::AtPlatform::Taken,
            },
        }
    }

    /// The channel in use failed for good: the platform's next channel takes the notice
    /// (its own bytes, and its own job when it is pushed), or the notice is `failed`.
    async fn channel_failed(
        &self,
        job: &ClaimedJob,
        n: &NoticeRecord,
        reason: &str,
    ) -> Result<(), rempart_storage::StorageError> {
        let now = self.now();
        let channel = n.channel.unwrap_or(NoticeChannel::Portal);
        let audit = AuditEntry::new(
            now,
            None,
            AuditEvent::NoticeDeliveryFailed {
                channel,
                reason: reason.to_owned(),
            },
        )
        .object(n.id)
        .case(n.case_id);
        let failed = JobEnd::Failed {
            reason: reason.to_owned(),
        };
        let next_index = n.channel_index + 1;
        let items = self.store.items(n.case_id).await?;
        let next = self
            .directory()
            .platform(&n.platform)
            .and_then(|p| p.channels.get(next_index as usize).map(ChannelSpec::kind))
            .and_then(|_| self.payload_for(n, &items, next_index as usize, now).ok());
        let (change, next_job) = match next {
            Some((kind, body)) => (
                NoticeChange {
                    from: Some(NoticeState::Sent),
                    at: now,
                    channel_index: Some(next_index),
                    channel: Some(kind),
                    payload: Some(body),
                    attempts: Some(job.attempt),
                    last_error: Some(Some(reason.to_owned())),
                    ..Default::default()
                },
                self.job_for_channel(&n.platform, kind, n.id, next_index, now),
            ),
            None => (
                NoticeChange {
                    from: Some(NoticeState::Sent),
                    to: NoticeState::Sent.apply(&NoticeEvent::DeliveryFailed).ok(),
                    at: now,
                    attempts: Some(job.attempt),
                    last_error: Some(Some(reason.to_owned())),
                    ..Default::default()
                },
                None,
            ),
        };
        self.store
            .end_notice_job(job, &failed, n.id, &change, next_job.as_ref(), Some(&audit))
            .await?;
        Ok(())
    }
}

/// For [`App::start`]: the node's delivery side (its HTTP client and mailer, built once).
pub(crate) fn delivery(s: &crate::settings::Settings) -> Result<Arc<Delivery>, String> {
    let mut d = Delivery::new(&s.delivery)?;
    d.mailer = super::email::mailer(&s.smtp)?;
    Ok(Arc::new(d))
}
