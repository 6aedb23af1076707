//! The parsed value types of the settings: each checks its value once, when read.

use super::*;

/// A language of the screens.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// French.
    Fr,
    /// English.
    En,
}

impl Language {
    /// The code (`fr`, `en`).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }
}

/// `text` or `json` logs.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A role name in the settings.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct RoleName(pub Role);

impl TryFrom<String> for RoleName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Role::parse(&s)
            .map(RoleName)
            .map_err(|_| format!("unknown role `{s}`"))
    }
}

/// An origin (`https://host[:port]`): scheme, host and port only, so it can go into a
/// `frame-ancestors` directive and be compared with an `Origin` header.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct Origin(String);

impl Origin {
    /// The origin as written (lower case).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Origin {
    type Error = String;
    fn try_from(o: String) -> Result<Self, String> {
        let host = o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"));
        let ok = host.is_some_and(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
        if ok {
            Ok(Origin(o.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{o}`: allowed origins look like https://www.example.org"
            ))
        }
    }
}

/// The console's public base URL (`http(s)://host[:port]`, no path).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct PublicUrl(String);

impl Default for PublicUrl {
    fn default() -> Self {
        PublicUrl("http://127.0.0.1:8080".into())
    }
}

impl PublicUrl {
    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The host name (without the port), e.g. for the passkeys' relying party.
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map(|(_, r)| r).unwrap_or(&self.0);
        if let Some(v6) = rest.strip_prefix('[') {
            return v6.split(']').next().unwrap_or("");
        }
        rest.split(':').next().unwrap_or("")
    }
    /// From a listening address (the demo).
    pub fn for_listen(addr: SocketAddr) -> PublicUrl {
        if addr.ip().is_loopback() {
            // `localhost`, not the IP: passkeys need a host name
            PublicUrl(format!("http://localhost:{}", addr.port()))
        } else {
            PublicUrl(format!("http://{addr}"))
        }
    }
}

impl TryFrom<String> for PublicUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim_end_matches('/').to_owned();
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        match rest {
            Some(r)
                if !r.is_empty()
                    && r.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)) =>
            {
                Ok(PublicUrl(s.to_ascii_lowercase()))
            }
            _ => Err(format!(
                "public_url `{s}` must be http(s)://host[:port] without a path"
            )),
        }
    }
}

/// An https URL (the quick exit's neutral site).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct HttpsUrl(pub(super) String);

impl HttpsUrl {
    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HttpsUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.starts_with("https://")
            && s.len() > 8
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"')
        {
            Ok(HttpsUrl(s))
        } else {
            Err(format!("`{s}` must be an https URL"))
        }
    }
}
