//! The partner API's use-cases: platforms whose channel is `rempart_api` pull the notices
//! sent to them and post their acknowledgement and decision, with an API key of their own.
//!
//! - **Keys**: `rpk_` followed by 256 random bits (hex), shown once to the administrator
//!   who issues it; only its SHA-256 is stored (the key is random and long: a plain hash
//!   is enough, as for session tokens). Issuing a new key is a **rotation**: the
//!   platform's other live keys keep working for [`KEY_OVERLAP_MS`] (24 hours — time for
//!   the integrator to deploy the new one without a gap), then stop. Revoking a key stops
//!   it at once (a leaked key). A revoked or expired key is answered `api_key_revoked`, an
//!   unknown one `invalid_api_key`, both 401.
//! - **Access**: the domain's [`partner_can`] — a platform reaches only the notices sent to
//!   it on the partner API; any other notice id is answered exactly as a missing one.
//! - **Answers**: the acknowledgement and the decision reuse the notices' state machine and
//!   decision path; each is idempotent (the same again answers the recorded one; another
//!   ticket or decision afterwards is a conflict), audited with the platform as actor.

use super::DecisionInput;
use crate::{App, AppError, ErrorCode};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::directory::{ChannelSpec, NoticeChannel};
use rempart_domain::ids::NoticeId;
use rempart_domain::notice::{DecisionKind, NoticeEvent, NoticeState};
use rempart_domain::policy::{
    Action, Actor, PartnerAction, PartnerActor, PartnerNoticeAccess, Resource, can, partner_can,
};
use rempart_storage::{
    AuditEntry, NewPartnerKey, NoticeChange, NoticeRecord, PartnerKeyRecord, PartnerNoticePage,
};

/// What every key starts with (so a leaked one is recognised by secret scanners).
pub const KEY_PREFIX: &str = "rpk_";
/// How long a replaced key keeps working after a new one was issued (ms): 24 hours.
pub const KEY_OVERLAP_MS: i64 = 24 * 3_600_000;
/// The states a platform's list shows when it asks for no state: sent and not decided.
pub const OPEN_STATES: [NoticeState; 3] = [
    NoticeState::Sent,
    NoticeState::Acknowledged,
    NoticeState::Escalated,
];
/// The states a platform may filter on (a draft or a ready notice is never its own).
pub const VISIBLE_STATES: [NoticeState; 7] = [
    NoticeState::Sent,
    NoticeState::Acknowledged,
    NoticeState::Escalated,
    NoticeState::Removed,
    NoticeState::Restricted,
    NoticeState::Refused,
    NoticeState::NoAnswer,
];
/// The longest page.
pub const MAX_PAGE: u32 = 200;
/// How many times an answer that lost a race with another change is decided again.
const RACE_RETRIES: u32 = 5;
/// How far in the future a platform's `decided_at` may be (clocks drift), ms.
const CLOCK_SKEW_MS: i64 = 5 * 60_000;

/// A key just issued: its text, shown once, and its record.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    /// The key (never stored, never shown again).
    pub key: String,
    /// What is kept of it.
    pub record: PartnerKeyRecord,
}

/// A platform's keys, for its administrators' page.
#[derive(Debug, Clone)]
pub struct PartnerKeysView {
    /// The platform's code.
    pub code: String,
    /// Its display name.
    pub name: String,
    /// Whether one of its channels is the partner API (keys are issued only then).
    pub uses_partner_api: bool,
    /// Its webhook's URL, when it has one.
    pub webhook_url: Option<String>,
    /// Its keys, newest first.
    pub keys: Vec<PartnerKeyRecord>,
    /// The time the view was made (which keys are live).
    pub now: i64,
}

/// The ground a platform gives for its decision (the DSA Transparency Database's
/// `decision_ground`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionGround {
    /// `DECISION_GROUND_ILLEGAL_CONTENT`.
    IllegalContent,
    /// `DECISION_GROUND_INCOMPATIBLE_CONTENT` (its terms of service).
    IncompatibleContent,
}

