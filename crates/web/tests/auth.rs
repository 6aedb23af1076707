//! Staff authentication: lock-out, sessions, second factor, disabling, fixation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use rempart_app::settings::RoleName;

use rempart_domain::policy::Role;
use serde_json::{Value, json};
use support::*;

async fn login_status(t: &TestApp, email: &str, pw: &str) -> (u16, Value) {
    let r = t
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": pw}),
        )
        .await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn lockout_refuses_the_next_attempt_and_expires_on_schedule() {
    let t = TestApp::spawn_with(|s| {
        s.security.lockout_free_attempts = 3;
        s.security.lockout_base_seconds = 60;
    })
    .await;
    let c = t.staff(Role::Counsellor, None).await;
    for _ in 0..2 {
        assert_eq!(login_status(&t, &c.email, "wrong password").await.0, 401);
    }
    // third failure: the lock starts (60 s)
    assert_eq!(login_status(&t, &c.email, "wrong password").await.0, 401);
    // the next attempt is refused even with the right password
    let (st, v) = login_status(&t, &c.email, PASSWORD).await;
    assert_eq!(st, 429);
    assert_eq!(v["error"], "account_locked");
    t.clock.advance(59_000);
    assert_eq!(
        login_status(&t, &c.email, PASSWORD).await.0,
        429,
        "still locked at 59 s"
    );
    t.clock.advance(1_000);
    assert_eq!(
        login_status(&t, &c.email, PASSWORD).await.0,
        200,
        "unlocked at 60 s"
    );
    // a success resets the counter: one failure does not lock again
    assert_eq!(login_status(&t, &c.email, "wrong password").await.0, 401);
    assert_eq!(login_status(&t, &c.email, PASSWORD).await.0, 200);
}

#[tokio::test]
async fn lock_doubles_with_each_further_failure() {
    let t = TestApp::spawn_with(|s| {
        s.security.lockout_free_attempts = 1;
        s.security.lockout_base_seconds = 10;
    })
    .await;
    let c = t.staff(Role::Counsellor, None).await;
    assert_eq!(login_status(&t, &c.email, "wrong password").await.0, 401); // lock 10 s
    t.clock.advance(10_000);
    assert_eq!(login_status(&t, &c.email, "wrong password").await.0, 401); // lock 20 s
    t.clock.advance(19_000);
    assert_eq!(login_status(&t, &c.email, PASSWORD).await.0, 429);
    t.clock.advance(1_000);
    assert_eq!(login_status(&t, &c.email, PASSWORD).await.0, 200);
}

