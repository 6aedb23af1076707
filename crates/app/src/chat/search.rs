//! Searching conversation transcripts: the words are matched as case search matches them
//! (case and accents ignored), only in conversations the reader may read — the database
//! narrows to the reader's conversations, then every hit passes the access policy — and
//! each search is audited with its words as a keyed hash.

use super::*;

/// A message a transcript search found.
#[derive(Debug, Clone)]
pub struct TranscriptHit {
    /// The message.
    pub message: MessageRecord,
    /// Its conversation.
    pub conversation: ConversationRecord,
}

/// The most messages one search shows.
pub const TRANSCRIPT_HITS: i64 = 100;

impl App {
    /// The messages holding `words` in the conversations `actor` may read, newest first.
    /// Words of fewer than three characters are refused (`invalid_field`): they would
    /// match nearly everything.
    pub async fn search_transcripts(
        &self,
        actor: &Actor,
        words: &str,
    ) -> Result<Vec<TranscriptHit>, AppError> {
        if !can(actor, Action::SearchTranscripts, Resource::Global) {
            return Err(AppError::not_found());
        }
        let words = words.trim();
        if words.chars().count() < 3 || words.chars().count() > 200 {
            return Err(AppError::field("q", "between 3 and 200 characters"));
        }
        if words.chars().any(char::is_control) {
            return Err(AppError::field("q", "no control characters"));
        }
        // a supervisor may read every conversation; anyone else, those assigned to them
        let narrow = (!can(actor, Action::MonitorChats, Resource::Global)).then_some(actor.id);
        let hits: Vec<TranscriptHit> = self
            .store
            .search_messages(words, narrow, TRANSCRIPT_HITS)
            .await?
            .into_iter()
            .filter(|(_, c)| {
                can(
                    actor,
                    Action::ReadConversation,
                    Resource::Conversation(&c.access()),
                )
            })
            .map(|(message, conversation)| TranscriptHit {
                message,
                conversation,
            })
            .collect();
        self.store
            .audit(&AuditEntry::new(
                self.now(),
                Some(actor.id),
                AuditEvent::TranscriptsSearched {
                    words: self.search_words_hash(words),
                    found: u32::try_from(hits.len()).unwrap_or(u32::MAX),
                },
            ))
            .await?;
        Ok(hits)
    }
}
