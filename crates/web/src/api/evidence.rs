//! Evidence over the API: files (multipart), fingerprints, links and excerpts; copies of
//! files (display, revealed, clean, original) and the signed export.
//!
//! An upload is read as it streams, within the file limit (413 beyond it); the access
//! policy is asked before any of the body is read; a file part after
//! `sexual_image_of_minor=true` is refused without being read. Nothing is written to disk
//! here: the file is held in memory and handed to the use-case, which stores only sealed
//! blobs. A file answer is always `no-store`, `nosniff`, sandboxed, and an attachment
//! unless it is a display copy.

use crate::AppState;
use crate::api::cases::case_id;
use crate::api::dto::{AddedEvidenceOut, Evidence, EvidenceNoteReq, FingerprintReq};
use crate::api::path::{PathId, PathIds};
use crate::error::ApiError;
use crate::extract::{ApiAuth, ApiJson};
use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rempart_app::AppError;
use rempart_app::error::ErrorCode;
use rempart_app::evidence::{Content, EvidenceFile, EvidenceInput};
use rempart_domain::case::EvidenceKind;
use rempart_domain::evidence::EvidenceCopy;
use rempart_domain::ids::{EvidenceId, ItemId};
use rempart_domain::policy::Action;

/// The most parts an upload may have.
const MAX_PARTS: usize = 60;
/// The longest text field of an upload, bytes.
const MAX_TEXT: usize = 16 * 1024;

fn malformed(why: &str) -> AppError {
    AppError::new(ErrorCode::MalformedBody, format!("multipart body: {why}"))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(ErrorCode::PayloadTooLarge, "file too large")
    } else {
        malformed("cannot be read")
    }
}

fn flag(v: &str, name: &str) -> Result<bool, AppError> {
    match v.trim() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err(AppError::field(name, "true or false")),
    }
}

/// The CSRF field a form's upload must carry before its file: (field name, expected value).
pub(crate) type UploadCsrf<'a> = Option<(&'a str, &'a str)>;

