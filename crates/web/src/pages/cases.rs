//! Case list and case page.

use super::{Fields, base, ctx, options};
use crate::AppState;
use crate::api::cases::{ListQuery, case_id};
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth};
use crate::i18n::Said;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use minijinja::Value;
use rempart_app::AppError;
use rempart_domain::case::{CaseOutcome, CaseStatus, NoteVisibility};
use rempart_domain::ids::StaffId;
use rempart_domain::taxonomy::ContentType;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct Row {
    id: String,
    reference: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    categories: Vec<String>,
    updated_at: i64,
}

fn category_labels(st: &AppState, lang: &str, codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|c| {
            st.app
                .taxonomy()
                .get(c)
                .map(|k| k.label(lang).to_owned())
                .unwrap_or_else(|| c.clone())
        })
        .collect()
}

/// The case list.
pub async fn list(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let Query(q) = q.map_err(|e| AppError::field("query", &e.body_text()))?;
    let mut query = q.parse()?;
    query.with_total = true;
    let page = st.app.list_cases(&auth.actor(), &query).await?;
    let rows: Vec<Row> = page
        .cases
        .iter()
        .map(|c| Row {
            id: c.id.to_string(),
            reference: c.reference.clone(),
            title: c.title.clone(),
            status: c.status.as_str(),
            status_label: c.status.said(lang),
            categories: category_labels(&st, lang, &c.categories),
            updated_at: c.updated_at,
        })
        .collect();
    // the links keep the filters; `cursor` pages on, `before` pages back
    let link = |key: &'static str, c: &rempart_app::records::CaseCursor| {
        let mut params = vec![(key, c.encode())];
        for (k, v) in [
            ("status", &q.status),
            ("category", &q.category),
            ("assignee", &q.assignee),
            ("q", &q.q),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                params.push((k, v.clone()));
            }
        }
        if let Some(l) = q.limit {
            params.push(("limit", l.to_string()));
        }
        format!(
            "/cases?{}",
            serde_urlencoded::to_string(&params).unwrap_or_default()
        )
    };
    let next = page.next.as_ref().map(|c| link("cursor", c));
    let prev = page.prev.as_ref().map(|c| link("before", c));
    let total = page.total.unwrap_or(0);
    let searching = [&q.status, &q.category, &q.assignee, &q.q]
        .iter()
        .any(|v| v.as_ref().is_some_and(|v| !v.trim().is_empty()));
    let workers = st.app.case_workers().await?;
    let cats: Vec<(String, String)> = super::category_options(&st, lang);
    Ok(st.templates.render(
        "cases.html",
        ctx(
            base(&st, lang, &here, Some(&auth)),
            vec![
                ("cases", Value::from_serialize(&rows)),
                ("next", Value::from(next)),
                ("prev", Value::from(prev)),
                (
                    "total",
                    Value::from(total.min(rempart_app::records::COUNT_CAP)),
                ),
                (
                    "total_more",
                    Value::from(total > rempart_app::records::COUNT_CAP),
                ),
                ("searching", Value::from(searching)),
                (
                    "statuses",
                    options(CaseStatus::ALL, |s| s.as_str(), |s| s.said(lang)),
                ),
                ("categories", Value::from_serialize(&cats)),
                (
                    "workers",
                    Value::from_serialize(
                        workers
                            .iter()
                            .map(|w| (w.id.to_string(), w.display_name.clone()))
                            .collect::<Vec<_>>(),
                    ),
                ),
                (
                    "f_status",
                    Value::from(q.status.clone().unwrap_or_default()),
                ),
                (
                    "f_category",
                    Value::from(q.category.clone().unwrap_or_default()),
                ),
                (
                    "f_assignee",
                    Value::from(q.assignee.clone().unwrap_or_default()),
                ),
                ("f_q", Value::from(q.q.clone().unwrap_or_default())),
                ("me", Value::from(auth.staff.id.to_string())),
            ],
        ),
    )?)
}

/// Flash message after a change, or why an evidence form was refused.
#[derive(serde::Deserialize, Default)]
pub struct Done {
    done: Option<String>,
    refused: Option<String>,
}

/// What the case page shows besides the case.
#[derive(Default)]
pub struct Extra {
    /// The flash message.
    pub done: Done,
    /// A form sent back with what is wrong.
    pub(crate) form_error: Option<FormError>,
    /// A follow-up code and secret just given (shown once).
    pub issued: Option<rempart_app::followup::IssuedFollowUp>,
}

/// The case page.
pub async fn show(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    render_case_with(
        &st,
        lang,
        &here,
        &auth,
        &id,
        Extra {
            done,
            ..Default::default()
        },
    )
    .await
}

