//! Issuing: the `TSTInfo`, the CMS `SignedData` that signs it (RFC 5652, one ECDSA P-256
//! signer, ESS `signingCertificateV2`), and the `TimeStampResp` around it (RFC 3161 §2.4.2).
//!
//! Owns: the exact bytes of a token and of a refusal. Never: the private key (the caller signs
//! the signed attributes), randomness (the caller picks the serial) or the time (it comes from
//! the proof's tick).

use super::der::{self, constructed, tlv};
use super::request::{Refusal, TsaRequest};
use super::signer::SignerCertificate;
use super::{
    CONTENT_TYPE_OID, ECDSA_SHA256_OID, ID_CT_TSTINFO, ID_SIGNED_DATA, MESSAGE_DIGEST_OID,
    PROOF_EXTENSION_OID, SHA256_OID, SIGNING_CERTIFICATE_V2_OID, TICKCHAIN_POLICY_OID,
};
use sha2::{Digest as _, Sha256};

/// `accuracy`: how far the time the token states may be from the true time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accuracy {
    /// In microseconds (written as seconds, millis and micros).
    pub micros: u64,
}

impl Accuracy {
    fn encode(self) -> Vec<u8> {
        let seconds = self.micros / 1_000_000;
        let millis = self.micros / 1000 % 1000;
        let micros = self.micros % 1000;
        let mut parts = vec![der::uint(seconds)];
        if millis > 0 {
            parts.push(implicit_int(0x80, millis));
        }
        if micros > 0 {
            parts.push(implicit_int(0x81, micros));
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        constructed(der::SEQUENCE, &refs)
    }
}

/// `[n] IMPLICIT INTEGER` of a value below 1000.
fn implicit_int(tag: u8, n: u64) -> Vec<u8> {
    let mut enc = der::uint(n);
    enc[0] = tag;
    enc
}

/// What a token states, besides the request it answers.
#[derive(Debug, Clone)]
pub struct Statement<'a> {
    /// `genTime`: the UTC second of the final tick holding the digest (POSIX seconds).
    pub gen_time: u64,
    /// From the tick's certified window.
    pub accuracy: Accuracy,
    /// `serialNumber`: unique per token, positive, at most 160 bits (big-endian).
    pub serial: [u8; 16],
    /// The tickchain proof of the same digest, compact form (`specs/proof.md`), carried in the
    /// non-critical extension [`super::PROOF_EXTENSION`].
    pub proof: &'a [u8],
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The tick's second is past year 9999.
    #[error("second {0} is past what GeneralizedTime holds")]
    TimeOutOfRange(u64),
    /// The signer failed.
    #[error("signing: {0}")]
    Sign(String),
}

/// The DER `TSTInfo` for `request` and `statement`, with `tsa` naming the signer's subject.
pub fn tst_info(
    request: &TsaRequest,
    statement: &Statement<'_>,
    signer: &SignerCertificate,
) -> Result<Vec<u8>, IssueError> {
    let imprint = constructed(
        der::SEQUENCE,
        &[
            &request.hash_algorithm,
            &tlv(der::OCTET_STRING, &request.digest.0),
        ],
    );
    let mut serial = statement.serial;
    serial[0] &= 0x7f; // positive
    let gen_time = der::generalized_time(statement.gen_time)
        .ok_or(IssueError::TimeOutOfRange(statement.gen_time))?;
    let extension = constructed(
        der::SEQUENCE,
        &[
            &tlv(der::OID, PROOF_EXTENSION_OID),
            &tlv(der::OCTET_STRING, statement.proof),
        ],
    );
    let mut parts = vec![
        der::uint(1),
        tlv(der::OID, TICKCHAIN_POLICY_OID),
        imprint,
        der::uint_bytes(&serial),
        gen_time,
        statement.accuracy.encode(),
        // ordering: DEFAULT FALSE, so absent (tokens of one tick share its genTime).
    ];
    if let Some(nonce) = &request.nonce {
        parts.push(tlv(der::INTEGER, nonce));
    }
    // tsa [0] GeneralName: directoryName [4] (explicit, Name being a CHOICE).
    parts.push(tlv(0xa0, &tlv(0xa4, signer.subject())));
    parts.push(tlv(0xa1, &extension)); // extensions [1] IMPLICIT
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Ok(constructed(der::SEQUENCE, &refs))
}

fn sha256_alg() -> Vec<u8> {
    constructed(der::SEQUENCE, &[&tlv(der::OID, SHA256_OID)])
}

fn attribute(oid: &[u8], value: &[u8]) -> Vec<u8> {
    constructed(
        der::SEQUENCE,
        &[&tlv(der::OID, oid), &der::set_of(vec![value.to_vec()])],
    )
}

/// The signed attributes of a token over `tst_info`: content type, message digest and ESS
/// `signingCertificateV2` (the SHA-256 of the signer's certificate). Returned as the DER
/// `SET OF` that is signed; in the `SignerInfo` its tag becomes `[0]`.
pub fn signed_attributes(tst_info: &[u8], signer: &SignerCertificate) -> Vec<u8> {
    let digest = Sha256::digest(tst_info);
    // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }; ESSCertIDv2 with
    // the hash algorithm left at its DEFAULT (SHA-256) and no issuerSerial.
    let ess = constructed(
        der::SEQUENCE,
        &[&constructed(
            der::SEQUENCE,
            &[&constructed(
                der::SEQUENCE,
                &[&tlv(der::OCTET_STRING, &signer.sha256())],
            )],
        )],
    );
    der::set_of(vec![
        attribute(CONTENT_TYPE_OID, &tlv(der::OID, ID_CT_TSTINFO)),
        attribute(MESSAGE_DIGEST_OID, &tlv(der::OCTET_STRING, &digest)),
        attribute(SIGNING_CERTIFICATE_V2_OID, &ess),
    ])
}

