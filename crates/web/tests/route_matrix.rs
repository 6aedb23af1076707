//! Walks every route of the router × every role (and no session) × (own object, someone
//! else's, a missing one) against the expected table below, written independently of the
//! policy code. A route without an entry fails the test.
//!
//! "Own" and "someone else's" depend on what the path names: a case (assigned to the
//! caller or not), a conversation (the caller's or another counsellor's), a message left
//! while closed (takeable, or an active conversation that is not), an invitation or role
//! grant awaiting approval (asked by another administrator, or by the caller), a passkey
//! (the caller's or another's), an invitation link (open, or withdrawn).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::audit::event::AuditEvent;
use rempart_domain::case::{CaseStatus, LegalQualification};
use rempart_domain::chat::ConversationStatus;
use rempart_domain::ids::{CaseId, ConversationId, StaffId};
use rempart_domain::policy::Role;
use rempart_domain::values::{AgeBand, Channel};
use rempart_storage::{
    AuditEntry, InvitationRecord, InvitationStatus, NewCase, NewConversation, PasskeyRecord,
    RoleGrantRecord, StaffRecord,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use support::*;

/// Who may call each route: `own` = roles allowed on their own object (or on the route
/// when it names none), `other` = roles allowed on someone else's.
/// Letters: C counsellor, P psychologist, L lawyer, D digital specialist, S supervisor,
/// A admin; `*` = also without any session (public).
const EXPECTED: &[(&str, &str, &str)] = &[
    ("GET /healthz", "*CPLDSA", "*CPLDSA"),
    ("GET /readyz", "*CPLDSA", "*CPLDSA"),
    ("GET /metrics", "*CPLDSA", "*CPLDSA"),
    ("GET /assets/{file}", "*CPLDSA", "*CPLDSA"),
    ("GET /api/v1/openapi.json", "*CPLDSA", "*CPLDSA"),
    ("GET /", "CPLDSA", "CPLDSA"),
    ("GET /login", "*CPLDSA", "*CPLDSA"),
    ("POST /login", "*CPLDSA", "*CPLDSA"),
    ("GET /login/totp", "CPLDSA", "CPLDSA"),
    ("POST /login/totp", "CPLDSA", "CPLDSA"),
    ("POST /login/passkey/options", "CPLDSA", "CPLDSA"),
    ("POST /login/passkey", "CPLDSA", "CPLDSA"),
    ("POST /logout", "CPLDSA", "CPLDSA"),
    ("GET /lang/{lang}", "*CPLDSA", "*CPLDSA"),
    ("GET /invite/{token}", "*CPLDSA", ""),
    ("POST /invite/{token}", "*CPLDSA", ""),
    ("GET /account", "CPLDSA", "CPLDSA"),
    ("POST /account/totp", "CPLDSA", "CPLDSA"),
    ("POST /account/passkeys/options", "CPLDSA", "CPLDSA"),
    ("POST /account/passkeys", "CPLDSA", "CPLDSA"),
    ("POST /account/passkeys/{id}/delete", "CPLDSA", ""),
    ("GET /cases", "CPLDS", "CPLDS"),
    ("GET /cases/{id}", "CPLDS", "S"),
    ("POST /cases/{id}/status", "CPLDS", "S"),
    ("POST /cases/{id}/assignees", "CPLDS", "S"),
    ("POST /cases/{id}/items", "CPLDS", "S"),
    ("POST /cases/{id}/notes", "CPLDS", "S"),
    ("POST /cases/{id}/evidence", "CPLDS", "S"),
    ("POST /cases/{id}/evidence/notes", "CPLDS", "S"),
    ("POST /cases/{id}/evidence/fingerprints", "CPLDS", "S"),
    ("POST /cases/{id}/follow-up", "CPLDS", "S"),
    ("POST /cases/{id}/referrals", "CPLDS", "S"),
    ("POST /cases/{id}/referrals/{referral}/basis", "CPLDS", "S"),
    (
        "POST /cases/{id}/referrals/{referral}/transmission",
        "CPLDS",
        "S",
    ),
    ("POST /cases/{id}/referrals/{referral}/events", "CPLDS", "S"),
    ("POST /cases/{id}/follow-up/revoke", "CPLDS", "S"),
    ("POST /cases/{id}/follow-up/messages", "CPLDS", "S"),
    ("GET /follow-up", "*CPLDSA", "*CPLDSA"),
    ("POST /follow-up", "*CPLDSA", "*CPLDSA"),
    ("POST /follow-up/messages", "*CPLDSA", "*CPLDSA"),
    ("POST /follow-up/evidence", "*CPLDSA", "*CPLDSA"),
    ("POST /follow-up/fingerprints", "*CPLDSA", "*CPLDSA"),
    ("POST /follow-up/leave", "*CPLDSA", "*CPLDSA"),
    ("POST /follow-up/exit", "*CPLDSA", "*CPLDSA"),
    ("GET /api/v1/cases/{id}/evidence", "CPLDS", "S"),
    ("GET /api/v1/cases/{id}/referrals", "CPLDS", "S"),
    ("POST /api/v1/cases/{id}/referrals", "CPLDS", "S"),
    (
        "POST /api/v1/cases/{id}/referrals/{referral}/basis",
        "CPLDS",
        "S",
    ),
    (
        "POST /api/v1/cases/{id}/referrals/{referral}/transmission",
        "CPLDS",
        "S",
    ),
    (
        "POST /api/v1/cases/{id}/referrals/{referral}/events",
        "CPLDS",
        "S",
    ),
    ("POST /api/v1/cases/{id}/evidence/files", "CPLDS", "S"),
    (
        "POST /api/v1/cases/{id}/evidence/fingerprints",
        "CPLDS",
        "S",
    ),
    ("POST /api/v1/cases/{id}/evidence/notes", "CPLDS", "S"),
    (
        "GET /api/v1/cases/{id}/evidence/{evidence}/display",
        "CPLDS",
        "S",
    ),
    (
        "GET /api/v1/cases/{id}/evidence/{evidence}/revealed",
        "CPLDS",
        "S",
    ),
    (
        "GET /api/v1/cases/{id}/evidence/{evidence}/clean",
        "LDS",
        "S",
    ),
    (
        "GET /api/v1/cases/{id}/evidence/{evidence}/original",
        "LDS",
        "S",
    ),
    ("GET /api/v1/cases/{id}/evidence-export", "LDS", "S"),
    (
        "GET /api/v1/cases/{id}/referrals/{referral}/package",
        "LDS",
        "S",
    ),
    ("GET /api/v1/cases/{id}/complaint", "CPLDS", "S"),
    ("POST /cases/{id}/notices", "CPLDS", "S"),
    ("POST /cases/{id}/playbook", "CPLDS", "S"),
    ("GET /services", "CPLDSA", "CPLDSA"),
    ("GET /playbooks", "SA", "SA"),
    ("POST /playbooks", "SA", "SA"),
    ("POST /playbooks/restore", "SA", "SA"),
    ("POST /notices/{id}/edit", "CPLDS", "S"),
    ("POST /notices/{id}/ready", "CPLDS", "S"),
    ("POST /notices/{id}/unready", "CPLDS", "S"),
    ("POST /notices/{id}/validate", "CPLDS", "S"),
    ("POST /notices/{id}/send", "CPLDS", "S"),
    ("POST /notices/{id}/acknowledge", "CPLDS", "S"),
    ("POST /notices/{id}/decision", "CPLDS", "S"),
    ("POST /notices/{id}/contest", "CPLDS", "S"),
    ("GET /notices", "CPLDS", "CPLDS"),
    ("GET /platforms/{platform}", "CPLDS", "CPLDS"),
    ("GET /api/v1/cases/{id}/notices", "CPLDS", "S"),
    ("POST /callbacks/coop/{platform}", "*CPLDSA", "*CPLDSA"),
    (
        "POST /callbacks/coop/{platform}/appeal",
        "*CPLDSA",
        "*CPLDSA",
    ),
    ("POST /api/v1/cases/{id}/notices", "CPLDS", "S"),
    ("GET /api/v1/notices/{id}", "CPLDS", "S"),
    ("PUT /api/v1/notices/{id}", "CPLDS", "S"),
    ("POST /api/v1/notices/{id}/ready", "CPLDS", "S"),
    ("POST /api/v1/notices/{id}/unready", "CPLDS", "S"),
    ("POST /api/v1/notices/{id}/validate", "CPLDS", "S"),
    ("POST /api/v1/notices/{id}/send", "CPLDS", "S"),
    ("POST /api/v1/notices/{id}/acknowledge", "CPLDS", "S"),
    ("POST /api/v1/notices/{id}/decision", "CPLDS", "S"),
    ("POST /api/v1/notices/{id}/contest", "CPLDS", "S"),
    ("GET /api/v1/notices", "CPLDS", "CPLDS"),
    ("GET /api/v1/platforms/{platform}/figures", "CPLDS", "CPLDS"),
    ("GET /contacts/new", "CPLDS", "CPLDS"),
    ("POST /contacts", "CPLDS", "CPLDS"),
    ("GET /admin/staff", "A", "A"),
    ("GET /admin/platforms", "A", "A"),
    ("GET /admin/platforms/{platform}/keys", "A", "A"),
    ("POST /admin/platforms/{platform}/keys", "A", "A"),
    ("POST /admin/platforms/{platform}/keys/revoke", "A", "A"),
    ("POST /admin/platforms/reload", "A", "A"),
    ("POST /admin/invitations", "A", "A"),
    ("POST /admin/invitations/{id}/revoke", "A", "A"),
    ("POST /admin/invitations/{id}/approve", "A", ""),
    ("POST /admin/invitations/{id}/refuse", "A", ""),
    ("POST /admin/staff/{id}/role", "A", "A"),
    ("POST /admin/grants/{id}/approve", "A", ""),
    ("POST /admin/grants/{id}/refuse", "A", ""),
    ("POST /admin/staff/{id}/edit", "A", "A"),
    ("POST /admin/staff/{id}/disable", "A", "A"),
    ("POST /admin/staff/{id}/enable", "A", "A"),
    ("GET /audit", "SA", "SA"),
    ("POST /api/v1/auth/login", "*CPLDSA", "*CPLDSA"),
    ("POST /api/v1/auth/totp", "CPLDSA", "CPLDSA"),
    ("POST /api/v1/auth/logout", "CPLDSA", "CPLDSA"),
    ("POST /api/v1/invitations/accept", "*CPLDSA", "*CPLDSA"),
    ("GET /api/v1/me", "CPLDSA", "CPLDSA"),
    ("GET /api/v1/cases", "CPLDS", "CPLDS"),
    ("POST /api/v1/cases", "CPLDS", "CPLDS"),
    ("GET /api/v1/cases/{id}", "CPLDS", "S"),
    ("POST /api/v1/cases/{id}/status", "CPLDS", "S"),
    ("PUT /api/v1/cases/{id}/assignees", "CPLDS", "S"),
    ("POST /api/v1/cases/{id}/items", "CPLDS", "S"),
    ("POST /api/v1/cases/{id}/notes", "CPLDS", "S"),
    ("POST /api/v1/contacts", "CPLDS", "CPLDS"),
    ("GET /api/v1/staff", "A", "A"),
    ("PUT /api/v1/staff/{id}/role", "A", "A"),
    ("POST /api/v1/staff/{id}/disable", "A", "A"),
    ("POST /api/v1/staff/{id}/enable", "A", "A"),
    ("GET /api/v1/invitations", "A", "A"),
    ("POST /api/v1/invitations", "A", "A"),
    ("POST /api/v1/invitations/{id}/approve", "A", ""),
    ("POST /api/v1/invitations/{id}/refuse", "A", ""),
    ("POST /api/v1/invitations/{id}/revoke", "A", "A"),
    ("GET /api/v1/role-grants", "A", "A"),
    ("POST /api/v1/role-grants/{id}/approve", "A", ""),
    ("POST /api/v1/role-grants/{id}/refuse", "A", ""),
    ("GET /api/v1/audit", "SA", "SA"),
    ("GET /api/v1/categories", "CPLDSA", "CPLDSA"),
    ("GET /api/v1/platforms", "CPLDSA", "CPLDSA"),
    ("GET /chats", "CPLDS", "CPLDS"),
    ("GET /chats/live", "CPLDS", "CPLDS"),
    ("GET /chats/search", "CPLDS", "CPLDS"),
    ("POST /chats/availability", "CPLDS", "CPLDS"),
    ("PUT /api/v1/chats/availability", "CPLDS", "CPLDS"),
    ("POST /chats/take", "CPLDS", "CPLDS"),
    ("GET /chats/{id}", "CPLDS", "S"),
    ("POST /chats/{id}/take", "CPLDS", ""),
    ("POST /chats/{id}/messages", "CPLDS", ""),
    ("POST /chats/{id}/end", "CPLDS", ""),
    ("POST /chats/{id}/advice", "CPLDS", ""),
    ("POST /chats/{id}/transfer", "CPLDS", ""),
    ("GET /demo", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/frame", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/v1/status", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/v1/challenge", "*CPLDSA", "*CPLDSA"),
    ("POST /widget/v1/sessions", "*CPLDSA", "*CPLDSA"),
    ("POST /widget/v1/follow-up", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/v1/messages", "*CPLDSA", "*CPLDSA"),
    ("POST /widget/v1/messages", "*CPLDSA", "*CPLDSA"),
    ("POST /widget/v1/typing", "*CPLDSA", "*CPLDSA"),
    ("POST /widget/v1/leave", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/v1/ws", "*CPLDSA", "*CPLDSA"),
    ("GET /api/v1/chats", "CPLDS", "CPLDS"),
    ("POST /api/v1/chats/take", "CPLDS", "CPLDS"),
    ("POST /api/v1/chats/{id}/take", "CPLDS", ""),
    ("GET /api/v1/chats/{id}/messages", "CPLDS", "S"),
    ("POST /api/v1/chats/{id}/messages", "CPLDS", ""),
    ("POST /api/v1/chats/{id}/end", "CPLDS", ""),
    ("POST /api/v1/chats/{id}/transfer", "CPLDS", ""),
    ("GET /api/v1/ws", "CPLDSA", "CPLDSA"),
    // the platforms' own API: a partner key, never a staff session (tests/partner.rs
    // walks it with every kind of key)
    ("GET /partner/v1/notices", "", ""),
    ("GET /partner/v1/notices/{id}", "", ""),
    ("POST /partner/v1/notices/{id}/acknowledgement", "", ""),
    ("POST /partner/v1/notices/{id}/decision", "", ""),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ownership {
    Mine,
    Theirs,
    Missing,
}

struct Who {
    letter: char,
    staff: Option<StaffRecord>,
    token: String,
    csrf: String,
    own_case: CaseId,
    own_chat: ConversationId,
    own_passkey: String,
}

fn letter(r: Role) -> char {
    match r {
        Role::Counsellor => 'C',
        Role::Psychologist => 'P',
        Role::Lawyer => 'L',
        Role::DigitalSpecialist => 'D',
        Role::Supervisor => 'S',
        Role::Admin => 'A',
    }
}

fn unique() -> String {
    rempart_app::random_hex(6).unwrap()
}

fn rand_u32() -> u32 {
    u32::from_str_radix(&rempart_app::random_hex(4).unwrap(), 16).unwrap()
}

async fn login(t: &TestApp, s: &StaffRecord) -> (String, String) {
    let r = t
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": s.email, "password": PASSWORD}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    (
        v["token"].as_str().unwrap().to_owned(),
        v["csrf_token"].as_str().unwrap().to_owned(),
    )
}

/// A conversation assigned to `owner` (taken from the queue directly in the store).
async fn chat_for(t: &TestApp, owner: StaffId) -> ConversationId {
    let c = t
        .app
        .start_chat(rempart_app::chat::ChatStart::default())
        .await
        .unwrap()
        .conversation;
    // the queue holds only this one now
    let taken = t
        .store
        .take_next(owner, Role::Counsellor, t.app.now(), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, c.id);
    c.id
}

/// A message left while the line was closed (written to the database as a node does).
async fn left_message(t: &TestApp, follow_up: Option<&str>) -> ConversationId {
    let id = ConversationId::new();
    let keys = rempart_app::keys::Keys::derive(TEST_MASTER_KEY.as_bytes());
    t.store
        .create_conversation(
            &NewConversation {
                id,
                token_hash: unique(),
                person_key: unique(),
                channel: Channel::WebChat,
                status: ConversationStatus::LeftMessage,
                caller_type: None,
                age_band: None,
                priority: 0,
                lang: "fr".into(),
                at: t.app.now(),
                follow_up_hash: follow_up.map(|c| keys.follow_up_hash(c)),
            },
            &AuditEntry::new(
                t.app.now(),
                None,
                AuditEvent::ConversationStarted { left_message: true },
            ),
        )
        .await
        .unwrap();
    id
}

async fn case_for(t: &TestApp, owner: StaffId, team: Option<&str>) -> CaseId {
    let id = CaseId::new();
    let now = t.app.now();
    let c = NewCase {
        id,
        reference: rempart_domain::values::CaseReference::generate(2026, rand_u32()).to_string(),
        title: "matrix".into(),
        team: team.map(Into::into),
        categories: vec!["cyber_harassment".into()],
        age_band: AgeBand::From11To14,
        preferred_channel: None,
        consents: vec![],
        legal: LegalQualification::default(),
        assignees: vec![owner],
        created_by: owner,
        at: now,
    };
    t.store
        .create_case(
            &c,
            None,
            &AuditEntry::new(now, Some(owner), AuditEvent::CaseCreated).case(id),
        )
        .await
        .unwrap();
    id
}

/// A fresh draft notice on `case`, about one new item of the case.
async fn notice_on(t: &TestApp, case: CaseId, by: StaffId) -> String {
    let now = t.app.now();
    let item = rempart_storage::ItemRecord {
        id: rempart_domain::ids::ItemId::new(),
        case_id: case,
        platform: "snapchat".into(),
        content_type: "account".into(),
        url: None,
        native_id: Some(format!("@matrix_{}", unique())),
        status: rempart_domain::contact::ItemStatus::Online,
        first_seen_at: None,
        created_by: by,
        created_at: now,
    };
    t.store
        .add_item(
            &item,
            &AuditEntry::new(
                now,
                Some(by),
                AuditEvent::ItemAdded {
                    platform: "snapchat".into(),
                },
            ),
        )
        .await
        .unwrap();
    let id = rempart_domain::ids::NoticeId::new();
    t.store
        .create_notices(
            &[rempart_storage::NewNotice {
                id,
                reference: format!("MATRIX-{}", unique()),
                case_id: case,
                platform: "snapchat".into(),
                category: "cyber_harassment".into(),
                lang: "fr".into(),
                explanation: "matrix".into(),
                sexual_images_of_minor: false,
                needs_validation: false,
                expected_hours: 24,
                items: vec![item.id],
                created_by: by,
                at: now,
            }],
            &AuditEntry::new(now, Some(by), AuditEvent::NoticesDrafted { count: 1 }),
        )
        .await
        .unwrap();
    id.to_string()
}

/// An invitation (open with a token, or waiting for approval) issued by `by`.
async fn invitation(t: &TestApp, by: StaffId, pending: bool) -> (String, String) {
    let token = rempart_app::random_hex(32).unwrap();
    let id = uuid_like();
    let now = t.app.now();
    t.store
        .create_invitation(
            &InvitationRecord {
                id: id.clone(),
                token_hash: (!pending).then(|| rempart_app::sha256_hex(token.as_bytes())),
                email: format!("invited-{}@test.invalid", unique()),
                display_name: "Invited".into(),
                role: if pending {
                    Role::Supervisor
                } else {
                    Role::Counsellor
                },
                team: None,
                lang: "fr".into(),
                status: if pending {
                    InvitationStatus::PendingApproval
                } else {
                    InvitationStatus::Open
                },
                invited_by: by,
                approved_by: None,
                created_at: now,
                expires_at: now + 3_600_000,
            },
            &AuditEntry::new(
                now,
                Some(by),
                AuditEvent::StaffInvited {
                    role: Role::Counsellor,
                    pending_approval: pending,
                },
            ),
        )
        .await
        .unwrap();
    (id, token)
}

/// A grant of the supervisor role to a new account, asked by `by`.
async fn grant(t: &TestApp, by: StaffId) -> String {
    let target = t.staff(Role::Counsellor, None).await.id;
    let id = uuid_like();
    t.store
        .request_role_grant(
            &RoleGrantRecord {
                id: id.clone(),
                staff_id: target,
                role: Role::Supervisor,
                team: None,
                requested_by: by,
                created_at: t.app.now(),
            },
            &AuditEntry::new(
                t.app.now(),
                Some(by),
                AuditEvent::RoleGrantRequested {
                    role: Role::Supervisor,
                },
            ),
        )
        .await
        .unwrap();
    id
}

/// A small screenshot.
fn matrix_png() -> Vec<u8> {
    rempart_media::testing::encode_png(&rempart_media::testing::picture(64, 48, 1))
}

fn uuid_like() -> String {
    ConversationId::new().to_string()
}

async fn passkey_of(t: &TestApp, staff: StaffId) -> String {
    let id = uuid_like();
    t.store
        .add_passkey(
            &PasskeyRecord {
                id: id.clone(),
                staff_id: staff,
                credential_id: unique(),
                name: "matrix".into(),
                passkey: "{}".into(),
                created_at: t.app.now(),
                last_used_at: None,
            },
            &AuditEntry::new(t.app.now(), Some(staff), AuditEvent::PasskeyRegistered),
        )
        .await
        .unwrap();
    id
}

/// The concrete id a route's path gets, for a caller and an ownership.
struct Fixtures<'a> {
    t: &'a TestApp,
    /// A supervisor, who adds the evidence the evidence routes name.
    supervisor: rempart_domain::policy::Actor,
    /// The evidence made for each case.
    evidence: std::sync::Mutex<HashMap<CaseId, String>>,
    other_admin: &'a StaffRecord,
    target: &'a StaffRecord,
    other_case: CaseId,
    other_chat: ConversationId,
    other_passkey: String,
    revoked_token: String,
}

impl Fixtures<'_> {
    /// A referral of the case, made for each route that names one.
    async fn referral_on(&self, case: CaseId) -> String {
        let service = self.t.app.directory().services()[0].code.clone();
        match self
            .t
            .app
            .propose_referral(&self.supervisor, case, &service)
            .await
        {
            Ok(r) => r.id,
            Err(e) if e.code == rempart_app::ErrorCode::NotFound => uuid_like(),
            Err(e) => panic!("{e}"),
        }
    }

    /// A picture on the case (its copies in the store), made once per case.
    async fn evidence_on(&self, case: CaseId) -> String {
        if let Some(e) = self.evidence.lock().unwrap().get(&case) {
            return e.clone();
        }
        // (the caller without a session has no case of its own)
        let added = match self
            .t
            .app
            .add_evidence(
                &self.supervisor,
                case,
                rempart_app::evidence::EvidenceInput {
                    kind: Some(rempart_domain::case::EvidenceKind::Screenshot),
                    ..Default::default()
                },
                rempart_app::evidence::Content::File {
                    bytes: matrix_png(),
                    name: None,
                },
            )
            .await
        {
            Ok(a) => a,
            Err(e) if e.code == rempart_app::ErrorCode::NotFound => return uuid_like(),
            Err(e) => panic!("{e}"),
        };
        let id = added.evidence.id.to_string();
        self.evidence.lock().unwrap().insert(case, id.clone());
        id
    }

    /// The path with its `{…}` filled in, and an invitation token for the bodies that
    /// carry one.
    async fn fill(&self, path: &str, who: &Who, own: Ownership) -> (String, String) {
        let t = self.t;
        let missing = uuid_like();
        let me = who.staff.as_ref().map(|s| s.id).unwrap_or_default();
        let mut p = path.replace("{file}", "app.css").replace("{lang}", "en");
        let mut token = String::new();
        if path.contains("{platform}") {
            let code = match own {
                Ownership::Missing => "nowhere",
                _ => "snapchat",
            };
            p = p.replace("{platform}", code);
        } else if path.contains("/cases/{id}") {
            let c = match own {
                Ownership::Mine => who.own_case,
                Ownership::Theirs => self.other_case,
                Ownership::Missing => CaseId::new(),
            };
            p = p.replace("{id}", &c.to_string());
            if path.contains("{referral}") {
                let r = match own {
                    Ownership::Missing => uuid_like(),
                    _ => self.referral_on(c).await,
                };
                p = p.replace("{referral}", &r);
            }
            if path.contains("{evidence}") {
                let e = match own {
                    Ownership::Missing => uuid_like(),
                    _ => self.evidence_on(c).await,
                };
                p = p.replace("{evidence}", &e);
            }
        } else if path.contains("/notices/{id}") {
            let n = match own {
                Ownership::Mine if who.staff.is_none() => uuid_like(),
                Ownership::Mine => notice_on(t, who.own_case, me).await,
                Ownership::Theirs => notice_on(t, self.other_case, me).await,
                Ownership::Missing => uuid_like(),
            };
            p = p.replace("{id}", &n);
        } else if path.ends_with("/take") && path.contains("/chats/{id}") {
            let c = match own {
                Ownership::Mine => left_message(t, None).await,
                Ownership::Theirs => self.other_chat,
                Ownership::Missing => ConversationId::new(),
            };
            p = p.replace("{id}", &c.to_string());
        } else if path.contains("/chats/{id}") {
            let c = match own {
                Ownership::Mine => who.own_chat,
                Ownership::Theirs => self.other_chat,
                Ownership::Missing => ConversationId::new(),
            };
            p = p.replace("{id}", &c.to_string());
        } else if path.contains("/staff/{id}") {
            let id = match own {
                Ownership::Missing => missing.clone(),
                _ => self.target.id.to_string(),
            };
            p = p.replace("{id}", &id);
        } else if path.contains("/invitations/{id}/revoke") {
            let id = match own {
                Ownership::Missing => missing.clone(),
                _ => invitation(t, self.other_admin.id, false).await.0,
            };
            p = p.replace("{id}", &id);
        } else if path.contains("/invitations/{id}") {
            // approve / refuse: another administrator's pending invitation, or the caller's own
            let id = match own {
                Ownership::Mine => invitation(t, self.other_admin.id, true).await.0,
                Ownership::Theirs => invitation(t, me, true).await.0,
                Ownership::Missing => missing.clone(),
            };
            p = p.replace("{id}", &id);
        } else if path.contains("grants/{id}") {
            let id = match own {
                Ownership::Mine => grant(t, self.other_admin.id).await,
                Ownership::Theirs => grant(t, me).await,
                Ownership::Missing => missing.clone(),
            };
            p = p.replace("{id}", &id);
        } else if path.contains("/passkeys/{id}") {
            let id = match own {
                Ownership::Mine => who.own_passkey.clone(),
                Ownership::Theirs => self.other_passkey.clone(),
                Ownership::Missing => missing.clone(),
            };
            p = p.replace("{id}", &id);
        } else if path.contains("/invite/{token}") {
            let tok = match own {
                Ownership::Mine => invitation(t, self.other_admin.id, false).await.1,
                Ownership::Theirs => self.revoked_token.clone(),
                Ownership::Missing => rempart_app::random_hex(32).unwrap(),
            };
            p = p.replace("{token}", &tok);
        }
        if path == "/api/v1/invitations/accept" {
            token = invitation(t, self.other_admin.id, false).await.1;
        }
        (p, token)
    }
}

#[tokio::test]
async fn every_route_every_role_every_ownership() {
    let t = TestApp::spawn().await;
    let outsider = t.staff(Role::Counsellor, Some("ailleurs")).await;
    let other_admin = t.staff(Role::Admin, None).await;
    let target = t.staff(Role::Counsellor, None).await;
    let other_case = case_for(&t, outsider.id, Some("ailleurs")).await;
    let other_chat = chat_for(&t, outsider.id).await;
    let other_passkey = passkey_of(&t, outsider.id).await;
    let (revoked, revoked_token) = invitation(&t, other_admin.id, false).await;
    t.store
        .revoke_invitation(
            &revoked,
            &AuditEntry::new(t.app.now(), None, AuditEvent::InvitationRevoked),
        )
        .await
        .unwrap();
    let follow_up = "ABCDEFGHJKLMNPQR";
    left_message(&t, Some(follow_up)).await;
    let mut people = vec![];
    for role in Role::ALL {
        let s = t.staff(*role, None).await;
        let (token, csrf) = login(&t, &s).await;
        let own_case = case_for(&t, s.id, None).await;
        let own_chat = chat_for(&t, s.id).await;
        let own_passkey = passkey_of(&t, s.id).await;
        // available, so that taking a conversation is theirs to do
        t.store
            .set_chat_availability(
                s.id,
                true,
                10,
                &AuditEntry::new(
                    t.app.now(),
                    Some(s.id),
                    AuditEvent::ChatAvailability {
                        available: true,
                        capacity: 10,
                    },
                ),
            )
            .await
            .unwrap();
        people.push(Who {
            letter: letter(*role),
            staff: Some(s),
            token,
            csrf,
            own_case,
            own_chat,
            own_passkey,
        });
    }
    // every caller has a passkey and has passed it in this session (a full session)
    t.store
        .tamper_for_tests("UPDATE staff_sessions SET mfa_done = 1")
        .await;
    people.push(Who {
        letter: '*',
        staff: None,
        token: String::new(),
        csrf: String::new(),
        own_case: CaseId::new(),
        own_chat: ConversationId::new(),
        own_passkey: uuid_like(),
    });
    // a visitor's session for the widget routes (it waits in the queue)
    let widget_token = t
        .app
        .start_chat(rempart_app::chat::ChatStart::default())
        .await
        .unwrap()
        .token;
    let supervisor = t.staff(Role::Supervisor, None).await;
    let fx = Fixtures {
        t: &t,
        supervisor: rempart_domain::policy::Actor {
            id: supervisor.id,
            role: Role::Supervisor,
            team: None,
        },
        evidence: Default::default(),
        other_admin: &other_admin,
        target: &target,
        other_case,
        other_chat,
        other_passkey,
        revoked_token,
    };

    let expected: HashMap<&str, (&str, &str)> =
        EXPECTED.iter().map(|(k, o, x)| (*k, (*o, *x))).collect();
    let routes = rempart_web::routes::routes();
    let keys: Vec<String> = routes
        .iter()
        .map(|(d, _)| format!("{} {}", d.method, d.path))
        .collect();
    for k in &keys {
        assert!(
            expected.contains_key(k.as_str()),
            "route {k} has no entry in the expected table"
        );
    }
    for k in expected.keys() {
        assert!(
            keys.iter().any(|r| r == k),
            "the expected table names {k}, which is not a route"
        );
    }

    let mut failures = vec![];
    let mut checked = 0;
    for (doc, _) in &routes {
        let key = format!("{} {}", doc.method, doc.path);
        let (own_roles, other_roles) = expected[key.as_str()];
        for who in &people {
            for own in [Ownership::Mine, Ownership::Theirs, Ownership::Missing] {
                let has_object = doc.path.contains('{')
                    && !doc.path.contains("{file}")
                    && !doc.path.contains("{lang}");
                let allowed = match (has_object, own) {
                    (true, Ownership::Missing) => false,
                    (true, Ownership::Theirs) => other_roles.contains(who.letter),
                    _ => own_roles.contains(who.letter),
                };
                let (real_path, invite_token) = fx.fill(doc.path, who, own).await;
                let (status, location, body) = call(
                    &t,
                    doc.method,
                    doc.path,
                    &real_path,
                    who,
                    &widget_token,
                    &invite_token,
                    follow_up,
                    &outsider,
                )
                .await;
                let denied = status == 404
                    || (status == 303 && location.as_deref() == Some("/login"))
                    || (status == 401 && body.contains("unauthenticated"))
                    || (status == 401
                        && doc.path.starts_with("/partner/")
                        && body.contains("invalid_api_key"));
                checked += 1;
                if denied == allowed || status == 403 || status >= 500 {
                    failures.push(format!(
                        "{key} as {} on {own:?}: HTTP {status} {}",
                        who.letter,
                        &body.chars().take(120).collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, routes.len() * 7 * 3);
    eprintln!(
        "route matrix: {} routes × 7 callers × 3 ownerships = {checked} checks",
        routes.len()
    );
}

#[allow(clippy::too_many_arguments)]
async fn call(
    t: &TestApp,
    method: &str,
    path: &str,
    real_path: &str,
    who: &Who,
    widget: &str,
    invite_token: &str,
    follow_up: &str,
    outsider: &StaffRecord,
) -> (u16, Option<String>, String) {
    let me = who
        .staff
        .as_ref()
        .map(|s| s.id.to_string())
        .unwrap_or_default();
    // Logging out would end the shared session: log out a fresh one.
    let (token, csrf) = if path.ends_with("logout") {
        match &who.staff {
            Some(s) => login(t, s).await,
            None => (String::new(), String::new()),
        }
    } else {
        (who.token.clone(), who.csrf.clone())
    };
    // Keep each case's assignees as they are, so later checks see the same ownership.
    let keep = if real_path.contains(&who.own_case.to_string()) {
        me.clone()
    } else {
        outsider.id.to_string()
    };
    let unique = unique();
    let api = path.starts_with("/api/");
    let script = matches!(
        path,
        "/login/passkey/options"
            | "/login/passkey"
            | "/account/passkeys/options"
            | "/account/passkeys"
    );
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = t.http.request(m.clone(), t.url(real_path));
    if path.ends_with("/ws") {
        req = req.header("origin", t.base.clone());
    }
    if path.starts_with("/partner/") {
        // a staff member's token where a platform's key belongs
        if who.staff.is_some() {
            req = req
                .bearer_auth(&token)
                .header("cookie", format!("rempart_session={token}"));
        }
        if m == Method::POST {
            req = req.json(&json!({"ticket": "T-1"}));
        }
    } else if path.starts_with("/callbacks/") {
        // a platform's signed call: JSON, no session (unsigned here: refused as such)
        req = req.json(&json!({}));
    } else if path == "/widget/v1/leave" {
        // a visitor of its own: leaving ends the session the other widget routes share
        let own = t
            .app
            .start_chat(rempart_app::chat::ChatStart::default())
            .await
            .unwrap()
            .token;
        req = req.bearer_auth(own);
    } else if path.starts_with("/widget/v1") {
        req = req.bearer_auth(widget);
        let body = match path {
            "/widget/v1/sessions" => json!({"lang": "en"}),
            "/widget/v1/messages" => json!({"client_id": unique, "body": "matrix"}),
            "/widget/v1/follow-up" => json!({"code": follow_up}),
            _ => Value::Null,
        };
        if m == Method::POST && !body.is_null() {
            req = req.json(&body);
        }
    } else if script {
        if who.staff.is_some() {
            req = req
                .header("cookie", format!("rempart_session={token}"))
                .header("x-csrf-token", csrf.clone());
        }
        let body = match path {
            "/login/passkey" => json!({"credential": {}}),
            "/account/passkeys" => json!({"name": "matrix", "credential": {}}),
            _ => json!({}),
        };
        req = req.json(&body);
    } else if api {
        if who.staff.is_some() {
            req = req.bearer_auth(&token);
        }
        let body = match path {
            "/api/v1/auth/login" => {
                json!({"email": who.staff.as_ref().map(|s| s.email.clone()).unwrap_or_else(|| "nobody@test.invalid".into()), "password": PASSWORD})
            }
            "/api/v1/auth/totp" => json!({"code": "000000"}),
            "/api/v1/invitations/accept" => {
                json!({"token": invite_token, "password": "a long enough password"})
            }
            "/api/v1/cases" => json!({"title": "matrix", "age_band": "unknown"}),
            "/api/v1/cases/{id}/status" => json!({"status": CaseStatus::InProgress.as_str()}),
            "/api/v1/cases/{id}/assignees" => json!({"assignees": [keep]}),
            "/api/v1/cases/{id}/items" => {
                json!({"platform": "tiktok", "content_type": "video", "url": "https://www.tiktok.com/@x/video/1"})
            }
            "/api/v1/cases/{id}/notes" => json!({"visibility": "team", "body": "matrix note"}),
            "/api/v1/chats/{id}/messages" => json!({"client_id": unique, "body": "matrix"}),
            "/api/v1/chats/availability" => json!({"available": true, "capacity": 10}),
            "/api/v1/chats/{id}/transfer" => json!({"to_role": "lawyer", "note": "matrix"}),
            "/api/v1/chats/{id}/end" => {
                json!({"caller_type": "victim", "age_band": "11_14", "summary": "matrix", "outcome": "listened"})
            }
            "/api/v1/contacts" => {
                json!({"channel": "phone", "caller_type": "victim", "age_band": "11_14", "summary": "matrix", "outcome": "listened"})
            }
            "/api/v1/invitations" => {
                json!({"email": format!("new-{unique}@test.invalid"), "display_name": "New", "role": "counsellor"})
            }
            "/api/v1/staff/{id}/role" => json!({"role": "lawyer"}),
            "/api/v1/notices/{id}" => {
                json!({"explanation": "matrix", "sexual_images_of_minor": false})
            }
            "/api/v1/notices/{id}/acknowledge" => json!({"ticket": "T-1"}),
            "/api/v1/notices/{id}/decision" => json!({"decision": "content_removed"}),
            "/api/v1/notices/{id}/contest" => json!({"reason": "toujours en ligne"}),
            "/api/v1/cases/{id}/evidence/fingerprints" => json!({"sha256": "a".repeat(64)}),
            "/api/v1/cases/{id}/referrals" => {
                json!({"service": t.app.directory().services()[0].code})
            }
            "/api/v1/cases/{id}/referrals/{referral}/basis" => {
                json!({"basis": "legal_obligation", "consent_scope": "matrix"})
            }
            "/api/v1/cases/{id}/referrals/{referral}/transmission" => {
                json!({"recipient": "matrix", "channel": "phone"})
            }
            "/api/v1/cases/{id}/referrals/{referral}/events" => json!({"event": "cancel"}),
            "/api/v1/cases/{id}/evidence/notes" => {
                json!({"kind": "link", "url": "https://example.org/matrix"})
            }
            _ => Value::Null,
        };
        if path == "/api/v1/cases/{id}/evidence/files" {
            req = req.multipart(
                reqwest::multipart::Form::new()
                    .text("kind", "screenshot")
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(matrix_png()).file_name("m.png"),
                    ),
            );
        } else if m != Method::GET && !body.is_null() {
            req = req.json(&body);
        }
    } else {
        if who.staff.is_some() {
            req = req.header(
                "cookie",
                format!("rempart_session={token}; rempart_login_csrf=lc"),
            );
        } else {
            req = req.header("cookie", "rempart_login_csrf=lc");
        }
        let playbooks_version = t.store.playbooks_version().await.unwrap();
        let fields: Vec<(&str, String)> = match path {
            "/login" => vec![
                (
                    "email",
                    who.staff
                        .as_ref()
                        .map(|s| s.email.clone())
                        .unwrap_or_else(|| "nobody@test.invalid".into()),
                ),
                ("password", PASSWORD.into()),
                ("login_csrf", "lc".into()),
            ],
            "/login/totp" => vec![("code", "000000".into())],
            "/account/totp" => vec![("step", "begin".into())],
            "/invite/{token}" => vec![
                ("password", "a long enough password".into()),
                ("password_again", "a long enough password".into()),
            ],
            "/cases/{id}/status" => vec![("status", "waiting_victim".into())],
            "/cases/{id}/assignees" => vec![("assignee", keep)],
            "/cases/{id}/items" => vec![
                ("platform", "snapchat".into()),
                ("content_type", "account".into()),
                ("native_id", "@matrix".into()),
            ],
            "/cases/{id}/notes" => vec![("visibility", "team".into()), ("body", "matrix".into())],
            "/cases/{id}/playbook" => vec![
                ("playbook", "cyber_harassment".into()),
                ("step", "keep_proof".into()),
                ("done", "1".into()),
            ],
            "/playbooks" => vec![
                ("based_on", playbooks_version.to_string()),
                (
                    "document",
                    "[[playbook]]\ncategory = \"other\"\nfr = \"A\"\nen = \"A\"\n".into(),
                ),
            ],
            "/playbooks/restore" => vec![("based_on", playbooks_version.to_string())],
            "/chats/{id}/advice" => vec![
                ("client_id", unique.clone()),
                ("playbook", "sextortion".into()),
                ("step", "do_not_pay".into()),
            ],
            "/notices/{id}/edit" => vec![("explanation", "matrix".into())],
            "/notices/{id}/acknowledge" => vec![("ticket", "T-1".into())],
            "/notices/{id}/decision" => vec![("decision", "content_removed".into())],
            "/notices/{id}/contest" => vec![("reason", "toujours en ligne".into())],
            "/contacts" => vec![
                ("channel", "phone".into()),
                ("caller_type", "parent".into()),
                ("age_band", "15_17".into()),
                ("summary", "matrix".into()),
                ("outcome", "listened".into()),
            ],
            "/chats/availability" => vec![("available", "1".into()), ("capacity", "10".into())],
            "/chats/{id}/transfer" => vec![("to", "role:lawyer".into()), ("note", "matrix".into())],
            "/chats/{id}/messages" => {
                vec![("client_id", unique.clone()), ("body", "matrix".into())]
            }
            "/chats/{id}/end" => vec![
                ("caller_type", "victim".into()),
                ("age_band", "11_14".into()),
                ("summary", "matrix".into()),
                ("outcome", "listened".into()),
            ],
            "/admin/invitations" => vec![
                ("email", format!("p-{unique}@test.invalid")),
                ("display_name", "P".into()),
                ("role", "lawyer".into()),
            ],
            "/admin/staff/{id}/role" => vec![("role", "lawyer".into())],
            "/cases/{id}/evidence/notes" => vec![
                ("kind", "link".into()),
                ("url", "https://example.org/matrix".into()),
            ],
            "/cases/{id}/evidence/fingerprints" => vec![("sha256", "b".repeat(64))],
            "/cases/{id}/follow-up/messages" => vec![("body", "matrix".into())],
            "/cases/{id}/referrals" => {
                vec![("service", t.app.directory().services()[0].code.clone())]
            }
            "/cases/{id}/referrals/{referral}/basis" => vec![
                ("basis", "legal_obligation".into()),
                ("consent_scope", "matrix".into()),
            ],
            "/cases/{id}/referrals/{referral}/transmission" => {
                vec![("recipient", "matrix".into()), ("channel", "phone".into())]
            }
            "/cases/{id}/referrals/{referral}/events" => vec![("event", "cancel".into())],
            "/follow-up" => vec![
                ("code", "ABCD-EFGH".into()),
                ("secret", "ABCD-EFGH-JKMN-PQRS".into()),
            ],
            "/follow-up/messages" => vec![("body", "matrix".into())],
            "/admin/staff/{id}/edit" => vec![
                ("display_name", "Renamed".into()),
                ("email", format!("r-{unique}@test.invalid")),
            ],
            _ => vec![],
        };
        if path.starts_with("/follow-up") {
            // the young person's page: its own form token, matched against its cookie
            let fu = "c".repeat(64);
            req = req.header(
                "cookie",
                format!("rempart_session={token}; rempart_fu_csrf={fu}"),
            );
            if m == Method::POST {
                let mut f = fields;
                f.push(("fu_csrf", fu));
                req = req.form(&f);
            }
        } else if path == "/cases/{id}/evidence" {
            req = req.multipart(
                reqwest::multipart::Form::new()
                    .text("_csrf", csrf.clone())
                    .text("kind", "screenshot")
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(matrix_png()).file_name("m.png"),
                    ),
            );
        } else if m == Method::POST {
            let mut f = fields;
            if path != "/login" && !path.starts_with("/invite/") {
                f.push(("_csrf", csrf.clone()));
            }
            req = req.form(&f);
        }
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = r.text().await.unwrap_or_default();
    (status, location, body)
}
