//! Decisions that come back: a ROOST Coop action callback, believed only when its
//! `Coop-Signature` (RSASSA-PKCS1-v1_5, SHA-256, over the raw body) verifies with the
//! platform's public key from the directory; its item names the notice, its action id the
//! decision (the directory's map). Coop retries a callback it could not deliver, so the
//! same decision again is recorded once and answered alike; another decision on a decided
//! notice is a conflict. An appeal decision (the content's author appealed the platform's
//! action) arrives at its own callback, signed alike: it is kept on the notice and told in
//! the case timeline — an accepted appeal means the platform reversed its action.

use super::DecisionInput;
use crate::{App, AppError, ErrorCode};
use rempart_domain::directory::ChannelSpec;
use serde::Deserialize;

/// A Coop action callback, as its documentation gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CoopAction {
    item: CoopItem,
    action: CoopActionRef,
    #[serde(default)]
    policies: Vec<CoopPolicy>,
    #[serde(default)]
    rules: Vec<serde_json::Value>,
    #[serde(default)]
    custom: Option<serde_json::Value>,
    // the moderator's address and note are read and dropped: never stored
    #[serde(default)]
    #[allow(dead_code)]
    actor_email: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    actor_note: Option<String>,
    #[serde(default)]
    creator: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CoopItem {
    id: String,
    #[serde(default)]
    #[allow(dead_code)]
    type_id: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    type_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoopActionRef {
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoopPolicy {
    #[allow(dead_code)]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    penalty: Option<String>,
}

/// A Coop appeal decision callback.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CoopAppeal {
    #[allow(dead_code)]
    appeal_id: String,
    item: CoopItem,
    // who appealed (the content's author): read and dropped
    #[allow(dead_code)]
    appealed_by: serde_json::Value,
    appeal_decision: AppealVerdict,
    #[serde(default)]
    #[allow(dead_code)]
    custom: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum AppealVerdict {
    Accept,
    Reject,
}

/// What a callback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackResult {
    /// The decision was recorded.
    Recorded,
    /// The same decision was already recorded (a retried callback).
    AlreadyRecorded,
}

impl App {
    /// The directory's Coop actions of `platform`, once its signature on `raw` verifies.
    fn verified_coop(
        &self,
        platform: &str,
        raw: &[u8],
        signature: Option<&str>,
    ) -> Result<std::collections::BTreeMap<String, rempart_domain::notice::DecisionKind>, AppError>
    {
        let directory = self.directory();
        let Some((key, actions)) = directory.platform(platform).and_then(|p| {
            p.channels.iter().find_map(|c| match c {
                ChannelSpec::Coop {
                    public_key_pem,
                    actions,
                    ..
                } => Some((public_key_pem.clone(), actions.clone())),
                _ => None,
            })
        }) else {
            return Err(AppError::not_found());
        };
        // without the platform's key nothing it says is believed
        let Some(key) = key else {
            return Err(AppError::new(
                ErrorCode::InvalidSignature,
                "no key to verify with",
            ));
        };
        let Some(signature) = signature else {
            return Err(AppError::new(
                ErrorCode::InvalidSignature,
                "signature missing",
            ));
        };
        rempart_delivery::verify_coop_signature(&key, raw, signature)
            .map_err(|_| AppError::new(ErrorCode::InvalidSignature, "signature does not verify"))?;
        Ok(actions)
    }

    /// A Coop action callback for `platform`: the raw body and its `Coop-Signature`.
    pub async fn coop_callback(
        &self,
        platform: &str,
        raw: &[u8],
        signature: Option<&str>,
    ) -> Result<CallbackResult, AppError> {
        let actions = self.verified_coop(platform, raw, signature)?;
        let body: CoopAction = serde_json::from_slice(raw)
            .map_err(|_| AppError::new(ErrorCode::MalformedBody, "not a Coop action callback"))?;
        let _ = (&body.rules, &body.custom, &body.creator);
        let decision = *actions
            .get(&body.action.id)
            .ok_or_else(|| AppError::field("action.id", "no decision for this action"))?;
        let Some(n) = self.store.notice_for_item(platform, &body.item.id).await? else {
            return Err(AppError::not_found());
        };
        if n.decision == Some(decision) {
            return Ok(CallbackResult::AlreadyRecorded);
        }
        let note = body
            .policies
            .iter()
            .filter_map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        self.decide(
            None,
            &n,
            DecisionInput {
                decision,
                ticket: None,
                note: (!note.is_empty()).then_some(note),
            },
            "coop",
        )
        .await?;
        Ok(CallbackResult::Recorded)
    }

    /// A Coop appeal decision callback for `platform`, signed like the action callbacks.
    pub async fn coop_appeal_callback(
        &self,
        platform: &str,
        raw: &[u8],
        signature: Option<&str>,
    ) -> Result<CallbackResult, AppError> {
        self.verified_coop(platform, raw, signature)?;
        let body: CoopAppeal = serde_json::from_slice(raw)
            .map_err(|_| AppError::new(ErrorCode::MalformedBody, "not a Coop appeal callback"))?;
        let Some(n) = self.store.notice_for_item(platform, &body.item.id).await? else {
            return Err(AppError::not_found());
        };
        let outcome = match body.appeal_decision {
            AppealVerdict::Accept => "accepted",
            AppealVerdict::Reject => "rejected",
        };
        if n.appeal.as_deref() == Some(outcome) {
            return Ok(CallbackResult::AlreadyRecorded);
        }
        if n.decision.is_none() {
            return Err(AppError::new(
                ErrorCode::InvalidTransition,
                "no decision to appeal on this notice",
            ));
        }
        let now = self.now();
        let change = rempart_storage::NoticeChange {
            from: Some(n.state),
            at: now,
            appeal: Some(outcome.to_owned()),
            appeal_at: Some(now),
            ..Default::default()
        };
        self.store
            .change_notice(
                n.id,
                &change,
                None,
                &rempart_storage::AuditEntry::new(
                    now,
                    None,
                    rempart_domain::audit::event::AuditEvent::NoticeAppealDecided {
                        accepted: body.appeal_decision == AppealVerdict::Accept,
                    },
                )
                .object(n.id)
                .case(n.case_id),
            )
            .await?;
        Ok(CallbackResult::Recorded)
    }
}
