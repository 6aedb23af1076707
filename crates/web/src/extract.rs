//! Extractors: bodies parsed strictly (size, content type, unknown fields refused),
//! sessions from a cookie or a bearer token, the language.

use crate::AppState;
use crate::error::{ApiError, PageError};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use rempart_app::auth::{Authenticated, SessionState};
use rempart_app::{AppError, ErrorCode};
use serde::de::DeserializeOwned;

/// Name of the console session cookie.
pub const SESSION_COOKIE: &str = "rempart_session";
/// Name of the language cookie.
pub const LANG_COOKIE: &str = "rempart_lang";

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn content_type_is(headers: &HeaderMap, want: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(want)
        })
        .unwrap_or(false)
}

async fn body_bytes(req: Request, limit: usize) -> Result<axum::body::Bytes, AppError> {
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| {
            AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("body larger than {limit} bytes"),
            )
        })
}

/// Maps a serde error to a stable code: unknown fields (mass assignment) and bad values
/// are 422, broken syntax is 400.
fn classify(msg: &str) -> ErrorCode {
    if msg.contains("unknown field") {
        ErrorCode::UnknownField
    } else if msg.contains("missing field")
        || msg.contains("invalid type")
        || msg.contains("invalid value")
        || msg.contains("unknown variant")
        || msg.contains("duplicate field")
        || msg.contains("invalid length")
    {
        ErrorCode::InvalidField
    } else {
        ErrorCode::MalformedBody
    }
}

/// A JSON body: `application/json`, within the size limit, no unknown fields.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        if !content_type_is(req.headers(), "application/json") {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected application/json",
            ));
        }
        let bytes = body_bytes(req, st.app.settings().server.max_body_bytes).await?;
        let bytes = bytes
            .strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap_or(&bytes);
        serde_json::from_slice(bytes).map(ApiJson).map_err(|e| {
            let msg = e.to_string();
            ApiError::new(
                classify(&msg),
                if e.is_syntax() || e.is_eof() {
                    "malformed JSON".to_owned()
                } else {
                    msg
                },
            )
        })
    }
}

/// A JSON body kept as its raw bytes, for a signature over exactly those bytes:
/// `application/json`, within the size limit, valid UTF-8; parsed by the use-case after the
/// signature verified.
pub struct RawJson(pub Vec<u8>);

impl<S> FromRequest<S> for RawJson
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        if !content_type_is(req.headers(), "application/json") {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected application/json",
            ));
        }
        let bytes = body_bytes(req, st.app.settings().server.max_body_bytes).await?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(ApiError::new(ErrorCode::MalformedBody, "invalid UTF-8"));
        }
        Ok(RawJson(bytes.to_vec()))
    }
}

/// A form body: `application/x-www-form-urlencoded`, within the size limit, valid
/// UTF-8, no unknown fields.
pub struct FormBody<T>(pub T);

impl<S, T> FromRequest<S> for FormBody<T>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        if !content_type_is(req.headers(), "application/x-www-form-urlencoded") {
            return Err(AppError::new(ErrorCode::UnsupportedMediaType, "expected a form").into());
        }
        let bytes = body_bytes(req, st.app.settings().server.max_body_bytes).await?;
        // Percent-decoded bytes must be UTF-8: refuse rather than replace.
        for (k, v) in form_urlencoded_pairs(&bytes) {
            if std::str::from_utf8(&k).is_err() || std::str::from_utf8(&v).is_err() {
                return Err(
                    AppError::new(ErrorCode::MalformedBody, "invalid UTF-8 in form").into(),
                );
            }
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(FormBody)
            .map_err(|e| {
                let msg = e.to_string();
                PageError::Error(AppError::new(classify(&msg), msg))
            })
    }
}

fn unhex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn decode(part: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while i < part.len() {
        match part[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < part.len() => match (unhex(part[i + 1]), unhex(part[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut it = p.splitn(2, |b| *b == b'=');
            let k = it.next().unwrap_or(&[]);
            let v = it.next().unwrap_or(&[]);
            (decode(k), decode(v))
        })
        .collect()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// An API caller with a full session. With a bearer token no CSRF check is needed (a
/// browser never sends it by itself); with the cookie, state-changing requests must
/// carry the session's token in `X-CSRF-Token`.
pub struct ApiAuth(pub Authenticated);

impl<S> FromRequestParts<S> for ApiAuth
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        let (token, from_cookie) = match bearer(&parts.headers) {
            Some(t) => (t.to_owned(), false),
            None => match cookie(&parts.headers, SESSION_COOKIE) {
                Some(t) => (t.to_owned(), true),
                None => return Err(ApiError::new(ErrorCode::Unauthenticated, "not logged in")),
            },
        };
        let auth = st.app.authenticate(&token).await?;
        match auth.state {
            SessionState::Full => {}
            SessionState::NeedsSecondFactor | SessionState::NeedsEnrolment => {
                return Err(ApiError::new(
                    ErrorCode::SecondFactorRequired,
                    "second factor required",
                ));
            }
        }
        if from_cookie && !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), auth.session.csrf_token.as_bytes()) {
                return Err(ApiError::new(
                    ErrorCode::CsrfFailed,
                    "missing or wrong X-CSRF-Token",
                ));
            }
        }
        Ok(ApiAuth(auth))
    }
}

