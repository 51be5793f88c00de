//! `TimeStampReq` (RFC 3161 §2.4.1): what a client asks, read strictly, with the failure an
//! answer must name when it cannot be granted.
//!
//! Owns: parsing a request and mapping each way it can be unacceptable to a `PKIFailureInfo`
//! bit. Never: signing, or deciding the time.

use super::der::{self, DerError, Reader};
use super::{SHA256_OID, TICKCHAIN_POLICY_OID};
use crate::Digest;

/// The largest request read (a SHA-256 request is under 100 bytes; generous room for a policy,
/// a nonce and a client's extensions, which are then refused by name).
pub const MAX_REQUEST_BYTES: usize = 4096;
/// The longest nonce echoed, in contents octets (OpenSSL sends 8; 33 holds any positive
/// 256-bit nonce with its sign octet).
pub const MAX_NONCE_BYTES: usize = 33;

/// `PKIFailureInfo` bits (RFC 3161 §2.4.2) this TSA answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `badAlg` (0): a hash algorithm other than SHA-256.
    BadAlg,
    /// `badRequest` (2): a request this TSA does not permit.
    BadRequest,
    /// `badDataFormat` (5): not a DER `TimeStampReq` of version 1, or a wrong imprint length.
    BadDataFormat,
    /// `timeNotAvailable` (14): the node cannot put the digest in a final tick now.
    TimeNotAvailable,
    /// `unacceptedPolicy` (15): a policy other than tickchain's.
    UnacceptedPolicy,
    /// `unacceptedExtension` (16): any request extension.
    UnacceptedExtension,
    /// `systemFailure` (25).
    SystemFailure,
}

impl Failure {
    /// The bit number in `PKIFailureInfo`.
    pub fn bit(self) -> u8 {
        match self {
            Failure::BadAlg => 0,
            Failure::BadRequest => 2,
            Failure::BadDataFormat => 5,
            Failure::TimeNotAvailable => 14,
            Failure::UnacceptedPolicy => 15,
            Failure::UnacceptedExtension => 16,
            Failure::SystemFailure => 25,
        }
    }

    /// The RFC's name of the bit.
    pub fn name(self) -> &'static str {
        match self {
            Failure::BadAlg => "badAlg",
            Failure::BadRequest => "badRequest",
            Failure::BadDataFormat => "badDataFormat",
            Failure::TimeNotAvailable => "timeNotAvailable",
            Failure::UnacceptedPolicy => "unacceptedPolicy",
            Failure::UnacceptedExtension => "unacceptedExtension",
            Failure::SystemFailure => "systemFailure",
        }
    }
}

/// Why a request is refused: the failure bit and a sentence for `statusString`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({})", .message, .failure.name())]
pub struct Refusal {
    /// The `PKIFailureInfo` bit.
    pub failure: Failure,
    /// What was wrong, for the client.
    pub message: String,
}

impl Refusal {
    /// A refusal with `failure` and `message`.
    pub fn new(failure: Failure, message: impl Into<String>) -> Refusal {
        Refusal {
            failure,
            message: message.into(),
        }
    }
}

/// A granted-able request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaRequest {
    /// The imprint's `AlgorithmIdentifier`, exactly as sent (echoed in the token).
    pub hash_algorithm: Vec<u8>,
    /// The SHA-256 of the document: the digest tickchain stamps.
    pub digest: Digest,
    /// Whether the client asked for the policy by OID (it can only be tickchain's).
    pub policy_requested: bool,
    /// The nonce's INTEGER contents, exactly as sent, to echo.
    pub nonce: Option<Vec<u8>>,
    /// Whether the signer's certificate goes in the token.
    pub cert_req: bool,
}

fn format(e: DerError) -> Refusal {
    Refusal::new(
        Failure::BadDataFormat,
        format!("not a DER TimeStampReq: {e}"),
    )
}

