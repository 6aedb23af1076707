//! Following notices up: the helpline's notices list and late view, each platform's
//! figures (time to acknowledgement, decision and removal: median and 90th percentile),
//! the escalation of notices past their platform's expected delay (a scheduled job that
//! one node at a time runs: the notice is escalated, a reminder goes on the first channel
//! from the one in use that can carry one, and the case timeline says so), and contesting
//! a refusal.

use super::{NoticeView, delivery, short, transition};
use crate::{App, AppError};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::directory::{ChannelSpec, NoticeChannel};
use rempart_domain::ids::NoticeId;
use rempart_domain::notice::{NoticeEvent, NoticeState};
use rempart_domain::policy::{Action, Actor, Resource, can, case_scope};
use rempart_storage::{
    AuditEntry, ClaimedJob, JobEnd, NewJob, NoticeChange, NoticeCursor, NoticeFilter, NoticePage,
    NoticeRecord,
};
use std::time::Duration;

/// The scheduled job that looks for late notices (one for the whole helpline).
pub const ESCALATION_JOB: &str = "notice_escalation";
/// The job that sends a reminder to a platform.
pub const REMINDER_JOB: &str = "notice_reminder";
const ESCALATION_KEY: &str = "notices:escalation";
/// The late notices a view counts at most.
pub const LATE_CAP: i64 = 100;
/// The sweep's lease: one node at a time.
const SWEEP_LEASE_MS: i64 = 60_000;
/// Notices escalated in one sweep at most (the next sweep takes the rest).
const SWEEP_BATCH: i64 = 500;

/// What the notices list asks for.
#[derive(Debug, Clone, Default)]
pub struct NoticeQuery {
    /// Platform code.
    pub platform: Option<String>,
    /// State.
    pub state: Option<NoticeState>,
    /// Only the late ones, most overdue first.
    pub late: bool,
    /// Category code.
    pub category: Option<String>,
    /// Start after (a cursor's text form).
    pub after: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
}

/// One figure: over how many notices, median and 90th percentile (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figure {
    /// Notices counted.
    pub count: usize,
    /// Median (ms).
    pub median_ms: Option<i64>,
    /// 90th percentile (ms).
    pub p90_ms: Option<i64>,
}

/// A platform's figures over its sent notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlatformFigures {
    /// Notices sent.
    pub sent: usize,
    /// From sending to the platform's acknowledgement.
    pub to_acknowledgement: Figure,
    /// From sending to its decision.
    pub to_decision: Figure,
    /// From sending to the content's removal.
    pub to_removal: Figure,
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn figure(mut v: Vec<i64>) -> Figure {
    v.sort_unstable();
    Figure {
        count: v.len(),
        median_ms: percentile(&v, 50.0),
        p90_ms: percentile(&v, 90.0),
    }
}

/// The first channel from `from` on that can carry a reminder: a signed push
/// (`http_json`), an e-mail when this node sends mail, a partner's webhook. ROOST Coop's
/// Report API has no reminder, a portal is reminded by hand.
fn reminder_channel(
    channels: &[ChannelSpec],
    from: usize,
    mail: bool,
) -> Option<(usize, NoticeChannel)> {
    channels
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, c)| match c {
            ChannelSpec::HttpJson { .. } => true,
            ChannelSpec::Email { .. } => mail,
            ChannelSpec::RempartApi {
                webhook_url: Some(_),
                webhook_secret: Some(_),
            } => true,
            _ => false,
        })
        .map(|(i, c)| (i, c.kind()))
}

/// The words of a reminder (the e-mail's text; the push's `message`).
fn reminder_message(en: bool, contested: bool) -> &'static str {
    match (en, contested) {
        (false, false) => {
            "Ce signalement a dépassé le délai de traitement attendu : merci de nous indiquer votre décision."
        }
        (true, false) => {
            "This notice is past its expected handling time: please let us know your decision."
        }
        (false, true) => {
            "Nous contestons la décision de refus de ce signalement : merci de le réexaminer."
        }
        (true, true) => "We contest the refusal of this notice: please review it again.",
    }
}

/// A reminder mail's text.
pub(crate) fn reminder_text(n: &NoticeRecord, en: bool) -> String {
    let (r, s, d, k, why) = if en {
        (
            "Notice reference",
            "Sent",
            "Decision expected by",
            "Your ticket",
            "Why we contest it",
        )
    } else {
        (
            "Référence du signalement",
            "Envoyé le",
            "Décision attendue avant le",
            "Votre ticket",
            "Motif de la contestation",
        )
    };
    let mut t = String::from(reminder_message(en, n.contest_reason.is_some()));
    t.push_str("\n\n");
    t.push_str(&format!("{r} : {}\n", n.reference));
    if let Some(at) = n.sent_at {
        t.push_str(&format!("{s} : {}\n", super::payload::iso(at)));
    }
    if let Some(at) = n.due_at {
        t.push_str(&format!("{d} : {}\n", super::payload::iso(at)));
    }
    if let Some(ticket) = &n.ticket {
        t.push_str(&format!("{k} : {ticket}\n"));
    }
    if let Some(c) = &n.contest_reason {
        t.push_str(&format!("\n{why} :\n{c}\n"));
    }
    t
}

