//! The access policy: `can(actor, action, resource)`, deny by default.
//!
//! | role                 | cases it sees                 | notes it reads           | else            |
//! |----------------------|-------------------------------|--------------------------|-----------------|
//! | counsellor           | assigned to it or its team's  | team                     | log contacts    |
//! | psychologist         | assigned to it or its team's  | team, psychologists'     | log contacts    |
//! | lawyer               | assigned to it or its team's  | team, lawyers'           | log contacts    |
//! | digital specialist   | assigned to it or its team's  | team                     | log contacts    |
//! | supervisor           | all                           | team                     | audit, assign   |
//! | admin                | none                          | none                     | staff, audit    |
//!
//! Conversations: every role that works cases answers chats (queue, availability, take
//! next); a conversation is read by the counsellor it is assigned to and by supervisors
//! (monitoring), and written to, handed over or ended by its counsellor only, while it is
//! active — one rule for reading and writing, so whoever may not read may not write. A
//! message left while the line was closed may be taken by name as well as by "take next".
//!
//! Every route of the web layer names the action it needs; the web crate's route table
//! test proves no route escapes this function.

use crate::case::{CaseAccess, NoteVisibility};
use crate::chat::ConversationStatus;
use crate::ids::StaffId;
use crate::labelled_enum;

labelled_enum!(
    /// Staff roles.
    Role "role" {
        Counsellor => "counsellor";
        Psychologist => "psychologist";
        Lawyer => "lawyer";
        DigitalSpecialist => "digital_specialist";
        Supervisor => "supervisor";
        Admin => "admin";
    }
);

impl Role {
    /// Roles that answer contacts and work on cases.
    pub fn works_cases(self) -> bool {
        !matches!(self, Role::Admin)
    }
}

/// The authenticated staff member behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Account id.
    pub id: StaffId,
    /// Role.
    pub role: Role,
    /// Team, if any.
    pub team: Option<String>,
}

/// What an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the list of cases (filtered by `case_scope`).
    ListCases,
    /// Open a new case.
    CreateCase,
    /// Log a contact by hand.
    LogContact,
    /// Read a case page (header, items, timeline, team notes).
    ReadCase,
    /// Change a case's fields, items or categories.
    UpdateCase,
    /// Change a case's status.
    ChangeCaseStatus,
    /// Change who is assigned to a case.
    AssignCase,
    /// Read notes of a visibility.
    ReadNotes(NoteVisibility),
    /// Add a note of a visibility.
    AddNote(NoteVisibility),
    /// Read the audit trail.
    ReadAudit,
    /// Manage staff accounts.
    ManageStaff,
    /// See the platform directory with its channels, and reload it.
    ManageDirectory,
    /// Manage one's own account (second factor, language).
    ManageOwnAccount,
    /// Answer chats: the queue, one's own availability, take the next conversation.
    AnswerChats,
    /// Watch every conversation and every counsellor's load (supervisors).
    MonitorChats,
    /// Search the text of conversations (each hit still needs `ReadConversation`).
    SearchTranscripts,
    /// Read a conversation and the earlier contacts of its person.
    ReadConversation,
    /// Reply in a conversation, hand it over, end it.
    WriteConversation,
    /// End a conversation with its contact summary: its counsellor, while it is active or
    /// once the young person left it by quick exit (the contact is still to be written).
    EndConversation,
    /// Take this conversation (a message left while the line was closed).
    TakeConversation,
    /// Approve or refuse a grant of the supervisor or administrator role asked by another
    /// administrator.
    ApproveRoleGrant,
    /// Read a case's notices.
    ReadNotice,
    /// Build, edit, mark ready and send a case's notices; record a decision by hand.
    PrepareNotice,
    /// Validate a notice another counsellor marked ready (four eyes).
    ValidateNotice,
    /// Tick or untick a step of a case's playbook (those who may change the case).
    FollowPlaybook,
    /// Read the playbooks and the services directory.
    ReadGuidance,
    /// Edit the helpline's playbooks, or set them back to the defaults.
    EditPlaybooks,
    /// Add evidence to a case (a file, a link, an excerpt, fingerprints).
    AddEvidence,
    /// See a case's evidence: its metadata and display copies (intimate images blurred).
    ReadEvidence,
    /// Reveal an intimate image (an explicit, audited click).
    RevealEvidence,
    /// Download the original or the clean copy of a file (lawyers, digital specialists,
    /// supervisors: the people who hand evidence to the police or a court).
    DownloadEvidence,
    /// Export a case's evidence with its signed manifest (the same roles).
    ExportEvidence,
    /// Produce a case's complaint document for the family or the police.
    ExportComplaint,
    /// Give, withdraw and answer a case's follow-up page.
    ManageFollowUp,
    /// Propose, record consent for, send and follow a referral to a service.
    PrepareReferral,
}

