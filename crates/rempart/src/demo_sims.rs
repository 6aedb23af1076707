//! The demo's platforms: the local simulators (`rempart-platform-sim`) stand in for every
//! platform of the embedded directory that has an automatic channel — a ROOST Coop Report
//! API that decides each report on its own after a short delay and sends its signed action
//! callback back to the demo, Standard Webhooks receivers, and for the platforms that use
//! Rempart's partner API a partner that polls `/partner/v1` with its key, acknowledges and
//! decides — so that a newcomer sends a notice and sees the platform's decision come back. The directory the demo uses is the
//! embedded one with those channels pointed at the simulators (written to the data folder at
//! each start: the simulators' port changes), their secrets made up for the demo.

use anyhow::{Context, Result};
use rempart_app::secret::Secret;
use rempart_app::settings::Settings;
use rempart_platform_sim::{AutoDecide, CoopKey, SimConfig, SimHandle, SimKind, SimPlatform};
use std::path::Path;
use std::time::Duration;

/// How long a simulated Coop platform takes to decide a report.
pub const DECISION_DELAY: Duration = Duration::from_secs(20);

/// A made-up secret for the demo: Coop's API key, or a Standard Webhooks `whsec_` key (the
/// hex digits of a hash are valid base64).
fn demo_secret(name: &str, webhook: bool) -> String {
    let h = rempart_app::sha256_hex(format!("rempart demo {name}").as_bytes());
    if webhook {
        format!("whsec_{}", &h[..48])
    } else {
        format!("demo-{}", &h[..32])
    }
}

/// Starts the simulators and points `s` (the demo's settings) at them; the handle keeps
/// them running.
pub async fn start(s: &mut Settings, data_dir: &Path) -> Result<SimHandle> {
    let mut table: toml::Table = rempart_domain::directory::Directory::DEFAULT_PLATFORMS
        .parse()
        .context("the embedded platform directory")?;
    let public = s
        .server
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let mut sims = Vec::new();
    let mut secrets = Vec::new();
    let platforms = table
        .get("platform")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    for p in &platforms {
        let Some(code) = p.get("code").and_then(toml::Value::as_str) else {
            continue;
        };
        let channels = p
            .get("channel")
            .and_then(toml::Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in &channels {
            let kind = c.get("kind").and_then(toml::Value::as_str).unwrap_or("");
            let secret = c.get("secret").and_then(toml::Value::as_str).unwrap_or("");
            match kind {
                "coop" => {
                    let key = demo_secret(secret, false);
                    let mut sim = SimPlatform::coop(code, key.clone());
                    if let SimKind::Coop(cfg) = &mut sim.kind {
                        cfg.key = CoopKey::SharedPerProcess;
                        cfg.callback_url = Some(format!("{public}/callbacks/coop/{code}"));
                        let removal =
                            c.get("actions")
                                .and_then(toml::Value::as_table)
                                .and_then(|a| {
                                    a.iter()
                                        .find(|(_, d)| d.as_str() == Some("content_removed"))
                                        .map(|(id, _)| id.clone())
                                });
                        cfg.auto_decide = removal.map(|action_id| AutoDecide {
                            delay: DECISION_DELAY,
                            action_id,
                        });
                    }
                    sims.push(sim);
                    secrets.push((secret.to_owned(), key));
                }
                "http_json" => {
                    let key = demo_secret(secret, true);
                    sims.push(SimPlatform::http_json(code, key.clone()));
                    secrets.push((secret.to_owned(), key));
                }
                _ => {}
            }
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("the platform simulators' port")?;
    let sim = rempart_platform_sim::spawn(SimConfig::with_platforms(sims), listener)
        .await
        .context("starting the platform simulators")?;
    // the directory with its automatic channels at the simulators
    if let Some(list) = table
        .get_mut("platform")
        .and_then(toml::Value::as_array_mut)
    {
        for p in list.iter_mut() {
            let code = p
                .get("code")
                .and_then(toml::Value::as_str)
                .unwrap_or("")
                .to_owned();
            let Some(channels) = p.get_mut("channel").and_then(toml::Value::as_array_mut) else {
                continue;
            };
            for c in channels.iter_mut() {
                let Some(c) = c.as_table_mut() else { continue };
                match c.get("kind").and_then(toml::Value::as_str) {
                    Some("coop") => {
                        c.insert("url".into(), sim.coop_base_url(&code).into());
                        if let Some(pem) = sim.coop_public_key_pem(&code) {
                            c.insert("public_key_pem".into(), pem.into());
                        }
                    }
                    Some("http_json") => {
                        c.insert("url".into(), sim.http_json_url(&code).into());
                    }
                    _ => {}
                }
            }
        }
    }
    let file = data_dir.join("platforms.demo.toml");
    let text = format!(
        "# The demo's platform directory, written at each start: the embedded one with its\n\
         # automatic channels at the local simulators ({}).\n{}",
        sim.base_url(),
        toml::to_string(&table).context("the demo's platform directory")?
    );
    std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    s.helpline.platforms_file = Some(file);
    s.delivery.allow_local_endpoints = true;
    for (name, value) in secrets {
        s.secrets
            .platforms
            .entry(name)
            .or_insert_with(|| Secret::new(value));
    }
    Ok(sim)
}

/// Starts a partner for each platform of the directory that uses the partner API: a key
/// issued to it as the operator, polling every second, deciding "removed" after the delay.
pub async fn start_partners(
    app: &rempart_app::App,
) -> Result<Vec<rempart_platform_sim::partner::PartnerHandle>> {
    use rempart_platform_sim::partner::{PartnerAutoDecide, PartnerConfig, spawn_partner};
    let public = app
        .settings()
        .server
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let codes: Vec<String> = app
        .directory()
        .platforms()
        .iter()
        .filter(|p| {
            p.channels
                .iter()
                .any(|c| c.kind() == rempart_domain::directory::NoticeChannel::RempartApi)
        })
        .map(|p| p.code.clone())
        .collect();
    let mut partners = Vec::new();
    for code in codes {
        let key = app
            .issue_partner_key_by_operator(&code)
            .await
            .map_err(|e| anyhow::anyhow!("a partner key for {code}: {}", e.message))?;
        let mut config = PartnerConfig::new(&code, &public, &key.key);
        config.auto_decide = Some(PartnerAutoDecide {
            delay: DECISION_DELAY,
            decision: "content_removed".into(),
            ground: Some("illegal_content".into()),
            redress: Some("Recours interne : https://support.example.invalid/appeal".into()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("a partner simulator's port")?;
        partners.push(
            spawn_partner(config, listener)
                .await
                .with_context(|| format!("starting the partner simulator of {code}"))?,
        );
    }
    Ok(partners)
}

/// Starts the demo's mailbox (a local SMTP server writing each mail it takes to
/// `mail/NNNN.eml` in the data folder) and points the helpline's SMTP settings at it, unless
/// they name a server already.
pub async fn start_mailbox(
    s: &mut Settings,
    data_dir: &Path,
) -> Result<rempart_platform_sim::mailbox::MailboxHandle> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("the demo mailbox's port")?;
    let mailbox = rempart_platform_sim::mailbox::spawn_mailbox(listener, data_dir.join("mail"))
        .context("starting the demo mailbox")?;
    if s.smtp.host.trim().is_empty() {
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = mailbox.port();
        s.smtp.tls = rempart_app::settings::SmtpTls::None;
    }
    Ok(mailbox)
}
