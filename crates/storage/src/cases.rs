//! Cases, their assignees, contacts, items and notes.

use crate::audit::AuditEntry;
use crate::records::*;
use crate::sql::Query;
use crate::{Result, StorageError, Store, conflict_on_unique};
use rempart_domain::case::{CaseOutcome, CaseStatus, LegalQualification, NoteVisibility};
use rempart_domain::contact::ItemStatus;
use rempart_domain::ids::{CaseId, ContactId, ItemId, NoteId, StaffId};
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome};
use sqlx::Row;
use sqlx::any::AnyRow;

fn corrupt(what: &'static str) -> impl Fn(rempart_domain::labelled::UnknownCode) -> StorageError {
    move |_| StorageError::Corrupt(what)
}

fn case_id(r: &AnyRow, col: &'static str) -> Result<CaseId> {
    let s: String = r.try_get(col)?;
    CaseId::parse(&s).map_err(|_| StorageError::Corrupt("case id"))
}

fn staff_id(s: &str) -> Result<StaffId> {
    StaffId::parse(s).map_err(|_| StorageError::Corrupt("staff id"))
}

pub(crate) fn summary(r: &AnyRow) -> Result<CaseSummary> {
    let status: String = r.try_get("status")?;
    let cats: String = r.try_get("categories")?;
    let age: String = r.try_get("age_band")?;
    Ok(CaseSummary {
        id: case_id(r, "id")?,
        reference: r.try_get("reference")?,
        title: r.try_get("title")?,
        status: CaseStatus::parse(&status).map_err(corrupt("cases.status"))?,
        team: r.try_get("team")?,
        categories: decode_list(&cats),
        age_band: AgeBand::parse(&age).map_err(corrupt("cases.age_band"))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn search_text(reference: &str, title: &str, extra: &str) -> String {
    let mut s = rempart_domain::text::fold_for_search(&format!("{reference} {title} {extra}"));
    if s.len() > 8192 {
        let mut cut = 8192;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

const CASE_COLS: &str = "id, reference, title, status, outcome, team, categories, age_band, preferred_channel, \
    consents, legal_articles, dsa_category, created_by, created_at, updated_at, closed_at";

impl Store {
    /// Creates a case with its assignees and, optionally, the contact that opened it.
    pub async fn create_case(
        &self,
        c: &NewCase,
        contact: Option<&ContactRecord>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        insert_case(
            w.conn(),
            c,
            contact.map(|k| k.summary.as_str()).unwrap_or(""),
        )
        .await?;
        if let Some(k) = contact {
            insert_contact(w.conn(), k).await?;
        }
        w.commit(audit).await?;
        Ok(())
    }
}

/// Inserts a case and its assignees (inside the caller's transaction).
pub(crate) async fn insert_case(
    tx: &mut sqlx::AnyConnection,
    c: &NewCase,
    extra: &str,
) -> Result<()> {
    {
        sqlx::query(
            "INSERT INTO cases (id, reference, title, status, outcome, team, categories, age_band, preferred_channel, \
             consents, legal_articles, dsa_category, search_text, created_by, created_at, updated_at, closed_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, NULL)",
        )
        .bind(c.id.to_string())
        .bind(c.reference.clone())
        .bind(c.title.clone())
        .bind(CaseStatus::New.as_str())
        .bind(c.team.clone())
        .bind(encode_list(&c.categories))
        .bind(c.age_band.as_str())
        .bind(c.preferred_channel.map(|p| p.as_str()))
        .bind(encode_consents(&c.consents))
        .bind(encode_texts(&c.legal.articles))
        .bind(c.legal.dsa_category.clone())
        .bind(search_text(&c.reference, &c.title, extra))
        .bind(c.created_by.to_string())
        .bind(c.at)
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique)?;
        for a in &c.assignees {
            sqlx::query(
                "INSERT INTO case_assignees (case_id, staff_id, assigned_at) VALUES ($1, $2, $3)",
            )
            .bind(c.id.to_string())
            .bind(a.to_string())
            .bind(c.at)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    /// A case by id, with its assignees.
    pub async fn case_by_id(&self, id: CaseId) -> Result<Option<CaseRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLS} FROM cases WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        match r {
            None => Ok(None),
            Some(r) => Ok(Some(self.case_record(&r).await?)),
        }
    }

    /// A case by reference.
    pub async fn case_by_reference(&self, reference: &str) -> Result<Option<CaseRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLS} FROM cases WHERE reference = $1"
        )))
        .bind(reference.to_owned())
        .fetch_optional(self.pool())
        .await?;
        match r {
            None => Ok(None),
            Some(r) => Ok(Some(self.case_record(&r).await?)),
        }
    }

    async fn case_record(&self, r: &AnyRow) -> Result<CaseRecord> {
        let id = case_id(r, "id")?;
        let status: String = r.try_get("status")?;
        let outcome: Option<String> = r.try_get("outcome")?;
        let cats: String = r.try_get("categories")?;
        let age: String = r.try_get("age_band")?;
        let pref: Option<String> = r.try_get("preferred_channel")?;
        let consents: String = r.try_get("consents")?;
        let arts: String = r.try_get("legal_articles")?;
        let created_by: String = r.try_get("created_by")?;
        let assignees: Vec<String> = sqlx::query_scalar(
            "SELECT staff_id FROM case_assignees WHERE case_id = $1 ORDER BY assigned_at, staff_id",
        )
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        Ok(CaseRecord {
            id,
            reference: r.try_get("reference")?,
            title: r.try_get("title")?,
            status: CaseStatus::parse(&status).map_err(corrupt("cases.status"))?,
            outcome: outcome
                .map(|o| CaseOutcome::parse(&o))
                .transpose()
                .map_err(corrupt("cases.outcome"))?,
            team: r.try_get("team")?,
            categories: decode_list(&cats),
            age_band: AgeBand::parse(&age).map_err(corrupt("cases.age_band"))?,
            preferred_channel: pref
                .map(|p| Channel::parse(&p))
                .transpose()
                .map_err(corrupt("cases.channel"))?,
            consents: decode_consents(&consents).ok_or(StorageError::Corrupt("cases.consents"))?,
            legal: LegalQualification {
                articles: decode_texts(&arts),
                dsa_category: r.try_get("dsa_category")?,
            },
            assignees: assignees
                .iter()
                .map(|s| staff_id(s))
                .collect::<Result<_>>()?,
            created_by: staff_id(&created_by)?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            closed_at: r.try_get("closed_at")?,
        })
    }

    /// Changes a case's status if it still has `from` (optimistic check: a concurrent
    /// change gives `Conflict`).
    pub async fn change_case_status(
        &self,
        id: CaseId,
        from: CaseStatus,
        to: CaseStatus,
        outcome: Option<CaseOutcome>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let closed_at = (to == CaseStatus::Closed).then_some(audit.at);
        let n = sqlx::query(
            "UPDATE cases SET status = $1, outcome = $2, closed_at = $3, updated_at = $4 WHERE id = $5 AND status = $6",
        )
        .bind(to.as_str())
        .bind(outcome.map(|o| o.as_str()))
        .bind(closed_at)
        .bind(audit.at)
        .bind(id.to_string())
        .bind(from.as_str())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        w.commit(audit).await?;
        Ok(())
    }

    /// Replaces a case's assignees.
    pub async fn set_case_assignees(
        &self,
        id: CaseId,
        assignees: &[StaffId],
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query("UPDATE cases SET updated_at = $1 WHERE id = $2")
            .bind(audit.at)
            .bind(id.to_string())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        sqlx::query("DELETE FROM case_assignees WHERE case_id = $1")
            .bind(id.to_string())
            .execute(w.conn())
            .await?;
        for a in assignees {
            sqlx::query(
                "INSERT INTO case_assignees (case_id, staff_id, assigned_at) VALUES ($1, $2, $3)",
            )
            .bind(id.to_string())
            .bind(a.to_string())
            .bind(audit.at)
            .execute(w.conn())
            .await?;
        }
        w.commit(audit).await?;
        Ok(())
    }

    /// Adds an item to a case.
    pub async fn add_item(&self, i: &ItemRecord, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        touch_case(w.conn(), i.case_id, audit.at).await?;
        sqlx::query(
            "INSERT INTO items (id, case_id, platform, content_type, url, native_id, status, first_seen_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(i.id.to_string())
        .bind(i.case_id.to_string())
        .bind(i.platform.clone())
        .bind(i.content_type.clone())
        .bind(i.url.clone())
        .bind(i.native_id.clone())
        .bind(i.status.as_str())
        .bind(i.first_seen_at)
        .bind(i.created_by.to_string())
        .bind(i.created_at)
        .execute(w.conn())
        .await?;
        w.commit(audit).await?;
        Ok(())
    }

    /// A case's items, oldest first.
    pub async fn items(&self, case: CaseId) -> Result<Vec<ItemRecord>> {
        let rows = sqlx::query(
            "SELECT id, case_id, platform, content_type, url, native_id, status, first_seen_at, created_by, created_at \
             FROM items WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let status: String = r.try_get("status")?;
                let by: String = r.try_get("created_by")?;
                Ok(ItemRecord {
                    id: ItemId::parse(&id).map_err(|_| StorageError::Corrupt("items.id"))?,
                    case_id: case_id(r, "case_id")?,
                    platform: r.try_get("platform")?,
                    content_type: r.try_get("content_type")?,
                    url: r.try_get("url")?,
                    native_id: r.try_get("native_id")?,
                    status: ItemStatus::parse(&status).map_err(corrupt("items.status"))?,
                    first_seen_at: r.try_get("first_seen_at")?,
                    created_by: staff_id(&by)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Adds a note to a case.
    pub async fn add_note(&self, n: &NoteRecord, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        touch_case(w.conn(), n.case_id, audit.at).await?;
        sqlx::query(
            "INSERT INTO notes (id, case_id, visibility, body, author_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(n.id.to_string())
        .bind(n.case_id.to_string())
        .bind(n.visibility.as_str())
        .bind(n.body.clone())
        .bind(n.author_id.to_string())
        .bind(n.created_at)
        .execute(w.conn())
        .await?;
        w.commit(audit).await?;
        Ok(())
    }

    /// A case's notes of the given visibilities, newest first.
    pub async fn notes(
        &self,
        case: CaseId,
        visibilities: &[NoteVisibility],
    ) -> Result<Vec<NoteRecord>> {
        if visibilities.is_empty() {
            return Ok(vec![]);
        }
        let mut q = Query::new(
            "SELECT n.id, n.case_id, n.visibility, n.body, n.author_id, s.display_name, n.created_at \
             FROM notes n JOIN staff s ON s.id = n.author_id WHERE n.case_id = ",
        );
        q.bind_text(case.to_string());
        q.push(" AND n.visibility IN (");
        for (i, v) in visibilities.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind_text(v.as_str().to_owned());
        }
        q.push(") ORDER BY n.created_at DESC, n.id DESC");
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let vis: String = r.try_get(2)?;
                let author: String = r.try_get(4)?;
                Ok(NoteRecord {
                    id: NoteId::parse(&id).map_err(|_| StorageError::Corrupt("notes.id"))?,
                    case_id: case,
                    visibility: NoteVisibility::parse(&vis).map_err(corrupt("notes.visibility"))?,
                    body: r.try_get(3)?,
                    author_id: staff_id(&author)?,
                    author_name: r.try_get(5)?,
                    created_at: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Logs a contact; when it joins a case, the case's search text learns its summary.
    pub async fn add_contact(&self, k: &ContactRecord, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        if let Some(c) = k.case_id {
            let row = sqlx::query("SELECT reference, title, search_text FROM cases WHERE id = $1")
                .bind(c.to_string())
                .fetch_optional(w.conn())
                .await?
                .ok_or(StorageError::NotFound)?;
            let (r, t, s): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let extra = format!(
                "{} {}",
                s.get(r.len() + t.len() + 2..).unwrap_or(""),
                k.summary
            );
            sqlx::query("UPDATE cases SET search_text = $1, updated_at = $2 WHERE id = $3")
                .bind(search_text(&r, &t, extra.trim()))
                .bind(audit.at)
                .bind(c.to_string())
                .execute(w.conn())
                .await?;
        }
        insert_contact(w.conn(), k).await?;
        w.commit(audit).await?;
        Ok(())
    }

    /// Contacts of a case, newest first.
    pub async fn contacts_for_case(&self, case: CaseId) -> Result<Vec<ContactRecord>> {
        self.contacts_where("case_id", case.to_string()).await
    }

    /// Contacts of a pseudonymous person, newest first.
    pub async fn contacts_for_person(&self, person_key: &str) -> Result<Vec<ContactRecord>> {
        self.contacts_where("person_key", person_key.to_owned())
            .await
    }

    async fn contacts_where(&self, col: &'static str, v: String) -> Result<Vec<ContactRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, case_id, channel, caller_type, age_band, categories, summary, outcome, person_key, \
             started_at, duration_s, created_by, created_at FROM contacts WHERE {col} = $1 \
             ORDER BY started_at DESC, id DESC LIMIT 500"
        )))
        .bind(v)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(contact).collect()
    }

    /// Number of cases.
    pub async fn case_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM cases")
            .fetch_one(self.pool())
            .await?)
    }
}

fn contact(r: &AnyRow) -> Result<ContactRecord> {
    let id: String = r.try_get("id")?;
    let case: Option<String> = r.try_get("case_id")?;
    let ch: String = r.try_get("channel")?;
    let ct: String = r.try_get("caller_type")?;
    let age: String = r.try_get("age_band")?;
    let cats: String = r.try_get("categories")?;
    let out: String = r.try_get("outcome")?;
    let by: String = r.try_get("created_by")?;
    Ok(ContactRecord {
        id: ContactId::parse(&id).map_err(|_| StorageError::Corrupt("contacts.id"))?,
        case_id: case
            .map(|c| CaseId::parse(&c))
            .transpose()
            .map_err(|_| StorageError::Corrupt("contacts.case"))?,
        channel: Channel::parse(&ch).map_err(corrupt("contacts.channel"))?,
        caller_type: CallerType::parse(&ct).map_err(corrupt("contacts.caller_type"))?,
        age_band: AgeBand::parse(&age).map_err(corrupt("contacts.age_band"))?,
        categories: decode_list(&cats),
        summary: r.try_get("summary")?,
        outcome: ContactOutcome::parse(&out).map_err(corrupt("contacts.outcome"))?,
        person_key: r.try_get("person_key")?,
        started_at: r.try_get("started_at")?,
        duration_s: r.try_get("duration_s")?,
        created_by: staff_id(&by)?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) async fn insert_contact(tx: &mut sqlx::AnyConnection, k: &ContactRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO contacts (id, case_id, channel, caller_type, age_band, categories, summary, outcome, person_key, \
         started_at, duration_s, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(k.id.to_string())
    .bind(k.case_id.map(|c| c.to_string()))
    .bind(k.channel.as_str())
    .bind(k.caller_type.as_str())
    .bind(k.age_band.as_str())
    .bind(encode_list(&k.categories))
    .bind(k.summary.clone())
    .bind(k.outcome.as_str())
    .bind(k.person_key.clone())
    .bind(k.started_at)
    .bind(k.duration_s)
    .bind(k.created_by.to_string())
    .bind(k.created_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Marks a case changed at `at` (its row lock, on PostgreSQL, serialises the changes of
/// one case); `NotFound` when there is no such case.
pub(crate) async fn touch_case(tx: &mut sqlx::AnyConnection, id: CaseId, at: i64) -> Result<()> {
    let n = sqlx::query("UPDATE cases SET updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}
