//! The young person's follow-up page (`/follow-up`), without an account: the case code and
//! the secret open it for 30 minutes of use; it shows where the case stands in plain words
//! and the messages, takes a message, a file or only a picture's fingerprints (hashed on the
//! device). Every form carries a token matched against a cookie; opening is limited per
//! address and locked per code after wrong secrets; quick exit closes the page and leaves
//! for a neutral site, as the chat does.

use super::{Fields, base, ctx};
use crate::AppState;
use crate::api::evidence::{multipart, read_upload};
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, constant_time_eq, cookie};
use crate::limits::ClientIp;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Value;
use rempart_app::followup::FollowUpOpen;
use rempart_app::{AppError, ErrorCode, random_hex};

/// The open page's token.
pub const FOLLOWUP_COOKIE: &str = "rempart_followup";
/// The forms' token.
const CSRF_COOKIE: &str = "rempart_fu_csrf";
/// Opening attempts per address: this many at once, then one a minute.
const OPEN_BURST: u32 = 10;
const OPEN_EVERY_MS: i64 = 60_000;

/// Flash and error keys of the page.
#[derive(serde::Deserialize, Default)]
pub struct Shown {
    done: Option<String>,
    error: Option<String>,
}

fn csrf_of(headers: &HeaderMap) -> Option<String> {
    cookie(headers, CSRF_COOKIE)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

fn check_csrf(headers: &HeaderMap, sent: &str) -> Result<(), PageError> {
    match csrf_of(headers) {
        Some(c) if constant_time_eq(c.as_bytes(), sent.as_bytes()) => Ok(()),
        _ => Err(AppError::new(ErrorCode::CsrfFailed, "form expired").into()),
    }
}

fn token_of(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, FOLLOWUP_COOKIE).filter(|t| t.len() == 64)
}

