//! The OpenAPI 3.1 document, generated from the route table so it lists every route.

use crate::routes::{Access, routes};
use serde_json::{Map, Value, json};

/// Builds the document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (doc, _) in routes() {
        let entry = paths
            .entry(doc.path.to_owned())
            .or_insert_with(|| json!({}));
        let (tag, security) = match doc.access {
            Access::Public => ("public", json!([])),
            _ => ("staff", json!([{"bearer": []}, {"cookie": []}])),
        };
        let tag = if doc.path.starts_with("/api/") {
            tag
        } else {
            "console"
        };
        let params: Vec<Value> = doc
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let op = json!({
            "summary": doc.summary,
            "operationId": format!("{}_{}", doc.method.to_lowercase(), doc.path.trim_matches('/').replace(['/', '{', '}', '.'], "_")),
            "tags": [tag],
            "parameters": params,
            "security": security,
            "x-access": format!("{:?}", doc.access),
            "responses": {
                "default": {"description": "Errors: {\"error\": \"<code>\", \"message\": \"…\"}",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if let Some(m) = entry.as_object_mut() {
            m.insert(doc.method.to_lowercase(), op);
        }
    }
    let codes: Vec<&str> = rempart_app::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Rempart API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::extract::SESSION_COOKIE}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                    "properties": {"error": {"type": "string", "enum": codes}, "message": {"type": "string"}}}
            }
        }
    })
}
