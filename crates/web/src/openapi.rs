//! The OpenAPI 3.1 document, built from the route table: every route with its path and
//! query parameters, its request body, its success answers and every error it can give;
//! the schemas are derived from the DTOs the handlers send (`utoipa::ToSchema`).

use crate::api::dto::ErrorBody;
use crate::routes::{Access, Answer, Body, RouteDoc, routes};
use rempart_app::ErrorCode;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    Components, Content, Info, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
};
use utoipa::{IntoParams, ToSchema};

/// A schema of the document: registers the named schemas it needs in the components and
/// returns a reference to them (or an inline schema).
pub type SchemaFn = fn(&mut Components) -> RefOr<Schema>;

/// The query parameters of a route.
pub type ParamsFn = fn() -> Vec<Parameter>;

/// `T`, a named schema of the components.
pub fn schema<T: ToSchema>(c: &mut Components) -> RefOr<Schema> {
    let mut needed = Vec::new();
    T::schemas(&mut needed);
    for (name, s) in needed {
        c.schemas.entry(name).or_insert(s);
    }
    let name = T::name().into_owned();
    c.schemas.entry(name.clone()).or_insert_with(T::schema);
    RefOr::Ref(Ref::from_schema_name(name))
}

/// A list of `T`.
pub fn list<T: ToSchema>(c: &mut Components) -> RefOr<Schema> {
    ArrayBuilder::new().items(schema::<T>(c)).into()
}

/// The query parameters of `T`.
pub fn params<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

/// This document itself.
pub fn document_schema(_: &mut Components) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An OpenAPI 3.1 document."))
        .property("openapi", ObjectBuilder::new().schema_type(Type::String))
        .property("info", ObjectBuilder::new().schema_type(Type::Object))
        .property("paths", ObjectBuilder::new().schema_type(Type::Object))
        .required("openapi")
        .required("info")
        .required("paths")
        .into()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn one_of(values: &[&str]) -> ObjectBuilder {
    string().enum_values(Some(values.iter().copied()))
}

fn http_method(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols: the connection is a WebSocket",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// The headers every answer carries (`middleware::security_headers`), named in the
/// components.
fn with_common_headers(r: ResponseBuilder, asset: bool) -> ResponseBuilder {
    let cache = if asset {
        "CacheControlAsset"
    } else {
        "NoStore"
    };
    r.header_ref("Cache-Control", header(cache))
        .header_ref("X-Content-Type-Options", header("NoSniff"))
}

fn header(name: &str) -> Ref {
    Ref::new(format!("#/components/headers/{name}"))
}

fn common_headers(c: &mut Components) {
    let h = |values: &[&str], description: &str| {
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(one_of(values)))
                .description(Some(description))
                .build(),
        )
    };
    c.headers.insert(
        "NoStore".into(),
        h(&["no-store"], "Nothing but the static files is cached"),
    );
    c.headers.insert(
        "CacheControlAsset".into(),
        h(
            &["public, max-age=86400"],
            "Static files are cached for a day",
        ),
    );
    c.headers.insert(
        "NoSniff".into(),
        h(&["nosniff"], "The content type is the one declared"),
    );
}

