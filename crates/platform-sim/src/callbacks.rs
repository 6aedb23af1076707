//! Coop's callbacks: a moderator's action on a reported item, and an appeal decision,
//! POSTed to the platform's callback URLs and signed with `Coop-Signature`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::SimError;
use crate::records::{Attempt, CallbackOutcome};
use crate::state::{PlatformKind, Shared};

/// Which report a decision is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// The latest report of the item with this `reportedItem.id`.
    #[serde(rename = "itemId")]
    ItemId(String),
    /// The report with this `reportId`.
    #[serde(rename = "reportId")]
    ReportId(String),
}

/// A Coop policy penalty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Penalty {
    /// `NONE`.
    None,
    /// `LOW`.
    Low,
    /// `MEDIUM`.
    Medium,
    /// `HIGH`.
    High,
    /// `SEVERE`.
    Severe,
}

/// A policy in an action callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Coop's policy id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its penalty.
    pub penalty: Penalty,
}

/// A rule in an action callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Coop's rule id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// An item identifier: `{ "id", "typeId" }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemIdentifier {
    /// The platform's id.
    pub id: String,
    /// The item type id.
    #[serde(rename = "typeId")]
    pub type_id: String,
}

/// A moderator's action on a reported item. In JSON (`POST /control/coop/{code}/decide`):
/// `{"itemId" | "reportId", "actionId", "policies"?, "rules"?, "custom"?, "actorEmail"?,
/// "actorNote"?, "creator"?, "typeName"?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The report decided.
    #[serde(flatten)]
    pub target: Target,
    /// The Coop action id.
    pub action_id: String,
    /// Policies sent (Coop always sends the array, possibly empty).
    #[serde(default)]
    pub policies: Vec<Policy>,
    /// Rules, sent when not empty.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Custom parameters, sent when given.
    #[serde(default)]
    pub custom: Option<Value>,
    /// The moderator's e-mail, sent when given.
    #[serde(default)]
    pub actor_email: Option<String>,
    /// The moderator's note, sent when given.
    #[serde(default)]
    pub actor_note: Option<String>,
    /// The user the action concerns, sent when given.
    #[serde(default)]
    pub creator: Option<ItemIdentifier>,
    /// `item.typeName`; the item's type id when not given.
    #[serde(default)]
    pub type_name: Option<String>,
}

impl Decision {
    fn new(target: Target, action_id: String) -> Self {
        Decision {
            target,
            action_id,
            policies: Vec::new(),
            rules: Vec::new(),
            custom: None,
            actor_email: None,
            actor_note: None,
            creator: None,
            type_name: None,
        }
    }

    /// The action `action_id` on the latest report of item `item_id`.
    pub fn for_item(item_id: impl Into<String>, action_id: impl Into<String>) -> Self {
        Decision::new(Target::ItemId(item_id.into()), action_id.into())
    }

    /// The action `action_id` on the report `report_id`.
    pub fn for_report(report_id: impl Into<String>, action_id: impl Into<String>) -> Self {
        Decision::new(Target::ReportId(report_id.into()), action_id.into())
    }
}

/// An appeal's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppealVerdict {
    /// The original action was wrong.
    Accept,
    /// The original action stands.
    Reject,
}

/// A decision on an appeal. In JSON (`POST /control/coop/{code}/appeal-decide`):
/// `{"appealId", "itemId", "appealedBy": {"id","typeId"}, "appealDecision", "custom"?,
/// "typeName"?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppealDecision {
    /// The platform's appeal id.
    pub appeal_id: String,
    /// The reported item the appeal is about (it must have been reported).
    pub item_id: String,
    /// Who appealed.
    pub appealed_by: ItemIdentifier,
    /// The outcome.
    pub appeal_decision: AppealVerdict,
    /// Custom parameters, sent when given.
    #[serde(default)]
    pub custom: Option<Value>,
    /// `item.typeName`; the item's type id when not given.
    #[serde(default)]
    pub type_name: Option<String>,
}

/// The reported item a target designates: (id, typeId).
fn find_item(shared: &Shared, code: &str, target: &Target) -> Result<(String, String), SimError> {
    let platform = shared
        .platform(code)
        .ok_or_else(|| SimError::UnknownPlatform(code.to_owned()))?;
    let st = platform.lock();
    let found = match target {
        Target::ReportId(id) => st.received.iter().find(|r| &r.id == id),
        Target::ItemId(id) => st
            .received
            .iter()
            .rev()
            .find(|r| r.item_id.as_deref() == Some(id)),
    };
    let r = found.ok_or_else(|| SimError::UnknownReport(format!("{target:?}")))?;
    Ok((
        r.item_id.clone().unwrap_or_default(),
        r.item_type_id.clone().unwrap_or_default(),
    ))
}

/// The callback URL, the signing keys and the fault switch of a Coop platform.
fn coop_parts(
    shared: &Shared,
    code: &str,
    appeal: bool,
) -> Result<(String, Arc<crate::keys::CoopKeys>, bool), SimError> {
    let platform = shared
        .platform(code)
        .ok_or_else(|| SimError::UnknownPlatform(code.to_owned()))?;
    let PlatformKind::Coop { keys, .. } = &platform.kind else {
        return Err(SimError::NotCoop(code.to_owned()));
    };
    let st = platform.lock();
    let url = if appeal {
        st.appeal_callback_url.clone()
    } else {
        st.callback_url.clone()
    };
    let url = url.ok_or_else(|| SimError::NoCallbackUrl(code.to_owned()))?;
    Ok((url, keys.clone(), st.faults.wrong_signature))
}

