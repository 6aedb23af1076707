//! `rempart bench foundation`: fills a fresh database with N cases and M audit events,
//! then times the console's case list, search and case page in-process (server-side:
//! the router's own handling, without network or browser).

use anyhow::{Context, Result, bail};
use axum::body::Body;
use axum::http::{Request, header};
use clap::{Args, Subcommand};
use rempart_app::App;
use rempart_app::clock::SystemClock;
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::case::{Consent, ConsentScope, LegalQualification};
use rempart_domain::ids::{CaseId, StaffId};
use rempart_domain::policy::Role;
use rempart_domain::values::{AgeBand, CaseReference, Channel};
use rempart_storage::{AuditEntry, NewCase};
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: BenchCmd,
}

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Case list, search and case page with many cases and audit events.
    Foundation {
        /// `sqlite` (a temporary file) or a PostgreSQL server URL (a fresh database is created).
        #[arg(long, default_value = "sqlite")]
        db: String,
        /// Number of cases.
        #[arg(long, default_value_t = 100_000)]
        cases: usize,
        /// Number of audit events.
        #[arg(long, default_value_t = 1_000_000)]
        audit_events: usize,
        /// Timed requests per scenario.
        #[arg(long, default_value_t = 500)]
        requests: usize,
    },
    /// Live chat under load: open conversations, a steady message rate, delivery latency.
    Chat {
        /// `sqlite` (a temporary file) or a PostgreSQL server URL (a fresh database is created).
        #[arg(long, default_value = "sqlite")]
        db: String,
        /// Open conversations.
        #[arg(long, default_value_t = 5000)]
        conversations: usize,
        /// Visitor messages per second, in all.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        /// Seconds of load.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// `rempart serve` processes (2 needs PostgreSQL: visitors on one, counsellors on the
        /// other, answering).
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// Counsellor replies per second on the last node (with two nodes or more; default:
        /// the visitors' rate).
        #[arg(long)]
        reply_rate: Option<u64>,
    },
    /// The notices list and the late view over many notices (server-side, in-process).
    NoticeViews {
        /// `sqlite` (a temporary file) or a PostgreSQL server URL (a fresh database is created).
        #[arg(long, default_value = "sqlite")]
        db: String,
        /// Number of notices.
        #[arg(long, default_value_t = 100_000)]
        notices: usize,
        /// Timed requests per scenario.
        #[arg(long, default_value_t = 1000)]
        requests: usize,
    },
    /// Evidence: uploads of a 10 MB photo to the encrypted store beside a plain write, the
    /// signed export of 100 pieces of evidence, metadata left in derivatives.
    Evidence {
        /// `fs` (a folder) or `s3` (a real s3s-fs server, started here).
        #[arg(long, default_value = "fs")]
        store: String,
        /// The s3s-fs binary (default: target/tools/bin/s3s-fs, from crates/blob/s3-server.sh).
        #[arg(long)]
        s3fs_bin: Option<std::path::PathBuf>,
        /// Timed uploads.
        #[arg(long, default_value_t = 30)]
        uploads: usize,
        /// Pieces of evidence in the exported case.
        #[arg(long, default_value_t = 100)]
        export_items: usize,
    },
    /// The complaint document (PDF) of a case with 100 items and 300 timeline events,
    /// through the API, beside typst's fixed cost.
    Complaint {
        /// Items of the case.
        #[arg(long, default_value_t = 100)]
        items: usize,
        /// Timeline events (items, then evidence and status changes, half each).
        #[arg(long, default_value_t = 300)]
        events: usize,
        /// Timed documents.
        #[arg(long, default_value_t = 20)]
        documents: usize,
    },
    /// Notices delivered to simulated platforms through transient faults and killed nodes:
    /// none lost, repeats counted; then the latency from send to delivery.
    Notices {
        /// `sqlite` (a temporary file) or a PostgreSQL server URL (a fresh database is created).
        #[arg(long, default_value = "sqlite")]
        db: String,
        /// `rempart serve` processes sharing the queue (2 or more need PostgreSQL).
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// Notices sent in the first phase.
        #[arg(long, default_value_t = 10_000)]
        notices: usize,
        /// Simulated platforms (half Coop, half `http_json`).
        #[arg(long, default_value_t = 20)]
        platforms: usize,
        /// Share of the attempts that fail transiently, in percent.
        #[arg(long, default_value_t = 10.0)]
        fault_percent: f64,
        /// Times a sending node is SIGKILLed and restarted during the first phase.
        #[arg(long, default_value_t = 2)]
        kills: usize,
        /// Notices sent one by one to healthy platforms in the latency phase.
        #[arg(long, default_value_t = 300)]
        latency_notices: usize,
    },
}

