//! The route table: every route once, with the policy action it needs, its summary and
//! what it takes and answers. The router, the OpenAPI document and the route × role ×
//! ownership test are all built from it, and so is the check of the local paths a
//! redirect may go back to.

mod api;
mod console;
mod partner;
mod widget;

use crate::AppState;
use crate::openapi::{ParamsFn, SchemaFn, list, params, schema};
use axum::routing::{MethodRouter, get};
use rempart_domain::policy::{Action, PartnerAction};
use std::marker::PhantomData;
use utoipa::{IntoParams, ToSchema};

/// Who may call a route: what the handler's use-case asks of the access policy (the
/// route × role × ownership test checks the answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A logged-in session, possibly before its second factor.
    Session,
    /// A full session and this action, globally.
    Staff(Action),
    /// A full session and this action on the case in the path.
    Case(Action),
    /// A full session and this action on the conversation in the path.
    Conversation(Action),
    /// A full session and this action on the notice in the path (or the case's notices).
    Notice(Action),
    /// A full session and [`Action::ApproveRoleGrant`] on the pending invitation or grant
    /// in the path.
    Grant,
    /// A platform's partner API key (never a session) and this action on its notice.
    Partner(PartnerAction),
}

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// Nothing.
    None,
    /// A JSON body (`application/json`, unknown fields refused) of this schema.
    Json(SchemaFn),
    /// A console form (`application/x-www-form-urlencoded`, with its CSRF token).
    Form,
    /// A file upload (`multipart/form-data`) whose fields this schema documents.
    Multipart(SchemaFn),
}

/// A success answer of a route.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// JSON of this schema, with this status.
    Json(u16, SchemaFn),
    /// `204`, no content.
    NoContent,
    /// `200`, a console page.
    Html,
    /// `303` to a local page (`Location`).
    SeeOther,
    /// `200`, text of this media type.
    Text(&'static str),
    /// `200`, an embedded static file (CSS, JavaScript, SVG).
    Asset,
    /// `200`, a file (an evidence copy, an export): `no-store`, sandboxed, an attachment
    /// unless it is a display copy.
    File(&'static [&'static str]),
    /// `101`: the connection becomes a WebSocket.
    Upgrade,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// HTTP method.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
    /// Access rule.
    pub access: Access,
    /// What it does.
    pub summary: &'static str,
    /// What the request carries.
    pub body: Body,
    /// Its query string.
    pub query: Option<ParamsFn>,
    /// Its success answers.
    pub answers: &'static [Answer],
    /// Error statuses of its own, besides those its access rule, body, query and path
    /// imply (see [`RouteDoc::error_statuses`]).
    pub errors: &'static [u16],
    /// The chat token (`Authorization: Bearer`, the widget's) is required.
    pub chat_token: bool,
    /// It answers without the database (no `500`/`503` but those it lists); every other
    /// route can answer both.
    pub no_database: bool,
}

impl RouteDoc {
    /// Whether it is a console page or form, whose errors are pages too.
    pub fn is_page(&self) -> bool {
        self.answers
            .iter()
            .any(|a| matches!(a, Answer::Html | Answer::SeeOther))
    }

    /// Every error status it can answer: `408` (the request timeout, on every route),
    /// those its access rule, body, query and path imply, and its own.
    pub fn error_statuses(&self) -> Vec<u16> {
        let mut s = vec![408];
        if !self.no_database {
            // an internal failure; the database unreachable
            s.extend([500, 503]);
        }
        if self.access != Access::Public && !self.is_page() {
            // no session, an ended one, or its second factor is due (a page redirects
            // to the login instead)
            s.push(401);
            // a session cookie without the session's CSRF token (a bearer token needs
            // none)
            let cookie_api = self.path.starts_with("/api/") && self.access != Access::Session;
            if cookie_api && self.method != "GET" {
                s.push(403);
            }
        }
        if self.chat_token {
            s.push(401);
        }
        if self.path.contains('{') {
            // an id that does not exist, or that the account may not see
            s.push(404);
        }
        match self.body {
            Body::None => {}
            Body::Json(_) => s.extend([400, 413, 415, 422]),
            Body::Form => s.extend([400, 403, 413, 415, 422]),
            Body::Multipart(_) => s.extend([400, 413, 415, 422]),
        }
        if self.query.is_some() {
            s.push(422);
        }
        s.extend(self.errors);
        s.sort_unstable();
        s.dedup();
        s
    }
}

/// A route of the table being written.
struct Route {
    doc: RouteDoc,
    handler: MethodRouter<AppState>,
}