/// A form of the case page sent back with what is wrong, as typed.
#[derive(serde::Serialize, Default)]
pub(crate) struct FormError {
    /// Which form (`status`).
    form: &'static str,
    /// The message's key.
    error: &'static str,
    /// The field at fault.
    field: &'static str,
    /// What was typed, by field.
    typed: HashMap<&'static str, String>,
}

async fn render_case(
    st: &AppState,
    lang: &'static str,
    here: &crate::extract::Here,
    auth: &rempart_app::auth::Authenticated,
    id: &str,
    done: Done,
    form_error: Option<FormError>,
) -> Result<Response, PageError> {
    render_case_with(
        st,
        lang,
        here,
        auth,
        id,
        Extra {
            done,
            form_error,
            issued: None,
        },
    )
    .await
}

/// The case page, with what it shows besides the case.
pub async fn render_case_with(
    st: &AppState,
    lang: &'static str,
    here: &crate::extract::Here,
    auth: &rempart_app::auth::Authenticated,
    id: &str,
    extra: Extra,
) -> Result<Response, PageError> {
    let Extra {
        done,
        form_error,
        issued,
    } = extra;
    let v = st.app.read_case(&auth.actor(), case_id(id)?).await?;

    // read before the timeline's words, which name the playbooks' steps
    let guidance = st.app.case_guidance(&auth.actor(), v.case.id).await?;
    let notice_views = st.app.case_notices(&auth.actor(), v.case.id).await?;
    let unnoticed = v
        .items
        .iter()
        .filter(|i| !notice_views.iter().any(|n| n.notice.items.contains(&i.id)))
        .count();
    let workers = st.app.case_workers().await?;
    let names: HashMap<String, String> = workers
        .iter()
        .map(|w| (w.id.to_string(), w.display_name.clone()))
        .collect();
    let ev = super::case_evidence::for_case(st, lang, auth, v.case.id, issued, &names).await?;
    let c = &v.case;
    let items: Vec<_> = v
        .items
        .iter()
        .map(|i| {
            serde_json::json!({
                "platform": st.app.directory().platform(&i.platform).map(|p| p.name.clone()).unwrap_or_else(|| i.platform.clone()),
                "content_type": ContentType::parse(&i.content_type).map(|t| t.said(lang)).unwrap_or("?"),
                "url": i.url, "native_id": i.native_id, "status": i.status.said(lang), "created_at": i.created_at,
            })
        })
        .collect();
    let notes: Vec<_> = v
        .notes
        .iter()
        .map(|n| serde_json::json!({"visibility": n.visibility.as_str(), "visibility_label": n.visibility.said(lang), "body": n.body, "author": n.author_name, "created_at": n.created_at}))
        .collect();
    let contacts: Vec<_> = v
        .contacts
        .iter()
        .map(|k| serde_json::json!({"channel": k.channel.said(lang), "caller": k.caller_type.said(lang), "summary": k.summary, "started_at": k.started_at, "outcome": k.outcome.said(lang)}))
        .collect();
    let timeline: Vec<_> = v
        .timeline
        .iter()
        .map(|a| {
            serde_json::json!({
                "at": a.at_ms, "action": a.action,
                "actor": a.actor_id.as_ref().and_then(|id| names.get(id).cloned()).unwrap_or_else(|| "—".into()),
                "what": super::words::describe(st, lang, &a.action, &a.detail, &names),
            })
        })
        .collect();
    let assignees: Vec<String> = c
        .assignees
        .iter()
        .map(|a| {
            names
                .get(&a.to_string())
                .cloned()
                .unwrap_or_else(|| a.to_string())
        })
        .collect();
    let assigned_ids: Vec<String> = c.assignees.iter().map(|a| a.to_string()).collect();
    let done_key = done
        .done
        .filter(|d| {
            [
                "status",
                "assignees",
                "item",
                "note",
                "created",
                "notice",
                "notices",
                "ticked",
                "unticked",
                "evidence",
                "followup_revoked",
                "followup_reply",
                "referral",
            ]
            .contains(&d.as_str())
        })
        .map(|d| format!("done-{d}"));
    let refused_key = done
        .refused
        .filter(|r| {
            [
                "refused",
                "forbidden",
                "too_large",
                "invalid",
                "unavailable",
            ]
            .contains(&r.as_str())
        })
        .map(|r| format!("evidence-refused-{}", r.replace('_', "-")));
    Ok(st
        .templates
        .render(
            "case.html",
            ctx(
                base(st, lang, here, Some(auth)),
                vec![
                    ("id", Value::from(c.id.to_string())),
                    ("reference", Value::from(c.reference.clone())),
                    ("title", Value::from(c.title.clone())),
                    ("status", Value::from(c.status.as_str())),
                    ("status_label", Value::from(c.status.said(lang))),
                    (
                        "outcome_label",
                        Value::from(c.outcome.map(|o| o.said(lang))),
                    ),
                    ("team", Value::from(c.team.clone())),
                    ("age_band", Value::from(c.age_band.said(lang))),
                    (
                        "categories",
                        Value::from_serialize(category_labels(st, lang, &c.categories)),
                    ),
                    ("articles", Value::from_serialize(&c.legal.articles)),
                    (
                        "dsa_category",
                        Value::from(
                            c.legal
                                .dsa_category
                                .as_deref()
                                .map(|d| dsa_label(st, lang, d)),
                        ),
                    ),
                    (
                        "consents",
                        Value::from_serialize(
                            c.consents
                                .iter()
                                .map(|k| (k.scope.said(lang), k.by_guardian, k.at_ms))
                                .collect::<Vec<_>>(),
                        ),
                    ),
                    ("assignees", Value::from_serialize(&assignees)),
                    ("assigned_ids", Value::from_serialize(&assigned_ids)),
                    ("created_at", Value::from(c.created_at)),
                    ("updated_at", Value::from(c.updated_at)),
                    ("items", Value::from_serialize(&items)),
                    ("notices", super::notices::for_template(&notice_views, lang)),
                    ("unnoticed_items", Value::from(unnoticed)),
                    (
                        // where sexual images of a minor are reported besides the platform
                        "csam_services",
                        Value::from_serialize(
                            st.app
                                .directory()
                                .services()
                                .iter()
                                .filter(|s| {
                                    matches!(
                                        s.kind,
                                        rempart_domain::directory::ServiceKind::Pharos
                                            | rempart_domain::directory::ServiceKind::Hotline
                                    )
                                })
                                .map(|s| {
                                    serde_json::json!({
                                        "label": s.label(lang),
                                        "contact": s.contact,
                                        "url": s.contact.starts_with("https://"),
                                    })
                                })
                                .collect::<Vec<_>>(),
                        ),
                    ),
                    (
                        "decisions",
                        options(
                            rempart_domain::notice::DecisionKind::ALL.as_slice(),
                            |d| d.as_str(),
                            |d| d.said(lang),
                        ),
                    ),
                    ("notes", Value::from_serialize(&notes)),
                    ("contacts", Value::from_serialize(&contacts)),
                    ("timeline", Value::from_serialize(&timeline)),
                    ("can_update", Value::from(v.can_update)),
                    (
                        "writable_notes",
                        options(&v.writable_notes, |n| n.as_str(), |n| n.said(lang)),
                    ),
                    (
                        "statuses",
                        options(CaseStatus::ALL, |s| s.as_str(), |s| s.said(lang)),
                    ),
                    (
                        "outcomes",
                        options(CaseOutcome::ALL, |s| s.as_str(), |s| s.said(lang)),
                    ),
                    (
                        "content_types",
                        options(
                            ContentType::ALL.as_slice(),
                            |s| s.as_str(),
                            |s| s.said(lang),
                        ),
                    ),
                    (
                        "platforms",
                        Value::from_serialize(
                            st.app
                                .directory()
                                .platforms()
                                .iter()
                                .map(|p| (p.code.clone(), p.name.clone()))
                                .collect::<Vec<_>>(),
                        ),
                    ),
                    (
                        "workers",
                        Value::from_serialize(
                            workers
                                .iter()
                                .map(|w| {
                                    (w.id.to_string(), w.display_name.clone(), w.role.said(lang))
                                })
                                .collect::<Vec<_>>(),
                        ),
                    ),
                    ("done", Value::from(done_key)),
                    ("guidance", super::guidance::case_cards(st, lang, &guidance)),
                    ("can_tick", Value::from(guidance.can_tick)),
                    ("form_error", Value::from_serialize(&form_error)),
                    ("refused", Value::from(refused_key)),
                    ("evidence", ev.evidence),
                    ("evidence_kinds", ev.kinds),
                    ("can_add_evidence", Value::from(ev.rights.add)),
                    (
                        "can_add_fingerprints",
                        Value::from(ev.rights.add_fingerprints),
                    ),
                    ("can_download", Value::from(ev.rights.download)),
                    ("can_export", Value::from(ev.rights.export)),
                    ("can_complaint", Value::from(ev.rights.complaint)),
                    ("can_mail", Value::from(st.app.can_mail())),
                    (
                        "can_manage_followup",
                        Value::from(ev.rights.manage_followup),
                    ),
                    ("followup", ev.followup),
                    ("followup_issued", ev.issued),
                    ("followup_messages", ev.messages),
                    ("followup_url", Value::from(ev.followup_url)),
                    ("referrals", ev.referrals),
                    ("services", ev.services),
                    ("bases", ev.bases),
                    ("can_refer", Value::from(ev.rights.refer)),
                ],
            ),
        )
        .map(|mut r| {
            if form_error.is_some() {
                *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            }
            r
        })?)
}