/// Builds the (path, session token) of the i-th request of a scenario.
type Scenario<'a> = Box<dyn Fn(usize) -> (String, String) + 'a>;

const WORDS: &[&str] = &[
    "harcèlement",
    "photos",
    "compte",
    "chantage",
    "usurpation",
    "vidéo",
    "groupe",
    "classe",
    "snapchat",
    "instagram",
    "tiktok",
    "menaces",
    "insultes",
    "piraté",
    "faux",
    "profil",
];

pub(crate) fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub async fn run(args: BenchArgs) -> Result<()> {
    match args.which {
        BenchCmd::Foundation {
            db,
            cases,
            audit_events,
            requests,
        } => foundation(&db, cases, audit_events, requests).await,
        BenchCmd::Chat {
            db,
            conversations,
            rate,
            seconds,
            nodes,
            reply_rate,
        } => crate::bench_chat::chat(&db, conversations, rate, seconds, nodes, reply_rate).await,
        BenchCmd::NoticeViews {
            db,
            notices,
            requests,
        } => crate::bench_notice_views::run(&db, notices, requests).await,
        BenchCmd::Evidence {
            store,
            s3fs_bin,
            uploads,
            export_items,
        } => {
            crate::bench_evidence::run(crate::bench_evidence::Opts {
                store,
                s3fs_bin,
                uploads,
                export_items,
            })
            .await
        }
        BenchCmd::Complaint {
            items,
            events,
            documents,
        } => {
            crate::bench_complaint::run(crate::bench_complaint::Opts {
                items,
                events,
                documents,
            })
            .await
        }
        BenchCmd::Notices {
            db,
            nodes,
            notices,
            platforms,
            fault_percent,
            kills,
            latency_notices,
        } => {
            crate::bench_notices::notices(crate::bench_notices::Opts {
                db,
                nodes,
                notices,
                platforms,
                fault_percent,
                kills,
                latency_notices,
            })
            .await
        }
    }
}

