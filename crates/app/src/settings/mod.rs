//! The settings, in sections, each value parsed once into its type: defaults, then a TOML
//! file, then `REMPART_<SECTION>_<KEY>` environment variables (e.g.
//! `REMPART_DATABASE_URL`, `REMPART_SERVER_LISTEN`). Passed explicitly, never a global.
//! Secrets are [`Secret`]s: they never print.

use crate::secret::Secret;
use rempart_domain::policy::Role;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// All settings. See [`EXAMPLE`] for each one's meaning and default.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The HTTP server.
    pub server: ServerSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// The helpline itself.
    pub helpline: HelplineSettings,
    /// Staff authentication.
    pub security: SecuritySettings,
    /// The chat widget and its limits.
    pub widget: WidgetSettings,
    /// Delivering notices to platforms.
    pub delivery: DeliverySettings,
    /// The SMTP server notices sent by e-mail leave through.
    pub smtp: SmtpSettings,
    /// Where evidence files are kept, and their limits.
    pub evidence: EvidenceSettings,
    /// The master secret.
    pub secrets: SecretSettings,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The public base URL of the console (links in invitations, passkeys' origin).
    pub public_url: PublicUrl,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Seconds to send a request's headers (also the idle keep-alive time).
    pub header_timeout_seconds: u64,
    /// Seconds to send a body and be answered (then 408).
    pub request_timeout_seconds: u64,
    /// Connections (WebSockets included) served at once.
    pub max_connections: u32,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Log format.
    pub log_format: LogFormat,
    /// A WebSocket silent for this many seconds is closed.
    pub ws_idle_seconds: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: PublicUrl::default(),
            trusted_proxies: vec![],
            header_timeout_seconds: 10,
            request_timeout_seconds: 30,
            max_connections: 20_000,
            max_body_bytes: 256 * 1024,
            log_format: LogFormat::Text,
            ws_idle_seconds: 75,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: Secret,
    /// Longest wait for a connection before a request answers `unavailable`, ms.
    pub acquire_timeout_ms: u64,
    /// SQLite: the write-ahead log is truncated once it passes this many MiB.
    pub sqlite_wal_limit_mb: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: Secret::new("sqlite://rempart-data/rempart.db"),
            acquire_timeout_ms: 3000,
            sqlite_wal_limit_mb: 64,
        }
    }
}

impl DatabaseSettings {
    /// Whether the database is an embedded SQLite file (one node).
    pub fn is_sqlite(&self) -> bool {
        self.url.expose().starts_with("sqlite:")
    }

    /// The SQLite database file (None on PostgreSQL).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let u = self.url.expose();
        let rest = u
            .strip_prefix("sqlite://")
            .or_else(|| u.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or("");
        (!path.is_empty()).then(|| PathBuf::from(path))
    }
}

/// `[helpline]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HelplineSettings {
    /// Name, shown on every page and as the notifier in notices.
    pub name: String,
    /// The address platforms answer notices at (the notifier's e-mail of DSA Article 16).
    pub notices_email: String,
    /// The language of the console and the widget when nobody chose one.
    pub default_language: Language,
    /// Opening hours, holidays and closures (None: every day 9:00–23:00, Europe/Paris).
    pub opening_hours_file: Option<PathBuf>,
    /// The platform directory (None: the embedded defaults). Watched: a change is loaded
    /// without a restart.
    pub platforms_file: Option<PathBuf>,
    /// The chat's risk lexicon (None: the embedded defaults, crates/domain/data/risk.toml).
    pub risk_lexicon_file: Option<PathBuf>,
    /// Where quick exit sends the young person.
    pub quick_exit_url: HttpsUrl,
    /// Supervisors are alerted when a conversation waits in the queue longer than this.
    pub wait_alert_minutes: i64,
}

impl Default for HelplineSettings {
    fn default() -> Self {
        HelplineSettings {
            name: "Rempart".into(),
            notices_email: "signalements@rempart.invalid".into(),
            default_language: Language::Fr,
            opening_hours_file: None,
            platforms_file: None,
            risk_lexicon_file: None,
            quick_exit_url: HttpsUrl("https://www.google.com/search?q=meteo".into()),
            wait_alert_minutes: 5,
        }
    }
}

