//! Why a mail was not sent, and whether trying again later can help.
//!
//! An error never carries message text, names, addresses or the server's reply text (which
//! often repeats an address): only a class, a stable reason code, the step of the exchange and
//! the SMTP reply codes.

use std::fmt;

/// Whether sending the same mail again later can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again later (with a backoff): the network, a timeout, an SMTP 4xx reply.
    Transient,
    /// Trying again will fail the same way: bad input or configuration, an SMTP 5xx reply, a
    /// server without the required TLS or with a certificate we do not trust.
    Permanent,
}

impl ErrorClass {
    /// `transient` or `permanent`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// The step of the exchange that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Building the message or the configuration: nothing was sent, no connection was made.
    Render,
    /// TCP connection, implicit TLS, the greeting and EHLO.
    Connect,
    /// STARTTLS and the handshake that follows it.
    Starttls,
    /// AUTH.
    Auth,
    /// MAIL FROM.
    MailFrom,
    /// RCPT TO.
    RcptTo,
    /// The DATA command.
    Data,
    /// The message bytes and the server's answer to them.
    Message,
}

impl Stage {
    /// A stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Render => "render",
            Stage::Connect => "connect",
            Stage::Starttls => "starttls",
            Stage::Auth => "auth",
            Stage::MailFrom => "mail_from",
            Stage::RcptTo => "rcpt_to",
            Stage::Data => "data",
            Stage::Message => "message",
        }
    }
}

/// What went wrong, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The subject holds a control character (CR, LF…).
    InvalidSubject,
    /// A display name holds a control character.
    InvalidMailbox,
    /// No recipient.
    NoRecipient,
    /// The Message-ID is not `<left@right>` in printable ASCII.
    InvalidMessageId,
    /// The Content-Language is not a language tag.
    InvalidLanguage,
    /// An attachment's file name or content type is unusable.
    InvalidAttachment,
    /// Images and videos are never attached to a notice.
    AttachmentTypeRefused,
    /// Stored bytes are not a mail with From, To and Message-ID headers.
    InvalidMessage,
    /// The configuration is unusable (a bad CA certificate, host name or EHLO name, credentials
    /// with [`TlsMode::None`](crate::TlsMode::None)).
    InvalidConfig,
    /// Nobody listens on the port.
    ConnectionRefused,
    /// The connection could not be made (name resolution, unreachable network…).
    ConnectFailed,
    /// The exchange took longer than the configured timeout.
    Timeout,
    /// The connection was reset or closed by the server.
    ConnectionLost,
    /// The server's answer could not be understood.
    Protocol,
    /// The TLS handshake failed for a reason other than the certificate.
    TlsHandshake,
    /// The server's certificate is not trusted (unknown CA, wrong name, expired).
    TlsCertificate,
    /// STARTTLS is required and the server does not offer it.
    StarttlsUnavailable,
    /// The server offers no AUTH mechanism we speak (PLAIN, LOGIN).
    AuthUnsupported,
    /// Credentials are configured but the connection is not encrypted: they were not sent.
    AuthWithoutTls,
    /// An address needs SMTPUTF8 and the server does not offer it.
    SmtpUtf8Unsupported,
    /// The message is not 7-bit and the server does not offer 8BITMIME.
    EightBitUnsupported,
    /// The server answered with an SMTP error reply (see [`MailError::smtp_code`]).
    SmtpReply,
    /// The SMTP client refused to go on for another reason.
    Client,
}

impl Reason {
    /// A stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::InvalidSubject => "invalid_subject",
            Reason::InvalidMailbox => "invalid_mailbox",
            Reason::NoRecipient => "no_recipient",
            Reason::InvalidMessageId => "invalid_message_id",
            Reason::InvalidLanguage => "invalid_language",
            Reason::InvalidAttachment => "invalid_attachment",
            Reason::AttachmentTypeRefused => "attachment_type_refused",
            Reason::InvalidMessage => "invalid_message",
            Reason::InvalidConfig => "invalid_config",
            Reason::ConnectionRefused => "connection_refused",
            Reason::ConnectFailed => "connect_failed",
            Reason::Timeout => "timeout",
            Reason::ConnectionLost => "connection_lost",
            Reason::Protocol => "protocol",
            Reason::TlsHandshake => "tls_handshake",
            Reason::TlsCertificate => "tls_certificate",
            Reason::StarttlsUnavailable => "starttls_unavailable",
            Reason::AuthUnsupported => "auth_unsupported",
            Reason::AuthWithoutTls => "auth_without_tls",
            Reason::SmtpUtf8Unsupported => "smtputf8_unsupported",
            Reason::EightBitUnsupported => "8bitmime_unsupported",
            Reason::SmtpReply => "smtp_reply",
            Reason::Client => "client",
        }
    }
}

