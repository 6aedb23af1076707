//! One SMTP exchange per mail: connect, STARTTLS as configured, AUTH, MAIL, RCPT, DATA, the
//! rendered bytes, QUIT.

use crate::config::{SmtpConfig, TlsMode};
use crate::error::{ErrorClass, MailError, Reason, Stage};
use crate::message::{OutgoingMail, Rendered, render};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, Certificate, CertificateStore, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use std::error::Error as _;
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

/// How long to wait for the answer to QUIT once the message is accepted (its outcome does not
/// matter: the mail is sent).
const QUIT_WAIT: Duration = Duration::from_secs(2);

/// A mail the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The Message-ID header's value.
    pub message_id: String,
    /// The last line of the server's answer to the message, with its code, e.g.
    /// `250 2.0.0 Ok: queued as 4F2A1C0B`: it usually carries the server's queue id.
    pub reply: String,
    /// Whether the connection was encrypted (TLS) when the message left.
    pub encrypted: bool,
}

/// Sends mails through one SMTP server, one connection per mail.
#[derive(Clone)]
pub struct Mailer {
    config: SmtpConfig,
    tls: Option<TlsParameters>,
    hello: ClientId,
    credentials: Option<Credentials>,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the configuration (CA certificate, names; credentials need TLS) and builds the
    /// TLS settings once.
    pub fn new(config: SmtpConfig) -> Result<Self, MailError> {
        let bad = || MailError::input(Reason::InvalidConfig);
        if config.credentials.is_some() && config.tls == TlsMode::None {
            return Err(bad());
        }
        let tls = match config.tls {
            TlsMode::None => None,
            _ => {
                let mut b = TlsParameters::builder(config.host.clone())
                    .certificate_store(CertificateStore::WebpkiRoots);
                if let Some(pem) = &config.extra_root_pem {
                    // a file without any certificate would silently trust nothing more
                    let marker = b"-----BEGIN CERTIFICATE-----";
                    if !pem.windows(marker.len()).any(|w| w == marker) {
                        return Err(bad());
                    }
                    b = b.add_root_certificate(Certificate::from_pem(pem).map_err(|_| bad())?);
                }
                Some(b.build_rustls().map_err(|_| bad())?)
            }
        };
        let hello = match config.hello_name.as_deref() {
            None => ClientId::default(),
            Some(name) => match name.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => ClientId::Ipv4(ip),
                Ok(IpAddr::V6(ip)) => ClientId::Ipv6(ip),
                Err(_) if is_host_name(name) => ClientId::Domain(name.to_owned()),
                Err(_) => return Err(bad()),
            },
        };
        let credentials = config
            .credentials
            .as_ref()
            .map(|(user, password)| Credentials::new(user.clone(), password.expose().to_owned()));
        Ok(Mailer {
            config,
            tls,
            hello,
            credentials,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }

    /// Renders a mail (see [`render`]); the same as the free function, for callers that hold
    /// a mailer.
    pub fn render(&self, mail: &OutgoingMail) -> Result<Rendered, MailError> {
        render(mail)
    }

    /// Renders and sends a mail. To keep the exact bytes, render first and use
    /// [`Mailer::send_rendered`].
    pub async fn send(&self, mail: &OutgoingMail) -> Result<Sent, MailError> {
        let rendered = render(mail)?;
        self.send_rendered(&rendered).await
    }

    /// Sends rendered bytes, unchanged. The whole exchange, up to the server's answer to the
    /// message, is bounded by the configured timeout.
    pub async fn send_rendered(&self, mail: &Rendered) -> Result<Sent, MailError> {
        let mut stage = Stage::Connect;
        let outcome =
            tokio::time::timeout(self.config.timeout, self.exchange(mail, &mut stage)).await;
        match outcome {
            Err(_elapsed) => Err(MailError::new(
                ErrorClass::Transient,
                Reason::Timeout,
                stage,
            )),
            Ok(Err(e)) => Err(e),
            Ok(Ok((sent, mut conn))) => {
                let _ = tokio::time::timeout(QUIT_WAIT.min(self.config.timeout), conn.quit()).await;
                Ok(sent)
            }
        }
    }

    async fn exchange(
        &self,
        mail: &Rendered,
        stage: &mut Stage,
    ) -> Result<(Sent, AsyncSmtpConnection), MailError> {
        *stage = Stage::Connect;
        let implicit = match self.config.tls {
            TlsMode::Wrapper => self.tls.clone(),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.config.host.as_str(), self.config.port),
            Some(self.config.timeout),
            &self.hello,
            implicit,
            None,
        )
        .await
        .map_err(|e| classify(&e, Stage::Connect))?;

        if let (TlsMode::Opportunistic | TlsMode::Required, Some(tls)) =
            (self.config.tls, &self.tls)
        {
            *stage = Stage::Starttls;
            if conn.server_info().supports_feature(Extension::StartTls) {
                conn.starttls(tls.clone(), &self.hello)
                    .await
                    .map_err(|e| classify(&e, Stage::Starttls))?;
            } else if self.config.tls == TlsMode::Required {
                conn.abort().await;
                return Err(permanent(Reason::StarttlsUnavailable, Stage::Starttls));
            }
        }

        if let Some(credentials) = &self.credentials {
            *stage = Stage::Auth;
            if !conn.is_encrypted() {
                conn.abort().await;
                return Err(permanent(Reason::AuthWithoutTls, Stage::Auth));
            }
            let r = conn
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await;
            check(&mut conn, r, Stage::Auth).await?;
        }

        *stage = Stage::MailFrom;
        let mut parameters = Vec::new();
        if mail.has_non_ascii_addresses() {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                conn.abort().await;
                return Err(permanent(Reason::SmtpUtf8Unsupported, Stage::MailFrom));
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        if !mail.bytes().is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                conn.abort().await;
                return Err(permanent(Reason::EightBitUnsupported, Stage::MailFrom));
            }
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let r = conn
            .command(Mail::new(Some(mail.envelope_from().clone()), parameters))
            .await;
        check(&mut conn, r, Stage::MailFrom).await?;

        *stage = Stage::RcptTo;
        for to in mail.envelope_to() {
            let r = conn.command(Rcpt::new(to.clone(), Vec::new())).await;
            check(&mut conn, r, Stage::RcptTo).await?;
        }

        *stage = Stage::Data;
        let r = conn.command(Data).await;
        check(&mut conn, r, Stage::Data).await?;

        *stage = Stage::Message;
        // The end of data is CRLF "." CRLF, whose first CRLF ends the last line: sent without
        // its own final CRLF, the message arrives as exactly the rendered bytes.
        let bytes = mail.bytes();
        let r = conn
            .message(bytes.strip_suffix(b"\r\n").unwrap_or(bytes))
            .await;
        let response = check(&mut conn, r, Stage::Message).await?;
        let sent = Sent {
            message_id: mail.message_id().to_owned(),
            reply: reply_line(&response),
            encrypted: conn.is_encrypted(),
        };
        Ok((sent, conn))
    }
}

