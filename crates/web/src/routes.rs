//! The route table: every route once, with the policy action it needs and its summary.
//! The router, the OpenAPI document and the route × role × ownership test are all built
//! from it, and so is the check of the local paths a redirect may go back to.

use crate::AppState;
use crate::{api, pages, widget};
use axum::routing::{MethodRouter, get, post, put};
use rempart_domain::policy::Action;

/// Who may call a route: what the handler's use-case asks of the access policy (the
/// route × role × ownership test checks the answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A logged-in session, possibly before its second factor.
    Session,
    /// A full session and this action, globally.
    Staff(Action),
    /// A full session and this action on the case in the path.
    Case(Action),
    /// A full session and this action on the conversation in the path.
    Conversation(Action),
    /// A full session and [`Action::ApproveRoleGrant`] on the pending invitation or grant
    /// in the path.
    Grant,
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
    use Action::*;
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
            "Readiness probe: the database answers and takes writes",
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
            "Home: the first page the account's role may use, or the login",
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
            "Second-factor page (passkey or code)",
            get(pages::auth::totp_page),
        ),
        r(
            "POST",
            "/login/totp",
            Session,
            "Check a TOTP or recovery code",
            post(pages::auth::totp),
        ),
        r(
            "POST",
            "/login/passkey/options",
            Session,
            "Start the passkey check (WebAuthn options)",
            post(pages::passkeys::login_options),
        ),
        r(
            "POST",
            "/login/passkey",
            Session,
            "Check the passkey's answer",
            post(pages::passkeys::login),
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
            "Switch language (fr, en) and go back to the page",
            get(pages::auth::switch_lang),
        ),
        r(
            "GET",
            "/invite/{token}",
            Public,
            "Invitation: the new account sets its own password",
            get(pages::invite::page),
        ),
        r(
            "POST",
            "/invite/{token}",
            Public,
            "Accept an invitation with a password of one's own",
            post(pages::invite::accept),
        ),
        r(
            "GET",
            "/account",
            Session,
            "Own account: second factors (passkeys, TOTP)",
            get(pages::account::page),
        ),
        r(
            "POST",
            "/account/totp",
            Session,
            "Start or confirm TOTP enrolment",
            post(pages::account::totp),
        ),
        r(
            "POST",
            "/account/passkeys/options",
            Session,
            "Start registering a passkey (WebAuthn options)",
            post(pages::passkeys::register_options),
        ),
        r(
            "POST",
            "/account/passkeys",
            Session,
            "Register a passkey",
            post(pages::passkeys::register),
        ),
        r(
            "POST",
            "/account/passkeys/{id}/delete",
            Staff(ManageOwnAccount),
            "Remove one of one's passkeys",
            post(pages::passkeys::remove),
        ),
        // console: cases
        r(
            "GET",
            "/cases",
            Staff(ListCases),
            "Case list with filters and search",
            get(pages::cases::list),
        ),
        r(
            "GET",
            "/cases/{id}",
            Case(ReadCase),
            "Case page",
            get(pages::cases::show),
        ),
        r(
            "POST",
            "/cases/{id}/status",
            Case(ChangeCaseStatus),
            "Change a case's status",
            post(pages::cases::status),
        ),
        r(
            "POST",
            "/cases/{id}/assignees",
            Case(AssignCase),
            "Change a case's assignees",
            post(pages::cases::assign),
        ),
        r(
            "POST",
            "/cases/{id}/items",
            Case(UpdateCase),
            "Add an item to a case",
            post(pages::cases::add_item),
        ),
        r(
            "POST",
            "/cases/{id}/notes",
            Case(AddNote(rempart_domain::case::NoteVisibility::Team)),
            "Add a note to a case (of a visibility the account may write)",
            post(pages::cases::add_note),
        ),
        r(
            "GET",
            "/contacts/new",
            Staff(LogContact),
            "Form to log a contact by hand",
            get(pages::contacts::form),
        ),
        r(
            "POST",
            "/contacts",
            Staff(LogContact),
            "Log a contact, optionally opening a case",
            post(pages::contacts::create),
        ),
        // console: administration
        r(
            "GET",
            "/admin/staff",
            Staff(ManageStaff),
            "Staff accounts, invitations and role grants",
            get(pages::admin::list),
        ),
        r(
            "POST",
            "/admin/invitations",
            Staff(ManageStaff),
            "Invite a new account (a one-time link)",
            post(pages::admin::invite),
        ),
        r(
            "POST",
            "/admin/invitations/{id}/revoke",
            Staff(ManageStaff),
            "Withdraw an invitation",
            post(pages::admin::revoke),
        ),
        r(
            "POST",
            "/admin/invitations/{id}/approve",
            Grant,
            "Approve another administrator's invitation of a supervisor or administrator",
            post(pages::admin::approve_invitation),
        ),
        r(
            "POST",
            "/admin/invitations/{id}/refuse",
            Grant,
            "Refuse another administrator's invitation of a supervisor or administrator",
            post(pages::admin::refuse_invitation),
        ),
        r(
            "POST",
            "/admin/staff/{id}/role",
            Staff(ManageStaff),
            "Change an account's role and team",
            post(pages::admin::role),
        ),
        r(
            "POST",
            "/admin/grants/{id}/approve",
            Grant,
            "Approve another administrator's grant of a role",
            post(pages::admin::approve_grant),
        ),
        r(
            "POST",
            "/admin/grants/{id}/refuse",
            Grant,
            "Refuse another administrator's grant of a role",
            post(pages::admin::refuse_grant),
        ),
        r(
            "POST",
            "/admin/staff/{id}/disable",
            Staff(ManageStaff),
            "Disable an account (ends its sessions)",
            post(pages::admin::disable),
        ),
        r(
            "POST",
            "/admin/staff/{id}/enable",
            Staff(ManageStaff),
            "Re-enable an account",
            post(pages::admin::enable),
        ),
        r(
            "GET",
            "/audit",
            Staff(ReadAudit),
            "Audit trail",
            get(pages::audit::list),
        ),
        // console: chats
        r(
            "GET",
            "/chats",
            Staff(AnswerChats),
            "Chat queue, left messages and own conversations",
            get(pages::chats::queue),
        ),
        r(
            "POST",
            "/chats/availability",
            Staff(AnswerChats),
            "Set one's own chat availability and capacity",
            post(pages::chats::availability),
        ),
        r(
            "POST",
            "/chats/take",
            Staff(AnswerChats),
            "Take the most urgent waiting conversation",
            post(pages::chats::take),
        ),
        r(
            "GET",
            "/chats/{id}",
            Conversation(ReadConversation),
            "A conversation (its counsellor; supervisors read)",
            get(pages::chats::show),
        ),
        r(
            "POST",
            "/chats/{id}/take",
            Conversation(TakeConversation),
            "Take this message left while the line was closed",
            post(pages::chats::take_left),
        ),
        r(
            "POST",
            "/chats/{id}/messages",
            Conversation(WriteConversation),
            "Reply in a conversation (its counsellor)",
            post(pages::chats::reply),
        ),
        r(
            "POST",
            "/chats/{id}/end",
            Conversation(WriteConversation),
            "End a conversation with its summary (its counsellor)",
            post(pages::chats::end),
        ),
        r(
            "POST",
            "/chats/{id}/transfer",
            Conversation(WriteConversation),
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
            "POST",
            "/widget/v1/follow-up",
            Public,
            "Open a conversation again with its follow-up code; returns a token",
            post(widget::api::follow_up),
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
            "Check the second factor; returns the new, full session's token",
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
            "POST",
            "/api/v1/invitations/accept",
            Public,
            "Accept an invitation with a password of one's own; returns a bearer token",
            post(api::staff::accept_invitation),
        ),
        r(
            "GET",
            "/api/v1/me",
            Staff(ManageOwnAccount),
            "The logged-in account",
            get(api::auth::me),
        ),
        r(
            "GET",
            "/api/v1/cases",
            Staff(ListCases),
            "List cases (status, category, assignee, q, cursor, limit)",
            get(api::cases::list),
        ),
        r(
            "POST",
            "/api/v1/cases",
            Staff(CreateCase),
            "Open a case, optionally with its first contact",
            post(api::cases::create),
        ),
        r(
            "GET",
            "/api/v1/cases/{id}",
            Case(ReadCase),
            "A case with its items, notes, contacts and timeline",
            get(api::cases::show),
        ),
        r(
            "POST",
            "/api/v1/cases/{id}/status",
            Case(ChangeCaseStatus),
            "Change a case's status",
            post(api::cases::status),
        ),
        r(
            "PUT",
            "/api/v1/cases/{id}/assignees",
            Case(AssignCase),
            "Replace a case's assignees",
            put(api::cases::assign),
        ),
        r(
            "POST",
            "/api/v1/cases/{id}/items",
            Case(UpdateCase),
            "Add an item",
            post(api::cases::add_item),
        ),
        r(
            "POST",
            "/api/v1/cases/{id}/notes",
            Case(AddNote(rempart_domain::case::NoteVisibility::Team)),
            "Add a note (of a visibility the account may write)",
            post(api::cases::add_note),
        ),
        r(
            "POST",
            "/api/v1/contacts",
            Staff(LogContact),
            "Log a contact by hand",
            post(api::cases::log_contact),
        ),
        r(
            "GET",
            "/api/v1/staff",
            Staff(ManageStaff),
            "List staff accounts",
            get(api::staff::list),
        ),
        r(
            "PUT",
            "/api/v1/staff/{id}/role",
            Staff(ManageStaff),
            "Change an account's role and team (supervisor and administrator grants may wait for a second administrator)",
            put(api::staff::role),
        ),
        r(
            "POST",
            "/api/v1/staff/{id}/disable",
            Staff(ManageStaff),
            "Disable an account",
            post(api::staff::disable),
        ),
        r(
            "POST",
            "/api/v1/staff/{id}/enable",
            Staff(ManageStaff),
            "Re-enable an account",
            post(api::staff::enable),
        ),
        r(
            "GET",
            "/api/v1/invitations",
            Staff(ManageStaff),
            "Invitations awaiting approval or acceptance",
            get(api::staff::invitations),
        ),
        r(
            "POST",
            "/api/v1/invitations",
            Staff(ManageStaff),
            "Invite a new account; returns its one-time link when it can be used now",
            post(api::staff::invite),
        ),
        r(
            "POST",
            "/api/v1/invitations/{id}/approve",
            Grant,
            "Approve another administrator's invitation; returns its link",
            post(api::staff::approve_invitation),
        ),
        r(
            "POST",
            "/api/v1/invitations/{id}/refuse",
            Grant,
            "Refuse another administrator's invitation",
            post(api::staff::refuse_invitation),
        ),
        r(
            "POST",
            "/api/v1/invitations/{id}/revoke",
            Staff(ManageStaff),
            "Withdraw an invitation",
            post(api::staff::revoke_invitation),
        ),
        r(
            "GET",
            "/api/v1/role-grants",
            Staff(ManageStaff),
            "Role grants awaiting a second administrator",
            get(api::staff::grants),
        ),
        r(
            "POST",
            "/api/v1/role-grants/{id}/approve",
            Grant,
            "Approve another administrator's grant of a role",
            post(api::staff::approve_grant),
        ),
        r(
            "POST",
            "/api/v1/role-grants/{id}/refuse",
            Grant,
            "Refuse another administrator's grant of a role",
            post(api::staff::refuse_grant),
        ),
        r(
            "GET",
            "/api/v1/audit",
            Staff(ReadAudit),
            "Audit events, newest first",
            get(api::staff::audit),
        ),
        r(
            "GET",
            "/api/v1/categories",
            Staff(ManageOwnAccount),
            "Category taxonomy",
            get(api::misc::categories),
        ),
        r(
            "GET",
            "/api/v1/platforms",
            Staff(ManageOwnAccount),
            "Platform directory",
            get(api::misc::platforms),
        ),
        r(
            "GET",
            "/api/v1/chats",
            Staff(AnswerChats),
            "Chat queue, messages left while closed, own conversations",
            get(api::chat::overview),
        ),
        r(
            "PUT",
            "/api/v1/chats/availability",
            Staff(AnswerChats),
            "Set one's own chat availability and capacity",
            put(api::chat::availability),
        ),
        r(
            "POST",
            "/api/v1/chats/take",
            Staff(AnswerChats),
            "Take the most urgent waiting conversation",
            post(api::chat::take),
        ),
        r(
            "POST",
            "/api/v1/chats/{id}/take",
            Conversation(TakeConversation),
            "Take this message left while the line was closed",
            post(api::chat::take_left),
        ),
        r(
            "GET",
            "/api/v1/chats/{id}/messages",
            Conversation(ReadConversation),
            "A conversation's transcript (audited)",
            get(api::chat::messages),
        ),
        r(
            "POST",
            "/api/v1/chats/{id}/messages",
            Conversation(WriteConversation),
            "Reply (idempotent by client_id)",
            post(api::chat::send),
        ),
        r(
            "POST",
            "/api/v1/chats/{id}/end",
            Conversation(WriteConversation),
            "End with the contact summary",
            post(api::chat::end),
        ),
        r(
            "POST",
            "/api/v1/chats/{id}/transfer",
            Conversation(WriteConversation),
            "Hand over to a colleague or a role, with an internal note",
            post(api::chat::transfer),
        ),
        r(
            "GET",
            "/api/v1/ws",
            Staff(ManageOwnAccount),
            "Live console events (WebSocket, same origin)",
            get(widget::ws::console),
        ),
    ]
}

