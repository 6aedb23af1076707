//! The signed evidence export of a case, and its verification.
//!
//! A zip (stored, not compressed: the files are already compressed) holding
//! `manifest.json` — the case, every piece of evidence with its capture metadata and
//! fingerprints, every file with its SHA-256, and the custody log — `manifest.sig`, the
//! Ed25519 signature of the manifest's exact bytes by the helpline's key (hex), and
//! `files/NNNN-original.EXT`, the originals as received. Each piece of evidence gets an
//! `evidence.exported` custody event before the export is made, so the manifest lists its
//! own export.
//!
//! [`verify`] checks the signature against the helpline's public key and every file
//! against the manifest, and names what was altered, is missing or was added.

use crate::App;
use crate::error::AppError;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use futures_util::StreamExt;
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::ids::{CaseId, EvidenceId, StaffId};
use rempart_domain::policy::{Action, Actor};
use rempart_media::FileType;
use rempart_storage::AuditEntry;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;

/// The manifest's format name.
pub const FORMAT: &str = "rempart-evidence-export/1";
const MANIFEST: &str = "manifest.json";
const SIGNATURE: &str = "manifest.sig";
/// The largest entry `read_export` reads (an export's file is at most a video).
const MAX_ENTRY: u64 = 1 << 30;

/// The manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// This export's id (named by the custody events).
    pub export_id: String,
    /// The helpline.
    pub helpline: String,
    /// The case's reference.
    pub case_reference: String,
    /// The case's id.
    pub case_id: String,
    /// When, RFC 3339.
    pub exported_at: String,
    /// Who made it.
    pub exported_by: String,
    /// The signing key, hex (compare with the helpline's published key).
    pub public_key: String,
    /// Every file of the export, with its digest.
    pub files: Vec<ManifestFile>,
    /// Every piece of evidence.
    pub evidence: Vec<ManifestEvidence>,
    /// The chain of custody: every custody event of the case's evidence.
    pub custody: Vec<CustodyEvent>,
}

/// A file of the export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    /// Its path in the export.
    pub path: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// The number of the evidence it is.
    pub evidence: i64,
}

/// A piece of evidence in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestEvidence {
    /// Number in the case.
    pub number: i64,
    /// Id.
    pub id: String,
    /// Kind code.
    pub kind: String,
    /// Who brought it in (source code).
    pub source: String,
    /// The member of staff who added it.
    pub added_by: Option<String>,
    /// When it was received, RFC 3339.
    pub received_at: String,
    /// From where (`console`, `follow_up_page`, a channel).
    pub captured_from: String,
    /// What it shows.
    pub description: Option<String>,
    /// Where the content was seen.
    pub url: Option<String>,
    /// A text excerpt.
    pub excerpt: Option<String>,
    /// The sender's file name (data only).
    pub original_name: Option<String>,
    /// The file's type code.
    pub file_type: Option<String>,
    /// Bytes.
    pub size: Option<i64>,
    /// Pixels.
    pub width: Option<i64>,
    /// Pixels.
    pub height: Option<i64>,
    /// SHA-256 computed on arrival (or on the sender's device for fingerprints only).
    pub sha256: Option<String>,
    /// MD5.
    pub md5: Option<String>,
    /// PDQ.
    pub pdq: Option<String>,
    /// PDQ quality.
    pub pdq_quality: Option<i64>,
    /// Marked as a sexual image of a minor: fingerprints only, no file.
    pub sexual_image_of_minor: bool,
    /// Marked intimate.
    pub intimate: bool,
    /// The ids of the items it supports.
    pub items: Vec<String>,
    /// Its file in the export.
    pub file: Option<String>,
}

/// A custody event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CustodyEvent {
    /// When, RFC 3339.
    pub at: String,
    /// Who (a member of staff's name; none for the young person or the system).
    pub actor: Option<String>,
    /// `evidence.added`, `evidence.viewed`…
    pub action: String,
    /// The evidence's id.
    pub evidence: Option<String>,
    /// The event's detail (`copy=original`…).
    pub detail: String,
    /// The event's hash in the audit chain.
    pub audit_hash: String,
}

/// An export, ready to hand out.
#[derive(Debug, Clone)]
pub struct EvidenceExport {
    /// The zip.
    pub zip: Vec<u8>,
    /// Its file name.
    pub file_name: String,
    /// Its manifest.
    pub manifest: Manifest,
}

