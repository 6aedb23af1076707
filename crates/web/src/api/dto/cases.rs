//! Cases, their items, notes and contacts, and audit events.

use super::{
    AgeBandCode, CallerTypeCode, CaseOutcomeCode, CaseStatusCode, ChannelCode, ConsentScopeCode,
    ContactOutcomeCode, ContentTypeCode, ItemStatusCode, NoteVisibilityCode, code, ids,
};
use rempart_app::AppError;
use rempart_app::cases::{CaseInput, CaseView, ContactInput, ItemInput};
use rempart_app::records::{CaseRecord, CaseSummary, ContactRecord, ItemRecord, NoteRecord};
use rempart_domain::audit::AuditRecord;
use rempart_domain::case::ConsentScope;
use rempart_domain::ids::CaseId;
use rempart_domain::taxonomy::ContentType;
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A consent in a new case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentReq {
    /// What is consented to.
    #[schema(value_type = ConsentScopeCode)]
    pub scope: String,
    /// Given by the guardian rather than the young person.
    #[serde(default)]
    pub by_guardian: bool,
}

/// A contact logged by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactReq {
    /// Channel.
    #[schema(value_type = ChannelCode)]
    pub channel: String,
    /// Who called.
    #[schema(value_type = CallerTypeCode)]
    pub caller_type: String,
    /// Age band.
    #[schema(value_type = AgeBandCode)]
    pub age_band: String,
    /// Category codes (see `GET /api/v1/categories`).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Summary.
    #[schema(min_length = 1, max_length = 4000)]
    pub summary: String,
    /// What the contact led to.
    #[schema(value_type = ContactOutcomeCode)]
    pub outcome: String,
    /// Start (ms since the epoch); now when absent.
    pub started_at: Option<i64>,
    /// Duration (s), for calls.
    #[schema(minimum = 0, maximum = 86400)]
    pub duration_s: Option<i64>,
    /// The case it joins.
    #[schema(format = "uuid")]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCaseReq {
    /// Short title (no victim name).
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Category codes.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Age band.
    #[schema(value_type = AgeBandCode)]
    pub age_band: String,
    /// How the young person prefers to be reached.
    #[schema(value_type = Option<ChannelCode>)]
    pub preferred_channel: Option<String>,
    /// Consents given.
    #[serde(default)]
    pub consents: Vec<ConsentReq>,
    /// Penal articles, e.g. `226-2-1`.
    #[serde(default)]
    pub articles: Vec<String>,
    /// Handling team (letters, digits, `-` and `_`); the creator's by default.
    #[schema(max_length = 40)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusReq {
    /// The new status.
    #[schema(value_type = CaseStatusCode)]
    pub status: String,
    /// How the case ended (when closing it).
    #[schema(value_type = Option<CaseOutcomeCode>)]
    pub outcome: Option<String>,
}

/// New assignees.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignReq {
    /// Staff ids (replacing the current assignees).
    #[schema(format = "uuid")]
    pub assignees: Vec<String>,
}

/// A new item: a URL, the platform's id for it, or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemReq {
    /// Platform code (see `GET /api/v1/platforms`).
    pub platform: String,
    /// Kind of content.
    #[schema(value_type = ContentTypeCode)]
    pub content_type: String,
    /// Exact URL (http or https, no credentials).
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// The platform's own id for it.
    pub native_id: Option<String>,
    /// First seen online (ms since the epoch).
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteReq {
    /// Who may read it (a visibility the account may write).
    #[schema(value_type = NoteVisibilityCode)]
    pub visibility: String,
    /// Text.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
}

/// A line of the case list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseLine {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Reference shown to staff.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: CaseStatusCode,
    /// Handling team.
    #[schema(required)]
    pub team: Option<String>,
    /// Category codes.
    pub categories: Vec<String>,
    /// Age band.
    pub age_band: AgeBandCode,
    /// Created (ms since the epoch).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

