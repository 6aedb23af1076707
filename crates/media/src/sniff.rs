//! The type of a file decided by its bytes alone — never by its name or the type the sender
//! declared — and the refusal of what must never be kept: executables, archives, markup
//! (SVG, HTML, XML) and files that are two things at once (polyglots).

use crate::{FileType, Refusal};

fn starts(b: &[u8], sig: &[u8]) -> bool {
    b.len() >= sig.len() && &b[..sig.len()] == sig
}

/// Case-insensitive search of an ASCII needle.
pub(crate) fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

const EXECUTABLES: &[&[u8]] = &[
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
    b"\0asm",
    b"dex\n",
];

const ARCHIVES: &[&[u8]] = &[
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"PK\x07\x08",
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\0",
    b"\x28\xb5\x2f\xfd",
    b"MSCF",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"xar!",
    b"\x04\x22\x4d\x18",
];

/// Tags a browser would render as a page, looked for at the start of every file.
const MARKUP: &[&[u8]] = &[
    b"<html",
    b"<script",
    b"<svg",
    b"<!doctype",
    b"<body",
    b"<iframe",
    b"<?xml",
    b"<head",
    b"<object",
    b"<embed",
    b"<img",
    b"<a href",
    b"<meta",
    b"<style",
    b"<xsl",
];

/// The EICAR antivirus test file's signature.
const EICAR: &[u8] = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!";

/// ISO base media brands of videos we keep (MP4, QuickTime, 3GP).
const VIDEO_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"qt  ",
    b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"mp71", b"dash", b"MSNV", b"M4VP", b"f4v ",
];

/// Still-image brands of the same container (HEIF, AVIF): recognised, not decoded here.
const HEIF_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis",
];

/// Decides a file's type and refuses what is forbidden.
pub fn sniff(bytes: &[u8]) -> Result<FileType, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    // the antivirus test signature: what a scanner would quarantine is never kept
    if bytes.windows(EICAR.len()).any(|w| w == EICAR) {
        return Err(Refusal::Malware);
    }
    if EXECUTABLES.iter().any(|s| starts(bytes, s)) {
        return Err(Refusal::Executable);
    }
    if ARCHIVES.iter().any(|s| starts(bytes, s))
        || (bytes.len() > 262 && &bytes[257..262] == b"ustar")
    {
        return Err(Refusal::Archive);
    }
    let kind = if starts(bytes, b"\xff\xd8\xff") {
        FileType::Jpeg
    } else if starts(bytes, b"\x89PNG\r\n\x1a\n") {
        FileType::Png
    } else if starts(bytes, b"GIF87a") || starts(bytes, b"GIF89a") {
        FileType::Gif
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        FileType::Webp
    } else if starts(bytes, b"%PDF-") {
        FileType::Pdf
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand: &[u8] = &bytes[8..12];
        if VIDEO_BRANDS.iter().any(|b| &b[..] == brand) {
            FileType::Mp4
        } else if HEIF_BRANDS.iter().any(|b| &b[..] == brand) {
            return Err(Refusal::Unsupported);
        } else {
            return Err(Refusal::UnknownType);
        }
    } else {
        return text(bytes);
    };
    polyglot(bytes, kind)?;
    Ok(kind)
}

/// A plain-text export of a conversation: UTF-8, no NUL or control characters, not markup.
fn text(bytes: &[u8]) -> Result<FileType, Refusal> {
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let Ok(s) = std::str::from_utf8(body) else {
        return Err(Refusal::UnknownType);
    };
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c'))
    {
        return Err(Refusal::UnknownType);
    }
    let trimmed = s.trim_start();
    if trimmed.starts_with('<') {
        return Err(Refusal::Markup);
    }
    if trimmed.is_empty() {
        return Err(Refusal::Empty);
    }
    let head = &body[..body.len().min(1024)];
    if MARKUP.iter().any(|t| contains_ci(head, t)) || contains_ci(body, b"<script") {
        return Err(Refusal::Markup);
    }
    if contains_ci(head, b"%PDF-") {
        return Err(Refusal::Polyglot);
    }
    Ok(FileType::Text)
}

