//! The young person's follow-up page, without an account: at the end of a contact a
//! counsellor gives a case code and a secret (the secret shown once, kept only as a keyed
//! hash); with them the young person sees where the case stands in plain words — no staff
//! names, nothing that would help someone holding their phone — adds evidence or
//! fingerprints and a message, and reads the answers. Wrong secrets are counted and lock the
//! code (the store decides under the code's row lock, so several nodes count together); a
//! page idle for 30 minutes closes.

use crate::App;
use crate::error::{AppError, ErrorCode};
use crate::evidence::{AddedEvidence, Adder, Content, EvidenceInput};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::followup::{FollowUpCode, FollowUpSecret, PlainState};
use rempart_domain::ids::CaseId;
use rempart_domain::policy::{Action, Actor};
use rempart_domain::values::Text;
use rempart_storage::{AuditEntry, FollowUpLogin, FollowUpMessage, StorageError};

/// A follow-up page closes after this long without use.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// The longest message on the page, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// A code and secret just given: shown once to the counsellor, to read out or write down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedFollowUp {
    /// The code, in groups of four.
    pub code: String,
    /// The secret, in groups of four.
    pub secret: String,
}

/// What opening the page came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUpOpen {
    /// Open: the page's token (for a cookie).
    Opened(String),
    /// Wrong code or secret (never told apart).
    Refused,
    /// Too many wrong secrets: locked until then (ms).
    Locked(i64),
}

/// The page as the young person sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpPage {
    /// Where the case stands.
    pub state: PlainState,
    /// The messages, oldest first: (from the young person, text, when).
    pub messages: Vec<(bool, String, i64)>,
    /// How many pieces of evidence the young person added.
    pub evidence_added: usize,
}

impl App {
    fn secret_hash(&self, code: &FollowUpCode, secret: &FollowUpSecret) -> String {
        crate::keyed_hex(
            &self.keys.follow_up,
            &[
                b"case-follow-up",
                code.as_str().as_bytes(),
                secret.as_str().as_bytes(),
            ],
        )
    }

    /// Gives the case a new code and secret; any earlier one stops working and its open
    /// pages close.
    pub async fn issue_followup(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> Result<IssuedFollowUp, AppError> {
        self.case_for(actor, case, Action::ManageFollowUp).await?;
        for _ in 0..5 {
            let mut c = [0u8; 5];
            let mut s = [0u8; 10];
            getrandom::fill(&mut c).map_err(|_| AppError::internal("random"))?;
            getrandom::fill(&mut s).map_err(|_| AppError::internal("random"))?;
            let code = FollowUpCode::from_random(c);
            let secret = FollowUpSecret::from_random(s);
            let hash = self.secret_hash(&code, &secret);
            let audit = AuditEntry::new(self.now(), Some(actor.id), AuditEvent::FollowUpIssued)
                .object(case)
                .case(case);
            match self
                .store
                .issue_followup(case, code.as_str(), &hash, actor.id, &audit)
                .await
            {
                Ok(()) => {
                    return Ok(IssuedFollowUp {
                        code: code.display(),
                        secret: secret.display(),
                    });
                }
                // another case drew this code: draw again
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::internal("no free follow-up code"))
    }

    /// Withdraws the case's code.
    pub async fn revoke_followup(&self, actor: &Actor, case: CaseId) -> Result<(), AppError> {
        self.case_for(actor, case, Action::ManageFollowUp).await?;
        let audit = AuditEntry::new(self.now(), Some(actor.id), AuditEvent::FollowUpRevoked)
            .object(case)
            .case(case);
        Ok(self.store.revoke_followup(case, &audit).await?)
    }

    /// The young person types the code and the secret.
    pub async fn open_followup(&self, code: &str, secret: &str) -> Result<FollowUpOpen, AppError> {
        let (Some(code), Some(secret)) = (FollowUpCode::parse(code), FollowUpSecret::parse(secret))
        else {
            return Ok(FollowUpOpen::Refused);
        };
        let token = crate::random_hex(32)?;
        let hash = self.secret_hash(&code, &secret);
        match self
            .store
            .followup_login(
                code.as_str(),
                &hash,
                &crate::sha256_hex(token.as_bytes()),
                self.now(),
            )
            .await?
        {
            FollowUpLogin::Opened(_) => Ok(FollowUpOpen::Opened(token)),
            FollowUpLogin::Refused => Ok(FollowUpOpen::Refused),
            FollowUpLogin::Locked(until) => Ok(FollowUpOpen::Locked(until)),
        }
    }

    /// The case of an open page.
    async fn followup_case(&self, token: &str) -> Result<CaseId, AppError> {
        self.store
            .followup_session(&crate::sha256_hex(token.as_bytes()), self.now(), IDLE_MS)
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::Unauthenticated, "the page is closed"))
    }

