//! Slow and silent clients cannot hold a node: slow headers, idle keep-alive connections,
//! bodies sent a byte at a time, silent WebSockets, and more connections than allowed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn addr(t: &TestApp) -> String {
    t.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; returns what it sent, or panics if it
/// is still open after `bound`.
async fn read_to_close(s: &mut TcpStream, bound: Duration) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(bound, s.read_to_end(&mut out))
        .await
        .expect("the server closed the connection in time")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let t = TestApp::spawn_with(|s| s.server.header_timeout_seconds = 1).await;
    // half a request, then nothing
    let mut slow = TcpStream::connect(addr(&t)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    let got = read_to_close(&mut slow, Duration::from_secs(10)).await;
    assert!(!got.contains("200 OK"), "never answered: {got}");
    assert!(start.elapsed() >= Duration::from_millis(900));
    // a whole request is answered, then the idle connection is closed
    let mut idle = TcpStream::connect(addr(&t)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let got = read_to_close(&mut idle, Duration::from_secs(10)).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_408() {
    let t = TestApp::spawn_with(|s| s.server.request_timeout_seconds = 1).await;
    let mut s = TcpStream::connect(addr(&t)).await.unwrap();
    s.write_all(
        b"POST /widget/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("answered in time")
        .unwrap();
    let got = String::from_utf8_lossy(&buf[..n]);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("request_timeout"), "{got}");
    // and nothing was started
    let (waiting, left) = (
        t.store.queue(false).await.unwrap(),
        t.store.left_messages().await.unwrap(),
    );
    assert!(waiting.is_empty() && left.is_empty());
}

#[tokio::test]
async fn a_silent_websocket_is_closed_and_a_live_one_kept() {
    let t = TestApp::spawn_with(|s| s.server.ws_idle_seconds = 2).await;
    let v: serde_json::Value = t
        .post_json("/widget/v1/sessions", None, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let token = v["token"].as_str().unwrap().to_owned();
    let open = || async {
        let mut req = format!("{}/widget/v1/ws", t.base.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("origin", t.base.parse().unwrap());
        let (mut s, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        s.send(Message::text(
            json!({"token": token, "after": 0}).to_string(),
        ))
        .await
        .unwrap();
        s
    };
    let mut live = open().await;
    let mut silent = open().await;
    // the live one reads (and so answers pings) for two idle periods: still open
    let until = Instant::now() + Duration::from_secs(4);
    let mut pings = 0;
    while Instant::now() < until {
        match tokio::time::timeout(until - Instant::now(), live.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(Message::Close(c)))) => panic!("a live socket was closed: {c:?}"),
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("{other:?}"),
            Err(_) => break,
        }
    }
    assert!(pings >= 4, "the server pings ({pings})");
    // the silent one did not read meanwhile: it was closed (with 4408 when the close frame
    // is read before the client's late pongs hit the closed connection)
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match silent.next().await {
                Some(Ok(Message::Close(c))) => return c.map(|c| u16::from(c.code)),
                Some(Ok(_)) => continue,
                // the client answers the pings it now reads, onto a connection the server
                // has already closed after its close frame
                Some(Err(tokio_tungstenite::tungstenite::Error::Io(e)))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                    ) =>
                {
                    return None;
                }
                other => panic!("{other:?}"),
            }
        }
    })
    .await
    .expect("closed in time");
    assert!(closed.is_none() || closed == Some(4408), "{closed:?}");
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_place() {
    let t = TestApp::spawn_with(|s| s.server.max_connections = 2).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr(&t)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(s); // kept alive
    }
    let mut third = TcpStream::connect(addr(&t)).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf))
            .await
            .is_err(),
        "not served while two connections are held"
    );
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(10), third.read(&mut buf))
        .await
        .expect("served once a place is free")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}
