//! Attestation messages: ring members ask each other to co-sign an anchor, over the ring's QUIC
//! connections beside the consensus votes.
//!
//! Owns: the two messages and their bytes (kinds 0x72 and 0x73 of the namespace in
//! [`crate::peer`]). Never: decides whether to sign (the node checks the anchor against its own
//! final ticks first).
//!
//! Layout (big-endian, `tickchain_sdk::encoding`): request `0x72 | chain_id u64 | contract 20 |
//! from u64 | to u64 | second u64 | root 32`; reply `0x73 |` the same fields `| address 20 |
//! signature 65`.

use tickchain_sdk::anchor::{Anchor, AnchorDomain, EvmAddress, EvmSignature};
use tickchain_sdk::encoding::{DecodeError, Reader, Writer};
use tickchain_sdk::{Hash, Height, Second};

/// Kind byte of a request to co-sign.
pub const ATTEST_REQUEST: u8 = 0x72;
/// Kind byte of a signature.
pub const ATTEST_REPLY: u8 = 0x73;

/// An attestation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestMessage {
    /// "Please co-sign this anchor for this chain's contract."
    Request {
        /// The EIP-712 domain (chain id and contract).
        domain: AnchorDomain,
        /// The anchor.
        anchor: Anchor,
    },
    /// A co-signature.
    Reply {
        /// The domain signed for.
        domain: AnchorDomain,
        /// The anchor signed.
        anchor: Anchor,
        /// The signer's attestation address (as bound in genesis).
        address: EvmAddress,
        /// secp256k1 over `anchor.digest(domain)`.
        signature: EvmSignature,
    },
}

/// True when `bytes` is an attestation message.
pub fn is_attest_message(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(&ATTEST_REQUEST) | Some(&ATTEST_REPLY))
}

fn put(w: &mut Writer, domain: &AnchorDomain, anchor: &Anchor) {
    w.u64(domain.chain_id)
        .bytes(&domain.contract.0)
        .u64(anchor.from.0)
        .u64(anchor.to.0)
        .u64(anchor.second.0)
        .bytes(&anchor.root.0);
}

fn get(r: &mut Reader<'_>) -> Result<(AnchorDomain, Anchor), DecodeError> {
    let domain = AnchorDomain {
        chain_id: r.u64("attest.chain_id")?,
        contract: EvmAddress(r.array("attest.contract")?),
    };
    let anchor = Anchor {
        from: Height(r.u64("attest.from")?),
        to: Height(r.u64("attest.to")?),
        second: Second(r.u64("attest.second")?),
        root: Hash(r.array("attest.root")?),
    };
    Ok((domain, anchor))
}

impl AttestMessage {
    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            AttestMessage::Request { domain, anchor } => {
                w.u8(ATTEST_REQUEST);
                put(&mut w, domain, anchor);
            }
            AttestMessage::Reply {
                domain,
                anchor,
                address,
                signature,
            } => {
                w.u8(ATTEST_REPLY);
                put(&mut w, domain, anchor);
                w.bytes(&address.0).bytes(&signature.0);
            }
        }
        w.finish()
    }

    /// Decodes a whole message; anything else (truncated, trailing bytes, unknown kind) is an
    /// error naming the field.
    pub fn decode(bytes: &[u8]) -> Result<AttestMessage, DecodeError> {
        let mut r = Reader::new(bytes);
        let msg = match r.u8("attest.kind")? {
            ATTEST_REQUEST => {
                let (domain, anchor) = get(&mut r)?;
                AttestMessage::Request { domain, anchor }
            }
            ATTEST_REPLY => {
                let (domain, anchor) = get(&mut r)?;
                AttestMessage::Reply {
                    domain,
                    anchor,
                    address: EvmAddress(r.array("attest.address")?),
                    signature: EvmSignature(r.array("attest.signature")?),
                }
            }
            other => {
                return Err(DecodeError::Invalid {
                    field: "attest.kind",
                    reason: format!("expected 0x72 or 0x73, found {other:#04x}"),
                });
            }
        };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_messages_round_trip_and_every_truncation_is_an_error() {
        let domain = AnchorDomain {
            chain_id: 137,
            contract: EvmAddress([9; 20]),
        };
        let anchor = Anchor {
            from: Height(1),
            to: Height(10),
            second: Second(1_800_000_010),
            root: Hash([4; 32]),
        };
        for m in [
            AttestMessage::Request { domain, anchor },
            AttestMessage::Reply {
                domain,
                anchor,
                address: EvmAddress([1; 20]),
                signature: EvmSignature([2; 65]),
            },
        ] {
            let bytes = m.encode();
            assert!(is_attest_message(&bytes));
            assert_eq!(AttestMessage::decode(&bytes), Ok(m.clone()));
            for cut in 0..bytes.len() {
                assert!(AttestMessage::decode(&bytes[..cut]).is_err());
            }
            let mut long = bytes.clone();
            long.push(0);
            assert!(AttestMessage::decode(&long).is_err());
        }
        assert!(AttestMessage::decode(&[0x70]).is_err());
    }
}
