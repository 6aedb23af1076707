//! The console's evidence and follow-up forms on the case page: a file (multipart, its
//! CSRF field before the file), a link or an excerpt, fingerprints computed in the browser;
//! the follow-up code given (shown once, on the page answering the form), withdrawn, and the
//! answers written on the young person's page.

use super::Fields;
use crate::AppState;
use crate::api::cases::case_id;
use crate::api::evidence::{multipart, read_upload};
use crate::error::{PageError, redirect};
use crate::extract::{FormBody, Lang, PageAuth};
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::response::Response;
use rempart_app::evidence::{Content, EvidenceInput};
use rempart_app::{AppError, ErrorCode};
use rempart_domain::case::EvidenceKind;
use rempart_domain::policy::Action;

/// Where a refused evidence form goes back to: the case page, saying why.
pub(crate) fn refused_code(e: &AppError) -> Option<&'static str> {
    Some(match e.code {
        ErrorCode::FileRefused => "refused",
        ErrorCode::FileForbidden => "forbidden",
        ErrorCode::PayloadTooLarge => "too_large",
        ErrorCode::InvalidField => "invalid",
        ErrorCode::Unavailable => "unavailable",
        _ => return None,
    })
}

fn back_to_evidence(id: &str, outcome: Result<(), AppError>) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(redirect(&format!("/cases/{id}?done=evidence#evidence"))),
        Err(e) => match refused_code(&e) {
            Some(code) => Ok(redirect(&format!("/cases/{id}?refused={code}#evidence"))),
            None => Err(e.into()),
        },
    }
}

/// Adds a file from the console.
pub async fn upload(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let cid = case_id(&id)?;
    let actor = auth.actor();
    st.app.may(&actor, cid, Action::AddEvidence).await?;
    let mut mp = multipart(mp)?;
    let read = read_upload(
        &mut mp,
        st.app.evidence_limits().max_any(),
        Some(("_csrf", auth.session.csrf_token.as_str())),
    )
    .await;
    let outcome = match read {
        Ok((input, content)) => st
            .app
            .add_evidence(&actor, cid, input, content)
            .await
            .map(|_| ()),
        Err(e) if e.code == ErrorCode::CsrfFailed => return Err(e.into()),
        Err(e) => Err(e),
    };
    back_to_evidence(&id, outcome)
}

/// Adds a link or an excerpt from the console.
pub async fn note(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["kind", "url", "excerpt", "description"], &auth)?;
    let cid = case_id(&id)?;
    let kind =
        EvidenceKind::parse(f.get("kind")).map_err(|_| AppError::field("kind", "unknown value"))?;
    let content = match kind {
        EvidenceKind::Link => Content::Link,
        EvidenceKind::Excerpt => Content::Excerpt(f.raw("excerpt").to_owned()),
        _ => return Err(AppError::field("kind", "link or excerpt").into()),
    };
    let input = EvidenceInput {
        kind: Some(kind),
        description: Some(f.get("description").to_owned()),
        url: Some(f.get("url").to_owned()),
        ..Default::default()
    };
    let outcome = st
        .app
        .add_evidence(&auth.actor(), cid, input, content)
        .await
        .map(|_| ());
    back_to_evidence(&id, outcome)
}

/// Fingerprints from a form (the console's, the follow-up page's).
pub(crate) fn fingerprint_input(f: &Fields) -> Result<(EvidenceInput, Content), AppError> {
    let quality = match f.get("pdq_quality") {
        "" => 0,
        q => q
            .parse::<i64>()
            .map_err(|_| AppError::field("pdq_quality", "a number from 0 to 100"))?,
    };
    let opt = |name: &str| Some(f.get(name).to_owned()).filter(|v| !v.is_empty());
    Ok((
        EvidenceInput {
            kind: Some(EvidenceKind::HashOnly),
            description: opt("description"),
            url: opt("url"),
            intimate: true,
            sexual_image_of_minor: f.get("sexual_image_of_minor") == "true",
            ..Default::default()
        },
        Content::Fingerprints {
            sha256: f.get("sha256").to_owned(),
            md5: opt("md5"),
            pdq: opt("pdq").map(|p| (p, quality)),
        },
    ))
}

