//! `rempart`: the one binary. Subcommands start the service, seed the demo, manage
//! accounts, verify the audit trail and run the benchmarks.

mod bench;
mod bench_chat;
mod bench_complaint;
mod bench_evidence;
mod bench_notice_views;
mod bench_notices;
mod cli;
mod cmd_pdq;
mod cmd_risk;
mod demo_sims;

use anyhow::{Context, Result, bail};
use clap::Parser;
use cli::{AuditCmd, Cli, Cmd, ConfigCmd, EvidenceCmd, UserCmd};
use rempart_app::clock::SystemClock;
use rempart_app::settings::{EXAMPLE, Settings};
use rempart_app::{App, demo};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// mimalloc gives freed memory back to the system: with glibc's allocator, the first start
/// of the demo kept about 100 MB of freed password-hash buffers resident (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Standard error that never fails: a line that cannot be written (a full disk, a closed
/// pipe) is dropped, never an error that would stop whoever logged it.
struct QuietStderr;

impl std::io::Write for QuietStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Logs go through a thread of their own that writes to standard error; when it cannot
/// keep up (stderr stalled) lines are dropped rather than waited for, and a write that
/// fails is ignored: logging never stops the service. The guard flushes at exit.
fn init_logs(s: &Settings) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REMPART_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(16_384)
        .finish(QuietStderr);
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .log_internal_errors(false);
    let _ = if s.server.log_format == rempart_app::settings::LogFormat::Json {
        b.json().try_init()
    } else {
        b.try_init()
    };
    guard
}

