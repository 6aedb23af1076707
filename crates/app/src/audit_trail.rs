//! Reading the audit trail (supervisors, administrators): every reading is itself audited.

use crate::App;
use crate::error::AppError;
use rempart_domain::audit::AuditRecord;
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::policy::{Action, Actor, Resource, can};
use rempart_storage::{AuditEntry, AuditFilter};
use std::collections::HashMap;

/// A page of the trail, with the names of the accounts it mentions.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// Events, newest first.
    pub events: Vec<AuditRecord>,
    /// Staff id → display name.
    pub names: HashMap<String, String>,
    /// Case id → reference, for the cases the page mentions.
    pub case_refs: HashMap<String, String>,
}

impl App {
    /// A page of the audit trail; the reading is audited.
    pub async fn audit_trail(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
    ) -> Result<AuditPage, AppError> {
        if !can(actor, Action::ReadAudit, Resource::Global) {
            return Err(AppError::not_found());
        }
        let events = self.store.audit_events(filter).await?;
        self.store
            .audit(&AuditEntry::new(
                self.now(),
                Some(actor.id),
                AuditEvent::AuditViewed,
            ))
            .await?;
        let names = self
            .store
            .list_staff()
            .await?
            .into_iter()
            .map(|s| (s.id.to_string(), s.display_name))
            .collect();
        let mut ids: Vec<String> = events.iter().filter_map(|e| e.case_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let case_refs = self.store.case_references(&ids).await?;
        Ok(AuditPage {
            events,
            names,
            case_refs,
        })
    }
}
