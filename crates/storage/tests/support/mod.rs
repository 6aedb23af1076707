//! What the storage test files share: a fresh migrated store, an account, a case.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use rempart_domain::case::{Consent, ConsentScope, LegalQualification};
use rempart_domain::ids::*;
use rempart_domain::policy::Role;
use rempart_domain::values::*;
use rempart_storage::testing::{TestDb, fresh_database};
use rempart_storage::*;

pub async fn store() -> (Store, TestDb) {
    let db = fresh_database().await.unwrap();
    let s = Store::connect(&db.url, &rempart_storage::testing::options())
        .await
        .unwrap();
    assert_eq!(s.migrate().await.unwrap(), 19);
    assert_eq!(s.migrate().await.unwrap(), 0, "migrations apply once");
    (s, db)
}

pub fn staff(email: &str, role: Role, team: Option<&str>) -> StaffRecord {
    StaffRecord {
        id: StaffId::new(),
        email: email.into(),
        display_name: format!("Agent {email}"),
        role,
        team: team.map(Into::into),
        lang: "fr".into(),
        password_hash: "x".into(),
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: 0,
        recovery_codes: vec![],
        disabled: false,
        second_factor_failures: 0,
        second_factor_locked_until: 0,
        passkeys: 0,
        created_at: 1,
    }
}

pub fn new_case(by: StaffId, reference: &str, title: &str, at: i64, team: Option<&str>) -> NewCase {
    NewCase {
        id: CaseId::new(),
        reference: reference.into(),
        title: title.into(),
        team: team.map(Into::into),
        categories: vec!["cyber_harassment".into(), "intimate_images".into()],
        age_band: AgeBand::From11To14,
        preferred_channel: Some(Channel::WhatsApp),
        consents: vec![Consent {
            scope: ConsentScope::NoticeToPlatform,
            by_guardian: true,
            at_ms: at,
        }],
        legal: LegalQualification {
            // a full reference holds a comma: it must come back whole
            articles: vec!["Code pénal, art. 226-2-1".into(), "227-23".into()],
            dsa_category: Some("STATEMENT_CATEGORY_CYBER_VIOLENCE".into()),
        },
        assignees: vec![by],
        created_by: by,
        at,
    }
}

pub fn audit(at: i64, actor: StaffId, action: &'static str) -> AuditEntry {
    AuditEntry::new(at, Some(actor), rempart_storage::testing::event(action))
}