fn reminder_job(id: NoticeId, n: u32, index: usize, at: i64) -> NewJob {
    NewJob {
        kind: REMINDER_JOB.into(),
        dedup_key: format!("notice:{id}:reminder:{n}"),
        payload: format!("{id}:{index}:{n}"),
        run_at: at,
    }
}

/// The reminder's body: which notice, when it was sent and due, and what the helpline asks.
pub fn reminder_body(app_name: &str, email: &str, n: &NoticeRecord, number: u32) -> String {
    let en = n.lang.starts_with("en");
    let contested = n.contest_reason.is_some();
    let message = reminder_message(en, contested);
    let mut v = serde_json::json!({
        "type": if contested { "notice.contest" } else { "notice.reminder" },
        "reminder": number,
        "notice": {
            "id": n.id.to_string(),
            "reference": n.reference,
            "sent_at": n.sent_at.map(super::payload::iso),
            "due_at": n.due_at.map(super::payload::iso),
            "ticket": n.ticket,
        },
        "notifier": { "name": app_name, "email": email },
        "message": message,
    });
    if let Some(r) = &n.contest_reason {
        v["reason"] = serde_json::Value::String(r.clone());
    }
    v.to_string()
}

impl App {
    /// A page of the helpline's notices the actor may see (or its late ones, most overdue
    /// first).
    pub async fn list_notices(
        &self,
        actor: &Actor,
        q: NoticeQuery,
    ) -> Result<NoticePage, AppError> {
        if !can(actor, Action::ListCases, Resource::Global) {
            return Err(AppError::not_found());
        }
        let cursor = match q.after.as_deref() {
            None | Some("") => None,
            Some(s) => Some(
                NoticeCursor::decode(s).ok_or_else(|| AppError::field("after", "not a cursor"))?,
            ),
        };
        Ok(self
            .store
            .list_notices(&NoticeFilter {
                scope: case_scope(actor),
                platform: q.platform,
                state: q.state,
                late: q.late,
                category: q.category,
                now: self.now(),
                cursor,
                limit: q.limit.unwrap_or(50),
            })
            .await?)
    }

    /// How many of the notices the actor may see are late, up to [`LATE_CAP`] (the views
    /// say "100+" past it).
    pub async fn late_notices(&self, actor: &Actor) -> Result<u64, AppError> {
        if !can(actor, Action::ListCases, Resource::Global) {
            return Ok(0);
        }
        Ok(self
            .store
            .count_late_notices(&case_scope(actor), self.now(), LATE_CAP)
            .await?)
    }

    /// A platform's figures over the notices sent to it in the last 365 days (times only:
    /// no case is read).
    pub async fn platform_figures(
        &self,
        actor: &Actor,
        platform: &str,
    ) -> Result<PlatformFigures, AppError> {
        if !can(actor, Action::ListCases, Resource::Global) {
            return Err(AppError::not_found());
        }
        if self.directory().platform(platform).is_none() {
            return Err(AppError::not_found());
        }
        let since = self.now() - 365 * 86_400_000;
        let times = self.store.notice_times(platform, since).await?;
        let d = |t: Option<i64>, s: i64| t.map(|t| (t - s).max(0));
        Ok(PlatformFigures {
            sent: times.len(),
            to_acknowledgement: figure(
                times
                    .iter()
                    .filter_map(|t| d(t.acknowledged_at, t.sent_at))
                    .collect(),
            ),
            to_decision: figure(
                times
                    .iter()
                    .filter_map(|t| d(t.decided_at, t.sent_at))
                    .collect(),
            ),
            to_removal: figure(
                times
                    .iter()
                    .filter_map(|t| d(t.removed_at, t.sent_at))
                    .collect(),
            ),
        })
    }

    /// The job of reminder `number` about notice `n`, and its channel: on the first channel
    /// from the one in use that carries reminders (a partner is told through its webhook).
    fn reminder(&self, n: &NoticeRecord, number: u32, now: i64) -> Option<(NewJob, NoticeChannel)> {
        let (index, channel) = self.directory().platform(&n.platform).and_then(|p| {
            reminder_channel(
                &p.channels,
                n.channel_index as usize,
                self.delivery.mailer.is_some(),
            )
        })?;
        let job = if channel == NoticeChannel::RempartApi {
            self.partner_reminder_job(
                &n.platform,
                u32::try_from(index).ok()?,
                n.id,
                &format!("reminder-{number}"),
                now,
            )?
        } else {
            reminder_job(n.id, number, index, now)
        };
        Some((job, channel))
    }

