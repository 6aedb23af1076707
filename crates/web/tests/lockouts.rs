//! Lock-outs tried as an attacker would: many attempts at once, for an account and for an
//! address that has none, and the second factor's own counter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rempart_domain::policy::Role;
use rempart_storage::{AuditEntry, AuditFilter};
use serde_json::{Value, json};
use support::*;

async fn attempts_at_once(t: &TestApp, email: &str, n: usize) -> Vec<(u16, Value)> {
    let mut tasks = vec![];
    for _ in 0..n {
        let (http, url, email) = (
            t.http.clone(),
            t.url("/api/v1/auth/login"),
            email.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .json(&json!({"email": email, "password": "wrong password!"}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut out = vec![];
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn count(t: &TestApp, action: &str) -> usize {
    t.store
        .audit_events(&AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == action)
        .count()
}

#[tokio::test]
async fn twenty_wrong_passwords_at_once_are_five_checks_then_a_lock() {
    let t = TestApp::spawn_with(|s| {
        s.security.lockout_free_attempts = 5;
        s.security.lockout_base_seconds = 60;
    })
    .await;
    let c = t.staff(Role::Counsellor, None).await;
    let answers = attempts_at_once(&t, &c.email, 20).await;
    let checked = answers.iter().filter(|(s, _)| *s == 401).count();
    let locked = answers.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(
        (checked, locked),
        (5, 15),
        "only the free attempts are checked, whatever arrives at once: {answers:?}"
    );
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s == 429)
            .all(|(_, v)| v["error"] == "account_locked")
    );
    assert_eq!(
        count(&t, "auth.login_failed").await,
        5,
        "every check counted"
    );
    assert_eq!(count(&t, "auth.login_refused").await, 15);
    // the right password is refused too until the lock ends
    let r = t
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": c.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), 429);
    t.clock.advance(60_000);
    let r = t
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": c.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_locked_address_answers_alike_whether_or_not_it_has_an_account() {
    let t = TestApp::spawn_with(|s| {
        s.security.lockout_free_attempts = 3;
        s.security.lockout_base_seconds = 30;
    })
    .await;
    let c = t.staff(Role::Counsellor, None).await;
    let known = attempts_at_once(&t, &c.email, 6).await;
    let unknown = attempts_at_once(&t, "nobody-here@test.invalid", 6).await;
    let shape = |v: &[(u16, Value)]| {
        let mut s: Vec<(u16, String, String)> = v
            .iter()
            .map(|(st, b)| {
                (
                    *st,
                    b["error"].as_str().unwrap().to_owned(),
                    b["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        shape(&known),
        shape(&unknown),
        "no account enumeration through the lock"
    );
    assert!(known.iter().any(|(s, _)| *s == 429));
}

/// Enrols a TOTP secret for an account directly (as its enrolment would).
async fn with_totp(t: &TestApp, role: Role) -> (rempart_storage::StaffRecord, String) {
    let s = t.staff(role, None).await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".to_owned();
    t.store
        .set_totp(
            s.id,
            Some(secret.clone()),
            true,
            &[],
            &AuditEntry::new(
                t.app.now(),
                Some(s.id),
                rempart_storage::testing::event("auth.totp_enrolled"),
            ),
        )
        .await
        .unwrap();
    (s, secret)
}

async fn codes_at_once(t: &TestApp, token: &str, n: usize) -> Vec<u16> {
    let mut tasks = vec![];
    for i in 0..n {
        let (http, url, token) = (t.http.clone(), t.url("/api/v1/auth/totp"), token.to_owned());
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"code": format!("{:06}", 100_000 + i)}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut out = vec![];
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn forty_wrong_codes_at_once_end_the_half_open_session_after_three_checks() {
    let t = TestApp::spawn_with(|s| {
        s.security.second_factor_session_attempts = 3;
        s.security.lockout_free_attempts = 5;
    })
    .await;
    let (s, secret) = with_totp(&t, Role::Supervisor).await;
    let tok = t.token(&s).await;
    let answers = codes_at_once(&t, &tok, 40).await;
    assert!(answers.iter().all(|s| *s == 401), "{answers:?}");
    assert_eq!(
        count(&t, "auth.second_factor_failed").await,
        3,
        "three codes checked in this session, the others refused unchecked"
    );
    // the session is over: even the right code does nothing with it
    let r = t
        .post_json(
            "/api/v1/auth/totp",
            Some(&tok),
            json!({"code": totp_now(&t, &secret)}),
        )
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unauthenticated");
}

#[tokio::test]
async fn a_password_success_does_not_reset_the_second_factor_counter() {
    let t = TestApp::spawn_with(|s| {
        s.security.second_factor_session_attempts = 3;
        s.security.lockout_free_attempts = 5;
        s.security.lockout_base_seconds = 300;
    })
    .await;
    let (s, secret) = with_totp(&t, Role::Counsellor).await;
    // three sessions, with two wrong codes each: the password is right every time
    let mut last = vec![];
    for _ in 0..3 {
        let tok = t.token(&s).await;
        last = codes_at_once(&t, &tok, 2).await;
    }
    assert_eq!(count(&t, "auth.second_factor_failed").await, 5);
    last.sort();
    assert_eq!(
        last,
        vec![401, 429],
        "the fifth wrong code locks the second factor, across sessions"
    );
    // the account's second factor is locked now: a right code in a new session is refused
    let tok = t.token(&s).await;
    let r = t
        .post_json(
            "/api/v1/auth/totp",
            Some(&tok),
            json!({"code": totp_now(&t, &secret)}),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "account_locked");
    t.clock.advance(300_000);
    let tok = t.token(&s).await;
    let r = t
        .post_json(
            "/api/v1/auth/totp",
            Some(&tok),
            json!({"code": totp_now(&t, &secret)}),
        )
        .await;
    assert_eq!(r.status(), 200, "the lock expires");
}

#[tokio::test]
async fn second_factor_checks_are_limited_per_address() {
    let t = TestApp::spawn_with(|s| {
        s.security.logins_per_minute = 4;
        s.security.second_factor_session_attempts = 10;
        s.security.lockout_free_attempts = 10;
    })
    .await;
    let (s, _) = with_totp(&t, Role::Counsellor).await;
    let tok = t.token(&s).await;
    let mut statuses = vec![];
    for i in 0..5 {
        let r = t
            .post_json(
                "/api/v1/auth/totp",
                Some(&tok),
                json!({"code": format!("{:06}", i)}),
            )
            .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test]
async fn failures_are_forgotten_after_a_day_without_attempts() {
    let t = TestApp::spawn_with(|s| {
        s.security.lockout_free_attempts = 3;
        s.security.lockout_base_seconds = 600;
    })
    .await;
    let c = t.staff(Role::Counsellor, None).await;
    let login = |pw: &'static str| {
        let (t, email) = (&t, c.email.clone());
        async move {
            t.post_json(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": pw}),
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(login("wrong password!").await, 401);
    assert_eq!(login("wrong password!").await, 401);
    t.clock.advance(25 * 3_600_000);
    assert_eq!(login("wrong password!").await, 401);

    assert_eq!(login("wrong password!").await, 401);
    assert_eq!(
        login(PASSWORD).await,
        200,
        "two failures a day apart are not three in a row"
    );
}