/// The signing key derived from its seed.
pub fn signing_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

fn iso(ms: i64) -> String {
    crate::notices::payload::iso(ms)
}

/// The public key the helpline's exports are signed with, hex, from its keys.
pub fn public_key(keys: &crate::keys::Keys) -> String {
    hex::encode(
        signing_key(keys.evidence_signing.bytes())
            .verifying_key()
            .to_bytes(),
    )
}

impl App {
    /// The public key evidence exports are signed with, hex (to publish to the police and
    /// partners).
    pub fn evidence_public_key(&self) -> String {
        public_key(&self.keys)
    }

    /// Exports a case's evidence, signed, for roles the policy allows.
    pub async fn export_evidence(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> Result<EvidenceExport, AppError> {
        self.export_some(actor, case, None).await
    }

    /// A referral's package: the signed export of the evidence its transmission shared
    /// (originals, and for fingerprints only, their fingerprints and URL), with those
    /// pieces' chain of custody — to hand to the service (`rempart evidence verify` checks
    /// it like any export). Refused before the transmission names the evidence.
    pub async fn referral_package(
        &self,
        actor: &Actor,
        case: CaseId,
        referral: &str,
    ) -> Result<EvidenceExport, AppError> {
        self.case_for(actor, case, Action::ExportEvidence).await?;
        let r = self
            .store
            .referral(case, referral)
            .await?
            .ok_or_else(AppError::not_found)?;
        if r.shared.is_empty() {
            return Err(AppError::field(
                "referral",
                "its transmission shares no evidence yet",
            ));
        }
        let mut x = self.export_some(actor, case, Some(&r.shared)).await?;
        x.file_name = format!(
            "{}-referral-{}.zip",
            x.manifest.case_reference,
            &x.manifest.export_id[..8]
        );
        Ok(x)
    }

    async fn export_some(
        &self,
        actor: &Actor,
        case: CaseId,
        only: Option<&[EvidenceId]>,
    ) -> Result<EvidenceExport, AppError> {
        let record = self.case_for(actor, case, Action::ExportEvidence).await?;
        let mut evidence = self.store.case_evidence(case).await?;
        if let Some(ids) = only {
            evidence.retain(|e| ids.contains(&e.id));
        }
        let export_id = uuid::Uuid::now_v7().to_string();
        let now = self.now();
        // read every file first (a few at once: a remote store answers in parallel): an
        // export that cannot be completed records nothing
        let dek = self.case_data_key(case).await?;
        let wanted: Vec<_> = evidence
            .iter()
            .filter(|e| e.copies.iter().any(|c| c == "original"))
            .map(|e| {
                let ext = e
                    .file_type
                    .as_deref()
                    .and_then(FileType::from_code)
                    .map(|t| t.extension())
                    .unwrap_or("bin");
                (
                    e.id,
                    e.number,
                    format!("files/{:04}-original.{ext}", e.number),
                )
            })
            .collect();
        let read = futures_util::stream::iter(wanted.into_iter().map(|(id, number, path)| {
            let dek = &dek;
            async move {
                let bytes = self.open_blob(dek, case, id, "original").await?;
                Ok::<_, AppError>((path, bytes, number))
            }
        }))
        .buffered(8)
        .collect::<Vec<_>>()
        .await;
        let mut files: Vec<(String, Vec<u8>, i64)> = Vec::with_capacity(read.len());
        let mut paths: HashMap<i64, String> = HashMap::new();
        for r in read {
            let (path, bytes, number) = r?;
            paths.insert(number, path.clone());
            files.push((path, bytes, number));
        }
        if !evidence.is_empty() {
            let events: Vec<AuditEntry> = evidence
                .iter()
                .map(|e| {
                    AuditEntry::new(
                        now,
                        Some(actor.id),
                        AuditEvent::EvidenceExported {
                            export: export_id.clone(),
                        },
                    )
                    .object(e.id)
                    .case(case)
                })
                .collect();
            self.store.record_custody(&events).await?;
        }
        let mut log = self.store.custody_log(case).await?;
        if only.is_some() {
            let kept: Vec<String> = evidence.iter().map(|e| e.id.to_string()).collect();
            log.retain(|r| r.object_id.as_ref().is_some_and(|o| kept.contains(o)));
        }
        let mut names: HashMap<String, String> = HashMap::new();
        for r in &log {
            if let Some(a) = &r.actor_id
                && !names.contains_key(a)
                && let Ok(id) = StaffId::parse(a)
                && let Some(s) = self.store.staff_by_id(id).await?
            {
                names.insert(a.clone(), s.display_name);
            }
        }
        let me = self
            .store
            .staff_by_id(actor.id)
            .await?
            .map(|s| s.display_name)
            .unwrap_or_default();
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            export_id: export_id.clone(),
            helpline: self.settings.helpline.name.clone(),
            case_reference: record.reference.clone(),
            case_id: case.to_string(),
            exported_at: iso(now),
            exported_by: me,
            public_key: self.evidence_public_key(),
            files: files
                .iter()
                .map(|(p, b, n)| ManifestFile {
                    path: p.clone(),
                    sha256: sha256_hex(b),
                    size: b.len() as u64,
                    evidence: *n,
                })
                .collect(),
            evidence: evidence
                .iter()
                .map(|e| ManifestEvidence {
                    number: e.number,
                    id: e.id.to_string(),
                    kind: e.kind.as_str().to_owned(),
                    source: e.source.as_str().to_owned(),
                    added_by: e.added_by_name.clone(),
                    received_at: iso(e.received_at),
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
                    items: e.items.iter().map(|i| i.to_string()).collect(),
                    file: paths.get(&e.number).cloned(),
                })
                .collect(),
            custody: log
                .iter()
                .map(|r| CustodyEvent {
                    at: iso(r.at_ms),
                    actor: r.actor_id.as_ref().and_then(|a| names.get(a).cloned()),
                    action: r.action.clone(),
                    evidence: r.object_id.clone(),
                    detail: r.detail.clone(),
                    audit_hash: r.hash.clone(),
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|_| AppError::internal("manifest json"))?;
        let sig = signing_key(self.keys.evidence_signing.bytes()).sign(&json);
        let zip = tokio::task::spawn_blocking(move || {
            write_zip(&json, &hex::encode(sig.to_bytes()), &files)
        })
        .await
        .map_err(|_| AppError::internal("zip task"))?
        .map_err(|e| AppError::internal(&format!("zip: {e}")))?;
        Ok(EvidenceExport {
            zip,
            file_name: format!("{}-evidence-{}.zip", record.reference, &export_id[..8]),
            manifest,
        })
    }
}

fn write_zip(
    manifest: &[u8],
    sig: &str,
    files: &[(String, Vec<u8>, i64)],
) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = |len: usize| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(len as u64 >= u64::from(u32::MAX))
    };
    z.start_file(MANIFEST, opts(manifest.len()))?;
    z.write_all(manifest)?;
    z.start_file(SIGNATURE, opts(sig.len()))?;
    z.write_all(sig.as_bytes())?;
    for (path, bytes, _) in files {
        z.start_file(path.as_str(), opts(bytes.len()))?;
        z.write_all(bytes)?;
    }
    Ok(z.finish()?.into_inner())
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// The manifest parses and is of this format.
    pub manifest_ok: bool,
    /// The signature verifies with the expected key.
    pub signature_ok: bool,
    /// The key the manifest names is the expected one.
    pub key_matches: bool,
    /// Files whose bytes differ from the manifest.
    pub altered: Vec<String>,
    /// Files the manifest lists that are absent.
    pub missing: Vec<String>,
    /// Files present that the manifest does not list.
    pub added: Vec<String>,
    /// Files intact.
    pub intact: usize,
    /// Other problems, in words.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether the export is exactly what the helpline signed.
    pub fn ok(&self) -> bool {
        self.manifest_ok
            && self.signature_ok
            && self.key_matches
            && self.altered.is_empty()
            && self.missing.is_empty()
            && self.added.is_empty()
            && self.problems.is_empty()
    }
}