impl TsaRequest {
    /// Reads a DER `TimeStampReq`, or says which failure a reply must carry.
    pub fn parse(bytes: &[u8]) -> Result<TsaRequest, Refusal> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(Refusal::new(
                Failure::BadDataFormat,
                format!(
                    "request of {} bytes; at most {MAX_REQUEST_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let req = der::single(bytes, der::SEQUENCE, "TimeStampReq SEQUENCE").map_err(format)?;
        let mut r = Reader::new(req.value);
        let version = r.expect(der::INTEGER, "version").map_err(format)?;
        if der::small_uint(version.value).map_err(format)? != 1 {
            return Err(Refusal::new(
                Failure::BadDataFormat,
                "TimeStampReq version must be 1",
            ));
        }
        let imprint = r.expect(der::SEQUENCE, "messageImprint").map_err(format)?;
        let mut m = Reader::new(imprint.value);
        let alg = m.expect(der::SEQUENCE, "hashAlgorithm").map_err(format)?;
        let hashed = m
            .expect(der::OCTET_STRING, "hashedMessage")
            .map_err(format)?;
        m.finish().map_err(format)?;
        let mut a = Reader::new(alg.value);
        let oid = a.expect(der::OID, "algorithm OID").map_err(format)?;
        if oid.value != SHA256_OID {
            return Err(Refusal::new(
                Failure::BadAlg,
                "only SHA-256 imprints (2.16.840.1.101.3.4.2.1) are accepted",
            ));
        }
        // Parameters: absent or NULL (RFC 5754 §2).
        if let Some(p) = a.optional(der::NULL).map_err(format)?
            && !p.value.is_empty()
        {
            return Err(format(DerError::Value("NULL with contents")));
        }
        a.finish().map_err(format)?;
        let digest: [u8; 32] = hashed.value.try_into().map_err(|_| {
            Refusal::new(
                Failure::BadDataFormat,
                format!("a SHA-256 imprint is 32 bytes, not {}", hashed.value.len()),
            )
        })?;
        let policy = r.optional(der::OID).map_err(format)?;
        if let Some(p) = policy
            && p.value != TICKCHAIN_POLICY_OID
        {
            return Err(Refusal::new(
                Failure::UnacceptedPolicy,
                format!("this TSA issues under policy {} only", super::POLICY),
            ));
        }
        let nonce = match r.optional(der::INTEGER).map_err(format)? {
            Some(n) => {
                der::check_integer(n.value).map_err(format)?;
                if n.value.len() > MAX_NONCE_BYTES {
                    return Err(Refusal::new(
                        Failure::BadRequest,
                        format!("nonce over {MAX_NONCE_BYTES} bytes"),
                    ));
                }
                Some(n.value.to_vec())
            }
            None => None,
        };
        let cert_req = match r.optional(der::BOOLEAN).map_err(format)? {
            Some(b) if b.value == [0xff] => true,
            // DER leaves a DEFAULT value out; FALSE written out (as some BER encoders do) is the
            // one departure from DER tolerated (specs/facades.md §4), anything else is not.
            Some(b) if b.value == [0x00] => false,
            Some(_) => return Err(format(DerError::Value("BOOLEAN other than 00 or ff"))),
            None => false,
        };
        if r.optional(0xa0).map_err(format)?.is_some() {
            return Err(Refusal::new(
                Failure::UnacceptedExtension,
                "this TSA accepts no request extensions",
            ));
        }
        r.finish().map_err(format)?;
        Ok(TsaRequest {
            hash_algorithm: alg.whole.to_vec(),
            digest: Digest(digest),
            policy_requested: policy.is_some(),
            nonce,
            cert_req,
        })
    }

    /// A DER request for `digest` (what `openssl ts -query -sha256 -digest … [-cert]` sends).
    pub fn encode(digest: &Digest, nonce: Option<u64>, cert_req: bool) -> Vec<u8> {
        let alg = der::constructed(der::SEQUENCE, &[&der::tlv(der::OID, SHA256_OID)]);
        let imprint = der::constructed(
            der::SEQUENCE,
            &[&alg, &der::tlv(der::OCTET_STRING, &digest.0)],
        );
        let mut parts = vec![der::uint(1), imprint];
        if let Some(n) = nonce {
            parts.push(der::uint(n));
        }
        if cert_req {
            parts.push(der::tlv(der::BOOLEAN, &[0xff]));
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        der::constructed(der::SEQUENCE, &refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> Digest {
        Digest([0x5a; 32])
    }

    #[test]
    fn an_encoded_request_parses_back() {
        let bytes = TsaRequest::encode(&digest(), Some(0x8000_0000_0000_0001), true);
        let r = TsaRequest::parse(&bytes).unwrap();
        assert_eq!(r.digest, digest());
        assert!(r.cert_req);
        assert_eq!(
            r.nonce.as_deref(),
            Some(&[0, 0x80, 0, 0, 0, 0, 0, 0, 1][..])
        );
        assert!(!r.policy_requested);
    }

    #[test]
    fn each_refusal_names_its_failure() {
        let ok = TsaRequest::encode(&digest(), None, false);
        let refuse = |b: &[u8]| TsaRequest::parse(b).unwrap_err().failure;
        assert_eq!(refuse(&ok[..ok.len() - 1]), Failure::BadDataFormat);
        assert_eq!(refuse(b"not der at all"), Failure::BadDataFormat);
        // SHA-1 imprint.
        let sha1 = der::constructed(
            der::SEQUENCE,
            &[
                &der::uint(1),
                &der::constructed(
                    der::SEQUENCE,
                    &[
                        &der::constructed(
                            der::SEQUENCE,
                            &[&der::tlv(der::OID, &[0x2b, 0x0e, 0x03, 0x02, 0x1a])],
                        ),
                        &der::tlv(der::OCTET_STRING, &[1; 20]),
                    ],
                ),
            ],
        );
        assert_eq!(refuse(&sha1), Failure::BadAlg);
        // Version 2.
        let mut v2 = ok.clone();
        v2[4] = 2;
        assert_eq!(refuse(&v2), Failure::BadDataFormat);
        // A foreign policy, then an extension.
        let with = |extra: &[u8]| {
            let inner = &der::single(&ok, der::SEQUENCE, "req").unwrap().value;
            der::constructed(der::SEQUENCE, &[inner, extra])
        };
        assert_eq!(
            refuse(&with(&der::tlv(der::OID, &[0x2a, 0x03]))),
            Failure::UnacceptedPolicy
        );
        assert_eq!(
            refuse(&with(&der::tlv(0xa0, &der::tlv(der::SEQUENCE, &[])))),
            Failure::UnacceptedExtension
        );
        assert_eq!(
            refuse(&with(&der::tlv(der::INTEGER, &[1; 34]))),
            Failure::BadRequest
        );
        // Our own policy is accepted.
        let ours = TsaRequest::parse(&with(&der::tlv(der::OID, TICKCHAIN_POLICY_OID))).unwrap();
        assert!(ours.policy_requested);
    }
}
