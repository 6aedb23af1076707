//! `rempart bench chat`: the chat under load. It starts one or two `rempart serve`
//! processes (real processes: their memory is measured alone), opens N anonymous visitor
//! sessions with live WebSockets, gives every conversation to a counsellor whose console
//! socket watches it, then sends visitor messages at a steady rate and times each one from
//! its POST to its arrival on the counsellor's socket. With two nodes the counsellors
//! also answer, on theirs, at the same rate (both nodes then commit batches over the same
//! conversations at once). Every message must be acknowledged (committed), delivered once,
//! and none lost; refusals are counted (503 apart). On SQLite the largest `-wal` file is
//! reported. A bare WebSocket echo server, timed in the same run at the same rate, gives
//! the floor of this machine.

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use rempart_app::App;
use rempart_app::clock::SystemClock;
use rempart_app::settings::Settings;
use rempart_domain::policy::Role;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The master secret every node of one benchmark shares (fresh for each run).
fn bench_secret() -> String {
    static S: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    S.get_or_init(|| rempart_app::random_hex(32).unwrap_or_else(|_| "b".repeat(64)))
        .clone()
}

pub(crate) fn bench_env(url: &str, hours: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("REMPART_DATABASE_URL", url.to_owned()),
        ("REMPART_SECRETS_MASTER_KEY", bench_secret()),
        ("REMPART_SECURITY_SECURE_COOKIES", "false".into()),
        ("REMPART_SECURITY_SECOND_FACTOR_ROLES", String::new()),
        ("REMPART_SECURITY_ARGON2_MEMORY_KIB", "64".into()),
        ("REMPART_SECURITY_LOGINS_PER_MINUTE", "1000000".into()),
        (
            "REMPART_HELPLINE_OPENING_HOURS_FILE",
            hours.display().to_string(),
        ),
        ("REMPART_WIDGET_SESSIONS_PER_MINUTE", "1000000".into()),
        ("REMPART_WIDGET_SESSIONS_PER_DAY", "1000000".into()),
        ("REMPART_WIDGET_MESSAGE_BURST", "1000000".into()),
        ("REMPART_WIDGET_STRESS_SESSIONS_PER_MINUTE", "0".into()),
        ("REMPART_WIDGET_SOCKETS_PER_ADDRESS", "1000000".into()),
        ("REMPART_LOG", "warn".into()),
    ]
}

/// Settings for the benchmark's own handle on the database.
pub(crate) fn bench_settings(url: &str, hours: Option<&std::path::Path>) -> Settings {
    let mut s = Settings::default();
    s.database.url = rempart_app::secret::Secret::new(url);
    s.secrets.master_key = rempart_app::secret::Secret::new(bench_secret());
    s.security.secure_cookies = false;
    s.security.second_factor_roles = vec![];
    s.security.argon2_memory_kib = 64;
    s.security.argon2_iterations = 1;
    s.helpline.opening_hours_file = hours.map(|h| h.to_path_buf());
    s
}

async fn start_node(url: &str, hours: &std::path::Path) -> Result<Node> {
    let port = free_port()?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("serve")
        .env("REMPART_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in bench_env(url, hours) {
        cmd.env(k, v);
    }
    let child = cmd.spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status() == 200
        {
            return Ok(Node { child, base });
        }
        if Instant::now() > deadline {
            bail!("node on port {port} not ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(base: &str, path: &str, bearer: Option<&str>) -> Result<Ws> {
    let mut req = format!("{}{}", base.replace("http://", "ws://"), path).into_client_request()?;
    req.headers_mut().insert("origin", base.parse()?);
    if let Some(b) = bearer {
        req.headers_mut()
            .insert("authorization", format!("Bearer {b}").parse()?);
    }
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v[(((v.len() - 1) as f64) * p).round() as usize]
}

/// Round trips through a bare WebSocket echo server at the same rate: this machine's floor.
async fn echo_floor(rate: u64, seconds: u64) -> Result<Vec<f64>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await {
                    while let Some(Ok(m)) = ws.next().await {
                        if m.is_text() && ws.send(m).await.is_err() {
                            break;
                        }
                    }
                }
            });
        }
    });
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await?;
    let (mut tx, mut rx) = ws.split();
    let sent: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let s2 = sent.clone();
    let reader = tokio::spawn(async move {
        let mut lat = Vec::new();
        while let Some(Ok(Message::Text(t))) = rx.next().await {
            if let Ok(n) = t.parse::<u64>()
                && let Some(at) = s2.lock().ok().and_then(|mut m| m.remove(&n))
            {
                lat.push(at.elapsed().as_secs_f64() * 1000.0);
            }
        }
        lat
    });
    let total = rate * seconds;
    let start = Instant::now();
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        if let Ok(mut m) = sent.lock() {
            m.insert(n, Instant::now());
        }
        tx.send(Message::text(n.to_string())).await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    tx.close().await?;
    let mut lat = reader.await?;
    lat.sort_by(|a, b| a.total_cmp(b));
    Ok(lat)
}