    /// Contests a platform's refusal with the helpline's reason: the notice is escalated
    /// again and the reason goes to the platform as a reminder where its channels allow.
    pub async fn contest_notice(
        &self,
        actor: &Actor,
        id: NoticeId,
        reason: String,
    ) -> Result<(), AppError> {
        let (n, _) = self.notice_for(actor, id, Action::PrepareNotice).await?;
        let to = transition(n.state, NoticeEvent::Escalate)?;
        if n.state != NoticeState::Refused {
            return Err(AppError::new(
                crate::ErrorCode::InvalidTransition,
                "only a refusal can be contested",
            ));
        }
        let reason = short(Some(reason), "reason", 2000)?
            .ok_or_else(|| AppError::field("reason", "required"))?;
        let now = self.now();
        let number = n.reminders + 1;
        let job = self.reminder(&n, number, now).map(|(job, _)| job);
        let change = NoticeChange {
            from: Some(n.state),
            to: Some(to),
            at: now,
            escalated_at: Some(now),
            reminders: job.as_ref().map(|_| number),
            contest_reason: Some(reason),
            ..Default::default()
        };
        self.change(actor, &n, change, job.as_ref(), AuditEvent::NoticeContested)
            .await?;
        if job.is_some() {
            self.wake_delivery();
        }
        Ok(())
    }

    /// The helpline's late notices, as this node last counted them (at most a few seconds
    /// old): the supervisors' alert in the console's menu. None for an actor who does not
    /// see every case, or before the first count.
    pub fn late_notices_alert(&self, actor: &Actor) -> Option<u64> {
        if case_scope(actor) != rempart_domain::policy::CaseScope::All {
            return None;
        }
        u64::try_from(
            self.delivery
                .late_all
                .load(std::sync::atomic::Ordering::Relaxed),
        )
        .ok()
    }

