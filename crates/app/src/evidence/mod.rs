//! Evidence on a case: files, fingerprints, links and excerpts.
//!
//! A file is inspected (type by magic bytes, limits, forbidden content) and derived (clean,
//! display and blurred copies without metadata) off the async threads; its SHA-256 and MD5
//! are computed on arrival, its PDQ fingerprint from the same decode. Every blob is sealed
//! with the case's data key before it is written, bound to its place in the store. The blobs
//! are written first, then the row and its audit event in one transaction: a failure after
//! the blobs deletes them, so nothing half-written stays visible. Nothing is ever written for
//! an item marked as a sexual image of a minor: only the fingerprints its owner's device
//! computed.
//!
//! Every view, download, export and transmission of a piece of evidence is a custody event.

mod bank;
pub mod export;

pub use bank::{EvidenceBank, Recognised};

use crate::App;
use crate::error::{AppError, ErrorCode};
use crate::settings::{EvidenceSettings, EvidenceStore, Settings};
use bytes::Bytes;
use rempart_blob::crypto::{self, SecretKey};
use rempart_blob::{BlobConfig, BlobError, BlobKey, BlobStore};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::case::EvidenceKind;
use rempart_domain::evidence::{
    EvidenceCopy, EvidenceRuleError, EvidenceSource, Fingerprints, MAX_DESCRIPTION_CHARS,
    MAX_EXCERPT_CHARS, MAX_ITEMS_PER_EVIDENCE, OriginalName, check_file_upload,
};
use rempart_domain::ids::{CaseId, EvidenceId, ItemId, StaffId};
use rempart_domain::policy::{Action, Actor};
use rempart_domain::values::{ItemUrl, Text};
use rempart_media::{FileType, Refusal};
use rempart_storage::{AuditEntry, CaseRecord, EvidenceRecord};
use sha2::Digest;
use std::sync::Arc;
use std::time::Duration;

/// What is said of a piece of evidence, whatever it carries.
#[derive(Debug, Clone, Default)]
pub struct EvidenceInput {
    /// Its kind.
    pub kind: Option<EvidenceKind>,
    /// What it shows, in the adder's words.
    pub description: Option<String>,
    /// The case's items it supports.
    pub items: Vec<ItemId>,
    /// Where the content was seen (the post, the profile), if known.
    pub url: Option<String>,
    /// An intimate image: blurred by default for staff.
    pub intimate: bool,
    /// A sexual image of a minor: never a file, fingerprints only.
    pub sexual_image_of_minor: bool,
}

/// What a piece of evidence carries.
#[derive(Debug, Clone)]
pub enum Content {
    /// A file, with the name the sender's device gave it (kept as data only).
    File {
        /// The bytes as received.
        bytes: Vec<u8>,
        /// The sender's file name.
        name: Option<String>,
    },
    /// Fingerprints computed on the sender's device; the file never left it.
    Fingerprints {
        /// SHA-256, hex.
        sha256: String,
        /// MD5, hex.
        md5: Option<String>,
        /// PDQ, hex, with its quality.
        pdq: Option<(String, i64)>,
    },
    /// A link (the URL of `EvidenceInput`).
    Link,
    /// A text excerpt (a message copied out).
    Excerpt(String),
}

/// Who adds a piece of evidence.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Adder {
    /// A member of staff, from the console or the API.
    Staff(StaffId),
    /// The young person, on the follow-up page.
    YoungPerson,
}

/// A piece of evidence just added, and what it was recognised as.
#[derive(Debug, Clone)]
pub struct AddedEvidence {
    /// The record.
    pub evidence: EvidenceRecord,
    /// Earlier evidence with the same digest or a near PDQ fingerprint.
    pub recognised: Recognised,
}

/// What an actor may do with a case's evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvidenceRights {
    /// Add files (a store is configured).
    pub add: bool,
    /// Add fingerprints, links and excerpts.
    pub add_fingerprints: bool,
    /// Reveal an intimate picture.
    pub reveal: bool,
    /// Download clean copies and originals.
    pub download: bool,
    /// Make the signed export.
    pub export: bool,
    /// Produce the complaint document (and this server can typeset it).
    pub complaint: bool,
    /// Give the follow-up code and answer on the page.
    pub manage_followup: bool,
    /// Prepare and record referrals.
    pub refer: bool,
}

