//! The platform directory as the node holds it: the embedded defaults or the helpline's
//! file (`helpline.platforms_file`), loaded again when the file changes — each node watches
//! its own file, so every node of a deployment follows an edit without a restart — or when
//! an administrator asks. A file that does not load leaves the previous directory in place
//! and is reported on the directory page.

use crate::{App, AppError};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::directory::{ChannelSpec, Directory, NoticeChannel, Platform};
use rempart_domain::policy::{Action, Actor, Resource, can};
use rempart_storage::AuditEntry;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How often a node looks at its directory file.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// The directory in use and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The directory.
    pub directory: Arc<Directory>,
    /// The file it was read from (None: the embedded defaults).
    pub source: Option<PathBuf>,
    /// When it was loaded (ms).
    pub loaded_at: i64,
    /// The first 12 hex digits of the SHA-256 of the platforms text (the same on every
    /// node that loaded the same file).
    pub digest: String,
    /// Why the last attempt to load the file failed, if it did after this one loaded.
    pub last_error: Option<String>,
    modified: Option<(SystemTime, u64)>,
}

/// The node's directory, swapped whole when it is loaded again.
#[derive(Debug)]
pub(crate) struct DirectoryCell {
    loaded: RwLock<Loaded>,
    changed: tokio::sync::watch::Sender<u64>,
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
        .chars()
        .take(12)
        .collect()
}

