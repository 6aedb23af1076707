//! Guidance: the playbooks of a case's categories with their ticks, advice sent in the chat
//! in one click, the supervisors' edits of the playbooks, and the services directory.
//!
//! The playbooks in use are the latest version stored (edited by a supervisor or an
//! administrator), or the embedded defaults when none was ever saved or the latest says
//! "defaults". Each node keeps the parsed version it last read and asks the database for
//! the latest version's number before using it, so every node follows an edit at once.

use crate::records::MessageRecord;
use crate::{App, AppError, ErrorCode};
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::directory::{Service, ServiceKind};
use rempart_domain::ids::{CaseId, ConversationId};
use rempart_domain::playbook::{DEFAULT_PLAYBOOKS, Playbook, PlaybookError, Playbooks, Step};
use rempart_domain::policy::{Action, Actor, Resource, can};
use rempart_storage::{AuditEntry, PlaybookTick, StorageError};
use std::sync::{Arc, RwLock};

/// The largest playbooks document a supervisor may save, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The longest services search, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// The playbooks in use and where they come from.
#[derive(Debug, Clone)]
pub struct LoadedPlaybooks {
    /// The version (0: never edited, the defaults).
    pub version: i64,
    /// The playbooks.
    pub playbooks: Arc<Playbooks>,
    /// The TOML document (the defaults' text when they are in use).
    pub document: String,
    /// The embedded defaults are in use.
    pub defaults: bool,
    /// Who saved the version, and when (ms).
    pub edited: Option<(String, i64)>,
    /// The stored version did not load (a rule of a newer release): the defaults are used
    /// meanwhile, and this says why.
    pub problem: Option<String>,
}

fn defaults_loaded(version: i64, edited: Option<(String, i64)>) -> LoadedPlaybooks {
    LoadedPlaybooks {
        version,
        playbooks: Arc::new(Playbooks::defaults().unwrap_or_default()),
        document: DEFAULT_PLAYBOOKS.to_owned(),
        defaults: true,
        edited,
        problem: None,
    }
}

/// The node's playbooks, swapped whole when a newer version is read.
#[derive(Debug)]
pub(crate) struct PlaybookCell {
    loaded: RwLock<Arc<LoadedPlaybooks>>,
}

impl PlaybookCell {
    /// The defaults, until the database is read (version -1: read at first use).
    pub(crate) fn new() -> PlaybookCell {
        PlaybookCell {
            loaded: RwLock::new(Arc::new(defaults_loaded(-1, None))),
        }
    }

