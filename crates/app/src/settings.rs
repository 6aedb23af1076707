//! One typed settings struct: defaults, then a TOML file, then `REMPART_*` environment
//! variables (e.g. `REMPART_DATABASE_URL`, `REMPART_LISTEN`). Passed explicitly.

use crate::secret::Secret;
use serde::Deserialize;

/// All settings. See `EXAMPLE` for each one's meaning.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub listen: String,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: Secret,
    /// The public base URL of the console (links in e-mails, cookie scope).
    pub public_url: String,
    /// Name of the helpline, shown on every page and as notifier in notices.
    pub helpline_name: String,
    /// Mark cookies `Secure` (HTTPS only). Off only for the local demo.
    pub secure_cookies: bool,
    /// Console session idle limit, minutes.
    pub session_idle_minutes: i64,
    /// Console session absolute limit, hours.
    pub session_absolute_hours: i64,
    /// Roles that must use a second factor.
    pub require_totp_roles: Vec<String>,
    /// Failed logins allowed before the account locks.
    pub lockout_free_attempts: i64,
    /// First lock duration, seconds; doubles at each further failure.
    pub lockout_base_seconds: i64,
    /// Longest lock, seconds.
    pub lockout_max_seconds: i64,
    /// Argon2id memory cost, KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id passes.
    pub argon2_iterations: u32,
    /// `text` or `json` logs.
    pub log_format: String,
    /// Key of the pseudonymous person hash (HMAC); keep it secret and stable.
    pub person_key_secret: Secret,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Sites allowed to embed the chat widget (origins, e.g. `https://www.helpline.example`).
    pub widget_allowed_origins: Vec<String>,
    /// How long a visitor's browser may resume a conversation after a reload, minutes.
    pub chat_resume_minutes: i64,
    /// Where the quick-exit button sends the visitor (a neutral https site).
    pub quick_exit_url: String,
    /// A TOML file with the helpline's opening hours, holidays and closures (empty: the
    /// built-in defaults, every day 9:00–23:00 in Europe/Paris).
    pub opening_hours_file: String,
    /// New chat sessions allowed per client address and minute (burst), and per day.
    pub chat_sessions_per_minute: u32,
    /// New chat sessions per client address and day.
    pub chat_sessions_per_day: u32,
    /// Messages a chat session may send in a burst; then one per second.
    pub chat_message_burst: u32,
    /// New chat sessions per minute on a node above which each new session must answer a
    /// proof-of-work challenge (0: never).
    pub chat_stress_sessions_per_minute: u32,
    /// Difficulty of that proof of work, in leading zero bits (each bit doubles the work).
    pub chat_pow_bits: u32,
    /// Failed or successful logins per client address and minute.
    pub logins_per_minute: u32,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// A client must send a request's headers within this many seconds of connecting or of
    /// its previous request (slow-headers attacks; idle keep-alive connections close).
    pub header_timeout_seconds: u64,
    /// Longest time to read a request's body and answer it, seconds (then 408).
    pub request_timeout_seconds: u64,
    /// Connections (WebSockets included) a node serves at once; more wait.
    pub max_connections: u32,
    /// A live WebSocket that sends nothing, not even the answer to the server's pings,
    /// for this many seconds is closed (a phone that lost its network).
    pub ws_idle_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            database_url: Secret::new("sqlite://rempart-data/rempart.db"),
            public_url: "http://127.0.0.1:8080".into(),
            helpline_name: "Rempart".into(),
            secure_cookies: true,
            session_idle_minutes: 15,
            session_absolute_hours: 10,
            require_totp_roles: vec!["supervisor".into(), "admin".into()],
            lockout_free_attempts: 5,
            lockout_base_seconds: 30,
            lockout_max_seconds: 3600,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            log_format: "text".into(),
            person_key_secret: Secret::default(),
            max_body_bytes: 256 * 1024,
            widget_allowed_origins: vec![],
            chat_resume_minutes: 30,
            quick_exit_url: "https://www.google.com/search?q=meteo".into(),
            opening_hours_file: String::new(),
            chat_sessions_per_minute: 10,
            chat_sessions_per_day: 100,
            chat_message_burst: 10,
            chat_stress_sessions_per_minute: 120,
            chat_pow_bits: 16,
            logins_per_minute: 20,
            trusted_proxies: vec![],
            header_timeout_seconds: 10,
            request_timeout_seconds: 30,
            max_connections: 20_000,
            ws_idle_seconds: 75,
        }
    }
}

