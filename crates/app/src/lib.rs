//! Rempart's application layer: the use-cases staff and callers trigger, combining the
//! domain rules, the access policy, the store and the clock. Every use-case checks
//! `policy::can` before touching data, and writes its audit event with its change.

pub mod audit_trail;
pub mod auth;
pub mod cases;
pub mod chat;
pub mod clock;
pub mod complaint;
pub mod demo;
pub mod directory;
pub mod error;
pub mod evidence;
pub mod followup;
pub mod guidance;
pub mod keys;
pub mod live;
pub mod notices;
pub mod passkey;
pub mod pow;
mod referral_mail;
pub mod referrals;
pub mod secret;
pub mod settings;
pub mod staff;
pub mod totp;

use clock::Clock;
use rempart_domain::calendar::OpeningCalendar;
use rempart_domain::chat::RiskLexicon;
use rempart_domain::taxonomy::Taxonomy;
use rempart_storage::{PubSub, Store, StoreOptions};
use settings::Settings;
use std::sync::Arc;

pub use error::{AppError, ErrorCode};

/// What the use-cases read and return: the store's records, re-exported so that callers
/// (the web layer) see data, never the store itself.
pub mod records {
    pub use rempart_storage::{
        AuditFilter, COUNT_CAP, CaseCursor, CasePage, CaseRecord, CaseSummary, ChatLoad,
        ContactRecord, ConversationRecord, Event, EvidenceRecord, InvitationRecord, ItemRecord,
        MessageRecord, NoteRecord, NoticePage, NoticeRecord, NoticeSummary, OPEN_STATES,
        PartnerKeyRecord, PartnerNoticePage, PasskeyRecord, PlaybookTick, ReferralRecord,
        RoleGrantRecord, SessionRecord, StaffRecord,
    };
}

/// Everything a use-case needs, cheap to clone. Its parts are private: the application
/// layer is the only door to the store and the live events.
#[derive(Clone)]
pub struct App {
    pub(crate) store: Store,
    /// The clock (injected: tests move time by hand).
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) keys: Arc<keys::Keys>,
    pub(crate) taxonomy: Arc<Taxonomy>,
    pub(crate) directory: Arc<directory::DirectoryCell>,
    pub(crate) calendar: Arc<OpeningCalendar>,
    /// Words that signal danger in messages.
    pub(crate) risk: Arc<RiskLexicon>,
    /// Live events, across nodes.
    pub(crate) pubsub: PubSub,
    /// Canned replies of the chat, per language.
    pub(crate) canned: Arc<Vec<rempart_domain::chat::CannedReply>>,
    /// Which conversation a widget token (by its hash) opens: never changes once known, so
    /// a visitor's messages skip that lookup (bounded; cleared when full).
    pub(crate) token_ids: chat::TokenIds,
    /// Proof-of-work challenges already answered on this node.
    pub(crate) pow_used: pow::UsedChallenges,
    /// The passkeys' relying party (None when the console has no host name).
    pub(crate) webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Delivering notices: the HTTP client and this node's workers' bell.
    pub(crate) delivery: Arc<notices::delivery::Delivery>,
    /// How many wait in the queue, as this node last counted.
    pub(crate) queue_gauge: Arc<chat::QueueGauge>,
    /// The playbooks this node read last.
    pub(crate) playbooks: Arc<guidance::PlaybookCell>,
    /// The evidence store and the limits of files.
    pub(crate) files: Arc<evidence::EvidenceFiles>,
    /// The PDQ fingerprints of evidence, to recognise a picture seen before.
    pub(crate) bank: Arc<evidence::EvidenceBank>,
    /// Typesetting documents (the complaint help): none unless the binary gives one.
    pub(crate) press: complaint::Press,
}

/// Start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database.
    #[error("database: {0}")]
    Storage(#[from] rempart_storage::StorageError),
    /// Embedded reference data (a build defect), the opening-hours or risk lexicon file.
    #[error("reference data: {0}")]
    Data(String),
    /// The master secret.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
}

fn calendar(s: &Settings) -> Result<OpeningCalendar, StartError> {
    let Some(file) = &s.helpline.opening_hours_file else {
        return OpeningCalendar::defaults().map_err(|e| StartError::Data(e.to_string()));
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| StartError::Data(format!("{}: {e}", file.display())))?;
    OpeningCalendar::from_toml(&text)
        .map_err(|e| StartError::Data(format!("{}: {e}", file.display())))
}

/// The chat's risk lexicon: the helpline's own file, or the embedded defaults.
fn risk_lexicon(s: &Settings) -> Result<RiskLexicon, StartError> {
    let Some(file) = &s.helpline.risk_lexicon_file else {
        return RiskLexicon::defaults().map_err(|e| StartError::Data(e.to_string()));
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| StartError::Data(format!("{}: {e}", file.display())))?;
    RiskLexicon::from_toml(&text).map_err(|e| StartError::Data(format!("{}: {e}", file.display())))
}

/// The storage options the settings and keys give.
pub fn store_options(s: &Settings, keys: &keys::Keys) -> StoreOptions {
    let mut o = StoreOptions::new(keys.chain_key());
    o.acquire_timeout = std::time::Duration::from_millis(s.database.acquire_timeout_ms);
    o.wal_limit_bytes = s.database.sqlite_wal_limit_mb.saturating_mul(1024 * 1024);
    o
}