impl DecisionGround {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionGround::IllegalContent => "illegal_content",
            DecisionGround::IncompatibleContent => "incompatible_content",
        }
    }
}

/// A platform's decision, as it posts it.
#[derive(Debug, Clone)]
pub struct PartnerDecision {
    /// What it decided.
    pub decision: DecisionKind,
    /// On what ground (none when it refused).
    pub ground: Option<DecisionGround>,
    /// How the notifier can contest it (redress information, DSA Art. 16(5)).
    pub redress: Option<String>,
    /// When it decided (ms); between the notice's sending and now.
    pub decided_at: i64,
    /// Its ticket, if it gives one with the decision.
    pub ticket: Option<String>,
}

/// What an answer did.
#[derive(Debug, Clone)]
pub struct PartnerAnswer {
    /// The notice after it.
    pub notice: NoticeRecord,
    /// `true` when recorded now, `false` when the same answer was already recorded.
    pub recorded: bool,
}

fn access(n: &NoticeRecord) -> PartnerNoticeAccess<'_> {
    PartnerNoticeAccess {
        platform: &n.platform,
        channel: n.channel,
        sent: n.sent_at.is_some(),
    }
}

/// The note kept with a partner's decision: its ground and redress information.
fn decision_note(d: &PartnerDecision) -> Option<String> {
    let redress = d
        .redress
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match (d.ground, redress) {
        (None, None) => None,
        (Some(g), None) => Some(format!("ground: {}", g.as_str())),
        (None, Some(r)) => Some(format!("redress: {r}")),
        (Some(g), Some(r)) => Some(format!("ground: {}; redress: {r}", g.as_str())),
    }
}

/// A cursor is `<sent_at ms>_<notice id>`.
fn parse_cursor(c: &str) -> Result<(i64, String), AppError> {
    let bad = || AppError::field("cursor", "not a cursor this API gave");
    let (at, id) = c.split_once('_').ok_or_else(bad)?;
    let at: i64 = at.parse().map_err(|_| bad())?;
    let id = NoticeId::parse(id).map_err(|_| bad())?;
    Ok((at, id.to_string()))
}

/// The cursor of the page after `next`.
pub fn cursor(next: &(i64, String)) -> String {
    format!("{}_{}", next.0, next.1)
}

impl App {
    fn uses_partner_api(&self, platform: &str) -> bool {
        self.directory().platform(platform).is_some_and(|p| {
            p.channels
                .iter()
                .any(|c| c.kind() == NoticeChannel::RempartApi)
        })
    }

    /// A platform's keys (administrators); not found when it is not in the directory.
    pub async fn partner_keys(
        &self,
        actor: &Actor,
        platform: &str,
    ) -> Result<PartnerKeysView, AppError> {
        if !can(actor, Action::ManageDirectory, Resource::Global) {
            return Err(AppError::not_found());
        }
        let directory = self.directory();
        let p = directory
            .platform(platform)
            .ok_or_else(AppError::not_found)?;
        let webhook_url = p.channels.iter().find_map(|c| match c {
            ChannelSpec::RempartApi { webhook_url, .. } => webhook_url.clone(),
            _ => None,
        });
        Ok(PartnerKeysView {
            code: p.code.clone(),
            name: p.name.clone(),
            uses_partner_api: self.uses_partner_api(platform),
            webhook_url,
            keys: self.store.partner_keys(platform).await?,
            now: self.now(),
        })
    }

    /// Issues a new key to a platform that uses the partner API; its other live keys stop
    /// after [`KEY_OVERLAP_MS`]. The key is in the answer and nowhere else.
    pub async fn issue_partner_key(
        &self,
        actor: &Actor,
        platform: &str,
    ) -> Result<IssuedKey, AppError> {
        if !can(actor, Action::ManageDirectory, Resource::Global) {
            return Err(AppError::not_found());
        }
        self.issue_key(Some(actor), platform).await
    }

