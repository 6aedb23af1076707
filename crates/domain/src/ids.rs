//! Typed identifiers (UUIDv7: time-ordered, so indexes stay compact).

use std::fmt;
use uuid::Uuid;

/// The text was not a valid identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid identifier")]
pub struct InvalidId;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            /// Wraps an existing UUID (ids produced by an injected generator).
            pub fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }
            /// Parses the canonical hyphenated form.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                if s.len() != 36 {
                    return Err(InvalidId);
                }
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

typed_id!(
    /// A case ("dossier").
    CaseId
);
typed_id!(
    /// A contact ("sollicitation").
    ContactId
);
typed_id!(
    /// An item to act on (URL or platform object).
    ItemId
);
typed_id!(
    /// A note on a case.
    NoteId
);
typed_id!(
    /// A staff account.
    StaffId
);
typed_id!(
    /// A notice sent to a platform.
    NoticeId
);
typed_id!(
    /// A referral to an authority or service.
    ReferralId
);
typed_id!(
    /// A piece of evidence (metadata only in this crate).
    EvidenceId
);
typed_id!(
    /// A live conversation (web chat, WhatsApp, Messenger).
    ConversationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = CaseId::new();
        assert_eq!(CaseId::parse(&id.to_string()), Ok(id));
        assert_eq!(CaseId::parse("not-an-id"), Err(InvalidId));
        assert_eq!(CaseId::parse("' OR 1=1--"), Err(InvalidId));
        // simple (non-hyphenated) form is refused: one canonical spelling only
        assert_eq!(
            CaseId::parse(&id.as_uuid().simple().to_string()),
            Err(InvalidId)
        );
    }
}
