use super::*;

#[test]
fn example_equals_defaults() {
    let s = Settings::load(None, std::iter::empty()).unwrap();
    assert_eq!(s, Settings::default());
    let parsed: Settings = toml::from_str(EXAMPLE).unwrap();
    assert_eq!(parsed, Settings::default());
    assert!(
        Role::ALL
            .iter()
            .all(|r| s.security.second_factor_required(*r)),
        "every role needs a second factor by default"
    );
}

#[test]
fn env_overrides_file() {
    let dir = std::env::temp_dir().join(format!("rempart-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("c.toml");
    std::fs::write(
        &f,
        "[server]\nlisten = \"0.0.0.0:9\"\n[security]\nsecure_cookies = false\n",
    )
    .unwrap();
    let env = vec![
        (
            "REMPART_SERVER_LISTEN".to_string(),
            "127.0.0.1:7".to_string(),
        ),
        (
            "REMPART_SECURITY_SECOND_FACTOR_ROLES".into(),
            "admin".into(),
        ),
        (
            "REMPART_HELPLINE_OPENING_HOURS_FILE".into(),
            "/h.toml".into(),
        ),
        (
            "REMPART_HELPLINE_RISK_LEXICON_FILE".into(),
            "/risk.toml".into(),
        ),
        (
            "REMPART_SERVER_TRUSTED_PROXIES".into(),
            "10.0.0.1, ::1".into(),
        ),
        ("OTHER".into(), "x".into()),
    ];
    let s = Settings::load(Some(&f), env.into_iter()).unwrap();
    assert_eq!(s.server.listen, "127.0.0.1:7".parse().unwrap());
    assert!(!s.security.secure_cookies);
    assert_eq!(s.security.second_factor_roles, vec![RoleName(Role::Admin)]);
    assert_eq!(
        s.security.roles_without_second_factor().len(),
        Role::ALL.len() - 1
    );
    assert_eq!(
        s.helpline.opening_hours_file,
        Some(PathBuf::from("/h.toml"))
    );
    assert_eq!(
        s.helpline.risk_lexicon_file,
        Some(PathBuf::from("/risk.toml"))
    );
    assert_eq!(
        s.server.trusted_proxies,
        vec![
            "10.0.0.1".parse::<IpAddr>().unwrap(),
            "::1".parse().unwrap()
        ],
        "proxies parsed once, at start"
    );
    std::fs::write(&f, "[widget]\nallowed_origins = [\"https://ok.example\", \"https://evil.example/path; script-src *\"]\n").unwrap();
    assert!(
        Settings::load(Some(&f), std::iter::empty()).is_err(),
        "an origin cannot smuggle CSP"
    );
    std::fs::write(&f, "no_such_key = 1\n").unwrap();
    assert!(Settings::load(Some(&f), std::iter::empty()).is_err());
    std::fs::write(&f, "[server]\nlisten = \"not an address\"\n").unwrap();
    assert!(Settings::load(Some(&f), std::iter::empty()).is_err());
    std::fs::write(&f, "[security]\nsecond_factor_roles = [\"king\"]\n").unwrap();
    assert!(Settings::load(Some(&f), std::iter::empty()).is_err());
    std::fs::write(&f, "[delivery]\ntimeout_seconds = 30\nlease_seconds = 30\n").unwrap();
    assert!(
        Settings::load(Some(&f), std::iter::empty()).is_err(),
        "a lease no longer than an attempt could be taken over while the attempt runs"
    );
    std::fs::write(&f, "[delivery]\ntimeout_seconds = 2\nlease_seconds = 3\n").unwrap();
    let s = Settings::load(Some(&f), std::iter::empty()).unwrap();
    assert_eq!(s.delivery.lease_seconds, 3);
    std::fs::write(&f, "[secrets]\nmaster_key = \"short\"\n").unwrap();
    assert!(Settings::load(Some(&f), std::iter::empty()).is_err());
    let env = vec![(
        "REMPART_SECURITY_SESSION_IDLE_MINUTES".to_string(),
        "abc".to_string(),
    )];
    assert!(Settings::load(None, env.into_iter()).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn secrets_never_print() {
    let mut s = Settings::default();
    s.secrets.master_key = Secret::new("a-very-secret-master-key-of-32-chars!");
    s.database.url = Secret::new("postgres://u:hunter2@h/db");
    let shown = format!("{s:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("very-secret"));
}

#[test]
fn public_url_host() {
    let u = PublicUrl::try_from("https://Console.Helpline.example:8443/".to_string()).unwrap();
    assert_eq!(u.as_str(), "https://console.helpline.example:8443");
    assert_eq!(u.host(), "console.helpline.example");
    assert!(PublicUrl::try_from("https://x.example/path".to_string()).is_err());
    assert_eq!(
        PublicUrl::for_listen("127.0.0.1:9000".parse().unwrap()).as_str(),
        "http://localhost:9000"
    );
}

#[test]
fn platform_secrets_come_from_the_file_or_the_environment_and_never_print() {
    let dir = std::env::temp_dir().join(format!("rempart-settings-ps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("r.toml");
    std::fs::write(
        &f,
        "[secrets.platforms]\nsnapchat_coop = \"from-file\"\ninstagram_http_json = \"file-value\"\n",
    )
    .unwrap();
    let env = vec![(
        "REMPART_PLATFORM_SECRET_INSTAGRAM_HTTP_JSON".to_owned(),
        "whsec_from_env".to_owned(),
    )];
    let s = Settings::load(Some(&f), env.into_iter()).unwrap();
    let p = &s.secrets.platforms;
    assert_eq!(p["snapchat_coop"].expose(), "from-file");
    assert_eq!(
        p["instagram_http_json"].expose(),
        "whsec_from_env",
        "the environment wins"
    );
    let shown = format!("{s:?}");
    assert!(!shown.contains("from-file") && !shown.contains("whsec_from_env"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn smtp_settings_from_the_file_and_the_environment() {
    let d = Settings::default().smtp;
    assert!(!d.enabled(), "e-mail channels are off by default");
    assert_eq!(
        (d.port, d.tls, d.timeout_seconds),
        (587, SmtpTls::Required, 30)
    );

    let dir = std::env::temp_dir().join(format!("rempart-settings-smtp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("m.toml");
    std::fs::write(
        &f,
        "[smtp]\nhost = \"smtp.helpline.example\"\nport = 465\ntls = \"wrapper\"\n\
         username = \"rempart\"\npassword = \"from-file\"\nfrom = \"notices@helpline.example\"\n\
         timeout_seconds = 20\nextra_root_pem_file = \"/etc/ca.pem\"\nhello_name = \"rempart.helpline.example\"\n",
    )
    .unwrap();
    let env = vec![
        ("REMPART_SMTP_PASSWORD".to_owned(), "hunter2-env".to_owned()),
        ("REMPART_SMTP_TLS".to_owned(), "starttls".to_owned()),
        ("REMPART_SMTP_PORT".to_owned(), "587".to_owned()),
    ];
    let s = Settings::load(Some(&f), env.into_iter()).unwrap();
    let m = &s.smtp;
    assert!(m.enabled());
    assert_eq!(m.host, "smtp.helpline.example");
    assert_eq!(
        (m.port, m.tls),
        (587, SmtpTls::Starttls),
        "the environment wins"
    );
    assert_eq!(m.password.expose(), "hunter2-env");
    assert_eq!(m.from, "notices@helpline.example");
    assert_eq!(m.timeout_seconds, 20);
    assert_eq!(m.extra_root_pem_file, Some(PathBuf::from("/etc/ca.pem")));
    assert_eq!(m.hello_name, "rempart.helpline.example");
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("from-file"),
        "{shown}"
    );
    let env = vec![(
        "REMPART_SMTP_EXTRA_ROOT_PEM_FILE".to_owned(),
        "/env/ca.pem".to_owned(),
    )];
    let s = Settings::load(None, env.into_iter()).unwrap();
    assert_eq!(
        s.smtp.extra_root_pem_file,
        Some(PathBuf::from("/env/ca.pem"))
    );

    for bad in [
        "[smtp]\nno_such_key = 1\n",
        "[smtp]\ntls = \"sometimes\"\n",
        "[smtp]\ntimeout_seconds = 101\n",
        "[smtp]\ntimeout_seconds = 0\n",
        "[smtp]\nport = 0\n",
        "[smtp]\nport = 70000\n",
        "[smtp]\ntls = \"none\"\nusername = \"u\"\npassword = \"p\"\n",
        "[smtp]\nusername = \"u\"\n",
        "[smtp]\nfrom = \"not an address\"\n",
        "[smtp]\nhost = \"smtp.example\\r\\nX\"\n",
    ] {
        std::fs::write(&f, bad).unwrap();
        assert!(
            Settings::load(Some(&f), std::iter::empty()).is_err(),
            "refused: {bad}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_helpline_risk_lexicon_is_loaded_from_its_file_or_the_start_fails() {
    use rempart_domain::chat::RiskKind;
    let dir = std::env::temp_dir().join(format!("rempart-risk-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = Settings::default();
    let defaults = crate::risk_lexicon(&s).unwrap();
    assert_eq!(
        defaults.assess("je veux mourir"),
        vec![RiskKind::SuicidalThoughts]
    );
    let f = dir.join("risk.toml");
    std::fs::write(
        &f,
        "[[signal]]\nkind = \"imminent_publication\"\nfr = [\"compte fisha\"]\n",
    )
    .unwrap();
    s.helpline.risk_lexicon_file = Some(f.clone());
    let own = crate::risk_lexicon(&s).unwrap();
    assert_eq!(
        own.assess("un compte fisha"),
        vec![RiskKind::ImminentPublication]
    );
    std::fs::write(&f, "[[signal]]\nkind = \"nope\"\n").unwrap();
    let err = crate::risk_lexicon(&s).unwrap_err().to_string();
    assert!(err.contains("risk.toml") && err.contains("nope"), "{err}");
    s.helpline.risk_lexicon_file = Some(dir.join("missing.toml"));
    assert!(crate::risk_lexicon(&s).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
