//! Errors, reference data and the console's passkey ceremonies.

use super::NoticeChannelCode;
use rempart_app::{AppError, ErrorCode};
use serde::Serialize;
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// An error's stable code.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCodeName(pub ErrorCode);

impl Serialize for ErrorCodeName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl PartialSchema for ErrorCodeName {
    fn schema() -> RefOr<Schema> {
        super::codes(
            ErrorCode::ALL.iter().map(|c| c.as_str()),
            "A stable error code; each is answered with one HTTP status.",
        )
    }
}

impl ToSchema for ErrorCodeName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

/// An error: `{"error": "<code>", "message": "…"}`. A 5xx never carries internals.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// Stable code.
    pub error: ErrorCodeName,
    /// A human message (never internals, never content).
    pub message: String,
}

impl From<&AppError> for ErrorBody {
    fn from(e: &AppError) -> Self {
        ErrorBody {
            error: ErrorCodeName(e.code),
            message: e.message.clone(),
        }
    }
}

/// A category of the taxonomy.
#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    /// Stable code.
    pub code: String,
    /// Label in the request's language.
    pub label: String,
    /// DSA statement category.
    pub dsa_category: String,
    /// Default legal articles.
    pub articles: Vec<String>,
    /// Whether its images are blurred for staff (and, of minors, never stored).
    pub sensitive_images: bool,
}

/// A platform of the directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct Platform {
    /// Stable code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// The language of its notices (`fr` or `en`).
    pub lang: String,
    /// Its priority channels, in the order they are tried.
    pub channels: Vec<PlatformChannel>,
    /// Expected decision delay (hours), unless `delays` names the category.
    pub expected_hours: u32,
    /// Expected decision delays per category code (hours).
    pub delays: std::collections::BTreeMap<String, u32>,
}

/// One priority channel of a platform (never its secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformChannel {
    /// How notices go.
    pub kind: NoticeChannelCode,
    /// The URL or e-mail address ("" for the partner API, where the platform comes to us).
    pub address: String,
}

/// WebAuthn options as `navigator.credentials.create` or `.get` takes them
/// (`{"publicKey": …}`, binary fields in base64url).
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct PasskeyOptions(pub serde_json::Value);

impl PartialSchema for PasskeyOptions {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("publicKey", ObjectBuilder::new().schema_type(Type::Object))
            .required("publicKey")
            .description(Some(
                "WebAuthn options (`publicKey`, binary fields in base64url), as the browser's \
                 `navigator.credentials` takes them.",
            ))
            .into()
    }
}

impl ToSchema for PasskeyOptions {}

/// Where the console page goes next.
#[derive(Debug, Serialize, ToSchema)]
pub struct Next {
    /// A local path.
    pub next: String,
}