/// `[security]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// Mark cookies `Secure` (HTTPS only).
    pub secure_cookies: bool,
    /// Console session idle limit, minutes.
    pub session_idle_minutes: i64,
    /// Console session absolute limit, hours.
    pub session_absolute_hours: i64,
    /// Roles that must pass a second factor (passkey or TOTP).
    pub second_factor_roles: Vec<RoleName>,
    /// Failed attempts (password, or second factor) allowed before a lock.
    pub lockout_free_attempts: i64,
    /// First lock, seconds; doubles at each further failure.
    pub lockout_base_seconds: i64,
    /// Longest lock, seconds.
    pub lockout_max_seconds: i64,
    /// Wrong second-factor codes after which the half-open session ends.
    pub second_factor_session_attempts: i64,
    /// Argon2id memory cost, KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id passes.
    pub argon2_iterations: u32,
    /// Logins and second-factor checks per client address and minute.
    pub logins_per_minute: u32,
    /// An invitation link is valid this many hours.
    pub invitation_hours: i64,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            secure_cookies: true,
            session_idle_minutes: 15,
            session_absolute_hours: 10,
            second_factor_roles: Role::ALL.iter().map(|r| RoleName(*r)).collect(),
            lockout_free_attempts: 5,
            lockout_base_seconds: 30,
            lockout_max_seconds: 3600,
            second_factor_session_attempts: 3,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            logins_per_minute: 20,
            invitation_hours: 72,
        }
    }
}

impl SecuritySettings {
    /// Whether `role` must pass a second factor.
    pub fn second_factor_required(&self, role: Role) -> bool {
        self.second_factor_roles.iter().any(|r| r.0 == role)
    }

    /// The roles that may log in with a password alone (a warning at start).
    pub fn roles_without_second_factor(&self) -> Vec<Role> {
        Role::ALL
            .iter()
            .copied()
            .filter(|r| !self.second_factor_required(*r))
            .collect()
    }
}

/// `[widget]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetSettings {
    /// Sites allowed to embed the widget (origins).
    pub allowed_origins: Vec<Origin>,
    /// A visitor may resume their conversation this many minutes after its end.
    pub resume_minutes: i64,
    /// New chat sessions per client address and minute (burst).
    pub sessions_per_minute: u32,
    /// New chat sessions per client address and day.
    pub sessions_per_day: u32,
    /// Messages a chat session may send in a burst; then one per second.
    pub message_burst: u32,
    /// Typing signals a chat session (or a console) may send per minute.
    pub typing_per_minute: u32,
    /// New sessions per minute on a node above which each must answer a proof of work.
    pub stress_sessions_per_minute: u32,
    /// Difficulty of that proof of work, in leading zero bits.
    pub pow_bits: u32,
    /// Live sockets (widget) per client address.
    pub sockets_per_address: u32,
    /// Live sockets per chat session.
    pub sockets_per_session: u32,
    /// Share of `server.max_connections` the widget's sockets may take, percent: the rest
    /// stays for the console.
    pub sockets_share_percent: u32,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        WidgetSettings {
            allowed_origins: vec![],
            resume_minutes: 30,
            sessions_per_minute: 10,
            sessions_per_day: 100,
            message_burst: 10,
            typing_per_minute: 30,
            stress_sessions_per_minute: 120,
            pow_bits: 16,
            sockets_per_address: 200,
            sockets_per_session: 4,
            sockets_share_percent: 80,
        }
    }
}

/// `[delivery]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeliverySettings {
    /// This node runs delivery workers (a node may serve pages only; any node that runs
    /// them takes the queue's jobs).
    pub workers: bool,
    /// Platforms' endpoints on loopback or private addresses, and plain http, are allowed
    /// (the local simulators of the demo and the tests; never in production).
    pub allow_local_endpoints: bool,
    /// Longest time for one attempt, from connecting to the last byte of the answer.
    pub timeout_seconds: u64,
    /// The first retry waits about this long; each next one twice as long (with jitter),
    /// up to 30 minutes, or what the platform's `Retry-After` asks.
    pub retry_base_ms: u64,
    /// Attempts on one channel before it counts as failed (and the next channel is tried).
    pub max_attempts: u32,
    /// How often each node's workers look for due jobs, at most.
    pub poll_ms: u64,
    /// How often the helpline looks for notices past their expected delay (one node at a
    /// time does it), ms.
    pub escalation_check_ms: u64,
    /// How long a claimed delivery job stays a node's (seconds): a node that died holding
    /// it gives it back to every node once this has passed. Longer than `timeout_seconds`,
    /// so a slow attempt is never taken over while it still runs.
    pub lease_seconds: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            workers: true,
            allow_local_endpoints: false,
            timeout_seconds: 30,
            retry_base_ms: 5000,
            max_attempts: 10,
            poll_ms: 250,
            escalation_check_ms: 60_000,
            lease_seconds: 120,
        }
    }
}

