//! The console: server-rendered pages and forms (a session cookie, a CSRF token in every
//! form), and the JSON calls of the passkey ceremonies.

use super::{Access, Answer, Route, r};
use crate::api::cases::ListQuery;
use crate::api::dto::{Next, PasskeyOptions};
use crate::api::followup::NoticeListQuery;
use crate::api::staff::AuditQuery;
use crate::pages::{
    account, admin, audit, auth, cases, chats, contacts, evidence, followup, followup_page,
    guidance, invite, notices, partner_keys, passkeys, platforms,
};
use axum::routing::{get, post};
use rempart_domain::policy::Action;

pub(super) fn routes() -> Vec<Route> {
    use Access::*;
    use Action::*;
    Vec::from([
        // authentication
        r(
            "GET",
            "/",
            Public,
            "Home: the first page the account's role may use, or the login",
            get(auth::home),
        )
        .redirects()
        .no_database(),
        r("GET", "/login", Public, "Login page", get(auth::login_page))
            .page()
            .no_database()
            .errors(&[500]),
        r(
            "POST",
            "/login",
            Public,
            "Log in (e-mail, password)",
            post(auth::login),
        )
        .form()
        .redirects()
        .errors(&[401, 429]),
        r(
            "GET",
            "/login/totp",
            Session,
            "Second-factor page (passkey or code)",
            get(auth::totp_page),
        )
        .page(),
        r(
            "POST",
            "/login/totp",
            Session,
            "Check a TOTP or recovery code",
            post(auth::totp),
        )
        .form()
        .redirects()
        .errors(&[401, 409, 429]),
        r(
            "POST",
            "/login/passkey/options",
            Session,
            "Start the passkey check (WebAuthn options)",
            post(passkeys::login_options),
        )
        .ok::<PasskeyOptions>()
        .errors(&[403, 409]),
        r(
            "POST",
            "/login/passkey",
            Session,
            "Check the passkey's answer",
            post(passkeys::login),
        )
        .body::<passkeys::LoginReq>()
        .ok::<Next>()
        .errors(&[403, 409, 429]),
        r("POST", "/logout", Session, "Log out", post(auth::logout))
            .form()
            .redirects(),
        r(
            "GET",
            "/lang/{lang}",
            Public,
            "Switch language (fr, en) and go back to the page",
            get(auth::switch_lang),
        )
        .redirects()
        .no_database()
        .errors(&[400]),
        r(
            "GET",
            "/invite/{token}",
            Public,
            "Invitation: the new account sets its own password",
            get(invite::page),
        )
        .page()
        .errors(&[400, 409]),
        r(
            "POST",
            "/invite/{token}",
            Public,
            "Accept an invitation with a password of one's own",
            post(invite::accept),
        )
        .form()
        .redirects()
        .errors(&[409, 429]),
        r(
            "GET",
            "/account",
            Session,
            "Own account: second factors (passkeys, TOTP)",
            get(account::page),
        )
        .page(),
        r(
            "POST",
            "/account/totp",
            Session,
            "Start or confirm TOTP enrolment",
            post(account::totp),
        )
        .form()
        .page()
        .errors(&[401, 409]),
        r(
            "POST",
            "/account/passkeys/options",
            Session,
            "Start registering a passkey (WebAuthn options)",
            post(passkeys::register_options),
        )
        .ok::<PasskeyOptions>()
        .errors(&[403, 409]),
        r(
            "POST",
            "/account/passkeys",
            Session,
            "Register a passkey",
            post(passkeys::register),
        )
        .body::<passkeys::RegisterReq>()
        .ok::<Next>()
        .errors(&[403, 409]),
        r(
            "POST",
            "/account/passkeys/{id}/delete",
            Staff(ManageOwnAccount),
            "Remove one of one's passkeys",
            post(passkeys::remove),
        )
        .form()
        .redirects()
        .errors(&[409]),
        // cases
        r(
            "GET",
            "/cases",
            Staff(ListCases),
            "Case list with filters and search",
            get(cases::list),
        )
        .query::<ListQuery>()
        .page()
        .errors(&[404]),
        r(
            "GET",
            "/cases/{id}",
            Case(ReadCase),
            "Case page",
            get(cases::show),
        )
        .page()
        .errors(&[400]),
        r(
            "POST",
            "/cases/{id}/status",
            Case(ChangeCaseStatus),
            "Change a case's status; a mistake shows the form again",
            post(cases::status),
        )
        .form()
        .answers(&[Answer::SeeOther, Answer::Html])
        .errors(&[409]),
        r(
            "POST",
            "/cases/{id}/assignees",
            Case(AssignCase),
            "Change a case's assignees",
            post(cases::assign),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/cases/{id}/items",
            Case(UpdateCase),
            "Add an item to a case",
            post(cases::add_item),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/cases/{id}/notes",
            Case(AddNote(rempart_domain::case::NoteVisibility::Team)),
            "Add a note to a case (of a visibility the account may write)",
            post(cases::add_note),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/cases/{id}/evidence",
            Case(AddEvidence),
            "Add an evidence file to a case (multipart/form-data, its CSRF token before the file)",
            post(evidence::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .multipart::<crate::api::dto::EvidenceUpload>()
        .redirects()
        .errors(&[403]),
        r(
            "POST",
            "/cases/{id}/evidence/notes",
            Case(AddEvidence),
            "Add a link or a text excerpt as evidence",
            post(evidence::note),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/cases/{id}/evidence/fingerprints",
            Case(AddEvidence),
            "Add the fingerprints of a picture hashed in the browser (the file never sent)",
            post(evidence::fingerprints),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/cases/{id}/follow-up",
            Case(ManageFollowUp),
            "Give the case a follow-up code and secret for the young person (shown once; any earlier code stops working)",
            post(evidence::issue_followup),
        )
        .form()
        .page(),
        r(
            "POST",
            "/cases/{id}/follow-up/revoke",
            Case(ManageFollowUp),
            "Withdraw the case's follow-up code",
            post(evidence::revoke_followup),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/cases/{id}/follow-up/messages",
            Case(ManageFollowUp),
            "Answer the young person on their follow-up page",
            post(evidence::reply_followup),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/cases/{id}/referrals",
            Case(PrepareReferral),
            "Propose a referral of the case to a service",
            post(evidence::propose_referral),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/cases/{id}/referrals/{referral}/basis",
            Case(PrepareReferral),
            "Record a referral's lawful basis (who consented, to what)",
            post(evidence::referral_basis),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/cases/{id}/referrals/{referral}/transmission",
            Case(PrepareReferral),
            "Record a referral's transmission: what was shared, with whom, how",
            post(evidence::referral_transmission),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/cases/{id}/referrals/{referral}/events",
            Case(PrepareReferral),
            "Move a referral on: acknowledged, closed, declined, cancelled",
            post(evidence::referral_event),
        )
        .form()
        .redirects()
        .errors(&[409]),
        // the young person's follow-up page
        r(
            "GET",
            "/follow-up",
            Public,
            "The young person's follow-up page: the code form, or the open page (state in plain words, messages, evidence)",
            get(followup_page::page),
        )
        .page(),
        r(
            "POST",
            "/follow-up",
            Public,
            "Open the follow-up page with the case code and the secret (limited per address, locked per code after wrong secrets)",
            post(followup_page::open),
        )
        .form()
        .redirects()
        .errors(&[429]),
        r(
            "POST",
            "/follow-up/messages",
            Public,
            "Write to the helpline from the follow-up page",
            post(followup_page::say),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/follow-up/evidence",
            Public,
            "Send a file from the follow-up page (multipart/form-data, its token before the file)",
            post(followup_page::evidence).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .multipart::<crate::api::dto::EvidenceUpload>()
        .redirects()
        .errors(&[403]),
        r(
            "POST",
            "/follow-up/fingerprints",
            Public,
            "Send only a picture's fingerprints, computed on the device, from the follow-up page",
            post(followup_page::fingerprints),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/follow-up/leave",
            Public,
            "Close the follow-up page",
            post(followup_page::leave),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/follow-up/exit",
            Public,
            "Quick exit: close the follow-up page and go to a neutral site",
            post(followup_page::exit),
        )
        .form()
        .redirects(),
        r(
            "POST",
            "/cases/{id}/playbook",
            Case(FollowPlaybook),
            "Tick or untick a step of the playbook of one of the case's categories",
            post(guidance::tick),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "GET",
            "/services",
            Staff(ReadGuidance),
            "The services directory: search by words (accents ignored), kind and region",
            get(guidance::services),
        )
        .query::<guidance::ServicesQuery>()
        .page(),
        r(
            "GET",
            "/playbooks",
            Staff(EditPlaybooks),
            "The playbooks editor (supervisors, administrators)",
            get(guidance::editor),
        )
        .query::<guidance::EditorQuery>()
        .page()
        .errors(&[404]),
        r(
            "POST",
            "/playbooks",
            Staff(EditPlaybooks),
            "Save the playbooks document; a mistake shows it again as typed",
            post(guidance::save),
        )
        .form()
        .answers(&[Answer::SeeOther, Answer::Html])
        .errors(&[404, 409]),
        r(
            "POST",
            "/playbooks/restore",
            Staff(EditPlaybooks),
            "Set the playbooks back to the embedded defaults",
            post(guidance::restore),
        )
        .form()
        .answers(&[Answer::SeeOther, Answer::Html])
        .errors(&[404, 409]),
        r(
            "POST",
            "/cases/{id}/notices",
            Notice(PrepareNotice),
            "Signaler aux plateformes: draft one notice per platform for the items in no notice yet",
            post(notices::propose),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/notices/{id}/edit",
            Notice(PrepareNotice),
            "Save a draft notice's explanation and flag",
            post(notices::edit),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/notices/{id}/ready",
            Notice(PrepareNotice),
            "Mark a complete draft notice ready",
            post(notices::ready),
        )
        .form()
        .redirects()
        .errors(&[409, 422]),
        r(
            "POST",
            "/notices/{id}/unready",
            Notice(PrepareNotice),
            "Send a ready notice back to draft",
            post(notices::unready),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/notices/{id}/validate",
            Notice(ValidateNotice),
            "Validate a notice another counsellor prepared (four eyes)",
            post(notices::validate),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/notices/{id}/send",
            Notice(PrepareNotice),
            "Send a ready notice",
            post(notices::send),
        )
        .form()
        .redirects()
        .errors(&[409, 422]),
        r(
            "POST",
            "/notices/{id}/acknowledge",
            Notice(PrepareNotice),
            "Record a platform's acknowledgement (ticket number)",
            post(notices::acknowledge),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/notices/{id}/decision",
            Notice(PrepareNotice),
            "Record a platform's decision by hand",
            post(notices::decision),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/notices/{id}/contest",
            Notice(PrepareNotice),
            "Contest a platform's refusal, with the helpline's reason",
            post(followup::contest),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "GET",
            "/notices",
            Staff(ListCases),
            "The helpline's notices (platform, state, late, category), or the late ones first",
            get(followup::list),
        )
        .query::<NoticeListQuery>()
        .page()
        .errors(&[404]),
        r(
            "GET",
            "/platforms/{platform}",
            Staff(ListCases),
            "A platform: its channels, its open notices, its time to decision and removal",
            get(followup::platform),
        )
        .page()
        .errors(&[404]),
        r(
            "GET",
            "/contacts/new",
            Staff(LogContact),
            "Form to log a contact by hand",
            get(contacts::form),
        )
        .page()
        .errors(&[404]),
        r(
            "POST",
            "/contacts",
            Staff(LogContact),
            "Log a contact, optionally opening a case",
            post(contacts::create),
        )
        .form()
        .redirects()
        .errors(&[404, 409]),
        // administration
        r(
            "GET",
            "/admin/staff",
            Staff(ManageStaff),
            "Staff accounts, invitations and role grants",
            get(admin::list),
        )
        .page()
        .errors(&[404]),
        r(
            "GET",
            "/admin/platforms",
            Staff(ManageDirectory),
            "The platform directory: channels, secrets configured, delays",
            get(platforms::list),
        )
        .page()
        .errors(&[404]),
        r(
            "GET",
            "/admin/platforms/{platform}/keys",
            Staff(ManageDirectory),
            "A platform's partner API keys: live, replaced (until the overlap ends), revoked",
            get(partner_keys::page),
        )
        .page()
        .errors(&[404]),
        r(
            "POST",
            "/admin/platforms/{platform}/keys",
            Staff(ManageDirectory),
            "Issue a new partner API key to a platform (shown once; the earlier keys work 24 hours more)",
            post(partner_keys::issue),
        )
        .form()
        .page()
        .errors(&[404, 409]),
        r(
            "POST",
            "/admin/platforms/{platform}/keys/revoke",
            Staff(ManageDirectory),
            "Revoke one of a platform's partner API keys at once",
            post(partner_keys::revoke),
        )
        .form()
        .page()
        .errors(&[404, 409]),
        r(
            "POST",
            "/admin/platforms/reload",
            Staff(ManageDirectory),
            "Load the platform directory file again",
            post(platforms::reload),
        )
        .form()
        .page()
        .errors(&[404]),
        r(
            "POST",
            "/admin/invitations",
            Staff(ManageStaff),
            "Invite a new account (a one-time link)",
            post(admin::invite),
        )
        .form()
        .page()
        .errors(&[404, 409]),
        r(
            "POST",
            "/admin/invitations/{id}/revoke",
            Staff(ManageStaff),
            "Withdraw an invitation",
            post(admin::revoke),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/admin/invitations/{id}/approve",
            Grant,
            "Approve another administrator's invitation of a supervisor or administrator",
            post(admin::approve_invitation),
        )
        .form()
        .page()
        .errors(&[409]),
        r(
            "POST",
            "/admin/invitations/{id}/refuse",
            Grant,
            "Refuse another administrator's invitation of a supervisor or administrator",
            post(admin::refuse_invitation),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/admin/staff/{id}/role",
            Staff(ManageStaff),
            "Change an account's role and team",
            post(admin::role),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/admin/grants/{id}/approve",
            Grant,
            "Approve another administrator's grant of a role",
            post(admin::approve_grant),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/admin/grants/{id}/refuse",
            Grant,
            "Refuse another administrator's grant of a role",
            post(admin::refuse_grant),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/admin/staff/{id}/edit",
            Staff(ManageStaff),
            "Correct an account's name and login address",
            post(admin::edit),
        )
        .form()
        .redirects()
        .page()
        .errors(&[404]),
        r(
            "POST",
            "/admin/staff/{id}/disable",
            Staff(ManageStaff),
            "Disable an account (ends its sessions)",
            post(admin::disable),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/admin/staff/{id}/enable",
            Staff(ManageStaff),
            "Re-enable an account",
            post(admin::enable),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "GET",
            "/audit",
            Staff(ReadAudit),
            "Audit trail",
            get(audit::list),
        )
        .query::<AuditQuery>()
        .page()
        .errors(&[404]),
        // chats
        r(
            "GET",
            "/chats",
            Staff(AnswerChats),
            "Chat queue, left messages and own conversations",
            get(chats::queue),
        )
        .page()
        .errors(&[404]),
        r(
            "GET",
            "/chats/search",
            Staff(SearchTranscripts),
            "Search the conversations one may read for words (audited, the words as a keyed hash)",
            get(chats::search),
        )
        .page()
        .errors(&[404]),
        r(
            "GET",
            "/chats/live",
            Staff(AnswerChats),
            "The live part of the chat queue (for its updates and the menu's count)",
            get(chats::live),
        )
        .page()
        .errors(&[404]),
        r(
            "POST",
            "/chats/availability",
            Staff(AnswerChats),
            "Set one's own chat availability and capacity",
            post(chats::availability),
        )
        .form()
        .redirects()
        .errors(&[404, 409]),
        r(
            "POST",
            "/chats/take",
            Staff(AnswerChats),
            "Take the most urgent waiting conversation",
            post(chats::take),
        )
        .form()
        .redirects()
        .errors(&[404, 409]),
        r(
            "GET",
            "/chats/{id}",
            Conversation(ReadConversation),
            "A conversation (its counsellor; supervisors read)",
            get(chats::show),
        )
        .page()
        .errors(&[400]),
        r(
            "POST",
            "/chats/{id}/take",
            Conversation(TakeConversation),
            "Take this message left while the line was closed",
            post(chats::take_left),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/chats/{id}/messages",
            Conversation(WriteConversation),
            "Reply in a conversation (its counsellor)",
            post(chats::reply),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/chats/{id}/advice",
            Conversation(WriteConversation),
            "Send a playbook step's advice in a conversation (its counsellor), in one click",
            post(guidance::send_advice),
        )
        .form()
        .redirects()
        .errors(&[409]),
        r(
            "POST",
            "/chats/{id}/end",
            Conversation(EndConversation),
            "End a conversation with its summary (its counsellor); a mistake shows the form again",
            post(chats::end),
        )
        .form()
        .answers(&[Answer::SeeOther, Answer::Html])
        .errors(&[409]),
        r(
            "POST",
            "/chats/{id}/transfer",
            Conversation(WriteConversation),
            "Hand a conversation over to a colleague or a role, with an internal note",
            post(chats::transfer),
        )
        .form()
        .redirects()
        .errors(&[409]),
    ])
}