/// An API caller whose password is checked but whose second factor may be due.
pub struct ApiPartialAuth(pub Authenticated);

impl<S> FromRequestParts<S> for ApiPartialAuth
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        let token = bearer(&parts.headers)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "bearer token required"))?;
        Ok(ApiPartialAuth(st.app.authenticate(token).await?))
    }
}

/// A console user with a full session (else: redirect to the login or second-factor page).
pub struct PageAuth(pub Authenticated);

/// A console user whatever the second-factor state (login second step, enrolment).
pub struct PagePartialAuth(pub Authenticated);

async fn page_session(parts: &Parts, st: &AppState) -> Result<Authenticated, PageError> {
    let token = cookie(&parts.headers, SESSION_COOKIE)
        .ok_or_else(|| PageError::Redirect("/login".into()))?;
    st.app.authenticate(token).await.map_err(|e| match e.code {
        ErrorCode::Unauthenticated => PageError::Redirect("/login".into()),
        _ => PageError::Error(e),
    })
}

impl<S> FromRequestParts<S> for PageAuth
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        let auth = page_session(parts, &st).await?;
        match auth.state {
            SessionState::Full => Ok(PageAuth(auth)),
            SessionState::NeedsSecondFactor => Err(PageError::Redirect("/login/totp".into())),
            SessionState::NeedsEnrolment => Err(PageError::Redirect("/account".into())),
        }
    }
}

impl<S> FromRequestParts<S> for PagePartialAuth
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        Ok(PagePartialAuth(page_session(parts, &st).await?))
    }
}

/// A console page's script calling a JSON endpoint (the passkey ceremonies): the session
/// cookie whatever its second-factor state, and the session's CSRF token in
/// `X-CSRF-Token`.
pub struct PageScriptAuth(pub Authenticated);

impl<S> FromRequestParts<S> for PageScriptAuth
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let st = AppState::from_ref(state);
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "not logged in"))?;
        let auth = st.app.authenticate(token).await?;
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), auth.session.csrf_token.as_bytes()) {
            return Err(ApiError::new(
                ErrorCode::CsrfFailed,
                "missing or wrong X-CSRF-Token",
            ));
        }
        Ok(PageScriptAuth(auth))
    }
}

/// Checks a form's CSRF token against the session's.
pub fn check_csrf(auth: &Authenticated, sent: &str) -> Result<(), PageError> {
    if constant_time_eq(sent.as_bytes(), auth.session.csrf_token.as_bytes()) {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::CsrfFailed, "form expired").into())
    }
}

pub use rempart_app::constant_time_eq;

/// The page a request is on (path and query), when it is a local console page: where the
/// language switch goes back to.
#[derive(Debug, Clone)]
pub struct Here(pub String);

/// The language of the request (the language cookie set by the switch, else French) and
/// the page it is on.
pub struct Lang(pub &'static str, pub Here);

impl<S> FromRequestParts<S> for Lang
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let default = AppState::from_ref(state)
            .app
            .settings()
            .helpline
            .default_language
            .as_str();
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .and_then(crate::routes::local_path)
            .filter(|_| parts.method == Method::GET)
            .unwrap_or("/")
            .to_owned();
        Ok(Lang(
            cookie(&parts.headers, LANG_COOKIE)
                .map(crate::i18n::I18n::lang)
                .unwrap_or(default),
            Here(here),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_finds_invalid_utf8() {
        let pairs = form_urlencoded_pairs(b"a=%C0%AF&b=ok+x&c=%zz");
        assert!(std::str::from_utf8(&pairs[0].1).is_err());
        assert_eq!(pairs[1].1, b"ok x");
        assert_eq!(pairs[2].1, b"%zz");
        assert_eq!(
            classify("unknown field `role`, expected one of"),
            ErrorCode::UnknownField
        );
        assert_eq!(
            classify("expected value at line 1"),
            ErrorCode::MalformedBody
        );
    }
}
