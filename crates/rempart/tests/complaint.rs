//! The complaint document of a real `rempart serve`: a case with items, notes of every
//! visibility, evidence (a file, fingerprints only, an excerpt, a link) and a referral,
//! fetched as PDFs for the police and for the family, in French and English, and read
//! back with `pdftotext`: what must be there is, and no note, no staff name, no title.
//!
//! Needs `pdftotext` (Debian's poppler-utils); without it the test says so and stops,
//! unless REMPART_REQUIRE_PDFTOTEXT=1 (CI), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_pdf::testing::{pdf_text, pdftotext_available};
use serde_json::{Value, json};
use std::process::Stdio;
use support::*;

fn user_in_team(env: &[(&'static str, String)], email: &str, role: &str, team: &str) {
    let mut cmd = bin();
    cmd.args([
        "user", "add", "--email", email, "--name", email, "--role", role, "--team", team,
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut add = cmd.spawn().unwrap();
    std::io::Write::write_all(
        &mut add.stdin.take().unwrap(),
        b"a long enough passphrase\n",
    )
    .unwrap();
    assert!(add.wait().unwrap().success());
}

#[tokio::test]
async fn the_complaint_document_says_what_it_must_and_nothing_it_must_not() {
    if !pdftotext_available() {
        return;
    }
    let dir = tmp("complaint");
    let url = format!("sqlite://{}/rempart.db", dir.display());
    let hours = always_open(&dir);
    let mut env = node_env(&url, &hours);
    env.push((
        "REMPART_EVIDENCE_PATH",
        dir.join("evidence").display().to_string(),
    ));
    for (email, role, team) in [
        ("conseil@paris.invalid", "counsellor", "paris"),
        ("psy@paris.invalid", "psychologist", "paris"),
        ("juriste@paris.invalid", "lawyer", "paris"),
        ("conseil@lyon.invalid", "counsellor", "lyon"),
        ("sup@paris.invalid", "supervisor", "paris"),
    ] {
        user_in_team(&env, email, role, team);
    }
    let node = serve(&env, &[]).await;
    let base = node.base.clone();
    let http = reqwest::Client::new();
    let pass = "a long enough passphrase";
    let counsellor = login(&http, &base, "conseil@paris.invalid", pass).await;
    let psy = login(&http, &base, "psy@paris.invalid", pass).await;
    let lawyer = login(&http, &base, "juriste@paris.invalid", pass).await;
    let lyon = login(&http, &base, "conseil@lyon.invalid", pass).await;
    let sup = login(&http, &base, "sup@paris.invalid", pass).await;

    let case = post_ok(
        &http,
        format!("{base}/api/v1/cases"),
        &counsellor,
        json!({"title": "TITRE-INTERNE du dossier", "categories": ["intimate_images", "cyber_harassment"],
               "age_band": "15_17", "team": "paris", "articles": []}),
    )
    .await;
    let id = case["id"].as_str().unwrap().to_owned();
    let reference = case["reference"].as_str().unwrap().to_owned();
    let api = |p: &str| format!("{base}/api/v1/cases/{id}{p}");

    let item = post_ok(
        &http,
        api("/items"),
        &counsellor,
        json!({"platform": "instagram", "content_type": "post", "url": "https://instagram.example/p/AbC123"}),
    )
    .await;
    let item_id = item["id"].as_str().unwrap().to_owned();
    for (token, visibility, body) in [
        (&counsellor, "team", "NOTE-EQUIPE confidentielle"),
        (&psy, "psychologists", "NOTE-PSY confidentielle"),
        (&lawyer, "lawyers", "NOTE-JURIDIQUE confidentielle"),
    ] {
        post_ok(
            &http,
            api("/notes"),
            token,
            json!({"visibility": visibility, "body": body}),
        )
        .await;
    }
    // a screenshot, fingerprints only, an excerpt and a link
    let png = rempart_media::testing::phone_png(320, 240, 7);
    let form = reqwest::multipart::Form::new()
        .text("kind", "screenshot")
        .text("description", "Capture de la publication")
        .text("items", item_id.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(png.clone()).file_name("NOM-ORIGINAL.png"),
        );
    let r = http
        .post(api("/evidence/files"))
        .bearer_auth(&counsellor)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let png_sha = hex_sha256(&png);
    let (fp_sha, fp_md5, fp_pdq) = ("a".repeat(64), "b".repeat(32), "c".repeat(64));
    post_ok(
        &http,
        api("/evidence/fingerprints"),
        &counsellor,
        json!({"sha256": fp_sha, "md5": fp_md5, "pdq": fp_pdq, "pdq_quality": 90,
               "url": "https://instagram.example/p/AbC123", "description": "Image intime diffusée",
               "sexual_image_of_minor": true}),
    )
    .await;
    post_ok(
        &http,
        api("/evidence/notes"),
        &counsellor,
        json!({"kind": "excerpt", "excerpt": "« Tu vas voir ce que je vais faire de tes photos »", "items": [item_id]}),
    )
    .await;
    let referral = post_ok(
        &http,
        api("/referrals"),
        &counsellor,
        json!({"service": "pharos"}),
    )
    .await;
    post_ok(
        &http,
        api(&format!(
            "/referrals/{}/basis",
            referral["id"].as_str().unwrap()
        )),
        &counsellor,
        json!({"basis": "guardian", "consent_by": "sa mère", "consent_scope": "signalement Pharos"}),
    )
    .await;

    let fetch = |token: String, query: &'static str| {
        let http = http.clone();
        let u = api(&format!("/complaint?{query}"));
        async move { http.get(u).bearer_auth(token).send().await.unwrap() }
    };

    // for the police, in French, asked by a psychologist (who may read the notes)
    let r = fetch(psy.clone(), "audience=police&lang=fr").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(&reference),
        "{disposition}"
    );
    let police = pdf_text(&r.bytes().await.unwrap());
    let taxonomy = rempart_domain::taxonomy::Taxonomy::defaults().unwrap();
    let intimate = taxonomy.get("intimate_images").unwrap();
    let harassment = taxonomy.get("cyber_harassment").unwrap();
    let keys = rempart_app::keys::Keys::derive(MASTER_KEY.as_bytes());
    let signing = rempart_app::evidence::export::public_key(&keys);
    for must in [
        "Aide au dépôt de plainte",
        "Pour les services de police et de gendarmerie",
        reference.as_str(),
        intimate.label("fr"),
        harassment.label("fr"),
        "Code pénal, art. 226-2-1",
        "Code pénal, art. 222-33-2-2",
        "Instagram",
        "https://instagram.example/p/AbC123",
        png_sha.as_str(),
        fp_sha.as_str(),
        fp_md5.as_str(),
        fp_pdq.as_str(),
        "Capture de la publication",
        "Tu vas voir ce que je vais faire de tes photos",
        "jamais transmis à la ligne",
        "Pharos",
        signing.as_str(),
        "Historique du dossier",
        "15–17",
    ] {
        assert!(
            police.contains(must),
            "the police document lacks {must:?}:\n{police}"
        );
    }
    assert_clean(&police);

    // for the family, in English
    let r = fetch(counsellor.clone(), "audience=family&lang=en").await;
    assert_eq!(r.status(), 200);
    let family = pdf_text(&r.bytes().await.unwrap());
    for must in [
        "Help with filing a complaint",
        "For the young person and their family",
        "Filing a complaint: how to",
        reference.as_str(),
        intimate.label("en"),
        "Code pénal, art. 226-2-1",
        png_sha.as_str(),
        "never sent to the helpline",
    ] {
        assert!(
            family.contains(must),
            "the family document lacks {must:?}:\n{family}"
        );
    }
    // the family's copy names no MD5 or PDQ fingerprints and no signing key
    for not in [fp_md5.as_str(), fp_pdq.as_str(), signing.as_str()] {
        assert!(!family.contains(not), "the family document holds {not:?}");
    }
    assert_clean(&family);

    // bad input: 422 with the field named; another team's counsellor: 404
    let r = fetch(counsellor.clone(), "audience=neighbours").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("audience"));
    let r = fetch(counsellor.clone(), "audience=police&lang=de").await;
    assert_eq!(r.status(), 422);
    let r = fetch(counsellor.clone(), "lang=fr").await;
    assert_eq!(r.status(), 422);
    let r = fetch(lyon.clone(), "audience=police").await;
    assert_eq!(r.status(), 404);

    // each document produced is in the audit trail, with its audience and language
    let trail: Value = http
        .get(format!("{base}/api/v1/audit?case_id={id}&limit=500"))
        .bearer_auth(&sup)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let produced: Vec<String> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "case.complaint_exported")
        .map(|e| e["detail"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(produced.len(), 2, "{produced:?}");
    assert!(
        produced
            .iter()
            .any(|d| d.contains("police") && d.contains("fr"))
    );
    assert!(
        produced
            .iter()
            .any(|d| d.contains("family") && d.contains("en"))
    );
    drop(node);
}

/// No note, no staff name or address, no case title, no file name.
fn assert_clean(text: &str) {
    for not in [
        "NOTE-EQUIPE",
        "NOTE-PSY",
        "NOTE-JURIDIQUE",
        "TITRE-INTERNE",
        "NOM-ORIGINAL",
        "paris.invalid",
        "conseil@",
    ] {
        assert!(!text.contains(not), "the document holds {not:?}:\n{text}");
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