/// What the case page shows of a case's evidence, follow-up page and referrals.
#[derive(Debug, Clone)]
pub struct EvidenceView {
    /// What the actor may do.
    pub rights: EvidenceRights,
    /// The evidence, by number.
    pub evidence: Vec<EvidenceRecord>,
    /// The follow-up code, if one was given (never the secret).
    pub followup: Option<rempart_storage::FollowUpAccess>,
    /// The follow-up page's messages.
    pub thread: Vec<rempart_storage::FollowUpMessage>,
    /// The referrals.
    pub referrals: Vec<rempart_storage::ReferralRecord>,
}

/// A copy of a file handed out.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    /// The bytes (opened).
    pub bytes: Vec<u8>,
    /// Its media type.
    pub mime: &'static str,
    /// A file name made of the case reference, the number and the copy (never the sender's).
    pub file_name: String,
    /// Shown in the page (display copies) rather than downloaded.
    pub inline: bool,
}

/// The evidence store of the node, if it has one, with the limits of files.
pub(crate) struct EvidenceFiles {
    pub(crate) blobs: Option<BlobStore>,
    pub(crate) limits: rempart_media::Limits,
    /// Decoding and re-encoding pictures is memory- and CPU-heavy: at most this many at once.
    pub(crate) slots: Arc<tokio::sync::Semaphore>,
}

/// The media limits the settings give.
pub fn media_limits(s: &EvidenceSettings) -> rempart_media::Limits {
    let mb = |n: u64| usize::try_from(n.saturating_mul(1_000_000)).unwrap_or(usize::MAX);
    let pixels = s.max_megapixels.saturating_mul(1_000_000);
    rempart_media::Limits {
        max_bytes: mb(s.max_file_mb),
        max_video_bytes: mb(s.max_video_mb),
        max_pixels: pixels,
        max_side: 30_000,
        // the policy pixels, PDQ's buffers and the copies: about 16 bytes a pixel at most
        max_alloc: pixels.saturating_mul(16).saturating_add(64 << 20),
        max_inflated: 64 << 20,
    }
}

/// The blob store the settings describe: None when none is configured (PostgreSQL without
/// a folder or a server).
pub fn blob_store(s: &Settings) -> Result<Option<BlobStore>, String> {
    let ev = &s.evidence;
    let timeout = Duration::from_secs(ev.timeout_seconds);
    let config = match ev.store {
        EvidenceStore::S3 => BlobConfig::S3 {
            endpoint: ev.s3_endpoint.trim().to_owned(),
            bucket: ev.s3_bucket.trim().to_owned(),
            region: ev.s3_region.trim().to_owned(),
            access_key_id: ev.s3_access_key_id.clone(),
            secret_access_key: ev.s3_secret_access_key.expose().to_owned(),
            allow_http: ev.s3_allow_http,
        },
        EvidenceStore::Filesystem => {
            let root = if ev.path.trim().is_empty() {
                let Some(db) = s.database.sqlite_path() else {
                    return Ok(None);
                };
                db.parent()
                    .map(|d| d.join("evidence"))
                    .unwrap_or_else(|| "evidence".into())
            } else {
                ev.path.trim().into()
            };
            BlobConfig::Filesystem { root }
        }
    };
    BlobStore::open(&config, timeout)
        .map(Some)
        .map_err(|e| format!("evidence store: {e}"))
}

impl EvidenceFiles {
    pub(crate) fn new(settings: &Settings) -> Result<EvidenceFiles, String> {
        Ok(EvidenceFiles {
            blobs: blob_store(settings)?,
            limits: media_limits(&settings.evidence),
            slots: Arc::new(tokio::sync::Semaphore::new(2)),
        })
    }
}

fn blob_error(e: BlobError) -> AppError {
    match e {
        // a row names this copy: its blob being gone is a fault, not a missing object
        BlobError::NotFound => AppError::internal("an evidence blob is missing from the store"),
        BlobError::TimedOut(_) => {
            tracing::warn!("evidence store timed out");
            AppError::new(ErrorCode::Unavailable, "evidence store unavailable")
        }
        other => {
            tracing::error!(error = %other, "evidence store");
            AppError::new(ErrorCode::Unavailable, "evidence store unavailable")
        }
    }
}

fn rule_error(e: EvidenceRuleError) -> AppError {
    match e {
        EvidenceRuleError::FileForbidden => AppError::new(ErrorCode::FileForbidden, e.to_string()),
        other => AppError::field("content", &other.to_string()),
    }
}

