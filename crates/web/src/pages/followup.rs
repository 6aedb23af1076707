//! Following notices up in the console: the helpline's notices (filters: platform, state,
//! late, category; the late ones most overdue first), a platform's page (its channels, its
//! open notices, its time to acknowledgement, decision and removal), contesting a refusal.

use super::{Fields, base, ctx};
use crate::AppState;
use crate::api::followup::NoticeListQuery;
use crate::api::notices::notice_id;
use crate::api::path::PathId;
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth};
use crate::i18n::Said;
use crate::pages::notices::duration;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_app::notices::followup::{Figure, NoticeQuery};
use rempart_app::records::NoticeSummary;
use rempart_domain::notice::NoticeState;

fn rows(st: &AppState, lang: &str, notices: &[NoticeSummary], now: i64) -> Value {
    let dir = st.app.directory();
    let rows: Vec<_> = notices
        .iter()
        .map(|n| {
            let open = rempart_app::records::OPEN_STATES.contains(&n.state);
            let late = open && n.due_at.is_some_and(|d| d <= now);
            serde_json::json!({
                "id": n.id.to_string(),
                "reference": n.reference,
                "case_id": n.case_id.to_string(),
                "case_reference": n.case_reference,
                "platform": n.platform,
                "platform_name": dir.platform(&n.platform).map(|p| p.name.clone()).unwrap_or_else(|| n.platform.clone()),
                "category": st.app.taxonomy().get(&n.category).map(|c| c.label(lang).to_owned()).unwrap_or_else(|| n.category.clone()),
                "state": n.state.as_str(),
                "state_label": n.state.said(lang),
                "sending": n.state == NoticeState::Sent && n.channel.is_some() && n.attempts == 0,
                "channel": n.channel.map(|c| c.said(lang)),
                "attempts": n.attempts,
                "last_error": n.last_error,
                "decision": n.decision.map(|d| d.said(lang)),
                "sent_at": n.sent_at,
                "due_at": n.due_at,
                "late": late,
                "late_by": late.then(|| duration(now - n.due_at.unwrap_or(now))),
                "escalated_at": n.escalated_at,
                "updated_at": n.updated_at,
            })
        })
        .collect();
    Value::from_serialize(&rows)
}

/// The helpline's notices.
pub async fn list(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    q: Result<Query<NoticeListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let Query(q) = q.map_err(|e| AppError::field("query", &e.body_text()))?;
    let query: NoticeQuery = q.parse()?;
    let actor = auth.actor();
    let page = st.app.list_notices(&actor, query.clone()).await?;
    let late_count = st.app.late_notices(&actor).await?;
    let now = st.app.now();
    let next = page.next.map(|c| {
        let mut params = vec![("cursor", c.encode())];
        for (k, v) in [
            ("platform", &q.platform),
            ("state", &q.state),
            ("category", &q.category),
            ("late", &q.late),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                params.push((k, v.clone()));
            }
        }
        format!(
            "/notices?{}",
            serde_urlencoded::to_string(&params).unwrap_or_default()
        )
    });
    let dir = st.app.directory();
    let platforms: Vec<(String, String)> = dir
        .platforms()
        .iter()
        .map(|p| (p.code.clone(), p.name.clone()))
        .collect();
    let states: Vec<(&str, &str)> = NoticeState::ALL
        .iter()
        .map(|s| (s.as_str(), s.said(lang)))
        .collect();
    let cats: Vec<(String, String)> = super::category_options(&st, lang);
    let v = vec![
        ("notices", rows(&st, lang, &page.notices, now)),
        ("next", Value::from(next)),
        ("late_view", Value::from(query.late)),
        ("late_any", Value::from(late_count > 0)),
        (
            "late_count",
            Value::from(
                if late_count >= rempart_app::notices::followup::LATE_CAP as u64 {
                    format!("{late_count}+")
                } else {
                    late_count.to_string()
                },
            ),
        ),
        ("platforms", Value::from_serialize(&platforms)),
        ("states", Value::from_serialize(&states)),
        ("categories", Value::from_serialize(&cats)),
        ("f_platform", Value::from(query.platform.clone())),
        ("f_state", Value::from(query.state.map(|s| s.as_str()))),
        ("f_category", Value::from(query.category.clone())),
    ];
    Ok(st
        .templates
        .render("notices.html", ctx(base(&st, lang, &here, Some(&auth)), v))?)
}

fn figure(f: Figure) -> serde_json::Value {
    serde_json::json!({
        "count": f.count,
        "median": f.median_ms.map(duration),
        "p90": f.p90_ms.map(duration),
    })
}

/// A platform's page.
pub async fn platform(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    PathId(code): PathId,
) -> Result<Response, PageError> {
    let actor = auth.actor();
    let figures = st.app.platform_figures(&actor, &code).await?;
    let dir = st.app.directory();
    let p = dir.platform(&code).ok_or_else(AppError::not_found)?;
    let mut open = Vec::new();
    for s in rempart_app::records::OPEN_STATES {
        let page = st
            .app
            .list_notices(
                &actor,
                NoticeQuery {
                    platform: Some(code.clone()),
                    state: Some(s),
                    limit: Some(50),
                    ..Default::default()
                },
            )
            .await?;
        open.extend(page.notices);
    }
    open.sort_by_key(|n| (n.due_at.unwrap_or(i64::MAX), n.id.to_string()));
    let channels: Vec<_> = p
        .channels
        .iter()
        .map(|c| c.kind().said(lang).to_owned())
        .collect();
    let delays: Vec<_> = p
        .delays
        .iter()
        .map(|(cat, h)| {
            let label = st
                .app
                .taxonomy()
                .get(cat)
                .map(|c| c.label(lang).to_owned())
                .unwrap_or_else(|| cat.clone());
            serde_json::json!({"category": label, "hours": h})
        })
        .collect();
    let v = vec![
        ("code", Value::from(p.code.clone())),
        ("name", Value::from(p.name.clone())),
        ("channels", Value::from_serialize(&channels)),
        ("hours", Value::from(p.expected_hours)),
        ("delays", Value::from_serialize(&delays)),
        ("sent", Value::from(figures.sent)),
        (
            "to_ack",
            Value::from_serialize(figure(figures.to_acknowledgement)),
        ),
        (
            "to_decision",
            Value::from_serialize(figure(figures.to_decision)),
        ),
        (
            "to_removal",
            Value::from_serialize(figure(figures.to_removal)),
        ),
        ("notices", rows(&st, lang, &open, st.app.now())),
    ];
    Ok(st
        .templates
        .render("platform.html", ctx(base(&st, lang, &here, Some(&auth)), v))?)
}

/// Contests a platform's refusal.
pub async fn contest(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["reason"], &auth)?;
    let id = notice_id(&id)?;
    st.app
        .contest_notice(&auth.actor(), id, f.get("reason").to_owned())
        .await?;
    let case = st.app.notice(&auth.actor(), id).await?.notice.case_id;
    Ok(redirect(&format!("/cases/{case}?done=notice#notice-{id}")))
}