/// A mail that was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailError {
    class: ErrorClass,
    reason: Reason,
    stage: Stage,
    smtp_code: Option<u16>,
    enhanced_code: Option<String>,
}

impl MailError {
    pub(crate) fn new(class: ErrorClass, reason: Reason, stage: Stage) -> Self {
        MailError {
            class,
            reason,
            stage,
            smtp_code: None,
            enhanced_code: None,
        }
    }

    pub(crate) fn input(reason: Reason) -> Self {
        Self::new(ErrorClass::Permanent, reason, Stage::Render)
    }

    /// An SMTP error reply: 4xx is transient, anything else permanent. `text` is the reply's
    /// text, read only for its enhanced status code (RFC 3463) and never kept.
    pub(crate) fn reply(code: u16, text: &str, stage: Stage) -> Self {
        let class = if (400..500).contains(&code) {
            ErrorClass::Transient
        } else {
            ErrorClass::Permanent
        };
        MailError {
            class,
            reason: Reason::SmtpReply,
            stage,
            smtp_code: Some(code),
            enhanced_code: enhanced_code(text),
        }
    }

    /// Transient or permanent.
    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// Whether trying again later can help.
    pub fn is_transient(&self) -> bool {
        self.class == ErrorClass::Transient
    }

    /// What went wrong.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The step that failed.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The server's reply code (e.g. 451, 550), for [`Reason::SmtpReply`].
    pub fn smtp_code(&self) -> Option<u16> {
        self.smtp_code
    }

    /// The enhanced status code of the server's reply (e.g. `5.1.1`), when it gave one.
    pub fn enhanced_code(&self) -> Option<&str> {
        self.enhanced_code.as_deref()
    }

    /// The whole message had left when the connection failed, so the server may have accepted
    /// it without us hearing so: sending again may deliver it twice (with the same Message-ID,
    /// which lets the recipient see the duplicate).
    pub fn maybe_delivered(&self) -> bool {
        self.stage == Stage::Message && self.smtp_code.is_none()
    }
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mail not sent ({}): {} at {}",
            self.class.code(),
            self.reason.code(),
            self.stage.code()
        )?;
        if let Some(code) = self.smtp_code {
            write!(f, ", smtp {code}")?;
            if let Some(e) = &self.enhanced_code {
                write!(f, " {e}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for MailError {}

/// The enhanced status code that starts a reply's text (`5.1.1 <x@y>: unknown` gives `5.1.1`),
/// if it is well formed: class 2, 4 or 5, subject up to 3 digits, detail up to 3 digits.
fn enhanced_code(text: &str) -> Option<String> {
    let first = text.split_whitespace().next()?;
    let mut parts = first.split('.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    let ok = parts.next().is_none()
        && matches!(class, "2" | "4" | "5")
        && digits(subject, 3)
        && digits(detail, 3);
    ok.then(|| first.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes_are_read_and_nothing_else() {
        assert_eq!(
            enhanced_code("5.1.1 <a@b.example>: unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(enhanced_code("4.3.0 try later").as_deref(), Some("4.3.0"));
        assert_eq!(enhanced_code("<a@b.example> unknown"), None);
        assert_eq!(enhanced_code("5.1 x"), None);
        assert_eq!(enhanced_code("5.1.1.1 x"), None);
        assert_eq!(enhanced_code("7.1.1 x"), None);
        assert_eq!(enhanced_code(""), None);
    }

    #[test]
    fn classes_follow_the_reply_code() {
        assert!(MailError::reply(451, "4.3.0 later", Stage::Data).is_transient());
        assert!(!MailError::reply(550, "5.7.1 no", Stage::RcptTo).is_transient());
        let e = MailError::reply(550, "5.1.1 <victim@x.example> unknown", Stage::RcptTo);
        assert_eq!(
            e.to_string(),
            "mail not sent (permanent): smtp_reply at rcpt_to, smtp 550 5.1.1"
        );
    }
}
