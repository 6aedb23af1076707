//! Evidence ("preuve"): a file, a link, a text excerpt or fingerprints that support a
//! case's items. What is decided here: where a piece of evidence came from, the values
//! parsed once (fingerprints, the original file name kept as data only, an excerpt), and
//! the rule that sexual images of a minor never become a file on the server — only the
//! fingerprints computed on the young person's device, the URL and a description.

use crate::case::EvidenceKind;
use crate::notice::vocab;
use std::fmt;

vocab!(
    /// Who brought a piece of evidence in.
    EvidenceSource "evidence-source" {
        /// A counsellor, from the console.
        Counsellor => "counsellor";
        /// The young person (or a parent), on the follow-up page.
        YoungPerson => "young_person";
        /// An attachment received on a messaging channel.
        Channel => "channel";
    }
);

vocab!(
    /// Which copy of a piece of evidence was shown or handed out (custody events).
    EvidenceCopy "evidence-copy" {
        /// The display copy, re-encoded without metadata (blurred for intimate images).
        Display => "display";
        /// The display copy, not blurred (an intimate image revealed by an explicit click).
        Revealed => "revealed";
        /// The clean full-size copy, without metadata: what is sent out.
        Clean => "clean";
        /// The original bytes as received (their SHA-256 is the one recorded).
        Original => "original";
    }
);

/// The longest text excerpt or description, in characters.
pub const MAX_EXCERPT_CHARS: usize = 8000;
/// The longest description of a piece of evidence, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// The longest original file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The most items one piece of evidence may support.
pub const MAX_ITEMS_PER_EVIDENCE: usize = 50;

/// A lowercase hex digest of a given length, parsed once.
fn hex_of(s: &str, len: usize) -> Option<String> {
    let t = s.trim().to_ascii_lowercase();
    (t.len() == len && t.bytes().all(|b| b.is_ascii_hexdigit())).then_some(t)
}

/// The fingerprints of a file: SHA-256 always; MD5 and PDQ (perceptual, with its quality
/// 0–100) when known. For a file that reached the server they are computed there, on
/// arrival; for a hash-only item they come from the young person's browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprints {
    sha256: String,
    md5: Option<String>,
    pdq: Option<(String, u8)>,
}

/// Fingerprints that do not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    /// The SHA-256 is not 64 hex digits.
    #[error("the SHA-256 must be 64 hexadecimal digits")]
    Sha256,
    /// The MD5 is not 32 hex digits.
    #[error("the MD5 must be 32 hexadecimal digits")]
    Md5,
    /// The PDQ hash is not 64 hex digits, or its quality is over 100.
    #[error("the PDQ hash must be 64 hexadecimal digits with a quality from 0 to 100")]
    Pdq,
}

impl Fingerprints {
    /// Parses hex digests (any case, surrounding spaces ignored).
    pub fn parse(
        sha256: &str,
        md5: Option<&str>,
        pdq: Option<(&str, i64)>,
    ) -> Result<Fingerprints, FingerprintError> {
        let sha256 = hex_of(sha256, 64).ok_or(FingerprintError::Sha256)?;
        let md5 = match md5.filter(|m| !m.trim().is_empty()) {
            Some(m) => Some(hex_of(m, 32).ok_or(FingerprintError::Md5)?),
            None => None,
        };
        let pdq = match pdq.filter(|(h, _)| !h.trim().is_empty()) {
            Some((h, q)) => {
                let q = u8::try_from(q)
                    .ok()
                    .filter(|q| *q <= 100)
                    .ok_or(FingerprintError::Pdq)?;
                Some((hex_of(h, 64).ok_or(FingerprintError::Pdq)?, q))
            }
            None => None,
        };
        Ok(Fingerprints { sha256, md5, pdq })
    }

    /// SHA-256, 64 lowercase hex digits.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    /// MD5, 32 lowercase hex digits.
    pub fn md5(&self) -> Option<&str> {
        self.md5.as_deref()
    }
    /// PDQ, 64 lowercase hex digits, with its quality.
    pub fn pdq(&self) -> Option<(&str, u8)> {
        self.pdq.as_ref().map(|(h, q)| (h.as_str(), *q))
    }
}

/// A file's name as the sender's device called it: kept as data only (shown, and listed
/// in exports), never used as a path or a header value. Control characters and bidirectional
/// overrides are dropped, path separators and quotes replaced; an empty or dots-only name is
/// no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalName(String);

