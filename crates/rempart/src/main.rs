//! `rempart`: the one binary. Subcommands start the service, seed the demo, manage
//! accounts, verify the audit trail and run the benchmarks.

mod bench;
mod bench_chat;
mod cli;
mod cmd_pdq;

use anyhow::{Context, Result, bail};
use clap::Parser;
use cli::{AuditCmd, Cli, Cmd, ConfigCmd, UserCmd};
use rempart_app::clock::SystemClock;
use rempart_app::settings::{EXAMPLE, Settings};
use rempart_app::{App, demo};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn main() -> Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(cli))
}

fn settings(config: Option<&Path>) -> Result<Settings> {
    Settings::load(config, std::env::vars()).context("loading settings")
}

fn init_logs(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REMPART_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if s.log_format == "json" {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

async fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Demo { listen, data_dir } => demo_cmd(listen, data_dir).await,
        Cmd::Serve { config } => {
            let s = settings(config.as_deref())?;
            init_logs(&s);
            let app = App::start(s, Arc::new(SystemClock)).await?;
            serve(app, None).await
        }
        Cmd::Migrate { config } => {
            let s = settings(config.as_deref())?;
            init_logs(&s);
            let store = rempart_storage::Store::connect(s.database_url.expose()).await?;
            let n = store.migrate().await?;
            println!("migrations applied: {n}");
            Ok(())
        }
        Cmd::User(UserCmd::Add {
            email,
            name,
            role,
            team,
            lang,
            config,
        }) => {
            let s = settings(config.as_deref())?;
            let role = rempart_domain::policy::Role::parse(&role)
                .map_err(|_| anyhow::anyhow!("unknown role (counsellor, psychologist, lawyer, digital_specialist, supervisor, admin)"))?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let app = App::start(s, Arc::new(SystemClock)).await?;
            let input = rempart_app::staff::NewStaffInput {
                email,
                display_name: name,
                role,
                team,
                password,
                lang,
            };
            let rec = app
                .create_staff(None, input)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "account created: {} {} {}",
                rec.id,
                rec.role.as_str(),
                rec.email
            );
            Ok(())
        }
        Cmd::Config(ConfigCmd::Example) => {
            print!("{EXAMPLE}");
            Ok(())
        }
        Cmd::Audit(AuditCmd::Verify { config }) => {
            let s = settings(config.as_deref())?;
            let store = rempart_storage::Store::connect(s.database_url.expose()).await?;
            let r = store.audit_verify().await?;
            println!("audit events checked: {}", r.checked);
            if r.problems.is_empty() {
                println!("audit trail intact");
                Ok(())
            } else {
                for p in &r.problems {
                    println!("problem: {p:?}");
                }
                bail!("audit trail broken: {} problem(s)", r.problems.len())
            }
        }
        Cmd::Bench(b) => bench::run(b).await,
        Cmd::Pdq(cmd) => cmd_pdq::run(cmd),
    }
}

async fn demo_cmd(listen: String, data_dir: PathBuf) -> Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let db = data_dir.join("rempart.db");
    let mut s = settings(None)?;
    s.listen = listen.clone();
    s.database_url = rempart_app::secret::Secret::new(format!("sqlite://{}", db.display()));
    s.public_url = format!("http://{listen}");
    s.helpline_name = "Rempart (démo)".into();
    // Local demo over plain HTTP: cookies without Secure, and no second factor imposed.
    s.secure_cookies = false;
    s.require_totp_roles = vec![];
    init_logs(&s);
    let app = App::start(s, Arc::new(SystemClock)).await?;
    let seeded = demo::seed(&app, 200)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo: {}", e.message))?;
    if seeded {
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "demo data seeded"
        );
    }
    println!("Rempart demo: console at http://{listen}/login");
    println!("Rempart demo: helpline site with the chat widget at http://{listen}/demo");
    for (acc, _, _) in demo::demo_accounts() {
        println!(
            "demo account: {} {} {}",
            acc.role.as_str(),
            acc.email,
            acc.password
        );
    }
    serve(app, Some(started)).await
}

async fn serve(app: App, started: Option<Instant>) -> Result<()> {
    let listen = app.settings.listen.clone();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let limits = rempart_web::server::ServerLimits::from_settings(&app.settings);
    let state = rempart_web::AppState::new(app).context("web layer")?;
    let router = rempart_web::router(state);
    let ms = started.map(|s| s.elapsed().as_millis() as u64).unwrap_or(0);
    tracing::info!(addr = %listen, ready_ms = ms, "ready");
    if started.is_some() {
        println!("ready in {ms} ms");
    }
    rempart_web::server::serve(listener, router, limits, shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