/// `[smtp]`: the server e-mail notices leave through.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    /// Host name or address of the SMTP server; empty: e-mail channels are off (a notice on
    /// one moves to its platform's next channel, `smtp_not_configured`).
    pub host: String,
    /// Port: 587 (submission with STARTTLS), 465 (implicit TLS), 25.
    pub port: u16,
    /// How the connection is protected.
    pub tls: SmtpTls,
    /// User name for AUTH (empty: no AUTH). Sent only over TLS.
    pub username: String,
    /// Its password (`REMPART_SMTP_PASSWORD` in the environment).
    pub password: Secret,
    /// The sender's address (empty: `helpline.notices_email`).
    pub from: String,
    /// Longest time for one whole exchange, seconds (1 to 100).
    pub timeout_seconds: u64,
    /// PEM certificates trusted as roots besides the public ones (a private relay's CA).
    pub extra_root_pem_file: Option<PathBuf>,
    /// The name given in EHLO (empty: the client's default).
    pub hello_name: String,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Required,
            username: String::new(),
            password: Secret::default(),
            from: String::new(),
            timeout_seconds: 30,
            extra_root_pem_file: None,
            hello_name: String::new(),
        }
    }
}

impl SmtpSettings {
    /// Whether e-mail channels are on.
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// STARTTLS or nothing (the default).
    Required,
    /// STARTTLS when the server offers it, clear text otherwise (never a fallback after a
    /// failed handshake).
    Starttls,
    /// Implicit TLS from the first byte (port 465).
    Wrapper,
    /// Clear text: only for a test server on the same host.
    None,
}

/// `[evidence]`: where evidence files are kept (always encrypted), and their limits.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceSettings {
    /// `filesystem` (one node, or a folder every node shares) or `s3`.
    pub store: EvidenceStore,
    /// The folder of the filesystem store (empty with SQLite: `evidence` beside the database;
    /// empty with PostgreSQL: no store, and files are refused with 503).
    pub path: String,
    /// The S3-compatible server, e.g. `https://s3.example.org` (path-style requests).
    pub s3_endpoint: String,
    /// The bucket (it must exist).
    pub s3_bucket: String,
    /// The region the requests are signed for.
    pub s3_region: String,
    /// The access key.
    pub s3_access_key_id: String,
    /// Its secret (`REMPART_EVIDENCE_S3_SECRET_ACCESS_KEY` in the environment).
    pub s3_secret_access_key: Secret,
    /// Whether a plain `http://` endpoint is allowed (a server on the same host).
    pub s3_allow_http: bool,
    /// Longest time for one store operation, seconds (1 to 120).
    pub timeout_seconds: u64,
    /// Largest picture, document or text, in MB (1 to 200).
    pub max_file_mb: u64,
    /// Largest video, in MB (1 to 500).
    pub max_video_mb: u64,
    /// Largest picture, in megapixels (1 to 200).
    pub max_megapixels: u64,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        EvidenceSettings {
            store: EvidenceStore::Filesystem,
            path: String::new(),
            s3_endpoint: String::new(),
            s3_bucket: String::new(),
            s3_region: "us-east-1".into(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: Secret::default(),
            s3_allow_http: false,
            timeout_seconds: 10,
            max_file_mb: 25,
            max_video_mb: 50,
            max_megapixels: 50,
        }
    }
}

/// The kind of evidence store.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceStore {
    /// A folder.
    Filesystem,
    /// An S3-compatible server.
    S3,
}