    /// Issues a new key to a platform as the operator (the demo, the command line):
    /// audited with no actor. As [`App::issue_partner_key`] otherwise.
    pub async fn issue_partner_key_by_operator(
        &self,
        platform: &str,
    ) -> Result<IssuedKey, AppError> {
        self.issue_key(None, platform).await
    }

    async fn issue_key(
        &self,
        actor: Option<&Actor>,
        platform: &str,
    ) -> Result<IssuedKey, AppError> {
        if self.directory().platform(platform).is_none() {
            return Err(AppError::not_found());
        }
        if !self.uses_partner_api(platform) {
            return Err(AppError::new(
                ErrorCode::InvalidTransition,
                "this platform does not use the partner API",
            ));
        }
        let secret = crate::random_hex(32)?;
        let key = format!("{KEY_PREFIX}{secret}");
        let prefix = format!("{KEY_PREFIX}{}", &secret[..8]);
        let now = self.now();
        let new = NewPartnerKey {
            id: uuid::Uuid::now_v7().to_string(),
            platform: platform.to_owned(),
            prefix: prefix.clone(),
            key_hash: crate::sha256_hex(key.as_bytes()),
            created_by: actor.map(|a| a.id),
            at: now,
        };
        let audit = AuditEntry::new(
            now,
            actor.map(|a| a.id),
            AuditEvent::PartnerKeyIssued {
                platform: platform.to_owned(),
                key: prefix.clone(),
            },
        )
        .object(&new.id);
        self.store
            .issue_partner_key(&new, now.saturating_add(KEY_OVERLAP_MS), &audit)
            .await?;
        Ok(IssuedKey {
            key,
            record: PartnerKeyRecord {
                id: new.id,
                platform: new.platform,
                prefix,
                created_by: actor.map(|a| a.id),
                created_at: now,
                expires_at: None,
                revoked_at: None,
            },
        })
    }

