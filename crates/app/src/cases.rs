//! Case use-cases. Each checks the access policy first; a case the actor may not see
//! answers `not_found`, exactly like a case that does not exist (no existence leak).

use crate::App;
use crate::error::{AppError, ErrorCode};
use rempart_domain::audit::AuditRecord;
use rempart_domain::audit::event::{AuditEvent, ListQuery};
use rempart_domain::case::{
    CaseOutcome, CaseStatus, Consent, ConsentScope, LegalQualification, NoteVisibility,
};
use rempart_domain::contact::{ItemLocation, ItemStatus};
use rempart_domain::ids::{CaseId, ContactId, ItemId, NoteId, StaffId};
use rempart_domain::policy::{Action, Actor, Resource, can, case_scope};
use rempart_domain::taxonomy::ContentType;
use rempart_domain::values::{
    AgeBand, CallerType, CaseReference, Channel, ContactOutcome, ItemUrl, Text,
};
use rempart_storage::{
    AuditEntry, AuditFilter, CaseCursor, CaseFilter, CasePage, CaseRecord, ContactRecord,
    ItemRecord, NewCase, NoteRecord,
};

/// The case list query as the actor typed it.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// Status code.
    pub status: Option<CaseStatus>,
    /// Category code.
    pub category: Option<String>,
    /// Assignee.
    pub assignee: Option<StaffId>,
    /// Reference or words.
    pub text: Option<String>,
    /// Paging cursor.
    pub cursor: Option<CaseCursor>,
    /// The page before the cursor rather than after it.
    pub backward: bool,
    /// Whether to count the cases found (the console's list shows the total).
    pub with_total: bool,
    /// Page size.
    pub limit: Option<i64>,
}

/// A case page: the case and what the actor may see of it.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// The case.
    pub case: CaseRecord,
    /// Items.
    pub items: Vec<ItemRecord>,
    /// Notes the actor may read.
    pub notes: Vec<NoteRecord>,
    /// Contacts.
    pub contacts: Vec<ContactRecord>,
    /// Timeline (changes, newest first).
    pub timeline: Vec<AuditRecord>,
    /// Note visibilities the actor may write.
    pub writable_notes: Vec<NoteVisibility>,
    /// Whether the actor may change the case.
    pub can_update: bool,
}

/// A contact logged by hand (phone call, e-mail, letter, walk-in).
#[derive(Debug, Clone)]
pub struct ContactInput {
    /// Channel.
    pub channel: Channel,
    /// Caller type.
    pub caller_type: CallerType,
    /// Age band.
    pub age_band: AgeBand,
    /// Categories.
    pub categories: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Outcome.
    pub outcome: ContactOutcome,
    /// Start (ms); now when absent.
    pub started_at: Option<i64>,
    /// Duration, seconds.
    pub duration_s: Option<i64>,
    /// Join this case.
    pub case_id: Option<CaseId>,
}

/// A new case.
#[derive(Debug, Clone)]
pub struct CaseInput {
    /// Short title (no names).
    pub title: String,
    /// Categories.
    pub categories: Vec<String>,
    /// Age band.
    pub age_band: AgeBand,
    /// Preferred channel.
    pub preferred_channel: Option<Channel>,
    /// Consents given now (by the guardian or not).
    pub consents: Vec<(ConsentScope, bool)>,
    /// Penal articles; defaults from the categories when empty.
    pub articles: Vec<String>,
    /// Team handling it; the creator's team by default.
    pub team: Option<String>,
}

/// A new item.
#[derive(Debug, Clone)]
pub struct ItemInput {
    /// Platform code.
    pub platform: String,
    /// Content type.
    pub content_type: ContentType,
    /// URL.
    pub url: Option<String>,
    /// Native id.
    pub native_id: Option<String>,
    /// First seen (ms).
    pub first_seen_at: Option<i64>,
}

/// The keyed hash under which searched words are audited (see
/// [`App::search_words_hash`]).
pub fn search_words_hash(keys: &crate::keys::Keys, words: &str) -> String {
    let normal = words
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let mut h = crate::keyed_hex(&keys.search, &[normal.as_bytes()]);
    h.truncate(32);
    h
}

fn deny() -> AppError {
    AppError::not_found()
}

