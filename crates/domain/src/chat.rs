//! Live conversations: their states, who speaks, and the risk signals that put the most
//! urgent first in the queue.

use crate::labelled_enum;
use crate::values::{AgeBand, CallerType};
use serde::Deserialize;

labelled_enum!(
    /// Where a conversation stands.
    ConversationStatus "conversation-status" {
        Waiting => "waiting";
        Active => "active";
        Ended => "ended";
        LeftMessage => "left_message";
        Left => "left";
    }
);

impl ConversationStatus {
    /// Whether messages may still be added.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ConversationStatus::Waiting | ConversationStatus::Active
        )
    }
}

/// The system line a conversation's transcript gets when the young person leaves it by
/// quick exit (in both languages: the counsellor reading it may use either).
pub const LEFT_LINE: &str = "Sortie rapide : la personne a quitté la conversation. — Quick exit: the young person left the conversation.";

impl ConversationStatus {
    /// Whether the young person may still leave it by quick exit (it is in the queue, being
    /// answered, or a message left while closed).
    pub fn may_leave(self) -> bool {
        matches!(
            self,
            ConversationStatus::Waiting
                | ConversationStatus::Active
                | ConversationStatus::LeftMessage
        )
    }
}

labelled_enum!(
    /// Who wrote a message.
    Sender "sender" {
        Visitor => "visitor";
        Counsellor => "counsellor";
        System => "system";
        Note => "note";
    }
);

labelled_enum!(
    /// A danger signalled in a message.
    RiskKind "risk-kind" {
        SuicidalThoughts => "suicidal_thoughts";
        BlackmailDeadline => "blackmail_deadline";
        ImminentPublication => "imminent_publication";
    }
);

impl RiskKind {
    /// Weight in the queue priority.
    pub fn weight(self) -> i64 {
        match self {
            RiskKind::SuicidalThoughts => 100,
            RiskKind::BlackmailDeadline => 60,
            RiskKind::ImminentPublication => 50,
        }
    }
}

pub use crate::risk::{RiskError, RiskLexicon};

/// The queue priority of a waiting conversation: risk first (the sum of the signals'
/// weights), then the youngest; ties are served in order of waiting time.
pub fn priority(risks: &[RiskKind], caller: Option<CallerType>, age: Option<AgeBand>) -> i64 {
    let mut p: i64 = risks.iter().map(|r| r.weight()).sum();
    if age == Some(AgeBand::Under11) {
        p += 10;
    }
    if caller == Some(CallerType::Victim) {
        p += 1;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_comes_first() {
        let calm = priority(&[], Some(CallerType::Victim), Some(AgeBand::Under11));
        let danger = priority(&[RiskKind::ImminentPublication], None, None);
        assert!(danger > calm);
        assert!(
            priority(&[RiskKind::SuicidalThoughts], None, None)
                > priority(&[RiskKind::BlackmailDeadline], None, None)
        );
    }
}

/// A canned reply.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CannedReply {
    /// Stable code.
    pub code: String,
    /// French text.
    pub fr: String,
    /// English text.
    pub en: String,
}

impl CannedReply {
    /// The text in `lang`.
    pub fn text(&self, lang: &str) -> &str {
        if lang == "en" { &self.en } else { &self.fr }
    }
}

#[derive(Deserialize)]
struct RawCanned {
    reply: Vec<CannedReply>,
}

/// The canned replies (data: `data/canned.toml`).
pub fn canned_replies_from_toml(src: &str) -> Result<Vec<CannedReply>, RiskError> {
    let raw: RawCanned = toml::from_str(src).map_err(|e| RiskError::Parse(e.to_string()))?;
    for r in &raw.reply {
        if r.code.is_empty() || r.fr.trim().is_empty() || r.en.trim().is_empty() {
            return Err(RiskError::Parse(format!(
                "canned reply {} is incomplete",
                r.code
            )));
        }
    }
    Ok(raw.reply)
}

/// The built-in canned replies.
pub fn default_canned_replies() -> Result<Vec<CannedReply>, RiskError> {
    canned_replies_from_toml(include_str!("../data/canned.toml"))
}

#[cfg(test)]
mod canned_tests {
    #[test]
    fn defaults_parse_in_both_languages() {
        let all = super::default_canned_replies().unwrap();
        assert!(all.len() >= 5);
        assert!(all.iter().any(|r| r.code == "danger_now"
            && r.text("fr").contains("3114")
            && r.text("en").contains("3114")));
        assert!(
            super::canned_replies_from_toml("[[reply]]\ncode = \"x\"\nfr = \"\"\nen = \"y\"\n")
                .is_err()
        );
    }
}
