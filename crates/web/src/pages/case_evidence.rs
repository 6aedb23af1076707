//! What the case page shows of the case's evidence and its follow-up page.

use crate::AppState;
use crate::error::PageError;
use crate::i18n::Said;
use minijinja::Value;
use rempart_app::auth::Authenticated;
use rempart_app::evidence::EvidenceRights;
use rempart_app::followup::IssuedFollowUp;
use rempart_domain::case::EvidenceKind;
use rempart_domain::ids::CaseId;
use std::collections::HashMap;

/// The template's values.
pub struct CaseEvidence {
    pub evidence: Value,
    pub kinds: Value,
    pub rights: EvidenceRights,
    pub followup: Value,
    pub issued: Value,
    pub messages: Value,
    pub followup_url: String,
    pub referrals: Value,
    pub services: Value,
    pub bases: Value,
}

/// The kinds a file may be, for a form's select.
pub fn file_kinds(lang: &str) -> Value {
    super::options(
        &[
            EvidenceKind::Screenshot,
            EvidenceKind::Photo,
            EvidenceKind::Video,
            EvidenceKind::Document,
            EvidenceKind::MessageExport,
        ],
        |k| k.as_str(),
        |k| k.said(lang),
    )
}

pub async fn for_case(
    st: &AppState,
    lang: &str,
    auth: &Authenticated,
    case: CaseId,
    issued: Option<IssuedFollowUp>,
    names: &HashMap<String, String>,
) -> Result<CaseEvidence, PageError> {
    let view = st.app.evidence_view(&auth.actor(), case).await?;
    let rights = view.rights;
    let evidence: Vec<_> = view
        .evidence
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": e.id.to_string(), "number": e.number, "kind": e.kind.said(lang),
                "source": e.source.said(lang), "added_by": e.added_by_name,
                "received_at": e.received_at, "description": e.description, "url": e.url,
                "excerpt": e.excerpt, "original_name": e.original_name, "size": e.size,
                "sha256": e.sha256, "md5": e.md5, "pdq": e.pdq, "pdq_quality": e.pdq_quality,
                "intimate": e.intimate, "sexual": e.sexual_image_of_minor,
                "has_display": e.copies.iter().any(|c| c == "display"),
                "has_original": e.copies.iter().any(|c| c == "original"),
                "has_clean": e.copies.iter().any(|c| c == "clean"),
            })
        })
        .collect();
    let now = st.app.now();
    let followup = view.followup.map(|a| {
        serde_json::json!({
            "code": rempart_domain::followup::FollowUpCode::parse(&a.code)
                .map(|c| c.display())
                .unwrap_or(a.code.clone()),
            "issued_at": a.issued_at, "locked": a.locked_until > now,
        })
    });
    let messages: Vec<_> = view
        .thread
        .iter()
        .map(|m| {
            serde_json::json!({
                "from_young_person": m.from_young_person, "body": m.body, "at": m.created_at,
                "author": m.author.and_then(|a| names.get(&a.to_string()).cloned()).unwrap_or_else(|| "—".into()),
            })
        })
        .collect();
    use rempart_domain::referral::{ConsentBasis, ReferralEvent, ReferralState};
    let directory = st.app.directory();
    let referrals: Vec<_> = view
        .referrals
        .iter()
        .map(|r| {
            let can = |e: ReferralEvent| r.state.can_apply(&e);
            serde_json::json!({
                "id": r.id,
                "service": directory.service(&r.service).map(|s| s.label(lang).to_owned()).unwrap_or(r.service.clone()),
                "state": r.state.as_str(), "state_label": r.state.said(lang),
                "basis_label": r.basis.map(|b| b.said(lang)),
                "consent_by": r.consent_by, "consent_scope": r.consent_scope,
                "recipient": r.recipient,
                "channel_label": r.channel.as_ref().map(|c| st.i18n.t(lang, &format!("referral-channel-{c}"), &[])),
                "shared": r.shared.len(), "note": r.note, "outcome": r.outcome, "sent_at": r.sent_at,
                "mail": r.mail.as_ref().map(|m| serde_json::json!({
                    "state": m.state.as_str(), "label": m.state.said(lang), "error": m.error,
                    "attempts": m.attempts, "sent_at": m.sent_at,
                })),
                "can_basis": r.state == ReferralState::Proposed,
                "can_send": can(ReferralEvent::Send),
                "can_ack": can(ReferralEvent::Acknowledge),
                "can_close": can(ReferralEvent::Close),
                "can_refuse": can(ReferralEvent::RefuseConsent),
                "can_cancel": can(ReferralEvent::Cancel),
            })
        })
        .collect();
    let services: Vec<(String, String)> = directory
        .services()
        .iter()
        .map(|s| (s.code.clone(), s.label(lang).to_owned()))
        .collect();
    let bases = super::options(
        ConsentBasis::ALL.as_slice(),
        |b: ConsentBasis| b.as_str(),
        |b: ConsentBasis| b.said(lang),
    );
    Ok(CaseEvidence {
        referrals: Value::from_serialize(&referrals),
        services: Value::from_serialize(&services),
        bases,
        evidence: Value::from_serialize(&evidence),
        kinds: file_kinds(lang),
        rights,
        followup: Value::from_serialize(&followup),
        issued: Value::from_serialize(
            issued
                .map(|i| serde_json::json!({"code": i.code, "secret": i.secret}))
                .as_ref(),
        ),
        messages: Value::from_serialize(&messages),
        followup_url: format!(
            "{}/follow-up",
            st.app
                .settings()
                .server
                .public_url
                .as_str()
                .trim_end_matches('/')
        ),
    })
}