    /// Revokes one of a platform's keys at once.
    pub async fn revoke_partner_key(
        &self,
        actor: &Actor,
        platform: &str,
        key_id: &str,
    ) -> Result<(), AppError> {
        if !can(actor, Action::ManageDirectory, Resource::Global) {
            return Err(AppError::not_found());
        }
        if self.directory().platform(platform).is_none() {
            return Err(AppError::not_found());
        }
        if key_id.trim().is_empty() {
            return Err(AppError::field("key", "required"));
        }
        let keys = self.store.partner_keys(platform).await?;
        let Some(k) = keys.iter().find(|k| k.id == key_id) else {
            return Err(AppError::not_found());
        };
        let now = self.now();
        let audit = AuditEntry::new(
            now,
            Some(actor.id),
            AuditEvent::PartnerKeyRevoked {
                platform: platform.to_owned(),
                key: k.prefix.clone(),
            },
        )
        .object(&k.id);
        self.store
            .revoke_partner_key(platform, key_id, now, actor.id, &audit)
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::NotFound => {
                    AppError::new(ErrorCode::InvalidTransition, "this key is already revoked")
                }
                e => e.into(),
            })
    }

    /// The platform whose key `key` is (`Authorization: Bearer`): refused when missing,
    /// unknown, revoked, past its overlap, or when the platform no longer uses the partner
    /// API in the directory.
    pub async fn partner_authenticate(&self, key: Option<&str>) -> Result<PartnerActor, AppError> {
        let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
            return Err(AppError::new(
                ErrorCode::Unauthenticated,
                "Authorization: Bearer <partner API key> required",
            ));
        };
        let unknown = || AppError::new(ErrorCode::InvalidApiKey, "unknown API key");
        let well_formed = key.strip_prefix(KEY_PREFIX).is_some_and(|s| {
            s.len() == 64
                && s.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        });
        if !well_formed {
            return Err(unknown());
        }
        let Some(k) = self
            .store
            .partner_key_by_hash(&crate::sha256_hex(key.as_bytes()))
            .await?
        else {
            return Err(unknown());
        };
        if !k.is_live(self.now()) {
            return Err(AppError::new(
                ErrorCode::ApiKeyRevoked,
                "this API key was revoked or replaced",
            ));
        }
        if !self.uses_partner_api(&k.platform) {
            return Err(unknown());
        }
        Ok(PartnerActor {
            platform: k.platform,
        })
    }

    /// A page of the platform's notices: the open ones (sent, not decided) unless it asks
    /// for a state; oldest sent first.
    pub async fn partner_notices(
        &self,
        p: &PartnerActor,
        state: Option<NoticeState>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PartnerNoticePage, AppError> {
        if limit == 0 || limit > MAX_PAGE {
            return Err(AppError::field("limit", "between 1 and 200"));
        }
        let states: Vec<NoticeState> = match state {
            None => OPEN_STATES.to_vec(),
            Some(s) if VISIBLE_STATES.contains(&s) => vec![s],
            Some(_) => return Err(AppError::field("state", "not a state of a sent notice")),
        };
        let after = cursor.map(parse_cursor).transpose()?;
        Ok(self
            .store
            .partner_notices(
                &p.platform,
                NoticeChannel::RempartApi,
                &states,
                after,
                limit,
            )
            .await?)
    }

    async fn partner_notice_for(
        &self,
        p: &PartnerActor,
        id: NoticeId,
        action: PartnerAction,
    ) -> Result<NoticeRecord, AppError> {
        match self.store.notice(id).await? {
            Some(n) if partner_can(p, action, &access(&n)) => Ok(n),
            _ => Err(AppError::not_found()),
        }
    }

    /// One of the platform's notices. The first time the platform fetches it, it counts
    /// as delivered (the platform took it).
    pub async fn partner_notice(
        &self,
        p: &PartnerActor,
        id: NoticeId,
    ) -> Result<NoticeRecord, AppError> {
        let n = self
            .partner_notice_for(p, id, PartnerAction::ReadNotice)
            .await?;
        if n.delivered_at.is_some() {
            return Ok(n);
        }
        let now = self.now();
        let change = NoticeChange {
            from: Some(n.state),
            at: now,
            delivered_at: Some(now),
            attempts: Some(n.attempts.max(1)),
            ..Default::default()
        };
        let audit = AuditEntry::new(
            now,
            None,
            AuditEvent::NoticeDelivered {
                channel: NoticeChannel::RempartApi,
                attempt: 1,
            },
        )
        .object(n.id)
        .case(n.case_id);
        match self.store.change_notice(n.id, &change, None, &audit).await {
            // changed meanwhile (acknowledged by another call): what it is now
            Ok(()) | Err(rempart_storage::StorageError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        self.store.notice(id).await?.ok_or_else(AppError::not_found)
    }

    /// The platform acknowledges a notice with its ticket. The same ticket again answers
    /// the recorded acknowledgement; another ticket afterwards is a conflict. Calls at the
    /// same moment are decided one after the other: one records, the others answer what it
    /// recorded (or conflict with it).
    pub async fn partner_acknowledge(
        &self,
        p: &PartnerActor,
        id: NoticeId,
        ticket: &str,
    ) -> Result<PartnerAnswer, AppError> {
        let mut tries = 0;
        loop {
            match self.partner_acknowledge_once(p, id, ticket).await {
                Err(e) if e.code == ErrorCode::Conflict && tries < RACE_RETRIES => tries += 1,
                other => return other,
            }
        }
    }

    async fn partner_acknowledge_once(
        &self,
        p: &PartnerActor,
        id: NoticeId,
        ticket: &str,
    ) -> Result<PartnerAnswer, AppError> {
        let ticket = rempart_domain::values::Text::parse(ticket.trim(), 200)
            .map_err(|_| AppError::field("ticket", "empty or longer than 200 characters"))?
            .into_string();
        let n = self
            .partner_notice_for(p, id, PartnerAction::AnswerNotice)
            .await?;
        if n.acknowledged_at.is_some() || n.state.is_decided() {
            return if n.ticket.as_deref() == Some(ticket.as_str()) {
                Ok(PartnerAnswer {
                    notice: n,
                    recorded: false,
                })
            } else if n.acknowledged_at.is_some() {
                Err(AppError::new(
                    ErrorCode::IdempotencyConflict,
                    "this notice was acknowledged with another ticket",
                ))
            } else {
                Err(AppError::new(
                    ErrorCode::InvalidTransition,
                    "this notice is already decided",
                ))
            };
        }
        let to = n.state.apply(&NoticeEvent::Acknowledge).map_err(|e| {
            AppError::new(
                ErrorCode::InvalidTransition,
                format!("{} is not allowed from {}", e.event, e.from),
            )
        })?;
        let now = self.now();
        let change = NoticeChange {
            from: Some(n.state),
            to: Some(to),
            at: now,
            ticket: Some(ticket),
            acknowledged_at: Some(now),
            delivered_at: n.delivered_at.or(Some(now)),
            ..Default::default()
        };
        let audit = AuditEntry::new(
            now,
            None,
            AuditEvent::PartnerAcknowledged {
                platform: p.platform.clone(),
            },
        )
        .object(n.id)
        .case(n.case_id);
        self.store
            .change_notice(n.id, &change, None, &audit)
            .await?;
        Ok(PartnerAnswer {
            notice: self
                .store
                .notice(id)
                .await?
                .ok_or_else(AppError::not_found)?,
            recorded: true,
        })
    }

    /// The platform's decision on a notice. The same decision again answers the recorded
    /// one; a decision the notice's state cannot take (another decision once decided) is a
    /// conflict. Calls at the same moment are decided one after the other.
    pub async fn partner_decide(
        &self,
        p: &PartnerActor,
        id: NoticeId,
        d: PartnerDecision,
    ) -> Result<PartnerAnswer, AppError> {
        let mut tries = 0;
        loop {
            match self.partner_decide_once(p, id, d.clone()).await {
                Err(e) if e.code == ErrorCode::Conflict && tries < RACE_RETRIES => tries += 1,
                other => return other,
            }
        }
    }

    async fn partner_decide_once(
        &self,
        p: &PartnerActor,
        id: NoticeId,
        d: PartnerDecision,
    ) -> Result<PartnerAnswer, AppError> {
        if d.decision == DecisionKind::NoAnswer {
            return Err(AppError::field(
                "decision",
                "no_answer is recorded by the helpline, not posted",
            ));
        }
        if d.decision != DecisionKind::Refused && d.ground.is_none() {
            return Err(AppError::field("ground", "required with an action"));
        }
        if d.redress
            .as_deref()
            .is_some_and(|r| r.chars().count() > 1500)
        {
            return Err(AppError::field("redress", "longer than 1500 characters"));
        }
        let n = self
            .partner_notice_for(p, id, PartnerAction::AnswerNotice)
            .await?;
        if n.state.is_decided() && n.decision == Some(d.decision) {
            return Ok(PartnerAnswer {
                notice: n,
                recorded: false,
            });
        }
        let now = self.now();
        let sent = n.sent_at.unwrap_or(now);
        if d.decided_at < sent || d.decided_at > now.saturating_add(CLOCK_SKEW_MS) {
            return Err(AppError::field(
                "decided_at",
                "before the notice was sent, or in the future",
            ));
        }
        let input = DecisionInput {
            decision: d.decision,
            ticket: d.ticket.clone(),
            note: decision_note(&d),
        };
        let event = AuditEvent::PartnerDecided {
            platform: p.platform.clone(),
            decision: d.decision,
        };
        self.decide_with(None, &n, input, "partner", d.decided_at.min(now), event)
            .await?;
        Ok(PartnerAnswer {
            notice: self
                .store
                .notice(id)
                .await?
                .ok_or_else(AppError::not_found)?,
            recorded: true,
        })
    }
}
