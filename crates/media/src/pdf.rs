//! PDFs with active content are refused: scripts, launch and submit actions, embedded files,
//! rich media, XFA forms — looked for in the file's names (with `#xx` escapes decoded) and
//! inside its compressed object streams, inflated under a cap (a stream that inflates beyond
//! it is a bomb). An encrypted PDF cannot be looked into, so it is refused too.

use crate::Refusal;
use std::io::Read;

/// Names that make a PDF act rather than show.
const ACTIVE: &[&[u8]] = &[
    b"JavaScript",
    b"JS",
    b"Launch",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    b"RichMedia",
    b"XFA",
    b"SubmitForm",
    b"ImportData",
    b"GoToE",
    b"GoToR",
    b"Sound",
    b"Movie",
];

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()<>[]{}/%\0".contains(&b)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Every name (`/Name`) of a PDF body, escapes decoded.
fn names(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if bytes[i] != b'/' {
                i += 1;
                continue;
            }
            i += 1;
            let mut name = Vec::new();
            while i < bytes.len() && !is_delimiter(bytes[i]) {
                if bytes[i] == b'#'
                    && i + 2 < bytes.len()
                    && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
                {
                    name.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                name.push(bytes[i]);
                i += 1;
            }
            return Some(name);
        }
        None
    })
}

fn scan(bytes: &[u8]) -> Result<(), Refusal> {
    for n in names(bytes) {
        if n == b"Encrypt" {
            return Err(Refusal::PdfEncrypted);
        }
        if ACTIVE.contains(&n.as_slice()) {
            return Err(Refusal::PdfActiveContent);
        }
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Checks a PDF; `max_inflated` bounds the inflated size of all its object streams together.
pub fn check(bytes: &[u8], max_inflated: usize) -> Result<(), Refusal> {
    scan(bytes)?;
    if !bytes.windows(5).any(|w| w == b"%%EOF") {
        return Err(Refusal::Damaged);
    }
    let mut budget = max_inflated;
    let mut at = 0;
    while let Some(p) = find(bytes, b"/ObjStm", at) {
        let Some(s) = find(bytes, b"stream", p) else {
            return Err(Refusal::Damaged);
        };
        let mut start = s + 6;
        if bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        let Some(end) = find(bytes, b"endstream", start) else {
            return Err(Refusal::Damaged);
        };
        let mut out = Vec::new();
        let mut z = flate2::read::ZlibDecoder::new(&bytes[start..end]).take(budget as u64 + 1);
        // a stream that does not inflate cleanly may still be read by a viewer: refuse it
        if z.read_to_end(&mut out).is_err() && out.is_empty() {
            return Err(Refusal::Damaged);
        }
        if out.len() > budget {
            return Err(Refusal::Bomb);
        }
        budget -= out.len();
        scan(&out)?;
        at = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const PLAIN: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF\n";

    #[test]
    fn a_plain_pdf_passes() {
        assert_eq!(check(PLAIN, 1 << 20), Ok(()));
    }

    #[test]
    fn scripts_and_escaped_names_are_found() {
        let js =
            b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF";
        assert_eq!(check(js, 1 << 20), Err(Refusal::PdfActiveContent));
        let escaped = b"%PDF-1.4\n1 0 obj << /S /J#61vaScript >>\n%%EOF";
        assert_eq!(check(escaped, 1 << 20), Err(Refusal::PdfActiveContent));
        let launch = b"%PDF-1.4\n<< /S /Launch /F (cmd.exe) >>\n%%EOF";
        assert_eq!(check(launch, 1 << 20), Err(Refusal::PdfActiveContent));
        let enc = b"%PDF-1.4\ntrailer << /Encrypt 5 0 R >>\n%%EOF";
        assert_eq!(check(enc, 1 << 20), Err(Refusal::PdfEncrypted));
    }

    fn with_objstm(inner: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(inner).expect("deflate");
        let data = z.finish().expect("deflate");
        let mut pdf =
            b"%PDF-1.7\n3 0 obj << /Type /ObjStm /N 1 /Filter /FlateDecode >>\nstream\r\n".to_vec();
        pdf.extend_from_slice(&data);
        pdf.extend_from_slice(b"\r\nendstream\nendobj\n%%EOF\n");
        pdf
    }

    #[test]
    fn scripts_hidden_in_object_streams_are_found() {
        assert_eq!(check(&with_objstm(b"<< /Title (ok) >>"), 1 << 20), Ok(()));
        assert_eq!(
            check(&with_objstm(b"<< /S /JavaScript /JS (x) >>"), 1 << 20),
            Err(Refusal::PdfActiveContent)
        );
    }

    #[test]
    fn an_object_stream_bomb_is_refused_within_the_cap() {
        let zeros = vec![b' '; 8 << 20];
        let bomb = with_objstm(&zeros);
        assert!(bomb.len() < 64 << 10, "{}", bomb.len());
        assert_eq!(check(&bomb, 1 << 20), Err(Refusal::Bomb));
    }
}