/// A line on standard output that never panics (a closed or full stdout is not a reason to
/// stop).
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Settings for a command that works on a data folder (`--data-dir`, like the demo's):
/// its SQLite database and its master key.
/// The public key of the helpline whose master secret the settings name.
fn helpline_public_key(s: &Settings) -> Result<String> {
    // never make a new secret here: a key nobody signed with would verify nothing
    if s.secrets.master_key.expose().is_empty()
        && !rempart_app::keys::key_file(s).is_some_and(|f| f.is_file())
    {
        bail!("no master secret here: give --public-key, --data-dir or --config");
    }
    let (master, _) = rempart_app::keys::master_secret(s)?;
    let keys = rempart_app::keys::Keys::derive(master.expose().as_bytes());
    Ok(rempart_app::evidence::export::public_key(&keys))
}

fn data_dir_settings(config: Option<&Path>, data_dir: Option<&Path>) -> Result<Settings> {
    let mut s = settings(config)?;
    if let Some(d) = data_dir {
        s.database.url = rempart_app::secret::Secret::new(format!(
            "sqlite://{}",
            d.join("rempart.db").display()
        ));
    }
    Ok(s)
}

async fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Demo { listen, data_dir } => demo_cmd(listen, data_dir).await,
        Cmd::Serve { config } => {
            let s = settings(config.as_deref())?;
            let _logs = init_logs(&s);
            let app = App::start(s, Arc::new(SystemClock)).await?;
            serve(with_typesetter(app), None).await
        }
        Cmd::Migrate { config } => {
            let s = settings(config.as_deref())?;
            let _logs = init_logs(&s);
            let store = rempart_app::open_store(&s).await?;
            let n = store.migrate().await?;
            say(&format!("migrations applied: {n}"));
            store.close().await;
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
                .create_staff_by_operator(input)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            say(&format!(
                "account created: {} {} {}",
                rec.id,
                rec.role.as_str(),
                rec.email
            ));
            app.shutdown().await;
            Ok(())
        }
        Cmd::Config(ConfigCmd::Example) => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(EXAMPLE.as_bytes());
            Ok(())
        }
        Cmd::Audit(AuditCmd::Verify {
            config,
            data_dir,
            anchor,
        }) => {
            let s = data_dir_settings(config.as_deref(), data_dir.as_deref())?;
            let anchors = match &anchor {
                Some(f) => rempart_domain::audit::Anchor::parse_file(
                    &std::fs::read_to_string(f)
                        .with_context(|| format!("reading {}", f.display()))?,
                )
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?,
                None => vec![],
            };
            let store = rempart_app::open_store(&s).await?;
            let r = store.audit_verify(anchors.clone()).await?;
            store.close().await;
            say(&format!("audit events checked: {}", r.checked));
            if !anchors.is_empty() {
                say(&format!("anchors checked: {}", anchors.len()));
            }
            if r.problems.is_empty() {
                say("audit trail intact");
                Ok(())
            } else {
                for p in &r.problems {
                    say(&format!("problem: {p:?}"));
                }
                bail!("audit trail broken: {} problem(s)", r.problems.len())
            }
        }
        Cmd::Audit(AuditCmd::Anchor {
            config,
            data_dir,
            file,
        }) => {
            let s = data_dir_settings(config.as_deref(), data_dir.as_deref())?;
            let store = rempart_app::open_store(&s).await?;
            let head = store.audit_head().await?;
            store.close().await;
            let line = format!("{} {}", head.line(), chrono::Utc::now().to_rfc3339());
            match file {
                Some(f) => {
                    use std::io::Write;
                    let mut out = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&f)
                        .with_context(|| format!("opening {}", f.display()))?;
                    writeln!(out, "{line}")?;
                    out.sync_all()?;
                    say(&format!(
                        "anchored audit head {} in {}",
                        head.seq,
                        f.display()
                    ));
                }
                None => say(&line),
            }
            Ok(())
        }
        Cmd::Audit(AuditCmd::SearchHash {
            config,
            data_dir,
            words,
        }) => {
            let s = data_dir_settings(config.as_deref(), data_dir.as_deref())?;
            let (master, _) = rempart_app::keys::master_secret(&s)?;
            let keys = rempart_app::keys::Keys::derive(master.expose().as_bytes());
            say(&rempart_app::cases::search_words_hash(&keys, &words));
            Ok(())
        }
        Cmd::Evidence(EvidenceCmd::PublicKey { config, data_dir }) => {
            let s = data_dir_settings(config.as_deref(), data_dir.as_deref())?;
            say(&helpline_public_key(&s)?);
            Ok(())
        }
        Cmd::Evidence(EvidenceCmd::Verify {
            export,
            public_key,
            config,
            data_dir,
        }) => {
            use rempart_app::evidence::export as x;
            let key_hex = match public_key {
                Some(k) => k,
                None => {
                    let s = data_dir_settings(config.as_deref(), data_dir.as_deref())?;
                    helpline_public_key(&s)?
                }
            };
            let key = x::parse_public_key(&key_hex).map_err(anyhow::Error::msg)?;
            let entries = x::read_export(&export).map_err(anyhow::Error::msg)?;
            let r = x::verify(&entries, &key);
            say(&format!("export: {}", export.display()));
            say(&format!(
                "signature: {}",
                if r.signature_ok { "valid" } else { "INVALID" }
            ));
            if !r.key_matches {
                say("key: the manifest names another key than the one given");
            }
            say(&format!("files intact: {}", r.intact));
            for f in &r.altered {
                say(&format!("altered: {f}"));
            }
            for f in &r.missing {
                say(&format!("missing: {f}"));
            }
            for f in &r.added {
                say(&format!("added: {f}"));
            }
            for p in &r.problems {
                say(&format!("problem: {p}"));
            }
            if r.ok() {
                say("export intact: every file as signed");
                Ok(())
            } else {
                bail!("export NOT intact")
            }
        }
        Cmd::Bench(b) => bench::run(b).await,
        Cmd::Pdq(cmd) => cmd_pdq::run(cmd),
        Cmd::Risk(cmd) => cmd_risk::run(cmd),
    }
}

