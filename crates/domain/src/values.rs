//! Value types of the journey: parse, don't validate.

use crate::labelled_enum;
use std::fmt;

labelled_enum!(
    /// How a contact reached the helpline.
    Channel "channel" {
        WebChat => "web_chat";
        WhatsApp => "whatsapp";
        Messenger => "messenger";
        Phone => "phone";
        Email => "email";
        Letter => "letter";
        WalkIn => "walk_in";
    }
);

labelled_enum!(
    /// Who is calling.
    CallerType "caller-type" {
        Victim => "victim";
        Parent => "parent";
        Relative => "relative";
        Professional => "professional";
        Other => "other";
        Unknown => "unknown";
    }
);

labelled_enum!(
    /// The victim's age band (never a date of birth).
    AgeBand "age-band" {
        Under11 => "under_11";
        From11To14 => "11_14";
        From15To17 => "15_17";
        Adult => "adult";
        Unknown => "unknown";
    }
);

impl AgeBand {
    /// Whether the victim is (or may be) a minor: decides the sexual-image rules.
    pub fn may_be_minor(self) -> bool {
        !matches!(self, AgeBand::Adult)
    }
}

labelled_enum!(
    /// How a contact ended.
    ContactOutcome "contact-outcome" {
        Listened => "listened";
        CaseOpened => "case_opened";
        Referred => "referred";
        Information => "information";
        Silent => "silent";
        Hoax => "hoax";
    }
);

/// A text was empty, too long or contained forbidden characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty after trimming.
    #[error("empty")]
    Empty,
    /// Longer than the limit (in characters).
    #[error("too long")]
    TooLong,
}