/// Keeps `back` when it is a local page of the console (a GET route of this table, with an
/// optional query of plain characters); anything else — another site, tricks with slashes,
/// tabs or control characters — gives None.
pub fn local_path(back: &str) -> Option<&str> {
    let ok_chars = back
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.~?=&%+:".contains(&b));
    if !ok_chars || !back.starts_with('/') || back.starts_with("//") || back.len() > 512 {
        return None;
    }
    let path = back.split('?').next().unwrap_or("");
    let known = routes()
        .iter()
        .any(|(d, _)| d.method == "GET" && template_matches(d.path, path));
    known.then_some(back)
}

/// Whether a concrete path matches a route template (`{x}` matches one non-empty segment).
fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(a, b)| {
            if a.starts_with('{') && a.ends_with('}') {
                !b.is_empty()
            } else {
                a == b
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_console_pages_are_kept() {
        assert_eq!(local_path("/cases?status=new"), Some("/cases?status=new"));
        assert_eq!(
            local_path("/chats/0191d7a4-5b1e-7c3a-9f00-000000000001"),
            Some("/chats/0191d7a4-5b1e-7c3a-9f00-000000000001")
        );
        for bad in [
            "/\t/evil.example",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/%09/evil.example/x",
            "/nowhere",
            "/cases/\n",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