fn r(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> Route {
    Route {
        doc: RouteDoc {
            method,
            path,
            access,
            summary,
            body: Body::None,
            query: None,
            answers: &[],
            errors: &[],
            chat_token: false,
            no_database: false,
        },
        handler,
    }
}

/// The JSON answers of one schema, as constants (the table holds `'static` slices).
struct Json<T>(PhantomData<T>);

impl<T: ToSchema> Json<T> {
    const OK: &'static [Answer] = &[Answer::Json(200, schema::<T>)];
    const CREATED: &'static [Answer] = &[Answer::Json(201, schema::<T>)];
    const OK_LIST: &'static [Answer] = &[Answer::Json(200, list::<T>)];
}

impl Route {
    /// Takes a JSON body of `T`.
    fn body<T: ToSchema>(mut self) -> Self {
        self.doc.body = Body::Json(schema::<T>);
        self
    }
    /// Takes a file upload documented by `T`.
    fn multipart<T: ToSchema>(mut self) -> Self {
        self.doc.body = Body::Multipart(schema::<T>);
        self
    }
    /// Takes a console form.
    fn form(mut self) -> Self {
        self.doc.body = Body::Form;
        self
    }
    /// Takes a query string of `T`.
    fn query<T: IntoParams>(mut self) -> Self {
        self.doc.query = Some(params::<T>);
        self
    }
    /// Answers `200` with a `T`.
    fn ok<T: ToSchema>(mut self) -> Self {
        self.doc.answers = Json::<T>::OK;
        self
    }
    /// Answers `201` with the `T` made.
    fn created<T: ToSchema>(mut self) -> Self {
        self.doc.answers = Json::<T>::CREATED;
        self
    }
    /// Answers `200` with a list of `T`.
    fn ok_list<T: ToSchema>(mut self) -> Self {
        self.doc.answers = Json::<T>::OK_LIST;
        self
    }
    /// Answers `204`.
    fn no_content(mut self) -> Self {
        self.doc.answers = &[Answer::NoContent];
        self
    }
    /// Answers a console page.
    fn page(mut self) -> Self {
        self.doc.answers = &[Answer::Html];
        self
    }
    /// Answers `303` to a console page.
    fn redirects(mut self) -> Self {
        self.doc.answers = &[Answer::SeeOther];
        self
    }
    /// Answers these.
    fn answers(mut self, answers: &'static [Answer]) -> Self {
        self.doc.answers = answers;
        self
    }
    /// Can also answer these errors.
    fn errors(mut self, errors: &'static [u16]) -> Self {
        self.doc.errors = errors;
        self
    }
    /// Needs the widget's chat token.
    fn chat_token(mut self) -> Self {
        self.doc.chat_token = true;
        self
    }
    /// Answers without the database.
    fn no_database(mut self) -> Self {
        self.doc.no_database = true;
        self
    }
}

/// Every route.
pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    let mut all = operations();
    all.extend(console::routes());
    all.extend(widget::routes());
    all.extend(api::routes());
    all.extend(partner::routes());
    all.into_iter().map(|r| (r.doc, r.handler)).collect()
}

fn operations() -> Vec<Route> {
    use crate::api::misc;
    use Access::*;
    vec![
        r(
            "GET",
            "/healthz",
            Public,
            "Liveness probe",
            get(misc::healthz),
        )
        .answers(&[Answer::Text("text/plain; charset=utf-8")])
        .no_database(),
        r(
            "GET",
            "/readyz",
            Public,
            "Readiness probe: the database answers and takes writes",
            get(misc::readyz),
        )
        .answers(&[Answer::Text("text/plain; charset=utf-8")])
        .errors(&[503]),
        r(
            "GET",
            "/metrics",
            Public,
            "Prometheus metrics",
            get(misc::metrics),
        )
        .answers(&[Answer::Text("text/plain; version=0.0.4")])
        .no_database(),
        r(
            "GET",
            "/assets/{file}",
            Public,
            "Static assets",
            get(misc::asset),
        )
        .answers(&[Answer::Asset])
        .no_database(),
        r(
            "GET",
            "/api/v1/openapi.json",
            Public,
            "This API's OpenAPI document",
            get(misc::openapi),
        )
        .answers(&[Answer::Json(200, crate::openapi::document_schema)])
        .no_database(),
    ]
}

/// Keeps `back` when it is a local page of the console (a GET route of this table, with an
/// optional query of plain characters); anything else — another site, tricks with slashes,
/// tabs or control characters — gives None.
pub fn local_path(back: &str) -> Option<&str> {
    let ok_chars = back
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.~?=&%+:".contains(&b));
    if !ok_chars || !back.starts_with('/') || back.starts_with("//") || back.len() > 512 {
        return None;
    }
    let path = back.split('?').next().unwrap_or("");
    let known = routes()
        .iter()
        .any(|(d, _)| d.method == "GET" && template_matches(d.path, path));
    known.then_some(back)
}

/// Whether a concrete path matches a route template (`{x}` matches one non-empty segment).
fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(a, b)| {
            if a.starts_with('{') && a.ends_with('}') {
                !b.is_empty()
            } else {
                a == b
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_console_pages_are_kept() {
        assert_eq!(local_path("/cases?status=new"), Some("/cases?status=new"));
        assert_eq!(
            local_path("/chats/0191d7a4-5b1e-7c3a-9f00-000000000001"),
            Some("/chats/0191d7a4-5b1e-7c3a-9f00-000000000001")
        );
        for bad in [
            "/\t/evil.example",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/%09/evil.example/x",
            "/nowhere",
            "/cases/\n",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_route_answers_something() {
        for (d, _) in routes() {
            assert!(
                !d.answers.is_empty(),
                "{} {} answers nothing",
                d.method,
                d.path
            );
        }
    }
}
