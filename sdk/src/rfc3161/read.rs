//! Reading a time-stamp reply or token back: the status and the `TSTInfo` fields a tickchain
//! verifier checks against the proof inside.
//!
//! Owns: walking `TimeStampResp` → `ContentInfo` → `SignedData` → `TSTInfo` → extensions.
//! Never: checking the CMS signature (`openssl ts -verify` and `rfc3161-client` do; the
//! tickchain proof inside is verified against genesis by `tickchain verify`).

use super::der::{self, DerError, Reader};
use super::{ID_CT_TSTINFO, ID_SIGNED_DATA, PROOF_EXTENSION_OID};
use crate::Digest;

/// The fields of a token that tickchain checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// `genTime`, POSIX seconds (whole seconds only).
    pub gen_time: u64,
    /// The SHA-256 imprint.
    pub digest: Digest,
    /// `serialNumber`, as INTEGER contents.
    pub serial: Vec<u8>,
    /// The compact tickchain proof carried in the extension, if any.
    pub proof: Option<Vec<u8>>,
    /// `accuracy` in microseconds, if stated.
    pub accuracy_micros: Option<u64>,
    /// `nonce`, as INTEGER contents, if any.
    pub nonce: Option<Vec<u8>>,
    /// Whether the token carries certificates (`certReq` was set).
    pub has_certificates: bool,
}

/// What a reply or token file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A granted reply, or a bare token.
    Token(TokenInfo),
    /// A refusal: its status and text.
    Refused {
        /// `PKIStatus`.
        status: u64,
        /// `statusString`, joined.
        text: String,
    },
}

/// Whether `bytes` look like DER (a SEQUENCE), to tell a token file from a proof file.
pub fn looks_like_der(bytes: &[u8]) -> bool {
    bytes.first() == Some(&der::SEQUENCE)
}

/// Reads a DER `TimeStampResp` or a bare `TimeStampToken`.
pub fn read(bytes: &[u8]) -> Result<Reply, DerError> {
    let outer = der::single(bytes, der::SEQUENCE, "TimeStampResp or ContentInfo")?;
    let mut r = Reader::new(outer.value);
    if r.peek_tag() == Some(der::OID) {
        return token(outer.whole).map(Reply::Token); // a bare token
    }
    let status = r.expect(der::SEQUENCE, "PKIStatusInfo")?;
    let mut s = Reader::new(status.value);
    let code = der::small_uint(s.expect(der::INTEGER, "PKIStatus")?.value)?;
    let mut text = Vec::new();
    if let Some(strings) = s.optional(der::SEQUENCE)? {
        let mut t = Reader::new(strings.value);
        while !t.is_empty() {
            let one = t.expect(der::UTF8_STRING, "UTF8String")?;
            text.push(String::from_utf8_lossy(one.value).into_owned());
        }
    }
    match r.optional(der::SEQUENCE)? {
        Some(tok) if code <= 1 => {
            r.finish()?;
            token(tok.whole).map(Reply::Token)
        }
        _ => Ok(Reply::Refused {
            status: code,
            text: text.join("; "),
        }),
    }
}

/// The `TSTInfo` of a `TimeStampToken`.
fn token(bytes: &[u8]) -> Result<TokenInfo, DerError> {
    let ci = der::single(bytes, der::SEQUENCE, "ContentInfo")?;
    let mut c = Reader::new(ci.value);
    if c.expect(der::OID, "contentType")?.value != ID_SIGNED_DATA {
        return Err(DerError::Value("ContentInfo is not SignedData"));
    }
    let sd = der::single(
        c.expect(0xa0, "[0] content")?.value,
        der::SEQUENCE,
        "SignedData",
    )?;
    let mut s = Reader::new(sd.value);
    s.expect(der::INTEGER, "version")?;
    s.expect(der::SET, "digestAlgorithms")?;
    let encap = s.expect(der::SEQUENCE, "encapContentInfo")?;
    let mut e = Reader::new(encap.value);
    if e.expect(der::OID, "eContentType")?.value != ID_CT_TSTINFO {
        return Err(DerError::Value("eContentType is not id-ct-TSTInfo"));
    }
    let content = der::single(
        e.expect(0xa0, "[0] eContent")?.value,
        der::OCTET_STRING,
        "eContent",
    )?;
    let mut info = tst_info(content.value)?;
    info.has_certificates = s.peek_tag() == Some(0xa0);
    Ok(info)
}

/// `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] 1..999 OPTIONAL, micros [1]
/// 1..999 OPTIONAL }`, in microseconds.
fn accuracy(value: &[u8]) -> Result<u64, DerError> {
    let mut r = Reader::new(value);
    let seconds = match r.optional(der::INTEGER)? {
        Some(s) => der::small_uint(s.value)?,
        None => 0,
    };
    let mut part = |tag: u8| -> Result<u64, DerError> {
        match r.optional(tag)? {
            Some(v) => match der::small_uint(v.value)? {
                n @ 1..=999 => Ok(n),
                _ => Err(DerError::Value("accuracy millis or micros outside 1..999")),
            },
            None => Ok(0),
        }
    };
    let millis = part(0x80)?;
    let micros = part(0x81)?;
    r.finish()?;
    seconds
        .checked_mul(1_000_000)
        .and_then(|s| s.checked_add(millis * 1000 + micros))
        .ok_or(DerError::Value("accuracy too large"))
}

fn tst_info(bytes: &[u8]) -> Result<TokenInfo, DerError> {
    let info = der::single(bytes, der::SEQUENCE, "TSTInfo")?;
    let mut t = Reader::new(info.value);
    t.expect(der::INTEGER, "version")?;
    t.expect(der::OID, "policy")?;
    let imprint = t.expect(der::SEQUENCE, "messageImprint")?;
    let mut m = Reader::new(imprint.value);
    let alg = m.expect(der::SEQUENCE, "hashAlgorithm")?;
    if Reader::new(alg.value).expect(der::OID, "algorithm")?.value != super::SHA256_OID {
        return Err(DerError::Value("the imprint is not SHA-256"));
    }
    let hashed = m.expect(der::OCTET_STRING, "hashedMessage")?;
    let digest: [u8; 32] = hashed
        .value
        .try_into()
        .map_err(|_| DerError::Value("imprint is not 32 bytes"))?;
    let serial = t.expect(der::INTEGER, "serialNumber")?;
    let gen_time = der::parse_generalized_time(t.expect(der::GENERALIZED_TIME, "genTime")?.value)?;
    let mut proof = None;
    let mut accuracy_micros = None;
    let mut nonce = None;
    while !t.is_empty() {
        let field = t.any()?;
        if field.tag == der::SEQUENCE {
            accuracy_micros = Some(accuracy(field.value)?);
        } else if field.tag == der::INTEGER {
            nonce = Some(field.value.to_vec());
        } else if field.tag == 0xa1 {
            let mut exts = Reader::new(field.value);
            while !exts.is_empty() {
                let ext = exts.expect(der::SEQUENCE, "Extension")?;
                let mut x = Reader::new(ext.value);
                let oid = x.expect(der::OID, "extnID")?;
                x.optional(der::BOOLEAN)?;
                let value = x.expect(der::OCTET_STRING, "extnValue")?;
                if oid.value == PROOF_EXTENSION_OID {
                    proof = Some(value.value.to_vec());
                }
            }
        }
    }
    Ok(TokenInfo {
        gen_time,
        digest: Digest(digest),
        serial: serial.value.to_vec(),
        proof,
        accuracy_micros,
        nonce,
        has_certificates: false,
    })
}
