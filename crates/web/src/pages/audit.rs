//! The audit trail (supervisors, admins).

use super::{base, ctx};
use crate::AppState;
use crate::api::staff::AuditQuery;
use crate::error::PageError;
use crate::extract::{Lang, PageAuth};
use axum::extract::{Query, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;

/// The audit page.
pub async fn list(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let actor = auth.actor();
    let Query(q) = q.map_err(|e| AppError::field("query", &e.body_text()))?;
    let mut filter = q.filter()?;
    filter.limit = filter.limit.min(100);
    let page = st.app.audit_trail(&actor, &filter).await?;
    let (events, names, refs) = (page.events, page.names, page.case_refs);
    let rows: Vec<_> = events
        .iter()
        .map(|e| {
            // the object in words: its case's reference, or the account's name
            let account = (e.object_type == "staff")
                .then(|| e.object_id.as_ref().and_then(|o| names.get(o)))
                .flatten()
                .map(|n| st.i18n.t(lang, "audit-account", &[("name", n.clone().into())]));
            serde_json::json!({
                "seq": e.seq, "at": e.at_ms,
                "what": super::words::describe(&st, lang, &e.action, &e.detail, &names),
                "case_id": e.case_id,
                "case_ref": e.case_id.as_ref().and_then(|c| refs.get(c)),
                "account": account,
                "actor": e.actor_id.as_ref().map(|a| names.get(a).cloned().unwrap_or_else(|| st.i18n.t(lang, "audit-someone", &[]))).unwrap_or_else(|| "—".into()),
            })
        })
        .collect();
    let next = events
        .last()
        .filter(|_| events.len() as i64 >= filter.limit)
        .map(|e| {
            let mut p = vec![("before", e.seq.to_string())];
            if let Some(c) = &q.case_id {
                p.push(("case_id", c.clone()));
            }
            format!(
                "/audit?{}",
                serde_urlencoded::to_string(&p).unwrap_or_default()
            )
        });
    Ok(st.templates.render(
        "audit.html",
        ctx(
            base(&st, lang, &here, Some(&auth)),
            vec![
                ("events", Value::from_serialize(&rows)),
                ("next", Value::from(next)),
                ("f_case", Value::from(q.case_id.clone().unwrap_or_default())),
            ],
        ),
    )?)
}
