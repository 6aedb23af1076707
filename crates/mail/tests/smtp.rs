//! rempart-mail against a real SMTP server (aiosmtpd, run by the tests: see support/mod.rs),
//! and against sockets that refuse or never speak.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_mail::{
    ErrorClass, MailError, Mailer, Password, Reason, SmtpConfig, Stage, TlsMode, render,
};
use std::time::{Duration, Instant};
use support::{NOTICE_JSON, NOTICE_TEXT, Options, Server, notice};

fn mailer(config: SmtpConfig) -> Mailer {
    Mailer::new(config).unwrap()
}

fn assert_error(e: &MailError, class: ErrorClass, reason: Reason, stage: Stage) {
    assert_eq!(
        (e.class(), e.reason(), e.stage()),
        (class, reason, stage),
        "{e}"
    );
}

/// Nothing personal in an error's text.
fn assert_says_nothing_personal(e: &MailError) {
    let shown = format!("{e} {e:?}");
    for word in [
        "helpline.example",
        "platform.example",
        "Signalement",
        "Madame",
        "hunter2",
    ] {
        assert!(!shown.contains(word), "{shown}");
    }
}

fn lf(s: &str) -> String {
    s.replace("\r\n", "\n")
}

#[tokio::test]
async fn a_notice_arrives_byte_for_byte_over_starttls() {
    let test = "a_notice_arrives_byte_for_byte_over_starttls";
    let Some(server) = Server::start(
        test,
        Options {
            starttls: true,
            ..Default::default()
        },
    ) else {
        return;
    };
    let mail = notice();
    let rendered = render(&mail).unwrap();
    let sent = mailer(server.config(TlsMode::Opportunistic))
        .send_rendered(&rendered)
        .await
        .unwrap();

    // what left is what was rendered
    let (eml, record) = server.message(1);
    let eml_text = String::from_utf8(eml.clone()).unwrap();
    assert_eq!(
        eml,
        rendered.bytes(),
        "the server got other bytes:\n{eml_text}"
    );
    assert!(
        eml_text.contains("\r\n."),
        "the message has a line starting with a dot (dot-stuffing exercised):\n{eml_text}"
    );
    assert_eq!(record["tls"], true);
    assert_eq!(sent.message_id, mail.message_id);
    assert_eq!(sent.reply, "250 2.0.0 Ok: queued as Q1");
    assert!(sent.encrypted);

    // envelope
    assert_eq!(record["mail_from"], "notices@helpline.example");
    assert_eq!(
        record["rcpt_tos"],
        serde_json::json!(["abuse@platform.example"])
    );

    // headers: the Message-ID exactly, the subject as encoded words that decode to the input
    assert!(eml_text.contains(&format!("\r\nMessage-ID: {}\r\n", mail.message_id)));
    let subject_at = eml_text.find("\r\nSubject: ").unwrap();
    assert!(
        eml_text[subject_at..].contains(" =?utf-8?b?"),
        "the subject's accented words are encoded words:\n{eml_text}"
    );
    let h = &record["headers"];
    assert_eq!(h["Message-ID"], mail.message_id);
    assert_eq!(h["Subject"], mail.subject);
    assert_eq!(h["Reply-To"], "notice+N-2026-0042@helpline.example");
    assert_eq!(
        h["From"],
        "Ligne d'écoute Rempart <notices@helpline.example>"
    );
    assert_eq!(h["To"], "Équipe modération <abuse@platform.example>");
    assert_eq!(h["Content-Language"], "fr");
    assert!(h["Date"].as_str().is_some_and(|d| !d.is_empty()));

    // the text, decoded, is the input (line breaks travel as CRLF); the JSON is the input bytes
    let parts = record["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(parts[0]["charset"], "utf-8");
    let text = String::from_utf8(server.part(parts[0]["file"].as_str().unwrap())).unwrap();
    assert_eq!(lf(&text), NOTICE_TEXT);
    assert_eq!(parts[1]["content_type"], "application/json");
    assert_eq!(parts[1]["filename"], "notice-N-2026-0042.json");
    assert_eq!(
        server.part(parts[1]["file"].as_str().unwrap()),
        NOTICE_JSON.as_bytes()
    );
}

#[tokio::test]
async fn opportunistic_sends_in_clear_when_starttls_is_not_offered() {
    let test = "opportunistic_sends_in_clear_when_starttls_is_not_offered";
    let Some(server) = Server::start(test, Options::default()) else {
        return;
    };
    let sent = mailer(server.config(TlsMode::Opportunistic))
        .send(&notice())
        .await
        .unwrap();
    assert!(!sent.encrypted);
    assert_eq!(server.message(1).1["tls"], false);
}

#[tokio::test]
async fn required_tls_fails_permanently_without_starttls() {
    let test = "required_tls_fails_permanently_without_starttls";
    let Some(server) = Server::start(test, Options::default()) else {
        return;
    };
    let e = mailer(server.config(TlsMode::Required))
        .send(&notice())
        .await
        .unwrap_err();
    assert_error(
        &e,
        ErrorClass::Permanent,
        Reason::StarttlsUnavailable,
        Stage::Starttls,
    );
    assert_eq!(server.received(), 0);
}

#[tokio::test]
async fn tls_none_sends_in_clear_to_a_starttls_server() {
    let test = "tls_none_sends_in_clear_to_a_starttls_server";
    let Some(server) = Server::start(
        test,
        Options {
            starttls: true,
            ..Default::default()
        },
    ) else {
        return;
    };
    let sent = mailer(server.config(TlsMode::None))
        .send(&notice())
        .await
        .unwrap();
    assert!(!sent.encrypted);
    assert_eq!(server.message(1).1["tls"], false);
}

#[tokio::test]
async fn implicit_tls_from_the_first_byte() {
    let test = "implicit_tls_from_the_first_byte";
    let options = Options {
        implicit_tls: true,
        ..Default::default()
    };
    let Some(server) = Server::start(test, options) else {
        return;
    };
    let sent = mailer(server.config(TlsMode::Wrapper))
        .send(&notice())
        .await
        .unwrap();
    assert!(sent.encrypted);
    assert_eq!(server.message(1).1["tls"], true);
}

#[tokio::test]
async fn an_untrusted_certificate_fails_permanently() {
    let test = "an_untrusted_certificate_fails_permanently";
    let Some(server) = Server::start(
        test,
        Options {
            starttls: true,
            ..Default::default()
        },
    ) else {
        return;
    };
    let mut config = server.config(TlsMode::Opportunistic);
    config.extra_root_pem = None;
    let e = mailer(config).send(&notice()).await.unwrap_err();
    assert_error(
        &e,
        ErrorClass::Permanent,
        Reason::TlsCertificate,
        Stage::Starttls,
    );
    assert_eq!(server.received(), 0, "no fallback to clear text");
}

#[tokio::test]
async fn auth_over_tls_with_credentials() {
    let test = "auth_over_tls_with_credentials";
    let options = Options {
        starttls: true,
        auth: Some(("rempart", "s3cret-pass")),
        ..Default::default()
    };
    let Some(server) = Server::start(test, options) else {
        return;
    };
    let mut config = server.config(TlsMode::Required);
    config.credentials = Some(("rempart".into(), Password::new("s3cret-pass")));
    mailer(config.clone()).send(&notice()).await.unwrap();
    let record = server.message(1).1;
    assert_eq!(record["auth_user"], "rempart");
    assert_eq!(record["tls"], true);

    config.credentials = Some(("rempart".into(), Password::new("hunter2")));
    let e = mailer(config).send(&notice()).await.unwrap_err();
    assert_error(&e, ErrorClass::Permanent, Reason::SmtpReply, Stage::Auth);
    assert_eq!(e.smtp_code(), Some(535));
    assert_says_nothing_personal(&e);
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn credentials_are_never_sent_in_clear() {
    let test = "credentials_are_never_sent_in_clear";
    let options = Options {
        auth: Some(("rempart", "s3cret-pass")),
        ..Default::default()
    };
    let Some(server) = Server::start(test, options) else {
        return;
    };
    let mut config = server.config(TlsMode::Opportunistic);
    config.credentials = Some(("rempart".into(), Password::new("s3cret-pass")));
    let e = mailer(config.clone()).send(&notice()).await.unwrap_err();
    assert_error(
        &e,
        ErrorClass::Permanent,
        Reason::AuthWithoutTls,
        Stage::Auth,
    );
    assert_eq!(server.received(), 0);

    config.tls = TlsMode::None;
    let e = Mailer::new(config).unwrap_err();
    assert_error(
        &e,
        ErrorClass::Permanent,
        Reason::InvalidConfig,
        Stage::Render,
    );
}

#[tokio::test]
async fn a_451_is_transient_and_the_same_bytes_go_through_on_retry() {
    let test = "a_451_is_transient_and_the_same_bytes_go_through_on_retry";
    let options = Options {
        starttls: true,
        fail: vec!["data:1:451 4.3.0 Try again later"],
        ..Default::default()
    };
    let Some(server) = Server::start(test, options) else {
        return;
    };
    let mailer = mailer(server.config(TlsMode::Required));
    let rendered = render(&notice()).unwrap();
    let e = mailer.send_rendered(&rendered).await.unwrap_err();
    assert_error(&e, ErrorClass::Transient, Reason::SmtpReply, Stage::Message);
    assert_eq!(
        (e.smtp_code(), e.enhanced_code()),
        (Some(451), Some("4.3.0"))
    );
    assert!(!e.maybe_delivered(), "the server said no");
    assert_eq!(server.received(), 0);

    mailer.send_rendered(&rendered).await.unwrap();
    assert_eq!(server.message(1).0, rendered.bytes());
}

#[tokio::test]
async fn a_550_is_permanent_and_names_no_address() {
    let test = "a_550_is_permanent_and_names_no_address";
    let options = Options {
        fail: vec!["rcpt:0:550 5.1.1 <abuse@platform.example>: Recipient address rejected"],
        ..Default::default()
    };
    let Some(server) = Server::start(test, options) else {
        return;
    };
    let e = mailer(server.config(TlsMode::Opportunistic))
        .send(&notice())
        .await
        .unwrap_err();
    assert_error(&e, ErrorClass::Permanent, Reason::SmtpReply, Stage::RcptTo);
    assert_eq!(
        (e.smtp_code(), e.enhanced_code()),
        (Some(550), Some("5.1.1"))
    );
    assert_says_nothing_personal(&e);
    assert_eq!(server.received(), 0);
}

#[tokio::test]
async fn connection_refused_is_transient() {
    // a port that was free a moment ago and that nobody listens on now
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = SmtpConfig::new("127.0.0.1", port);
    config.timeout = Duration::from_secs(5);
    let e = mailer(config).send(&notice()).await.unwrap_err();
    assert_error(
        &e,
        ErrorClass::Transient,
        Reason::ConnectionRefused,
        Stage::Connect,
    );
}

#[tokio::test]
async fn a_server_that_never_speaks_times_out_within_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // accepts and holds the connection, silent
    let holder = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let mut config = SmtpConfig::new("127.0.0.1", port);
    config.timeout = Duration::from_millis(500);
    let started = Instant::now();
    let e = mailer(config).send(&notice()).await.unwrap_err();
    let took = started.elapsed();
    holder.abort();
    assert_error(&e, ErrorClass::Transient, Reason::Timeout, Stage::Connect);
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "took {took:?}"
    );
}

