//! What an audit event says, in words, for the case timeline and the audit trail: the
//! action's label and what it changed, with the names of the accounts it mentions (never
//! their ids, never the codes of the event's detail).

use crate::AppState;
use crate::i18n::Said;
use fluent_bundle::FluentValue;
use rempart_domain::audit::event::{AuditEvent, HandoverTarget, action_key};
use std::collections::HashMap;

/// The event in a sentence. `names`: account id → display name.
pub fn describe(
    st: &AppState,
    lang: &str,
    action: &str,
    detail: &str,
    names: &HashMap<String, String>,
) -> String {
    let t = |key: &str, args: &[(&str, FluentValue<'_>)]| st.i18n.t(lang, key, args);
    let key = action_key(action);
    let label = if st.i18n.has(crate::i18n::I18n::lang(lang), &key) {
        t(&key, &[])
    } else {
        action.to_owned()
    };
    let name = |id: &str| {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| t("audit-someone", &[]))
    };
    match AuditEvent::decode(action, detail) {
        Ok(AuditEvent::CaseCreated) => t("action-case-created", &[]),
        Ok(AuditEvent::CaseStatusChanged { from, to, outcome }) => {
            let mut out = t(
                "action-status-changed",
                &[
                    ("from", from.said(lang).into()),
                    ("to", to.said(lang).into()),
                ],
            );
            if let Some(o) = outcome {
                out.push_str(&format!(" ({})", o.said(lang)));
            }
            out
        }
        Ok(AuditEvent::CaseAssigned { assignees }) => {
            let who: Vec<String> = assignees.iter().map(|a| name(&a.to_string())).collect();
            if who.is_empty() {
                t("action-assigned-nobody", &[])
            } else {
                t("action-assigned-to", &[("who", who.join(", ").into())])
            }
        }
        Ok(AuditEvent::ItemAdded { platform }) => {
            let p = st
                .app
                .directory()
                .platform(&platform)
                .map(|p| p.name.clone())
                .unwrap_or(platform);
            t("action-item-added", &[("platform", p.into())])
        }
        Ok(AuditEvent::NoteAdded { visibility }) => t(
            "action-note-added",
            &[("visibility", visibility.said(lang).into())],
        ),
        Ok(AuditEvent::ContactLogged { channel }) => t(
            "action-contact-logged",
            &[("channel", channel.said(lang).into())],
        ),
        Ok(AuditEvent::ConversationTransferred { to }) => {
            let to = match to {
                HandoverTarget::Staff(s) => name(&s.to_string()),
                HandoverTarget::Role(r) => r.said(lang).to_owned(),
            };
            format!("{label} → {to}")
        }
        Ok(AuditEvent::StaffRoleChanged { role }) | Ok(AuditEvent::StaffCreated { role }) => {
            format!("{label} ({})", role.said(lang))
        }
        Ok(AuditEvent::ChatAvailability {
            available,
            capacity,
        }) => t(
            if available {
                "action-available"
            } else {
                "action-unavailable"
            },
            &[("capacity", capacity.into())],
        ),
        Ok(AuditEvent::SecondFactorPassed(factor)) => {
            let how = match factor {
                rempart_domain::audit::event::Factor::Totp => "factor-totp",
                rempart_domain::audit::event::Factor::RecoveryCode => "factor-recovery-code",
                rempart_domain::audit::event::Factor::Passkey => "factor-passkey",
            };
            format!("{label} ({})", t(how, &[]))
        }
        Ok(AuditEvent::ChatAlerts { on }) => t(
            if on {
                "action-alerts-on"
            } else {
                "action-alerts-off"
            },
            &[],
        ),
        Ok(AuditEvent::NoticeSent { channel }) => {
            format!("{label} ({})", channel.said(lang))
        }
        Ok(AuditEvent::NoticeDecided { decision, .. }) => {
            format!("{label} : {}", decision.said(lang))
        }
        Ok(AuditEvent::NoticeDeliveryFailed { reason, .. }) => {
            format!("{label} ({reason})")
        }
        Ok(AuditEvent::PlaybookStepTicked {
            playbook,
            step,
            done,
        }) => {
            let books = st.app.playbooks_cached();
            let book = books.for_category(&playbook);
            let step = book
                .and_then(|b| b.step(&step))
                .map(|s| s.text(lang).to_owned())
                .unwrap_or(step);
            let title = book
                .map(|b| b.title(lang).to_owned())
                .or_else(|| {
                    st.app
                        .taxonomy()
                        .get(&playbook)
                        .map(|c| c.label(lang).to_owned())
                })
                .unwrap_or(playbook);
            t(
                if done {
                    "action-playbook-ticked"
                } else {
                    "action-playbook-unticked"
                },
                &[("step", step.into()), ("playbook", title.into())],
            )
        }
        Ok(AuditEvent::PlaybooksEdited { version, defaults }) => t(
            if defaults {
                "action-playbooks-restored"
            } else {
                "action-playbooks-edited"
            },
            &[("version", version.into())],
        ),
        _ => label.to_owned(),
    }
}
