//! A mail to send, checked and rendered once to the exact bytes that will leave.

use crate::error::{MailError, Reason};
use lettre::Address;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart, SinglePart};
use std::fmt;

/// A file attached to a mail (the JSON copy of a notice).
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name shown to the recipient: no path, quotes, backslashes or control characters.
    pub filename: String,
    /// MIME type, e.g. `application/json`. Images and videos are refused.
    pub content_type: String,
    /// The content, carried unchanged (base64 or quoted-printable on the wire).
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// A mail to send. Its `Debug` shows no address, subject, text or file content.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The helpline's address.
    pub from: Mailbox,
    /// At least one recipient.
    pub to: Vec<Mailbox>,
    /// Where replies go (an address carrying the notice reference, so a reply can be matched).
    pub reply_to: Option<Mailbox>,
    /// `<left@right>`, chosen by the caller and set as the header exactly, e.g.
    /// `<N-2026-0042.0190a4c2-…@helpline.example>`.
    pub message_id: String,
    /// One line: control characters (CR, LF…) are refused.
    pub subject: String,
    /// The text part (UTF-8). Line breaks travel as CRLF.
    pub text: String,
    /// Files after the text part.
    pub attachments: Vec<Attachment>,
    /// `Content-Language`, a language tag such as `fr` or `en-GB`.
    pub language: Option<String>,
    /// The `Date` header (the caller's clock); `None`: the system's time at rendering.
    pub date: Option<std::time::SystemTime>,
}

impl fmt::Debug for OutgoingMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("message_id", &self.message_id)
            .field("recipients", &self.to.len())
            .field("text_len", &self.text.len())
            .field("attachments", &self.attachments)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

/// A mail rendered to its RFC 5322 bytes, with the envelope it travels in. The bytes are the
/// ones [`Mailer::send_rendered`](crate::Mailer::send_rendered) sends, unchanged (the SMTP
/// transport only adds and removes dot-stuffing): store them, show them, send them, and send
/// them again on a retry. Its `Debug` shows only the Message-ID and sizes.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    from: Address,
    to: Vec<Address>,
    message_id: String,
    bytes: Vec<u8>,
}

impl Rendered {
    /// Rebuilds a rendered mail from what was stored (to send it again after a restart).
    pub fn from_stored(
        from: Address,
        to: Vec<Address>,
        message_id: String,
        bytes: Vec<u8>,
    ) -> Result<Self, MailError> {
        if to.is_empty() {
            return Err(MailError::input(Reason::NoRecipient));
        }
        check_message_id(&message_id)?;
        Ok(Rendered {
            from,
            to,
            message_id,
            bytes,
        })
    }