    /// The case of an open page, or none (before a body is read: the page's writes are
    /// limited per case too).
    pub async fn followup_open_case(&self, token: &str) -> Result<Option<CaseId>, AppError> {
        match self.followup_case(token).await {
            Ok(case) => Ok(Some(case)),
            Err(e) if e.code == ErrorCode::Unauthenticated => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The page.
    pub async fn followup_page(&self, token: &str) -> Result<FollowUpPage, AppError> {
        let case = self.followup_case(token).await?;
        let record = self
            .store
            .case_by_id(case)
            .await?
            .ok_or_else(AppError::not_found)?;
        let (waiting, removed) = self.store.followup_notice_counts(case).await?;
        let messages = self
            .store
            .followup_messages(case)
            .await?
            .into_iter()
            .map(|m| (m.from_young_person, m.body, m.created_at))
            .collect();
        let evidence_added = self
            .store
            .case_evidence(case)
            .await?
            .iter()
            .filter(|e| e.source == rempart_domain::evidence::EvidenceSource::YoungPerson)
            .count();
        Ok(FollowUpPage {
            state: PlainState::of(record.status, waiting, removed),
            messages,
            evidence_added,
        })
    }

    async fn write_followup(
        &self,
        case: CaseId,
        author: Option<&Actor>,
        body: &str,
    ) -> Result<(), AppError> {
        let body = Text::parse(body.trim(), MAX_MESSAGE_CHARS)
            .map_err(|e| AppError::field("body", &e.to_string()))?;
        let now = self.now();
        let m = FollowUpMessage {
            id: uuid::Uuid::now_v7().to_string(),
            case_id: case,
            from_young_person: author.is_none(),
            author: author.map(|a| a.id),
            body: body.into_string(),
            created_at: now,
        };
        let audit = AuditEntry::new(
            now,
            author.map(|a| a.id),
            AuditEvent::FollowUpMessage {
                from_young_person: author.is_none(),
            },
        )
        .case(case);
        Ok(self.store.add_followup_message(&m, &audit).await?)
    }

    /// The young person writes on the page.
    pub async fn followup_say(&self, token: &str, body: &str) -> Result<(), AppError> {
        let case = self.followup_case(token).await?;
        self.write_followup(case, None, body).await
    }

    /// The young person adds evidence (a file, fingerprints computed on the phone, a link).
    pub async fn followup_add_evidence(
        &self,
        token: &str,
        input: EvidenceInput,
        content: Content,
    ) -> Result<AddedEvidence, AppError> {
        let case = self.followup_case(token).await?;
        let record = self
            .store
            .case_by_id(case)
            .await?
            .ok_or_else(AppError::not_found)?;
        self.add_evidence_as(Adder::YoungPerson, &record, input, content)
            .await
    }

    /// The young person leaves (or quick-exits): the page closes.
    pub async fn followup_leave(&self, token: &str) -> Result<(), AppError> {
        Ok(self
            .store
            .end_followup_session(&crate::sha256_hex(token.as_bytes()))
            .await?)
    }

    /// A member of staff answers on the page.
    pub async fn followup_reply(
        &self,
        actor: &Actor,
        case: CaseId,
        body: &str,
    ) -> Result<(), AppError> {
        self.case_for(actor, case, Action::ManageFollowUp).await?;
        self.write_followup(case, Some(actor), body).await
    }
}
