//! `rempart bench complaint`: the complaint document of a case with 100 items, 100 pieces
//! of evidence and 300 timeline events, asked through the HTTP API (in-process: the
//! router's own handling) — the access decision, the reads, the words, typst and the PDF
//! — with the time of each step of one document, beside two floors measured in the same
//! run: typst on a one-line document (its fixed cost) and the same document's data as
//! JSON (what reaches the typesetter).

use crate::bench::pct;
use anyhow::{Result, bail};
use axum::body::Body;
use axum::http::{Request, header};
use rempart_app::App;
use rempart_app::cases::ItemInput;
use rempart_app::clock::SystemClock;
use rempart_app::evidence::{Content, EvidenceInput};
use rempart_domain::case::{CaseStatus, EvidenceKind};
use rempart_domain::document::{Block, ComplaintAudience, PrintDocument, Typesetter};
use rempart_domain::policy::{Actor, Role};
use rempart_domain::taxonomy::ContentType;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

/// Options.
pub struct Opts {
    pub items: usize,
    pub events: usize,
    pub documents: usize,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

pub async fn run(o: Opts) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("rempart-bench-complaint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}/bench.db", dir.display());
    let mut s = crate::bench_chat::bench_settings(&url, None);
    s.evidence.path = dir.join("blobs").to_string_lossy().into_owned();
    let typst = rempart_pdf::Typst::new();
    let t = Instant::now();
    typst.warm();
    let warm_ms = ms(t);
    let app = App::start(s, Arc::new(SystemClock))
        .await?
        .with_typesetter(Arc::new(typst));
    let (sup, _) = crate::bench::bench_staff(&app).await?;
    let actor = Actor {
        id: sup.id,
        role: Role::Supervisor,
        team: None,
    };
    let token = app
        .login(&sup.email, "benchmark-password")
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?
        .token;
    let state = rempart_web::AppState::new(app.clone())?;
    let router = rempart_web::router(state.clone());
    let err = |e: rempart_app::AppError| anyhow::anyhow!(e.message);

    // the case: items, evidence (links, excerpts, fingerprints only), status changes —
    // one timeline event each, beside the case's opening
    let case = app
        .create_case(
            &actor,
            rempart_app::cases::CaseInput {
                title: "bench".into(),
                categories: vec!["intimate_images".into(), "cyber_harassment".into()],
                age_band: rempart_domain::values::AgeBand::From15To17,
                preferred_channel: None,
                consents: vec![],
                articles: vec![],
                team: None,
            },
            None,
        )
        .await
        .map_err(err)?;
    let platforms = ["instagram", "tiktok", "snapchat", "x", "youtube"];
    let mut items = Vec::with_capacity(o.items);
    for i in 0..o.items {
        let item = app
            .add_item(
                &actor,
                case.id,
                ItemInput {
                    platform: platforms[i % platforms.len()].into(),
                    content_type: ContentType::Post,
                    url: Some(format!(
                        "https://social.example/{i}/status/{}",
                        1_000_000 + i
                    )),
                    native_id: None,
                    first_seen_at: Some(app.now() - 86_400_000),
                },
            )
            .await
            .map_err(err)?;
        items.push(item.id);
    }
    let evidence = o.events.saturating_sub(o.items) / 2;
    for i in 0..evidence {
        let supports = vec![items[i % items.len().max(1)]];
        let (input, content) = match i % 3 {
            0 => (
                EvidenceInput {
                    kind: Some(EvidenceKind::Link),
                    url: Some(format!(
                        "https://social.example/{i}/status/{}",
                        1_000_000 + i
                    )),
                    description: Some(format!("Publication {i} qui reprend la photo")),
                    items: supports,
                    ..Default::default()
                },
                Content::Link,
            ),
            1 => (
                EvidenceInput {
                    kind: Some(EvidenceKind::Excerpt),
                    items: supports,
                    ..Default::default()
                },
                Content::Excerpt(format!(
                    "Message {i} : « si tu ne paies pas, tout le monde verra tes photos »"
                )),
            ),
            _ => (
                EvidenceInput {
                    kind: Some(EvidenceKind::HashOnly),
                    url: Some(format!("https://social.example/{i}/media")),
                    description: Some("Image intime".into()),
                    sexual_image_of_minor: true,
                    items: supports,
                    ..Default::default()
                },
                Content::Fingerprints {
                    sha256: format!("{:064x}", i + 1),
                    md5: Some(format!("{:032x}", i + 7)),
                    pdq: Some((format!("{:064x}", i * 31 + 5), 90)),
                },
            ),
        };
        app.add_evidence(&actor, case.id, input, content)
            .await
            .map_err(err)?;
    }
    let statuses = [CaseStatus::InProgress, CaseStatus::WaitingPlatform];
    for i in 0..o.events.saturating_sub(o.items + evidence) {
        app.change_status(&actor, case.id, statuses[i % 2], None)
            .await
            .map_err(err)?;
    }

