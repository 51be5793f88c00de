//! `POST /v1/tsa`: RFC 3161 time-stamping over HTTP (RFC 3161 §3.4).
//!
//! Owns: the request → durable submit → final proof → token flow, and which failures become
//! a `PKIStatus` rejection (anything about the request or the node's time: HTTP 200 with an
//! `application/timestamp-reply` body, as stock clients expect) and which stay HTTP errors
//! (what is refused before the body is read: the media type, rate and wait limits). Never: DER
//! or signing (`tickchain_sdk::rfc3161`, the node's [`crate::tsa::TsaSigner`]).

use crate::body::read_body;
use crate::client::ClientAddr;
use crate::error::{ApiError, ErrorBody};
use crate::handle::SubmitError;
use crate::refusals::Limited;
use crate::router::ShuttingDown;
use crate::state::AppState;
use crate::tsa::TsaEvent;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Instant;
use tickchain_sdk::rfc3161::request::{Failure, MAX_REQUEST_BYTES, Refusal, TsaRequest};
use tickchain_sdk::rfc3161::token;

/// The request media type (RFC 3161 §3.4).
pub const QUERY_TYPE: &str = "application/timestamp-query";
/// The reply media type.
pub const REPLY_TYPE: &str = "application/timestamp-reply";

fn reply(bytes: Vec<u8>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, REPLY_TYPE)], bytes).into_response()
}

/// Issues an RFC 3161 time-stamp token whose `genTime` is the second of the final tick holding
/// the request's SHA-256 imprint, with that digest's tickchain proof inside.
#[utoipa::path(
    post,
    path = "/v1/tsa",
    request_body(
        description = "A DER TimeStampReq (RFC 3161 §2.4.1) with a SHA-256 imprint, e.g. from `openssl ts -query -sha256 -cert`",
        content((Vec<u8> = "application/timestamp-query"))
    ),
    responses(
        (status = 200, description = "A DER TimeStampResp: granted (with the token: genTime = the final tick's second, accuracy from its certified window, the tickchain proof in extension 2.25.126422331236093151969242485033668484883.2) or rejection with its PKIFailureInfo (badAlg, badDataFormat, unacceptedPolicy, unacceptedExtension, badRequest, timeNotAvailable, systemFailure)", content_type = "application/timestamp-reply"),
        (status = 404, description = "not_found: this node has no TSA key configured ([tsa])", body = ErrorBody),
        (status = 408, description = "body_timeout", body = ErrorBody),
        (status = 413, description = "body_too_large: over 4096 bytes", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: not application/timestamp-query", body = ErrorBody),
        (status = 429, description = "rate_limited: over this client's requests or digests per second, or its waiting requests", body = ErrorBody),
        (status = 503, description = "too_many_waiters", body = ErrorBody),
    )
)]
pub async fn tsa(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    shutting_down: Option<Extension<ShuttingDown>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(signer) = state.handle.tsa() else {
        return Err(ApiError::NotFound(
            "this node serves no RFC 3161 time-stamps (no [tsa] key configured)".into(),
        ));
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let media = content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(str::trim);
    if !media.is_some_and(|m| m.eq_ignore_ascii_case(QUERY_TYPE)) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "{} (expected {QUERY_TYPE})",
            content_type.unwrap_or_else(|| "no content-type".into())
        )));
    }
    let config = &state.config;
    // A token waits for a final tick: it takes a waiter's place, refused before the body.
    let permit = super::take_waiter(&state, &client)?;
    if let Err(retry_after) = state.digests.check_n(client.key, 1, Instant::now()) {
        state.refusals.count(Limited::Digests);
        return Err(ApiError::ClientQuota {
            what: format!(
                "this client may submit {} digests per second (bursts of {})",
                config.digests_per_second,
                config.digests_burst()
            ),
            retry_after,
        });
    }
    let max = config.max_body_bytes.min(MAX_REQUEST_BYTES);
    let body = read_body(&headers, body, max, config.body_timeout()).await?;
    signer.count(TsaEvent::Request);
    let refuse = |refusal: Refusal| {
        signer.count(TsaEvent::Rejected);
        reply(token::rejection(&refusal))
    };
    let request = match TsaRequest::parse(&body) {
        Ok(r) => r,
        Err(refusal) => return Ok(refuse(refusal)),
    };
    let ticks = state.handle.subscribe_ticks();
    let receipts = match state.handle.submit(vec![request.digest]).await {
        Ok(r) => {
            state.count_accepted(r.len());
            r
        }
        Err(e @ SubmitError::Storage(_)) => {
            return Ok(refuse(Refusal::new(Failure::SystemFailure, e.to_string())));
        }
        Err(e) => {
            return Ok(refuse(Refusal::new(
                Failure::TimeNotAvailable,
                e.to_string(),
            )));
        }
    };
    let stop = shutting_down.map(|Extension(ShuttingDown(w))| w);
    let proofs = super::stamp::wait_for_proofs(&state, &receipts, ticks, stop).await;
    drop(permit);
    let Some(proof) = proofs.and_then(|p| p.into_iter().next()) else {
        return Ok(refuse(Refusal::new(
            Failure::TimeNotAvailable,
            format!(
                "the digest was accepted but its tick was not final within {} ms; ask again to get the token",
                config.wait_timeout_ms
            ),
        )));
    };
    // Verifying the proof and signing cost about a millisecond of CPU: off the async workers,
    // so the waiters a tick wakes together do not stall the API.
    let issuing = signer.clone();
    let issued = tokio::task::spawn_blocking(move || issuing.issue(&request, &proof))
        .await
        .unwrap_or_else(|e| {
            Err(Refusal::new(
                Failure::SystemFailure,
                format!("signing failed: {e}"),
            ))
        });
    match issued {
        Ok(tok) => {
            signer.count(TsaEvent::Granted);
            Ok(reply(token::granted(&tok)))
        }
        Err(refusal) => Ok(refuse(refusal)),
    }
}
