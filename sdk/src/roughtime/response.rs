//! Roughtime responses (draft-19 §5.2): built by a server from a batch's signed parts, and
//! checked by a client (§5.4).
//!
//! Owns: the `SREP`, `DELE` and `CERT` messages, the response layout (`SIG NONC TYPE PATH SREP
//! CERT INDX`), and the client's checks: delegation signed by the long-term key, `MINT <= MIDP
//! <= MAXT`, the request's leaf proven to `ROOT`, `SREP` signed by the online key, the nonce
//! echoed. Never: signs (the server holds the keys) or reads a clock.

use super::merkle::{self, Hash32};
use super::wire::{self, Message, WireError};
use super::{contexts, tags};
use ed25519_dalek::{Signature, VerifyingKey};

/// The latest final tick a response names inside `SREP` (tag `TICK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickRef {
    /// Its height.
    pub height: u64,
    /// Its UTC second.
    pub second: u64,
    /// Its hash.
    pub hash: [u8; 32],
}

impl TickRef {
    /// The 48-byte `TICK` value.
    pub fn to_bytes(&self) -> [u8; 48] {
        let mut b = [0; 48];
        b[..8].copy_from_slice(&self.height.to_le_bytes());
        b[8..16].copy_from_slice(&self.second.to_le_bytes());
        b[16..].copy_from_slice(&self.hash);
        b
    }

    fn from_bytes(b: &[u8]) -> Option<TickRef> {
        let b: &[u8; 48] = b.try_into().ok()?;
        Some(TickRef {
            height: u64::from_le_bytes(b[..8].try_into().ok()?),
            second: u64::from_le_bytes(b[8..16].try_into().ok()?),
            hash: b[16..].try_into().ok()?,
        })
    }
}

/// The signed part of a batch's responses: the chosen version, the time, the tree's root, and
/// the tick extension, written into `out`; allocates nothing once `out` has the capacity.
pub fn srep(
    out: &mut Vec<u8>,
    version: u32,
    radi: u32,
    midp: u64,
    root: &Hash32,
    tick: Option<&TickRef>,
) {
    let mut versions = [0u8; 4 * super::VERSIONS.len()];
    for (chunk, v) in versions.chunks_exact_mut(4).zip(super::VERSIONS) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    let (ver, radi, midp) = (
        version.to_le_bytes(),
        radi.to_le_bytes(),
        midp.to_le_bytes(),
    );
    match tick.map(TickRef::to_bytes) {
        Some(t) => wire::write_message(
            out,
            &[
                (tags::VER, &ver),
                (tags::RADI, &radi),
                (tags::TICK, &t),
                (tags::MIDP, &midp),
                (tags::VERS, &versions),
                (tags::ROOT, root),
            ],
        ),
        None => wire::write_message(
            out,
            &[
                (tags::VER, &ver),
                (tags::RADI, &radi),
                (tags::MIDP, &midp),
                (tags::VERS, &versions),
                (tags::ROOT, root),
            ],
        ),
    }
}

/// The delegation of online key `pubk` for `mint..=maxt` (seconds), written into `out`.
pub fn dele(out: &mut Vec<u8>, pubk: &[u8; 32], mint: u64, maxt: u64) {
    wire::write_message(
        out,
        &[
            (tags::PUBK, pubk),
            (tags::MINT, &mint.to_le_bytes()),
            (tags::MAXT, &maxt.to_le_bytes()),
        ],
    );
}

/// The certificate: the long-term key's signature over `dele`, and `dele`, written into `out`.
pub fn cert(out: &mut Vec<u8>, signature: &[u8; 64], dele: &[u8]) {
    wire::write_message(out, &[(tags::SIG, signature), (tags::DELE, dele)]);
}

/// One response packet, written into `out`; allocates nothing once `out` has the capacity.
pub fn write(
    out: &mut Vec<u8>,
    signature: &[u8; 64],
    nonce: &[u8; 32],
    path: &[u8],
    srep: &[u8],
    cert: &[u8],
    index: u32,
) {
    wire::write_packet(
        out,
        &[
            (tags::SIG, signature),
            (tags::NONC, nonce),
            (tags::TYPE, &1u32.to_le_bytes()),
            (tags::PATH, path),
            (tags::SREP, srep),
            (tags::CERT, cert),
            (tags::INDX, &index.to_le_bytes()),
        ],
    );
}

/// A response that passed every client check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The version it was signed under.
    pub version: u32,
    /// Midpoint, seconds since the epoch.
    pub midp: u64,
    /// Radius, seconds: true time was within `midp ± radi` when the server signed.
    pub radi: u32,
    /// The online key's validity, seconds.
    pub mint: u64,
    /// See `mint`.
    pub maxt: u64,
    /// The tickchain extension, when the server is a tickchain node.
    pub tick: Option<TickRef>,
}