impl App {
    fn check_categories(&self, cats: &[String]) -> Result<Vec<String>, AppError> {
        let mut out: Vec<String> = Vec::new();
        for c in cats {
            if !self.taxonomy.contains(c) {
                return Err(AppError::field("categories", "unknown category"));
            }
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        Ok(out)
    }

    /// A page of the case list, filtered to what the actor may see. The request is
    /// audited: its filters, and the words searched as a keyed hash (the trail can confirm
    /// what was asked without keeping names).
    pub async fn list_cases(&self, actor: &Actor, q: &CaseQuery) -> Result<CasePage, AppError> {
        if !can(actor, Action::ListCases, Resource::Global) {
            return Err(AppError::not_found());
        }
        if let Some(c) = &q.category {
            self.check_categories(std::slice::from_ref(c))?;
        }
        self.store
            .audit(&AuditEntry::new(
                self.now(),
                Some(actor.id),
                AuditEvent::CasesListed(ListQuery {
                    status: q.status,
                    category: q.category.clone(),
                    assignee: q.assignee,
                    words: q.text.as_deref().map(|t| self.search_words_hash(t)),
                    paged: q.cursor.is_some(),
                }),
            ))
            .await?;
        let filter = CaseFilter {
            scope: case_scope(actor),
            status: q.status,
            category: q.category.clone(),
            assignee: q.assignee,
            text: q.text.clone().map(|t| t.chars().take(200).collect()),
            cursor: q.cursor.clone(),
            backward: q.backward && q.cursor.is_some(),
            limit: q.limit.unwrap_or(50),
        };
        let mut page = self.store.list_cases(&filter).await?;
        if q.with_total {
            page.total = Some(self.store.count_cases(&filter).await?);
        }
        Ok(page)
    }

    /// The keyed hash under which searched words are audited (normalised: trimmed, lower
    /// case, spaces collapsed), 32 hex digits: `rempart audit search-hash` computes the same.
    pub fn search_words_hash(&self, words: &str) -> String {
        search_words_hash(&self.keys, words)
    }

    /// The case a reference names, for joining it (a contact, a chat's end): a reference
    /// that is unknown and one the actor may not change answer alike (`invalid_field`).
    pub async fn case_for_reference(
        &self,
        actor: &Actor,
        reference: &str,
    ) -> Result<CaseId, AppError> {
        let no_such = || AppError::field("case_reference", "no such case");
        let r = CaseReference::parse(reference).map_err(|_| no_such())?;
        let Some(c) = self.store.case_by_reference(r.as_str()).await? else {
            return Err(no_such());
        };
        if !can(actor, Action::UpdateCase, Resource::Case(&c.access())) {
            self.store
                .audit(
                    &AuditEntry::new(self.now(), Some(actor.id), AuditEvent::CaseAccessDenied)
                        .object(c.id)
                        .case(c.id),
                )
                .await?;
            return Err(no_such());
        }
        Ok(c.id)
    }

    /// Loads a case the actor may perform `action` on.
    pub(crate) async fn case_for(
        &self,
        actor: &Actor,
        id: CaseId,
        action: Action,
    ) -> Result<CaseRecord, AppError> {
        let case = self.store.case_by_id(id).await?.ok_or_else(deny)?;
        if !can(actor, action, Resource::Case(&case.access())) {
            self.store
                .audit(
                    &AuditEntry::new(self.now(), Some(actor.id), AuditEvent::CaseAccessDenied)
                        .object(id)
                        .case(id),
                )
                .await?;
            return Err(deny());
        }
        Ok(case)
    }

    /// Opens a case page; the read is audited.
    pub async fn read_case(&self, actor: &Actor, id: CaseId) -> Result<CaseView, AppError> {
        let case = self.case_for(actor, id, Action::ReadCase).await?;
        let access = case.access();
        let readable: Vec<NoteVisibility> = NoteVisibility::ALL
            .iter()
            .copied()
            .filter(|v| can(actor, Action::ReadNotes(*v), Resource::Case(&access)))
            .collect();
        let writable_notes = NoteVisibility::ALL
            .iter()
            .copied()
            .filter(|v| can(actor, Action::AddNote(*v), Resource::Case(&access)))
            .collect();
        let tl_filter = AuditFilter {
            case_id: Some(id),
            changes_only: true,
            limit: 100,
            ..Default::default()
        };
        let (items, notes, contacts, timeline) = tokio::try_join!(
            self.store.items(id),
            self.store.notes(id, &readable),
            self.store.contacts_for_case(id),
            self.store.audit_events(&tl_filter),
        )?;
        self.store
            .audit(
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    AuditEvent::CaseRead {
                        notes: readable.clone(),
                    },
                )
                .object(id)
                .case(id),
            )
            .await?;
        Ok(CaseView {
            can_update: can(actor, Action::UpdateCase, Resource::Case(&access)),
            case,
            items,
            notes,
            contacts,
            timeline,
            writable_notes,
        })
    }