#[tokio::test]
async fn unknown_accounts_and_wrong_passwords_look_alike() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let a = login_status(&t, "nobody@test.invalid", "whatever pw").await;
    let b = login_status(&t, &c.email, "whatever pw").await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_or_too_old() {
    let t = TestApp::spawn_with(|s| {
        s.security.session_idle_minutes = 15;
        s.security.session_absolute_hours = 1;
    })
    .await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    t.clock.advance(14 * 60_000);
    assert_eq!(
        t.get("/api/v1/me", Some(&tok)).await.status(),
        200,
        "activity at 14 min"
    );
    t.clock.advance(14 * 60_000);
    assert_eq!(
        t.get("/api/v1/me", Some(&tok)).await.status(),
        200,
        "activity resets the idle limit"
    );
    t.clock.advance(15 * 60_000 + 1);
    assert_eq!(
        t.get("/api/v1/me", Some(&tok)).await.status(),
        401,
        "idle 15 min: ended"
    );

    let tok = t.token(&c).await;
    for _ in 0..5 {
        t.clock.advance(12 * 60_000);
        assert_eq!(t.get("/api/v1/me", Some(&tok)).await.status(), 200);
    }
    t.clock.advance(12 * 60_000);
    assert_eq!(
        t.get("/api/v1/me", Some(&tok)).await.status(),
        401,
        "absolute limit reached though active"
    );
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_at_once() {
    let t = TestApp::spawn().await;
    let admin = t.staff(Role::Admin, None).await;
    let c = t.staff(Role::Counsellor, None).await;
    let ctok = t.token(&c).await;
    let (cookie, _) = t.console_login(&c).await;
    let atok = t.token(&admin).await;
    assert_eq!(
        t.req(
            reqwest::Method::POST,
            &format!("/api/v1/staff/{}/disable", c.id),
            Some(&atok)
        )
        .send()
        .await
        .unwrap()
        .status(),
        204
    );
    assert_eq!(t.get("/api/v1/me", Some(&ctok)).await.status(), 401);
    let page = t
        .http
        .get(t.url("/cases"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303, "the console session ended too");
    assert_eq!(
        login_status(&t, &c.email, PASSWORD).await.0,
        401,
        "cannot log in again"
    );
    // re-enabled: can log in
    assert_eq!(
        t.req(
            reqwest::Method::POST,
            &format!("/api/v1/staff/{}/enable", c.id),
            Some(&atok)
        )
        .send()
        .await
        .unwrap()
        .status(),
        204
    );
    assert_eq!(login_status(&t, &c.email, PASSWORD).await.0, 200);
    // an admin cannot disable itself
    assert_eq!(
        t.req(
            reqwest::Method::POST,
            &format!("/api/v1/staff/{}/disable", admin.id),
            Some(&atok)
        )
        .send()
        .await
        .unwrap()
        .status(),
        422
    );
}

#[tokio::test]
async fn logout_ends_the_token_and_a_new_login_gets_a_new_one() {
    let t = TestApp::spawn().await;
    let c = t.staff(Role::Counsellor, None).await;
    let tok = t.token(&c).await;
    assert_eq!(
        t.req(reqwest::Method::POST, "/api/v1/auth/logout", Some(&tok))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        t.get("/api/v1/me", Some(&tok)).await.status(),
        401,
        "token reused after logout"
    );
    let tok2 = t.token(&c).await;
    assert_ne!(tok, tok2);
    assert_eq!(
        t.get("/api/v1/me", Some(&tok)).await.status(),
        401,
        "the old token stays dead after a new login"
    );

    // console: a session cookie planted before login is not adopted (no fixation)
    let planted = "a".repeat(64);
    let page = t.http.get(t.url("/login")).send().await.unwrap();
    let lc = set_cookie(&page, "rempart_login_csrf").unwrap();
    let r = t
        .http
        .post(t.url("/login"))
        .header(
            "cookie",
            format!("rempart_session={planted}; rempart_login_csrf={lc}"),
        )
        .form(&[
            ("email", c.email.as_str()),
            ("password", PASSWORD),
            ("login_csrf", lc.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let issued = set_cookie(&r, "rempart_session").unwrap();
    assert_ne!(issued, planted);
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    // logging out of the console clears the cookie and ends the session
    let (cookie, csrf) = t.console_login(&c).await;
    let r = t
        .http
        .post(t.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let again = t
        .http
        .get(t.url("/cases"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["location"], "/login");
}

#[tokio::test]
async fn secure_cookie_outside_the_demo() {
    let t = TestApp::spawn_with(|s| s.security.secure_cookies = true).await;
    let page = t.http.get(t.url("/login")).send().await.unwrap();
    let set = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.contains("; Secure"), "{set}");
    assert!(
        page.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
}

#[tokio::test]
async fn totp_enrolment_login_replay_and_recovery_codes() {
    let t = TestApp::spawn_with(|s| {
        s.security.second_factor_roles = vec![RoleName(Role::Supervisor), RoleName(Role::Admin)]
    })
    .await;
    let sup = t.staff(Role::Supervisor, None).await;
    // without a second factor the supervisor reaches enrolment only
    let tok = t.token(&sup).await;
    let r = t.get("/api/v1/cases", Some(&tok)).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "second_factor_required"
    );
    let (cookie, csrf) = t.console_login(&sup).await;
    let r = t
        .http
        .get(t.url("/cases"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/account");

    // enrol through the console
    let r = t
        .http
        .post(t.url("/account/totp"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("step", "begin")])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    let qr = html
        .split("id=\"totp-qr\"")
        .nth(1)
        .expect("the QR code is shown")
        .split("</figure>")
        .next()
        .unwrap();
    assert!(
        qr.contains("<svg") && qr.contains("<path"),
        "rendered here, as SVG"
    );
    let secret = attr_after(&html, "id=\"totp-secret\">")
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 32);
    let wrong = t
        .http
        .post(t.url("/account/totp"))
        .header("cookie", &cookie)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("step", "confirm"),
            ("code", "123456"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422);
    let code = totp_now(&t, &secret);
    let r = t
        .http
        .post(t.url("/account/totp"))
        .header("cookie", &cookie)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("step", "confirm"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let upgraded = set_cookie(&r, "rempart_session").expect("a new session cookie");
    let html = r.text().await.unwrap();
    let recovery: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let r = t
        .http
        .get(t.url("/cases"))
        .header("cookie", format!("rempart_session={upgraded}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "enrolment gives a new, full session");
    let r = t
        .http
        .get(t.url("/cases"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/login",
        "the session that existed before the factor ended"
    );

    // a new login needs the code; the same code cannot be replayed in its window
    let tok = t.token(&sup).await;
    assert_eq!(t.get("/api/v1/cases", Some(&tok)).await.status(), 401);
    t.clock.advance(30_000);
    let code = totp_now(&t, &secret);
    let r = t
        .post_json("/api/v1/auth/totp", Some(&tok), json!({"code": code}))
        .await;
    assert_eq!(r.status(), 200);
    let full = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(full, tok, "a new token once the factor passed");
    assert_eq!(t.get("/api/v1/cases", Some(&full)).await.status(), 200);
    assert_eq!(
        t.get("/api/v1/cases", Some(&tok)).await.status(),
        401,
        "the pre-factor token never becomes a full one"
    );
    let tok2 = t.token(&sup).await;
    let r = t
        .post_json("/api/v1/auth/totp", Some(&tok2), json!({"code": code}))
        .await;
    assert_eq!(r.status(), 401, "replayed code refused");
    // a recovery code works once
    let tok2 = t.token(&sup).await;
    let rc = recovery[0].clone();
    assert_eq!(
        t.post_json("/api/v1/auth/totp", Some(&tok2), json!({"code": rc}))
            .await
            .status(),
        200
    );
    let tok3 = t.token(&sup).await;
    assert_eq!(
        t.post_json(
            "/api/v1/auth/totp",
            Some(&tok3),
            json!({"code": recovery[0]})
        )
        .await
        .status(),
        401
    );
    assert_eq!(
        t.post_json(
            "/api/v1/auth/totp",
            Some(&tok3),
            json!({"code": recovery[1].to_lowercase()})
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn login_without_second_factor_fails_for_every_role_that_has_one() {
    let t = TestApp::spawn().await;
    for role in Role::ALL {
        let s = t.staff(*role, None).await;
        let tok = t.token(&s).await;
        let (secret, _) = {
            let auth = t.app.authenticate(&tok).await.unwrap();
            t.app.begin_totp_enrolment(&auth).await.unwrap()
        };
        let auth = t.app.authenticate(&tok).await.unwrap();
        t.app
            .confirm_totp_enrolment(&auth, &totp_now(&t, &secret))
            .await
            .unwrap();
        let fresh = t.token(&s).await;
        let r = t.get("/api/v1/me", Some(&fresh)).await;
        assert_eq!(
            r.status(),
            401,
            "{role:?} reached the API without its second factor"
        );
        let (cookie, _) = {
            let page = t.http.get(t.url("/login")).send().await.unwrap();
            let lc = set_cookie(&page, "rempart_login_csrf").unwrap();
            let r = t
                .http
                .post(t.url("/login"))
                .header("cookie", format!("rempart_login_csrf={lc}"))
                .form(&[
                    ("email", s.email.as_str()),
                    ("password", PASSWORD),
                    ("login_csrf", lc.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["location"], "/login/totp");
            (
                format!(
                    "rempart_session={}",
                    set_cookie(&r, "rempart_session").unwrap()
                ),
                (),
            )
        };
        let r = t
            .http
            .get(t.url("/account"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["location"],
            "/login/totp",
            "{role:?}: account page before the second factor"
        );
        t.clock.advance(31_000);
    }
}