/// The `TimeStampToken` (a CMS `ContentInfo`) for `request`: `sign` gets the DER signed
/// attributes and returns the DER ECDSA-Sig-Value over their SHA-256.
pub fn token(
    request: &TsaRequest,
    statement: &Statement<'_>,
    signer: &SignerCertificate,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, IssueError> {
    let info = tst_info(request, statement, signer)?;
    let attrs = signed_attributes(&info, signer);
    let signature = sign(&attrs).map_err(IssueError::Sign)?;
    let mut implicit_attrs = attrs;
    implicit_attrs[0] = 0xa0;
    let signer_info = constructed(
        der::SEQUENCE,
        &[
            &der::uint(1),
            &constructed(der::SEQUENCE, &[signer.issuer(), signer.serial()]),
            &sha256_alg(),
            &implicit_attrs,
            &constructed(der::SEQUENCE, &[&tlv(der::OID, ECDSA_SHA256_OID)]),
            &tlv(der::OCTET_STRING, &signature),
        ],
    );
    let encap = constructed(
        der::SEQUENCE,
        &[
            &tlv(der::OID, ID_CT_TSTINFO),
            &tlv(0xa0, &tlv(der::OCTET_STRING, &info)),
        ],
    );
    let mut parts = vec![der::uint(3), der::set_of(vec![sha256_alg()]), encap];
    if request.cert_req {
        parts.push(tlv(0xa0, signer.der())); // certificates [0] IMPLICIT SET OF
    }
    parts.push(der::set_of(vec![signer_info]));
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let signed_data = constructed(der::SEQUENCE, &refs);
    Ok(constructed(
        der::SEQUENCE,
        &[&tlv(der::OID, ID_SIGNED_DATA), &tlv(0xa0, &signed_data)],
    ))
}

/// A `TimeStampResp` granting `token` (status 0).
pub fn granted(token: &[u8]) -> Vec<u8> {
    let status = constructed(der::SEQUENCE, &[&der::uint(0)]);
    constructed(der::SEQUENCE, &[&status, token])
}

/// A `TimeStampResp` refusing (status 2, `rejection`) with the refusal's text and failure bit.
pub fn rejection(refusal: &Refusal) -> Vec<u8> {
    let text = constructed(
        der::SEQUENCE,
        &[&tlv(der::UTF8_STRING, refusal.message.as_bytes())],
    );
    let status = constructed(
        der::SEQUENCE,
        &[&der::uint(2), &text, &der::named_bit(refusal.failure.bit())],
    );
    constructed(der::SEQUENCE, &[&status])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Digest;
    use crate::rfc3161::read::{Reply, read};

    /// A syntactically valid certificate (nothing checks its signature here).
    fn certificate() -> SignerCertificate {
        let name = constructed(der::SEQUENCE, &[]);
        let alg = constructed(der::SEQUENCE, &[&tlv(der::OID, &[0x2a, 0x03])]);
        let validity = constructed(
            der::SEQUENCE,
            &[
                &der::generalized_time(0).unwrap(),
                &der::generalized_time(4_000_000_000).unwrap(),
            ],
        );
        let tbs = constructed(
            der::SEQUENCE,
            &[
                &tlv(0xa0, &der::uint(2)),
                &der::uint(7),
                &alg,
                &name,
                &validity,
                &name,
                &constructed(der::SEQUENCE, &[&alg, &tlv(der::BIT_STRING, &[0, 4, 1])]),
            ],
        );
        let cert = constructed(
            der::SEQUENCE,
            &[&tbs, &alg, &tlv(der::BIT_STRING, &[0, 1, 2])],
        );
        SignerCertificate::parse(&cert).unwrap()
    }

    fn issue(cert_req: bool, nonce: Option<u64>, micros: u64) -> Vec<u8> {
        let request =
            TsaRequest::parse(&TsaRequest::encode(&Digest([3; 32]), nonce, cert_req)).unwrap();
        let statement = Statement {
            gen_time: 1_800_000_000,
            accuracy: Accuracy { micros },
            serial: [0xff; 16],
            proof: b"proof",
        };
        granted(&token(&request, &statement, &certificate(), |_| Ok(vec![0x30, 0])).unwrap())
    }

    #[test]
    fn accuracy_reads_back_for_every_shape() {
        for micros in [
            0, 1, 999, 1000, 1001, 999_999, 1_000_000, 1_000_001, 22_504, 61_000_000,
        ] {
            let Reply::Token(info) = read(&issue(true, None, micros)).unwrap() else {
                panic!("refused");
            };
            assert_eq!(info.accuracy_micros, Some(micros), "{micros} µs");
        }
    }

    #[test]
    fn certificates_only_on_request_and_the_nonce_echoed() {
        let Reply::Token(with) = read(&issue(true, Some(0x8000_0000_0000_0001), 5)).unwrap() else {
            panic!("refused");
        };
        assert!(with.has_certificates);
        assert_eq!(
            with.nonce.as_deref(),
            Some(&[0, 0x80, 0, 0, 0, 0, 0, 0, 1][..])
        );
        let Reply::Token(without) = read(&issue(false, None, 5)).unwrap() else {
            panic!("refused");
        };
        assert!(!without.has_certificates);
        assert_eq!(without.nonce, None);
        // The serial is positive and minimal: 0xff.. with the top bit cleared.
        assert_eq!(with.serial[0], 0x7f);
    }
}