    /// Opens a case, optionally with the contact that led to it.
    pub async fn create_case(
        &self,
        actor: &Actor,
        input: CaseInput,
        contact: Option<ContactInput>,
    ) -> Result<CaseRecord, AppError> {
        let new = self.new_case(actor, input)?;
        let (id, now) = (new.id, new.at);
        let contact = match contact {
            None => None,
            Some(k) => Some(self.contact_record(actor, k, Some(id), now)?),
        };
        let audit = AuditEntry::new(now, Some(actor.id), AuditEvent::CaseCreated)
            .object(id)
            .case(id);
        self.store
            .create_case(&new, contact.as_ref(), &audit)
            .await?;
        self.store
            .case_by_id(id)
            .await?
            .ok_or_else(|| AppError::internal("case vanished"))
    }

    /// Checks a new case and builds its record (reference, legal defaults, the actor as
    /// first assignee), without storing it.
    pub(crate) fn new_case(&self, actor: &Actor, input: CaseInput) -> Result<NewCase, AppError> {
        if !can(actor, Action::CreateCase, Resource::Global) {
            return Err(AppError::not_found());
        }
        let title =
            Text::parse(&input.title, 200).map_err(|e| AppError::field("title", &e.to_string()))?;
        let categories = self.check_categories(&input.categories)?;
        // a team as the accounts' are written (which the access policy compares it with)
        let team = crate::staff::team(input.team.clone())?;
        let mut articles = input.articles.clone();
        for a in &articles {
            if a.is_empty() || a.len() > 60 || a.chars().any(char::is_control) {
                return Err(AppError::field("articles", "invalid article"));
            }
        }
        let mut dsa_category = None;
        for c in &categories {
            if let Some(cat) = self.taxonomy.get(c) {
                if input.articles.is_empty() {
                    for a in &cat.articles {
                        if !articles.contains(a) {
                            articles.push(a.clone());
                        }
                    }
                }
                dsa_category.get_or_insert_with(|| cat.dsa_category.clone());
            }
        }
        let now = self.now();
        let id = CaseId::new();
        let year = chrono::DateTime::from_timestamp_millis(now)
            .map(|d| chrono::Datelike::year(&d))
            .unwrap_or(2026);
        let mut rnd = [0u8; 4];
        getrandom::fill(&mut rnd).map_err(|_| AppError::internal("random"))?;
        let reference = CaseReference::generate(year, u32::from_le_bytes(rnd));
        Ok(NewCase {
            id,
            reference: reference.to_string(),
            title: title.into_string(),
            team: team.or_else(|| actor.team.clone()),
            categories,
            age_band: input.age_band,
            preferred_channel: input.preferred_channel,
            consents: input
                .consents
                .iter()
                .map(|(scope, by_guardian)| Consent {
                    scope: *scope,
                    by_guardian: *by_guardian,
                    at_ms: now,
                })
                .collect(),
            legal: LegalQualification {
                articles,
                dsa_category,
            },
            assignees: vec![actor.id],
            created_by: actor.id,
            at: now,
        })
    }

    fn contact_record(
        &self,
        actor: &Actor,
        k: ContactInput,
        case: Option<CaseId>,
        now: i64,
    ) -> Result<ContactRecord, AppError> {
        let summary = Text::parse(&k.summary, 4000)
            .map_err(|e| AppError::field("summary", &e.to_string()))?;
        if let Some(d) = k.duration_s
            && !(0..=86_400).contains(&d)
        {
            return Err(AppError::field("duration_s", "out of range"));
        }
        let started_at = k.started_at.unwrap_or(now);
        if started_at > now + 60_000 || started_at < now - 366 * 86_400_000 {
            return Err(AppError::field("started_at", "out of range"));
        }
        Ok(ContactRecord {
            id: ContactId::new(),
            case_id: case.or(k.case_id),
            channel: k.channel,
            caller_type: k.caller_type,
            age_band: k.age_band,
            categories: self.check_categories(&k.categories)?,
            summary: summary.into_string(),
            outcome: k.outcome,
            person_key: None,
            started_at,
            duration_s: k.duration_s,
            created_by: actor.id,
            created_at: now,
        })
    }

    /// Logs a contact by hand, alone or joining a case the actor may update.
    pub async fn log_contact(
        &self,
        actor: &Actor,
        k: ContactInput,
    ) -> Result<ContactRecord, AppError> {
        if !can(actor, Action::LogContact, Resource::Global) {
            return Err(AppError::not_found());
        }
        if let Some(c) = k.case_id {
            self.case_for(actor, c, Action::UpdateCase).await?;
        }
        let now = self.now();
        let rec = self.contact_record(actor, k, None, now)?;
        let mut audit = AuditEntry::new(
            now,
            Some(actor.id),
            AuditEvent::ContactLogged {
                channel: rec.channel,
            },
        )
        .object(rec.id);
        if let Some(c) = rec.case_id {
            audit = audit.case(c);
        }
        self.store.add_contact(&rec, &audit).await?;
        Ok(rec)
    }

