//! The labels of the audit action codes, in French and English, and which codes record a read.

/// The stable action codes, with labels.
pub const ACTIONS: &[(&str, &str, &str)] = &[
    ("case.created", "dossier ouvert", "case opened"),
    ("case.read", "dossier consulté", "case read"),
    (
        "case.access_denied",
        "accès à un dossier refusé",
        "case access denied",
    ),
    (
        "case.listed",
        "liste ou recherche de dossiers",
        "case list or search",
    ),
    (
        "case.status_changed",
        "statut du dossier changé",
        "case status changed",
    ),
    ("case.assigned", "dossier attribué", "case assigned"),
    ("item.added", "contenu ajouté", "item added"),
    ("note.added", "note ajoutée", "note added"),
    (
        "contact.logged",
        "sollicitation enregistrée",
        "contact logged",
    ),
    (
        "conversation.started",
        "conversation commencée",
        "conversation started",
    ),
    (
        "conversation.read",
        "conversation consultée",
        "conversation read",
    ),
    (
        "conversation.access_denied",
        "accès à une conversation refusé",
        "conversation access denied",
    ),
    (
        "conversation.taken",
        "conversation prise",
        "conversation taken",
    ),
    (
        "conversation.transferred",
        "conversation transférée",
        "conversation handed over",
    ),
    (
        "conversation.ended",
        "conversation terminée",
        "conversation ended",
    ),
    (
        "conversation.left",
        "conversation quittée (sortie rapide)",
        "conversation left (quick exit)",
    ),
    (
        "conversation.followed_up",
        "suivi consulté avec le code",
        "follow-up code used",
    ),
    (
        "chat.alerts",
        "alertes de la file activées ou coupées",
        "queue alerts turned on or off",
    ),
    (
        "chat.availability",
        "disponibilité tchat changée",
        "chat availability changed",
    ),
    ("auth.login", "connexion", "login"),
    ("auth.login_failed", "connexion échouée", "login failed"),
    (
        "auth.login_refused",
        "connexion refusée (verrouillée)",
        "login refused (locked)",
    ),
    ("auth.logout", "déconnexion", "logout"),
    ("auth.session_ended", "session terminée", "session ended"),
    (
        "auth.second_factor_ok",
        "second facteur validé",
        "second factor passed",
    ),
    (
        "auth.second_factor_failed",
        "second facteur erroné",
        "second factor failed",
    ),
    (
        "auth.second_factor_refused",
        "second facteur refusé (verrouillé)",
        "second factor refused (locked)",
    ),
    (
        "auth.recovery_code_used",
        "code de secours utilisé",
        "recovery code used",
    ),
    (
        "auth.totp_enrolment_started",
        "enrôlement TOTP commencé",
        "TOTP enrolment started",
    ),
    ("auth.totp_enrolled", "TOTP enrôlé", "TOTP enrolled"),
    (
        "auth.passkey_registered",
        "clé d'accès enregistrée",
        "passkey registered",
    ),
    (
        "auth.passkey_removed",
        "clé d'accès retirée",
        "passkey removed",
    ),
    ("staff.created", "compte créé", "account created"),
    ("staff.invited", "invitation envoyée", "invitation issued"),
    (
        "staff.invitation_accepted",
        "invitation acceptée",
        "invitation accepted",
    ),
    (
        "staff.invitation_revoked",
        "invitation retirée",
        "invitation withdrawn",
    ),
    (
        "staff.grant_requested",
        "attribution de rôle à approuver",
        "role grant awaiting approval",
    ),
    (
        "staff.grant_approved",
        "attribution de rôle approuvée",
        "role grant approved",
    ),
    (
        "staff.grant_refused",
        "attribution de rôle refusée",
        "role grant refused",
    ),
    (
        "conversation.searched",
        "recherche dans les conversations",
        "conversations searched",
    ),
    (
        "staff.edited",
        "compte corrigé (nom ou adresse)",
        "account corrected (name or address)",
    ),
    ("staff.disabled", "compte désactivé", "account disabled"),
    ("staff.enabled", "compte réactivé", "account enabled"),
    ("staff.role_changed", "rôle changé", "role changed"),
    (
        "audit.viewed",
        "journal d'audit consulté",
        "audit trail read",
    ),
    ("notice.drafted", "signalements préparés", "notices drafted"),
    ("notice.edited", "signalement modifié", "notice edited"),
    (
        "notice.ready",
        "signalement prêt à l'envoi",
        "notice ready to send",
    ),
    (
        "notice.validated",
        "signalement validé par un second écoutant",
        "notice validated by a second counsellor",
    ),
    ("notice.sent", "signalement envoyé", "notice sent"),
    (
        "notice.delivered",
        "signalement reçu par la plateforme",
        "notice delivered",
    ),
    (
        "notice.delivery_failed",
        "échec d'envoi du signalement",
        "notice delivery failed",
    ),
    (
        "notice.decided",
        "décision de la plateforme",
        "platform's decision",
    ),
    (
        "notice.escalated",
        "signalement en retard : relance de la plateforme",
        "notice late: platform reminded",
    ),
    (
        "notice.contested",
        "refus de la plateforme contesté",
        "platform's refusal contested",
    ),
    (
        "notice.appeal_decided",
        "recours contre la décision de la plateforme tranché",
        "appeal against the platform's decision decided",
    ),
    (
        "partner.key_issued",
        "clé d'API partenaire émise",
        "partner API key issued",
    ),
    (
        "partner.key_revoked",
        "clé d'API partenaire révoquée",
        "partner API key revoked",
    ),
    (
        "notice.partner_acknowledged",
        "accusé de réception de la plateforme (API partenaire)",
        "platform's acknowledgement (partner API)",
    ),
    (
        "notice.partner_decided",
        "décision de la plateforme (API partenaire)",
        "platform's decision (partner API)",
    ),
    (
        "case.playbook_step",
        "étape de la conduite à tenir",
        "playbook step",
    ),
    (
        "guidance.playbooks_edited",
        "conduites à tenir modifiées",
        "playbooks edited",
    ),
    (
        "directory.reloaded",
        "annuaire des plateformes rechargé",
        "platform directory reloaded",
    ),
];

/// The label of an action code in `lang`, or the code itself when unknown.
pub fn action_label<'a>(code: &'a str, lang: &str) -> &'a str {
    ACTIONS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, fr, en)| if lang == "en" { *en } else { *fr })
        .unwrap_or(code)
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
    )
}
