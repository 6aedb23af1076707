//! A counsellor's shift in the console: the queue in words (one rendering for the page and
//! its live updates), the number waiting in every page's menu, why "take next" gave
//! nothing, the queue alerts each counsellor chooses, what a closing says and a closing
//! form's mistakes shown in the form, and what supervisors watch; the case list's search
//! (accents ignored, the total, pages both ways) and the contact form (what was not said is
//! "not stated", its mistakes kept in it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::Role;
use serde_json::{Value, json};
use support::*;

async fn html(t: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    t.page(cookie, path).await
}

/// A form posted: its status, where it sends, its text.
async fn form(
    t: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let r = t.post_form(cookie, path, fields).await;
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// The live part of a page (`<div id="shift" …>…</div>`, the last `</div>` of it).
fn shift_part(page: &str) -> &str {
    let a = page.find("<div id=\"shift\"").expect("the live part");
    let rest = &page[a..];
    let end = rest.find("\n</div>").expect("its end");
    &rest[..end]
}

/// Waits until the menu of a page says `n` wait (the count follows the queue's events).
async fn menu_says(t: &TestApp, cookie: &str, n: usize) {
    for _ in 0..500 {
        let (_, page) = html(t, cookie, "/cases").await;
        let shown = if page.contains("id=\"nav-waiting\" hidden") {
            Some(0)
        } else {
            page.split("id=\"nav-waiting\"><span class=\"n\">")
                .nth(1)
                .and_then(|r| r.split('<').next())
                .and_then(|s| s.parse().ok())
        };
        if shown == Some(n) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the menu never said {n} waiting");
}

#[tokio::test]
async fn the_queue_speaks_in_words_and_every_page_counts_who_waits() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let (cookie, csrf) = t.console_login(&c).await;
    menu_says(&t, &cookie, 0).await;

    let (v, _) = visitor(
        &t,
        json!({"caller_type": "parent", "age_band": "15_17", "lang": "fr"}),
    )
    .await;
    assert_eq!(
        say(&t, &v, "m1", "il va publier les photos ce soir")
            .await
            .status(),
        201
    );
    menu_says(&t, &cookie, 1).await;

    // the queue in words, the same rendering for the page and for its live updates
    let (s, page) = html(&t, &cookie, "/chats").await;
    assert_eq!(s, 200);
    let (s, live) = html(&t, &cookie, "/chats/live").await;
    assert_eq!(s, 200);
    assert_eq!(shift_part(&page), shift_part(&live));
    let part = shift_part(&live);
    assert!(part.contains("publication imminente"), "{part}");
    assert!(part.contains("parent"), "{part}");
    assert!(!part.contains("imminent_publication") && !part.contains("15_17"));
    assert!(
        part.contains("data-alerts=\"0\""),
        "alerts are off by default"
    );

    // alerts on: the live part says so, and the change is audited
    let (s, location, _) = form(
        &t,
        &cookie,
        "/chats/availability",
        &[
            ("_csrf", &csrf),
            ("available", "1"),
            ("capacity", "3"),
            ("alerts", "1"),
        ],
    )
    .await;
    assert_eq!((s, location.as_str()), (303, "/chats"));
    let (_, live) = html(&t, &cookie, "/chats/live").await;
    assert!(shift_part(&live).contains("data-alerts=\"1\""));
    let audit = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "chat.alerts")
        .count();
    assert_eq!(audit, 1);
    // a reader who does not answer chats has neither the count nor the live part
    let adm = t.staff(Role::Admin, None).await;
    let (acookie, _) = t.console_login(&adm).await;
    let (s, _) = html(&t, &acookie, "/chats/live").await;
    assert_eq!(s, 404);
    let (_, page) = html(&t, &acookie, "/admin/staff").await;
    assert!(!page.contains("nav-waiting"));
}