fn item_json(id: String, type_id: String, type_name: Option<String>) -> Value {
    let type_name = type_name.unwrap_or_else(|| type_id.clone());
    json!({ "id": id, "typeId": type_id, "typeName": type_name })
}

/// Sends the action callback of `decision` and returns what happened.
pub(crate) async fn decide(
    shared: &Arc<Shared>,
    code: &str,
    decision: Decision,
) -> Result<CallbackOutcome, SimError> {
    let (item_id, type_id) = find_item(shared, code, &decision.target)?;
    let (url, keys, wrong) = coop_parts(shared, code, false)?;
    let mut body = Map::new();
    body.insert(
        "item".into(),
        item_json(item_id, type_id, decision.type_name),
    );
    body.insert("action".into(), json!({ "id": decision.action_id }));
    body.insert("policies".into(), json!(decision.policies));
    if !decision.rules.is_empty() {
        body.insert("rules".into(), json!(decision.rules));
    }
    if let Some(custom) = decision.custom {
        body.insert("custom".into(), custom);
    }
    if let Some(email) = decision.actor_email {
        body.insert("actorEmail".into(), json!(email));
    }
    if let Some(note) = decision.actor_note {
        body.insert("actorNote".into(), json!(note));
    }
    if let Some(creator) = decision.creator {
        body.insert("creator".into(), json!(creator));
    }
    deliver(
        shared,
        code,
        "action",
        url,
        keys,
        wrong,
        Value::Object(body),
    )
    .await
}

/// Sends the appeal decision callback and returns what happened.
pub(crate) async fn decide_appeal(
    shared: &Arc<Shared>,
    code: &str,
    appeal: AppealDecision,
) -> Result<CallbackOutcome, SimError> {
    let (item_id, type_id) = find_item(shared, code, &Target::ItemId(appeal.item_id))?;
    let (url, keys, wrong) = coop_parts(shared, code, true)?;
    let mut body = Map::new();
    body.insert("appealId".into(), json!(appeal.appeal_id));
    body.insert("item".into(), item_json(item_id, type_id, appeal.type_name));
    body.insert("appealedBy".into(), json!(appeal.appealed_by));
    body.insert("appealDecision".into(), json!(appeal.appeal_decision));
    if let Some(custom) = appeal.custom {
        body.insert("custom".into(), custom);
    }
    deliver(
        shared,
        code,
        "appeal",
        url,
        keys,
        wrong,
        Value::Object(body),
    )
    .await
}

async fn deliver(
    shared: &Arc<Shared>,
    code: &str,
    kind: &str,
    url: String,
    keys: Arc<crate::keys::CoopKeys>,
    wrong_signature: bool,
    body: Value,
) -> Result<CallbackOutcome, SimError> {
    let body = body.to_string();
    let to_sign = body.clone().into_bytes();
    // RSA signing is slow in debug builds: off the async threads
    let signature = tokio::task::spawn_blocking(move || {
        if wrong_signature {
            crate::keys::sign_as_stranger(&to_sign)
        } else {
            keys.sign(&to_sign)
        }
    })
    .await
    .map_err(|e| SimError::Key(e.to_string()))??;

    let platform = shared
        .platform(code)
        .ok_or_else(|| SimError::UnknownPlatform(code.to_owned()))?;
    platform.lock().stats.callbacks.decisions += 1;
    shared.changed();

    let policy = &shared.callback_policy;
    let mut attempts = Vec::new();
    let mut delivered = false;
    let mut backoff = policy.first_backoff;
    for n in 0..=policy.retries {
        if n > 0 {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
        let res = shared
            .http
            .post(&url)
            .timeout(policy.timeout)
            .header("content-type", "application/json")
            .header("coop-signature", &signature)
            .body(body.clone())
            .send()
            .await;
        let attempt = match res {
            Ok(r) => Attempt {
                status: Some(r.status().as_u16()),
                error: None,
            },
            Err(e) => Attempt {
                status: None,
                error: Some(e.to_string()),
            },
        };
        let ok = attempt.status.is_some_and(|s| (200..300).contains(&s));
        {
            let mut st = platform.lock();
            st.stats.callbacks.attempts += 1;
            let key = attempt
                .status
                .map_or_else(|| "error".to_owned(), |s| s.to_string());
            *st.stats.callbacks.answers.entry(key).or_default() += 1;
        }
        shared.changed();
        attempts.push(attempt);
        if ok {
            delivered = true;
            break;
        }
    }

    let outcome = CallbackOutcome {
        kind: kind.to_owned(),
        url,
        body,
        signature,
        attempts,
        delivered,
    };
    {
        let mut st = platform.lock();
        if delivered {
            st.stats.callbacks.delivered += 1;
        } else {
            st.stats.callbacks.failed += 1;
        }
        st.callbacks.push(outcome.clone());
    }
    shared.changed();
    Ok(outcome)
}
