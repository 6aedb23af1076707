//! Standard Webhooks pushes to the simulator's `http_json` receiver.

use rempart_delivery::{AtPlatform, Outcome, verify_webhook};
use rempart_platform_sim::{FaultKind, Faults, SimPlatform};

use crate::common::{OTHER_SECRET, SECRET, local, notice, now_unix, start};

#[tokio::test]
async fn http_json_push_delivered_and_verified_by_the_receiver() {
    let sim = start(vec![SimPlatform::http_json("meta", SECRET)]).await;
    let now = now_unix();
    let body = notice(1);
    let outcome = local()
        .send_http_json(
            &sim.http_json_url("meta"),
            SECRET,
            "msg_notice_1",
            &body,
            now,
        )
        .await;
    let received = sim.received("meta").unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 202,
            receipt: Some(received[0].id.clone()),
            at_platform: AtPlatform::Taken
        }
    );
    let r = &received[0];
    assert_eq!(r.webhook_id.as_deref(), Some("msg_notice_1"));
    // the headers sent verify with this crate's own check as well
    let ts = r.headers.get("webhook-timestamp").unwrap();
    let sig = r.headers.get("webhook-signature").unwrap();
    assert_eq!(ts, &now.to_string());
    assert_eq!(
        verify_webhook(SECRET, "msg_notice_1", ts, sig, &body, now),
        Ok(())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn http_json_same_webhook_id_twice_is_one_notice() {
    let sim = start(vec![SimPlatform::http_json("meta", SECRET)]).await;
    let d = local();
    let url = sim.http_json_url("meta");
    let first = d
        .send_http_json(&url, SECRET, "msg_notice_2", &notice(2), now_unix())
        .await;
    let second = d
        .send_http_json(&url, SECRET, "msg_notice_2", &notice(2), now_unix())
        .await;
    assert!(first.is_delivered(), "{first:?}");
    assert_eq!(first, second);
    let stats = &sim.stats().platforms["meta"];
    assert_eq!((stats.unique, stats.repeated_ids), (1, 1));
    assert_eq!(sim.received("meta").unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn http_json_lost_answer_then_retry_gets_the_same_ticket() {
    let sim = start(vec![SimPlatform::http_json("meta", SECRET).with_faults(
        Faults {
            fail_after_accept: true,
            ..Faults::always(FaultKind::Reset)
        },
    )])
    .await;
    let d = local();
    let url = sim.http_json_url("meta");
    let lost = d
        .send_http_json(&url, SECRET, "msg_notice_3", &notice(3), now_unix())
        .await;
    assert_eq!(
        lost,
        Outcome::Transient {
            reason: "reset",
            status: None,
            retry_after: None,
            maybe_delivered: true
        }
    );
    sim.set_faults("meta", Faults::none()).unwrap();
    let retry = d
        .send_http_json(&url, SECRET, "msg_notice_3", &notice(3), now_unix())
        .await;
    let received = sim.received("meta").unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        retry,
        Outcome::Delivered {
            status: 202,
            receipt: Some(received[0].id.clone()),
            at_platform: AtPlatform::Taken
        }
    );
    assert_eq!(sim.stats().platforms["meta"].repeated_ids, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn http_json_wrong_secret_or_stale_time_is_permanent_401() {
    let sim = start(vec![SimPlatform::http_json("meta", SECRET)]).await;
    let d = local();
    let url = sim.http_json_url("meta");
    let wrong = d
        .send_http_json(&url, OTHER_SECRET, "msg_notice_4", &notice(4), now_unix())
        .await;
    let stale = d
        .send_http_json(&url, SECRET, "msg_notice_4", &notice(4), now_unix() - 3600)
        .await;
    for outcome in [wrong, stale] {
        assert_eq!(
            outcome,
            Outcome::Permanent {
                reason: "http_401",
                status: Some(401)
            }
        );
    }
    assert_eq!(sim.received("meta").unwrap().len(), 0);
    let bad_secret = d
        .send_http_json(&url, "not-a-secret", "msg_notice_4", &notice(4), now_unix())
        .await;
    assert_eq!(bad_secret.reason(), Some("bad_secret"));
    sim.shutdown().await;
}

#[tokio::test]
async fn http_json_concurrent_pushes_through_one_deliverer() {
    let sim = start(vec![SimPlatform::http_json("meta", SECRET)]).await;
    let d = local();
    let url = sim.http_json_url("meta");
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..40u32 {
        let (d, url) = (d.clone(), url.clone());
        // each id twice, concurrently
        tasks.spawn(async move {
            d.send_http_json(
                &url,
                SECRET,
                &format!("msg_c_{}", n / 2),
                &notice(n / 2),
                now_unix(),
            )
            .await
        });
    }
    while let Some(outcome) = tasks.join_next().await {
        let outcome = outcome.unwrap();
        assert!(outcome.is_delivered(), "{outcome:?}");
    }
    let stats = &sim.stats().platforms["meta"];
    assert_eq!((stats.unique, stats.repeated_ids), (20, 20));
    sim.shutdown().await;
}