#[tokio::test]
async fn take_next_says_why_nothing_was_given() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let lawyer = t.staff(Role::Lawyer, None).await;
    let (cookie, csrf) = t.console_login(&c).await;

    // nobody waits
    let (s, location, _) = form(&t, &cookie, "/chats/take", &[("_csrf", &csrf)]).await;
    assert_eq!((s, location.as_str()), (303, "/chats?none=empty"));
    let (_, page) = html(&t, &cookie, &location).await;
    assert!(page.contains("attend pour le moment."));

    // not available
    form(
        &t,
        &cookie,
        "/chats/availability",
        &[("_csrf", &csrf), ("capacity", "3")],
    )
    .await;
    let (_, location, _) = form(&t, &cookie, "/chats/take", &[("_csrf", &csrf)]).await;
    assert_eq!(location, "/chats?none=unavailable");
    let (_, page) = html(&t, &cookie, &location).await;
    assert!(page.contains("pas disponible pour les tchats"));
    form(
        &t,
        &cookie,
        "/chats/availability",
        &[("_csrf", &csrf), ("available", "1"), ("capacity", "3")],
    )
    .await;

    // a conversation handed over to the lawyers waits for them only
    let (v, _) = visitor(&t, json!({})).await;
    say(&t, &v, "m1", "bonjour").await;
    let ctok = t.token(&c).await;
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    let (s, _, _) = form(
        &t,
        &cookie,
        &format!("/chats/{id}/transfer"),
        &[
            ("_csrf", &csrf),
            ("to", "role:lawyer"),
            ("note", "pour un juriste"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (_, live) = html(&t, &cookie, "/chats/live").await;
    assert!(shift_part(&live).contains("réservée : juriste"), "{live}");
    let (_, location, _) = form(&t, &cookie, "/chats/take", &[("_csrf", &csrf)]).await;
    assert_eq!(location, "/chats?none=reserved&roles=lawyer");
    let (_, page) = html(&t, &cookie, &location).await;
    assert!(
        page.contains("réservées à un autre rôle (juriste)"),
        "{page}"
    );
    // the lawyer gets it
    let (lcookie, lcsrf) = t.console_login(&lawyer).await;
    let (_, location, _) = form(&t, &lcookie, "/chats/take", &[("_csrf", &lcsrf)]).await;
    assert_eq!(location, format!("/chats/{id}"));
    // the transcript says who wrote each staff message; the handover note looks apart
    let (_, page) = html(&t, &lcookie, &location).await;
    assert!(
        page.contains(&format!("Note interne · {}", c.display_name)),
        "{page}"
    );
}

#[tokio::test]
async fn ending_says_which_case_and_a_mistake_stays_in_the_form() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let (cookie, csrf) = t.console_login(&c).await;
    let (v, _) = visitor(&t, json!({"caller_type": "victim", "age_band": "15_17"})).await;
    say(&t, &v, "m1", "bonjour").await;
    let ctok = t.token(&c).await;
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    let end = |reference: &'static str, summary: &'static str| {
        let (cookie, csrf, id) = (cookie.clone(), csrf.clone(), id.clone());
        let t = &t;
        async move {
            form(
                t,
                &cookie,
                &format!("/chats/{id}/end"),
                &[
                    ("_csrf", csrf.as_str()),
                    ("caller_type", "victim"),
                    ("age_band", "15_17"),
                    ("category", "sextortion"),
                    ("summary", summary),
                    ("outcome", "case_opened"),
                    ("case_reference", reference),
                    ("open_case", if reference.is_empty() { "1" } else { "" }),
                ],
            )
            .await
        }
    };
    // an unknown case reference: the form again, as typed, with what is wrong; nothing ended
    let (s, _, page) = end("D26-ZZZZZ", "Chantage à la webcam, conseils donnés").await;
    assert_eq!(s, 422);
    assert!(page.contains("id=\"end-error\""), "{page}");
    assert!(page.contains("Aucun dossier avec cette référence"));
    assert!(page.contains(">Chantage à la webcam, conseils donnés</textarea>"));
    assert!(page.contains("value=\"D26-ZZZZZ\""));
    assert!(page.contains("value=\"sextortion\" checked"));
    let conv: Value = t
        .get(&format!("/api/v1/chats/{id}/messages"), Some(&ctok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(conv["conversation"]["status"], "active", "{conv}");
    // a blank summary: the same
    let (s, _, page) = end("", "   ").await;
    assert_eq!(s, 422);
    assert!(page.contains("La synthèse est obligatoire"), "{page}");
    // opening a case: the queue says which, with a link
    let (s, location, _) = end("", "Chantage à la webcam, conseils donnés").await;
    assert_eq!(s, 303);
    assert!(location.starts_with("/chats?ended=1&case="), "{location}");
    let (_, page) = html(&t, &cookie, &location).await;
    let case_id = location.rsplit('=').next().unwrap();
    assert!(
        page.contains(&format!(
            "<a href=\"/cases/{case_id}\" id=\"ended-case\">Dossier D"
        )),
        "{page}"
    );
    // another counsellor is not told another's case reference
    let other = t.staff(Role::Counsellor, Some("ailleurs")).await;
    let (ocookie, _) = t.console_login(&other).await;
    let (_, page) = html(&t, &ocookie, &location).await;
    assert!(!page.contains("ended-case"));
}

#[tokio::test]
async fn supervisors_watch_what_is_handled_and_long_waits() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let (scookie, _) = t.console_login(&sup).await;
    let (first, _) = visitor(&t, json!({})).await;
    say(&t, &first, "m1", "bonjour").await;
    let ctok = t.token(&c).await;
    let taken: Value = t
        .req(reqwest::Method::POST, "/api/v1/chats/take", Some(&ctok))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = taken["id"].as_str().unwrap().to_owned();
    let (second, _) = visitor(&t, json!({})).await;
    say(&t, &second, "m1", "allo").await;

    let (_, live) = html(&t, &scookie, "/chats/live").await;
    let part = shift_part(&live);
    assert!(
        part.contains(&format!("href=\"/chats/{id}\" class=\"watch\"")),
        "{part}"
    );
    assert!(part.contains(&c.display_name));
    assert!(!part.contains("id=\"wait-alert\""), "no long wait yet");
    // past the threshold (5 min by default), the supervisors are alerted
    t.clock.advance(6 * 60_000);
    let (_, live) = html(&t, &scookie, "/chats/live").await;
    let part = shift_part(&live);
    assert!(
        part.contains("Une conversation attend depuis plus de 5 min."),
        "{part}"
    );
    assert!(part.contains("data-urgent=\"1\""));
    // a counsellor sees the queue, not the supervisors' part
    let (ccookie, _) = t.console_login(&c).await;
    let (_, live) = html(&t, &ccookie, "/chats/live").await;
    assert!(!live.contains("active-chats") && !live.contains("wait-alert"));
    // watching is reading: the supervisor's view has no reply box
    let (s, page) = html(&t, &scookie, &format!("/chats/{id}")).await;
    assert_eq!(s, 200);
    assert!(!page.contains("id=\"reply-form\""));
}

#[tokio::test]
async fn closing_a_case_without_an_outcome_stays_in_the_form() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let id = t.new_case(&tok, "harcèlement en ligne").await;
    let (cookie, csrf) = t.console_login(&c).await;
    let (s, _, page) = form(
        &t,
        &cookie,
        &format!("/cases/{id}/status"),
        &[("_csrf", &csrf), ("status", "closed"), ("outcome", "")],
    )
    .await;
    assert_eq!(s, 422);
    assert!(page.contains("id=\"status-error\""), "{page}");
    assert!(
        page.contains("Cyberviolence") && !page.contains("Cyber violence"),
        "the DSA category in French"
    );
    assert!(page.contains("choisissez son issue"));
    assert!(
        page.contains("<option value=\"closed\" selected>"),
        "what was typed is kept"
    );
    let case: Value = t
        .get(&format!("/api/v1/cases/{id}"), Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["status"], "new", "nothing changed");
    // with its outcome, it closes
    let (s, location, _) = form(
        &t,
        &cookie,
        &format!("/cases/{id}/status"),
        &[
            ("_csrf", &csrf),
            ("status", "closed"),
            ("outcome", "advice_only"),
        ],
    )
    .await;
    assert_eq!((s, location), (303, format!("/cases/{id}?done=status")));
}

#[tokio::test]
async fn every_asset_a_template_names_is_served() {
    let t = TestApp::spawn().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut named = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for part in text.split("/assets/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .collect();
            named.insert(name);
        }
    }
    assert!(named.contains("console-live.js"), "{named:?}");
    for name in named {
        let r = t.get(&format!("/assets/{name}"), None).await;
        assert_eq!(r.status(), 200, "/assets/{name}");
    }
}

