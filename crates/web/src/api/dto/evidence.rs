//! Evidence on a case.

use super::{EvidenceKindCode, EvidenceSourceCode, code, ids};
use rempart_app::AppError;
use rempart_app::evidence::{AddedEvidence, Content, EvidenceInput};
use rempart_app::records::EvidenceRecord;
use rempart_domain::case::EvidenceKind;
use rempart_domain::ids::ItemId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A piece of evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct Evidence {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Its number in the case, from 1.
    pub number: i64,
    /// Kind.
    pub kind: EvidenceKindCode,
    /// Who brought it in.
    pub source: EvidenceSourceCode,
    /// The member of staff who added it (none when the young person did).
    #[schema(required)]
    pub added_by: Option<String>,
    /// Received (ms).
    pub received_at: i64,
    /// From where: `console`, `follow_up_page`, a channel.
    pub captured_from: String,
    /// What it shows.
    #[schema(required)]
    pub description: Option<String>,
    /// Where the content was seen.
    #[schema(required)]
    pub url: Option<String>,
    /// A text excerpt.
    #[schema(required)]
    pub excerpt: Option<String>,
    /// The file's name on the sender's device (data only).
    #[schema(required)]
    pub original_name: Option<String>,
    /// The file's type, decided by its bytes: jpeg, png, webp, gif, pdf, mp4, text.
    #[schema(required)]
    pub file_type: Option<String>,
    /// Bytes.
    #[schema(required)]
    pub size: Option<i64>,
    /// Pixels (pictures).
    #[schema(required)]
    pub width: Option<i64>,
    /// Pixels (pictures).
    #[schema(required)]
    pub height: Option<i64>,
    /// SHA-256 of the original, hex.
    #[schema(required)]
    pub sha256: Option<String>,
    /// MD5 of the original, hex.
    #[schema(required)]
    pub md5: Option<String>,
    /// PDQ perceptual hash, hex.
    #[schema(required)]
    pub pdq: Option<String>,
    /// PDQ quality (0–100).
    #[schema(required)]
    pub pdq_quality: Option<i64>,
    /// Marked as a sexual image of a minor (fingerprints only, never a file).
    pub sexual_image_of_minor: bool,
    /// Marked intimate: its display copy is blurred until revealed.
    pub intimate: bool,
    /// The copies kept: original, clean, display, blurred.
    pub copies: Vec<String>,
    /// The items it supports.
    pub items: Vec<String>,
}

impl From<&EvidenceRecord> for Evidence {
    fn from(e: &EvidenceRecord) -> Self {
        Evidence {
            id: e.id.to_string(),
            number: e.number,
            kind: EvidenceKindCode(e.kind),
            source: EvidenceSourceCode(e.source),
            added_by: e.added_by_name.clone(),
            received_at: e.received_at,
            captured_from: e.captured_from.clone(),
            description: e.description.clone(),
            url: e.url.clone(),
            excerpt: e.excerpt.clone(),
            original_name: e.original_name.clone(),
            file_type: e.file_type.clone(),
            size: e.size,
            width: e.width,
            height: e.height,
            sha256: e.sha256.clone(),
            md5: e.md5.clone(),
            pdq: e.pdq.clone(),
            pdq_quality: e.pdq_quality,
            sexual_image_of_minor: e.sexual_image_of_minor,
            intimate: e.intimate,
            copies: e.copies.clone(),
            items: ids(&e.items),
        }
    }
}

/// A piece of evidence just added, with what it matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddedEvidenceOut {
    /// The evidence.
    pub evidence: Evidence,
    /// Earlier evidence (any case) with the same SHA-256 or MD5: how many.
    pub same_digest: usize,
    /// Earlier evidence with a PDQ fingerprint within 31 bits: how many.
    pub near_pdq: usize,
}

impl From<&AddedEvidence> for AddedEvidenceOut {
    fn from(a: &AddedEvidence) -> Self {
        let mine = a.evidence.id;
        AddedEvidenceOut {
            evidence: Evidence::from(&a.evidence),
            same_digest: a
                .recognised
                .same_digest
                .iter()
                .filter(|(e, _)| *e != mine)
                .count(),
            near_pdq: a
                .recognised
                .near
                .iter()
                .filter(|(e, _, _)| *e != mine)
                .count(),
        }
    }
}