/// Free text typed by staff or a caller, bounded and cleaned: C0/C1 control characters
/// other than newline and tab are dropped, CRLF becomes LF, surrounding space is trimmed.
/// It is stored as typed and always rendered as text (never as HTML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    /// Parses text of at most `max_chars` characters.
    pub fn parse(s: &str, max_chars: usize) -> Result<Self, TextError> {
        let cleaned: String = s
            .replace("\r\n", "\n")
            .chars()
            .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
            .collect();
        let trimmed = cleaned.trim();
        if trimmed.is_empty() {
            return Err(TextError::Empty);
        }
        if trimmed.chars().count() > max_chars {
            return Err(TextError::TooLong);
        }
        Ok(Text(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes into the string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A staff e-mail address (lower-cased; a pragmatic check, the mailbox is the proof).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The text is not an e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid e-mail address")]
pub struct InvalidEmail;

impl Email {
    /// Parses an address like `name@example.org`.
    pub fn parse(s: &str) -> Result<Self, InvalidEmail> {
        let s = s.trim().to_lowercase();
        let (local, domain) = s.split_once('@').ok_or(InvalidEmail)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.len() >= 3
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "@._+-".contains(c))
            && s.matches('@').count() == 1;
        if ok { Ok(Email(s)) } else { Err(InvalidEmail) }
    }
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A case's reference shown to staff, e.g. `D26-7KQ4X`: "D", two digits of the year,
/// a dash and five Crockford base-32 characters (no I, L, O, U: easy to read aloud).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseReference(String);

/// The text is not a case reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid case reference")]
pub struct InvalidReference;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl CaseReference {
    /// Builds the reference for `year` from 25 random bits.
    pub fn generate(year: i32, random: u32) -> Self {
        let mut s = format!("D{:02}-", year.rem_euclid(100));
        for i in (0..5).rev() {
            let idx = ((random >> (i * 5)) & 31) as usize;
            s.push(char::from(CROCKFORD[idx]));
        }
        CaseReference(s)
    }

    /// Parses a reference (case-insensitive; O→0, I/L→1 as Crockford allows).
    pub fn parse(s: &str) -> Result<Self, InvalidReference> {
        let up = s.trim().to_ascii_uppercase();
        let b = up.as_bytes();
        if b.len() != 9 || b[0] != b'D' || b[3] != b'-' {
            return Err(InvalidReference);
        }
        if !b[1].is_ascii_digit() || !b[2].is_ascii_digit() {
            return Err(InvalidReference);
        }
        let mut out = String::with_capacity(9);
        out.push_str(&up[..4]);
        for c in up[4..].chars() {
            let c = match c {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !CROCKFORD.contains(&(c as u8)) || !c.is_ascii() {
                return Err(InvalidReference);
            }
            out.push(c);
        }
        Ok(CaseReference(out))
    }

    /// The reference.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The exact location of an item: an absolute `http`/`https` URL without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemUrl(String);

/// Why a URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUrl {
    /// Not a URL at all.
    #[error("not a URL")]
    Malformed,
    /// Not http or https (javascript:, data:, file:…).
    #[error("scheme not allowed")]
    Scheme,
    /// Contains a user name or password.
    #[error("credentials in URL")]
    Credentials,
    /// Longer than 2048 bytes.
    #[error("URL too long")]
    TooLong,
}

impl ItemUrl {
    /// Parses and normalises (IDN hosts become punycode, so homoglyphs are visible).
    pub fn parse(s: &str) -> Result<Self, InvalidUrl> {
        let s = s.trim();
        if s.len() > 2048 {
            return Err(InvalidUrl::TooLong);
        }
        let u = url::Url::parse(s).map_err(|_| InvalidUrl::Malformed)?;
        if u.scheme() != "http" && u.scheme() != "https" {
            return Err(InvalidUrl::Scheme);
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(InvalidUrl::Credentials);
        }
        if u.host_str().is_none_or(str::is_empty) {
            return Err(InvalidUrl::Malformed);
        }
        Ok(ItemUrl(u.to_string()))
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host, for display next to the URL.
    pub fn host(&self) -> String {
        url::Url::parse(&self.0)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A pseudonymous person key: the hex HMAC-SHA-256 of a phone number, platform id or
/// widget token under the helpline's secret. The clear value is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonKey(String);

/// The text is not a person key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid person key")]
pub struct InvalidPersonKey;

impl PersonKey {
    /// Parses 64 lower-case hex characters.
    pub fn parse(s: &str) -> Result<Self, InvalidPersonKey> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(PersonKey(s.to_owned()))
        } else {
            Err(InvalidPersonKey)
        }
    }
    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cleaned_and_bounded() {
        assert_eq!(
            Text::parse("  a\u{0}b\r\nc\u{1b}[31m ", 10)
                .unwrap()
                .as_str(),
            "ab\nc[31m"
        );
        assert_eq!(Text::parse(" \n ", 10), Err(TextError::Empty));
        assert_eq!(Text::parse("ééééé", 4), Err(TextError::TooLong));
        assert!(Text::parse("<script>alert(1)</script>", 100).is_ok());
    }

    #[test]
    fn references_round_trip() {
        let r = CaseReference::generate(2026, 0x1ff_ffff);
        assert_eq!(r.as_str(), "D26-ZZZZZ");
        assert_eq!(CaseReference::parse("d26-zzzzz").unwrap(), r);
        assert_eq!(
            CaseReference::parse("D26-0OIL1").unwrap().as_str(),
            "D26-00111"
        );
        assert!(CaseReference::parse("D26-ZZZZU").is_err());
        assert!(CaseReference::parse("X26-ZZZZZ").is_err());
        assert!(CaseReference::parse("D26-ZZZZÉ").is_err());
    }

    #[test]
    fn urls_are_checked() {
        assert!(ItemUrl::parse("https://www.instagram.com/p/Cx12/").is_ok());
        assert_eq!(
            ItemUrl::parse("javascript:alert(1)"),
            Err(InvalidUrl::Scheme)
        );
        assert_eq!(ItemUrl::parse("data:text/html,x"), Err(InvalidUrl::Scheme));
        assert_eq!(
            ItemUrl::parse("https://u:p@evil.example/"),
            Err(InvalidUrl::Credentials)
        );
        assert_eq!(ItemUrl::parse("not a url"), Err(InvalidUrl::Malformed));
        let idn = ItemUrl::parse("https://іnstagram.com/x").unwrap();
        assert!(
            idn.host().starts_with("xn--"),
            "homoglyph host shown as punycode"
        );
    }

    #[test]
    fn emails_and_enums() {
        assert_eq!(
            Email::parse(" Ana@Example.ORG ").unwrap().as_str(),
            "ana@example.org"
        );
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a\"@b.org").is_err());
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Ok(*c));
        }
        assert!(AgeBand::parse("{\"$ne\":null}").is_err());
    }
}
