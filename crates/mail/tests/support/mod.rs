//! A real SMTP server for the tests (`smtp_server.py`, aiosmtpd) and test certificates.
//!
//! Python is `$REMPART_TEST_SMTP_PYTHON` (a venv's python with aiosmtpd), else `python3` if it
//! imports aiosmtpd. Without either, a test says loudly that it checked nothing and returns —
//! and fails instead when `REMPART_REQUIRE_SMTP=1`, as CI sets.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rempart_mail::{Mailbox, OutgoingMail, SmtpConfig, TlsMode};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A fresh empty folder, removed by [`TempDir`]'s drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rempart-mail-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn imports_aiosmtpd(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The Python that runs the server, or `None` after a loud message.
pub fn python(test: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REMPART_TEST_SMTP_PYTHON").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            imports_aiosmtpd(&p),
            "REMPART_TEST_SMTP_PYTHON={} cannot import aiosmtpd",
            p.display()
        );
        return Some(p);
    }
    let p = PathBuf::from("python3");
    if imports_aiosmtpd(&p) {
        return Some(p);
    }
    let msg = format!(
        "NO SMTP SERVER: {test} needs Python with aiosmtpd (set REMPART_TEST_SMTP_PYTHON to a \
         venv's python, e.g. python3 -m venv v && v/bin/pip install aiosmtpd); it checked NOTHING"
    );
    if std::env::var("REMPART_REQUIRE_SMTP").as_deref() == Ok("1") {
        panic!("{msg} (REMPART_REQUIRE_SMTP=1)");
    }
    eprintln!("\n{}\n{msg}\n{}\n", "!".repeat(78), "!".repeat(78));
    None
}

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM.
pub struct Certs {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Certs {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "rempart-mail test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "smtp.test");
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        Certs {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// What the server offers and does.
#[derive(Default)]
pub struct Options {
    /// Offer STARTTLS (a certificate from a fresh test CA).
    pub starttls: bool,
    /// TLS from the first byte instead.
    pub implicit_tls: bool,
    /// Require AUTH with these credentials.
    pub auth: Option<(&'static str, &'static str)>,
    /// `STAGE:TIMES:REPLY`, see smtp_server.py.
    pub fail: Vec<&'static str>,
}

/// A running server; killed (and its folder removed) on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
    /// The PEM of the CA that signed its certificate, if it has one.
    pub ca_pem: Option<String>,
}

impl Server {
    /// Starts a server, or returns `None` (after a loud message) when there is no Python with
    /// aiosmtpd. Waits for its `listening <port>` line.
    pub fn start(test: &str, options: Options) -> Option<Server> {
        let python = python(test)?;
        let dir = TempDir::new(test);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut cmd = Command::new(python);
        cmd.arg(script).arg("--dir").arg(&dir.0);
        let mut ca_pem = None;
        if options.starttls || options.implicit_tls {
            let certs = Certs::new();
            let cert = dir.0.join("server-cert.pem");
            let key = dir.0.join("server-key.pem");
            std::fs::write(&cert, &certs.cert_pem).unwrap();
            std::fs::write(&key, &certs.key_pem).unwrap();
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
            ca_pem = Some(certs.ca_pem);
        }
        if options.implicit_tls {
            cmd.arg("--implicit-tls");
        }
        if let Some((user, password)) = options.auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        for f in options.fail {
            cmd.arg("--fail").arg(f);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting smtp_server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("smtp_server.py did not start (it printed {line:?})")
            });
        Some(Server {
            child,
            port,
            dir,
            ca_pem,
        })
    }

    /// A configuration for this server with `tls`, trusting its CA, a 10 s timeout.
    pub fn config(&self, tls: TlsMode) -> SmtpConfig {
        let mut c = SmtpConfig::new("127.0.0.1", self.port);
        c.tls = tls;
        c.extra_root_pem = self.ca_pem.as_ref().map(|p| p.as_bytes().to_vec());
        c.timeout = Duration::from_secs(10);
        c.hello_name = Some("helpline.example".into());
        c
    }

    /// How many messages the server accepted.
    pub fn received(&self) -> usize {
        (1..)
            .take_while(|n| self.dir.0.join(format!("{n}.json")).exists())
            .count()
    }

    /// Message `n` (from 1): its exact bytes and its record.
    pub fn message(&self, n: usize) -> (Vec<u8>, serde_json::Value) {
        let eml = std::fs::read(self.dir.0.join(format!("{n}.eml"))).unwrap();
        let json = std::fs::read(self.dir.0.join(format!("{n}.json"))).unwrap();
        (eml, serde_json::from_slice(&json).unwrap())
    }

    /// A decoded MIME part, by the file name its record gives.
    pub fn part(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.0.join(file)).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A notice mail: accents in the subject, the name and the text, a line that starts with a
/// dot, a JSON attachment.
pub fn notice() -> OutgoingMail {
    let from: Mailbox = "Ligne d'écoute Rempart <notices@helpline.example>"
        .parse()
        .unwrap();
    OutgoingMail {
        from,
        to: vec![
            "Équipe modération <abuse@platform.example>"
                .parse()
                .unwrap(),
        ],
        reply_to: Some("notice+N-2026-0042@helpline.example".parse().unwrap()),
        message_id: "<N-2026-0042.0190a4c2-7d1e-7c3a-9f00-5b1d2e3f4a5b@helpline.example>".into(),
        subject: "Signalement N-2026-0042 : contenu préjudiciable à un mineur (Art. 16)".into(),
        text: NOTICE_TEXT.into(),
        attachments: vec![rempart_mail::Attachment {
            filename: "notice-N-2026-0042.json".into(),
            content_type: "application/json".into(),
            bytes: NOTICE_JSON.as_bytes().to_vec(),
        }],
        language: Some("fr".into()),
        date: None,
    }
}

pub const NOTICE_TEXT: &str = concat!(
    "Madame, Monsieur,\n",
    "\n",
    "1. Motifs : diffusion d'images intimes d'une personne mineure, sans son accord.\n",
    "2. Emplacement exact :\n",
    "   - https://platform.example/p/123\n",
    "   - https://platform.example/p/456\n",
    ".\n",
    "..une ligne qui commence par des points\n",
    "3. Coordonnées de l'auteur du signalement : ligne d'écoute Rempart, signaleur de confiance.\n",
    "4. Déclaration de bonne foi : nous déclarons que les informations sont exactes et complètes.\n",
    "\n",
    "Référence : N-2026-0042 — répondez à cette adresse, sans changer l'objet.\n",
);

pub const NOTICE_JSON: &str = "{\"reference\":\"N-2026-0042\",\"language\":\"fr\",\
\"reasons\":\"diffusion d'images intimes d'une personne mineure\",\
\"items\":[\"https://platform.example/p/123\",\"https://platform.example/p/456\"],\
\"good_faith\":true}";