/// A documented example configuration (`rempart config example`).
pub const EXAMPLE: &str = r#"# Rempart configuration. Every key is optional; the values shown are the defaults.
# Each key can also be set by an environment variable: REMPART_<KEY IN CAPITALS>,
# e.g. REMPART_DATABASE_URL=postgres://rempart@db/rempart.

# Address and port to listen on.
listen = "127.0.0.1:8080"
# Database: "sqlite://PATH" (embedded, one server) or "postgres://USER@HOST/DB" (several nodes).
database_url = "sqlite://rempart-data/rempart.db"
# Public base URL of the console.
public_url = "http://127.0.0.1:8080"
# Name of the helpline, shown on every page and used as the notifier in notices.
helpline_name = "Rempart"
# Mark cookies Secure (HTTPS only). Keep true in production behind TLS.
secure_cookies = true
# Console sessions end after this many idle minutes, and after this many hours in all.
session_idle_minutes = 15
session_absolute_hours = 10
# Roles that must use a second factor (TOTP) to reach the console.
require_totp_roles = ["supervisor", "admin"]
# Progressive lock-out: free failed attempts, first lock (seconds, doubling), longest lock.
lockout_free_attempts = 5
lockout_base_seconds = 30
lockout_max_seconds = 3600
# Argon2id cost for staff passwords.
argon2_memory_kib = 19456
argon2_iterations = 2
# "text" or "json" logs. Logs never carry message text, names, phone numbers or tokens.
log_format = "text"
# Secret key of the pseudonymous person hash; generate with `openssl rand -hex 32`.
person_key_secret = ""
# Largest request body accepted, bytes.
max_body_bytes = 262144
# Sites allowed to embed the chat widget in a frame, e.g. ["https://www.helpline.example"].
widget_allowed_origins = []
# A visitor's browser may resume its conversation after a reload for this many minutes.
chat_resume_minutes = 30
# Where the quick-exit button sends the visitor: a neutral https site.
quick_exit_url = "https://www.google.com/search?q=meteo"
# Opening hours, public holidays and closures as a TOML file (empty: every day 9:00-23:00,
# Europe/Paris). The format is documented in crates/domain/data/calendar.toml.
opening_hours_file = ""
# Anti-automation, per client address (per node): new chat sessions per minute and per
# day, a chat's message burst (then one per second), logins per minute.
chat_sessions_per_minute = 10
chat_sessions_per_day = 100
chat_message_burst = 10
logins_per_minute = 20
# Under a flood (more new chat sessions per minute on a node than this; 0: never), each new
# session must first answer a proof-of-work challenge, computed by the widget in about a
# second without any action of the young person; its difficulty in bits (at most 28).
chat_stress_sessions_per_minute = 120
chat_pow_bits = 16
# Reverse proxies whose X-Forwarded-For header gives the client address, e.g. ["127.0.0.1"].
trusted_proxies = []
# Slow clients: seconds to send a request's headers (also how long an idle keep-alive
# connection stays open), seconds to send a body and be answered, connections served at
# once (WebSockets included), seconds of silence after which a WebSocket is closed (the
# server pings every third of it).
header_timeout_seconds = 10
request_timeout_seconds = 30
max_connections = 20000
ws_idle_seconds = 75
"#;

/// Loading failed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    /// The file or an environment variable is invalid.
    #[error("invalid settings: {0}")]
    Invalid(String),
}

