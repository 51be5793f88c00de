//! Roughtime requests (draft-19 §5.1): what a server answers and what a client sends.
//!
//! Owns: the server's acceptance rules (1024 to 1472 bytes; `VER` a list of 1 to 32 ascending
//! versions sharing one with us; a 32-byte `NONC`; `TYPE` 0; `SRV`, when present, 32 bytes;
//! unknown tags ignored) and building a client's request padded to 1024 bytes. Never: answers
//! anything (a request that fails a rule is ignored, with no error reply).

use super::wire::{self, Message, WireError};
use super::{choose_version, tags};
use sha2::{Digest, Sha512};

/// Smallest request answered: a response is never larger than its request.
pub const MIN_REQUEST: usize = 1024;
/// Largest request accepted (an Ethernet MTU's UDP payload).
pub const MAX_REQUEST: usize = 1472;

/// An accepted request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The whole packet, as received (its hash is the request's Merkle leaf).
    pub packet: &'a [u8],
    /// The client's nonce.
    pub nonce: [u8; 32],
    /// The version to answer with.
    pub version: u32,
    /// The long-term key the client asks for (`SHA-512(0xff ‖ key)[..32]`), if it names one.
    pub srv: Option<[u8; 32]>,
}

/// Checks `packet` against the server's rules.
pub fn parse(packet: &[u8]) -> Result<Request<'_>, WireError> {
    if !(MIN_REQUEST..=MAX_REQUEST).contains(&packet.len()) {
        return Err(WireError::Value("request size (1024 to 1472 bytes)"));
    }
    let m = Message::parse(wire::unframe(packet)?)?;
    if m.u32(tags::TYPE, "TYPE")? != 0 {
        return Err(WireError::Value("TYPE"));
    }
    let ver = m.need(tags::VER, "VER")?;
    if ver.is_empty() || ver.len() % 4 != 0 || ver.len() > 4 * 32 {
        return Err(WireError::Value("VER"));
    }
    let versions = ver
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")));
    let mut prev = None;
    for v in versions.clone() {
        if prev.is_some_and(|p| p >= v) {
            return Err(WireError::Value("VER"));
        }
        prev = Some(v);
    }
    let version = choose_version(versions).ok_or(WireError::Value("VER: no common version"))?;
    let nonce = m.array(tags::NONC, "NONC")?;
    let srv = match m.get(tags::SRV) {
        None => None,
        Some(v) => Some(v.try_into().map_err(|_| WireError::Value("SRV"))?),
    };
    Ok(Request {
        packet,
        nonce,
        version,
        srv,
    })
}

/// The `SRV` value naming long-term key `key`.
pub fn srv_of(key: &[u8; 32]) -> [u8; 32] {
    let mut s = Sha512::new();
    s.update([0xff]);
    s.update(key);
    s.finalize()[..32].try_into().expect("32 of 64 bytes")
}

/// A client's request offering `versions` (ascending) with `nonce`, naming `srv` if given,
/// padded with `ZZZZ` to exactly 1024 bytes; written into `out`.
pub fn build(out: &mut Vec<u8>, versions: &[u32], nonce: &[u8; 32], srv: Option<&[u8; 32]>) {
    let ver: Vec<u8> = versions.iter().flat_map(|v| v.to_le_bytes()).collect();
    let srv_bytes = srv.map(srv_of);
    let mut fields: Vec<(u32, &[u8])> = vec![(tags::VER, &ver)];
    if let Some(s) = &srv_bytes {
        fields.push((tags::SRV, s));
    }
    fields.push((tags::NONC, nonce));
    fields.push((tags::TYPE, &[0; 4]));
    let n = fields.len() + 1;
    let used: usize = 12 + 8 * n + fields.iter().map(|(_, v)| v.len()).sum::<usize>();
    let pad = vec![0u8; MIN_REQUEST - used];
    fields.push((tags::ZZZZ, &pad));
    let mut message = Vec::new();
    wire::write_message(&mut message, &fields);
    wire::frame(out, &message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roughtime::{VERSION_1, VERSION_DRAFT};

    #[test]
    fn a_built_request_is_1024_bytes_and_parses_with_the_best_version() {
        let mut p = Vec::new();
        build(
            &mut p,
            &[VERSION_1, VERSION_DRAFT],
            &[7; 32],
            Some(&[9; 32]),
        );
        assert_eq!(p.len(), 1024);
        let r = parse(&p).unwrap();
        assert_eq!(r.version, VERSION_1);
        assert_eq!(r.nonce, [7; 32]);
        assert_eq!(r.srv, Some(srv_of(&[9; 32])));
        build(&mut p, &[VERSION_DRAFT], &[7; 32], None);
        assert_eq!(parse(&p).unwrap().version, VERSION_DRAFT);
    }

    #[test]
    fn requests_the_draft_says_to_ignore_are_refused() {
        let mut p = Vec::new();
        build(&mut p, &[0x8000_000b], &[7; 32], None);
        assert_eq!(
            parse(&p).unwrap_err(),
            WireError::Value("VER: no common version")
        );
        build(&mut p, &[VERSION_DRAFT], &[7; 32], None);
        assert!(parse(&p[..1000]).is_err(), "short");
        let mut long = p.clone();
        long.resize(1473, 0);
        assert!(parse(&long).is_err(), "longer than 1472");
    }
}