/// A file that is also a page, a PDF or an archive.
fn polyglot(bytes: &[u8], kind: FileType) -> Result<(), Refusal> {
    let head = &bytes[..bytes.len().min(1024)];
    // readers accept a PDF header anywhere in the first kilobyte
    if kind != FileType::Pdf && contains_ci(&head[1..], b"%PDF-") {
        return Err(Refusal::Polyglot);
    }
    // browsers sniff the start of a file; a script tag is never part of a picture
    if MARKUP.iter().any(|t| contains_ci(head, t)) || contains_ci(bytes, b"<script") {
        return Err(Refusal::Polyglot);
    }
    if zip_at_end(bytes) {
        return Err(Refusal::Polyglot);
    }
    Ok(())
}

/// A ZIP's end record at the end of the file (how an image carries an archive readers open).
fn zip_at_end(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let from = n.saturating_sub(22 + 65_535);
    (from..n.saturating_sub(21)).rev().any(|i| {
        &bytes[i..i + 4] == b"PK\x05\x06" && {
            let comment = usize::from(u16::from_le_bytes([bytes[i + 20], bytes[i + 21]]));
            i + 22 + comment == n
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_magic_bytes() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0rest"), Ok(FileType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Ok(FileType::Png));
        assert_eq!(sniff(b"GIF89a...."), Ok(FileType::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(FileType::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Ok(FileType::Pdf));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42\0\0\0\0"), Ok(FileType::Mp4));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Err(Refusal::Unsupported)
        );
        assert_eq!(
            sniff("[12/03/2026 10:02] Léa: arrête\n".as_bytes()),
            Ok(FileType::Text)
        );
    }

    #[test]
    fn forbidden_content_is_refused() {
        assert_eq!(sniff(b"MZ\x90\0"), Err(Refusal::Executable));
        assert_eq!(sniff(b"\x7fELF\x02\x01"), Err(Refusal::Executable));
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /"), Err(Refusal::Executable));
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), Err(Refusal::Archive));
        assert_eq!(sniff(b"\x1f\x8b\x08\0"), Err(Refusal::Archive));
        assert_eq!(
            sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Err(Refusal::Markup)
        );
        assert_eq!(
            sniff(b"\xef\xbb\xbf  <!DOCTYPE html>"),
            Err(Refusal::Markup)
        );
        assert_eq!(
            sniff(b"hello <ScRiPt>alert(1)</script>"),
            Err(Refusal::Markup)
        );
        assert_eq!(sniff(b"\0\0\0binary"), Err(Refusal::UnknownType));
        assert_eq!(sniff(b""), Err(Refusal::Empty));
        assert_eq!(
            sniff(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"),
            Err(Refusal::Malware)
        );
        assert_eq!(sniff(b"\xff\xfe\xfd"), Err(Refusal::UnknownType));
    }

    #[test]
    fn polyglots_are_refused() {
        let mut gifar = b"GIF89a\x01\0\x01\0".to_vec();
        gifar.extend_from_slice(b"PK\x03\x04data");
        gifar.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(sniff(&gifar), Err(Refusal::Polyglot));
        let mut jpeg_pdf = b"\xff\xd8\xff\xfe\0\x10".to_vec();
        jpeg_pdf.extend_from_slice(b"%PDF-1.4 obj");
        assert_eq!(sniff(&jpeg_pdf), Err(Refusal::Polyglot));
        let mut jpeg_html = b"\xff\xd8\xff\xfe\0\x20".to_vec();
        jpeg_html.extend_from_slice(b"<html><body>hi</body></html>");
        assert_eq!(sniff(&jpeg_html), Err(Refusal::Polyglot));
        let mut png_script = b"\x89PNG\r\n\x1a\n".to_vec();
        png_script.extend(std::iter::repeat_n(0u8, 5000));
        png_script.extend_from_slice(b"<SCRIPT src=x>");
        assert_eq!(sniff(&png_script), Err(Refusal::Polyglot));
        // a text export that is also a PDF
        assert_eq!(sniff(b"notes\n%PDF-1.4\n"), Err(Refusal::Polyglot));
    }
}
