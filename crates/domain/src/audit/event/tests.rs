use super::*;

fn all() -> Vec<AuditEvent> {
    use AuditEvent::*;
    let s = StaffId::new();
    vec![
        CaseCreated,
        CaseRead {
            notes: vec![NoteVisibility::Team, NoteVisibility::Lawyers],
        },
        CaseRead { notes: vec![] },
        CaseAccessDenied,
        CasesListed(ListQuery::default()),
        CasesListed(ListQuery {
            status: Some(CaseStatus::New),
            category: Some("sextortion".into()),
            assignee: Some(s),
            words: Some("0a1b".into()),
            paged: true,
        }),
        CaseStatusChanged {
            from: CaseStatus::New,
            to: CaseStatus::Closed,
            outcome: Some(CaseOutcome::ALL[0]),
        },
        CaseStatusChanged {
            from: CaseStatus::New,
            to: CaseStatus::InProgress,
            outcome: None,
        },
        CaseAssigned {
            assignees: vec![s, StaffId::new()],
        },
        CaseAssigned { assignees: vec![] },
        ItemAdded {
            platform: "tiktok".into(),
        },
        NoteAdded {
            visibility: NoteVisibility::Psychologists,
        },
        ContactLogged {
            channel: Channel::Phone,
        },
        ConversationStarted { left_message: true },
        ConversationRead { after: 7 },
        ConversationAccessDenied,
        ConversationTaken,
        ConversationTransferred {
            to: HandoverTarget::Staff(s),
        },
        ConversationTransferred {
            to: HandoverTarget::Role(Role::Lawyer),
        },
        ConversationEnded { case_opened: false },
        ConversationFollowedUp,
        ConversationLeft,
        ChatAvailability {
            available: true,
            capacity: 3,
        },
        ChatAlerts { on: true },
        Login,
        LoginFailed(LoginFailure::UnknownAccount),
        LoginFailed(LoginFailure::Disabled),
        LoginFailed(LoginFailure::WrongPassword { failures: 4 }),
        LoginRefused,
        Logout,
        SessionEnded(SessionEnd::Expired),
        SessionEnded(SessionEnd::Disabled),
        SessionEnded(SessionEnd::SecondFactorFailures),
        SessionEnded(SessionEnd::Upgraded),
        SecondFactorPassed(Factor::Totp),
        SecondFactorPassed(Factor::RecoveryCode),
        SecondFactorPassed(Factor::Passkey),
        SecondFactorFailed { failures: 2 },
        SecondFactorRefused,
        RecoveryCodeUsed,
        TotpEnrolmentStarted,
        TotpEnrolled,
        PasskeyRegistered,
        PasskeyRemoved,
        StaffCreated {
            role: Role::Counsellor,
        },
        StaffInvited {
            role: Role::Admin,
            pending_approval: true,
        },
        InvitationAccepted { role: Role::Lawyer },
        InvitationRevoked,
        RoleGrantRequested {
            role: Role::Supervisor,
        },
        RoleGrantApproved {
            role: Role::Supervisor,
        },
        RoleGrantRefused { role: Role::Admin },
        StaffEdited {
            email_changed: true,
        },
        TranscriptsSearched {
            words: "0123456789abcdef0123456789abcdef".into(),
            found: 3,
        },
        StaffDisabled,
        StaffEnabled,
        StaffRoleChanged {
            role: Role::Psychologist,
        },
        AuditViewed,
        DirectoryReloaded { platforms: 21 },
        EvidenceAdded {
            kind: EvidenceKind::HashOnly,
            source: EvidenceSource::YoungPerson,
            file: false,
        },
        EvidenceAdded {
            kind: EvidenceKind::Photo,
            source: EvidenceSource::Counsellor,
            file: true,
        },
        EvidenceViewed {
            copy: EvidenceCopy::Revealed,
        },
        EvidenceDownloaded {
            copy: EvidenceCopy::Original,
        },
        EvidenceExported {
            export: "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee".into(),
        },
        EvidenceTransmitted {
            referral: "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee".into(),
        },
        ComplaintExported {
            audience: "police".into(),
            lang: "fr".into(),
        },
        FollowUpIssued,
        FollowUpRevoked,
        FollowUpOpened,
        FollowUpFailed {
            failures: 5,
            locked: true,
        },
        FollowUpMessage {
            from_young_person: true,
        },
        ReferralProposed {
            service: "pharos".into(),
        },
        ReferralConsentRecorded {
            basis: ConsentBasis::Guardian,
        },
        ReferralChanged {
            state: ReferralState::Sent,
        },
        ReferralMailSent { attempt: 2 },
        ReferralMailFailed {
            reason: "smtp_5xx".into(),
        },
        PlaybookStepTicked {
            playbook: "sextortion".into(),
            step: "do_not_pay".into(),
            done: true,
        },
        PlaybookStepTicked {
            playbook: "grooming".into(),
            step: "danger_now".into(),
            done: false,
        },
        PlaybooksEdited {
            version: 3,
            defaults: false,
        },
        PlaybooksEdited {
            version: 4,
            defaults: true,
        },
        NoticesDrafted { count: 2 },
        NoticeEdited,
        NoticeReady,
        NoticeValidated,
        NoticeSent {
            channel: crate::directory::NoticeChannel::Coop,
        },
        NoticeDelivered {
            channel: crate::directory::NoticeChannel::HttpJson,
            attempt: 3,
        },
        NoticeDeliveryFailed {
            channel: crate::directory::NoticeChannel::Email,
            reason: "http_400".into(),
        },
        NoticeDecided {
            decision: crate::notice::DecisionKind::ContentRemoved,
            source: "coop".into(),
        },
        NoticeEscalated {
            reminder: "http_json".into(),
        },
        NoticeContested,
        NoticeAppealDecided { accepted: true },
        PartnerKeyIssued {
            platform: "tiktok".into(),
            key: "rpk_0a1b2c3d".into(),
        },
        PartnerKeyRevoked {
            platform: "tiktok".into(),
            key: "rpk_0a1b2c3d".into(),
        },
        PartnerAcknowledged {
            platform: "tiktok".into(),
        },
        PartnerDecided {
            platform: "tiktok".into(),
            decision: crate::notice::DecisionKind::AccountSuspended,
        },
    ]
}

#[test]
fn every_event_reads_back_as_itself() {
    for e in all() {
        let back = AuditEvent::decode(e.action(), &e.detail());
        assert_eq!(back, Ok(e.clone()), "{} {}", e.action(), e.detail());
        assert!(ACTIONS.contains(&e.action()), "{} has a label", e.action());
    }
    assert_eq!(ACTIONS.len(), {
        let mut codes: Vec<_> = all().iter().map(|e| e.action()).collect();
        codes.sort();
        codes.dedup();
        codes.len()
    });
}

#[test]
fn details_carry_no_free_text() {
    let e = AuditEvent::ItemAdded {
        platform: "a b=c\nd".into(),
    };
    assert_eq!(e.detail(), "platform=abcd");
    assert_eq!(
        AuditEvent::decode("case.nonsense", ""),
        Err(UnknownCode),
        "unknown actions are not guessed"
    );
    assert_eq!(AuditEvent::decode("case.read", "x=1"), Err(UnknownCode));
}
