//! A case's complaint document ("aide au dépôt de plainte") as a PDF, for the family or
//! the police, in French or English. The use-case decides access and what the document
//! holds (audited); the words are the console's (`pages::complaint`).

use crate::AppState;
use crate::api::cases::case_id;
use crate::api::dto::{ComplaintAudienceCode, code};
use crate::api::evidence::file_response;
use crate::api::path::PathId;
use crate::error::ApiError;
use crate::extract::ApiAuth;
use axum::extract::{Query, State};
use axum::response::Response;
use rempart_app::AppError;
use rempart_app::evidence::EvidenceFile;
use rempart_domain::document::ComplaintAudience;
use rempart_domain::policy::Action;
use serde::Deserialize;
use utoipa::IntoParams;

/// The complaint document's query string.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplaintQuery {
    /// For whom: the young person and their family, or the police.
    #[param(inline, value_type = ComplaintAudienceCode)]
    pub audience: String,
    /// The language (`fr`, `en`); the account's by default.
    #[param(inline, value_type = Option<crate::api::dto::LangCode>)]
    pub lang: Option<String>,
}

/// The complaint document (a PDF attachment).
pub async fn complaint(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    q: Result<Query<ComplaintQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let case = case_id(&id)?;
    // the access decision first: a caller who may not gets 404 whatever the query
    st.app
        .may(&auth.actor(), case, Action::ExportComplaint)
        .await?;
    let Query(q) =
        q.map_err(|e| ApiError::new(rempart_app::ErrorCode::InvalidField, e.body_text()))?;
    let audience = code!(ComplaintAudience, "audience", &q.audience)?;
    let asked = crate::i18n::known_lang(q.lang.as_deref())?;
    let lang = crate::i18n::I18n::lang(asked.as_deref().unwrap_or(&auth.staff.lang));
    let data = st
        .app
        .complaint_data(&auth.actor(), case, audience, lang)
        .await?;
    let file_name = format!(
        "{}-{}-{}.pdf",
        if lang == "fr" { "plainte" } else { "complaint" },
        data.case.reference,
        audience.as_str()
    );
    let doc = crate::pages::complaint::document(&st, lang, &data);
    let bytes = st.app.typeset(doc).await?;
    Ok(file_response(EvidenceFile {
        bytes,
        mime: "application/pdf",
        file_name,
        inline: false,
    }))
}