impl Settings {
    /// Defaults, then `file` (if any), then the `REMPART_*` variables of `env`.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut table = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| SettingsError::Read(p.display().to_string(), e))?;
                text.parse::<toml::Table>()
                    .map_err(|e| SettingsError::Invalid(e.to_string()))?
            }
            None => toml::Table::new(),
        };
        let defaults: toml::Table = EXAMPLE
            .parse()
            .map_err(|e: toml::de::Error| SettingsError::Invalid(e.to_string()))?;
        for (k, v) in env {
            let Some(key) = k.strip_prefix("REMPART_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            let Some(model) = defaults.get(&key) else {
                continue;
            };
            let value = match model {
                toml::Value::Boolean(_) => {
                    toml::Value::Boolean(matches!(v.as_str(), "1" | "true" | "yes"))
                }
                toml::Value::Integer(_) => toml::Value::Integer(v.parse().map_err(|_| {
                    SettingsError::Invalid(format!("REMPART_{}: not a number", key.to_uppercase()))
                })?),
                toml::Value::Array(_) => toml::Value::Array(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| toml::Value::String(s.into()))
                        .collect(),
                ),
                _ => toml::Value::String(v),
            };
            table.insert(key, value);
        }
        let s: Settings = table
            .try_into()
            .map_err(|e: toml::de::Error| SettingsError::Invalid(e.to_string()))?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), SettingsError> {
        let bad = |m: &str| Err(SettingsError::Invalid(m.into()));
        if self.session_idle_minutes < 1 || self.session_absolute_hours < 1 {
            return bad("session limits must be positive");
        }
        if self.argon2_memory_kib < 8 || self.argon2_iterations < 1 {
            return bad("argon2 cost too low");
        }
        if self.header_timeout_seconds < 1
            || self.request_timeout_seconds < 1
            || self.max_connections < 1
            || self.ws_idle_seconds < 1
        {
            return bad("timeouts and max_connections must be positive");
        }
        if self.chat_pow_bits > 28 {
            return bad("chat_pow_bits must be at most 28");
        }
        if !self.quick_exit_url.starts_with("https://") {
            return bad("quick_exit_url must be an https URL");
        }
        for o in &self.widget_allowed_origins {
            let host = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"));
            let ok = host.is_some_and(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            });
            if !ok {
                return bad("widget_allowed_origins must be origins like https://www.example.org");
            }
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return bad("log_format must be text or json");
        }
        for r in &self.require_totp_roles {
            if rempart_domain::policy::Role::parse(r).is_err() {
                return bad("require_totp_roles names an unknown role");
            }
        }
        Ok(())
    }

    /// Whether `role` must use a second factor.
    pub fn totp_required(&self, role: rempart_domain::policy::Role) -> bool {
        self.require_totp_roles.iter().any(|r| r == role.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_equals_defaults() {
        let s = Settings::load(None, std::iter::empty()).unwrap();
        assert_eq!(s, Settings::default());
        let parsed: Settings = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn env_overrides_file() {
        let dir = std::env::temp_dir().join(format!("rempart-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, "listen = \"0.0.0.0:9\"\nsecure_cookies = false\n").unwrap();
        let env = vec![
            ("REMPART_LISTEN".to_string(), "127.0.0.1:7".to_string()),
            ("REMPART_REQUIRE_TOTP_ROLES".into(), "admin".into()),
            ("OTHER".into(), "x".into()),
        ];
        let s = Settings::load(Some(&f), env.into_iter()).unwrap();
        assert_eq!(s.listen, "127.0.0.1:7");
        assert!(!s.secure_cookies);
        assert_eq!(s.require_totp_roles, vec!["admin"]);
        std::fs::write(&f, "widget_allowed_origins = [\"https://ok.example\", \"https://evil.example/path; script-src *\"]\n").unwrap();
        assert!(
            Settings::load(Some(&f), std::iter::empty()).is_err(),
            "an origin cannot smuggle CSP"
        );
        std::fs::write(&f, "no_such_key = 1\n").unwrap();
        assert!(Settings::load(Some(&f), std::iter::empty()).is_err());
        let env = vec![(
            "REMPART_SESSION_IDLE_MINUTES".to_string(),
            "abc".to_string(),
        )];
        assert!(Settings::load(None, env.into_iter()).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
