//! Walks every route of the router × every role (and no session) × (own case, other
//! case, no case) against the expected table below, written independently of the
//! policy code. A route without an entry fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rempart_domain::case::{CaseStatus, LegalQualification};
use rempart_domain::ids::{CaseId, ConversationId, StaffId};
use rempart_domain::policy::Role;
use rempart_domain::values::AgeBand;
use rempart_storage::{AuditEntry, NewCase, StaffRecord};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use support::*;

/// Who may call each route: `own` = roles allowed on a case (or conversation) they are
/// assigned to, or on the route when it has neither; `other` = roles allowed on someone
/// else's case or conversation.
/// Letters: C counsellor, P psychologist, L lawyer, D digital specialist, S supervisor,
/// A admin; `*` = also without any session (public).
const EXPECTED: &[(&str, &str, &str)] = &[
    ("GET /healthz", "*CPLDSA", "*CPLDSA"),
    ("GET /readyz", "*CPLDSA", "*CPLDSA"),
    ("GET /metrics", "*CPLDSA", "*CPLDSA"),
    ("GET /assets/{file}", "*CPLDSA", "*CPLDSA"),
    ("GET /api/v1/openapi.json", "*CPLDSA", "*CPLDSA"),
    ("GET /", "*CPLDSA", "*CPLDSA"),
    ("GET /login", "*CPLDSA", "*CPLDSA"),
    ("POST /login", "*CPLDSA", "*CPLDSA"),
    ("GET /login/totp", "CPLDSA", "CPLDSA"),
    ("POST /login/totp", "CPLDSA", "CPLDSA"),
    ("POST /logout", "CPLDSA", "CPLDSA"),
    ("GET /lang/{lang}", "*CPLDSA", "*CPLDSA"),
    ("GET /account", "CPLDSA", "CPLDSA"),
    ("POST /account/totp", "CPLDSA", "CPLDSA"),
    ("GET /cases", "CPLDS", "CPLDS"),
    ("GET /cases/{id}", "CPLDS", "S"),
    ("POST /cases/{id}/status", "CPLDS", "S"),
    ("POST /cases/{id}/assignees", "CPLDS", "S"),
    ("POST /cases/{id}/items", "CPLDS", "S"),
    ("POST /cases/{id}/notes", "CPLDS", "S"),
    ("GET /contacts/new", "CPLDS", "CPLDS"),
    ("POST /contacts", "CPLDS", "CPLDS"),
    ("GET /admin/staff", "A", "A"),
    ("POST /admin/staff", "A", "A"),
    ("POST /admin/staff/{id}/disable", "A", "A"),
    ("POST /admin/staff/{id}/enable", "A", "A"),
    ("GET /audit", "SA", "SA"),
    ("POST /api/v1/auth/login", "*CPLDSA", "*CPLDSA"),
    ("POST /api/v1/auth/totp", "CPLDSA", "CPLDSA"),
    ("POST /api/v1/auth/logout", "CPLDSA", "CPLDSA"),
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
    ("POST /api/v1/staff", "A", "A"),
    ("POST /api/v1/staff/{id}/disable", "A", "A"),
    ("POST /api/v1/staff/{id}/enable", "A", "A"),
    ("GET /api/v1/audit", "SA", "SA"),
    ("GET /api/v1/categories", "CPLDSA", "CPLDSA"),
    ("GET /api/v1/platforms", "CPLDSA", "CPLDSA"),
    ("GET /chats", "CPLDS", "CPLDS"),
    ("POST /chats/availability", "CPLDS", "CPLDS"),
    ("PUT /api/v1/chats/availability", "CPLDS", "CPLDS"),
    ("POST /chats/take", "CPLDS", "CPLDS"),
    ("GET /chats/{id}", "CPLDS", "S"),
    ("POST /chats/{id}/messages", "CPLDS", ""),
    ("POST /chats/{id}/end", "CPLDS", ""),
    ("POST /chats/{id}/transfer", "CPLDS", ""),
    ("GET /demo", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/frame", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/v1/status", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/v1/challenge", "*CPLDSA", "*CPLDSA"),
    ("POST /widget/v1/sessions", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/v1/messages", "*CPLDSA", "*CPLDSA"),
    ("POST /widget/v1/messages", "*CPLDSA", "*CPLDSA"),
    ("POST /widget/v1/typing", "*CPLDSA", "*CPLDSA"),
    ("GET /widget/v1/ws", "*CPLDSA", "*CPLDSA"),
    ("GET /api/v1/chats", "CPLDS", "CPLDS"),
    ("POST /api/v1/chats/take", "CPLDS", "CPLDS"),
    ("GET /api/v1/chats/{id}/messages", "CPLDS", "S"),
    ("POST /api/v1/chats/{id}/messages", "CPLDS", ""),
    ("POST /api/v1/chats/{id}/end", "CPLDS", ""),
    ("POST /api/v1/chats/{id}/transfer", "CPLDS", ""),
    ("GET /api/v1/ws", "CPLDSA", "CPLDSA"),
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
}

/// A conversation assigned to `owner` (taken from the queue directly in the store).
async fn chat_for(t: &TestApp, owner: StaffId) -> ConversationId {
    let (_, c) = t
        .app
        .start_chat(rempart_app::chat::ChatStart::default())
        .await
        .unwrap();
    // the queue holds only this one now
    let taken = t
        .app
        .store
        .take_next(owner, Role::Counsellor, t.app.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, c.id);
    c.id
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
    t.app
        .store
        .create_case(
            &c,
            None,
            &AuditEntry::new(now, Some(owner), "case.created", "case").case(id),
        )
        .await
        .unwrap();
    id
}

fn rand_u32() -> u32 {
    u32::from_str_radix(&rempart_app::random_hex(4).unwrap(), 16).unwrap()
}

#[tokio::test]
async fn every_route_every_role_every_ownership() {
    let t = TestApp::spawn().await;
    let outsider = t.staff(Role::Counsellor, Some("ailleurs")).await;
    let target = t.staff(Role::Counsellor, None).await;
    let other_case = case_for(&t, outsider.id, Some("ailleurs")).await;
    let other_chat = chat_for(&t, outsider.id).await;
    let mut people = vec![];
    for role in Role::ALL {
        let s = t.staff(*role, None).await;
        let (token, csrf) = login(&t, &s).await;
        let own_case = case_for(&t, s.id, None).await;
        let own_chat = chat_for(&t, s.id).await;
        people.push(Who {
            letter: letter(*role),
            staff: Some(s),
            token,
            csrf,
            own_case,
            own_chat,
        });
    }
    people.push(Who {
        letter: '*',
        staff: None,
        token: String::new(),
        csrf: String::new(),
        own_case: CaseId::new(),
        own_chat: ConversationId::new(),
    });
    // a visitor's session for the widget routes (it waits in the queue)
    let (widget_token, _) = t
        .app
        .start_chat(rempart_app::chat::ChatStart::default())
        .await
        .unwrap();

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
                let has_case = doc.path.contains("/cases/{id}") || doc.path.contains("/chats/{id}");
                let allowed = match (has_case, own) {
                    (true, Ownership::Missing) => false,
                    (true, Ownership::Theirs) => other_roles.contains(who.letter),
                    _ => own_roles.contains(who.letter),
                };
                let case = match own {
                    Ownership::Mine => who.own_case,
                    Ownership::Theirs => other_case,
                    Ownership::Missing => CaseId::new(),
                };
                let chat = match own {
                    Ownership::Mine => who.own_chat,
                    Ownership::Theirs => other_chat,
                    Ownership::Missing => ConversationId::new(),
                };
                let ids = Ids {
                    case,
                    chat,
                    widget: &widget_token,
                };
                let (status, location, body) =
                    call(&t, doc.method, doc.path, who, &ids, &target, &outsider).await;
                let denied = status == 404
                    || (status == 303 && location.as_deref() == Some("/login"))
                    || (status == 401 && body.contains("unauthenticated"));
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
}

struct Ids<'a> {
    case: CaseId,
    chat: ConversationId,
    widget: &'a str,
}

async fn call(
    t: &TestApp,
    method: &str,
    path: &str,
    who: &Who,
    ids: &Ids<'_>,
    target: &StaffRecord,
    outsider: &StaffRecord,
) -> (u16, Option<String>, String) {
    let case = ids.case;
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
    let real_path = path
        .replace("{file}", "app.css")
        .replace("{lang}", "en")
        .replace("/cases/{id}", &format!("/cases/{case}"))
        .replace("/chats/{id}", &format!("/chats/{}", ids.chat))
        .replace("/staff/{id}", &format!("/staff/{}", target.id));
    // Keep each case's assignees as they are, so later checks see the same ownership.
    let keep = if case == who.own_case {
        me.clone()
    } else {
        outsider.id.to_string()
    };
    let unique = rempart_app::random_hex(4).unwrap();
    let api = path.starts_with("/api/");
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = t.http.request(m.clone(), t.url(&real_path));
    if path.ends_with("/ws") {
        req = req.header("origin", t.base.clone());
    }
    if path.starts_with("/widget/v1") {
        req = req.bearer_auth(ids.widget);
        let body = match path {
            "/widget/v1/sessions" => json!({"lang": "en"}),
            "/widget/v1/messages" => json!({"client_id": unique, "body": "matrix"}),
            _ => Value::Null,
        };
        if m == Method::POST && !body.is_null() {
            req = req.json(&body);
        }
    } else if api {
        if who.staff.is_some() {
            req = req.bearer_auth(&token);
        }
        let body = match path {
            "/api/v1/auth/login" => {
                json!({"email": who.staff.as_ref().map(|s| s.email.clone()).unwrap_or_else(|| "nobody@test.invalid".into()), "password": PASSWORD})
            }
            "/api/v1/auth/totp" => json!({"code": "000000"}),
            "/api/v1/cases" => json!({"title": "matrix", "age_band": "unknown"}),
            "/api/v1/cases/{id}/status" => json!({"status": CaseStatus::InProgress.as_str()}),
            "/api/v1/cases/{id}/assignees" => json!({"assignees": [keep]}),
            "/api/v1/cases/{id}/items" => {
                json!({"platform": "tiktok", "content_type": "video", "url": "https://www.tiktok.com/@x/video/1"})
            }
            "/api/v1/cases/{id}/notes" => json!({"visibility": "team", "body": "matrix note"}),
            "/api/v1/chats/{id}/messages" => json!({"client_id": unique, "body": "matrix"}),
            "/api/v1/chats/availability" => json!({"available": true, "capacity": 5}),
            "/api/v1/chats/{id}/transfer" => json!({"to_role": "lawyer", "note": "matrix"}),
            "/api/v1/chats/{id}/end" => {
                json!({"caller_type": "victim", "age_band": "11_14", "summary": "matrix", "outcome": "listened"})
            }
            "/api/v1/contacts" => {
                json!({"channel": "phone", "caller_type": "victim", "age_band": "11_14", "summary": "matrix", "outcome": "listened"})
            }
            "/api/v1/staff" => {
                json!({"email": format!("new-{unique}@test.invalid"), "display_name": "New", "role": "counsellor", "password": "a long enough password"})
            }
            _ => Value::Null,
        };
        if m != Method::GET && !body.is_null() {
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
            "/cases/{id}/status" => vec![("status", "waiting_victim".into())],
            "/cases/{id}/assignees" => vec![("assignee", keep)],
            "/cases/{id}/items" => vec![
                ("platform", "snapchat".into()),
                ("content_type", "account".into()),
                ("native_id", "@matrix".into()),
            ],
            "/cases/{id}/notes" => vec![("visibility", "team".into()), ("body", "matrix".into())],
            "/contacts" => vec![
                ("channel", "phone".into()),
                ("caller_type", "parent".into()),
                ("age_band", "15_17".into()),
                ("summary", "matrix".into()),
                ("outcome", "listened".into()),
            ],
            "/chats/availability" => vec![("available", "1".into()), ("capacity", "5".into())],
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
            "/admin/staff" => vec![
                ("email", format!("p-{unique}@test.invalid")),
                ("display_name", "P".into()),
                ("role", "lawyer".into()),
                ("password", "a long enough password".into()),
            ],
            _ => vec![],
        };
        if m == Method::POST {
            let mut f = fields;
            if path != "/login" {
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
