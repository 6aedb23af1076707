//! Reading a rendered mail back: its envelope, to send stored bytes again after a restart
//! ([`Rendered::parse`](crate::Rendered::parse)), and a readable view — headers unfolded with
//! their encoded words decoded, the text part and the attachments decoded from their
//! transfer encoding — for the people who check what leaves. It reads the MIME this crate
//! renders (and any simple mail: one level of multipart or none, nested parts up to a few
//! levels); it never fails on odd input, it shows less.

use crate::message::Attachment;
use base64::Engine as _;

/// How deep multiparts nest before the reader stops looking inside.
const MAX_DEPTH: usize = 4;

/// A mail as people read it. Its `Debug` shows header names and sizes, never their values.
#[derive(Clone, PartialEq, Eq)]
pub struct ReadMail {
    /// The top-level headers in order, unfolded, encoded words decoded.
    pub headers: Vec<(String, String)>,
    /// The first `text/plain` part that is not an attachment, decoded (line breaks as LF).
    pub text: Option<String>,
    /// The other leaf parts, decoded.
    pub attachments: Vec<Attachment>,
}

impl std::fmt::Debug for ReadMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ReadMail")
            .field("headers", &names)
            .field("text_len", &self.text.as_ref().map(String::len))
            .field("attachments", &self.attachments)
            .finish()
    }
}

impl ReadMail {
    /// The first header of that name (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a mail's bytes (never fails: what cannot be read is left out).
pub fn read(bytes: &[u8]) -> ReadMail {
    let (raw_headers, body) = split_head(bytes);
    let headers: Vec<(String, String)> = raw_headers
        .iter()
        .map(|(n, v)| (n.clone(), decode_words(v)))
        .collect();
    let mut mail = ReadMail {
        headers,
        text: None,
        attachments: Vec::new(),
    };
    leaf_or_multipart(&raw_headers, body, 0, &mut mail);
    mail
}

/// The raw (unfolded, not decoded) headers and the body.
pub(crate) fn split_head(bytes: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let (head, body) = match find(bytes, b"\r\n\r\n") {
        Some(i) => (&bytes[..i], &bytes[i + 4..]),
        None => match find(bytes, b"\n\n") {
            Some(i) => (&bytes[..i], &bytes[i + 2..]),
            None => (bytes, &bytes[bytes.len()..]),
        },
    };
    let head = String::from_utf8_lossy(head);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    for (_, v) in &mut headers {
        *v = v.trim().to_owned();
    }
    (headers, body)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn raw_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `type/subtype` (lower case) and the parameters of a `Content-Type`-like value.
fn params(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = split_outside_quotes(value, ';').into_iter();
    let main = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let mut out = Vec::new();
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .map(|v| v.replace("\\\"", "\"").replace("\\\\", "\\"))
                .unwrap_or_else(|| v.to_owned());
            match k.strip_suffix('*') {
                // RFC 2231: charset'language'percent-encoded
                Some(k) => {
                    let encoded = v.splitn(3, '\'').nth(2).unwrap_or(&v);
                    out.push((k.to_owned(), percent_decode(encoded)));
                }
                None => out.push((k, v)),
            }
        }
    }
    (main, out)
}

fn param<'a>(ps: &'a [(String, String)], name: &str) -> Option<&'a str> {
    ps.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = b.get(i + 1..i + 3).and_then(hex_byte)
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    let s = std::str::from_utf8(two).ok()?;
    u8::from_str_radix(s, 16).ok()
}

