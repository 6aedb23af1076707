//! Errors of the use-cases, each with a stable code the API returns.

use rempart_storage::StorageError;

/// Stable error codes (`{"error": "<code>"}`); the web layer maps each to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 400: the body is not valid JSON / form data.
    MalformedBody,
    /// 422: a field is missing or invalid.
    InvalidField,
    /// 422: an unknown field was sent (mass-assignment guard).
    UnknownField,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 415: wrong content type.
    UnsupportedMediaType,
    /// 401: not logged in, or the session ended.
    Unauthenticated,
    /// 401: wrong e-mail or password.
    InvalidCredentials,
    /// 429: too many failed logins; retry later.
    AccountLocked,
    /// 401: the second factor is required.
    SecondFactorRequired,
    /// 401: wrong second-factor code.
    InvalidSecondFactor,
    /// 403: a CSRF token was missing or wrong.
    CsrfFailed,
    /// 404: no such object, or not visible to this account (no existence leak).
    NotFound,
    /// 409: a concurrent change or a duplicate.
    Conflict,
    /// 409: the state change is not allowed from the current state.
    InvalidTransition,
    /// 409: this idempotency key (a message's `client_id`) was used for a different
    /// request.
    IdempotencyConflict,
    /// 405: method not allowed.
    MethodNotAllowed,
    /// 422: a notice lacks an element DSA Article 16(2) requires.
    NoticeIncomplete,
    /// 409: a second counsellor must validate this notice before it is sent.
    ValidationRequired,
    /// 401: a platform's call whose signature is missing or does not verify.
    InvalidSignature,
    /// 401: a partner API key that Rempart never issued (or no longer knows).
    InvalidApiKey,
    /// 401: a partner API key that was revoked, or replaced and past its overlap.
    ApiKeyRevoked,
    /// 428: the line is under a flood of new sessions: answer a proof-of-work challenge
    /// (`GET /widget/v1/challenge`) and send the answer with the request.
    ProofOfWorkRequired,
    /// 408: the request (headers, body, answer) took longer than the server allows.
    RequestTimeout,
    /// 429: too many requests from this address or session; retry later.
    RateLimited,
    /// 422: the file is refused: its type (decided by its bytes) is not kept, or it carries
    /// forbidden content (a program, an archive, markup, a polyglot, an active PDF).
    FileRefused,
    /// 422: no file may be stored for this piece of evidence (a sexual image of a minor, or
    /// fingerprints only): send its fingerprints.
    FileForbidden,
    /// 500: an internal failure (details only in the server log).
    Internal,
    /// 503: the database is unreachable.
    Unavailable,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::MalformedBody,
        ErrorCode::InvalidField,
        ErrorCode::UnknownField,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::AccountLocked,
        ErrorCode::SecondFactorRequired,
        ErrorCode::InvalidSecondFactor,
        ErrorCode::CsrfFailed,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::InvalidTransition,
        ErrorCode::IdempotencyConflict,
        ErrorCode::MethodNotAllowed,
        ErrorCode::NoticeIncomplete,
        ErrorCode::ValidationRequired,
        ErrorCode::InvalidSignature,
        ErrorCode::InvalidApiKey,
        ErrorCode::ApiKeyRevoked,
        ErrorCode::RequestTimeout,
        ErrorCode::ProofOfWorkRequired,
        ErrorCode::RateLimited,
        ErrorCode::FileRefused,
        ErrorCode::FileForbidden,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
    ];

    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedBody => "malformed_body",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::AccountLocked => "account_locked",
            ErrorCode::SecondFactorRequired => "second_factor_required",
            ErrorCode::InvalidSecondFactor => "invalid_second_factor",
            ErrorCode::CsrfFailed => "csrf_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::NoticeIncomplete => "notice_incomplete",
            ErrorCode::ValidationRequired => "validation_required",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::InvalidApiKey => "invalid_api_key",
            ErrorCode::ApiKeyRevoked => "api_key_revoked",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::ProofOfWorkRequired => "proof_of_work_required",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::FileRefused => "file_refused",
            ErrorCode::FileForbidden => "file_forbidden",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::MalformedBody => 400,
            ErrorCode::InvalidField
            | ErrorCode::UnknownField
            | ErrorCode::NoticeIncomplete
            | ErrorCode::FileRefused
            | ErrorCode::FileForbidden => 422,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Unauthenticated
            | ErrorCode::InvalidCredentials
            | ErrorCode::SecondFactorRequired
            | ErrorCode::InvalidSecondFactor
            | ErrorCode::InvalidSignature
            | ErrorCode::InvalidApiKey
            | ErrorCode::ApiKeyRevoked => 401,
            ErrorCode::AccountLocked | ErrorCode::RateLimited => 429,
            ErrorCode::CsrfFailed => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict
            | ErrorCode::InvalidTransition
            | ErrorCode::IdempotencyConflict
            | ErrorCode::ValidationRequired => 409,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::ProofOfWorkRequired => 428,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

/// A use-case failed.
#[derive(Debug, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct AppError {
    /// Stable code.
    pub code: ErrorCode,
    /// A human message (never internals, never content).
    pub message: String,
}

impl AppError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
        }
    }
    /// A field is invalid.
    pub fn field(name: &str, why: &str) -> Self {
        AppError::new(ErrorCode::InvalidField, format!("{name}: {why}"))
    }
    /// Not found or not visible.
    pub fn not_found() -> Self {
        AppError::new(ErrorCode::NotFound, "not found")
    }
    /// Internal failure; `what` goes to the log only.
    pub fn internal(what: &str) -> Self {
        tracing::error!(what, "internal error");
        AppError::new(ErrorCode::Internal, "internal error")
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => AppError::not_found(),
            StorageError::Conflict => AppError::new(ErrorCode::Conflict, "conflicting change"),
            StorageError::Database(sqlx_err) => {
                tracing::error!(error = %sqlx_err, "database error");
                AppError::new(ErrorCode::Unavailable, "storage unavailable")
            }
            // the failed writes were logged when they failed
            StorageError::WritesFailing => {
                AppError::new(ErrorCode::Unavailable, "storage unavailable")
            }
            other => {
                tracing::error!(error = %other, "storage error");
                AppError::new(ErrorCode::Internal, "internal error")
            }
        }
    }
}