    /// Counts the helpline's late notices every few seconds (the supervisors' alert).
    pub(crate) fn count_late_notices(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let every = Duration::from_millis(app.settings.delivery.escalation_check_ms.min(5_000));
            loop {
                match app
                    .store
                    .count_late_notices(
                        &rempart_domain::policy::CaseScope::All,
                        app.now(),
                        i64::MAX,
                    )
                    .await
                {
                    Ok(n) => app.delivery.late_all.store(
                        i64::try_from(n).unwrap_or(i64::MAX),
                        std::sync::atomic::Ordering::Relaxed,
                    ),
                    Err(e) => tracing::debug!(error = %e, "late notices not counted"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Makes sure the helpline's escalation job exists (every node asks; one job stands)
    /// and starts this node's loop that runs it when it is due and no other node holds it.
    pub(crate) fn start_escalation(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let every = app.settings.delivery.escalation_check_ms;
            let job = NewJob {
                kind: ESCALATION_JOB.into(),
                dedup_key: ESCALATION_KEY.into(),
                payload: String::new(),
                run_at: app.now(),
            };
            let poll = Duration::from_millis(every.min(app.settings.delivery.poll_ms * 4));
            let mut ensured = false;
            loop {
                if !ensured {
                    ensured = app.store.ensure_job(&job, app.now()).await.is_ok();
                }
                let now = app.now();
                match app
                    .store
                    .claim_jobs(
                        &[ESCALATION_JOB],
                        &app.delivery_node(),
                        now,
                        SWEEP_LEASE_MS,
                        1,
                    )
                    .await
                {
                    Ok(jobs) => {
                        for j in jobs {
                            app.sweep(&j).await;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "escalation job could not be claimed"),
                }
                tokio::time::sleep(poll).await;
            }
        });
    }

    /// One sweep: escalates the notices past their due time, then asks to be run again.
    async fn sweep(&self, job: &ClaimedJob) {
        let now = self.now();
        let mut escalated = 0usize;
        match self.store.notices_to_escalate(now, SWEEP_BATCH).await {
            Ok(ids) => {
                for id in ids {
                    match self.escalate(id).await {
                        Ok(true) => escalated += 1,
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, notice = %id, "notice not escalated")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "late notices could not be read"),
        }
        if escalated > 0 {
            tracing::info!(escalated, "late notices escalated");
            self.wake_delivery();
        }
        let every = i64::try_from(self.settings.delivery.escalation_check_ms).unwrap_or(60_000);
        let again = JobEnd::Retry {
            at: self.now() + every,
            reason: "scheduled".into(),
        };
        if let Err(e) = self.store.end_job(job, &again, self.now()).await {
            tracing::warn!(error = %e, "escalation job not rescheduled");
        }
    }

    /// Escalates one late notice (`false`: it changed meanwhile).
    async fn escalate(&self, id: NoticeId) -> Result<bool, AppError> {
        let Some(n) = self.store.notice(id).await? else {
            return Ok(false);
        };
        let Ok(to) = n.state.apply(&NoticeEvent::DeadlinePassed) else {
            return Ok(false);
        };
        let now = self.now();
        let number = n.reminders + 1;
        let reminder = self.reminder(&n, number, now);
        let job = reminder.as_ref().map(|(job, _)| job.clone());
        let change = NoticeChange {
            from: Some(n.state),
            to: Some(to),
            at: now,
            escalated_at: Some(now),
            reminders: job.as_ref().map(|_| number),
            ..Default::default()
        };
        let audit = AuditEntry::new(
            now,
            None,
            AuditEvent::NoticeEscalated {
                reminder: reminder
                    .map(|(_, c)| c.as_str().to_owned())
                    .unwrap_or_else(|| "none".into()),
            },
        )
        .object(n.id)
        .case(n.case_id);
        match self
            .store
            .change_notice(n.id, &change, job.as_ref(), &audit)
            .await
        {
            Ok(()) => Ok(true),
            Err(rempart_storage::StorageError::Conflict) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends one reminder (a delivery worker's job).
    pub(crate) async fn remind(&self, job: &ClaimedJob) {
        let mut parts = job.payload.split(':');
        let (Some(id), Some(index)) = (
            parts.next().and_then(|s| NoticeId::parse(s).ok()),
            parts.next().and_then(|s| s.parse::<usize>().ok()),
        ) else {
            let bad = JobEnd::Failed {
                reason: "bad_job".into(),
            };
            let _ = self.store.end_job(job, &bad, self.now()).await;
            return;
        };
        let number = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1);
        let end = match self.store.notice(id).await {
            Ok(Some(n)) if !n.state.is_decided() => {
                let spec = self
                    .directory()
                    .platform(&n.platform)
                    .and_then(|p| p.channels.get(index).cloned());
                match spec {
                    Some(ChannelSpec::HttpJson { url, secret }) => {
                        match self.platform_secret(&secret) {
                            Some(key) => {
                                let s = &self.settings.helpline;
                                let body = reminder_body(&s.name, &s.notices_email, &n, number);
                                let outcome = self
                                    .delivery
                                    .deliverer
                                    .send_http_json(
                                        &url,
                                        key.expose(),
                                        &job.dedup_key,
                                        body.as_bytes(),
                                        delivery::unix_now(),
                                    )
                                    .await;
                                delivery::job_end(self, job, &outcome)
                            }
                            None => JobEnd::Failed {
                                reason: "secret_missing".into(),
                            },
                        }
                    }
                    Some(ChannelSpec::Email { address }) => match &self.delivery.mailer {
                        Some(mailer) => match self.reminder_mail(&n, &address, number) {
                            Ok(mail) => {
                                let outcome = super::email::send(mailer, &mail).await;
                                delivery::job_end(self, job, &outcome)
                            }
                            Err(_) => JobEnd::Failed {
                                reason: "mail_not_rendered".into(),
                            },
                        },
                        None => JobEnd::Failed {
                            reason: "smtp_not_configured".into(),
                        },
                    },
                    _ => JobEnd::Failed {
                        reason: "channel_unknown".into(),
                    },
                }
            }
            // decided meanwhile, or gone: nothing to remind
            Ok(_) => JobEnd::Done,
            Err(e) => {
                tracing::warn!(error = %e, "reminder not sent");
                return;
            }
        };
        if let JobEnd::Failed { reason } = &end {
            tracing::warn!(notice = %id, reason = %reason, "reminder not delivered");
        }
        if let Err(e) = self.store.end_job(job, &end, self.now()).await {
            tracing::warn!(error = %e, "reminder job not ended");
        }
    }
}

/// For the console: whether a notice view offers "contest".
pub fn may_contest(v: &NoticeView) -> bool {
    v.notice.state == NoticeState::Refused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let f = figure(vec![5, 1, 4, 2, 3, 6, 7, 8, 9, 10]);
        assert_eq!(f.count, 10);
        assert_eq!(f.median_ms, Some(5));
        assert_eq!(f.p90_ms, Some(9));
        assert_eq!(figure(vec![]).median_ms, None);
        assert_eq!(figure(vec![42]).p90_ms, Some(42));
    }
}
