//! Wire formats. Inputs refuse unknown fields (mass assignment); outputs are built
//! from records explicitly, so nothing leaks by accident.

use rempart_app::AppError;
use rempart_app::cases::{CaseInput, CaseView, ContactInput, ItemInput};
use rempart_app::records::{
    CaseRecord, CaseSummary, ContactRecord, InvitationRecord, ItemRecord, NoteRecord,
    RoleGrantRecord, StaffRecord,
};
use rempart_domain::audit::AuditRecord;
use rempart_domain::case::ConsentScope;
use rempart_domain::ids::CaseId;
use rempart_domain::taxonomy::ContentType;
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome};
use serde::Deserialize;
use serde_json::{Value, json};

/// Parses a vocabulary code or names the field.
macro_rules! code {
    ($ty:ty, $field:literal, $v:expr) => {
        <$ty>::parse($v).map_err(|_| AppError::field($field, "unknown value"))
    };
}
pub(crate) use code;

/// A consent in a new case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentReq {
    /// Scope code.
    pub scope: String,
    /// Given by the guardian.
    #[serde(default)]
    pub by_guardian: bool,
}

/// A contact logged by hand.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactReq {
    /// Channel code.
    pub channel: String,
    /// Caller type code.
    pub caller_type: String,
    /// Age band code.
    pub age_band: String,
    /// Category codes.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Outcome code.
    pub outcome: String,
    /// Start (ms).
    pub started_at: Option<i64>,
    /// Duration (s).
    pub duration_s: Option<i64>,
    /// Case to join.
    pub case_id: Option<String>,
}

impl ContactReq {
    /// To the use-case input.
    pub fn into_input(self) -> Result<ContactInput, AppError> {
        Ok(ContactInput {
            channel: code!(Channel, "channel", &self.channel)?,
            caller_type: code!(CallerType, "caller_type", &self.caller_type)?,
            age_band: code!(AgeBand, "age_band", &self.age_band)?,
            categories: self.categories,
            summary: self.summary,
            outcome: code!(ContactOutcome, "outcome", &self.outcome)?,
            started_at: self.started_at,
            duration_s: self.duration_s,
            case_id: match self.case_id {
                None => None,
                Some(c) => {
                    Some(CaseId::parse(&c).map_err(|_| AppError::field("case_id", "invalid id"))?)
                }
            },
        })
    }
}

/// A new case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCaseReq {
    /// Title.
    pub title: String,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Age band code.
    pub age_band: String,
    /// Preferred channel code.
    pub preferred_channel: Option<String>,
    /// Consents.
    #[serde(default)]
    pub consents: Vec<ConsentReq>,
    /// Penal articles.
    #[serde(default)]
    pub articles: Vec<String>,
    /// Team.
    pub team: Option<String>,
    /// The contact that led to the case.
    pub contact: Option<ContactReq>,
}

impl CreateCaseReq {
    /// To the use-case inputs.
    pub fn into_input(self) -> Result<(CaseInput, Option<ContactInput>), AppError> {
        let consents = self
            .consents
            .iter()
            .map(|c| Ok((code!(ConsentScope, "consents", &c.scope)?, c.by_guardian)))
            .collect::<Result<Vec<_>, AppError>>()?;
        let input = CaseInput {
            title: self.title,
            categories: self.categories,
            age_band: code!(AgeBand, "age_band", &self.age_band)?,
            preferred_channel: self
                .preferred_channel
                .as_deref()
                .map(|c| code!(Channel, "preferred_channel", c))
                .transpose()?,
            consents,
            articles: self.articles,
            team: self.team,
        };
        Ok((input, self.contact.map(ContactReq::into_input).transpose()?))
    }
}

/// A status change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReq {
    /// New status code.
    pub status: String,
    /// Outcome code (closing).
    pub outcome: Option<String>,
}

/// New assignees.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignReq {
    /// Staff ids.
    pub assignees: Vec<String>,
}

/// A new item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemReq {
    /// Platform code.
    pub platform: String,
    /// Content type code.
    pub content_type: String,
    /// URL.
    pub url: Option<String>,
    /// Native id.
    pub native_id: Option<String>,
    /// First seen (ms).
    pub first_seen_at: Option<i64>,
}

impl ItemReq {
    /// To the use-case input.
    pub fn into_input(self) -> Result<ItemInput, AppError> {
        Ok(ItemInput {
            platform: self.platform,
            content_type: ContentType::parse(&self.content_type)
                .map_err(|_| AppError::field("content_type", "unknown value"))?,
            url: self.url,
            native_id: self.native_id,
            first_seen_at: self.first_seen_at,
        })
    }
}

