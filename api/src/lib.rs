//! The Timestamp API: the HTTP surface every node serves, over a node handle trait.
//!
//! Owns: routes, request validation and error bodies. Never: consensus or storage logic.