/// The file's modification time and length: an edit changes one or the other.
fn modified(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn read(path: &Path) -> Result<(Directory, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let services = Directory::defaults().map_err(|e| e.to_string())?;
    let d = Directory::with_platforms_toml(&text, &services).map_err(|e| e.to_string())?;
    Ok((d, text))
}

impl DirectoryCell {
    /// Loads the directory the settings name; a file that does not load stops the start.
    pub(crate) fn load(file: Option<&Path>, now: i64) -> Result<DirectoryCell, String> {
        let loaded = match file {
            None => Loaded {
                directory: Arc::new(Directory::defaults().map_err(|e| e.to_string())?),
                source: None,
                loaded_at: now,
                digest: digest(Directory::DEFAULT_PLATFORMS),
                last_error: None,
                modified: None,
            },
            Some(path) => {
                let at = modified(path);
                let (d, text) = read(path)?;
                Loaded {
                    directory: Arc::new(d),
                    source: Some(path.to_owned()),
                    loaded_at: now,
                    digest: digest(&text),
                    last_error: None,
                    modified: at,
                }
            }
        };
        Ok(DirectoryCell {
            loaded: RwLock::new(loaded),
            changed: tokio::sync::watch::channel(0).0,
        })
    }

    pub(crate) fn current(&self) -> Loaded {
        match self.loaded.read() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn directory(&self) -> Arc<Directory> {
        self.current().directory
    }

    /// Reads the file again; `Ok(platforms)` when it loaded, `Err` (kept for the page)
    /// when it did not. Without a file there is nothing to reload.
    fn reload(&self, now: i64) -> Result<usize, String> {
        let Some(path) = self.current().source else {
            return Ok(self.directory().platforms().len());
        };
        let at = modified(&path);
        let result = read(&path);
        let mut l = match self.loaded.write() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        l.modified = at;
        let out = match result {
            Ok((d, text)) => {
                let n = d.platforms().len();
                l.directory = Arc::new(d);
                l.loaded_at = now;
                l.digest = digest(&text);
                l.last_error = None;
                Ok(n)
            }
            Err(e) => {
                l.last_error = Some(e.clone());
                Err(e)
            }
        };
        drop(l);
        self.changed.send_modify(|n| *n += 1);
        out
    }

    /// Whether the file changed since it was last read.
    fn file_changed(&self) -> bool {
        let l = self.current();
        l.source
            .as_deref()
            .is_some_and(|p| modified(p) != l.modified)
    }
}

/// One channel as the directory page shows it.
#[derive(Debug, Clone)]
pub struct ChannelView {
    /// Its kind.
    pub kind: NoticeChannel,
    /// Where it goes ("" for the partner API).
    pub address: String,
    /// The name of the secret it needs, if any.
    pub secret: Option<String>,
    /// Whether that secret is configured on this node (never its value).
    pub secret_configured: bool,
    /// Coop: whether the platform's callback key is known.
    pub callback_key: Option<bool>,
}

/// The directory page's content.
#[derive(Debug, Clone)]
pub struct DirectoryView {
    /// The directory and where it came from.
    pub loaded: Loaded,
    /// Each platform with its channels.
    pub platforms: Vec<(Platform, Vec<ChannelView>)>,
}

impl App {
    /// The platform directory in use.
    pub fn directory(&self) -> Arc<Directory> {
        self.directory.directory()
    }

    /// A platform secret configured on this node, by the name the directory gives.
    pub(crate) fn platform_secret(&self, name: &str) -> Option<&crate::secret::Secret> {
        self.settings
            .secrets
            .platforms
            .get(name)
            .filter(|s| !s.expose().is_empty())
    }

    /// The directory with its channels and whether their secrets are configured
    /// (administrators).
    pub fn directory_view(&self, actor: &Actor) -> Result<DirectoryView, AppError> {
        if !can(actor, Action::ManageDirectory, Resource::Global) {
            return Err(AppError::not_found());
        }
        let loaded = self.directory.current();
        let platforms = loaded
            .directory
            .platforms()
            .iter()
            .map(|p| {
                let channels = p
                    .channels
                    .iter()
                    .map(|c| ChannelView {
                        kind: c.kind(),
                        address: c.address().to_owned(),
                        secret: c.secret().map(str::to_owned),
                        secret_configured: c
                            .secret()
                            .is_some_and(|s| self.platform_secret(s).is_some()),
                        callback_key: match c {
                            ChannelSpec::Coop { public_key_pem, .. } => {
                                Some(public_key_pem.is_some())
                            }
                            _ => None,
                        },
                    })
                    .collect();
                (p.clone(), channels)
            })
            .collect();
        Ok(DirectoryView { loaded, platforms })
    }

    /// Loads the directory file again now (administrators); audited when it loaded.
    pub async fn reload_directory(&self, actor: &Actor) -> Result<Result<usize, String>, AppError> {
        if !can(actor, Action::ManageDirectory, Resource::Global) {
            return Err(AppError::not_found());
        }
        let r = self.directory.reload(self.now());
        if let Ok(n) = r {
            self.audit_reload(Some(actor), n).await?;
        }
        Ok(r)
    }

    async fn audit_reload(&self, actor: Option<&Actor>, n: usize) -> Result<(), AppError> {
        self.store
            .audit(&AuditEntry::new(
                self.now(),
                actor.map(|a| a.id),
                AuditEvent::DirectoryReloaded {
                    platforms: u32::try_from(n).unwrap_or(u32::MAX),
                },
            ))
            .await?;
        Ok(())
    }

    /// Waits until the directory was loaded again (or a load failed) after `seen`
    /// changes; returns the new count. For tests and the console's live pages.
    pub fn directory_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.directory.changed.subscribe()
    }

    /// Watches the directory file and loads it again when it changes (a task per node).
    pub(crate) fn watch_directory(&self) {
        if self.directory.current().source.is_none() {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if !app.directory.file_changed() {
                    continue;
                }
                match app.directory.reload(app.now()) {
                    Ok(n) => {
                        tracing::info!(platforms = n, "platform directory reloaded");
                        if let Err(e) = app.audit_reload(None, n).await {
                            tracing::warn!(error = %e, "platform directory reload not audited");
                        }
                    }
                    Err(_) => tracing::warn!(
                        "platform directory file does not load; the previous directory stays"
                    ),
                }
            }
        });
    }
}
