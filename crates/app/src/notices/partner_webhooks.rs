//! Rempart's outbound webhooks to partner platforms: when a notice goes out on a
//! platform's `rempart_api` channel that has a webhook (and again when it is reminded),
//! a durable job — written in the same transaction as the change — posts a
//! `notice.available` event signed per Standard Webhooks (`webhook-id` is the job's key,
//! the same on every retry: the receiver's idempotency key). Transient failures are retried
//! with the delivery settings' backoff; a permanent one ends the job (the notice still
//! waits to be pulled: the event is only a bell).

use super::payload::iso;
use crate::App;
use rempart_delivery::Outcome;
use rempart_domain::directory::ChannelSpec;
use rempart_domain::ids::NoticeId;
use rempart_domain::notice::retry_delay_ms;
use rempart_storage::{ClaimedJob, JobEnd, NewJob};
use std::time::Duration;

/// The job kind of a partner's webhook event.
pub const PARTNER_WEBHOOK_JOB: &str = "partner_webhook";
/// The event a partner receives when a notice waits for it.
pub const NOTICE_AVAILABLE: &str = "notice.available";
/// Jobs one node claims at once.
const BATCH: u32 = 16;

/// The job that tells the platform notice `id` waits for it; `why` tells apart the events
/// of one notice (`sent`, then each reminder's own word).
pub(crate) fn job_for(id: NoticeId, why: &str, at: i64) -> NewJob {
    NewJob {
        kind: PARTNER_WEBHOOK_JOB.into(),
        dedup_key: format!("notice:{id}:available:{why}"),
        payload: id.to_string(),
        run_at: at,
    }
}

/// The event's body: its type, its time and the notice's id and reference (the platform
/// fetches the notice itself with its key).
pub fn event_body(id: &str, reference: &str, at_ms: i64) -> String {
    serde_json::json!({
        "type": NOTICE_AVAILABLE,
        "timestamp": iso(at_ms),
        "data": { "id": id, "reference": reference },
    })
    .to_string()
}

impl App {
    /// The job that tells the platform again that notice `id` waits (a reminder), when its
    /// channel in use is the partner API with a webhook; `why` names the reminder
    /// (`reminder-1`…) so each is its own event.
    pub fn partner_reminder_job(
        &self,
        platform: &str,
        index: u32,
        id: NoticeId,
        why: &str,
        at: i64,
    ) -> Option<NewJob> {
        self.partner_webhook_of(platform, index)
            .map(|_| job_for(id, why, at))
    }

    /// The webhook (URL, secret's name) of a platform's channel `index`, if it is the
    /// partner API with one.
    fn partner_webhook_of(&self, platform: &str, index: u32) -> Option<(String, String)> {
        let directory = self.directory();
        match directory.platform(platform)?.channels.get(index as usize)? {
            ChannelSpec::RempartApi {
                webhook_url: Some(url),
                webhook_secret: Some(secret),
            } => Some((url.clone(), secret.clone())),
            _ => None,
        }
    }

    /// Starts this node's partner webhook workers (once per node).
    pub(crate) fn start_partner_webhooks(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let poll = Duration::from_millis(app.settings.delivery.poll_ms);
            // the delivery setting's lease: longer than any attempt's timeout
            let lease_ms = i64::try_from(app.settings.delivery.lease_seconds)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000);
            let kinds = [PARTNER_WEBHOOK_JOB];
            loop {
                let now = app.now();
                let wait = match app.store.next_job_due(&kinds).await {
                    Ok(Some(at)) if at <= now => {
                        match app
                            .store
                            .claim_jobs(&kinds, &app.delivery.node, now, lease_ms, BATCH)
                            .await
                        {
                            Ok(jobs) if !jobs.is_empty() => {
                                let mut set = tokio::task::JoinSet::new();
                                for job in jobs {
                                    let app = app.clone();
                                    set.spawn(async move { app.post_partner_event(job).await });
                                }
                                while set.join_next().await.is_some() {}
                                continue;
                            }
                            Ok(_) => poll,
                            Err(e) => {
                                tracing::warn!(error = %e, "partner webhook jobs could not be claimed");
                                poll
                            }
                        }
                    }
                    Ok(Some(at)) => {
                        poll.min(Duration::from_millis(u64::try_from(at - now).unwrap_or(0)))
                    }
                    Ok(None) => poll,
                    Err(e) => {
                        tracing::warn!(error = %e, "partner webhook jobs could not be read");
                        poll
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = app.delivery.partner_wake.notified() => {}
                }
            }
        });
    }

    async fn post_partner_event(&self, job: ClaimedJob) {
        let end = self.partner_event_outcome(&job).await;
        match self.store.end_job(&job, &end, self.now()).await {
            Ok(_) => {}
            // the lease runs out and another attempt follows: nothing is lost
            Err(e) => tracing::warn!(error = %e, "partner webhook attempt not recorded"),
        }
    }

    async fn partner_event_outcome(&self, job: &ClaimedJob) -> JobEnd {
        let failed = |reason: &str| JobEnd::Failed {
            reason: reason.to_owned(),
        };
        let Ok(id) = NoticeId::parse(&job.payload) else {
            return failed("bad_job");
        };
        let n = match self.store.notice(id).await {
            Ok(Some(n)) => n,
            Ok(None) => return failed("no_notice"),
            Err(_) => {
                return JobEnd::Retry {
                    at: self
                        .now()
                        .saturating_add(self.settings.delivery.retry_base_ms as i64),
                    reason: "storage".into(),
                };
            }
        };
        if n.state.is_decided() {
            // decided meanwhile: nothing waits any more
            return JobEnd::Done;
        }
        let Some((url, secret_name)) = self.partner_webhook_of(&n.platform, n.channel_index) else {
            return failed("no_webhook");
        };
        let Some(secret) = self.platform_secret(&secret_name) else {
            tracing::warn!(platform = %n.platform, "partner webhook secret missing");
            return failed("secret_missing");
        };
        let body = event_body(
            &n.id.to_string(),
            &n.reference,
            n.sent_at.unwrap_or(n.updated_at),
        );
        let outcome = self
            .delivery
            .deliverer
            .send_http_json(
                &url,
                secret.expose(),
                &job.dedup_key,
                body.as_bytes(),
                super::delivery::unix_now(),
            )
            .await;
        let max = self.settings.delivery.max_attempts;
        match outcome {
            Outcome::Delivered { .. } => JobEnd::Done,
            Outcome::Transient {
                reason,
                retry_after,
                ..
            } if job.attempt < max => {
                let delay = retry_delay_ms(
                    job.attempt,
                    self.settings.delivery.retry_base_ms,
                    retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    0.5,
                );
                JobEnd::Retry {
                    at: self
                        .now()
                        .saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
                    reason: reason.to_owned(),
                }
            }
            Outcome::Transient { reason, .. } | Outcome::Permanent { reason, .. } => {
                tracing::warn!(platform = %n.platform, reason, "partner webhook given up");
                failed(reason)
            }
        }
    }
}
