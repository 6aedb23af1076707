//! The chat widget: its pages and its anonymous JSON API (a chat token in the
//! `Authorization` header).

use super::{Access, Answer, Route, r};
use crate::api::dto::{
    Challenge, ChatSession, FollowUpSession, LineStatus, WidgetMessage, WidgetTranscript,
};
use crate::widget::api::{self, After, FollowUpReq, SendReq, StartReq};
use crate::widget::{pages, ws};
use axum::routing::{get, post};

pub(super) fn routes() -> Vec<Route> {
    use Access::*;
    Vec::from([
        r(
            "GET",
            "/demo",
            Public,
            "Demo page of a helpline's site with the widget",
            get(pages::demo),
        )
        .page()
        .no_database(),
        r(
            "GET",
            "/widget/frame",
            Public,
            "The chat widget's frame",
            get(pages::frame),
        )
        .page()
        .no_database(),
        r(
            "GET",
            "/widget/v1/status",
            Public,
            "Opening status, hours and emergency numbers",
            get(api::status),
        )
        .ok::<LineStatus>()
        .no_database(),
        r(
            "GET",
            "/widget/v1/challenge",
            Public,
            "A proof-of-work challenge, asked for new sessions under a flood",
            get(api::challenge),
        )
        .ok::<Challenge>()
        .no_database()
        .errors(&[500]),
        r(
            "POST",
            "/widget/v1/sessions",
            Public,
            "Start an anonymous conversation; returns its token",
            post(api::start),
        )
        .body::<StartReq>()
        .created::<ChatSession>()
        .errors(&[409, 428, 429]),
        r(
            "POST",
            "/widget/v1/follow-up",
            Public,
            "Open a conversation again with its follow-up code; returns a token",
            post(api::follow_up),
        )
        .body::<FollowUpReq>()
        .ok::<FollowUpSession>()
        .errors(&[404, 409, 429]),
        r(
            "GET",
            "/widget/v1/messages",
            Public,
            "The visitor's transcript (chat token)",
            get(api::messages),
        )
        .query::<After>()
        .chat_token()
        .ok::<WidgetTranscript>(),
        r(
            "POST",
            "/widget/v1/messages",
            Public,
            "Send a message (chat token; idempotent by client_id)",
            post(api::send),
        )
        .body::<SendReq>()
        .chat_token()
        .created::<WidgetMessage>()
        .errors(&[409, 429]),
        r(
            "POST",
            "/widget/v1/typing",
            Public,
            "The visitor is typing (chat token)",
            post(api::typing),
        )
        .chat_token()
        .no_content()
        .errors(&[409, 429]),
        r(
            "POST",
            "/widget/v1/leave",
            Public,
            "The young person left by quick exit (chat token; keepalive): out of the queue, \
             replies refused; again: nothing changes",
            post(api::leave),
        )
        .chat_token()
        .no_content()
        .errors(&[429]),
        r(
            "GET",
            "/widget/v1/ws",
            Public,
            "Live events for the visitor (WebSocket; token in the first frame)",
            get(ws::widget),
        )
        .answers(&[Answer::Upgrade])
        .no_database()
        .errors(&[400, 403, 429]),
    ])
}
