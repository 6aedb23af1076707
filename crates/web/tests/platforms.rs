//! The platform directory page (administrators): channels in order, secrets configured or
//! missing (never their values), and a directory file loaded again when it changes, with a
//! file that does not load leaving the previous directory in place.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_domain::policy::Role;
use std::time::Duration;
use support::*;

const SECRET_VALUE: &str = "coop-key-that-must-never-show-9f3a";

fn platforms_toml(extra_name: &str) -> String {
    format!(
        r#"
[[platform]]
code = "snapchat"
name = "Snapchat"
expected_hours = 24
id_hint_fr = "pseudo"
id_hint_en = "username"

[platform.delays]
sextortion = 4

[[platform.channel]]
kind = "coop"
url = "https://coop.snapchat.example.invalid"
secret = "snapchat_coop"
reporter_type_id = "t"
reporter_id = "r"
item_type_id = "i"

[[platform.channel]]
kind = "email"
address = "trust@snapchat.example.invalid"

[[platform]]
code = "vinted"
name = "{extra_name}"
expected_hours = 72
id_hint_fr = "lien"
id_hint_en = "link"

[[platform.channel]]
kind = "http_json"
url = "https://push.vinted.example.invalid/notices"
secret = "vinted_push"
"#
    )
}

async fn page(t: &TestApp, cookie: &str) -> String {
    let r = t
        .http
        .get(t.url("/admin/platforms"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// Waits for the node to load the directory again (the watcher's event, not a guess).
async fn next_load(rx: &mut tokio::sync::watch::Receiver<u64>) {
    tokio::time::timeout(Duration::from_secs(10), rx.changed())
        .await
        .expect("the directory file change was seen within 10 s")
        .unwrap();
}

#[tokio::test]
async fn the_directory_page_shows_channels_and_which_secrets_are_missing() {
    let t = TestApp::spawn_with(|s| {
        s.secrets.platforms.insert(
            "snapchat_coop".into(),
            rempart_app::secret::Secret::new(SECRET_VALUE),
        );
    })
    .await;
    let admin = t.staff(Role::Admin, None).await;
    let (cookie, _) = t.console_login(&admin).await;
    let html = page(&t, &cookie).await;
    // the embedded defaults: every platform, its channels in order
    assert!(html.contains("id=\"platform-snapchat\""));
    assert!(html.contains("id=\"platform-instagram\""));
    assert!(html.contains("Annuaire par défaut"));
    let snap = &html[html.find("id=\"platform-snapchat\"").unwrap()..];
    let snap = &snap[..snap.find("</tr>").unwrap()];
    let coop = snap.find("data-kind=\"coop\"").unwrap();
    let email = snap.find("data-kind=\"email\"").unwrap();
    assert!(coop < email, "the priority channel first");
    assert!(snap.contains("secret configuré"));
    assert!(snap.contains("clé publique des retours absente"));
    let ig = &html[html.find("id=\"platform-instagram\"").unwrap()..];
    let ig = &ig[..ig.find("</tr>").unwrap()];
    assert!(ig.contains("secret « instagram_http_json » manquant"));
    assert!(!html.contains(SECRET_VALUE), "a secret's value never shows");
    // nobody else sees it
    let sup = t.staff(Role::Supervisor, None).await;
    let (sc, _) = t.console_login(&sup).await;
    let r = t
        .http
        .get(t.url("/admin/platforms"))
        .header("cookie", &sc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn an_edited_directory_file_is_loaded_without_a_restart_and_a_broken_one_is_not() {
    let dir = std::env::temp_dir().join(format!(
        "rempart-platforms-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platforms.toml");
    std::fs::write(&file, platforms_toml("Vinted")).unwrap();
    let f = file.clone();
    let t = TestApp::spawn_with(move |s| s.helpline.platforms_file = Some(f)).await;
    assert_eq!(t.app.directory().platforms().len(), 2);
    let mut changes = t.app.directory_changes();
    let admin = t.staff(Role::Admin, None).await;
    let (cookie, csrf) = t.console_login(&admin).await;
    let before = page(&t, &cookie).await;
    assert!(before.contains(">Vinted<"));
    // the file's path is shown (HTML-escaped: look for its folder's name)
    let folder = dir.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(before.contains(&folder));

    // an edit is picked up by the node's watcher
    std::fs::write(&file, platforms_toml("Vinted (seconde main)")).unwrap();
    next_load(&mut changes).await;
    let after = page(&t, &cookie).await;
    assert!(
        after.contains(">Vinted (seconde main)<"),
        "the edit is live"
    );
    assert!(t.app.directory().platform("vinted").is_some());

    // a broken edit: the previous directory stays, the page says why
    std::fs::write(&file, "[[platform]]\ncode = \"Not A Code\"\n").unwrap();
    next_load(&mut changes).await;
    let broken = page(&t, &cookie).await;
    assert!(
        broken.contains(">Vinted (seconde main)<"),
        "the previous one stays"
    );
    assert!(broken.contains("id=\"platforms-error\""));
    assert_eq!(t.app.directory().platforms().len(), 2);

    // fixed, then reloaded by hand: audited
    std::fs::write(&file, platforms_toml("Vinted")).unwrap();
    let r = t
        .http
        .post(t.url("/admin/platforms/reload"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Annuaire rechargé."));
    assert!(!html.contains("id=\"platforms-error\""));
    let audited = t
        .store
        .audit_events(&rempart_storage::AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    let admin_id = admin.id.to_string();
    assert!(
        audited.iter().any(|e| e.action == "directory.reloaded"
            && e.actor_id.as_deref() == Some(admin_id.as_str())),
        "the reload by hand is in the audit trail"
    );
    // without the CSRF token: refused
    let r = t
        .http
        .post(t.url("/admin/platforms/reload"))
        .header("cookie", &cookie)
        .form(&[("_csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let _ = std::fs::remove_dir_all(&dir);
}