pub(crate) fn refused(r: Refusal) -> AppError {
    let code = match r {
        Refusal::TooLarge | Refusal::TooManyPixels | Refusal::Bomb => ErrorCode::PayloadTooLarge,
        _ => ErrorCode::FileRefused,
    };
    AppError::new(code, format!("file refused: {}", r.code()))
}

/// The file types a kind of evidence may be.
fn type_fits(kind: EvidenceKind, t: FileType) -> bool {
    match kind {
        EvidenceKind::Screenshot | EvidenceKind::Photo => t.is_image(),
        EvidenceKind::Video => t == FileType::Mp4,
        EvidenceKind::Document => t.is_image() || t == FileType::Pdf || t == FileType::Text,
        EvidenceKind::MessageExport => t == FileType::Text || t == FileType::Pdf || t.is_image(),
        EvidenceKind::Link | EvidenceKind::Excerpt | EvidenceKind::HashOnly => false,
    }
}

fn blob_key(case: CaseId, evidence: EvidenceId, copy: &str) -> Result<BlobKey, AppError> {
    BlobKey::new(&[
        "cases",
        &case.to_string(),
        "evidence",
        &evidence.to_string(),
        copy,
    ])
    .map_err(|_| AppError::internal("evidence blob key"))
}

/// The stored name of each copy, as listed in `EvidenceRecord::copies`.
const ORIGINAL: &str = "original";
const CLEAN: &str = "clean";
const DISPLAY: &str = "display";
const BLURRED: &str = "blurred";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