/// Parses a public key given in hex.
pub fn parse_public_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let raw = hex::decode(hex_key.trim()).map_err(|_| "the public key is not hex".to_owned())?;
    let raw: [u8; 32] = raw
        .try_into()
        .map_err(|_| "the public key must be 32 bytes (64 hex digits)".to_owned())?;
    VerifyingKey::from_bytes(&raw).map_err(|_| "not an Ed25519 public key".to_owned())
}

/// Checks an export's entries (path → bytes) against the expected signing key.
pub fn verify(entries: &BTreeMap<String, Vec<u8>>, expected: &VerifyingKey) -> VerifyReport {
    let mut r = VerifyReport::default();
    let (Some(json), Some(sig)) = (entries.get(MANIFEST), entries.get(SIGNATURE)) else {
        r.problems
            .push("manifest.json or manifest.sig is missing".into());
        return r;
    };
    let manifest: Manifest = match serde_json::from_slice(json) {
        Ok(m) => m,
        Err(_) => {
            r.problems.push("manifest.json does not parse".into());
            return r;
        }
    };
    r.manifest_ok = manifest.format == FORMAT;
    if !r.manifest_ok {
        r.problems
            .push(format!("unknown format {:?}", manifest.format));
    }
    r.key_matches = manifest.public_key == hex::encode(expected.to_bytes());
    r.signature_ok = std::str::from_utf8(sig)
        .ok()
        .and_then(|s| hex::decode(s.trim()).ok())
        .and_then(|b| Signature::from_slice(&b).ok())
        .is_some_and(|s| expected.verify(json, &s).is_ok());
    for f in &manifest.files {
        match entries.get(&f.path) {
            None => r.missing.push(f.path.clone()),
            Some(b) if sha256_hex(b) != f.sha256 || b.len() as u64 != f.size => {
                r.altered.push(f.path.clone())
            }
            Some(_) => r.intact += 1,
        }
        // the file is the evidence received: its digest is the one recorded on arrival
        let recorded = manifest
            .evidence
            .iter()
            .find(|e| e.number == f.evidence)
            .and_then(|e| e.sha256.as_deref());
        if recorded != Some(f.sha256.as_str()) {
            r.problems
                .push(format!("{}: not the digest recorded on arrival", f.path));
        }
    }
    for name in entries.keys() {
        if name != MANIFEST && name != SIGNATURE && !manifest.files.iter().any(|f| &f.path == name)
        {
            r.added.push(name.clone());
        }
    }
    r
}

