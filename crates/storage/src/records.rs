//! What the store reads and writes, in domain types.

use rempart_domain::case::{
    CaseAccess, CaseOutcome, CaseStatus, Consent, ConsentScope, LegalQualification, NoteVisibility,
};
use rempart_domain::contact::ItemStatus;
use rempart_domain::ids::{CaseId, ContactId, ItemId, NoteId, StaffId};
use rempart_domain::policy::Role;
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome};

/// A staff account as stored.
#[derive(Debug, Clone)]
pub struct StaffRecord {
    /// Id.
    pub id: StaffId,
    /// Login e-mail (lower case).
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Team.
    pub team: Option<String>,
    /// Preferred language ("fr", "en").
    pub lang: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// TOTP secret (base32), once enrolment started.
    pub totp_secret: Option<String>,
    /// Whether the second factor is active.
    pub totp_enabled: bool,
    /// Last TOTP time step accepted (replay protection).
    pub totp_last_step: i64,
    /// SHA-256 hashes of unused recovery codes.
    pub recovery_codes: Vec<String>,
    /// Disabled accounts cannot log in and have no sessions.
    pub disabled: bool,
    /// Consecutive wrong second-factor codes (a password success does not reset them).
    pub second_factor_failures: i64,
    /// The second factor is locked until (ms), 0 when not locked.
    pub second_factor_locked_until: i64,
    /// Passkeys registered.
    pub passkeys: i64,
    /// Created (ms).
    pub created_at: i64,
}

impl StaffRecord {
    /// Whether a second factor (TOTP or a passkey) is enrolled.
    pub fn has_second_factor(&self) -> bool {
        self.totp_enabled || self.passkeys > 0
    }
}

/// A console session as stored (the token itself is never stored, only its hash).
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Account.
    pub staff_id: StaffId,
    /// Per-session CSRF token for forms.
    pub csrf_token: String,
    /// Whether the second factor was passed.
    pub mfa_done: bool,
    /// Wrong second-factor codes in this session.
    pub second_factor_failures: i64,
    /// Created (ms).
    pub created_at: i64,
    /// Last request (ms).
    pub last_seen_at: i64,
    /// Ended (ms): logout, expiry or account disabled.
    pub ended_at: Option<i64>,
}

/// A new case.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Id.
    pub id: CaseId,
    /// Reference shown to staff.
    pub reference: String,
    /// Short title (no victim name).
    pub title: String,
    /// Handling team.
    pub team: Option<String>,
    /// Category codes.
    pub categories: Vec<String>,
    /// Victim's age band.
    pub age_band: AgeBand,
    /// Preferred channel.
    pub preferred_channel: Option<Channel>,
    /// Consents.
    pub consents: Vec<Consent>,
    /// Legal qualification.
    pub legal: LegalQualification,
    /// Staff assigned from the start.
    pub assignees: Vec<StaffId>,
    /// Creator.
    pub created_by: StaffId,
    /// Creation time (ms).
    pub at: i64,
}

/// A case as stored.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    /// Id.
    pub id: CaseId,
    /// Reference.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: CaseStatus,
    /// Outcome, once closed.
    pub outcome: Option<CaseOutcome>,
    /// Handling team.
    pub team: Option<String>,
    /// Categories.
    pub categories: Vec<String>,
    /// Victim's age band.
    pub age_band: AgeBand,
    /// Preferred channel.
    pub preferred_channel: Option<Channel>,
    /// Consents.
    pub consents: Vec<Consent>,
    /// Legal qualification.
    pub legal: LegalQualification,
    /// Assigned staff.
    pub assignees: Vec<StaffId>,
    /// Creator.
    pub created_by: StaffId,
    /// Created (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Closed (ms).
    pub closed_at: Option<i64>,
}

impl CaseRecord {
    /// What the access policy needs to know.
    pub fn access(&self) -> CaseAccess {
        CaseAccess {
            case_id: Some(self.id),
            assignees: self.assignees.clone(),
            team: self.team.clone(),
        }
    }
}

/// A line of the case list.
#[derive(Debug, Clone)]
pub struct CaseSummary {
    /// Id.
    pub id: CaseId,
    /// Reference.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: CaseStatus,
    /// Team.
    pub team: Option<String>,
    /// Categories.
    pub categories: Vec<String>,
    /// Age band.
    pub age_band: AgeBand,
    /// Created (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A contact as stored (also used to create one).
#[derive(Debug, Clone)]
pub struct ContactRecord {
    /// Id.
    pub id: ContactId,
    /// Case it belongs to.
    pub case_id: Option<CaseId>,
    /// Channel.
    pub channel: Channel,
    /// Caller type.
    pub caller_type: CallerType,
    /// Age band.
    pub age_band: AgeBand,
    /// Categories.
    pub categories: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Outcome.
    pub outcome: ContactOutcome,
    /// Pseudonymous person key.
    pub person_key: Option<String>,
    /// Start (ms).
    pub started_at: i64,
    /// Duration in seconds (calls).
    pub duration_s: Option<i64>,
    /// Who logged it.
    pub created_by: StaffId,
    /// Logged at (ms).
    pub created_at: i64,
}

/// An item as stored (also used to create one).
#[derive(Debug, Clone)]
pub struct ItemRecord {
    /// Id.
    pub id: ItemId,
    /// Case.
    pub case_id: CaseId,
    /// Platform code.
    pub platform: String,
    /// Content type code.
    pub content_type: String,
    /// Exact URL.
    pub url: Option<String>,
    /// Platform-native id.
    pub native_id: Option<String>,
    /// Status with the platform.
    pub status: ItemStatus,
    /// First seen online (ms).
    pub first_seen_at: Option<i64>,
    /// Who added it.
    pub created_by: StaffId,
    /// Added (ms).
    pub created_at: i64,
}

/// A note as stored (also used to create one; `author_name` is filled on read).
#[derive(Debug, Clone)]
pub struct NoteRecord {
    /// Id.
    pub id: NoteId,
    /// Case.
    pub case_id: CaseId,
    /// Who may read it.
    pub visibility: NoteVisibility,
    /// Text.
    pub body: String,
    /// Author.
    pub author_id: StaffId,
    /// Author's display name (read only).
    pub author_name: String,
    /// Written (ms).
    pub created_at: i64,
}

pub(crate) fn encode_list(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(",{},", items.join(","))
    }
}

pub(crate) fn decode_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A list of free texts (penal articles: "Code pénal, art. 226-2-1" holds a comma), as a
/// JSON array.
pub(crate) fn encode_texts(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

/// Reads [`encode_texts`]; a value written before it (a comma-separated list) is read as
/// such.
pub(crate) fn decode_texts(s: &str) -> Vec<String> {
    if s.starts_with('[') {
        serde_json::from_str(s).unwrap_or_default()
    } else {
        decode_list(s)
    }
}

pub(crate) fn encode_consents(c: &[Consent]) -> String {
    let v: Vec<serde_json::Value> = c
        .iter()
        .map(|c| {
            serde_json::json!({"scope": c.scope.as_str(), "by_guardian": c.by_guardian, "at": c.at_ms})
        })
        .collect();
    serde_json::Value::Array(v).to_string()
}

pub(crate) fn decode_consents(s: &str) -> Option<Vec<Consent>> {
    let v: Vec<serde_json::Value> = serde_json::from_str(s).ok()?;
    v.iter()
        .map(|c| {
            Some(Consent {
                scope: ConsentScope::parse(c.get("scope")?.as_str()?).ok()?,
                by_guardian: c.get("by_guardian")?.as_bool()?,
                at_ms: c.get("at")?.as_i64()?,
            })
        })
        .collect()
}
