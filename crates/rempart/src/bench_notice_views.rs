//! `rempart bench notice-views`: fills a fresh database with N notices (on N / 5 cases, over
//! the directory's platforms, in every state, a third of them waiting for their platform
//! past their due time), then times the helpline's notices list, its late view and a
//! platform's page in-process (server-side: the router's own handling, HTML included), each
//! beside its floor — the same use-case called directly (the database's work, without HTTP
//! or rendering).

use crate::bench::{fresh_db, pct};
use anyhow::{Context, Result, bail};
use axum::body::Body;
use axum::http::{Request, header};
use rempart_app::App;
use rempart_app::clock::SystemClock;
use rempart_app::notices::followup::NoticeQuery;
use rempart_domain::case::{Consent, ConsentScope, LegalQualification};
use rempart_domain::directory::NoticeChannel;
use rempart_domain::ids::{CaseId, NoticeId};
use rempart_domain::notice::{DecisionKind, NoticeState};
use rempart_domain::policy::Actor;
use rempart_domain::values::{AgeBand, CaseReference, Channel};
use rempart_storage::{NewCase, NoticeRecord};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

const HOUR: i64 = 3_600_000;

type Floor<'a> = Box<dyn Fn(usize) -> Pin<Box<dyn Future<Output = Result<()>> + 'a>> + 'a>;
/// Builds the (path, session token) of the i-th request of a scenario.
type Path<'a> = Box<dyn Fn(usize) -> (String, String) + 'a>;

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