impl OriginalName {
    /// Cleans a name; `None` when nothing meaningful is left.
    pub fn clean(raw: &str) -> Option<OriginalName> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !c.is_control() && !is_bidi_control(*c))
            .map(|c| {
                if matches!(
                    c,
                    '/' | '\\' | '"' | ';' | ':' | '*' | '?' | '<' | '>' | '|'
                ) {
                    '_'
                } else {
                    c
                }
            })
            .take(MAX_NAME_CHARS)
            .collect();
        let trimmed = cleaned.trim();
        if trimmed.is_empty() || trimmed.chars().all(|c| c == '.' || c == '_') {
            return None;
        }
        Some(OriginalName(trimmed.to_owned()))
    }

    /// The cleaned name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OriginalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Unicode's bidirectional formatting characters (the RTL override of `photo\u{202E}gpj.exe`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Why a piece of evidence may not be recorded as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceRuleError {
    /// A file was sent for an item marked as a sexual image of a minor, or as hash-only.
    #[error("no file may be stored for a sexual image of a minor: send only its fingerprints")]
    FileForbidden,
    /// A hash-only piece of evidence came without its SHA-256.
    #[error("a fingerprint-only piece of evidence needs at least its SHA-256")]
    FingerprintsMissing,
    /// A link without its URL, or an excerpt without its text.
    #[error("this kind of evidence needs its content")]
    ContentMissing,
    /// A file kind given for evidence that is not a file.
    #[error("this kind of evidence is not a file")]
    NotAFile,
}

impl EvidenceKind {
    /// Whether this kind of evidence carries a file.
    pub fn is_file(self) -> bool {
        matches!(
            self,
            EvidenceKind::Screenshot
                | EvidenceKind::Photo
                | EvidenceKind::Video
                | EvidenceKind::Document
                | EvidenceKind::MessageExport
        )
    }
}

/// The rule for a file upload: refused for hash-only evidence and for anything marked as a
/// sexual image of a minor (possessing one is an offence; the model of NCMEC's Take It Down
/// and StopNCII: the victim's device hashes, the file never leaves it).
pub fn check_file_upload(
    kind: EvidenceKind,
    sexual_image_of_minor: bool,
) -> Result<(), EvidenceRuleError> {
    if sexual_image_of_minor || kind == EvidenceKind::HashOnly {
        return Err(EvidenceRuleError::FileForbidden);
    }
    if !kind.is_file() {
        return Err(EvidenceRuleError::NotAFile);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_once() {
        let f = Fingerprints::parse(
            &"AB".repeat(32),
            Some(&"0f".repeat(16)),
            Some((&"12".repeat(32), 100)),
        )
        .unwrap();
        assert_eq!(f.sha256(), "ab".repeat(32));
        assert_eq!(f.md5(), Some("0f".repeat(16).as_str()));
        assert_eq!(f.pdq().unwrap().1, 100);
        assert_eq!(
            Fingerprints::parse("abc", None, None),
            Err(FingerprintError::Sha256)
        );
        assert_eq!(
            Fingerprints::parse(&"a".repeat(64), Some("xyz"), None),
            Err(FingerprintError::Md5)
        );
        assert_eq!(
            Fingerprints::parse(&"a".repeat(64), None, Some((&"a".repeat(64), 101))),
            Err(FingerprintError::Pdq)
        );
        assert_eq!(
            Fingerprints::parse(&"g".repeat(64), None, None),
            Err(FingerprintError::Sha256)
        );
        // empty optional parts are absent, not errors
        assert!(
            Fingerprints::parse(&"a".repeat(64), Some(" "), Some(("", 0)))
                .unwrap()
                .pdq()
                .is_none()
        );
    }

    #[test]
    fn original_names_are_data_only() {
        for (raw, want) in [
            ("../../etc/passwd", Some(".._.._etc_passwd")),
            ("..\\..\\win.ini", Some(".._.._win.ini")),
            ("a.jpg\u{0}.html", Some("a.jpg.html")),
            ("photo\u{202E}gpj.exe", Some("photogpj.exe")),
            ("x\"; filename=evil\r\n", Some("x__ filename=evil")),
            ("...", None),
            ("", None),
            ("  ", None),
            ("Capture d’écran 😀.png", Some("Capture d’écran 😀.png")),
        ] {
            assert_eq!(
                OriginalName::clean(raw).as_ref().map(OriginalName::as_str),
                want,
                "{raw:?}"
            );
        }
        assert_eq!(
            OriginalName::clean(&"a".repeat(5000))
                .unwrap()
                .as_str()
                .len(),
            MAX_NAME_CHARS
        );
    }

    #[test]
    fn no_file_for_sexual_images_of_minors() {
        assert_eq!(
            check_file_upload(EvidenceKind::Photo, true),
            Err(EvidenceRuleError::FileForbidden)
        );
        assert_eq!(
            check_file_upload(EvidenceKind::HashOnly, false),
            Err(EvidenceRuleError::FileForbidden)
        );
        assert_eq!(
            check_file_upload(EvidenceKind::Link, false),
            Err(EvidenceRuleError::NotAFile)
        );
        assert_eq!(check_file_upload(EvidenceKind::Screenshot, false), Ok(()));
    }
}
