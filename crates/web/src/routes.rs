//! The route table: every route once, with its access rule and summary. The router,
//! the OpenAPI document and the route × role test are all built from it.

use crate::AppState;
use crate::{api, pages, widget};
use axum::routing::{MethodRouter, get, post, put};

/// Who may call a route (documentation; each handler enforces it through the
/// application layer, and the route × role test checks the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A logged-in session, possibly before its second factor.
    Session,
    /// A full session; the action is checked globally.
    Staff(&'static str),
    /// A full session; the action is checked against the case in the path.
    Case(&'static str),
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// HTTP method.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
    /// Access rule.
    pub access: Access,
    /// What it does.
    pub summary: &'static str,
}

fn r(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
    h: MethodRouter<AppState>,
) -> (RouteDoc, MethodRouter<AppState>) {
    (
        RouteDoc {
            method,
            path,
            access,
            summary,
        },
        h,
    )
}

/// Every route.
pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    use Access::*;
    vec![
        // operations
        r(
            "GET",
            "/healthz",
            Public,
            "Liveness probe",
            get(api::misc::healthz),
        ),
        r(
            "GET",
            "/readyz",
            Public,
            "Readiness probe: the database answers",
            get(api::misc::readyz),
        ),
        r(
            "GET",
            "/metrics",
            Public,
            "Prometheus metrics",
            get(api::misc::metrics),
        ),
        r(
            "GET",
            "/assets/{file}",
            Public,
            "Static assets",
            get(api::misc::asset),
        ),
        r(
            "GET",
            "/api/v1/openapi.json",
            Public,
            "This API's OpenAPI document",
            get(api::misc::openapi),
        ),
        // console: authentication
        r(
            "GET",
            "/",
            Public,
            "Home: to the case list or the login",
            get(pages::auth::home),
        ),
        r(
            "GET",
            "/login",
            Public,
            "Login page",
            get(pages::auth::login_page),
        ),
        r(
            "POST",
            "/login",
            Public,
            "Log in (e-mail, password)",
            post(pages::auth::login),
        ),
        r(
            "GET",
            "/login/totp",
            Session,
            "Second-factor page",
            get(pages::auth::totp_page),
        ),
        r(
            "POST",
            "/login/totp",
            Session,
            "Check the second factor",
            post(pages::auth::totp),
        ),
        r(
            "POST",
            "/logout",
            Session,
            "Log out",
            post(pages::auth::logout),
        ),
        r(
            "GET",
            "/lang/{lang}",
            Public,
            "Switch language (fr, en)",
            get(pages::auth::switch_lang),
        ),
        r(
            "GET",
            "/account",
            Session,
            "Own account: second-factor enrolment",
            get(pages::account::page),
        ),
        r(
            "POST",
            "/account/totp",
            Session,
            "Start or confirm second-factor enrolment",
            post(pages::account::totp),
        ),
        // console: cases
        r(
            "GET",
            "/cases",
            Staff("list_cases"),
            "Case list with filters and search",
            get(pages::cases::list),
        ),
        r(
            "GET",
            "/cases/{id}",
            Case("read_case"),
            "Case page",
            get(pages::cases::show),
        ),
        r(
            "POST",
            "/cases/{id}/status",
            Case("change_case_status"),
            "Change a case's status",
            post(pages::cases::status),
        ),
        r(
            "POST",
            "/cases/{id}/assignees",
            Case("assign_case"),
            "Change a case's assignees",
            post(pages::cases::assign),
        ),
        r(
            "POST",
            "/cases/{id}/items",
            Case("update_case"),
            "Add an item to a case",
            post(pages::cases::add_item),
        ),
        r(
            "POST",
            "/cases/{id}/notes",
            Case("add_note"),
            "Add a note to a case",
            post(pages::cases::add_note),
        ),
        r(
            "GET",
            "/contacts/new",
            Staff("log_contact"),
            "Form to log a contact by hand",
            get(pages::contacts::form),
        ),
        r(
            "POST",
            "/contacts",
            Staff("log_contact"),
            "Log a contact, optionally opening a case",
            post(pages::contacts::create),
        ),
        r(
            "GET",
            "/admin/staff",
            Staff("manage_staff"),
            "Staff accounts",
            get(pages::admin::list),
        ),
        r(
            "POST",
            "/admin/staff",
            Staff("manage_staff"),
            "Create a staff account",
            post(pages::admin::create),
        ),
        r(
            "POST",
            "/admin/staff/{id}/disable",
            Staff("manage_staff"),
            "Disable an account (ends its sessions)",
            post(pages::admin::disable),
        ),
        r(
            "POST",
            "/admin/staff/{id}/enable",
            Staff("manage_staff"),
            "Re-enable an account",
            post(pages::admin::enable),
        ),
        r(
            "GET",
            "/audit",
            Staff("read_audit"),
            "Audit trail",
            get(pages::audit::list),
        ),
        r(
            "GET",
            "/chats",
            Staff("log_contact"),
            "Chat queue and own conversations",
            get(pages::chats::queue),
        ),
        r(
            "POST",
            "/chats/availability",
            Staff("log_contact"),
            "Set one's own chat availability and capacity",
            post(pages::chats::availability),
        ),
        r(
            "POST",
            "/chats/take",
            Staff("log_contact"),
            "Take the most urgent waiting conversation",
            post(pages::chats::take),
        ),
        r(
            "GET",
            "/chats/{id}",
            Session,
            "A conversation (its counsellor; supervisors read)",
            get(pages::chats::show),
        ),
        r(
            "POST",
            "/chats/{id}/messages",
            Session,
            "Reply in a conversation (its counsellor)",
            post(pages::chats::reply),
        ),
        r(
            "POST",
            "/chats/{id}/end",
            Session,
            "End a conversation with its summary (its counsellor)",
            post(pages::chats::end),
        ),
        r(
            "POST",
            "/chats/{id}/transfer",
            Session,
            "Hand a conversation over to a colleague or a role, with an internal note",
            post(pages::chats::transfer),
        ),
        // chat widget (anonymous; a chat token in the Authorization header)
        r(
            "GET",
            "/demo",
            Public,
            "Demo page of a helpline's site with the widget",
            get(widget::pages::demo),
        ),
        r(
            "GET",
            "/widget/frame",
            Public,
            "The chat widget's frame",
            get(widget::pages::frame),
        ),
        r(
            "GET",
            "/widget/v1/status",
            Public,
            "Opening status, hours and emergency numbers",
            get(widget::api::status),
        ),
        r(
            "GET",
            "/widget/v1/challenge",
            Public,
            "A proof-of-work challenge, asked for new sessions under a flood",
            get(widget::api::challenge),
        ),
        r(
            "POST",
            "/widget/v1/sessions",
            Public,
            "Start an anonymous conversation; returns its token",
            post(widget::api::start),
        ),
        r(
            "GET",
            "/widget/v1/messages",
            Public,
            "The visitor's transcript (chat token)",
            get(widget::api::messages),
        ),
        r(
            "POST",
            "/widget/v1/messages",
            Public,
            "Send a message (chat token; idempotent by client_id)",
            post(widget::api::send),
        ),
        r(
            "POST",
            "/widget/v1/typing",
            Public,
            "The visitor is typing (chat token)",
            post(widget::api::typing),
        ),
        r(
            "GET",
            "/widget/v1/ws",
            Public,
            "Live events for the visitor (WebSocket; token in the first frame)",
            get(widget::ws::widget),
        ),
        // JSON API
        r(
            "POST",
            "/api/v1/auth/login",
            Public,
            "Log in; returns a bearer token",
            post(api::auth::login),
        ),
        r(
            "POST",
            "/api/v1/auth/totp",
            Session,
            "Check the second factor",
            post(api::auth::totp),
        ),
        r(
            "POST",
            "/api/v1/auth/logout",
            Session,
            "End the session",
            post(api::auth::logout),
        ),
        r(
            "GET",
            "/api/v1/me",
            Staff("manage_own_account"),
            "The logged-in account",
            get(api::auth::me),
        ),
        r(
            "GET",
            "/api/v1/cases",
            Staff("list_cases"),
            "List cases (status, category, assignee, q, cursor, limit)",
            get(api::cases::list),
        ),
        r(
            "POST",
            "/api/v1/cases",
            Staff("create_case"),
            "Open a case, optionally with its first contact",
            post(api::cases::create),
        ),
        r(
            "GET",
            "/api/v1/cases/{id}",
            Case("read_case"),
            "A case with its items, notes, contacts and timeline",
            get(api::cases::show),
        ),
        r(
            "POST",
            "/api/v1/cases/{id}/status",
            Case("change_case_status"),
            "Change a case's status",
            post(api::cases::status),
        ),
        r(
            "PUT",
            "/api/v1/cases/{id}/assignees",
            Case("assign_case"),
            "Replace a case's assignees",
            put(api::cases::assign),
        ),
        r(
            "POST",
            "/api/v1/cases/{id}/items",
            Case("update_case"),
            "Add an item",
            post(api::cases::add_item),
        ),
        r(
            "POST",
            "/api/v1/cases/{id}/notes",
            Case("add_note"),
            "Add a note",
            post(api::cases::add_note),
        ),
        r(
            "POST",
            "/api/v1/contacts",
            Staff("log_contact"),
            "Log a contact by hand",
            post(api::cases::log_contact),
        ),
        r(
            "GET",
            "/api/v1/staff",
            Staff("manage_staff"),
            "List staff accounts",
            get(api::staff::list),
        ),
        r(
            "POST",
            "/api/v1/staff",
            Staff("manage_staff"),
            "Create a staff account",
            post(api::staff::create),
        ),
        r(
            "POST",
            "/api/v1/staff/{id}/disable",
            Staff("manage_staff"),
            "Disable an account",
            post(api::staff::disable),
        ),
        r(
            "POST",
            "/api/v1/staff/{id}/enable",
            Staff("manage_staff"),
            "Re-enable an account",
            post(api::staff::enable),
        ),
        r(
            "GET",
            "/api/v1/audit",
            Staff("read_audit"),
            "Audit events, newest first",
            get(api::staff::audit),
        ),
        r(
            "GET",
            "/api/v1/categories",
            Staff("manage_own_account"),
            "Category taxonomy",
            get(api::misc::categories),
        ),
        r(
            "GET",
            "/api/v1/platforms",
            Staff("manage_own_account"),
            "Platform directory",
            get(api::misc::platforms),
        ),
        r(
            "GET",
            "/api/v1/chats",
            Staff("log_contact"),
            "Chat queue, messages left while closed, own conversations",
            get(api::chat::overview),
        ),
        r(
            "PUT",
            "/api/v1/chats/availability",
            Staff("log_contact"),
            "Set one's own chat availability and capacity",
            put(api::chat::availability),
        ),
        r(
            "POST",
            "/api/v1/chats/take",
            Staff("log_contact"),
            "Take the most urgent waiting conversation",
            post(api::chat::take),
        ),
        r(
            "GET",
            "/api/v1/chats/{id}/messages",
            Session,
            "A conversation's transcript (audited)",
            get(api::chat::messages),
        ),
        r(
            "POST",
            "/api/v1/chats/{id}/messages",
            Session,
            "Reply (idempotent by client_id)",
            post(api::chat::send),
        ),
        r(
            "POST",
            "/api/v1/chats/{id}/end",
            Session,
            "End with the contact summary",
            post(api::chat::end),
        ),
        r(
            "POST",
            "/api/v1/chats/{id}/transfer",
            Session,
            "Hand over to a colleague or a role, with an internal note",
            post(api::chat::transfer),
        ),
        r(
            "GET",
            "/api/v1/ws",
            Session,
            "Live console events (WebSocket, same origin)",
            get(widget::ws::console),
        ),
    ]
}
