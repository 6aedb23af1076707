//! New accounts by invitation (the person sets their own password and second factor; the
//! administrator never knows a secret), and grants of supervisor or administrator that a
//! second administrator approves when the helpline has two.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rempart_app::settings::RoleName;
use rempart_domain::policy::Role;
use rempart_storage::AuditFilter;
use serde_json::{Value, json};
use support::*;

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

async fn actions(t: &TestApp) -> Vec<String> {
    t.store
        .audit_events(&AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn an_invited_person_sets_their_own_password_once() {
    let t = TestApp::spawn_with(|s| {
        // outside the demo every role needs a second factor
        s.security.second_factor_roles = Role::ALL.iter().map(|r| RoleName(*r)).collect();
    })
    .await;
    let admin = t.staff(Role::Admin, None).await;
    // the operator's first administrator has no second factor yet: enrol it directly
    t.store
        .tamper_for_tests("UPDATE staff SET totp_enabled = 1, totp_secret = 'JBSWY3DPEHPK3PXP' WHERE role = 'admin'")
        .await;
    let atok = t.token(&admin).await;
    let code = totp_now(&t, "JBSWY3DPEHPK3PXP");
    let full: Value = t
        .post_json("/api/v1/auth/totp", Some(&atok), json!({"code": code}))
        .await
        .json()
        .await
        .unwrap();
    let atok = full["token"].as_str().unwrap().to_owned();

    // no account is created with a password chosen by an administrator any more
    let r = t
        .post_json(
            "/api/v1/staff",
            Some(&atok),
            json!({"email": "x@test.invalid", "display_name": "X", "role": "counsellor", "password": "chosen by the admin"}),
        )
        .await;
    assert!(r.status() == 405 || r.status() == 404, "{}", r.status());
    let r = t
        .post_json(
            "/api/v1/invitations",
            Some(&atok),
            json!({"email": "Lea@Test.invalid", "display_name": "Léa", "role": "counsellor", "password": "sneaked in"}),
        )
        .await;
    assert_eq!(r.status(), 422, "an invitation carries no password");
    let r = t
        .post_json(
            "/api/v1/invitations",
            Some(&atok),
            json!({"email": "Lea@Test.invalid", "display_name": "Léa", "role": "counsellor"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let inv: Value = r.json().await.unwrap();
    assert_eq!(inv["pending_approval"], false);
    let link = inv["link"].as_str().unwrap();
    assert!(link.contains("/invite/"), "{link}");
    let token = token_of(link);
    // the same address cannot be invited twice while the first is open
    let r = t
        .post_json(
            "/api/v1/invitations",
            Some(&atok),
            json!({"email": "lea@test.invalid", "display_name": "Léa", "role": "lawyer"}),
        )
        .await;
    assert_eq!(r.status(), 409);

    // the link's page names the person; the person chooses a password
    let page = t.get(&format!("/invite/{token}"), None).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Léa"));
    let r = t
        .post_json(
            "/api/v1/invitations/accept",
            None,
            json!({"token": token, "password": "short"}),
        )
        .await;
    assert_eq!(r.status(), 422, "at least 12 characters");
    let r = t
        .post_json(
            "/api/v1/invitations/accept",
            None,
            json!({"token": token, "password": "Léa's own long passphrase"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    assert_eq!(
        s["state"], "needs_enrolment",
        "the second factor comes next: nothing else is reachable"
    );
    let tok = s["token"].as_str().unwrap();
    let r = t.get("/api/v1/cases", Some(tok)).await;
    assert_eq!(r.status(), 401);
    // once: the link is spent
    assert_eq!(t.get(&format!("/invite/{token}"), None).await.status(), 404);
    let r = t
        .post_json(
            "/api/v1/invitations/accept",
            None,
            json!({"token": token, "password": "another long passphrase"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    // the account logs in with the password its person chose
    let r = t
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "lea@test.invalid", "password": "Léa's own long passphrase"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let staff: Value = t
        .get("/api/v1/staff", Some(&atok))
        .await
        .json()
        .await
        .unwrap();
    let lea = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "lea@test.invalid")
        .expect("the account exists");
    assert_eq!(lea["role"], "counsellor");
    let acts = actions(&t).await;
    assert!(acts.contains(&"staff.invited".to_owned()));
    assert!(acts.contains(&"staff.invitation_accepted".to_owned()));
}

#[tokio::test]
async fn an_invitation_expires_and_can_be_withdrawn() {
    let t = TestApp::spawn_with(|s| s.security.invitation_hours = 2).await;
    let admin = t.staff(Role::Admin, None).await;
    let atok = t.token(&admin).await;
    let invite = |email: &'static str| {
        let (t, atok) = (&t, atok.clone());
        async move {
            let v: Value = t
                .post_json(
                    "/api/v1/invitations",
                    Some(&atok),
                    json!({"email": email, "display_name": "N", "role": "lawyer"}),
                )
                .await
                .json()
                .await
                .unwrap();
            v
        }
    };
    let a = invite("a@test.invalid").await;
    let b = invite("b@test.invalid").await;
    let r = t
        .post_json(
            &format!("/api/v1/invitations/{}/revoke", b["id"].as_str().unwrap()),
            Some(&atok),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let bt = token_of(b["link"].as_str().unwrap());
    assert_eq!(t.get(&format!("/invite/{bt}"), None).await.status(), 404);
    t.clock.advance(2 * 3_600_000 + 1);
    let at = token_of(a["link"].as_str().unwrap());
    assert_eq!(
        t.get(&format!("/invite/{at}"), None).await.status(),
        404,
        "expired"
    );
}

async fn two_admins(t: &TestApp) -> (String, String) {
    let a = t.staff(Role::Admin, None).await;
    let b = t.staff(Role::Admin, None).await;
    (t.token(&a).await, t.token(&b).await)
}

#[tokio::test]
async fn with_two_administrators_a_supervisor_invitation_waits_for_the_other() {
    let t = TestApp::spawn().await;
    let (a, b) = two_admins(&t).await;
    let r = t
        .post_json(
            "/api/v1/invitations",
            Some(&a),
            json!({"email": "sup@test.invalid", "display_name": "Sup", "role": "supervisor"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let inv: Value = r.json().await.unwrap();
    assert_eq!(inv["pending_approval"], true);
    assert!(inv["link"].is_null(), "no link before the approval");
    let id = inv["id"].as_str().unwrap();
    // the administrator who asked cannot approve it
    let r = t
        .post_json(
            &format!("/api/v1/invitations/{id}/approve"),
            Some(&a),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = t
        .post_json(
            &format!("/api/v1/invitations/{id}/approve"),
            Some(&b),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let approved: Value = r.json().await.unwrap();
    let token = token_of(approved["link"].as_str().unwrap());
    let r = t
        .post_json(
            "/api/v1/invitations/accept",
            None,
            json!({"token": token, "password": "the supervisor's passphrase"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let acts = actions(&t).await;
    assert!(acts.contains(&"staff.grant_approved".to_owned()));
    // an administrator invitation refused by the other stays unusable
    let inv: Value = t
        .post_json(
            "/api/v1/invitations",
            Some(&a),
            json!({"email": "adm@test.invalid", "display_name": "Adm", "role": "admin"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = inv["id"].as_str().unwrap();
    let r = t
        .post_json(
            &format!("/api/v1/invitations/{id}/refuse"),
            Some(&b),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = t
        .post_json(
            &format!("/api/v1/invitations/{id}/approve"),
            Some(&b),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn granting_supervisor_to_an_account_needs_a_second_administrator() {
    let t = TestApp::spawn().await;
    let solo = t.staff(Role::Admin, None).await;
    let stok = t.token(&solo).await;
    let c = t.staff(Role::Counsellor, None).await;
    // a single administrator: done at once, audited
    let r = t
        .put_json(
            &format!("/api/v1/staff/{}/role", c.id),
            Some(&stok),
            json!({"role": "supervisor"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["result"], "changed");
    assert!(actions(&t).await.contains(&"staff.role_changed".to_owned()));

    // two administrators: it waits
    let second = t.staff(Role::Admin, None).await;
    let btok = t.token(&second).await;
    let d = t.staff(Role::Counsellor, None).await;
    let r = t
        .put_json(
            &format!("/api/v1/staff/{}/role", d.id),
            Some(&stok),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["result"], "pending");
    let dtok = t.token(&d).await;
    assert_eq!(
        t.get("/api/v1/staff", Some(&dtok)).await.status(),
        404,
        "not an administrator yet"
    );
    let grants: Value = t
        .get("/api/v1/role-grants", Some(&stok))
        .await
        .json()
        .await
        .unwrap();
    let g = grants.as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t
        .post_json(
            &format!("/api/v1/role-grants/{g}/approve"),
            Some(&stok),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 404, "not by the administrator who asked");
    let r = t
        .post_json(
            &format!("/api/v1/role-grants/{g}/approve"),
            Some(&btok),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let dtok = t.token(&d).await;
    assert_eq!(t.get("/api/v1/staff", Some(&dtok)).await.status(), 200);
    // a plain role change is not a grant: done at once
    let e = t.staff(Role::Counsellor, None).await;
    let r = t
        .put_json(
            &format!("/api/v1/staff/{}/role", e.id),
            Some(&stok),
            json!({"role": "lawyer"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["result"], "changed");
}
