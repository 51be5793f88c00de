//! Per-second device logs (`specs/devicelog.md`): a device signs and hash-chains each record it
//! produces and stamps the chain's head once per second, so an auditor holding the device's
//! public key and the network's genesis can check any record offline.
//!
//! Owns: the log file's frames, the record hash and signing bytes, the stamp tree over the
//! heads of the chains one logger serves, and `verify_log`. Never: sockets or clocks in the
//! format and verifier (the writer needs the `keys` feature, the stamper the `client` feature).
//!
//! ```text
//! chain anchor = H(device key ‖ log id)
//! record n: hash_n = H(hash_{n-1} ‖ n ‖ device time ‖ payload), signed by the device
//! each second: heads of the chains that moved ─▶ stamp tree ─▶ root, stamped as a digest
//! ```

mod build;
mod entry;
mod frame;
mod reader;
#[cfg(feature = "client")]
mod stamper;
pub mod vectors;
mod verify;
#[cfg(feature = "keys")]
mod writer;

pub use build::LogBuilder;
pub use entry::{
    Chain, Entry, HeadRef, LogId, MAX_PAYLOAD_BYTES, MAX_STAMP_HEADS, Record, Stamp, chain_anchor,
    head_leaf, record_hash, record_signing_bytes, stamp_root,
};
pub use frame::{FILE_MAGIC, Frame, FrameError, Kind, MAX_FRAME_BODY, Scan, encode_frame, scan};
pub use reader::{FrameReader, OwnedFrame, ReadError, read_all};
#[cfg(feature = "client")]
pub use stamper::{StampEvent, Stamper};
pub use verify::{LogError, LogReport, RecordCheck, StampCheck, verify_log, verify_log_from};
#[cfg(feature = "keys")]
pub use writer::{DeviceLog, WriteError};
