//! The audit trail's vocabulary: every event the system records, with its typed detail.
//! An event is stored as a stable action code (`case.status_changed`) and a detail line of
//! `key=value` pairs made of codes, ids and numbers only — never content — and is read back
//! into the same typed value for display, so no screen re-parses strings of its own.

use crate::case::{CaseOutcome, CaseStatus, EvidenceKind, NoteVisibility};
use crate::directory::NoticeChannel;
use crate::evidence::{EvidenceCopy, EvidenceSource};
use crate::ids::StaffId;
use crate::labelled::UnknownCode;
use crate::notice::DecisionKind;
use crate::policy::Role;
use crate::referral::{ConsentBasis, ReferralState};
use crate::values::Channel;

/// Why a login attempt failed (never which part of the credentials was wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// The e-mail names no account.
    UnknownAccount,
    /// The account is disabled.
    Disabled,
    /// Wrong password; the failure count of this e-mail after it.
    WrongPassword {
        /// Consecutive failures.
        failures: i64,
    },
}

/// Why a session ended without a logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// Idle or absolute limit reached.
    Expired,
    /// The account was disabled.
    Disabled,
    /// Too many wrong second-factor codes in this session.
    SecondFactorFailures,
    /// Replaced by a new session once the second factor passed.
    Upgraded,
}

/// Where a conversation was handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoverTarget {
    /// A colleague.
    Staff(StaffId),
    /// The first available person with a role.
    Role(Role),
}

/// Which second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// A TOTP code from an authenticator app.
    Totp,
    /// A single-use recovery code.
    RecoveryCode,
    /// A passkey (WebAuthn).
    Passkey,
}

impl Factor {
    fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
            Factor::Passkey => "passkey",
        }
    }
    fn parse(s: &str) -> Result<Self, UnknownCode> {
        match s {
            "totp" => Ok(Factor::Totp),
            "recovery_code" => Ok(Factor::RecoveryCode),
            "passkey" => Ok(Factor::Passkey),
            _ => Err(UnknownCode),
        }
    }
}

/// What a case list or search asked for: the filters as codes and ids, and the words
/// typed only as a keyed hash (so the trail can confirm "did this account search for
/// this name?" without keeping names).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// Status filter.
    pub status: Option<CaseStatus>,
    /// Category filter (a taxonomy code).
    pub category: Option<String>,
    /// Assignee filter.
    pub assignee: Option<StaffId>,
    /// HMAC of the normalised search words, hex (first 32 digits).
    pub words: Option<String>,
    /// Whether this was a later page.
    pub paged: bool,
}

