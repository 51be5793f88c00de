//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations.
//!
//! Owns: the document's metadata. Never: a hand-written path list: the router and the document
//! come from the same `routes!` calls (see `router::api_routes`), so no route can be missing.

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
