//! `GET /v1/evidence`: the evidence of misbehaviour this node holds, newest first.
//!
//! Owns: the page limit of the list. Never: detects, stores or checks evidence (the consensus
//! core detects it, the node stores it, `tickchain verify-evidence` checks it offline).

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::wire::EvidenceBody;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

/// Default and largest `limit` of one `GET /v1/evidence` (the node keeps at most 4,096).
pub const MAX_EVIDENCE_PAGE: u32 = 1_000;

/// Query of `GET /v1/evidence`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvidenceQuery {
    /// Most pieces of evidence to return, 1 to 1,000 (default 1,000).
    pub limit: Option<u32>,
}

/// Evidence of misbehaviour: pairs of statements one ring member signed that no honest member
/// signs together (two proposals or two notarize votes for one view, a finalize and a nullify,
/// ...), newest first. Each element checks offline against genesis with
/// `tickchain verify-evidence FILE --genesis GENESIS`.
#[utoipa::path(
    get,
    path = "/v1/evidence",
    params(EvidenceQuery),
    responses(
        (status = 200, body = EvidenceBody),
        (status = 400, description = "bad_parameter", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<EvidenceQuery>, QueryRejection>,
) -> Result<Json<EvidenceBody>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadParameter(e.body_text()))?;
    let limit = super::page_limit(q.limit, MAX_EVIDENCE_PAGE)?;
    let evidence = state.handle.evidence(limit).await?;
    Ok(Json(EvidenceBody { evidence }))
}