/// One audited event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditEvent {
    /// A case was opened.
    CaseCreated,
    /// A case page was read, with the note visibilities shown.
    CaseRead {
        /// Visibilities of the notes shown.
        notes: Vec<NoteVisibility>,
    },
    /// Someone asked for a case they may not see.
    CaseAccessDenied,
    /// A case list or search was asked for.
    CasesListed(ListQuery),
    /// A case changed status.
    CaseStatusChanged {
        /// Before.
        from: CaseStatus,
        /// After.
        to: CaseStatus,
        /// Outcome (closing).
        outcome: Option<CaseOutcome>,
    },
    /// A case's assignees were replaced.
    CaseAssigned {
        /// The new assignees.
        assignees: Vec<StaffId>,
    },
    /// An item was added.
    ItemAdded {
        /// Its platform's code.
        platform: String,
    },
    /// A note was added.
    NoteAdded {
        /// Its visibility.
        visibility: NoteVisibility,
    },
    /// A contact was logged by hand.
    ContactLogged {
        /// Its channel.
        channel: Channel,
    },
    /// A young person started a conversation.
    ConversationStarted {
        /// Left while the line was closed.
        left_message: bool,
    },
    /// A transcript was read (or a live view opened).
    ConversationRead {
        /// From which sequence number.
        after: i64,
    },
    /// Someone asked for a conversation they may not read or write.
    ConversationAccessDenied,
    /// A conversation was taken from the queue.
    ConversationTaken,
    /// A conversation was handed over.
    ConversationTransferred {
        /// To whom.
        to: HandoverTarget,
    },
    /// A conversation ended with its summary.
    ConversationEnded {
        /// A case was opened from it.
        case_opened: bool,
    },
    /// The young person left the conversation by quick exit (out of the queue, replies
    /// refused).
    ConversationLeft,
    /// A young person's follow-up code was read (the conversation seen again later).
    ConversationFollowedUp,
    /// A counsellor changed their chat availability.
    ChatAvailability {
        /// Taking chats.
        available: bool,
        /// At most this many at once.
        capacity: i64,
    },
    /// A counsellor turned the sound and tab-title alerts of the queue on or off.
    ChatAlerts {
        /// On.
        on: bool,
    },
    /// A session was opened with a password.
    Login,
    /// A login attempt failed.
    LoginFailed(LoginFailure),
    /// A login attempt was refused without checking (the e-mail is locked out).
    LoginRefused,
    /// A session was closed by its owner.
    Logout,
    /// A session ended by itself.
    SessionEnded(SessionEnd),
    /// The second factor passed.
    SecondFactorPassed(Factor),
    /// A second-factor code was wrong.
    SecondFactorFailed {
        /// Consecutive failures of this account's second factor.
        failures: i64,
    },
    /// A second-factor check was refused without checking (locked out).
    SecondFactorRefused,
    /// A single-use recovery code was spent.
    RecoveryCodeUsed,
    /// TOTP enrolment started (a secret was shown).
    TotpEnrolmentStarted,
    /// TOTP enrolment confirmed.
    TotpEnrolled,
    /// A passkey was registered.
    PasskeyRegistered,
    /// A passkey was removed.
    PasskeyRemoved,
    /// An account was created (by the command line or an accepted invitation).
    StaffCreated {
        /// Its role.
        role: Role,
    },
    /// An invitation to join was issued.
    StaffInvited {
        /// The role it grants.
        role: Role,
        /// Waits for a second administrator's approval first.
        pending_approval: bool,
    },
    /// An invitation was accepted: the account exists now.
    InvitationAccepted {
        /// Its role.
        role: Role,
    },
    /// An invitation was withdrawn.
    InvitationRevoked,
    /// A grant of a supervisor or administrator role awaits a second administrator.
    RoleGrantRequested {
        /// The role asked for.
        role: Role,
    },
    /// A second administrator approved a pending grant or invitation.
    RoleGrantApproved {
        /// The role granted.
        role: Role,
    },
    /// A second administrator refused a pending grant or invitation.
    RoleGrantRefused {
        /// The role refused.
        role: Role,
    },
    /// Conversation transcripts were searched (the words as a keyed hash, never the words).
    TranscriptsSearched {
        /// HMAC of the normalised search words, hex (first 32 digits).
        words: String,
        /// How many messages the reader was shown.
        found: u32,
    },
    /// An account's name or e-mail address was corrected.
    StaffEdited {
        /// Whether the login address changed.
        email_changed: bool,
    },
    /// An account was disabled (its sessions ended).
    StaffDisabled,
    /// An account was enabled again.
    StaffEnabled,
    /// An account's role or team changed.
    StaffRoleChanged {
        /// The new role.
        role: Role,
    },
    /// The audit trail was read.
    AuditViewed,
    /// Notices were drafted from a case's items (one per platform).
    NoticesDrafted {
        /// How many.
        count: u32,
    },
    /// A draft notice was edited.
    NoticeEdited,
    /// A notice was marked ready (complete under Article 16).
    NoticeReady,
    /// A second counsellor validated a notice.
    NoticeValidated,
    /// A notice was sent to its platform's channel (its delivery queued).
    NoticeSent {
        /// The channel's kind.
        channel: NoticeChannel,
    },
    /// The platform's channel took the notice.
    NoticeDelivered {
        /// The channel's kind.
        channel: NoticeChannel,
        /// The attempt that succeeded.
        attempt: u32,
    },
    /// A notice could not be delivered (a permanent failure, or every attempt used).
    NoticeDeliveryFailed {
        /// The channel's kind.
        channel: NoticeChannel,
        /// Why, as a code.
        reason: String,
    },
    /// A platform's decision was recorded.
    NoticeDecided {
        /// The decision.
        decision: DecisionKind,
        /// Where it came from: `coop`, `partner`, `manual`.
        source: String,
    },
    /// A notice passed its expected delay without a decision and was escalated; the
    /// reminder went on `reminder` (a channel's code, or `none`: a counsellor reminds
    /// the platform by hand).
    NoticeEscalated {
        /// The reminder's channel, or `none`.
        reminder: String,
    },
    /// The helpline contested a platform's refusal (the reason is kept on the notice).
    NoticeContested,
    /// The platform decided an appeal against its action on a notice's item (Coop's appeal
    /// callback): `accepted` means it reversed its action.
    NoticeAppealDecided {
        /// The appeal was accepted.
        accepted: bool,
    },
    /// A partner API key was issued to a platform (shown once; only its hash is kept).
    PartnerKeyIssued {
        /// The platform's code.
        platform: String,
        /// The key's public id (its first characters, never the key).
        key: String,
    },
    /// A platform's partner API key was revoked.
    PartnerKeyRevoked {
        /// The platform's code.
        platform: String,
        /// The key's public id.
        key: String,
    },
    /// A platform acknowledged a notice through the partner API (the platform is the
    /// actor).
    PartnerAcknowledged {
        /// The platform's code.
        platform: String,
    },
    /// A platform posted its decision on a notice through the partner API (the platform
    /// is the actor).
    PartnerDecided {
        /// The platform's code.
        platform: String,
        /// The decision.
        decision: DecisionKind,
    },
    /// A step of a case's playbook was ticked (done) or unticked.
    PlaybookStepTicked {
        /// The playbook's category code.
        playbook: String,
        /// The step's code.
        step: String,
        /// Ticked (true) or unticked.
        done: bool,
    },
    /// The helpline's playbooks were edited (a new version), or set back to the defaults.
    PlaybooksEdited {
        /// The new version's number.
        version: i64,
        /// Set back to the embedded defaults.
        defaults: bool,
    },
    /// The platform directory was loaded again from its file.
    DirectoryReloaded {
        /// How many platforms it now has.
        platforms: u32,
    },
    /// A piece of evidence was recorded: its chain of custody starts (the SHA-256 of a
    /// file is in its row, written in the same transaction).
    EvidenceAdded {
        /// Its kind.
        kind: EvidenceKind,
        /// Who brought it in.
        source: EvidenceSource,
        /// Whether a file was stored (never for fingerprints only).
        file: bool,
    },
    /// A copy of a piece of evidence was shown in the console.
    EvidenceViewed {
        /// Which copy.
        copy: EvidenceCopy,
    },
    /// A copy of a piece of evidence was downloaded.
    EvidenceDownloaded {
        /// Which copy.
        copy: EvidenceCopy,
    },
    /// A piece of evidence went into a signed evidence export.
    EvidenceExported {
        /// The export's id (named in its manifest).
        export: String,
    },
    /// A piece of evidence was transmitted outside the helpline (with a referral).
    EvidenceTransmitted {
        /// The referral's id.
        referral: String,
    },
    /// A case's complaint document ("aide au dépôt de plainte") was produced.
    ComplaintExported {
        /// `family` or `police`.
        audience: String,
        /// The document's language.
        lang: String,
    },
    /// A follow-up code and secret were given for a case (any earlier one stops working).
    FollowUpIssued,
    /// A case's follow-up code was withdrawn.
    FollowUpRevoked,
    /// The young person opened their follow-up page with the code and the secret.
    FollowUpOpened,
    /// A wrong secret was typed for a follow-up code.
    FollowUpFailed {
        /// Consecutive failures of this code.
        failures: i64,
        /// The code is locked for a while now.
        locked: bool,
    },
    /// A message was written on the follow-up page.
    FollowUpMessage {
        /// By the young person (else by the helpline).
        from_young_person: bool,
    },
    /// A referral to a service or an authority was proposed.
    ReferralProposed {
        /// The service's code in the directory.
        service: String,
    },
    /// The consent (or another lawful basis) for a referral was recorded.
    ReferralConsentRecorded {
        /// The basis.
        basis: ConsentBasis,
    },
    /// A referral moved to another state.
    ReferralChanged {
        /// The new state.
        state: ReferralState,
    },
    /// A referral's e-mail was taken by the SMTP server.
    ReferralMailSent {
        /// The attempt that succeeded.
        attempt: u32,
    },
    /// A referral's e-mail could not be sent (a permanent failure, or every attempt used).
    ReferralMailFailed {
        /// Why, as a code.
        reason: String,
    },
}