    // one document, step by step
    let t = Instant::now();
    let data = app
        .complaint_data(&actor, case.id, ComplaintAudience::Police, "fr")
        .await
        .map_err(err)?;
    let read_ms = ms(t);
    let t = Instant::now();
    let doc = rempart_web::pages::complaint::document(&state, "fr", &data);
    let words_ms = ms(t);
    let t = Instant::now();
    let json = serde_json::to_vec(&doc)?;
    let json_ms = ms(t);
    let t = Instant::now();
    let pdf = app.typeset(doc.clone()).await.map_err(err)?;
    let typeset_ms = ms(t);
    println!(
        "case: {} items, {} pieces of evidence, {} timeline events; PDF {:.0} kB",
        data.items.len(),
        data.evidence.len(),
        data.timeline.len(),
        pdf.len() as f64 / 1e3,
    );
    if data.timeline.len() < o.events {
        bail!("only {} timeline events", data.timeline.len());
    }
    println!(
        "one document, by step: access and reads {read_ms:.1} ms, words {words_ms:.1} ms, typst and PDF {typeset_ms:.0} ms"
    );

    // the floors
    let one_line = PrintDocument {
        blocks: vec![Block::Paragraph {
            text: "Une ligne.".into(),
        }],
        meta: vec![],
        ..doc.clone()
    };
    let mut floor_ms = Vec::new();
    for _ in 0..o.documents {
        rempart_pdf::Typst::new().forget();
        let t = Instant::now();
        rempart_pdf::Typst::new()
            .pdf(&one_line)
            .map_err(anyhow::Error::msg)?;
        floor_ms.push(ms(t));
    }
    floor_ms.sort_by(f64::total_cmp);

    // through the API: each document laid out from nothing (typst's memoised layout
    // forgotten first), then again with what typst remembers (a server keeps it)
    let mut cold_ms = Vec::with_capacity(o.documents);
    let mut api_ms = Vec::with_capacity(o.documents);
    for (i, audience) in ["police", "family"]
        .iter()
        .cycle()
        .take(o.documents * 2)
        .enumerate()
    {
        let cold = i < o.documents;
        if cold {
            rempart_pdf::Typst::new().forget();
        }
        let lang = if i % 4 < 2 { "fr" } else { "en" };
        let req = Request::get(format!(
            "/api/v1/cases/{}/complaint?audience={audience}&lang={lang}",
            case.id
        ))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())?;
        let t = Instant::now();
        let resp = router.clone().oneshot(req).await?;
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 64 << 20).await?;
        if cold {
            cold_ms.push(ms(t));
        } else {
            api_ms.push(ms(t));
        }
        if status != 200 || !body.starts_with(b"%PDF-") {
            bail!("document {i}: HTTP {status}");
        }
    }
    api_ms.sort_by(f64::total_cmp);
    cold_ms.sort_by(f64::total_cmp);
    println!(
        "complaint PDF through the API, laid out from nothing ({} documents, police and family, fr and en): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        o.documents,
        pct(&cold_ms, 0.5),
        pct(&cold_ms, 0.99),
        cold_ms.last().copied().unwrap_or(0.0)
    );
    println!(
        "the same, typst remembering earlier layouts (as a running server does): p50 {:.0} ms, p99 {:.0} ms",
        pct(&api_ms, 0.5),
        pct(&api_ms, 0.99),
    );
    println!(
        "floors: typst on a one-line document, from nothing, p50 {:.0} ms, p99 {:.0} ms; the document's data as JSON {:.2} ms ({:.0} kB); fonts and library parsed once at start {warm_ms:.0} ms",
        pct(&floor_ms, 0.5),
        pct(&floor_ms, 0.99),
        json_ms,
        json.len() as f64 / 1e3
    );
    app.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
