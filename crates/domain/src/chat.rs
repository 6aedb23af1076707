//! Live conversations: their states, who speaks, and the risk signals that put the most
//! urgent first in the queue.

use crate::labelled_enum;
use crate::values::{AgeBand, CallerType};
use serde::Deserialize;

labelled_enum!(
    /// Where a conversation stands.
    ConversationStatus {
        Waiting => "waiting", "en attente", "waiting";
        Active => "active", "en cours", "active";
        Ended => "ended", "terminée", "ended";
        LeftMessage => "left_message", "message laissé (hors horaires)", "message left (closed hours)";
        Left => "left", "parti·e (sortie rapide)", "left (quick exit)";
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
    Sender {
        Visitor => "visitor", "jeune / parent", "young person / parent";
        Counsellor => "counsellor", "écoutant·e", "counsellor";
        System => "system", "système", "system";
        Note => "note", "note interne (invisible pour le jeune)", "internal note (never shown to the young person)";
    }
);

labelled_enum!(
    /// A danger signalled in a message.
    RiskKind {
        SuicidalThoughts => "suicidal_thoughts", "idées suicidaires", "suicidal thoughts";
        BlackmailDeadline => "blackmail_deadline", "chantage avec échéance", "blackmail with a deadline";
        ImminentPublication => "imminent_publication", "publication imminente", "imminent publication";
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

/// The risk lexicon could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// Not valid TOML or not the expected shape.
    #[error("risk lexicon: {0}")]
    Parse(String),
    /// Unknown kind.
    #[error("risk lexicon: unknown kind {0}")]
    UnknownKind(String),
}

#[derive(Deserialize)]
struct RawSignal {
    kind: String,
    #[serde(default)]
    fr: Vec<String>,
    #[serde(default)]
    en: Vec<String>,
}

#[derive(Deserialize)]
struct RawLexicon {
    signal: Vec<RawSignal>,
}

/// Phrases that signal danger, French and English (data: `data/risk.toml`).
#[derive(Debug, Clone)]
pub struct RiskLexicon {
    phrases: Vec<(RiskKind, String)>,
}

/// Lower case, accents removed, every run of non-alphanumerics one space, padded with
/// spaces so phrases match on word boundaries.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let folded: &str = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
            'ù' | 'û' | 'ü' | 'ú' => "u",
            'ç' => "c",
            'œ' => "oe",
            'æ' => "ae",
            'ÿ' => "y",
            'ñ' => "n",
            _ => "",
        };
        if !folded.is_empty() {
            out.push_str(folded);
            space = false;
        } else if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if !space {
        out.push(' ');
    }
    out
}

impl RiskLexicon {
    /// The embedded defaults.
    pub fn defaults() -> Result<RiskLexicon, RiskError> {
        RiskLexicon::from_toml(include_str!("../data/risk.toml"))
    }

    /// Parses a lexicon.
    pub fn from_toml(src: &str) -> Result<RiskLexicon, RiskError> {
        let raw: RawLexicon = toml::from_str(src).map_err(|e| RiskError::Parse(e.to_string()))?;
        let mut phrases = Vec::new();
        for s in raw.signal {
            let kind =
                RiskKind::parse(&s.kind).map_err(|_| RiskError::UnknownKind(s.kind.clone()))?;
            for p in s.fr.iter().chain(s.en.iter()) {
                let n = normalize(p);
                if n.trim().is_empty() {
                    return Err(RiskError::Parse(format!("empty phrase for {}", s.kind)));
                }
                phrases.push((kind, n));
            }
        }
        Ok(RiskLexicon { phrases })
    }

    /// The kinds of danger `text` signals (each once, in `RiskKind` order).
    pub fn assess(&self, text: &str) -> Vec<RiskKind> {
        let n = normalize(text);
        let mut found: Vec<RiskKind> = RiskKind::ALL
            .iter()
            .copied()
            .filter(|k| {
                self.phrases
                    .iter()
                    .any(|(pk, p)| pk == k && n.contains(p.as_str()))
            })
            .collect();
        found.dedup();
        found
    }
}

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
    fn signals_are_found_whatever_the_accents_and_case() {
        let l = RiskLexicon::defaults().unwrap();
        assert_eq!(
            l.assess("J'ai ENVIE de MOURIR..."),
            vec![RiskKind::SuicidalThoughts]
        );
        assert_eq!(
            l.assess("il dit qu'il va publier la vidéo ce soir sinon il publie"),
            vec![RiskKind::BlackmailDeadline, RiskKind::ImminentPublication]
        );
        assert_eq!(
            l.assess("he says he's going to post it, I want to die"),
            vec![RiskKind::SuicidalThoughts, RiskKind::ImminentPublication]
        );
        assert!(
            l.assess("bonjour, j'ai une question sur mon compte")
                .is_empty()
        );
        // whole words only: "mourir" inside another word does not count
        assert!(l.assess("chantages").is_empty());
        assert!(l.assess("").is_empty());
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize("  Ça, c'est   ÉNORME!! "), " ca c est enorme ");
        assert_eq!(normalize("<script>"), " script ");
    }

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

    #[test]
    fn bad_lexicons_are_refused() {
        assert!(RiskLexicon::from_toml("[[signal]]\nkind = \"nope\"\nfr = [\"x\"]\n").is_err());
        assert!(
            RiskLexicon::from_toml("[[signal]]\nkind = \"suicidal_thoughts\"\nfr = [\"!!\"]\n")
                .is_err()
        );
        assert!(RiskLexicon::from_toml("not toml").is_err());
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
