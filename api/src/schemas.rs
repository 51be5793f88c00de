//! OpenAPI schemas for bodies whose Rust types live in `tickchain-sdk` (which has no OpenAPI
//! dependency): field-for-field descriptions of their JSON.
//!
//! Owns: documentation only; `tests/openapi.rs` checks these field names against the real
//! serialized values. Never: used to (de)serialize anything.

// Documentation-only types: never constructed, so their fields are never read.
#![allow(dead_code)]

use utoipa::ToSchema;

/// `GET /v1/time` answer: a statement and the node's Ed25519 signature over its canonical
/// bytes (`tickchain_sdk::time_response`, domain tag `tickchain/time/v1`).
#[derive(ToSchema)]
#[schema(as = SignedTime)]
pub struct SignedTimeSchema {
    /// What the node states.
    statement: TimeStatementSchema,
    /// Ed25519 signature, 128 hex characters.
    signature: String,
}

/// What a node states about UTC.
#[derive(ToSchema)]
#[schema(as = TimeStatement)]
pub struct TimeStatementSchema {
    /// Genesis hash of the node's network, 64 hex.
    genesis_hash: String,
    /// The answering node's index in the genesis.
    node: u16,
    /// The client's nonce, echoed (hex; empty when none was sent).
    nonce: String,
    /// Lower bound on true UTC, nanoseconds since the Unix epoch.
    earliest: i64,
    /// Upper bound on true UTC, nanoseconds since the Unix epoch.
    latest: i64,
    /// Whether a majority of sources agree.
    synchronized: bool,
    /// Per-source view.
    sources: Vec<SourceSummarySchema>,
    /// The newest final tick.
    latest_tick: Option<TickRefSchema>,
}

/// One time source as the node sees it.
#[derive(ToSchema)]
#[schema(as = SourceSummary)]
pub struct SourceSummarySchema {
    /// Source name.
    name: String,
    /// Offset from the node's local clock, nanoseconds.
    offset: i64,
    /// Hard error bound, nanoseconds.
    radius: i64,
    /// Whether it is in the agreeing majority.
    agrees: bool,
}

/// The newest final tick, by reference.
#[derive(ToSchema)]
#[schema(as = TickRef)]
pub struct TickRefSchema {
    /// Its height.
    height: u64,
    /// Its UTC second.
    second: u64,
    /// Its hash, 64 hex.
    hash: String,
}

/// Evidence of misbehaviour (`tickchain_sdk::Evidence`, `specs/evidence.md`): two statements
/// one member signed that break `rule` together.
#[derive(ToSchema)]
#[schema(as = Evidence)]
pub struct EvidenceSchema {
    /// Genesis hash of the network, 64 hex.
    genesis: String,
    /// The member's index in the genesis.
    member: u16,
    /// `conflicting_proposals`, `conflicting_notarize`, `conflicting_finalize`,
    /// `finalize_and_nullify` or `finalize_contradicts_notarize`.
    rule: String,
    /// The statement seen first.
    first: StatementSchema,
    /// The statement that contradicts it.
    second: StatementSchema,
}

/// One signed consensus statement.
#[derive(ToSchema)]
#[schema(as = Statement)]
pub struct StatementSchema {
    /// `notarize`, `finalize` or `nullify`.
    kind: String,
    /// The view.
    view: u64,
    /// The tick voted for, 64 hex (notarize and finalize only).
    tick_hash: Option<String>,
    /// The signer's clock reading (notarize and finalize only).
    reading: Option<ReadingSchema>,
    /// Ed25519 signature over the statement's signing bytes, 128 hex.
    signature: String,
}

/// A clock reading: bounds on true UTC, nanoseconds since the Unix epoch.
#[derive(ToSchema)]
#[schema(as = ClockReading)]
pub struct ReadingSchema {
    /// Lower bound.
    earliest: i64,
    /// Upper bound.
    latest: i64,
}
