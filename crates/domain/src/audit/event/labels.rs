//! The audit action codes (their words are in the console's catalogues, `action_key`), and
//! which codes record a read.

/// The stable action codes.
pub const ACTIONS: &[&str] = &[
    "case.created",
    "case.read",
    "case.access_denied",
    "case.listed",
    "case.status_changed",
    "case.assigned",
    "item.added",
    "note.added",
    "contact.logged",
    "conversation.started",
    "conversation.read",
    "conversation.access_denied",
    "conversation.taken",
    "conversation.transferred",
    "conversation.ended",
    "conversation.left",
    "conversation.followed_up",
    "chat.alerts",
    "chat.availability",
    "auth.login",
    "auth.login_failed",
    "auth.login_refused",
    "auth.logout",
    "auth.session_ended",
    "auth.second_factor_ok",
    "auth.second_factor_failed",
    "auth.second_factor_refused",
    "auth.recovery_code_used",
    "auth.totp_enrolment_started",
    "auth.totp_enrolled",
    "auth.passkey_registered",
    "auth.passkey_removed",
    "staff.created",
    "staff.invited",
    "staff.invitation_accepted",
    "staff.invitation_revoked",
    "staff.grant_requested",
    "staff.grant_approved",
    "staff.grant_refused",
    "conversation.searched",
    "staff.edited",
    "staff.disabled",
    "staff.enabled",
    "staff.role_changed",
    "audit.viewed",
    "notice.drafted",
    "notice.edited",
    "notice.ready",
    "notice.validated",
    "notice.sent",
    "notice.delivered",
    "notice.delivery_failed",
    "notice.decided",
    "notice.escalated",
    "notice.contested",
    "notice.appeal_decided",
    "partner.key_issued",
    "partner.key_revoked",
    "notice.partner_acknowledged",
    "notice.partner_decided",
    "case.playbook_step",
    "guidance.playbooks_edited",
    "directory.reloaded",
    "evidence.added",
    "evidence.viewed",
    "evidence.downloaded",
    "evidence.exported",
    "evidence.transmitted",
    "case.complaint_exported",
    "followup.issued",
    "followup.revoked",
    "followup.opened",
    "followup.failed",
    "followup.message",
    "referral.proposed",
    "referral.consent_recorded",
    "referral.changed",
    "referral.mail_sent",
    "referral.mail_failed",
];

/// The key of an action code's words in the console's catalogues (`audit-action-…`).
pub fn action_key(code: &str) -> String {
    format!("audit-action-{}", code.replace(['.', '_'], "-"))
}

/// Whether an action code records a read rather than a change.
pub fn is_read_action(action: &str) -> bool {
    matches!(
        action,
        "case.read"
            | "case.listed"
            | "case.access_denied"
            | "conversation.read"
            | "conversation.access_denied"
            | "conversation.followed_up"
            | "conversation.searched"
            | "audit.viewed"
            | "evidence.viewed"
            | "evidence.downloaded"
            | "followup.opened"
    )
}
