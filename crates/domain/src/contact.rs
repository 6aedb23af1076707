//! Contacts ("sollicitations") and items to act on.

use crate::ids::{CaseId, ContactId};
use crate::labelled_enum;
use crate::values::{AgeBand, CallerType, Channel, ContactOutcome, ItemUrl, PersonKey};

/// One interaction through one channel, with its closing summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Id.
    pub id: ContactId,
    /// Channel.
    pub channel: Channel,
    /// Who called.
    pub caller_type: CallerType,
    /// Age band of the young person concerned.
    pub age_band: AgeBand,
    /// Category codes (see the taxonomy).
    pub categories: Vec<String>,
    /// Short structured summary written by the counsellor.
    pub summary: String,
    /// How it ended.
    pub outcome: ContactOutcome,
    /// Pseudonymous link to earlier contacts of the same person.
    pub person_key: Option<PersonKey>,
    /// The case it opened or joined.
    pub case_id: Option<CaseId>,
    /// Start (ms since epoch).
    pub started_at_ms: i64,
}

/// Where an item lives: an exact URL, a platform-native id, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLocation {
    url: Option<ItemUrl>,
    native_id: Option<String>,
}

/// An item needs a URL or a native id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLocation {
    /// Neither given.
    #[error("an item needs a URL or a platform id")]
    Missing,
    /// Native id too long or with control characters.
    #[error("invalid platform id")]
    BadNativeId,
}

impl ItemLocation {
    /// Builds a location; the native id is trimmed, at most 256 characters.
    pub fn new(url: Option<ItemUrl>, native_id: Option<&str>) -> Result<Self, InvalidLocation> {
        let native_id = match native_id.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if s.chars().count() > 256 || s.chars().any(char::is_control) => {
                return Err(InvalidLocation::BadNativeId);
            }
            Some(s) => Some(s.to_owned()),
        };
        if url.is_none() && native_id.is_none() {
            return Err(InvalidLocation::Missing);
        }
        Ok(ItemLocation { url, native_id })
    }
    /// The URL.
    pub fn url(&self) -> Option<&ItemUrl> {
        self.url.as_ref()
    }
    /// The native id.
    pub fn native_id(&self) -> Option<&str> {
        self.native_id.as_deref()
    }
}

labelled_enum!(
    /// Where an item stands with its platform.
    ItemStatus "item-status" {
        Online => "online";
        Notified => "notified";
        Removed => "removed";
        Restricted => "restricted";
        Kept => "kept";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_needs_something() {
        assert_eq!(
            ItemLocation::new(None, Some("  ")),
            Err(InvalidLocation::Missing)
        );
        assert!(ItemLocation::new(None, Some("@compte_x")).is_ok());
        assert_eq!(
            ItemLocation::new(None, Some("a\u{0}b")),
            Err(InvalidLocation::BadNativeId)
        );
    }
}