/// Connects to the store the settings name, with the keys of its master secret (for the
/// command line's `migrate` and `audit` commands).
pub async fn open_store(s: &Settings) -> Result<Store, StartError> {
    let (master, _) = keys::master_secret(s)?;
    let k = keys::Keys::derive(master.expose().as_bytes());
    Ok(Store::connect(s.database.url.expose(), &store_options(s, &k)).await?)
}

impl App {
    /// Finds the master secret, connects, migrates and loads reference data.
    pub async fn start(settings: Settings, clock: Arc<dyn Clock>) -> Result<App, StartError> {
        let (master, source) = keys::master_secret(&settings)?;
        if let keys::Source::Generated(path) = &source {
            tracing::warn!(
                path = %path.display(),
                "generated a new master secret (mode 0600): back it up with the database"
            );
        }
        let keys = Arc::new(keys::Keys::derive(master.expose().as_bytes()));
        let weak = settings.security.roles_without_second_factor();
        if !weak.is_empty() {
            let names: Vec<&str> = weak.iter().map(|r| r.as_str()).collect();
            tracing::warn!(
                roles = %names.join(","),
                "these roles log in with a password alone: security.second_factor_roles relaxes the second factor"
            );
        }
        let store = Store::connect(
            settings.database.url.expose(),
            &store_options(&settings, &keys),
        )
        .await?;
        store.migrate().await?;
        let pubsub = PubSub::start(store.clone(), settings.database.url.expose()).await?;
        let calendar = Arc::new(calendar(&settings)?);
        let webauthn = passkey::relying_party(
            settings.server.public_url.as_str(),
            settings.server.public_url.host(),
            &settings.helpline.name,
        )
        .map(Arc::new);
        if webauthn.is_none() {
            tracing::warn!(
                "passkeys are unavailable: server.public_url names an IP address, not a host"
            );
        }
        let settings_platforms_file = settings.helpline.platforms_file.clone();
        let clock_now = clock.now_ms();
        let delivery = notices::delivery::delivery(&settings).map_err(StartError::Data)?;
        let files = Arc::new(evidence::EvidenceFiles::new(&settings).map_err(StartError::Data)?);
        if files.blobs.is_none() {
            tracing::warn!(
                "no evidence store: evidence files are refused (set evidence.path or evidence.store = \"s3\")"
            );
        }
        let app = App {
            files,
            bank: Arc::default(),
            delivery,
            webauthn,
            keys,
            pubsub,
            canned: Arc::new(
                rempart_domain::chat::default_canned_replies()
                    .map_err(|e| StartError::Data(e.to_string()))?,
            ),
            risk: Arc::new(risk_lexicon(&settings)?),
            store,
            clock,
            settings: Arc::new(settings),
            taxonomy: Arc::new(Taxonomy::defaults().map_err(|e| StartError::Data(e.to_string()))?),
            directory: Arc::new(
                directory::DirectoryCell::load(settings_platforms_file.as_deref(), clock_now)
                    .map_err(StartError::Data)?,
            ),
            calendar,
            token_ids: chat::TokenIds::default(),
            pow_used: pow::UsedChallenges::default(),
            queue_gauge: Arc::default(),
            playbooks: Arc::new(guidance::PlaybookCell::new()),
            press: complaint::Press::new(None),
        };
        app.watch_directory();
        app.watch_queue();
        app.count_late_notices();
        if app.settings.delivery.workers {
            app.start_delivery();
            app.start_escalation();
            app.start_partner_webhooks();
        }
        tokio::spawn(opening_watch(
            app.pubsub.clone(),
            app.clock.clone(),
            app.calendar.clone(),
        ));
        Ok(app)
    }

    /// Now, in ms since the epoch.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The category taxonomy.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// The opening hours.
    pub fn calendar(&self) -> &OpeningCalendar {
        &self.calendar
    }

    /// The chat's canned replies.
    pub fn canned(&self) -> &[rempart_domain::chat::CannedReply] {
        &self.canned
    }

    /// Readiness: the database answers, and takes writes (after a failed write, a real
    /// write is tried: a full disk is not ready until it has space again).
    pub async fn ready(&self) -> Result<(), AppError> {
        self.store.ping().await?;
        self.store.writable().await?;
        Ok(())
    }

    /// SQLite: the largest write-ahead log seen since start, bytes (for the benchmarks).
    pub fn wal_peak_bytes(&self) -> u64 {
        self.store.wal_peak_bytes()
    }

    /// Stops cleanly: on SQLite the write-ahead log is copied back and truncated.
    pub async fn shutdown(&self) {
        self.store.close().await;
    }
}

/// When the line opens or closes, the queue changes (the messages left while it was closed
/// enter it): consoles are told, as for any change of the queue. Checked every second
/// against the calendar (a computation in memory), so the queue changes within a second of
/// the opening hour on every node.
async fn opening_watch(pubsub: PubSub, clock: Arc<dyn Clock>, calendar: Arc<OpeningCalendar>) {
    let open_at =
        |ms: i64| calendar.is_open(chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default());
    let mut was = open_at(clock.now_ms());
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = open_at(clock.now_ms());
        if now != was {
            was = now;
            let _ = pubsub.publish(rempart_storage::Event::Queue).await;
        }
    }
}

/// HMAC-SHA-256 under a derived key, hex.
pub(crate) fn keyed_hex(key: &keys::Key, parts: &[&[u8]]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    match Hmac::<sha2::Sha256>::new_from_slice(key.bytes()) {
        Ok(mut m) => {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    m.update(b":");
                }
                m.update(p);
            }
            hex::encode(m.finalize().into_bytes())
        }
        // HMAC takes keys of any length
        Err(_) => String::new(),
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
