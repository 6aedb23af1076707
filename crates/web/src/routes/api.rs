//! The JSON API under `/api/v1` (a bearer token, or the session cookie with its CSRF token).

use super::{Access, Answer, Route, r};
use crate::api::auth::{LoginReq, TotpReq};
use crate::api::cases::ListQuery;
use crate::api::chat::{After, AvailabilityReq, EndReq, SendReq, TransferReq};
use crate::api::dto;
use crate::api::staff::{AcceptReq, AuditQuery, InviteReq, RoleReq};
use crate::api::{
    auth, callbacks, cases, chat, complaint, evidence, followup, misc, notices, referrals, staff,
};
use crate::openapi::schema;
use crate::widget::ws;
use axum::routing::{get, post, put};
use rempart_domain::policy::Action;

pub(super) fn routes() -> Vec<Route> {
    use Access::*;
    use Action::*;
    Vec::from([
        // authentication
        r(
            "POST",
            "/api/v1/auth/login",
            Public,
            "Log in; returns a bearer token",
            post(auth::login),
        )
        .body::<LoginReq>()
        .ok::<dto::Session>()
        .errors(&[401, 429]),
        r(
            "POST",
            "/api/v1/auth/totp",
            Session,
            "Check the second factor; returns the new, full session's token",
            post(auth::totp),
        )
        .body::<TotpReq>()
        .ok::<dto::Session>()
        .errors(&[404, 409, 429]),
        r(
            "POST",
            "/api/v1/auth/logout",
            Session,
            "End the session",
            post(auth::logout),
        )
        .no_content(),
        r(
            "POST",
            "/api/v1/invitations/accept",
            Public,
            "Accept an invitation with a password of one's own; returns a bearer token",
            post(staff::accept_invitation),
        )
        .body::<AcceptReq>()
        .created::<dto::Session>()
        .errors(&[401, 404, 409, 429]),
        r(
            "GET",
            "/api/v1/me",
            Staff(ManageOwnAccount),
            "The logged-in account",
            get(auth::me),
        )
        .ok::<dto::Staff>(),
        // cases
        r(
            "GET",
            "/api/v1/cases",
            Staff(ListCases),
            "List cases (status, category, assignee, q, cursor, limit)",
            get(cases::list),
        )
        .query::<ListQuery>()
        .ok::<dto::CaseList>()
        .errors(&[404]),
        r(
            "POST",
            "/api/v1/cases",
            Staff(CreateCase),
            "Open a case, optionally with its first contact",
            post(cases::create),
        )
        .body::<dto::CreateCaseReq>()
        .created::<dto::Case>()
        .errors(&[404, 409]),
        r(
            "GET",
            "/api/v1/cases/{id}",
            Case(ReadCase),
            "A case with its items, notes, contacts and timeline",
            get(cases::show),
        )
        .ok::<dto::CasePage>(),
        r(
            "POST",
            "/api/v1/cases/{id}/status",
            Case(ChangeCaseStatus),
            "Change a case's status",
            post(cases::status),
        )
        .body::<dto::StatusReq>()
        .ok::<dto::Case>()
        .errors(&[409]),
        r(
            "PUT",
            "/api/v1/cases/{id}/assignees",
            Case(AssignCase),
            "Replace a case's assignees",
            put(cases::assign),
        )
        .body::<dto::AssignReq>()
        .ok::<dto::Case>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/cases/{id}/items",
            Case(UpdateCase),
            "Add an item",
            post(cases::add_item),
        )
        .body::<dto::ItemReq>()
        .created::<dto::Item>()
        .errors(&[409]),
        // evidence
        r(
            "GET",
            "/api/v1/cases/{id}/evidence",
            Case(ReadEvidence),
            "A case's evidence: files, fingerprints, links and excerpts, with their capture metadata",
            get(evidence::list),
        )
        .ok_list::<dto::Evidence>(),
        r(
            "POST",
            "/api/v1/cases/{id}/evidence/files",
            Case(AddEvidence),
            "Add a file (multipart/form-data): its type is decided by its bytes; it is kept encrypted with copies without metadata; never for a sexual image of a minor (file_forbidden)",
            post(evidence::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .multipart::<dto::EvidenceUpload>()
        .created::<dto::AddedEvidenceOut>(),
        r(
            "POST",
            "/api/v1/cases/{id}/evidence/fingerprints",
            Case(AddEvidence),
            "Record the fingerprints (SHA-256, MD5, PDQ) of a file that stays on the sender's device",
            post(evidence::fingerprints),
        )
        .body::<dto::FingerprintReq>()
        .created::<dto::AddedEvidenceOut>(),
        r(
            "POST",
            "/api/v1/cases/{id}/evidence/notes",
            Case(AddEvidence),
            "Record a link or a text excerpt as evidence",
            post(evidence::note),
        )
        .body::<dto::EvidenceNoteReq>()
        .created::<dto::AddedEvidenceOut>(),
        r(
            "GET",
            "/api/v1/cases/{id}/evidence/{evidence}/display",
            Case(ReadEvidence),
            "A picture's display copy, without metadata (blurred when intimate); a custody event",
            get(evidence::display),
        )
        .answers(&[Answer::File(&["image/jpeg"])]),
        r(
            "GET",
            "/api/v1/cases/{id}/evidence/{evidence}/revealed",
            Case(RevealEvidence),
            "An intimate picture's display copy, not blurred: an explicit, audited reveal",
            get(evidence::revealed),
        )
        .answers(&[Answer::File(&["image/jpeg"])]),
        r(
            "GET",
            "/api/v1/cases/{id}/evidence/{evidence}/clean",
            Case(DownloadEvidence),
            "The clean copy, without metadata, as an attachment (what is sent out); a custody event",
            get(evidence::clean),
        )
        .answers(&[Answer::File(&["image/jpeg", "image/png", "video/mp4"])]),
        r(
            "GET",
            "/api/v1/cases/{id}/evidence/{evidence}/original",
            Case(DownloadEvidence),
            "The original as received, as an attachment; a custody event",
            get(evidence::original),
        )
        .answers(&[Answer::File(&[
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/gif",
            "application/pdf",
            "video/mp4",
            "text/plain; charset=utf-8",
        ])]),
        r(
            "GET",
            "/api/v1/cases/{id}/evidence-export",
            Case(ExportEvidence),
            "The case's evidence export: a zip of the originals with a manifest signed with the helpline's Ed25519 key (check it with `rempart evidence verify`)",
            get(evidence::export),
        )
        .answers(&[Answer::File(&["application/zip"])]),
        r(
            "GET",
            "/api/v1/cases/{id}/complaint",
            Case(ExportComplaint),
            "The case's complaint document (\"aide au dépôt de plainte\"), a PDF for the young person's family or for the police: offences with their penal articles, items, evidence with hashes and capture times, referrals and timeline — no notes, no staff names; audited",
            get(complaint::complaint),
        )
        .query::<complaint::ComplaintQuery>()
        .answers(&[Answer::File(&["application/pdf"])])
        .errors(&[503]),
        // referrals
        r(
            "GET",
            "/api/v1/cases/{id}/referrals",
            Case(ReadCase),
            "A case's referrals to authorities and services: basis, consent, what was shared with whom, state and outcome",
            get(referrals::list),
        )
        .ok_list::<dto::Referral>(),
        r(
            "POST",
            "/api/v1/cases/{id}/referrals",
            Case(PrepareReferral),
            "Propose a referral of the case to a service of the directory",
            post(referrals::propose),
        )
        .body::<dto::ReferralReq>()
        .created::<dto::Referral>(),
        r(
            "POST",
            "/api/v1/cases/{id}/referrals/{referral}/basis",
            Case(PrepareReferral),
            "Record a referral's lawful basis: who consented and to what, or the legal obligation or vital interest",
            post(referrals::basis),
        )
        .body::<dto::ReferralBasisReq>()
        .ok::<dto::Referral>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/cases/{id}/referrals/{referral}/transmission",
            Case(PrepareReferral),
            "Record a referral's transmission (what was shared, with whom, how): each piece of evidence shared is a custody event; never without a recorded basis",
            post(referrals::transmission),
        )
        .body::<dto::ReferralTransmissionReq>()
        .ok::<dto::Referral>()
        .errors(&[409]),
        r(
            "GET",
            "/api/v1/cases/{id}/referrals/{referral}/package",
            Case(ExportEvidence),
            "A referral's package: the signed export (zip, manifest signed with Ed25519) of the evidence its transmission shared, with those pieces' chain of custody; 422 before the transmission names any",
            get(referrals::package),
        )
        .answers(&[Answer::File(&["application/zip"])]),
        r(
            "POST",
            "/api/v1/cases/{id}/referrals/{referral}/events",
            Case(PrepareReferral),
            "Move a referral on: acknowledged, closed with its outcome, declined, cancelled",
            post(referrals::event),
        )
        .body::<dto::ReferralEventReq>()
        .ok::<dto::Referral>()
        .errors(&[409]),
        r(
            "POST",
            "/callbacks/coop/{platform}",
            Public,
            "A platform's ROOST Coop action callback (signed with its key): the decision on a notice",
            post(callbacks::coop),
        )
        .body::<dto::CoopCallback>()
        .ok::<dto::CallbackAck>()
        .errors(&[401, 404, 409]),
        r(
            "POST",
            "/callbacks/coop/{platform}/appeal",
            Public,
            "A platform's ROOST Coop appeal decision callback (signed with its key): kept on the notice",
            post(callbacks::coop_appeal),
        )
        .body::<dto::CoopAppealCallback>()
        .ok::<dto::CallbackAck>()
        .errors(&[401, 404, 409]),
        r(
            "GET",
            "/api/v1/cases/{id}/notices",
            Notice(ReadNotice),
            "A case's notices to platforms, with what each lacks",
            get(notices::of_case),
        )
        .ok::<Vec<dto::Notice>>(),
        r(
            "POST",
            "/api/v1/cases/{id}/notices",
            Notice(PrepareNotice),
            "Propose one draft notice per platform for the case's items in no notice yet",
            post(notices::propose),
        )
        .created::<Vec<dto::Notice>>(),
        r(
            "GET",
            "/api/v1/notices/{id}",
            Notice(ReadNotice),
            "A notice",
            get(notices::get),
        )
        .ok::<dto::Notice>(),
        r(
            "PUT",
            "/api/v1/notices/{id}",
            Notice(PrepareNotice),
            "Edit a draft notice",
            put(notices::edit),
        )
        .body::<dto::NoticeEditReq>()
        .ok::<dto::Notice>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/notices/{id}/ready",
            Notice(PrepareNotice),
            "Mark a complete draft ready (what is missing, otherwise)",
            post(notices::ready),
        )
        .ok::<dto::Notice>()
        .errors(&[409, 422]),
        r(
            "POST",
            "/api/v1/notices/{id}/unready",
            Notice(PrepareNotice),
            "Send a ready notice back to draft",
            post(notices::unready),
        )
        .ok::<dto::Notice>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/notices/{id}/validate",
            Notice(ValidateNotice),
            "Validate a ready notice another counsellor prepared (four eyes)",
            post(notices::validate),
        )
        .ok::<dto::Notice>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/notices/{id}/send",
            Notice(PrepareNotice),
            "Send a ready notice through its platform's priority channel",
            post(notices::send),
        )
        .ok::<dto::Notice>()
        .errors(&[409, 422]),
        r(
            "POST",
            "/api/v1/notices/{id}/acknowledge",
            Notice(PrepareNotice),
            "Record the platform's acknowledgement (a portal's ticket number)",
            post(notices::acknowledge),
        )
        .body::<dto::AcknowledgeReq>()
        .ok::<dto::Notice>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/notices/{id}/decision",
            Notice(PrepareNotice),
            "Record the platform's decision by hand",
            post(notices::decision),
        )
        .body::<dto::DecisionReq>()
        .ok::<dto::Notice>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/notices/{id}/contest",
            Notice(PrepareNotice),
            "Contest the platform's refusal with the helpline's reason (the notice is escalated)",
            post(followup::contest),
        )
        .body::<dto::ContestReq>()
        .ok::<dto::Notice>()
        .errors(&[409]),
        r(
            "GET",
            "/api/v1/notices",
            Staff(ListCases),
            "The helpline's notices the account may see (platform, state, late, category, cursor, limit)",
            get(followup::list),
        )
        .query::<followup::NoticeListQuery>()
        .ok::<dto::NoticeList>()
        .errors(&[404]),
        r(
            "GET",
            "/api/v1/platforms/{platform}/figures",
            Staff(ListCases),
            "A platform's time to acknowledgement, decision and removal (median, 90th percentile)",
            get(followup::figures),
        )
        .ok::<dto::PlatformFiguresOut>()
        .errors(&[404]),
        r(
            "POST",
            "/api/v1/cases/{id}/notes",
            Case(AddNote(rempart_domain::case::NoteVisibility::Team)),
            "Add a note (of a visibility the account may write)",
            post(cases::add_note),
        )
        .body::<dto::NoteReq>()
        .created::<dto::Note>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/contacts",
            Staff(LogContact),
            "Log a contact by hand",
            post(cases::log_contact),
        )
        .body::<dto::ContactReq>()
        .created::<dto::Contact>()
        .errors(&[404, 409]),
        // administration
        r(
            "GET",
            "/api/v1/staff",
            Staff(ManageStaff),
            "List staff accounts",
            get(staff::list),
        )
        .ok_list::<dto::Staff>()
        .errors(&[404]),
        r(
            "PUT",
            "/api/v1/staff/{id}/role",
            Staff(ManageStaff),
            "Change an account's role and team (supervisor, admin: a second admin approves)",
            put(staff::role),
        )
        .body::<RoleReq>()
        .ok::<dto::RoleChangeAnswer>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/staff/{id}/disable",
            Staff(ManageStaff),
            "Disable an account",
            post(staff::disable),
        )
        .no_content()
        .errors(&[409, 422]),
        r(
            "POST",
            "/api/v1/staff/{id}/enable",
            Staff(ManageStaff),
            "Re-enable an account",
            post(staff::enable),
        )
        .no_content()
        .errors(&[409, 422]),
        r(
            "GET",
            "/api/v1/invitations",
            Staff(ManageStaff),
            "Invitations awaiting approval or acceptance",
            get(staff::invitations),
        )
        .ok_list::<dto::Invitation>()
        .errors(&[404]),
        r(
            "POST",
            "/api/v1/invitations",
            Staff(ManageStaff),
            "Invite a new account; returns its one-time link when it can be used now",
            post(staff::invite),
        )
        .body::<InviteReq>()
        .created::<dto::IssuedInvitation>()
        .errors(&[404, 409]),
        r(
            "POST",
            "/api/v1/invitations/{id}/approve",
            Grant,
            "Approve another administrator's invitation; returns its link",
            post(staff::approve_invitation),
        )
        .ok::<dto::IssuedInvitation>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/invitations/{id}/refuse",
            Grant,
            "Refuse another administrator's invitation",
            post(staff::refuse_invitation),
        )
        .no_content()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/invitations/{id}/revoke",
            Staff(ManageStaff),
            "Withdraw an invitation",
            post(staff::revoke_invitation),
        )
        .no_content()
        .errors(&[409]),
        r(
            "GET",
            "/api/v1/role-grants",
            Staff(ManageStaff),
            "Role grants awaiting a second administrator",
            get(staff::grants),
        )
        .ok_list::<dto::RoleGrant>()
        .errors(&[404]),
        r(
            "POST",
            "/api/v1/role-grants/{id}/approve",
            Grant,
            "Approve another administrator's grant of a role",
            post(staff::approve_grant),
        )
        .no_content()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/role-grants/{id}/refuse",
            Grant,
            "Refuse another administrator's grant of a role",
            post(staff::refuse_grant),
        )
        .no_content()
        .errors(&[409]),
        r(
            "GET",
            "/api/v1/audit",
            Staff(ReadAudit),
            "Audit events, newest first",
            get(staff::audit),
        )
        .query::<AuditQuery>()
        .ok_list::<dto::AuditEvent>()
        .errors(&[404]),
        // reference data
        r(
            "GET",
            "/api/v1/categories",
            Staff(ManageOwnAccount),
            "Category taxonomy",
            get(misc::categories),
        )
        .ok_list::<dto::Category>(),
        r(
            "GET",
            "/api/v1/platforms",
            Staff(ManageOwnAccount),
            "Platform directory",
            get(misc::platforms),
        )
        .ok_list::<dto::Platform>(),
        // chats
        r(
            "GET",
            "/api/v1/chats",
            Staff(AnswerChats),
            "Chat queue, messages left while closed, own conversations",
            get(chat::overview),
        )
        .ok::<dto::ChatOverview>()
        .errors(&[404]),
        r(
            "PUT",
            "/api/v1/chats/availability",
            Staff(AnswerChats),
            "Set one's own chat availability and capacity",
            put(chat::availability),
        )
        .body::<AvailabilityReq>()
        .ok::<dto::Load>()
        .errors(&[404, 409]),
        r(
            "POST",
            "/api/v1/chats/take",
            Staff(AnswerChats),
            "Take the most urgent waiting conversation",
            post(chat::take),
        )
        .answers(&[
            Answer::Json(200, schema::<dto::Conversation>),
            Answer::NoContent,
        ])
        .errors(&[404, 409]),
        r(
            "POST",
            "/api/v1/chats/{id}/take",
            Conversation(TakeConversation),
            "Take this message left while the line was closed",
            post(chat::take_left),
        )
        .ok::<dto::Conversation>()
        .errors(&[409]),
        r(
            "GET",
            "/api/v1/chats/{id}/messages",
            Conversation(ReadConversation),
            "A conversation's transcript (audited)",
            get(chat::messages),
        )
        .query::<After>()
        .ok::<dto::Transcript>(),
        r(
            "POST",
            "/api/v1/chats/{id}/messages",
            Conversation(WriteConversation),
            "Reply (idempotent by client_id)",
            post(chat::send),
        )
        .body::<SendReq>()
        .created::<dto::Message>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/chats/{id}/end",
            Conversation(EndConversation),
            "End with the contact summary",
            post(chat::end),
        )
        .body::<EndReq>()
        .ok::<dto::Contact>()
        .errors(&[409]),
        r(
            "POST",
            "/api/v1/chats/{id}/transfer",
            Conversation(WriteConversation),
            "Hand over to a colleague or a role, with an internal note",
            post(chat::transfer),
        )
        .body::<TransferReq>()
        .no_content()
        .errors(&[409]),
        r(
            "GET",
            "/api/v1/ws",
            Staff(ManageOwnAccount),
            "Live console events (WebSocket, same origin)",
            get(ws::console),
        )
        .answers(&[Answer::Upgrade])
        .no_database()
        .errors(&[400, 403]),
    ])
}
