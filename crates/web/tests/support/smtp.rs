//! A real SMTP server for the e-mail notice tests: rempart-mail's `tests/smtp_server.py`
//! (aiosmtpd), which writes every message it accepts — the DATA bytes exactly as received
//! (dot-stuffing undone, as SMTP says), each decoded MIME part and a JSON record (envelope,
//! TLS, decoded headers) — before it answers 250.
//!
//! Python is `$REMPART_TEST_SMTP_PYTHON` (a venv's python with aiosmtpd), else `python3` if
//! it imports aiosmtpd. Without either, a test says loudly that it checked nothing and
//! returns — and fails instead when `REMPART_REQUIRE_SMTP=1`, as CI sets.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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
         venv's python, e.g. python3 -m venv v && v/bin/pip install aiosmtpd==1.4.6); it \
         checked NOTHING"
    );
    if std::env::var("REMPART_REQUIRE_SMTP").as_deref() == Ok("1") {
        panic!("{msg} (REMPART_REQUIRE_SMTP=1)");
    }
    eprintln!("\n{}\n{msg}\n{}\n", "!".repeat(78), "!".repeat(78));
    None
}

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM.
struct Certs {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl Certs {
    fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "rempart test SMTP CA");
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
    /// Offer STARTTLS, with a certificate from a fresh test CA.
    pub starttls: bool,
    /// `STAGE:TIMES:REPLY` (stage `mail`, `rcpt` or `data`; TIMES 0 = always), see
    /// smtp_server.py.
    pub fail: Vec<&'static str>,
}

/// A running server; killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Where it writes what arrived.
    pub dir: PathBuf,
    /// The file holding the PEM of the CA that signed its certificate, if it has one.
    pub ca_file: Option<PathBuf>,
}

impl Server {
    /// Starts a server writing into `dir` (created), or returns `None` (after a loud
    /// message) when there is no Python with aiosmtpd. Waits for its `listening <port>`.
    pub fn start(test: &str, dir: &Path, options: Options) -> Option<Server> {
        let python = python(test)?;
        let dir = dir.join("smtp");
        std::fs::create_dir_all(&dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/smtp_server.py");
        let mut cmd = Command::new(python);
        cmd.arg(script).arg("--dir").arg(&dir);
        let mut ca_file = None;
        if options.starttls {
            let certs = Certs::new();
            let cert = dir.join("server-cert.pem");
            let key = dir.join("server-key.pem");
            let ca = dir.join("ca.pem");
            std::fs::write(&cert, &certs.cert_pem).unwrap();
            std::fs::write(&key, &certs.key_pem).unwrap();
            std::fs::write(&ca, &certs.ca_pem).unwrap();
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
            ca_file = Some(ca);
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
            ca_file,
        })
    }

    /// How many messages the server accepted.
    pub fn received(&self) -> usize {
        (1..)
            .take_while(|n| self.dir.join(format!("{n}.json")).exists())
            .count()
    }

    /// Message `n` (from 1): its exact bytes and its record.
    pub fn message(&self, n: usize) -> (Vec<u8>, serde_json::Value) {
        let eml = std::fs::read(self.dir.join(format!("{n}.eml"))).unwrap();
        let json = std::fs::read(self.dir.join(format!("{n}.json"))).unwrap();
        (eml, serde_json::from_slice(&json).unwrap())
    }

    /// A decoded MIME part, by the file name its record gives.
    pub fn part(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(file)).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
