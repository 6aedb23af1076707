//! Live push over WebSockets, for the widget and the console. Commands go over HTTP; the
//! socket only pushes events. The database is the source of truth: on every event the
//! socket sends what was committed after the last sequence number it delivered, so a
//! reconnect (with `after`) never loses nor repeats a message.

use crate::AppState;
use crate::widget::api::{message, state};
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use rempart_app::ErrorCode;
use rempart_app::auth::SessionState;
use rempart_app::live::Typist;
use rempart_app::records::Event;
use rempart_domain::ids::ConversationId;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// Largest frame a client may send.
const MAX_FRAME: usize = 16 * 1024;

/// The Origin must be this server's own (the widget frame and the console are served
/// from here): a socket opened by another site is refused.
pub fn same_origin(h: &HeaderMap) -> bool {
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin = h
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}

fn refuse() -> Response {
    crate::error::ApiError::new(ErrorCode::CsrfFailed, "cross-origin WebSocket refused")
        .into_response()
}

/// A request that is not a WebSocket upgrade: a JSON 400, like the API's other errors.
fn not_an_upgrade() -> Response {
    crate::error::ApiError::new(ErrorCode::MalformedBody, "expected a WebSocket upgrade")
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hello {
    token: String,
    #[serde(default)]
    after: i64,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum WidgetFrame {
    Typing,
    Ping,
}

async fn recv_text(ws: &mut WebSocket) -> Option<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.recv()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

async fn close(mut ws: WebSocket, code: u16, reason: &'static str) {
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// `GET /widget/v1/ws`: the visitor's live view. First frame: `{"token": …, "after": n}`.
/// A client address may hold `widget.sockets_per_address` of them and a chat session
/// `widget.sockets_per_session`; all the widget's sockets together take at most
/// `widget.sockets_share_percent` of the node's connections, the rest is the console's.
pub async fn widget(
    State(st): State<AppState>,
    permit: Option<axum::Extension<crate::server::ConnPermit>>,
    stopping: Option<axum::Extension<crate::server::Stopping>>,
    crate::limits::ClientIp(ip): crate::limits::ClientIp,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !same_origin(&headers) {
        return refuse();
    }
    let Some(place) = st.sockets.widget(&ip) else {
        return crate::error::ApiError::new(
            ErrorCode::RateLimited,
            "too many live connections, retry in a moment",
        )
        .into_response();
    };
    let Ok(ws) = ws else {
        return not_an_upgrade();
    };
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .write_buffer_size(0)
        .read_buffer_size(4096)
        .on_upgrade(move |s| async move {
            let _counted = permit;
            widget_session(st, s, place, stopping.map(|e| e.0)).await
        })
}

async fn widget_session(
    st: AppState,
    mut ws: WebSocket,
    mut place: crate::limits::SocketPlace,
    mut stopping: Option<crate::server::Stopping>,
) {
    let Some(hello) = recv_text(&mut ws)
        .await
        .and_then(|t| serde_json::from_str::<Hello>(&t).ok())
    else {
        return close(ws, 4400, "expected {token, after}").await;
    };
    let session = rempart_app::sha256_hex(hello.token.as_bytes());
    if !st.sockets.session(&mut place, &session) {
        return close(
            ws,
            4429,
            "this chat session has its live connections already",
        )
        .await;
    }
    let Ok(conv) = st.app.visitor_watch(&hello.token).await else {
        return close(ws, 4401, "unknown chat session").await;
    };
    let id = conv.id.to_string();
    // this conversation's events, and the queue's (a waiting visitor's position moves);
    // subscribed before anything is read, so nothing committed meanwhile is missed
    let mut events = st.app.subscribe_conversation(conv.id);
    let mut queue = st.app.subscribe_events();
    let mut waiting = conv.status == rempart_domain::chat::ConversationStatus::Waiting;
    let mut last = hello.after.max(0);
    let mut send_state = true;
    let mut push_messages = true;
    let mut alive = Alive::new(&st);
    loop {
        if send_state {
            send_state = false;
            let Ok(c) = st.app.visitor_conversation(&hello.token).await else {
                break;
            };
            waiting = c.status == rempart_domain::chat::ConversationStatus::Waiting;
            let Ok(s) = state(&st, &c).await else { break };
            if ws
                .send(Message::Text(
                    json!({"type": "state", "conversation": s})
                        .to_string()
                        .into(),
                ))
                .await
                .is_err()
            {
                break;
            }
        }
        if push_messages {
            push_messages = false;
            // the token was checked when the view opened and is re-checked at every change
            // of state (an end, a handover): a push reads by conversation id
            let Ok(msgs) = st.app.visitor_transcript(conv.id, last).await else {
                break;
            };
            for m in msgs {
                last = last.max(m.seq);
                if ws
                    .send(Message::Text(
                        json!({"type": "message", "message": message(&m)})
                            .to_string()
                            .into(),
                    ))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        tokio::select! {
            q = queue.recv() => match q {
                // events may have been missed: catch up from the database
                Ok(Event::Resync) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    push_messages = true;
                    send_state = true;
                }
                Ok(Event::Staff { .. }) => {}
                Ok(_) => send_state = waiting,
                Err(_) => break,
            },
            e = events.recv() => match e {
                Ok(Event::Message { conversation, .. }) if conversation == id => push_messages = true,
                Ok(Event::Conversation { conversation }) if conversation == id => send_state = true,
                Ok(Event::Queue) => send_state = true,
                Ok(Event::Typing { conversation, who }) if conversation == id && who == "counsellor" => {
                    if ws.send(Message::Text(json!({"type": "typing"}).to_string().into())).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                // Lagged: catch up from the database.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => { push_messages = true; send_state = true; }
                Err(_) => break,
            },
            _ = alive.tick.tick() => {
                if alive.silent() {
                    return close(ws, 4408, "silent too long").await;
                }
                if ws.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            },
            () = crate::server::stopping(&mut stopping) => {
                return close(ws, 1012, "service restart").await;
            },
            m = ws.recv() => match alive.heard(m) {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<WidgetFrame>(&t) {
                    Ok(WidgetFrame::Typing) => {
                        // past the session's typing limit, signals are dropped
                        if st.typing_allowed(&session).is_ok() {
                            let _ = st.app.typing(conv.id, Typist::Visitor).await;
                        }
                    }
                    Ok(WidgetFrame::Ping) => {}
                    Err(_) => return close(ws, 4400, "unknown frame").await,
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ConsoleFrame {
    Watch { conversation: String, after: i64 },
    Typing { conversation: String },
    Ping,
}

/// `GET /api/v1/ws`: the console's live view (session cookie or bearer token, same origin). Always pushes
/// queue changes; `{"type": "watch", …}` adds a conversation the actor may read.
pub async fn console(
    State(st): State<AppState>,
    permit: Option<axum::Extension<crate::server::ConnPermit>>,
    stopping: Option<axum::Extension<crate::server::Stopping>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // The session cookie (browsers) or a bearer token (API clients); full sessions only.
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| crate::extract::cookie(&headers, crate::extract::SESSION_COOKIE))
        .unwrap_or("")
        .to_owned();
    let auth = match st.app.authenticate(&token).await {
        Ok(a) if a.state == SessionState::Full => a,
        _ => {
            return crate::error::ApiError::new(ErrorCode::Unauthenticated, "not logged in")
                .into_response();
        }
    };
    if !same_origin(&headers) {
        return refuse();
    }
    match ws {
        Ok(ws) => ws
            .max_message_size(MAX_FRAME)
            .max_frame_size(MAX_FRAME)
            .write_buffer_size(0)
            .read_buffer_size(4096)
            .on_upgrade(move |s| async move {
                let _counted = permit;
                console_session(st, auth, s, stopping.map(|e| e.0)).await
            }),
        Err(_) => not_an_upgrade(),
    }
}

async fn console_session(
    st: AppState,
    auth: rempart_app::auth::Authenticated,
    mut ws: WebSocket,
    mut stopping: Option<crate::server::Stopping>,
) {
    let actor = auth.actor();
    let typing_key = auth.session.token_hash.clone();
    let mut events = st.app.subscribe_events();
    // each watched conversation's channel feeds this socket through one queue
    let (topic_tx, mut topic_rx) = tokio::sync::mpsc::channel::<Event>(1024);
    let mut forwarders = tokio::task::JoinSet::new();
    let mut watched: Vec<(ConversationId, i64)> = Vec::new();
    let mut alive = Alive::new(&st);
    loop {
        let next = tokio::select! {
            e = events.recv() => Next::Event(e),
            Some(e) = topic_rx.recv() => Next::Event(Ok(e)),
            m = ws.recv() => Next::Socket(alive.heard(m)),
            _ = alive.tick.tick() => Next::Tick,
            () = crate::server::stopping(&mut stopping) => Next::Stopping,
        };
        match next {
            Next::Stopping => return close(ws, 1012, "service restart").await,
            Next::Tick => {
                if alive.silent() {
                    return close(ws, 4408, "silent too long").await;
                }
                // the session may have idled out meanwhile (checking it is not activity)
                if !st.app.session_still_valid(&auth).await.unwrap_or(false) {
                    return close(ws, 4401, "session ended").await;
                }
                if ws.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            Next::Event(e) => {
                let dirty: Vec<usize> = match &e {
                    Ok(Event::Queue) => {
                        if ws
                            .send(Message::Text(json!({"type": "queue"}).to_string().into()))
                            .await
                            .is_err()
                        {
                            break;
                        }
                        vec![]
                    }
                    Ok(Event::Message { conversation, .. })
                    | Ok(Event::Conversation { conversation }) => watched
                        .iter()
                        .enumerate()
                        .filter(|(_, (c, _))| c.to_string() == *conversation)
                        .map(|(i, _)| i)
                        .collect(),
                    Ok(Event::Typing { conversation, who }) if who == "visitor" => {
                        if watched.iter().any(|(c, _)| c.to_string() == *conversation)
                            && ws
                                .send(Message::Text(
                                    json!({"type": "typing", "conversation": conversation})
                                        .to_string()
                                        .into(),
                                ))
                                .await
                                .is_err()
                        {
                            break;
                        }
                        vec![]
                    }
                    // this account logged out, was disabled or changed role: re-check at once
                    Ok(Event::Staff { id }) if *id == actor.id.to_string() => {
                        if !st.app.session_still_valid(&auth).await.unwrap_or(false) {
                            return close(ws, 4401, "session ended").await;
                        }
                        vec![]
                    }
                    // events may have been missed: every watched conversation catches up
                    Ok(Event::Resync)
                    | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        (0..watched.len()).collect()
                    }
                    Ok(_) => vec![],
                    Err(_) => break,
                };
                for i in dirty {
                    let (id, after) = watched[i];
                    // Re-checked at every push: an actor who lost access stops receiving at once.
                    match st.app.counsellor_messages(&actor, id, after, false).await {
                        Ok((c, msgs)) => {
                            for m in &msgs {
                                watched[i].1 = watched[i].1.max(m.seq);
                            }
                            let frame = json!({"type": "messages", "conversation": id.to_string(), "status": c.status.as_str(),
                                "messages": msgs.iter().map(console_message).collect::<Vec<_>>()});
                            if ws
                                .send(Message::Text(frame.to_string().into()))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(_) => return close(ws, 4403, "access ended").await,
                    }
                }
            }
            Next::Socket(m) => match m {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ConsoleFrame>(&t) {
                    Ok(ConsoleFrame::Watch {
                        conversation,
                        after,
                    }) => {
                        let Ok(id) = ConversationId::parse(&conversation) else {
                            return close(ws, 4400, "bad id").await;
                        };
                        // subscribed first, then read: a message committed while the view
                        // starts is in the read or announced by an event, never lost
                        match st.app.watch_conversation(&actor, id, after).await {
                            Ok(w) => {
                                let last = w.messages.iter().map(|m| m.seq).max().unwrap_or(after);
                                if !watched.iter().any(|(x, _)| *x == id) {
                                    let mut sub = w.events;
                                    let tx = topic_tx.clone();
                                    let c = conversation.clone();
                                    forwarders.spawn(async move {
                                        loop {
                                            let e = match sub.recv().await {
                                                Ok(e) => e,
                                                // lagged: one event makes the socket catch up from the database
                                                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Event::Conversation { conversation: c.clone() },
                                                Err(_) => break,
                                            };
                                            if tx.send(e).await.is_err() {
                                                break;
                                            }
                                        }
                                    });
                                }
                                watched.retain(|(x, _)| *x != id);
                                watched.push((id, last));
                                let frame = json!({"type": "messages", "conversation": conversation, "status": w.conversation.status.as_str(),
                                    "messages": w.messages.iter().map(console_message).collect::<Vec<_>>()});
                                if ws
                                    .send(Message::Text(frame.to_string().into()))
                                    .await
                                    .is_err()
                                {
                                    break;
                                }
                            }
                            Err(_) => return close(ws, 4404, "no such conversation").await,
                        }
                    }
                    Ok(ConsoleFrame::Typing { conversation }) => {
                        if let Some((id, _)) =
                            watched.iter().find(|(c, _)| c.to_string() == conversation)
                            && st.typing_allowed(&typing_key).is_ok()
                        {
                            let _ = st.app.typing(*id, Typist::Counsellor).await;
                        }
                    }
                    Ok(ConsoleFrame::Ping) => {}
                    Err(_) => return close(ws, 4400, "unknown frame").await,
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// A message as the console's live view pushes it.
fn console_message(m: &rempart_app::records::MessageRecord) -> serde_json::Value {
    json!({"seq": m.seq, "from": m.sender.as_str(), "body": m.body, "at": m.created_at, "client_id": m.client_id})
}

/// Dead-peer detection: the server pings every third of `ws_idle_seconds`; a socket that
/// sent nothing (not even a pong, which browsers send by themselves) for the whole of it is
/// closed with 4408, so a phone that lost its network does not hold a socket for ever.
struct Alive {
    tick: tokio::time::Interval,
    last: tokio::time::Instant,
    idle: Duration,
}

impl Alive {
    fn new(st: &AppState) -> Alive {
        let idle = Duration::from_secs(st.app.settings().server.ws_idle_seconds.max(1));
        let period = idle / 3;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Alive {
            tick,
            last: tokio::time::Instant::now(),
            idle,
        }
    }

    fn heard<T>(&mut self, m: Option<Result<Message, T>>) -> Option<Result<Message, T>> {
        if matches!(m, Some(Ok(_))) {
            self.last = tokio::time::Instant::now();
        }
        m
    }

    fn silent(&self) -> bool {
        self.last.elapsed() >= self.idle
    }
}

enum Next {
    Tick,
    Stopping,
    Event(Result<Event, tokio::sync::broadcast::error::RecvError>),
    Socket(Option<Result<Message, axum::Error>>),
}