/// Splits on `sep` outside double quotes and angle brackets.
pub(crate) fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
            cur.push(c);
            continue;
        }
        match c {
            '\\' if quoted => {
                escaped = true;
                cur.push(c);
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '<' if !quoted => {
                angle = true;
                cur.push(c);
            }
            '>' if !quoted => {
                angle = false;
                cur.push(c);
            }
            c if c == sep && !quoted && !angle => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The addresses of a mailbox list (`Name <a@b>, c@d`), as written.
pub(crate) fn addresses(value: &str) -> Vec<String> {
    split_outside_quotes(value, ',')
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .map(|m| match (m.rfind('<'), m.rfind('>')) {
            (Some(a), Some(b)) if a < b => m[a + 1..b].trim().to_owned(),
            _ => m.to_owned(),
        })
        .collect()
}

fn leaf_or_multipart(headers: &[(String, String)], body: &[u8], depth: usize, out: &mut ReadMail) {
    let (ctype, ps) = params(raw_header(headers, "Content-Type").unwrap_or("text/plain"));
    if ctype.starts_with("multipart/") {
        if depth >= MAX_DEPTH {
            return;
        }
        let Some(boundary) = param(&ps, "boundary") else {
            return;
        };
        for part in multipart_parts(body, boundary) {
            let (h, b) = split_head(part);
            leaf_or_multipart(&h, b, depth + 1, out);
        }
        return;
    }
    let encoding = raw_header(headers, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let decoded = match encoding.as_str() {
        "base64" => {
            let clean: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .unwrap_or_default()
        }
        "quoted-printable" => {
            quoted_printable::decode(body, quoted_printable::ParseMode::Robust).unwrap_or_default()
        }
        _ => body.to_vec(),
    };
    let (disposition, dps) = params(raw_header(headers, "Content-Disposition").unwrap_or(""));
    let filename = param(&dps, "filename")
        .or_else(|| param(&ps, "name"))
        .map(decode_words);
    if ctype == "text/plain" && disposition != "attachment" && out.text.is_none() {
        let text = String::from_utf8_lossy(&decoded).replace("\r\n", "\n");
        out.text = Some(text);
        return;
    }
    out.attachments.push(Attachment {
        filename: filename.unwrap_or_default(),
        content_type: ctype,
        bytes: decoded,
    });
}

/// The parts of a multipart body (without the CRLF before each delimiter).
fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let delimiter = format!("--{boundary}");
    let d = delimiter.as_bytes();
    // positions of lines that start with the delimiter
    let mut starts = Vec::new();
    let mut line_start = 0;
    while line_start <= body.len() {
        let rest = &body[line_start..];
        if rest.starts_with(d) {
            starts.push(line_start);
        }
        match find(rest, b"\n") {
            Some(i) => line_start += i + 1,
            None => break,
        }
    }
    let mut parts = Vec::new();
    for w in starts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if body[a + d.len()..].starts_with(b"--") {
            break;
        }
        // the delimiter line's own line break
        let after = match find(&body[a..b], b"\n") {
            Some(i) => a + i + 1,
            None => continue,
        };
        let mut end = b;
        if end > after && body[end - 1] == b'\n' {
            end -= 1;
            if end > after && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        parts.push(&body[after..end.max(after)]);
    }
    parts
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) in a header value;
/// the space between two adjacent encoded words is dropped, as the RFC says.
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut pending_space = String::new();
    let mut after_word = false;
    loop {
        let Some(start) = rest.find("=?") else {
            out.push_str(&pending_space);
            out.push_str(rest);
            break;
        };
        let (before, from) = rest.split_at(start);
        match encoded_word(from) {
            Some((text, len)) => {
                if !(after_word && before.chars().all(|c| c == ' ' || c == '\t')) {
                    out.push_str(&pending_space);
                    out.push_str(before);
                }
                pending_space.clear();
                out.push_str(&text);
                rest = &from[len..];
                // whitespace that follows is kept only if no encoded word comes next
                let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                pending_space.push_str(&rest[..ws]);
                rest = &rest[ws..];
                after_word = true;
            }
            None => {
                out.push_str(&pending_space);
                pending_space.clear();
                out.push_str(before);
                out.push_str("=?");
                rest = &from[2..];
                after_word = false;
            }
        }
    }
    out
}

/// One encoded word at the start of `s`: its text and its length.
fn encoded_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (enc, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains([' ', '\t']) {
        return None;
    }
    let len = 2 + charset.len() + 1 + enc.len() + 1 + end + 2;
    let charset = charset.split('*').next().unwrap_or("").to_ascii_lowercase();
    if charset != "utf-8" && charset != "us-ascii" {
        return None;
    }
    let bytes = match enc {
        "b" | "B" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?,
        "q" | "Q" => {
            let b = text.as_bytes();
            let mut out = Vec::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'_' => out.push(b' '),
                    b'=' => {
                        out.push(b.get(i + 1..i + 3).and_then(hex_byte)?);
                        i += 2;
                    }
                    c => out.push(c),
                }
                i += 1;
            }
            out
        }
        _ => return None,
    };
    Some((String::from_utf8(bytes).ok()?, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{OutgoingMail, render};

    #[test]
    fn encoded_words_decode_and_adjacent_ones_join() {
        assert_eq!(decode_words("plain text"), "plain text");
        assert_eq!(
            decode_words("=?utf-8?b?w4lxdWlwZQ==?= =?utf-8?q?_mod=C3=A9ration?= <a@b>"),
            "Équipe modération <a@b>"
        );
        assert_eq!(decode_words("a =?utf-8?q?=C3=A9?= b"), "a é b");
        assert_eq!(decode_words("=?bad"), "=?bad");
        assert_eq!(decode_words("=?iso-8859-1?q?a?="), "=?iso-8859-1?q?a?=");
    }

    #[test]
    fn addresses_are_found_in_mailbox_lists() {
        assert_eq!(
            addresses("\"Doe, J. <x>\" <j@d.example>, k@d.example"),
            vec!["j@d.example".to_owned(), "k@d.example".to_owned()]
        );
    }

    #[test]
    fn a_rendered_mail_reads_back_as_it_was_written() {
        let text = "Ligne 1 : référence é\n.\n..deux points\n".repeat(3);
        let json = format!("{{\"a\":\"{}\"}}", "é".repeat(200));
        let mail = OutgoingMail {
            from: "\"Ligne d'écoute, Rempart\" <n@helpline.example>"
                .parse()
                .unwrap(),
            to: vec!["Équipe modération <abuse@platform.example>".parse().unwrap()],
            reply_to: Some("n+R-1@helpline.example".parse().unwrap()),
            message_id: "<R-1.x@helpline.example>".into(),
            subject: "Signalement R-1 : préjudice à un mineur, très long sujet qui doit être plié sur plusieurs lignes par le rendu".into(),
            text: text.clone(),
            attachments: vec![Attachment {
                filename: "notice-R-1.json".into(),
                content_type: "application/json".into(),
                bytes: json.clone().into_bytes(),
            }],
            language: Some("fr".into()),
            date: Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000)),
        };
        let r = render(&mail).unwrap();
        let m = read(r.bytes());
        assert_eq!(m.header("subject"), Some(mail.subject.as_str()));
        assert_eq!(m.header("Message-ID"), Some("<R-1.x@helpline.example>"));
        assert_eq!(m.header("Reply-To"), Some("n+R-1@helpline.example"));
        assert_eq!(
            m.header("To"),
            Some("Équipe modération <abuse@platform.example>")
        );
        assert!(
            m.header("Date").unwrap().contains("2026"),
            "{:?}",
            m.headers
        );
        assert_eq!(m.text.as_deref(), Some(text.as_str()));
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].filename, "notice-R-1.json");
        assert_eq!(m.attachments[0].content_type, "application/json");
        assert_eq!(m.attachments[0].bytes, json.as_bytes());

        let back = crate::Rendered::parse(r.bytes().to_vec()).unwrap();
        assert_eq!(back, r, "the envelope is read back from the headers");
    }

    #[test]
    fn odd_input_reads_as_less() {
        let m = read(b"no header at all");
        assert!(m.headers.is_empty());
        let m = read(b"Content-Type: multipart/mixed\r\n\r\n--x\r\n");
        assert!(m.text.is_none() && m.attachments.is_empty());
        assert!(crate::Rendered::parse(b"Subject: x\r\n\r\nbody".to_vec()).is_err());
    }
}