/// `[secrets]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SecretSettings {
    /// The master secret (at least 32 characters), from which the keys of the person
    /// hash, the proof of work, the audit chain and the follow-up codes are derived.
    /// Empty: read from `master_key_file`, or on SQLite generated there at first start.
    pub master_key: Secret,
    /// Where the master secret is kept (default with SQLite: `master.key` beside the
    /// database file).
    pub master_key_file: Option<PathBuf>,
    /// The platforms' secrets (API keys, signing secrets), by the names the directory gives
    /// (`[secrets.platforms]`, or `REMPART_PLATFORM_SECRET_<NAME>` in the environment).
    pub platforms: std::collections::BTreeMap<String, Secret>,
}

mod values;
pub use values::{HttpsUrl, Language, LogFormat, Origin, PublicUrl, RoleName};

/// A documented example configuration (`rempart config example`): every key with its
/// default.
pub const EXAMPLE: &str = r#"# Rempart configuration. Every key is optional; the values shown are the defaults.
# Each key can also be set by an environment variable REMPART_<SECTION>_<KEY>, in capitals:
# e.g. REMPART_DATABASE_URL=postgres://rempart@db/rempart, REMPART_SERVER_LISTEN=0.0.0.0:8080.

[server]
# Address and port to listen on.
listen = "127.0.0.1:8080"
# Public base URL of the console (links in invitations; the passkeys' origin).
public_url = "http://127.0.0.1:8080"
# Reverse proxies whose X-Forwarded-For header gives the client address, e.g. ["127.0.0.1"].
trusted_proxies = []
# Slow clients: seconds to send a request's headers (also how long an idle keep-alive
# connection stays open), seconds to send a body and be answered, connections served at
# once (WebSockets included).
header_timeout_seconds = 10
request_timeout_seconds = 30
max_connections = 20000
# Largest request body accepted, bytes.
max_body_bytes = 262144
# "text" or "json" logs. Logs never carry message text, names, phone numbers or tokens, and
# a log that cannot be written (a full disk) never stops the service: lines are dropped.
log_format = "text"
# A WebSocket silent this many seconds is closed (the server pings every third of it).
ws_idle_seconds = 75

[database]
# "sqlite://PATH" (embedded, one server) or "postgres://USER@HOST/DB" (several nodes).
url = "sqlite://rempart-data/rempart.db"
# Longest wait for a database connection: past it a request answers 503 "unavailable" at
# once instead of hanging while the database is down.
acquire_timeout_ms = 3000
# SQLite: once the write-ahead log passes this many MiB it is checkpointed and truncated.
sqlite_wal_limit_mb = 64

[helpline]
# Name of the helpline, shown on every page and used as the notifier in notices.
name = "Rempart"
# The address platforms answer notices at: the notifier's e-mail that DSA Article 16 requires
# in every notice (always the helpline's, never a child's).
notices_email = "signalements@rempart.invalid"
# Language of the console and the widget until someone chooses: "fr" or "en".
default_language = "fr"
# Opening hours, public holidays and closures as a TOML file (absent: every day 9:00-23:00,
# Europe/Paris). The format is documented in crates/domain/data/calendar.toml.
# opening_hours_file = "hours.toml"
# The platforms that receive notices and their priority channels, as a TOML file (absent:
# the embedded defaults, crates/domain/data/platforms.toml, which documents the format).
# The file is watched: an edit is loaded without a restart (a file that does not load is
# reported on the directory page and the previous directory stays).
# platforms_file = "platforms.toml"
# The words and patterns that put a conversation first in the queue (suicidal thoughts,
# blackmail with a deadline, imminent publication), as a TOML file (absent: the embedded
# defaults, crates/domain/data/risk.toml, which documents the format; check a file with
# `rempart risk eval --lexicon FILE`). Read at start.
# risk_lexicon_file = "risk.toml"
# Where the quick-exit button sends the young person: a neutral https site.
quick_exit_url = "https://www.google.com/search?q=meteo"
# Supervisors are alerted (on the queue page, and by sound and tab title for those who
# turned alerts on) when a conversation waits longer than this many minutes (1-240).
wait_alert_minutes = 5

