//! The handlers, one file per resource.
//!
//! Owns: request → handle call → response. Never: shared state construction or middleware.

pub mod evidence;
pub mod node;
pub mod ops;
pub mod proofs;
pub mod stamp;
pub mod ticks;
