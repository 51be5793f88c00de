//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations.
//!
//! Owns: the document's metadata, and the bounds that depend on the node's `[api]` settings
//! (digests per request, page sizes), written into the served document so that it is exact
//! for this node. Never: a hand-written path list: the router and the document come from the
//! same `routes!` calls (see `router::api_routes`), so no route can be missing.

use std::sync::OnceLock;
use utoipa::OpenApi;

/// Metadata of the document; paths are added by the router.
#[derive(OpenApi)]
#[openapi(info(
    title = "tickchain Timestamp API",
    description = "Submit document digests, fetch proofs that verify offline, read ticks and the node's signed time."
))]
pub struct ApiDoc;

/// The document (built once).
pub fn document() -> utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| crate::router::api_routes().split_for_parts().1)
        .clone()
}

/// A digest as the API takes it in a path or a body: 64 hex characters.
pub const DIGEST_PATTERN: &str = "^[0-9a-fA-F]{64}$";

/// The document as `config` makes it exact: the bounds the handlers enforce with the node's
/// settings (`max-digests`, `max-tick-page`) and the digest format where a digest is taken.
pub fn document_for(config: &crate::config::ApiConfig) -> serde_json::Value {
    use serde_json::json;
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    let digest = json!({
        "type": "string",
        "pattern": DIGEST_PATTERN,
        "minLength": 64,
        "maxLength": 64,
    });
    if let Some(d) = doc.pointer_mut("/components/schemas/StampRequest/properties/digests") {
        *d = json!({
            "type": "array",
            "description": "Digests to timestamp, 64 hex characters each.",
            "items": digest.clone(),
            "minItems": 1,
            "maxItems": config.max_digests,
        });
    }
    if let Some(b) = doc.pointer_mut(
        "/paths/~1v1~1timestamps/post/requestBody/content/application~1octet-stream/schema",
    ) {
        *b = json!({
            "type": "string",
            "format": "binary",
            "description": format!(
                "1 to {} digests of 32 bytes each, back to back (a length that is not a multiple of 32 is refused with 400 wrong_length)",
                config.max_digests
            ),
        });
    }
    let bound = |doc: &mut serde_json::Value, path: &str, name: &str, schema: serde_json::Value| {
        let Some(params) = doc
            .pointer_mut(&format!(
                "/paths/{}/get/parameters",
                path.replace('/', "~1")
            ))
            .and_then(|p| p.as_array_mut())
        else {
            return;
        };
        for p in params.iter_mut().filter(|p| p["name"] == name) {
            p["schema"] = schema.clone();
        }
    };
    bound(&mut doc, "/v1/proofs/{digest}", "digest", digest);
    bound(
        &mut doc,
        "/v1/ticks",
        "from",
        json!({"type": "integer", "format": "int64", "minimum": 0,
               "maximum": crate::routes::ticks::MAX_HEIGHT}),
    );
    bound(
        &mut doc,
        "/v1/time",
        "nonce",
        json!({"type": "string", "pattern": "^([0-9a-fA-F]{2}){0,64}$", "maxLength": 128}),
    );
    let page = |max: u64| json!({"type": "integer", "minimum": 1, "maximum": max});
    bound(
        &mut doc,
        "/v1/ticks",
        "limit",
        page(u64::from(config.max_tick_page)),
    );
    bound(
        &mut doc,
        "/v1/evidence",
        "limit",
        page(u64::from(crate::routes::evidence::MAX_EVIDENCE_PAGE)),
    );
    doc
}
