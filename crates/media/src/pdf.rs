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

/// The dictionary written just before a `stream` keyword at `s`: from its `<<` to its `>>`,
/// matched backwards. None when it does not match (a string hiding brackets): refused.
fn dict_before(bytes: &[u8], s: usize) -> Option<&[u8]> {
    let mut i = s;
    while i > 0 && bytes[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    if i < 2 || &bytes[i - 2..i] != b">>" {
        return None;
    }
    let end = i;
    let mut depth = 0usize;
    let mut j = i;
    while j >= 2 {
        let pair = &bytes[j - 2..j];
        if pair == b">>" {
            depth += 1;
            j -= 2;
        } else if pair == b"<<" {
            depth -= 1;
            j -= 2;
            if depth == 0 {
                return Some(&bytes[j..end]);
            }
        } else {
            j -= 1;
        }
    }
    None
}

/// A direct `/Length n` of a dictionary (an indirect one, `n 0 R`, is not known here).
fn direct_length(dict: &[u8]) -> Option<usize> {
    let p = find(dict, b"/Length", 0)? + 7;
    let rest = &dict[p..];
    let digits: Vec<u8> = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    let n: usize = std::str::from_utf8(&digits).ok()?.parse().ok()?;
    // `12 0 R` is a reference, not a length
    let after: Vec<u8> = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .skip_while(|b| b.is_ascii_digit())
        .take(8)
        .copied()
        .collect();
    let after = String::from_utf8_lossy(&after);
    let t = after.trim_start();
    if t.starts_with(|c: char| c.is_ascii_digit()) && t.contains('R') {
        return None;
    }
    Some(n)
}

/// Filters that only decode pictures: their data cannot hold PDF objects.
const IMAGE_FILTERS: &[&[u8]] = &[
    b"DCTDecode",
    b"DCT",
    b"JPXDecode",
    b"CCITTFaxDecode",
    b"CCF",
    b"JBIG2Decode",
];

/// Checks a PDF; `max_inflated` bounds the inflated size of all its streams together.
///
/// Every stream is looked into, whatever its dictionary says it is (readers find object
/// streams through the cross-reference data, not their `/Type`): no filter, its bytes as
/// they are; one or more `FlateDecode`, inflated as many times (under the cap); a picture
/// codec, skipped; anything else (or a predictor, or a stream that does not inflate cleanly)
/// outside a picture's or the cross-reference's own stream cannot be looked into, and the
/// file is refused.
pub fn check(bytes: &[u8], max_inflated: usize) -> Result<(), Refusal> {
    if !bytes.windows(5).any(|w| w == b"%%EOF") {
        return Err(Refusal::Damaged);
    }
    let mut budget = max_inflated;
    let mut at = 0;
    // the text between streams (objects, dictionaries, the trailer) is scanned as it is;
    // a stream's data only as decoded, so a picture's bytes never look like a name
    let mut text_from = 0;
    while let Some(s) = find(bytes, b"stream", at) {
        // `endstream` contains `stream`: skip it
        if s >= 3 && &bytes[s - 3..s] == b"end" {
            at = s + 6;
            continue;
        }
        let mut start = s + 6;
        if bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if bytes.get(start) == Some(&b'\n') {
            start += 1;
        } else if start == s + 6 {
            // a `stream` keyword is followed by an end of line; anything else is text
            at = s + 6;
            continue;
        }
        let dict = dict_before(bytes, s).ok_or(Refusal::Damaged)?;
        let names: Vec<Vec<u8>> = names(dict).collect();
        let has = |n: &[u8]| names.iter().any(|x| x.as_slice() == n);
        let end = match direct_length(dict) {
            Some(n) if start + n <= bytes.len() => start + n,
            _ => find(bytes, b"endstream", start).ok_or(Refusal::Damaged)?,
        };
        scan(&bytes[text_from..start])?;
        text_from = end;
        let data = &bytes[start..end];
        at = end.max(s + 6);
        let flates = names
            .iter()
            .filter(|n| n.as_slice() == b"FlateDecode" || n.as_slice() == b"Fl")
            .count();
        let picture = names.iter().any(|n| IMAGE_FILTERS.contains(&n.as_slice()));
        let other_filter = names.iter().any(|n| {
            matches!(
                n.as_slice(),
                b"ASCIIHexDecode"
                    | b"AHx"
                    | b"ASCII85Decode"
                    | b"A85"
                    | b"LZWDecode"
                    | b"LZW"
                    | b"RunLengthDecode"
                    | b"RL"
                    | b"Crypt"
            )
        });
        // an object stream needs `/First` (where its objects start): whatever else its
        // dictionary says, such a stream is always looked into
        let objects = has(b"First");
        let image_or_xref = (has(b"Image") || has(b"XRef")) && !objects;
        if picture && !objects {
            continue;
        }
        if other_filter || has(b"Predictor") || picture {
            if image_or_xref {
                continue;
            }
            return Err(Refusal::PdfUnreadable);
        }
        let mut decoded = data.to_vec();
        for _ in 0..flates {
            let mut out = Vec::new();
            let mut z = flate2::read::ZlibDecoder::new(decoded.as_slice()).take(budget as u64 + 1);
            if z.read_to_end(&mut out).is_err() {
                if image_or_xref {
                    break;
                }
                return Err(Refusal::PdfUnreadable);
            }
            if out.len() > budget {
                return Err(Refusal::Bomb);
            }
            budget -= out.len();
            decoded = out;
        }
        // a picture's own pixels (an image without a picture codec) are not objects
        if !image_or_xref {
            scan(&decoded)?;
        }
    }
    scan(&bytes[text_from.min(bytes.len())..])
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
        with_stream(b"/Type /ObjStm /N 1 /Filter /FlateDecode", inner, 1)
    }

    fn with_stream(dict: &[u8], inner: &[u8], times: usize) -> Vec<u8> {
        let mut data = inner.to_vec();
        for _ in 0..times {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(&data).expect("deflate");
            data = z.finish().expect("deflate");
        }
        let mut pdf = b"%PDF-1.7\n3 0 obj << ".to_vec();
        pdf.extend_from_slice(dict);
        pdf.extend_from_slice(format!(" /Length {} >>\nstream\r\n", data.len()).as_bytes());
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
    fn disguised_object_streams_are_looked_into_or_refused() {
        let js = b"<< /S /JavaScript /JS (x) >>";
        // an escaped type, no type at all, two deflates: all inflated and found
        for dict in [
            &b"/Type /Obj#53tm /Filter /FlateDecode"[..],
            b"/Filter /FlateDecode",
        ] {
            assert_eq!(
                check(&with_stream(dict, js, 1), 1 << 20),
                Err(Refusal::PdfActiveContent)
            );
        }
        assert_eq!(
            check(
                &with_stream(b"/Filter [/FlateDecode /FlateDecode]", js, 2),
                1 << 20
            ),
            Err(Refusal::PdfActiveContent)
        );
        // what cannot be looked into is refused
        assert_eq!(
            check(
                &with_stream(b"/Filter /ASCII85Decode", b"9jqo^BlbD-BleB1DJ+*+F(f,q~>", 0),
                1 << 20
            ),
            Err(Refusal::PdfUnreadable)
        );
        assert_eq!(
            check(
                &with_stream(
                    b"/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>",
                    js,
                    1
                ),
                1 << 20
            ),
            Err(Refusal::PdfUnreadable)
        );
        // a stream that does not inflate
        assert_eq!(
            check(
                &with_stream(b"/Filter /FlateDecode", b"not deflated", 0),
                1 << 20
            ),
            Err(Refusal::PdfUnreadable)
        );
        // an `endstream` inside the data does not end it early: the length says where
        let mut tricky = b"<< /Title (a) >> endstream ".to_vec();
        tricky.extend_from_slice(js);
        assert_eq!(
            check(&with_stream(b"", &tricky, 0), 1 << 20),
            Err(Refusal::PdfActiveContent)
        );
        // an object stream dressed as a picture is still looked into
        assert_eq!(
            check(
                &with_stream(b"/Subtype /Image /N 1 /First 4 /Filter /FlateDecode", js, 1),
                1 << 20
            ),
            Err(Refusal::PdfActiveContent)
        );
        assert_eq!(
            check(
                &with_stream(b"/Subtype /Image /N 1 /First 4 /Filter /DCTDecode", b"x", 0),
                1 << 20
            ),
            Err(Refusal::PdfUnreadable)
        );
        // a picture's data is not looked into; a plain page's content is
        assert_eq!(
            check(
                &with_stream(b"/Subtype /Image /Filter /DCTDecode", b"\xff\xd8 /JS", 0),
                1 << 20
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &with_stream(b"/Filter /FlateDecode", b"BT /F1 12 Tf (Bonjour) Tj ET", 1),
                1 << 20
            ),
            Ok(())
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