fn items(v: &[String]) -> Result<Vec<ItemId>, AppError> {
    v.iter()
        .map(|i| ItemId::parse(i).map_err(|_| AppError::field("items", "invalid id")))
        .collect()
}

/// Fingerprints of a file that never leaves the sender's device (a sexual image of a minor,
/// or anything the sender prefers not to send), computed there.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FingerprintReq {
    /// Kind of the file (default `hash_only`).
    #[schema(value_type = Option<EvidenceKindCode>)]
    pub kind: Option<String>,
    /// SHA-256, 64 hex digits.
    #[schema(min_length = 64, max_length = 64)]
    pub sha256: String,
    /// MD5, 32 hex digits.
    pub md5: Option<String>,
    /// PDQ, 64 hex digits.
    pub pdq: Option<String>,
    /// PDQ quality, 0–100 (with `pdq`).
    #[schema(minimum = 0, maximum = 100)]
    pub pdq_quality: Option<i64>,
    /// Where it was seen.
    pub url: Option<String>,
    /// What it shows.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Marked as a sexual image of a minor.
    #[serde(default)]
    pub sexual_image_of_minor: bool,
    /// Marked intimate.
    #[serde(default)]
    pub intimate: bool,
    /// Items it supports.
    #[serde(default)]
    pub items: Vec<String>,
}

impl FingerprintReq {
    /// To the use-case input.
    pub fn into_input(self) -> Result<(EvidenceInput, Content), AppError> {
        let kind = match &self.kind {
            Some(k) => Some(code!(EvidenceKind, "kind", k)?),
            None => Some(EvidenceKind::HashOnly),
        };
        let pdq = match (self.pdq, self.pdq_quality) {
            (Some(h), q) => Some((h, q.unwrap_or(0))),
            (None, Some(_)) => return Err(AppError::field("pdq_quality", "without pdq")),
            (None, None) => None,
        };
        Ok((
            EvidenceInput {
                kind,
                description: self.description,
                items: items(&self.items)?,
                url: self.url,
                intimate: self.intimate,
                sexual_image_of_minor: self.sexual_image_of_minor,
            },
            Content::Fingerprints {
                sha256: self.sha256,
                md5: self.md5,
                pdq,
            },
        ))
    }
}

/// A link or a text excerpt.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceNoteReq {
    /// `link` or `excerpt`.
    #[schema(value_type = EvidenceKindCode)]
    pub kind: String,
    /// The link (required for `link`), or where the excerpt was seen.
    pub url: Option<String>,
    /// The excerpt's text (required for `excerpt`).
    #[schema(max_length = 8000)]
    pub excerpt: Option<String>,
    /// What it shows.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Items it supports.
    #[serde(default)]
    pub items: Vec<String>,
}

impl EvidenceNoteReq {
    /// To the use-case input.
    pub fn into_input(self) -> Result<(EvidenceInput, Content), AppError> {
        let kind = code!(EvidenceKind, "kind", &self.kind)?;
        let content = match kind {
            EvidenceKind::Link => Content::Link,
            EvidenceKind::Excerpt => Content::Excerpt(self.excerpt.unwrap_or_default()),
            _ => return Err(AppError::field("kind", "link or excerpt")),
        };
        Ok((
            EvidenceInput {
                kind: Some(kind),
                description: self.description,
                items: items(&self.items)?,
                url: self.url,
                intimate: false,
                sexual_image_of_minor: false,
            },
            content,
        ))
    }
}

/// The fields of a file upload (`multipart/form-data`): documentation only.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct EvidenceUpload {
    /// Kind: screenshot, photo, video, document, message_export.
    #[schema(value_type = EvidenceKindCode)]
    pub kind: String,
    /// What it shows.
    pub description: Option<String>,
    /// Where it was seen.
    pub url: Option<String>,
    /// An item it supports (repeat the field for several).
    pub items: Option<String>,
    /// `true` when intimate (blurred for staff until revealed).
    pub intimate: Option<bool>,
    /// `true` for a sexual image of a minor: always refused with `file_forbidden` (send
    /// fingerprints instead); sent before `file`, the file is not even read.
    pub sexual_image_of_minor: Option<bool>,
    /// The file, last. Its type is decided by its bytes.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}