    /// Rebuilds a rendered mail from its stored bytes alone: the envelope from the `From`
    /// and `To` headers, the Message-ID from its header. Refused (`invalid_message`) when
    /// one of them is missing or unusable.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, MailError> {
        let bad = || MailError::input(Reason::InvalidMessage);
        let (headers, _) = crate::read::split_head(&bytes);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let parse = |a: String| a.parse::<Address>().map_err(|_| bad());
        let from = crate::read::addresses(get("From").ok_or_else(bad)?)
            .into_iter()
            .next()
            .ok_or_else(bad)
            .and_then(parse)?;
        let to = crate::read::addresses(get("To").ok_or_else(bad)?)
            .into_iter()
            .map(parse)
            .collect::<Result<Vec<_>, _>>()?;
        let message_id = get("Message-ID").ok_or_else(bad)?.to_owned();
        Self::from_stored(from, to, message_id, bytes)
    }

    /// The exact message bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The message bytes, taken.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The Message-ID header's value.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The envelope sender (MAIL FROM).
    pub fn envelope_from(&self) -> &Address {
        &self.from
    }

    /// The envelope recipients (RCPT TO).
    pub fn envelope_to(&self) -> &[Address] {
        &self.to
    }

    pub(crate) fn has_non_ascii_addresses(&self) -> bool {
        std::iter::once(&self.from)
            .chain(&self.to)
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii())
    }
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("message_id", &self.message_id)
            .field("recipients", &self.to.len())
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// The `Content-Language` header (RFC 3282).
#[derive(Clone)]
struct ContentLanguage(String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Checks a mail and renders it: Date is set now and MIME boundaries are random, so render
/// once and keep the result.
pub fn render(mail: &OutgoingMail) -> Result<Rendered, MailError> {
    check(mail)?;
    let mut builder = Message::builder()
        .from(mail.from.clone())
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()));
    for to in &mail.to {
        builder = builder.to(to.clone());
    }
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    if let Some(language) = &mail.language {
        builder = builder.header(ContentLanguage(language.clone()));
    }
    if let Some(date) = mail.date {
        builder = builder.date(date);
    }
    let text = SinglePart::plain(mail.text.clone());
    let message = if mail.attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for a in &mail.attachments {
            let content_type = ContentType::parse(&a.content_type)
                .map_err(|_| MailError::input(Reason::InvalidAttachment))?;
            parts = parts.singlepart(
                lettre::message::Attachment::new(a.filename.clone())
                    .body(a.bytes.clone(), content_type),
            );
        }
        builder.multipart(parts)
    }
    .map_err(|_| MailError::input(Reason::InvalidMailbox))?;

    let envelope = message.envelope();
    let from = envelope
        .from()
        .cloned()
        .unwrap_or_else(|| mail.from.email.clone());
    Ok(Rendered {
        from,
        to: envelope.to().to_vec(),
        message_id: mail.message_id.clone(),
        bytes: message.formatted(),
    })
}

fn check(mail: &OutgoingMail) -> Result<(), MailError> {
    if mail.to.is_empty() {
        return Err(MailError::input(Reason::NoRecipient));
    }
    if !one_line(&mail.subject) {
        return Err(MailError::input(Reason::InvalidSubject));
    }
    let mailboxes = std::iter::once(&mail.from)
        .chain(&mail.to)
        .chain(mail.reply_to.as_ref());
    for m in mailboxes {
        let name_ok = m.name.as_deref().is_none_or(one_line);
        if !name_ok || !one_line(AsRef::<str>::as_ref(&m.email)) {
            return Err(MailError::input(Reason::InvalidMailbox));
        }
    }
    check_message_id(&mail.message_id)?;
    if let Some(l) = &mail.language
        && !is_language_tag(l)
    {
        return Err(MailError::input(Reason::InvalidLanguage));
    }
    for a in &mail.attachments {
        let name_ok = !a.filename.is_empty()
            && a.filename.len() <= 255
            && one_line(&a.filename)
            && !a.filename.contains(['"', '\\', '/']);
        if !name_ok || !one_line(&a.content_type) {
            return Err(MailError::input(Reason::InvalidAttachment));
        }
        let top = a
            .content_type
            .split('/')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if matches!(top.as_str(), "image" | "video") {
            return Err(MailError::input(Reason::AttachmentTypeRefused));
        }
        if matches!(top.as_str(), "multipart" | "message") {
            return Err(MailError::input(Reason::InvalidAttachment));
        }
    }
    Ok(())
}

/// No control character (CR, LF, TAB, NUL, C1) and no Unicode line or paragraph separator.
fn one_line(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

/// `<id-left@id-right>`, both dot-atom text (RFC 5322 §3.6.4), at most 250 characters.
fn check_message_id(id: &str) -> Result<(), MailError> {
    let bad = || MailError::input(Reason::InvalidMessageId);
    if id.len() > 250 {
        return Err(bad());
    }
    let inner = id
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .ok_or_else(bad)?;
    let (left, right) = inner.split_once('@').ok_or_else(bad)?;
    if dot_atom(left) && dot_atom(right) {
        Ok(())
    } else {
        Err(bad())
    }
}

fn dot_atom(s: &str) -> bool {
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    !s.is_empty()
        && s.split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(atext))
}

