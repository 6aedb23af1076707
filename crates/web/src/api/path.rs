//! The id in a route's path.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use rempart_app::AppError;

/// The one parameter of a route's path (`{id}`), percent-decoded. A segment that does not
/// decode (invalid UTF-8) answers 404 as JSON, like an unknown id, instead of the
/// framework's plain-text 400; so does one with a control character, which no id has (and
/// PostgreSQL refuses a NUL in a query).
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) if !id.chars().any(char::is_control) => Ok(PathId(id)),
            _ => Err(AppError::not_found().into()),
        }
    }
}

/// The two parameters of a route's path (`{id}` and a second one), under the same rules as
/// [`PathId`].
pub struct PathIds(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((a, b))) if !a.chars().chain(b.chars()).any(char::is_control) => {
                Ok(PathIds(a, b))
            }
            _ => Err(AppError::not_found().into()),
        }
    }
}