impl From<&CaseSummary> for CaseLine {
    fn from(c: &CaseSummary) -> Self {
        CaseLine {
            id: c.id.to_string(),
            reference: c.reference.clone(),
            title: c.title.clone(),
            status: c.status.into(),
            team: c.team.clone(),
            categories: c.categories.clone(),
            age_band: c.age_band.into(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A page of the case list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// The cases, most recently changed first.
    pub cases: Vec<CaseLine>,
    /// The `cursor` of the next page; null on the last one.
    #[schema(required)]
    pub next_cursor: Option<String>,
    /// The `before` of the previous page; null on the first one.
    #[schema(required)]
    pub prev_cursor: Option<String>,
}

/// A recorded consent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentOut {
    /// What was consented to.
    pub scope: ConsentScopeCode,
    /// Given by the guardian.
    pub by_guardian: bool,
    /// When (ms since the epoch).
    pub at: i64,
}

/// A case's legal qualification.
#[derive(Debug, Serialize, ToSchema)]
pub struct Legal {
    /// Penal articles.
    pub articles: Vec<String>,
    /// DSA statement category code.
    #[schema(required)]
    pub dsa_category: Option<String>,
}

/// A case.
#[derive(Debug, Serialize, ToSchema)]
pub struct Case {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Reference shown to staff.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: CaseStatusCode,
    /// How it ended, once closed.
    #[schema(required)]
    pub outcome: Option<CaseOutcomeCode>,
    /// Handling team.
    #[schema(required)]
    pub team: Option<String>,
    /// Category codes.
    pub categories: Vec<String>,
    /// Age band.
    pub age_band: AgeBandCode,
    /// How the young person prefers to be reached.
    #[schema(required)]
    pub preferred_channel: Option<ChannelCode>,
    /// Consents.
    pub consents: Vec<ConsentOut>,
    /// Legal qualification.
    pub legal: Legal,
    /// Assigned staff ids.
    #[schema(format = "uuid")]
    pub assignees: Vec<String>,
    /// Created (ms since the epoch).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Closed (ms).
    #[schema(required)]
    pub closed_at: Option<i64>,
}

impl From<&CaseRecord> for Case {
    fn from(c: &CaseRecord) -> Self {
        Case {
            id: c.id.to_string(),
            reference: c.reference.clone(),
            title: c.title.clone(),
            status: c.status.into(),
            outcome: c.outcome.map(Into::into),
            team: c.team.clone(),
            categories: c.categories.clone(),
            age_band: c.age_band.into(),
            preferred_channel: c.preferred_channel.map(Into::into),
            consents: c
                .consents
                .iter()
                .map(|k| ConsentOut {
                    scope: k.scope.into(),
                    by_guardian: k.by_guardian,
                    at: k.at_ms,
                })
                .collect(),
            legal: Legal {
                articles: c.legal.articles.clone(),
                dsa_category: c.legal.dsa_category.clone(),
            },
            assignees: ids(&c.assignees),
            created_at: c.created_at,
            updated_at: c.updated_at,
            closed_at: c.closed_at,
        }
    }
}

/// An item: a piece of content online.
#[derive(Debug, Serialize, ToSchema)]
pub struct Item {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Platform code.
    pub platform: String,
    /// Kind of content (a `ContentType` code).
    pub content_type: String,
    /// Exact URL.
    #[schema(required)]
    pub url: Option<String>,
    /// The platform's own id.
    #[schema(required)]
    pub native_id: Option<String>,
    /// Where it stands with the platform.
    pub status: ItemStatusCode,
    /// First seen online (ms).
    #[schema(required)]
    pub first_seen_at: Option<i64>,
    /// Added (ms).
    pub created_at: i64,
}

impl From<&ItemRecord> for Item {
    fn from(i: &ItemRecord) -> Self {
        Item {
            id: i.id.to_string(),
            platform: i.platform.clone(),
            content_type: i.content_type.clone(),
            url: i.url.clone(),
            native_id: i.native_id.clone(),
            status: i.status.into(),
            first_seen_at: i.first_seen_at,
            created_at: i.created_at,
        }
    }
}

/// A note.
#[derive(Debug, Serialize, ToSchema)]
pub struct Note {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Who may read it.
    pub visibility: NoteVisibilityCode,
    /// Text.
    pub body: String,
    /// Author's staff id.
    #[schema(format = "uuid")]
    pub author_id: String,
    /// Author's display name.
    pub author_name: String,
    /// Written (ms).
    pub created_at: i64,
}

impl From<&NoteRecord> for Note {
    fn from(n: &NoteRecord) -> Self {
        Note {
            id: n.id.to_string(),
            visibility: n.visibility.into(),
            body: n.body.clone(),
            author_id: n.author_id.to_string(),
            author_name: n.author_name.clone(),
            created_at: n.created_at,
        }
    }
}

/// A contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// The case it belongs to.
    #[schema(required, format = "uuid")]
    pub case_id: Option<String>,
    /// Channel.
    pub channel: ChannelCode,
    /// Who called.
    pub caller_type: CallerTypeCode,
    /// Age band.
    pub age_band: AgeBandCode,
    /// Category codes.
    pub categories: Vec<String>,
    /// Summary.
    pub summary: String,
    /// What it led to.
    pub outcome: ContactOutcomeCode,
    /// Start (ms).
    pub started_at: i64,
    /// Duration (s).
    #[schema(required)]
    pub duration_s: Option<i64>,
}

impl From<&ContactRecord> for Contact {
    fn from(k: &ContactRecord) -> Self {
        Contact {
            id: k.id.to_string(),
            case_id: k.case_id.map(|c| c.to_string()),
            channel: k.channel.into(),
            caller_type: k.caller_type.into(),
            age_band: k.age_band.into(),
            categories: k.categories.clone(),
            summary: k.summary.clone(),
            outcome: k.outcome.into(),
            started_at: k.started_at,
            duration_s: k.duration_s,
        }
    }
}

/// An audit event (ids and codes, never content).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// Who (staff id).
    #[schema(required, format = "uuid")]
    pub actor_id: Option<String>,
    /// What, e.g. `case.read`.
    pub action: String,
    /// Kind of object, e.g. `case`.
    pub object_type: String,
    /// Which object.
    #[schema(required)]
    pub object_id: Option<String>,
    /// The case concerned.
    #[schema(required)]
    pub case_id: Option<String>,
    /// Non-content detail, e.g. `status=closed`.
    pub detail: String,
    /// This event's hash in the chain.
    pub hash: String,
}

impl From<&AuditRecord> for AuditEvent {
    fn from(a: &AuditRecord) -> Self {
        AuditEvent {
            seq: a.seq,
            at: a.at_ms,
            actor_id: a.actor_id.clone(),
            action: a.action.clone(),
            object_type: a.object_type.clone(),
            object_id: a.object_id.clone(),
            case_id: a.case_id.clone(),
            detail: a.detail.clone(),
            hash: a.hash.clone(),
        }
    }
}

/// A case with what the account may read of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Items.
    pub items: Vec<Item>,
    /// Notes of the visibilities the account may read.
    pub notes: Vec<Note>,
    /// Contacts.
    pub contacts: Vec<Contact>,
    /// The case's change events.
    pub timeline: Vec<AuditEvent>,
}

impl From<&CaseView> for CasePage {
    fn from(v: &CaseView) -> Self {
        CasePage {
            case: (&v.case).into(),
            items: v.items.iter().map(Into::into).collect(),
            notes: v.notes.iter().map(Into::into).collect(),
            contacts: v.contacts.iter().map(Into::into).collect(),
            timeline: v.timeline.iter().map(Into::into).collect(),
        }
    }
}