pub async fn run(db: &str, n_notices: usize, requests: usize) -> Result<()> {
    let (url, guard) = fresh_db(db).await?;
    let s = crate::bench_chat::bench_settings(&url, None);
    let store = rempart_app::open_store(&s).await?;
    let app = App::start(s, Arc::new(SystemClock)).await?;
    let (sup, workers) = crate::bench::bench_staff(&app).await?;
    let platforms: Vec<String> = app
        .directory()
        .platforms()
        .iter()
        .map(|p| p.code.clone())
        .collect();
    let cats = [
        "cyber_harassment",
        "intimate_images",
        "sextortion",
        "account_hacking",
        "identity_theft",
    ];
    eprintln!(
        "loading {n_notices} notices on {} cases over {} platforms into {}…",
        n_notices / 5,
        platforms.len(),
        if db == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );
    let t = Instant::now();
    let now = chrono::Utc::now().timestamp_millis();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let n_cases = (n_notices / 5).max(1);
    let mut cases = Vec::with_capacity(n_cases);
    for i in 0..n_cases {
        let w = &workers[(xorshift(&mut rng) % workers.len() as u64) as usize];
        let at = now - 30 * 24 * HOUR + i as i64 * 1000;
        cases.push(NewCase {
            id: CaseId::new(),
            reference: CaseReference::generate(
                2026,
                (i as u32).wrapping_mul(2_654_435_761) & 0x1ff_ffff,
            )
            .to_string(),
            title: format!("dossier {i}"),
            team: w.team.clone(),
            categories: vec![cats[i % cats.len()].to_owned()],
            age_band: AgeBand::From15To17,
            preferred_channel: Some(Channel::Phone),
            consents: vec![Consent {
                scope: ConsentScope::NoticeToPlatform,
                by_guardian: false,
                at_ms: at,
            }],
            legal: LegalQualification {
                articles: vec!["222-33-2-2".into()],
                dsa_category: None,
            },
            assignees: vec![w.id],
            created_by: w.id,
            at,
        });
    }
    store.bulk_load(&cases, &[]).await?;
    let decided = [
        (NoticeState::Removed, DecisionKind::ContentRemoved),
        (NoticeState::Restricted, DecisionKind::ContentAgeRestricted),
        (NoticeState::Refused, DecisionKind::Refused),
    ];
    let mut notices = Vec::with_capacity(n_notices);
    for i in 0..n_notices {
        let case = &cases[i / 5];
        let platform = platforms[(i + i / 5) % platforms.len()].clone();
        // sent over the last three days, due 24 h later: about a third are late
        let sent = now - (xorshift(&mut rng) % (72 * HOUR as u64)) as i64;
        let roll = xorshift(&mut rng) % 100;
        let (state, decision) = match roll {
            0..40 => {
                let (s, d) = decided[(roll % 3) as usize];
                (s, Some(d))
            }
            40..70 => (NoticeState::Sent, None),
            70..85 => (NoticeState::Acknowledged, None),
            85..95 => (NoticeState::Escalated, None),
            _ => (NoticeState::Draft, None),
        };
        let is_sent = state != NoticeState::Draft;
        let decided_at = decision.map(|_| sent + (xorshift(&mut rng) % (20 * HOUR as u64)) as i64);
        notices.push(NoticeRecord {
            id: NoticeId::new(),
            reference: format!("{}-N{}", case.reference, i % 5 + 1),
            case_id: case.id,
            platform,
            category: case.categories[0].clone(),
            lang: "fr".into(),
            state,
            explanation: "Harcèlement (art. 222-33-2-2 du code pénal).".into(),
            sexual_images_of_minor: false,
            needs_validation: false,
            prepared_by: None,
            validated_by: None,
            channel_index: 0,
            channel: is_sent.then_some(NoticeChannel::Coop),
            payload: None,
            ticket: None,
            decision,
            decision_source: decision.map(|_| "coop".into()),
            decision_note: None,
            last_error: None,
            attempts: u32::from(is_sent),
            expected_hours: 24,
            created_by: case.created_by,
            created_at: sent - HOUR,
            updated_at: decided_at.unwrap_or(sent),
            sent_at: is_sent.then_some(sent),
            delivered_at: is_sent.then_some(sent + 200),
            acknowledged_at: (state == NoticeState::Acknowledged).then_some(sent + HOUR),
            decided_at,
            removed_at: (state == NoticeState::Removed).then_some(decided_at.unwrap_or(sent)),
            due_at: is_sent.then_some(sent + 24 * HOUR),
            escalated_at: (state == NoticeState::Escalated).then_some(sent + 24 * HOUR),
            reminders: 0,
            contest_reason: None,
            appeal: None,
            appeal_at: None,
            items: vec![],
        });
    }
    store.bulk_load_notices(&notices).await?;
    eprintln!("loaded in {:.1} s", t.elapsed().as_secs_f64());

    let state = rempart_web::AppState::new(app.clone()).context("web")?;
    let router = rempart_web::router(state);
    let login = |email: String| {
        let app = app.clone();
        async move {
            app.login(&email, "benchmark-password")
                .await
                .map(|l| l.token)
                .map_err(|e| anyhow::anyhow!(e.message))
        }
    };
    let sup_token = login(sup.email.clone()).await?;
    let cw_token = login(workers[0].email.clone()).await?;
    let sup_actor = Actor {
        id: sup.id,
        role: sup.role,
        team: sup.team.clone(),
    };
    let cw_actor = Actor {
        id: workers[0].id,
        role: workers[0].role,
        team: workers[0].team.clone(),
    };
    let busiest = platforms[0].clone();
    let late = app
        .late_notices(&sup_actor)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    eprintln!("late notices (a view counts up to 100): {late}");

    let time = |path: String, token: String| {
        let router = router.clone();
        async move {
            let req = Request::get(&path)
                .header(header::COOKIE, format!("rempart_session={token}"))
                .body(Body::empty())?;
            let t = Instant::now();
            let resp = router.oneshot(req).await?;
            let status = resp.status();
            let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if !status.is_success() {
                bail!("{path}: HTTP {status}");
            }
            Ok::<f64, anyhow::Error>(ms)
        }
    };
    let list = |actor: &Actor, q: NoticeQuery| {
        let app = app.clone();
        let actor = actor.clone();
        Box::pin(async move {
            app.list_notices(&actor, q)
                .await
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!(e.message))
        }) as Pin<Box<dyn Future<Output = Result<()>>>>
    };
    let q = |platform: Option<&str>, state: Option<NoticeState>, late: bool| NoticeQuery {
        platform: platform.map(Into::into),
        state,
        late,
        ..Default::default()
    };
    let scenarios: Vec<(&str, Path, Floor)> = vec![
        (
            "notices list, supervisor (all)",
            Box::new(|_| ("/notices".to_owned(), sup_token.clone())),
            Box::new(|_| list(&sup_actor, q(None, None, false))),
        ),
        (
            "late view, supervisor (all)",
            Box::new(|_| ("/notices?late=1".to_owned(), sup_token.clone())),
            Box::new(|_| list(&sup_actor, q(None, None, true))),
        ),
        (
            "notices list, platform + state",
            Box::new(|i| {
                (
                    format!(
                        "/notices?platform={}&state=refused",
                        platforms[i % platforms.len()]
                    ),
                    sup_token.clone(),
                )
            }),
            Box::new(|i| {
                list(
                    &sup_actor,
                    q(
                        Some(&platforms[i % platforms.len()]),
                        Some(NoticeState::Refused),
                        false,
                    ),
                )
            }),
        ),
        (
            "late view, one platform",
            Box::new(|i| {
                (
                    format!(
                        "/notices?late=1&platform={}",
                        platforms[i % platforms.len()]
                    ),
                    sup_token.clone(),
                )
            }),
            Box::new(|i| {
                list(
                    &sup_actor,
                    q(Some(&platforms[i % platforms.len()]), None, true),
                )
            }),
        ),
        (
            "notices list, counsellor (own + team)",
            Box::new(|_| ("/notices".to_owned(), cw_token.clone())),
            Box::new(|_| list(&cw_actor, q(None, None, false))),
        ),
        (
            "late view, counsellor (own + team)",
            Box::new(|_| ("/notices?late=1".to_owned(), cw_token.clone())),
            Box::new(|_| list(&cw_actor, q(None, None, true))),
        ),
        (
            "late view, JSON API",
            Box::new(|_| ("/api/v1/notices?late=1".to_owned(), sup_token.clone())),
            Box::new(|_| list(&sup_actor, q(None, None, true))),
        ),
        (
            "platform page (figures + open notices)",
            Box::new(|_| (format!("/platforms/{busiest}"), sup_token.clone())),
            Box::new(|_| {
                let app = app.clone();
                let actor = sup_actor.clone();
                let code = busiest.clone();
                Box::pin(async move {
                    app.platform_figures(&actor, &code)
                        .await
                        .map(|_| ())
                        .map_err(|e| anyhow::anyhow!(e.message))
                })
            }),
        ),
    ];
    println!("| scenario | requests | p50 ms | p99 ms | max ms | floor p50 ms | floor p99 ms |");
    println!("|---|---|---|---|---|---|---|");
    for (name, f, floor) in &scenarios {
        for i in 0..20 {
            let (p, t) = f(i);
            time(p, t).await?;
            floor(i).await?;
        }
        let mut lat = Vec::with_capacity(requests);
        let mut base = Vec::with_capacity(requests);
        for i in 0..requests {
            let (p, t) = f(i);
            lat.push(time(p, t).await?);
            let t0 = Instant::now();
            floor(i).await?;
            base.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        base.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| {name} | {requests} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat.last().copied().unwrap_or(0.0),
            pct(&base, 0.5),
            pct(&base, 0.99),
        );
    }
    store.close().await;
    app.shutdown().await;
    if let Some(dir) = guard {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}