/// Reads an upload: its fields, then its one file. A console or follow-up form's upload
/// names its CSRF field, which must come, and match, before the file.
pub(crate) async fn read_upload(
    mp: &mut Multipart,
    max_file: usize,
    csrf: UploadCsrf<'_>,
) -> Result<(EvidenceInput, Content), AppError> {
    let mut input = EvidenceInput::default();
    let mut csrf_ok = csrf.is_none();
    let mut file: Option<(Vec<u8>, Option<String>)> = None;
    let mut parts = 0;
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(malformed("too many parts"));
        }
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" && !csrf_ok {
            return Err(AppError::new(ErrorCode::CsrfFailed, "form expired"));
        }
        if name == "file" {
            if file.is_some() {
                return Err(AppError::field("file", "one file per piece of evidence"));
            }
            // never read what may not be kept
            if input.sexual_image_of_minor || input.kind == Some(EvidenceKind::HashOnly) {
                return Err(AppError::new(
                    ErrorCode::FileForbidden,
                    "no file may be stored for a sexual image of a minor: send only its fingerprints",
                ));
            }
            let file_name = field.file_name().map(str::to_owned);
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if bytes.len() + chunk.len() > max_file {
                    return Err(AppError::new(
                        ErrorCode::PayloadTooLarge,
                        format!("file refused: too_large (at most {max_file} bytes)"),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            file = Some((bytes, file_name));
            continue;
        }
        let mut text = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if text.len() + chunk.len() > MAX_TEXT {
                return Err(AppError::field(&name, "too long"));
            }
            text.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(text).map_err(|_| AppError::field(&name, "not UTF-8"))?;
        match name.as_str() {
            n if csrf.is_some_and(|(field, _)| field == n) => {
                let expected = csrf.map(|(_, v)| v).unwrap_or("");
                csrf_ok = rempart_app::constant_time_eq(text.as_bytes(), expected.as_bytes());
                if !csrf_ok {
                    return Err(AppError::new(ErrorCode::CsrfFailed, "form expired"));
                }
            }
            "kind" => {
                input.kind = Some(
                    EvidenceKind::parse(text.trim())
                        .map_err(|_| AppError::field("kind", "unknown value"))?,
                )
            }
            "description" => input.description = Some(text),
            "url" => input.url = Some(text),
            "items" => {
                if !text.trim().is_empty() {
                    input.items.push(
                        ItemId::parse(text.trim())
                            .map_err(|_| AppError::field("items", "invalid id"))?,
                    )
                }
            }
            "intimate" => input.intimate = flag(&text, "intimate")?,
            "sexual_image_of_minor" => {
                input.sexual_image_of_minor = flag(&text, "sexual_image_of_minor")?
            }
            other => {
                return Err(AppError::new(
                    ErrorCode::UnknownField,
                    format!(
                        "unknown field {}",
                        other.chars().take(40).collect::<String>()
                    ),
                ));
            }
        }
    }
    if input.sexual_image_of_minor {
        return Err(AppError::new(
            ErrorCode::FileForbidden,
            "no file may be stored for a sexual image of a minor: send only its fingerprints",
        ));
    }
    if !csrf_ok {
        return Err(AppError::new(ErrorCode::CsrfFailed, "form expired"));
    }
    let Some((bytes, name)) = file else {
        return Err(AppError::field("file", "required"));
    };
    Ok((input, Content::File { bytes, name }))
}

/// A multipart request, or the reason it is not one.
pub(crate) fn multipart(m: Result<Multipart, MultipartRejection>) -> Result<Multipart, AppError> {
    m.map_err(|_| {
        AppError::new(
            ErrorCode::UnsupportedMediaType,
            "expected multipart/form-data",
        )
    })
}

/// Uploads a file.
pub async fn upload(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<AddedEvidenceOut>), ApiError> {
    let case = case_id(&id)?;
    let actor = auth.actor();
    st.app.may(&actor, case, Action::AddEvidence).await?;
    let mut mp = multipart(mp)?;
    let (input, content) = read_upload(&mut mp, st.app.evidence_limits().max_any(), None).await?;
    let added = st.app.add_evidence(&actor, case, input, content).await?;
    Ok((StatusCode::CREATED, Json(AddedEvidenceOut::from(&added))))
}

/// Records fingerprints computed on the sender's device.
pub async fn fingerprints(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<FingerprintReq>,
) -> Result<(StatusCode, Json<AddedEvidenceOut>), ApiError> {
    let case = case_id(&id)?;
    let (input, content) = req.into_input()?;
    let added = st
        .app
        .add_evidence(&auth.actor(), case, input, content)
        .await?;
    Ok((StatusCode::CREATED, Json(AddedEvidenceOut::from(&added))))
}

/// Records a link or an excerpt.
pub async fn note(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
    ApiJson(req): ApiJson<EvidenceNoteReq>,
) -> Result<(StatusCode, Json<AddedEvidenceOut>), ApiError> {
    let case = case_id(&id)?;
    let (input, content) = req.into_input()?;
    let added = st
        .app
        .add_evidence(&auth.actor(), case, input, content)
        .await?;
    Ok((StatusCode::CREATED, Json(AddedEvidenceOut::from(&added))))
}

/// A case's evidence.
pub async fn list(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<Json<Vec<Evidence>>, ApiError> {
    let case = case_id(&id)?;
    let all = st.app.case_evidence(&auth.actor(), case).await?;
    Ok(Json(all.iter().map(Evidence::from).collect()))
}

/// An evidence file answer.
pub(crate) fn file_response(f: EvidenceFile) -> Response {
    let disposition = format!(
        "{}; filename=\"{}\"",
        if f.inline { "inline" } else { "attachment" },
        f.file_name
    );
    let mut r = (StatusCode::OK, f.bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(f.mime));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox; frame-ancestors 'none'"),
    );
    r
}

fn evidence_id(s: &str) -> Result<EvidenceId, AppError> {
    EvidenceId::parse(s).map_err(|_| AppError::not_found())
}

async fn copy(
    st: &AppState,
    auth: &rempart_app::auth::Authenticated,
    ids: PathIds,
    copy: EvidenceCopy,
) -> Result<Response, ApiError> {
    let case = case_id(&ids.0)?;
    let e = evidence_id(&ids.1)?;
    let f = st.app.evidence_copy(&auth.actor(), case, e, copy).await?;
    Ok(file_response(f))
}

/// The display copy (blurred when intimate).
pub async fn display(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ids: PathIds,
) -> Result<Response, ApiError> {
    copy(&st, &auth, ids, EvidenceCopy::Display).await
}

/// The display copy, not blurred: an audited reveal.
pub async fn revealed(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ids: PathIds,
) -> Result<Response, ApiError> {
    copy(&st, &auth, ids, EvidenceCopy::Revealed).await
}

/// The clean copy (without metadata), as an attachment.
pub async fn clean(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ids: PathIds,
) -> Result<Response, ApiError> {
    copy(&st, &auth, ids, EvidenceCopy::Clean).await
}

/// The original, as received, as an attachment.
pub async fn original(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ids: PathIds,
) -> Result<Response, ApiError> {
    copy(&st, &auth, ids, EvidenceCopy::Original).await
}

/// The signed evidence export (a zip).
pub async fn export(
    State(st): State<AppState>,
    ApiAuth(auth): ApiAuth,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let case = case_id(&id)?;
    let x = st.app.export_evidence(&auth.actor(), case).await?;
    Ok(file_response(EvidenceFile {
        bytes: x.zip,
        mime: "application/zip",
        file_name: x.file_name,
        inline: false,
    }))
}
