//! Referrals over the API.

use crate::AppState;
use crate::api::cases::case_id;
use crate::api::dto::{
    Referral, ReferralBasisReq, ReferralEventReq, ReferralReq, ReferralTransmissionReq,
};
use crate::api::path::{PathId, PathIds};
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rempart_app::AppError;
use rempart_app::referrals::Transmission;
use rempart_domain::ids::EvidenceId;
use rempart_domain::referral::{ConsentBasis, ReferralEvent};

/// A referral's package: the signed export of the evidence its transmission shared.
pub async fn package(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathIds(id, referral): PathIds,
) -> Result<axum::response::Response, ApiError> {
    let x = st
        .app
        .referral_package(&auth.actor(), case_id(&id)?, &referral)
        .await?;
    Ok(crate::api::evidence::file_response(
        rempart_app::evidence::EvidenceFile {
            bytes: x.zip,
            mime: "application/zip",
            file_name: x.file_name,
            inline: false,
        },
    ))
}

/// A case's referrals.
pub async fn list(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<Json<Vec<Referral>>, ApiError> {
    let all = st.app.case_referrals(&auth.actor(), case_id(&id)?).await?;
    Ok(Json(all.iter().map(Referral::from).collect()))
}

/// Proposes a referral.
pub async fn propose(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<ReferralReq>,
) -> Result<(StatusCode, Json<Referral>), ApiError> {
    let r = st
        .app
        .propose_referral(&auth.actor(), case_id(&id)?, &req.service)
        .await?;
    Ok((StatusCode::CREATED, Json(Referral::from(&r))))
}

/// Records the basis.
pub async fn basis(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathIds(id, referral): PathIds,
    ApiJson(req): ApiJson<ReferralBasisReq>,
) -> Result<Json<Referral>, ApiError> {
    let basis =
        ConsentBasis::parse(&req.basis).map_err(|_| AppError::field("basis", "unknown value"))?;
    let r = st
        .app
        .record_referral_basis(
            &auth.actor(),
            case_id(&id)?,
            &referral,
            basis,
            &req.consent_by,
            &req.consent_scope,
        )
        .await?;
    Ok(Json(Referral::from(&r)))
}

/// Records the transmission.
pub async fn transmission(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathIds(id, referral): PathIds,
    ApiJson(req): ApiJson<ReferralTransmissionReq>,
) -> Result<Json<Referral>, ApiError> {
    let evidence = req
        .evidence
        .iter()
        .map(|e| EvidenceId::parse(e).map_err(|_| AppError::field("evidence", "invalid id")))
        .collect::<Result<Vec<_>, _>>()?;
    let r = st
        .app
        .transmit_referral(
            &auth.actor(),
            case_id(&id)?,
            &referral,
            Transmission {
                evidence,
                recipient: req.recipient,
                channel: req.channel,
                note: req.note,
                by_email: req.by_email,
                lang: crate::i18n::known_lang(req.lang.as_deref())?,
            },
        )
        .await?;
    Ok(Json(Referral::from(&r)))
}

/// Moves a referral on.
pub async fn event(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathIds(id, referral): PathIds,
    ApiJson(req): ApiJson<ReferralEventReq>,
) -> Result<Json<Referral>, ApiError> {
    let event = match req.event.as_str() {
        "acknowledge" => ReferralEvent::Acknowledge,
        "close" => ReferralEvent::Close,
        "refuse_consent" => ReferralEvent::RefuseConsent,
        "cancel" => ReferralEvent::Cancel,
        _ => {
            return Err(
                AppError::field("event", "acknowledge, close, refuse_consent or cancel").into(),
            );
        }
    };
    let r = st
        .app
        .change_referral(
            &auth.actor(),
            case_id(&id)?,
            &referral,
            event,
            req.outcome.as_deref(),
        )
        .await?;
    Ok(Json(Referral::from(&r)))
}