fn back(id: &str, done: &str) -> Response {
    redirect(&format!("/cases/{id}?done={done}"))
}

/// Changes the status. A mistake (closing without an outcome…) shows the page again with
/// the form as it was sent and what is wrong inside it.
pub async fn status(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["status", "outcome"], &auth)?;
    let cid = case_id(&id)?;
    let wrong = |error: &'static str, field: &'static str| FormError {
        form: "status",
        error,
        field,
        typed: HashMap::from([
            ("status", f.get("status").to_owned()),
            ("outcome", f.get("outcome").to_owned()),
        ]),
    };
    let Ok(to) = CaseStatus::parse(f.get("status")) else {
        let e = wrong("case-status-error-status", "status");
        return render_case(&st, lang, &here, &auth, &id, Done::default(), Some(e)).await;
    };
    let outcome = match f.opt("outcome").map(|o| CaseOutcome::parse(&o)).transpose() {
        Ok(o) if to == CaseStatus::Closed => o,
        Ok(_) => None,
        Err(_) => {
            let e = wrong("case-status-error-outcome", "outcome");
            return render_case(&st, lang, &here, &auth, &id, Done::default(), Some(e)).await;
        }
    };
    match st.app.change_status(&auth.actor(), cid, to, outcome).await {
        Ok(_) => Ok(back(&id, "status")),
        Err(e) if e.code == rempart_app::ErrorCode::InvalidTransition => {
            let e = if to == CaseStatus::Closed && outcome.is_none() {
                wrong("case-status-error-outcome", "outcome")
            } else {
                wrong("case-status-error-transition", "status")
            };
            render_case(&st, lang, &here, &auth, &id, Done::default(), Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Replaces the assignees.
pub async fn assign(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["assignee"], &auth)?;
    let cid = case_id(&id)?;
    let ids = f
        .all("assignee")
        .iter()
        .map(|a| StaffId::parse(a).map_err(|_| AppError::field("assignee", "invalid id")))
        .collect::<Result<Vec<_>, _>>()?;
    st.app.assign(&auth.actor(), cid, ids).await?;
    Ok(back(&id, "assignees"))
}

/// Adds an item.
pub async fn add_item(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(
        form,
        &["platform", "content_type", "url", "native_id"],
        &auth,
    )?;
    let cid = case_id(&id)?;
    let input = rempart_app::cases::ItemInput {
        platform: f.get("platform").to_owned(),
        content_type: ContentType::parse(f.get("content_type"))
            .map_err(|_| AppError::field("content_type", "unknown value"))?,
        url: f.opt("url"),
        native_id: f.opt("native_id"),
        first_seen_at: None,
    };
    st.app.add_item(&auth.actor(), cid, input).await?;
    Ok(back(&id, "item"))
}

/// Adds a note.
pub async fn add_note(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["visibility", "body"], &auth)?;
    let cid = case_id(&id)?;
    let vis = NoteVisibility::parse(f.get("visibility"))
        .map_err(|_| AppError::field("visibility", "unknown value"))?;
    st.app
        .add_note(&auth.actor(), cid, vis, f.get("body"))
        .await?;
    Ok(back(&id, "note"))
}

/// A DSA statement category as words ("STATEMENT_CATEGORY_CYBER_VIOLENCE" → "Cyber violence");
/// the DSA transparency database names them in English only.
/// The name of a DSA statement category in `lang` (the catalogue's `dsa-…` keys); a code
/// the catalogue does not know yet is shown in words.
fn dsa_label(st: &AppState, lang: &str, code: &str) -> String {
    let key = format!(
        "dsa-{}",
        code.trim_start_matches("STATEMENT_CATEGORY_")
            .to_lowercase()
            .replace('_', "-")
    );
    if st.i18n.has(lang, &key) {
        return st.i18n.t(lang, &key, &[]);
    }
    let words = code
        .trim_start_matches("STATEMENT_CATEGORY_")
        .replace('_', " ")
        .to_lowercase();
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