/// A BCP 47 tag in its common shape: subtags of 1 to 8 letters or digits joined by `-`, the
/// first of 2 to 8 letters.
fn is_language_tag(s: &str) -> bool {
    let mut subtags = s.split('-');
    let first_ok = subtags
        .next()
        .is_some_and(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    first_ok
        && s.len() <= 35
        && subtags
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> OutgoingMail {
        OutgoingMail {
            from: "Ligne d'écoute <notices@helpline.example>".parse().unwrap(),
            to: vec!["abuse@platform.example".parse().unwrap()],
            reply_to: None,
            message_id: "<N-1.abc@helpline.example>".into(),
            subject: "Signalement N-1".into(),
            text: "Bonjour\n".into(),
            attachments: vec![],
            language: Some("fr".into()),
            date: None,
        }
    }

    #[test]
    fn control_characters_are_refused_in_one_line_fields() {
        for s in [
            "a\r\nBcc: x@y.example",
            "a\nb",
            "a\rb",
            "a\tb",
            "a\0b",
            "a\u{85}b",
            "a\u{2028}b",
        ] {
            let mut m = mail();
            m.subject = s.into();
            assert_eq!(
                render(&m).map(|_| ()),
                Err(MailError::input(Reason::InvalidSubject))
            );
            let mut m = mail();
            m.from.name = Some(s.into());
            assert_eq!(
                render(&m).map(|_| ()),
                Err(MailError::input(Reason::InvalidMailbox))
            );
        }
    }

    #[test]
    fn message_ids_must_be_angle_bracketed_dot_atoms() {
        for ok in ["<a@b>", "<N-2026-0042.0190a4c2@helpline.example>"] {
            assert!(check_message_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a@b",
            "<a>",
            "<@b>",
            "<a@>",
            "<a b@c>",
            "<a@b>\r\nX: y",
            "<a..b@c>",
            "<a@b@c>",
            "<a@b>>",
        ] {
            assert!(check_message_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn language_tags() {
        for ok in ["fr", "en", "en-GB", "pt-BR", "zh-Hant-TW"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "f", "fr_FR", "fr\r\n", "fr-", "fr-toolongsubtag", "1a"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn attachments_are_checked() {
        let att = |filename: &str, content_type: &str| Attachment {
            filename: filename.into(),
            content_type: content_type.into(),
            bytes: b"{}".to_vec(),
        };
        let cases = [
            (att("a.png", "image/png"), Reason::AttachmentTypeRefused),
            (att("a.mp4", "Video/MP4"), Reason::AttachmentTypeRefused),
            (
                att("a\".json", "application/json"),
                Reason::InvalidAttachment,
            ),
            (
                att("../a.json", "application/json"),
                Reason::InvalidAttachment,
            ),
            (
                att("a.json", "application/json\r\nX: y"),
                Reason::InvalidAttachment,
            ),
            (att("a.json", "not a type"), Reason::InvalidAttachment),
            (att("a.eml", "message/rfc822"), Reason::InvalidAttachment),
            (att("", "application/json"), Reason::InvalidAttachment),
        ];
        for (a, reason) in cases {
            let mut m = mail();
            m.attachments = vec![a];
            assert_eq!(render(&m).map(|_| ()), Err(MailError::input(reason)));
        }
    }

    #[test]
    fn the_message_id_is_set_exactly_and_the_envelope_follows_the_headers() {
        let r = render(&mail()).unwrap();
        let text = String::from_utf8_lossy(r.bytes());
        assert!(
            text.contains("\r\nMessage-ID: <N-1.abc@helpline.example>\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nContent-Language: fr\r\n"), "{text}");
        assert!(r.bytes().is_ascii());
        assert_eq!(r.envelope_from().to_string(), "notices@helpline.example");
        assert_eq!(r.envelope_to().len(), 1);
        let shown = format!("{r:?} {:?}", mail());
        assert!(
            !shown.contains("platform.example") && !shown.contains("Bonjour"),
            "{shown}"
        );
    }
}
