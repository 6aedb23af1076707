//! What an outside tester found, tried again from outside: chat history across case
//! scope, the open redirect, small oracles, unaudited searches, unlimited typing, sockets
//! filling the node, pages a role may not use, reused client ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::SinkExt;
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::ids::ContactId;
use rempart_domain::policy::Role;
use rempart_domain::values::{AgeBand, CallerType, Channel, ContactOutcome};
use rempart_storage::{AuditEntry, AuditFilter, ContactRecord};
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

async fn audit_actions(t: &TestApp) -> Vec<rempart_domain::audit::AuditRecord> {
    t.store
        .audit_events(&AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn earlier_contacts_of_a_person_show_only_what_the_reader_may_see() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, Some("nord")).await;
    let ctok = t.token(&c).await;
    let outsider = t.staff(Role::Counsellor, Some("sud")).await;
    let otok = t.token(&outsider).await;
    let hidden_case = t.new_case(&otok, "dossier de l'autre équipe").await;
    let own_case = t.new_case(&ctok, "mon dossier").await;
    let device = "ef".repeat(32);
    let (v, _) = visitor(&t, json!({"device": device})).await;
    assert_eq!(say(&t, &v, "m1", "bonjour").await.status(), 201);
    let conv: Value = t
        .post_json("/api/v1/chats/take", Some(&ctok), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let id = conv["id"].as_str().unwrap().to_owned();
    let person = t
        .store
        .conversation(rempart_domain::ids::ConversationId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .person_key;
    // three earlier contacts of the same person: on a case of another team, on the
    // reader's own case, and on no case
    for (case, summary) in [
        (
            Some(&hidden_case),
            "RÉSUMÉ CACHÉ du dossier de l'autre équipe",
        ),
        (Some(&own_case), "résumé du dossier visible"),
        (None, "résumé sans dossier"),
    ] {
        let k = ContactRecord {
            id: ContactId::new(),
            case_id: case.map(|c| rempart_domain::ids::CaseId::parse(c).unwrap()),
            channel: Channel::WebChat,
            caller_type: CallerType::Victim,
            age_band: AgeBand::From11To14,
            categories: vec![],
            summary: summary.into(),
            outcome: ContactOutcome::Listened,
            person_key: Some(person.clone()),
            started_at: t.app.now() - 86_400_000,
            duration_s: Some(60),
            created_by: outsider.id,
            created_at: t.app.now() - 86_400_000,
        };
        t.store
            .add_contact(
                &k,
                &AuditEntry::new(
                    t.app.now(),
                    Some(outsider.id),
                    AuditEvent::ContactLogged {
                        channel: Channel::WebChat,
                    },
                ),
            )
            .await
            .unwrap();
    }
    let (cookie, _) = t.console_login(&c).await;
    let html = t
        .http
        .get(t.url(&format!("/chats/{id}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("résumé du dossier visible"));
    assert!(html.contains("résumé sans dossier"));
    assert!(
        !html.contains("RÉSUMÉ CACHÉ"),
        "a case the reader may not see stays unseen"
    );
}

#[tokio::test]
async fn the_language_switch_goes_back_only_to_a_local_page() {
    let t = TestApp::spawn().await;
    for (back, to) in [
        ("/%09/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%2F/evil.example", "/"),
        ("/nowhere", "/"),
        ("/chats", "/chats"),
        ("/cases?status=new", "/cases?status=new"),
    ] {
        let r = t
            .get(
                &format!(
                    "/lang/en?back={}",
                    back.replace('?', "%3F").replace('=', "%3D")
                ),
                None,
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], to, "back={back}");
    }
}

#[tokio::test]
async fn a_hidden_case_and_an_unused_reference_answer_alike() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, Some("nord")).await;
    let outsider = t.staff(Role::Counsellor, Some("sud")).await;
    let otok = t.token(&outsider).await;
    let hidden = t.new_case(&otok, "autre équipe").await;
    let reference = t
        .store
        .case_by_id(rempart_domain::ids::CaseId::parse(&hidden).unwrap())
        .await
        .unwrap()
        .unwrap()
        .reference;
    let unused = "D26-ZZZZZ";
    let (cookie, csrf) = t.console_login(&c).await;
    let contact = |reference: String| {
        let (t, cookie, csrf) = (&t, cookie.clone(), csrf.clone());
        async move {
            let r = t
                .http
                .post(t.url("/contacts"))
                .header("cookie", cookie)
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("channel", "phone"),
                    ("caller_type", "parent"),
                    ("age_band", "15_17"),
                    ("summary", "appel"),
                    ("outcome", "listened"),
                    ("case_reference", reference.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let a = contact(reference.clone()).await;
    let b = contact(unused.into()).await;
    assert_eq!(a.0, b.0, "same status");
    assert_eq!(a.0, 422);
    // the form shows what was typed; apart from that, the same page
    assert_eq!(
        a.1.replace(&reference, "REF"),
        b.1.replace(unused, "REF"),
        "same page"
    );
    // the chat's end form, the same
    let ctok = t.token(&c).await;
    let end = |reference: String| {
        let (t, cookie, csrf, ctok) = (&t, cookie.clone(), csrf.clone(), ctok.clone());
        async move {
            let (v, _) = visitor(t, json!({})).await;
            assert_eq!(say(t, &v, "x", "bonjour").await.status(), 201);
            let conv: Value = t
                .post_json("/api/v1/chats/take", Some(&ctok), json!({}))
                .await
                .json()
                .await
                .unwrap();
            let id = conv["id"].as_str().unwrap().to_owned();
            let r = t
                .http
                .post(t.url(&format!("/chats/{id}/end")))
                .header("cookie", cookie)
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("caller_type", "victim"),
                    ("age_band", "11_14"),
                    ("summary", "fin"),
                    ("outcome", "listened"),
                    ("case_reference", reference.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    t.put_json(
        "/api/v1/chats/availability",
        Some(&ctok),
        json!({"available": true, "capacity": 5}),
    )
    .await;
    let a = end(reference.clone()).await;
    let b = end(unused.into()).await;
    assert_eq!(a.0, b.0, "same status");
    assert_eq!(a.0, 422);
    // each is its own conversation's page: the form's message is the same, and nothing of
    // the hidden case shows
    let message = |page: &str| {
        let at = page.find("id=\"end-error\"").expect("the form's message");
        page[at..at + page[at..].find("</p>").unwrap()].to_owned()
    };
    assert_eq!(message(&a.1), message(&b.1));
    assert!(
        !a.1.contains("autre équipe"),
        "the hidden case's title never shows"
    );
}

#[tokio::test]
async fn case_lists_and_searches_are_audited_without_their_words() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let r = t
        .get("/api/v1/cases?q=Camille%20Dupont&status=new", Some(&ctok))
        .await;
    assert_eq!(r.status(), 200);
    let events = audit_actions(&t).await;
    let listed = events
        .iter()
        .find(|e| e.action == "case.listed")
        .expect("the search is audited");
    assert_eq!(listed.actor_id.as_deref(), Some(c.id.to_string().as_str()));
    assert!(listed.detail.contains("status=new"), "{}", listed.detail);
    assert!(
        !listed.detail.to_lowercase().contains("dupont"),
        "the words are not kept: {}",
        listed.detail
    );
    // … but whoever holds the helpline's key can tell what was asked
    let hash = t.app.search_words_hash("  camille   DUPONT ");
    assert!(listed.detail.contains(&format!("words={hash}")));
    assert_ne!(t.app.search_words_hash("someone else"), hash);
}

#[tokio::test]
async fn typing_signals_are_limited() {
    let t = TestApp::spawn_with(|s| s.widget.typing_per_minute = 3).await;
    let (v, _) = visitor(&t, json!({})).await;
    let mut statuses = vec![];
    for _ in 0..5 {
        statuses.push(
            t.req(reqwest::Method::POST, "/widget/v1/typing", Some(&v))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, vec![204, 204, 204, 429, 429]);
}

#[tokio::test]
async fn one_client_cannot_fill_the_node_with_sockets() {
    let t = TestApp::spawn_with(|s| {
        s.server.max_connections = 40;
        s.widget.sockets_share_percent = 25; // ten widget sockets at most
        s.widget.sockets_per_session = 2;
        s.widget.sockets_per_address = 1000;
    })
    .await;
    let origin = t.base.clone();
    let (v, _) = visitor(&t, json!({})).await;
    let mut kept = vec![];
    // one chat token: two sockets, the third is closed at once
    for i in 0..3 {
        let mut s = ws(&t, "/widget/v1/ws", Some(&origin), None).await.unwrap();
        s.send(Message::text(json!({"token": v, "after": 0}).to_string()))
            .await
            .unwrap();
        if i < 2 {
            next_frame(&mut s, "state").await;
            kept.push(s);
        } else {
            assert_eq!(
                close_code(&mut s).await,
                Some(4429),
                "a third socket per session"
            );
        }
    }
    // many tokens from one client: the widget's share of the node, then 429
    let mut refused = None;
    for i in 0..20 {
        let (tok, _) = visitor(&t, json!({})).await;
        match ws(&t, "/widget/v1/ws", Some(&origin), None).await {
            Ok(mut s) => {
                s.send(Message::text(json!({"token": tok, "after": 0}).to_string()))
                    .await
                    .unwrap();
                next_frame(&mut s, "state").await;
                kept.push(s);
            }
            Err(status) => {
                refused = Some((i, status));
                break;
            }
        }
    }
    let (i, status) = refused.expect("the widget's share ran out");
    assert_eq!(status, 429);
    assert_eq!(i + 2, 10, "ten widget sockets in all");
    // the console still logs in and opens its live view
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    assert!(
        ws(
            &t,
            "/api/v1/ws",
            Some(&origin),
            Some(("authorization", format!("Bearer {ctok}")))
        )
        .await
        .is_ok(),
        "the console keeps its capacity"
    );
    // closing sockets gives their places back
    for mut s in kept.drain(..) {
        let _ = s.close(None).await;
    }
    let (tok, _) = visitor(&t, json!({})).await;
    let mut again = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while again.is_none() && std::time::Instant::now() < deadline {
        // the server lets a place go once it has seen its socket close: wait for that
        match ws(&t, "/widget/v1/ws", Some(&origin), None).await {
            Ok(s) => again = Some(s),
            Err(_) => tokio::task::yield_now().await,
        }
    }
    let mut s = again.expect("places given back once sockets close");
    s.send(Message::text(json!({"token": tok, "after": 0}).to_string()))
        .await
        .unwrap();
    next_frame(&mut s, "state").await;
}

#[tokio::test]
async fn a_reused_client_id_with_another_text_is_a_conflict() {
    let t = TestApp::spawn().await;
    let (v, _) = visitor(&t, json!({})).await;
    let first = say(&t, &v, "k1", "premier texte").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let retry = say(&t, &v, "k1", "premier texte").await;
    assert_eq!(
        retry.status(),
        201,
        "the same retry is answered with the message"
    );
    assert_eq!(retry.json::<Value>().await.unwrap()["seq"], first["seq"]);
    let other = say(&t, &v, "k1", "un autre texte").await;
    assert_eq!(other.status(), 409);
    assert_eq!(
        other.json::<Value>().await.unwrap()["error"],
        "idempotency_conflict"
    );
    let all: Value = t
        .get("/widget/v1/messages", Some(&v))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["messages"].as_array().unwrap().len(), 1, "stored once");
}

#[tokio::test]
async fn every_role_lands_on_a_page_it_may_use() {
    let t = TestApp::spawn().await;
    for (role, landing) in [
        (Role::Counsellor, "/cases"),
        (Role::Supervisor, "/cases"),
        (Role::Admin, "/admin/staff"),
    ] {
        let s = t.staff(role, None).await;
        let page = t.http.get(t.url("/login")).send().await.unwrap();
        let lc = set_cookie(&page, "rempart_login_csrf").unwrap();
        let r = t
            .http
            .post(t.url("/login"))
            .header("cookie", format!("rempart_login_csrf={lc}"))
            .form(&[
                ("email", s.email.as_str()),
                ("password", PASSWORD),
                ("login_csrf", lc.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], landing, "{role:?} after login");
        let cookie = format!(
            "rempart_session={}",
            set_cookie(&r, "rempart_session").unwrap()
        );
        let home = t
            .http
            .get(t.url("/"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(home.headers()["location"], landing, "{role:?} home");
        let html = t
            .http
            .get(t.url(landing))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // every link of the header answers 200 to this role
        let header = html.split("<main").next().unwrap();
        for href in header
            .split("href=\"")
            .skip(1)
            .map(|h| h.split('"').next().unwrap())
            .filter(|h| h.starts_with('/') && !h.starts_with("/assets") && !h.starts_with("/lang"))
        {
            let r = t
                .http
                .get(t.url(href))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            let r = if r.status() == 303 {
                let to = r.headers()["location"].to_str().unwrap().to_owned();
                t.http
                    .get(t.url(&to))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap()
            } else {
                r
            };
            assert_eq!(r.status(), 200, "{role:?}: {href}");
        }
        // the language switch goes back to the page it was on
        let lang = html
            .split("id=\"lang-switch\"")
            .next()
            .unwrap()
            .rsplit("href=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            // the attribute as the browser reads it
            .replace("&#x2f;", "/")
            .replace("&#x3d;", "=")
            .replace("&amp;", "&");
        let r = t
            .http
            .get(t.url(&lang))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], landing, "{role:?}: {lang}");
    }
    // the error page's link leads home, not to a page the role may not use
    let a = t.staff(Role::Admin, None).await;
    let (cookie, _) = t.console_login(&a).await;
    let r = t
        .http
        .get(t.url("/cases"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("href=\"/\""));
}

/// The helpline's own site (another origin) loads the widget's loader, and nothing else;
/// the chat frame may be framed by this origin and the allowed sites only.
#[tokio::test]
async fn only_the_loader_loads_cross_origin_and_only_allowed_sites_frame_the_chat() {
    let t = TestApp::spawn_with(|s| {
        s.widget.allowed_origins = vec![
            "https://www.helpline.example"
                .to_owned()
                .try_into()
                .unwrap(),
        ];
    })
    .await;
    let corp = |r: &reqwest::Response| {
        r.headers()
            .get("cross-origin-resource-policy")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let loader = t.get("/assets/widget.js", None).await;
    assert_eq!(loader.status(), 200);
    assert_eq!(corp(&loader).as_deref(), Some("cross-origin"), "the loader");
    for path in [
        "/assets/chat.js",
        "/assets/chat.css",
        "/widget/frame",
        "/login",
    ] {
        let r = t.get(path, None).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(corp(&r).as_deref(), Some("same-origin"), "{path}");
    }
    let frame = t.get("/widget/frame", None).await;
    let csp = frame.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'self' https://www.helpline.example;"),
        "{csp}"
    );
    assert!(frame.headers().get("x-frame-options").is_none());
    let login = t.get("/login", None).await;
    assert!(
        login.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(login.headers()["x-frame-options"], "DENY");
}