/// Reads an export: a zip file, or a folder it was unpacked into.
pub fn read_export(path: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut out = BTreeMap::new();
    if path.is_dir() {
        fn walk(
            root: &Path,
            dir: &Path,
            out: &mut BTreeMap<String, Vec<u8>>,
        ) -> Result<(), String> {
            let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for e in entries {
                let e = e.map_err(|e| e.to_string())?;
                let p = e.path();
                let kind = e.file_type().map_err(|e| e.to_string())?;
                if kind.is_symlink() {
                    // a link is not part of an export (and could loop)
                    let rel = p.strip_prefix(root).map_err(|e| e.to_string())?;
                    out.insert(
                        rel.to_string_lossy().replace('\\', "/"),
                        b"(symbolic link)".to_vec(),
                    );
                    continue;
                }
                if kind.is_dir() {
                    walk(root, &p, out)?;
                } else {
                    let rel = p
                        .strip_prefix(root)
                        .map_err(|e| e.to_string())?
                        .to_string_lossy()
                        .replace('\\', "/");
                    let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                    out.insert(rel, bytes);
                }
            }
            Ok(())
        }
        walk(path, path, &mut out)?;
        return Ok(out);
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut z = zip::ZipArchive::new(file).map_err(|e| format!("not a zip: {e}"))?;
    // two entries of one name: an unzip tool could show a file other than the one checked
    if z.has_duplicate_names() {
        return Err("the zip holds two entries with the same name".into());
    }
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(|e| format!("zip entry {i}: {e}"))?;
        if f.is_dir() {
            continue;
        }
        let name = f
            .name()
            .map_err(|e| format!("zip entry {i}: {e}"))?
            .into_owned();
        let mut bytes = Vec::new();
        (&mut f)
            .take(MAX_ENTRY + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{name}: {e}"))?;
        if bytes.len() as u64 > MAX_ENTRY {
            return Err(format!("{name}: larger than 1 GiB"));
        }
        out.insert(name, bytes);
    }
    Ok(out)
}
