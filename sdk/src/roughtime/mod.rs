//! Roughtime (draft-ietf-ntp-roughtime-19 and RFC 10049, wire version 1): the codec a node's
//! Roughtime server and its client share (`specs/facades.md` § Roughtime).
//!
//! Owns: the packet framing and message layout ([`wire`]), requests ([`request`]), the Merkle
//! tree over a batch of requests ([`merkle`]), and responses: building one from signed parts
//! and checking one as a client does ([`response`]), and chained measurements with their
//! malfeasance reports ([`chain`]). Never: I/O, clocks, or key storage (the server in
//! `timenode` holds the keys and reads the node's time).

pub mod chain;
pub mod merkle;
pub mod request;
pub mod response;
pub mod wire;

/// RFC 10049 ("version 1").
pub const VERSION_1: u32 = 1;
/// Drafts 12 to 19 (they share this number).
pub const VERSION_DRAFT: u32 = 0x8000_000c;
/// The versions this implementation speaks, ascending (the `VERS` list of a response).
pub const VERSIONS: [u32; 2] = [VERSION_1, VERSION_DRAFT];

/// Which context strings a version signs with.
pub fn contexts(version: u32) -> (&'static [u8], &'static [u8]) {
    if version == VERSION_1 {
        (
            b"Roughtime v1 response signature\x00",
            b"Roughtime v1 delegation signature\x00",
        )
    } else {
        (
            b"RoughTime v1 response signature\x00",
            b"RoughTime v1 delegation signature\x00",
        )
    }
}

/// The version to answer a request offering `offered` with: version 1 over the draft, or
/// `None` when the two share none (the request is then ignored).
pub fn choose_version(offered: impl IntoIterator<Item = u32>) -> Option<u32> {
    let mut best = None;
    for v in offered {
        if v == VERSION_1 {
            return Some(VERSION_1);
        }
        if v == VERSION_DRAFT {
            best = Some(VERSION_DRAFT);
        }
    }
    best
}

/// A tag as the wire carries it: up to four ASCII bytes, zero-padded, read as a little-endian
/// `u32` (so tags sort by that number).
pub const fn tag(name: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*name)
}

/// The tags this implementation reads or writes.
pub mod tags {
    use super::tag;
    /// Signature.
    pub const SIG: u32 = tag(b"SIG\0");
    /// Version (request: the offered list; SREP: the chosen one).
    pub const VER: u32 = tag(b"VER\0");
    /// Server key hash in a request.
    pub const SRV: u32 = tag(b"SRV\0");
    /// Nonce.
    pub const NONC: u32 = tag(b"NONC");
    /// Delegation.
    pub const DELE: u32 = tag(b"DELE");
    /// Message type: 0 request, 1 response.
    pub const TYPE: u32 = tag(b"TYPE");
    /// Merkle path.
    pub const PATH: u32 = tag(b"PATH");
    /// Radius, seconds.
    pub const RADI: u32 = tag(b"RADI");
    /// Online public key.
    pub const PUBK: u32 = tag(b"PUBK");
    /// Midpoint, seconds since the epoch.
    pub const MIDP: u32 = tag(b"MIDP");
    /// Signed response.
    pub const SREP: u32 = tag(b"SREP");
    /// Versions the server speaks.
    pub const VERS: u32 = tag(b"VERS");
    /// Delegation start.
    pub const MINT: u32 = tag(b"MINT");
    /// Merkle root.
    pub const ROOT: u32 = tag(b"ROOT");
    /// Certificate.
    pub const CERT: u32 = tag(b"CERT");
    /// Delegation end.
    pub const MAXT: u32 = tag(b"MAXT");
    /// Leaf index.
    pub const INDX: u32 = tag(b"INDX");
    /// Padding.
    pub const ZZZZ: u32 = tag(b"ZZZZ");
    /// tickchain's extension inside SREP: the latest final tick when the response was signed,
    /// `height u64 LE | second u64 LE | tick hash 32`.
    pub const TICK: u32 = tag(b"TICK");
}
