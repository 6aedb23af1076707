//! How to reach the SMTP server.

use std::fmt;
use std::time::Duration;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// STARTTLS when the server offers it, otherwise in clear. A server that offers STARTTLS and
    /// then fails the handshake is an error: there is no fallback to clear text (a fallback would
    /// let anyone on the path force it by breaking the handshake).
    Opportunistic,
    /// STARTTLS or fail: a server that does not offer it gets nothing.
    Required,
    /// Implicit TLS from the first byte (SMTPS, usually port 465).
    Wrapper,
    /// Clear text only, even when the server offers STARTTLS. For a relay on the same host.
    None,
}

/// A password that never prints: `Debug` shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a value.
    pub fn new(s: impl Into<String>) -> Self {
        Password(s.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The SMTP server notices are sent through.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Host name (or IP address) to connect to; also the name the server's certificate must carry.
    pub host: String,
    /// Port: 587 (submission, STARTTLS), 465 (implicit TLS) or 25.
    pub port: u16,
    /// How the connection is protected.
    pub tls: TlsMode,
    /// User name and password for AUTH (PLAIN or LOGIN). Only ever sent over TLS.
    pub credentials: Option<(String, Password)>,
    /// Bounds one whole exchange, from the TCP connection to the server's answer to the message.
    pub timeout: Duration,
    /// One or more PEM certificates trusted as roots besides Mozilla's (a local CA).
    pub extra_root_pem: Option<Vec<u8>>,
    /// The name given in EHLO; `[127.0.0.1]` when absent.
    pub hello_name: Option<String>,
}

impl SmtpConfig {
    /// A configuration with STARTTLS required, no credentials, a 60 s timeout.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        SmtpConfig {
            host: host.into(),
            port,
            tls: TlsMode::Required,
            credentials: None,
            timeout: Duration::from_secs(60),
            extra_root_pem: None,
            hello_name: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let mut c = SmtpConfig::new("smtp.example", 587);
        c.credentials = Some(("user".into(), Password::new("hunter2")));
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