impl App {
    fn evidence_blobs(&self) -> Result<&BlobStore, AppError> {
        self.files.blobs.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorCode::Unavailable,
                "no evidence store is configured (evidence.path or evidence.store = \"s3\")",
            )
        })
    }

    /// The case's data key, made at its first file (two nodes at once: the first write wins
    /// and both use it).
    pub(crate) async fn case_data_key(&self, case: CaseId) -> Result<SecretKey, AppError> {
        let kek = SecretKey::from_bytes(*self.keys.evidence_kek.bytes());
        let wrapped = match self.store.case_key(case).await? {
            Some(w) => w,
            None => {
                let dek = SecretKey::generate().map_err(|_| AppError::internal("no randomness"))?;
                let wrapped = crypto::wrap_key(&kek, &case.to_string(), &dek)
                    .map_err(|_| AppError::internal("wrap key"))?;
                self.store
                    .ensure_case_key(case, &hex::encode(wrapped), self.now())
                    .await?
            }
        };
        let raw = hex::decode(&wrapped).map_err(|_| AppError::internal("case key not hex"))?;
        crypto::unwrap_key(&kek, &case.to_string(), &raw)
            .map_err(|_| AppError::internal("case key does not open"))
    }

    /// Whether the actor may perform `action` on the case (before a large body is read);
    /// answers like a missing case when not.
    pub async fn may(&self, actor: &Actor, case: CaseId, action: Action) -> Result<(), AppError> {
        self.case_for(actor, case, action).await.map(|_| ())
    }

    /// What the case page shows of a case's evidence, follow-up page and referrals, with
    /// what the actor may do there (for its buttons; every use-case checks again): one
    /// access decision, then the reads together.
    pub async fn evidence_view(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> Result<EvidenceView, AppError> {
        let c = self.case_for(actor, case, Action::ReadEvidence).await?;
        let access = c.access();
        let may = |a| {
            rempart_domain::policy::can(actor, a, rempart_domain::policy::Resource::Case(&access))
        };
        let rights = EvidenceRights {
            add: may(Action::AddEvidence) && self.files.blobs.is_some(),
            add_fingerprints: may(Action::AddEvidence),
            reveal: may(Action::RevealEvidence),
            download: may(Action::DownloadEvidence),
            export: may(Action::ExportEvidence),
            complaint: may(Action::ExportComplaint) && self.can_typeset(),
            manage_followup: may(Action::ManageFollowUp),
            refer: may(Action::PrepareReferral),
        };
        let (evidence, followup, thread, referrals) = tokio::try_join!(
            self.store.case_evidence(case),
            self.store.followup_access(case),
            self.store.followup_messages(case),
            self.store.case_referrals(case),
        )?;
        Ok(EvidenceView {
            rights,
            evidence,
            followup,
            thread,
            referrals,
        })
    }

    /// The limits of evidence files.
    pub fn evidence_limits(&self) -> rempart_media::Limits {
        self.files.limits
    }

    /// Adds a piece of evidence to a case, for a member of staff.
    pub async fn add_evidence(
        &self,
        actor: &Actor,
        case: CaseId,
        input: EvidenceInput,
        content: Content,
    ) -> Result<AddedEvidence, AppError> {
        let record = self.case_for(actor, case, Action::AddEvidence).await?;
        self.add_evidence_as(Adder::Staff(actor.id), &record, input, content)
            .await
    }

    /// Adds a piece of evidence; the caller checked that the adder may.
    pub(crate) async fn add_evidence_as(
        &self,
        adder: Adder,
        case: &CaseRecord,
        input: EvidenceInput,
        content: Content,
    ) -> Result<AddedEvidence, AppError> {
        let kind = match (&content, input.kind) {
            (_, Some(k)) => k,
            (Content::Link, None) => EvidenceKind::Link,
            (Content::Excerpt(_), None) => EvidenceKind::Excerpt,
            (Content::Fingerprints { .. }, None) => EvidenceKind::HashOnly,
            (Content::File { .. }, None) => return Err(AppError::field("kind", "required")),
        };
        let description = match input.description.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(
                Text::parse(d, MAX_DESCRIPTION_CHARS)
                    .map_err(|e| AppError::field("description", &e.to_string()))?
                    .into_string(),
            ),
        };
        let url = match input.url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(
                ItemUrl::parse(u)
                    .map_err(|e| AppError::field("url", &e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
        };
        if input.items.len() > MAX_ITEMS_PER_EVIDENCE {
            return Err(AppError::field("items", "too many items"));
        }
        let mut items = input.items.clone();
        items.sort_unstable_by_key(|i| i.to_string());
        items.dedup();
        let (source, added_by, captured_from) = match adder {
            Adder::Staff(id) => (EvidenceSource::Counsellor, Some(id), "console"),
            Adder::YoungPerson => (EvidenceSource::YoungPerson, None, "follow_up_page"),
        };
        let now = self.now();
        let id = EvidenceId::new();
        let mut record = EvidenceRecord {
            id,
            case_id: case.id,
            number: 0,
            kind,
            source,
            added_by,
            added_by_name: None,
            received_at: now,
            captured_from: captured_from.to_owned(),
            description,
            url,
            excerpt: None,
            original_name: None,
            file_type: None,
            mime: None,
            size: None,
            width: None,
            height: None,
            sha256: None,
            md5: None,
            pdq: None,
            pdq_quality: None,
            sexual_image_of_minor: input.sexual_image_of_minor,
            intimate: input.intimate || input.sexual_image_of_minor,
            copies: Vec::new(),
            items,
        };
        let mut written: Vec<BlobKey> = Vec::new();
        match content {
            Content::File { bytes, name } => {
                check_file_upload(kind, input.sexual_image_of_minor).map_err(rule_error)?;
                let blobs = self.evidence_blobs()?.clone();
                let limits = self.files.limits;
                // the slot travels with the work: a client that goes away does not free it
                // while the decoder still runs
                let slot = self
                    .files
                    .slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| AppError::internal("derive slots closed"))?;
                let bytes = Arc::new(bytes);
                let work = bytes.clone();
                let (inspected, derived, sha256, md5) = tokio::task::spawn_blocking(move || {
                    let _slot = slot;
                    let inspected = rempart_media::inspect(&work, &limits)?;
                    let derived = rempart_media::derive(&work, &inspected, &limits)?;
                    let sha256 = sha256_hex(&work);
                    let md5 = rempart_pdq::md5::to_hex(&rempart_pdq::md5::md5(&work));
                    Ok::<_, Refusal>((inspected, derived, sha256, md5))
                })
                .await
                .map_err(|_| AppError::internal("derive task"))?
                .map_err(refused)?;
                if !type_fits(kind, inspected.file_type) {
                    return Err(AppError::new(
                        ErrorCode::FileRefused,
                        format!(
                            "file refused: a {} file is not a {}",
                            inspected.file_type.code(),
                            kind.as_str()
                        ),
                    ));
                }
                record.original_name = name
                    .as_deref()
                    .and_then(OriginalName::clean)
                    .map(|n| n.as_str().to_owned());
                record.file_type = Some(inspected.file_type.code().to_owned());
                record.mime = Some(inspected.file_type.mime().to_owned());
                record.size = Some(bytes.len() as i64);
                if let Some((w, h)) = derived.size.or(inspected.size) {
                    record.width = Some(i64::from(w));
                    record.height = Some(i64::from(h));
                }
                record.sha256 = Some(sha256);
                record.md5 = Some(md5);
                if let Some((pdq, q)) = &derived.pdq {
                    record.pdq = Some(pdq.clone());
                    record.pdq_quality = Some(i64::from(*q));
                }
                let dek = self.case_data_key(case.id).await?;
                let mut copies: Vec<(&str, &[u8])> = vec![(ORIGINAL, bytes.as_slice())];
                if let Some(c) = &derived.clean {
                    copies.push((CLEAN, c));
                }
                if let Some(d) = &derived.display {
                    copies.push((DISPLAY, d));
                }
                if let Some(b) = &derived.blurred {
                    copies.push((BLURRED, b));
                }
                let mut sealed = Vec::with_capacity(copies.len());
                for (name, plain) in &copies {
                    let key = blob_key(case.id, id, name)?;
                    let s = crypto::seal(&dek, key.as_str().as_bytes(), plain)
                        .map_err(|_| AppError::internal("seal"))?;
                    sealed.push((key, Bytes::from(s)));
                }
                record.copies = copies.iter().map(|(n, _)| (*n).to_owned()).collect();
                let puts = sealed
                    .iter()
                    .map(|(k, b)| {
                        let blobs = blobs.clone();
                        let (k, b) = (k.clone(), b.clone());
                        async move { blobs.put_new(&k, b).await }
                    })
                    .collect::<Vec<_>>();
                let results = futures_util::future::join_all(puts).await;
                // a write that timed out may still land: on failure every key tried goes
                written = sealed.iter().map(|(k, _)| k.clone()).collect();
                if let Some(e) = results.into_iter().find_map(Result::err) {
                    self.forget_blobs(&written).await;
                    return Err(blob_error(e));
                }
            }
            Content::Fingerprints { sha256, md5, pdq } => {
                if kind.is_file() || kind == EvidenceKind::HashOnly {
                    let fp = Fingerprints::parse(
                        &sha256,
                        md5.as_deref(),
                        pdq.as_ref().map(|(h, q)| (h.as_str(), *q)),
                    )
                    .map_err(|e| AppError::field("fingerprints", &e.to_string()))?;
                    record.sha256 = Some(fp.sha256().to_owned());
                    record.md5 = fp.md5().map(str::to_owned);
                    if let Some((h, q)) = fp.pdq() {
                        record.pdq = Some(h.to_owned());
                        record.pdq_quality = Some(i64::from(q));
                    }
                } else {
                    return Err(AppError::field("kind", "fingerprints are of a file"));
                }
            }
            Content::Link => {
                if kind != EvidenceKind::Link {
                    return Err(AppError::field("kind", "a link is of kind link"));
                }
                if record.url.is_none() {
                    return Err(rule_error(EvidenceRuleError::ContentMissing));
                }
            }
            Content::Excerpt(text) => {
                if kind != EvidenceKind::Excerpt {
                    return Err(AppError::field("kind", "an excerpt is of kind excerpt"));
                }
                let t = text.trim();
                if t.is_empty() {
                    return Err(rule_error(EvidenceRuleError::ContentMissing));
                }
                record.excerpt = Some(
                    Text::parse(t, MAX_EXCERPT_CHARS)
                        .map_err(|e| AppError::field("excerpt", &e.to_string()))?
                        .into_string(),
                );
            }
        }
        let recognised = self.recognise(&record).await;
        let audit = AuditEntry::new(
            now,
            added_by,
            AuditEvent::EvidenceAdded {
                kind,
                source,
                file: !written.is_empty(),
            },
        )
        .object(id)
        .case(case.id);
        let stored = match self.store.add_evidence(&record, &audit).await {
            Ok(r) => r,
            Err(e) => {
                self.forget_blobs(&written).await;
                return Err(e.into());
            }
        };
        if let Some(pdq) = &stored.pdq {
            self.bank.add(pdq, stored.id, stored.case_id);
        }
        Ok(AddedEvidence {
            evidence: stored,
            recognised,
        })
    }

    /// Deletes blobs written for a piece of evidence that was not recorded.
    async fn forget_blobs(&self, keys: &[BlobKey]) {
        let Some(blobs) = self.files.blobs.as_ref() else {
            return;
        };
        for k in keys {
            if let Err(e) = blobs.delete(k).await {
                // unreadable without a row pointing to it, and sealed: a leftover, not a leak
                tracing::warn!(error = %e, "could not delete the blob of unrecorded evidence");
            }
        }
    }

    /// A case's evidence, for staff who may read it.
    pub async fn case_evidence(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> Result<Vec<EvidenceRecord>, AppError> {
        self.case_for(actor, case, Action::ReadEvidence).await?;
        Ok(self.store.case_evidence(case).await?)
    }

    /// One copy of a piece of evidence, for staff whose role allows it; the view or download
    /// is a custody event, recorded before the bytes are handed out.
    pub async fn evidence_copy(
        &self,
        actor: &Actor,
        case: CaseId,
        evidence: EvidenceId,
        copy: EvidenceCopy,
    ) -> Result<EvidenceFile, AppError> {
        let action = match copy {
            EvidenceCopy::Display => Action::ReadEvidence,
            EvidenceCopy::Revealed => Action::RevealEvidence,
            EvidenceCopy::Clean | EvidenceCopy::Original => Action::DownloadEvidence,
        };
        let record = self.case_for(actor, case, action).await?;
        let e = self
            .store
            .evidence(case, evidence)
            .await?
            .ok_or_else(AppError::not_found)?;
        let (stored, inline) = match copy {
            EvidenceCopy::Display if e.intimate => (BLURRED, true),
            EvidenceCopy::Display | EvidenceCopy::Revealed => (DISPLAY, true),
            EvidenceCopy::Clean => (CLEAN, false),
            EvidenceCopy::Original => (ORIGINAL, false),
        };
        if !e.copies.iter().any(|c| c == stored) {
            return Err(AppError::not_found());
        }
        let bytes = self.read_blob(case, evidence, stored).await?;
        let file_type = e.file_type.as_deref().and_then(FileType::from_code);
        let (mime, ext) = match stored {
            DISPLAY | BLURRED => ("image/jpeg", "jpg"),
            CLEAN => {
                // a picture's clean copy is a JPEG for JPEG originals, else a PNG
                match file_type {
                    Some(FileType::Jpeg) => ("image/jpeg", "jpg"),
                    Some(FileType::Mp4) => ("video/mp4", "mp4"),
                    _ => ("image/png", "png"),
                }
            }
            _ => file_type
                .map(|t| (t.mime(), t.extension()))
                .unwrap_or(("application/octet-stream", "bin")),
        };
        let event = match copy {
            EvidenceCopy::Display | EvidenceCopy::Revealed => AuditEvent::EvidenceViewed { copy },
            _ => AuditEvent::EvidenceDownloaded { copy },
        };
        self.store
            .record_custody(&[AuditEntry::new(self.now(), Some(actor.id), event)
                .object(evidence)
                .case(case)])
            .await?;
        Ok(EvidenceFile {
            bytes,
            mime,
            file_name: format!(
                "{}-{:04}-{}.{ext}",
                record.reference,
                e.number,
                copy.as_str()
            ),
            inline,
        })
    }

    /// Reads and opens one stored copy.
    pub(crate) async fn read_blob(
        &self,
        case: CaseId,
        evidence: EvidenceId,
        copy: &str,
    ) -> Result<Vec<u8>, AppError> {
        let dek = self.case_data_key(case).await?;
        self.open_blob(&dek, case, evidence, copy).await
    }

    /// Reads and opens one stored copy with the case's data key.
    pub(crate) async fn open_blob(
        &self,
        dek: &SecretKey,
        case: CaseId,
        evidence: EvidenceId,
        copy: &str,
    ) -> Result<Vec<u8>, AppError> {
        let key = blob_key(case, evidence, copy)?;
        let sealed = self.evidence_blobs()?.get(&key).await.map_err(blob_error)?;
        crypto::open(dek, key.as_str().as_bytes(), &sealed).map_err(|_| {
            tracing::error!("an evidence blob does not open: altered, or its case key is gone");
            AppError::new(ErrorCode::Internal, "evidence unreadable")
        })
    }

    /// Earlier evidence this one matches.
    async fn recognise(&self, e: &EvidenceRecord) -> Recognised {
        let mut found = Recognised::default();
        if let Some(sha) = &e.sha256 {
            match self.store.evidence_with_digest(sha, e.md5.as_deref()).await {
                Ok(same) => found.same_digest = same,
                Err(err) => tracing::warn!(error = %err, "digest lookup"),
            }
        }
        if let Some(pdq) = &e.pdq {
            if let Err(err) = self.bank.refresh(&self.store).await {
                tracing::warn!(error = %err, "hash bank refresh");
            }
            found.near = self.bank.near(pdq);
        }
        found
    }
}