/// Why a response fails the client's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Malformed.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// `TYPE` is not 1, or the nonce is not the request's.
    #[error("not the response to this request (TYPE or NONC)")]
    NotOurs,
    /// The delegation is not signed by the long-term key.
    #[error("the delegation is not signed by the server's long-term key")]
    Delegation,
    /// `MIDP` outside `MINT..=MAXT`.
    #[error("the midpoint is outside the online key's validity")]
    Validity,
    /// The request is not under `ROOT`.
    #[error("the request is not in the signed Merkle tree")]
    Merkle,
    /// `SREP` is not signed by the online key.
    #[error("the signed response's signature does not verify")]
    Signature,
    /// `RADI` is 0.
    #[error("radius 0")]
    Radius,
    /// Signed under a version the request did not offer, or one we do not speak.
    #[error("signed under a version the request did not offer")]
    Version,
}

fn ed25519_ok(key: &[u8; 32], context: &[u8], msg: &[u8], sig: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(key) else {
        return false;
    };
    let mut signed = Vec::with_capacity(context.len() + msg.len());
    signed.extend_from_slice(context);
    signed.extend_from_slice(msg);
    key.verify_strict(&signed, &Signature::from_bytes(sig))
        .is_ok()
}

/// Checks `response` to `request` against the server's long-term key.
pub fn verify(
    response: &[u8],
    request: &[u8],
    longterm: &[u8; 32],
) -> Result<Verified, ResponseError> {
    let m = Message::parse(wire::unframe(response)?)?;
    let req = Message::parse(wire::unframe(request)?)?;
    let nonce = req.need(tags::NONC, "request NONC")?;
    if m.u32(tags::TYPE, "TYPE")? != 1 || m.get(tags::NONC) != Some(nonce) {
        return Err(ResponseError::NotOurs);
    }
    let srep_bytes = m.need(tags::SREP, "SREP")?;
    let srep = Message::parse(srep_bytes)?;
    let version = srep.u32(tags::VER, "SREP.VER")?;
    // Signed under a version the request offered and that we know the context strings of.
    let offered = req
        .need(tags::VER, "request VER")?
        .chunks_exact(4)
        .any(|c| c == version.to_le_bytes());
    if !offered || !super::VERSIONS.contains(&version) {
        return Err(ResponseError::Version);
    }
    let (srep_context, dele_context) = contexts(version);
    let cert = Message::parse(m.need(tags::CERT, "CERT")?)?;
    let dele_bytes = cert.need(tags::DELE, "DELE")?;
    let dele = Message::parse(dele_bytes)?;
    if !ed25519_ok(
        longterm,
        dele_context,
        dele_bytes,
        &cert.array(tags::SIG, "CERT.SIG")?,
    ) {
        return Err(ResponseError::Delegation);
    }
    let (mint, maxt) = (dele.u64(tags::MINT, "MINT")?, dele.u64(tags::MAXT, "MAXT")?);
    let midp = srep.u64(tags::MIDP, "MIDP")?;
    if !(mint..=maxt).contains(&midp) {
        return Err(ResponseError::Validity);
    }
    let root: Hash32 = srep.array(tags::ROOT, "ROOT")?;
    let index = m.u32(tags::INDX, "INDX")?;
    if !merkle::verify(
        merkle::leaf(request),
        index,
        m.need(tags::PATH, "PATH")?,
        &root,
    ) {
        return Err(ResponseError::Merkle);
    }
    let online: [u8; 32] = dele.array(tags::PUBK, "PUBK")?;
    if !ed25519_ok(
        &online,
        srep_context,
        srep_bytes,
        &m.array(tags::SIG, "SIG")?,
    ) {
        return Err(ResponseError::Signature);
    }
    let radi = srep.u32(tags::RADI, "RADI")?;
    if radi == 0 {
        return Err(ResponseError::Radius);
    }
    Ok(Verified {
        version,
        midp,
        radi,
        mint,
        maxt,
        tick: srep.get(tags::TICK).and_then(TickRef::from_bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roughtime::request::MIN_REQUEST;
    use crate::roughtime::{VERSION_1, merkle::MAX_DEPTH};

    #[test]
    fn the_largest_response_fits_in_the_smallest_request() {
        let (mut s, mut d, mut c, mut out) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let tick = TickRef {
            height: u64::MAX,
            second: u64::MAX,
            hash: [1; 32],
        };
        srep(&mut s, VERSION_1, 1, 1, &[0; 32], Some(&tick));
        dele(&mut d, &[0; 32], 0, 1);
        cert(&mut c, &[0; 64], &d);
        write(
            &mut out,
            &[0; 64],
            &[0; 32],
            &[0; 32 * MAX_DEPTH],
            &s,
            &c,
            63,
        );
        assert_eq!(out.len(), 668);
        assert!(out.len() <= MIN_REQUEST);
    }
}