/// How the POSTs of one kind went: acknowledged (201), refused as unavailable (503),
/// anything else (another status, no answer); the time to each 201.
#[derive(Default)]
struct Tally {
    acked: std::sync::atomic::AtomicU64,
    unavailable: std::sync::atomic::AtomicU64,
    other: std::sync::atomic::AtomicU64,
    ms: Mutex<Vec<f64>>,
}

impl Tally {
    fn record(&self, r: &reqwest::Result<reqwest::Response>, sent: Instant) {
        use std::sync::atomic::Ordering::Relaxed;
        match r.as_ref().map(|r| r.status().as_u16()) {
            Ok(201) => {
                self.acked.fetch_add(1, Relaxed);
                if let Ok(mut ms) = self.ms.lock() {
                    ms.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
            Ok(503) => {
                self.unavailable.fetch_add(1, Relaxed);
            }
            _ => {
                self.other.fetch_add(1, Relaxed);
            }
        }
    }

    /// `acknowledged / refused 503 / other failures`.
    fn counts(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        format!(
            "{} / {} / {}",
            self.acked.load(Relaxed),
            self.unavailable.load(Relaxed),
            self.other.load(Relaxed)
        )
    }

    /// `p50 / p99 ms` of the acknowledged ones.
    fn latency(&self) -> String {
        let mut v = self.ms.lock().map(|m| m.clone()).unwrap_or_default();
        v.sort_by(|a, b| a.total_cmp(b));
        format!("{:.1} / {:.1} ms", pct(&v, 0.5), pct(&v, 0.99))
    }
}

/// The `-wal` file of a SQLite URL (None on PostgreSQL).
fn sqlite_wal_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url.strip_prefix("sqlite://")?.split('?').next()?;
    Some(std::path::PathBuf::from(format!("{path}-wal")))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The load run.
pub async fn chat(
    db: &str,
    conversations: usize,
    rate: u64,
    seconds: u64,
    nodes: usize,
    reply_rate: Option<u64>,
) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("rempart-bench-chat-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let hours = dir.join("hours.toml");
    std::fs::write(
        &hours,
        "timezone = \"Europe/Paris\"\nholiday_hours = \"same\"\n[hours]\nevery_day = \"00:00-24:00\"\n",
    )?;
    let url = if db == "sqlite" {
        if nodes > 1 {
            bail!("several nodes need PostgreSQL");
        }
        format!("sqlite://{}/chat.db", dir.display())
    } else if db.starts_with("postgres") {
        let name = format!("rempart_chat_{}", std::process::id());
        let admin = rempart_app::open_store(&bench_settings(
            &format!("{}/postgres", db.trim_end_matches('/')),
            None,
        ))
        .await?;
        admin.create_database_for_bench(&name).await?;
        admin.close().await;
        format!("{}/{}", db.trim_end_matches('/'), name)
    } else {
        bail!("--db must be sqlite or a postgres:// server URL");
    };
    // the bench's own handle on the database: accounts and assignments
    let settings = bench_settings(&url, Some(&hours));
    let store = rempart_app::open_store(&settings).await?;
    let app = App::start(settings, Arc::new(SystemClock)).await?;
    let mut servers = Vec::new();
    for _ in 0..nodes.max(1) {
        servers.push(start_node(&url, &hours).await?);
    }
    let visitor_base = servers[0].base.clone();
    let staff_base = servers[servers.len() - 1].base.clone();
    let idle_rss: Vec<u64> = servers.iter().map(|n| rss_kb(n.child.id())).collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    eprintln!("opening {conversations} visitor sessions…");
    let per = 100usize;
    let n_staff = conversations.div_ceil(per);
    let mut staff = Vec::new();
    for i in 0..n_staff {
        let s = app
            .create_staff_by_operator(rempart_app::staff::NewStaffInput {
                email: format!("c{i}@bench.invalid"),
                display_name: format!("C{i}"),
                role: Role::Counsellor,
                team: None,
                password: "bench passphrase".into(),
                lang: "fr".into(),
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        store
            .set_chat_availability(
                s.id,
                true,
                per as i64,
                &rempart_storage::AuditEntry::new(
                    app.now(),
                    Some(s.id),
                    rempart_domain::audit::event::AuditEvent::ChatAvailability {
                        available: true,
                        capacity: per as i64,
                    },
                ),
            )
            .await?;
        staff.push(s);
    }
    let mut tokens = Vec::with_capacity(conversations);
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for _ in 0..conversations {
        let (http, base, sem) = (http.clone(), visitor_base.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire_owned().await?;
            let v: Value = http
                .post(format!("{base}/widget/v1/sessions"))
                .json(&json!({}))
                .send()
                .await?
                .json()
                .await?;
            let token = v["token"].as_str().context("token")?.to_owned();
            let r = http
                .post(format!("{base}/widget/v1/messages"))
                .bearer_auth(&token)
                .json(&json!({"client_id": "hello", "body": "bonjour"}))
                .send()
                .await?;
            anyhow::ensure!(r.status() == 201, "first message: {}", r.status());
            anyhow::Ok(token)
        }));
    }
    for t in tasks {
        tokens.push(t.await??);
    }
    // every conversation to a counsellor
    let mut by_conv: HashMap<String, String> = HashMap::new(); // conversation id -> visitor token
    let mut watch: Vec<Vec<String>> = vec![Vec::new(); n_staff];
    for (i, s) in staff.iter().enumerate() {
        for _ in 0..per {
            match store
                .take_next(s.id, Role::Counsellor, app.now(), false)
                .await?
            {
                Some(c) => watch[i].push(c.id.to_string()),
                None => break,
            }
        }
    }
    for t in &tokens {
        let c = app
            .visitor_conversation(t)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        by_conv.insert(c.id.to_string(), t.clone());
    }
    eprintln!("opening {conversations} visitor sockets and {n_staff} console sockets…");
    let mut visitor_sockets = Vec::with_capacity(conversations);
    for t in &tokens {
        let mut s = socket(&visitor_base, "/widget/v1/ws", None).await?;
        s.send(Message::text(json!({"token": t, "after": 1}).to_string()))
            .await?;
        visitor_sockets.push(s);
    }
    // drain visitor sockets in the background (they receive state frames); the first
    // frame tells the socket is live
    let ready_visitors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut drains = Vec::new();
    for mut s in visitor_sockets {
        let ready = ready_visitors.clone();
        drains.push(tokio::spawn(async move {
            if let Some(Ok(_)) = s.next().await {
                ready.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            while let Some(Ok(_)) = s.next().await {}
        }));
    }
    type Seen = Arc<Mutex<(HashMap<(String, String), Instant>, Vec<f64>, u64, u64)>>;
    let seen: Seen = Arc::new(Mutex::new((HashMap::new(), Vec::new(), 0, 0)));
    let mut readers = Vec::new();
    let ready_watches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n_watches: usize = watch.iter().map(Vec::len).sum();
    // (counsellor's bearer token, conversation) for the replies
    let mut replies: Vec<(String, String)> = Vec::with_capacity(n_watches);
    for (i, s) in staff.iter().enumerate() {
        let login: Value = http
            .post(format!("{staff_base}/api/v1/auth/login"))
            .json(&json!({"email": s.email, "password": "bench passphrase"}))
            .send()
            .await?
            .json()
            .await?;
        let tok = login["token"].as_str().context("login")?.to_owned();
        for c in &watch[i] {
            replies.push((tok.clone(), c.clone()));
        }
        let mut ws = socket(&staff_base, "/api/v1/ws", Some(&tok)).await?;
        for c in &watch[i] {
            ws.send(Message::text(
                json!({"type": "watch", "conversation": c, "after": 1}).to_string(),
            ))
            .await?;
        }
        let seen = seen.clone();
        let ready = ready_watches.clone();
        readers.push(tokio::spawn(async move {
            let mut answered = std::collections::HashSet::new();
            while let Some(Ok(m)) = ws.next().await {
                let Message::Text(t) = m else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&t) else {
                    continue;
                };
                if v["type"] != "messages" {
                    continue;
                }
                let conv = v["conversation"].as_str().unwrap_or("").to_owned();
                if answered.insert(conv.clone()) {
                    // the answer to this conversation's watch request
                    ready.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                if let Ok(mut g) = seen.lock() {
                    for m in v["messages"].as_array().into_iter().flatten() {
                        let cid = m["client_id"].as_str().unwrap_or("").to_owned();
                        if !cid.starts_with("load-") {
                            continue;
                        }
                        match g.0.remove(&(conv.clone(), cid)) {
                            Some(at) => {
                                let ms = at.elapsed().as_secs_f64() * 1000.0;
                                g.1.push(ms);
                                if std::env::var_os("REMPART_BENCH_TRACE").is_some() {
                                    eprintln!("lat {:?} {ms:.1}", at);
                                }
                            }
                            None => g.3 += 1, // delivered twice (or unknown)
                        }
                    }
                }
            }
        }));
    }
    // the load starts once every socket is live: the steady state is what is measured
    let setup = Instant::now();
    while ready_watches.load(std::sync::atomic::Ordering::Relaxed) < n_watches
        || ready_visitors.load(std::sync::atomic::Ordering::Relaxed) < conversations
    {
        if setup.elapsed() > Duration::from_secs(300) {
            bail!(
                "sockets not live after 300 s: {} of {n_watches} watches, {} of {conversations} visitors",
                ready_watches.load(std::sync::atomic::Ordering::Relaxed),
                ready_visitors.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "all {n_watches} watches and {conversations} visitor sockets live ({:.1} s after the last was opened)",
        setup.elapsed().as_secs_f64()
    );
    let loaded_rss: Vec<u64> = servers.iter().map(|n| rss_kb(n.child.id())).collect();
    let convs: Vec<(String, String)> = by_conv.into_iter().collect();

    // with two nodes, the counsellors answer on theirs (by default at the visitors' rate):
    // both nodes then commit batches over the same conversations at once
    let reply_rate = if nodes > 1 {
        reply_rate.unwrap_or(rate)
    } else {
        0
    };
    if reply_rate > 0 {
        eprintln!(
            "sending {rate} visitor messages/s on node 0 and {reply_rate} counsellor replies/s on node {} for {seconds} s…",
            servers.len() - 1
        );
    } else {
        eprintln!("sending {rate} messages/s for {seconds} s…");
    }
    let total = rate * seconds;
    let visits = Arc::new(Tally::default());
    let answers = Arc::new(Tally::default());
    let inflight = Arc::new(tokio::sync::Semaphore::new(512));
    let wal_file = sqlite_wal_file(&url);
    let wal_sampled = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = wal_file.clone().map(|f| {
        let (peak, on) = (wal_sampled.clone(), sampling.clone());
        tokio::spawn(async move {
            while on.load(std::sync::atomic::Ordering::Relaxed) {
                let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
                peak.fetch_max(len, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    });
    let start = Instant::now();
    let replier = {
        let (http, base, answers, replies) = (
            http.clone(),
            staff_base.clone(),
            answers.clone(),
            Arc::new(replies),
        );
        let inflight = Arc::new(tokio::sync::Semaphore::new(512));
        tokio::spawn(async move {
            let mut posts = Vec::new();
            for n in 0..reply_rate * seconds {
                let due = start + Duration::from_secs_f64(n as f64 / reply_rate as f64);
                tokio::time::sleep_until(due.into()).await;
                // the conversations in the opposite order to the visitors'
                let (tok, conv) = replies[replies.len() - 1 - (n as usize) % replies.len()].clone();
                let (http, base, answers) = (http.clone(), base.clone(), answers.clone());
                let Ok(permit) = inflight.clone().acquire_owned().await else {
                    break;
                };
                posts.push(tokio::spawn(async move {
                    let _p = permit;
                    let t = Instant::now();
                    let r = http
                        .post(format!("{base}/api/v1/chats/{conv}/messages"))
                        .bearer_auth(&tok)
                        .json(&json!({"client_id": format!("reply-{n}"), "body": "réponse de charge"}))
                        .send()
                        .await;
                    answers.record(&r, t);
                }));
            }
            for p in posts {
                let _ = p.await;
            }
        })
    };
    let mut sends = Vec::new();
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let (conv, token) = convs[(n as usize) % convs.len()].clone();
        let cid = format!("load-{n}");
        if let Ok(mut g) = seen.lock() {
            g.0.insert((conv.clone(), cid.clone()), Instant::now());
            g.2 += 1;
        }
        let (http, base, visits, permit) = (
            http.clone(),
            visitor_base.clone(),
            visits.clone(),
            inflight.clone().acquire_owned().await?,
        );
        sends.push(tokio::spawn(async move {
            let _p = permit;
            let t = Instant::now();
            let r = http
                .post(format!("{base}/widget/v1/messages"))
                .bearer_auth(&token)
                .json(&json!({"client_id": cid, "body": "message de charge"}))
                .send()
                .await;
            visits.record(&r, t);
        }));
    }
    for s in sends {
        s.await?;
    }
    replier.await?;
    let sending = start.elapsed().as_secs_f64();
    // wait (bounded) for the last deliveries
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && seen.lock().map(|g| !g.0.is_empty()).unwrap_or(false) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    if let Some(s) = sampler {
        s.await?;
    }
    // the node's own account of its log (checkpoints measure it every quarter second)
    let wal_gauge = match http.get(format!("{visitor_base}/metrics")).send().await {
        Ok(r) => r.text().await.ok().and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("rempart_sqlite_wal_peak_bytes "))
                .and_then(|v| v.trim().parse::<u64>().ok())
        }),
        Err(_) => None,
    };
    let busy_rss: Vec<u64> = servers.iter().map(|n| rss_kb(n.child.id())).collect();
    let (lost, mut lat, sent, dup) = {
        let g = seen.lock().map_err(|_| anyhow::anyhow!("lock"))?;
        (g.0.len(), g.1.clone(), g.2, g.3)
    };
    lat.sort_by(|a, b| a.total_cmp(b));
    for r in readers {
        r.abort();
    }
    for d in drains {
        d.abort();
    }
    eprintln!("timing a bare WebSocket echo server at the same rate…");
    let floor = echo_floor(rate, seconds.min(20)).await?;
    let ours = pct(&lat, 0.99);
    let base_p99 = pct(&floor, 0.99);
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| database | {} ({} node{}) |",
        if db == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        nodes.max(1),
        if nodes > 1 {
            "s: visitors on one, counsellors on the other"
        } else {
            ""
        }
    );
    println!(
        "| open conversations (visitor socket + watched by a console socket) | {conversations} |"
    );
    println!("| target rate, duration | {rate} msg/s, {seconds} s |");
    println!(
        "| achieved send rate | {:.0} msg/s |",
        sent as f64 / sending
    );
    println!(
        "| sent / acknowledged (committed) / refused 503 / other failures | {sent} / {} |",
        visits.counts()
    );
    println!("| visitor POST → 201 p50 / p99 | {} |", visits.latency());
    if reply_rate > 0 {
        println!(
            "| counsellor replies on node {} at {reply_rate}/s: sent / acknowledged / refused 503 / other failures | {} / {} |",
            servers.len() - 1,
            reply_rate * seconds,
            answers.counts()
        );
        println!(
            "| counsellor POST → 201 p50 / p99 | {} |",
            answers.latency()
        );
    }
    println!(
        "| delivered to the counsellor / lost / duplicated | {} / {lost} / {dup} |",
        lat.len()
    );
    println!(
        "| latency POST → counsellor socket p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        pct(&lat, 0.5),
        ours,
        lat.last().copied().unwrap_or(0.0)
    );
    println!(
        "| bare WebSocket echo round trip p50 / p99 (same machine, same rate) | {:.2} / {:.2} ms |",
        pct(&floor, 0.5),
        base_p99
    );
    println!(
        "| ratio of our p99 to the echo floor | {:.0}× |",
        if base_p99 > 0.0 { ours / base_p99 } else { 0.0 }
    );
    if wal_file.is_some() {
        let limit: u64 = std::env::var("REMPART_DATABASE_SQLITE_WAL_LIMIT_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64);
        println!(
            "| SQLite -wal file, largest (sampled every 20 ms) / the node's rempart_sqlite_wal_peak_bytes | {:.1} / {} MiB (limit {limit} MiB) |",
            mib(wal_sampled.load(std::sync::atomic::Ordering::Relaxed)),
            wal_gauge.map_or_else(|| "?".to_owned(), |b| format!("{:.1}", mib(b)))
        );
    }
    for (i, _) in servers.iter().enumerate() {
        let per_conv = (loaded_rss[i].saturating_sub(idle_rss[i])) as f64 / conversations as f64;
        println!(
            "| node {i} RSS idle / with the conversations open / after the load | {} / {} / {} MB ({per_conv:.1} KB per open conversation) |",
            idle_rss[i] / 1024,
            loaded_rss[i] / 1024,
            busy_rss[i] / 1024
        );
    }
    drop(servers);
    store.close().await;
    app.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