[security]
# Mark cookies Secure (HTTPS only). Keep true in production behind TLS.
secure_cookies = true
# Console sessions end after this many idle minutes, and after this many hours in all.
session_idle_minutes = 15
session_absolute_hours = 10
# Roles that must pass a second factor (a passkey or a TOTP code). Every role reads
# children's files: removing one is warned about at every start.
second_factor_roles = ["counsellor", "psychologist", "lawyer", "digital_specialist", "supervisor", "admin"]
# Progressive lock-out, per e-mail address (whether or not it has an account) and per
# account's second factor: free failed attempts, first lock (seconds, doubling), longest.
lockout_free_attempts = 5
lockout_base_seconds = 30
lockout_max_seconds = 3600
# Wrong second-factor codes after which the half-logged-in session ends.
second_factor_session_attempts = 3
# Argon2id cost for staff passwords.
argon2_memory_kib = 19456
argon2_iterations = 2
# Logins and second-factor checks per client address and minute.
logins_per_minute = 20
# An invitation link (a new account sets its own password and second factor) lasts this
# many hours.
invitation_hours = 72

[widget]
# Sites allowed to embed the chat widget, e.g. ["https://www.helpline.example"].
allowed_origins = []
# A visitor's browser may resume its conversation this many minutes after it ended.
resume_minutes = 30
# Anti-automation, per client address (per node): new chat sessions per minute and per
# day, a chat's message burst (then one per second), typing signals per minute.
sessions_per_minute = 10
sessions_per_day = 100
message_burst = 10
typing_per_minute = 30
# Under a flood (more new chat sessions per minute on a node than this; 0: never), each new
# session must first answer a proof-of-work challenge, computed by the widget in about a
# second without any action of the young person; its difficulty in bits (at most 28).
stress_sessions_per_minute = 120
pow_bits = 16
# Live widget sockets per client address (a school shares one) and per chat session, and
# the share of server.max_connections the widget may take (the rest is the console's).
sockets_per_address = 200
sockets_per_session = 4
sockets_share_percent = 80

[delivery]
# This node runs delivery workers (false: it serves pages only; the nodes that run them take
# every job of the shared queue).
workers = true
# Allow platforms' endpoints on loopback or private addresses and in plain http (the local
# simulators of the demo and the tests). Never in production.
allow_local_endpoints = false
# Longest time for one delivery attempt, seconds.
timeout_seconds = 30
# The first retry of a failed delivery waits about this long (ms), each next one twice as
# long with jitter (at most 30 min), or what the platform's Retry-After asks.
retry_base_ms = 5000
# Attempts on one channel before the platform's next channel is tried.
max_attempts = 10
# How often each node's workers look for due jobs (ms), at most.
poll_ms = 250
# How often notices past their platform's expected delay are looked for and escalated
# (a reminder to the platform, the supervisors alerted), ms; one node at a time does it.
escalation_check_ms = 60000

# How long a claimed delivery stays a node's (seconds): the deliveries of a node that died
# are taken over by the other nodes (or by itself once restarted) when it has passed. Must be
# longer than timeout_seconds (a slow attempt is never taken over while it still runs).
lease_seconds = 120

[smtp]
# The SMTP server e-mail notices leave through. Empty host: e-mail channels are off, and a
# notice on one moves to its platform's next channel (reason smtp_not_configured).
host = ""
# 587: submission with STARTTLS; 465: implicit TLS; 25: relay.
port = 587
# "required": STARTTLS or nothing (default); "starttls": STARTTLS when the server offers it;
# "wrapper": implicit TLS from the first byte; "none": clear text, only for a local test server.
tls = "required"
# AUTH (PLAIN or LOGIN), only ever over TLS; empty: no AUTH. The password may come from the
# environment: REMPART_SMTP_PASSWORD.
username = ""
password = ""
# The sender's address (empty: helpline.notices_email). Replies go to the notices address
# with the notice's reference after a "+" (signalements+REF@…).
from = ""
# Longest time for one whole SMTP exchange, seconds (1 to 100).
timeout_seconds = 30
# PEM certificates trusted besides the public roots (a private relay's own CA).
# extra_root_pem_file = "/etc/rempart/smtp-ca.pem"
# The name given in EHLO (empty: the client's default).
hello_name = ""