    /// Changes a case's status (closing needs an outcome).
    pub async fn change_status(
        &self,
        actor: &Actor,
        id: CaseId,
        to: CaseStatus,
        outcome: Option<CaseOutcome>,
    ) -> Result<CaseRecord, AppError> {
        let case = self.case_for(actor, id, Action::ChangeCaseStatus).await?;
        case.status
            .change(to, outcome)
            .map_err(|e| AppError::new(ErrorCode::InvalidTransition, e.to_string()))?;
        let now = self.now();
        self.store
            .change_case_status(
                id,
                case.status,
                to,
                outcome,
                &AuditEntry::new(
                    now,
                    Some(actor.id),
                    AuditEvent::CaseStatusChanged {
                        from: case.status,
                        to,
                        outcome,
                    },
                )
                .object(id)
                .case(id),
            )
            .await?;
        self.store.case_by_id(id).await?.ok_or_else(deny)
    }

    /// Replaces a case's assignees (each must be an enabled account that works cases).
    pub async fn assign(
        &self,
        actor: &Actor,
        id: CaseId,
        assignees: Vec<StaffId>,
    ) -> Result<CaseRecord, AppError> {
        self.case_for(actor, id, Action::AssignCase).await?;
        let mut unique: Vec<StaffId> = Vec::new();
        for a in assignees {
            let s = self
                .store
                .staff_by_id(a)
                .await?
                .ok_or_else(|| AppError::field("assignees", "unknown account"))?;
            if s.disabled || !s.role.works_cases() {
                return Err(AppError::field("assignees", "account cannot work cases"));
            }
            if !unique.contains(&a) {
                unique.push(a);
            }
        }
        if unique.len() > 20 {
            return Err(AppError::field("assignees", "too many"));
        }
        let now = self.now();
        self.store
            .set_case_assignees(
                id,
                &unique,
                &AuditEntry::new(
                    now,
                    Some(actor.id),
                    AuditEvent::CaseAssigned {
                        assignees: unique.clone(),
                    },
                )
                .object(id)
                .case(id),
            )
            .await?;
        self.store.case_by_id(id).await?.ok_or_else(deny)
    }

    /// Adds an item (URL and/or native id on a known platform).
    pub async fn add_item(
        &self,
        actor: &Actor,
        id: CaseId,
        input: ItemInput,
    ) -> Result<ItemRecord, AppError> {
        self.case_for(actor, id, Action::UpdateCase).await?;
        if self.directory().platform(&input.platform).is_none() {
            return Err(AppError::field("platform", "unknown platform"));
        }
        let url = match input
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            None => None,
            Some(u) => {
                let parsed =
                    ItemUrl::parse(u).map_err(|e| AppError::field("url", &e.to_string()))?;
                // never fetched, but a platform's content is on the public internet: a
                // private, loopback or local address is a mistake or an attempt
                rempart_delivery::check_item_url(parsed.as_str()).map_err(|e| {
                    AppError::field("url", &format!("not a public address ({})", e.code()))
                })?;
                Some(parsed)
            }
        };
        let loc = ItemLocation::new(url, input.native_id.as_deref())
            .map_err(|e| AppError::field("url", &e.to_string()))?;
        let now = self.now();
        let item = ItemRecord {
            id: ItemId::new(),
            case_id: id,
            platform: input.platform,
            content_type: input.content_type.as_str().to_owned(),
            url: loc.url().map(|u| u.as_str().to_owned()),
            native_id: loc.native_id().map(str::to_owned),
            status: ItemStatus::Online,
            first_seen_at: input.first_seen_at,
            created_by: actor.id,
            created_at: now,
        };
        self.store
            .add_item(
                &item,
                &AuditEntry::new(
                    now,
                    Some(actor.id),
                    AuditEvent::ItemAdded {
                        platform: item.platform.clone(),
                    },
                )
                .object(item.id)
                .case(id),
            )
            .await?;
        Ok(item)
    }

    /// Adds a note of a visibility the actor may write.
    pub async fn add_note(
        &self,
        actor: &Actor,
        id: CaseId,
        visibility: NoteVisibility,
        body: &str,
    ) -> Result<NoteRecord, AppError> {
        self.case_for(actor, id, Action::AddNote(visibility))
            .await?;
        let body =
            Text::parse(body, 10_000).map_err(|e| AppError::field("body", &e.to_string()))?;
        let now = self.now();
        let note = NoteRecord {
            id: NoteId::new(),
            case_id: id,
            visibility,
            body: body.into_string(),
            author_id: actor.id,
            author_name: String::new(),
            created_at: now,
        };
        self.store
            .add_note(
                &note,
                &AuditEntry::new(now, Some(actor.id), AuditEvent::NoteAdded { visibility })
                    .object(note.id)
                    .case(id),
            )
            .await?;
        Ok(note)
    }
}