fn pairs(detail: &str) -> impl Iterator<Item = (&str, &str)> {
    detail
        .split(' ')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

fn get<'a>(detail: &'a str, key: &str) -> Option<&'a str> {
    pairs(detail).find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn need<'a>(detail: &'a str, key: &str) -> Result<&'a str, UnknownCode> {
    get(detail, key).ok_or(UnknownCode)
}

fn num(detail: &str, key: &str) -> Result<i64, UnknownCode> {
    need(detail, key)?.parse().map_err(|_| UnknownCode)
}

fn flag(detail: &str, key: &str) -> Result<bool, UnknownCode> {
    match need(detail, key)? {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(UnknownCode),
    }
}

fn staff(s: &str) -> Result<StaffId, UnknownCode> {
    StaffId::parse(s).map_err(|_| UnknownCode)
}

/// A value allowed in a detail line: no space, no `=`, no control character.
fn token(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && !c.is_control())
        .take(80)
        .collect()
}

fn b(v: bool) -> &'static str {
    if v { "1" } else { "0" }
}

impl AuditEvent {
    /// The stable action code.
    pub fn action(&self) -> &'static str {
        use AuditEvent::*;
        match self {
            CaseCreated => "case.created",
            CaseRead { .. } => "case.read",
            CaseAccessDenied => "case.access_denied",
            CasesListed(_) => "case.listed",
            CaseStatusChanged { .. } => "case.status_changed",
            CaseAssigned { .. } => "case.assigned",
            ItemAdded { .. } => "item.added",
            NoteAdded { .. } => "note.added",
            ContactLogged { .. } => "contact.logged",
            ConversationStarted { .. } => "conversation.started",
            ConversationRead { .. } => "conversation.read",
            ConversationAccessDenied => "conversation.access_denied",
            ConversationTaken => "conversation.taken",
            ConversationTransferred { .. } => "conversation.transferred",
            ConversationEnded { .. } => "conversation.ended",
            ConversationFollowedUp => "conversation.followed_up",
            ConversationLeft => "conversation.left",
            ChatAvailability { .. } => "chat.availability",
            ChatAlerts { .. } => "chat.alerts",
            Login => "auth.login",
            LoginFailed(_) => "auth.login_failed",
            LoginRefused => "auth.login_refused",
            Logout => "auth.logout",
            SessionEnded(_) => "auth.session_ended",
            SecondFactorPassed(_) => "auth.second_factor_ok",
            SecondFactorFailed { .. } => "auth.second_factor_failed",
            SecondFactorRefused => "auth.second_factor_refused",
            RecoveryCodeUsed => "auth.recovery_code_used",
            TotpEnrolmentStarted => "auth.totp_enrolment_started",
            TotpEnrolled => "auth.totp_enrolled",
            PasskeyRegistered => "auth.passkey_registered",
            PasskeyRemoved => "auth.passkey_removed",
            StaffCreated { .. } => "staff.created",
            StaffInvited { .. } => "staff.invited",
            InvitationAccepted { .. } => "staff.invitation_accepted",
            InvitationRevoked => "staff.invitation_revoked",
            RoleGrantRequested { .. } => "staff.grant_requested",
            RoleGrantApproved { .. } => "staff.grant_approved",
            RoleGrantRefused { .. } => "staff.grant_refused",
            StaffEdited { .. } => "staff.edited",
            TranscriptsSearched { .. } => "conversation.searched",
            StaffDisabled => "staff.disabled",
            StaffEnabled => "staff.enabled",
            StaffRoleChanged { .. } => "staff.role_changed",
            AuditViewed => "audit.viewed",
            DirectoryReloaded { .. } => "directory.reloaded",
            EvidenceAdded { .. } => "evidence.added",
            EvidenceViewed { .. } => "evidence.viewed",
            EvidenceDownloaded { .. } => "evidence.downloaded",
            EvidenceExported { .. } => "evidence.exported",
            EvidenceTransmitted { .. } => "evidence.transmitted",
            ComplaintExported { .. } => "case.complaint_exported",
            FollowUpIssued => "followup.issued",
            FollowUpRevoked => "followup.revoked",
            FollowUpOpened => "followup.opened",
            FollowUpFailed { .. } => "followup.failed",
            FollowUpMessage { .. } => "followup.message",
            ReferralProposed { .. } => "referral.proposed",
            ReferralConsentRecorded { .. } => "referral.consent_recorded",
            ReferralChanged { .. } => "referral.changed",
            ReferralMailSent { .. } => "referral.mail_sent",
            ReferralMailFailed { .. } => "referral.mail_failed",
            PlaybookStepTicked { .. } => "case.playbook_step",
            PlaybooksEdited { .. } => "guidance.playbooks_edited",
            NoticesDrafted { .. } => "notice.drafted",
            NoticeEdited => "notice.edited",
            NoticeReady => "notice.ready",
            NoticeValidated => "notice.validated",
            NoticeSent { .. } => "notice.sent",
            NoticeDelivered { .. } => "notice.delivered",
            NoticeDeliveryFailed { .. } => "notice.delivery_failed",
            NoticeDecided { .. } => "notice.decided",
            NoticeEscalated { .. } => "notice.escalated",
            NoticeContested => "notice.contested",
            NoticeAppealDecided { .. } => "notice.appeal_decided",
            PartnerKeyIssued { .. } => "partner.key_issued",
            PartnerKeyRevoked { .. } => "partner.key_revoked",
            PartnerAcknowledged { .. } => "notice.partner_acknowledged",
            PartnerDecided { .. } => "notice.partner_decided",
        }
    }

    /// The kind of object the event is about.
    pub fn object_type(&self) -> &'static str {
        let a = self.action();
        match a.split('.').next().unwrap_or("") {
            "case" => "case",
            "item" => "item",
            "note" => "note",
            "contact" => "contact",
            "conversation" => "conversation",
            "audit" => "audit",
            "directory" => "directory",
            "guidance" => "guidance",
            "notice" => "notice",
            "partner" => "partner",
            "evidence" => "evidence",
            "followup" => "followup",
            "referral" => "referral",
            _ => "staff",
        }
    }

    /// Whether the event records a read (left out of a case's timeline of changes).
    pub fn is_read(&self) -> bool {
        is_read_action(self.action())
    }

    /// The detail line: `key=value` pairs of codes, ids and numbers.
    pub fn detail(&self) -> String {
        use AuditEvent::*;
        match self {
            CaseRead { notes } => format!(
                "notes={}",
                notes
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join("+")
            ),
            CasesListed(q) => {
                let mut d = Vec::new();
                if let Some(s) = q.status {
                    d.push(format!("status={}", s.as_str()));
                }
                if let Some(c) = &q.category {
                    d.push(format!("category={}", token(c)));
                }
                if let Some(a) = q.assignee {
                    d.push(format!("assignee={a}"));
                }
                if let Some(w) = &q.words {
                    d.push(format!("words={}", token(w)));
                }
                d.push(format!("paged={}", b(q.paged)));
                d.join(" ")
            }
            CaseStatusChanged { from, to, outcome } => {
                let mut d = format!("from={} to={}", from.as_str(), to.as_str());
                if let Some(o) = outcome {
                    d.push_str(&format!(" outcome={}", o.as_str()));
                }
                d
            }
            CaseAssigned { assignees } => format!(
                "assignees={}",
                assignees
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            ItemAdded { platform } => format!("platform={}", token(platform)),
            NoteAdded { visibility } => format!("visibility={}", visibility.as_str()),
            ContactLogged { channel } => format!("channel={}", channel.as_str()),
            ConversationStarted { left_message } => format!("left_message={}", b(*left_message)),
            ConversationRead { after } => format!("after={after}"),
            ConversationTransferred { to } => match to {
                HandoverTarget::Staff(s) => format!("to_staff={s}"),
                HandoverTarget::Role(r) => format!("to_role={}", r.as_str()),
            },
            ConversationEnded { case_opened } => format!("case_opened={}", b(*case_opened)),
            ChatAvailability {
                available,
                capacity,
            } => format!("available={} capacity={capacity}", b(*available)),
            ChatAlerts { on } => format!("on={}", b(*on)),
            StaffEdited { email_changed } => format!("email_changed={}", b(*email_changed)),
            TranscriptsSearched { words, found } => {
                format!("words={} found={found}", token(words))
            }
            LoginFailed(f) => match f {
                LoginFailure::UnknownAccount => "why=unknown_account".into(),
                LoginFailure::Disabled => "why=disabled".into(),
                LoginFailure::WrongPassword { failures } => {
                    format!("why=wrong_password failures={failures}")
                }
            },
            SessionEnded(w) => format!(
                "why={}",
                match w {
                    SessionEnd::Expired => "expired",
                    SessionEnd::Disabled => "disabled",
                    SessionEnd::SecondFactorFailures => "second_factor_failures",
                    SessionEnd::Upgraded => "upgraded",
                }
            ),
            SecondFactorPassed(f) => format!("factor={}", f.as_str()),
            SecondFactorFailed { failures } => format!("failures={failures}"),
            StaffCreated { role }
            | InvitationAccepted { role }
            | RoleGrantRequested { role }
            | RoleGrantApproved { role }
            | RoleGrantRefused { role }
            | StaffRoleChanged { role } => format!("role={}", role.as_str()),
            DirectoryReloaded { platforms } => format!("platforms={platforms}"),
            PlaybookStepTicked {
                playbook,
                step,
                done,
            } => format!(
                "playbook={} step={} done={}",
                token(playbook),
                token(step),
                b(*done)
            ),
            PlaybooksEdited { version, defaults } => {
                format!("version={version} defaults={}", b(*defaults))
            }
            NoticesDrafted { count } => format!("count={count}"),
            NoticeEdited | NoticeReady | NoticeValidated => String::new(),
            NoticeSent { channel } => format!("channel={}", channel.as_str()),
            NoticeDelivered { channel, attempt } => {
                format!("channel={} attempt={attempt}", channel.as_str())
            }
            NoticeDeliveryFailed { channel, reason } => {
                format!("channel={} reason={}", channel.as_str(), token(reason))
            }
            NoticeDecided { decision, source } => {
                format!("decision={} source={}", decision.as_str(), token(source))
            }
            NoticeEscalated { reminder } => format!("reminder={}", token(reminder)),
            NoticeContested => String::new(),
            NoticeAppealDecided { accepted } => format!("accepted={}", b(*accepted)),
            PartnerKeyIssued { platform, key } | PartnerKeyRevoked { platform, key } => {
                format!("platform={} key={}", token(platform), token(key))
            }
            PartnerAcknowledged { platform } => format!("platform={}", token(platform)),
            PartnerDecided { platform, decision } => {
                format!(
                    "platform={} decision={}",
                    token(platform),
                    decision.as_str()
                )
            }
            StaffInvited {
                role,
                pending_approval,
            } => format!(
                "role={} pending_approval={}",
                role.as_str(),
                b(*pending_approval)
            ),
            EvidenceAdded { kind, source, file } => format!(
                "kind={} source={} file={}",
                kind.as_str(),
                source.as_str(),
                b(*file)
            ),
            EvidenceViewed { copy } | EvidenceDownloaded { copy } => {
                format!("copy={}", copy.as_str())
            }
            EvidenceExported { export } => format!("export={}", token(export)),
            EvidenceTransmitted { referral } => format!("referral={}", token(referral)),
            ComplaintExported { audience, lang } => {
                format!("audience={} lang={}", token(audience), token(lang))
            }
            FollowUpFailed { failures, locked } => {
                format!("failures={failures} locked={}", b(*locked))
            }
            FollowUpMessage { from_young_person } => {
                format!("from_young_person={}", b(*from_young_person))
            }
            ReferralProposed { service } => format!("service={}", token(service)),
            ReferralConsentRecorded { basis } => format!("basis={}", basis.as_str()),
            ReferralChanged { state } => format!("state={}", state.as_str()),
            ReferralMailSent { attempt } => format!("attempt={attempt}"),
            ReferralMailFailed { reason } => format!("reason={}", token(reason)),
            CaseCreated
            | FollowUpIssued
            | FollowUpRevoked
            | FollowUpOpened
            | CaseAccessDenied
            | ConversationAccessDenied
            | ConversationTaken
            | ConversationFollowedUp
            | ConversationLeft
            | Login
            | LoginRefused
            | Logout
            | SecondFactorRefused
            | RecoveryCodeUsed
            | TotpEnrolmentStarted
            | TotpEnrolled
            | PasskeyRegistered
            | PasskeyRemoved
            | InvitationRevoked
            | StaffDisabled
            | StaffEnabled
            | AuditViewed => String::new(),
        }
    }

    /// Reads a stored event back (`UnknownCode` for an action or detail this version
    /// does not know).
    pub fn decode(action: &str, detail: &str) -> Result<AuditEvent, UnknownCode> {
        use AuditEvent::*;
        let d = detail;
        let role = || Role::parse(need(d, "role")?);
        Ok(match action {
            "case.created" => CaseCreated,
            "case.read" => CaseRead {
                notes: need(d, "notes")?
                    .split('+')
                    .filter(|s| !s.is_empty())
                    .map(NoteVisibility::parse)
                    .collect::<Result<_, _>>()?,
            },
            "case.access_denied" => CaseAccessDenied,
            "case.listed" => CasesListed(ListQuery {
                status: get(d, "status").map(CaseStatus::parse).transpose()?,
                category: get(d, "category").map(str::to_owned),
                assignee: get(d, "assignee").map(staff).transpose()?,
                words: get(d, "words").map(str::to_owned),
                paged: flag(d, "paged")?,
            }),
            "case.status_changed" => CaseStatusChanged {
                from: CaseStatus::parse(need(d, "from")?)?,
                to: CaseStatus::parse(need(d, "to")?)?,
                outcome: get(d, "outcome").map(CaseOutcome::parse).transpose()?,
            },
            "case.assigned" => CaseAssigned {
                assignees: need(d, "assignees")?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(staff)
                    .collect::<Result<_, _>>()?,
            },
            "item.added" => ItemAdded {
                platform: need(d, "platform")?.to_owned(),
            },
            "note.added" => NoteAdded {
                visibility: NoteVisibility::parse(need(d, "visibility")?)?,
            },
            "contact.logged" => ContactLogged {
                channel: Channel::parse(need(d, "channel")?)?,
            },
            "conversation.started" => ConversationStarted {
                left_message: flag(d, "left_message")?,
            },
            "conversation.read" => ConversationRead {
                after: num(d, "after")?,
            },
            "conversation.access_denied" => ConversationAccessDenied,
            "conversation.taken" => ConversationTaken,
            "conversation.transferred" => ConversationTransferred {
                to: match (get(d, "to_staff"), get(d, "to_role")) {
                    (Some(s), None) => HandoverTarget::Staff(staff(s)?),
                    (None, Some(r)) => HandoverTarget::Role(Role::parse(r)?),
                    _ => return Err(UnknownCode),
                },
            },
            "conversation.ended" => ConversationEnded {
                case_opened: flag(d, "case_opened")?,
            },
            "conversation.followed_up" => ConversationFollowedUp,
            "conversation.left" => ConversationLeft,
            "chat.availability" => ChatAvailability {
                available: flag(d, "available")?,
                capacity: num(d, "capacity")?,
            },
            "chat.alerts" => ChatAlerts { on: flag(d, "on")? },
            "auth.login" => Login,
            "auth.login_failed" => LoginFailed(match need(d, "why")? {
                "unknown_account" => LoginFailure::UnknownAccount,
                "disabled" => LoginFailure::Disabled,
                "wrong_password" => LoginFailure::WrongPassword {
                    failures: num(d, "failures")?,
                },
                _ => return Err(UnknownCode),
            }),
            "auth.login_refused" => LoginRefused,
            "auth.logout" => Logout,
            "auth.session_ended" => SessionEnded(match need(d, "why")? {
                "expired" => SessionEnd::Expired,
                "disabled" => SessionEnd::Disabled,
                "second_factor_failures" => SessionEnd::SecondFactorFailures,
                "upgraded" => SessionEnd::Upgraded,
                _ => return Err(UnknownCode),
            }),
            "auth.second_factor_ok" => SecondFactorPassed(Factor::parse(need(d, "factor")?)?),
            "auth.second_factor_failed" => SecondFactorFailed {
                failures: num(d, "failures")?,
            },
            "auth.second_factor_refused" => SecondFactorRefused,
            "auth.recovery_code_used" => RecoveryCodeUsed,
            "auth.totp_enrolment_started" => TotpEnrolmentStarted,
            "auth.totp_enrolled" => TotpEnrolled,
            "auth.passkey_registered" => PasskeyRegistered,
            "auth.passkey_removed" => PasskeyRemoved,
            "staff.created" => StaffCreated { role: role()? },
            "staff.invited" => StaffInvited {
                role: role()?,
                pending_approval: flag(d, "pending_approval")?,
            },
            "staff.invitation_accepted" => InvitationAccepted { role: role()? },
            "staff.invitation_revoked" => InvitationRevoked,
            "staff.grant_requested" => RoleGrantRequested { role: role()? },
            "staff.grant_approved" => RoleGrantApproved { role: role()? },
            "staff.grant_refused" => RoleGrantRefused { role: role()? },
            "conversation.searched" => TranscriptsSearched {
                words: get(d, "words").ok_or(UnknownCode)?.to_owned(),
                found: u32::try_from(num(d, "found")?).map_err(|_| UnknownCode)?,
            },
            "staff.edited" => StaffEdited {
                email_changed: flag(d, "email_changed")?,
            },
            "staff.disabled" => StaffDisabled,
            "staff.enabled" => StaffEnabled,
            "staff.role_changed" => StaffRoleChanged { role: role()? },
            "audit.viewed" => AuditViewed,
            "notice.drafted" => NoticesDrafted {
                count: u32::try_from(num(d, "count")?).map_err(|_| UnknownCode)?,
            },
            "notice.edited" => NoticeEdited,
            "notice.ready" => NoticeReady,
            "notice.validated" => NoticeValidated,
            "notice.sent" => NoticeSent {
                channel: NoticeChannel::parse(need(d, "channel")?).map_err(|_| UnknownCode)?,
            },
            "notice.delivered" => NoticeDelivered {
                channel: NoticeChannel::parse(need(d, "channel")?).map_err(|_| UnknownCode)?,
                attempt: u32::try_from(num(d, "attempt")?).map_err(|_| UnknownCode)?,
            },
            "notice.delivery_failed" => NoticeDeliveryFailed {
                channel: NoticeChannel::parse(need(d, "channel")?).map_err(|_| UnknownCode)?,
                reason: need(d, "reason")?.to_owned(),
            },
            "notice.decided" => NoticeDecided {
                decision: DecisionKind::parse(need(d, "decision")?).map_err(|_| UnknownCode)?,
                source: need(d, "source")?.to_owned(),
            },
            "notice.escalated" => NoticeEscalated {
                reminder: need(d, "reminder")?.to_owned(),
            },
            "notice.contested" => NoticeContested,
            "notice.appeal_decided" => NoticeAppealDecided {
                accepted: flag(d, "accepted")?,
            },
            "partner.key_issued" => PartnerKeyIssued {
                platform: need(d, "platform")?.to_owned(),
                key: need(d, "key")?.to_owned(),
            },
            "partner.key_revoked" => PartnerKeyRevoked {
                platform: need(d, "platform")?.to_owned(),
                key: need(d, "key")?.to_owned(),
            },
            "notice.partner_acknowledged" => PartnerAcknowledged {
                platform: need(d, "platform")?.to_owned(),
            },
            "notice.partner_decided" => PartnerDecided {
                platform: need(d, "platform")?.to_owned(),
                decision: DecisionKind::parse(need(d, "decision")?).map_err(|_| UnknownCode)?,
            },
            "case.playbook_step" => PlaybookStepTicked {
                playbook: need(d, "playbook")?.to_owned(),
                step: need(d, "step")?.to_owned(),
                done: flag(d, "done")?,
            },
            "guidance.playbooks_edited" => PlaybooksEdited {
                version: num(d, "version")?,
                defaults: flag(d, "defaults")?,
            },
            "directory.reloaded" => DirectoryReloaded {
                platforms: u32::try_from(num(d, "platforms")?).map_err(|_| UnknownCode)?,
            },
            "evidence.added" => EvidenceAdded {
                kind: EvidenceKind::parse(need(d, "kind")?)?,
                source: EvidenceSource::parse(need(d, "source")?).map_err(|_| UnknownCode)?,
                file: flag(d, "file")?,
            },
            "evidence.viewed" => EvidenceViewed {
                copy: EvidenceCopy::parse(need(d, "copy")?).map_err(|_| UnknownCode)?,
            },
            "evidence.downloaded" => EvidenceDownloaded {
                copy: EvidenceCopy::parse(need(d, "copy")?).map_err(|_| UnknownCode)?,
            },
            "evidence.exported" => EvidenceExported {
                export: need(d, "export")?.to_owned(),
            },
            "evidence.transmitted" => EvidenceTransmitted {
                referral: need(d, "referral")?.to_owned(),
            },
            "case.complaint_exported" => ComplaintExported {
                audience: need(d, "audience")?.to_owned(),
                lang: need(d, "lang")?.to_owned(),
            },
            "followup.issued" => FollowUpIssued,
            "followup.revoked" => FollowUpRevoked,
            "followup.opened" => FollowUpOpened,
            "followup.failed" => FollowUpFailed {
                failures: num(d, "failures")?,
                locked: flag(d, "locked")?,
            },
            "followup.message" => FollowUpMessage {
                from_young_person: flag(d, "from_young_person")?,
            },
            "referral.proposed" => ReferralProposed {
                service: need(d, "service")?.to_owned(),
            },
            "referral.consent_recorded" => ReferralConsentRecorded {
                basis: ConsentBasis::parse(need(d, "basis")?).map_err(|_| UnknownCode)?,
            },
            "referral.changed" => ReferralChanged {
                state: ReferralState::parse(need(d, "state")?).map_err(|_| UnknownCode)?,
            },
            "referral.mail_sent" => ReferralMailSent {
                attempt: u32::try_from(num(d, "attempt")?).map_err(|_| UnknownCode)?,
            },
            "referral.mail_failed" => ReferralMailFailed {
                reason: need(d, "reason")?.to_owned(),
            },
            _ => return Err(UnknownCode),
        })
    }
}

mod labels;
pub use labels::{ACTIONS, action_key, is_read_action};

#[cfg(test)]
mod tests;