/// Records fingerprints computed in the browser (the file never left the device).
pub async fn fingerprints(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(
        form,
        &[
            "sha256",
            "md5",
            "pdq",
            "pdq_quality",
            "url",
            "description",
            "sexual_image_of_minor",
        ],
        &auth,
    )?;
    let cid = case_id(&id)?;
    let outcome = match fingerprint_input(&f) {
        Ok((input, content)) => st
            .app
            .add_evidence(&auth.actor(), cid, input, content)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    back_to_evidence(&id, outcome)
}

/// Gives the case a follow-up code and secret: the page answering shows them, once.
pub async fn issue_followup(
    State(st): State<AppState>,
    Lang(lang, here): Lang,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    let cid = case_id(&id)?;
    let issued = st.app.issue_followup(&auth.actor(), cid).await?;
    super::cases::render_case_with(
        &st,
        lang,
        &here,
        &auth,
        &id,
        super::cases::Extra {
            issued: Some(issued),
            ..Default::default()
        },
    )
    .await
}

/// Withdraws the case's follow-up code.
pub async fn revoke_followup(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    Fields::checked(form, &[], &auth)?;
    let cid = case_id(&id)?;
    st.app.revoke_followup(&auth.actor(), cid).await?;
    Ok(redirect(&format!(
        "/cases/{id}?done=followup_revoked#followup"
    )))
}

/// Answers on the young person's page.
pub async fn reply_followup(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["body"], &auth)?;
    let cid = case_id(&id)?;
    st.app
        .followup_reply(&auth.actor(), cid, f.raw("body"))
        .await?;
    Ok(redirect(&format!(
        "/cases/{id}?done=followup_reply#followup"
    )))
}

fn back_to_referrals(id: &str) -> Response {
    redirect(&format!("/cases/{id}?done=referral#referrals"))
}

/// Proposes a referral.
pub async fn propose_referral(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["service"], &auth)?;
    st.app
        .propose_referral(&auth.actor(), case_id(&id)?, f.get("service"))
        .await?;
    Ok(back_to_referrals(&id))
}

/// Records a referral's basis.
pub async fn referral_basis(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path((id, referral)): Path<(String, String)>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(form, &["basis", "consent_by", "consent_scope"], &auth)?;
    let basis = rempart_domain::referral::ConsentBasis::parse(f.get("basis"))
        .map_err(|_| AppError::field("basis", "unknown value"))?;
    st.app
        .record_referral_basis(
            &auth.actor(),
            case_id(&id)?,
            &referral,
            basis,
            f.get("consent_by"),
            f.get("consent_scope"),
        )
        .await?;
    Ok(back_to_referrals(&id))
}

/// Records a referral's transmission.
pub async fn referral_transmission(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path((id, referral)): Path<(String, String)>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Fields::checked(
        form,
        &[
            "evidence",
            "recipient",
            "channel",
            "note",
            "by_email",
            "lang",
        ],
        &auth,
    )?;
    let evidence =
        f.0.iter()
            .filter(|(k, _)| k == "evidence")
            .map(|(_, v)| {
                rempart_domain::ids::EvidenceId::parse(v.trim())
                    .map_err(|_| AppError::field("evidence", "invalid id"))
            })
            .collect::<Result<Vec<_>, _>>()?;
    st.app
        .transmit_referral(
            &auth.actor(),
            case_id(&id)?,
            &referral,
            rempart_app::referrals::Transmission {
                evidence,
                recipient: f.get("recipient").to_owned(),
                channel: f.get("channel").to_owned(),
                note: Some(f.get("note").to_owned()),
                by_email: f.get("by_email") == "1",
                lang: crate::i18n::known_lang(Some(f.get("lang")))?,
            },
        )
        .await?;
    Ok(back_to_referrals(&id))
}

/// Moves a referral on.
pub async fn referral_event(
    State(st): State<AppState>,
    PageAuth(auth): PageAuth,
    Path((id, referral)): Path<(String, String)>,
    form: FormBody<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    use rempart_domain::referral::ReferralEvent;
    let f = Fields::checked(form, &["event", "outcome"], &auth)?;
    let event = match f.get("event") {
        "acknowledge" => ReferralEvent::Acknowledge,
        "close" => ReferralEvent::Close,
        "refuse_consent" => ReferralEvent::RefuseConsent,
        "cancel" => ReferralEvent::Cancel,
        _ => return Err(AppError::field("event", "unknown value").into()),
    };
    let outcome = Some(f.get("outcome")).filter(|o| !o.is_empty());
    st.app
        .change_referral(&auth.actor(), case_id(&id)?, &referral, event, outcome)
        .await?;
    Ok(back_to_referrals(&id))
}
