//! The complaint help ("aide au dépôt de plainte"): what a case's complaint document may
//! hold, read under one access decision, and its typesetting.
//!
//! The document holds the offences (the categories' words and the case's penal articles),
//! the items, the evidence list with its hashes and capture times, the referrals and the
//! case's timeline — and never a note (the psychologists', the lawyers', the team's), a
//! staff member's name, a conversation's words or a file: what it may hold is chosen here,
//! by what is read, not by what is left out afterwards.

use crate::{App, AppError};
use rempart_domain::audit::AuditRecord;
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::document::{ComplaintAudience, PrintDocument, Typesetter};
use rempart_domain::ids::CaseId;
use rempart_domain::policy::{Action, Actor};
use rempart_storage::{AuditEntry, AuditFilter, CaseRecord, EvidenceRecord, ItemRecord};
use std::sync::Arc;

/// The timeline's events a complaint document tells: what happened to the case and its
/// content, never who read what, nor the team's inner work (assignments, notes, playbooks).
pub const TIMELINE_ACTIONS: &[&str] = &[
    "case.created",
    "case.status_changed",
    "item.added",
    "contact.logged",
    "conversation.started",
    "conversation.ended",
    "notice.sent",
    "notice.delivered",
    "notice.delivery_failed",
    "notice.decided",
    "notice.escalated",
    "notice.contested",
    "notice.appeal_decided",
    "notice.partner_acknowledged",
    "notice.partner_decided",
    "evidence.added",
    "evidence.transmitted",
    "followup.issued",
    "followup.message",
    "referral.proposed",
    "referral.consent_recorded",
    "referral.changed",
    "referral.mail_sent",
];

/// The most timeline events a document tells (the oldest are left out beyond it, and the
/// document says so).
pub const MAX_TIMELINE: usize = 2000;

/// An offence the young person suffered: a category's words and its penal articles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offence {
    /// The category's code.
    pub category: String,
    /// The category in the document's language.
    pub label: String,
    /// Its articles among the case's.
    pub articles: Vec<String>,
}

/// What a complaint document may hold, read for one actor.
#[derive(Debug, Clone)]
pub struct ComplaintData {
    /// For whom.
    pub audience: ComplaintAudience,
    /// The case.
    pub case: CaseRecord,
    /// The offences, one per category.
    pub offences: Vec<Offence>,
    /// The case's articles that no category names (added by a lawyer).
    pub other_articles: Vec<String>,
    /// The items.
    pub items: Vec<ItemRecord>,
    /// The evidence (metadata and hashes; the files stay in the store).
    pub evidence: Vec<EvidenceRecord>,
    /// The referrals.
    pub referrals: Vec<rempart_storage::ReferralRecord>,
    /// The timeline, oldest first, only [`TIMELINE_ACTIONS`].
    pub timeline: Vec<AuditRecord>,
    /// Older events were left out ([`MAX_TIMELINE`]).
    pub timeline_truncated: bool,
    /// The helpline's evidence-signing public key, hex (to check a signed export).
    pub signing_key: String,
    /// When (ms).
    pub produced_at: i64,
}

/// Typesets documents: the typesetter (when the binary has one) and a bound on how many
/// are laid out at once (each takes a core).
#[derive(Clone)]
pub(crate) struct Press {
    typesetter: Option<Arc<dyn Typesetter>>,
    slots: Arc<tokio::sync::Semaphore>,
}

impl Press {
    pub(crate) fn new(typesetter: Option<Arc<dyn Typesetter>>) -> Press {
        Press {
            typesetter,
            slots: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }
}

impl App {
    /// Gives this application a typesetter (the binary's typst): complaint documents
    /// answer 503 without one.
    pub fn with_typesetter(mut self, typesetter: Arc<dyn Typesetter>) -> App {
        self.press = Press::new(Some(typesetter));
        self
    }

    /// Whether documents can be typeset here.
    pub fn can_typeset(&self) -> bool {
        self.press.typesetter.is_some()
    }