/// A new note.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteReq {
    /// Visibility code.
    pub visibility: String,
    /// Text.
    pub body: String,
}

/// Case summary.
pub fn case_summary(c: &CaseSummary) -> Value {
    json!({
        "id": c.id.to_string(), "reference": c.reference, "title": c.title, "status": c.status.as_str(),
        "team": c.team, "categories": c.categories, "age_band": c.age_band.as_str(),
        "created_at": c.created_at, "updated_at": c.updated_at,
    })
}

/// A whole case record.
pub fn case(c: &CaseRecord) -> Value {
    json!({
        "id": c.id.to_string(), "reference": c.reference, "title": c.title, "status": c.status.as_str(),
        "outcome": c.outcome.map(|o| o.as_str()), "team": c.team, "categories": c.categories,
        "age_band": c.age_band.as_str(), "preferred_channel": c.preferred_channel.map(|p| p.as_str()),
        "consents": c.consents.iter().map(|k| json!({"scope": k.scope.as_str(), "by_guardian": k.by_guardian, "at": k.at_ms})).collect::<Vec<_>>(),
        "legal": {"articles": c.legal.articles, "dsa_category": c.legal.dsa_category},
        "assignees": c.assignees.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "created_at": c.created_at, "updated_at": c.updated_at, "closed_at": c.closed_at,
    })
}

/// An item.
pub fn item(i: &ItemRecord) -> Value {
    json!({
        "id": i.id.to_string(), "platform": i.platform, "content_type": i.content_type, "url": i.url,
        "native_id": i.native_id, "status": i.status.as_str(), "first_seen_at": i.first_seen_at, "created_at": i.created_at,
    })
}

/// A note.
pub fn note(n: &NoteRecord) -> Value {
    json!({
        "id": n.id.to_string(), "visibility": n.visibility.as_str(), "body": n.body,
        "author_id": n.author_id.to_string(), "author_name": n.author_name, "created_at": n.created_at,
    })
}

/// A contact.
pub fn contact(k: &ContactRecord) -> Value {
    json!({
        "id": k.id.to_string(), "case_id": k.case_id.map(|c| c.to_string()), "channel": k.channel.as_str(),
        "caller_type": k.caller_type.as_str(), "age_band": k.age_band.as_str(), "categories": k.categories,
        "summary": k.summary, "outcome": k.outcome.as_str(), "started_at": k.started_at, "duration_s": k.duration_s,
    })
}

/// An audit event.
pub fn audit(a: &AuditRecord) -> Value {
    json!({
        "seq": a.seq, "at": a.at_ms, "actor_id": a.actor_id, "action": a.action, "object_type": a.object_type,
        "object_id": a.object_id, "case_id": a.case_id, "detail": a.detail, "hash": a.hash,
    })
}

/// A case page.
pub fn case_view(v: &CaseView) -> Value {
    let mut c = case(&v.case);
    if let Some(m) = c.as_object_mut() {
        m.insert("items".into(), v.items.iter().map(item).collect());
        m.insert("notes".into(), v.notes.iter().map(note).collect());
        m.insert("contacts".into(), v.contacts.iter().map(contact).collect());
        m.insert("timeline".into(), v.timeline.iter().map(audit).collect());
    }
    c
}

/// A staff account (never its secrets).
pub fn staff(s: &StaffRecord) -> Value {
    json!({
        "id": s.id.to_string(), "email": s.email, "display_name": s.display_name, "role": s.role.as_str(),
        "team": s.team, "lang": s.lang, "totp_enabled": s.totp_enabled, "passkeys": s.passkeys,
        "disabled": s.disabled, "created_at": s.created_at,
    })
}

/// An invitation (never its token).
pub fn invitation(i: &InvitationRecord) -> Value {
    json!({
        "id": i.id, "email": i.email, "display_name": i.display_name, "role": i.role.as_str(), "team": i.team,
        "pending_approval": i.token_hash.is_none(), "invited_by": i.invited_by.to_string(),
        "created_at": i.created_at, "expires_at": i.expires_at,
    })
}

/// A role grant awaiting a second administrator.
pub fn grant(g: &RoleGrantRecord) -> Value {
    json!({
        "id": g.id, "staff_id": g.staff_id.to_string(), "role": g.role.as_str(), "team": g.team,
        "requested_by": g.requested_by.to_string(), "created_at": g.created_at,
    })
}