/// Passes a response on; on an error, closes the connection (QUIT if it still works) first.
async fn check(
    conn: &mut AsyncSmtpConnection,
    r: Result<Response, lettre::transport::smtp::Error>,
    stage: Stage,
) -> Result<Response, MailError> {
    match r {
        Ok(response) => Ok(response),
        Err(e) => {
            conn.abort().await;
            Err(classify(&e, stage))
        }
    }
}

fn permanent(reason: Reason, stage: Stage) -> MailError {
    MailError::new(ErrorClass::Permanent, reason, stage)
}

fn transient(reason: Reason, stage: Stage) -> MailError {
    MailError::new(ErrorClass::Transient, reason, stage)
}

fn reply_line(r: &Response) -> String {
    match r.message().last() {
        Some(line) => format!("{} {}", r.code(), line),
        None => r.code().to_string(),
    }
}

/// Sorts lettre's error into transient or permanent with a reason; reads the server's reply
/// text only for its enhanced status code.
fn classify(e: &lettre::transport::smtp::Error, stage: Stage) -> MailError {
    if let Some(code) = e.status() {
        let number = code.to_string().parse::<u16>().unwrap_or(0);
        let text = e.source().map(|s| s.to_string()).unwrap_or_default();
        return MailError::reply(number, &text, stage);
    }
    if e.is_timeout() {
        return transient(Reason::Timeout, stage);
    }
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return tls_error(tls, stage);
        }
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return tls_error(tls, stage);
            }
            return io_error(io.kind(), stage);
        }
        source = err.source();
    }
    if e.is_response() {
        // lettre's words for a connection the server closed before answering
        let closed = e
            .source()
            .is_some_and(|s| s.to_string() == "incomplete response");
        let reason = if closed {
            Reason::ConnectionLost
        } else {
            Reason::Protocol
        };
        return transient(reason, stage);
    }
    if e.is_tls() {
        return transient(Reason::TlsHandshake, stage);
    }
    if e.is_client() {
        let reason = if stage == Stage::Auth {
            Reason::AuthUnsupported
        } else {
            Reason::Client
        };
        return permanent(reason, stage);
    }
    // a connection error without an I/O cause: the host is not a name TLS can check
    if stage == Stage::Connect || stage == Stage::Starttls {
        return permanent(Reason::InvalidConfig, stage);
    }
    transient(Reason::ConnectionLost, stage)
}

/// A certificate we do not trust stays untrusted until someone changes the server or our
/// configuration: permanent. Any other handshake failure (an alert, a reset) may pass.
fn tls_error(e: &rustls::Error, stage: Stage) -> MailError {
    match e {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::UnsupportedNameType => permanent(Reason::TlsCertificate, stage),
        _ => transient(Reason::TlsHandshake, stage),
    }
}

fn io_error(kind: io::ErrorKind, stage: Stage) -> MailError {
    let reason = match kind {
        io::ErrorKind::ConnectionRefused => Reason::ConnectionRefused,
        io::ErrorKind::TimedOut => Reason::Timeout,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::NotConnected => Reason::ConnectionLost,
        _ if stage == Stage::Connect => Reason::ConnectFailed,
        _ => Reason::ConnectionLost,
    };
    transient(reason, stage)
}

/// Letters, digits, `-` and `.`, as EHLO takes it.
fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