    /// What a case's complaint document holds, for `audience`, in `lang`; audited (the
    /// audience and the language) before anything is returned.
    pub async fn complaint_data(
        &self,
        actor: &Actor,
        id: CaseId,
        audience: ComplaintAudience,
        lang: &str,
    ) -> Result<ComplaintData, AppError> {
        let case = self.case_for(actor, id, Action::ExportComplaint).await?;
        if !self.can_typeset() {
            return Err(no_typesetter());
        }
        let (items, evidence, referrals, (timeline, timeline_truncated)) = tokio::try_join!(
            async { Ok::<_, AppError>(self.store.items(id).await?) },
            async { Ok(self.store.case_evidence(id).await?) },
            async { Ok(self.store.case_referrals(id).await?) },
            self.complaint_timeline(id),
        )?;
        let (offences, other_articles) = offences(self, &case, lang);
        self.store
            .audit(
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    AuditEvent::ComplaintExported {
                        audience: audience.as_str().to_owned(),
                        lang: lang.to_owned(),
                    },
                )
                .object(id)
                .case(id),
            )
            .await?;
        Ok(ComplaintData {
            audience,
            offences,
            other_articles,
            items,
            evidence,
            referrals,
            timeline,
            timeline_truncated,
            signing_key: crate::evidence::export::public_key(&self.keys),
            produced_at: self.now(),
            case,
        })
    }

    async fn complaint_timeline(&self, id: CaseId) -> Result<(Vec<AuditRecord>, bool), AppError> {
        const PAGE: i64 = 500;
        let mut out: Vec<AuditRecord> = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .store
                .audit_events(&AuditFilter {
                    case_id: Some(id),
                    actions: TIMELINE_ACTIONS.to_vec(),
                    before_seq: before,
                    limit: PAGE,
                    ..Default::default()
                })
                .await?;
            let n = page.len();
            before = page.last().map(|r| r.seq);
            out.extend(page);
            if (n as i64) < PAGE || out.len() > MAX_TIMELINE {
                break;
            }
        }
        let truncated = out.len() > MAX_TIMELINE;
        out.truncate(MAX_TIMELINE);
        out.reverse();
        Ok((out, truncated))
    }

    /// Typesets a document (one at a time on this node, off the async threads).
    pub async fn typeset(&self, doc: PrintDocument) -> Result<Vec<u8>, AppError> {
        let Some(t) = self.press.typesetter.clone() else {
            return Err(no_typesetter());
        };
        let permit = self
            .press
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::internal("the typesetter stopped"))?;
        let out = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            t.pdf(&doc)
        })
        .await
        .map_err(|_| AppError::internal("the typesetter stopped"))?;
        out.map_err(|e| {
            tracing::error!(error = %e, "a document could not be typeset");
            AppError::internal("the document could not be typeset")
        })
    }
}

fn no_typesetter() -> AppError {
    AppError::new(
        crate::error::ErrorCode::Unavailable,
        "documents cannot be typeset by this server (no typesetter)",
    )
}

/// The case's offences: each category with its articles among the case's, then the
/// case's articles no category names.
fn offences(app: &App, case: &CaseRecord, lang: &str) -> (Vec<Offence>, Vec<String>) {
    let mut named: Vec<&str> = Vec::new();
    let offences = case
        .categories
        .iter()
        .map(|code| {
            let cat = app.taxonomy.get(code);
            let mine: Vec<&String> = case
                .legal
                .articles
                .iter()
                .filter(|a| cat.is_some_and(|c| c.articles.iter().any(|x| same_article(x, a))))
                .collect();
            named.extend(mine.iter().map(|a| a.as_str()));
            let articles: Vec<String> = mine.into_iter().cloned().collect();
            Offence {
                category: code.clone(),
                label: cat
                    .map(|c| c.label(lang).to_owned())
                    .unwrap_or_else(|| code.clone()),
                articles,
            }
        })
        .collect::<Vec<_>>();
    let other = case
        .legal
        .articles
        .iter()
        .filter(|a| !named.contains(&a.as_str()))
        .cloned()
        .collect();
    (offences, other)
}

/// "Code pénal, art. 226-2-1" and "226-2-1" name the same article.
fn same_article(full: &str, given: &str) -> bool {
    let number = |s: &str| {
        s.rsplit(|c: char| c.is_whitespace() || c == '.')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    full.trim() == given.trim() || number(full) == number(given)
}

#[cfg(test)]
mod tests {
    use super::same_article;

    #[test]
    fn an_article_by_its_number_or_its_full_reference() {
        assert!(same_article(
            "Code pénal, art. 226-2-1",
            "Code pénal, art. 226-2-1"
        ));
        assert!(same_article("Code pénal, art. 226-2-1", "226-2-1"));
        assert!(!same_article("Code pénal, art. 226-2-1", "226-2"));
        assert!(!same_article("Code pénal, art. 227-23", "227-23-1"));
    }
}
