//! Notices to platforms: the builder (one draft per platform from a case's items, filled
//! with the Article 16 elements), what is missing, ready, four eyes, sending (the notice's
//! state and its delivery job in one transaction, with the exact bytes that will leave),
//! and the platform's acknowledgement and decision recorded by hand.

pub mod callbacks;
pub(crate) mod delivery;
pub mod email;
pub mod followup;
pub mod partner;
pub(crate) mod partner_webhooks;
pub mod payload;

use crate::{App, AppError, ErrorCode};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::directory::{ChannelSpec, NoticeChannel, Platform};
use rempart_domain::ids::{CaseId, NoticeId};
use rempart_domain::notice::{DecisionKind, MissingElement, NoticeEvent, NoticeState};
use rempart_domain::notice_content::{NoticeContent, NoticeItem, default_explanation};
use rempart_domain::policy::{Action, Actor, NoticeAccess, Resource, can};
use rempart_domain::values::Text;
use rempart_storage::{
    AuditEntry, CaseRecord, ItemRecord, NewJob, NewNotice, NoticeChange, NoticeRecord,
};

/// The job kind that delivers a notice on its channel.
pub const DELIVERY_JOB: &str = "notice_delivery";

/// The longest explanation.
const EXPLANATION_MAX: usize = 4000;

/// A notice as the case page shows it.
#[derive(Debug, Clone)]
pub struct NoticeView {
    /// The stored notice.
    pub notice: NoticeRecord,
    /// The platform's display name.
    pub platform_name: String,
    /// What it says.
    pub content: NoticeContent,
    /// What Article 16 requires and it lacks.
    pub missing: Vec<MissingElement>,
    /// The platform's channels, in the order they are tried.
    pub channels: Vec<NoticeChannel>,
    /// Whether the reader may validate it (four eyes).
    pub may_validate: bool,
    /// The platform's web form, when the channel in use is a portal (the counsellor fills
    /// it from the notice's elements and records the ticket).
    pub portal_url: Option<String>,
}

/// What the counsellor changes in a draft.
#[derive(Debug, Clone)]
pub struct NoticeEdit {
    /// Why the content is illegal.
    pub explanation: String,
    /// The items show a minor sexually.
    pub sexual_images_of_minor: bool,
}

/// A decision recorded by hand (a platform that answered by e-mail or on its portal).
#[derive(Debug, Clone)]
pub struct DecisionInput {
    /// What the platform decided.
    pub decision: DecisionKind,
    /// Its ticket, if it gave one.
    pub ticket: Option<String>,
    /// The ground or redress information it gave.
    pub note: Option<String>,
}

fn access(case: &CaseRecord, n: Option<&NoticeRecord>) -> NoticeAccess {
    NoticeAccess {
        case: case.access(),
        prepared_by: n.and_then(|n| n.prepared_by),
    }
}

fn transition(from: NoticeState, ev: NoticeEvent) -> Result<NoticeState, AppError> {
    from.apply(&ev).map_err(|e| {
        AppError::new(
            ErrorCode::InvalidTransition,
            format!("{} is not allowed from {}", e.event, e.from),
        )
    })
}

fn short(s: Option<String>, field: &str, max: usize) -> Result<Option<String>, AppError> {
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => Text::parse(v, max)
            .map(|t| Some(t.into_string()))
            .map_err(|_| AppError::field(field, "too long")),
    }
}

impl App {
    fn platform_of(&self, code: &str) -> Option<Platform> {
        self.directory().platform(code).cloned()
    }

    fn content_of(&self, n: &NoticeRecord, items: &[ItemRecord]) -> NoticeContent {
        let s = &self.settings.helpline;
        NoticeContent {
            platform: n.platform.clone(),
            category: n.category.clone(),
            lang: n.lang.clone(),
            explanation: n.explanation.clone(),
            items: n
                .items
                .iter()
                .filter_map(|id| items.iter().find(|i| i.id == *id))
                .map(|i| NoticeItem {
                    item_id: i.id.to_string(),
                    content_type: i.content_type.clone(),
                    url: i.url.clone(),
                    native_id: i.native_id.clone(),
                })
                .collect(),
            notifier_name: s.name.clone(),
            notifier_email: s.notices_email.clone(),
            sexual_images_of_minor: n.sexual_images_of_minor,
        }
    }

