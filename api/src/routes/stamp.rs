//! `POST /v1/timestamps`: accept digests, optionally wait for their proofs.
//!
//! Owns: the submit-then-wait flow. Never: batching or durability (the handle's `submit`
//! returns only once the digests are durable).

use crate::body::read_body;
use crate::client::ClientAddr;
use crate::decode::StampBody;
use crate::error::{ApiError, ErrorBody};
use crate::handle::ProofStatus;
use crate::refusals::Limited;
use crate::router::ShuttingDown;
use crate::state::AppState;
use crate::wire::{ProofsBody, Receipt, ReceiptsBody};
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;
use tickchain_sdk::Proof;
use tokio::sync::broadcast::error::RecvError;

/// Query of `POST /v1/timestamps`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StampQuery {
    /// Wait until every digest's tick is final and answer with the proofs (`200`), or with
    /// `504` and the receipts after the node's `wait-timeout-ms`. A request with more than
    /// the node's `max-wait-digests` digests (default 1,000) is answered at once (`202`).
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
    request_body(
        description = "The digests: JSON with hex strings, or (`application/octet-stream`) their 32 bytes each, back to back; 1 to `max-digests` either way",
        content(
            (crate::wire::StampRequest = "application/json"),
            (Vec<u8> = "application/octet-stream"),
        )
    ),
    responses(
        (status = 202, description = "Accepted and durable; one receipt per digest", body = ReceiptsBody),
        (status = 200, description = "With wait=true: the proofs, once final", body = ProofsBody),
        (status = 400, description = "bad_json, bad_hex, wrong_length, no_digests, too_many_digests", body = ErrorBody),
        (status = 408, description = "body_timeout: the body did not arrive within body-timeout-ms", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited: over this client's requests or digests per second, or its waiting requests", body = ErrorBody),
        (status = 503, description = "unavailable (pool full, node not synchronised, disk low) or too_many_waiters", body = ErrorBody),
        (status = 504, description = "wait_timeout, with the receipts", body = WaitTimeoutBody),
    )
)]
pub async fn stamp(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    shutting_down: Option<Extension<ShuttingDown>>,
    query: Result<Query<StampQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadParameter(e.body_text()))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let kind = match content_type.as_deref().and_then(StampBody::of) {
        Some(kind) => kind,
        None => {
            return Err(ApiError::UnsupportedMediaType(
                content_type.unwrap_or_else(|| "no content-type".into()),
            ));
        }
    };
    let config = &state.config;
    // What can be refused without reading the body is refused first: a client over its wait
    // share, or whose digest bucket is empty, costs no body read and no parse.
    let permit = if query.wait {
        Some(super::take_waiter(&state, &client)?)
    } else {
        None
    };
    let over_quota = |retry_after, n| {
        state.refusals.count(Limited::Digests);
        ApiError::ClientQuota {
            what: format!(
                "this client may submit {} digests per second (bursts of {}); this request carries {n}",
                config.digests_per_second,
                config.digests_burst()
            ),
            retry_after,
        }
    };
    if let Err(retry_after) = state.digests.peek(client.key, 1, Instant::now()) {
        return Err(over_quota(retry_after, "more"));
    }
    let body = read_body(&headers, body, config.max_body_bytes, config.body_timeout())
        .await
        .inspect_err(|e| {
            if matches!(e, ApiError::BodyTimeout(_)) {
                state.refusals.count(Limited::BodyTimeout);
            }
        })?;
    let digests = kind.decode(&body, config.max_digests)?;
    // A wait answers with every proof (~2.3 KB each): larger requests are answered at once.
    let permit = permit.filter(|_| digests.len() <= config.max_wait_digests);
    let n = u32::try_from(digests.len()).unwrap_or(u32::MAX);
    if let Err(retry_after) = state.digests.check_n(client.key, n, Instant::now()) {
        return Err(over_quota(retry_after, &n.to_string()));
    }
    if permit.is_none() {
        let receipts = state.handle.submit(digests).await?;
        state.count_accepted(receipts.len());
        return Ok((StatusCode::ACCEPTED, Json(ReceiptsBody { receipts })).into_response());
    }
    // Subscribe before submitting so no finalization between the two is missed.
    let ticks = state.handle.subscribe_ticks();
    let receipts = state.handle.submit(digests).await?;
    state.count_accepted(receipts.len());
    let stop = shutting_down.map(|Extension(ShuttingDown(w))| w);
    let outcome = wait_for_proofs(&state, &receipts, ticks, stop).await;
    drop(permit);
    match outcome {
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

/// Waits until every receipt's proof is ready (`Some`), or the wait timeout passes, the server
/// starts shutting down or the node stops publishing ticks (`None`: the caller answers `504`
/// with the receipts). After each finalized tick it asks about one digest per batch (a batch
/// becomes final all at once), and fetches the rest of a batch's proofs only once that one is
/// ready: a waiter costs about one proof read per batch per tick, not one per digest. A failed
/// read is retried at the next tick (the digests are durable; the receipts still hold).
pub(crate) async fn wait_for_proofs(
    state: &AppState,
    receipts: &[Receipt],
    mut ticks: tokio::sync::broadcast::Receiver<crate::wire::TickSummary>,
    mut stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Option<Vec<Proof>> {
    let deadline = tokio::time::Instant::now() + state.config.wait_timeout();
    let mut proofs: Vec<Option<Proof>> = Vec::new();
    proofs.resize_with(receipts.len(), || None);
    let mut batches: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, r) in receipts.iter().enumerate() {
        batches.entry(r.accepted_second.0).or_default().push(i);
    }
    loop {
        for members in batches.values_mut() {
            // The batch is final when its first digest is; then the rest are read together.
            let first = members[0];
            let Ok(ProofStatus::Ready(p)) = state.handle.proof(receipts[first].digest).await else {
                continue; // not final yet, or the read failed: try again at the next tick
            };
            proofs[first] = Some(*p);
            let rest: Vec<usize> = members[1..].to_vec();
            let digests = rest.iter().map(|&i| receipts[i].digest).collect();
            members.clear();
            match state.handle.proofs(digests).await {
                Ok(statuses) => {
                    for (i, status) in rest.into_iter().zip(statuses) {
                        match status {
                            ProofStatus::Ready(p) => proofs[i] = Some(*p),
                            _ => members.push(i),
                        }
                    }
                }
                Err(_) => *members = rest,
            }
        }
        batches.retain(|_, m| !m.is_empty());
        if batches.is_empty() {
            return Some(proofs.into_iter().flatten().collect());
        }
        let stopping = crate::server::stopped_or_never(stop.as_mut());
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return None,
            _ = stopping => return None,
            received = ticks.recv() => match received {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                // The node stopped publishing ticks: nothing more will become final here.
                Err(RecvError::Closed) => return None,
            },
        }
    }
}
