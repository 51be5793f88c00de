//! `GET /v1/proofs/{digest}`: a digest's proof, or that it is pending or unknown.
//!
//! Owns: mapping `ProofStatus` to `200`/`202`/`404`. Never: builds proofs.

use crate::decode::decode_digest;
use crate::error::{ApiError, ErrorBody};
use crate::handle::ProofStatus;
use crate::state::AppState;
use crate::wire::ProofBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The proof for a digest.
#[utoipa::path(
    get,
    path = "/v1/proofs/{digest}",
    params(("digest" = String, Path, description = "The digest, 64 hex characters")),
    responses(
        (status = 200, description = "Ready: `{\"status\": \"ready\", \"proof\": ...}`", body = ProofBody),
        (status = 202, description = "Pending: `{\"status\": \"pending\", \"receipt\": ...}`", body = ProofBody),
        (status = 400, description = "bad_hex or wrong_length", body = ErrorBody),
        (status = 404, description = "not_found: this node never accepted the digest", body = ErrorBody),
        (status = 503, description = "unavailable: the node is busy rebuilding proofs or starting; retry after Retry-After", body = ErrorBody),
    )
)]
pub async fn proof(
    State(state): State<AppState>,
    Path(digest): Path<String>,
) -> Result<Response, ApiError> {
    let digest = decode_digest(&digest)?;
    Ok(match state.handle.proof(digest).await? {
        ProofStatus::Ready(proof) => {
            (StatusCode::OK, Json(ProofBody::Ready { proof })).into_response()
        }
        ProofStatus::Pending(receipt) => {
            (StatusCode::ACCEPTED, Json(ProofBody::Pending { receipt })).into_response()
        }
        ProofStatus::Unknown => {
            return Err(ApiError::NotFound(format!(
                "digest {digest} was never submitted to this node"
            )));
        }
    })
}