#[tokio::test]
async fn a_server_that_hangs_up_at_once_is_transient() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let closer = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        drop(socket);
    });
    let mut config = SmtpConfig::new("127.0.0.1", port);
    config.timeout = Duration::from_secs(5);
    let e = mailer(config).send(&notice()).await.unwrap_err();
    closer.await.unwrap();
    assert_error(
        &e,
        ErrorClass::Transient,
        Reason::ConnectionLost,
        Stage::Connect,
    );
}

#[tokio::test]
async fn crlf_in_the_subject_is_refused_before_any_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let mut config = SmtpConfig::new("127.0.0.1", listener.local_addr().unwrap().port());
    config.tls = TlsMode::None;
    let mailer = mailer(config);
    for subject in [
        "N-1\r\nBcc: someone@elsewhere.example",
        "N-1\nX: y",
        "N-1\rX: y",
    ] {
        let mut mail = notice();
        mail.subject = subject.into();
        let e = mailer.send(&mail).await.unwrap_err();
        assert_error(
            &e,
            ErrorClass::Permanent,
            Reason::InvalidSubject,
            Stage::Render,
        );
    }
    let mut mail = notice();
    mail.to = vec!["x@y.example".parse().unwrap()];
    mail.to[0].name = Some("Name\r\nBcc: z@y.example".into());
    let e = mailer.send(&mail).await.unwrap_err();
    assert_error(
        &e,
        ErrorClass::Permanent,
        Reason::InvalidMailbox,
        Stage::Render,
    );
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "something connected"
    );
}