fn answer(a: &Answer, c: &mut Components) -> (u16, Response) {
    let (status, r) = match a {
        Answer::Json(status, s) => (
            *status,
            ResponseBuilder::new()
                .description(reason(*status))
                .content("application/json", Content::new(Some(s(c)))),
        ),
        Answer::NoContent => (204, ResponseBuilder::new().description(reason(204))),
        Answer::Html => (
            200,
            ResponseBuilder::new()
                .description("A console page")
                .content("text/html; charset=utf-8", Content::new(Some(string()))),
        ),
        Answer::SeeOther => (
            303,
            ResponseBuilder::new()
                .description("See Other: to a local page (the login when the session ended)")
                .header(
                    "Location",
                    HeaderBuilder::new()
                        .schema(Some(string()))
                        .description(Some("A local path"))
                        .build(),
                ),
        ),
        Answer::Text(media) => (
            200,
            ResponseBuilder::new()
                .description(reason(200))
                .content(*media, Content::new(Some(string()))),
        ),
        Answer::Asset => {
            let mut r = ResponseBuilder::new().description("The file");
            for media in [
                "text/css; charset=utf-8",
                "text/javascript; charset=utf-8",
                "image/svg+xml",
                "application/wasm",
            ] {
                r = r.content(media, Content::new(Some(string())));
            }
            return (200, with_common_headers(r, true).build());
        }
        Answer::Upgrade => (101, ResponseBuilder::new().description(reason(101))),
        Answer::File(media) => {
            let mut r = ResponseBuilder::new()
                .description("The file (`Cache-Control: no-store`, `Content-Disposition`, a sandbox)")
                .header(
                    "Content-Disposition",
                    HeaderBuilder::new()
                        .schema(Some(string()))
                        .description(Some("`attachment` (or `inline` for a display copy) with a file name made by the server"))
                        .build(),
                );
            for m in *media {
                r = r.content(
                    *m,
                    Content::new(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
                    )),
                );
            }
            (200, r)
        }
    };
    (status, with_common_headers(r, false).build())
}

/// The JSON error answers, one per status, named in the components (`Error404`…).
fn error_responses(c: &mut Components) {
    let err = schema::<ErrorBody>(c);
    let mut statuses: Vec<u16> = ErrorCode::ALL.iter().map(|c| c.status()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let codes: Vec<String> = ErrorCode::ALL
            .iter()
            .filter(|c| c.status() == status)
            .map(|c| format!("`{}`", c.as_str()))
            .collect();
        let r = ResponseBuilder::new()
            .description(format!("{}: {}", reason(status), codes.join(", ")))
            .content("application/json", Content::new(Some(err.clone())));
        c.responses.insert(
            format!("Error{status}"),
            RefOr::T(with_common_headers(r, false).build()),
        );
    }
}

fn error(status: u16, doc: &RouteDoc, c: &mut Components) -> RefOr<Response> {
    if !doc.is_page() || status == 408 {
        return RefOr::Ref(Ref::from_response_name(format!("Error{status}")));
    }
    // the console answers its errors with a small bilingual page; a path or query the
    // framework cannot decode gets its plain-text 400
    let name = format!("Page{status}");
    c.responses.entry(name.clone()).or_insert_with(|| {
        let mut r = ResponseBuilder::new()
            .description(format!("{}: a console error page", reason(status)))
            .content("text/html; charset=utf-8", Content::new(Some(string())));
        if status == 400 {
            r = r.content("text/plain; charset=utf-8", Content::new(Some(string())));
        }
        RefOr::T(with_common_headers(r, false).build())
    });
    RefOr::Ref(Ref::from_response_name(name))
}

fn security(doc: &RouteDoc) -> Vec<SecurityRequirement> {
    let req = |name: &str| SecurityRequirement::new(name, Vec::<String>::new());
    if doc.chat_token {
        vec![req("chat_token")]
    } else if matches!(doc.access, Access::Partner(_)) {
        vec![req("partner_key")]
    } else if doc.access == Access::Public {
        vec![]
    } else if doc.path.starts_with("/api/") && doc.access == Access::Session {
        vec![req("bearer")]
    } else if doc.path.starts_with("/api/") {
        vec![req("bearer"), req("cookie")]
    } else {
        vec![req("cookie")]
    }
}

fn tag(doc: &RouteDoc) -> &'static str {
    if doc.path.starts_with("/api/") {
        match doc.access {
            Access::Public => "public",
            _ => "staff",
        }
    } else if doc.path.starts_with("/widget/v1/") {
        "widget"
    } else if doc.path.starts_with("/partner/v1/") {
        "partner"
    } else if matches!(doc.path, "/healthz" | "/readyz" | "/metrics") {
        "operations"
    } else {
        "console"
    }
}

