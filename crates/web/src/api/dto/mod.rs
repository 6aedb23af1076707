//! Wire formats of the JSON API and the widget. Every JSON answer is one of these structs,
//! and the OpenAPI document's schemas are derived from them (`utoipa::ToSchema`), so the
//! document cannot drift from what is sent. Inputs refuse unknown fields (mass assignment);
//! outputs are built from records explicitly, so nothing leaks by accident; an output's
//! optional field is always present, as `null`.

mod cases;
mod chat;
mod evidence;
mod followup;
mod misc;
mod notices;
mod referrals;
mod staff;

pub use cases::*;
pub use chat::*;
pub use evidence::*;
pub use followup::*;
pub use misc::*;
pub use notices::*;
pub use referrals::*;
pub use staff::*;

use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Parses a vocabulary code or names the field.
macro_rules! code {
    ($ty:ty, $field:literal, $v:expr) => {
        <$ty>::parse($v).map_err(|_| AppError::field($field, "unknown value"))
    };
}
pub(crate) use code;

/// A string schema that takes one of `codes`.
fn codes<'a>(codes: impl Iterator<Item = &'a str>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .description(Some(description))
        .into()
}

/// A closed vocabulary of the domain on the wire: written as its stable code, documented
/// as a string enum of every code (a named schema of the document).
macro_rules! vocabulary {
    ($($wrapper:ident($ty:ty) as $name:literal: $doc:literal;)+) => {$(
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $wrapper(pub $ty);

        impl serde::Serialize for $wrapper {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.0.as_str())
            }
        }

        impl utoipa::PartialSchema for $wrapper {
            fn schema() -> RefOr<Schema> {
                codes(<$ty>::ALL.iter().map(|v| v.as_str()), $doc)
            }
        }

        impl utoipa::ToSchema for $wrapper {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }

        impl From<$ty> for $wrapper {
            fn from(v: $ty) -> Self {
                $wrapper(v)
            }
        }
    )+};
}

use rempart_domain::case::{CaseOutcome, CaseStatus, ConsentScope, EvidenceKind, NoteVisibility};
use rempart_domain::chat::{ConversationStatus, RiskKind, Sender};
use rempart_domain::contact::ItemStatus;
use rempart_domain::directory::NoticeChannel;
use rempart_domain::document::ComplaintAudience;
use rempart_domain::evidence::EvidenceSource;
use rempart_domain::notice::{DecisionKind, MissingElement, NoticeState};
use rempart_domain::policy::Role;
use rempart_domain::referral::ReferralMailState;
use rempart_domain::taxonomy::ContentType;
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome};

vocabulary! {
    CaseStatusCode(CaseStatus) as "CaseStatus": "A case's status.";
    CaseOutcomeCode(CaseOutcome) as "CaseOutcome": "How a closed case ended.";
    NoteVisibilityCode(NoteVisibility) as "NoteVisibility": "Who may read a note.";
    ConsentScopeCode(ConsentScope) as "ConsentScope": "What a consent covers.";
    ChannelCode(Channel) as "Channel": "A contact channel.";
    CallerTypeCode(CallerType) as "CallerType": "Who called (the young person, a parent, a professional…).";
    AgeBandCode(AgeBand) as "AgeBand": "The young person's age band.";
    ContactOutcomeCode(ContactOutcome) as "ContactOutcome": "What a contact led to.";
    ItemStatusCode(ItemStatus) as "ItemStatus": "Where an item stands with its platform.";
    ContentTypeCode(ContentType) as "ContentType": "The kind of content an item is.";
    ConversationStatusCode(ConversationStatus) as "ConversationStatus": "Where a conversation stands.";
    SenderCode(Sender) as "Sender": "Who wrote a message.";
    RiskCode(RiskKind) as "Risk": "A risk signalled in a conversation.";
    RoleCode(Role) as "Role": "A staff role.";
    NoticeChannelCode(NoticeChannel) as "NoticeChannel": "How a notice reaches a platform.";
    NoticeStateCode(NoticeState) as "NoticeState": "Where a notice stands.";
    DecisionKindCode(DecisionKind) as "Decision": "What a platform decided (the DSA Transparency Database's vocabulary, plus refused and no answer).";
    MissingElementCode(MissingElement) as "MissingElement": "An element DSA Article 16(2) requires and a notice lacks.";
    EvidenceKindCode(EvidenceKind) as "EvidenceKind": "A kind of evidence.";
    EvidenceSourceCode(EvidenceSource) as "EvidenceSource": "Who brought a piece of evidence in.";
    ComplaintAudienceCode(ComplaintAudience) as "ComplaintAudience": "For whom a complaint document is written.";
    ReferralMailCode(ReferralMailState) as "ReferralMailState": "Where a referral's e-mail stands.";
}

/// Stringified ids.
pub(crate) fn ids<T: ToString>(v: &[T]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

/// A language of the console and its documents.
#[derive(Debug, Clone, Copy)]
pub struct LangCode;

impl utoipa::PartialSchema for LangCode {
    fn schema() -> RefOr<Schema> {
        codes(
            crate::i18n::LANGS.iter().copied(),
            "A language of the console and its documents.",
        )
    }
}

impl utoipa::ToSchema for LangCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Lang")
    }
}
