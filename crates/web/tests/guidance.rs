//! Guidance in the console: a case's playbook checklist (ticks in the timeline, in words),
//! the supervisors' editor of the playbooks, the services directory and the advice sent in
//! the chat in one click.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::ids::CaseId;
use rempart_domain::playbook::Playbooks;
use rempart_domain::policy::Role;
use serde_json::{Value, json};
use support::*;

async fn page(t: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    t.page(cookie, path).await
}

async fn form(t: &TestApp, cookie: &str, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    t.post_form(cookie, path, fields).await
}

/// A case of `categories` with an item on `platform`; returns its id.
async fn case_with(t: &TestApp, token: &str, categories: &[&str], platform: &str) -> String {
    let r = t
        .post_json(
            "/api/v1/cases",
            Some(token),
            json!({"title": "chantage", "categories": categories, "age_band": "15_17"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t
        .post_json(
            &format!("/api/v1/cases/{id}/items"),
            Some(token),
            json!({"platform": platform, "content_type": "account", "native_id": "@maitre_chanteur"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    id
}

fn tick_fields<'a>(
    csrf: &'a str,
    playbook: &'a str,
    step: &'a str,
    done: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("playbook", playbook),
        ("step", step),
        ("done", done),
    ]
}

#[tokio::test]
async fn a_tick_shows_in_the_timeline_in_words_and_can_be_undone() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let case = case_with(&t, &tok, &["sextortion"], "snapchat").await;
    let (cookie, csrf) = t.console_login(&c).await;

    let (status, html) = page(&t, &format!("/cases/{case}"), &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"pb-sextortion\""));
    assert!(html.contains("Conduite à tenir · Sextorsion"));
    assert!(html.contains("0 étape(s) faite(s)"));
    // the case's platform's step is in the list, another platform's apart
    let other = html.find("class=\"other-platforms\"").unwrap();
    let snap = html.find("id=\"step-sextortion-snapchat_report\"").unwrap();
    let insta = html
        .find("id=\"step-sextortion-instagram_private\"")
        .unwrap();
    assert!(snap < other && insta > other, "{snap} {other} {insta}");
    // the services a step suggests, linked to the directory
    assert!(html.contains("href=\"/services#service-take_it_down\""));

    let r = form(
        &t,
        &cookie,
        &format!("/cases/{case}/playbook"),
        &tick_fields(&csrf, "sextortion", "do_not_pay", "1"),
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/cases/{case}?done=ticked#pb-sextortion").as_str()
    );
    let (_, html) = page(&t, &format!("/cases/{case}?done=ticked"), &cookie).await;
    assert!(html.contains("Étape marquée comme faite."));
    assert!(html.contains("1 étape(s) faite(s)"));
    assert!(
        html.contains("Étape faite : « Conseiller de ne pas payer"),
        "the timeline says it in words"
    );
    assert!(!html.contains("do_not_pay=") && !html.contains("playbook="));
    let li = &html[html.find("id=\"step-sextortion-do_not_pay\"").unwrap()..];
    assert!(li[..600].contains("aria-pressed=\"true\""));
    assert!(li[..1500].contains(&format!("Faite par {}", c.display_name)));

    // undone: the step is to do again, both changes stay in the timeline
    let r = form(
        &t,
        &cookie,
        &format!("/cases/{case}/playbook"),
        &tick_fields(&csrf, "sextortion", "do_not_pay", "0"),
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, html) = page(&t, &format!("/cases/{case}"), &cookie).await;
    assert!(html.contains("0 étape(s) faite(s)"));
    assert!(html.contains("Étape remise à faire : « Conseiller de ne pas payer"));
    assert!(html.contains("Étape faite : « Conseiller de ne pas payer"));
    let ticks = t
        .store
        .playbook_ticks(CaseId::parse(&case).unwrap())
        .await
        .unwrap();
    assert_eq!(ticks.len(), 1);
    assert!(!ticks[0].done);

    // bad inputs: a clear 4xx, nothing written
    let before = t.store.audit_verify(vec![]).await.unwrap().checked;
    for (fields, why) in [
        (
            tick_fields(&csrf, "grooming", "danger_now", "1"),
            "not a category of the case",
        ),
        (
            tick_fields(&csrf, "sextortion", "no_such_step", "1"),
            "unknown step",
        ),
        (tick_fields(&csrf, "sextortion", "do_not_pay", "2"), "done"),
        (
            tick_fields("wrong", "sextortion", "do_not_pay", "1"),
            "csrf",
        ),
    ] {
        let r = form(&t, &cookie, &format!("/cases/{case}/playbook"), &fields).await;
        let s = r.status().as_u16();
        assert!((400..500).contains(&s) && s != 404, "{why}: {s}");
    }
    let r = form(
        &t,
        &cookie,
        &format!("/cases/{case}/playbook"),
        &[
            ("_csrf", csrf.as_str()),
            ("playbook", "sextortion"),
            ("step", "do_not_pay"),
            ("done", "1"),
            ("by", "someone else"),
        ],
    )
    .await;
    assert!(r.status().is_client_error(), "unknown field");
    // the case page's own reads are audited: compare the trail without them
    let after = t.store.audit_verify(vec![]).await.unwrap().checked;
    let ticks_after = t
        .store
        .playbook_ticks(CaseId::parse(&case).unwrap())
        .await
        .unwrap();
    assert_eq!(ticks_after, ticks, "nothing half-written");
    assert_eq!(after, before, "no event for refused ticks");

    // in English: the same words, translated
    let r = t
        .http
        .get(t.url(&format!("/lang/en?back=/cases/{case}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let lang = set_cookie(&r, "rempart_lang").unwrap_or_else(|| "en".into());
    let (_, html) = page(
        &t,
        &format!("/cases/{case}"),
        &format!("{cookie}; rempart_lang={lang}"),
    )
    .await;
    assert!(html.contains("What to do · Sextortion"), "english card");
    assert!(
        html.contains("Step set back to do: \"Advise not to pay")
            || html.contains("Step set back to do: &quot;Advise not to pay")
    );
}

#[tokio::test]
async fn a_counsellor_outside_the_case_is_refused() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, Some("nord")).await;
    let outsider = t.staff(Role::Counsellor, Some("sud")).await;
    let admin = t.staff(Role::Admin, None).await;
    let tok = t.token(&c).await;
    let case = case_with(&t, &tok, &["cyber_harassment"], "tiktok").await;
    for who in [&outsider, &admin] {
        let (cookie, csrf) = t.console_login(who).await;
        let r = form(
            &t,
            &cookie,
            &format!("/cases/{case}/playbook"),
            &tick_fields(&csrf, "cyber_harassment", "keep_proof", "1"),
        )
        .await;
        assert_eq!(r.status(), 404, "{:?}", who.role);
    }
    assert!(
        t.store
            .playbook_ticks(CaseId::parse(&case).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    // a supervisor sees every case, and may tick
    let sup = t.staff(Role::Supervisor, None).await;
    let (cookie, csrf) = t.console_login(&sup).await;
    let r = form(
        &t,
        &cookie,
        &format!("/cases/{case}/playbook"),
        &tick_fields(&csrf, "cyber_harassment", "raid_lockdown", "1"),
    )
    .await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn supervisors_edit_the_playbooks_with_mistakes_shown_in_the_form() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let (cc, ccsrf) = t.console_login(&c).await;
    assert_eq!(page(&t, "/playbooks", &cc).await.0, 404);
    let r = form(
        &t,
        &cc,
        "/playbooks",
        &[("_csrf", &ccsrf), ("based_on", "0"), ("document", "")],
    )
    .await;
    assert_eq!(r.status(), 404, "counsellors do not edit");

    let (cookie, csrf) = t.console_login(&sup).await;
    let (status, html) = page(&t, "/playbooks", &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("Textes par défaut de Rempart"));
    assert!(
        html.contains("category = &quot;sextortion&quot;")
            || html.contains("category = \"sextortion\"")
    );

    // a syntax error: 422, the text as typed, the error inside the form
    let broken = "[[playbook]\ncategory = \"sextortion\" <b>typed</b>";
    let r = form(
        &t,
        &cookie,
        "/playbooks",
        &[("_csrf", &csrf), ("based_on", "0"), ("document", broken)],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    let f = &html[html.find("id=\"playbooks-form\"").unwrap()..];
    assert!(f.contains("id=\"playbooks-error\""));
    assert!(f.contains("n'est pas du TOML valide") || f.contains("n&#x27;est pas du TOML valide"));
    assert!(f.contains("&lt;b&gt;typed&lt;&#x2f;b&gt;") || f.contains("&lt;b&gt;typed&lt;/b&gt;"));
    assert!(f.contains("aria-invalid=\"true\""));
    assert!(!html.contains("<b>typed</b>"), "escaped");

    // an unknown platform: named in the message
    let unknown = "[[playbook]]\ncategory = \"sextortion\"\nfr = \"S\"\nen = \"S\"\n\
        [[playbook.step]]\ncode = \"a\"\nfr = \"A\"\nen = \"A\"\nplatforms = [\"myspace\"]\n";
    let r = form(
        &t,
        &cookie,
        "/playbooks",
        &[("_csrf", &csrf), ("based_on", "0"), ("document", unknown)],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("plateforme inconnue « myspace »"));
    assert_eq!(
        t.store.playbooks_version().await.unwrap(),
        0,
        "nothing saved"
    );

    // a valid document: saved, in use at once
    let mine = "[[playbook]]\ncategory = \"sextortion\"\nfr = \"Chantage (notre version)\"\nen = \"Blackmail (ours)\"\n\
        [[playbook.step]]\ncode = \"call_back\"\nfr = \"Proposer un rappel\"\nen = \"Offer a call back\"\n\
        advice_fr = \"On peut te rappeler.\"\nadvice_en = \"We can call you back.\"\n";
    let r = form(
        &t,
        &cookie,
        "/playbooks",
        &[("_csrf", &csrf), ("based_on", "0"), ("document", mine)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/playbooks?done=saved");
    let (_, html) = page(&t, "/playbooks?done=saved", &cookie).await;
    assert!(html.contains("Conduites à tenir enregistrées."));
    assert!(html.contains("version 1"));
    assert!(html.contains(&sup.display_name));
    let stok = t.token(&sup).await;
    let case = case_with(&t, &stok, &["sextortion"], "instagram").await;
    let (_, html) = page(&t, &format!("/cases/{case}"), &cookie).await;
    assert!(html.contains("Chantage (notre version)"));
    assert!(html.contains("id=\"step-sextortion-call_back\""));
    assert!(!html.contains("id=\"step-sextortion-do_not_pay\""));

    // a stale editor (based on version 0): 409, what was typed kept, nothing saved
    let r = form(
        &t,
        &cookie,
        "/playbooks",
        &[
            ("_csrf", &csrf),
            ("based_on", "0"),
            ("document", "# stale edit\n"),
        ],
    )
    .await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("# stale edit"));
    assert!(html.contains("Une autre version a été enregistrée"));
    assert_eq!(t.store.playbooks_version().await.unwrap(), 1);

    // back to the defaults
    let r = form(
        &t,
        &cookie,
        "/playbooks/restore",
        &[("_csrf", &csrf), ("based_on", "1")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, html) = page(&t, &format!("/cases/{case}"), &cookie).await;
    assert!(html.contains("id=\"step-sextortion-do_not_pay\""));
    assert!(html.contains("Conduites à tenir remises par défaut") || !html.contains("call_back"));
    let v = t.store.latest_playbooks().await.unwrap().unwrap();
    assert_eq!((v.version, v.document), (2, None));
    // the edits are in the audit trail, for the supervisors
    let (_, audit) = page(&t, "/audit", &cookie).await;
    assert!(audit.contains("Conduites à tenir modifiées (version 1)"));
    assert!(audit.contains("Conduites à tenir remises par défaut (version 2)"));
    // a version saved by another node is followed at the next page
    let other_node = "[[playbook]]\ncategory = \"sextortion\"\nfr = \"Version d'un autre nœud\"\nen = \"Another node's\"\n";
    t.store
        .save_playbooks(
            2,
            Some(other_node),
            sup.id,
            &rempart_storage::AuditEntry::new(
                t.app.now(),
                Some(sup.id),
                rempart_domain::audit::event::AuditEvent::PlaybooksEdited {
                    version: 3,
                    defaults: false,
                },
            ),
        )
        .await
        .unwrap();
    let (_, html) = page(&t, &format!("/cases/{case}"), &cookie).await;
    assert!(
        html.contains("Version d&#x27;un autre nœud"),
        "followed at once"
    );
    // a bad version number is a clear 4xx
    let r = form(
        &t,
        &cookie,
        "/playbooks/restore",
        &[("_csrf", &csrf), ("based_on", "-3")],
    )
    .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn services_are_found_with_or_without_accents() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let (cookie, _) = t.console_login(&c).await;
    for q in ["harcelement", "Harc%C3%A8lement", "HARC%C3%88LEMENT"] {
        let (status, html) = page(&t, &format!("/services?q={q}"), &cookie).await;
        assert_eq!(status, 200, "{q}");
        assert!(
            html.contains("id=\"service-non_au_harcelement_3020\""),
            "{q}"
        );
        assert!(!html.contains("id=\"service-cnil\""), "{q}");
    }
    // the whole directory, with numbers and hours
    let (_, html) = page(&t, "/services", &cookie).await;
    for code in [
        "police",
        "gendarmerie",
        "pharos",
        "child_protection_119",
        "suicide_prevention_3114",
        "non_au_harcelement_3020",
        "france_victimes_116006",
        "cnil",
        "lawyer",
    ] {
        assert!(html.contains(&format!("id=\"service-{code}\"")), "{code}");
    }
    assert!(html.contains("href=\"tel:116006\""));
    assert!(html.contains("24 h&#x2f;24, 7 j&#x2f;7, gratuit"));
    // a region: its own and the national ones
    let (_, html) = page(&t, "/services?kind=lawyer&region=ile_de_france", &cookie).await;
    assert!(html.contains("id=\"service-lawyer_paris_minors\""));
    assert!(html.contains("id=\"service-lawyer\""));
    assert!(!html.contains("id=\"service-lawyer_lyon_minors\""));
    assert!(!html.contains("id=\"service-police\""));
    let (_, html) = page(&t, "/services?q=zzzz", &cookie).await;
    assert!(html.contains("id=\"services-none\""));
    // bad inputs: 4xx
    for q in [
        "kind=army".to_owned(),
        "region=atlantis".to_owned(),
        format!("q={}", "a".repeat(201)),
        "colour=red".to_owned(),
    ] {
        let (status, _) = page(&t, &format!("/services?{q}"), &cookie).await;
        assert!(
            (400..500).contains(&status) && status != 404,
            "{q}: {status}"
        );
    }
    // reachable from the menu, the case page and the chat
    let (_, html) = page(&t, "/cases", &cookie).await;
    assert!(html.contains("href=\"/services\""));
    let admin = t.staff(Role::Admin, None).await;
    let (ac, _) = t.console_login(&admin).await;
    assert_eq!(page(&t, "/services", &ac).await.0, 200);
}

#[tokio::test]
async fn one_click_advice_sends_a_staff_message_in_the_conversation() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let other = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let (visitor_token, _) = visitor(&t, json!({"lang": "fr", "age_band": "15_17"})).await;
    assert_eq!(
        say(&t, &visitor_token, "v1", "on me fait du chantage")
            .await
            .status(),
        201
    );
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    let (cookie, csrf) = t.console_login(&c).await;
    let (status, html) = page(&t, &format!("/chats/{id}"), &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"advice\""));
    assert!(html.contains("value=\"do_not_pay\""));
    assert!(html.contains("href=\"/services\"") || html.contains("action=\"/services\""));
    let client_id = attr_after(&html, "name=\"client_id\" value=\"");
    assert!(client_id.starts_with("adv-"));

    let send = |client: String, step: &'static str| {
        let (t, cookie, csrf, id) = (&t, cookie.clone(), csrf.clone(), id.clone());
        async move {
            form(
                t,
                &cookie,
                &format!("/chats/{id}/advice"),
                &[
                    ("_csrf", csrf.as_str()),
                    ("client_id", client.as_str()),
                    ("playbook", "sextortion"),
                    ("step", step),
                ],
            )
            .await
        }
    };
    let r = send("adv-test-1".into(), "do_not_pay").await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/chats/{id}?advice=sent").as_str()
    );
    // the same click again (a double submit): one message
    assert_eq!(send("adv-test-1".into(), "do_not_pay").await.status(), 303);
    let expected = Playbooks::defaults()
        .unwrap()
        .step("sextortion", "do_not_pay")
        .unwrap()
        .advice("fr")
        .unwrap()
        .to_owned();
    let all: Value = t
        .get(&format!("/api/v1/chats/{id}/messages"), Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    let staff: Vec<&Value> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "counsellor")
        .collect();
    assert_eq!(staff.len(), 1, "{all}");
    assert_eq!(staff[0]["body"], expected.as_str());
    assert_eq!(staff[0]["author_id"], c.id.to_string().as_str());
    let (_, html) = page(&t, &format!("/chats/{id}?advice=sent"), &cookie).await;
    assert!(html.contains("Conseil envoyé."));

    // a step without advice, an unknown one: 4xx, nothing sent
    for step in ["priority_notice", "nope"] {
        let r = send(format!("adv-{step}"), step).await;
        assert_eq!(r.status(), 422, "{step}");
    }
    // another counsellor may not send in this conversation
    let (oc, ocsrf) = t.console_login(&other).await;
    let r = form(
        &t,
        &oc,
        &format!("/chats/{id}/advice"),
        &[
            ("_csrf", ocsrf.as_str()),
            ("client_id", "adv-x"),
            ("playbook", "sextortion"),
            ("step", "do_not_pay"),
        ],
    )
    .await;
    assert_eq!(r.status(), 404);
    let all: Value = t
        .get(&format!("/api/v1/chats/{id}/messages"), Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        all["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["from"] == "counsellor")
            .count(),
        1
    );

    // an English-speaking visitor gets the English advice
    let (en_token, _) = visitor(&t, json!({"lang": "en"})).await;
    assert_eq!(say(&t, &en_token, "e1", "help").await.status(), 201);
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let en_id = taken["id"].as_str().unwrap().to_owned();
    let r = form(
        &t,
        &cookie,
        &format!("/chats/{en_id}/advice"),
        &[
            ("_csrf", csrf.as_str()),
            ("client_id", "adv-en-1"),
            ("playbook", "grooming"),
            ("step", "stop_contact"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let all: Value = t
        .get(&format!("/api/v1/chats/{en_id}/messages"), Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    let last = all["messages"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["body"]
            .as_str()
            .unwrap()
            .starts_with("Stop answering this person")
    );
}
