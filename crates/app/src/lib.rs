//! Rempart's application layer: the use-cases staff and callers trigger, combining the
//! domain rules, the access policy, the store and the clock. Every use-case checks
//! `policy::can` before touching data, and writes its audit event with its change.

pub mod auth;
pub mod cases;
pub mod chat;
pub mod clock;
pub mod demo;
pub mod error;
pub mod pow;
pub mod secret;
pub mod settings;
pub mod staff;
pub mod totp;

use clock::Clock;
use rempart_domain::calendar::OpeningCalendar;
use rempart_domain::chat::RiskLexicon;
use rempart_domain::directory::Directory;
use rempart_domain::taxonomy::Taxonomy;
use rempart_storage::{PubSub, Store};
use settings::Settings;
use std::sync::Arc;

pub use error::{AppError, ErrorCode};

/// Everything a use-case needs, cheap to clone.
#[derive(Clone)]
pub struct App {
    /// The store.
    pub store: Store,
    /// The clock (injected: tests move time by hand).
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub settings: Arc<Settings>,
    /// Categories.
    pub taxonomy: Arc<Taxonomy>,
    /// Platforms and services.
    pub directory: Arc<Directory>,
    /// Opening hours.
    pub calendar: Arc<OpeningCalendar>,
    /// Words that signal danger in messages.
    pub risk: Arc<RiskLexicon>,
    /// Live events, across nodes.
    pub pubsub: PubSub,
    /// Canned replies of the chat, per language.
    pub canned: Arc<Vec<rempart_domain::chat::CannedReply>>,
    /// Which conversation a widget token (by its hash) opens: never changes once known, so
    /// a visitor's messages skip that lookup (bounded; cleared when full).
    pub(crate) token_ids: chat::TokenIds,
    /// Proof-of-work challenges already answered on this node.
    pub(crate) pow_used: pow::UsedChallenges,
}

/// Start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database.
    #[error("database: {0}")]
    Storage(#[from] rempart_storage::StorageError),
    /// Embedded reference data (a build defect).
    #[error("reference data: {0}")]
    Data(String),
}

fn calendar(s: &Settings) -> Result<OpeningCalendar, StartError> {
    if s.opening_hours_file.is_empty() {
        return OpeningCalendar::defaults().map_err(|e| StartError::Data(e.to_string()));
    }
    let text = std::fs::read_to_string(&s.opening_hours_file)
        .map_err(|e| StartError::Data(format!("{}: {e}", s.opening_hours_file)))?;
    OpeningCalendar::from_toml(&text)
        .map_err(|e| StartError::Data(format!("{}: {e}", s.opening_hours_file)))
}

impl App {
    /// Connects, migrates and loads reference data.
    pub async fn start(settings: Settings, clock: Arc<dyn Clock>) -> Result<App, StartError> {
        let store = Store::connect(settings.database_url.expose()).await?;
        store.migrate().await?;
        let pubsub = PubSub::start(store.clone(), settings.database_url.expose()).await?;
        let calendar = Arc::new(calendar(&settings)?);
        Ok(App {
            pubsub,
            canned: Arc::new(
                rempart_domain::chat::default_canned_replies()
                    .map_err(|e| StartError::Data(e.to_string()))?,
            ),
            risk: Arc::new(RiskLexicon::defaults().map_err(|e| StartError::Data(e.to_string()))?),
            store,
            clock,
            settings: Arc::new(settings),
            taxonomy: Arc::new(Taxonomy::defaults().map_err(|e| StartError::Data(e.to_string()))?),
            directory: Arc::new(
                Directory::defaults().map_err(|e| StartError::Data(e.to_string()))?,
            ),
            calendar,
            token_ids: chat::TokenIds::default(),
            pow_used: pow::UsedChallenges::default(),
        })
    }

    /// Now, in ms since the epoch.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// `n` random bytes from the operating system's CSPRNG, hex-encoded.
pub fn random_hex(n: usize) -> Result<String, AppError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|_| AppError::internal("random"))?;
    Ok(hex::encode(b))
}

/// Compares without an early exit (secrets, signatures, CSRF tokens).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// SHA-256, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