    fn view(
        &self,
        actor: &Actor,
        case: &CaseRecord,
        n: NoticeRecord,
        items: &[ItemRecord],
    ) -> NoticeView {
        let content = self.content_of(&n, items);
        let platform = self.platform_of(&n.platform);
        NoticeView {
            missing: content.missing(),
            platform_name: platform
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_else(|| n.platform.clone()),
            portal_url: platform.as_ref().and_then(|p| {
                match p.channels.get(n.channel_index as usize) {
                    Some(ChannelSpec::Portal { url }) => Some(url.clone()),
                    _ => None,
                }
            }),
            channels: platform
                .map(|p| p.channels.iter().map(ChannelSpec::kind).collect())
                .unwrap_or_default(),
            may_validate: n.state == NoticeState::Ready
                && n.needs_validation
                && n.validated_by.is_none()
                && can(
                    actor,
                    Action::ValidateNotice,
                    Resource::Notice(&access(case, Some(&n))),
                ),
            content,
            notice: n,
        }
    }

    /// Loads a notice and its case for `action`; not found alike when it does not exist
    /// or the actor may not.
    async fn notice_for(
        &self,
        actor: &Actor,
        id: NoticeId,
        action: Action,
    ) -> Result<(NoticeRecord, CaseRecord), AppError> {
        let Some(n) = self.store.notice(id).await? else {
            return Err(AppError::not_found());
        };
        let case = self
            .store
            .case_by_id(n.case_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        if !can(actor, action, Resource::Notice(&access(&case, Some(&n)))) {
            if !can(
                actor,
                Action::ReadNotice,
                Resource::Notice(&access(&case, Some(&n))),
            ) {
                self.store
                    .audit(
                        &AuditEntry::new(self.now(), Some(actor.id), AuditEvent::CaseAccessDenied)
                            .object(n.id)
                            .case(case.id),
                    )
                    .await?;
                return Err(AppError::not_found());
            }
            // sees the case, but this step is someone else's (validating one's own notice)
            return Err(AppError::new(
                ErrorCode::ValidationRequired,
                "a second counsellor must validate this notice",
            ));
        }
        Ok((n, case))
    }

    async fn case_for_notices(
        &self,
        actor: &Actor,
        case: CaseId,
        action: Action,
    ) -> Result<CaseRecord, AppError> {
        let c = self
            .store
            .case_by_id(case)
            .await?
            .ok_or_else(AppError::not_found)?;
        if !can(actor, action, Resource::Notice(&access(&c, None))) {
            self.store
                .audit(
                    &AuditEntry::new(self.now(), Some(actor.id), AuditEvent::CaseAccessDenied)
                        .object(c.id)
                        .case(c.id),
                )
                .await?;
            return Err(AppError::not_found());
        }
        Ok(c)
    }

    /// A case's notices, with what each lacks.
    pub async fn case_notices(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> Result<Vec<NoticeView>, AppError> {
        let c = self
            .case_for_notices(actor, case, Action::ReadNotice)
            .await?;
        let items = self.store.items(case).await?;
        Ok(self
            .store
            .notices_of_case(case)
            .await?
            .into_iter()
            .map(|n| self.view(actor, &c, n, &items))
            .collect())
    }

    /// One notice.
    pub async fn notice(&self, actor: &Actor, id: NoticeId) -> Result<NoticeView, AppError> {
        let (n, c) = self.notice_for(actor, id, Action::ReadNotice).await?;
        let items = self.store.items(c.id).await?;
        Ok(self.view(actor, &c, n, &items))
    }

    /// "Signaler aux plateformes": one draft per platform for the case's items that are in
    /// no notice yet, filled from the case (the category's explanation and articles, the
    /// platform's language and expected delay). Returns the new drafts.
    pub async fn propose_notices(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> Result<Vec<NoticeView>, AppError> {
        let c = self
            .case_for_notices(actor, case, Action::PrepareNotice)
            .await?;
        let items = self.store.items(case).await?;
        let noticed = self.store.noticed_items(case).await?;
        let mut groups: Vec<(String, Vec<&ItemRecord>)> = Vec::new();
        for i in items.iter().filter(|i| !noticed.contains(&i.id)) {
            match groups.iter_mut().find(|(p, _)| *p == i.platform) {
                Some((_, g)) => g.push(i),
                None => groups.push((i.platform.clone(), vec![i])),
            }
        }
        let category_code = c
            .categories
            .first()
            .cloned()
            .unwrap_or_else(|| "other".into());
        let category = self.taxonomy.get(&category_code).cloned();
        let mut count = self.store.count_notices(case).await?;
        let now = self.now();
        let mut drafts = Vec::new();
        for (platform, group) in groups {
            let Some(p) = self.platform_of(&platform) else {
                continue;
            };
            count += 1;
            let sexual = category.as_ref().is_some_and(|k| k.sensitive_images);
            let d = NewNotice {
                id: NoticeId::new(),
                reference: format!("{}-N{count}", c.reference),
                case_id: case,
                platform: platform.clone(),
                category: category_code.clone(),
                lang: p.lang.clone(),
                explanation: category
                    .as_ref()
                    .map(|k| default_explanation(k, &p.lang))
                    .unwrap_or_default(),
                sexual_images_of_minor: sexual,
                needs_validation: sexual,
                expected_hours: p.expected_hours_for(&category_code),
                items: group.iter().map(|i| i.id).collect(),
                created_by: actor.id,
                at: now,
            };
            drafts.push(d);
        }
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        self.store
            .create_notices(
                &drafts,
                &AuditEntry::new(
                    now,
                    Some(actor.id),
                    AuditEvent::NoticesDrafted {
                        count: u32::try_from(drafts.len()).unwrap_or(u32::MAX),
                    },
                )
                .case(case),
            )
            .await?;
        let mut out = Vec::new();
        for d in drafts {
            if let Some(n) = self.store.notice(d.id).await? {
                out.push(self.view(actor, &c, n, &items));
            }
        }
        Ok(out)
    }

    async fn change(
        &self,
        actor: &Actor,
        n: &NoticeRecord,
        change: NoticeChange,
        job: Option<&NewJob>,
        event: AuditEvent,
    ) -> Result<(), AppError> {
        self.store
            .change_notice(
                n.id,
                &change,
                job,
                &AuditEntry::new(change.at, Some(actor.id), event)
                    .object(n.id)
                    .case(n.case_id),
            )
            .await?;
        Ok(())
    }

    /// Edits a draft.
    pub async fn edit_notice(
        &self,
        actor: &Actor,
        id: NoticeId,
        edit: NoticeEdit,
    ) -> Result<(), AppError> {
        let (n, _) = self.notice_for(actor, id, Action::PrepareNotice).await?;
        if n.state != NoticeState::Draft {
            return Err(AppError::new(
                ErrorCode::InvalidTransition,
                "only a draft can be edited",
            ));
        }
        let explanation = Text::parse(&edit.explanation, EXPLANATION_MAX)
            .map_err(|_| AppError::field("explanation", "empty or too long"))?;
        let category = self.taxonomy.get(&n.category);
        let needs = edit.sexual_images_of_minor || category.is_some_and(|c| c.sensitive_images);
        let change = NoticeChange {
            from: Some(NoticeState::Draft),
            at: self.now(),
            explanation: Some(explanation.into_string()),
            sexual_images_of_minor: Some(edit.sexual_images_of_minor),
            needs_validation: Some(needs),
            ..Default::default()
        };
        self.change(actor, &n, change, None, AuditEvent::NoticeEdited)
            .await
    }

    /// Marks a complete draft ready; refused with what is missing otherwise.
    pub async fn mark_notice_ready(&self, actor: &Actor, id: NoticeId) -> Result<(), AppError> {
        let (n, c) = self.notice_for(actor, id, Action::PrepareNotice).await?;
        let to = transition(n.state, NoticeEvent::MarkReady)?;
        let items = self.store.items(c.id).await?;
        let missing = self.content_of(&n, &items).missing();
        if !missing.is_empty() {
            let codes: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
            return Err(AppError::new(
                ErrorCode::NoticeIncomplete,
                format!("missing: {}", codes.join(", ")),
            ));
        }
        // the exact bytes are fixed now: what a second counsellor validates and what the
        // counsellor sees before sending is what leaves
        let now = self.now();
        let (channel, body) = self.payload_for(&n, &items, 0, now)?;
        let change = NoticeChange {
            from: Some(n.state),
            to: Some(to),
            at: now,
            prepared_by: Some(Some(actor.id)),
            validated_by: Some(None),
            channel_index: Some(0),
            channel: Some(channel),
            payload: Some(body),
            ..Default::default()
        };
        self.change(actor, &n, change, None, AuditEvent::NoticeReady)
            .await
    }

    /// Back to draft, to edit it.
    pub async fn unready_notice(&self, actor: &Actor, id: NoticeId) -> Result<(), AppError> {
        let (n, _) = self.notice_for(actor, id, Action::PrepareNotice).await?;
        let to = transition(n.state, NoticeEvent::Unready)?;
        let change = NoticeChange {
            from: Some(n.state),
            to: Some(to),
            at: self.now(),
            prepared_by: Some(None),
            validated_by: Some(None),
            ..Default::default()
        };
        self.change(actor, &n, change, None, AuditEvent::NoticeEdited)
            .await
    }

    /// A second counsellor validates a ready notice that needs it.
    pub async fn validate_notice(&self, actor: &Actor, id: NoticeId) -> Result<(), AppError> {
        let (n, _) = self.notice_for(actor, id, Action::ValidateNotice).await?;
        if n.state != NoticeState::Ready || !n.needs_validation {
            return Err(AppError::new(
                ErrorCode::InvalidTransition,
                "only a ready notice that needs it is validated",
            ));
        }
        let change = NoticeChange {
            from: Some(NoticeState::Ready),
            at: self.now(),
            validated_by: Some(Some(actor.id)),
            ..Default::default()
        };
        self.change(actor, &n, change, None, AuditEvent::NoticeValidated)
            .await
    }

    /// The bytes a notice will leave with on its platform's channel `index`, and the
    /// channel's kind (what marking it ready fixes; the notices' benchmark builds its ready
    /// notices in bulk with it).
    pub fn payload_for(
        &self,
        n: &NoticeRecord,
        items: &[ItemRecord],
        index: usize,
        sent_at: i64,
    ) -> Result<(NoticeChannel, String), AppError> {
        let p = self
            .platform_of(&n.platform)
            .ok_or_else(|| AppError::field("platform", "not in the directory"))?;
        let spec = p
            .channels
            .get(index)
            .ok_or_else(|| AppError::field("platform", "has no channel"))?;
        let content = self.content_of(n, items);
        let e = payload::Envelope {
            id: &n.id.to_string(),
            reference: &n.reference,
            sent_at,
        };
        let body = match spec {
            ChannelSpec::Coop {
                reporter_type_id,
                reporter_id,
                item_type_id,
                ..
            } => payload::coop_report(
                &e,
                &content,
                &payload::CoopIds {
                    reporter_type_id,
                    reporter_id,
                    item_type_id,
                },
            ),
            ChannelSpec::Email { address } => {
                self.notice_mail(n, &content, address, index, sent_at)?
            }
            _ => payload::rempart_notice(&e, &content, self.taxonomy.get(&n.category)),
        };
        Ok((spec.kind(), body))
    }

    /// Sends a ready notice: its state, the exact bytes that will leave and its delivery
    /// job commit together; a worker on any node delivers it. A notice that needs a second
    /// counsellor is refused until one validated it. On a portal the counsellor submits by
    /// hand (nothing is queued) and records the ticket.
    pub async fn send_notice(&self, actor: &Actor, id: NoticeId) -> Result<(), AppError> {
        let (n, c) = self.notice_for(actor, id, Action::PrepareNotice).await?;
        let to = transition(n.state, NoticeEvent::Send)?;
        if n.needs_validation && n.validated_by.is_none() {
            return Err(AppError::new(
                ErrorCode::ValidationRequired,
                "a second counsellor must validate this notice",
            ));
        }
        let items = self.store.items(c.id).await?;
        if !self.content_of(&n, &items).missing().is_empty() {
            return Err(AppError::new(
                ErrorCode::NoticeIncomplete,
                "missing elements",
            ));
        }
        let now = self.now();
        // the bytes fixed when it was marked ready (and validated), as they are
        let (channel, body) = match (n.channel, n.payload.clone()) {
            (Some(c), Some(p)) => (c, p),
            _ => self.payload_for(&n, &items, 0, now)?,
        };
        let job = self.job_for_channel(&n.platform, channel, n.id, 0, now);
        let change = NoticeChange {
            from: Some(n.state),
            to: Some(to),
            at: now,
            channel_index: Some(0),
            channel: Some(channel),
            payload: Some(body),
            sent_at: Some(now),
            due_at: Some(now + i64::from(n.expected_hours) * 3_600_000),
            ..Default::default()
        };
        self.change(
            actor,
            &n,
            change,
            job.as_ref(),
            AuditEvent::NoticeSent { channel },
        )
        .await?;
        if job.is_some() {
            self.wake_delivery();
        }
        Ok(())
    }

    /// Records the platform's acknowledgement by hand (a portal's ticket number, an
    /// e-mail answer).
    pub async fn acknowledge_notice(
        &self,
        actor: &Actor,
        id: NoticeId,
        ticket: Option<String>,
    ) -> Result<(), AppError> {
        let (n, _) = self.notice_for(actor, id, Action::PrepareNotice).await?;
        let to = transition(n.state, NoticeEvent::Acknowledge)?;
        let now = self.now();
        let change = NoticeChange {
            from: Some(n.state),
            to: Some(to),
            at: now,
            ticket: short(ticket, "ticket", 200)?,
            acknowledged_at: Some(now),
            delivered_at: n.delivered_at.or(Some(now)),
            ..Default::default()
        };
        self.change(actor, &n, change, None, AuditEvent::NoticeEdited)
            .await
    }

    /// Records the platform's decision by hand (audited with its source, `manual`).
    pub async fn record_notice_decision(
        &self,
        actor: &Actor,
        id: NoticeId,
        input: DecisionInput,
    ) -> Result<(), AppError> {
        let (n, _) = self.notice_for(actor, id, Action::PrepareNotice).await?;
        self.decide(Some(actor), &n, input, "manual").await
    }

    /// Records a decision from any source.
    pub(crate) async fn decide(
        &self,
        actor: Option<&Actor>,
        n: &NoticeRecord,
        input: DecisionInput,
        source: &str,
    ) -> Result<(), AppError> {
        let event = AuditEvent::NoticeDecided {
            decision: input.decision,
            source: source.to_owned(),
        };
        self.decide_with(actor, n, input, source, self.now(), event)
            .await
    }

    /// Records a decision taken at `decided_at` (ms; the platform's own time when it says
    /// when it decided), audited with `event`.
    pub(crate) async fn decide_with(
        &self,
        actor: Option<&Actor>,
        n: &NoticeRecord,
        input: DecisionInput,
        source: &str,
        decided_at: i64,
        event: AuditEvent,
    ) -> Result<(), AppError> {
        let to = transition(n.state, NoticeEvent::Decide(input.decision.decision()))?;
        let now = self.now();
        let removed = to == NoticeState::Removed;
        let change = NoticeChange {
            from: Some(n.state),
            to: Some(to),
            at: now,
            ticket: short(input.ticket, "ticket", 200)?,
            decision: Some(input.decision),
            decision_source: Some(source.to_owned()),
            decision_note: short(input.note, "note", 2000)?,
            decided_at: Some(decided_at),
            removed_at: removed.then_some(decided_at),
            delivered_at: n.delivered_at.or(Some(now)),
            ..Default::default()
        };
        self.store
            .change_notice(
                n.id,
                &change,
                None,
                &AuditEntry::new(now, actor.map(|a| a.id), event)
                    .object(n.id)
                    .case(n.case_id),
            )
            .await?;
        Ok(())
    }
}