/// A fresh database for a benchmark: a temporary SQLite file (its folder is returned, to
/// remove at the end) or a new database on the PostgreSQL server `db`.
pub(crate) async fn fresh_db(db: &str) -> Result<(String, Option<std::path::PathBuf>)> {
    if db == "sqlite" {
        let dir = std::env::temp_dir().join(format!("rempart-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok((format!("sqlite://{}/bench.db", dir.display()), Some(dir)))
    } else if db.starts_with("postgres") {
        let name = format!("rempart_bench_{}", std::process::id());
        let admin = rempart_app::open_store(&crate::bench_chat::bench_settings(
            &format!("{}/postgres", db.trim_end_matches('/')),
            None,
        ))
        .await?;
        admin.create_database_for_bench(&name).await?;
        admin.close().await;
        Ok((format!("{}/{}", db.trim_end_matches('/'), name), None))
    } else {
        bail!("--db must be sqlite or a postgres:// server URL");
    }
}

/// A benchmark's staff: one supervisor and 20 counsellors in 4 teams (password
/// `benchmark-password`).
pub(crate) async fn bench_staff(
    app: &App,
) -> Result<(
    rempart_storage::StaffRecord,
    Vec<rempart_storage::StaffRecord>,
)> {
    let mk = |email: &str, role: Role, team: Option<&str>| rempart_app::staff::NewStaffInput {
        email: email.into(),
        display_name: email.into(),
        role,
        team: team.map(Into::into),
        password: "benchmark-password".into(),
        lang: "fr".into(),
    };
    let sup = app
        .create_staff_by_operator(mk("sup@bench.invalid", Role::Supervisor, None))
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let mut workers = vec![];
    for i in 0..20 {
        let team = ["nord", "sud", "est", "ouest"][i % 4];
        workers.push(
            app.create_staff_by_operator(mk(
                &format!("c{i}@bench.invalid"),
                Role::Counsellor,
                Some(team),
            ))
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?,
        );
    }
    Ok((sup, workers))
}

async fn foundation(db: &str, n_cases: usize, n_audit: usize, requests: usize) -> Result<()> {
    let (url, _guard) = fresh_db(db).await?;
    let s = crate::bench_chat::bench_settings(&url, None);
    let store = rempart_app::open_store(&s).await?;
    let app = App::start(s, Arc::new(SystemClock)).await?;
    let (sup, workers) = bench_staff(&app).await?;
    eprintln!(
        "loading {n_cases} cases and {n_audit} audit events into {}…",
        if db == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );
    let t = Instant::now();
    let now = chrono::Utc::now().timestamp_millis();
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let cats = [
        "cyber_harassment",
        "intimate_images",
        "sextortion",
        "account_hacking",
        "identity_theft",
        "grooming",
        "hate_speech",
        "scam",
    ];
    let mut new_cases = Vec::with_capacity(n_cases);
    let mut ids: Vec<CaseId> = Vec::with_capacity(n_cases);
    for i in 0..n_cases {
        let w = &workers[(next() % workers.len() as u64) as usize];
        let title: Vec<&str> = (0..4)
            .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
            .collect();
        let id = CaseId::new();
        ids.push(id);
        let at = now - (n_cases - i) as i64 * 60_000;
        new_cases.push(NewCase {
            id,
            // distinct references: an odd multiplier permutes the 25-bit space
            reference: CaseReference::generate(
                2026,
                (i as u32).wrapping_mul(2_654_435_761) & 0x1ff_ffff,
            )
            .to_string(),
            title: title.join(" "),
            team: w.team.clone(),
            categories: vec![cats[(next() % cats.len() as u64) as usize].to_owned()],
            age_band: AgeBand::From11To14,
            preferred_channel: Some(Channel::Phone),
            consents: vec![Consent {
                scope: ConsentScope::NoticeToPlatform,
                by_guardian: false,
                at_ms: at,
            }],
            legal: LegalQualification {
                articles: vec!["222-33-2-2".into()],
                dsa_category: Some("STATEMENT_CATEGORY_CYBER_VIOLENCE".into()),
            },
            assignees: vec![w.id],
            created_by: w.id,
            at,
        });
    }
    let mut audit = Vec::with_capacity(n_audit);
    for i in 0..n_audit {
        let c = ids[(next() % ids.len().max(1) as u64) as usize];
        let who: StaffId = workers[i % workers.len()].id;
        audit.push(
            AuditEntry::new(
                now - (n_audit - i) as i64,
                Some(who),
                if i % 5 == 0 {
                    AuditEvent::NoteAdded {
                        visibility: rempart_domain::case::NoteVisibility::Team,
                    }
                } else {
                    AuditEvent::CaseRead { notes: vec![] }
                },
            )
            .object(c)
            .case(c),
        );
    }
    store.bulk_load(&new_cases, &audit).await?;
    eprintln!("loaded in {:.1} s", t.elapsed().as_secs_f64());

    let state = rempart_web::AppState::new(app.clone()).context("web")?;
    let router = rempart_web::router(state);
    let sup_token = app
        .login(&sup.email, "benchmark-password")
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?
        .token;
    let cw_token = app
        .login(&workers[0].email, "benchmark-password")
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?
        .token;

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
    let scenarios: Vec<(&str, Scenario)> = vec![
        (
            "case list, supervisor (all cases)",
            Box::new(|_| ("/cases".to_owned(), sup_token.clone())),
        ),
        (
            "case list, counsellor (own + team)",
            Box::new(|_| ("/cases".to_owned(), cw_token.clone())),
        ),
        (
            "case list filtered (status + category)",
            Box::new(|i| {
                (
                    format!(
                        "/cases?status=in_progress&category={}",
                        cats[i % cats.len()]
                    ),
                    sup_token.clone(),
                )
            }),
        ),
        (
            "case search (word)",
            Box::new(|i| {
                (
                    format!("/cases?q={}", urlenc(WORDS[i % WORDS.len()])),
                    sup_token.clone(),
                )
            }),
        ),
        (
            "case search, counsellor (word)",
            Box::new(|i| {
                (
                    format!("/cases?q={}", urlenc(WORDS[i % WORDS.len()])),
                    cw_token.clone(),
                )
            }),
        ),
        (
            "case search (word found nowhere: full scan)",
            Box::new(|i| (format!("/cases?q=introuvable{i}"), sup_token.clone())),
        ),
        (
            "case search (reference)",
            Box::new(|i| {
                (
                    format!(
                        "/cases?q={}",
                        new_cases[(i * 7919) % new_cases.len()].reference
                    ),
                    sup_token.clone(),
                )
            }),
        ),
        (
            "case page",
            Box::new(|i| {
                (
                    format!("/cases/{}", ids[(i * 104_729) % ids.len()]),
                    sup_token.clone(),
                )
            }),
        ),
    ];
    println!("| scenario | requests | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    for (name, f) in &scenarios {
        for i in 0..20 {
            let (p, t) = f(i);
            time(p, t).await?;
        }
        let mut lat = Vec::with_capacity(requests);
        for i in 0..requests {
            let (p, t) = f(i);
            lat.push(time(p, t).await?);
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| {name} | {requests} | {:.2} | {:.2} | {:.2} |",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat.last().copied().unwrap_or(0.0)
        );
    }
    let r = store.audit_verify(vec![]).await?;
    println!(
        "audit chain after the run: {} events, {} problems",
        r.checked,
        r.problems.len()
    );
    store.close().await;
    app.shutdown().await;
    if let Some(dir) = _guard {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