async fn render(
    st: &AppState,
    lang: &'static str,
    here: &crate::extract::Here,
    headers: &HeaderMap,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, PageError> {
    let csrf = match csrf_of(headers) {
        Some(c) => c,
        None => random_hex(32)?,
    };
    let page = match token_of(headers) {
        Some(t) => match st.app.followup_page(t).await {
            Ok(p) => Some(p),
            Err(e) if e.code == ErrorCode::Unauthenticated => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let allowed_done = [
        "fu-done-sent",
        "fu-done-evidence",
        "fu-done-fingerprint",
        "fu-done-left",
    ];
    let allowed_error = [
        "fu-error-refused",
        "fu-error-locked",
        "fu-error-rate",
        "fu-error-expired",
        "evidence-refused-refused",
        "evidence-refused-forbidden",
        "evidence-refused-too-large",
        "evidence-refused-invalid",
        "evidence-refused-unavailable",
    ];
    let done = shown
        .done
        .map(|d| format!("fu-done-{d}"))
        .filter(|d| allowed_done.contains(&d.as_str()));
    let error = shown.error.filter(|e| allowed_error.contains(&e.as_str()));
    let mut extra = vec![
        ("fu_csrf", Value::from(csrf.clone())),
        (
            "exit_url",
            Value::from(
                st.app
                    .settings()
                    .helpline
                    .quick_exit_url
                    .as_str()
                    .to_owned(),
            ),
        ),
        ("open", Value::from(page.is_some())),
        ("done", Value::from(done)),
        ("error", Value::from(error)),
        ("evidence_kinds", super::case_evidence::file_kinds(lang)),
    ];
    if let Some(p) = &page {
        let messages: Vec<_> = p
            .messages
            .iter()
            .map(|(mine, body, at)| serde_json::json!({"mine": mine, "body": body, "at": at}))
            .collect();
        extra.push(("state", Value::from(p.state.as_str())));
        extra.push(("messages", Value::from_serialize(&messages)));
        extra.push(("evidence_added", Value::from(p.evidence_added)));
    }
    let mut r = st
        .templates
        .render("followup.html", ctx(base(st, lang, here, None), extra))?;
    *r.status_mut() = status;
    super::auth::set_cookie(&mut r, st, CSRF_COOKIE, &csrf, Some(4 * 3600));
    // a page that says nothing about its case to whoever holds the phone later
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// The page: the code form, or the open page.
pub async fn page(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    headers: HeaderMap,
    Query(shown): Query<Shown>,
) -> Result<Response, PageError> {
    render(&st, lang, &here, &headers, shown, StatusCode::OK).await
}

fn error_page(
    st: &AppState,
    lang: &'static str,
    here: &crate::extract::Here,
    headers: &HeaderMap,
    key: &str,
    status: StatusCode,
) -> impl std::future::Future<Output = Result<Response, PageError>> {
    let shown = Shown {
        done: None,
        error: Some(key.to_owned()),
    };
    async move { render(st, lang, here, headers, shown, status).await }
}

/// Opens the page with the code and the secret.
pub async fn open(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &["fu_csrf", "code", "secret"])?;
    check_csrf(&headers, f.get("fu_csrf"))?;
    if !st.limits.allow(
        &format!("followup-open:{ip}"),
        OPEN_BURST,
        OPEN_EVERY_MS,
        st.app.now(),
    ) {
        return error_page(
            &st,
            lang,
            &here,
            &headers,
            "fu-error-rate",
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    match st.app.open_followup(f.get("code"), f.get("secret")).await? {
        FollowUpOpen::Opened(token) => {
            let mut r = redirect("/follow-up");
            super::auth::set_cookie(&mut r, &st, FOLLOWUP_COOKIE, &token, None);
            Ok(r)
        }
        FollowUpOpen::Refused => {
            error_page(
                &st,
                lang,
                &here,
                &headers,
                "fu-error-refused",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        FollowUpOpen::Locked(_) => {
            error_page(
                &st,
                lang,
                &here,
                &headers,
                "fu-error-locked",
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await
        }
    }
}

fn open_token(headers: &HeaderMap) -> Result<String, PageError> {
    token_of(headers)
        .map(str::to_owned)
        .ok_or_else(|| PageError::Redirect("/follow-up".into()))
}

/// What a write on the page came to: back to the page, saying so.
fn back(outcome: Result<&str, AppError>) -> Result<Response, PageError> {
    match outcome {
        Ok(done) => Ok(redirect(&format!("/follow-up?done={done}"))),
        Err(e) if e.code == ErrorCode::Unauthenticated => {
            Ok(redirect("/follow-up?error=fu-error-expired"))
        }
        Err(e) => match super::evidence::refused_code(&e) {
            Some(code) => Ok(redirect(&format!(
                "/follow-up?error=evidence-refused-{}",
                code.replace('_', "-")
            ))),
            None => Err(e.into()),
        },
    }
}

/// Writes on the page (messages, fingerprints, files) from one address: this many at
/// once, then one every 30 seconds.
const WRITE_BURST: u32 = 20;
const WRITE_EVERY_MS: i64 = 30_000;
/// Writes on one case's page, whatever the addresses (several phones, or someone holding
/// the code and the secret and switching addresses): twice as many, then one every 15 s.
const CASE_WRITE_BURST: u32 = 40;
const CASE_WRITE_EVERY_MS: i64 = 15_000;

/// Whether the open page behind `token` may write now: `Err(response)` — back with the
/// expired error when the page is closed, with the rate error when a limit is reached (the
/// address's first, then the case's).
async fn may_write(
    st: &AppState,
    token: &str,
    ip: &str,
) -> Result<Result<(), Response>, PageError> {
    let Some(case) = st.app.followup_open_case(token).await? else {
        return Ok(Err(redirect("/follow-up?error=fu-error-expired")));
    };
    let now = st.app.now();
    if !st.limits.allow(
        &format!("followup-write:{ip}"),
        WRITE_BURST,
        WRITE_EVERY_MS,
        now,
    ) || !st.limits.allow(
        &format!("followup-write-case:{case}"),
        CASE_WRITE_BURST,
        CASE_WRITE_EVERY_MS,
        now,
    ) {
        return Ok(Err(redirect("/follow-up?error=fu-error-rate")));
    }
    Ok(Ok(()))
}

/// A message from the young person.
pub async fn say(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    req: axum::extract::Request,
) -> Result<Response, PageError> {
    let headers = req.headers().clone();
    let token = open_token(&headers)?;
    // an open page within its limits, before the body is read
    if let Err(r) = may_write(&st, &token, &ip).await? {
        return Ok(r);
    }
    let form =
        <FormBody<Vec<(String, String)>> as axum::extract::FromRequest<AppState>>::from_request(
            req, &st,
        )
        .await?;
    let f = Fields::new(form, &["fu_csrf", "body"])?;
    check_csrf(&headers, f.get("fu_csrf"))?;
    back(
        st.app
            .followup_say(&token, f.raw("body"))
            .await
            .map(|_| "sent"),
    )
}

/// A file from the young person.
pub async fn evidence(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let token = open_token(&headers)?;
    // an open page within its limits, before any of the body is read
    if let Err(r) = may_write(&st, &token, &ip).await? {
        return Ok(r);
    }
    let csrf =
        csrf_of(&headers).ok_or_else(|| AppError::new(ErrorCode::CsrfFailed, "form expired"))?;
    let mut mp = multipart(mp)?;
    let read = read_upload(
        &mut mp,
        st.app.evidence_limits().max_any(),
        Some(("fu_csrf", csrf.as_str())),
    )
    .await;
    let outcome = match read {
        Ok((input, content)) => st
            .app
            .followup_add_evidence(&token, input, content)
            .await
            .map(|_| "evidence"),
        Err(e) if e.code == ErrorCode::CsrfFailed => return Err(e.into()),
        Err(e) => Err(e),
    };
    back(outcome)
}

/// A picture's fingerprints, computed on the device (the picture never sent).
pub async fn fingerprints(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    req: axum::extract::Request,
) -> Result<Response, PageError> {
    let headers = req.headers().clone();
    let token = open_token(&headers)?;
    // an open page within its limits, before the body is read
    if let Err(r) = may_write(&st, &token, &ip).await? {
        return Ok(r);
    }
    let form =
        <FormBody<Vec<(String, String)>> as axum::extract::FromRequest<AppState>>::from_request(
            req, &st,
        )
        .await?;
    let f = Fields::new(
        form,
        &[
            "fu_csrf",
            "sha256",
            "md5",
            "pdq",
            "pdq_quality",
            "url",
            "description",
            "sexual_image_of_minor",
        ],
    )?;
    check_csrf(&headers, f.get("fu_csrf"))?;
    let outcome = match super::evidence::fingerprint_input(&f) {
        Ok((input, content)) => st
            .app
            .followup_add_evidence(&token, input, content)
            .await
            .map(|_| "fingerprint"),
        Err(e) => Err(e),
    };
    back(outcome)
}

async fn close(st: &AppState, headers: &HeaderMap) -> Result<(), PageError> {
    if let Some(t) = token_of(headers) {
        st.app.followup_leave(t).await?;
    }
    Ok(())
}

fn forget(r: &mut Response, st: &AppState) {
    super::auth::set_cookie(r, st, FOLLOWUP_COOKIE, "", Some(0));
}

/// Leaves the page (it closes).
pub async fn leave(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::new(form, &["fu_csrf"])?;
    check_csrf(&headers, f.get("fu_csrf"))?;
    close(&st, &headers).await?;
    let mut r = redirect("/follow-up?done=left");
    forget(&mut r, &st);
    Ok(r)
}

/// Quick exit: the page closes and the browser goes to a neutral site — always, even when
/// the form's token is stale or the database does not answer (closing is then left to the
/// page's idle limit): leaving must never show an error page.
pub async fn exit(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<FormBody<Vec<(String, String)>>, PageError>,
) -> Response {
    let token_ok = form
        .ok()
        .and_then(|f| Fields::new(f, &["fu_csrf"]).ok())
        .is_some_and(|f| check_csrf(&headers, f.get("fu_csrf")).is_ok());
    if token_ok && close(&st, &headers).await.is_err() {
        tracing::warn!("quick exit: the follow-up page could not be closed now");
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(st.app.settings().helpline.quick_exit_url.as_str()) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    forget(&mut r, &st);
    r
}