    fn get(&self) -> Arc<LoadedPlaybooks> {
        match self.loaded.read() {
            Ok(l) => l.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn set(&self, l: Arc<LoadedPlaybooks>) {
        match self.loaded.write() {
            Ok(mut g) => *g = l,
            Err(p) => *p.into_inner() = l,
        }
    }
}

/// Why an edit of the playbooks was refused.
#[derive(Debug)]
pub enum EditError {
    /// The document does not parse, or names what does not exist.
    Invalid(PlaybookError),
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    TooLarge,
    /// Another version was saved since the editor read it.
    Stale,
    /// Anything else (access, database).
    App(AppError),
}

impl From<AppError> for EditError {
    fn from(e: AppError) -> Self {
        EditError::App(e)
    }
}

/// One step of a case's checklist, with its last tick.
#[derive(Debug, Clone)]
pub struct CaseStep {
    /// The step.
    pub step: Step,
    /// Its last tick or untick, if any.
    pub tick: Option<PlaybookTick>,
}

impl CaseStep {
    /// Ticked now.
    pub fn done(&self) -> bool {
        self.tick.as_ref().is_some_and(|t| t.done)
    }
}

/// The playbook of one of a case's categories.
#[derive(Debug, Clone)]
pub struct CaseCard {
    /// The playbook (its steps are below).
    pub playbook: Playbook,
    /// The steps for this case: the general ones and those of the case's platforms.
    pub steps: Vec<CaseStep>,
    /// The steps of other platforms (shown apart, for when an item is not recorded yet).
    pub other_platforms: Vec<CaseStep>,
}

/// The guidance of a case.
#[derive(Debug, Clone)]
pub struct CaseGuidance {
    /// One card per category of the case that has a playbook.
    pub cards: Vec<CaseCard>,
    /// The reader may tick and untick.
    pub can_tick: bool,
}

/// The advice of one playbook, for the chat.
#[derive(Debug, Clone)]
pub struct AdviceGroup {
    /// The playbook (title, category).
    pub playbook: Playbook,
    /// The steps that carry advice.
    pub steps: Vec<Step>,
    /// One of the categories of the conversation's case.
    pub of_case: bool,
}

impl App {
    /// The playbooks in use (the latest version, read again only when it changed).
    pub async fn playbooks(&self) -> Result<Arc<LoadedPlaybooks>, AppError> {
        let cached = self.playbooks.get();
        let version = self.store.playbooks_version().await?;
        if version == cached.version {
            return Ok(cached);
        }
        let loaded = match self.store.latest_playbooks().await? {
            None => defaults_loaded(0, None),
            Some(v) => {
                let edited = Some((v.edited_by_name.clone(), v.edited_at));
                match v.document {
                    None => defaults_loaded(v.version, edited),
                    Some(text) => match Playbooks::parse(&text) {
                        Ok(p) => LoadedPlaybooks {
                            version: v.version,
                            playbooks: Arc::new(p),
                            document: text,
                            defaults: false,
                            edited,
                            problem: None,
                        },
                        Err(e) => {
                            tracing::warn!(
                                version = v.version,
                                "stored playbooks do not load: the defaults are used"
                            );
                            LoadedPlaybooks {
                                problem: Some(e.to_string()),
                                document: text,
                                ..defaults_loaded(v.version, edited)
                            }
                        }
                    },
                }
            }
        };
        let loaded = Arc::new(loaded);
        self.playbooks.set(loaded.clone());
        Ok(loaded)
    }

    /// The playbooks this node read last (for words that cannot wait on the database,
    /// such as a timeline's: a page reads [`App::playbooks`] first).
    pub fn playbooks_cached(&self) -> Arc<Playbooks> {
        self.playbooks.get().playbooks.clone()
    }

    /// The checklists of a case: one card per category of the case with a playbook, the
    /// steps of the platforms of its items, and each step's last tick.
    pub async fn case_guidance(&self, actor: &Actor, id: CaseId) -> Result<CaseGuidance, AppError> {
        let case = self.case_for(actor, id, Action::ReadCase).await?;
        let can_tick = can(
            actor,
            Action::FollowPlaybook,
            Resource::Case(&case.access()),
        );
        let loaded = self.playbooks().await?;
        let (items, ticks) = tokio::try_join!(self.store.items(id), self.store.playbook_ticks(id))?;
        let platforms: Vec<String> = items.iter().map(|i| i.platform.clone()).collect();
        let directory = self.directory();
        let with_tick = |category: &str, s: &Step| CaseStep {
            step: s.clone(),
            tick: ticks
                .iter()
                .find(|t| t.playbook == category && t.step == s.code)
                .cloned(),
        };
        let cards = case
            .categories
            .iter()
            .filter_map(|c| loaded.playbooks.for_category(c))
            .map(|p| {
                // a platform that left the directory hides the steps naming it alone
                let known = |s: &&Step| {
                    s.platforms.is_empty()
                        || s.platforms.iter().any(|x| directory.platform(x).is_some())
                };
                let (mine, others): (Vec<&Step>, Vec<&Step>) = p
                    .steps
                    .iter()
                    .filter(known)
                    .partition(|s| s.applies_to(&platforms));
                CaseCard {
                    steps: mine.iter().map(|s| with_tick(&p.category, s)).collect(),
                    other_platforms: others.iter().map(|s| with_tick(&p.category, s)).collect(),
                    playbook: p.clone(),
                }
            })
            .collect();
        Ok(CaseGuidance { cards, can_tick })
    }

    /// Ticks (`done`) or unticks a step of the playbook of one of the case's categories;
    /// the change is in the case's timeline. Those who may change the case may; others get
    /// `not_found`, as for a case that does not exist.
    pub async fn tick_playbook_step(
        &self,
        actor: &Actor,
        id: CaseId,
        playbook: &str,
        step: &str,
        done: bool,
    ) -> Result<(), AppError> {
        let case = self.case_for(actor, id, Action::FollowPlaybook).await?;
        if !case.categories.iter().any(|c| c == playbook) {
            return Err(AppError::field("playbook", "not a category of this case"));
        }
        let loaded = self.playbooks().await?;
        if loaded.playbooks.step(playbook, step).is_none() {
            return Err(AppError::field("step", "no such step"));
        }
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.id),
            AuditEvent::PlaybookStepTicked {
                playbook: playbook.to_owned(),
                step: step.to_owned(),
                done,
            },
        )
        .object(id)
        .case(id);
        self.store
            .set_playbook_tick(id, playbook, step, done, actor.id, &audit)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => AppError::not_found(),
                other => other.into(),
            })
    }

    /// The advice a counsellor can send in a conversation, by playbook (those of the
    /// categories of the conversation's case first), in the conversation's language.
    pub async fn chat_advice(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<(String, Vec<AdviceGroup>), AppError> {
        let conv = self.chat_for(actor, id, Action::ReadConversation).await?;
        let loaded = self.playbooks().await?;
        let case_categories = match conv.case_id {
            Some(c) => match self.store.case_by_id(c).await? {
                Some(case) if can(actor, Action::ReadCase, Resource::Case(&case.access())) => {
                    case.categories
                }
                _ => vec![],
            },
            None => vec![],
        };
        let mut groups: Vec<AdviceGroup> = loaded
            .playbooks
            .all()
            .iter()
            .map(|p| AdviceGroup {
                of_case: case_categories.contains(&p.category),
                steps: p
                    .steps
                    .iter()
                    .filter(|s| s.advice(&conv.lang).is_some())
                    .cloned()
                    .collect(),
                playbook: p.clone(),
            })
            .filter(|g| !g.steps.is_empty())
            .collect();
        groups.sort_by_key(|g| !g.of_case);
        Ok((conv.lang, groups))
    }

    /// Sends a step's advice into the conversation, in its language, through the
    /// counsellor's send path (once per `client_id`).
    pub async fn send_advice(
        &self,
        actor: &Actor,
        id: ConversationId,
        playbook: &str,
        step: &str,
        client_id: &str,
    ) -> Result<MessageRecord, AppError> {
        let conv = self.chat_for(actor, id, Action::WriteConversation).await?;
        let loaded = self.playbooks().await?;
        let text = loaded
            .playbooks
            .step(playbook, step)
            .and_then(|s| s.advice(&conv.lang))
            .ok_or_else(|| AppError::field("step", "no such advice"))?
            .to_owned();
        self.counsellor_send(actor, id, client_id, &text).await
    }

    /// The playbooks as the editor shows them (supervisors and administrators).
    pub async fn playbooks_for_edit(
        &self,
        actor: &Actor,
    ) -> Result<Arc<LoadedPlaybooks>, AppError> {
        if !can(actor, Action::EditPlaybooks, Resource::Global) {
            return Err(AppError::not_found());
        }
        self.playbooks().await
    }

    /// Saves an edited playbooks document on top of version `based_on`: it must parse and
    /// name only known categories, platforms and services. Answers the new version.
    pub async fn edit_playbooks(
        &self,
        actor: &Actor,
        based_on: i64,
        document: &str,
    ) -> Result<i64, EditError> {
        if !can(actor, Action::EditPlaybooks, Resource::Global) {
            return Err(AppError::not_found().into());
        }
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(EditError::TooLarge);
        }
        let p = Playbooks::parse(document).map_err(EditError::Invalid)?;
        p.check_references(&self.taxonomy, &self.directory())
            .map_err(EditError::Invalid)?;
        self.save_playbooks(actor, based_on, Some(document)).await
    }

    /// Sets the playbooks back to the embedded defaults (a new version).
    pub async fn restore_default_playbooks(
        &self,
        actor: &Actor,
        based_on: i64,
    ) -> Result<i64, EditError> {
        if !can(actor, Action::EditPlaybooks, Resource::Global) {
            return Err(AppError::not_found().into());
        }
        self.save_playbooks(actor, based_on, None).await
    }

    async fn save_playbooks(
        &self,
        actor: &Actor,
        based_on: i64,
        document: Option<&str>,
    ) -> Result<i64, EditError> {
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.id),
            AuditEvent::PlaybooksEdited {
                version: based_on + 1,
                defaults: document.is_none(),
            },
        );
        match self
            .store
            .save_playbooks(based_on, document, actor.id, &audit)
            .await
        {
            Ok(v) => {
                self.playbooks().await?;
                Ok(v)
            }
            Err(StorageError::Conflict) => Err(EditError::Stale),
            Err(e) => Err(AppError::from(e).into()),
        }
    }

    /// The services matching `query` (every word, accents and case ignored), of `kind` and
    /// in `region` (with the national ones) when given.
    pub fn search_services(
        &self,
        actor: &Actor,
        query: &str,
        kind: Option<&str>,
        region: Option<&str>,
    ) -> Result<Vec<Service>, AppError> {
        if !can(actor, Action::ReadGuidance, Resource::Global) {
            return Err(AppError::not_found());
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::field("q", "too long"));
        }
        let kind = kind
            .map(|k| ServiceKind::parse(k).map_err(|_| AppError::field("kind", "unknown value")))
            .transpose()?;
        let directory = self.directory();
        if let Some(r) = region
            && directory.region(r).is_none()
        {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                "region: unknown value",
            ));
        }
        Ok(directory
            .search_services(query, kind, region)
            .into_iter()
            .cloned()
            .collect())
    }
}
