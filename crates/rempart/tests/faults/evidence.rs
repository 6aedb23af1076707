//! Evidence and a node killed: mid-upload (the body half sent), nothing is recorded and
//! nothing is left in the store; right after an upload was acknowledged, the evidence and
//! its file are there once the node is back.

use crate::support::*;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

fn multipart(file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "rempart-fault-boundary";
    let mut b = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nscreenshot\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.png\"\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        files_in(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn evidence_count(http: &reqwest::Client, base: &str, token: &str, case: &str) -> usize {
    let v: Value = http
        .get(format!("{base}/api/v1/cases/{case}/evidence"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array().unwrap().len()
}

const EMAIL: &str = "c@fault.invalid";
const PASSWORD: &str = "a long enough passphrase";

/// A node started on `env`, and a counsellor's token on it.
async fn node_and_token(
    http: &reqwest::Client,
    env: &[(&'static str, String)],
    extra: &[(&str, &str)],
) -> (Node, String) {
    let node = serve(env, extra).await;
    let token = login(http, &node.base, EMAIL, PASSWORD).await;
    (node, token)
}

#[tokio::test]
async fn a_node_killed_mid_upload_records_nothing_and_an_acknowledged_upload_survives() {
    let dir = tmp("fault-evidence");
    let hours = always_open(&dir);
    let evidence = dir.join("evidence");
    let env = node_env(&format!("sqlite://{}/rempart.db", dir.display()), &hours);
    let extra = [("REMPART_EVIDENCE_PATH", evidence.to_str().unwrap())];
    user_add(&env, EMAIL, "counsellor", PASSWORD);
    let http = reqwest::Client::new();
    let (node, token) = node_and_token(&http, &env, &extra).await;
    let case: Value = http
        .post(format!("{}/api/v1/cases", node.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "faute", "categories": ["cyber_harassment"], "age_band": "11_14"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = case["id"].as_str().unwrap().to_owned();
    let png = rempart_media::testing::phone_png(1200, 900, 4);
    let (ct, body) = multipart(&png);

    // half the body sent, then the node is killed
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", node.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/cases/{case}/evidence/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..body.len() / 2]).await.unwrap();
    s.flush().await.unwrap();
    drop(node); // SIGKILL
    let (node, token) = node_and_token(&http, &env, &extra).await;
    assert_eq!(evidence_count(&http, &node.base, &token, &case).await, 0);
    assert_eq!(files_in(&evidence), 0, "no blob of the unfinished upload");

    // an acknowledged upload, then the node is killed at once: it is all there after
    let r = http
        .post(format!("{}/api/v1/cases/{case}/evidence/files", node.base))
        .bearer_auth(&token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let id = v["evidence"]["id"].as_str().unwrap().to_owned();
    drop(node);
    let (node, token) = node_and_token(&http, &env, &extra).await;
    assert_eq!(evidence_count(&http, &node.base, &token, &case).await, 1);
    assert_eq!(files_in(&evidence), 4);
    let shown = http
        .get(format!(
            "{}/api/v1/cases/{case}/evidence/{id}/display",
            node.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    assert!(shown.bytes().await.unwrap().starts_with(b"\xff\xd8"));
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}
