//! Notices from a case, through the JSON API: one draft per platform filled with the
//! Article 16 elements, nothing marked ready while something is missing, four eyes for
//! intimate images, a send that commits the exact bytes and its delivery job once — even
//! when two sends race — and a decision recorded by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::Role;
use serde_json::{Value, json};
use support::*;

async fn case_with_items(t: &TestApp, token: &str, category: &str) -> String {
    let r = t
        .post_json(
            "/api/v1/cases",
            Some(token),
            json!({"title": "notices", "categories": [category], "age_band": "15_17", "team": "nord"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (platform, item) in [
        ("snapchat", json!({"native_id": "@maitre_chanteur"})),
        (
            "instagram",
            json!({"url": "https://www.instagram.com/p/abc/"}),
        ),
        (
            "snapchat",
            json!({"url": "https://www.snapchat.com/add/autre"}),
        ),
    ] {
        let mut body = json!({"platform": platform, "content_type": "account"});
        for (k, v) in item.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = t
            .post_json(&format!("/api/v1/cases/{id}/items"), Some(token), body)
            .await;
        assert_eq!(r.status(), 201);
    }
    id
}

async fn post(t: &TestApp, path: &str, token: &str) -> reqwest::Response {
    t.req(reqwest::Method::POST, path, Some(token))
        .send()
        .await
        .unwrap()
}

async fn code(r: reqwest::Response) -> (u16, String) {
    let s = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (s, v["error"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn a_notice_goes_from_the_case_to_the_platform_once_with_four_eyes() {
    // no delivery workers on this node: the queued job stays to be seen
    let t = TestApp::spawn_with(|s| s.delivery.workers = false).await;
    let a = t.staff(Role::Counsellor, Some("nord")).await;
    let b = t.staff(Role::Lawyer, Some("nord")).await;
    let outsider = t.staff(Role::Counsellor, Some("sud")).await;
    let (ta, tb, to) = (
        t.token(&a).await,
        t.token(&b).await,
        t.token(&outsider).await,
    );
    let case = case_with_items(&t, &ta, "intimate_images").await;

    // one draft per platform, the platform's items, the Article 16 elements filled
    let r = post(&t, &format!("/api/v1/cases/{case}/notices"), &ta).await;
    assert_eq!(r.status(), 201);
    let drafts: Vec<Value> = r.json().await.unwrap();
    assert_eq!(drafts.len(), 2);
    let snap = drafts.iter().find(|n| n["platform"] == "snapchat").unwrap();
    assert_eq!(snap["items"].as_array().unwrap().len(), 2);
    assert_eq!(snap["state"], "draft");
    assert_eq!(snap["missing"], json!([]));
    assert_eq!(snap["needs_validation"], true, "intimate images: four eyes");
    assert_eq!(snap["sexual_images_of_minor"], true);
    assert!(
        snap["explanation"]
            .as_str()
            .unwrap()
            .contains("signaleur de confiance")
    );
    assert_eq!(snap["channels"][0], "coop");
    assert_eq!(snap["notifier_email"], "signalements@rempart.invalid");
    let id = snap["id"].as_str().unwrap().to_owned();
    // asked again: nothing new, the items are in notices already
    let again: Vec<Value> = post(&t, &format!("/api/v1/cases/{case}/notices"), &ta)
        .await
        .json()
        .await
        .unwrap();
    assert!(again.is_empty());

    // a bad edit changes nothing
    let r = t
        .req(
            reqwest::Method::PUT,
            &format!("/api/v1/notices/{id}"),
            Some(&ta),
        )
        .json(&json!({"explanation": "   ", "sexual_images_of_minor": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (422, "invalid_field".into()));
    let r = t
        .req(reqwest::Method::PUT, &format!("/api/v1/notices/{id}"), Some(&ta))
        .json(&json!({"explanation": "Chantage à la diffusion d'images intimes d'une mineure.", "sexual_images_of_minor": true, "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "unknown fields are refused");
    let r = t
        .req(reqwest::Method::PUT, &format!("/api/v1/notices/{id}"), Some(&ta))
        .json(&json!({"explanation": "Chantage à la diffusion d'images intimes d'une mineure.", "sexual_images_of_minor": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // sending a draft: refused; ready, then four eyes
    assert_eq!(
        code(post(&t, &format!("/api/v1/notices/{id}/send"), &ta).await).await,
        (409, "invalid_transition".into())
    );
    let r = post(&t, &format!("/api/v1/notices/{id}/ready"), &ta).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["prepared_by"],
        a.id.to_string()
    );
    assert_eq!(
        code(post(&t, &format!("/api/v1/notices/{id}/send"), &ta).await).await,
        (409, "validation_required".into())
    );
    assert_eq!(
        code(post(&t, &format!("/api/v1/notices/{id}/validate"), &ta).await).await,
        (409, "validation_required".into()),
        "not by the one who prepared it"
    );
    assert_eq!(
        code(post(&t, &format!("/api/v1/notices/{id}/validate"), &to).await).await,
        (404, "not_found".into()),
        "not by someone who may not see the case"
    );
    let r = t.get(&format!("/api/v1/notices/{id}"), Some(&tb)).await;
    assert_eq!(r.json::<Value>().await.unwrap()["may_validate"], true);
    assert_eq!(
        post(&t, &format!("/api/v1/notices/{id}/validate"), &tb)
            .await
            .status(),
        200
    );

    // two sends at once: one goes, one is refused; one delivery job
    let send_path = format!("/api/v1/notices/{id}/send");
    let (r1, r2) = tokio::join!(post(&t, &send_path, &ta), post(&t, &send_path, &tb));
    let mut statuses = [r1.status().as_u16(), r2.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let n: Value = t
        .get(&format!("/api/v1/notices/{id}"), Some(&ta))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(n["state"], "sent");
    assert_eq!(n["channel"], "coop");
    assert!(n["due_at"].as_i64().unwrap() > n["sent_at"].as_i64().unwrap());
    // the exact bytes that will leave: a Coop report flagged csam, no child in it
    let payload: Value = serde_json::from_str(n["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["reportedForReason"]["csam"], true);
    assert_eq!(payload["reporter"]["kind"], "user");
    assert_eq!(
        payload["reportedItem"]["data"]["nativeId"], "@maitre_chanteur",
        "the first item"
    );
    assert_eq!(payload["additionalItems"].as_array().unwrap().len(), 1);
    let job = t
        .store
        .job_by_key(&format!("notice:{id}:delivery:0"))
        .await
        .unwrap()
        .expect("the delivery job was written with the send");
    assert_eq!(job.state, rempart_storage::JobState::Pending);
    assert_eq!(t.store.job_counts("notice_delivery").await.unwrap().0, 1);

    // a decision recorded by hand; a second one is refused
    let r = t
        .post_json(
            &format!("/api/v1/notices/{id}/decision"),
            Some(&ta),
            json!({"decision": "content_removed", "ticket": "SNAP-42"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let n: Value = r.json().await.unwrap();
    assert_eq!(
        (n["state"].as_str(), n["decision"].as_str()),
        (Some("removed"), Some("content_removed"))
    );
    assert_eq!(n["decision_source"], "manual");
    assert!(n["removed_at"].is_i64());
    let r = t
        .post_json(
            &format!("/api/v1/notices/{id}/decision"),
            Some(&ta),
            json!({"decision": "refused"}),
        )
        .await;
    assert_eq!(code(r).await, (409, "invalid_transition".into()));
    let r = t
        .post_json(
            &format!("/api/v1/notices/{id}/decision"),
            Some(&ta),
            json!({"decision": "deleted_somehow"}),
        )
        .await;
    assert_eq!(r.status(), 422);

    // nobody outside the case sees it
    assert_eq!(
        t.get(&format!("/api/v1/notices/{id}"), Some(&to))
            .await
            .status(),
        404
    );
    assert_eq!(
        t.get(&format!("/api/v1/cases/{case}/notices"), Some(&to))
            .await
            .status(),
        404
    );
    let actions: Vec<String> = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "notice.drafted",
        "notice.edited",
        "notice.ready",
        "notice.validated",
        "notice.sent",
        "notice.decided",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
}

#[tokio::test]
async fn a_notice_without_the_notifiers_address_cannot_be_marked_ready() {
    let t = TestApp::spawn_with(|s| s.helpline.notices_email = String::new()).await;
    let a = t.staff(Role::Counsellor, Some("nord")).await;
    let ta = t.token(&a).await;
    let case = case_with_items(&t, &ta, "cyber_harassment").await;
    let drafts: Vec<Value> = post(&t, &format!("/api/v1/cases/{case}/notices"), &ta)
        .await
        .json()
        .await
        .unwrap();
    let insta = drafts
        .iter()
        .find(|n| n["platform"] == "instagram")
        .unwrap();
    assert_eq!(insta["missing"], json!(["notifier_identity"]));
    assert_eq!(insta["needs_validation"], false);
    let id = insta["id"].as_str().unwrap();
    let r = post(&t, &format!("/api/v1/notices/{id}/ready"), &ta).await;
    let (status, c) = code(r).await;
    assert_eq!((status, c.as_str()), (422, "notice_incomplete"));
    let n: Value = t
        .get(&format!("/api/v1/notices/{id}"), Some(&ta))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(n["state"], "draft", "nothing changed");
}

async fn page(t: &TestApp, case: &str, cookie: &str) -> String {
    let r = t
        .http
        .get(t.url(&format!("/cases/{case}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

async fn form(
    t: &TestApp,
    cookie: &str,
    path: String,
    fields: Vec<(&'static str, String)>,
) -> reqwest::Response {
    t.post_form(cookie, &path, &fields).await
}

/// The console's forms, as a counsellor and a second counsellor use them on the case page.
#[tokio::test]
async fn the_case_page_takes_a_notice_from_draft_to_decision() {
    let t = TestApp::spawn_with(|s| s.delivery.workers = false).await;
    let a = t.staff(Role::Counsellor, Some("nord")).await;
    let b = t.staff(Role::Psychologist, Some("nord")).await;
    let ta = t.token(&a).await;
    let case = case_with_items(&t, &ta, "intimate_images").await;
    let (ca, csrf_a) = t.console_login(&a).await;
    let (cb, csrf_b) = t.console_login(&b).await;
    let html = page(&t, &case, &ca).await;
    assert!(html.contains("id=\"propose-notices\""));
    // one action: a draft per platform
    let r = form(
        &t,
        &ca,
        format!("/cases/{case}/notices"),
        vec![("_csrf", csrf_a.clone())],
    )
    .await;
    assert_eq!(r.status(), 303);
    let html = page(&t, &case, &ca).await;
    assert!(
        !html.contains("id=\"propose-notices\""),
        "every item is in a notice"
    );
    assert!(
        html.contains("(a) Explication de l&#x27;illégalité")
            || html.contains("(a) Explication de l'illégalité")
    );
    let list: Vec<Value> = t
        .get(&format!("/api/v1/cases/{case}/notices"), Some(&ta))
        .await
        .json()
        .await
        .unwrap();
    let id = list.iter().find(|n| n["platform"] == "snapchat").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(html.contains(&format!("id=\"notice-{id}\"")));
    // edit, then ready: the exact bytes are shown
    let r = form(
        &t,
        &ca,
        format!("/notices/{id}/edit"),
        vec![
            ("_csrf", csrf_a.clone()),
            (
                "explanation",
                "Menace de diffuser des images intimes d'une mineure.".into(),
            ),
            ("sexual_images_of_minor", "1".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("#notice-{id}"))
    );
    form(
        &t,
        &ca,
        format!("/notices/{id}/ready"),
        vec![("_csrf", csrf_a.clone())],
    )
    .await;
    let html = page(&t, &case, &ca).await;
    assert!(
        html.contains("En attente de la validation d&#x27;un second écoutant")
            || html.contains("En attente de la validation d'un second écoutant")
    );
    assert!(
        html.contains("reportedForReason"),
        "the payload is shown before sending"
    );
    // flagged as sexual images of a minor: the referral to Pharos and the hotline is prompted
    assert!(html.contains(&format!("id=\"referral-prompt-{id}\"")));
    assert!(html.contains("Pharos (contenus publics illicites)"));
    assert!(
        !html.contains("class=\"send-notice\""),
        "no send before the second counsellor"
    );
    // the second counsellor validates; then it can be sent
    let html_b = page(&t, &case, &cb).await;
    assert!(html_b.contains("class=\"validate-notice\""));
    let r = form(
        &t,
        &cb,
        format!("/notices/{id}/validate"),
        vec![("_csrf", csrf_b.clone())],
    )
    .await;
    assert_eq!(r.status(), 303);
    let html = page(&t, &case, &ca).await;
    assert!(html.contains("class=\"send-notice\""));
    form(
        &t,
        &ca,
        format!("/notices/{id}/send"),
        vec![("_csrf", csrf_a.clone())],
    )
    .await;
    let html = page(&t, &case, &ca).await;
    assert!(html.contains("en cours d&#x27;envoi") || html.contains("en cours d'envoi"));
    // a decision recorded by hand shows with the time to removal
    let r = form(
        &t,
        &ca,
        format!("/notices/{id}/decision"),
        vec![
            ("_csrf", csrf_a.clone()),
            ("decision", "content_removed".into()),
            ("ticket", "SNAP-7".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let html = page(&t, &case, &ca).await;
    assert!(html.contains(&format!("id=\"decision-{id}\"")));
    assert!(html.contains("délai de retrait"));
    assert!(
        html.contains("décision de la plateforme : contenu retiré"),
        "in the timeline"
    );
    // without the CSRF token: refused
    let r = form(
        &t,
        &ca,
        format!("/notices/{id}/unready"),
        vec![("_csrf", "x".into())],
    )
    .await;
    assert_eq!(r.status(), 403);
}
