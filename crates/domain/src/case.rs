//! The case file ("dossier") and what it holds: victim profile, items, evidence
//! metadata, notes and consents.

use crate::ids::{CaseId, StaffId};
use crate::labelled_enum;
use crate::values::{AgeBand, Channel};

labelled_enum!(
    /// Where a case stands.
    CaseStatus "case-status" {
        New => "new";
        InProgress => "in_progress";
        WaitingPlatform => "waiting_platform";
        WaitingVictim => "waiting_victim";
        Closed => "closed";
    }
);

labelled_enum!(
    /// How a case ended.
    CaseOutcome "case-outcome" {
        ContentRemoved => "content_removed";
        PartiallyRemoved => "partially_removed";
        Refused => "refused";
        Referred => "referred";
        AdviceOnly => "advice_only";
        LostContact => "lost_contact";
        Withdrawn => "withdrawn";
    }
);

/// A status change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusChangeError {
    /// Closing needs an outcome.
    #[error("an outcome is required to close a case")]
    OutcomeRequired,
    /// Same status as before.
    #[error("the case already has this status")]
    Unchanged,
    /// An outcome was given without closing.
    #[error("an outcome is only given when closing")]
    OutcomeWithoutClosing,
}

impl CaseStatus {
    /// Checks a status change. Any open status may move to any other; closing needs an
    /// outcome; a closed case may be reopened (to `InProgress` or a waiting state).
    pub fn change(
        self,
        to: CaseStatus,
        outcome: Option<CaseOutcome>,
    ) -> Result<CaseStatus, StatusChangeError> {
        if self == to {
            return Err(StatusChangeError::Unchanged);
        }
        match (to, outcome) {
            (CaseStatus::Closed, None) => Err(StatusChangeError::OutcomeRequired),
            (CaseStatus::Closed, Some(_)) => Ok(to),
            (_, Some(_)) => Err(StatusChangeError::OutcomeWithoutClosing),
            (_, None) => Ok(to),
        }
    }

    /// Whether work on the case is still open.
    pub fn is_open(self) -> bool {
        self != CaseStatus::Closed
    }
}

labelled_enum!(
    /// Who may read a note. Team notes are read by everyone working the case;
    /// psychologists' notes by psychologists only; legal notes by lawyers only.
    NoteVisibility "note-visibility" {
        Team => "team";
        Psychologists => "psychologists";
        Lawyers => "lawyers";
    }
);

labelled_enum!(
    /// What a victim consented to (each transmission is consented to separately).
    ConsentScope "consent-scope" {
        NoticeToPlatform => "notice_to_platform";
        ReferralPolice => "referral_police";
        ReferralPharos => "referral_pharos";
        ReferralSchool => "referral_school";
        ReferralSupport => "referral_support";
        ContactBack => "contact_back";
    }
);

/// One recorded consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// What was consented to.
    pub scope: ConsentScope,
    /// Given by the guardian rather than the young person.
    pub by_guardian: bool,
    /// When (ms since the Unix epoch, UTC).
    pub at_ms: i64,
}

/// The victim's minimal profile: no name, no date of birth, no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VictimProfile {
    /// Age band.
    pub age_band: AgeBand,
    /// Consents recorded so far.
    pub consents: Vec<Consent>,
    /// How the victim prefers to be reached, if at all.
    pub preferred_channel: Option<Channel>,
}

impl VictimProfile {
    /// Whether a consent for `scope` is recorded.
    pub fn has_consent(&self, scope: ConsentScope) -> bool {
        self.consents.iter().any(|c| c.scope == scope)
    }
}

/// The legal qualification of a case: offence articles and DSA statement category.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LegalQualification {
    /// Penal articles, e.g. "226-2-1".
    pub articles: Vec<String>,
    /// DSA statement category code.
    pub dsa_category: Option<String>,
}

labelled_enum!(
    /// The kind of evidence.
    EvidenceKind "evidence-kind" {
        /// A screenshot.
        Screenshot => "screenshot";
        /// A photo.
        Photo => "photo";
        /// A short video.
        Video => "video";
        /// A document (PDF).
        Document => "document";
        /// An exported conversation (text).
        MessageExport => "message_export";
        /// A link (the URL only).
        Link => "link";
        /// A text excerpt copied by hand.
        Excerpt => "excerpt";
        /// Fingerprints only (a sexual image of a minor: the file never reaches the server).
        HashOnly => "hash_only";
    }
);

/// Metadata of one piece of evidence. The file itself (when there is one) lives
/// encrypted in the blob store; for sexual images of minors there is never a file,
/// only hashes computed on the victim's device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceMeta {
    /// Kind.
    pub kind: EvidenceKind,
    /// SHA-256 of the original, hex.
    pub sha256: Option<String>,
    /// MD5 of the original, hex (for platforms' hash lists).
    pub md5: Option<String>,
    /// PDQ perceptual hash, hex, with its quality.
    pub pdq: Option<(String, u8)>,
    /// Size in bytes of the original.
    pub size: Option<u64>,
    /// MIME type as detected from the bytes.
    pub mime: Option<String>,
    /// Received (ms since epoch).
    pub received_at_ms: i64,
}

impl EvidenceMeta {
    /// The rule that keeps the helpline lawful: evidence about sexual images of a
    /// (possible) minor may carry hashes and URLs only, never a file.
    pub fn may_store_file(kind: EvidenceKind, sexual_image_of_minor: bool) -> bool {
        !sexual_image_of_minor && kind != EvidenceKind::HashOnly
    }
}

/// Who can see a case: its assignees and its handling team.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseAccess {
    /// The case (None for a case being created).
    pub case_id: Option<CaseId>,
    /// Staff assigned to it.
    pub assignees: Vec<StaffId>,
    /// The team handling it, if any.
    pub team: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_needs_an_outcome() {
        use CaseStatus::*;
        assert_eq!(
            New.change(Closed, None),
            Err(StatusChangeError::OutcomeRequired)
        );
        assert_eq!(
            New.change(Closed, Some(CaseOutcome::AdviceOnly)),
            Ok(Closed)
        );
        assert_eq!(Closed.change(InProgress, None), Ok(InProgress));
        assert_eq!(New.change(New, None), Err(StatusChangeError::Unchanged));
        assert_eq!(
            New.change(InProgress, Some(CaseOutcome::Refused)),
            Err(StatusChangeError::OutcomeWithoutClosing)
        );
    }

    #[test]
    fn hash_only_for_sexual_images_of_minors() {
        assert!(!EvidenceMeta::may_store_file(
            EvidenceKind::Screenshot,
            true
        ));
        assert!(!EvidenceMeta::may_store_file(EvidenceKind::HashOnly, false));
        assert!(EvidenceMeta::may_store_file(
            EvidenceKind::Screenshot,
            false
        ));
    }
}
