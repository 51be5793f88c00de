//! `POST /v1/timestamps`: accept digests, optionally wait for their proofs.
//!
//! Owns: the submit-then-wait flow. Never: batching or durability (the handle's `submit`
//! returns only once the digests are durable).

use crate::decode::{decode_stamp_body, is_json_content_type};
use crate::error::{ApiError, ErrorBody};
use crate::handle::ProofStatus;
use crate::state::AppState;
use crate::wire::{ProofsBody, Receipt, ReceiptsBody};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tickchain_sdk::{Digest, Proof};
use tokio::sync::broadcast::error::RecvError;

/// Query of `POST /v1/timestamps`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StampQuery {
    /// Wait until every digest's tick is final and answer with the proofs (`200`), or with
    /// `504` and the receipts after the node's `wait-timeout-ms`.
    #[serde(default)]
    pub wait: bool,
}

/// `504` body of a wait that ran out: the error and the receipts to fetch the proofs later.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaitTimeoutBody {
    /// Always `wait_timeout`.
    pub error: crate::error::ErrorDetail,
    /// One receipt per digest; fetch proofs with `GET /v1/proofs/{digest}`.
    pub receipts: Vec<Receipt>,
}

/// Timestamps 1 to `max-digests` digests.
#[utoipa::path(
    post,
    path = "/v1/timestamps",
    params(StampQuery),
    request_body(content = crate::wire::StampRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted and durable; one receipt per digest", body = ReceiptsBody),
        (status = 200, description = "With wait=true: the proofs, once final", body = ProofsBody),
        (status = 400, description = "bad_json, bad_hex, wrong_length, no_digests, too_many_digests", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "unavailable or too_many_waiters", body = ErrorBody),
        (status = 504, description = "wait_timeout, with the receipts", body = WaitTimeoutBody),
    )
)]
pub async fn stamp(
    State(state): State<AppState>,
    query: Result<Query<StampQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadParameter(e.body_text()))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match &content_type {
        Some(ct) if is_json_content_type(ct) => {}
        other => {
            return Err(ApiError::UnsupportedMediaType(
                other.clone().unwrap_or_else(|| "no content-type".into()),
            ));
        }
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge {
            max: state.config.max_body_bytes,
        },
        _ => ApiError::BadJson(e.body_text()),
    })?;
    let digests = decode_stamp_body(&body, state.config.max_digests)?;
    if !query.wait {
        let receipts = state.handle.submit(digests).await?;
        return Ok((StatusCode::ACCEPTED, Json(ReceiptsBody { receipts })).into_response());
    }
    let permit = state
        .waiters
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::TooManyWaiters(state.config.max_waiters))?;
    // Subscribe before submitting so no finalization between the two is missed.
    let ticks = state.handle.subscribe_ticks();
    let receipts = state.handle.submit(digests.clone()).await?;
    let outcome = wait_for_proofs(&state, &digests, ticks).await;
    drop(permit);
    match outcome? {
        Some(proofs) => Ok((StatusCode::OK, Json(ProofsBody { proofs })).into_response()),
        None => {
            let body = WaitTimeoutBody {
                error: crate::error::ErrorDetail {
                    code: "wait_timeout".into(),
                    message: format!(
                        "proofs not final within {} ms; fetch them later with GET /v1/proofs/{{digest}}",
                        state.config.wait_timeout_ms
                    ),
                },
                receipts,
            };
            Ok((StatusCode::GATEWAY_TIMEOUT, Json(body)).into_response())
        }
    }
}

/// Polls the handle for each digest's proof after every finalized tick until all are ready
/// (`Some`) or the wait timeout passes (`None`).
async fn wait_for_proofs(
    state: &AppState,
    digests: &[Digest],
    mut ticks: tokio::sync::broadcast::Receiver<crate::wire::TickSummary>,
) -> Result<Option<Vec<Proof>>, ApiError> {
    let deadline = tokio::time::Instant::now() + state.config.wait_timeout();
    let mut proofs: Vec<Option<Proof>> = vec![None; digests.len()];
    loop {
        for (slot, digest) in proofs.iter_mut().zip(digests) {
            if slot.is_none()
                && let ProofStatus::Ready(p) = state.handle.proof(*digest).await?
            {
                *slot = Some(*p);
            }
        }
        if proofs.iter().all(Option::is_some) {
            return Ok(Some(proofs.into_iter().flatten().collect()));
        }
        match tokio::time::timeout_at(deadline, ticks.recv()).await {
            Err(_) => return Ok(None),
            Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => {}
            // The node stopped publishing ticks: nothing more will become final here.
            Ok(Err(RecvError::Closed)) => return Ok(None),
        }
    }
}