fn operation(doc: &RouteDoc, c: &mut Components) -> Operation {
    let mut op = OperationBuilder::new()
        .summary(Some(doc.summary))
        .operation_id(Some(format!(
            "{}_{}",
            doc.method.to_lowercase(),
            doc.path
                .trim_matches('/')
                .replace(['/', '{', '}', '.', '-'], "_")
        )))
        .tag(tag(doc))
        .securities(Some(security(doc)))
        .extensions(Some(
            ExtensionsBuilder::new()
                .add("x-access", format!("{:?}", doc.access))
                .build(),
        ));
    for name in doc
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    {
        // `{id}` is always a UUID (an invitation's token, a language or a file is not)
        let schema = if name == "id" {
            string().format(Some(SchemaFormat::Custom("uuid".into())))
        } else {
            string()
        };
        op = op.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schema)),
        );
    }
    if let Some(q) = doc.query {
        op = op.parameters(Some(q()));
    }
    match doc.body {
        Body::None => {}
        Body::Json(s) => {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content("application/json", Content::new(Some(s(c))))
                    .build(),
            ));
        }
        Body::Multipart(s) => {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content("multipart/form-data", Content::new(Some(s(c))))
                    .build(),
            ));
        }
        Body::Form => {
            let fields = ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "The form's fields, with its CSRF token (`_csrf`; `login_csrf` on the login)",
                ))
                .additional_properties(Some(string()));
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/x-www-form-urlencoded",
                        Content::new(Some(fields)),
                    )
                    .build(),
            ));
        }
    }
    let mut answers: Vec<Answer> = doc.answers.to_vec();
    if doc.is_page()
        && doc.access != Access::Public
        && !answers.iter().any(|a| matches!(a, Answer::SeeOther))
    {
        // a page without a session goes to the login
        answers.push(Answer::SeeOther);
    }
    for a in &answers {
        let (status, r) = answer(a, c);
        op = op.response(status.to_string(), r);
    }
    for status in doc.error_statuses() {
        op = op.response(status.to_string(), error(status, doc, c));
    }
    op.build()
}

/// Builds the document.
pub fn document() -> OpenApi {
    let mut components = Components::new();
    common_headers(&mut components);
    error_responses(&mut components);
    let mut paths = Paths::new();
    for (doc, _) in routes() {
        let op = operation(&doc, &mut components);
        paths.add_path_operation(doc.path, vec![http_method(doc.method)], op);
    }
    components.security_schemes.insert(
        "bearer".into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A staff session's token (`POST /api/v1/auth/login`), in `Authorization: Bearer`",
                ))
                .build(),
        )),
    );
    let mut cookie = ApiKeyValue::new(crate::extract::SESSION_COOKIE);
    cookie.description = Some(
        "The console's session cookie; a request that changes something also sends the \
         session's CSRF token in `X-CSRF-Token`"
            .into(),
    );
    components.security_schemes.insert(
        "cookie".into(),
        RefOr::T(SecurityScheme::ApiKey(ApiKey::Cookie(cookie))),
    );
    components.security_schemes.insert(
        "chat_token".into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A visitor's chat token (`POST /widget/v1/sessions`), in `Authorization: Bearer`",
                ))
                .build(),
        )),
    );
    components.security_schemes.insert(
        "partner_key".into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A platform's partner API key (`rpk_…`, issued by the helpline's \
                     administrators), in `Authorization: Bearer`; a replaced key works 24 \
                     hours more, a revoked one stops at once",
                ))
                .build(),
        )),
    );
    OpenApiBuilder::new()
        .info(Info::new("Rempart API", env!("CARGO_PKG_VERSION")))
        .paths(paths)
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two DTOs of one name would silently share one schema: each route's schemas, built
    /// alone, are the document's.
    #[test]
    fn no_two_schemas_share_a_name() {
        let doc = document();
        let all = doc.components.unwrap_or_default().schemas;
        for (d, _) in routes() {
            let mut fns: Vec<SchemaFn> = d
                .answers
                .iter()
                .filter_map(|a| match a {
                    Answer::Json(_, f) => Some(*f),
                    _ => None,
                })
                .collect();
            if let Body::Json(f) = d.body {
                fns.push(f);
            }
            for f in fns {
                let mut alone = Components::new();
                f(&mut alone);
                for (name, s) in alone.schemas {
                    assert!(
                        all.get(&name) == Some(&s),
                        "{} {}: two schemas named {name}",
                        d.method,
                        d.path
                    );
                }
            }
        }
    }
}