[evidence]
# Where evidence files are kept. Every file is encrypted before it leaves the process (a key
# per case, wrapped by a key derived from the master secret), written once, never modified.
# "filesystem": a folder (one node, or a folder all nodes share); "s3": any S3-compatible
# server, for several nodes.
store = "filesystem"
# The folder. Empty with SQLite: "evidence" beside the database file. Empty with PostgreSQL:
# no store (evidence files are refused with 503; links, excerpts and fingerprints still work).
path = ""
# The S3-compatible server (path-style requests), its bucket (it must exist), region and keys.
# The secret may come from the environment: REMPART_EVIDENCE_S3_SECRET_ACCESS_KEY.
s3_endpoint = ""
s3_bucket = ""
s3_region = "us-east-1"
s3_access_key_id = ""
s3_secret_access_key = ""
# Allow a plain http:// endpoint (only a server on the same host).
s3_allow_http = false
# Longest time for one store operation, seconds (1 to 120).
timeout_seconds = 10
# Largest picture, document or exported conversation, in MB; largest video, in MB; largest
# picture, in megapixels. Larger files are refused with 413 before anything is kept.
max_file_mb = 25
max_video_mb = 50
max_megapixels = 50

[secrets]
# The master secret: the keys of the pseudonymous person hash, the proof of work, the audit
# chain and the follow-up codes are derived from it. Keep it secret, stable and backed up;
# every node of a PostgreSQL deployment needs the same. Generate one with
# `openssl rand -hex 32`. Empty: read from master_key_file; with SQLite a new one is
# generated at first start beside the database (master.key, mode 0600). PostgreSQL nodes
# refuse to start without one.
master_key = ""
# Where the master secret is kept (default with SQLite: master.key beside the database).
# master_key_file = "/etc/rempart/master.key"

# The platforms' secrets (API keys, webhook signing secrets), by the names the platform
# directory gives them; or in the environment: REMPART_PLATFORM_SECRET_<NAME>, in capitals.
[secrets.platforms]
# snapchat_coop = "…"
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

/// The type an environment variable's text is read as: the one of the key's default.
fn env_value(
    model: Option<&toml::Value>,
    name: &str,
    v: String,
) -> Result<toml::Value, SettingsError> {
    Ok(match model {
        Some(toml::Value::Boolean(_)) => {
            toml::Value::Boolean(matches!(v.as_str(), "1" | "true" | "yes"))
        }
        Some(toml::Value::Integer(_)) => toml::Value::Integer(
            v.parse()
                .map_err(|_| SettingsError::Invalid(format!("{name}: not a number")))?,
        ),
        Some(toml::Value::Array(_)) => toml::Value::Array(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.into()))
                .collect(),
        ),
        _ => toml::Value::String(v),
    })
}