async fn demo_cmd(listen: String, data_dir: PathBuf) -> Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let mut s = data_dir_settings(None, Some(&data_dir))?;
    s.server.listen = listen
        .parse()
        .with_context(|| format!("--listen {listen}: not an address"))?;
    s.server.public_url = rempart_app::settings::PublicUrl::for_listen(s.server.listen);
    s.helpline.name = "Rempart (démo)".into();
    // Local demo over plain HTTP: cookies without Secure, and the demo accounts (whose
    // passwords are printed below) log in without a second factor — never elsewhere —
    // unless REMPART_SECURITY_SECOND_FACTOR_ROLES names the roles that need one.
    s.security.secure_cookies = false;
    if std::env::var_os("REMPART_SECURITY_SECOND_FACTOR_ROLES").is_none() {
        s.security.second_factor_roles = vec![];
    }
    let _logs = init_logs(&s);
    let public = s.server.public_url.as_str().to_owned();
    // the platforms' side: simulators that take notices and decide (they stop with the demo)
    let sims = demo_sims::start(&mut s, &data_dir).await?;
    // the world's mail servers: a local mailbox takes every mail the helpline sends
    let mailbox = demo_sims::start_mailbox(&mut s, &data_dir).await?;
    let app = with_typesetter(App::start(s, Arc::new(SystemClock)).await?);
    // the platforms on the partner API poll it with a key issued at each start
    let _partners = demo_sims::start_partners(&app).await?;
    let seeded = demo::seed(&app, 200)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo: {}", e.message))?;
    if seeded {
        // evidence on one case, and its follow-up code, printed once
        let files = vec![
            (
                rempart_domain::case::EvidenceKind::Screenshot,
                rempart_media::testing::phone_png(1080, 720, 7),
                "Screenshot_2026-11-28.png",
                false,
            ),
            (
                rempart_domain::case::EvidenceKind::Photo,
                rempart_media::testing::phone_jpeg(1200, 900, 8, 6),
                "IMG_0042.JPG",
                true,
            ),
        ];
        match demo::seed_evidence(&app, files).await {
            Ok(Some(f)) => say(&format!(
                "Rempart demo: a young person's follow-up page at {public}/follow-up (code {}, secret {})",
                f.code, f.secret
            )),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e.message, "demo evidence not seeded"),
        }
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "demo data seeded"
        );
    }
    say(&format!("Rempart demo: console at {public}/login"));
    say(&format!(
        "Rempart demo: platform simulators at {} (ROOST Coop platforms and partner-API ones decide a notice within {} s)",
        sims.base_url(),
        demo_sims::DECISION_DELAY.as_secs()
    ));
    say(&format!(
        "Rempart demo: helpline site with the chat widget at {public}/demo"
    ));
    say(&format!(
        "Rempart demo: the e-mails the helpline sends (notices, referrals) land in {} (a local SMTP server on port {})",
        mailbox.dir().display(),
        mailbox.port()
    ));
    for (acc, _, _) in demo::demo_accounts() {
        say(&format!(
            "demo account: {} {} {}",
            acc.role.as_str(),
            acc.email,
            acc.password
        ));
    }
    serve(app, Some(started)).await
}

/// The server's typesetter (typst, for the complaint documents), its fonts parsed in the
/// background so the first document does not wait for them.
fn with_typesetter(app: App) -> App {
    let typst = rempart_pdf::Typst::new();
    tokio::task::spawn_blocking(move || typst.warm());
    app.with_typesetter(Arc::new(typst))
}

async fn serve(app: App, started: Option<Instant>) -> Result<()> {
    let listen = app.settings().server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let limits = rempart_web::server::ServerLimits::from_settings(app.settings());
    let state = rempart_web::AppState::new(app.clone()).context("web layer")?;
    let router = rempart_web::router(state);
    let ms = started.map(|s| s.elapsed().as_millis() as u64).unwrap_or(0);
    tracing::info!(addr = %listen, ready_ms = ms, "ready");
    if started.is_some() {
        say(&format!("ready in {ms} ms"));
    }
    rempart_web::server::serve(listener, router, limits, shutdown()).await?;
    // a clean stop: on SQLite the write-ahead log is copied back and truncated
    app.shutdown().await;
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