#[tokio::test]
async fn the_audit_trail_says_in_words_who_did_what_to_which_case() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let tok = t.token(&c).await;
    let id = t.new_case(&tok, "harcèlement en ligne").await;
    let r = t
        .post_json(
            &format!("/api/v1/cases/{id}/status"),
            Some(&tok),
            json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = t
        .put_json(
            &format!("/api/v1/cases/{id}/assignees"),
            Some(&tok),
            json!({"assignees": [c.id.to_string()]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let case: Value = t
        .get(&format!("/api/v1/cases/{id}"), Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    let reference = case["reference"].as_str().unwrap().to_owned();
    let (cookie, _) = t.console_login(&sup).await;
    let (s, page) = html(&t, &cookie, "/audit").await;
    assert_eq!(s, 200);
    assert!(page.contains(&format!("dossier {reference}</a>")), "{page}");
    assert!(page.contains("Statut : nouveau → en cours"), "{page}");
    assert!(
        page.contains(&format!("Suivi par {}", c.display_name)),
        "{page}"
    );
    for code in [
        "case.status_changed",
        "from=",
        "to=",
        "assignees=",
        &c.id.to_string(),
    ] {
        assert!(!page.contains(code), "{code} shows on the audit page");
    }
    // the same words on the case's timeline
    let (_, page) = html(&t, &cookie, &format!("/cases/{id}")).await;
    assert!(page.contains(&format!("Suivi par {}", c.display_name)));
}

/// The rows of the case list page (their references, in order).
fn listed(page: &str) -> Vec<String> {
    page.split("class=\"ref\">")
        .skip(1)
        .filter_map(|r| r.split('<').next())
        .map(str::to_owned)
        .collect()
}

/// The `href` of the link with `id`.
fn link(page: &str, id: &str) -> Option<String> {
    let at = page.find(&format!("id=\"{id}\""))?;
    let start = page[..at].rfind("href=\"")? + 6;
    let end = start + page[start..].find('"')?;
    Some(
        page[start..end]
            .replace("&#x2f;", "/")
            .replace("&amp;", "&"),
    )
}

#[tokio::test]
async fn case_search_ignores_accents_counts_and_pages_both_ways() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    for i in 0..5 {
        t.new_case(&tok, &format!("Harcèlement au collège n{i}"))
            .await;
    }
    t.new_case(&tok, "Vidéo volée").await;
    let (cookie, _) = t.console_login(&c).await;

    let (s, all) = html(&t, &cookie, "/cases").await;
    assert_eq!(s, 200);
    assert!(all.contains("6 dossiers"), "the total of the list");
    for q in ["harcelement", "HARCÈLEMENT", "Harcelement au COLLEGE"] {
        let (_, page) = html(&t, &cookie, &format!("/cases?q={q}")).await;
        assert!(page.contains("5 dossiers trouvés"), "{q}: {page}");
        assert_eq!(listed(&page).len(), 5, "{q}");
    }
    let (_, video) = html(&t, &cookie, "/cases?q=video").await;
    assert!(video.contains("Un dossier trouvé"));
    let (_, none) = html(&t, &cookie, "/cases?q=zzz").await;
    assert!(none.contains("Aucun dossier ne correspond"));

    // two at a time: next, next, then back
    let (_, p1) = html(&t, &cookie, "/cases?q=harcelement&limit=2").await;
    assert!(p1.contains("5 dossiers trouvés"));
    assert_eq!(
        link(&p1, "prev-page"),
        None,
        "no previous page on the first"
    );
    let next = link(&p1, "next-page").expect("a next page");
    assert!(next.contains("q=harcelement"), "the link keeps the search");
    let (_, p2) = html(&t, &cookie, &next).await;
    let (_, p3) = html(&t, &cookie, &link(&p2, "next-page").unwrap()).await;
    assert_eq!(link(&p3, "next-page"), None, "the last page");
    let mut seen = [listed(&p1), listed(&p2), listed(&p3)].concat();
    assert_eq!(seen.len(), 5);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "each case once");
    let (_, back2) = html(&t, &cookie, &link(&p3, "prev-page").unwrap()).await;
    assert_eq!(
        listed(&back2),
        listed(&p2),
        "previous gives the page before"
    );
    let (_, back1) = html(&t, &cookie, &link(&back2, "prev-page").unwrap()).await;
    assert_eq!(listed(&back1), listed(&p1));
    assert_eq!(link(&back1, "prev-page"), None, "back on the first page");
    // the API pages back the same way
    let api: Value = t
        .get("/api/v1/cases?q=harcelement&limit=2", Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert!(api["prev_cursor"].is_null());
    let before = api["next_cursor"].as_str().unwrap();
    let r = t
        .get(
            &format!("/api/v1/cases?cursor={before}&before={before}"),
            Some(&tok),
        )
        .await;
    assert_eq!(r.status().as_u16(), 422, "cursor and before together");
}

#[tokio::test]
async fn the_contact_form_records_truth_and_keeps_its_mistakes() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    let (cookie, csrf) = t.console_login(&c).await;
    let (_, page) = html(&t, &cookie, "/contacts/new").await;
    for select in ["caller_type", "age_band"] {
        let part = &page[page.find(&format!("id=\"{select}\"")).unwrap()..];
        let part = &part[..part.find("</select>").unwrap()];
        assert!(
            part.contains("<option value=\"unknown\" selected>"),
            "{select} defaults to not stated: {part}"
        );
        assert_eq!(part.matches(" selected").count(), 1);
    }
    let summary = "Elle reçoit des messages menaçants depuis lundi sur Snapchat et un compte se fait passer pour elle";
    let (s, _, page) = form(
        &t,
        &cookie,
        "/contacts",
        &[
            ("_csrf", &csrf),
            ("channel", "phone"),
            ("caller_type", "parent"),
            ("age_band", "11_14"),
            ("category", "cyber_harassment"),
            ("summary", summary),
            ("outcome", "listened"),
            ("case_reference", "D26-ZZZZZ"),
        ],
    )
    .await;
    assert_eq!(s, 422, "an unknown case stays in the form");
    assert!(page.contains("id=\"contact-error\""));
    assert!(page.contains("Aucun dossier avec cette référence"));
    assert!(page.contains(summary), "the summary typed is kept");
    assert!(page.contains("value=\"D26-ZZZZZ\" aria-invalid=\"true\""));
    assert!(page.contains("<option value=\"parent\" selected>"));
    assert!(page.contains("value=\"cyber_harassment\" checked"));
    let cases: Value = t
        .get("/api/v1/cases", Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cases["cases"].as_array().unwrap().len(),
        0,
        "nothing recorded"
    );

    // opened as a case without a title: the summary's first words, cut between two
    let (s, location, _) = form(
        &t,
        &cookie,
        "/contacts",
        &[
            ("_csrf", &csrf),
            ("channel", "phone"),
            ("caller_type", "unknown"),
            ("age_band", "unknown"),
            ("summary", summary),
            ("outcome", "listened"),
            ("open_case", "1"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{location}");
    let cases: Value = t
        .get("/api/v1/cases", Some(&tok))
        .await
        .json()
        .await
        .unwrap();
    let title = cases["cases"][0]["title"].as_str().unwrap().to_owned();
    assert!(
        title.ends_with('…') && title.chars().count() <= 80,
        "{title}"
    );
    let kept = title.trim_end_matches('…');
    assert!(
        summary.starts_with(kept) && summary[kept.len()..].starts_with(' '),
        "cut between words: {title}"
    );
}

#[tokio::test]
async fn an_administrator_corrects_an_account_and_a_taken_address_changes_nothing() {
    let t = TestApp::spawn().await;
    let admin = t.staff(Role::Admin, None).await;
    let c = t.staff(Role::Counsellor, None).await;
    let other = t.staff(Role::Counsellor, None).await;
    let (cookie, csrf) = t.console_login(&admin).await;
    let (s, _, page) = form(
        &t,
        &cookie,
        &format!("/admin/staff/{}/edit", c.id),
        &[
            ("_csrf", &csrf),
            ("display_name", "Camille Nouveau-Nom"),
            ("email", &other.email),
        ],
    )
    .await;
    assert_eq!(s, 422, "another account's address");
    assert!(page.contains("id=\"edit-error\""));
    assert!(page.contains("Un autre compte utilise déjà cette adresse"));
    assert!(
        page.contains("value=\"Camille Nouveau-Nom\""),
        "what was typed is kept"
    );
    let (s, list) = html(&t, &cookie, "/admin/staff").await;
    assert_eq!(s, 200);
    assert!(!list.contains("Camille Nouveau-Nom"), "nothing changed");
    let (s, _, _) = form(
        &t,
        &cookie,
        &format!("/admin/staff/{}/edit", c.id),
        &[
            ("_csrf", &csrf),
            ("display_name", "X"),
            ("email", "pas-une-adresse"),
        ],
    )
    .await;
    assert_eq!(s, 422);
    let (s, location, _) = form(
        &t,
        &cookie,
        &format!("/admin/staff/{}/edit", c.id),
        &[
            ("_csrf", &csrf),
            ("display_name", "Camille Nouveau-Nom"),
            ("email", "camille.nouveau@test.invalid"),
        ],
    )
    .await;
    assert_eq!((s, location.as_str()), (303, "/admin/staff?done=edited"));
    let (_, list) = html(&t, &cookie, &location).await;
    assert!(list.contains("Compte corrigé."));
    assert!(list.contains("Camille Nouveau-Nom") && list.contains("camille.nouveau@test.invalid"));
    // the new address logs in; the audit trail says who corrected which account
    let sup = t.staff(Role::Supervisor, None).await;
    let (scookie, _) = t.console_login(&sup).await;
    let (_, audit) = html(&t, &scookie, "/audit").await;
    assert!(audit.contains("compte corrigé (nom ou adresse)"), "{audit}");
    assert!(audit.contains("Camille Nouveau-Nom"));
    let r = t
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "camille.nouveau@test.invalid", "password": support::PASSWORD}),
        )
        .await;
    assert_ne!(
        r.status().as_u16(),
        401,
        "the corrected address is the login"
    );
}

#[tokio::test]
async fn transcripts_are_searched_within_what_one_may_read_and_audited_without_words() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let other = t.staff(Role::Counsellor, None).await;
    let sup = t.staff(Role::Supervisor, None).await;
    let admin = t.staff(Role::Admin, None).await;
    // one conversation each: the same words, one with accents
    let mut ids = vec![];
    for (who, text) in [
        (&c, "C'est du harcèlement au collège"),
        (&other, "harcelement sur snapchat"),
    ] {
        let tok = t.token(who).await;
        t.put_json(
            "/api/v1/chats/availability",
            Some(&tok),
            json!({"available": true, "capacity": 5}),
        )
        .await;
        let (v, _) = visitor(&t, json!({})).await;
        assert_eq!(say(&t, &v, "m1", text).await.status(), 201);
        let taken: Value = t
            .post_json("/api/v1/chats/take", Some(&tok), json!({}))
            .await
            .json()
            .await
            .unwrap();
        ids.push(taken["id"].as_str().unwrap().to_owned());
    }
    let (cookie, _) = t.console_login(&c).await;
    let (s, page) = html(&t, &cookie, "/chats/search?q=HARCELEMENT").await;
    assert_eq!(s, 200);
    assert!(page.contains("Un message trouvé."), "{page}");
    assert!(
        page.contains(&format!("/chats/{}", ids[0])),
        "one's own conversation"
    );
    assert!(!page.contains(&ids[1]), "never another counsellor's");
    assert!(page.contains("harcèlement au collège"));

    let (scookie, _) = t.console_login(&sup).await;
    let (_, page) = html(&t, &scookie, "/chats/search?q=harc%C3%A8lement").await;
    assert!(
        page.contains("2 messages trouvés."),
        "supervisors read every conversation"
    );

    let (s, page) = html(&t, &cookie, "/chats/search?q=ha").await;
    assert_eq!(s, 422, "too short");
    assert!(page.contains("id=\"search-error\""));
    assert!(page.contains("value=\"ha\""), "what was typed is kept");

    let (acookie, _) = t.console_login(&admin).await;
    let (s, _) = html(&t, &acookie, "/chats/search?q=harcelement").await;
    assert_eq!(s, 404, "administrators do not read conversations");

    // the trail has both searches, with what they found and never the words
    let events = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    let searches: Vec<_> = events
        .iter()
        .filter(|e| e.action == "conversation.searched")
        .collect();
    assert_eq!(searches.len(), 2);
    for e in &searches {
        assert!(!e.detail.contains("harc"), "{}", e.detail);
        assert!(e.detail.contains("words=") && e.detail.contains("found="));
    }
}