impl Settings {
    /// Defaults, then `file` (if any), then the `REMPART_<SECTION>_<KEY>` variables of
    /// `env`.
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
            if let Some(name) = k.strip_prefix("REMPART_PLATFORM_SECRET_") {
                let secrets = table
                    .entry("secrets")
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(t) = secrets {
                    let platforms = t
                        .entry("platforms")
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    if let toml::Value::Table(p) = platforms {
                        p.insert(name.to_ascii_lowercase(), toml::Value::String(v));
                    }
                }
                continue;
            }
            let Some(rest) = k.strip_prefix("REMPART_") else {
                continue;
            };
            let rest = rest.to_ascii_lowercase();
            let Some((section, key)) = rest.split_once('_') else {
                continue;
            };
            let Some(toml::Value::Table(model)) = defaults.get(section) else {
                continue;
            };
            // keys that are commented out in the example are strings
            let optional = matches!(
                key,
                "opening_hours_file"
                    | "master_key_file"
                    | "platforms_file"
                    | "risk_lexicon_file"
                    | "extra_root_pem_file"
            );
            if model.get(key).is_none() && !optional {
                continue;
            }
            let value = env_value(model.get(key), &k, v)?;
            let entry = table
                .entry(section.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = entry {
                t.insert(key.to_owned(), value);
            }
        }
        let s: Settings = table
            .try_into()
            .map_err(|e: toml::de::Error| SettingsError::Invalid(e.to_string()))?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), SettingsError> {
        let bad = |m: &str| Err(SettingsError::Invalid(m.into()));
        let sec = &self.security;
        if sec.session_idle_minutes < 1 || sec.session_absolute_hours < 1 {
            return bad("session limits must be positive");
        }
        if sec.argon2_memory_kib < 8 || sec.argon2_iterations < 1 {
            return bad("argon2 cost too low");
        }
        if sec.lockout_free_attempts < 1 || sec.second_factor_session_attempts < 1 {
            return bad("lock-out attempts must be positive");
        }
        if !(1..=24 * 30).contains(&sec.invitation_hours) {
            return bad("invitation_hours must be between 1 and 720");
        }
        if !(1..=240).contains(&self.helpline.wait_alert_minutes) {
            return bad("helpline.wait_alert_minutes must be between 1 and 240");
        }
        let d = &self.delivery;
        if d.timeout_seconds < 1
            || d.retry_base_ms < 1
            || d.max_attempts < 1
            || d.poll_ms < 10
            || d.escalation_check_ms < 10
        {
            return bad("delivery timeouts, retries and polling must be positive");
        }
        if d.lease_seconds <= d.timeout_seconds {
            return bad("delivery.lease_seconds must be longer than delivery.timeout_seconds");
        }
        let m = &self.smtp;
        if !(1..=100).contains(&m.timeout_seconds) {
            return bad("smtp.timeout_seconds must be between 1 and 100");
        }
        if m.port == 0 {
            return bad("smtp.port must be positive");
        }
        if m.username.is_empty() != m.password.expose().is_empty() {
            return bad("smtp.username and smtp.password go together");
        }
        if !m.username.is_empty() && m.tls == SmtpTls::None {
            return bad("smtp credentials are only sent over TLS: tls = \"none\" cannot have them");
        }
        if !m.from.is_empty() && rempart_domain::values::Email::parse(&m.from).is_err() {
            return bad("smtp.from must be an e-mail address");
        }
        if m.host.chars().any(|c| c.is_whitespace() || c.is_control())
            || m.hello_name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return bad("smtp.host and smtp.hello_name are names, without spaces");
        }
        let ev = &self.evidence;
        if !(1..=120).contains(&ev.timeout_seconds)
            || !(1..=200).contains(&ev.max_file_mb)
            || !(1..=500).contains(&ev.max_video_mb)
            || !(1..=200).contains(&ev.max_megapixels)
        {
            return bad(
                "evidence limits: timeout_seconds 1-120, max_file_mb 1-200, max_video_mb 1-500, max_megapixels 1-200",
            );
        }
        if ev.store == EvidenceStore::S3
            && (ev.s3_endpoint.trim().is_empty()
                || ev.s3_bucket.trim().is_empty()
                || ev.s3_access_key_id.is_empty()
                || ev.s3_secret_access_key.expose().is_empty())
        {
            return bad(
                "evidence.store = \"s3\" needs s3_endpoint, s3_bucket, s3_access_key_id and s3_secret_access_key",
            );
        }
        if ev.store == EvidenceStore::S3
            && !ev.s3_allow_http
            && !ev.s3_endpoint.starts_with("https://")
        {
            return bad(
                "evidence.s3_endpoint must be https:// (or set s3_allow_http for a local server)",
            );
        }
        let srv = &self.server;
        if srv.header_timeout_seconds < 1
            || srv.request_timeout_seconds < 1
            || srv.max_connections < 1
            || srv.ws_idle_seconds < 1
        {
            return bad("timeouts and max_connections must be positive");
        }
        let w = &self.widget;
        if w.pow_bits > 28 {
            return bad("pow_bits must be at most 28");
        }
        if !(10..=100).contains(&w.sockets_share_percent) {
            return bad("sockets_share_percent must be between 10 and 100");
        }
        if w.sockets_per_session < 1 || w.sockets_per_address < 1 {
            return bad("socket limits must be positive");
        }
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return bad("unsupported database URL scheme (expected sqlite:// or postgres://)");
        }
        if self.database.acquire_timeout_ms < 100 {
            return bad("acquire_timeout_ms must be at least 100");
        }
        let m = self.secrets.master_key.expose();
        if !m.is_empty() && m.len() < 32 {
            return bad("master_key must be at least 32 characters (openssl rand -hex 32)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