/// What the action is on.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// Nothing in particular (lists, creation, administration).
    Global,
    /// One case.
    Case(&'a CaseAccess),
    /// One conversation.
    Conversation(&'a ConversationAccess),
    /// One notice.
    Notice(&'a NoticeAccess),
    /// A pending grant of a role, asked for by this administrator.
    Grant {
        /// Who asked for it.
        requested_by: StaffId,
    },
}

/// What the policy needs to know about a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeAccess {
    /// Its case.
    pub case: CaseAccess,
    /// Who marked it ready, if someone did.
    pub prepared_by: Option<StaffId>,
}

/// What the policy needs to know about a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationAccess {
    /// The counsellor it is assigned to.
    pub assigned_to: Option<StaffId>,
    /// Where it stands.
    pub status: ConversationStatus,
    /// When handed over to a role, only that role may take it.
    pub required_role: Option<Role>,
}

/// A platform calling the partner API (`/partner/v1`) with its own key: never a staff
/// member, it reaches nothing but its own notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerActor {
    /// The platform's code in the directory.
    pub platform: String,
}

/// What a platform may do through the partner API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerAction {
    /// List its open notices and read one (the exact JSON prepared for it).
    ReadNotice,
    /// Post its acknowledgement or its decision on a notice.
    AnswerNotice,
}

/// What the policy needs to know about a notice a platform asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartnerNoticeAccess<'a> {
    /// The platform the notice is addressed to.
    pub platform: &'a str,
    /// The channel it went out on (the partner API, or another).
    pub channel: Option<crate::directory::NoticeChannel>,
    /// Whether it was sent (a draft or a ready notice is nobody's business outside).
    pub sent: bool,
}

/// Decides whether a platform may do `action` on a notice: only on a notice sent to it on
/// the partner API. Anything else is denied — and answered exactly as a notice that does
/// not exist.
pub fn partner_can(
    actor: &PartnerActor,
    action: PartnerAction,
    n: &PartnerNoticeAccess<'_>,
) -> bool {
    let own = n.platform == actor.platform
        && n.sent
        && n.channel == Some(crate::directory::NoticeChannel::RempartApi);
    match action {
        PartnerAction::ReadNotice | PartnerAction::AnswerNotice => own,
    }
}

/// Which cases an actor's lists may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseScope {
    /// Every case.
    All,
    /// Cases the actor is assigned to, or that its team handles.
    TeamOrAssigned {
        /// The actor.
        staff: StaffId,
        /// The actor's team.
        team: Option<String>,
    },
    /// None.
    Nothing,
}

/// The list scope for `actor`, consistent with `can(actor, ReadCase, …)`.
pub fn case_scope(actor: &Actor) -> CaseScope {
    match actor.role {
        Role::Supervisor => CaseScope::All,
        Role::Admin => CaseScope::Nothing,
        _ => CaseScope::TeamOrAssigned {
            staff: actor.id,
            team: actor.team.clone(),
        },
    }
}

fn sees_case(actor: &Actor, case: &CaseAccess) -> bool {
    match case_scope(actor) {
        CaseScope::All => true,
        CaseScope::Nothing => false,
        CaseScope::TeamOrAssigned { staff, team } => {
            case.assignees.contains(&staff)
                || matches!((&team, &case.team), (Some(a), Some(b)) if a == b)
        }
    }
}

fn reads_visibility(role: Role, v: NoteVisibility) -> bool {
    match v {
        NoteVisibility::Team => role.works_cases(),
        NoteVisibility::Psychologists => role == Role::Psychologist,
        NoteVisibility::Lawyers => role == Role::Lawyer,
    }
}

/// Decides whether `actor` may do `action` on `resource`. Anything not granted here is
/// denied.
pub fn can(actor: &Actor, action: Action, resource: Resource<'_>) -> bool {
    use Action::*;
    let role = actor.role;
    match (action, resource) {
        (ManageOwnAccount, Resource::Global) => true,
        (ManageStaff | ManageDirectory, Resource::Global) => role == Role::Admin,
        (ReadAudit, Resource::Global) => matches!(role, Role::Admin | Role::Supervisor),
        (ListCases | CreateCase | LogContact, Resource::Global) => role.works_cases(),
        (ReadGuidance, Resource::Global) => true,
        (EditPlaybooks, Resource::Global) => matches!(role, Role::Supervisor | Role::Admin),
        (
            ReadCase | UpdateCase | ChangeCaseStatus | AssignCase | FollowPlaybook,
            Resource::Case(c),
        ) => role.works_cases() && sees_case(actor, c),
        (
            AddEvidence | ReadEvidence | RevealEvidence | ExportComplaint | ManageFollowUp
            | PrepareReferral,
            Resource::Case(c),
        ) => role.works_cases() && sees_case(actor, c),
        (DownloadEvidence | ExportEvidence, Resource::Case(c)) => {
            matches!(
                role,
                Role::Lawyer | Role::DigitalSpecialist | Role::Supervisor
            ) && sees_case(actor, c)
        }
        (ReadNotes(v) | AddNote(v), Resource::Case(c)) => {
            reads_visibility(role, v) && sees_case(actor, c)
        }
        (ReadNotice | PrepareNotice, Resource::Notice(n)) => {
            role.works_cases() && sees_case(actor, &n.case)
        }
        (ValidateNotice, Resource::Notice(n)) => {
            role.works_cases()
                && sees_case(actor, &n.case)
                && n.prepared_by.is_some_and(|p| p != actor.id)
        }
        (AnswerChats, Resource::Global) => role.works_cases(),
        (MonitorChats, Resource::Global) => role == Role::Supervisor,
        (SearchTranscripts, Resource::Global) => role.works_cases(),
        (ReadConversation, Resource::Conversation(c)) => {
            (role.works_cases() && c.assigned_to == Some(actor.id)) || role == Role::Supervisor
        }
        (WriteConversation, Resource::Conversation(c)) => {
            role.works_cases()
                && c.assigned_to == Some(actor.id)
                && c.status == ConversationStatus::Active
        }
        (EndConversation, Resource::Conversation(c)) => {
            role.works_cases()
                && c.assigned_to == Some(actor.id)
                && matches!(
                    c.status,
                    ConversationStatus::Active | ConversationStatus::Left
                )
        }
        (TakeConversation, Resource::Conversation(c)) => {
            role.works_cases()
                && c.status == ConversationStatus::LeftMessage
                && c.required_role.is_none_or(|r| r == role)
        }
        (ApproveRoleGrant, Resource::Grant { requested_by }) => {
            role == Role::Admin && requested_by != actor.id
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, team: Option<&str>) -> Actor {
        Actor {
            id: StaffId::new(),
            role,
            team: team.map(str::to_owned),
        }
    }

    #[test]
    fn counsellor_sees_own_and_team_cases_only() {
        let a = actor(Role::Counsellor, Some("nord"));
        let own = CaseAccess {
            case_id: None,
            assignees: vec![a.id],
            team: None,
        };
        let team = CaseAccess {
            case_id: None,
            assignees: vec![],
            team: Some("nord".into()),
        };
        let other = CaseAccess {
            case_id: None,
            assignees: vec![StaffId::new()],
            team: Some("sud".into()),
        };
        assert!(can(&a, Action::ReadCase, Resource::Case(&own)));
        assert!(can(&a, Action::ReadCase, Resource::Case(&team)));
        assert!(!can(&a, Action::ReadCase, Resource::Case(&other)));
        // no team on either side never matches
        let b = actor(Role::Counsellor, None);
        let noteam = CaseAccess::default();
        assert!(!can(&b, Action::ReadCase, Resource::Case(&noteam)));
    }

    #[test]
    fn evidence_originals_only_for_those_who_hand_them_over() {
        for role in Role::ALL.iter().copied() {
            let a = actor(role, Some("nord"));
            let case = CaseAccess {
                case_id: None,
                assignees: vec![],
                team: Some("nord".into()),
            };
            let other = CaseAccess {
                case_id: None,
                assignees: vec![],
                team: Some("sud".into()),
            };
            let sees = role.works_cases();
            for act in [
                Action::AddEvidence,
                Action::ReadEvidence,
                Action::RevealEvidence,
                Action::ExportComplaint,
                Action::ManageFollowUp,
                Action::PrepareReferral,
            ] {
                assert_eq!(
                    can(&a, act, Resource::Case(&case)),
                    sees,
                    "{role:?} {act:?}"
                );
                assert_eq!(
                    can(&a, act, Resource::Case(&other)),
                    role == Role::Supervisor,
                    "{role:?} {act:?} on another team's case"
                );
            }
            let hands_over = matches!(
                role,
                Role::Lawyer | Role::DigitalSpecialist | Role::Supervisor
            );
            for act in [Action::DownloadEvidence, Action::ExportEvidence] {
                assert_eq!(can(&a, act, Resource::Case(&case)), hands_over, "{role:?}");
                assert!(!can(&a, act, Resource::Global));
            }
        }
    }

    #[test]
    fn notes_by_visibility() {
        let psy = actor(Role::Psychologist, None);
        let law = actor(Role::Lawyer, None);
        let sup = actor(Role::Supervisor, None);
        let c = CaseAccess {
            case_id: None,
            assignees: vec![psy.id, law.id],
            team: None,
        };
        let p = Action::ReadNotes(NoteVisibility::Psychologists);
        assert!(can(&psy, p, Resource::Case(&c)));
        assert!(!can(&law, p, Resource::Case(&c)));
        assert!(!can(&sup, p, Resource::Case(&c)));
        assert!(can(
            &law,
            Action::AddNote(NoteVisibility::Lawyers),
            Resource::Case(&c)
        ));
        assert!(can(
            &sup,
            Action::ReadNotes(NoteVisibility::Team),
            Resource::Case(&c)
        ));
    }

    #[test]
    fn a_notice_is_validated_by_someone_else_who_sees_its_case() {
        let a = actor(Role::Counsellor, Some("nord"));
        let b = actor(Role::Lawyer, Some("nord"));
        let outsider = actor(Role::Counsellor, Some("sud"));
        let adm = actor(Role::Admin, Some("nord"));
        let n = NoticeAccess {
            case: CaseAccess {
                case_id: None,
                assignees: vec![a.id],
                team: Some("nord".into()),
            },
            prepared_by: Some(a.id),
        };
        let r = Resource::Notice(&n);
        assert!(can(&a, Action::PrepareNotice, r));
        assert!(!can(&a, Action::ValidateNotice, r), "not one's own");
        assert!(can(&b, Action::ValidateNotice, r));
        assert!(!can(&outsider, Action::ValidateNotice, r));
        assert!(!can(&outsider, Action::ReadNotice, r));
        assert!(!can(&adm, Action::ReadNotice, r));
        let unready = NoticeAccess {
            prepared_by: None,
            ..n.clone()
        };
        assert!(!can(&b, Action::ValidateNotice, Resource::Notice(&unready)));
    }

    #[test]
    fn admin_manages_accounts_but_reads_no_case() {
        let adm = actor(Role::Admin, Some("nord"));
        let c = CaseAccess {
            case_id: None,
            assignees: vec![adm.id],
            team: Some("nord".into()),
        };
        assert!(can(&adm, Action::ManageStaff, Resource::Global));
        assert!(can(&adm, Action::ManageDirectory, Resource::Global));
        assert!(!can(&adm, Action::ReadCase, Resource::Case(&c)));
        assert!(!can(&adm, Action::ListCases, Resource::Global));
        assert_eq!(case_scope(&adm), CaseScope::Nothing);
        let sup = actor(Role::Supervisor, None);
        assert!(!can(&sup, Action::ManageStaff, Resource::Global));
        assert!(!can(&sup, Action::ManageDirectory, Resource::Global));
        // a global action asked on a case resource is denied (no accidental widening)
        assert!(!can(&sup, Action::ListCases, Resource::Case(&c)));
    }

    #[test]
    fn one_rule_reads_and_writes_a_conversation() {
        let c = actor(Role::Counsellor, None);
        let other = actor(Role::Counsellor, None);
        let sup = actor(Role::Supervisor, None);
        let adm = actor(Role::Admin, None);
        let mine = ConversationAccess {
            assigned_to: Some(c.id),
            status: ConversationStatus::Active,
            required_role: None,
        };
        let read = Action::ReadConversation;
        let write = Action::WriteConversation;
        let r = Resource::Conversation(&mine);
        assert!(can(&c, read, r) && can(&c, write, r));
        assert!(!can(&other, read, r) && !can(&other, write, r));
        assert!(can(&sup, read, r), "supervisors watch");
        assert!(!can(&sup, write, r), "watching is read-only");
        assert!(!can(&adm, read, r) && !can(&adm, write, r));
        let ended = ConversationAccess {
            status: ConversationStatus::Ended,
            ..mine
        };
        let r = Resource::Conversation(&ended);
        assert!(can(&c, read, r) && !can(&c, write, r), "ended: read only");
        let end = Action::EndConversation;
        assert!(!can(&c, end, r), "ended once");
        assert!(can(&c, end, Resource::Conversation(&mine)));
        // left by quick exit: its counsellor writes no reply but still ends it (the contact)
        let gone = ConversationAccess {
            status: ConversationStatus::Left,
            ..mine
        };
        let r = Resource::Conversation(&gone);
        assert!(can(&c, read, r) && !can(&c, write, r) && can(&c, end, r));
        assert!(!can(&other, read, r) && !can(&other, end, r));
        assert!(can(&sup, read, r) && !can(&sup, end, r));
        let gone_unanswered = ConversationAccess {
            assigned_to: None,
            ..gone
        };
        let r = Resource::Conversation(&gone_unanswered);
        assert!(!can(&c, end, r) && !can(&c, Action::TakeConversation, r));
        // a message left while closed, not taken yet: nobody writes; workers may take it
        let left = ConversationAccess {
            assigned_to: None,
            status: ConversationStatus::LeftMessage,
            required_role: None,
        };
        let r = Resource::Conversation(&left);
        for who in [&c, &other] {
            assert!(!can(who, read, r) && !can(who, write, r));
            assert!(can(who, Action::TakeConversation, r));
        }
        assert!(can(&sup, read, r) && !can(&sup, write, r));
        assert!(!can(&adm, Action::TakeConversation, r));
        let waiting = ConversationAccess {
            status: ConversationStatus::Waiting,
            ..left
        };
        assert!(
            !can(
                &c,
                Action::TakeConversation,
                Resource::Conversation(&waiting)
            ),
            "live conversations come by take next, in risk order"
        );
        let for_lawyers = ConversationAccess {
            required_role: Some(Role::Lawyer),
            ..left
        };
        let r = Resource::Conversation(&for_lawyers);
        assert!(!can(&c, Action::TakeConversation, r));
        assert!(can(&actor(Role::Lawyer, None), Action::TakeConversation, r));
        assert!(can(&c, Action::AnswerChats, Resource::Global));
        assert!(!can(&adm, Action::AnswerChats, Resource::Global));
        assert!(can(&sup, Action::MonitorChats, Resource::Global));
        assert!(!can(&c, Action::MonitorChats, Resource::Global));
        assert!(can(&c, Action::SearchTranscripts, Resource::Global));
        assert!(!can(
            &actor(Role::Admin, None),
            Action::SearchTranscripts,
            Resource::Global
        ));
    }

    #[test]
    fn a_platform_reaches_only_its_own_sent_notices() {
        use crate::directory::NoticeChannel;
        let tiktok = PartnerActor {
            platform: "tiktok".into(),
        };
        let own = PartnerNoticeAccess {
            platform: "tiktok",
            channel: Some(NoticeChannel::RempartApi),
            sent: true,
        };
        for a in [PartnerAction::ReadNotice, PartnerAction::AnswerNotice] {
            assert!(partner_can(&tiktok, a, &own));
            let other = PartnerNoticeAccess {
                platform: "snapchat",
                ..own
            };
            assert!(!partner_can(&tiktok, a, &other), "another platform's");
            let unsent = PartnerNoticeAccess { sent: false, ..own };
            assert!(!partner_can(&tiktok, a, &unsent), "not sent yet");
            let by_mail = PartnerNoticeAccess {
                channel: Some(NoticeChannel::Email),
                ..own
            };
            assert!(
                !partner_can(&tiktok, a, &by_mail),
                "sent on another channel"
            );
        }
    }

    #[test]
    fn playbooks_are_ticked_by_those_who_change_the_case_and_edited_by_supervisors() {
        let c = actor(Role::Counsellor, Some("nord"));
        let outsider = actor(Role::Counsellor, Some("sud"));
        let sup = actor(Role::Supervisor, None);
        let adm = actor(Role::Admin, None);
        let case = CaseAccess {
            case_id: None,
            assignees: vec![c.id],
            team: Some("nord".into()),
        };
        let r = Resource::Case(&case);
        assert!(can(&c, Action::FollowPlaybook, r));
        assert!(can(&sup, Action::FollowPlaybook, r));
        assert!(!can(&outsider, Action::FollowPlaybook, r));
        assert!(!can(&adm, Action::FollowPlaybook, r));
        for who in [&c, &outsider, &sup, &adm] {
            assert!(can(who, Action::ReadGuidance, Resource::Global));
        }
        assert!(can(&sup, Action::EditPlaybooks, Resource::Global));
        assert!(can(&adm, Action::EditPlaybooks, Resource::Global));
        assert!(!can(&c, Action::EditPlaybooks, Resource::Global));
        assert!(!can(&sup, Action::EditPlaybooks, r), "global only");
    }

    #[test]
    fn a_role_grant_needs_another_administrator() {
        let a = actor(Role::Admin, None);
        let b = actor(Role::Admin, None);
        let g = Resource::Grant { requested_by: a.id };
        assert!(!can(&a, Action::ApproveRoleGrant, g));
        assert!(can(&b, Action::ApproveRoleGrant, g));
        assert!(!can(
            &actor(Role::Supervisor, None),
            Action::ApproveRoleGrant,
            g
        ));
    }
}
